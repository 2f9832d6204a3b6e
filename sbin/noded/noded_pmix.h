/* pmix.h - the node daemon's embedded PMIx server (see pmix.c) */
#ifndef AIOS_NODED_PMIX_H
#define AIOS_NODED_PMIX_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "errprintf.h"

struct noded;

/* The local clients of nspace all entered a fence: data is this node's
 * part.  Answer with aios_pmix_fence_release (token, everyone's data) or
 * aios_pmix_fence_fail (token).  Called on aiosd's event loop. */
typedef void (*aios_pmix_fence_f) (const char *nspace, const char *data,
                                   size_t len, void *token, void *arg);

/* Start the server once (later calls do nothing). */
int aios_pmix_start (struct noded *nd, aios_pmix_fence_f fence_cb, void *arg,
                     aios_error_t *err);
void aios_pmix_stop (void);

/* A step's namespace: size ranks over nodes ([["node1",[0,1]], ...]). */
int aios_pmix_nspace (struct noded *nd, const char *nspace, uint32_t size,
                      json_t *nodes, uid_t uid, gid_t gid, aios_error_t *err);
/* Register rank before its fork; adds the variables it needs to env. */
int aios_pmix_client (const char *nspace, int rank, uid_t uid, gid_t gid,
                      json_t *env, aios_error_t *err);
void aios_pmix_nspace_end (const char *nspace);

void aios_pmix_fence_release (void *token, const char *data, size_t len);
void aios_pmix_fence_fail (void *token);

#endif
