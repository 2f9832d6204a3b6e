/* proto.h - AIOS protocol messages
 *
 * Every frame is a JSON object.
 *   request:  {"op": NAME, "seq": N, ...fields}
 *   reply:    {"seq": N, ...fields}  or  {"seq": N, "errnum": E, "errstr": S}
 *
 * The first request on a connection is "hello":
 *   {"op":"hello","seq":0,"version":AIOS_PROTO_VERSION,"role":"client"|"node",
 *    "node": NAME (role node), "cred": MUNGE (TCP only), "nonce": STRING}
 * and its reply carries {"version", "cluster", "uid", "user"} and, for a node,
 * "cred": a munge credential from the controller whose payload is the nonce,
 * so the node knows it talks to the real controller.
 *
 * Client ops (to aiosctld): submit, cancel, queue, nodes, wait, ping.
 * Node ops (aiosd -> aiosctld): register, heartbeat, complete.
 * Controller ops (aiosctld -> aiosd): launch, signal, terminate.  The
 * controller acknowledges a node's "complete" with a reply carrying its "id".
 */
#ifndef AIOS_PROTO_H
#define AIOS_PROTO_H

#include <jansson.h>
#include "errprintf.h"

#define AIOS_PROTO_VERSION 1

/* Build an error reply for seq.  Returns a new object (NULL on ENOMEM). */
json_t *proto_error (json_int_t seq, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Build a request {"op", "seq"} to which fields are added. */
json_t *proto_request (const char *op, json_int_t seq);

/* If reply is an error reply, copy errstr into err, set errno from errnum and
 * return -1; else 0. */
int proto_reply_check (const json_t *reply, aios_error_t *err);

/* json_unpack_ex() wrapper: on failure err = "WHAT: <jansson's text>",
 * errno = EPROTO, returns -1. */
int proto_unpack (json_t *obj, aios_error_t *err, const char *what,
                  const char *fmt, ...);

#endif
