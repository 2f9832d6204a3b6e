/* noded.h - the node daemon's context */
#ifndef AIOS_NODED_H
#define AIOS_NODED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "auth.h"
#include "conf.h"

enum ctl_state {
    CTL_DOWN = 0,       /* not connected; a reconnect is scheduled */
    CTL_CONNECTING,
    CTL_HELLO,          /* hello sent, waiting for the controller's proof */
    CTL_REGISTER,       /* register sent */
    CTL_UP,
};

struct task;
struct stage;

struct noded {
    struct event_base *base;
    struct aios_conf *conf;
    char *conf_path;
    char *name;
    const struct conf_node *cnode;  /* borrowed from conf */
    int cpus;
    uint64_t mem_mb;
    int gpus;
    char *spool_dir;
    char *pid_file;
    uid_t daemon_uid;               /* controller.user */
    struct auth *auth;

    struct bufferevent *ctl;
    enum ctl_state ctl_state;
    char nonce[33];
    json_int_t seq;
    double backoff;
    struct event *reconnect_ev;
    struct event *heartbeat_ev;

    struct evconnlistener *lsn;
    struct event *sig_ev[4];        /* TERM, INT, HUP, CHLD */
    struct task *tasks;             /* running batch scripts */
    json_t *allocs;                 /* job id -> its spec on this node */
    struct xproc *xprocs;           /* commands run for aios-exec/aios-run */
    struct stage *stage;            /* NULL when staging.scratch is "" */
};

/* ctlconn.c: the connection to the controller. */
void ctlconn_start (struct noded *nd);
void ctlconn_stop (struct noded *nd);
/* Send a completion if connected (else it goes at the next register). */
void ctlconn_send_completion (struct noded *nd, json_t *rec);
/* Send a request of ours (msg is taken; its "seq" is set), if connected;
 * else it is dropped. */
void ctlconn_send (struct noded *nd, json_t *msg);
int ctlconn_listen (struct noded *nd, aios_error_t *err);

/* listener.c: commands run in jobs for peers (aios-exec). */
struct xproc;
/* A child that is not a batch script was reaped. */
void listener_reaped (struct noded *nd, pid_t pid, int status);
/* The job's allocation here begins (spec as in a launch) or ends (its
 * commands are killed). */
int listener_alloc (struct noded *nd, json_t *spec);
void listener_release (struct noded *nd, uint64_t id);
/* Signal the job's steps and aios-exec commands here. */
void listener_signal (struct noded *nd, uint64_t id, int sig);
void listener_free_all (struct noded *nd);

/* stage.c: datasets into the node cache, job scratch, stage-out. */
/* Set up SCRATCH (staging.scratch) and index its cache; nothing when
 * staging.scratch is "". */
int stage_create (struct noded *nd, aios_error_t *err);
/* Kill its children, remove partial copies. */
void stage_destroy (struct noded *nd);
/* The controller's "stage" or "prefetch" (msg borrowed): answered later
 * with "staged" or "cached". */
void stage_request (struct noded *nd, json_t *msg, bool prefetch);
/* The job ended: unpin its data, stop its staging, remove its scratch. */
void stage_release (struct noded *nd, uint64_t id);
/* A child was reaped: true if it was one of stage.c's. */
bool stage_reaped (struct noded *nd, pid_t pid, int status);
/* Create the job's scratch directory SCRATCH/jobs/ID (owned by its uid,
 * 0700) and set spec's "scratch" to it. */
int stage_job_prepare (struct noded *nd, json_t *spec, aios_error_t *err);
/* The batch script of spec ended with completion rec: 1 if a stage-out
 * started (rec is held, amended with "models" or "stage_out_error", and
 * completed with launch_complete() when it ends), else 0 (rec may have
 * gained a "stage_out_error"). */
int stage_out_start (struct noded *nd, json_t *spec, json_t *rec, double start);
/* Append the ids of jobs whose stage-out runs (they still count as
 * running); add "cache" and "cache_stats" to a register message. */
void stage_add_running (struct noded *nd, json_t *ids);
void stage_register_info (struct noded *nd, json_t *msg);

#endif
