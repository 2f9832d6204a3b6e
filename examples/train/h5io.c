/* h5io.c - the few HDF5 operations gen-data and train need */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "h5io.h"

int h5io_errorf (h5io_error_t *err, const char *fmt, ...)
{
    va_list ap;

    va_start (ap, fmt);
    vsnprintf (err->text, sizeof (err->text), fmt, ap);
    va_end (ap);
    return -1;
}

void h5io_quiet (void)
{
    H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
}

/* The file an object lives in and its path there, for messages. */
static const char *obj_name (hid_t obj, char *buf, size_t size)
{
    char file[256] = "?";
    char path[128] = "?";

    H5Fget_name (obj, file, sizeof (file));
    H5Iget_name (obj, path, sizeof (path));
    snprintf (buf, size, "%s in %s", path, file);
    return buf;
}

hid_t h5io_create (const char *path, h5io_error_t *err)
{
    /* Ask the kernel first: HDF5 would only say that it failed, not why. */
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    hid_t file;

    if (fd < 0)
        return h5io_errorf (err, "cannot create %s: %s", path, strerror (errno));
    close (fd);
    file = H5Fcreate (path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0)
        return h5io_errorf (err, "cannot create %s: the HDF5 library refused it",
                            path);
    return file;
}

hid_t h5io_open (const char *path, h5io_error_t *err)
{
    int fd = open (path, O_RDONLY);
    hid_t file;

    if (fd < 0)
        return h5io_errorf (err, "cannot open %s: %s", path, strerror (errno));
    close (fd);
    if (H5Fis_hdf5 (path) <= 0)
        return h5io_errorf (err, "cannot open %s: not an HDF5 file", path);
    file = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return h5io_errorf (err, "cannot open %s: the HDF5 library refused it",
                            path);
    return file;
}

/* Create the groups on the way to name ("/a/b/x": /a and /a/b) that are
 * missing.  Objects are made without timestamps, so that the same data
 * make the same bytes. */
static int create_parents (hid_t file, const char *name)
{
    hid_t gcpl = H5Pcreate (H5P_GROUP_CREATE);
    char path[256];
    int rc = gcpl < 0 || H5Pset_obj_track_times (gcpl, 0) < 0 ? -1 : 0;

    snprintf (path, sizeof (path), "%s", name);
    for (char *p = strchr (path + 1, '/'); rc == 0 && p; p = strchr (p + 1, '/')) {
        *p = '\0';
        if (H5Lexists (file, path, H5P_DEFAULT) <= 0) {
            hid_t g = H5Gcreate2 (file, path, H5P_DEFAULT, gcpl, H5P_DEFAULT);
            rc = g < 0 ? -1 : H5Gclose (g);
        }
        *p = '/';
    }
    H5Pclose (gcpl);
    return rc;
}

static hid_t create_plist (int ndims, const hsize_t *dims, hsize_t chunk_rows,
                           int gzip)
{
    hid_t dcpl = H5Pcreate (H5P_DATASET_CREATE);
    hsize_t chunk[2] = { chunk_rows < dims[0] ? chunk_rows : dims[0],
                         ndims > 1 ? dims[1] : 1 };

    if (dcpl < 0)
        return -1;
    if (H5Pset_obj_track_times (dcpl, 0) < 0
        || (chunk_rows > 0 && dims[0] > 0
            && (H5Pset_chunk (dcpl, ndims, chunk) < 0
                || H5Pset_deflate (dcpl, (unsigned)gzip) < 0))) {
        H5Pclose (dcpl);
        return -1;
    }
    return dcpl;
}

hid_t h5io_dataset_create (hid_t file, const char *name, hid_t type,
                           int ndims, const hsize_t *dims,
                           hsize_t chunk_rows, int gzip, h5io_error_t *err)
{
    hid_t space = H5Screate_simple (ndims, dims, NULL);
    hid_t dcpl = create_plist (ndims, dims, chunk_rows, gzip);
    hid_t dset = -1;

    if (space >= 0 && dcpl >= 0 && create_parents (file, name) == 0)
        dset = H5Dcreate2 (file, name, type, space, H5P_DEFAULT, dcpl,
                           H5P_DEFAULT);
    H5Sclose (space);
    H5Pclose (dcpl);
    if (dset < 0) {
        char fname[256] = "?";
        H5Fget_name (file, fname, sizeof (fname));
        return h5io_errorf (err, "cannot create dataset %s in %s", name, fname);
    }
    return dset;
}

hid_t h5io_dataset_open (hid_t file, const char *name, hsize_t dims[2],
                         int *ndims, h5io_error_t *err)
{
    char buf[400];
    hid_t dset = H5Dopen2 (file, name, H5P_DEFAULT);
    hid_t space;

    if (dset < 0) {
        char fname[256] = "?";
        H5Fget_name (file, fname, sizeof (fname));
        return h5io_errorf (err, "%s has no dataset %s", fname, name);
    }
    space = H5Dget_space (dset);
    *ndims = H5Sget_simple_extent_ndims (space);
    dims[1] = 1;
    if (*ndims < 1 || *ndims > 2) {
        H5Sclose (space);
        h5io_errorf (err, "%s has %d dimensions, expected 1 or 2",
                     obj_name (dset, buf, sizeof (buf)), *ndims);
        H5Dclose (dset);
        return -1;
    }
    H5Sget_simple_extent_dims (space, dims, NULL);
    H5Sclose (space);
    return dset;
}

/* Select rows [first, first + count) of dset in a new file space, and make
 * the matching memory space. */
static int select_rows (hid_t dset, hsize_t first, hsize_t count,
                        hid_t *fspace, hid_t *mspace)
{
    hsize_t dims[2] = { 0, 1 };
    hsize_t start[2] = { first, 0 };
    int ndims;

    *mspace = -1;
    *fspace = H5Dget_space (dset);
    if (*fspace < 0)
        return -1;
    ndims = H5Sget_simple_extent_ndims (*fspace);
    H5Sget_simple_extent_dims (*fspace, dims, NULL);
    if (first + count > dims[0])
        return -1;
    dims[0] = count;
    if (H5Sselect_hyperslab (*fspace, H5S_SELECT_SET, start, NULL, dims,
                             NULL) < 0)
        return -1;
    *mspace = H5Screate_simple (ndims, dims, NULL);
    return *mspace < 0 ? -1 : 0;
}

static int transfer_rows (hid_t dset, hid_t memtype, hsize_t first,
                          hsize_t count, void *buf, int write,
                          h5io_error_t *err)
{
    char name[400];
    hid_t fspace, mspace;
    herr_t rc = -1;

    if (count == 0)
        return 0;
    if (select_rows (dset, first, count, &fspace, &mspace) == 0)
        rc = write ? H5Dwrite (dset, memtype, mspace, fspace, H5P_DEFAULT, buf)
                   : H5Dread (dset, memtype, mspace, fspace, H5P_DEFAULT, buf);
    H5Sclose (fspace);
    if (mspace >= 0)
        H5Sclose (mspace);
    if (rc < 0)
        return h5io_errorf (err, "cannot %s rows %llu-%llu of %s",
                            write ? "write" : "read",
                            (unsigned long long)first,
                            (unsigned long long)(first + count - 1),
                            obj_name (dset, name, sizeof (name)));
    return 0;
}

int h5io_write_rows (hid_t dset, hid_t memtype, hsize_t first, hsize_t count,
                     const void *buf, h5io_error_t *err)
{
    return transfer_rows (dset, memtype, first, count, (void *)buf, 1, err);
}

int h5io_read_rows (hid_t dset, hid_t memtype, hsize_t first, hsize_t count,
                    void *buf, h5io_error_t *err)
{
    return transfer_rows (dset, memtype, first, count, buf, 0, err);
}

/* Write a scalar attribute of file type ftype from memory type mtype. */
static int attr_put (hid_t obj, const char *name, hid_t ftype, hid_t mtype,
                     const void *value, h5io_error_t *err)
{
    hid_t space = H5Screate (H5S_SCALAR);
    hid_t attr = H5Acreate2 (obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = attr < 0 ? -1 : H5Awrite (attr, mtype, value);
    char buf[400];

    if (attr >= 0)
        H5Aclose (attr);
    H5Sclose (space);
    if (rc < 0)
        return h5io_errorf (err, "cannot write attribute %s of %s", name,
                            obj_name (obj, buf, sizeof (buf)));
    return 0;
}

int h5io_attr_write (hid_t obj, const char *name, hid_t memtype,
                     const void *value, h5io_error_t *err)
{
    return attr_put (obj, name, memtype, memtype, value, err);
}

int h5io_attr_string (hid_t obj, const char *name, const char *value,
                      h5io_error_t *err)
{
    hid_t type = H5Tcopy (H5T_C_S1);
    int rc;

    H5Tset_size (type, strlen (value) + 1);
    H5Tset_strpad (type, H5T_STR_NULLTERM);
    rc = attr_put (obj, name, type, type, value, err);
    H5Tclose (type);
    return rc;
}
