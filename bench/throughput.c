/* throughput - submit N trivial jobs and time submission and completion
 *
 * Run it against a cluster (AIOS_CONF set), for example:
 *   aios-local run --nodes 4 --cpus-per-node 16 -- bench/throughput -n 2000
 *
 * Two ways of submitting, each followed by waiting for every job to end:
 *   procs  one aios-submit process per job, up to -P at a time
 *   lib    one process through libaios, up to -W requests in flight
 * Prints submissions/s and end-to-end jobs/s (from the first submit to the
 * last completion).  Waiting uses the controller's wait requests (events),
 * not polling.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cli.h"
#include "proto.h"

extern char **environ;

static double now (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static json_t *submit_request (void)
{
    json_t *req = proto_request ("submit", 0);
    char cwd[4096];

    if (!getcwd (cwd, sizeof (cwd)))
        cli_die ("getcwd: %s", strerror (errno));
    json_object_set_new (req, "job",
                         json_pack ("{s:s s:s s:s s:{} s:i s:i s:i s:i s:s}",
                                    "name", "bench", "script",
                                    "#!/bin/sh\ntrue\n", "workdir", cwd, "env",
                                    "nodes", 0, "ntasks", 1, "cpus_per_task", 1,
                                    "mem_mb", 0, "output", "/dev/null"));
    return req;
}

/* One aios-submit per job, at most par running at once. */
static void submit_procs (const char *submit, long n, long par, json_int_t *ids)
{
    long started = 0, done = 0, running = 0;
    int (*pipes)[2] = calloc ((size_t)n, sizeof (*pipes));
    pid_t *pids = calloc ((size_t)n, sizeof (pid_t));

    if (!pipes || !pids)
        cli_die ("out of memory");
    while (done < n) {
        while (running < par && started < n) {
            if (pipe (pipes[started]) < 0)
                cli_die ("pipe: %s", strerror (errno));
            if ((pids[started] = fork ()) == 0) {
                dup2 (pipes[started][1], STDOUT_FILENO);
                execl (submit, submit, "--parsable", "-o", "/dev/null",
                       "--export=NONE", "--wrap", "true", (char *)NULL);
                _exit (127);
            }
            close (pipes[started][1]);
            started++;
            running++;
        }
        /* collect in order: simple, and the window keeps them flowing */
        {
            char buf[64] = "";
            ssize_t r = read (pipes[done][0], buf, sizeof (buf) - 1);
            int st;
            close (pipes[done][0]);
            waitpid (pids[done], &st, 0);
            if (r <= 0 || !WIFEXITED (st) || WEXITSTATUS (st) != 0)
                cli_die ("aios-submit number %ld failed", done + 1);
            ids[done++] = strtoll (buf, NULL, 10);
            running--;
        }
    }
    free (pipes);
    free (pids);
}

/* Pipelined submits on one connection, window w. */
static void submit_lib (struct aios_client *c, long n, long w, json_int_t *ids)
{
    long sent = 0, got = 0;
    aios_error_t err;

    while (got < n) {
        while (sent < n && sent - got < w) {
            if (aios_client_send (c, submit_request (), &err) < 0)
                cli_die ("%s", err.text);
            sent++;
        }
        json_t *rep = aios_client_recv (c, &err);
        if (!rep)
            cli_die ("%s", err.text);
        json_unpack (rep, "{s:I}", "id", &ids[got++]);
        json_decref (rep);
    }
}

/* Send a wait for every job, then read every answer. */
static void wait_all (struct aios_client *c, long n, const json_int_t *ids)
{
    aios_error_t err;
    long i, failed = 0;

    for (i = 0; i < n; i++) {
        json_t *req = proto_request ("wait", 0);
        json_object_set_new (req, "id", json_integer (ids[i]));
        if (aios_client_send (c, req, &err) < 0)
            cli_die ("%s", err.text);
    }
    for (i = 0; i < n; i++) {
        json_t *rep = aios_client_recv (c, &err);
        const char *state = "";
        if (!rep)
            cli_die ("%s", err.text);
        json_unpack (rep, "{s:s}", "state", &state);
        failed += strcmp (state, "COMPLETED") != 0;
        json_decref (rep);
    }
    if (failed)
        cli_die ("%ld job(s) did not complete", failed);
}

static void run (const char *mode, const char *submit, long n, long par)
{
    json_int_t *ids = calloc ((size_t)n, sizeof (*ids));
    struct aios_client *c = cli_connect ();
    double t0, t1, t2;

    if (!ids)
        cli_die ("out of memory");
    t0 = now ();
    if (!strcmp (mode, "procs"))
        submit_procs (submit, n, par, ids);
    else
        submit_lib (c, n, par, ids);
    t1 = now ();
    wait_all (c, n, ids);
    t2 = now ();
    printf ("%-6s N=%ld parallel=%ld  submit %.2f s = %.0f submissions/s   "
            "end-to-end %.2f s = %.0f jobs/s\n", mode, n, par, t1 - t0,
            n / (t1 - t0), t2 - t0, n / (t2 - t0));
    fflush (stdout);
    aios_client_close (c);
    free (ids);
}

int main (int argc, char **argv)
{
    static const struct option opts[] = {
        { "jobs", required_argument, NULL, 'n' },
        { "parallel", required_argument, NULL, 'P' },
        { "window", required_argument, NULL, 'W' },
        { "mode", required_argument, NULL, 'm' },
        { "submit", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long n = 2000, par = 8, win = 64;
    const char *mode = "both", *submit = NULL;
    char path[4096];
    int c;

    cli_init (argv[0]);
    while ((c = getopt_long (argc, argv, "n:P:W:m:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': n = atol (optarg); break;
        case 'P': par = atol (optarg); break;
        case 'W': win = atol (optarg); break;
        case 'm': mode = optarg; break;
        case 's': submit = optarg; break;
        case 'h':
            printf ("Usage: throughput [-n JOBS] [-P PROCS] [-W WINDOW] "
                    "[-m procs|lib|both] [-s PATH-OF-aios-submit]\n");
            return 0;
        default: return 2;
        }
    }
    if (n < 1 || par < 1 || win < 1)
        cli_usage_error ("-n, -P and -W must be positive");
    if (!submit) {
        /* the aios-submit next to this build: ../bin/aios-submit */
        ssize_t len = readlink ("/proc/self/exe", path, sizeof (path) - 32);
        char *slash;
        if (len < 0)
            cli_die ("readlink: %s", strerror (errno));
        path[len] = '\0';
        if ((slash = strrchr (path, '/')))
            *slash = '\0';
        if ((slash = strrchr (path, '/')))
            strcpy (slash, "/bin/aios-submit");
        submit = path;
    }
    if (!strcmp (mode, "procs") || !strcmp (mode, "both"))
        run ("procs", submit, n, par);
    if (!strcmp (mode, "lib") || !strcmp (mode, "both"))
        run ("lib", submit, n, win);
    return 0;
}
