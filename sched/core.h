/* core.h - the scheduling core: one pass over a cluster's state
 *
 * Pure: no sockets, no files, no clock (the pass's time is an input), no
 * globals.  The controller and aios-sim both build a struct sched_input and
 * call sched_pass(); the same code decides what starts in production and in
 * simulation.
 *
 * A pass
 *   - orders pending jobs by the policy's priority (ties: submit time, id);
 *   - starts, in that order, every job that fits now (packed cores, or whole
 *     nodes for exclusive jobs; GPUs by index);
 *   - with backfill NONE, a job that does not fit blocks the rest of its
 *     partition; with EASY, the first such job in each partition gets a
 *     reservation at the earliest time it fits (from running jobs' expected
 *     ends) and later jobs start only if they end before that time or leave
 *     the reserved resources alone;
 *   - gives every pending job its reasons, its position in its partition and
 *     (for the first estimate_depth of each partition) an estimated start:
 *     when it would start if running jobs ran to their limits and the jobs
 *     ahead of it started in order.
 */
#ifndef AIOS_SCHED_CORE_H
#define AIOS_SCHED_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

#define SCHED_GPUS_MAX 64

enum sched_backfill {
    SCHED_BACKFILL_NONE = 0,
    SCHED_BACKFILL_EASY,
};

/* Why a job is pending (bits; several may hold at once). */
enum {
    SCHED_R_HELD        = 1u << 0,  /* JobHeldUser */
    SCHED_R_PARTITION   = 1u << 1,  /* InvalidPartition: gone after a reload */
    SCHED_R_PART_TIME   = 1u << 2,  /* PartitionTimeLimit */
    SCHED_R_PART_NODES  = 1u << 3,  /* PartitionNodeLimit: never fits */
    SCHED_R_CONSTRAINT  = 1u << 4,  /* BadConstraints: no node has them */
    SCHED_R_NODES_DOWN  = 1u << 5,  /* ReqNodeNotAvail: fits only with down
                                       or drained nodes */
    SCHED_R_RESOURCES   = 1u << 6,  /* Resources: not enough free now */
    SCHED_R_PRIORITY    = 1u << 7,  /* Priority: jobs ahead are waiting */
    SCHED_R_RESERVATION = 1u << 8,  /* fits now but would delay the job
                                       holding the backfill reservation */
    SCHED_R_DEPENDENCY  = 1u << 9,  /* Dependency (set by the caller) */
    SCHED_R_DEP_NEVER   = 1u << 10, /* DependencyNeverSatisfied (caller) */
    SCHED_R_BEGIN       = 1u << 11, /* BeginTime: not yet (caller) */
    SCHED_R_ARRAY_LIMIT = 1u << 12, /* JobArrayTaskLimit: the array's
                                       throttle (caller) */
    SCHED_R_LAST        = SCHED_R_ARRAY_LIMIT,
    /* reasons that keep a job waiting whatever the resources: it gets no
     * start estimate, no prefetch and no time or size hint */
    SCHED_R_BLOCKING    = SCHED_R_HELD | SCHED_R_PARTITION | SCHED_R_PART_TIME
                          | SCHED_R_PART_NODES | SCHED_R_CONSTRAINT
                          | SCHED_R_NODES_DOWN | SCHED_R_DEPENDENCY
                          | SCHED_R_DEP_NEVER | SCHED_R_BEGIN
                          | SCHED_R_ARRAY_LIMIT,
};

/* Slurm-style name of one reason bit ("Resources"); NULL if unknown. */
const char *sched_reason_name (unsigned bit);
/* The bit to show first: held, partition limits, nodes down, then
 * Resources for the job at the head of its partition, else Priority. */
unsigned sched_main_reason (unsigned reasons);

struct sched_node {
    const char *name;
    int cpus;
    uint64_t mem_mb;
    int gpus;                   /* 0..SCHED_GPUS_MAX */
    const char *features;       /* comma-separated, or NULL */
    bool usable;                /* up and not drained */
};

struct sched_part {
    const char *name;
    const int *nodes;           /* indexes into nodes[] */
    int nnodes;
    long max_time;              /* seconds, -1 = unlimited */
    int priority;
};

/* What a job holds on one node. */
struct sched_alloc {
    int node;
    int tasks;
    int cpus;
    uint64_t mem_mb;
    uint64_t gpus;              /* bit i = GPU index i */
};

struct sched_running {
    uint64_t id;
    double end;                 /* expected end: start + limit; or INFINITY */
    const struct sched_alloc *alloc;
    int nalloc;
    bool exclusive;
};

struct sched_job {
    uint64_t id;
    int part;                   /* index into parts[], -1 = none */
    double submit_time;
    long time_limit;            /* seconds, -1 = unlimited */
    int nodes;                  /* 0 = as few as needed */
    int ntasks;
    int cpus_per_task;
    uint64_t mem_mb;            /* per node */
    int gpus_per_node;
    bool exclusive;
    const char *constraint;     /* comma-separated features, all required */
    uint32_t uid;
    int nice;
    int qos_priority;
    double fs_usage;            /* see policy.h */
    double fs_shares;
    bool held;
    unsigned extra_reasons;     /* caller's reasons (SCHED_R_DEPENDENCY):
                                   the job is not started */
    const unsigned char *prefer;    /* per node index: nonzero where the
                                       job's data is cached (may be NULL) */
    bool fixed_priority;        /* set by an administrator: priority is */
    double priority;            /* used instead of the policy's */
};

struct sched_input {
    double now;
    const struct sched_node *nodes;
    int nnodes;
    const struct sched_part *parts;
    int nparts;
    const struct sched_running *running;
    int nrunning;
    const struct sched_job *jobs;   /* pending; any order (nearly sorted is
                                       fastest: keep the last pass's order) */
    int njobs;
    const struct aios_policy_ops *policy;
    const struct aios_policy_weights *weights;  /* may be NULL */
    enum sched_backfill backfill;
    int estimate_depth;         /* per partition; 0 = no estimates */
};

struct sched_result {
    bool start;                 /* start now on alloc[0..nalloc) */
    bool backfilled;            /* started past a reservation */
    bool reserved;              /* holds its partition's reservation */
    const struct sched_alloc *alloc;
    int nalloc;
    unsigned reasons;           /* when not started */
    int position;               /* 1-based, among its partition's pending */
    double priority;
    double est_start;           /* now if started; -1 = unknown */
    const struct sched_alloc *est_alloc;  /* where, at est_start */
    int est_nalloc;
    uint64_t blocked_by;        /* reservation holder (SCHED_R_RESERVATION)
                                   or the first waiting job ahead */
};

struct sched_stats {
    int pending;                /* jobs in the pass */
    int tested;                 /* placement attempts */
    int started;
    int backfilled;
    int reservations;
    int estimated;
};

struct sched;

struct sched *sched_create (void);
void sched_destroy (struct sched *s);

/* Run one pass.  Returns 0, or -1 with errno EINVAL (bad input) or ENOMEM.
 * Results stay valid until the next pass or sched_destroy(). */
int sched_pass (struct sched *s, const struct sched_input *in);
/* Results, indexed like in->jobs. */
const struct sched_result *sched_results (const struct sched *s);
/* in->jobs indexes in priority order (njobs entries). */
const int *sched_order (const struct sched *s);
const struct sched_stats *sched_stats (const struct sched *s);

/* Has node (features) every feature in constraint?  NULL/"" = none. */
bool sched_features_match (const char *features, const char *constraint);

#endif
