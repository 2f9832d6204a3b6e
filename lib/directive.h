/* directive.h - "#AIOS" (and "#SBATCH") lines of a batch script
 *
 * Directives are read from the top of a script: after the "#!" line, every
 * line that starts with "#AIOS" (or "#SBATCH") contributes its words as
 * options, until the first line that is neither blank nor a comment.  Words
 * are split like a shell does (single and double quotes, backslash), and a
 * word beginning with "#" ends the line (a trailing comment).
 */
#ifndef AIOS_DIRECTIVE_H
#define AIOS_DIRECTIVE_H

#include <stddef.h>
#include "errprintf.h"

struct directive_word {
    char *text;     /* the option word, unquoted */
    int line;       /* 1-based line of the script it came from */
};

/* Parse script (NUL-terminated).  On success returns 0 and sets *words to
 * an array of *count entries (free with directive_free()).  A quoting error
 * (unterminated quote) returns -1, errno = EINVAL, err = "line N: ...". */
int directive_parse (const char *script,
                     struct directive_word **words,
                     size_t *count,
                     aios_error_t *err);

void directive_free (struct directive_word *words, size_t count);

#endif
