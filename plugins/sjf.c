/* sjf.c - shortest job first: the shortest requested time runs first, ties
 * by submit time (the core breaks those).  An unlimited job sorts last. */
#include "policy.h"

static double sjf_priority (const struct aios_policy_job *job,
                            const struct aios_policy_view *view)
{
    (void)view;
    if (job->time_limit < 0)
        return -1e18;
    return -(double)job->time_limit;
}

int aios_policy_sjf_init (struct aios_policy_ops *ops);
int aios_policy_sjf_init (struct aios_policy_ops *ops)
{
    ops->abi = AIOS_POLICY_ABI;
    ops->name = "sjf";
    ops->priority = sjf_priority;
    return 0;
}

AIOS_POLICY_EXPORT (aios_policy_sjf_init)
