/* place.c - placing one job's tasks onto nodes */
#include <errno.h>
#include <stdlib.h>

#include "place.h"

/* Tasks of req that fit on node n now. */
static int node_capacity (const struct place_node *n, const struct place_req *req)
{
    if (!n->usable || n->cpus_free < req->cpus_per_task)
        return 0;
    if (req->exclusive && !n->idle)
        return 0;
    if (n->gpus_free < req->gpus_per_node)
        return 0;
    if (req->mem_mb > 0 && n->mem_free < req->mem_mb)
        return 0;
    return n->cpus_free / req->cpus_per_task;
}

/* As few nodes as needed, filled in order. */
static int place_packed (const struct place_node *nodes, int nnodes,
                         const struct place_req *req, int *idx, int *tasks)
{
    int left = req->ntasks, k = 0, i;

    for (i = 0; i < nnodes && left > 0; i++) {
        int cap = node_capacity (&nodes[i], req);
        if (cap == 0)
            continue;
        idx[k] = i;
        tasks[k] = cap < left ? cap : left;
        left -= tasks[k++];
    }
    return left > 0 ? 0 : k;
}

struct cand {
    int cap;
    int i;
};

static int cand_cmp (const void *a, const void *b)
{
    const struct cand *x = a, *y = b;

    if (x->cap != y->cap)
        return x->cap > y->cap ? -1 : 1;
    return x->i - y->i;
}

static int idx_cmp (const void *a, const void *b)
{
    return ((const struct cand *)a)->i - ((const struct cand *)b)->i;
}

/* Exactly req->nodes nodes: take the ones with the most room (earlier node
 * first on ties), then spread tasks in node order, at least one each. */
static int place_exact (const struct place_node *nodes, int nnodes,
                        const struct place_req *req, int *idx, int *tasks)
{
    int want = req->nodes, npos = 0, i, j, left;
    long total = 0, sum = 0;
    struct cand *c;

    for (i = 0; i < nnodes; i++) {
        int cap = node_capacity (&nodes[i], req);
        if (cap > 0) {
            npos++;
            total += cap;
        }
    }
    if (npos < want || total < req->ntasks)
        return 0;
    if (!(c = malloc (sizeof (*c) * (size_t)npos))) {
        errno = ENOMEM;
        return -1;
    }
    bool ordered = true;    /* room never grows along the nodes */

    for (i = 0, j = 0; i < nnodes; i++) {
        int cap = node_capacity (&nodes[i], req);
        if (cap > 0) {
            if (j > 0 && cap > c[j - 1].cap)
                ordered = false;
            c[j++] = (struct cand){ cap, i };
        }
    }
    /* the most room first (already so on uniform nodes), unless every node
     * will be taken anyway */
    if (npos > want && !ordered)
        qsort (c, (size_t)npos, sizeof (*c), cand_cmp);
    else
        ordered = true;
    for (j = 0; j < want; j++)
        sum += c[j].cap;
    if (sum < req->ntasks) {
        free (c);
        return 0;
    }
    if (!ordered)
        qsort (c, (size_t)want, sizeof (*c), idx_cmp);
    left = req->ntasks - want;
    for (j = 0; j < want; j++) {
        int more = c[j].cap - 1;
        if (more > left)
            more = left;
        idx[j] = c[j].i;
        tasks[j] = 1 + more;
        left -= more;
    }
    free (c);
    return want;
}

static int req_valid (const struct place_req *req)
{
    return req && req->ntasks >= 1 && req->cpus_per_task >= 1
        && req->nodes >= 0 && req->nodes <= req->ntasks
        && req->gpus_per_node >= 0;
}

int place_job (const struct place_node *nodes, int nnodes,
               const struct place_req *req, int *idx, int *tasks)
{
    if (!req_valid (req) || nnodes < 0 || (nnodes > 0 && (!nodes || !idx || !tasks))) {
        errno = EINVAL;
        return -1;
    }
    if (req->nodes > nnodes)
        return 0;
    if (req->nodes > 0)
        return place_exact (nodes, nnodes, req, idx, tasks);
    return place_packed (nodes, nnodes, req, idx, tasks);
}

bool place_possible (const struct place_node *caps, int nnodes,
                     const struct place_req *req)
{
    int *idx, *tasks, rc;

    if (!req_valid (req) || nnodes <= 0)
        return false;
    idx = malloc (sizeof (int) * (size_t)nnodes);
    tasks = malloc (sizeof (int) * (size_t)nnodes);
    if (!idx || !tasks) {
        free (idx);
        free (tasks);
        return true; /* cannot tell: do not reject */
    }
    rc = place_job (caps, nnodes, req, idx, tasks);
    free (idx);
    free (tasks);
    return rc > 0;
}
