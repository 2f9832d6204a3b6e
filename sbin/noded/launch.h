/* launch.h - running batch scripts as their owner */
#ifndef AIOS_NODED_LAUNCH_H
#define AIOS_NODED_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "errprintf.h"

struct noded;

/* Start the batch script of spec (the controller's launch message "job").
 * Any failure before the script runs becomes a failed completion naming
 * the reason; the call itself only fails on a malformed spec. */
int launch_job (struct noded *nd, json_t *spec, aios_error_t *err);

/* Record the job's completion in the spool and send it (rec borrowed). */
void launch_complete (struct noded *nd, uint64_t id, json_t *rec);

/* SIGTERM to the job's processes, SIGKILL after kill_wait. */
int launch_terminate (struct noded *nd, uint64_t id);
/* Deliver sig to the job's processes. */
int launch_signal (struct noded *nd, uint64_t id, int sig);
/* ... to the batch shell only (--signal=B:). */
int launch_signal_shell (struct noded *nd, uint64_t id, int sig);
/* A new time limit (seconds from the start, -1 = none) for a running job:
 * the timer is set again (at once when it has passed). */
int launch_set_limit (struct noded *nd, uint64_t id, long limit);
/* Reap exited scripts (on SIGCHLD): record and send completions. */
void launch_reap (struct noded *nd);
/* Is job id running here? */
bool launch_running (struct noded *nd, uint64_t id);
/* Ids of running jobs, as a JSON array. */
json_t *launch_running_ids (struct noded *nd);
/* Kill everything (shutdown): SIGKILL to every job's process group. */
void launch_kill_all (struct noded *nd);

/* In a forked child with its stdio in place: become the owner of the job
 * of spec (a launch or alloc spec), with its environment plus extra_env, in
 * cwd (else the job's working directory), and exec argv.  On failure the
 * reason goes to fd and the child exits 127.  keep (or -1) stays open. */
void launch_exec_child (int fd, int keep, json_t *spec, const char *node,
                        int node_gpus, const char *cwd, char **argv,
                        json_t *extra_env)
    __attribute__ ((noreturn));
void launch_free_all (struct noded *nd);

#endif
