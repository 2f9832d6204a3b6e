/* train.c - data-parallel training of a classifier on an HDF5 data set
 *
 * Every rank opens the data file read-only (serial HDF5) and reads its own
 * rows [r*n/size, (r+1)*n/size) of /train/x and /train/y, and the same
 * share of /test.  All ranks start from the same weights (a fixed seed).
 * Each step every rank computes the gradient of its local mini-batch,
 * MPI_Allreduce sums the gradients (and the batch sizes), and every rank
 * applies the same averaged update, so the weights stay identical.  After
 * each epoch the loss and accuracies are summed over the ranks and rank 0
 * prints them; at the end rank 0 writes the weights to a checkpoint file.
 *
 * Errors are agreed on collectively: the message of the lowest failing
 * rank is printed by rank 0 and every rank exits 1.
 */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "h5io.h"
#include "model.h"
#include "rng.h"

enum {
    MAX_CLASSES = 100000,
};

struct options {
    const char *data, *checkpoint;
    long epochs, batch, hidden;
    double lr;
    unsigned long seed;
};

/* This rank's share of one split of the data set. */
struct split {
    float *x;               /* rows x features */
    int *y;                 /* rows */
    size_t rows;            /* this rank's rows */
    unsigned long long total;  /* rows in the file */
    bool sharded;           /* the file is this node's shard of them */
};

struct trainer {
    struct options opt;
    int rank, size;
    int local_rank, local_size;     /* among the ranks of this node */
    int features, classes;
    struct split train, test;
    struct model *model;
    float *grad;            /* gradient, then the batch size at [nparams] */
    size_t nparams;
    size_t *order;          /* this epoch's order of the local train rows */
    long steps;             /* steps per epoch, the same on every rank */
};

static void usage (FILE *f)
{
    fprintf (f,
        "Usage: train [--epochs E] [--lr LR] [--batch B] [--hidden H]\n"
        "             [--seed S] (--data FILE | --dataset NAME)\n"
        "             --checkpoint OUT.h5\n"
        "Data-parallel SGD over MPI on an HDF5 data set (/train/x, /train/y,\n"
        "/test/x, /test/y, as written by gen-data).  Softmax regression, or\n"
        "a one-hidden-layer ReLU network of H units with --hidden H.\n"
        "Defaults: --epochs 5 --lr 0.1 --batch 64 (per rank) --hidden 0\n"
        "--seed 1.  --dataset NAME reads this node's copy of a dataset staged\n"
        "with aios-submit --stage-in=NAME[,shard] (AIOS_DATASET_NAME); of a\n"
        "shard, the ranks of each node share its rows.\n");
}

static int parse_long (const char *opt, const char *s, long min, long max,
                       long *out, h5io_error_t *err)
{
    char *end;
    long v = strtol (s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < min || v > max)
        return h5io_errorf (err, "%s: expected an integer from %ld to %ld, "
                            "got \"%s\"", opt, min, max, s);
    *out = v;
    return 0;
}

static int parse_lr (const char *s, double *out, h5io_error_t *err)
{
    char *end;
    double v = strtod (s, &end);

    if (*s == '\0' || *end != '\0' || !(v > 0.0) || !isfinite (v))
        return h5io_errorf (err, "--lr: expected a positive number, got "
                            "\"%s\"", s);
    *out = v;
    return 0;
}

static const struct option longopts[] = {
    { "epochs",     required_argument, NULL, 'e' },
    { "lr",         required_argument, NULL, 'l' },
    { "batch",      required_argument, NULL, 'b' },
    { "hidden",     required_argument, NULL, 'H' },
    { "seed",       required_argument, NULL, 's' },
    { "data",       required_argument, NULL, 'd' },
    { "dataset",    required_argument, NULL, 'D' },
    { "checkpoint", required_argument, NULL, 'c' },
    { "help",       no_argument,       NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int parse_opt (int c, struct options *o, h5io_error_t *err)
{
    long seed;

    switch (c) {
    case 'e': return parse_long ("--epochs", optarg, 1, 100000, &o->epochs, err);
    case 'l': return parse_lr (optarg, &o->lr, err);
    case 'b': return parse_long ("--batch", optarg, 1, 1000000, &o->batch, err);
    case 'H': return parse_long ("--hidden", optarg, 0, 100000, &o->hidden, err);
    case 'd': o->data = optarg; return 0;
    case 'D': {
        /* a staged dataset: this node's copy, whose path differs by node;
         * the name is made a variable as aiosd does (catalog_env_name(),
         * written out here because the example stands alone) */
        char var[128];
        size_t i;
        snprintf (var, sizeof (var), "AIOS_DATASET_%s", optarg);
        for (i = 13; var[i]; i++)
            var[i] = isalnum ((unsigned char)var[i])
                         ? (char)toupper ((unsigned char)var[i]) : '_';
        if (!(o->data = getenv (var)))
            return h5io_errorf (err, "--dataset %s: %s is not set (submit the "
                                "job with --stage-in=%s)", optarg, var, optarg);
        return 0;
    }
    case 'c': o->checkpoint = optarg; return 0;
    case 's':
        if (parse_long ("--seed", optarg, 0, LONG_MAX, &seed, err) < 0)
            return -1;
        o->seed = (unsigned long)seed;
        return 0;
    default: return h5io_errorf (err, "unknown option");
    }
}

/* Every rank parses the same arguments and gets the same answer: 0, 1 for
 * --help, or -1 with the problem in err. */
static int parse_args (int argc, char **argv, struct options *o,
                       h5io_error_t *err)
{
    int c;

    *o = (struct options){ NULL, NULL, 5, 64, 0, 0.1, 1 };
    opterr = 0;
    while ((c = getopt_long (argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h')
            return 1;
        if (c == ':')
            return h5io_errorf (err, "%s needs an argument", argv[optind - 1]);
        if (c == '?')
            return h5io_errorf (err, "unknown option \"%s\"", argv[optind - 1]);
        if (parse_opt (c, o, err) < 0)
            return -1;
    }
    if (optind < argc)
        return h5io_errorf (err, "unexpected argument \"%s\"", argv[optind]);
    if (!o->data)
        return h5io_errorf (err, "no data file: give --data FILE");
    if (!o->checkpoint)
        return h5io_errorf (err, "no checkpoint file: give --checkpoint OUT.h5");
    return 0;
}

/* Collective.  0 if rc is 0 on every rank; otherwise -1 on every rank, with
 * the message of the lowest failing rank in err everywhere. */
static int agree (int rc, h5io_error_t *err, int rank)
{
    int mine = rc < 0 ? rank : INT_MAX, first;

    MPI_Allreduce (&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == INT_MAX)
        return 0;
    MPI_Bcast (err->text, sizeof (err->text), MPI_CHAR, first, MPI_COMM_WORLD);
    return -1;
}

/* Open /group/x and /group/y, check that they match, and return their row
 * count and the number of features. */
static int split_open (hid_t file, const char *path, const char *group,
                       hid_t *dx, hid_t *dy,
                       hsize_t *rows, int *features, h5io_error_t *err)
{
    char xname[32], yname[32];
    hsize_t xdims[2], ydims[2];
    int xnd, ynd;

    snprintf (xname, sizeof (xname), "/%s/x", group);
    snprintf (yname, sizeof (yname), "/%s/y", group);
    if ((*dx = h5io_dataset_open (file, xname, xdims, &xnd, err)) < 0
        || (*dy = h5io_dataset_open (file, yname, ydims, &ynd, err)) < 0)
        return -1;
    if (xnd != 2 || ynd != 1)
        return h5io_errorf (err, "%s: %s must be 2-D (rows x features) and "
                            "%s 1-D (labels)", path, xname, yname);
    if (xdims[0] != ydims[0])
        return h5io_errorf (err, "%s: %s has %llu rows but %s has %llu", path,
                            xname,
                            (unsigned long long)xdims[0], yname,
                            (unsigned long long)ydims[0]);
    *rows = xdims[0];
    *features = (int)xdims[1];
    return 0;
}

/* An integer attribute of the file's root group, or -1. */
static long long root_attr (hid_t file, const char *name)
{
    long long v = -1;
    hid_t a;

    if (H5Aexists (file, name) <= 0 || (a = H5Aopen (file, name, H5P_DEFAULT)) < 0)
        return -1;
    if (H5Aread (a, H5T_NATIVE_LLONG, &v) < 0)
        v = -1;
    H5Aclose (a);
    return v;
}

/* Read this rank's rows of /group into s and check its labels.  A file
 * staged as a shard (aios-submit --stage-in=NAME,shard) holds only this
 * node's rows of the sharded datasets: the ranks on this node share them. */
static int split_load (struct trainer *t, hid_t file, const char *group,
                       struct split *s, int *features, h5io_error_t *err)
{
    hid_t dx = -1, dy = -1;
    hsize_t total = 0, first;
    int rc = -1, rank = t->rank, size = t->size;

    if (split_open (file, t->opt.data, group, &dx, &dy, &total, features,
                    err) < 0)
        goto done;
    s->total = total;
    if (root_attr (file, "shard_count") > 0
        && root_attr (file, "shard_rows") == (long long)total) {
        rank = t->local_rank;
        size = t->local_size;
        s->sharded = true;
    }
    first = (hsize_t)rank * total / (hsize_t)size;
    s->rows = (size_t)((hsize_t)(rank + 1) * total / (hsize_t)size - first);
    s->x = malloc (sizeof (float) * (s->rows * *features + 1));
    s->y = malloc (sizeof (int) * (s->rows + 1));
    if (!s->x || !s->y) {
        h5io_errorf (err, "out of memory for %zu rows of /%s", s->rows, group);
        goto done;
    }
    if (h5io_read_rows (dx, H5T_NATIVE_FLOAT, first, s->rows, s->x, err) < 0
        || h5io_read_rows (dy, H5T_NATIVE_INT, first, s->rows, s->y, err) < 0)
        goto done;
    for (size_t i = 0; i < s->rows; i++) {
        if (s->y[i] < 0 || s->y[i] >= MAX_CLASSES) {
            h5io_errorf (err, "%s: /%s/y: label %d of row %llu is not a "
                         "class number (0 to %d)", t->opt.data, group, s->y[i],
                         (unsigned long long)(first + i), MAX_CLASSES - 1);
            goto done;
        }
    }
    rc = 0;
done:
    H5Dclose (dx);
    H5Dclose (dy);
    return rc;
}

static int load_data (struct trainer *t, h5io_error_t *err)
{
    const char *path = t->opt.data;
    hid_t file = h5io_open (path, err);
    int test_features = 0, rc = -1;

    if (file < 0)
        return -1;
    if (split_load (t, file, "train", &t->train, &t->features, err) < 0
        || split_load (t, file, "test", &t->test, &test_features, err) < 0)
        goto done;
    if (t->train.sharded) {
        /* every node's shard counts: the rows of the whole data set */
        unsigned long long mine = t->local_rank == 0 ? t->train.total : 0;
        MPI_Allreduce (&mine, &t->train.total, 1, MPI_UNSIGNED_LONG_LONG,
                       MPI_SUM, MPI_COMM_WORLD);
    }
    if (t->train.total < (unsigned long long)t->size) {
        h5io_errorf (err, "%s: /train has %llu rows, fewer than the %d ranks",
                     path, t->train.total, t->size);
        goto done;
    }
    if (test_features != t->features) {
        h5io_errorf (err, "%s: /test/x has %d features but /train/x has %d",
                     path, test_features, t->features);
        goto done;
    }
    rc = 0;
done:
    H5Fclose (file);
    return rc;
}

/* Largest label + 1 in s, at least n. */
static int count_classes (const struct split *s, int n)
{
    for (size_t i = 0; i < s->rows; i++)
        if (s->y[i] >= n)
            n = s->y[i] + 1;
    return n;
}

/* The class count (largest label + 1 over all ranks), the model, and the
 * steps per epoch.  Collective. */
static int setup (struct trainer *t, h5io_error_t *err)
{
    int mine = count_classes (&t->test, count_classes (&t->train, 0));
    long rows = (long)t->train.rows, most;

    MPI_Allreduce (&mine, &t->classes, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce (&rows, &most, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
    t->steps = (most + t->opt.batch - 1) / t->opt.batch;
    t->model = model_create (t->features, (int)t->opt.hidden, t->classes,
                             t->opt.seed);
    if (!t->model)
        return h5io_errorf (err, "out of memory for the model");
    model_params (t->model, &t->nparams);
    t->grad = malloc (sizeof (float) * (t->nparams + 1));
    t->order = malloc (sizeof (size_t) * (t->train.rows + 1));
    if (!t->grad || !t->order)
        return h5io_errorf (err, "out of memory for the gradient");
    for (size_t i = 0; i < t->train.rows; i++)
        t->order[i] = i;
    return 0;
}

/* A fresh permutation of the local rows: different per rank and epoch,
 * the same from run to run. */
static void shuffle (struct trainer *t, long epoch)
{
    struct rng r;

    rng_seed (&r, t->opt.seed * 1000003u + (uint64_t)epoch * 1009u
                  + (uint64_t)t->rank);
    for (size_t i = t->train.rows; i > 1; i--) {
        size_t j = (size_t)rng_below (&r, i), tmp = t->order[i - 1];
        t->order[i - 1] = t->order[j];
        t->order[j] = tmp;
    }
}

/* One synchronous SGD step on local rows [lo, hi) of this epoch's order. */
static void step (struct trainer *t, size_t lo, size_t hi)
{
    float *g = t->grad;

    for (size_t i = 0; i <= t->nparams; i++)
        g[i] = 0.0f;
    for (size_t i = lo; i < hi; i++) {
        size_t row = t->order[i];
        model_gradient (t->model, t->train.x + row * t->features,
                        t->train.y[row], g);
    }
    g[t->nparams] = (float)(hi - lo);
    MPI_Allreduce (MPI_IN_PLACE, g, (int)t->nparams + 1, MPI_FLOAT, MPI_SUM,
                   MPI_COMM_WORLD);
    if (g[t->nparams] > 0.0f)
        model_update (t->model, g, (float)t->opt.lr / g[t->nparams]);
}

static void train_epoch (struct trainer *t, long epoch)
{
    size_t b = (size_t)t->opt.batch, n = t->train.rows, np;
    float *p = model_params (t->model, &np);

    shuffle (t, epoch);
    for (long s = 0; s < t->steps; s++) {
        size_t lo = (size_t)s * b < n ? (size_t)s * b : n;
        size_t hi = lo + b < n ? lo + b : n;
        step (t, lo, hi);
    }
    /* MPI does not promise bit-identical sums on every rank (the reduction
     * order may differ); rank 0's weights are the truth, once per epoch. */
    MPI_Bcast (p, (int)np, MPI_FLOAT, 0, MPI_COMM_WORLD);
}

/* Mean training loss and the accuracies over all ranks.  Collective. */
static void evaluate (struct trainer *t, double *loss, double *train_acc,
                      double *test_acc)
{
    double v[6] = { 0, 0, (double)t->train.rows, 0, 0, (double)t->test.rows };

    model_evaluate (t->model, t->train.x, t->train.y, t->train.rows,
                    &v[0], &v[1]);
    model_evaluate (t->model, t->test.x, t->test.y, t->test.rows,
                    &v[3], &v[4]);
    MPI_Allreduce (MPI_IN_PLACE, v, 6, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    *loss = v[0] / v[2];
    *train_acc = v[1] / v[2];
    *test_acc = v[5] > 0 ? v[4] / v[5] : 0.0;
}

static int write_weights (struct trainer *t, hid_t file, h5io_error_t *err)
{
    static const char *names[] = { "/W1", "/b1", "/W2", "/b2" };
    const float *w;
    size_t rows, cols;

    for (int i = 0; i < 4 && (w = model_tensor (t->model, i, &rows, &cols)); i++) {
        hsize_t dims[2] = { rows, cols };
        hid_t d = h5io_dataset_create (file, names[i], H5T_IEEE_F32LE,
                                       cols ? 2 : 1, dims, 0, 0, err);
        int rc = d < 0 ? -1
                       : h5io_write_rows (d, H5T_NATIVE_FLOAT, 0, rows, w, err);
        H5Dclose (d);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Rank 0 only. */
static int checkpoint (struct trainer *t, int epoch, double loss,
                       double accuracy, h5io_error_t *err)
{
    const char *path = t->opt.checkpoint;
    hid_t file = h5io_create (path, err);
    int rc = -1;

    if (file < 0)
        return -1;
    if (write_weights (t, file, err) == 0
        && h5io_attr_write (file, "epoch", H5T_NATIVE_INT, &epoch, err) == 0
        && h5io_attr_write (file, "loss", H5T_NATIVE_DOUBLE, &loss, err) == 0
        && h5io_attr_write (file, "accuracy", H5T_NATIVE_DOUBLE, &accuracy,
                            err) == 0
        && h5io_attr_write (file, "ranks", H5T_NATIVE_INT, &t->size, err) == 0
        && h5io_attr_string (file, "model", t->opt.hidden ? "mlp" : "softmax",
                             err) == 0)
        rc = 0;
    if (H5Fclose (file) < 0 && rc == 0)
        rc = h5io_errorf (err, "cannot write %s: closing it failed", path);
    return rc;
}

static void print_header (const struct trainer *t)
{
    printf ("train: %s: %llu train rows (about %llu per rank), %llu test rows,"
            " %d features, %d classes\n", t->opt.data, t->train.total,
            t->train.total / t->size, t->test.total, t->features, t->classes);
    if (t->opt.hidden)
        printf ("train: mlp with %ld hidden units", t->opt.hidden);
    else
        printf ("train: softmax regression");
    printf (", %zu parameters; %d ranks x batch %ld, lr %g, %ld epochs\n",
            t->nparams, t->size, t->opt.batch, t->opt.lr, t->opt.epochs);
    fflush (stdout);
}

static int run (struct trainer *t, h5io_error_t *err)
{
    double loss = 0.0, train_acc = 0.0, test_acc = 0.0;
    int rc;

    if (agree (load_data (t, err), err, t->rank) < 0
        || agree (setup (t, err), err, t->rank) < 0)
        return -1;
    if (t->rank == 0)
        print_header (t);
    for (long e = 1; e <= t->opt.epochs; e++) {
        train_epoch (t, e);
        evaluate (t, &loss, &train_acc, &test_acc);
        if (t->rank == 0) {
            printf ("epoch %ld loss %.4f train_acc %.4f test_acc %.4f\n", e,
                    loss, train_acc, test_acc);
            fflush (stdout);
        }
    }
    rc = t->rank == 0 ? checkpoint (t, (int)t->opt.epochs, loss, test_acc, err)
                      : 0;
    if (agree (rc, err, t->rank) < 0)
        return -1;
    if (t->rank == 0)
        printf ("checkpoint %s written\n", t->opt.checkpoint);
    return 0;
}

static void trainer_free (struct trainer *t)
{
    free (t->train.x);
    free (t->train.y);
    free (t->test.x);
    free (t->test.y);
    free (t->grad);
    free (t->order);
    model_destroy (t->model);
}

int main (int argc, char **argv)
{
    struct trainer t = { 0 };
    h5io_error_t err;
    int rc;

    MPI_Init (&argc, &argv);
    MPI_Comm_rank (MPI_COMM_WORLD, &t.rank);
    MPI_Comm_size (MPI_COMM_WORLD, &t.size);
    {
        /* the ranks of one node: AIOS_NODEID under AIOS (several "nodes"
         * may be one machine), else those sharing memory */
        const char *nid = getenv ("AIOS_NODEID");
        MPI_Comm local;
        if (nid)
            MPI_Comm_split (MPI_COMM_WORLD, atoi (nid), t.rank, &local);
        else
            MPI_Comm_split_type (MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, t.rank,
                                 MPI_INFO_NULL, &local);
        MPI_Comm_rank (local, &t.local_rank);
        MPI_Comm_size (local, &t.local_size);
        MPI_Comm_free (&local);
    }
    h5io_quiet ();
    rc = parse_args (argc, argv, &t.opt, &err);
    if (rc != 0) {
        if (t.rank == 0 && rc < 0)
            fprintf (stderr, "train: %s\nTry 'train --help'.\n", err.text);
        if (t.rank == 0 && rc > 0)
            usage (stdout);
        MPI_Finalize ();
        return rc > 0 ? 0 : 2;
    }
    rc = run (&t, &err);
    if (rc < 0 && t.rank == 0)
        fprintf (stderr, "train: %s\n", err.text);
    trainer_free (&t);
    MPI_Finalize ();
    return rc < 0 ? 1 : 0;
}
