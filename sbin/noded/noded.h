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
};

/* ctlconn.c: the connection to the controller. */
void ctlconn_start (struct noded *nd);
void ctlconn_stop (struct noded *nd);
/* Send a completion if connected (else it goes at the next register). */
void ctlconn_send_completion (struct noded *nd, json_t *rec);
int ctlconn_listen (struct noded *nd, aios_error_t *err);

/* listener.c: commands run in jobs for peers (aios-exec). */
struct xproc;
/* A child that is not a batch script was reaped. */
void listener_reaped (struct noded *nd, pid_t pid, int status);
/* The job's allocation here begins (spec as in a launch) or ends (its
 * commands are killed). */
int listener_alloc (struct noded *nd, json_t *spec);
void listener_release (struct noded *nd, uint64_t id);
void listener_free_all (struct noded *nd);

#endif
