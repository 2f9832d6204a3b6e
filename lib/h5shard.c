/* h5shard.c - one shard of an HDF5 file: which rows, and the copy
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>

#include "h5data.h"
#include "h5data_int.h"

enum {
    SLAB_BYTES = 16 << 20,     /* one hyperslab read/write */
};

static const char *const shard_attrs[] = {
    "shard_index", "shard_count", "shard_offset", "shard_rows",
};

/* --- attributes ---------------------------------------------------------- */

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
    if (np > 0 && h5data_type_has_vlen (ct))
        H5Dvlen_reclaim (ct, s, H5P_DEFAULT, buf);
out:
    free (buf);
    h5data_id_close (d);
    h5data_id_close (acpl);
    h5data_id_close (s);
    h5data_id_close (ct);
    h5data_id_close (t);
    h5data_id_close (a);
    return rc;
}

/* Copy every attribute of src onto dst (another file's object). */
static int attrs_copy (hid_t src, hid_t dst)
{
    return H5Aiterate2 (src, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_copy_cb,
                        &dst) < 0 ? -1 : 0;
}

/* --- shards: which rows -------------------------------------------------- */

struct plan {
    uint64_t n;         /* rows: the largest leading dimension */
    uint64_t align;     /* inner boundaries are multiples of this */
    uint64_t whole;     /* logical bytes of the datasets copied whole */
    uint64_t sharded;   /* logical bytes of the sharded ones, all rows */
    struct lead {
        uint64_t rows, chunk, bytes;
    } *lead;            /* the datasets of rank >= 1 */
    size_t nlead, cap;
};

static int plan_cb (hid_t d, const char *path, const struct dset_info *di,
                    void *arg)
{
    struct plan *p = arg;
    struct lead *l;

    if (di->rank < 1) {
        p->whole += di->logical;
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
    l->bytes = di->logical;
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
            p->whole += l->bytes;
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
    if (h5data_visit_datasets (f, path, false, plan_cb, p, err) < 0)
        return errno == ENOMEM ? h5data_nomem (err) : -1;
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

int h5data_shard_args (const char *src, int index, int count,
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

    if (h5data_shard_args (path, index, count, err) < 0)
        return -1;
    h5data_quiet_begin (&q);
    if ((f = h5data_file_open (path, H5F_ACC_RDONLY, err)) >= 0
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
    h5data_quiet_end (&q);
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
    const unsigned char *map;    /* the source file mapped, or NULL */
    size_t maplen;
    int mapfd;                   /* the source file, open while mapped */
    struct h5vfd *sv, *dv;       /* the file driver's state of sf, df */
    hsize_t base;                /* file addresses start here (userblock) */
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
            return h5data_nomem (sh->err);
        sh->seen = s;
        sh->seencap = cap;
    }
    if (!(sh->seen[sh->nseen].path = strdup (path)))
        return h5data_nomem (sh->err);
    sh->seen[sh->nseen++].addr = addr;
    return 0;
}

static int shard_progress (struct shard *sh, uint64_t n)
{
    return h5data_progress_add (sh->prog, n, sh->err, sh->src);
}

static int chunk_fail (struct shard *sh, const char *file, const char *path,
                       hsize_t row)
{
    char what[64];

    snprintf (what, sizeof (what), "chunk at row %llu",
              (unsigned long long)row);
    return h5data_fail (sh->err, file, path, what);
}

/* The chunk at off (size bytes at addr in the source) into dd at doff, as
 * raw (still filtered) bytes. */
static int copy_chunk (struct shard *sh, hid_t sd, hid_t dd,
                       const hsize_t *off, const hsize_t *doff, haddr_t addr,
                       hsize_t size, uint32_t filters, const char *path)
{
    void *buf;

    if (sh->map && sh->base + addr + size <= sh->maplen) {
        /* from the mapping: the driver copies it in the kernel */
        buf = (void *)(sh->map + sh->base + addr);
        if (sh->sv)
            h5vfd_touch (sh->sv, sh->base + addr, size);
        if (sh->dv)
            h5vfd_place (sh->dv, sh->base + addr, size);
    } else {
        if (!(buf = shard_buf (sh, size)))
            return h5data_nomem (sh->err);
        if (H5Dread_chunk (sd, H5P_DEFAULT, off, &filters, buf) < 0)
            return chunk_fail (sh, sh->src, path, off[0]);
    }
    if (H5Dwrite_chunk (dd, H5P_DEFAULT, filters, doff, size, buf) < 0)
        return chunk_fail (sh, sh->part, path, off[0]);
    return shard_progress (sh, size);
}

/* Every allocated chunk in the shard's rows; the destination chunk is at
 * the same place less first rows. */
static int copy_chunks (struct shard *sh, hid_t sd, hid_t dd,
                        const struct dset_info *di, const char *path)
{
    hsize_t off[H5S_MAX_RANK] = { 0 }, doff[H5S_MAX_RANK];
    hsize_t end0 = sh->first + sh->rows, size;
    unsigned filters;
    haddr_t addr;
    int k, r = di->rank, found;

    for (k = 1; k < r; k++)
        if (di->dims[k] == 0)
            return 0;
    for (off[0] = sh->first; off[0] < end0;) {
        found = h5vfd_chunk (sh->sv, sd, off, &addr, &size, &filters);
        if (found < 0)
            return chunk_fail (sh, sh->src, path, off[0]);
        memcpy (doff, off, sizeof (doff));
        doff[0] -= sh->first;
        if (found && copy_chunk (sh, sd, dd, off, doff, addr, size, filters,
                                 path) < 0)
            return -1;
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

/* Rows [start0, start0 + count0) of a space of dims (H5S_MAX_RANK long). */
static int slab_select (hid_t space, const hsize_t *dims, hsize_t start0,
                        hsize_t count0)
{
    hsize_t start[H5S_MAX_RANK] = { 0 }, count[H5S_MAX_RANK];

    memcpy (count, dims, sizeof (count));
    start[0] = start0;
    count[0] = count0;
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
        h5data_nomem (sh->err);
        goto out;
    }
    if (fs < 0 || ds < 0) {
        h5data_fail (sh->err, sh->src, path, "cannot get the dataspace");
        goto out;
    }
    memcpy (mdims, di->dims, sizeof (mdims));
    for (r = 0; r < sh->rows; r += cnt) {
        cnt = sh->rows - r < block ? sh->rows - r : block;
        mdims[0] = cnt;
        if ((ms = H5Screate_simple (di->rank, mdims, NULL)) < 0
            || slab_select (fs, di->dims, sh->first + r, cnt) < 0
            || H5Dread (sd, type, ms, fs, H5P_DEFAULT, buf) < 0) {
            h5data_fail (sh->err, sh->src, path, "cannot read rows");
            goto out;
        }
        if (slab_select (ds, di->dims, r, cnt) < 0
            || H5Dwrite (dd, type, ms, ds, H5P_DEFAULT, buf) < 0) {
            h5data_fail (sh->err, sh->part, path, "cannot write rows");
            goto out;
        }
        if (di->vlen)
            H5Dvlen_reclaim (type, ms, H5P_DEFAULT, buf);
        h5data_id_close (ms);
        ms = -1;
        if (shard_progress (sh, cnt * rowbytes) < 0)
            goto out;
    }
    rc = 0;
out:
    h5data_id_close (ms);
    h5data_id_close (ds);
    h5data_id_close (fs);
    return rc;
}

/* The creation properties of the shard's copy of a dataset: the source's,
 * except that raw data kept in external files comes into the file and
 * chunks are allocated as they are written. */
static hid_t shard_dcpl (hid_t sd, const struct dset_info *di)
{
    hid_t dcpl = H5Dget_create_plist (sd);

    if (dcpl >= 0 && H5Pget_external_count (dcpl) > 0) {
        h5data_id_close (dcpl);
        return H5Pcreate (H5P_DATASET_CREATE);
    }
    if (dcpl >= 0 && di->chunked
        && H5Pset_alloc_time (dcpl, H5D_ALLOC_TIME_INCR) < 0) {
        h5data_id_close (dcpl);
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
        h5data_fail (sh->err, sh->part, path, "cannot create dataset");
        goto out;
    }
    if (attrs_copy (sd, dd) < 0) {
        h5data_fail (sh->err, sh->src, path, "cannot copy attributes");
        goto out;
    }
    if (di->chunked && !di->vlen)
        rc = copy_chunks (sh, sd, dd, di, path);
    else
        rc = copy_slabs (sh, sd, dd, ct, di, path);
out:
    h5data_id_close (dd);
    h5data_id_close (space);
    h5data_id_close (dcpl);
    h5data_id_close (ct);
    h5data_id_close (t);
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
        h5data_fail (sh->err, sh->part, path, "cannot create group");
    else
        rc = copy_group (sh, sub, dsub, path);
    h5data_id_close (dsub);
    h5data_id_close (gcpl);
    h5data_id_close (sub);
    return rc;
}

static int copy_dataset (struct shard *sh, hid_t g, const char *name,
                         hid_t dg, const char *path)
{
    hid_t d = H5Dopen2 (g, name, H5P_DEFAULT);
    struct dset_info di;
    int rc = -1;

    if (d < 0 || h5data_dset_info (d, &di, false) < 0)
        h5data_fail (sh->err, sh->src, path, "cannot read dataset");
    else if (di.rank >= 1 && di.dims[0] == sh->plan.n)
        rc = copy_sharded (sh, d, &di, dg, name, path);
    else if (H5Ocopy (g, name, dg, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
        h5data_fail (sh->err, sh->part, path, "cannot copy dataset");
    else
        rc = shard_progress (sh, H5Dget_storage_size (d));
    h5data_id_close (d);
    return rc;
}

/* The object a hard link names: once, then as another hard link. */
static int copy_object (struct shard *sh, hid_t g, const char *name,
                        hid_t dg, const char *path)
{
    H5O_info_t oi;
    const char *prev;

    if (H5Oget_info_by_name2 (g, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
        return h5data_fail (sh->err, sh->src, path, "cannot open");
    if ((prev = seen_find (sh, oi.addr))) {
        if (H5Lcreate_hard (sh->df, prev, dg, name, H5P_DEFAULT, H5P_DEFAULT)
            < 0)
            return h5data_fail (sh->err, sh->part, path, "cannot link");
        return 0;
    }
    if (seen_add (sh, oi.addr, path) < 0)
        return -1;
    switch (oi.type) {
    case H5O_TYPE_GROUP: return copy_subgroup (sh, g, name, dg, path);
    case H5O_TYPE_DATASET: return copy_dataset (sh, g, name, dg, path);
    default:
        if (H5Ocopy (g, name, dg, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
            return h5data_fail (sh->err, sh->part, path, "cannot copy");
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
        return h5data_nomem (sh->err);
    if (H5Lget_val (g, name, val, size, H5P_DEFAULT) < 0) {
        free (val);
        return h5data_fail (sh->err, sh->src, path, "cannot read link");
    }
    if (info->type == H5L_TYPE_SOFT)
        rc = H5Lcreate_soft (val, dg, name, H5P_DEFAULT, H5P_DEFAULT);
    else if (H5Lunpack_elink_val (val, size, &flags, &file, &obj) >= 0)
        rc = H5Lcreate_external (file, obj, dg, name, H5P_DEFAULT,
                                 H5P_DEFAULT);
    free (val);
    return rc < 0 ? h5data_fail (sh->err, sh->part, path,
                                 "cannot create link") : 0;
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
    h5data_id_close (gcpl);
    if (attrs_copy (sg, dg) < 0)
        return h5data_fail (sh->err, sh->src, *path ? path : "/",
                            "cannot copy attributes");
    if (H5Literate (sg, idx, H5_ITER_INC, NULL, link_cb, &w) < 0)
        return w.rc < 0 ? -1 : h5data_fail (sh->err, sh->src, *path ? path : "/",
                                            "cannot list the group");
    return 0;
}

static int shard_attrs_write (struct shard *sh, hid_t root, int index,
                              int count)
{
    int64_t v[4] = { index, count, (int64_t)sh->first, (int64_t)sh->rows };
    size_t i;

    for (i = 0; i < 4; i++)
        if (h5data_attr_write_int (root, shard_attrs[i], v[i]) < 0)
            return h5data_fail (sh->err, sh->part, "/",
                                "cannot write attributes");
    return 0;
}

/* Map the source read-only.  Raw chunks are written from the mapping, and
 * the file driver turns those writes into copies in the kernel from mapfd.
 * Without a mapping (it failed, or a chunk lies outside it) chunks are read
 * with H5Dread_chunk. */
static void shard_map (struct shard *sh)
{
    struct stat st;
    hsize_t ub = 0;
    hid_t fcpl = H5Fget_create_plist (sh->sf);
    void *m;
    int fd;

    if (fcpl < 0 || H5Pget_userblock (fcpl, &ub) < 0) {
        h5data_id_close (fcpl);
        return;
    }
    h5data_id_close (fcpl);
    if ((fd = open (sh->src, O_RDONLY | O_CLOEXEC)) < 0)
        return;
    if (fstat (fd, &st) == 0 && st.st_size > 0
        && (m = mmap (NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0))
               != MAP_FAILED) {
        sh->map = m;
        sh->maplen = (size_t)st.st_size;
        sh->mapfd = fd;
        sh->base = ub;
        return;
    }
    close (fd);
}

static void shard_free (struct shard *sh)
{
    size_t i;

    if (sh->map) {
        munmap ((void *)sh->map, sh->maplen);
        close (sh->mapfd);
    }
    for (i = 0; i < sh->nseen; i++)
        free (sh->seen[i].path);
    free (sh->seen);
    free (sh->buf);
    free (sh->plan.lead);
}

/* The bytes the shard copies, for progress: its share of the logical
 * bytes, scaled by how much smaller the file is (compression), as the
 * bytes stored would take walking every chunk index. */
static uint64_t shard_estimate (const struct shard *sh)
{
    unsigned __int128 e = sh->plan.whole, all = sh->plan.whole;

    if (sh->plan.n > 0)
        e += (unsigned __int128)sh->plan.sharded * sh->rows / sh->plan.n;
    all += sh->plan.sharded;
    if (sh->map && all > sh->maplen)
        e = e * sh->maplen / all;
    return (uint64_t)e;
}

/* Check the blocks of the source the copy read (all of them when the
 * driver could not tell) against b. */
static int shard_check (struct shard *sh, const struct h5data_blocks *b)
{
    const unsigned char *want = NULL;
    size_t n = 0;

    if (sh->sv && (want = h5vfd_touched (sh->sv, &n)) && n != b->n)
        want = NULL;    /* h5data_block_check() names the size mismatch */
    return h5data_block_check (sh->src, b, want, sh->err);
}

/* The copy failed: when the source differs from its checksums (a changed
 * byte in the file's metadata makes HDF5 fail first), say that instead. */
static void shard_blame (struct shard *sh, const struct h5data_blocks *b,
                         aios_error_t *err)
{
    aios_error_t why;
    int saved = errno;

    sh->err = &why;
    if (shard_check (sh, b) < 0)
        errprintf (err, "%s", why.text);
    sh->err = err;
    errno = saved;
}

int h5data_copy_shard (const char *src, const char *part, int index,
                       int count, const struct h5data_blocks *b,
                       struct progress *p, aios_error_t *err)
{
    struct shard sh = { .src = src, .part = part, .sf = -1, .df = -1,
                        .mapfd = -1, .prog = p, .err = err };
    hid_t fcpl = -1, fapl = -1, sroot = -1, droot = -1;
    bool checked = false;   /* the blocks read (no need to again) */
    int rc = -1;

    if ((fapl = h5data_fapl_nolock ()) < 0
        || h5vfd_use (fapl, b ? b->size : 0) < 0) {
        h5data_fail (err, src, NULL, "cannot open");
        goto out;
    }
    if ((sh.sf = h5data_file_open_fapl (src, H5F_ACC_RDONLY, fapl, err)) < 0
        || plan_load (&sh.plan, sh.sf, src, err) < 0)
        goto out;
    sh.sv = h5vfd_get (sh.sf);
    shard_map (&sh);
    sh.first = boundary (&sh.plan, index, count);
    sh.rows = boundary (&sh.plan, index + 1, count) - sh.first;
    p->total = shard_estimate (&sh);
    if ((fcpl = H5Fget_create_plist (sh.sf)) < 0
        || (sh.df = H5Fcreate (part, H5F_ACC_TRUNC, fcpl, fapl)) < 0) {
        h5data_fail (err, part, NULL, "cannot create");
        goto out;
    }
    if (sh.map && (sh.dv = h5vfd_get (sh.df)))
        h5vfd_copy_from (sh.dv, sh.mapfd, sh.map, sh.maplen);
    if ((sroot = H5Gopen2 (sh.sf, "/", H5P_DEFAULT)) < 0
        || (droot = H5Gopen2 (sh.df, "/", H5P_DEFAULT)) < 0) {
        h5data_fail (err, sroot < 0 ? src : part, "/", "cannot open");
        goto out;
    }
    if (copy_group (&sh, sroot, droot, "") < 0
        || shard_attrs_write (&sh, droot, index, count) < 0)
        goto out;
    checked = b != NULL;
    if ((b && shard_check (&sh, b) < 0) || h5data_progress_end (p, err, src) < 0)
        goto out;
    rc = 0;
out:
    h5data_id_close (droot);
    h5data_id_close (sroot);
    h5data_id_close (fapl);
    h5data_id_close (fcpl);
    if (sh.df >= 0 && H5Fclose (sh.df) < 0 && rc == 0)
        rc = h5data_fail (err, part, NULL, "cannot close");
    if (rc < 0 && b && !checked && errno != ECANCELED && errno != ENOMEM)
        shard_blame (&sh, b, err);
    if (sh.sf >= 0)
        H5Fclose (sh.sf);
    shard_free (&sh);
    return rc;
}
