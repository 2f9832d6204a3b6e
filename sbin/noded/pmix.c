/* pmix.c - the node daemon's embedded PMIx server (OpenPMIx, libpmix)
 *
 * Started on the first PMIx step.  For each step aiosd registers a
 * namespace with the whole job map (sizes, node map, proc map, local peers)
 * and, before forking, each local client (PMIx_server_setup_fork gives the
 * variables a client needs).  A fence runs in two levels: the PMIx library
 * calls fence_nb once every local client entered it, with the local data;
 * that goes to aios-run, which concatenates the data of every node and
 * sends it back to all of them.
 *
 * libpmix calls the module from its own progress thread.  fence_nb only
 * queues the request and wakes the event loop through a pipe; everything
 * else happens on aiosd's thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pmix.h>
#include <pmix_server.h>

#include "log.h"
#include "noded.h"
#include "noded_pmix.h"

struct fence {
    char nspace[PMIX_MAX_NSLEN + 1];
    char *data;
    size_t len;
    pmix_modex_cbfunc_t cbfunc;
    void *cbdata;
    struct fence *next;
};

static struct {
    bool up;
    int wake[2];
    struct event *wake_ev;
    pthread_mutex_t lock;
    struct fence *queue;        /* from the PMIx thread */
    aios_pmix_fence_f fence_cb;
    void *arg;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = { -1, -1 } };

/* --- waiting for libpmix's callbacks ---------------------------------------- */

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    pmix_status_t status;
};

static void waiter_init (struct waiter *w)
{
    pthread_mutex_init (&w->lock, NULL);
    pthread_cond_init (&w->cond, NULL);
    w->done = false;
    w->status = PMIX_SUCCESS;
}

static void waiter_cb (pmix_status_t status, void *cbdata)
{
    struct waiter *w = cbdata;

    pthread_mutex_lock (&w->lock);
    w->status = status;
    w->done = true;
    pthread_cond_signal (&w->cond);
    pthread_mutex_unlock (&w->lock);
}

static pmix_status_t waiter_wait (struct waiter *w, pmix_status_t rc)
{
    if (rc == PMIX_OPERATION_SUCCEEDED)
        rc = PMIX_SUCCESS;
    else if (rc == PMIX_SUCCESS) {
        pthread_mutex_lock (&w->lock);
        while (!w->done)
            pthread_cond_wait (&w->cond, &w->lock);
        pthread_mutex_unlock (&w->lock);
        rc = w->status;
    }
    pthread_mutex_destroy (&w->lock);
    pthread_cond_destroy (&w->cond);
    return rc;
}

/* --- the server module (libpmix's thread) ------------------------------------ */

static pmix_status_t fence_nb (const pmix_proc_t procs[], size_t nprocs,
                               const pmix_info_t info[], size_t ninfo,
                               char *data, size_t ndata,
                               pmix_modex_cbfunc_t cbfunc, void *cbdata)
{
    struct fence *f = calloc (1, sizeof (*f));
    char byte = 1;

    if (!f || (ndata && !(f->data = malloc (ndata)))) {
        free (f);
        return PMIX_ERR_NOMEM;
    }
    snprintf (f->nspace, sizeof (f->nspace), "%s", nprocs ? procs[0].nspace : "");
    if (ndata)
        memcpy (f->data, data, ndata);
    f->len = ndata;
    f->cbfunc = cbfunc;
    f->cbdata = cbdata;
    pthread_mutex_lock (&srv.lock);
    f->next = srv.queue;
    srv.queue = f;
    pthread_mutex_unlock (&srv.lock);
    if (write (srv.wake[1], &byte, 1) < 0)
        return PMIX_ERROR;
    return PMIX_SUCCESS;
}

static pmix_status_t client_connected (const pmix_proc_t *proc, void *server_object,
                                       pmix_op_cbfunc_t cbfunc, void *cbdata)
{
    return PMIX_OPERATION_SUCCEEDED;
}

static pmix_status_t client_finalized (const pmix_proc_t *proc, void *server_object,
                                       pmix_op_cbfunc_t cbfunc, void *cbdata)
{
    return PMIX_OPERATION_SUCCEEDED;
}

static pmix_status_t abort_fn (const pmix_proc_t *proc, void *server_object,
                               int status, const char msg[], pmix_proc_t procs[],
                               size_t nprocs, pmix_op_cbfunc_t cbfunc, void *cbdata)
{
    /* the rank exits on its own; aios-run then ends the step */
    return PMIX_OPERATION_SUCCEEDED;
}

static pmix_server_module_t module = {
    .client_connected = client_connected,
    .client_finalized = client_finalized,
    .abort = abort_fn,
    .fence_nb = fence_nb,
};

/* --- aiosd's thread ------------------------------------------------------------ */

static void wake_cb (evutil_socket_t fd, short what, void *arg)
{
    char buf[64];
    struct fence *list;

    while (read (fd, buf, sizeof (buf)) > 0)
        ;
    pthread_mutex_lock (&srv.lock);
    list = srv.queue;
    srv.queue = NULL;
    pthread_mutex_unlock (&srv.lock);
    while (list) {
        struct fence *f = list;
        list = f->next;
        f->next = NULL;
        srv.fence_cb (f->nspace, f->data, f->len, f, srv.arg);
    }
}

static void release_fence (void *cbdata)
{
    struct fence *f = cbdata;

    free (f->data);
    free (f);
}

void aios_pmix_fence_release (void *token, const char *data, size_t len)
{
    struct fence *f = token;

    /* f now carries the whole collection until libpmix is done with it */
    free (f->data);
    f->data = NULL;
    if (len && (f->data = malloc (len)))
        memcpy (f->data, data, len);
    f->len = f->data ? len : 0;
    if (f->cbfunc)
        f->cbfunc (PMIX_SUCCESS, f->data, f->len, f->cbdata, release_fence, f);
    else
        release_fence (f);
}

void aios_pmix_fence_fail (void *token)
{
    struct fence *f = token;

    if (f->cbfunc)
        f->cbfunc (PMIX_ERROR, NULL, 0, f->cbdata, release_fence, f);
    else
        release_fence (f);
}

int aios_pmix_start (struct noded *nd, aios_pmix_fence_f fence_cb, void *arg,
                     aios_error_t *err)
{
    char dir[4096], nspace[PMIX_MAX_NSLEN + 1];
    pmix_info_t info[5];
    pmix_rank_t rank = (pmix_rank_t)(nd->cnode - nd->conf->nodes);
    bool no = false;
    pmix_status_t rc;

    if (srv.up)
        return 0;
    snprintf (dir, sizeof (dir), "%s/pmix", nd->spool_dir);
    if (mkdir (dir, 0755) < 0 && errno != EEXIST)
        return errprintf (err, "PMIx: mkdir %s: %s", dir, strerror (errno));
    snprintf (nspace, sizeof (nspace), "aiosd.%s", nd->name);
    PMIX_INFO_LOAD (&info[0], PMIX_SERVER_TMPDIR, dir, PMIX_STRING);
    PMIX_INFO_LOAD (&info[1], PMIX_SYSTEM_TMPDIR, dir, PMIX_STRING);
    PMIX_INFO_LOAD (&info[2], PMIX_SERVER_NSPACE, nspace, PMIX_STRING);
    PMIX_INFO_LOAD (&info[3], PMIX_SERVER_RANK, &rank, PMIX_PROC_RANK);
    PMIX_INFO_LOAD (&info[4], PMIX_SERVER_TOOL_SUPPORT, &no, PMIX_BOOL);
    rc = PMIx_server_init (&module, info, 5);
    PMIX_INFO_DESTRUCT (&info[0]);
    PMIX_INFO_DESTRUCT (&info[1]);
    PMIX_INFO_DESTRUCT (&info[2]);
    if (rc != PMIX_SUCCESS)
        return errprintf (err, "PMIx server: %s", PMIx_Error_string (rc));
    if (pipe2 (srv.wake, O_CLOEXEC | O_NONBLOCK) < 0
        || !(srv.wake_ev = event_new (nd->base, srv.wake[0], EV_READ | EV_PERSIST,
                                      wake_cb, NULL))) {
        PMIx_server_finalize ();
        return errprintf (err, "PMIx: %s", strerror (errno));
    }
    event_add (srv.wake_ev, NULL);
    srv.fence_cb = fence_cb;
    srv.arg = arg;
    srv.up = true;
    log_info ("PMIx server %s started (%s)", PMIx_Get_version (), dir);
    return 0;
}

void aios_pmix_stop (void)
{
    if (!srv.up)
        return;
    PMIx_server_finalize ();
    event_free (srv.wake_ev);
    close (srv.wake[0]);
    close (srv.wake[1]);
    srv.up = false;
}

/* "node1,node2" and "0,1;2,3" from [["node1",[0,1]], ["node2",[2,3]]]. */
static int maps (json_t *nodes, const char *me, char **names, char **ppn,
                 char **peers, int *nlocal)
{
    size_t i, k;
    json_t *n, *r;
    char *a = NULL, *b = NULL, *c = NULL;
    size_t al = 0, bl = 0, cl = 0;
    FILE *fa = open_memstream (&a, &al), *fb = open_memstream (&b, &bl);
    FILE *fc = open_memstream (&c, &cl);

    *nlocal = 0;
    if (!fa || !fb || !fc)
        return -1;
    json_array_foreach (nodes, i, n) {
        const char *name = json_string_value (json_array_get (n, 0));
        bool mine = name && !strcmp (name, me);
        fprintf (fa, "%s%s", i ? "," : "", name ? name : "?");
        if (i)
            fputc (';', fb);
        json_array_foreach (json_array_get (n, 1), k, r) {
            fprintf (fb, "%s%lld", k ? "," : "", (long long)json_integer_value (r));
            if (mine) {
                fprintf (fc, "%s%lld", *nlocal ? "," : "", (long long)json_integer_value (r));
                (*nlocal)++;
            }
        }
    }
    fclose (fa);
    fclose (fb);
    fclose (fc);
    *names = a;
    *ppn = b;
    *peers = c;
    return 0;
}

int aios_pmix_nspace (struct noded *nd, const char *nspace, uint32_t size,
                      json_t *nodes, uid_t uid, gid_t gid, aios_error_t *err)
{
    char *names = NULL, *ppn = NULL, *peers = NULL, *nodemap = NULL, *procmap = NULL;
    pmix_info_t info[7];
    uint32_t nlocal32, nnodes = (uint32_t)json_array_size (nodes);
    struct waiter w;
    pmix_status_t rc;
    int nlocal, i;

    if (maps (nodes, nd->name, &names, &ppn, &peers, &nlocal) < 0)
        return errprintf (err, "PMIx: out of memory");
    if ((rc = PMIx_generate_regex (names, &nodemap)) != PMIX_SUCCESS
        || (rc = PMIx_generate_ppn (ppn, &procmap)) != PMIX_SUCCESS) {
        free (names);
        free (ppn);
        free (peers);
        return errprintf (err, "PMIx: cannot encode the job map: %s",
                          PMIx_Error_string (rc));
    }
    nlocal32 = (uint32_t)nlocal;
    PMIX_INFO_LOAD (&info[0], PMIX_UNIV_SIZE, &size, PMIX_UINT32);
    PMIX_INFO_LOAD (&info[1], PMIX_JOB_SIZE, &size, PMIX_UINT32);
    PMIX_INFO_LOAD (&info[2], PMIX_LOCAL_SIZE, &nlocal32, PMIX_UINT32);
    PMIX_INFO_LOAD (&info[3], PMIX_NODE_MAP, nodemap, PMIX_REGEX);
    PMIX_INFO_LOAD (&info[4], PMIX_PROC_MAP, procmap, PMIX_REGEX);
    PMIX_INFO_LOAD (&info[5], PMIX_LOCAL_PEERS, peers, PMIX_STRING);
    PMIX_INFO_LOAD (&info[6], PMIX_NUM_NODES, &nnodes, PMIX_UINT32);
    waiter_init (&w);
    rc = waiter_wait (&w, PMIx_server_register_nspace (nspace, nlocal, info, 7,
                                                       waiter_cb, &w));
    for (i = 0; i < 7; i++)
        PMIX_INFO_DESTRUCT (&info[i]);
    free (names);
    free (ppn);
    free (peers);
    free (nodemap);
    free (procmap);
    (void)uid;
    (void)gid;
    if (rc != PMIX_SUCCESS)
        return errprintf (err, "PMIx: cannot register namespace %s: %s", nspace,
                          PMIx_Error_string (rc));
    return 0;
}

int aios_pmix_client (const char *nspace, int rank, uid_t uid, gid_t gid,
                      json_t *env, aios_error_t *err)
{
    pmix_proc_t proc;
    struct waiter w;
    pmix_status_t rc;
    char **vars = NULL, **v;

    PMIX_LOAD_PROCID (&proc, nspace, (pmix_rank_t)rank);
    waiter_init (&w);
    rc = waiter_wait (&w, PMIx_server_register_client (&proc, uid, gid, NULL,
                                                       waiter_cb, &w));
    if (rc != PMIX_SUCCESS)
        return errprintf (err, "PMIx: cannot register rank %d: %s", rank,
                          PMIx_Error_string (rc));
    if ((rc = PMIx_server_setup_fork (&proc, &vars)) != PMIX_SUCCESS)
        return errprintf (err, "PMIx: setup_fork for rank %d: %s", rank,
                          PMIx_Error_string (rc));
    for (v = vars; v && *v; v++) {
        char *eq = strchr (*v, '=');
        if (eq) {
            *eq = '\0';
            json_object_set_new (env, *v, json_string (eq + 1));
        }
        free (*v);
    }
    free (vars);
    return 0;
}

void aios_pmix_nspace_end (const char *nspace)
{
    struct waiter w;

    if (!srv.up)
        return;
    waiter_init (&w);
    PMIx_server_deregister_nspace (nspace, waiter_cb, &w);
    waiter_wait (&w, PMIX_SUCCESS);
}
