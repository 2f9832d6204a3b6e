/* nodeops.c - the controller's side of node daemons: register, heartbeat,
 * complete; launch, terminate, signal; timeouts and reconciliation */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "ctld.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"
#include "proto.h"

static struct node *batch_node (struct ctld *ctld, const struct job *job)
{
    return job->nalloc > 0 ? nodetab_lookup (ctld->nodes, job->alloc[0].node)
                           : NULL;
}

static json_t *node_request (struct conn *c, const char *op)
{
    return proto_request (op, c->out_seq++);
}

/* "node1:4" lines' worth: [["node1", 4], ...], for host files. */
static json_t *alloc_tasks (const struct job *job)
{
    json_t *a = json_array ();
    int i;

    for (i = 0; a && i < job->nalloc; i++)
        json_array_append_new (a, json_pack ("[s i]", job->alloc[i].node,
                                             job->alloc[i].tasks));
    return a;
}

/* The job as node i of its allocation sees it. */
static json_t *node_spec (struct ctld *ctld, struct job *job, int i)
{
    json_t *spec = json_deep_copy (job->req), *paths;
    const char *scratch;

    paths = staging_node_paths (ctld, job, i, &scratch);
    if (spec && paths)
        json_object_set (spec, "datasets", paths);
    if (spec && scratch)
        json_object_set_new (spec, "scratch", json_string (scratch));

    if (!spec
        || json_object_set_new (spec, "id", json_integer ((json_int_t)job->id)) < 0
        || json_object_set_new (spec, "nodelist", json_string (job->nodelist)) < 0
        || json_object_set_new (spec, "nnodes", json_integer (job->nalloc)) < 0
        || json_object_set_new (spec, "node_index", json_integer (i)) < 0
        || json_object_set_new (spec, "cpus_on_node",
                                json_integer (job->alloc[i].cpus)) < 0
        || json_object_set_new (spec, "tasks_on_node",
                                json_integer (job->alloc[i].tasks)) < 0
        || json_object_set_new (spec, "gpus_on_node",
                                job_gpu_list (job->alloc[i].gpus)) < 0
        || json_object_set_new (spec, "alloc_tasks", alloc_tasks (job)) < 0
        || json_object_set_new (spec, "restarts", json_integer (job->restarts)) < 0
        || json_object_set_new (spec, "kill_wait",
                                json_integer (ctld->conf->kill_wait)) < 0) {
        json_decref (spec);
        return NULL;
    }
    return spec;
}

/* Every node of the allocation learns of the job (so that aios-exec and
 * job steps may run there); the first one runs the batch script. */
int nodeops_launch (struct ctld *ctld, struct job *job)
{
    int i;

    for (i = job->nalloc - 1; i >= 0; i--) {
        struct node *n = nodetab_lookup (ctld->nodes, job->alloc[i].node);
        json_t *msg, *spec;
        if (!n || !n->conn) {
            if (i == 0) {
                errno = ENOTCONN;
                return -1;
            }
            continue;
        }
        msg = node_request (n->conn, i == 0 ? "launch" : "alloc");
        spec = node_spec (ctld, job, i);
        if (!msg || !spec || json_object_set_new (msg, "job", spec) < 0) {
            json_decref (msg);
            return -1;
        }
        if (conn_send_committed (n->conn, msg) < 0)
            return -1;
    }
    return 0;
}

void nodeops_release (struct ctld *ctld, struct job *job)
{
    int i;

    for (i = 0; i < job->nalloc; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, job->alloc[i].node);
        json_t *msg;
        if (!n || !n->conn || !(msg = node_request (n->conn, "release")))
            continue;
        if (json_object_set_new (msg, "id", json_integer ((json_int_t)job->id)) < 0)
            json_decref (msg);
        else
            conn_send_committed (n->conn, msg);
    }
}

static int send_job_op (struct ctld *ctld, struct node *n, uint64_t id,
                        const char *op, int sig)
{
    json_t *msg;

    if (!n || !n->conn)
        return 0; /* sent again when the node re-registers */
    if (!(msg = node_request (n->conn, op))
        || json_object_set_new (msg, "id", json_integer ((json_int_t)id)) < 0
        || (sig > 0 && json_object_set_new (msg, "signal", json_integer (sig)) < 0)) {
        json_decref (msg);
        return -1;
    }
    return conn_send_committed (n->conn, msg);
}

int nodeops_terminate (struct ctld *ctld, struct job *job)
{
    return send_job_op (ctld, batch_node (ctld, job), job->id, "terminate", 0);
}

int nodeops_signal (struct ctld *ctld, struct job *job, int sig)
{
    return send_job_op (ctld, batch_node (ctld, job), job->id, "signal", sig);
}

int nodeops_signal_shell (struct ctld *ctld, struct job *job, int sig)
{
    return send_job_op (ctld, batch_node (ctld, job), job->id, "signal_shell", sig);
}

int nodeops_signal_steps (struct ctld *ctld, struct job *job, int sig)
{
    int i, rc = 0;

    for (i = 0; i < job->nalloc; i++)
        if (send_job_op (ctld, nodetab_lookup (ctld->nodes, job->alloc[i].node),
                         job->id, "signal_steps", sig) < 0)
            rc = -1;
    return rc;
}

static bool job_uses_node (const struct job *job, const struct node *n)
{
    int i;

    for (i = 0; i < job->nalloc; i++) {
        if (!strcmp (job->alloc[i].node, n->name))
            return true;
    }
    return false;
}

/* A node of the job failed, or its batch script is gone: a cancelled job
 * ends CANCELLED, a --requeue (or requeued) one goes back to the queue,
 * any other ends NODE_FAIL. */
static void lost_job (struct ctld *ctld, struct job *job, const char *why)
{
    if (job->cancel_requested)
        ctld_job_transition (ctld, job, JOB_CANCELLED, job->reason);
    else if (job->requeue || job->requeue_pending)
        ctld_job_requeue (ctld, job, why);
    else
        ctld_job_transition (ctld, job, JOB_NODE_FAIL, why);
}

static void fail_node_jobs (struct ctld *ctld, struct node *n, const char *why)
{
    size_t i;

    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        struct node *b;
        if ((job->state != JOB_RUNNING && job->state != JOB_COMPLETING
             && job->state != JOB_STAGING) || !job_uses_node (job, n))
            continue;
        b = batch_node (ctld, job);
        if (b && b != n && job->state != JOB_STAGING)
            nodeops_terminate (ctld, job);
        log_warn ("job %ju: %s", (uintmax_t)job->id, why);
        lost_job (ctld, job, why);
    }
}

void nodeops_check_timeouts (struct ctld *ctld, double now)
{
    int i;
    char why[160];

    for (i = 0; i < nodetab_count (ctld->nodes); i++) {
        struct node *n = nodetab_at (ctld->nodes, i);
        double heard = n->base == NODE_UNKNOWN ? ctld->start_time : n->last_heard;
        if (n->base == NODE_DOWN || now - heard < ctld->conf->node_timeout)
            continue;
        snprintf (why, sizeof (why), "node %s not responding (no heartbeat "
                  "for %d s)", n->name, ctld->conf->node_timeout);
        log_warn ("%s: marked DOWN", why);
        n->base = NODE_DOWN;
        node_set_reason (n, "not responding", now);
        events_node (ctld, n);
        fail_node_jobs (ctld, n, why);
        /* A silent connection may be dead without a FIN: drop it, so the
         * node can register again when it comes back. */
        if (n->conn)
            conn_destroy (n->conn);
    }
}

void nodeops_conn_closed (struct ctld *ctld, struct node *n)
{
    /* The node stays UP until node_timeout passes without it coming back:
     * a restarted aiosd reconnects and reconciles first. */
    log_info ("node %s disconnected", n->name);
}

/* --- requests from nodes --------------------------------------------------- */

static bool id_in (json_t *arr, uint64_t id)
{
    size_t i;
    json_t *v;

    json_array_foreach (arr, i, v) {
        if ((uint64_t)json_integer_value (v) == id)
            return true;
    }
    return false;
}

static void reconcile (struct ctld *ctld, struct node *n, json_t *running,
                       json_t *completed, json_t *staging)
{
    size_t i;
    json_t *v;
    char why[200];

    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        if ((job->state != JOB_RUNNING && job->state != JOB_COMPLETING)
            || batch_node (ctld, job) != n)
            continue;
        if (id_in (completed, job->id))
            continue; /* its completion follows */
        if (id_in (running, job->id)) {
            if (job->cancel_requested || job->requeue_pending)
                nodeops_terminate (ctld, job);
            continue;
        }
        snprintf (why, sizeof (why), "batch script lost: aiosd on %s no longer "
                  "knows the job", n->name);
        lost_job (ctld, job, why);
    }
    json_array_foreach (running, i, v) {
        uint64_t id = (uint64_t)json_integer_value (v);
        struct job *job = jobtab_lookup (ctld->jobs, id);
        /* an old run: the job ended, or was requeued and runs elsewhere */
        if (!job || ((job->state != JOB_RUNNING && job->state != JOB_COMPLETING)
                     || batch_node (ctld, job) != n)) {
            log_warn ("node %s runs job %ju that is not running there: "
                      "terminating it", n->name, (uintmax_t)id);
            send_job_op (ctld, n, id, "terminate", 0);
        }
    }
    if (staging)
        staging_node_holds (ctld, n, staging);
    staging_node_registered (ctld, n);
}

static void op_register (struct conn *c, json_t *req, json_int_t seq)
{
    struct ctld *ctld = c->ctld;
    struct node *n = c->node;
    json_int_t cpus, mem, gpus = 0;
    json_t *running, *completed, *cache = NULL, *staging = NULL;
    const struct conf_node *cn;
    aios_error_t err;

    if (proto_unpack (req, &err, "register", "{s:I s:I s:o s:o s?I s?o s?o}", "cpus",
                      &cpus, "memory_mb", &mem, "running", &running,
                      "completed", &completed, "gpus", &gpus, "cache", &cache,
                      "staging", &staging) < 0
        || !json_is_array (running) || !json_is_array (completed)
        || (staging && !json_is_array (staging))) {
        conn_error (c, seq, EPROTO, "%s", err.text);
        return;
    }
    if (cpus < 1) {
        conn_error (c, seq, EINVAL, "register: node %s has no CPUs", n->name);
        return;
    }
    if (gpus < 0 || gpus > 64) {
        conn_error (c, seq, EINVAL, "register: node %s reports %lld GPUs "
                    "(at most 64)", n->name, (long long)gpus);
        return;
    }
    n->cpus = (int)cpus;
    n->mem_mb = (uint64_t)mem;
    cn = conf_node_lookup (ctld->conf, n->name);
    n->gpus = cn && cn->gpus >= 0 ? cn->gpus : (int)gpus;
    n->last_heard = ctld_now ();
    if (n->base != NODE_UP)
        log_info ("node %s up (%d CPUs, %ju MB, %d GPUs)", n->name, n->cpus,
                  (uintmax_t)n->mem_mb, n->gpus);
    n->base = NODE_UP;
    staging_node_cache (ctld, n, cache);
    node_set_reason (n, NULL, n->last_heard);
    events_node (ctld, n);
    reconcile (ctld, n, running, completed, staging);
    conn_send_committed (c, json_pack ("{s:I s:i}", "seq", seq,
                                       "heartbeat_interval",
                                       ctld->conf->heartbeat_interval));
    ctld_sched_request (ctld);
}

static void op_heartbeat (struct conn *c, json_t *req, json_int_t seq)
{
    if (c->node->base != NODE_UP) {
        /* declared down meanwhile: make it reconnect and reconcile */
        conn_error (c, seq, ENOTCONN, "node %s was marked DOWN (%s): "
                    "register again", c->node->name,
                    c->node->reason ? c->node->reason : "no reason");
        conn_close (c);
        return;
    }
    c->node->last_heard = ctld_now ();
}

static enum job_state final_state (const struct job *job, int exit_code,
                                   int sig, int timed_out, int oom,
                                   int node_fail, const char *reason)
{
    if (node_fail)
        return JOB_NODE_FAIL;
    if (job->cancel_requested)
        return JOB_CANCELLED;
    if (timed_out)
        return JOB_TIMEOUT;
    if (oom)
        return JOB_OUT_OF_MEMORY;
    if (sig != 0 || exit_code != 0 || reason)
        return JOB_FAILED;
    return JOB_COMPLETED;
}

static void op_complete (struct conn *c, json_t *req, json_int_t seq)
{
    struct ctld *ctld = c->ctld;
    json_int_t id, exit_code = 0, sig = 0, rss = 0;
    int timed_out = 0, oom = 0, node_fail = 0;
    double cpu = 0;
    const char *reason = NULL, *so_error = NULL;
    struct job *job;
    json_t *models = NULL;
    aios_error_t err;
    char why[400];

    if (proto_unpack (req, &err, "complete",
                      "{s:I s:I s:I s?b s?b s?b s?F s?I s?s s?o s?s}", "id", &id,
                      "exit_code", &exit_code, "signal", &sig, "timed_out",
                      &timed_out, "oom", &oom, "node_fail", &node_fail,
                      "cpu_time", &cpu, "max_rss_kb", &rss, "reason",
                      &reason, "models", &models, "stage_out_error",
                      &so_error) < 0) {
        conn_error (c, seq, EPROTO, "%s", err.text);
        return;
    }
    job = jobtab_lookup (ctld->jobs, (uint64_t)id);
    if (job && batch_node (ctld, job) != c->node) {
        /* a run that was ended (requeued, or its node failed) and has
         * ended now: the job has moved on */
        log_info ("job %ju: ignoring a completion from %s, which no longer "
                  "runs it", (uintmax_t)id, c->node->name);
        job = NULL;
    }
    if (job && job->requeue_pending
        && (job->state == JOB_RUNNING || job->state == JOB_COMPLETING)) {
        ctld_job_requeue (ctld, job, job->reason);
    } else if (job && (job->state == JOB_RUNNING || job->state == JOB_COMPLETING)) {
        enum job_state st = final_state (job, (int)exit_code, (int)sig,
                                         timed_out, oom, node_fail, reason);
        job->exit_code = (int)exit_code;
        job->term_signal = (int)sig;
        job->cpu_time = cpu;
        job->max_rss_kb = (uint64_t)rss;
        if (json_is_array (models)) {
            json_decref (job->models);
            job->models = json_incref (models);
        }
        if (!reason && st == JOB_CANCELLED)
            reason = job->reason;   /* "cancelled by USER" */
        if (so_error && (st == JOB_COMPLETED || st == JOB_FAILED)) {
            /* the job's output did not reach the catalog: not a success */
            snprintf (why, sizeof (why), "stage-out: %s", so_error);
            st = JOB_FAILED;
            reason = why;
        }
        ctld_job_transition (ctld, job, st, reason);
    }
    /* The ack lets the node forget its on-disk record: after the commit. */
    conn_send_committed (c, json_pack ("{s:I s:I}", "seq", seq, "id", id));
}

static const struct {
    const char *op;
    op_f fn;
} node_ops[] = {
    { "register", op_register },
    { "heartbeat", op_heartbeat },
    { "complete", op_complete },
    { "stage_progress", staging_op_progress },
    { "staged", staging_op_staged },
    { "cached", staging_op_cached },
};

op_f ops_node_lookup (const char *op)
{
    size_t i;

    for (i = 0; i < sizeof (node_ops) / sizeof (node_ops[0]); i++) {
        if (!strcmp (node_ops[i].op, op))
            return node_ops[i].fn;
    }
    return NULL;
}
