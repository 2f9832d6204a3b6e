/* jobs.h - the controller's job table
 *
 * A job keeps the user's request as submitted (JSON, immutable), the fields
 * the scheduler reads parsed out of it, and its runtime state.
 */
#ifndef AIOS_CTLD_JOBS_H
#define AIOS_CTLD_JOBS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "errprintf.h"
#include "job.h"

struct job_alloc {
    char *node;
    int cpus;
    int tasks;
    uint64_t mem_mb;
    uint64_t gpus;          /* bit i = GPU index i */
};

struct job {
    uint64_t id;
    json_t *req;            /* the request as submitted (owned) */

    /* parsed from req (strings borrowed from req) */
    const char *name;
    const char *user;
    const char *partition;
    uint32_t uid;
    uint32_t gid;
    int nodes;              /* 0 = as needed */
    int ntasks;
    int cpus_per_task;
    uint64_t mem_mb;
    long time_limit;        /* seconds, -1 = unlimited */
    double submit_time;
    int gpus_per_node;
    bool exclusive;
    const char *constraint; /* NULL = none */
    const char *qos;        /* NULL = "normal" */
    int nice;
    const char *dependency; /* NULL = none */
    double begin_time;      /* not before (--begin), 0 = none */
    bool kill_on_invalid_dep;
    uint64_t array_job_id;  /* array tasks: the first task's id; 0 = none */
    int array_task_id;
    int array_count;        /* tasks in the array (ids array_job_id ...) */
    int array_throttle;     /* at most this many run at once; 0 = no limit */
    bool requeue;           /* --requeue: back to PENDING on node failure */
    int warn_signal;        /* --signal: send this ... */
    int warn_time;          /* ... this many seconds before the time limit */
    json_t *stage_in;       /* resolved datasets [{name, version, file,
                               sha256, size, shard}] (borrowed) or NULL */
    json_t *stage_out;      /* [{path, name}] (borrowed) or NULL */
    bool warn_batch_only;   /* ... to the batch shell only (B:) */
    bool has_admin_priority;    /* aios-control update Priority=: this */
    double admin_priority;      /* replaces the policy's priority */

    /* runtime */
    enum job_state state;
    char *reason;           /* pending reason, or why it ended */
    bool held;
    bool cancel_requested;
    double start_time;
    double end_time;
    char *nodelist;
    struct job_alloc *alloc;
    int nalloc;
    int exit_code;
    int term_signal;
    double cpu_time;
    uint64_t max_rss_kb;
    int nsteps;             /* steps begun (aios-run) */
    int restarts;           /* times requeued */
    bool warned;            /* the --signal warning was sent */
    bool requeue_pending;   /* ending: back to PENDING, not a final state */
    uint64_t stage_done;    /* STAGING: bytes copied so far (all nodes) */
    uint64_t stage_total;   /* ... of this many */
    json_t *models;         /* stage-out results [{name, version}] or NULL */
    int stage_hits;         /* datasets its nodes had in their caches */
    uint64_t stage_copied;  /* bytes its nodes copied for it */
    unsigned char *prefer;  /* per node index: holds the job's data */

    /* from the last scheduling pass (not stored) */
    unsigned reasons;       /* SCHED_R_* bits */
    int position;           /* in its partition, 1-based; 0 = none */
    double priority;
    double est_start;       /* -1 = unknown */
    char *est_nodes;        /* where, at est_start */
    uint64_t blocked_by;
};

/* Build a job from a stored record {"id","req","rt"} or from a new request
 * (rt NULL).  err says what is wrong with a malformed record. */
struct job *job_create (uint64_t id, json_t *req, json_t *rt, aios_error_t *err);
void job_destroy (struct job *job);
/* Replace the request by req (a new reference is taken) and re-read the
 * fields parsed from it (aios-control update).  On error the job is
 * unchanged and err says why. */
int job_set_req (struct job *job, json_t *req, aios_error_t *err);

/* Can a job in state from move to state to?  (the state machine table) */
bool job_transition_ok (enum job_state from, enum job_state to);

int job_set_reason (struct job *job, const char *reason);
/* [0, 2, 3] for GPU mask 0b1101. */
json_t *job_gpu_list (uint64_t gpus);
int job_set_alloc (struct job *job, struct job_alloc *alloc, int n);
void job_clear_alloc (struct job *job);

/* {"id","req","rt"}: what the store keeps. */
json_t *job_record (const struct job *job);
/* What aios-queue shows: flat, without the script and environment.  With
 * fields (indexes from job_field_index()), only those; NULL: every field. */
json_t *job_to_json (const struct job *job, const int *fields, int nfields);
/* Index of a field aios-queue may ask for; -1 if there is none. */
int job_field_index (const char *name);

struct jobtab;

struct jobtab *jobtab_create (void);
void jobtab_destroy (struct jobtab *jt);
/* Takes ownership.  Ids must be added in increasing order. */
int jobtab_add (struct jobtab *jt, struct job *job);
struct job *jobtab_lookup (struct jobtab *jt, uint64_t id);
/* Task task of array array_id (ids array_id ... array_id + count - 1). */
struct job *jobtab_array_task (struct jobtab *jt, uint64_t array_id, int task);
/* Is job one that a request's "ids" (jobs, or every task of an array by
 * its id) or "tasks" ([ARRAYID, TASK] pairs) name?  Both NULL: any. */
bool job_named_by (const struct job *job, json_t *ids, json_t *tasks);
/* Is id an array's id with its first task still in the table?  *count gets
 * the number of tasks. */
bool jobtab_is_array (struct jobtab *jt, uint64_t id, int *count);
size_t jobtab_count (const struct jobtab *jt);
struct job *jobtab_at (struct jobtab *jt, size_t i);
/* Drop finished jobs that ended before cutoff.  Returns how many. */
size_t jobtab_purge (struct jobtab *jt, double cutoff,
                     void (*cb) (uint64_t id, void *arg), void *arg);

#endif
