/* cache.c - the node's dataset cache: an index of copies, LRU eviction */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cache.h"
#include "catalog.h"
#include "daemon.h"

struct entry {
    char *key;
    uint64_t bytes;
    uint64_t tick;              /* order of last use: smaller is older */
    enum cache_state state;
    uint64_t *pins;
    size_t npins;
};

struct cache {
    char *dir;                  /* NULL: no files */
    uint64_t limit;
    uint64_t tick;
    struct entry **v;
    size_t n, cap;
    struct cache_stats st;
};

/* --- keys and paths ------------------------------------------------------- */

int cache_key (const char *name, int version, int index, int count,
               char *buf, size_t len)
{
    int n;

    if (!name || !catalog_name_ok (name) || version < 1 || count < 0
        || (count > 0 && (index < 0 || index >= count))) {
        errno = EINVAL;
        return -1;
    }
    if (count == 0)
        n = snprintf (buf, len, "%s:%d", name, version);
    else
        n = snprintf (buf, len, "%s:%d/%d-of-%d", name, version, index, count);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* key -> "NAME/VERSION" and "whole.h5" or "shard-I-of-N.h5". */
static int key_split (const char *key, char *dir, size_t dlen, char *file,
                      size_t flen)
{
    char name[80];
    const char *colon = strchr (key, ':');
    int version, index, count, used = 0;
    size_t nlen = colon ? (size_t)(colon - key) : 0;

    if (!colon || nlen == 0 || nlen >= sizeof (name))
        goto bad;
    memcpy (name, key, nlen);
    name[nlen] = '\0';
    if (!catalog_name_ok (name) || !isdigit ((unsigned char)colon[1]))
        goto bad;
    if (sscanf (colon + 1, "%d%n", &version, &used) != 1 || version < 1)
        goto bad;
    if (colon[1 + used] == '\0') {
        snprintf (file, flen, "whole.h5");
    } else {
        int used2 = 0;
        if (sscanf (colon + 1 + used, "/%d-of-%d%n", &index, &count, &used2) != 2
            || colon[1 + used + used2] != '\0' || count < 1 || index < 0
            || index >= count)
            goto bad;
        snprintf (file, flen, "shard-%d-of-%d.h5", index, count);
    }
    snprintf (dir, dlen, "%s/%d", name, version);
    return 0;
bad:
    errno = EINVAL;
    return -1;
}

int cache_path (const struct cache *c, const char *key, char *buf, size_t len)
{
    char dir[128], file[64];
    int n;

    if (key_split (key, dir, sizeof (dir), file, sizeof (file)) < 0)
        return -1;
    n = snprintf (buf, len, "%s%s%s/%s", c->dir ? c->dir : "", c->dir ? "/" : "",
                  dir, file);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

const char *cache_human (uint64_t bytes, char *buf, size_t len)
{
    static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
    double v = (double)bytes;
    int u = -1;

    if (bytes < 1024) {
        snprintf (buf, len, "%" PRIu64 " bytes", bytes);
        return buf;
    }
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (v - (double)(uint64_t)v < 0.05)
        snprintf (buf, len, "%.0f %s", v, units[u]);
    else
        snprintf (buf, len, "%.1f %s", v, units[u]);
    return buf;
}

/* --- the index ------------------------------------------------------------ */

static struct entry *find (const struct cache *c, const char *key, size_t *at)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        if (!strcmp (c->v[i]->key, key)) {
            if (at)
                *at = i;
            return c->v[i];
        }
    return NULL;
}

static struct entry *add (struct cache *c, const char *key, uint64_t bytes,
                          enum cache_state state)
{
    struct entry *e;

    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct entry **v = realloc (c->v, cap * sizeof (*v));
        if (!v)
            return NULL;
        c->v = v;
        c->cap = cap;
    }
    if (!(e = calloc (1, sizeof (*e))) || !(e->key = strdup (key))) {
        free (e);
        errno = ENOMEM;
        return NULL;
    }
    e->bytes = bytes;
    e->state = state;
    e->tick = ++c->tick;
    c->v[c->n++] = e;
    c->st.used_bytes += bytes;
    return e;
}

static void entry_free (struct entry *e)
{
    if (e) {
        free (e->pins);
        free (e->key);
        free (e);
    }
}

static void drop (struct cache *c, size_t at)
{
    struct entry *e = c->v[at];

    c->st.used_bytes -= e->bytes;
    c->v[at] = c->v[--c->n];
    entry_free (e);
}

static bool pinned (const struct entry *e)
{
    return e->npins > 0 || e->state == CACHE_PENDING;
}

static void touch (struct cache *c, struct entry *e)
{
    char path[4096];

    e->tick = ++c->tick;
    if (c->dir && cache_path (c, e->key, path, sizeof (path)) == 0)
        utimensat (AT_FDCWD, path, NULL, 0);
}

/* The length of key's "NAME:VERSION" (level 0) or "NAME:" (level 1). */
static size_t key_prefix (const char *key, int level)
{
    const char *colon = strchr (key, ':');

    if (!colon)
        return 0;
    if (level == 1)
        return (size_t)(colon - key) + 1;
    return (size_t)(colon - key) + 1 + strspn (colon + 1, "0123456789");
}

/* Does an entry other than key lie in key's version (0) or name (1)
 * directory? */
static bool dir_shared (const struct cache *c, const char *key, int level)
{
    size_t n = key_prefix (key, level), i;

    for (i = 0; i < c->n; i++) {
        const char *k = c->v[i]->key;
        if (strcmp (k, key) != 0 && key_prefix (k, level) == n
            && !strncmp (k, key, n))
            return true;
    }
    return false;
}

/* Remove key's copy and the directories it leaves empty (those of no
 * other entry: a copy may be about to begin there). */
static void remove_files (struct cache *c, const char *key, bool file)
{
    char path[4096], *slash;
    int level;

    if (!c->dir || cache_path (c, key, path, sizeof (path)) < 0)
        return;
    if (file)
        unlink (path);
    for (level = 0; level < 2 && (slash = strrchr (path, '/')); level++) {
        *slash = '\0';
        if (dir_shared (c, key, level) || rmdir (path) < 0)
            break;
    }
}

enum cache_state cache_state (const struct cache *c, const char *key)
{
    struct entry *e = c && key ? find (c, key, NULL) : NULL;

    return e ? e->state : CACHE_ABSENT;
}

static int pin (struct entry *e, uint64_t owner)
{
    uint64_t *p;
    size_t i;

    if (owner == 0)
        return 0;
    for (i = 0; i < e->npins; i++)
        if (e->pins[i] == owner)
            return 0;
    if (!(p = realloc (e->pins, (e->npins + 1) * sizeof (*p)))) {
        errno = ENOMEM;
        return -1;
    }
    e->pins = p;
    e->pins[e->npins++] = owner;
    return 0;
}

int cache_use (struct cache *c, const char *key, uint64_t owner)
{
    struct entry *e = c && key ? find (c, key, NULL) : NULL;

    if (!e || e->state != CACHE_READY) {
        errno = ENOENT;
        return -1;
    }
    if (pin (e, owner) < 0)
        return -1;
    touch (c, e);
    c->st.hits++;
    return 0;
}

void cache_forget (struct cache *c, const char *key)
{
    size_t at;
    struct entry *e = c && key ? find (c, key, &at) : NULL;

    if (e && e->state == CACHE_READY)
        drop (c, at);
}

void cache_unpin (struct cache *c, uint64_t owner)
{
    size_t i, k;

    for (i = 0; c && owner && i < c->n; i++) {
        struct entry *e = c->v[i];
        for (k = 0; k < e->npins; k++)
            if (e->pins[k] == owner) {
                e->pins[k] = e->pins[--e->npins];
                break;
            }
    }
}

static uint64_t pinned_bytes (const struct cache *c)
{
    uint64_t sum = 0;
    size_t i;

    for (i = 0; i < c->n; i++)
        if (pinned (c->v[i]))
            sum += c->v[i]->bytes;
    return sum;
}

/* The least recently used evictable entry, or -1. */
static ssize_t lru (const struct cache *c)
{
    ssize_t best = -1;
    size_t i;

    for (i = 0; i < c->n; i++)
        if (!pinned (c->v[i])
            && (best < 0 || c->v[i]->tick < c->v[best]->tick))
            best = (ssize_t)i;
    return best;
}

/* Evict until used + bytes <= limit or nothing evictable is left. */
static void evict (struct cache *c, uint64_t bytes)
{
    ssize_t at;

    while (c->st.used_bytes + bytes > c->limit && (at = lru (c)) >= 0) {
        remove_files (c, c->v[at]->key, true);
        drop (c, (size_t)at);
        c->st.evictions++;
    }
}

int cache_make_room (struct cache *c, uint64_t bytes, aios_error_t *err)
{
    uint64_t busy;
    char a[32], b[32], d[32];

    if (!c) {
        errno = EINVAL;
        return errprintf (err, "no node cache");
    }
    busy = pinned_bytes (c);
    if (bytes > c->limit || busy > c->limit - bytes) {
        errno = ENOSPC;
        return errprintf (err, "no room in the node cache: needs %s, "
                          "cache_bytes is %s and %s %s in use by running jobs",
                          cache_human (bytes, a, sizeof (a)),
                          cache_human (c->limit, b, sizeof (b)),
                          cache_human (busy, d, sizeof (d)),
                          busy == 1 ? "is" : "are");
    }
    evict (c, bytes);
    return 0;
}

int cache_reserve (struct cache *c, const char *key, uint64_t bytes)
{
    char dir[128], file[64];

    if (!c || !key || key_split (key, dir, sizeof (dir), file, sizeof (file)) < 0) {
        errno = EINVAL;
        return -1;
    }
    if (find (c, key, NULL)) {
        errno = EEXIST;
        return -1;
    }
    if (!add (c, key, bytes, CACHE_PENDING))
        return -1;
    c->st.misses++;
    return 0;
}

int cache_commit (struct cache *c, const char *key, uint64_t bytes,
                  uint64_t owner)
{
    struct entry *e = c && key ? find (c, key, NULL) : NULL;

    if (!e || e->state != CACHE_PENDING) {
        errno = ENOENT;
        return -1;
    }
    c->st.used_bytes = c->st.used_bytes - e->bytes + bytes;
    e->bytes = bytes;
    e->state = CACHE_READY;
    c->st.copied_bytes += bytes;
    touch (c, e);
    if (pin (e, owner) < 0)
        return -1;
    evict (c, 0); /* the estimate was short: make up for it if we can */
    return 0;
}

void cache_abort (struct cache *c, const char *key)
{
    size_t at;
    struct entry *e = c && key ? find (c, key, &at) : NULL;

    if (e && e->state == CACHE_PENDING) {
        remove_files (c, key, false);
        drop (c, at);
    }
}

json_t *cache_keys (const struct cache *c)
{
    json_t *a = json_array ();
    size_t i;

    for (i = 0; a && c && i < c->n; i++)
        if (c->v[i]->state == CACHE_READY
            && json_array_append_new (a, json_string (c->v[i]->key)) < 0) {
            json_decref (a);
            return NULL;
        }
    return a;
}

void cache_get_stats (const struct cache *c, struct cache_stats *st)
{
    memset (st, 0, sizeof (*st));
    if (!c)
        return;
    *st = c->st;
    st->pinned_bytes = pinned_bytes (c);
    st->limit_bytes = c->limit;
    st->entries = c->n;
}

/* --- the scan at start ---------------------------------------------------- */

struct found {
    struct entry *e;
    struct timespec mtime;
};

static int found_cmp (const void *a, const void *b)
{
    const struct timespec *x = &((const struct found *)a)->mtime;
    const struct timespec *y = &((const struct found *)b)->mtime;

    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? -1 : 1;
    return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

static bool ends_with (const char *s, const char *suffix)
{
    size_t n = strlen (s), m = strlen (suffix);

    return n >= m && !strcmp (s + n - m, suffix);
}

/* DIR/NAME/VERSION/FILE: an entry, a leftover to remove, or ignored. */
static void scan_file (struct cache *c, const char *name, const char *version,
                       const char *file, int dfd)
{
    char key[256];
    struct stat st;
    int index, count, used = 0;

    if (ends_with (file, ".part")) {
        unlinkat (dfd, file, 0);
        return;
    }
    if (fstatat (dfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
        return;
    if (!strcmp (file, "whole.h5"))
        snprintf (key, sizeof (key), "%s:%s", name, version);
    else if (sscanf (file, "shard-%d-of-%d.h5%n", &index, &count, &used) == 2
             && file[used] == '\0' && count > 0 && index >= 0 && index < count)
        snprintf (key, sizeof (key), "%s:%s/%d-of-%d", name, version, index,
                  count);
    else
        return;
    if (!find (c, key, NULL))
        add (c, key, (uint64_t)st.st_size, CACHE_READY); /* ordered below */
}

static void scan_version (struct cache *c, const char *name, int ndfd,
                          const char *version)
{
    struct dirent *d;
    DIR *dir;
    int fd;

    if ((fd = openat (ndfd, version, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0)
        return;
    if (!(dir = fdopendir (fd))) {
        close (fd);
        return;
    }
    while ((d = readdir (dir)))
        if (d->d_name[0] != '.')
            scan_file (c, name, version, d->d_name, dirfd (dir));
    closedir (dir);
}

static void scan_name (struct cache *c, int cfd, const char *name)
{
    struct dirent *d;
    DIR *dir;
    int fd;

    if (!catalog_name_ok (name)
        || (fd = openat (cfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0)
        return;
    if (!(dir = fdopendir (fd))) {
        close (fd);
        return;
    }
    while ((d = readdir (dir)))
        if (d->d_name[0] >= '1' && d->d_name[0] <= '9'
            && strspn (d->d_name, "0123456789") == strlen (d->d_name))
            scan_version (c, name, dirfd (dir), d->d_name);
    closedir (dir);
}

/* Recency from the files' mtimes: ticks in that order. */
static int order_by_mtime (struct cache *c)
{
    struct found *f;
    char path[4096];
    struct stat st;
    size_t i;

    if (c->n == 0)
        return 0;
    if (!(f = calloc (c->n, sizeof (*f)))) {
        errno = ENOMEM;
        return -1;
    }
    for (i = 0; i < c->n; i++) {
        f[i].e = c->v[i];
        if (cache_path (c, c->v[i]->key, path, sizeof (path)) == 0
            && lstat (path, &st) == 0)
            f[i].mtime = st.st_mtim;
    }
    qsort (f, c->n, sizeof (*f), found_cmp);
    for (i = 0; i < c->n; i++)
        f[i].e->tick = ++c->tick;
    free (f);
    return 0;
}

static int scan (struct cache *c, aios_error_t *err)
{
    struct dirent *d;
    DIR *dir;

    if (mkdir_p (c->dir, 0755, err) < 0)
        return -1;
    if (!(dir = opendir (c->dir)))
        return errprintf (err, "%s: %s", c->dir, strerror (errno));
    while ((d = readdir (dir)))
        if (d->d_name[0] != '.')
            scan_name (c, dirfd (dir), d->d_name);
    closedir (dir);
    if (order_by_mtime (c) < 0)
        return errprintf (err, "out of memory");
    return 0;
}

struct cache *cache_create (const char *dir, uint64_t limit, aios_error_t *err)
{
    struct cache *c = calloc (1, sizeof (*c));

    if (!c || (dir && !(c->dir = strdup (dir)))) {
        errno = ENOMEM;
        errprintf (err, "out of memory");
        goto error;
    }
    c->limit = limit;
    if (c->dir && scan (c, err) < 0)
        goto error;
    evict (c, 0); /* cache_bytes may have shrunk since */
    return c;
error:
    cache_destroy (c);
    return NULL;
}

void cache_destroy (struct cache *c)
{
    int saved = errno;
    size_t i;

    if (c) {
        for (i = 0; i < c->n; i++)
            entry_free (c->v[i]);
        free (c->v);
        free (c->dir);
        free (c);
    }
    errno = saved;
}
