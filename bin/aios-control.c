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
    "Hold pending jobs (they stay in the queue but do not start, reason\n"
    "JobHeldUser) or release them.  Only a job's owner, an operator or root\n"
    "may do either.\n"
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
    if (strcmp (cmd, "hold") != 0 && strcmp (cmd, "release") != 0)
        cli_usage_error ("unknown command \"%s\" (expected hold or release)", cmd);
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
