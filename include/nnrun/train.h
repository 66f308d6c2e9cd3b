/* train.h - the generic executor: walks the graph order forward and back,
 * applies the optimizer, shuffles with the spec's seed, evaluates.
 */
#ifndef NNRUN_TRAIN_H
#define NNRUN_TRAIN_H

#include <stdio.h>

#include "nnrun/data.h"
#include "nnrun/graph.h"
#include "nnrun/loss.h"
#include "nnrun/optim.h"
#include "nnrun/spec.h"

struct nn_pool;

struct nn_epoch_stats {
    double loss, accuracy, mse;   /* running means over the epoch's batches */
    double seconds;
    double lr;                    /* the learning rate of the epoch's last step */
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

/* A training run that can stop after any batch and continue: the position
 * (epoch, batch within it, step), the order of the samples and the
 * optimizer's state.  A checkpoint saves exactly this. */
struct nn_trainer {
    struct nn_graph *g;
    const struct nn_spec *s;
    const struct nn_dataset *train;
    struct nn_optim o;
    size_t *idx;                  /* this epoch's sample order */
    int shuffled;                 /* the epoch whose shuffle idx holds */
    int epoch;                    /* the current epoch, from 0 */
    size_t batch;                 /* batches done in it */
    uint64_t step;                /* batches done in all */
    struct nn_metric_sums sums;   /* the current epoch's running sums */
    double epoch_seconds;         /* time spent on the current epoch before a stop */
    struct nn_lr_state lr_state;  /* reduce_on_plateau: the rate and its state */
};

struct nn_train_hooks {
    struct nn_pool *pool;
    volatile int *stop;           /* checked before each batch; nonzero: stop */
    void (*on_batch)(void *ctx, const struct nn_trainer *t, size_t n_batches);
    void *ctx;
};

int nn_trainer_init(struct nn_trainer *t, struct nn_graph *g, const struct nn_spec *s,
                    const struct nn_dataset *train, char *err, size_t n_err);
/* Puts the trainer at batch `batch` of epoch `epoch` (the sample order is
 * rebuilt from the seed); the running sums and timer restart at zero. */
void nn_trainer_seek(struct nn_trainer *t, int epoch, size_t batch);
size_t nn_trainer_batches(const struct nn_trainer *t);
/* Trains the rest of the current epoch: 0 when it completed (st filled, the
 * trainer at the next epoch), 1 when *h->stop was set (the position kept),
 * -1 on a non-finite loss (err says where). */
int nn_trainer_epoch(struct nn_trainer *t, const struct nn_train_hooks *h,
                     struct nn_epoch_stats *st, char *err, size_t n_err);
void nn_trainer_free(struct nn_trainer *t);

/* Per-sample predictions: pred[i] the arg max class of sample i, prob[i] its
 * probability (either may be NULL).  Same batches as nn_evaluate. */
void nn_predict(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *ds,
                struct nn_pool *pool, struct nn_eval_stats *out, uint8_t *pred, float *prob);

/* Evaluates g on ds in batches of g->max_batch (inference mode). */
void nn_evaluate(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *ds,
                 struct nn_pool *pool, struct nn_eval_stats *out);

/* One training step on rows idx[0..B) of ds: each chunk runs forward, loss
 * and backward in a slot, the chunks' gradients are summed in chunk order,
 * the optimizer updates.  sums (may be NULL) receives the loss and metrics. */
void nn_train_step(struct nn_graph *g, const struct nn_spec *s, struct nn_optim *o,
                   const struct nn_dataset *ds, const size_t *idx, int B,
                   struct nn_pool *pool, uint64_t step, struct nn_metric_sums *sums);

/* The optimizer of g's training: its state covers the whole parameter
 * block (checkpoints save it so), its updates only the trainable prefix
 * g->n_trainable; non-trainable state changes through the nodes' after_step
 * alone.  0, or -1 when out of memory. */
int nn_train_optim_init(struct nn_optim *o, const struct nn_graph *g, const struct nn_spec *s);

/* The node-level passes of one chunk, for tests and benchmarks: forward
 * through the graph order, and backward in reverse (skip_output: leave out
 * the output node, whose gradient was fused into the loss). */
struct nn_exec;
void nn_exec_forward(struct nn_exec *x);
void nn_exec_backward(struct nn_exec *x, int skip_output);

/* `nnrun bench`: per-layer forward and backward times over `steps` batches
 * of random inputs on one thread, then whole training steps on `threads`
 * threads; prints a table to f.  g is built, not yet allocated.  -2 (and
 * nothing allocated) when what it would allocate passes max_bytes (0: no
 * limit), -1 on other failures. */
int nn_bench(struct nn_graph *g, const struct nn_spec *s, int threads, int steps,
             double max_bytes, FILE *f, char *err, size_t n_err);

#endif
