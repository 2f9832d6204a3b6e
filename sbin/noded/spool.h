/* spool.h - the node daemon's on-disk records
 *
 *   SPOOL/job.ID/script         the batch script (owned by the job's user)
 *   SPOOL/job.ID/pid            pid (= process group) of the running script
 *   SPOOL/job.ID/exit.json      how the script ended, while its stage-out runs
 *   SPOOL/job.ID/complete.json  the completion, kept until acknowledged
 */
#ifndef AIOS_NODED_SPOOL_H
#define AIOS_NODED_SPOOL_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "errprintf.h"

/* Create SPOOL/job.ID owned by uid/gid (mode 0700) and write the script. */
int spool_job_create (const char *spool, uint64_t id, const char *script,
                      uid_t uid, gid_t gid, char *script_path, size_t len,
                      aios_error_t *err);
/* A file of the job's own in its spool directory (its owner's, 0600);
 * path gets where. */
int spool_job_file (const char *spool, uint64_t id, const char *name,
                    const char *text, uid_t uid, gid_t gid, char *path,
                    size_t len, aios_error_t *err);
int spool_write_pid (const char *spool, uint64_t id, pid_t pid, aios_error_t *err);
/* Write the completion atomically (write, rename): it survives an aiosd
 * crash and restart. */
int spool_write_completion (const char *spool, uint64_t id, const json_t *rec,
                            aios_error_t *err);
/* The same for how the script ended, before its stage-out starts: what a
 * restarted aiosd reports if the stage-out never ended. */
int spool_write_exit (const char *spool, uint64_t id, const json_t *rec,
                      aios_error_t *err);
/* Remove SPOOL/job.ID and everything in it (after the ack). */
void spool_job_remove (const char *spool, uint64_t id);

/* Call cb for every job directory: rec is its completion (NULL if none),
 * exited how its script ended when a stage-out had started and there is no
 * completion (else NULL), pid its recorded pid (0 if none). */
typedef void (*spool_job_f) (uint64_t id, json_t *rec, json_t *exited, pid_t pid,
                             void *arg);
int spool_scan (const char *spool, spool_job_f cb, void *arg, aios_error_t *err);

#endif
