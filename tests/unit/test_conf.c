/* test_conf.c - aios.yaml: a full config, the defaults, the sample in etc/,
 * and the exact text (with line:column) of every class of error */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "hostlist.h"
#include "parse.h"

#include "paths.h"
#ifndef SRCDIR
#define SRCDIR "."
#endif

static char dir[64];

/* Write text to dir/name; returns the path (static until the next call). */
static const char *write_file (const char *name, const char *text)
{
    static char path[128];
    FILE *f;

    snprintf (path, sizeof (path), "%s/%s", dir, name);
    assert_non_null (f = fopen (path, "w"));
    assert_int_equal (fwrite (text, 1, strlen (text), f), strlen (text));
    assert_int_equal (fclose (f), 0);
    return path;
}

static struct aios_conf *load_text (const char *text, aios_error_t *err)
{
    return conf_load (write_file ("aios.yaml", text), err);
}

/* text must fail with "PATH:" want; errno EINVAL. */
static void expect_error (const char *text, const char *want)
{
    aios_error_t err = { "" };
    char full[512];

    errno = 0;
    assert_null (load_text (text, &err));
    assert_int_equal (errno, EINVAL);
    snprintf (full, sizeof (full), "%s/aios.yaml:%s", dir, want);
    assert_string_equal (err.text, full);
}

static int group_setup (void **state)
{
    strcpy (dir, "/tmp/test_conf.XXXXXX");
    return mkdtemp (dir) ? 0 : -1;
}

static int group_teardown (void **state)
{
    DIR *d = opendir (dir);
    struct dirent *e;
    char path[512];

    if (d) {
        while ((e = readdir (d))) {
            if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
                snprintf (path, sizeof (path), "%s/%s", dir, e->d_name);
                unlink (path);
            }
        }
        closedir (d);
    }
    return rmdir (dir);
}

/* --- valid files --------------------------------------------------------- */

static const char full_yaml[] =
    "cluster: alpha\n"
    "controller:\n"
    "  address: 10.0.0.254\n"
    "  port: 7000\n"
    "  socket: /tmp/a/ctl.sock\n"
    "  state_file: /tmp/a/state.db\n"
    "  log_file: /tmp/a/ctl.log\n"
    "  pid_file: /tmp/a/ctl.pid\n"
    "  user: aios\n"
    "  heartbeat_interval: 2\n"
    "  node_timeout: 10\n"
    "  kill_wait: 0\n"
    "  min_job_age: 31536000\n"
    "  operators: [alice, bob]\n"
    "auth:\n"
    "  munge_socket: /tmp/a/munge.sock\n"
    "accounting:\n"
    "  show_all_users: yes\n"
    "scheduler:\n"
    "  policy: backfill\n"
    "  plugin_dir: /tmp/a/plugins\n"
    "  interval_ms: 0\n"
    "node_daemon:\n"
    "  port: 7001\n"
    "  spool_dir: /tmp/a/%n/spool\n"
    "  log_file: /tmp/a/%n.log\n"
    "  pid_file: /tmp/a/%n.pid\n"
    "staging:\n"
    "  shared_root: /tmp/a/shared\n"
    "  scratch: /tmp/a/scratch/%n\n"
    "  cache_bytes: 512M\n"
    "nodes:\n"
    "  - name: node[1-3]\n"
    "    address: 10.0.0.[1-3]\n"
    "    cpus: 8\n"
    "    memory: 16G\n"
    "  - name: gpu1\n"
    "    cpus: 100000\n"
    "partitions:\n"
    "  - name: debug\n"
    "    nodes: node[1-2]\n"
    "    max_time: 1-00:00:00\n"
    "  - name: long\n"
    "    nodes: node[1-3],gpu1\n"
    "    default: yes\n"
    "    max_time: UNLIMITED\n";

static void test_full (void **state)
{
    aios_error_t err = { "" };
    struct aios_conf *c = load_text (full_yaml, &err);
    const struct conf_partition *p;
    char path[128];

    assert_non_null (c);
    snprintf (path, sizeof (path), "%s/aios.yaml", dir);
    assert_string_equal (c->path, path);
    assert_string_equal (c->cluster, "alpha");
    assert_string_equal (c->ctl_address, "10.0.0.254");
    assert_int_equal (c->ctl_port, 7000);
    assert_string_equal (c->ctl_socket, "/tmp/a/ctl.sock");
    assert_string_equal (c->state_file, "/tmp/a/state.db");
    assert_string_equal (c->ctl_log_file, "/tmp/a/ctl.log");
    assert_string_equal (c->ctl_pid_file, "/tmp/a/ctl.pid");
    assert_string_equal (c->daemon_user, "aios");
    assert_int_equal (c->heartbeat_interval, 2);
    assert_int_equal (c->node_timeout, 10);
    assert_int_equal (c->kill_wait, 0);
    assert_int_equal (c->min_job_age, 31536000);
    assert_int_equal (c->noperators, 2);
    assert_string_equal (c->operators[0], "alice");
    assert_string_equal (c->operators[1], "bob");
    assert_null (c->operators[2]);
    assert_string_equal (c->munge_socket, "/tmp/a/munge.sock");
    assert_true (c->acct_show_all_users);
    assert_string_equal (c->policy, "backfill");
    assert_string_equal (c->plugin_dir, "/tmp/a/plugins");
    assert_int_equal (c->sched_interval_ms, 0);
    assert_int_equal (c->node_port, 7001);
    assert_string_equal (c->spool_dir, "/tmp/a/%n/spool");
    assert_string_equal (c->node_log_file, "/tmp/a/%n.log");
    assert_string_equal (c->node_pid_file, "/tmp/a/%n.pid");
    assert_string_equal (c->shared_root, "/tmp/a/shared");
    assert_string_equal (c->scratch_dir, "/tmp/a/scratch/%n");
    assert_int_equal (c->cache_bytes, 512ULL << 20);

    assert_int_equal (c->nnodes, 4);
    assert_string_equal (c->nodes[0].name, "node1");
    assert_string_equal (c->nodes[0].address, "10.0.0.1");
    assert_string_equal (c->nodes[2].name, "node3");
    assert_string_equal (c->nodes[2].address, "10.0.0.3");
    assert_int_equal (c->nodes[2].cpus, 8);
    assert_int_equal (c->nodes[2].memory_mb, 16384);
    assert_string_equal (c->nodes[3].name, "gpu1");
    assert_string_equal (c->nodes[3].address, "gpu1");
    assert_int_equal (c->nodes[3].cpus, 100000);
    assert_int_equal (c->nodes[3].memory_mb, 0);

    assert_int_equal (c->nparts, 2);
    p = &c->parts[0];
    assert_string_equal (p->name, "debug");
    assert_string_equal (p->nodes_expr, "node[1-2]");
    assert_int_equal (p->nnodes, 2);
    assert_string_equal (p->nodes[1], "node2");
    assert_null (p->nodes[2]);
    assert_false (p->is_default);
    assert_int_equal (p->max_time, 86400);
    p = &c->parts[1];
    assert_string_equal (p->name, "long");
    assert_string_equal (p->nodes_expr, "node[1-3],gpu1");
    assert_int_equal (p->nnodes, 4);
    assert_string_equal (p->nodes[3], "gpu1");
    assert_true (p->is_default);
    assert_int_equal (p->max_time, AIOS_TIME_UNLIMITED);

    assert_ptr_equal (conf_partition_lookup (c, NULL), &c->parts[1]);
    assert_ptr_equal (conf_partition_lookup (c, "debug"), &c->parts[0]);
    assert_null (conf_partition_lookup (c, "nope"));
    assert_ptr_equal (conf_node_lookup (c, "gpu1"), &c->nodes[3]);
    assert_null (conf_node_lookup (c, "node4"));
    assert_null (conf_node_lookup (c, NULL));
    assert_true (conf_is_operator (c, "bob"));
    assert_false (conf_is_operator (c, "carol"));
    assert_false (conf_is_operator (c, NULL));
    conf_destroy (c);
}

static void test_defaults (void **state)
{
    aios_error_t err = { "" };
    struct aios_conf *c = load_text ("nodes:\n  - name: n[1-2]\n", &err);

    assert_non_null (c);
    assert_string_equal (c->cluster, "aios");
    assert_string_equal (c->ctl_address, "127.0.0.1");
    assert_int_equal (c->ctl_port, 6817);
    assert_string_equal (c->ctl_socket, AIOS_RUNDIR "/aiosctld.sock");
    assert_string_equal (c->state_file, AIOS_STATEDIR "/state.db");
    assert_string_equal (c->ctl_log_file, AIOS_LOGDIR "/aiosctld.log");
    assert_string_equal (c->ctl_pid_file, AIOS_RUNDIR "/aiosctld.pid");
    assert_string_equal (c->daemon_user, "root");
    assert_int_equal (c->heartbeat_interval, 5);
    assert_int_equal (c->node_timeout, 30);
    assert_int_equal (c->kill_wait, 30);
    assert_int_equal (c->min_job_age, 300);
    assert_non_null (c->operators);
    assert_null (c->operators[0]);
    assert_int_equal (c->noperators, 0);
    assert_string_equal (c->munge_socket, "/run/munge/munge.socket.2");
    assert_false (c->acct_show_all_users);
    assert_string_equal (c->policy, "fifo");
    assert_string_equal (c->plugin_dir, AIOS_PLUGINDIR);
    assert_int_equal (c->sched_interval_ms, 10);
    assert_int_equal (c->node_port, 6818);
    assert_string_equal (c->spool_dir, AIOS_SPOOLDIR "/%n");
    assert_string_equal (c->node_log_file, AIOS_LOGDIR "/aiosd.%n.log");
    assert_string_equal (c->node_pid_file, AIOS_RUNDIR "/aiosd.%n.pid");
    assert_string_equal (c->shared_root, "");
    assert_string_equal (c->scratch_dir, AIOS_SPOOLDIR "/%n/scratch");
    assert_int_equal (c->cache_bytes, 10ULL << 30);
    assert_int_equal (c->nnodes, 2);
    assert_string_equal (c->nodes[1].name, "n2");
    assert_string_equal (c->nodes[1].address, "n2");
    assert_int_equal (c->nodes[1].cpus, 0);
    assert_int_equal (c->nodes[1].memory_mb, 0);

    /* no partitions key: one "batch" partition of every node */
    assert_int_equal (c->nparts, 1);
    assert_string_equal (c->parts[0].name, "batch");
    assert_string_equal (c->parts[0].nodes_expr, "n[1-2]");
    assert_int_equal (c->parts[0].nnodes, 2);
    assert_string_equal (c->parts[0].nodes[0], "n1");
    assert_string_equal (c->parts[0].nodes[1], "n2");
    assert_null (c->parts[0].nodes[2]);
    assert_true (c->parts[0].is_default);
    assert_int_equal (c->parts[0].max_time, AIOS_TIME_UNLIMITED);
    assert_ptr_equal (conf_partition_lookup (c, NULL), &c->parts[0]);
    conf_destroy (c);
}

static void test_first_partition_is_default (void **state)
{
    aios_error_t err = { "" };
    struct aios_conf *c = load_text ("nodes:\n"
                                     "  - {name: a}\n"
                                     "  - {name: b}\n"
                                     "partitions:\n"
                                     "  - {name: one, nodes: b}\n"
                                     "  - {name: two, nodes: 'a,b', "
                                     "default: False}\n",
                                     &err);

    assert_non_null (c);
    assert_int_equal (c->nparts, 2);
    assert_true (c->parts[0].is_default);
    assert_false (c->parts[1].is_default);
    assert_string_equal (conf_partition_lookup (c, NULL)->name, "one");
    conf_destroy (c);
}

/* Empty sections and lists are allowed; comments and "---" are fine. */
static void test_empty_sections (void **state)
{
    aios_error_t err = { "" };
    struct aios_conf *c = load_text ("# comment\n"
                                     "---\n"
                                     "controller:\n"
                                     "  # everything commented out\n"
                                     "auth: {}\n"
                                     "scheduler: ~\n"
                                     "nodes: [{name: x}]\n"
                                     "...\n",
                                     &err);

    assert_non_null (c);
    assert_int_equal (c->ctl_port, 6817);
    assert_string_equal (c->policy, "fifo");
    conf_destroy (c);
}

/* The sample loads, and so does it with every "#key: value" uncommented. */
static void test_sample (void **state)
{
    aios_error_t err = { "" };
    char path[512], line[512];
    struct aios_conf *c;
    FILE *in, *out;
    int uncommented = 0;

    snprintf (path, sizeof (path), "%s/etc/aios.yaml", SRCDIR);
    c = conf_load (path, &err);
    if (!c)
        fail_msg ("%s", err.text);
    assert_string_equal (c->cluster, "aios");
    assert_int_equal (c->nnodes, 4);
    assert_int_equal (c->nparts, 1);
    assert_string_equal (c->parts[0].name, "batch");
    assert_int_equal (c->parts[0].nnodes, 4);
    conf_destroy (c);

    assert_non_null (in = fopen (path, "r"));
    snprintf (path, sizeof (path), "%s/sample.yaml", dir);
    assert_non_null (out = fopen (path, "w"));
    while (fgets (line, sizeof (line), in)) {
        char *p = line + strspn (line, " ");
        if (p[0] == '#' && p[1] >= 'a' && p[1] <= 'z') {
            memmove (p, p + 1, strlen (p));
            uncommented++;
        }
        fputs (line, out);
    }
    fclose (in);
    assert_int_equal (fclose (out), 0);
    assert_true (uncommented > 0);
    c = conf_load (path, &err);
    if (!c)
        fail_msg ("%s", err.text);
    assert_int_equal (c->nnodes, 4);
    conf_destroy (c);
}

/* --- errors -------------------------------------------------------------- */

struct error_case {
    const char *name;
    const char *yaml;
    const char *want; /* after "PATH:" */
};

#define NODE1 "nodes:\n  - name: n1\n"

static const struct error_case error_cases[] = {
    { "unknown top-level key", "cluster: x\nfoo: 1\n" NODE1,
      "2:1: unknown key \"foo\" at the top level (expected one of: cluster, "
      "controller, auth, accounting, scheduler, node_daemon, staging, nodes, "
      "partitions)" },
    { "unknown key in staging", "staging:\n  cache: 1G\n" NODE1,
      "2:3: unknown key \"cache\" in staging (expected one of: shared_root, "
      "scratch, cache_bytes)" },
    { "bad cache_bytes suffix", "staging:\n  cache_bytes: 10X\n" NODE1,
      "2:16: staging.cache_bytes: invalid size \"10X\": expected a number "
      "with an optional K, M, G or T suffix" },
    { "negative cache_bytes", "staging:\n  cache_bytes: -1\n" NODE1,
      "2:16: staging.cache_bytes: invalid size \"-1\": expected a number "
      "with an optional K, M, G or T suffix" },
    { "empty shared_root", "staging:\n  shared_root: ''\n" NODE1,
      "2:3: staging.shared_root: expected a string, got an empty value" },
    { "unknown key in a section",
      "controller:\n  port: 1\n  heartbeat: 5\n" NODE1,
      "3:3: unknown key \"heartbeat\" in controller (expected one of: "
      "address, port, socket, state_file, log_file, pid_file, user, "
      "heartbeat_interval, node_timeout, kill_wait, min_job_age, event_backlog_kb, metrics_address, metrics_port, operators)" },
    { "unknown key in a node", "nodes:\n  - name: n1\n    gres: gpu:2\n",
      "3:5: unknown key \"gres\" in nodes[0] (expected one of: name, "
      "address, cpus, memory, gpus, features)" },
    { "bad backfill", "nodes:\n  - name: n1\nscheduler:\n  backfill: cons\n",
      "4:13: scheduler.backfill: \"cons\" is not one of none, easy" },
    { "duplicate qos", "nodes:\n  - name: n1\nscheduler:\n  qos:\n"
      "    - name: high\n    - name: high\n",
      "6:13: scheduler.qos[1].name: duplicate QOS \"high\"" },
    { "too many gpus", "nodes:\n  - name: n1\n    gpus: 65\n",
      "3:11: nodes[0].gpus: 65 is out of range (expected -1..64)" },
    { "non-scalar key", "? [a]\n: 1\n",
      "1:3: expected a key name at the top level, got a sequence" },
    { "string for an int", "controller:\n  port: http\n",
      "2:9: controller.port: \"http\" is not an integer (expected 1..65535)" },
    { "trailing junk in an int", "node_daemon:\n  port: 80x\n",
      "2:9: node_daemon.port: \"80x\" is not an integer (expected 1..65535)" },
    { "mapping for a string", "cluster:\n  name: x\n",
      "1:1: cluster: expected a string, got a mapping" },
    { "sequence for an int", "controller:\n  port: [1]\n",
      "2:3: controller.port: expected an integer, got a sequence" },
    { "empty value for a string", "cluster:\n" NODE1,
      "1:1: cluster: expected a string, got an empty value" },
    { "empty quoted string", "cluster: \"\"\n" NODE1,
      "1:1: cluster: expected a string, got an empty value" },
    { "scalar for a section", "scheduler: fifo\n",
      "1:1: scheduler: expected a mapping, got \"fifo\"" },
    { "out of range, high", "controller:\n  port: 70000\n",
      "2:9: controller.port: 70000 is out of range (expected 1..65535)" },
    { "out of range, low", "controller:\n  node_timeout: 1\n",
      "2:17: controller.node_timeout: 1 is out of range (expected 2..86400)" },
    { "out of range, overflow",
      "scheduler:\n  interval_ms: 99999999999999999999999\n",
      "2:16: scheduler.interval_ms: 99999999999999999999999 is out of range "
      "(expected 0..60000)" },
    { "negative cpus", "nodes:\n  - name: n1\n    cpus: -1\n",
      "3:11: nodes[0].cpus: -1 is out of range (expected 0..100000)" },
    { "bad bool",
      NODE1 "partitions:\n  - name: p\n    nodes: n1\n    default: maybe\n",
      "6:14: partitions[0].default: \"maybe\" is not a boolean (expected "
      "true, false, yes or no)" },
    { "bad bool in accounting", "accounting:\n  show_all_users: sometimes\n",
      "2:19: accounting.show_all_users: \"sometimes\" is not a boolean "
      "(expected true, false, yes or no)" },
    { "address count mismatch",
      "nodes:\n  - name: node[1-4]\n    address: 10.0.0.[1-3]\n",
      "3:14: nodes[0].address: 10.0.0.[1-3] expands to 3 addresses but name "
      "node[1-4] to 4 nodes" },
    { "undeclared partition node",
      "nodes:\n  - name: node[1-8]\npartitions:\n"
      "  - name: batch\n    nodes: node[1-9]\n",
      "5:12: partitions[0].nodes: node9 is not declared in nodes" },
    { "node listed twice in a partition",
      "nodes:\n  - name: node[1-8]\npartitions:\n"
      "  - name: batch\n    nodes: node[1-3],node2\n",
      "5:12: partitions[0].nodes: node2 is listed twice" },
    { "two defaults",
      NODE1 "partitions:\n"
      "  - {name: a, nodes: n1, default: true}\n"
      "  - {name: b, nodes: n1}\n"
      "  - {name: c, nodes: n1, default: yes}\n",
      "6:35: partitions[2].default: only one partition may be the default, "
      "and \"a\" already is" },
    { "duplicate node",
      "nodes:\n  - name: node[1-3]\n  - name: x\n  - name: node2\n",
      "4:11: nodes[2].name: node2 is declared twice (first at 2:11)" },
    { "duplicate partition",
      NODE1 "partitions:\n"
      "  - name: a\n    nodes: n1\n"
      "  - name: a\n    nodes: n1\n",
      "6:11: partitions[1].name: \"a\" is declared twice (first at 4:11)" },
    { "duplicate key in a section",
      "controller:\n  port: 1\n  port: 2\n" NODE1,
      "3:3: duplicate key \"port\" in controller (first at 2:3)" },
    { "duplicate top-level key", NODE1 "nodes: []\n",
      "3:1: duplicate key \"nodes\" at the top level (first at 1:1)" },
    { "duplicate key in a partition",
      NODE1 "partitions:\n  - {name: a, nodes: n1, name: b}\n",
      "4:26: duplicate key \"name\" in partitions[0] (first at 4:6)" },
    { "node_timeout equal to heartbeat_interval",
      "controller:\n  heartbeat_interval: 10\n  node_timeout: 10\n" NODE1,
      "3:17: controller.node_timeout: 10 must be greater than "
      "controller.heartbeat_interval (10)" },
    { "default node_timeout below heartbeat_interval",
      "controller:\n  heartbeat_interval: 60\n" NODE1,
      "2:23: controller.node_timeout: 30 must be greater than "
      "controller.heartbeat_interval (60)" },
    { "yaml syntax error", "controller:\n  port: 1\n bad\n",
      "3:2: did not find expected key (while parsing a block mapping at 1:1)" },
    { "yaml syntax error in a flow", "nodes: [{name: a}\n",
      "2:1: did not find expected ',' or ']' (while parsing a flow sequence "
      "at 1:8)" },
    { "undefined alias", "cluster: *x\n",
      "1:10: found undefined alias" },
    { "empty file", "", "1:1: nodes: at least one node is required" },
    { "only comments", "# nothing\n\n",
      "1:1: nodes: at least one node is required" },
    { "no nodes key", "\ncluster: x\n",
      "2:1: nodes: at least one node is required" },
    { "empty node list", "cluster: x\nnodes: []\n",
      "2:1: nodes: at least one node is required" },
    { "nodes not a sequence", "cluster: x\n\nnodes: node1\n",
      "3:1: nodes: expected a sequence, got \"node1\"" },
    { "node entry not a mapping", "nodes:\n  - node1\n",
      "2:5: nodes[0]: expected a mapping, got \"node1\"" },
    { "node without a name", "nodes:\n  - cpus: 4\n",
      "2:5: nodes[0]: missing required key \"name\"" },
    { "partition without nodes", NODE1 "partitions:\n  - name: a\n",
      "4:5: partitions[0]: missing required key \"nodes\"" },
    { "empty partition list", NODE1 "partitions: []\n",
      "3:1: partitions: at least one partition is required (leave the key "
      "out for one \"batch\" partition of every node)" },
    { "operator not a string",
      "controller:\n  operators:\n    - alice\n    - {name: bob}\n",
      "4:7: controller.operators[1]: expected a string, got a mapping" },
    { "operators not a sequence", "controller:\n  operators: alice\n",
      "2:3: controller.operators: expected a sequence of strings, got "
      "\"alice\"" },
    { "top level not a mapping", "- a\n- b\n",
      "1:1: expected a mapping at the top level, got a sequence" },
    { "two documents", NODE1 "---\n" NODE1,
      "4:1: only one YAML document is allowed" },
};

static void test_error_case (void **state)
{
    const struct error_case *c = *state;

    expect_error (c->yaml, c->want);
}

/* The parse.h/hostlist.h text, prefixed with the position and key. */
static void test_bad_size (void **state)
{
    aios_error_t e;
    uint64_t mb;
    char want[512];

    assert_int_equal (parse_size_mb ("4X", &mb, &e), -1);
    snprintf (want, sizeof (want), "3:13: nodes[0].memory: %s", e.text);
    expect_error ("nodes:\n  - name: n1\n    memory: 4X\n", want);
}

static void test_bad_time (void **state)
{
    aios_error_t e;
    long t;
    char want[512];

    assert_int_equal (parse_time ("0", &t, &e), -1);
    snprintf (want, sizeof (want), "6:15: partitions[0].max_time: %s",
              e.text);
    expect_error (NODE1 "partitions:\n  - name: p\n    nodes: n1\n"
                        "    max_time: 0\n",
                  want);
}

static void test_bad_hostlist (void **state)
{
    aios_error_t e;
    char want[512];

    assert_null (hostlist_expand ("node[1-", NULL, &e));
    snprintf (want, sizeof (want), "2:11: nodes[0].name: %s", e.text);
    expect_error ("nodes:\n  - name: node[1-\n", want);
}

/* staging.cache_bytes: plain bytes, or K, M, G, T (powers of 1024) with
 * an optional B or iB, in any case. */
static void test_cache_bytes (void **state)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } cases[] = {
        { "0", 0 },
        { "1048577", 1048577 },
        { "4K", 4096 },
        { "512kb", 512 << 10 },
        { "3M", 3 << 20 },
        { "10G", 10ULL << 30 },
        { "2GiB", 2ULL << 30 },
        { "1t", 1ULL << 40 },
        { "16777215T", 16777215ULL << 40 },
    };
    aios_error_t err = { "" };
    char yaml[128];
    size_t i;

    for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        struct aios_conf *c;
        snprintf (yaml, sizeof (yaml), "staging:\n  cache_bytes: %s\n" NODE1,
                  cases[i].text);
        if (!(c = load_text (yaml, &err)))
            fail_msg ("%s: %s", cases[i].text, err.text);
        assert_int_equal (c->cache_bytes, cases[i].bytes);
        conf_destroy (c);
    }
    /* one more than 64 bits hold */
    errno = 0;
    assert_null (load_text ("staging:\n  cache_bytes: 16777216T\n" NODE1, &err));
    assert_int_equal (errno, ERANGE);
    {
        char want[512];
        snprintf (want, sizeof (want), "%s/aios.yaml:2:16: staging.cache_bytes: "
                  "invalid size \"16777216T\": too large", dir);
        assert_string_equal (err.text, want);
    }
}

static void test_cannot_open (void **state)
{
    aios_error_t err;
    char path[128], want[256];

    snprintf (path, sizeof (path), "%s/missing.yaml", dir);
    errno = 0;
    assert_null (conf_load (path, &err));
    assert_int_equal (errno, ENOENT);
    snprintf (want, sizeof (want), "%s: cannot open: %s", path,
              strerror (ENOENT));
    assert_string_equal (err.text, want);

    errno = 0;
    assert_null (conf_load (dir, &err));
    assert_int_equal (errno, EISDIR);
    snprintf (want, sizeof (want), "%s: cannot read: %s", dir,
              strerror (EISDIR));
    assert_string_equal (err.text, want);
}

static void test_invalid_args (void **state)
{
    aios_error_t err;

    errno = 0;
    assert_null (conf_load (NULL, &err));
    assert_int_equal (errno, EINVAL);
    /* a NULL err is allowed */
    assert_null (conf_load (write_file ("aios.yaml", ""), NULL));
    assert_int_equal (errno, EINVAL);

    errno = 42;
    conf_destroy (NULL);
    assert_int_equal (errno, 42);
    assert_null (conf_node_lookup (NULL, "x"));
    assert_null (conf_partition_lookup (NULL, NULL));
    assert_false (conf_is_operator (NULL, "root"));
}

static void test_destroy_keeps_errno (void **state)
{
    struct aios_conf *c = load_text (NODE1, NULL);

    assert_non_null (c);
    errno = 17;
    conf_destroy (c);
    assert_int_equal (errno, 17);
}

static void test_expand_node (void **state)
{
    char *s;

    assert_non_null (s = conf_expand_node ("/var/%n/%%n/%n.log%", "node7"));
    assert_string_equal (s, "/var/node7/%n/node7.log%");
    free (s);
    assert_non_null (s = conf_expand_node ("plain", "n"));
    assert_string_equal (s, "plain");
    free (s);
    assert_non_null (s = conf_expand_node ("%x%n", ""));
    assert_string_equal (s, "%x");
    free (s);
    errno = 0;
    assert_null (conf_expand_node (NULL, "n"));
    assert_int_equal (errno, EINVAL);
    assert_null (conf_expand_node ("%n", NULL));
}

static void test_default_path (void **state)
{
    assert_int_equal (setenv ("AIOS_CONF", "/x/y.yaml", 1), 0);
    assert_string_equal (conf_default_path (), "/x/y.yaml");
    assert_int_equal (setenv ("AIOS_CONF", "", 1), 0);
    assert_string_equal (conf_default_path (), AIOS_SYSCONFDIR "/aios.yaml");
    assert_int_equal (unsetenv ("AIOS_CONF"), 0);
    assert_string_equal (conf_default_path (), AIOS_SYSCONFDIR "/aios.yaml");
}

int main (void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test (test_full),
        cmocka_unit_test (test_defaults),
        cmocka_unit_test (test_first_partition_is_default),
        cmocka_unit_test (test_empty_sections),
        cmocka_unit_test (test_sample),
        cmocka_unit_test (test_bad_size),
        cmocka_unit_test (test_bad_time),
        cmocka_unit_test (test_bad_hostlist),
        cmocka_unit_test (test_cache_bytes),
        cmocka_unit_test (test_cannot_open),
        cmocka_unit_test (test_invalid_args),
        cmocka_unit_test (test_destroy_keeps_errno),
        cmocka_unit_test (test_expand_node),
        cmocka_unit_test (test_default_path),
    };
    enum {
        NFIXED = sizeof (fixed) / sizeof (fixed[0]),
        NCASES = sizeof (error_cases) / sizeof (error_cases[0]),
    };
    struct CMUnitTest tests[NFIXED + NCASES];
    size_t i;

    memcpy (tests, fixed, sizeof (fixed));
    for (i = 0; i < NCASES; i++) {
        tests[NFIXED + i] = (struct CMUnitTest){
            .name = error_cases[i].name,
            .test_func = test_error_case,
            .initial_state = (void *)&error_cases[i],
        };
    }
    return _cmocka_run_group_tests ("test_conf", tests, NFIXED + NCASES,
                                    group_setup, group_teardown);
}
