/* hostlist.h - Slurm-style host range expressions
 *
 *   "node[1-4,7]"      -> node1 node2 node3 node4 node7
 *   "gpu[01-03],login" -> gpu01 gpu02 gpu03 login   (zero padding kept)
 *   "127.0.1.[1-2]"    -> 127.0.1.1 127.0.1.2
 *   "rack[1-2]-n[1-2]" -> rack1-n1 rack1-n2 rack2-n1 rack2-n2
 */
#ifndef AIOS_HOSTLIST_H
#define AIOS_HOSTLIST_H

#include <stddef.h>
#include "errprintf.h"

/* Upper bound on names one expression may expand to. */
#define HOSTLIST_MAX 1000000

/* Expand expr.  Returns a NULL-terminated array (caller frees with
 * hostlist_free()) and sets *count (count may be NULL).  On a syntax error
 * returns NULL, errno = EINVAL, and err names the problem and its position. */
char **hostlist_expand (const char *expr, size_t *count, aios_error_t *err);

void hostlist_free (char **names);

/* Compress names into the shortest range expression that keeps their order
 * groups: consecutive names with the same prefix, suffix and padding fold
 * into one bracket ("node[1-3,5]").  Caller frees.  NULL on ENOMEM. */
char *hostlist_compress (char *const *names, size_t count);

#endif
