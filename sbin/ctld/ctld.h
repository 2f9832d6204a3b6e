/* ctld.h - the controller's context: one struct composed of sub-objects */
#ifndef AIOS_CTLD_H
#define AIOS_CTLD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "auth.h"
#include "conf.h"
#include "plugin.h"

struct conn;
struct job;
struct node;

struct ctld {
    struct event_base *base;
    struct aios_conf *conf;
    char *conf_path;
    uid_t daemon_uid;           /* controller.user: who may act as a node */
    struct auth *auth;
    struct store *store;
    struct jobtab *jobs;
    struct nodetab *nodes;
    struct policy *policy;
    struct ctld_sched *sched;   /* the core, its buffers and counters */
    struct events *events;      /* changes to push to subscribers */
    struct evhttp *http;        /* metrics endpoint, or NULL */
    struct acct *acct;          /* aios-acct queries (own thread), or NULL */
    struct staging *staging;    /* stage-in/out of datasets (staging.c) */
    uint64_t finished;          /* jobs that reached a final state */
    double rpc_seconds;         /* time spent handling requests */
    double rpc_seconds_max;
    int subscribers;
    struct evconnlistener *unix_lsn;
    struct evconnlistener *tcp_lsn;
    struct conn *conns;         /* all connections (list) */
    struct event *commit_ev;    /* group commit at the end of a loop turn */
    struct event *sched_ev;     /* coalesced scheduling pass */
    struct event *tick_ev;      /* heartbeats, purge of old jobs */
    struct event *sig_ev[3];    /* TERM, INT, HUP */
    bool sched_pending;
    bool failed;                /* a fatal error stopped the loop */
    double sched_last;
    double start_time;
    uint64_t next_job_id;
    uint64_t rpcs;
    uint64_t passes;
};

/* Wall-clock time in seconds. */
double ctld_now (void);
/* The store was written: commit at the end of this loop turn. */
void ctld_dirty (struct ctld *ctld);
/* Ask for a scheduling pass (coalesced, at most one per interval). */
void ctld_sched_request (struct ctld *ctld);
/* Fatal state error: log and stop the loop. */
void ctld_fatal (struct ctld *ctld, const char *msg);

/* deps.c: --dependency.  deps_check: is spec well formed, naming jobs that
 * exist?  deps_reasons: SCHED_R_DEPENDENCY while it waits,
 * SCHED_R_DEP_NEVER when it can never hold, 0 when it holds. */
int deps_check (struct ctld *ctld, const char *spec, aios_error_t *err);
unsigned deps_reasons (struct ctld *ctld, const struct job *job);

/* staging.c: --stage-in / --stage-out (see there). */
int staging_init (struct ctld *ctld, aios_error_t *err);
void staging_fini (struct ctld *ctld);
/* After a restart (the loop's events exist): STAGING jobs start over. */
void staging_restart (struct ctld *ctld);
/* Resolve a new request's stage_in against the catalog and check its
 * stage_out, in place; err names the dataset or model that is wrong. */
int staging_check (struct ctld *ctld, json_t *rec, aios_error_t *err);
/* The job is STAGING on its allocation: ask its nodes to copy. */
int staging_start (struct ctld *ctld, struct job *job);
/* It ended or was requeued: forget its staging state (kept while it
 * runs: its launch reads the paths). */
void staging_job_ended (struct ctld *ctld, struct job *job);
/* Node i's copies ({name: path}) and scratch directory, for its launch. */
json_t *staging_node_paths (struct ctld *ctld, struct job *job, int i,
                            const char **scratch);
/* Per node index: nonzero where the job's data is cached; NULL: nowhere. */
const unsigned char *staging_prefer (struct ctld *ctld, struct job *job);
void staging_node_cache (struct ctld *ctld, struct node *nd, json_t *keys);
/* The node registered: re-send what it has not staged yet. */
void staging_node_registered (struct ctld *ctld, struct node *n);
/* A node registered holding staged data (or a copy) for jobs ids: release
 * those of jobs that no longer stage or run there. */
void staging_node_holds (struct ctld *ctld, struct node *n, json_t *ids);
void staging_prefetch (struct ctld *ctld);
/* Does a pending job wait to stage datasets? */
bool staging_pending (struct ctld *ctld);
void staging_op_progress (struct conn *c, json_t *req, json_int_t seq);
void staging_op_staged (struct conn *c, json_t *req, json_int_t seq);
void staging_op_cached (struct conn *c, json_t *req, json_int_t seq);

/* acct.c: aios-acct.  Queries of the history run on their own thread with
 * their own read-only connection to the state file, so they never hold up
 * the loop; the reply is sent from the loop when it is ready. */
int acct_init (struct ctld *ctld, aios_error_t *err);
void acct_fini (struct ctld *ctld);
void acct_request (struct conn *c, json_t *req, json_int_t seq);

/* admin.c: aios-control update, show partition|config, reconfigure,
 * shutdown. */
void admin_update (struct conn *c, json_t *req, json_int_t seq);
void admin_partitions (struct conn *c, json_t *req, json_int_t seq);
void admin_config (struct conn *c, json_t *req, json_int_t seq);
void admin_reconfigure (struct conn *c, json_t *req, json_int_t seq);
void admin_shutdown (struct conn *c, json_t *req, json_int_t seq);
/* main.c: reload the configuration (SIGHUP, reconfigure); 0 or -1 with err
 * saying why the running one was kept.  Stop the loop after this turn. */
int ctld_reload (struct ctld *ctld, aios_error_t *err);
void ctld_shutdown (struct ctld *ctld);

/* metrics.c: GET /metrics on controller.metrics_port (0: off). */
int metrics_start (struct ctld *ctld, aios_error_t *err);
void metrics_stop (struct ctld *ctld);

/* events.c: the push event stream.  Mark what changed; after the turn's
 * commit, events_flush() sends it to every subscriber once. */
void events_job (struct ctld *ctld, struct job *job);
void events_job_removed (struct ctld *ctld, uint64_t id);
void events_node (struct ctld *ctld, struct node *n);
void events_flush (struct ctld *ctld);
void events_tick (struct ctld *ctld);
void events_subscribe (struct conn *c, json_t *req, json_int_t seq);
void events_unsubscribe (struct conn *c);
void events_destroy (struct ctld *ctld);

/* sched.c: one scheduling pass through the core (sched/core.h). */
void ctld_sched_pass (struct ctld *ctld);
int sched_init (struct ctld *ctld, aios_error_t *err);
void sched_fini (struct ctld *ctld);
/* Recompute start estimates now if passes since the last ones skipped
 * them (they are refreshed at most once a second otherwise). */
void sched_refresh_estimates (struct ctld *ctld);
/* Every second: stale estimates are refreshed when a pending job stages
 * datasets (and its data prefetched to the nodes reserved for it). */
void sched_tick (struct ctld *ctld, double now);
/* Counters, like Slurm's sdiag. */
json_t *sched_stats_json (struct ctld *ctld);

/* What would a pass do with job (pending in the table, possibly with
 * fields changed by the caller, or a new one not in it)?  The job is seen
 * without its hold.  t->nodes is malloc'd.  -1 on ENOMEM. */
struct sched_test {
    bool start;
    unsigned reasons;
    int position;
    double est_start;   /* -1 unknown */
    char *nodes;        /* where, at est_start */
    int cpus;
};
int sched_test (struct ctld *ctld, struct job *job, bool in_table,
                struct sched_test *t);

/* ops.c: client requests; nodeops.c: node daemon requests. */
typedef void (*op_f) (struct conn *c, json_t *req, json_int_t seq);
op_f ops_client_lookup (const char *op);
op_f ops_node_lookup (const char *op);
/* A job reached a final state: answer its waiters. */
void ops_job_finished (struct ctld *ctld, struct job *job);

/* nodeops.c: send to the node daemon that runs a job's batch script. */
int nodeops_launch (struct ctld *ctld, struct job *job);
/* The job ended: every node of its allocation kills what still runs in it. */
void nodeops_release (struct ctld *ctld, struct job *job);
int nodeops_terminate (struct ctld *ctld, struct job *job);
int nodeops_signal (struct ctld *ctld, struct job *job, int sig);
/* Signal the batch shell alone (--signal=B:). */
int nodeops_signal_shell (struct ctld *ctld, struct job *job, int sig);
/* Signal the job's steps and aios-exec commands on every node of it. */
int nodeops_signal_steps (struct ctld *ctld, struct job *job, int sig);
/* Node timeouts: mark down and fail their jobs. */
void nodeops_check_timeouts (struct ctld *ctld, double now);
void nodeops_conn_closed (struct ctld *ctld, struct node *node);



/* sched.c: job state changes, all through the state-machine table.  Writes
 * the job and an event row to the store (committed at the end of the turn),
 * releases the allocation when the job ends, answers waiters, and asks for a
 * scheduling pass. */
int ctld_job_save (struct ctld *ctld, struct job *job);
int ctld_job_transition (struct ctld *ctld, struct job *job,
                         int state, const char *reason);
/* Back to PENDING (aios-control requeue, --requeue on a node failure):
 * the allocation is released, restarts counts it.  From RUNNING, STAGING,
 * COMPLETING or a final state. */
int ctld_job_requeue (struct ctld *ctld, struct job *job, const char *reason);
/* Re-apply running jobs' allocations to nodes (after a restart). */
void sched_restore_allocs (struct ctld *ctld);
/* Could this request ever run in its partition?  err says why not. */
int sched_check_possible (struct ctld *ctld, struct job *job, aios_error_t *err);
#endif
