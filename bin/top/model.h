/* model.h - what aios-top knows of the cluster
 *
 * Built from the reply to "subscribe" (a snapshot) and kept current by the
 * events the controller pushes after it.  Every record owns its JSON object
 * (for the detail view); its parsed fields borrow strings from that object
 * and are valid until the record is replaced or removed.
 */
#ifndef AIOS_TOP_MODEL_H
#define AIOS_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "errprintf.h"

/* Minutes of "jobs finished" history kept for the sparkline. */
enum { MODEL_HIST_MINUTES = 240 };

struct top_job {
    long long id;
    int state;                  /* enum job_state; -1 when unknown */
    const char *state_name;
    const char *name;
    const char *user;
    const char *partition;
    const char *reason;
    const char *nodelist;
    double submit;
    double start;
    double end;
    long long nodes;            /* allocated, else asked for */
    json_t *obj;
};

struct top_node {
    const char *name;
    const char *state;
    const char *reason;
    long long cpus, cpus_alloc;
    long long gpus, gpus_alloc;
    long long mem_mb, mem_alloc_mb;
    json_t *obj;
};

struct model {
    char *cluster;
    char *policy;
    char *backfill;
    double uptime;              /* at the snapshot */
    double snap_now;            /* controller time of the snapshot */
    double now;                 /* latest controller time seen */
    struct top_node *nodes;     /* in the snapshot's order */
    size_t nnodes;
    struct top_job *jobs;       /* sorted by id */
    size_t njobs;
    size_t jobs_cap;
    json_t *stats;              /* latest STATS object, or NULL */
    long long hist_min[MODEL_HIST_MINUTES]; /* minute (epoch / 60) of a slot */
    long long hist_cnt[MODEL_HIST_MINUTES]; /* jobs that finished in it */
    unsigned long version;      /* bumped by every change of nodes or jobs */
};

struct model *model_create (void);
void model_destroy (struct model *m);

/* Replace everything with a snapshot (the reply to "subscribe").  Jobs that
 * ended and were not known to have ended are added to the history.  -1 with
 * err when the snapshot is malformed (the model is then unchanged). */
int model_snapshot (struct model *m, json_t *snap, aios_error_t *err);

/* Apply one pushed event ("job", "job_removed", "node", "stats"); other
 * events are the caller's.  Returns 1 if it was applied, 0 if it is not an
 * event of the model, -1 with err if it is malformed. */
int model_event (struct model *m, json_t *ev, aios_error_t *err);

/* Borrowed; NULL when absent. */
const struct top_job *model_job (const struct model *m, long long id);

/* Controller uptime now, in seconds. */
double model_uptime (const struct model *m);

/* Jobs finished during minute (epoch / 60). */
long long model_finished (const struct model *m, long long minute);
/* Jobs in the queue that ended in the last secs seconds. */
size_t model_finished_recent (const struct model *m, double secs);

/* Counts by state: nodes[state name] and jobs pending / running. */
size_t model_nodes_in (const struct model *m, const char *state);
size_t model_jobs_in (const struct model *m, int state);

/* Parsing one record into its struct (steals obj on success). */
int model_parse_job (struct top_job *j, json_t *obj);
int model_parse_node (struct top_node *n, json_t *obj);

#endif
