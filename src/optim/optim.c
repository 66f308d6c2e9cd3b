/* optim.c - sgd, rmsprop, adam and adamw as one loop over the flat parameter
 * block, split in fixed chunks (element-wise, so any split gives the same
 * bits).  The step also sums the chunks' gradients, so they are read once.
 * With train.l2 or clipping the block is walked in pieces within tensors
 * (see optim.h), and with clipping twice: the norms first, then the update. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/kernels.h"
#include "nnrun/optim.h"
#include "nnrun/parallel.h"
#include "nnrun/util.h"

int nn_optim_init(struct nn_optim *o, const struct nn_optim_spec *spec, size_t n)
{
    memset(o, 0, sizeof *o);
    o->spec = *spec;
    o->n = n;
    o->t = 0;
    o->lr = spec->learning_rate;
    o->s1 = nn_alloc_floats(n);
    o->s2 = nn_alloc_floats(n);
    if (spec->clipnorm > 0 || spec->global_clipnorm > 0) o->gsum = nn_alloc_floats(n);
    if (!o->s1 || !o->s2 || ((spec->clipnorm > 0 || spec->global_clipnorm > 0) && !o->gsum) ||
        nn_optim_set_tensors(o, 0, NULL, NULL)) {
        nn_optim_free(o);
        return -1;
    }
    o->is_weight[0] = 1;   /* one tensor of weights until told otherwise */
    return 0;
}

int nn_optim_set_tensors(struct nn_optim *o, int n_tensors, const size_t *len,
                         const unsigned char *is_weight)
{
    /* the tensors as given, cut at o->n, plus the rest as one more */
    size_t *tlen = malloc(((size_t)n_tensors + 1) * sizeof *tlen);
    unsigned char *tw = calloc((size_t)n_tensors + 1, 1);
    int nt = 0;
    size_t at = 0, n_pieces = 0;
    for (int k = 0; tlen && tw && k < n_tensors && at < o->n; k++) {
        if (!len[k]) continue;
        tlen[nt] = len[k] < o->n - at ? len[k] : o->n - at;
        tw[nt] = is_weight[k];
        at += tlen[nt++];
    }
    if (tlen && tw && (at < o->n || nt == 0)) tlen[nt] = o->n - at, tw[nt++] = 0;
    for (int k = 0; tlen && k < nt; k++)
        n_pieces += tlen[k] ? (tlen[k] + NN_OPTIM_PIECE - 1) / NN_OPTIM_PIECE : 1;
    size_t *ps = tlen ? malloc((n_pieces + 1) * sizeof *ps) : NULL;
    int *pt = tlen ? malloc((n_pieces ? n_pieces : 1) * sizeof *pt) : NULL;
    double *gsq = tlen ? calloc(n_pieces ? n_pieces : 1, sizeof *gsq) : NULL;
    double *wsq = tlen ? calloc(n_pieces ? n_pieces : 1, sizeof *wsq) : NULL;
    double *sc = calloc((size_t)nt + 1, sizeof *sc);
    if (!tlen || !tw || !ps || !pt || !gsq || !wsq || !sc) {
        free(tlen), free(tw), free(ps), free(pt), free(gsq), free(wsq), free(sc);
        return -1;
    }
    size_t p = 0;
    at = 0;
    for (int k = 0; k < nt; k++) {
        size_t b = 0;
        do {
            ps[p] = at + b;
            pt[p++] = k;
            b += NN_OPTIM_PIECE;
        } while (b < tlen[k]);
        at += tlen[k];
    }
    ps[p] = at;
    free(tlen);
    free(o->is_weight), free(o->piece_start), free(o->piece_tensor), free(o->piece_gsq);
    free(o->piece_wsq), free(o->tensor_scale);
    o->n_tensors = nt;
    o->is_weight = tw;
    o->n_pieces = p;
    o->piece_start = ps;
    o->piece_tensor = pt;
    o->piece_gsq = gsq;
    o->piece_wsq = wsq;
    o->tensor_scale = sc;
    return 0;
}

void nn_optim_free(struct nn_optim *o)
{
    free(o->s1);
    free(o->s2);
    free(o->gsum);
    free(o->is_weight), free(o->piece_start), free(o->piece_tensor), free(o->piece_gsq);
    free(o->piece_wsq), free(o->tensor_scale);
    o->s1 = o->s2 = o->gsum = NULL;
    o->is_weight = NULL, o->piece_start = NULL, o->piece_tensor = NULL;
    o->piece_gsq = o->piece_wsq = o->tensor_scale = NULL;
}

struct step_job {
    struct nn_optim *o;
    float *w;
    const float *g;
    int n_parts;
    size_t stride;
    float lr;     /* this step's learning rate */
    float lr_t;   /* adam: bias-corrected step */
    float decay;  /* lr * weight_decay */
    int clip;     /* pieces: keep the summed gradient for a second pass */
};

#define BLOCK NN_OPTIM_PIECE

/* The update of w[b..b+len) with gradient g[0..len). */
static inline __attribute__((always_inline)) void update(const struct step_job *j, size_t b,
                                                         size_t len, const float *restrict g)
{
    const struct nn_optim_spec *s = &j->o->spec;
    float *restrict w = j->w + b, *restrict s1 = j->o->s1 + b, *restrict s2 = j->o->s2 + b;
    const float lr = j->lr;
    if (j->decay != 0) {   /* decoupled weight decay, before the update as in Keras */
        const float decay = j->decay;
        for (size_t i = 0; i < len; i++) w[i] -= decay * w[i];
    }
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
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW: {
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

/* sum[0..len) <- the parts of the gradient at i0, added in part order */
static inline __attribute__((always_inline)) void sum_parts(const struct step_job *j,
                                                            size_t i0, size_t len,
                                                            float *restrict sum)
{
    const float *restrict g0 = j->g + i0;
    for (size_t i = 0; i < len; i++) sum[i] = g0[i];
    for (int p = 1; p < j->n_parts; p++) {
        const float *restrict gp = g0 + (size_t)p * j->stride;
        for (size_t i = 0; i < len; i++) sum[i] += gp[i];
    }
}

/* Sums the parts of the gradient block by block (in part order), then updates. */
NN_HOT static void step_range(void *ctx, size_t b, size_t e)
{
    const struct step_job *j = ctx;
    float sum[BLOCK];
    for (size_t i0 = b; i0 < e; i0 += BLOCK) {
        const size_t len = e - i0 < BLOCK ? e - i0 : BLOCK;
        if (j->n_parts == 1) {
            update(j, i0, len, j->g + i0);
            continue;
        }
        sum_parts(j, i0, len, sum);
        update(j, i0, len, sum);
    }
}

/* Pieces [p0, p1): the summed gradient plus 2*l2*w on weights, its squared
 * norm and the weights' per piece; then the update, or with clipping the
 * gradient kept for clip_range. */
NN_HOT static void piece_range(void *ctx, size_t p0, size_t p1)
{
    const struct step_job *j = ctx;
    struct nn_optim *o = j->o;
    float sum[BLOCK];
    for (size_t p = p0; p < p1; p++) {
        const size_t i0 = o->piece_start[p], len = o->piece_start[p + 1] - i0;
        float *restrict g = j->clip ? o->gsum + i0 : sum;
        sum_parts(j, i0, len, g);
        double wsq = 0, gsq = 0;
        if (o->l2 != 0 && o->is_weight[o->piece_tensor[p]]) {
            const float *restrict w = j->w + i0;
            const float l2x2 = 2 * o->l2;
            for (size_t i = 0; i < len; i++) {
                wsq += (double)w[i] * w[i];
                g[i] += l2x2 * w[i];
            }
        }
        o->piece_wsq[p] = wsq;
        if (j->clip) {
            for (size_t i = 0; i < len; i++) gsq += (double)g[i] * g[i];
            o->piece_gsq[p] = gsq;
        } else {
            update(j, i0, len, g);
        }
    }
}

/* Pieces [p0, p1) after clip factors are known: scale and update. */
NN_HOT static void clip_range(void *ctx, size_t p0, size_t p1)
{
    const struct step_job *j = ctx;
    const struct nn_optim *o = j->o;
    float sum[BLOCK];
    for (size_t p = p0; p < p1; p++) {
        const size_t i0 = o->piece_start[p], len = o->piece_start[p + 1] - i0;
        const double sc = o->tensor_scale[o->piece_tensor[p]];
        const float *restrict g = o->gsum + i0;
        if (sc == 1) {
            update(j, i0, len, g);
            continue;
        }
        const float f = (float)sc;
        for (size_t i = 0; i < len; i++) sum[i] = g[i] * f;
        update(j, i0, len, sum);
    }
}

/* clipnorm: each tensor to its own norm; global_clipnorm: all together.
 * Keras' g * c / max(norm, c): nothing changes at or below c. */
static void clip_factors(struct nn_optim *o)
{
    const double cn = o->spec.clipnorm, gcn = o->spec.global_clipnorm;
    double total = 0;
    size_t p = 0;
    for (int k = 0; k < o->n_tensors; k++) {
        double sq = 0;
        for (; p < o->n_pieces && o->piece_tensor[p] == k; p++) sq += o->piece_gsq[p];
        total += sq;
        const double norm = sqrt(sq);
        o->tensor_scale[k] = cn > 0 && !(norm <= cn) ? cn / norm : 1;
    }
    if (gcn > 0) {
        const double norm = sqrt(total);
        const double sc = norm <= gcn ? 1 : gcn / norm;   /* NaN stays NaN */
        for (int k = 0; k < o->n_tensors; k++) o->tensor_scale[k] = sc;
    }
}

void nn_optim_step(struct nn_optim *o, float *w, const float *g, int n_parts, size_t stride,
                   struct nn_pool *pool)
{
    o->t++;
    const int clip = o->spec.clipnorm > 0 || o->spec.global_clipnorm > 0;
    struct step_job j = {o, w, g, n_parts, stride, o->lr, 0, o->lr * o->spec.weight_decay,
                         clip};
    if (o->spec.kind == NN_OPT_ADAM || o->spec.kind == NN_OPT_ADAMW) {
        double t = (double)o->t;
        j.lr_t = (float)(o->lr * sqrt(1 - pow(o->spec.beta_2, t)) /
                         (1 - pow(o->spec.beta_1, t)));
    }
    o->penalty = 0;
    if (!clip && o->l2 == 0) {
        nn_pool_for(pool, o->n, 16384, step_range, &j);
        return;
    }
    NN_ASSERT(o->piece_start[o->n_pieces] == o->n);   /* tensors set after o->n changed */
    const size_t grain = 16384 / NN_OPTIM_PIECE;
    nn_pool_for(pool, o->n_pieces, grain, piece_range, &j);
    double wsq = 0;
    for (size_t p = 0; p < o->n_pieces; p++) wsq += o->piece_wsq[p];
    o->penalty = o->l2 * wsq;
    if (!clip) return;
    clip_factors(o);
    nn_pool_for(pool, o->n_pieces, grain, clip_range, &j);
}
