/* conf.h - aios.yaml, parsed strictly
 *
 * One table of keys (type, default, bounds).  Unknown keys, wrong types and
 * out-of-range values are errors reported as "FILE:LINE:COL: message" with
 * 1-based line and column of the offending node.  A conf is immutable once
 * loaded: a reload loads a new one and swaps it in.
 *
 * Schema (every key optional unless marked):
 *
 *   cluster: NAME                         default "aios"
 *   controller:
 *     address: ADDR                       default "127.0.0.1"  (nodes and
 *                                         remote clients connect here)
 *     port: 1..65535                      default 6817
 *     socket: PATH                        default AIOS_RUNDIR "/aiosctld.sock"
 *     state_file: PATH                    default AIOS_STATEDIR "/state.db"
 *     log_file: PATH                      default AIOS_LOGDIR "/aiosctld.log"
 *     pid_file: PATH                      default AIOS_RUNDIR "/aiosctld.pid"
 *     user: USER                          default "root": the user the
 *                                         daemons run as (checked in munge
 *                                         credentials between daemons)
 *     heartbeat_interval: 1..3600         seconds, default 5
 *     node_timeout: 2..86400              seconds, default 30; must be
 *                                         greater than heartbeat_interval
 *     kill_wait: 0..3600                  seconds, default 30 (SIGTERM to
 *                                         SIGKILL at a time limit / cancel)
 *     min_job_age: 0..31536000            seconds, default 300 (finished
 *                                         jobs stay in aios-queue this long)
 *     operators: [USER, ...]              default []  (may act on any job)
 *     event_backlog_kb: 16..4194304       default 16384: an event subscriber
 *                                         with this much unread is dropped
 *     metrics_address: ADDR               default "127.0.0.1"
 *     metrics_port: 0..65535              default 0 = no metrics endpoint
 *   auth:
 *     munge_socket: PATH                  default "/run/munge/munge.socket.2"
 *   accounting:
 *     show_all_users: BOOL                default false: aios-acct shows a
 *                                         user only their own jobs (root,
 *                                         controller.user and operators
 *                                         always see everyone's)
 *   scheduler:
 *     policy: NAME                        default "fifo" (fifo, sjf,
 *                                         priority or a plugin's name)
 *     backfill: none|easy                 default "easy"
 *     plugin_dir: PATH                    default AIOS_PLUGINDIR
 *     interval_ms: 0..60000               default 10 (min gap between passes)
 *     estimate_depth: 0..1000000          default 1000 (start estimates for
 *                                         this many jobs per partition)
 *     priority:                           the priority policy's weights
 *       weight_age, weight_fairshare, weight_size, weight_partition,
 *       weight_qos: 0..1e8                defaults 1000, 10000, 1000, 1000,
 *                                         1000
 *       max_age: TIME                     default 7-0 (age factor reaches 1)
 *       half_life: TIME                   default 7-0 (usage decay)
 *       favor_small: BOOL                 default true
 *     qos:                                default: only "normal" (priority 0)
 *       - name: NAME                      required
 *         priority: 0..1000000            default 0
 *   node_daemon:
 *     port: 1..65535                      default 6818
 *     spool_dir: PATH                     default AIOS_SPOOLDIR "/%n"
 *     log_file: PATH                      default AIOS_LOGDIR "/aiosd.%n.log"
 *     pid_file: PATH                      default AIOS_RUNDIR "/aiosd.%n.pid"
 *                                         ("%n" is replaced by the node name)
 *   staging:                              datasets and models (aios-data,
 *                                         --stage-in, --stage-out)
 *     shared_root: PATH                   default "" = no catalog; the
 *                                         catalog's directory on a file
 *                                         system every node and user sees
 *     scratch: PATH                       default AIOS_SPOOLDIR "/%n/scratch"
 *                                         (node-local; staged copies and
 *                                         the node's cache; "%n" as above)
 *     cache_bytes: BYTES                  default 10G: the node cache's
 *                                         bound (bytes, or K, M, G, T)
 *   nodes:                                (required, at least one entry)
 *     - name: HOSTLIST                    required, e.g. node[1-4]
 *       address: HOSTLIST                 default = the names; must expand
 *                                         to as many entries as name
 *       cpus: 0..100000                   default 0 = detect
 *       memory: SIZE                      default 0 = detect ("4G", "512M")
 *       gpus: -1..64                      default -1 = detect (NVML, then
 *                                         nvidia-smi -L); 0 = none
 *       features: [NAME, ...]             default [] (for --constraint)
 *   partitions:                           default: one "batch" partition
 *     - name: NAME                        required, with every node, default
 *       nodes: HOSTLIST                   required; names declared in nodes
 *       default: BOOL                     at most one; else the first one
 *       max_time: TIME                    default UNLIMITED (sbatch formats)
 *       priority: 0..65535                default 1 (priority policy factor)
 *
 * Cross-checks: duplicate node or partition names, partition nodes that are
 * not declared (or listed twice in one partition), two defaults,
 * node_timeout <= heartbeat_interval.
 *
 * Positions: a bad value points at the value, a value of the wrong kind and
 * an unknown or duplicate key at the key, a missing key at its mapping.  An
 * empty value ("key:", "~") is an error for a scalar key and an empty
 * mapping or sequence otherwise ("auth:" with every line commented out).
 */
#ifndef AIOS_CONF_H
#define AIOS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "errprintf.h"

struct conf_node {
    char *name;
    char *address;
    int cpus;            /* 0 = detect at run time */
    uint64_t memory_mb;  /* 0 = detect at run time */
    int gpus;            /* -1 = detect at run time */
    char *features;      /* comma-separated, NULL = none */
};

struct conf_qos {
    char *name;
    int priority;
};

struct conf_partition {
    char *name;
    char *nodes_expr;    /* as written, e.g. "node[1-4]" */
    char **nodes;        /* expanded, NULL-terminated */
    size_t nnodes;
    bool is_default;
    long max_time;       /* seconds, AIOS_TIME_UNLIMITED (-1) if none */
    int priority;
};

struct aios_conf {
    char *path;          /* the file this was loaded from */
    char *cluster;

    char *ctl_address;
    int ctl_port;
    char *ctl_socket;
    char *state_file;
    char *ctl_log_file;
    char *ctl_pid_file;
    char *daemon_user;
    int heartbeat_interval;
    int node_timeout;
    int kill_wait;
    int min_job_age;
    int event_backlog_kb;   /* drop a subscriber this far behind */
    char *metrics_address;
    int metrics_port;       /* 0 = no metrics endpoint */
    char **operators;    /* NULL-terminated */
    size_t noperators;

    char *munge_socket;

    bool acct_show_all_users; /* aios-acct: everyone sees every job */

    char *policy;
    char *backfill;      /* "none" or "easy" */
    char *plugin_dir;
    int sched_interval_ms;
    int estimate_depth;
    int weight_age;
    int weight_fairshare;
    int weight_size;
    int weight_partition;
    int weight_qos;
    long max_age;
    long half_life;
    bool favor_small;
    struct conf_qos *qos;
    size_t nqos;

    int node_port;
    char *spool_dir;     /* may hold %n */
    char *node_log_file; /* may hold %n */
    char *node_pid_file; /* may hold %n */

    char *shared_root;   /* "" = no catalog */
    char *scratch_dir;   /* may hold %n */
    uint64_t cache_bytes;

    struct conf_node *nodes;
    size_t nnodes;
    struct conf_partition *parts;
    size_t nparts;       /* >= 1 after a successful load */
};

/* Load and validate path.  Returns a new conf (free with conf_destroy()) or
 * NULL with err = "PATH:LINE:COL: message" (or "PATH: message" when the file
 * cannot be read). */
struct aios_conf *conf_load (const char *path, aios_error_t *err);

void conf_destroy (struct aios_conf *conf);

/* The config path tools and daemons use when given none: $AIOS_CONF, else
 * AIOS_SYSCONFDIR "/aios.yaml".  Returns a static or environment string. */
const char *conf_default_path (void);

/* Lookups return borrowed pointers valid until conf_destroy(). */
const struct conf_node *conf_node_lookup (const struct aios_conf *conf,
                                          const char *name);
/* name NULL = the default partition. */
const struct conf_partition *conf_partition_lookup (const struct aios_conf *conf,
                                                    const char *name);

/* Replace every "%n" in pattern by node (and "%%" by "%").  Caller frees;
 * NULL on ENOMEM. */
char *conf_expand_node (const char *pattern, const char *node);

/* A QOS's priority (NULL or "" = "normal", which always exists); -1 if
 * there is no such QOS. */
int conf_qos_priority (const struct aios_conf *conf, const char *name);

/* Is user (by name) listed in operators? */
bool conf_is_operator (const struct aios_conf *conf, const char *user);

#endif
