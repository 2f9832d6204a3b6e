/* gen-data.c - write a learnable synthetic classification data set to HDF5
 *
 * K classes, each a Gaussian blob in D dimensions: the class centers are
 * drawn from N(0, CENTER_SCALE^2) per coordinate, every sample is its
 * class center plus N(0, 1) noise, and labels are uniform.  A linear model
 * separates the blobs well, so softmax regression learns it in an epoch.
 *
 * Layout of the file (all datasets chunked by CHUNK_ROWS rows, gzip 4):
 *   /train/x  float32 N x D      /train/y  int32 N
 *   /test/x   float32 M x D      /test/y   int32 M
 *   root attributes: classes, features, seed, description
 *
 * The generator is rng.h, seeded with --seed: the same options give the
 * same numbers everywhere.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5io.h"
#include "rng.h"

enum {
    CHUNK_ROWS = 1024,
    GZIP_LEVEL = 4,
};
#define CENTER_SCALE 0.8

struct options {
    const char *out;
    long train, test, features, classes;
    uint64_t seed;
};

static void usage (FILE *f)
{
    fprintf (f,
        "Usage: gen-data -o FILE [--train N] [--test N] [--features D]\n"
        "                [--classes K] [--seed S]\n"
        "Write a synthetic classification data set (K Gaussian blobs in D\n"
        "dimensions) to the HDF5 file FILE: /train/x, /train/y, /test/x,\n"
        "/test/y.  Defaults: --train 20000 --test 4000 --features 16\n"
        "--classes 4 --seed 1.\n");
}

/* An integer option in [min, max], or -1 with a message naming it. */
static int parse_long (const char *opt, const char *s, long min, long max,
                       long *out)
{
    char *end;
    long v;

    v = strtol (s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        fprintf (stderr, "gen-data: %s: expected an integer from %ld to %ld, "
                 "got \"%s\"\n", opt, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_seed (const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull (s, &end, 10);

    if (*s == '\0' || *s == '-' || *end != '\0') {
        fprintf (stderr, "gen-data: --seed: expected a non-negative integer, "
                 "got \"%s\"\n", s);
        return -1;
    }
    *out = v;
    return 0;
}

static const struct option longopts[] = {
    { "output",   required_argument, NULL, 'o' },
    { "train",    required_argument, NULL, 'n' },
    { "test",     required_argument, NULL, 'm' },
    { "features", required_argument, NULL, 'd' },
    { "classes",  required_argument, NULL, 'k' },
    { "seed",     required_argument, NULL, 's' },
    { "help",     no_argument,       NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* Returns 0, 1 for --help, or -1 after printing what is wrong. */
static int parse_args (int argc, char **argv, struct options *o)
{
    int c, rc = 0;

    *o = (struct options){ NULL, 20000, 4000, 16, 4, 1 };
    while (rc == 0 && (c = getopt_long (argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'n': rc = parse_long ("--train", optarg, 1, 100000000, &o->train); break;
        case 'm': rc = parse_long ("--test", optarg, 1, 100000000, &o->test); break;
        case 'd': rc = parse_long ("--features", optarg, 1, 4096, &o->features); break;
        case 'k': rc = parse_long ("--classes", optarg, 2, 1000, &o->classes); break;
        case 's': rc = parse_seed (optarg, &o->seed); break;
        case 'h': return 1;
        default: return -1;
        }
    }
    if (rc == 0 && optind < argc) {
        fprintf (stderr, "gen-data: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (rc == 0 && !o->out) {
        fprintf (stderr, "gen-data: no output file: give -o FILE\n");
        return -1;
    }
    return rc;
}

/* Draw one row: its label and its features (center + unit noise). */
static void draw_row (struct rng *r, const struct options *o,
                      const double *centers, float *x, int32_t *y)
{
    int k = (int)rng_below (r, (uint64_t)o->classes);

    *y = k;
    for (long j = 0; j < o->features; j++)
        x[j] = (float)(centers[k * o->features + j] + rng_normal (r));
}

/* Write /group/x and /group/y with rows drawn from r, CHUNK_ROWS at a time. */
static int write_split (hid_t file, const char *group, long rows,
                        const struct options *o, const double *centers,
                        struct rng *r, h5io_error_t *err)
{
    char xname[64], yname[64];
    hsize_t dims[2] = { (hsize_t)rows, (hsize_t)o->features };
    float *x = malloc (sizeof (*x) * CHUNK_ROWS * o->features);
    int32_t *y = malloc (sizeof (*y) * CHUNK_ROWS);
    hid_t dx, dy;
    int rc = -1;

    snprintf (xname, sizeof (xname), "/%s/x", group);
    snprintf (yname, sizeof (yname), "/%s/y", group);
    if (!x || !y) {
        free (x);
        free (y);
        return h5io_errorf (err, "out of memory");
    }
    dx = h5io_dataset_create (file, xname, H5T_IEEE_F32LE, 2, dims, CHUNK_ROWS,
                              GZIP_LEVEL, err);
    dy = dx < 0 ? -1 : h5io_dataset_create (file, yname, H5T_STD_I32LE, 1,
                                            dims, CHUNK_ROWS, GZIP_LEVEL, err);
    for (long first = 0; dy >= 0 && first < rows; first += CHUNK_ROWS) {
        long n = rows - first < CHUNK_ROWS ? rows - first : CHUNK_ROWS;
        for (long i = 0; i < n; i++)
            draw_row (r, o, centers, x + i * o->features, y + i);
        if (h5io_write_rows (dx, H5T_NATIVE_FLOAT, first, n, x, err) < 0
            || h5io_write_rows (dy, H5T_NATIVE_INT32, first, n, y, err) < 0)
            goto done;
    }
    rc = dy < 0 ? -1 : 0;
done:
    H5Dclose (dx);
    H5Dclose (dy);
    free (x);
    free (y);
    return rc;
}

static int write_attrs (hid_t file, const struct options *o, h5io_error_t *err)
{
    char desc[256];
    int classes = (int)o->classes, features = (int)o->features;

    snprintf (desc, sizeof (desc),
              "synthetic classification: %d Gaussian blobs in %d dimensions, "
              "centers N(0,%g^2) per coordinate, unit noise, uniform labels; "
              "written by gen-data --seed %" PRIu64,
              classes, features, CENTER_SCALE, o->seed);
    if (h5io_attr_write (file, "classes", H5T_NATIVE_INT, &classes, err) < 0
        || h5io_attr_write (file, "features", H5T_NATIVE_INT, &features, err) < 0
        || h5io_attr_write (file, "seed", H5T_NATIVE_UINT64, &o->seed, err) < 0
        || h5io_attr_string (file, "description", desc, err) < 0)
        return -1;
    return 0;
}

static int generate (const struct options *o, h5io_error_t *err)
{
    struct rng r;
    double *centers = malloc (sizeof (*centers) * o->classes * o->features);
    hid_t file;
    int rc = -1;

    if (!centers)
        return h5io_errorf (err, "out of memory");
    rng_seed (&r, o->seed);
    for (long i = 0; i < o->classes * o->features; i++)
        centers[i] = CENTER_SCALE * rng_normal (&r);
    file = h5io_create (o->out, err);
    if (file >= 0
        && write_split (file, "train", o->train, o, centers, &r, err) == 0
        && write_split (file, "test", o->test, o, centers, &r, err) == 0
        && write_attrs (file, o, err) == 0)
        rc = 0;
    if (file >= 0 && H5Fclose (file) < 0 && rc == 0)
        rc = h5io_errorf (err, "cannot write %s: closing it failed", o->out);
    free (centers);
    return rc;
}

int main (int argc, char **argv)
{
    struct options o;
    h5io_error_t err;
    int rc = parse_args (argc, argv, &o);

    if (rc > 0) {
        usage (stdout);
        return 0;
    }
    if (rc < 0) {
        fprintf (stderr, "Try 'gen-data --help'.\n");
        return 2;
    }
    h5io_quiet ();
    if (generate (&o, &err) < 0) {
        fprintf (stderr, "gen-data: %s\n", err.text);
        return 1;
    }
    printf ("gen-data: wrote %s: %ld train + %ld test rows, %ld features, "
            "%ld classes, seed %" PRIu64 "\n", o.out, o.train, o.test,
            o.features, o.classes, o.seed);
    return 0;
}
