/* test_train.c - the executor end to end: bit-identical results at 1 and 2
 * threads, same seed same numbers, a NaN stops training with its position,
 * and a real Fashion-MNIST subset learned far above chance. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "nnrun/data.h"
#include "nnrun/parallel.h"
#include "nnrun/train.h"
#include "nnrun/util.h"

static const char *small_cnn =
    "seed: 7\n"
    "model:\n  input: [10, 10, 1]\n  layers:\n"
    "    - conv2d: {filters: 4, kernel_size: 3, padding: same, activation: tanh}\n"
    "    - maxpool2d: {pool_size: 2}\n"
    "    - flatten\n"
    "    - dropout: {rate: 0.2}\n"
    "    - dense: {units: 8, activation: relu}\n"
    "    - dense: {units: 10, activation: softmax}\n"
    "train:\n  loss: sparse_categorical_crossentropy\n  optimizer: {name: adam, learning_rate: 0.01}\n"
    "  epochs: 2\n  batch_size: 16\n";

static size_t n_weights;

static float *train_weights(const char *yaml, int threads, struct nn_epoch_stats *ep)
{
    struct nn_graph g;
    struct nn_spec *s = t_model(yaml, &g);
    struct nn_dataset ds;
    t_row_bands(&ds, 200, 3);
    char err[256];
    struct nn_pool *pool = nn_pool_create(threads);
    ck_assert_int_eq(nn_graph_alloc(&g, s->train.batch_size, threads, err, sizeof err), 0);
    nn_graph_init_params(&g, s->seed);
    struct nn_train_opts opts = {pool, NULL};
    ck_assert_int_eq(nn_train(&g, s, &ds, &opts, ep, err, sizeof err), 0);
    n_weights = g.n_params;
    float *w = malloc(g.n_params * sizeof *w);
    memcpy(w, g.params, g.n_params * sizeof *w);
    nn_pool_free(pool);
    nn_dataset_free(&ds);
    nn_graph_free(&g);
    nn_spec_free(s);
    return w;
}

START_TEST(test_threads_bit_identical)
{
    struct nn_epoch_stats e1[2], e2[2], e3[2];
    float *w1 = train_weights(small_cnn, 1, e1);
    float *w2 = train_weights(small_cnn, 2, e2);
    float *w3 = train_weights(small_cnn, 3, e3);
    size_t n = n_weights;
    ck_assert_uint_eq(n, 4 * 9 + 4 + 100 * 8 + 8 + 8 * 10 + 10);
    ck_assert_int_eq(memcmp(w1, w2, n * sizeof *w1), 0);
    ck_assert_int_eq(memcmp(w1, w3, n * sizeof *w1), 0);
    ck_assert(e1[1].loss == e2[1].loss && e1[1].accuracy == e3[1].accuracy);
    /* it learned something: the second epoch beats chance clearly */
    ck_assert_msg(e1[1].accuracy > 0.3, "accuracy %g", e1[1].accuracy);
    free(w1), free(w2), free(w3);
}
END_TEST

/* Batch normalization in the graph (after a conv and a dense layer),
 * batches of 40 in 4 chunks, 4 epochs: the same weights and moving statistics at 1, 2
 * and 3 threads; the moving statistics moved; it learns. */
static const char *bn_cnn =
    "seed: 7\n"
    "model:\n  input: [10, 10, 1]\n  layers:\n"
    "    - conv2d: {filters: 4, kernel_size: 3, padding: same, use_bias: false}\n"
    "    - batch_normalization\n"
    "    - relu\n"
    "    - maxpool2d: {pool_size: 2}\n"
    "    - flatten\n"
    "    - dense: {units: 8}\n"
    "    - batch_normalization: {momentum: 0.9}\n"
    "    - relu\n"
    "    - dense: {units: 10, activation: softmax}\n"
    "train:\n  loss: sparse_categorical_crossentropy\n  optimizer: {name: adam, learning_rate: 0.01}\n"
    "  epochs: 4\n  batch_size: 40\n";

START_TEST(test_batchnorm_threads_bit_identical)
{
    struct nn_epoch_stats e1[4], e2[4], e3[4];
    float *w1 = train_weights(bn_cnn, 1, e1);
    float *w2 = train_weights(bn_cnn, 2, e2);
    float *w3 = train_weights(bn_cnn, 3, e3);
    const size_t n = n_weights, n_state = 2 * 4 + 2 * 8;
    ck_assert_uint_eq(n, 36 + 2 * 4 + 100 * 8 + 8 + 2 * 8 + 8 * 10 + 10 + n_state);
    ck_assert_int_eq(memcmp(w1, w2, n * sizeof *w1), 0);
    ck_assert_int_eq(memcmp(w1, w3, n * sizeof *w1), 0);
    ck_assert(e1[3].loss == e2[3].loss && e1[3].accuracy == e3[3].accuracy);
    /* the state (moving mean[4], variance[4], then the dense one's) moved */
    const float *st = w1 + n - n_state;
    double moved = 0;
    for (int c = 0; c < 4; c++) moved += fabs(st[c]) + fabs(st[4 + c] - 1);
    ck_assert_msg(moved > 1e-2, "moving statistics barely changed: %g", moved);
    ck_assert_msg(e1[3].accuracy > 0.3, "accuracy %g", e1[3].accuracy);
    free(w1), free(w2), free(w3);
}
END_TEST

START_TEST(test_seed_changes_results)
{
    char other[1024];
    snprintf(other, sizeof other, "%s", small_cnn);
    other[6] = '8';   /* seed: 8 */
    float *a = train_weights(small_cnn, 2, NULL), *b = train_weights(small_cnn, 2, NULL);
    float *c = train_weights(other, 2, NULL);
    ck_assert_int_eq(memcmp(a, b, 10 * sizeof *a), 0);
    ck_assert_int_ne(memcmp(a, c, 10 * sizeof *a), 0);
    free(a), free(b), free(c);
}
END_TEST

START_TEST(test_nan_stops_training)
{
    const char *yaml =
        "model:\n  input: [10, 10, 1]\n  layers:\n    - flatten\n"
        "    - dense: {units: 10, activation: relu}\n"
        "    - dense: {units: 10}\n"
        "data: {divide_by: 0.00001}\n"
        "train:\n  loss: mse\n  optimizer: {name: sgd, learning_rate: 100000}\n"
        "  epochs: 3\n  batch_size: 10\n";
    struct nn_graph g;
    struct nn_spec *s = t_model(yaml, &g);
    struct nn_dataset ds;
    t_row_bands(&ds, 200, 3);
    char err[256] = "";
    ck_assert_int_eq(nn_graph_alloc(&g, 10, 1, err, sizeof err), 0);
    nn_graph_init_params(&g, 1);
    struct nn_train_opts opts = {NULL, NULL};
    ck_assert_int_eq(nn_train(&g, s, &ds, &opts, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "the loss became") && strstr(err, "at epoch 1, batch"), "%s", err);
    nn_dataset_free(&ds);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

START_TEST(test_fashion_mnist_subset)
{
    if (!t_have_data()) {
        fprintf(stderr, "skipped: Fashion-MNIST not installed\n");
        return;
    }
    /* the dense seed model on the first 6000 training images, 3 epochs */
    struct nn_diag d;
    nn_diag_init(&d, "dense.yaml");
    struct nn_spec *s = nn_spec_load(SRCDIR "/models/dense.yaml", &d);
    ck_assert_ptr_nonnull(s);
    struct nn_graph g;
    ck_assert_int_eq(nn_graph_build(&g, s, &d), 0);
    nn_diag_free(&d);
    s->train.epochs = 3;
    struct nn_data_paths p;
    char err[2048];
    ck_assert_int_eq(nn_fashion_mnist_find(&p, err, sizeof err), 0);
    struct nn_dataset train, test;
    ck_assert_int_eq(nn_dataset_load(&train, p.train_images, p.train_labels, 10, err, sizeof err), 0);
    ck_assert_int_eq(nn_dataset_load(&test, p.test_images, p.test_labels, 10, err, sizeof err), 0);
    nn_dataset_truncate(&train, 6000);
    nn_dataset_truncate(&test, 2000);
    struct nn_pool *pool = nn_pool_create(0);
    ck_assert_int_eq(nn_graph_alloc(&g, s->train.batch_size, nn_pool_threads(pool), err,
                                    sizeof err), 0);
    nn_graph_init_params(&g, s->seed);
    struct nn_train_opts opts = {pool, NULL};
    struct nn_epoch_stats ep[3];
    ck_assert_int_eq(nn_train(&g, s, &train, &opts, ep, err, sizeof err), 0);
    struct nn_eval_stats ev;
    nn_evaluate(&g, s, &test, pool, &ev);
    fprintf(stderr, "subset: train loss %.4f -> %.4f, test accuracy %.4f\n", ep[0].loss,
            ep[2].loss, ev.accuracy);
    ck_assert_int_eq(ev.n, 2000);
    ck_assert(ep[2].loss < ep[0].loss);
    ck_assert_msg(ev.accuracy > 0.75, "test accuracy %g (chance is 0.10)", ev.accuracy);
    nn_pool_free(pool);
    nn_dataset_free(&train);
    nn_dataset_free(&test);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_threads_bit_identical);
    tcase_add_test(tc, test_batchnorm_threads_bit_identical);
    tcase_add_test(tc, test_seed_changes_results);
    tcase_add_test(tc, test_nan_stops_training);
    tcase_add_test(tc, test_fashion_mnist_subset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
