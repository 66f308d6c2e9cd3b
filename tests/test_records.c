/* test_records.c - the bounded record readers: nn_open_regular and
 * nn_read_file_max on devices, FIFOs, directories and files over their
 * cap; nn_ckpt_read and nn_ckpt_read_header on the same and on headers
 * declaring more than the file or the model holds; a checkpoint with
 * impossible counters under a correct CRC; nn_ckpt_check_position against
 * the run it would resume. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common.h"
#include "nnrun/checkpoint.h"
#include "nnrun/util.h"

static char tmpdir[256];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnrun-test-records-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *path_in(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* ---- nn_open_regular, nn_read_file_max ---------------------------------- */

/* What each kind of non-file is called; the FIFO has no writer, so a
 * blocking open would hang the test (Check kills it after its timeout). */
START_TEST(test_read_refuses_non_files)
{
    make_tmp();
    ck_assert_int_eq(mkfifo(path_in("fifo"), 0600), 0);
    ck_assert_int_eq(mkdir(path_in("dir"), 0700), 0);
    static const struct {
        const char *path, *says;
    } cases[] = {
        {"/dev/zero", "is a character device, not a regular file"},
        {"/dev/urandom", "is a character device, not a regular file"},
        {NULL, "is a FIFO (named pipe), not a regular file"},
        {"", "is a directory, not a regular file"},
        {"/nonexistent/x", "cannot open: No such file or directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = !cases[i].path ? path_in("fifo")
                        : !cases[i].path[0] ? path_in("dir") : cases[i].path;
        char err[256] = "";
        size_t len = 7;
        const time_t t0 = time(NULL);
        ck_assert_ptr_null(nn_read_file_max(p, 0, &len, err, sizeof err));
        ck_assert_msg(strstr(err, cases[i].says), "%s: '%s'", p, err);
        ck_assert_uint_eq(len, 7);   /* untouched */
        uint64_t size;
        ck_assert_int_eq(nn_open_regular(p, 0, &size, err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].says), "%s: '%s'", p, err);
        /* checkpoints and weights go through the same open */
        struct nn_ckpt c;
        ck_assert_int_eq(nn_ckpt_read(p, 100, &c, err, sizeof err), -1);
        ck_assert_msg(!strncmp(err, p, strlen(p)) && strstr(err, cases[i].says), "'%s'", err);
        ck_assert_ptr_null(c.params);
        ck_assert_int_eq(nn_ckpt_read_header(p, 100, &c, err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].says), "'%s'", err);
        ck_assert(time(NULL) - t0 < 3);
    }
    rm_tmp();
}
END_TEST

START_TEST(test_read_caps)
{
    make_tmp();
    char text[1000];
    memset(text, 'a', sizeof text);
    write_bytes(path_in("t"), text, sizeof text);
    char err[256];
    size_t len;
    uint8_t *b = nn_read_file_max(path_in("t"), 1000, &len, err, sizeof err);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(len, 1000);
    ck_assert_int_eq(b[1000], 0);   /* NUL-terminated */
    ck_assert_mem_eq(b, text, 1000);
    free(b);
    ck_assert_ptr_null(nn_read_file_max(path_in("t"), 999, &len, err, sizeof err));
    ck_assert_str_eq(err, "is 1000 bytes, more than the 999 this file may have");
    /* a sparse file far over the default cap is refused from its size */
    const int fd = open(path_in("sparse"), O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)1 << 40), 0);
    close(fd);
    ck_assert_ptr_null(nn_read_file(path_in("sparse"), &len, err, sizeof err));
    ck_assert_msg(strstr(err, "is 1099511627776 bytes, more than the 67108864"), "%s", err);
    /* an empty file is read: 0 bytes */
    write_bytes(path_in("e"), "", 0);
    b = nn_read_file_max(path_in("e"), 10, &len, err, sizeof err);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(len, 0);
    free(b);
    rm_tmp();
}
END_TEST

/* ---- checkpoints: headers against the file and the model ----------------- */

enum { N = 200 };

/* A training state as training writes it: 3 epochs of 40 batches done and
 * 7 batches of 16 samples into the 4th. */
static struct nn_ckpt good_state(float *p, float *s1, float *s2)
{
    t_fill(p, N, -1, 1, 1);
    t_fill(s1, N, 0, 1, 2);
    t_fill(s2, N, 0, 1, 3);
    return (struct nn_ckpt){.kind = NN_CKPT_TRAIN, .spec_hash = 77, .n_params = N, .n_state = 2,
                            .epoch = 3, .batch = 7, .step = 127, .optim_t = 127,
                            .sums = {80.5, 60, 9.25, 112}, .epoch_seconds = 2.5, .best = 0.5,
                            .best_epoch = 2, .wait = 1, .lr = 0.01f, .plateau_lr = 0.01f,
                            .plateau_best = 0.4, .plateau_wait = 1, .plateau_cooldown = 0,
                            .params = p, .state = {s1, s2}};
}

static uint8_t *file_of(const struct nn_ckpt *c, size_t *len)
{
    char err[256];
    ck_assert_int_eq(nn_ckpt_write(path_in("c.nnc"), c, err, sizeof err), 0);
    uint8_t *buf = nn_read_file(path_in("c.nnc"), len, err, sizeof err);
    ck_assert_ptr_nonnull(buf);
    return buf;
}

static void fix_crc(uint8_t *buf, size_t len)
{
    const uint32_t crc = (uint32_t)crc32_z(0L, buf, len - 4);
    for (int i = 0; i < 4; i++) buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

START_TEST(test_ckpt_header_against_file_and_model)
{
    make_tmp();
    float p[N], s1[N], s2[N];
    struct nn_ckpt c = good_state(p, s1, s2), r;
    size_t len;
    uint8_t *buf = file_of(&c, &len);
    char err[512];
    /* the model's count: more parameters in the file than in the model */
    ck_assert_int_eq(nn_ckpt_read(path_in("c.nnc"), N - 1, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "c.nnc: holds 200 parameters, the model has 199"), "%s", err);
    ck_assert_int_eq(nn_ckpt_read_header(path_in("c.nnc"), N - 1, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "holds 200 parameters, the model has 199"), "%s", err);
    /* the header alone: fields, no arrays */
    ck_assert_int_eq(nn_ckpt_read_header(path_in("c.nnc"), N, &r, err, sizeof err), 0);
    ck_assert_uint_eq(r.n_params, N);
    ck_assert_uint_eq(r.spec_hash, 77);
    ck_assert_ptr_null(r.params);
    /* 2^40 parameters declared, with a matching payload size, a correct CRC
     * and a compressed length that fills a sparse file of 2^36 bytes: refused
     * from the 168 header bytes, nothing of the payload read */
    uint8_t h[NN_CKPT_HEADER];
    memcpy(h, buf, sizeof h);
    const uint64_t big = (uint64_t)1 << 40, file = (uint64_t)1 << 36;
    put64(h + 24, big);
    put64(h + 120, big * 12);
    put64(h + 128, file - NN_CKPT_HEADER - 4);
    const int fd = open(path_in("big.nnc"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, h, sizeof h), (ssize_t)sizeof h);
    ck_assert_int_eq(ftruncate(fd, (off_t)file), 0);
    close(fd);
    const time_t t0 = time(NULL);
    ck_assert_int_eq(nn_ckpt_read(path_in("big.nnc"), 1000, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "big.nnc: holds 1099511627776 parameters, the model has 1000"),
                  "%s", err);
    ck_assert_int_eq(nn_ckpt_read(path_in("big.nnc"), 0, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "holds 1099511627776 parameters, more than the 4294967296"), "%s",
                  err);
    /* a size beyond what the declared parameters compress to */
    put64(h + 24, N);
    put64(h + 120, (uint64_t)N * 12);
    ck_assert_int_eq(nn_ckpt_decode(h, sizeof h, 0, &r, err, sizeof err), -1);
    const int fd2 = open(path_in("big.nnc"), O_WRONLY, 0600);
    ck_assert_int_eq(pwrite(fd2, h, sizeof h, 0), (ssize_t)sizeof h);
    close(fd2);
    ck_assert_int_eq(nn_ckpt_read(path_in("big.nnc"), 0, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "big.nnc: bad header: 200 parameters, 2400 payload bytes from "
                              "68719476564 compressed"), "%s", err);
    ck_assert(time(NULL) - t0 < 3);
    /* a compressed length beyond the file */
    put64(buf + 128, 1u << 30);
    fix_crc(buf, len);
    write_bytes(path_in("t.nnc"), buf, len);
    ck_assert_int_eq(nn_ckpt_read(path_in("t.nnc"), N, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "truncated or padded: the header promises 1073741824"), "%s", err);
    /* the file cut short, the magic wrong */
    memcpy(buf, "NNRUNCKX", 8);
    write_bytes(path_in("m.nnc"), buf, len);
    ck_assert_int_eq(nn_ckpt_read(path_in("m.nnc"), N, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "m.nnc: not an nnrun checkpoint or weights file"), "%s", err);
    write_bytes(path_in("s.nnc"), "NNRUNCKP\3\0\0\0", 12);
    ck_assert_int_eq(nn_ckpt_read(path_in("s.nnc"), N, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "s.nnc: truncated: 12 bytes"), "%s", err);
    write_bytes(path_in("z.nnc"), "", 0);
    ck_assert_int_eq(nn_ckpt_read(path_in("z.nnc"), N, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "too short"), "%s", err);
    free(buf);
    rm_tmp();
}
END_TEST

/* ---- impossible counters under a correct CRC ------------------------------ */

static void neg_samples(struct nn_ckpt *c) { c->sums.n = -5; }
static void absurd_samples(struct nn_ckpt *c) { c->sums.n = 3; }   /* fewer than the batches */
static void samples_at_batch_0(struct nn_ckpt *c) { c->batch = 0, c->step = 120, c->optim_t = 120; }
static void big_epoch(struct nn_ckpt *c) { c->epoch = 2000000, c->step = 2000000 * 40 + 7, c->optim_t = (int64_t)c->step; }
static void batch_over_step(struct nn_ckpt *c) { c->batch = 500; }
static void step_not_multiple(struct nn_ckpt *c) { c->step = 128, c->optim_t = 128; }
static void batch_over_epoch(struct nn_ckpt *c) { c->batch = 50, c->step = 170, c->optim_t = 170; }
static void optim_off(struct nn_ckpt *c) { c->optim_t = 126; }
static void neg_loss(struct nn_ckpt *c) { c->sums.loss = -1; }
static void nan_loss(struct nn_ckpt *c) { c->sums.loss = NAN; }
static void correct_over_n(struct nn_ckpt *c) { c->sums.correct = 113; }
static void neg_seconds(struct nn_ckpt *c) { c->epoch_seconds = -1; }
static void best_epoch_ahead(struct nn_ckpt *c) { c->best_epoch = 4; }
static void neg_wait(struct nn_ckpt *c) { c->wait = -1; }
static void nan_best(struct nn_ckpt *c) { c->best = NAN; }
static void neg_lr(struct nn_ckpt *c) { c->lr = -0.5f; }
static void inf_plateau_lr(struct nn_ckpt *c) { c->plateau_lr = INFINITY; }
static void plateau_wait_ahead(struct nn_ckpt *c) { c->plateau_wait = 9; }
static void neg_cooldown(struct nn_ckpt *c) { c->plateau_cooldown = -3; }

static const struct {
    void (*spoil)(struct nn_ckpt *c);
    const char *says;
} spoilers[] = {
    {neg_samples, "impossible running sums"},
    {absurd_samples, "impossible running sums"},
    {samples_at_batch_0, "impossible running sums"},
    {big_epoch, "an epoch beyond any spec's"},
    {batch_over_step, "a step that is not the epochs' batches plus the batch"},
    {step_not_multiple, "a step that is not the epochs' batches plus the batch"},
    {batch_over_epoch, "a step that is not the epochs' batches plus the batch"},
    {optim_off, "an optimizer step count other than the step"},
    {neg_loss, "impossible running sums"},
    {nan_loss, "impossible running sums"},
    {correct_over_n, "impossible running sums"},
    {neg_seconds, "impossible seconds"},
    {best_epoch_ahead, "an impossible early-stopping state"},
    {neg_wait, "an impossible early-stopping state"},
    {nan_best, "an impossible early-stopping state"},
    {neg_lr, "an impossible learning-rate state"},
    {inf_plateau_lr, "an impossible learning-rate state"},
    {plateau_wait_ahead, "an impossible learning-rate state"},
    {neg_cooldown, "an impossible learning-rate state"},
};

/* Each spoiled state is written with a correct CRC (nn_ckpt_write) and
 * refused by the reader, with what is wrong; the good one loads. */
START_TEST(test_ckpt_impossible_counters)
{
    make_tmp();
    float p[N], s1[N], s2[N];
    struct nn_ckpt c = good_state(p, s1, s2), r;
    char err[512];
    ck_assert_int_eq(nn_ckpt_write(path_in("c.nnc"), &c, err, sizeof err), 0);
    ck_assert_msg(nn_ckpt_read(path_in("c.nnc"), N, &r, err, sizeof err) == 0, "%s", err);
    nn_ckpt_free(&r);
    c = good_state(p, s1, s2);
    spoilers[_i].spoil(&c);
    ck_assert_int_eq(nn_ckpt_write(path_in("c.nnc"), &c, err, sizeof err), 0);
    ck_assert_int_eq(nn_ckpt_read(path_in("c.nnc"), N, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, spoilers[_i].says) && strstr(err, "not a state training writes") &&
                  strstr(err, "c.nnc: holds "), "case %d: %s", _i, err);
    ck_assert_ptr_null(r.params);
    /* the same bytes through nn_ckpt_decode */
    size_t len;
    uint8_t *buf = nn_read_file(path_in("c.nnc"), &len, err, sizeof err);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(nn_ckpt_decode(buf, len, 0, &r, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, spoilers[_i].says));
    free(buf);
    rm_tmp();
}
END_TEST

/* ---- the position against the run it would resume ------------------------ */

START_TEST(test_ckpt_position)
{
    float p[N], s1[N], s2[N];
    struct nn_ckpt c = good_state(p, s1, s2);
    char err[256];
    /* 10 epochs of 40 batches of 16 */
    ck_assert_msg(nn_ckpt_check_position(&c, 10, 40, 16, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(nn_ckpt_check_position(&c, 3, 40, 16, err, sizeof err), -1);
    ck_assert_str_eq(err, "is after 3 epochs and 7 batches; the spec trains 3 epochs");
    ck_assert_int_eq(nn_ckpt_check_position(&c, 2, 40, 16, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "the spec trains 2 epochs"));
    ck_assert_int_eq(nn_ckpt_check_position(&c, 10, 7, 16, err, sizeof err), -1);
    ck_assert_str_eq(err, "is after 7 batches of an epoch; the spec's epochs have 7 batches");
    ck_assert_int_eq(nn_ckpt_check_position(&c, 10, 39, 16, err, sizeof err), -1);
    ck_assert_str_eq(err, "holds step 127 after 3 epochs and 7 batches; with 39 batches an "
                          "epoch that is step 124");
    ck_assert_int_eq(nn_ckpt_check_position(&c, 10, 40, 15, err, sizeof err), -1);
    ck_assert_str_eq(err, "holds running sums over 112 samples after 7 batches of 15");
    /* a finished run: epochs done, at batch 0 */
    c.epoch = 10, c.batch = 0, c.step = 400, c.sums.n = 0;
    ck_assert_msg(nn_ckpt_check_position(&c, 10, 40, 16, err, sizeof err) == 0, "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("records");
    TCase *tc = tcase_create("records");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_read_refuses_non_files);
    tcase_add_test(tc, test_read_caps);
    tcase_add_test(tc, test_ckpt_header_against_file_and_model);
    tcase_add_loop_test(tc, test_ckpt_impossible_counters, 0,
                        (int)(sizeof spoilers / sizeof spoilers[0]));
    tcase_add_test(tc, test_ckpt_position);
    suite_add_tcase(s, tc);
    return t_run(s);
}
