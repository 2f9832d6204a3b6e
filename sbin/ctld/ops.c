/* ops.c - requests from tools: submit, cancel, queue, nodes, wait, ping */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "core.h"
#include "ctld.h"
#include "hostlist.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"
#include "parse.h"
#include "proto.h"
#include "store.h"

/* --- submit --------------------------------------------------------------- */

/* The fields a submit may carry, checked strictly ("!": no others). */
/* ["Priority", "Resources"] for reason bits. */
static json_t *reason_list (unsigned reasons)
{
    json_t *a = json_array ();
    unsigned bit;

    for (bit = 1; a && bit && bit <= SCHED_R_LAST; bit <<= 1)
        if ((reasons & bit) && sched_reason_name (bit))
            json_array_append_new (a, json_string (sched_reason_name (bit)));
    return a;
}

static int check_request (json_t *j, aios_error_t *err)
{
    const char *name, *script, *workdir, *output = NULL, *error = NULL;
    const char *partition = NULL, *constraint = NULL, *qos = NULL;
    json_t *env;
    json_int_t nodes, ntasks, cpt, mem, tl = -1, gpus = 0, gpn = 0, nice = 0;
    int hold = 0, excl = 0, kill_dep = 0;
    const char *dependency = NULL, *array = NULL, *so_when = NULL;
    const char *account = NULL;
    double begin = 0;
    json_int_t wsig = 0, wtime = 0;
    int requeue = 0, wbatch = 0;
    json_t *stage_in = NULL, *stage_out = NULL;
    size_t i;

    if (proto_unpack (j, err, "job",
                      "{s:s s:s s:s s:o s?s s?s s?s s:I s:I s:I s:I s?I s?b"
                      " s?I s?I s?b s?s s?s s?I s?s s?b s?F s?s s?b s?I s?I"
                      " s?b s?o s?o s?s s?s !}",
                      "name", &name, "script", &script, "workdir", &workdir,
                      "env", &env, "output", &output, "error", &error,
                      "partition", &partition, "nodes", &nodes,
                      "ntasks", &ntasks, "cpus_per_task", &cpt,
                      "mem_mb", &mem, "time_limit", &tl, "hold", &hold,
                      "gpus", &gpus, "gpus_per_node", &gpn, "exclusive", &excl,
                      "constraint", &constraint, "qos", &qos, "nice", &nice,
                      "dependency", &dependency, "kill_on_invalid_dep", &kill_dep,
                      "begin_time", &begin, "array", &array,
                      "requeue", &requeue, "signal_num", &wsig,
                      "signal_time", &wtime, "signal_batch", &wbatch,
                      "stage_in", &stage_in, "stage_out", &stage_out,
                      "stage_out_when", &so_when, "account", &account) < 0)
        return -1;
    errno = EINVAL;
    if (wsig < 0 || wsig > 64 || wtime < 0 || wtime > 65535)
        return errprintf (err, "invalid --signal (signal %lld, %lld seconds)",
                          (long long)wsig, (long long)wtime);
    if (strncmp (script, "#!", 2) != 0)
        return errprintf (err, "the batch script does not start with \"#!\" "
                          "(add e.g. #!/bin/sh as its first line)");
    if (workdir[0] != '/')
        return errprintf (err, "working directory \"%s\" is not an absolute path",
                          workdir);
    if (!json_is_object (env))
        return errprintf (err, "job: \"env\" must be an object of strings");
    if (ntasks < 1 || ntasks > 1000000)
        return errprintf (err, "invalid number of tasks %lld", (long long)ntasks);
    if (nodes < 0 || nodes > ntasks)
        return errprintf (err, "invalid node count %lld for %lld task(s)",
                          (long long)nodes, (long long)ntasks);
    if (cpt < 1 || cpt > 100000)
        return errprintf (err, "invalid CPUs per task %lld", (long long)cpt);
    if (mem < 0)
        return errprintf (err, "invalid memory %lld", (long long)mem);
    if (tl == 0 || tl < -1)
        return errprintf (err, "invalid time limit %lld", (long long)tl);
    if (strlen (name) == 0 || strlen (name) > 200)
        return errprintf (err, "invalid job name (1 to 200 characters)");
    if (gpus < 0 || gpus > 64 * 100000 || gpn < 0 || gpn > 64)
        return errprintf (err, "invalid GPU count %lld",
                          (long long)(gpus < 0 || gpus > 64 * 100000 ? gpus : gpn));
    if (gpus > 0 && gpn > 0)
        return errprintf (err, "give --gpus or --gpus-per-node, not both");
    if (nice < -10000 || nice > 10000)
        return errprintf (err, "invalid nice value %lld (-10000..10000)",
                          (long long)nice);
    for (i = 0; constraint && constraint[i]; i++) {
        char ch = constraint[i];
        if (!isalnum ((unsigned char)ch) && ch != '_' && ch != '-' && ch != '.'
            && ch != ',')
            return errprintf (err, "invalid constraint \"%s\" (features "
                              "separated by commas)", constraint);
    }
    errno = 0;
    return 0;
}

/* Largest GPU count of a partition's nodes (registered or configured);
 * *unknown: some node's count is not known yet. */
static int partition_max_gpus (struct ctld *ctld, const struct conf_partition *p,
                               bool *unknown)
{
    int max = 0;
    size_t i;

    *unknown = false;
    for (i = 0; i < p->nnodes; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, p->nodes[i]);
        const struct conf_node *cn = conf_node_lookup (ctld->conf, p->nodes[i]);
        if (n && n->base == NODE_UNKNOWN && cn && cn->gpus < 0)
            *unknown = true;
        if (n && n->gpus > max)
            max = n->gpus;
    }
    return max;
}

/* Settle what the request leaves to the controller: --gpus=N becomes
 * gpus_per_node (over the requested nodes, or over as few nodes as hold
 * them); the QOS must exist; a negative nice is for operators. */
static int resolve_request (struct ctld *ctld, struct conn *c,
                            const struct conf_partition *p, json_t *rec,
                            aios_error_t *err)
{
    json_int_t gpus = 0, nodes = 0, ntasks = 1, nice = 0;
    const char *qos = NULL;
    bool unknown;
    int maxg, k;

    json_unpack (rec, "{s?I s?I s?I s?s s?I}", "gpus", &gpus, "nodes", &nodes,
                 "ntasks", &ntasks, "qos", &qos, "nice", &nice);
    errno = EINVAL;
    if (qos && conf_qos_priority (ctld->conf, qos) < 0) {
        char known[256] = "normal";
        size_t i, len = strlen (known);
        for (i = 0; i < ctld->conf->nqos && len < sizeof (known); i++)
            if (strcmp (ctld->conf->qos[i].name, "normal"))
                len += (size_t)snprintf (known + len, sizeof (known) - len,
                                         ", %s", ctld->conf->qos[i].name);
        return errprintf (err, "invalid QOS \"%s\" (this cluster has: %s)",
                          qos, known);
    }
    if (nice < 0 && c->uid != 0 && !conf_is_operator (ctld->conf, c->user)) {
        errno = EPERM;
        return errprintf (err, "only operators may set a negative nice (%lld)",
                          (long long)nice);
    }
    if (gpus <= 0) {
        errno = 0;
        return 0;
    }
    maxg = partition_max_gpus (ctld, p, &unknown);
    if (nodes > 0) {
        if (gpus % nodes != 0)
            return errprintf (err, "--gpus=%lld does not divide evenly over "
                              "--nodes=%lld (use --gpus-per-node)",
                              (long long)gpus, (long long)nodes);
        k = (int)nodes;
    } else {
        for (k = 1; k <= ntasks; k++)
            if (gpus % k == 0 && (gpus / k <= maxg || (unknown && k == 1)))
                break;
        if (k > ntasks)
            return errprintf (err, "--gpus=%lld cannot be placed in partition "
                              "%s: its nodes have at most %d GPU(s) and the job "
                              "has %lld task(s) to spread them over",
                              (long long)gpus, p->name, maxg, (long long)ntasks);
    }
    if (json_object_set_new (rec, "gpus_per_node", json_integer (gpus / k)) < 0
        || json_object_set_new (rec, "nodes", json_integer (k)) < 0) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    errno = 0;
    return 0;
}

/* aios-submit --test-only: when and where would it start? */
static void reply_test (struct conn *c, json_int_t seq, struct job *job)
{
    struct sched_test t;
    json_t *rep;

    if (sched_test (c->ctld, job, false, &t) < 0) {
        conn_error (c, seq, errno, "test: %s", strerror (errno));
        return;
    }
    rep = json_pack ("{s:I s:I s:b s:s s:i s:i s:o}", "seq", seq, "id",
                     (json_int_t)job->id, "start_now", t.start, "partition",
                     job->partition, "position", t.position, "cpus", t.cpus,
                     "reasons", reason_list (t.reasons));
    if (rep && t.est_start >= 0)
        json_object_set_new (rep, "est_start", json_real (t.est_start));
    if (rep && t.nodes)
        json_object_set_new (rep, "nodes", json_string (t.nodes));
    free (t.nodes);
    conn_send (c, rep);
}

/* Add a new job to the table and the store (its id is next_job_id). */
static int queue_job (struct ctld *ctld, struct job *job)
{
    aios_error_t err;

    if (store_set_meta (ctld->store, "next_job_id",
                        (int64_t)ctld->next_job_id + 1, &err) < 0) {
        ctld_fatal (ctld, err.text);
        job_destroy (job);
        return -1;
    }
    if (jobtab_add (ctld->jobs, job) < 0) {
        ctld_fatal (ctld, "out of memory adding a job");
        job_destroy (job);
        return -1;
    }
    ctld->next_job_id++;
    if (store_add_event (ctld->store, job->id, job->submit_time, "PENDING",
                         job->held ? "JobHeldUser" : NULL, &err) < 0) {
        ctld_fatal (ctld, err.text);
        return -1;
    }
    return ctld_job_save (ctld, job);
}

/* --array: one job per task, with consecutive ids; the first one's id is
 * the array's.  first was checked like any job; the others copy it. */
static void submit_array (struct conn *c, json_int_t seq, struct job *first,
                          json_t *rec, const int *tasks, int n)
{
    struct ctld *ctld = c->ctld;
    uint64_t id = first->id;
    bool held = first->held;
    aios_error_t err;
    int i;

    if (queue_job (ctld, first) < 0)
        return;
    for (i = 1; i < n; i++) {
        json_t *r = json_deep_copy (rec);
        struct job *job;
        if (!r || json_object_set_new (r, "array_task_id",
                                       json_integer (tasks[i])) < 0) {
            json_decref (r);
            ctld_fatal (ctld, "out of memory adding array tasks");
            return;
        }
        job = job_create (ctld->next_job_id, r, NULL, &err);
        json_decref (r);
        if (!job) {
            ctld_fatal (ctld, err.text);
            return;
        }
        job->held = held;
        if (held)
            job_set_reason (job, "JobHeldUser");
        if (queue_job (ctld, job) < 0)
            return;
    }
    log_debug ("array %ju (%d tasks) submitted by %s", (uintmax_t)id, n, c->user);
    conn_send_committed (c, json_pack ("{s:I s:I s:i}", "seq", seq, "id",
                                       (json_int_t)id, "array_tasks", n));
    ctld_sched_request (ctld);
}

static void op_submit (struct conn *c, json_t *req, json_int_t seq)
{
    struct ctld *ctld = c->ctld;
    json_t *j = json_object_get (req, "job"), *rec = NULL;
    const struct conf_partition *p;
    struct job *job = NULL;
    const char *part = NULL, *array = NULL;
    int *array_tasks = NULL, ntasks_array = 0, throttle = 0;
    aios_error_t err;

    if (!json_is_object (j)) {
        conn_error (c, seq, EPROTO, "submit: missing object \"job\"");
        return;
    }
    if (check_request (j, &err) < 0) {
        conn_error (c, seq, errno ? errno : EINVAL, "%s", err.text);
        return;
    }
    json_unpack (j, "{s?s}", "partition", &part);
    if (!(p = conf_partition_lookup (ctld->conf, part))) {
        conn_error (c, seq, ENOENT, "invalid partition \"%s\"", part);
        return;
    }
    /* The identity comes from the connection, never from the request. */
    if (!(rec = json_deep_copy (j))
        || json_object_set_new (rec, "partition", json_string (p->name)) < 0
        || json_object_set_new (rec, "uid", json_integer (c->uid)) < 0
        || json_object_set_new (rec, "gid", json_integer (c->gid)) < 0
        || json_object_set_new (rec, "user", json_string (c->user)) < 0
        || json_object_set_new (rec, "submit_time", json_real (ctld_now ())) < 0)
        goto nomem;
    json_object_del (rec, "hold");
    if (resolve_request (ctld, c, p, rec, &err) < 0
        || staging_check (ctld, rec, &err) < 0) {
        conn_error (c, seq, errno ? errno : EINVAL, "%s", err.text);
        goto done;
    }
    if (!json_object_get (rec, "time_limit")
        && json_object_set_new (rec, "time_limit", json_integer (p->max_time)) < 0)
        goto nomem;
    if (json_unpack (rec, "{s:s}", "array", &array) == 0) {
        if (parse_array (array, &array_tasks, &ntasks_array, &throttle, &err) < 0) {
            conn_error (c, seq, EINVAL, "%s", err.text);
            goto done;
        }
        if (json_object_set_new (rec, "array_job_id",
                                 json_integer ((json_int_t)ctld->next_job_id)) < 0
            || json_object_set_new (rec, "array_task_id",
                                    json_integer (array_tasks[0])) < 0
            || json_object_set_new (rec, "array_count",
                                    json_integer (ntasks_array)) < 0
            || json_object_set_new (rec, "array_min",
                                    json_integer (array_tasks[0])) < 0
            || json_object_set_new (rec, "array_max",
                                    json_integer (array_tasks[ntasks_array - 1])) < 0
            || (throttle > 0 && json_object_set_new (rec, "array_throttle",
                                                     json_integer (throttle)) < 0))
            goto nomem;
    }
    if (!(job = job_create (ctld->next_job_id, rec, NULL, &err))) {
        conn_error (c, seq, EPROTO, "%s", err.text);
        goto done;
    }
    json_unpack (j, "{s?b}", "hold", &job->held);
    if (job->held)
        job_set_reason (job, "JobHeldUser");
    if (sched_check_possible (ctld, job, &err) < 0) {
        conn_error (c, seq, errno, "%s", err.text);
        goto done;
    }
    if (job->dependency && deps_check (ctld, job->dependency, &err) < 0) {
        conn_error (c, seq, EINVAL, "%s", err.text);
        goto done;
    }
    if (json_is_true (json_object_get (req, "test_only"))) {
        reply_test (c, seq, job);
        goto done;
    }
    if (ntasks_array > 0) {
        submit_array (c, seq, job, rec, array_tasks, ntasks_array);
        job = NULL;
        goto done;
    }
    if (queue_job (ctld, job) < 0)
        goto done_added;
    log_debug ("job %ju submitted by %s", (uintmax_t)job->id, c->user);
    conn_send_committed (c, json_pack ("{s:I s:I}", "seq", seq, "id",
                                       (json_int_t)job->id));
    ctld_sched_request (ctld);
done_added:
    free (array_tasks);
    json_decref (rec);
    return;
nomem:
    conn_error (c, seq, ENOMEM, "out of memory");
done:
    free (array_tasks);
    job_destroy (job);
    json_decref (rec);
}

/* --- cancel --------------------------------------------------------------- */

struct cancel_filter {
    json_t *ids;        /* array of ints, or NULL */
    const char *user;
    const char *name;
    int state;          /* -1 = any */
};

static bool cancel_match (const struct job *job, const struct cancel_filter *f)
{
    if (f->user && strcmp (job->user, f->user) != 0)
        return false;
    if (f->name && strcmp (job->name, f->name) != 0)
        return false;
    if (f->state >= 0 && (int)job->state != f->state)
        return false;
    return true;
}

/* Returns NULL when done, or the reason it could not be done. */
static const char *cancel_one (struct conn *c, struct job *job, int sig,
                               char *buf, size_t len)
{
    struct ctld *ctld = c->ctld;

    if (job->uid != c->uid && !conn_is_privileged (c)) {
        snprintf (buf, len, "job %ju: permission denied: it belongs to %s, "
                  "and only its owner, an operator or root may cancel it",
                  (uintmax_t)job->id, job->user);
        return buf;
    }
    if (job_state_is_final (job->state)) {
        snprintf (buf, len, "job %ju: already finished (%s)",
                  (uintmax_t)job->id, job_state_name (job->state));
        return buf;
    }
    if (sig > 0) {
        if (job->state != JOB_RUNNING && job->state != JOB_COMPLETING) {
            snprintf (buf, len, "job %ju: not running, cannot signal it",
                      (uintmax_t)job->id);
            return buf;
        }
        nodeops_signal (ctld, job, sig);
        return NULL;
    }
    if (job->state == JOB_PENDING || job->state == JOB_STAGING) {
        char reason[96];
        snprintf (reason, sizeof (reason), "cancelled by %s", c->user);
        ctld_job_transition (ctld, job, JOB_CANCELLED, reason);
        return NULL;
    }
    if (job->state == JOB_COMPLETING && job->cancel_requested)
        return NULL;
    job->cancel_requested = true;
    snprintf (buf, len, "cancelled by %s", c->user);
    ctld_job_transition (ctld, job, JOB_COMPLETING, buf);
    nodeops_terminate (ctld, job);
    return NULL;
}

static void cancel_add (struct conn *c, struct job *job,
                        const struct cancel_filter *f, int sig, json_t *done,
                        json_t *errors)
{
    const char *why;
    char buf[256];

    if (!cancel_match (job, f))
        return;
    if ((why = cancel_one (c, job, sig, buf, sizeof (buf))))
        json_array_append_new (errors, json_string (why));
    else
        json_array_append_new (done, json_integer ((json_int_t)job->id));
}

static void op_cancel (struct conn *c, json_t *req, json_int_t seq)
{
    struct cancel_filter f = { .state = -1 };
    const char *state = NULL;
    json_int_t sig = 0;
    json_t *done = json_array (), *errors = json_array (), *tasks = NULL;
    aios_error_t err;
    char buf[256];
    size_t i;

    if (proto_unpack (req, &err, "cancel", "{s?o s?s s?s s?s s?I s?o}", "ids",
                      &f.ids, "user", &f.user, "name", &f.name, "state",
                      &state, "signal", &sig, "tasks", &tasks) < 0
        || (f.ids && !json_is_array (f.ids))
        || (tasks && !json_is_array (tasks))) {
        conn_error (c, seq, EPROTO, "%s", f.ids ? err.text : "cancel: bad ids");
        goto out;
    }
    if (state && (f.state = job_state_parse (state)) < 0) {
        conn_error (c, seq, EINVAL, "invalid job state \"%s\"", state);
        goto out;
    }
    if (sig < 0 || sig > 64) {
        conn_error (c, seq, EINVAL, "invalid signal %lld", (long long)sig);
        goto out;
    }
    if (f.ids || tasks) {
        json_t *v;
        json_array_foreach (f.ids, i, v) {
            json_int_t id = json_integer_value (v);
            struct job *job = jobtab_lookup (c->ctld->jobs, (uint64_t)id);
            int count = 1, k;
            if (!json_is_integer (v) || !job) {
                snprintf (buf, sizeof (buf), "job %lld: no such job",
                          (long long)id);
                json_array_append_new (errors, json_string (buf));
                continue;
            }
            /* an array's id: every task of it */
            if (!jobtab_is_array (c->ctld->jobs, (uint64_t)id, &count))
                count = 1;
            for (k = 0; k < count; k++) {
                struct job *t = k ? jobtab_lookup (c->ctld->jobs, (uint64_t)id
                                                   + (uint64_t)k) : job;
                if (!t || (k && t->array_job_id != (uint64_t)id))
                    continue;
                if (count > 1 && job_state_is_final (t->state))
                    continue;
                cancel_add (c, t, &f, (int)sig, done, errors);
            }
        }
        json_array_foreach (tasks, i, v) {
            json_int_t aid = 0, task = -1;
            struct job *t;
            if (json_unpack (v, "[I I]", &aid, &task) < 0
                || !(t = jobtab_array_task (c->ctld->jobs, (uint64_t)aid,
                                            (int)task))) {
                snprintf (buf, sizeof (buf), "job %lld_%lld: no such array task",
                          (long long)aid, (long long)task);
                json_array_append_new (errors, json_string (buf));
                continue;
            }
            cancel_add (c, t, &f, (int)sig, done, errors);
        }
    }
    else {
        if (!f.user && !f.name && f.state < 0) {
            conn_error (c, seq, EINVAL, "cancel: give job ids or a filter");
            goto out;
        }
        for (i = 0; i < jobtab_count (c->ctld->jobs); i++) {
            struct job *job = jobtab_at (c->ctld->jobs, i);
            if (!job_state_is_final (job->state))
                cancel_add (c, job, &f, (int)sig, done, errors);
        }
    }
    conn_send_committed (c, json_pack ("{s:I s:O s:O}", "seq", seq, "cancelled",
                                       done, "errors", errors));
out:
    json_decref (done);
    json_decref (errors);
}

/* --- queue, nodes, wait, ping --------------------------------------------- */

/* ids: jobs, or every task of an array; tasks: [ARRAYID, TASK] pairs. */
static bool queue_match (const struct job *job, json_t *ids, json_t *tasks,
                         json_t *users, json_t *states, const char *partition)
{
    size_t i;
    json_t *v;
    bool hit;

    if (json_array_size (ids) + json_array_size (tasks) > 0
        && !job_named_by (job, ids, tasks))
        return false;
    if (json_array_size (users) > 0) {
        hit = false;
        json_array_foreach (users, i, v)
            hit |= json_is_string (v) && !strcmp (json_string_value (v), job->user);
        if (!hit)
            return false;
    }
    if (json_array_size (states) > 0) {
        hit = false;
        json_array_foreach (states, i, v)
            hit |= json_is_string (v)
                   && job_state_parse (json_string_value (v)) == (int)job->state;
        if (!hit)
            return false;
    }
    return !partition || !strcmp (partition, job->partition);
}

/* The "fields" of a queue request as indexes (id always first); *n = -1
 * for all fields.  NULL with text in err on an unknown field. */
static int *queue_fields (json_t *names, int *n, aios_error_t *err)
{
    int *idx;
    size_t i;
    json_t *v;

    *n = -1;
    if (!names)
        return NULL;
    if (!json_is_array (names)
        || !(idx = calloc (json_array_size (names) + 1, sizeof (int)))) {
        errprintf (err, "queue: \"fields\" must be an array of field names");
        return NULL;
    }
    idx[0] = job_field_index ("id");
    *n = 1;
    json_array_foreach (names, i, v) {
        int k = json_is_string (v) ? job_field_index (json_string_value (v)) : -1;
        if (k < 0) {
            errprintf (err, "queue: unknown field %s",
                       json_is_string (v) ? json_string_value (v) : "(not a string)");
            free (idx);
            *n = -1;
            return NULL;
        }
        if (k != idx[0])
            idx[(*n)++] = k;
    }
    return idx;
}

/* Does a queue request show start estimates (all fields, or est_*)? */
static bool wants_estimates (const int *fields, int nfields)
{
    int i, a = job_field_index ("est_start"), b = job_field_index ("est_nodes");

    if (!fields)
        return true;
    for (i = 0; i < nfields; i++)
        if (fields[i] == a || fields[i] == b)
            return true;
    return false;
}

static void op_queue (struct conn *c, json_t *req, json_int_t seq)
{
    json_t *ids = NULL, *tasks = NULL, *users = NULL, *states = NULL, *names = NULL;
    json_t *jobs;
    const char *partition = NULL;
    aios_error_t err = { "" };
    int *fields, nfields;
    size_t i;

    if (proto_unpack (req, &err, "queue", "{s?o s?o s?o s?o s?s s?o}", "ids", &ids,
                      "tasks", &tasks, "users", &users, "states", &states,
                      "partition", &partition, "fields", &names) < 0) {
        conn_error (c, seq, EPROTO, "%s", err.text);
        return;
    }
    fields = queue_fields (names, &nfields, &err);
    if (names && !fields) {
        conn_error (c, seq, EINVAL, "%s", err.text);
        return;
    }
    if (wants_estimates (fields, nfields))
        sched_refresh_estimates (c->ctld);
    if (!(jobs = json_array ())) {
        free (fields);
        conn_error (c, seq, ENOMEM, "out of memory");
        return;
    }
    for (i = 0; i < jobtab_count (c->ctld->jobs); i++) {
        struct job *job = jobtab_at (c->ctld->jobs, i);
        if (queue_match (job, ids, tasks, users, states, partition))
            json_array_append_new (jobs, job_to_json (job, fields, nfields));
    }
    free (fields);
    conn_send (c, json_pack ("{s:I s:o s:f}", "seq", seq, "jobs", jobs,
                             "now", ctld_now ()));
}

static void op_nodes (struct conn *c, json_t *req, json_int_t seq)
{
    json_t *nodes = json_array ();
    int i;

    for (i = 0; nodes && i < nodetab_count (c->ctld->nodes); i++)
        json_array_append_new (nodes, node_to_json (nodetab_at (c->ctld->nodes, i)));
    conn_send (c, json_pack ("{s:I s:o}", "seq", seq, "nodes", nodes));
}

static json_t *wait_reply (json_int_t seq, const struct job *job)
{
    return json_pack ("{s:I s:I s:s s:i s:i s:s*}", "seq", seq, "id",
                      (json_int_t)job->id, "state", job_state_name (job->state),
                      "exit_code", job->exit_code, "signal", job->term_signal,
                      "reason", job->reason);
}

static void op_wait (struct conn *c, json_t *req, json_int_t seq)
{
    json_int_t id;
    struct job *job;
    char key[32];

    if (json_unpack (req, "{s:I}", "id", &id) < 0) {
        conn_error (c, seq, EPROTO, "wait: expected integer \"id\"");
        return;
    }
    if (!(job = jobtab_lookup (c->ctld->jobs, (uint64_t)id))) {
        conn_error (c, seq, ENOENT, "job %lld: no such job", (long long)id);
        return;
    }
    if (job_state_is_final (job->state)) {
        conn_send_committed (c, wait_reply (seq, job));
        return;
    }
    snprintf (key, sizeof (key), "%lld", (long long)id);
    json_object_set_new (c->waits, key, json_integer (seq));
}

void ops_job_finished (struct ctld *ctld, struct job *job)
{
    struct conn *c;
    char key[32];

    snprintf (key, sizeof (key), "%ju", (uintmax_t)job->id);
    for (c = ctld->conns; c; c = c->next) {
        json_t *seq = json_object_get (c->waits, key);
        if (!seq)
            continue;
        conn_send_committed (c, wait_reply (json_integer_value (seq), job));
        json_object_del (c->waits, key);
    }
}

/* --- hold and release ------------------------------------------------------ */

/* {"ids":[...]}: hold (or release) each pending job.  The first job that
 * cannot be changed stops the request with its reason; the ones before it
 * stay changed. */
static void hold_or_release (struct conn *c, json_t *req, json_int_t seq, bool hold)
{
    struct ctld *ctld = c->ctld;
    const char *op = hold ? "hold" : "release";
    json_t *ids, *v, *done = json_array ();
    aios_error_t err;
    size_t i;

    if (proto_unpack (req, &err, op, "{s:o}", "ids", &ids) < 0 || !json_is_array (ids)) {
        json_decref (done);
        conn_error (c, seq, EPROTO, "%s: expected \"ids\", an array of job ids", op);
        return;
    }
    json_array_foreach (ids, i, v) {
        struct job *job = jobtab_lookup (ctld->jobs, (uint64_t)json_integer_value (v));
        if (!job) {
            json_decref (done);
            conn_error (c, seq, ENOENT, "no job %lld", (long long)json_integer_value (v));
            return;
        }
        if (job->uid != c->uid && !conn_is_privileged (c)) {
            json_decref (done);
            conn_error (c, seq, EPERM, "job %ju: permission denied: it belongs to "
                        "%s, and only its owner, an operator or root may %s it",
                        (uintmax_t)job->id, job->user, op);
            return;
        }
        if (job->state != JOB_PENDING) {
            json_decref (done);
            conn_error (c, seq, EINVAL, "job %ju is %s: only a pending job can be "
                        "%s", (uintmax_t)job->id, job_state_name (job->state),
                        hold ? "held" : "released");
            return;
        }
        if (job->held != hold) {
            job->held = hold;
            job_set_reason (job, hold ? "JobHeldUser" : NULL);
            if (store_add_event (ctld->store, job->id, ctld_now (), "PENDING",
                                 hold ? "held" : "released", &err) < 0
                || ctld_job_save (ctld, job) < 0) {
                json_decref (done);
                conn_error (c, seq, EIO, "%s", err.text);
                return;
            }
        }
        json_array_append_new (done, json_integer ((json_int_t)job->id));
    }
    ctld_sched_request (ctld);
    conn_send_committed (c, json_pack ("{s:I s:o}", "seq", seq, hold ? "held"
                                       : "released", done));
}

/* aios-control requeue: a running job is killed and goes back to PENDING
 * when its node says it ended; a finished or staging one goes back at once
 * (staging is undone by the nodes' release). */
static void op_requeue (struct conn *c, json_t *req, json_int_t seq)
{
    struct ctld *ctld = c->ctld;
    json_t *ids = NULL, *done = json_array (), *errors = json_array (), *v;
    char buf[256], reason[96];
    size_t i;

    if (json_unpack (req, "{s:o}", "ids", &ids) < 0 || !json_is_array (ids)) {
        conn_error (c, seq, EPROTO, "requeue: expected an array \"ids\"");
        goto out;
    }
    snprintf (reason, sizeof (reason), "requeued by %s", c->user);
    json_array_foreach (ids, i, v) {
        struct job *job = jobtab_lookup (ctld->jobs, (uint64_t)json_integer_value (v));
        const char *why = NULL;
        if (!json_is_integer (v) || !job)
            why = "no such job";
        else if (job->uid != c->uid && !conn_is_privileged (c))
            why = "permission denied: only its owner, an operator or root may "
                  "requeue it";
        else if (job->state == JOB_PENDING)
            why = "it is pending already";
        else if (job->requeue_pending || job->cancel_requested)
            why = "it is being ended already";
        if (why) {
            snprintf (buf, sizeof (buf), "job %lld: %s",
                      (long long)json_integer_value (v), why);
            json_array_append_new (errors, json_string (buf));
            continue;
        }
        if (job_state_is_final (job->state) || job->state == JOB_STAGING)
            ctld_job_requeue (ctld, job, reason);
        else {
            job->requeue_pending = true;
            if (job->state == JOB_RUNNING)
                ctld_job_transition (ctld, job, JOB_COMPLETING, reason);
            else
                ctld_job_save (ctld, job);
            nodeops_terminate (ctld, job);
        }
        json_array_append_new (done, json_integer ((json_int_t)job->id));
    }
    conn_send_committed (c, json_pack ("{s:I s:O s:O}", "seq", seq, "requeued",
                                       done, "errors", errors));
out:
    json_decref (done);
    json_decref (errors);
}

/* {"nodes":HOSTLIST,"drain":B,"reason":TEXT}: drain (no new jobs; running
 * ones go on) or resume nodes.  Root, operators and the daemon user only. */
static void op_drain (struct conn *c, json_t *req, json_int_t seq)
{
    struct ctld *ctld = c->ctld;
    const char *expr, *reason = NULL;
    int drain;
    char **names;
    size_t n, i;
    aios_error_t err;

    if (proto_unpack (req, &err, "drain", "{s:s s:b s?s}", "nodes", &expr,
                      "drain", &drain, "reason", &reason) < 0) {
        conn_error (c, seq, EPROTO, "%s", err.text);
        return;
    }
    if (!conn_is_privileged (c)) {
        conn_error (c, seq, EPERM, "permission denied: only root and operators "
                    "may %s nodes", drain ? "drain" : "resume");
        return;
    }
    if (drain && (!reason || !*reason)) {
        conn_error (c, seq, EINVAL, "drain: give a reason (it shows in aios-nodes)");
        return;
    }
    if (!(names = hostlist_expand (expr, &n, &err))) {
        conn_error (c, seq, EINVAL, "%s", err.text);
        return;
    }
    for (i = 0; i < n; i++)
        if (!nodetab_lookup (ctld->nodes, names[i])) {
            conn_error (c, seq, ENOENT, "no node %s", names[i]);
            goto done;
        }
    for (i = 0; i < n; i++) {
        struct node *nd = nodetab_lookup (ctld->nodes, names[i]);
        char why[256];
        nd->drain = drain;
        snprintf (why, sizeof (why), "%s (by %s)", reason ? reason : "", c->user);
        if (drain)
            node_set_reason (nd, why, ctld_now ());
        else if (nd->base == NODE_UP)
            node_set_reason (nd, NULL, ctld_now ());
        log_info ("node %s %s by %s%s%s", nd->name, drain ? "drained" : "resumed",
                  c->user, drain ? ": " : "", drain ? reason : "");
        events_node (ctld, nd);
    }
    ctld_sched_request (ctld);
    conn_send (c, json_pack ("{s:I}", "seq", seq));
done:
    hostlist_free (names);
}

static void op_hold (struct conn *c, json_t *req, json_int_t seq)
{
    hold_or_release (c, req, seq, true);
}

static void op_release (struct conn *c, json_t *req, json_int_t seq)
{
    hold_or_release (c, req, seq, false);
}

/* --- why ----------------------------------------------------------------- */

static int pos_cmp (const void *a, const void *b)
{
    const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;
    return x->position - y->position;
}

/* Pending jobs of job's partition ahead of it, by position. */
static json_t *jobs_ahead (struct ctld *ctld, const struct job *job)
{
    size_t i, n = 0, total = jobtab_count (ctld->jobs);
    struct job **v = calloc (total + 1, sizeof (*v));
    json_t *a = json_array ();

    for (i = 0; v && i < total; i++) {
        struct job *o = jobtab_at (ctld->jobs, i);
        if (o != job && o->state == JOB_PENDING && o->position > 0
            && o->position < job->position && !strcmp (o->partition, job->partition))
            v[n++] = o;
    }
    if (v)
        qsort (v, n, sizeof (*v), pos_cmp);
    for (i = 0; a && v && i < n && i < 20; i++)
        json_array_append_new (a, json_integer ((json_int_t)v[i]->id));
    free (v);
    return a;
}

static json_t *nodes_unavailable (struct ctld *ctld, const struct job *job)
{
    const struct conf_partition *p = conf_partition_lookup (ctld->conf, job->partition);
    json_t *a = json_array ();
    size_t i;

    for (i = 0; p && a && i < p->nnodes; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, p->nodes[i]);
        if (n && !node_usable (n))
            json_array_append_new (a, json_pack ("{s:s s:s s:s?}", "name", n->name,
                                                 "state", node_state_name (n),
                                                 "reason", n->reason));
    }
    return a;
}

static void add_hint (json_t *hints, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void add_hint (json_t *hints, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start (ap, fmt);
    vsnprintf (buf, sizeof (buf), fmt, ap);
    va_end (ap);
    json_array_append_new (hints, json_string (buf));
}

/* Would a shorter time limit let the job start now (past the backfill
 * reservation that holds it)?  Longest such limit in whole minutes. */
static void hint_time (struct ctld *ctld, struct job *job, json_t *hints)
{
    struct job *holder = job->blocked_by ? jobtab_lookup (ctld->jobs, job->blocked_by)
                                         : NULL;
    long saved = job->time_limit, cand;
    struct sched_test t;
    char buf[32];
    double now = ctld_now ();

    if (!holder || holder->est_start <= now || strcmp (ctld->conf->backfill, "easy"))
        return;
    cand = (long)floor ((holder->est_start - now) / 60.0) * 60;
    if (cand < 60 || (saved >= 0 && cand >= saved))
        return;
    job->time_limit = cand;
    if (sched_test (ctld, job, true, &t) == 0 && t.start)
        add_hint (hints, "would start now with --time <= %s (it would end before "
                  "job %ju, which holds the backfill reservation, starts)",
                  format_time (cand, buf, sizeof (buf)), (uintmax_t)holder->id);
    job->time_limit = saved;
    free (t.nodes);
}

/* Would fewer nodes (or tasks) let the job start now? */
static void hint_size (struct ctld *ctld, struct job *job, json_t *hints)
{
    int nodes = job->nodes, ntasks = job->ntasks, k, tries = 0;
    struct sched_test t;

    if (nodes > 1) {
        for (k = nodes - 1; k >= 1 && tries < 12; tries++) {
            int tk = ntasks * k / nodes;
            job->nodes = k;
            job->ntasks = tk < k ? k : tk;
            memset (&t, 0, sizeof (t));
            if (sched_test (ctld, job, true, &t) == 0 && t.start) {
                if (job->ntasks != ntasks)
                    add_hint (hints, "would start now with --nodes <= %d "
                              "(and --ntasks <= %d)", k, job->ntasks);
                else
                    add_hint (hints, "would start now with --nodes <= %d", k);
                free (t.nodes);
                break;
            }
            free (t.nodes);
            k = k > 16 ? k * 3 / 4 : k - 1;
        }
    } else if (ntasks > 1) {
        for (k = ntasks / 2; k >= 1 && tries < 12; k /= 2, tries++) {
            job->ntasks = k;
            job->nodes = nodes > k ? k : nodes;
            memset (&t, 0, sizeof (t));
            if (sched_test (ctld, job, true, &t) == 0 && t.start) {
                add_hint (hints, "would start now with --ntasks <= %d", k);
                free (t.nodes);
                break;
            }
            free (t.nodes);
        }
    }
    job->nodes = nodes;
    job->ntasks = ntasks;
}

static void op_why (struct conn *c, json_t *req, json_int_t seq)
{
    struct ctld *ctld = c->ctld;
    json_int_t id;
    struct job *job;
    json_t *rep, *hints;
    aios_error_t err;
    const struct conf_partition *p;
    char buf[32];

    if (proto_unpack (req, &err, "why", "{s:I}", "id", &id) < 0) {
        conn_error (c, seq, EPROTO, "%s", err.text);
        return;
    }
    if (!(job = jobtab_lookup (ctld->jobs, (uint64_t)id))) {
        conn_error (c, seq, ENOENT, "no job %lld (unknown or purged)", (long long)id);
        return;
    }
    sched_refresh_estimates (ctld);
    rep = json_pack ("{s:I s:I s:s s:s s:s?}", "seq", seq, "id", id, "state",
                     job_state_name (job->state), "partition", job->partition,
                     "reason", job->reason);
    if (!rep) {
        conn_error (c, seq, ENOMEM, "out of memory");
        return;
    }
    if (job->stage_in)
        json_object_set (rep, "stage_in", job->stage_in);
    if (job->state == JOB_STAGING)
        json_object_set_new (rep, "staging",
                             json_pack ("{s:I s:I}", "done",
                                        (json_int_t)job->stage_done, "total",
                                        (json_int_t)job->stage_total));
    if (job->state != JOB_PENDING) {
        if (job->nodelist)
            json_object_set_new (rep, "nodes", json_string (job->nodelist));
        if (job->start_time > 0)
            json_object_set_new (rep, "start_time", json_real (job->start_time));
        conn_send (c, rep);
        return;
    }
    hints = json_array ();
    p = conf_partition_lookup (ctld->conf, job->partition);
    json_object_set_new (rep, "reasons", reason_list (job->reasons));
    json_object_set_new (rep, "position", json_integer (job->position));
    json_object_set_new (rep, "priority", json_real (job->priority));
    json_object_set_new (rep, "ahead", jobs_ahead (ctld, job));
    json_object_set_new (rep, "nahead", json_integer (job->position > 0
                                                      ? job->position - 1 : 0));
    json_object_set_new (rep, "unavailable", nodes_unavailable (ctld, job));
    json_object_set_new (rep, "policy", json_string (ctld->conf->policy));
    json_object_set_new (rep, "backfill", json_string (ctld->conf->backfill));
    if (job->blocked_by)
        json_object_set_new (rep, "blocked_by", json_integer ((json_int_t)job->blocked_by));
    if (job->est_start >= 0)
        json_object_set_new (rep, "est_start", json_real (job->est_start));
    if (job->est_nodes)
        json_object_set_new (rep, "est_nodes", json_string (job->est_nodes));
    if (job->reasons & SCHED_R_HELD)
        add_hint (hints, "it is held (submitted with --hold): it does not start "
                  "until released");
    if ((job->reasons & SCHED_R_PART_TIME) && p)
        add_hint (hints, "partition %s allows at most --time=%s", p->name,
                  format_time (p->max_time, buf, sizeof (buf)));
    if (job->reasons & SCHED_R_NODES_DOWN)
        add_hint (hints, "it fits only if the unavailable nodes come back");
    if ((job->reasons & SCHED_R_PART_NODES) && p)
        add_hint (hints, "it cannot fit in partition %s as configured now: "
                  "ask for fewer resources", p->name);
    if ((job->reasons & (SCHED_R_RESOURCES | SCHED_R_PRIORITY | SCHED_R_RESERVATION))
        && !(job->reasons & SCHED_R_BLOCKING)) {
        hint_time (ctld, job, hints);
        hint_size (ctld, job, hints);
    }
    json_object_set_new (rep, "hints", hints);
    conn_send (c, rep);
}

/* --- job steps (aios-run) -------------------------------------------------- */

/* The job, if c may run steps in it (owner, operator or root). */
static struct job *step_job (struct conn *c, json_t *req, json_int_t seq,
                             const char *op)
{
    json_int_t id;
    struct job *job;
    aios_error_t err;

    if (proto_unpack (req, &err, op, "{s:I}", "id", &id) < 0) {
        conn_error (c, seq, EPROTO, "%s", err.text);
        return NULL;
    }
    if (!(job = jobtab_lookup (c->ctld->jobs, (uint64_t)id))) {
        conn_error (c, seq, ENOENT, "no job %lld", (long long)id);
        return NULL;
    }
    if (c->uid != 0 && c->uid != job->uid && !conf_is_operator (c->ctld->conf, c->user)) {
        conn_error (c, seq, EPERM, "job %lld belongs to %s", (long long)id, job->user);
        return NULL;
    }
    return job;
}

static void op_step_begin (struct conn *c, json_t *req, json_int_t seq)
{
    struct job *job = step_job (c, req, seq, "step_begin");
    json_int_t ntasks = 0;
    const char *nodes = "", *name = "";
    aios_error_t err;
    json_t *rec;

    if (!job)
        return;
    if (job->state != JOB_RUNNING) {
        conn_error (c, seq, EINVAL, "job %ju is %s: steps run only in a running "
                    "job", (uintmax_t)job->id, job_state_name (job->state));
        return;
    }
    json_unpack (req, "{s?I s?s s?s}", "ntasks", &ntasks, "nodes", &nodes,
                 "name", &name);
    job->nsteps++;
    rec = json_pack ("{s:I s:i s:s s:I s:s s:s s:f}", "job", (json_int_t)job->id,
                     "step", job->nsteps, "name", name, "ntasks", ntasks,
                     "nodes", nodes, "state", "RUNNING", "start_time", ctld_now ());
    if (!rec || store_put_step (c->ctld->store, job->id, job->nsteps, rec, &err) < 0
        || ctld_job_save (c->ctld, job) < 0) {
        json_decref (rec);
        conn_error (c, seq, EIO, "cannot record the step");
        return;
    }
    json_decref (rec);
    conn_send_committed (c, json_pack ("{s:I s:i}", "seq", seq, "step", job->nsteps));
}

static void op_step_end (struct conn *c, json_t *req, json_int_t seq)
{
    struct job *job = step_job (c, req, seq, "step_end");
    json_int_t step = 0, code = 0, sig = 0;
    const char *state = "COMPLETED";
    json_t *steps, *rec = NULL, *v;
    aios_error_t err;
    size_t i;

    if (!job)
        return;
    json_unpack (req, "{s?I s?I s?I s?s}", "step", &step, "exit_code", &code,
                 "signal", &sig, "state", &state);
    steps = store_get_steps (c->ctld->store, job->id, &err);
    json_array_foreach (steps, i, v)
        if (json_integer_value (json_object_get (v, "step")) == step)
            rec = v;
    if (!rec) {
        json_decref (steps);
        conn_error (c, seq, ENOENT, "job %ju has no step %lld", (uintmax_t)job->id,
                    (long long)step);
        return;
    }
    json_object_set_new (rec, "state", json_string (state));
    json_object_set_new (rec, "exit_code", json_integer (code));
    json_object_set_new (rec, "signal", json_integer (sig));
    json_object_set_new (rec, "end_time", json_real (ctld_now ()));
    if (store_put_step (c->ctld->store, job->id, (int)step, rec, &err) < 0) {
        json_decref (steps);
        conn_error (c, seq, EIO, "%s", err.text);
        return;
    }
    ctld_dirty (c->ctld);
    json_decref (steps);
    conn_send_committed (c, json_pack ("{s:I}", "seq", seq));
}

static void op_steps (struct conn *c, json_t *req, json_int_t seq)
{
    struct job *job = step_job (c, req, seq, "steps");
    aios_error_t err;
    json_t *steps;

    if (!job)
        return;
    if (!(steps = store_get_steps (c->ctld->store, job->id, &err))) {
        conn_error (c, seq, EIO, "%s", err.text);
        return;
    }
    conn_send (c, json_pack ("{s:I s:o}", "seq", seq, "steps", steps));
}

static void op_stats (struct conn *c, json_t *req, json_int_t seq)
{
    json_t *rep = sched_stats_json (c->ctld);

    (void)req;
    if (!rep) {
        conn_error (c, seq, ENOMEM, "out of memory");
        return;
    }
    json_object_set_new (rep, "seq", json_integer (seq));
    json_object_set_new (rep, "rpcs", json_integer ((json_int_t)c->ctld->rpcs));
    json_object_set_new (rep, "uptime", json_real (ctld_now () - c->ctld->start_time));
    conn_send (c, rep);
}

static void op_ping (struct conn *c, json_t *req, json_int_t seq)
{
    conn_send (c, json_pack ("{s:I s:f s:I s:I s:I}", "seq", seq, "uptime",
                             ctld_now () - c->ctld->start_time, "rpcs",
                             (json_int_t)c->ctld->rpcs, "passes",
                             (json_int_t)c->ctld->passes, "commits",
                             (json_int_t)store_commits (c->ctld->store)));
}

static const struct {
    const char *op;
    op_f fn;
} client_ops[] = {
    { "submit", op_submit },
    { "cancel", op_cancel },
    { "queue", op_queue },
    { "nodes", op_nodes },
    { "wait", op_wait },
    { "ping", op_ping },
    { "why", op_why },
    { "subscribe", events_subscribe },
    { "hold", op_hold },
    { "drain", op_drain },
    { "release", op_release },
    { "stats", op_stats },
    { "step_begin", op_step_begin },
    { "step_end", op_step_end },
    { "steps", op_steps },
    { "acct", acct_request },
    { "requeue", op_requeue },
    { "update", admin_update },
    { "partitions", admin_partitions },
    { "config", admin_config },
    { "reconfigure", admin_reconfigure },
    { "shutdown", admin_shutdown },
};

op_f ops_client_lookup (const char *op)
{
    size_t i;

    for (i = 0; i < sizeof (client_ops) / sizeof (client_ops[0]); i++) {
        if (!strcmp (client_ops[i].op, op))
            return client_ops[i].fn;
    }
    return NULL;
}
