/* usage.h - recorded usage per user with half-life decay (fair share)
 *
 * Pure: the time is always an argument.  A user's usage (CPU-seconds)
 * halves every half_life seconds.  usage_fill() gives each pending job its
 * user's share of the total decayed usage (fs_usage) and an equal share of
 * the machine among the users that have usage or pending jobs (fs_shares),
 * the inputs of the priority policy's fair-share factor.
 */
#ifndef AIOS_SCHED_USAGE_H
#define AIOS_SCHED_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

struct usage;

/* half_life <= 0: no decay. */
struct usage *usage_create (double half_life);
void usage_destroy (struct usage *u);
void usage_set_half_life (struct usage *u, double half_life);

/* Add amount (CPU-seconds) for uid at time now.  -1 on ENOMEM. */
int usage_add (struct usage *u, uint32_t uid, double amount, double now);
/* Set uid's usage as of time t (restoring saved state). */
int usage_set (struct usage *u, uint32_t uid, double value, double t);
double usage_get (const struct usage *u, uint32_t uid, double now);
double usage_total (const struct usage *u, double now);

size_t usage_count (const struct usage *u);
/* The i'th user (for saving): uid, value as of *t. */
void usage_at (const struct usage *u, size_t i, uint32_t *uid, double *value,
               double *t);

/* Fill fs_usage and fs_shares of jobs[0..n).  -1 on ENOMEM. */
int usage_fill (const struct usage *u, struct sched_job *jobs, int n,
                double now);

#endif
