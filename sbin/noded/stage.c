/* stage.c - datasets into the node cache, job scratch, stage-out
 *
 * Under SCRATCH (staging.scratch, "%n" = this node):
 *   SCRATCH/cache/...     the node cache (cache.c)
 *   SCRATCH/jobs/ID       a job's scratch directory (its owner's, 0700)
 *
 * controller -> node:
 *   {"op":"stage","id","attempt","uid","gid","index","count","datasets":[{
 *    "name","version","file","sha256","size","shard"}]}
 *       -> {"op":"stage_progress","id","attempt","done","total"}
 *                                                   (at most every 0.5 s)
 *       -> {"op":"staged","id","attempt","ok":true,"paths":{NAME:PATH},
 *           "scratch","hits","misses","evictions","copied_bytes","keys"}
 *        | {"op":"staged","id","attempt","ok":false,"reason","keys"}
 *   ("attempt" is the job's run: a request for another run of the same job
 *   replaces what was staged for the last one.)
 *   {"op":"prefetch","index","count","datasets":[...]}
 *       -> {"op":"cached","keys"}           (nothing on failure: logged)
 *   release (listener_release, then stage_release): the job's pins go, a
 *   copy for it is killed and its partial files removed, its scratch
 *   directory is removed.
 *   The jobs a node holds staged data or a copy for are listed in its
 *   register message ("staging"): the controller releases those it no
 *   longer stages or runs there (after a restart of its own).
 *
 * aiosd never calls HDF5 itself (it is not thread-safe, and a copy takes
 * long): each stage request that misses the cache forks one child, which
 * checks every missing dataset's SHA-256 against the catalog's and copies
 * it (or its shard) into the cache, reporting on a pipe:
 *   "P DONE TOTAL"   progress (bytes read for checksums plus bytes copied)
 *   "OK KEY BYTES"   a dataset is in the cache
 *   "ERR REASON"     it failed (the child exits 1)
 * Two requests never copy the same key: the second waits for the first.
 *
 * Stage-out is in stage_out.c; stage_int.h holds what both files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <event2/buffer.h>

#include "cache.h"
#include "catalog.h"
#include "daemon.h"
#include "h5data.h"
#include "log.h"
#include "noded.h"
#include "stage_int.h"

#define MIB (1024 * 1024)
#define PROGRESS_INTERVAL 0.5       /* seconds between stage_progress */
#define CHILD_PROGRESS_INTERVAL 0.1 /* seconds between "P" lines */
#define PREFETCH_OWNER (UINT64_C (1) << 63)
#define REMOVING ".removing-"

enum ds_how { DS_HIT, DS_MISS, DS_DONE };

/* One dataset of a stage or prefetch request. */
struct ds {
    const char *name, *file, *sha256;   /* borrowed from the request */
    int version;
    bool shard;
    uint64_t size, est;                 /* est: room reserved for the copy */
    char key[160];
    char path[4096];                    /* its copy in the cache */
    enum ds_how how;
};

static double now_mono (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- ops ------------------------------------------------------------------ */

struct op *stage_op_new (struct stage *st, enum op_kind kind)
{
    struct op *op = calloc (1, sizeof (*op));

    if (!op)
        return NULL;
    op->st = st;
    op->kind = kind;
    op->pid = -1;
    op->fd = -1;
    return op;
}

void stage_op_free (struct op *op)
{
    struct op **pp;

    if (!op)
        return;
    for (pp = &op->st->ops; *pp; pp = &(*pp)->next)
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    if (op->ev)
        event_free (op->ev);
    if (op->fd >= 0)
        close (op->fd);
    if (op->in)
        evbuffer_free (op->in);
    json_decref (op->msg);
    json_decref (op->rec);
    json_decref (op->models);
    free (op->ds);
    free (op);
}

void stage_op_link (struct op *op)
{
    op->next = op->st->ops;
    op->st->ops = op;
}

static struct op *op_find (struct stage *st, enum op_kind kind, uint64_t id)
{
    struct op *op;

    for (op = st->ops; op; op = op->next)
        if (op->kind == kind && op->id == id && !op->cancelled)
            return op;
    return NULL;
}

/* --- children ------------------------------------------------------------- */

static void op_read_cb (evutil_socket_t fd, short what, void *arg);

/* Fork a child for op with a pipe back: in the child (0 returned) the pipe
 * is fd 3, every other descriptor of aiosd's is closed and signals are
 * back to their defaults; in the parent the read end is watched. */
pid_t stage_op_fork (struct op *op)
{
    struct noded *nd = op->st->nd;
    pid_t parent = getpid (), pid;
    sigset_t all, old;
    int pfd[2], sig, saved;

    if (pipe2 (pfd, O_CLOEXEC) < 0)
        return -1;
    /* what the parent needs, before there is a child to lose */
    if (!(op->in = evbuffer_new ())
        || !(op->ev = event_new (nd->base, pfd[0], EV_READ | EV_PERSIST,
                                 op_read_cb, op))) {
        close (pfd[0]);
        close (pfd[1]);
        errno = ENOMEM;
        return -1;
    }
    sigfillset (&all);
    sigprocmask (SIG_SETMASK, &all, &old);
    if ((pid = fork ()) == 0) {
        close (pfd[0]);
        if (pfd[1] != 3)
            dup2 (pfd[1], 3);
        close_range (4, ~0U, 0);
        for (sig = 1; sig < NSIG; sig++)
            signal (sig, SIG_DFL);
        sigemptyset (&all);
        sigprocmask (SIG_SETMASK, &all, NULL);
        /* a copy must not outlive the aiosd that would account for it
         * (nor start after it died, before the prctl) */
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (1);
        return 0;
    }
    saved = errno;
    sigprocmask (SIG_SETMASK, &old, NULL);
    close (pfd[1]);
    if (pid < 0) {
        close (pfd[0]);
        errno = saved;
        return -1;
    }
    op->pid = pid;
    op->fd = pfd[0];
    evutil_make_socket_nonblocking (op->fd);
    event_add (op->ev, NULL);
    return pid;
}

/* A line to the parent (in a child). */
void stage_say (const char *fmt, ...)
{
    char buf[700];
    va_list ap;
    int n;
    size_t i;

    va_start (ap, fmt);
    n = vsnprintf (buf, sizeof (buf) - 1, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof (buf) - 2)
        n = (int)sizeof (buf) - 2;
    for (i = 0; i < (size_t)n; i++)
        if (buf[i] == '\n')
            buf[i] = ' ';
    buf[n++] = '\n';
    if (write (3, buf, (size_t)n) < 0) {
        /* the parent is gone: nothing to tell */
    }
}

/* How a child ended, for a reason. */
void stage_status_text (int status, char *buf, size_t len)
{
    if (WIFSIGNALED (status))
        snprintf (buf, len, "killed by signal %d", WTERMSIG (status));
    else
        snprintf (buf, len, "exited with status %d", WEXITSTATUS (status));
}

/* --- removing directories ------------------------------------------------- */

/* rm -rf NAME in the directory dfd, never following a symbolic link and
 * never crossing into another file system. */
static int rm_at (int dfd, const char *name, dev_t dev, int depth)
{
    struct stat st;
    struct dirent *e;
    DIR *dir;
    int fd, pass, removed;

    if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR (st.st_mode))
        return unlinkat (dfd, name, 0);
    if (st.st_dev != dev || depth > 256) {
        errno = EXDEV;
        return -1;
    }
    fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat (fd, &st) < 0 || st.st_dev != dev || !(dir = fdopendir (fd))) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    for (pass = 0; pass < 4; pass++) {
        removed = 0;
        rewinddir (dir);
        while ((e = readdir (dir)))
            if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")
                && rm_at (dirfd (dir), e->d_name, dev, depth + 1) == 0)
                removed++;
        if (unlinkat (dfd, name, AT_REMOVEDIR) == 0 || removed == 0)
            break;
    }
    closedir (dir);
    return fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT
               ? 0 : -1;
}

/* In a child: remove jobs/NAME, or (NULL) every jobs/.removing-*. */
static void child_remove (const char *jobs_dir, const char *name)
{
    struct stat st;
    struct dirent *e;
    DIR *dir;
    int dfd = open (jobs_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

    if (dfd < 0 || fstat (dfd, &st) < 0)
        _exit (1);
    if (name)
        _exit (rm_at (dfd, name, st.st_dev, 0) < 0);
    if (!(dir = fdopendir (dfd)))
        _exit (1);
    while ((e = readdir (dir)))
        if (!strncmp (e->d_name, REMOVING, strlen (REMOVING)))
            rm_at (dirfd (dir), e->d_name, st.st_dev, 0);
    _exit (0);
}

/* Remove jobs/name (NULL: every jobs/.removing-*) in a child, so that a
 * big tree does not hold up the loop. */
static void remove_later (struct stage *st, const char *name)
{
    struct op *op = stage_op_new (st, OP_REMOVE);
    pid_t pid;

    if (!op)
        return;
    if ((pid = stage_op_fork (op)) == 0)
        child_remove (st->jobs_dir, name);
    if (pid < 0) {
        log_warn ("cannot fork to remove scratch directories: %s",
                  strerror (errno));
        stage_op_free (op);
        return;
    }
    stage_op_link (op);
}

/* The job's scratch directory goes (renamed at once, so that the id is free
 * again, then removed in a child). */
static void scratch_remove (struct stage *st, uint64_t id)
{
    char from[4096], to[4096], name[96];

    snprintf (from, sizeof (from), "%s/%ju", st->jobs_dir, (uintmax_t)id);
    snprintf (name, sizeof (name), REMOVING "%ju-%ju", (uintmax_t)id,
              (uintmax_t)++st->removals);
    snprintf (to, sizeof (to), "%s/%s", st->jobs_dir, name);
    if (rename (from, to) < 0) {
        if (errno != ENOENT)
            log_warn ("job %ju: cannot remove %s: %s", (uintmax_t)id, from,
                      strerror (errno));
        return;
    }
    remove_later (st, name);
}

/* SCRATCH/jobs/ID for uid:gid, 0700 (an old one of another owner is
 * removed first). */
static int scratch_make (struct stage *st, uint64_t id, uid_t uid, gid_t gid,
                         char *path, size_t len, aios_error_t *err)
{
    struct stat sb;
    int tries;

    snprintf (path, len, "%s/%ju", st->jobs_dir, (uintmax_t)id);
    for (tries = 0; tries < 2; tries++) {
        if (mkdir (path, 0700) == 0) {
            if ((geteuid () == 0 && chown (path, uid, gid) < 0)
                || chmod (path, 0700) < 0) {
                errprintf (err, "cannot set up the job's scratch directory "
                           "%s: %s", path, strerror (errno));
                rmdir (path);
                return -1;
            }
            return 0;
        }
        if (errno != EEXIST)
            break;
        if (lstat (path, &sb) == 0 && S_ISDIR (sb.st_mode)
            && (sb.st_uid == uid || geteuid () != 0))
            return 0; /* made by this job's stage-in */
        scratch_remove (st, id);
    }
    return errprintf (err, "cannot create the job's scratch directory %s: %s",
                      path, strerror (errno));
}

int stage_job_prepare (struct noded *nd, json_t *spec, aios_error_t *err)
{
    json_int_t id, uid, gid;
    char path[4096];

    if (!nd->stage)
        return 0;
    if (json_unpack (spec, "{s:I s:I s:I}", "id", &id, "uid", &uid, "gid", &gid) < 0) {
        errno = EPROTO;
        return errprintf (err, "job: expected integers \"id\", \"uid\", \"gid\"");
    }
    if (scratch_make (nd->stage, (uint64_t)id, (uid_t)uid, (gid_t)gid, path,
                      sizeof (path), err) < 0)
        return -1;
    if (json_object_set_new (spec, "scratch", json_string (path)) < 0) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    return 0;
}

/* --- stage-in: answers ---------------------------------------------------- */

static void cache_log (struct stage *st, const char *what)
{
    struct cache_stats cs;
    char a[32], b[32], c[32];

    cache_get_stats (st->cache, &cs);
    log_info ("%s (cache: %ju hits, %ju misses, %ju evictions, %s copied; "
              "%s of %s used)", what, (uintmax_t)cs.hits, (uintmax_t)cs.misses,
              (uintmax_t)cs.evictions, cache_human (cs.copied_bytes, a, sizeof (a)),
              cache_human (cs.used_bytes, b, sizeof (b)),
              cache_human (cs.limit_bytes, c, sizeof (c)));
}

static uint64_t evictions (struct stage *st)
{
    struct cache_stats cs;

    cache_get_stats (st->cache, &cs);
    return cs.evictions;
}

/* Remember the answer to a job's stage and send it. */
static void send_staged (struct stage *st, uint64_t id, json_t *msg)
{
    char key[32];

    if (!msg)
        return;
    json_object_set_new (msg, "keys", cache_keys (st->cache));
    snprintf (key, sizeof (key), "%ju", (uintmax_t)id);
    json_object_set (st->staged, key, msg);
    ctlconn_send (st->nd, json_deep_copy (msg));
    json_decref (msg);
}

static void staged_fail (struct stage *st, uint64_t id, int attempt,
                         const char *reason)
{
    log_warn ("job %ju: stage-in failed: %s", (uintmax_t)id, reason);
    send_staged (st, id, json_pack ("{s:s s:I s:i s:b s:s}", "op", "staged", "id",
                                    (json_int_t)id, "attempt", attempt, "ok", 0,
                                    "reason", reason));
}

static void send_progress (struct op *op, uint64_t done, uint64_t total)
{
    op->last_sent = now_mono ();
    ctlconn_send (op->st->nd, json_pack ("{s:s s:I s:i s:I s:I}", "op",
                                         "stage_progress", "id", (json_int_t)op->id,
                                         "attempt", op->attempt, "done",
                                         (json_int_t)done, "total",
                                         (json_int_t)total));
}

/* A request failed: its pins go, and the job hears why. */
static void op_fail (struct op *op, const char *reason)
{
    cache_unpin (op->st->cache, op->owner);
    if (op->kind == OP_STAGE)
        staged_fail (op->st, op->id, op->attempt, reason);
    else
        log_warn ("prefetch: %s", reason);
    stage_op_free (op);
}

static void op_done (struct op *op)
{
    struct stage *st = op->st;
    json_t *paths = json_object (), *msg;
    char what[300], a[32], line[400], dir[4096];
    size_t i;

    snprintf (what, sizeof (what), "%s %zu dataset(s): %d hit(s), %d miss(es), "
              "%ju eviction(s), %s copied",
              op->kind == OP_STAGE ? "staged" : "prefetched", op->nds, op->hits,
              op->misses, (uintmax_t)(evictions (st) - op->evictions0),
              cache_human (op->copied, a, sizeof (a)));
    if (op->kind == OP_PREFETCH) {
        cache_unpin (st->cache, op->owner);
        cache_log (st, what);
        ctlconn_send (st->nd, json_pack ("{s:s s:o}", "op", "cached", "keys",
                                         cache_keys (st->cache)));
        json_decref (paths);
        stage_op_free (op);
        return;
    }
    for (i = 0; paths && i < op->nds; i++)
        json_object_set_new (paths, op->ds[i].name, json_string (op->ds[i].path));
    snprintf (dir, sizeof (dir), "%s/%ju", st->jobs_dir, (uintmax_t)op->id);
    msg = json_pack ("{s:s s:I s:i s:b s:o s:s s:i s:i s:I s:I}", "op", "staged",
                     "id", (json_int_t)op->id, "attempt", op->attempt, "ok", 1,
                     "paths", paths,
                     "scratch", dir, "hits", op->hits, "misses", op->misses,
                     "evictions", (json_int_t)(evictions (st) - op->evictions0),
                     "copied_bytes", (json_int_t)op->copied);
    snprintf (line, sizeof (line), "job %ju: %s", (uintmax_t)op->id, what);
    cache_log (st, line);
    send_staged (st, op->id, msg);
    stage_op_free (op);
}

/* --- stage-in: the child -------------------------------------------------- */

struct progress {
    uint64_t base, total;
    double last;
};

static int progress_cb (uint64_t done, uint64_t total, void *arg)
{
    struct progress *p = arg;
    double now = now_mono ();
    uint64_t d = p->base + done;

    (void)total;
    if (now - p->last >= CHILD_PROGRESS_INTERVAL) {
        p->last = now;
        stage_say ("P %" PRIu64 " %" PRIu64, d < p->total ? d : p->total, p->total);
    }
    return 0;
}

static void child_fail (const struct ds *d, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3), noreturn));
static void child_fail (const struct ds *d, const char *fmt, ...)
{
    char buf[600];
    va_list ap;

    va_start (ap, fmt);
    vsnprintf (buf, sizeof (buf), fmt, ap);
    va_end (ap);
    stage_say ("ERR %s:%d: %s", d->name, d->version, buf);
    _exit (1);
}

static void check_sum (const struct ds *d, const char *hex)
{
    if (strcasecmp (hex, d->sha256) != 0)
        child_fail (d, "sha256 mismatch: catalog says %.12s..., file is %.12s...",
                    d->sha256, hex);
}

/* The copy is done: read-only, and the parent hears of it. */
static void stage_ok (const struct ds *d, uint64_t bytes)
{
    if (chmod (d->path, 0444) < 0) {
        unlink (d->path);
        child_fail (d, "%s: %s", d->path, strerror (errno));
    }
    stage_say ("OK %s %" PRIu64, d->key, bytes);
}

/* The catalog's block checksums of d's file, when its record has them
 * and is of the version requested: 1 with *b (b->sha256 the caller's).  A
 * record whose checksums are damaged fails the copy. */
static int ds_blocks (const struct ds *d, struct h5data_blocks *b)
{
    aios_error_t err;
    json_t *rec = catalog_record_of (d->file, &err);
    const char *sha = json_string_value (json_object_get (rec, "sha256"));
    int rc = 0;

    memset (b, 0, sizeof (*b));
    if (rec && sha && strcasecmp (sha, d->sha256) == 0)
        rc = catalog_blocks (rec, b, &err);
    json_decref (rec);
    if (rc < 0)
        child_fail (d, "%s", err.text);
    if (rc > 0 && b->n != (d->size + b->size - 1) / b->size)
        child_fail (d, "%s: %" PRIu64 " bytes, but the catalog has checksums "
                    "of %zu blocks of %" PRIu64, d->file, d->size, b->n,
                    b->size);
    return rc > 0;
}

/* Shard d: checking the blocks of the source it reads, or, for a record
 * without block checksums, the whole file's SHA-256 first. */
static void child_copy_shard (const struct op *op, const struct ds *d,
                              struct progress *p)
{
    struct h5data_blocks b;
    aios_error_t err;
    uint64_t bytes = 0;
    char hex[65];
    int rc;

    if (ds_blocks (d, &b)) {
        rc = h5data_copy_checked (d->file, d->path, op->index, op->count, &b,
                                  progress_cb, p, &bytes, &err);
        free (b.sha256);
        if (rc < 0)
            child_fail (d, "%s", err.text);
        p->base += d->est;      /* the check: about as many bytes */
    } else {
        if (h5data_sha256 (d->file, hex, progress_cb, p, &err) < 0)
            child_fail (d, "%s", err.text);
        check_sum (d, hex);
        p->base += d->size;
        if (h5data_copy (d->file, d->path, op->index, op->count, NULL,
                         progress_cb, p, &bytes, &err) < 0)
            child_fail (d, "%s", err.text);
    }
    p->base += d->est;
    stage_ok (d, bytes);
}

/* Verify and copy every missing dataset of op into the cache. */
static void child_copy (const struct op *op)
{
    struct progress p = { 0, op->total, 0 };
    aios_error_t err;
    char hex[65];
    size_t i;

    for (i = 0; i < op->nds; i++) {
        const struct ds *d = &op->ds[i];
        uint64_t bytes = 0;
        if (d->how != DS_MISS)
            continue;
        if (d->shard) {
            child_copy_shard (op, d, &p);
            continue;
        }
        /* checksum of the bytes copied, in the same pass */
        if (h5data_copy (d->file, d->path, 0, 0, hex, progress_cb, &p,
                         &bytes, &err) < 0)
            child_fail (d, "%s", err.text);
        if (strcasecmp (hex, d->sha256) != 0) {
            unlink (d->path);
            check_sum (d, hex);
        }
        p.base += d->size;
        stage_ok (d, bytes);
    }
    _exit (0);
}

/* --- stage-in: the parent ------------------------------------------------- */

static bool blocked (const struct op *op)
{
    size_t i;

    for (i = 0; i < op->nds; i++)
        if (cache_state (op->st->cache, op->ds[i].key) == CACHE_PENDING)
            return true;
    return false;
}

static bool copy_exists (const char *path)
{
    struct stat st;

    return lstat (path, &st) == 0 && S_ISREG (st.st_mode);
}

/* "mnist:2" or "mnist:2, labels:1": the datasets op copies. */
static void miss_names (const struct op *op, char *buf, size_t len)
{
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < op->nds && o < len; i++)
        if (op->ds[i].how == DS_MISS)
            o += (size_t)snprintf (buf + o, len - o, "%s%s:%d", o ? ", " : "",
                                   op->ds[i].name, op->ds[i].version);
}

static int space_check (struct stage *st, uint64_t need, aios_error_t *err)
{
    struct statvfs vfs;
    uint64_t avail;
    char a[32], b[32];

    if (statvfs (st->cache_dir, &vfs) < 0)
        return errprintf (err, "%s: %s", st->cache_dir, strerror (errno));
    avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
    if (avail < need) {
        errno = ENOSPC;
        return errprintf (err, "no space left on SCRATCH: needs %s, %s has %s "
                          "free", cache_human (need, a, sizeof (a)), st->scratch,
                          cache_human (avail, b, sizeof (b)));
    }
    return 0;
}

/* Undo what op reserved and did not finish: entries and files. */
static void op_abort_misses (struct op *op)
{
    char part[4200];
    size_t i;

    for (i = 0; i < op->nds; i++) {
        struct ds *d = &op->ds[i];
        if (d->how != DS_MISS
            || cache_state (op->st->cache, d->key) != CACHE_PENDING)
            continue;
        snprintf (part, sizeof (part), "%s.part", d->path);
        unlink (part);
        unlink (d->path);
        cache_abort (op->st->cache, d->key);
    }
}

/* Reserve room for op's misses and start the child that copies them. */
static void op_copy (struct op *op, uint64_t need)
{
    struct stage *st = op->st;
    aios_error_t err;
    char names[200], dir[4096], *slash;
    size_t i;
    pid_t pid;
    int rc;

    miss_names (op, names, sizeof (names));
    if (cache_make_room (st->cache, need, &err) < 0
        || space_check (st, need, &err) < 0) {
        errprefix (&err, "%s", names);
        op_fail (op, err.text);
        return;
    }
    op->total = 0;
    for (i = 0; i < op->nds; i++) {
        struct ds *d = &op->ds[i];
        if (d->how != DS_MISS)
            continue;
        snprintf (dir, sizeof (dir), "%s", d->path);
        if ((slash = strrchr (dir, '/')))
            *slash = '\0';
        rc = mkdir_p (dir, 0755, &err);
        if (rc == 0 && (rc = cache_reserve (st->cache, d->key, d->est)) < 0)
            errprintf (&err, "cannot reserve room in the cache: %s",
                       strerror (errno));
        if (rc < 0) {
            errprefix (&err, "%s:%d", d->name, d->version);
            op_abort_misses (op);
            op_fail (op, err.text);
            return;
        }
        /* a shard: its copy, and checking about as many bytes */
        op->total += d->shard ? 2 * d->est : d->size;
    }
    if ((pid = stage_op_fork (op)) == 0)
        child_copy (op);
    if (pid < 0) {
        snprintf (dir, sizeof (dir), "%s: cannot start the copy: fork: %s", names,
                  strerror (errno));
        op_abort_misses (op);
        op_fail (op, dir);
        return;
    }
    log_debug ("%s %ju: copying %s (pid %d)", op->kind == OP_STAGE ? "job"
               : "prefetch", (uintmax_t)op->id, names, (int)pid);
    if (op->kind == OP_STAGE)
        send_progress (op, 0, op->total);
}

/* Serve op from the cache, or start copying what it misses; wait if
 * another request copies one of its keys. */
static void op_try (struct op *op)
{
    struct stage *st = op->st;
    uint64_t need = 0;
    size_t i;

    if (blocked (op)) {
        op->waiting = true;
        return;
    }
    op->hits = op->misses = 0;
    op->evictions0 = evictions (st);
    for (i = 0; i < op->nds; i++) {
        struct ds *d = &op->ds[i];
        if (cache_state (st->cache, d->key) == CACHE_READY
            && !copy_exists (d->path)) {
            log_warn ("cache: the copy of %s is gone: copying it again", d->key);
            cache_forget (st->cache, d->key);
        }
        if (cache_use (st->cache, d->key, op->owner) == 0) {
            d->how = DS_HIT;
            op->hits++;
        } else {
            d->how = DS_MISS;
            op->misses++;
            need += d->est;
        }
    }
    if (op->misses == 0)
        op_done (op);
    else
        op_copy (op, need);
}

/* Requests waiting for a copy that has ended try again. */
static void kick (struct stage *st)
{
    struct op *op;
    bool again = true;

    while (again) {
        again = false;
        for (op = st->ops; op; op = op->next)
            if (op->waiting && !blocked (op)) {
                op->waiting = false;
                op_try (op); /* may free op */
                again = true;
                break;
            }
    }
}

/* --- the request ---------------------------------------------------------- */

static bool is_hex64 (const char *s)
{
    return strlen (s) == 64 && strspn (s, "0123456789abcdefABCDEF") == 64;
}

static int parse_ds (struct op *op, size_t i, json_t *e, aios_error_t *err)
{
    struct ds *d = &op->ds[i];
    json_int_t version, size;
    int shard = 0;
    size_t k;

    if (json_unpack (e, "{s:s s:I s:s s:s s:I s?b}", "name", &d->name, "version",
                     &version, "file", &d->file, "sha256", &d->sha256, "size",
                     &size, "shard", &shard) < 0)
        return errprintf (err, "dataset %zu: expected \"name\", \"version\", "
                          "\"file\", \"sha256\", \"size\"", i + 1);
    if (!catalog_name_ok (d->name))
        return errprintf (err, "dataset %zu: invalid name \"%s\"", i + 1, d->name);
    if (version < 1 || version > 1000000000 || size < 0 || d->file[0] != '/'
        || !is_hex64 (d->sha256))
        return errprintf (err, "%s: malformed version, size, file or sha256",
                          d->name);
    for (k = 0; k < i; k++)
        if (!strcmp (op->ds[k].name, d->name))
            return errprintf (err, "%s: listed twice", d->name);
    d->version = (int)version;
    d->size = (uint64_t)size;
    d->shard = shard;
    d->est = shard ? (d->size + (uint64_t)op->count - 1) / (uint64_t)op->count + MIB
                   : d->size;
    if (cache_key (d->name, d->version, shard ? op->index : 0,
                   shard ? op->count : 0, d->key, sizeof (d->key)) < 0
        || cache_path (op->st->cache, d->key, d->path, sizeof (d->path)) < 0)
        return errprintf (err, "%s: %s", d->name, strerror (errno));
    return 0;
}

static struct op *op_parse (struct stage *st, json_t *msg, bool prefetch,
                            aios_error_t *err)
{
    json_int_t uid = 0, gid = 0, index, count, attempt = 0;
    json_t *dsa, *e;
    struct op *op;
    size_t i;

    if (json_unpack (msg, "{s?I s?I s:I s:I s:o s?I}", "uid", &uid, "gid", &gid,
                     "index", &index, "count", &count, "datasets", &dsa,
                     "attempt", &attempt) < 0
        || !json_is_array (dsa) || json_array_size (dsa) == 0) {
        errprintf (err, "expected integers \"index\" and \"count\" and an array "
                   "\"datasets\"");
        return NULL;
    }
    if (count < 1 || count > 1000000 || index < 0 || index >= count || uid < 0
        || gid < 0 || attempt < 0 || attempt > INT_MAX) {
        errprintf (err, "node %lld of %lld: out of range", (long long)index,
                   (long long)count);
        return NULL;
    }
    if (!(op = stage_op_new (st, prefetch ? OP_PREFETCH : OP_STAGE))
        || !(op->ds = calloc (json_array_size (dsa), sizeof (*op->ds)))) {
        free (op);
        errprintf (err, "out of memory");
        return NULL;
    }
    op->msg = json_incref (msg);
    op->uid = (uid_t)uid;
    op->gid = (gid_t)gid;
    op->index = (int)index;
    op->count = (int)count;
    op->attempt = (int)attempt;
    op->nds = json_array_size (dsa);
    json_array_foreach (dsa, i, e) {
        if (parse_ds (op, i, e, err) < 0) {
            stage_op_free (op);
            return NULL;
        }
    }
    return op;
}

void stage_request (struct noded *nd, json_t *msg, bool prefetch)
{
    struct stage *st = nd->stage;
    json_int_t id = 0, attempt = 0;
    aios_error_t err;
    struct op *op;
    char key[32], path[4096];
    json_t *old;

    if (!prefetch && (json_unpack (msg, "{s:I s?I}", "id", &id, "attempt",
                                   &attempt) < 0 || id <= 0)) {
        log_err ("stage: expected a positive integer \"id\"");
        return;
    }
    if (!st) {
        errprintf (&err, "node %s has no scratch directory (staging.scratch is "
                   "empty)", nd->name);
        if (prefetch)
            log_warn ("prefetch: %s", err.text);
        else
            ctlconn_send (nd, json_pack ("{s:s s:I s:b s:s}", "op", "staged",
                                         "id", id, "ok", 0, "reason", err.text));
        return;
    }
    snprintf (key, sizeof (key), "%lld", (long long)id);
    if (!prefetch && (old = json_object_get (st->staged, key))) {
        if (json_integer_value (json_object_get (old, "attempt")) == attempt) {
            ctlconn_send (nd, json_deep_copy (old)); /* asked again: same answer */
            return;
        }
        log_info ("job %lld: staging for its run %lld: what was staged for an "
                  "earlier run goes", (long long)id, (long long)attempt);
        stage_release (nd, (uint64_t)id);
    }
    if (!prefetch && (op = op_find (st, OP_STAGE, (uint64_t)id))) {
        if (op->attempt == attempt)
            return; /* asked again while at it */
        log_info ("job %lld: staging for its run %lld: the copy for an earlier "
                  "run stops", (long long)id, (long long)attempt);
        stage_release (nd, (uint64_t)id);
    }
    if (!(op = op_parse (st, msg, prefetch, &err))) {
        if (prefetch)
            log_warn ("prefetch: %s", err.text);
        else
            staged_fail (st, (uint64_t)id, (int)attempt, err.text);
        return;
    }
    op->id = (uint64_t)id;
    op->owner = prefetch ? PREFETCH_OWNER | ++st->prefetches : (uint64_t)id;
    if (!prefetch && scratch_make (st, op->id, op->uid, op->gid, path,
                                   sizeof (path), &err) < 0) {
        staged_fail (st, op->id, op->attempt, err.text);
        stage_op_free (op);
        return;
    }
    stage_op_link (op);
    op_try (op);
}

/* --- the pipe and the end of a child -------------------------------------- */

static void op_line_copy (struct op *op, char *line)
{
    struct stage *st = op->st;
    uint64_t a, b;
    char key[200];
    size_t i;

    if (sscanf (line, "P %" SCNu64 " %" SCNu64, &a, &b) == 2) {
        double now = now_mono ();
        op->done = a;
        op->total = b;
        if (op->kind == OP_STAGE && !op->cancelled
            && now - op->last_sent >= PROGRESS_INTERVAL)
            send_progress (op, a, b);
    } else if (sscanf (line, "OK %199s %" SCNu64, key, &a) == 2) {
        for (i = 0; i < op->nds; i++) {
            struct ds *d = &op->ds[i];
            if (d->how != DS_MISS || strcmp (d->key, key))
                continue;
            /* a job released meanwhile does not pin it */
            if (cache_commit (st->cache, key, a,
                              op->kind == OP_STAGE && !op->cancelled
                                  ? op->owner : 0) == 0) {
                d->how = DS_DONE;
                op->copied += a;
            }
        }
    } else if (!strncmp (line, "ERR ", 4) && !op->reason[0])
        snprintf (op->reason, sizeof (op->reason), "%s", line + 4);
}

static void op_line_out (struct op *op, char *line)
{
    char name[80];
    int version;

    if (sscanf (line, "M %79s %d", name, &version) == 2) {
        if (!op->models)
            op->models = json_array ();
        json_array_append_new (op->models, json_pack ("{s:s s:i}", "name", name,
                                                      "version", version));
        log_info ("job %ju: stage-out: stored model %s:%d", (uintmax_t)op->id,
                  name, version);
    } else if (!strncmp (line, "ERR ", 4)) {
        log_warn ("job %ju: stage-out: %s", (uintmax_t)op->id, line + 4);
        if (op->errors++ == 0)
            snprintf (op->reason, sizeof (op->reason), "%s", line + 4);
    }
}

/* Read what the child said; at its end (or an error) stop watching. */
static void op_drain (struct op *op)
{
    char *line;
    size_t len;
    int n;

    while (op->fd >= 0) {
        n = evbuffer_read (op->in, op->fd, 65536);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        event_free (op->ev);
        op->ev = NULL;
        close (op->fd);
        op->fd = -1;
    }
    while ((line = evbuffer_readln (op->in, &len, EVBUFFER_EOL_LF))) {
        if (op->kind == OP_STAGE_OUT)
            op_line_out (op, line);
        else if (op->kind != OP_REMOVE)
            op_line_copy (op, line);
        free (line);
    }
}

static void op_read_cb (evutil_socket_t fd, short what, void *arg)
{
    op_drain (arg);
}

static void copy_ended (struct op *op, int status)
{
    struct stage *st = op->st;
    char how[64], names[200];
    bool ok = WIFEXITED (status) && WEXITSTATUS (status) == 0 && !op->reason[0];
    size_t i;

    for (i = 0; i < op->nds; i++)
        if (op->ds[i].how == DS_MISS)
            ok = false;
    if (!ok && !op->reason[0]) {
        miss_names (op, names, sizeof (names));
        stage_status_text (status, how, sizeof (how));
        snprintf (op->reason, sizeof (op->reason), "%s: the copy process %s",
                  names, how);
    }
    op_abort_misses (op);
    if (op->cancelled) {
        log_info ("job %ju: stage-in stopped (the job was released)",
                  (uintmax_t)op->id);
        stage_op_free (op);
    } else if (!ok)
        op_fail (op, op->reason);
    else
        op_done (op);
    kick (st);
}

bool stage_reaped (struct noded *nd, pid_t pid, int status)
{
    struct op *op;

    if (!nd->stage)
        return false;
    for (op = nd->stage->ops; op && op->pid != pid; op = op->next)
        ;
    if (!op)
        return false;
    op->pid = -1;
    op_drain (op); /* the child is gone: all it said is there */
    if (op->kind == OP_REMOVE) {
        if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
            log_warn ("could not remove every scratch directory under %s",
                      nd->stage->jobs_dir);
        stage_op_free (op);
    } else if (op->kind == OP_STAGE_OUT)
        stage_out_ended (op, status);
    else
        copy_ended (op, status);
    return true;
}

/* --- release -------------------------------------------------------------- */

void stage_release (struct noded *nd, uint64_t id)
{
    struct stage *st = nd->stage;
    struct op *op, *next;
    char key[32];

    if (!st)
        return;
    for (op = st->ops; op; op = next) {
        next = op->next;
        if (op->id != id || op->cancelled
            || (op->kind != OP_STAGE && op->kind != OP_STAGE_OUT))
            continue;
        if (op->waiting) {
            stage_op_free (op);
            continue;
        }
        op->cancelled = true;
        if (op->pid > 0)
            kill (op->pid, SIGKILL); /* reaped: its partial copies go */
    }
    cache_unpin (st->cache, id);
    snprintf (key, sizeof (key), "%ju", (uintmax_t)id);
    json_object_del (st->staged, key);
    scratch_remove (st, id);
}

/* --- the daemon's side ---------------------------------------------------- */

void stage_add_running (struct noded *nd, json_t *ids)
{
    struct op *op;

    for (op = nd->stage ? nd->stage->ops : NULL; op; op = op->next)
        if (op->kind == OP_STAGE_OUT)
            json_array_append_new (ids, json_integer ((json_int_t)op->id));
}

/* The jobs this node holds staged data or a copy for. */
static json_t *staging_ids (struct stage *st)
{
    json_t *ids = json_array (), *v;
    const char *key;
    struct op *op;

    json_object_foreach (st->staged, key, v)
        json_array_append_new (ids, json_integer (json_integer_value (
                                        json_object_get (v, "id"))));
    for (op = st->ops; op; op = op->next)
        if (op->kind == OP_STAGE && !op->cancelled) /* none staged yet */
            json_array_append_new (ids, json_integer ((json_int_t)op->id));
    return ids;
}

void stage_register_info (struct noded *nd, json_t *msg)
{
    struct cache_stats cs;

    if (!nd->stage)
        return;
    json_object_set_new (msg, "staging", staging_ids (nd->stage));
    cache_get_stats (nd->stage->cache, &cs);
    json_object_set_new (msg, "cache", cache_keys (nd->stage->cache));
    json_object_set_new (msg, "cache_stats",
                         json_pack ("{s:I s:I s:I s:I s:I s:I}", "hits",
                                    (json_int_t)cs.hits, "misses",
                                    (json_int_t)cs.misses, "evictions",
                                    (json_int_t)cs.evictions, "copied_bytes",
                                    (json_int_t)cs.copied_bytes, "used_bytes",
                                    (json_int_t)cs.used_bytes, "limit_bytes",
                                    (json_int_t)cs.limit_bytes));
}

/* Leftovers of an aiosd that stopped: scratch directories of jobs that are
 * gone are removed (in a child). */
static void clean_jobs_dir (struct stage *st)
{
    struct dirent *e;
    DIR *dir;
    char from[4096], to[4096];
    int n = 0;

    if (!(dir = opendir (st->jobs_dir)))
        return;
    while ((e = readdir (dir))) {
        if (e->d_name[0] == '.') {
            n += !strncmp (e->d_name, REMOVING, strlen (REMOVING));
            continue;
        }
        snprintf (from, sizeof (from), "%s/%s", st->jobs_dir, e->d_name);
        snprintf (to, sizeof (to), "%s/" REMOVING "%s-0", st->jobs_dir, e->d_name);
        if (rename (from, to) == 0)
            n++;
    }
    closedir (dir);
    if (n > 0) {
        log_info ("removing %d scratch director%s left by jobs that are gone",
                  n, n == 1 ? "y" : "ies");
        remove_later (st, NULL);
    }
}

static char *pathf (const char *a, const char *b)
{
    char *p = NULL;

    if (asprintf (&p, "%s/%s", a, b) < 0)
        return NULL;
    return p;
}

int stage_create (struct noded *nd, aios_error_t *err)
{
    struct stage *st;
    struct cache_stats cs;
    char a[32], b[32];

    if (!nd->conf->scratch_dir || !nd->conf->scratch_dir[0])
        return 0;
    if (!(st = calloc (1, sizeof (*st))))
        goto nomem;
    nd->stage = st;
    st->nd = nd;
    if (!(st->scratch = conf_expand_node (nd->conf->scratch_dir, nd->name))
        || !(st->cache_dir = pathf (st->scratch, "cache"))
        || !(st->jobs_dir = pathf (st->scratch, "jobs"))
        || !(st->staged = json_object ()))
        goto nomem;
    if (mkdir_p (st->scratch, 0755, err) < 0 || mkdir_p (st->jobs_dir, 0755, err) < 0)
        goto error;
    if (chmod (st->jobs_dir, 0755) < 0) {
        errprintf (err, "%s: %s", st->jobs_dir, strerror (errno));
        goto error;
    }
    if (!(st->cache = cache_create (st->cache_dir, nd->conf->cache_bytes, err)))
        goto error;
    clean_jobs_dir (st);
    cache_get_stats (st->cache, &cs);
    log_info ("scratch %s: cache of %zu entr%s, %s of %s used", st->scratch,
              cs.entries, cs.entries == 1 ? "y" : "ies",
              cache_human (cs.used_bytes, a, sizeof (a)),
              cache_human (cs.limit_bytes, b, sizeof (b)));
    return 0;
nomem:
    errno = ENOMEM;
    errprintf (err, "out of memory");
error:
    stage_destroy (nd);
    return -1;
}

void stage_destroy (struct noded *nd)
{
    struct stage *st = nd->stage;
    int saved = errno;

    if (!st)
        return;
    while (st->ops) {
        struct op *op = st->ops;
        if (op->pid > 0) {
            kill (op->pid, SIGKILL);
            waitpid (op->pid, NULL, 0);
        }
        if (op->kind == OP_STAGE || op->kind == OP_PREFETCH)
            op_abort_misses (op);
        stage_op_free (op);
    }
    cache_destroy (st->cache);
    json_decref (st->staged);
    free (st->scratch);
    free (st->cache_dir);
    free (st->jobs_dir);
    free (st);
    nd->stage = NULL;
    errno = saved;
}
