/* cli.c - what every tool shares */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "cli.h"
#include "parse.h"
#include "proto.h"

static const char *prog = "aios";
static struct aios_conf *conf;

static void free_conf (void)
{
    conf_destroy (conf);
    conf = NULL;
}

void cli_init (const char *name)
{
    const char *slash = strrchr (name, '/');

    prog = slash ? slash + 1 : name;
}

const char *cli_prog (void)
{
    return prog;
}

void cli_die (const char *fmt, ...)
{
    va_list ap;

    fprintf (stderr, "%s: ", prog);
    va_start (ap, fmt);
    vfprintf (stderr, fmt, ap);
    va_end (ap);
    fputc ('\n', stderr);
    exit (CLI_ERROR);
}

void cli_usage_error (const char *fmt, ...)
{
    va_list ap;

    fprintf (stderr, "%s: ", prog);
    va_start (ap, fmt);
    vfprintf (stderr, fmt, ap);
    va_end (ap);
    fprintf (stderr, "\nTry '%s --help' for more information.\n", prog);
    exit (CLI_USAGE);
}

void cli_warn (const char *fmt, ...)
{
    va_list ap;

    fprintf (stderr, "%s: ", prog);
    va_start (ap, fmt);
    vfprintf (stderr, fmt, ap);
    va_end (ap);
    fputc ('\n', stderr);
}

void cli_version (void)
{
    printf ("%s %s\n", prog, PACKAGE_VERSION);
    exit (CLI_OK);
}

const struct aios_conf *cli_conf (void)
{
    aios_error_t err;

    if (conf)
        return conf;
    if (!(conf = conf_load (conf_default_path (), &err)))
        cli_die ("%s", err.text);
    atexit (free_conf);
    return conf;
}

struct aios_client *cli_try_connect (aios_error_t *err)
{
    const char *sock = getenv ("AIOS_SOCKET");
    const struct aios_conf *cf = NULL;

    if (!sock || !*sock || !strcmp (sock, "tcp"))
        cf = cli_conf ();
    return aios_client_connect (cf, err);
}

struct aios_client *cli_connect (void)
{
    struct aios_client *c;
    aios_error_t err;

    if (!(c = cli_try_connect (&err)))
        cli_die ("%s", err.text);
    return c;
}

json_t *cli_rpc (struct aios_client *c, json_t *req)
{
    aios_error_t err;
    json_t *rep = aios_client_rpc (c, req, &err);

    if (!rep)
        cli_die ("%s", err.text);
    return rep;
}

long cli_job_id (struct aios_client *c, const char *what, const char *s)
{
    aios_error_t err;
    long id, task;
    json_t *req, *rep, *jobs;

    if (parse_job_ref (s, &id, &task, &err) < 0)
        cli_usage_error ("%s%s%s", what ? what : "", what ? ": " : "", err.text);
    if (task < 0)
        return id;
    req = proto_request ("queue", 0);
    if (!req || json_object_set_new (req, "tasks", json_pack ("[[I I]]", (json_int_t)id,
                                                              (json_int_t)task)) < 0
        || json_object_set_new (req, "fields", json_pack ("[s]", "id")) < 0)
        cli_die ("out of memory");
    rep = cli_rpc (c, req);
    jobs = json_object_get (rep, "jobs");
    if (json_array_size (jobs) != 1)
        cli_die ("job %s: no such array task", s);
    id = (long)cli_jint (json_array_get (jobs, 0), "id");
    json_decref (rep);
    return id;
}

void *cli_xmalloc (size_t n)
{
    void *p = calloc (1, n ? n : 1);

    if (!p)
        cli_die ("out of memory");
    return p;
}

char *cli_xstrdup (const char *s)
{
    char *p = strdup (s);

    if (!p)
        cli_die ("out of memory");
    return p;
}

const char *cli_jstr (json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value (json_object_get (o, key));

    return s && *s ? s : dflt;
}

long long cli_jint (json_t *o, const char *key)
{
    return (long long)json_integer_value (json_object_get (o, key));
}

static bool is_control (char c)
{
    return (unsigned char)c < ' ' || c == 0x7f;
}

const char *cli_clean (const char *s, char *buf, size_t len)
{
    size_t i;

    for (i = 0; s[i] && !is_control (s[i]); i++)
        ;
    if (!s[i] || len == 0)
        return s;
    for (i = 0; s[i] && i + 1 < len; i++)
        buf[i] = is_control (s[i]) ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

void cli_put_clean (FILE *f, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        putc (is_control (s[i]) ? '?' : s[i], f);
}

void cli_print_json (const char *key, json_t *array)
{
    json_t *out = key ? json_pack ("{s:i s:O}", "version", 1, key, array)
                      : json_deep_copy (array);

    if (out && !key)
        json_object_set_new (out, "version", json_integer (1));
    if (!out || json_dumpf (out, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) < 0)
        cli_die ("cannot print the %s as JSON", key ? key : "reply");
    putchar ('\n');
    json_decref (out);
}

extern char **environ;

json_t *cli_export_env (const char *export, const char *const *skip)
{
    json_t *env = json_object ();
    char **e, *list, *tok, *save = NULL;
    bool all = !export || !strcmp (export, "ALL") || !strncmp (export, "ALL,", 4);

    if (!env)
        cli_die ("out of memory");
    for (e = environ; all && *e; e++) {
        char *eq = strchr (*e, '='), *key;
        const char *const *k;
        bool keep = true;
        if (!eq || !(key = strndup (*e, (size_t)(eq - *e))))
            continue;
        for (k = skip; keep && k && *k; k++) {
            size_t n = strlen (*k);
            keep = (*k)[n - 1] == '*' ? strncmp (key, *k, n - 1) != 0
                                      : strcmp (key, *k) != 0;
        }
        if (keep)
            json_object_set_new (env, key, json_string (eq + 1));
        free (key);
    }
    if (!export || !strcmp (export, "ALL") || !strcmp (export, "NONE"))
        return env;
    list = cli_xstrdup (export);
    for (tok = strtok_r (list, ",", &save); tok; tok = strtok_r (NULL, ",", &save)) {
        char *eq = strchr (tok, '=');
        const char *v;
        if (!strcmp (tok, "ALL") || !strcmp (tok, "NONE"))
            continue;
        if (eq) {
            *eq = '\0';
            json_object_set_new (env, tok, json_string (eq + 1));
        } else if ((v = getenv (tok)))
            json_object_set_new (env, tok, json_string (v));
    }
    free (list);
    return env;
}

json_t *cli_stdin_frame (int fd, bool *open)
{
    char buf[16384];
    ssize_t got;
    json_t *m;

    while ((got = read (fd, buf, sizeof (buf))) < 0 && errno == EINTR)
        ;
    if (got > 0) {
        char *enc = b64_encode (buf, (size_t)got);
        m = proto_request ("stdin", 0);
        json_object_set_new (m, "data", json_string (enc ? enc : ""));
        free (enc);
    } else {
        m = proto_request ("stdin_eof", 0);
        *open = false;
    }
    return m;
}
