/* store.h - the controller's durable state: one SQLite file in WAL mode
 *
 * Writes open a transaction lazily; store_commit() ends it.  The controller
 * commits once per event-loop turn (group commit) and only then sends the
 * replies that acknowledge those writes.
 */
#ifndef AIOS_CTLD_STORE_H
#define AIOS_CTLD_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "errprintf.h"

struct store;

struct store *store_open (const char *path, aios_error_t *err);
void store_close (struct store *st);

/* Called once per stored job by store_load_jobs(); job is borrowed for the
 * call.  Return -1 to stop with err set. */
typedef int (*store_job_f) (json_t *job, void *arg, aios_error_t *err);
int store_load_jobs (struct store *st, store_job_f cb, void *arg,
                     aios_error_t *err);

/* Insert or replace a job's record (keyed by its "id"); written within the
 * current transaction. */
int store_put_job (struct store *st, uint64_t id, const char *state,
                   const json_t *job, aios_error_t *err);
/* Append a state-transition event. */
int store_add_event (struct store *st, uint64_t id, double time,
                     const char *state, const char *reason, aios_error_t *err);

/* Fair-share usage per user (see sched/usage.h). */
typedef int (*store_usage_f) (uint32_t uid, double value, double t, void *arg);
int store_load_usage (struct store *st, store_usage_f cb, void *arg,
                      aios_error_t *err);
int store_put_usage (struct store *st, uint32_t uid, double value, double t,
                     aios_error_t *err);

/* The stored state of job id (also of jobs purged from the queue). */
int store_get_state (struct store *st, uint64_t id, char *buf, size_t len);

/* Job steps (aios-run): one record per JOBID.STEP. */
int store_put_step (struct store *st, uint64_t job, int step, const json_t *rec,
                    aios_error_t *err);
json_t *store_get_steps (struct store *st, uint64_t job, aios_error_t *err);

int store_get_meta (struct store *st, const char *key, int64_t *val,
                    aios_error_t *err);
int store_set_meta (struct store *st, const char *key, int64_t val,
                    aios_error_t *err);

bool store_dirty (const struct store *st);
int store_commit (struct store *st, aios_error_t *err);
/* Counters for diagnostics. */
uint64_t store_commits (const struct store *st);

#endif
