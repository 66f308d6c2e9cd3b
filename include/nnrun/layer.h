/* layer.h - a layer kind is a const ops table over plain kernels.
 *
 * One kind, one file (src/layers/<kind>.c), forward and backward side by side.
 * The executor calls the table and knows no kind by name.
 *
 * Contract:
 * - infer: from the input nodes' shapes, set the node's output shape,
 *   parameter counts (n_params, n_weights), fans, scratch needs and flops.
 *   Record an error in d (at node->mark) and return -1 on a mismatch.
 * - forward: read the inputs' out, write the node's out for x->batch rows
 *   (tensors through nn_out, nn_dout, nn_scratch: they live in the slot).
 * - backward: read the node's dout; WRITE the node's parameter gradients
 *   (x->grads + param_off: a node owns its parameters) and, when
 *   n->needs_dinput, write input i's dout, adding to it when n->din_acc[i]
 *   (another consumer already wrote it), so a tensor read by two nodes
 *   receives the sum of both gradients.
 * - Results must not depend on the number of threads: every output element is
 *   computed by one task, reductions run in a fixed order.
 */
#ifndef NNRUN_LAYER_H
#define NNRUN_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "nnrun/diag.h"
#include "nnrun/graph.h"
#include "nnrun/spec.h"

struct nn_pool;

/* What forward and backward see of the running chunk. */
struct nn_exec {
    struct nn_graph *g;
    struct nn_tensors *t;       /* the slot's tensors, indexed by node */
    int batch;                  /* rows in this chunk (<= g->slot_rows) */
    int row0;                   /* the chunk's first row within the whole batch */
    int training;               /* 0 at evaluation: dropout off */
    const float *params;
    float *grads;               /* this chunk's parameter gradients */
    struct nn_pool *pool;       /* NULL inside a chunk: kernels run inline */
    uint64_t seed, step;        /* for dropout masks: counter-based, per element */
};

static inline const struct nn_node *nn_input(const struct nn_exec *x,
                                             const struct nn_node *n, int i)
{
    return &x->g->nodes[n->inputs[i]];
}
static inline float *nn_out(const struct nn_exec *x, const struct nn_node *n)
{
    return x->t[n - x->g->nodes].out;
}
static inline float *nn_dout(const struct nn_exec *x, const struct nn_node *n)
{
    return x->t[n - x->g->nodes].dout;
}
static inline float *nn_scratch(const struct nn_exec *x, const struct nn_node *n)
{
    return x->t[n - x->g->nodes].scratch;
}
static inline float *nn_work(const struct nn_exec *x, const struct nn_node *n)
{
    return x->t[n - x->g->nodes].work;
}

enum nn_layer_flags {
    NN_LAYER_TAKES_ACTIVATION = 1,   /* accepts the `activation:` argument */
    NN_LAYER_SOFTMAX = 2,            /* output is a softmax: cross-entropy may fuse */
    NN_LAYER_READS_OUTPUT = 4,       /* backward reads the node's own output, so a
                                        consumer must not overwrite it in place */
    NN_LAYER_IN_PLACE = 8,           /* with NN_NODE_ALIAS, forward overwrites the
                                        shared tensor (activations; flatten does not) */
    NN_LAYER_EPILOGUE = 16,          /* forward applies n->epi_act to its output while
                                        it is in cache (see nn_act_forward) */
};

struct nn_layer_ops {
    const char *name;                /* spec name */
    const char *const *aliases;      /* other accepted spec names, NULL-ended */
    const char *doc;
    const struct nn_arg_desc *args;  /* keys of this kind */
    int n_args;
    size_t args_size;
    unsigned flags;
    int min_inputs, max_inputs;
    int (*infer)(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d);
    void (*init)(const struct nn_node *n, float *params, uint64_t seed);
    void (*forward)(const struct nn_node *n, struct nn_exec *x);
    void (*backward)(const struct nn_node *n, struct nn_exec *x);
    /* Optional, for kinds with non-trainable state (n_state values at
     * state_off, after every trainable parameter; the optimizer never
     * updates them, checkpoints keep them): init_state sets it up;
     * after_step runs once per training step of B rows, after the
     * optimizer, and updates it from what forward recorded in each chunk's
     * block at state_off (g->chunk_grads + c * g->n_params + state_off, for
     * the nn_graph_chunks(B) chunks, read in chunk order). */
    void (*init_state)(const struct nn_node *n, float *state);
    void (*after_step)(const struct nn_node *n, struct nn_graph *g, int B);
};

enum nn_layer_kind {
    NN_LAYER_DENSE, NN_LAYER_CONV2D, NN_LAYER_MAXPOOL2D, NN_LAYER_AVGPOOL2D,
    NN_LAYER_FLATTEN, NN_LAYER_DROPOUT, NN_LAYER_ACTIVATION,
    NN_LAYER_ADD, NN_LAYER_CONCATENATE, NN_LAYER_GLOBAL_AVGPOOL2D,
    NN_LAYER_BATCHNORM,
    NN_LAYER_COUNT
};

extern const struct nn_layer_ops nn_layer_dense, nn_layer_conv2d, nn_layer_maxpool2d,
    nn_layer_avgpool2d, nn_layer_flatten, nn_layer_dropout, nn_layer_activation;
extern const struct nn_layer_ops nn_layer_add, nn_layer_concatenate, nn_layer_global_avgpool2d;
extern const struct nn_layer_ops nn_layer_batchnorm;

/* All kinds, indexed by enum nn_layer_kind. */
extern const struct nn_layer_ops *const nn_layer_kinds[NN_LAYER_COUNT];

/* Looks a kind up by spec name or alias. */
const struct nn_layer_ops *nn_layer_find(const char *name);

/* Args of the activation layer.  The builder copies them into the node's
 * act and alpha, which is also how `activation:` arguments become nodes. */
struct nn_activation_args {
    int activation;   /* enum nn_act */
    float alpha;      /* NAN: the function's default (leaky_relu 0.3, elu 1.0) */
};
/* The alpha an activation uses when the spec gives none (NAN). */
float nn_act_default_alpha(int act);
/* y = f(x) for `rows` rows of C values (softmax runs over each row's C);
 * x == y computes in place.  Shared by the activation layer and by the
 * producers that apply a following activation as their epilogue. */
void nn_act_forward(int act, float alpha, const float *x, float *y, size_t rows, int C);

/* Initializes n values of p per an initializer; stream separates tensors. */
void nn_init_fill(float *p, size_t n, int init, int fan_in, int fan_out,
                  uint64_t seed, uint64_t stream);

/* Fills the common parameter layout [weights, biases] of node n. */
void nn_layer_init_default(const struct nn_node *n, float *params, uint64_t seed);

#endif
