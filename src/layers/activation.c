/* activation.c - element-wise activations and softmax, one layer kind.
 *
 *   linear  f(x) = x                     f' = 1
 *   tanh    f(x) = tanh(x)               f' = 1 - y^2
 *   relu    f(x) = max(0, x)             f' = [y > 0]
 *   sigmoid f(x) = 1 / (1 + e^-x)        f' = y (1 - y)
 *   leaky_relu f(x) = x > 0 ? x : a x    f' = y > 0 ? 1 : a     (a = 0.3)
 *   elu     f(x) = x > 0 ? x : a(e^x-1)  f' = y > 0 ? 1 : y + a (a = 1.0)
 *   softmax over the channel axis: y = e^(x - max) / sum;  dx = y (dy - sum(dy y))
 * Every derivative is a function of the output y alone (alpha >= 0 keeps
 * y > 0 exactly where x > 0), so the node can run in place: it shares its
 * input's tensors (NN_NODE_ALIAS) unless the builder finds that unsafe.
 */
#include <math.h>
#include <string.h>

#include "args.h"
#include "nnrun/kernels.h"
#include "nnrun/parallel.h"

static const struct nn_arg_desc activation_keys[] = {
    {"activation", NN_ARG_ENUM, offsetof(struct nn_activation_args, activation), 1, 0, 0, 0, 0,
     nn_act_names, NN_ACT_COUNT, "the function"},
    {"alpha", NN_ARG_FLOAT, offsetof(struct nn_activation_args, alpha), 0, 0, 1e6, 0, NAN,
     NULL, 0, "leaky_relu slope (0.3) or elu scale (1.0) for negative inputs"},
};

float nn_act_default_alpha(int act) { return act == NN_ACT_ELU ? 1.0f : 0.3f; }

static int activation_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    (void)d;
    const struct nn_node *in = &g->nodes[n->inputs[0]];
    n->h = in->h, n->w = in->w, n->c = in->c;
    if (n->act == NN_ACT_SOFTMAX) n->flags |= NN_NODE_SOFTMAX;
    n->flags |= NN_NODE_ALIAS;
    if (isnan(n->alpha)) n->alpha = nn_act_default_alpha(n->act);
    n->flops = n->act == NN_ACT_LINEAR ? 0 : in->size;
    return 0;
}

struct act_job {
    const struct nn_node *n;
    struct nn_exec *x;
};

static void softmax_rows(const float *x, float *y, size_t rows, int C)
{
    for (size_t r = 0; r < rows; r++, x += C, y += C) {
        float m = x[0];
        for (int c = 1; c < C; c++) m = x[c] > m ? x[c] : m;
        float s = 0;
        for (int c = 0; c < C; c++) s += (y[c] = expf(x[c] - m));
        float inv = 1.0f / s;
        for (int c = 0; c < C; c++) y[c] *= inv;
    }
}

NN_HOT void nn_act_forward(int act, float alpha, const float *x, float *y, size_t rows, int C)
{
    const size_t len = rows * (size_t)C;
    const float a = alpha;
    /* y = f(x) elementwise, in place when the node shares its input's tensor */
#define MAP(expr)                                                                  \
    do {                                                                           \
        if (x == y) {                                                              \
            float *restrict p = y;                                                 \
            for (size_t i = 0; i < len; i++) { const float v = p[i]; p[i] = (expr); } \
        } else {                                                                   \
            const float *restrict xi = x;                                          \
            float *restrict yo = y;                                                \
            for (size_t i = 0; i < len; i++) { const float v = xi[i]; yo[i] = (expr); } \
        }                                                                          \
    } while (0)
    switch (act) {
    case NN_ACT_LINEAR: if (x != y) memcpy(y, x, len * sizeof *y); break;
    case NN_ACT_TANH: nn_tanh(x, y, len); break;
    case NN_ACT_RELU: MAP(v > 0 ? v : 0.0f); break;
    case NN_ACT_SIGMOID: MAP(1.0f / (1.0f + expf(-v))); break;
    case NN_ACT_LEAKY_RELU: MAP(v > 0 ? v : a * v); break;
    case NN_ACT_ELU: MAP(v > 0 ? v : a * expm1f(v)); break;
    case NN_ACT_SOFTMAX: softmax_rows(x, y, rows, C); break;
    }
#undef MAP
}

static void act_fwd(void *ctx, size_t s0, size_t s1)
{
    const struct act_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    nn_act_forward(n->act, n->alpha, nn_out(j->x, in) + s0 * n->size,
                   nn_out(j->x, n) + s0 * n->size, (s1 - s0) * n->size / (size_t)n->c, n->c);
}

NN_HOT static void act_bwd(void *ctx, size_t s0, size_t s1)
{
    const struct act_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const float *y = nn_out(j->x, n) + s0 * n->size;
    const float *dy = nn_dout(j->x, n) + s0 * n->size;
    float *dx = nn_dout(j->x, in) + s0 * n->size;
    const size_t len = (s1 - s0) * n->size;
    const float a = n->alpha;
    const int acc = n->din_acc[0];
    /* dx (+)= g(dy, y) elementwise; in place (dx == dy) the node is its input's
     * only consumer, so acc is 0 */
#define EMIT(expr)                                                        \
    do {                                                                  \
        if (dx == dy) {                                                   \
            float *restrict d = dx;                                       \
            const float *restrict yy = y;                                 \
            for (size_t i = 0; i < len; i++) {                            \
                const float g = d[i], yv = yy[i];                         \
                (void)yv;                                                 \
                d[i] = (expr);                                            \
            }                                                             \
        } else {                                                          \
            float *restrict d = dx;                                       \
            const float *restrict gg = dy, *restrict yy = y;              \
            for (size_t i = 0; i < len; i++) {                            \
                const float g = gg[i], yv = yy[i];                        \
                (void)yv;                                                 \
                d[i] = acc ? d[i] + (expr) : (expr);                      \
            }                                                             \
        }                                                                 \
    } while (0)
    switch (n->act) {
    case NN_ACT_LINEAR: EMIT(g); break;
    case NN_ACT_TANH: EMIT(g * (1.0f - yv * yv)); break;
    case NN_ACT_RELU: EMIT(yv > 0 ? g : 0.0f); break;
    case NN_ACT_SIGMOID: EMIT(g * yv * (1.0f - yv)); break;
    case NN_ACT_LEAKY_RELU: EMIT(yv > 0 ? g : a * g); break;
    case NN_ACT_ELU: EMIT(yv > 0 ? g : g * (yv + a)); break;
    case NN_ACT_SOFTMAX: {
        const int C = n->c;
        for (size_t r = 0; r < len / (size_t)C; r++) {
            const float *yr = y + r * C, *gr = dy + r * C;
            float *dr = dx + r * C;
            float dot = 0;
            for (int c = 0; c < C; c++) dot += gr[c] * yr[c];
            for (int c = 0; c < C; c++) {
                float v = yr[c] * (gr[c] - dot);
                dr[c] = acc ? dr[c] + v : v;
            }
        }
        break;
    }
    }
#undef EMIT
}

static void activation_forward(const struct nn_node *n, struct nn_exec *x)
{
    if (n->flags & NN_NODE_FUSED) return;   /* the producer applied it */
    struct act_job j = {n, x};
    nn_pool_for(x->pool, (size_t)x->batch, 16384 / n->size + 1, act_fwd, &j);
}

static void activation_backward(const struct nn_node *n, struct nn_exec *x)
{
    if (!n->needs_dinput) return;
    struct act_job j = {n, x};
    nn_pool_for(x->pool, (size_t)x->batch, 16384 / n->size + 1, act_bwd, &j);
}

const struct nn_layer_ops nn_layer_activation = {
    .name = "activation",
    .doc = "element-wise function (or softmax over channels); each function name also works "
           "as a layer kind",
    .args = activation_keys,
    .n_args = NN_ARRAY_LEN(activation_keys),
    .args_size = sizeof(struct nn_activation_args),
    .flags = NN_LAYER_READS_OUTPUT | NN_LAYER_IN_PLACE,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = activation_infer,
    .forward = activation_forward,
    .backward = activation_backward,
};
