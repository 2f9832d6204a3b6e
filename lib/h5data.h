/* h5data.h - HDF5 files as datasets: describe, checksum, copy (whole or one
 * shard), provenance attributes.
 *
 * A shard: node i of N gets rows [i*n/N, (i+1)*n/N) of every dataset whose
 * leading dimension is n (n = the largest leading dimension among datasets
 * of rank >= 1); boundaries move to the nearest multiple of the row chunk
 * size shared by all of them (so chunks are copied whole, as raw bytes,
 * with H5Dread_chunk/H5Dwrite_chunk: compressed data is never inflated).
 * Other datasets, groups and attributes are copied whole.  The shard file's
 * root group carries the attributes shard_index, shard_count, shard_offset
 * (first row) and shard_rows.
 *
 * Threads: the serial HDF5 library is not thread-safe.  h5data_sha256() and
 * a whole copy (count == 0) make no HDF5 call and may run in any thread;
 * every other function calls HDF5 and must run in one thread at a time per
 * process (or in a forked child).  HDF5's error printing is turned off
 * during each call and restored after it.
 */
#ifndef AIOS_H5DATA_H
#define AIOS_H5DATA_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "errprintf.h"

/* Called as bytes are copied; a nonzero return aborts the copy (ECANCELED). */
typedef int (*h5data_progress_f) (uint64_t done, uint64_t total, void *arg);

/* Is path an HDF5 file?  err says why not (missing, unreadable, not HDF5). */
int h5data_check (const char *path, aios_error_t *err);

/* What the file holds:
 *   {"size": BYTES, "datasets": [{"path": "/x", "shape": [n, d],
 *     "type": "float32", "chunks": [c0, c1] | null,
 *     "compression": "deflate(4)" | null, "bytes": LOGICAL_BYTES,
 *     "storage_bytes": ON_DISK}], "attributes": {"name": value...}}
 * NULL with err set on failure. */
json_t *h5data_describe (const char *path, aios_error_t *err);

/* SHA-256 of the file's bytes as 64 lowercase hex digits (hex[65]). */
void h5data_hex_digest (const unsigned char *md, char hex[65]);
int h5data_sha256 (const char *path, char hex[65], h5data_progress_f cb,
                   void *arg, aios_error_t *err);

/* The rows [*first, *first + *rows) that shard index of count gets, and the
 * total n.  Fails if the file has no dataset of rank >= 1. */
int h5data_shard_rows (const char *path, int index, int count,
                       uint64_t *first, uint64_t *rows, uint64_t *n,
                       aios_error_t *err);

/* Copy src to dst.  count == 0: the whole file byte for byte, and when
 * sha256 is not NULL its hex digest of each piece read back as it is
 * copied (copy_file_range, then a read from the page cache).
 * count > 0: shard index of count, as above (sha256, when not NULL, gets
 * the digest of the shard file, read once more after writing it).
 * Written to "dst.part" and renamed when complete; on any failure nothing
 * is left at dst.part and dst is untouched.  bytes (may be NULL) gets the
 * size of the file written.  The callback's total is the file size (whole)
 * or an estimate of the data bytes to copy (shard, grown if exceeded); the
 * last call has done == total. */
int h5data_copy (const char *src, const char *dst, int index, int count,
                 char *sha256, h5data_progress_f cb, void *arg,
                 uint64_t *bytes, aios_error_t *err);

/* Block checksums: the SHA-256 of each size bytes of a file, in order (the
 * last block may be shorter).  A shard copy checks only the blocks it
 * reads, where checking the whole file's SHA-256 would read all of it on
 * every node. */
struct h5data_blocks {
    uint64_t size;                  /* bytes per block */
    size_t n;                       /* the file's size / size, rounded up */
    unsigned char (*sha256)[32];    /* n digests */
};

/* SHA-256 of n bytes in memory, as hex. */
int h5data_sha256_buf (const void *buf, size_t n, char hex[65],
                       aios_error_t *err);
/* The block checksums of path into *b (b->sha256 is the caller's to
 * free) and, when whole is not NULL, the whole file's SHA-256 in the same
 * pass.  The callback's total is the file size. */
int h5data_block_sums (const char *path, uint64_t size,
                       struct h5data_blocks *b, char whole[65],
                       h5data_progress_f cb, void *arg, aios_error_t *err);
/* Check the blocks of path whose want[i] is nonzero (want NULL: all)
 * against b; an error names the first block that differs. */
int h5data_block_check (const char *path, const struct h5data_blocks *b,
                        const unsigned char *want, aios_error_t *err);
/* h5data_copy() of shard index of count (count > 0) that also checks the
 * blocks of src the copy read against b before it keeps the copy. */
int h5data_copy_checked (const char *src, const char *dst, int index,
                         int count, const struct h5data_blocks *b,
                         h5data_progress_f cb, void *arg, uint64_t *bytes,
                         aios_error_t *err);

/* Set attributes on the root group from a JSON object of strings, integers
 * and reals (existing ones are replaced). */
int h5data_set_attrs (const char *path, json_t *attrs, aios_error_t *err);

#endif
