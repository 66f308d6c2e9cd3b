/* graph.h - the layer graph: nodes with inputs, shapes, parameters, tensors.
 *
 * Data layout: NHWC, sample-major; a node's output for some rows is a
 * [rows, h, w, c] float array.  Node 0 is the input; every other node comes
 * from one spec layer or from the `activation:` argument of one (dense with
 * activation: tanh becomes a dense node and a tanh node).  Nodes name their
 * inputs by index, so the graph is a DAG; `order` is a topological order.
 *
 * Execution is data-parallel over chunks: a batch of B rows is cut into
 * nn_graph_chunks(B) chunks (at most NN_MAX_CHUNKS, a function of B only);
 * each chunk runs forward and backward through the whole graph in one slot
 * (a private set of tensors for slot_rows rows, one slot per thread) and
 * writes its own parameter gradients; those are summed in chunk order.  A
 * chunk's working set is small enough to stay in cache.
 *
 * Life cycle: nn_graph_build (shapes, parameter counts, memory plan; nothing
 * large allocated) -> nn_graph_alloc (parameters, gradients, per-chunk
 * gradients, slots) -> nn_graph_init_params -> training -> nn_graph_free.
 */
#ifndef NNRUN_GRAPH_H
#define NNRUN_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nnrun/diag.h"
#include "nnrun/spec.h"

#define NN_MAX_INPUTS 8
#define NN_NAME_MAX 64
#define NN_MAX_CHUNKS 8

struct nn_pool;
struct nn_layer_ops;

enum nn_node_flags {
    NN_NODE_SOFTMAX = 1,   /* output is a softmax over channels: cross-entropy fuses */
    NN_NODE_ALIAS = 2,     /* output and gradient share the input's tensors: flatten
                              (no copy) and activations (computed in place); the
                              builder drops it when that would be unsafe */
    NN_NODE_FUSED = 4,     /* an in-place activation its producer applies at the
                              end of its own forward (epi_act): forward is a no-op */
};

struct nn_node {
    const struct nn_layer_ops *ops;  /* NULL for the input node */
    const void *args;                /* the kind's args (owned by the spec) */
    int act;                         /* activation nodes: enum nn_act */
    float alpha;                     /* activation nodes: leaky_relu / elu alpha */
    int epi_act;                     /* activation applied to this node's output at
                                        the end of its forward (NN_ACT_LINEAR: none) */
    float epi_alpha;
    char name[NN_NAME_MAX];
    struct nn_mark mark;
    int n_inputs;
    int inputs[NN_MAX_INPUTS];       /* node indices */
    int h, w, c;                     /* output shape per sample */
    size_t size;                     /* h * w * c */
    size_t n_params, n_weights;      /* weights first, then biases */
    size_t param_off;                /* offset into graph params/grads */
    size_t n_state, state_off;       /* non-trainable values (batch normalization's
                                        moving statistics) at params + state_off,
                                        after every trainable parameter */
    int fan_in, fan_out;             /* for initializers */
    int kernel_init, bias_init;      /* enum nn_init */
    size_t scratch_per_sample;       /* floats of scratch per batch row */
    size_t work_per_slot;            /* floats of workspace per slot, whatever its
                                        rows (conv2d's transposed kernel) */
    uint64_t flops;                  /* forward FLOPs per sample */
    int needs_dinput;                /* backward must produce input gradients */
    unsigned char din_acc[NN_MAX_INPUTS]; /* 1: add into inputs[i]'s dout; 0: this node
                                              is its last consumer and overwrites it */
    unsigned flags;                  /* NN_NODE_* set by infer */
};

/* A node's tensors in one slot: out and dout are [rows, size], scratch is
 * [rows, scratch_per_sample], work is [work_per_slot]. */
struct nn_tensors {
    float *out, *dout, *scratch, *work;
};

/* What one thread works in: every node's tensors for up to slot_rows rows. */
struct nn_slot {
    struct nn_tensors *t;           /* indexed by node */
    uint8_t *labels;                /* the chunk's labels */
};

struct nn_graph {
    int n_nodes;
    struct nn_node *nodes;          /* nodes[0] is the input */
    int *order;                     /* topological order of nodes 1..n-1 */
    int output;                     /* the node whose output is the prediction */
    size_t n_params;                /* trainable parameters, then non-trainable state */
    size_t n_trainable;             /* params[0..n_trainable): what the optimizer updates */
    float *params;                  /* n_params */
    float *chunk_grads;             /* NN_MAX_CHUNKS x n_params: each chunk's gradients
                                       (at a node's state_off: what its forward recorded
                                       for after_step) */
    int max_batch;
    int n_slots, slot_rows;
    struct nn_slot *slots;
    float *act_block;               /* every slot's tensors */
    size_t act_floats;
};

/* Chunks a batch of B rows is cut into: enough for at most NN_CHUNK_ROWS rows
 * each, rounded up to an even count so that two (or four) threads get equal
 * shares (a batch of 64 is 6 chunks, not 5 of which one thread would run 3),
 * but no more than NN_MAX_CHUNKS: a function of B only, never of the thread
 * count.  Small chunks keep a chunk's tensors in cache. */
#define NN_CHUNK_ROWS 13
static inline int nn_graph_chunks(int B)
{
    int n = (B + NN_CHUNK_ROWS - 1) / NN_CHUNK_ROWS;
    if (n > 1) n += n & 1;
    return n < 1 ? 1 : n > NN_MAX_CHUNKS ? NN_MAX_CHUNKS : n;
}
/* First row of chunk c of n over B rows. */
static inline int nn_chunk_start(int B, int n, int c) { return (int)((long)B * c / n); }

/* Builds nodes from the spec, orders them, infers shapes and counts
 * parameters.  Spec errors (unknown input name, cycle, shape mismatch, absurd
 * size) go to d with the layer's position; returns 0 or -1. */
int nn_graph_build(struct nn_graph *g, const struct nn_spec *s, struct nn_diag *d);

/* Bytes nn_graph_alloc would allocate, or SIZE_MAX on overflow. */
size_t nn_graph_plan_bytes(const struct nn_graph *g, int max_batch, int n_slots);

/* Allocates parameters, gradients, per-chunk gradients and n_slots slots for
 * batches of up to max_batch rows.  Returns 0, or -1 with a message in err. */
int nn_graph_alloc(struct nn_graph *g, int max_batch, int n_slots, char *err, size_t n_err);

/* Initializes every parameter from the node's initializers and the seed. */
void nn_graph_init_params(struct nn_graph *g, uint64_t seed);

/* Forward FLOPs per sample, summed over nodes. */
uint64_t nn_graph_flops(const struct nn_graph *g);
/* FLOPs of one node's training step per sample: the forward pass, the
 * weight gradient (as much again, for nodes with parameters) and the input
 * gradient (as much again, when one is needed). */
uint64_t nn_node_train_flops(const struct nn_node *n);
/* Training FLOPs per sample, summed over nodes. */
uint64_t nn_graph_train_flops(const struct nn_graph *g);

/* The Keras-summary-like table of `nnrun check`. */
void nn_graph_summary(const struct nn_graph *g, const struct nn_spec *s, FILE *f);

void nn_graph_free(struct nn_graph *g);

#endif
