/* client.h - blocking client of aiosctld, used by every tool
 *
 * Connects to the controller's Unix socket ($AIOS_SOCKET, else the config's
 * controller.socket) where the peer is identified by SO_PEERCRED, or over
 * TCP to controller.address:port with a munge credential in the hello when
 * the socket does not exist on this host or AIOS_SOCKET=tcp.
 */
#ifndef AIOS_CLIENT_H
#define AIOS_CLIENT_H

#include <jansson.h>
#include "conf.h"
#include "errprintf.h"

struct aios_client;

/* conf may be NULL when AIOS_SOCKET names a Unix socket.  Performs the
 * hello exchange.  NULL with err on failure. */
struct aios_client *aios_client_connect (const struct aios_conf *conf,
                                         aios_error_t *err);
void aios_client_close (struct aios_client *c);

/* Connect to a node daemon (node: a name or address from conf) over TCP,
 * with a munge credential in the hello. */
struct aios_client *aios_client_connect_node (const struct aios_conf *conf,
                                              const char *node,
                                              aios_error_t *err);
/* The socket, to poll on. */
int aios_client_fd (const struct aios_client *c);

/* Send req (reference stolen; "seq" is set here) and wait for its reply.
 * Returns the reply (caller decrefs), or NULL with err: an error reply's
 * errstr verbatim, or a transport error. */
json_t *aios_client_rpc (struct aios_client *c, json_t *req, aios_error_t *err);

/* Send without waiting; then aios_client_recv() the reply. */
int aios_client_send (struct aios_client *c, json_t *req, aios_error_t *err);
json_t *aios_client_recv (struct aios_client *c, aios_error_t *err);

/* What the controller said in the hello. Borrowed. */
const char *aios_client_cluster (const struct aios_client *c);
const char *aios_client_user (const struct aios_client *c);
/* Where we connected, for messages ("/path/sock" or "host:port"). */
const char *aios_client_peer (const struct aios_client *c);

#endif
