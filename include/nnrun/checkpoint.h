/* checkpoint.h - weights and training state on disk.
 *
 * One format for both: a checkpoint (kind NN_CKPT_TRAIN: parameters, the
 * optimizer's state and the trainer's position) and a weights file
 * (kind NN_CKPT_WEIGHTS: parameters only, model.nnw).  Little-endian:
 *
 *   offset  size  field
 *        0     8  magic "NNRUNCKP"
 *        8     4  version (3; versions 1 and 2, without the fields from 136 or 160, load too)
 *       12     4  kind
 *       16     8  hash of the resolved spec (nn_spec_hash)
 *       24     8  parameter count
 *       32     4  optimizer state arrays that follow the parameters (0 or 2)
 *       36     4  epoch (the current one, from 0)
 *       40     8  batches done in it
 *       48     8  step (batches done in all)
 *       56     8  optimizer step count
 *       64    32  the epoch's running sums: loss, correct, sq_err (f64), n (i64)
 *       96     8  seconds spent on the epoch so far (f64)
 *      104    16  early stopping: best value (f64), best epoch, epochs waited (i32)
 *      120     8  uncompressed payload bytes
 *      128     8  compressed payload bytes
 *      136     4  the learning rate of the last step (f32)
 *      140     4  reduce_on_plateau: the learning rate now (f32)
 *      144     8  reduce_on_plateau: best value (f64)
 *      152     8  reduce_on_plateau: epochs waited, cooldown epochs left (i32)
 *      160     4  input channels with a stored scaling (0: inputs are byte / divide_by)
 *      164     4  reserved, 0
 *      168     -  payload: zlib stream of the float32 arrays, one after another:
 *                 the parameters, the optimizer's state arrays, then the input
 *                 scaling (data.standardize) as scale[channels], shift[channels]:
 *                 an input is byte * scale[ch] + shift[ch], the numbers training used
 *      end     4  CRC-32 of every byte before it
 *
 * Files are written to a temporary name, flushed and renamed, so a crash
 * leaves the previous complete file. */
#ifndef NNRUN_CHECKPOINT_H
#define NNRUN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "nnrun/loss.h"

#define NN_CKPT_MAGIC "NNRUNCKP"
#define NN_CKPT_VERSION 3
#define NN_CKPT_HEADER 168
#define NN_CKPT_HEADER_V2 160
#define NN_CKPT_HEADER_V1 136
#define NN_CKPT_MAX_CHANNELS 65536   /* bound on the stored input scaling */
#define NN_CKPT_MAX_PARAMS ((uint64_t)1 << 32)   /* when the caller gives no bound */
#define NN_CKPT_MAX_EPOCH 1000000   /* train.epochs' upper bound */

enum nn_ckpt_kind { NN_CKPT_WEIGHTS = 0, NN_CKPT_TRAIN = 1 };

struct nn_ckpt {
    uint32_t kind;
    uint64_t spec_hash;
    uint64_t n_params;
    uint32_t n_state;
    int32_t epoch;
    uint64_t batch, step;
    int64_t optim_t;
    struct nn_metric_sums sums;
    double epoch_seconds;
    double best;
    int32_t best_epoch, wait;
    uint32_t version;           /* read: the file's format version */
    float lr;                   /* the learning rate of the last step */
    float plateau_lr;           /* reduce_on_plateau's state */
    double plateau_best;
    int32_t plateau_wait, plateau_cooldown;
    uint32_t n_input_ch;        /* 0, or channels of in_scale and in_shift */
    float *params;              /* n_params */
    float *state[2];            /* n_state arrays of n_params */
    float *in_scale, *in_shift; /* n_input_ch each: the input scaling of data.standardize */
};

/* Writes c atomically to path.  0, or -1 with err. */
int nn_ckpt_write(const char *path, const struct nn_ckpt *c, char *err, size_t n_err);

/* Decodes a whole file image (versions 1 to 3; version 1 leaves the
 * learning-rate fields 0, versions 1 and 2 have no input scaling): checks
 * the magic, the version, the sizes the header declares against len, the
 * CRC, then the training counters (a state training can write: the step is
 * the epochs' batches plus the current batch, the optimizer's step count is
 * the step, the running sums are non-negative and cover the batches done,
 * early stopping and reduce_on_plateau counters within the epochs; a
 * correct CRC does not make impossible counters acceptable), and only then
 * inflates the payload into freshly allocated arrays.  max_params bounds
 * the parameter count: the model's, when there is one ("holds N
 * parameters, the model has M"); 0: NN_CKPT_MAX_PARAMS.  0, or -1 with
 * err; nothing stays allocated on failure. */
int nn_ckpt_decode(const uint8_t *buf, size_t len, uint64_t max_params, struct nn_ckpt *c,
                   char *err, size_t n_err);

/* Reads and decodes path; err starts with the path.  Bounded: the file
 * must be a regular one (a directory, a FIFO, a device such as /dev/zero is
 * refused at open, without blocking), no larger than max_params could need,
 * and its header (magic, version, declared sizes) must fit its size and
 * max_params before the payload is allocated or read.  At most the size
 * seen at open is read. */
int nn_ckpt_read(const char *path, uint64_t max_params, struct nn_ckpt *c, char *err,
                 size_t n_err);

/* Only the header of path (the same checks as nn_ckpt_read before the
 * payload; no CRC, no counters): c's fields, params NULL (nothing to free).
 * 0, or -1 with err starting with the path. */
int nn_ckpt_read_header(const char *path, uint64_t max_params, struct nn_ckpt *c, char *err,
                        size_t n_err);

/* A training state's position checked against the run it would resume:
 * epoch at most epochs (and at a batch 0 when it is epochs), batch below
 * batches (per epoch), step = epoch * batches + batch, and the epoch's
 * running sums over exactly batch * batch_size samples.  0, or -1 with err
 * (without the path). */
int nn_ckpt_check_position(const struct nn_ckpt *c, int epochs, uint64_t batches,
                           uint64_t batch_size, char *err, size_t n_err);

void nn_ckpt_free(struct nn_ckpt *c);

#endif
