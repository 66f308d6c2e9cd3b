/* optim.h - optimizers as one loop over the flat parameter block.
 *
 * Keras' update rules and defaults:
 *   sgd:     v = momentum*v - lr*g; w += v  (nesterov: w += momentum*v - lr*g)
 *   rmsprop: s = rho*s + (1-rho)*g^2; w -= lr*g / (sqrt(s) + eps)
 *            (momentum > 0: m = momentum*m + lr*g/(sqrt(s)+eps); w -= m)
 *   adam:    m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *            w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)
 *   adamw:   adam with weight_decay 0.004 by default
 *
 * Before the update, as Keras 3's optimizers do for each of them:
 *   the gradient gets 2*l2*w on the weights (train.l2: the gradient of
 *   l2*sum(w^2), Keras' kernel_regularizer), then is clipped: clipnorm scales
 *   each tensor's gradient g to g * clipnorm / max(|g|, clipnorm), global_clipnorm
 *   scales every gradient by global_clipnorm / max(sqrt(sum |g_k|^2), global_clipnorm);
 *   then decoupled weight decay: w -= lr * weight_decay * w, on every
 *   parameter (Keras decays biases too unless excluded).
 * The norms are sums over fixed pieces of each tensor added in piece order,
 * so they do not depend on the thread count.
 */
#ifndef NNRUN_OPTIM_H
#define NNRUN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "nnrun/spec.h"

struct nn_pool;

struct nn_optim {
    struct nn_optim_spec spec;
    size_t n;
    float *s1, *s2;     /* state: sgd velocity / rmsprop s, m / adam m, v */
    long t;             /* steps taken */
    float lr;           /* the rate of the next step: spec.learning_rate, or a schedule's */
    float l2;           /* train.l2: 2*l2*w is added to the weights' gradients */
    double penalty;     /* l2 * sum(w^2) over the weights before the last step */
    /* tensors (for clipnorm and l2): consecutive runs of the block, cut in
     * pieces of at most NN_OPTIM_PIECE elements that never straddle two */
    int n_tensors;
    unsigned char *is_weight;   /* per tensor: l2 applies */
    size_t n_pieces;
    size_t *piece_start;        /* n_pieces + 1 */
    int *piece_tensor;
    double *piece_gsq, *piece_wsq;
    double *tensor_scale;       /* per tensor: the clipping factor of this step */
    float *gsum;                /* clipping: the summed gradient between the passes */
};

#define NN_OPTIM_PIECE 512

/* Defaults of each optimizer, as Keras has them. */
void nn_optim_defaults(struct nn_optim_spec *o, enum nn_optim_kind kind);
/* The block is one tensor of weights until nn_optim_set_tensors. */
int nn_optim_init(struct nn_optim *o, const struct nn_optim_spec *spec, size_t n);
/* Cuts [0, o->n) into tensors of len[0..n_tensors) elements, one after
 * another (a rest beyond their sum is one more tensor, not weights; lengths
 * beyond o->n are cut off).  is_weight[k]: train.l2 applies to tensor k.
 * 0, or -1 when out of memory. */
int nn_optim_set_tensors(struct nn_optim *o, int n_tensors, const size_t *len,
                         const unsigned char *is_weight);
/* One update of w[0..n).  The gradient is the sum of n_parts arrays
 * g[p * stride + i], added in order p = 0, 1, ... (the chunks' gradients of
 * one step), so no separate reduction pass is needed. */
void nn_optim_step(struct nn_optim *o, float *w, const float *g, int n_parts, size_t stride,
                   struct nn_pool *pool);
void nn_optim_free(struct nn_optim *o);

/* ---- learning-rate schedules (train.lr_schedule) --------------------------
 *
 * lr is the optimizer's learning_rate, step the steps (batches) done before
 * the one the rate is for, as Keras evaluates a schedule at
 * optimizer.iterations:
 *   constant:          lr
 *   step:              lr * gamma^floor(epoch / step_size), epoch = floor(step / steps_per_epoch)
 *   exponential:       lr * decay_rate^(step / decay_steps)   (staircase: floor of the power)
 *   cosine:            W warmup steps (warmup_steps, or warmup_epochs * steps_per_epoch),
 *                      D = decay_steps or else total_steps - W (at least 1), s = min(step, W + D):
 *                      s < W: lr * s / W;  else lr * ((1 - alpha) * (1 + cos(pi (s - W) / D)) / 2 + alpha)
 *   reduce_on_plateau: the state's rate, changed at the end of epochs by nn_lr_plateau_update
 */
struct nn_lr_state {
    float lr;           /* reduce_on_plateau: the rate now */
    double best;        /* the best monitored value so far */
    int wait;           /* epochs without improvement */
    int cooldown;       /* epochs of cooldown left */
};

void nn_lr_state_init(struct nn_lr_state *st, const struct nn_lr_schedule_spec *ls, float lr);
float nn_lr_at(const struct nn_lr_schedule_spec *ls, const struct nn_lr_state *st, float lr,
               uint64_t step, uint64_t steps_per_epoch, uint64_t total_steps);
/* Keras' ReduceLROnPlateau at the end of an epoch whose monitored quantity
 * is value: in cooldown, count it down and reset the wait; an improvement
 * (beyond min_delta, accuracy up, the others down) resets the wait; else,
 * out of cooldown, after `patience` such epochs the rate becomes
 * max(lr * factor, min_lr) if it is above min_lr, and cooldown starts.
 * Returns 1 when the rate was reduced. */
int nn_lr_plateau_update(struct nn_lr_state *st, const struct nn_lr_schedule_spec *ls,
                         double value);

#endif
