/* add.c - elementwise sum of 2..8 inputs of one shape, Keras' Add: the join
 * of a residual block.
 *   forward:  y = x0 + x1 + ... (added in input order, so deterministic)
 *   backward: dx_i (+)= dy for every input i.
 * One node may be named twice (x + x): the builder gives its first slot
 * din_acc 0 or 1 as usual and the second 1, so, written in input order, it
 * receives 2 dy. */
#include <string.h>

#include "args.h"

static int add_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    const struct nn_node *a = &g->nodes[n->inputs[0]];
    for (int i = 1; i < n->n_inputs; i++) {
        const struct nn_node *b = &g->nodes[n->inputs[i]];
        if (b->h != a->h || b->w != a->w || b->c != a->c) {
            nn_diag_error(d, n->mark, "layer '%s' (add): input '%s' gives [%d, %d, %d], but "
                          "input '%s' gives [%d, %d, %d]; add needs inputs of the same shape",
                          n->name, b->name, b->h, b->w, b->c, a->name, a->h, a->w, a->c);
            return -1;
        }
    }
    n->h = a->h, n->w = a->w, n->c = a->c;
    n->flops = (uint64_t)(n->n_inputs - 1) * a->size;
    return 0;
}

static void add_forward(const struct nn_node *n, struct nn_exec *x)
{
    const size_t len = (size_t)x->batch * n->size;
    float *restrict y = nn_out(x, n);
    memcpy(y, nn_out(x, nn_input(x, n, 0)), len * sizeof *y);
    for (int i = 1; i < n->n_inputs; i++) {
        const float *restrict xi = nn_out(x, nn_input(x, n, i));
        for (size_t k = 0; k < len; k++) y[k] += xi[k];
    }
}

static void add_backward(const struct nn_node *n, struct nn_exec *x)
{
    if (!n->needs_dinput) return;
    const size_t len = (size_t)x->batch * n->size;
    const float *dy = nn_dout(x, n);
    /* in input order: a node named twice is overwritten first, then added to */
    for (int i = 0; i < n->n_inputs; i++) {
        float *dx = nn_dout(x, nn_input(x, n, i));
        if (n->din_acc[i])
            for (size_t k = 0; k < len; k++) dx[k] += dy[k];
        else
            memcpy(dx, dy, len * sizeof *dx);
    }
}

const struct nn_layer_ops nn_layer_add = {
    .name = "add",
    .doc = "elementwise sum of 2 to 8 inputs of the same shape (residual join)",
    .min_inputs = 2,
    .max_inputs = NN_MAX_INPUTS,
    .infer = add_infer,
    .forward = add_forward,
    .backward = add_backward,
};
