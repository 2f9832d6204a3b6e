/* parse.c - Slurm-compatible value formats */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

/* Parse a run of digits of s[0..len) into *v (no sign, no overflow). */
static int digits (const char *s, size_t len, long *v)
{
    long n = 0;
    size_t i;

    if (len == 0 || len > 12)
        return -1;
    for (i = 0; i < len; i++) {
        if (!isdigit ((unsigned char)s[i]))
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    *v = n;
    return 0;
}

/* Split s at every ':' into up to 3 numbers; returns how many, -1 if bad. */
static int colon_fields (const char *s, long f[3])
{
    int n = 0;
    const char *p = s;

    for (;;) {
        const char *c = strchr (p, ':');
        size_t len = c ? (size_t)(c - p) : strlen (p);
        if (n == 3 || digits (p, len, &f[n++]) < 0)
            return -1;
        if (!c)
            return n;
        p = c + 1;
    }
}

int parse_time (const char *s, long *seconds, aios_error_t *err)
{
    long f[3], days = 0, t;
    const char *dash, *rest;
    int n;

    if (!s || !seconds) {
        errno = EINVAL;
        return errprintf (err, "invalid time limit: none given");
    }
    if (!strcasecmp (s, "UNLIMITED") || !strcasecmp (s, "INFINITE")) {
        *seconds = AIOS_TIME_UNLIMITED;
        return 0;
    }
    dash = strchr (s, '-');
    rest = dash ? dash + 1 : s;
    if (dash && digits (s, (size_t)(dash - s), &days) < 0)
        goto bad;
    if ((n = colon_fields (rest, f)) < 0)
        goto bad;
    if (dash) { /* D-HH, D-HH:MM, D-HH:MM:SS */
        t = days * 86400 + f[0] * 3600 + (n > 1 ? f[1] * 60 : 0)
            + (n > 2 ? f[2] : 0);
    }
    else if (n == 1) /* MM */
        t = f[0] * 60;
    else if (n == 2) /* MM:SS */
        t = f[0] * 60 + f[1];
    else /* HH:MM:SS */
        t = f[0] * 3600 + f[1] * 60 + f[2];
    if (t <= 0 || days > 100000)
        goto bad;
    *seconds = t;
    return 0;
bad:
    errno = EINVAL;
    return errprintf (err, "invalid time limit \"%s\": expected MM, MM:SS, "
                      "HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS", s);
}

char *format_time (long seconds, char *buf, size_t len)
{
    long d, h, m, s;

    if (seconds < 0) {
        snprintf (buf, len, "UNLIMITED");
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

int parse_size_mb (const char *s, uint64_t *mb, aios_error_t *err)
{
    char *end;
    unsigned long long v;
    uint64_t mult_kb = 1024; /* default unit: MiB, counted in KiB */

    if (!s || !mb || !isdigit ((unsigned char)s[0]))
        goto bad;
    errno = 0;
    v = strtoull (s, &end, 10);
    if (errno)
        goto range;
    switch (toupper ((unsigned char)*end)) {
    case '\0': break;
    case 'K': mult_kb = 1; end++; break;
    case 'M': end++; break;
    case 'G': mult_kb = 1024ULL * 1024; end++; break;
    case 'T': mult_kb = 1024ULL * 1024 * 1024; end++; break;
    default: goto bad;
    }
    if (!strcasecmp (end, "iB"))
        end += 2;
    else if (!strcasecmp (end, "B"))
        end++;
    if (*end)
        goto bad;
    if (v > UINT64_MAX / mult_kb)
        goto range;
    *mb = (v * mult_kb + 1023) / 1024;
    return 0;
bad:
    errno = EINVAL;
    return errprintf (err, "invalid memory size \"%s\": expected a number "
                      "with an optional K, M, G or T suffix", s ? s : "");
range:
    errno = ERANGE;
    return errprintf (err, "invalid memory size \"%s\": too large", s);
}

char *format_size_mb (uint64_t mb, char *buf, size_t len)
{
    static const char units[] = "MGTP";
    double v = (double)mb;
    int u = 0;

    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    if (v == (double)(uint64_t)v)
        snprintf (buf, len, "%" PRIu64 "%c", (uint64_t)v, units[u]);
    else
        snprintf (buf, len, "%.1f%c", v, units[u]);
    return buf;
}

static const struct {
    const char *name;
    int sig;
} signals[] = {
    { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },
    { "ILL", SIGILL },     { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },
    { "BUS", SIGBUS },     { "FPE", SIGFPE },       { "KILL", SIGKILL },
    { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },     { "USR2", SIGUSR2 },
    { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },     { "TERM", SIGTERM },
    { "CHLD", SIGCHLD },   { "CONT", SIGCONT },     { "STOP", SIGSTOP },
    { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },
    { "URG", SIGURG },     { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },
    { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },   { "WINCH", SIGWINCH },
    { "IO", SIGIO },       { "SYS", SIGSYS },
};

int parse_signal (const char *s, int *sig, aios_error_t *err)
{
    const char *name = s;
    long n;
    size_t i;

    if (!s || !sig)
        goto bad;
    if (isdigit ((unsigned char)s[0])) {
        if (parse_long (s, 1, 64, &n, NULL) < 0)
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
    static char buf[16];
    size_t i;

    for (i = 0; i < sizeof (signals) / sizeof (signals[0]); i++) {
        if (signals[i].sig == sig)
            return signals[i].name;
    }
    snprintf (buf, sizeof (buf), "SIG%d", sig);
    return buf;
}

int parse_long (const char *s, long min, long max, long *val, aios_error_t *err)
{
    char *end;
    long v;

    if (!s || !*s || isspace ((unsigned char)*s)) {
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
