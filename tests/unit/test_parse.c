/* test_parse.c - time limits, memory sizes, signals, integers */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define N_ELEM(a) (sizeof (a) / sizeof ((a)[0]))

/* --- time limits ---------------------------------------------------------- */

static long t (const char *s)
{
    aios_error_t err = { "" };
    long v = -42;

    if (parse_time (s, &v, &err) < 0)
        fail_msg ("%s: %s", s, err.text);
    return v;
}

static void test_time_formats (void **state)
{
    assert_int_equal (t ("10"), 600);                            /* MM */
    assert_int_equal (t ("10:30"), 630);                         /* MM:SS */
    assert_int_equal (t ("1:02:03"), 3723);                      /* HH:MM:SS */
    assert_int_equal (t ("2-3"), 2 * 86400 + 3 * 3600);          /* D-HH */
    assert_int_equal (t ("2-3:04"), 2 * 86400 + 3 * 3600 + 240); /* D-HH:MM */
    assert_int_equal (t ("1-00:00:01"), 86401);                  /* D-HH:MM:SS */
}

static void test_time_boundaries (void **state)
{
    assert_int_equal (t ("1"), 60);
    assert_int_equal (t ("0:1"), 1);
    assert_int_equal (t ("00:01"), 1);
    assert_int_equal (t ("0:0:1"), 1);
    assert_int_equal (t ("0-0:0:1"), 1);
    assert_int_equal (t ("0-1"), 3600);
    assert_int_equal (t ("1-0"), 86400);
    assert_int_equal (t ("90"), 5400);  /* minutes may exceed 59 */
    assert_int_equal (t ("1:90"), 150); /* as may seconds, as in Slurm */
    assert_int_equal (t ("999999999"), 999999999L * 60);
    assert_int_equal (t ("999999999-0"), 999999999L * 86400);
}

static void test_time_unlimited (void **state)
{
    assert_int_equal (t ("UNLIMITED"), AIOS_TIME_UNLIMITED);
    assert_int_equal (t ("unlimited"), AIOS_TIME_UNLIMITED);
    assert_int_equal (t ("INFINITE"), AIOS_TIME_UNLIMITED);
    assert_int_equal (t ("Infinite"), AIOS_TIME_UNLIMITED);
}

static void test_time_errors (void **state)
{
    const char *bad[] = {
        "",      "abc",    "0",        "00",          "0:00",     "0:0:0",
        "0-0",   "0-0:0:0", "1:2:3:4", "-5",          "-1:00",    "1-",
        "-1",    "1--2",   "a-1",      "1-a",         "1-2:3:4:5", ":5",
        "5:",    "1::2",   "1:x",      "1:-2",        "+5",       " 5",
        "5 ",    "5m",     "1.5",      "1,5",         "UNLIMITEDX", "INF",
        "1234567890", "1-1234567890", "1:1234567890", "99999999999999999999",
    };
    aios_error_t err;
    char want[sizeof (err.text)];
    size_t i;

    for (i = 0; i < N_ELEM (bad); i++) {
        long v = 7;
        errno = 0;
        if (parse_time (bad[i], &v, &err) != -1)
            fail_msg ("\"%s\" was accepted as %ld", bad[i], v);
        assert_int_equal (errno, EINVAL);
        assert_int_equal (v, 7); /* untouched on error */
        snprintf (want, sizeof (want), "invalid time limit \"%s\": expected "
                  "MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS", bad[i]);
        assert_string_equal (err.text, want);
    }
}

static void test_time_error_text (void **state)
{
    aios_error_t err;
    long v;

    assert_int_equal (parse_time ("1:2:3:4", &v, &err), -1);
    assert_string_equal (err.text, "invalid time limit \"1:2:3:4\": expected "
                         "MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS");
    errno = 0;
    assert_int_equal (parse_time (NULL, &v, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_string_equal (err.text, "invalid time limit: none given");
    errno = 0;
    assert_int_equal (parse_time ("10", NULL, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_int_equal (parse_time ("x", &v, NULL), -1); /* err is optional */
}

static void expect_format_time (long secs, const char *want)
{
    char buf[32];

    memset (buf, 'x', sizeof (buf));
    assert_ptr_equal (format_time (secs, buf, sizeof (buf)), buf);
    assert_string_equal (buf, want);
}

static void test_format_time (void **state)
{
    char small[4] = "zzz";

    expect_format_time (0, "0:00");
    expect_format_time (1, "0:01");
    expect_format_time (59, "0:59");
    expect_format_time (60, "1:00");
    expect_format_time (65, "1:05");
    expect_format_time (3599, "59:59");
    expect_format_time (3600, "1:00:00");
    expect_format_time (3661, "1:01:01");
    expect_format_time (86399, "23:59:59");
    expect_format_time (86400, "1-00:00:00");
    expect_format_time (90061, "1-01:01:01");
    expect_format_time (100 * 86400L, "100-00:00:00");
    expect_format_time (AIOS_TIME_UNLIMITED, "UNLIMITED");
    expect_format_time (-2, "INVALID");
    /* truncated, always terminated; len 0 and NULL write nothing */
    assert_string_equal (format_time (3661, small, sizeof (small)), "1:0");
    assert_ptr_equal (format_time (3661, small, 0), small);
    assert_string_equal (small, "1:0");
    assert_null (format_time (5, NULL, 10));
}

/* What format_time() prints, parse_time() reads back. */
static void test_time_roundtrip (void **state)
{
    const long secs[] = { 1, 59, 60, 65, 3599, 3600, 3661, 86399, 86400,
                          90061, 1000000 };
    size_t i;

    for (i = 0; i < N_ELEM (secs); i++) {
        char buf[32];
        assert_int_equal (t (format_time (secs[i], buf, sizeof (buf))), secs[i]);
    }
}

/* --- memory sizes --------------------------------------------------------- */

static uint64_t mb (const char *s)
{
    aios_error_t err = { "" };
    uint64_t v = 424242;

    if (parse_size_mb (s, &v, &err) < 0)
        fail_msg ("%s: %s", s, err.text);
    return v;
}

static void test_sizes (void **state)
{
    assert_int_equal (mb ("0"), 0);
    assert_int_equal (mb ("512"), 512);
    assert_int_equal (mb ("512M"), 512);
    assert_int_equal (mb ("512m"), 512);
    assert_int_equal (mb ("4G"), 4096);
    assert_int_equal (mb ("4g"), 4096);
    assert_int_equal (mb ("2T"), 2 * 1024 * 1024);
    assert_int_equal (mb ("2t"), 2 * 1024 * 1024);
    assert_int_equal (mb ("4GiB"), 4096);
    assert_int_equal (mb ("4gib"), 4096);
    assert_int_equal (mb ("1GB"), 1024);
    assert_int_equal (mb ("1MiB"), 1);
    assert_int_equal (mb ("1mb"), 1);
    assert_int_equal (mb ("007"), 7);
}

static void test_sizes_kib_round_up (void **state)
{
    assert_int_equal (mb ("0K"), 0);
    assert_int_equal (mb ("1K"), 1);
    assert_int_equal (mb ("100K"), 1);
    assert_int_equal (mb ("1024K"), 1);
    assert_int_equal (mb ("1025k"), 2);
    assert_int_equal (mb ("2048KiB"), 2);
    assert_int_equal (mb ("18446744073709551615K"), 18014398509481984ULL);
}

static void test_sizes_limits (void **state)
{
    const char *big[] = { "18446744073709551616", "99999999999999999999",
                          "17592186044416T",      "18014398509481984G",
                          "18446744073709551615T" };
    aios_error_t err;
    char want[sizeof (err.text)];
    size_t i;

    assert_true (mb ("18446744073709551615") == UINT64_MAX);
    assert_true (mb ("17592186044415T") == 17592186044415ULL << 20);
    assert_true (mb ("18014398509481983G") == 18014398509481983ULL << 10);
    for (i = 0; i < N_ELEM (big); i++) {
        uint64_t v = 3;
        errno = 0;
        assert_int_equal (parse_size_mb (big[i], &v, &err), -1);
        assert_int_equal (errno, ERANGE);
        assert_int_equal (v, 3);
        snprintf (want, sizeof (want), "invalid memory size \"%s\": too large",
                  big[i]);
        assert_string_equal (err.text, want);
    }
}

static void test_sizes_errors (void **state)
{
    const char *bad[] = { "",    "G",    "-1",  "+1",   " 1",    "1 ",
                          "4X",  "4GG",  "1.5G", "4B",  "4iB",   "4 G",
                          "4Gi", "4GiBx", "4GBB", "0x10", "K",   "1e3" };
    aios_error_t err;
    char want[sizeof (err.text)];
    size_t i;

    for (i = 0; i < N_ELEM (bad); i++) {
        uint64_t v = 3;
        errno = 0;
        if (parse_size_mb (bad[i], &v, &err) != -1)
            fail_msg ("\"%s\" was accepted", bad[i]);
        assert_int_equal (errno, EINVAL);
        assert_int_equal (v, 3);
        snprintf (want, sizeof (want), "invalid memory size \"%s\": expected "
                  "a number with an optional K, M, G or T suffix", bad[i]);
        assert_string_equal (err.text, want);
    }
}

/* parse_size_bytes: the same forms, a plain number in bytes */
static void test_sizes_bytes (void **state)
{
    aios_error_t err;
    uint64_t v = 0;

    (void)state;
    assert_int_equal (parse_size_bytes ("1048576", &v, &err), 0);
    assert_true (v == 1048576);
    assert_int_equal (parse_size_bytes ("512KiB", &v, &err), 0);
    assert_true (v == 512 * 1024);
    assert_int_equal (parse_size_bytes ("10g", &v, &err), 0);
    assert_true (v == 10ULL << 30);
    assert_int_equal (parse_size_bytes ("16777215T", &v, &err), 0);
    assert_true (v == 16777215ULL << 40);
    assert_int_equal (parse_size_bytes ("16777216T", &v, &err), -1);
    assert_string_equal (err.text, "invalid size \"16777216T\": too large");
    assert_int_equal (parse_size_bytes ("4B", &v, &err), -1);
    assert_string_equal (err.text, "invalid size \"4B\": expected a number "
                         "with an optional K, M, G or T suffix");
}

static void test_sizes_null (void **state)
{
    aios_error_t err;
    uint64_t v;

    errno = 0;
    assert_int_equal (parse_size_mb (NULL, &v, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_string_equal (err.text, "invalid memory size \"\": expected a "
                         "number with an optional K, M, G or T suffix");
    errno = 0;
    assert_int_equal (parse_size_mb ("4G", NULL, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_int_equal (parse_size_mb ("4X", &v, NULL), -1);
}

static void expect_format_size (uint64_t v, const char *want)
{
    char buf[32];

    assert_ptr_equal (format_size_mb (v, buf, sizeof (buf)), buf);
    assert_string_equal (buf, want);
}

static void test_format_size (void **state)
{
    char small[3] = "zz";

    expect_format_size (0, "0M");
    expect_format_size (1, "1M");
    expect_format_size (512, "512M");
    expect_format_size (1023, "1023M");
    expect_format_size (1024, "1G");
    expect_format_size (1025, "1025M");  /* not exact with one decimal */
    expect_format_size (1126, "1126M");
    expect_format_size (1536, "1.5G");
    expect_format_size (4096, "4G");
    expect_format_size (1024 * 1024, "1T");
    expect_format_size (1024 * 1024 + 512 * 1024, "1.5T");
    expect_format_size (1024ULL * 1024 * 1024, "1P");
    expect_format_size (1024ULL * 1024 * 1024 * 1024, "1E");
    expect_format_size (UINT64_MAX, "18446744073709551615M");
    assert_string_equal (format_size_mb (4096, small, sizeof (small)), "4G");
    assert_string_equal (format_size_mb (512, small, sizeof (small)), "51");
    assert_ptr_equal (format_size_mb (512, small, 0), small);
    assert_null (format_size_mb (512, NULL, 8));
}

/* What format_size_mb() prints as a whole number, parse_size_mb() reads
 * back (parse takes no decimals). */
static void test_size_roundtrip (void **state)
{
    const uint64_t v[] = { 0, 1, 512, 1023, 1024, 1025, 4096, 1024 * 1024,
                           3 * 1024 * 1024 };
    size_t i;

    for (i = 0; i < N_ELEM (v); i++) {
        char buf[32];
        assert_true (mb (format_size_mb (v[i], buf, sizeof (buf))) == v[i]);
    }
}

/* --- signals -------------------------------------------------------------- */

static const struct {
    const char *name;
    int sig;
} sigtab[] = {
    { "HUP", SIGHUP },       { "INT", SIGINT },     { "QUIT", SIGQUIT },
    { "ILL", SIGILL },       { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },
    { "BUS", SIGBUS },       { "FPE", SIGFPE },     { "KILL", SIGKILL },
    { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },   { "USR2", SIGUSR2 },
    { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
    { "CHLD", SIGCHLD },     { "CONT", SIGCONT },   { "STOP", SIGSTOP },
    { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },
    { "URG", SIGURG },       { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },
    { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },   { "WINCH", SIGWINCH },
    { "IO", SIGIO },         { "SYS", SIGSYS },
};

static int sig (const char *s)
{
    aios_error_t err = { "" };
    int v = -7;

    if (parse_signal (s, &v, &err) < 0)
        fail_msg ("%s: %s", s, err.text);
    return v;
}

static void test_signal_names (void **state)
{
    size_t i;

    for (i = 0; i < N_ELEM (sigtab); i++) {
        char buf[32], lower[32];
        size_t k;
        assert_int_equal (sig (sigtab[i].name), sigtab[i].sig);
        snprintf (buf, sizeof (buf), "SIG%s", sigtab[i].name);
        assert_int_equal (sig (buf), sigtab[i].sig);
        for (k = 0; buf[k]; k++)
            lower[k] = (char)(buf[k] | 0x20);
        lower[k] = '\0';
        assert_int_equal (sig (lower), sigtab[i].sig);     /* "sigterm" */
        assert_int_equal (sig (lower + 3), sigtab[i].sig); /* "term" */
        assert_string_equal (signal_name (sigtab[i].sig), sigtab[i].name);
    }
    assert_int_equal (sig ("SigTerm"), SIGTERM);
}

static void test_signal_numbers (void **state)
{
    assert_int_equal (sig ("1"), 1);
    assert_int_equal (sig ("9"), 9);
    assert_int_equal (sig ("15"), 15);
    assert_int_equal (sig ("09"), 9);
    assert_int_equal (sig ("64"), 64);
}

static void test_signal_errors (void **state)
{
    const char *bad[] = { "FOO", "SIGFOO", "SIG",  "TERMX", "SIGSIGTERM",
                          "",    "0",      "65",   "-1",    "+9",
                          " 9",  "9 ",     "9x",   "1.0",   "99999999999999999999",
                          "TERM ", "S1GTERM" };
    aios_error_t err;
    char want[sizeof (err.text)];
    size_t i;
    int n;

    for (i = 0; i < N_ELEM (bad); i++) {
        int v = 77;
        errno = 0;
        if (parse_signal (bad[i], &v, &err) != -1)
            fail_msg ("\"%s\" was accepted as %d", bad[i], v);
        assert_int_equal (errno, EINVAL);
        assert_int_equal (v, 77);
        snprintf (want, sizeof (want), "invalid signal \"%s\"", bad[i]);
        assert_string_equal (err.text, want);
    }
    errno = 0;
    assert_int_equal (parse_signal (NULL, &n, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_string_equal (err.text, "invalid signal \"\"");
    errno = 0;
    assert_int_equal (parse_signal ("TERM", NULL, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_int_equal (parse_signal ("FOO", &n, NULL), -1);
}

static void test_signal_name_unknown (void **state)
{
    assert_string_equal (signal_name (0), "SIG0");
    assert_string_equal (signal_name (63), "SIG63");
    assert_string_equal (signal_name (-1), "SIG-1");
    assert_string_equal (signal_name (INT_MAX), "SIG2147483647");
}

/* --- integers ------------------------------------------------------------- */

static void expect_long_error (const char *s, long min, long max, int errnum,
                               const char *text)
{
    aios_error_t err;
    long v = 5;

    errno = 0;
    assert_int_equal (parse_long (s, min, max, &v, &err), -1);
    assert_int_equal (errno, errnum);
    assert_int_equal (v, 5);
    assert_string_equal (err.text, text);
}

static void test_long (void **state)
{
    long v;

    assert_int_equal (parse_long ("42", 1, 100, &v, NULL), 0);
    assert_int_equal (v, 42);
    assert_int_equal (parse_long ("1", 1, 100, &v, NULL), 0);
    assert_int_equal (v, 1);
    assert_int_equal (parse_long ("100", 1, 100, &v, NULL), 0);
    assert_int_equal (v, 100);
    assert_int_equal (parse_long ("-5", -10, 10, &v, NULL), 0);
    assert_int_equal (v, -5);
    assert_int_equal (parse_long ("007", 0, 10, &v, NULL), 0);
    assert_int_equal (v, 7);
    assert_int_equal (parse_long ("9223372036854775807", LONG_MIN, LONG_MAX,
                                  &v, NULL), 0);
    assert_true (v == LONG_MAX);
    assert_int_equal (parse_long ("-9223372036854775808", LONG_MIN, LONG_MAX,
                                  &v, NULL), 0);
    assert_true (v == LONG_MIN);
}

static void test_long_errors (void **state)
{
    expect_long_error ("0", 1, 100, ERANGE, "0 is out of range (expected 1..100)");
    expect_long_error ("101", 1, 100, ERANGE,
                       "101 is out of range (expected 1..100)");
    expect_long_error ("-1", 0, 5, ERANGE, "-1 is out of range (expected 0..5)");
    expect_long_error ("99999999999999999999", 1, 100, ERANGE,
                       "99999999999999999999 is out of range (expected 1..100)");
    expect_long_error ("4x", 1, 100, EINVAL, "invalid number \"4x\"");
    expect_long_error ("", 1, 100, EINVAL, "invalid number \"\"");
    expect_long_error (" 4", 1, 100, EINVAL, "invalid number \" 4\"");
    expect_long_error ("4 ", 1, 100, EINVAL, "invalid number \"4 \"");
    expect_long_error ("+4", 1, 100, EINVAL, "invalid number \"+4\"");
    expect_long_error ("-", 1, 100, EINVAL, "invalid number \"-\"");
    expect_long_error ("--4", 1, 100, EINVAL, "invalid number \"--4\"");
    expect_long_error ("0x10", 1, 100, EINVAL, "invalid number \"0x10\"");
    expect_long_error ("zero", 1, 100, EINVAL, "invalid number \"zero\"");
    expect_long_error (NULL, 1, 100, EINVAL, "invalid number \"\"");
}

static void test_long_null_val (void **state)
{
    errno = 0;
    assert_int_equal (parse_long ("4", 1, 100, NULL, NULL), -1);
    assert_int_equal (errno, EINVAL);
}

static void test_begin (void **state)
{
    time_t now = 1795500000, t;
    struct tm tm;
    aios_error_t err;

    (void)state;
    assert_int_equal (parse_begin ("now", now, &t, &err), 0);
    assert_true (t == now);
    assert_int_equal (parse_begin ("now+90", now, &t, &err), 0);
    assert_true (t == now + 90);
    assert_int_equal (parse_begin ("now+2h", now, &t, &err), 0);
    assert_true (t == now + 7200);
    assert_int_equal (parse_begin ("now+1days", now, &t, &err), 0);
    assert_true (t == now + 86400);
    assert_int_equal (parse_begin ("2026-12-24T18:30", now, &t, &err), 0);
    localtime_r (&t, &tm);
    assert_int_equal (tm.tm_year, 126);
    assert_int_equal (tm.tm_mon, 11);
    assert_int_equal (tm.tm_mday, 24);
    assert_int_equal (tm.tm_hour, 18);
    assert_int_equal (tm.tm_min, 30);
    assert_int_equal (tm.tm_sec, 0);
    /* a time of day already past is tomorrow's */
    assert_int_equal (parse_begin ("00:00", now, &t, &err), 0);
    assert_true (t > now && t <= now + 86400);
    assert_int_equal (parse_begin ("soon", now, &t, &err), -1);
    assert_string_equal (err.text, "invalid begin time \"soon\": expected now, "
                         "now+N[s|m|h|d], HH:MM[:SS] or YYYY-MM-DD[THH:MM[:SS]]");
    assert_int_equal (parse_begin ("now+5y", now, &t, &err), -1);
    assert_int_equal (parse_begin ("now+999999999999999d", now, &t, &err), -1);
    assert_string_equal (err.text, "invalid begin time "
                         "\"now+999999999999999d\": too far ahead");
    assert_int_equal (parse_begin ("now+99999999999999999999", now, &t, &err),
                      -1);
    assert_int_equal (parse_begin ("2026-12-24T18", now, &t, &err), -1);
}


static void check_array (const char *spec, const char *want, int want_thr)
{
    aios_error_t err;
    int *tasks, n, thr;
    char buf[256];

    assert_int_equal (parse_array (spec, &tasks, &n, &thr, &err), 0);
    format_array (tasks, n, buf, sizeof (buf));
    assert_string_equal (buf, want);
    assert_int_equal (thr, want_thr);
    free (tasks);
}

static void test_array (void **state)
{
    (void)state;
    check_array ("0-99%10", "0-99", 10);
    check_array ("1,3,5", "1,3,5", 0);
    check_array ("0-15:4", "0,4,8,12", 0);
    check_array ("7,1-3,2", "1-3,7", 0);
    check_array ("5", "5", 0);
    check_array ("0-3,8-9%2", "0-3,8-9", 2);
}

static void test_array_errors (void **state)
{
    const char *bad[] = { "", "5-1", "a", "1-", "-3", "1,,2x", "0-3%0", "0-3%x",
                          "2:3", "0-20000", "1000001", "0-9:0" };
    aios_error_t err;
    int *tasks, n, thr;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        errno = 0;
        assert_int_equal (parse_array (bad[i], &tasks, &n, &thr, &err), -1);
        assert_int_equal (errno, EINVAL);
        assert_null (tasks);
        assert_non_null (strstr (err.text, "invalid array"));
    }
    assert_int_equal (parse_array ("5-1", &tasks, &n, &thr, &err), -1);
    assert_non_null (strstr (err.text, "goes backwards"));
}

static void test_signal_spec (void **state)
{
    aios_error_t err;
    int sig, secs, batch;

    (void)state;
    assert_int_equal (parse_signal_spec ("B:USR1@90", &sig, &secs, &batch, &err), 0);
    assert_int_equal (sig, SIGUSR1);
    assert_int_equal (secs, 90);
    assert_int_equal (batch, 1);
    assert_int_equal (parse_signal_spec ("TERM", &sig, &secs, &batch, &err), 0);
    assert_int_equal (sig, SIGTERM);
    assert_int_equal (secs, 60);
    assert_int_equal (batch, 0);
    assert_int_equal (parse_signal_spec ("10@0", &sig, &secs, &batch, &err), 0);
    assert_int_equal (sig, 10);
    assert_int_equal (secs, 0);
    assert_int_equal (parse_signal_spec ("NOPE@5", &sig, &secs, &batch, &err), -1);
    assert_non_null (strstr (err.text, "unknown signal \"NOPE\""));
    assert_int_equal (parse_signal_spec ("USR1@x", &sig, &secs, &batch, &err), -1);
    assert_int_equal (parse_signal_spec ("USR1@70000", &sig, &secs, &batch, &err), -1);
    assert_int_equal (parse_signal_spec ("", &sig, &secs, &batch, &err), -1);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_time_formats),
        cmocka_unit_test (test_time_boundaries),
        cmocka_unit_test (test_time_unlimited),
        cmocka_unit_test (test_time_errors),
        cmocka_unit_test (test_time_error_text),
        cmocka_unit_test (test_format_time),
        cmocka_unit_test (test_time_roundtrip),
        cmocka_unit_test (test_sizes),
        cmocka_unit_test (test_sizes_kib_round_up),
        cmocka_unit_test (test_sizes_limits),
        cmocka_unit_test (test_sizes_errors),
        cmocka_unit_test (test_sizes_null),
        cmocka_unit_test (test_sizes_bytes),
        cmocka_unit_test (test_format_size),
        cmocka_unit_test (test_size_roundtrip),
        cmocka_unit_test (test_signal_names),
        cmocka_unit_test (test_signal_numbers),
        cmocka_unit_test (test_signal_errors),
        cmocka_unit_test (test_signal_name_unknown),
        cmocka_unit_test (test_long),
        cmocka_unit_test (test_long_errors),
        cmocka_unit_test (test_long_null_val),
        cmocka_unit_test (test_begin),
        cmocka_unit_test (test_array),
        cmocka_unit_test (test_array_errors),
        cmocka_unit_test (test_signal_spec),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
