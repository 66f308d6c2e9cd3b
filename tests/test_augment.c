/* test_augment.c - the data features of issue 6: augmentation (worked pixels,
 * draws, determinism at 1 and 2 threads, nothing at evaluation),
 * standardization statistics, the CSV loader (good and bad files, equal to
 * IDX byte for byte), and the new spec keys (errors, resolved spec). */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common.h"
#include "nnrun/augment.h"
#include "nnrun/data.h"
#include "nnrun/parallel.h"
#include "nnrun/train.h"
#include "nnrun/util.h"

/* ---- scratch directory --------------------------------------------------- */

static char tmp[512];
static char err[2048];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/nnrun-test-augment-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmp) != NULL, "mkdtemp: %s", strerror(errno));
    err[0] = '\0';
}

static void teardown(void) { nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static const char *at(const char *name)
{
    static char ring[8][700];
    static int next;
    char *p = ring[next++ % 8];
    snprintf(p, sizeof ring[0], "%s/%s", tmp, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

/* ---- worked pixels ------------------------------------------------------- */

/* A 3 x 4 one-channel image holding 1..12, converted with divide_by 1. */
static const uint8_t img34[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static struct nn_input_map map34(void)
{
    struct nn_input_map m = {.h = 3, .w = 4, .c = 1, .scale = 1.0f, .seed = 5, .step = 9};
    return m;
}

static void expect_floats(const float *got, const float *want, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "pixel %d: got %g, want %g", i, got[i], want[i]);
}

START_TEST(test_flip_worked)
{
    struct nn_input_map m = map34();
    struct nn_augment_draw d = {.flip = 1};
    float out[12];
    nn_input_apply(&m, &d, img34, out);
    const float want[12] = {4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9};
    expect_floats(out, want, 12);
    /* two channels: pixels move, channels stay in order */
    const uint8_t rgb[2 * 2 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};   /* 2 x 2, c = 2 */
    struct nn_input_map m2 = {.h = 2, .w = 2, .c = 2, .scale = 0.5f};
    float o2[8];
    nn_input_apply(&m2, &d, rgb, o2);
    const float w2[8] = {1.5f, 2, 0.5f, 1, 3.5f, 4, 2.5f, 3};
    expect_floats(o2, w2, 8);
}
END_TEST

START_TEST(test_translate_worked)
{
    struct nn_input_map m = map34();
    float out[12];
    /* down 1, left 1: out(y, x) = in(y - 1, x + 1), zero where that is outside */
    struct nn_augment_draw d = {.dy = 1, .dx = -1};
    nn_input_apply(&m, &d, img34, out);
    const float want[12] = {0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0};
    expect_floats(out, want, 12);
    /* flip first, then shift right 2 */
    struct nn_augment_draw f = {.flip = 1, .dx = 2};
    nn_input_apply(&m, &f, img34, out);
    const float want2[12] = {0, 0, 4, 3, 0, 0, 8, 7, 0, 0, 12, 11};
    expect_floats(out, want2, 12);
    /* flip, then shift left 1 and up 1 */
    struct nn_augment_draw g = {.flip = 1, .dx = -1, .dy = -1};
    nn_input_apply(&m, &g, img34, out);
    const float want4[12] = {7, 6, 5, 0, 11, 10, 9, 0, 0, 0, 0, 0};
    expect_floats(out, want4, 12);
    /* padding is byte 0, scaled like any pixel: with standardization it is -mean/std */
    const float sc = 0.5f, sh = -2.0f;
    m.ch_scale = &sc, m.ch_shift = &sh;
    struct nn_augment_draw up = {.dy = -2};
    nn_input_apply(&m, &up, img34, out);
    const float want3[12] = {2.5f, 3, 3.5f, 4, -2, -2, -2, -2, -2, -2, -2, -2};
    expect_floats(out, want3, 12);
}
END_TEST

START_TEST(test_erase_worked)
{
    struct nn_input_map m = map34();
    float out[12];
    struct nn_augment_draw d = {.ey = 1, .ex = 1, .eh = 2, .ew = 2, .noise = 77};
    nn_input_apply(&m, &d, img34, out);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++) {
            const int o = y * 4 + x;
            const int erased = y >= 1 && x >= 1 && x <= 2;
            const float want = erased ? (float)(nn_rand_at(5, 77, (uint64_t)o) >> 56)
                                      : (float)img34[o];
            ck_assert_msg(out[o] == want, "(%d, %d): got %g, want %g", y, x, out[o], want);
        }
    /* the noise differs from pixel to pixel (random values, not a constant) */
    ck_assert(out[5] != out[6] || out[6] != out[9] || out[9] != out[10]);
}
END_TEST

/* Draws over many samples: deterministic, in range, at the stated rates. */
START_TEST(test_draws)
{
    struct nn_input_map m = {.h = 28, .w = 28, .c = 1, .scale = 1, .seed = 3, .step = 41,
                             .aug = {.flip_horizontal = 1, .translate = 2, .erase = 0.5f}};
    int flips = 0, erases = 0, seen_dx[5] = {0}, seen_dy[5] = {0};
    const int N = 4000;
    for (int i = 0; i < N; i++) {
        struct nn_augment_draw a, b;
        nn_augment_draw(&m, (uint64_t)i, &a);
        nn_augment_draw(&m, (uint64_t)i, &b);
        ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
        flips += a.flip;
        ck_assert(a.dx >= -2 && a.dx <= 2 && a.dy >= -2 && a.dy <= 2);
        seen_dx[a.dx + 2]++, seen_dy[a.dy + 2]++;
        if (a.eh) {
            erases++;
            ck_assert(a.ey >= 0 && a.ex >= 0 && a.ey + a.eh <= 28 && a.ex + a.ew <= 28);
            const double frac = (double)a.eh * a.ew / 784.0, ratio = (double)a.eh / a.ew;
            ck_assert_msg(frac > 0.015 && frac < 0.36, "area fraction %g", frac);
            ck_assert_msg(ratio > 0.2 && ratio < 5.0, "aspect %g", ratio);
        }
    }
    ck_assert_msg(abs(flips - N / 2) < 200, "%d flips of %d", flips, N);
    ck_assert_msg(abs(erases - N / 2) < 200, "%d erasures of %d", erases, N);
    for (int k = 0; k < 5; k++) ck_assert(seen_dx[k] > N / 8 && seen_dy[k] > N / 8);
    /* another step or seed draws differently */
    struct nn_augment_draw a, b;
    nn_augment_draw(&m, 7, &a);
    m.step++;
    int differ = 0;
    for (int i = 0; i < 20; i++) {
        nn_augment_draw(&m, (uint64_t)i, &b);
        m.step--;
        nn_augment_draw(&m, (uint64_t)i, &a);
        m.step++;
        differ += memcmp(&a, &b, sizeof a) != 0;
    }
    ck_assert_int_gt(differ, 15);
    /* no augmentation: the plain conversion, bit for bit */
    struct nn_input_map plain = {.h = 3, .w = 4, .c = 1, .scale = 1.0f / 255};
    float out[12];
    nn_input_sample(&plain, 3, img34, out);
    for (int i = 0; i < 12; i++) ck_assert(out[i] == (float)img34[i] * (1.0f / 255));
}
END_TEST

/* ---- training and evaluation --------------------------------------------- */

static const char *aug_cnn =
    "seed: 7\n"
    "data: {augment: {flip_horizontal: true, translate: 2, erase: 0.5}}\n"
    "model:\n  input: [10, 10, 1]\n  layers:\n"
    "    - conv2d: {filters: 4, kernel_size: 3, padding: same, activation: tanh}\n"
    "    - maxpool2d: {pool_size: 2}\n"
    "    - flatten\n"
    "    - dense: {units: 8, activation: relu}\n"
    "    - dense: {units: 10, activation: softmax}\n"
    "train:\n  loss: sparse_categorical_crossentropy\n  optimizer: {name: adam, learning_rate: 0.01}\n"
    "  epochs: 2\n  batch_size: 16\n";

static size_t n_weights;

/* Trains yaml on the synthetic set; returns the weights and the test stats. */
static float *train_weights(const char *yaml, int threads, struct nn_eval_stats *test_stats)
{
    struct nn_graph g;
    struct nn_spec *s = t_model(yaml, &g);
    struct nn_dataset ds, test;
    t_row_bands(&ds, 200, 3);
    t_row_bands(&test, 60, 4);
    char e[256];
    struct nn_pool *pool = nn_pool_create(threads);
    ck_assert_int_eq(nn_graph_alloc(&g, s->train.batch_size, threads, e, sizeof e), 0);
    nn_graph_init_params(&g, s->seed);
    struct nn_train_opts opts = {pool, NULL};
    ck_assert_int_eq(nn_train(&g, s, &ds, &opts, NULL, e, sizeof e), 0);
    if (test_stats) nn_evaluate(&g, s, &test, pool, test_stats);
    n_weights = g.n_params;
    float *w = malloc(g.n_params * sizeof *w);
    memcpy(w, g.params, g.n_params * sizeof *w);
    nn_pool_free(pool);
    nn_dataset_free(&ds);
    nn_dataset_free(&test);
    nn_graph_free(&g);
    nn_spec_free(s);
    return w;
}

START_TEST(test_augmented_training_threads)
{
    struct nn_eval_stats e1, e2;
    float *w1 = train_weights(aug_cnn, 1, &e1);
    float *w2 = train_weights(aug_cnn, 2, &e2);
    float *w3 = train_weights(aug_cnn, 2, NULL);
    ck_assert_int_eq(memcmp(w1, w2, n_weights * sizeof *w1), 0);
    ck_assert_int_eq(memcmp(w1, w3, n_weights * sizeof *w1), 0);
    ck_assert(e1.loss == e2.loss && e1.accuracy == e2.accuracy);
    /* augmentation changed the training: not the weights of the plain spec */
    char plain[2048];
    snprintf(plain, sizeof plain, "%s", aug_cnn);
    char *line = strstr(plain, "data: {augment");
    memcpy(line, "#   ", 4);
    float *w0 = train_weights(plain, 2, NULL);
    ck_assert_int_ne(memcmp(w0, w1, n_weights * sizeof *w1), 0);
    free(w0), free(w1), free(w2), free(w3);
}
END_TEST

START_TEST(test_eval_unaffected)
{
    /* the same weights evaluated under a spec with and without augmentation */
    char plain[2048];
    snprintf(plain, sizeof plain, "%s", aug_cnn);
    memcpy(strstr(plain, "data: {augment"), "#   ", 4);
    struct nn_graph ga, gp;
    struct nn_spec *sa = t_model(aug_cnn, &ga), *sp = t_model(plain, &gp);
    struct nn_dataset test;
    t_row_bands(&test, 150, 4);
    char e[256];
    struct nn_pool *pool = nn_pool_create(2);
    ck_assert_int_eq(nn_graph_alloc(&ga, 64, 2, e, sizeof e), 0);
    ck_assert_int_eq(nn_graph_alloc(&gp, 64, 2, e, sizeof e), 0);
    nn_graph_init_params(&ga, 11);
    memcpy(gp.params, ga.params, ga.n_params * sizeof *ga.params);
    struct nn_eval_stats a, p;
    uint8_t pa[150], pp[150];
    float qa[150], qp[150];
    nn_predict(&ga, sa, &test, pool, &a, pa, qa);
    nn_predict(&gp, sp, &test, pool, &p, pp, qp);
    ck_assert(a.loss == p.loss && a.accuracy == p.accuracy && a.mse == p.mse);
    ck_assert_mem_eq(pa, pp, sizeof pa);
    ck_assert_mem_eq(qa, qp, sizeof qa);
    nn_pool_free(pool);
    nn_dataset_free(&test);
    nn_graph_free(&ga), nn_graph_free(&gp);
    nn_spec_free(sa), nn_spec_free(sp);
}
END_TEST

/* ---- standardization ------------------------------------------------------ */

START_TEST(test_standardize_stats)
{
    /* two samples of 1 x 2 pixels, 2 channels: channel 0 holds 0, 10, 20, 30;
     * channel 1 is constant 50 */
    uint8_t im[8] = {0, 50, 10, 50, 20, 50, 30, 50};
    uint8_t lb[2] = {0, 1};
    struct nn_dataset ds = {.images = im, .labels = lb, .n = 2, .h = 1, .w = 2, .c = 2};
    double mean[2], std[2];
    nn_dataset_channel_stats(&ds, 10.0, mean, std);
    ck_assert_double_eq_tol(mean[0], 1.5, 1e-12);          /* (0 + 1 + 2 + 3) / 4 */
    ck_assert_double_eq_tol(std[0], sqrt(1.25), 1e-12);    /* population std */
    ck_assert_double_eq_tol(mean[1], 5.0, 1e-12);
    ck_assert_double_eq(std[1], 1e-7);                     /* floored, as Keras */
    nn_dataset_standardize(&ds, 10.0, mean, std);
    struct nn_input_map m = {.h = 1, .w = 2, .c = 2, .scale = 0.1f, .ch_scale = ds.scale,
                             .ch_shift = ds.shift};
    float out[4];
    nn_input_sample(&m, 0, im + 4, out);   /* the second sample: 20, 50, 30, 50 */
    ck_assert_float_eq_tol(out[0], (float)((2.0 - 1.5) / sqrt(1.25)), 1e-6);
    ck_assert_float_eq_tol(out[2], (float)((3.0 - 1.5) / sqrt(1.25)), 1e-6);
    ck_assert_float_eq_tol(out[1], 0.0f, 1e-3);
    /* the split copies the scaling into the tail */
    struct nn_dataset own = {0};
    own.n = 2, own.h = 1, own.w = 2, own.c = 2;
    own.images = malloc(8), own.labels = malloc(2);
    memcpy(own.images, im, 8), memcpy(own.labels, lb, 2);
    nn_dataset_standardize(&own, 10.0, mean, std);
    struct nn_dataset tail;
    nn_dataset_split(&own, &tail, 1);
    ck_assert_ptr_nonnull(tail.scale);
    ck_assert_ptr_ne(tail.scale, own.scale);
    ck_assert(tail.scale[0] == own.scale[0] && tail.shift[1] == own.shift[1]);
    nn_dataset_free(&own);
    nn_dataset_free(&tail);
    free(ds.scale), free(ds.shift);
}
END_TEST

/* A standardized set trains the same at 1 and 2 threads, and evaluation on
 * a copy with the same statistics gives the same numbers. */
START_TEST(test_standardized_training)
{
    const char *yaml =
        "seed: 2\ndata: {standardize: true}\n"
        "model:\n  input: [10, 10, 1]\n  layers:\n    - flatten\n"
        "    - dense: {units: 10, activation: softmax}\n"
        "train:\n  loss: sparse_categorical_crossentropy\n  epochs: 3\n  batch_size: 20\n"
        "  optimizer: {name: adam, learning_rate: 0.01}\n";
    float *w[2];
    struct nn_eval_stats ev[2];
    for (int t = 0; t < 2; t++) {
        struct nn_graph g;
        struct nn_spec *s = t_model(yaml, &g);
        struct nn_dataset ds, test;
        t_row_bands(&ds, 200, 3);
        t_row_bands(&test, 50, 4);
        double mean[1], std[1];
        nn_dataset_channel_stats(&ds, s->data.divide_by, mean, std);
        ck_assert(mean[0] > 0.1 && mean[0] < 0.5 && std[0] > 0.1);
        nn_dataset_standardize(&ds, s->data.divide_by, mean, std);
        nn_dataset_standardize(&test, s->data.divide_by, mean, std);
        char e[256];
        struct nn_pool *pool = nn_pool_create(t + 1);
        ck_assert_int_eq(nn_graph_alloc(&g, 20, t + 1, e, sizeof e), 0);
        nn_graph_init_params(&g, s->seed);
        struct nn_train_opts opts = {pool, NULL};
        ck_assert_int_eq(nn_train(&g, s, &ds, &opts, NULL, e, sizeof e), 0);
        nn_evaluate(&g, s, &test, pool, &ev[t]);
        w[t] = malloc(g.n_params * sizeof *w[t]);
        memcpy(w[t], g.params, g.n_params * sizeof *w[t]);
        n_weights = g.n_params;
        nn_pool_free(pool);
        nn_dataset_free(&ds), nn_dataset_free(&test);
        nn_graph_free(&g);
        nn_spec_free(s);
    }
    ck_assert_int_eq(memcmp(w[0], w[1], n_weights * sizeof *w[0]), 0);
    ck_assert(ev[0].loss == ev[1].loss);
    ck_assert_msg(ev[0].accuracy > 0.5, "accuracy %g", ev[0].accuracy);
    free(w[0]), free(w[1]);
}
END_TEST

/* ---- CSV ---------------------------------------------------------------- */

/* Writes ds as CSV: "label,pixel1,..." header, then one line per sample. */
static void write_csv(const char *path, const struct nn_dataset *ds, int gz)
{
    const size_t per = (size_t)ds->h * ds->w * ds->c;
    size_t cap = (ds->n + 1) * (per * 4 + 16) + 64, n = 0;
    char *text = malloc(cap);
    n += (size_t)snprintf(text + n, cap - n, "label");
    for (size_t p = 0; p < per; p++) n += (size_t)snprintf(text + n, cap - n, ",pixel%zu", p + 1);
    text[n++] = '\n';
    for (size_t i = 0; i < ds->n; i++) {
        n += (size_t)snprintf(text + n, cap - n, "%d", ds->labels[i]);
        for (size_t p = 0; p < per; p++)
            n += (size_t)snprintf(text + n, cap - n, ",%d", ds->images[i * per + p]);
        text[n++] = '\n';
    }
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, text, (unsigned)n), (int)n);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(text, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
    }
    free(text);
}

static void expect_same(const struct nn_dataset *a, const struct nn_dataset *b)
{
    ck_assert_uint_eq(a->n, b->n);
    ck_assert(a->h == b->h && a->w == b->w && a->c == b->c && a->n_classes == b->n_classes);
    ck_assert_int_eq(memcmp(a->images, b->images, a->n * (size_t)a->h * a->w * a->c), 0);
    ck_assert_int_eq(memcmp(a->labels, b->labels, a->n), 0);
}

/* IDX -> CSV -> nn_csv_load equals nn_dataset_load, byte for byte. */
static void idx_csv_equal(const char *images, const char *labels, size_t n, int gz)
{
    struct nn_dataset idx, csv;
    ck_assert_msg(nn_dataset_load(&idx, images, labels, 10, err, sizeof err) == 0, "%s", err);
    nn_dataset_truncate(&idx, n);
    const char *path = at(gz ? "subset.csv.gz" : "subset.csv");
    write_csv(path, &idx, gz);
    ck_assert_msg(nn_csv_load(&csv, path, 0, 1, idx.h, idx.w, idx.c, 10, err, sizeof err) == 0,
                  "%s", err);
    expect_same(&idx, &csv);
    nn_dataset_free(&idx);
    nn_dataset_free(&csv);
}

START_TEST(test_csv_equals_idx)
{
    /* a synthetic IDX set always ... */
    struct nn_dataset ds;
    t_row_bands(&ds, 37, 9);
    uint32_t idims[3] = {37, 10, 10}, ldims[1] = {37};
    ck_assert_int_eq(nn_idx_write(at("im.idx"), ds.images, 3, idims, err, sizeof err), 0);
    ck_assert_int_eq(nn_idx_write(at("lb.idx"), ds.labels, 1, ldims, err, sizeof err), 0);
    nn_dataset_free(&ds);
    idx_csv_equal(at("im.idx"), at("lb.idx"), 0, 0);
    idx_csv_equal(at("im.idx"), at("lb.idx"), 0, 1);
    /* ... and the first 1000 Fashion-MNIST training images when installed */
    if (!t_have_data()) return;
    struct nn_data_paths p;
    ck_assert_int_eq(nn_fashion_mnist_find(&p, err, sizeof err), 0);
    idx_csv_equal(p.train_images, p.train_labels, 1000, 0);
    idx_csv_equal(p.test_images, p.test_labels, 300, 1);
}
END_TEST

START_TEST(test_csv_good)
{
    /* label in the middle, no header, CRLF, spaces, blank lines, no final newline */
    write_text(at("a.csv"), "1, 2 ,3,4,5\r\n\n0,9,8,7,6\r\n250,255,2,0,+1");
    struct nn_dataset ds;
    ck_assert_msg(nn_csv_load(&ds, at("a.csv"), 2, 0, 2, 2, 1, 10, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_uint_eq(ds.n, 3);
    const uint8_t im[12] = {1, 2, 4, 5, 0, 9, 7, 6, 250, 255, 0, 1}, lb[3] = {3, 8, 2};
    ck_assert_mem_eq(ds.images, im, 12);
    ck_assert_mem_eq(ds.labels, lb, 3);
    ck_assert_int_eq(ds.n_classes, 10);
    nn_dataset_free(&ds);
    /* a header, the label last, [features] shape */
    write_text(at("b.csv"), "a,b,label\n3,4,1\n");
    ck_assert_msg(nn_csv_load(&ds, at("b.csv"), 2, 1, 1, 1, 2, 2, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_uint_eq(ds.n, 1);
    ck_assert(ds.images[0] == 3 && ds.images[1] == 4 && ds.labels[0] == 1 && ds.c == 2);
    nn_dataset_free(&ds);
}
END_TEST

static void expect_csv_error(const char *text, int header, int label_column, const char *want)
{
    const char *path = at("bad.csv");
    write_text(path, text);
    struct nn_dataset ds;
    memset(&ds, 0xAB, sizeof ds);
    ck_assert_int_eq(nn_csv_load(&ds, path, label_column, header, 2, 2, 1, 10, err, sizeof err),
                     -1);
    ck_assert_ptr_null(ds.images);
    ck_assert_ptr_null(ds.labels);
    ck_assert_uint_eq(ds.n, 0);
    char full[1200];
    snprintf(full, sizeof full, "%s%s", path, want);
    ck_assert_msg(strstr(err, full) == err, "expected \"%s\" in: %s", full, err);
    ck_assert_ptr_null(strchr(err, '\n'));
}

START_TEST(test_csv_bad)
{
    expect_csv_error("label,p1,p2,p3,p4\n1,2,3,x4,5\n", 1, 0,
                     ":2: field 4 is 'x4', not a number; expected an integer");
    expect_csv_error("1,2,3,4,5\n1,2,3,4\n", 0, 0, ":2: 4 fields, expected 5 (a label and 4 pixels)");
    expect_csv_error("1,2,3,4,5,6,7\n", 0, 0, ":1: 7 fields, expected 5");
    expect_csv_error("1,2,3,4,5\n\n1,2,256,4,5\n", 0, 0,
                     ":3: pixel value 256 (field 3) is outside 0..255");
    expect_csv_error("1,-1,3,4,5\n", 0, 0, ":1: pixel value -1 (field 2) is outside 0..255");
    expect_csv_error("h\n1,2,3,4,5\n10,2,3,4,5\n", 1, 0,
                     ":3: label 10 (field 1) is outside the 10 classes 0..9");
    expect_csv_error("1,2,,4,5\n", 0, 0, ":1: field 3 is empty; expected an integer");
    expect_csv_error("1,2,3.5,4,5\n", 0, 0, ":1: field 3 is '3.5', not a number");
    expect_csv_error("1,2,3 4,4,5\n", 0, 0, ":1: field 3 is '3 4', not a number");
    expect_csv_error("label,p1,p2,p3,p4\n", 1, 0, ": holds no samples (only a header)");
    expect_csv_error("", 0, 0, ": holds no samples");
    expect_csv_error("1,2,3,4,5\n", 0, 5, ": label_column 5 is past the 5 fields of a line");
    struct nn_dataset ds;
    ck_assert_int_eq(nn_csv_load(&ds, at("missing.csv"), 0, 1, 2, 2, 1, 10, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "missing.csv: cannot open: No such file"), "%s", err);
    /* a truncated gzip stream is an error, not a short data set */
    struct nn_dataset src;
    t_row_bands(&src, 50, 1);
    write_csv(at("t.csv.gz"), &src, 1);
    nn_dataset_free(&src);
    struct stat st;
    ck_assert_int_eq(stat(at("t.csv.gz"), &st), 0);
    ck_assert_int_eq(truncate(at("t.csv.gz"), st.st_size / 2), 0);
    ck_assert_int_eq(nn_csv_load(&ds, at("t.csv.gz"), 0, 1, 10, 10, 1, 10, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "gzip stream"), "%s", err);
}
END_TEST

/* ---- spec keys ------------------------------------------------------------ */

static const char *model_tail =
    "model:\n  input: [28, 28, 1]\n  layers:\n    - flatten\n"
    "    - dense: {units: 10, activation: softmax}\n"
    "train: {loss: sparse_categorical_crossentropy}\n";

static const char *errors_for(const char *data_line)
{
    static char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s\n%s", data_line, model_tail);
    return t_errors(yaml);
}

START_TEST(test_spec_errors)
{
    static const struct {
        const char *data, *want;
    } cases[] = {
        {"data: {augment: {flip_horizontl: true}}",
         "t.yaml:1:18: error: unknown key for augment 'flip_horizontl'; expected one of: "
         "flip_horizontal, translate, erase (did you mean 'flip_horizontal'?)"},
        {"data: {augment: {erase: 1.5}}",
         "t.yaml:1:25: error: augment: 'erase' is 1.5; it must be >= 0 and <= 1"},
        {"data: {augment: {translate: -1}}",
         "t.yaml:1:29: error: augment: 'translate' is -1; it must be >= 0 and <= 65536"},
        {"data: {standardise: true}",
         "t.yaml:1:8: error: unknown key for data 'standardise'; expected one of: "},
        {"data: {format: cvs, train: a.csv, test: b.csv}",
         "t.yaml:1:16: error: unknown format 'cvs'; expected one of: idx, csv (did you mean "
         "'csv'?)"},
        {"data: {format: csv, train: a.csv}",
         "t.yaml:1:16: error: data: format csv needs 'train' and 'test' (CSV files: a label "
         "column and one column per pixel); 'test' is missing"},
        {"data: {format: csv, train: a.csv, test: b.csv, dataset: fashion_mnist}",
         "t.yaml:1:57: error: data: 'dataset' is for IDX data; with format csv give 'train' "
         "and 'test' CSV files"},
        {"data: {train: a.csv, test: b.csv}",
         "t.yaml:1:15: error: data: 'train' applies to CSV files only; add 'format: csv'"},
        {"data: {format: csv, train: a.csv, test: b.csv, image_shape: [28, x]}",
         "t.yaml:1:66: error: data: 'image_shape' sizes must be integers from 1 to 65536, "
         "found 'x'"},
        {"data: {format: csv, train: a.csv, test: b.csv, header: 2}",
         "t.yaml:1:56: error: data: 'header' must be true or false, found '2'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *e = errors_for(cases[i].data);
        ck_assert_msg(e && strstr(e, cases[i].want) == e, "%s\nexpected: %s\ngot: %s",
                      cases[i].data, cases[i].want, e ? e : "(no error)");
    }
    /* augmentation needs an image input */
    const char *e = t_errors("data: {augment: {translate: 2}}\nmodel:\n  input: [784]\n"
                             "  layers:\n    - dense: {units: 10, activation: softmax}\n"
                             "train: {loss: mse}\n");
    ck_assert_msg(e && strstr(e, "t.yaml:1:17: error: data: augment moves pixels within an "
                              "image; model.input [784] has no height and width"), "%s", e);
}
END_TEST

START_TEST(test_resolved_spec)
{
    /* the new keys survive the resolved spec and its round trip */
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "data: {format: csv, train: tr.csv, test: te.csv, "
             "label_column: 3, header: false, standardize: true,\n"
             "       augment: {flip_horizontal: true, translate: 3, erase: 0.25}}\n%s",
             model_tail);
    struct nn_spec *s = t_spec(yaml);
    char *y1 = nn_spec_to_yaml(s);
    ck_assert_msg(strstr(y1, "standardize: true, format: csv, train: \"tr.csv\", test: "
                             "\"te.csv\", label_column: 3, header: false, image_shape: [28, 28, "
                             "1], augment: {flip_horizontal: true, translate: 3, erase: 0.25}}"),
                  "%s", y1);
    struct nn_spec *s2 = t_spec(y1);
    char *y2 = nn_spec_to_yaml(s2);
    ck_assert_str_eq(y1, y2);
    ck_assert_uint_eq(nn_spec_hash(s), nn_spec_hash(s2));
    ck_assert(s2->data.augment.translate == 3 && s2->data.augment.erase == 0.25f &&
              s2->data.standardize && s2->data.label_column == 3 && !s2->data.header);
    ck_assert(s2->data.image_shape[0] == 28 && s2->data.image_shape[2] == 1);
    free(y1), free(y2);
    nn_spec_free(s), nn_spec_free(s2);
    /* a spec without the new keys resolves to the text it had before them */
    s = t_spec(model_tail);
    y1 = nn_spec_to_yaml(s);
    ck_assert_msg(strstr(y1, "data: {dataset: \"fashion_mnist\", divide_by: 255.0, "
                             "train_samples: 0, test_samples: 0, classes: 10, "
                             "validation_split: 0.0}\n"), "%s", y1);
    free(y1);
    nn_spec_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("augment");
    TCase *px = tcase_create("pixels");
    tcase_add_test(px, test_flip_worked);
    tcase_add_test(px, test_translate_worked);
    tcase_add_test(px, test_erase_worked);
    tcase_add_test(px, test_draws);
    suite_add_tcase(s, px);
    TCase *tr = tcase_create("training");
    tcase_set_timeout(tr, 60);
    tcase_add_test(tr, test_augmented_training_threads);
    tcase_add_test(tr, test_eval_unaffected);
    tcase_add_test(tr, test_standardize_stats);
    tcase_add_test(tr, test_standardized_training);
    suite_add_tcase(s, tr);
    TCase *csv = tcase_create("csv");
    tcase_set_timeout(csv, 60);
    tcase_add_checked_fixture(csv, setup, teardown);
    tcase_add_test(csv, test_csv_equals_idx);
    tcase_add_test(csv, test_csv_good);
    tcase_add_test(csv, test_csv_bad);
    suite_add_tcase(s, csv);
    TCase *sp = tcase_create("spec");
    tcase_add_test(sp, test_spec_errors);
    tcase_add_test(sp, test_resolved_spec);
    suite_add_tcase(s, sp);
    return t_run(s);
}
