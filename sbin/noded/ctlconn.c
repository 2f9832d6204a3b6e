/* ctlconn.c - the node daemon's connection to the controller
 *
 * connect -> hello (munge credential, nonce) -> check the controller's
 * credential (uid = controller.user, payload = our nonce) -> register with
 * CPUs, memory, running jobs and unacknowledged completions -> resend those
 * completions -> heartbeat.  Any failure closes the connection and retries
 * with a growing delay (at most 5 s).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <event2/buffer.h>

#include "frame.h"
#include "launch.h"
#include "log.h"
#include "noded.h"
#include "proto.h"
#include "spool.h"

static void ctl_read_cb (struct bufferevent *bev, void *arg);
static void ctl_event_cb (struct bufferevent *bev, short what, void *arg);

static void schedule_reconnect (struct noded *nd)
{
    struct timeval tv;

    if (nd->backoff < 0.1)
        nd->backoff = 0.1;
    tv.tv_sec = (time_t)nd->backoff;
    tv.tv_usec = (suseconds_t)((nd->backoff - (double)tv.tv_sec) * 1e6);
    evtimer_add (nd->reconnect_ev, &tv);
    nd->backoff = nd->backoff * 2 > 5 ? 5 : nd->backoff * 2;
}

static void ctl_drop (struct noded *nd, const char *why)
{
    if (nd->ctl_state == CTL_UP || why)
        log_warn ("controller connection lost%s%s", why ? ": " : "",
                  why ? why : "");
    if (nd->ctl) {
        bufferevent_free (nd->ctl);
        nd->ctl = NULL;
    }
    evtimer_del (nd->heartbeat_ev);
    nd->ctl_state = CTL_DOWN;
    schedule_reconnect (nd);
}

static int ctl_send (struct noded *nd, json_t *msg)
{
    aios_error_t err;
    size_t len;
    char *buf;

    if (!msg)
        return -1;
    if (!nd->ctl) {
        json_decref (msg);
        return -1;
    }
    buf = frame_encode (msg, FRAME_MAX_REQUEST, &len, &err);
    json_decref (msg);
    if (!buf) {
        log_err ("%s", err.text);
        return -1;
    }
    bufferevent_write (nd->ctl, buf, len);
    free (buf);
    return 0;
}

static void connect_cb (evutil_socket_t fd, short what, void *arg)
{
    struct noded *nd = arg;
    struct sockaddr_in sin = { .sin_family = AF_INET };

    sin.sin_port = htons ((uint16_t)nd->conf->ctl_port);
    if (inet_pton (AF_INET, nd->conf->ctl_address, &sin.sin_addr) != 1) {
        log_err ("controller.address %s: not an IPv4 address",
                 nd->conf->ctl_address);
        schedule_reconnect (nd);
        return;
    }
    nd->ctl = bufferevent_socket_new (nd->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!nd->ctl) {
        schedule_reconnect (nd);
        return;
    }
    bufferevent_setcb (nd->ctl, ctl_read_cb, NULL, ctl_event_cb, nd);
    bufferevent_enable (nd->ctl, EV_READ | EV_WRITE);
    nd->ctl_state = CTL_CONNECTING;
    if (bufferevent_socket_connect (nd->ctl, (struct sockaddr *)&sin,
                                    sizeof (sin)) < 0)
        ctl_drop (nd, NULL);
}

static void send_hello (struct noded *nd)
{
    aios_error_t err;
    char *cred;
    json_t *msg;

    if (auth_nonce (nd->nonce) < 0) {
        ctl_drop (nd, "cannot make a nonce");
        return;
    }
    if (!(cred = auth_encode (nd->auth, nd->nonce, &err))) {
        log_err ("%s", err.text);
        ctl_drop (nd, NULL);
        return;
    }
    msg = json_pack ("{s:s s:I s:i s:s s:s s:s s:s}", "op", "hello", "seq",
                     nd->seq++, "version", AIOS_PROTO_VERSION, "role", "node",
                     "node", nd->name, "nonce", nd->nonce, "cred", cred);
    free (cred);
    nd->ctl_state = CTL_HELLO;
    ctl_send (nd, msg);
}

struct scan {
    json_t *completed;
    json_t *recs;
};

static void scan_completed_cb (uint64_t id, json_t *rec, json_t *exited, pid_t pid,
                               void *arg)
{
    struct scan *s = arg;

    if (!rec)
        return;
    json_array_append_new (s->completed, json_integer ((json_int_t)id));
    json_array_append (s->recs, rec);
}

static void send_register (struct noded *nd)
{
    struct scan s = { json_array (), json_array () };
    aios_error_t err;
    size_t i;
    json_t *rec, *running = launch_running_ids (nd), *msg;

    if (spool_scan (nd->spool_dir, scan_completed_cb, &s, &err) < 0)
        log_err ("%s", err.text);
    if (running)
        stage_add_running (nd, running); /* their completion is to come */
    msg = json_pack ("{s:s s:I s:i s:I s:i s:o s:O}", "op", "register", "seq",
                     nd->seq++, "cpus", nd->cpus, "memory_mb",
                     (json_int_t)nd->mem_mb, "gpus", nd->gpus, "running",
                     running, "completed", s.completed);
    if (msg)
        stage_register_info (nd, msg); /* what the node cache holds */
    ctl_send (nd, msg);
    nd->ctl_state = CTL_REGISTER;
    /* completions the controller has not acknowledged yet */
    json_array_foreach (s.recs, i, rec) {
        json_object_set_new (rec, "seq", json_integer (nd->seq++));
        ctl_send (nd, json_incref (rec));
    }
    json_decref (s.completed);
    json_decref (s.recs);
}

void ctlconn_send_completion (struct noded *nd, json_t *rec)
{
    ctlconn_send (nd, json_deep_copy (rec)); /* else with the next register */
}

void ctlconn_send (struct noded *nd, json_t *msg)
{
    if (!msg)
        return;
    if (nd->ctl_state != CTL_UP && nd->ctl_state != CTL_REGISTER) {
        json_decref (msg);
        return;
    }
    json_object_set_new (msg, "seq", json_integer (nd->seq++));
    ctl_send (nd, msg);
}

static void heartbeat_cb (evutil_socket_t fd, short what, void *arg)
{
    struct noded *nd = arg;

    ctl_send (nd, json_pack ("{s:s s:I}", "op", "heartbeat", "seq", nd->seq++));
}

/* --- messages from the controller ----------------------------------------- */

static int check_hello_reply (struct noded *nd, json_t *msg)
{
    const char *cred = NULL;
    char *payload = NULL;
    uid_t uid;
    gid_t gid;
    aios_error_t err;
    int ok;

    if (proto_reply_check (msg, &err) < 0) {
        log_err ("controller refused us: %s", err.text);
        return -1;
    }
    if (json_unpack (msg, "{s:s}", "cred", &cred) < 0) {
        log_err ("controller did not prove itself (no credential in hello)");
        return -1;
    }
    if (auth_decode (nd->auth, cred, &uid, &gid, &payload, &err) < 0) {
        log_err ("controller credential: %s", err.text);
        return -1;
    }
    ok = uid == nd->daemon_uid && !strcmp (payload, nd->nonce);
    if (!ok)
        log_err ("controller credential rejected: uid %u (expected %u) or "
                 "nonce mismatch", (unsigned)uid, (unsigned)nd->daemon_uid);
    free (payload);
    return ok ? 0 : -1;
}

static void on_register_reply (struct noded *nd, json_t *msg)
{
    aios_error_t err;
    int hb = nd->conf->heartbeat_interval;
    struct timeval tv;

    if (proto_reply_check (msg, &err) < 0) {
        log_err ("registration refused: %s", err.text);
        ctl_drop (nd, NULL);
        return;
    }
    json_unpack (msg, "{s?i}", "heartbeat_interval", &hb);
    tv.tv_sec = hb > 0 ? hb : 1;
    tv.tv_usec = 0;
    event_del (nd->heartbeat_ev);
    event_assign (nd->heartbeat_ev, nd->base, -1, EV_PERSIST, heartbeat_cb, nd);
    evtimer_add (nd->heartbeat_ev, &tv);
    nd->ctl_state = CTL_UP;
    nd->backoff = 0.1;
    log_info ("registered with the controller at %s:%d",
              nd->conf->ctl_address, nd->conf->ctl_port);
}

static void on_reply (struct noded *nd, json_t *msg)
{
    json_int_t id;
    aios_error_t err;

    if (nd->ctl_state == CTL_REGISTER && !json_object_get (msg, "id")) {
        on_register_reply (nd, msg);
        return;
    }
    if (proto_reply_check (msg, &err) < 0) {
        log_warn ("controller: %s", err.text);
        if (errno == ENOTCONN)
            ctl_drop (nd, "controller asked us to register again");
        return;
    }
    if (json_unpack (msg, "{s:I}", "id", &id) == 0)
        spool_job_remove (nd->spool_dir, (uint64_t)id); /* completion acked */
}

/* {"id":N,"time_limit":SECONDS}: a running job's new time limit
 * (aios-control update TimeLimit=). */
static void on_limit (struct noded *nd, json_t *msg, json_int_t seq)
{
    json_int_t id, limit;

    if (json_unpack (msg, "{s:I s:I}", "id", &id, "time_limit", &limit) < 0) {
        ctl_send (nd, proto_error (seq, EPROTO, "limit: expected integers \"id\" "
                                   "and \"time_limit\""));
        return;
    }
    if (launch_set_limit (nd, (uint64_t)id, (long)limit) < 0 && errno != ENOENT)
        log_err ("job %ju: cannot set its time limit: %s", (uintmax_t)id,
                 strerror (errno));
}

static void on_request (struct noded *nd, const char *op, json_t *msg,
                        json_int_t seq)
{
    aios_error_t err;
    json_int_t id = 0, sig = 0;
    json_t *job;

    if (!strcmp (op, "launch") && json_unpack (msg, "{s:o}", "job", &job) == 0) {
        if (launch_job (nd, job, &err) < 0)
            ctl_send (nd, proto_error (seq, EPROTO, "%s", err.text));
        else if (listener_alloc (nd, job) < 0)
            log_err ("launch: cannot record the allocation");
        return;
    }
    if (!strcmp (op, "alloc") && json_unpack (msg, "{s:o}", "job", &job) == 0) {
        if (stage_job_prepare (nd, job, &err) < 0)
            log_warn ("alloc: %s", err.text);
        if (listener_alloc (nd, job) < 0)
            ctl_send (nd, proto_error (seq, EPROTO, "alloc: malformed job"));
        return;
    }
    if (!strcmp (op, "stage") || !strcmp (op, "prefetch")) {
        stage_request (nd, msg, op[0] == 'p');
        return;
    }
    if (!strcmp (op, "limit")) {
        on_limit (nd, msg, seq);
        return;
    }
    if (json_unpack (msg, "{s:I s?I}", "id", &id, "signal", &sig) < 0) {
        ctl_send (nd, proto_error (seq, EPROTO, "%s: expected integer \"id\"", op));
        return;
    }
    if (!strcmp (op, "terminate"))
        launch_terminate (nd, (uint64_t)id);
    else if (!strcmp (op, "release")) {
        listener_release (nd, (uint64_t)id);
        stage_release (nd, (uint64_t)id);
    }
    else if (!strcmp (op, "signal"))
        launch_signal (nd, (uint64_t)id, (int)sig);
    else if (!strcmp (op, "signal_shell") && sig > 0 && sig < NSIG)
        launch_signal_shell (nd, (uint64_t)id, (int)sig);
    else if (!strcmp (op, "signal_steps") && sig > 0 && sig < NSIG)
        listener_signal (nd, (uint64_t)id, (int)sig);
    else
        ctl_send (nd, proto_error (seq, ENOSYS, "unknown operation \"%s\"", op));
}

static void ctl_read_cb (struct bufferevent *bev, void *arg)
{
    struct noded *nd = arg;
    struct evbuffer *in = bufferevent_get_input (bev);

    while (nd->ctl) {
        json_t *msg = NULL;
        aios_error_t err;
        const char *op;
        json_int_t seq = -1;
        /* a launch carries a whole submitted request and more */
        int rc = frame_evbuffer_next (in, FRAME_MAX_REPLY, &msg, &err);

        if (rc == 0)
            return;
        if (rc < 0) {
            ctl_drop (nd, err.text);
            return;
        }
        json_unpack (msg, "{s?I}", "seq", &seq);
        if (nd->ctl_state == CTL_HELLO) {
            if (check_hello_reply (nd, msg) < 0)
                ctl_drop (nd, NULL);
            else
                send_register (nd);
        }
        else if (json_unpack (msg, "{s:s}", "op", &op) == 0)
            on_request (nd, op, msg, seq);
        else
            on_reply (nd, msg);
        json_decref (msg);
    }
}

static void ctl_event_cb (struct bufferevent *bev, short what, void *arg)
{
    struct noded *nd = arg;

    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt (bufferevent_getfd (bev), IPPROTO_TCP, TCP_NODELAY, &one,
                    sizeof (one));
        send_hello (nd);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        ctl_drop (nd, NULL);
}

void ctlconn_start (struct noded *nd)
{
    nd->reconnect_ev = evtimer_new (nd->base, connect_cb, nd);
    nd->heartbeat_ev = event_new (nd->base, -1, EV_PERSIST, heartbeat_cb, nd);
    nd->backoff = 0.1;
    connect_cb (-1, 0, nd);
}

void ctlconn_stop (struct noded *nd)
{
    if (nd->ctl)
        bufferevent_free (nd->ctl);
    nd->ctl = NULL;
    if (nd->reconnect_ev)
        event_free (nd->reconnect_ev);
    if (nd->heartbeat_ev)
        event_free (nd->heartbeat_ev);
    nd->reconnect_ev = nd->heartbeat_ev = NULL;
}
