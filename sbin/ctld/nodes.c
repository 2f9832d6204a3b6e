/* nodes.c - the controller's node table */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "nodes.h"

struct nodetab {
    struct node **v;
    int n;
    int *hash;          /* open addressing: index + 1, 0 = empty */
    size_t hcap;        /* a power of two, > 2 n */
};

static size_t name_hash (const char *name)
{
    size_t h = 2166136261u;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h;
}

static void hash_put (struct nodetab *nt, int i)
{
    size_t at = name_hash (nt->v[i]->name) & (nt->hcap - 1);

    while (nt->hash[at])
        at = (at + 1) & (nt->hcap - 1);
    nt->hash[at] = i + 1;
}

/* Make room for one more node in the hash. */
static int hash_grow (struct nodetab *nt)
{
    size_t cap = nt->hcap ? nt->hcap : 64;
    int *h, i;

    if ((size_t)(nt->n + 1) * 2 < nt->hcap)
        return 0;
    while ((size_t)(nt->n + 1) * 2 >= cap)
        cap *= 2;
    if (!(h = calloc (cap, sizeof (*h))))
        return -1;
    free (nt->hash);
    nt->hash = h;
    nt->hcap = cap;
    for (i = 0; i < nt->n; i++)
        hash_put (nt, i);
    return 0;
}

static void node_destroy (struct node *n)
{
    if (n) {
        free (n->name);
        free (n->address);
        free (n->reason);
        json_decref (n->cache);
        free (n->features);
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
    n->gpus = cn->gpus > 0 ? cn->gpus : 0;
    if (cn->features && !(n->features = strdup (cn->features))) {
        node_destroy (n);
        return NULL;
    }
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
        free (nt->hash);
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
            char *f = NULL;
            if (cn->cpus > 0 && !n->conn)
                n->cpus = cn->cpus;
            if (cn->gpus >= 0)
                n->gpus = cn->gpus;
            if (cn->features && !(f = strdup (cn->features)))
                return -1;
            free (n->features);
            n->features = f;
            continue;
        }
        if (!(v = realloc (nt->v, sizeof (*v) * (size_t)(nt->n + 1))))
            return -1;
        nt->v = v;
        if (hash_grow (nt) < 0 || !(n = node_create (cn, nt->n)))
            return -1;
        nt->v[nt->n++] = n;
        hash_put (nt, nt->n - 1);
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
    size_t at;

    if (!nt->hcap || !name)
        return NULL;
    for (at = name_hash (name) & (nt->hcap - 1); nt->hash[at];
         at = (at + 1) & (nt->hcap - 1)) {
        struct node *n = nt->v[nt->hash[at] - 1];
        if (!strcmp (n->name, name))
            return n;
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
    return json_pack ("{s:s s:s s:s s:i s:i s:i s:i s:s* s:I s:I s:s* s:f}",
                      "name", n->name,
                      "address", n->address,
                      "state", node_state_name (n),
                      "cpus", n->cpus,
                      "cpus_alloc", n->cpus_alloc,
                      "gpus", n->gpus,
                      "gpus_alloc", __builtin_popcountll (n->gpus_alloc),
                      "features", n->features,
                      "memory_mb", (json_int_t)n->mem_mb,
                      "memory_alloc_mb", (json_int_t)n->mem_alloc,
                      "reason", n->reason,
                      "last_heard", n->last_heard);
}
