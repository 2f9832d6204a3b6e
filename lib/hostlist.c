/* hostlist.c - Slurm-style host range expressions
 *
 * An expression is a comma-separated list of terms.  A term is literal text
 * and bracket groups; a group is a comma-separated list of values and
 * ascending ranges ("[1-4,7]").  A term expands to the cartesian product of
 * its groups, the leftmost group varying slowest.  A range keeps the width
 * of its lower bound ("[01-10]" -> 01 .. 10).
 *
 * Expansion is two passes over a term: parse and count (so an expression
 * that would exceed HOSTLIST_MAX is refused before anything is built), then
 * generate.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"

/* Longest number accepted in a range: fits in an unsigned long long. */
enum { HOSTLIST_DIGITS_MAX = 18 };

/* --- errors --------------------------------------------------------------- */

/* "invalid host list "EXPR": WHAT at position POS+1".  Returns -1. */
static int bad (aios_error_t *err, const char *expr, size_t pos,
                const char *what)
{
    errno = EINVAL;
    return errprintf (err, "invalid host list \"%s\": %s at position %zu",
                      expr, what, pos + 1);
}

/* An unexpected character, quoted if printable. */
static int bad_char (aios_error_t *err, const char *expr, size_t pos,
                     const char *where)
{
    unsigned char c = (unsigned char)expr[pos];
    char what[64];

    if (isprint (c))
        snprintf (what, sizeof (what), "invalid character '%c'%s", c, where);
    else
        snprintf (what, sizeof (what), "invalid character 0x%02x%s", c, where);
    return bad (err, expr, pos, what);
}

static int too_many (aios_error_t *err, const char *expr, size_t pos)
{
    char what[64];

    snprintf (what, sizeof (what), "more than %d names", HOSTLIST_MAX);
    return bad (err, expr, pos, what);
}

/* Brackets must pair up and not nest. */
static int check_brackets (const char *expr, aios_error_t *err)
{
    size_t i, open = 0;
    bool in = false;

    for (i = 0; expr[i]; i++) {
        if (expr[i] == '[') {
            if (in)
                return bad (err, expr, i, "nested '['");
            in = true;
            open = i;
        }
        else if (expr[i] == ']') {
            if (!in)
                return bad (err, expr, i, "unmatched ']'");
            in = false;
        }
    }
    if (in)
        return bad (err, expr, open, "missing ']'");
    return 0;
}

/* --- one term --------------------------------------------------------------- */

struct range {
    unsigned long long lo, hi;
    int width;          /* digits of lo, leading zeros included */
};

/* A literal (nr == 0) or a bracket group (nr > 0). */
struct part {
    size_t lit, litlen; /* literal: offset and length in expr */
    struct range *r;
    size_t nr, cap;
    size_t count;       /* names the group yields */
    size_t ri;          /* generation: current range and value */
    unsigned long long cur;
};

struct term {
    struct part *p;
    size_t np, cap;
    size_t count;       /* names the term yields */
    size_t maxlen;      /* longest name, without NUL */
};

static void term_clear (struct term *t)
{
    size_t i;

    for (i = 0; i < t->np; i++)
        free (t->p[i].r);
    free (t->p);
    memset (t, 0, sizeof (*t));
}

static struct part *term_add (struct term *t)
{
    if (t->np == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        struct part *p = realloc (t->p, cap * sizeof (*p));
        if (!p)
            return NULL;
        t->p = p;
        t->cap = cap;
    }
    memset (&t->p[t->np], 0, sizeof (t->p[0]));
    return &t->p[t->np++];
}

static int group_add (struct part *g, const struct range *r)
{
    if (g->nr == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4;
        struct range *v = realloc (g->r, cap * sizeof (*v));
        if (!v)
            return -1;
        g->r = v;
        g->cap = cap;
    }
    g->r[g->nr++] = *r;
    return 0;
}

/* Parse the number at expr[*i].  empty names the problem when the number is
 * missing before a ',' or ']'. */
static int range_number (const char *expr, size_t *i, unsigned long long *v,
                         int *width, const char *empty, aios_error_t *err)
{
    size_t start = *i;

    if (expr[*i] == ',' || expr[*i] == ']')
        return bad (err, expr, *i, empty);
    while (isdigit ((unsigned char)expr[*i]))
        (*i)++;
    if (*i == start)
        return bad_char (err, expr, *i, " in range");
    if (*i - start > HOSTLIST_DIGITS_MAX)
        return bad (err, expr, start, "number too long");
    *v = strtoull (expr + start, NULL, 10);
    *width = (int)(*i - start);
    return 0;
}

/* Parse one range ("7" or "1-4") at expr[*i] into r. */
static int parse_range (const char *expr, size_t *i, struct range *r,
                        aios_error_t *err)
{
    size_t start = *i;
    int whi;

    if (range_number (expr, i, &r->lo, &r->width, "empty range", err) < 0)
        return -1;
    r->hi = r->lo;
    if (expr[*i] == '-') {
        (*i)++;
        if (range_number (expr, i, &r->hi, &whi, "incomplete range", err) < 0)
            return -1;
        if (r->hi < r->lo)
            return bad (err, expr, start, "descending range");
    }
    if (expr[*i] != ',' && expr[*i] != ']')
        return bad_char (err, expr, *i, " in range");
    return 0;
}

/* Parse the bracket group at expr[*i] ('[' .. ']'; brackets are known to
 * pair up) into g, counting its names. */
static int parse_group (const char *expr, size_t *i, struct part *g,
                        aios_error_t *err)
{
    size_t open = (*i)++;

    for (;;) {
        struct range r;
        unsigned long long n;

        if (parse_range (expr, i, &r, err) < 0)
            return -1;
        n = r.hi - r.lo + 1;
        if (n == 0 || n > HOSTLIST_MAX || g->count + n > HOSTLIST_MAX)
            return too_many (err, expr, open);
        g->count += (size_t)n;
        if (group_add (g, &r) < 0)
            goto nomem;
        if (expr[(*i)++] == ']')
            return 0;
    }
nomem:
    errno = ENOMEM;
    return errprintf (err, "out of memory");
}

/* Longest text a group's values print as. */
static size_t group_width (const struct part *g)
{
    size_t k, w = 0;

    for (k = 0; k < g->nr; k++) {
        char buf[32];
        int n = snprintf (buf, sizeof (buf), "%0*llu", g->r[k].width,
                          g->r[k].hi);
        if ((size_t)n > w)
            w = (size_t)n;
    }
    return w;
}

/* Parse the term at expr[*i] (up to ',' or the end) into t.  total is the
 * number of names the terms before it yield. */
static int parse_term (const char *expr, size_t *i, size_t total,
                       struct term *t, aios_error_t *err)
{
    size_t start = *i;
    struct part *p;

    t->count = 1;
    while (expr[*i] && expr[*i] != ',') {
        size_t at = *i;
        if (!(p = term_add (t)))
            goto nomem;
        if (expr[*i] == '[') {
            if (parse_group (expr, i, p, err) < 0)
                return -1;
            if (t->count > HOSTLIST_MAX / p->count)
                return too_many (err, expr, at);
            t->count *= p->count;
            t->maxlen += group_width (p);
            continue;
        }
        p->lit = *i;
        while (expr[*i] && expr[*i] != ',' && expr[*i] != '[') {
            unsigned char c = (unsigned char)expr[*i];
            if (isspace (c) || iscntrl (c))
                return bad_char (err, expr, *i, "");
            (*i)++;
        }
        p->litlen = *i - p->lit;
        t->maxlen += p->litlen;
    }
    if (*i == start)
        return bad (err, expr, *i, "empty name");
    if (t->count > HOSTLIST_MAX - total)
        return too_many (err, expr, start);
    return 0;
nomem:
    errno = ENOMEM;
    return errprintf (err, "out of memory");
}

/* --- generation ----------------------------------------------------------- */

/* Set every group of t to its first value. */
static void term_first (struct term *t)
{
    size_t j;

    for (j = 0; j < t->np; j++) {
        if (t->p[j].nr > 0) {
            t->p[j].ri = 0;
            t->p[j].cur = t->p[j].r[0].lo;
        }
    }
}

/* Step t to its next name like an odometer: the rightmost group fastest. */
static void term_next (struct term *t)
{
    size_t j = t->np;

    while (j-- > 0) {
        struct part *g = &t->p[j];
        if (g->nr == 0)
            continue;
        if (g->cur < g->r[g->ri].hi) {
            g->cur++;
            return;
        }
        if (g->ri + 1 < g->nr) {
            g->cur = g->r[++g->ri].lo;
            return;
        }
        g->ri = 0;
        g->cur = g->r[0].lo; /* carry into the group to the left */
    }
}

/* The current name of t into buf (len >= t->maxlen + 1). */
static void term_name (const char *expr, const struct term *t, char *buf,
                       size_t len)
{
    size_t j, off = 0;

    for (j = 0; j < t->np; j++) {
        const struct part *p = &t->p[j];
        if (p->nr == 0) {
            memcpy (buf + off, expr + p->lit, p->litlen);
            off += p->litlen;
        }
        else
            off += (size_t)snprintf (buf + off, len - off, "%0*llu",
                                     p->r[p->ri].width, p->cur);
    }
    buf[off] = '\0';
}

/* Append the names of t to v[*n ..]. */
static int term_generate (const char *expr, struct term *t, char **v,
                          size_t *n)
{
    size_t k, len = t->maxlen + 1;
    char *buf = malloc (len);

    if (!buf)
        return -1;
    term_first (t);
    for (k = 0; k < t->count; k++, term_next (t)) {
        term_name (expr, t, buf, len);
        if (!(v[*n] = strdup (buf))) {
            free (buf);
            return -1;
        }
        v[++(*n)] = NULL;
    }
    free (buf);
    return 0;
}

/* --- expand ----------------------------------------------------------------- */

void hostlist_free (char **names)
{
    int saved = errno;
    size_t i;

    if (names) {
        for (i = 0; names[i]; i++)
            free (names[i]);
        free (names);
    }
    errno = saved;
}

/* Parse every term of expr (validating the whole expression) and return
 * the number of names, or -1. */
static int count_names (const char *expr, size_t *total, aios_error_t *err)
{
    size_t i = 0;

    *total = 0;
    for (;;) {
        struct term t = { 0 };
        int rc = parse_term (expr, &i, *total, &t, err);
        if (rc == 0)
            *total += t.count;
        term_clear (&t);
        if (rc < 0)
            return -1;
        if (expr[i] == '\0')
            return 0;
        i++; /* ',' */
    }
}

char **hostlist_expand (const char *expr, size_t *count, aios_error_t *err)
{
    char **v = NULL;
    size_t total, n = 0, i = 0;

    if (!expr) {
        errno = EINVAL;
        errprintf (err, "invalid host list: none given");
        return NULL;
    }
    if (check_brackets (expr, err) < 0 || count_names (expr, &total, err) < 0)
        return NULL;
    if (!(v = calloc (total + 1, sizeof (*v))))
        goto nomem;
    for (;;) {
        struct term t = { 0 };
        if (parse_term (expr, &i, n, &t, err) < 0
            || term_generate (expr, &t, v, &n) < 0) {
            term_clear (&t);
            goto nomem; /* the expression parsed once already */
        }
        term_clear (&t);
        if (expr[i] == '\0')
            break;
        i++; /* ',' */
    }
    if (count)
        *count = n;
    return v;
nomem:
    hostlist_free (v);
    errno = ENOMEM;
    errprintf (err, "out of memory");
    return NULL;
}

/* --- compress --------------------------------------------------------------- */

/* A name split as prefix + last run of digits + suffix. */
struct split {
    const char *name;
    size_t plen;                /* prefix length */
    size_t dlen;                /* 0: no (usable) number */
    const char *suffix;
    unsigned long long num;
    int minw, maxw;             /* widths the number prints correctly at */
};

static void split_name (const char *name, struct split *s)
{
    size_t len = strlen (name), e = len, b;
    int natural;

    memset (s, 0, sizeof (*s));
    s->name = name;
    while (e > 0 && !isdigit ((unsigned char)name[e - 1]))
        e--;
    b = e;
    while (b > 0 && isdigit ((unsigned char)name[b - 1]))
        b--;
    if (e == 0 || e - b > HOSTLIST_DIGITS_MAX) {
        s->plen = len;
        s->suffix = name + len;
        return;
    }
    s->plen = b;
    s->dlen = e - b;
    s->suffix = name + e;
    s->num = strtoull (name + b, NULL, 10);
    /* "007" prints only at width 3; "42" at any width up to 2 */
    natural = snprintf (NULL, 0, "%llu", s->num);
    s->maxw = (int)s->dlen;
    s->minw = natural < (int)s->dlen ? (int)s->dlen : 0;
}

/* Can b join the group whose names so far allow widths [*minw, *maxw]?
 * Narrows the widths if so. */
static bool group_join (const struct split *a, const struct split *b,
                        int *minw, int *maxw)
{
    int lo = b->minw > *minw ? b->minw : *minw;
    int hi = b->maxw < *maxw ? b->maxw : *maxw;

    if (!a->dlen || !b->dlen || lo > hi || a->plen != b->plen
        || strncmp (a->name, b->name, a->plen) || strcmp (a->suffix, b->suffix))
        return false;
    *minw = lo;
    *maxw = hi;
    return true;
}

struct buf {
    char *s;
    size_t len, cap;
};

static int buf_add (struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc (b->s, cap);
        if (!p)
            return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy (b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

/* Write the bracket of group g[0..n) at width w: runs of consecutive
 * numbers fold into "lo-hi". */
static int add_bracket (struct buf *b, const struct split *g, size_t n, int w)
{
    size_t k = 0, r;
    char num[64];

    if (buf_add (b, g[0].name, g[0].plen) < 0 || buf_add (b, "[", 1) < 0)
        return -1;
    while (k < n) {
        for (r = k + 1; r < n && g[r].num == g[r - 1].num + 1; r++)
            ;
        if (r - 1 > k)
            snprintf (num, sizeof (num), "%s%0*llu-%0*llu", k ? "," : "", w,
                      g[k].num, w, g[r - 1].num);
        else
            snprintf (num, sizeof (num), "%s%0*llu", k ? "," : "", w, g[k].num);
        if (buf_add (b, num, strlen (num)) < 0)
            return -1;
        k = r;
    }
    if (buf_add (b, "]", 1) < 0)
        return -1;
    return buf_add (b, g[0].suffix, strlen (g[0].suffix));
}

char *hostlist_compress (char *const *names, size_t count)
{
    struct buf b = { 0 };
    struct split *s = NULL;
    size_t i, j;

    if (count > 0 && !names) {
        errno = EINVAL;
        return NULL;
    }
    if (buf_add (&b, "", 0) < 0 || (count && !(s = calloc (count, sizeof (*s)))))
        goto nomem;
    for (i = 0; i < count; i++) {
        if (!names[i]) {
            free (s);
            free (b.s);
            errno = EINVAL;
            return NULL;
        }
        split_name (names[i], &s[i]);
    }
    for (i = 0; i < count; i = j) {
        int minw = s[i].minw, maxw = s[i].maxw;
        for (j = i + 1; j < count && group_join (&s[i], &s[j], &minw, &maxw); j++)
            ;
        if (i > 0 && buf_add (&b, ",", 1) < 0)
            goto nomem;
        if (j == i + 1) {
            if (buf_add (&b, names[i], strlen (names[i])) < 0)
                goto nomem;
        }
        else if (add_bracket (&b, &s[i], j - i, minw) < 0)
            goto nomem;
    }
    free (s);
    return b.s;
nomem:
    free (s);
    free (b.s);
    errno = ENOMEM;
    return NULL;
}
