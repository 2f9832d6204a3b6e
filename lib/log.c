/* log.c - one small logging API for daemons and tools */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* The one piece of process-wide state: where log lines go. */
static struct {
    char ident[64];
    char *path;         /* NULL = stderr */
    int fd;
    int level;
} lg = { "aios", NULL, STDERR_FILENO, LOG_INFO };

static const char *level_names[] = {
    [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
    [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

/* The names above, plus the common spellings "error" and "warn". */
int log_level_parse (const char *name)
{
    int i;

    if (!name)
        return -1;
    for (i = LOG_EMERG; i <= LOG_DEBUG; i++) {
        if (!strcasecmp (name, level_names[i]))
            return i;
    }
    if (!strcasecmp (name, "error"))
        return LOG_ERR;
    if (!strcasecmp (name, "warn"))
        return LOG_WARNING;
    return -1;
}

void log_set_level (int level)
{
    if (level >= LOG_EMERG && level <= LOG_DEBUG)
        lg.level = level;
}

static int open_path (const char *path, aios_error_t *err)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

    if (fd < 0)
        return errprintf (err, "cannot open log file %s: %s", path,
                          strerror (errno));
    return fd;
}

int log_open (const char *ident, const char *path, int level, aios_error_t *err)
{
    int fd = STDERR_FILENO;
    char *copy = NULL;

    if (level < LOG_EMERG || level > LOG_DEBUG) {
        errno = EINVAL;
        return errprintf (err, "invalid log level %d", level);
    }
    if (path && strcmp (path, "-") != 0) {
        if (!(copy = strdup (path))) {
            errno = ENOMEM;
            return errprintf (err, "out of memory");
        }
        if ((fd = open_path (path, err)) < 0) {
            free (copy);
            return -1;
        }
    }
    log_close ();
    snprintf (lg.ident, sizeof (lg.ident), "%s", ident ? ident : "aios");
    lg.path = copy;
    lg.fd = fd;
    log_set_level (level);
    return 0;
}

int log_reopen (aios_error_t *err)
{
    int fd;

    if (!lg.path)
        return 0;
    if ((fd = open_path (lg.path, err)) < 0)
        return -1;
    close (lg.fd);
    lg.fd = fd;
    return 0;
}

void log_close (void)
{
    if (lg.fd != STDERR_FILENO && lg.fd >= 0)
        close (lg.fd);
    free (lg.path);
    lg.path = NULL;
    lg.fd = STDERR_FILENO;
}

/* "2026-11-24T16:00:00.123Z ident[pid]: level: " into line; its length. */
static size_t line_head (char *line, size_t len, int level)
{
    struct timespec ts;
    struct tm tm;
    int n;

    clock_gettime (CLOCK_REALTIME, &ts);
    gmtime_r (&ts.tv_sec, &tm);
    n = snprintf (line, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s[%d]: %s: ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000), lg.ident,
                  (int)getpid (),
                  level >= LOG_EMERG && level <= LOG_DEBUG ? level_names[level]
                                                          : "?");
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* One line, one write(2): lines of concurrent writers do not interleave.
 * A message too long for the buffer is cut short. */
void log_msg (int level, const char *fmt, ...)
{
    char line[4096];
    size_t n, room;
    va_list ap;
    int saved = errno, m;
    ssize_t w;

    if (level > lg.level)
        return;
    n = line_head (line, sizeof (line), level);
    room = sizeof (line) - n - 1; /* keep one byte for the '\n' */
    errno = saved; /* for %m */
    va_start (ap, fmt);
    m = vsnprintf (line + n, room, fmt, ap);
    va_end (ap);
    if (m > 0)
        n += (size_t)m < room ? (size_t)m : room - 1;
    if (n > 0 && line[n - 1] == '\n')
        n--; /* the message's own newline */
    line[n++] = '\n';
    do
        w = write (lg.fd, line, n);
    while (w < 0 && errno == EINTR);
    errno = saved;
}
