/* draw.c - aios-top's screen: header, the two panes, the status line */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "job.h"
#include "lines.h"
#include "parse.h"
#include "top.h"

enum pair { P_GREEN = 1, P_YELLOW, P_RED, P_CYAN, P_MAGENTA, P_BLUE };

enum { HEAD_ROWS = 4, PANE_CHROME = 2, MIN_COLS = 40, MIN_ROWS = 10 };

struct geom {
    int head;           /* header rows */
    int nodes_y, nodes_rows;
    int jobs_y, jobs_rows;
    int status_y;
};

/* --- colours ------------------------------------------------------------- */

static const struct {
    const char *state;
    enum pair pair;
} state_colors[] = {
    { "PENDING", P_YELLOW }, { "STAGING", P_CYAN }, { "RUNNING", P_GREEN },
    { "COMPLETING", P_CYAN }, { "FAILED", P_RED }, { "CANCELLED", P_MAGENTA },
    { "TIMEOUT", P_RED }, { "OUT_OF_MEMORY", P_RED }, { "NODE_FAIL", P_RED },
    { "STAGE_FAILED", P_RED },
    { "IDLE", P_GREEN }, { "MIXED", P_CYAN }, { "ALLOCATED", P_YELLOW },
    { "DOWN", P_RED }, { "DRAIN", P_MAGENTA }, { "DRAINING", P_MAGENTA },
    { "UNKNOWN", P_RED },
};

static attr_t state_attr (const struct top *t, const char *state)
{
    size_t i;

    if (!t->colors)
        return A_NORMAL;
    for (i = 0; i < sizeof (state_colors) / sizeof (state_colors[0]); i++)
        if (!strcmp (state_colors[i].state, state))
            return COLOR_PAIR (state_colors[i].pair);
    return A_NORMAL;
}

static attr_t color (const struct top *t, enum pair p)
{
    return t->colors ? COLOR_PAIR (p) : A_NORMAL;
}

void draw_init (struct top *t)
{
    short bg = COLOR_BLACK;

    t->colors = has_colors ();
    if (!t->colors)
        return;
    start_color ();
    if (use_default_colors () == OK)
        bg = -1;
    init_pair (P_GREEN, COLOR_GREEN, bg);
    init_pair (P_YELLOW, COLOR_YELLOW, bg);
    init_pair (P_RED, COLOR_RED, bg);
    init_pair (P_CYAN, COLOR_CYAN, bg);
    init_pair (P_MAGENTA, COLOR_MAGENTA, bg);
    init_pair (P_BLUE, COLOR_BLUE, bg);
}

/* --- geometry ---------------------------------------------------------------- */

static void geometry (const struct top *t, struct geom *g)
{
    int avail, want;

    g->head = LINES >= 16 ? HEAD_ROWS : 1;
    g->status_y = LINES - 1;
    avail = LINES - g->head - 1 - 2 * PANE_CHROME;
    if (avail < 2)
        avail = 2;
    want = (int)t->model->nnodes;
    if (want > avail * 2 / 5)
        want = avail * 2 / 5;
    g->nodes_rows = want < 1 ? 1 : want;
    g->jobs_rows = avail - g->nodes_rows;
    g->nodes_y = g->head;
    g->jobs_y = g->nodes_y + PANE_CHROME + g->nodes_rows;
}

size_t draw_pane_rows (const struct top *t, enum pane p)
{
    struct geom g;

    geometry (t, &g);
    return (size_t)(p == PANE_JOBS ? g.jobs_rows : g.nodes_rows);
}

size_t draw_body_rows (const struct top *t)
{
    struct geom g;

    geometry (t, &g);
    return LINES - g.head - 1 > 1 ? (size_t)(LINES - g.head - 1) : 1;
}

/* --- small pieces ------------------------------------------------------------- */

/* s at (y, x), at most w columns, control characters shown as '?'. */
static void put (int y, int x, int w, const char *s)
{
    char buf[1024];

    if (w > 0 && x < COLS)
        mvaddnstr (y, x, cli_clean (s, buf, sizeof (buf)), w < COLS - x ? w : COLS - x);
}

static void fill_row (int y, attr_t a)
{
    mvhline (y, 0, ' ' | a, COLS);
}

/* A bar "LABEL [|||||      used/total]" w columns wide. */
static void bar (const struct top *t, int y, int x, int w, const char *label,
                 double used, double total, const char *text)
{
    int inner = w - (int)strlen (label) - 3, fill, tl = (int)strlen (text);

    if (inner < tl + 2)
        inner = tl + 2;
    fill = total > 0 ? (int)lround ((double)inner * used / total) : 0;
    if (fill > inner)
        fill = inner;
    mvprintw (y, x, "%s [", label);
    if (fill > 0)
        mvhline (y, x + (int)strlen (label) + 2, '|' | color (t, P_GREEN) | A_BOLD,
                 fill);
    put (y, x + (int)strlen (label) + 2 + inner - tl, tl, text);
    put (y, x + (int)strlen (label) + 2 + inner, 1, "]");
}

static const char *spark_utf8[] = { " ", "\u2581", "\u2582", "\u2583", "\u2584",
                                    "\u2585", "\u2586", "\u2587", "\u2588" };
static const char *spark_ascii[] = { " ", "_", "_", ".", ".", "-", "=", "*", "#" };

/* Jobs finished per minute, the current minute last, w minutes. */
static void sparkline (const struct top *t, int y, int x, int w)
{
    long long now_min = (long long)floor (t->model->now / 60.0), max = 0, n;
    const char **glyph = t->utf8 ? spark_utf8 : spark_ascii;
    int i;

    for (i = 0; i < w; i++)
        if ((n = model_finished (t->model, now_min - i)) > max)
            max = n;
    move (y, x);
    attron (color (t, P_CYAN));
    for (i = w - 1; i >= 0; i--) {
        n = model_finished (t->model, now_min - i);
        addstr (glyph[max > 0 ? (int)((n * 8 + max - 1) / max) : 0]);
    }
    attroff (color (t, P_CYAN));
}

/* --- header ------------------------------------------------------------------- */

static void head_title (const struct top *t, int y)
{
    const struct model *m = t->model;
    char up[32], clock[16] = "", line[256];
    const char *right = t->connected ? clock : t->sub ? "connecting" : "disconnected";
    time_t now = (time_t)m->now;
    struct tm tm;
    int room;

    if (now > 0 && localtime_r (&now, &tm))
        strftime (clock, sizeof (clock), "%H:%M:%S", &tm);
    room = COLS - (int)strlen (right) - 1;
    snprintf (line, sizeof (line), "  up %s  policy %s  backfill %s",
              format_time ((long)model_uptime (m), up, sizeof (up)),
              m->policy ? m->policy : "?", m->backfill ? m->backfill : "?");
    attron (A_BOLD);
    put (y, 0, room, "aios-top  ");
    put (y, getcurx (stdscr), room - getcurx (stdscr), m->cluster ? m->cluster : "");
    attroff (A_BOLD);
    if (m->cluster)
        put (y, getcurx (stdscr), room - getcurx (stdscr), line);
    if (!t->connected)
        attron (color (t, P_RED) | A_BOLD | (t->colors ? 0 : A_REVERSE));
    put (y, room + 1, COLS, right);
    attroff (color (t, P_RED) | A_BOLD | A_REVERSE);
}

static const struct {
    const char *state, *label;
} node_states[] = {
    { "IDLE", "idle" }, { "MIXED", "mixed" }, { "ALLOCATED", "alloc" },
    { "DOWN", "down" }, { "DRAIN", "drain" }, { "DRAINING", "draining" },
    { "UNKNOWN", "unknown" },
};

static void head_counts (const struct top *t, int y)
{
    const struct model *m = t->model;
    size_t i, n;
    char buf[64];

    mvprintw (y, 0, "Nodes %zu:", m->nnodes);
    for (i = 0; i < sizeof (node_states) / sizeof (node_states[0]); i++) {
        n = model_nodes_in (m, node_states[i].state);
        if (n == 0 && i >= 3)
            continue;
        addch (' ');
        attron (n ? state_attr (t, node_states[i].state) : A_NORMAL);
        printw ("%zu %s", n, node_states[i].label);
        attroff (state_attr (t, node_states[i].state));
    }
    snprintf (buf, sizeof (buf), "Jobs: %zu pending, %zu running",
              model_jobs_in (m, JOB_PENDING), model_jobs_in (m, JOB_RUNNING));
    if (getcurx (stdscr) + (int)strlen (buf) + 2 <= COLS)
        put (y, COLS - (int)strlen (buf), (int)strlen (buf), buf);
}

static void head_bars (const struct top *t, int y)
{
    const struct model *m = t->model;
    long long c = 0, ca = 0, g = 0, ga = 0, mem = 0, ma = 0;
    char text[64], x[32], z[32];
    int half = COLS / 2;
    size_t i;

    for (i = 0; i < m->nnodes; i++) {
        c += m->nodes[i].cpus, ca += m->nodes[i].cpus_alloc;
        g += m->nodes[i].gpus, ga += m->nodes[i].gpus_alloc;
        mem += m->nodes[i].mem_mb, ma += m->nodes[i].mem_alloc_mb;
    }
    snprintf (text, sizeof (text), "%lld/%lld", ca, c);
    bar (t, y, 0, half - 1, "CPU", (double)ca, (double)c, text);
    snprintf (text, sizeof (text), "%s/%s",
              format_size_mb (ma > 0 ? (uint64_t)ma : 0, x, sizeof (x)),
              format_size_mb (mem > 0 ? (uint64_t)mem : 0, z, sizeof (z)));
    bar (t, y, half, COLS - half, "Mem", (double)ma, (double)mem, text);
    snprintf (text, sizeof (text), "%lld/%lld", ga, g);
    bar (t, y + 1, 0, half - 1, "GPU", (double)ga, (double)g, text);
}

static void head_spark (const struct top *t, int y)
{
    json_t *v = json_object_get (t->model->stats, "finished_last_minute");
    long long last = json_is_integer (v) ? (long long)json_integer_value (v)
                                         : (long long)model_finished_recent (t->model, 60);
    int x = COLS / 2, w;

    mvprintw (y, x, "Done/min %-4lld", last);
    w = COLS - getcurx (stdscr) - 1;
    if (w > 60)
        w = 60;
    if (w > 0)
        sparkline (t, y, getcurx (stdscr) + 1, w);
}

static void draw_head (const struct top *t, const struct geom *g)
{
    head_title (t, 0);
    if (g->head < HEAD_ROWS)
        return;
    head_counts (t, 1);
    head_bars (t, 2);
    head_spark (t, 3);
}

/* --- panes -------------------------------------------------------------------- */

struct col {
    int x, w;
};

/* Column positions: fixed widths, the flexible one (flex) takes the rest. */
static void lay_cols (struct col *c, const int *w, int n, int flex)
{
    int i, x = 0, used = 0;

    for (i = 0; i < n; i++)
        used += w[i] + 1;
    for (i = 0; i < n; i++) {
        c[i].x = x;
        c[i].w = w[i];
        if (i == flex && COLS > used)
            c[i].w += COLS - used;
        x += c[i].w + 1;
    }
}

static void job_cols (struct col *c)
{
    int wide = COLS >= 120, w[JC_COUNT] = {
        [JC_ID] = 7, [JC_USER] = wide ? 12 : 8, [JC_NAME] = 16,
        [JC_STATE] = wide ? 13 : 10, [JC_TIME] = 10, [JC_NODES] = 5,
        [JC_WHERE] = 16,
    };

    if (COLS >= 100)
        w[JC_NAME] += COLS >= 140 ? 16 : (COLS - 100) / 3;
    if (COLS < 80) /* narrower than designed for: names give way first */
        w[JC_NAME] -= 80 - COLS < 8 ? 80 - COLS : 8;
    lay_cols (c, w, JC_COUNT, JC_WHERE);
}

static void node_cols (const struct top *t, struct col *c)
{
    int w[NC_COUNT] = {
        [NC_NAME] = 4, [NC_STATE] = 9, [NC_CPUS] = 9, [NC_MEM] = 13,
        [NC_GPUS] = 9, [NC_REASON] = 6,
    };
    size_t i;

    for (i = 0; i < t->model->nnodes; i++) {
        int len = (int)strlen (t->model->nodes[i].name);
        if (len > w[NC_NAME])
            w[NC_NAME] = len > 20 ? 20 : len;
    }
    lay_cols (c, w, NC_COUNT, NC_REASON);
}

static void pane_title (const struct top *t, enum pane p, int y)
{
    const struct pane_rows *r = &t->view->rows[p];
    bool focus = t->view->focus == p;
    char buf[FILTER_MAX + 128];
    int n;

    if (p == PANE_JOBS)
        n = snprintf (buf, sizeof (buf), " Jobs %zu of %zu  sort: %s%s%s%s ",
                      r->n, t->model->njobs, view_col_name (p, r->sort),
                      r->reverse ? " (reversed)" : "",
                      t->view->nterms ? "  filter: " : "", t->view->filter);
    else
        n = snprintf (buf, sizeof (buf), " Nodes %zu  sort: %s%s ", r->n,
                      view_col_name (p, r->sort), r->reverse ? " (reversed)" : "");
    mvhline (y, 0, focus ? ' ' | A_REVERSE : ACS_HLINE, COLS);
    attron (focus ? A_REVERSE | A_BOLD : A_BOLD);
    put (y, 1, n, buf);
    attroff (focus ? A_REVERSE | A_BOLD : A_BOLD);
}

static void pane_header (enum pane p, int y, const struct col *c, int n)
{
    int i;

    attron (A_BOLD | A_UNDERLINE);
    for (i = 0; i < n; i++)
        put (y, c[i].x, c[i].w, view_col_header (p, i));
    attroff (A_BOLD | A_UNDERLINE);
}

/* Row attribute: the selection in reverse when its pane has the focus. */
static attr_t row_attr (const struct top *t, enum pane p, size_t i, int y)
{
    const struct pane_rows *r = &t->view->rows[p];

    if (i != r->sel)
        return A_NORMAL;
    if (t->view->focus == p) {
        fill_row (y, A_REVERSE);
        return A_REVERSE;
    }
    return A_BOLD;
}

static void draw_jobs (const struct top *t, const struct geom *g)
{
    const struct pane_rows *r = &t->view->rows[PANE_JOBS];
    struct col c[JC_COUNT];
    char buf[128];
    size_t i;
    int col;

    job_cols (c);
    pane_title (t, PANE_JOBS, g->jobs_y);
    pane_header (PANE_JOBS, g->jobs_y + 1, c, JC_COUNT);
    for (i = r->top; i < r->n && i < r->top + (size_t)g->jobs_rows; i++) {
        const struct top_job *j = &t->model->jobs[r->v[i]];
        int y = g->jobs_y + PANE_CHROME + (int)(i - r->top);
        attr_t a = row_attr (t, PANE_JOBS, i, y);
        attron (a);
        for (col = 0; col < JC_COUNT; col++) {
            attr_t s = col == JC_STATE ? state_attr (t, j->state_name) : 0;
            attron (s);
            put (y, c[col].x, c[col].w,
                 view_job_cell (j, col, t->model->now, buf, sizeof (buf)));
            attroff (s);
        }
        attroff (a);
    }
    if (r->n == 0)
        put (g->jobs_y + PANE_CHROME, 1, COLS - 1,
             t->view->nterms ? "(no job matches the filter)" : "(no jobs)");
}

static void draw_nodes (const struct top *t, const struct geom *g)
{
    const struct pane_rows *r = &t->view->rows[PANE_NODES];
    struct col c[NC_COUNT];
    char buf[128];
    size_t i;
    int col;

    node_cols (t, c);
    pane_title (t, PANE_NODES, g->nodes_y);
    pane_header (PANE_NODES, g->nodes_y + 1, c, NC_COUNT);
    for (i = r->top; i < r->n && i < r->top + (size_t)g->nodes_rows; i++) {
        const struct top_node *n = &t->model->nodes[r->v[i]];
        int y = g->nodes_y + PANE_CHROME + (int)(i - r->top);
        attr_t a = row_attr (t, PANE_NODES, i, y);
        attron (a);
        for (col = 0; col < NC_COUNT; col++) {
            attr_t s = col == NC_STATE ? state_attr (t, n->state) : 0;
            attron (s);
            put (y, c[col].x, c[col].w, view_node_cell (n, col, buf, sizeof (buf)));
            attroff (s);
        }
        attroff (a);
    }
    if (r->n == 0)
        put (g->nodes_y + PANE_CHROME, 1, COLS - 1, "(no nodes)");
}

/* --- status line, body views -------------------------------------------------- */

static const char *hints[] = {
    [MODE_MAIN] = "q:quit ?:help Tab:pane Enter:detail s:sort /:filter c:cancel h:hold r:release",
    [MODE_DETAIL] = "Esc:back arrows:scroll c:cancel h:hold r:release ?:help q:quit",
    [MODE_HELP] = "any key: back",
};

static void draw_status (const struct top *t, const struct geom *g)
{
    int y = g->status_y;
    const struct top_job *j;
    char line[512];

    if (t->prompt == PROMPT_FILTER) {
        mvprintw (y, 0, "Filter (text, user:NAME, state:NAME, partition:NAME): %s",
                  t->input);
        curs_set (1);
        return;
    }
    curs_set (0);
    if (t->prompt == PROMPT_CONFIRM) {
        j = model_job (t->model, t->confirm_id);
        attron (A_BOLD);
        snprintf (line, sizeof (line), "Cancel job %lld (%s of %s)? [y/n]",
                  t->confirm_id, j ? j->name : "?", j ? j->user : "?");
        put (y, 0, COLS, line);
        attroff (A_BOLD);
        return;
    }
    if (t->status[0]) {
        attr_t a = t->status_error ? color (t, P_RED) | A_BOLD : A_BOLD;
        attron (a);
        put (y, 0, COLS, t->status);
        attroff (a);
        return;
    }
    attron (A_DIM);
    put (y, 0, COLS, hints[t->mode]);
    attroff (A_DIM);
}

static void draw_lines (const struct top *t, const struct geom *g,
                        const struct lines *l, size_t first)
{
    int rows = LINES - g->head - 1, y;
    size_t i;

    for (y = 0, i = first; y < rows && i < l->n; y++, i++) {
        attr_t a = l->v[i].style == LS_HEAD ? A_BOLD | A_UNDERLINE
                 : l->v[i].style == LS_ERROR ? color (t, P_RED) | A_BOLD
                 : l->v[i].style == LS_STATE ? state_attr (t, l->v[i].state) | A_BOLD
                 : A_NORMAL;
        attron (a);
        put (g->head + y, 0, COLS, l->v[i].text);
        attroff (a);
    }
}

size_t draw_detail_lines (const struct top *t)
{
    struct lines l = { 0 };
    size_t n;

    lines_detail (t, &l);
    n = l.n;
    lines_free (&l);
    return n;
}

static void draw_body (struct top *t, const struct geom *g)
{
    struct lines l = { 0 };

    if (t->mode == MODE_HELP) {
        lines_help (t, &l);
        draw_lines (t, g, &l, 0);
    }
    else {
        lines_detail (t, &l);
        draw_lines (t, g, &l, t->detail_top);
    }
    lines_free (&l);
}

void draw_screen (struct top *t)
{
    struct geom g;

    erase ();
    if (COLS < MIN_COLS || LINES < MIN_ROWS) {
        mvprintw (0, 0, "aios-top: the terminal is too small (%dx%d, need %dx%d)",
                  COLS, LINES, MIN_COLS, MIN_ROWS);
        refresh ();
        return;
    }
    geometry (t, &g);
    view_scroll_to_sel (t->view, PANE_NODES, (size_t)g.nodes_rows);
    view_scroll_to_sel (t->view, PANE_JOBS, (size_t)g.jobs_rows);
    draw_head (t, &g);
    if (t->mode == MODE_MAIN) {
        draw_nodes (t, &g);
        draw_jobs (t, &g);
    }
    else
        draw_body (t, &g);
    draw_status (t, &g);
    refresh ();
}
