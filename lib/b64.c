/* b64.c - base64 (RFC 4648), for binary data inside JSON frames */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *b64_encode (const void *buf, size_t len)
{
    const unsigned char *in = buf;
    char *out = malloc ((len + 2) / 3 * 4 + 1), *o = out;
    size_t i;

    if (!out) {
        errno = ENOMEM;
        return NULL;
    }
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int value (char c)
{
    const char *p = c ? strchr (alphabet, c) : NULL;

    return p ? (int)(p - alphabet) : -1;
}

void *b64_decode (const char *s, size_t *len)
{
    size_t n = strlen (s), i, o = 0;
    unsigned char *out;

    if (n % 4 != 0) {
        errno = EINVAL;
        return NULL;
    }
    if (!(out = malloc (n / 4 * 3 + 1))) {
        errno = ENOMEM;
        return NULL;
    }
    for (i = 0; i < n; i += 4) {
        int a = value (s[i]), b = value (s[i + 1]);
        int c = s[i + 2] == '=' ? 0 : value (s[i + 2]);
        int d = s[i + 3] == '=' ? 0 : value (s[i + 3]);
        bool pad2 = s[i + 2] == '=', pad3 = s[i + 3] == '=';
        uint32_t v;
        if (a < 0 || b < 0 || c < 0 || d < 0 || (pad2 && !pad3)
            || ((pad2 || pad3) && i + 4 != n)) {
            free (out);
            errno = EINVAL;
            return NULL;
        }
        v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (unsigned char)(v >> 16);
        if (!pad2)
            out[o++] = (unsigned char)(v >> 8);
        if (!pad3)
            out[o++] = (unsigned char)v;
    }
    *len = o;
    return out;
}
