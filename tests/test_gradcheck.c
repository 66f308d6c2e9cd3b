/* test_gradcheck.c - central finite differences against every layer's,
 * activation's and loss's analytic gradient.
 *
 * Each case is a small graph; the objective is L = sum(out * R) for a fixed
 * random R.  The layer under test sits after a layer with parameters, so the
 * gradient it passes to its input is checked through those parameters'
 * gradients.  Inputs are random, which keeps them off relu's and maxpool's
 * kinks for these seeds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "nnrun/data.h"
#include "nnrun/layer.h"
#include "nnrun/loss.h"
#include "nnrun/train.h"
#include "nnrun/util.h"

#define B 3

static struct nn_exec exec_of(struct nn_graph *g)
{
    struct nn_exec x = {g, g->slots[0].t, B, 0, 1, g->params, g->chunk_grads, NULL, 5, 3};
    return x;
}

static double objective(struct nn_graph *g, const float *R)
{
    struct nn_exec x = exec_of(g);
    nn_exec_forward(&x);
    const struct nn_node *o = &g->nodes[g->output];
    const float *out = nn_out(&x, o);
    double L = 0;
    for (size_t i = 0; i < B * o->size; i++) L += (double)out[i] * R[i];
    return L;
}

static void analytic(struct nn_graph *g, const float *R)
{
    objective(g, R);
    struct nn_exec x = exec_of(g);
    const struct nn_node *o = &g->nodes[g->output];
    /* backward writes (not adds) the gradients, and the first consumer of a
     * tensor in backward writes (not adds) its input gradient: poison both */
    for (int v = 0; v < g->n_nodes; v++) {
        float *d = x.t[v].dout;
        for (size_t i = 0; i < B * g->nodes[v].size; i++) d[i] = NAN;
    }
    memcpy(nn_dout(&x, o), R, B * o->size * sizeof *R);
    for (size_t i = 0; i < g->n_params; i++) g->chunk_grads[i] = NAN;
    nn_exec_backward(&x, 0);
}

static const char *const cases[] = {
    /* dense, with and without bias */
    "model: {input: [5], layers: [{dense: {units: 4}}, {dense: {units: 3, use_bias: false}}]}\n",
    /* conv2d: same, valid, strides, rectangular kernels, several channels */
    "model: {input: [6, 5, 2], layers: [{conv2d: {filters: 3, kernel_size: 3, padding: same}},"
    " {conv2d: {filters: 2, kernel_size: [3, 2], strides: 2, padding: same}}, flatten,"
    " {dense: {units: 3}}]}\n",
    "model: {input: [7, 6, 1], layers: [{conv2d: {filters: 2, kernel_size: 2}},"
    " {conv2d: {filters: 2, kernel_size: 3, strides: [2, 1]}}, flatten, {dense: {units: 3}}]}\n",
    /* dilation: same and valid, per axis; 8 channels in, 10 wide (the im2row
     * path that transposes 8x8 blocks, with a remainder) */
    "model: {input: [6, 5, 2], layers: [{conv2d: {filters: 2, kernel_size: 3, dilation_rate: 2,"
    " padding: same}}, {conv2d: {filters: 2, kernel_size: [2, 3], dilation_rate: [2, 1]}},"
    " flatten, {dense: {units: 3}}]}\n",
    "model: {input: [2, 10, 1], layers: [{conv2d: {filters: 8, kernel_size: 1}},"
    " {conv2d: {filters: 1, kernel_size: 3, padding: same, dilation_rate: [1, 2]}},"
    " global_average_pooling2d, {dense: {units: 3}}]}\n",
    /* pooling, valid and same, odd sizes */
    "model: {input: [7, 5, 1], layers: [{conv2d: {filters: 2, kernel_size: 1}},"
    " {maxpool2d: {pool_size: 2}}, flatten, {dense: {units: 3}}]}\n",
    "model: {input: [7, 5, 1], layers: [{conv2d: {filters: 2, kernel_size: 1}},"
    " {maxpool2d: {pool_size: 3, strides: 2, padding: same}}, flatten, {dense: {units: 3}}]}\n",
    "model: {input: [7, 5, 1], layers: [{conv2d: {filters: 2, kernel_size: 1}},"
    " {avgpool2d: {pool_size: 2}}, flatten, {dense: {units: 3}}]}\n",
    "model: {input: [7, 5, 1], layers: [{conv2d: {filters: 2, kernel_size: 1}},"
    " {avgpool2d: {pool_size: 3, strides: 2, padding: same}}, flatten, {dense: {units: 3}}]}\n",
    /* every activation, between two dense layers */
    "model: {input: [5], layers: [{dense: {units: 6}}, linear, {dense: {units: 3}}]}\n",
    "model: {input: [5], layers: [{dense: {units: 6}}, tanh, {dense: {units: 3}}]}\n",
    "model: {input: [5], layers: [{dense: {units: 6}}, relu, {dense: {units: 3}}]}\n",
    "model: {input: [5], layers: [{dense: {units: 6}}, sigmoid, {dense: {units: 3}}]}\n",
    "model: {input: [5], layers: [{dense: {units: 6}}, softmax, {dense: {units: 3}}]}\n",
    "model: {input: [5], layers: [{dense: {units: 6}}, {leaky_relu: {alpha: 0.2}},"
    " {dense: {units: 3}}]}\n",
    "model: {input: [5], layers: [{dense: {units: 6}}, elu, {dense: {units: 3}}]}\n",
    /* two activations in a row: the second must not overwrite the first's output */
    "model: {input: [5], layers: [{dense: {units: 6}}, tanh, relu, sigmoid, {dense: {units: 3}}]}\n",
    /* ... nor through a flatten that shares the first's tensor */
    "model: {input: [5], layers: [{dense: {units: 6}}, tanh, flatten, sigmoid, {dense: {units: 3}}]}\n",
    "model: {input: [4, 4, 1], layers: [{conv2d: {filters: 2, kernel_size: 3, activation: tanh}},"
    " flatten, sigmoid, {dense: {units: 3}}]}\n",
    /* softmax over channels of an image */
    "model: {input: [3, 3, 1], layers: [{conv2d: {filters: 4, kernel_size: 2, activation: softmax}},"
    " flatten, {dense: {units: 3}}]}\n",
    /* dropout in training mode (the mask is fixed by seed and step) */
    "model: {input: [5], layers: [{dense: {units: 8}}, {dropout: {rate: 0.5}},"
    " {dense: {units: 3}}]}\n",
    /* add: x + x (one node named twice receives 2 dy) */
    "model: {input: [5], layers: [{dense: {units: 4, name: a}}, {add: {inputs: [a, a]}},"
    " {dense: {units: 3}}]}\n",
    /* add of 3 inputs, one of them also read by two other layers */
    "model: {input: [5], layers: [{dense: {units: 4, name: a}},"
    " {dense: {units: 4, activation: tanh, name: b}}, {dense: {units: 4, inputs: a, name: c}},"
    " {add: {inputs: [b, a, c]}}, {dense: {units: 3}}]}\n",
    /* a residual block on images: the block input is an in-place relu read by
     * two layers, an in-place activation follows the add (tanh: a relu there
     * sits on a kink for these seeds), then global average pooling */
    "model: {input: [5, 4, 2], layers: [{conv2d: {filters: 3, kernel_size: 3, padding: same,"
    " activation: relu, name: s}}, {conv2d: {filters: 3, kernel_size: 3, padding: same,"
    " activation: tanh, name: r}}, {add: {inputs: [r, s]}}, tanh, global_average_pooling2d,"
    " {dense: {units: 3}}]}\n",
    /* add with a copy of the model's input, which no other layer differentiates */
    "model: {input: [5], layers: [{dense: {units: 5, name: a}}, {flatten: {inputs: input}},"
    " {add: {inputs: [flatten_1, a], name: s}}, {dense: {units: 5, inputs: flatten_1, name: b}},"
    " {add: {inputs: [s, b]}}, {dense: {units: 3}}]}\n",
    /* concatenate: different channel counts, images and flat */
    "model: {input: [4, 3, 2], layers: [{conv2d: {filters: 2, kernel_size: 1, name: a}},"
    " {conv2d: {filters: 3, kernel_size: 3, padding: same, inputs: input, name: b}},"
    " {concatenate: {inputs: [a, b]}}, flatten, {dense: {units: 3}}]}\n",
    "model: {input: [5], layers: [{dense: {units: 3, name: a}}, {dense: {units: 2, name: b}},"
    " {concatenate: {inputs: [b, a, b], axis: -1}}, {dense: {units: 3}}]}\n",
    /* global average pooling, also under its short name */
    "model: {input: [5, 4, 2], layers: [{conv2d: {filters: 3, kernel_size: 2}},"
    " global_avgpool2d, {dense: {units: 3}}]}\n",
    /* batch normalization in training mode: the chunk's statistics depend on
     * the input, which the first layer's gradients check; over pixels too,
     * without gamma and beta, with an activation it applies as its epilogue */
    "model: {input: [5], layers: [{dense: {units: 4}}, batch_normalization,"
    " {dense: {units: 3}}]}\n",
    "model: {input: [4, 3, 2], layers: [{conv2d: {filters: 3, kernel_size: 2, padding: same}},"
    " {batch_normalization: {epsilon: 0.01}}, flatten, {dense: {units: 3}}]}\n",
    "model: {input: [5], layers: [{dense: {units: 6}}, {batch_normalization: {center: false,"
    " scale: false}}, tanh, {dense: {units: 3}}]}\n",
};

START_TEST(test_layer_gradients)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%sdata: {classes: 3}\ntrain: {loss: mse}\n", cases[_i]);
    struct nn_graph g;
    struct nn_spec *s = t_model(yaml, &g);
    char err[256];
    ck_assert_int_eq(nn_graph_alloc(&g, B * NN_MAX_CHUNKS, 1, err, sizeof err), 0);
    ck_assert_int_ge(g.slot_rows, B);
    nn_graph_init_params(&g, 11);
    /* biases start at zero; make them non-trivial (the trainable ones: the
     * rest is state, such as a moving variance, which must stay positive) */
    t_fill(g.params, g.n_trainable, -0.5f, 0.5f, 100 + (uint64_t)_i);
    t_fill(g.slots[0].t[0].out, B * g.nodes[0].size, -1, 1, 200 + (uint64_t)_i);
    const struct nn_node *o = &g.nodes[g.output];
    float *R = malloc(B * o->size * sizeof *R);
    t_fill(R, B * o->size, -1, 1, 300 + (uint64_t)_i);
    analytic(&g, R);
    float *ga = malloc(g.n_params * sizeof *ga);
    memcpy(ga, g.chunk_grads, g.n_params * sizeof *ga);
    const float h = 3e-3f;
    double worst = 0;
    size_t worst_i = 0;
    for (size_t i = 0; i < g.n_trainable; i++) {
        float keep = g.params[i];
        g.params[i] = keep + h;
        double lp = objective(&g, R);
        g.params[i] = keep - h;
        double lm = objective(&g, R);
        g.params[i] = keep;
        double num = (lp - lm) / (2.0 * h);
        double err_i = fabs(num - ga[i]) / (fabs(num) + fabs(ga[i]) + 1e-2);
        if (err_i > worst) worst = err_i, worst_i = i;
    }
    ck_assert_msg(worst < 5e-3, "case %d: relative error %g at parameter %zu", _i, worst,
                  worst_i);
    /* inference mode gives the same outputs (dropout aside, which it turns off,
     * and batch normalization, which uses its moving statistics then) */
    if (!strstr(cases[_i], "dropout") && !strstr(cases[_i], "batch_normalization")) {
        struct nn_exec x = exec_of(&g);
        nn_exec_forward(&x);
        size_t len = B * o->size;
        float *train_out = malloc(len * sizeof *train_out);
        memcpy(train_out, nn_out(&x, o), len * sizeof *train_out);
        x.training = 0;
        nn_exec_forward(&x);
        ck_assert_int_eq(memcmp(train_out, nn_out(&x, o), len * sizeof *train_out), 0);
        free(train_out);
    }
    /* the check is not vacuous: gradients are non-zero */
    double norm = 0;
    for (size_t i = 0; i < g.n_trainable; i++) norm += fabs(ga[i]);
    ck_assert(norm > 1e-3);
    free(ga);
    free(R);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

/* A 3x3 kernel dilated by 2 is the 5x5 kernel with zeros between its taps:
 * both give the same outputs, same and valid. */
START_TEST(test_dilation_is_a_sparse_kernel)
{
    const char *pad = _i ? "valid" : "same";
    char ya[512], yb[512];
    snprintf(ya, sizeof ya, "model: {input: [9, 8, 2], layers: [{conv2d: {filters: 3, "
             "kernel_size: 3, dilation_rate: 2, padding: %s}}, flatten, {dense: {units: 3}}]}\n"
             "data: {classes: 3}\ntrain: {loss: mse}\n", pad);
    snprintf(yb, sizeof yb, "model: {input: [9, 8, 2], layers: [{conv2d: {filters: 3, "
             "kernel_size: 5, padding: %s}}, flatten, {dense: {units: 3}}]}\n"
             "data: {classes: 3}\ntrain: {loss: mse}\n", pad);
    struct nn_graph ga, gb;
    struct nn_spec *sa = t_model(ya, &ga), *sb = t_model(yb, &gb);
    char err[256];
    ck_assert_int_eq(nn_graph_alloc(&ga, B, 1, err, sizeof err), 0);
    ck_assert_int_eq(nn_graph_alloc(&gb, B, 1, err, sizeof err), 0);
    const struct nn_node *na = &ga.nodes[1], *nb = &gb.nodes[1];
    ck_assert_int_eq(na->h, nb->h);
    ck_assert_int_eq(na->w, nb->w);
    ck_assert_int_eq(na->h, _i ? 5 : 9);
    /* W[ky, kx, c, f] then b[f]: the 5x5 kernel holds the 3x3 one at even taps */
    enum { C = 2, F = 3 };
    t_fill(ga.params, ga.n_params, -1, 1, 7);
    memset(gb.params, 0, gb.n_params * sizeof *gb.params);
    const float *wa = ga.params + na->param_off;
    float *wb = gb.params + nb->param_off;
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
            for (int cf = 0; cf < C * F; cf++)
                wb[((2 * ky) * 5 + 2 * kx) * C * F + cf] = wa[(ky * 3 + kx) * C * F + cf];
    for (int f = 0; f < F; f++) wb[25 * C * F + f] = wa[9 * C * F + f];
    t_fill(ga.slots[0].t[0].out, B * ga.nodes[0].size, -1, 1, 8);
    memcpy(gb.slots[0].t[0].out, ga.slots[0].t[0].out, B * ga.nodes[0].size * sizeof(float));
    struct nn_exec xa = exec_of(&ga), xb = exec_of(&gb);
    nn_exec_forward(&xa);
    nn_exec_forward(&xb);
    const float *ya_out = nn_out(&xa, na), *yb_out = nn_out(&xb, nb);
    for (size_t i = 0; i < B * na->size; i++) ck_assert_float_eq_tol(ya_out[i], yb_out[i], 1e-5f);
    nn_graph_free(&ga);
    nn_graph_free(&gb);
    nn_spec_free(sa);
    nn_spec_free(sb);
}
END_TEST

/* Batch normalization, directly: in inference mode the output is
 * gamma (x - moving_mean) / sqrt(moving_variance + eps) + beta, which is the
 * training-mode output when the moving statistics are the batch's own; in
 * training mode forward records the chunk's mean and variance at state_off. */
START_TEST(test_batchnorm_modes)
{
    enum { R = 5, H = 3, W = 2, C = 4 };
    const char *yaml = "model: {input: [3, 2, 4], layers: [{batch_normalization: {epsilon: 0.01}},"
                       " flatten, {dense: {units: 3}}]}\ndata: {classes: 3}\ntrain: {loss: mse}\n";
    struct nn_graph g;
    struct nn_spec *s = t_model(yaml, &g);
    char err[256];
    ck_assert_int_eq(nn_graph_alloc(&g, R, 1, err, sizeof err), 0);
    nn_graph_init_params(&g, 1);
    const struct nn_node *bn = &g.nodes[1];
    ck_assert_uint_eq(bn->n_params, 2 * C);
    ck_assert_uint_eq(bn->n_state, 2 * C);
    ck_assert_uint_eq(g.n_trainable, 2 * C + H * W * C * 3 + 3);
    ck_assert_uint_eq(bn->state_off, g.n_trainable);
    float *gamma = g.params + bn->param_off, *beta = gamma + C;
    float *mm = g.params + bn->state_off, *mv = mm + C;
    /* the initializers: gamma 1, beta 0, moving mean 0, moving variance 1 */
    for (int c = 0; c < C; c++)
        ck_assert(gamma[c] == 1 && beta[c] == 0 && mm[c] == 0 && mv[c] == 1);
    t_fill(gamma, 2 * C, -1.5f, 1.5f, 7);
    float *xin = g.slots[0].t[0].out;
    t_fill(xin, (size_t)R * H * W * C, -2, 3, 8);
    const size_t N = (size_t)R * H * W;
    double mean[C] = {0}, var[C] = {0};
    for (size_t p = 0; p < N; p++)
        for (int c = 0; c < C; c++) mean[c] += xin[p * C + c] / (double)N;
    for (size_t p = 0; p < N; p++)
        for (int c = 0; c < C; c++)
            var[c] += (xin[p * C + c] - mean[c]) * (xin[p * C + c] - mean[c]) / (double)N;
    struct nn_exec x = {&g, g.slots[0].t, R, 0, 1, g.params, g.chunk_grads, NULL, 5, 3};
    float train_out[R * H * W * C], *y = nn_out(&x, bn);
    nn_exec_forward(&x);
    memcpy(train_out, y, sizeof train_out);
    const float *rec = g.chunk_grads + bn->state_off;
    for (int c = 0; c < C; c++) {
        ck_assert_double_eq_tol(rec[c], mean[c], 1e-6);
        ck_assert_double_eq_tol(rec[C + c], var[c], 1e-5);
    }
    for (size_t p = 0; p < N; p++)
        for (int c = 0; c < C; c++) {
            double want = gamma[c] * (xin[p * C + c] - mean[c]) / sqrt(var[c] + 0.01) + beta[c];
            ck_assert_double_eq_tol(train_out[p * C + c], want, 1e-5);
        }
    /* inference with other moving statistics: the formula */
    t_fill(mm, C, -1, 1, 9);
    t_fill(mv, C, 0.1f, 2, 10);
    x.training = 0;
    nn_exec_forward(&x);
    for (size_t p = 0; p < N; p++)
        for (int c = 0; c < C; c++) {
            double want = gamma[c] * (xin[p * C + c] - mm[c]) / sqrt(mv[c] + 0.01) + beta[c];
            ck_assert_double_eq_tol(y[p * C + c], want, 1e-5);
        }
    /* inference with the batch's statistics as moving ones: the training output */
    for (int c = 0; c < C; c++) mm[c] = (float)mean[c], mv[c] = (float)var[c];
    nn_exec_forward(&x);
    for (size_t i = 0; i < N * C; i++) ck_assert_double_eq_tol(y[i], train_out[i], 1e-5);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

/* One training step of 29 rows (3 chunks of 9, 10 and 10): the moving
 * statistics follow Keras' update with the whole batch's mean and biased
 * variance, and the optimizer leaves them alone.  Feature 0 is 0, 1, ..., 28
 * (mean 14, variance (29^2 - 1) / 12 = 70), feature 1 is 7 (variance 0):
 *   step 1: mean 0.01 * 14 = 0.14, 0.07; variance 0.99 + 0.01 * 70 = 1.69, 0.99
 *   step 2: mean 0.99 * 0.14 + 0.14 = 0.2786; variance 0.99 * 1.69 + 0.7 = 2.3731 */
START_TEST(test_batchnorm_moving_statistics)
{
    enum { NS = 29 };
    const char *yaml = "model: {input: [2], layers: [batch_normalization, {dense: {units: 2}}]}\n"
                       "data: {classes: 2, divide_by: 1}\n"
                       "train: {loss: mse, optimizer: {name: adam, learning_rate: 0.1},"
                       " batch_size: 29}\n";
    struct nn_graph g;
    struct nn_spec *s = t_model(yaml, &g);
    char err[256];
    ck_assert_int_eq(nn_graph_alloc(&g, NS, 1, err, sizeof err), 0);
    nn_graph_init_params(&g, 1);
    ck_assert_int_eq(nn_graph_chunks(NS), 4);   /* 3 rounded up to even */
    uint8_t images[NS * 2], labels[NS];
    size_t idx[NS];
    for (int i = 0; i < NS; i++) images[2 * i] = (uint8_t)i, images[2 * i + 1] = 7,
                                 labels[i] = (uint8_t)(i % 2), idx[i] = (size_t)i;
    struct nn_dataset ds = {.images = images, .labels = labels, .n = NS, .h = 1, .w = 1, .c = 2,
                            .n_classes = 2};
    struct nn_optim o;
    ck_assert_int_eq(nn_train_optim_init(&o, &g, s), 0);
    ck_assert_uint_eq(o.n, g.n_trainable);
    const struct nn_node *bn = &g.nodes[1];
    const float *mm = g.params + bn->state_off, *mv = mm + 2;
    const float gamma0 = g.params[bn->param_off];
    nn_train_step(&g, s, &o, &ds, idx, NS, NULL, 0, NULL);
    ck_assert_float_eq_tol(mm[0], 0.14f, 1e-6f);
    ck_assert_float_eq_tol(mm[1], 0.07f, 1e-6f);
    ck_assert_float_eq_tol(mv[0], 1.69f, 1e-5f);
    ck_assert_float_eq_tol(mv[1], 0.99f, 1e-6f);
    ck_assert(g.params[bn->param_off] != gamma0);   /* gamma is trained */
    nn_train_step(&g, s, &o, &ds, idx, NS, NULL, 1, NULL);
    ck_assert_float_eq_tol(mm[0], 0.2786f, 1e-6f);
    ck_assert_float_eq_tol(mv[0], 2.3731f, 1e-5f);
    nn_optim_free(&o);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

/* Loss gradients: unfused over probabilities, and fused through a softmax. */
static double loss_at(enum nn_loss_kind k, const float *p, const uint8_t *y, int C)
{
    struct nn_metric_sums m = {0};
    nn_loss_measure(k, p, y, B, C, &m);
    return m.loss / B;
}

static void softmax(const float *z, float *p, int C)
{
    for (int b = 0; b < B; b++) {
        double mx = -1e30, s = 0;
        for (int c = 0; c < C; c++) mx = fmax(mx, z[b * C + c]);
        for (int c = 0; c < C; c++) s += exp(z[b * C + c] - mx);
        for (int c = 0; c < C; c++) p[b * C + c] = (float)(exp(z[b * C + c] - mx) / s);
    }
}

START_TEST(test_loss_gradients)
{
    enum { C = 4 };
    static const uint8_t y[B] = {2, 0, 3};
    for (int k = 0; k < NN_LOSS_COUNT; k++)
        for (int fused = 0; fused <= nn_loss_fuses_softmax(k); fused++) {
            float z[B * C], p[B * C], g[B * C];
            t_fill(z, B * C, -2, 2, 40 + (uint64_t)k);
            softmax(z, p, C);
            nn_loss_grad(k, p, y, B, C, B, fused, g);
            const float h = 1e-3f;
            for (int i = 0; i < B * C; i++) {
                float v[B * C], q[B * C];
                double lp, lm;
                memcpy(v, fused ? z : p, sizeof v);
                v[i] += h;
                if (fused) softmax(v, q, C);
                lp = loss_at(k, fused ? q : v, y, C);
                v[i] -= 2 * h;
                if (fused) softmax(v, q, C);
                lm = loss_at(k, fused ? q : v, y, C);
                double num = (lp - lm) / (2 * h);
                ck_assert_msg(fabs(num - g[i]) < 2e-3 + 1e-2 * fabs(num),
                              "loss %s fused %d element %d: numeric %g analytic %g",
                              nn_loss_names[k], fused, i, num, g[i]);
            }
        }
}
END_TEST

START_TEST(test_loss_values)
{
    /* hand-worked: p_y = 0.5 -> -log 0.5; mse over 2 classes */
    const float p[B * 2] = {0.5f, 0.5f, 0.9f, 0.1f, 0.2f, 0.8f};
    const uint8_t y[B] = {0, 0, 0};
    struct nn_metric_sums m = {0};
    nn_loss_measure(NN_LOSS_SPARSE_CCE, p, y, B, 2, &m);
    ck_assert_double_eq_tol(m.loss, -log(0.5) - log(0.9) - log(0.2), 1e-6);
    ck_assert_double_eq(m.correct, 2);   /* 0.5/0.5 ties go to class 0 */
    ck_assert_double_eq_tol(m.sq_err, (0.25 + 0.25) / 2 + (0.01 + 0.01) / 2 + (0.64 + 0.64) / 2,
                            1e-6);
    ck_assert_int_eq(m.n, 3);
}
END_TEST

/* Label smoothing: hand-worked values, and the gradients (fused and not)
 * against central differences of the smoothed loss. */
START_TEST(test_label_smoothing)
{
    /* ls 0.2 over 2 classes: targets [0.9, 0.1] for class 0 */
    const float p[B * 2] = {0.5f, 0.5f, 0.9f, 0.1f, 0.2f, 0.8f};
    const uint8_t y0[B] = {0, 0, 0};
    for (int k = 0; k < 2; k++) {   /* sparse and categorical: the same */
        struct nn_metric_sums m = {0};
        nn_loss_measure_smoothed(k ? NN_LOSS_CCE : NN_LOSS_SPARSE_CCE, p, y0, B, 2, 0.2f, &m);
        const double want = log(2.0) - 0.9 * log(0.9) - 0.1 * log(0.1) - 0.9 * log(0.2) -
                            0.1 * log(0.8);
        ck_assert_double_eq_tol(m.loss, want, 1e-6);
        ck_assert_double_eq(m.correct, 2);   /* accuracy sees the true labels */
        float g[B * 2];
        nn_loss_grad_smoothed(k ? NN_LOSS_CCE : NN_LOSS_SPARSE_CCE, p, y0, B, 2, B, 1, 0.2f, g);
        /* fused: (p - [0.9, 0.1]) / 3 */
        const float wg[B * 2] = {-0.4f / 3, 0.4f / 3, 0, 0, -0.7f / 3, 0.7f / 3};
        for (int i = 0; i < B * 2; i++) ck_assert_float_eq_tol(g[i], wg[i], 1e-7f);
    }
    /* ls 0: exactly the unsmoothed functions */
    {
        struct nn_metric_sums a = {0}, b = {0};
        nn_loss_measure_smoothed(NN_LOSS_SPARSE_CCE, p, y0, B, 2, 0, &a);
        nn_loss_measure(NN_LOSS_SPARSE_CCE, p, y0, B, 2, &b);
        ck_assert(a.loss == b.loss);
    }
    enum { C = 4 };
    static const uint8_t y[B] = {2, 0, 3};
    for (int k = 0; k < 2; k++)
        for (int fused = 0; fused <= 1; fused++) {
            float z[B * C], q[B * C], g[B * C];
            t_fill(z, B * C, -2, 2, 50 + (uint64_t)k);
            softmax(z, q, C);
            nn_loss_grad_smoothed(k, q, y, B, C, B, fused, 0.1f, g);
            const float h = 1e-3f;
            for (int i = 0; i < B * C; i++) {
                float v[B * C], r[B * C];
                double l[2];
                for (int sgn = 0; sgn < 2; sgn++) {
                    memcpy(v, fused ? z : q, sizeof v);
                    v[i] += sgn ? -h : h;
                    if (fused) softmax(v, r, C);
                    struct nn_metric_sums m = {0};
                    nn_loss_measure_smoothed(k, fused ? r : v, y, B, C, 0.1f, &m);
                    l[sgn] = m.loss / B;
                }
                double num = (l[0] - l[1]) / (2 * h);
                ck_assert_msg(fabs(num - g[i]) < 2e-3 + 1e-2 * fabs(num),
                              "loss %s fused %d element %d: numeric %g analytic %g",
                              nn_loss_names[k], fused, i, num, g[i]);
            }
        }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("gradcheck");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_layer_gradients, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_loss_gradients);
    tcase_add_test(tc, test_loss_values);
    tcase_add_loop_test(tc, test_dilation_is_a_sparse_kernel, 0, 2);
    tcase_add_test(tc, test_batchnorm_modes);
    tcase_add_test(tc, test_batchnorm_moving_statistics);
    tcase_add_test(tc, test_label_smoothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
