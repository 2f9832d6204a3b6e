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

/* The same with bytes as the unit of a plain number ("1048576", "10G"). */
int parse_size_bytes (const char *s, uint64_t *bytes, aios_error_t *err);

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

/* sbatch --array: "0-99", "1,3,5", "0-15:4", combinations "1-3,8", and a
 * throttle "%N" at the end.  Task ids are 0..AIOS_ARRAY_MAX_ID, at most
 * AIOS_ARRAY_MAX_TASKS of them, sorted and without duplicates.  *tasks is
 * malloc'd; *throttle is 0 when none is given. */
#define AIOS_ARRAY_MAX_ID 1000000
#define AIOS_ARRAY_MAX_TASKS 10000
int parse_array (const char *s, int **tasks, int *ntasks, int *throttle,
                 aios_error_t *err);
/* Format task ids compactly, as squeue folds them: "0-3,7,9-10". */
char *format_array (const int *tasks, int n, char *buf, size_t len);

/* sbatch --signal: "[B:]SIG[@SECONDS]" (SECONDS 0..65535, default 60). */
int parse_signal_spec (const char *s, int *sig, int *seconds, int *batch_only,
                       aios_error_t *err);

/* Strict integer parse of the whole string within [min, max]. */
int parse_long (const char *s, long min, long max, long *val, aios_error_t *err);

/* A job id as squeue and scancel take it: "ID" (*task = -1) or
 * "ARRAYID_TASK" (one task of an array). */
int parse_job_ref (const char *s, long *id, long *task, aios_error_t *err);

#endif
