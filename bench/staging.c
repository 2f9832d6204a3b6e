/* staging - how fast datasets are staged: cp(1) against h5data_copy()
 *
 *   bench/staging                     1 GiB files in /tmp/aios-bench-staging
 *   bench/staging -s 4G -d /scratch/bench -r 5
 *
 * Two files of the same rows are written: "plain", a float32 dataset X of
 * rows x 256 plus int32 labels y, chunked by 1024 rows (1 MiB chunks) and
 * not compressed; and "deflate", the same layout with deflate(1) and
 * values that compress (a triangle wave on a 1/16 grid, with a little
 * noise).  For each, these are timed: /bin/cp of the file, a whole copy
 * with h5data_copy() (copy_file_range), a whole copy hashing on the way
 * (each piece read back from the page cache and hashed), the four shards of a 4-way split made one after
 * the other (raw chunk copies), the same checking the blocks each reads
 * against block checksums (1 MiB, as the catalog keeps them), and
 * h5data_sha256() alone.
 *
 * Figures are warm unless --cold: the source is read once before the runs,
 * so it is in the page cache, and nothing is dropped from it (the machine
 * may be shared).  A run times each method once, in turn, so that drift in the
 * machine's speed touches all alike; before it, as much memory as it will
 * write is touched and freed (see recycle_memory()), and its output is
 * unlinked after it, both outside the timing.  The median of the runs is printed.  "% of cp" is
 * the throughput against cp's.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hdf5.h>

#include "cli.h"
#include "catalog.h"
#include "h5data.h"
#include "parse.h"

enum {
    COLS = 256,
    CHUNK_ROWS = 1024,
    WRITE_ROWS = 16384,   /* rows written at a time */
    MAX_RUNS = 99,
    SHARDS = 4,
};

static const char *usage_text =
    "Usage: staging [OPTIONS]\n"
    "Time staging copies of HDF5 data sets: cp against h5data_copy (whole,\n"
    "whole with SHA-256, 4 shards, 4 shards checking their blocks) and\n"
    "SHA-256 alone, for an uncompressed and\n"
    "a deflate(1) file.  Figures are warm (the source in the page cache)\n"
    "unless --cold: then the source file (only it) is dropped from the page\n"
    "cache before each run (posix_fadvise DONTNEED), so it is read from disk.\n"
    "\n"
    "  -d, --dir=DIR     where to write the files [/tmp/aios-bench-staging]\n"
    "  -s, --size=SIZE   logical size of X [1G] (512M, 4G; plain = MiB)\n"
    "  -r, --runs=N      runs of each measurement, the median printed [3]\n"
    "  -k, --keep        keep the source files\n"
    "  -c, --cold        read the source from disk in every run\n"
    "      --help        show this help\n";

static const struct option opts[] = {
    { "dir", required_argument, NULL, 'd' },
    { "size", required_argument, NULL, 's' },
    { "runs", required_argument, NULL, 'r' },
    { "keep", no_argument, NULL, 'k' },
    { "cold", no_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'H' },
    { NULL, 0, NULL, 0 },
};

struct bench {
    const char *dir;
    uint64_t size;   /* bytes of X */
    int runs;
    bool keep;
    bool cold;
};

struct variant {
    const char *name;
    int deflate;     /* 0: none */
    char path[4096];
    uint64_t bytes;  /* the file */
    double cp_rate;  /* bytes/s of cp, for "% of cp" */
    struct h5data_blocks blocks;    /* as the catalog keeps them */
};

static double now (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- the data files ------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rng (void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* Row i of X: random floats (plain), or smooth values on a 1/16 grid with
 * a little noise (deflate). */
static void fill_rows (float *x, int32_t *y, uint64_t first, uint64_t n,
                       bool compressible)
{
    uint64_t i;
    int j;

    for (i = 0; i < n; i++) {
        uint64_t r = first + i;
        for (j = 0; j < COLS; j++) {
            float v;
            if (compressible) /* a triangle wave on a 1/16 grid, +- noise */
                v = (float)(labs ((long)((r / 16 + 37 * (uint64_t)j) % 256)
                                  - 128) + (long)(rng () % 3)) / 16.0f;
            else
                v = (float)rng () / 4294967296.0f;
            x[i * COLS + j] = v;
        }
        y[i] = (int32_t)(r % 10);
    }
}

static hid_t make_dset (hid_t f, const char *name, hid_t type, int rank,
                        const hsize_t *dims, int deflate)
{
    hsize_t chunk[2] = { CHUNK_ROWS, COLS };
    hid_t s = H5Screate_simple (rank, dims, NULL), dcpl, d;

    dcpl = H5Pcreate (H5P_DATASET_CREATE);
    H5Pset_chunk (dcpl, rank, chunk);
    if (deflate)
        H5Pset_deflate (dcpl, (unsigned)deflate);
    d = H5Dcreate2 (f, name, type, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose (dcpl);
    H5Sclose (s);
    return d;
}

static void write_rows (hid_t d, int rank, uint64_t first, uint64_t n,
                        hid_t mtype, const void *buf)
{
    hsize_t start[2] = { first, 0 }, count[2] = { n, COLS };
    hid_t fs = H5Dget_space (d), ms = H5Screate_simple (rank, count, NULL);

    if (H5Sselect_hyperslab (fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0
        || H5Dwrite (d, mtype, ms, fs, H5P_DEFAULT, buf) < 0)
        cli_die ("cannot write rows %" PRIu64 "..", first);
    H5Sclose (ms);
    H5Sclose (fs);
}

static void make_file (struct variant *v, uint64_t rows)
{
    hsize_t xdims[2] = { rows, COLS }, ydims[1] = { rows };
    float *x = cli_xmalloc ((size_t)WRITE_ROWS * COLS * sizeof (*x));
    int32_t *y = cli_xmalloc ((size_t)WRITE_ROWS * sizeof (*y));
    hid_t f = H5Fcreate (v->path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t xd, yd;
    struct stat st;
    uint64_t r, n;

    if (f < 0)
        cli_die ("cannot create %s", v->path);
    xd = make_dset (f, "X", H5T_IEEE_F32LE, 2, xdims, v->deflate);
    yd = make_dset (f, "y", H5T_STD_I32LE, 1, ydims, v->deflate);
    if (xd < 0 || yd < 0)
        cli_die ("%s: cannot create the datasets", v->path);
    for (r = 0; r < rows; r += n) {
        n = rows - r < WRITE_ROWS ? rows - r : WRITE_ROWS;
        fill_rows (x, y, r, n, v->deflate > 0);
        write_rows (xd, 2, r, n, H5T_NATIVE_FLOAT, x);
        write_rows (yd, 1, r, n, H5T_NATIVE_INT32, y);
    }
    H5Dclose (xd);
    H5Dclose (yd);
    if (H5Fclose (f) < 0 || stat (v->path, &st) < 0)
        cli_die ("%s: cannot write it", v->path);
    v->bytes = (uint64_t)st.st_size;
    free (x);
    free (y);
}

/* --- measurements -------------------------------------------------------- */

struct result {
    uint64_t bytes;   /* written (or read, for sha256) */
    double seconds;
};

typedef struct result (*method_f) (const struct bench *b,
                                   const struct variant *v, const char *dst);

static void unlink_outputs (const char *dst)
{
    char p[4300];
    int i;

    unlink (dst);
    for (i = 0; i < SHARDS; i++) {
        snprintf (p, sizeof (p), "%s.%d", dst, i);
        unlink (p);
    }
}

static struct result run_cp (const struct bench *b, const struct variant *v,
                             const char *dst)
{
    char *argv[] = { "/bin/cp", (char *)v->path, (char *)dst, NULL };
    struct result r = { v->bytes, 0 };
    double t0 = now ();
    int status;
    pid_t pid;

    if ((errno = posix_spawn (&pid, argv[0], NULL, NULL, argv, NULL)) != 0)
        cli_die ("cannot run /bin/cp: %s", strerror (errno));
    if (waitpid (pid, &status, 0) < 0 || !WIFEXITED (status)
        || WEXITSTATUS (status) != 0)
        cli_die ("/bin/cp %s %s failed", v->path, dst);
    r.seconds = now () - t0;
    return r;
}

static struct result copy (const struct variant *v, const char *dst,
                           char *sha)
{
    struct result r = { 0, 0 };
    aios_error_t err;
    double t0 = now ();

    if (h5data_copy (v->path, dst, 0, 0, sha, NULL, NULL, &r.bytes, &err) < 0)
        cli_die ("%s", err.text);
    r.seconds = now () - t0;
    return r;
}

static struct result run_copy (const struct bench *b, const struct variant *v,
                               const char *dst)
{
    return copy (v, dst, NULL);
}

static struct result run_copy_sha (const struct bench *b,
                                   const struct variant *v, const char *dst)
{
    char sha[65];

    return copy (v, dst, sha);
}

/* The four shards, one after the other; checked: as nodes stage them,
 * each checking the catalog's block checksums of the bytes it reads. */
static struct result shards (const struct variant *v, const char *dst,
                             bool checked)
{
    struct result r = { 0, 0 };
    aios_error_t err;
    char p[4300];
    double t0 = now ();
    uint64_t n;
    int i, rc;

    for (i = 0; i < SHARDS; i++) {
        snprintf (p, sizeof (p), "%s.%d", dst, i);
        rc = checked ? h5data_copy_checked (v->path, p, i, SHARDS, &v->blocks,
                                            NULL, NULL, &n, &err)
                     : h5data_copy (v->path, p, i, SHARDS, NULL, NULL, NULL,
                                    &n, &err);
        if (rc < 0)
            cli_die ("%s", err.text);
        r.bytes += n;
    }
    r.seconds = now () - t0;
    return r;
}

static struct result run_shards (const struct bench *b,
                                 const struct variant *v, const char *dst)
{
    return shards (v, dst, false);
}

static struct result run_shards_checked (const struct bench *b,
                                         const struct variant *v,
                                         const char *dst)
{
    return shards (v, dst, true);
}

static struct result run_sha (const struct bench *b, const struct variant *v,
                              const char *dst)
{
    struct result r = { v->bytes, 0 };
    aios_error_t err;
    double t0 = now ();
    char sha[65];

    if (h5data_sha256 (v->path, sha, NULL, NULL, &err) < 0)
        cli_die ("%s", err.text);
    r.seconds = now () - t0;
    return r;
}

static int cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Drop path's pages (only this file's) from the page cache. */
static void drop_cached (const char *path)
{
    int fd = open (path, O_RDONLY);

    if (fd < 0)
        cli_die ("%s: %s", path, strerror (errno));
    fdatasync (fd);
    if ((errno = posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED)) != 0)
        cli_die ("%s: posix_fadvise: %s", path, strerror (errno));
    close (fd);
}

/* Touch bytes of memory and free it again.  A virtual machine may hand
 * freed memory back to its host (free page reporting: Firecracker, for one,
 * does); the next first touch of such memory then costs a fault in the
 * host, and a run that writes 1 GiB into the page cache could take twice as
 * long as the same run right after another (measured here).  Each run
 * first takes the memory it will write from the guest, as a busy node's
 * page cache does. */
static void recycle_memory (uint64_t bytes)
{
    long page = sysconf (_SC_PAGESIZE);
    unsigned char *p;
    uint64_t i;

    p = mmap (NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    for (i = 0; i < bytes; i += (uint64_t)page)
        p[i] = 1;
    munmap (p, (size_t)bytes);
}

/* One run of fn, from a clean start. */
static struct result run_once (const struct bench *b, const struct variant *v,
                               method_f fn)
{
    struct result r;
    char dst[4200];

    snprintf (dst, sizeof (dst), "%s/out.h5", b->dir);
    if (b->cold)
        drop_cached (v->path);
    sync ();    /* every run starts without the last one's writeback */
    recycle_memory (v->bytes + v->bytes / 4 + (64 << 20));
    r = fn (b, v, dst);
    unlink_outputs (dst);
    return r;
}

/* Read the file once so that the runs find it in the page cache. */
static void warm_up (const struct variant *v)
{
    aios_error_t err;
    char sha[65];

    if (h5data_sha256 (v->path, sha, NULL, NULL, &err) < 0)
        cli_die ("%s", err.text);
}

static void print_row (const char *variant, const char *method,
                       struct result r, double cp_rate)
{
    double rate = r.seconds > 0 ? r.bytes / r.seconds : 0;

    printf ("%-8s %-16s %12" PRIu64 " %8.3f %9.1f %7.0f%%\n", variant, method,
            r.bytes, r.seconds, rate / 1e6, cp_rate > 0 ? 100 * rate / cp_rate
                                                       : 0);
}

static const struct {
    const char *name;
    method_f fn;
} methods[] = {
    { "cp", run_cp },
    { "copy", run_copy },
    { "copy+sha256", run_copy_sha },
    { "4 shards", run_shards },
    { "4 shards+check", run_shards_checked },
    { "sha256", run_sha },
};

enum { NMETHODS = sizeof (methods) / sizeof (methods[0]) };

/* Each run times every method once, one after the other, so that drift in
 * the machine's speed (it may be shared) touches all of them alike; the
 * median of the runs is printed. */
static void bench_variant (const struct bench *b, struct variant *v)
{
    static double secs[NMETHODS][MAX_RUNS];
    struct result r[NMETHODS];
    size_t m;
    int i;

    warm_up (v);
    for (i = 0; i < b->runs; i++)
        for (m = 0; m < NMETHODS; m++) {
            r[m] = run_once (b, v, methods[m].fn);
            secs[m][i] = r[m].seconds;
        }
    for (m = 0; m < NMETHODS; m++) {
        qsort (secs[m], (size_t)b->runs, sizeof (double), cmp_double);
        r[m].seconds = secs[m][b->runs / 2];
        if (m == 0)
            v->cp_rate = r[m].bytes / r[m].seconds;
        print_row (v->name, methods[m].name, r[m], v->cp_rate);
    }
    fflush (stdout);
}

/* --- main ---------------------------------------------------------------- */

static const char *fs_name (const char *dir)
{
    struct statfs s;

    if (statfs (dir, &s) < 0)
        return "?";
    switch ((unsigned long)s.f_type) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x01021994: return "tmpfs";
    case 0x794c7630: return "overlayfs";
    case 0x9123683E: return "btrfs";
    case 0x6969: return "nfs";
    default: return "other";
    }
}

static void parse_args (struct bench *b, int argc, char **argv)
{
    aios_error_t err;
    uint64_t mb = 0;
    long runs;
    int c;

    opterr = 0;
    while ((c = getopt_long (argc, argv, "d:s:r:kc", opts, NULL)) != -1) {
        switch (c) {
        case 'd': b->dir = optarg; break;
        case 's':
            if (parse_size_mb (optarg, &mb, &err) < 0 || mb == 0)
                cli_usage_error ("--size: %s", mb == 0 ? "must be > 0" : err.text);
            b->size = mb << 20;
            break;
        case 'r':
            if (parse_long (optarg, 1, MAX_RUNS, &runs, &err) < 0)
                cli_usage_error ("--runs: %s", err.text);
            b->runs = (int)runs;
            break;
        case 'k': b->keep = true; break;
        case 'c': b->cold = true; break;
        case 'H': fputs (usage_text, stdout); exit (CLI_OK);
        default:
            cli_usage_error ("unknown or incomplete option \"%s\"",
                             argv[optind - 1]);
        }
    }
    if (optind < argc)
        cli_usage_error ("unexpected argument \"%s\"", argv[optind]);
}

int main (int argc, char **argv)
{
    struct bench b = { "/tmp/aios-bench-staging", 1ULL << 30, 3, false, false };
    struct variant v[2] = { { .name = "plain" }, { .name = "deflate", .deflate = 1 } };
    aios_error_t err;
    uint64_t rows;
    int i;

    cli_init (argv[0]);
    parse_args (&b, argc, argv);
    if (mkdir (b.dir, 0755) < 0 && errno != EEXIST)
        cli_die ("%s: %s", b.dir, strerror (errno));
    rows = b.size / (COLS * sizeof (float));
    if (rows == 0)
        rows = 1;
    printf ("# %" PRIu64 " rows x %d float32 (X) + int32 labels (y), chunks of "
            "%d rows; %s on %s; median of %d %s runs\n", rows, COLS,
            CHUNK_ROWS, b.dir, fs_name (b.dir), b.runs,
            b.cold ? "cold (source read from disk)" : "warm");
    for (i = 0; i < 2; i++) {
        snprintf (v[i].path, sizeof (v[i].path), "%s/%s.h5", b.dir, v[i].name);
        make_file (&v[i], rows);
        if (h5data_block_sums (v[i].path, CATALOG_BLOCK_BYTES, &v[i].blocks,
                               NULL, NULL, NULL, &err) < 0)
            cli_die ("%s", err.text);
        printf ("# %s: %s, %" PRIu64 " bytes\n", v[i].name, v[i].path,
                v[i].bytes);
    }
    printf ("%-8s %-16s %12s %8s %9s %8s\n", "VARIANT", "METHOD", "BYTES",
            "SECONDS", "MB/s", "% OF CP");
    for (i = 0; i < 2; i++)
        bench_variant (&b, &v[i]);
    for (i = 0; i < 2; i++)
        free (v[i].blocks.sha256);
    if (!b.keep) {
        for (i = 0; i < 2; i++)
            unlink (v[i].path);
        rmdir (b.dir);
    }
    return CLI_OK;
}
