/* conn.h - one connection to the controller (a tool or a node daemon) */
#ifndef AIOS_CTLD_CONN_H
#define AIOS_CTLD_CONN_H

#include <stdbool.h>
#include <sys/types.h>
#include <event2/bufferevent.h>
#include <jansson.h>

struct ctld;
struct node;

enum conn_role {
    CONN_NEW = 0,       /* before hello */
    CONN_CLIENT,
    CONN_NODE,
};

struct conn {
    struct ctld *ctld;
    struct bufferevent *bev;
    enum conn_role role;
    bool tcp;
    uid_t uid;
    gid_t gid;
    char user[64];
    char peer[128];
    struct node *node;      /* CONN_NODE: borrowed */
    json_t *held;           /* frames to send after the next commit */
    json_t *waits;          /* "jobid" -> seq of a pending wait request */
    json_int_t out_seq;     /* seq of requests we send (to nodes) */
    bool closing;           /* flush then close */
    bool subscriber;        /* gets the event stream */
    json_t *sub_ids;        /* only these jobs' (or arrays') events, */
    json_t *sub_tasks;      /* and these tasks'; both NULL: all */
    size_t sub_grace;       /* its snapshot's size: not counted as backlog */
    struct conn *next;
    struct conn *prev;
};

/* Take over fd (accepted socket).  NULL on error (fd closed). */
struct conn *conn_create (struct ctld *ctld, int fd, bool tcp);
void conn_destroy (struct conn *c);

/* Send msg now (reference stolen). */
int conn_send (struct conn *c, json_t *msg);
/* Send msg once the current transaction is committed (reference stolen):
 * replies that acknowledge a state change, and launches. */
int conn_send_committed (struct conn *c, json_t *msg);
void conn_flush_held (struct conn *c);

/* Send an error reply for seq now. */
void conn_error (struct conn *c, json_int_t seq, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

/* Stop reading; close once everything queued is written. */
void conn_close (struct conn *c);

/* Is this connection's user root, the daemon user or an operator? */
bool conn_is_privileged (const struct conn *c);

#endif
