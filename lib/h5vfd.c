/* h5vfd.c - the HDF5 file driver of shard copies
 *
 * It reads and writes with pread/pwrite, as HDF5's sec2 driver does, and
 * adds two things a raw-chunk copy needs:
 *
 * - Probe.  H5Dread_chunk() on a file in probe mode records where the
 *   chunk's bytes lie instead of reading them.  HDF5 1.10 has no chunk
 *   iterator, and H5Dget_chunk_info_by_coord() walks the chunk index from
 *   the start on every call, so finding a shard's chunks that way costs
 *   the square of their number (12% of a shard copy of a deflate file in
 *   bench/staging); a probe is one index lookup.
 * - Copy.  Once a source is given, a raw-data write whose buffer lies in
 *   the source's mapping becomes copy_file_range() from the source file,
 *   consecutive ones merged into one call.  The kernel copies page cache to
 *   page cache, as cp(1) does, and the mapping is never read.  Where the
 *   kernel cannot (another file system type), the write is made from the
 *   mapping, its pages mapped in one call first.
 * - Place.  The space for a chunk about to be copied starts at the same
 *   offset in a page as the chunk in the source, and each copy's first
 *   piece ends on a large-folio boundary of the destination, so that the
 *   kernel copies whole pages into whole large folios.  Together with the
 *   copy, this took a 4-way shard of a 1 GiB file from 69% of cp's speed
 *   to 92-98% (bench/staging).
 *
 * The files are only ever used by one thread (a staging child).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>

#include "h5data_int.h"

enum {
    RUN_MAX = 64 << 20,     /* bytes copied at once (progress lags the
                               copy by at most this) */
    FOLIO_MAX = 2 << 20,    /* the largest folio in the page cache */
    VFD_MAGIC = 0x61696f73,
};

static const size_t SINK_BYTES = (size_t)1 << 32;   /* HDF5's largest chunk */

struct h5vfd {
    H5FD_t pub;             /* first: HDF5 hands this pointer back */
    unsigned magic;
    int fd;
    dev_t dev;
    ino_t ino;
    haddr_t eoa, eof;

    bool probing;           /* H5Dread_chunk() only records the read */
    void *sink;             /* its buffer (see probe_sink()) */
    int probe_reads;
    haddr_t probe_addr;
    size_t probe_size;

    int src_fd;             /* the source of copies (not owned), or -1 */
    const unsigned char *src_map;
    size_t src_len;
    bool no_cfr;            /* copy_file_range() cannot copy here */
    uint64_t place_src;     /* the next raw allocation of place_size */
    hsize_t place_size;     /* bytes starts where place_src does in a page */
    haddr_t run_dst;        /* the copy not made yet */
    uint64_t run_src;
    size_t run_len;

    uint64_t track;         /* block size of touched[], or 0 */
    unsigned char *touched; /* one per block: its bytes were read */
    size_t nblocks;
};

/* Mark the blocks of [off, off + len) read. */
static void touch (struct h5vfd *f, uint64_t off, uint64_t len)
{
    uint64_t i;

    if (!f->touched || len == 0)
        return;
    for (i = off / f->track; i < f->nblocks && i <= (off + len - 1) / f->track;
         i++)
        f->touched[i] = 1;
}

/* The file access property of the driver. */
struct vfd_fa {
    uint64_t track;         /* > 0: record which blocks of this size are
                               read (see h5vfd_touched()) */
};

static hid_t vfd_id = -1;

static herr_t vfd_fail (H5E_minor_t min, const char *what)
{
    int saved = errno;

    H5Epush2 (H5E_DEFAULT, __FILE__, what, __LINE__, H5E_ERR_CLS, H5E_VFL,
              min, "%s: %s", what, strerror (saved));
    errno = saved;
    return -1;
}

/* --- copies from the source ---------------------------------------------- */

/* Write len bytes at out from the source's mapping, in bytes in, its pages
 * mapped in one call first (faulting them in one by one as the write reads
 * them costs more than the copy: 2x in bench/staging). */
static herr_t write_from_map (struct h5vfd *f, uint64_t out, uint64_t in,
                              size_t len)
{
    uint64_t start = in & ~(uint64_t)(sysconf (_SC_PAGESIZE) - 1);
    ssize_t n;

    (void)madvise ((void *)(f->src_map + start), (size_t)(in + len - start),
                   MADV_POPULATE_READ);
    while (len > 0) {
        n = pwrite (f->fd, f->src_map + in, len, (off_t)out);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vfd_fail (H5E_WRITEERROR, "write");
        out += (uint64_t)n;
        in += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copy len bytes from in to out: in the kernel while it can, else from the
 * mapping.  The bytes copied, or -1. */
static ssize_t copy_piece (struct h5vfd *f, uint64_t in, uint64_t out,
                           size_t len)
{
    loff_t i = (loff_t)in, o = (loff_t)out;
    ssize_t n;

    if (!f->no_cfr) {
        do
            n = copy_file_range (f->src_fd, &i, f->fd, &o, len, 0);
        while (n < 0 && errno == EINTR);
        if (n > 0)
            return n;
        if (n == 0)
            errno = EIO;    /* the source is shorter than its mapping */
        if (n == 0 || (errno != EXDEV && errno != ENOSYS
                       && errno != EOPNOTSUPP && errno != EINVAL))
            return vfd_fail (H5E_WRITEERROR, "copy_file_range");
        f->no_cfr = true;   /* another file system type, say */
    }
    if (write_from_map (f, out, in, len) < 0)
        return -1;
    return (ssize_t)len;
}

/* Make the pending copy.  The first piece ends on a FOLIO_MAX boundary of
 * the destination, so that the rest is written in whole large folios: a
 * copy that starts off such a boundary is a third slower throughout
 * (bench/staging, ext4 on Linux 6.18). */
static herr_t run_flush (struct h5vfd *f)
{
    uint64_t in = f->run_src, out = f->run_dst;
    size_t len = f->run_len, step;
    ssize_t n;

    f->run_len = 0;
    while (len > 0) {
        step = len;
        if (out % FOLIO_MAX && len > FOLIO_MAX - out % FOLIO_MAX)
            step = FOLIO_MAX - out % FOLIO_MAX;
        if ((n = copy_piece (f, in, out, step)) < 0)
            return -1;
        in += (uint64_t)n;
        out += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static bool run_overlaps (const struct h5vfd *f, haddr_t addr, size_t size)
{
    return f->run_len > 0 && addr < f->run_dst + f->run_len
           && f->run_dst < addr + size;
}

/* Is buf..buf+size in the source's mapping?  Then *src is its offset. */
static bool in_source (const struct h5vfd *f, const void *buf, size_t size,
                       uint64_t *src)
{
    const unsigned char *p = buf;

    if (!f->src_map || p < f->src_map || p - f->src_map > (ptrdiff_t)f->src_len
        || size > f->src_len - (size_t)(p - f->src_map))
        return false;
    *src = (uint64_t)(p - f->src_map);
    return true;
}

static herr_t copy_add (struct h5vfd *f, haddr_t addr, uint64_t src,
                        size_t size)
{
    if (f->run_len > 0 && f->run_dst + f->run_len == addr
        && f->run_src + f->run_len == src && f->run_len + size <= RUN_MAX) {
        f->run_len += size;
        return 0;
    }
    if (f->run_len > 0 && run_flush (f) < 0)
        return -1;
    f->run_dst = addr;
    f->run_src = src;
    f->run_len = size;
    return 0;
}

/* --- the driver's callbacks ---------------------------------------------- */

static H5FD_t *vfd_open (const char *name, unsigned flags, hid_t fapl,
                         haddr_t maxaddr)
{
    int o = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
    const struct vfd_fa *fa;
    struct h5vfd *f;
    struct stat st;
    int fd;

    (void)maxaddr;
    if (flags & H5F_ACC_TRUNC)
        o |= O_TRUNC;
    if (flags & H5F_ACC_CREAT)
        o |= O_CREAT;
    if (flags & H5F_ACC_EXCL)
        o |= O_EXCL;
    if ((fd = open (name, o | O_CLOEXEC, 0666)) < 0) {
        vfd_fail (H5E_CANTOPENFILE, "open");
        return NULL;
    }
    if (fstat (fd, &st) < 0 || !(f = calloc (1, sizeof (*f)))) {
        vfd_fail (H5E_CANTOPENFILE, "open");
        close (fd);
        return NULL;
    }
    f->magic = VFD_MAGIC;
    f->fd = fd;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->eof = (haddr_t)st.st_size;
    f->src_fd = -1;
    if ((fa = H5Pget_driver_info (fapl)) && fa->track > 0) {
        f->track = fa->track;
        f->nblocks = (size_t)(((uint64_t)st.st_size + fa->track - 1)
                              / fa->track);
        if (f->nblocks > 0 && !(f->touched = calloc (f->nblocks, 1))) {
            vfd_fail (H5E_CANTOPENFILE, "open");
            close (fd);
            free (f);
            return NULL;
        }
    }
    return &f->pub;
}

static herr_t vfd_close (H5FD_t *file)
{
    struct h5vfd *f = (struct h5vfd *)file;
    herr_t rc = f->run_len > 0 ? run_flush (f) : 0;

    if (close (f->fd) < 0 && rc == 0)
        rc = vfd_fail (H5E_CANTCLOSEFILE, "close");
    if (f->sink)
        munmap (f->sink, SINK_BYTES);
    free (f->touched);
    f->magic = 0;
    free (f);
    return rc;
}

static int vfd_cmp (const H5FD_t *a, const H5FD_t *b)
{
    const struct h5vfd *x = (const struct h5vfd *)a;
    const struct h5vfd *y = (const struct h5vfd *)b;

    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return 0;
}

static herr_t vfd_query (const H5FD_t *file, unsigned long *flags)
{
    (void)file;
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA
             | H5FD_FEAT_DATA_SIEVE | H5FD_FEAT_AGGREGATE_SMALLDATA;
    return 0;
}

/* Space at the end of the file; a chunk about to be copied starts at the
 * same offset in a page as in the source, so that the kernel copies whole
 * pages (copy_file_range() between different offsets in a page costs a
 * third more). */
static haddr_t vfd_alloc (H5FD_t *file, H5FD_mem_t type, hid_t dxpl,
                          hsize_t size)
{
    struct h5vfd *f = (struct h5vfd *)file;
    haddr_t addr = f->eoa;
    uint64_t page = (uint64_t)sysconf (_SC_PAGESIZE);

    (void)dxpl;
    if (type == H5FD_MEM_DRAW && f->place_size == size && size > 0) {
        addr += (f->place_src % page + page - addr % page) % page;
        f->place_size = 0;
    }
    f->eoa = addr + size;
    return addr;
}

static haddr_t vfd_get_eoa (const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const struct h5vfd *)file)->eoa;
}

static herr_t vfd_set_eoa (H5FD_t *file, H5FD_mem_t type, haddr_t addr)
{
    (void)type;
    ((struct h5vfd *)file)->eoa = addr;
    return 0;
}

static haddr_t vfd_get_eof (const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const struct h5vfd *)file)->eof;
}

static herr_t vfd_get_handle (H5FD_t *file, hid_t fapl, void **handle)
{
    (void)fapl;
    *handle = file;
    return 0;
}

static herr_t vfd_read (H5FD_t *file, H5FD_mem_t type, hid_t dxpl,
                        haddr_t addr, size_t size, void *buf)
{
    struct h5vfd *f = (struct h5vfd *)file;
    unsigned char *p = buf;
    ssize_t n;

    (void)dxpl;
    if (type == H5FD_MEM_DRAW && f->probing) {
        f->probe_reads++;
        f->probe_addr = addr;
        f->probe_size = size;
        return 0;
    }
    if (run_overlaps (f, addr, size) && run_flush (f) < 0)
        return -1;
    touch (f, addr, size);
    while (size > 0) {
        n = pread (f->fd, p, size, (off_t)addr);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vfd_fail (H5E_READERROR, "read");
        if (n == 0) {    /* past the end of the file: zeros, as sec2 */
            memset (p, 0, size);
            break;
        }
        addr += (size_t)n;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static herr_t vfd_write (H5FD_t *file, H5FD_mem_t type, hid_t dxpl,
                         haddr_t addr, size_t size, const void *buf)
{
    struct h5vfd *f = (struct h5vfd *)file;
    const unsigned char *p = buf;
    uint64_t src;
    ssize_t n;

    (void)dxpl;
    if (addr + size > f->eof)
        f->eof = addr + size;
    if (type == H5FD_MEM_DRAW && in_source (f, buf, size, &src))
        return copy_add (f, addr, src, size);
    if (run_overlaps (f, addr, size) && run_flush (f) < 0)
        return -1;
    while (size > 0) {
        n = pwrite (f->fd, p, size, (off_t)addr);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vfd_fail (H5E_WRITEERROR, "write");
        addr += (size_t)n;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static herr_t vfd_flush (H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    struct h5vfd *f = (struct h5vfd *)file;

    (void)dxpl;
    (void)closing;
    return f->run_len > 0 ? run_flush (f) : 0;
}

static herr_t vfd_truncate (H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    struct h5vfd *f = (struct h5vfd *)file;

    (void)dxpl;
    (void)closing;
    if (f->run_len > 0 && run_flush (f) < 0)
        return -1;
    if (f->eoa != f->eof) {
        if (ftruncate (f->fd, (off_t)f->eoa) < 0)
            return vfd_fail (H5E_SEEKERROR, "ftruncate");
        f->eof = f->eoa;
    }
    return 0;
}

static const H5FD_class_t vfd_class = {
    .name = "aios-shard",
    .maxaddr = (haddr_t)INT64_MAX,
    .fc_degree = H5F_CLOSE_WEAK,
    .fapl_size = sizeof (struct vfd_fa),
    .open = vfd_open,
    .close = vfd_close,
    .cmp = vfd_cmp,
    .query = vfd_query,
    .alloc = vfd_alloc,
    .get_eoa = vfd_get_eoa,
    .set_eoa = vfd_set_eoa,
    .get_eof = vfd_get_eof,
    .get_handle = vfd_get_handle,
    .read = vfd_read,
    .write = vfd_write,
    .flush = vfd_flush,
    .truncate = vfd_truncate,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

/* --- interface ----------------------------------------------------------- */

int h5vfd_use (hid_t fapl, uint64_t track)
{
    struct vfd_fa fa = { track };

    if (vfd_id < 0 || H5Iis_valid (vfd_id) <= 0)
        vfd_id = H5FDregister (&vfd_class);
    if (vfd_id < 0 || H5Pset_driver (fapl, vfd_id, &fa) < 0)
        return -1;
    return 0;
}

struct h5vfd *h5vfd_get (hid_t file)
{
    void *h = NULL;

    if (H5Fget_vfd_handle (file, H5P_DEFAULT, &h) < 0 || !h
        || ((H5FD_t *)h)->driver_id != vfd_id
        || ((struct h5vfd *)h)->magic != VFD_MAGIC) {
        H5Eclear2 (H5E_DEFAULT);
        return NULL;
    }
    return h;
}

/* A probe hands H5Dread_chunk() this as the buffer: address space that
 * cannot be touched.  HDF5 1.10 passes the buffer only to the driver's
 * read, which a probe skips; should a later version write to it, the
 * process dies at once instead of corrupting memory. */
static void *probe_sink (struct h5vfd *f)
{
    void *p;

    if (!f->sink) {
        p = mmap (NULL, SINK_BYTES, PROT_NONE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        f->sink = p == MAP_FAILED ? NULL : p;
    }
    return f->sink;
}

int h5vfd_chunk (struct h5vfd *f, hid_t dset, const hsize_t *off,
                 haddr_t *addr, hsize_t *size, unsigned *filters)
{
    void *sink = f ? probe_sink (f) : NULL;
    herr_t rc;

    if (sink) {
        f->probing = true;
        f->probe_reads = 0;
        rc = H5Dread_chunk (dset, H5P_DEFAULT, off, filters, sink);
        f->probing = false;
        if (rc >= 0 && f->probe_reads == 1) {
            *addr = f->probe_addr - f->pub.base_addr;
            *size = f->probe_size;
            return 1;
        }
        H5Eclear2 (H5E_DEFAULT);   /* not allocated, say: walk */
    }
    *addr = HADDR_UNDEF;
    *size = 0;
    if (H5Dget_chunk_info_by_coord (dset, off, filters, addr, size) < 0)
        return -1;
    return *addr != HADDR_UNDEF && *size > 0;
}

void h5vfd_copy_from (struct h5vfd *f, int src_fd, const void *map,
                      size_t len)
{
    f->src_fd = src_fd;
    f->src_map = map;
    f->src_len = len;
}

void h5vfd_place (struct h5vfd *f, uint64_t src, hsize_t size)
{
    f->place_src = src;
    f->place_size = size;
}

void h5vfd_touch (struct h5vfd *f, uint64_t off, uint64_t len)
{
    touch (f, off, len);
}

const unsigned char *h5vfd_touched (const struct h5vfd *f, size_t *n)
{
    *n = f->nblocks;
    return f->touched;
}
