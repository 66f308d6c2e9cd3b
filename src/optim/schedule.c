/* schedule.c - learning-rate schedules (see optim.h): Keras' ExponentialDecay,
 * CosineDecay (with warmup) and ReduceLROnPlateau, and a step decay by
 * epochs.  Rates are computed in double and rounded to float once. */
#include <math.h>

#include "nnrun/optim.h"

static int rises(int monitor)
{
    return monitor == NN_MONITOR_ACCURACY || monitor == NN_MONITOR_VAL_ACCURACY;
}

void nn_lr_state_init(struct nn_lr_state *st, const struct nn_lr_schedule_spec *ls, float lr)
{
    st->lr = lr;
    st->best = rises(ls->monitor) ? -INFINITY : INFINITY;
    st->wait = 0;
    st->cooldown = 0;
}

float nn_lr_at(const struct nn_lr_schedule_spec *ls, const struct nn_lr_state *st, float lr,
               uint64_t step, uint64_t steps_per_epoch, uint64_t total_steps)
{
    const double lr0 = lr;
    switch (ls->kind) {
    case NN_LR_STEP: {
        const uint64_t epoch = steps_per_epoch ? step / steps_per_epoch : 0;
        return (float)(lr0 * pow(ls->gamma, (double)(epoch / (uint64_t)ls->step_size)));
    }
    case NN_LR_EXPONENTIAL: {
        double p = (double)step / ls->decay_steps;
        if (ls->staircase) p = floor(p);
        return (float)(lr0 * pow(ls->decay_rate, p));
    }
    case NN_LR_COSINE: {
        const double warm = ls->warmup_steps > 0 ? (double)ls->warmup_steps
                                                 : (double)ls->warmup_epochs * steps_per_epoch;
        double decay = ls->decay_steps > 0 ? ls->decay_steps : (double)total_steps - warm;
        if (decay < 1) decay = 1;
        const double s = fmin((double)step, warm + decay);
        if (s < warm) return (float)(lr0 * s / warm);
        const double cosine = 0.5 * (1 + cos(M_PI * (s - warm) / decay));
        return (float)(lr0 * ((1 - ls->alpha) * cosine + ls->alpha));
    }
    case NN_LR_PLATEAU: return st->lr;
    default: return lr;
    }
}

int nn_lr_plateau_update(struct nn_lr_state *st, const struct nn_lr_schedule_spec *ls,
                         double value)
{
    if (ls->kind != NN_LR_PLATEAU) return 0;
    if (st->cooldown > 0) {
        st->cooldown--;
        st->wait = 0;
    }
    const int better = rises(ls->monitor) ? value > st->best + ls->min_delta
                                          : value < st->best - ls->min_delta;
    if (better) {
        st->best = value;
        st->wait = 0;
    } else if (st->cooldown == 0 && ++st->wait >= ls->patience) {
        if (st->lr > ls->min_lr) {
            double lr = (double)st->lr * ls->factor;
            st->lr = (float)(lr > ls->min_lr ? lr : ls->min_lr);
            st->cooldown = ls->cooldown;
            st->wait = 0;
            return 1;
        }
    }
    return 0;
}
