/* test_optim.c - one or two steps of each optimizer against hand-worked values
 * (w = 1, g = 0.5, Keras' update rules as written in optim.h). */
#include "common.h"
#include "nnrun/optim.h"

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

static Suite *suite(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_add_test(tc, test_sgd);
    tcase_add_test(tc, test_rmsprop);
    tcase_add_test(tc, test_adam);
    tcase_add_test(tc, test_gradient_parts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
