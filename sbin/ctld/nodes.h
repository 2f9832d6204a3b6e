/* nodes.h - the controller's node table */
#ifndef AIOS_CTLD_NODES_H
#define AIOS_CTLD_NODES_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "conf.h"

enum node_base {
    NODE_UNKNOWN = 0,   /* not registered since the controller started */
    NODE_UP,
    NODE_DOWN,
};

struct node {
    char *name;
    char *address;
    int cpus;               /* registered (or configured) */
    uint64_t mem_mb;
    int cpus_alloc;
    uint64_t mem_alloc;
    int gpus;               /* registered (or configured) */
    uint64_t gpus_alloc;    /* bit i = GPU index i */
    char *features;         /* from the config: comma-separated, or NULL */
    enum node_base base;
    bool drain;
    char *reason;           /* why down or drained */
    double reason_time;
    double last_heard;
    struct conn *conn;      /* borrowed; NULL when not connected */
    json_t *cache;          /* dataset copies in its node cache: {key: true} */
    int index;
};

struct nodetab;

/* Nodes from conf, in the config's order. */
struct nodetab *nodetab_create (const struct aios_conf *conf);
void nodetab_destroy (struct nodetab *nt);
/* Add nodes newly declared in conf (reload); existing keep their state. */
int nodetab_update (struct nodetab *nt, const struct aios_conf *conf);
int nodetab_count (const struct nodetab *nt);
struct node *nodetab_at (struct nodetab *nt, int i);
struct node *nodetab_lookup (struct nodetab *nt, const char *name);

/* "IDLE", "MIXED", "ALLOCATED", "DOWN", "DRAIN", "DRAINING", "UNKNOWN". */
const char *node_state_name (const struct node *n);
bool node_usable (const struct node *n);
int node_set_reason (struct node *n, const char *reason, double now);
json_t *node_to_json (const struct node *n);

#endif
