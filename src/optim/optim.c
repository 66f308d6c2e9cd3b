/* optim.c - sgd, rmsprop and adam as one loop over the flat parameter block,
 * split in fixed chunks (element-wise, so any split gives the same bits). */
#include <math.h>
#include <stdlib.h>

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
    float lr_t;   /* adam: bias-corrected step */
};

static void step_range(void *ctx, size_t b, size_t e)
{
    const struct step_job *j = ctx;
    const struct nn_optim_spec *s = &j->o->spec;
    float *restrict w = j->w, *restrict s1 = j->o->s1, *restrict s2 = j->o->s2;
    const float *restrict g = j->g;
    const float lr = s->learning_rate;
    switch (s->kind) {
    case NN_OPT_SGD:
        if (s->momentum == 0) {
            for (size_t i = b; i < e; i++) w[i] -= lr * g[i];
        } else if (s->nesterov) {
            for (size_t i = b; i < e; i++) {
                s1[i] = s->momentum * s1[i] - lr * g[i];
                w[i] += s->momentum * s1[i] - lr * g[i];
            }
        } else {
            for (size_t i = b; i < e; i++) {
                s1[i] = s->momentum * s1[i] - lr * g[i];
                w[i] += s1[i];
            }
        }
        break;
    case NN_OPT_RMSPROP: {
        const float rho = s->rho, eps = s->epsilon;
        if (s->momentum == 0) {
            for (size_t i = b; i < e; i++) {
                s1[i] = rho * s1[i] + (1 - rho) * g[i] * g[i];
                w[i] -= lr * g[i] / (sqrtf(s1[i]) + eps);
            }
        } else {
            for (size_t i = b; i < e; i++) {
                s1[i] = rho * s1[i] + (1 - rho) * g[i] * g[i];
                s2[i] = s->momentum * s2[i] + lr * g[i] / (sqrtf(s1[i]) + eps);
                w[i] -= s2[i];
            }
        }
        break;
    }
    case NN_OPT_ADAM: {
        const float b1 = s->beta_1, b2 = s->beta_2, eps = s->epsilon, lr_t = j->lr_t;
        for (size_t i = b; i < e; i++) {
            s1[i] = b1 * s1[i] + (1 - b1) * g[i];
            s2[i] = b2 * s2[i] + (1 - b2) * g[i] * g[i];
            w[i] -= lr_t * s1[i] / (sqrtf(s2[i]) + eps);
        }
        break;
    }
    default: break;
    }
}

void nn_optim_step(struct nn_optim *o, float *w, const float *g, struct nn_pool *pool)
{
    o->t++;
    struct step_job j = {o, w, g, 0};
    if (o->spec.kind == NN_OPT_ADAM) {
        double t = (double)o->t;
        j.lr_t = (float)(o->spec.learning_rate * sqrt(1 - pow(o->spec.beta_2, t)) /
                         (1 - pow(o->spec.beta_1, t)));
    }
    nn_pool_for(pool, o->n, 16384, step_range, &j);
}
