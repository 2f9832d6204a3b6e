/* listener.c - the node daemon's own TCP endpoint (address:node_port)
 *
 * Tools and peers reach a node here.  Every connection authenticates once
 * with a munge credential in its hello.  It answers "ping", and runs
 * processes inside a job allocated to this node, as the job's owner, for
 * its owner (or root) only:
 *
 *   exec   one command (aios-exec): stdio relayed, then its exit status
 *   step   this node's ranks of a job step (aios-run): each rank's stdio
 *          relayed and its exit status; with PMI-1 each rank talks the
 *          "simple" wire protocol on PMI_FD to this daemon, which answers
 *          locally, sends its ranks' puts up at a barrier once all of them
 *          entered it, and lets them out when aios-run sends back the puts
 *          of every node (a two-level fence).
 *
 *   -> {"op":"exec","job":ID,"argv":[...],"cwd":DIR,"env":{...},"stdin":B}
 *   -> {"op":"step","job":ID,"step":S,"argv":[...],"cwd":DIR,"env":{...},
 *       "ranks":[R...],"size":N,"mapping":"(vector,...)","pmi":B,"stdin":B}
 *   <- {"seq":N,"pids":[...]}
 *   -> {"op":"stdin","data":B64} | {"op":"stdin_eof"} | {"op":"signal","signal":N}
 *   -> {"op":"pmi_barrier_out","kvs":{...}}
 *   <- {"stream":"stdout"|"stderr","rank":R,"data":B64}
 *   <- {"pmi_barrier":{...puts}} | {"pmi_abort":R,"code":C,"msg":M}
 *   <- {"rank":R,"exit":CODE,"signal":SIG}        (a step's rank ended)
 *   <- {"exit":CODE,"signal":SIG}                 (exec: the command ended)
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <event2/buffer.h>

#include "b64.h"
#include "cgroup.h"
#include "frame.h"
#include "launch.h"
#include "log.h"
#include "noded.h"
#include "noded_pmix.h"
#include "proto.h"

struct peer {
    struct noded *nd;
    struct bufferevent *bev;
    bool authed;
    uid_t uid;
    struct xproc *procs;    /* what this connection runs (its own list) */
    int nprocs;
    bool step;              /* ranks of a step, not one exec'd command */
    /* PMI-1 */
    char kvsname[64];
    int size;               /* ranks in the step */
    json_t *kvs;            /* every key known here */
    json_t *puts;           /* this node's puts since the last barrier */
    int in_barrier;
    /* PMIx */
    bool pmix;
    void *fence;            /* a fence waiting for aios-run */
    struct peer *pmix_next;
};

static struct peer *pmix_peers;     /* steps with a PMIx namespace */

struct xproc {
    struct noded *nd;
    struct peer *peer;      /* NULL once the peer is gone */
    struct xproc *peer_next;
    uint64_t job;
    int rank;               /* -1 for exec */
    pid_t pid;
    int report_fd;          /* the child's exec failure, if any */
    struct bufferevent *in, *out, *err, *pmi;
    int open_streams;
    bool exited;
    int status;
    struct xproc *next;     /* nd->xprocs */
};

static void peer_send (struct peer *p, json_t *msg)
{
    size_t len;
    char *buf = msg ? frame_encode (msg, FRAME_MAX_REPLY, &len, NULL) : NULL;

    json_decref (msg);
    if (buf)
        bufferevent_write (p->bev, buf, len);
    free (buf);
}

static void peer_unlink_proc (struct peer *p, struct xproc *x)
{
    struct xproc **pp;

    for (pp = &p->procs; *pp; pp = &(*pp)->peer_next)
        if (*pp == x) {
            *pp = x->peer_next;
            break;
        }
}

static void xproc_free (struct xproc *x)
{
    struct xproc **pp;

    if (!x)
        return;
    for (pp = &x->nd->xprocs; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    if (x->peer)
        peer_unlink_proc (x->peer, x);
    if (x->in)
        bufferevent_free (x->in);
    if (x->out)
        bufferevent_free (x->out);
    if (x->err)
        bufferevent_free (x->err);
    if (x->pmi)
        bufferevent_free (x->pmi);
    if (x->report_fd >= 0)
        close (x->report_fd);
    free (x);
}

/* Exited and both streams drained: report and forget. */
static void xproc_maybe_done (struct xproc *x)
{
    char report[512] = "";
    ssize_t n;
    int code, sig;
    json_t *msg;

    if (!x->exited || x->open_streams > 0)
        return;
    code = WIFEXITED (x->status) ? WEXITSTATUS (x->status) : 0;
    sig = WIFSIGNALED (x->status) ? WTERMSIG (x->status) : 0;
    if (x->report_fd >= 0 && (n = read (x->report_fd, report, sizeof (report) - 1)) > 0) {
        report[n] = '\0';
        code = 127;
        sig = 0;
    }
    if (x->peer) {
        msg = json_pack ("{s:i s:i}", "exit", code, "signal", sig);
        if (msg && report[0])
            json_object_set_new (msg, "error", json_string (report));
        if (msg && x->rank >= 0)
            json_object_set_new (msg, "rank", json_integer (x->rank));
        peer_send (x->peer, msg);
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
        json_t *msg;
        if (len > sizeof (buf))
            len = sizeof (buf);
        evbuffer_remove (in, buf, len);
        if (!x->peer || !(enc = b64_encode (buf, len)))
            continue;
        msg = json_pack ("{s:s s:s}", "stream", name, "data", enc);
        if (msg && x->rank >= 0)
            json_object_set_new (msg, "rank", json_integer (x->rank));
        peer_send (x->peer, msg);
        free (enc);
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
    if (x->pmi) {
        bufferevent_free (x->pmi);
        x->pmi = NULL;
    }
    xproc_maybe_done (x);
}

static void peer_free (struct peer *p)
{
    if (p->pmix) {
        struct peer **pp;
        for (pp = &pmix_peers; *pp; pp = &(*pp)->pmix_next)
            if (*pp == p) {
                *pp = p->pmix_next;
                break;
            }
        if (p->fence)
            aios_pmix_fence_fail (p->fence);
        aios_pmix_nspace_end (p->kvsname);
    }
    /* the client is gone: so is what it runs */
    while (p->procs) {
        struct xproc *x = p->procs;
        kill (-x->pid, SIGKILL);
        x->peer = NULL;
        p->procs = x->peer_next;
    }
    json_decref (p->kvs);
    json_decref (p->puts);
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
    cg_job_create (nd, (uint64_t)id);
    return json_object_set (nd->allocs, key, spec);
}

void listener_signal (struct noded *nd, uint64_t id, int sig)
{
    struct xproc *x;

    for (x = nd->xprocs; x; x = x->next)
        if (x->job == id)
            kill (-x->pid, sig);
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
    cg_job_end (nd, id);
}

void listener_free_all (struct noded *nd)
{
    while (nd->xprocs) {
        struct xproc *x = nd->xprocs;
        kill (-x->pid, SIGKILL);
        if (x->peer)
            peer_unlink_proc (x->peer, x);
        x->peer = NULL;
        xproc_free (x);
    }
    json_decref (nd->allocs);
    nd->allocs = NULL;
}

/* --- PMI-1 "simple": one line per command, "cmd=NAME key=value ..." -------- */

static void pmi_reply (struct xproc *x, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void pmi_reply (struct xproc *x, const char *fmt, ...)
{
    va_list ap;

    if (!x->pmi)
        return;
    va_start (ap, fmt);
    evbuffer_add_vprintf (bufferevent_get_output (x->pmi), fmt, ap);
    va_end (ap);
}

/* The value of key in a command line's words, or NULL. */
static const char *pmi_arg (char **words, int n, const char *key)
{
    size_t len = strlen (key);
    int i;

    for (i = 0; i < n; i++)
        if (!strncmp (words[i], key, len) && words[i][len] == '=')
            return words[i] + len + 1;
    return NULL;
}

static void pmi_command (struct xproc *x, char *line)
{
    struct peer *p = x->peer;
    char *words[16], *save = NULL, *w;
    const char *cmd, *key, *val;
    int n = 0;

    for (w = strtok_r (line, " ", &save); w && n < 16; w = strtok_r (NULL, " ", &save))
        words[n++] = w;
    if (!p || !(cmd = pmi_arg (words, n, "cmd")))
        return;
    if (!strcmp (cmd, "init"))
        pmi_reply (x, "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n");
    else if (!strcmp (cmd, "get_maxes"))
        pmi_reply (x, "cmd=maxes kvsname_max=256 keylen_max=256 vallen_max=1024 rc=0\n");
    else if (!strcmp (cmd, "get_appnum"))
        pmi_reply (x, "cmd=appnum appnum=0 rc=0\n");
    else if (!strcmp (cmd, "get_my_kvsname"))
        pmi_reply (x, "cmd=my_kvsname kvsname=%s rc=0\n", p->kvsname);
    else if (!strcmp (cmd, "get_universe_size"))
        pmi_reply (x, "cmd=universe_size size=%d rc=0\n", p->size);
    else if (!strcmp (cmd, "put")) {
        key = pmi_arg (words, n, "key");
        val = pmi_arg (words, n, "value");
        if (!key || !val) {
            pmi_reply (x, "cmd=put_result rc=-1 msg=missing_key_or_value\n");
            return;
        }
        json_object_set_new (p->kvs, key, json_string (val));
        json_object_set_new (p->puts, key, json_string (val));
        pmi_reply (x, "cmd=put_result rc=0\n");
    }
    else if (!strcmp (cmd, "get")) {
        json_t *v = (key = pmi_arg (words, n, "key")) ? json_object_get (p->kvs, key)
                                                      : NULL;
        if (v)
            pmi_reply (x, "cmd=get_result rc=0 value=%s\n", json_string_value (v));
        else
            pmi_reply (x, "cmd=get_result rc=-1 msg=key_%s_not_found\n",
                       key ? key : "");
    }
    else if (!strcmp (cmd, "barrier_in")) {
        /* every local rank in: the node's puts go up in one message */
        if (++p->in_barrier == p->nprocs) {
            peer_send (p, json_pack ("{s:O}", "pmi_barrier", p->puts));
            json_object_clear (p->puts);
        }
    }
    else if (!strcmp (cmd, "finalize"))
        pmi_reply (x, "cmd=finalize_ack rc=0\n");
    else if (!strcmp (cmd, "abort")) {
        val = pmi_arg (words, n, "exitcode");
        peer_send (p, json_pack ("{s:i s:i}", "pmi_abort", x->rank, "code",
                                 val ? atoi (val) : 1));
    }
    else
        pmi_reply (x, "cmd=%s rc=-1 msg=unsupported_by_aiosd\n", cmd);
}

static void pmi_read_cb (struct bufferevent *bev, void *arg)
{
    struct evbuffer *in = bufferevent_get_input (bev);
    char *line;
    size_t len;

    while ((line = evbuffer_readln (in, &len, EVBUFFER_EOL_LF))) {
        pmi_command (arg, line);
        free (line);
    }
}

static void pmi_event_cb (struct bufferevent *bev, short what, void *arg)
{
    struct xproc *x = arg;

    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        bufferevent_free (bev);
        x->pmi = NULL;
    }
}

/* PMIx: this node's clients are in a fence; their data goes to aios-run. */
static void pmix_fence_cb (const char *nspace, const char *data, size_t len,
                           void *token, void *arg)
{
    struct peer *p;
    char *enc;

    for (p = pmix_peers; p && strcmp (p->kvsname, nspace); p = p->pmix_next)
        ;
    if (!p || p->fence || !(enc = b64_encode (data, len))) {
        aios_pmix_fence_fail (token);
        return;
    }
    p->fence = token;
    peer_send (p, json_pack ("{s:s}", "pmix_fence", enc));
    free (enc);
}

/* aios-run sent the data of every node: the fence completes. */
static void peer_pmix_fence_out (struct peer *p, json_t *msg)
{
    const char *data = NULL;
    size_t len = 0;
    char *buf;

    if (!p->fence)
        return;
    json_unpack (msg, "{s:s}", "data", &data);
    if (!data || !(buf = b64_decode (data, &len))) {
        aios_pmix_fence_fail (p->fence);
        p->fence = NULL;
        return;
    }
    aios_pmix_fence_release (p->fence, buf, len);
    p->fence = NULL;
    free (buf);
}

/* aios-run sent every node's puts: let this node's ranks out. */
static void peer_barrier_out (struct peer *p, json_t *msg)
{
    json_t *kvs = json_object_get (msg, "kvs");
    struct xproc *x;

    if (json_is_object (kvs))
        json_object_update (p->kvs, kvs);
    p->in_barrier = 0;
    for (x = p->procs; x; x = x->peer_next)
        pmi_reply (x, "cmd=barrier_out rc=0\n");
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

/* --- exec and step ---------------------------------------------------------- */

static struct bufferevent *fd_bev (struct noded *nd, int fd)
{
    evutil_make_socket_nonblocking (fd);
    return bufferevent_socket_new (nd->base, fd, BEV_OPT_CLOSE_ON_FREE);
}

static void close_pair (int fd[2])
{
    if (fd[0] >= 0)
        close (fd[0]);
    if (fd[1] >= 0)
        close (fd[1]);
    fd[0] = fd[1] = -1;
}

/* Fork one process of the job (rank -1: an exec'd command).  env are extra
 * variables.  Returns the xproc, or NULL with errno. */
static struct xproc *spawn (struct peer *p, json_t *spec, uint64_t job, int rank,
                            char **argv, const char *cwd, json_t *env,
                            bool want_stdin, bool pmi)
{
    struct noded *nd = p->nd;
    int io[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, rep[2] = { -1, -1 };
    int sv[2] = { -1, -1 }, saved;
    struct xproc *x;
    sigset_t all, old;
    pid_t pid;
    int i;

    if ((want_stdin && pipe2 (io[0], O_CLOEXEC) < 0) || pipe2 (io[1], O_CLOEXEC) < 0
        || pipe2 (io[2], O_CLOEXEC) < 0 || pipe2 (rep, O_CLOEXEC) < 0
        || (pmi && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0))
        goto fail;
    if (!(x = calloc (1, sizeof (*x)))) {
        errno = ENOMEM;
        goto fail;
    }
    sigfillset (&all);
    sigprocmask (SIG_SETMASK, &all, &old);
    if ((pid = fork ()) == 0) {
        int nul = open ("/dev/null", O_RDONLY);
        dup2 (want_stdin ? io[0][0] : nul, STDIN_FILENO);
        dup2 (io[1][1], STDOUT_FILENO);
        dup2 (io[2][1], STDERR_FILENO);
        int keep = -1;
        if (pmi) {
            /* the rank's end of PMI_FD, without close-on-exec */
            keep = fcntl (sv[1], F_DUPFD, 3);
            json_object_set_new (env, "PMI_FD", json_sprintf ("%d", keep));
        }
        close (rep[0]);
        {
            char cg[4200];
            cg_job_path (job, cg, sizeof (cg));
            if (cg_join (cg) < 0) {
                dprintf (rep[1], "cannot join cgroup %s: %s", cg, strerror (errno));
                _exit (127);
            }
        }
        launch_exec_child (rep[1], keep, spec, nd->name, nd->gpus, cwd, argv, env);
    }
    saved = errno;
    sigprocmask (SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        free (x);
        errno = saved;
        goto fail;
    }
    close (rep[1]);
    close (io[1][1]);
    close (io[2][1]);
    x->nd = nd;
    x->peer = p;
    x->job = job;
    x->rank = rank;
    x->pid = pid;
    x->report_fd = rep[0];
    if (want_stdin) {
        close (io[0][0]);
        x->in = fd_bev (nd, io[0][1]);
    }
    x->out = fd_bev (nd, io[1][0]);
    x->err = fd_bev (nd, io[2][0]);
    x->open_streams = 2;
    bufferevent_setcb (x->out, stream_read_cb, NULL, stream_event_cb, x);
    bufferevent_setcb (x->err, stream_read_cb, NULL, stream_event_cb, x);
    bufferevent_enable (x->out, EV_READ);
    bufferevent_enable (x->err, EV_READ);
    if (x->in)
        bufferevent_enable (x->in, EV_WRITE);
    if (pmi) {
        close (sv[1]);
        x->pmi = fd_bev (nd, sv[0]);
        bufferevent_setcb (x->pmi, pmi_read_cb, NULL, pmi_event_cb, x);
        bufferevent_enable (x->pmi, EV_READ | EV_WRITE);
    }
    x->next = nd->xprocs;
    nd->xprocs = x;
    x->peer_next = p->procs;
    p->procs = x;
    p->nprocs++;
    return x;
fail:
    saved = errno;
    for (i = 0; i < 3; i++)
        close_pair (io[i]);
    close_pair (rep);
    close_pair (sv);
    errno = saved;
    return NULL;
}

static bool peer_is_operator (const struct peer *p)
{
    struct passwd *pw = getpwuid (p->uid);

    return pw && conf_is_operator (p->nd->conf, pw->pw_name);
}

/* The job's spec here, if the peer may run things in it; else an error
 * reply has been sent. */
static json_t *job_for_peer (struct peer *p, json_int_t job, json_int_t seq,
                             const char *op)
{
    json_t *spec;
    json_int_t owner = -1;
    const char *user = "?";
    char key[32];

    snprintf (key, sizeof (key), "%lld", (long long)job);
    spec = p->nd->allocs ? json_object_get (p->nd->allocs, key) : NULL;
    if (!spec) {
        peer_send (p, proto_error (seq, ENOENT, "job %lld has no allocation on "
                                   "node %s", (long long)job, p->nd->name));
        return NULL;
    }
    json_unpack (spec, "{s:I s?s}", "uid", &owner, "user", &user);
    if (p->uid != 0 && (json_int_t)p->uid != owner && !peer_is_operator (p)) {
        peer_send (p, proto_error (seq, EPERM, "job %lld belongs to %s: only its "
                                   "owner may run commands in it", (long long)job,
                                   user));
        return NULL;
    }
    if (p->procs) {
        peer_send (p, proto_error (seq, EBUSY, "%s: this connection already "
                                   "runs processes", op));
        return NULL;
    }
    return spec;
}

static char **argv_of (json_t *a)
{
    size_t n = json_array_size (a), i;
    char **argv;

    if (n == 0 || !(argv = calloc (n + 1, sizeof (char *))))
        return NULL;
    for (i = 0; i < n; i++) {
        if (!json_is_string (json_array_get (a, i))) {
            free (argv);
            return NULL;
        }
        argv[i] = (char *)json_string_value (json_array_get (a, i));
    }
    return argv;
}

static void peer_spawn (struct peer *p, json_t *msg, json_int_t seq, bool step)
{
    json_int_t job, stepid = 0, size = 1, uid = 0, gid = 0;
    json_t *argv_j, *env = NULL, *spec, *ranks = NULL, *pids, *nodes = NULL;
    const char *cwd = NULL, *mapping = NULL;
    int want_stdin = 0, pmi = 0, pmix = 0;
    aios_error_t err;
    char **argv;
    size_t i;

    if (json_unpack (msg, "{s:I s:o s?s s?o s?b s?I s?o s?I s?s s?b s?b s?o}",
                     "job", &job, "argv", &argv_j, "cwd", &cwd, "env", &env,
                     "stdin", &want_stdin, "step", &stepid, "ranks", &ranks,
                     "size", &size, "mapping", &mapping, "pmi", &pmi, "pmix",
                     &pmix, "nodes", &nodes) < 0
        || !(argv = argv_of (argv_j)) || (env && !json_is_object (env))
        || (step && (!json_is_array (ranks) || json_array_size (ranks) == 0))) {
        peer_send (p, proto_error (seq, EPROTO, "%s: expected \"job\", a non-empty "
                                   "\"argv\" of strings%s", step ? "step" : "exec",
                                   step ? " and \"ranks\"" : ""));
        return;
    }
    if (!(spec = job_for_peer (p, job, seq, step ? "step" : "exec"))) {
        free (argv);
        return;
    }
    p->step = step;
    pids = json_array ();
    if (step) {
        snprintf (p->kvsname, sizeof (p->kvsname), "aios_%lld_%lld",
                  (long long)job, (long long)stepid);
        p->size = (int)size;
        p->kvs = json_object ();
        p->puts = json_object ();
        if (mapping)
            json_object_set_new (p->kvs, "PMI_process_mapping", json_string (mapping));
    }
    if (step && pmix) {
        json_unpack (spec, "{s:I s:I}", "uid", &uid, "gid", &gid);
        if (!json_is_array (nodes)
            || aios_pmix_start (p->nd, pmix_fence_cb, NULL, &err) < 0
            || aios_pmix_nspace (p->nd, p->kvsname, (uint32_t)size, nodes,
                                 (uid_t)uid, (gid_t)gid, &err) < 0) {
            peer_send (p, proto_error (seq, EINVAL, "step: %s", json_is_array (nodes)
                                       ? err.text : "PMIx needs the step's \"nodes\""));
            json_decref (pids);
            free (argv);
            return;
        }
        p->pmix = true;
        p->pmix_next = pmix_peers;
        pmix_peers = p;
    }
    for (i = 0; i < (step ? json_array_size (ranks) : 1); i++) {
        int rank = step ? (int)json_integer_value (json_array_get (ranks, i)) : -1;
        json_t *e = env ? json_deep_copy (env) : json_object ();
        struct xproc *x;
        if (!step)   /* what Hydra's proxies pass on to their ranks */
            json_object_set_new (e, "AIOS_EXEC_NODE", json_string (p->nd->name));
        if (step) {
            json_object_set_new (e, "AIOS_STEP_ID", json_sprintf ("%lld", (long long)stepid));
            json_object_set_new (e, "AIOS_PROCID", json_sprintf ("%d", rank));
            json_object_set_new (e, "AIOS_STEP_NTASKS", json_sprintf ("%lld", (long long)size));
            json_object_set_new (e, "SLURM_PROCID", json_sprintf ("%d", rank));
            json_object_set_new (e, "SLURM_STEP_ID", json_sprintf ("%lld", (long long)stepid));
            json_object_set_new (e, "SLURM_LOCALID", json_sprintf ("%zu", i));
            if (pmi) {
                json_object_set_new (e, "PMI_RANK", json_sprintf ("%d", rank));
                json_object_set_new (e, "PMI_SIZE", json_sprintf ("%lld", (long long)size));
            }
            if (pmix && aios_pmix_client (p->kvsname, rank, (uid_t)uid, (gid_t)gid,
                                          e, &err) < 0) {
                peer_send (p, proto_error (seq, EINVAL, "step: %s", err.text));
                for (x = p->procs; x; x = x->peer_next)
                    kill (-x->pid, SIGKILL);
                json_decref (e);
                json_decref (pids);
                free (argv);
                return;
            }
        }
        x = spawn (p, spec, (uint64_t)job, rank, argv, cwd, e,
                   want_stdin && (!step || rank == 0), step && pmi);
        json_decref (e);
        if (!x) {
            peer_send (p, proto_error (seq, errno, "%s: cannot start %s: %s",
                                       step ? "step" : "exec", argv[0],
                                       strerror (errno)));
            for (x = p->procs; x; x = x->peer_next)
                kill (-x->pid, SIGKILL);
            json_decref (pids);
            free (argv);
            return;
        }
        json_array_append_new (pids, json_integer (x->pid));
        if (step)
            log_info ("job %lld: step %lld rank %d: %s as uid %u (pid %d)",
                      (long long)job, (long long)stepid, rank, argv[0],
                      (unsigned)p->uid, (int)x->pid);
        else
            log_info ("job %lld: exec %s for uid %u (pid %d)", (long long)job,
                      argv[0], (unsigned)p->uid, (int)x->pid);
    }
    free (argv);
    peer_send (p, json_pack ("{s:I s:o}", "seq", seq, "pids", pids));
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

/* stdin data (for rank 0 or the exec'd command), its end, or a signal. */
static void peer_io (struct peer *p, const char *op, json_t *msg, json_int_t seq)
{
    struct xproc *x, *target = NULL;
    const char *data;
    json_int_t sig;

    if (!p->procs)
        return;     /* input or a signal may cross the end of what it was for */
    if (!strcmp (op, "signal")) {
        if (json_unpack (msg, "{s:I}", "signal", &sig) == 0 && sig > 0 && sig < NSIG)
            for (x = p->procs; x; x = x->peer_next)
                kill (-x->pid, (int)sig);
        return;
    }
    for (x = p->procs; x; x = x->peer_next)
        if (x->in)
            target = x;
    if (!target)
        return;
    if (!strcmp (op, "stdin_eof")) {
        /* close once what is queued has been written */
        bufferevent_setcb (target->in, NULL, stdin_drained_cb, stdin_event_cb, target);
        if (evbuffer_get_length (bufferevent_get_output (target->in)) == 0)
            stdin_drained_cb (target->in, target);
        return;
    }
    if (json_unpack (msg, "{s:s}", "data", &data) == 0) {
        size_t len;
        void *buf = b64_decode (data, &len);
        if (buf)
            bufferevent_write (target->in, buf, len);
        free (buf);
    }
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
        else if (!strcmp (op, "exec") || !strcmp (op, "step"))
            peer_spawn (p, msg, seq, !strcmp (op, "step"));
        else if (!strcmp (op, "pmi_barrier_out"))
            peer_barrier_out (p, msg);
        else if (!strcmp (op, "pmix_fence_out"))
            peer_pmix_fence_out (p, msg);
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
