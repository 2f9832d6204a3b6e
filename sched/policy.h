/* policy.h - the public API of AIOS policy plugins
 *
 * A policy orders pending jobs; the scheduling core decides placement,
 * backfill and start estimates.  A plugin is a shared object that exports
 * one symbol,
 *
 *     int aios_policy_init (struct aios_policy_ops *ops);
 *
 * which fills ops (abi = AIOS_POLICY_ABI) and returns 0.  The core sorts
 * pending jobs by priority(), highest first, ties broken by submit time and
 * then job id.  A plugin sees jobs only through the read-only structs below
 * and includes no other AIOS header.  See aios-policy(7).
 */
#ifndef AIOS_POLICY_H
#define AIOS_POLICY_H

#include <stdint.h>

#define AIOS_POLICY_ABI 2
#define AIOS_POLICY_INIT_SYMBOL "aios_policy_init"

struct aios_policy_job {
    uint64_t id;
    double submit_time;         /* seconds since the epoch */
    long time_limit;            /* seconds, -1 = unlimited */
    int nodes;                  /* requested nodes (0 = as needed) */
    int ntasks;
    int cpus_per_task;
    uint64_t mem_mb;            /* per node */
    int gpus_per_node;
    int exclusive;              /* whole nodes */
    uint32_t uid;
    int nice;                   /* user nice: subtracted from priority */
    const char *partition;
    double partition_factor;    /* partition priority / highest, 0..1 */
    double qos_factor;          /* QOS priority / highest, 0..1 */
    double fs_usage;            /* the user's share of decayed usage, 0..1 */
    double fs_shares;           /* the user's share of the machine, 0..1 */
};

/* Multifactor weights from aios.yaml (scheduler.priority). */
struct aios_policy_weights {
    double age;
    double size;
    double partition;
    double qos;
    double fairshare;
    double max_age;             /* seconds at which the age factor is 1 */
    int favor_small;            /* size factor favours small jobs */
};

struct aios_policy_view {
    double now;                 /* the pass's time */
    int total_nodes;
    long total_cpus;
    const struct aios_policy_weights *weights;
};

struct aios_policy_ops {
    int abi;                    /* AIOS_POLICY_ABI */
    const char *name;
    /* Higher runs first.  Must not fail, must not keep pointers. */
    double (*priority) (const struct aios_policy_job *job,
                        const struct aios_policy_view *view);
};

typedef int (*aios_policy_init_f) (struct aios_policy_ops *ops);

/* A plugin ends with AIOS_POLICY_EXPORT (its_init_function).  Built with
 * -DAIOS_POLICY_STATIC (the simulator, unit tests) it exports nothing, so
 * several plugins can link into one program. */
#ifdef AIOS_POLICY_STATIC
#define AIOS_POLICY_EXPORT(fn)
#else
#define AIOS_POLICY_EXPORT(fn) \
    int aios_policy_init (struct aios_policy_ops *ops); \
    int aios_policy_init (struct aios_policy_ops *ops) { return fn (ops); }
#endif

#endif
