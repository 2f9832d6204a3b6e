/* listener.c - the node daemon's own TCP endpoint (address:node_port)
 *
 * Tools and peers reach a node here (job steps and aios-exec build on it).
 * Every connection authenticates once with a munge credential in its hello;
 * today it answers "ping" with the node's name and running jobs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <event2/buffer.h>

#include "frame.h"
#include "launch.h"
#include "log.h"
#include "noded.h"
#include "proto.h"

struct peer {
    struct noded *nd;
    struct bufferevent *bev;
    bool authed;
    uid_t uid;
};

static void peer_free (struct peer *p)
{
    bufferevent_free (p->bev);
    free (p);
}

static void peer_send (struct peer *p, json_t *msg)
{
    size_t len;
    char *buf = msg ? frame_encode (msg, FRAME_MAX_REPLY, &len, NULL) : NULL;

    json_decref (msg);
    if (buf)
        bufferevent_write (p->bev, buf, len);
    free (buf);
}

static int peer_hello (struct peer *p, json_t *msg, json_int_t seq)
{
    const char *cred;
    int version;
    gid_t gid;
    aios_error_t err;

    if (json_unpack (msg, "{s:i s:s}", "version", &version, "cred", &cred) < 0) {
        peer_send (p, proto_error (seq, EPERM, "hello: \"version\" and a munge "
                                   "\"cred\" are required"));
        return -1;
    }
    if (version != AIOS_PROTO_VERSION) {
        peer_send (p, proto_error (seq, EPROTO, "protocol version mismatch: "
                                   "client speaks %d, aiosd speaks %d",
                                   version, AIOS_PROTO_VERSION));
        return -1;
    }
    if (auth_decode (p->nd->auth, cred, &p->uid, &gid, NULL, &err) < 0) {
        peer_send (p, proto_error (seq, EPERM, "%s", err.text));
        return -1;
    }
    p->authed = true;
    peer_send (p, json_pack ("{s:I s:i s:s}", "seq", seq, "version",
                             AIOS_PROTO_VERSION, "node", p->nd->name));
    return 0;
}

static void peer_read_cb (struct bufferevent *bev, void *arg)
{
    struct peer *p = arg;
    struct evbuffer *in = bufferevent_get_input (bev);

    for (;;) {
        json_t *msg = NULL;
        aios_error_t err;
        const char *op = NULL;
        json_int_t seq = -1;
        int rc = frame_evbuffer_next (in, FRAME_MAX_REQUEST, &msg, &err);

        if (rc == 0)
            return;
        if (rc < 0) {
            peer_send (p, proto_error (-1, errno, "%s", err.text));
            peer_free (p);
            return;
        }
        json_unpack (msg, "{s?I s?s}", "seq", &seq, "op", &op);
        if (!op)
            peer_send (p, proto_error (seq, EPROTO, "request has no \"op\""));
        else if (!p->authed) {
            if (strcmp (op, "hello") != 0 || peer_hello (p, msg, seq) < 0) {
                if (strcmp (op, "hello") != 0)
                    peer_send (p, proto_error (seq, EPROTO, "expected hello "
                                               "before \"%s\"", op));
                json_decref (msg);
                bufferevent_disable (bev, EV_READ);
                return;
            }
        }
        else if (!strcmp (op, "ping"))
            peer_send (p, json_pack ("{s:I s:s s:o}", "seq", seq, "node",
                                     p->nd->name, "running",
                                     launch_running_ids (p->nd)));
        else
            peer_send (p, proto_error (seq, ENOSYS, "unknown operation \"%s\"", op));
        json_decref (msg);
    }
}

static void peer_event_cb (struct bufferevent *bev, short what, void *arg)
{
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        peer_free (arg);
}

static void accept_cb (struct evconnlistener *l, evutil_socket_t fd,
                       struct sockaddr *sa, int len, void *arg)
{
    struct noded *nd = arg;
    struct peer *p = calloc (1, sizeof (*p));

    if (!p || !(p->bev = bufferevent_socket_new (nd->base, fd,
                                                 BEV_OPT_CLOSE_ON_FREE))) {
        free (p);
        evutil_closesocket (fd);
        return;
    }
    p->nd = nd;
    bufferevent_setcb (p->bev, peer_read_cb, NULL, peer_event_cb, p);
    bufferevent_enable (p->bev, EV_READ | EV_WRITE);
}

int ctlconn_listen (struct noded *nd, aios_error_t *err)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };

    sin.sin_port = htons ((uint16_t)nd->conf->node_port);
    if (inet_pton (AF_INET, nd->cnode->address, &sin.sin_addr) != 1) {
        errno = EINVAL;
        return errprintf (err, "node %s: address %s is not an IPv4 address",
                          nd->name, nd->cnode->address);
    }
    nd->lsn = evconnlistener_new_bind (nd->base, accept_cb, nd,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE
                                           | LEV_OPT_CLOSE_ON_EXEC,
                                       128, (struct sockaddr *)&sin, sizeof (sin));
    if (!nd->lsn)
        return errprintf (err, "cannot listen on %s:%d: %s", nd->cnode->address,
                          nd->conf->node_port, strerror (errno));
    return 0;
}
