/* stage_out.c - a job's scratch files into the catalog as models
 *
 * Stage-out: when a batch script with "stage_out" ends (successfully, or
 * always with "stage_out_when":"always"), a child stores each file of its
 * scratch directory as a model in the catalog ("M NAME VERSION" or
 * "ERR REASON" on the pipe), and the job's completion is sent when it ends,
 * with "models" and any "stage_out_error".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "catalog.h"
#include "launch.h"
#include "log.h"
#include "noded.h"
#include "spool.h"
#include "stage_int.h"

/* --- stage-out ------------------------------------------------------------ */

static void iso_time (double t, char *buf, size_t len)
{
    time_t s = (time_t)t;
    struct tm tm;

    gmtime_r (&s, &tm);
    strftime (buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "mnist:2,labels:1": the stage_in entries (name:version[,shard]). */
static json_t *inputs_of (json_t *spec)
{
    json_t *in = json_object_get (spec, "stage_in"), *e;
    char buf[1024] = "";
    size_t i, o = 0;

    json_array_foreach (in, i, e) {
        const char *name = NULL;
        json_int_t version = 0;
        int shard = 0;
        if (json_is_string (e))
            name = json_string_value (e);
        else
            json_unpack (e, "{s:s s?I s?b}", "name", &name, "version", &version,
                         "shard", &shard);
        if (!name || o >= sizeof (buf))
            continue;
        if (version > 0)
            o += (size_t)snprintf (buf + o, sizeof (buf) - o, "%s%s:%lld%s",
                                   o ? "," : "", name, (long long)version,
                                   shard ? ",shard" : "");
        else
            o += (size_t)snprintf (buf + o, sizeof (buf) - o, "%s%s", o ? "," : "",
                                   name);
    }
    return json_string (buf);
}

static json_t *provenance (struct noded *nd, json_t *spec, json_t *rec,
                           uint64_t id, double start)
{
    const char *user = "";
    double submit = 0;
    int code = 0;
    char a[32], b[32], c[32];
    json_t *p;

    json_unpack (spec, "{s?s s?F}", "user", &user, "submit_time", &submit);
    json_unpack (rec, "{s?i}", "exit_code", &code);
    iso_time (start, b, sizeof (b));
    iso_time ((double)time (NULL), c, sizeof (c));
    p = json_pack ("{s:I s:s s:o s:i s:s s:s s:s}", "aios_job_id", (json_int_t)id,
                   "aios_user", user, "aios_inputs", inputs_of (spec),
                   "aios_exit_code", code, "aios_start_time", b,
                   "aios_end_time", c, "aios_node", nd->name);
    if (p && submit > 0) {
        iso_time (submit, a, sizeof (a));
        json_object_set_new (p, "aios_submit_time", json_string (a));
    }
    return p;
}

/* Open path (relative to scratch, or absolute inside it) without following
 * a symbolic link anywhere below scratch; it must be a regular file the
 * job's owner may read.  why says what is wrong. */
static int open_in_scratch (const char *scratch, const char *path, uid_t uid,
                            gid_t gid, char *why, size_t len)
{
    size_t n = strlen (scratch);
    char rel[4096], *comp, *next;
    struct stat st;
    int dfd, fd;

    if (path[0] == '/') {
        if (strncmp (path, scratch, n) != 0 || path[n] != '/') {
            snprintf (why, len, "not inside the job's scratch directory");
            return -1;
        }
        path += n + 1;
    }
    if (snprintf (rel, sizeof (rel), "%s", path) >= (int)sizeof (rel) || !rel[0]) {
        snprintf (why, len, "invalid path");
        return -1;
    }
    if ((dfd = open (scratch, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0) {
        snprintf (why, len, "the job's scratch directory %s: %s", scratch,
                  strerror (errno));
        return -1;
    }
    for (comp = rel; (next = strchr (comp, '/')); comp = next) {
        int sub;
        *next++ = '\0';
        if (!strcmp (comp, "..")) {
            snprintf (why, len, "not inside the job's scratch directory");
            close (dfd);
            return -1;
        }
        if (!comp[0] || !strcmp (comp, "."))
            continue;
        sub = openat (dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        close (dfd);
        if (sub < 0) {
            snprintf (why, len, errno == ENOENT ? "no such file in the job's scratch"
                      : "%s: not a directory (symbolic links are refused)", comp);
            return -1;
        }
        dfd = sub;
    }
    if (!strcmp (comp, "..") || !strcmp (comp, ".") || !comp[0]) {
        snprintf (why, len, "not a file in the job's scratch directory");
        close (dfd);
        return -1;
    }
    fd = openat (dfd, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    close (dfd);
    if (fd < 0) {
        snprintf (why, len, errno == ENOENT ? "no such file in the job's scratch"
                  : errno == ELOOP ? "a symbolic link: refused" : "%s",
                  strerror (errno));
        return -1;
    }
    if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)) {
        snprintf (why, len, "not a regular file");
        close (fd);
        return -1;
    }
    if (!(st.st_uid == uid ? st.st_mode & S_IRUSR
          : st.st_gid == gid ? st.st_mode & S_IRGRP : st.st_mode & S_IROTH)) {
        snprintf (why, len, "not readable by the job's owner");
        close (fd);
        return -1;
    }
    return fd;
}

/* In the child: "NAME: PATH: what" with the /proc path replaced. */
static void out_error (const char *name, const char *path, const char *proc,
                       const char *text)
{
    const char *at = strstr (text, proc);

    if (at)
        stage_say ("ERR %s: %.*s%s%s", name, (int)(at - text), text, path,
                   at + strlen (proc));
    else
        stage_say ("ERR %s: %s: %s", name, path, text);
}

static void child_stage_out (const struct op *op, json_t *prov)
{
    const char *root = op->st->nd->conf->shared_root;
    json_t *out = json_object_get (op->msg, "stage_out"), *e;
    char scratch[4096], why[4400], proc[64];
    int rc = 0;
    size_t i;

    snprintf (scratch, sizeof (scratch), "%s/%ju", op->st->jobs_dir,
              (uintmax_t)op->id);
    json_array_foreach (out, i, e) {
        const char *path = NULL, *name = NULL;
        json_t *attrs = NULL, *more = NULL, *rec;
        aios_error_t err;
        int fd;
        json_unpack (e, "{s?s s?s s?o}", "path", &path, "name", &name, "attrs",
                     &more);
        if (!path || !name || !catalog_name_ok (name)) {
            stage_say ("ERR stage_out entry %zu: expected a \"path\" and a "
                       "model \"name\"", i + 1);
            rc = 1;
            continue;
        }
        if ((fd = open_in_scratch (scratch, path, op->uid, op->gid, why,
                                   sizeof (why))) < 0) {
            stage_say ("ERR %s: %s: %s", name, path, why);
            rc = 1;
            continue;
        }
        /* the file opened, not whatever the path names by now */
        snprintf (proc, sizeof (proc), "/proc/self/fd/%d", fd);
        attrs = json_deep_copy (prov);
        if (attrs && json_is_object (more))
            json_object_update (attrs, more);
        rec = catalog_import_as (root, CATALOG_MODEL, proc, name, attrs, prov,
                                 op->uid, &err);
        if (rec)
            stage_say ("M %s %lld", name, (long long)json_integer_value (
                           json_object_get (rec, "version")));
        else {
            out_error (name, path, proc, err.text);
            rc = 1;
        }
        json_decref (rec);
        json_decref (attrs);
        close (fd);
    }
    _exit (rc);
}

int stage_out_start (struct noded *nd, json_t *spec, json_t *rec, double start)
{
    struct stage *st = nd->stage;
    json_t *out = json_object_get (spec, "stage_out"), *prov;
    json_int_t id = 0, uid = 0, gid = 0;
    const char *when = NULL;
    int code = 0, sig = 0, timed_out = 0;
    aios_error_t err;
    struct op *op;
    pid_t pid;

    if (!json_is_array (out) || json_array_size (out) == 0)
        return 0;
    json_unpack (spec, "{s?I s?I s?I s?s}", "id", &id, "uid", &uid, "gid", &gid,
                 "stage_out_when", &when);
    json_unpack (rec, "{s?i s?i s?b}", "exit_code", &code, "signal", &sig,
                 "timed_out", &timed_out);
    if ((code != 0 || sig != 0 || timed_out) && !(when && !strcmp (when, "always"))) {
        log_info ("job %lld: no stage-out: the job did not succeed", (long long)id);
        return 0;
    }
    if (!st || !nd->conf->shared_root || !nd->conf->shared_root[0]) {
        json_object_set_new (rec, "stage_out_error",
                             json_string (!st ? "this node has no scratch directory "
                                          "(staging.scratch is empty)"
                                          : "no catalog: staging.shared_root is "
                                          "not set"));
        return 0;
    }
    if (!(op = stage_op_new (st, OP_STAGE_OUT))
        || !(prov = provenance (nd, spec, rec, (uint64_t)id, start))) {
        stage_op_free (op);
        json_object_set_new (rec, "stage_out_error", json_string ("out of memory"));
        return 0;
    }
    op->id = (uint64_t)id;
    op->uid = (uid_t)uid;
    op->gid = (gid_t)gid;
    op->msg = json_incref (spec);
    /* until the completion replaces it: if aiosd dies during the stage-out,
     * the next one reports how the job ended, not a node failure */
    if (spool_write_exit (nd->spool_dir, op->id, rec, &err) < 0)
        log_err ("job %ju: %s", (uintmax_t)op->id, err.text);
    if ((pid = stage_op_fork (op)) == 0)
        child_stage_out (op, prov);
    json_decref (prov);
    if (pid < 0) {
        json_object_set_new (rec, "stage_out_error",
                             json_sprintf ("cannot start the stage-out: fork: %s",
                                           strerror (errno)));
        stage_op_free (op);
        return 0;
    }
    op->rec = json_incref (rec);
    stage_op_link (op);
    log_info ("job %ju: stage-out of %zu file(s) (pid %d)", (uintmax_t)op->id,
              json_array_size (out), (int)pid);
    return 1;
}

void stage_out_ended (struct op *op, int status)
{
    char how[64];

    if (op->cancelled && !op->reason[0])
        snprintf (op->reason, sizeof (op->reason),
                  "stage-out interrupted: the job was released");
    if (!op->reason[0] && (!WIFEXITED (status) || WEXITSTATUS (status) != 0)) {
        stage_status_text (status, how, sizeof (how));
        snprintf (op->reason, sizeof (op->reason), "the stage-out process %s", how);
    }
    if (op->models)
        json_object_set (op->rec, "models", op->models);
    if (op->errors > 1) {
        size_t n = strlen (op->reason);
        snprintf (op->reason + n, sizeof (op->reason) - n, " (and %d more)",
                  op->errors - 1);
    }
    if (op->reason[0]) {
        log_warn ("job %ju: stage-out failed: %s", (uintmax_t)op->id, op->reason);
        json_object_set_new (op->rec, "stage_out_error", json_string (op->reason));
    }
    launch_complete (op->st->nd, op->id, op->rec);
    stage_op_free (op);
}
