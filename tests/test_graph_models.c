/* test_graph_models.c - graph models end to end: a residual block and a
 * concatenating (inception-like) block, both ending in global average
 * pooling, learn a synthetic texture task, with bit-identical weights at 1
 * and 3 threads. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "nnrun/data.h"
#include "nnrun/parallel.h"
#include "nnrun/train.h"
#include "nnrun/util.h"

/* conv -> conv -> add with the block's input -> relu -> global average
 * pooling -> dense softmax */
static const char *residual =
    "seed: 3\n"
    "data: {classes: 4}\n"
    "model:\n  input: [12, 12, 1]\n  layers:\n"
    "    - conv2d: {filters: 8, kernel_size: 3, padding: same, activation: relu, name: stem}\n"
    "    - conv2d: {filters: 8, kernel_size: 3, padding: same, activation: relu}\n"
    "    - conv2d: {filters: 8, kernel_size: 3, padding: same, name: c2}\n"
    "    - add: {inputs: [c2, stem]}\n"
    "    - relu\n"
    "    - global_average_pooling2d\n"
    "    - dense: {units: 4, activation: softmax}\n"
    "train:\n  loss: sparse_categorical_crossentropy\n"
    "  optimizer: {name: adam, learning_rate: 0.01}\n  epochs: 6\n  batch_size: 16\n";

/* two branches of different widths side by side, joined along the channels */
static const char *branches =
    "seed: 3\n"
    "data: {classes: 4}\n"
    "model:\n  input: [12, 12, 1]\n  layers:\n"
    "    - conv2d: {filters: 4, kernel_size: 1, activation: relu, name: narrow}\n"
    "    - conv2d: {filters: 6, kernel_size: 3, padding: same, activation: relu, inputs: input,"
    " name: wide}\n"
    "    - concatenate: {inputs: [narrow, wide]}\n"
    "    - conv2d: {filters: 8, kernel_size: 3, padding: same, activation: relu}\n"
    "    - global_avgpool2d\n"
    "    - dense: {units: 4, activation: softmax}\n"
    "train:\n  loss: sparse_categorical_crossentropy\n"
    "  optimizer: {name: adam, learning_rate: 0.01}\n  epochs: 6\n  batch_size: 16\n";

/* n 12x12 images of 4 textures at a random phase, with noise: horizontal
 * stripes, vertical stripes, a checkerboard, diagonal stripes.  The class is
 * a local pattern found everywhere, which global average pooling keeps. */
static void textures(struct nn_dataset *ds, size_t n, uint64_t seed)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n, ds->h = 12, ds->w = 12, ds->c = 1, ds->n_classes = 4;
    ds->images = malloc(n * 144);
    ds->labels = malloc(n);
    struct nn_rng r;
    nn_rng_init(&r, seed, 1);
    for (size_t i = 0; i < n; i++) {
        const int k = (int)nn_rng_below(&r, 4), ph = (int)nn_rng_below(&r, 2);
        ds->labels[i] = (uint8_t)k;
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 12; x++) {
                const int on = k == 0 ? (y + ph) % 2 : k == 1 ? (x + ph) % 2
                             : k == 2 ? (x + y + ph) % 2 : (x + y + ph) % 4 == 0;
                ds->images[i * 144 + y * 12 + x] =
                    (uint8_t)(nn_rng_below(&r, 90) + (on ? 150 : 0));
            }
    }
}

struct result {
    float *w;
    size_t n;
    struct nn_epoch_stats ep[6];
    double test_accuracy;
};

static struct result train(const char *yaml, int threads)
{
    struct result res = {0};
    struct nn_graph g;
    struct nn_spec *s = t_model(yaml, &g);
    struct nn_dataset tr, te;
    textures(&tr, 320, 1);
    textures(&te, 200, 2);
    char err[256];
    struct nn_pool *pool = nn_pool_create(threads);
    ck_assert_int_eq(nn_graph_alloc(&g, s->train.batch_size, threads, err, sizeof err), 0);
    nn_graph_init_params(&g, s->seed);
    struct nn_train_opts opts = {pool, NULL};
    ck_assert_int_eq(s->train.epochs, 6);
    ck_assert_int_eq(nn_train(&g, s, &tr, &opts, res.ep, err, sizeof err), 0);
    struct nn_eval_stats ev;
    nn_evaluate(&g, s, &te, pool, &ev);
    ck_assert_int_eq(ev.n, 200);
    res.test_accuracy = ev.accuracy;
    res.n = g.n_params;
    res.w = malloc(g.n_params * sizeof *res.w);
    memcpy(res.w, g.params, g.n_params * sizeof *res.w);
    nn_pool_free(pool);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    nn_graph_free(&g);
    nn_spec_free(s);
    return res;
}

static const char *const models[] = {"residual", "branches"};

START_TEST(test_graph_model_learns)
{
    const char *yaml = _i == 0 ? residual : branches;
    struct result a = train(yaml, 1), b = train(yaml, 3);
    fprintf(stderr, "%s: train loss %.4f -> %.4f, accuracy %.3f -> %.3f, test accuracy %.3f\n",
            models[_i], a.ep[0].loss, a.ep[5].loss, a.ep[0].accuracy, a.ep[5].accuracy,
            a.test_accuracy);
    /* the same weights at any thread count */
    ck_assert_uint_eq(a.n, b.n);
    ck_assert_int_eq(memcmp(a.w, b.w, a.n * sizeof *a.w), 0);
    ck_assert(a.test_accuracy == b.test_accuracy);
    /* it learned: chance is 0.25 */
    ck_assert(a.ep[5].loss < a.ep[0].loss);
    ck_assert_msg(a.test_accuracy >= 0.9, "%s: test accuracy %g", models[_i], a.test_accuracy);
    free(a.w);
    free(b.w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("graph_models");
    TCase *tc = tcase_create("graph_models");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_graph_model_learns, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
