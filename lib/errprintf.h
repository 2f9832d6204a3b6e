/* errprintf.h - human-readable error text carried beside errno
 *
 * Functions return -1 or NULL and set errno; the text explaining what went
 * wrong goes into a caller-provided aios_error_t.  Only the top level prints.
 */
#ifndef AIOS_ERRPRINTF_H
#define AIOS_ERRPRINTF_H

typedef struct {
    char text[320];
} aios_error_t;

/* Format into err->text (err may be NULL).  Always returns -1.
 * errno is preserved. */
int errprintf (aios_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Prefix err->text with "prefix: " (prefix is printf-formatted).  Returns -1,
 * preserves errno. */
int errprefix (aios_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
