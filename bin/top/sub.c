/* sub.c - aios-top's subscription to the controller's event stream */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "frame.h"
#include "proto.h"
#include "sub.h"

/* READ_BURST bounds one sub_read() so that a flood of events still lets
 * the screen and the keys have their turn. */
enum { READ_CHUNK = 64 * 1024, READ_BURST = 16 * 1024 * 1024 };

struct sub {
    struct aios_client *c;
    char *buf;
    size_t off;     /* first byte not yet decoded */
    size_t len;     /* bytes held */
    size_t cap;
};

void sub_destroy (struct sub *s)
{
    int saved = errno;

    if (s) {
        aios_client_close (s->c);
        free (s->buf);
        free (s);
    }
    errno = saved;
}

struct sub *sub_connect (aios_error_t *err)
{
    struct sub *s = cli_xmalloc (sizeof (*s));
    int flags;

    if (!(s->c = cli_try_connect (err))
        || aios_client_send (s->c, proto_request ("subscribe", 0), err) < 0)
        goto error;
    flags = fcntl (sub_fd (s), F_GETFL);
    if (flags < 0 || fcntl (sub_fd (s), F_SETFL, flags | O_NONBLOCK) < 0) {
        errprintf (err, "fcntl: %s", strerror (errno));
        goto error;
    }
    return s;
error:
    sub_destroy (s);
    return NULL;
}

int sub_fd (const struct sub *s)
{
    return aios_client_fd (s->c);
}

const char *sub_peer (const struct sub *s)
{
    return aios_client_peer (s->c);
}

/* Room for READ_CHUNK more bytes, dropping what was decoded. */
static void make_room (struct sub *s)
{
    if (s->off > 0) {
        memmove (s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    if (s->cap - s->len < READ_CHUNK) {
        s->cap = s->cap * 2 > s->len + READ_CHUNK ? s->cap * 2 : s->len + READ_CHUNK;
        if (!(s->buf = realloc (s->buf, s->cap)))
            cli_die ("out of memory");
    }
}

int sub_read (struct sub *s, aios_error_t *err)
{
    size_t got = 0;

    while (got < READ_BURST) {
        ssize_t n;
        make_room (s);
        n = read (sub_fd (s), s->buf + s->len, s->cap - s->len);
        if (n > 0) {
            s->len += (size_t)n;
            got += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n == 0) {
            errno = ECONNRESET;
            return errprintf (err, "connection to aiosctld at %s closed",
                              sub_peer (s));
        }
        return errprintf (err, "reading from aiosctld at %s: %s", sub_peer (s),
                          strerror (errno));
    }
    return 0;
}

int sub_next (struct sub *s, json_t **obj, aios_error_t *err)
{
    size_t used;
    int rc = frame_decode (s->buf + s->off, s->len - s->off, FRAME_MAX_REPLY,
                           obj, &used, err);

    if (rc <= 0)
        return rc;
    s->off += used;
    if (json_object_get (*obj, "seq") && proto_reply_check (*obj, err) < 0) {
        json_decref (*obj);
        *obj = NULL;
        return -1;
    }
    return 1;
}

static long ms_since (const struct timespec *t0)
{
    struct timespec t;

    clock_gettime (CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

json_t *sub_wait_snapshot (struct sub *s, int timeout_ms, aios_error_t *err)
{
    struct pollfd pfd = { .fd = sub_fd (s), .events = POLLIN };
    struct timespec t0;
    aios_error_t rerr;
    bool closed = false;
    json_t *obj;
    int rc;

    clock_gettime (CLOCK_MONOTONIC, &t0);
    for (;;) {
        while ((rc = sub_next (s, &obj, err)) > 0) {
            if (json_object_get (obj, "seq"))
                return obj;
            json_decref (obj); /* an event before the reply: not ours */
        }
        if (rc < 0)
            return NULL;
        if (closed) {
            *err = rerr;
            return NULL;
        }
        if (ms_since (&t0) >= timeout_ms) {
            errno = ETIMEDOUT;
            errprintf (err, "no reply to \"subscribe\" from aiosctld at %s",
                       sub_peer (s));
            return NULL;
        }
        if (poll (&pfd, 1, timeout_ms - (int)ms_since (&t0)) < 0 && errno != EINTR) {
            errprintf (err, "poll: %s", strerror (errno));
            return NULL;
        }
        closed = sub_read (s, &rerr) < 0;
    }
}
