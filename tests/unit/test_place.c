/* test_place.c - placing tasks onto nodes */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "place.h"

#define N 4

static struct place_node nodes[N];

static int setup_nodes (void **state)
{
    int i;

    for (i = 0; i < N; i++)
        nodes[i] = (struct place_node){ .cpus_free = 4, .mem_free = 1024, .idle = true, .usable = true };
    return 0;
}

static void test_single_task (void **state)
{
    struct place_req r = { 0, 1, 1, 0, 0, false };
    int idx[N], tasks[N];

    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 1);
    assert_int_equal (idx[0], 0);
    assert_int_equal (tasks[0], 1);
}

static void test_packs_in_order (void **state)
{
    struct place_req r = { 0, 6, 1, 0, 0, false };
    int idx[N], tasks[N];

    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 2);
    assert_int_equal (idx[0], 0);
    assert_int_equal (tasks[0], 4);
    assert_int_equal (idx[1], 1);
    assert_int_equal (tasks[1], 2);
}

static void test_cpus_per_task (void **state)
{
    struct place_req r = { 0, 2, 3, 0, 0, false };
    int idx[N], tasks[N];

    /* 3 CPUs per task: one task per 4-CPU node */
    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 2);
    assert_int_equal (tasks[0], 1);
    assert_int_equal (tasks[1], 1);
}

static void test_skips_unusable_and_busy (void **state)
{
    struct place_req r = { 0, 4, 1, 0, 0, false };
    int idx[N], tasks[N];

    nodes[0].usable = false;
    nodes[1].cpus_free = 1;
    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 2);
    assert_int_equal (idx[0], 1);
    assert_int_equal (tasks[0], 1);
    assert_int_equal (idx[1], 2);
    assert_int_equal (tasks[1], 3);
}

static void test_exact_nodes (void **state)
{
    struct place_req r = { 3, 5, 1, 0, 0, false };
    int idx[N], tasks[N];

    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 3);
    assert_int_equal (idx[0], 0);
    assert_int_equal (idx[1], 1);
    assert_int_equal (idx[2], 2);
    assert_int_equal (tasks[0] + tasks[1] + tasks[2], 5);
    assert_true (tasks[0] >= 1 && tasks[1] >= 1 && tasks[2] >= 1);
}

static void test_exact_prefers_room (void **state)
{
    struct place_req r = { 2, 7, 1, 0, 0, false };
    int idx[N], tasks[N];

    nodes[0].cpus_free = 1;
    /* node0 has 1 CPU: the two roomiest (1 and 2) hold 7 tasks */
    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 2);
    assert_int_equal (idx[0], 1);
    assert_int_equal (idx[1], 2);
    assert_int_equal (tasks[0] + tasks[1], 7);
}

static void test_memory (void **state)
{
    struct place_req r = { 2, 2, 1, 600, 0, false };
    int idx[N], tasks[N];

    nodes[0].mem_free = 500;
    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 2);
    assert_int_equal (idx[0], 1);
    r.mem_mb = 2048;
    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 0);
}

static void test_does_not_fit (void **state)
{
    struct place_req r = { 0, 17, 1, 0, 0, false };
    int idx[N], tasks[N];

    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 0);
    r = (struct place_req){ 5, 5, 1, 0, 0, false };
    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 0);
    r = (struct place_req){ 0, 1, 5, 0, 0, false };
    assert_int_equal (place_job (nodes, N, &r, idx, tasks), 0);
}

static void test_invalid (void **state)
{
    struct place_req r = { 0, 0, 1, 0, 0, false };
    int idx[N], tasks[N];

    assert_int_equal (place_job (nodes, N, &r, idx, tasks), -1);
    assert_int_equal (errno, EINVAL);
    r = (struct place_req){ 3, 2, 1, 0, 0, false };
    assert_int_equal (place_job (nodes, N, &r, idx, tasks), -1);
    r = (struct place_req){ 0, 1, 0, 0, 0, false };
    assert_int_equal (place_job (nodes, N, &r, idx, tasks), -1);
    assert_int_equal (place_job (NULL, N, &r, idx, tasks), -1);
    assert_int_equal (place_job (nodes, N, NULL, idx, tasks), -1);
}

static void test_possible (void **state)
{
    struct place_req ok = { 0, 16, 1, 0, 0, false }, no = { 0, 17, 1, 0, 0, false };

    assert_true (place_possible (nodes, N, &ok));
    assert_false (place_possible (nodes, N, &no));
    assert_false (place_possible (nodes, 0, &ok));
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup (test_single_task, setup_nodes),
        cmocka_unit_test_setup (test_packs_in_order, setup_nodes),
        cmocka_unit_test_setup (test_cpus_per_task, setup_nodes),
        cmocka_unit_test_setup (test_skips_unusable_and_busy, setup_nodes),
        cmocka_unit_test_setup (test_exact_nodes, setup_nodes),
        cmocka_unit_test_setup (test_exact_prefers_room, setup_nodes),
        cmocka_unit_test_setup (test_memory, setup_nodes),
        cmocka_unit_test_setup (test_does_not_fit, setup_nodes),
        cmocka_unit_test_setup (test_invalid, setup_nodes),
        cmocka_unit_test_setup (test_possible, setup_nodes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
