/* directive.c - "#AIOS" (and "#SBATCH") lines of a batch script */
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
    size_t i;
    int saved = errno;

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

/* Split p[0..end) shell-like into words.  Returns -1 on a quoting error
 * (errno EINVAL) or ENOMEM. */
static int split_line (const char *p, const char *end, int line,
                       struct wordlist *l, aios_error_t *err)
{
    char *buf = malloc ((size_t)(end - p) + 1);
    size_t len;

    if (!buf)
        goto nomem;
    while (p < end) {
        char quote = 0;
        bool have = false;
        while (p < end && isspace ((unsigned char)*p))
            p++;
        if (p == end || *p == '#')
            break; /* a trailing comment ends the line */
        for (len = 0; p < end; p++) {
            if (quote) {
                if (*p == quote)
                    quote = 0;
                else if (quote == '"' && *p == '\\' && p + 1 < end
                         && strchr ("\"\\$`", p[1]))
                    buf[len++] = *++p;
                else
                    buf[len++] = *p;
            }
            else if (*p == '\'' || *p == '"')
                quote = *p, have = true;
            else if (*p == '\\' && p + 1 < end)
                buf[len++] = *++p;
            else if (isspace ((unsigned char)*p))
                break;
            else
                buf[len++] = *p;
        }
        if (quote) {
            free (buf);
            errno = EINVAL;
            return errprintf (err, "line %d: unterminated quote", line);
        }
        if ((len > 0 || have) && add_word (l, buf, len, line) < 0)
            goto nomem;
    }
    free (buf);
    return 0;
nomem:
    free (buf);
    errno = ENOMEM;
    return errprintf (err, "out of memory");
}

/* Length of the directive tag at the start of s, or 0. */
static size_t tag_len (const char *s, const char *end)
{
    static const char *tags[] = { "#AIOS", "#SBATCH" };
    size_t i, n;

    for (i = 0; i < 2; i++) {
        n = strlen (tags[i]);
        if ((size_t)(end - s) >= n && !strncmp (s, tags[i], n)
            && (s + n == end || isspace ((unsigned char)s[n])))
            return n;
    }
    return 0;
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
    while (*p) {
        const char *end = strchr (p, '\n'), *q = p;
        size_t tag;
        if (!end)
            end = p + strlen (p);
        line++;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (line == 1 && !strncmp (p, "#!", 2))
            ; /* the interpreter line */
        else if ((tag = tag_len (p, end)) > 0) {
            if (split_line (p + tag, end, line, &l, err) < 0) {
                directive_free (l.v, l.n);
                return -1;
            }
        }
        else if (q < end && *q != '#')
            break; /* the first command ends the directives */
        p = *end ? end + 1 : end;
    }
    *words = l.v;
    *count = l.n;
    return 0;
}
