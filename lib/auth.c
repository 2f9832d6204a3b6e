/* auth.c - munge credentials */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <munge.h>

#include "auth.h"

struct auth {
    munge_ctx_t enc;
    munge_ctx_t dec;
    char *socket;
};

void auth_destroy (struct auth *auth)
{
    int saved = errno;

    if (auth) {
        if (auth->enc)
            munge_ctx_destroy (auth->enc);
        if (auth->dec)
            munge_ctx_destroy (auth->dec);
        free (auth->socket);
        free (auth);
    }
    errno = saved;
}

struct auth *auth_create (const char *munge_socket, aios_error_t *err)
{
    struct auth *auth;

    if (!munge_socket) {
        errno = EINVAL;
        errprintf (err, "munge: no socket configured");
        return NULL;
    }
    if (!(auth = calloc (1, sizeof (*auth)))
        || !(auth->socket = strdup (munge_socket))
        || !(auth->enc = munge_ctx_create ())
        || !(auth->dec = munge_ctx_create ())) {
        errno = ENOMEM;
        errprintf (err, "munge: out of memory");
        goto error;
    }
    if (munge_ctx_set (auth->enc, MUNGE_OPT_SOCKET, auth->socket) != EMUNGE_SUCCESS
        || munge_ctx_set (auth->dec, MUNGE_OPT_SOCKET, auth->socket) != EMUNGE_SUCCESS) {
        errno = EINVAL;
        errprintf (err, "munge: cannot set socket %s", munge_socket);
        goto error;
    }
    return auth;
error:
    auth_destroy (auth);
    return NULL;
}

char *auth_encode (struct auth *auth, const char *payload, aios_error_t *err)
{
    char *cred = NULL;
    munge_err_t e;
    int len = payload ? (int)strlen (payload) : 0;

    e = munge_encode (&cred, auth->enc, payload, len);
    if (e != EMUNGE_SUCCESS) {
        errno = EPERM;
        errprintf (err, "munge encode (socket %s): %s", auth->socket,
                   munge_ctx_strerror (auth->enc));
        free (cred);
        return NULL;
    }
    return cred;
}

int auth_decode (struct auth *auth, const char *cred, uid_t *uid, gid_t *gid,
                 char **payload, aios_error_t *err)
{
    void *buf = NULL;
    int len = 0;
    munge_err_t e;

    e = munge_decode (cred, auth->dec, &buf, &len, uid, gid);
    if (e != EMUNGE_SUCCESS) {
        free (buf);
        errno = EPERM;
        return errprintf (err, "munge credential rejected: %s",
                          munge_ctx_strerror (auth->dec));
    }
    if (payload) {
        char *s = malloc ((size_t)len + 1);
        if (!s) {
            free (buf);
            errno = ENOMEM;
            return errprintf (err, "out of memory");
        }
        if (len > 0)
            memcpy (s, buf, (size_t)len);
        s[len] = '\0';
        *payload = s;
    }
    free (buf);
    return 0;
}

int auth_nonce (char buf[33])
{
    unsigned char raw[16];
    size_t i;

    if (getrandom (raw, sizeof (raw), 0) != (ssize_t)sizeof (raw))
        return -1;
    for (i = 0; i < sizeof (raw); i++)
        snprintf (buf + 2 * i, 3, "%02x", raw[i]);
    return 0;
}
