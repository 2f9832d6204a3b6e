/* events - the controller's cost per event with many subscribers
 *
 * Run it against a cluster (AIOS_CONF set), for example:
 *   aios-local run --nodes 4 --cpus-per-node 16 -- bench/events -j 10000 -s 50
 *
 * Fills every CPU with one job, queues J held jobs, subscribes S clients
 * (each reads its snapshot, then drains its events), then changes E of the
 * queued jobs twice (release, then hold again; requests pipelined) and
 * waits until every subscriber has seen every change.
 * Prints the controller's CPU time per event (from /proc/PID/stat, PID from
 * controller.pid_file), the wall time until the last subscriber had all of
 * them, and the snapshot size.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"

static double now (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime + stime of pid, in seconds */
static double cpu_of (long pid)
{
    char path[64], buf[4096], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    int i;

    snprintf (path, sizeof (path), "/proc/%ld/stat", pid);
    if (!(f = fopen (path, "r")) || !fgets (buf, sizeof (buf), f))
        cli_die ("cannot read %s", path);
    fclose (f);
    p = strrchr (buf, ')');
    for (i = 0; p && i < 12; i++)
        p = strchr (p + 1, ' ');
    if (!p || sscanf (p + 1, "%lu %lu", &ut, &st) != 2)
        cli_die ("cannot parse %s", path);
    return (double)(ut + st) / (double)sysconf (_SC_CLK_TCK);
}

static long controller_pid (void)
{
    const struct aios_conf *conf = cli_conf ();
    FILE *f = fopen (conf->ctl_pid_file, "r");
    long pid = 0;

    if (!f || fscanf (f, "%ld", &pid) != 1)
        cli_die ("cannot read the controller's pid from %s", conf->ctl_pid_file);
    fclose (f);
    return pid;
}

/* Send reqs pipelined, w at a time; drain the replies. */
static void pipeline (struct aios_client *c, json_t **reqs, long n, long w)
{
    aios_error_t err;
    long sent = 0, got = 0;

    while (got < n) {
        while (sent < n && sent - got < w)
            if (aios_client_send (c, reqs[sent++], &err) < 0)
                cli_die ("%s", err.text);
        json_t *rep = aios_client_recv (c, &err);
        if (!rep)
            cli_die ("%s", err.text);
        json_decref (rep);
        got++;
    }
}

static json_t *id_request (const char *op, json_int_t id)
{
    json_t *req = proto_request (op, 0);

    json_object_set_new (req, "ids", json_pack ("[I]", id));
    return req;
}

int main (int argc, char **argv)
{
    long njobs = 10000, nsubs = 50, nchange = 1000, i, k, pid;
    struct aios_client *c, **subs;
    json_int_t *ids;
    json_t **reqs;
    long *seen;
    double cpu0, cpu1, t0, t1, snap_bytes = 0;
    char cwd[4096];
    int opt;

    cli_init (argv[0]);
    while ((opt = getopt (argc, argv, "j:s:e:h")) != -1) {
        switch (opt) {
        case 'j': njobs = atol (optarg); break;
        case 's': nsubs = atol (optarg); break;
        case 'e': nchange = atol (optarg); break;
        default:
            fprintf (stderr, "Usage: events [-j JOBS] [-s SUBSCRIBERS] "
                     "[-e CHANGED_JOBS]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (njobs < 1 || nsubs < 1 || nchange < 1 || nchange > njobs)
        cli_usage_error ("need -j >= -e >= 1 and -s >= 1");
    if (!getcwd (cwd, sizeof (cwd)))
        cli_die ("getcwd: %s", strerror (errno));
    c = cli_connect ();
    pid = controller_pid ();

    /* a job on every CPU, so that released jobs stay pending */
    {
        json_t *rep = cli_rpc (c, proto_request ("nodes", 0)), *n, *req;
        long cpus = 0;
        size_t j;
        json_array_foreach (json_object_get (rep, "nodes"), j, n)
            cpus += cli_jint (n, "cpus");
        json_decref (rep);
        req = proto_request ("submit", 0);
        json_object_set_new (req, "job",
                             json_pack ("{s:s s:s s:s s:{} s:i s:I s:i s:i s:s}",
                                        "name", "bench-events", "script",
                                        "#!/bin/sh\nsleep 3600\n", "workdir", cwd,
                                        "env", "nodes", 0, "ntasks", (json_int_t)cpus,
                                        "cpus_per_task", 1, "mem_mb", 0,
                                        "output", "/dev/null"));
        rep = cli_rpc (c, req);
        json_int_t blk = cli_jint (rep, "id");
        json_decref (rep);
        for (;;) {
            req = proto_request ("queue", 0);
            json_object_set_new (req, "ids", json_pack ("[I]", blk));
            rep = cli_rpc (c, req);
            bool running = !strcmp (cli_jstr (json_array_get (json_object_get (rep, "jobs"), 0),
                                              "state", ""), "RUNNING");
            json_decref (rep);
            if (running)
                break;
            usleep (50 * 1000);
        }
    }

    /* the queue: njobs held jobs */
    reqs = calloc ((size_t)njobs, sizeof (*reqs));
    ids = calloc ((size_t)njobs, sizeof (*ids));
    for (i = 0; i < njobs; i++) {
        json_t *req = proto_request ("submit", 0);
        json_object_set_new (req, "job",
                             json_pack ("{s:s s:s s:s s:{} s:i s:i s:i s:i s:s s:b}",
                                        "name", "bench-events", "script",
                                        "#!/bin/sh\ntrue\n", "workdir", cwd,
                                        "env", "nodes", 0, "ntasks", 1,
                                        "cpus_per_task", 1, "mem_mb", 0,
                                        "output", "/dev/null", "hold", 1));
        reqs[i] = req;
    }
    {
        aios_error_t err;
        long sent = 0, got = 0;
        while (got < njobs) {
            while (sent < njobs && sent - got < 64)
                if (aios_client_send (c, reqs[sent++], &err) < 0)
                    cli_die ("%s", err.text);
            json_t *rep = aios_client_recv (c, &err);
            if (!rep)
                cli_die ("%s", err.text);
            ids[got++] = cli_jint (rep, "id");
            json_decref (rep);
        }
    }

    /* the subscribers */
    subs = calloc ((size_t)nsubs, sizeof (*subs));
    seen = calloc ((size_t)nsubs, sizeof (*seen));
    for (k = 0; k < nsubs; k++) {
        json_t *rep;
        char *dump;
        subs[k] = cli_connect ();
        rep = cli_rpc (subs[k], proto_request ("subscribe", 0));
        if (k == 0 && (dump = json_dumps (rep, JSON_COMPACT))) {
            snap_bytes = (double)strlen (dump);
            free (dump);
        }
        json_decref (rep);
    }

    /* 2 * nchange job changes, pipelined */
    cpu0 = cpu_of (pid);
    t0 = now ();
    for (i = 0; i < nchange; i++)
        reqs[i] = id_request ("release", ids[i]);
    pipeline (c, reqs, nchange, 64);
    for (i = 0; i < nchange; i++)
        reqs[i] = id_request ("hold", ids[i]);
    pipeline (c, reqs, nchange, 64);
    /* every subscriber sees every change (and the reason changes the
     * scheduling passes make on the way) */
    for (;;) {
        struct pollfd *pfd = calloc ((size_t)nsubs, sizeof (*pfd));
        long done = 0;
        for (k = 0; k < nsubs; k++) {
            pfd[k].fd = aios_client_fd (subs[k]);
            pfd[k].events = POLLIN;
            if (seen[k] >= 2 * nchange)
                done++;
        }
        if (done == nsubs) {
            free (pfd);
            break;
        }
        if (poll (pfd, (nfds_t)nsubs, 10000) <= 0)
            cli_die ("subscribers stopped getting events (%ld of %ld done)",
                     done, nsubs);
        for (k = 0; k < nsubs; k++) {
            aios_error_t err;
            json_t *msg;
            if (!(pfd[k].revents & POLLIN))
                continue;
            if (!(msg = aios_client_recv (subs[k], &err)))
                cli_die ("subscriber %ld: %s", k, err.text);
            if (!strcmp (cli_jstr (msg, "event", ""), "job"))
                seen[k]++;
            json_decref (msg);
        }
        free (pfd);
    }
    t1 = now ();
    cpu1 = cpu_of (pid);
    printf ("jobs queued %ld, subscribers %ld, job changes %ld, snapshot %.1f MB\n",
            njobs, nsubs, 2 * nchange, snap_bytes / 1e6);
    printf ("controller CPU per change: %.1f us (%.2f us per change per "
            "subscriber); all subscribers had every change after %.2f s\n",
            (cpu1 - cpu0) / (2.0 * (double)nchange) * 1e6,
            (cpu1 - cpu0) / (2.0 * (double)nchange * (double)nsubs) * 1e6, t1 - t0);
    for (k = 0; k < nsubs; k++)
        aios_client_close (subs[k]);
    {
        json_t *req = proto_request ("cancel", 0);
        json_object_set_new (req, "name", json_string ("bench-events"));
        json_decref (cli_rpc (c, req));
    }
    aios_client_close (c);
    free (subs);
    free (seen);
    free (reqs);
    free (ids);
    return 0;
}
