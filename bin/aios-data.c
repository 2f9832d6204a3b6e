/* aios-data - the catalog of datasets and models: import, list, show,
 * verify, rm.  Works on staging.shared_root directly (no controller). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "cli.h"

static const char *usage_text =
    "Usage: aios-data COMMAND [OPTIONS] [ARGS]\n"
    "Manage the catalog of named, versioned HDF5 datasets and models that\n"
    "jobs use with aios-submit --stage-in and make with --stage-out.\n"
    "\n"
    "Commands:\n"
    "  import FILE --name NAME   store a copy of FILE as NAME's next version\n"
    "  list [NAME]               list the versions (of every name, or NAME)\n"
    "  show NAME[:VERSION]       print a version's record and contents\n"
    "                            (default: the latest version)\n"
    "  verify [NAME[:VERSION]]   check files against their checksums\n"
    "                            (default: every version)\n"
    "  rm NAME[:VERSION]         remove a version (default: every version)\n"
    "\n"
    "Options:\n"
    "  -n, --name NAME   the name to import under\n"
    "  -m, --model, --models  act on models instead of datasets\n"
    "  -h, --noheader    print no header line (list)\n"
    "      --json        print JSON (import, list, show)\n"
    "      --help        show this help\n"
    "  -V, --version     show the version\n";

enum { OPT_JSON = 256, OPT_HELP };

static const struct option opts[] = {
    { "name", required_argument, NULL, 'n' },
    { "model", no_argument, NULL, 'm' },
    { "models", no_argument, NULL, 'm' },
    { "noheader", no_argument, NULL, 'h' },
    { "json", no_argument, NULL, OPT_JSON },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};
static const char *shortopts = "n:mhV";

struct args {
    const char *name;
    enum catalog_kind kind;
    bool noheader;
    bool json;
    const char *root;  /* staging.shared_root */
    int argc;          /* operands after the command */
    char **argv;
};

/* --- formatting ---------------------------------------------------------- */

/* 512B, 1.5K, 45.2M, 120G */
static char *fmt_bytes (uint64_t n, char *buf, size_t len)
{
    static const char units[] = "KMGTPE";
    double v = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf (buf, len, "%" PRIu64 "B", n);
        return buf;
    }
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf (buf, len, v < 100 ? "%.1f%c" : "%.0f%c", v, units[u]);
    return buf;
}

static char *fmt_time (long long t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!localtime_r (&tt, &tm) || !strftime (buf, len, "%Y-%m-%dT%H:%M:%S", &tm))
        snprintf (buf, len, "%lld", t);
    return buf;
}

/* 60000x784 ("scalar" for rank 0) */
static char *fmt_dims (json_t *dims, char *buf, size_t len)
{
    size_t i, used = 0;
    json_t *d;

    if (!json_is_array (dims))
        return strcpy (buf, "-");
    if (json_array_size (dims) == 0)
        return strcpy (buf, "scalar");
    buf[0] = '\0';
    json_array_foreach (dims, i, d) {
        if (used < len)
            used += snprintf (buf + used, len - used, "%s%lld", i ? "x" : "",
                              (long long)json_integer_value (d));
    }
    return buf;
}

static char *fmt_json (json_t *v)
{
    char *s;

    if (json_is_string (v))
        return cli_xstrdup (json_string_value (v));
    if (!(s = json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY)))
        cli_die ("out of memory");
    return s;
}

/* --- tables -------------------------------------------------------------- */

struct table {
    int ncol;
    size_t nrow, cap;
    char **cells;   /* row-major, header first */
};

/* A copy of text from a file or another user, control characters as '?'. */
static char *clean_dup (const char *s)
{
    char *d = cli_xstrdup (s);

    cli_clean (d, d, strlen (d) + 1); /* in place */
    return d;
}

static void table_row (struct table *t, const char *const *cells)
{
    int i;

    if (t->nrow == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        if (!(t->cells = realloc (t->cells, t->cap * t->ncol * sizeof (char *))))
            cli_die ("out of memory");
    }
    for (i = 0; i < t->ncol; i++)
        t->cells[t->nrow * t->ncol + i] = clean_dup (cells[i]);
    t->nrow++;
}

/* Columns left-aligned, as wide as their widest cell; the last unpadded.
 * Row 0 (the header) is left out with noheader but still sets widths. */
static void table_print (struct table *t, const char *indent, bool noheader)
{
    int *width = calloc ((size_t)t->ncol, sizeof (int)), i;
    size_t r;

    if (!width)
        cli_die ("out of memory");
    for (r = 0; r < t->nrow; r++)
        for (i = 0; i < t->ncol; i++)
            if ((int)strlen (t->cells[r * t->ncol + i]) > width[i])
                width[i] = (int)strlen (t->cells[r * t->ncol + i]);
    for (r = noheader ? 1 : 0; r < t->nrow; r++) {
        fputs (indent, stdout);
        for (i = 0; i < t->ncol - 1; i++)
            printf ("%-*s ", width[i], t->cells[r * t->ncol + i]);
        printf ("%s\n", t->cells[r * t->ncol + t->ncol - 1]);
    }
    for (r = 0; r < t->nrow * t->ncol; r++)
        free (t->cells[r]);
    free (t->cells);
    free (width);
}

/* --- import -------------------------------------------------------------- */

static int cmd_import (struct args *a)
{
    aios_error_t err;
    json_t *rec;
    char size[32];

    if (!a->name)
        cli_usage_error ("import: --name NAME is required");
    if (!catalog_name_ok (a->name)) {
        char *n = NULL;
        int v;
        catalog_parse_ref (a->name, &n, &v, &err);
        free (n);
        cli_die ("%s", err.text);
    }
    if (!(rec = catalog_import (a->root, a->kind, a->argv[0], a->name, NULL,
                                NULL, &err)))
        cli_die ("%s", err.text);
    if (a->json)
        cli_print_json (catalog_kind_name (a->kind), rec);
    else
        printf ("Imported %s %s:%lld (%s, sha256 %.12s)\n",
                catalog_kind_name (a->kind), a->name,
                cli_jint (rec, "version"),
                fmt_bytes ((uint64_t)cli_jint (rec, "size"), size, sizeof (size)),
                cli_jstr (rec, "sha256", "?"));
    json_decref (rec);
    return CLI_OK;
}

/* --- list ---------------------------------------------------------------- */

static const char *job_of (json_t *rec, char *buf, size_t len)
{
    json_t *prov = json_object_get (rec, "provenance");
    json_t *job = json_object_get (prov, "aios_job_id");

    if (!job)
        job = json_object_get (prov, "job_id");

    if (json_is_integer (job))
        snprintf (buf, len, "%lld", (long long)json_integer_value (job));
    else
        snprintf (buf, len, "%s", json_is_string (job) ? json_string_value (job)
                                                        : "-");
    return buf;
}

static void list_table (json_t *recs, bool models, bool noheader)
{
    static const char *head[] = { "NAME", "VERSION", "SIZE", "CREATED",
                                  "OWNER", "SHA256", "JOB" };
    struct table t = { models ? 7 : 6, 0, 0, NULL };
    char ver[24], size[32], created[40], sha[16], job[32];
    const char *row[7];
    json_t *rec;
    size_t i;

    table_row (&t, head);
    json_array_foreach (recs, i, rec) {
        snprintf (ver, sizeof (ver), "%lld", cli_jint (rec, "version"));
        snprintf (sha, sizeof (sha), "%.12s", cli_jstr (rec, "sha256", "-"));
        row[0] = cli_jstr (rec, "name", "?");
        row[1] = ver;
        row[2] = fmt_bytes ((uint64_t)cli_jint (rec, "size"), size, sizeof (size));
        row[3] = fmt_time (cli_jint (rec, "created"), created, sizeof (created));
        row[4] = cli_jstr (rec, "owner", "?");
        row[5] = sha;
        row[6] = job_of (rec, job, sizeof (job));
        table_row (&t, row);
    }
    table_print (&t, "", noheader);
}

static int cmd_list (struct args *a)
{
    aios_error_t err;
    json_t *recs;

    if (!(recs = catalog_list (a->root, a->kind, a->argc ? a->argv[0] : NULL,
                               &err)))
        cli_die ("%s", err.text);
    if (a->json)
        cli_print_json (a->kind == CATALOG_MODEL ? "models" : "datasets", recs);
    else
        list_table (recs, a->kind == CATALOG_MODEL, a->noheader);
    json_decref (recs);
    return CLI_OK;
}

/* --- show ---------------------------------------------------------------- */

static json_t *lookup_ref (struct args *a, const char *ref)
{
    aios_error_t err;
    char *name;
    json_t *rec;
    int v;

    if (catalog_parse_ref (ref, &name, &v, &err) < 0)
        cli_die ("%s", err.text);
    if (!(rec = catalog_lookup (a->root, a->kind, name, v, &err)))
        cli_die ("%s", err.text);
    free (name);
    return rec;
}

static void show_object (const char *title, json_t *obj)
{
    const char *key;
    json_t *v;
    char *s;

    if (json_object_size (obj) == 0)
        return;
    printf ("%s:\n", title);
    json_object_foreach (obj, key, v) {
        s = fmt_json (v);
        fputs ("  ", stdout);
        cli_put_clean (stdout, key, strlen (key));
        fputs (" = ", stdout);
        cli_put_clean (stdout, s, strlen (s));
        putchar ('\n');
        free (s);
    }
}

static void show_datasets (json_t *list)
{
    static const char *head[] = { "PATH", "SHAPE", "TYPE", "CHUNKS",
                                  "COMPRESSION", "SIZE", "STORED" };
    struct table t = { 7, 0, 0, NULL };
    char shape[96], chunks[96], size[32], stored[32];
    const char *row[7];
    json_t *d;
    size_t i;

    printf ("Datasets:\n");
    table_row (&t, head);
    json_array_foreach (list, i, d) {
        row[0] = cli_jstr (d, "path", "?");
        row[1] = fmt_dims (json_object_get (d, "shape"), shape, sizeof (shape));
        row[2] = cli_jstr (d, "type", "?");
        row[3] = fmt_dims (json_object_get (d, "chunks"), chunks, sizeof (chunks));
        row[4] = cli_jstr (d, "compression", "-");
        row[5] = fmt_bytes ((uint64_t)cli_jint (d, "bytes"), size, sizeof (size));
        row[6] = fmt_bytes ((uint64_t)cli_jint (d, "storage_bytes"), stored,
                            sizeof (stored));
        table_row (&t, row);
    }
    table_print (&t, "  ", false);
}

static void show_record (json_t *rec, enum catalog_kind kind)
{
    json_t *contents = json_object_get (rec, "contents");
    char size[32], created[40], path[4096];
    long long bytes = cli_jint (rec, "size");

    printf ("%s %s:%lld\n", kind == CATALOG_MODEL ? "Model" : "Dataset",
            cli_jstr (rec, "name", "?"), cli_jint (rec, "version"));
    printf ("  File:     %s\n", cli_clean (cli_jstr (rec, "file", "?"), path,
                                             sizeof (path)));
    printf ("  Size:     %s (%lld bytes)\n",
            fmt_bytes ((uint64_t)bytes, size, sizeof (size)), bytes);
    printf ("  SHA256:   %s\n", cli_jstr (rec, "sha256", "?"));
    printf ("  Created:  %s\n", fmt_time (cli_jint (rec, "created"), created,
                                          sizeof (created)));
    printf ("  Owner:    %s (uid %lld)\n", cli_jstr (rec, "owner", "?"),
            cli_jint (rec, "uid"));
    printf ("  Source:   %s\n", cli_clean (cli_jstr (rec, "source", "?"), path,
                                             sizeof (path)));
    show_object ("Provenance", json_object_get (rec, "provenance"));
    show_object ("Attributes", json_object_get (contents, "attributes"));
    show_datasets (json_object_get (contents, "datasets"));
}

static int cmd_show (struct args *a)
{
    json_t *rec = lookup_ref (a, a->argv[0]);

    if (a->json)
        cli_print_json (catalog_kind_name (a->kind), rec);
    else
        show_record (rec, a->kind);
    json_decref (rec);
    return CLI_OK;
}

/* --- verify and rm ------------------------------------------------------- */

/* Verify one version; "NAME:V ok" or the error on stderr.  0 if ok. */
static int verify_one (struct args *a, const char *name, int v)
{
    aios_error_t err;

    if (catalog_verify (a->root, a->kind, name, v, &err) < 0) {
        cli_warn ("%s", err.text);
        return -1;
    }
    printf ("%s:%d ok\n", name, v);
    return 0;
}

static int cmd_verify (struct args *a)
{
    aios_error_t err;
    json_t *recs, *rec;
    char *name = NULL;
    int v = 0, bad = 0;
    size_t i;

    if (a->argc && catalog_parse_ref (a->argv[0], &name, &v, &err) < 0)
        cli_die ("%s", err.text);
    if (a->argc && strchr (a->argv[0], ':')) {
        /* one version; "latest" resolves to a number first */
        rec = lookup_ref (a, a->argv[0]);
        bad = verify_one (a, name, (int)cli_jint (rec, "version")) < 0;
        json_decref (rec);
    }
    else {
        if (!(recs = catalog_list (a->root, a->kind, name, &err)))
            cli_die ("%s", err.text);
        json_array_foreach (recs, i, rec) {
            if (verify_one (a, cli_jstr (rec, "name", "?"),
                            (int)cli_jint (rec, "version")) < 0)
                bad++;
        }
        json_decref (recs);
    }
    free (name);
    return bad ? CLI_ERROR : CLI_OK;
}

static int cmd_rm (struct args *a)
{
    aios_error_t err;
    char *name;
    int v;

    if (catalog_parse_ref (a->argv[0], &name, &v, &err) < 0
        || catalog_remove (a->root, a->kind, name, v, &err) < 0)
        cli_die ("%s", err.text);
    free (name);
    return CLI_OK;
}

/* --- main ---------------------------------------------------------------- */

static const struct command {
    const char *name;
    int (*run) (struct args *a);
    int min, max;        /* operands */
    const char *operands;
} commands[] = {
    { "import", cmd_import, 1, 1, "FILE" },
    { "list", cmd_list, 0, 1, "[NAME]" },
    { "show", cmd_show, 1, 1, "NAME[:VERSION]" },
    { "verify", cmd_verify, 0, 1, "[NAME[:VERSION]]" },
    { "rm", cmd_rm, 1, 1, "NAME[:VERSION]" },
};

static const struct command *command_find (const char *name)
{
    size_t i;

    for (i = 0; i < sizeof (commands) / sizeof (commands[0]); i++)
        if (!strcmp (commands[i].name, name))
            return &commands[i];
    cli_usage_error ("unknown command \"%s\" (expected import, list, show, "
                     "verify or rm)", name);
}

static const struct command *parse_args (struct args *a, int argc, char **argv)
{
    const struct command *cmd;
    int c;

    opterr = 0;
    while ((c = getopt_long (argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 'n': a->name = optarg; break;
        case 'm': a->kind = CATALOG_MODEL; break;
        case 'h': a->noheader = true; break;
        case OPT_JSON: a->json = true; break;
        case OPT_HELP: fputs (usage_text, stdout); exit (CLI_OK);
        case 'V': cli_version ();
        default:
            cli_usage_error ("unknown or incomplete option \"%s\"",
                             argv[optind - 1]);
        }
    }
    if (optind >= argc)
        cli_usage_error ("no command given (import, list, show, verify or rm)");
    cmd = command_find (argv[optind]);
    a->argc = argc - optind - 1;
    a->argv = argv + optind + 1;
    if (a->argc < cmd->min || a->argc > cmd->max)
        cli_usage_error ("%s: expected %s", cmd->name, cmd->operands);
    if (a->name && strcmp (cmd->name, "import"))
        cli_usage_error ("%s: --name is only for import", cmd->name);
    return cmd;
}

int main (int argc, char **argv)
{
    struct args a = { .kind = CATALOG_DATASET };
    const struct command *cmd;
    const struct aios_conf *conf;
    int rc;

    cli_init (argv[0]);
    cmd = parse_args (&a, argc, argv);
    conf = cli_conf ();
    if (!conf->shared_root || !*conf->shared_root)
        cli_die ("no catalog: staging.shared_root is not set in %s",
                 conf->path);
    a.root = conf->shared_root;
    rc = cmd->run (&a);
    if (fflush (stdout) != 0 || ferror (stdout))
        cli_die ("standard output: %s", strerror (errno));
    return rc;
}
