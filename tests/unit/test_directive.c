/* test_directive.c - #AIOS / #SBATCH lines of batch scripts */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "directive.h"

/* Parse script; join the words with '|' and their lines with ','. */
static void expect_words (const char *script, const char *want,
                          const char *lines)
{
    struct directive_word *w = NULL;
    aios_error_t err = { "" };
    size_t n = 999, i, off = 0, loff = 0;
    char buf[2048] = "", lb[1024] = "";

    if (directive_parse (script, &w, &n, &err) < 0)
        fail_msg ("%s", err.text);
    for (i = 0; i < n; i++) {
        off += (size_t)snprintf (buf + off, sizeof (buf) - off, "%s%s",
                                 i ? "|" : "", w[i].text);
        loff += (size_t)snprintf (lb + loff, sizeof (lb) - loff, "%s%d",
                                  i ? "," : "", w[i].line);
    }
    assert_true (off < sizeof (buf) && loff < sizeof (lb));
    assert_string_equal (buf, want);
    assert_string_equal (lb, lines);
    directive_free (w, n);
}

static void expect_error (const char *script, const char *text)
{
    struct directive_word *w = (struct directive_word *)&w;
    aios_error_t err = { "" };
    size_t n = 999;

    errno = 0;
    assert_int_equal (directive_parse (script, &w, &n, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_string_equal (err.text, text);
    assert_null (w);
    assert_int_equal (n, 0);
}

static void test_basic (void **state)
{
    expect_words ("#!/bin/sh\n#AIOS -N 2\n#AIOS --time=5\necho hi\n",
                  "-N|2|--time=5", "2,2,3");
    expect_words ("#!/bin/sh\n#SBATCH -J x\n", "-J|x", "2,2");
    expect_words ("#!/bin/bash\n#SBATCH -N 1\n#AIOS -n 4\n#SBATCH -c 2\n",
                  "-N|1|-n|4|-c|2", "2,2,3,3,4,4");
    expect_words ("#!/bin/sh\n#AIOS\t-N\t2 \t\n", "-N|2", "2,2");
    expect_words ("#!/bin/sh\n#AIOS     -N      2\n", "-N|2", "2,2");
}

static void test_stops_at_first_command (void **state)
{
    expect_words ("#!/bin/sh\n#AIOS -N 1\necho\n#AIOS -n 4\n", "-N|1", "2,2");
    expect_words ("#!/bin/sh\n\n# a comment\n   \n#AIOS -n 3\n", "-n|3", "5,5");
    expect_words ("#!/bin/sh\n  # indented comment\n\t\n#AIOS -n 3\n", "-n|3",
                  "4,4");
    expect_words ("#!/bin/sh\n  echo hi\n#AIOS -n 3\n", "", "");
    expect_words ("echo hi\n#AIOS -n 3\n", "", "");
    /* a quoting error after the first command is never seen */
    expect_words ("#!/bin/sh\n#AIOS -N 1\ntrue\n#AIOS -J 'x\n", "-N|1", "2,2");
}

static void test_quotes (void **state)
{
    expect_words ("#!/bin/sh\n#AIOS -J 'my job'\n", "-J|my job", "2,2");
    expect_words ("#!/bin/sh\n#AIOS --export=\"A=1 B\" x\\ y\n",
                  "--export=A=1 B|x y", "2,2");
    expect_words ("#!/bin/sh\n#AIOS a'b c'\"d\"e\n", "ab cde", "2");
    expect_words ("#!/bin/sh\n#AIOS 'a\\b' \"a\\b\" a\\b\n", "a\\b|a\\b|ab",
                  "2,2,2");
    expect_words ("#!/bin/sh\n#AIOS \"a\\\"b\" \"\\\\\" \"\\$x\" \"\\`\"\n",
                  "a\"b|\\|$x|`", "2,2,2,2");
    expect_words ("#!/bin/sh\n#AIOS \"it's\" 'say \"hi\"'\n",
                  "it's|say \"hi\"", "2,2");
    expect_words ("#!/bin/sh\n#AIOS \\'x \\\"y\n", "'x|\"y", "2,2");
    expect_words ("#!/bin/sh\n#AIOS end\\\n", "end\\", "2"); /* lone '\' */
}

static void test_empty_words (void **state)
{
    expect_words ("#!/bin/sh\n#AIOS -J \"\"\n", "-J|", "2,2");
    expect_words ("#!/bin/sh\n#AIOS -J ''\n", "-J|", "2,2");
    expect_words ("#!/bin/sh\n#AIOS '' \"\" x\n", "||x", "2,2,2");
    expect_words ("#!/bin/sh\n#AIOS \n#AIOS\t\n", "", "");
}

static void test_trailing_comments (void **state)
{
    expect_words ("#!/bin/sh\n#AIOS -J 'my job' # trailing comment\n",
                  "-J|my job", "2,2");
    expect_words ("#!/bin/sh\n#AIOS -N 1 #don't care\n", "-N|1", "2,2");
    expect_words ("#!/bin/sh\n#AIOS # all comment\n", "", "");
    expect_words ("#!/bin/sh\n#AIOS a#b\n", "a#b", "2");
    expect_words ("#!/bin/sh\n#AIOS '#x' \"#y\" \\#z\n", "#x|#y|#z", "2,2,2");
}

static void test_not_directives (void **state)
{
    /* the tag is exact and must be followed by white space */
    expect_words ("#!/bin/sh\n#AIOSX -N 2\n#SBATCHY\n##AIOS -N 3\n", "", "");
    expect_words ("#!/bin/sh\n#aios -N 2\n#Sbatch -N 2\n", "", "");
    expect_words ("#!/bin/sh\n #AIOS -N 2\n\t#SBATCH -N 2\n", "", "");
    expect_words ("#!/bin/sh\n# AIOS -N 2\n#AIOS\n#SBATCH\n#AIOS -n 1\n",
                  "-n|1", "5,5");
    expect_words ("#!/bin/sh\n#AIOS-N 2\n", "", "");
}

static void test_script_shapes (void **state)
{
    expect_words ("", "", "");
    expect_words ("\n\n\n", "", "");
    expect_words ("#!/bin/sh", "", "");
    expect_words ("#AIOS -N 2\n", "-N|2", "1,1"); /* no #! line */
    expect_words ("#!/bin/sh\n#AIOS -N 2", "-N|2", "2,2"); /* no last '\n' */
    expect_words ("#!/bin/sh\r\n#AIOS -N 2\r\n#AIOS -J 'a b'\r\necho\r\n",
                  "-N|2|-J|a b", "2,2,3,3");
    expect_words ("#!/bin/sh\n#!/not/first\n#AIOS -N 2\n", "-N|2", "3,3");
}

static void test_many_words (void **state)
{
    char script[4096], want[2048], lines[1024];
    size_t off = 0, woff = 0, loff = 0;
    int i;

    off += (size_t)snprintf (script, sizeof (script), "#!/bin/sh\n");
    for (i = 0; i < 40; i++) {
        off += (size_t)snprintf (script + off, sizeof (script) - off,
                                 "#SBATCH --opt%d=%d\n", i, i);
        woff += (size_t)snprintf (want + woff, sizeof (want) - woff,
                                  "%s--opt%d=%d", i ? "|" : "", i, i);
        loff += (size_t)snprintf (lines + loff, sizeof (lines) - loff, "%s%d",
                                  i ? "," : "", i + 2);
    }
    expect_words (script, want, lines);
}

static void test_errors (void **state)
{
    expect_error ("#!/bin/sh\n#AIOS -J 'oops\n", "line 2: unterminated quote");
    expect_error ("#!/bin/sh\n#AIOS -J \"unterminated\n",
                  "line 2: unterminated quote");
    expect_error ("#AIOS 'x", "line 1: unterminated quote");
    expect_error ("#!/bin/sh\n#AIOS -N 1\n\n# c\n#SBATCH -J \"a\\\"\n",
                  "line 5: unterminated quote");
    /* a quote does not continue onto the next line */
    expect_error ("#!/bin/sh\n#AIOS -J 'a\n#AIOS b'\n",
                  "line 2: unterminated quote");
}

static void test_invalid_args (void **state)
{
    struct directive_word *w;
    size_t n;
    aios_error_t err = { "" };

    errno = 0;
    assert_int_equal (directive_parse (NULL, &w, &n, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_string_equal (err.text, "directive_parse: invalid argument");
    errno = 0;
    assert_int_equal (directive_parse ("#AIOS -N 1\n", NULL, &n, &err), -1);
    assert_int_equal (errno, EINVAL);
    errno = 0;
    assert_int_equal (directive_parse ("#AIOS -N 1\n", &w, NULL, &err), -1);
    assert_int_equal (errno, EINVAL);
    errno = 0;
    assert_int_equal (directive_parse ("#AIOS 'x\n", &w, &n, NULL), -1);
    assert_int_equal (errno, EINVAL);
}

static void test_directive_free (void **state)
{
    errno = ENOENT;
    directive_free (NULL, 0);
    directive_free (NULL, 3);
    assert_int_equal (errno, ENOENT);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_basic),
        cmocka_unit_test (test_stops_at_first_command),
        cmocka_unit_test (test_quotes),
        cmocka_unit_test (test_empty_words),
        cmocka_unit_test (test_trailing_comments),
        cmocka_unit_test (test_not_directives),
        cmocka_unit_test (test_script_shapes),
        cmocka_unit_test (test_many_words),
        cmocka_unit_test (test_errors),
        cmocka_unit_test (test_invalid_args),
        cmocka_unit_test (test_directive_free),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
