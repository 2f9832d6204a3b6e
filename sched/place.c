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

/* Exactly req->nodes nodes: take the ones with the most room (earlier node
 * first on ties), then spread tasks in node order, at least one each. */
static int place_exact (const struct place_node *nodes, int nnodes,
                        const struct place_req *req, int *idx, int *tasks)
{
    int want = req->nodes, k = 0, i, j, sum = 0, left;
    int *cap = malloc (sizeof (int) * (size_t)nnodes);
    char *taken = calloc ((size_t)nnodes, 1);

    if (!cap || !taken) {
        free (cap);
        free (taken);
        errno = ENOMEM;
        return -1;
    }
    for (i = 0; i < nnodes; i++)
        cap[i] = node_capacity (&nodes[i], req);
    for (k = 0; k < want; k++) {
        int best = -1;
        for (i = 0; i < nnodes; i++) {
            if (!taken[i] && cap[i] > 0 && (best < 0 || cap[i] > cap[best]))
                best = i;
        }
        if (best < 0)
            break;
        taken[best] = 1;
        sum += cap[best];
    }
    if (k < want || sum < req->ntasks) {
        free (cap);
        free (taken);
        return 0;
    }
    /* ascending node order, one task each, then fill in order */
    for (i = 0, j = 0; i < nnodes; i++) {
        if (taken[i]) {
            idx[j] = i;
            tasks[j++] = 1;
        }
    }
    left = req->ntasks - want;
    for (j = 0; j < want && left > 0; j++) {
        int more = cap[idx[j]] - 1;
        if (more > left)
            more = left;
        tasks[j] += more;
        left -= more;
    }
    free (cap);
    free (taken);
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
