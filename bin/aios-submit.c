/* aios-submit - submit a batch script to AIOS (like sbatch) */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "directive.h"
#include "job.h"
#include "parse.h"
#include "proto.h"


static const char *usage_text =
    "Usage: aios-submit [OPTIONS] [SCRIPT]\n"
    "       aios-submit [OPTIONS] --wrap=COMMAND\n"
    "Submit a batch script (a file, or standard input when SCRIPT is absent).\n"
    "Options may also be given in the script on \"#AIOS\" (or \"#SBATCH\") lines\n"
    "before its first command; the command line wins over the script.\n"
    "\n"
    "  -J, --job-name=NAME       job name [the script's file name]\n"
    "  -N, --nodes=N             number of nodes [as many as the tasks need]\n"
    "  -n, --ntasks=N            number of tasks [1, or N with --nodes]\n"
    "  -c, --cpus-per-task=N     CPUs per task [1]\n"
    "      --mem=SIZE            memory per node (512M, 4G) [none reserved]\n"
    "  -t, --time=TIME           time limit: MM, MM:SS, HH:MM:SS, D-HH,\n"
    "                            D-HH:MM, D-HH:MM:SS or UNLIMITED\n"
    "                            [the partition's max_time]\n"
    "  -p, --partition=NAME      partition [the default partition]\n"
    "  -G, --gpus=N              GPUs for the whole job, spread evenly over\n"
    "                            its nodes [none]\n"
    "      --gpus-per-node=N     GPUs on every node of the job [none]\n"
    "      --exclusive           whole nodes: no other job shares them\n"
    "  -C, --constraint=LIST     only nodes with all these features (a,b)\n"
    "  -q, --qos=NAME            quality of service [normal]\n"
    "      --nice[=N]            lower the job's priority by N [100]\n"
    "  -o, --output=PATTERN      stdout file [aios-%j.out, arrays\n"
    "                            aios-%A_%a.out]; %j job id, %x job name,\n"
    "                            %u user, %N node, %A array id, %a task id,\n"
    "                            %% a '%'\n"
    "  -e, --error=PATTERN       stderr file [with stdout]\n"
    "  -D, --chdir=DIR           working directory [the current directory]\n"
    "      --export=WHAT         ALL (default), NONE, or VAR[=VALUE],...\n"
    "                            (ALL,VAR=VALUE adds to everything)\n"
    "  -H, --hold                submit held\n"
    "      --wrap=COMMAND        run COMMAND under /bin/sh as the script\n"
    "      --parsable            print only the job id\n"
    "  -b, --begin=TIME          not before TIME: now+N[s|m|h|d], HH:MM[:SS],\n"
    "                            YYYY-MM-DD[THH:MM[:SS]]\n"
    "  -d, --dependency=LIST     start only after other jobs: after:ID,\n"
    "                            afterany:ID, afterok:ID, afternotok:ID (each\n"
    "                            with :ID... for more), singleton; terms\n"
    "                            joined by ',' (all) or '?' (any)\n"
    "      --kill-on-invalid-dep=yes|no  cancel the job when its dependency\n"
    "                            can never be satisfied [no: it waits with\n"
    "                            DependencyNeverSatisfied]\n"
    "      --test-only           print when and where the job would start;\n"
    "                            do not submit it\n"
    "  -a, --array=SPEC          a job array: 0-99, 1,3,5, 0-15:4; %N at the\n"
    "                            end runs at most N tasks at once (0-99%10)\n"
    "      --requeue             requeue the job when a node of it fails\n"
    "      --no-requeue          end it NODE_FAIL instead [the default]\n"
    "      --signal=[B:]SIG[@SECONDS]  send SIG SECONDS [60] before the time\n"
    "                            limit: to every process of the job, or with\n"
    "                            B: to the batch shell only\n"
    "      --stage-in=NAME[:VERSION][,shard]  copy a catalog dataset to each\n"
    "                            node's cache first (repeatable); with\n"
    "                            shard, node i of N gets rows [i*n/N,(i+1)*n/N)\n"
    "      --stage-out=PATH:MODEL  register PATH (in the job's scratch) as a\n"
    "                            new version of MODEL when the job ends\n"
    "      --stage-out-when=success|always  [success]\n"
    "      --gres=gpu[:TYPE]:N   as --gpus-per-node=N\n"
    "      --ntasks-per-node=N   N tasks on each node (with --nodes)\n"
    "  -A, --account=NAME        account, recorded for aios-acct\n"
    "      --ignore-unsupported  warn about sbatch options AIOS does not\n"
    "                            support instead of refusing the job\n"
    "  -W, --wait                wait for the job to end; exit with its exit\n"
    "                            code (128+signal if killed); for an array,\n"
    "                            the highest of its tasks'\n"
    "  -h, --help                show this help\n"
    "  -V, --version             show the version\n";

enum {
    OPT_MEM = 256,
    OPT_EXPORT,
    OPT_WRAP,
    OPT_PARSABLE,
    OPT_GPUS_PER_NODE,
    OPT_EXCLUSIVE,
    OPT_NICE,
    OPT_TEST_ONLY,
    OPT_KILL_DEP,
    OPT_REQUEUE,
    OPT_NO_REQUEUE,
    OPT_SIGNAL,
    OPT_STAGE_IN,
    OPT_STAGE_OUT,
    OPT_STAGE_OUT_WHEN,
    OPT_GRES,
    OPT_TASKS_PER_NODE,
    OPT_IGNORE_UNSUPPORTED,
    OPT_UNSUPPORTED,
};

static const struct option opts[] = {
    { "job-name", required_argument, NULL, 'J' },
    { "nodes", required_argument, NULL, 'N' },
    { "ntasks", required_argument, NULL, 'n' },
    { "cpus-per-task", required_argument, NULL, 'c' },
    { "mem", required_argument, NULL, OPT_MEM },
    { "time", required_argument, NULL, 't' },
    { "partition", required_argument, NULL, 'p' },
    { "gpus", required_argument, NULL, 'G' },
    { "gpus-per-node", required_argument, NULL, OPT_GPUS_PER_NODE },
    { "exclusive", no_argument, NULL, OPT_EXCLUSIVE },
    { "constraint", required_argument, NULL, 'C' },
    { "qos", required_argument, NULL, 'q' },
    { "nice", optional_argument, NULL, OPT_NICE },
    { "test-only", no_argument, NULL, OPT_TEST_ONLY },
    { "dependency", required_argument, NULL, 'd' },
    { "begin", required_argument, NULL, 'b' },
    { "kill-on-invalid-dep", required_argument, NULL, OPT_KILL_DEP },
    { "output", required_argument, NULL, 'o' },
    { "error", required_argument, NULL, 'e' },
    { "chdir", required_argument, NULL, 'D' },
    { "export", required_argument, NULL, OPT_EXPORT },
    { "hold", no_argument, NULL, 'H' },
    { "wrap", required_argument, NULL, OPT_WRAP },
    { "parsable", no_argument, NULL, OPT_PARSABLE },
    { "wait", no_argument, NULL, 'W' },
    { "array", required_argument, NULL, 'a' },
    { "requeue", no_argument, NULL, OPT_REQUEUE },
    { "no-requeue", no_argument, NULL, OPT_NO_REQUEUE },
    { "signal", required_argument, NULL, OPT_SIGNAL },
    { "stage-in", required_argument, NULL, OPT_STAGE_IN },
    { "stage-out", required_argument, NULL, OPT_STAGE_OUT },
    { "stage-out-when", required_argument, NULL, OPT_STAGE_OUT_WHEN },
    { "gres", required_argument, NULL, OPT_GRES },
    { "ntasks-per-node", required_argument, NULL, OPT_TASKS_PER_NODE },
    { "account", required_argument, NULL, 'A' },
    { "ignore-unsupported", no_argument, NULL, OPT_IGNORE_UNSUPPORTED },
    /* sbatch options AIOS does not support: named in an error (a warning
     * with --ignore-unsupported) rather than "unknown option" */
    { "mail-type", required_argument, NULL, OPT_UNSUPPORTED },
    { "mail-user", required_argument, NULL, OPT_UNSUPPORTED },
    { "mem-per-cpu", required_argument, NULL, OPT_UNSUPPORTED },
    { "mem-per-gpu", required_argument, NULL, OPT_UNSUPPORTED },
    { "cpus-per-gpu", required_argument, NULL, OPT_UNSUPPORTED },
    { "gpus-per-task", required_argument, NULL, OPT_UNSUPPORTED },
    { "nodelist", required_argument, NULL, OPT_UNSUPPORTED },
    { "exclude", required_argument, NULL, OPT_UNSUPPORTED },
    { "reservation", required_argument, NULL, OPT_UNSUPPORTED },
    { "licenses", required_argument, NULL, OPT_UNSUPPORTED },
    { "distribution", required_argument, NULL, OPT_UNSUPPORTED },
    { "hint", required_argument, NULL, OPT_UNSUPPORTED },
    { "threads-per-core", required_argument, NULL, OPT_UNSUPPORTED },
    { "sockets-per-node", required_argument, NULL, OPT_UNSUPPORTED },
    { "cores-per-socket", required_argument, NULL, OPT_UNSUPPORTED },
    { "switches", required_argument, NULL, OPT_UNSUPPORTED },
    { "wckey", required_argument, NULL, OPT_UNSUPPORTED },
    { "clusters", required_argument, NULL, OPT_UNSUPPORTED },
    { "time-min", required_argument, NULL, OPT_UNSUPPORTED },
    { "tmp", required_argument, NULL, OPT_UNSUPPORTED },
    { "deadline", required_argument, NULL, OPT_UNSUPPORTED },
    { "open-mode", required_argument, NULL, OPT_UNSUPPORTED },
    { "profile", required_argument, NULL, OPT_UNSUPPORTED },
    { "acctg-freq", required_argument, NULL, OPT_UNSUPPORTED },
    { "container", required_argument, NULL, OPT_UNSUPPORTED },
    { "comment", required_argument, NULL, OPT_UNSUPPORTED },
    { "input", required_argument, NULL, OPT_UNSUPPORTED },
    { "overcommit", no_argument, NULL, OPT_UNSUPPORTED },
    { "oversubscribe", no_argument, NULL, OPT_UNSUPPORTED },
    { "no-kill", optional_argument, NULL, OPT_UNSUPPORTED },
    { "get-user-env", optional_argument, NULL, OPT_UNSUPPORTED },
    { "contiguous", no_argument, NULL, OPT_UNSUPPORTED },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};
static const char *shortopts = "+J:N:n:c:t:p:G:C:q:d:b:o:e:D:a:A:w:x:M:m:i:L:HWhV";

/* Short options of sbatch that AIOS does not support (see OPT_UNSUPPORTED). */
static const char *unsupported_short = "wxMmiL";
static bool ignore_unsupported;
static bool first_pass;     /* the command line is read twice: warn once */

struct submit {
    const char *name;
    long nodes;             /* 0 = unset */
    long ntasks;            /* 0 = unset */
    long cpus_per_task;
    uint64_t mem_mb;
    long time_limit;        /* 0 = unset */
    const char *partition;
    long gpus;
    long gpus_per_node;
    bool exclusive;
    const char *constraint;
    const char *qos;
    long nice;
    bool nice_set;
    bool test_only;
    const char *dependency;
    time_t begin;           /* 0 = unset */
    int kill_dep;           /* -1 unset, 0 no, 1 yes */
    const char *output;
    const char *error;
    const char *chdir;
    const char *export;
    const char *wrap;
    bool hold;
    bool parsable;
    bool wait;
    const char *array;
    int requeue;            /* -1 unset, 0 no, 1 yes */
    int signal_num, signal_time, signal_batch;
    const char *stage_in[16];
    int nstage_in;
    const char *stage_out[16];
    int nstage_out;
    const char *stage_out_when;
    long tasks_per_node;
    const char *account;
};

/* Where an option came from, for error messages. */
static const char *origin;
/* The script's directive words (options point into them). */
static struct directive_word *script_words;
static size_t script_nwords;

static void bad_value (const char *opt, const char *text)
{
    if (origin)
        cli_die ("%s: %s: %s", origin, opt, text);
    cli_usage_error ("%s: %s", opt, text);
}

static long count_arg (const char *opt, const char *s, long min)
{
    aios_error_t err;
    long v;

    if (parse_long (s, min, INT_MAX, &v, &err) < 0)
        bad_value (opt, err.text);
    return v;
}

static void apply_option (struct submit *s, int c, char *arg)
{
    aios_error_t err;

    switch (c) {
    case 'J': s->name = arg; break;
    case 'N': s->nodes = count_arg ("--nodes", arg, 1); break;
    case 'n': s->ntasks = count_arg ("--ntasks", arg, 1); break;
    case 'c': s->cpus_per_task = count_arg ("--cpus-per-task", arg, 1); break;
    case OPT_MEM:
        if (parse_size_mb (arg, &s->mem_mb, &err) < 0)
            bad_value ("--mem", err.text);
        break;
    case 't':
        if (parse_time (arg, &s->time_limit, &err) < 0)
            bad_value ("--time", err.text);
        break;
    case 'p': s->partition = arg; break;
    case 'G': s->gpus = count_arg ("--gpus", arg, 1); break;
    case OPT_GPUS_PER_NODE:
        s->gpus_per_node = count_arg ("--gpus-per-node", arg, 1);
        break;
    case OPT_EXCLUSIVE: s->exclusive = true; break;
    case 'C': s->constraint = arg; break;
    case 'q': s->qos = arg; break;
    case OPT_NICE:
        s->nice = 100;
        if (arg && parse_long (arg, -10000, 10000, &s->nice, &err) < 0)
            bad_value ("--nice", err.text);
        s->nice_set = true;
        break;
    case OPT_TEST_ONLY: s->test_only = true; break;
    case 'd': s->dependency = arg; break;
    case 'b':
        if (parse_begin (arg, time (NULL), &s->begin, &err) < 0)
            bad_value ("--begin", err.text);
        break;
    case OPT_KILL_DEP:
        if (!strcmp (arg, "yes"))
            s->kill_dep = 1;
        else if (!strcmp (arg, "no"))
            s->kill_dep = 0;
        else
            bad_value ("--kill-on-invalid-dep", "expected yes or no");
        break;
    case 'o': s->output = arg; break;
    case 'e': s->error = arg; break;
    case 'D': s->chdir = arg; break;
    case OPT_EXPORT: s->export = arg; break;
    case 'H': s->hold = true; break;
    case OPT_WRAP: s->wrap = arg; break;
    case OPT_PARSABLE: s->parsable = true; break;
    case 'W': s->wait = true; break;
    case 'a': {
        int *tasks, n, thr;
        if (parse_array (arg, &tasks, &n, &thr, &err) < 0)
            bad_value ("--array", err.text);
        free (tasks);
        s->array = arg;
        break;
    }
    case OPT_REQUEUE: s->requeue = 1; break;
    case OPT_NO_REQUEUE: s->requeue = 0; break;
    case OPT_SIGNAL:
        if (parse_signal_spec (arg, &s->signal_num, &s->signal_time,
                               &s->signal_batch, &err) < 0)
            bad_value ("--signal", err.text);
        break;
    case OPT_STAGE_IN:
        if (s->nstage_in == 16)
            bad_value ("--stage-in", "at most 16 datasets");
        s->stage_in[s->nstage_in++] = arg;
        break;
    case OPT_STAGE_OUT:
        if (s->nstage_out == 16)
            bad_value ("--stage-out", "at most 16 models");
        if (!strchr (arg, ':'))
            bad_value ("--stage-out", "expected PATH:MODEL_NAME");
        s->stage_out[s->nstage_out++] = arg;
        break;
    case OPT_STAGE_OUT_WHEN:
        if (strcmp (arg, "success") && strcmp (arg, "always"))
            bad_value ("--stage-out-when", "expected success or always");
        s->stage_out_when = arg;
        break;
    case OPT_GRES: {
        /* gpu:N or gpu:TYPE:N (the type is not matched) */
        const char *n = strrchr (arg, ':');
        if (strncmp (arg, "gpu:", 4) || !n)
            bad_value ("--gres", "only gpu[:TYPE]:N is supported");
        s->gpus_per_node = count_arg ("--gres", n + 1, 1);
        break;
    }
    case OPT_TASKS_PER_NODE:
        s->tasks_per_node = count_arg ("--ntasks-per-node", arg, 1);
        break;
    case 'A': s->account = arg; break;
    case OPT_IGNORE_UNSUPPORTED: ignore_unsupported = true; break;
    }
}

/* An sbatch option AIOS does not support: an error naming it, or a warning
 * with --ignore-unsupported. */
static void unsupported (const char *word)
{
    const char *name = word;

    if (ignore_unsupported) {
        if (!origin && !first_pass)
            return;     /* the command line's, warned at its first read */
        cli_warn ("%s%signoring %s: AIOS does not support it", origin ? origin : "",
                  origin ? ": " : "", name);
        return;
    }
    if (origin)
        cli_die ("%s: option %s is not supported by AIOS (remove it, or submit "
                 "with --ignore-unsupported to ignore it with a warning)", origin,
                 name);
    cli_usage_error ("option %s is not supported by AIOS (remove it, or add "
                     "--ignore-unsupported to ignore it with a warning)", name);
}

/* Run getopt over argv; returns optind.  In a script (origin set) a help or
 * version option, or a non-option word, is an error. */
static int parse_args (struct submit *s, int argc, char **argv)
{
    int c, li = 0;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long (argc, argv, shortopts, opts, &li)) != -1) {
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            if (origin)
                cli_die ("%s: unknown or incomplete option \"%s\"", origin, bad);
            cli_usage_error ("unknown or incomplete option \"%s\"", bad);
        }
        if (origin && c == OPT_WRAP)
            cli_die ("%s: --wrap is not allowed in a script", origin);
        if (c == 'h' || c == 'V') {
            if (origin)
                cli_die ("%s: \"%s\" is not allowed in a script", origin,
                         argv[optind - 1]);
            if (c == 'h') {
                fputs (usage_text, stdout);
                exit (CLI_OK);
            }
            cli_version ();
        }
        if (c == OPT_UNSUPPORTED || (c < 256 && strchr (unsupported_short, c))) {
            char name[64];
            if (c == OPT_UNSUPPORTED)
                snprintf (name, sizeof (name), "--%s", opts[li].name);
            else
                snprintf (name, sizeof (name), "-%c", c);
            unsupported (name);
            continue;
        }
        apply_option (s, c, optarg);
    }
    return optind;
}

/* Is word an option whose value is the next word ("-N 2", "--time 10")? */
static bool takes_value (const char *word)
{
    const struct option *o;

    if (word[0] != '-')
        return false;
    if (word[1] != '-') {
        const char *p = isalpha ((unsigned char)word[1]) ? strchr (shortopts, word[1])
                                                         : NULL;
        return word[2] == '\0' && p && p[1] == ':';
    }
    if (strchr (word, '='))
        return false;
    for (o = opts; o->name; o++) {
        if (!strcmp (word + 2, o->name))
            return o->has_arg == required_argument;
    }
    return false;
}

static void apply_directives (struct submit *s, const char *script,
                              const char *file)
{
    struct directive_word *w;
    size_t n, i;
    aios_error_t err;
    char where[512];

    if (directive_parse (script, &w, &n, &err) < 0)
        cli_die ("%s: %s", file, err.text);
    /* one getopt run per word keeps the line number of each option */
    for (i = 0; i < n; i++) {
        char *argv[4] = { (char *)"aios-submit", w[i].text, NULL, NULL };
        int argc = 2, used;
        if (i + 1 < n && w[i + 1].line == w[i].line
            && takes_value (w[i].text)) {
            argv[2] = w[i + 1].text; /* "-N 2": the value is the next word */
            argc = 3;
        }
        snprintf (where, sizeof (where), "%s: line %d", file, w[i].line);
        origin = where;
        used = parse_args (s, argc, argv);
        if (used < argc)
            cli_die ("%s: unexpected word \"%s\" (expected an option)", where,
                     argv[used]);
        i += (size_t)(argc - 2);
    }
    origin = NULL;
    /* s points into the words: keep them for the life of the program */
    script_words = w;
    script_nwords = n;
}

static void free_words (void)
{
    directive_free (script_words, script_nwords);
}

static char *read_all (FILE *f, const char *what)
{
    size_t cap = 8192, len = 0, r;
    char *buf = cli_xmalloc (cap);

    while ((r = fread (buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (len + 1 == cap) {
            if (cap > 4u * 1024 * 1024)
                cli_die ("%s: script larger than 4 MiB", what);
            if (!(buf = realloc (buf, cap *= 2)))
                cli_die ("out of memory");
        }
    }
    if (ferror (f))
        cli_die ("%s: %s", what, strerror (errno));
    buf[len] = '\0';
    if (memchr (buf, '\0', len))
        cli_die ("%s: the script contains a NUL byte (is it a binary?)", what);
    return buf;
}

static char *load_script (const struct submit *s, const char *path,
                          const char **name)
{
    char *script;
    FILE *f;

    if (s->wrap) {
        size_t n = strlen (s->wrap) + 32;
        script = cli_xmalloc (n);
        snprintf (script, n, "#!/bin/sh\n%s\n", s->wrap);
        *name = "wrap";
        return script;
    }
    if (!path) {
        if (isatty (STDIN_FILENO))
            cli_usage_error ("no script given (a file, --wrap, or the script "
                             "on standard input)");
        *name = "stdin";
        return read_all (stdin, "standard input");
    }
    if (!(f = fopen (path, "r")))
        cli_die ("cannot open script %s: %s", path, strerror (errno));
    script = read_all (f, path);
    fclose (f);
    *name = strrchr (path, '/') ? strrchr (path, '/') + 1 : path;
    return script;
}


static json_t *build_job (const struct submit *s, const char *script,
                          const char *defname)
{
    char cwd[PATH_MAX];
    const char *dir = s->chdir;
    long ntasks = s->ntasks ? s->ntasks : (s->nodes ? s->nodes : 1);
    json_t *job;

    if (s->tasks_per_node && !s->ntasks)
        ntasks = s->tasks_per_node * (s->nodes ? s->nodes : 1);

    if (!dir) {
        if (!getcwd (cwd, sizeof (cwd)))
            cli_die ("cannot get the current directory: %s", strerror (errno));
        dir = cwd;
    }
    if (dir[0] != '/')
        cli_die ("--chdir %s: must be an absolute path", dir);
    if (s->nodes > ntasks)
        cli_die ("--nodes=%ld is more than --ntasks=%ld", s->nodes, ntasks);
    job = json_pack ("{s:s s:s s:s s:o s:I s:I s:I s:I s:b}",
                     "name", s->name ? s->name : defname, "script", script,
                     "workdir", dir, "env", cli_export_env (s->export, NULL),
                     "nodes", (json_int_t)s->nodes, "ntasks", (json_int_t)ntasks,
                     "cpus_per_task",
                     (json_int_t)(s->cpus_per_task ? s->cpus_per_task : 1),
                     "mem_mb", (json_int_t)s->mem_mb, "hold", s->hold);
    if (!job)
        cli_die ("out of memory");
    if (s->time_limit != 0)
        json_object_set_new (job, "time_limit", json_integer (s->time_limit));
    if (s->partition)
        json_object_set_new (job, "partition", json_string (s->partition));
    if (s->gpus && s->gpus_per_node)
        cli_die ("give --gpus or --gpus-per-node, not both");
    if (s->gpus)
        json_object_set_new (job, "gpus", json_integer (s->gpus));
    if (s->gpus_per_node)
        json_object_set_new (job, "gpus_per_node", json_integer (s->gpus_per_node));
    if (s->exclusive)
        json_object_set_new (job, "exclusive", json_true ());
    if (s->constraint)
        json_object_set_new (job, "constraint", json_string (s->constraint));
    if (s->qos)
        json_object_set_new (job, "qos", json_string (s->qos));
    if (s->nice_set)
        json_object_set_new (job, "nice", json_integer (s->nice));
    if (s->dependency)
        json_object_set_new (job, "dependency", json_string (s->dependency));
    if (s->begin)
        json_object_set_new (job, "begin_time", json_real ((double)s->begin));
    if (s->kill_dep == 1)
        json_object_set_new (job, "kill_on_invalid_dep", json_true ());
    if (s->array)
        json_object_set_new (job, "array", json_string (s->array));
    if (s->requeue == 1)
        json_object_set_new (job, "requeue", json_true ());
    if (s->signal_num > 0) {
        json_object_set_new (job, "signal_num", json_integer (s->signal_num));
        json_object_set_new (job, "signal_time", json_integer (s->signal_time));
        if (s->signal_batch)
            json_object_set_new (job, "signal_batch", json_true ());
    }
    if (s->nstage_in > 0) {
        json_t *a = json_array ();
        int i;
        for (i = 0; i < s->nstage_in; i++)
            json_array_append_new (a, json_string (s->stage_in[i]));
        json_object_set_new (job, "stage_in", a);
    }
    if (s->nstage_out > 0) {
        json_t *a = json_array ();
        int i;
        for (i = 0; i < s->nstage_out; i++)
            json_array_append_new (a, json_string (s->stage_out[i]));
        json_object_set_new (job, "stage_out", a);
    }
    if (s->stage_out_when)
        json_object_set_new (job, "stage_out_when",
                             json_string (s->stage_out_when));
    if (s->account)
        json_object_set_new (job, "account", json_string (s->account));
    if (s->output)
        json_object_set_new (job, "output", json_string (s->output));
    if (s->error)
        json_object_set_new (job, "error", json_string (s->error));
    return job;
}

/* The job's final state from a snapshot or event, else NULL. */
static json_t *final_job (json_t *job)
{
    int st = job_state_parse (cli_jstr (job, "state", ""));

    return st >= 0 && job_state_is_final ((enum job_state)st) ? job : NULL;
}

static void note_ended (json_t *ended, json_t *job)
{
    char k[32];

    snprintf (k, sizeof (k), "%lld", (long long)cli_jint (job, "id"));
    json_object_set (ended, k, job);
}

/* Block until the job (or every task of an array: n ids from id) ends,
 * following the controller's event stream for them (no polling); reconnect
 * if the controller restarts.  Returns the highest exit code. */
static int wait_job (struct aios_client *c, json_int_t id, int n)
{
    time_t give_up;
    aios_error_t err;
    json_t *msg, *v, *ended = json_object ();   /* "id" -> job */
    const char *key;
    int worst = 0;
    size_t i;

    for (;;) {
        json_t *req = proto_request ("subscribe", 0), *ids = json_array ();
        char k[32];
        for (i = 0; i < (size_t)n; i++) {
            snprintf (k, sizeof (k), "%lld", (long long)(id + (json_int_t)i));
            if (!json_object_get (ended, k))
                json_array_append_new (ids, json_integer (id + (json_int_t)i));
        }
        json_object_set_new (req, "ids", ids);
        msg = aios_client_rpc (c, req, &err);
        if (msg && json_array_size (json_object_get (msg, "jobs")) == 0)
            cli_die ("job %lld is no longer in the queue", (long long)id);
        json_array_foreach (msg ? json_object_get (msg, "jobs") : NULL, i, v)
            if (final_job (v))
                note_ended (ended, v);
        json_decref (msg);
        while (msg && json_object_size (ended) < (size_t)n) {
            if (!(msg = aios_client_recv (c, &err)))
                break;
            if ((v = json_object_get (msg, "job")) && final_job (v))
                note_ended (ended, v);
            if (!strcmp (cli_jstr (msg, "event", ""), "dropped"))
                cli_die ("the controller dropped the wait: %s",
                         cli_jstr (msg, "reason", "?"));
            json_decref (msg);
        }
        if (json_object_size (ended) >= (size_t)n)
            break;
        if (errno != ECONNRESET && errno != EPROTO && errno != EPIPE)
            cli_die ("%s", err.text);
        aios_client_close (c);
        /* the controller restarted: reconnect (for up to 10 minutes) and
         * follow the job again */
        give_up = time (NULL) + 600;
        while (!(c = cli_try_connect (&err))) {
            if (time (NULL) > give_up)
                cli_die ("lost the controller while waiting for job %lld: %s",
                         (long long)id, err.text);
            usleep (200 * 1000);
        }
    }
    aios_client_close (c);
    json_object_foreach (ended, key, v) {
        const char *state = cli_jstr (v, "state", "?");
        int code = (int)cli_jint (v, "exit_code"), sig = (int)cli_jint (v, "signal");
        bool ok = strcmp (state, "COMPLETED") == 0;
        if (!ok)
            cli_warn ("job %s ended %s", cli_jstr (v, "job_id", key), state);
        code = code ? code : sig ? 128 + sig : ok ? 0 : 1;
        if (code > worst)
            worst = code;
    }
    json_decref (ended);
    return worst;
}

/* aios-submit --test-only: "Job 12 would start now on node[1-2] ..." */
static void print_test (json_t *rep)
{
    json_int_t id = 0;
    int now = 0, cpus = 0, position = 0;
    double est = -1;
    const char *nodes = NULL, *part = "";
    json_t *reasons = NULL, *v;
    size_t i;

    json_unpack (rep, "{s:I s:b s:s s?i s?i s?F s?s s?o}", "id", &id,
                 "start_now", &now, "partition", &part, "cpus", &cpus,
                 "position", &position, "est_start", &est, "nodes", &nodes,
                 "reasons", &reasons);
    if (now) {
        printf ("aios-submit: job %lld would start now on %s using %d CPU(s) "
                "in partition %s\n", (long long)id, nodes ? nodes : "?", cpus,
                part);
        return;
    }
    if (est >= 0) {
        char when[64], in[32];
        time_t t = (time_t)est;
        long delta = (long)(est - (double)time (NULL));
        strftime (when, sizeof (when), "%Y-%m-%dT%H:%M:%S", localtime (&t));
        printf ("aios-submit: job %lld would start at %s (in %s) on %s using %d "
                "CPU(s) in partition %s\n", (long long)id, when,
                format_time (delta > 0 ? delta : 0, in, sizeof (in)),
                nodes ? nodes : "?", cpus, part);
    } else
        printf ("aios-submit: job %lld would wait in partition %s with no start "
                "estimate\n", (long long)id, part);
    printf ("aios-submit: position %d in the queue; waiting for:", position);
    json_array_foreach (reasons, i, v)
        printf ("%s%s", i ? ", " : " ", json_string_value (v));
    printf ("\n");
}

int main (int argc, char **argv)
{
    struct submit s = { 0 };
    struct aios_client *c;
    const char *path = NULL, *defname = NULL;
    char *script;
    json_t *req, *rep;
    json_int_t id;
    int first, ntasks = 1;

    cli_init (argv[0]);
    for (first = 1; first < argc; first++)
        if (!strcmp (argv[first], "--ignore-unsupported"))
            ignore_unsupported = true;
    first_pass = true;
    first = parse_args (&s, argc, argv);
    first_pass = false;
    if (first < argc)
        path = argv[first];
    if (first + 1 < argc)
        cli_usage_error ("unexpected argument \"%s\" after the script",
                         argv[first + 1]);
    if (s.wrap && path)
        cli_usage_error ("give either --wrap or a script, not both");
    script = load_script (&s, path, &defname);
    if (strncmp (script, "#!", 2) != 0)
        cli_die ("%s: the batch script does not start with \"#!\" (add e.g. "
                 "#!/bin/sh as its first line)", path ? path : "standard input");
    if (!s.wrap) {
        memset (&s, 0, sizeof (s));
        atexit (free_words);
        apply_directives (&s, script, path ? path : "standard input");
        parse_args (&s, argc, argv); /* the command line wins */
    }
    req = proto_request ("submit", 0);
    json_object_set_new (req, "job", build_job (&s, script, defname));
    free (script);
    c = cli_connect ();
    if (s.test_only) {
        json_object_set_new (req, "test_only", json_true ());
        rep = cli_rpc (c, req);
        print_test (rep);
        json_decref (rep);
        aios_client_close (c);
        return 0;
    }
    rep = cli_rpc (c, req);
    json_unpack (rep, "{s:I s?i}", "id", &id, "array_tasks", &ntasks);
    json_decref (rep);
    if (s.parsable)
        printf ("%lld\n", (long long)id);
    else
        printf ("Submitted batch job %lld\n", (long long)id);
    fflush (stdout);
    if (s.wait)
        return wait_job (c, id, ntasks);
    aios_client_close (c);
    return 0;
}
