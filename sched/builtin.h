/* builtin.h - the policy plugins linked into a program (aios-sim, tests) */
#ifndef AIOS_SCHED_BUILTIN_H
#define AIOS_SCHED_BUILTIN_H

#include "policy.h"

/* Fill ops with the built-in policy name ("fifo", "sjf", "priority").
 * Returns 0, or -1 (errno ENOENT) for an unknown name. */
int policy_builtin (const char *name, struct aios_policy_ops *ops);
/* "fifo, sjf, priority" */
const char *policy_builtin_names (void);

#endif
