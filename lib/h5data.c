/* h5data.c - HDF5 files as datasets: describe, checksum, copy (whole or one
 * shard), provenance attributes
 *
 * A whole copy and a checksum are plain POSIX I/O (no HDF5 call).  The rest
 * runs between quiet_begin() and quiet_end(), which stop HDF5 from printing
 * its error stack; a failure becomes err text "FILE: /OBJECT: what failed:
 * REASON", REASON being the innermost message on HDF5's error stack.
 *
 * A shard copy rebuilds the file: groups (with their creation properties
 * and attributes) are recreated, soft and external links recreated, hard
 * links to an object already copied become hard links again, a sharded
 * dataset is created with the source's type and creation properties and
 * its rows copied (chunk by chunk as raw bytes when it is chunked and its
 * type holds no variable-length data, else by hyperslabs), and every other
 * object is copied whole with H5Ocopy().
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>
#include <openssl/evp.h>

#include "h5data.h"

enum {
    IO_BUF = 8 << 20,          /* whole copy and checksum buffer */
    PROGRESS_STEP = 16 << 20,  /* the callback runs at least this often */
    SLAB_BYTES = 16 << 20,     /* one hyperslab read/write */
    ATTR_ARRAY_MAX = 64,       /* longer attribute arrays are summarised */
};

static const char *const shard_attrs[] = {
    "shard_index", "shard_count", "shard_offset", "shard_rows",
};

/* --- errors and HDF5's error stack --------------------------------------- */

struct quiet {
    H5E_auto2_t func;
    void *data;
};

/* Stop HDF5 printing its error stack (restored by quiet_end()). */
static void quiet_begin (struct quiet *q)
{
    if (H5Eget_auto2 (H5E_DEFAULT, &q->func, &q->data) < 0) {
        q->func = NULL;
        q->data = NULL;
    }
    H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
}

static void quiet_end (struct quiet *q)
{
    int saved = errno;

    H5Eclear2 (H5E_DEFAULT);
    H5Eset_auto2 (H5E_DEFAULT, q->func, q->data);
    errno = saved;
}

struct reason {
    char text[160];
};

static herr_t reason_cb (unsigned n, const H5E_error2_t *e, void *arg)
{
    struct reason *r = arg;

    if (r->text[0])
        return 0;
    if (e->desc && *e->desc)
        snprintf (r->text, sizeof (r->text), "%s", e->desc);
    else if (H5Eget_msg (e->min_num, NULL, r->text, sizeof (r->text)) < 0)
        r->text[0] = '\0';
    return 0;
}

/* "PATH: OBJ: WHAT: REASON" (OBJ may be NULL); EIO, clears the stack. */
static int h5fail (aios_error_t *err, const char *path, const char *obj,
                   const char *what)
{
    struct reason r = { "" };

    H5Ewalk2 (H5E_DEFAULT, H5E_WALK_UPWARD, reason_cb, &r);
    H5Eclear2 (H5E_DEFAULT);
    errno = EIO;
    return errprintf (err, "%s: %s%s%s%s%s", path, obj ? obj : "",
                      obj ? ": " : "", what, r.text[0] ? ": " : "", r.text);
}

static int sysfail (aios_error_t *err, const char *path)
{
    return errprintf (err, "%s: %s", path, strerror (errno));
}

static int nomem (aios_error_t *err)
{
    errno = ENOMEM;
    return errprintf (err, "out of memory");
}

/* Close any HDF5 object id (negative ids are ignored); keeps errno. */
static void id_close (hid_t id)
{
    int saved = errno;

    if (id >= 0)
        H5Idec_ref (id);
    errno = saved;
}

/* File access without HDF5's file locks: the files read are immutable and
 * the files written private until renamed, and flock() fails on some
 * shared file systems (NFS without lockd). */
static hid_t fapl_nolock (void)
{
    hid_t fapl = H5Pcreate (H5P_FILE_ACCESS);

    if (fapl >= 0 && H5Pset_file_locking (fapl, false, true) < 0) {
        H5Pclose (fapl);
        return -1;
    }
    return fapl;
}

/* Open path (flags H5F_ACC_RDONLY or H5F_ACC_RDWR) after checking that it
 * exists, can be opened so, and is HDF5. */
static hid_t file_open (const char *path, unsigned flags, aios_error_t *err)
{
    struct stat st;
    htri_t is;
    hid_t f, fapl;

    if (stat (path, &st) < 0)
        return sysfail (err, path);
    if (S_ISDIR (st.st_mode)) {
        errno = EISDIR;
        return sysfail (err, path);
    }
    if (access (path, flags == H5F_ACC_RDWR ? R_OK | W_OK : R_OK) < 0)
        return sysfail (err, path);
    if ((is = H5Fis_hdf5 (path)) <= 0) {
        H5Eclear2 (H5E_DEFAULT);
        errno = EINVAL;
        return errprintf (err, "%s: not an HDF5 file", path);
    }
    if ((fapl = fapl_nolock ()) < 0)
        return h5fail (err, path, NULL, "cannot open");
    f = H5Fopen (path, flags, fapl);
    H5Pclose (fapl);
    if (f < 0)
        return h5fail (err, path, NULL, "cannot open");
    return f;
}

/* --- types --------------------------------------------------------------- */

/* Does an element of t hold variable-length data (heap references)? */
static bool type_has_vlen (hid_t t)
{
    H5T_class_t c = H5Tget_class (t);
    bool yes = false;
    int i, n;
    hid_t m;

    if (c == H5T_VLEN || c == H5T_REFERENCE)
        return true;
    if (c == H5T_STRING)
        return H5Tis_variable_str (t) > 0;
    if (c == H5T_ARRAY) {
        m = H5Tget_super (t);
        yes = m >= 0 && type_has_vlen (m);
        id_close (m);
    }
    if (c == H5T_COMPOUND) {
        n = H5Tget_nmembers (t);
        for (i = 0; i < n && !yes; i++) {
            m = H5Tget_member_type (t, (unsigned)i);
            yes = m >= 0 && type_has_vlen (m);
            id_close (m);
        }
    }
    return yes;
}

/* "float32", "int64", "uint8", "string", "string(16)", "compound"... */
static const char *type_name (hid_t t, char *buf, size_t len)
{
    size_t bits = H5Tget_size (t) * 8;

    switch (H5Tget_class (t)) {
    case H5T_INTEGER:
        snprintf (buf, len, "%sint%zu",
                  H5Tget_sign (t) == H5T_SGN_NONE ? "u" : "", bits);
        return buf;
    case H5T_FLOAT: snprintf (buf, len, "float%zu", bits); return buf;
    case H5T_STRING:
        if (H5Tis_variable_str (t) > 0)
            return "string";
        snprintf (buf, len, "string(%zu)", bits / 8);
        return buf;
    case H5T_BITFIELD: snprintf (buf, len, "bitfield%zu", bits); return buf;
    case H5T_OPAQUE: snprintf (buf, len, "opaque(%zu)", bits / 8); return buf;
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "vlen";
    case H5T_ARRAY: return "array";
    case H5T_TIME: return "time";
    default: return "unknown";
    }
}

/* The filter pipeline as "deflate(4)", "shuffle+deflate(1)"; "" if none. */
static void filters_name (hid_t dcpl, char *buf, size_t len)
{
    int i, n = H5Pget_nfilters (dcpl);
    size_t used = 0;

    buf[0] = '\0';
    for (i = 0; i < n && used < len; i++) {
        unsigned flags, cd[8], config;
        size_t ncd = 8;
        char name[64] = "", one[80];
        H5Z_filter_t id = H5Pget_filter2 (dcpl, (unsigned)i, &flags, &ncd, cd,
                                          sizeof (name), name, &config);
        switch (id) {
        case H5Z_FILTER_DEFLATE:
            snprintf (one, sizeof (one), "deflate(%u)", ncd > 0 ? cd[0] : 0);
            break;
        case H5Z_FILTER_SHUFFLE: snprintf (one, sizeof (one), "shuffle"); break;
        case H5Z_FILTER_FLETCHER32:
            snprintf (one, sizeof (one), "fletcher32");
            break;
        case H5Z_FILTER_SZIP: snprintf (one, sizeof (one), "szip"); break;
        case H5Z_FILTER_NBIT: snprintf (one, sizeof (one), "nbit"); break;
        case H5Z_FILTER_SCALEOFFSET:
            snprintf (one, sizeof (one), "scaleoffset");
            break;
        default:
            if (name[0])
                snprintf (one, sizeof (one), "%s", name);
            else
                snprintf (one, sizeof (one), "filter%d", (int)id);
        }
        used += snprintf (buf + used, len - used, "%s%s", i ? "+" : "", one);
    }
}

/* --- attributes ---------------------------------------------------------- */

/* A numeric attribute as a JSON number or array of numbers. */
static json_t *attr_numbers (hid_t a, hid_t t, hid_t s, hssize_t np)
{
    bool is_int = H5Tget_class (t) == H5T_INTEGER;
    bool is_unsigned = is_int && H5Tget_sign (t) == H5T_SGN_NONE;
    hid_t mt = !is_int ? H5T_NATIVE_DOUBLE
               : is_unsigned ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
    union { double d; int64_t i; uint64_t u; } *v = calloc ((size_t)np, 8);
    json_t *arr = NULL, *one;
    hssize_t i;

    if (!v || H5Aread (a, mt, v) < 0)
        goto out;
    if (!(arr = json_array ()))
        goto out;
    for (i = 0; i < np; i++) {
        one = !is_int ? json_real (v[i].d)
              : is_unsigned && v[i].u > INT64_MAX ? json_real ((double)v[i].u)
              : json_integer (is_unsigned ? (json_int_t)v[i].u : v[i].i);
        if (json_array_append_new (arr, one) < 0) {
            json_decref (arr);
            arr = NULL;
            goto out;
        }
    }
    if (H5Sget_simple_extent_ndims (s) == 0) {
        one = json_incref (json_array_get (arr, 0));
        json_decref (arr);
        arr = one;
    }
out:
    free (v);
    return arr;
}

/* A JSON string of n bytes of s; bytes that are not UTF-8 become '?'. */
static json_t *json_text (const char *s, size_t n)
{
    json_t *j = json_stringn (s, n);
    char *copy;
    size_t i;

    if (j || !(copy = malloc (n + 1)))
        return j;
    for (i = 0; i < n; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    j = json_stringn (copy, n);
    free (copy);
    return j;
}

/* A string attribute (fixed or variable length) as a string or array. */
static json_t *attr_strings (hid_t a, hid_t t, hid_t s, hssize_t np)
{
    bool var = H5Tis_variable_str (t) > 0;
    size_t size = var ? sizeof (char *) : H5Tget_size (t);
    hid_t mt = H5Tcopy (H5T_C_S1);
    char *buf = calloc ((size_t)np, size);
    json_t *arr = NULL, *one;
    hssize_t i;

    if (mt < 0 || !buf || H5Tset_size (mt, var ? H5T_VARIABLE : size) < 0
        || H5Tset_cset (mt, H5Tget_cset (t)) < 0 || H5Aread (a, mt, buf) < 0)
        goto out;
    if (!(arr = json_array ()))
        goto reclaim;
    for (i = 0; i < np; i++) {
        const char *p = var ? ((char **)buf)[i] : buf + (size_t)i * size;
        one = json_text (p ? p : "", p ? strnlen (p, var ? SIZE_MAX : size)
                                       : 0);
        if (json_array_append_new (arr, one) < 0) {
            json_decref (arr);
            arr = NULL;
            goto reclaim;
        }
    }
    if (H5Sget_simple_extent_ndims (s) == 0) {
        one = json_incref (json_array_get (arr, 0));
        json_decref (arr);
        arr = one;
    }
reclaim:
    if (var)
        H5Dvlen_reclaim (mt, s, H5P_DEFAULT, buf);
out:
    free (buf);
    id_close (mt);
    return arr;
}

/* An attribute's value as JSON: numbers and strings (and short arrays of
 * them) as themselves, anything else described ("<compound>",
 * "<float64[1000]>"); NULL on failure. */
static json_t *attr_value (hid_t a)
{
    hid_t t = H5Aget_type (a), s = H5Aget_space (a);
    hssize_t np = s >= 0 ? H5Sget_simple_extent_npoints (s) : -1;
    H5T_class_t c = t >= 0 ? H5Tget_class (t) : H5T_NO_CLASS;
    char name[64], desc[96];
    json_t *v = NULL;

    if (t < 0 || s < 0 || np < 0)
        goto out;
    if (np == 0)
        v = json_null ();
    else if (np <= ATTR_ARRAY_MAX && (c == H5T_INTEGER || c == H5T_FLOAT))
        v = attr_numbers (a, t, s, np);
    else if (np <= ATTR_ARRAY_MAX && c == H5T_STRING)
        v = attr_strings (a, t, s, np);
    else {
        if (H5Sget_simple_extent_ndims (s) == 0)
            snprintf (desc, sizeof (desc), "<%s>",
                      type_name (t, name, sizeof (name)));
        else
            snprintf (desc, sizeof (desc), "<%s[%lld]>",
                      type_name (t, name, sizeof (name)), (long long)np);
        v = json_string (desc);
    }
out:
    id_close (t);
    id_close (s);
    return v;
}

struct attr_ctx {
    json_t *obj;
    bool failed;
};

static herr_t attr_json_cb (hid_t loc, const char *name, const H5A_info_t *info,
                            void *arg)
{
    struct attr_ctx *ctx = arg;
    hid_t a = H5Aopen (loc, name, H5P_DEFAULT);
    json_t *v = a >= 0 ? attr_value (a) : NULL;

    id_close (a);
    if (!v || json_object_set_new (ctx->obj, name, v) < 0) {
        ctx->failed = true;
        return -1;
    }
    return 0;
}

/* The attributes of obj as a JSON object. */
static json_t *attrs_json (hid_t obj)
{
    struct attr_ctx ctx = { json_object (), false };

    if (!ctx.obj)
        return NULL;
    if (H5Aiterate2 (obj, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_json_cb, &ctx)
            < 0
        || ctx.failed) {
        json_decref (ctx.obj);
        return NULL;
    }
    return ctx.obj;
}

static herr_t attr_copy_cb (hid_t loc, const char *name, const H5A_info_t *info,
                            void *arg)
{
    hid_t dst = *(hid_t *)arg;
    hid_t a = H5Aopen (loc, name, H5P_DEFAULT), t = -1, ct = -1, s = -1;
    hid_t acpl = -1, d = -1;
    hssize_t np;
    void *buf = NULL;
    herr_t rc = -1;

    if (a < 0 || (t = H5Aget_type (a)) < 0 || (ct = H5Tcopy (t)) < 0
        || (s = H5Aget_space (a)) < 0 || (acpl = H5Aget_create_plist (a)) < 0
        || (np = H5Sget_simple_extent_npoints (s)) < 0)
        goto out;
    if (!(buf = calloc (np > 0 ? (size_t)np : 1, H5Tget_size (ct))))
        goto out;
    if (np > 0 && H5Aread (a, ct, buf) < 0)
        goto out;
    if ((d = H5Acreate2 (dst, name, ct, s, acpl, H5P_DEFAULT)) >= 0
        && (np == 0 || H5Awrite (d, ct, buf) >= 0))
        rc = 0;
    if (np > 0 && type_has_vlen (ct))
        H5Dvlen_reclaim (ct, s, H5P_DEFAULT, buf);
out:
    free (buf);
    id_close (d);
    id_close (acpl);
    id_close (s);
    id_close (ct);
    id_close (t);
    id_close (a);
    return rc;
}

/* Copy every attribute of src onto dst (another file's object). */
static int attrs_copy (hid_t src, hid_t dst)
{
    return H5Aiterate2 (src, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_copy_cb,
                        &dst) < 0 ? -1 : 0;
}

static int attr_delete_if (hid_t obj, const char *name)
{
    htri_t there = H5Aexists (obj, name);

    if (there < 0)
        return -1;
    return there ? H5Adelete (obj, name) : 0;
}

static int attr_write (hid_t obj, const char *name, hid_t ftype, hid_t mtype,
                       const void *value)
{
    hid_t s = H5Screate (H5S_SCALAR), a = -1;
    int rc = -1;

    if (s >= 0 && attr_delete_if (obj, name) >= 0
        && (a = H5Acreate2 (obj, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0
        && H5Awrite (a, mtype, value) >= 0)
        rc = 0;
    id_close (a);
    id_close (s);
    return rc;
}

static int attr_write_int (hid_t obj, const char *name, int64_t v)
{
    return attr_write (obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

static int attr_write_string (hid_t obj, const char *name, const char *v)
{
    hid_t t = H5Tcopy (H5T_C_S1);
    int rc = -1;

    if (t >= 0 && H5Tset_size (t, H5T_VARIABLE) >= 0
        && H5Tset_cset (t, H5T_CSET_UTF8) >= 0)
        rc = attr_write (obj, name, t, t, &v);
    id_close (t);
    return rc;
}

/* --- looking at datasets ------------------------------------------------- */

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
    uint64_t storage;   /* on disk */
};

static int dset_info (hid_t d, struct dset_info *di)
{
    hid_t s = H5Dget_space (d), t = H5Dget_type (d), dcpl = H5Dget_create_plist (d);
    int rc = -1, i;

    memset (di, 0, sizeof (*di));
    if (s < 0 || t < 0 || dcpl < 0
        || (di->rank = H5Sget_simple_extent_ndims (s)) < 0
        || H5Sget_simple_extent_dims (s, di->dims, di->maxdims) < 0
        || (di->layout = H5Pget_layout (dcpl)) < 0)
        goto out;
    di->chunked = di->layout == H5D_CHUNKED;
    if (di->chunked && H5Pget_chunk (dcpl, H5S_MAX_RANK, di->chunk) < 0)
        goto out;
    di->type_size = H5Tget_size (t);
    di->vlen = type_has_vlen (t);
    di->logical = di->type_size;
    for (i = 0; i < di->rank; i++)
        di->logical *= di->dims[i];
    di->storage = H5Dget_storage_size (d);
    rc = 0;
out:
    id_close (dcpl);
    id_close (t);
    id_close (s);
    return rc;
}

/* Call fn for every dataset in file (by name, each once). */
typedef int (*dset_f) (hid_t d, const char *path, const struct dset_info *di,
                       void *arg);

struct visit {
    dset_f fn;
    void *arg;
    int rc;
    const char *file;
    aios_error_t *err;
};

static herr_t visit_cb (hid_t obj, const char *name, const H5O_info_t *info,
                        void *arg)
{
    struct visit *v = arg;
    struct dset_info di;
    char path[1024];
    hid_t d;

    if (info->type != H5O_TYPE_DATASET)
        return 0;
    snprintf (path, sizeof (path), "/%s", name);
    if ((d = H5Dopen2 (obj, name, H5P_DEFAULT)) < 0 || dset_info (d, &di) < 0) {
        v->rc = h5fail (v->err, v->file, path, "cannot read dataset");
        id_close (d);
        return -1;
    }
    v->rc = v->fn (d, path, &di, v->arg);
    id_close (d);
    return v->rc < 0 ? -1 : 0;
}

static int visit_datasets (hid_t f, const char *file, dset_f fn, void *arg,
                           aios_error_t *err)
{
    struct visit v = { fn, arg, 0, file, err };

    if (H5Ovisit2 (f, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &v,
                   H5O_INFO_BASIC) < 0)
        return v.rc < 0 ? -1 : h5fail (err, file, NULL, "cannot walk the file");
    return 0;
}

/* --- describe ------------------------------------------------------------ */

static json_t *dims_json (int rank, const hsize_t *dims)
{
    json_t *a = json_array ();
    int i;

    for (i = 0; a && i < rank; i++) {
        if (json_array_append_new (a, json_integer ((json_int_t)dims[i])) < 0) {
            json_decref (a);
            return NULL;
        }
    }
    return a;
}

static int describe_cb (hid_t d, const char *path, const struct dset_info *di,
                        void *arg)
{
    json_t *list = arg, *o;
    hid_t t = H5Dget_type (d), dcpl = H5Dget_create_plist (d);
    char tbuf[64], fbuf[160] = "";

    if (dcpl >= 0)
        filters_name (dcpl, fbuf, sizeof (fbuf));
    o = json_pack ("{s:s s:o s:s s:o s:o s:I s:I}", "path", path,
                   "shape", dims_json (di->rank, di->dims),
                   "type", t >= 0 ? type_name (t, tbuf, sizeof (tbuf)) : "?",
                   "chunks", di->chunked ? dims_json (di->rank, di->chunk)
                                         : json_null (),
                   "compression", fbuf[0] ? json_string (fbuf) : json_null (),
                   "bytes", (json_int_t)di->logical,
                   "storage_bytes", (json_int_t)di->storage);
    id_close (t);
    id_close (dcpl);
    if (!o || json_array_append_new (list, o) < 0) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

static json_t *describe (const char *path, aios_error_t *err)
{
    struct stat st;
    json_t *list = json_array (), *attrs = NULL, *out = NULL;
    hid_t f, root = -1;

    if ((f = file_open (path, H5F_ACC_RDONLY, err)) < 0)
        goto out;
    if (stat (path, &st) < 0) {
        sysfail (err, path);
        goto out;
    }
    if (!list) {
        nomem (err);
        goto out;
    }
    if (visit_datasets (f, path, describe_cb, list, err) < 0) {
        if (errno == ENOMEM)
            nomem (err);
        goto out;
    }
    if ((root = H5Gopen2 (f, "/", H5P_DEFAULT)) < 0
        || !(attrs = attrs_json (root))) {
        h5fail (err, path, "/", "cannot read attributes");
        goto out;
    }
    if (!(out = json_pack ("{s:I s:O s:O}", "size", (json_int_t)st.st_size,
                           "datasets", list, "attributes", attrs)))
        nomem (err);
out:
    json_decref (attrs);
    json_decref (list);
    id_close (root);
    if (f >= 0)
        H5Fclose (f);
    return out;
}

json_t *h5data_describe (const char *path, aios_error_t *err)
{
    struct quiet q;
    json_t *o;

    if (!path) {
        errno = EINVAL;
        errprintf (err, "no file given");
        return NULL;
    }
    quiet_begin (&q);
    o = describe (path, err);
    quiet_end (&q);
    return o;
}

int h5data_check (const char *path, aios_error_t *err)
{
    struct quiet q;
    hid_t f;

    if (!path) {
        errno = EINVAL;
        return errprintf (err, "no file given");
    }
    quiet_begin (&q);
    f = file_open (path, H5F_ACC_RDONLY, err);
    if (f >= 0 && H5Fclose (f) < 0)
        f = h5fail (err, path, NULL, "cannot close");
    quiet_end (&q);
    return f < 0 ? -1 : 0;
}

/* --- progress, checksums and whole copies (no HDF5 here) ----------------- */

struct progress {
    h5data_progress_f cb;
    void *arg;
    uint64_t done, total, next;
};

/* Count n more bytes done; ECANCELED if the callback says stop. */
static int progress_add (struct progress *p, uint64_t n, aios_error_t *err,
                         const char *path)
{
    p->done += n;
    if (p->done > p->total)
        p->total = p->done;
    if (!p->cb || (p->done < p->next && p->done < p->total))
        return 0;
    p->next = p->done + PROGRESS_STEP;
    if (p->cb (p->done, p->total, p->arg) != 0) {
        errno = ECANCELED;
        return errprintf (err, "%s: copy cancelled", path);
    }
    return 0;
}

/* The last report: done = total. */
static int progress_end (struct progress *p, aios_error_t *err,
                         const char *path)
{
    if (p->done >= p->total && p->done >= p->next - PROGRESS_STEP)
        return 0; /* reported already */
    p->next = 0;
    return progress_add (p, p->total - p->done, err, path);
}

static void hex_digest (const unsigned char *md, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    int i;

    for (i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

static int write_all (int fd, const char *buf, size_t n)
{
    ssize_t w;

    while (n > 0) {
        if ((w = write (fd, buf, n)) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

struct stream {
    const char *src, *dst;  /* names for messages; dst NULL: no output */
    int in, out;
    EVP_MD_CTX *md;         /* NULL: no checksum */
    struct progress *prog;
    aios_error_t *err;
};

/* Read in to the end, hashing and writing what was read. */
static int stream_rw (struct stream *s)
{
    char *buf = malloc (IO_BUF);
    ssize_t n;
    int rc = -1;

    if (!buf)
        return nomem (s->err);
    for (;;) {
        if ((n = read (s->in, buf, IO_BUF)) < 0) {
            if (errno == EINTR)
                continue;
            sysfail (s->err, s->src);
            break;
        }
        if (n == 0) {
            rc = 0;
            break;
        }
        if (s->md && EVP_DigestUpdate (s->md, buf, (size_t)n) != 1) {
            errno = EIO;
            errprintf (s->err, "%s: sha256 failed", s->src);
            break;
        }
        if (s->dst && write_all (s->out, buf, (size_t)n) < 0) {
            sysfail (s->err, s->dst);
            break;
        }
        if (progress_add (s->prog, (uint64_t)n, s->err, s->src) < 0)
            break;
    }
    free (buf);
    return rc;
}

/* Hash the n bytes at pos of in (just copied, so in the page cache). */
static int hash_range (struct stream *s, char *buf, uint64_t pos, uint64_t n)
{
    ssize_t r;

    while (n > 0) {
        if ((r = pread (s->in, buf, n < IO_BUF ? n : IO_BUF, (off_t)pos)) <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r == 0)
                errno = EIO;
            return sysfail (s->err, s->src);
        }
        if (EVP_DigestUpdate (s->md, buf, (size_t)r) != 1) {
            errno = EIO;
            return errprintf (s->err, "%s: sha256 failed", s->src);
        }
        pos += (uint64_t)r;
        n -= (uint64_t)r;
    }
    return 0;
}

/* Copy in the kernel (copy_file_range), hashing each piece copied when
 * asked; 1 if the kernel cannot copy here (use stream_rw). */
static int stream_kernel (struct stream *s)
{
    char *buf = NULL;
    uint64_t pos = 0;
    ssize_t n;
    int rc = -1;

    if (s->md && !(buf = malloc (IO_BUF)))
        return nomem (s->err);
    for (;;) {
        n = copy_file_range (s->in, NULL, s->out, NULL, PROGRESS_STEP, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && pos == 0
            && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP
                || errno == EINVAL || errno == EBADF)) {
            rc = 1;
            break;
        }
        if (n < 0) {
            errprintf (s->err, "%s: copying to %s: %s", s->src, s->dst,
                       strerror (errno));
            break;
        }
        if (n == 0) {
            rc = 0;
            break;
        }
        if ((s->md && hash_range (s, buf, pos, (uint64_t)n) < 0)
            || progress_add (s->prog, (uint64_t)n, s->err, s->src) < 0)
            break;
        pos += (uint64_t)n;
    }
    free (buf);
    return rc;
}

static int open_input (const char *path, struct progress *p, aios_error_t *err)
{
    struct stat st;
    int fd = open (path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return sysfail (err, path);
    if (fstat (fd, &st) < 0 || S_ISDIR (st.st_mode)) {
        if (S_ISDIR (st.st_mode))
            errno = EISDIR;
        sysfail (err, path);
        close (fd);
        return -1;
    }
    p->total = (uint64_t)st.st_size;
    (void)posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return fd;
}

static int md_begin (EVP_MD_CTX **md, aios_error_t *err)
{
    if (!(*md = EVP_MD_CTX_new ()))
        return nomem (err);
    if (EVP_DigestInit_ex (*md, EVP_sha256 (), NULL) != 1) {
        EVP_MD_CTX_free (*md);
        *md = NULL;
        errno = EIO;
        return errprintf (err, "sha256 is not available");
    }
    return 0;
}

static int md_end (EVP_MD_CTX *md, char hex[65], aios_error_t *err)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    if (EVP_DigestFinal_ex (md, out, &len) != 1 || len != 32) {
        errno = EIO;
        return errprintf (err, "sha256 failed");
    }
    hex_digest (out, hex);
    return 0;
}

int h5data_sha256 (const char *path, char hex[65], h5data_progress_f cb,
                   void *arg, aios_error_t *err)
{
    struct progress p = { cb, arg, 0, 0, 0 };
    struct stream s = { path, NULL, -1, -1, NULL, &p, err };
    int rc = -1;

    if (!path || !hex) {
        errno = EINVAL;
        return errprintf (err, "h5data_sha256: invalid argument");
    }
    if ((s.in = open_input (path, &p, err)) < 0)
        return -1;
    if (md_begin (&s.md, err) == 0 && stream_rw (&s) == 0
        && progress_end (&p, err, path) == 0 && md_end (s.md, hex, err) == 0)
        rc = 0;
    EVP_MD_CTX_free (s.md);
    close (s.in);
    return rc;
}

/* The whole file src to part, hashing it into sha256 when asked. */
static int copy_whole (const char *src, const char *part, char *sha256,
                       struct progress *p, aios_error_t *err)
{
    struct stream s = { src, part, -1, -1, NULL, p, err };
    int rc = -1, k;

    if ((s.in = open_input (src, p, err)) < 0)
        return -1;
    if ((s.out = open (part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666))
        < 0) {
        sysfail (err, part);
        goto out;
    }
    if (sha256 && md_begin (&s.md, err) < 0)
        goto out;
    k = stream_kernel (&s);
    if (k < 0 || (k == 1 && stream_rw (&s) < 0))
        goto out;
    if (progress_end (p, err, src) < 0
        || (sha256 && md_end (s.md, sha256, err) < 0))
        goto out;
    rc = 0;
out:
    if (s.out >= 0 && close (s.out) < 0 && rc == 0)
        rc = sysfail (err, part);
    EVP_MD_CTX_free (s.md);
    close (s.in);
    return rc;
}

/* --- shards: which rows -------------------------------------------------- */

struct plan {
    uint64_t n;         /* rows: the largest leading dimension */
    uint64_t align;     /* inner boundaries are multiples of this */
    uint64_t whole;     /* bytes of the datasets copied whole */
    uint64_t sharded;   /* bytes of the sharded ones, all rows */
    struct lead {
        uint64_t rows, chunk, bytes, storage;
    } *lead;            /* the datasets of rank >= 1 */
    size_t nlead, cap;
};

static int plan_cb (hid_t d, const char *path, const struct dset_info *di,
                    void *arg)
{
    struct plan *p = arg;
    struct lead *l;

    if (di->rank < 1) {
        p->whole += di->storage;
        return 0;
    }
    if (p->nlead == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        if (!(l = realloc (p->lead, cap * sizeof (*l)))) {
            errno = ENOMEM;
            return -1;
        }
        p->lead = l;
        p->cap = cap;
    }
    l = &p->lead[p->nlead++];
    l->rows = di->dims[0];
    l->chunk = di->chunked ? di->chunk[0] : 0;
    l->bytes = di->chunked && !di->vlen ? di->storage : di->logical;
    l->storage = di->storage;
    return 0;
}

static uint64_t gcd64 (uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* n, and the LCM of the leading chunk dimensions of the datasets with n
 * rows (saturated at 2n + 2: beyond that every inner boundary is 0). */
static void plan_finish (struct plan *p)
{
    uint64_t cap, lcm = 1;
    unsigned __int128 next;
    size_t i;

    for (i = 0; i < p->nlead; i++)
        if (p->lead[i].rows > p->n)
            p->n = p->lead[i].rows;
    cap = p->n > (UINT64_MAX - 2) / 2 ? UINT64_MAX : 2 * p->n + 2;
    for (i = 0; i < p->nlead; i++) {
        const struct lead *l = &p->lead[i];
        if (l->rows != p->n) {
            p->whole += l->storage;
            continue;
        }
        p->sharded += l->bytes;
        if (l->chunk > 0 && lcm < cap) {
            next = (unsigned __int128)(lcm / gcd64 (lcm, l->chunk)) * l->chunk;
            lcm = next > cap ? cap : (uint64_t)next;
        }
    }
    p->align = lcm;
}

static int plan_load (struct plan *p, hid_t f, const char *path,
                      aios_error_t *err)
{
    if (visit_datasets (f, path, plan_cb, p, err) < 0)
        return errno == ENOMEM ? nomem (err) : -1;
    if (p->nlead == 0) {
        errno = EINVAL;
        return errprintf (err, "%s: no dataset of rank 1 or more to shard",
                          path);
    }
    plan_finish (p);
    return 0;
}

/* Boundary i of count: i*n/count moved to the nearest multiple of align. */
static uint64_t boundary (const struct plan *p, int i, int count)
{
    unsigned __int128 b, r;

    if (i <= 0)
        return 0;
    if (i >= count)
        return p->n;
    b = (unsigned __int128)p->n * (unsigned)i / (unsigned)count;
    r = (b + p->align / 2) / p->align * p->align;
    return r > p->n ? p->n : (uint64_t)r;
}

static int shard_args (const char *src, int index, int count,
                       aios_error_t *err)
{
    if (!src) {
        errno = EINVAL;
        return errprintf (err, "no file given");
    }
    if (count < 1 || index < 0 || index >= count) {
        errno = EINVAL;
        return errprintf (err, "%s: shard %d of %d: expected 0 <= index < "
                          "count", src, index, count);
    }
    return 0;
}

int h5data_shard_rows (const char *path, int index, int count,
                       uint64_t *first, uint64_t *rows, uint64_t *n,
                       aios_error_t *err)
{
    struct plan p = { 0 };
    struct quiet q;
    hid_t f;
    int rc = -1;

    if (shard_args (path, index, count, err) < 0)
        return -1;
    quiet_begin (&q);
    if ((f = file_open (path, H5F_ACC_RDONLY, err)) >= 0
        && plan_load (&p, f, path, err) == 0) {
        uint64_t a = boundary (&p, index, count);
        if (first)
            *first = a;
        if (rows)
            *rows = boundary (&p, index + 1, count) - a;
        if (n)
            *n = p.n;
        rc = 0;
    }
    if (f >= 0)
        H5Fclose (f);
    quiet_end (&q);
    free (p.lead);
    return rc;
}

/* --- shards: copying ------------------------------------------------------ */

struct shard {
    const char *src, *part;      /* names for messages */
    hid_t sf, df;
    struct plan plan;
    uint64_t first, rows;
    struct progress *prog;
    void *buf;
    size_t buflen;
    struct seen {
        haddr_t addr;
        char *path;
    } *seen;                     /* objects copied: a second hard link */
    size_t nseen, seencap;       /* to one becomes a hard link again */
    aios_error_t *err;
};

static void *shard_buf (struct shard *sh, size_t n)
{
    void *p;

    if (n <= sh->buflen)
        return sh->buf;
    if (!(p = realloc (sh->buf, n)))
        return NULL;
    sh->buf = p;
    sh->buflen = n;
    return p;
}

static const char *seen_find (const struct shard *sh, haddr_t addr)
{
    size_t i;

    for (i = 0; i < sh->nseen; i++)
        if (sh->seen[i].addr == addr)
            return sh->seen[i].path;
    return NULL;
}

static int seen_add (struct shard *sh, haddr_t addr, const char *path)
{
    struct seen *s;

    if (sh->nseen == sh->seencap) {
        size_t cap = sh->seencap ? 2 * sh->seencap : 32;
        if (!(s = realloc (sh->seen, cap * sizeof (*s))))
            return nomem (sh->err);
        sh->seen = s;
        sh->seencap = cap;
    }
    if (!(sh->seen[sh->nseen].path = strdup (path)))
        return nomem (sh->err);
    sh->seen[sh->nseen++].addr = addr;
    return 0;
}

static int shard_progress (struct shard *sh, uint64_t n)
{
    return progress_add (sh->prog, n, sh->err, sh->src);
}

/* Every allocated chunk in the shard's rows, as raw (still filtered) bytes;
 * the destination chunk is at the same place less first rows. */
static int copy_chunks (struct shard *sh, hid_t sd, hid_t dd,
                        const struct dset_info *di, const char *path)
{
    hsize_t off[H5S_MAX_RANK] = { 0 }, doff[H5S_MAX_RANK];
    hsize_t end0 = sh->first + sh->rows;
    int k, r = di->rank;
    char what[96];

    for (k = 1; k < r; k++)
        if (di->dims[k] == 0)
            return 0;
    for (off[0] = sh->first; off[0] < end0;) {
        unsigned mask = 0;
        uint32_t filters = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        void *buf;

        snprintf (what, sizeof (what), "chunk at row %llu",
                  (unsigned long long)off[0]);
        if (H5Dget_chunk_info_by_coord (sd, off, &mask, &addr, &size) < 0)
            return h5fail (sh->err, sh->src, path, what);
        if (addr != HADDR_UNDEF && size > 0) {
            if (!(buf = shard_buf (sh, size)))
                return nomem (sh->err);
            if (H5Dread_chunk (sd, H5P_DEFAULT, off, &filters, buf) < 0)
                return h5fail (sh->err, sh->src, path, what);
            memcpy (doff, off, sizeof (doff));
            doff[0] -= sh->first;
            if (H5Dwrite_chunk (dd, H5P_DEFAULT, filters, doff, size, buf) < 0)
                return h5fail (sh->err, sh->part, path, what);
            if (shard_progress (sh, size) < 0)
                return -1;
        }
        for (k = r - 1; k >= 0; k--) {   /* the next chunk, last dim fastest */
            off[k] += di->chunk[k];
            if (off[k] < (k == 0 ? end0 : di->dims[k]))
                break;
            if (k > 0)
                off[k] = 0;
        }
        if (k < 0)
            break;
    }
    return 0;
}

static int slab_select (hid_t space, int rank, const hsize_t *dims,
                        hsize_t start0, hsize_t count0)
{
    hsize_t start[H5S_MAX_RANK] = { 0 }, count[H5S_MAX_RANK];

    memcpy (count, dims, sizeof (count));
    start[0] = start0;
    count[0] = count0;
    (void)rank;
    return H5Sselect_hyperslab (space, H5S_SELECT_SET, start, NULL, count,
                                NULL);
}

/* The shard's rows by hyperslabs of about SLAB_BYTES (the library reads,
 * converts nothing, and writes through the destination's filters). */
static int copy_slabs (struct shard *sh, hid_t sd, hid_t dd, hid_t type,
                       const struct dset_info *di, const char *path)
{
    hid_t fs = H5Dget_space (sd), ds = H5Dget_space (dd), ms = -1;
    uint64_t rowbytes = di->type_size, block, r, cnt;
    hsize_t mdims[H5S_MAX_RANK];
    int k, rc = -1;
    void *buf;

    for (k = 1; k < di->rank; k++)
        rowbytes *= di->dims[k];
    if (rowbytes == 0 || sh->rows == 0) {
        rc = 0;
        goto out;
    }
    block = SLAB_BYTES / rowbytes ? SLAB_BYTES / rowbytes : 1;
    if (di->chunked && block > di->chunk[0])
        block -= block % di->chunk[0];
    if (!(buf = shard_buf (sh, block * rowbytes))) {
        nomem (sh->err);
        goto out;
    }
    if (fs < 0 || ds < 0) {
        h5fail (sh->err, sh->src, path, "cannot get the dataspace");
        goto out;
    }
    memcpy (mdims, di->dims, sizeof (mdims));
    for (r = 0; r < sh->rows; r += cnt) {
        cnt = sh->rows - r < block ? sh->rows - r : block;
        mdims[0] = cnt;
        if ((ms = H5Screate_simple (di->rank, mdims, NULL)) < 0
            || slab_select (fs, di->rank, di->dims, sh->first + r, cnt) < 0
            || H5Dread (sd, type, ms, fs, H5P_DEFAULT, buf) < 0) {
            h5fail (sh->err, sh->src, path, "cannot read rows");
            goto out;
        }
        if (slab_select (ds, di->rank, di->dims, r, cnt) < 0
            || H5Dwrite (dd, type, ms, ds, H5P_DEFAULT, buf) < 0) {
            h5fail (sh->err, sh->part, path, "cannot write rows");
            goto out;
        }
        if (di->vlen)
            H5Dvlen_reclaim (type, ms, H5P_DEFAULT, buf);
        id_close (ms);
        ms = -1;
        if (shard_progress (sh, cnt * rowbytes) < 0)
            goto out;
    }
    rc = 0;
out:
    id_close (ms);
    id_close (ds);
    id_close (fs);
    return rc;
}

/* The creation properties of the shard's copy of a dataset: the source's,
 * except that raw data kept in external files comes into the file and
 * chunks are allocated as they are written. */
static hid_t shard_dcpl (hid_t sd, const struct dset_info *di)
{
    hid_t dcpl = H5Dget_create_plist (sd);

    if (dcpl >= 0 && H5Pget_external_count (dcpl) > 0) {
        id_close (dcpl);
        return H5Pcreate (H5P_DATASET_CREATE);
    }
    if (dcpl >= 0 && di->chunked
        && H5Pset_alloc_time (dcpl, H5D_ALLOC_TIME_INCR) < 0) {
        id_close (dcpl);
        return -1;
    }
    return dcpl;
}

static int copy_sharded (struct shard *sh, hid_t sd, const struct dset_info *di,
                         hid_t dg, const char *name, const char *path)
{
    hsize_t dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK];
    hid_t t = H5Dget_type (sd), ct = -1, dcpl = -1, space = -1, dd = -1;
    int rc = -1;

    if (di->layout == H5D_VIRTUAL) {
        errno = EINVAL;
        errprintf (sh->err, "%s: %s: a virtual dataset cannot be sharded",
                   sh->src, path);
        goto out;
    }
    memcpy (dims, di->dims, sizeof (dims));
    memcpy (maxdims, di->maxdims, sizeof (maxdims));
    dims[0] = sh->rows;
    if (maxdims[0] != H5S_UNLIMITED) /* a chunk must fit in fixed maxdims */
        maxdims[0] = di->chunked && di->chunk[0] > sh->rows ? di->chunk[0]
                                                            : sh->rows;
    if (t < 0 || (ct = H5Tcopy (t)) < 0 || (dcpl = shard_dcpl (sd, di)) < 0
        || (space = H5Screate_simple (di->rank, dims, maxdims)) < 0
        || (dd = H5Dcreate2 (dg, name, ct, space, H5P_DEFAULT, dcpl,
                             H5P_DEFAULT)) < 0) {
        h5fail (sh->err, sh->part, path, "cannot create dataset");
        goto out;
    }
    if (attrs_copy (sd, dd) < 0) {
        h5fail (sh->err, sh->src, path, "cannot copy attributes");
        goto out;
    }
    if (di->chunked && !di->vlen)
        rc = copy_chunks (sh, sd, dd, di, path);
    else
        rc = copy_slabs (sh, sd, dd, ct, di, path);
out:
    id_close (dd);
    id_close (space);
    id_close (dcpl);
    id_close (ct);
    id_close (t);
    return rc;
}

static int copy_group (struct shard *sh, hid_t sg, hid_t dg, const char *path);

static int copy_subgroup (struct shard *sh, hid_t g, const char *name,
                          hid_t dg, const char *path)
{
    hid_t sub = H5Gopen2 (g, name, H5P_DEFAULT), gcpl = -1, dsub = -1;
    int rc = -1;

    if (sub < 0 || (gcpl = H5Gget_create_plist (sub)) < 0
        || (dsub = H5Gcreate2 (dg, name, H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0)
        h5fail (sh->err, sh->part, path, "cannot create group");
    else
        rc = copy_group (sh, sub, dsub, path);
    id_close (dsub);
    id_close (gcpl);
    id_close (sub);
    return rc;
}

static int copy_dataset (struct shard *sh, hid_t g, const char *name,
                         hid_t dg, const char *path)
{
    hid_t d = H5Dopen2 (g, name, H5P_DEFAULT);
    struct dset_info di;
    int rc = -1;

    if (d < 0 || dset_info (d, &di) < 0)
        h5fail (sh->err, sh->src, path, "cannot read dataset");
    else if (di.rank >= 1 && di.dims[0] == sh->plan.n)
        rc = copy_sharded (sh, d, &di, dg, name, path);
    else if (H5Ocopy (g, name, dg, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
        h5fail (sh->err, sh->part, path, "cannot copy dataset");
    else
        rc = shard_progress (sh, di.storage);
    id_close (d);
    return rc;
}

/* The object a hard link names: once, then as another hard link. */
static int copy_object (struct shard *sh, hid_t g, const char *name,
                        hid_t dg, const char *path)
{
    H5O_info_t oi;
    const char *prev;

    if (H5Oget_info_by_name2 (g, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
        return h5fail (sh->err, sh->src, path, "cannot open");
    if ((prev = seen_find (sh, oi.addr))) {
        if (H5Lcreate_hard (sh->df, prev, dg, name, H5P_DEFAULT, H5P_DEFAULT)
            < 0)
            return h5fail (sh->err, sh->part, path, "cannot link");
        return 0;
    }
    if (seen_add (sh, oi.addr, path) < 0)
        return -1;
    switch (oi.type) {
    case H5O_TYPE_GROUP: return copy_subgroup (sh, g, name, dg, path);
    case H5O_TYPE_DATASET: return copy_dataset (sh, g, name, dg, path);
    default:
        if (H5Ocopy (g, name, dg, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
            return h5fail (sh->err, sh->part, path, "cannot copy");
        return 0;
    }
}

/* A soft or external link, recreated with the same target. */
static int copy_link (struct shard *sh, hid_t g, const char *name,
                      const H5L_info_t *info, hid_t dg, const char *path)
{
    size_t size = info->u.val_size ? info->u.val_size : 1;
    char *val = calloc (1, size + 1);
    const char *file, *obj;
    unsigned flags;
    herr_t rc = -1;

    if (!val)
        return nomem (sh->err);
    if (H5Lget_val (g, name, val, size, H5P_DEFAULT) < 0) {
        free (val);
        return h5fail (sh->err, sh->src, path, "cannot read link");
    }
    if (info->type == H5L_TYPE_SOFT)
        rc = H5Lcreate_soft (val, dg, name, H5P_DEFAULT, H5P_DEFAULT);
    else if (H5Lunpack_elink_val (val, size, &flags, &file, &obj) >= 0)
        rc = H5Lcreate_external (file, obj, dg, name, H5P_DEFAULT,
                                 H5P_DEFAULT);
    free (val);
    return rc < 0 ? h5fail (sh->err, sh->part, path, "cannot create link") : 0;
}

struct walk {
    struct shard *sh;
    hid_t dg;
    const char *path;
    int rc;
};

static herr_t link_cb (hid_t g, const char *name, const H5L_info_t *info,
                       void *arg)
{
    struct walk *w = arg;
    char path[1024];

    snprintf (path, sizeof (path), "%s/%s", w->path, name);
    switch (info->type) {
    case H5L_TYPE_HARD:
        w->rc = copy_object (w->sh, g, name, w->dg, path);
        break;
    case H5L_TYPE_SOFT:
    case H5L_TYPE_EXTERNAL:
        w->rc = copy_link (w->sh, g, name, info, w->dg, path);
        break;
    default: /* user-defined link classes are not copied */
        w->rc = 0;
    }
    return w->rc < 0 ? -1 : 0;
}

/* sg's attributes and members into dg (path "" for the root group). */
static int copy_group (struct shard *sh, hid_t sg, hid_t dg, const char *path)
{
    struct walk w = { sh, dg, path, 0 };
    hid_t gcpl = H5Gget_create_plist (sg);
    H5_index_t idx = H5_INDEX_NAME;
    unsigned order = 0;

    if (gcpl >= 0 && H5Pget_link_creation_order (gcpl, &order) >= 0
        && (order & H5P_CRT_ORDER_INDEXED))
        idx = H5_INDEX_CRT_ORDER;
    id_close (gcpl);
    if (attrs_copy (sg, dg) < 0)
        return h5fail (sh->err, sh->src, *path ? path : "/",
                       "cannot copy attributes");
    if (H5Literate (sg, idx, H5_ITER_INC, NULL, link_cb, &w) < 0)
        return w.rc < 0 ? -1 : h5fail (sh->err, sh->src, *path ? path : "/",
                                       "cannot list the group");
    return 0;
}

static int shard_attrs_write (struct shard *sh, hid_t root, int index,
                              int count)
{
    int64_t v[4] = { index, count, (int64_t)sh->first, (int64_t)sh->rows };
    size_t i;

    for (i = 0; i < 4; i++)
        if (attr_write_int (root, shard_attrs[i], v[i]) < 0)
            return h5fail (sh->err, sh->part, "/", "cannot write attributes");
    return 0;
}

static void shard_free (struct shard *sh)
{
    size_t i;

    for (i = 0; i < sh->nseen; i++)
        free (sh->seen[i].path);
    free (sh->seen);
    free (sh->buf);
    free (sh->plan.lead);
}

static int copy_shard (const char *src, const char *part, int index, int count,
                       struct progress *p, aios_error_t *err)
{
    struct shard sh = { .src = src, .part = part, .sf = -1, .df = -1,
                        .prog = p, .err = err };
    hid_t fcpl = -1, fapl = -1, sroot = -1, droot = -1;
    int rc = -1;

    if ((sh.sf = file_open (src, H5F_ACC_RDONLY, err)) < 0
        || plan_load (&sh.plan, sh.sf, src, err) < 0)
        goto out;
    sh.first = boundary (&sh.plan, index, count);
    sh.rows = boundary (&sh.plan, index + 1, count) - sh.first;
    p->total = sh.plan.whole;
    if (sh.plan.n > 0)
        p->total += (uint64_t)((unsigned __int128)sh.plan.sharded * sh.rows
                               / sh.plan.n);
    if ((fcpl = H5Fget_create_plist (sh.sf)) < 0 || (fapl = fapl_nolock ()) < 0
        || (sh.df = H5Fcreate (part, H5F_ACC_TRUNC, fcpl, fapl)) < 0) {
        h5fail (err, part, NULL, "cannot create");
        goto out;
    }
    if ((sroot = H5Gopen2 (sh.sf, "/", H5P_DEFAULT)) < 0
        || (droot = H5Gopen2 (sh.df, "/", H5P_DEFAULT)) < 0) {
        h5fail (err, src, "/", "cannot open");
        goto out;
    }
    if (copy_group (&sh, sroot, droot, "") < 0
        || shard_attrs_write (&sh, droot, index, count) < 0
        || progress_end (p, err, src) < 0)
        goto out;
    rc = 0;
out:
    id_close (droot);
    id_close (sroot);
    id_close (fapl);
    id_close (fcpl);
    if (sh.df >= 0 && H5Fclose (sh.df) < 0 && rc == 0)
        rc = h5fail (err, part, NULL, "cannot close");
    if (sh.sf >= 0)
        H5Fclose (sh.sf);
    shard_free (&sh);
    return rc;
}

int h5data_copy (const char *src, const char *dst, int index, int count,
                 char *sha256, h5data_progress_f cb, void *arg,
                 uint64_t *bytes, aios_error_t *err)
{
    struct progress p = { cb, arg, 0, 0, 0 };
    struct stat st;
    struct quiet q;
    char *part = NULL;
    int rc;

    if (!src || !dst) {
        errno = EINVAL;
        return errprintf (err, "no source or destination file given");
    }
    if (count != 0 && shard_args (src, index, count, err) < 0)
        return -1;
    if (asprintf (&part, "%s.part", dst) < 0)
        return nomem (err);
    if (count == 0)
        rc = copy_whole (src, part, sha256, &p, err);
    else {
        quiet_begin (&q);
        rc = copy_shard (src, part, index, count, &p, err);
        quiet_end (&q);
        if (rc == 0 && sha256)
            rc = h5data_sha256 (part, sha256, NULL, NULL, err);
    }
    if (rc == 0 && stat (part, &st) < 0)
        rc = sysfail (err, part);
    if (rc == 0 && rename (part, dst) < 0)
        rc = errprintf (err, "%s: cannot rename to %s: %s", part, dst,
                        strerror (errno));
    if (rc < 0) {
        int saved = errno;
        unlink (part);
        errno = saved;
    }
    else if (bytes)
        *bytes = (uint64_t)st.st_size;
    free (part);
    return rc;
}

/* --- provenance attributes ----------------------------------------------- */

static int attrs_valid (json_t *attrs, aios_error_t *err)
{
    const char *key;
    json_t *v;

    if (!json_is_object (attrs)) {
        errno = EINVAL;
        return errprintf (err, "attributes must be a JSON object");
    }
    json_object_foreach (attrs, key, v) {
        if (!*key) {
            errno = EINVAL;
            return errprintf (err, "an attribute name cannot be empty");
        }
        if (!json_is_string (v) && !json_is_integer (v) && !json_is_real (v)) {
            errno = EINVAL;
            return errprintf (err, "attribute \"%s\": expected a string, an "
                              "integer or a real number", key);
        }
    }
    return 0;
}

static int attr_set_json (hid_t root, const char *key, json_t *v)
{
    double d;

    if (json_is_string (v))
        return attr_write_string (root, key, json_string_value (v));
    if (json_is_integer (v))
        return attr_write_int (root, key, (int64_t)json_integer_value (v));
    d = json_real_value (v);
    return attr_write (root, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &d);
}

static int set_attrs (const char *path, json_t *attrs, aios_error_t *err)
{
    hid_t f, root = -1;
    const char *key;
    json_t *v;
    int rc = -1;

    if ((f = file_open (path, H5F_ACC_RDWR, err)) < 0)
        return -1;
    if ((root = H5Gopen2 (f, "/", H5P_DEFAULT)) < 0) {
        h5fail (err, path, "/", "cannot open");
        goto out;
    }
    json_object_foreach (attrs, key, v) {
        if (attr_set_json (root, key, v) < 0) {
            char what[128];
            snprintf (what, sizeof (what), "cannot set attribute \"%.64s\"",
                      key);
            h5fail (err, path, "/", what);
            goto out;
        }
    }
    rc = 0;
out:
    id_close (root);
    if (H5Fclose (f) < 0 && rc == 0)
        rc = h5fail (err, path, NULL, "cannot close");
    return rc;
}

int h5data_set_attrs (const char *path, json_t *attrs, aios_error_t *err)
{
    struct quiet q;
    int rc;

    if (!path) {
        errno = EINVAL;
        return errprintf (err, "no file given");
    }
    if (attrs_valid (attrs, err) < 0)
        return -1;
    if (json_object_size (attrs) == 0)
        return h5data_check (path, err);
    quiet_begin (&q);
    rc = set_attrs (path, attrs, err);
    quiet_end (&q);
    return rc;
}
