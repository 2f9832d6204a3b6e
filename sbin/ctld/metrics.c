/* metrics.c - Prometheus metrics over HTTP (controller.metrics_port)
 *
 * GET /metrics answers in the Prometheus text format: jobs and nodes by
 * state, CPUs and GPUs, scheduling passes and their durations, requests
 * and the time spent handling them, jobs started and finished, event
 * subscribers.  It binds controller.metrics_address (loopback by default)
 * and serves from the controller's own loop: each scrape is one walk of
 * the tables, like one aios-queue.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>

#include "ctld.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"

static const char *node_states[] = {
    "IDLE", "MIXED", "ALLOCATED", "DOWN", "DRAIN", "DRAINING", "UNKNOWN",
};

static void family (struct evbuffer *b, const char *name, const char *type,
                    const char *help)
{
    evbuffer_add_printf (b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metrics_cb (struct evhttp_request *req, void *arg)
{
    struct ctld *ctld = arg;
    struct evbuffer *b = evbuffer_new ();
    size_t i, k, jobs[JOB_STATE_COUNT] = { 0 };
    size_t nodes[sizeof (node_states) / sizeof (node_states[0])] = { 0 };
    long cpus = 0, cpus_alloc = 0, gpus = 0, gpus_alloc = 0;
    json_t *st = sched_stats_json (ctld);

    if (!b) {
        evhttp_send_error (req, HTTP_INTERNAL, "out of memory");
        return;
    }
    for (i = 0; i < jobtab_count (ctld->jobs); i++)
        jobs[jobtab_at (ctld->jobs, i)->state]++;
    for (i = 0; i < (size_t)nodetab_count (ctld->nodes); i++) {
        struct node *n = nodetab_at (ctld->nodes, (int)i);
        const char *name = node_state_name (n);
        for (k = 0; k < sizeof (node_states) / sizeof (node_states[0]); k++)
            if (!strcmp (name, node_states[k]))
                nodes[k]++;
        cpus += n->cpus;
        cpus_alloc += n->cpus_alloc;
        gpus += n->gpus;
        gpus_alloc += __builtin_popcountll (n->gpus_alloc);
    }
    family (b, "aios_jobs", "gauge", "Jobs in the queue, by state.");
    for (k = 0; k < JOB_STATE_COUNT; k++)
        evbuffer_add_printf (b, "aios_jobs{state=\"%s\"} %zu\n",
                             job_state_name ((enum job_state)k), jobs[k]);
    family (b, "aios_nodes", "gauge", "Nodes, by state.");
    for (k = 0; k < sizeof (node_states) / sizeof (node_states[0]); k++)
        evbuffer_add_printf (b, "aios_nodes{state=\"%s\"} %zu\n", node_states[k],
                             nodes[k]);
    family (b, "aios_cpus", "gauge", "CPUs of the registered nodes.");
    evbuffer_add_printf (b, "aios_cpus{kind=\"total\"} %ld\n"
                         "aios_cpus{kind=\"allocated\"} %ld\n", cpus, cpus_alloc);
    family (b, "aios_gpus", "gauge", "GPUs of the registered nodes.");
    evbuffer_add_printf (b, "aios_gpus{kind=\"total\"} %ld\n"
                         "aios_gpus{kind=\"allocated\"} %ld\n", gpus, gpus_alloc);
    family (b, "aios_sched_passes_total", "counter", "Scheduling passes.");
    evbuffer_add_printf (b, "aios_sched_passes_total %lld\n",
                         (long long)json_integer_value (json_object_get (st, "passes")));
    family (b, "aios_sched_pass_seconds", "gauge",
            "Duration of the last, the longest and the mean scheduling pass.");
    evbuffer_add_printf (b, "aios_sched_pass_seconds{stat=\"last\"} %.6f\n"
                         "aios_sched_pass_seconds{stat=\"max\"} %.6f\n"
                         "aios_sched_pass_seconds{stat=\"mean\"} %.6f\n",
                         json_number_value (json_object_get (st, "last_us")) / 1e6,
                         json_number_value (json_object_get (st, "max_us")) / 1e6,
                         json_number_value (json_object_get (st, "mean_us")) / 1e6);
    family (b, "aios_jobs_started_total", "counter", "Jobs started (since the "
            "controller started).");
    evbuffer_add_printf (b, "aios_jobs_started_total %lld\n",
                         (long long)json_integer_value (json_object_get (st, "started")));
    family (b, "aios_jobs_backfilled_total", "counter", "Jobs started by backfill.");
    evbuffer_add_printf (b, "aios_jobs_backfilled_total %lld\n",
                         (long long)json_integer_value (json_object_get (st, "backfilled")));
    family (b, "aios_jobs_finished_total", "counter", "Jobs that reached a final "
            "state.");
    evbuffer_add_printf (b, "aios_jobs_finished_total %llu\n",
                         (unsigned long long)ctld->finished);
    family (b, "aios_rpcs_total", "counter", "Requests from tools and node daemons.");
    evbuffer_add_printf (b, "aios_rpcs_total %llu\n", (unsigned long long)ctld->rpcs);
    family (b, "aios_rpc_seconds_total", "counter", "Time spent handling requests "
            "(divide by aios_rpcs_total for the mean latency).");
    evbuffer_add_printf (b, "aios_rpc_seconds_total %.6f\n", ctld->rpc_seconds);
    family (b, "aios_rpc_seconds_max", "gauge", "The longest request handling.");
    evbuffer_add_printf (b, "aios_rpc_seconds_max %.6f\n", ctld->rpc_seconds_max);
    family (b, "aios_event_subscribers", "gauge", "Clients following the event "
            "stream.");
    evbuffer_add_printf (b, "aios_event_subscribers %d\n", ctld->subscribers);
    family (b, "aios_uptime_seconds", "gauge", "Seconds since the controller "
            "started.");
    evbuffer_add_printf (b, "aios_uptime_seconds %.3f\n", ctld_now () - ctld->start_time);
    json_decref (st);
    evhttp_add_header (evhttp_request_get_output_headers (req), "Content-Type",
                       "text/plain; version=0.0.4");
    evhttp_send_reply (req, HTTP_OK, "OK", b);
    evbuffer_free (b);
}

static void other_cb (struct evhttp_request *req, void *arg)
{
    evhttp_send_error (req, HTTP_NOTFOUND, "only /metrics is served here");
}

int metrics_start (struct ctld *ctld, aios_error_t *err)
{
    const struct aios_conf *conf = ctld->conf;

    if (conf->metrics_port <= 0)
        return 0;
    if (!(ctld->http = evhttp_new (ctld->base)))
        return errprintf (err, "metrics: out of memory");
    evhttp_set_allowed_methods (ctld->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_cb (ctld->http, "/metrics", metrics_cb, ctld);
    evhttp_set_gencb (ctld->http, other_cb, ctld);
    if (!evhttp_bind_socket_with_handle (ctld->http, conf->metrics_address,
                                         (uint16_t)conf->metrics_port)) {
        evhttp_free (ctld->http);
        ctld->http = NULL;
        return errprintf (err, "metrics: cannot listen on %s:%d: %s",
                          conf->metrics_address, conf->metrics_port,
                          strerror (errno));
    }
    log_info ("metrics on http://%s:%d/metrics", conf->metrics_address,
              conf->metrics_port);
    return 0;
}

void metrics_stop (struct ctld *ctld)
{
    if (ctld->http)
        evhttp_free (ctld->http);
    ctld->http = NULL;
}
