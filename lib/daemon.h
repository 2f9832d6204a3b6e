/* daemon.h - detaching with the parent reporting startup errors
 *
 *   int fd = daemon_begin (foreground, &err);   // forks unless foreground
 *   ... validate config, open sockets, state file, write pidfile ...
 *   daemon_ready (fd);                 // parent exits 0
 *   or daemon_fail (fd, "message");    // parent prints it and exits 1
 */
#ifndef AIOS_DAEMON_H
#define AIOS_DAEMON_H

#include <stdbool.h>
#include "errprintf.h"

/* In the background case, the parent never returns: it waits for the child's
 * word and exits.  Returns the child's report fd (-1 when foreground). */
int daemon_begin (bool foreground, aios_error_t *err);
void daemon_ready (int fd);
void daemon_fail (int fd, const char *msg);

/* Write our pid to path (0644).  Fails with EEXIST naming the pid when a
 * live process already holds it. */
int pidfile_write (const char *path, aios_error_t *err);
void pidfile_remove (const char *path);

/* mkdir -p with mode. */
int mkdir_p (const char *path, int mode, aios_error_t *err);

#endif
