/* model.h - softmax regression or a one-hidden-layer ReLU MLP
 *
 * All parameters live in one flat float vector (W1 b1 [W2 b2], row-major,
 * W1 is inputs x outputs), so a gradient is a vector of the same length
 * that MPI can sum in one call.  With hidden == 0 the model is softmax
 * regression (W1: d x k); otherwise x -> ReLU(x W1 + b1) -> W2 + b2.
 */
#ifndef TRAIN_MODEL_H
#define TRAIN_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct model;

/* Weights drawn from seed (the same on every rank), biases zero.  Returns
 * NULL with errno = ENOMEM.  Caller frees with model_destroy(). */
struct model *model_create (int features, int hidden, int classes,
                            uint64_t seed);
void model_destroy (struct model *m);

/* The parameter vector and its length (borrowed until model_destroy()). */
float *model_params (struct model *m, size_t *n);

/* Tensor i (0: W1, 1: b1, 2: W2, 3: b2) and its shape (cols 0 for a
 * vector), or NULL past the last tensor of the model. */
const float *model_tensor (struct model *m, int i, size_t *rows, size_t *cols);

/* Add the cross-entropy gradient of sample (x, y) to grad (model_params()
 * long); returns its loss. */
double model_gradient (struct model *m, const float *x, int y, float *grad);

/* Over n samples: add the summed loss to *loss and the number classified
 * right to *correct. */
void model_evaluate (struct model *m, const float *x, const int *y, size_t n,
                     double *loss, double *correct);

/* params -= scale * grad */
void model_update (struct model *m, const float *grad, float scale);

#endif
