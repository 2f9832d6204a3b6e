/* b64.h - base64 (RFC 4648), for binary data inside JSON frames */
#ifndef AIOS_B64_H
#define AIOS_B64_H

#include <stddef.h>

/* NUL-terminated encoding of buf[0..len); caller frees.  NULL on ENOMEM. */
char *b64_encode (const void *buf, size_t len);
/* Decoded bytes of s (caller frees) with *len set; NULL with errno EINVAL
 * on a malformed string, ENOMEM. */
void *b64_decode (const char *s, size_t *len);

#endif
