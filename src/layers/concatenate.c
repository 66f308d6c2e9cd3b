/* concatenate.c - join 2..8 inputs of one height and width along the
 * channels, Keras' Concatenate(axis=-1).  NHWC: per pixel, input 0's
 * channels, then input 1's, ...
 *   forward:  y[p, off_i : off_i + c_i] = x_i[p, :]
 *   backward: dx_i[p, :] (+)= dy[p, off_i : off_i + c_i]
 * A node named twice gets both slices' sum (din_acc 1 on its second slot). */
#include <limits.h>
#include <string.h>

#include "args.h"

struct concatenate_args {
    int axis;   /* index into axis_names: only the channels */
};

static const char *const axis_names[] = {"-1"};

static const struct nn_arg_desc concatenate_keys[] = {
    {"axis", NN_ARG_ENUM, offsetof(struct concatenate_args, axis), 0, 0, 0, 0, 0, axis_names,
     NN_ARRAY_LEN(axis_names), "the axis joined: -1, the channels"},
};

static int concatenate_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    const struct nn_node *a = &g->nodes[n->inputs[0]];
    long long c = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const struct nn_node *b = &g->nodes[n->inputs[i]];
        if (b->h != a->h || b->w != a->w) {
            nn_diag_error(d, n->mark, "layer '%s' (concatenate): input '%s' gives [%d, %d, %d], "
                          "but input '%s' gives [%d, %d, %d]; concatenate joins the channels "
                          "of inputs of the same height and width", n->name, b->name, b->h,
                          b->w, b->c, a->name, a->h, a->w, a->c);
            return -1;
        }
        c += b->c;
    }
    if (c > INT_MAX) {
        nn_diag_error(d, n->mark, "layer '%s' (concatenate) would have %lld channels; nnrun "
                      "accepts at most %d", n->name, c, INT_MAX);
        return -1;
    }
    n->h = a->h, n->w = a->w, n->c = (int)c;
    return 0;
}

static void concatenate_forward(const struct nn_node *n, struct nn_exec *x)
{
    const size_t pixels = (size_t)x->batch * n->h * n->w, C = (size_t)n->c;
    float *y = nn_out(x, n);
    size_t off = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const struct nn_node *in = nn_input(x, n, i);
        const size_t ci = (size_t)in->c;
        const float *xi = nn_out(x, in);
        for (size_t p = 0; p < pixels; p++) memcpy(y + p * C + off, xi + p * ci, ci * sizeof *y);
        off += ci;
    }
}

static void concatenate_backward(const struct nn_node *n, struct nn_exec *x)
{
    if (!n->needs_dinput) return;
    const size_t pixels = (size_t)x->batch * n->h * n->w, C = (size_t)n->c;
    const float *dy = nn_dout(x, n);
    size_t off = 0;
    /* in input order: a node named twice is overwritten first, then added to */
    for (int i = 0; i < n->n_inputs; i++) {
        const struct nn_node *in = nn_input(x, n, i);
        const size_t ci = (size_t)in->c;
        float *dx = nn_dout(x, in);
        for (size_t p = 0; p < pixels; p++) {
            const float *g = dy + p * C + off;
            float *d = dx + p * ci;
            if (n->din_acc[i])
                for (size_t k = 0; k < ci; k++) d[k] += g[k];
            else
                memcpy(d, g, ci * sizeof *d);
        }
        off += ci;
    }
}

const struct nn_layer_ops nn_layer_concatenate = {
    .name = "concatenate",
    .doc = "join 2 to 8 inputs of the same height and width along the channels",
    .args = concatenate_keys,
    .n_args = NN_ARRAY_LEN(concatenate_keys),
    .args_size = sizeof(struct concatenate_args),
    .min_inputs = 2,
    .max_inputs = NN_MAX_INPUTS,
    .infer = concatenate_infer,
    .forward = concatenate_forward,
    .backward = concatenate_backward,
};
