/* nodes.c - the controller's node table */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "nodes.h"

struct nodetab {
    struct node **v;
    int n;
};

static void node_destroy (struct node *n)
{
    if (n) {
        free (n->name);
        free (n->address);
        free (n->reason);
        free (n);
    }
}

static struct node *node_create (const struct conf_node *cn, int index)
{
    struct node *n = calloc (1, sizeof (*n));

    if (!n || !(n->name = strdup (cn->name))
        || !(n->address = strdup (cn->address))) {
        node_destroy (n);
        return NULL;
    }
    n->cpus = cn->cpus;
    n->mem_mb = cn->memory_mb;
    n->index = index;
    return n;
}

void nodetab_destroy (struct nodetab *nt)
{
    int saved = errno;
    int i;

    if (nt) {
        for (i = 0; i < nt->n; i++)
            node_destroy (nt->v[i]);
        free (nt->v);
        free (nt);
    }
    errno = saved;
}

int nodetab_update (struct nodetab *nt, const struct aios_conf *conf)
{
    size_t i;

    for (i = 0; i < conf->nnodes; i++) {
        const struct conf_node *cn = &conf->nodes[i];
        struct node *n = nodetab_lookup (nt, cn->name);
        struct node **v;

        if (n) {
            if (cn->cpus > 0 && !n->conn)
                n->cpus = cn->cpus;
            continue;
        }
        if (!(v = realloc (nt->v, sizeof (*v) * (size_t)(nt->n + 1))))
            return -1;
        nt->v = v;
        if (!(n = node_create (cn, nt->n)))
            return -1;
        nt->v[nt->n++] = n;
    }
    return 0;
}

struct nodetab *nodetab_create (const struct aios_conf *conf)
{
    struct nodetab *nt = calloc (1, sizeof (*nt));

    if (!nt || nodetab_update (nt, conf) < 0) {
        nodetab_destroy (nt);
        errno = ENOMEM;
        return NULL;
    }
    return nt;
}

int nodetab_count (const struct nodetab *nt)
{
    return nt->n;
}

struct node *nodetab_at (struct nodetab *nt, int i)
{
    return i >= 0 && i < nt->n ? nt->v[i] : NULL;
}

struct node *nodetab_lookup (struct nodetab *nt, const char *name)
{
    int i;

    for (i = 0; i < nt->n; i++) {
        if (!strcmp (nt->v[i]->name, name))
            return nt->v[i];
    }
    return NULL;
}

const char *node_state_name (const struct node *n)
{
    if (n->base == NODE_DOWN)
        return "DOWN";
    if (n->base == NODE_UNKNOWN)
        return "UNKNOWN";
    if (n->drain)
        return n->cpus_alloc > 0 ? "DRAINING" : "DRAIN";
    if (n->cpus_alloc == 0)
        return "IDLE";
    return n->cpus_alloc >= n->cpus ? "ALLOCATED" : "MIXED";
}

bool node_usable (const struct node *n)
{
    return n->base == NODE_UP && !n->drain && n->conn != NULL;
}

int node_set_reason (struct node *n, const char *reason, double now)
{
    char *s = NULL;

    if (reason && !(s = strdup (reason)))
        return -1;
    free (n->reason);
    n->reason = s;
    n->reason_time = now;
    return 0;
}

json_t *node_to_json (const struct node *n)
{
    return json_pack ("{s:s s:s s:s s:i s:i s:I s:I s:s* s:f}",
                      "name", n->name,
                      "address", n->address,
                      "state", node_state_name (n),
                      "cpus", n->cpus,
                      "cpus_alloc", n->cpus_alloc,
                      "memory_mb", (json_int_t)n->mem_mb,
                      "memory_alloc_mb", (json_int_t)n->mem_alloc,
                      "reason", n->reason,
                      "last_heard", n->last_heard);
}
