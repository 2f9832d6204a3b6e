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
        char prefix[sizeof (err->text)];
        char old[sizeof (err->text)];
        va_list ap;

        va_start (ap, fmt);
        vsnprintf (prefix, sizeof (prefix), fmt, ap);
        va_end (ap);
        memcpy (old, err->text, sizeof (old));
        snprintf (err->text, sizeof (err->text), "%s: %s", prefix, old);
    }
    errno = saved;
    return -1;
}
