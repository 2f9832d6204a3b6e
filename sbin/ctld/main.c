/* aiosctld - the AIOS controller */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "conn.h"
#include "core.h"
#include "ctld.h"
#include "daemon.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"
#include "store.h"

static const char *usage_text =
    "Usage: aiosctld [OPTIONS]\n"
    "The AIOS controller: keeps the job queue, schedules jobs onto nodes.\n"
    "\n"
    "  -f, --config=FILE      configuration file [$AIOS_CONF or " AIOS_SYSCONFDIR
    "/aios.yaml]\n"
    "  -F, --foreground       do not detach\n"
    "  -L, --log-file=FILE    log here instead of controller.log_file (- = stderr)\n"
    "  -v, --verbose          log debug messages\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n";

double ctld_now (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void ctld_fatal (struct ctld *ctld, const char *msg)
{
    log_err ("fatal: %s", msg);
    ctld->failed = true;
    event_base_loopbreak (ctld->base);
}

static void commit_cb (evutil_socket_t fd, short what, void *arg)
{
    struct ctld *ctld = arg;
    aios_error_t err;
    struct conn *c, *next;

    if (store_commit (ctld->store, &err) < 0) {
        ctld_fatal (ctld, err.text);
        return;
    }
    for (c = ctld->conns; c; c = next) {
        next = c->next;
        conn_flush_held (c);
    }
    events_flush (ctld);
}

void ctld_dirty (struct ctld *ctld)
{
    static const struct timeval now = { 0, 0 };

    if (!evtimer_pending (ctld->commit_ev, NULL))
        evtimer_add (ctld->commit_ev, &now);
}

static void sched_cb (evutil_socket_t fd, short what, void *arg)
{
    struct ctld *ctld = arg;

    ctld->sched_pending = false;
    ctld->sched_last = ctld_now ();
    ctld_sched_pass (ctld);
}

void ctld_sched_request (struct ctld *ctld)
{
    double wait, interval = ctld->conf->sched_interval_ms / 1000.0;
    struct timeval tv;

    if (ctld->sched_pending)
        return;
    ctld->sched_pending = true;
    wait = ctld->sched_last + interval - ctld_now ();
    if (wait < 0)
        wait = 0;
    tv.tv_sec = (time_t)wait;
    tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
    evtimer_add (ctld->sched_ev, &tv);
}

/* A job waiting for its --begin time that has come: schedule. */
static void begin_due (struct ctld *ctld, double now)
{
    size_t i;

    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        if (job->state == JOB_PENDING && (job->reasons & SCHED_R_BEGIN)
            && job->begin_time <= now) {
            ctld_sched_request (ctld);
            return;
        }
    }
}

/* --signal=[B:]SIG@SECONDS: the warning before the time limit, once. */
static void warn_due (struct ctld *ctld, double now)
{
    size_t i;

    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        struct node *b;
        if (job->state != JOB_RUNNING || job->warn_signal <= 0 || job->warned
            || job->time_limit <= 0
            || now < job->start_time + (double)(job->time_limit - job->warn_time))
            continue;
        /* the batch node must be there to get it: else try next tick */
        if (job->nalloc < 1 || !(b = nodetab_lookup (ctld->nodes, job->alloc[0].node))
            || !b->conn)
            continue;
        log_info ("job %ju: sending signal %d, %d s before its time limit",
                  (uintmax_t)job->id, job->warn_signal, job->warn_time);
        if (job->warn_batch_only)
            nodeops_signal_shell (ctld, job, job->warn_signal);
        else {
            nodeops_signal (ctld, job, job->warn_signal);
            nodeops_signal_steps (ctld, job, job->warn_signal);
        }
        job->warned = true;
        ctld_job_save (ctld, job);
    }
}

static void purged (uint64_t id, void *arg)
{
    events_job_removed (arg, id);
}

static void tick_cb (evutil_socket_t fd, short what, void *arg)
{
    struct ctld *ctld = arg;
    double now = ctld_now ();
    size_t n;

    nodeops_check_timeouts (ctld, now);
    n = jobtab_purge (ctld->jobs, now - ctld->conf->min_job_age, purged, ctld);
    begin_due (ctld, now);
    warn_due (ctld, now);
    sched_tick (ctld, now);
    events_tick (ctld);
    if (n > 0)
        log_debug ("dropped %zu finished job(s) from the queue", n);
}

/* --- listeners ------------------------------------------------------------ */

static void accept_cb (struct evconnlistener *l, evutil_socket_t fd,
                       struct sockaddr *sa, int len, void *arg)
{
    struct ctld *ctld = arg;
    bool tcp = sa->sa_family != AF_UNIX;

    if (tcp) {
        int one = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
        setsockopt (fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof (one));
    }
    if (!conn_create (ctld, fd, tcp))
        log_err ("cannot set up a connection: %s", strerror (errno));
}

static int listen_unix (struct ctld *ctld, aios_error_t *err)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    const char *path = ctld->conf->ctl_socket;
    int fd;

    if (strlen (path) >= sizeof (sun.sun_path)) {
        errno = ENAMETOOLONG;
        return errprintf (err, "controller.socket %s: path too long", path);
    }
    strcpy (sun.sun_path, path);
    /* A live controller would have been caught by the pidfile check. */
    (void)unlink (path);
    if ((fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0
        || bind (fd, (struct sockaddr *)&sun, sizeof (sun)) < 0
        || chmod (path, 0777) < 0 || listen (fd, 1024) < 0) {
        int saved = errno;
        if (fd >= 0)
            close (fd);
        errno = saved;
        return errprintf (err, "controller.socket %s: %s", path, strerror (errno));
    }
    ctld->unix_lsn = evconnlistener_new (ctld->base, accept_cb, ctld,
                                         LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (!ctld->unix_lsn) {
        close (fd);
        return errprintf (err, "controller.socket %s: cannot listen", path);
    }
    return 0;
}

static int listen_tcp (struct ctld *ctld, aios_error_t *err)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };

    sin.sin_port = htons ((uint16_t)ctld->conf->ctl_port);
    if (inet_pton (AF_INET, ctld->conf->ctl_address, &sin.sin_addr) != 1) {
        errno = EINVAL;
        return errprintf (err, "controller.address %s: not an IPv4 address",
                          ctld->conf->ctl_address);
    }
    ctld->tcp_lsn = evconnlistener_new_bind (ctld->base, accept_cb, ctld,
                                             LEV_OPT_CLOSE_ON_FREE
                                                 | LEV_OPT_REUSEABLE
                                                 | LEV_OPT_CLOSE_ON_EXEC,
                                             1024, (struct sockaddr *)&sin,
                                             sizeof (sin));
    if (!ctld->tcp_lsn)
        return errprintf (err, "cannot listen on %s:%d: %s",
                          ctld->conf->ctl_address, ctld->conf->ctl_port,
                          strerror (errno));
    return 0;
}

/* --- state ---------------------------------------------------------------- */

static int load_job_cb (json_t *rec, void *arg, aios_error_t *err)
{
    struct ctld *ctld = arg;
    json_int_t id;
    json_t *req, *rt;
    struct job *job;

    if (json_unpack (rec, "{s:I s:o s:o}", "id", &id, "req", &req, "rt", &rt) < 0) {
        errno = EIO;
        return errprintf (err, "state file: malformed job record");
    }
    if ((uint64_t)id >= ctld->next_job_id)
        ctld->next_job_id = (uint64_t)id + 1;
    if (!(job = job_create ((uint64_t)id, req, rt, err)))
        return -1;
    if (job_state_is_final (job->state)
        && job->end_time < ctld->start_time - ctld->conf->min_job_age) {
        job_destroy (job); /* long finished: stays in the file only */
        return 0;
    }
    if (jobtab_add (ctld->jobs, job) < 0) {
        job_destroy (job);
        return errprintf (err, "state file: job %lld out of order", (long long)id);
    }
    return 0;
}

static int load_state (struct ctld *ctld, aios_error_t *err)
{
    int64_t next;

    if (!(ctld->store = store_open (ctld->conf->state_file, err)))
        return -1;
    ctld->next_job_id = 1;
    if (store_get_meta (ctld->store, "next_job_id", &next, err) == 0)
        ctld->next_job_id = (uint64_t)next;
    else if (errno != ENOENT)
        return -1;
    if (store_load_jobs (ctld->store, load_job_cb, ctld, err) < 0)
        return -1;
    sched_restore_allocs (ctld);
    return 0;
}

static int setup (struct ctld *ctld, aios_error_t *err)
{
    struct passwd *pw;
    static const struct timeval tick = { 1, 0 };
    char dir[4096], *slash;

    if (!(pw = getpwnam (ctld->conf->daemon_user))) {
        errno = ENOENT;
        return errprintf (err, "controller.user %s: no such user",
                          ctld->conf->daemon_user);
    }
    ctld->daemon_uid = pw->pw_uid;
    snprintf (dir, sizeof (dir), "%s", ctld->conf->state_file);
    if ((slash = strrchr (dir, '/')) && slash != dir) {
        *slash = '\0';
        if (mkdir_p (dir, 0755, err) < 0)
            return -1;
    }
    if (!(ctld->auth = auth_create (ctld->conf->munge_socket, err)))
        return -1;
    if (!(ctld->jobs = jobtab_create ())
        || !(ctld->nodes = nodetab_create (ctld->conf))) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    if (load_state (ctld, err) < 0 || sched_init (ctld, err) < 0)
        return -1;
    if (!(ctld->policy = policy_load (ctld->conf->plugin_dir,
                                      ctld->conf->policy, err)))
        return -1;
    if (pidfile_write (ctld->conf->ctl_pid_file, err) < 0)
        return -1;
    if (listen_unix (ctld, err) < 0 || listen_tcp (ctld, err) < 0
        || metrics_start (ctld, err) < 0
        || acct_init (ctld, err) < 0
        || staging_init (ctld, err) < 0)
        return -1;
    ctld->commit_ev = evtimer_new (ctld->base, commit_cb, ctld);
    ctld->sched_ev = evtimer_new (ctld->base, sched_cb, ctld);
    ctld->tick_ev = event_new (ctld->base, -1, EV_PERSIST, tick_cb, ctld);
    if (!ctld->commit_ev || !ctld->sched_ev || !ctld->tick_ev) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    evtimer_add (ctld->tick_ev, &tick);
    staging_restart (ctld);
    ctld_sched_request (ctld);
    return 0;
}

int ctld_reload (struct ctld *ctld, aios_error_t *err)
{
    struct aios_conf *conf = conf_load (ctld->conf_path, err);
    struct policy *pol = NULL;

    if (!conf)
        return -1;
    if (strcmp (conf->policy, ctld->conf->policy) != 0
        || strcmp (conf->plugin_dir, ctld->conf->plugin_dir) != 0) {
        if (!(pol = policy_load (conf->plugin_dir, conf->policy, err))) {
            conf_destroy (conf);
            return -1;
        }
        policy_unload (ctld->policy);
        ctld->policy = pol;
    }
    if (nodetab_update (ctld->nodes, conf) < 0) {
        conf_destroy (conf);
        return errprintf (err, "out of memory adding nodes");
    }
    conf_destroy (ctld->conf);
    ctld->conf = conf;
    if (log_reopen (err) < 0)
        log_err ("%s", err->text);
    log_info ("reloaded %s (policy %s)", ctld->conf_path, conf->policy);
    ctld_sched_request (ctld);
    return 0;
}

static void shutdown_cb (evutil_socket_t fd, short what, void *arg)
{
    struct ctld *ctld = arg;

    (void)fd;
    (void)what;
    event_base_loopbreak (ctld->base);
}

void ctld_shutdown (struct ctld *ctld)
{
    /* After this turn's commit and replies have been written out. */
    event_base_once (ctld->base, -1, EV_TIMEOUT, shutdown_cb, ctld, NULL);
}

static void signal_cb (evutil_socket_t sig, short what, void *arg)
{
    struct ctld *ctld = arg;

    if (sig == SIGHUP) {
        aios_error_t err;

        if (ctld_reload (ctld, &err) < 0)
            log_err ("reload refused, keeping the running configuration: %s",
                     err.text);
        return;
    }
    log_info ("caught signal %d: shutting down", (int)sig);
    event_base_loopbreak (ctld->base);
}

static void teardown (struct ctld *ctld)
{
    aios_error_t err;
    int i;

    while (ctld->conns)
        conn_destroy (ctld->conns);
    if (ctld->store && store_commit (ctld->store, &err) < 0)
        log_err ("%s", err.text);
    for (i = 0; i < 3; i++)
        if (ctld->sig_ev[i])
            event_free (ctld->sig_ev[i]);
    if (ctld->commit_ev)
        event_free (ctld->commit_ev);
    if (ctld->sched_ev)
        event_free (ctld->sched_ev);
    if (ctld->tick_ev)
        event_free (ctld->tick_ev);
    if (ctld->unix_lsn) {
        evconnlistener_free (ctld->unix_lsn);
        unlink (ctld->conf->ctl_socket);
    }
    if (ctld->tcp_lsn)
        evconnlistener_free (ctld->tcp_lsn);
    policy_unload (ctld->policy);
    metrics_stop (ctld);
    acct_fini (ctld);
    staging_fini (ctld);
    sched_fini (ctld);
    events_destroy (ctld);
    jobtab_destroy (ctld->jobs);
    nodetab_destroy (ctld->nodes);
    store_close (ctld->store);
    auth_destroy (ctld->auth);
    if (ctld->base)
        event_base_free (ctld->base);
}

int main (int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'f' },
        { "foreground", no_argument, NULL, 'F' },
        { "log-file", required_argument, NULL, 'L' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
    struct ctld ctld = { 0 };
    const char *path = NULL, *logfile = NULL;
    int level = LOG_INFO, c, fd, i, rc = 1;
    bool foreground = false;
    aios_error_t err;

    while ((c = getopt_long (argc, argv, "f:FL:vhV", opts, NULL)) != -1) {
        switch (c) {
        case 'f': path = optarg; break;
        case 'F': foreground = true; break;
        case 'L': logfile = optarg; break;
        case 'v': level = LOG_DEBUG; break;
        case 'h': fputs (usage_text, stdout); return 0;
        case 'V': printf ("aiosctld %s\n", PACKAGE_VERSION); return 0;
        default: fputs (usage_text, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "aiosctld: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (!path)
        path = conf_default_path ();
    if (!(ctld.conf = conf_load (path, &err))) {
        fprintf (stderr, "aiosctld: %s\n", err.text);
        return 1;
    }
    if (!(ctld.conf_path = strdup (path)))
        return 1;
    signal (SIGPIPE, SIG_IGN);
    fd = daemon_begin (foreground, &err);
    if (fd < 0 && !foreground) {
        fprintf (stderr, "aiosctld: %s\n", err.text);
        goto out;
    }
    if (log_open ("aiosctld", logfile ? logfile : ctld.conf->ctl_log_file,
                  level, &err) < 0
        || !(ctld.base = event_base_new ())) {
        char msg[400];
        snprintf (msg, sizeof (msg), "aiosctld: %s", err.text);
        daemon_fail (fd, msg);
        goto out;
    }
    ctld.start_time = ctld_now ();
    if (setup (&ctld, &err) < 0) {
        char msg[400];
        snprintf (msg, sizeof (msg), "aiosctld: %s", err.text);
        log_err ("%s", err.text);
        daemon_fail (fd, msg);
        goto out;
    }
    for (i = 0; i < 3; i++) {
        ctld.sig_ev[i] = evsignal_new (ctld.base, sigs[i], signal_cb, &ctld);
        if (ctld.sig_ev[i])
            evsignal_add (ctld.sig_ev[i], NULL);
    }
    log_info ("aiosctld %s started: %zu job(s) recovered, next job id %ju, "
              "policy %s", PACKAGE_VERSION, jobtab_count (ctld.jobs),
              (uintmax_t)ctld.next_job_id, ctld.conf->policy);
    daemon_ready (fd);
    event_base_dispatch (ctld.base);
    rc = ctld.failed ? 1 : 0;
    pidfile_remove (ctld.conf->ctl_pid_file);
out:
    teardown (&ctld);
    conf_destroy (ctld.conf);
    free (ctld.conf_path);
    log_close ();
    return rc;
}
