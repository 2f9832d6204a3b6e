/* cli.h - what every tool shares: messages, exit codes, connecting
 *
 * Exit codes: 0 success, 1 error, 2 usage error.  Messages are
 * "PROG: text"; an error from the controller is printed as it came.
 * CLI code may exit on out-of-memory (libraries may not).
 */
#ifndef AIOS_CLI_H
#define AIOS_CLI_H

#include <jansson.h>
#include "client.h"
#include "conf.h"

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

void cli_init (const char *prog);
const char *cli_prog (void);

void cli_die (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2), noreturn));
/* "PROG: text\nTry 'PROG --help' for more information." and exit 2. */
void cli_usage_error (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2), noreturn));
void cli_warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Print "PROG VERSION" and exit 0. */
void cli_version (void) __attribute__ ((noreturn));

/* The configuration ($AIOS_CONF or the default); exits 1 if it is broken.
 * Loaded once; freed at exit. */
const struct aios_conf *cli_conf (void);

/* Connect to the controller (loading the configuration only if needed);
 * exits 1 with the reason on failure. */
struct aios_client *cli_connect (void);
/* The same without exiting: NULL with err. */
struct aios_client *cli_try_connect (aios_error_t *err);
/* rpc that exits 1 with the controller's error text. */
json_t *cli_rpc (struct aios_client *c, json_t *req);

/* A job id as squeue takes it, "ID" or "ARRAYID_TASK" (what names the
 * option, for the error), as the job's id: a task's is asked of the
 * controller.  Exits with a usage error, or when there is no such task. */
long cli_job_id (struct aios_client *c, const char *what, const char *s);

/* Reading replies: o[key] as a string (dflt when absent or empty) or as an
 * integer (0 when absent).  Borrowed from o. */
const char *cli_jstr (json_t *o, const char *key, const char *dflt);
long long cli_jint (json_t *o, const char *key);

/* sbatch's --export: ALL (NULL), NONE, or VAR[=VALUE],... (ALL,... adds to
 * this environment).  Variables named in skip (NULL-terminated; a trailing
 * '*' matches a prefix) are left out of ALL. */
json_t *cli_export_env (const char *export, const char *const *skip);

/* Read what is there on fd and make the frame that relays it to a node
 * ("stdin" with base64 data, or "stdin_eof", which clears *open). */
json_t *cli_stdin_frame (int fd, bool *open);

/* Text that others wrote (job names, reasons, file attributes) with control
 * characters shown as '?', so that it cannot drive the terminal:
 * cli_clean gives s itself when it is clean, else a copy in buf (cut to
 * len; buf may be s itself); cli_put_clean writes len bytes of s to f. */
const char *cli_clean (const char *s, char *buf, size_t len);
void cli_put_clean (FILE *f, const char *s, size_t len);

/* {"version": 1, key: array}; key NULL: the object array plus a version. */
void cli_print_json (const char *key, json_t *array);

/* Allocation that cannot fail (exits). */
void *cli_xmalloc (size_t n);
char *cli_xstrdup (const char *s);

#endif
