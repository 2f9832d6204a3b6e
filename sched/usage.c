/* usage.c - recorded usage per user with half-life decay */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "usage.h"

struct user {
    uint32_t uid;
    double value;       /* as of t */
    double t;
};

struct usage {
    double half_life;
    struct user *users; /* sorted by uid */
    size_t n, cap;
};

struct usage *usage_create (double half_life)
{
    struct usage *u = calloc (1, sizeof (*u));

    if (u)
        u->half_life = half_life;
    return u;
}

void usage_destroy (struct usage *u)
{
    if (u) {
        free (u->users);
        free (u);
    }
}

void usage_set_half_life (struct usage *u, double half_life)
{
    u->half_life = half_life;
}

static double decayed (const struct usage *u, const struct user *e, double now)
{
    if (u->half_life <= 0 || now <= e->t)
        return e->value;
    return e->value * exp2 (-(now - e->t) / u->half_life);
}

static struct user *find (const struct usage *u, uint32_t uid, size_t *at)
{
    size_t lo = 0, hi = u->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (u->users[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (at)
        *at = lo;
    return lo < u->n && u->users[lo].uid == uid ? &u->users[lo] : NULL;
}

static struct user *get_or_add (struct usage *u, uint32_t uid, double now)
{
    size_t at;
    struct user *e = find (u, uid, &at);

    if (e)
        return e;
    if (u->n == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 16;
        struct user *p = realloc (u->users, cap * sizeof (*p));
        if (!p) {
            errno = ENOMEM;
            return NULL;
        }
        u->users = p;
        u->cap = cap;
    }
    memmove (&u->users[at + 1], &u->users[at], (u->n - at) * sizeof (*e));
    u->n++;
    e = &u->users[at];
    e->uid = uid;
    e->value = 0;
    e->t = now;
    return e;
}

int usage_add (struct usage *u, uint32_t uid, double amount, double now)
{
    struct user *e = get_or_add (u, uid, now);

    if (!e)
        return -1;
    e->value = decayed (u, e, now) + amount;
    if (now > e->t)
        e->t = now;
    return 0;
}

int usage_set (struct usage *u, uint32_t uid, double value, double t)
{
    struct user *e = get_or_add (u, uid, t);

    if (!e)
        return -1;
    e->value = value;
    e->t = t;
    return 0;
}

double usage_get (const struct usage *u, uint32_t uid, double now)
{
    const struct user *e = find (u, uid, NULL);

    return e ? decayed (u, e, now) : 0;
}

double usage_total (const struct usage *u, double now)
{
    double sum = 0;
    size_t i;

    for (i = 0; i < u->n; i++)
        sum += decayed (u, &u->users[i], now);
    return sum;
}

size_t usage_count (const struct usage *u)
{
    return u->n;
}

void usage_at (const struct usage *u, size_t i, uint32_t *uid, double *value,
               double *t)
{
    *uid = u->users[i].uid;
    *value = u->users[i].value;
    *t = u->users[i].t;
}

static int uid_cmp (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int usage_fill (const struct usage *u, struct sched_job *jobs, int n,
                double now)
{
    double total = usage_total (u, now);
    uint32_t *uids;
    size_t users = u->n, i, k = 0;

    if (n <= 0)
        return 0;
    /* users with pending jobs but no usage yet also get a share */
    if (!(uids = malloc (sizeof (*uids) * (size_t)n))) {
        errno = ENOMEM;
        return -1;
    }
    for (i = 0; i < (size_t)n; i++)
        uids[i] = jobs[i].uid;
    qsort (uids, (size_t)n, sizeof (*uids), uid_cmp);
    for (i = 0; i < (size_t)n; i++) {
        if (i > 0 && uids[i] == uids[i - 1])
            continue;
        if (!find (u, uids[i], NULL))
            users++;
        k++;
    }
    free (uids);
    for (i = 0; i < (size_t)n; i++) {
        jobs[i].fs_usage = total > 0 ? usage_get (u, jobs[i].uid, now) / total : 0;
        jobs[i].fs_shares = users > 0 ? 1.0 / (double)users : 1.0;
    }
    (void)k;
    return 0;
}
