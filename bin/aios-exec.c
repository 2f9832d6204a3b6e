/* aios-exec - run a command on a node of the current job (an ssh stand-in)
 *
 * Hydra (MPICH's mpiexec) starts its proxies with "LAUNCHER [-x] HOST CMD
 * ARGS..."; inside an AIOS job HYDRA_LAUNCHER_EXEC names this program, so
 * the proxies start through the node daemons, inside the job, as its owner.
 * The node daemon checks that the job has an allocation on that node and
 * that the caller owns it.  Like ssh, the words after HOST are joined with
 * spaces and run by /bin/sh -c; stdio is relayed and the exit status is the
 * command's.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "cli.h"
#include "client.h"
#include "conf.h"
#include "parse.h"
#include "proto.h"

static const char *usage_text =
    "Usage: aios-exec [SSH-OPTIONS] [USER@]NODE COMMAND [ARG...]\n"
    "Run COMMAND on NODE, a node of the job this runs in ($AIOS_JOB_ID), as\n"
    "the job's owner, through that node's aiosd.  Takes ssh's options and\n"
    "ignores them, except -n (no standard input); the words after NODE are\n"
    "joined with spaces and run with /bin/sh -c, as ssh does.  Stdio is\n"
    "relayed; the exit status is the command's (128+N if killed by signal N).\n"
    "\n"
    "  -j, --job=ID    the job [$AIOS_JOB_ID]\n"
    "  -h, --help      show this help\n"
    "  -V, --version   show the version\n"
    "\n"
    "Inside a job, HYDRA_LAUNCHER_EXEC names aios-exec, so that a plain\n"
    "mpiexec starts its proxies on the job's nodes.\n";

static volatile sig_atomic_t pending_signal;

static void on_signal (int sig)
{
    pending_signal = sig;
}

/* ssh options that take a value: skipped with it. */
static bool ssh_takes_value (char c)
{
    return strchr ("bcDEeFIiJLlmOopQRSWw", c) != NULL;
}

static void send_or_die (struct aios_client *c, json_t *msg)
{
    aios_error_t err;

    if (aios_client_send (c, msg, &err) < 0)
        cli_die ("%s", err.text);
}

static void write_all (int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* a closed stdout: keep draining the command */
        buf += n;
        len -= (size_t)n;
    }
}

/* One frame from the node: output, or the end.  Returns the exit status
 * when the command ended, else -1. */
static int handle_frame (json_t *msg)
{
    const char *stream = NULL, *data = NULL, *error = NULL;
    int code = -1, sig = 0;

    if (json_unpack (msg, "{s:s s:s}", "stream", &stream, "data", &data) == 0) {
        size_t len;
        char *buf = b64_decode (data, &len);
        if (!buf)
            cli_die ("malformed output frame from the node");
        write_all (strcmp (stream, "stderr") ? STDOUT_FILENO : STDERR_FILENO,
                   buf, len);
        free (buf);
        return -1;
    }
    if (json_unpack (msg, "{s:i s?i s?s}", "exit", &code, "signal", &sig,
                     "error", &error) == 0) {
        if (error)
            cli_warn ("%s", error);
        return sig > 0 ? 128 + sig : code;
    }
    return -1;
}

int main (int argc, char **argv)
{
    const char *jobstr = getenv ("AIOS_JOB_ID"), *host;
    struct aios_conf *conf;
    struct aios_client *c;
    aios_error_t err;
    bool no_stdin = false, stdin_open;
    json_t *req, *rep, *args;
    char cwd[4096], *cmd = NULL;
    size_t len = 0;
    long job;
    int i = 1, status = -1;
    struct sigaction sa = { .sa_handler = on_signal };

    cli_init (argv[0]);
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *o = argv[i];
        if (!strcmp (o, "--help") || !strcmp (o, "-h")) {
            fputs (usage_text, stdout);
            return CLI_OK;
        }
        if (!strcmp (o, "--version") || !strcmp (o, "-V"))
            cli_version ();
        if (!strncmp (o, "--job=", 6)) {
            jobstr = o + 6;
            continue;
        }
        if (!strcmp (o, "-j") || !strcmp (o, "--job")) {
            if (++i >= argc)
                cli_usage_error ("%s needs a job id", o);
            jobstr = argv[i];
            continue;
        }
        if (!strcmp (o, "--"))  {
            i++;
            break;
        }
        /* a cluster of ssh flags, possibly ending in one that takes a value */
        for (o++; *o; o++) {
            if (*o == 'n')
                no_stdin = true;
            if (ssh_takes_value (*o)) {
                if (o[1] == '\0' && ++i >= argc)
                    cli_usage_error ("option -%c needs a value", *o);
                break;
            }
        }
    }
    if (i >= argc)
        cli_usage_error ("no node given");
    host = strchr (argv[i], '@') ? strchr (argv[i], '@') + 1 : argv[i];
    if (++i >= argc)
        cli_usage_error ("no command given (aios-exec runs commands, not "
                         "interactive shells)");
    if (!jobstr || !*jobstr)
        cli_die ("not inside a job: AIOS_JOB_ID is not set (or give --job)");
    if (parse_long (jobstr, 1, 1L << 62, &job, &err) < 0)
        cli_die ("invalid job id \"%s\"", jobstr);
    for (; i < argc; i++) {
        size_t n = strlen (argv[i]);
        cmd = realloc (cmd, len + n + 2);
        if (!cmd)
            cli_die ("out of memory");
        if (len)
            cmd[len++] = ' ';
        memcpy (cmd + len, argv[i], n + 1);
        len += n;
    }
    if (!(conf = conf_load (conf_default_path (), &err)))
        cli_die ("%s", err.text);
    if (!(c = aios_client_connect_node (conf, host, &err)))
        cli_die ("%s", err.text);
    if (!getcwd (cwd, sizeof (cwd)))
        cwd[0] = '\0';
    args = json_pack ("[s s s]", "/bin/sh", "-c", cmd);
    free (cmd);
    req = proto_request ("exec", 0);
    if (!args || !req
        || json_object_set_new (req, "job", json_integer (job)) < 0
        || json_object_set_new (req, "argv", args) < 0
        || json_object_set_new (req, "stdin", json_boolean (!no_stdin)) < 0
        || (cwd[0] && json_object_set_new (req, "cwd", json_string (cwd)) < 0))
        cli_die ("out of memory");
    if (!(rep = aios_client_rpc (c, req, &err)))
        cli_die ("%s", err.text);
    json_decref (rep);
    conf_destroy (conf);

    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGHUP, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    stdin_open = !no_stdin;
    while (status < 0) {
        struct pollfd pfd[2] = { { aios_client_fd (c), POLLIN, 0 },
                                 { STDIN_FILENO, POLLIN, 0 } };
        int n = poll (pfd, stdin_open ? 2 : 1, -1);
        if (pending_signal) {
            json_t *m = proto_request ("signal", 0);
            json_object_set_new (m, "signal", json_integer (pending_signal));
            pending_signal = 0;
            send_or_die (c, m);
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            cli_die ("poll: %s", strerror (errno));
        if (stdin_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
            send_or_die (c, cli_stdin_frame (STDIN_FILENO, &stdin_open));
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            json_t *msg = aios_client_recv (c, &err);
            if (!msg)
                cli_die ("lost node %s: %s", host, err.text);
            status = handle_frame (msg);
            json_decref (msg);
        }
    }
    aios_client_close (c);
    return status;
}
