/* keys.c - aios-top's keys: one table of {key, modes, handler}, the filter
 * prompt and the y/n question
 */
#include <curses.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "top.h"

enum { ESC = 27, CTRL_L = 12, CTRL_U = 21 };

enum { M_MAIN = 1 << MODE_MAIN, M_DETAIL = 1 << MODE_DETAIL, M_ANY = M_MAIN | M_DETAIL };

typedef void (*key_f) (struct top *t, int ch);

/* The job the action keys work on: the detail view's or the selection. */
static long long target_job (struct top *t)
{
    const struct top_job *j;

    if (t->mode == MODE_DETAIL)
        return t->detail_id;
    if (t->view->focus != PANE_JOBS || !(j = view_selected_job (t->view, t->model))) {
        top_status (t, true, "no job selected (Tab to the jobs pane)");
        return 0;
    }
    return j->id;
}

static void key_quit (struct top *t, int ch)
{
    t->quit = true;
}

static void key_help (struct top *t, int ch)
{
    t->mode = MODE_HELP;
}

static void key_redraw (struct top *t, int ch)
{
    clearok (curscr, TRUE);
}

static void key_move (struct top *t, int ch)
{
    long page = (long)draw_pane_rows (t, t->view->focus);
    long delta = ch == KEY_UP ? -1 : ch == KEY_DOWN ? 1 : ch == KEY_PPAGE ? -page
               : ch == KEY_NPAGE ? page : ch == KEY_HOME ? LONG_MIN / 2 : LONG_MAX / 2;

    view_move (t->view, t->model, delta, (size_t)page);
}

static void key_scroll (struct top *t, int ch)
{
    long page = (long)draw_body_rows (t), top = (long)t->detail_top;
    long max = (long)draw_detail_lines (t) - page;

    switch (ch) {
    case KEY_UP: top--; break;
    case KEY_DOWN: top++; break;
    case KEY_PPAGE: top -= page; break;
    case KEY_NPAGE: top += page; break;
    case KEY_HOME: top = 0; break;
    case KEY_END: top = max; break;
    }
    if (top > max)
        top = max;
    t->detail_top = top > 0 ? (size_t)top : 0;
}

static void key_pane (struct top *t, int ch)
{
    t->view->focus = t->view->focus == PANE_JOBS ? PANE_NODES : PANE_JOBS;
}

static void key_enter (struct top *t, int ch)
{
    const struct top_job *j;

    if (t->view->focus != PANE_JOBS || !(j = view_selected_job (t->view, t->model))) {
        top_status (t, true, "no job selected (Tab to the jobs pane)");
        return;
    }
    t->mode = MODE_DETAIL;
    t->detail_id = j->id;
    t->detail_top = 0;
    ctl_fetch_why (t);
}

static void key_back (struct top *t, int ch)
{
    t->mode = MODE_MAIN;
    json_decref (t->why);
    t->why = NULL;
}

static void key_sort (struct top *t, int ch)
{
    if (ch == 'S')
        view_reverse_sort (t->view, t->view->focus);
    else
        view_cycle_sort (t->view, t->view->focus);
}

static void key_filter (struct top *t, int ch)
{
    t->prompt = PROMPT_FILTER;
    snprintf (t->input, sizeof (t->input), "%s", t->view->filter);
}

static void key_cancel (struct top *t, int ch)
{
    if ((t->confirm_id = target_job (t)) > 0)
        t->prompt = PROMPT_CONFIRM;
}

static void key_hold (struct top *t, int ch)
{
    long long id = target_job (t);

    if (id > 0)
        ctl_job_op (t, ch == 'h' ? OP_HOLD : OP_RELEASE, id);
}

static const struct {
    int key;
    unsigned modes;
    key_f fn;
} keymap[] = {
    { 'q', M_ANY, key_quit },
    { '?', M_ANY, key_help },
    { CTRL_L, M_ANY, key_redraw },
    { 'c', M_ANY, key_cancel },
    { 'h', M_ANY, key_hold },
    { 'r', M_ANY, key_hold },
    { KEY_UP, M_MAIN, key_move },
    { KEY_DOWN, M_MAIN, key_move },
    { KEY_PPAGE, M_MAIN, key_move },
    { KEY_NPAGE, M_MAIN, key_move },
    { KEY_HOME, M_MAIN, key_move },
    { KEY_END, M_MAIN, key_move },
    { '\t', M_MAIN, key_pane },
    { KEY_BTAB, M_MAIN, key_pane },
    { '\n', M_MAIN, key_enter },
    { '\r', M_MAIN, key_enter },
    { KEY_ENTER, M_MAIN, key_enter },
    { 's', M_MAIN, key_sort },
    { 'S', M_MAIN, key_sort },
    { '/', M_MAIN, key_filter },
    { KEY_UP, M_DETAIL, key_scroll },
    { KEY_DOWN, M_DETAIL, key_scroll },
    { KEY_PPAGE, M_DETAIL, key_scroll },
    { KEY_NPAGE, M_DETAIL, key_scroll },
    { KEY_HOME, M_DETAIL, key_scroll },
    { KEY_END, M_DETAIL, key_scroll },
    { ESC, M_DETAIL, key_back },
    { '\n', M_DETAIL, key_back },
    { '\r', M_DETAIL, key_back },
    { KEY_ENTER, M_DETAIL, key_back },
};

static void prompt_filter (struct top *t, int ch)
{
    size_t len = strlen (t->input);
    aios_error_t err;

    if (ch == ESC)
        t->prompt = PROMPT_NONE;
    else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        t->prompt = PROMPT_NONE;
        if (view_set_filter (t->view, t->input, &err) < 0)
            top_status (t, true, "%s", err.text);
    }
    else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && len > 0)
        t->input[len - 1] = '\0';
    else if (ch == CTRL_U)
        t->input[0] = '\0';
    else if (ch >= ' ' && ch < 127 && len + 1 < sizeof (t->input)) {
        t->input[len] = (char)ch;
        t->input[len + 1] = '\0';
    }
}

static void prompt_confirm (struct top *t, int ch)
{
    t->prompt = PROMPT_NONE;
    if (ch == 'y' || ch == 'Y')
        ctl_job_op (t, OP_CANCEL, t->confirm_id);
    else
        top_status (t, false, "job %lld not cancelled", t->confirm_id);
}

static void on_key (struct top *t, int ch)
{
    size_t i;

    t->dirty = true;
    view_update (t->view, t->model, false); /* rows as the model is now */
    if (ch == KEY_RESIZE)
        return;
    if (t->prompt == PROMPT_FILTER) {
        prompt_filter (t, ch);
        return;
    }
    if (t->prompt == PROMPT_CONFIRM) {
        prompt_confirm (t, ch);
        return;
    }
    t->status[0] = '\0';
    if (t->mode == MODE_HELP) {
        t->mode = t->detail_id && t->why ? MODE_DETAIL : MODE_MAIN;
        return;
    }
    for (i = 0; i < sizeof (keymap) / sizeof (keymap[0]); i++) {
        if (keymap[i].key == ch && (keymap[i].modes & (1u << t->mode))) {
            keymap[i].fn (t, ch);
            return;
        }
    }
}

void keys_read (struct top *t)
{
    int ch;

    while ((ch = getch ()) != ERR)
        on_key (t, ch);
}
