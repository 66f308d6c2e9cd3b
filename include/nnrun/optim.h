/* optim.h - optimizers as one loop over the flat parameter block.
 *
 * Keras' update rules and defaults:
 *   sgd:     v = momentum*v - lr*g; w += v  (nesterov: w += momentum*v - lr*g)
 *   rmsprop: s = rho*s + (1-rho)*g^2; w -= lr*g / (sqrt(s) + eps)
 *            (momentum > 0: m = momentum*m + lr*g/(sqrt(s)+eps); w -= m)
 *   adam:    m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *            w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)
 */
#ifndef NNRUN_OPTIM_H
#define NNRUN_OPTIM_H

#include <stddef.h>

#include "nnrun/spec.h"

struct nn_pool;

struct nn_optim {
    struct nn_optim_spec spec;
    size_t n;
    float *s1, *s2;     /* state: sgd velocity / rmsprop s, m / adam m, v */
    long t;             /* steps taken */
};

/* Defaults of each optimizer, as Keras has them. */
void nn_optim_defaults(struct nn_optim_spec *o, enum nn_optim_kind kind);
int nn_optim_init(struct nn_optim *o, const struct nn_optim_spec *spec, size_t n);
/* One update of w[0..n).  The gradient is the sum of n_parts arrays
 * g[p * stride + i], added in order p = 0, 1, ... (the chunks' gradients of
 * one step), so no separate reduction pass is needed. */
void nn_optim_step(struct nn_optim *o, float *w, const float *g, int n_parts, size_t stride,
                   struct nn_pool *pool);
void nn_optim_free(struct nn_optim *o);

#endif
