/* fifo.c - first in, first out: the earliest submission runs first */
#include "policy.h"

static double fifo_priority (const struct aios_policy_job *job,
                             const struct aios_policy_view *view)
{
    (void)view;
    return -job->submit_time;
}

int aios_policy_fifo_init (struct aios_policy_ops *ops);
int aios_policy_fifo_init (struct aios_policy_ops *ops)
{
    ops->abi = AIOS_POLICY_ABI;
    ops->name = "fifo";
    ops->priority = fifo_priority;
    return 0;
}

AIOS_POLICY_EXPORT (aios_policy_fifo_init)
