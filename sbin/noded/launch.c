/* launch.c - running batch scripts as their owner
 *
 * The script runs in its own session (process group = its pid), as the
 * submitting user (initgroups/setgid/setuid: never root for a non-root
 * owner), in the job's working directory, with stdout/stderr in files named
 * from patterns.  The child reports any failure before exec through a
 * close-on-exec pipe, so the job fails with the reason instead of vanishing.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "catalog.h"
#include "cgroup.h"
#include "launch.h"
#include "log.h"
#include "noded.h"
#include "parse.h"
#include "proto.h"
#include "spool.h"

struct task {
    uint64_t id;
    pid_t pid;                  /* also the process group */
    double start;
    int kill_wait;
    bool timed_out;
    bool terminating;
    int report_fd;              /* child's pre-exec failure text, if any */
    struct event *limit_ev;
    struct event *kill_ev;
    struct noded *nd;
    json_t *spec;               /* the launch spec (stage-out reads it) */
    struct task *next;
};

struct spec {
    uint64_t id;
    const char *name, *user, *script, *workdir, *output, *error;
    const char *nodelist, *partition;
    json_t *env;
    json_t *gpus;           /* GPU indexes on this node, or NULL */
    json_t *alloc_tasks;    /* [[node, tasks], ...], or NULL */
    json_int_t uid, gid, ntasks, nnodes, cpus_on_node, time_limit, kill_wait;
    json_int_t node_index;
    const char *hostfile;   /* the batch script's host file, or NULL */
    json_int_t cpus_per_task, tasks_on_node, mem_mb, restarts;
    json_int_t array_id, array_task, array_count, array_min, array_max;
    const char *account;
    json_t *datasets;       /* {"NAME": path of the staged copy} or NULL */
    const char *scratch;    /* the job's scratch directory, or NULL */
};

/* aios-exec, next to aiosd: DIR/../bin/aios-exec (build tree or install). */
static const char *aios_exec_path (void)
{
    static char path[4200];
    char self[4096];
    ssize_t n;
    char *slash;

    if (path[0])
        return path;
    if ((n = readlink ("/proc/self/exe", self, sizeof (self) - 1)) <= 0)
        return "aios-exec";
    self[n] = '\0';
    if ((slash = strrchr (self, '/')))
        *slash = '\0';
    snprintf (path, sizeof (path), "%s/../bin/aios-exec", self);
    if (access (path, X_OK) < 0)
        snprintf (path, sizeof (path), "aios-exec");
    return path;
}

static double now_s (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct task *task_find (struct noded *nd, uint64_t id)
{
    struct task *t;

    for (t = nd->tasks; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

static void task_free (struct task *t)
{
    if (t) {
        if (t->report_fd >= 0)
            close (t->report_fd);
        if (t->limit_ev)
            event_free (t->limit_ev);
        if (t->kill_ev)
            event_free (t->kill_ev);
        json_decref (t->spec);
        free (t);
    }
}

static void task_unlink (struct noded *nd, struct task *t)
{
    struct task **pp;

    for (pp = &nd->tasks; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            return;
        }
    }
}

/* Signal the job's process group; until the child's setsid() has made the
 * group, the child alone. */
static int task_kill (struct task *t, int sig)
{
    if (kill (-t->pid, sig) == 0)
        return 0;
    return errno == ESRCH ? kill (t->pid, sig) : -1;
}

/* --- completion ----------------------------------------------------------- */

static void complete (struct noded *nd, uint64_t id, json_t *rec)
{
    aios_error_t err;

    if (spool_write_completion (nd->spool_dir, id, rec, &err) < 0)
        log_err ("job %ju: cannot record completion: %s", (uintmax_t)id, err.text);
    ctlconn_send_completion (nd, rec);
}

void launch_complete (struct noded *nd, uint64_t id, json_t *rec)
{
    complete (nd, id, rec);
}

static void fail_launch (struct noded *nd, uint64_t id, const char *reason)
{
    json_t *rec = json_pack ("{s:s s:I s:i s:i s:s}", "op", "complete", "id",
                             (json_int_t)id, "exit_code", 1, "signal", 0,
                             "reason", reason);

    log_warn ("job %ju: launch failed: %s", (uintmax_t)id, reason);
    if (rec)
        complete (nd, id, rec);
    json_decref (rec);
}

/* --- the child ------------------------------------------------------------ */

/* Expand %j %x %u %N %A %a %% in pattern; relative results are under
 * workdir. */
static void expand_pattern (const struct spec *s, const char *node,
                            const char *pattern, char *out, size_t len)
{
    size_t o = 0;
    const char *p;

    if (pattern[0] != '/') {
        int n = snprintf (out, len, "%s/", s->workdir);
        o = n > 0 && (size_t)n < len ? (size_t)n : 0;
    }
    for (p = pattern; *p && o + 1 < len; p++) {
        char tmp[64];
        const char *ins = NULL;
        if (*p != '%' || !p[1]) {
            out[o++] = *p;
            continue;
        }
        switch (*++p) {
        case 'j': snprintf (tmp, sizeof (tmp), "%ju", (uintmax_t)s->id); ins = tmp; break;
        case 'A':
            snprintf (tmp, sizeof (tmp), "%ju",
                      (uintmax_t)(s->array_id ? (uint64_t)s->array_id : s->id));
            ins = tmp;
            break;
        case 'a':
            snprintf (tmp, sizeof (tmp), "%lld",
                      s->array_id ? (long long)s->array_task : 0LL);
            ins = tmp;
            break;
        case 'x': ins = s->name; break;
        case 'u': ins = s->user; break;
        case 'N': ins = node; break;
        case '%': ins = "%"; break;
        default:
            out[o++] = '%';
            if (o + 1 < len)
                out[o++] = *p;
            continue;
        }
        o += (size_t)snprintf (out + o, len - o, "%s", ins);
        if (o >= len)
            o = len - 1;
    }
    out[o] = '\0';
}

static void child_fail (int fd, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3), noreturn));

static void child_fail (int fd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start (ap, fmt);
    n = vsnprintf (buf, sizeof (buf), fmt, ap);
    va_end (ap);
    if (write (fd, buf, n > 0 ? (size_t)n : 0) < 0) {
        /* nothing more to do */
    }
    _exit (127);
}

/* The time limit in minutes, rounded up, as Slurm exports it; 0 none. */
static json_int_t time_limit_min (const struct spec *s)
{
    return s->time_limit > 0 ? (s->time_limit + 59) / 60 : 0;
}

static void set_env_num (const char *name, json_int_t v)
{
    char buf[32];

    snprintf (buf, sizeof (buf), "%lld", (long long)v);
    setenv (name, buf, 1);
}

/* "0,2,3" from [0, 2, 3]. */
static void gpu_env (const struct spec *s, int node_gpus)
{
    char buf[256] = "";
    size_t i, len = 0;
    json_t *v;

    json_array_foreach (s->gpus, i, v) {
        if (len < sizeof (buf))
            len += (size_t)snprintf (buf + len, sizeof (buf) - len, "%s%lld",
                                     i ? "," : "", (long long)json_integer_value (v));
    }
    if (len > 0) {
        setenv ("CUDA_VISIBLE_DEVICES", buf, 1);
        setenv ("AIOS_GPUS", buf, 1);
        setenv ("GPU_DEVICE_ORDINAL", buf, 1);
    } else if (node_gpus > 0) {
        /* the node has GPUs but the job asked for none */
        setenv ("CUDA_VISIBLE_DEVICES", "", 1);
        unsetenv ("AIOS_GPUS");
        unsetenv ("GPU_DEVICE_ORDINAL");
    }
}

/* SLURM_TASKS_PER_NODE as Slurm writes it: "2(x3),1" for 2 tasks on each
 * of 3 nodes, then 1 on the last. */
static void tasks_per_node_env (const struct spec *s)
{
    char buf[1024] = "";
    size_t i, n = json_array_size (s->alloc_tasks), len = 0;

    for (i = 0; i < n && len < sizeof (buf) - 32;) {
        json_int_t t = json_integer_value (json_array_get (
            json_array_get (s->alloc_tasks, i), 1));
        size_t run = 1;
        while (i + run < n && json_integer_value (json_array_get (
                   json_array_get (s->alloc_tasks, i + run), 1)) == t)
            run++;
        len += (size_t)snprintf (buf + len, sizeof (buf) - len, "%s%lld",
                                 len ? "," : "", (long long)t);
        if (run > 1)
            len += (size_t)snprintf (buf + len, sizeof (buf) - len, "(x%zu)", run);
        i += run;
    }
    if (len > 0)
        setenv ("SLURM_TASKS_PER_NODE", buf, 1);
    else if (s->tasks_on_node > 0)
        set_env_num ("SLURM_TASKS_PER_NODE", s->tasks_on_node);
}

/* Slurm's names, so that a script written for sbatch runs unchanged. */
static void slurm_env (const struct spec *s, const char *node)
{
    char buf[64];

    snprintf (buf, sizeof (buf), "%ju", (uintmax_t)s->id);
    setenv ("SLURM_JOB_ID", buf, 1);
    setenv ("SLURM_JOBID", buf, 1);
    setenv ("SLURM_JOB_NAME", s->name, 1);
    setenv ("SLURM_JOB_NODELIST", s->nodelist, 1);
    setenv ("SLURM_NODELIST", s->nodelist, 1);
    setenv ("SLURM_JOB_PARTITION", s->partition, 1);
    setenv ("SLURM_JOB_USER", s->user, 1);
    set_env_num ("SLURM_JOB_UID", s->uid);
    set_env_num ("SLURM_JOB_GID", s->gid);
    set_env_num ("SLURM_NNODES", s->nnodes);
    set_env_num ("SLURM_JOB_NUM_NODES", s->nnodes);
    set_env_num ("SLURM_NTASKS", s->ntasks);
    set_env_num ("SLURM_NPROCS", s->ntasks);
    set_env_num ("SLURM_CPUS_PER_TASK", s->cpus_per_task > 0 ? s->cpus_per_task : 1);
    set_env_num ("SLURM_CPUS_ON_NODE", s->cpus_on_node);
    set_env_num ("SLURM_NODEID", s->node_index);
    setenv ("SLURM_PROCID", "0", 1);
    setenv ("SLURM_LOCALID", "0", 1);
    setenv ("SLURM_SUBMIT_DIR", s->workdir, 1);
    setenv ("SLURMD_NODENAME", node, 1);
    set_env_num ("SLURM_RESTART_COUNT", s->restarts);
    if (s->mem_mb > 0)
        set_env_num ("SLURM_MEM_PER_NODE", s->mem_mb);
    if (s->account)
        setenv ("SLURM_JOB_ACCOUNT", s->account, 1);
    tasks_per_node_env (s);
    if (s->array_id) {
        set_env_num ("SLURM_ARRAY_JOB_ID", s->array_id);
        set_env_num ("SLURM_ARRAY_TASK_ID", s->array_task);
        set_env_num ("SLURM_ARRAY_TASK_COUNT", s->array_count);
        set_env_num ("SLURM_ARRAY_TASK_MIN", s->array_min);
        set_env_num ("SLURM_ARRAY_TASK_MAX", s->array_max);
    }
    if (time_limit_min (s) > 0)
        set_env_num ("SLURM_TIME_LIMIT", time_limit_min (s));
}

static void child_env (const struct spec *s, const char *node, const char *home,
                       int node_gpus)
{
    const char *key;
    json_t *v;
    char buf[64];

    clearenv ();
    json_object_foreach (s->env, key, v) {
        if (json_is_string (v))
            setenv (key, json_string_value (v), 1);
    }
    snprintf (buf, sizeof (buf), "%ju", (uintmax_t)s->id);
    setenv ("AIOS_JOB_ID", buf, 1);
    setenv ("AIOS_JOB_NAME", s->name, 1);
    setenv ("AIOS_JOB_NODELIST", s->nodelist, 1);
    setenv ("AIOS_JOB_PARTITION", s->partition, 1);
    set_env_num ("AIOS_NNODES", s->nnodes);
    set_env_num ("AIOS_NTASKS", s->ntasks);
    set_env_num ("AIOS_CPUS_ON_NODE", s->cpus_on_node);
    setenv ("AIOS_SUBMIT_DIR", s->workdir, 1);
    setenv ("AIOS_NODENAME", node, 1);
    setenv ("AIOS_JOB_USER", s->user, 1);
    set_env_num ("AIOS_NODEID", s->node_index);
    if (s->array_id) {
        set_env_num ("AIOS_ARRAY_JOB_ID", s->array_id);
        set_env_num ("AIOS_ARRAY_TASK_ID", s->array_task);
        set_env_num ("AIOS_ARRAY_TASK_COUNT", s->array_count);
        set_env_num ("AIOS_ARRAY_TASK_MIN", s->array_min);
        set_env_num ("AIOS_ARRAY_TASK_MAX", s->array_max);
    }
    if (s->scratch)
        setenv ("AIOS_SCRATCH", s->scratch, 1);
    if (s->datasets) {
        const char *k;
        json_t *p;
        json_object_foreach (s->datasets, k, p) {
            char name[CATALOG_ENV_MAX];
            catalog_env_name (k, name);
            if (json_is_string (p))
                setenv (name, json_string_value (p), 1);
        }
    }
    set_env_num ("AIOS_RESTART_COUNT", s->restarts);
    slurm_env (s, node);
    /* stock mpiexec (Hydra) starts its proxies through aios-exec */
    if (s->hostfile)
        setenv ("HYDRA_HOST_FILE", s->hostfile, 1);
    setenv ("HYDRA_LAUNCHER", "ssh", 1);
    setenv ("HYDRA_LAUNCHER_EXEC", aios_exec_path (), 1);
    gpu_env (s, node_gpus);
    if (!getenv ("HOME") && home)
        setenv ("HOME", home, 1);
    if (!getenv ("PATH"))
        setenv ("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
}

static void child_identity (int fd, const struct spec *s, struct passwd *pw)
{
    uid_t uid = (uid_t)s->uid;
    gid_t gid = (gid_t)s->gid;

    if (geteuid () != 0) {
        if (uid != geteuid ())
            child_fail (fd, "aiosd runs as uid %u and cannot run a job of "
                        "user %s (uid %u)", (unsigned)geteuid (), s->user,
                        (unsigned)uid);
        return;
    }
    if (pw ? initgroups (pw->pw_name, gid) < 0 : setgroups (0, NULL) < 0)
        child_fail (fd, "cannot set supplementary groups of %s: %s", s->user,
                    strerror (errno));
    if (setgid (gid) < 0)
        child_fail (fd, "setgid %u: %s", (unsigned)gid, strerror (errno));
    if (setuid (uid) < 0)
        child_fail (fd, "setuid %u: %s", (unsigned)uid, strerror (errno));
    if (uid != 0 && setuid (0) == 0)
        child_fail (fd, "could regain root after setuid: refusing to run");
}

static void child_stdio (int fd, const struct spec *s, const char *node)
{
    char out[4096], errp[4096];
    int o, e, nul;

    expand_pattern (s, node, s->output ? s->output
                             : s->array_id ? "aios-%A_%a.out" : "aios-%j.out",
                    out, sizeof (out));
    if ((o = open (out, O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0)
        child_fail (fd, "cannot open output file %s: %s", out, strerror (errno));
    if (s->error) {
        expand_pattern (s, node, s->error, errp, sizeof (errp));
        if ((e = open (errp, O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0)
            child_fail (fd, "cannot open error file %s: %s", errp, strerror (errno));
    }
    else
        e = o;
    if ((nul = open ("/dev/null", O_RDONLY)) < 0)
        child_fail (fd, "/dev/null: %s", strerror (errno));
    dup2 (nul, STDIN_FILENO);
    dup2 (o, STDOUT_FILENO);
    dup2 (e, STDERR_FILENO);
}

static void child_run (int fd, const struct spec *s, const char *node,
                       const char *script, int node_gpus, const char *cgroup)
{
    struct passwd *pw = getpwuid ((uid_t)s->uid);
    sigset_t all;
    int sig;
    char *argv[2] = { (char *)script, NULL };

    if (setsid () < 0)
        child_fail (fd, "setsid: %s", strerror (errno));
    if (cg_join (cgroup) < 0)
        child_fail (fd, "cannot join cgroup %s: %s", cgroup, strerror (errno));
    /* Nothing of aiosd's (sockets, spool files) leaks into the job. */
    if (fd > 3)
        close_range (3, (unsigned)fd - 1, 0);
    close_range ((unsigned)fd + 1, ~0U, 0);
    for (sig = 1; sig < NSIG; sig++)
        signal (sig, SIG_DFL);
    sigemptyset (&all);
    sigprocmask (SIG_SETMASK, &all, NULL);
    child_identity (fd, s, pw);
    if (chdir (s->workdir) < 0)
        child_fail (fd, "cannot change to working directory %s: %s",
                    s->workdir, strerror (errno));
    child_stdio (fd, s, node);
    child_env (s, node, pw ? pw->pw_dir : NULL, node_gpus);
    umask (022);
    execv (script, argv);
    child_fail (fd, "cannot execute the batch script: %s", strerror (errno));
}

static int parse_spec (json_t *j, struct spec *s, aios_error_t *err);

void launch_exec_child (int fd, int keep, json_t *spec, const char *node,
                        int node_gpus, const char *cwd, char **argv,
                        json_t *extra_env)
{
    struct spec s;
    struct passwd *pw;
    aios_error_t err;
    sigset_t all;
    int sig;
    const char *key;
    json_t *v;

    if (parse_spec (spec, &s, &err) < 0)
        child_fail (fd, "%s", err.text);
    pw = getpwuid ((uid_t)s.uid);
    if (setsid () < 0)
        child_fail (fd, "setsid: %s", strerror (errno));
    {
        /* nothing of aiosd's leaks in: close all but fd and keep */
        int lo = keep >= 0 && keep < fd ? keep : fd;
        int hi = keep >= 0 && keep > fd ? keep : fd;
        if (lo > 3)
            close_range (3, (unsigned)lo - 1, 0);
        if (hi > lo + 1)
            close_range ((unsigned)lo + 1, (unsigned)hi - 1, 0);
        close_range ((unsigned)hi + 1, ~0U, 0);
    }
    for (sig = 1; sig < NSIG; sig++)
        signal (sig, SIG_DFL);
    sigemptyset (&all);
    sigprocmask (SIG_SETMASK, &all, NULL);
    child_identity (fd, &s, pw);
    if ((!cwd || chdir (cwd) < 0) && chdir (s.workdir) < 0 && chdir ("/") < 0)
        child_fail (fd, "cannot change directory: %s", strerror (errno));
    child_env (&s, node, pw ? pw->pw_dir : NULL, node_gpus);
    json_object_foreach (extra_env, key, v)
        if (json_is_string (v))
            setenv (key, json_string_value (v), 1);
    umask (022);
    execvp (argv[0], argv);
    child_fail (fd, "cannot execute %s: %s", argv[0], strerror (errno));
}

/* --- the parent ----------------------------------------------------------- */

static void kill_cb (evutil_socket_t fd, short what, void *arg)
{
    struct task *t = arg;

    log_info ("job %ju: kill_wait over, sending SIGKILL", (uintmax_t)t->id);
    task_kill (t, SIGKILL);
}

static void begin_termination (struct task *t)
{
    struct timeval tv = { t->kill_wait, 0 };

    if (t->terminating)
        return;
    t->terminating = true;
    task_kill (t, SIGTERM);
    task_kill (t, SIGCONT);
    if (t->kill_wait == 0)
        task_kill (t, SIGKILL);
    else if ((t->kill_ev = evtimer_new (t->nd->base, kill_cb, t)))
        evtimer_add (t->kill_ev, &tv);
}

static void limit_cb (evutil_socket_t fd, short what, void *arg)
{
    struct task *t = arg;

    log_info ("job %ju: time limit reached", (uintmax_t)t->id);
    t->timed_out = true;
    begin_termination (t);
}

static int parse_spec (json_t *j, struct spec *s, aios_error_t *err)
{
    json_int_t id;

    memset (s, 0, sizeof (*s));
    if (proto_unpack (j, err, "launch",
                      "{s:I s:s s:s s:s s:s s:o s?s s?s s:s s:s s:I s:I s:I s:I"
                      " s:I s:I s:I s?o}",
                      "id", &id, "name", &s->name, "user", &s->user,
                      "script", &s->script, "workdir", &s->workdir,
                      "env", &s->env, "output", &s->output, "error", &s->error,
                      "nodelist", &s->nodelist, "partition", &s->partition,
                      "uid", &s->uid, "gid", &s->gid, "ntasks", &s->ntasks,
                      "nnodes", &s->nnodes, "cpus_on_node", &s->cpus_on_node,
                      "time_limit", &s->time_limit, "kill_wait",
                      &s->kill_wait, "gpus_on_node", &s->gpus) < 0)
        return -1;
    json_unpack (j, "{s?o s?I s?I s?I s?I s?I s?I s?I s?I s?I s?I s?s s?o}",
                 "alloc_tasks", &s->alloc_tasks, "node_index", &s->node_index,
                 "cpus_per_task", &s->cpus_per_task, "tasks_on_node",
                 &s->tasks_on_node, "mem_mb", &s->mem_mb, "restarts",
                 &s->restarts, "array_job_id", &s->array_id, "array_task_id",
                 &s->array_task, "array_count", &s->array_count, "array_min",
                 &s->array_min, "array_max", &s->array_max, "account",
                 &s->account, "datasets", &s->datasets);
    s->id = (uint64_t)id;
    return 0;
}

/* The child's word: "" = exec'd; else the reason it failed (-1). */
static int read_child_report (int fd, char *buf, size_t len)
{
    size_t got = 0;
    ssize_t n;

    while (got < len - 1) {
        n = read (fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got > 0 ? -1 : 0;
}

/* "node1:4\nnode2:4\n": the allocation for mpiexec (HYDRA_HOST_FILE). */
static int write_hostfile (struct noded *nd, const struct spec *s, char *path,
                           size_t len, aios_error_t *err)
{
    char *text = NULL;
    size_t size = 0, i;
    FILE *f = open_memstream (&text, &size);
    json_t *e;
    int rc;

    if (!f)
        return errprintf (err, "out of memory");
    json_array_foreach (s->alloc_tasks, i, e)
        fprintf (f, "%s:%lld\n", json_string_value (json_array_get (e, 0)),
                 (long long)json_integer_value (json_array_get (e, 1)));
    fclose (f);
    rc = spool_job_file (nd->spool_dir, s->id, "hostfile", text ? text : "",
                         (uid_t)s->uid, (gid_t)s->gid, path, len, err);
    free (text);
    return rc;
}

int launch_job (struct noded *nd, json_t *j, aios_error_t *err)
{
    struct spec s;
    struct task *t;
    char script[4096], report[512], hostfile[4096], cgpath[4200];
    sigset_t all, old;
    int pfd[2];
    pid_t pid;

    if (parse_spec (j, &s, err) < 0)
        return -1;
    if (task_find (nd, s.id))
        return 0; /* duplicate launch after a reconnect */
    /* its scratch directory (staging.scratch): spec's "scratch" */
    if (stage_job_prepare (nd, j, err) < 0) {
        fail_launch (nd, s.id, err->text);
        return 0;
    }
    s.scratch = json_string_value (json_object_get (j, "scratch"));
    if (spool_job_create (nd->spool_dir, s.id, s.script, (uid_t)s.uid,
                          (gid_t)s.gid, script, sizeof (script), err) < 0) {
        fail_launch (nd, s.id, err->text);
        return 0;
    }
    cg_job_create (nd, s.id);
    cg_job_path (s.id, cgpath, sizeof (cgpath));
    if (write_hostfile (nd, &s, hostfile, sizeof (hostfile), err) == 0)
        s.hostfile = hostfile;
    else
        log_warn ("job %ju: %s", (uintmax_t)s.id, err->text);
    if (pipe2 (pfd, O_CLOEXEC) < 0) {
        snprintf (report, sizeof (report), "pipe: %s", strerror (errno));
        fail_launch (nd, s.id, report);
        return 0;
    }
    /* Signals stay blocked across fork: the child must never run aiosd's
     * handlers; it resets them to default before unblocking. */
    sigfillset (&all);
    sigprocmask (SIG_SETMASK, &all, &old);
    if ((pid = fork ()) == 0) {
        close (pfd[0]);
        child_run (pfd[1], &s, nd->name, script, nd->gpus, cgpath);
    }
    sigprocmask (SIG_SETMASK, &old, NULL);
    close (pfd[1]);
    if (pid < 0) {
        close (pfd[0]);
        snprintf (report, sizeof (report), "fork: %s", strerror (errno));
        fail_launch (nd, s.id, report);
        return 0;
    }
    if (!(t = calloc (1, sizeof (*t)))) {
        close (pfd[0]);
        kill (pid, SIGKILL);
        return errprintf (err, "out of memory");
    }
    /* Not waiting for the exec keeps the loop free: the child's report is
     * read when it is reaped (the pipe is closed by then, success or not). */
    t->report_fd = pfd[0];
    t->id = s.id;
    t->pid = pid;
    t->nd = nd;
    t->start = now_s ();
    t->kill_wait = (int)s.kill_wait;
    t->spec = json_incref (j);
    if (s.time_limit > 0) {
        struct timeval tv = { (time_t)s.time_limit, 0 };
        if ((t->limit_ev = evtimer_new (nd->base, limit_cb, t)))
            evtimer_add (t->limit_ev, &tv);
    }
    t->next = nd->tasks;
    nd->tasks = t;
    if (spool_write_pid (nd->spool_dir, s.id, pid, err) < 0)
        log_warn ("job %ju: %s", (uintmax_t)s.id, err->text);
    log_debug ("job %ju: started pid %d as uid %lld", (uintmax_t)s.id,
               (int)pid, (long long)s.uid);
    return 0;
}

int launch_terminate (struct noded *nd, uint64_t id)
{
    struct task *t = task_find (nd, id);

    if (!t) {
        errno = ENOENT;
        return -1;
    }
    begin_termination (t);
    return 0;
}

int launch_signal_shell (struct noded *nd, uint64_t id, int sig)
{
    struct task *t = task_find (nd, id);

    if (!t) {
        errno = ENOENT;
        return -1;
    }
    return kill (t->pid, sig);
}

int launch_signal (struct noded *nd, uint64_t id, int sig)
{
    struct task *t = task_find (nd, id);

    if (!t) {
        errno = ENOENT;
        return -1;
    }
    return task_kill (t, sig);
}

int launch_set_limit (struct noded *nd, uint64_t id, long limit)
{
    struct task *t = task_find (nd, id);
    struct timeval tv;
    double left;

    if (!t) {
        errno = ENOENT;
        return -1;
    }
    if (t->terminating)
        return 0; /* it is ending already */
    if (t->limit_ev)
        evtimer_del (t->limit_ev);
    if (limit < 0)
        return 0;
    if (!t->limit_ev && !(t->limit_ev = evtimer_new (nd->base, limit_cb, t))) {
        errno = ENOMEM;
        return -1;
    }
    left = t->start + (double)limit - now_s ();
    if (left < 0)
        left = 0;
    tv.tv_sec = (time_t)left;
    tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
    log_info ("job %ju: time limit now %ld s (%.0f s left)", (uintmax_t)id, limit,
              left);
    return evtimer_add (t->limit_ev, &tv);
}

static void task_done (struct noded *nd, struct task *t, int status,
                       const struct rusage *ru)
{
    char report[512];
    json_t *rec;
    double cpu = ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6
                 + ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
    int code = WIFEXITED (status) ? WEXITSTATUS (status) : 0;
    int sig = WIFSIGNALED (status) ? WTERMSIG (status) : 0;

    /* Whatever the script left behind in its process group goes with it. */
    kill (-t->pid, SIGKILL);
    if (t->report_fd >= 0 && read_child_report (t->report_fd, report,
                                                sizeof (report)) < 0) {
        fail_launch (nd, t->id, report); /* it never ran */
        return;
    }
    rec = json_pack ("{s:s s:I s:i s:i s:b s:f s:I s:f}", "op", "complete",
                     "id", (json_int_t)t->id, "exit_code", code, "signal", sig,
                     "timed_out", t->timed_out, "cpu_time", cpu, "max_rss_kb",
                     (json_int_t)ru->ru_maxrss, "elapsed", now_s () - t->start);
    log_debug ("job %ju: exited (code %d, signal %d)", (uintmax_t)t->id, code, sig);
    if (rec && stage_out_start (nd, t->spec, rec, t->start) > 0) {
        json_decref (rec); /* completed when the stage-out ends */
        return;
    }
    if (rec)
        complete (nd, t->id, rec);
    json_decref (rec);
}

void launch_reap (struct noded *nd)
{
    struct rusage ru;
    int status;
    pid_t pid;

    while ((pid = wait4 (-1, &status, WNOHANG, &ru)) > 0) {
        struct task *t;
        for (t = nd->tasks; t && t->pid != pid; t = t->next)
            ;
        if (!t) {
            if (!stage_reaped (nd, pid, status))
                listener_reaped (nd, pid, status);
            continue;
        }
        task_unlink (nd, t);
        task_done (nd, t, status, &ru);
        task_free (t);
    }
}

bool launch_running (struct noded *nd, uint64_t id)
{
    return task_find (nd, id) != NULL;
}

json_t *launch_running_ids (struct noded *nd)
{
    json_t *a = json_array ();
    struct task *t;

    for (t = nd->tasks; a && t; t = t->next)
        json_array_append_new (a, json_integer ((json_int_t)t->id));
    return a;
}

void launch_kill_all (struct noded *nd)
{
    struct task *t;

    for (t = nd->tasks; t; t = t->next)
        task_kill (t, SIGKILL);
}

void launch_free_all (struct noded *nd)
{
    while (nd->tasks) {
        struct task *t = nd->tasks;
        nd->tasks = t->next;
        task_free (t);
    }
}
