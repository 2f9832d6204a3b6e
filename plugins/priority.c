/* priority.c - multifactor priority, after Slurm's priority/multifactor
 *
 *   priority = w_age * age + w_fairshare * fairshare + w_size * size
 *            + w_partition * partition + w_qos * qos - nice
 *
 * every factor in [0, 1]:
 *   age        waiting time / max_age, capped at 1
 *   fairshare  2^(-usage / shares): 1 for a user who used nothing, 0.5 for
 *              one who used exactly their share, toward 0 beyond
 *   size       CPUs asked / CPUs in the machine (1 - that with favor_small)
 *   partition  the partition's priority / the highest partition priority
 *   qos        the QOS priority / the highest QOS priority
 */
#include <math.h>

#include "policy.h"

static double priority_priority (const struct aios_policy_job *job,
                                 const struct aios_policy_view *view)
{
    const struct aios_policy_weights *w = view->weights;
    double age, fs, size, cpus;

    if (!w)
        return -job->submit_time;
    age = view->now - job->submit_time;
    if (age < 0)
        age = 0;
    age = w->max_age > 0 ? (age >= w->max_age ? 1.0 : age / w->max_age) : 1.0;
    fs = job->fs_shares > 0 ? pow (2.0, -job->fs_usage / job->fs_shares) : 1.0;
    cpus = (double)job->ntasks * job->cpus_per_task;
    size = view->total_cpus > 0 ? cpus / (double)view->total_cpus : 0;
    if (size > 1)
        size = 1;
    if (w->favor_small)
        size = 1 - size;
    return w->age * age + w->fairshare * fs + w->size * size
        + w->partition * job->partition_factor + w->qos * job->qos_factor
        - job->nice;
}

int aios_policy_priority_init (struct aios_policy_ops *ops);
int aios_policy_priority_init (struct aios_policy_ops *ops)
{
    ops->abi = AIOS_POLICY_ABI;
    ops->name = "priority";
    ops->priority = priority_priority;
    return 0;
}

AIOS_POLICY_EXPORT (aios_policy_priority_init)
