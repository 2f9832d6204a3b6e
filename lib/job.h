/* job.h - job states, shared by the controller and the tools */
#ifndef AIOS_JOB_H
#define AIOS_JOB_H

#include <stdbool.h>

enum job_state {
    JOB_PENDING = 0,
    JOB_STAGING,
    JOB_RUNNING,
    JOB_COMPLETING,
    JOB_COMPLETED,
    JOB_FAILED,
    JOB_CANCELLED,
    JOB_TIMEOUT,
    JOB_OUT_OF_MEMORY,
    JOB_NODE_FAIL,
    JOB_STAGE_FAILED,
    JOB_STATE_COUNT
};

/* "PENDING"... ; NULL for an invalid state. */
const char *job_state_name (enum job_state s);
/* Compact code as squeue %t prints it: PD R CG CD F CA TO OOM NF SF SG. */
const char *job_state_code (enum job_state s);

/* What a pending reason ("Resources", "Dependency"...) means, in words;
 * "" for an unknown name. */
const char *job_reason_text (const char *name);
/* Accepts names and codes in any case; -1 if unknown. */
int job_state_parse (const char *s);
bool job_state_is_final (enum job_state s);

#endif
