/* batchnorm.c - batch normalization over the channel axis (Keras'
 * BatchNormalization with axis -1).  For each channel, over its N values in
 * the chunk (rows * h * w of them, NHWC):
 *   training:  mu = mean x;  var = mean (x - mu)^2 (biased, as Keras);
 *              xhat = (x - mu) / sqrt(var + eps);  y = gamma xhat + beta
 *   inference: the same with the moving mean and variance for mu and var
 *   backward:  dgamma = sum dy xhat;  dbeta = sum dy;
 *              dx = gamma / sqrt(var + eps) * (dy - dbeta / N - xhat dgamma / N)
 *
 * The statistics are the chunk's, not the whole batch's (ghost batch
 * normalization): chunks run forward and backward independently (graph.h),
 * which is what makes results the same at any thread count.  The moving
 * statistics are updated once per step from the whole batch's mean and
 * variance, pooled exactly from the chunks' in chunk order:
 *   moving = momentum * moving + (1 - momentum) * batch
 *
 * Parameters: gamma[C] (scale: true), then beta[C] (center: true), trained.
 * State: moving_mean[C], moving_variance[C] at state_off, after every
 * trainable parameter (the optimizer never touches it; checkpoints keep it).
 * Forward in training records the chunk's mean[C] and var[C] in the chunk's
 * block at state_off (x->grads + state_off: a gradient of the state would
 * live there, and none exists), which after_step reads.  The scratch keeps
 * mu[C] and 1/sqrt(var + eps)[C] from forward to backward, and two more
 * per-channel arrays for either pass. */
#include <math.h>
#include <string.h>

#include "args.h"
#include "nnrun/kernels.h"

struct bn_args {
    float momentum, epsilon;
    int center, scale;
};

static const struct nn_arg_desc bn_keys[] = {
    {"momentum", NN_ARG_FLOAT, offsetof(struct bn_args, momentum), 0, 0, 1, 0, 0.99, NULL, 0,
     "weight of the old value in the moving mean and variance"},
    {"epsilon", NN_ARG_FLOAT, offsetof(struct bn_args, epsilon), 0, 1e-12, 1e6, 0, 1e-3, NULL,
     0, "added to the variance"},
    {"center", NN_ARG_BOOL, offsetof(struct bn_args, center), 0, 0, 1, 0, 1, NULL, 0,
     "add a learned offset beta"},
    {"scale", NN_ARG_BOOL, offsetof(struct bn_args, scale), 0, 0, 1, 0, 1, NULL, 0,
     "multiply by a learned gamma"},
};

static int bn_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    (void)d;
    const struct bn_args *a = n->args;
    const struct nn_node *in = &g->nodes[n->inputs[0]];
    const size_t C = (size_t)in->c;
    n->h = in->h, n->w = in->w, n->c = in->c;
    n->n_weights = a->scale ? C : 0;
    n->n_params = (size_t)(a->scale + a->center) * C;
    n->n_state = 2 * C;
    n->scratch_per_sample = 4 * C;   /* mu, istd and two more a channel (4C floats
                                        a chunk are enough) */
    n->flops = 4 * in->size;
    return 0;
}

static void bn_init(const struct nn_node *n, float *params, uint64_t seed)
{
    (void)seed;
    for (size_t i = 0; i < n->n_params; i++) params[i] = i < n->n_weights ? 1.0f : 0.0f;
}

static void bn_init_state(const struct nn_node *n, float *state)
{
    for (int c = 0; c < n->c; c++) state[c] = 0.0f, state[n->c + c] = 1.0f;
}

/* ---- kernels over x[N, C]: N values of each of C channels, channels last ---- */

#define TILE 64    /* channels whose sums are kept at once */
#define BLOCK 32   /* rows summed in float before adding into doubles */

/* mean[C] and biased var[C] of x.  The values are shifted by the first row
 * (so that a large mean does not swamp the variance), summed in float over
 * BLOCK rows, then in double. */
NN_HOT static void bn_stats(const float *restrict x, size_t N, int C, float *restrict mean,
                            float *restrict var)
{
    for (int c0 = 0; c0 < C; c0 += TILE) {
        const int nc = C - c0 < TILE ? C - c0 : TILE;
        double s1[TILE] = {0}, s2[TILE] = {0};
        float k[TILE];
        for (int c = 0; c < nc; c++) k[c] = x[c0 + c];
        for (size_t p0 = 0; p0 < N; p0 += BLOCK) {
            const size_t p1 = N - p0 < BLOCK ? N : p0 + BLOCK;
            float a1[TILE] = {0}, a2[TILE] = {0};
            for (size_t p = p0; p < p1; p++) {
                const float *r = x + p * C + c0;
                for (int c = 0; c < nc; c++) {
                    const float d = r[c] - k[c];
                    a1[c] += d;
                    a2[c] += d * d;
                }
            }
            for (int c = 0; c < nc; c++) s1[c] += a1[c], s2[c] += a2[c];
        }
        for (int c = 0; c < nc; c++) {
            const double m = s1[c] / (double)N, v = s2[c] / (double)N - m * m;
            mean[c0 + c] = (float)(k[c] + m);
            var[c0 + c] = (float)(v > 0 ? v : 0);
        }
    }
}

/* y = (x - mu) * mul + add per channel, then the epilogue activation a
 * block of rows at a time, while it is in cache. */
NN_HOT static void bn_apply(const float *restrict x, float *restrict y, size_t N, int C,
                            const float *restrict mu, const float *restrict mul,
                            const float *restrict add, int act, float alpha)
{
    for (size_t p0 = 0; p0 < N; p0 += BLOCK) {
        const size_t p1 = N - p0 < BLOCK ? N : p0 + BLOCK;
        for (size_t p = p0; p < p1; p++) {
            const float *r = x + p * C;
            float *o = y + p * C;
            for (int c = 0; c < C; c++) o[c] = (r[c] - mu[c]) * mul[c] + add[c];
        }
        if (act != NN_ACT_LINEAR) nn_act_forward(act, alpha, y + p0 * C, y + p0 * C, p1 - p0, C);
    }
}

/* sdy[C] = sum dy and sdyx[C] = sum dy xhat, xhat = (x - mu) istd. */
NN_HOT static void bn_grad_sums(const float *restrict x, const float *restrict dy, size_t N,
                                int C, const float *restrict mu, const float *restrict istd,
                                float *restrict sdy, float *restrict sdyx)
{
    for (int c0 = 0; c0 < C; c0 += TILE) {
        const int nc = C - c0 < TILE ? C - c0 : TILE;
        double s1[TILE] = {0}, s2[TILE] = {0};
        for (size_t p0 = 0; p0 < N; p0 += BLOCK) {
            const size_t p1 = N - p0 < BLOCK ? N : p0 + BLOCK;
            float a1[TILE] = {0}, a2[TILE] = {0};
            for (size_t p = p0; p < p1; p++) {
                const float *r = x + p * C + c0, *d = dy + p * C + c0;
                for (int c = 0; c < nc; c++) {
                    a1[c] += d[c];
                    a2[c] += d[c] * ((r[c] - mu[c0 + c]) * istd[c0 + c]);
                }
            }
            for (int c = 0; c < nc; c++) s1[c] += a1[c], s2[c] += a2[c];
        }
        for (int c = 0; c < nc; c++) sdy[c0 + c] = (float)s1[c], sdyx[c0 + c] = (float)s2[c];
    }
}

/* dx (+)= a dy - b (x - mu) + k per channel. */
NN_HOT static void bn_grad_input(const float *restrict x, const float *restrict dy,
                                 float *restrict dx, size_t N, int C, const float *restrict mu,
                                 const float *restrict a, const float *restrict b,
                                 const float *restrict k, int acc)
{
    for (size_t p = 0; p < N; p++) {
        const float *r = x + p * C, *d = dy + p * C;
        float *o = dx + p * C;
        if (acc)
            for (int c = 0; c < C; c++) o[c] += a[c] * d[c] - b[c] * (r[c] - mu[c]) + k[c];
        else
            for (int c = 0; c < C; c++) o[c] = a[c] * d[c] - b[c] * (r[c] - mu[c]) + k[c];
    }
}

/* ---- the layer ---- */

static void bn_forward(const struct nn_node *n, struct nn_exec *x)
{
    const struct bn_args *a = n->args;
    const int C = n->c;
    const size_t N = (size_t)x->batch * n->h * n->w;   /* values per channel */
    const float *in = nn_out(x, nn_input(x, n, 0));
    const float *gamma = a->scale ? x->params + n->param_off : NULL;
    const float *beta = a->center ? x->params + n->param_off + n->n_weights : NULL;
    const float *moving = x->params + n->state_off;   /* mean[C], variance[C] */
    float *mu = nn_scratch(x, n), *istd = mu + C, *mul = mu + 2 * C, *add = mu + 3 * C;
    if (x->training) {
        float *rec = x->grads + n->state_off;          /* the chunk's mean[C], var[C] */
        bn_stats(in, N, C, rec, rec + C);
        for (int c = 0; c < C; c++) {
            mu[c] = rec[c];
            istd[c] = (float)(1.0 / sqrt((double)rec[C + c] + a->epsilon));
        }
    } else {
        for (int c = 0; c < C; c++) {
            mu[c] = moving[c];
            istd[c] = (float)(1.0 / sqrt((double)moving[C + c] + a->epsilon));
        }
    }
    for (int c = 0; c < C; c++) {
        mul[c] = gamma ? gamma[c] * istd[c] : istd[c];
        add[c] = beta ? beta[c] : 0.0f;
    }
    bn_apply(in, nn_out(x, n), N, C, mu, mul, add, n->epi_act, n->epi_alpha);
}

static void bn_backward(const struct nn_node *n, struct nn_exec *x)
{
    const struct bn_args *a = n->args;
    const int C = n->c;
    const size_t N = (size_t)x->batch * n->h * n->w;
    const struct nn_node *inode = nn_input(x, n, 0);
    const float *in = nn_out(x, inode), *dy = nn_dout(x, n);
    const float *gamma = a->scale ? x->params + n->param_off : NULL;
    /* the scratch from forward: mu, istd; then room for two more per channel */
    float *mu = nn_scratch(x, n), *istd = mu + C, *sdy = mu + 2 * C, *sdyx = mu + 3 * C;
    bn_grad_sums(in, dy, N, C, mu, istd, sdy, sdyx);
    if (a->scale) memcpy(x->grads + n->param_off, sdyx, (size_t)C * sizeof *sdyx);
    if (a->center) memcpy(x->grads + n->param_off + n->n_weights, sdy, (size_t)C * sizeof *sdy);
    if (!n->needs_dinput) return;
    /* dx = g istd (dy - sdy / N - xhat sdyx / N) = a dy - b (x - mu) + k with
     * a = g istd, b = a istd sdyx / N, k = -a sdy / N, in place of istd,
     * sdyx and sdy (per channel, so the order does not matter) */
    for (int c = 0; c < C; c++) {
        const float ac = gamma ? gamma[c] * istd[c] : istd[c];
        sdyx[c] = (float)(ac * istd[c] * (double)sdyx[c] / (double)N);
        sdy[c] = (float)(-ac * (double)sdy[c] / (double)N);
        istd[c] = ac;
    }
    bn_grad_input(in, dy, nn_dout(x, inode), N, C, mu, istd, sdyx, sdy, n->din_acc[0]);
}

/* The whole batch's mean and variance from the chunks' (pooled: each chunk
 * weighs by its rows, and its mean's distance to the batch mean adds to the
 * variance), then the moving averages. */
static void bn_after_step(const struct nn_node *n, struct nn_graph *g, int B)
{
    const struct bn_args *a = n->args;
    const int C = n->c, n_chunks = nn_graph_chunks(B);
    float *moving = g->params + n->state_off;
    const double mom = a->momentum;
    for (int c = 0; c < C; c++) {
        double mean = 0, var = 0;
        for (int k = 0; k < n_chunks; k++) {
            const float *rec = g->chunk_grads + (size_t)k * g->n_params + n->state_off;
            const int rows = nn_chunk_start(B, n_chunks, k + 1) - nn_chunk_start(B, n_chunks, k);
            mean += rows * (double)rec[c];
        }
        mean /= B;
        for (int k = 0; k < n_chunks; k++) {
            const float *rec = g->chunk_grads + (size_t)k * g->n_params + n->state_off;
            const int rows = nn_chunk_start(B, n_chunks, k + 1) - nn_chunk_start(B, n_chunks, k);
            const double dm = rec[c] - mean;
            var += rows * ((double)rec[C + c] + dm * dm);
        }
        var /= B;
        moving[c] = (float)(mom * moving[c] + (1 - mom) * mean);
        moving[C + c] = (float)(mom * moving[C + c] + (1 - mom) * var);
    }
}

const struct nn_layer_ops nn_layer_batchnorm = {
    .name = "batch_normalization",
    .doc = "normalizes each channel by its batch statistics in training, its moving ones "
           "at evaluation",
    .args = bn_keys,
    .n_args = NN_ARRAY_LEN(bn_keys),
    .args_size = sizeof(struct bn_args),
    .flags = NN_LAYER_EPILOGUE,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = bn_infer,
    .init = bn_init,
    .init_state = bn_init_state,
    .forward = bn_forward,
    .backward = bn_backward,
    .after_step = bn_after_step,
};
