/* deps.c - job dependencies (--dependency), as sbatch spells them
 *
 *   after:ID[:ID...]       each ID has started (or ended)
 *   afterany:ID[:ID...]    each ID has ended
 *   afterok:ID[:ID...]     each ID ended COMPLETED
 *   afternotok:ID[:ID...]  each ID ended other than COMPLETED
 *   singleton              no other job of the same name and user runs
 *
 * An array's id stands for every task of it (see term_array).
 * Terms separated by ',' must all hold; separated by '?', any one.  A term
 * that can no longer hold (afterok of a failed job) makes the job's
 * dependency never satisfied when every alternative is so too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "ctld.h"
#include "jobs.h"
#include "store.h"

enum dep_state { DEP_WAIT, DEP_OK, DEP_NEVER };

static enum dep_state term_one (struct ctld *ctld, const char *type, uint64_t id);

/* An array's id stands for all its tasks: afterok holds when every task
 * completed, afternotok when every task ended and one did not complete,
 * after when every task started, afterany when every task ended. */
static enum dep_state term_array (struct ctld *ctld, const char *type,
                                  uint64_t id, int count)
{
    bool notok = !strcmp (type, "afternotok"), any_failed = false;
    enum dep_state all = DEP_OK;
    int k;

    for (k = 0; k < count; k++) {
        struct job *t = jobtab_lookup (ctld->jobs, id + (uint64_t)k);
        enum dep_state s;
        if (t && t->array_job_id != id)
            continue;
        if (notok) {
            s = term_one (ctld, "afterany", id + (uint64_t)k);
            if (s == DEP_WAIT)
                return DEP_WAIT;
            if (term_one (ctld, "afterok", id + (uint64_t)k) == DEP_NEVER)
                any_failed = true;
            continue;
        }
        s = term_one (ctld, type, id + (uint64_t)k);
        if (s == DEP_NEVER)
            return DEP_NEVER;
        if (s == DEP_WAIT)
            all = DEP_WAIT;
    }
    if (notok)
        return any_failed ? DEP_OK : DEP_NEVER;
    return all;
}

/* The state of one referenced job's condition. */
static enum dep_state term_one (struct ctld *ctld, const char *type, uint64_t id)
{
    struct job *o = jobtab_lookup (ctld->jobs, id);
    bool final, ok;

    if (!o) {
        /* purged from the queue: the state file still has how it ended */
        char state[32];
        if (store_get_state (ctld->store, id, state, sizeof (state)) < 0)
            return DEP_NEVER;
        final = true;
        ok = !strcmp (state, "COMPLETED");
    } else {
        final = job_state_is_final (o->state);
        ok = o->state == JOB_COMPLETED;
    }
    if (!strcmp (type, "after"))
        return (o && o->start_time > 0) || final ? DEP_OK : DEP_WAIT;
    if (!final)
        return DEP_WAIT;
    if (!strcmp (type, "afterany"))
        return DEP_OK;
    if (!strcmp (type, "afterok"))
        return ok ? DEP_OK : DEP_NEVER;
    return ok ? DEP_NEVER : DEP_OK;     /* afternotok */
}

static bool singleton_free (struct ctld *ctld, const struct job *job)
{
    size_t i;

    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *o = jobtab_at (ctld->jobs, i);
        if (o == job || o->uid != job->uid || strcmp (o->name, job->name))
            continue;
        if (o->state == JOB_RUNNING || o->state == JOB_COMPLETING
            || (o->state == JOB_PENDING && o->id < job->id))
            return false;
    }
    return true;
}

/* One term "type:id:id" or "singleton".  -1 (EINVAL) if malformed. */
static int term (struct ctld *ctld, const struct job *job, char *t,
                 enum dep_state *st, aios_error_t *err)
{
    char *save = NULL, *type = strtok_r (t, ":", &save), *id;
    int n = 0;

    *st = DEP_OK;
    if (!type)
        return errprintf (err, "empty dependency term");
    if (!strcmp (type, "singleton")) {
        if (strtok_r (NULL, ":", &save))
            return errprintf (err, "singleton takes no job ids");
        *st = !job || singleton_free (ctld, job) ? DEP_OK : DEP_WAIT;
        return 0;
    }
    if (strcmp (type, "after") && strcmp (type, "afterany")
        && strcmp (type, "afterok") && strcmp (type, "afternotok"))
        return errprintf (err, "unknown dependency type \"%s\" (expected after, "
                          "afterany, afterok, afternotok or singleton)", type);
    while ((id = strtok_r (NULL, ":", &save))) {
        char *end;
        unsigned long long v = strtoull (id, &end, 10);
        enum dep_state s;
        if (*end || v == 0)
            return errprintf (err, "invalid job id \"%s\" in %s", id, type);
        if (!job && !jobtab_lookup (ctld->jobs, v) && v >= ctld->next_job_id)
            return errprintf (err, "job %llu does not exist", v);
        n++;
        if (job) {
            int count;
            if (jobtab_is_array (ctld->jobs, v, &count) && count > 1)
                s = term_array (ctld, type, v, count);
            else
                s = term_one (ctld, type, v);
            if (s == DEP_NEVER || (s == DEP_WAIT && *st == DEP_OK))
                *st = s;
        }
    }
    if (n == 0)
        return errprintf (err, "%s needs at least one job id", type);
    return 0;
}

/* Check (job NULL: only the syntax and ids) or evaluate spec. */
static int evaluate (struct ctld *ctld, const struct job *job, const char *spec,
                     enum dep_state *st, aios_error_t *err)
{
    char *copy = strdup (spec), *p, *alt;
    bool any = strchr (spec, '?') != NULL;
    enum dep_state all = any ? DEP_NEVER : DEP_OK;
    int rc = 0;

    if (!copy)
        return errprintf (err, "out of memory");
    if (any && strchr (spec, ','))
        rc = errprintf (err, "mix of ',' and '?' (use one of them)");
    for (p = copy; rc == 0 && (alt = strsep (&p, any ? "?" : ",")); ) {
        enum dep_state s;
        if ((rc = term (ctld, job, alt, &s, err)) < 0)
            break;
        if (any) {      /* the best alternative */
            if (s == DEP_OK || (s == DEP_WAIT && all == DEP_NEVER))
                all = s;
        } else if (s == DEP_NEVER || (s == DEP_WAIT && all == DEP_OK))
            all = s;    /* the worst term */
    }
    free (copy);
    *st = all;
    if (rc < 0)
        errno = EINVAL;
    return rc;
}

int deps_check (struct ctld *ctld, const char *spec, aios_error_t *err)
{
    enum dep_state st;

    if (evaluate (ctld, NULL, spec, &st, err) < 0)
        return errprefix (err, "invalid dependency \"%s\"", spec);
    return 0;
}

unsigned deps_reasons (struct ctld *ctld, const struct job *job)
{
    enum dep_state st;
    aios_error_t err;

    if (!job->dependency || !*job->dependency)
        return 0;
    if (evaluate (ctld, job, job->dependency, &st, &err) < 0)
        return SCHED_R_DEP_NEVER;
    return st == DEP_OK ? 0 : st == DEP_WAIT ? SCHED_R_DEPENDENCY : SCHED_R_DEP_NEVER;
}
