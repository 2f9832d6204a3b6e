/* test_frame.c - the wire frame codec on good, truncated, oversized, garbage
 * and mistyped input */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <event2/buffer.h>

#include "frame.h"
#include "proto.h"

/* Build a raw frame: header says len, body is body[0..blen). */
static size_t raw_frame (char *buf, uint32_t len, const char *body, size_t blen)
{
    buf[0] = (char)(len >> 24);
    buf[1] = (char)(len >> 16);
    buf[2] = (char)(len >> 8);
    buf[3] = (char)len;
    memcpy (buf + 4, body, blen);
    return 4 + blen;
}

static void test_roundtrip (void **state)
{
    json_t *o = json_pack ("{s:s s:i}", "op", "ping", "seq", 7), *back = NULL;
    size_t len, used;
    char *buf = frame_encode (o, 1024, &len, NULL);

    assert_non_null (buf);
    assert_int_equal (len, 4 + strlen ("{\"op\":\"ping\",\"seq\":7}"));
    assert_int_equal (frame_decode (buf, len, 1024, &back, &used, NULL), 1);
    assert_int_equal (used, len);
    assert_true (json_equal (o, back));
    json_decref (back);
    free (buf);
    json_decref (o);
}

static void test_encode_rejects (void **state)
{
    json_t *arr = json_array (), *o = json_pack ("{s:s}", "k", "0123456789");
    aios_error_t err;
    size_t len;

    assert_null (frame_encode (arr, 1024, &len, &err));
    assert_int_equal (errno, EINVAL);
    assert_null (frame_encode (NULL, 1024, &len, &err));
    assert_null (frame_encode (o, 8, &len, &err));
    assert_int_equal (errno, E2BIG);
    assert_string_equal (err.text, "frame: 18 bytes exceeds the limit of 8");
    json_decref (arr);
    json_decref (o);
}

static void test_incomplete (void **state)
{
    char buf[64];
    json_t *o = NULL;
    size_t used = 0, n = raw_frame (buf, 9, "{\"a\":1}  ", 9);

    assert_int_equal (frame_decode (buf, 0, 1024, &o, &used, NULL), 0);
    assert_int_equal (frame_decode (buf, 3, 1024, &o, &used, NULL), 0);
    assert_int_equal (frame_decode (buf, n - 1, 1024, &o, &used, NULL), 0);
    assert_null (o);
    /* trailing whitespace inside the frame is JSON-legal */
    assert_int_equal (frame_decode (buf, n, 1024, &o, &used, NULL), 1);
    json_decref (o);
}

static void test_oversize_before_alloc (void **state)
{
    char buf[8];
    json_t *o = NULL;
    size_t used;
    aios_error_t err;

    raw_frame (buf, 0xffffffffu, "", 0);
    /* only the header is present: the bound is checked before anything */
    assert_int_equal (frame_decode (buf, 4, 1024, &o, &used, &err), -1);
    assert_int_equal (errno, EMSGSIZE);
    assert_string_equal (err.text,
                         "frame of 4294967295 bytes exceeds the limit of 1024");
}

static void expect_bad (const char *body, const char *text)
{
    char buf[256];
    json_t *o = NULL;
    size_t used, n = raw_frame (buf, (uint32_t)strlen (body), body, strlen (body));
    aios_error_t err;

    assert_int_equal (frame_decode (buf, n, 1024, &o, &used, &err), -1);
    assert_int_equal (errno, EPROTO);
    assert_null (o);
    assert_non_null (strstr (err.text, text));
}

static void test_garbage (void **state)
{
    expect_bad ("hello", "malformed frame");
    expect_bad ("{\"op\":", "malformed frame");
    expect_bad ("\xff\xfe\x00", "malformed frame");
}

static void test_trailing (void **state)
{
    expect_bad ("{\"a\":1}{\"b\":2}", "malformed frame");
    expect_bad ("{\"a\":1} x", "malformed frame");
}

static void test_not_object (void **state)
{
    expect_bad ("[1,2]", "expected a JSON object");
    expect_bad ("42", "malformed frame");
    expect_bad ("\"s\"", "malformed frame");
}

static void test_empty_and_dupes (void **state)
{
    char buf[8];
    json_t *o = NULL;
    size_t used;
    aios_error_t err;

    raw_frame (buf, 0, "", 0);
    assert_int_equal (frame_decode (buf, 4, 1024, &o, &used, &err), -1);
    assert_string_equal (err.text, "empty frame: expected a JSON object");
    expect_bad ("{\"a\":1,\"a\":2}", "duplicate");
}

static void test_two_frames_in_one_buffer (void **state)
{
    char buf[64];
    size_t n = raw_frame (buf, 7, "{\"a\":1}", 7), used;
    json_t *o = NULL;

    n += raw_frame (buf + n, 7, "{\"b\":2}", 7);
    assert_int_equal (frame_decode (buf, n, 1024, &o, &used, NULL), 1);
    assert_int_equal (used, 11);
    assert_non_null (json_object_get (o, "a"));
    json_decref (o);
    assert_int_equal (frame_decode (buf + used, n - used, 1024, &o, &used, NULL), 1);
    assert_non_null (json_object_get (o, "b"));
    json_decref (o);
}

static void test_fd_roundtrip_and_truncation (void **state)
{
    int sv[2];
    json_t *o = json_pack ("{s:s}", "op", "x"), *back;
    aios_error_t err;
    char partial[6];

    assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal (frame_write_fd (sv[0], o, 1024, &err), 0);
    back = frame_read_fd (sv[1], 1024, &err);
    assert_non_null (back);
    assert_true (json_equal (o, back));
    json_decref (back);
    /* a header promising 9 bytes, then 2 bytes and EOF */
    raw_frame (partial, 9, "{\"", 2);
    assert_int_equal (write (sv[0], partial, 6), 6);
    close (sv[0]);
    assert_null (frame_read_fd (sv[1], 1024, &err));
    assert_int_equal (errno, EPROTO);
    assert_string_equal (err.text, "read: truncated frame");
    /* a clean EOF */
    assert_null (frame_read_fd (sv[1], 1024, &err));
    assert_int_equal (errno, ECONNRESET);
    close (sv[1]);
    json_decref (o);
}

static void test_evbuffer (void **state)
{
    struct evbuffer *in = evbuffer_new ();
    char buf[64];
    size_t n = raw_frame (buf, 7, "{\"a\":1}", 7);
    json_t *o = NULL;
    aios_error_t err;

    assert_non_null (in);
    /* a frame arriving in pieces, then two at once */
    evbuffer_add (in, buf, 3);
    assert_int_equal (frame_evbuffer_next (in, 1024, &o, &err), 0);
    evbuffer_add (in, buf + 3, n - 4);
    assert_int_equal (frame_evbuffer_next (in, 1024, &o, &err), 0);
    evbuffer_add (in, buf + n - 1, 1);
    evbuffer_add (in, buf, n);
    assert_int_equal (frame_evbuffer_next (in, 1024, &o, &err), 1);
    assert_non_null (json_object_get (o, "a"));
    json_decref (o);
    assert_int_equal (evbuffer_get_length (in), n);
    assert_int_equal (frame_evbuffer_next (in, 1024, &o, &err), 1);
    json_decref (o);
    assert_int_equal (evbuffer_get_length (in), 0);
    /* an oversize length is refused from the header alone */
    raw_frame (buf, 5000, "", 0);
    evbuffer_add (in, buf, 4);
    assert_int_equal (frame_evbuffer_next (in, 1024, &o, &err), -1);
    assert_int_equal (errno, EMSGSIZE);
    assert_string_equal (err.text, "frame of 5000 bytes exceeds the limit of 1024");
    evbuffer_drain (in, evbuffer_get_length (in));
    /* garbage inside a complete frame */
    n = raw_frame (buf, 5, "hello", 5);
    evbuffer_add (in, buf, n);
    assert_int_equal (frame_evbuffer_next (in, 1024, &o, &err), -1);
    assert_int_equal (errno, EPROTO);
    evbuffer_free (in);
}

static void test_proto_helpers (void **state)
{
    json_t *e = proto_error (5, ENOENT, "job %d: no such job", 9);
    json_t *ok = json_pack ("{s:i}", "seq", 5);
    aios_error_t err;
    const char *s;
    int n;

    assert_int_equal (proto_reply_check (ok, &err), 0);
    assert_int_equal (proto_reply_check (e, &err), -1);
    assert_int_equal (errno, ENOENT);
    assert_string_equal (err.text, "job 9: no such job");
    assert_int_equal (proto_unpack (ok, &err, "queue", "{s:s}", "op", &s), -1);
    assert_int_equal (errno, EPROTO);
    assert_non_null (strstr (err.text, "queue: "));
    assert_int_equal (proto_unpack (ok, &err, "x", "{s:i}", "seq", &n), 0);
    assert_int_equal (n, 5);
    json_decref (e);
    json_decref (ok);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_roundtrip),
        cmocka_unit_test (test_encode_rejects),
        cmocka_unit_test (test_incomplete),
        cmocka_unit_test (test_oversize_before_alloc),
        cmocka_unit_test (test_garbage),
        cmocka_unit_test (test_trailing),
        cmocka_unit_test (test_not_object),
        cmocka_unit_test (test_empty_and_dupes),
        cmocka_unit_test (test_two_frames_in_one_buffer),
        cmocka_unit_test (test_fd_roundtrip_and_truncation),
        cmocka_unit_test (test_evbuffer),
        cmocka_unit_test (test_proto_helpers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
