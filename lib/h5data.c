/* h5data.c - HDF5 files as datasets: describe, checksum, copy (whole or one
 * shard), provenance attributes
 *
 * A whole copy and a checksum are plain POSIX I/O (no HDF5 call).  The rest
 * runs between h5data_quiet_begin() and h5data_quiet_end(), which stop
 * HDF5 from printing its error stack; a failure becomes err text "FILE:
 * /OBJECT: what failed: REASON", REASON being the innermost message on
 * HDF5's error stack.
 *
 * The shard copy is in h5shard.c; h5data_int.h holds what both files
 * share.
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
#include "h5data_int.h"

enum {
    IO_BUF = 8 << 20,          /* whole copy and checksum buffer */
    PROGRESS_STEP = 16 << 20,  /* the callback runs at least this often */
    ATTR_ARRAY_MAX = 64,       /* longer attribute arrays are summarised */
};

/* --- errors and HDF5's error stack --------------------------------------- */

/* Stop HDF5 printing its error stack (restored by h5data_quiet_end()). */
void h5data_quiet_begin (struct quiet *q)
{
    if (H5Eget_auto2 (H5E_DEFAULT, &q->func, &q->data) < 0) {
        q->func = NULL;
        q->data = NULL;
    }
    H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
}

void h5data_quiet_end (struct quiet *q)
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
int h5data_fail (aios_error_t *err, const char *path, const char *obj,
                 const char *what)
{
    struct reason r = { "" };

    H5Ewalk2 (H5E_DEFAULT, H5E_WALK_UPWARD, reason_cb, &r);
    H5Eclear2 (H5E_DEFAULT);
    errno = EIO;
    return errprintf (err, "%s: %s%s%s%s%s", path, obj ? obj : "",
                      obj ? ": " : "", what, r.text[0] ? ": " : "", r.text);
}

int h5data_sysfail (aios_error_t *err, const char *path)
{
    return errprintf (err, "%s: %s", path, strerror (errno));
}

int h5data_nomem (aios_error_t *err)
{
    errno = ENOMEM;
    return errprintf (err, "out of memory");
}

/* Close any HDF5 object id (negative ids are ignored); keeps errno. */
void h5data_id_close (hid_t id)
{
    int saved = errno;

    if (id >= 0)
        H5Idec_ref (id);
    errno = saved;
}

/* File access without HDF5's file locks: the files read are immutable and
 * the files written private until renamed, and flock() fails on some
 * shared file systems (NFS without lockd). */
hid_t h5data_fapl_nolock (void)
{
    hid_t fapl = H5Pcreate (H5P_FILE_ACCESS);

    if (fapl >= 0 && H5Pset_file_locking (fapl, false, true) < 0) {
        H5Pclose (fapl);
        return -1;
    }
    return fapl;
}

/* Open path (flags H5F_ACC_RDONLY or H5F_ACC_RDWR) with fapl after
 * checking that it exists, can be opened so, and is HDF5. */
hid_t h5data_file_open_fapl (const char *path, unsigned flags, hid_t fapl,
                             aios_error_t *err)
{
    struct stat st;
    htri_t is;
    hid_t f;

    if (stat (path, &st) < 0)
        return h5data_sysfail (err, path);
    if (S_ISDIR (st.st_mode)) {
        errno = EISDIR;
        return h5data_sysfail (err, path);
    }
    if (access (path, flags == H5F_ACC_RDWR ? R_OK | W_OK : R_OK) < 0)
        return h5data_sysfail (err, path);
    if ((is = H5Fis_hdf5 (path)) <= 0) {
        H5Eclear2 (H5E_DEFAULT);
        errno = EINVAL;
        return errprintf (err, "%s: not an HDF5 file", path);
    }
    if ((f = H5Fopen (path, flags, fapl)) < 0)
        return h5data_fail (err, path, NULL, "cannot open");
    return f;
}

hid_t h5data_file_open (const char *path, unsigned flags, aios_error_t *err)
{
    hid_t f, fapl;

    if ((fapl = h5data_fapl_nolock ()) < 0)
        return h5data_fail (err, path, NULL, "cannot open");
    f = h5data_file_open_fapl (path, flags, fapl, err);
    h5data_id_close (fapl);
    return f;
}

/* --- types --------------------------------------------------------------- */

/* Does an element of t hold variable-length data (heap references)? */
bool h5data_type_has_vlen (hid_t t)
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
        yes = m >= 0 && h5data_type_has_vlen (m);
        h5data_id_close (m);
    }
    if (c == H5T_COMPOUND) {
        n = H5Tget_nmembers (t);
        for (i = 0; i < n && !yes; i++) {
            m = H5Tget_member_type (t, (unsigned)i);
            yes = m >= 0 && h5data_type_has_vlen (m);
            h5data_id_close (m);
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
    h5data_id_close (mt);
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
    h5data_id_close (t);
    h5data_id_close (s);
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

    h5data_id_close (a);
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
    h5data_id_close (a);
    h5data_id_close (s);
    return rc;
}

int h5data_attr_write_int (hid_t obj, const char *name, int64_t v)
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
    h5data_id_close (t);
    return rc;
}

/* --- looking at datasets ------------------------------------------------- */

int h5data_dset_info (hid_t d, struct dset_info *di, bool storage)
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
    di->vlen = h5data_type_has_vlen (t);
    di->logical = di->type_size;
    for (i = 0; i < di->rank; i++)
        di->logical *= di->dims[i];
    if (storage)
        di->storage = H5Dget_storage_size (d);
    rc = 0;
out:
    h5data_id_close (dcpl);
    h5data_id_close (t);
    h5data_id_close (s);
    return rc;
}

struct visit {
    dset_f fn;
    void *arg;
    bool storage;
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
    if ((d = H5Dopen2 (obj, name, H5P_DEFAULT)) < 0
        || h5data_dset_info (d, &di, v->storage) < 0) {
        v->rc = h5data_fail (v->err, v->file, path, "cannot read dataset");
        h5data_id_close (d);
        return -1;
    }
    v->rc = v->fn (d, path, &di, v->arg);
    h5data_id_close (d);
    return v->rc < 0 ? -1 : 0;
}

int h5data_visit_datasets (hid_t f, const char *file, bool storage,
                           dset_f fn, void *arg, aios_error_t *err)
{
    struct visit v = { fn, arg, storage, 0, file, err };

    if (H5Ovisit2 (f, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &v,
                   H5O_INFO_BASIC) < 0)
        return v.rc < 0 ? -1 : h5data_fail (err, file, NULL,
                                            "cannot walk the file");
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
    h5data_id_close (t);
    h5data_id_close (dcpl);
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

    if ((f = h5data_file_open (path, H5F_ACC_RDONLY, err)) < 0)
        goto out;
    if (stat (path, &st) < 0) {
        h5data_sysfail (err, path);
        goto out;
    }
    if (!list) {
        h5data_nomem (err);
        goto out;
    }
    if (h5data_visit_datasets (f, path, true, describe_cb, list, err) < 0) {
        if (errno == ENOMEM)
            h5data_nomem (err);
        goto out;
    }
    if ((root = H5Gopen2 (f, "/", H5P_DEFAULT)) < 0
        || !(attrs = attrs_json (root))) {
        h5data_fail (err, path, "/", "cannot read attributes");
        goto out;
    }
    if (!(out = json_pack ("{s:I s:O s:O}", "size", (json_int_t)st.st_size,
                           "datasets", list, "attributes", attrs)))
        h5data_nomem (err);
out:
    json_decref (attrs);
    json_decref (list);
    h5data_id_close (root);
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
    h5data_quiet_begin (&q);
    o = describe (path, err);
    h5data_quiet_end (&q);
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
    h5data_quiet_begin (&q);
    f = h5data_file_open (path, H5F_ACC_RDONLY, err);
    if (f >= 0 && H5Fclose (f) < 0)
        f = h5data_fail (err, path, NULL, "cannot close");
    h5data_quiet_end (&q);
    return f < 0 ? -1 : 0;
}

/* --- progress, checksums and whole copies (no HDF5 here) ----------------- */

/* Count n more bytes done; ECANCELED if the callback says stop. */
int h5data_progress_add (struct progress *p, uint64_t n, aios_error_t *err,
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
int h5data_progress_end (struct progress *p, aios_error_t *err,
                         const char *path)
{
    if (p->done >= p->total && p->done >= p->next - PROGRESS_STEP)
        return 0; /* reported already */
    p->next = 0;
    return h5data_progress_add (p, p->total - p->done, err, path);
}

void h5data_hex_digest (const unsigned char *md, char hex[65])
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
        return h5data_nomem (s->err);
    for (;;) {
        if ((n = read (s->in, buf, IO_BUF)) < 0) {
            if (errno == EINTR)
                continue;
            h5data_sysfail (s->err, s->src);
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
            h5data_sysfail (s->err, s->dst);
            break;
        }
        if (h5data_progress_add (s->prog, (uint64_t)n, s->err, s->src) < 0)
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
            return h5data_sysfail (s->err, s->src);
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
        return h5data_nomem (s->err);
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
            || h5data_progress_add (s->prog, (uint64_t)n, s->err, s->src) < 0)
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
        return h5data_sysfail (err, path);
    if (fstat (fd, &st) < 0)
        goto fail;
    if (S_ISDIR (st.st_mode)) {
        errno = EISDIR;
        goto fail;
    }
    p->total = (uint64_t)st.st_size;
    (void)posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return fd;
fail:
    h5data_sysfail (err, path);
    close (fd);
    return -1;
}

int h5data_md_begin (EVP_MD_CTX **md, aios_error_t *err)
{
    if (!(*md = EVP_MD_CTX_new ()))
        return h5data_nomem (err);
    if (EVP_DigestInit_ex (*md, EVP_sha256 (), NULL) != 1) {
        EVP_MD_CTX_free (*md);
        *md = NULL;
        errno = EIO;
        return errprintf (err, "sha256 is not available");
    }
    return 0;
}

int h5data_md_final (EVP_MD_CTX *md, unsigned char out[32],
                     aios_error_t *err)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    if (EVP_DigestFinal_ex (md, buf, &len) != 1 || len != 32) {
        errno = EIO;
        return errprintf (err, "sha256 failed");
    }
    memcpy (out, buf, 32);
    return 0;
}

int h5data_md_end (EVP_MD_CTX *md, char hex[65], aios_error_t *err)
{
    unsigned char out[32];

    if (h5data_md_final (md, out, err) < 0)
        return -1;
    h5data_hex_digest (out, hex);
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
    if (h5data_md_begin (&s.md, err) == 0 && stream_rw (&s) == 0
        && h5data_progress_end (&p, err, path) == 0
        && h5data_md_end (s.md, hex, err) == 0)
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
        h5data_sysfail (err, part);
        goto out;
    }
    if (sha256 && h5data_md_begin (&s.md, err) < 0)
        goto out;
    k = stream_kernel (&s);
    if (k < 0 || (k == 1 && stream_rw (&s) < 0))
        goto out;
    if (h5data_progress_end (p, err, src) < 0
        || (sha256 && h5data_md_end (s.md, sha256, err) < 0))
        goto out;
    rc = 0;
out:
    if (s.out >= 0 && close (s.out) < 0 && rc == 0)
        rc = h5data_sysfail (err, part);
    EVP_MD_CTX_free (s.md);
    close (s.in);
    return rc;
}

static int copy_to (const char *src, const char *dst, int index, int count,
                    char *sha256, const struct h5data_blocks *b,
                    h5data_progress_f cb, void *arg, uint64_t *bytes,
                    aios_error_t *err)
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
    if (count != 0 && h5data_shard_args (src, index, count, err) < 0)
        return -1;
    if (asprintf (&part, "%s.part", dst) < 0)
        return h5data_nomem (err);
    if (count == 0)
        rc = copy_whole (src, part, sha256, &p, err);
    else {
        h5data_quiet_begin (&q);
        rc = h5data_copy_shard (src, part, index, count, b, &p, err);
        h5data_quiet_end (&q);
        if (rc == 0 && sha256)
            rc = h5data_sha256 (part, sha256, NULL, NULL, err);
    }
    if (rc == 0 && stat (part, &st) < 0)
        rc = h5data_sysfail (err, part);
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

int h5data_copy (const char *src, const char *dst, int index, int count,
                 char *sha256, h5data_progress_f cb, void *arg,
                 uint64_t *bytes, aios_error_t *err)
{
    return copy_to (src, dst, index, count, sha256, NULL, cb, arg, bytes,
                    err);
}

int h5data_copy_checked (const char *src, const char *dst, int index,
                         int count, const struct h5data_blocks *b,
                         h5data_progress_f cb, void *arg, uint64_t *bytes,
                         aios_error_t *err)
{
    if (count <= 0 || !b || b->size == 0) {
        errno = EINVAL;
        return errprintf (err, "h5data_copy_checked: invalid argument");
    }
    return copy_to (src, dst, index, count, NULL, b, cb, arg, bytes, err);
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
        return h5data_attr_write_int (root, key, (int64_t)json_integer_value (v));
    d = json_real_value (v);
    return attr_write (root, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &d);
}

static int set_attrs (const char *path, json_t *attrs, aios_error_t *err)
{
    hid_t f, root = -1;
    const char *key;
    json_t *v;
    int rc = -1;

    if ((f = h5data_file_open (path, H5F_ACC_RDWR, err)) < 0)
        return -1;
    if ((root = H5Gopen2 (f, "/", H5P_DEFAULT)) < 0) {
        h5data_fail (err, path, "/", "cannot open");
        goto out;
    }
    json_object_foreach (attrs, key, v) {
        if (attr_set_json (root, key, v) < 0) {
            char what[128];
            snprintf (what, sizeof (what), "cannot set attribute \"%.64s\"",
                      key);
            h5data_fail (err, path, "/", what);
            goto out;
        }
    }
    rc = 0;
out:
    h5data_id_close (root);
    if (H5Fclose (f) < 0 && rc == 0)
        rc = h5data_fail (err, path, NULL, "cannot close");
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
    h5data_quiet_begin (&q);
    rc = set_attrs (path, attrs, err);
    h5data_quiet_end (&q);
    return rc;
}
