/* conn.c - one connection to the controller (a tool or a node daemon) */
#include <errno.h>
#include <time.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/buffer.h>

#include "conn.h"
#include "ctld.h"
#include "frame.h"
#include "log.h"
#include "nodes.h"
#include "proto.h"
#include "store.h"

static void conn_read_cb (struct bufferevent *bev, void *arg);
static void conn_event_cb (struct bufferevent *bev, short what, void *arg);
static void conn_write_cb (struct bufferevent *bev, void *arg);

static void unlink_conn (struct conn *c)
{
    struct ctld *ctld = c->ctld;

    if (c->prev)
        c->prev->next = c->next;
    else if (ctld->conns == c)
        ctld->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

void conn_destroy (struct conn *c)
{
    int saved = errno;

    if (c) {
        if (c->node) {
            c->node->conn = NULL;
            nodeops_conn_closed (c->ctld, c->node);
        }
        events_unsubscribe (c);
        unlink_conn (c);
        if (c->bev)
            bufferevent_free (c->bev);
        json_decref (c->held);
        json_decref (c->waits);
        free (c);
    }
    errno = saved;
}

static void set_user (struct conn *c)
{
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (getpwuid_r (c->uid, &pw, buf, sizeof (buf), &res) == 0 && res)
        snprintf (c->user, sizeof (c->user), "%s", pw.pw_name);
    else
        snprintf (c->user, sizeof (c->user), "%u", (unsigned)c->uid);
}

struct conn *conn_create (struct ctld *ctld, int fd, bool tcp)
{
    struct conn *c = calloc (1, sizeof (*c));

    if (!c) {
        close (fd);
        return NULL;
    }
    c->ctld = ctld;
    c->tcp = tcp;
    if (!(c->held = json_array ()) || !(c->waits = json_object ())) {
        close (fd);
        goto error;
    }
    if (!tcp) {
        struct ucred cred;
        socklen_t len = sizeof (cred);
        if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
            log_err ("SO_PEERCRED: %s", strerror (errno));
            close (fd);
            goto error;
        }
        c->uid = cred.uid;
        c->gid = cred.gid;
        set_user (c);
        snprintf (c->peer, sizeof (c->peer), "pid %d uid %u", (int)cred.pid,
                  (unsigned)cred.uid);
    }
    else
        snprintf (c->peer, sizeof (c->peer), "tcp fd %d", fd);
    c->bev = bufferevent_socket_new (ctld->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        close (fd);
        goto error;
    }
    bufferevent_setcb (c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_enable (c->bev, EV_READ | EV_WRITE);
    c->next = ctld->conns;
    if (ctld->conns)
        ctld->conns->prev = c;
    ctld->conns = c;
    return c;
error:
    conn_destroy (c);
    return NULL;
}

int conn_send (struct conn *c, json_t *msg)
{
    aios_error_t err;
    size_t len;
    char *buf;

    if (!msg)
        return -1;
    buf = frame_encode (msg, FRAME_MAX_REPLY, &len, &err);
    json_decref (msg);
    if (!buf) {
        log_err ("%s: %s", c->peer, err.text);
        return -1;
    }
    if (bufferevent_write (c->bev, buf, len) < 0) {
        free (buf);
        return -1;
    }
    free (buf);
    return 0;
}

int conn_send_committed (struct conn *c, json_t *msg)
{
    if (!msg)
        return -1;
    if (!store_dirty (c->ctld->store))
        return conn_send (c, msg);
    return json_array_append_new (c->held, msg);
}

void conn_flush_held (struct conn *c)
{
    size_t i;
    json_t *msg;

    if (json_array_size (c->held) == 0)
        return;
    json_array_foreach (c->held, i, msg)
        conn_send (c, json_incref (msg));
    json_array_clear (c->held);
}

void conn_error (struct conn *c, json_int_t seq, int errnum, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start (ap, fmt);
    vsnprintf (text, sizeof (text), fmt, ap);
    va_end (ap);
    conn_send (c, proto_error (seq, errnum, "%s", text));
}

bool conn_is_privileged (const struct conn *c)
{
    return c->uid == 0 || c->uid == c->ctld->daemon_uid
        || conf_is_operator (c->ctld->conf, c->user);
}

/* --- hello ---------------------------------------------------------------- */

static int hello_auth_tcp (struct conn *c, json_t *req, json_int_t seq)
{
    const char *cred = NULL;
    char *payload = NULL;
    aios_error_t err;

    if (json_unpack (req, "{s:s}", "cred", &cred) < 0) {
        conn_error (c, seq, EPERM, "authentication required: a munge "
                                   "credential is needed over TCP");
        return -1;
    }
    if (auth_decode (c->ctld->auth, cred, &c->uid, &c->gid, &payload, &err) < 0) {
        conn_error (c, seq, EPERM, "%s", err.text);
        return -1;
    }
    free (payload);
    set_user (c);
    return 0;
}

static int hello_node (struct conn *c, json_t *req, json_int_t seq, json_t *rep)
{
    const char *name = NULL, *nonce = NULL;
    struct node *n;
    char *cred;
    aios_error_t err;

    if (json_unpack (req, "{s:s s:s}", "node", &name, "nonce", &nonce) < 0) {
        conn_error (c, seq, EPROTO, "hello: a node must give \"node\" and \"nonce\"");
        return -1;
    }
    if (!c->tcp || c->uid != c->ctld->daemon_uid) {
        conn_error (c, seq, EPERM, "node %s: only user %s may register nodes "
                    "over munge-authenticated TCP", name, c->ctld->conf->daemon_user);
        return -1;
    }
    if (!(n = nodetab_lookup (c->ctld->nodes, name))) {
        conn_error (c, seq, ENOENT, "node %s is not in the configuration %s",
                    name, c->ctld->conf_path);
        return -1;
    }
    if (n->conn) {
        conn_error (c, seq, EEXIST, "node %s is already connected (%s)", name,
                    n->conn->peer);
        return -1;
    }
    if (!(cred = auth_encode (c->ctld->auth, nonce, &err))) {
        conn_error (c, seq, EPERM, "%s", err.text);
        return -1;
    }
    json_object_set_new (rep, "cred", json_string (cred));
    free (cred);
    c->node = n;
    n->conn = c;
    snprintf (c->peer, sizeof (c->peer), "node %s", name);
    c->role = CONN_NODE;
    return 0;
}

static int hello (struct conn *c, json_t *req, json_int_t seq)
{
    int version;
    const char *role;
    json_t *rep;

    if (proto_unpack (req, NULL, "", "{s:i s:s}", "version", &version, "role",
                      &role) < 0) {
        conn_error (c, seq, EPROTO, "hello: expected \"version\" (integer) and "
                                    "\"role\" (string)");
        return -1;
    }
    if (version != AIOS_PROTO_VERSION) {
        conn_error (c, seq, EPROTO, "protocol version mismatch: client speaks "
                    "%d, aiosctld speaks %d", version, AIOS_PROTO_VERSION);
        return -1;
    }
    if (c->tcp && hello_auth_tcp (c, req, seq) < 0)
        return -1;
    rep = json_pack ("{s:I s:i s:s s:i s:s}", "seq", seq, "version",
                     AIOS_PROTO_VERSION, "cluster", c->ctld->conf->cluster,
                     "uid", (int)c->uid, "user", c->user);
    if (!rep)
        return -1;
    if (!strcmp (role, "node")) {
        if (hello_node (c, req, seq, rep) < 0) {
            json_decref (rep);
            return -1;
        }
    }
    else if (!strcmp (role, "client"))
        c->role = CONN_CLIENT;
    else {
        json_decref (rep);
        conn_error (c, seq, EPROTO, "hello: unknown role \"%s\" (expected "
                    "client or node)", role);
        return -1;
    }
    return conn_send (c, rep);
}

/* --- dispatch ------------------------------------------------------------- */

void conn_close (struct conn *c)
{
    c->closing = true;
    bufferevent_disable (c->bev, EV_READ);
    if (evbuffer_get_length (bufferevent_get_output (c->bev)) == 0)
        conn_destroy (c);
}

/* Returns -1 when the connection must be closed. */
static int dispatch (struct conn *c, json_t *msg)
{
    json_t *seqv = json_object_get (msg, "seq");
    json_t *opv = json_object_get (msg, "op");
    json_int_t seq = json_is_integer (seqv) ? json_integer_value (seqv) : -1;
    const char *op;
    op_f fn;

    if (!opv && json_is_integer (seqv) && c->role == CONN_NODE) {
        /* a node's reply to something we sent */
        json_t *e = json_object_get (msg, "errstr");
        if (e)
            log_warn ("%s: %s", c->peer, json_string_value (e));
        return 0;
    }
    if (!json_is_integer (seqv)) {
        conn_error (c, -1, EPROTO, "request has no integer \"seq\"");
        return -1;
    }
    if (!json_is_string (opv)) {
        conn_error (c, seq, EPROTO, "request has no string \"op\"");
        return 0;
    }
    op = json_string_value (opv);
    c->ctld->rpcs++;
    if (c->role == CONN_NEW) {
        if (strcmp (op, "hello") != 0) {
            conn_error (c, seq, EPROTO, "expected hello before \"%s\"", op);
            return -1;
        }
        return hello (c, msg, seq);
    }
    fn = c->role == CONN_NODE ? ops_node_lookup (op) : ops_client_lookup (op);
    if (!fn) {
        conn_error (c, seq, ENOSYS, "unknown operation \"%s\"", op);
        return 0;
    }
    {
        struct timespec a, b;
        double dt;
        struct ctld *ctld = c->ctld;
        clock_gettime (CLOCK_MONOTONIC, &a);
        fn (c, msg, seq);   /* c may be gone now: use ctld */
        clock_gettime (CLOCK_MONOTONIC, &b);
        dt = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        ctld->rpc_seconds += dt;
        if (dt > ctld->rpc_seconds_max)
            ctld->rpc_seconds_max = dt;
    }
    return 0;
}

static void conn_read_cb (struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input (bev);

    while (!c->closing) {
        json_t *msg = NULL;
        aios_error_t err;
        int rc = frame_evbuffer_next (in, FRAME_MAX_REQUEST, &msg, &err);

        if (rc == 0)
            return;
        if (rc < 0) {
            log_warn ("%s: %s", c->peer, err.text);
            conn_error (c, -1, errno, "%s", err.text);
            conn_close (c);
            return;
        }
        rc = dispatch (c, msg);
        json_decref (msg);
        if (rc < 0) {
            conn_close (c);
            return;
        }
    }
}

static void conn_write_cb (struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    if (c->closing && evbuffer_get_length (bufferevent_get_output (bev)) == 0)
        conn_destroy (c);
}

static void conn_event_cb (struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (c->role == CONN_NODE)
            log_info ("%s: connection closed", c->peer);
        conn_destroy (c);
    }
}
