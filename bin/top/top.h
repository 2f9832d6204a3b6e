/* top.h - aios-top's context: one struct composed of its parts
 *
 * model (what the controller told us), view (what is shown of it), sub (the
 * event stream), cmd (a second connection for cancel, hold, release, why),
 * and the state of the screen: mode, prompt and status line.
 */
#ifndef AIOS_TOP_TOP_H
#define AIOS_TOP_TOP_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "client.h"
#include "model.h"
#include "sub.h"
#include "view.h"

enum mode { MODE_MAIN, MODE_DETAIL, MODE_HELP };
enum prompt { PROMPT_NONE, PROMPT_FILTER, PROMPT_CONFIRM };

struct top {
    struct model *model;
    struct view *view;
    struct sub *sub;            /* NULL while disconnected */
    struct aios_client *cmd;    /* opened on first use */
    enum mode mode;
    enum prompt prompt;
    char input[FILTER_MAX];     /* the filter being typed */
    long long confirm_id;       /* job the y/n question is about */
    char status[400];           /* message line; "" shows the key hints */
    bool status_error;
    bool connected;             /* subscribed and the snapshot is in */
    bool ever_connected;
    char down_reason[320];      /* why we are disconnected */
    double retry_at;            /* monotonic seconds of the next attempt */
    long long detail_id;        /* the job of the detail view */
    json_t *why;                /* reply to "why" for it, or NULL */
    char why_err[400];
    size_t detail_top;          /* first line of the detail view shown */
    bool colors;
    bool utf8;
    double redraw_ms;           /* time of the last frame */
    unsigned long frames;
    bool dirty;
    bool quit;
};

/* --- ctl.c ----------------------------------------------------------------- */

enum job_op { OP_CANCEL, OP_HOLD, OP_RELEASE };

/* The message line (error: in red); cleared by the next key. */
void top_status (struct top *t, bool error, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Cancel, hold or release job id; the outcome goes to the status line. */
void ctl_job_op (struct top *t, enum job_op op, long long id);
/* Ask "why" of t->detail_id into t->why (or t->why_err). */
void ctl_fetch_why (struct top *t);

/* --- keys.c ---------------------------------------------------------------- */

/* Handle every key waiting on the terminal (nodelay). */
void keys_read (struct top *t);

/* --- draw.c --------------------------------------------------------------- */

/* After initscr(): colours if the terminal has them. */
void draw_init (struct top *t);
/* Draw the whole screen and update the terminal. */
void draw_screen (struct top *t);
/* Rows of data pane p shows at the current size (for paging). */
size_t draw_pane_rows (const struct top *t, enum pane p);
/* Rows the detail and help views show. */
size_t draw_body_rows (const struct top *t);
/* Lines of the detail view, to bound its scrolling. */
size_t draw_detail_lines (const struct top *t);
/* --once: the same data as plain text. */
void draw_plain (struct top *t, FILE *f);

#endif
