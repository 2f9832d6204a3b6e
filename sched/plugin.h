/* plugin.h - loading policy plugins by name */
#ifndef AIOS_SCHED_PLUGIN_H
#define AIOS_SCHED_PLUGIN_H

#include "errprintf.h"
#include "policy.h"

struct policy;

/* Load DIR/NAME.so and check its ABI.  err names the path and what failed
 * (missing file, missing symbol, wrong ABI, init failure). */
struct policy *policy_load (const char *dir, const char *name, aios_error_t *err);
void policy_unload (struct policy *p);
/* Borrowed until policy_unload(). */
const struct aios_policy_ops *policy_ops (const struct policy *p);
const char *policy_path (const struct policy *p);

#endif
