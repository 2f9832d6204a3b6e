/* sched.c - job state changes and the scheduling pass (FIFO order comes
 * from the policy plugin; placement from sched/place.c) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "ctld.h"
#include "hostlist.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"
#include "parse.h"
#include "place.h"
#include "store.h"

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
        if (n->cpus_alloc < 0)
            n->cpus_alloc = 0;
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
    }
}

void sched_restore_allocs (struct ctld *ctld)
{
    size_t i;

    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        if (job->state == JOB_RUNNING || job->state == JOB_COMPLETING)
            apply_alloc (ctld, job);
    }
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
                             job->mem_mb };
    size_t i;
    int known = 0;
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
        if (!n || n->cpus <= 0)
            continue;
        caps[i].usable = true;
        caps[i].cpus_free = n->cpus;
        caps[i].mem_free = n->mem_mb;
        known++;
    }
    ok = known < (int)p->nnodes || place_possible (caps, (int)p->nnodes, &req);
    free (caps);
    if (!ok) {
        errno = EINVAL;
        char mem[32] = "", sz[16];
        if (job->mem_mb > 0)
            snprintf (mem, sizeof (mem), " and %s per node",
                      format_size_mb (job->mem_mb, sz, sizeof (sz)));
        return errprintf (err, "requested node configuration is not available: "
                          "%d task(s) of %d CPU(s)%s do not fit on %s%d node(s) "
                          "of partition %s", job->ntasks, job->cpus_per_task,
                          mem, job->nodes ? "" : "up to ",
                          job->nodes ? job->nodes : (int)p->nnodes, p->name);
    }
    return 0;
}

/* --- the pass ------------------------------------------------------------- */

struct ranked {
    struct job *job;
    double prio;
};

static int ranked_cmp (const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;

    if (x->prio != y->prio)
        return x->prio > y->prio ? -1 : 1;
    return x->job->id < y->job->id ? -1 : x->job->id > y->job->id;
}

static int start_job (struct ctld *ctld, struct job *job,
                      const struct conf_partition *p, const int *idx,
                      const int *tasks, int k)
{
    struct job_alloc *alloc = calloc ((size_t)k, sizeof (*alloc));
    char **names = calloc ((size_t)k + 1, sizeof (char *));
    int i;

    if (!alloc || !names)
        goto nomem;
    for (i = 0; i < k; i++) {
        alloc[i].node = strdup (p->nodes[idx[i]]);
        if (!alloc[i].node)
            goto nomem;
        alloc[i].tasks = tasks[i];
        alloc[i].cpus = tasks[i] * job->cpus_per_task;
        alloc[i].mem_mb = job->mem_mb;
        names[i] = alloc[i].node;
    }
    free (job->nodelist);
    job->nodelist = hostlist_compress (names, (size_t)k);
    free (names);
    job_set_alloc (job, alloc, k);
    apply_alloc (ctld, job);
    job->start_time = ctld_now ();
    if (ctld_job_transition (ctld, job, JOB_RUNNING, NULL) < 0)
        return -1;
    return nodeops_launch (ctld, job);
nomem:
    for (i = 0; alloc && i < k; i++)
        free (alloc[i].node);
    free (alloc);
    free (names);
    return -1;
}

/* Try to place job in its partition now.  1 started, 0 no room, -1 error. */
static int try_start (struct ctld *ctld, struct job *job,
                      struct place_node *pn, int *idx, int *tasks)
{
    const struct conf_partition *p = job_partition (ctld, job);
    struct place_req req = { job->nodes, job->ntasks, job->cpus_per_task,
                             job->mem_mb };
    size_t i;
    int k;

    if (!p)
        return 0;
    for (i = 0; i < p->nnodes; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, p->nodes[i]);
        pn[i].usable = n && node_usable (n);
        pn[i].cpus_free = n ? n->cpus - n->cpus_alloc : 0;
        pn[i].mem_free = n && n->mem_mb > n->mem_alloc ? n->mem_mb - n->mem_alloc : 0;
    }
    k = place_job (pn, (int)p->nnodes, &req, idx, tasks);
    if (k <= 0)
        return k;
    return start_job (ctld, job, p, idx, tasks, k) < 0 ? -1 : 1;
}

void sched_pass (struct ctld *ctld)
{
    const struct aios_policy_ops *ops = policy_ops (ctld->policy);
    struct aios_policy_view view = { .now = ctld_now (),
                                     .total_nodes = nodetab_count (ctld->nodes) };
    size_t i, n = 0, njobs = jobtab_count (ctld->jobs);
    size_t maxn = 0;
    struct ranked *r;
    struct place_node *pn;
    int *idx, *tasks;
    const char **blocked;   /* partitions whose head job cannot start */
    size_t nblocked = 0, b;

    ctld->passes++;
    for (i = 0; i < ctld->conf->nparts; i++)
        if (ctld->conf->parts[i].nnodes > maxn)
            maxn = ctld->conf->parts[i].nnodes;
    r = calloc (njobs + 1, sizeof (*r));
    pn = calloc (maxn + 1, sizeof (*pn));
    idx = calloc (maxn + 1, sizeof (int));
    tasks = calloc (maxn + 1, sizeof (int));
    blocked = calloc (ctld->conf->nparts + 1, sizeof (*blocked));
    if (!r || !pn || !idx || !tasks || !blocked)
        goto done;
    for (i = 0; i < njobs; i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        struct aios_policy_job pj;
        if (job->state != JOB_PENDING)
            continue;
        pj = (struct aios_policy_job){ job->id, job->submit_time,
                                       job->time_limit, job->nodes,
                                       job->ntasks, job->cpus_per_task,
                                       job->mem_mb, job->uid, job->partition };
        r[n].job = job;
        r[n++].prio = ops->priority (&pj, &view);
    }
    qsort (r, n, sizeof (*r), ranked_cmp);
    for (i = 0; i < n; i++) {
        struct job *job = r[i].job;
        int rc;
        if (job->held) {
            job_set_reason (job, "JobHeldUser");
            continue;
        }
        for (b = 0; b < nblocked && strcmp (blocked[b], job->partition); b++)
            ;
        if (b < nblocked) {
            job_set_reason (job, "Priority");
            continue;
        }
        rc = try_start (ctld, job, pn, idx, tasks);
        if (rc == 0) {
            job_set_reason (job, "Resources");
            /* strict order within a partition: nothing passes it (no
             * backfill yet) */
            if (nblocked < ctld->conf->nparts)
                blocked[nblocked++] = job->partition;
        }
    }
done:
    free (r);
    free (pn);
    free (idx);
    free (tasks);
    free (blocked);
}
