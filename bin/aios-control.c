/* aios-control - change jobs in the queue (like scontrol hold/release) */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parse.h"
#include "proto.h"

static const char *usage_text =
    "Usage: aios-control hold JOBID[,JOBID...] [JOBID...]\n"
    "       aios-control release JOBID[,JOBID...] [JOBID...]\n"
    "       aios-control drain NODES reason=TEXT\n"
    "       aios-control resume NODES\n"
    "       aios-control show job JOBID | node NAME\n"
    "       aios-control diag\n"
    "hold/release: keep pending jobs from starting (reason JobHeldUser), or\n"
    "let them; the job's owner, an operator or root.\n"
    "drain/resume: no new jobs on NODES (a host list such as node[1-4]),\n"
    "running ones go on; or take them again.  Operators and root only.\n"
    "show: everything the controller knows about a job or a node (JSON).\n"
    "diag: the scheduler's and the controller's counters.\n"
    "\n"
    "  -h, --help      show this help\n"
    "  -V, --version   show the version\n";

static void add_ids (json_t *ids, const char *arg)
{
    char *copy = cli_xstrdup (arg), *save = NULL, *tok;
    aios_error_t err;
    long id;

    for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save)) {
        if (parse_long (tok, 1, LONG_MAX, &id, &err) < 0)
            cli_usage_error ("invalid job id \"%s\"", tok);
        json_array_append_new (ids, json_integer (id));
    }
    free (copy);
}

static int drain (const char *cmd, int argc, char **argv)
{
    bool on = !strcmp (cmd, "drain");
    const char *reason = NULL;
    struct aios_client *c;
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
    c = cli_connect ();
    json_decref (cli_rpc (c, req));
    aios_client_close (c);
    return CLI_OK;
}

static int show (int argc, char **argv)
{
    struct aios_client *c;
    json_t *req, *rep, *list, *found = NULL, *v;
    aios_error_t err;
    size_t i;
    long id;

    if (argc != 2 || (strcmp (argv[0], "job") && strcmp (argv[0], "node")))
        cli_usage_error ("show: expected \"job JOBID\" or \"node NAME\"");
    c = cli_connect ();
    if (!strcmp (argv[0], "job")) {
        if (parse_long (argv[1], 1, LONG_MAX, &id, &err) < 0)
            cli_usage_error ("invalid job id \"%s\"", argv[1]);
        req = proto_request ("queue", 0);
        json_object_set_new (req, "ids", json_pack ("[i]", (int)id));
        rep = cli_rpc (c, req);
        list = json_object_get (rep, "jobs");
        found = json_array_get (list, 0);
        if (!found)
            cli_die ("no job %ld (unknown or purged from the queue)", id);
    } else {
        rep = cli_rpc (c, proto_request ("nodes", 0));
        json_array_foreach (json_object_get (rep, "nodes"), i, v)
            if (!strcmp (cli_jstr (v, "name", ""), argv[1]))
                found = v;
        if (!found)
            cli_die ("no node %s", argv[1]);
    }
    json_dumpf (found, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    putchar ('\n');
    json_decref (rep);
    aios_client_close (c);
    return CLI_OK;
}

static int diag (int argc)
{
    struct aios_client *c;
    json_t *rep;

    if (argc != 0)
        cli_usage_error ("diag takes no arguments");
    c = cli_connect ();
    rep = cli_rpc (c, proto_request ("stats", 0));
    json_object_del (rep, "seq");
    json_dumpf (rep, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    putchar ('\n');
    json_decref (rep);
    aios_client_close (c);
    return CLI_OK;
}

int main (int argc, char **argv)
{
    struct aios_client *c;
    json_t *ids, *req, *rep;
    const char *cmd;
    int k;

    cli_init (argv[0]);
    if (argc < 2)
        cli_usage_error ("no command given (hold or release)");
    if (!strcmp (argv[1], "-h") || !strcmp (argv[1], "--help")) {
        fputs (usage_text, stdout);
        return CLI_OK;
    }
    if (!strcmp (argv[1], "-V") || !strcmp (argv[1], "--version"))
        cli_version ();
    cmd = argv[1];
    if (!strcmp (cmd, "drain") || !strcmp (cmd, "resume"))
        return drain (cmd, argc - 2, argv + 2);
    if (!strcmp (cmd, "show"))
        return show (argc - 2, argv + 2);
    if (!strcmp (cmd, "diag"))
        return diag (argc - 2);
    if (strcmp (cmd, "hold") != 0 && strcmp (cmd, "release") != 0)
        cli_usage_error ("unknown command \"%s\" (expected hold, release, "
                         "drain, resume, show or diag)", cmd);
    if (argc < 3)
        cli_usage_error ("%s: no job id given", cmd);
    ids = json_array ();
    for (k = 2; k < argc; k++)
        add_ids (ids, argv[k]);
    req = proto_request (cmd, 0);
    json_object_set_new (req, "ids", ids);
    c = cli_connect ();
    rep = cli_rpc (c, req);
    json_decref (rep);
    aios_client_close (c);
    return CLI_OK;
}
