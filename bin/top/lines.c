/* lines.c - the text views of aios-top: a job's detail and the help */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "job.h"
#include "lines.h"
#include "parse.h"
#include "top.h"

void lines_add (struct lines *l, enum line_style style, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start (ap, fmt);
    if (vasprintf (&s, fmt, ap) < 0)
        cli_die ("out of memory");
    va_end (ap);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        if (!(l->v = realloc (l->v, l->cap * sizeof (*l->v))))
            cli_die ("out of memory");
    }
    memset (&l->v[l->n], 0, sizeof (l->v[l->n]));
    l->v[l->n].text = s;
    l->v[l->n].style = style;
    l->n++;
}

void lines_free (struct lines *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free (l->v[i].text);
    free (l->v);
    memset (l, 0, sizeof (*l));
}

static const char *stamp (double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;

    if (t <= 0 || !localtime_r (&secs, &tm)
        || strftime (buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return "N/A";
    return buf;
}

static double jnum (json_t *o, const char *key)
{
    return json_number_value (json_object_get (o, key));
}

/* --- the job's summary --------------------------------------------------------- */

static void job_title (const struct top_job *j, struct lines *l)
{
    lines_add (l, LS_STATE, "Job %lld  %s  %s", j->id, j->name, j->state_name);
    snprintf (l->v[l->n - 1].state, sizeof (l->v[0].state), "%s", j->state_name);
}

static void job_summary (const struct top *t, const struct top_job *j,
                         struct lines *l)
{
    json_t *o = j->obj;
    char a[32], b[32], c[32], nodes[48] = "";
    long long mem = cli_jint (o, "mem_mb");

    lines_add (l, LS_NORMAL, "  user %s  partition %s  priority %.2f%s",
               j->user, j->partition, jnum (o, "priority"),
               json_is_true (json_object_get (o, "held")) ? "  HELD" : "");
    lines_add (l, LS_NORMAL, "  submitted %s  started %s  ended %s",
               stamp (j->submit, a, sizeof (a)), stamp (j->start, b, sizeof (b)),
               stamp (j->end, c, sizeof (c)));
    lines_add (l, LS_NORMAL, "  time %s of %s  exit code %lld:%lld",
               view_job_cell (j, JC_TIME, t->model->now, a, sizeof (a)),
               format_time ((long)cli_jint (o, "time_limit"), b, sizeof (b)),
               cli_jint (o, "exit_code"), cli_jint (o, "signal"));
    if (cli_jint (o, "nodes") > 0)
        snprintf (nodes, sizeof (nodes), "%lld node(s), ", cli_jint (o, "nodes"));
    lines_add (l, LS_NORMAL, "  asks %s%lld task(s) x %lld CPU(s), memory %s, "
               "%lld GPU(s) per node", nodes, cli_jint (o, "ntasks"),
               cli_jint (o, "cpus_per_task"),
               mem > 0 ? format_size_mb ((uint64_t)mem, c, sizeof (c)) : "default",
               cli_jint (o, "gpus_per_node"));
    lines_add (l, LS_NORMAL, "  nodes %s", *j->nodelist ? j->nodelist : "(none)");
}

static void job_output (const struct top_job *j, struct lines *l)
{
    lines_add (l, LS_HEAD, "Output");
    lines_add (l, LS_NORMAL, "  stdout   %s", cli_jstr (j->obj, "output", "(default)"));
    lines_add (l, LS_NORMAL, "  stderr   %s", cli_jstr (j->obj, "error", "(with stdout)"));
    lines_add (l, LS_NORMAL, "  workdir  %s", cli_jstr (j->obj, "workdir", "?"));
}

/* --- why ----------------------------------------------------------------------- */

static void why_reason (json_t *r, const char *name, struct lines *l)
{
    json_t *ahead = json_object_get (r, "ahead"), *id;
    char more[256] = "";
    size_t k, len = 0;

    if (!strcmp (name, "Priority")) {
        len = (size_t)snprintf (more, sizeof (more), ": %lld job(s) ahead",
                                cli_jint (r, "nahead"));
        json_array_foreach (ahead, k, id) {
            if (len < sizeof (more))
                len += (size_t)snprintf (more + len, sizeof (more) - len, "%s%lld",
                                         k ? "," : " (", (long long)json_integer_value (id));
        }
        if (json_array_size (ahead) > 0 && len < sizeof (more))
            snprintf (more + len, sizeof (more) - len, "%s)",
                      (long long)json_array_size (ahead) < cli_jint (r, "nahead")
                          ? ",..." : "");
    }
    else if (!strcmp (name, "Reservation") && cli_jint (r, "blocked_by") > 0)
        snprintf (more, sizeof (more), " (job %lld)", cli_jint (r, "blocked_by"));
    lines_add (l, LS_NORMAL, "  %-18s %s%s", name, job_reason_text (name), more);
}

static void why_estimate (const struct top *t, json_t *r, struct lines *l)
{
    double est = jnum (r, "est_start");
    char a[32], b[32];

    if (est <= 0) {
        lines_add (l, LS_NORMAL, "  Estimated start: unknown");
        return;
    }
    lines_add (l, LS_NORMAL, "  Estimated start: %s (in %s) on %s", stamp (est, a, sizeof (a)),
               format_time (est > t->model->now ? (long)(est - t->model->now) : 0, b,
                            sizeof (b)),
               cli_jstr (r, "est_nodes", "?"));
}

static void job_why (const struct top *t, struct lines *l)
{
    json_t *r = t->why, *a, *v;
    size_t i;

    if (!r) {
        lines_add (l, LS_HEAD, "Why");
        lines_add (l, *t->why_err ? LS_ERROR : LS_NORMAL, "  %s",
                   *t->why_err ? t->why_err : "(asking the controller)");
        return;
    }
    if (strcmp (cli_jstr (r, "state", ""), "PENDING") != 0) {
        char since[32];
        lines_add (l, LS_HEAD, "Why");
        lines_add (l, LS_NORMAL, "  not waiting: %s on %s since %s",
                   cli_jstr (r, "state", "?"), cli_jstr (r, "nodes", "(none)"),
                   stamp (jnum (r, "start_time"), since, sizeof (since)));
        return;
    }
    lines_add (l, LS_HEAD, "Why it waits (policy %s, backfill %s)",
               cli_jstr (r, "policy", "?"), cli_jstr (r, "backfill", "?"));
    json_array_foreach (json_object_get (r, "reasons"), i, v)
        why_reason (r, json_string_value (v) ? json_string_value (v) : "?", l);
    a = json_object_get (r, "unavailable");
    json_array_foreach (a, i, v)
        lines_add (l, LS_NORMAL, "  Unavailable node: %s (%s%s%s)",
                   cli_jstr (v, "name", "?"), cli_jstr (v, "state", "?"),
                   json_object_get (v, "reason") ? ": " : "", cli_jstr (v, "reason", ""));
    why_estimate (t, r, l);
    json_array_foreach (json_object_get (r, "hints"), i, v)
        lines_add (l, LS_NORMAL, "  Hint: %s", json_string_value (v) ? json_string_value (v) : "");
}

/* --- every field ------------------------------------------------------------------ */

static bool is_time_key (const char *key)
{
    size_t n = strlen (key);

    return !strcmp (key, "est_start") || (n > 5 && !strcmp (key + n - 5, "_time"));
}

static void job_fields (const struct top_job *j, struct lines *l)
{
    const char *key;
    json_t *v;
    char buf[32];

    lines_add (l, LS_HEAD, "Every field");
    json_object_foreach (j->obj, key, v) {
        char *text = json_dumps (v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (json_is_string (v))
            lines_add (l, LS_NORMAL, "  %-16s %s", key, json_string_value (v));
        else if (is_time_key (key) && json_number_value (v) > 0)
            lines_add (l, LS_NORMAL, "  %-16s %s (%s)", key,
                       stamp (json_number_value (v), buf, sizeof (buf)), text ? text : "");
        else
            lines_add (l, LS_NORMAL, "  %-16s %s", key, text ? text : "?");
        free (text);
    }
}

void lines_detail (const struct top *t, struct lines *l)
{
    const struct top_job *j = model_job (t->model, t->detail_id);

    if (!j) {
        lines_add (l, LS_HEAD, "Job %lld", t->detail_id);
        lines_add (l, LS_NORMAL, "  no longer in the queue (purged)");
        return;
    }
    job_title (j, l);
    job_summary (t, j, l);
    job_output (j, l);
    job_why (t, l);
    job_fields (j, l);
}

void lines_help (const struct top *t, struct lines *l)
{
    static const char *keys[] = {
        "q               quit",
        "?               this help (any key returns)",
        "Up, Down        select a row; PgUp, PgDn, Home, End move by pages",
        "Tab             switch between the nodes and the jobs pane",
        "Enter           the selected job in detail (Esc or Enter to return)",
        "s               sort the pane by its next column; S reverses",
        "/               filter jobs: text (any column), user:NAME,",
        "                state:NAME, partition:NAME; words combine; empty clears",
        "c               cancel the selected job (asks y/n)",
        "h, r            hold, release the selected (pending) job",
        "Ctrl-L          redraw the screen",
    };
    size_t i;

    lines_add (l, LS_HEAD, "aios-top %s: a live view of an AIOS cluster", PACKAGE_VERSION);
    for (i = 0; i < sizeof (keys) / sizeof (keys[0]); i++)
        lines_add (l, LS_NORMAL, "  %s", keys[i]);
    lines_add (l, LS_NORMAL, "%s", "");
    lines_add (l, LS_HEAD, "Status");
    lines_add (l, LS_NORMAL, "  controller  %s%s", t->sub ? sub_peer (t->sub) : "(none)",
               t->connected ? "" : "  (disconnected)");
    lines_add (l, LS_NORMAL, "  model       %zu nodes, %zu jobs", t->model->nnodes,
               t->model->njobs);
    lines_add (l, LS_NORMAL, "  redraw      %.3f ms for the last frame (%lu frames)",
               t->redraw_ms, t->frames);
    lines_add (l, LS_NORMAL, "  colours     %s", t->colors ? "yes" : "no");
}
