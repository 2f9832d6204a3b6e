/* log.h - one small logging API for daemons and tools
 *
 * Levels are syslog's (LOG_ERR .. LOG_DEBUG).  Messages go to a file opened
 * by log_open(), or to stderr until then.  Each line:
 *   2026-11-24T16:00:00.123Z ident[pid]: level: message
 */
#ifndef AIOS_LOG_H
#define AIOS_LOG_H

#include <syslog.h>
#include "errprintf.h"

/* path NULL or "-" means stderr.  ident is copied. */
int log_open (const char *ident, const char *path, int level, aios_error_t *err);
/* Reopen the same path (after logrotate, on SIGHUP).  */
int log_reopen (aios_error_t *err);
void log_close (void);
void log_set_level (int level);
/* Parse "err|warning|notice|info|debug" into a syslog level; -1 if unknown. */
int log_level_parse (const char *name);

void log_msg (int level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define log_err(...) log_msg (LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg (LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg (LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg (LOG_DEBUG, __VA_ARGS__)

#endif
