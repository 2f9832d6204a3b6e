/* h5blocks.c - block checksums: the SHA-256 of each block of a file
 *
 * The catalog keeps them beside the whole file's SHA-256, so that a node
 * staging one shard of N checks the bytes it reads (about 1/N of the file)
 * instead of hashing the whole file first: at about 1 GB/s for SHA-256,
 * the whole file's checksum is what a shard copy cost on every node.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5data.h"
#include "h5data_int.h"

enum { BUF_BYTES = 8 << 20 };

/* The SHA-256 of len bytes of fd at off (buf is BUF_BYTES); whole (may be
 * NULL) is fed the same bytes. */
static int block_sha256 (int fd, const char *path, uint64_t off, uint64_t len,
                         unsigned char *buf, unsigned char md32[32],
                         EVP_MD_CTX *whole, struct progress *p,
                         aios_error_t *err)
{
    EVP_MD_CTX *md = NULL;
    ssize_t n;
    int rc = -1;

    if (h5data_md_begin (&md, err) < 0)
        return -1;
    while (len > 0) {
        n = pread (fd, buf, len < BUF_BYTES ? (size_t)len : BUF_BYTES,
                   (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            errprintf (err, "%s: %s", path,
                       n == 0 ? "shorter than expected" : strerror (errno));
            goto out;
        }
        if (EVP_DigestUpdate (md, buf, (size_t)n) != 1
            || (whole && EVP_DigestUpdate (whole, buf, (size_t)n) != 1)) {
            errno = EIO;
            errprintf (err, "%s: sha256 failed", path);
            goto out;
        }
        if (p && h5data_progress_add (p, (uint64_t)n, err, path) < 0)
            goto out;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    rc = h5data_md_final (md, md32, err);
out:
    EVP_MD_CTX_free (md);
    return rc;
}

static int open_sized (const char *path, uint64_t *size, aios_error_t *err)
{
    struct stat st;
    int fd = open (path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return h5data_sysfail (err, path);
    if (fstat (fd, &st) < 0) {
        h5data_sysfail (err, path);
        close (fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

int h5data_block_sums (const char *path, uint64_t size,
                       struct h5data_blocks *b, char whole[65],
                       h5data_progress_f cb, void *arg, aios_error_t *err)
{
    struct progress p = { cb, arg, 0, 0, 0 };
    EVP_MD_CTX *md = NULL;
    unsigned char *buf = NULL;
    uint64_t len, off;
    size_t i;
    int fd, rc = -1;

    if (!path || !b || size == 0) {
        errno = EINVAL;
        return errprintf (err, "h5data_block_sums: invalid argument");
    }
    memset (b, 0, sizeof (*b));
    if ((fd = open_sized (path, &len, err)) < 0)
        return -1;
    p.total = len;
    b->size = size;
    b->n = (size_t)((len + size - 1) / size);
    if ((b->n > 0 && !(b->sha256 = calloc (b->n, sizeof (*b->sha256))))
        || !(buf = malloc (BUF_BYTES))) {
        h5data_nomem (err);
        goto out;
    }
    if (whole && h5data_md_begin (&md, err) < 0)
        goto out;
    for (i = 0, off = 0; i < b->n; i++, off += size)
        if (block_sha256 (fd, path, off, len - off < size ? len - off : size,
                          buf, b->sha256[i], md, &p, err) < 0)
            goto out;
    if ((!whole || h5data_md_end (md, whole, err) == 0))
        rc = h5data_progress_end (&p, err, path);
out:
    EVP_MD_CTX_free (md);
    if (rc < 0) {
        free (b->sha256);
        b->sha256 = NULL;
        b->n = 0;
    }
    free (buf);
    close (fd);
    return rc;
}

int h5data_block_check (const char *path, const struct h5data_blocks *b,
                        const unsigned char *want, aios_error_t *err)
{
    unsigned char *buf = NULL, got[32];
    uint64_t len, off, n;
    char want_hex[65], got_hex[65];
    size_t i;
    int fd, rc = -1;

    if (!path || !b || b->size == 0) {
        errno = EINVAL;
        return errprintf (err, "h5data_block_check: invalid argument");
    }
    if ((fd = open_sized (path, &len, err)) < 0)
        return -1;
    if ((len + b->size - 1) / b->size != b->n) {
        errno = EIO;
        errprintf (err, "%s: %" PRIu64 " bytes, but the checksums are of %zu "
                   "blocks of %" PRIu64, path, len, b->n, b->size);
        goto out;
    }
    if (!(buf = malloc (BUF_BYTES))) {
        h5data_nomem (err);
        goto out;
    }
    for (i = 0, off = 0; i < b->n; i++, off += b->size) {
        if (want && !want[i])
            continue;
        n = len - off < b->size ? len - off : b->size;
        if (block_sha256 (fd, path, off, n, buf, got, NULL, NULL, err) < 0)
            goto out;
        if (memcmp (got, b->sha256[i], 32) != 0) {
            h5data_hex_digest (b->sha256[i], want_hex);
            h5data_hex_digest (got, got_hex);
            errno = EIO;
            errprintf (err, "%s: sha256 mismatch in block %zu (bytes %" PRIu64
                       "-%" PRIu64 "): catalog says %.12s..., file is "
                       "%.12s...", path, i, off, off + n - 1, want_hex,
                       got_hex);
            goto out;
        }
    }
    rc = 0;
out:
    free (buf);
    close (fd);
    return rc;
}

int h5data_sha256_buf (const void *buf, size_t n, char hex[65],
                       aios_error_t *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    if (EVP_Digest (buf, n, md, &len, EVP_sha256 (), NULL) != 1 || len != 32) {
        errno = EIO;
        return errprintf (err, "sha256 failed");
    }
    h5data_hex_digest (md, hex);
    return 0;
}
