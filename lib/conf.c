/* conf.c - aios.yaml, parsed strictly
 *
 * The file is loaded whole as a libyaml document, then walked by tables:
 * each mapping has a table of keys (name, type, field, default, bounds), and
 * one table of types says what YAML node a type takes and how its value is
 * initialised, set and freed.  Checks that span keys run afterwards as a
 * pipeline of stages; the first error wins.
 *
 * Where errors point: a value that cannot be converted, at the value; a
 * value of the wrong kind (a mapping where a string belongs), at its key; an
 * unknown or duplicate key, at the key; a missing key, at its mapping.
 * An empty value ("key:", "~", "null", "") is an error for a scalar key and
 * an empty mapping or sequence for the others.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "conf.h"
#include "hostlist.h"
#include "parse.h"

#include "paths.h"

#define KEYS_MAX 32   /* rows in the largest table */
#define NAME_MAX_LEN 128

struct loader {
    const char *path;
    aios_error_t *err;
    yaml_document_t doc;
    bool have_doc;
    yaml_node_t *root;       /* NULL for an empty file */
    struct aios_conf *conf;
    size_t *node_entry;      /* conf->nodes[i] came from nodes[node_entry[i]] */
    struct node_ref *index;  /* conf->nodes sorted by name */
};

struct node_ref {
    const char *name;
    size_t i;
};

enum key_type {
    KEY_STRING,
    KEY_INT,
    KEY_BOOL,
    KEY_SIZE,
    KEY_BYTES,
    KEY_TIME,
    KEY_HOSTLIST,
    KEY_STRLIST,
    KEY_SECTION,
    KEY_LIST,
};

/* Loads item, the index'th entry of a KEY_LIST, named where ("nodes[2]"). */
typedef int (*entry_f) (struct loader *ld,
                        yaml_node_t *item,
                        const char *where,
                        size_t index);

struct key {
    const char *name;
    enum key_type type;
    size_t off;             /* the field, in the struct the table fills */
    size_t count_off;       /* KEY_STRLIST: its size_t count */
    const char *sdef;       /* KEY_STRING default (NULL: none) */
    long idef;              /* KEY_INT, KEY_BOOL, KEY_SIZE, KEY_TIME default */
    long min, max;          /* KEY_INT bounds */
    const struct key *sub;  /* KEY_SECTION: its keys, filling the same struct */
    entry_f entry;          /* KEY_LIST: loads one entry */
    bool required;
};

/* A KEY_HOSTLIST field: the expression as written and its expansion. */
struct hostlist_val {
    char *expr;
    char **names;  /* from hostlist_expand() */
    size_t count;
};

#define FIELD(base, off, T) ((T *)((char *)(base) + (off)))

#define K_STRING(T, n, f, d, ...) \
    { .name = n, .type = KEY_STRING, .off = offsetof (T, f), .sdef = d, \
      __VA_ARGS__ }
#define K_INT(T, n, f, d, lo, hi) \
    { .name = n, .type = KEY_INT, .off = offsetof (T, f), .idef = d, \
      .min = lo, .max = hi }
#define K_BOOL(T, n, f, d) \
    { .name = n, .type = KEY_BOOL, .off = offsetof (T, f), .idef = d }
#define K_SIZE(T, n, f, d) \
    { .name = n, .type = KEY_SIZE, .off = offsetof (T, f), .idef = d }
#define K_BYTES(T, n, f, d) \
    { .name = n, .type = KEY_BYTES, .off = offsetof (T, f), .idef = d }
#define K_TIME(T, n, f, d) \
    { .name = n, .type = KEY_TIME, .off = offsetof (T, f), .idef = d }
#define K_HOSTLIST(T, n, f, ...) \
    { .name = n, .type = KEY_HOSTLIST, .off = offsetof (T, f), __VA_ARGS__ }
#define K_STRLIST(T, n, f, c) \
    { .name = n, .type = KEY_STRLIST, .off = offsetof (T, f), \
      .count_off = offsetof (T, c) }
#define K_SECTION(n, keys) { .name = n, .type = KEY_SECTION, .sub = keys }
#define K_LIST(n, fn) { .name = n, .type = KEY_LIST, .entry = fn }

static int load_node (struct loader *ld, yaml_node_t *item, const char *where,
                      size_t index);
static int load_partition (struct loader *ld, yaml_node_t *item,
                           const char *where, size_t index);
static int load_qos (struct loader *ld, yaml_node_t *item, const char *where,
                     size_t index);

/* --- the schema ---------------------------------------------------------- */

#define C struct aios_conf
static const struct key controller_keys[] = {
    K_STRING (C, "address", ctl_address, "127.0.0.1"),
    K_INT (C, "port", ctl_port, 6817, 1, 65535),
    K_STRING (C, "socket", ctl_socket, AIOS_RUNDIR "/aiosctld.sock"),
    K_STRING (C, "state_file", state_file, AIOS_STATEDIR "/state.db"),
    K_STRING (C, "log_file", ctl_log_file, AIOS_LOGDIR "/aiosctld.log"),
    K_STRING (C, "pid_file", ctl_pid_file, AIOS_RUNDIR "/aiosctld.pid"),
    K_STRING (C, "user", daemon_user, "root"),
    K_INT (C, "heartbeat_interval", heartbeat_interval, 5, 1, 3600),
    K_INT (C, "node_timeout", node_timeout, 30, 2, 86400),
    K_INT (C, "kill_wait", kill_wait, 30, 0, 3600),
    K_INT (C, "min_job_age", min_job_age, 300, 0, 31536000),
    K_INT (C, "event_backlog_kb", event_backlog_kb, 16384, 16, 4194304),
    K_STRING (C, "metrics_address", metrics_address, "127.0.0.1"),
    K_INT (C, "metrics_port", metrics_port, 0, 0, 65535),
    K_STRLIST (C, "operators", operators, noperators),
    { NULL },
};

static const struct key auth_keys[] = {
    K_STRING (C, "munge_socket", munge_socket, "/run/munge/munge.socket.2"),
    { NULL },
};

static const struct key accounting_keys[] = {
    K_BOOL (C, "show_all_users", acct_show_all_users, false),
    { NULL },
};

static const struct key priority_keys[] = {
    K_INT (C, "weight_age", weight_age, 1000, 0, 100000000),
    K_INT (C, "weight_fairshare", weight_fairshare, 10000, 0, 100000000),
    K_INT (C, "weight_size", weight_size, 1000, 0, 100000000),
    K_INT (C, "weight_partition", weight_partition, 1000, 0, 100000000),
    K_INT (C, "weight_qos", weight_qos, 1000, 0, 100000000),
    K_TIME (C, "max_age", max_age, 7 * 86400),
    K_TIME (C, "half_life", half_life, 7 * 86400),
    K_BOOL (C, "favor_small", favor_small, true),
    { NULL },
};

static const struct key scheduler_keys[] = {
    K_STRING (C, "policy", policy, "fifo"),
    K_STRING (C, "backfill", backfill, "easy"),
    K_STRING (C, "plugin_dir", plugin_dir, AIOS_PLUGINDIR),
    K_INT (C, "interval_ms", sched_interval_ms, 10, 0, 60000),
    K_INT (C, "estimate_depth", estimate_depth, 1000, 0, 1000000),
    K_SECTION ("priority", priority_keys),
    K_LIST ("qos", load_qos),
    { NULL },
};

static const struct key node_daemon_keys[] = {
    K_INT (C, "port", node_port, 6818, 1, 65535),
    K_STRING (C, "spool_dir", spool_dir, AIOS_SPOOLDIR "/%n"),
    K_STRING (C, "log_file", node_log_file, AIOS_LOGDIR "/aiosd.%n.log"),
    K_STRING (C, "pid_file", node_pid_file, AIOS_RUNDIR "/aiosd.%n.pid"),
    { NULL },
};

static const struct key staging_keys[] = {
    K_STRING (C, "shared_root", shared_root, ""),
    K_STRING (C, "scratch", scratch_dir, AIOS_SPOOLDIR "/%n/scratch"),
    K_BYTES (C, "cache_bytes", cache_bytes, 10L << 30),
    { NULL },
};

static const struct key top_keys[] = {
    K_STRING (C, "cluster", cluster, "aios"),
    K_SECTION ("controller", controller_keys),
    K_SECTION ("auth", auth_keys),
    K_SECTION ("accounting", accounting_keys),
    K_SECTION ("scheduler", scheduler_keys),
    K_SECTION ("node_daemon", node_daemon_keys),
    K_SECTION ("staging", staging_keys),
    K_LIST ("nodes", load_node),
    K_LIST ("partitions", load_partition),
    { NULL },
};
#undef C

struct node_entry {
    struct hostlist_val name;
    struct hostlist_val address;
    int cpus;
    uint64_t memory_mb;
    int gpus;
    char **features;
    size_t nfeatures;
};

static const struct key node_keys[] = {
    K_HOSTLIST (struct node_entry, "name", name, .required = true),
    K_HOSTLIST (struct node_entry, "address", address),
    K_INT (struct node_entry, "cpus", cpus, 0, 0, 100000),
    K_SIZE (struct node_entry, "memory", memory_mb, 0),
    K_INT (struct node_entry, "gpus", gpus, -1, -1, 64),
    K_STRLIST (struct node_entry, "features", features, nfeatures),
    { NULL },
};

struct part_entry {
    char *name;
    struct hostlist_val nodes;
    bool is_default;
    long max_time;
    int priority;
};

struct qos_entry {
    char *name;
    int priority;
};

static const struct key qos_keys[] = {
    K_STRING (struct qos_entry, "name", name, NULL, .required = true),
    K_INT (struct qos_entry, "priority", priority, 0, 0, 1000000),
    { NULL },
};

static const struct key partition_keys[] = {
    K_STRING (struct part_entry, "name", name, NULL, .required = true),
    K_HOSTLIST (struct part_entry, "nodes", nodes, .required = true),
    K_BOOL (struct part_entry, "default", is_default, false),
    K_TIME (struct part_entry, "max_time", max_time, AIOS_TIME_UNLIMITED),
    K_INT (struct part_entry, "priority", priority, 1, 0, 65535),
    { NULL },
};

/* --- errors -------------------------------------------------------------- */

static int fail (struct loader *ld, const yaml_node_t *at, const char *fmt,
                 ...) __attribute__ ((format (printf, 3, 4)));

/* "PATH:LINE:COL: message" at node at (1:1 when at is NULL); EINVAL. */
static int fail (struct loader *ld, const yaml_node_t *at, const char *fmt,
                 ...)
{
    char msg[sizeof (ld->err->text)];
    va_list ap;

    va_start (ap, fmt);
    vsnprintf (msg, sizeof (msg), fmt, ap);
    va_end (ap);
    errno = EINVAL;
    return errprintf (ld->err, "%s:%zu:%zu: %s", ld->path,
                      at ? at->start_mark.line + 1 : 1,
                      at ? at->start_mark.column + 1 : 1, msg);
}

/* Prefix the error a parse or hostlist function left in ld->err. */
static int fail_value (struct loader *ld, const yaml_node_t *at,
                       const char *name)
{
    if (errno == ENOMEM)
        return errprintf (ld->err, "%s: out of memory", ld->path);
    return errprefix (ld->err, "%s:%zu:%zu: %s", ld->path,
                      at->start_mark.line + 1, at->start_mark.column + 1,
                      name);
}

static int nomem (struct loader *ld)
{
    errno = ENOMEM;
    return errprintf (ld->err, "%s: out of memory", ld->path);
}

/* --- document access ----------------------------------------------------- */

static yaml_node_t *node_at (struct loader *ld, int i)
{
    return yaml_document_get_node (&ld->doc, i);
}

static const char *scalar (const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_null (const yaml_node_t *n)
{
    static const char *const words[] = { "~", "null", "Null", "NULL", NULL };
    const char *const *w;

    if (n->type != YAML_SCALAR_NODE)
        return false;
    if (n->data.scalar.length == 0)
        return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (w = words; *w; w++)
        if (!strcmp (scalar (n), *w))
            return true;
    return false;
}

/* "a mapping", "a sequence", "an empty value" or the quoted scalar. */
static const char *describe (const yaml_node_t *n, char *buf, size_t len)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a sequence";
    if (is_null (n))
        return "an empty value";
    if (n->data.scalar.length > 40)
        snprintf (buf, len, "\"%.40s...\"", scalar (n));
    else
        snprintf (buf, len, "\"%s\"", scalar (n));
    return buf;
}

/* The pair of mapping map whose key is name, or NULL. */
static yaml_node_pair_t *map_find (struct loader *ld, yaml_node_t *map,
                                   const char *name)
{
    yaml_node_pair_t *p;

    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node_at (ld, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp (scalar (k), name))
            return p;
    }
    return NULL;
}

static yaml_node_t *map_get (struct loader *ld, yaml_node_t *map,
                             const char *name)
{
    yaml_node_pair_t *p = map_find (ld, map, name);
    return p ? node_at (ld, p->value) : NULL;
}

static yaml_node_t *seq_get (struct loader *ld, yaml_node_t *seq, size_t i)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE
        || i >= (size_t)(seq->data.sequence.items.top
                         - seq->data.sequence.items.start))
        return NULL;
    return node_at (ld, seq->data.sequence.items.start[i]);
}

/* --- string vectors ------------------------------------------------------ */

static void strv_free (char **v)
{
    char **p;

    if (v) {
        for (p = v; *p; p++)
            free (*p);
        free (v);
    }
}

/* A NULL-terminated copy of v[0..n-1], or NULL on ENOMEM. */
static char **strv_dup (char *const *v, size_t n)
{
    char **copy = calloc (n + 1, sizeof (*copy));
    size_t i;

    if (!copy)
        return NULL;
    for (i = 0; i < n; i++) {
        if (!(copy[i] = strdup (v[i]))) {
            strv_free (copy);
            errno = ENOMEM;
            return NULL;
        }
    }
    return copy;
}

/* --- types: init (default), set (from a YAML node), fini ----------------- */

static int init_string (const struct key *k, void *base)
{
    char **f = FIELD (base, k->off, char *);

    if (k->sdef && !(*f = strdup (k->sdef)))
        return -1;
    return 0;
}

static int init_int (const struct key *k, void *base)
{
    *FIELD (base, k->off, int) = (int)k->idef;
    return 0;
}

static int init_bool (const struct key *k, void *base)
{
    *FIELD (base, k->off, bool) = k->idef != 0;
    return 0;
}

static int init_size (const struct key *k, void *base)
{
    *FIELD (base, k->off, uint64_t) = (uint64_t)k->idef;
    return 0;
}

static int init_time (const struct key *k, void *base)
{
    *FIELD (base, k->off, long) = k->idef;
    return 0;
}

static int init_strlist (const struct key *k, void *base)
{
    char ***f = FIELD (base, k->off, char **);

    if (!(*f = calloc (1, sizeof (**f))))
        return -1;
    *FIELD (base, k->count_off, size_t) = 0;
    return 0;
}

static int init_table (const struct key *table, void *base);

static int init_section (const struct key *k, void *base)
{
    return init_table (k->sub, base);
}

static int init_none (const struct key *k, void *base)
{
    return 0;
}

static int set_string (struct loader *ld, const struct key *k, void *base,
                       const char *name, yaml_node_t *val)
{
    char **f = FIELD (base, k->off, char *);
    char *s = strdup (scalar (val));

    if (!s)
        return nomem (ld);
    free (*f);
    *f = s;
    return 0;
}

static int set_int (struct loader *ld, const struct key *k, void *base,
                    const char *name, yaml_node_t *val)
{
    const char *s = scalar (val);
    char *end;
    long v;

    errno = 0;
    v = strtol (s, &end, 10);
    if (end == s || *end != '\0' || isspace ((unsigned char)*s))
        return fail (ld, val, "%s: \"%s\" is not an integer (expected %ld..%ld)",
                     name, s, k->min, k->max);
    if (errno == ERANGE || v < k->min || v > k->max)
        return fail (ld, val, "%s: %s is out of range (expected %ld..%ld)",
                     name, s, k->min, k->max);
    *FIELD (base, k->off, int) = (int)v;
    return 0;
}

static int set_bool (struct loader *ld, const struct key *k, void *base,
                     const char *name, yaml_node_t *val)
{
    static const struct {
        const char *word;
        bool value;
    } words[] = {
        { "true", true }, { "yes", true }, { "false", false }, { "no", false },
    };
    size_t i;

    for (i = 0; i < sizeof (words) / sizeof (words[0]); i++) {
        if (!strcasecmp (scalar (val), words[i].word)) {
            *FIELD (base, k->off, bool) = words[i].value;
            return 0;
        }
    }
    return fail (ld, val,
                 "%s: \"%s\" is not a boolean (expected true, false, yes or no)",
                 name, scalar (val));
}

static int set_size (struct loader *ld, const struct key *k, void *base,
                     const char *name, yaml_node_t *val)
{
    if (parse_size_mb (scalar (val), FIELD (base, k->off, uint64_t), ld->err)
        < 0)
        return fail_value (ld, val, name);
    return 0;
}

static int init_bytes (const struct key *k, void *base)
{
    *FIELD (base, k->off, uint64_t) = (uint64_t)k->idef;
    return 0;
}

static int set_bytes (struct loader *ld, const struct key *k, void *base,
                      const char *name, yaml_node_t *val)
{
    if (parse_size_bytes (scalar (val), FIELD (base, k->off, uint64_t), ld->err)
        < 0)
        return fail_value (ld, val, name);
    return 0;
}

static int set_time (struct loader *ld, const struct key *k, void *base,
                     const char *name, yaml_node_t *val)
{
    if (parse_time (scalar (val), FIELD (base, k->off, long), ld->err) < 0)
        return fail_value (ld, val, name);
    return 0;
}

static void fini_hostlist (const struct key *k, void *base)
{
    struct hostlist_val *f = FIELD (base, k->off, struct hostlist_val);

    hostlist_free (f->names);
    free (f->expr);
    f->names = NULL;
    f->expr = NULL;
    f->count = 0;
}

static int set_hostlist (struct loader *ld, const struct key *k, void *base,
                         const char *name, yaml_node_t *val)
{
    struct hostlist_val *f = FIELD (base, k->off, struct hostlist_val);
    struct hostlist_val v = { 0 };

    if (!(v.names = hostlist_expand (scalar (val), &v.count, ld->err)))
        return fail_value (ld, val, name);
    if (!(v.expr = strdup (scalar (val)))) {
        hostlist_free (v.names);
        return nomem (ld);
    }
    fini_hostlist (k, base);
    *f = v;
    return 0;
}

static int set_strlist (struct loader *ld, const struct key *k, void *base,
                        const char *name, yaml_node_t *val)
{
    yaml_node_item_t *it = val->data.sequence.items.start;
    size_t n = val->data.sequence.items.top - it;
    char **v = calloc (n + 1, sizeof (*v));
    char desc[64];
    size_t i;

    if (!v)
        return nomem (ld);
    for (i = 0; i < n; i++) {
        yaml_node_t *item = node_at (ld, it[i]);
        if (item->type != YAML_SCALAR_NODE || is_null (item)) {
            strv_free (v);
            return fail (ld, item, "%s[%zu]: expected a string, got %s", name,
                         i, describe (item, desc, sizeof (desc)));
        }
        if (!(v[i] = strdup (scalar (item)))) {
            strv_free (v);
            return nomem (ld);
        }
    }
    strv_free (*FIELD (base, k->off, char **));
    *FIELD (base, k->off, char **) = v;
    *FIELD (base, k->count_off, size_t) = n;
    return 0;
}

static int parse_mapping (struct loader *ld, const struct key *table,
                          void *base, const char *where, yaml_node_t *map);

static int set_section (struct loader *ld, const struct key *k, void *base,
                        const char *name, yaml_node_t *val)
{
    return parse_mapping (ld, k->sub, base, name, val);
}

static int set_list (struct loader *ld, const struct key *k, void *base,
                     const char *name, yaml_node_t *val)
{
    char where[NAME_MAX_LEN];
    char desc[64];
    size_t i;
    yaml_node_t *item;

    for (i = 0; (item = seq_get (ld, val, i)); i++) {
        snprintf (where, sizeof (where), "%s[%zu]", name, i);
        if (item->type != YAML_MAPPING_NODE)
            return fail (ld, item, "%s: expected a mapping, got %s", where,
                         describe (item, desc, sizeof (desc)));
        if (k->entry (ld, item, where, i) < 0)
            return -1;
    }
    return 0;
}

static void fini_string (const struct key *k, void *base)
{
    free (*FIELD (base, k->off, char *));
    *FIELD (base, k->off, char *) = NULL;
}

static void fini_strlist (const struct key *k, void *base)
{
    strv_free (*FIELD (base, k->off, char **));
    *FIELD (base, k->off, char **) = NULL;
    *FIELD (base, k->count_off, size_t) = 0;
}

static void fini_table (const struct key *table, void *base);

static void fini_section (const struct key *k, void *base)
{
    fini_table (k->sub, base);
}

static void fini_none (const struct key *k, void *base)
{
}

static const struct type {
    const char *noun;        /* "KEY: expected NOUN, got ..." */
    yaml_node_type_t kind;   /* the YAML node it takes */
    int (*init) (const struct key *k, void *base);
    int (*set) (struct loader *ld, const struct key *k, void *base,
                const char *name, yaml_node_t *val);
    void (*fini) (const struct key *k, void *base);
} types[] = {
    [KEY_STRING] = { "a string", YAML_SCALAR_NODE, init_string, set_string,
                     fini_string },
    [KEY_INT] = { "an integer", YAML_SCALAR_NODE, init_int, set_int,
                  fini_none },
    [KEY_BOOL] = { "true or false", YAML_SCALAR_NODE, init_bool, set_bool,
                   fini_none },
    [KEY_SIZE] = { "a size (e.g. 512M, 4G)", YAML_SCALAR_NODE, init_size,
                   set_size, fini_none },
    [KEY_BYTES] = { "a size in bytes (e.g. 1048576, 10G)", YAML_SCALAR_NODE,
                    init_bytes, set_bytes, fini_none },
    [KEY_TIME] = { "a time (e.g. 30, 2:00:00, 1-00:00:00, UNLIMITED)",
                   YAML_SCALAR_NODE, init_time, set_time, fini_none },
    [KEY_HOSTLIST] = { "a host list (e.g. node[1-4])", YAML_SCALAR_NODE,
                       init_none, set_hostlist, fini_hostlist },
    [KEY_STRLIST] = { "a sequence of strings", YAML_SEQUENCE_NODE,
                      init_strlist, set_strlist, fini_strlist },
    [KEY_SECTION] = { "a mapping", YAML_MAPPING_NODE, init_section,
                      set_section, fini_section },
    [KEY_LIST] = { "a sequence", YAML_SEQUENCE_NODE, init_none, set_list,
                   fini_none },
};

/* --- tables -------------------------------------------------------------- */

static int init_table (const struct key *table, void *base)
{
    const struct key *k;

    for (k = table; k->name; k++)
        if (types[k->type].init (k, base) < 0)
            return -1;
    return 0;
}

static void fini_table (const struct key *table, void *base)
{
    const struct key *k;

    for (k = table; k->name; k++)
        types[k->type].fini (k, base);
}

static const struct key *key_find (const struct key *table, const char *name)
{
    const struct key *k;

    for (k = table; k->name; k++)
        if (!strcmp (k->name, name))
            return k;
    return NULL;
}

/* "in controller" or "at the top level" */
static const char *context (const char *where, char *buf, size_t len)
{
    if (!*where)
        return "at the top level";
    snprintf (buf, len, "in %s", where);
    return buf;
}

static int unknown_key (struct loader *ld, const struct key *table,
                        const char *where, yaml_node_t *kn)
{
    char list[256] = "";
    char ctx[NAME_MAX_LEN + 8];
    size_t len = 0;
    const struct key *k;

    for (k = table; k->name && len < sizeof (list); k++)
        len += snprintf (list + len, sizeof (list) - len, "%s%s",
                         k == table ? "" : ", ", k->name);
    return fail (ld, kn, "unknown key \"%s\" %s (expected one of: %s)",
                 scalar (kn), context (where, ctx, sizeof (ctx)), list);
}

/* Set key k of base from val; kn is its key node. */
static int set_value (struct loader *ld, const struct key *k, void *base,
                      const char *where, yaml_node_t *kn, yaml_node_t *val)
{
    const struct type *t = &types[k->type];
    char name[NAME_MAX_LEN];
    char desc[64];

    if (*where)
        snprintf (name, sizeof (name), "%s.%s", where, k->name);
    else
        snprintf (name, sizeof (name), "%s", k->name);
    if (t->kind != YAML_SCALAR_NODE && is_null (val))
        return 0; /* an empty mapping or sequence */
    if (val->type != t->kind || is_null (val))
        return fail (ld, kn, "%s: expected %s, got %s", name, t->noun,
                     describe (val, desc, sizeof (desc)));
    return t->set (ld, k, base, name, val);
}

/* Fill base from mapping map by table; where names map ("" at the top). */
static int parse_mapping (struct loader *ld, const struct key *table,
                          void *base, const char *where, yaml_node_t *map)
{
    const yaml_node_t *seen[KEYS_MAX] = { NULL }; /* key nodes, by row */
    char ctx[NAME_MAX_LEN + 8];
    char desc[64];
    yaml_node_pair_t *p;
    const struct key *k;

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = node_at (ld, p->key);
        if (kn->type != YAML_SCALAR_NODE)
            return fail (ld, kn, "expected a key name %s, got %s",
                         context (where, ctx, sizeof (ctx)),
                         describe (kn, desc, sizeof (desc)));
        if (!(k = key_find (table, scalar (kn))))
            return unknown_key (ld, table, where, kn);
        if (seen[k - table])
            return fail (ld, kn, "duplicate key \"%s\" %s (first at %zu:%zu)",
                         k->name, context (where, ctx, sizeof (ctx)),
                         seen[k - table]->start_mark.line + 1,
                         seen[k - table]->start_mark.column + 1);
        seen[k - table] = kn;
        if (set_value (ld, k, base, where, kn, node_at (ld, p->value)) < 0)
            return -1;
    }
    for (k = table; k->name; k++)
        if (k->required && !seen[k - table])
            return fail (ld, map, "%s: missing required key \"%s\"", where,
                         k->name);
    return 0;
}

/* --- list entries -------------------------------------------------------- */

/* Append the nodes of entry e (nodes[index]) to the conf. */
static int add_nodes (struct loader *ld, const struct node_entry *e,
                      size_t index)
{
    struct aios_conf *conf = ld->conf;
    size_t n = conf->nnodes + e->name.count;
    struct conf_node *nodes;
    size_t *from;
    size_t i;

    if (!(nodes = realloc (conf->nodes, n * sizeof (*nodes))))
        return nomem (ld);
    conf->nodes = nodes;
    if (!(from = realloc (ld->node_entry, n * sizeof (*from))))
        return nomem (ld);
    ld->node_entry = from;
    for (i = 0; i < e->name.count; i++) {
        struct conf_node *cn = &conf->nodes[conf->nnodes];
        const char *addr = e->address.names ? e->address.names[i]
                                            : e->name.names[i];
        if (!(cn->name = strdup (e->name.names[i])))
            return nomem (ld);
        if (!(cn->address = strdup (addr))) {
            free (cn->name);
            return nomem (ld);
        }
        cn->cpus = e->cpus;
        cn->memory_mb = e->memory_mb;
        cn->gpus = e->gpus;
        cn->features = NULL;
        if (e->nfeatures > 0) {
            size_t len = 0, k;
            for (k = 0; k < e->nfeatures; k++)
                len += strlen (e->features[k]) + 1;
            if (!(cn->features = calloc (1, len + 1)))
                return nomem (ld);
            for (k = 0; k < e->nfeatures; k++) {
                if (k > 0)
                    strcat (cn->features, ",");
                strcat (cn->features, e->features[k]);
            }
        }
        ld->node_entry[conf->nnodes++] = index;
    }
    return 0;
}

static int load_node (struct loader *ld, yaml_node_t *item, const char *where,
                      size_t index)
{
    struct node_entry e = { 0 };
    int rc = -1;

    if (init_table (node_keys, &e) < 0) {
        nomem (ld);
        goto done;
    }
    if (parse_mapping (ld, node_keys, &e, where, item) < 0)
        goto done;
    if (e.address.names && e.address.count != e.name.count) {
        fail (ld, map_get (ld, item, "address"),
              "%s.address: %s expands to %zu addresses but name %s to %zu "
              "nodes",
              where, e.address.expr, e.address.count, e.name.expr,
              e.name.count);
        goto done;
    }
    rc = add_nodes (ld, &e, index);
done:
    fini_table (node_keys, &e);
    return rc;
}

static int add_partition (struct loader *ld, char *name, char *expr,
                          char **names, size_t count, long max_time)
{
    struct aios_conf *conf = ld->conf;
    struct conf_partition *parts;
    struct conf_partition *p;

    if (!(parts = realloc (conf->parts, (conf->nparts + 1) * sizeof (*p))))
        return -1;
    conf->parts = parts;
    p = &conf->parts[conf->nparts];
    memset (p, 0, sizeof (*p));
    if (!(p->name = strdup (name)) || !(p->nodes_expr = strdup (expr))
        || !(p->nodes = strv_dup (names, count))) {
        free (p->name);
        free (p->nodes_expr);
        return -1;
    }
    p->nnodes = count;
    p->max_time = max_time;
    conf->nparts++;
    return 0;
}

static int load_partition (struct loader *ld, yaml_node_t *item,
                           const char *where, size_t index)
{
    struct part_entry e = { 0 };
    int rc = -1;

    if (init_table (partition_keys, &e) < 0) {
        nomem (ld);
        goto done;
    }
    if (parse_mapping (ld, partition_keys, &e, where, item) < 0)
        goto done;
    if (add_partition (ld, e.name, e.nodes.expr, e.nodes.names, e.nodes.count,
                       e.max_time)
        < 0) {
        nomem (ld);
        goto done;
    }
    ld->conf->parts[ld->conf->nparts - 1].is_default = e.is_default;
    ld->conf->parts[ld->conf->nparts - 1].priority = e.priority;
    rc = 0;
done:
    fini_table (partition_keys, &e);
    return rc;
}

static int load_qos (struct loader *ld, yaml_node_t *item, const char *where,
                     size_t index)
{
    struct qos_entry e = { 0 };
    struct aios_conf *conf = ld->conf;
    struct conf_qos *q;
    size_t i;
    int rc = -1;

    (void)index;
    if (init_table (qos_keys, &e) < 0) {
        nomem (ld);
        goto done;
    }
    if (parse_mapping (ld, qos_keys, &e, where, item) < 0)
        goto done;
    for (i = 0; i < conf->nqos; i++) {
        if (!strcmp (conf->qos[i].name, e.name)) {
            fail (ld, map_get (ld, item, "name"), "%s.name: duplicate QOS \"%s\"",
                  where, e.name);
            goto done;
        }
    }
    if (!(q = realloc (conf->qos, (conf->nqos + 1) * sizeof (*q)))) {
        nomem (ld);
        goto done;
    }
    conf->qos = q;
    if (!(q[conf->nqos].name = strdup (e.name))) {
        nomem (ld);
        goto done;
    }
    q[conf->nqos++].priority = e.priority;
    rc = 0;
done:
    fini_table (qos_keys, &e);
    return rc;
}

/* --- cross-checks -------------------------------------------------------- */

static int ref_cmp (const void *a, const void *b)
{
    const struct node_ref *x = a;
    const struct node_ref *y = b;
    int c = strcmp (x->name, y->name);

    if (c)
        return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* The value node of key in the entry that declared conf->nodes[i]. */
static yaml_node_t *node_src (struct loader *ld, size_t i, const char *key)
{
    yaml_node_t *seq = map_get (ld, ld->root, "nodes");
    return map_get (ld, seq_get (ld, seq, ld->node_entry[i]), key);
}

/* At least one node, none declared twice; sorts ld->index. */
static int check_nodes (struct loader *ld)
{
    struct aios_conf *conf = ld->conf;
    size_t dup = 0, first = 0;
    size_t i, run = 0;

    if (conf->nnodes == 0) {
        yaml_node_pair_t *p = map_find (ld, ld->root, "nodes");
        return fail (ld, p ? node_at (ld, p->key) : ld->root,
                     "nodes: at least one node is required");
    }
    if (!(ld->index = calloc (conf->nnodes, sizeof (*ld->index))))
        return nomem (ld);
    for (i = 0; i < conf->nnodes; i++)
        ld->index[i] = (struct node_ref){ conf->nodes[i].name, i };
    qsort (ld->index, conf->nnodes, sizeof (*ld->index), ref_cmp);
    for (i = 1; i < conf->nnodes; i++) {
        if (strcmp (ld->index[i].name, ld->index[run].name) != 0)
            run = i;
        else if (i == run + 1 && (!dup || ld->index[i].i < dup)) {
            dup = ld->index[i].i; /* the first repeat in file order */
            first = ld->index[run].i;
        }
    }
    if (dup) {
        yaml_node_t *at = node_src (ld, first, "name");
        return fail (ld, node_src (ld, dup, "name"),
                     "nodes[%zu].name: %s is declared twice (first at %zu:%zu)",
                     ld->node_entry[dup], conf->nodes[dup].name,
                     at->start_mark.line + 1, at->start_mark.column + 1);
    }
    return 0;
}

/* The position of name in ld->index, or conf->nnodes if not declared. */
static size_t index_find (struct loader *ld, const char *name)
{
    size_t lo = 0, hi = ld->conf->nnodes;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp (ld->index[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ld->conf->nnodes && !strcmp (ld->index[lo].name, name))
        return lo;
    return ld->conf->nnodes;
}

/* Every node of partitions[k] is declared, and listed once. */
static int check_part_nodes (struct loader *ld, size_t k, yaml_node_t *item)
{
    const struct conf_partition *p = &ld->conf->parts[k];
    char *listed = calloc (ld->conf->nnodes, 1);
    size_t i, pos;
    int rc = 0;

    if (!listed)
        return nomem (ld);
    for (i = 0; i < p->nnodes && rc == 0; i++) {
        if ((pos = index_find (ld, p->nodes[i])) == ld->conf->nnodes)
            rc = fail (ld, map_get (ld, item, "nodes"),
                       "partitions[%zu].nodes: %s is not declared in nodes", k,
                       p->nodes[i]);
        else if (listed[pos]++)
            rc = fail (ld, map_get (ld, item, "nodes"),
                       "partitions[%zu].nodes: %s is listed twice", k,
                       p->nodes[i]);
    }
    free (listed);
    return rc;
}

/* partitions[k]: a new name, declared nodes, at most one default. */
static int check_partition (struct loader *ld, size_t k, yaml_node_t *item,
                            size_t *def)
{
    struct conf_partition *parts = ld->conf->parts;
    size_t j;

    for (j = 0; j < k; j++) {
        if (!strcmp (parts[j].name, parts[k].name)) {
            yaml_node_t *seq = map_get (ld, ld->root, "partitions");
            yaml_node_t *at = map_get (ld, seq_get (ld, seq, j), "name");
            return fail (ld, map_get (ld, item, "name"),
                         "partitions[%zu].name: \"%s\" is declared twice "
                         "(first at %zu:%zu)",
                         k, parts[k].name, at->start_mark.line + 1,
                         at->start_mark.column + 1);
        }
    }
    if (check_part_nodes (ld, k, item) < 0)
        return -1;
    if (parts[k].is_default) {
        if (*def < k)
            return fail (ld, map_get (ld, item, "default"),
                         "partitions[%zu].default: only one partition may be "
                         "the default, and \"%s\" already is",
                         k, parts[*def].name);
        *def = k;
    }
    return 0;
}

/* One "batch" partition with every node, default, no time limit. */
static int add_batch (struct loader *ld)
{
    struct aios_conf *conf = ld->conf;
    char **names = calloc (conf->nnodes + 1, sizeof (*names));
    char *expr = NULL;
    size_t i;
    int rc = -1;

    if (!names)
        return nomem (ld);
    for (i = 0; i < conf->nnodes; i++)
        names[i] = conf->nodes[i].name;
    if ((expr = hostlist_compress (names, conf->nnodes))
        && add_partition (ld, "batch", expr, names, conf->nnodes,
                          AIOS_TIME_UNLIMITED)
               == 0) {
        conf->parts[0].is_default = true;
        conf->parts[0].priority = 1;
        rc = 0;
    }
    free (expr);
    free (names);
    return rc < 0 ? nomem (ld) : 0;
}

static int check_partitions (struct loader *ld)
{
    yaml_node_pair_t *p = map_find (ld, ld->root, "partitions");
    yaml_node_t *seq;
    size_t k, def;

    if (!p)
        return add_batch (ld);
    if (ld->conf->nparts == 0)
        return fail (ld, node_at (ld, p->key),
                     "partitions: at least one partition is required (leave "
                     "the key out for one \"batch\" partition of every node)");
    seq = node_at (ld, p->value);
    def = ld->conf->nparts;
    for (k = 0; k < ld->conf->nparts; k++)
        if (check_partition (ld, k, seq_get (ld, seq, k), &def) < 0)
            return -1;
    if (def == ld->conf->nparts)
        ld->conf->parts[0].is_default = true;
    return 0;
}

static int check_timeouts (struct loader *ld)
{
    const struct aios_conf *conf = ld->conf;
    yaml_node_t *ctl = map_get (ld, ld->root, "controller");
    yaml_node_t *at;

    if (conf->node_timeout > conf->heartbeat_interval)
        return 0;
    if (!(at = map_get (ld, ctl, "node_timeout")))
        at = map_get (ld, ctl, "heartbeat_interval");
    return fail (ld, at,
                 "controller.node_timeout: %d must be greater than "
                 "controller.heartbeat_interval (%d)",
                 conf->node_timeout, conf->heartbeat_interval);
}

static int check_scheduler (struct loader *ld)
{
    const struct aios_conf *conf = ld->conf;
    yaml_node_t *sch = map_get (ld, ld->root, "scheduler");

    if (strcmp (conf->backfill, "none") != 0 && strcmp (conf->backfill, "easy") != 0)
        return fail (ld, map_get (ld, sch, "backfill"),
                     "scheduler.backfill: \"%s\" is not one of none, easy",
                     conf->backfill);
    return 0;
}

static int validate (struct loader *ld)
{
    static int (*const stages[]) (struct loader *) = {
        check_nodes,
        check_partitions,
        check_timeouts,
        check_scheduler,
    };
    size_t i;

    for (i = 0; i < sizeof (stages) / sizeof (stages[0]); i++)
        if (stages[i](ld) < 0)
            return -1;
    return 0;
}

/* --- reading ------------------------------------------------------------- */

static int read_file (struct loader *ld, unsigned char **bufp, size_t *lenp)
{
    FILE *f = fopen (ld->path, "r");
    unsigned char *buf = NULL;
    size_t len = 0, size = 0;

    if (!f)
        return errprintf (ld->err, "%s: cannot open: %s", ld->path,
                          strerror (errno));
    for (;;) {
        if (len == size) {
            unsigned char *nbuf = realloc (buf, size = size ? size * 2 : 4096);
            if (!nbuf) {
                free (buf);
                fclose (f);
                return nomem (ld);
            }
            buf = nbuf;
        }
        size_t n = fread (buf + len, 1, size - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror (f)) {
        int saved = errno;
        free (buf);
        fclose (f);
        errno = saved;
        return errprintf (ld->err, "%s: cannot read: %s", ld->path,
                          strerror (errno));
    }
    fclose (f);
    *bufp = buf;
    *lenp = len;
    return 0;
}

static int syntax_error (struct loader *ld, const yaml_parser_t *parser)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return nomem (ld);
    errno = EINVAL;
    if (parser->error == YAML_READER_ERROR)
        return errprintf (ld->err, "%s: %s at byte %zu", ld->path,
                          parser->problem, parser->problem_offset);
    if (parser->context)
        return errprintf (ld->err, "%s:%zu:%zu: %s (%s at %zu:%zu)", ld->path,
                          parser->problem_mark.line + 1,
                          parser->problem_mark.column + 1, parser->problem,
                          parser->context, parser->context_mark.line + 1,
                          parser->context_mark.column + 1);
    return errprintf (ld->err, "%s:%zu:%zu: %s", ld->path,
                      parser->problem_mark.line + 1,
                      parser->problem_mark.column + 1,
                      parser->problem ? parser->problem : "YAML error");
}

/* Parse the one document in buf into ld->doc. */
static int load_document (struct loader *ld, const unsigned char *buf,
                          size_t len)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    yaml_node_t *root;
    int rc = -1;

    if (!yaml_parser_initialize (&parser))
        return nomem (ld);
    yaml_parser_set_input_string (&parser, buf, len);
    if (!yaml_parser_load (&parser, &ld->doc)) {
        syntax_error (ld, &parser);
        goto done;
    }
    ld->have_doc = true;
    if (!yaml_parser_load (&parser, &extra)) {
        syntax_error (ld, &parser);
        goto done;
    }
    if ((root = yaml_document_get_root_node (&extra)))
        fail (ld, root, "only one YAML document is allowed");
    else
        rc = 0;
    yaml_document_delete (&extra);
done:
    yaml_parser_delete (&parser);
    return rc;
}

static int load (struct loader *ld)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    char desc[64];
    int rc;

    if (read_file (ld, &buf, &len) < 0)
        return -1;
    rc = load_document (ld, buf, len);
    free (buf);
    if (rc < 0)
        return -1;
    ld->root = yaml_document_get_root_node (&ld->doc);
    if (ld->root && is_null (ld->root))
        ld->root = NULL; /* "---" alone: as empty as an empty file */
    if (ld->root && ld->root->type != YAML_MAPPING_NODE)
        return fail (ld, ld->root, "expected a mapping at the top level, got %s",
                     describe (ld->root, desc, sizeof (desc)));
    if (ld->root && parse_mapping (ld, top_keys, ld->conf, "", ld->root) < 0)
        return -1;
    return validate (ld);
}

/* --- public -------------------------------------------------------------- */

struct aios_conf *conf_load (const char *path, aios_error_t *err)
{
    struct loader ld = { .path = path, .err = err };
    int saved;

    if (!path) {
        errno = EINVAL;
        errprintf (err, "no configuration file given");
        return NULL;
    }
    if (!(ld.conf = calloc (1, sizeof (*ld.conf)))
        || !(ld.conf->path = strdup (path))
        || init_table (top_keys, ld.conf) < 0) {
        nomem (&ld);
        goto error;
    }
    if (load (&ld) < 0)
        goto error;
    if (ld.have_doc)
        yaml_document_delete (&ld.doc);
    free (ld.node_entry);
    free (ld.index);
    return ld.conf;
error:
    saved = errno;
    if (ld.have_doc)
        yaml_document_delete (&ld.doc);
    free (ld.node_entry);
    free (ld.index);
    conf_destroy (ld.conf);
    errno = saved;
    return NULL;
}

void conf_destroy (struct aios_conf *conf)
{
    int saved = errno;
    size_t i;

    if (conf) {
        free (conf->path);
        fini_table (top_keys, conf);
        for (i = 0; i < conf->nnodes; i++) {
            free (conf->nodes[i].name);
            free (conf->nodes[i].address);
            free (conf->nodes[i].features);
        }
        for (i = 0; i < conf->nqos; i++)
            free (conf->qos[i].name);
        free (conf->qos);
        free (conf->nodes);
        for (i = 0; i < conf->nparts; i++) {
            free (conf->parts[i].name);
            free (conf->parts[i].nodes_expr);
            strv_free (conf->parts[i].nodes);
        }
        free (conf->parts);
        free (conf);
    }
    errno = saved;
}

const char *conf_default_path (void)
{
    const char *s = getenv ("AIOS_CONF");

    return s && *s ? s : AIOS_SYSCONFDIR "/aios.yaml";
}

const struct conf_node *conf_node_lookup (const struct aios_conf *conf,
                                          const char *name)
{
    size_t i;

    if (!conf || !name)
        return NULL;
    for (i = 0; i < conf->nnodes; i++)
        if (!strcmp (conf->nodes[i].name, name))
            return &conf->nodes[i];
    return NULL;
}

const struct conf_partition *conf_partition_lookup (const struct aios_conf *conf,
                                                    const char *name)
{
    size_t i;

    if (!conf)
        return NULL;
    for (i = 0; i < conf->nparts; i++) {
        const struct conf_partition *p = &conf->parts[i];
        if (name ? !strcmp (p->name, name) : p->is_default)
            return p;
    }
    return NULL;
}

/* Expand pattern into out (when not NULL); returns the length. */
static size_t expand (const char *pattern, const char *node, char *out)
{
    size_t len = 0, nlen = strlen (node);
    const char *p;

    for (p = pattern; *p; p++) {
        if (p[0] == '%' && p[1] == 'n') {
            if (out)
                memcpy (out + len, node, nlen);
            len += nlen;
            p++;
            continue;
        }
        if (p[0] == '%' && p[1] == '%')
            p++;
        if (out)
            out[len] = *p;
        len++;
    }
    if (out)
        out[len] = '\0';
    return len;
}

char *conf_expand_node (const char *pattern, const char *node)
{
    char *s;

    if (!pattern || !node) {
        errno = EINVAL;
        return NULL;
    }
    if (!(s = malloc (expand (pattern, node, NULL) + 1)))
        return NULL;
    expand (pattern, node, s);
    return s;
}

bool conf_is_operator (const struct aios_conf *conf, const char *user)
{
    size_t i;

    if (!conf || !user)
        return false;
    for (i = 0; i < conf->noperators; i++)
        if (!strcmp (conf->operators[i], user))
            return true;
    return false;
}

int conf_qos_priority (const struct aios_conf *conf, const char *name)
{
    size_t i;

    if (!name || !*name)
        name = "normal";
    for (i = 0; i < conf->nqos; i++)
        if (!strcmp (conf->qos[i].name, name))
            return conf->qos[i].priority;
    return !strcmp (name, "normal") ? 0 : -1;
}
