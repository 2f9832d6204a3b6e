/* aios-control - change jobs, nodes and the controller (like scontrol) */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "parse.h"
#include "proto.h"

static const char *usage_text =
    "Usage: aios-control hold JOBID[,JOBID...] [JOBID...]\n"
    "       aios-control release JOBID[,JOBID...] [JOBID...]\n"
    "       aios-control requeue JOBID[,JOBID...] [JOBID...]\n"
    "       aios-control update job JOBID KEY=VALUE [KEY=VALUE...]\n"
    "       aios-control drain NODES reason=TEXT\n"
    "       aios-control resume NODES\n"
    "       aios-control show job JOBID | node NAME | partition [NAME] | config\n"
    "                    [--json]\n"
    "       aios-control reconfigure\n"
    "       aios-control shutdown\n"
    "       aios-control diag\n"
    "hold/release: keep pending jobs from starting (reason JobHeldUser), or\n"
    "let them; the job's owner, an operator or root.\n"
    "requeue: put running (and finished) jobs back in the queue; a running\n"
    "one is killed first.  It runs again from the start; AIOS_RESTART_COUNT\n"
    "counts the times.  The job's owner, an operator or root.\n"
    "update: change a job, all the keys or none: TimeLimit= (Time=; owners\n"
    "may only lower it, also while it runs), and while it is pending\n"
    "Partition=, Name= (JobName=), Nice= (owners may only raise it) and\n"
    "Priority= (a fixed priority; owners may only lower it).\n"
    "drain/resume: no new jobs on NODES (a host list such as node[1-4]),\n"
    "running ones go on; or take them again.  Operators and root only.\n"
    "show: a job or a node (JSON), the partitions, or the running\n"
    "configuration; --json for JSON.\n"
    "reconfigure: read the configuration file again (a broken one is refused\n"
    "and the running one kept).  shutdown: stop the controller; running\n"
    "jobs go on.  Both for operators and root only.\n"
    "diag: the scheduler's and the controller's counters.\n"
    "\n"
    "  -h, --help      show this help\n"
    "  -V, --version   show the version\n";

/* One request.  Exits 1 with the controller's error; a reply listing
 * "errors" (requeue: one per job it could not act on) has each printed,
 * and CLI_ERROR returned. */
static int call (json_t *req)
{
    struct aios_client *c = cli_connect ();
    json_t *rep = cli_rpc (c, req), *v;
    int rc = CLI_OK;
    size_t i;

    json_array_foreach (json_object_get (rep, "errors"), i, v) {
        cli_warn ("%s", json_string_value (v));
        rc = CLI_ERROR;
    }
    json_decref (rep);
    aios_client_close (c);
    return rc;
}

/* ID, or ID_TASK (whose id the controller is asked for) */
static long job_id (const char *s)
{
    aios_error_t err;
    long id, task;

    if (parse_job_ref (s, &id, &task, &err) < 0)
        cli_usage_error ("%s", err.text);
    if (task >= 0) {
        struct aios_client *c = cli_connect ();
        id = cli_job_id (c, NULL, s);
        aios_client_close (c);
    }
    return id;
}

static void add_ids (json_t *ids, const char *arg)
{
    char *copy = cli_xstrdup (arg), *save = NULL, *tok;

    for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
        json_array_append_new (ids, json_integer (job_id (tok)));
    free (copy);
}

/* hold, release: JOBID[,JOBID...] [JOBID...] */
static int jobs_cmd (const char *cmd, int argc, char **argv)
{
    json_t *ids, *req;
    int i;

    if (argc < 1)
        cli_usage_error ("%s: no job id given", cmd);
    ids = json_array ();
    for (i = 0; i < argc; i++)
        add_ids (ids, argv[i]);
    req = proto_request (cmd, 0);
    json_object_set_new (req, "ids", ids);
    return call (req);
}

/* update job JOBID KEY=VALUE...  (or scontrol's "update JobId=JOBID ...") */
static int update (const char *cmd, int argc, char **argv)
{
    json_t *req, *set;
    long id;
    int i;

    if (argc >= 1 && !strncasecmp (argv[0], "jobid=", 6)) {
        id = job_id (argv[0] + 6);
        i = 1;
    } else if (argc >= 2 && !strcmp (argv[0], "job")) {
        id = job_id (argv[1]);
        i = 2;
    } else
        cli_usage_error ("%s: expected \"job JOBID KEY=VALUE...\"", cmd);
    if (i >= argc)
        cli_usage_error ("%s: nothing to change (give KEY=VALUE, such as "
                         "TimeLimit=1:00:00)", cmd);
    set = json_object ();
    for (; i < argc; i++) {
        const char *eq = strchr (argv[i], '=');
        int len = eq ? (int)(eq - argv[i]) : 0;
        char *key;
        if (len == 0)
            cli_usage_error ("%s: expected KEY=VALUE, got \"%s\"", cmd, argv[i]);
        key = cli_xmalloc ((size_t)len + 1);
        memcpy (key, argv[i], (size_t)len);
        if (json_object_get (set, key)) {
            free (key);
            cli_usage_error ("%s: %.*s given twice", cmd, len, argv[i]);
        }
        json_object_set_new (set, key, json_string (eq + 1));
        free (key);
    }
    req = proto_request ("update", 0);
    json_object_set_new (req, "id", json_integer (id));
    json_object_set_new (req, "set", set);
    return call (req);
}

/* drain NODES reason=TEXT, resume NODES */
static int drain (const char *cmd, int argc, char **argv)
{
    bool on = !strcmp (cmd, "drain");
    const char *reason = NULL;
    json_t *req;
    int i;

    if (argc < 1)
        cli_usage_error ("%s: no nodes given", cmd);
    for (i = 1; i < argc; i++) {
        if (on && !strncmp (argv[i], "reason=", 7))
            reason = argv[i] + 7;
        else
            cli_usage_error ("%s: unexpected \"%s\"%s", cmd, argv[i],
                             on ? " (expected reason=TEXT)" : "");
    }
    if (on && (!reason || !*reason))
        cli_usage_error ("drain: give a reason=TEXT (it shows in aios-nodes)");
    req = proto_request ("drain", 0);
    json_object_set_new (req, "nodes", json_string (argv[0]));
    json_object_set_new (req, "drain", json_boolean (on));
    if (reason)
        json_object_set_new (req, "reason", json_string (reason));
    return call (req);
}

/* --- show ------------------------------------------------------------------ */

static void print_indented (json_t *o)
{
    json_dumpf (o, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    putchar ('\n');
}

static void show_job (struct aios_client *c, const char *arg)
{
    long id = job_id (arg);
    json_t *req = proto_request ("queue", 0), *rep, *found;

    json_object_set_new (req, "ids", json_pack ("[I]", (json_int_t)id));
    rep = cli_rpc (c, req);
    if (!(found = json_array_get (json_object_get (rep, "jobs"), 0)))
        cli_die ("no job %ld (unknown or purged from the queue)", id);
    print_indented (found);
    json_decref (rep);
}

static void show_node (struct aios_client *c, const char *name)
{
    json_t *rep = cli_rpc (c, proto_request ("nodes", 0)), *found = NULL, *v;
    size_t i;

    json_array_foreach (json_object_get (rep, "nodes"), i, v)
        if (!strcmp (cli_jstr (v, "name", ""), name))
            found = v;
    if (!found)
        cli_die ("no node %s", name);
    print_indented (found);
    json_decref (rep);
}

static void print_partition (json_t *p)
{
    char t[32];

    printf ("PartitionName=%s Default=%s State=%s Priority=%lld\n",
            cli_jstr (p, "name", "?"),
            json_is_true (json_object_get (p, "default")) ? "YES" : "NO",
            cli_jstr (p, "state", "?"), cli_jint (p, "priority"));
    printf ("   Nodes=%s TotalNodes=%lld UsableNodes=%lld\n",
            cli_jstr (p, "nodes", ""), cli_jint (p, "total_nodes"),
            cli_jint (p, "usable_nodes"));
    printf ("   TotalCPUs=%lld IdleCPUs=%lld TotalGPUs=%lld IdleGPUs=%lld\n",
            cli_jint (p, "cpus"), cli_jint (p, "cpus_idle"), cli_jint (p, "gpus"),
            cli_jint (p, "gpus_idle"));
    printf ("   MaxTime=%s PendingJobs=%lld RunningJobs=%lld\n",
            format_time ((long)cli_jint (p, "max_time"), t, sizeof (t)),
            cli_jint (p, "jobs_pending"), cli_jint (p, "jobs_running"));
}

static void show_partitions (struct aios_client *c, const char *name, bool json)
{
    json_t *req = proto_request ("partitions", 0), *rep, *parts, *p;
    size_t i;

    if (name)
        json_object_set_new (req, "name", json_string (name));
    rep = cli_rpc (c, req);
    parts = json_object_get (rep, "partitions");
    if (json)
        cli_print_json ("partitions", parts);
    else
        json_array_foreach (parts, i, p) {
            if (i > 0)
                putchar ('\n');
            print_partition (p);
        }
    json_decref (rep);
}

/* A scalar as text; NULL for objects and arrays. */
static char *scalar_text (json_t *v)
{
    char buf[64];

    if (json_is_string (v))
        return cli_xstrdup (json_string_value (v));
    if (json_is_integer (v))
        snprintf (buf, sizeof (buf), "%lld", (long long)json_integer_value (v));
    else if (json_is_real (v))
        snprintf (buf, sizeof (buf), "%g", json_real_value (v));
    else if (json_is_boolean (v))
        snprintf (buf, sizeof (buf), "%s", json_is_true (v) ? "true" : "false");
    else
        return NULL;
    return cli_xstrdup (buf);
}

/* "a,b" for an array of scalars; NULL if it holds anything else. */
static char *list_text (json_t *a)
{
    size_t i, len = 1;
    json_t *v;
    char *out, *s;

    json_array_foreach (a, i, v) {
        if (!(s = scalar_text (v)))
            return NULL;
        len += strlen (s) + 1;
        free (s);
    }
    if (json_array_size (a) == 0)
        return cli_xstrdup ("(none)");
    out = cli_xmalloc (len);
    json_array_foreach (a, i, v) {
        s = scalar_text (v);
        if (i > 0)
            strcat (out, ",");
        strcat (out, s);
        free (s);
    }
    return out;
}

/* Flatten v into lines (key -> text): mappings by dotted keys, lists of
 * named entries (nodes, partitions, QOS) by their names (entry: v is one,
 * its name is in the key already). */
static void flatten (json_t *lines, const char *prefix, json_t *v, bool entry)
{
    char key[512];
    const char *k;
    json_t *e;
    size_t i;
    char *s;

    if ((s = json_is_array (v) ? list_text (v) : scalar_text (v))) {
        json_object_set_new (lines, prefix, json_string (s));
        free (s);
    } else if (json_is_object (v)) {
        json_object_foreach (v, k, e) {
            if (entry && !strcmp (k, "name"))
                continue;
            snprintf (key, sizeof (key), "%s%s%s", prefix, *prefix ? "." : "", k);
            flatten (lines, key, e, false);
        }
    } else if (json_is_array (v)) {
        json_array_foreach (v, i, e) {
            snprintf (key, sizeof (key), "%s.%s", prefix, cli_jstr (e, "name", "?"));
            flatten (lines, key, e, true);
        }
    }
}

static void show_config (struct aios_client *c, bool json)
{
    json_t *rep = cli_rpc (c, proto_request ("config", 0)), *conf, *lines, *v;
    const char *k;
    int width = 0;

    conf = json_object_get (rep, "config");
    if (json) {
        cli_print_json ("config", conf);
        json_decref (rep);
        return;
    }
    if (!(lines = json_object ()))
        cli_die ("out of memory");
    flatten (lines, "", conf, false);
    json_object_foreach (lines, k, v)
        if ((int)strlen (k) > width)
            width = (int)strlen (k);
    json_object_foreach (lines, k, v)
        printf ("%-*s = %s\n", width, k, json_string_value (v));
    json_decref (lines);
    json_decref (rep);
}

/* show job ID | node NAME | partition [NAME] | config, --json anywhere */
static int show (const char *cmd, int argc, char **argv)
{
    struct aios_client *c;
    const char *what, *arg = NULL;
    bool json = false;
    int i, n = 0;

    for (i = 0; i < argc; i++) {
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (n == 0)
            argv[n++] = argv[i];
        else if (n == 1)
            arg = argv[n++] = argv[i];
        else
            cli_usage_error ("%s: unexpected \"%s\"", cmd, argv[i]);
    }
    what = n > 0 ? argv[0] : "";
    if ((!strcmp (what, "job") || !strcmp (what, "node")) && !arg)
        cli_usage_error ("%s %s: give a %s", cmd, what,
                         !strcmp (what, "job") ? "job id" : "node name");
    if (!strcmp (what, "config") && arg)
        cli_usage_error ("%s config: unexpected \"%s\"", cmd, arg);
    if (strcmp (what, "job") && strcmp (what, "node") && strcmp (what, "partition")
        && strcmp (what, "config"))
        cli_usage_error ("%s: expected \"job JOBID\", \"node NAME\", "
                         "\"partition [NAME]\" or \"config\"", cmd);
    c = cli_connect ();
    if (!strcmp (what, "job"))
        show_job (c, arg);
    else if (!strcmp (what, "node"))
        show_node (c, arg);
    else if (!strcmp (what, "partition"))
        show_partitions (c, arg, json);
    else
        show_config (c, json);
    aios_client_close (c);
    return CLI_OK;
}

/* --- the controller -------------------------------------------------------- */

static int diag (const char *cmd, int argc, char **argv)
{
    struct aios_client *c;
    json_t *rep;

    (void)argv;
    if (argc != 0)
        cli_usage_error ("%s takes no arguments", cmd);
    c = cli_connect ();
    rep = cli_rpc (c, proto_request ("stats", 0));
    json_object_del (rep, "seq");
    print_indented (rep);
    json_decref (rep);
    aios_client_close (c);
    return CLI_OK;
}

/* reconfigure, shutdown */
static int controller_cmd (const char *cmd, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        cli_usage_error ("%s takes no arguments", cmd);
    return call (proto_request (cmd, 0));
}

static const struct {
    const char *name;
    int (*fn) (const char *cmd, int argc, char **argv);
} commands[] = {
    { "hold", jobs_cmd },
    { "release", jobs_cmd },
    { "requeue", jobs_cmd },
    { "update", update },
    { "drain", drain },
    { "resume", drain },
    { "show", show },
    { "reconfigure", controller_cmd },
    { "shutdown", controller_cmd },
    { "diag", diag },
};

int main (int argc, char **argv)
{
    size_t i;

    cli_init (argv[0]);
    if (argc < 2)
        cli_usage_error ("no command given");
    if (!strcmp (argv[1], "-h") || !strcmp (argv[1], "--help")) {
        fputs (usage_text, stdout);
        return CLI_OK;
    }
    if (!strcmp (argv[1], "-V") || !strcmp (argv[1], "--version"))
        cli_version ();
    for (i = 0; i < sizeof (commands) / sizeof (commands[0]); i++)
        if (!strcmp (argv[1], commands[i].name))
            return commands[i].fn (argv[1], argc - 2, argv + 2);
    cli_usage_error ("unknown command \"%s\" (expected hold, release, requeue, "
                     "update, drain, resume, show, reconfigure, shutdown or "
                     "diag)", argv[1]);
}
