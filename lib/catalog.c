/* catalog.c - named, versioned datasets and models on the shared filesystem
 *
 * Directories: ROOT/datasets and ROOT/models, and each NAME under them, are
 * mode 1777 (like /tmp: anyone may add a version, only its owner may remove
 * it); a version directory is its importer's, 0755, and what is in it 0444.
 * A version is claimed with mkdir and becomes visible when meta.json is
 * renamed into place, so a version directory without meta.json is an import
 * in progress (or one that died) and is skipped.  Version numbers are one
 * more than the largest claimed; removing the latest frees its number.
 */
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "h5data.h"

enum {
    FEW = 10,              /* list the names or versions there are up to this */
    CLAIM_TRIES = 1000,
};

static const char *kind_dir (enum catalog_kind kind)
{
    return kind == CATALOG_MODEL ? "models" : "datasets";
}

const char *catalog_kind_name (enum catalog_kind kind)
{
    return kind == CATALOG_MODEL ? "model" : "dataset";
}

static bool alnum (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}

bool catalog_name_ok (const char *name)
{
    size_t i;

    if (!name || !alnum (name[0]))
        return false;
    for (i = 0; name[i]; i++) {
        if (i >= CATALOG_NAME_MAX
            || !(alnum (name[i]) || strchr ("._-", name[i])))
            return false;
    }
    return true;
}

void catalog_env_name (const char *name, char buf[CATALOG_ENV_MAX])
{
    size_t i, n = strlen (CATALOG_ENV_PREFIX);

    memcpy (buf, CATALOG_ENV_PREFIX, n);
    for (i = 0; name[i] && n + i < CATALOG_ENV_MAX - 1; i++)
        buf[n + i] = alnum (name[i]) ? (char)toupper ((unsigned char)name[i]) : '_';
    buf[n + i] = '\0';
}

static int bad_name (const char *name, aios_error_t *err)
{
    errno = EINVAL;
    return errprintf (err, "invalid name \"%.80s\": expected letters, digits, "
                      "'.', '_' and '-', starting with a letter or digit, at "
                      "most %d characters", name ? name : "", CATALOG_NAME_MAX);
}

static int nomem (aios_error_t *err)
{
    errno = ENOMEM;
    return errprintf (err, "out of memory");
}

/* A positive decimal without sign or leading zeros, at most INT_MAX; 0 if
 * s is not one. */
static int parse_version (const char *s)
{
    long v = 0;

    if (!*s || *s == '0')
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    return (int)v;
}

int catalog_parse_ref (const char *ref, char **name, int *version,
                       aios_error_t *err)
{
    const char *colon;
    char *n;
    int v = 0;

    if (!ref || !name || !version) {
        errno = EINVAL;
        return errprintf (err, "no name given");
    }
    colon = strchr (ref, ':');
    if (!(n = colon ? strndup (ref, (size_t)(colon - ref)) : strdup (ref)))
        return nomem (err);
    if (!catalog_name_ok (n)) {
        bad_name (n, err);
        free (n);
        return -1;
    }
    if (colon && strcmp (colon + 1, "latest") && !(v = parse_version (colon + 1))) {
        free (n);
        errno = EINVAL;
        return errprintf (err, "invalid version \"%.40s\" in \"%.120s\": "
                          "expected a positive integer or latest", colon + 1,
                          ref);
    }
    *name = n;
    *version = v;
    return 0;
}

/* --- paths and directories ----------------------------------------------- */

static char *pathf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static char *pathf (const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start (ap, fmt);
    n = vasprintf (&s, fmt, ap);
    va_end (ap);
    if (n < 0) {
        errno = ENOMEM;
        return NULL;
    }
    return s;
}

static int root_check (const char *root, aios_error_t *err)
{
    struct stat st;

    if (!root || !*root) {
        errno = EINVAL;
        return errprintf (err, "no catalog: staging.shared_root is not set in "
                          "the configuration");
    }
    if (stat (root, &st) < 0)
        return errprintf (err, "catalog %s: %s", root, strerror (errno));
    if (!S_ISDIR (st.st_mode)) {
        errno = ENOTDIR;
        return errprintf (err, "catalog %s: %s", root, strerror (errno));
    }
    return 0;
}

/* The checks every entry point makes: the catalog, the name, the version. */
static int args_check (const char *root, const char *name, int version,
                       aios_error_t *err)
{
    if (root_check (root, err) < 0)
        return -1;
    if (!catalog_name_ok (name))
        return bad_name (name, err);
    if (version < 0) {
        errno = EINVAL;
        return errprintf (err, "invalid version %d", version);
    }
    return 0;
}

/* mkdir path with mode exactly (umask aside); an existing one is fine. */
static int mkdir_mode (const char *path, mode_t mode, aios_error_t *err)
{
    if (mkdir (path, mode) < 0) {
        if (errno == EEXIST)
            return 0;
        return errprintf (err, "%s: %s", path, strerror (errno));
    }
    if (chmod (path, mode) < 0)
        return errprintf (err, "%s: %s", path, strerror (errno));
    return 0;
}

/* --- versions and names on disk ------------------------------------------ */

struct ints {
    int *v;
    size_t n, cap;
};

static int ints_push (struct ints *a, int v)
{
    int *p;

    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        if (!(p = realloc (a->v, cap * sizeof (*p))))
            return -1;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = v;
    return 0;
}

static int int_cmp (const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

static bool has_record (const char *vdir)
{
    char *meta = pathf ("%s/meta.json", vdir);
    bool yes = meta && access (meta, F_OK) == 0;

    free (meta);
    return yes;
}

/* The version numbers under ndir, ascending: those with a record, or
 * (claimed) every version directory.  A missing ndir has none. */
static int versions (const char *ndir, bool claimed, struct ints *out,
                     aios_error_t *err)
{
    DIR *d = opendir (ndir);
    struct dirent *e;
    char *vdir;
    int v;

    if (!d)
        return errno == ENOENT || errno == ENOTDIR
                   ? 0 : errprintf (err, "%s: %s", ndir, strerror (errno));
    while ((e = readdir (d))) {
        if (!(v = parse_version (e->d_name)))
            continue;
        if (!(vdir = pathf ("%s/%s", ndir, e->d_name)))
            goto nomem;
        if ((claimed || has_record (vdir)) && ints_push (out, v) < 0) {
            free (vdir);
            goto nomem;
        }
        free (vdir);
    }
    closedir (d);
    if (out->n > 1)
        qsort (out->v, out->n, sizeof (int), int_cmp);
    return 0;
nomem:
    closedir (d);
    return nomem (err);
}

struct strs {
    char **v;
    size_t n, cap;
};

static void strs_free (struct strs *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        free (a->v[i]);
    free (a->v);
}

static int str_cmp (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The names under kdir that have at least one recorded version, sorted. */
static int names (const char *kdir, struct strs *out, aios_error_t *err)
{
    DIR *d = opendir (kdir);
    struct dirent *e;
    struct ints vs = { 0 };
    char *ndir, *s, **p;
    int rc = 0;

    if (!d)
        return errno == ENOENT ? 0 : errprintf (err, "%s: %s", kdir,
                                                strerror (errno));
    while (rc == 0 && (e = readdir (d))) {
        if (!catalog_name_ok (e->d_name))
            continue;
        vs.n = 0;
        if (!(ndir = pathf ("%s/%s", kdir, e->d_name)))
            rc = nomem (err);
        else if ((rc = versions (ndir, false, &vs, err)) == 0 && vs.n > 0) {
            if (out->n == out->cap) {
                size_t cap = out->cap ? 2 * out->cap : 16;
                if ((p = realloc (out->v, cap * sizeof (*p)))) {
                    out->v = p;
                    out->cap = cap;
                }
            }
            if (out->n < out->cap && (s = strdup (e->d_name)))
                out->v[out->n++] = s;
            else
                rc = nomem (err);
        }
        free (ndir);
    }
    closedir (d);
    free (vs.v);
    if (out->n > 1)
        qsort (out->v, out->n, sizeof (char *), str_cmp);
    return rc;
}

/* "no dataset named "x" (the catalog has: a, b)" */
static int unknown_name (const char *kdir, enum catalog_kind kind,
                         const char *name, aios_error_t *err)
{
    struct strs known = { 0 };
    char list[200] = "";
    size_t i, len = 0;

    if (names (kdir, &known, err) < 0)
        return -1;
    if (known.n == 0)
        snprintf (list, sizeof (list), "the catalog has no %ss",
                  catalog_kind_name (kind));
    else if (known.n > FEW)
        snprintf (list, sizeof (list), "the catalog has %zu %ss", known.n,
                  catalog_kind_name (kind));
    else {
        len = snprintf (list, sizeof (list), "the catalog has: ");
        for (i = 0; i < known.n && len < sizeof (list); i++)
            len += snprintf (list + len, sizeof (list) - len, "%s%s",
                             i ? ", " : "", known.v[i]);
    }
    strs_free (&known);
    errno = ENOENT;
    return errprintf (err, "no %s named \"%s\" (%s)", catalog_kind_name (kind),
                      name, list);
}

/* "dataset x has no version 7 (it has 1, 2, 3)" */
static int unknown_version (enum catalog_kind kind, const char *name,
                            int version, const struct ints *vs,
                            aios_error_t *err)
{
    char list[160] = "";
    size_t i, len = 0;

    if (vs->n > FEW)
        snprintf (list, sizeof (list), "%d to %d", vs->v[0], vs->v[vs->n - 1]);
    for (i = 0; vs->n <= FEW && i < vs->n && len < sizeof (list); i++)
        len += snprintf (list + len, sizeof (list) - len, "%s%d",
                         i ? ", " : "", vs->v[i]);
    errno = ENOENT;
    return errprintf (err, "%s %s has no version %d (it has %s)",
                      catalog_kind_name (kind), name, version, list);
}

static json_t *record_load (const char *vdir, aios_error_t *err)
{
    char *meta = pathf ("%s/meta.json", vdir);
    json_error_t jerr;
    json_t *rec;

    if (!meta) {
        nomem (err);
        return NULL;
    }
    if (!(rec = json_load_file (meta, 0, &jerr)) || !json_is_object (rec)) {
        errno = EIO;
        if (rec)
            errprintf (err, "%s: not a JSON object", meta);
        else
            errprintf (err, "%s: %s", meta, jerr.text);
        json_decref (rec);
        rec = NULL;
    }
    free (meta);
    return rec;
}

/* --- lookup and list ----------------------------------------------------- */

/* The record of name:version (0: latest) under kdir. */
static json_t *lookup (const char *kdir, enum catalog_kind kind,
                       const char *name, int version, aios_error_t *err)
{
    struct ints vs = { 0 };
    char *ndir = pathf ("%s/%s", kdir, name), *vdir = NULL;
    json_t *rec = NULL;
    size_t i;

    if (!ndir) {
        nomem (err);
        goto out;
    }
    if (versions (ndir, false, &vs, err) < 0)
        goto out;
    if (vs.n == 0) {
        unknown_name (kdir, kind, name, err);
        goto out;
    }
    for (i = 0; version > 0 && i < vs.n && vs.v[i] != version; i++)
        ;
    if (version > 0 && i == vs.n) {
        unknown_version (kind, name, version, &vs, err);
        goto out;
    }
    if (!(vdir = pathf ("%s/%d", ndir, version > 0 ? version : vs.v[vs.n - 1])))
        nomem (err);
    else
        rec = record_load (vdir, err);
out:
    free (vs.v);
    free (vdir);
    free (ndir);
    return rec;
}

json_t *catalog_lookup (const char *root, enum catalog_kind kind,
                        const char *name, int version, aios_error_t *err)
{
    char *kdir;
    json_t *rec;

    if (args_check (root, name, version, err) < 0)
        return NULL;
    if (!(kdir = pathf ("%s/%s", root, kind_dir (kind)))) {
        nomem (err);
        return NULL;
    }
    rec = lookup (kdir, kind, name, version, err);
    free (kdir);
    return rec;
}

/* Append every recorded version of name (skipping unreadable records). */
static int list_name (const char *kdir, const char *name, json_t *out,
                      aios_error_t *err)
{
    struct ints vs = { 0 };
    char *ndir = pathf ("%s/%s", kdir, name), *vdir;
    json_t *rec;
    size_t i;
    int rc = -1;

    if (!ndir || versions (ndir, false, &vs, err) < 0)
        goto out;
    for (i = 0; i < vs.n; i++) {
        if (!(vdir = pathf ("%s/%d", ndir, vs.v[i])))
            goto out;
        rec = record_load (vdir, NULL);
        free (vdir);
        if (rec && json_array_append_new (out, rec) < 0)
            goto out;
    }
    rc = 0;
out:
    if (rc < 0 && errno == ENOMEM)
        nomem (err);
    free (vs.v);
    free (ndir);
    return rc;
}

json_t *catalog_list (const char *root, enum catalog_kind kind,
                      const char *name, aios_error_t *err)
{
    struct strs all = { 0 };
    struct ints vs = { 0 };
    char *kdir = NULL, *ndir = NULL;
    json_t *out = NULL;
    size_t i;

    if (root_check (root, err) < 0)
        return NULL;
    if (name && !catalog_name_ok (name)) {
        bad_name (name, err);
        return NULL;
    }
    if (!(kdir = pathf ("%s/%s", root, kind_dir (kind))) || !(out = json_array ())) {
        nomem (err);
        goto error;
    }
    if (name) {
        if (!(ndir = pathf ("%s/%s", kdir, name)) || versions (ndir, false, &vs, err) < 0)
            goto error;
        if (vs.n == 0) {
            unknown_name (kdir, kind, name, err);
            goto error;
        }
        if (list_name (kdir, name, out, err) < 0)
            goto error;
    }
    else {
        if (names (kdir, &all, err) < 0)
            goto error;
        for (i = 0; i < all.n; i++)
            if (list_name (kdir, all.v[i], out, err) < 0)
                goto error;
    }
    goto done;
error:
    json_decref (out);
    out = NULL;
done:
    strs_free (&all);
    free (vs.v);
    free (ndir);
    free (kdir);
    return out;
}

/* --- import -------------------------------------------------------------- */

struct import {
    const char *root, *file, *name;
    enum catalog_kind kind;
    uid_t uid;
    char *absroot, *ndir, *vdir, *data, *sums, *meta, *tmp;
    int version;
    char sha[65];
    uint64_t size;
    struct h5data_blocks blocks;
    aios_error_t *err;
};

/* Create ROOT/KINDs/NAME (1777) and claim the next version directory. */
static int import_claim (struct import *im)
{
    struct ints vs = { 0 };
    char *kdir = pathf ("%s/%s", im->absroot, kind_dir (im->kind));
    int tries, rc = -1;

    if (!kdir || !(im->ndir = pathf ("%s/%s", kdir, im->name))) {
        nomem (im->err);
        goto out;
    }
    if (mkdir_mode (kdir, 01777, im->err) < 0
        || mkdir_mode (im->ndir, 01777, im->err) < 0
        || versions (im->ndir, true, &vs, im->err) < 0)
        goto out;
    im->version = vs.n ? vs.v[vs.n - 1] + 1 : 1;
    for (tries = 0; tries < CLAIM_TRIES; tries++, im->version++) {
        free (im->vdir);
        if (!(im->vdir = pathf ("%s/%d", im->ndir, im->version))) {
            nomem (im->err);
            goto out;
        }
        if (mkdir (im->vdir, 0755) == 0) {
            rc = chmod (im->vdir, 0755) < 0
                     ? errprintf (im->err, "%s: %s", im->vdir, strerror (errno))
                     : 0;
            goto out;
        }
        if (errno != EEXIST) {
            errprintf (im->err, "%s: %s", im->vdir, strerror (errno));
            goto out;
        }
    }
    errprintf (im->err, "%s: cannot claim a version", im->ndir);
out:
    if (rc < 0) {
        free (im->vdir);
        im->vdir = NULL;
    }
    free (vs.v);
    free (kdir);
    return rc;
}

static int sync_file (const char *path, aios_error_t *err)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fsync (fd) < 0) {
        errprintf (err, "%s: %s", path, strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    return close (fd);
}

/* The data: a byte copy (with the attributes set on it), read-only and on
 * disk, then read once for its SHA-256 and its block checksums. */
static int import_data (struct import *im, json_t *attrs)
{
    struct stat st;

    if (!(im->data = pathf ("%s/%s.h5", im->vdir, im->name)))
        return nomem (im->err);
    if (h5data_copy (im->file, im->data, 0, 0, NULL, NULL, NULL, NULL,
                     im->err) < 0
        || (attrs && h5data_set_attrs (im->data, attrs, im->err) < 0))
        return -1;
    /* the whole file's SHA-256 and its blocks' in one read */
    if (h5data_block_sums (im->data, CATALOG_BLOCK_BYTES, &im->blocks, im->sha,
                           NULL, NULL, im->err) < 0)
        return -1;
    if (stat (im->data, &st) < 0)
        return errprintf (im->err, "%s: %s", im->data, strerror (errno));
    im->size = (uint64_t)st.st_size;
    if (chmod (im->data, 0444) < 0)
        return errprintf (im->err, "%s: %s", im->data, strerror (errno));
    return sync_file (im->data, im->err);
}

/* The block checksums beside the data: vdir/blocks.sha256, the 32-byte
 * digests one after the other (1 MiB blocks: 32 KiB per GiB, where hex in
 * meta.json would make every record of a large dataset megabytes long).
 * The record says "blocks": {"size", "count", "file", "sha256" (of that
 * file)}. */
static int record_blocks_add (json_t *rec, struct import *im)
{
    const struct h5data_blocks *b = &im->blocks;
    bool bad;
    char hex[65];
    FILE *f;

    if (!(im->sums = pathf ("%s/%s", im->vdir, BLOCKS_FILE)))
        return nomem (im->err);
    if (!(f = fopen (im->sums, "wxe")))
        return errprintf (im->err, "%s: %s", im->sums, strerror (errno));
    bad = (b->n > 0 && fwrite (b->sha256, 32, b->n, f) != b->n)
          || fflush (f) != 0 || fsync (fileno (f)) < 0;
    if (fclose (f) != 0 || bad || chmod (im->sums, 0444) < 0)
        return errprintf (im->err, "%s: %s", im->sums,
                          strerror (errno ? errno : EIO));
    if (h5data_sha256_buf (b->sha256, b->n * 32, hex, im->err) < 0)
        return -1;
    if (json_object_set_new (rec, "blocks",
                             json_pack ("{s:I s:I s:s s:s}", "size",
                                        (json_int_t)b->size, "count",
                                        (json_int_t)b->n, "file", BLOCKS_FILE,
                                        "sha256", hex)) < 0)
        return nomem (im->err);
    return 0;
}

/* The block checksums file of rec, read and checked against rec. */
static int blocks_load (json_t *rec, json_t *o, struct h5data_blocks *b,
                        aios_error_t *err)
{
    const char *file = json_string_value (json_object_get (rec, "file"));
    const char *name = json_string_value (json_object_get (o, "file"));
    const char *want = json_string_value (json_object_get (o, "sha256"));
    json_int_t count = json_integer_value (json_object_get (o, "count"));
    const char *slash = file ? strrchr (file, '/') : NULL;
    char *path = NULL, hex[65];
    struct stat st;
    FILE *f = NULL;
    int rc = -1;

    if (!slash || !name || strchr (name, '/') || !want || count < 0) {
        errno = EIO;
        return errprintf (err, "malformed blocks in the record");
    }
    if (!(path = pathf ("%.*s/%s", (int)(slash - file), file, name)))
        return nomem (err);
    if (!(f = fopen (path, "re")) || fstat (fileno (f), &st) < 0) {
        errprintf (err, "%s: %s", path, strerror (errno));
        goto out;
    }
    if ((uint64_t)st.st_size != (uint64_t)count * 32) {
        errno = EIO;
        errprintf (err, "%s: %jd bytes for %jd checksums", path,
                   (intmax_t)st.st_size, (intmax_t)count);
        goto out;
    }
    b->n = (size_t)count;
    if (b->n > 0 && (!(b->sha256 = malloc (b->n * 32))
                     || fread (b->sha256, 32, b->n, f) != b->n)) {
        errno = b->sha256 ? EIO : ENOMEM;
        errprintf (err, "%s: %s", path, b->sha256 ? "short read"
                                                  : "out of memory");
        goto out;
    }
    if (h5data_sha256_buf (b->sha256, b->n * 32, hex, err) < 0)
        goto out;
    if (strcasecmp (hex, want) != 0) {
        errno = EIO;
        errprintf (err, "%s: sha256 mismatch: the record says %.12s..., "
                   "file is %.12s...", path, want, hex);
        goto out;
    }
    rc = 1;
out:
    if (f)
        fclose (f);
    free (path);
    return rc;
}

int catalog_blocks (json_t *rec, struct h5data_blocks *b, aios_error_t *err)
{
    json_t *o = json_object_get (rec, "blocks");
    json_int_t size = json_integer_value (json_object_get (o, "size"));
    int rc;

    memset (b, 0, sizeof (*b));
    if (!o)
        return 0;
    if (size <= 0) {
        errno = EIO;
        return errprintf (err, "malformed blocks in the record");
    }
    if ((rc = blocks_load (rec, o, b, err)) < 0) {
        free (b->sha256);
        memset (b, 0, sizeof (*b));
        return -1;
    }
    b->size = (uint64_t)size;
    return rc;
}

json_t *catalog_record_of (const char *file, aios_error_t *err)
{
    const char *slash = file ? strrchr (file, '/') : NULL;
    json_t *rec;
    char *vdir;

    if (!slash) {
        errno = EINVAL;
        errprintf (err, "%s: not a catalog file", file ? file : "(null)");
        return NULL;
    }
    if (!(vdir = strndup (file, (size_t)(slash - file)))) {
        nomem (err);
        return NULL;
    }
    rec = record_load (vdir, err);
    free (vdir);
    return rec;
}

static json_t *import_record (struct import *im, json_t *provenance)
{
    struct passwd *pw = getpwuid (im->uid);
    char uidbuf[32], *source = realpath (im->file, NULL);
    json_t *contents, *rec;

    snprintf (uidbuf, sizeof (uidbuf), "%u", (unsigned)im->uid);
    if (!(contents = h5data_describe (im->data, im->err))) {
        free (source);
        return NULL;
    }
    rec = json_pack ("{s:s s:s s:i s:s s:s s:I s:I s:s s:I s:s s:o}",
                     "kind", catalog_kind_name (im->kind), "name", im->name,
                     "version", im->version, "file", im->data,
                     "sha256", im->sha, "size", (json_int_t)im->size,
                     "created", (json_int_t)time (NULL),
                     "owner", pw ? pw->pw_name : uidbuf,
                     "uid", (json_int_t)im->uid,
                     "source", source ? source : im->file,
                     "contents", contents);
    free (source);
    if (rec && record_blocks_add (rec, im) < 0) {
        json_decref (rec);
        return NULL;
    }
    if (rec && provenance
        && json_object_set (rec, "provenance", provenance) < 0) {
        json_decref (rec);
        rec = NULL;
    }
    if (!rec)
        nomem (im->err);
    return rec;
}

/* Give the version to uid when that is not who runs this (root storing a
 * job's model for its user). */
static int import_chown (struct import *im)
{
    struct passwd *pw;
    gid_t gid;

    if (im->uid == geteuid ())
        return 0;
    pw = getpwuid (im->uid);
    gid = pw ? pw->pw_gid : (gid_t)-1;
    if (chown (im->data, im->uid, gid) < 0 || chown (im->sums, im->uid, gid) < 0
        || chown (im->tmp, im->uid, gid) < 0
        || chown (im->vdir, im->uid, gid) < 0)
        return errprintf (im->err, "%s: cannot give it to uid %u: %s",
                          im->vdir, (unsigned)im->uid, strerror (errno));
    return 0;
}

/* Write meta.json.tmp, then rename it to meta.json: the version appears. */
static int import_publish (struct import *im, json_t *rec)
{
    FILE *f;
    int fd;

    if (!(im->meta = pathf ("%s/meta.json", im->vdir))
        || !(im->tmp = pathf ("%s/meta.json.tmp", im->vdir)))
        return nomem (im->err);
    if ((fd = open (im->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0
        || !(f = fdopen (fd, "w"))) {
        errprintf (im->err, "%s: %s", im->tmp, strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    if (json_dumpf (rec, f, JSON_INDENT (2) | JSON_PRESERVE_ORDER) < 0
        || fputc ('\n', f) == EOF || fflush (f) != 0 || fsync (fileno (f)) < 0) {
        errprintf (im->err, "%s: %s", im->tmp, strerror (errno ? errno : EIO));
        fclose (f);
        return -1;
    }
    if (fclose (f) != 0)
        return errprintf (im->err, "%s: %s", im->tmp, strerror (errno));
    if (fchmodat (AT_FDCWD, im->tmp, 0444, 0) < 0 || import_chown (im) < 0)
        return -1;
    if (rename (im->tmp, im->meta) < 0)
        return errprintf (im->err, "%s: %s", im->meta, strerror (errno));
    return 0;
}

/* Take back a failed import: its files and its version directory. */
static void import_undo (struct import *im)
{
    int saved = errno;
    char *part;

    if (im->vdir) {
        if (im->data && (part = pathf ("%s.part", im->data))) {
            unlink (part);
            free (part);
        }
        if (im->data)
            unlink (im->data);
        if (im->sums)
            unlink (im->sums);
        if (im->tmp)
            unlink (im->tmp);
        if (im->meta)
            unlink (im->meta);
        rmdir (im->vdir);
    }
    errno = saved;
}

static void import_free (struct import *im)
{
    free (im->absroot);
    free (im->ndir);
    free (im->vdir);
    free (im->data);
    free (im->blocks.sha256);
    free (im->sums);
    free (im->meta);
    free (im->tmp);
}

json_t *catalog_import_as (const char *root, enum catalog_kind kind,
                           const char *file, const char *name, json_t *attrs,
                           json_t *provenance, uid_t uid, aios_error_t *err)
{
    struct import im = { .root = root, .file = file, .name = name,
                         .kind = kind, .uid = uid, .err = err };
    json_t *rec = NULL;

    if (args_check (root, name, 0, err) < 0)
        return NULL;
    if (!file) {
        errno = EINVAL;
        errprintf (err, "no file given");
        return NULL;
    }
    if (h5data_check (file, err) < 0)
        return NULL;
    if (!(im.absroot = realpath (root, NULL))) {
        errprintf (err, "catalog %s: %s", root, strerror (errno));
        return NULL;
    }
    if (import_claim (&im) < 0 || import_data (&im, attrs) < 0
        || !(rec = import_record (&im, provenance))
        || import_publish (&im, rec) < 0) {
        json_decref (rec);
        rec = NULL;
        import_undo (&im);
    }
    import_free (&im);
    return rec;
}

json_t *catalog_import (const char *root, enum catalog_kind kind,
                        const char *file, const char *name, json_t *attrs,
                        json_t *provenance, aios_error_t *err)
{
    return catalog_import_as (root, kind, file, name, attrs, provenance,
                              geteuid (), err);
}

/* --- verify and remove --------------------------------------------------- */

/* got (the file's block sums) against b (the record's). */
static int blocks_same (const char *file, const struct h5data_blocks *got,
                        const struct h5data_blocks *b, aios_error_t *err)
{
    char want_hex[65], got_hex[65];
    size_t i;

    errno = EIO;
    if (got->n != b->n)
        return errprintf (err, "%s: %zu blocks of %ju, the record has %zu",
                          file, got->n, (uintmax_t)b->size, b->n);
    for (i = 0; i < b->n; i++)
        if (memcmp (got->sha256[i], b->sha256[i], 32) != 0) {
            h5data_hex_digest (b->sha256[i], want_hex);
            h5data_hex_digest (got->sha256[i], got_hex);
            return errprintf (err, "%s: sha256 mismatch in block %zu: "
                              "catalog says %.12s..., file is %.12s...", file,
                              i, want_hex, got_hex);
        }
    return 0;
}

/* file's SHA-256 into hex (a mismatch with want is the caller's to
 * report) and, when it matches, its blocks checked against b: one read. */
static int block_verify (const char *file, const struct h5data_blocks *b,
                         const char *want, char hex[65], aios_error_t *err)
{
    struct h5data_blocks got;
    int rc = 0;

    if (h5data_block_sums (file, b->size, &got, hex, NULL, NULL, err) < 0)
        return -1;
    if (strcmp (hex, want) == 0)
        rc = blocks_same (file, &got, b, err);
    free (got.sha256);
    return rc;
}

static int verify_record (json_t *rec, enum catalog_kind kind,
                          aios_error_t *err)
{
    const char *file = json_string_value (json_object_get (rec, "file"));
    const char *want = json_string_value (json_object_get (rec, "sha256"));
    const char *name = json_string_value (json_object_get (rec, "name"));
    int v = (int)json_integer_value (json_object_get (rec, "version"));
    struct h5data_blocks b;
    char label[128], hex[65];
    int rc;

    snprintf (label, sizeof (label), "%s %s:%d", catalog_kind_name (kind),
              name ? name : "?", v);
    if (!file || !want) {
        errno = EIO;
        return errprintf (err, "%s: the record has no file or sha256", label);
    }
    if (catalog_blocks (rec, &b, err) < 0)
        return errprefix (err, "%s", label);
    /* the whole file's sum, and its blocks' when it has them, in one read */
    rc = b.n > 0 ? block_verify (file, &b, want, hex, err)
                 : h5data_sha256 (file, hex, NULL, NULL, err);
    free (b.sha256);
    if (rc < 0)
        return errprefix (err, "%s", label);
    if (strcmp (hex, want)) {
        errno = EIO;
        return errprintf (err, "%s: sha256 mismatch: catalog says %s, file is "
                          "%s", label, want, hex);
    }
    if (h5data_check (file, err) < 0)
        return errprefix (err, "%s", label);
    return 0;
}

int catalog_verify (const char *root, enum catalog_kind kind,
                    const char *name, int version, aios_error_t *err)
{
    json_t *rec = catalog_lookup (root, kind, name, version, err);
    int rc;

    if (!rec)
        return -1;
    rc = verify_record (rec, kind, err);
    json_decref (rec);
    return rc;
}

/* May the caller remove rec?  Its owner and root may. */
static int may_remove (json_t *rec, enum catalog_kind kind, aios_error_t *err)
{
    json_int_t uid = json_integer_value (json_object_get (rec, "uid"));
    const char *name = json_string_value (json_object_get (rec, "name"));
    const char *owner = json_string_value (json_object_get (rec, "owner"));
    uid_t me = geteuid ();

    if (me == 0 || (json_int_t)me == uid)
        return 0;
    errno = EPERM;
    return errprintf (err, "cannot remove %s %s:%d: it belongs to %s (uid "
                      "%lld); only its owner or root may remove it",
                      catalog_kind_name (kind), name ? name : "?",
                      (int)json_integer_value (json_object_get (rec, "version")),
                      owner ? owner : "?", (long long)uid);
}

/* meta.json first (the version disappears), then the rest, then the dir. */
static int remove_version (const char *ndir, int version, aios_error_t *err)
{
    char *vdir = pathf ("%s/%d", ndir, version), *p;
    struct dirent *e;
    DIR *d;
    int rc = -1;

    if (!vdir)
        return nomem (err);
    if (!(p = pathf ("%s/meta.json", vdir)) || unlink (p) < 0) {
        errprintf (err, "%s: %s", p ? p : vdir, strerror (errno));
        free (p);
        goto out;
    }
    free (p);
    if ((d = opendir (vdir))) {
        while ((e = readdir (d))) {
            if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")
                && (p = pathf ("%s/%s", vdir, e->d_name))) {
                unlink (p);
                free (p);
            }
        }
        closedir (d);
    }
    if (rmdir (vdir) < 0)
        errprintf (err, "%s: %s", vdir, strerror (errno));
    else
        rc = 0;
out:
    free (vdir);
    return rc;
}

int catalog_remove (const char *root, enum catalog_kind kind,
                    const char *name, int version, aios_error_t *err)
{
    json_t *recs, *rec;
    char *ndir;
    size_t i;
    int rc = 0;

    if (args_check (root, name, version, err) < 0)
        return -1;
    if (version > 0) {
        if (!(rec = catalog_lookup (root, kind, name, version, err)))
            return -1;
        if (!(recs = json_pack ("[o]", rec)))
            return nomem (err);
    }
    else if (!(recs = catalog_list (root, kind, name, err)))
        return -1;
    json_array_foreach (recs, i, rec) {
        if ((rc = may_remove (rec, kind, err)) < 0)
            break;
    }
    if (!(ndir = pathf ("%s/%s/%s", root, kind_dir (kind), name)))
        rc = nomem (err);
    json_array_foreach (recs, i, rec) {
        if (rc < 0)
            break;
        rc = remove_version (ndir, (int)json_integer_value (
                                       json_object_get (rec, "version")), err);
    }
    if (ndir && rc == 0)
        (void)rmdir (ndir); /* when empty, and ours (the dir is sticky) */
    free (ndir);
    json_decref (recs);
    return rc;
}
