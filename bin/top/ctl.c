/* ctl.c - aios-top's requests (cancel, hold, release, why) and status line
 *
 * Requests go over a second connection, opened on first use and reopened
 * once when the controller closed it (a restart); what the controller says
 * when it refuses goes to the status line verbatim.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "top.h"

void top_status (struct top *t, bool error, const char *fmt, ...)
{
    va_list ap;

    va_start (ap, fmt);
    vsnprintf (t->status, sizeof (t->status), fmt, ap);
    va_end (ap);
    t->status_error = error;
    t->dirty = true;
}

static bool transport_error (int e)
{
    return e == ECONNRESET || e == EPIPE || e == ENOTCONN || e == EBADF;
}

/* rpc on the request connection, (re)opened as needed.  req is stolen. */
static json_t *ctl_rpc (struct top *t, json_t *req, aios_error_t *err)
{
    json_t *rep = NULL;
    int tries;

    for (tries = 0; tries < 2 && !rep; tries++) {
        if (!t->cmd && !(t->cmd = cli_try_connect (err)))
            break;
        if ((rep = aios_client_rpc (t->cmd, json_incref (req), err)))
            break;
        if (!transport_error (errno))
            break;
        aios_client_close (t->cmd);
        t->cmd = NULL;
    }
    json_decref (req);
    return rep;
}

static const struct {
    const char *op, *done;
} actions[] = {
    [OP_CANCEL] = { "cancel", "cancelled" },
    [OP_HOLD] = { "hold", "held" },
    [OP_RELEASE] = { "release", "released" },
};

/* The first error of a reply's "errors" array, or NULL. */
static const char *first_error (json_t *rep)
{
    json_t *errors = json_object_get (rep, "errors");

    if (json_array_size (errors) == 0)
        return NULL;
    return json_string_value (json_array_get (errors, 0))
               ? json_string_value (json_array_get (errors, 0)) : "refused";
}

void ctl_job_op (struct top *t, enum job_op which, long long id)
{
    json_t *req = proto_request (actions[which].op, 0), *rep, *done;
    aios_error_t err;

    if (!req || json_object_set_new (req, "ids", json_pack ("[I]", (json_int_t)id)) < 0)
        cli_die ("out of memory");
    if (!(rep = ctl_rpc (t, req, &err))) {
        top_status (t, true, "%s job %lld: %s", actions[which].op, id, err.text);
        return;
    }
    done = json_object_get (rep, actions[which].done);
    if (first_error (rep))
        top_status (t, true, "%s", first_error (rep));
    else if (json_is_array (done) && json_array_size (done) == 0)
        top_status (t, true, "job %lld was not %s", id, actions[which].done);
    else
        top_status (t, false, "%s job %lld", actions[which].done, id);
    json_decref (rep);
    if (t->mode == MODE_DETAIL)
        ctl_fetch_why (t);
}

void ctl_fetch_why (struct top *t)
{
    json_t *req = proto_request ("why", 0);
    aios_error_t err;

    json_decref (t->why);
    t->why = NULL;
    t->why_err[0] = '\0';
    if (!req || json_object_set_new (req, "id", json_integer (t->detail_id)) < 0)
        cli_die ("out of memory");
    if (!(t->why = ctl_rpc (t, req, &err)))
        snprintf (t->why_err, sizeof (t->why_err), "why: %s", err.text);
}
