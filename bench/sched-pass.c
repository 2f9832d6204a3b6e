/* sched-pass - time one scheduling pass of the core on a large cluster
 *
 *   bench/sched-pass                      the whole table
 *   bench/sched-pass --jobs 100000 --nodes 10000 --backfill easy
 *
 * Each case builds its input once: nodes of 32 CPUs in one partition, the
 * machine about 95% full of running jobs (single-core to 64-node jobs,
 * multi-node ones exclusive) with expected ends from minutes to a day away, and pending jobs
 * of mixed shapes, time limits and users submitted over the last three
 * days.  The first pass is timed alone (it sizes the core's buffers and
 * sorts the queue); then the jobs are put in the order that pass returned,
 * as the controller keeps them, and the median of the next passes is the
 * steady-state figure.  Every pass sees the same state, so does the same
 * work.  A separate case starts from an empty machine, where the pass
 * starts thousands of jobs: its figure is mostly placement.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builtin.h"
#include "cli.h"
#include "core.h"
#include "parse.h"
#include "usage.h"

enum { CPUS = 32, USERS = 100, MAX_PASSES = 101 };

static const char *usage_text =
    "Usage: sched-pass [OPTIONS]\n"
    "Time one scheduling pass with many pending jobs on many nodes.\n"
    "\n"
    "      --jobs=N          only this many pending jobs (default: 10000\n"
    "                        and 100000)\n"
    "      --nodes=N         only this many nodes (default: 1000 and 10000)\n"
    "      --policy=NAME     only this policy (fifo, sjf, priority)\n"
    "      --backfill=MODE   only this backfill (none, easy)\n"
    "      --passes=N        timed passes after the first (default 3)\n"
    "      --seed=S          random seed (default 1)\n"
    "      --estimate-depth=N  estimate starts for N jobs per partition, as\n"
    "                        the controller does (default: 1 with EASY)\n"
    "      --json            print the figures as JSON\n"
    "      --help            show this help\n";

struct bench {
    long jobs[2], nodes[2];
    int njobs, nnodes;
    const char *policy;             /* NULL = all */
    int backfill;                   /* -1 = both */
    int passes;
    uint64_t seed;
    int estimate_depth;             /* -1 = 1 with EASY, else 0 */
    bool json;
};

/* One case's input, built once. */
struct state {
    struct sched_node *nodes;
    int *part_nodes;
    struct sched_part part;
    struct sched_running *run;
    struct sched_alloc *allocs;
    int nrun;
    struct sched_job *jobs, *sorted;
    int njobs;
    double now;
};

struct result {
    long jobs, nodes;
    int running;
    const char *policy;
    const char *backfill;
    double first_us, median_us;
    int started, backfilled, tested;
};

static uint64_t rng_next (uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in lo..hi. */
static long rng_range (uint64_t *s, long lo, long hi)
{
    return lo + (long)(rng_next (s) % (uint64_t)(hi - lo + 1));
}

static double monotime (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- building the input ---------------------------------------------------- */

/* A running job before it becomes a sched_running. */
struct rjob {
    int node, n, cpus;
    double end;
};

static void add_rjob (struct rjob **v, int *nv, size_t *cap, struct rjob r)
{
    if ((size_t)*nv == *cap) {
        *cap = *cap ? 2 * *cap : 1024;
        if (!(*v = realloc (*v, *cap * sizeof (**v))))
            cli_die ("out of memory");
    }
    (*v)[(*nv)++] = r;
}

/* About 95% of the machine busy: multi-node jobs on runs of whole nodes,
 * nodes packed with small jobs, a few idle nodes. */
static int plan_running (struct rjob **v, int nnodes, double now, uint64_t *rng)
{
    size_t cap = 0;
    int nv = 0, n = 0;

    while (n < nnodes) {
        int roll = (int)rng_range (rng, 0, 99);
        if (roll < 3) {
            n++;                                    /* idle */
        } else if (roll < 23) {
            int k = 1 << rng_range (rng, 0, 6);
            if (k > nnodes - n)
                k = nnodes - n;
            add_rjob (v, &nv, &cap, (struct rjob){
                n, k, CPUS, now + (double)rng_range (rng, 60, 86400) });
            n += k;
        } else {
            int used = 0;
            while (used < CPUS - 2) {
                int c = (int)rng_range (rng, 1, 16);
                if (c > CPUS - used)
                    c = CPUS - used;
                add_rjob (v, &nv, &cap, (struct rjob){
                    n, 1, c, now + (double)rng_range (rng, 60, 86400) });
                used += c;
            }
            n++;
        }
    }
    return nv;
}

static void make_running (struct state *st, int nnodes, uint64_t *rng)
{
    struct rjob *v = NULL;
    int nv = plan_running (&v, nnodes, st->now, rng), r, i, off = 0;

    for (r = 0; r < nv; r++)
        off += v[r].n;
    st->run = calloc ((size_t)nv + 1, sizeof (*st->run));
    st->allocs = calloc ((size_t)off + 1, sizeof (*st->allocs));
    if (!st->run || !st->allocs)
        cli_die ("out of memory");
    for (r = 0, off = 0; r < nv; r++) {
        for (i = 0; i < v[r].n; i++) {
            struct sched_alloc *a = &st->allocs[off + i];
            a->node = v[r].node + i;
            a->tasks = v[r].n > 1 ? 1 : v[r].cpus;
            a->cpus = v[r].cpus;
        }
        st->run[r] = (struct sched_running){
            .id = 1000000000ULL + (uint64_t)r, .end = v[r].end,
            .alloc = &st->allocs[off], .nalloc = v[r].n,
            .exclusive = v[r].n > 1,
        };
        off += v[r].n;
    }
    st->nrun = nv;
    free (v);
}

static void make_job (struct sched_job *j, uint64_t id, double now, uint64_t *rng)
{
    static const long limits[] = { 300, 1800, 3600, 7200, 14400, 43200, 86400 };
    int roll = (int)rng_range (rng, 0, 99);

    memset (j, 0, sizeof (*j));
    j->id = id;
    j->submit_time = now - (double)rng_range (rng, 0, 3 * 86400);
    j->time_limit = limits[rng_range (rng, 0, 6)];
    j->uid = (uint32_t)rng_range (rng, 1, USERS);
    j->cpus_per_task = 1;
    if (roll < 50) {                        /* packed, one node at most */
        j->ntasks = 1 << rng_range (rng, 0, 5);
    } else if (roll < 80) {                 /* whole nodes by task count */
        j->nodes = 1 << rng_range (rng, 0, 6);
        j->ntasks = j->nodes * CPUS;
    } else {                                /* exclusive */
        j->nodes = (int)rng_range (rng, 1, 16);
        j->ntasks = j->nodes;
        j->exclusive = true;
    }
}

static void state_build (struct state *st, long njobs, long nnodes,
                         bool empty, uint64_t seed)
{
    uint64_t rng = seed;
    struct usage *u = usage_create (7 * 86400);
    long i;

    memset (st, 0, sizeof (*st));
    st->now = 1.8e9;
    st->nodes = calloc ((size_t)nnodes, sizeof (*st->nodes));
    st->part_nodes = calloc ((size_t)nnodes, sizeof (int));
    st->jobs = calloc ((size_t)njobs, sizeof (*st->jobs));
    st->sorted = calloc ((size_t)njobs, sizeof (*st->jobs));
    if (!st->nodes || !st->part_nodes || !st->jobs || !st->sorted || !u)
        cli_die ("out of memory");
    for (i = 0; i < nnodes; i++) {
        st->nodes[i] = (struct sched_node){ .cpus = CPUS, .mem_mb = 262144,
                                            .usable = true };
        st->part_nodes[i] = (int)i;
    }
    st->part = (struct sched_part){ "batch", st->part_nodes, (int)nnodes, -1, 1 };
    if (!empty)
        make_running (st, (int)nnodes, &rng);
    for (i = 0; i < njobs; i++)
        make_job (&st->jobs[i], (uint64_t)i + 1, st->now, &rng);
    for (i = 1; i <= USERS; i++)
        if (usage_add (u, (uint32_t)i, (double)rng_range (&rng, 0, 1000000),
                       st->now - (double)rng_range (&rng, 0, 86400)) < 0)
            cli_die ("out of memory");
    if (usage_fill (u, st->jobs, (int)njobs, st->now) < 0)
        cli_die ("out of memory");
    usage_destroy (u);
    st->njobs = (int)njobs;
}

static void state_free (struct state *st)
{
    free (st->nodes);
    free (st->part_nodes);
    free (st->run);
    free (st->allocs);
    free (st->jobs);
    free (st->sorted);
}

/* --- timing ---------------------------------------------------------------- */

static int dbl_cmp (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double timed_pass (struct sched *s, const struct sched_input *in)
{
    double t0 = monotime ();

    if (sched_pass (s, in) < 0)
        cli_die ("sched_pass: %s", strerror (errno));
    return (monotime () - t0) * 1e6;
}

static void run_case (const struct state *st, const struct bench *b,
                      const struct aios_policy_ops *ops, int backfill,
                      struct result *res)
{
    static const struct aios_policy_weights w = {
        .age = 1000, .fairshare = 10000, .size = 1000, .max_age = 7 * 86400,
    };
    struct sched_input in = {
        .now = st->now, .nodes = st->nodes, .nnodes = st->part.nnodes,
        .parts = &st->part, .nparts = 1, .running = st->run,
        .nrunning = st->nrun, .jobs = st->jobs, .njobs = st->njobs,
        .policy = ops, .weights = &w, .backfill = backfill,
        .estimate_depth = b->estimate_depth >= 0 ? b->estimate_depth
                          : backfill == SCHED_BACKFILL_EASY ? 1 : 0,
    };
    struct sched *s = sched_create ();
    double t[MAX_PASSES];
    const int *order;
    int i;

    if (!s)
        cli_die ("out of memory");
    res->first_us = timed_pass (s, &in);
    order = sched_order (s);
    for (i = 0; i < st->njobs; i++)
        st->sorted[i] = st->jobs[order[i]];
    in.jobs = st->sorted;
    for (i = 0; i < b->passes; i++)
        t[i] = timed_pass (s, &in);
    qsort (t, (size_t)b->passes, sizeof (double), dbl_cmp);
    res->median_us = t[b->passes / 2];
    res->started = sched_stats (s)->started;
    res->backfilled = sched_stats (s)->backfilled;
    res->tested = sched_stats (s)->tested;
    res->jobs = st->njobs;
    res->nodes = st->part.nnodes;
    res->running = st->nrun;
    res->policy = ops->name;
    res->backfill = backfill == SCHED_BACKFILL_EASY ? "easy" : "none";
    sched_destroy (s);
}

/* --- output ---------------------------------------------------------------- */

static void print_header (const char *title)
{
    printf ("%s\n%8s %7s %8s %-9s %-8s %12s %12s %8s %10s %8s\n", title,
            "JOBS", "NODES", "RUNNING", "POLICY", "BACKFILL", "FIRST(us)",
            "MEDIAN(us)", "STARTED", "BACKFILLED", "TESTED");
}

static void print_row (const struct result *r)
{
    printf ("%8ld %7ld %8d %-9s %-8s %12.0f %12.0f %8d %10d %8d\n", r->jobs,
            r->nodes, r->running, r->policy, r->backfill, r->first_us,
            r->median_us, r->started, r->backfilled, r->tested);
    fflush (stdout);
}

static json_t *result_json (const struct result *r, bool empty)
{
    json_t *o = json_pack ("{s:I s:I s:i s:s s:s s:b s:f s:f s:i s:i s:i}",
                           "jobs", (json_int_t)r->jobs,
                           "nodes", (json_int_t)r->nodes,
                           "running", r->running, "policy", r->policy,
                           "backfill", r->backfill, "empty_machine", empty,
                           "first_us", r->first_us, "median_us", r->median_us,
                           "started", r->started, "backfilled", r->backfilled,
                           "tested", r->tested);
    if (!o)
        cli_die ("out of memory");
    return o;
}

/* --- main ------------------------------------------------------------------ */

static void run_size (const struct bench *b, long njobs, long nnodes,
                      bool empty, json_t *out)
{
    static const char *policies[] = { "fifo", "sjf", "priority" };
    struct state st;
    size_t p;
    int bf;

    state_build (&st, njobs, nnodes, empty, b->seed);
    for (p = 0; p < 3; p++) {
        struct aios_policy_ops ops;
        if (b->policy && strcmp (b->policy, policies[p]))
            continue;
        if (policy_builtin (policies[p], &ops) < 0)
            cli_die ("policy %s: %s", policies[p], strerror (errno));
        for (bf = SCHED_BACKFILL_NONE; bf <= SCHED_BACKFILL_EASY; bf++) {
            struct result r;
            if (b->backfill >= 0 && bf != b->backfill)
                continue;
            run_case (&st, b, &ops, bf, &r);
            if (out)
                json_array_append_new (out, result_json (&r, empty));
            else
                print_row (&r);
        }
    }
    state_free (&st);
}

static void parse_args (struct bench *b, int argc, char **argv)
{
    static const struct option opts[] = {
        { "jobs", required_argument, NULL, 'j' },
        { "nodes", required_argument, NULL, 'n' },
        { "policy", required_argument, NULL, 'p' },
        { "backfill", required_argument, NULL, 'b' },
        { "passes", required_argument, NULL, 'P' },
        { "seed", required_argument, NULL, 's' },
        { "estimate-depth", required_argument, NULL, 'E' },
        { "json", no_argument, NULL, 'J' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct aios_policy_ops ops;
    long v;
    int c;

    opterr = 0;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
        case 'n':
        case 'P':
        case 's':
            if (parse_long (optarg, c == 's' ? 0 : 1,
                            c == 'P' ? MAX_PASSES - 1 : 100000000, &v, NULL) < 0)
                cli_usage_error ("--%s: \"%s\" is out of range",
                                 opts[c == 'j' ? 0 : c == 'n' ? 1 : c == 'P' ? 4 : 5].name,
                                 optarg);
            if (c == 'j')
                b->jobs[0] = v, b->njobs = 1;
            else if (c == 'n')
                b->nodes[0] = v, b->nnodes = 1;
            else if (c == 'P')
                b->passes = (int)v;
            else
                b->seed = (uint64_t)v;
            break;
        case 'E':
            if (parse_long (optarg, 0, 100000000, &v, NULL) < 0)
                cli_usage_error ("--estimate-depth: \"%s\" is out of range", optarg);
            b->estimate_depth = (int)v;
            break;
        case 'p':
            if (policy_builtin (optarg, &ops) < 0)
                cli_usage_error ("--policy: unknown policy \"%s\" (expected %s)",
                                 optarg, policy_builtin_names ());
            b->policy = optarg;
            break;
        case 'b':
            if (strcmp (optarg, "none") && strcmp (optarg, "easy"))
                cli_usage_error ("--backfill: \"%s\" is not none or easy", optarg);
            b->backfill = !strcmp (optarg, "easy");
            break;
        case 'J': b->json = true; break;
        case 'h': fputs (usage_text, stdout); exit (CLI_OK);
        default:
            cli_usage_error ("unknown or incomplete option \"%s\"",
                             argv[optind - 1]);
        }
    }
    if (optind < argc)
        cli_usage_error ("unexpected argument \"%s\"", argv[optind]);
}

int main (int argc, char **argv)
{
    struct bench b = { { 10000, 100000 }, { 1000, 10000 }, 2, 2, NULL, -1, 3,
                       1, -1, false };
    json_t *out = NULL;
    int i, k;

    cli_init (argv[0]);
    parse_args (&b, argc, argv);
    if (b.json && !(out = json_array ()))
        cli_die ("out of memory");
    if (!out)
        print_header ("Busy machine (about 95% of CPUs in use): "
                      "microseconds per pass");
    for (i = 0; i < b.njobs; i++)
        for (k = 0; k < b.nnodes; k++)
            run_size (&b, b.jobs[i], b.nodes[k], false, out);
    if (!out)
        print_header ("\nEmpty machine: the pass starts jobs until it is full");
    run_size (&b, b.njobs == 1 ? b.jobs[0] : 100000,
              b.nnodes == 1 ? b.nodes[0] : 10000, true, out);
    if (out) {
        json_t *o = json_pack ("{s:i s:i s:o}", "version", 1, "cpus_per_node",
                               CPUS, "cases", out);
        if (!o || json_dumpf (o, stdout, JSON_INDENT (2)) < 0)
            cli_die ("cannot print the JSON output");
        putchar ('\n');
        json_decref (o);
    }
    return CLI_OK;
}
