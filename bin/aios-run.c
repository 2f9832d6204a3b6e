/* aios-run - launch a job step: N ranks on the job's nodes (like srun)
 *
 * Inside a job, aios-run asks the controller for the job's allocation and a
 * step number, spreads the ranks over the nodes in blocks, and asks each
 * node's aiosd to start its ranks.  With --mpi=pmi1 (the default) each
 * node daemon serves PMI-1 to its ranks on PMI_FD and aios-run is the root
 * of the fence: it combines the puts every node sends at a barrier and
 * sends them all back.  Output of every rank comes here (-l prefixes the
 * rank), stdin goes to rank 0, the exit status is the first failing
 * rank's, and a failing rank or a signal to aios-run ends the whole step.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
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
#include "hostlist.h"
#include "parse.h"
#include "proto.h"


static const char *usage_text =
    "Usage: aios-run [OPTIONS] PROGRAM [ARG...]\n"
    "Run PROGRAM as a step of the current job ($AIOS_JOB_ID): N ranks spread\n"
    "over the job's nodes in blocks, started by the node daemons.  Outside a\n"
    "job, first get an allocation of -N/-n/-c/-t/-p (a job named after\n"
    "PROGRAM that ends with the step), like srun.\n"
    "\n"
    "  -n, --ntasks=N            ranks [the job's tasks, or --nodes x\n"
    "                            --ntasks-per-node]\n"
    "  -N, --nodes=N             use the first N nodes of the job [as many as\n"
    "                            the ranks need]\n"
    "      --ntasks-per-node=N   at most N ranks on a node [the job's tasks\n"
    "                            there]\n"
    "  -c, --cpus-per-task=N     CPUs per rank (checked against the job's\n"
    "                            CPUs on each node) [1]\n"
    "  -l, --label               prefix each output line with \"RANK: \"\n"
    "      --mpi=TYPE            pmi1 (PMI-1 on PMI_FD, for MPICH), pmix (the\n"
    "                            node daemons' PMIx server, for Open MPI and\n"
    "                            other PMIx clients) or none [pmi1]\n"
    "      --export=WHAT         ALL (default), NONE, or VAR[=VALUE],...\n"
    "  -D, --chdir=DIR           working directory of the ranks [the current\n"
    "                            directory]\n"
    "  -J, --job-name=NAME       step name [PROGRAM]\n"
    "      --jobid=ID            the job [$AIOS_JOB_ID]\n"
    "  -t, --time=TIME           time limit of a new allocation [the\n"
    "                            partition's max_time]\n"
    "  -p, --partition=NAME      partition of a new allocation [the default]\n"
    "  -h, --help                show this help\n"
    "  -V, --version             show the version\n"
    "\n"
    "Exit status: 0 when every rank exits 0, else the first failing rank's\n"
    "exit code (128+N if killed by signal N).\n";

enum { OPT_NTPN = 256, OPT_MPI, OPT_EXPORT, OPT_JOBID };

/* The batch script of an allocation made by aios-run: it holds the nodes
 * until aios-run signals the end of the step (USR1: success, USR2: not). */
static const char *holder_script =
    "#!/bin/sh\n"
    "trap 'exit 0' USR1\n"
    "trap 'exit 1' USR2\n"
    "while :; do sleep 3600 & wait $!; done\n";

static const struct option opts[] = {
    { "ntasks", required_argument, NULL, 'n' },
    { "nodes", required_argument, NULL, 'N' },
    { "ntasks-per-node", required_argument, NULL, OPT_NTPN },
    { "cpus-per-task", required_argument, NULL, 'c' },
    { "label", no_argument, NULL, 'l' },
    { "mpi", required_argument, NULL, OPT_MPI },
    { "export", required_argument, NULL, OPT_EXPORT },
    { "chdir", required_argument, NULL, 'D' },
    { "job-name", required_argument, NULL, 'J' },
    { "jobid", required_argument, NULL, OPT_JOBID },
    { "time", required_argument, NULL, 't' },
    { "partition", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

struct opts {
    long ntasks, nodes, per_node, cpt;
    bool label;
    bool pmi;
    bool pmix;
    const char *export;
    const char *chdir;
    const char *name;
    const char *jobid;
    long time_limit;        /* 0 = unset */
    const char *partition;
};

/* One node of the step. */
struct snode {
    char *name;
    int slots;              /* the job's tasks there */
    int cpus;               /* the job's CPUs there */
    int first, count;       /* its ranks: first..first+count-1 */
    struct aios_client *c;
    bool in_barrier;
    char *fence;            /* PMIx: its fence data (base64), NULL if none */
    size_t fence_len;
};

struct rank {
    int status;             /* -1 running */
    char *partial[2];       /* stdout, stderr without their newline yet (-l) */
    size_t plen[2];
};

/* The step being run, ended as FAILED if aios-run dies before it is done. */
static struct aios_client *step_ctl;
static long step_job;
static int step_no;

static void step_end (const char *state, int code)
{
    json_t *req, *rep;
    aios_error_t err;

    if (!step_ctl || !step_no)
        return;
    req = proto_request ("step_end", 0);
    json_object_set_new (req, "id", json_integer (step_job));
    json_object_set_new (req, "step", json_integer (step_no));
    json_object_set_new (req, "exit_code", json_integer (code));
    json_object_set_new (req, "state", json_string (state));
    rep = aios_client_rpc (step_ctl, req, &err);
    json_decref (rep);
    step_no = 0;
}

static void step_end_at_exit (void)
{
    step_end ("FAILED", 1);
}

static volatile sig_atomic_t pending_signal;

static void on_signal (int sig)
{
    pending_signal = sig;
}

static long count_arg (const char *opt, const char *s)
{
    aios_error_t err;
    long v;

    if (parse_long (s, 1, INT_MAX, &v, &err) < 0)
        cli_usage_error ("%s: %s", opt, err.text);
    return v;
}

static int parse_args (struct opts *o, int argc, char **argv)
{
    int c;

    opterr = 0;
    while ((c = getopt_long (argc, argv, "+n:N:c:lD:J:t:p:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o->ntasks = count_arg ("--ntasks", optarg); break;
        case 'N': o->nodes = count_arg ("--nodes", optarg); break;
        case OPT_NTPN: o->per_node = count_arg ("--ntasks-per-node", optarg); break;
        case 'c': o->cpt = count_arg ("--cpus-per-task", optarg); break;
        case 'l': o->label = true; break;
        case OPT_MPI:
            if (!strcmp (optarg, "pmi1") || !strcmp (optarg, "pmi2")
                || !strcmp (optarg, "pmi"))
                o->pmi = true;
            else if (!strcmp (optarg, "none"))
                o->pmi = false;
            else if (!strcmp (optarg, "pmix")) {
                o->pmi = false;
                o->pmix = true;
            }
            else
                cli_usage_error ("--mpi: \"%s\" is not pmi1, pmix or none", optarg);
            break;
        case OPT_EXPORT: o->export = optarg; break;
        case 'D': o->chdir = optarg; break;
        case 'J': o->name = optarg; break;
        case OPT_JOBID: o->jobid = optarg; break;
        case 't': {
            aios_error_t err;
            if (parse_time (optarg, &o->time_limit, &err) < 0)
                cli_usage_error ("--time: %s", err.text);
            break;
        }
        case 'p': o->partition = optarg; break;
        case 'h': fputs (usage_text, stdout); exit (CLI_OK);
        case 'V': cli_version ();
        default:
            cli_usage_error ("unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        cli_usage_error ("no program given");
    return optind;
}

/* The environment the ranks get on top of the job's (--export), less
 * what each node sets for itself. */
static json_t *step_env (const char *export)
{
    static const char *const own[] = {
        "PMI_*", "AIOS_NODENAME", "AIOS_NODEID", "AIOS_CPUS_ON_NODE",
        "CUDA_VISIBLE_DEVICES", "AIOS_GPUS", "GPU_DEVICE_ORDINAL",
        "HYDRA_HOST_FILE", "AIOS_DATASET_*", "AIOS_SCRATCH", "SLURM_NODEID",
        "SLURMD_NODENAME", "SLURM_CPUS_ON_NODE", "SLURM_TASKS_PER_NODE",
        "SLURM_NTASKS_PER_NODE", "SLURM_PROCID", "SLURM_LOCALID", NULL,
    };

    return cli_export_env (export, own);
}

/* The job's nodes with their task slots, in allocation order. */
static struct snode *job_nodes (struct aios_client *ctl, long job, int *n)
{
    json_t *req = proto_request ("queue", 0), *rep, *jobs, *alloc, *a;
    const char *state;
    struct snode *v;
    size_t i;

    json_object_set_new (req, "ids", json_pack ("[I]", (json_int_t)job));
    json_object_set_new (req, "fields", json_pack ("[s s]", "alloc", "state"));
    rep = cli_rpc (ctl, req);
    jobs = json_object_get (rep, "jobs");
    if (json_array_size (jobs) != 1)
        cli_die ("no job %ld", job);
    state = cli_jstr (json_array_get (jobs, 0), "state", "?");
    if (strcmp (state, "RUNNING") != 0)
        cli_die ("job %ld is %s: steps run only in a running job", job, state);
    alloc = json_object_get (json_array_get (jobs, 0), "alloc");
    *n = (int)json_array_size (alloc);
    v = cli_xmalloc (sizeof (*v) * ((size_t)*n + 1));
    memset (v, 0, sizeof (*v) * ((size_t)*n + 1));
    json_array_foreach (alloc, i, a) {
        v[i].name = cli_xstrdup (cli_jstr (a, "node", "?"));
        v[i].slots = (int)cli_jint (a, "tasks");
        v[i].cpus = (int)cli_jint (a, "cpus");
    }
    json_decref (rep);
    return v;
}

/* Block distribution: fill nodes in order (each at most its slots, or
 * --ntasks-per-node); with --nodes, spread evenly over that many. */
static int distribute (struct snode *v, int n, const struct opts *o, long *ntasks)
{
    int use = o->nodes ? (int)o->nodes : n, i, next = 0;
    long cap = 0, left;

    if (use > n)
        cli_die ("the step asks for %d nodes but the job has %d", use, n);
    for (i = 0; i < use; i++) {
        long slots = o->per_node ? o->per_node : v[i].slots;
        long bycpu = v[i].cpus / (o->cpt ? o->cpt : 1);
        if (slots > bycpu && !o->per_node)
            slots = bycpu > 0 ? bycpu : 1;
        v[i].slots = (int)slots;
        cap += slots;
    }
    if (*ntasks == 0)
        *ntasks = o->per_node ? o->per_node * use : cap;
    if (*ntasks > cap)
        cli_die ("the step asks for %ld tasks but the job has room for %ld on "
                 "%d node(s)", *ntasks, cap, use);
    if (o->nodes && *ntasks < use)
        cli_die ("the step asks for %ld tasks on %d nodes: at least one each",
                 *ntasks, use);
    left = *ntasks;
    for (i = 0; i < use; i++)
        v[i].count = 0;
    if (o->nodes) {
        /* as even as the nodes' room allows: one each, then round robin */
        while (left > 0) {
            for (i = 0; i < use && left > 0; i++) {
                if (v[i].count < v[i].slots) {
                    v[i].count++;
                    left--;
                }
            }
        }
    } else {
        for (i = 0; i < use && left > 0; i++) {
            v[i].count = (int)(left < v[i].slots ? left : v[i].slots);
            left -= v[i].count;
        }
    }
    /* ranks are numbered in blocks, node by node */
    for (i = 0; i < use && v[i].count > 0; i++) {
        v[i].first = next;
        next += v[i].count;
    }
    return i;   /* nodes that got ranks */
}

/* PMI_process_mapping for block distribution: (vector,(node,count,ppn)...) */
static char *process_mapping (const struct snode *v, int n)
{
    char *buf = cli_xmalloc (64 + 32 * (size_t)n);
    size_t len = (size_t)sprintf (buf, "(vector");
    int i = 0;

    while (i < n) {
        int j = i;
        while (j + 1 < n && v[j + 1].count == v[i].count)
            j++;
        len += (size_t)sprintf (buf + len, ",(%d,%d,%d)", i, j - i + 1, v[i].count);
        i = j + 1;
    }
    sprintf (buf + len, ")");
    return buf;
}

static void out_write (int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

/* Output of rank r; with -l whole lines only, each prefixed. */
static void rank_output (struct rank *rk, int r, bool label, int fd,
                         const char *data, size_t len)
{
    char prefix[32];
    size_t i, start = 0;
    int s = fd == 2;

    if (!label) {
        out_write (fd, data, len);
        return;
    }
    snprintf (prefix, sizeof (prefix), "%d: ", r);
    for (i = 0; i < len; i++) {
        if (data[i] != '\n')
            continue;
        out_write (fd, prefix, strlen (prefix));
        if (rk->plen[s]) {
            out_write (fd, rk->partial[s], rk->plen[s]);
            rk->plen[s] = 0;
        }
        out_write (fd, data + start, i - start + 1);
        start = i + 1;
    }
    if (start < len) {
        rk->partial[s] = realloc (rk->partial[s], rk->plen[s] + len - start);
        if (!rk->partial[s])
            cli_die ("out of memory");
        memcpy (rk->partial[s] + rk->plen[s], data + start, len - start);
        rk->plen[s] += len - start;
    }
}

/* PMIx: node i's part of a fence; when every node sent its part, all of
 * them get everyone's, concatenated in node order. */
static void pmix_fence_in (struct snode *v, int n, int i, const char *data)
{
    size_t len, total = 0;
    char *all, *enc;
    aios_error_t err;
    int k;

    free (v[i].fence);
    if (!(v[i].fence = b64_decode (data, &len)))
        cli_die ("malformed PMIx fence data from node %s", v[i].name);
    v[i].fence_len = len;
    for (k = 0; k < n; k++) {
        if (!v[k].fence)
            return;
        total += v[k].fence_len;
    }
    all = cli_xmalloc (total + 1);
    for (k = 0, total = 0; k < n; k++) {
        memcpy (all + total, v[k].fence, v[k].fence_len);
        total += v[k].fence_len;
        free (v[k].fence);
        v[k].fence = NULL;
    }
    if (!(enc = b64_encode (all, total)))
        cli_die ("out of memory");
    for (k = 0; k < n; k++) {
        json_t *m = proto_request ("pmix_fence_out", 0);
        json_object_set_new (m, "data", json_string (enc));
        aios_client_send (v[k].c, m, &err);
    }
    free (enc);
    free (all);
}

static void signal_all (struct snode *v, int n, int sig)
{
    aios_error_t err;
    int i;

    for (i = 0; i < n; i++) {
        json_t *m = proto_request ("signal", 0);
        json_object_set_new (m, "signal", json_integer (sig));
        if (v[i].c)
            aios_client_send (v[i].c, m, &err);
        else
            json_decref (m);
    }
}


/* Outside a job: submit the holder script with the step's shape and wait
 * until it runs.  Returns its id. */
static long allocate (struct aios_client *ctl, const struct opts *o,
                      const char *prog)
{
    json_t *job, *req, *rep, *jobs;
    const char *base = strrchr (prog, '/') ? strrchr (prog, '/') + 1 : prog;
    long ntasks = o->ntasks ? o->ntasks
                  : o->nodes ? o->nodes * (o->per_node ? o->per_node : 1) : 1;
    char cwd[4096];
    json_int_t id;
    bool told = false;
    int polls = 0;

    if (!getcwd (cwd, sizeof (cwd)))
        cli_die ("cannot get the current directory: %s", strerror (errno));
    job = json_pack ("{s:s s:s s:s s:o s:I s:I s:I s:I s:s}",
                     "name", o->name ? o->name : base, "script", holder_script,
                     "workdir", cwd, "env", json_object (),
                     "nodes", (json_int_t)o->nodes, "ntasks", (json_int_t)ntasks,
                     "cpus_per_task", (json_int_t)(o->cpt ? o->cpt : 1),
                     "mem_mb", (json_int_t)0, "output", "/dev/null");
    if (!job)
        cli_die ("out of memory");
    if (o->time_limit)
        json_object_set_new (job, "time_limit", json_integer (o->time_limit));
    if (o->partition)
        json_object_set_new (job, "partition", json_string (o->partition));
    req = proto_request ("submit", 0);
    json_object_set_new (req, "job", job);
    rep = cli_rpc (ctl, req);
    id = cli_jint (rep, "id");
    json_decref (rep);
    for (;;) {
        const char *state;
        req = proto_request ("queue", 0);
        json_object_set_new (req, "ids", json_pack ("[I]", id));
        json_object_set_new (req, "fields", json_pack ("[s s]", "state", "reason"));
        rep = cli_rpc (ctl, req);
        jobs = json_object_get (rep, "jobs");
        state = cli_jstr (json_array_get (jobs, 0), "state", "?");
        if (!strcmp (state, "RUNNING")) {
            json_decref (rep);
            break;
        }
        if (strcmp (state, "PENDING") != 0)
            cli_die ("allocation job %lld ended %s before the step ran",
                     (long long)id, state);
        if (!told && ++polls > 10) {
            cli_warn ("job %lld queued and waiting for resources (%s)",
                      (long long)id, cli_jstr (json_array_get (jobs, 0), "reason",
                                               "None"));
            told = true;
        }
        json_decref (rep);
        if (pending_signal) {
            req = proto_request ("cancel", 0);
            json_object_set_new (req, "ids", json_pack ("[I]", id));
            json_decref (cli_rpc (ctl, req));
            cli_die ("%s: allocation job %lld cancelled",
                     strsignal (pending_signal), (long long)id);
        }
        usleep (100 * 1000);
    }
    if (told)
        cli_warn ("job %lld has been allocated resources", (long long)id);
    return (long)id;
}

/* The allocation aios-run made, released at exit however it exits. */
static struct aios_client *alloc_ctl;
static long alloc_job;

/* End the allocation made by allocate(): its script exits 0 or 1. */
static void release (int status)
{
    json_t *req, *rep;
    aios_error_t err;

    if (!alloc_job)
        return;
    req = proto_request ("cancel", 0);
    json_object_set_new (req, "ids", json_pack ("[I]", (json_int_t)alloc_job));
    json_object_set_new (req, "signal", json_integer (status ? SIGUSR2 : SIGUSR1));
    rep = aios_client_rpc (alloc_ctl, req, &err);
    json_decref (rep);
    alloc_job = 0;
}

static void release_at_exit (void)
{
    release (1);
}

int main (int argc, char **argv)
{
    struct opts o = { .pmi = true };
    const char *jobstr = getenv ("AIOS_JOB_ID");
    struct aios_client *ctl;
    struct aios_conf *conf;
    struct snode *v;
    struct rank *ranks;
    aios_error_t err;
    json_t *req, *rep, *args, *env, *kvs, *pmix_nodes;
    char cwd[4096], *mapping;
    long job, ntasks;
    int first, nnodes, used, i, step, running, status = 0, failed_rank = -1;
    int barrier_count = 0;
    bool killed = false, stdin_open;
    struct sigaction sa = { .sa_handler = on_signal };

    cli_init (argv[0]);
    first = parse_args (&o, argc, argv);
    if (o.jobid)
        jobstr = o.jobid;
    if (!(conf = conf_load (conf_default_path (), &err)))
        cli_die ("%s", err.text);
    ctl = cli_connect ();
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGHUP, &sa, NULL);
    if (jobstr && *jobstr) {
        if (parse_long (jobstr, 1, LONG_MAX, &job, &err) < 0)
            cli_die ("invalid job id \"%s\"", jobstr);
    } else {
        job = allocate (ctl, &o, argv[first]);
        alloc_ctl = ctl;
        alloc_job = job;
        atexit (release_at_exit);
    }
    v = job_nodes (ctl, job, &nnodes);
    ntasks = o.ntasks;
    used = distribute (v, nnodes, &o, &ntasks);
    mapping = process_mapping (v, used);

    req = proto_request ("step_begin", 0);
    json_object_set_new (req, "id", json_integer (job));
    json_object_set_new (req, "ntasks", json_integer (ntasks));
    json_object_set_new (req, "name", json_string (o.name ? o.name
                                       : strrchr (argv[first], '/')
                                       ? strrchr (argv[first], '/') + 1
                                       : argv[first]));
    {
        char **names = cli_xmalloc (sizeof (char *) * ((size_t)used + 1));
        char *list;
        for (i = 0; i < used; i++)
            names[i] = v[i].name;
        list = hostlist_compress (names, (size_t)used);
        json_object_set_new (req, "nodes", json_string (list ? list : ""));
        free (list);
        free (names);
    }
    rep = cli_rpc (ctl, req);
    step = (int)cli_jint (rep, "step");
    json_decref (rep);
    step_ctl = ctl;
    step_job = job;
    step_no = step;
    atexit (step_end_at_exit);

    if (!o.chdir && getcwd (cwd, sizeof (cwd)))
        o.chdir = cwd;
    args = json_array ();
    for (i = first; i < argc; i++)
        json_array_append_new (args, json_string (argv[i]));
    env = step_env (o.export);
    ranks = cli_xmalloc (sizeof (*ranks) * (size_t)ntasks);
    memset (ranks, 0, sizeof (*ranks) * (size_t)ntasks);
    for (i = 0; i < ntasks; i++)
        ranks[i].status = -1;
    stdin_open = !isatty (STDIN_FILENO);

    pmix_nodes = json_array ();
    for (i = 0; i < used; i++) {
        json_t *r = json_array ();
        int k;
        for (k = 0; k < v[i].count; k++)
            json_array_append_new (r, json_integer (v[i].first + k));
        json_array_append_new (pmix_nodes, json_pack ("[s o]", v[i].name, r));
    }
    for (i = 0; i < used; i++) {
        json_t *r = json_array ();
        int k;
        if (!(v[i].c = aios_client_connect_node (conf, v[i].name, &err))) {
            signal_all (v, i, SIGKILL);
            cli_die ("%s", err.text);
        }
        for (k = 0; k < v[i].count; k++)
            json_array_append_new (r, json_integer (v[i].first + k));
        req = proto_request ("step", 0);
        json_object_set_new (req, "job", json_integer (job));
        json_object_set_new (req, "step", json_integer (step));
        json_object_set_new (req, "argv", json_incref (args));
        json_object_set_new (req, "cwd", json_string (o.chdir ? o.chdir : "/"));
        json_object_set_new (req, "env", json_incref (env));
        json_object_set_new (req, "ranks", r);
        json_object_set_new (req, "size", json_integer (ntasks));
        json_object_set_new (req, "mapping", json_string (mapping));
        json_object_set_new (req, "pmi", json_boolean (o.pmi));
        if (o.pmix) {
            json_object_set_new (req, "pmix", json_true ());
            json_object_set_new (req, "nodes", json_incref (pmix_nodes));
        }
        json_object_set_new (req, "stdin", json_boolean (stdin_open && i == 0));
        if (!(rep = aios_client_rpc (v[i].c, req, &err))) {
            signal_all (v, i, SIGKILL);
            cli_die ("step %ld.%d on %s: %s", job, step, v[i].name, err.text);
        }
        json_decref (rep);
    }
    json_decref (args);
    json_decref (env);
    json_decref (pmix_nodes);
    free (mapping);
    conf_destroy (conf);

    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGHUP, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    kvs = json_object ();
    running = (int)ntasks;
    while (running > 0) {
        struct pollfd *pfd = cli_xmalloc (sizeof (*pfd) * ((size_t)used + 1));
        int np = 0, n;
        for (i = 0; i < used; i++)
            pfd[np++] = (struct pollfd){ v[i].c ? aios_client_fd (v[i].c) : -1,
                                         POLLIN, 0 };
        if (stdin_open)
            pfd[np++] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
        n = poll (pfd, (nfds_t)np, -1);
        if (pending_signal && !killed) {
            cli_warn ("%s: ending step %ld.%d", strsignal (pending_signal), job, step);
            signal_all (v, used, SIGKILL);
            killed = true;
            if (!status)
                status = 128 + pending_signal;
        }
        if (n < 0) {
            free (pfd);
            if (errno == EINTR)
                continue;
            cli_die ("poll: %s", strerror (errno));
        }
        if (stdin_open && (pfd[np - 1].revents & (POLLIN | POLLHUP | POLLERR)))
            aios_client_send (v[0].c, cli_stdin_frame (STDIN_FILENO, &stdin_open),
                              &err);
        for (i = 0; i < used; i++) {
            json_t *msg, *puts;
            const char *stream, *data;
            json_int_t r = -1, code = 0, sig = 0;
            if (!v[i].c || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!(msg = aios_client_recv (v[i].c, &err))) {
                signal_all (v, used, SIGKILL);
                cli_die ("step %ld.%d: node %s: %s", job, step, v[i].name, err.text);
            }
            if (json_unpack (msg, "{s:s s:s s:I}", "stream", &stream, "data",
                             &data, "rank", &r) == 0 && r >= 0 && r < ntasks) {
                size_t len;
                char *buf = b64_decode (data, &len);
                if (buf)
                    rank_output (&ranks[r], (int)r, o.label,
                                 strcmp (stream, "stderr") ? 1 : 2, buf, len);
                free (buf);
            } else if (json_unpack (msg, "{s:s}", "pmix_fence", &data) == 0) {
                pmix_fence_in (v, used, i, data);
            } else if ((puts = json_object_get (msg, "pmi_barrier"))) {
                json_object_update (kvs, puts);
                v[i].in_barrier = true;
                if (++barrier_count == used) {
                    int k;
                    for (k = 0; k < used; k++) {
                        json_t *m = proto_request ("pmi_barrier_out", 0);
                        json_object_set (m, "kvs", kvs);
                        aios_client_send (v[k].c, m, &err);
                        v[k].in_barrier = false;
                    }
                    barrier_count = 0;
                }
            } else if (json_unpack (msg, "{s:I s:I}", "pmi_abort", &r, "code",
                                    &code) == 0) {
                cli_warn ("rank %lld called MPI_Abort (%lld): ending the step",
                          (long long)r, (long long)code);
                if (failed_rank < 0) {
                    failed_rank = (int)r;
                    status = code ? (int)code : 1;
                }
                if (!killed) {
                    signal_all (v, used, SIGKILL);
                    killed = true;
                }
            } else if (json_unpack (msg, "{s:I s:I s?I}", "rank", &r, "exit", &code,
                                    "signal", &sig) == 0 && r >= 0 && r < ntasks
                       && ranks[r].status < 0) {
                const char *why = NULL;
                json_unpack (msg, "{s?s}", "error", &why);
                if (why)
                    cli_warn ("rank %lld: %s", (long long)r, why);
                ranks[r].status = sig ? 128 + (int)sig : (int)code;
                running--;
                if (ranks[r].status != 0 && failed_rank < 0 && !killed) {
                    failed_rank = (int)r;
                    status = ranks[r].status;
                    if (running > 0) {
                        cli_warn ("rank %lld %s %lld: ending the step",
                                  (long long)r, sig ? "killed by signal" : "exited",
                                  (long long)(sig ? sig : code));
                        signal_all (v, used, SIGKILL);
                        killed = true;
                    }
                }
            }
            json_decref (msg);
        }
        free (pfd);
    }
    for (i = 0; i < ntasks; i++) {
        int k;
        for (k = 0; k < 2; k++) {
            if (ranks[i].plen[k])
                rank_output (&ranks[i], i, o.label, k + 1, "\n", 1);
            free (ranks[i].partial[k]);
        }
    }
    for (i = 0; i < used; i++) {
        aios_client_close (v[i].c);
        free (v[i].name);
    }
    for (i = used; i < nnodes; i++)
        free (v[i].name);
    free (v);
    free (ranks);
    json_decref (kvs);
    step_end (killed && failed_rank < 0 ? "CANCELLED"
              : status ? "FAILED" : "COMPLETED", status);
    step_ctl = NULL;
    release (status);
    aios_client_close (ctl);
    return status;
}
