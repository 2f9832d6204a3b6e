/* h5data_int.h - private to libaiosdata (h5data.c, h5shard.c, h5vfd.c,
 * h5blocks.c): HDF5 error handling, opening files, looking at datasets,
 * SHA-256, progress, the shard copy's entry points and its file driver.
 * Not part of the interface (that is h5data.h).
 */
#ifndef AIOS_H5DATA_INT_H
#define AIOS_H5DATA_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <hdf5.h>
#include <openssl/evp.h>

#include "errprintf.h"
#include "h5data.h"

/* --- h5data.c: errors and HDF5's error stack ----------------------------- */

struct quiet {
    H5E_auto2_t func;
    void *data;
};

/* Stop HDF5 printing its error stack (restored by h5data_quiet_end()). */
void h5data_quiet_begin (struct quiet *q);
void h5data_quiet_end (struct quiet *q);
/* "PATH: OBJ: WHAT: REASON" (OBJ may be NULL); EIO, clears the stack. */
int h5data_fail (aios_error_t *err, const char *path, const char *obj,
                 const char *what);
/* "PATH: strerror(errno)". */
int h5data_sysfail (aios_error_t *err, const char *path);
/* ENOMEM, "out of memory". */
int h5data_nomem (aios_error_t *err);
/* Close any HDF5 object id (negative ids are ignored); keeps errno. */
void h5data_id_close (hid_t id);
/* File access without HDF5's file locks. */
hid_t h5data_fapl_nolock (void);
/* Open path (flags H5F_ACC_RDONLY or H5F_ACC_RDWR) after checking that it
 * exists, can be opened so, and is HDF5. */
hid_t h5data_file_open (const char *path, unsigned flags, aios_error_t *err);
/* The same with fapl (the caller's). */
hid_t h5data_file_open_fapl (const char *path, unsigned flags, hid_t fapl,
                             aios_error_t *err);

/* --- h5data.c: types, attributes, datasets ------------------------------- */

/* Does an element of t hold variable-length data (heap references)? */
bool h5data_type_has_vlen (hid_t t);
/* Set (replace) a scalar 64-bit integer attribute. */
int h5data_attr_write_int (hid_t obj, const char *name, int64_t v);

struct dset_info {
    int rank;
    hsize_t dims[H5S_MAX_RANK];
    hsize_t maxdims[H5S_MAX_RANK];
    bool chunked;
    hsize_t chunk[H5S_MAX_RANK];
    H5D_layout_t layout;
    size_t type_size;
    bool vlen;
    uint64_t logical;   /* elements x type size */
    uint64_t storage;   /* on disk (when asked for) */
};

/* di of d; its storage only when asked: for a chunked dataset that walks
 * the whole chunk index, reading it all. */
int h5data_dset_info (hid_t d, struct dset_info *di, bool storage);

/* Call fn for every dataset in file (by name, each once). */
typedef int (*dset_f) (hid_t d, const char *path, const struct dset_info *di,
                       void *arg);
int h5data_visit_datasets (hid_t f, const char *file, bool storage,
                           dset_f fn, void *arg, aios_error_t *err);

/* --- h5data.c: SHA-256 ------------------------------------------------- */

/* A new SHA-256 context (*md, the caller frees it). */
int h5data_md_begin (EVP_MD_CTX **md, aios_error_t *err);
/* Its digest as 64 lowercase hex digits, or as its 32 bytes. */
int h5data_md_end (EVP_MD_CTX *md, char hex[65], aios_error_t *err);
int h5data_md_final (EVP_MD_CTX *md, unsigned char out[32],
                     aios_error_t *err);

/* --- h5data.c: progress -------------------------------------------------- */

struct progress {
    h5data_progress_f cb;
    void *arg;
    uint64_t done, total, next;
};

/* Count n more bytes done; ECANCELED if the callback says stop. */
int h5data_progress_add (struct progress *p, uint64_t n, aios_error_t *err,
                         const char *path);
/* The last report: done = total. */
int h5data_progress_end (struct progress *p, aios_error_t *err,
                         const char *path);

/* --- h5shard.c ----------------------------------------------------------- */

/* Check a shard's index and count (and that src is given). */
int h5data_shard_args (const char *src, int index, int count,
                       aios_error_t *err);
/* Shard index of count of src into the new file part (HDF5 quiet around
 * it is the caller's); p->total is set to the estimate of bytes to copy.
 * With b, the blocks of src read are then checked against it. */
int h5data_copy_shard (const char *src, const char *part, int index,
                       int count, const struct h5data_blocks *b,
                       struct progress *p, aios_error_t *err);

/* --- h5vfd.c: the file driver of shard copies ---------------------------- */

struct h5vfd;

/* Open files of fapl with the driver (pread/pwrite, plus what follows);
 * track > 0: each file records which blocks of track bytes are read. */
int h5vfd_use (hid_t fapl, uint64_t track);
/* The driver's state of file (valid while it is open), or NULL if file
 * does not use the driver. */
struct h5vfd *h5vfd_get (hid_t file);
/* Where the raw bytes of dset's chunk at off lie in the file: 1 with
 * *addr (as HDF5 counts, after any user block), *size and *filters; 0 if
 * the chunk is not allocated; -1 on error.  With f (the dataset's file)
 * one index lookup; with NULL a walk of the index. */
int h5vfd_chunk (struct h5vfd *f, hid_t dset, const hsize_t *off,
                 haddr_t *addr, hsize_t *size, unsigned *filters);
/* From now on, raw data that f's writes take from map..map+len (a mapping
 * of src_fd from offset 0; both the caller's, kept until the file is
 * closed) is copied from src_fd in the kernel instead. */
void h5vfd_copy_from (struct h5vfd *f, int src_fd, const void *map,
                      size_t len);
/* The next raw allocation of size bytes in f starts at the same offset in
 * a page as src: call it before H5Dwrite_chunk() of the bytes at src. */
void h5vfd_place (struct h5vfd *f, uint64_t src, hsize_t size);
/* Count [off, off + len) of f (from the start of the file) as read: bytes
 * the caller takes from a mapping of it. */
void h5vfd_touch (struct h5vfd *f, uint64_t off, uint64_t len);
/* The blocks read so far (one byte each, nonzero: read), *n of them; NULL
 * when f was not opened to track them. */
const unsigned char *h5vfd_touched (const struct h5vfd *f, size_t *n);

#endif
