/* activation.c - element-wise activations and softmax, one layer kind.
 *
 *   linear  f(x) = x                     f' = 1
 *   tanh    f(x) = tanh(x)               f' = 1 - y^2
 *   relu    f(x) = max(0, x)             f' = [x > 0]
 *   sigmoid f(x) = 1 / (1 + e^-x)        f' = y (1 - y)
 *   leaky_relu f(x) = x > 0 ? x : a x    f' = x > 0 ? 1 : a     (a = 0.3)
 *   elu     f(x) = x > 0 ? x : a(e^x-1)  f' = x > 0 ? 1 : y + a (a = 1.0)
 *   softmax over the channel axis: y = e^(x - max) / sum;  dx = y (dy - sum(dy y))
 * Derivatives use the output y where they can, so backward reads one tensor.
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

NN_HOT static void act_fwd(void *ctx, size_t s0, size_t s1)
{
    const struct act_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const float *x = nn_out(j->x, in) + s0 * n->size;
    float *y = nn_out(j->x, n) + s0 * n->size;
    const size_t len = (s1 - s0) * n->size;
    const float a = n->alpha;
    switch (n->act) {
    case NN_ACT_LINEAR: memcpy(y, x, len * sizeof *y); break;
    case NN_ACT_TANH: nn_tanh(x, y, len); break;
    case NN_ACT_RELU: for (size_t i = 0; i < len; i++) y[i] = x[i] > 0 ? x[i] : 0; break;
    case NN_ACT_SIGMOID: for (size_t i = 0; i < len; i++) y[i] = 1.0f / (1.0f + expf(-x[i])); break;
    case NN_ACT_LEAKY_RELU: for (size_t i = 0; i < len; i++) y[i] = x[i] > 0 ? x[i] : a * x[i]; break;
    case NN_ACT_ELU: for (size_t i = 0; i < len; i++) y[i] = x[i] > 0 ? x[i] : a * expm1f(x[i]); break;
    case NN_ACT_SOFTMAX: softmax_rows(x, y, len / (size_t)n->c, n->c); break;
    }
}

NN_HOT static void act_bwd(void *ctx, size_t s0, size_t s1)
{
    const struct act_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const float *x = nn_out(j->x, in) + s0 * n->size, *y = nn_out(j->x, n) + s0 * n->size;
    const float *dy = nn_dout(j->x, n) + s0 * n->size;
    float *dx = nn_dout(j->x, in) + s0 * n->size;
    const size_t len = (s1 - s0) * n->size;
    const float a = n->alpha;
    const int acc = n->din_acc[0];
#define EMIT(expr)                                                        \
    do {                                                                  \
        if (acc) for (size_t i = 0; i < len; i++) dx[i] += (expr);        \
        else for (size_t i = 0; i < len; i++) dx[i] = (expr);             \
    } while (0)
    switch (n->act) {
    case NN_ACT_LINEAR: EMIT(dy[i]); break;
    case NN_ACT_TANH: EMIT(dy[i] * (1.0f - y[i] * y[i])); break;
    case NN_ACT_RELU: EMIT(x[i] > 0 ? dy[i] : 0.0f); break;
    case NN_ACT_SIGMOID: EMIT(dy[i] * y[i] * (1.0f - y[i])); break;
    case NN_ACT_LEAKY_RELU: EMIT(x[i] > 0 ? dy[i] : a * dy[i]); break;
    case NN_ACT_ELU: EMIT(x[i] > 0 ? dy[i] : dy[i] * (y[i] + a)); break;
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
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = activation_infer,
    .forward = activation_forward,
    .backward = activation_backward,
};
