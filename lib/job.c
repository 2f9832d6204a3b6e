/* job.c - job states, shared by the controller and the tools */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "job.h"

static const struct {
    const char *name;
    const char *code;
    bool final;
} states[JOB_STATE_COUNT] = {
    [JOB_PENDING] = { "PENDING", "PD", false },
    [JOB_STAGING] = { "STAGING", "SG", false },
    [JOB_RUNNING] = { "RUNNING", "R", false },
    [JOB_COMPLETING] = { "COMPLETING", "CG", false },
    [JOB_COMPLETED] = { "COMPLETED", "CD", true },
    [JOB_FAILED] = { "FAILED", "F", true },
    [JOB_CANCELLED] = { "CANCELLED", "CA", true },
    [JOB_TIMEOUT] = { "TIMEOUT", "TO", true },
    [JOB_OUT_OF_MEMORY] = { "OUT_OF_MEMORY", "OOM", true },
    [JOB_NODE_FAIL] = { "NODE_FAIL", "NF", true },
    [JOB_STAGE_FAILED] = { "STAGE_FAILED", "SF", true },
};

const char *job_state_name (enum job_state s)
{
    return (unsigned)s < JOB_STATE_COUNT ? states[s].name : NULL;
}

const char *job_state_code (enum job_state s)
{
    return (unsigned)s < JOB_STATE_COUNT ? states[s].code : NULL;
}

int job_state_parse (const char *s)
{
    int i;

    if (!s)
        return -1;
    for (i = 0; i < JOB_STATE_COUNT; i++) {
        if (!strcasecmp (s, states[i].name) || !strcasecmp (s, states[i].code))
            return i;
    }
    return -1;
}

bool job_state_is_final (enum job_state s)
{
    return (unsigned)s < JOB_STATE_COUNT && states[s].final;
}

static const struct {
    const char *name, *text;
} reason_texts[] = {
    { "JobHeldUser", "held: it does not start until released" },
    { "InvalidPartition", "its partition no longer exists" },
    { "PartitionTimeLimit", "its time limit is over the partition's max_time" },
    { "PartitionNodeLimit", "it asks more than the partition has" },
    { "BadConstraints", "no node of the partition has the features it asks for" },
    { "ReqNodeNotAvail", "it fits only with nodes that are down or drained" },
    { "Resources", "not enough free resources now" },
    { "Priority", "higher-priority jobs of its partition wait before it" },
    { "Reservation", "it fits now but would delay the job that holds the "
                     "backfill reservation" },
    { "Dependency", "it waits for other jobs" },
    { "DependencyNeverSatisfied", "its dependency can no longer be satisfied" },
    { "BeginTime", "its --begin time has not come" },
    { "JobArrayTaskLimit", "its array already runs as many tasks as its "
      "%N throttle allows" },
    { "Staging", "its datasets are being copied to its nodes" },
};

const char *job_reason_text (const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof (reason_texts) / sizeof (reason_texts[0]); i++)
        if (!strcmp (reason_texts[i].name, name))
            return reason_texts[i].text;
    return "";
}
