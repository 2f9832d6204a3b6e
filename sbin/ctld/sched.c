/* sched.c - job state changes and the scheduling pass (FIFO order comes
 * from the policy plugin; placement from sched/place.c) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>
#include <time.h>

#include "conn.h"
#include "core.h"
#include "ctld.h"
#include "hostlist.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"
#include "parse.h"
#include "place.h"
#include "store.h"
#include "usage.h"

struct ctld_sched {
    struct sched *core;
    struct usage *usage;
    struct aios_policy_weights weights;
    struct sched_input in;
    /* the input, rebuilt every pass in buffers kept between passes */
    struct sched_node *nodes;
    size_t nodes_cap;
    struct sched_part *parts;
    size_t parts_cap;
    int *pnodes;
    size_t pnodes_cap;
    struct sched_running *run;
    size_t run_cap;
    struct sched_alloc *ralloc;
    size_t ralloc_cap;
    struct sched_job *jobs;
    struct job **pjobs;
    size_t jobs_cap;
    /* counters, like Slurm's sdiag */
    uint64_t passes;
    double last_us, max_us, total_us;
    int last_depth;
    int last_started;
    uint64_t started, backfilled;
    double last_time;
    double last_estimate;   /* when start estimates were last computed */
    bool est_stale;         /* a pass ran without estimates since */
    /* array throttles: tasks running per array (sorted by id), and the
     * pending tasks let through in this pass */
    struct array_count {
        uint64_t id;
        int running;
        int admitted;
    } *arrays;
    size_t narrays, arrays_cap;
    uint64_t cur_array;     /* an array with none running: its count */
    int cur_admitted;
};

/* Start estimates cost most of a large pass: refresh them at most this
 * often (seconds); passes in between keep the last ones. */
#define ESTIMATE_INTERVAL 1.0

int ctld_job_save (struct ctld *ctld, struct job *job)
{
    aios_error_t err;
    json_t *rec = job_record (job);
    int rc;

    if (!rec) {
        ctld_fatal (ctld, "out of memory saving a job");
        return -1;
    }
    rc = store_put_job (ctld->store, job->id, job_state_name (job->state), rec,
                        &err);
    json_decref (rec);
    if (rc < 0) {
        ctld_fatal (ctld, err.text);
        return -1;
    }
    ctld_dirty (ctld);
    events_job (ctld, job);
    return 0;
}

static void release_alloc (struct ctld *ctld, struct job *job)
{
    int i;

    for (i = 0; i < job->nalloc; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, job->alloc[i].node);
        if (!n)
            continue;
        n->cpus_alloc -= job->alloc[i].cpus;
        n->mem_alloc -= job->alloc[i].mem_mb;
        n->gpus_alloc &= ~job->alloc[i].gpus;
        if (n->cpus_alloc < 0)
            n->cpus_alloc = 0;
        events_node (ctld, n);
    }
}

static void apply_alloc (struct ctld *ctld, struct job *job)
{
    int i;

    for (i = 0; i < job->nalloc; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, job->alloc[i].node);
        if (!n)
            continue;
        n->cpus_alloc += job->alloc[i].cpus;
        n->mem_alloc += job->alloc[i].mem_mb;
        n->gpus_alloc |= job->alloc[i].gpus;
        events_node (ctld, n);
    }
}

void sched_restore_allocs (struct ctld *ctld)
{
    size_t i;

    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        if (job->state == JOB_RUNNING || job->state == JOB_COMPLETING
            || job->state == JOB_STAGING)
            apply_alloc (ctld, job);
    }
}

/* The job's CPU-seconds count toward its user's fair-share usage. */
static void record_usage (struct ctld *ctld, struct job *job, double now)
{
    struct ctld_sched *cs = ctld->sched;
    aios_error_t err;
    double cpus = 0;
    int i;

    if (!cs)
        return;
    for (i = 0; i < job->nalloc; i++)
        cpus += job->alloc[i].cpus;
    if (usage_add (cs->usage, job->uid, cpus * (now - job->start_time), now) < 0)
        return;
    if (store_put_usage (ctld->store, job->uid, usage_get (cs->usage, job->uid, now),
                         now, &err) < 0)
        ctld_fatal (ctld, err.text);
}

int ctld_job_transition (struct ctld *ctld, struct job *job, int state,
                         const char *reason)
{
    aios_error_t err;
    enum job_state to = (enum job_state)state;
    double now = ctld_now ();

    if (!job_transition_ok (job->state, to)) {
        log_err ("job %ju: refused transition %s -> %s", (uintmax_t)job->id,
                 job_state_name (job->state), job_state_name (to));
        errno = EINVAL;
        return -1;
    }
    job->state = to;
    if (job_set_reason (job, reason) < 0)
        return -1;
    if (job_state_is_final (to)) {
        job->end_time = now;
        ctld->finished++;
        staging_job_ended (ctld, job);
        if (job->start_time > 0)
            record_usage (ctld, job, now);
        nodeops_release (ctld, job);
        release_alloc (ctld, job);
        ctld_sched_request (ctld);
    }
    if (store_add_event (ctld->store, job->id, now, job_state_name (to),
                         reason, &err) < 0) {
        ctld_fatal (ctld, err.text);
        return -1;
    }
    if (ctld_job_save (ctld, job) < 0)
        return -1;
    if (job_state_is_final (to))
        ops_job_finished (ctld, job);
    return 0;
}

int ctld_job_requeue (struct ctld *ctld, struct job *job, const char *reason)
{
    aios_error_t err;
    double now = ctld_now ();
    char *why = reason ? strdup (reason) : NULL;   /* may be job->reason */

    if (!job_transition_ok (job->state, JOB_PENDING)) {
        log_err ("job %ju: cannot requeue from %s", (uintmax_t)job->id,
                 job_state_name (job->state));
        free (why);
        errno = EINVAL;
        return -1;
    }
    if (!job_state_is_final (job->state)) {
        if (job->start_time > 0)
            record_usage (ctld, job, now);
        nodeops_release (ctld, job);
        release_alloc (ctld, job);
    }
    job_clear_alloc (job);
    staging_job_ended (ctld, job);
    job->state = JOB_PENDING;
    job->restarts++;
    job->start_time = job->end_time = 0;
    job->exit_code = job->term_signal = 0;
    job->cpu_time = 0;
    job->max_rss_kb = 0;
    job->warned = job->requeue_pending = job->cancel_requested = false;
    job->stage_hits = 0;        /* the next run's staging counts anew */
    job->stage_copied = 0;
    json_decref (job->models);
    job->models = NULL;
    free (job->nodelist);
    job->nodelist = NULL;
    job_set_reason (job, why);
    log_info ("job %ju requeued (%s)", (uintmax_t)job->id, why ? why : "");
    if (store_add_event (ctld->store, job->id, now, "PENDING", why, &err) < 0) {
        free (why);
        ctld_fatal (ctld, err.text);
        return -1;
    }
    free (why);
    if (ctld_job_save (ctld, job) < 0)
        return -1;
    ctld_sched_request (ctld);
    return 0;
}

/* --- checks at submit ------------------------------------------------------ */

static const struct conf_partition *job_partition (struct ctld *ctld,
                                                   const struct job *job)
{
    return conf_partition_lookup (ctld->conf, job->partition);
}

int sched_check_possible (struct ctld *ctld, struct job *job, aios_error_t *err)
{
    const struct conf_partition *p = job_partition (ctld, job);
    struct place_node *caps;
    struct place_req req = { job->nodes, job->ntasks, job->cpus_per_task,
                             job->mem_mb, job->gpus_per_node, job->exclusive };
    size_t i;
    int known = 0, featured = 0;
    bool ok;

    if (!p) {
        errno = ENOENT;
        return errprintf (err, "invalid partition \"%s\"", job->partition);
    }
    if (p->max_time >= 0 && (job->time_limit < 0 || job->time_limit > p->max_time)) {
        errno = EINVAL;
        return errprintf (err, "time limit exceeds partition %s's max_time "
                          "of %ld seconds", p->name, p->max_time);
    }
    if (job->nodes > (int)p->nnodes) {
        errno = EINVAL;
        return errprintf (err, "requested %d nodes but partition %s has only "
                          "%zu", job->nodes, p->name, p->nnodes);
    }
    if (!(caps = calloc (p->nnodes, sizeof (*caps))))
        return 0;
    for (i = 0; i < p->nnodes; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, p->nodes[i]);
        const struct conf_node *cn = conf_node_lookup (ctld->conf, p->nodes[i]);
        if (!n || n->cpus <= 0 || (cn && cn->gpus < 0 && n->base == NODE_UNKNOWN))
            continue;   /* not known yet: cannot judge */
        known++;
        if (!sched_features_match (n->features, job->constraint))
            continue;
        featured++;
        caps[i].usable = true;
        caps[i].idle = true;
        caps[i].cpus_free = n->cpus;
        caps[i].mem_free = n->mem_mb;
        caps[i].gpus_free = n->gpus;
    }
    if (known == (int)p->nnodes && featured == 0 && job->constraint) {
        free (caps);
        errno = EINVAL;
        return errprintf (err, "no node of partition %s has the features "
                          "\"%s\"", p->name, job->constraint);
    }
    ok = known < (int)p->nnodes || place_possible (caps, (int)p->nnodes, &req);
    free (caps);
    if (!ok) {
        char extra[96] = "", sz[16];
        size_t len = 0;
        errno = EINVAL;
        if (job->mem_mb > 0)
            len += (size_t)snprintf (extra + len, sizeof (extra) - len,
                                     " and %s", format_size_mb (job->mem_mb, sz,
                                                                sizeof (sz)));
        if (job->gpus_per_node > 0 && len < sizeof (extra))
            len += (size_t)snprintf (extra + len, sizeof (extra) - len,
                                     " and %d GPU(s)", job->gpus_per_node);
        if (job->exclusive && len < sizeof (extra))
            snprintf (extra + len, sizeof (extra) - len, ", whole nodes");
        return errprintf (err, "requested node configuration is not available: "
                          "%d task(s) of %d CPU(s)%s per node do not fit on "
                          "%s%d node(s) of partition %s", job->ntasks,
                          job->cpus_per_task, extra, job->nodes ? "" : "up to ",
                          job->nodes ? job->nodes : (int)p->nnodes, p->name);
    }
    return 0;
}

/* --- the core's input ------------------------------------------------------- */

static int grow (void **p, size_t *cap, size_t want, size_t size)
{
    size_t n = *cap ? *cap : 16;
    void *q;

    if (want <= *cap)
        return 0;
    while (n < want)
        n *= 2;
    if (!(q = realloc (*p, n * size)))
        return -1;
    *p = q;
    *cap = n;
    return 0;
}
#define GROW(p, cap, want) grow ((void **)&(p), &(cap), (want), sizeof (*(p)))

static int part_index (struct ctld *ctld, const char *name)
{
    size_t i;

    for (i = 0; name && i < ctld->conf->nparts; i++)
        if (!strcmp (ctld->conf->parts[i].name, name))
            return (int)i;
    return -1;
}

static void job_to_sched (struct ctld *ctld, struct job *job, bool priority,
                          struct sched_job *sj)
{
    int q = conf_qos_priority (ctld->conf, job->qos);

    memset (sj, 0, sizeof (*sj));
    sj->id = job->id;
    sj->part = part_index (ctld, job->partition);
    sj->submit_time = job->submit_time;
    sj->time_limit = job->time_limit;
    sj->nodes = job->nodes;
    sj->ntasks = job->ntasks;
    sj->cpus_per_task = job->cpus_per_task;
    sj->mem_mb = job->mem_mb;
    sj->gpus_per_node = job->gpus_per_node;
    sj->exclusive = job->exclusive;
    sj->constraint = job->constraint;
    sj->uid = job->uid;
    sj->nice = job->nice;
    sj->qos_priority = q > 0 ? q : 0;
    sj->held = job->held;
    sj->fixed_priority = job->has_admin_priority;
    sj->priority = job->admin_priority;
    sj->extra_reasons = deps_reasons (ctld, job);
    sj->prefer = staging_prefer (ctld, job);
    if (job->begin_time > ctld_now ())
        sj->extra_reasons |= SCHED_R_BEGIN;
    (void)priority;
}

/* Array throttles (%N): running tasks per array, counted in id order
 * (tasks of one array have consecutive ids, so arrays come sorted). */
static int array_count_running (struct ctld_sched *cs, const struct job *job)
{
    if (cs->narrays > 0 && cs->arrays[cs->narrays - 1].id == job->array_job_id) {
        cs->arrays[cs->narrays - 1].running++;
        return 0;
    }
    if (GROW (cs->arrays, cs->arrays_cap, cs->narrays + 1))
        return -1;
    cs->arrays[cs->narrays++] = (struct array_count){ job->array_job_id, 1, 0 };
    return 0;
}

static struct array_count *array_find (struct ctld_sched *cs, uint64_t id)
{
    size_t lo = 0, hi = cs->narrays;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cs->arrays[mid].id == id)
            return &cs->arrays[mid];
        if (cs->arrays[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A pending task may start only while the tasks running plus those already
 * let through in this pass stay under the throttle: so one pass never
 * starts more than the throttle allows. */
static void array_throttle (struct ctld_sched *cs, const struct job *job,
                            struct sched_job *sj)
{
    struct array_count *a = array_find (cs, job->array_job_id);
    int used = a ? a->running + a->admitted : cs->cur_admitted;

    if (sj->extra_reasons || sj->held)
        return;
    if (!a && cs->cur_array != job->array_job_id) {
        cs->cur_array = job->array_job_id;
        cs->cur_admitted = used = 0;
    }
    if (used >= job->array_throttle) {
        sj->extra_reasons |= SCHED_R_ARRAY_LIMIT;
        return;
    }
    if (a)
        a->admitted++;
    else
        cs->cur_admitted++;
}

/* Fill cs->in from the controller's state; extra (a job not in the table,
 * for --test-only) is added last.  -1 on ENOMEM. */
static int build_input (struct ctld *ctld, struct job *extra, double now)
{
    struct ctld_sched *cs = ctld->sched;
    const struct aios_conf *conf = ctld->conf;
    int nn = nodetab_count (ctld->nodes), i;
    size_t j, np = 0, nr = 0, na = 0, npend = 0, njobs = jobtab_count (ctld->jobs);

    if (GROW (cs->nodes, cs->nodes_cap, (size_t)nn + 1))
        return -1;
    for (i = 0; i < nn; i++) {
        struct node *n = nodetab_at (ctld->nodes, i);
        cs->nodes[i] = (struct sched_node){ n->name, n->cpus > 0 ? n->cpus : 0,
                                            n->mem_mb, n->gpus, n->features,
                                            node_usable (n) };
    }
    for (j = 0; j < conf->nparts; j++)
        np += conf->parts[j].nnodes;
    if (GROW (cs->parts, cs->parts_cap, conf->nparts + 1)
        || GROW (cs->pnodes, cs->pnodes_cap, np + 1))
        return -1;
    np = 0;
    for (j = 0; j < conf->nparts; j++) {
        const struct conf_partition *cp = &conf->parts[j];
        struct sched_part *sp = &cs->parts[j];
        size_t k;
        sp->name = cp->name;
        sp->nodes = cs->pnodes + np;
        sp->nnodes = 0;
        sp->max_time = cp->max_time;
        sp->priority = cp->priority;
        for (k = 0; k < cp->nnodes; k++) {
            struct node *n = nodetab_lookup (ctld->nodes, cp->nodes[k]);
            if (n)
                cs->pnodes[np + (size_t)sp->nnodes++] = n->index;
        }
        np += (size_t)sp->nnodes;
    }
    /* running jobs and their allocations */
    cs->narrays = 0;
    cs->cur_array = 0;
    cs->cur_admitted = 0;
    for (j = 0; j < njobs; j++) {
        struct job *job = jobtab_at (ctld->jobs, j);
        if (job->state == JOB_RUNNING || job->state == JOB_COMPLETING
            || job->state == JOB_STAGING) {
            nr++;
            na += (size_t)job->nalloc;
            if (job->array_throttle > 0 && array_count_running (cs, job) < 0)
                return -1;
        } else if (job->state == JOB_PENDING)
            npend++;
    }
    if (GROW (cs->run, cs->run_cap, nr + 1) || GROW (cs->ralloc, cs->ralloc_cap, na + 1)
        || GROW (cs->jobs, cs->jobs_cap, npend + 2))
        return -1;
    if (cs->jobs_cap > 0) {
        void *q = realloc (cs->pjobs, cs->jobs_cap * sizeof (*cs->pjobs));
        if (!q)
            return -1;
        cs->pjobs = q;
    }
    nr = na = npend = 0;
    for (j = 0; j < njobs; j++) {
        struct job *job = jobtab_at (ctld->jobs, j);
        if (job->state == JOB_RUNNING || job->state == JOB_COMPLETING
            || job->state == JOB_STAGING) {
            struct sched_running *r = &cs->run[nr++];
            int k, used = 0;
            r->id = job->id;
            r->end = job->time_limit < 0 ? INFINITY
                     : (job->state == JOB_STAGING ? now : job->start_time)
                       + (double)job->time_limit;
            /* overdue jobs (being killed) end any moment now */
            if (r->end < now)
                r->end = now;
            r->exclusive = job->exclusive;
            r->alloc = cs->ralloc + na;
            for (k = 0; k < job->nalloc; k++) {
                struct node *n = nodetab_lookup (ctld->nodes, job->alloc[k].node);
                struct sched_alloc *a = &cs->ralloc[na + (size_t)used];
                if (!n)
                    continue;
                a->node = n->index;
                a->tasks = job->alloc[k].tasks;
                a->cpus = job->alloc[k].cpus;
                a->mem_mb = job->alloc[k].mem_mb;
                a->gpus = job->alloc[k].gpus;
                used++;
            }
            r->nalloc = used;
            na += (size_t)used;
        } else if (job->state == JOB_PENDING) {
            job_to_sched (ctld, job, false, &cs->jobs[npend]);
            if (job->array_throttle > 0)
                array_throttle (cs, job, &cs->jobs[npend]);
            cs->pjobs[npend++] = job;
        }
    }
    if (extra) {
        job_to_sched (ctld, extra, false, &cs->jobs[npend]);
        cs->pjobs[npend++] = extra;
    }
    if (usage_fill (cs->usage, cs->jobs, (int)npend, now) < 0)
        return -1;
    usage_set_half_life (cs->usage, (double)conf->half_life);
    cs->weights = (struct aios_policy_weights){
        conf->weight_age, conf->weight_size, conf->weight_partition,
        conf->weight_qos, conf->weight_fairshare, (double)conf->max_age,
        conf->favor_small,
    };
    cs->in = (struct sched_input){
        .now = now, .nodes = cs->nodes, .nnodes = nn, .parts = cs->parts,
        .nparts = (int)conf->nparts, .running = cs->run, .nrunning = (int)nr,
        .jobs = cs->jobs, .njobs = (int)npend,
        .policy = policy_ops (ctld->policy), .weights = &cs->weights,
        .backfill = strcmp (conf->backfill, "none") ? SCHED_BACKFILL_EASY
                                                    : SCHED_BACKFILL_NONE,
        .estimate_depth = conf->estimate_depth,
    };
    return 0;
}

static char *alloc_nodelist (struct ctld *ctld, const struct sched_alloc *a, int n)
{
    char **names = calloc ((size_t)n + 1, sizeof (char *));
    char *list;
    int i;

    if (!names)
        return NULL;
    for (i = 0; i < n; i++)
        names[i] = nodetab_at (ctld->nodes, a[i].node)->name;
    list = hostlist_compress (names, (size_t)n);
    free (names);
    return list;
}

/* --- the pass ------------------------------------------------------------- */

static int start_job (struct ctld *ctld, struct job *job,
                      const struct sched_alloc *sa, int k)
{
    struct job_alloc *alloc = calloc ((size_t)k, sizeof (*alloc));
    int i;

    if (!alloc)
        return -1;
    for (i = 0; i < k; i++) {
        if (!(alloc[i].node = strdup (nodetab_at (ctld->nodes, sa[i].node)->name)))
            goto nomem;
        alloc[i].tasks = sa[i].tasks;
        alloc[i].cpus = sa[i].cpus;
        alloc[i].mem_mb = sa[i].mem_mb;
        alloc[i].gpus = sa[i].gpus;
    }
    free (job->nodelist);
    if (!(job->nodelist = alloc_nodelist (ctld, sa, k)))
        goto nomem;
    job_set_alloc (job, alloc, k);
    apply_alloc (ctld, job);
    job->reasons = 0;
    job->position = 0;
    if (job->stage_in) {
        /* its datasets first; it runs when every node has them */
        if (ctld_job_transition (ctld, job, JOB_STAGING, "Staging") < 0)
            return -1;
        return staging_start (ctld, job);
    }
    job->start_time = ctld_now ();
    if (ctld_job_transition (ctld, job, JOB_RUNNING, NULL) < 0)
        return -1;
    return nodeops_launch (ctld, job);
nomem:
    for (i = 0; i < k; i++)
        free (alloc[i].node);
    free (alloc);
    return -1;
}

static double mono_us (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void set_estimate (struct ctld *ctld, struct job *job,
                          const struct sched_result *r)
{
    job->est_start = r->est_start;
    free (job->est_nodes);
    job->est_nodes = r->est_alloc && r->est_nalloc > 0
        ? alloc_nodelist (ctld, r->est_alloc, r->est_nalloc) : NULL;
}

void sched_tick (struct ctld *ctld, double now)
{
    struct ctld_sched *cs = ctld->sched;

    /* passes since the last estimates skipped them: when a pending job
     * waits for datasets, bring them up to date so its data is prefetched
     * to the nodes reserved for it (estimates cost a pass: not otherwise) */
    if (cs && cs->est_stale && now - cs->last_estimate >= ESTIMATE_INTERVAL
        && staging_pending (ctld)) {
        sched_refresh_estimates (ctld);
        staging_prefetch (ctld);
    }
}

void sched_refresh_estimates (struct ctld *ctld)
{
    struct ctld_sched *cs = ctld->sched;
    const struct sched_result *res;
    int i;

    if (!cs->est_stale)
        return;
    if (build_input (ctld, NULL, ctld_now ()) < 0
        || sched_pass (cs->core, &cs->in) < 0) {
        log_err ("start estimates: %s", strerror (errno));
        return;
    }
    /* a what-if pass: nothing starts, only the estimates are kept */
    res = sched_results (cs->core);
    for (i = 0; i < cs->in.njobs; i++)
        set_estimate (ctld, cs->pjobs[i], &res[i]);
    cs->est_stale = false;
    cs->last_estimate = cs->in.now;
}

void ctld_sched_pass (struct ctld *ctld)
{
    struct ctld_sched *cs = ctld->sched;
    const struct sched_result *res;
    const int *order;
    double t0 = mono_us (), us, now = ctld_now ();
    int i, started = 0;
    bool estimate;

    if (build_input (ctld, NULL, now) < 0) {
        log_err ("scheduling pass failed: %s", strerror (errno));
        return;
    }
    estimate = now - cs->last_estimate >= ESTIMATE_INTERVAL;
    if (!estimate)
        cs->in.estimate_depth = 0;
    else
        cs->last_estimate = now;
    cs->est_stale = !estimate;
    if (sched_pass (cs->core, &cs->in) < 0) {
        log_err ("scheduling pass failed: %s", strerror (errno));
        return;
    }
    res = sched_results (cs->core);
    order = sched_order (cs->core);
    for (i = 0; i < cs->in.njobs; i++) {
        int ji = order[i];
        struct job *job = cs->pjobs[ji];
        const struct sched_result *r = &res[ji];
        if (r->start) {
            if (start_job (ctld, job, r->alloc, r->nalloc) < 0)
                log_err ("job %ju: could not start: %s", (uintmax_t)job->id,
                         strerror (errno));
            started++;
            if (r->backfilled)
                cs->backfilled++;
            continue;
        }
        job->reasons = r->reasons;
        job->position = r->position;
        job->priority = r->priority;
        job->blocked_by = r->blocked_by;
        if (estimate)
            set_estimate (ctld, job, r);
        {
            const char *why = sched_reason_name (sched_main_reason (r->reasons));
            if (why && (!job->reason || strcmp (job->reason, why) != 0)) {
                job_set_reason (job, why);
                events_job (ctld, job);
            }
        }
    }
    /* --kill-on-invalid-dep: a dependency that can never hold cancels */
    for (i = 0; i < cs->in.njobs; i++) {
        struct job *job = cs->pjobs[order[i]];
        if (job->state == JOB_PENDING && job->kill_on_invalid_dep
            && (res[order[i]].reasons & SCHED_R_DEP_NEVER))
            ctld_job_transition (ctld, job, JOB_CANCELLED,
                                 "its dependency can never be satisfied");
    }
    us = mono_us () - t0;
    cs->passes++;
    ctld->passes++;
    cs->last_us = us;
    cs->total_us += us;
    if (us > cs->max_us)
        cs->max_us = us;
    cs->last_depth = cs->in.njobs;
    cs->last_started = started;
    cs->started += (uint64_t)started;
    cs->last_time = ctld_now ();
    staging_prefetch (ctld);
}

int sched_test (struct ctld *ctld, struct job *job, bool in_table,
                struct sched_test *t)
{
    struct ctld_sched *cs = ctld->sched;
    const struct sched_result *r;
    int i, k = -1;

    memset (t, 0, sizeof (*t));
    if (build_input (ctld, in_table ? NULL : job, ctld_now ()) < 0)
        return -1;
    for (i = 0; i < cs->in.njobs; i++)
        if (cs->pjobs[i] == job)
            k = i;
    if (k < 0) {
        errno = ENOENT;
        return -1;
    }
    /* a what-if sees the job as it would be without a hold */
    cs->jobs[k].held = false;
    if (cs->in.estimate_depth < 1)
        cs->in.estimate_depth = 1;
    if (sched_pass (cs->core, &cs->in) < 0)
        return -1;
    r = &sched_results (cs->core)[k];
    t->start = r->start;
    t->reasons = r->reasons;
    t->position = r->position;
    t->est_start = r->est_start;
    t->nodes = r->est_alloc && r->est_nalloc > 0
        ? alloc_nodelist (ctld, r->est_alloc, r->est_nalloc) : NULL;
    for (i = 0; i < r->est_nalloc; i++)
        t->cpus += r->est_alloc[i].cpus;
    return 0;
}

json_t *sched_stats_json (struct ctld *ctld)
{
    struct ctld_sched *cs = ctld->sched;

    return json_pack ("{s:s s:s s:I s:f s:f s:f s:i s:i s:I s:I s:f}",
                      "policy", ctld->conf->policy,
                      "backfill", ctld->conf->backfill,
                      "passes", (json_int_t)cs->passes,
                      "last_us", cs->last_us,
                      "max_us", cs->max_us,
                      "mean_us", cs->passes ? cs->total_us / (double)cs->passes : 0.0,
                      "last_depth", cs->last_depth,
                      "last_started", cs->last_started,
                      "started", (json_int_t)cs->started,
                      "backfilled", (json_int_t)cs->backfilled,
                      "last_pass_time", cs->last_time);
}

static int load_usage_cb (uint32_t uid, double value, double t, void *arg)
{
    return usage_set (arg, uid, value, t);
}

int sched_init (struct ctld *ctld, aios_error_t *err)
{
    struct ctld_sched *cs = calloc (1, sizeof (*cs));

    if (!cs || !(cs->core = sched_create ())
        || !(cs->usage = usage_create ((double)ctld->conf->half_life))) {
        if (cs)
            sched_destroy (cs->core);
        free (cs);
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    ctld->sched = cs;
    return store_load_usage (ctld->store, load_usage_cb, cs->usage, err);
}

void sched_fini (struct ctld *ctld)
{
    struct ctld_sched *cs = ctld->sched;

    if (!cs)
        return;
    sched_destroy (cs->core);
    usage_destroy (cs->usage);
    free (cs->nodes);
    free (cs->parts);
    free (cs->pnodes);
    free (cs->run);
    free (cs->ralloc);
    free (cs->jobs);
    free (cs->pjobs);
    free (cs->arrays);
    free (cs);
    ctld->sched = NULL;
}
