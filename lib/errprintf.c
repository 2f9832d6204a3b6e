/* errprintf.c - human-readable error text carried beside errno */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errprintf.h"

int errprintf (aios_error_t *err, const char *fmt, ...)
{
    int saved = errno;

    if (err) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err->text, sizeof (err->text), fmt, ap);
        va_end (ap);
    }
    errno = saved;
    return -1;
}

int errprefix (aios_error_t *err, const char *fmt, ...)
{
    int saved = errno;

    if (err) {
        char buf[2 * sizeof (err->text) + 4];
        size_t n;
        va_list ap;

        va_start (ap, fmt);
        vsnprintf (buf, sizeof (err->text), fmt, ap);
        va_end (ap);
        n = strlen (buf);
        memcpy (buf + n, ": ", 3);
        memcpy (buf + n + 2, err->text, sizeof (err->text));
        buf[n + 2 + sizeof (err->text) - 1] = '\0';
        memcpy (err->text, buf, sizeof (err->text) - 1);
        err->text[sizeof (err->text) - 1] = '\0';
    }
    errno = saved;
    return -1;
}
