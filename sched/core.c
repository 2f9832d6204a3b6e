/* core.c - the scheduling core (see core.h)
 *
 * Per pass, everything lives in buffers owned by struct sched and reused:
 *   free_[]      what each node has free now (after this pass's starts)
 *   pv[p][]      the same, per partition, in the form place_job() reads
 *   pcpus[p]     free CPUs on usable nodes of partition p (quick rejects)
 *   ends[]       running and just-started jobs with their expected ends
 *   allocs[]     every allocation the pass produced (results point here)
 *   shapes       a hash of request shapes: what failed now (free resources
 *                only shrink in a pass)
 *   poss         a hash of request shapes kept between passes: could the
 *                shape ever run (cleared when the nodes or partitions change)
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "place.h"

struct nfree {
    int cpus;
    uint64_t mem;
    uint64_t gmask;     /* free GPUs */
};

struct end_ent {
    double end;
    int off;            /* into allocs[] */
    int n;
};

struct slack {
    int node;
    int cpus;
    int64_t mem;
    int gpus;
};

struct resv {
    int part;
    uint64_t holder;
    double shadow;
    int off;            /* into slacks[] */
    int n;
    long excess;        /* free CPUs now on its nodes beyond their slack */
    bool excess_ok;
};

struct shape {
    unsigned gen;               /* in use when equal to its table's gen */
    int part, nodes, ntasks, cpt, gpn;
    uint64_t mem;
    bool excl;
    signed char possible_all;    /* -1 unknown */
    signed char possible_usable;
    bool fail_now;
    double fail_long_end;       /* a long attempt ending here failed */
    uint64_t blocker;           /* ... held back by this reservation */
};

struct shape_tab {
    struct shape *v;
    size_t size;        /* slots in use this pass: a power of two */
    size_t cap;         /* slots allocated */
    size_t n;           /* occupied */
    unsigned gen;       /* bumped to empty the table without a memset */
};

struct sched {
    const struct sched_input *in;

    struct sched_result *res;
    size_t res_cap;
    int *order;
    size_t order_cap;
    int *tmp_order;
    double *prio;
    size_t prio_cap;
    uint64_t *hash;         /* each job's shape hash */
    size_t hash_cap;

    struct nfree *free_;
    size_t free_cap;
    int *np_start;          /* CSR: node -> (partition, index) */
    int *np_list;
    size_t np_cap, nps_cap;

    struct place_node **pv;
    int *pv_cap;
    long *pcpus;
    size_t parts_cap;
    struct place_node *cap_all;     /* scratch */
    struct place_node *tmpv;
    size_t tmpv_cap;
    struct place_node *prefv;   /* a view narrowed to a job's preferred nodes */
    size_t prefv_cap;
    int *idx, *tasks;
    size_t idx_cap;

    struct end_ent *ends;
    size_t nends, ends_cap;
    bool ends_sorted;

    struct sched_alloc *allocs;
    size_t nallocs, allocs_cap;
    int *alloc_off, *est_off;       /* per job, -1 none */
    size_t off_cap;

    struct resv *resv;
    size_t nresv, resv_cap;
    struct slack *slacks;
    size_t nslacks, slacks_cap;

    struct shape_tab shapes;
    struct shape_tab poss;
    uint64_t fingerprint;   /* of the nodes and partitions poss is for */

    /* per partition pass state */
    int *ppos;
    bool *pblocked;
    uint64_t *pfirst;
    bool *phas_resv;

    struct end_ent *heap;
    size_t nheap, heap_cap;

    struct sched_stats stats;
};

/* --- small helpers -------------------------------------------------------- */

static int grow (void **p, size_t *cap, size_t want, size_t size)
{
    size_t n;
    void *q;

    if (want <= *cap)
        return 0;
    n = *cap ? *cap : 16;
    while (n < want)
        n *= 2;
    if (!(q = realloc (*p, n * size))) {
        errno = ENOMEM;
        return -1;
    }
    *p = q;
    *cap = n;
    return 0;
}
#define GROW(p, cap, want) grow ((void **)&(p), &(cap), (want), sizeof (*(p)))

static int popcount64 (uint64_t x)
{
    return __builtin_popcountll (x);
}

static uint64_t all_gpus (int n)
{
    return n >= 64 ? ~0ULL : ((1ULL << n) - 1);
}

static const char *reason_names[] = {
    "JobHeldUser", "InvalidPartition", "PartitionTimeLimit",
    "PartitionNodeLimit", "BadConstraints", "ReqNodeNotAvail", "Resources",
    "Priority", "Reservation", "Dependency", "DependencyNeverSatisfied",
    "BeginTime", "JobArrayTaskLimit",
};

const char *sched_reason_name (unsigned bit)
{
    unsigned i;

    for (i = 0; i < sizeof (reason_names) / sizeof (reason_names[0]); i++)
        if (bit == 1u << i)
            return reason_names[i];
    return NULL;
}

unsigned sched_main_reason (unsigned r)
{
    static const unsigned order[] = {
        SCHED_R_HELD, SCHED_R_PARTITION, SCHED_R_PART_TIME,
        SCHED_R_PART_NODES, SCHED_R_CONSTRAINT, SCHED_R_DEP_NEVER,
        SCHED_R_DEPENDENCY, SCHED_R_BEGIN, SCHED_R_ARRAY_LIMIT,
        SCHED_R_NODES_DOWN, SCHED_R_PRIORITY, SCHED_R_RESERVATION,
        SCHED_R_RESOURCES,
    };
    size_t i;

    for (i = 0; i < sizeof (order) / sizeof (order[0]); i++)
        if (r & order[i])
            return order[i];
    return 0;
}

bool sched_features_match (const char *features, const char *constraint)
{
    const char *c = constraint;

    if (!c || !*c)
        return true;
    while (*c) {
        size_t len = strcspn (c, ",");
        const char *f = features;
        bool found = false;
        while (len > 0 && f && *f) {
            size_t flen = strcspn (f, ",");
            if (flen == len && !strncmp (f, c, len)) {
                found = true;
                break;
            }
            f += flen;
            if (*f == ',')
                f++;
        }
        if (len > 0 && !found)
            return false;
        c += len;
        if (*c == ',')
            c++;
    }
    return true;
}

struct sched *sched_create (void)
{
    return calloc (1, sizeof (struct sched));
}

void sched_destroy (struct sched *s)
{
    size_t i;

    if (!s)
        return;
    free (s->res);
    free (s->order);
    free (s->tmp_order);
    free (s->prio);
    free (s->hash);
    free (s->free_);
    free (s->np_start);
    free (s->np_list);
    for (i = 0; s->pv && i < s->parts_cap; i++)
        free (s->pv[i]);
    free (s->pv);
    free (s->pv_cap);
    free (s->pcpus);
    free (s->cap_all);
    free (s->tmpv);
    free (s->prefv);
    free (s->idx);
    free (s->tasks);
    free (s->ends);
    free (s->allocs);
    free (s->alloc_off);
    free (s->est_off);
    free (s->resv);
    free (s->slacks);
    free (s->shapes.v);
    free (s->poss.v);
    free (s->ppos);
    free (s->pblocked);
    free (s->pfirst);
    free (s->phas_resv);
    free (s->heap);
    free (s);
}

const struct sched_result *sched_results (const struct sched *s)
{
    return s->res;
}

const int *sched_order (const struct sched *s)
{
    return s->order;
}

const struct sched_stats *sched_stats (const struct sched *s)
{
    return &s->stats;
}

/* --- validation ----------------------------------------------------------- */

static int check_input (const struct sched_input *in)
{
    int i, j;

    if (!in || !in->policy || !in->policy->priority || in->nnodes < 0
        || in->nparts < 0 || in->nrunning < 0 || in->njobs < 0)
        return -1;
    for (i = 0; i < in->nnodes; i++)
        if (in->nodes[i].cpus < 0 || in->nodes[i].gpus < 0
            || in->nodes[i].gpus > SCHED_GPUS_MAX)
            return -1;
    for (i = 0; i < in->nparts; i++)
        for (j = 0; j < in->parts[i].nnodes; j++)
            if (in->parts[i].nodes[j] < 0 || in->parts[i].nodes[j] >= in->nnodes)
                return -1;
    for (i = 0; i < in->nrunning; i++)
        for (j = 0; j < in->running[i].nalloc; j++)
            if (in->running[i].alloc[j].node < 0
                || in->running[i].alloc[j].node >= in->nnodes)
                return -1;
    for (i = 0; i < in->njobs; i++) {
        const struct sched_job *job = &in->jobs[i];
        if (job->part >= in->nparts || job->ntasks < 1 || job->cpus_per_task < 1
            || job->nodes < 0 || job->nodes > job->ntasks
            || job->gpus_per_node < 0 || job->gpus_per_node > SCHED_GPUS_MAX)
            return -1;
    }
    return 0;
}

/* --- node and partition views -------------------------------------------- */

/* The place_node for node n in its current state. */
static struct place_node node_view (const struct sched *s, int n)
{
    const struct sched_node *nd = &s->in->nodes[n];
    const struct nfree *f = &s->free_[n];
    struct place_node v;

    v.cpus_free = f->cpus > 0 ? f->cpus : 0;
    v.mem_free = f->mem;
    v.gpus_free = popcount64 (f->gmask);
    v.idle = f->cpus >= nd->cpus && f->mem >= nd->mem_mb
        && v.gpus_free >= nd->gpus;
    v.usable = nd->usable;
    return v;
}

/* Node n changed: refresh it in every partition view and the CPU sums. */
static void sync_node (struct sched *s, int n)
{
    struct place_node v = node_view (s, n);
    int i;

    for (i = s->np_start[n]; i < s->np_start[n + 1]; i++) {
        int p = s->np_list[2 * i], k = s->np_list[2 * i + 1];
        struct place_node *old = &s->pv[p][k];
        if (old->usable)
            s->pcpus[p] -= old->cpus_free;
        *old = v;
        if (v.usable)
            s->pcpus[p] += v.cpus_free;
    }
}

static int build_views (struct sched *s)
{
    const struct sched_input *in = s->in;
    size_t total = 0;
    int i, j, p;

    if (GROW (s->free_, s->free_cap, (size_t)in->nnodes + 1)
        || GROW (s->np_start, s->np_cap, (size_t)in->nnodes + 2))
        return -1;
    for (i = 0; i < in->nnodes; i++) {
        s->free_[i].cpus = in->nodes[i].cpus;
        s->free_[i].mem = in->nodes[i].mem_mb;
        s->free_[i].gmask = all_gpus (in->nodes[i].gpus);
    }
    for (i = 0; i < in->nrunning; i++) {
        for (j = 0; j < in->running[i].nalloc; j++) {
            const struct sched_alloc *a = &in->running[i].alloc[j];
            struct nfree *f = &s->free_[a->node];
            f->cpus -= a->cpus;
            f->mem = f->mem > a->mem_mb ? f->mem - a->mem_mb : 0;
            f->gmask &= ~a->gpus;
        }
    }
    /* CSR node -> (partition, index) */
    memset (s->np_start, 0, sizeof (int) * ((size_t)in->nnodes + 2));
    for (p = 0; p < in->nparts; p++) {
        total += (size_t)in->parts[p].nnodes;
        for (j = 0; j < in->parts[p].nnodes; j++)
            s->np_start[in->parts[p].nodes[j] + 2]++;
    }
    for (i = 0; i < in->nnodes; i++)
        s->np_start[i + 2] += s->np_start[i + 1];
    if (GROW (s->np_list, s->nps_cap, 2 * total + 2))
        return -1;
    for (p = 0; p < in->nparts; p++) {
        for (j = 0; j < in->parts[p].nnodes; j++) {
            int n = in->parts[p].nodes[j];
            int at = s->np_start[n + 1]++;
            s->np_list[2 * at] = p;
            s->np_list[2 * at + 1] = j;
        }
    }
    /* per partition views */
    if ((size_t)in->nparts > s->parts_cap) {
        size_t old = s->parts_cap, n = (size_t)in->nparts;
        void *a = realloc (s->pv, n * sizeof (*s->pv));
        if (!a)
            goto nomem;
        s->pv = a;
        memset (s->pv + old, 0, (n - old) * sizeof (*s->pv));
        if (!(a = realloc (s->pv_cap, n * sizeof (int))))
            goto nomem;
        s->pv_cap = a;
        memset (s->pv_cap + old, 0, (n - old) * sizeof (int));
#define RE(f) if (!(a = realloc (s->f, n * sizeof (*s->f)))) goto nomem; s->f = a;
        RE (pcpus) RE (ppos) RE (pblocked) RE (pfirst) RE (phas_resv)
#undef RE
        s->parts_cap = n;
    }
    for (p = 0; p < in->nparts; p++) {
        int nn = in->parts[p].nnodes;
        if (nn + 1 > s->pv_cap[p]) {
            void *a = realloc (s->pv[p], sizeof (struct place_node) * ((size_t)nn + 1));
            if (!a)
                goto nomem;
            s->pv[p] = a;
            s->pv_cap[p] = nn + 1;
        }
        s->pcpus[p] = 0;
        s->ppos[p] = 0;
        s->pblocked[p] = false;
        s->pfirst[p] = 0;
        s->phas_resv[p] = false;
        for (j = 0; j < nn; j++) {
            s->pv[p][j] = node_view (s, in->parts[p].nodes[j]);
            if (s->pv[p][j].usable)
                s->pcpus[p] += s->pv[p][j].cpus_free;
        }
    }
    return 0;
nomem:
    errno = ENOMEM;
    return -1;
}

/* --- shapes ---------------------------------------------------------------- */

static uint64_t shape_hash (const struct sched_job *j)
{
    uint64_t h = 1469598103934665603ULL;
    uint64_t v[7] = { (uint64_t)j->part, (uint64_t)j->nodes,
                      (uint64_t)j->ntasks, (uint64_t)j->cpus_per_task,
                      (uint64_t)j->gpus_per_node, j->mem_mb,
                      (uint64_t)j->exclusive };
    int i;

    for (i = 0; i < 7; i++) {
        h ^= v[i];
        h *= 1099511628211ULL;
        h ^= h >> 29;
    }
    return h;
}

/* Empty tab, sized for about want shapes.  -1 on ENOMEM. */
static int tab_reset (struct shape_tab *t, size_t want)
{
    size_t size = 64;

    while (size < 2 * want && size < (1u << 16))
        size *= 2;
    if (size > t->cap) {
        struct shape *v = calloc (size, sizeof (*v));
        if (!v) {
            errno = ENOMEM;
            return -1;
        }
        free (t->v);
        t->v = v;
        t->cap = size;
        t->gen = 0;
    }
    if (++t->gen == 0) {
        memset (t->v, 0, t->cap * sizeof (*t->v));
        t->gen = 1;
    }
    t->size = size;
    t->n = 0;
    return 0;
}

/* The entry for job's shape in t, added if new; NULL when constrained
 * (constraints are not cached) or t is 3/4 full. */
static struct shape *tab_get (struct shape_tab *t, const struct sched_job *j,
                              uint64_t hash)
{
    size_t mask = t->size - 1, i;

    if ((j->constraint && *j->constraint) || t->size == 0)
        return NULL;
    for (i = hash & mask;; i = (i + 1) & mask) {
        struct shape *e = &t->v[i];
        if (e->gen != t->gen) {
            if (t->n + 1 > t->size * 3 / 4)
                return NULL;
            t->n++;
            e->gen = t->gen;
            e->part = j->part;
            e->nodes = j->nodes;
            e->ntasks = j->ntasks;
            e->cpt = j->cpus_per_task;
            e->gpn = j->gpus_per_node;
            e->mem = j->mem_mb;
            e->excl = j->exclusive;
            e->possible_all = e->possible_usable = -1;
            e->fail_now = false;
            e->fail_long_end = INFINITY;
            return e;
        }
        if (e->part == j->part && e->nodes == j->nodes && e->ntasks == j->ntasks
            && e->cpt == j->cpus_per_task && e->gpn == j->gpus_per_node
            && e->mem == j->mem_mb && e->excl == j->exclusive)
            return e;
    }
}

/* The job's shape this pass (hashes are computed once per job). */
static struct shape *shape_get (struct sched *s, const struct sched_job *j)
{
    return tab_get (&s->shapes, j, s->hash[j - s->in->jobs]);
}

/* A hash of everything "possible" depends on: nodes and partitions. */
static uint64_t fingerprint (const struct sched_input *in)
{
    uint64_t h = 1469598103934665603ULL;
    int i, k;

#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ULL)
    MIX (in->nnodes);
    for (i = 0; i < in->nnodes; i++) {
        const struct sched_node *n = &in->nodes[i];
        MIX (n->cpus);
        MIX (n->mem_mb);
        MIX (n->gpus);
        MIX (n->usable);
        for (k = 0; n->features && n->features[k]; k++)
            MIX (n->features[k]);
    }
    MIX (in->nparts);
    for (i = 0; i < in->nparts; i++) {
        MIX (in->parts[i].nnodes);
        for (k = 0; k < in->parts[i].nnodes; k++)
            MIX (in->parts[i].nodes[k]);
    }
#undef MIX
    return h;
}

/* --- placement -------------------------------------------------------------- */

static struct place_req job_req (const struct sched_job *j)
{
    struct place_req r = { j->nodes, j->ntasks, j->cpus_per_task, j->mem_mb,
                           j->gpus_per_node, j->exclusive };
    return r;
}

/* Copy partition p's view into tmpv, dropping nodes without job's
 * features.  Returns tmpv. */
static struct place_node *copy_view (struct sched *s, int p,
                                     const struct sched_job *j)
{
    const struct sched_part *part = &s->in->parts[p];
    int k;

    memcpy (s->tmpv, s->pv[p], sizeof (struct place_node) * (size_t)part->nnodes);
    if (j->constraint && *j->constraint) {
        for (k = 0; k < part->nnodes; k++)
            if (!sched_features_match (s->in->nodes[part->nodes[k]].features,
                                       j->constraint))
                s->tmpv[k].usable = false;
    }
    return s->tmpv;
}

/* Place j on view (partition p's nodes).  >0 nodes used, 0 no fit.  A job
 * that prefers some nodes (its data is cached there) goes there when it
 * fits there at the same time, else anywhere. */
static int place (struct sched *s, const struct place_node *view, int p,
                  const struct sched_job *j)
{
    struct place_req req = job_req (j);
    const struct sched_part *part = &s->in->parts[p];
    int k, i, any = 0;

    s->stats.tested++;
    if (j->prefer) {
        for (i = 0; i < part->nnodes; i++) {
            s->prefv[i] = view[i];
            if (!j->prefer[part->nodes[i]])
                s->prefv[i].usable = false;
            else
                any++;
        }
        if (any > 0 && any < part->nnodes
            && (k = place_job (s->prefv, part->nnodes, &req, s->idx, s->tasks)) > 0)
            return k;
    }
    k = place_job (view, part->nnodes, &req, s->idx, s->tasks);
    return k > 0 ? k : 0;
}

/* Could j run in partition p if every node (usable_only: every usable node)
 * were empty? */
static bool possible (struct sched *s, const struct sched_job *j, bool usable_only)
{
    const struct sched_part *part = &s->in->parts[j->part];
    int k;

    for (k = 0; k < part->nnodes; k++) {
        const struct sched_node *nd = &s->in->nodes[part->nodes[k]];
        struct place_node *v = &s->cap_all[k];
        v->cpus_free = nd->cpus;
        v->mem_free = nd->mem_mb;
        v->gpus_free = nd->gpus;
        v->idle = true;
        v->usable = (!usable_only || nd->usable)
            && sched_features_match (nd->features, j->constraint);
    }
    return place (s, s->cap_all, j->part, j) > 0;
}

static bool constraint_exists (const struct sched *s, const struct sched_job *j)
{
    const struct sched_part *part = &s->in->parts[j->part];
    int k;

    for (k = 0; k < part->nnodes; k++)
        if (sched_features_match (s->in->nodes[part->nodes[k]].features,
                                  j->constraint))
            return true;
    return false;
}

/* Turn s->idx/s->tasks (k nodes of partition p) into allocations for j,
 * appended to allocs[] (node totals for exclusive jobs; GPUs from gmask).
 * Returns the offset, or -1 on ENOMEM. */
static int make_allocs (struct sched *s, int p, const struct sched_job *j,
                        int k, const uint64_t *gmasks)
{
    int i, off = (int)s->nallocs;

    if (GROW (s->allocs, s->allocs_cap, s->nallocs + (size_t)k))
        return -1;
    for (i = 0; i < k; i++) {
        int n = s->in->parts[p].nodes[s->idx[i]];
        const struct sched_node *nd = &s->in->nodes[n];
        struct sched_alloc *a = &s->allocs[s->nallocs++];
        uint64_t g = gmasks ? gmasks[i] : s->free_[n].gmask;
        a->node = n;
        a->tasks = s->tasks[i];
        if (j->exclusive) {
            a->cpus = nd->cpus;
            a->mem_mb = nd->mem_mb;
            a->gpus = g & all_gpus (nd->gpus);
        } else {
            int want = j->gpus_per_node;
            a->cpus = s->tasks[i] * j->cpus_per_task;
            a->mem_mb = j->mem_mb;
            a->gpus = 0;
            while (want > 0 && g) {
                uint64_t low = g & (~g + 1);
                a->gpus |= low;
                g &= ~low;
                want--;
            }
        }
    }
    return off;
}

static int add_end (struct sched *s, double end, int off, int n)
{
    if (GROW (s->ends, s->ends_cap, s->nends + 1))
        return -1;
    s->ends[s->nends++] = (struct end_ent){ end, off, n };
    s->ends_sorted = false;
    return 0;
}

static int end_cmp (const void *a, const void *b)
{
    const struct end_ent *x = a, *y = b;
    return x->end < y->end ? -1 : x->end > y->end;
}

static void sort_ends (struct sched *s)
{
    size_t i;

    if (s->ends_sorted)
        return;
    for (i = 1; i < s->nends && s->ends[i - 1].end <= s->ends[i].end; i++)
        ;
    if (i < s->nends)
        qsort (s->ends, s->nends, sizeof (*s->ends), end_cmp);
    s->ends_sorted = true;
}

/* Start job ji on the placement in idx/tasks. */
static int start_job (struct sched *s, int ji, int k, double end)
{
    const struct sched_job *j = &s->in->jobs[ji];
    int off = make_allocs (s, j->part, j, k, NULL), i;

    if (off < 0)
        return -1;
    for (i = 0; i < k; i++) {
        const struct sched_alloc *a = &s->allocs[off + i];
        struct nfree *f = &s->free_[a->node];
        f->cpus -= a->cpus;
        f->mem = f->mem > a->mem_mb ? f->mem - a->mem_mb : 0;
        f->gmask &= ~a->gpus;
        sync_node (s, a->node);
    }
    for (i = 0; i < (int)s->nresv; i++)
        s->resv[i].excess_ok = false;
    s->alloc_off[ji] = off;
    s->res[ji].start = true;
    s->res[ji].nalloc = k;
    s->res[ji].est_start = s->in->now;
    s->stats.started++;
    if (end < INFINITY && add_end (s, end, off, k) < 0)
        return -1;
    return 0;
}

/* Index of node n in partition p, or -1. */
static int part_index (const struct sched *s, int n, int p)
{
    int i;

    for (i = s->np_start[n]; i < s->np_start[n + 1]; i++)
        if (s->np_list[2 * i] == p)
            return s->np_list[2 * i + 1];
    return -1;
}

/* Give back allocation a on view v (partition p). */
static void view_release (const struct sched *s, struct place_node *v, int p,
                          const struct sched_alloc *a, long *agg)
{
    int k = part_index (s, a->node, p);
    const struct sched_node *nd;

    if (k < 0)
        return;
    nd = &s->in->nodes[a->node];
    v[k].cpus_free += a->cpus;
    v[k].mem_free += a->mem_mb;
    v[k].gpus_free += popcount64 (a->gpus);
    v[k].idle = v[k].cpus_free >= nd->cpus && v[k].mem_free >= nd->mem_mb
        && v[k].gpus_free >= nd->gpus;
    if (v[k].usable && agg)
        *agg += a->cpus;
}

static long job_cpus (const struct sched_job *j)
{
    return (long)j->ntasks * j->cpus_per_task;
}

/* --- EASY reservation ----------------------------------------------------- */

/* Earliest time job ji fits in its partition as running jobs end; record a
 * reservation there.  Returns 1 reserved, 0 never fits, -1 ENOMEM. */
static int reserve (struct sched *s, int ji)
{
    const struct sched_job *j = &s->in->jobs[ji];
    int p = j->part, k, i, q;
    struct place_node *v = copy_view (s, p, j);
    long agg = 0;
    size_t e;
    struct resv *r;

    for (k = 0; k < s->in->parts[p].nnodes; k++)
        if (v[k].usable)
            agg += v[k].cpus_free;
    sort_ends (s);
    for (e = 0; e < s->nends; e++) {
        const struct end_ent *en = &s->ends[e];
        for (i = 0; i < en->n; i++)
            view_release (s, v, p, &s->allocs[en->off + i], &agg);
        if (e + 1 < s->nends && s->ends[e + 1].end == en->end)
            continue;
        if (agg < job_cpus (j) || !(k = place (s, v, p, j)))
            continue;
        /* found: the slack left on each reserved node at the shadow time */
        if (GROW (s->resv, s->resv_cap, s->nresv + 1)
            || GROW (s->slacks, s->slacks_cap, s->nslacks + (size_t)k))
            return -1;
        r = &s->resv[s->nresv++];
        r->part = p;
        r->holder = j->id;
        r->shadow = en->end;
        r->off = (int)s->nslacks;
        r->n = k;
        for (q = 0; q < k; q++) {
            const struct place_node *pn = &v[s->idx[q]];
            struct slack *sl = &s->slacks[s->nslacks++];
            sl->node = s->in->parts[p].nodes[s->idx[q]];
            if (j->exclusive) {
                sl->cpus = 0;
                sl->mem = 0;
                sl->gpus = 0;
            } else {
                sl->cpus = pn->cpus_free - s->tasks[q] * j->cpus_per_task;
                sl->mem = (int64_t)pn->mem_free - (int64_t)j->mem_mb;
                sl->gpus = pn->gpus_free - j->gpus_per_node;
            }
        }
        r->excess_ok = false;
        s->stats.reservations++;
        s->res[ji].reserved = true;
        s->res[ji].est_start = en->end;
        return 1;
    }
    return 0;
}

/* CPUs of partition p a job ending after rv's shadow could use at most:
 * the free CPUs less those the reservation needs (rv in p only). */
static long long_capacity (struct sched *s, struct resv *rv)
{
    int i;

    if (!rv->excess_ok) {
        rv->excess = 0;
        for (i = 0; i < rv->n; i++) {
            const struct slack *sl = &s->slacks[rv->off + i];
            int f = s->free_[sl->node].cpus, keep = sl->cpus > 0 ? sl->cpus : 0;
            if (s->in->nodes[sl->node].usable && f > keep)
                rv->excess += f - keep;
        }
        rv->excess_ok = true;
    }
    return s->pcpus[rv->part] - rv->excess;
}

/* Can job ji (ending at end) start now without delaying any reservation?
 * Fills idx/tasks; returns nodes used or 0. */
static int place_past_reservations (struct sched *s, int ji, double end,
                                    uint64_t *blocker)
{
    const struct sched_job *j = &s->in->jobs[ji];
    int p = j->part, k, i;
    size_t r;
    bool any = false;
    struct place_node *v = NULL;

    for (r = 0; r < s->nresv; r++) {
        const struct resv *rv = &s->resv[r];
        if (end <= rv->shadow)
            continue;
        for (i = 0; i < rv->n; i++) {
            const struct slack *sl = &s->slacks[rv->off + i];
            int kk = part_index (s, sl->node, p);
            if (kk < 0)
                continue;
            if (!v)
                v = copy_view (s, p, j);
            if (!any)
                *blocker = rv->holder;
            any = true;
            if (j->exclusive) {
                v[kk].usable = false;
                continue;
            }
            if (sl->cpus < v[kk].cpus_free)
                v[kk].cpus_free = sl->cpus > 0 ? sl->cpus : 0;
            if (sl->mem < (int64_t)v[kk].mem_free)
                v[kk].mem_free = sl->mem > 0 ? (uint64_t)sl->mem : 0;
            if (sl->gpus < v[kk].gpus_free)
                v[kk].gpus_free = sl->gpus > 0 ? sl->gpus : 0;
            v[kk].idle = false;
        }
    }
    if (!any)
        v = copy_view (s, p, j);
    k = place (s, v, p, j);
    if (k <= 0)
        return 0;
    /* the job holds these past the shadow times: take them from the slack */
    for (r = 0; r < s->nresv; r++) {
        struct resv *rv = &s->resv[r];
        if (end <= rv->shadow)
            continue;
        rv->excess_ok = false;
        for (i = 0; i < rv->n; i++) {
            struct slack *sl = &s->slacks[rv->off + i];
            int q;
            for (q = 0; q < k; q++) {
                if (s->in->parts[p].nodes[s->idx[q]] == sl->node) {
                    sl->cpus -= s->tasks[q] * j->cpus_per_task;
                    sl->mem -= (int64_t)j->mem_mb;
                    sl->gpus -= j->gpus_per_node;
                }
            }
        }
    }
    return k;
}

/* --- ordering ----------------------------------------------------------------- */

static int before (const struct sched *s, int a, int b)
{
    const struct sched_job *x = &s->in->jobs[a], *y = &s->in->jobs[b];

    if (s->prio[a] != s->prio[b])
        return s->prio[a] > s->prio[b];
    if (x->submit_time != y->submit_time)
        return x->submit_time < y->submit_time;
    if (x->id != y->id)
        return x->id < y->id;
    return a < b;
}

static int order_cmp (const void *a, const void *b, void *arg)
{
    const struct sched *s = arg;
    int x = *(const int *)a, y = *(const int *)b;

    if (before (s, x, y))
        return -1;
    return before (s, y, x) ? 1 : 0;
}

/* Sort order[0..n): the longest sorted prefix is kept, the rest sorted and
 * merged in, so a queue kept in the last pass's order costs O(n). */
static void sort_order (struct sched *s, int n)
{
    int pre = 1, a, b, o;

    if (n < 2)
        return;
    while (pre < n && !before (s, s->order[pre], s->order[pre - 1]))
        pre++;
    if (pre == n)
        return;
    qsort_r (s->order + pre, (size_t)(n - pre), sizeof (int), order_cmp, s);
    memcpy (s->tmp_order, s->order, sizeof (int) * (size_t)n);
    for (a = 0, b = pre, o = 0; o < n; o++) {
        if (b >= n || (a < pre && !before (s, s->tmp_order[b], s->tmp_order[a])))
            s->order[o] = s->tmp_order[a++];
        else
            s->order[o] = s->tmp_order[b++];
    }
}

static void compute_priorities (struct sched *s)
{
    const struct sched_input *in = s->in;
    struct aios_policy_view view = { in->now, in->nnodes, 0, in->weights };
    int maxpp = 0, maxq = 0, i;

    for (i = 0; i < in->nnodes; i++)
        view.total_cpus += in->nodes[i].cpus;
    for (i = 0; i < in->nparts; i++)
        if (in->parts[i].priority > maxpp)
            maxpp = in->parts[i].priority;
    for (i = 0; i < in->njobs; i++)
        if (in->jobs[i].qos_priority > maxq)
            maxq = in->jobs[i].qos_priority;
    for (i = 0; i < in->njobs; i++) {
        const struct sched_job *j = &in->jobs[i];
        const struct sched_part *p = j->part >= 0 ? &in->parts[j->part] : NULL;
        struct aios_policy_job pj = {
            .id = j->id, .submit_time = j->submit_time,
            .time_limit = j->time_limit, .nodes = j->nodes,
            .ntasks = j->ntasks, .cpus_per_task = j->cpus_per_task,
            .mem_mb = j->mem_mb, .gpus_per_node = j->gpus_per_node,
            .exclusive = j->exclusive, .uid = j->uid, .nice = j->nice,
            .partition = p ? p->name : "",
            .partition_factor = p && maxpp > 0 ? (double)p->priority / maxpp : 0,
            .qos_factor = maxq > 0 ? (double)j->qos_priority / maxq : 0,
            .fs_usage = j->fs_usage, .fs_shares = j->fs_shares,
        };
        s->prio[i] = j->fixed_priority ? j->priority
                                       : in->policy->priority (&pj, &view);
        s->res[i].priority = s->prio[i];
    }
}

/* --- estimates -------------------------------------------------------------- */

static void heap_push (struct sched *s, struct end_ent e)
{
    size_t i = s->nheap++;

    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (s->heap[parent].end <= e.end)
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = e;
}

static struct end_ent heap_pop (struct sched *s)
{
    struct end_ent top = s->heap[0], last = s->heap[--s->nheap];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->nheap)
            break;
        if (c + 1 < s->nheap && s->heap[c + 1].end < s->heap[c].end)
            c++;
        if (last.end <= s->heap[c].end)
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->nheap > 0)
        s->heap[i] = last;
    return top;
}

/* Walk partition p's waiting jobs in order as if running jobs ran to their
 * limits and each job started as soon as it fitted behind the ones ahead. */
static int estimate_partition (struct sched *s, int p)
{
    const struct sched_input *in = s->in;
    struct place_node *v = s->tmpv;
    int nn = in->parts[p].nnodes, oi, k, done = 0;
    double t = in->now;
    size_t e = 0;
    long agg = 0;

    memcpy (v, s->pv[p], sizeof (*v) * (size_t)nn);
    for (k = 0; k < nn; k++)
        if (v[k].usable)
            agg += v[k].cpus_free;
    sort_ends (s);
    s->nheap = 0;
    for (oi = 0; oi < in->njobs && done < in->estimate_depth; oi++) {
        int ji = s->order[oi];
        const struct sched_job *j = &in->jobs[ji];
        struct sched_result *r = &s->res[ji];
        if (j->part != p || r->start)
            continue;
        if (r->reasons & SCHED_R_BLOCKING)
            continue;
        done++;
        s->stats.estimated++;
        for (;;) {
            double next;
            bool from_heap;
            if (j->constraint && *j->constraint) {
                /* copy_view would clobber v: test constraints in place */
                int q;
                bool fits;
                struct place_node *c = malloc (sizeof (*c) * (size_t)(nn + 1));
                if (!c)
                    return -1;
                memcpy (c, v, sizeof (*c) * (size_t)nn);
                for (q = 0; q < nn; q++)
                    if (!sched_features_match (in->nodes[in->parts[p].nodes[q]].features,
                                               j->constraint))
                        c[q].usable = false;
                fits = agg >= job_cpus (j) && (k = place (s, c, p, j)) > 0;
                free (c);
                if (fits)
                    break;
            } else if (agg >= job_cpus (j) && (k = place (s, v, p, j)) > 0)
                break;
            k = 0;
            if (e >= s->nends && s->nheap == 0)
                break;
            from_heap = e >= s->nends
                || (s->nheap > 0 && s->heap[0].end < s->ends[e].end);
            next = from_heap ? s->heap[0].end : s->ends[e].end;
            while ((e < s->nends && s->ends[e].end == next)
                   || (s->nheap > 0 && s->heap[0].end == next)) {
                struct end_ent en;
                int i;
                if (e < s->nends && s->ends[e].end == next)
                    en = s->ends[e++];
                else
                    en = heap_pop (s);
                for (i = 0; i < en.n; i++)
                    view_release (s, v, p, &s->allocs[en.off + i], &agg);
            }
            t = next;
        }
        if (k == 0) {
            r->est_start = -1;
            continue;
        }
        {
            int off, i;
            /* GPU indexes in the future are not known: count only */
            if ((off = make_allocs (s, p, j, k, NULL)) < 0)
                return -1;
            for (i = 0; i < k; i++) {
                struct sched_alloc *a = &s->allocs[off + i];
                struct place_node *pn = &v[s->idx[i]];
                if (!j->exclusive)
                    a->gpus = all_gpus (j->gpus_per_node);
                else
                    a->gpus = all_gpus (pn->gpus_free);
                pn->cpus_free -= a->cpus;
                pn->mem_free = pn->mem_free > a->mem_mb ? pn->mem_free - a->mem_mb : 0;
                pn->gpus_free -= popcount64 (a->gpus);
                pn->idle = false;
                if (pn->usable)
                    agg -= a->cpus;
            }
            r->est_start = t;
            s->est_off[ji] = off;
            r->est_nalloc = k;
            if (j->time_limit >= 0) {
                if (GROW (s->heap, s->heap_cap, s->nheap + 1))
                    return -1;
                heap_push (s, (struct end_ent){ t + (double)j->time_limit, off, k });
            }
        }
    }
    return 0;
}

/* --- the pass ------------------------------------------------------------------ */

static unsigned hard_reasons (struct sched *s, const struct sched_job *j)
{
    const struct sched_part *p;
    struct shape *sh;
    unsigned r = j->extra_reasons;
    bool all, usable;

    if (j->held)
        r |= SCHED_R_HELD;
    if (j->part < 0)
        return r | SCHED_R_PARTITION;
    p = &s->in->parts[j->part];
    if (p->max_time >= 0 && (j->time_limit < 0 || j->time_limit > p->max_time))
        r |= SCHED_R_PART_TIME;
    if (j->constraint && *j->constraint && !constraint_exists (s, j))
        return r | SCHED_R_CONSTRAINT;
    sh = tab_get (&s->poss, j, s->hash[j - s->in->jobs]);
    if (!sh && s->poss.n + 1 > s->poss.size * 3 / 4
        && tab_reset (&s->poss, s->poss.size / 2) == 0)
        sh = tab_get (&s->poss, j, s->hash[j - s->in->jobs]);   /* full */
    if (sh && sh->possible_all >= 0) {
        all = sh->possible_all;
        usable = sh->possible_usable;
    } else {
        all = possible (s, j, false);
        usable = all && possible (s, j, true);
        if (sh) {
            sh->possible_all = all;
            sh->possible_usable = usable;
        }
    }
    if (!all)
        r |= SCHED_R_PART_NODES;
    else if (!usable)
        r |= SCHED_R_NODES_DOWN;
    return r;
}

static int fits_now (struct sched *s, const struct sched_job *j)
{
    struct shape *sh;
    int k;

    if (s->pcpus[j->part] < job_cpus (j))
        return 0;
    sh = shape_get (s, j);
    if (sh && sh->fail_now)
        return 0;
    if (j->constraint && *j->constraint)
        k = place (s, copy_view (s, j->part, j), j->part, j);
    else
        k = place (s, s->pv[j->part], j->part, j);
    if (!k && sh)
        sh->fail_now = true;
    return k;
}

static int setup (struct sched *s, const struct sched_input *in)
{
    size_t nj = (size_t)in->njobs + 1, maxn = 1, i;
    int p;

    s->in = in;
    memset (&s->stats, 0, sizeof (s->stats));
    s->stats.pending = in->njobs;
    s->nends = s->nallocs = s->nresv = s->nslacks = 0;
    for (p = 0; p < in->nparts; p++)
        if ((size_t)in->parts[p].nnodes + 1 > maxn)
            maxn = (size_t)in->parts[p].nnodes + 1;
    if (GROW (s->res, s->res_cap, nj) || GROW (s->order, s->order_cap, nj)
        || GROW (s->prio, s->prio_cap, nj) || GROW (s->alloc_off, s->off_cap, nj)
        || GROW (s->hash, s->hash_cap, nj))
        return -1;
    /* same capacity as order / off for their twins */
    {
        void *a = realloc (s->tmp_order, s->order_cap * sizeof (int));
        if (!a)
            goto nomem;
        s->tmp_order = a;
        if (!(a = realloc (s->est_off, s->off_cap * sizeof (int))))
            goto nomem;
        s->est_off = a;
    }
    if (GROW (s->prefv, s->prefv_cap, maxn))
        return -1;
    if (GROW (s->tmpv, s->tmpv_cap, maxn))
        return -1;
    {
        size_t c = s->tmpv_cap;
        void *a;
        if (!(a = realloc (s->cap_all, c * sizeof (*s->cap_all))))
            goto nomem;
        s->cap_all = a;
        if (maxn > s->idx_cap) {
            if (!(a = realloc (s->idx, maxn * sizeof (int))))
                goto nomem;
            s->idx = a;
            if (!(a = realloc (s->tasks, maxn * sizeof (int))))
                goto nomem;
            s->tasks = a;
            s->idx_cap = maxn;
        }
    }
    if (tab_reset (&s->shapes, nj) < 0)
        return -1;
    {
        uint64_t fp = fingerprint (in);
        if (fp != s->fingerprint || s->poss.size == 0) {
            if (tab_reset (&s->poss, 2048) < 0)
                return -1;
            s->fingerprint = fp;
        }
    }
    for (i = 0; i < (size_t)in->njobs; i++) {
        memset (&s->res[i], 0, sizeof (s->res[i]));
        s->res[i].est_start = -1;
        s->alloc_off[i] = s->est_off[i] = -1;
        s->hash[i] = shape_hash (&in->jobs[i]);
    }
    for (i = 0; i < (size_t)in->nrunning; i++) {
        const struct sched_running *r = &in->running[i];
        size_t off = s->nallocs;
        if (r->end >= INFINITY)
            continue;
        if (GROW (s->allocs, s->allocs_cap, s->nallocs + (size_t)r->nalloc))
            return -1;
        memcpy (s->allocs + off, r->alloc, sizeof (*r->alloc) * (size_t)r->nalloc);
        s->nallocs += (size_t)r->nalloc;
        if (add_end (s, r->end, (int)off, r->nalloc) < 0)
            return -1;
    }
    return build_views (s);
nomem:
    errno = ENOMEM;
    return -1;
}

int sched_pass (struct sched *s, const struct sched_input *in)
{
    int oi, i, p;

    if (!s || check_input (in) < 0) {
        errno = EINVAL;
        return -1;
    }
    if (setup (s, in) < 0)
        return -1;
    compute_priorities (s);
    for (i = 0; i < in->njobs; i++)
        s->order[i] = i;
    sort_order (s, in->njobs);

    for (oi = 0; oi < in->njobs; oi++) {
        int ji = s->order[oi], k;
        const struct sched_job *j = &in->jobs[ji];
        struct sched_result *r = &s->res[ji];
        unsigned hard = hard_reasons (s, j);
        double end = j->time_limit < 0 ? INFINITY
                                        : in->now + (double)j->time_limit;

        if (hard) {
            r->reasons = hard;
            if (j->part >= 0) {
                r->position = ++s->ppos[j->part];
                if (s->pblocked[j->part]) {
                    r->reasons |= SCHED_R_PRIORITY;
                    r->blocked_by = s->pfirst[j->part];
                }
            }
            continue;
        }
        p = j->part;
        /* a shape that fitted but could not pass the reservations fails
         * the same way for as long or longer jobs: skip the placement */
        if (in->backfill == SCHED_BACKFILL_EASY && s->nresv > 0) {
            struct shape *sh = shape_get (s, j);
            uint64_t holder = 0;
            size_t rr;
            if (sh && end >= sh->fail_long_end)
                holder = sh->blocker ? sh->blocker : s->resv[0].holder;
            /* not enough CPUs outside its partition's reservation */
            for (rr = 0; !holder && rr < s->nresv; rr++) {
                struct resv *rv = &s->resv[rr];
                if (rv->part == p && end > rv->shadow
                    && s->pcpus[p] >= job_cpus (j)
                    && long_capacity (s, rv) < job_cpus (j))
                    holder = rv->holder;
            }
            if (holder) {
                r->reasons = SCHED_R_RESERVATION
                    | (s->pblocked[p] ? SCHED_R_PRIORITY : 0);
                r->blocked_by = holder;
                r->position = ++s->ppos[p];
                continue;
            }
        }
        /* without backfill nothing passes a blocked partition: the
         * CPU count alone tells Resources (no placement needed) */
        if (in->backfill == SCHED_BACKFILL_NONE && s->pblocked[p])
            k = s->pcpus[p] >= job_cpus (j);
        else
            k = fits_now (s, j);
        if (in->backfill == SCHED_BACKFILL_NONE) {
            if (k && !s->pblocked[p]) {
                if (start_job (s, ji, k, end) < 0)
                    return -1;
                continue;
            }
        } else if (k) {
            uint64_t blocker = 0;
            bool constrained = false;
            size_t rr;
            for (rr = 0; rr < s->nresv; rr++)
                if (end > s->resv[rr].shadow)
                    constrained = true;
            if (constrained) {
                struct shape *sh = shape_get (s, j);
                if (sh && end >= sh->fail_long_end)
                    k = 0;
                else if (!(k = place_past_reservations (s, ji, end, &blocker))
                         && sh)
                    sh->fail_long_end = end;
                if (!k && !blocker && s->nresv > 0)
                    blocker = s->resv[0].holder;
                if (!k && sh)
                    sh->blocker = blocker;
            }
            if (k) {
                if (start_job (s, ji, k, end) < 0)
                    return -1;
                if (s->pblocked[p] || s->nresv > 0) {
                    r->backfilled = true;
                    s->stats.backfilled++;
                }
                continue;
            }
            r->reasons = SCHED_R_RESERVATION
                | (s->pblocked[p] ? SCHED_R_PRIORITY : 0);
            r->blocked_by = blocker;
            r->position = ++s->ppos[p];
            continue;
        }
        /* waiting */
        r->position = ++s->ppos[p];
        if (!k)
            r->reasons |= SCHED_R_RESOURCES;
        if (s->pblocked[p]) {
            r->reasons |= SCHED_R_PRIORITY;
            r->blocked_by = s->pfirst[p];
        } else {
            s->pblocked[p] = true;
            s->pfirst[p] = j->id;
        }
        if (in->backfill == SCHED_BACKFILL_EASY && !k && !s->phas_resv[p]) {
            int rc = reserve (s, ji);
            if (rc < 0)
                return -1;
            s->phas_resv[p] = true;
        }
    }
    if (in->estimate_depth > 0) {
        for (p = 0; p < in->nparts; p++)
            if (estimate_partition (s, p) < 0)
                return -1;
    }
    /* the allocation pool may have moved: point results into it now */
    for (i = 0; i < in->njobs; i++) {
        struct sched_result *r = &s->res[i];
        r->alloc = s->alloc_off[i] >= 0 ? &s->allocs[s->alloc_off[i]] : NULL;
        if (r->start) {
            r->est_alloc = r->alloc;
            r->est_nalloc = r->nalloc;
        } else {
            r->est_alloc = s->est_off[i] >= 0 ? &s->allocs[s->est_off[i]] : NULL;
            if (!r->est_alloc)
                r->est_nalloc = 0;
        }
    }
    return 0;
}
