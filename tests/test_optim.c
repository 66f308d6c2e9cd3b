/* test_optim.c - one or two steps of each optimizer against hand-worked values
 * (w = 1, g = 0.5, Keras' update rules as written in optim.h); weight decay,
 * clipping and l2 the same way; the learning-rate schedules at a few steps. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "nnrun/optim.h"
#include "nnrun/parallel.h"

static float run(struct nn_optim_spec *o, int steps)
{
    struct nn_optim opt;
    float w = 1.0f, g = 0.5f;
    ck_assert_int_eq(nn_optim_init(&opt, o, 1), 0);
    for (int i = 0; i < steps; i++) nn_optim_step(&opt, &w, &g, 1, 1, NULL);
    nn_optim_free(&opt);
    return w;
}

START_TEST(test_sgd)
{
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_SGD);
    o.learning_rate = 0.1f;
    ck_assert_float_eq_tol(run(&o, 1), 0.95f, 1e-7f);    /* 1 - 0.1*0.5 */
    o.momentum = 0.9f;
    /* v1 = -0.05, w1 = 0.95; v2 = 0.9*-0.05 - 0.05 = -0.095, w2 = 0.855 */
    ck_assert_float_eq_tol(run(&o, 2), 0.855f, 1e-6f);
    o.nesterov = 1;
    /* w1 = 1 + 0.9*-0.05 - 0.05 = 0.905; w2 = 0.905 + 0.9*-0.095 - 0.05 = 0.7695 */
    ck_assert_float_eq_tol(run(&o, 1), 0.905f, 1e-6f);
    ck_assert_float_eq_tol(run(&o, 2), 0.7695f, 1e-6f);
}
END_TEST

START_TEST(test_rmsprop)
{
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_RMSPROP);
    /* s = 0.1*0.25 = 0.025; w = 1 - 0.001*0.5/(sqrt(0.025) + 1e-7) = 0.99683772 */
    ck_assert_float_eq_tol(run(&o, 1), 0.99683772f, 1e-7f);
    /* s2 = 0.9*0.025 + 0.025 = 0.0475; w2 = w1 - 0.0005/(0.21794495 + 1e-7) = 0.99454358 */
    ck_assert_float_eq_tol(run(&o, 2), 0.99454358f, 1e-7f);
    o.momentum = 0.5f;
    /* m1 = 0.0031622757, w1 = 0.99683772; m2 = 0.5*m1 + 0.0022941633 = 0.0038752941 */
    ck_assert_float_eq_tol(run(&o, 2), 0.99296243f, 1e-7f);
}
END_TEST

START_TEST(test_adam)
{
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_ADAM);
    /* m = 0.05, v = 0.00025, lr_t = 0.001*sqrt(0.001)/0.1 = 3.1622777e-4,
     * w = 1 - lr_t * 0.05 / (0.015811388 + 1e-7) = 0.99900001 */
    ck_assert_float_eq_tol(run(&o, 1), 0.99900001f, 1e-7f);
    /* constant gradient: each step moves by about lr */
    ck_assert_float_eq_tol(run(&o, 2), 0.99800002f, 1e-6f);
}
END_TEST

START_TEST(test_gradient_parts)
{
    /* the gradient given in parts is their sum, added in order */
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_SGD);
    o.learning_rate = 0.1f;
    struct nn_optim opt;
    enum { N = 1000 };
    static float w[N], g[3 * N];
    for (int i = 0; i < N; i++) {
        w[i] = 1.0f;
        g[i] = 0.25f, g[N + i] = 0.5f, g[2 * N + i] = -0.25f * (float)(i % 3);
    }
    ck_assert_int_eq(nn_optim_init(&opt, &o, N), 0);
    nn_optim_step(&opt, w, g, 3, N, NULL);
    for (int i = 0; i < N; i++)
        ck_assert_float_eq_tol(w[i], 1.0f - 0.1f * (0.75f - 0.25f * (float)(i % 3)), 1e-7f);
    nn_optim_free(&opt);
}
END_TEST

START_TEST(test_adamw)
{
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_ADAMW);
    ck_assert_float_eq(o.weight_decay, 0.004f);
    ck_assert_float_eq(o.learning_rate, 0.001f);
    ck_assert_float_eq(o.epsilon, 1e-7f);
    /* decay first: w = 1 - 0.001*0.004*1 = 0.999996, then adam's step of
     * 0.00099999368 (test_adam): 0.99899600 */
    ck_assert_float_eq_tol(run(&o, 1), 0.998996019f, 1e-7f);
    /* w1*(1 - 4e-6) = 0.998992023, minus about 0.001 again */
    ck_assert_float_eq_tol(run(&o, 2), 0.997992039f, 1e-6f);
    /* adam with the same weight_decay is the same update */
    struct nn_optim_spec a;
    nn_optim_defaults(&a, NN_OPT_ADAM);
    a.weight_decay = 0.004f;
    ck_assert(run(&a, 2) == run(&o, 2));
}
END_TEST

START_TEST(test_weight_decay)
{
    /* sgd, lr 0.1, weight_decay 0.5: w = 1 - 0.05*1 = 0.95, minus 0.1*0.5: 0.9;
     * then 0.9 - 0.05*0.9 - 0.05 = 0.805 */
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_SGD);
    ck_assert_float_eq(o.weight_decay, 0);
    o.learning_rate = 0.1f;
    o.weight_decay = 0.5f;
    ck_assert_float_eq_tol(run(&o, 1), 0.9f, 1e-7f);
    ck_assert_float_eq_tol(run(&o, 2), 0.805f, 1e-6f);
    /* rmsprop: w = 1 - 0.001*0.5 = 0.9995, then the step of test_rmsprop
     * (0.0031622757): 0.99633772 */
    nn_optim_defaults(&o, NN_OPT_RMSPROP);
    o.weight_decay = 0.5f;
    ck_assert_float_eq_tol(run(&o, 1), 0.99633772f, 1e-7f);
}
END_TEST

/* Two tensors: [3, 4] (norm 5) and [0.3, 0.4] (norm 0.5), given as two
 * chunks of halves; sgd with lr 1 from w = 0, so w = -(clipped g). */
static void clip_step(float clipnorm, float global, float *w)
{
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_SGD);
    o.learning_rate = 1;
    o.clipnorm = clipnorm;
    o.global_clipnorm = global;
    struct nn_optim opt;
    const float g[8] = {1.5f, 2, 0.15f, 0.2f, 1.5f, 2, 0.15f, 0.2f};
    const size_t len[2] = {2, 2};
    const unsigned char is_w[2] = {1, 0};
    ck_assert_int_eq(nn_optim_init(&opt, &o, 4), 0);
    ck_assert_int_eq(nn_optim_set_tensors(&opt, 2, len, is_w), 0);
    memset(w, 0, 4 * sizeof *w);
    nn_optim_step(&opt, w, g, 2, 4, NULL);
    nn_optim_free(&opt);
}

START_TEST(test_clipnorm)
{
    float w[4];
    /* clipnorm 1: the first tensor to norm 1 ([0.6, 0.8]), the second kept */
    clip_step(1, 0, w);
    ck_assert_float_eq_tol(w[0], -0.6f, 1e-7f);
    ck_assert_float_eq_tol(w[1], -0.8f, 1e-7f);
    ck_assert_float_eq(w[2], -0.3f);
    ck_assert_float_eq(w[3], -0.4f);
    /* global_clipnorm 1: the norm of all is sqrt(25.25) = 5.02493781, every
     * gradient times 0.19900744 */
    clip_step(0, 1, w);
    ck_assert_float_eq_tol(w[0], -0.597022314f, 1e-7f);
    ck_assert_float_eq_tol(w[1], -0.796029752f, 1e-7f);
    ck_assert_float_eq_tol(w[2], -0.0597022314f, 1e-8f);
    ck_assert_float_eq_tol(w[3], -0.0796029752f, 1e-8f);
    /* at or below the limit nothing changes */
    clip_step(5, 0, w);
    ck_assert(w[0] == -3 && w[1] == -4);
    clip_step(0, 6, w);
    ck_assert(w[0] == -3 && w[1] == -4 && w[2] == -0.3f);
}
END_TEST

/* global_clipnorm and l2 over many tensors: the same bits at 1 and 3 threads */
START_TEST(test_clip_threads)
{
    enum { N = 100003, T = 7 };
    float *g = malloc(2 * N * sizeof *g), *w1 = malloc(N * sizeof *w1), *w3 = malloc(N * sizeof *w3);
    t_fill(g, 2 * N, -1, 1, 7);
    t_fill(w1, N, -1, 1, 8);
    memcpy(w3, w1, N * sizeof *w1);
    const size_t len[T] = {5000, 10, 60000, 3, 20000, 1, 4000};
    const unsigned char is_w[T] = {1, 0, 1, 0, 1, 0, 1};
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_ADAM);
    o.global_clipnorm = 2;
    struct nn_pool *pool = nn_pool_create(3);
    double pen[2];
    for (int k = 0; k < 2; k++) {
        struct nn_optim opt;
        ck_assert_int_eq(nn_optim_init(&opt, &o, N), 0);
        ck_assert_int_eq(nn_optim_set_tensors(&opt, T, len, is_w), 0);
        opt.l2 = 0.01f;
        for (int s = 0; s < 3; s++) nn_optim_step(&opt, k ? w3 : w1, g, 2, N, k ? pool : NULL);
        pen[k] = opt.penalty;
        nn_optim_free(&opt);
    }
    ck_assert_mem_eq(w1, w3, N * sizeof *w1);
    ck_assert(pen[0] == pen[1] && pen[0] > 0);
    nn_pool_free(pool);
    free(g), free(w1), free(w3);
}
END_TEST

START_TEST(test_l2)
{
    /* weights [1, -2], bias [3]; l2 0.5 adds 2*0.5*w = w to the weights'
     * gradients: sgd lr 0.1 with no other gradient gives [0.9, -1.8, 3];
     * the penalty is 0.5 * (1 + 4) = 2.5 */
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_SGD);
    o.learning_rate = 0.1f;
    struct nn_optim opt;
    ck_assert_int_eq(nn_optim_init(&opt, &o, 3), 0);
    const size_t len[1] = {2};
    const unsigned char is_w[1] = {1};
    ck_assert_int_eq(nn_optim_set_tensors(&opt, 1, len, is_w), 0);   /* the rest: a bias */
    opt.l2 = 0.5f;
    float w[3] = {1, -2, 3}, g[3] = {0, 0, 0};
    nn_optim_step(&opt, w, g, 1, 3, NULL);
    ck_assert_float_eq_tol(w[0], 0.9f, 1e-7f);
    ck_assert_float_eq_tol(w[1], -1.8f, 1e-7f);
    ck_assert_float_eq(w[2], 3);
    ck_assert_double_eq_tol(opt.penalty, 2.5, 1e-12);
    nn_optim_free(&opt);
}
END_TEST

/* ---- schedules ---- */

static float lr_at(const struct nn_lr_schedule_spec *ls, float lr, uint64_t step,
                   uint64_t per_epoch, uint64_t total)
{
    struct nn_lr_state st;
    nn_lr_state_init(&st, ls, lr);
    return nn_lr_at(ls, &st, lr, step, per_epoch, total);
}

START_TEST(test_schedules)
{
    struct nn_lr_schedule_spec ls = {.kind = NN_LR_STEP, .step_size = 2, .gamma = 0.5f};
    /* step: 10 steps an epoch, halved every 2 epochs */
    ck_assert_float_eq(lr_at(&ls, 0.1f, 0, 10, 100), 0.1f);
    ck_assert_float_eq(lr_at(&ls, 0.1f, 19, 10, 100), 0.1f);
    ck_assert_float_eq(lr_at(&ls, 0.1f, 20, 10, 100), 0.05f);
    ck_assert_float_eq(lr_at(&ls, 0.1f, 45, 10, 100), 0.025f);
    /* exponential: 0.1 * 0.5^(step/10) */
    ls = (struct nn_lr_schedule_spec){.kind = NN_LR_EXPONENTIAL, .decay_steps = 10,
                                      .decay_rate = 0.5f};
    ck_assert_float_eq(lr_at(&ls, 0.1f, 0, 7, 100), 0.1f);
    ck_assert_float_eq_tol(lr_at(&ls, 0.1f, 5, 7, 100), 0.0707106781f, 1e-9f);
    ck_assert_float_eq_tol(lr_at(&ls, 0.1f, 15, 7, 100), 0.0353553391f, 1e-9f);
    ck_assert_float_eq(lr_at(&ls, 0.1f, 20, 7, 100), 0.025f);
    ls.staircase = 1;
    ck_assert_float_eq(lr_at(&ls, 0.1f, 15, 7, 100), 0.05f);
    /* cosine, no warmup, 10 decay steps: 1 -> 0.5*(1+cos(0.3 pi)) = 0.79389263 at 3 */
    ls = (struct nn_lr_schedule_spec){.kind = NN_LR_COSINE, .decay_steps = 10};
    ck_assert_float_eq(lr_at(&ls, 1, 0, 5, 1000), 1);
    ck_assert_float_eq_tol(lr_at(&ls, 1, 3, 5, 1000), 0.793892626f, 1e-7f);
    ck_assert_float_eq_tol(lr_at(&ls, 1, 5, 5, 1000), 0.5f, 1e-7f);
    ck_assert_float_eq_tol(lr_at(&ls, 1, 10, 5, 1000), 0, 1e-7f);
    ck_assert_float_eq_tol(lr_at(&ls, 1, 500, 5, 1000), 0, 1e-7f);   /* stays at the end */
    /* cosine with 4 warmup steps (2 epochs of 2) and alpha 0.1, decay to the
     * end of 14 steps: 0, 0.5 at 2, 1 at 4, 0.1 + 0.9*0.5 = 0.55 at 9, 0.1 at 14 */
    ls = (struct nn_lr_schedule_spec){.kind = NN_LR_COSINE, .warmup_epochs = 2, .alpha = 0.1f};
    ck_assert_float_eq(lr_at(&ls, 1, 0, 2, 14), 0);
    ck_assert_float_eq(lr_at(&ls, 1, 1, 2, 14), 0.25f);
    ck_assert_float_eq(lr_at(&ls, 1, 2, 2, 14), 0.5f);
    ck_assert_float_eq(lr_at(&ls, 1, 4, 2, 14), 1);
    ck_assert_float_eq_tol(lr_at(&ls, 1, 9, 2, 14), 0.55f, 1e-7f);
    ck_assert_float_eq_tol(lr_at(&ls, 1, 14, 2, 14), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(lr_at(&ls, 1, 99, 2, 14), 0.1f, 1e-7f);
    ls.warmup_epochs = 0, ls.warmup_steps = 4;   /* the same in steps */
    ck_assert_float_eq(lr_at(&ls, 1, 2, 2, 14), 0.5f);
    ck_assert_float_eq_tol(lr_at(&ls, 1, 9, 2, 14), 0.55f, 1e-7f);
    /* constant */
    ls = (struct nn_lr_schedule_spec){.kind = NN_LR_CONSTANT};
    ck_assert_float_eq(lr_at(&ls, 0.3f, 1234, 2, 14), 0.3f);
}
END_TEST

START_TEST(test_plateau)
{
    /* Keras' ReduceLROnPlateau, worked by hand: factor 0.5, patience 2,
     * cooldown 1, min_delta 0.1, min_lr 0.2, monitor loss */
    struct nn_lr_schedule_spec ls = {.kind = NN_LR_PLATEAU, .monitor = NN_MONITOR_LOSS,
                                     .factor = 0.5f, .patience = 2, .cooldown = 1,
                                     .min_delta = 0.1f, .min_lr = 0.2f};
    static const struct {
        double value;
        float lr;
        int wait, cooldown;
    } steps[] = {
        {1.0, 1, 0, 0},      /* the first value is the best */
        {0.95, 1, 1, 0},     /* not better by 0.1 */
        {0.93, 0.5f, 0, 1},  /* patience reached: halved, cooldown 1 */
        {0.92, 0.5f, 1, 0},  /* cooldown ends (wait reset), then counts */
        {0.85, 0.5f, 0, 0},  /* better: the new best */
        {0.85, 0.5f, 1, 0},
        {0.85, 0.25f, 0, 1},
        {0.85, 0.25f, 1, 0},
        {0.85, 0.2f, 0, 1},  /* 0.125 is below min_lr */
        {0.85, 0.2f, 1, 0},
        {0.85, 0.2f, 2, 0},  /* at min_lr: no more reductions, the wait goes on */
        {0.85, 0.2f, 3, 0},
    };
    struct nn_lr_state st;
    nn_lr_state_init(&st, &ls, 1);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const float before = st.lr;
        const int reduced = nn_lr_plateau_update(&st, &ls, steps[i].value);
        ck_assert_msg(st.lr == steps[i].lr && st.wait == steps[i].wait &&
                      st.cooldown == steps[i].cooldown, "epoch %zu: lr %g wait %d cooldown %d",
                      i + 1, st.lr, st.wait, st.cooldown);
        ck_assert_int_eq(reduced, st.lr != before);
        ck_assert_float_eq(nn_lr_at(&ls, &st, 1, 0, 1, 1), st.lr);
    }
    /* accuracy rises: 0.5, 0.55, 0.7 improve; 0.65 and 0.6 reduce (patience 1) */
    ls = (struct nn_lr_schedule_spec){.kind = NN_LR_PLATEAU, .monitor = NN_MONITOR_VAL_ACCURACY,
                                      .factor = 0.1f, .patience = 1};
    nn_lr_state_init(&st, &ls, 0.01f);
    const double acc[] = {0.5, 0.55, 0.7, 0.65, 0.6};
    const float want[] = {0.01f, 0.01f, 0.01f, 0.001f, 0.0001f};
    for (int i = 0; i < 5; i++) {
        nn_lr_plateau_update(&st, &ls, acc[i]);
        ck_assert_float_eq_tol(st.lr, want[i], want[i] * 1e-6f);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_add_test(tc, test_sgd);
    tcase_add_test(tc, test_rmsprop);
    tcase_add_test(tc, test_adam);
    tcase_add_test(tc, test_gradient_parts);
    tcase_add_test(tc, test_adamw);
    tcase_add_test(tc, test_weight_decay);
    tcase_add_test(tc, test_clipnorm);
    tcase_add_test(tc, test_clip_threads);
    tcase_add_test(tc, test_l2);
    tcase_add_test(tc, test_schedules);
    tcase_add_test(tc, test_plateau);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
