/* directive.c - "#AIOS" (and "#SBATCH") lines of a batch script
 *
 * The script is read line by line: line 1 is skipped if it starts with
 * "#!"; a line that starts exactly with "#AIOS" or "#SBATCH" followed by
 * white space is a directive; blank lines and other lines whose first
 * non-blank character is '#' are skipped; any other line ends the scan.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "directive.h"

struct wordlist {
    struct directive_word *v;
    size_t n;
    size_t cap;
};

void directive_free (struct directive_word *words, size_t count)
{
    int saved = errno;
    size_t i;

    for (i = 0; words && i < count; i++)
        free (words[i].text);
    free (words);
    errno = saved;
}

static int add_word (struct wordlist *l, const char *buf, size_t len, int line)
{
    char *s;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct directive_word *v = realloc (l->v, cap * sizeof (*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(s = malloc (len + 1)))
        return -1;
    memcpy (s, buf, len);
    s[len] = '\0';
    l->v[l->n].text = s;
    l->v[l->n++].line = line;
    return 0;
}

/* Is c a blank inside a line?  ('\r' too, for scripts with CRLF.) */
static bool blank (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Read the word at *p (before end) into buf as a shell would: '...' is
 * literal; in "..." a backslash escapes only " \ $ and `; outside quotes a
 * backslash escapes any character.  Sets *len; advances *p past the word.
 * Returns -1 if a quote is not closed on this line. */
static int read_word (const char **p, const char *end, char *buf, size_t *len)
{
    const char *s = *p;
    char quote = 0;

    for (*len = 0; s < end && (quote || !blank (*s)); s++) {
        if (quote && *s == quote)
            quote = 0;
        else if (quote == '"' && *s == '\\' && s + 1 < end
                 && strchr ("\"\\$`", s[1]))
            buf[(*len)++] = *++s;
        else if (quote)
            buf[(*len)++] = *s;
        else if (*s == '\'' || *s == '"')
            quote = *s;
        else if (*s == '\\' && s + 1 < end)
            buf[(*len)++] = *++s;
        else
            buf[(*len)++] = *s; /* a lone '\' at the end stays literal */
    }
    *p = s;
    return quote ? -1 : 0;
}

/* Split the directive text p[0..end) into words, appended to l. */
static int split_line (const char *p, const char *end, int line,
                       struct wordlist *l, aios_error_t *err)
{
    char *buf = malloc ((size_t)(end - p) + 1);
    size_t len;

    if (!buf)
        goto nomem;
    for (;;) {
        while (p < end && blank (*p))
            p++;
        if (p == end || *p == '#')
            break; /* the end, or a trailing comment */
        if (read_word (&p, end, buf, &len) < 0) {
            free (buf);
            errno = EINVAL;
            return errprintf (err, "line %d: unterminated quote", line);
        }
        if (add_word (l, buf, len, line) < 0)
            goto nomem;
    }
    free (buf);
    return 0;
nomem:
    free (buf);
    errno = ENOMEM;
    return errprintf (err, "out of memory");
}

/* Length of the directive tag that starts line s[0..end), or 0. */
static size_t tag_len (const char *s, const char *end)
{
    static const char *const tags[] = { "#AIOS", "#SBATCH" };
    size_t i, n;

    for (i = 0; i < sizeof (tags) / sizeof (tags[0]); i++) {
        n = strlen (tags[i]);
        if ((size_t)(end - s) > n && !strncmp (s, tags[i], n) && blank (s[n]))
            return n;
    }
    return 0;
}

/* Is line s[0..end) blank or a comment? */
static bool skippable (const char *s, const char *end)
{
    while (s < end && blank (*s))
        s++;
    return s == end || *s == '#';
}

int directive_parse (const char *script, struct directive_word **words,
                     size_t *count, aios_error_t *err)
{
    struct wordlist l = { 0 };
    const char *p = script;
    int line = 0;

    if (!script || !words || !count) {
        errno = EINVAL;
        return errprintf (err, "directive_parse: invalid argument");
    }
    *words = NULL;
    *count = 0;
    for (; *p; p = *p ? p + 1 : p) {
        const char *end = strchr (p, '\n');
        size_t tag;

        if (!end)
            end = p + strlen (p);

        line++;
        if ((tag = tag_len (p, end)) > 0) {
            if (split_line (p + tag, end, line, &l, err) < 0) {
                directive_free (l.v, l.n);
                return -1;
            }
        }
        else if (!skippable (p, end)) /* the "#!" line is a comment too */
            break; /* the first command ends the directives */
        p = end;
    }
    *words = l.v;
    *count = l.n;
    return 0;
}
