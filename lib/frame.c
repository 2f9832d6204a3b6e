/* frame.c - the AIOS wire frame: 4-byte big-endian length + one JSON object */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <event2/buffer.h>

#include "frame.h"

char *frame_encode (const json_t *obj, size_t max, size_t *len, aios_error_t *err)
{
    char *body;
    char *buf;
    size_t n;
    uint32_t be;

    if (!obj || !json_is_object (obj) || !len) {
        errno = EINVAL;
        errprintf (err, "frame: not a JSON object");
        return NULL;
    }
    if (!(body = json_dumps (obj, JSON_COMPACT))) {
        errno = ENOMEM;
        errprintf (err, "frame: cannot encode JSON");
        return NULL;
    }
    n = strlen (body);
    if (n > max) {
        free (body);
        errno = E2BIG;
        errprintf (err, "frame: %zu bytes exceeds the limit of %zu", n, max);
        return NULL;
    }
    if (!(buf = malloc (FRAME_HEADER + n))) {
        free (body);
        errno = ENOMEM;
        errprintf (err, "frame: out of memory");
        return NULL;
    }
    be = htonl ((uint32_t)n);
    memcpy (buf, &be, FRAME_HEADER);
    memcpy (buf + FRAME_HEADER, body, n);
    free (body);
    *len = FRAME_HEADER + n;
    return buf;
}

int frame_decode (const char *buf, size_t avail, size_t max,
                  json_t **obj, size_t *consumed, aios_error_t *err)
{
    uint32_t be;
    size_t n;
    json_t *o;
    json_error_t jerr;

    if (avail < FRAME_HEADER)
        return 0;
    memcpy (&be, buf, FRAME_HEADER);
    n = ntohl (be);
    if (n > max) {
        errno = EMSGSIZE;
        return errprintf (err, "frame of %zu bytes exceeds the limit of %zu", n, max);
    }
    if (n == 0) {
        errno = EPROTO;
        return errprintf (err, "empty frame: expected a JSON object");
    }
    if (avail - FRAME_HEADER < n)
        return 0;
    if (!(o = json_loadb (buf + FRAME_HEADER, n, JSON_REJECT_DUPLICATES, &jerr))) {
        errno = EPROTO;
        return errprintf (err, "malformed frame: %s at byte %d", jerr.text, jerr.position);
    }
    if (!json_is_object (o)) {
        json_decref (o);
        errno = EPROTO;
        return errprintf (err, "malformed frame: expected a JSON object");
    }
    *obj = o;
    *consumed = FRAME_HEADER + n;
    return 1;
}

int frame_evbuffer_next (struct evbuffer *in, size_t max, json_t **obj,
                         aios_error_t *err)
{
    char hdr[FRAME_HEADER];
    uint32_t be;
    size_t n, consumed;
    unsigned char *p;
    int rc;

    if (evbuffer_copyout (in, hdr, sizeof (hdr)) < (ssize_t)sizeof (hdr))
        return 0;
    memcpy (&be, hdr, sizeof (be));
    n = ntohl (be);
    if (n > max) /* refused from the header: nothing more is read */
        return frame_decode (hdr, sizeof (hdr), max, obj, &consumed, err);
    if (evbuffer_get_length (in) < FRAME_HEADER + n)
        return 0;
    if (!(p = evbuffer_pullup (in, (ssize_t)(FRAME_HEADER + n)))) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    rc = frame_decode ((const char *)p, FRAME_HEADER + n, max, obj, &consumed, err);
    if (rc > 0)
        evbuffer_drain (in, consumed);
    return rc;
}

static int write_all (int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write (fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Returns 1 when len bytes were read, 0 on EOF before any byte, -1 on error. */
static int read_all (int fd, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = read (fd, buf + got, len - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            if (got == 0)
                return 0;
            errno = EPROTO;
            return -1;
        }
        got += (size_t)r;
    }
    return 1;
}

int frame_write_fd (int fd, const json_t *obj, size_t max, aios_error_t *err)
{
    size_t len;
    char *buf = frame_encode (obj, max, &len, err);
    int rc;

    if (!buf)
        return -1;
    rc = write_all (fd, buf, len);
    free (buf);
    if (rc < 0)
        return errprintf (err, "write: %s", strerror (errno));
    return 0;
}

json_t *frame_read_fd (int fd, size_t max, aios_error_t *err)
{
    char hdr[FRAME_HEADER];
    uint32_t be;
    size_t n, consumed;
    char *buf;
    json_t *obj = NULL;
    int rc;

    rc = read_all (fd, hdr, sizeof (hdr));
    if (rc == 0) {
        errno = ECONNRESET;
        errprintf (err, "connection closed by peer");
        return NULL;
    }
    if (rc < 0) {
        errprintf (err, "read: %s", strerror (errno));
        return NULL;
    }
    memcpy (&be, hdr, sizeof (be));
    n = ntohl (be);
    if (n > max) {
        errno = EMSGSIZE;
        errprintf (err, "frame of %zu bytes exceeds the limit of %zu", n, max);
        return NULL;
    }
    if (!(buf = malloc (FRAME_HEADER + n + 1))) {
        errno = ENOMEM;
        errprintf (err, "out of memory");
        return NULL;
    }
    memcpy (buf, hdr, FRAME_HEADER);
    if (n > 0 && read_all (fd, buf + FRAME_HEADER, n) != 1) {
        errprintf (err, "read: truncated frame");
        free (buf);
        errno = EPROTO;
        return NULL;
    }
    rc = frame_decode (buf, FRAME_HEADER + n, max, &obj, &consumed, err);
    free (buf);
    if (rc <= 0) {
        if (rc == 0)
            errno = EPROTO;
        return NULL;
    }
    return obj;
}
