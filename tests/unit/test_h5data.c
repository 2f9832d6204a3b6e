/* test_h5data.c - HDF5 data files: describe, checksums, whole and shard
 * copies (rows, raw chunk bytes, filters, attributes, links), provenance
 * attributes, errors; and the catalog's names and references */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <hdf5.h>

#include "catalog.h"
#include "h5data.h"

enum { COLS = 4, XCHUNK = 16 };

static char dir[64];

static const char *tmp (const char *name)
{
    static char paths[64][128];
    static int next;
    char *p = paths[next++ % 64];

    snprintf (p, sizeof (paths[0]), "%s/%s", dir, name);
    return p;
}

static bool exists (const char *path)
{
    struct stat st;

    return stat (path, &st) == 0;
}

/* --- building test files ------------------------------------------------- */

static hid_t dcpl_chunked (int rank, const hsize_t *chunk, int deflate)
{
    hid_t dcpl = H5Pcreate (H5P_DATASET_CREATE);

    assert_true (dcpl >= 0);
    assert_true (H5Pset_chunk (dcpl, rank, chunk) >= 0);
    if (deflate > 0)
        assert_true (H5Pset_deflate (dcpl, (unsigned)deflate) >= 0);
    return dcpl;
}

static void write_dset (hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                        int rank, const hsize_t *dims, hid_t dcpl,
                        const void *data)
{
    hid_t s = H5Screate_simple (rank, dims, NULL);
    hid_t d = H5Dcreate2 (loc, name, ftype, s, H5P_DEFAULT,
                          dcpl >= 0 ? dcpl : H5P_DEFAULT, H5P_DEFAULT);

    assert_true (d >= 0);
    assert_true (H5Dwrite (d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose (d);
    H5Sclose (s);
}

static void write_attr_int (hid_t loc, const char *name, int64_t v)
{
    hid_t s = H5Screate (H5S_SCALAR);
    hid_t a = H5Acreate2 (loc, name, H5T_STD_I64LE, s, H5P_DEFAULT,
                          H5P_DEFAULT);

    assert_true (a >= 0);
    assert_true (H5Awrite (a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose (a);
    H5Sclose (s);
}

static void write_attr_str (hid_t loc, const char *name, const char *v)
{
    hid_t s = H5Screate (H5S_SCALAR), t = H5Tcopy (H5T_C_S1), a;

    H5Tset_size (t, strlen (v));
    a = H5Acreate2 (loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (a >= 0);
    assert_true (H5Awrite (a, t, v) >= 0);
    H5Aclose (a);
    H5Tclose (t);
    H5Sclose (s);
}

/* The value of X[i][j], y[i], ids[i], Z[i][j]: distinct everywhere. */
static float xval (uint64_t i, int j) { return (float)(i * COLS + j) + 0.5f; }
static int32_t yval (uint64_t i) { return (int32_t)(i * 7 % 10); }
static int64_t idval (uint64_t i) { return 1000000 + (int64_t)i; }
static double zval (uint64_t i, int j) { return (double)i * 10 + j; }

/* A data file of n rows:
 *   /X        float32 n x 4, chunks 16 x 4, deflate(4) (attribute units)
 *   /y        int32 n, chunks ychunk (0: contiguous)
 *   /Z        float64 n x 2, contiguous
 *   /classes  int32 [3] (not sharded)
 *   /meta/ids int64 n, chunks 16 (chunked_x) or contiguous
 *   /meta/note scalar string
 *   /alias -> /X (soft link)
 *   root attributes description (string), classes (3), scale (0.25) */
static void make_data (const char *path, uint64_t n, hsize_t ychunk,
                       bool chunked_x)
{
    hid_t f = H5Fcreate (path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t xdims[2] = { n, COLS }, xchunk[2] = { XCHUNK, COLS };
    hsize_t zdims[2] = { n, 2 }, one = n, three = 3, ids_chunk = XCHUNK;
    float *x = malloc (n * COLS * sizeof (*x) + 1);
    int32_t *y = malloc (n * sizeof (*y) + 1), classes[3] = { 0, 1, 2 };
    int64_t *ids = malloc (n * sizeof (*ids) + 1);
    double *z = malloc (n * 2 * sizeof (*z) + 1), scale = 0.25;
    hid_t dcpl, g, s, a, t, d;
    uint64_t i;
    int j;

    assert_true (f >= 0);
    assert_non_null (x);
    assert_non_null (y);
    assert_non_null (ids);
    assert_non_null (z);
    for (i = 0; i < n; i++) {
        for (j = 0; j < COLS; j++)
            x[i * COLS + j] = xval (i, j);
        y[i] = yval (i);
        ids[i] = idval (i);
        z[2 * i] = zval (i, 0);
        z[2 * i + 1] = zval (i, 1);
    }
    dcpl = chunked_x ? dcpl_chunked (2, xchunk, 4) : -1;
    write_dset (f, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, xdims, dcpl, x);
    if (dcpl >= 0)
        H5Pclose (dcpl);
    d = H5Dopen2 (f, "X", H5P_DEFAULT);
    write_attr_str (d, "units", "cm");
    H5Dclose (d);
    dcpl = ychunk ? dcpl_chunked (1, &ychunk, 0) : -1;
    write_dset (f, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &one, dcpl, y);
    if (dcpl >= 0)
        H5Pclose (dcpl);
    write_dset (f, "Z", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, zdims, -1, z);
    write_dset (f, "classes", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &three, -1,
                classes);
    assert_true ((g = H5Gcreate2 (f, "meta", H5P_DEFAULT, H5P_DEFAULT,
                                  H5P_DEFAULT)) >= 0);
    dcpl = chunked_x ? dcpl_chunked (1, &ids_chunk, 0) : -1;
    write_dset (g, "ids", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &one, dcpl, ids);
    if (dcpl >= 0)
        H5Pclose (dcpl);
    s = H5Screate (H5S_SCALAR);
    t = H5Tcopy (H5T_C_S1);
    H5Tset_size (t, 5);
    d = H5Dcreate2 (g, "note", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (H5Dwrite (d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, "hello") >= 0);
    H5Dclose (d);
    H5Tclose (t);
    H5Gclose (g);
    assert_true (H5Lcreate_soft ("/X", f, "alias", H5P_DEFAULT, H5P_DEFAULT)
                 >= 0);
    write_attr_str (f, "description", "test data");
    write_attr_int (f, "classes", 3);
    a = H5Acreate2 (f, "scale", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (H5Awrite (a, H5T_NATIVE_DOUBLE, &scale) >= 0);
    H5Aclose (a);
    H5Sclose (s);
    assert_true (H5Fclose (f) >= 0);
    free (x);
    free (y);
    free (ids);
    free (z);
}

static void write_bytes (const char *path, const void *buf, size_t n)
{
    FILE *f = fopen (path, "w");

    assert_non_null (f);
    assert_int_equal (fwrite (buf, 1, n, f), n);
    assert_int_equal (fclose (f), 0);
}

static void *read_bytes (const char *path, size_t *n)
{
    FILE *f = fopen (path, "r");
    struct stat st;
    char *buf;

    assert_non_null (f);
    assert_int_equal (fstat (fileno (f), &st), 0);
    buf = malloc ((size_t)st.st_size + 1);
    assert_non_null (buf);
    assert_int_equal (fread (buf, 1, (size_t)st.st_size, f), st.st_size);
    fclose (f);
    *n = (size_t)st.st_size;
    return buf;
}

/* --- reading back -------------------------------------------------------- */

static int64_t read_attr_int (hid_t loc, const char *name)
{
    hid_t a = H5Aopen (loc, name, H5P_DEFAULT);
    int64_t v = -1;

    assert_true (a >= 0);
    assert_true (H5Aread (a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose (a);
    return v;
}

static hsize_t dset_rows (hid_t f, const char *name, int *rank)
{
    hid_t d = H5Dopen2 (f, name, H5P_DEFAULT), s;
    hsize_t dims[H5S_MAX_RANK];

    assert_true (d >= 0);
    s = H5Dget_space (d);
    *rank = H5Sget_simple_extent_dims (s, dims, NULL);
    H5Sclose (s);
    H5Dclose (d);
    return dims[0];
}

static void read_all (hid_t f, const char *name, hid_t mtype, void *buf)
{
    hid_t d = H5Dopen2 (f, name, H5P_DEFAULT);

    assert_true (d >= 0);
    assert_true (H5Dread (d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose (d);
}

/* The shard's X rows equal the source's rows [off, off + rows). */
static void check_rows (hid_t f, uint64_t off, uint64_t rows)
{
    float *x = malloc (rows * COLS * sizeof (*x) + 1);
    int32_t *y = malloc (rows * sizeof (*y) + 1);
    int64_t *ids = malloc (rows * sizeof (*ids) + 1);
    double *z = malloc (rows * 2 * sizeof (*z) + 1);
    uint64_t i;
    int j, rank;

    assert_int_equal (dset_rows (f, "X", &rank), rows);
    assert_int_equal (rank, 2);
    assert_int_equal (dset_rows (f, "y", &rank), rows);
    assert_int_equal (dset_rows (f, "Z", &rank), rows);
    assert_int_equal (dset_rows (f, "meta/ids", &rank), rows);
    if (rows > 0) {
        read_all (f, "X", H5T_NATIVE_FLOAT, x);
        read_all (f, "y", H5T_NATIVE_INT32, y);
        read_all (f, "Z", H5T_NATIVE_DOUBLE, z);
        read_all (f, "meta/ids", H5T_NATIVE_INT64, ids);
    }
    for (i = 0; i < rows; i++) {
        for (j = 0; j < COLS; j++)
            assert_true (x[i * COLS + j] == xval (off + i, j));
        assert_int_equal (y[i], yval (off + i));
        assert_int_equal (ids[i], idval (off + i));
        assert_true (z[2 * i] == zval (off + i, 0));
        assert_true (z[2 * i + 1] == zval (off + i, 1));
    }
    free (x);
    free (y);
    free (ids);
    free (z);
}

/* The chunk of sd at so and the chunk of dd at doff: the same raw bytes
 * and filter mask. */
static void check_same_chunk (hid_t sd, const hsize_t *so, hid_t dd,
                              const hsize_t *doff)
{
    hsize_t ss = 0, ds = 0;
    uint32_t sm = 9, dm = 9;
    char sb[8192], db[8192];

    assert_true (H5Dget_chunk_storage_size (sd, so, &ss) >= 0);
    assert_true (H5Dget_chunk_storage_size (dd, doff, &ds) >= 0);
    assert_int_equal (ss, ds);
    assert_true (ss > 0 && ss <= sizeof (sb));
    assert_true (H5Dread_chunk (sd, H5P_DEFAULT, so, &sm, sb) >= 0);
    assert_true (H5Dread_chunk (dd, H5P_DEFAULT, doff, &dm, db) >= 0);
    assert_int_equal (sm, dm);
    assert_memory_equal (sb, db, ss);
}

/* Every chunk of the shard's X is the source's chunk, byte for byte. */
static void check_raw_chunks (hid_t sf, hid_t df, uint64_t off, uint64_t rows)
{
    hid_t sd = H5Dopen2 (sf, "X", H5P_DEFAULT), dd = H5Dopen2 (df, "X", H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist (dd);
    hsize_t chunk[2], so[2] = { 0, 0 }, doff[2] = { 0, 0 };
    unsigned flags, cd[4], config;
    size_t ncd = 4;
    char name[32];

    assert_int_equal (H5Pget_chunk (dcpl, 2, chunk), 2);
    assert_int_equal (chunk[0], XCHUNK);
    assert_int_equal (chunk[1], COLS);
    assert_int_equal (H5Pget_nfilters (dcpl), 1);
    assert_int_equal (H5Pget_filter2 (dcpl, 0, &flags, &ncd, cd, sizeof (name),
                                      name, &config), H5Z_FILTER_DEFLATE);
    assert_int_equal (cd[0], 4);
    for (doff[0] = 0; doff[0] < rows; doff[0] += XCHUNK) {
        so[0] = off + doff[0];
        check_same_chunk (sd, so, dd, doff);
    }
    H5Pclose (dcpl);
    H5Dclose (dd);
    H5Dclose (sd);
}

static void check_whole_parts (hid_t f)
{
    int32_t classes[3] = { -1, -1, -1 };
    double scale = 0;
    char note[6] = "", units[3] = "";
    hid_t a, t, d;

    read_all (f, "classes", H5T_NATIVE_INT32, classes);
    assert_int_equal (classes[0], 0);
    assert_int_equal (classes[2], 2);
    t = H5Tcopy (H5T_C_S1);
    H5Tset_size (t, 5);
    read_all (f, "meta/note", t, note);
    assert_memory_equal (note, "hello", 5);
    H5Tclose (t);
    assert_int_equal (read_attr_int (f, "classes"), 3);
    a = H5Aopen (f, "scale", H5P_DEFAULT);
    assert_true (H5Aread (a, H5T_NATIVE_DOUBLE, &scale) >= 0);
    H5Aclose (a);
    assert_true (scale == 0.25);
    assert_true (H5Aexists (f, "description") > 0);
    d = H5Dopen2 (f, "X", H5P_DEFAULT);
    a = H5Aopen (d, "units", H5P_DEFAULT);
    t = H5Aget_type (a);
    assert_true (H5Aread (a, t, units) >= 0);
    assert_memory_equal (units, "cm", 2);
    H5Tclose (t);
    H5Aclose (a);
    H5Dclose (d);
    assert_int_equal (H5Lexists (f, "alias", H5P_DEFAULT), 1);
    assert_true ((d = H5Dopen2 (f, "alias", H5P_DEFAULT)) >= 0);
    H5Dclose (d);
}

/* --- tests: shard rows --------------------------------------------------- */

static void expect_rows (const char *path, int index, int count,
                         uint64_t first, uint64_t rows, uint64_t n)
{
    aios_error_t err = { "" };
    uint64_t f = 99, r = 99, nn = 99;

    if (h5data_shard_rows (path, index, count, &f, &r, &nn, &err) < 0)
        fail_msg ("%s", err.text);
    assert_int_equal (f, first);
    assert_int_equal (r, rows);
    assert_int_equal (nn, n);
}

static void test_shard_rows (void **state)
{
    const char *a = tmp ("rows100.h5"), *b = tmp ("rows100-24.h5");
    const char *c = tmp ("rows1000.h5"), *d = tmp ("rows10-contig.h5");

    make_data (a, 100, XCHUNK, true);
    expect_rows (a, 0, 1, 0, 100, 100);
    expect_rows (a, 0, 3, 0, 32, 100);    /* 33 -> 32 */
    expect_rows (a, 1, 3, 32, 32, 100);   /* 66 -> 64 */
    expect_rows (a, 2, 3, 64, 36, 100);
    expect_rows (a, 0, 4, 0, 32, 100);    /* 25 -> 32 */
    expect_rows (a, 1, 4, 32, 16, 100);   /* 50 -> 48 */
    expect_rows (a, 2, 4, 48, 32, 100);   /* 75 -> 80 */
    expect_rows (a, 3, 4, 80, 20, 100);
    /* y chunked by 24 and X by 16: boundaries are multiples of 48 */
    make_data (b, 100, 24, true);
    expect_rows (b, 0, 3, 0, 48, 100);
    expect_rows (b, 1, 3, 48, 0, 100);
    expect_rows (b, 2, 3, 48, 52, 100);
    expect_rows (b, 0, 2, 0, 48, 100);
    expect_rows (b, 1, 2, 48, 52, 100);
    make_data (c, 1000, 8, true);
    expect_rows (c, 0, 7, 0, 144, 1000);  /* 142 -> 144 */
    expect_rows (c, 3, 7, 432, 144, 1000);
    expect_rows (c, 6, 7, 864, 136, 1000);
    /* fewer rows than shards */
    expect_rows (a, 0, 200, 0, 0, 100);
    expect_rows (a, 199, 200, 96, 4, 100);
    /* nothing chunked: exactly i*n/N */
    make_data (d, 10, 0, false);
    expect_rows (d, 0, 3, 0, 3, 10);
    expect_rows (d, 1, 3, 3, 3, 10);
    expect_rows (d, 2, 3, 6, 4, 10);
}

static void test_shard_rows_errors (void **state)
{
    aios_error_t err = { "" };
    const char *a = tmp ("rows100.h5"), *s = tmp ("scalar.h5");
    uint64_t f, r, n;
    hid_t h, sp, d;
    int v = 1;

    make_data (a, 100, XCHUNK, true);
    errno = 0;
    assert_int_equal (h5data_shard_rows (a, 3, 3, &f, &r, &n, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_non_null (strstr (err.text, "shard 3 of 3: expected 0 <= index < count"));
    assert_int_equal (h5data_shard_rows (a, 0, 0, &f, &r, &n, &err), -1);
    assert_int_equal (h5data_shard_rows (a, -1, 2, &f, &r, &n, &err), -1);
    assert_int_equal (h5data_shard_rows (NULL, 0, 1, &f, &r, &n, &err), -1);
    assert_int_equal (h5data_shard_rows (tmp ("none.h5"), 0, 1, &f, &r, &n,
                                         &err), -1);
    assert_int_equal (errno, ENOENT);
    h = H5Fcreate (s, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sp = H5Screate (H5S_SCALAR);
    d = H5Dcreate2 (h, "v", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                    H5P_DEFAULT);
    H5Dwrite (d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    H5Dclose (d);
    H5Sclose (sp);
    H5Fclose (h);
    assert_int_equal (h5data_shard_rows (s, 0, 1, &f, &r, &n, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_non_null (strstr (err.text, "scalar.h5: no dataset of rank 1 or "
                                       "more to shard"));
}

/* --- tests: copies ------------------------------------------------------- */

struct calls {
    int n;
    uint64_t last_done, last_total;
    int stop_at;  /* return 1 on this call (0: never) */
};

static int progress_cb (uint64_t done, uint64_t total, void *arg)
{
    struct calls *c = arg;

    assert_true (done <= total);
    assert_true (done >= c->last_done);
    c->n++;
    c->last_done = done;
    c->last_total = total;
    return c->stop_at && c->n >= c->stop_at;
}

static void test_shard_copy (void **state)
{
    const char *src = tmp ("shard-src.h5");
    uint64_t offs[3] = { 0, 32, 64 }, rows[3] = { 32, 32, 36 };
    aios_error_t err = { "" };
    int i;

    make_data (src, 100, XCHUNK, true);
    for (i = 0; i < 3; i++) {
        char dst[128], hex[65] = "", hex2[65];
        struct calls calls = { 0 };
        uint64_t bytes = 0;
        struct stat st;
        hid_t sf, df;

        snprintf (dst, sizeof (dst), "%s/shard%d.h5", dir, i);
        if (h5data_copy (src, dst, i, 3, hex, progress_cb, &calls, &bytes,
                         &err) < 0)
            fail_msg ("%s", err.text);
        assert_int_equal (stat (dst, &st), 0);
        assert_int_equal (bytes, st.st_size);
        assert_true (calls.n >= 1);
        assert_int_equal (calls.last_done, calls.last_total);
        assert_int_equal (h5data_sha256 (dst, hex2, NULL, NULL, &err), 0);
        assert_string_equal (hex, hex2);
        assert_false (exists (tmp ("shard0.h5.part")));
        sf = H5Fopen (src, H5F_ACC_RDONLY, H5P_DEFAULT);
        df = H5Fopen (dst, H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true (sf >= 0 && df >= 0);
        check_rows (df, offs[i], rows[i]);
        check_raw_chunks (sf, df, offs[i], rows[i]);
        check_whole_parts (df);
        assert_int_equal (read_attr_int (df, "shard_index"), i);
        assert_int_equal (read_attr_int (df, "shard_count"), 3);
        assert_int_equal (read_attr_int (df, "shard_offset"), offs[i]);
        assert_int_equal (read_attr_int (df, "shard_rows"), rows[i]);
        H5Fclose (df);
        H5Fclose (sf);
    }
}

/* A shard of a shard replaces the shard attributes; an empty shard is a
 * valid file with zero rows. */
static void test_shard_of_shard (void **state)
{
    const char *src = tmp ("sos-src.h5"), *s1 = tmp ("sos-1.h5");
    const char *s2 = tmp ("sos-2.h5"), *e = tmp ("sos-empty.h5");
    aios_error_t err = { "" };
    hid_t f;

    make_data (src, 100, XCHUNK, true);
    if (h5data_copy (src, s1, 2, 3, NULL, NULL, NULL, NULL, &err) < 0
        || h5data_copy (s1, s2, 1, 2, NULL, NULL, NULL, NULL, &err) < 0
        || h5data_copy (src, e, 0, 200, NULL, NULL, NULL, NULL, &err) < 0)
        fail_msg ("%s", err.text);
    f = H5Fopen (s2, H5F_ACC_RDONLY, H5P_DEFAULT);
    /* s1 holds rows 64..99 (36); half of it rounds 18 -> 16 */
    check_rows (f, 64 + 16, 20);
    assert_int_equal (read_attr_int (f, "shard_index"), 1);
    assert_int_equal (read_attr_int (f, "shard_count"), 2);
    assert_int_equal (read_attr_int (f, "shard_offset"), 16);
    H5Fclose (f);
    f = H5Fopen (e, H5F_ACC_RDONLY, H5P_DEFAULT);
    check_rows (f, 0, 0);
    check_whole_parts (f);
    H5Fclose (f);
}

/* A source with a user block and chunks never written: the shard has the
 * same rows (fill values where the source has no chunk), allocates no
 * chunk the source lacks, and has the source's raw bytes in the rest.
 * From the same file system copy_file_range() copies the chunks; from
 * tmpfs (/dev/shm) it cannot (EXDEV), and the driver writes them from its
 * mapping of the source instead. */
static void make_sparse (const char *path)
{
    hid_t fcpl = H5Pcreate (H5P_FILE_CREATE), f, s, d, dcpl, ms;
    hsize_t dims[2] = { 100, COLS }, chunk[2] = { XCHUNK, COLS };
    hsize_t start[2] = { 0, 0 }, count[2] = { XCHUNK, COLS };
    float x[XCHUNK * COLS];
    uint64_t first[2] = { 0, 48 };
    int i, j, k;

    assert_true (H5Pset_userblock (fcpl, 512) >= 0);
    assert_true ((f = H5Fcreate (path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT))
                 >= 0);
    dcpl = dcpl_chunked (2, chunk, 4);
    s = H5Screate_simple (2, dims, NULL);
    assert_true ((d = H5Dcreate2 (f, "X", H5T_IEEE_F32LE, s, H5P_DEFAULT,
                                  dcpl, H5P_DEFAULT)) >= 0);
    ms = H5Screate_simple (2, count, NULL);
    for (k = 0; k < 2; k++) {
        for (i = 0; i < XCHUNK; i++)
            for (j = 0; j < COLS; j++)
                x[i * COLS + j] = xval (first[k] + (uint64_t)i, j);
        start[0] = first[k];
        assert_true (H5Sselect_hyperslab (s, H5S_SELECT_SET, start, NULL,
                                          count, NULL) >= 0);
        assert_true (H5Dwrite (d, H5T_NATIVE_FLOAT, ms, s, H5P_DEFAULT, x)
                     >= 0);
    }
    H5Sclose (ms);
    H5Sclose (s);
    H5Dclose (d);
    H5Pclose (dcpl);
    H5Pclose (fcpl);
    assert_true (H5Fclose (f) >= 0);
}

static void check_sparse_shard (const char *src, const char *dst)
{
    aios_error_t err = { "" };
    float x[32 * COLS];
    hsize_t doff[2] = { 0, 0 }, soff[2] = { 48, 0 }, ub = 0, ds;
    unsigned mask = 9;
    haddr_t addr = 0;
    hid_t sf, df, sd, dd, fcpl;
    int i, j;

    /* 3 shards of 100 rows in chunks of 16: shard 1 is rows 32..63 */
    if (h5data_copy (src, dst, 1, 3, NULL, NULL, NULL, NULL, &err) < 0)
        fail_msg ("%s", err.text);
    assert_true ((df = H5Fopen (dst, H5F_ACC_RDONLY, H5P_DEFAULT)) >= 0);
    assert_true ((sf = H5Fopen (src, H5F_ACC_RDONLY, H5P_DEFAULT)) >= 0);
    fcpl = H5Fget_create_plist (df);
    assert_true (H5Pget_userblock (fcpl, &ub) >= 0);
    assert_int_equal (ub, 512);
    H5Pclose (fcpl);
    read_all (df, "X", H5T_NATIVE_FLOAT, x);
    for (i = 0; i < 32; i++)
        for (j = 0; j < COLS; j++)
            assert_true (x[i * COLS + j] == (i < 16 ? 0.0f
                                             : xval (32 + (uint64_t)i, j)));
    dd = H5Dopen2 (df, "X", H5P_DEFAULT);
    sd = H5Dopen2 (sf, "X", H5P_DEFAULT);
    /* rows 32..47 have no chunk in the source: none in the shard */
    assert_true (H5Dget_chunk_info_by_coord (dd, doff, &mask, &addr, &ds)
                 >= 0);
    assert_true (addr == HADDR_UNDEF);
    /* rows 48..63: the source's bytes */
    doff[0] = 16;
    check_same_chunk (sd, soff, dd, doff);
    H5Dclose (sd);
    H5Dclose (dd);
    H5Fclose (df);
    H5Fclose (sf);
}

/* Can copy_file_range() copy from src to a new file at dst? */
static bool kernel_copies (const char *src, const char *dst)
{
    int in = open (src, O_RDONLY), out = open (dst, O_WRONLY | O_CREAT, 0600);
    bool ok = in >= 0 && out >= 0
              && copy_file_range (in, NULL, out, NULL, 1, 0) == 1;

    if (in >= 0)
        close (in);
    if (out >= 0)
        close (out);
    unlink (dst);
    return ok;
}

static void test_shard_sparse (void **state)
{
    const char *src = tmp ("sparse.h5"), *dst = tmp ("sparse-1.h5");
    char shm[] = "/dev/shm/test_h5data.XXXXXX", shm_src[64];
    const char *dst2 = tmp ("sparse-2.h5");

    make_sparse (src);
    check_sparse_shard (src, dst);
    if (!mkdtemp (shm)) {
        print_message ("no /dev/shm: the copy without copy_file_range() "
                       "is not tested\n");
        return;
    }
    snprintf (shm_src, sizeof (shm_src), "%s/sparse.h5", shm);
    make_sparse (shm_src);
    print_message ("from tmpfs the kernel %s\n", kernel_copies (shm_src, dst2)
                   ? "copies too: the mapping fallback is not taken"
                   : "refuses (EXDEV): the shard is written from the mapping");
    check_sparse_shard (shm_src, dst2);
    unlink (shm_src);
    rmdir (shm);
}

/* Nothing chunked: hyperslab copies of contiguous datasets. */
static void test_shard_contiguous (void **state)
{
    const char *src = tmp ("contig.h5"), *dst = tmp ("contig-1.h5");
    aios_error_t err = { "" };
    hid_t f, d, dcpl;

    make_data (src, 10, 0, false);
    if (h5data_copy (src, dst, 1, 3, NULL, NULL, NULL, NULL, &err) < 0)
        fail_msg ("%s", err.text);
    f = H5Fopen (dst, H5F_ACC_RDONLY, H5P_DEFAULT);
    check_rows (f, 3, 3);
    d = H5Dopen2 (f, "X", H5P_DEFAULT);
    dcpl = H5Dget_create_plist (d);
    assert_int_equal (H5Pget_layout (dcpl), H5D_CONTIGUOUS);
    H5Pclose (dcpl);
    H5Dclose (d);
    H5Fclose (f);
}

static void test_whole_copy (void **state)
{
    const char *src = tmp ("whole-src.h5"), *dst = tmp ("whole-dst.h5");
    char hex[65] = "", hex2[65] = "";
    aios_error_t err = { "" };
    struct calls calls = { 0 };
    uint64_t bytes = 0;
    size_t n1, n2;
    char *a, *b;

    make_data (src, 1000, XCHUNK, true);
    if (h5data_copy (src, dst, 0, 0, hex, progress_cb, &calls, &bytes, &err)
        < 0)
        fail_msg ("%s", err.text);
    a = read_bytes (src, &n1);
    b = read_bytes (dst, &n2);
    assert_int_equal (n1, n2);
    assert_int_equal (bytes, n1);
    assert_memory_equal (a, b, n1);
    free (a);
    free (b);
    assert_int_equal (calls.last_done, n1);
    assert_int_equal (calls.last_total, n1);
    assert_int_equal (h5data_sha256 (src, hex2, NULL, NULL, &err), 0);
    assert_string_equal (hex, hex2);
    assert_false (exists (tmp ("whole-dst.h5.part")));
    /* without a checksum (copy_file_range) */
    assert_int_equal (h5data_copy (src, dst, 0, 0, NULL, NULL, NULL, NULL,
                                   &err), 0);
    assert_int_equal (h5data_sha256 (dst, hex, NULL, NULL, &err), 0);
    assert_string_equal (hex, hex2);
}

/* Digests checked with sha256sum(1). */
static void test_sha256_known (void **state)
{
    const char *abc = tmp ("abc"), *pat = tmp ("pattern"), *cp = tmp ("pat2");
    size_t n = 10 * 1024 * 1024 + 7, i;
    unsigned char *buf = malloc (n);
    aios_error_t err = { "" };
    struct calls calls = { 0 };
    char hex[65];

    write_bytes (abc, "abc", 3);
    assert_int_equal (h5data_sha256 (abc, hex, NULL, NULL, &err), 0);
    assert_string_equal (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    write_bytes (tmp ("empty"), "", 0);
    assert_int_equal (h5data_sha256 (tmp ("empty"), hex, NULL, NULL, &err), 0);
    assert_string_equal (hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_non_null (buf);
    for (i = 0; i < n; i++)
        buf[i] = (unsigned char)(i % 251);
    write_bytes (pat, buf, n);
    free (buf);
    assert_int_equal (h5data_sha256 (pat, hex, progress_cb, &calls, &err), 0);
    assert_string_equal (hex, "91762e25d28397b4ddeae16a2d6570d7ddbe403c2b8be7eb6d72ba847ecdeffe");
    assert_int_equal (calls.last_done, n);
    /* a whole copy is a byte copy of any file, hashed on the way */
    assert_int_equal (h5data_copy (pat, cp, 0, 0, hex, NULL, NULL, NULL, &err), 0);
    assert_string_equal (hex, "91762e25d28397b4ddeae16a2d6570d7ddbe403c2b8be7eb6d72ba847ecdeffe");
}

/* A write that fails (the file size limit here, as a full disk would)
 * fails a shard copy with the system's reason, in a child with the limit
 * set, and leaves no file behind. */
static void test_copy_write_error (void **state)
{
    const char *src = tmp ("big-src.h5"), *dst = tmp ("big-dst.h5");
    const char *part = tmp ("big-dst.h5.part");
    char text[sizeof (((aios_error_t *)0)->text)] = "";
    int fds[2], status;
    pid_t pid;

    make_data (src, 20000, XCHUNK, true);
    assert_int_equal (pipe (fds), 0);
    assert_true ((pid = fork ()) >= 0);
    if (pid == 0) {
        struct rlimit rl = { 64 << 10, 64 << 10 };
        aios_error_t err = { "" };
        int rc;

        close (fds[0]);
        signal (SIGXFSZ, SIG_IGN);
        setrlimit (RLIMIT_FSIZE, &rl);
        rc = h5data_copy (src, dst, 0, 2, NULL, NULL, NULL, NULL, &err);
        if (write (fds[1], err.text, strlen (err.text)) < 0)
            _exit (3);
        _exit (rc < 0 ? 0 : 1);
    }
    close (fds[1]);
    assert_true (read (fds[0], text, sizeof (text) - 1) > 0);
    close (fds[0]);
    assert_int_equal (waitpid (pid, &status, 0), pid);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0
        || !strstr (text, "File too large"))
        fail_msg ("status %d: %s", status, text);
    assert_non_null (strstr (text, part));
    assert_false (exists (dst) || exists (part));
}

/* Block checksums: each block's SHA-256; a checked shard copy checks the
 * blocks it reads (block 0 with the superblock among them, not all of
 * them), fails naming the block when one differs, and keeps no copy. */
static void test_block_check (void **state)
{
    const char *src = tmp ("blocks.h5"), *dst = tmp ("blocks-0.h5");
    const char *first = tmp ("blocks-first");
    const char *part = tmp ("blocks-0.h5.part");
    struct h5data_blocks b;
    aios_error_t err = { "" };
    char hex[65], saved[65], want[128], whole[65];
    size_t i, n, nfail = 0, other = 0;
    char *bytes;
    hid_t f;

    make_data (src, 20000, XCHUNK, true);
    if (h5data_block_sums (src, 64 << 10, &b, whole, NULL, NULL, &err) < 0)
        fail_msg ("%s", err.text);
    assert_int_equal (h5data_sha256 (src, hex, NULL, NULL, &err), 0);
    assert_string_equal (whole, hex);      /* the same pass, the same sum */
    bytes = read_bytes (src, &n);
    assert_int_equal (b.size, 64 << 10);
    assert_int_equal (b.n, (n + (64 << 10) - 1) / (64 << 10));
    assert_true (b.n > 4);
    write_bytes (first, bytes, 64 << 10);
    assert_int_equal (h5data_sha256 (first, hex, NULL, NULL, &err), 0);
    h5data_hex_digest (b.sha256[0], saved);
    assert_string_equal (hex, saved);
    assert_int_equal (h5data_block_check (src, &b, NULL, &err), 0);

    if (h5data_copy_checked (src, dst, 0, 4, &b, NULL, NULL, NULL, &err) < 0)
        fail_msg ("%s", err.text);
    f = H5Fopen (dst, H5F_ACC_RDONLY, H5P_DEFAULT);
    check_rows (f, 0, 5008);     /* 20000 / 4 on the LCM of 16 */
    H5Fclose (f);
    unlink (dst);
    /* which blocks shard 0 checks: a wrong checksum there fails it */
    for (i = 0; i < b.n; i++) {
        memcpy (saved, b.sha256[i], 32);
        b.sha256[i][7] ^= 1;
        if (h5data_copy_checked (src, dst, 0, 4, &b, NULL, NULL, NULL,
                                 &err) < 0) {
            snprintf (want, sizeof (want), "sha256 mismatch in block %zu ",
                      i);
            if (!strstr (err.text, want))
                fail_msg ("block %zu: %s", i, err.text);
            assert_false (exists (dst) || exists (part));
            nfail++;
            if (i > 0 && !other)
                other = i;
        }
        else
            unlink (dst);
        memcpy (b.sha256[i], saved, 32);
    }
    print_message ("shard 0 of 4 checks %zu of %zu blocks\n", nfail, b.n);
    assert_true (nfail >= 2 && nfail < b.n);
    /* a changed byte in a block the shard reads */
    bytes[other * (64 << 10) + 100] ^= 0xff;
    chmod (src, 0644);
    write_bytes (src, bytes, n);
    assert_int_equal (h5data_copy_checked (src, dst, 0, 4, &b, NULL, NULL,
                                           NULL, &err), -1);
    snprintf (want, sizeof (want), "sha256 mismatch in block %zu ", other);
    if (!strstr (err.text, want))
        fail_msg ("%s", err.text);
    assert_false (exists (dst) || exists (part));
    /* a changed byte that HDF5 trips on first: the checksums say why */
    bytes[other * (64 << 10) + 100] ^= 0xff;
    bytes[0] ^= 0xff;
    write_bytes (src, bytes, n);
    assert_int_equal (h5data_copy_checked (src, dst, 0, 4, &b, NULL, NULL,
                                           NULL, &err), -1);
    if (!strstr (err.text, "sha256 mismatch in block 0 "))
        fail_msg ("%s", err.text);
    assert_false (exists (dst) || exists (part));
    /* the wrong number of blocks */
    b.n--;
    assert_int_equal (h5data_block_check (src, &b, NULL, &err), -1);
    assert_non_null (strstr (err.text, "but the checksums are of"));
    free (bytes);
    free (b.sha256);
}

static void test_copy_errors (void **state)
{
    const char *src = tmp ("err-src.h5"), *txt = tmp ("notes.txt");
    const char *dst = tmp ("err-dst.h5"), *part = tmp ("err-dst.h5.part");
    aios_error_t err = { "" };
    struct calls calls = { .stop_at = 1 };
    char want[256];

    make_data (src, 1000, XCHUNK, true);
    write_bytes (txt, "not hdf5\n", 9);
    /* missing source */
    errno = 0;
    assert_int_equal (h5data_copy (tmp ("missing.h5"), dst, 0, 0, NULL, NULL,
                                   NULL, NULL, &err), -1);
    assert_int_equal (errno, ENOENT);
    snprintf (want, sizeof (want), "%s: No such file or directory",
              tmp ("missing.h5"));
    assert_string_equal (err.text, want);
    assert_int_equal (h5data_copy (tmp ("missing.h5"), dst, 0, 2, NULL, NULL,
                                   NULL, NULL, &err), -1);
    assert_string_equal (err.text, want);
    assert_false (exists (dst) || exists (part));
    /* not HDF5 */
    errno = 0;
    assert_int_equal (h5data_copy (txt, dst, 1, 2, NULL, NULL, NULL, NULL,
                                   &err), -1);
    assert_int_equal (errno, EINVAL);
    snprintf (want, sizeof (want), "%s: not an HDF5 file", txt);
    assert_string_equal (err.text, want);
    assert_false (exists (dst) || exists (part));
    /* cancelled by the callback: whole and shard */
    errno = 0;
    assert_int_equal (h5data_copy (src, dst, 0, 0, NULL, progress_cb, &calls,
                                   NULL, &err), -1);
    assert_int_equal (errno, ECANCELED);
    assert_non_null (strstr (err.text, "copy cancelled"));
    assert_false (exists (dst) || exists (part));
    calls.n = 0;
    calls.last_done = 0;
    assert_int_equal (h5data_copy (src, dst, 0, 0, (char[65]){ 0 },
                                   progress_cb, &calls, NULL, &err), -1);
    assert_false (exists (dst) || exists (part));
    calls.n = 0;
    calls.last_done = 0;
    errno = 0;
    assert_int_equal (h5data_copy (src, dst, 1, 2, NULL, progress_cb, &calls,
                                   NULL, &err), -1);
    assert_int_equal (errno, ECANCELED);
    assert_false (exists (dst) || exists (part));
    /* an unwritable destination */
    assert_int_equal (h5data_copy (src, tmp ("nodir/x.h5"), 0, 2, NULL, NULL,
                                   NULL, NULL, &err), -1);
    assert_non_null (strstr (err.text, "nodir/x.h5.part: cannot create"));
    assert_int_equal (h5data_copy (src, tmp ("nodir/x.h5"), 0, 0, NULL, NULL,
                                   NULL, NULL, &err), -1);
    if (!strstr (err.text, "nodir/x.h5.part: No such file or directory"))
        fail_msg ("%s", err.text);
    /* bad arguments */
    errno = 0;
    assert_int_equal (h5data_copy (NULL, dst, 0, 0, NULL, NULL, NULL, NULL,
                                   &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_int_equal (h5data_copy (src, NULL, 0, 0, NULL, NULL, NULL, NULL,
                                   NULL), -1);
    assert_int_equal (h5data_copy (src, dst, 2, 2, NULL, NULL, NULL, NULL,
                                   &err), -1);
    assert_int_equal (h5data_copy (src, dst, 0, -1, NULL, NULL, NULL, NULL,
                                   &err), -1);
    assert_false (exists (dst) || exists (part));
}

/* --- tests: check, describe, attributes ---------------------------------- */

static void test_check (void **state)
{
    const char *src = tmp ("check.h5"), *txt = tmp ("check.txt");
    aios_error_t err = { "" };
    char want[256];

    make_data (src, 20, XCHUNK, true);
    write_bytes (txt, "hello", 5);
    assert_int_equal (h5data_check (src, &err), 0);
    errno = 0;
    assert_int_equal (h5data_check (txt, &err), -1);
    assert_int_equal (errno, EINVAL);
    snprintf (want, sizeof (want), "%s: not an HDF5 file", txt);
    assert_string_equal (err.text, want);
    assert_int_equal (h5data_check (dir, &err), -1);
    assert_int_equal (errno, EISDIR);
    assert_int_equal (h5data_check (tmp ("gone.h5"), &err), -1);
    assert_int_equal (errno, ENOENT);
    assert_int_equal (h5data_check (NULL, NULL), -1);
    assert_int_equal (errno, EINVAL);
    assert_null (h5data_describe (txt, &err));
    assert_string_equal (err.text, want);
}

static json_t *find_dset (json_t *desc, const char *path)
{
    json_t *d;
    size_t i;

    json_array_foreach (json_object_get (desc, "datasets"), i, d) {
        if (!strcmp (json_string_value (json_object_get (d, "path")), path))
            return d;
    }
    fail_msg ("no dataset %s", path);
    return NULL;
}

static void test_describe (void **state)
{
    const char *src = tmp ("desc.h5");
    aios_error_t err = { "" };
    json_t *o, *x, *attrs;
    struct stat st;

    make_data (src, 100, 8, true);
    if (!(o = h5data_describe (src, &err)))
        fail_msg ("%s", err.text);
    assert_int_equal (stat (src, &st), 0);
    assert_int_equal (json_integer_value (json_object_get (o, "size")),
                      st.st_size);
    assert_int_equal (json_array_size (json_object_get (o, "datasets")), 6);
    x = find_dset (o, "/X");
    assert_string_equal (json_string_value (json_object_get (x, "type")), "float32");
    assert_int_equal (json_integer_value (json_array_get (json_object_get (x, "shape"), 0)), 100);
    assert_int_equal (json_integer_value (json_array_get (json_object_get (x, "shape"), 1)), 4);
    assert_int_equal (json_integer_value (json_array_get (json_object_get (x, "chunks"), 0)), 16);
    assert_string_equal (json_string_value (json_object_get (x, "compression")), "deflate(4)");
    assert_int_equal (json_integer_value (json_object_get (x, "bytes")), 1600);
    assert_true (json_integer_value (json_object_get (x, "storage_bytes")) > 0);
    x = find_dset (o, "/y");
    assert_string_equal (json_string_value (json_object_get (x, "type")), "int32");
    assert_true (json_is_null (json_object_get (x, "compression")));
    x = find_dset (o, "/Z");
    assert_true (json_is_null (json_object_get (x, "chunks")));
    assert_string_equal (json_string_value (json_object_get (x, "type")), "float64");
    x = find_dset (o, "/meta/note");
    assert_string_equal (json_string_value (json_object_get (x, "type")), "string(5)");
    assert_int_equal (json_array_size (json_object_get (x, "shape")), 0);
    attrs = json_object_get (o, "attributes");
    assert_string_equal (json_string_value (json_object_get (attrs, "description")), "test data");
    assert_int_equal (json_integer_value (json_object_get (attrs, "classes")), 3);
    assert_true (json_real_value (json_object_get (attrs, "scale")) == 0.25);
    json_decref (o);
}

static void test_set_attrs (void **state)
{
    const char *src = tmp ("attrs.h5");
    aios_error_t err = { "" };
    json_t *a, *o, *attrs;

    make_data (src, 20, XCHUNK, true);
    a = json_pack ("{s:s s:i s:f s:s}", "aios_job", "42", "epochs", 7,
                   "loss", 0.125, "description", "replaced");
    if (h5data_set_attrs (src, a, &err) < 0)
        fail_msg ("%s", err.text);
    json_decref (a);
    a = json_pack ("{s:i}", "epochs", 8);
    assert_int_equal (h5data_set_attrs (src, a, &err), 0);
    json_decref (a);
    o = h5data_describe (src, &err);
    attrs = json_object_get (o, "attributes");
    assert_string_equal (json_string_value (json_object_get (attrs, "aios_job")), "42");
    assert_int_equal (json_integer_value (json_object_get (attrs, "epochs")), 8);
    assert_true (json_real_value (json_object_get (attrs, "loss")) == 0.125);
    assert_string_equal (json_string_value (json_object_get (attrs, "description")), "replaced");
    assert_int_equal (json_integer_value (json_object_get (attrs, "classes")), 3);
    json_decref (o);
    /* errors: a value of another kind, not an object, not HDF5 */
    a = json_pack ("{s:[i]}", "list", 1);
    errno = 0;
    assert_int_equal (h5data_set_attrs (src, a, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_string_equal (err.text, "attribute \"list\": expected a string, an "
                                   "integer or a real number");
    json_decref (a);
    assert_int_equal (h5data_set_attrs (src, NULL, &err), -1);
    a = json_object ();
    assert_int_equal (h5data_set_attrs (tmp ("no.h5"), a, &err), -1);
    assert_int_equal (errno, ENOENT);
    json_decref (a);
}

/* --- tests: catalog names ------------------------------------------------ */

static void test_catalog_names (void **state)
{
    aios_error_t err = { "" };
    char *name = NULL;
    int v = -1;

    assert_true (catalog_name_ok ("mnist"));
    assert_true (catalog_name_ok ("Data_set-1.v2"));
    assert_true (catalog_name_ok ("0"));
    assert_false (catalog_name_ok (""));
    assert_false (catalog_name_ok (NULL));
    assert_false (catalog_name_ok (".hidden"));
    assert_false (catalog_name_ok ("-x"));
    assert_false (catalog_name_ok ("a/b"));
    assert_false (catalog_name_ok ("a b"));
    assert_false (catalog_name_ok ("a:1"));
    assert_true (catalog_name_ok ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert_false (catalog_name_ok ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert_string_equal (catalog_kind_name (CATALOG_DATASET), "dataset");
    assert_string_equal (catalog_kind_name (CATALOG_MODEL), "model");

    assert_int_equal (catalog_parse_ref ("mnist", &name, &v, &err), 0);
    assert_string_equal (name, "mnist");
    assert_int_equal (v, 0);
    free (name);
    assert_int_equal (catalog_parse_ref ("mnist:12", &name, &v, &err), 0);
    assert_string_equal (name, "mnist");
    assert_int_equal (v, 12);
    free (name);
    assert_int_equal (catalog_parse_ref ("mnist:latest", &name, &v, &err), 0);
    assert_int_equal (v, 0);
    free (name);
    name = NULL;
    errno = 0;
    assert_int_equal (catalog_parse_ref ("mnist:0", &name, &v, &err), -1);
    assert_int_equal (errno, EINVAL);
    assert_null (name);
    assert_string_equal (err.text, "invalid version \"0\" in \"mnist:0\": "
                                   "expected a positive integer or latest");
    assert_int_equal (catalog_parse_ref ("mnist:", &name, &v, &err), -1);
    assert_int_equal (catalog_parse_ref ("mnist:x", &name, &v, &err), -1);
    assert_int_equal (catalog_parse_ref ("mnist:1:2", &name, &v, &err), -1);
    assert_int_equal (catalog_parse_ref ("../etc:1", &name, &v, &err), -1);
    assert_string_equal (err.text, "invalid name \"../etc\": expected letters, "
                                   "digits, '.', '_' and '-', starting with a "
                                   "letter or digit, at most 64 characters");
    assert_int_equal (catalog_parse_ref (NULL, &name, &v, &err), -1);
}

/* --- main ---------------------------------------------------------------- */

static int rm_cb (const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    return remove (path);
}

static int group_setup (void **state)
{
    strcpy (dir, "/tmp/test_h5data.XXXXXX");
    if (!mkdtemp (dir))
        return -1;
    H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
    return 0;
}

static int group_teardown (void **state)
{
    return nftw (dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_shard_rows),
        cmocka_unit_test (test_shard_rows_errors),
        cmocka_unit_test (test_shard_copy),
        cmocka_unit_test (test_shard_of_shard),
        cmocka_unit_test (test_shard_contiguous),
        cmocka_unit_test (test_shard_sparse),
        cmocka_unit_test (test_whole_copy),
        cmocka_unit_test (test_sha256_known),
        cmocka_unit_test (test_copy_errors),
        cmocka_unit_test (test_copy_write_error),
        cmocka_unit_test (test_block_check),
        cmocka_unit_test (test_check),
        cmocka_unit_test (test_describe),
        cmocka_unit_test (test_set_attrs),
        cmocka_unit_test (test_catalog_names),
    };
    int rc = cmocka_run_group_tests (tests, group_setup, group_teardown);

    H5close ();
    return rc;
}
