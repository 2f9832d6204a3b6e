/* lines.h - the text views of aios-top: a job's detail and the help
 *
 * Built as a list of styled lines on every frame (they are short) and drawn
 * by draw.c from a scroll offset.
 */
#ifndef AIOS_TOP_LINES_H
#define AIOS_TOP_LINES_H

#include <stddef.h>

enum line_style { LS_NORMAL, LS_HEAD, LS_ERROR, LS_STATE };

struct line {
    char *text;                 /* owned */
    enum line_style style;
    char state[24];             /* LS_STATE: the state, for its colour */
};

struct lines {
    struct line *v;
    size_t n;
    size_t cap;
};

void lines_add (struct lines *l, enum line_style style, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void lines_free (struct lines *l);

struct top;
void lines_detail (const struct top *t, struct lines *l);
void lines_help (const struct top *t, struct lines *l);

#endif
