/* pool2d.c - max and average pooling over NHWC windows.
 *
 * Padding 'same' pads the input virtually: max pooling ignores padded cells,
 * average pooling divides by the number of real cells (as Keras does).
 * Max pooling keeps, per output, the input offset of its maximum (the first
 * one in window order) in the scratch tensor for backward.
 */
#include <float.h>
#include <string.h>

#include "../kernels/simd.h"
#include "args.h"
#include "nnrun/kernels.h"
#include "nnrun/parallel.h"

struct pool2d_args {
    int pool[2], strides[2];
    int padding;
};

static const struct nn_arg_desc pool2d_keys[] = {
    {"pool_size", NN_ARG_PAIR, offsetof(struct pool2d_args, pool), 0, 1, 4096, 0, 2, NULL, 0,
     "window size, n or [height, width]"},
    {"strides", NN_ARG_PAIR, offsetof(struct pool2d_args, strides), 0, 0, 4096, 0, 0, NULL, 0,
     "step of the window (0: pool_size)"},
    NN_ARG_PADDING(struct pool2d_args),
};

static void pool_window(const struct nn_node *n, const struct nn_node *in, struct nn_window *wd)
{
    const struct pool2d_args *a = n->args;
    memset(wd, 0, sizeof *wd);
    wd->h = in->h, wd->w = in->w, wd->c = in->c;
    wd->kh = a->pool[0], wd->kw = a->pool[1];
    wd->sh = a->strides[0] ? a->strides[0] : a->pool[0];
    wd->sw = a->strides[1] ? a->strides[1] : a->pool[1];
    nn_window_plan(wd, a->padding == NN_PAD_SAME);
}

static int pool2d_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    const struct pool2d_args *a = n->args;
    const struct nn_node *in = &g->nodes[n->inputs[0]];
    struct nn_window wd;
    pool_window(n, in, &wd);
    if (a->padding == NN_PAD_VALID && (a->pool[0] > in->h || a->pool[1] > in->w)) {
        nn_diag_error(d, n->mark, "layer '%s' (%s): pool %dx%d is larger than its input "
                      "[%d, %d, %d] with padding valid", n->name, n->ops->name, a->pool[0],
                      a->pool[1], in->h, in->w, in->c);
        return -1;
    }
    n->h = wd.oh, n->w = wd.ow, n->c = in->c;
    n->flops = (uint64_t)wd.oh * wd.ow * wd.c * wd.kh * wd.kw;
    return 0;
}

struct pool_job {
    const struct nn_node *n;
    struct nn_exec *x;
    struct nn_window wd;
};

/* Window bounds of output (oy, ox), clipped to the input. */
static void clip(const struct nn_window *wd, int oy, int ox, int *y0, int *y1, int *x0, int *x1)
{
    *y0 = oy * wd->sh - wd->pt;
    *x0 = ox * wd->sw - wd->pl;
    *y1 = *y0 + wd->kh;
    *x1 = *x0 + wd->kw;
    if (*y0 < 0) *y0 = 0;
    if (*x0 < 0) *x0 = 0;
    if (*y1 > wd->h) *y1 = wd->h;
    if (*x1 > wd->w) *x1 = wd->w;
}

/* Max pooling of one sample, branch-free so the channel loop vectorizes;
 * the first maximum in window order wins.  With arg (training) the input
 * offset of each maximum is kept for backward; offsets stay below 2^24
 * (checked by infer), so int and float hold them exactly. */
static inline __attribute__((always_inline)) void max_sample_impl(
    const struct nn_window *wd, const float *restrict xs, float *restrict y,
    float *restrict arg, int keep_arg)
{
    const int C = wd->c, w = wd->w;
    for (int oy = 0; oy < wd->oh; oy++)
        for (int ox = 0; ox < wd->ow; ox++) {
            int y0, y1, x0, x1;
            clip(wd, oy, ox, &y0, &y1, &x0, &x1);
            float *restrict yo = y + ((size_t)oy * wd->ow + ox) * C;
            float *restrict ao = keep_arg ? arg + ((size_t)oy * wd->ow + ox) * C : NULL;
            const int first = (y0 * w + x0) * C;
            if (C % 8 == 0) {   /* whole vectors of channels */
                for (int c = 0; c < C; c += 8) {
                    v8 m = LD(xs + first + c), a = LANES + (float)(first + c);
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++) {
                            const int off = (iy * w + ix) * C + c;
                            const v8 v = LD(xs + off);
                            const v8i gt = v > m;
                            m = SEL(gt, v, m);
                            if (keep_arg) a = SEL(gt, LANES + (float)off, a);
                        }
                    ST(yo + c, m);
                    if (keep_arg) ST(ao + c, a);
                }
                continue;
            }
            for (int c = 0; c < C; c++) yo[c] = xs[first + c];
            if (keep_arg)
                for (int c = 0; c < C; c++) ao[c] = (float)(first + c);
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const int off = (iy * w + ix) * C;
                    if (!keep_arg) {
                        for (int c = 0; c < C; c++) yo[c] = xs[off + c] > yo[c] ? xs[off + c] : yo[c];
                        continue;
                    }
                    for (int c = 0; c < C; c++) {
                        const float v = xs[off + c];
                        const int m = v > yo[c];
                        yo[c] = m ? v : yo[c];
                        ao[c] = m ? (float)(off + c) : ao[c];
                    }
                }
        }
}

NN_HOT static void max_sample_train(const struct nn_window *wd, const float *xs, float *y,
                                    float *arg)
{
    max_sample_impl(wd, xs, y, arg, 1);
}

NN_HOT static void max_sample_infer(const struct nn_window *wd, const float *xs, float *y)
{
    max_sample_impl(wd, xs, y, NULL, 0);
}

static void max_fwd(void *ctx, size_t s0, size_t s1)
{
    const struct pool_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    for (size_t s = s0; s < s1; s++) {
        const float *xs = nn_out(j->x, in) + s * in->size;
        float *y = nn_out(j->x, n) + s * n->size;
        if (j->x->training)
            max_sample_train(&j->wd, xs, y, nn_scratch(j->x, n) + s * n->size);
        else
            max_sample_infer(&j->wd, xs, y);
    }
}

/* Whether the windows tile the input exactly (stride = pool, no padding,
 * nothing left over), the common case (2x2 over an even size): then every
 * input cell lies in one window and backward can write dx in one pass. */
static int tiles(const struct nn_window *wd)
{
    return wd->sh == wd->kh && wd->sw == wd->kw && wd->oh * wd->kh == wd->h &&
           wd->ow * wd->kw == wd->w && wd->pt == 0 && wd->pl == 0;
}

/* dx = dy where the window's maximum was, 0 elsewhere (added when acc). */
NN_HOT static void max_back_tiled(const struct nn_window *wd, const float *restrict dy,
                                  const float *restrict arg, float *restrict dx, int acc)
{
    const int C = wd->c, w = wd->w;
    for (int oy = 0; oy < wd->oh; oy++)
        for (int ox = 0; ox < wd->ow; ox++) {
            const float *g = dy + ((size_t)oy * wd->ow + ox) * C;
            const float *a = arg + ((size_t)oy * wd->ow + ox) * C;
            const int base = ((oy * wd->kh) * w + ox * wd->kw) * C;
            if (C % 8 == 0) {   /* each 8 channels' argmax and gradient loaded once */
                for (int c = 0; c < C; c += 8) {
                    const v8 av = LD(a + c), gv = LD(g + c);
                    for (int ky = 0; ky < wd->kh; ky++)
                        for (int kx = 0; kx < wd->kw; kx++) {
                            const int off = base + (ky * w + kx) * C + c;
                            const v8 v = SEL(av == LANES + (float)off, gv, (v8){0});
                            ST(dx + off, acc ? LD(dx + off) + v : v);
                        }
                }
                continue;
            }
            for (int ky = 0; ky < wd->kh; ky++)
                for (int kx = 0; kx < wd->kw; kx++) {
                    const int off = ((oy * wd->kh + ky) * w + ox * wd->kw + kx) * C;
                    float *d = dx + off;
                    const float o = (float)off;
                    if (acc)
                        for (int c = 0; c < C; c++) d[c] += a[c] - (float)c == o ? g[c] : 0.0f;
                    else
                        for (int c = 0; c < C; c++) d[c] = a[c] - (float)c == o ? g[c] : 0.0f;
                }
        }
}

static void max_bwd(void *ctx, size_t s0, size_t s1)
{
    const struct pool_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const int tiled = tiles(&j->wd);
    for (size_t s = s0; s < s1; s++) {
        float *dx = nn_dout(j->x, in) + s * in->size;
        const float *dy = nn_dout(j->x, n) + s * n->size, *arg = nn_scratch(j->x, n) + s * n->size;
        if (tiled) {
            max_back_tiled(&j->wd, dy, arg, dx, n->din_acc[0]);
            continue;
        }
        if (!n->din_acc[0]) memset(dx, 0, in->size * sizeof *dx);
        for (size_t i = 0; i < n->size; i++) dx[(size_t)arg[i]] += dy[i];
    }
}

static void avg_fwd(void *ctx, size_t s0, size_t s1)
{
    const struct pool_job *j = ctx;
    const struct nn_window *wd = &j->wd;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const int C = wd->c;
    for (size_t s = s0; s < s1; s++) {
        const float *xs = nn_out(j->x, in) + s * in->size;
        float *y = nn_out(j->x, n) + s * n->size;
        for (int oy = 0; oy < wd->oh; oy++)
            for (int ox = 0; ox < wd->ow; ox++) {
                int y0, y1, x0, x1;
                clip(wd, oy, ox, &y0, &y1, &x0, &x1);
                float *yo = y + ((size_t)oy * wd->ow + ox) * C;
                for (int c = 0; c < C; c++) yo[c] = 0;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        const float *xp = xs + ((size_t)iy * wd->w + ix) * C;
                        for (int c = 0; c < C; c++) yo[c] += xp[c];
                    }
                float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
                for (int c = 0; c < C; c++) yo[c] *= inv;
            }
    }
}

static void avg_bwd(void *ctx, size_t s0, size_t s1)
{
    const struct pool_job *j = ctx;
    const struct nn_window *wd = &j->wd;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const int C = wd->c;
    for (size_t s = s0; s < s1; s++) {
        float *dx = nn_dout(j->x, in) + s * in->size;
        const float *dy = nn_dout(j->x, n) + s * n->size;
        if (!n->din_acc[0]) memset(dx, 0, in->size * sizeof *dx);
        for (int oy = 0; oy < wd->oh; oy++)
            for (int ox = 0; ox < wd->ow; ox++) {
                int y0, y1, x0, x1;
                clip(wd, oy, ox, &y0, &y1, &x0, &x1);
                const float *g = dy + ((size_t)oy * wd->ow + ox) * C;
                float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        float *dp = dx + ((size_t)iy * wd->w + ix) * C;
                        for (int c = 0; c < C; c++) dp[c] += g[c] * inv;
                    }
            }
    }
}

static void run(const struct nn_node *n, struct nn_exec *x, nn_task_fn fn)
{
    struct pool_job j = {n, x, {0}};
    pool_window(n, nn_input(x, n, 0), &j.wd);
    nn_pool_for(x->pool, (size_t)x->batch, 4, fn, &j);
}

static int maxpool_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    if (pool2d_infer(n, g, d)) return -1;
    if (g->nodes[n->inputs[0]].size >= (size_t)1 << 24) {
        nn_diag_error(d, n->mark, "layer '%s' (maxpool2d): its input has %zu values per sample; "
                      "at most 16777215 are supported", n->name, g->nodes[n->inputs[0]].size);
        return -1;
    }
    n->scratch_per_sample = (size_t)n->h * n->w * n->c;   /* argmax offsets */
    return 0;
}

static void maxpool_forward(const struct nn_node *n, struct nn_exec *x) { run(n, x, max_fwd); }
static void maxpool_backward(const struct nn_node *n, struct nn_exec *x)
{
    if (n->needs_dinput) run(n, x, max_bwd);
}
static void avgpool_forward(const struct nn_node *n, struct nn_exec *x) { run(n, x, avg_fwd); }
static void avgpool_backward(const struct nn_node *n, struct nn_exec *x)
{
    if (n->needs_dinput) run(n, x, avg_bwd);
}

const struct nn_layer_ops nn_layer_maxpool2d = {
    .name = "maxpool2d",
    .aliases = (const char *const[]){"max_pooling2d", "maxpooling2d", "max_pool2d", NULL},
    .doc = "maximum over each window, Keras' MaxPooling2D",
    .args = pool2d_keys,
    .n_args = NN_ARRAY_LEN(pool2d_keys),
    .args_size = sizeof(struct pool2d_args),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = maxpool_infer,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
};

const struct nn_layer_ops nn_layer_avgpool2d = {
    .name = "avgpool2d",
    .aliases = (const char *const[]){"average_pooling2d", "averagepooling2d", "avg_pool2d", NULL},
    .doc = "mean over each window, Keras' AveragePooling2D",
    .args = pool2d_keys,
    .n_args = NN_ARRAY_LEN(pool2d_keys),
    .args_size = sizeof(struct pool2d_args),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = pool2d_infer,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
};
