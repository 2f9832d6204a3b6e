/* aios-acct - finished jobs and their steps from the controller's history
 * (like sacct) */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "job.h"
#include "parse.h"
#include "proto.h"

static const char *usage_text =
    "Usage: aios-acct [OPTIONS]\n"
    "List finished jobs and their steps from the controller's history.\n"
    "Without -j or -S: the jobs that ended since 00:00 today.\n"
    "\n"
    "  -j, --jobs=ID[,ID...]          only these jobs (ID_TASK: one array task;\n"
    "                                 an array's ID: all its tasks)\n"
    "  -u, --user=USER[,USER...]      only jobs of these users (default: your\n"
    "                                 own; root: everyone's)\n"
    "  -a, --allusers                 jobs of every user\n"
    "  -s, --state=STATE[,STATE...]   only jobs that ended in these states\n"
    "                                 (names or codes: CD F CA TO OOM NF SF)\n"
    "  -S, --starttime=TIME           only jobs that ended at or after TIME\n"
    "  -E, --endtime=TIME             only jobs submitted at or before TIME\n"
    "                                 TIME: now, now-N[s|m|h|d], HH:MM[:SS]\n"
    "                                 (today), YYYY-MM-DD[THH:MM[:SS]]\n"
    "  -r, --partition=NAME[,NAME...] only jobs of these partitions\n"
    "  -X, --allocations              jobs only, without their steps\n"
    "  -o, --format=FIELD[%WIDTH],... the columns (-e lists the fields; case\n"
    "                                 does not matter)\n"
    "  -e, --helpformat               list the fields --format takes\n"
    "  -p, --parsable                 fields separated by '|', one after each\n"
    "  -P, --parsable2                fields separated by '|', none at the end\n"
    "  -n, --noheader                 print no header\n"
    "      --json                     print the jobs as JSON\n"
    "      --summary                  per user: jobs, CPU-hours and GPU-hours\n"
    "  -h, --help                     show this help\n"
    "  -V, --version                  show the version\n";

enum { OPT_JSON = 256, OPT_SUMMARY };

static const struct option opts[] = {
    { "jobs", required_argument, NULL, 'j' },
    { "user", required_argument, NULL, 'u' },
    { "allusers", no_argument, NULL, 'a' },
    { "state", required_argument, NULL, 's' },
    { "starttime", required_argument, NULL, 'S' },
    { "endtime", required_argument, NULL, 'E' },
    { "partition", required_argument, NULL, 'r' },
    { "allocations", no_argument, NULL, 'X' },
    { "format", required_argument, NULL, 'o' },
    { "helpformat", no_argument, NULL, 'e' },
    { "parsable", no_argument, NULL, 'p' },
    { "parsable2", no_argument, NULL, 'P' },
    { "noheader", no_argument, NULL, 'n' },
    { "json", no_argument, NULL, OPT_JSON },
    { "summary", no_argument, NULL, OPT_SUMMARY },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};
static const char *shortopts = "j:u:as:S:E:r:Xo:epPnhV";

static const char *default_format =
    "JobID,JobName,User,Partition,NCPUS,State,ExitCode,Elapsed,NodeList";

struct query {
    json_t *jobs;       /* filters sent to the controller; NULL: any */
    json_t *users;
    json_t *states;
    json_t *partitions;
    bool all_users;
    const char *start_arg, *end_arg;
    time_t start, end;  /* 0: no bound */
    bool allocations;
    const char *format;
    char sep;           /* '|' when parsable */
    bool trailing_sep;  /* -p: one after the last field too */
    bool noheader;
    bool json;
    bool summary;
};

/* --- fields --------------------------------------------------------------- */

/* A line: a job (step NULL) or one of its steps. */
struct line {
    json_t *job;
    json_t *step;
};

/* The step's value of key if this is a step line, else the job's. */
static json_t *get (const struct line *l, const char *key)
{
    return json_object_get (l->step ? l->step : l->job, key);
}

static const char *str (const struct line *l, const char *key, const char *dflt)
{
    const char *s = json_string_value (get (l, key));

    return s && *s ? s : dflt;
}

static const char *num (json_t *v, char *buf, size_t len)
{
    if (!v)
        return "";
    snprintf (buf, len, "%lld", (long long)json_integer_value (v));
    return buf;
}

/* Durations as sacct prints them: [D-]HH:MM:SS. */
static const char *duration (long long secs, char *buf, size_t len)
{
    if (secs < 0)
        secs = 0;
    if (secs >= 86400)
        snprintf (buf, len, "%lld-%02lld:%02lld:%02lld", secs / 86400,
                  secs / 3600 % 24, secs / 60 % 60, secs % 60);
    else
        snprintf (buf, len, "%02lld:%02lld:%02lld", secs / 3600,
                  secs / 60 % 60, secs % 60);
    return buf;
}

static const char *stamp (json_t *v, char *buf, size_t len)
{
    double t = json_number_value (v);
    time_t secs = (time_t)t;
    struct tm tm;

    if (t <= 0 || !localtime_r (&secs, &tm)
        || strftime (buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return "Unknown";
    return buf;
}

typedef const char *(*field_f) (const struct line *l, char *buf, size_t len);

static const char *f_jobid (const struct line *l, char *buf, size_t len)
{
    return str (l, l->step ? "step_id" : "job_id", "");
}

static const char *f_jobid_raw (const struct line *l, char *buf, size_t len)
{
    long long id = (long long)json_integer_value (json_object_get (l->job, "id"));

    if (l->step)
        snprintf (buf, len, "%lld.%lld", id,
                  (long long)json_integer_value (json_object_get (l->step, "step")));
    else
        snprintf (buf, len, "%lld", id);
    return buf;
}

static const char *f_name (const struct line *l, char *buf, size_t len)
{
    return str (l, "name", "");
}

static const char *f_user (const struct line *l, char *buf, size_t len)
{
    return l->step ? "" : str (l, "user", "");
}

static const char *f_uid (const struct line *l, char *buf, size_t len)
{
    return l->step ? "" : num (get (l, "uid"), buf, len);
}

static const char *f_partition (const struct line *l, char *buf, size_t len)
{
    return l->step ? "" : str (l, "partition", "");
}

static const char *f_state (const struct line *l, char *buf, size_t len)
{
    return str (l, "state", "UNKNOWN");
}

static const char *f_exit (const struct line *l, char *buf, size_t len)
{
    snprintf (buf, len, "%lld:%lld", (long long)json_integer_value (get (l, "exit_code")),
              (long long)json_integer_value (get (l, "signal")));
    return buf;
}

static const char *f_reason (const struct line *l, char *buf, size_t len)
{
    return l->step ? "" : str (l, "reason", "None");
}

static const char *f_submit (const struct line *l, char *buf, size_t len)
{
    return stamp (get (l, l->step ? "start_time" : "submit_time"), buf, len);
}

static const char *f_start (const struct line *l, char *buf, size_t len)
{
    return stamp (get (l, "start_time"), buf, len);
}

static const char *f_end (const struct line *l, char *buf, size_t len)
{
    return stamp (get (l, "end_time"), buf, len);
}

static const char *f_wait (const struct line *l, char *buf, size_t len)
{
    return l->step ? "" : duration (json_integer_value (get (l, "wait")), buf, len);
}

static const char *f_elapsed (const struct line *l, char *buf, size_t len)
{
    return duration (json_integer_value (get (l, "elapsed")), buf, len);
}

static const char *f_elapsed_raw (const struct line *l, char *buf, size_t len)
{
    return num (get (l, "elapsed"), buf, len);
}

static const char *f_limit (const struct line *l, char *buf, size_t len)
{
    long long t = json_integer_value (get (l, "time_limit"));

    if (l->step)
        return "";
    return t < 0 ? "UNLIMITED" : duration (t, buf, len);
}

static const char *f_nnodes (const struct line *l, char *buf, size_t len)
{
    return num (get (l, "nnodes"), buf, len);
}

static const char *f_ncpus (const struct line *l, char *buf, size_t len)
{
    return l->step ? "" : num (get (l, "ncpus"), buf, len);
}

static const char *f_ntasks (const struct line *l, char *buf, size_t len)
{
    return num (get (l, "ntasks"), buf, len);
}

static const char *f_nodelist (const struct line *l, char *buf, size_t len)
{
    return str (l, "nodelist", "None assigned");
}

static const char *f_cputime (const struct line *l, char *buf, size_t len)
{
    return l->step ? "" : duration (json_integer_value (get (l, "cputime")), buf, len);
}

static const char *f_cputime_raw (const struct line *l, char *buf, size_t len)
{
    return l->step ? "" : num (get (l, "cputime"), buf, len);
}

/* sacct's TotalCPU: MM:SS.mmm under an hour, [D-]HH:MM:SS above. */
static const char *f_totalcpu (const struct line *l, char *buf, size_t len)
{
    json_t *v = l->step ? NULL : get (l, "total_cpu");
    double t = json_number_value (v);
    long long ms = (long long)(t * 1000 + 0.5);

    if (!v)
        return "";
    if (ms >= 3600 * 1000)
        return duration (ms / 1000, buf, len);
    snprintf (buf, len, "%02lld:%02lld.%03lld", ms / 60000, ms / 1000 % 60, ms % 1000);
    return buf;
}

static const char *f_maxrss (const struct line *l, char *buf, size_t len)
{
    json_t *v = l->step ? NULL : get (l, "max_rss_kb");

    if (!v)
        return "";
    snprintf (buf, len, "%lldK", (long long)json_integer_value (v));
    return buf;
}

static const char *f_gpus (const struct line *l, char *buf, size_t len)
{
    return l->step ? "" : num (get (l, "gpus"), buf, len);
}

static const char *f_restarts (const struct line *l, char *buf, size_t len)
{
    if (l->step)
        return "";
    snprintf (buf, len, "%lld", (long long)json_integer_value (get (l, "restarts")));
    return buf;
}

/* name: sacct's (headers are written so); right: numbers and times are
 * right-justified in the table. */
static const struct field {
    const char *name;
    field_f get;
    bool right;
    const char *help;
} fields[] = {
    { "JobID", f_jobid, false, "job id (ID_TASK for array tasks), ID.STEP for steps" },
    { "JobIDRaw", f_jobid_raw, false, "numeric job id (also of array tasks)" },
    { "JobName", f_name, false, "job or step name" },
    { "User", f_user, false, "owner" },
    { "UID", f_uid, true, "owner's uid" },
    { "Partition", f_partition, false, "partition" },
    { "State", f_state, false, "final state" },
    { "ExitCode", f_exit, true, "exit code:signal" },
    { "Reason", f_reason, false, "why it ended as it did (None: no reason)" },
    { "Submit", f_submit, true, "submit time (steps: start)" },
    { "Start", f_start, true, "start time" },
    { "End", f_end, true, "end time" },
    { "Wait", f_wait, true, "Start - Submit (or End - Submit if it never ran)" },
    { "Elapsed", f_elapsed, true, "End - Start" },
    { "ElapsedRaw", f_elapsed_raw, true, "Elapsed in seconds" },
    { "Timelimit", f_limit, true, "time limit" },
    { "NNodes", f_nnodes, true, "nodes" },
    { "NCPUS", f_ncpus, true, "CPUs allocated" },
    { "AllocCPUS", f_ncpus, true, "the same as NCPUS" },
    { "NTasks", f_ntasks, true, "tasks" },
    { "NodeList", f_nodelist, false, "nodes it ran on" },
    { "CPUTime", f_cputime, true, "Elapsed x NCPUS" },
    { "CPUTimeRAW", f_cputime_raw, true, "CPUTime in seconds" },
    { "TotalCPU", f_totalcpu, true, "CPU time the batch script used (user + system)" },
    { "MaxRSS", f_maxrss, true, "peak resident memory of the batch script" },
    { "GPUs", f_gpus, true, "GPUs allocated" },
    { "Restarts", f_restarts, true, "times requeued" },
};
#define NFIELDS (sizeof (fields) / sizeof (fields[0]))

static const struct field *field_lookup (const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < NFIELDS; i++)
        if (strlen (fields[i].name) == len && !strncasecmp (fields[i].name, name, len))
            return &fields[i];
    return NULL;
}

static void print_helpformat (void)
{
    size_t i;

    for (i = 0; i < NFIELDS; i++)
        printf ("%-12s %s\n", fields[i].name, fields[i].help);
}

/* --- columns ------------------------------------------------------------- */

struct column {
    const struct field *field;
    int width;      /* the table's: fixed if given, else as wide as needed */
    bool fixed;
};

struct layout {
    struct column *v;
    size_t n;
};

/* "JobID,JobName%20,state": names in any case, %WIDTH optional. */
static struct layout *layout_compile (const char *fmt)
{
    struct layout *l = cli_xmalloc (sizeof (*l));
    char *copy = cli_xstrdup (fmt), *tok, *save = NULL;

    l->v = cli_xmalloc ((strlen (fmt) + 1) * sizeof (*l->v));
    for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save)) {
        struct column *c = &l->v[l->n];
        char *pct = strchr (tok, '%');
        size_t len = pct ? (size_t)(pct - tok) : strlen (tok);
        if (!(c->field = field_lookup (tok, len)))
            cli_usage_error ("--format: unknown field \"%.*s\" (aios-acct -e "
                             "lists them)", (int)len, tok);
        if (pct) {
            aios_error_t err;
            long w;
            if (parse_long (pct + 1, 1, 1000, &w, &err) < 0)
                cli_usage_error ("--format: invalid width \"%s\" in \"%s\" "
                                 "(expected 1..1000)", pct + 1, tok);
            c->width = (int)w;
            c->fixed = true;
        }
        l->n++;
    }
    free (copy);
    if (l->n == 0)
        cli_usage_error ("--format: no fields in \"%s\"", fmt);
    return l;
}

static void layout_destroy (struct layout *l)
{
    if (l)
        free (l->v);
    free (l);
}

/* Call fn for each line: every job, each followed by its steps. */
typedef void (*line_f) (struct layout *lay, const struct query *q,
                        const struct line *l);

static void each_line (json_t *jobs, struct layout *lay, const struct query *q,
                       line_f fn)
{
    json_t *job, *step;
    size_t i, k;

    json_array_foreach (jobs, i, job) {
        struct line l = { job, NULL };
        fn (lay, q, &l);
        json_array_foreach (json_object_get (job, "steps"), k, step) {
            l.step = step;
            fn (lay, q, &l);
        }
    }
}

static void fit_line (struct layout *lay, const struct query *q, const struct line *l)
{
    char buf[256];
    size_t i, len;

    for (i = 0; i < lay->n; i++) {
        if (lay->v[i].fixed)
            continue;
        len = strlen (lay->v[i].field->get (l, buf, sizeof (buf)));
        if ((int)len > lay->v[i].width)
            lay->v[i].width = (int)len;
    }
}

/* One cell: parsable as it is; in the table padded to its width, and cut
 * with a '+' at the end when a fixed width is too small (as sacct does). */
static void print_cell (const struct query *q, const struct column *c,
                        const char *s, bool last)
{
    size_t len = strlen (s);
    int pad;

    if (q->sep) {
        cli_put_clean (stdout, s, len);
        if (!last || q->trailing_sep)
            putchar (q->sep);
        return;
    }
    if (c->fixed && (int)len > c->width) {
        cli_put_clean (stdout, s, (size_t)c->width - 1);
        putchar ('+');
        len = (size_t)c->width;
    } else {
        pad = c->width - (int)len;
        if (c->field->right && pad > 0 && !(last && len == 0))
            printf ("%*s", pad, "");
        cli_put_clean (stdout, s, len);
        if (!c->field->right && pad > 0 && !last)
            printf ("%*s", pad, "");
        len = (size_t)c->width;
    }
    if (!last)
        putchar (' ');
}

static void print_line (struct layout *lay, const struct query *q,
                        const struct line *l)
{
    char buf[256];
    size_t i;

    for (i = 0; i < lay->n; i++)
        print_cell (q, &lay->v[i], lay->v[i].field->get (l, buf, sizeof (buf)),
                    i == lay->n - 1);
    putchar ('\n');
}

static void print_header (struct layout *lay, const struct query *q)
{
    size_t i;
    int k;

    for (i = 0; i < lay->n; i++)
        print_cell (q, &lay->v[i], lay->v[i].field->name, i == lay->n - 1);
    putchar ('\n');
    if (q->sep)
        return;
    for (i = 0; i < lay->n; i++) {
        for (k = 0; k < lay->v[i].width; k++)
            putchar ('-');
        putchar (i == lay->n - 1 ? '\n' : ' ');
    }
}

static void print_jobs (const struct query *q, json_t *jobs)
{
    struct layout *lay = layout_compile (q->format ? q->format : default_format);
    size_t i;

    for (i = 0; i < lay->n; i++)
        if (!lay->v[i].fixed)
            lay->v[i].width = (int)strlen (lay->v[i].field->name);
    if (!q->sep)
        each_line (jobs, lay, q, fit_line);
    if (!q->noheader)
        print_header (lay, q);
    each_line (jobs, lay, q, print_line);
    layout_destroy (lay);
}

/* --- summary ------------------------------------------------------------- */

static void print_summary (const struct query *q, json_t *users)
{
    json_t *u;
    size_t i;
    int w = 4;

    json_array_foreach (users, i, u)
        if ((int)strlen (json_string_value (json_object_get (u, "user"))) > w)
            w = (int)strlen (json_string_value (json_object_get (u, "user")));
    if (q->sep && !q->noheader)
        printf ("User|Jobs|CPUHours|GPUHours%s\n", q->trailing_sep ? "|" : "");
    else if (!q->noheader)
        printf ("%-*s %8s %12s %12s\n", w, "User", "Jobs", "CPU-hours", "GPU-hours");
    json_array_foreach (users, i, u) {
        const char *name = json_string_value (json_object_get (u, "user"));
        long long jobs = (long long)json_integer_value (json_object_get (u, "jobs"));
        double cpu = json_number_value (json_object_get (u, "cpu_hours"));
        double gpu = json_number_value (json_object_get (u, "gpu_hours"));
        if (q->sep)
            printf ("%s|%lld|%.2f|%.2f%s\n", name, jobs, cpu, gpu,
                    q->trailing_sep ? "|" : "");
        else
            printf ("%-*s %8lld %12.2f %12.2f\n", w, name, jobs, cpu, gpu);
    }
}

/* --- options ------------------------------------------------------------- */

typedef json_t *(*item_f) (const char *item);

/* ID or ID_TASK, checked here, sent as text. */
static json_t *item_job (const char *s)
{
    aios_error_t err;
    long id, task;

    if (parse_job_ref (s, &id, &task, &err) < 0)
        cli_usage_error ("%s", err.text);
    return json_string (s);
}

static json_t *item_string (const char *s)
{
    return json_string (s);
}

static json_t *item_state (const char *s)
{
    int st = job_state_parse (s);

    if (st < 0)
        cli_usage_error ("invalid job state \"%s\"", s);
    if (!job_state_is_final ((enum job_state)st))
        cli_usage_error ("%s is not a final state: aios-acct lists finished "
                         "jobs (aios-queue lists the others)",
                         job_state_name ((enum job_state)st));
    return json_string (job_state_name ((enum job_state)st));
}

static void add_items (json_t **arr, const char *opt, const char *list, item_f conv)
{
    char *copy = cli_xstrdup (list), *save = NULL, *tok;

    if (!*arr && !(*arr = json_array ()))
        cli_die ("out of memory");
    for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
        if (json_array_append_new (*arr, conv (tok)) < 0)
            cli_die ("out of memory");
    free (copy);
    if (json_array_size (*arr) == 0)
        cli_usage_error ("%s: empty list \"%s\"", opt, list);
}

/* now, now-N[unit], now+N[unit], HH:MM[:SS] (today), YYYY-MM-DD[THH:MM[:SS]]. */
static time_t parse_when (const char *opt, const char *s, time_t now)
{
    aios_error_t err;
    struct tm tm;
    const char *end;
    time_t t;

    if (!strncmp (s, "now-", 4)) {
        char plus[64];
        snprintf (plus, sizeof (plus), "now+%s", s + 4);
        if (parse_begin (plus, now, &t, &err) == 0)
            return now - (t - now);
    } else if (strchr (s, '-') || !strncmp (s, "now", 3)) {
        if (parse_begin (s, now, &t, &err) == 0)
            return t;
    } else {
        localtime_r (&now, &tm);
        tm.tm_sec = 0;
        end = strptime (s, "%H:%M", &tm);
        if (end && *end == ':')
            end = strptime (end, ":%S", &tm);
        if (end && *end == '\0') {
            tm.tm_isdst = -1;
            return mktime (&tm);
        }
    }
    cli_usage_error ("%s: invalid time \"%s\" (expected now, now-N[s|m|h|d], "
                     "HH:MM[:SS] or YYYY-MM-DD[THH:MM[:SS]])", opt, s);
}

static time_t midnight (time_t now)
{
    struct tm tm;

    localtime_r (&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return mktime (&tm);
}

static void apply_option (struct query *q, int c, const char *arg)
{
    switch (c) {
    case 'j': add_items (&q->jobs, "--jobs", arg, item_job); break;
    case 'u': add_items (&q->users, "--user", arg, item_string); break;
    case 'a': q->all_users = true; break;
    case 's': add_items (&q->states, "--state", arg, item_state); break;
    case 'S': q->start_arg = arg; break;
    case 'E': q->end_arg = arg; break;
    case 'r': add_items (&q->partitions, "--partition", arg, item_string); break;
    case 'X': q->allocations = true; break;
    case 'o': q->format = arg; break;
    case 'e': print_helpformat (); exit (CLI_OK);
    case 'p': q->sep = '|'; q->trailing_sep = true; break;
    case 'P': q->sep = '|'; q->trailing_sep = false; break;
    case 'n': q->noheader = true; break;
    case OPT_JSON: q->json = true; break;
    case OPT_SUMMARY: q->summary = true; break;
    case 'h': fputs (usage_text, stdout); exit (CLI_OK);
    case 'V': cli_version ();
    }
}

static void parse_args (struct query *q, int argc, char **argv)
{
    time_t now = time (NULL);
    int c;

    opterr = 0;
    while ((c = getopt_long (argc, argv, shortopts, opts, NULL)) != -1) {
        if (c == '?' || c == ':')
            cli_usage_error ("unknown or incomplete option \"%s\"", argv[optind - 1]);
        apply_option (q, c, optarg);
    }
    if (optind < argc)
        cli_usage_error ("unexpected argument \"%s\"", argv[optind]);
    if (q->all_users && q->users)
        cli_usage_error ("give --user or --allusers, not both");
    if (q->summary && q->format)
        cli_usage_error ("--summary has its own columns: it takes no --format");
    if (q->format && !q->json)
        layout_destroy (layout_compile (q->format)); /* usage errors first */
    if (q->start_arg)
        q->start = parse_when ("--starttime", q->start_arg, now);
    else if (!q->jobs)
        q->start = midnight (now);
    if (q->end_arg)
        q->end = parse_when ("--endtime", q->end_arg, now);
    if (q->end && q->end < q->start)
        cli_usage_error ("the time window ends (%s) before it starts", q->end_arg);
}

static json_t *acct_request (const struct query *q)
{
    json_t *req = proto_request ("acct", 0);

    if (!req || (q->jobs && json_object_set (req, "jobs", q->jobs) < 0)
        || (q->users && json_object_set (req, "users", q->users) < 0)
        || (q->states && json_object_set (req, "states", q->states) < 0)
        || (q->partitions && json_object_set (req, "partitions", q->partitions) < 0)
        || (q->start && json_object_set_new (req, "start", json_real ((double)q->start)) < 0)
        || (q->end && json_object_set_new (req, "end", json_real ((double)q->end)) < 0)
        || json_object_set_new (req, "all_users", json_boolean (q->all_users)) < 0
        || json_object_set_new (req, "steps", json_boolean (!q->allocations)) < 0
        || json_object_set_new (req, "summary", json_boolean (q->summary)) < 0)
        cli_die ("out of memory");
    return req;
}

static json_t *fetch (const struct query *q)
{
    struct aios_client *c = cli_connect ();
    json_t *rep = cli_rpc (c, acct_request (q));
    json_t *list = json_object_get (rep, q->summary ? "users" : "jobs");

    if (!json_is_array (list))
        cli_die ("malformed reply to \"acct\" from the controller");
    json_incref (list);
    json_decref (rep);
    aios_client_close (c);
    return list;
}

int main (int argc, char **argv)
{
    struct query q = { 0 };
    json_t *list;

    cli_init (argv[0]);
    parse_args (&q, argc, argv);
    list = fetch (&q);
    if (q.json)
        cli_print_json (q.summary ? "users" : "jobs", list);
    else if (q.summary)
        print_summary (&q, list);
    else
        print_jobs (&q, list);
    json_decref (list);
    json_decref (q.jobs);
    json_decref (q.users);
    json_decref (q.states);
    json_decref (q.partitions);
    if (fflush (stdout) != 0 || ferror (stdout))
        cli_die ("standard output: %s", strerror (errno));
    return CLI_OK;
}
