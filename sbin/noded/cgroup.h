/* cgroup.h - one cgroup (v2) per job on this node
 *
 * The unified hierarchy is found at run time: /sys/fs/cgroup on a pure v2
 * system, /sys/fs/cgroup/unified on a hybrid one.  aiosd makes
 * ROOT/aios/NODE.PID and in it job_ID for every job with an allocation
 * here; the batch script, aios-exec commands and step ranks join it before
 * they exec, and at the job's end everything in it is killed
 * (cgroup.kill) and the directory removed.  Without a writable v2
 * hierarchy (not root, or none) jobs run without cgroups and say so once.
 */
#ifndef AIOS_NODED_CGROUP_H
#define AIOS_NODED_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct noded;

void cg_init (struct noded *nd);
/* Remove what cg_init made (jobs' cgroups should be gone by then). */
void cg_fini (struct noded *nd);
bool cg_enabled (void);

/* The job's cgroup directory in buf ("" when cgroups are off). */
const char *cg_job_path (uint64_t id, char *buf, size_t len);
int cg_job_create (struct noded *nd, uint64_t id);
/* Kill every process in it, then remove it (retrying while they die). */
void cg_job_end (struct noded *nd, uint64_t id);

/* In a forked child: move the calling process into path (no-op for ""). */
int cg_join (const char *path);

#endif
