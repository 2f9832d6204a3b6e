/* model.c - softmax regression or a one-hidden-layer ReLU MLP */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "rng.h"

struct model {
    int d, h, k;            /* inputs, hidden units (0: none), classes */
    size_t n;               /* parameters */
    float *p;               /* W1 b1 [W2 b2] */
    float *w1, *b1, *w2, *b2;
    float *z;               /* hidden pre-activations (h) */
    float *act;             /* hidden activations (h) */
    float *prob;            /* class probabilities (k) */
    float *dlogit;          /* gradient of the loss by the logits (k) */
    float *delta;           /* gradient by the hidden pre-activations (h) */
};

void model_destroy (struct model *m)
{
    int saved = errno;

    if (m) {
        free (m->p);
        free (m->z);
        free (m->act);
        free (m->prob);
        free (m->dlogit);
        free (m->delta);
        free (m);
    }
    errno = saved;
}

/* w (fan_in x fan_out) from N(0, gain / fan_in). */
static void init_weights (float *w, int fan_in, int fan_out, double gain,
                          struct rng *r)
{
    double sd = sqrt (gain / fan_in);

    for (long i = 0; i < (long)fan_in * fan_out; i++)
        w[i] = (float)(sd * rng_normal (r));
}

struct model *model_create (int features, int hidden, int classes,
                            uint64_t seed)
{
    struct model *m = calloc (1, sizeof (*m));
    int out1 = hidden > 0 ? hidden : classes;
    struct rng r;

    if (!m)
        return NULL;
    m->d = features;
    m->h = hidden > 0 ? hidden : 0;
    m->k = classes;
    m->n = (size_t)features * out1 + out1;
    if (m->h)
        m->n += (size_t)m->h * classes + classes;
    m->p = calloc (m->n, sizeof (float));
    m->z = calloc (out1, sizeof (float));
    m->act = calloc (out1, sizeof (float));
    m->prob = calloc (classes, sizeof (float));
    m->dlogit = calloc (classes, sizeof (float));
    m->delta = calloc (out1, sizeof (float));
    if (!m->p || !m->z || !m->act || !m->prob || !m->dlogit || !m->delta)
        goto error;
    m->w1 = m->p;
    m->b1 = m->w1 + (size_t)features * out1;
    m->w2 = m->h ? m->b1 + out1 : NULL;
    m->b2 = m->h ? m->w2 + (size_t)m->h * classes : NULL;
    rng_seed (&r, seed);
    init_weights (m->w1, features, out1, m->h ? 2.0 : 1.0, &r);
    if (m->h)
        init_weights (m->w2, m->h, classes, 1.0, &r);
    return m;
error:
    model_destroy (m);
    errno = ENOMEM;
    return NULL;
}

float *model_params (struct model *m, size_t *n)
{
    *n = m->n;
    return m->p;
}

const float *model_tensor (struct model *m, int i, size_t *rows, size_t *cols)
{
    size_t out1 = m->h ? (size_t)m->h : (size_t)m->k;

    *cols = 0;
    switch (i) {
    case 0: *rows = m->d; *cols = out1; return m->w1;
    case 1: *rows = out1; return m->b1;
    case 2: *rows = m->h; *cols = m->k; return m->h ? m->w2 : NULL;
    case 3: *rows = m->k; return m->h ? m->b2 : NULL;
    default: return NULL;
    }
}

/* out = b + in w, with w (nin x nout) row-major. */
static void dense (const float *in, int nin, const float *w, const float *b,
                   int nout, float *out)
{
    memcpy (out, b, sizeof (*out) * nout);
    for (int i = 0; i < nin; i++) {
        const float *row = w + (size_t)i * nout;
        float v = in[i];
        if (v == 0.0f)
            continue;
        for (int o = 0; o < nout; o++)
            out[o] += v * row[o];
    }
}

static void softmax (float *v, int k)
{
    float max = v[0], sum = 0.0f;

    for (int i = 1; i < k; i++)
        if (v[i] > max)
            max = v[i];
    for (int i = 0; i < k; i++)
        sum += (v[i] = expf (v[i] - max));
    for (int i = 0; i < k; i++)
        v[i] /= sum;
}

/* Fill m->prob (and m->z, m->act for the MLP) for input x. */
static void forward (struct model *m, const float *x)
{
    if (!m->h) {
        dense (x, m->d, m->w1, m->b1, m->k, m->prob);
    } else {
        dense (x, m->d, m->w1, m->b1, m->h, m->z);
        for (int j = 0; j < m->h; j++)
            m->act[j] = m->z[j] > 0.0f ? m->z[j] : 0.0f;
        dense (m->act, m->h, m->w2, m->b2, m->k, m->prob);
    }
    softmax (m->prob, m->k);
}

static double cross_entropy (const struct model *m, int y)
{
    return -log (fmax (m->prob[y], 1e-30));
}

/* gw += in^T delta, gb += delta (one sample). */
static void dense_grad (const float *in, int nin, const float *delta,
                        int nout, float *gw, float *gb)
{
    for (int o = 0; o < nout; o++)
        gb[o] += delta[o];
    for (int i = 0; i < nin; i++) {
        float *row = gw + (size_t)i * nout;
        float v = in[i];
        if (v == 0.0f)
            continue;
        for (int o = 0; o < nout; o++)
            row[o] += v * delta[o];
    }
}

double model_gradient (struct model *m, const float *x, int y, float *grad)
{
    size_t out1 = m->h ? (size_t)m->h : (size_t)m->k;
    float *gw1 = grad, *gb1 = grad + (size_t)m->d * out1;
    float *dlogit = m->dlogit;

    forward (m, x);
    for (int o = 0; o < m->k; o++)
        dlogit[o] = m->prob[o] - (o == y ? 1.0f : 0.0f);
    if (!m->h) {
        dense_grad (x, m->d, dlogit, m->k, gw1, gb1);
        return cross_entropy (m, y);
    }
    dense_grad (m->act, m->h, dlogit, m->k, gb1 + m->h,
                gb1 + m->h + (size_t)m->h * m->k);
    for (int j = 0; j < m->h; j++) {
        const float *row = m->w2 + (size_t)j * m->k;
        float s = 0.0f;
        for (int o = 0; o < m->k; o++)
            s += row[o] * dlogit[o];
        m->delta[j] = m->z[j] > 0.0f ? s : 0.0f;
    }
    dense_grad (x, m->d, m->delta, m->h, gw1, gb1);
    return cross_entropy (m, y);
}

static int argmax (const float *v, int k)
{
    int best = 0;

    for (int i = 1; i < k; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

void model_evaluate (struct model *m, const float *x, const int *y, size_t n,
                     double *loss, double *correct)
{
    for (size_t i = 0; i < n; i++) {
        forward (m, x + i * m->d);
        *loss += cross_entropy (m, y[i]);
        *correct += argmax (m->prob, m->k) == y[i];
    }
}

void model_update (struct model *m, const float *grad, float scale)
{
    for (size_t i = 0; i < m->n; i++)
        m->p[i] -= scale * grad[i];
}
