/* train.h - the generic executor: walks the graph order forward and back,
 * applies the optimizer, shuffles with the spec's seed, evaluates.
 */
#ifndef NNRUN_TRAIN_H
#define NNRUN_TRAIN_H

#include <stdio.h>

#include "nnrun/data.h"
#include "nnrun/graph.h"
#include "nnrun/loss.h"
#include "nnrun/spec.h"

struct nn_pool;

struct nn_epoch_stats {
    double loss, accuracy, mse;   /* running means over the epoch's batches */
    double seconds;
};

struct nn_eval_stats {
    double loss, accuracy, mse;
    long n;
    double seconds;
};

struct nn_train_opts {
    struct nn_pool *pool;
    FILE *log;                    /* per-epoch lines; NULL: silent */
};

/* Trains g (allocated, initialized) on train for spec->train.epochs epochs.
 * epochs[] (may be NULL) receives one entry per epoch.  Returns 0, or -1
 * with a message in err (a NaN loss: epoch and batch). */
int nn_train(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *train,
             const struct nn_train_opts *opts, struct nn_epoch_stats *epochs,
             char *err, size_t n_err);

/* Evaluates g on ds in batches of g->max_batch (inference mode). */
void nn_evaluate(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *ds,
                 struct nn_pool *pool, struct nn_eval_stats *out);

/* One training step on rows idx[0..B) of ds: each chunk runs forward, loss
 * and backward in a slot, the chunks' gradients are summed in chunk order,
 * the optimizer updates.  sums (may be NULL) receives the loss and metrics. */
struct nn_optim;
void nn_train_step(struct nn_graph *g, const struct nn_spec *s, struct nn_optim *o,
                   const struct nn_dataset *ds, const size_t *idx, int B,
                   struct nn_pool *pool, uint64_t step, struct nn_metric_sums *sums);

/* The node-level passes of one chunk, for tests and benchmarks: forward
 * through the graph order, and backward in reverse (skip_output: leave out
 * the output node, whose gradient was fused into the loss). */
struct nn_exec;
void nn_exec_forward(struct nn_exec *x);
void nn_exec_backward(struct nn_exec *x, int skip_output);

/* `nnrun bench`: per-layer forward and backward times over `steps` batches
 * of random inputs on one thread, then whole training steps on `threads`
 * threads; prints a table to f.  g is built, not yet allocated. */
int nn_bench(struct nn_graph *g, const struct nn_spec *s, int threads, int steps, FILE *f,
             char *err, size_t n_err);

#endif
