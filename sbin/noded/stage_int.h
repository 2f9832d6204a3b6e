/* stage_int.h - private to stage.c and stage_out.c: the requests being
 * served, the stage object, and the helpers both files use.
 */
#ifndef AIOS_STAGE_INT_H
#define AIOS_STAGE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "noded.h"

enum op_kind { OP_STAGE, OP_PREFETCH, OP_STAGE_OUT, OP_REMOVE };

struct ds;      /* a dataset of a stage or prefetch request (stage.c) */

/* A request being served, and the child doing its work. */
struct op {
    struct stage *st;
    enum op_kind kind;
    uint64_t id;            /* the job (all but prefetch) */
    uint64_t owner;         /* pins: the job's id, or a prefetch token */
    uid_t uid;
    gid_t gid;
    int index, count;
    int attempt;            /* stage: the job's run it is for (its restarts) */
    json_t *msg;            /* the request, or the job's spec (stage-out) */
    struct ds *ds;
    size_t nds;
    bool waiting;           /* for another request's copy of a key */
    bool cancelled;         /* the job was released meanwhile */
    pid_t pid;
    int fd;                 /* the child's pipe */
    struct event *ev;
    struct evbuffer *in;
    double last_sent;
    uint64_t done, total;
    int hits, misses;
    uint64_t evictions0, copied;
    char reason[512];
    json_t *rec;            /* stage-out: the completion it holds back */
    json_t *models;
    int errors;
    struct op *next;
};

struct stage {
    struct noded *nd;
    char *scratch, *cache_dir, *jobs_dir;
    struct cache *cache;
    struct op *ops;
    json_t *staged;         /* "ID" -> the staged answer (sent again on a
                             * repeated request) until the job's release */
    uint64_t prefetches, removals;
};

/* stage.c: ops (an op is linked into st->ops by stage_op_link(), and
 * stage_op_free() unlinks and frees it). */
struct op *stage_op_new (struct stage *st, enum op_kind kind);
void stage_op_free (struct op *op);
void stage_op_link (struct op *op);
/* Fork a child for op with a pipe back: in the child (0 returned) the pipe
 * is fd 3, every other descriptor of aiosd's is closed and signals are
 * back to their defaults; in the parent the read end is watched. */
pid_t stage_op_fork (struct op *op);
/* A line to the parent (in a child). */
void stage_say (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* How a child ended, for a reason. */
void stage_status_text (int status, char *buf, size_t len);

/* stage_out.c: a stage-out child was reaped (op is freed). */
void stage_out_ended (struct op *op, int status);

#endif
