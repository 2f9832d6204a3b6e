/* aios-queue - list the jobs the controller knows (like squeue) */
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
    "Usage: aios-queue [OPTIONS]\n"
    "List jobs: pending, running, and those that ended recently.\n"
    "\n"
    "  -j, --jobs=ID[,ID...]         only these jobs (ID: a job, a whole array,\n"
    "                                or ARRAYID_TASK)\n"
    "  -u, --user=USER[,USER...]     only jobs of these users\n"
    "  -t, --states=STATE[,STATE...] only jobs in these states (names such as\n"
    "                                RUNNING or codes such as R; \"all\" for\n"
    "                                every state)\n"
    "  -p, --partition=NAME          only jobs of this partition\n"
    "  -o, --format=FORMAT           columns as %[.|-][WIDTH]SPEC, '.' right-\n"
    "                                justifies; SPEC is one of:\n"
    "        %i id         %P partition   %j name        %u user\n"
    "        %T state      %t state code  %M time used   %l time limit\n"
    "        %D nodes      %C CPUs        %R nodelist or (reason)\n"
    "        %N nodelist   %r reason      %V submit time %S start time\n"
    "        %e end time   %m memory      %Z work dir    %o exit code\n"
    "        %Q priority   %y position    %Y scheduled nodes\n"
    "        %b GPUs per node\n"
    "        %% a '%'; other text is copied (%S of a pending job is its\n"
    "        estimated start)\n"
    "      --start                   pending jobs with their estimated start,\n"
    "                                queue position and scheduled nodes\n"
    "      --why=JOBID               every reason the job waits, what is ahead\n"
    "                                of it, its estimated start, and what would\n"
    "                                let it start sooner\n"
    "      --stats                   scheduler counters (like sdiag)\n"
    "      --watch                   the queue now, then one line per change\n"
    "                                as the controller pushes it (no polling);\n"
    "                                with --json, one JSON object per line\n"
    "      --steps=JOBID             the job's steps (aios-run) with their\n"
    "                                states and exit codes\n"
    "  -r, --array                   one row per array task (pending tasks of\n"
    "                                an array are folded into one row\n"
    "                                12_[4-99%10] otherwise)\n"
    "  -h, --noheader                print no header line\n"
    "      --json                    print the jobs as JSON\n"
    "      --help                    show this help\n"
    "  -V, --version                 show the version\n";

enum { OPT_JSON = 256, OPT_HELP, OPT_START, OPT_WHY, OPT_STATS, OPT_STEPS,
       OPT_WATCH };

static const struct option opts[] = {
    { "jobs", required_argument, NULL, 'j' },
    { "user", required_argument, NULL, 'u' },
    { "states", required_argument, NULL, 't' },
    { "partition", required_argument, NULL, 'p' },
    { "format", required_argument, NULL, 'o' },
    { "noheader", no_argument, NULL, 'h' },
    { "array", no_argument, NULL, 'r' },
    { "json", no_argument, NULL, OPT_JSON },
    { "start", no_argument, NULL, OPT_START },
    { "why", required_argument, NULL, OPT_WHY },
    { "stats", no_argument, NULL, OPT_STATS },
    { "steps", required_argument, NULL, OPT_STEPS },
    { "watch", no_argument, NULL, OPT_WATCH },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};
static const char *shortopts = "j:u:t:p:o:hrV";

static const char *default_format = "%i %P %j %u %T %M %D %R";
static const char *start_format = "%.6i %.9P %.10j %.8u %.2t %.19S %.4y %.6D %.12Y %R";
enum { DEFAULT_NAME_MAX = 24 };

struct query {
    json_t *ids;    /* filters sent to the controller; NULL: any */
    json_t *tasks;  /* [ARRAYID, TASK] pairs (-j ID_TASK) */
    json_t *users;
    json_t *states;
    const char *partition;
    const char *format;
    bool noheader;
    bool json;
    bool start;
    const char *why;    /* ID or ID_TASK, NULL = none */
    const char *steps;
    bool watch;
    bool stats;
    bool array;     /* -r: one row per array task */
};

/* --- reading a job object ------------------------------------------------ */

static double jreal (json_t *job, const char *key)
{
    return json_number_value (json_object_get (job, key));
}

static bool job_pending (json_t *job)
{
    return job_state_parse (cli_jstr (job, "state", "")) == JOB_PENDING;
}

static long job_elapsed (json_t *job, double now)
{
    double start = jreal (job, "start_time");
    double end = jreal (job, "end_time");

    if (job_pending (job) || start <= 0)
        return 0;
    if (end <= 0)
        end = now;
    return end > start ? (long)(end - start) : 0;
}

static long long job_nodes (json_t *job)
{
    size_t n = json_array_size (json_object_get (job, "alloc"));

    if (n > 0)
        return (long long)n;
    return cli_jint (job, "nodes") > 0 ? cli_jint (job, "nodes") : 1;
}

static long long job_cpus (json_t *job)
{
    json_t *alloc = json_object_get (job, "alloc"), *a;
    long long sum = 0;
    size_t i;

    json_array_foreach (alloc, i, a)
        sum += (long long)json_integer_value (json_object_get (a, "cpus"));
    if (sum > 0)
        return sum;
    return cli_jint (job, "ntasks") * cli_jint (job, "cpus_per_task");
}

/* --- the format specifiers ----------------------------------------------- */

/* Returns the text of one cell: buf, or a string borrowed from job. */
typedef const char *(*field_f) (json_t *job, double now, char *buf, size_t len);

/* "12", an array task "12_3", or pending tasks folded "12_[4-99%10]". */
static const char *f_id (json_t *job, double now, char *buf, size_t len)
{
    const char *fold = cli_jstr (job, "array_fold", NULL);

    if (fold)
        snprintf (buf, len, "%lld_[%s]", cli_jint (job, "array_job_id"), fold);
    else if (cli_jint (job, "array_job_id") > 0)
        snprintf (buf, len, "%lld_%lld", cli_jint (job, "array_job_id"),
                  cli_jint (job, "array_task_id"));
    else
        snprintf (buf, len, "%lld", cli_jint (job, "id"));
    (void)now;
    return buf;
}

static const char *f_partition (json_t *job, double now, char *buf, size_t len)
{
    return cli_jstr (job, "partition", "");
}

static const char *f_name (json_t *job, double now, char *buf, size_t len)
{
    return cli_jstr (job, "name", "");
}

static const char *f_user (json_t *job, double now, char *buf, size_t len)
{
    return cli_jstr (job, "user", "");
}

static const char *f_state (json_t *job, double now, char *buf, size_t len)
{
    return cli_jstr (job, "state", "UNKNOWN");
}

static const char *f_code (json_t *job, double now, char *buf, size_t len)
{
    const char *code = job_state_code (job_state_parse (cli_jstr (job, "state", "")));

    return code ? code : "?";
}

static const char *f_used (json_t *job, double now, char *buf, size_t len)
{
    return format_time (job_elapsed (job, now), buf, len);
}

static const char *f_limit (json_t *job, double now, char *buf, size_t len)
{
    return format_time ((long)cli_jint (job, "time_limit"), buf, len);
}

static const char *f_nodes (json_t *job, double now, char *buf, size_t len)
{
    snprintf (buf, len, "%lld", job_nodes (job));
    return buf;
}

static const char *f_cpus (json_t *job, double now, char *buf, size_t len)
{
    snprintf (buf, len, "%lld", job_cpus (job));
    return buf;
}

static const char *f_nodelist (json_t *job, double now, char *buf, size_t len)
{
    return cli_jstr (job, "nodelist", "");
}

static const char *f_reason (json_t *job, double now, char *buf, size_t len)
{
    return cli_jstr (job, "reason", "None");
}

/* "45% 120M/260M" of a STAGING job's copies; NULL when not staging. */
static const char *stage_progress (json_t *job, char *buf, size_t len)
{
    json_t *st = json_object_get (job, "staging");
    json_int_t done = cli_jint (st, "done"), total = cli_jint (st, "total");
    char d[24], t[24];

    if (!st)
        return NULL;
    if (total <= 0) {
        snprintf (buf, len, "starting");
        return buf;
    }
    format_size_mb ((uint64_t)(done >> 20), d, sizeof (d));
    format_size_mb ((uint64_t)((total + (1 << 20) - 1) >> 20), t, sizeof (t));
    snprintf (buf, len, "%d%% %s/%s", (int)(done * 100 / total), d, t);
    return buf;
}

static const char *f_where (json_t *job, double now, char *buf, size_t len)
{
    const char *nodelist = cli_jstr (job, "nodelist", NULL);
    char prog[96];

    if (stage_progress (job, prog, sizeof (prog))) {
        snprintf (buf, len, "%s (Staging %s)", nodelist ? nodelist : "", prog);
        return buf;
    }
    if (nodelist)
        return nodelist;
    snprintf (buf, len, "(%s)", cli_jstr (job, "reason", "None"));
    return buf;
}

static const char *format_stamp (double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;

    if (t <= 0 || !localtime_r (&secs, &tm)
        || strftime (buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return "N/A";
    return buf;
}

static const char *f_submit (json_t *job, double now, char *buf, size_t len)
{
    return format_stamp (jreal (job, "submit_time"), buf, len);
}

static const char *f_start (json_t *job, double now, char *buf, size_t len)
{
    if (job_pending (job))
        return format_stamp (jreal (job, "est_start"), buf, len);
    return format_stamp (jreal (job, "start_time"), buf, len);
}

static const char *f_priority (json_t *job, double now, char *buf, size_t len)
{
    if (!json_object_get (job, "priority"))
        return "";
    snprintf (buf, len, "%.2f", jreal (job, "priority"));
    return buf;
}

static const char *f_position (json_t *job, double now, char *buf, size_t len)
{
    if (cli_jint (job, "position") <= 0)
        return "";
    snprintf (buf, len, "%lld", cli_jint (job, "position"));
    return buf;
}

static const char *f_schednodes (json_t *job, double now, char *buf, size_t len)
{
    return job_pending (job) ? cli_jstr (job, "est_nodes", "(null)") : "";
}

static const char *f_gpus (json_t *job, double now, char *buf, size_t len)
{
    snprintf (buf, len, "%lld", cli_jint (job, "gpus_per_node"));
    return buf;
}

static const char *f_end (json_t *job, double now, char *buf, size_t len)
{
    return format_stamp (jreal (job, "end_time"), buf, len);
}

static const char *f_memory (json_t *job, double now, char *buf, size_t len)
{
    long long mb = cli_jint (job, "mem_mb");

    return format_size_mb (mb > 0 ? (uint64_t)mb : 0, buf, len);
}

static const char *f_workdir (json_t *job, double now, char *buf, size_t len)
{
    return cli_jstr (job, "workdir", "");
}

static const char *f_exit (json_t *job, double now, char *buf, size_t len)
{
    snprintf (buf, len, "%lld:%lld", cli_jint (job, "exit_code"),
              cli_jint (job, "signal"));
    return buf;
}

/* needs: the job fields (of the controller's reply) a column reads; the
 * request asks for only these, so a long queue stays cheap to list. */
static const struct field {
    char spec;
    const char *header;
    field_f get;
    const char *needs;
} fields[] = {
    { 'i', "JOBID", f_id, "id,array_job_id,array_task_id,array_throttle" },
    { 'P', "PARTITION", f_partition, "partition" },
    { 'j', "NAME", f_name, "name" },
    { 'u', "USER", f_user, "user" },
    { 'T', "STATE", f_state, "state" },
    { 't', "ST", f_code, "state" },
    { 'M', "TIME", f_used, "state,start_time,end_time" },
    { 'l', "TIME_LIMIT", f_limit, "time_limit" },
    { 'D', "NODES", f_nodes, "alloc,nodes" },
    { 'C', "CPUS", f_cpus, "alloc,ntasks,cpus_per_task" },
    { 'R', "NODELIST(REASON)", f_where, "nodelist,reason,state,staging" },
    { 'N', "NODELIST", f_nodelist, "nodelist" },
    { 'r', "REASON", f_reason, "reason" },
    { 'V', "SUBMIT_TIME", f_submit, "submit_time" },
    { 'S', "START_TIME", f_start, "start_time,est_start,state" },
    { 'Q', "PRIORITY", f_priority, "priority" },
    { 'y', "POS", f_position, "position" },
    { 'Y', "SCHEDNODES", f_schednodes, "est_nodes,state" },
    { 'b', "GPUS", f_gpus, "gpus_per_node" },
    { 'e', "END_TIME", f_end, "end_time" },
    { 'm', "MIN_MEMORY", f_memory, "mem_mb" },
    { 'Z', "WORK_DIR", f_workdir, "workdir" },
    { 'o', "EXIT_CODE", f_exit, "exit_code,signal" },
};

static const struct field *field_lookup (char spec)
{
    size_t i;

    for (i = 0; i < sizeof (fields) / sizeof (fields[0]); i++) {
        if (fields[i].spec == spec)
            return &fields[i];
    }
    return NULL;
}

/* --- compiled formats ---------------------------------------------------- */

/* A literal run of text, or a field.  A field with width > 0 is padded to
 * the widest of width, its header and its cells. */
struct item {
    const struct field *field;
    char *text;
    int width;
    bool right;
    size_t max; /* show at most this many characters; 0: all */
};

struct layout {
    struct item *v;
    size_t n;
};

static void layout_destroy (struct layout *l)
{
    size_t i;

    for (i = 0; l && i < l->n; i++)
        free (l->v[i].text);
    if (l)
        free (l->v);
    free (l);
}

static void add_literal (struct layout *l, const char *s, size_t len)
{
    struct item *it = &l->v[l->n++];

    it->text = cli_xmalloc (len + 1);
    memcpy (it->text, s, len);
}

/* Parse the specifier that starts at s ('%'); returns the characters used. */
static size_t add_field (struct layout *l, const char *s)
{
    struct item *it = &l->v[l->n];
    const char *p = s + 1;

    if (*p == '.' || *p == '-')
        it->right = *p++ == '.';
    while (isdigit ((unsigned char)*p)) {
        if (it->width < 10000)
            it->width = it->width * 10 + (*p - '0');
        p++;
    }
    if (*p == '\0')
        cli_usage_error ("--format: \"%s\" ends inside a specifier", s);
    if (!(it->field = field_lookup (*p)))
        cli_usage_error ("--format: unknown specifier \"%.*s\"",
                         (int)(p - s + 1), s);
    l->n++;
    return (size_t)(p - s + 1);
}

static struct layout *layout_compile (const char *fmt)
{
    struct layout *l = cli_xmalloc (sizeof (*l));
    const char *p = fmt;

    l->v = cli_xmalloc ((strlen (fmt) + 1) * sizeof (*l->v));
    while (*p) {
        if (p[0] == '%' && p[1] == '%') {
            add_literal (l, "%", 1);
            p += 2;
        }
        else if (p[0] == '%')
            p += add_field (l, p);
        else {
            size_t len = strcspn (p, "%");
            add_literal (l, p, len);
            p += len;
        }
    }
    return l;
}

/* The default table: every column as wide as its widest cell or header. */
static struct layout *layout_default (void)
{
    struct layout *l = layout_compile (default_format);
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (!l->v[i].field)
            continue;
        l->v[i].width = 1;
        if (l->v[i].field->spec == 'j')
            l->v[i].max = DEFAULT_NAME_MAX;
    }
    return l;
}

/* --- printing ------------------------------------------------------------ */

/* The text of item it for job (the header when job is NULL); *len is set
 * to how many of its characters are shown. */
static const char *cell_text (const struct item *it, json_t *job, double now,
                              char *buf, size_t buflen, size_t *len)
{
    const char *s = job ? it->field->get (job, now, buf, buflen)
                        : it->field->header;

    *len = strlen (s);
    if (it->max > 0 && *len > it->max)
        *len = it->max;
    return s;
}

static void layout_fit (struct layout *l, json_t *jobs, double now, bool header)
{
    char buf[256];
    size_t i, j, len;
    json_t *job;

    for (i = 0; i < l->n; i++) {
        struct item *it = &l->v[i];
        if (!it->field || it->width <= 0)
            continue;
        if (header) {
            cell_text (it, NULL, now, buf, sizeof (buf), &len);
            it->width = len > (size_t)it->width ? (int)len : it->width;
        }
        json_array_foreach (jobs, j, job) {
            cell_text (it, job, now, buf, sizeof (buf), &len);
            it->width = len > (size_t)it->width ? (int)len : it->width;
        }
    }
}

/* One line: a job's, or the header when job is NULL.  A left-justified
 * last column is not padded. */
static void layout_print (const struct layout *l, json_t *job, double now)
{
    char buf[256];
    size_t i, len;

    for (i = 0; i < l->n; i++) {
        const struct item *it = &l->v[i];
        const char *s;
        int pad;
        if (!it->field) {
            fputs (it->text, stdout);
            continue;
        }
        s = cell_text (it, job, now, buf, sizeof (buf), &len);
        pad = it->width > (int)len ? it->width - (int)len : 0;
        if (!it->right && i == l->n - 1)
            pad = 0;
        printf ("%*s", it->right ? pad : 0, "");
        cli_put_clean (stdout, s, len);
        printf ("%*s", it->right ? 0 : pad, "");
    }
    putchar ('\n');
}

/* squeue folds the pending tasks of an array into one row, "12_[4-99%10]",
 * at the place of its first one.  Returns a new array of rows. */
static json_t *fold_arrays (json_t *jobs)
{
    json_t *rows = json_array (), *folds = json_object (), *job;
    size_t i;

    json_array_foreach (jobs, i, job) {
        json_int_t aid = cli_jint (job, "array_job_id");
        char key[32];
        json_t *f, *tasks;
        if (aid <= 0 || !job_pending (job)) {
            json_array_append (rows, job);
            continue;
        }
        snprintf (key, sizeof (key), "%lld", (long long)aid);
        if (!(f = json_object_get (folds, key))) {
            f = json_deep_copy (job);
            json_object_set_new (f, "tasks", json_array ());
            json_object_set_new (folds, key, f);
            json_array_append (rows, f);
        }
        tasks = json_object_get (f, "tasks");
        json_array_append_new (tasks, json_integer (cli_jint (job, "array_task_id")));
    }
    json_array_foreach (rows, i, job) {
        json_t *tasks = json_object_get (job, "tasks");
        char buf[512];
        size_t n = json_array_size (tasks), k, o;
        int *v;
        if (!tasks)
            continue;
        if (n > 1 || cli_jint (job, "array_throttle") > 0) {
            v = cli_xmalloc ((n + 1) * sizeof (*v));
            for (k = 0; k < n; k++)
                v[k] = (int)json_integer_value (json_array_get (tasks, k));
            format_array (v, (int)n, buf, sizeof (buf) - 16);
            o = strlen (buf);
            if (cli_jint (job, "array_throttle") > 0)
                snprintf (buf + o, sizeof (buf) - o, "%%%lld",
                          cli_jint (job, "array_throttle"));
            free (v);
            json_object_set_new (job, "array_fold", json_string (buf));
        }
        json_object_del (job, "tasks");
    }
    json_decref (folds);
    return rows;
}

static void print_table (const struct query *q, json_t *jobs, double now)
{
    struct layout *l = q->format ? layout_compile (q->format) : layout_default ();
    json_t *job;
    size_t i;

    /* The default columns stay as wide as their headers even without them,
     * so that they line up the same way with and without --noheader. */
    layout_fit (l, jobs, now, !q->noheader || !q->format);
    if (!q->noheader)
        layout_print (l, NULL, now);
    json_array_foreach (jobs, i, job)
        layout_print (l, job, now);
    layout_destroy (l);
}

/* --- options ------------------------------------------------------------- */

typedef json_t *(*item_f) (const char *item);

/* -j: IDs (jobs, or whole arrays) and ID_TASKs (one task each). */
static void add_ids (struct query *q, const char *list)
{
    char *copy = cli_xstrdup (list), *save = NULL, *tok;
    aios_error_t err;
    long id, task;

    for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save)) {
        json_t **arr = &q->ids, *v;
        if (parse_job_ref (tok, &id, &task, &err) < 0)
            cli_usage_error ("--jobs: %s", err.text);
        if (task >= 0) {
            arr = &q->tasks;
            v = json_pack ("[I I]", (json_int_t)id, (json_int_t)task);
        } else
            v = json_integer ((json_int_t)id);
        if ((!*arr && !(*arr = json_array ())) || json_array_append_new (*arr, v) < 0)
            cli_die ("out of memory");
    }
    free (copy);
    if (!q->ids && !q->tasks)
        cli_usage_error ("--jobs: empty list \"%s\"", list);
}

/* --why and --steps: checked here, a task's id asked for later */
static const char *one_id (const char *opt, const char *s)
{
    aios_error_t err;
    long id, task;

    if (parse_job_ref (s, &id, &task, &err) < 0)
        cli_usage_error ("%s: %s", opt, err.text);
    return s;
}

static json_t *item_user (const char *s)
{
    return json_string (s);
}

static json_t *item_state (const char *s)
{
    int st;

    if (!strcasecmp (s, "all"))
        return json_string ("all");
    if ((st = job_state_parse (s)) < 0)
        cli_usage_error ("invalid job state \"%s\"", s);
    return json_string (job_state_name ((enum job_state)st));
}

/* Append the comma-separated items of list to *arr. */
static void add_items (json_t **arr, const char *opt, const char *list,
                       item_f conv)
{
    char *copy = cli_xstrdup (list), *save = NULL, *tok;

    if (!*arr && !(*arr = json_array ()))
        cli_die ("out of memory");
    for (tok = strtok_r (copy, ",", &save); tok;
         tok = strtok_r (NULL, ",", &save)) {
        if (json_array_append_new (*arr, conv (tok)) < 0)
            cli_die ("out of memory");
    }
    free (copy);
    if (json_array_size (*arr) == 0)
        cli_usage_error ("%s: empty list \"%s\"", opt, list);
}

/* "all" among the states means no state filter. */
static void states_all (json_t **states)
{
    json_t *v;
    size_t i;

    json_array_foreach (*states, i, v) {
        if (!strcmp (json_string_value (v), "all")) {
            json_decref (*states);
            *states = NULL;
            return;
        }
    }
}

static void apply_option (struct query *q, int c, const char *arg)
{
    switch (c) {
    case 'j': add_ids (q, arg); break;
    case 'u': add_items (&q->users, "--user", arg, item_user); break;
    case 't': add_items (&q->states, "--states", arg, item_state); break;
    case 'p': q->partition = arg; break;
    case 'o': q->format = arg; break;
    case 'h': q->noheader = true; break;
    case 'r': q->array = true; break;
    case OPT_JSON: q->json = true; break;
    case OPT_START: q->start = true; break;
    case OPT_STATS: q->stats = true; break;
    case OPT_WATCH: q->watch = true; break;
    case OPT_STEPS: q->steps = one_id ("--steps", arg); break;
    case OPT_WHY: q->why = one_id ("--why", arg); break;
    case OPT_HELP: fputs (usage_text, stdout); exit (CLI_OK);
    case 'V': cli_version ();
    }
}

static void parse_args (struct query *q, int argc, char **argv)
{
    int c;

    opterr = 0;
    while ((c = getopt_long (argc, argv, shortopts, opts, NULL)) != -1) {
        if (c == '?' || c == ':')
            cli_usage_error ("unknown or incomplete option \"%s\"",
                             argv[optind - 1]);
        apply_option (q, c, optarg);
    }
    if (optind < argc)
        cli_usage_error ("unexpected argument \"%s\"", argv[optind]);
    if (q->start) {
        if (q->states)
            cli_usage_error ("--start lists pending jobs: it takes no --states");
        add_items (&q->states, "--start", "PENDING", item_state);
        if (!q->format)
            q->format = start_format;
    }
    if (q->states)
        states_all (&q->states);
    if (q->format && !q->json)
        layout_destroy (layout_compile (q->format)); /* usage errors first */
}

/* The fields the columns of l read, as a JSON array of names. */
static json_t *layout_needs (const struct layout *l)
{
    json_t *names = json_array ();
    size_t i;

    for (i = 0; names && i < l->n; i++) {
        char buf[128], *tok, *save = NULL;
        if (!l->v[i].field)
            continue;
        snprintf (buf, sizeof (buf), "%s", l->v[i].field->needs);
        for (tok = strtok_r (buf, ",", &save); tok;
             tok = strtok_r (NULL, ",", &save))
            json_array_append_new (names, json_string (tok));
    }
    /* what folding array tasks reads */
    json_array_append_new (names, json_string ("state"));
    json_array_append_new (names, json_string ("array_job_id"));
    json_array_append_new (names, json_string ("array_task_id"));
    json_array_append_new (names, json_string ("array_throttle"));
    if (!names)
        cli_die ("out of memory");
    return names;
}

static json_t *queue_request (const struct query *q)
{
    json_t *req = proto_request ("queue", 0);

    if (req && !q->json) {
        struct layout *l = q->format ? layout_compile (q->format)
                                     : layout_default ();
        json_object_set_new (req, "fields", layout_needs (l));
        layout_destroy (l);
    }

    if (!req || (q->ids && json_object_set (req, "ids", q->ids) < 0)
        || (q->tasks && json_object_set (req, "tasks", q->tasks) < 0)
        || (q->users && json_object_set (req, "users", q->users) < 0)
        || (q->states && json_object_set (req, "states", q->states) < 0)
        || (q->partition
            && json_object_set_new (req, "partition",
                                    json_string (q->partition)) < 0))
        cli_die ("out of memory");
    return req;
}

/* --- why and stats -------------------------------------------------------- */

/* " mnist:2 (shard), labels:1" */
static void print_datasets (json_t *r)
{
    json_t *v;
    size_t i;

    json_array_foreach (json_object_get (r, "stage_in"), i, v)
        printf ("%s %s:%lld%s", i ? "," : "", cli_jstr (v, "name", "?"),
                cli_jint (v, "version"),
                json_is_true (json_object_get (v, "shard")) ? " (shard)" : "");
}

static void print_why (json_t *r)
{
    char prog[96];
    const char *state = cli_jstr (r, "state", "?");
    json_t *a, *v;
    size_t i;
    char buf[64], in[32];
    double est, now = (double)time (NULL);

    printf ("Job %lld is %s in partition %s", cli_jint (r, "id"), state,
            cli_jstr (r, "partition", "?"));
    if (strcmp (state, "PENDING") != 0) {
        const char *nodes = cli_jstr (r, "nodes", NULL);
        if (nodes)
            printf (" on %s", nodes);
        if (jreal (r, "start_time") > 0)
            printf (" since %s", format_stamp (jreal (r, "start_time"), buf,
                                                 sizeof (buf)));
        if (stage_progress (r, prog, sizeof (prog))) {
            printf (": copying its datasets to its nodes, %s:", prog);
            print_datasets (r);
            printf ("\n");
            return;
        }
        printf (": it is not waiting.\n");
        return;
    }
    printf (" (policy %s, backfill %s).\n", cli_jstr (r, "policy", "?"),
            cli_jstr (r, "backfill", "?"));
    /* fifo and sjf priorities are submit times and time limits: only the
     * order they give means something */
    if (!strcmp (cli_jstr (r, "policy", ""), "fifo")
        || !strcmp (cli_jstr (r, "policy", ""), "sjf"))
        printf ("  Position:  %lld in its partition\n", cli_jint (r, "position"));
    else
        printf ("  Position:  %lld in its partition (priority %.2f)\n",
                cli_jint (r, "position"), jreal (r, "priority"));
    printf ("  Waiting for:\n");
    a = json_object_get (r, "reasons");
    json_array_foreach (a, i, v) {
        const char *name = json_string_value (v);
        printf ("    %-18s %s", name, job_reason_text (name));
        if (!strcmp (name, "Priority")) {
            json_t *ahead = json_object_get (r, "ahead"), *id;
            size_t k;
            printf (": %lld job(s) ahead", cli_jint (r, "nahead"));
            json_array_foreach (ahead, k, id)
                printf ("%s%lld", k ? "," : " (", (long long)json_integer_value (id));
            if (json_array_size (ahead) > 0)
                printf ("%s)", (json_int_t)json_array_size (ahead) < cli_jint (r, "nahead")
                                   ? ",..." : "");
        } else if (!strcmp (name, "Reservation") && cli_jint (r, "blocked_by") > 0)
            printf (" (job %lld)", cli_jint (r, "blocked_by"));
        printf ("\n");
    }
    a = json_object_get (r, "unavailable");
    json_array_foreach (a, i, v)
        printf ("  Unavailable node: %s (%s%s%s)\n", cli_jstr (v, "name", "?"),
                cli_jstr (v, "state", "?"), json_object_get (v, "reason") ? ": " : "",
                cli_clean (cli_jstr (v, "reason", ""), buf, sizeof (buf)));
    est = jreal (r, "est_start");
    if (est > 0) {
        long delta = (long)(est - now);
        printf ("  Estimated start: %s (in %s) on %s\n",
                format_stamp (est, buf, sizeof (buf)),
                format_time (delta > 0 ? delta : 0, in, sizeof (in)),
                cli_jstr (r, "est_nodes", "?"));
        printf ("    (assuming running jobs use their whole time limits)\n");
    } else
        printf ("  Estimated start: unknown\n");
    a = json_object_get (r, "hints");
    json_array_foreach (a, i, v)
        printf ("  Hint: %s\n", json_string_value (v));
}

static void print_stats (json_t *r)
{
    printf ("Scheduler (policy %s, backfill %s)\n", cli_jstr (r, "policy", "?"),
            cli_jstr (r, "backfill", "?"));
    printf ("  Passes:            %lld\n", cli_jint (r, "passes"));
    printf ("  Last pass:         %.0f us (%lld jobs pending, %lld started)\n",
            jreal (r, "last_us"), cli_jint (r, "last_depth"),
            cli_jint (r, "last_started"));
    printf ("  Max pass:          %.0f us\n", jreal (r, "max_us"));
    printf ("  Mean pass:         %.0f us\n", jreal (r, "mean_us"));
    printf ("  Jobs started:      %lld (%lld by backfill)\n", cli_jint (r, "started"),
            cli_jint (r, "backfilled"));
    printf ("  Requests served:   %lld\n", cli_jint (r, "rpcs"));
}

static void print_steps (json_t *r)
{
    json_t *steps = json_object_get (r, "steps"), *s;
    size_t i;

    printf ("%-12s %-16s %6s %-16s %-10s %s\n", "STEPID", "NAME", "TASKS",
            "NODES", "STATE", "EXIT_CODE");
    json_array_foreach (steps, i, s) {
        char id[48], name[64];
        snprintf (id, sizeof (id), "%lld.%lld", cli_jint (s, "job"), cli_jint (s, "step"));
        printf ("%-12s %-16.16s %6lld %-16s %-10s %lld:%lld\n", id,
                cli_clean (cli_jstr (s, "name", ""), name, sizeof (name)),
                cli_jint (s, "ntasks"),
                cli_jstr (s, "nodes", ""), cli_jstr (s, "state", "?"),
                cli_jint (s, "exit_code"), cli_jint (s, "signal"));
    }
}

static int run_single (const struct query *q, const char *op)
{
    struct aios_client *c = cli_connect ();
    json_t *req = proto_request (op, 0), *rep;

    if (q->why || q->steps)
        json_object_set_new (req, "id", json_integer (cli_job_id (
                                 c, q->why ? "--why" : "--steps",
                                 q->why ? q->why : q->steps)));
    rep = cli_rpc (c, req);
    json_object_del (rep, "seq");
    if (q->json)
        cli_print_json (NULL, rep);
    else if (q->why)
        print_why (rep);
    else if (q->steps)
        print_steps (rep);
    else
        print_stats (rep);
    json_decref (rep);
    aios_client_close (c);
    if (fflush (stdout) != 0 || ferror (stdout))
        cli_die ("standard output: %s", strerror (errno));
    return CLI_OK;
}

/* --- watch ---------------------------------------------------------------- */

static bool in_list (json_t *list, json_t *v)
{
    size_t i;
    json_t *e;

    if (!list)
        return true;
    json_array_foreach (list, i, e)
        if (json_equal (e, v))
            return true;
    return false;
}

/* Does job pass the -j/-u/-t/-p filters? */
/* -j: the job, every task of an array by its id, or one task. */
static bool id_matches (const struct query *q, json_t *job)
{
    long long id = cli_jint (job, "id"), aid = cli_jint (job, "array_job_id");
    long long task = cli_jint (job, "array_task_id");
    size_t i;
    json_t *v;

    if (!q->ids && !q->tasks)
        return true;
    json_array_foreach (q->ids, i, v)
        if (json_integer_value (v) == id || (aid > 0 && json_integer_value (v) == aid))
            return true;
    json_array_foreach (q->tasks, i, v)
        if (aid > 0 && json_integer_value (json_array_get (v, 0)) == aid
            && json_integer_value (json_array_get (v, 1)) == task)
            return true;
    return false;
}

static bool job_matches (const struct query *q, json_t *job)
{
    return id_matches (q, job)
        && in_list (q->users, json_object_get (job, "user"))
        && in_list (q->states, json_object_get (job, "state"))
        && (!q->partition || !strcmp (cli_jstr (job, "partition", ""), q->partition));
}

static void watch_line (const char *what, const char *text)
{
    char stamp[32];
    time_t now = time (NULL);
    struct tm tm;

    localtime_r (&now, &tm);
    strftime (stamp, sizeof (stamp), "%H:%M:%S", &tm);
    printf ("%s %-5s ", stamp, what);
    cli_put_clean (stdout, text, strlen (text)); /* names and reasons */
    putchar ('\n');
}

static void watch_job (json_t *job)
{
    char buf[512], id[48];
    const char *where = cli_jstr (job, "nodelist", NULL);

    if (cli_jint (job, "array_job_id") > 0) /* a task, as squeue names it */
        snprintf (id, sizeof (id), "%lld_%lld", cli_jint (job, "array_job_id"),
                  cli_jint (job, "array_task_id"));
    else
        snprintf (id, sizeof (id), "%lld", cli_jint (job, "id"));
    snprintf (buf, sizeof (buf), "%s %s %s %s %s%s%s", id,
              cli_jstr (job, "name", "?"), cli_jstr (job, "user", "?"),
              cli_jstr (job, "state", "?"), where ? where : "(",
              where ? "" : cli_jstr (job, "reason", "None"), where ? "" : ")");
    watch_line ("job", buf);
}

static void watch_node (json_t *n)
{
    char buf[256];

    snprintf (buf, sizeof (buf), "%s %s %lld/%lld CPUs", cli_jstr (n, "name", "?"),
              cli_jstr (n, "state", "?"), cli_jint (n, "cpus_alloc"),
              cli_jint (n, "cpus"));
    watch_line ("node", buf);
}

static int run_watch (const struct query *q)
{
    struct aios_client *c = cli_connect ();
    json_t *req = proto_request ("subscribe", 0), *msg, *v;
    aios_error_t err;
    size_t i;

    if (q->ids)
        json_object_set (req, "ids", q->ids);
    if (q->tasks)
        json_object_set (req, "tasks", q->tasks);
    msg = cli_rpc (c, req);
    {   /* the -u/-t/-p filters apply to the snapshot too */
        json_t *jobs = json_array ();
        json_array_foreach (json_object_get (msg, "jobs"), i, v)
            if (job_matches (q, v))
                json_array_append (jobs, v);
        json_object_set_new (msg, "jobs", jobs);
    }
    if (q->json) {
        json_object_del (msg, "seq");
        json_object_set_new (msg, "event", json_string ("snapshot"));
        json_dumpf (msg, stdout, JSON_COMPACT);
        putchar ('\n');
    } else {
        json_array_foreach (json_object_get (msg, "nodes"), i, v)
            watch_node (v);
        json_array_foreach (json_object_get (msg, "jobs"), i, v)
            watch_job (v);
    }
    json_decref (msg);
    fflush (stdout);
    for (;;) {
        const char *event;
        if (!(msg = aios_client_recv (c, &err)))
            cli_die ("event stream ended: %s", err.text);
        event = cli_jstr (msg, "event", "");
        if (!strcmp (event, "dropped"))
            cli_die ("the controller dropped this watcher: %s",
                     cli_jstr (msg, "reason", "?"));
        if (q->json) {
            json_t *job = json_object_get (msg, "job");
            if (!job || job_matches (q, job)) {
                json_dumpf (msg, stdout, JSON_COMPACT);
                putchar ('\n');
            }
        } else if (!strcmp (event, "job")) {
            if (job_matches (q, json_object_get (msg, "job")))
                watch_job (json_object_get (msg, "job"));
        } else if (!strcmp (event, "node"))
            watch_node (json_object_get (msg, "node"));
        else if (!strcmp (event, "job_removed")) {
            char buf[64];
            snprintf (buf, sizeof (buf), "%lld removed", cli_jint (msg, "id"));
            watch_line ("job", buf);
        }
        json_decref (msg);
        if (fflush (stdout) != 0 || ferror (stdout))
            return CLI_OK;      /* the reader went away */
    }
}

int main (int argc, char **argv)
{
    struct query q = { 0 };
    struct aios_client *c;
    json_t *rep, *jobs;
    double now = 0;

    cli_init (argv[0]);
    parse_args (&q, argc, argv);
    if (!!q.why + !!q.steps + q.stats + q.start > 1)
        cli_usage_error ("give one of --why, --steps, --stats and --start");
    if (q.watch && (q.why || q.stats || q.steps || q.start))
        cli_usage_error ("--watch takes no --why, --stats, --steps or --start");
    if (q.watch)
        return run_watch (&q);
    if (q.why)
        return run_single (&q, "why");
    if (q.steps)
        return run_single (&q, "steps");
    if (q.stats)
        return run_single (&q, "stats");
    c = cli_connect ();
    rep = cli_rpc (c, queue_request (&q));
    if (json_unpack (rep, "{s:o s?F}", "jobs", &jobs, "now", &now) < 0
        || !json_is_array (jobs))
        cli_die ("malformed reply to \"queue\" from the controller");
    if (now <= 0)
        now = (double)time (NULL);
    if (q.json)
        cli_print_json ("jobs", jobs);
    else if (q.array)
        print_table (&q, jobs, now);
    else {
        json_t *rows = fold_arrays (jobs);
        print_table (&q, rows, now);
        json_decref (rows);
    }
    json_decref (rep);
    aios_client_close (c);
    json_decref (q.ids);
    json_decref (q.tasks);
    json_decref (q.users);
    json_decref (q.states);
    if (fflush (stdout) != 0 || ferror (stdout))
        cli_die ("standard output: %s", strerror (errno));
    return CLI_OK;
}
