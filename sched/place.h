/* place.h - placing one job's tasks onto nodes (pure: no I/O, no clock)
 *
 * A job asks for ntasks tasks of cpus_per_task CPUs each and mem_mb of
 * memory on every node it uses; nodes > 0 asks for exactly that many nodes
 * (each gets at least one task), nodes == 0 for as few as needed.  Tasks are
 * packed onto nodes in the order given (block distribution).  An exclusive
 * job takes only idle nodes; gpus_per_node GPUs must be free on each.
 */
#ifndef AIOS_SCHED_PLACE_H
#define AIOS_SCHED_PLACE_H

#include <stdbool.h>
#include <stdint.h>

struct place_node {
    int cpus_free;
    uint64_t mem_free;
    int gpus_free;
    bool idle;              /* nothing allocated (for exclusive jobs) */
    bool usable;            /* up, not drained, in the job's partition */
};

struct place_req {
    int nodes;              /* 0 = as few as needed */
    int ntasks;             /* >= 1 */
    int cpus_per_task;      /* >= 1 */
    uint64_t mem_mb;        /* per node, 0 = none */
    int gpus_per_node;      /* every node used needs this many free */
    bool exclusive;         /* only idle nodes (whole nodes) */
};

/* On success returns the number of nodes used (k) and fills idx[0..k) with
 * node indexes in ascending order and tasks[0..k) with the tasks on each
 * (both arrays sized nnodes by the caller).  Returns 0 when the job does not
 * fit now, -1 (EINVAL) on a malformed request. */
int place_job (const struct place_node *nodes, int nnodes,
               const struct place_req *req, int *idx, int *tasks);

/* Could the job ever fit on these nodes if they were all free?  caps[] are
 * the nodes' total CPUs/memory (usable = in partition and configured). */
bool place_possible (const struct place_node *caps, int nnodes,
                     const struct place_req *req);

#endif
