/* sub.h - aios-top's subscription to the controller's event stream
 *
 * sub_connect() connects (the blocking hello of lib/client.c) and sends
 * {"op":"subscribe"}; from then on the socket is read without blocking:
 * sub_read() takes what has arrived and sub_next() hands out the frames
 * that are complete, the snapshot (the reply, with a "seq") first and then
 * the pushed events (no "seq").
 */
#ifndef AIOS_TOP_SUB_H
#define AIOS_TOP_SUB_H

#include <jansson.h>

#include "errprintf.h"

struct sub;

/* NULL with err when the controller cannot be reached. */
struct sub *sub_connect (aios_error_t *err);
void sub_destroy (struct sub *s);

/* The socket, to poll for reading. */
int sub_fd (const struct sub *s);
/* Where it is connected, for messages.  Borrowed. */
const char *sub_peer (const struct sub *s);

/* Read what the socket holds (up to a bound: poll again for more).  -1
 * with err when the connection closed or failed; the frames read before
 * are still there for sub_next(), then destroy the sub. */
int sub_read (struct sub *s, aios_error_t *err);

/* The next complete frame: 1 with *obj (caller decrefs), 0 when none is
 * complete, -1 with err for a broken stream or an error reply (the
 * controller's errstr verbatim). */
int sub_next (struct sub *s, json_t **obj, aios_error_t *err);

/* Wait (blocking, up to timeout_ms) for the snapshot; caller decrefs. */
json_t *sub_wait_snapshot (struct sub *s, int timeout_ms, aios_error_t *err);

#endif
