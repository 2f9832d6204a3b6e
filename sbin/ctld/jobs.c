/* jobs.c - the controller's job table */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "jobs.h"
#include "proto.h"

/* The job state machine: allowed[from][to]. */
#define T(to) (1u << (to))
static const unsigned allowed[JOB_STATE_COUNT] = {
    [JOB_PENDING] = T (JOB_STAGING) | T (JOB_RUNNING) | T (JOB_CANCELLED)
                    | T (JOB_FAILED),
    [JOB_STAGING] = T (JOB_RUNNING) | T (JOB_STAGE_FAILED) | T (JOB_CANCELLED)
                    | T (JOB_NODE_FAIL) | T (JOB_PENDING),
    [JOB_RUNNING] = T (JOB_COMPLETING) | T (JOB_COMPLETED) | T (JOB_FAILED)
                    | T (JOB_CANCELLED) | T (JOB_TIMEOUT)
                    | T (JOB_OUT_OF_MEMORY) | T (JOB_NODE_FAIL)
                    | T (JOB_PENDING),
    [JOB_COMPLETING] = T (JOB_COMPLETED) | T (JOB_FAILED) | T (JOB_CANCELLED)
                       | T (JOB_TIMEOUT) | T (JOB_OUT_OF_MEMORY)
                       | T (JOB_NODE_FAIL) | T (JOB_PENDING),
    /* requeue (aios-control requeue) */
    [JOB_COMPLETED] = T (JOB_PENDING),
    [JOB_FAILED] = T (JOB_PENDING),
    [JOB_CANCELLED] = T (JOB_PENDING),
    [JOB_TIMEOUT] = T (JOB_PENDING),
    [JOB_OUT_OF_MEMORY] = T (JOB_PENDING),
    [JOB_NODE_FAIL] = T (JOB_PENDING),
    [JOB_STAGE_FAILED] = T (JOB_PENDING),
};
#undef T

bool job_transition_ok (enum job_state from, enum job_state to)
{
    if ((unsigned)from >= JOB_STATE_COUNT || (unsigned)to >= JOB_STATE_COUNT)
        return false;
    return (allowed[from] & (1u << to)) != 0;
}

void job_clear_alloc (struct job *job)
{
    int i;

    for (i = 0; i < job->nalloc; i++)
        free (job->alloc[i].node);
    free (job->alloc);
    job->alloc = NULL;
    job->nalloc = 0;
}

int job_set_alloc (struct job *job, struct job_alloc *alloc, int n)
{
    job_clear_alloc (job);
    job->alloc = alloc;
    job->nalloc = n;
    return 0;
}

void job_destroy (struct job *job)
{
    int saved = errno;

    if (job) {
        json_decref (job->req);
        free (job->reason);
        free (job->nodelist);
        free (job->est_nodes);
        free (job->prefer);
        json_decref (job->models);
        job_clear_alloc (job);
        free (job);
    }
    errno = saved;
}

int job_set_reason (struct job *job, const char *reason)
{
    char *s = NULL;

    if (reason && job->reason && !strcmp (reason, job->reason))
        return 0;
    if (reason && !(s = strdup (reason)))
        return -1;
    free (job->reason);
    job->reason = s;
    return 0;
}

static int parse_req (struct job *job, aios_error_t *err)
{
    json_int_t uid, gid, nodes, ntasks, cpt, mem, tl, gpn = 0, nice = 0;
    json_int_t aid = 0, atask = 0, acount = 0, athrottle = 0, wsig = 0, wtime = 0;
    int excl = 0, kill = 0, requeue = 0, wbatch = 0;

    if (proto_unpack (job->req, err, "job request",
                      "{s:s s:s s:s s:I s:I s:I s:I s:I s:I s:I s:F"
                      " s?I s?b s?s s?s s?I s?s s?b s?F"
                      " s?I s?I s?I s?I s?b s?I s?I s?b}",
                      "name", &job->name, "user", &job->user,
                      "partition", &job->partition, "uid", &uid, "gid", &gid,
                      "nodes", &nodes, "ntasks", &ntasks,
                      "cpus_per_task", &cpt, "mem_mb", &mem,
                      "time_limit", &tl, "submit_time", &job->submit_time,
                      "gpus_per_node", &gpn, "exclusive", &excl,
                      "constraint", &job->constraint, "qos", &job->qos,
                      "nice", &nice, "dependency", &job->dependency,
                      "kill_on_invalid_dep", &kill, "begin_time",
                      &job->begin_time, "array_job_id", &aid,
                      "array_task_id", &atask, "array_count", &acount,
                      "array_throttle", &athrottle, "requeue", &requeue,
                      "signal_num", &wsig, "signal_time", &wtime,
                      "signal_batch", &wbatch) < 0)
        return -1;
    job->stage_in = json_object_get (job->req, "stage_in");
    job->stage_out = json_object_get (job->req, "stage_out");
    if (!json_is_array (job->stage_in) || json_array_size (job->stage_in) == 0)
        job->stage_in = NULL;
    if (!json_is_array (job->stage_out) || json_array_size (job->stage_out) == 0)
        job->stage_out = NULL;
    job->array_job_id = (uint64_t)aid;
    job->array_task_id = (int)atask;
    job->array_count = (int)acount;
    job->array_throttle = (int)athrottle;
    job->requeue = requeue;
    job->warn_signal = (int)wsig;
    job->warn_time = (int)wtime;
    job->warn_batch_only = wbatch;
    job->kill_on_invalid_dep = kill;
    job->gpus_per_node = (int)gpn;
    job->exclusive = excl;
    job->nice = (int)nice;
    job->uid = (uint32_t)uid;
    job->gid = (uint32_t)gid;
    job->nodes = (int)nodes;
    job->ntasks = (int)ntasks;
    job->cpus_per_task = (int)cpt;
    job->mem_mb = (uint64_t)mem;
    job->time_limit = (long)tl;
    job->has_admin_priority = json_unpack (job->req, "{s:F}", "admin_priority",
                                           &job->admin_priority) == 0;
    return 0;
}

int job_set_req (struct job *job, json_t *req, aios_error_t *err)
{
    struct job saved = *job;

    job->req = req;
    if (parse_req (job, err) < 0) {
        *job = saved;
        return -1;
    }
    json_incref (req);
    json_decref (saved.req);
    return 0;
}

static int parse_alloc (struct job *job, json_t *a, aios_error_t *err)
{
    size_t i, n = json_array_size (a);
    struct job_alloc *v;

    if (n == 0)
        return 0;
    if (!(v = calloc (n, sizeof (*v)))) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    job->alloc = v;
    job->nalloc = (int)n;
    for (i = 0; i < n; i++) {
        const char *node;
        json_int_t cpus, tasks, mem;
        json_t *gpus = NULL, *g;
        size_t k;
        if (proto_unpack (json_array_get (a, i), err, "job allocation",
                          "{s:s s:I s:I s:I s?o}", "node", &node, "cpus", &cpus,
                          "tasks", &tasks, "mem_mb", &mem, "gpus", &gpus) < 0)
            return -1;
        json_array_foreach (gpus, k, g) {
            json_int_t gi = json_integer_value (g);
            if (!json_is_integer (g) || gi < 0 || gi >= 64) {
                errno = EPROTO;
                return errprintf (err, "job allocation: bad GPU index");
            }
            v[i].gpus |= 1ULL << gi;
        }
        if (!(v[i].node = strdup (node))) {
            errno = ENOMEM;
            return errprintf (err, "out of memory");
        }
        v[i].cpus = (int)cpus;
        v[i].tasks = (int)tasks;
        v[i].mem_mb = (uint64_t)mem;
    }
    return 0;
}

static int parse_rt (struct job *job, json_t *rt, aios_error_t *err)
{
    const char *state, *reason = NULL, *nodelist = NULL;
    json_t *alloc = NULL;
    json_int_t exit_code = 0, sig = 0, rss = 0;
    int held = 0, cancel = 0, warned = 0, rqp = 0, s;
    json_t *models = NULL;
    json_int_t copied = 0;

    if (proto_unpack (rt, err, "job runtime",
                      "{s:s s?s s?b s?b s?F s?F s?s s?o s?I s?I s?F s?I s?i"
                      " s?i s?b s?b s?o s?i s?I}",
                      "state", &state, "reason", &reason, "held", &held,
                      "cancel_requested", &cancel,
                      "start_time", &job->start_time,
                      "end_time", &job->end_time, "nodelist", &nodelist,
                      "alloc", &alloc, "exit_code", &exit_code,
                      "signal", &sig, "cpu_time", &job->cpu_time,
                      "max_rss_kb", &rss, "steps", &job->nsteps,
                      "restarts", &job->restarts, "warned", &warned,
                      "requeue_pending", &rqp, "models", &models,
                      "stage_hits", &job->stage_hits, "stage_copied_bytes",
                      &copied) < 0)
        return -1;
    if ((s = job_state_parse (state)) < 0) {
        errno = EPROTO;
        return errprintf (err, "job runtime: unknown state %s", state);
    }
    job->state = (enum job_state)s;
    job->held = held;
    job->warned = warned;
    job->requeue_pending = rqp;
    job->models = json_incref (models);
    job->stage_copied = (uint64_t)copied;
    job->cancel_requested = cancel;
    job->exit_code = (int)exit_code;
    job->term_signal = (int)sig;
    job->max_rss_kb = (uint64_t)rss;
    if ((reason && job_set_reason (job, reason) < 0)
        || (nodelist && !(job->nodelist = strdup (nodelist)))) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    return alloc ? parse_alloc (job, alloc, err) : 0;
}

struct job *job_create (uint64_t id, json_t *req, json_t *rt, aios_error_t *err)
{
    struct job *job = calloc (1, sizeof (*job));

    if (!job) {
        errno = ENOMEM;
        errprintf (err, "out of memory");
        return NULL;
    }
    job->id = id;
    job->est_start = -1;
    job->req = json_incref (req);
    job->state = JOB_PENDING;
    if (parse_req (job, err) < 0 || (rt && parse_rt (job, rt, err) < 0)) {
        errprefix (err, "job %ju", (uintmax_t)id);
        job_destroy (job);
        return NULL;
    }
    return job;
}

json_t *job_gpu_list (uint64_t gpus)
{
    json_t *a = json_array ();
    int i;

    for (i = 0; a && i < 64; i++)
        if (gpus & (1ULL << i))
            json_array_append_new (a, json_integer (i));
    return a;
}

static json_t *alloc_to_json (const struct job *job)
{
    json_t *a = json_array ();
    int i;

    for (i = 0; a && i < job->nalloc; i++) {
        json_t *o = json_pack ("{s:s s:i s:i s:I}", "node", job->alloc[i].node,
                               "cpus", job->alloc[i].cpus,
                               "tasks", job->alloc[i].tasks,
                               "mem_mb", (json_int_t)job->alloc[i].mem_mb);
        if (o && job->alloc[i].gpus)
            json_object_set_new (o, "gpus", job_gpu_list (job->alloc[i].gpus));
        json_array_append_new (a, o);
    }
    return a;
}

/* --- what aios-queue shows: one table of fields -------------------------- */

typedef json_t *(*job_get_f) (const struct job *job);

static json_t *get_id (const struct job *j)
{
    return json_integer ((json_int_t)j->id);
}
static json_t *get_state (const struct job *j)
{
    return json_string (job_state_name (j->state));
}
static json_t *get_reason (const struct job *j)
{
    return j->reason ? json_string (j->reason) : NULL;
}
static json_t *get_reasons (const struct job *j)
{
    json_t *a = json_array ();
    unsigned bit;

    if (j->state != JOB_PENDING)
        return a;
    for (bit = 1; a && bit && bit <= SCHED_R_LAST; bit <<= 1)
        if ((j->reasons & bit) && sched_reason_name (bit))
            json_array_append_new (a, json_string (sched_reason_name (bit)));
    if (a && json_array_size (a) == 0 && j->reason)
        json_array_append_new (a, json_string (j->reason));
    return a;
}
static json_t *get_position (const struct job *j)
{
    return j->state == JOB_PENDING && j->position > 0
        ? json_integer (j->position) : NULL;
}
static json_t *get_priority (const struct job *j)
{
    return j->state == JOB_PENDING ? json_real (j->priority) : NULL;
}
static json_t *get_est_start (const struct job *j)
{
    if (j->state == JOB_PENDING)
        return j->est_start >= 0 ? json_real (j->est_start) : NULL;
    return j->start_time > 0 ? json_real (j->start_time) : NULL;
}
static json_t *get_est_nodes (const struct job *j)
{
    if (j->state == JOB_PENDING)
        return j->est_nodes ? json_string (j->est_nodes) : NULL;
    return j->nodelist ? json_string (j->nodelist) : NULL;
}
static json_t *get_held (const struct job *j)
{
    return json_boolean (j->held);
}
static json_t *get_cancel (const struct job *j)
{
    return json_boolean (j->cancel_requested);
}
static json_t *get_start (const struct job *j)
{
    return json_real (j->start_time);
}
static json_t *get_end (const struct job *j)
{
    return json_real (j->end_time);
}
static json_t *get_nodelist (const struct job *j)
{
    return j->nodelist ? json_string (j->nodelist) : NULL;
}
static json_t *get_exit (const struct job *j)
{
    return json_integer (j->exit_code);
}
static json_t *get_signal (const struct job *j)
{
    return json_integer (j->term_signal);
}
static json_t *get_cpu_time (const struct job *j)
{
    return json_real (j->cpu_time);
}
static json_t *get_rss (const struct job *j)
{
    return json_integer ((json_int_t)j->max_rss_kb);
}
static json_t *get_nsteps (const struct job *j)
{
    return json_integer (j->nsteps);
}
static json_t *get_restarts (const struct job *j)
{
    return j->restarts ? json_integer (j->restarts) : NULL;
}
static json_t *get_stage (const struct job *j)
{
    if (j->state != JOB_STAGING)
        return NULL;
    return json_pack ("{s:I s:I}", "done", (json_int_t)j->stage_done, "total",
                      (json_int_t)j->stage_total);
}
static json_t *get_stage_hits (const struct job *j)
{
    return j->stage_in ? json_integer (j->stage_hits) : NULL;
}
static json_t *get_stage_copied (const struct job *j)
{
    return j->stage_in ? json_integer ((json_int_t)j->stage_copied) : NULL;
}
static json_t *get_models (const struct job *j)
{
    return j->models ? json_incref (j->models) : NULL;
}
static json_t *get_requeue_pending (const struct job *j)
{
    return j->requeue_pending ? json_true () : NULL;
}
static json_t *get_warned (const struct job *j)
{
    return j->warned ? json_true () : NULL;
}
/* "123_4" for array tasks, as Slurm writes them; the id otherwise. */
static json_t *get_job_id (const struct job *j)
{
    if (!j->array_job_id)
        return json_sprintf ("%ju", (uintmax_t)j->id);
    return json_sprintf ("%ju_%d", (uintmax_t)j->array_job_id, j->array_task_id);
}

/* get NULL: copied from the request as submitted.  stored: part of the
 * runtime record the state file keeps (parse_rt() reads it back). */
static const struct {
    const char *name;
    job_get_f get;
    bool stored;
} job_fields[] = {
    { "id", get_id, false },
    { "name", NULL, false },
    { "user", NULL, false },
    { "uid", NULL, false },
    { "gid", NULL, false },
    { "partition", NULL, false },
    { "state", get_state, true },
    { "reason", get_reason, true },
    { "reasons", get_reasons, false },
    { "position", get_position, false },
    { "priority", get_priority, false },
    { "est_start", get_est_start, false },
    { "est_nodes", get_est_nodes, false },
    { "gpus", NULL, false },
    { "gpus_per_node", NULL, false },
    { "exclusive", NULL, false },
    { "constraint", NULL, false },
    { "qos", NULL, false },
    { "nice", NULL, false },
    { "dependency", NULL, false },
    { "begin_time", NULL, false },
    { "held", get_held, true },
    { "cancel_requested", get_cancel, true },
    { "nodes", NULL, false },
    { "ntasks", NULL, false },
    { "cpus_per_task", NULL, false },
    { "mem_mb", NULL, false },
    { "time_limit", NULL, false },
    { "submit_time", NULL, false },
    { "start_time", get_start, true },
    { "end_time", get_end, true },
    { "nodelist", get_nodelist, true },
    { "alloc", alloc_to_json, true },
    { "exit_code", get_exit, true },
    { "signal", get_signal, true },
    { "cpu_time", get_cpu_time, true },
    { "max_rss_kb", get_rss, true },
    { "steps", get_nsteps, true },
    { "restarts", get_restarts, true },
    { "warned", get_warned, true },
    { "requeue_pending", get_requeue_pending, true },
    { "staging", get_stage, false },
    { "models", get_models, true },
    { "stage_hits", get_stage_hits, true },
    { "stage_copied_bytes", get_stage_copied, true },
    { "stage_in", NULL, false },
    { "stage_out", NULL, false },
    { "job_id", get_job_id, false },
    { "array_job_id", NULL, false },
    { "array_task_id", NULL, false },
    { "array_count", NULL, false },
    { "array_throttle", NULL, false },
    { "requeue", NULL, false },
    { "workdir", NULL, false },
    { "output", NULL, false },
    { "error", NULL, false },
};
#define NFIELDS (sizeof (job_fields) / sizeof (job_fields[0]))

int job_field_index (const char *name)
{
    size_t i;

    for (i = 0; i < NFIELDS; i++) {
        if (!strcmp (job_fields[i].name, name))
            return (int)i;
    }
    return -1;
}

static void add_field (json_t *o, const struct job *job, size_t i)
{
    json_t *v = job_fields[i].get
                    ? job_fields[i].get (job)
                    : json_incref (json_object_get (job->req, job_fields[i].name));

    if (v)
        json_object_set_new (o, job_fields[i].name, v);
}

json_t *job_record (const struct job *job)
{
    json_t *rt = json_object ();
    size_t i;

    for (i = 0; rt && i < NFIELDS; i++) {
        if (job_fields[i].stored)
            add_field (rt, job, i);
    }
    return json_pack ("{s:I s:O s:o}", "id", (json_int_t)job->id, "req",
                      job->req, "rt", rt);
}

json_t *job_to_json (const struct job *job, const int *fields, int nfields)
{
    json_t *o = json_object ();
    int i;

    if (!o)
        return NULL;
    if (!fields) {
        for (i = 0; i < (int)NFIELDS; i++)
            add_field (o, job, (size_t)i);
        return o;
    }
    for (i = 0; i < nfields; i++)
        add_field (o, job, (size_t)fields[i]);
    return o;
}

/* --- the table: jobs sorted by id ---------------------------------------- */

struct jobtab {
    struct job **v;
    size_t n;
    size_t cap;
};

struct jobtab *jobtab_create (void)
{
    return calloc (1, sizeof (struct jobtab));
}

void jobtab_destroy (struct jobtab *jt)
{
    int saved = errno;
    size_t i;

    if (jt) {
        for (i = 0; i < jt->n; i++)
            job_destroy (jt->v[i]);
        free (jt->v);
        free (jt);
    }
    errno = saved;
}

int jobtab_add (struct jobtab *jt, struct job *job)
{
    if (jt->n > 0 && jt->v[jt->n - 1]->id >= job->id) {
        errno = EINVAL;
        return -1;
    }
    if (jt->n == jt->cap) {
        size_t cap = jt->cap ? jt->cap * 2 : 1024;
        struct job **v = realloc (jt->v, cap * sizeof (*v));
        if (!v)
            return -1;
        jt->v = v;
        jt->cap = cap;
    }
    jt->v[jt->n++] = job;
    return 0;
}

struct job *jobtab_lookup (struct jobtab *jt, uint64_t id)
{
    size_t lo = 0, hi = jt->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (jt->v[mid]->id == id)
            return jt->v[mid];
        if (jt->v[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t jobtab_count (const struct jobtab *jt)
{
    return jt->n;
}

struct job *jobtab_at (struct jobtab *jt, size_t i)
{
    return i < jt->n ? jt->v[i] : NULL;
}

/* An array's first task stands for the array (its id is the array's):
 * keep it while a later task has not ended. */
static bool array_head_busy (const struct jobtab *jt, size_t i)
{
    const struct job *head = jt->v[i];
    size_t k;

    if (head->array_job_id != head->id)
        return false;
    for (k = i + 1; k < jt->n && jt->v[k]->array_job_id == head->id; k++)
        if (!job_state_is_final (jt->v[k]->state))
            return true;
    return false;
}

size_t jobtab_purge (struct jobtab *jt, double cutoff,
                     void (*cb) (uint64_t id, void *arg), void *arg)
{
    size_t i, j, dropped = 0;

    for (i = 0, j = 0; i < jt->n; i++) {
        struct job *job = jt->v[i];
        if (job_state_is_final (job->state) && job->end_time < cutoff
            && !array_head_busy (jt, i)) {
            if (cb)
                cb (job->id, arg);
            job_destroy (job);
            dropped++;
            continue;
        }
        jt->v[j++] = job;
    }
    jt->n = j;
    return dropped;
}

bool jobtab_is_array (struct jobtab *jt, uint64_t id, int *count)
{
    struct job *head = jobtab_lookup (jt, id);

    if (!head || head->array_job_id != id)
        return false;
    *count = head->array_count;
    return true;
}

bool job_named_by (const struct job *job, json_t *ids, json_t *tasks)
{
    size_t i;
    json_t *v;

    if (!ids && !tasks)
        return true;
    json_array_foreach (ids, i, v)
        if ((uint64_t)json_integer_value (v) == job->id
            || (job->array_job_id && (uint64_t)json_integer_value (v) == job->array_job_id))
            return true;
    json_array_foreach (tasks, i, v)
        if (job->array_job_id
            && (uint64_t)json_integer_value (json_array_get (v, 0)) == job->array_job_id
            && json_integer_value (json_array_get (v, 1)) == job->array_task_id)
            return true;
    return false;
}

struct job *jobtab_array_task (struct jobtab *jt, uint64_t array_id, int task)
{
    int count, k;

    if (!jobtab_is_array (jt, array_id, &count))
        return NULL;
    for (k = 0; k < count; k++) {
        struct job *j = jobtab_lookup (jt, array_id + (uint64_t)k);
        if (j && j->array_job_id == array_id && j->array_task_id == task)
            return j;
    }
    return NULL;
}

