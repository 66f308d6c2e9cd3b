/* dropout.c - inverted dropout: in training each value is kept with
 * probability 1 - rate and scaled by 1 / (1 - rate); at evaluation the layer
 * is the identity.  The mask is drawn per element from (seed, step, node,
 * index), so it does not depend on threads; scratch keeps it for backward. */
#include <string.h>

#include "args.h"
#include "nnrun/parallel.h"
#include "nnrun/util.h"

struct dropout_args {
    float rate;
};

static const struct nn_arg_desc dropout_keys[] = {
    {"rate", NN_ARG_FLOAT, offsetof(struct dropout_args, rate), 1, 0, 1, 1, 0, NULL, 0,
     "fraction of inputs dropped in training, in [0, 1)"},
};

static int dropout_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    (void)d;
    const struct nn_node *in = &g->nodes[n->inputs[0]];
    n->h = in->h, n->w = in->w, n->c = in->c;
    n->scratch_per_sample = in->size;   /* the mask, 0 or 1/(1-rate) */
    return 0;
}

struct drop_job {
    const struct nn_node *n;
    struct nn_exec *x;
};

static void drop_fwd(void *ctx, size_t s0, size_t s1)
{
    const struct drop_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const struct dropout_args *a = n->args;
    const float scale = 1.0f / (1.0f - a->rate);
    const uint64_t stream = (j->x->step << 16) ^ (uint64_t)(n - j->x->g->nodes);
    const float *xin = nn_out(j->x, in);
    float *mask = nn_scratch(j->x, n), *y = nn_out(j->x, n);
    /* the draw is keyed by the row's index in the whole batch, not the chunk */
    const size_t base = (size_t)j->x->row0 * n->size;
    for (size_t i = s0 * n->size; i < s1 * n->size; i++) {
        float keep = nn_unit_float(nn_rand_at(j->x->seed, stream, base + i)) >= a->rate ? scale : 0;
        mask[i] = keep;
        y[i] = xin[i] * keep;
    }
}

static void dropout_forward(const struct nn_node *n, struct nn_exec *x)
{
    const struct nn_node *in = nn_input(x, n, 0);
    if (!x->training) {
        memcpy(nn_out(x, n), nn_out(x, in), (size_t)x->batch * n->size * sizeof(float));
        return;
    }
    struct drop_job j = {n, x};
    nn_pool_for(x->pool, (size_t)x->batch, 8, drop_fwd, &j);
}

static void dropout_backward(const struct nn_node *n, struct nn_exec *x)
{
    if (!n->needs_dinput) return;
    float *dx = nn_dout(x, nn_input(x, n, 0));
    const float *dy = nn_dout(x, n), *mask = nn_scratch(x, n);
    size_t total = (size_t)x->batch * n->size;
    if (n->din_acc[0])
        for (size_t i = 0; i < total; i++) dx[i] += dy[i] * mask[i];
    else
        for (size_t i = 0; i < total; i++) dx[i] = dy[i] * mask[i];
}

const struct nn_layer_ops nn_layer_dropout = {
    .name = "dropout",
    .doc = "inverted dropout, off at evaluation",
    .args = dropout_keys,
    .n_args = NN_ARRAY_LEN(dropout_keys),
    .args_size = sizeof(struct dropout_args),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = dropout_infer,
    .forward = dropout_forward,
    .backward = dropout_backward,
};
