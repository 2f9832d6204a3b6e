/* proto.c - AIOS protocol message helpers */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

json_t *proto_error (json_int_t seq, int errnum, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start (ap, fmt);
    vsnprintf (text, sizeof (text), fmt, ap);
    va_end (ap);
    return json_pack ("{s:I s:i s:s}", "seq", seq, "errnum", errnum,
                      "errstr", text);
}

json_t *proto_request (const char *op, json_int_t seq)
{
    return json_pack ("{s:s s:I}", "op", op, "seq", seq);
}

int proto_reply_check (const json_t *reply, aios_error_t *err)
{
    json_t *e = json_object_get (reply, "errnum");
    const char *s;

    if (!e)
        return 0;
    s = json_string_value (json_object_get (reply, "errstr"));
    errno = json_is_integer (e) ? (int)json_integer_value (e) : EPROTO;
    if (errno == 0)
        errno = EPROTO;
    return errprintf (err, "%s", s ? s : strerror (errno));
}

int proto_unpack (json_t *obj, aios_error_t *err, const char *what,
                  const char *fmt, ...)
{
    json_error_t jerr;
    va_list ap;
    int rc;

    va_start (ap, fmt);
    rc = json_vunpack_ex (obj, &jerr, 0, fmt, ap);
    va_end (ap);
    if (rc < 0) {
        errno = EPROTO;
        return errprintf (err, "%s: %s", what, jerr.text);
    }
    return 0;
}
