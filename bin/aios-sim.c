/* aios-sim - replay a workload through the scheduling core in virtual time
 *
 * The workload is an SWF trace or a synthetic Poisson stream.  Time is
 * virtual: at each distinct event time all completions and arrivals at that
 * time are applied, then one sched_pass() runs with now = that time, and the
 * jobs it starts run for their actual run time (at most their limit).  The
 * only clock read measures the simulator's own speed.
 *
 * The same core and policy code as the controller decide everything; the
 * simulator only keeps the queue (in the last pass's order, new arrivals
 * appended), the running jobs and the figures.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
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
#include "errprintf.h"
#include "parse.h"
#include "usage.h"

static const char *usage_text =
    "Usage: aios-sim --trace FILE [OPTIONS]\n"
    "       aios-sim --synthetic poisson --arrival-rate R --runtime DIST\n"
    "                --jobs N --nodes N --cpus-per-node C [OPTIONS]\n"
    "Replay a workload through the scheduling core in virtual time.\n"
    "\n"
    "Workload:\n"
    "      --trace=FILE              an SWF trace\n"
    "      --window=START:COUNT      only jobs START..START+COUNT-1 of the\n"
    "                                trace, on an empty machine (repeatable)\n"
    "      --estimate=requested|actual  time limit: the requested time\n"
    "                                (default) or the actual run time\n"
    "      --synthetic=poisson       a synthetic workload: Poisson arrivals\n"
    "      --arrival-rate=R          jobs per second\n"
    "      --runtime=DIST            exp:MEAN or lognormal:MU,SIGMA (seconds)\n"
    "      --job-nodes=K|uniform:A-B nodes per job (default 1)\n"
    "      --jobs=N                  number of synthetic jobs\n"
    "      --seed=S                  random seed (default 1)\n"
    "Machine and scheduler:\n"
    "      --nodes=N                 nodes (default: the trace's MaxNodes)\n"
    "      --cpus-per-node=C         CPUs per node (default: the trace's\n"
    "                                MaxProcs / MaxNodes, or 1)\n"
    "      --policy=NAME             fifo (default), sjf or priority\n"
    "      --backfill=none|easy      backfill (default none)\n"
    "Output:\n"
    "      --json                    print the figures as JSON\n"
    "      --jobs-csv=FILE           write id,submit,start,end,wait,run,nodes\n"
    "                                for every job to FILE\n"
    "      --help                    show this help\n"
    "  -V, --version                 show the version\n";

enum {
    OPT_TRACE = 256, OPT_WINDOW, OPT_ESTIMATE, OPT_SYNTHETIC, OPT_RATE,
    OPT_RUNTIME, OPT_JOB_NODES, OPT_JOBS, OPT_SEED, OPT_NODES, OPT_CPUS,
    OPT_POLICY, OPT_BACKFILL, OPT_JSON, OPT_CSV, OPT_HELP,
};

static const struct option opts[] = {
    { "trace", required_argument, NULL, OPT_TRACE },
    { "window", required_argument, NULL, OPT_WINDOW },
    { "estimate", required_argument, NULL, OPT_ESTIMATE },
    { "synthetic", required_argument, NULL, OPT_SYNTHETIC },
    { "arrival-rate", required_argument, NULL, OPT_RATE },
    { "runtime", required_argument, NULL, OPT_RUNTIME },
    { "job-nodes", required_argument, NULL, OPT_JOB_NODES },
    { "jobs", required_argument, NULL, OPT_JOBS },
    { "seed", required_argument, NULL, OPT_SEED },
    { "nodes", required_argument, NULL, OPT_NODES },
    { "cpus-per-node", required_argument, NULL, OPT_CPUS },
    { "policy", required_argument, NULL, OPT_POLICY },
    { "backfill", required_argument, NULL, OPT_BACKFILL },
    { "json", no_argument, NULL, OPT_JSON },
    { "jobs-csv", required_argument, NULL, OPT_CSV },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

enum runtime_dist { RUNTIME_EXP, RUNTIME_LOGNORMAL };

struct window {
    long start;
    long count;
};

struct config {
    const char *trace;
    bool synthetic;
    double rate;
    enum runtime_dist dist;
    double dist_a, dist_b;          /* mean; or mu, sigma */
    bool dist_set;
    long nodes_lo, nodes_hi;        /* nodes per synthetic job */
    long njobs;
    uint64_t seed;
    long nodes, cpus;               /* 0 = from the trace */
    const char *policy_name;
    struct aios_policy_ops policy;
    enum sched_backfill backfill;
    bool estimate_actual;
    struct window *windows;
    size_t nwindows;
    bool json;
    const char *jobs_csv;
};

/* One job of the workload. */
struct wjob {
    uint64_t id;
    double submit;
    double run;                     /* actual run time, before the limit */
    long limit;                     /* seconds, >= 1 */
    int nodes;
    uint32_t uid;
    size_t seq;                     /* record order, breaks ties */
};

struct workload {
    struct wjob *jobs;              /* sorted by submit time */
    size_t n, cap;
    long max_nodes, max_procs;      /* SWF header, 0 = absent */
    size_t dropped;                 /* run time <= 0, no processors, too big */
};

/* What one simulated job did. */
struct jstate {
    double start, end;
    double resv;                    /* first reserved start, -1 = never */
    struct sched_alloc *alloc;      /* while running */
    int run_pos;                    /* index in sim.run, while running */
};

struct figures {
    size_t jobs;
    double mean_wait;
    double mean_bsld;
    double utilization;
    double makespan;
    size_t passes;
    size_t reserved;
    size_t violations;
    size_t backfilled;
    double wall;
    double jobs_per_s;
};

struct hent {
    double end;
    int ix;
};

struct sim {
    const struct config *cfg;
    const struct wjob *jobs;        /* this run's jobs, sorted by submit */
    size_t n;
    struct jstate *st;

    struct sched_node *nodes;
    int *part_nodes;
    struct sched_part part;
    struct aios_policy_weights weights;
    struct sched *sched;
    struct usage *usage;

    struct sched_job *pend, *pend_next;     /* queue, last pass's order */
    int *pend_ix, *pend_ix_next;
    size_t npend, pend_cap;

    struct sched_running *run;
    int *run_ix;
    size_t nrun;

    struct hent *heap;              /* running jobs by actual end */
    size_t nheap;

    struct figures fig;
};

/* --- small helpers --------------------------------------------------------- */

static void *xrealloc (void *p, size_t n)
{
    if (!(p = realloc (p, n ? n : 1)))
        cli_die ("out of memory");
    return p;
}

static double monotime (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The whole of s as a finite number. */
static int parse_num (const char *s, double *v)
{
    char *end;

    if (!s || !*s || isspace ((unsigned char)*s))
        return -1;
    errno = 0;
    *v = strtod (s, &end);
    if (errno || *end || !isfinite (*v))
        return -1;
    return 0;
}

/* splitmix64: small, fast, the same on every machine */
static uint64_t rng_next (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit (uint64_t *state)
{
    return (double)(rng_next (state) >> 11) * 0x1.0p-53;
}

static double rng_exp (uint64_t *state, double mean)
{
    return -mean * log (1.0 - rng_unit (state));
}

static double rng_normal (uint64_t *state)
{
    double u1 = 1.0 - rng_unit (state), u2 = rng_unit (state);

    return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

/* --- options --------------------------------------------------------------- */

static long opt_long (const char *name, const char *arg, long min, long max)
{
    aios_error_t err;
    long v;

    if (parse_long (arg, min, max, &v, &err) < 0)
        cli_usage_error ("--%s: \"%s\" is not an integer in %ld..%ld", name,
                         arg, min, max);
    return v;
}

static double opt_positive (const char *name, const char *arg)
{
    double v;

    if (parse_num (arg, &v) < 0 || v <= 0)
        cli_usage_error ("--%s: \"%s\" is not a positive number", name, arg);
    return v;
}

static void opt_runtime (struct config *c, const char *arg)
{
    char *comma;
    char buf[128];

    if (!strncmp (arg, "exp:", 4)) {
        c->dist = RUNTIME_EXP;
        c->dist_a = opt_positive ("runtime", arg + 4);
        c->dist_set = true;
        return;
    }
    if (strncmp (arg, "lognormal:", 10) || strlen (arg) >= sizeof (buf))
        goto bad;
    snprintf (buf, sizeof (buf), "%s", arg + 10);
    if (!(comma = strchr (buf, ',')))
        goto bad;
    *comma = '\0';
    c->dist = RUNTIME_LOGNORMAL;
    if (parse_num (buf, &c->dist_a) < 0)
        goto bad;
    c->dist_b = opt_positive ("runtime", comma + 1);
    c->dist_set = true;
    return;
bad:
    cli_usage_error ("--runtime: \"%s\" is not exp:MEAN or lognormal:MU,SIGMA",
                     arg);
}

static void opt_job_nodes (struct config *c, const char *arg)
{
    char buf[64], *dash;

    if (strncmp (arg, "uniform:", 8)) {
        c->nodes_lo = c->nodes_hi = opt_long ("job-nodes", arg, 1, 1000000);
        return;
    }
    snprintf (buf, sizeof (buf), "%s", arg + 8);
    if (!(dash = strchr (buf, '-')))
        cli_usage_error ("--job-nodes: \"%s\" is not K or uniform:A-B", arg);
    *dash = '\0';
    c->nodes_lo = opt_long ("job-nodes", buf, 1, 1000000);
    c->nodes_hi = opt_long ("job-nodes", dash + 1, c->nodes_lo, 1000000);
}

static void opt_window (struct config *c, const char *arg)
{
    char buf[64], *colon;
    struct window *w;

    snprintf (buf, sizeof (buf), "%s", arg);
    if (!(colon = strchr (buf, ':')))
        cli_usage_error ("--window: \"%s\" is not START:COUNT", arg);
    *colon = '\0';
    c->windows = xrealloc (c->windows, (c->nwindows + 1) * sizeof (*w));
    w = &c->windows[c->nwindows++];
    w->start = opt_long ("window", buf, 0, 1000000000);
    w->count = opt_long ("window", colon + 1, 1, 1000000000);
}

static void opt_choice (const char *name, const char *arg, const char *a,
                        const char *b, bool *is_b)
{
    if (!strcmp (arg, a))
        *is_b = false;
    else if (!strcmp (arg, b))
        *is_b = true;
    else
        cli_usage_error ("--%s: unknown value \"%s\" (expected %s or %s)",
                         name, arg, a, b);
}

static void apply_option (struct config *c, int opt, const char *arg)
{
    bool b;

    switch (opt) {
    case OPT_TRACE: c->trace = arg; break;
    case OPT_WINDOW: opt_window (c, arg); break;
    case OPT_ESTIMATE:
        opt_choice ("estimate", arg, "requested", "actual", &c->estimate_actual);
        break;
    case OPT_SYNTHETIC:
        if (strcmp (arg, "poisson"))
            cli_usage_error ("--synthetic: unknown model \"%s\" (expected poisson)",
                             arg);
        c->synthetic = true;
        break;
    case OPT_RATE: c->rate = opt_positive ("arrival-rate", arg); break;
    case OPT_RUNTIME: opt_runtime (c, arg); break;
    case OPT_JOB_NODES: opt_job_nodes (c, arg); break;
    case OPT_JOBS: c->njobs = opt_long ("jobs", arg, 1, 100000000); break;
    case OPT_SEED: c->seed = (uint64_t)opt_long ("seed", arg, 0, LONG_MAX); break;
    case OPT_NODES: c->nodes = opt_long ("nodes", arg, 1, 10000000); break;
    case OPT_CPUS: c->cpus = opt_long ("cpus-per-node", arg, 1, 1000000); break;
    case OPT_POLICY: c->policy_name = arg; break;
    case OPT_BACKFILL:
        opt_choice ("backfill", arg, "none", "easy", &b);
        c->backfill = b ? SCHED_BACKFILL_EASY : SCHED_BACKFILL_NONE;
        break;
    case OPT_JSON: c->json = true; break;
    case OPT_CSV: c->jobs_csv = arg; break;
    case OPT_HELP: fputs (usage_text, stdout); exit (CLI_OK);
    case 'V': cli_version ();
    }
}

/* Options that only make sense together. */
static void check_config (struct config *c)
{
    if (!c->trace == !c->synthetic)
        cli_usage_error ("give exactly one of --trace and --synthetic");
    if (policy_builtin (c->policy_name, &c->policy) < 0)
        cli_usage_error ("--policy: unknown policy \"%s\" (expected %s)",
                         c->policy_name, policy_builtin_names ());
    if (c->synthetic) {
        if (c->rate <= 0 || !c->dist_set || c->njobs <= 0)
            cli_usage_error ("--synthetic needs --arrival-rate, --runtime "
                             "and --jobs");
        if (c->nodes <= 0 || c->cpus <= 0)
            cli_usage_error ("--synthetic needs --nodes and --cpus-per-node");
        if (c->nwindows > 0 || c->estimate_actual)
            cli_usage_error ("--window and --estimate apply to --trace only");
    } else if (c->rate > 0 || c->dist_set || c->njobs > 0
               || c->nodes_lo != 1 || c->nodes_hi != 1) {
        cli_usage_error ("--arrival-rate, --runtime, --job-nodes and --jobs "
                         "apply to --synthetic only");
    }
}

static void parse_args (struct config *c, int argc, char **argv)
{
    int opt;

    opterr = 0;
    while ((opt = getopt_long (argc, argv, "V", opts, NULL)) != -1) {
        if (opt == '?' || opt == ':')
            cli_usage_error ("unknown or incomplete option \"%s\"",
                             argv[optind - 1]);
        apply_option (c, opt, optarg);
    }
    if (optind < argc)
        cli_usage_error ("unexpected argument \"%s\"", argv[optind]);
    check_config (c);
}

/* --- workloads ------------------------------------------------------------- */

static struct wjob *workload_add (struct workload *w)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 1024;
        w->jobs = xrealloc (w->jobs, w->cap * sizeof (*w->jobs));
    }
    return &w->jobs[w->n++];
}

static const char *swf_fields[18] = {
    "job number", "submit time", "wait time", "run time",
    "allocated processors", "average CPU time", "used memory",
    "requested processors", "requested time", "requested memory", "status",
    "user id", "group id", "executable", "queue", "partition",
    "preceding job", "think time",
};

/* "; MaxNodes: 256" and the like.  Unknown keys are ignored. */
static int swf_header (struct workload *w, const char *line, const char *where,
                       aios_error_t *err)
{
    static const char *keys[] = { "MaxNodes:", "MaxProcs:" };
    long *vals[] = { &w->max_nodes, &w->max_procs };
    char val[64];
    size_t i;

    line += strspn (line, "; \t");
    for (i = 0; i < 2; i++) {
        size_t len = strlen (keys[i]);
        if (strncmp (line, keys[i], len))
            continue;
        line += len;
        line += strspn (line, " \t");
        snprintf (val, sizeof (val), "%.*s", (int)strcspn (line, " \t\r\n"),
                  line);
        if (parse_long (val, 1, 100000000, vals[i], NULL) < 0)
            return errprintf (err, "%s: %.*s \"%s\" is not a positive integer",
                              where, (int)len - 1, keys[i], val);
    }
    return 0;
}

/* Split one record into its 18 numbers. */
static int swf_fields_of (char *line, double f[18], const char *where,
                          aios_error_t *err)
{
    const char *sep = " \t\r\n";
    char *tok, *save = NULL;
    int n = 0;

    for (tok = strtok_r (line, sep, &save); tok; tok = strtok_r (NULL, sep, &save)) {
        if (n < 18 && parse_num (tok, &f[n]) < 0)
            return errprintf (err, "%s: field %d (%s) is not a number: \"%s\"",
                              where, n + 1, swf_fields[n], tok);
        n++;
    }
    if (n != 18)
        return errprintf (err, "%s: expected 18 fields, found %d", where, n);
    if (f[1] < 0)
        return errprintf (err, "%s: field 2 (submit time) is negative", where);
    return 0;
}

/* Keep one record: run time, processors (converted to nodes later in
 * ->nodes), requested time, user.  Unrunnable records are dropped. */
static void swf_record (struct workload *w, const double f[18], size_t seq)
{
    double procs = f[4] > f[7] ? f[4] : f[7];
    struct wjob *j;

    if (f[3] <= 0 || procs < 1 || procs > 1e9) {
        w->dropped++;
        return;
    }
    j = workload_add (w);
    j->id = f[0] > 0 ? (uint64_t)f[0] : seq;
    j->submit = f[1];
    j->run = f[3];
    j->limit = (long)ceil (f[8] > 0 ? f[8] : f[3]);
    j->nodes = (int)procs;
    j->uid = f[11] > 0 && f[11] < 4e9 ? (uint32_t)f[11] : 0;
    j->seq = seq;
}

static int swf_read (struct workload *w, FILE *fp, const char *path,
                     aios_error_t *err)
{
    char *line = NULL, where[300];
    size_t cap = 0, lineno = 0, seq = 0;
    double f[18];
    int rc = 0;

    while (rc == 0 && getline (&line, &cap, fp) >= 0) {
        const char *p = line + strspn (line, " \t\r\n");
        snprintf (where, sizeof (where), "%s:%zu", path, ++lineno);
        if (*p == '\0')
            continue;
        if (*p == ';')
            rc = swf_header (w, p, where, err);
        else if ((rc = swf_fields_of (line, f, where, err)) == 0)
            swf_record (w, f, ++seq);
    }
    if (rc == 0 && ferror (fp))
        rc = errprintf (err, "%s: read error", path);
    free (line);
    return rc;
}

static int wjob_cmp (const void *a, const void *b)
{
    const struct wjob *x = a, *y = b;

    if (x->submit != y->submit)
        return x->submit < y->submit ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Processors to whole nodes of the traced machine; drop what cannot fit
 * the simulated one.  Records stay in file order among equal submits. */
static void swf_convert (struct workload *w, long machine_nodes)
{
    long ppn = w->max_procs > 0 && w->max_nodes > 0
        ? w->max_procs / w->max_nodes : 1;
    size_t i, k = 0;

    if (ppn < 1)
        ppn = 1;
    for (i = 0; i < w->n; i++) {
        struct wjob j = w->jobs[i];
        long nodes = ((long)j.nodes + ppn - 1) / ppn;
        if (nodes > machine_nodes) {
            w->dropped++;
            continue;
        }
        j.nodes = (int)nodes;
        w->jobs[k++] = j;
    }
    w->n = k;
    qsort (w->jobs, k, sizeof (*w->jobs), wjob_cmp);
}

static int load_trace (struct config *c, struct workload *w, aios_error_t *err)
{
    FILE *fp = fopen (c->trace, "r");
    int rc;

    if (!fp)
        return errprintf (err, "%s: cannot open: %s", c->trace, strerror (errno));
    rc = swf_read (w, fp, c->trace, err);
    fclose (fp);
    if (rc < 0)
        return -1;
    if (c->nodes <= 0)
        c->nodes = w->max_nodes > 0 ? w->max_nodes : w->max_procs;
    if (c->nodes <= 0)
        return errprintf (err, "%s: no MaxNodes or MaxProcs in the header: "
                          "give --nodes", c->trace);
    if (c->cpus <= 0)
        c->cpus = w->max_procs > 0 && w->max_nodes > 0
            && w->max_procs >= w->max_nodes ? w->max_procs / w->max_nodes : 1;
    swf_convert (w, c->nodes);
    return 0;
}

static void make_synthetic (const struct config *c, struct workload *w)
{
    uint64_t rng = c->seed, urng = c->seed ^ 0x5851f42d4c957f2dULL;
    double t = 0;
    long i;

    for (i = 0; i < c->njobs; i++) {
        struct wjob j = { .id = (uint64_t)i + 1 };
        t += rng_exp (&rng, 1.0 / c->rate);
        j.submit = t;
        if (c->dist == RUNTIME_EXP)
            j.run = rng_exp (&rng, c->dist_a);
        else
            j.run = exp (c->dist_a + c->dist_b * rng_normal (&rng));
        j.limit = (long)ceil (j.run) > 0 ? (long)ceil (j.run) : 1;
        j.nodes = (int)(c->nodes_lo
                        + (long)(rng_unit (&rng)
                                 * (double)(c->nodes_hi - c->nodes_lo + 1)));
        j.uid = 1 + (uint32_t)(rng_next (&urng) % 16);
        if (j.nodes > c->nodes)
            w->dropped++;
        else
            *workload_add (w) = j;
    }
}

/* --- the simulation -------------------------------------------------------- */

static void heap_push (struct sim *s, double end, int ix)
{
    size_t i = s->nheap++;

    while (i > 0 && s->heap[(i - 1) / 2].end > end) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = (struct hent){ end, ix };
}

static int heap_pop (struct sim *s)
{
    int top = s->heap[0].ix;
    struct hent last = s->heap[--s->nheap];
    size_t i = 0, c;

    while ((c = 2 * i + 1) < s->nheap) {
        if (c + 1 < s->nheap && s->heap[c + 1].end < s->heap[c].end)
            c++;
        if (last.end <= s->heap[c].end)
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->nheap > 0)
        s->heap[i] = last;
    return top;
}

/* The job's time limit and how long it really runs (killed at its limit). */
static long job_limit (const struct sim *s, int ix)
{
    const struct wjob *w = &s->jobs[ix];
    long actual = (long)ceil (w->run);

    if (s->cfg->estimate_actual)
        return actual > 0 ? actual : 1;
    return w->limit;
}

static double job_run (const struct sim *s, int ix)
{
    double limit = (double)job_limit (s, ix);

    return s->jobs[ix].run < limit ? s->jobs[ix].run : limit;
}

static void sim_init (struct sim *s, const struct config *c,
                      const struct wjob *jobs, size_t n)
{
    size_t i;

    memset (s, 0, sizeof (*s));
    s->cfg = c;
    s->jobs = jobs;
    s->n = n;
    s->st = cli_xmalloc (n * sizeof (*s->st));
    for (i = 0; i < n; i++)
        s->st[i].resv = -1;
    s->nodes = cli_xmalloc ((size_t)c->nodes * sizeof (*s->nodes));
    s->part_nodes = cli_xmalloc ((size_t)c->nodes * sizeof (int));
    for (i = 0; i < (size_t)c->nodes; i++) {
        s->nodes[i].cpus = (int)c->cpus;
        s->nodes[i].usable = true;
        s->part_nodes[i] = (int)i;
    }
    s->part = (struct sched_part){ "sim", s->part_nodes, (int)c->nodes, -1, 0 };
    s->weights = (struct aios_policy_weights){
        .age = 1000, .fairshare = 10000, .size = 1000, .max_age = 7 * 86400,
    };
    if (!(s->sched = sched_create ()))
        cli_die ("out of memory");
    if (!strcmp (c->policy.name, "priority")
        && !(s->usage = usage_create (7 * 86400)))
        cli_die ("out of memory");
    /* every running job holds at least one node */
    s->run = cli_xmalloc ((size_t)c->nodes * sizeof (*s->run));
    s->run_ix = cli_xmalloc ((size_t)c->nodes * sizeof (int));
    s->heap = cli_xmalloc ((size_t)c->nodes * sizeof (*s->heap));
}

static void sim_fini (struct sim *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free (s->st[i].alloc);
    free (s->st);
    free (s->nodes);
    free (s->part_nodes);
    sched_destroy (s->sched);
    usage_destroy (s->usage);
    free (s->pend);
    free (s->pend_next);
    free (s->pend_ix);
    free (s->pend_ix_next);
    free (s->run);
    free (s->run_ix);
    free (s->heap);
}

/* Job ix joins the end of the queue. */
static void arrive (struct sim *s, int ix)
{
    const struct wjob *w = &s->jobs[ix];
    struct sched_job *j;

    if (s->npend == s->pend_cap) {
        size_t cap = s->pend_cap ? 2 * s->pend_cap : 1024;
        s->pend = xrealloc (s->pend, cap * sizeof (*s->pend));
        s->pend_next = xrealloc (s->pend_next, cap * sizeof (*s->pend));
        s->pend_ix = xrealloc (s->pend_ix, cap * sizeof (int));
        s->pend_ix_next = xrealloc (s->pend_ix_next, cap * sizeof (int));
        s->pend_cap = cap;
    }
    j = &s->pend[s->npend];
    memset (j, 0, sizeof (*j));
    j->id = w->id;
    j->submit_time = w->submit;
    j->time_limit = job_limit (s, ix);
    j->nodes = w->nodes;
    j->ntasks = w->nodes;
    j->cpus_per_task = (int)s->cfg->cpus;
    j->uid = w->uid;
    s->pend_ix[s->npend++] = ix;
}

/* Start job ix at t on the nodes the pass gave it. */
static void start (struct sim *s, int ix, const struct sched_result *r, double t)
{
    struct jstate *st = &s->st[ix];
    size_t size = (size_t)r->nalloc * sizeof (*r->alloc);

    st->start = t;
    st->end = t + job_run (s, ix);
    st->alloc = memcpy (cli_xmalloc (size), r->alloc, size);
    st->run_pos = (int)s->nrun;
    s->run[s->nrun] = (struct sched_running){
        s->jobs[ix].id, t + (double)job_limit (s, ix), st->alloc, r->nalloc,
        false,
    };
    s->run_ix[s->nrun++] = ix;
    heap_push (s, st->end, ix);
    if (st->resv >= 0 && t > st->resv)
        s->fig.violations++;
    if (r->backfilled)
        s->fig.backfilled++;
}

static void complete (struct sim *s, int ix, double t)
{
    struct jstate *st = &s->st[ix];
    size_t last = --s->nrun;

    if ((size_t)st->run_pos != last) {
        s->run[st->run_pos] = s->run[last];
        s->run_ix[st->run_pos] = s->run_ix[last];
        s->st[s->run_ix[st->run_pos]].run_pos = st->run_pos;
    }
    free (st->alloc);
    st->alloc = NULL;
    if (s->usage
        && usage_add (s->usage, s->jobs[ix].uid,
                      (double)s->jobs[ix].nodes * (double)s->cfg->cpus
                      * (st->end - st->start), t) < 0)
        cli_die ("out of memory");
}

/* One pass at t; start what it says, keep the rest in its order. */
static int pass (struct sim *s, double t, aios_error_t *err)
{
    const struct sched_input in = {
        .now = t, .nodes = s->nodes, .nnodes = (int)s->cfg->nodes,
        .parts = &s->part, .nparts = 1, .running = s->run,
        .nrunning = (int)s->nrun, .jobs = s->pend, .njobs = (int)s->npend,
        .policy = &s->cfg->policy, .weights = &s->weights,
        .backfill = s->cfg->backfill,
        /* EASY: the head's estimate is its reservation's start */
        .estimate_depth = 0,   /* reserved jobs get est_start anyway */
    };
    const struct sched_result *res;
    const int *order;
    size_t o, k = 0;

    if (s->usage && usage_fill (s->usage, s->pend, (int)s->npend, t) < 0)
        cli_die ("out of memory");
    if (sched_pass (s->sched, &in) < 0)
        return errprintf (err, "the scheduling pass at time %.15g failed: %s",
                          t, strerror (errno));
    s->fig.passes++;
    res = sched_results (s->sched);
    order = sched_order (s->sched);
    for (o = 0; o < s->npend; o++) {
        int i = order[o], ix = s->pend_ix[i];
        if (res[i].reserved && s->st[ix].resv < 0 && res[i].est_start >= 0) {
            s->st[ix].resv = res[i].est_start;
            s->fig.reserved++;
        }
        if (res[i].start) {
            start (s, ix, &res[i], t);
            continue;
        }
        s->pend_next[k] = s->pend[i];
        s->pend_ix_next[k++] = ix;
    }
    {
        struct sched_job *pj = s->pend;
        int *pi = s->pend_ix;
        s->pend = s->pend_next;
        s->pend_next = pj;
        s->pend_ix = s->pend_ix_next;
        s->pend_ix_next = pi;
    }
    s->npend = k;
    return 0;
}

static void sim_figures (struct sim *s)
{
    double wait = 0, bsld = 0, used = 0, last = s->jobs[0].submit;
    size_t i;

    for (i = 0; i < s->n; i++) {
        const struct jstate *st = &s->st[i];
        double w = st->start - s->jobs[i].submit, run = st->end - st->start;
        double sd = (w + run) / (run > 10 ? run : 10);
        wait += w;
        bsld += sd > 1 ? sd : 1;
        used += run * s->jobs[i].nodes;
        if (st->end > last)
            last = st->end;
    }
    s->fig.jobs = s->n;
    s->fig.mean_wait = wait / (double)s->n;
    s->fig.mean_bsld = bsld / (double)s->n;
    s->fig.makespan = last - s->jobs[0].submit;
    s->fig.utilization = s->fig.makespan > 0
        ? used / ((double)s->cfg->nodes * s->fig.makespan) : 0;
    s->fig.jobs_per_s = s->fig.wall > 0 ? (double)s->n / s->fig.wall : 0;
}

static int sim_run (struct sim *s, aios_error_t *err)
{
    size_t next = 0;
    double t0 = monotime ();

    while (next < s->n || s->nheap > 0) {
        double t = next < s->n ? s->jobs[next].submit : INFINITY;
        if (s->nheap > 0 && s->heap[0].end < t)
            t = s->heap[0].end;
        while (s->nheap > 0 && s->heap[0].end <= t)
            complete (s, heap_pop (s), t);
        while (next < s->n && s->jobs[next].submit <= t)
            arrive (s, (int)next++);
        if (s->npend > 0 && pass (s, t, err) < 0)
            return -1;
    }
    if (s->npend > 0)
        return errprintf (err, "%zu jobs never started (job %ju first)",
                          s->npend, (uintmax_t)s->pend[0].id);
    s->fig.wall = monotime () - t0;
    sim_figures (s);
    return 0;
}

static void write_csv (FILE *fp, const struct sim *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        const struct jstate *st = &s->st[i];
        fprintf (fp, "%ju,%.15g,%.15g,%.15g,%.15g,%.15g,%d\n",
                 (uintmax_t)s->jobs[i].id, s->jobs[i].submit, st->start,
                 st->end, st->start - s->jobs[i].submit, st->end - st->start,
                 s->jobs[i].nodes);
    }
}

/* Simulate jobs[0..n) on an empty machine. */
static int simulate (const struct config *c, const struct wjob *jobs, size_t n,
                     FILE *csv, struct figures *fig, aios_error_t *err)
{
    struct sim s;
    int rc;

    if (n == 0)
        return errprintf (err, "no jobs to simulate");
    sim_init (&s, c, jobs, n);
    if ((rc = sim_run (&s, err)) == 0) {
        *fig = s.fig;
        if (csv)
            write_csv (csv, &s);
    }
    sim_fini (&s);
    return rc;
}

/* --- output ---------------------------------------------------------------- */

/* Counts add up over windows; means and rates are averaged. */
static struct figures figures_average (const struct figures *f, size_t n)
{
    struct figures a = { 0 };
    size_t i;

    for (i = 0; i < n; i++) {
        a.jobs += f[i].jobs;
        a.passes += f[i].passes;
        a.reserved += f[i].reserved;
        a.violations += f[i].violations;
        a.backfilled += f[i].backfilled;
        a.wall += f[i].wall;
        a.mean_wait += f[i].mean_wait / (double)n;
        a.mean_bsld += f[i].mean_bsld / (double)n;
        a.utilization += f[i].utilization / (double)n;
        a.makespan += f[i].makespan / (double)n;
    }
    a.jobs_per_s = a.wall > 0 ? (double)a.jobs / a.wall : 0;
    return a;
}

static json_t *figures_json (const struct figures *f)
{
    json_t *o = json_pack ("{s:I s:f s:f s:f s:f s:I s:I s:I s:I s:f s:f}",
                           "jobs", (json_int_t)f->jobs,
                           "mean_wait", f->mean_wait,
                           "mean_bounded_slowdown", f->mean_bsld,
                           "utilization", f->utilization,
                           "makespan", f->makespan,
                           "passes", (json_int_t)f->passes,
                           "reserved_jobs", (json_int_t)f->reserved,
                           "reservation_violations", (json_int_t)f->violations,
                           "backfilled", (json_int_t)f->backfilled,
                           "wall_seconds", f->wall,
                           "jobs_per_second", f->jobs_per_s);
    if (!o)
        cli_die ("out of memory");
    return o;
}

static void print_json (const struct config *c, const struct workload *w,
                        const struct figures *f, size_t n)
{
    struct figures avg = figures_average (f, n);
    json_t *o = figures_json (&avg), *arr, *head;
    size_t i;

    if (!(head = json_pack ("{s:i s:s s:s s:s s:s s:I s:I s:I}",
            "version", 1,
            "workload", c->synthetic ? "synthetic" : c->trace,
            "policy", c->policy.name,
            "backfill", c->backfill == SCHED_BACKFILL_EASY ? "easy" : "none",
            "estimate", c->estimate_actual ? "actual" : "requested",
            "nodes", (json_int_t)c->nodes,
            "cpus_per_node", (json_int_t)c->cpus,
            "dropped", (json_int_t)w->dropped))
        || json_object_update (o, head) < 0)
        cli_die ("out of memory");
    json_decref (head);
    if (c->nwindows > 0) {
        if (!(arr = json_array ()))
            cli_die ("out of memory");
        for (i = 0; i < n; i++) {
            json_t *wo = figures_json (&f[i]);
            json_object_set_new (wo, "start", json_integer (c->windows[i].start));
            json_object_set_new (wo, "count", json_integer (c->windows[i].count));
            json_array_append_new (arr, wo);
        }
        json_object_set_new (o, "windows", arr);
    }
    if (json_dumpf (o, stdout, JSON_INDENT (2) | JSON_SORT_KEYS) < 0)
        cli_die ("standard output: %s", strerror (errno));
    putchar ('\n');
    json_decref (o);
}

static void print_one (const struct figures *f)
{
    printf ("jobs                    %zu\n", f->jobs);
    printf ("mean wait               %.3f s\n", f->mean_wait);
    printf ("mean bounded slowdown   %.3f\n", f->mean_bsld);
    printf ("utilization             %.4f\n", f->utilization);
    printf ("makespan                %.0f s\n", f->makespan);
    printf ("passes                  %zu\n", f->passes);
    printf ("reserved jobs           %zu\n", f->reserved);
    printf ("reservation violations  %zu\n", f->violations);
    printf ("backfilled              %zu\n", f->backfilled);
    printf ("wall                    %.3f s\n", f->wall);
    printf ("jobs/s                  %.0f\n", f->jobs_per_s);
}

static void print_row (const char *name, const struct figures *f)
{
    printf ("%-16s %8zu %12.1f %10.2f %6.4f %11.0f %8zu %8zu %10zu %10zu %8.3f\n",
            name, f->jobs, f->mean_wait, f->mean_bsld, f->utilization,
            f->makespan, f->passes, f->reserved, f->violations, f->backfilled,
            f->wall);
}

static void print_text (const struct config *c, const struct workload *w,
                        const struct figures *f, size_t n)
{
    struct figures avg = figures_average (f, n);
    char name[64];
    size_t i;

    printf ("workload                %s\n", c->synthetic ? "synthetic" : c->trace);
    printf ("policy                  %s, backfill %s, %s time as limit\n",
            c->policy.name,
            c->backfill == SCHED_BACKFILL_EASY ? "easy" : "none",
            c->estimate_actual ? "actual run" : "requested");
    printf ("machine                 %ld nodes x %ld CPUs\n", c->nodes, c->cpus);
    printf ("dropped                 %zu\n", w->dropped);
    if (c->nwindows == 0) {
        print_one (&avg);
        return;
    }
    printf ("\n%-16s %8s %12s %10s %6s %11s %8s %8s %10s %10s %8s\n", "WINDOW",
            "JOBS", "WAIT(s)", "BSLD", "UTIL", "MAKESPAN(s)", "PASSES",
            "RESERVED", "VIOLATIONS", "BACKFILLED", "WALL(s)");
    for (i = 0; i < n; i++) {
        snprintf (name, sizeof (name), "%ld:%ld", c->windows[i].start,
                  c->windows[i].count);
        print_row (name, &f[i]);
    }
    print_row ("average", &avg);
}

/* --- main ------------------------------------------------------------------ */

/* Jobs w.start.. shifted so the first arrives at time 0. */
static struct wjob *window_jobs (const struct workload *wl,
                                 const struct window *w, aios_error_t *err)
{
    struct wjob *jobs;
    long i;

    if ((size_t)w->start >= wl->n || (size_t)w->count > wl->n - (size_t)w->start) {
        errprintf (err, "--window %ld:%ld: the trace has %zu jobs", w->start,
                   w->count, wl->n);
        return NULL;
    }
    jobs = cli_xmalloc ((size_t)w->count * sizeof (*jobs));
    for (i = 0; i < w->count; i++) {
        jobs[i] = wl->jobs[w->start + i];
        jobs[i].submit -= wl->jobs[w->start].submit;
    }
    return jobs;
}

static int run_all (const struct config *c, const struct workload *wl,
                    FILE *csv, struct figures *figs, aios_error_t *err)
{
    size_t i;

    if (c->nwindows == 0)
        return simulate (c, wl->jobs, wl->n, csv, &figs[0], err);
    for (i = 0; i < c->nwindows; i++) {
        struct wjob *jobs = window_jobs (wl, &c->windows[i], err);
        int rc;
        if (!jobs)
            return -1;
        rc = simulate (c, jobs, (size_t)c->windows[i].count, csv, &figs[i], err);
        free (jobs);
        if (rc < 0)
            return errprefix (err, "window %ld:%ld", c->windows[i].start,
                              c->windows[i].count);
    }
    return 0;
}

int main (int argc, char **argv)
{
    struct config c = { .policy_name = "fifo", .nodes_lo = 1, .nodes_hi = 1,
                         .seed = 1 };
    struct workload wl = { 0 };
    struct figures *figs;
    aios_error_t err;
    FILE *csv = NULL;

    cli_init (argv[0]);
    parse_args (&c, argc, argv);
    if (c.synthetic)
        make_synthetic (&c, &wl);
    else if (load_trace (&c, &wl, &err) < 0)
        cli_die ("%s", err.text);
    if (c.jobs_csv) {
        if (!(csv = fopen (c.jobs_csv, "w")))
            cli_die ("%s: cannot open: %s", c.jobs_csv, strerror (errno));
        fputs ("id,submit,start,end,wait,run,nodes\n", csv);
    }
    figs = cli_xmalloc ((c.nwindows ? c.nwindows : 1) * sizeof (*figs));
    if (run_all (&c, &wl, csv, figs, &err) < 0)
        cli_die ("%s", err.text);
    if (csv && fclose (csv) != 0)
        cli_die ("%s: %s", c.jobs_csv, strerror (errno));
    if (c.json)
        print_json (&c, &wl, figs, c.nwindows ? c.nwindows : 1);
    else
        print_text (&c, &wl, figs, c.nwindows ? c.nwindows : 1);
    free (figs);
    free (wl.jobs);
    free (c.windows);
    if (fflush (stdout) != 0 || ferror (stdout))
        cli_die ("standard output: %s", strerror (errno));
    return CLI_OK;
}
