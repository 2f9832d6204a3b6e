/* view.h - what aios-top shows of the model: columns, filter, sort, selection
 *
 * A view holds the rows of the two panes (indices into the model's arrays,
 * filtered and sorted), rebuilt when the model's version, the filter or the
 * sort changes; the selection follows a job id or node name across
 * rebuilds.  Cell text is shared by the curses screen and --once.
 */
#ifndef AIOS_TOP_VIEW_H
#define AIOS_TOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

enum pane { PANE_NODES, PANE_JOBS, PANE_COUNT };

enum job_col {
    JC_ID, JC_USER, JC_NAME, JC_STATE, JC_TIME, JC_NODES, JC_WHERE, JC_COUNT
};
enum node_col {
    NC_NAME, NC_STATE, NC_CPUS, NC_MEM, NC_GPUS, NC_REASON, NC_COUNT
};

enum { FILTER_MAX = 256, FILTER_TERMS = 16 };

/* One word of the filter: free text (key FK_TEXT) or KEY:VALUE. */
enum filter_key { FK_TEXT, FK_USER, FK_STATE, FK_PARTITION };
struct filter_term {
    enum filter_key key;
    char value[FILTER_MAX];
};

struct pane_rows {
    size_t *v;          /* indices into the model's nodes or jobs */
    size_t n;
    size_t sel;         /* selected row */
    size_t top;         /* first row shown */
    int sort;           /* column */
    bool reverse;
};

struct view {
    enum pane focus;
    struct pane_rows rows[PANE_COUNT];
    char filter[FILTER_MAX];    /* as typed */
    struct filter_term terms[FILTER_TERMS];
    size_t nterms;
    long long sel_job;          /* follows the selection; 0: none */
    char sel_node[128];
    unsigned long built;        /* model version of the rows; 0: never */
    double built_now;
    bool stale;                 /* filter or sort changed */
};

struct view *view_create (void);
void view_destroy (struct view *v);

/* Column headers and names (for "sort: NAME"). */
const char *view_col_header (enum pane p, int col);
const char *view_col_name (enum pane p, int col);
/* Cell text: buf, or a string borrowed from the record. */
const char *view_job_cell (const struct top_job *j, int col, double now,
                           char *buf, size_t len);
const char *view_node_cell (const struct top_node *n, int col, char *buf,
                            size_t len);


/* -1 with err for a filter that cannot be used (unknown key); empty clears. */
int view_set_filter (struct view *v, const char *text, aios_error_t *err);
/* Set the sort column of pane p by name; -1 if unknown. */
int view_set_sort (struct view *v, enum pane p, const char *name);
void view_cycle_sort (struct view *v, enum pane p);
void view_reverse_sort (struct view *v, enum pane p);

/* Rebuild the rows if anything they depend on changed (force: always). */
void view_update (struct view *v, const struct model *m, bool force);

/* Move the selection of the focused pane by delta rows (clamped); page is
 * the visible height, used to keep the selection on screen. */
void view_move (struct view *v, const struct model *m, long delta, size_t page);
void view_scroll_to_sel (struct view *v, enum pane p, size_t page);

/* The selected job (borrowed) or NULL. */
const struct top_job *view_selected_job (const struct view *v,
                                         const struct model *m);

#endif
