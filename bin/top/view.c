/* view.c - what aios-top shows of the model */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "job.h"
#include "parse.h"
#include "view.h"

static const struct {
    const char *header, *name;
} job_cols[JC_COUNT] = {
    [JC_ID] = { "JOBID", "id" },
    [JC_USER] = { "USER", "user" },
    [JC_NAME] = { "NAME", "name" },
    [JC_STATE] = { "STATE", "state" },
    [JC_TIME] = { "TIME", "time" },
    [JC_NODES] = { "NODES", "nodes" },
    [JC_WHERE] = { "NODELIST(REASON)", "reason" },
}, node_cols[NC_COUNT] = {
    [NC_NAME] = { "NODE", "name" },
    [NC_STATE] = { "STATE", "state" },
    [NC_CPUS] = { "CPUS(A/T)", "cpus" },
    [NC_MEM] = { "MEMORY(A/T)", "memory" },
    [NC_GPUS] = { "GPUS(A/T)", "gpus" },
    [NC_REASON] = { "REASON", "reason" },
};

static int ncols (enum pane p)
{
    return p == PANE_JOBS ? JC_COUNT : NC_COUNT;
}

const char *view_col_header (enum pane p, int col)
{
    return p == PANE_JOBS ? job_cols[col].header : node_cols[col].header;
}

const char *view_col_name (enum pane p, int col)
{
    return p == PANE_JOBS ? job_cols[col].name : node_cols[col].name;
}

struct view *view_create (void)
{
    struct view *v = cli_xmalloc (sizeof (*v));

    v->focus = PANE_JOBS;
    return v;
}

void view_destroy (struct view *v)
{
    if (v) {
        free (v->rows[PANE_NODES].v);
        free (v->rows[PANE_JOBS].v);
        free (v);
    }
}

/* --- cells ------------------------------------------------------------------ */

static long job_elapsed (const struct top_job *j, double now)
{
    double end = j->end > 0 ? j->end : now;

    if (j->state == JOB_PENDING || j->start <= 0 || end <= j->start)
        return 0;
    return (long)(end - j->start);
}

const char *view_job_cell (const struct top_job *j, int col, double now,
                           char *buf, size_t len)
{
    switch (col) {
    case JC_ID:
        if (cli_jint (j->obj, "array_job_id") > 0)
            snprintf (buf, len, "%lld_%lld", cli_jint (j->obj, "array_job_id"),
                      cli_jint (j->obj, "array_task_id"));
        else
            snprintf (buf, len, "%lld", j->id);
        return buf;
    case JC_USER: return j->user;
    case JC_NAME: return j->name;
    case JC_STATE: return j->state_name;
    case JC_TIME: return format_time (job_elapsed (j, now), buf, len);
    case JC_NODES: snprintf (buf, len, "%lld", j->nodes); return buf;
    case JC_WHERE: {
        json_t *st = json_object_get (j->obj, "staging");
        if (st) {
            long long done = cli_jint (st, "done"), total = cli_jint (st, "total");
            snprintf (buf, len, "%s (Staging %lld%%)", j->nodelist,
                      total > 0 ? done * 100 / total : 0);
            return buf;
        }
        if (*j->nodelist)
            return j->nodelist;
        snprintf (buf, len, "(%s)", *j->reason ? j->reason : "None");
        return buf;
    }
    }
    return "";
}

static const char *mem_pair (long long a, long long t, char *buf, size_t len)
{
    char x[32], y[32];

    snprintf (buf, len, "%s/%s", format_size_mb (a > 0 ? (uint64_t)a : 0, x, sizeof (x)),
              format_size_mb (t > 0 ? (uint64_t)t : 0, y, sizeof (y)));
    return buf;
}

const char *view_node_cell (const struct top_node *n, int col, char *buf,
                            size_t len)
{
    switch (col) {
    case NC_NAME: return n->name;
    case NC_STATE: return n->state;
    case NC_CPUS:
        snprintf (buf, len, "%lld/%lld", n->cpus_alloc, n->cpus);
        return buf;
    case NC_MEM: return mem_pair (n->mem_alloc_mb, n->mem_mb, buf, len);
    case NC_GPUS:
        snprintf (buf, len, "%lld/%lld", n->gpus_alloc, n->gpus);
        return buf;
    case NC_REASON: return n->reason;
    }
    return "";
}


/* --- filter ----------------------------------------------------------------- */

static const struct {
    const char *prefix;
    enum filter_key key;
} filter_keys[] = {
    { "user:", FK_USER },
    { "state:", FK_STATE },
    { "partition:", FK_PARTITION },
};

static void parse_term (struct filter_term *t, const char *word)
{
    size_t i, len;

    t->key = FK_TEXT;
    for (i = 0; i < sizeof (filter_keys) / sizeof (filter_keys[0]); i++) {
        len = strlen (filter_keys[i].prefix);
        if (!strncasecmp (word, filter_keys[i].prefix, len)) {
            t->key = filter_keys[i].key;
            word += len;
            break;
        }
    }
    snprintf (t->value, sizeof (t->value), "%s", word);
}

int view_set_filter (struct view *v, const char *text, aios_error_t *err)
{
    char copy[FILTER_MAX], *save = NULL, *word;
    size_t n = 0;

    if (strlen (text) >= sizeof (copy))
        return errprintf (err, "filter too long (at most %d characters)",
                          FILTER_MAX - 1);
    snprintf (copy, sizeof (copy), "%s", text);
    for (word = strtok_r (copy, " \t", &save); word;
         word = strtok_r (NULL, " \t", &save)) {
        if (n == FILTER_TERMS)
            return errprintf (err, "too many filter words (at most %d)",
                              FILTER_TERMS);
        parse_term (&v->terms[n++], word);
    }
    v->nterms = n;
    snprintf (v->filter, sizeof (v->filter), "%s", text);
    v->stale = true;
    return 0;
}

static bool state_matches (const struct top_job *j, const char *value)
{
    int st = job_state_parse (value);

    if (st >= 0)
        return j->state == st;
    return !strncasecmp (j->state_name, value, strlen (value));
}

static bool text_matches (const struct top_job *j, const char *value)
{
    char id[32];

    snprintf (id, sizeof (id), "%lld", j->id);
    return !strcmp (id, value) || strcasestr (j->name, value)
           || strcasestr (j->user, value) || strcasestr (j->partition, value)
           || strcasestr (j->state_name, value) || strcasestr (j->reason, value)
           || strcasestr (j->nodelist, value);
}

static bool term_matches (const struct filter_term *t, const struct top_job *j)
{
    switch (t->key) {
    case FK_USER: return !strcmp (j->user, t->value);
    case FK_STATE: return state_matches (j, t->value);
    case FK_PARTITION: return !strcmp (j->partition, t->value);
    case FK_TEXT: return text_matches (j, t->value);
    }
    return true;
}

static bool job_shown (const struct view *v, const struct top_job *j)
{
    size_t i;

    for (i = 0; i < v->nterms; i++)
        if (!term_matches (&v->terms[i], j))
            return false;
    return true;
}

/* --- sort ------------------------------------------------------------------- */

int view_set_sort (struct view *v, enum pane p, const char *name)
{
    int c;

    for (c = 0; c < ncols (p); c++) {
        if (!strcasecmp (name, view_col_name (p, c))
            || !strcasecmp (name, view_col_header (p, c))) {
            v->rows[p].sort = c;
            v->stale = true;
            return 0;
        }
    }
    return -1;
}

void view_cycle_sort (struct view *v, enum pane p)
{
    v->rows[p].sort = (v->rows[p].sort + 1) % ncols (p);
    v->rows[p].reverse = false;
    v->stale = true;
}

void view_reverse_sort (struct view *v, enum pane p)
{
    v->rows[p].reverse = !v->rows[p].reverse;
    v->stale = true;
}

/* Names with numbers in them in numeric order: node2 before node10. */
static int natcmp (const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit ((unsigned char)*a) && isdigit ((unsigned char)*b)) {
            char *ea, *eb;
            unsigned long long x = strtoull (a, &ea, 10), y = strtoull (b, &eb, 10);
            if (x != y)
                return x < y ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

#define CMP(x, y) (((x) > (y)) - ((x) < (y)))

struct sort_ctx {
    const struct model *m;
    int col;
    bool reverse;
};

/* As the NODELIST(REASON) cells sort: "(reason)" before node names. */
static int cmp_where (const struct top_job *a, const struct top_job *b)
{
    if (*a->nodelist && *b->nodelist)
        return natcmp (a->nodelist, b->nodelist);
    if (*a->nodelist || *b->nodelist)
        return *a->nodelist ? 1 : -1;
    return strcmp (a->reason, b->reason);
}

static int cmp_jobs (const void *pa, const void *pb, void *arg)
{
    const struct sort_ctx *c = arg;
    const struct top_job *a = &c->m->jobs[*(const size_t *)pa];
    const struct top_job *b = &c->m->jobs[*(const size_t *)pb];
    int r = 0;

    switch (c->col) {
    case JC_USER: r = strcmp (a->user, b->user); break;
    case JC_NAME: r = natcmp (a->name, b->name); break;
    case JC_STATE: r = CMP (a->state, b->state); break;
    case JC_TIME: r = CMP (job_elapsed (b, c->m->now), job_elapsed (a, c->m->now)); break;
    case JC_NODES: r = CMP (a->nodes, b->nodes); break;
    case JC_WHERE: r = cmp_where (a, b); break;
    }
    if (r == 0)
        r = CMP (a->id, b->id);
    return c->reverse ? -r : r;
}

static int cmp_nodes (const void *pa, const void *pb, void *arg)
{
    const struct sort_ctx *c = arg;
    const struct top_node *a = &c->m->nodes[*(const size_t *)pa];
    const struct top_node *b = &c->m->nodes[*(const size_t *)pb];
    int r = 0;

    switch (c->col) {
    case NC_STATE: r = strcmp (a->state, b->state); break;
    case NC_CPUS: r = CMP (b->cpus_alloc, a->cpus_alloc); break;
    case NC_MEM: r = CMP (b->mem_alloc_mb, a->mem_alloc_mb); break;
    case NC_GPUS: r = CMP (b->gpus_alloc, a->gpus_alloc); break;
    case NC_REASON: r = strcmp (a->reason, b->reason); break;
    }
    if (r == 0)
        r = natcmp (a->name, b->name);
    return c->reverse ? -r : r;
}

/* --- rows and selection ------------------------------------------------------ */

static void rows_reserve (struct pane_rows *r, size_t n)
{
    free (r->v);
    r->v = cli_xmalloc ((n + 1) * sizeof (*r->v));
    r->n = 0;
}

static void find_selection (struct view *v, const struct model *m)
{
    struct pane_rows *jr = &v->rows[PANE_JOBS], *nr = &v->rows[PANE_NODES];
    size_t i;

    for (i = 0; i < jr->n; i++)
        if (m->jobs[jr->v[i]].id == v->sel_job)
            jr->sel = i;
    for (i = 0; i < nr->n; i++)
        if (!strcmp (m->nodes[nr->v[i]].name, v->sel_node))
            nr->sel = i;
    if (jr->sel >= jr->n)
        jr->sel = jr->n ? jr->n - 1 : 0;
    if (nr->sel >= nr->n)
        nr->sel = nr->n ? nr->n - 1 : 0;
    v->sel_job = jr->n ? m->jobs[jr->v[jr->sel]].id : 0;
    snprintf (v->sel_node, sizeof (v->sel_node), "%s",
              nr->n ? m->nodes[nr->v[nr->sel]].name : "");
}

static void rebuild (struct view *v, const struct model *m)
{
    struct pane_rows *jr = &v->rows[PANE_JOBS], *nr = &v->rows[PANE_NODES];
    struct sort_ctx c = { .m = m };
    size_t i;

    rows_reserve (jr, m->njobs);
    for (i = 0; i < m->njobs; i++)
        if (job_shown (v, &m->jobs[i]))
            jr->v[jr->n++] = i;
    c.col = jr->sort;
    c.reverse = jr->reverse;
    if (c.col != JC_ID || c.reverse)
        qsort_r (jr->v, jr->n, sizeof (*jr->v), cmp_jobs, &c);
    rows_reserve (nr, m->nnodes);
    for (i = 0; i < m->nnodes; i++)
        nr->v[nr->n++] = i;
    c.col = nr->sort;
    c.reverse = nr->reverse;
    qsort_r (nr->v, nr->n, sizeof (*nr->v), cmp_nodes, &c);
    find_selection (v, m);
}

void view_update (struct view *v, const struct model *m, bool force)
{
    bool timed = v->rows[PANE_JOBS].sort == JC_TIME && v->built_now != m->now;

    if (!force && !v->stale && !timed && v->built == m->version)
        return;
    rebuild (v, m);
    v->built = m->version;
    v->built_now = m->now;
    v->stale = false;
}

void view_scroll_to_sel (struct view *v, enum pane p, size_t page)
{
    struct pane_rows *r = &v->rows[p];

    if (page == 0)
        page = 1;
    if (r->sel < r->top)
        r->top = r->sel;
    if (r->sel >= r->top + page)
        r->top = r->sel - page + 1;
    if (r->top > 0 && r->n - r->top < page)
        r->top = r->n > page ? r->n - page : 0;
}

void view_move (struct view *v, const struct model *m, long delta, size_t page)
{
    struct pane_rows *r = &v->rows[v->focus];
    long sel = (long)r->sel + delta;

    if (r->n == 0)
        return;
    if (sel < 0)
        sel = 0;
    if (sel >= (long)r->n)
        sel = (long)r->n - 1;
    r->sel = (size_t)sel;
    if (v->focus == PANE_JOBS)
        v->sel_job = m->jobs[r->v[r->sel]].id;
    else
        snprintf (v->sel_node, sizeof (v->sel_node), "%s", m->nodes[r->v[r->sel]].name);
    view_scroll_to_sel (v, v->focus, page);
}

const struct top_job *view_selected_job (const struct view *v,
                                         const struct model *m)
{
    return v->sel_job ? model_job (m, v->sel_job) : NULL;
}
