/* h5io.h - the few HDF5 operations gen-data and train need
 *
 * Serial HDF5 with HDF5's own error printing turned off: each function
 * returns -1 (or a negative hid_t) and puts a sentence naming the file,
 * the dataset and the reason into a caller-provided h5io_error_t.  Only the
 * program's top level prints it.  Every hid_t returned is the caller's to
 * close (H5Fclose, H5Dclose).
 */
#ifndef TRAIN_H5IO_H
#define TRAIN_H5IO_H

#include <hdf5.h>

typedef struct {
    char text[320];
} h5io_error_t;

/* Format into err->text.  Always returns -1. */
int h5io_errorf (h5io_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Stop HDF5 from printing its error stack; call once at start. */
void h5io_quiet (void);

/* Create (truncate) path for writing, or open it read-only. */
hid_t h5io_create (const char *path, h5io_error_t *err);
hid_t h5io_open (const char *path, h5io_error_t *err);

/* Create dataset name (intermediate groups too) of ndims (1 or 2) dims.
 * chunk_rows > 0: chunked by that many rows and gzip-compressed at level
 * gzip; 0: contiguous. */
hid_t h5io_dataset_create (hid_t file, const char *name, hid_t type,
                           int ndims, const hsize_t *dims,
                           hsize_t chunk_rows, int gzip, h5io_error_t *err);

/* Open dataset name; its shape goes to dims[0..1] (dims[1] = 1 for 1-D)
 * and *ndims.  A dataset of more than 2 dimensions is an error. */
hid_t h5io_dataset_open (hid_t file, const char *name, hsize_t dims[2],
                         int *ndims, h5io_error_t *err);

/* Write or read rows [first, first + count) of a 1-D or 2-D dataset,
 * converting to or from the memory type memtype. */
int h5io_write_rows (hid_t dset, hid_t memtype, hsize_t first, hsize_t count,
                     const void *buf, h5io_error_t *err);
int h5io_read_rows (hid_t dset, hid_t memtype, hsize_t first, hsize_t count,
                    void *buf, h5io_error_t *err);

/* Scalar attributes on obj: value points to one item of memtype. */
int h5io_attr_write (hid_t obj, const char *name, hid_t memtype,
                     const void *value, h5io_error_t *err);
int h5io_attr_string (hid_t obj, const char *name, const char *value,
                      h5io_error_t *err);

#endif
