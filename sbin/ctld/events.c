/* events.c - the push event stream (aios-top, aios-queue --watch,
 * aios-submit --wait)
 *
 * A client subscribes and gets one snapshot, then events: a job added or
 * changed, a job purged, a node changed, and scheduler statistics once a
 * second.  Changes are only marked while a loop turn runs; after the turn's
 * commit every changed job and node is encoded once and the same bytes go
 * to every subscriber, so an event costs one encoding however many watch.
 * A subscriber that lets controller.event_backlog_kb pile up unread is dropped
 * with a message saying so: a slow client never holds the controller.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>

#include "conn.h"
#include "ctld.h"
#include "frame.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"
#include "proto.h"


struct events {
    uint64_t *jobs;         /* changed since the last flush */
    size_t njobs, jobs_cap;
    uint64_t *gone;         /* purged since the last flush */
    size_t ngone, gone_cap;
    char **nodes;           /* names of changed nodes */
    size_t nnodes, nodes_cap;
    uint64_t sent, dropped;
};

static int push_id (uint64_t **v, size_t *n, size_t *cap, uint64_t id)
{
    size_t i;

    for (i = *n; i > 0 && i + 8 > *n; i--)  /* a recent duplicate */
        if ((*v)[i - 1] == id)
            return 0;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        uint64_t *p = realloc (*v, c * sizeof (*p));
        if (!p)
            return -1;
        *v = p;
        *cap = c;
    }
    (*v)[(*n)++] = id;
    return 0;
}

static struct events *ev (struct ctld *ctld)
{
    if (!ctld->events)
        ctld->events = calloc (1, sizeof (struct events));
    return ctld->events;
}

static bool any_subscriber (struct ctld *ctld)
{
    return ctld->subscribers > 0;
}

void events_job (struct ctld *ctld, struct job *job)
{
    struct events *e;

    if (!any_subscriber (ctld) || !(e = ev (ctld)))
        return;
    push_id (&e->jobs, &e->njobs, &e->jobs_cap, job->id);
    ctld_dirty (ctld);
}

void events_job_removed (struct ctld *ctld, uint64_t id)
{
    struct events *e;

    if (!any_subscriber (ctld) || !(e = ev (ctld)))
        return;
    push_id (&e->gone, &e->ngone, &e->gone_cap, id);
    ctld_dirty (ctld);
}

void events_node (struct ctld *ctld, struct node *n)
{
    struct events *e;
    size_t i;

    if (!any_subscriber (ctld) || !(e = ev (ctld)))
        return;
    for (i = 0; i < e->nnodes; i++)
        if (!strcmp (e->nodes[i], n->name))
            return;
    if (e->nnodes == e->nodes_cap) {
        size_t c = e->nodes_cap ? 2 * e->nodes_cap : 64;
        char **p = realloc (e->nodes, c * sizeof (*p));
        if (!p)
            return;
        e->nodes = p;
        e->nodes_cap = c;
    }
    if ((e->nodes[e->nnodes] = strdup (n->name)))
        e->nnodes++;
    ctld_dirty (ctld);
}

/* Does c want events of job id (gone from the table: by its id alone)? */
static bool wants (struct ctld *ctld, const struct conn *c, uint64_t id)
{
    const struct job *job;
    size_t i;
    json_t *v;

    if (!c->sub_ids && !c->sub_tasks)
        return true;
    if ((job = jobtab_lookup (ctld->jobs, id)))
        return job_named_by (job, c->sub_ids, c->sub_tasks);
    json_array_foreach (c->sub_ids, i, v)
        if ((uint64_t)json_integer_value (v) == id)
            return true;
    return false;
}

/* The same encoded frame to every subscriber (that wants job id, unless
 * id is 0); drop those too far behind. */
static void broadcast (struct ctld *ctld, json_t *msg, uint64_t id, bool jobs_only)
{
    struct events *e = ev (ctld);
    struct conn *c, *next;
    size_t len;
    char *buf = msg ? frame_encode (msg, FRAME_MAX_REPLY, &len, NULL) : NULL;

    json_decref (msg);
    if (!buf)
        return;
    for (c = ctld->conns; c; c = next) {
        struct evbuffer *out;
        next = c->next;
        if (!c->subscriber || c->closing || (id && !wants (ctld, c, id))
            || (jobs_only && (c->sub_ids || c->sub_tasks)))
            continue;
        out = bufferevent_get_output (c->bev);
        if (evbuffer_get_length (out)
            > (size_t)ctld->conf->event_backlog_kb * 1024 + c->sub_grace) {
            char why[160];
            log_warn ("dropping event subscriber %s (uid %u): %zu bytes unread",
                      c->peer, (unsigned)c->uid, evbuffer_get_length (out));
            snprintf (why, sizeof (why), "too far behind the event stream (more "
                      "than %d KiB unread): subscribe again",
                      ctld->conf->event_backlog_kb);
            conn_send (c, json_pack ("{s:s s:s}", "event", "dropped", "reason", why));
            c->subscriber = false;
            ctld->subscribers--;
            if (e)
                e->dropped++;
            conn_close (c);
            continue;
        }
        bufferevent_write (c->bev, buf, len);
        if (e)
            e->sent++;
    }
    free (buf);
}

void events_flush (struct ctld *ctld)
{
    struct events *e = ctld->events;
    size_t i;

    if (!e)
        return;
    for (i = 0; i < e->njobs; i++) {
        struct job *job = jobtab_lookup (ctld->jobs, e->jobs[i]);
        if (job && any_subscriber (ctld))
            broadcast (ctld, json_pack ("{s:s s:o}", "event", "job", "job",
                                        job_to_json (job, NULL, 0)),
                       job->id, false);
    }
    for (i = 0; i < e->ngone; i++)
        if (any_subscriber (ctld))
            broadcast (ctld, json_pack ("{s:s s:I}", "event", "job_removed", "id",
                                        (json_int_t)e->gone[i]), e->gone[i], false);
    for (i = 0; i < e->nnodes; i++) {
        struct node *n = nodetab_lookup (ctld->nodes, e->nodes[i]);
        if (n && any_subscriber (ctld))
            broadcast (ctld, json_pack ("{s:s s:o}", "event", "node", "node",
                                        node_to_json (n)), 0, true);
        free (e->nodes[i]);
    }
    e->njobs = e->ngone = e->nnodes = 0;
}

/* Counts for the header of aios-top. */
static json_t *stats (struct ctld *ctld)
{
    json_t *s = sched_stats_json (ctld);
    size_t i, pending = 0, running = 0, finished = 0;
    double now = ctld_now ();

    for (i = 0; i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        if (job->state == JOB_PENDING)
            pending++;
        else if (job->state == JOB_RUNNING || job->state == JOB_COMPLETING)
            running++;
        else if (job_state_is_final (job->state) && job->end_time > now - 60)
            finished++;
    }
    if (s) {
        json_object_set_new (s, "pending", json_integer ((json_int_t)pending));
        json_object_set_new (s, "running", json_integer ((json_int_t)running));
        json_object_set_new (s, "finished_last_minute",
                             json_integer ((json_int_t)finished));
        json_object_set_new (s, "rpcs", json_integer ((json_int_t)ctld->rpcs));
        json_object_set_new (s, "subscribers", json_integer (ctld->subscribers));
        if (ctld->events) {
            json_object_set_new (s, "events_sent",
                                 json_integer ((json_int_t)ctld->events->sent));
            json_object_set_new (s, "subscribers_dropped",
                                 json_integer ((json_int_t)ctld->events->dropped));
        }
    }
    return s;
}

void events_tick (struct ctld *ctld)
{
    if (any_subscriber (ctld))
        broadcast (ctld, json_pack ("{s:s s:o s:f}", "event", "stats", "stats",
                                    stats (ctld), "now", ctld_now ()), 0, true);
}

void events_subscribe (struct conn *c, json_t *req, json_int_t seq)
{
    struct ctld *ctld = c->ctld;
    json_t *ids = json_object_get (req, "ids"), *tasks = json_object_get (req, "tasks");
    json_t *jobs, *nodes, *rep;
    size_t i;
    int k;

    if ((ids && !json_is_array (ids)) || (tasks && !json_is_array (tasks))) {
        conn_error (c, seq, EPROTO, "subscribe: \"ids\" and \"tasks\" must be "
                    "arrays (of job ids, and of [ARRAYID, TASK])");
        return;
    }
    if (c->subscriber) {
        conn_error (c, seq, EBUSY, "subscribe: this connection already subscribed");
        return;
    }
    jobs = json_array ();
    nodes = json_array ();
    for (i = 0; jobs && i < jobtab_count (ctld->jobs); i++) {
        struct job *job = jobtab_at (ctld->jobs, i);
        if (job_named_by (job, ids, tasks))
            json_array_append_new (jobs, job_to_json (job, NULL, 0));
    }
    for (k = 0; nodes && !ids && !tasks && k < nodetab_count (ctld->nodes); k++)
        json_array_append_new (nodes, node_to_json (nodetab_at (ctld->nodes, k)));
    rep = json_pack ("{s:I s:s s:f s:f s:s s:s s:o s:o s:o}", "seq", seq,
                     "cluster", ctld->conf->cluster, "uptime",
                     ctld_now () - ctld->start_time, "now", ctld_now (),
                     "policy", ctld->conf->policy, "backfill", ctld->conf->backfill,
                     "nodes", nodes, "jobs", jobs, "stats", stats (ctld));
    if (!rep) {
        conn_error (c, seq, ENOMEM, "out of memory");
        return;
    }
    /* events of this turn come after the snapshot that already has them;
     * the snapshot itself does not count as falling behind */
    c->sub_grace = evbuffer_get_length (bufferevent_get_output (c->bev));
    conn_send (c, rep);
    c->sub_grace = evbuffer_get_length (bufferevent_get_output (c->bev))
        - c->sub_grace;
    c->subscriber = true;
    c->sub_ids = ids ? json_incref (ids) : NULL;
    c->sub_tasks = tasks ? json_incref (tasks) : NULL;
    ctld->subscribers++;
}

void events_unsubscribe (struct conn *c)
{
    if (c->subscriber) {
        c->subscriber = false;
        c->ctld->subscribers--;
    }
    json_decref (c->sub_ids);
    json_decref (c->sub_tasks);
    c->sub_ids = c->sub_tasks = NULL;
}

void events_destroy (struct ctld *ctld)
{
    struct events *e = ctld->events;
    size_t i;

    if (!e)
        return;
    for (i = 0; i < e->nnodes; i++)
        free (e->nodes[i]);
    free (e->nodes);
    free (e->jobs);
    free (e->gone);
    free (e);
    ctld->events = NULL;
}
