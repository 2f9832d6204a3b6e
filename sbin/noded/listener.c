/* listener.c - the node daemon's own TCP endpoint (address:node_port)
 *
 * Tools and peers reach a node here.  Every connection authenticates once
 * with a munge credential in its hello.  It answers "ping", and "exec":
 * run a command inside a job allocated to this node, as the job's owner,
 * relaying its stdio (base64 in frames) and its exit status.  Only the
 * job's owner (or root) may exec into it.
 *
 *   -> {"op":"exec","job":ID,"argv":[...],"cwd":DIR,"env":{...},"stdin":B}
 *   <- {"seq":N,"pid":PID}
 *   -> {"op":"stdin","data":B64} | {"op":"stdin_eof"} | {"op":"signal","signal":N}
 *   <- {"stream":"stdout"|"stderr","data":B64} ... {"exit":CODE,"signal":SIG}
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <event2/buffer.h>

#include "b64.h"
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
    struct xproc *x;        /* the command this connection runs */
};

struct xproc {
    struct noded *nd;
    struct peer *peer;      /* NULL once the peer is gone */
    uint64_t job;
    pid_t pid;
    int report_fd;          /* the child's exec failure, if any */
    struct bufferevent *in, *out, *err;
    int open_streams;
    bool exited;
    int status;
    struct xproc *next;
};

static void peer_send (struct peer *p, json_t *msg);

static void xproc_unlink (struct xproc *x)
{
    struct xproc **pp;

    for (pp = &x->nd->xprocs; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
}

static void xproc_free (struct xproc *x)
{
    if (!x)
        return;
    xproc_unlink (x);
    if (x->in)
        bufferevent_free (x->in);
    if (x->out)
        bufferevent_free (x->out);
    if (x->err)
        bufferevent_free (x->err);
    if (x->report_fd >= 0)
        close (x->report_fd);
    if (x->peer)
        x->peer->x = NULL;
    free (x);
}

/* Exited and both streams drained: report and forget. */
static void xproc_maybe_done (struct xproc *x)
{
    char report[512] = "";
    ssize_t n;
    int code, sig;

    if (!x->exited || x->open_streams > 0)
        return;
    code = WIFEXITED (x->status) ? WEXITSTATUS (x->status) : 0;
    sig = WIFSIGNALED (x->status) ? WTERMSIG (x->status) : 0;
    if (x->report_fd >= 0 && (n = read (x->report_fd, report, sizeof (report) - 1)) > 0)
        report[n] = '\0';
    if (x->peer) {
        if (report[0])
            peer_send (x->peer, json_pack ("{s:i s:i s:s}", "exit", 127,
                                           "signal", 0, "error", report));
        else
            peer_send (x->peer, json_pack ("{s:i s:i}", "exit", code,
                                           "signal", sig));
    }
    xproc_free (x);
}

static void stream_read_cb (struct bufferevent *bev, void *arg)
{
    struct xproc *x = arg;
    struct evbuffer *in = bufferevent_get_input (bev);
    const char *name = bev == x->out ? "stdout" : "stderr";
    size_t len;

    while ((len = evbuffer_get_length (in)) > 0) {
        char buf[32768];
        char *enc;
        if (len > sizeof (buf))
            len = sizeof (buf);
        evbuffer_remove (in, buf, len);
        if (!x->peer)
            continue;
        if ((enc = b64_encode (buf, len))) {
            peer_send (x->peer, json_pack ("{s:s s:s}", "stream", name, "data", enc));
            free (enc);
        }
    }
}

static void stream_event_cb (struct bufferevent *bev, short what, void *arg)
{
    struct xproc *x = arg;

    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        return;
    stream_read_cb (bev, x);
    if (bev == x->out)
        x->out = NULL;
    else
        x->err = NULL;
    bufferevent_free (bev);
    x->open_streams--;
    xproc_maybe_done (x);
}

void listener_reaped (struct noded *nd, pid_t pid, int status)
{
    struct xproc *x;

    for (x = nd->xprocs; x && x->pid != pid; x = x->next)
        ;
    if (!x)
        return;
    /* what it left in its session goes with it */
    kill (-pid, SIGKILL);
    x->exited = true;
    x->status = status;
    xproc_maybe_done (x);
}

static void peer_free (struct peer *p)
{
    if (p->x) {
        /* the client is gone: so is its command */
        kill (-p->x->pid, SIGKILL);
        p->x->peer = NULL;
    }
    bufferevent_free (p->bev);
    free (p);
}

/* --- allocations ----------------------------------------------------------- */

int listener_alloc (struct noded *nd, json_t *spec)
{
    json_int_t id;
    char key[32];

    if (json_unpack (spec, "{s:I}", "id", &id) < 0) {
        errno = EPROTO;
        return -1;
    }
    if (!nd->allocs && !(nd->allocs = json_object ()))
        return -1;
    snprintf (key, sizeof (key), "%lld", (long long)id);
    return json_object_set (nd->allocs, key, spec);
}

void listener_release (struct noded *nd, uint64_t id)
{
    struct xproc *x;
    char key[32];

    for (x = nd->xprocs; x; x = x->next)
        if (x->job == id)
            kill (-x->pid, SIGKILL);
    snprintf (key, sizeof (key), "%ju", (uintmax_t)id);
    if (nd->allocs)
        json_object_del (nd->allocs, key);
}

void listener_free_all (struct noded *nd)
{
    while (nd->xprocs) {
        kill (-nd->xprocs->pid, SIGKILL);
        if (nd->xprocs->peer)
            nd->xprocs->peer->x = NULL;
        nd->xprocs->peer = NULL;
        xproc_free (nd->xprocs);
    }
    json_decref (nd->allocs);
    nd->allocs = NULL;
}

/* --- exec ------------------------------------------------------------------- */

static struct bufferevent *pipe_bev (struct noded *nd, int fd)
{
    evutil_make_socket_nonblocking (fd);
    return bufferevent_socket_new (nd->base, fd, BEV_OPT_CLOSE_ON_FREE);
}

static void peer_exec (struct peer *p, json_t *msg, json_int_t seq)
{
    struct noded *nd = p->nd;
    json_int_t job, owner = -1;
    json_t *argv_j, *env = NULL, *spec;
    const char *cwd = NULL, *user = "?";
    int want_stdin = 0, io[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, rep[2];
    char key[32], **argv = NULL;
    size_t i, n;
    struct xproc *x;
    sigset_t all, old;
    pid_t pid;

    if (json_unpack (msg, "{s:I s:o s?s s?o s?b}", "job", &job, "argv", &argv_j,
                     "cwd", &cwd, "env", &env, "stdin", &want_stdin) < 0
        || !json_is_array (argv_j) || json_array_size (argv_j) == 0
        || (env && !json_is_object (env))) {
        peer_send (p, proto_error (seq, EPROTO, "exec: expected \"job\" and a "
                                   "non-empty \"argv\""));
        return;
    }
    if (p->x) {
        peer_send (p, proto_error (seq, EBUSY, "exec: this connection already "
                                   "runs a command"));
        return;
    }
    snprintf (key, sizeof (key), "%lld", (long long)job);
    spec = nd->allocs ? json_object_get (nd->allocs, key) : NULL;
    if (!spec) {
        peer_send (p, proto_error (seq, ENOENT, "job %lld has no allocation on "
                                   "node %s", (long long)job, nd->name));
        return;
    }
    json_unpack (spec, "{s:I s?s}", "uid", &owner, "user", &user);
    if (p->uid != 0 && (json_int_t)p->uid != owner) {
        peer_send (p, proto_error (seq, EPERM, "job %lld belongs to %s: only its "
                                   "owner may run commands in it", (long long)job,
                                   user));
        return;
    }
    n = json_array_size (argv_j);
    if (!(argv = calloc (n + 1, sizeof (char *))))
        goto nomem;
    for (i = 0; i < n; i++) {
        if (!json_is_string (json_array_get (argv_j, i))) {
            free (argv);
            peer_send (p, proto_error (seq, EPROTO, "exec: argv must be strings"));
            return;
        }
        argv[i] = (char *)json_string_value (json_array_get (argv_j, i));
    }
    if ((want_stdin && pipe2 (io[0], O_CLOEXEC) < 0) || pipe2 (io[1], O_CLOEXEC) < 0
        || pipe2 (io[2], O_CLOEXEC) < 0 || pipe2 (rep, O_CLOEXEC) < 0) {
        peer_send (p, proto_error (seq, errno, "exec: pipe: %s", strerror (errno)));
        goto close_all;
    }
    sigfillset (&all);
    sigprocmask (SIG_SETMASK, &all, &old);
    if ((pid = fork ()) == 0) {
        int nul = open ("/dev/null", O_RDONLY);
        dup2 (want_stdin ? io[0][0] : nul, STDIN_FILENO);
        dup2 (io[1][1], STDOUT_FILENO);
        dup2 (io[2][1], STDERR_FILENO);
        close (rep[0]);
        launch_exec_child (rep[1], spec, nd->name, nd->gpus, cwd, argv, env);
    }
    sigprocmask (SIG_SETMASK, &old, NULL);
    free (argv);
    argv = NULL;
    close (rep[1]);
    if (pid < 0) {
        close (rep[0]);
        peer_send (p, proto_error (seq, errno, "exec: fork: %s", strerror (errno)));
        goto close_all;
    }
    if (!(x = calloc (1, sizeof (*x)))) {
        kill (pid, SIGKILL);
        close (rep[0]);
        goto nomem_fds;
    }
    x->nd = nd;
    x->peer = p;
    x->job = (uint64_t)job;
    x->pid = pid;
    x->report_fd = rep[0];
    close (io[1][1]);
    close (io[2][1]);
    if (want_stdin) {
        close (io[0][0]);
        x->in = pipe_bev (nd, io[0][1]);
    }
    x->out = pipe_bev (nd, io[1][0]);
    x->err = pipe_bev (nd, io[2][0]);
    x->open_streams = 2;
    bufferevent_setcb (x->out, stream_read_cb, NULL, stream_event_cb, x);
    bufferevent_setcb (x->err, stream_read_cb, NULL, stream_event_cb, x);
    bufferevent_enable (x->out, EV_READ);
    bufferevent_enable (x->err, EV_READ);
    if (x->in)
        bufferevent_enable (x->in, EV_WRITE);
    x->next = nd->xprocs;
    nd->xprocs = x;
    p->x = x;
    log_info ("job %lld: exec %s as uid %lld for uid %u (pid %d)", (long long)job,
               json_string_value (json_array_get (argv_j, 0)), (long long)owner,
               (unsigned)p->uid, (int)pid);
    peer_send (p, json_pack ("{s:I s:i}", "seq", seq, "pid", (int)pid));
    return;
nomem:
    peer_send (p, proto_error (seq, ENOMEM, "out of memory"));
    free (argv);
    return;
nomem_fds:
    peer_send (p, proto_error (seq, ENOMEM, "out of memory"));
close_all:
    free (argv);
    for (i = 0; i < 3; i++) {
        if (io[i][0] >= 0)
            close (io[i][0]);
        if (io[i][1] >= 0)
            close (io[i][1]);
    }
}

static void stdin_drained_cb (struct bufferevent *bev, void *arg)
{
    struct xproc *x = arg;

    bufferevent_free (bev);
    x->in = NULL;
}

static void stdin_event_cb (struct bufferevent *bev, short what, void *arg)
{
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        stdin_drained_cb (bev, arg);  /* the command closed its stdin */
}

/* stdin data, its end, or a signal for the running command. */
static void peer_io (struct peer *p, const char *op, json_t *msg, json_int_t seq)
{
    struct xproc *x = p->x;
    const char *data;
    json_int_t sig;

    if (!x) {
        peer_send (p, proto_error (seq, ESRCH, "%s: no command is running", op));
        return;
    }
    if (!strcmp (op, "signal")) {
        if (json_unpack (msg, "{s:I}", "signal", &sig) == 0 && sig > 0 && sig < NSIG)
            kill (-x->pid, (int)sig);
        return;
    }
    if (!strcmp (op, "stdin_eof")) {
        if (x->in) {
            /* close once what is queued has been written */
            bufferevent_setcb (x->in, NULL, stdin_drained_cb, stdin_event_cb, x);
            if (evbuffer_get_length (bufferevent_get_output (x->in)) == 0)
                stdin_drained_cb (x->in, x);
        }
        return;
    }
    if (json_unpack (msg, "{s:s}", "data", &data) == 0 && x->in) {
        size_t len;
        void *buf = b64_decode (data, &len);
        if (buf)
            bufferevent_write (x->in, buf, len);
        free (buf);
    }
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
        else if (!strcmp (op, "exec"))
            peer_exec (p, msg, seq);
        else if (!strcmp (op, "stdin") || !strcmp (op, "stdin_eof")
                 || !strcmp (op, "signal"))
            peer_io (p, op, msg, seq);
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
