/* hostlist.c - Slurm-style host range expressions */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"

/* A growable list of names. */
struct names {
    char **v;
    size_t n;
    size_t cap;
};

static int names_add (struct names *l, char *s)
{
    if (l->n + 1 >= l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc (l->v, cap * sizeof (*v));
        if (!v) {
            free (s);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    l->v[l->n] = NULL;
    return 0;
}

void hostlist_free (char **names)
{
    size_t i;
    int saved = errno;

    if (names) {
        for (i = 0; names[i]; i++)
            free (names[i]);
        free (names);
    }
    errno = saved;
}

static int bad (aios_error_t *err, const char *expr, size_t pos, const char *what)
{
    errno = EINVAL;
    return errprintf (err, "invalid host list \"%s\": %s at position %zu", expr,
                      what, pos + 1);
}

/* Parse the digits at expr[*i]; sets *v, *width; advances *i. */
static int range_number (const char *expr, size_t *i, unsigned long *v,
                         int *width, aios_error_t *err)
{
    size_t start = *i;

    while (isdigit ((unsigned char)expr[*i]))
        (*i)++;
    if (*i == start)
        return bad (err, expr, *i, "expected a number");
    if (*i - start > 9)
        return bad (err, expr, start, "number too long");
    *v = strtoul (expr + start, NULL, 10);
    *width = (int)(*i - start);
    return 0;
}

/* Expand each name of in by the bracket group at expr[*i] ('[' ... ']')
 * into out. */
static int expand_group (const char *expr, size_t *i, struct names *in,
                         struct names *out, aios_error_t *err)
{
    (*i)++; /* '[' */
    for (;;) {
        unsigned long lo, hi, v;
        int wlo, whi;
        size_t k;

        if (range_number (expr, i, &lo, &wlo, err) < 0)
            return -1;
        hi = lo;
        if (expr[*i] == '-') {
            (*i)++;
            if (range_number (expr, i, &hi, &whi, err) < 0)
                return -1;
            if (hi < lo)
                return bad (err, expr, *i - 1, "descending range");
        }
        if ((hi - lo + 1) * (in->n ? in->n : 1) + out->n > HOSTLIST_MAX) {
            errno = E2BIG;
            return errprintf (err, "invalid host list \"%s\": more than %d "
                              "names", expr, HOSTLIST_MAX);
        }
        for (k = 0; k < in->n; k++) {
            for (v = lo; v <= hi; v++) {
                size_t len = strlen (in->v[k]) + 16;
                char *s = malloc (len);
                if (!s)
                    return -1;
                snprintf (s, len, "%s%0*lu", in->v[k], wlo, v);
                if (names_add (out, s) < 0)
                    return -1;
            }
        }
        if (expr[*i] == ',') {
            (*i)++;
            continue;
        }
        if (expr[*i] == ']') {
            (*i)++;
            return 0;
        }
        if (expr[*i] == '\0')
            return bad (err, expr, *i, "missing ']'");
        return bad (err, expr, *i, "unexpected character in range");
    }
}

static void names_clear (struct names *l)
{
    size_t k;

    for (k = 0; k < l->n; k++)
        free (l->v[k]);
    free (l->v);
    memset (l, 0, sizeof (*l));
}

/* Append literal expr[from..to) to every name of l. */
static int append_literal (struct names *l, const char *expr, size_t from,
                           size_t to)
{
    size_t k, add = to - from;

    for (k = 0; k < l->n && add > 0; k++) {
        size_t len = strlen (l->v[k]);
        char *s = realloc (l->v[k], len + add + 1);
        if (!s)
            return -1;
        memcpy (s + len, expr + from, add);
        s[len + add] = '\0';
        l->v[k] = s;
    }
    return 0;
}

/* One comma-separated term at expr[*i]: literals and bracket groups. */
static int expand_term (const char *expr, size_t *i, struct names *all,
                        aios_error_t *err)
{
    struct names cur = { 0 }, next = { 0 };
    size_t start = *i, k;
    char *empty = strdup ("");

    if (!empty || names_add (&cur, empty) < 0)
        goto nomem;
    while (expr[*i] && expr[*i] != ',') {
        size_t lit = *i;
        while (expr[*i] && expr[*i] != ',' && expr[*i] != '[') {
            if (expr[*i] == ']' || isspace ((unsigned char)expr[*i])) {
                bad (err, expr, *i, expr[*i] == ']' ? "unbalanced ']'"
                                                   : "unexpected space");
                goto error;
            }
            (*i)++;
        }
        if (append_literal (&cur, expr, lit, *i) < 0)
            goto nomem;
        if (expr[*i] == '[') {
            if (expand_group (expr, i, &cur, &next, err) < 0)
                goto error;
            names_clear (&cur);
            cur = next;
            memset (&next, 0, sizeof (next));
        }
    }
    if (*i == start) {
        bad (err, expr, *i, "empty name");
        goto error;
    }
    for (k = 0; k < cur.n; k++) {
        if (all->n >= HOSTLIST_MAX) {
            errno = E2BIG;
            errprintf (err, "invalid host list \"%s\": more than %d names",
                       expr, HOSTLIST_MAX);
            goto error;
        }
        if (names_add (all, cur.v[k]) < 0)
            goto nomem;
        cur.v[k] = NULL;
    }
    free (cur.v);
    return 0;
nomem:
    errno = ENOMEM;
    errprintf (err, "out of memory");
error:
    names_clear (&cur);
    names_clear (&next);
    return -1;
}

char **hostlist_expand (const char *expr, size_t *count, aios_error_t *err)
{
    struct names all = { 0 };
    size_t i = 0;

    if (!expr || !*expr) {
        errno = EINVAL;
        errprintf (err, "invalid host list \"\": empty");
        return NULL;
    }
    for (;;) {
        if (expand_term (expr, &i, &all, err) < 0) {
            names_clear (&all);
            return NULL;
        }
        if (expr[i] == '\0')
            break;
        i++; /* ',' */
        if (expr[i] == '\0') {
            bad (err, expr, i, "empty name");
            names_clear (&all);
            return NULL;
        }
    }
    if (count)
        *count = all.n;
    return all.v;
}

/* --- compress ------------------------------------------------------------- */

struct parsed {
    size_t plen;            /* prefix length */
    const char *digits;     /* NULL if no number */
    size_t dlen;
    const char *suffix;
    unsigned long num;
};

/* Split name as prefix + last run of digits + suffix. */
static void split (const char *name, struct parsed *p)
{
    size_t len = strlen (name), e = len, b;

    while (e > 0 && !isdigit ((unsigned char)name[e - 1]))
        e--;
    b = e;
    while (b > 0 && isdigit ((unsigned char)name[b - 1]))
        b--;
    memset (p, 0, sizeof (*p));
    if (e == 0 || e - b > 9) {
        p->plen = len;
        p->suffix = name + len;
        return;
    }
    p->plen = b;
    p->digits = name + b;
    p->dlen = e - b;
    p->suffix = name + e;
    p->num = strtoul (name + b, NULL, 10);
}

static int same_group (const char *a, const struct parsed *pa, const char *b,
                       const struct parsed *pb)
{
    int wa, wb;

    if (!pa->digits || !pb->digits)
        return 0;
    wa = pa->digits[0] == '0' ? (int)pa->dlen : 0;
    wb = pb->digits[0] == '0' ? (int)pb->dlen : 0;
    return pa->plen == pb->plen && !strncmp (a, b, pa->plen)
           && !strcmp (pa->suffix, pb->suffix) && wa == wb;
}

/* Append to a growing string. */
static int cat (char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = (*cap + n + 1) * 2;
        char *p = realloc (*out, c);
        if (!p)
            return -1;
        *out = p;
        *cap = c;
    }
    memcpy (*out + *len, s, n);
    *len += n;
    (*out)[*len] = '\0';
    return 0;
}

char *hostlist_compress (char *const *names, size_t count)
{
    char *out = NULL, buf[64];
    size_t len = 0, cap = 0, i = 0;

    if (cat (&out, &len, &cap, "", 0) < 0)
        return NULL;
    while (i < count) {
        struct parsed p, q;
        size_t j = i + 1, k;
        int width;

        split (names[i], &p);
        if (len > 0 && cat (&out, &len, &cap, ",", 1) < 0)
            goto nomem;
        while (p.digits && j < count) {
            split (names[j], &q);
            if (!same_group (names[i], &p, names[j], &q))
                break;
            j++;
        }
        if (j == i + 1) {
            if (cat (&out, &len, &cap, names[i], strlen (names[i])) < 0)
                goto nomem;
            i = j;
            continue;
        }
        width = p.digits[0] == '0' ? (int)p.dlen : 0;
        if (cat (&out, &len, &cap, names[i], p.plen) < 0
            || cat (&out, &len, &cap, "[", 1) < 0)
            goto nomem;
        for (k = i; k < j;) {
            struct parsed a, b;
            size_t r = k + 1;
            split (names[k], &a);
            for (; r < j; r++) {
                split (names[r], &b);
                if (b.num != a.num + (r - k))
                    break;
            }
            split (names[r - 1], &b);
            if (r - 1 > k)
                snprintf (buf, sizeof (buf), "%s%0*lu-%0*lu", k > i ? "," : "",
                          width, a.num, width, b.num);
            else
                snprintf (buf, sizeof (buf), "%s%0*lu", k > i ? "," : "",
                          width, a.num);
            if (cat (&out, &len, &cap, buf, strlen (buf)) < 0)
                goto nomem;
            k = r;
        }
        if (cat (&out, &len, &cap, "]", 1) < 0
            || cat (&out, &len, &cap, p.suffix, strlen (p.suffix)) < 0)
            goto nomem;
        i = j;
    }
    return out;
nomem:
    free (out);
    errno = ENOMEM;
    return NULL;
}
