/* aios-cancel - cancel or signal jobs (like scancel) */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "job.h"
#include "parse.h"
#include "proto.h"

static const char *usage_text =
    "Usage: aios-cancel [OPTIONS] [ID...]\n"
    "Cancel the jobs given by id, and/or those matching every filter given.\n"
    "An array's id cancels every task of it; ID_TASK one task.\n"
    "With ids and filters, only the ids that match the filters are cancelled.\n"
    "\n"
    "  -u, --user=USER      jobs of USER\n"
    "  -n, --name=NAME      jobs named NAME\n"
    "  -t, --state=STATE    jobs in STATE (a name such as PENDING or a code\n"
    "                       such as PD)\n"
    "  -s, --signal=SIG     send SIG (TERM, SIGUSR1, 10...) to the running\n"
    "                       jobs instead of cancelling them\n"
    "  -v, --verbose        say which jobs were cancelled or signalled\n"
    "  -h, --help           show this help\n"
    "  -V, --version        show the version\n";

static const struct option opts[] = {
    { "user", required_argument, NULL, 'u' },
    { "name", required_argument, NULL, 'n' },
    { "state", required_argument, NULL, 't' },
    { "signal", required_argument, NULL, 's' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};
static const char *shortopts = "u:n:t:s:vhV";

struct cancel {
    json_t *ids; /* NULL: none given */
    json_t *tasks; /* [[ARRAYID, TASK]...], NULL: none given */
    const char *user;
    const char *name;
    const char *state; /* canonical name */
    int sig;           /* 0: cancel */
    bool verbose;
};

static const char *parse_state (const char *arg)
{
    int st = job_state_parse (arg);

    if (st < 0)
        cli_usage_error ("invalid job state \"%s\"", arg);
    return job_state_name ((enum job_state)st);
}

static int parse_sig (const char *arg)
{
    aios_error_t err;
    int sig;

    if (parse_signal (arg, &sig, &err) < 0 || sig < 1 || sig > 64)
        cli_usage_error ("invalid signal \"%s\"", arg);
    return sig;
}

/* "ID" (a job, or every task of the array ID) or "ID_TASK" (one task). */
static void add_id (struct cancel *k, const char *arg)
{
    aios_error_t err;
    long id, task;

    if (parse_job_ref (arg, &id, &task, &err) < 0)
        cli_usage_error ("%s", err.text);
    if (task >= 0) {
        if ((!k->tasks && !(k->tasks = json_array ()))
            || json_array_append_new (k->tasks, json_pack ("[I I]", (json_int_t)id,
                                                           (json_int_t)task)) < 0)
            cli_die ("out of memory");
        return;
    }
    if ((!k->ids && !(k->ids = json_array ()))
        || json_array_append_new (k->ids, json_integer ((json_int_t)id)) < 0)
        cli_die ("out of memory");
}

static void parse_args (struct cancel *k, int argc, char **argv)
{
    int c;

    opterr = 0;
    while ((c = getopt_long (argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 'u': k->user = optarg; break;
        case 'n': k->name = optarg; break;
        case 't': k->state = parse_state (optarg); break;
        case 's': k->sig = parse_sig (optarg); break;
        case 'v': k->verbose = true; break;
        case 'h': fputs (usage_text, stdout); exit (CLI_OK);
        case 'V': cli_version ();
        default:
            cli_usage_error ("unknown or incomplete option \"%s\"",
                             argv[optind - 1]);
        }
    }
    for (; optind < argc; optind++)
        add_id (k, argv[optind]);
    if (!k->ids && !k->tasks && !k->user && !k->name && !k->state)
        cli_usage_error ("no job ids or filters given");
}

static json_t *cancel_request (const struct cancel *k)
{
    json_t *req = proto_request ("cancel", 0);

    if (!req || (k->ids && json_object_set (req, "ids", k->ids) < 0)
        || (k->tasks && json_object_set (req, "tasks", k->tasks) < 0)
        || (k->user && json_object_set_new (req, "user", json_string (k->user)) < 0)
        || (k->name && json_object_set_new (req, "name", json_string (k->name)) < 0)
        || (k->state
            && json_object_set_new (req, "state", json_string (k->state)) < 0)
        || (k->sig && json_object_set_new (req, "signal", json_integer (k->sig)) < 0))
        cli_die ("out of memory");
    return req;
}

/* Print what was done (verbose) and the errors; returns the exit code. */
static int report (const struct cancel *k, json_t *done, json_t *errors)
{
    json_t *v;
    size_t i;

    if (k->verbose) {
        json_array_foreach (done, i, v) {
            if (k->sig)
                printf ("signalled job %lld with %s\n",
                        (long long)json_integer_value (v), signal_name (k->sig));
            else
                printf ("cancelled job %lld\n", (long long)json_integer_value (v));
        }
    }
    json_array_foreach (errors, i, v)
        cli_warn ("%s", json_string_value (v) ? json_string_value (v) : "?");
    return json_array_size (errors) > 0 ? CLI_ERROR : CLI_OK;
}

int main (int argc, char **argv)
{
    struct cancel k = { 0 };
    struct aios_client *c;
    json_t *rep, *done, *errors;
    int rc;

    cli_init (argv[0]);
    parse_args (&k, argc, argv);
    c = cli_connect ();
    rep = cli_rpc (c, cancel_request (&k));
    if (json_unpack (rep, "{s:o s:o}", "cancelled", &done, "errors", &errors) < 0
        || !json_is_array (done) || !json_is_array (errors))
        cli_die ("malformed reply to \"cancel\" from the controller");
    rc = report (&k, done, errors);
    json_decref (rep);
    json_decref (k.ids);
    json_decref (k.tasks);
    aios_client_close (c);
    if (fflush (stdout) != 0 || ferror (stdout))
        cli_die ("standard output: %s", strerror (errno));
    return rc;
}
