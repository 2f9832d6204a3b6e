/* aios-nodes - list the compute nodes and what is allocated on them (like sinfo -N) */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hostlist.h"
#include "parse.h"
#include "proto.h"

static const char *usage_text =
    "Usage: aios-nodes [OPTIONS] [NODE...]\n"
    "List the nodes (all, or those named; NODE may be a range such as\n"
    "node[1-4]) with their state, allocated/total CPUs and memory, and why\n"
    "a node is down or drained.\n"
    "\n"
    "  -h, --noheader   print no header line\n"
    "      --json       print the nodes as JSON\n"
    "      --help       show this help\n"
    "  -V, --version    show the version\n";

enum { OPT_JSON = 256, OPT_HELP };

static const struct option opts[] = {
    { "noheader", no_argument, NULL, 'h' },
    { "json", no_argument, NULL, OPT_JSON },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};
static const char *shortopts = "hV";

enum { NCOL = 5 };
static const char *headers[NCOL] = {
    "NODE", "STATE", "CPUS(A/T)", "MEMORY(A/T)", "REASON",
};

struct args {
    bool noheader;
    bool json;
    json_t *names; /* wanted node names (strings); NULL: all */
};

static uint64_t jmb (json_t *o, const char *key)
{
    long long mb = cli_jint (o, key);

    return mb > 0 ? (uint64_t)mb : 0;
}

/* --- selecting nodes ----------------------------------------------------- */

/* Add the names NODE expands to. */
static void add_names (json_t *names, const char *expr)
{
    aios_error_t err;
    char **v;
    size_t i;

    if (!(v = hostlist_expand (expr, NULL, &err)))
        cli_usage_error ("%s", err.text);
    for (i = 0; v[i]; i++) {
        if (json_array_append_new (names, json_string (v[i])) < 0)
            cli_die ("out of memory");
    }
    hostlist_free (v);
}

static json_t *find_node (json_t *nodes, const char *name)
{
    json_t *n;
    size_t i;

    json_array_foreach (nodes, i, n) {
        if (!strcmp (cli_jstr (n, "name", ""), name))
            return n;
    }
    return NULL;
}

static bool name_wanted (json_t *want, const char *name)
{
    json_t *v;
    size_t i;

    json_array_foreach (want, i, v) {
        if (!strcmp (json_string_value (v), name))
            return true;
    }
    return false;
}

/* The nodes named in want, in the controller's order (a new reference);
 * exits 1 if one does not exist. */
static json_t *select_nodes (json_t *nodes, json_t *want)
{
    json_t *sel, *n, *name;
    size_t i;

    if (!want)
        return json_incref (nodes);
    json_array_foreach (want, i, name) {
        if (!find_node (nodes, json_string_value (name)))
            cli_die ("no such node %s", json_string_value (name));
    }
    if (!(sel = json_array ()))
        cli_die ("out of memory");
    json_array_foreach (nodes, i, n) {
        if (name_wanted (want, cli_jstr (n, "name", ""))
            && json_array_append (sel, n) < 0)
            cli_die ("out of memory");
    }
    return sel;
}

/* --- printing ------------------------------------------------------------ */

static void node_row (json_t *n, char *row[NCOL])
{
    char a[32], t[32], buf[96];

    row[0] = cli_xstrdup (cli_jstr (n, "name", "?"));
    row[1] = cli_xstrdup (cli_jstr (n, "state", "UNKNOWN"));
    snprintf (buf, sizeof (buf), "%lld/%lld", cli_jint (n, "cpus_alloc"),
              cli_jint (n, "cpus"));
    row[2] = cli_xstrdup (buf);
    snprintf (buf, sizeof (buf), "%s/%s",
              format_size_mb (jmb (n, "memory_alloc_mb"), a, sizeof (a)),
              format_size_mb (jmb (n, "memory_mb"), t, sizeof (t)));
    row[3] = cli_xstrdup (buf);
    row[4] = cli_xstrdup (cli_jstr (n, "reason", "-"));
}

/* Columns left-aligned, as wide as their widest cell; the last unpadded. */
static void print_row (char *const row[NCOL], const int width[NCOL])
{
    int i;

    for (i = 0; i < NCOL - 1; i++)
        printf ("%-*s ", width[i], row[i]);
    printf ("%s\n", row[NCOL - 1]);
}

static void print_table (json_t *nodes, bool header)
{
    size_t n = json_array_size (nodes), r;
    char *(*rows)[NCOL] = cli_xmalloc ((n + 1) * sizeof (*rows));
    int width[NCOL] = { 0 }, i;

    for (i = 0; i < NCOL; i++) {
        rows[0][i] = cli_xstrdup (headers[i]);
        width[i] = (int)strlen (headers[i]); /* also with --noheader */
    }
    for (r = 1; r <= n; r++) {
        node_row (json_array_get (nodes, r - 1), rows[r]);
        for (i = 0; i < NCOL; i++) {
            if ((int)strlen (rows[r][i]) > width[i])
                width[i] = (int)strlen (rows[r][i]);
        }
    }
    for (r = header ? 0 : 1; r <= n; r++)
        print_row (rows[r], width);
    for (r = 0; r <= n; r++) {
        for (i = 0; i < NCOL; i++)
            free (rows[r][i]);
    }
    free (rows);
}

/* --- main ---------------------------------------------------------------- */

static void parse_args (struct args *a, int argc, char **argv)
{
    int c;

    opterr = 0;
    while ((c = getopt_long (argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 'h': a->noheader = true; break;
        case OPT_JSON: a->json = true; break;
        case OPT_HELP: fputs (usage_text, stdout); exit (CLI_OK);
        case 'V': cli_version ();
        default:
            cli_usage_error ("unknown or incomplete option \"%s\"",
                             argv[optind - 1]);
        }
    }
    if (optind < argc && !(a->names = json_array ()))
        cli_die ("out of memory");
    for (; optind < argc; optind++)
        add_names (a->names, argv[optind]);
}

int main (int argc, char **argv)
{
    struct args a = { 0 };
    struct aios_client *c;
    json_t *rep, *nodes, *sel;

    cli_init (argv[0]);
    parse_args (&a, argc, argv);
    c = cli_connect ();
    rep = cli_rpc (c, proto_request ("nodes", 0));
    if (json_unpack (rep, "{s:o}", "nodes", &nodes) < 0 || !json_is_array (nodes))
        cli_die ("malformed reply to \"nodes\" from the controller");
    sel = select_nodes (nodes, a.names);
    if (a.json)
        cli_print_json ("nodes", sel);
    else
        print_table (sel, !a.noheader);
    json_decref (sel);
    json_decref (rep);
    json_decref (a.names);
    aios_client_close (c);
    if (fflush (stdout) != 0 || ferror (stdout))
        cli_die ("standard output: %s", strerror (errno));
    return CLI_OK;
}
