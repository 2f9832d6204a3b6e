/* policy.h - the public API of AIOS policy plugins
 *
 * A policy orders pending jobs; the scheduling core decides placement.  A
 * plugin is a shared object that exports one symbol,
 *
 *     int aios_policy_init (struct aios_policy_ops *ops);
 *
 * which fills ops (abi = AIOS_POLICY_ABI) and returns 0.  The core sorts
 * pending jobs by priority(), highest first, ties broken by job id.  A
 * plugin sees jobs only through the read-only structs below and includes no
 * other AIOS header.
 */
#ifndef AIOS_POLICY_H
#define AIOS_POLICY_H

#include <stdint.h>

#define AIOS_POLICY_ABI 1
#define AIOS_POLICY_INIT_SYMBOL "aios_policy_init"

struct aios_policy_job {
    uint64_t id;
    double submit_time;     /* seconds since the epoch */
    long time_limit;        /* seconds, -1 = unlimited */
    int nodes;              /* requested nodes (0 = as needed) */
    int ntasks;
    int cpus_per_task;
    uint64_t mem_mb;        /* per node */
    uint32_t uid;
    const char *partition;
};

struct aios_policy_view {
    double now;             /* the pass's time */
    int total_nodes;
    long total_cpus;
};

struct aios_policy_ops {
    int abi;                /* AIOS_POLICY_ABI */
    const char *name;
    /* Higher runs first.  Must not fail. */
    double (*priority) (const struct aios_policy_job *job,
                        const struct aios_policy_view *view);
};

typedef int (*aios_policy_init_f) (struct aios_policy_ops *ops);

#endif
