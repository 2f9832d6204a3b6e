/* model.c - what aios-top knows of the cluster */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "job.h"
#include "model.h"

static double jnum (json_t *o, const char *key)
{
    return json_number_value (json_object_get (o, key));
}

struct model *model_create (void)
{
    return cli_xmalloc (sizeof (struct model));
}

static void free_nodes (struct top_node *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        json_decref (v[i].obj);
    free (v);
}

static void free_jobs (struct top_job *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        json_decref (v[i].obj);
    free (v);
}

void model_destroy (struct model *m)
{
    int saved = errno;

    if (m) {
        free (m->cluster);
        free (m->policy);
        free (m->backfill);
        free_nodes (m->nodes, m->nnodes);
        free_jobs (m->jobs, m->njobs);
        json_decref (m->stats);
        free (m);
    }
    errno = saved;
}

/* --- records ---------------------------------------------------------------- */

int model_parse_job (struct top_job *j, json_t *obj)
{
    json_t *alloc;

    if (!json_is_object (obj) || !json_is_integer (json_object_get (obj, "id")))
        return -1;
    memset (j, 0, sizeof (*j));
    j->id = cli_jint (obj, "id");
    j->state_name = cli_jstr (obj, "state", "UNKNOWN");
    j->state = job_state_parse (j->state_name);
    j->name = cli_jstr (obj, "name", "");
    j->user = cli_jstr (obj, "user", "");
    j->partition = cli_jstr (obj, "partition", "");
    j->reason = cli_jstr (obj, "reason", "");
    j->nodelist = cli_jstr (obj, "nodelist", "");
    j->submit = jnum (obj, "submit_time");
    j->start = jnum (obj, "start_time");
    j->end = jnum (obj, "end_time");
    alloc = json_object_get (obj, "alloc");
    j->nodes = json_array_size (alloc) > 0 ? (long long)json_array_size (alloc)
                                           : cli_jint (obj, "nodes");
    if (j->nodes <= 0)
        j->nodes = 1;
    j->obj = obj;
    return 0;
}

int model_parse_node (struct top_node *n, json_t *obj)
{
    if (!json_is_object (obj) || !json_is_string (json_object_get (obj, "name")))
        return -1;
    memset (n, 0, sizeof (*n));
    n->name = cli_jstr (obj, "name", "?");
    n->state = cli_jstr (obj, "state", "UNKNOWN");
    n->reason = cli_jstr (obj, "reason", "");
    n->cpus = cli_jint (obj, "cpus");
    n->cpus_alloc = cli_jint (obj, "cpus_alloc");
    n->gpus = cli_jint (obj, "gpus");
    n->gpus_alloc = cli_jint (obj, "gpus_alloc");
    n->mem_mb = cli_jint (obj, "memory_mb");
    n->mem_alloc_mb = cli_jint (obj, "memory_alloc_mb");
    n->obj = obj;
    return 0;
}

static bool job_final (const struct top_job *j)
{
    return j && j->state >= 0 && job_state_is_final ((enum job_state)j->state);
}

/* Index of id in the sorted v[0..n), or where it would go (*found false). */
static size_t job_search (const struct top_job *v, size_t n, long long id,
                          bool *found)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < n && v[lo].id == id;
    return lo;
}

const struct top_job *model_job (const struct model *m, long long id)
{
    bool found;
    size_t i = job_search (m->jobs, m->njobs, id, &found);

    return found ? &m->jobs[i] : NULL;
}

/* --- the finished-jobs history ------------------------------------------ */

static void hist_add (struct model *m, double when)
{
    long long minute = (long long)floor (when / 60.0);
    size_t slot;

    if (minute < 0)
        return;
    slot = (size_t)(minute % MODEL_HIST_MINUTES);
    if (m->hist_min[slot] != minute) {
        m->hist_min[slot] = minute;
        m->hist_cnt[slot] = 0;
    }
    m->hist_cnt[slot]++;
}

long long model_finished (const struct model *m, long long minute)
{
    size_t slot;

    if (minute < 0)
        return 0;
    slot = (size_t)(minute % MODEL_HIST_MINUTES);
    return m->hist_min[slot] == minute ? m->hist_cnt[slot] : 0;
}

/* A job that is final now and was not before ended: count it. */
static void count_if_ended (struct model *m, const struct top_job *old,
                            const struct top_job *j)
{
    if (job_final (j) && !job_final (old))
        hist_add (m, j->end > 0 ? j->end : m->now);
}

/* --- the snapshot --------------------------------------------------------- */

static int cmp_job_id (const void *a, const void *b)
{
    const struct top_job *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

static struct top_node *parse_nodes (json_t *arr, size_t *n, aios_error_t *err)
{
    struct top_node *v = cli_xmalloc ((json_array_size (arr) + 1) * sizeof (*v));
    json_t *o;
    size_t i;

    json_array_foreach (arr, i, o) {
        if (model_parse_node (&v[i], json_incref (o)) < 0) {
            json_decref (o);
            free_nodes (v, i);
            errprintf (err, "malformed node %zu in the snapshot", i);
            return NULL;
        }
    }
    *n = json_array_size (arr);
    return v;
}

static struct top_job *parse_jobs (json_t *arr, size_t *n, aios_error_t *err)
{
    struct top_job *v = cli_xmalloc ((json_array_size (arr) + 1) * sizeof (*v));
    json_t *o;
    size_t i;

    json_array_foreach (arr, i, o) {
        if (model_parse_job (&v[i], json_incref (o)) < 0) {
            json_decref (o);
            free_jobs (v, i);
            errprintf (err, "malformed job %zu in the snapshot", i);
            return NULL;
        }
    }
    *n = json_array_size (arr);
    qsort (v, *n, sizeof (*v), cmp_job_id);
    return v;
}

static void set_str (char **dst, json_t *o, const char *key)
{
    free (*dst);
    *dst = cli_xstrdup (cli_jstr (o, key, "?"));
}

static void take_stats (struct model *m, json_t *stats)
{
    if (!json_is_object (stats))
        return;
    json_decref (m->stats);
    m->stats = json_incref (stats);
}

int model_snapshot (struct model *m, json_t *snap, aios_error_t *err)
{
    json_t *nodes = json_object_get (snap, "nodes");
    json_t *jobs = json_object_get (snap, "jobs");
    struct top_node *nv;
    struct top_job *jv;
    size_t nn, nj, i;

    if (!json_is_array (nodes) || !json_is_array (jobs))
        return errprintf (err, "malformed snapshot: no \"nodes\" or \"jobs\" array");
    if (!(nv = parse_nodes (nodes, &nn, err)))
        return -1;
    if (!(jv = parse_jobs (jobs, &nj, err))) {
        free_nodes (nv, nn);
        return -1;
    }
    m->now = jnum (snap, "now") > 0 ? jnum (snap, "now") : (double)time (NULL);
    m->snap_now = m->now;
    m->uptime = jnum (snap, "uptime");
    for (i = 0; i < nj; i++)
        count_if_ended (m, model_job (m, jv[i].id), &jv[i]);
    free_nodes (m->nodes, m->nnodes);
    free_jobs (m->jobs, m->njobs);
    m->nodes = nv;
    m->nnodes = nn;
    m->jobs = jv;
    m->njobs = m->jobs_cap = nj;
    set_str (&m->cluster, snap, "cluster");
    set_str (&m->policy, snap, "policy");
    set_str (&m->backfill, snap, "backfill");
    take_stats (m, json_object_get (snap, "stats"));
    m->version++;
    return 0;
}

/* --- events ----------------------------------------------------------------- */

static int put_job (struct model *m, json_t *obj, aios_error_t *err)
{
    struct top_job j;
    bool found;
    size_t i;

    if (!obj || model_parse_job (&j, json_incref (obj)) < 0) {
        json_decref (obj);
        return errprintf (err, "malformed \"job\" event");
    }
    i = job_search (m->jobs, m->njobs, j.id, &found);
    count_if_ended (m, found ? &m->jobs[i] : NULL, &j);
    if (found) {
        json_decref (m->jobs[i].obj);
        m->jobs[i] = j;
        return 1;
    }
    if (m->njobs == m->jobs_cap) {
        m->jobs_cap = m->jobs_cap ? m->jobs_cap * 2 : 64;
        m->jobs = realloc (m->jobs, m->jobs_cap * sizeof (*m->jobs));
        if (!m->jobs)
            cli_die ("out of memory");
    }
    memmove (&m->jobs[i + 1], &m->jobs[i], (m->njobs - i) * sizeof (*m->jobs));
    m->jobs[i] = j;
    m->njobs++;
    return 1;
}

static int remove_job (struct model *m, json_t *ev, aios_error_t *err)
{
    json_t *id = json_object_get (ev, "id");
    bool found;
    size_t i;

    if (!json_is_integer (id))
        return errprintf (err, "malformed \"job_removed\" event");
    i = job_search (m->jobs, m->njobs, (long long)json_integer_value (id), &found);
    if (!found)
        return 1;
    json_decref (m->jobs[i].obj);
    memmove (&m->jobs[i], &m->jobs[i + 1], (m->njobs - i - 1) * sizeof (*m->jobs));
    m->njobs--;
    return 1;
}

static int put_node (struct model *m, json_t *obj, aios_error_t *err)
{
    struct top_node n;
    size_t i;

    if (!obj || model_parse_node (&n, json_incref (obj)) < 0) {
        json_decref (obj);
        return errprintf (err, "malformed \"node\" event");
    }
    for (i = 0; i < m->nnodes; i++) {
        if (!strcmp (m->nodes[i].name, n.name)) {
            json_decref (m->nodes[i].obj);
            m->nodes[i] = n;
            return 1;
        }
    }
    m->nodes = realloc (m->nodes, (m->nnodes + 1) * sizeof (*m->nodes));
    if (!m->nodes)
        cli_die ("out of memory");
    m->nodes[m->nnodes++] = n;
    return 1;
}

static int put_stats (struct model *m, json_t *ev)
{
    double now = jnum (ev, "now");

    take_stats (m, json_object_get (ev, "stats"));
    if (now > m->now)
        m->now = now;
    return 1;
}

int model_event (struct model *m, json_t *ev, aios_error_t *err)
{
    const char *name = cli_jstr (ev, "event", "");
    int rc;

    if (!strcmp (name, "stats"))
        return put_stats (m, ev);
    if (!strcmp (name, "job"))
        rc = put_job (m, json_object_get (ev, "job"), err);
    else if (!strcmp (name, "job_removed"))
        rc = remove_job (m, ev, err);
    else if (!strcmp (name, "node"))
        rc = put_node (m, json_object_get (ev, "node"), err);
    else
        return 0;
    if (rc > 0)
        m->version++;
    return rc;
}

/* --- summaries ------------------------------------------------------------- */

double model_uptime (const struct model *m)
{
    return m->uptime + (m->now - m->snap_now);
}

size_t model_nodes_in (const struct model *m, const char *state)
{
    size_t i, n = 0;

    for (i = 0; i < m->nnodes; i++)
        n += !strcmp (m->nodes[i].state, state);
    return n;
}

size_t model_jobs_in (const struct model *m, int state)
{
    size_t i, n = 0;

    for (i = 0; i < m->njobs; i++)
        n += m->jobs[i].state == state;
    return n;
}

size_t model_finished_recent (const struct model *m, double secs)
{
    size_t i, n = 0;

    for (i = 0; i < m->njobs; i++)
        n += job_final (&m->jobs[i]) && m->jobs[i].end > m->now - secs;
    return n;
}
