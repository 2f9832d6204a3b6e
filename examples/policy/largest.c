/* largest.c - an example AIOS policy plugin: the widest job first
 *
 * Jobs asking for more CPUs run first, which keeps large training jobs from
 * starving behind streams of small ones; equal sizes go in submit order
 * (the core breaks ties by submit time).  Build it as a shared object that
 * includes only policy.h:
 *
 *   cc -shared -fPIC -I/usr/include/aios -o largest.so largest.c
 *
 * and name it in aios.yaml (scheduler.policy: largest, with plugin_dir set
 * to its directory).  See aios-policy(7).
 */
#include "policy.h"

static double largest_priority (const struct aios_policy_job *job,
                                const struct aios_policy_view *view)
{
    (void)view;
    return (double)job->ntasks * job->cpus_per_task;
}

static int largest_init (struct aios_policy_ops *ops)
{
    ops->abi = AIOS_POLICY_ABI;
    ops->name = "largest";
    ops->priority = largest_priority;
    return 0;
}

AIOS_POLICY_EXPORT (largest_init)
