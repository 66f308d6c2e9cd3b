/* test_run.c - run records: the checkpoint format (round trip, a flipped
 * byte, truncation), the resolved spec (parses back to itself), resume after
 * a stop mid-epoch (bit-identical to an uninterrupted run), early stopping,
 * the validation split, and a NaN keeping the last good checkpoint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common.h"
#include "nnrun/checkpoint.h"
#include "nnrun/data.h"
#include "nnrun/parallel.h"
#include "nnrun/run.h"
#include "nnrun/util.h"

static char tmpdir[256];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnrun-test-run-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *path_in(const char *dir, const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* ---- checkpoint format ---------------------------------------------------- */

START_TEST(test_ckpt_round_trip)
{
    make_tmp();
    enum { N = 1000 };
    float *p = malloc(N * sizeof *p), *s1 = malloc(N * sizeof *p), *s2 = malloc(N * sizeof *p);
    t_fill(p, N, -1, 1, 1);
    t_fill(s1, N, 0, 1, 2);
    t_fill(s2, N, -3, 3, 3);
    p[7] = -0.0f;
    struct nn_ckpt c = {.kind = NN_CKPT_TRAIN, .spec_hash = 0x0123456789abcdefULL,
                        .n_params = N, .n_state = 2, .epoch = 3, .batch = 17, .step = 617,
                        .optim_t = 617, .sums = {12.5, 300, 4.25, 400}, .epoch_seconds = 1.5,
                        .best = 0.25, .best_epoch = 2, .wait = 1, .lr = 0.00125f,
                        .plateau_lr = 0.0025f, .plateau_best = -0.5, .plateau_wait = 3,
                        .plateau_cooldown = 4, .params = p, .state = {s1, s2}};
    float scale[3] = {0.5f, 2.0f, -0.0f}, shift[3] = {-1.25f, 0.125f, 3.0f};
    c.n_input_ch = 3, c.in_scale = scale, c.in_shift = shift;
    char err[512];
    const char *f = path_in(tmpdir, "c.nnc");
    ck_assert_int_eq(nn_ckpt_write(f, &c, err, sizeof err), 0);
    struct nn_ckpt r;
    ck_assert_msg(nn_ckpt_read(f, 0, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(r.kind, NN_CKPT_TRAIN);
    ck_assert_uint_eq(r.spec_hash, 0x0123456789abcdefULL);
    ck_assert_uint_eq(r.n_params, N);
    ck_assert_uint_eq(r.n_state, 2);
    ck_assert_int_eq(r.epoch, 3);
    ck_assert_uint_eq(r.batch, 17);
    ck_assert_uint_eq(r.step, 617);
    ck_assert_int_eq(r.optim_t, 617);
    ck_assert(r.sums.loss == 12.5 && r.sums.correct == 300 && r.sums.sq_err == 4.25 &&
              r.sums.n == 400);
    ck_assert(r.epoch_seconds == 1.5 && r.best == 0.25);
    ck_assert_int_eq(r.best_epoch, 2);
    ck_assert_int_eq(r.wait, 1);
    ck_assert_uint_eq(r.version, NN_CKPT_VERSION);
    ck_assert(r.lr == 0.00125f && r.plateau_lr == 0.0025f && r.plateau_best == -0.5);
    ck_assert_int_eq(r.plateau_wait, 3);
    ck_assert_int_eq(r.plateau_cooldown, 4);
    ck_assert_mem_eq(r.params, p, N * sizeof *p);
    ck_assert_mem_eq(r.state[0], s1, N * sizeof *p);
    ck_assert_mem_eq(r.state[1], s2, N * sizeof *p);
    ck_assert(signbit(r.params[7]));
    ck_assert_uint_eq(r.n_input_ch, 3);
    ck_assert_mem_eq(r.in_scale, scale, sizeof scale);
    ck_assert_mem_eq(r.in_shift, shift, sizeof shift);
    nn_ckpt_free(&r);
    /* a parameter bound refuses a larger file */
    ck_assert_int_eq(nn_ckpt_read(f, N - 1, &r, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "1000 parameters"));
    /* no temporary file is left next to it */
    ck_assert_int_ne(access(path_in(tmpdir, "c.nnc.tmp"), F_OK), 0);
    /* versions 1 and 2 (no input scaling; version 1 also without the
     * learning-rate fields) still load, with those fields 0 */
    c.n_input_ch = 0, c.in_scale = c.in_shift = NULL;
    ck_assert_int_eq(nn_ckpt_write(f, &c, err, sizeof err), 0);
    for (uint8_t version = 1; version <= 2; version++) {
        size_t len;
        uint8_t *buf = nn_read_file(f, &len, err, sizeof err);
        ck_assert_ptr_nonnull(buf);
        const size_t header = version == 1 ? NN_CKPT_HEADER_V1 : NN_CKPT_HEADER_V2;
        memmove(buf + header, buf + NN_CKPT_HEADER, len - NN_CKPT_HEADER);
        len -= NN_CKPT_HEADER - header;
        buf[8] = version;
        const uint32_t crc = (uint32_t)crc32_z(0L, buf, len - 4);
        for (int i = 0; i < 4; i++) buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
        ck_assert_msg(nn_ckpt_decode(buf, len, 0, &r, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_eq(r.version, version);
        ck_assert(r.wait == 1 && r.step == 617 && r.n_input_ch == 0 && !r.in_scale);
        ck_assert(version == 1 ? r.lr == 0 && r.plateau_wait == 0
                               : r.lr == 0.00125f && r.plateau_wait == 3);
        ck_assert_mem_eq(r.state[1], s2, N * sizeof *p);
        nn_ckpt_free(&r);
        free(buf);
    }
    free(p);
    free(s1);
    free(s2);
    rm_tmp();
}
END_TEST

/* Every single flipped byte of a small file is refused: the magic, the
 * version, or else the CRC catches it. */
START_TEST(test_ckpt_corrupt)
{
    make_tmp();
    float p[64];
    t_fill(p, 64, -1, 1, 4);
    struct nn_ckpt c = {.kind = NN_CKPT_WEIGHTS, .spec_hash = 42, .n_params = 64, .params = p};
    char err[512];
    const char *f = path_in(tmpdir, "w.nnw");
    ck_assert_int_eq(nn_ckpt_write(f, &c, err, sizeof err), 0);
    size_t len;
    uint8_t *buf = nn_read_file(f, &len, err, sizeof err);
    ck_assert_ptr_nonnull(buf);
    struct nn_ckpt r;
    ck_assert_int_eq(nn_ckpt_decode(buf, len, 0, &r, err, sizeof err), 0);
    nn_ckpt_free(&r);
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x10;
        ck_assert_msg(nn_ckpt_decode(buf, len, 0, &r, err, sizeof err) == -1,
                      "byte %zu flipped was accepted", i);
        if (i >= 16) ck_assert_msg(strstr(err, "checksum") || strstr(err, "truncated"),
                                   "byte %zu: %s", i, err);
        buf[i] ^= 0x10;
    }
    /* one flipped bit in the payload names the checksum */
    buf[NN_CKPT_HEADER + 3] ^= 1;
    ck_assert_int_eq(nn_ckpt_decode(buf, len, 0, &r, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "checksum mismatch"));
    buf[NN_CKPT_HEADER + 3] ^= 1;
    /* every truncation */
    for (size_t n = 0; n < len; n++)
        ck_assert_int_eq(nn_ckpt_decode(buf, n, 0, &r, err, sizeof err), -1);
    ck_assert_int_eq(nn_ckpt_decode((const uint8_t *)"NNRUNCKX", 8, 0, &r, err, sizeof err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "magic"));
    free(buf);
    rm_tmp();
}
END_TEST

/* ---- the resolved spec ---------------------------------------------------- */

static const char *every_kind =
    "name: \"all \\\"kinds\\\"\"\n"
    "seed: 12\n"
    "data: {train_images: a.gz, train_labels: b.gz, test_images: c, test_labels: d,\n"
    "       divide_by: 127.5, validation_split: 0.1, train_samples: 100}\n"
    "model:\n  input: [12, 12, 1]\n  layers:\n"
    "    - conv2d: {filters: 3, kernel_size: [3, 2], strides: 1, padding: same, "
    "activation: relu, kernel_initializer: he_normal}\n"
    "    - leaky_relu: {alpha: 0.125}\n"
    "    - maxpool2d: {pool_size: 2, name: pool}\n"
    "    - avgpool2d: {pool_size: [2, 3], padding: same}\n"
    "    - flatten\n"
    "    - dropout: {rate: 0.25}\n"
    "    - dense: {units: 7, activation: elu, use_bias: false}\n"
    "    - activation: sigmoid\n"
    "    - dense: {units: 10, activation: softmax}\n"
    "train:\n  loss: sparse_categorical_crossentropy\n"
    "  optimizer: {name: sgd, learning_rate: 0.1, momentum: 0.9, nesterov: true,\n"
    "              weight_decay: 0.01, global_clipnorm: 2.5}\n"
    "  metrics: [acc, mse]\n  epochs: 3\n  batch_size: 8\n  shuffle: false\n"
    "  l2: 0.0001\n  label_smoothing: 0.1\n"
    "  lr_schedule: {name: reduce_on_plateau, monitor: val_accuracy, factor: 0.5, cooldown: 1}\n"
    "  early_stopping: {monitor: val_accuracy, patience: 2, min_delta: 0.001}\n";

START_TEST(test_resolved_spec_round_trip)
{
    struct nn_spec *s = t_spec(every_kind);
    char *y1 = nn_spec_to_yaml(s);
    struct nn_diag d;
    nn_diag_init(&d, "resolved.yaml");
    struct nn_spec *s2 = nn_spec_from_string(y1, strlen(y1), "resolved.yaml", &d);
    ck_assert_msg(s2 != NULL, "the resolved spec does not parse:\n%s", y1);
    nn_diag_free(&d);
    char *y2 = nn_spec_to_yaml(s2);
    ck_assert_str_eq(y1, y2);
    ck_assert_uint_eq(nn_spec_hash(s), nn_spec_hash(s2));
    /* defaults are written out, values kept exactly */
    ck_assert_ptr_nonnull(strstr(y1, "name: \"all \\\"kinds\\\"\""));
    ck_assert_ptr_nonnull(strstr(y1, "validation_split: 0.100000001"));
    ck_assert_ptr_nonnull(strstr(y1, "monitor: val_accuracy, patience: 2"));
    ck_assert_ptr_nonnull(strstr(y1, "nesterov: true"));
    ck_assert_ptr_nonnull(strstr(y1, "kernel_size: [3, 2]"));
    ck_assert_ptr_nonnull(strstr(y1, "alpha: 0.125"));
    ck_assert_ptr_nonnull(strstr(y1, "bias_initializer: zeros"));   /* a default */
    ck_assert_ptr_nonnull(strstr(y1, "metrics: [accuracy, mse]"));
    ck_assert_ptr_nonnull(strstr(y1, "nesterov: true, weight_decay: 0.00999999978, "
                                     "global_clipnorm: 2.5}"));   /* clipnorm 0: left out */
    ck_assert_ptr_nonnull(strstr(y1, "  l2: 9.99999975e-05\n  label_smoothing: 0.100000001\n"));
    ck_assert_ptr_nonnull(strstr(y1, "  lr_schedule: {name: reduce_on_plateau, monitor: "
                                     "val_accuracy, factor: 0.5, patience: 10, min_delta: "
                                     "9.99999975e-05, cooldown: 1, min_lr: 0.0}\n"));
    ck_assert(s2->train.lr_schedule.kind == NN_LR_PLATEAU && s2->train.l2 == s->train.l2);
    /* the other schedules and adamw too */
    static const char *const more[][2] = {
        {"lr_schedule: {name: reduce_on_plateau, monitor: val_accuracy, factor: 0.5, "
         "cooldown: 1}", "lr_schedule: {name: cosine, warmup_epochs: 2, alpha: 0.25}"},
        {"lr_schedule: {name: reduce_on_plateau, monitor: val_accuracy, factor: 0.5, "
         "cooldown: 1}", "lr_schedule: {name: exponential, decay_steps: 100, decay_rate: 0.5}"},
        {"lr_schedule: {name: reduce_on_plateau, monitor: val_accuracy, factor: 0.5, "
         "cooldown: 1}", "lr_schedule: {name: step, step_size: 3}"},
        {"{name: sgd, learning_rate: 0.1, momentum: 0.9, nesterov: true,\n"
         "              weight_decay: 0.01, global_clipnorm: 2.5}", "adamw"},
    };
    static const char *const want[] = {
        "  lr_schedule: {name: cosine, decay_steps: 0, alpha: 0.25, warmup_steps: 0, "
        "warmup_epochs: 2}\n",
        "  lr_schedule: {name: exponential, decay_steps: 100, decay_rate: 0.5, "
        "staircase: false}\n",
        "  lr_schedule: {name: step, step_size: 3, gamma: 0.100000001}\n",
        "  optimizer: {name: adamw, learning_rate: 0.00100000005, weight_decay: "
        "0.00400000019, beta_1: 0.899999976, beta_2: 0.999000013, epsilon: 1.00000001e-07}\n",
    };
    for (int k = 0; k < 4; k++) {
        char text[4096];
        const char *at = strstr(every_kind, more[k][0]);
        ck_assert_ptr_nonnull(at);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - every_kind), every_kind, more[k][1],
                 at + strlen(more[k][0]));
        struct nn_spec *a = t_spec(text);
        char *ya = nn_spec_to_yaml(a);
        ck_assert_msg(strstr(ya, want[k]) != NULL, "%s", ya);
        struct nn_spec *b = t_spec(ya);
        char *yb = nn_spec_to_yaml(b);
        ck_assert_str_eq(ya, yb);
        free(ya), free(yb);
        nn_spec_free(a), nn_spec_free(b);
    }
    ck_assert_float_eq(s2->train.optim.learning_rate, s->train.optim.learning_rate);
    ck_assert_float_eq(s2->data.divide_by, 127.5f);
    /* one changed value changes the hash */
    s2->train.optim.momentum = 0.8f;
    ck_assert_uint_ne(nn_spec_hash(s), nn_spec_hash(s2));
    free(y1);
    free(y2);
    nn_spec_free(s);
    nn_spec_free(s2);
}
END_TEST

START_TEST(test_monitor_needs_validation)
{
    const char *e = t_errors(
        "model:\n  input: [4]\n  layers:\n    - dense: {units: 3, activation: softmax}\n"
        "train:\n  loss: sparse_categorical_crossentropy\n"
        "  early_stopping: {monitor: val_loss}\n");
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strstr(e, "t.yaml:7:29: error: early_stopping: monitor val_loss "
                                    "needs a validation set"), "%s", e);
}
END_TEST

/* ---- whole runs on synthetic data ---------------------------------------- */

static const char *small =
    "seed: 5\n"
    "data: {classes: 4}\n"
    "model:\n  input: [6, 6, 1]\n  layers:\n"
    "    - conv2d: {filters: 3, kernel_size: 3, activation: tanh}\n"
    "    - flatten\n"
    "    - dropout: {rate: 0.1}\n"
    "    - dense: {units: 8, activation: tanh}\n"
    "    - dense: {units: 4, activation: softmax}\n"
    "train:\n  loss: sparse_categorical_crossentropy\n  optimizer: {name: adam, learning_rate: 0.01}\n"
    "  metrics: [accuracy]\n  epochs: 4\n  batch_size: 10\n";

/* yaml with its first `from` replaced by `to` (static buffer) */
static const char *edit(const char *yaml, const char *from, const char *to)
{
    static char buf[4096];
    const char *at = strstr(yaml, from);
    ck_assert_ptr_nonnull(at);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - yaml), yaml, to, at + strlen(from));
    return buf;
}

/* n 6x6 images of 4 classes: the class is the bright quadrant */
static void quadrants(struct nn_dataset *ds, size_t n, uint64_t seed)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n, ds->h = 6, ds->w = 6, ds->c = 1, ds->n_classes = 4;
    ds->images = malloc(n * 36);
    ds->labels = malloc(n);
    struct nn_rng r;
    nn_rng_init(&r, seed, 1);
    for (size_t i = 0; i < n; i++) {
        int y = (int)nn_rng_below(&r, 4);
        ds->labels[i] = (uint8_t)y;
        for (int p = 0; p < 36; p++) {
            int q = (p / 6 >= 3) * 2 + (p % 6 >= 3);
            ds->images[i * 36 + p] = (uint8_t)(nn_rng_below(&r, 100) + (q == y ? 150 : 0));
        }
    }
}

struct stopper {
    volatile int flag;
    uint64_t at_step;
};

static void stop_at(void *ctx, const struct nn_trainer *t, size_t n_batches)
{
    (void)n_batches;
    struct stopper *s = ctx;
    if (t->step == s->at_step) s->flag = 1;
}

/* Trains `yaml` into dir (resume: continue there); returns the run's status. */
static int run_in(const char *yaml, const char *dir, int resume, int threads,
                  struct stopper *stop, struct nn_run_result *r)
{
    struct nn_graph g;
    struct nn_spec *s = t_model(yaml, &g);
    struct nn_dataset train, val = {0}, test;
    quadrants(&train, 230, 1);
    quadrants(&test, 50, 2);
    if (s->data.validation_split > 0) nn_dataset_split(&train, &val, 200);
    char err[512];
    struct nn_pool *pool = nn_pool_create(threads);
    ck_assert_int_eq(nn_graph_alloc(&g, s->train.batch_size, threads, err, sizeof err), 0);
    nn_graph_init_params(&g, s->seed);
    struct nn_run_opts o = {.pool = pool, .threads = threads, .dir = dir, .resume = resume,
                            .stop = stop ? &stop->flag : NULL,
                            .on_batch = stop ? stop_at : NULL, .ctx = stop};
    int rc = nn_run(&g, s, &train, &val, &test, &o, r, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    nn_pool_free(pool);
    nn_dataset_free(&train);
    nn_dataset_free(&val);
    nn_dataset_free(&test);
    nn_graph_free(&g);
    nn_spec_free(s);
    return r->status;
}

static char *slurp(const char *path)
{
    size_t len;
    char err[256];
    char *t = (char *)nn_read_file(path, &len, err, sizeof err);
    ck_assert_msg(t != NULL, "%s: %s", path, err);
    return t;
}

/* The runs that must resume bit-identically: the plain one; adamw with
 * clipnorm, l2, label smoothing and reduce_on_plateau (which reduces the
 * rate at the ends of epochs 2 and 3, min_delta being out of reach); sgd
 * with weight decay, global_clipnorm and a cosine schedule with warmup. */
static void resume_spec(int i, char *buf, size_t n)
{
    static const char *const optim[] = {
        "",
        "  optimizer: {name: adamw, learning_rate: 0.01, clipnorm: 0.5}\n  l2: 0.001\n"
        "  label_smoothing: 0.1\n  lr_schedule: {name: reduce_on_plateau, monitor: loss, "
        "factor: 0.5, patience: 1, min_delta: 100}\n",
        "  optimizer: {name: sgd, learning_rate: 0.1, momentum: 0.9, weight_decay: 0.01, "
        "global_clipnorm: 1}\n  lr_schedule: {name: cosine, warmup_epochs: 1, alpha: 0.1}\n",
    };
    const char *from = "  optimizer: {name: adam, learning_rate: 0.01}\n";
    const char *at = strstr(small, from);
    ck_assert_ptr_nonnull(at);
    snprintf(buf, n, "%.*s%s%s", (int)(at - small), small, i ? optim[i] : from,
             at + strlen(from));
}

/* The learning rate of the last step of epoch e (from 0) of resume_spec(i):
 * 23 steps an epoch, 4 epochs. */
static double resume_lr(int i, int e)
{
    const double lr0 = i < 2 ? 0.01f : 0.1f, alpha = 0.1f;   /* the spec's floats */
    if (i == 0) return lr0;
    if (i == 1) return lr0 * (e < 2 ? 1 : e == 2 ? 0.5 : 0.25);
    const double step = 23.0 * e + 22, warm = 23, decay = 92 - 23;
    if (step < warm) return lr0 * step / warm;
    return lr0 * ((1 - alpha) * 0.5 * (1 + cos(M_PI * (step - warm) / decay)) + alpha);
}

/* metrics.csv without its seconds column (the one before lr, the last) */
static char *metrics_without_time(const char *dir)
{
    char *t = slurp(path_in(dir, "metrics.csv"));
    char *out = t;
    for (const char *line = t; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *last = end, *comma;
        while (last > line && *last != ',') last--;
        comma = last - 1;
        while (comma > line && *comma != ',') comma--;
        memmove(out, line, (size_t)(comma - line));
        out += comma - line;
        memmove(out, last, (size_t)(end - last));
        out += end - last;
        *out++ = '\n';
        line = nl ? nl + 1 : end;
    }
    *out = '\0';
    return t;
}

/* dir1/model.nnw and dir2/model.nnw hold the same bytes. */
static void assert_same_weights(const char *dir1, const char *dir2)
{
    size_t l1, l2;
    char err[256];
    uint8_t *w1 = nn_read_file(path_in(dir1, "model.nnw"), &l1, err, sizeof err);
    ck_assert_msg(w1 != NULL, "%s", err);
    uint8_t *w2 = nn_read_file(path_in(dir2, "model.nnw"), &l2, err, sizeof err);
    ck_assert_msg(w2 != NULL, "%s", err);
    ck_assert_uint_eq(l1, l2);
    ck_assert_mem_eq(w1, w2, l1);
    free(w1);
    free(w2);
}

START_TEST(test_resume_identical)
{
    char yaml[4096];
    resume_spec(_i, yaml, sizeof yaml);
    make_tmp();
    char full[300], part[300];
    snprintf(full, sizeof full, "%s/full", tmpdir);
    snprintf(part, sizeof part, "%s/part", tmpdir);
    char err[256];
    ck_assert_int_eq(nn_mkdirs(full, err, sizeof err), 0);
    ck_assert_int_eq(nn_mkdirs(part, err, sizeof err), 0);
    struct nn_run_result a, b;
    ck_assert_int_eq(run_in(yaml, full, 0, 1, NULL, &a), 0);
    ck_assert_int_eq(a.epochs_run, 4);
    ck_assert_double_gt(a.test.accuracy, 0.9);   /* the quadrants are learnt */
    /* the learning rate of each epoch's last step, as metrics.csv's last column */
    for (int e = 0; e < 4; e++) {
        const double want = resume_lr(_i, e);
        ck_assert_msg(a.rows[e].train.lr == (double)(float)want, "spec %d epoch %d: lr %.9g, "
                      "expected %.9g", _i, e + 1, a.rows[e].train.lr, want);
    }
    /* stop in the middle of epoch 1 (23 batches an epoch: no metrics row
     * yet), then at 2 threads in the middle of epoch 2, then in epoch 3,
     * then finish */
    const uint64_t stops[] = {11, 23 + 11, 2 * 23 + 5};
    for (int k = 0; k < 3; k++) {
        struct stopper st = {0, stops[k]};
        ck_assert_int_eq(run_in(yaml, part, k > 0, 1 + k % 2, &st, &b), 1);
        ck_assert_int_eq(b.epochs_run, k);
        nn_run_result_free(&b);
    }
    ck_assert_int_eq(run_in(yaml, part, 1, 1, NULL, &b), 0);
    ck_assert_int_eq(b.epochs_run, 4);
    /* the same weights, metrics and results, byte for byte */
    assert_same_weights(full, part);
    char *ma = metrics_without_time(full), *mb = metrics_without_time(part);
    ck_assert_str_eq(ma, mb);
    ck_assert(a.test.loss == b.test.loss && a.test.accuracy == b.test.accuracy);
    ck_assert_mem_eq(a.confusion, b.confusion, 16 * sizeof *a.confusion);
    /* results.json names the spec's hash; spec.yaml reproduces the run */
    char *res = slurp(path_in(full, "results.json"));
    struct nn_spec *s = t_spec(yaml);
    char hash[40];
    snprintf(hash, sizeof hash, "\"spec_hash\": \"%016llx\"", (unsigned long long)nn_spec_hash(s));
    ck_assert_ptr_nonnull(strstr(res, hash));
    char *resolved = slurp(path_in(full, "spec.yaml"));
    char again[300];
    snprintf(again, sizeof again, "%s/again", tmpdir);
    ck_assert_int_eq(nn_mkdirs(again, err, sizeof err), 0);
    struct nn_run_result c;
    ck_assert_int_eq(run_in(resolved, again, 0, 2, NULL, &c), 0);
    ck_assert(c.test.loss == a.test.loss);
    assert_same_weights(full, again);
    free(ma), free(mb), free(res), free(resolved);
    nn_spec_free(s);
    nn_run_result_free(&a);
    nn_run_result_free(&b);
    nn_run_result_free(&c);
    rm_tmp();
}
END_TEST

/* A run begun by an nnrun whose metrics.csv had no lr column resumes: its
 * rows get lr "nan" (unknown), the new rows their rate, and the weights are
 * those of an uninterrupted run. */
START_TEST(test_resume_metrics_without_lr)
{
    char yaml[4096];
    resume_spec(0, yaml, sizeof yaml);
    make_tmp();
    char full[300], part[300], err[256];
    snprintf(full, sizeof full, "%s/full", tmpdir);
    snprintf(part, sizeof part, "%s/part", tmpdir);
    ck_assert_int_eq(nn_mkdirs(full, err, sizeof err), 0);
    ck_assert_int_eq(nn_mkdirs(part, err, sizeof err), 0);
    struct nn_run_result a, b;
    ck_assert_int_eq(run_in(yaml, full, 0, 1, NULL, &a), 0);
    struct stopper st = {0, 2 * 23 + 5};   /* in epoch 3: two rows */
    ck_assert_int_eq(run_in(yaml, part, 0, 1, &st, &b), 1);
    nn_run_result_free(&b);
    /* the old layout: every line without its last column */
    char *t = slurp(path_in(part, "metrics.csv"));
    FILE *f = fopen(path_in(part, "metrics.csv"), "w");
    ck_assert_ptr_nonnull(f);
    int rows = 0;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"), rows++)
        fprintf(f, "%.*s\n", (int)(strrchr(line, ',') - line), line);
    fclose(f);
    free(t);
    ck_assert_int_eq(rows, 3);
    ck_assert_int_eq(run_in(yaml, part, 1, 2, NULL, &b), 0);
    ck_assert_int_eq(b.epochs_run, 4);
    assert_same_weights(full, part);
    char *m = slurp(path_in(part, "metrics.csv"));
    char *line = strtok(m, "\n");
    ck_assert_str_eq(line, "epoch,loss,accuracy,mse,test_loss,test_accuracy,test_mse,seconds,lr");
    for (int e = 0; e < 4; e++) {
        line = strtok(NULL, "\n");
        ck_assert_ptr_nonnull(line);
        const char *lr = strrchr(line, ',') + 1;
        if (e < 2) ck_assert_str_eq(lr, "nan");
        else ck_assert_msg((float)strtod(lr, NULL) == (float)a.rows[e].train.lr, "epoch %d: %s",
                                e + 1, line);
    }
    free(m);
    nn_run_result_free(&a);
    nn_run_result_free(&b);
    rm_tmp();
}
END_TEST

START_TEST(test_resume_refuses_other_spec)
{
    make_tmp();
    struct nn_run_result a;
    struct stopper st = {0, 30};
    ck_assert_int_eq(run_in(small, tmpdir, 0, 1, &st, &a), 1);
    nn_run_result_free(&a);
    /* the same model with another seed */
    char other[4096];
    snprintf(other, sizeof other, "%s", small);
    other[6] = '6';
    struct nn_graph g;
    struct nn_spec *s = t_model(other, &g);
    struct nn_dataset train, val = {0}, test;
    quadrants(&train, 230, 1);
    quadrants(&test, 50, 2);
    char err[512];
    ck_assert_int_eq(nn_graph_alloc(&g, s->train.batch_size, 1, err, sizeof err), 0);
    struct nn_run_opts o = {.dir = tmpdir, .resume = 1, .threads = 1};
    ck_assert_int_eq(nn_run(&g, s, &train, &val, &test, &o, &a, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "was written for a spec with hash"));
    ck_assert_ptr_nonnull(strstr(err, "this spec's hash is"));
    nn_run_result_free(&a);
    nn_dataset_free(&train);
    nn_dataset_free(&test);
    nn_graph_free(&g);
    nn_spec_free(s);
    rm_tmp();
}
END_TEST

/* min_delta larger than any change: no epoch after the first improves, so
 * Keras' rule stops after epoch 2 with epoch 1 the best */
START_TEST(test_early_stopping)
{
    make_tmp();
    char yaml[4300];
    snprintf(yaml, sizeof yaml, "%s%s",
             edit(small, "data: {classes: 4}", "data: {classes: 4, validation_split: 0.13}"),
             "  early_stopping: {monitor: val_loss, patience: 1, min_delta: 100,"
             " restore_best_weights: true}\n");
    struct nn_run_result r;
    ck_assert_int_eq(run_in(yaml, tmpdir, 0, 1, NULL, &r), 0);
    ck_assert_int_eq(r.epochs_run, 2);
    ck_assert_int_eq(r.stopped_early, 1);
    ck_assert_int_eq(r.best_epoch, 1);
    ck_assert_str_eq(r.rows[0].eval_name, "val");
    ck_assert_int_eq(r.rows[0].eval.n, 30);   /* the held-out 30 of 230 */
    /* restored: the final weights are the best epoch's */
    size_t la, lb;
    char err[256];
    struct nn_ckpt best, model;
    ck_assert_int_eq(nn_ckpt_read(path_in(tmpdir, "best.nnw"), 0, &best, err, sizeof err), 0);
    ck_assert_int_eq(nn_ckpt_read(path_in(tmpdir, "model.nnw"), 0, &model, err, sizeof err), 0);
    ck_assert_mem_eq(best.params, model.params, best.n_params * sizeof(float));
    nn_ckpt_free(&best);
    nn_ckpt_free(&model);
    char *csv = slurp(path_in(tmpdir, "metrics.csv"));
    ck_assert_ptr_nonnull(strstr(csv, "epoch,loss,accuracy,mse,val_loss,val_accuracy,val_mse,"
                                      "seconds,lr\n1,"));
    ck_assert_ptr_null(strstr(csv, "\n3,"));
    free(csv);
    (void)la, (void)lb;
    nn_run_result_free(&r);
    rm_tmp();
}
END_TEST

/* A NaN that appears in epoch 3 (poked into a weight, as a diverging run
 * would make one) stops the run there, naming the layer; epoch 2's
 * checkpoint stays whole and loads. */
static void poke_nan(void *ctx, const struct nn_trainer *t, size_t n_batches)
{
    (void)ctx;
    (void)n_batches;
    if (t->step == 2 * 23 + 3) t->g->params[t->g->n_params - 1] = NAN;
}

START_TEST(test_nan_keeps_checkpoint)
{
    make_tmp();
    struct nn_graph g;
    struct nn_spec *s = t_model(small, &g);
    struct nn_dataset train, val = {0}, test;
    quadrants(&train, 230, 1);
    quadrants(&test, 50, 2);
    char err[512];
    ck_assert_int_eq(nn_graph_alloc(&g, s->train.batch_size, 1, err, sizeof err), 0);
    nn_graph_init_params(&g, s->seed);
    struct nn_run_opts o = {.dir = tmpdir, .threads = 1, .on_batch = poke_nan};
    struct nn_run_result r;
    ck_assert_int_eq(nn_run(&g, s, &train, &val, &test, &o, &r, err, sizeof err), -1);
    ck_assert_str_eq(err, "the loss became NaN at epoch 3, batch 4 of 23 (first in the "
                          "output of layer 'dense_2'); try a smaller learning rate");
    ck_assert_int_eq(r.epochs_run, 2);
    struct nn_ckpt c;
    ck_assert_int_eq(nn_ckpt_read(path_in(tmpdir, "checkpoint.nnc"), 0, &c, err, sizeof err), 0);
    ck_assert_int_eq(c.epoch, 2);
    ck_assert_uint_eq(c.batch, 0);
    for (size_t i = 0; i < c.n_params; i++) ck_assert(isfinite(c.params[i]));
    nn_ckpt_free(&c);
    nn_run_result_free(&r);
    nn_dataset_free(&train);
    nn_dataset_free(&test);
    nn_graph_free(&g);
    nn_spec_free(s);
    rm_tmp();
}
END_TEST

START_TEST(test_validation_split)
{
    struct nn_dataset a, b;
    quadrants(&a, 10, 9);
    uint8_t labels[10], img9[36];
    memcpy(labels, a.labels, 10);
    memcpy(img9, a.images + 9 * 36, 36);
    nn_dataset_split(&a, &b, 7);
    ck_assert_uint_eq(a.n, 7);
    ck_assert_uint_eq(b.n, 3);
    ck_assert_mem_eq(b.labels, labels + 7, 3);
    ck_assert_mem_eq(b.images + 2 * 36, img9, 36);
    ck_assert_int_eq(b.h, 6);
    nn_dataset_free(&a);
    nn_dataset_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("run");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ckpt_round_trip);
    tcase_add_test(tc, test_ckpt_corrupt);
    tcase_add_test(tc, test_resolved_spec_round_trip);
    tcase_add_test(tc, test_monitor_needs_validation);
    tcase_add_loop_test(tc, test_resume_identical, 0, 3);
    tcase_add_test(tc, test_resume_metrics_without_lr);
    tcase_add_test(tc, test_resume_refuses_other_spec);
    tcase_add_test(tc, test_early_stopping);
    tcase_add_test(tc, test_nan_keeps_checkpoint);
    tcase_add_test(tc, test_validation_split);
    suite_add_tcase(s, tc);
    return t_run(s);
}
