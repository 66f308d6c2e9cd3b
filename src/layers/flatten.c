/* flatten.c - [h, w, c] -> [h*w*c].  NHWC rows are already flat in memory,
 * so the node shares its input's tensors (NN_NODE_ALIAS): no copy either way.
 * The builder drops the alias when the input feeds other nodes too; then the
 * values are copied forward and the gradient copied (or added) back. */
#include <string.h>

#include "args.h"

static int flatten_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    (void)d;
    const struct nn_node *in = &g->nodes[n->inputs[0]];
    n->h = n->w = 1;
    n->c = (int)in->size;
    n->flags |= NN_NODE_ALIAS;
    return 0;
}

static void flatten_forward(const struct nn_node *n, struct nn_exec *x)
{
    if (n->flags & NN_NODE_ALIAS) return;   /* the output is the input's tensor */
    memcpy(nn_out(x, n), nn_out(x, nn_input(x, n, 0)), (size_t)x->batch * n->size * sizeof(float));
}

static void flatten_backward(const struct nn_node *n, struct nn_exec *x)
{
    if ((n->flags & NN_NODE_ALIAS) || !n->needs_dinput) return;
    float *dx = nn_dout(x, nn_input(x, n, 0));
    const float *dy = nn_dout(x, n);
    size_t len = (size_t)x->batch * n->size;
    if (n->din_acc[0])
        for (size_t i = 0; i < len; i++) dx[i] += dy[i];
    else
        memcpy(dx, dy, len * sizeof *dx);
}

const struct nn_layer_ops nn_layer_flatten = {
    .name = "flatten",
    .doc = "reshape to a flat vector (no copy)",
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = flatten_infer,
    .forward = flatten_forward,
    .backward = flatten_backward,
};
