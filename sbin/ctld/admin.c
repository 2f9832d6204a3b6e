/* admin.c - aios-control: update a job; show partitions and the running
 * configuration; reconfigure; shutdown */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "conn.h"
#include "ctld.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"
#include "parse.h"
#include "proto.h"
#include "store.h"

/* --- update job ------------------------------------------------------------ */

/* One update being checked.  The keys change rec, a copy of the job's
 * request; the job takes it only when every key and the result passed. */
struct update {
    struct conn *c;
    struct job *job;
    json_t *rec;
    bool privileged;
    bool limit_changed;     /* a running job's node must learn it */
};

typedef int (*update_f) (struct update *u, const char *key, const char *value,
                         aios_error_t *err);

static int need_pending (struct update *u, const char *key, aios_error_t *err)
{
    if (u->job->state == JOB_PENDING)
        return 0;
    errno = EINVAL;
    return errprintf (err, "job %ju is %s: its %s can only be changed while it "
                      "is pending", (uintmax_t)u->job->id,
                      job_state_name (u->job->state), key);
}

static int need_privilege (struct update *u, const char *what, aios_error_t *err)
{
    if (u->privileged)
        return 0;
    errno = EPERM;
    return errprintf (err, "job %ju: permission denied: only operators and root "
                      "may %s", (uintmax_t)u->job->id, what);
}

static int set_field (struct update *u, const char *field, json_t *v,
                      aios_error_t *err)
{
    if (!v || json_object_set_new (u->rec, field, v) < 0) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    return 0;
}

/* TimeLimit: any job not yet ending; owners may only lower it. */
static int set_time_limit (struct update *u, const char *key, const char *value,
                           aios_error_t *err)
{
    struct job *job = u->job;
    long cur = job->time_limit, tl;
    char a[32], b[32], what[128];
    aios_error_t perr;

    if (parse_time (value, &tl, &perr) < 0) {
        errno = EINVAL;
        return errprintf (err, "invalid %s \"%s\": expected MM, MM:SS, HH:MM:SS, "
                          "D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED", key, value);
    }
    if (job->state != JOB_PENDING && job->state != JOB_STAGING
        && job->state != JOB_RUNNING) {
        errno = EINVAL;
        return errprintf (err, "job %ju is %s: its %s can no longer be changed",
                          (uintmax_t)job->id, job_state_name (job->state), key);
    }
    if ((tl < 0 && cur >= 0) || (cur >= 0 && tl > cur)) {
        snprintf (what, sizeof (what), "raise a time limit (from %s to %s)",
                  format_time (cur, a, sizeof (a)), format_time (tl, b, sizeof (b)));
        if (need_privilege (u, what, err) < 0)
            return -1;
    }
    u->limit_changed = job->state == JOB_RUNNING && tl != cur;
    return set_field (u, "time_limit", json_integer (tl), err);
}

static int set_partition (struct update *u, const char *key, const char *value,
                          aios_error_t *err)
{
    const struct aios_conf *conf = u->c->ctld->conf;
    char known[256] = "";
    size_t i, len = 0;

    if (need_pending (u, key, err) < 0)
        return -1;
    if (*value && conf_partition_lookup (conf, value))
        return set_field (u, "partition", json_string (value), err);
    for (i = 0; i < conf->nparts && len < sizeof (known); i++)
        len += (size_t)snprintf (known + len, sizeof (known) - len, "%s%s",
                                 i ? ", " : "", conf->parts[i].name);
    errno = ENOENT;
    return errprintf (err, "invalid %s \"%s\" (this cluster has: %s)", key, value,
                      known);
}

static int set_name (struct update *u, const char *key, const char *value,
                     aios_error_t *err)
{
    if (need_pending (u, key, err) < 0)
        return -1;
    if (strlen (value) == 0 || strlen (value) > 200) {
        errno = EINVAL;
        return errprintf (err, "invalid %s \"%s\": 1 to 200 characters", key, value);
    }
    return set_field (u, "name", json_string (value), err);
}

/* Nice: owners may raise it (lower their own priority), never below 0. */
static int set_nice (struct update *u, const char *key, const char *value,
                     aios_error_t *err)
{
    char what[96];
    aios_error_t perr;
    long nice;

    if (parse_long (value, -10000, 10000, &nice, &perr) < 0) {
        errno = EINVAL;
        return errprintf (err, "invalid %s \"%s\": expected an integer from -10000 "
                          "to 10000", key, value);
    }
    if (need_pending (u, key, err) < 0)
        return -1;
    if (nice < 0 || nice < u->job->nice) {
        if (nice < 0)
            snprintf (what, sizeof (what), "set a negative nice (%ld)", nice);
        else
            snprintf (what, sizeof (what), "lower a job's nice (from %d to %ld)",
                      u->job->nice, nice);
        if (need_privilege (u, what, err) < 0)
            return -1;
    }
    return set_field (u, "nice", json_integer (nice), err);
}

/* Priority: a fixed value that replaces the policy's for this job.  Owners
 * may only lower it (below what the last pass gave the job). */
static int set_priority (struct update *u, const char *key, const char *value,
                         aios_error_t *err)
{
    char *end;
    double prio;

    errno = 0;
    prio = strtod (value, &end);
    if (!*value || *end || errno || !isfinite (prio)) {
        errno = EINVAL;
        return errprintf (err, "invalid %s \"%s\": expected a number", key, value);
    }
    if (need_pending (u, key, err) < 0)
        return -1;
    if (prio > u->job->priority
        && need_privilege (u, "raise a job's priority", err) < 0)
        return -1;
    return set_field (u, "admin_priority", json_real (prio), err);
}

static const struct {
    const char *name;
    const char *alias;
    update_f fn;
} update_keys[] = {
    { "TimeLimit", "Time", set_time_limit },
    { "Partition", NULL, set_partition },
    { "Name", "JobName", set_name },
    { "Nice", NULL, set_nice },
    { "Priority", NULL, set_priority },
};
#define NKEYS (sizeof (update_keys) / sizeof (update_keys[0]))

/* Apply every key of set (names as aios-control takes them, any case) to
 * u->rec; the first error wins. */
static int update_apply (struct update *u, json_t *set, aios_error_t *err)
{
    bool seen[NKEYS] = { false };
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach (set, key, v) {
        for (i = 0; i < NKEYS; i++)
            if (!strcasecmp (key, update_keys[i].name)
                || (update_keys[i].alias && !strcasecmp (key, update_keys[i].alias)))
                break;
        errno = EINVAL;
        if (i == NKEYS)
            return errprintf (err, "unknown key \"%s\" (expected TimeLimit, "
                              "Partition, Name, Nice or Priority)", key);
        if (seen[i])
            return errprintf (err, "%s given twice", update_keys[i].name);
        if (!json_is_string (v))
            return errprintf (err, "%s: the value must be a string", key);
        seen[i] = true;
        if (update_keys[i].fn (u, update_keys[i].name, json_string_value (v),
                               err) < 0)
            return -1;
    }
    return 0;
}

/* Could the job as changed ever run?  (Pending jobs; a running one keeps
 * what it has.) */
static int update_check (struct update *u, aios_error_t *err)
{
    struct job *tmp;
    int rc = 0;

    if (!(tmp = job_create (u->job->id, u->rec, NULL, err)))
        return -1;
    if (u->job->state == JOB_PENDING)
        rc = sched_check_possible (u->c->ctld, tmp, err);
    job_destroy (tmp);
    return rc;
}

/* Tell the node running the batch script its new time limit (the node
 * daemon enforces it).  A node that is not connected keeps the old one. */
static void send_limit (struct ctld *ctld, struct job *job)
{
    struct node *n = job->nalloc > 0 ? nodetab_lookup (ctld->nodes, job->alloc[0].node)
                                     : NULL;
    json_t *msg;

    if (!n || !n->conn) {
        log_warn ("job %ju: node %s is not connected: its new time limit "
                  "applies only from the controller's side",
                  (uintmax_t)job->id, n ? n->name : "?");
        return;
    }
    if (!(msg = proto_request ("limit", n->conn->out_seq++))
        || json_object_set_new (msg, "id", json_integer ((json_int_t)job->id)) < 0
        || json_object_set_new (msg, "time_limit",
                                json_integer (job->time_limit)) < 0) {
        json_decref (msg);
        log_err ("job %ju: cannot send the new time limit", (uintmax_t)job->id);
        return;
    }
    conn_send_committed (n->conn, msg);
}

/* "TimeLimit=10:00 Name=x" for the log and the job's history. */
static void update_text (json_t *set, char *buf, size_t len)
{
    const char *key;
    json_t *v;
    size_t n = 0;

    buf[0] = '\0';
    json_object_foreach (set, key, v)
        if (n < len)
            n += (size_t)snprintf (buf + n, len - n, "%s%s=%s", n ? " " : "", key,
                                   json_is_string (v) ? json_string_value (v) : "?");
}

static int update_commit (struct update *u, json_t *set, aios_error_t *err)
{
    struct ctld *ctld = u->c->ctld;
    struct job *job = u->job;
    char what[256], reason[320];

    if (job_set_req (job, u->rec, err) < 0)
        return -1;
    update_text (set, what, sizeof (what));
    snprintf (reason, sizeof (reason), "updated by %s: %s", u->c->user, what);
    log_info ("job %ju %s", (uintmax_t)job->id, reason);
    if (store_add_event (ctld->store, job->id, ctld_now (),
                         job_state_name (job->state), reason, err) < 0) {
        ctld_fatal (ctld, err->text);
        return -1;
    }
    if (ctld_job_save (ctld, job) < 0)
        return errprintf (err, "cannot record the job");
    if (u->limit_changed)
        send_limit (ctld, job);
    ctld_sched_request (ctld);
    return 0;
}

/* {"id":N,"set":{"TimeLimit":"10:00",...}}: all the keys, or none. */
void admin_update (struct conn *c, json_t *req, json_int_t seq)
{
    struct update u = { .c = c };
    json_int_t id;
    json_t *set;
    aios_error_t err;

    if (proto_unpack (req, &err, "update", "{s:I s:o}", "id", &id, "set", &set) < 0
        || !json_is_object (set)) {
        conn_error (c, seq, EPROTO, "update: expected \"id\" and \"set\", an object "
                    "of KEY: VALUE strings");
        return;
    }
    if (json_object_size (set) == 0) {
        conn_error (c, seq, EINVAL, "update: nothing to change");
        return;
    }
    if (!(u.job = jobtab_lookup (c->ctld->jobs, (uint64_t)id))) {
        conn_error (c, seq, ENOENT, "no job %lld", (long long)id);
        return;
    }
    if (u.job->uid != c->uid && !conn_is_privileged (c)) {
        conn_error (c, seq, EPERM, "job %ju: permission denied: it belongs to %s, "
                    "and only its owner, an operator or root may update it",
                    (uintmax_t)u.job->id, u.job->user);
        return;
    }
    if (job_state_is_final (u.job->state)) {
        conn_error (c, seq, EINVAL, "job %ju is %s: a finished job cannot be "
                    "updated", (uintmax_t)u.job->id, job_state_name (u.job->state));
        return;
    }
    u.privileged = conn_is_privileged (c);
    if (!(u.rec = json_deep_copy (u.job->req))) {
        conn_error (c, seq, ENOMEM, "out of memory");
        return;
    }
    if (update_apply (&u, set, &err) < 0 || update_check (&u, &err) < 0
        || update_commit (&u, set, &err) < 0)
        conn_error (c, seq, errno ? errno : EINVAL, "%s", err.text);
    else
        conn_send_committed (c, json_pack ("{s:I s:I}", "seq", seq, "id", id));
    json_decref (u.rec);
}

/* --- show partition -------------------------------------------------------- */

static json_t *partition_json (struct ctld *ctld, const struct conf_partition *p)
{
    int cpus = 0, cpus_idle = 0, gpus = 0, gpus_idle = 0, usable = 0;
    int pending = 0, running = 0;
    size_t i;

    for (i = 0; i < p->nnodes; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, p->nodes[i]);
        int g;
        if (!n)
            continue;
        g = n->gpus > 0 ? n->gpus : 0;
        cpus += n->cpus > 0 ? n->cpus : 0;
        gpus += g;
        if (!node_usable (n))
            continue;
        usable++;
        if (n->cpus > n->cpus_alloc)
            cpus_idle += n->cpus - n->cpus_alloc;
        gpus_idle += g - __builtin_popcountll (n->gpus_alloc);
    }
    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        if (strcmp (job->partition, p->name) != 0)
            continue;
        if (job->state == JOB_PENDING)
            pending++;
        else if (!job_state_is_final (job->state))
            running++;
    }
    return json_pack ("{s:s s:b s:s s:s s:i s:i s:i s:i s:i s:i s:I s:i s:i s:i}",
                      "name", p->name, "default", p->is_default,
                      "state", usable > 0 ? "UP" : "DOWN",
                      "nodes", p->nodes_expr, "total_nodes", (int)p->nnodes,
                      "usable_nodes", usable, "cpus", cpus, "cpus_idle", cpus_idle,
                      "gpus", gpus, "gpus_idle", gpus_idle,
                      "max_time", (json_int_t)p->max_time, "priority", p->priority,
                      "jobs_pending", pending, "jobs_running", running);
}

/* {"name"?: NAME}: every partition, or the one named. */
void admin_partitions (struct conn *c, json_t *req, json_int_t seq)
{
    const struct aios_conf *conf = c->ctld->conf;
    const char *name = NULL;
    json_t *parts;
    aios_error_t err;
    size_t i;

    if (proto_unpack (req, &err, "partitions", "{s?s}", "name", &name) < 0) {
        conn_error (c, seq, EPROTO, "%s", err.text);
        return;
    }
    if (name && !conf_partition_lookup (conf, name)) {
        conn_error (c, seq, ENOENT, "no partition %s", name);
        return;
    }
    if (!(parts = json_array ())) {
        conn_error (c, seq, ENOMEM, "out of memory");
        return;
    }
    for (i = 0; i < conf->nparts; i++)
        if (!name || !strcmp (name, conf->parts[i].name))
            json_array_append_new (parts, partition_json (c->ctld, &conf->parts[i]));
    conn_send (c, json_pack ("{s:I s:o}", "seq", seq, "partitions", parts));
}

/* --- show config ----------------------------------------------------------- */

static json_t *time_json (long seconds)
{
    char buf[32];

    return json_string (format_time (seconds, buf, sizeof (buf)));
}

/* "a,b" -> ["a", "b"] */
static json_t *split_list (const char *s)
{
    json_t *a = json_array ();
    const char *p = s, *comma;

    while (a && p && *p) {
        comma = strchr (p, ',');
        json_array_append_new (a, json_stringn (p, comma ? (size_t)(comma - p)
                                                         : strlen (p)));
        p = comma ? comma + 1 : NULL;
    }
    return a;
}

static json_t *conf_nodes_json (const struct aios_conf *cf)
{
    json_t *a = json_array ();
    char mem[32];
    size_t i;

    for (i = 0; a && i < cf->nnodes; i++) {
        const struct conf_node *n = &cf->nodes[i];
        json_array_append_new (a, json_pack ("{s:s s:s s:i s:s s:i s:o}", "name",
                                             n->name, "address", n->address,
                                             "cpus", n->cpus, "memory",
                                             format_size_mb (n->memory_mb, mem,
                                                             sizeof (mem)),
                                             "gpus", n->gpus, "features",
                                             split_list (n->features)));
    }
    return a;
}

static json_t *conf_parts_json (const struct aios_conf *cf)
{
    json_t *a = json_array ();
    size_t i;

    for (i = 0; a && i < cf->nparts; i++) {
        const struct conf_partition *p = &cf->parts[i];
        json_array_append_new (a, json_pack ("{s:s s:s s:b s:o s:i}", "name",
                                             p->name, "nodes", p->nodes_expr,
                                             "default", p->is_default, "max_time",
                                             time_json (p->max_time), "priority",
                                             p->priority));
    }
    return a;
}

static json_t *conf_sched_json (const struct aios_conf *cf)
{
    json_t *qos = json_array ();
    size_t i;

    for (i = 0; qos && i < cf->nqos; i++)
        json_array_append_new (qos, json_pack ("{s:s s:i}", "name", cf->qos[i].name,
                                               "priority", cf->qos[i].priority));
    return json_pack ("{s:s s:s s:s s:i s:i s:{s:i s:i s:i s:i s:i s:o s:o s:b} s:o}",
                      "policy", cf->policy, "backfill", cf->backfill,
                      "plugin_dir", cf->plugin_dir,
                      "interval_ms", cf->sched_interval_ms,
                      "estimate_depth", cf->estimate_depth, "priority",
                      "weight_age", cf->weight_age,
                      "weight_fairshare", cf->weight_fairshare,
                      "weight_size", cf->weight_size,
                      "weight_partition", cf->weight_partition,
                      "weight_qos", cf->weight_qos,
                      "max_age", time_json (cf->max_age),
                      "half_life", time_json (cf->half_life),
                      "favor_small", cf->favor_small, "qos", qos);
}

/* The running configuration, keyed as aios.yaml is (values in its formats). */
static json_t *conf_json (const struct aios_conf *cf)
{
    json_t *ops = json_array (), *all;
    char cache[32];
    size_t i;

    for (i = 0; ops && i < cf->noperators; i++)
        json_array_append_new (ops, json_string (cf->operators[i]));
    all = json_pack ("{s:s s:s"
                      " s:{s:s s:i s:s s:s s:s s:s s:s s:i s:i s:i s:i s:o s:i"
                      " s:s s:i}"
                      " s:{s:s} s:o s:{s:i s:s s:s s:s} s:o s:o}",
                      "config_file", cf->path ? cf->path : "",
                      "cluster", cf->cluster,
                      "controller",
                      "address", cf->ctl_address, "port", cf->ctl_port,
                      "socket", cf->ctl_socket, "state_file", cf->state_file,
                      "log_file", cf->ctl_log_file, "pid_file", cf->ctl_pid_file,
                      "user", cf->daemon_user,
                      "heartbeat_interval", cf->heartbeat_interval,
                      "node_timeout", cf->node_timeout, "kill_wait", cf->kill_wait,
                      "min_job_age", cf->min_job_age, "operators", ops,
                      "event_backlog_kb", cf->event_backlog_kb,
                      "metrics_address", cf->metrics_address,
                      "metrics_port", cf->metrics_port,
                      "auth", "munge_socket", cf->munge_socket,
                      "scheduler", conf_sched_json (cf),
                      "node_daemon", "port", cf->node_port,
                      "spool_dir", cf->spool_dir, "log_file", cf->node_log_file,
                      "pid_file", cf->node_pid_file,
                      "nodes", conf_nodes_json (cf),
                      "partitions", conf_parts_json (cf));
    format_size_mb (cf->cache_bytes >> 20, cache, sizeof (cache));
    if (all)
        json_object_set_new (all, "staging",
                             json_pack ("{s:s s:s s:s}", "shared_root",
                                        cf->shared_root ? cf->shared_root : "",
                                        "scratch", cf->scratch_dir ? cf->scratch_dir : "",
                                        "cache_bytes", cache));
    if (all)
        json_object_set_new (all, "accounting",
                             json_pack ("{s:b}", "show_all_users",
                                        cf->acct_show_all_users));
    return all;
}

void admin_config (struct conn *c, json_t *req, json_int_t seq)
{
    json_t *conf = conf_json (c->ctld->conf);

    (void)req;
    if (!conf) {
        conn_error (c, seq, ENOMEM, "out of memory");
        return;
    }
    conn_send (c, json_pack ("{s:I s:o}", "seq", seq, "config", conf));
}

/* --- reconfigure and shutdown ---------------------------------------------- */

void admin_reconfigure (struct conn *c, json_t *req, json_int_t seq)
{
    aios_error_t err;

    (void)req;
    if (!conn_is_privileged (c)) {
        conn_error (c, seq, EPERM, "permission denied: only root and operators "
                    "may reconfigure the controller");
        return;
    }
    if (ctld_reload (c->ctld, &err) < 0) {
        log_err ("reconfigure by %s refused, keeping the running configuration: "
                 "%s", c->user, err.text);
        conn_error (c, seq, EINVAL, "reconfigure refused, keeping the running "
                    "configuration: %s", err.text);
        return;
    }
    log_info ("reconfigured by %s", c->user);
    conn_send (c, json_pack ("{s:I s:s}", "seq", seq, "config", c->ctld->conf_path));
}

/* Write out what c has queued: the loop stops before it would.  (The
 * bufferevent keeps its output frozen for itself; thaw it for the write.) */
static void flush_now (struct conn *c)
{
    struct evbuffer *out = bufferevent_get_output (c->bev);

    evbuffer_unfreeze (out, 1);
    if (evbuffer_write (out, bufferevent_getfd (c->bev)) < 0)
        log_warn ("%s: cannot send the shutdown reply: %s", c->peer,
                  strerror (errno));
    evbuffer_freeze (out, 1);
}

/* The controller stops after this turn; jobs go on running on their nodes
 * (as on SIGTERM), to be found again by the next controller. */
void admin_shutdown (struct conn *c, json_t *req, json_int_t seq)
{
    (void)req;
    if (!conn_is_privileged (c)) {
        conn_error (c, seq, EPERM, "permission denied: only root and operators "
                    "may shut the controller down");
        return;
    }
    log_info ("shutdown requested by %s (running jobs go on)", c->user);
    conn_send (c, json_pack ("{s:I}", "seq", seq));
    flush_now (c);
    ctld_shutdown (c->ctld);
}
