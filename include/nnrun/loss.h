/* loss.h - losses and metrics over a batch of predictions.
 *
 * p[B, C] are the output node's values, labels[B] integer classes (the
 * categorical losses see them one-hot).  Cross-entropy clips p to
 * [1e-7, 1 - 1e-7] as Keras does.  When the output node is a softmax and the
 * loss is a cross-entropy, the gradient is taken with respect to the softmax
 * input (p - y) / B directly, the fused form that stays exact for tiny p.
 *
 * Label smoothing ls (train.label_smoothing, the cross-entropies): the
 * targets become y_c = y_c * (1 - ls) + ls / C, as Keras' categorical
 * cross-entropy does, and the loss -sum_c y_c log p_c (Keras' sparse
 * cross-entropy has no label_smoothing; nnrun smooths it the same way); the
 * fused gradient is (p - y_smooth) / B.  Accuracy and mse use the true labels.
 */
#ifndef NNRUN_LOSS_H
#define NNRUN_LOSS_H

#include <stdint.h>

#include "nnrun/spec.h"

/* Sums over a batch; divide by the sample count for means. */
struct nn_metric_sums {
    double loss, correct, sq_err;
    long n;
};

/* Adds the batch's loss and metrics to sums. */
void nn_loss_measure(enum nn_loss_kind kind, const float *p, const uint8_t *labels,
                     int B, int C, struct nn_metric_sums *sums);

/* Writes dL/dp for rows p[0..B) into dp[B, C], where L is the mean over a
 * batch of `batch` rows (B <= batch: a chunk of it); with fused_softmax set
 * (a cross-entropy over a softmax output) writes dL/dz of the softmax input. */
void nn_loss_grad(enum nn_loss_kind kind, const float *p, const uint8_t *labels,
                  int B, int C, int batch, int fused_softmax, float *dp);

/* The same with label smoothing ls (0: none, as the two above). */
void nn_loss_measure_smoothed(enum nn_loss_kind kind, const float *p, const uint8_t *labels,
                              int B, int C, float ls, struct nn_metric_sums *sums);
void nn_loss_grad_smoothed(enum nn_loss_kind kind, const float *p, const uint8_t *labels,
                           int B, int C, int batch, int fused_softmax, float ls, float *dp);

/* Whether the loss fuses with a softmax output (the cross-entropies). */
int nn_loss_fuses_softmax(enum nn_loss_kind kind);

#endif
