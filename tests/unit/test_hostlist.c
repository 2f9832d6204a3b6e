/* test_hostlist.c - host range expressions: expand and compress */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"

/* Join v[0..n) with spaces into buf. */
static void join (char *const *v, size_t n, char *buf, size_t len)
{
    size_t i, off = 0;

    buf[0] = '\0';
    for (i = 0; i < n; i++)
        off += (size_t)snprintf (buf + off, len - off, "%s%s", i ? " " : "",
                                 v[i]);
    assert_true (off < len);
}

/* Expand expr and compare with the space-separated names in want. */
static void expect_expand (const char *expr, const char *want)
{
    char buf[4096];
    aios_error_t err = { "" };
    size_t n = 12345;
    char **v = hostlist_expand (expr, &n, &err);

    if (!v)
        fail_msg ("%s: %s", expr, err.text);
    assert_null (v[n]);
    join (v, n, buf, sizeof (buf));
    assert_string_equal (buf, want);
    hostlist_free (v);
}

/* The whole error text is "invalid host list "EXPR": " + what. */
static void expect_error (const char *expr, const char *what)
{
    aios_error_t err = { "" };
    char want[sizeof (err.text)];
    size_t n = 99;

    snprintf (want, sizeof (want), "invalid host list \"%s\": %s", expr, what);
    errno = 0;
    assert_null (hostlist_expand (expr, &n, &err));
    assert_int_equal (errno, EINVAL);
    assert_string_equal (err.text, want);
    assert_int_equal (n, 99); /* untouched on error */
}

static void test_expand_header_examples (void **state)
{
    expect_expand ("node[1-4,7]", "node1 node2 node3 node4 node7");
    expect_expand ("gpu[01-03],login", "gpu01 gpu02 gpu03 login");
    expect_expand ("127.0.1.[1-2]", "127.0.1.1 127.0.1.2");
    expect_expand ("rack[1-2]-n[1-2]", "rack1-n1 rack1-n2 rack2-n1 rack2-n2");
}

static void test_expand_plain (void **state)
{
    expect_expand ("node1", "node1");
    expect_expand ("a,b,c", "a b c");
    expect_expand ("a-b.c_d", "a-b.c_d");
    expect_expand ("x", "x");
    expect_expand ("n[7]", "n7");
    expect_expand ("[1-2]x", "1x 2x");
    expect_expand ("[3]", "3");
    expect_expand ("n1,n1", "n1 n1"); /* duplicates are kept */
}

static void test_expand_padding (void **state)
{
    expect_expand ("gpu[01-10]",
                   "gpu01 gpu02 gpu03 gpu04 gpu05 gpu06 gpu07 gpu08 gpu09 gpu10");
    expect_expand ("n[8-11]", "n8 n9 n10 n11");
    expect_expand ("n[001-003]", "n001 n002 n003");
    expect_expand ("n[098-101]", "n098 n099 n100 n101");
    expect_expand ("n[0-2]", "n0 n1 n2");
    expect_expand ("n[00-01]", "n00 n01");
    expect_expand ("n[1,02,003]", "n1 n02 n003"); /* each value its own width */
    expect_expand ("n[9-010]", "n9 n10");        /* the lower bound's width */
}

static void test_expand_cartesian (void **state)
{
    expect_expand ("a[1-2]b[3,5]c", "a1b3c a1b5c a2b3c a2b5c");
    expect_expand ("[1-2][1-2][1-2]", "111 112 121 122 211 212 221 222");
    expect_expand ("r[1-2]n[7],x,y[01-02]", "r1n7 r2n7 x y01 y02");
}

static void test_expand_count_optional (void **state)
{
    char **v = hostlist_expand ("n[1-3]", NULL, NULL);

    assert_non_null (v);
    assert_string_equal (v[0], "n1");
    assert_string_equal (v[2], "n3");
    assert_null (v[3]);
    hostlist_free (v);
}

static void test_expand_bracket_errors (void **state)
{
    expect_error ("node[1-", "missing ']' at position 5");
    expect_error ("node[1-2", "missing ']' at position 5");
    expect_error ("a[1]b[2", "missing ']' at position 6");
    expect_error ("[", "missing ']' at position 1");
    expect_error ("node]", "unmatched ']' at position 5");
    expect_error ("node[1]]", "unmatched ']' at position 8");
    expect_error ("n[[1]]", "nested '[' at position 3");
    expect_error ("n[1[2]]", "nested '[' at position 4");
}

static void test_expand_range_errors (void **state)
{
    expect_error ("n[]", "empty range at position 3");
    expect_error ("n[1,]", "empty range at position 5");
    expect_error ("n[,1]", "empty range at position 3");
    expect_error ("n[1,,2]", "empty range at position 5");
    expect_error ("n[1-]", "incomplete range at position 5");
    expect_error ("node[5-3]", "descending range at position 6");
    expect_error ("n[1,10-9]", "descending range at position 5");
    expect_error ("node[a]", "invalid character 'a' in range at position 6");
    expect_error ("n[1-b]", "invalid character 'b' in range at position 5");
    expect_error ("n[1x]", "invalid character 'x' in range at position 4");
    expect_error ("n[-1]", "invalid character '-' in range at position 3");
    expect_error ("n[1-2-3]", "invalid character '-' in range at position 6");
    expect_error ("n[ 1]", "invalid character ' ' in range at position 3");
    expect_error ("n[1234567890123456789]", "number too long at position 3");
    expect_error ("n[1-1234567890123456789]", "number too long at position 5");
}

static void test_expand_name_errors (void **state)
{
    expect_error ("", "empty name at position 1");
    expect_error (",a", "empty name at position 1");
    expect_error ("a,", "empty name at position 3");
    expect_error ("a,,b", "empty name at position 3");
    expect_error ("a b", "invalid character ' ' at position 2");
    expect_error ("a, b", "invalid character ' ' at position 3");
    expect_error ("a\tb", "invalid character 0x09 at position 2");
}

static void test_expand_null (void **state)
{
    aios_error_t err = { "" };

    errno = 0;
    assert_null (hostlist_expand (NULL, NULL, &err));
    assert_int_equal (errno, EINVAL);
    assert_string_equal (err.text, "invalid host list: none given");
    errno = 0;
    assert_null (hostlist_expand (NULL, NULL, NULL));
    assert_int_equal (errno, EINVAL);
    errno = 0;
    assert_null (hostlist_expand ("n[", NULL, NULL)); /* err is optional */
    assert_int_equal (errno, EINVAL);
}

/* HOSTLIST_MAX names are allowed; one more is refused before anything is
 * built, wherever the excess comes from. */
static void test_expand_max (void **state)
{
    size_t n = 0;
    char **v = hostlist_expand ("n[1-1000000]", &n, NULL);

    assert_non_null (v);
    assert_int_equal (n, HOSTLIST_MAX);
    assert_string_equal (v[0], "n1");
    assert_string_equal (v[HOSTLIST_MAX - 1], "n1000000");
    assert_null (v[HOSTLIST_MAX]);
    hostlist_free (v);

    expect_error ("n[1-1000001]", "more than 1000000 names at position 2");
    expect_error ("n[1-1000000,7]", "more than 1000000 names at position 2");
    expect_error ("n[1-1000][0-999]x[1-2]",
                  "more than 1000000 names at position 18");
    expect_error ("n[1-1000][0-1000]", "more than 1000000 names at position 10");
    expect_error ("a,n[1-1000000]", "more than 1000000 names at position 3");
    expect_error ("n[1-1000000],x", "more than 1000000 names at position 14");
    expect_error ("n[0-999999999999999999]",
                  "more than 1000000 names at position 2");
}

static void test_free_null (void **state)
{
    errno = ENOENT;
    hostlist_free (NULL);
    assert_int_equal (errno, ENOENT);
}

/* Compress the names (a NULL-terminated list) and compare. */
static void expect_compress_v (const char *const *names, const char *want)
{
    size_t n = 0;
    char *s;

    while (names[n])
        n++;
    s = hostlist_compress ((char *const *)names, n);
    assert_non_null (s);
    assert_string_equal (s, want);
    free (s);
}

#define expect_compress(want, ...)                                         \
    expect_compress_v ((const char *const[]){ __VA_ARGS__, NULL }, want)

static void test_compress_examples (void **state)
{
    expect_compress ("node[1-3,5],login", "node1", "node2", "node3", "node5",
                     "login");
    expect_compress ("node1", "node1");
    expect_compress ("login", "login");
    expect_compress ("a,b", "a", "b");
    expect_compress ("n[1-2]-x", "n1-x", "n2-x");
    expect_compress ("x[1-2]y,x2z", "x1y", "x2y", "x2z");
    expect_compress ("[1-3]", "1", "2", "3");
    expect_compress ("rack1-n[1-2],rack2-n[1-2]", "rack1-n1", "rack1-n2",
                     "rack2-n1", "rack2-n2");
}

static void test_compress_order (void **state)
{
    /* only neighbours fold: the order of the names is kept */
    expect_compress ("n1,login,n2", "n1", "login", "n2");
    expect_compress ("n[3,2,1]", "n3", "n2", "n1");
    expect_compress ("n[5-6,1-2]", "n5", "n6", "n1", "n2");
    expect_compress ("n[1,1]", "n1", "n1");
    expect_compress ("a[1-2],b[1-2],a3", "a1", "a2", "b1", "b2", "a3");
}

static void test_compress_padding (void **state)
{
    expect_compress ("gpu[01-02,10]", "gpu01", "gpu02", "gpu10");
    expect_compress ("n[9-10]", "n9", "n10");
    expect_compress ("n[09-10]", "n09", "n10");
    expect_compress ("n[10,9]", "n10", "n9");
    expect_compress ("n[099-100]", "n099", "n100");
    expect_compress ("n1,n01", "n1", "n01");       /* different widths */
    expect_compress ("n[01,100]", "n01", "n100"); /* both print at width 2 */
    expect_compress ("n[0-1]", "n0", "n1");
    expect_compress ("n[00-01]", "n00", "n01");
    expect_compress ("n[001-002],n3", "n001", "n002", "n3");
}

static void test_compress_edges (void **state)
{
    const char *with_null[] = { "n1", NULL, "n2" };
    char *s = hostlist_compress (NULL, 0);

    assert_non_null (s);
    assert_string_equal (s, "");
    free (s);
    errno = 0;
    assert_null (hostlist_compress (NULL, 2));
    assert_int_equal (errno, EINVAL);
    errno = 0;
    assert_null (hostlist_compress ((char *const *)with_null, 3));
    assert_int_equal (errno, EINVAL);
    /* a number too long to be a range stays part of the name */
    expect_compress ("n1234567890123456789,n1234567890123456790",
                     "n1234567890123456789", "n1234567890123456790");
}

/* compress(expand(x)) gives x back for an expression in canonical form,
 * and expand(compress(names)) gives the names back in their order. */
static void test_roundtrip (void **state)
{
    const char *exprs[] = {
        "node[1-4,7]", "gpu[01-03],login", "x[1-3]y", "n[09-11]",
        "n[098-101]",  "a,b,c",            "n[3,1-2]", "n[1,1]",
        "n1,login,n2", "r[1-2]-x,r[1-2]-y",
    };
    size_t i;

    for (i = 0; i < sizeof (exprs) / sizeof (exprs[0]); i++) {
        size_t n, m;
        char **v = hostlist_expand (exprs[i], &n, NULL);
        char *s, a[1024], b[1024];
        char **w;

        assert_non_null (v);
        s = hostlist_compress (v, n);
        assert_non_null (s);
        assert_string_equal (s, exprs[i]);
        w = hostlist_expand (s, &m, NULL);
        assert_non_null (w);
        join (v, n, a, sizeof (a));
        join (w, m, b, sizeof (b));
        assert_string_equal (a, b);
        hostlist_free (v);
        hostlist_free (w);
        free (s);
    }
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_expand_header_examples),
        cmocka_unit_test (test_expand_plain),
        cmocka_unit_test (test_expand_padding),
        cmocka_unit_test (test_expand_cartesian),
        cmocka_unit_test (test_expand_count_optional),
        cmocka_unit_test (test_expand_bracket_errors),
        cmocka_unit_test (test_expand_range_errors),
        cmocka_unit_test (test_expand_name_errors),
        cmocka_unit_test (test_expand_null),
        cmocka_unit_test (test_expand_max),
        cmocka_unit_test (test_free_null),
        cmocka_unit_test (test_compress_examples),
        cmocka_unit_test (test_compress_order),
        cmocka_unit_test (test_compress_padding),
        cmocka_unit_test (test_compress_edges),
        cmocka_unit_test (test_roundtrip),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
