/* test_core.c - the scheduling core: order, placement, backfill, reasons,
 * estimates, driven with the built-in policy plugins */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "builtin.h"
#include "core.h"

#define MAXN 8
#define MAXJ 16

struct cluster {
    struct sched_node nodes[MAXN];
    int nnodes;
    int pnodes[MAXN];
    struct sched_part part;
    struct sched_alloc ralloc[MAXJ][MAXN];
    struct sched_running run[MAXJ];
    int nrun;
    struct sched_job jobs[MAXJ];
    int njobs;
    struct aios_policy_ops ops;
    struct sched_input in;
    struct sched *s;
};

static struct cluster c;

/* n nodes of cpus CPUs, 1 GiB and gpus GPUs, one partition of all. */
static void cluster (int n, int cpus, int gpus, const char *policy)
{
    int i;

    sched_destroy (c.s);
    memset (&c, 0, sizeof (c));
    for (i = 0; i < n; i++) {
        c.nodes[i] = (struct sched_node){ "n", cpus, 1024, gpus, NULL, true };
        c.pnodes[i] = i;
    }
    c.nnodes = n;
    c.part = (struct sched_part){ "batch", c.pnodes, n, -1, 1 };
    assert_int_equal (policy_builtin (policy, &c.ops), 0);
    c.s = sched_create ();
    assert_non_null (c.s);
}

/* A running job using cpus on node until end. */
static void running (int node, int cpus, double end)
{
    struct sched_alloc *a = c.ralloc[c.nrun];

    a[0] = (struct sched_alloc){ node, cpus, cpus, 0, 0 };
    c.run[c.nrun] = (struct sched_running){ 100 + (uint64_t)c.nrun, end, a, 1,
                                            false };
    c.nrun++;
}

static struct sched_job *job (int nodes, int ntasks, long limit)
{
    struct sched_job *j = &c.jobs[c.njobs];

    memset (j, 0, sizeof (*j));
    j->id = (uint64_t)c.njobs + 1;
    j->part = 0;
    j->submit_time = c.njobs;
    j->time_limit = limit;
    j->nodes = nodes;
    j->ntasks = ntasks;
    j->cpus_per_task = 1;
    c.njobs++;
    return j;
}

static const struct sched_result *pass (enum sched_backfill bf)
{
    c.in = (struct sched_input){
        .now = 0, .nodes = c.nodes, .nnodes = c.nnodes, .parts = &c.part,
        .nparts = 1, .running = c.run, .nrunning = c.nrun, .jobs = c.jobs,
        .njobs = c.njobs, .policy = &c.ops, .backfill = bf,
        .estimate_depth = 100,
    };
    assert_int_equal (sched_pass (c.s, &c.in), 0);
    return sched_results (c.s);
}

static int teardown (void **state)
{
    (void)state;
    sched_destroy (c.s);
    c.s = NULL;
    return 0;
}

static void test_fifo_starts_in_order (void **state)
{
    const struct sched_result *r;

    (void)state;
    cluster (2, 4, 0, "fifo");
    job (0, 8, 60);
    job (0, 1, 60);
    r = pass (SCHED_BACKFILL_NONE);
    assert_true (r[0].start);
    assert_int_equal (r[0].nalloc, 2);
    assert_int_equal (r[0].alloc[0].cpus + r[0].alloc[1].cpus, 8);
    assert_false (r[1].start);
    assert_int_equal (sched_main_reason (r[1].reasons), SCHED_R_RESOURCES);
    assert_int_equal (r[1].position, 1);
    /* the first job runs 60 s: the second can start then */
    assert_true (r[1].est_start == 60);
}

/* Head job needs the whole machine at t=100; a short job ends before
 * that, a long one would delay it. */
static void test_easy_backfills_short_jobs_only (void **state)
{
    const struct sched_result *r;

    (void)state;
    cluster (2, 4, 0, "fifo");
    running (0, 4, 100);
    job (0, 8, 1000);       /* 1: waits for t=100 */
    job (0, 1, 50);         /* 2: ends at 50: backfills */
    job (0, 2, 500);        /* 3: would hold node 1 past t=100 */
    r = pass (SCHED_BACKFILL_NONE);
    assert_false (r[0].start);
    assert_false (r[1].start);
    assert_false (r[2].start);
    assert_int_equal (sched_main_reason (r[1].reasons), SCHED_R_PRIORITY);
    assert_int_equal (r[1].blocked_by, 1);

    r = pass (SCHED_BACKFILL_EASY);
    assert_false (r[0].start);
    assert_true (r[0].reserved);
    assert_true (r[0].est_start == 100);
    assert_true (r[1].start);
    assert_true (r[1].backfilled);
    assert_false (r[2].start);
    assert_true (r[2].reasons & SCHED_R_RESERVATION);
    assert_int_equal (r[2].blocked_by, 1);
    /* job 3 starts after job 1's 1000 s */
    assert_true (r[2].est_start == 1100);
    assert_int_equal (sched_stats (c.s)->backfilled, 1);
}

/* A long job may start beside the reservation. */
static void test_easy_long_job_beside_reservation (void **state)
{
    const struct sched_result *r;

    (void)state;
    cluster (3, 4, 0, "fifo");
    running (0, 4, 100);
    running (1, 4, 100);
    job (2, 8, 1000);       /* two whole nodes: nodes 0 and 1 at t=100 */
    job (0, 4, 5000);       /* fits on node 2 and stays off the reservation */
    job (0, 1, 5000);       /* nothing left now */
    r = pass (SCHED_BACKFILL_EASY);
    assert_true (r[0].reserved);
    assert_true (r[0].est_start == 100);
    assert_true (r[1].start);
    assert_int_equal (r[1].alloc[0].node, 2);
    assert_false (r[2].start);
    assert_true (r[2].reasons & SCHED_R_RESOURCES);
}

static void test_sjf_orders_by_time (void **state)
{
    const int *order;

    (void)state;
    cluster (1, 1, 0, "sjf");
    job (0, 1, 300);
    job (0, 1, 100);
    job (0, 1, 200);
    job (0, 1, -1);
    pass (SCHED_BACKFILL_NONE);
    order = sched_order (c.s);
    assert_int_equal (order[0], 1);
    assert_int_equal (order[1], 2);
    assert_int_equal (order[2], 0);
    assert_int_equal (order[3], 3);
    assert_true (sched_results (c.s)[1].start);
}

static void test_gpus_by_index (void **state)
{
    const struct sched_result *r;

    (void)state;
    cluster (1, 8, 4, "fifo");
    job (0, 1, 60)->gpus_per_node = 2;
    job (0, 1, 60)->gpus_per_node = 2;
    job (0, 1, 60)->gpus_per_node = 1;
    r = pass (SCHED_BACKFILL_NONE);
    assert_true (r[0].start);
    assert_int_equal (r[0].alloc[0].gpus, 0x3);
    assert_true (r[1].start);
    assert_int_equal (r[1].alloc[0].gpus, 0xc);
    assert_false (r[2].start);
    assert_true (r[2].reasons & SCHED_R_RESOURCES);
}

static void test_exclusive_takes_whole_idle_nodes (void **state)
{
    const struct sched_result *r;

    (void)state;
    cluster (2, 4, 2, "fifo");
    running (0, 1, 100);
    job (0, 1, 60)->exclusive = true;
    r = pass (SCHED_BACKFILL_NONE);
    assert_true (r[0].start);
    assert_int_equal (r[0].alloc[0].node, 1);
    assert_int_equal (r[0].alloc[0].cpus, 4);
    assert_int_equal (r[0].alloc[0].gpus, 0x3);
}

static void test_hard_reasons (void **state)
{
    const struct sched_result *r;

    (void)state;
    cluster (2, 4, 0, "fifo");
    c.part.max_time = 3600;
    job (0, 1, 60)->held = true;
    job (0, 1, 7200);               /* over the partition's max_time */
    job (0, 9, 60);                 /* more than the partition has */
    c.nodes[1].usable = false;
    job (0, 8, 60);                 /* only with the down node */
    job (0, 1, 60)->constraint = "ib";
    job (0, 1, 60);
    r = pass (SCHED_BACKFILL_EASY);
    assert_int_equal (sched_main_reason (r[0].reasons), SCHED_R_HELD);
    assert_int_equal (sched_main_reason (r[1].reasons), SCHED_R_PART_TIME);
    assert_int_equal (sched_main_reason (r[2].reasons), SCHED_R_PART_NODES);
    assert_int_equal (sched_main_reason (r[3].reasons), SCHED_R_NODES_DOWN);
    assert_int_equal (sched_main_reason (r[4].reasons), SCHED_R_CONSTRAINT);
    /* none of them blocks the last job */
    assert_true (r[5].start);
    assert_int_equal (r[5].alloc[0].node, 0);
    assert_true (r[0].est_start < 0);
    assert_string_equal (sched_reason_name (SCHED_R_NODES_DOWN),
                         "ReqNodeNotAvail");
}

static void test_features_match (void **state)
{
    (void)state;
    assert_true (sched_features_match ("ib,a100", "a100"));
    assert_true (sched_features_match ("ib,a100", "a100,ib"));
    assert_false (sched_features_match ("ib", "a100"));
    assert_false (sched_features_match (NULL, "ib"));
    assert_true (sched_features_match (NULL, NULL));
    assert_false (sched_features_match ("ib2", "ib"));
}

static void test_priority_fairshare_and_nice (void **state)
{
    struct aios_policy_weights w = { 0, 0, 0, 0, 1000, 86400, 0 };
    struct sched_job *a, *b;
    const int *order;

    (void)state;
    cluster (1, 1, 0, "priority");
    a = job (0, 1, 60);     /* heavy user: used 3/4 with a 1/2 share */
    a->fs_usage = 0.75;
    a->fs_shares = 0.5;
    b = job (0, 1, 60);     /* light user */
    b->fs_usage = 0.25;
    b->fs_shares = 0.5;
    c.in.weights = &w;
    c.in = (struct sched_input){
        .now = 0, .nodes = c.nodes, .nnodes = c.nnodes, .parts = &c.part,
        .nparts = 1, .jobs = c.jobs, .njobs = c.njobs, .policy = &c.ops,
        .weights = &w,
    };
    assert_int_equal (sched_pass (c.s, &c.in), 0);
    order = sched_order (c.s);
    assert_int_equal (order[0], 1);
    /* 2^(-0.25/0.5) * 1000 */
    assert_true (fabs (sched_results (c.s)[1].priority - 707.1) < 0.1);
    b->nice = 500;
    assert_int_equal (sched_pass (c.s, &c.in), 0);
    assert_int_equal (sched_order (c.s)[0], 0);
}

static void test_bad_input (void **state)
{
    struct sched_input in;

    (void)state;
    cluster (1, 1, 0, "fifo");
    job (0, 0, 60);                 /* zero tasks */
    in = (struct sched_input){ .nodes = c.nodes, .nnodes = 1, .parts = &c.part,
                               .nparts = 1, .jobs = c.jobs, .njobs = 1,
                               .policy = &c.ops };
    errno = 0;
    assert_int_equal (sched_pass (c.s, &in), -1);
    assert_int_equal (errno, EINVAL);
    in.policy = NULL;
    assert_int_equal (sched_pass (c.s, &in), -1);
    assert_int_equal (policy_builtin ("nope", &c.ops), -1);
}


/* A job whose data is cached on node 2 goes there when it fits there now;
 * when node 2 is busy it starts elsewhere rather than wait. */
static void test_prefers_nodes_with_its_data (void **state)
{
    static const unsigned char on2[3] = { 0, 0, 1 };
    const struct sched_result *r;
    struct sched_job *j;

    (void)state;
    cluster (3, 2, 0, "fifo");
    j = job (1, 1, 60);
    j->prefer = on2;
    j = job (1, 1, 60);
    r = pass (SCHED_BACKFILL_EASY);
    assert_true (r[0].start);
    assert_int_equal (r[0].alloc[0].node, 2);
    assert_true (r[1].start);
    assert_int_equal (r[1].alloc[0].node, 0);

    cluster (3, 2, 0, "fifo");
    running (2, 2, 100);
    j = job (1, 1, 60);
    j->prefer = on2;
    r = pass (SCHED_BACKFILL_EASY);
    assert_true (r[0].start);
    assert_int_not_equal (r[0].alloc[0].node, 2);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_prefers_nodes_with_its_data, teardown),
        cmocka_unit_test_teardown (test_fifo_starts_in_order, teardown),
        cmocka_unit_test_teardown (test_easy_backfills_short_jobs_only, teardown),
        cmocka_unit_test_teardown (test_easy_long_job_beside_reservation, teardown),
        cmocka_unit_test_teardown (test_sjf_orders_by_time, teardown),
        cmocka_unit_test_teardown (test_gpus_by_index, teardown),
        cmocka_unit_test_teardown (test_exclusive_takes_whole_idle_nodes, teardown),
        cmocka_unit_test_teardown (test_hard_reasons, teardown),
        cmocka_unit_test (test_features_match),
        cmocka_unit_test_teardown (test_priority_fairshare_and_nice, teardown),
        cmocka_unit_test_teardown (test_bad_input, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
