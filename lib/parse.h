/* parse.h - Slurm-compatible value formats
 */
#ifndef AIOS_PARSE_H
#define AIOS_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "errprintf.h"

#define AIOS_TIME_UNLIMITED (-1L)

/* Time limits, as sbatch --time:
 *   MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, and
 *   "UNLIMITED" / "INFINITE" (any case) -> AIOS_TIME_UNLIMITED.
 * Result in seconds.  "0" is rejected (a zero time limit is meaningless).
 * -1 + EINVAL with err text naming the value on error. */
int parse_time (const char *s, long *seconds, aios_error_t *err);

/* Format seconds as Slurm prints elapsed time: "M:SS", "H:MM:SS",
 * "D-HH:MM:SS"; AIOS_TIME_UNLIMITED -> "UNLIMITED".  Returns buf. */
char *format_time (long seconds, char *buf, size_t len);

/* Memory sizes: "512" (MiB), "512M", "4G", "2T", "100K" (rounded up to
 * whole MiB); suffix case-insensitive, optional trailing "B"/"iB".
 * Result in MiB.  -1 + EINVAL/ERANGE with err text on error. */
int parse_size_mb (const char *s, uint64_t *mb, aios_error_t *err);

/* Format MiB compactly: "512M", "4G", "1.5G".  Returns buf. */
char *format_size_mb (uint64_t mb, char *buf, size_t len);

/* Signals: "TERM", "SIGTERM", "term", "15".  -1 + EINVAL on error. */
int parse_signal (const char *s, int *sig, aios_error_t *err);

/* sbatch --begin: "now", "now+N[s|m|h|d]" (also seconds, minutes, hours,
 * days), "HH:MM[:SS]" (today, or tomorrow when that has passed),
 * "YYYY-MM-DD[THH:MM[:SS]]" (local time).  *t gets the epoch time; now is
 * the current time (an argument, for tests). */
int parse_begin (const char *s, time_t now, time_t *t, aios_error_t *err);
/* "TERM" for SIGTERM; "SIG<n>" text in a static buffer for unknown. */
const char *signal_name (int sig);

/* Strict integer parse of the whole string within [min, max]. */
int parse_long (const char *s, long min, long max, long *val, aios_error_t *err);

#endif
