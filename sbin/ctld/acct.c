/* acct.c - aios-acct: the job history, read on a thread of its own
 *
 * acct_request() runs on the loop: it checks the request and who asks, and
 * queues a work item.  The worker thread has its own read-only connection
 * to the state file; in WAL mode it reads the last committed state and
 * never blocks the controller's writes.  It runs the query, builds the
 * answer and encodes the whole reply frame, then hands the item back on the
 * done queue and wakes the loop with a byte on a pipe; the loop writes the
 * frame to the connection if that is still open.  The loop never waits for
 * the worker: the mutex guards only the two queues.
 *
 * A finished job is seen once its final state is committed, at the end of
 * the loop turn in which it ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "conn.h"
#include "ctld.h"
#include "frame.h"
#include "hostlist.h"
#include "job.h"
#include "log.h"
#include "parse.h"
#include "proto.h"

enum {
    ACCT_QUEUE_MAX = 64,    /* queries waiting for the worker */
    ACCT_LIST_MAX = 10000,  /* job ids or users in one query */
    ACCT_SPANS_MAX = 200,   /* ids looked up one by one (SQL depth) */
};

struct acct_id {
    uint64_t id;
    int task;               /* array task; -1: the job, or all its tasks */
};

/* A checked query.  The worker owns it once it is queued. */
struct acct_query {
    struct acct_id *ids;    /* NULL: any */
    size_t nids;
    char **users;           /* NULL: any */
    size_t nusers;
    bool own_only;          /* only the jobs of uid */
    uint32_t uid;
    unsigned states;        /* bits 1 << enum job_state (final states) */
    char **parts;           /* partitions; NULL: any */
    size_t nparts;
    double start;           /* ended at or after; 0: no bound */
    double end;             /* submitted at or before; 0: no bound */
    bool steps;
    bool summary;
};

struct acct_work {
    struct conn *c;         /* who asked: only compared, never followed
                             * (the connection may be gone) */
    uid_t uid;
    char peer[128];
    json_int_t seq;
    struct acct_query q;
    char *frame;            /* the reply, encoded by the worker */
    size_t len;
    struct acct_work *next;
};

struct acct {
    struct ctld *ctld;      /* loop side only */
    sqlite3 *db;            /* worker side only */
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;   /* guards stop, todo, ntodo, done */
    pthread_cond_t cond;
    bool stop;
    struct acct_work *todo;
    size_t ntodo;
    struct acct_work *done;
    int wake[2];            /* worker -> loop: "done has items" */
    struct event *wake_ev;
};

static void work_free (struct acct_work *w)
{
    size_t i;

    if (!w)
        return;
    for (i = 0; i < w->q.nusers; i++)
        free (w->q.users[i]);
    free (w->q.users);
    for (i = 0; i < w->q.nparts; i++)
        free (w->q.parts[i]);
    free (w->q.parts);
    free (w->q.ids);
    free (w->frame);
    free (w);
}

static void list_append (struct acct_work **list, struct acct_work *w)
{
    while (*list)
        list = &(*list)->next;
    w->next = NULL;
    *list = w;
}

static void list_free (struct acct_work *w)
{
    while (w) {
        struct acct_work *next = w->next;
        work_free (w);
        w = next;
    }
}

/* --- the worker: one query ------------------------------------------------ */

/* What a row gives, extracted by SQLite in one pass over its JSON. */
enum {
    X_NAME, X_USER, X_UID, X_PARTITION, X_SUBMIT, X_LIMIT, X_NODES,
    X_NTASKS, X_CPT, X_ARRAY_JOB, X_ARRAY_TASK, X_REASON, X_START, X_END,
    X_NODELIST, X_ALLOC, X_EXIT, X_SIGNAL, X_CPU, X_RSS, X_RESTARTS, X_COUNT
};
static const char *const x_path[X_COUNT] = {
    [X_NAME] = "$.req.name", [X_USER] = "$.req.user", [X_UID] = "$.req.uid",
    [X_PARTITION] = "$.req.partition", [X_SUBMIT] = "$.req.submit_time",
    [X_LIMIT] = "$.req.time_limit", [X_NODES] = "$.req.nodes",
    [X_NTASKS] = "$.req.ntasks", [X_CPT] = "$.req.cpus_per_task",
    [X_ARRAY_JOB] = "$.req.array_job_id", [X_ARRAY_TASK] = "$.req.array_task_id",
    [X_REASON] = "$.rt.reason", [X_START] = "$.rt.start_time",
    [X_END] = "$.rt.end_time", [X_NODELIST] = "$.rt.nodelist",
    [X_ALLOC] = "$.rt.alloc", [X_EXIT] = "$.rt.exit_code",
    [X_SIGNAL] = "$.rt.signal", [X_CPU] = "$.rt.cpu_time",
    [X_RSS] = "$.rt.max_rss_kb", [X_RESTARTS] = "$.rt.restarts",
};

/* One job row: the values of x_path[] (a JSON array) and what follows. */
struct row {
    json_int_t id;
    enum job_state state;
    json_t *x;
    const char *user;
    double submit, start, end;
    json_int_t elapsed;     /* whole seconds, 0 if it never started */
    int ncpus, nnodes, gpus;
};

static const char *xs (const struct row *r, int i)
{
    return json_string_value (json_array_get (r->x, (size_t)i));
}

static json_int_t xi (const struct row *r, int i)
{
    return (json_int_t)json_number_value (json_array_get (r->x, (size_t)i));
}

static double xr (const struct row *r, int i)
{
    return json_number_value (json_array_get (r->x, (size_t)i));
}

/* CPUs, nodes and GPUs: of the allocation, or as asked if it had none. */
static void row_sizes (struct row *r)
{
    json_t *alloc = json_array_get (r->x, X_ALLOC), *a;
    size_t i;

    r->ncpus = r->gpus = 0;
    json_array_foreach (alloc, i, a) {
        r->ncpus += (int)json_integer_value (json_object_get (a, "cpus"));
        r->gpus += (int)json_array_size (json_object_get (a, "gpus"));
    }
    r->nnodes = (int)json_array_size (alloc);
    if (r->nnodes == 0) {
        r->ncpus = (int)(xi (r, X_NTASKS) * xi (r, X_CPT));
        r->nnodes = xi (r, X_NODES) > 0 ? (int)xi (r, X_NODES) : 1;
    }
}

static bool row_in_ids (const struct acct_query *q, const struct row *r)
{
    uint64_t ajob = (uint64_t)xi (r, X_ARRAY_JOB);
    size_t i;

    if (!q->ids)
        return true;
    for (i = 0; i < q->nids; i++) {
        const struct acct_id *k = &q->ids[i];
        if (k->task < 0 && (k->id == (uint64_t)r->id || (ajob && k->id == ajob)))
            return true;
        if (k->task >= 0 && ajob == k->id && xi (r, X_ARRAY_TASK) == k->task)
            return true;
    }
    return false;
}

static bool in_list (char **list, size_t n, const char *s)
{
    size_t i;

    if (!list)
        return true;
    for (i = 0; s && i < n; i++)
        if (!strcmp (list[i], s))
            return true;
    return false;
}

static bool row_matches (const struct acct_query *q, const struct row *r)
{
    if (q->own_only && xi (r, X_UID) != (json_int_t)q->uid)
        return false;
    if (!in_list (q->users, q->nusers, r->user)
        || !in_list (q->parts, q->nparts, xs (r, X_PARTITION)))
        return false;
    if (q->start > 0 && r->end < q->start)
        return false;
    if (q->end > 0 && (double)(long long)r->submit > q->end)
        return false;   /* to the second: "now" takes this second's jobs */
    return row_in_ids (q, r);
}

/* rc accumulates failures of json_object_set_new() (ENOMEM). */
static void put (json_t *o, const char *key, json_t *v, int *rc)
{
    if (json_object_set_new (o, key, v) < 0)
        *rc = -1;
}

static json_t *job_id_string (const struct row *r)
{
    if (xi (r, X_ARRAY_JOB) > 0)
        return json_sprintf ("%lld_%lld", (long long)xi (r, X_ARRAY_JOB),
                             (long long)xi (r, X_ARRAY_TASK));
    return json_sprintf ("%lld", (long long)r->id);
}

/* Who, what, how it ended. */
static void put_job (json_t *o, const struct row *r, int *rc)
{
    const char *s;

    put (o, "id", json_integer (r->id), rc);
    put (o, "job_id", job_id_string (r), rc);
    if (xi (r, X_ARRAY_JOB) > 0) {
        put (o, "array_job_id", json_integer (xi (r, X_ARRAY_JOB)), rc);
        put (o, "array_task_id", json_integer (xi (r, X_ARRAY_TASK)), rc);
    }
    put (o, "name", json_string ((s = xs (r, X_NAME)) ? s : ""), rc);
    put (o, "user", json_string (r->user ? r->user : ""), rc);
    put (o, "uid", json_integer (xi (r, X_UID)), rc);
    put (o, "partition", json_string ((s = xs (r, X_PARTITION)) ? s : ""), rc);
    put (o, "state", json_string (job_state_name (r->state)), rc);
    put (o, "exit_code", json_integer (xi (r, X_EXIT)), rc);
    put (o, "signal", json_integer (xi (r, X_SIGNAL)), rc);
    if ((s = xs (r, X_REASON)))
        put (o, "reason", json_string (s), rc);
}

/* When, where, and what it used. */
static void put_usage (json_t *o, const struct row *r, int *rc)
{
    double wait = (r->start > 0 ? r->start : r->end) - r->submit;
    const char *s;

    put (o, "submit_time", json_real (r->submit), rc);
    if (r->start > 0)
        put (o, "start_time", json_real (r->start), rc);
    put (o, "end_time", json_real (r->end), rc);
    put (o, "wait", json_integer (wait > 0 ? (json_int_t)wait : 0), rc);
    put (o, "elapsed", json_integer (r->elapsed), rc);
    put (o, "time_limit", json_integer (xi (r, X_LIMIT)), rc);
    put (o, "nnodes", json_integer (r->nnodes), rc);
    put (o, "ncpus", json_integer (r->ncpus), rc);
    put (o, "ntasks", json_integer (xi (r, X_NTASKS)), rc);
    if ((s = xs (r, X_NODELIST)))
        put (o, "nodelist", json_string (s), rc);
    put (o, "cputime", json_integer (r->elapsed * r->ncpus), rc);
    /* Measured by the node daemon when the batch script ended: a job that
     * never started, or whose node failed, has no measurement. */
    if (r->start > 0 && r->state != JOB_NODE_FAIL) {
        put (o, "total_cpu", json_real (xr (r, X_CPU)), rc);
        put (o, "max_rss_kb", json_integer (xi (r, X_RSS)), rc);
    }
    put (o, "gpus", json_integer (r->gpus), rc);
    if (xi (r, X_RESTARTS) > 0)
        put (o, "restarts", json_integer (xi (r, X_RESTARTS)), rc);
}

static json_t *job_json (const struct row *r)
{
    json_t *o = json_object ();
    int rc = 0;

    if (!o)
        return NULL;
    put_job (o, r, &rc);
    put_usage (o, r, &rc);
    if (rc < 0) {
        json_decref (o);
        return NULL;
    }
    return o;
}

/* A step as aios-run recorded it.  One that has no end ended with its job. */
static json_t *step_json (const struct row *r, const char *job_id, json_t *s)
{
    json_int_t step = json_integer_value (json_object_get (s, "step"));
    const char *nodes = json_string_value (json_object_get (s, "nodes"));
    const char *state = json_string_value (json_object_get (s, "state"));
    const char *name = json_string_value (json_object_get (s, "name"));
    double start = json_number_value (json_object_get (s, "start_time"));
    double end = json_number_value (json_object_get (s, "end_time"));
    size_t nnodes = 0;
    char **names = nodes && *nodes ? hostlist_expand (nodes, &nnodes, NULL) : NULL;
    char sid[80];

    hostlist_free (names);
    if (end <= 0) {
        end = r->end;
        state = job_state_name (r->state);
    }
    snprintf (sid, sizeof (sid), "%s.%lld", job_id, (long long)step);
    return json_pack ("{s:I s:s s:s s:I s:s s:I s:s s:I s:I s:f s:f s:I}",
                      "step", step, "step_id", sid, "name", name ? name : "",
                      "ntasks", json_integer_value (json_object_get (s, "ntasks")),
                      "nodelist", nodes ? nodes : "", "nnodes", (json_int_t)nnodes,
                      "state", state ? state : "UNKNOWN", "exit_code",
                      json_integer_value (json_object_get (s, "exit_code")),
                      "signal", json_integer_value (json_object_get (s, "signal")),
                      "start_time", start, "end_time", end, "elapsed",
                      (json_int_t)(start > 0 && end > start ? end - start : 0));
}

/* What one query walks the rows with. */
struct scan {
    struct acct *a;
    const struct acct_query *q;
    sqlite3_stmt *steps;    /* a job's steps; NULL: no steps wanted */
    json_t *out;            /* jobs (array), or usage by user (object) */
    aios_error_t *err;
};
typedef int (*scan_f) (struct scan *sc, const struct row *r);

static int db_fail (struct acct *a, aios_error_t *err, const char *what)
{
    int code = sqlite3_errcode (a->db);

    errno = code == SQLITE_INTERRUPT ? EINTR : EIO;
    return errprintf (err, "state file: %s: %s", what, sqlite3_errmsg (a->db));
}

static int nomem (aios_error_t *err)
{
    errno = ENOMEM;
    return errprintf (err, "out of memory");
}

/* The ids a -j item may stand for: the job, or the tasks of the array it
 * starts, which were given the ids that follow it (ops.c submit_array()). */
struct id_span {
    uint64_t lo, hi;
};

static int id_spans (struct scan *sc, struct id_span **out)
{
    const struct acct_query *q = sc->q;
    struct id_span *v = calloc (q->nids + 1, sizeof (*v));
    sqlite3_stmt *st = NULL;
    size_t i;

    *out = v;
    if (!v)
        return nomem (sc->err);
    if (sqlite3_prepare_v2 (sc->a->db, "SELECT json_extract(data, "
                            "'$.req.array_count') FROM jobs WHERE id = ?", -1,
                            &st, NULL) != SQLITE_OK)
        return db_fail (sc->a, sc->err, "query");
    for (i = 0; i < q->nids; i++) {
        sqlite3_int64 n = 0;
        sqlite3_bind_int64 (st, 1, (sqlite3_int64)q->ids[i].id);
        if (sqlite3_step (st) == SQLITE_ROW)
            n = sqlite3_column_int64 (st, 0);
        sqlite3_reset (st);
        v[i].lo = q->ids[i].id;
        v[i].hi = q->ids[i].id + (uint64_t)(n > 1 ? n - 1 : 0);
    }
    sqlite3_finalize (st);
    return 0;
}

static void append_states (sqlite3_str *s, unsigned states)
{
    const char *sep = "";
    int st;

    sqlite3_str_appendall (s, "state IN (");
    for (st = 0; st < JOB_STATE_COUNT; st++) {
        if (states & (1u << st)) {
            sqlite3_str_appendf (s, "%s'%s'", sep, job_state_name (st));
            sep = ", ";
        }
    }
    sqlite3_str_appendall (s, ")");
}

/* The rows of the final states q asks for (state names and ids are ours,
 * never the client's text); the other filters are applied in C.  With a
 * start (-S, and the default window), the jobs are first found among the
 * events: a job's final event has its end time, and reading the small
 * event rows spares parsing the JSON of every job in the history. */
static char *query_sql (const struct acct_query *q, const struct id_span *span)
{
    sqlite3_str *s = sqlite3_str_new (NULL);
    size_t i;

    sqlite3_str_appendall (s, "SELECT id, state, json_extract(data");
    for (i = 0; i < X_COUNT; i++)
        sqlite3_str_appendf (s, ", '%s'", x_path[i]);
    sqlite3_str_appendall (s, ") FROM jobs WHERE ");
    append_states (s, q->states);
    if (q->start > 0) {
        sqlite3_str_appendall (s, " AND id IN (SELECT job FROM events WHERE "
                               "time >= ?1 AND ");
        append_states (s, q->states);
        sqlite3_str_appendall (s, ")");
    }
    if (q->nids > ACCT_SPANS_MAX) {     /* one bound: the smallest id */
        uint64_t min = UINT64_MAX;
        for (i = 0; i < q->nids; i++)
            min = span[i].lo < min ? span[i].lo : min;
        sqlite3_str_appendf (s, " AND id >= %llu", (unsigned long long)min);
    }
    for (i = 0; q->nids <= ACCT_SPANS_MAX && i < q->nids; i++)
        sqlite3_str_appendf (s, "%s id BETWEEN %llu AND %llu", i ? " OR" : " AND (",
                             (unsigned long long)span[i].lo,
                             (unsigned long long)span[i].hi);
    if (q->nids > 0 && q->nids <= ACCT_SPANS_MAX)
        sqlite3_str_appendall (s, ")");
    sqlite3_str_appendall (s, " ORDER BY id");
    return sqlite3_str_finish (s);
}

static void row_read (struct row *r, sqlite3_stmt *st)
{
    r->id = (json_int_t)sqlite3_column_int64 (st, 0);
    r->user = xs (r, X_USER);
    r->submit = xr (r, X_SUBMIT);
    r->start = xr (r, X_START);
    r->end = xr (r, X_END);
    r->elapsed = r->start > 0 && r->end > r->start
                     ? (json_int_t)(r->end - r->start) : 0;
}

static int scan (struct scan *sc, scan_f cb)
{
    struct id_span *span = NULL;
    char *sql = NULL;
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (id_spans (sc, &span) < 0) {
        rc = -1;
        goto out;
    }
    if (!(sql = query_sql (sc->q, span))) {
        rc = nomem (sc->err);
        goto out;
    }
    if (sqlite3_prepare_v2 (sc->a->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail (sc->a, sc->err, "query");
        goto out;
    }
    if (sc->q->start > 0)
        sqlite3_bind_double (st, 1, sc->q->start);
    while ((step = sqlite3_step (st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text (st, 2);
        int s = job_state_parse ((const char *)sqlite3_column_text (st, 1));
        struct row r = { .state = (enum job_state)s };

        if (s < 0 || !text || !(r.x = json_loads (text, 0, NULL)))
            continue;   /* not a job record we can read */
        row_read (&r, st);
        if (row_matches (sc->q, &r)) {
            row_sizes (&r);
            rc = cb (sc, &r);
        }
        json_decref (r.x);
        if (rc < 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail (sc->a, sc->err, "read jobs");
out:
    sqlite3_finalize (st);
    sqlite3_free (sql);
    free (span);
    return rc;
}

static json_t *steps_of (struct scan *sc, const struct row *r, const char *job_id)
{
    json_t *a = json_array ();

    sqlite3_bind_int64 (sc->steps, 1, (sqlite3_int64)r->id);
    while (a && sqlite3_step (sc->steps) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text (sc->steps, 0);
        json_t *rec = json_loads (text ? text : "", 0, NULL);
        if (rec && json_array_append_new (a, step_json (r, job_id, rec)) < 0) {
            json_decref (a);
            a = NULL;
        }
        json_decref (rec);
    }
    sqlite3_reset (sc->steps);
    return a;
}

static int add_job (struct scan *sc, const struct row *r)
{
    json_t *o = job_json (r), *steps;

    if (o && sc->steps) {
        steps = steps_of (sc, r, json_string_value (json_object_get (o, "job_id")));
        if (!steps || json_object_set_new (o, "steps", steps) < 0) {
            json_decref (o);
            o = NULL;
        }
    }
    if (!o || json_array_append_new (sc->out, o) < 0)
        return nomem (sc->err);
    return 0;
}

static void add_int (json_t *o, const char *key, json_int_t n)
{
    json_t *v = json_object_get (o, key);

    json_integer_set (v, json_integer_value (v) + n);
}

static int add_usage (struct scan *sc, const struct row *r)
{
    const char *user = r->user ? r->user : "";
    json_t *u = json_object_get (sc->out, user);

    if (!u) {
        u = json_pack ("{s:s s:I s:I s:I}", "user", user, "jobs", (json_int_t)0,
                       "cpu_seconds", (json_int_t)0, "gpu_seconds", (json_int_t)0);
        if (!u || json_object_set_new (sc->out, user, u) < 0)
            return nomem (sc->err);
    }
    add_int (u, "jobs", 1);
    add_int (u, "cpu_seconds", r->elapsed * r->ncpus);
    add_int (u, "gpu_seconds", r->elapsed * r->gpus);
    return 0;
}

static int str_cmp (const void *a, const void *b)
{
    return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* The usage by user as a list ordered by user, with hours. */
static json_t *usage_list (json_t *by_user)
{
    size_t n = json_object_size (by_user), i = 0;
    const char **keys = calloc (n + 1, sizeof (*keys));
    json_t *list = json_array (), *u;
    const char *k;

    if (!keys || !list) {
        free (keys);
        json_decref (list);
        return NULL;
    }
    json_object_foreach (by_user, k, u)
        keys[i++] = k;
    qsort (keys, n, sizeof (*keys), str_cmp);
    for (i = 0; i < n; i++) {
        u = json_object_get (by_user, keys[i]);
        json_object_set_new (u, "cpu_hours", json_real (
            (double)json_integer_value (json_object_get (u, "cpu_seconds")) / 3600));
        json_object_set_new (u, "gpu_hours", json_real (
            (double)json_integer_value (json_object_get (u, "gpu_seconds")) / 3600));
        json_array_append (list, u);
    }
    free (keys);
    return list;
}

static json_t *answer (struct acct *a, const struct acct_query *q,
                       aios_error_t *err)
{
    struct scan sc = { .a = a, .q = q, .err = err };
    json_t *rep = NULL, *users;

    if (q->steps && !q->summary
        && sqlite3_prepare_v2 (a->db, "SELECT data FROM steps WHERE job = ? "
                               "ORDER BY step", -1, &sc.steps, NULL) != SQLITE_OK) {
        db_fail (a, err, "query steps");
        return NULL;
    }
    if (!(sc.out = q->summary ? json_object () : json_array ()))
        nomem (err);
    else if (scan (&sc, q->summary ? add_usage : add_job) == 0) {
        if (!q->summary)
            rep = json_pack ("{s:O s:f}", "jobs", sc.out, "now", ctld_now ());
        else if ((users = usage_list (sc.out))) {
            rep = json_pack ("{s:O s:f}", "users", users, "now", ctld_now ());
            json_decref (users);
        }
        if (!rep)
            nomem (err);
    }
    sqlite3_finalize (sc.steps);
    json_decref (sc.out);
    return rep;
}

/* The reply frame for w: the answer, or an error saying why there is none.
 * NULL only when even that cannot be encoded (ENOMEM). */
static char *run_query (struct acct *a, struct acct_work *w, size_t *len)
{
    aios_error_t err = { "" };
    json_t *rep = NULL;
    char *frame;

    errno = 0;
    if (sqlite3_exec (a->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        db_fail (a, &err, "begin");
    else {
        rep = answer (a, &w->q, &err);
        sqlite3_exec (a->db, "COMMIT", NULL, NULL, NULL);
    }
    if (!rep)
        rep = proto_error (w->seq, errno ? errno : EIO, "acct: %s", err.text);
    else
        json_object_set_new (rep, "seq", json_integer (w->seq));
    frame = frame_encode (rep, FRAME_MAX_REPLY, len, &err);
    json_decref (rep);
    if (!frame && errno == E2BIG) {
        rep = proto_error (w->seq, E2BIG, "the answer is over the %u MiB a "
                           "reply may hold: narrow it (-S, -E, -u, -j, -X, "
                           "--summary)", FRAME_MAX_REPLY >> 20);
        frame = frame_encode (rep, FRAME_MAX_REPLY, len, &err);
        json_decref (rep);
    }
    return frame;
}

static void *worker (void *arg)
{
    struct acct *a = arg;
    struct acct_work *w;

    pthread_mutex_lock (&a->lock);
    while (!a->stop) {
        if (!(w = a->todo)) {
            pthread_cond_wait (&a->cond, &a->lock);
            continue;
        }
        a->todo = w->next;
        a->ntodo--;
        pthread_mutex_unlock (&a->lock);
        w->frame = run_query (a, w, &w->len);
        pthread_mutex_lock (&a->lock);
        list_append (&a->done, w);
        if (write (a->wake[1], "", 1) < 0) {
            /* full (EAGAIN): a wake-up is already in it */
        }
    }
    pthread_mutex_unlock (&a->lock);
    return NULL;
}

/* --- the loop: requests and replies ---------------------------------------- */

static void frame_free_cb (const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free ((void *)data);
}

/* Write each finished reply to its connection, if that is still open: the
 * same pointer, user and peer (a new connection at a freed one's address
 * would differ in its peer's pid). */
static void deliver (struct acct *a, struct acct_work *w)
{
    struct conn *c;

    for (c = a->ctld->conns; c; c = c->next)
        if (c == w->c && c->uid == w->uid && !strcmp (c->peer, w->peer))
            break;
    if (!c || c->closing)
        return;
    if (!w->frame) {
        conn_error (c, w->seq, ENOMEM, "acct: out of memory");
        return;
    }
    /* The frame goes out as it is, without a copy on the loop. */
    if (evbuffer_add_reference (bufferevent_get_output (c->bev), w->frame,
                                w->len, frame_free_cb, NULL) < 0) {
        log_err ("%s: cannot queue the acct reply", c->peer);
        return;
    }
    w->frame = NULL;
}

static void wake_cb (evutil_socket_t fd, short what, void *arg)
{
    struct acct *a = arg;
    struct acct_work *list, *w;
    char buf[64];

    (void)what;
    while (read (fd, buf, sizeof (buf)) > 0)
        ;
    pthread_mutex_lock (&a->lock);
    list = a->done;
    a->done = NULL;
    pthread_mutex_unlock (&a->lock);
    while ((w = list)) {
        list = w->next;
        deliver (a, w);
        work_free (w);
    }
}

/* "12", "12_3" (an array task), or an integer. */
static int parse_id (json_t *v, struct acct_id *k, aios_error_t *err)
{
    const char *s = json_string_value (v);
    long id, task;

    errno = EINVAL;
    if (json_is_integer (v) && json_integer_value (v) > 0) {
        k->id = (uint64_t)json_integer_value (v);
        k->task = -1;
        return 0;
    }
    if (!s)
        return errprintf (err, "acct: invalid job id (not a string)");
    if (parse_job_ref (s, &id, &task, err) < 0) {
        errprefix (err, "acct");
        return -1;
    }
    k->id = (uint64_t)id;
    k->task = (int)task;
    return 0;
}

static int parse_ids (struct acct_query *q, json_t *ids, aios_error_t *err)
{
    json_t *v;
    size_t i, n = json_array_size (ids);

    if (!ids)
        return 0;
    errno = EINVAL;
    if (!json_is_array (ids) || n == 0 || n > ACCT_LIST_MAX)
        return errprintf (err, "acct: \"jobs\" must be a list of 1 to %d job ids",
                          ACCT_LIST_MAX);
    if (!(q->ids = calloc (n, sizeof (*q->ids))))
        return nomem (err);
    json_array_foreach (ids, i, v)
        if (parse_id (v, &q->ids[i], err) < 0)
            return -1;
    q->nids = n;
    return 0;
}

/* A list of 1 to ACCT_LIST_MAX names (users, partitions). */
static int parse_names (char ***out, size_t *nout, json_t *list,
                        const char *what, aios_error_t *err)
{
    json_t *v;
    size_t i, n = json_array_size (list);

    if (!list)
        return 0;
    errno = EINVAL;
    if (!json_is_array (list) || n == 0 || n > ACCT_LIST_MAX)
        return errprintf (err, "acct: \"%s\" must be a list of 1 to %d names",
                          what, ACCT_LIST_MAX);
    if (!(*out = calloc (n, sizeof (**out))))
        return nomem (err);
    json_array_foreach (list, i, v) {
        if (!json_is_string (v))
            return errprintf (err, "acct: \"%s\" must be a list of names", what);
        if (!((*out)[i] = strdup (json_string_value (v))))
            return nomem (err);
        *nout = i + 1;
    }
    return 0;
}

/* Names or codes of final states; none: every final state. */
static int parse_states (struct acct_query *q, json_t *states, aios_error_t *err)
{
    json_t *v;
    size_t i;
    int s;

    errno = EINVAL;
    if (states && (!json_is_array (states) || json_array_size (states) == 0))
        return errprintf (err, "acct: \"states\" must be a list of job states");
    json_array_foreach (states, i, v) {
        const char *name = json_string_value (v);
        if ((s = job_state_parse (name)) < 0)
            return errprintf (err, "acct: invalid job state \"%s\"",
                              name ? name : "(not a string)");
        if (!job_state_is_final ((enum job_state)s))
            return errprintf (err, "acct: %s is not a final state: the history "
                              "holds finished jobs (aios-queue lists the others)",
                              job_state_name ((enum job_state)s));
        q->states |= 1u << s;
    }
    for (s = 0; !states && s < JOB_STATE_COUNT; s++)
        if (job_state_is_final ((enum job_state)s))
            q->states |= 1u << s;
    return 0;
}

static int query_parse (struct acct_query *q, json_t *req, bool *all,
                        aios_error_t *err)
{
    json_t *jobs = NULL, *users = NULL, *states = NULL, *parts = NULL;
    int all_users = 0, steps = 1, summary = 0;

    if (proto_unpack (req, err, "acct", "{s?o s?o s?b s?o s?o s?F s?F s?b s?b}",
                      "jobs", &jobs, "users", &users, "all_users", &all_users,
                      "states", &states, "partitions", &parts, "start",
                      &q->start, "end", &q->end, "steps", &steps, "summary",
                      &summary) < 0)
        return -1;
    if (parse_ids (q, jobs, err) < 0
        || parse_names (&q->users, &q->nusers, users, "users", err) < 0
        || parse_names (&q->parts, &q->nparts, parts, "partitions", err) < 0
        || parse_states (q, states, err) < 0)
        return -1;
    errno = EINVAL;
    if (q->start < 0 || q->end < 0 || (q->end > 0 && q->end < q->start))
        return errprintf (err, "acct: the time window ends before it starts");
    if (all_users && users)
        return errprintf (err, "acct: give \"users\" or \"all_users\", not both");
    q->steps = steps;
    q->summary = summary;
    *all = all_users;
    return 0;
}

/* Root and the daemon user see every job by default; the others see their
 * own unless they ask for more, which operators (and everyone, with
 * accounting.show_all_users) may. */
static int query_authorize (struct conn *c, struct acct_query *q, bool all,
                            aios_error_t *err)
{
    struct ctld *ctld = c->ctld;
    bool see_all = conn_is_privileged (c) || ctld->conf->acct_show_all_users;
    size_t i;

    errno = EPERM;
    for (i = 0; !see_all && i < q->nusers; i++)
        if (strcmp (q->users[i], c->user) != 0)
            return errprintf (err, "permission denied: %s may list only their "
                              "own jobs, not those of %s (accounting."
                              "show_all_users is false; root and operators may "
                              "list everyone's)", c->user, q->users[i]);
    if (all && !see_all)
        return errprintf (err, "permission denied: %s may list only their own "
                          "jobs, not all users' (accounting.show_all_users is "
                          "false; root and operators may list everyone's)",
                          c->user);
    if (!see_all || (!all && !q->users && c->uid != 0
                     && c->uid != ctld->daemon_uid)) {
        q->own_only = true;
        q->uid = (uint32_t)c->uid;
    }
    errno = 0;
    return 0;
}

void acct_request (struct conn *c, json_t *req, json_int_t seq)
{
    struct acct *a = c->ctld->acct;
    struct acct_work *w = calloc (1, sizeof (*w));
    aios_error_t err = { "" };
    bool all = false;

    if (!a || !w) {
        free (w);
        conn_error (c, seq, a ? ENOMEM : ENOSYS, "acct: %s",
                    a ? "out of memory" : "not available");
        return;
    }
    if (query_parse (&w->q, req, &all, &err) < 0
        || query_authorize (c, &w->q, all, &err) < 0) {
        conn_error (c, seq, errno ? errno : EINVAL, "%s", err.text);
        work_free (w);
        return;
    }
    w->c = c;
    w->uid = c->uid;
    snprintf (w->peer, sizeof (w->peer), "%s", c->peer);
    w->seq = seq;
    pthread_mutex_lock (&a->lock);
    if (a->ntodo >= ACCT_QUEUE_MAX) {
        pthread_mutex_unlock (&a->lock);
        conn_error (c, seq, EAGAIN, "acct: %d queries are already waiting; "
                    "try again shortly", ACCT_QUEUE_MAX);
        work_free (w);
        return;
    }
    list_append (&a->todo, w);
    a->ntodo++;
    pthread_cond_signal (&a->cond);
    pthread_mutex_unlock (&a->lock);
}

/* --- life cycle ------------------------------------------------------------ */

static void acct_destroy (struct acct *a)
{
    int saved = errno;

    if (!a)
        return;
    if (a->started) {
        pthread_mutex_lock (&a->lock);
        a->stop = true;
        pthread_cond_signal (&a->cond);
        sqlite3_interrupt (a->db);  /* a long query ends now */
        pthread_mutex_unlock (&a->lock);
        pthread_join (a->thread, NULL);
    }
    list_free (a->todo);
    list_free (a->done);
    if (a->wake_ev)
        event_free (a->wake_ev);
    if (a->wake[0] >= 0)
        close (a->wake[0]);
    if (a->wake[1] >= 0)
        close (a->wake[1]);
    if (a->db)
        sqlite3_close (a->db);
    pthread_cond_destroy (&a->cond);
    pthread_mutex_destroy (&a->lock);
    free (a);
    errno = saved;
}

static int start_worker (struct acct *a, aios_error_t *err)
{
    sigset_t all, old;
    int rc;

    /* Signals are the loop's: the worker takes none. */
    sigfillset (&all);
    pthread_sigmask (SIG_SETMASK, &all, &old);
    rc = pthread_create (&a->thread, NULL, worker, a);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        return errprintf (err, "acct: cannot start its thread: %s", strerror (rc));
    }
    a->started = true;
    return 0;
}

int acct_init (struct ctld *ctld, aios_error_t *err)
{
    const char *path = ctld->conf->state_file;
    struct acct *a = calloc (1, sizeof (*a));

    if (!a)
        return nomem (err);
    a->ctld = ctld;
    a->wake[0] = a->wake[1] = -1;
    if (pthread_mutex_init (&a->lock, NULL) != 0
        || pthread_cond_init (&a->cond, NULL) != 0) {
        free (a);
        return nomem (err);
    }
    if (sqlite3_open_v2 (path, &a->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                         NULL) != SQLITE_OK) {
        errno = EIO;
        errprintf (err, "state file %s: read-only connection for aios-acct: %s",
                   path, a->db ? sqlite3_errmsg (a->db) : "out of memory");
        goto error;
    }
    sqlite3_busy_timeout (a->db, 5000);
    if (pipe2 (a->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        errprintf (err, "acct: pipe: %s", strerror (errno));
        goto error;
    }
    if (!(a->wake_ev = event_new (ctld->base, a->wake[0], EV_READ | EV_PERSIST,
                                  wake_cb, a))
        || event_add (a->wake_ev, NULL) < 0) {
        nomem (err);
        goto error;
    }
    if (start_worker (a, err) < 0)
        goto error;
    ctld->acct = a;
    return 0;
error:
    acct_destroy (a);
    return -1;
}

void acct_fini (struct ctld *ctld)
{
    acct_destroy (ctld->acct);
    ctld->acct = NULL;
}
