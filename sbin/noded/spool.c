/* spool.c - the node daemon's on-disk records */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <stdbool.h>

#include "spool.h"

static int job_path (char *buf, size_t len, const char *spool, uint64_t id,
                     const char *file)
{
    int n = snprintf (buf, len, "%s/job.%" PRIu64 "%s%s", spool, id,
                      file ? "/" : "", file ? file : "");
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int write_file (const char *path, const char *data, size_t len,
                       int mode, bool sync, aios_error_t *err)
{
    char tmp[4200];
    int fd;
    ssize_t w;

    snprintf (tmp, sizeof (tmp), "%s.tmp", path);
    if ((fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0)
        return errprintf (err, "%s: %s", tmp, strerror (errno));
    while (len > 0) {
        if ((w = write (fd, data, len)) < 0) {
            if (errno == EINTR)
                continue;
            goto error;
        }
        data += w;
        len -= (size_t)w;
    }
    if (sync && fdatasync (fd) < 0)
        goto error;
    if (close (fd) < 0) {
        fd = -1;
        goto error;
    }
    if (rename (tmp, path) < 0)
        return errprintf (err, "%s: %s", path, strerror (errno));
    return 0;
error:
    errprintf (err, "%s: %s", tmp, strerror (errno));
    if (fd >= 0)
        close (fd);
    unlink (tmp);
    return -1;
}

int spool_job_create (const char *spool, uint64_t id, const char *script,
                      uid_t uid, gid_t gid, char *script_path, size_t len,
                      aios_error_t *err)
{
    char dir[4096];

    if (job_path (dir, sizeof (dir), spool, id, NULL) < 0
        || job_path (script_path, len, spool, id, "script") < 0)
        return errprintf (err, "spool path too long");
    if (mkdir (dir, 0700) < 0 && errno != EEXIST)
        return errprintf (err, "mkdir %s: %s", dir, strerror (errno));
    if (write_file (script_path, script, strlen (script), 0700, false, err) < 0)
        return -1;
    if (geteuid () == 0
        && (chown (dir, uid, gid) < 0 || chown (script_path, uid, gid) < 0))
        return errprintf (err, "chown %s: %s", dir, strerror (errno));
    return 0;
}

int spool_job_file (const char *spool, uint64_t id, const char *name,
                    const char *text, uid_t uid, gid_t gid, char *path,
                    size_t len, aios_error_t *err)
{
    if (job_path (path, len, spool, id, name) < 0)
        return errprintf (err, "spool path too long");
    if (write_file (path, text, strlen (text), 0600, false, err) < 0)
        return -1;
    if (geteuid () == 0 && chown (path, uid, gid) < 0)
        return errprintf (err, "chown %s: %s", path, strerror (errno));
    return 0;
}

int spool_write_pid (const char *spool, uint64_t id, pid_t pid, aios_error_t *err)
{
    char path[4096], buf[32];
    int n = snprintf (buf, sizeof (buf), "%ld\n", (long)pid);

    if (job_path (path, sizeof (path), spool, id, "pid") < 0)
        return errprintf (err, "spool path too long");
    return write_file (path, buf, (size_t)n, 0600, false, err);
}

static int write_record (const char *spool, uint64_t id, const char *file,
                         const json_t *rec, aios_error_t *err)
{
    char path[4096], *text;
    int rc;

    if (job_path (path, sizeof (path), spool, id, file) < 0)
        return errprintf (err, "spool path too long");
    if (!(text = json_dumps (rec, JSON_COMPACT))) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    /* write + rename survives an aiosd crash (the page cache outlives the
     * process), which is what these records are for.  No fdatasync: a node
     * that loses power loses its running jobs too, and the controller
     * reports them NODE_FAIL; a sync here would cost 3-5 ms per job. */
    rc = write_file (path, text, strlen (text), 0600, false, err);
    free (text);
    return rc;
}

int spool_write_completion (const char *spool, uint64_t id, const json_t *rec,
                            aios_error_t *err)
{
    return write_record (spool, id, "complete.json", rec, err);
}

int spool_write_exit (const char *spool, uint64_t id, const json_t *rec,
                      aios_error_t *err)
{
    return write_record (spool, id, "exit.json", rec, err);
}

/* Every file of the job's directory (whatever the launch wrote there),
 * then the directory. */
void spool_job_remove (const char *spool, uint64_t id)
{
    char path[4096];
    struct dirent *e;
    DIR *d;
    int dfd;

    if (job_path (path, sizeof (path), spool, id, NULL) < 0
        || !(d = opendir (path)))
        return;
    dfd = dirfd (d);
    while ((e = readdir (d)))
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
            (void)unlinkat (dfd, e->d_name, 0);
    closedir (d);
    (void)rmdir (path);
}

static pid_t read_pid (const char *path)
{
    FILE *f = fopen (path, "r");
    long pid = 0;

    if (!f)
        return 0;
    if (fscanf (f, "%ld", &pid) != 1)
        pid = 0;
    fclose (f);
    return (pid_t)pid;
}

int spool_scan (const char *spool, spool_job_f cb, void *arg, aios_error_t *err)
{
    DIR *d = opendir (spool);
    struct dirent *e;

    if (!d)
        return errprintf (err, "%s: %s", spool, strerror (errno));
    while ((e = readdir (d))) {
        char path[4096], *end;
        uint64_t id;
        json_t *rec, *exited = NULL;

        if (strncmp (e->d_name, "job.", 4) != 0)
            continue;
        errno = 0;
        id = strtoull (e->d_name + 4, &end, 10);
        if (errno || *end || id == 0)
            continue;
        job_path (path, sizeof (path), spool, id, "complete.json");
        rec = json_load_file (path, 0, NULL);
        if (!rec) {
            job_path (path, sizeof (path), spool, id, "exit.json");
            exited = json_load_file (path, 0, NULL);
        }
        job_path (path, sizeof (path), spool, id, "pid");
        cb (id, rec, exited, read_pid (path), arg);
        json_decref (rec);
        json_decref (exited);
    }
    closedir (d);
    return 0;
}
