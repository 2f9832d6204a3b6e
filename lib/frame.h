/* frame.h - the AIOS wire frame
 *
 * A frame is a 4-byte big-endian length followed by that many bytes holding
 * exactly one JSON object.  The length is checked against a bound before
 * anything is allocated; the object must span the whole frame (no trailing
 * bytes).
 */
#ifndef AIOS_FRAME_H
#define AIOS_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "errprintf.h"

#define FRAME_HEADER 4
/* Requests to daemons (a job script and its environment fit easily). */
#define FRAME_MAX_REQUEST (4u * 1024 * 1024)
/* Replies to tools (a queue listing of many jobs). */
#define FRAME_MAX_REPLY (256u * 1024 * 1024)

/* Encode obj.  Returns a malloc'd buffer (caller frees) holding header and
 * body, and its size in *len.  NULL + errno on error (ENOMEM, E2BIG when the
 * body exceeds max). */
char *frame_encode (const json_t *obj, size_t max, size_t *len, aios_error_t *err);

/* Try to decode one frame from buf[0..avail).
 *   returns 1: *obj is a new reference, *consumed bytes used;
 *   returns 0: incomplete, read more (nothing allocated);
 *   returns -1: errno EPROTO (bad frame) or EMSGSIZE (length over max),
 *               err says what was wrong.  The stream cannot be resynced.
 */
int frame_decode (const char *buf, size_t avail, size_t max,
                  json_t **obj, size_t *consumed, aios_error_t *err);

/* Take the next whole frame off a libevent input buffer (event loops).
 * Same returns as frame_decode(); on 1 the frame is drained from in.  Only
 * the frame itself is made contiguous, and an oversize length is refused
 * from its header alone. */
struct evbuffer;
int frame_evbuffer_next (struct evbuffer *in, size_t max, json_t **obj,
                         aios_error_t *err);

/* Blocking helpers for tools and tests on a plain fd.
 * frame_read returns NULL with errno ECONNRESET at a clean EOF. */
int frame_write_fd (int fd, const json_t *obj, size_t max, aios_error_t *err);
json_t *frame_read_fd (int fd, size_t max, aios_error_t *err);

#endif
