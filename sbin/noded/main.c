/* aiosd - the AIOS node daemon */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "launch.h"
#include "cgroup.h"
#include "gpu.h"
#include "noded_pmix.h"
#include "log.h"
#include "noded.h"
#include "spool.h"

static const char *usage_text =
    "Usage: aiosd [OPTIONS]\n"
    "The AIOS node daemon: registers this node with aiosctld and runs jobs.\n"
    "\n"
    "  -f, --config=FILE      configuration file [$AIOS_CONF or " AIOS_SYSCONFDIR
    "/aios.yaml]\n"
    "  -n, --name=NODE        this node's name in the configuration\n"
    "                         [the short host name]\n"
    "  -F, --foreground       do not detach\n"
    "  -L, --log-file=FILE    log here instead of node_daemon.log_file (- = stderr)\n"
    "  -v, --verbose          log debug messages\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n";

/* A job whose script was running when a previous aiosd died: its exit status
 * is lost.  Kill what is left of it and report it as a node failure.  A job
 * whose script had ended, but not its stage-out: report how it ended, and
 * that its output did not all reach the catalog. */
static void stale_job_cb (uint64_t id, json_t *rec, json_t *exited, pid_t pid,
                          void *arg)
{
    struct noded *nd = arg;
    aios_error_t err;
    json_t *fail;

    if (rec)
        return; /* a completion waiting for its ack: sent at register */
    if (exited) {
        fail = json_deep_copy (exited);
        if (fail)
            json_object_set_new (fail, "stage_out_error",
                                 json_string ("interrupted: aiosd restarted "
                                              "before the stage-out ended (models "
                                              "it had stored stay in the catalog)"));
        log_warn ("job %ju: its stage-out was running when aiosd stopped",
                  (uintmax_t)id);
    } else {
        if (pid > 1 && getpgid (pid) == pid)
            kill (-pid, SIGKILL); /* the job's process group */
        fail = json_pack ("{s:s s:I s:i s:i s:b s:s}", "op", "complete", "id",
                          (json_int_t)id, "exit_code", 0, "signal", 0, "node_fail",
                          1, "reason", "aiosd restarted while the job was running");
        log_warn ("job %ju: was running when aiosd stopped: reporting NODE_FAIL",
                  (uintmax_t)id);
    }
    if (fail && spool_write_completion (nd->spool_dir, id, fail, &err) < 0)
        log_err ("job %ju: %s", (uintmax_t)id, err.text);
    json_decref (fail);
}

static int detect_resources (struct noded *nd)
{
    long n = sysconf (_SC_NPROCESSORS_ONLN);
    long pages = sysconf (_SC_PHYS_PAGES), psize = sysconf (_SC_PAGESIZE);

    nd->cpus = nd->cnode->cpus > 0 ? nd->cnode->cpus : (int)(n > 0 ? n : 1);
    nd->mem_mb = nd->cnode->memory_mb > 0
                     ? nd->cnode->memory_mb
                     : (uint64_t)pages * (uint64_t)psize / (1024 * 1024);
    if (nd->cnode->gpus >= 0)
        nd->gpus = nd->cnode->gpus;
    else {
        char how[16];
        nd->gpus = gpu_detect (how, sizeof (how));
        log_info ("GPUs: %d (detected by %s)", nd->gpus, how);
    }
    return 0;
}

static int setup (struct noded *nd, aios_error_t *err)
{
    struct passwd *pw;

    if (!(pw = getpwnam (nd->conf->daemon_user))) {
        errno = ENOENT;
        return errprintf (err, "controller.user %s: no such user",
                          nd->conf->daemon_user);
    }
    nd->daemon_uid = pw->pw_uid;
    detect_resources (nd);
    cg_init (nd);
    if (mkdir_p (nd->spool_dir, 0755, err) < 0)
        return -1;
    if (!(nd->auth = auth_create (nd->conf->munge_socket, err)))
        return -1;
    if (pidfile_write (nd->pid_file, err) < 0)
        return -1;
    /* after the pid file: a second aiosd of this node must stop before it
     * clears the scratch and cache the first one is using */
    if (stage_create (nd, err) < 0)
        return -1;
    if (ctlconn_listen (nd, err) < 0)
        return -1;
    if (spool_scan (nd->spool_dir, stale_job_cb, nd, err) < 0)
        return -1;
    return 0;
}

static void signal_cb (evutil_socket_t sig, short what, void *arg)
{
    struct noded *nd = arg;

    if (sig == SIGCHLD) {
        launch_reap (nd);
        return;
    }
    if (sig == SIGHUP) {
        aios_error_t err;
        if (log_reopen (&err) < 0)
            log_err ("%s", err.text);
        return;
    }
    log_info ("caught signal %d: killing running jobs and exiting", (int)sig);
    event_base_loopbreak (nd->base);
}

static char *default_name (void)
{
    char host[256], *dot;

    if (gethostname (host, sizeof (host)) < 0)
        return NULL;
    host[sizeof (host) - 1] = '\0';
    if ((dot = strchr (host, '.')))
        *dot = '\0';
    return strdup (host);
}

static void teardown (struct noded *nd)
{
    int i;

    launch_kill_all (nd);
    launch_free_all (nd);
    listener_free_all (nd);
    stage_destroy (nd);
    aios_pmix_stop ();
    cg_fini (nd);
    ctlconn_stop (nd);
    for (i = 0; i < 4; i++)
        if (nd->sig_ev[i])
            event_free (nd->sig_ev[i]);
    if (nd->lsn)
        evconnlistener_free (nd->lsn);
    auth_destroy (nd->auth);
    if (nd->base)
        event_base_free (nd->base);
    free (nd->spool_dir);
    free (nd->pid_file);
    free (nd->name);
    free (nd->conf_path);
    conf_destroy (nd->conf);
}

int main (int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'f' },
        { "name", required_argument, NULL, 'n' },
        { "foreground", no_argument, NULL, 'F' },
        { "log-file", required_argument, NULL, 'L' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    static const int sigs[4] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
    struct noded nd = { 0 };
    const char *path = NULL, *logfile = NULL, *name = NULL;
    char *logpath = NULL;
    bool foreground = false;
    int level = LOG_INFO, c, fd = -1, i, rc = 1;
    aios_error_t err;
    char msg[400];

    while ((c = getopt_long (argc, argv, "f:n:FL:vhV", opts, NULL)) != -1) {
        switch (c) {
        case 'f': path = optarg; break;
        case 'n': name = optarg; break;
        case 'F': foreground = true; break;
        case 'L': logfile = optarg; break;
        case 'v': level = LOG_DEBUG; break;
        case 'h': fputs (usage_text, stdout); return 0;
        case 'V': printf ("aiosd %s\n", PACKAGE_VERSION); return 0;
        default: fputs (usage_text, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "aiosd: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (!path)
        path = conf_default_path ();
    if (!(nd.conf = conf_load (path, &err))) {
        fprintf (stderr, "aiosd: %s\n", err.text);
        return 1;
    }
    nd.conf_path = strdup (path);
    nd.name = name ? strdup (name) : default_name ();
    if (!nd.name || !(nd.cnode = conf_node_lookup (nd.conf, nd.name))) {
        fprintf (stderr, "aiosd: node \"%s\" is not in the configuration %s "
                 "(use --name)\n", nd.name ? nd.name : "?", path);
        goto out;
    }
    nd.spool_dir = conf_expand_node (nd.conf->spool_dir, nd.name);
    nd.pid_file = conf_expand_node (nd.conf->node_pid_file, nd.name);
    logpath = conf_expand_node (nd.conf->node_log_file, nd.name);
    if (!nd.spool_dir || !nd.pid_file || !logpath)
        goto out;
    signal (SIGPIPE, SIG_IGN);
    fd = daemon_begin (foreground, &err);
    if (fd < 0 && !foreground) {
        fprintf (stderr, "aiosd: %s\n", err.text);
        goto out;
    }
    if (log_open ("aiosd", logfile ? logfile : logpath, level, &err) < 0
        || !(nd.base = event_base_new ()) || setup (&nd, &err) < 0) {
        snprintf (msg, sizeof (msg), "aiosd: %s", err.text);
        log_err ("%s", err.text);
        daemon_fail (fd, msg);
        goto out;
    }
    for (i = 0; i < 4; i++) {
        nd.sig_ev[i] = evsignal_new (nd.base, sigs[i], signal_cb, &nd);
        if (nd.sig_ev[i])
            evsignal_add (nd.sig_ev[i], NULL);
    }
    ctlconn_start (&nd);
    log_info ("aiosd %s started as node %s (%d CPUs, %ju MB, %d GPUs)",
              PACKAGE_VERSION, nd.name, nd.cpus, (uintmax_t)nd.mem_mb, nd.gpus);
    daemon_ready (fd);
    event_base_dispatch (nd.base);
    rc = 0;
    pidfile_remove (nd.pid_file);
out:
    teardown (&nd);
    free (logpath);
    log_close ();
    return rc;
}
