/* staging.c - the controller's side of datasets and models (issue 5)
 *
 * At submit, --stage-in=NAME[:VERSION][,shard] is resolved against the
 * catalog (staging.shared_root) into what the nodes copy: file, version,
 * checksum, size.  When the scheduler starts such a job it goes STAGING and
 * every node of its allocation is asked to "stage" its part (the whole file
 * or its shard) into its node cache; the nodes report progress and then
 * "staged" with the paths of their copies.  When all have, the job is
 * launched with AIOS_DATASET_<NAME> set on each node; a failure anywhere
 * ends it STAGE_FAILED with the node's reason.
 *
 * Nodes also tell what their caches hold (at register and after each
 * stage), so a job prefers nodes that hold its data, and a pending job with
 * a reservation has its data prefetched to the reserved nodes so the copy
 * overlaps the wait.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "conn.h"
#include "core.h"
#include "ctld.h"
#include "hostlist.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"
#include "proto.h"

/* Prefetch data for reserved jobs that start within this many seconds. */
#define PREFETCH_HORIZON 3600.0

struct stage_node {
    uint64_t done, total;
    bool finished;
    json_t *paths;          /* {"name": path} */
    char *scratch;
};

struct stage_job {
    uint64_t id;
    int n;
    int remaining;
    struct stage_node *nodes;
    struct stage_job *next;
};

struct staging {
    struct stage_job *jobs;
    json_t *prefetched;     /* {"jobid": "nodes it was sent to"} */
};

int staging_init (struct ctld *ctld, aios_error_t *err)
{
    if (!(ctld->staging = calloc (1, sizeof (*ctld->staging)))
        || !(ctld->staging->prefetched = json_object ())) {
        free (ctld->staging);
        ctld->staging = NULL;
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    return 0;
}

void staging_restart (struct ctld *ctld)
{
    size_t i;

    /* Staging state is not kept across a restart: start those jobs over
     * (their nodes drop what they staged when the release reaches them). */
    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        if (job->state == JOB_STAGING)
            ctld_job_requeue (ctld, job, "the controller restarted while its "
                              "datasets were being staged");
    }
}

static void stage_job_free (struct stage_job *sj)
{
    int i;

    for (i = 0; i < sj->n; i++) {
        json_decref (sj->nodes[i].paths);
        free (sj->nodes[i].scratch);
    }
    free (sj->nodes);
    free (sj);
}

void staging_fini (struct ctld *ctld)
{
    struct staging *st = ctld->staging;

    if (!st)
        return;
    while (st->jobs) {
        struct stage_job *sj = st->jobs;
        st->jobs = sj->next;
        stage_job_free (sj);
    }
    json_decref (st->prefetched);
    free (st);
    ctld->staging = NULL;
}

static struct stage_job *find (struct ctld *ctld, uint64_t id)
{
    struct stage_job *sj;

    for (sj = ctld->staging->jobs; sj; sj = sj->next)
        if (sj->id == id)
            return sj;
    return NULL;
}

/* --- at submit -------------------------------------------------------------- */

/* "NAME[:VERSION][,shard]" -> a resolved entry. */
static json_t *resolve_in (const char *root, const char *spec, aios_error_t *err)
{
    char *copy = strdup (spec), *comma, *name = NULL;
    int version = 0;
    bool shard = false;
    json_t *rec, *entry = NULL;
    const char *file, *sha;
    json_int_t v, size;

    if (!copy) {
        errprintf (err, "out of memory");
        return NULL;
    }
    if ((comma = strchr (copy, ','))) {
        *comma++ = '\0';
        if (strcmp (comma, "shard") != 0) {
            errprintf (err, "--stage-in=%s: unknown option \"%s\" (expected "
                       "NAME[:VERSION][,shard])", spec, comma);
            goto out;
        }
        shard = true;
    }
    if (catalog_parse_ref (copy, &name, &version, err) < 0) {
        errprefix (err, "--stage-in=%s", spec);
        goto out;
    }
    if (!(rec = catalog_lookup (root, CATALOG_DATASET, name, version, err))) {
        errprefix (err, "--stage-in=%s", spec);
        goto out;
    }
    if (json_unpack (rec, "{s:I s:s s:s s:I}", "version", &v, "file", &file,
                     "sha256", &sha, "size", &size) < 0)
        errprintf (err, "--stage-in=%s: the catalog record of %s is malformed",
                   spec, name);
    else
        entry = json_pack ("{s:s s:I s:s s:s s:I s:b}", "name", name, "version", v,
                           "file", file, "sha256", sha, "size", size, "shard",
                           shard);
    json_decref (rec);
out:
    free (name);
    free (copy);
    return entry;
}

/* "PATH:MODEL" -> {path, name}. */
static json_t *resolve_out (const char *spec, aios_error_t *err)
{
    const char *colon = strrchr (spec, ':');
    char path[1024];

    if (!colon || colon == spec || !colon[1]) {
        errprintf (err, "--stage-out=%s: expected PATH:MODEL_NAME", spec);
        return NULL;
    }
    if (!catalog_name_ok (colon + 1)) {
        errprintf (err, "--stage-out=%s: invalid model name \"%s\" (letters, "
                   "digits, '.', '_', '-'; at most 64)", spec, colon + 1);
        return NULL;
    }
    snprintf (path, sizeof (path), "%.*s", (int)(colon - spec), spec);
    if (!strcmp (path, "..") || !strncmp (path, "../", 3) || strstr (path, "/../")) {
        errprintf (err, "--stage-out=%s: the path must stay inside the job's "
                   "scratch directory", spec);
        return NULL;
    }
    return json_pack ("{s:s s:s}", "path", path, "name", colon + 1);
}

/* Two entries of a job may not give the job the same variable: the same
 * name twice, or names such as "a-b" and "a.b". */
static int env_clash (json_t *specs, json_t *resolved, aios_error_t *err)
{
    size_t i, j, n = json_array_size (resolved);

    for (i = 0; i < n; i++) {
        char vi[CATALOG_ENV_MAX], vj[CATALOG_ENV_MAX];
        catalog_env_name (json_string_value (json_object_get (
                              json_array_get (resolved, i), "name")), vi);
        for (j = 0; j < i; j++) {
            catalog_env_name (json_string_value (json_object_get (
                                  json_array_get (resolved, j), "name")), vj);
            if (strcmp (vi, vj) == 0)
                return errprintf (err, "--stage-in=%s and --stage-in=%s would both "
                                  "be %s: stage each dataset once, under names "
                                  "that differ in more than punctuation",
                                  json_string_value (json_array_get (specs, j)),
                                  json_string_value (json_array_get (specs, i)), vi);
        }
    }
    return 0;
}

int staging_check (struct ctld *ctld, json_t *rec, aios_error_t *err)
{
    const char *root = ctld->conf->shared_root;
    json_t *in = json_object_get (rec, "stage_in");
    json_t *out = json_object_get (rec, "stage_out");
    const char *when = NULL;
    json_t *v, *res;
    size_t i;

    errno = EINVAL;
    json_unpack (rec, "{s?s}", "stage_out_when", &when);
    if (when && strcmp (when, "success") && strcmp (when, "always"))
        return errprintf (err, "--stage-out-when=%s: expected success or always",
                          when);
    if ((in && !json_is_array (in)) || (out && !json_is_array (out)))
        return errprintf (err, "job: stage_in and stage_out must be arrays");
    if (json_array_size (in) + json_array_size (out) == 0)
        return 0;
    if (!root || !*root)
        return errprintf (err, "this cluster has no dataset catalog "
                          "(staging.shared_root is not set in %s)",
                          ctld->conf_path);
    if (json_array_size (in) > 0) {
        if (!(res = json_array ()))
            return errprintf (err, "out of memory");
        json_array_foreach (in, i, v) {
            json_t *e;
            if (!json_is_string (v)) {
                json_decref (res);
                return errprintf (err, "job: stage_in entries must be strings");
            }
            if (!(e = resolve_in (root, json_string_value (v), err))) {
                json_decref (res);
                errno = ENOENT;
                return -1;
            }
            json_array_append_new (res, e);
        }
        if (env_clash (in, res, err) < 0) {
            json_decref (res);
            return -1;
        }
        json_object_set_new (rec, "stage_in", res);
    }
    if (json_array_size (out) > 0) {
        if (!(res = json_array ()))
            return errprintf (err, "out of memory");
        json_array_foreach (out, i, v) {
            json_t *e;
            if (!json_is_string (v) || !(e = resolve_out (json_string_value (v), err))) {
                json_decref (res);
                return json_is_string (v) ? -1
                    : errprintf (err, "job: stage_out entries must be strings");
            }
            json_array_append_new (res, e);
        }
        json_object_set_new (rec, "stage_out", res);
    }
    errno = 0;
    return 0;
}

/* --- keys and placement ----------------------------------------------------- */

/* The cache key node i of n uses for dataset e. */
static void cache_key (json_t *e, int i, int n, char *buf, size_t len)
{
    const char *name = "";
    json_int_t version = 0;
    int shard = 0;

    json_unpack (e, "{s:s s:I s?b}", "name", &name, "version", &version,
                 "shard", &shard);
    if (shard)
        snprintf (buf, len, "%s:%lld/%d-of-%d", name, (long long)version, i, n);
    else
        snprintf (buf, len, "%s:%lld", name, (long long)version);
}

/* A node holds the job's data when its cache has every whole dataset the
 * job asks for (shards depend on where the node falls in the allocation:
 * only whole files count for placement). */
static bool node_holds (const struct node *nd, const struct job *job)
{
    json_t *e;
    size_t i;
    char key[256];
    bool any = false;

    if (!nd->cache)
        return false;
    json_array_foreach (job->stage_in, i, e) {
        if (json_is_true (json_object_get (e, "shard")))
            continue;
        cache_key (e, 0, 1, key, sizeof (key));
        if (!json_object_get (nd->cache, key))
            return false;
        any = true;
    }
    return any;
}

const unsigned char *staging_prefer (struct ctld *ctld, struct job *job)
{
    int n = nodetab_count (ctld->nodes), i, hits = 0;
    unsigned char *p;

    if (!job->stage_in)
        return NULL;
    if (!(p = realloc (job->prefer, (size_t)n + 1)))
        return NULL;
    job->prefer = p;
    for (i = 0; i < n; i++) {
        p[i] = node_holds (nodetab_at (ctld->nodes, i), job);
        hits += p[i];
    }
    return hits > 0 ? p : NULL;
}

void staging_node_cache (struct ctld *ctld, struct node *nd, json_t *keys)
{
    json_t *set = json_object (), *v;
    size_t i;

    (void)ctld;
    if (!set)
        return;
    json_array_foreach (keys, i, v)
        if (json_is_string (v))
            json_object_set (set, json_string_value (v), json_true ());
    json_decref (nd->cache);
    nd->cache = set;
}

/* --- stage-in ----------------------------------------------------------------- */

static json_t *stage_msg (struct conn *c, const char *op, struct job *job, int i)
{
    json_t *msg = proto_request (op, c->out_seq++);

    if (!msg
        || json_object_set_new (msg, "id", json_integer ((json_int_t)job->id)) < 0
        || json_object_set_new (msg, "uid", json_integer (job->uid)) < 0
        || json_object_set_new (msg, "gid", json_integer (job->gid)) < 0
        || json_object_set_new (msg, "attempt", json_integer (job->restarts)) < 0
        || json_object_set_new (msg, "index", json_integer (i)) < 0
        || json_object_set_new (msg, "count", json_integer (job->nalloc)) < 0
        || json_object_set (msg, "datasets", job->stage_in) < 0) {
        json_decref (msg);
        return NULL;
    }
    return msg;
}

int staging_start (struct ctld *ctld, struct job *job)
{
    struct stage_job *sj = calloc (1, sizeof (*sj));
    char why[256];
    int i;

    if (!sj || !(sj->nodes = calloc ((size_t)job->nalloc, sizeof (*sj->nodes)))) {
        free (sj);
        /* not left STAGING with nodes no copy will ever free */
        return ctld_job_transition (ctld, job, JOB_STAGE_FAILED,
                                    "stage-in: out of memory in the "
                                    "controller");
    }
    sj->id = job->id;
    sj->n = sj->remaining = job->nalloc;
    job->stage_hits = 0;
    job->stage_copied = 0;
    sj->next = ctld->staging->jobs;
    ctld->staging->jobs = sj;
    job->stage_done = job->stage_total = 0;
    for (i = 0; i < job->nalloc; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, job->alloc[i].node);
        json_t *msg;
        if (!n || !n->conn || !(msg = stage_msg (n->conn, "stage", job, i))) {
            snprintf (why, sizeof (why), "stage-in: node %s is not connected",
                      job->alloc[i].node);
            ctld_job_transition (ctld, job, JOB_STAGE_FAILED, why);
            return 0;
        }
        conn_send_committed (n->conn, msg);
    }
    log_debug ("job %ju: staging %zu dataset(s) on %s", (uintmax_t)job->id,
               json_array_size (job->stage_in), job->nodelist);
    return 0;
}

void staging_job_ended (struct ctld *ctld, struct job *job)
{
    struct stage_job **pp;
    char key[32];

    if (!ctld->staging)
        return;
    snprintf (key, sizeof (key), "%ju", (uintmax_t)job->id);
    json_object_del (ctld->staging->prefetched, key);
    for (pp = &ctld->staging->jobs; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == job->id) {
            struct stage_job *sj = *pp;
            *pp = sj->next;
            stage_job_free (sj);
            return;
        }
    }
}

json_t *staging_node_paths (struct ctld *ctld, struct job *job, int i,
                            const char **scratch)
{
    struct stage_job *sj = find (ctld, job->id);

    *scratch = NULL;
    if (!sj || i >= sj->n)
        return NULL;
    *scratch = sj->nodes[i].scratch;
    return sj->nodes[i].paths;
}

static int alloc_index (const struct job *job, const struct node *n)
{
    int i;

    for (i = 0; i < job->nalloc; i++)
        if (!strcmp (job->alloc[i].node, n->name))
            return i;
    return -1;
}

static struct job *staging_job (struct conn *c, json_t *req, int *i,
                                struct stage_job **sjp)
{
    json_int_t id, attempt = -1;
    struct job *job;

    if (json_unpack (req, "{s:I s?I}", "id", &id, "attempt", &attempt) < 0
        || !(job = jobtab_lookup (c->ctld->jobs, (uint64_t)id))
        || job->state != JOB_STAGING || !(*sjp = find (c->ctld, job->id))
        || (*i = alloc_index (job, c->node)) < 0)
        return NULL;
    if (attempt >= 0 && attempt != job->restarts)
        return NULL; /* about an earlier run, which the node drops */
    return job;
}

/* A node (re)registered: ask it again for what it has not staged yet; it
 * answers at once what it finished meanwhile, and copies on otherwise. */
void staging_node_registered (struct ctld *ctld, struct node *n)
{
    struct stage_job *sj;

    for (sj = ctld->staging ? ctld->staging->jobs : NULL; sj; sj = sj->next) {
        struct job *job = jobtab_lookup (ctld->jobs, sj->id);
        json_t *msg;
        int i;
        if (!job || job->state != JOB_STAGING
            || (i = alloc_index (job, n)) < 0 || i >= sj->n
            || sj->nodes[i].finished || !n->conn
            || !(msg = stage_msg (n->conn, "stage", job, i)))
            continue;
        conn_send_committed (n->conn, msg);
    }
}

/* Have node n let go of what it staged for job id, unless the job stages
 * or runs there (an earlier run's report then: the node drops that run's
 * copies when it is asked for the current one). */
static bool release_stale (struct ctld *ctld, struct node *n, json_int_t id)
{
    struct job *job = jobtab_lookup (ctld->jobs, (uint64_t)id);
    json_t *msg;

    if (job && (job->state == JOB_STAGING || job->state == JOB_RUNNING
                || job->state == JOB_COMPLETING) && alloc_index (job, n) >= 0)
        return false;
    if (!n->conn || !(msg = proto_request ("release", n->conn->out_seq++)))
        return false;
    json_object_set_new (msg, "id", json_integer (id));
    conn_send (n->conn, msg);
    return true;
}

/* A report about a job that is not staging on that node (it ended, was
 * requeued, or this is an old attempt): have the node let go of it. */
static void stale_report (struct conn *c, json_t *req)
{
    json_int_t id;

    if (json_unpack (req, "{s:I}", "id", &id) == 0)
        release_stale (c->ctld, c->node, id);
}

void staging_node_holds (struct ctld *ctld, struct node *n, json_t *ids)
{
    size_t i;
    json_t *v;

    json_array_foreach (ids, i, v)
        if (json_is_integer (v) && release_stale (ctld, n, json_integer_value (v)))
            log_info ("job %lld: node %s holds data staged for it: releasing "
                      "them", (long long)json_integer_value (v), n->name);
}

void staging_op_progress (struct conn *c, json_t *req, json_int_t seq)
{
    struct stage_job *sj;
    struct job *job;
    json_int_t done = 0, total = 0;
    int i, k;

    (void)seq;
    if (!(job = staging_job (c, req, &i, &sj)))
        return;
    json_unpack (req, "{s?I s?I}", "done", &done, "total", &total);
    sj->nodes[i].done = (uint64_t)done;
    sj->nodes[i].total = (uint64_t)total;
    job->stage_done = job->stage_total = 0;
    for (k = 0; k < sj->n; k++) {
        job->stage_done += sj->nodes[k].done;
        job->stage_total += sj->nodes[k].total;
    }
    events_job (c->ctld, job);
}

void staging_op_staged (struct conn *c, json_t *req, json_int_t seq)
{
    struct ctld *ctld = c->ctld;
    struct stage_job *sj;
    struct job *job;
    const char *reason = NULL, *scratch = NULL;
    json_t *paths = NULL, *keys = NULL;
    json_int_t hits = 0, copied = 0;
    int ok = 0, i;
    char why[400];

    (void)seq;
    json_unpack (req, "{s?o}", "keys", &keys);
    if (keys)
        staging_node_cache (ctld, c->node, keys);
    if (!(job = staging_job (c, req, &i, &sj))) {
        stale_report (c, req);
        return;
    }
    if (sj->nodes[i].finished)
        return;
    json_unpack (req, "{s?b s?s s?o s?s s?I s?I}", "ok", &ok, "reason", &reason,
                 "paths", &paths, "scratch", &scratch, "hits", &hits,
                 "copied_bytes", &copied);
    if (!ok) {
        snprintf (why, sizeof (why), "stage-in on %s: %s", c->node->name,
                  reason ? reason : "failed");
        log_warn ("job %ju: %s", (uintmax_t)job->id, why);
        ctld_job_transition (ctld, job, JOB_STAGE_FAILED, why);
        return;
    }
    job->stage_hits += (int)hits;
    job->stage_copied += (uint64_t)copied;
    sj->nodes[i].finished = true;
    sj->nodes[i].paths = json_incref (paths);
    sj->nodes[i].scratch = scratch ? strdup (scratch) : NULL;
    sj->nodes[i].done = sj->nodes[i].total;
    if (--sj->remaining > 0)
        return;
    /* every node has its data: run */
    job->start_time = ctld_now ();
    if (ctld_job_transition (ctld, job, JOB_RUNNING, NULL) == 0
        && nodeops_launch (ctld, job) < 0)
        ctld_job_transition (ctld, job, JOB_FAILED, "launch failed after staging");
}

void staging_op_cached (struct conn *c, json_t *req, json_int_t seq)
{
    json_t *keys = NULL;

    (void)seq;
    if (json_unpack (req, "{s:o}", "keys", &keys) == 0)
        staging_node_cache (c->ctld, c->node, keys);
}

bool staging_pending (struct ctld *ctld)
{
    size_t j;

    for (j = 0; j < jobtab_count (ctld->jobs); j++) {
        const struct job *job = jobtab_at (ctld->jobs, j);
        if (job->state == JOB_PENDING && job->stage_in)
            return true;
    }
    return false;
}

/* After a pass: a pending job that holds a reservation (or has an estimated
 * start soon) gets its data copied to the nodes it is expected on, once per
 * set of nodes, so staging overlaps its wait. */
void staging_prefetch (struct ctld *ctld)
{
    double now = ctld_now ();
    size_t j;

    for (j = 0; j < jobtab_count (ctld->jobs); j++) {
        struct job *job = jobtab_at (ctld->jobs, j);
        char **hl;
        const char *sent;
        char key[32];
        size_t i, n;
        if (job->state != JOB_PENDING || !job->stage_in || !job->est_nodes
            || job->est_start < 0 || job->est_start > now + PREFETCH_HORIZON
            || (job->reasons & SCHED_R_BLOCKING))
            continue;
        snprintf (key, sizeof (key), "%ju", (uintmax_t)job->id);
        sent = json_string_value (json_object_get (ctld->staging->prefetched, key));
        if (sent && !strcmp (sent, job->est_nodes))
            continue;
        if (!(hl = hostlist_expand (job->est_nodes, &n, NULL)))
            continue;
        for (i = 0; i < n; i++) {
            struct node *nd = nodetab_lookup (ctld->nodes, hl[i]);
            json_t *msg;
            if (!nd || !nd->conn)
                continue;
            if (!(msg = proto_request ("prefetch", nd->conn->out_seq++)))
                continue;
            json_object_set_new (msg, "index", json_integer ((json_int_t)i));
            json_object_set_new (msg, "count", json_integer ((json_int_t)n));
            json_object_set (msg, "datasets", job->stage_in);
            conn_send (nd->conn, msg);
        }
        hostlist_free (hl);
        log_debug ("job %ju: prefetching its datasets to %s", (uintmax_t)job->id,
                   job->est_nodes);
        json_object_set_new (ctld->staging->prefetched, key,
                             json_string (job->est_nodes));
    }
}
