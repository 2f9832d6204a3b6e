/* cgroup.c - one cgroup (v2) per job on this node (see cgroup.h) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dirent.h>

#include "cgroup.h"
#include "log.h"
#include "noded.h"

static char base[512];     /* ROOT/aios/NODE.PID, "" when off */
static char parent[256];   /* ROOT/aios */

struct removal {
    struct event *ev;
    char path[4200];
    int tries;
    struct removal *next;
};

static struct removal *removals;    /* waiting for their processes to die */

static void removal_free (struct removal *r)
{
    struct removal **pp;

    for (pp = &removals; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    if (r->ev)
        event_free (r->ev);
    free (r);
}

bool cg_enabled (void)
{
    return base[0] != '\0';
}

static bool is_v2 (const char *root)
{
    char path[4096];

    snprintf (path, sizeof (path), "%s/cgroup.procs", root);
    if (access (path, W_OK) < 0)
        return false;
    snprintf (path, sizeof (path), "%s/cgroup.controllers", root);
    return access (path, F_OK) == 0;
}

static void kill_all (const char *path);

/* Remove dir and the job cgroups in it, killing what is left there. */
static void remove_tree (const char *dir)
{
    DIR *d = opendir (dir);
    struct dirent *e;
    int tries;

    while (d && (e = readdir (d))) {
        char path[4400];
        if (strncmp (e->d_name, "job_", 4) != 0)
            continue;
        snprintf (path, sizeof (path), "%s/%s", dir, e->d_name);
        for (tries = 0; tries < 100 && rmdir (path) < 0 && errno == EBUSY; tries++) {
            kill_all (path);
            usleep (10 * 1000);
        }
    }
    if (d)
        closedir (d);
    rmdir (dir);
}

/* NODE.PID directories of node daemons that died without cleaning up. */
static void remove_stale (void)
{
    DIR *d = opendir (parent);
    struct dirent *e;

    while (d && (e = readdir (d))) {
        const char *dot = strrchr (e->d_name, '.');
        char path[4400];
        long pid;
        if (e->d_type != DT_DIR || !dot || e->d_name[0] == '.'
            || (pid = strtol (dot + 1, NULL, 10)) <= 0
            || kill ((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf (path, sizeof (path), "%s/%s", parent, e->d_name);
        log_info ("cgroups: removing %s (its aiosd is gone)", path);
        remove_tree (path);
    }
    if (d)
        closedir (d);
}

void cg_init (struct noded *nd)
{
    const char *roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
    const char *root = NULL;
    size_t i;

    for (i = 0; i < sizeof (roots) / sizeof (roots[0]) && !root; i++)
        if (is_v2 (roots[i]))
            root = roots[i];
    if (!root) {
        log_info ("cgroups: no writable cgroup v2 hierarchy: jobs run "
                  "without cgroups (process groups only)");
        return;
    }
    snprintf (parent, sizeof (parent), "%s/aios", root);
    if (snprintf (base, sizeof (base), "%s/%.200s.%d", parent, nd->name,
                  (int)getpid ()) >= (int)sizeof (base)) {
        base[0] = '\0';
        return;
    }
    /* another aiosd may remove an empty parent between the two mkdirs */
    for (i = 0; i < 3; i++) {
        if ((mkdir (parent, 0755) == 0 || errno == EEXIST)
            && (mkdir (base, 0755) == 0 || errno == EEXIST))
            break;
    }
    if (i == 3) {
        log_warn ("cgroups: cannot create %s: %s: jobs run without cgroups",
                  base, strerror (errno));
        base[0] = '\0';
        return;
    }
    remove_stale ();
    log_info ("cgroups: jobs run in %s/job_ID", base);
}

void cg_fini (struct noded *nd)
{
    while (removals)
        removal_free (removals);
    if (!base[0])
        return;
    remove_tree (base);     /* jobs still here are killed first */
    if (access (base, F_OK) == 0)
        log_warn ("cgroups: cannot remove %s: %s", base, strerror (errno));
    rmdir (parent);         /* only when no other aiosd uses it */
    base[0] = '\0';
}

const char *cg_job_path (uint64_t id, char *buf, size_t len)
{
    if (!base[0])
        snprintf (buf, len, "%s", "");
    else
        snprintf (buf, len, "%s/job_%ju", base, (uintmax_t)id);
    return buf;
}

int cg_job_create (struct noded *nd, uint64_t id)
{
    char path[4200];

    if (!base[0])
        return 0;
    cg_job_path (id, path, sizeof (path));
    if (mkdir (path, 0755) < 0 && errno != EEXIST) {
        log_warn ("job %ju: cannot create cgroup %s: %s", (uintmax_t)id, path,
                  strerror (errno));
        return -1;
    }
    return 0;
}

int cg_join (const char *path)
{
    char procs[4300];
    int fd, rc;

    if (!path || !*path)
        return 0;
    snprintf (procs, sizeof (procs), "%s/cgroup.procs", path);
    if ((fd = open (procs, O_WRONLY)) < 0)
        return -1;
    rc = write (fd, "0", 1) == 1 ? 0 : -1;
    close (fd);
    return rc;
}

/* Kill everything in path: cgroup.kill where the kernel has it, else each
 * process listed in cgroup.procs. */
static void kill_all (const char *path)
{
    char file[4300];
    FILE *f;
    int fd;
    long pid;

    snprintf (file, sizeof (file), "%s/cgroup.kill", path);
    if ((fd = open (file, O_WRONLY)) >= 0) {
        if (write (fd, "1", 1) == 1) {
            close (fd);
            return;
        }
        close (fd);
    }
    snprintf (file, sizeof (file), "%s/cgroup.procs", path);
    if ((f = fopen (file, "r"))) {
        while (fscanf (f, "%ld", &pid) == 1)
            kill ((pid_t)pid, SIGKILL);
        fclose (f);
    }
}

static void removal_cb (evutil_socket_t fd, short what, void *arg)
{
    struct removal *r = arg;
    struct timeval tv = { 0, 50 * 1000 };

    if (rmdir (r->path) == 0 || errno == ENOENT) {
        removal_free (r);
        return;
    }
    if (++r->tries >= 200) {    /* 10 s */
        log_warn ("cgroup %s: still busy after 10 s, left in place", r->path);
        removal_free (r);
        return;
    }
    kill_all (r->path);
    evtimer_add (r->ev, &tv);
}

void cg_job_end (struct noded *nd, uint64_t id)
{
    struct removal *r;

    if (!base[0] || !(r = calloc (1, sizeof (*r))))
        return;
    cg_job_path (id, r->path, sizeof (r->path));
    if (access (r->path, F_OK) < 0) {
        free (r);
        return;
    }
    kill_all (r->path);
    if (!(r->ev = evtimer_new (nd->base, removal_cb, r))) {
        free (r);
        return;
    }
    r->next = removals;
    removals = r;
    removal_cb (-1, 0, r);
}
