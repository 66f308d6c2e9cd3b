/* optim.c - sgd, rmsprop and adam as one loop over the flat parameter block,
 * split in fixed chunks (element-wise, so any split gives the same bits).
 * The step also sums the chunks' gradients, so they are read once. */
#include <math.h>
#include <stdlib.h>

#include "nnrun/kernels.h"
#include "nnrun/optim.h"
#include "nnrun/parallel.h"
#include "nnrun/util.h"

int nn_optim_init(struct nn_optim *o, const struct nn_optim_spec *spec, size_t n)
{
    o->spec = *spec;
    o->n = n;
    o->t = 0;
    o->s1 = nn_alloc_floats(n);
    o->s2 = nn_alloc_floats(n);
    if (!o->s1 || !o->s2) {
        nn_optim_free(o);
        return -1;
    }
    return 0;
}

void nn_optim_free(struct nn_optim *o)
{
    free(o->s1);
    free(o->s2);
    o->s1 = o->s2 = NULL;
}

struct step_job {
    struct nn_optim *o;
    float *w;
    const float *g;
    int n_parts;
    size_t stride;
    float lr_t;   /* adam: bias-corrected step */
};

#define BLOCK 512

/* The update of w[b..b+len) with gradient g[0..len). */
static inline __attribute__((always_inline)) void update(const struct step_job *j, size_t b,
                                                         size_t len, const float *restrict g)
{
    const struct nn_optim_spec *s = &j->o->spec;
    float *restrict w = j->w + b, *restrict s1 = j->o->s1 + b, *restrict s2 = j->o->s2 + b;
    const float lr = s->learning_rate;
    switch (s->kind) {
    case NN_OPT_SGD:
        if (s->momentum == 0) {
            for (size_t i = 0; i < len; i++) w[i] -= lr * g[i];
        } else if (s->nesterov) {
            for (size_t i = 0; i < len; i++) {
                s1[i] = s->momentum * s1[i] - lr * g[i];
                w[i] += s->momentum * s1[i] - lr * g[i];
            }
        } else {
            for (size_t i = 0; i < len; i++) {
                s1[i] = s->momentum * s1[i] - lr * g[i];
                w[i] += s1[i];
            }
        }
        break;
    case NN_OPT_RMSPROP: {
        const float rho = s->rho, eps = s->epsilon;
        if (s->momentum == 0) {
            for (size_t i = 0; i < len; i++) {
                s1[i] = rho * s1[i] + (1 - rho) * g[i] * g[i];
                w[i] -= lr * g[i] / (sqrtf(s1[i]) + eps);
            }
        } else {
            for (size_t i = 0; i < len; i++) {
                s1[i] = rho * s1[i] + (1 - rho) * g[i] * g[i];
                s2[i] = s->momentum * s2[i] + lr * g[i] / (sqrtf(s1[i]) + eps);
                w[i] -= s2[i];
            }
        }
        break;
    }
    case NN_OPT_ADAM: {
        const float b1 = s->beta_1, b2 = s->beta_2, eps = s->epsilon, lr_t = j->lr_t;
        for (size_t i = 0; i < len; i++) {
            s1[i] = b1 * s1[i] + (1 - b1) * g[i];
            s2[i] = b2 * s2[i] + (1 - b2) * g[i] * g[i];
            w[i] -= lr_t * s1[i] / (sqrtf(s2[i]) + eps);
        }
        break;
    }
    default: break;
    }
}

/* Sums the parts of the gradient block by block (in part order), then updates. */
NN_HOT static void step_range(void *ctx, size_t b, size_t e)
{
    const struct step_job *j = ctx;
    float sum[BLOCK];
    for (size_t i0 = b; i0 < e; i0 += BLOCK) {
        const size_t len = e - i0 < BLOCK ? e - i0 : BLOCK;
        const float *restrict g0 = j->g + i0;
        if (j->n_parts == 1) {
            update(j, i0, len, g0);
            continue;
        }
        for (size_t i = 0; i < len; i++) sum[i] = g0[i];
        for (int p = 1; p < j->n_parts; p++) {
            const float *restrict gp = g0 + (size_t)p * j->stride;
            for (size_t i = 0; i < len; i++) sum[i] += gp[i];
        }
        update(j, i0, len, sum);
    }
}

void nn_optim_step(struct nn_optim *o, float *w, const float *g, int n_parts, size_t stride,
                   struct nn_pool *pool)
{
    o->t++;
    struct step_job j = {o, w, g, n_parts, stride, 0};
    if (o->spec.kind == NN_OPT_ADAM) {
        double t = (double)o->t;
        j.lr_t = (float)(o->spec.learning_rate * sqrt(1 - pow(o->spec.beta_2, t)) /
                         (1 - pow(o->spec.beta_1, t)));
    }
    nn_pool_for(pool, o->n, 16384, step_range, &j);
}
