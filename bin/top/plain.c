/* plain.c - aios-top --once: the screen's data as plain text */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "job.h"
#include "parse.h"
#include "top.h"

enum { CELL_MAX = 128, MAX_COLS = 8 };

typedef const char *(*cell_f) (const struct top *t, size_t row, int col,
                               char *buf, size_t len);

static const char *job_cell (const struct top *t, size_t row, int col,
                             char *buf, size_t len)
{
    const struct pane_rows *r = &t->view->rows[PANE_JOBS];

    return view_job_cell (&t->model->jobs[r->v[row]], col, t->model->now, buf, len);
}

static const char *node_cell (const struct top *t, size_t row, int col,
                              char *buf, size_t len)
{
    const struct pane_rows *r = &t->view->rows[PANE_NODES];

    return view_node_cell (&t->model->nodes[r->v[row]], col, buf, len);
}

/* A table with every column as wide as its widest cell; the last column
 * is not padded. */
static void table (const struct top *t, FILE *f, enum pane p, int ncol, cell_f cell)
{
    size_t n = t->view->rows[p].n, i;
    int w[MAX_COLS], c;
    char buf[CELL_MAX], clean[CELL_MAX];

    for (c = 0; c < ncol; c++) {
        w[c] = (int)strlen (view_col_header (p, c));
        for (i = 0; i < n; i++) {
            int len = (int)strlen (cell (t, i, c, buf, sizeof (buf)));
            w[c] = len > w[c] ? len : w[c];
        }
    }
    for (c = 0; c < ncol; c++)
        fprintf (f, "%-*s%s", c < ncol - 1 ? w[c] : 0, view_col_header (p, c),
                 c < ncol - 1 ? " " : "\n");
    for (i = 0; i < n; i++)
        for (c = 0; c < ncol; c++)
            fprintf (f, "%-*s%s", c < ncol - 1 ? w[c] : 0,
                     cli_clean (cell (t, i, c, buf, sizeof (buf)), clean,
                                 sizeof (clean)),
                     c < ncol - 1 ? " " : "\n");
}

static void summary (const struct top *t, FILE *f)
{
    const struct model *m = t->model;
    long long c = 0, ca = 0, g = 0, ga = 0, mem = 0, ma = 0;
    char up[32], x[32], y[32];
    size_t i;

    for (i = 0; i < m->nnodes; i++) {
        c += m->nodes[i].cpus, ca += m->nodes[i].cpus_alloc;
        g += m->nodes[i].gpus, ga += m->nodes[i].gpus_alloc;
        mem += m->nodes[i].mem_mb, ma += m->nodes[i].mem_alloc_mb;
    }
    fprintf (f, "Cluster %s  up %s  policy %s  backfill %s\n", m->cluster,
             format_time ((long)model_uptime (m), up, sizeof (up)), m->policy,
             m->backfill);
    fprintf (f, "Nodes %zu: %zu idle, %zu mixed, %zu allocated, %zu down, %zu drain\n",
             m->nnodes, model_nodes_in (m, "IDLE"), model_nodes_in (m, "MIXED"),
             model_nodes_in (m, "ALLOCATED"), model_nodes_in (m, "DOWN"),
             model_nodes_in (m, "DRAIN") + model_nodes_in (m, "DRAINING"));
    fprintf (f, "CPUs %lld/%lld  GPUs %lld/%lld  Memory %s/%s\n", ca, c, ga, g,
             format_size_mb (ma > 0 ? (uint64_t)ma : 0, x, sizeof (x)),
             format_size_mb (mem > 0 ? (uint64_t)mem : 0, y, sizeof (y)));
    fprintf (f, "Jobs: %zu pending, %zu running; finished in the last minute: %zu\n",
             model_jobs_in (m, JOB_PENDING), model_jobs_in (m, JOB_RUNNING),
             model_finished_recent (m, 60));
}

void draw_plain (struct top *t, FILE *f)
{
    view_update (t->view, t->model, true);
    summary (t, f);
    fputc ('\n', f);
    table (t, f, PANE_NODES, NC_COUNT, node_cell);
    fputc ('\n', f);
    if (t->view->nterms)
        fprintf (f, "Jobs matching \"%s\": %zu of %zu\n", t->view->filter,
                 t->view->rows[PANE_JOBS].n, t->model->njobs);
    table (t, f, PANE_JOBS, JC_COUNT, job_cell);
}
