/* parse.c - Slurm-compatible value formats */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

/* --- time limits ---------------------------------------------------------- */

/* Most digits in one field of a time limit: keeps every sum below 2^63. */
enum { TIME_FIELD_DIGITS = 9 };

/* Parse s[0..len), all digits, into *v. */
static int time_field (const char *s, size_t len, long *v)
{
    long n = 0;
    size_t i;

    if (len == 0 || len > TIME_FIELD_DIGITS)
        return -1;
    for (i = 0; i < len; i++) {
        if (!isdigit ((unsigned char)s[i]))
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    *v = n;
    return 0;
}

/* Split s at every ':' into at most max fields; returns how many, -1 if a
 * field is empty, not a number or there are too many. */
static int colon_fields (const char *s, long *f, int max)
{
    int n = 0;

    for (;;) {
        const char *c = strchr (s, ':');
        size_t len = c ? (size_t)(c - s) : strlen (s);
        if (n == max || time_field (s, len, &f[n++]) < 0)
            return -1;
        if (!c)
            return n;
        s = c + 1;
    }
}

/* Seconds of s (not one of the "UNLIMITED" spellings); -1 if malformed or
 * too large for a long.  Fields of at most 9 digits keep the sum below
 * 2^47, so it is computed in long long. */
static long time_seconds (const char *s)
{
    const char *dash = strchr (s, '-');
    long f[3], days;
    long long t;
    int n;

    if (dash) { /* D-HH, D-HH:MM, D-HH:MM:SS */
        if (time_field (s, (size_t)(dash - s), &days) < 0
            || (n = colon_fields (dash + 1, f, 3)) < 0)
            return -1;
        t = days * 86400LL + f[0] * 3600LL + (n > 1 ? f[1] * 60LL : 0)
            + (n > 2 ? f[2] : 0);
    }
    else if ((n = colon_fields (s, f, 3)) < 0)
        return -1;
    else if (n == 1) /* MM */
        t = f[0] * 60LL;
    else if (n == 2) /* MM:SS */
        t = f[0] * 60LL + f[1];
    else /* HH:MM:SS */
        t = f[0] * 3600LL + f[1] * 60LL + f[2];
    return t > LONG_MAX ? -1 : (long)t;
}

int parse_time (const char *s, long *seconds, aios_error_t *err)
{
    long t;

    if (!s || !seconds) {
        errno = EINVAL;
        return errprintf (err, "invalid time limit: none given");
    }
    if (!strcasecmp (s, "UNLIMITED") || !strcasecmp (s, "INFINITE")) {
        *seconds = AIOS_TIME_UNLIMITED;
        return 0;
    }
    if ((t = time_seconds (s)) <= 0) { /* malformed, or zero */
        errno = EINVAL;
        return errprintf (err, "invalid time limit \"%s\": expected MM, "
                          "MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS", s);
    }
    *seconds = t;
    return 0;
}

char *format_time (long seconds, char *buf, size_t len)
{
    long d, h, m, s;

    if (!buf || len == 0)
        return buf;
    if (seconds == AIOS_TIME_UNLIMITED) {
        snprintf (buf, len, "UNLIMITED");
        return buf;
    }
    if (seconds < 0) {
        snprintf (buf, len, "INVALID");
        return buf;
    }
    d = seconds / 86400;
    h = seconds / 3600 % 24;
    m = seconds / 60 % 60;
    s = seconds % 60;
    if (d > 0)
        snprintf (buf, len, "%ld-%02ld:%02ld:%02ld", d, h, m, s);
    else if (h > 0)
        snprintf (buf, len, "%ld:%02ld:%02ld", h, m, s);
    else
        snprintf (buf, len, "%ld:%02ld", m, s);
    return buf;
}

/* --- memory sizes --------------------------------------------------------- */

/* s: a number with an optional K, M, G or T suffix (powers of 1024, any
 * case, "B" or "iB" may follow), a plain number counting units of 2^base
 * bytes; *out in those units, rounded up. */
static int parse_size (const char *s, int base, uint64_t *out, const char *what,
                       aios_error_t *err)
{
    static const char units[] = "KMGT";
    const char *end, *u;
    char *e;
    unsigned long long v;
    int shift = 0;

    if (!s || !out || !isdigit ((unsigned char)s[0]))
        goto bad;
    errno = 0;
    v = strtoull (s, &e, 10);
    end = e;
    if (errno == ERANGE)
        goto range;
    if (*end) {
        if (!(u = strchr (units, toupper ((unsigned char)*end))))
            goto bad;
        shift = 10 * (int)(u - units + 1) - base;
        end++;
        if (!strcasecmp (end, "iB"))
            end += 2;
        else if (!strcasecmp (end, "B"))
            end += 1;
        if (*end)
            goto bad;
    }
    if (shift < 0) {
        uint64_t unit = (uint64_t)1 << -shift;
        *out = v / unit + (v % unit != 0);
        return 0;
    }
    if (v > (UINT64_MAX >> shift))
        goto range;
    *out = (uint64_t)v << shift;
    return 0;
bad:
    errno = EINVAL;
    return errprintf (err, "invalid %s \"%s\": expected a number with an "
                      "optional K, M, G or T suffix", what, s ? s : "");
range:
    errno = ERANGE;
    return errprintf (err, "invalid %s \"%s\": too large", what, s);
}

int parse_size_mb (const char *s, uint64_t *mb, aios_error_t *err)
{
    return parse_size (s, 20, mb, "memory size", err);
}

int parse_size_bytes (const char *s, uint64_t *bytes, aios_error_t *err)
{
    return parse_size (s, 0, bytes, "size", err);
}

/* The largest unit that shows mb exactly with at most one decimal. */
char *format_size_mb (uint64_t mb, char *buf, size_t len)
{
    static const char units[] = "MGTPE";
    int u;

    if (!buf || len == 0)
        return buf;
    for (u = 4; u > 0; u--) {
        uint64_t unit = (uint64_t)1 << (10 * u);
        if (mb < unit)
            continue;
        if (mb % unit == 0) {
            snprintf (buf, len, "%" PRIu64 "%c", mb / unit, units[u]);
            return buf;
        }
        if ((mb % unit) * 10 % unit == 0) { /* one exact decimal */
            snprintf (buf, len, "%" PRIu64 ".%" PRIu64 "%c", mb / unit,
                      (mb % unit) * 10 / unit, units[u]);
            return buf;
        }
    }
    snprintf (buf, len, "%" PRIu64 "M", mb);
    return buf;
}

/* --- signals -------------------------------------------------------------- */

enum { SIGNAL_MAX = 64 };

static const struct {
    const char *name;
    int sig;
} signals[] = {
    { "HUP", SIGHUP },       { "INT", SIGINT },     { "QUIT", SIGQUIT },
    { "ILL", SIGILL },       { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },
    { "BUS", SIGBUS },       { "FPE", SIGFPE },     { "KILL", SIGKILL },
    { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },   { "USR2", SIGUSR2 },
    { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
    { "CHLD", SIGCHLD },     { "CONT", SIGCONT },   { "STOP", SIGSTOP },
    { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },
    { "URG", SIGURG },       { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },
    { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },   { "WINCH", SIGWINCH },
    { "IO", SIGIO },         { "SYS", SIGSYS },
};

int parse_signal (const char *s, int *sig, aios_error_t *err)
{
    const char *name = s;
    long n;
    size_t i;

    if (!s || !sig)
        goto bad;
    if (isdigit ((unsigned char)s[0])) {
        if (parse_long (s, 1, SIGNAL_MAX, &n, NULL) < 0)
            goto bad;
        *sig = (int)n;
        return 0;
    }
    if (!strncasecmp (name, "SIG", 3))
        name += 3;
    for (i = 0; i < sizeof (signals) / sizeof (signals[0]); i++) {
        if (!strcasecmp (name, signals[i].name)) {
            *sig = signals[i].sig;
            return 0;
        }
    }
bad:
    errno = EINVAL;
    return errprintf (err, "invalid signal \"%s\"", s ? s : "");
}

const char *signal_name (int sig)
{
    static char buf[32];
    size_t i;

    for (i = 0; i < sizeof (signals) / sizeof (signals[0]); i++) {
        if (signals[i].sig == sig)
            return signals[i].name;
    }
    snprintf (buf, sizeof (buf), "SIG%d", sig);
    return buf;
}

/* --- integers ------------------------------------------------------------- */

int parse_long (const char *s, long min, long max, long *val, aios_error_t *err)
{
    char *end;
    long v;

    /* strtol() would take leading space and '+'; a strict parse does not */
    if (!s || !val || !(isdigit ((unsigned char)s[0])
                        || (s[0] == '-' && isdigit ((unsigned char)s[1])))) {
        errno = EINVAL;
        return errprintf (err, "invalid number \"%s\"", s ? s : "");
    }
    errno = 0;
    v = strtol (s, &end, 10);
    if (*end) {
        errno = EINVAL;
        return errprintf (err, "invalid number \"%s\"", s);
    }
    if (errno == ERANGE || v < min || v > max) {
        errno = ERANGE;
        return errprintf (err, "%s is out of range (expected %ld..%ld)", s,
                          min, max);
    }
    *val = v;
    return 0;
}

int parse_begin (const char *s, time_t now, time_t *t, aios_error_t *err)
{
    struct tm tm;
    const char *end;

    errno = EINVAL;
    if (!strcmp (s, "now")) {
        *t = now;
        return 0;
    }
    if (!strncmp (s, "now+", 4)) {
        char *unit;
        long n, mult;
        errno = 0;
        n = strtol (s + 4, &unit, 10);
        if (errno == ERANGE)
            n = -1;
        errno = EINVAL;
        if (unit == s + 4 || n < 0)
            return errprintf (err, "invalid begin time \"%s\": expected now+N "
                              "with N a number", s);
        if (!*unit || !strcmp (unit, "s") || !strcmp (unit, "seconds"))
            mult = 1;
        else if (!strcmp (unit, "m") || !strcmp (unit, "minutes"))
            mult = 60;
        else if (!strcmp (unit, "h") || !strcmp (unit, "hours"))
            mult = 3600;
        else if (!strcmp (unit, "d") || !strcmp (unit, "days"))
            mult = 86400;
        else
            return errprintf (err, "invalid begin time \"%s\": unknown unit "
                              "\"%s\" (s, m, h, d)", s, unit);
        if (n > (LONG_MAX - (long)now) / mult)
            return errprintf (err, "invalid begin time \"%s\": too far "
                              "ahead", s);
        *t = now + (time_t)(n * mult);
        return 0;
    }
    localtime_r (&now, &tm);
    end = strptime (s, "%H:%M", &tm);
    if (end && *end == ':')
        end = strptime (end, ":%S", &tm);
    if (end && *end == '\0') {
        if (!strchr (s + 3, ':'))
            tm.tm_sec = 0;
        tm.tm_isdst = -1;
        *t = mktime (&tm);
        if (*t < now)
            *t += 86400;
        return 0;
    }
    memset (&tm, 0, sizeof (tm));
    end = strptime (s, "%Y-%m-%d", &tm);
    if (end && *end == 'T')
        end = strptime (end, "T%H:%M", &tm);
    if (end && *end == ':')
        end = strptime (end, ":%S", &tm);
    if (end && *end == '\0') {
        tm.tm_isdst = -1;
        *t = mktime (&tm);
        return 0;
    }
    return errprintf (err, "invalid begin time \"%s\": expected now, now+N[s|m|h|d], "
                      "HH:MM[:SS] or YYYY-MM-DD[THH:MM[:SS]]", s);
}

static int int_cmp (const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return x < y ? -1 : x > y;
}

/* One range "A", "A-B" or "A-B:S" into tasks (NULL: only count). */
static int array_range (const char *r, int *tasks, int *n, aios_error_t *err)
{
    long a, b, step = 1;
    char *dash, *colon, buf[64];

    if (strlen (r) >= sizeof (buf) || !*r)
        return errprintf (err, "empty or overlong range \"%s\"", r);
    strcpy (buf, r);
    if ((colon = strchr (buf, ':'))) {
        *colon++ = '\0';
        if (parse_long (colon, 1, AIOS_ARRAY_MAX_ID, &step, err) < 0)
            return errprintf (err, "invalid step \"%s\" in \"%s\"", colon, r);
    }
    if ((dash = strchr (buf, '-')))
        *dash++ = '\0';
    if (parse_long (buf, 0, AIOS_ARRAY_MAX_ID, &a, err) < 0
        || (dash && parse_long (dash, 0, AIOS_ARRAY_MAX_ID, &b, err) < 0))
        return errprintf (err, "invalid task range \"%s\" (task ids are 0..%d)",
                          r, AIOS_ARRAY_MAX_ID);
    if (!dash) {
        if (colon)
            return errprintf (err, "a step needs a range (\"%s\")", r);
        b = a;
    }
    if (b < a)
        return errprintf (err, "range \"%s\" goes backwards", r);
    for (; a <= b; a += step) {
        if (*n >= AIOS_ARRAY_MAX_TASKS)
            return errprintf (err, "more than %d tasks", AIOS_ARRAY_MAX_TASKS);
        if (tasks)
            tasks[*n] = (int)a;
        (*n)++;
    }
    return 0;
}

int parse_array (const char *s, int **tasks, int *ntasks, int *throttle,
                 aios_error_t *err)
{
    char *copy, *pct, *save = NULL, *tok;
    int *v = NULL, n = 0, i, k;
    long thr = 0;

    errno = EINVAL;
    *tasks = NULL;
    *ntasks = *throttle = 0;
    if (!s || !*s || !(copy = strdup (s)))
        return errprintf (err, "invalid array \"%s\": empty", s ? s : "");
    if ((pct = strchr (copy, '%'))) {
        *pct++ = '\0';
        if (parse_long (pct, 1, AIOS_ARRAY_MAX_TASKS, &thr, err) < 0) {
            free (copy);
            errno = EINVAL;
            return errprintf (err, "invalid array \"%s\": bad throttle after "
                              "%% (1..%d)", s, AIOS_ARRAY_MAX_TASKS);
        }
    }
    if (!(v = malloc (AIOS_ARRAY_MAX_TASKS * sizeof (*v)))) {
        free (copy);
        return errprintf (err, "out of memory");
    }
    for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save)) {
        if (array_range (tok, v, &n, err) < 0) {
            free (copy);
            free (v);
            errno = EINVAL;
            return errprefix (err, "invalid array \"%s\"", s);
        }
    }
    free (copy);
    if (n == 0) {
        free (v);
        return errprintf (err, "invalid array \"%s\": no tasks", s);
    }
    qsort (v, (size_t)n, sizeof (*v), int_cmp);
    for (i = 1, k = 1; i < n; i++)
        if (v[i] != v[k - 1])
            v[k++] = v[i];
    *tasks = v;
    *ntasks = k;
    *throttle = (int)thr;
    errno = 0;
    return 0;
}

char *format_array (const int *tasks, int n, char *buf, size_t len)
{
    size_t o = 0;
    int i = 0;

    buf[0] = '\0';
    while (i < n && o < len) {
        int j = i;
        while (j + 1 < n && tasks[j + 1] == tasks[j] + 1)
            j++;
        if (j > i)
            o += (size_t)snprintf (buf + o, len - o, "%s%d-%d", o ? "," : "",
                                   tasks[i], tasks[j]);
        else
            o += (size_t)snprintf (buf + o, len - o, "%s%d", o ? "," : "",
                                   tasks[i]);
        i = j + 1;
    }
    return buf;
}

int parse_signal_spec (const char *s, int *sig, int *seconds, int *batch_only,
                       aios_error_t *err)
{
    char buf[64], *at, *name = buf;
    long secs = 60;

    errno = EINVAL;
    if (!s || strlen (s) >= sizeof (buf) || !*s)
        return errprintf (err, "invalid --signal \"%s\"", s ? s : "");
    strcpy (buf, s);
    *batch_only = 0;
    if (!strncmp (name, "B:", 2)) {
        *batch_only = 1;
        name += 2;
    }
    if ((at = strchr (name, '@'))) {
        *at++ = '\0';
        if (parse_long (at, 0, 65535, &secs, err) < 0)
            return errprintf (err, "invalid --signal \"%s\": seconds \"%s\" "
                              "(0..65535)", s, at);
    }
    if (parse_signal (name, sig, err) < 0 || *sig < 1 || *sig > 64)
        return errprintf (err, "invalid --signal \"%s\": unknown signal \"%s\" "
                          "(expected [B:]SIG[@SECONDS])", s, name);
    *seconds = (int)secs;
    errno = 0;
    return 0;
}

int parse_job_ref (const char *s, long *id, long *task, aios_error_t *err)
{
    const char *us = strchr (s, '_');
    char head[32];

    *task = -1;
    if (!us && parse_long (s, 1, LONG_MAX, id, err) == 0)
        return 0;
    if (us && (size_t)(us - s) < sizeof (head)) {
        snprintf (head, sizeof (head), "%.*s", (int)(us - s), s);
        if (parse_long (head, 1, LONG_MAX, id, err) == 0
            && parse_long (us + 1, 0, AIOS_ARRAY_MAX_ID, task, err) == 0)
            return 0;
    }
    *task = -1;
    return errprintf (err, "invalid job id \"%s\" (expected ID or ID_TASK)",
                      s);
}
