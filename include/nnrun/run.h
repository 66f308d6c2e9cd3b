/* run.h - a whole training run and its record on disk.
 *
 * nn_run trains for the spec's epochs, evaluates after each epoch (on the
 * validation split, or on the test set when there is none), applies early
 * stopping, and, given a run directory, keeps its record there:
 *
 *   spec.yaml       the resolved spec (alone, it reproduces the run)
 *   metrics.csv     one row per epoch
 *   checkpoint.nnc  the training state after the last finished epoch (or at
 *                   the batch where a signal stopped it)
 *   best.nnw        early stopping: the best epoch's weights
 *   model.nnw       the final weights
 *   results.json    final metrics, timings, confusion matrix, versions, hash
 *
 * Every file is written atomically (util.h), so a killed run leaves complete
 * files from its last epoch. */
#ifndef NNRUN_RUN_H
#define NNRUN_RUN_H

#include <stdint.h>

#include "nnrun/data.h"
#include "nnrun/graph.h"
#include "nnrun/spec.h"
#include "nnrun/train.h"

struct nn_pool;

struct nn_epoch_row {
    int epoch;                    /* from 1 */
    struct nn_epoch_stats train;  /* running means over the epoch; seconds of training */
    const char *eval_name;        /* "val" or "test" */
    struct nn_eval_stats eval;
};

struct nn_run_opts {
    struct nn_pool *pool;
    int threads;                  /* for results.json */
    const char *dir;              /* the run record's directory (exists); NULL: none */
    int resume;                   /* continue from dir/checkpoint.nnc (stale NAME.tmp.PID
                                     files of killed writes are removed first) */
    const char *final_dir;        /* non-NULL: dir is a staging directory that replaces
                                     final_dir (nn_dir_replace) right after the first
                                     checkpoint is written; from then on the record is
                                     written in final_dir */
    volatile int *stop;           /* nonzero: stop after the current batch */
    void (*on_batch)(void *ctx, const struct nn_trainer *t, size_t n_batches);
    void (*on_epoch)(void *ctx, const struct nn_epoch_row *r);
    void *ctx;
};

struct nn_run_result {
    int status;                   /* 0 finished, 1 stopped by *stop, -1 failed (err) */
    int epochs_run;               /* rows */
    struct nn_epoch_row *rows;
    int stopped_early, best_epoch;
    struct nn_eval_stats test;
    int n_classes;
    uint32_t *confusion;          /* [true][predicted], n_classes^2 */
    double seconds;               /* wall time of this process's part */
    int ckpt_epoch;               /* the last checkpoint.nnc on disk is at batch ckpt_batch
                                     of epoch ckpt_epoch + 1 (0: after epoch ckpt_epoch);
                                     -1: there is none */
    uint64_t ckpt_batch;
    int placed;                   /* final_dir was replaced */
};

int nn_run(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *train,
           const struct nn_dataset *val, const struct nn_dataset *test,
           const struct nn_run_opts *o, struct nn_run_result *r, char *err, size_t n_err);
void nn_run_result_free(struct nn_run_result *r);

/* Confusion matrix of predictions against ds's labels. */
void nn_confusion(const struct nn_dataset *ds, const uint8_t *pred, int n_classes,
                  uint32_t *m);

/* The input scaling of data.standardize as a weights file keeps it: an
 * input is byte * scale[ch] + shift[ch].  channels 0: the file has none. */
struct nn_input_scaling {
    int channels;
    float *scale, *shift;   /* malloc'd, channels each (NULL when channels is 0) */
};

/* Loads weights (model.nnw, best.nnw or a checkpoint) into g's parameters,
 * checking the parameter count; the spec hash must match unless hash is 0.
 * sc (may be NULL) receives the file's input scaling; free it with
 * nn_input_scaling_free. */
int nn_load_weights(struct nn_graph *g, const char *path, uint64_t hash,
                    struct nn_input_scaling *sc, char *err, size_t n_err);
void nn_input_scaling_free(struct nn_input_scaling *sc);

#endif
