/* global_pool2d.c - global average pooling, Keras' GlobalAveragePooling2D:
 * [h, w, c] -> [c] (flat, as Keras' default keepdims=False), the mean of each
 * channel over all pixels.
 *   forward:  y[c] = (1 / (h*w)) * sum_p x[p, c]   (pixels in order)
 *   backward: dx[p, c] (+)= dy[c] / (h*w) */
#include <string.h>

#include "args.h"
#include "nnrun/parallel.h"

static int gap_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    (void)d;
    const struct nn_node *in = &g->nodes[n->inputs[0]];
    n->h = n->w = 1;
    n->c = in->c;
    n->flops = in->size;
    return 0;
}

struct gap_job {
    const struct nn_node *n;
    struct nn_exec *x;
};

static void gap_fwd(void *ctx, size_t s0, size_t s1)
{
    const struct gap_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const size_t P = (size_t)in->h * in->w, C = (size_t)in->c;
    const float inv = 1.0f / (float)P;
    for (size_t s = s0; s < s1; s++) {
        const float *xs = nn_out(j->x, in) + s * in->size;
        float *restrict y = nn_out(j->x, n) + s * C;
        memcpy(y, xs, C * sizeof *y);
        for (size_t p = 1; p < P; p++)
            for (size_t c = 0; c < C; c++) y[c] += xs[p * C + c];
        for (size_t c = 0; c < C; c++) y[c] *= inv;
    }
}

static void gap_bwd(void *ctx, size_t s0, size_t s1)
{
    const struct gap_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const size_t P = (size_t)in->h * in->w, C = (size_t)in->c;
    const float inv = 1.0f / (float)P;
    for (size_t s = s0; s < s1; s++) {
        float *restrict dx = nn_dout(j->x, in) + s * in->size;
        const float *dy = nn_dout(j->x, n) + s * C;
        for (size_t p = 0; p < P; p++) {
            float *restrict d = dx + p * C;
            if (n->din_acc[0])
                for (size_t c = 0; c < C; c++) d[c] += dy[c] * inv;
            else
                for (size_t c = 0; c < C; c++) d[c] = dy[c] * inv;
        }
    }
}

static void gap_forward(const struct nn_node *n, struct nn_exec *x)
{
    struct gap_job j = {n, x};
    nn_pool_for(x->pool, (size_t)x->batch, 4, gap_fwd, &j);
}

static void gap_backward(const struct nn_node *n, struct nn_exec *x)
{
    if (!n->needs_dinput) return;
    struct gap_job j = {n, x};
    nn_pool_for(x->pool, (size_t)x->batch, 4, gap_bwd, &j);
}

const struct nn_layer_ops nn_layer_global_avgpool2d = {
    .name = "global_average_pooling2d",
    .aliases = (const char *const[]){"global_avgpool2d", "globalaveragepooling2d",
                                     "global_avg_pool2d", NULL},
    .doc = "mean of each channel over all pixels, [h, w, c] -> [c], Keras' "
           "GlobalAveragePooling2D",
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = gap_infer,
    .forward = gap_forward,
    .backward = gap_backward,
};
