/* test_cache.c - the node cache's index: keys and paths, LRU eviction,
 * pins, reservations, the scan of an existing cache directory, errors */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"

static bool has_key (struct cache *c, const char *key)
{
    json_t *keys = cache_keys (c), *v;
    size_t i;
    bool found = false;

    json_array_foreach (keys, i, v)
        if (!strcmp (json_string_value (v), key))
            found = true;
    json_decref (keys);
    return found;
}

/* A READY entry of bytes (reserved, then committed), pinned for owner. */
static void put (struct cache *c, const char *key, uint64_t bytes, uint64_t owner)
{
    assert_int_equal (cache_make_room (c, bytes, NULL), 0);
    assert_int_equal (cache_reserve (c, key, bytes), 0);
    assert_int_equal (cache_commit (c, key, bytes, owner), 0);
}

static void test_keys (void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal (cache_key ("mnist", 2, 0, 0, buf, sizeof (buf)), 0);
    assert_string_equal (buf, "mnist:2");
    assert_int_equal (cache_key ("mnist", 2, 1, 4, buf, sizeof (buf)), 0);
    assert_string_equal (buf, "mnist:2/1-of-4");
    errno = 0;
    assert_int_equal (cache_key ("../x", 2, 0, 0, buf, sizeof (buf)), -1);
    assert_int_equal (errno, EINVAL);
    assert_int_equal (cache_key (NULL, 2, 0, 0, buf, sizeof (buf)), -1);
    assert_int_equal (cache_key ("mnist", 0, 0, 0, buf, sizeof (buf)), -1);
    assert_int_equal (cache_key ("mnist", 1, 4, 4, buf, sizeof (buf)), -1);
    assert_int_equal (cache_key ("mnist", 1, -1, 4, buf, sizeof (buf)), -1);
    assert_int_equal (cache_key ("mnist", 1, 0, -1, buf, sizeof (buf)), -1);
    assert_int_equal (cache_key ("mnist", 1, 0, 0, buf, 5), -1);
    assert_int_equal (errno, ENAMETOOLONG);
}

static void test_paths (void **state)
{
    struct cache *c = cache_create (NULL, 100, NULL);
    char buf[128];

    (void)state;
    assert_non_null (c);
    assert_int_equal (cache_path (c, "mnist:2", buf, sizeof (buf)), 0);
    assert_string_equal (buf, "mnist/2/whole.h5");
    assert_int_equal (cache_path (c, "mnist:2/0-of-3", buf, sizeof (buf)), 0);
    assert_string_equal (buf, "mnist/2/shard-0-of-3.h5");
    assert_int_equal (cache_path (c, "mnist", buf, sizeof (buf)), -1);
    assert_int_equal (cache_path (c, "mnist:x", buf, sizeof (buf)), -1);
    assert_int_equal (cache_path (c, "mnist:2/3-of-3", buf, sizeof (buf)), -1);
    assert_int_equal (cache_path (c, "mnist:2/0-of-3x", buf, sizeof (buf)), -1);
    assert_int_equal (cache_path (c, "../etc:2", buf, sizeof (buf)), -1);
    assert_int_equal (cache_reserve (c, "bad key", 1), -1);
    assert_int_equal (errno, EINVAL);
    cache_destroy (c);
    cache_destroy (NULL);
}

static void test_lru (void **state)
{
    struct cache *c = cache_create (NULL, 100, NULL);
    struct cache_stats st;

    (void)state;
    put (c, "a:1", 30, 0);
    put (c, "b:1", 30, 0);
    put (c, "c:1", 30, 0);
    assert_int_equal (cache_use (c, "a:1", 0), 0); /* a is now the newest */
    assert_int_equal (cache_make_room (c, 30, NULL), 0);
    assert_false (has_key (c, "b:1"));
    assert_true (has_key (c, "a:1"));
    assert_true (has_key (c, "c:1"));
    cache_get_stats (c, &st);
    assert_int_equal (st.evictions, 1);
    assert_int_equal (st.used_bytes, 60);
    assert_int_equal (st.hits, 1);
    assert_int_equal (st.misses, 3);
    assert_int_equal (st.copied_bytes, 90);
    /* room that is there already evicts nothing */
    assert_int_equal (cache_make_room (c, 40, NULL), 0);
    cache_get_stats (c, &st);
    assert_int_equal (st.evictions, 1);
    /* everything unpinned may go */
    assert_int_equal (cache_make_room (c, 100, NULL), 0);
    cache_get_stats (c, &st);
    assert_int_equal (st.used_bytes, 0);
    assert_int_equal (st.entries, 0);
    cache_destroy (c);
}

static void test_pins (void **state)
{
    struct cache *c = cache_create (NULL, 100, NULL);
    aios_error_t err;

    (void)state;
    put (c, "a:1", 30, 7);
    put (c, "b:1", 40, 0);
    assert_int_equal (cache_use (c, "b:1", 8), 0);
    assert_int_equal (cache_use (c, "b:1", 9), 0);
    /* 70 pinned: 40 more cannot fit, and nothing is evicted trying */
    errno = 0;
    assert_int_equal (cache_make_room (c, 40, &err), -1);
    assert_int_equal (errno, ENOSPC);
    assert_string_equal (err.text, "no room in the node cache: needs 40 bytes, "
                         "cache_bytes is 100 bytes and 70 bytes are in use by "
                         "running jobs");
    assert_true (has_key (c, "a:1"));
    assert_true (has_key (c, "b:1"));
    cache_unpin (c, 8);
    assert_int_equal (cache_make_room (c, 40, NULL), -1); /* 9 still holds b */
    cache_unpin (c, 9);
    assert_int_equal (cache_make_room (c, 40, NULL), 0);
    assert_false (has_key (c, "b:1"));
    /* more than the whole cache */
    assert_int_equal (cache_make_room (c, 101, &err), -1);
    assert_string_equal (err.text, "no room in the node cache: needs 101 bytes, "
                         "cache_bytes is 100 bytes and 30 bytes are in use by "
                         "running jobs");
    cache_unpin (c, 7);
    cache_unpin (c, 0);
    assert_int_equal (cache_make_room (c, 100, NULL), 0);
    assert_false (has_key (c, "a:1"));
    assert_int_equal (cache_make_room (NULL, 1, &err), -1);
    cache_destroy (c);
}

static void test_pending (void **state)
{
    struct cache *c = cache_create (NULL, 100, NULL);
    struct cache_stats st;

    (void)state;
    assert_int_equal (cache_state (c, "a:1"), CACHE_ABSENT);
    assert_int_equal (cache_reserve (c, "a:1", 50), 0);
    assert_int_equal (cache_state (c, "a:1"), CACHE_PENDING);
    assert_int_equal (cache_reserve (c, "a:1", 50), -1);
    assert_int_equal (errno, EEXIST);
    /* not usable, not listed, never evicted, counted as in use */
    assert_int_equal (cache_use (c, "a:1", 1), -1);
    assert_int_equal (errno, ENOENT);
    assert_false (has_key (c, "a:1"));
    assert_int_equal (cache_make_room (c, 60, NULL), -1);
    cache_get_stats (c, &st);
    assert_int_equal (st.pinned_bytes, 50);
    /* a failed copy leaves nothing */
    cache_abort (c, "a:1");
    assert_int_equal (cache_state (c, "a:1"), CACHE_ABSENT);
    cache_get_stats (c, &st);
    assert_int_equal (st.used_bytes, 0);
    /* commit corrects the estimate; an overshoot evicts what it can */
    put (c, "old:1", 40, 0);
    assert_int_equal (cache_reserve (c, "new:1", 50), 0);
    assert_int_equal (cache_commit (c, "new:1", 70, 3), 0);
    assert_int_equal (cache_state (c, "new:1"), CACHE_READY);
    assert_false (has_key (c, "old:1"));
    cache_get_stats (c, &st);
    assert_int_equal (st.used_bytes, 70);
    assert_int_equal (cache_commit (c, "new:1", 70, 3), -1); /* not pending */
    assert_int_equal (cache_commit (c, "none:1", 1, 0), -1);
    cache_forget (c, "new:1");
    assert_int_equal (cache_state (c, "new:1"), CACHE_ABSENT);
    cache_destroy (c);
}

static void test_human (void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal (cache_human (0, buf, sizeof (buf)), "0 bytes");
    assert_string_equal (cache_human (1023, buf, sizeof (buf)), "1023 bytes");
    assert_string_equal (cache_human (1024, buf, sizeof (buf)), "1 KiB");
    assert_string_equal (cache_human (300ULL << 20, buf, sizeof (buf)), "300 MiB");
    assert_string_equal (cache_human (3ULL << 29, buf, sizeof (buf)), "1.5 GiB");
}

/* --- with files ----------------------------------------------------------- */

static char dir[64];

static void make_file (const char *rel, size_t size, time_t mtime)
{
    char path[256], *slash, cmd[300];
    struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
    int fd;

    snprintf (path, sizeof (path), "%s/%s", dir, rel);
    slash = strrchr (path, '/');
    *slash = '\0';
    snprintf (cmd, sizeof (cmd), "mkdir -p '%s'", path);
    assert_int_equal (system (cmd), 0);
    *slash = '/';
    assert_true ((fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0444)) >= 0);
    assert_int_equal (ftruncate (fd, (off_t)size), 0);
    close (fd);
    assert_int_equal (utimensat (AT_FDCWD, path, ts, 0), 0);
}

static bool exists (const char *rel)
{
    char path[256];
    struct stat st;

    snprintf (path, sizeof (path), "%s/%s", dir, rel);
    return lstat (path, &st) == 0;
}

static void test_scan (void **state)
{
    struct cache *c;
    struct cache_stats st;
    char path[256], link[256];
    aios_error_t err;

    (void)state;
    make_file ("a/1/whole.h5", 30, 1000);
    make_file ("a/1/shard-0-of-2.h5", 20, 3000);
    make_file ("b/2/whole.h5", 30, 2000);
    make_file ("b/2/whole.h5.part", 10, 2000);
    make_file ("b/2/notes.txt", 10, 2000);
    make_file ("bad name/1/whole.h5", 10, 2000);
    make_file ("c/x/whole.h5", 10, 2000);
    snprintf (path, sizeof (path), "%s/c/1", dir);
    assert_int_equal (mkdir (path, 0755), 0);
    snprintf (link, sizeof (link), "%s/c/1/whole.h5", dir);
    assert_int_equal (symlink ("/etc/passwd", link), 0);

    assert_non_null ((c = cache_create (dir, 100, &err)));
    assert_true (has_key (c, "a:1"));
    assert_true (has_key (c, "a:1/0-of-2"));
    assert_true (has_key (c, "b:2"));
    assert_false (has_key (c, "c:1")); /* a symbolic link is no copy */
    assert_false (exists ("b/2/whole.h5.part"));
    assert_true (exists ("b/2/notes.txt"));
    cache_get_stats (c, &st);
    assert_int_equal (st.entries, 3);
    assert_int_equal (st.used_bytes, 80);
    assert_int_equal (cache_path (c, "a:1", path, sizeof (path)), 0);
    snprintf (link, sizeof (link), "%s/a/1/whole.h5", dir);
    assert_string_equal (path, link);

    /* the oldest mtime goes first; its directory stays for its neighbour */
    assert_int_equal (cache_make_room (c, 40, NULL), 0);
    assert_false (has_key (c, "a:1"));
    assert_false (exists ("a/1/whole.h5"));
    assert_true (exists ("a/1/shard-0-of-2.h5"));
    /* then b:2 (2000), whose directories go with it (but notes.txt holds
     * b/2 back) */
    assert_int_equal (cache_make_room (c, 70, NULL), 0);
    assert_false (exists ("b/2/whole.h5"));
    assert_true (exists ("a/1/shard-0-of-2.h5"));
    cache_destroy (c);

    /* a smaller limit at start evicts down to it */
    assert_non_null ((c = cache_create (dir, 10, &err)));
    cache_get_stats (c, &st);
    assert_int_equal (st.entries, 0);
    assert_false (exists ("a/1"));
    assert_false (exists ("a"));
    cache_destroy (c);

    /* an aborted copy's empty directories go, unless another entry is there */
    assert_non_null ((c = cache_create (dir, 100, &err)));
    make_file ("d/1/whole.h5", 10, 1000);
    snprintf (path, sizeof (path), "%s/d/1/whole.h5", dir);
    unlink (path);
    assert_int_equal (cache_reserve (c, "d:1", 10), 0);
    assert_int_equal (cache_reserve (c, "d:1/0-of-2", 10), 0);
    cache_abort (c, "d:1");
    assert_true (exists ("d/1"));
    cache_abort (c, "d:1/0-of-2");
    assert_false (exists ("d/1"));
    assert_false (exists ("d"));
    cache_destroy (c);

    snprintf (path, sizeof (path), "%s/file", dir);
    make_file ("file", 1, 1000);
    assert_null (cache_create (path, 100, &err));
}

static int setup (void **state)
{
    (void)state;
    snprintf (dir, sizeof (dir), "/tmp/test_cache.XXXXXX");
    return mkdtemp (dir) ? 0 : -1;
}

static int teardown (void **state)
{
    char cmd[128];

    (void)state;
    snprintf (cmd, sizeof (cmd), "rm -rf '%s'", dir);
    return system (cmd) == 0 ? 0 : -1;
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_keys),
        cmocka_unit_test (test_paths),
        cmocka_unit_test (test_lru),
        cmocka_unit_test (test_pins),
        cmocka_unit_test (test_pending),
        cmocka_unit_test (test_human),
        cmocka_unit_test_setup_teardown (test_scan, setup, teardown),
    };

    return cmocka_run_group_tests (tests, NULL, NULL);
}
