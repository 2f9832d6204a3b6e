/* auth.h - munge credentials
 *
 * One encode and one decode context, both bound to the configured munged
 * socket (MUNGE_OPT_SOCKET).  A credential carries an optional payload
 * string (the hello nonce) and proves the uid/gid of whoever encoded it.
 */
#ifndef AIOS_AUTH_H
#define AIOS_AUTH_H

#include <sys/types.h>
#include "errprintf.h"

struct auth;

struct auth *auth_create (const char *munge_socket, aios_error_t *err);
void auth_destroy (struct auth *auth);

/* Returns a new credential string (caller frees) or NULL with err. */
char *auth_encode (struct auth *auth, const char *payload, aios_error_t *err);

/* Decode cred.  On success fills uid/gid and, if payload is not NULL, a new
 * payload string (caller frees; "" when none).  -1 with err (expired,
 * replayed, rewound, invalid...) otherwise. */
int auth_decode (struct auth *auth, const char *cred, uid_t *uid, gid_t *gid,
                 char **payload, aios_error_t *err);

/* A fresh random nonce (hex, 32 chars) into buf[33]. */
int auth_nonce (char buf[33]);

#endif
