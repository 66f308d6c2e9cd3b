/* test_data.c - IDX reading and writing, data set loading and the search for
 * Fashion-MNIST.  Each test works in its own mkdtemp directory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "nnrun/data.h"
#include "../src/data/source.h"   /* the bounded source, tested directly */

#define SYS_DIR "/usr/share/datasets/fashion-mnist"

static char root[512];  /* per test case, removed even when a test fails */
static char tmp[600];   /* this test's scratch directory, inside root */
static char err[2048];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void root_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/nnrun-test-data-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(root)) {
        perror(root);
        exit(EXIT_FAILURE);
    }
}

static void root_teardown(void)
{
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    snprintf(tmp, sizeof tmp, "%s/t-XXXXXX", root);
    ck_assert_msg(mkdtemp(tmp) != NULL, "mkdtemp: %s", strerror(errno));
    err[0] = '\0';
}

static void teardown(void)
{
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmp/name, in a static ring of buffers so a test can hold several */
static const char *at(const char *name)
{
    static char ring[8][1024];
    static int next;
    char *p = ring[next++ % 8];
    snprintf(p, sizeof ring[0], "%s/%s", tmp, name);
    return p;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (uint8_t)(seed >> 24);
    }
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static size_t read_bytes(const char *path, uint8_t *p, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(p, 1, cap, f);
    fclose(f);
    return n;
}

static off_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

/* Writes n images of h x w (rank 3) and n labels (i % classes). */
static void write_set(const char *images, const char *labels, uint32_t n, uint32_t h, uint32_t w,
                      int classes)
{
    uint32_t idims[3] = {n, h, w}, ldims[1] = {n};
    uint8_t *im = malloc((size_t)n * h * w + 1), *lb = malloc(n + 1);
    fill(im, (size_t)n * h * w, n);
    for (uint32_t i = 0; i < n; i++) lb[i] = (uint8_t)(i % (uint32_t)classes);
    ck_assert_msg(nn_idx_write(images, im, 3, idims, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(nn_idx_write(labels, lb, 1, ldims, err, sizeof err) == 0, "%s", err);
    free(im);
    free(lb);
}

/* Asserts that reading path fails with a message naming path and holding want. */
static void expect_read_error(const char *path, const char *want)
{
    uint8_t *data = (uint8_t *)&data;   /* must come back NULL */
    uint32_t dims[8];
    int rank = -1;
    ck_assert_int_eq(nn_idx_read(path, &data, &rank, dims, 8, err, sizeof err), -1);
    ck_assert_ptr_null(data);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "message does not start with the path: %s",
                  err);
    ck_assert_msg(strstr(err, want) != NULL, "expected \"%s\" in: %s", want, err);
    ck_assert_ptr_null(strchr(err, '\n'));
}

static void expect_load_error(const char *images, const char *labels, int classes,
                              const char *want)
{
    struct nn_dataset ds;
    memset(&ds, 0xAB, sizeof ds);
    ck_assert_int_eq(nn_dataset_load(&ds, images, labels, classes, err, sizeof err), -1);
    ck_assert_ptr_null(ds.images);
    ck_assert_ptr_null(ds.labels);
    ck_assert_uint_eq(ds.n, 0);
    ck_assert_msg(strstr(err, want) != NULL, "expected \"%s\" in: %s", want, err);
    ck_assert_ptr_null(strchr(err, '\n'));
}

/* ---- IDX files ------------------------------------------------------------ */

static void roundtrip(const char *name, int rank, const uint32_t *dims)
{
    size_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    uint8_t *src = malloc(total);
    fill(src, total, (uint32_t)rank * 77u + (uint32_t)total);
    const char *path = at(name);
    ck_assert_msg(nn_idx_write(path, src, rank, dims, err, sizeof err) == 0, "%s", err);

    /* on disk: gzip member for .gz, the bare IDX bytes otherwise */
    uint8_t head[8];
    ck_assert_uint_ge(read_bytes(path, head, sizeof head), 4);
    size_t len = strlen(path);
    if (!strcmp(path + len - 3, ".gz")) {
        ck_assert_uint_eq(head[0], 0x1f);
        ck_assert_uint_eq(head[1], 0x8b);
    } else {
        ck_assert_uint_eq(head[0], 0);
        ck_assert_uint_eq(head[1], 0);
        ck_assert_uint_eq(head[2], 0x08);
        ck_assert_uint_eq(head[3], rank);
        ck_assert_int_eq(file_size(path), (off_t)(4 + 4 * rank + total));
    }

    uint8_t *data = NULL;
    uint32_t got[8];
    int r = 0;
    ck_assert_msg(nn_idx_read(path, &data, &r, got, 8, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(r, rank);
    for (int i = 0; i < rank; i++) ck_assert_uint_eq(got[i], dims[i]);
    ck_assert_int_eq(memcmp(data, src, total), 0);
    free(data);
    free(src);
}

START_TEST(test_roundtrip)
{
    static const uint32_t d1[] = {1000}, d3[] = {7, 28, 28}, d4[] = {5, 4, 3, 2};
    static const uint32_t big[] = {64, 128, 128};   /* 1 MiB, several inflate rounds */
    roundtrip("labels", 1, d1);
    roundtrip("labels.gz", 1, d1);
    roundtrip("images", 3, d3);
    roundtrip("images.gz", 3, d3);
    roundtrip("rank4", 4, d4);
    roundtrip("rank4.gz", 4, d4);
    roundtrip("big.gz", 3, big);
    roundtrip("big", 3, big);
}
END_TEST

START_TEST(test_exact_bytes)
{
    /* the format byte for byte: 00 00 08 02, dims 2 and 3 big-endian, payload */
    static const uint8_t payload[6] = {0, 1, 2, 253, 254, 255};
    static const uint32_t dims[2] = {2, 3};
    static const uint8_t want[18] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 253, 254, 255};
    ck_assert_int_eq(nn_idx_write(at("m"), payload, 2, dims, err, sizeof err), 0);
    uint8_t got[32];
    ck_assert_uint_eq(read_bytes(at("m"), got, sizeof got), sizeof want);
    ck_assert_int_eq(memcmp(got, want, sizeof want), 0);

    /* a hand-made big-endian header with a dimension over 255 */
    uint8_t file[4 + 4 + 300] = {0, 0, 8, 1, 0, 0, 0x01, 0x2c};
    fill(file + 8, 300, 3);
    write_bytes(at("h"), file, sizeof file);
    uint8_t *data;
    uint32_t d[1];
    int rank;
    ck_assert_int_eq(nn_idx_read(at("h"), &data, &rank, d, 1, err, sizeof err), 0);
    ck_assert_int_eq(rank, 1);
    ck_assert_uint_eq(d[0], 300);
    ck_assert_int_eq(memcmp(data, file + 8, 300), 0);
    free(data);
    /* max_rank bounds the dims array */
    uint32_t d3[3] = {2, 3, 4};
    uint8_t px[24] = {0};
    ck_assert_int_eq(nn_idx_write(at("r3"), px, 3, d3, err, sizeof err), 0);
    data = (uint8_t *)&data;
    ck_assert_int_eq(nn_idx_read(at("r3"), &data, &rank, d3, 2, err, sizeof err), -1);
    ck_assert_ptr_null(data);
    ck_assert_msg(strstr(err, "rank 3; expected at most 2") != NULL, "%s", err);
}
END_TEST

START_TEST(test_truncated)
{
    write_set(at("im"), at("lb"), 50, 28, 28, 10);
    write_set(at("im.gz"), at("lb.gz"), 50, 28, 28, 10);
    ck_assert_int_eq(truncate(at("im"), 1000), 0);
    expect_read_error(at("im"), "truncated");
    expect_read_error(at("im"), "expected 39200 bytes of image data, got 984");
    expect_load_error(at("im"), at("lb"), 10, "truncated");

    off_t gz = file_size(at("im.gz"));
    ck_assert_int_eq(truncate(at("im.gz"), gz / 2), 0);
    expect_read_error(at("im.gz"), "truncated");
    /* cut inside the gzip trailer: all data there, the checksum missing */
    write_set(at("im2.gz"), at("lb2.gz"), 50, 28, 28, 10);
    ck_assert_int_eq(truncate(at("im2.gz"), file_size(at("im2.gz")) - 3), 0);
    expect_read_error(at("im2.gz"), "truncated");

    /* inside the header */
    ck_assert_int_eq(truncate(at("lb"), 6), 0);
    expect_read_error(at("lb"), "truncated");
    ck_assert_int_eq(truncate(at("lb"), 2), 0);
    expect_read_error(at("lb"), "truncated");
    ck_assert_int_eq(truncate(at("lb"), 0), 0);
    expect_read_error(at("lb"), "empty file");
}
END_TEST

START_TEST(test_bad_magic)
{
    static const uint8_t zip[16] = {'P', 'K', 3, 4, 20, 0, 0, 0};
    write_bytes(at("zip"), zip, sizeof zip);
    expect_read_error(at("zip"), "not an IDX file (magic 0x504b0304)");
    /* a valid IDX type other than unsigned bytes: float32 */
    static const uint8_t f32[12] = {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0x80, 0x3f};
    write_bytes(at("f32"), f32, sizeof f32);
    expect_read_error(at("f32"), "type 0x0d");
    static const uint8_t rank0[8] = {0, 0, 8, 0, 1, 2, 3, 4};
    write_bytes(at("rank0"), rank0, sizeof rank0);
    expect_read_error(at("rank0"), "not an IDX file");
    /* a gzipped gzip file: the outer layer is undone, the inner one is not IDX */
    write_set(at("im.gz"), at("lb.gz"), 3, 2, 2, 2);
    uint8_t raw[4096];
    size_t n = read_bytes(at("im.gz"), raw, sizeof raw);
    gzFile g = gzopen(at("twice.gz"), "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzwrite(g, raw, (unsigned)n), (int)n);
    ck_assert_int_eq(gzclose(g), Z_OK);
    expect_read_error(at("twice.gz"), "not an IDX file (magic 0x1f8b0800)");
}
END_TEST

START_TEST(test_trailing)
{
    write_set(at("im"), at("lb"), 4, 3, 3, 2);
    FILE *f = fopen(at("lb"), "ab");
    ck_assert_ptr_nonnull(f);
    fputc(7, f);
    fclose(f);
    expect_read_error(at("lb"), "trailing data");
}
END_TEST

START_TEST(test_oversize)
{
    /* 65536 x 65536 x 2 = 8 GiB: refused from the header alone */
    static const uint8_t huge[16] = {0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2};
    write_bytes(at("huge"), huge, sizeof huge);
    expect_read_error(at("huge"), "4 GiB");
    /* eight dims of 2^31 - 1: the product overflows 64 bits */
    uint8_t over[4 + 32] = {0, 0, 8, 8};
    memset(over + 4, 0xff, 32);
    for (int i = 0; i < 8; i++) over[4 + 4 * i] = 0x7f;
    write_bytes(at("over"), over, sizeof over);
    expect_read_error(at("over"), "4 GiB");
    /* a dimension over INT_MAX never comes back (it would be -1 as an int) */
    static const uint8_t wide[16] = {0, 0, 8, 3, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1};
    write_bytes(at("wide"), wide, sizeof wide);
    expect_read_error(at("wide"), "dimension 2 of 3 in the IDX header is 4294967295, over "
                      "2147483647");
    /* 1 GiB announced, 10 bytes there: refused without a 1 GiB allocation */
    static const uint8_t lie[18] = {0, 0, 8, 1, 0x40, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    write_bytes(at("lie"), lie, sizeof lie);
    expect_read_error(at("lie"), "expected 1073741824 bytes of label data, got 10");
    /* writing refuses the same sizes */
    static const uint32_t dims[3] = {65536, 65536, 2};
    uint8_t dummy = 0;
    ck_assert_int_eq(nn_idx_write(at("w"), &dummy, 3, dims, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "4 GiB"));
    ck_assert_int_eq(access(at("w"), F_OK), -1);
}
END_TEST

START_TEST(test_corrupt_gzip)
{
    write_set(at("im.gz"), at("lb.gz"), 200, 28, 28, 10);
    off_t n = file_size(at("im.gz"));
    ck_assert_int_gt(n, 1000);
    int fd = open(at("im.gz"), O_RDWR);
    ck_assert_int_ge(fd, 0);
    uint8_t junk[64];
    memset(junk, 0x5a, sizeof junk);
    ck_assert_int_eq(pwrite(fd, junk, sizeof junk, n / 2), (ssize_t)sizeof junk);
    close(fd);
    expect_read_error(at("im.gz"), "corrupt gzip stream");
    expect_load_error(at("im.gz"), at("lb.gz"), 10, "corrupt gzip stream");
    /* a flipped byte in the gzip trailer's CRC */
    write_set(at("a.gz"), at("b.gz"), 20, 5, 5, 3);
    n = file_size(at("a.gz"));
    fd = open(at("a.gz"), O_RDWR);
    uint8_t c;
    ck_assert_int_eq(pread(fd, &c, 1, n - 6), 1);
    c ^= 0xff;
    ck_assert_int_eq(pwrite(fd, &c, 1, n - 6), 1);
    close(fd);
    expect_read_error(at("a.gz"), "corrupt gzip stream");
}
END_TEST

START_TEST(test_missing_file)
{
    expect_read_error(at("nope.gz"), "cannot open");
    expect_load_error(at("nope"), at("nope2"), 10, "nope: cannot open");
    uint8_t b = 1;
    uint32_t d[1] = {1};
    ck_assert_int_eq(nn_idx_write(at("no/such/dir.gz"), &b, 1, d, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot create"));
    ck_assert_int_eq(nn_idx_write(at("no/such/dir"), &b, 1, d, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot create"));
}
END_TEST

/* ---- data sets ------------------------------------------------------------ */

START_TEST(test_load)
{
    write_set(at("im.gz"), at("lb"), 30, 6, 5, 7);
    struct nn_dataset ds;
    ck_assert_msg(nn_dataset_load(&ds, at("im.gz"), at("lb"), 10, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_uint_eq(ds.n, 30);
    ck_assert_int_eq(ds.h, 6);
    ck_assert_int_eq(ds.w, 5);
    ck_assert_int_eq(ds.c, 1);
    ck_assert_int_eq(ds.n_classes, 10);   /* the spec's classes, though only 0..6 occur */
    uint8_t want[30 * 6 * 5];
    fill(want, sizeof want, 30);
    ck_assert_int_eq(memcmp(ds.images, want, sizeof want), 0);
    for (int i = 0; i < 30; i++) ck_assert_uint_eq(ds.labels[i], i % 7);
    nn_dataset_free(&ds);
    ck_assert_ptr_null(ds.images);
    nn_dataset_free(&ds);   /* twice is harmless */

    /* no class count given: 1 + the largest label */
    ck_assert_int_eq(nn_dataset_load(&ds, at("im.gz"), at("lb"), 0, err, sizeof err), 0);
    ck_assert_int_eq(ds.n_classes, 7);
    nn_dataset_free(&ds);
    ck_assert_int_eq(nn_dataset_load(&ds, at("im.gz"), at("lb"), 7, err, sizeof err), 0);
    ck_assert_int_eq(ds.n_classes, 7);
    nn_dataset_free(&ds);

    /* rank-4 images carry their channels */
    static const uint32_t d4[4] = {30, 4, 4, 3};
    uint8_t px[30 * 4 * 4 * 3];
    fill(px, sizeof px, 9);
    ck_assert_int_eq(nn_idx_write(at("rgb"), px, 4, d4, err, sizeof err), 0);
    ck_assert_int_eq(nn_dataset_load(&ds, at("rgb"), at("lb"), 7, err, sizeof err), 0);
    ck_assert_int_eq(ds.h, 4);
    ck_assert_int_eq(ds.w, 4);
    ck_assert_int_eq(ds.c, 3);
    ck_assert_int_eq(memcmp(ds.images, px, sizeof px), 0);
    nn_dataset_free(&ds);
}
END_TEST

START_TEST(test_count_mismatch)
{
    write_set(at("images.gz"), at("l5"), 59, 3, 3, 10);
    write_set(at("i6"), at("labels.gz"), 60, 3, 3, 10);
    char want[1200];
    snprintf(want, sizeof want, "%s: 60 labels but %s has 59 images", at("labels.gz"),
             at("images.gz"));
    expect_load_error(at("images.gz"), at("labels.gz"), 10, want);
}
END_TEST

START_TEST(test_label_range)
{
    write_set(at("im"), at("lb"), 8, 2, 2, 10);
    uint8_t lb[8] = {0, 1, 2, 3, 4, 12, 6, 7};
    uint32_t d[1] = {8};
    ck_assert_int_eq(nn_idx_write(at("labels.gz"), lb, 1, d, err, sizeof err), 0);
    char want[1200];
    snprintf(want, sizeof want, "%s: label 12 at index 5 is outside the 10 classes",
             at("labels.gz"));
    expect_load_error(at("im"), at("labels.gz"), 10, want);
    /* without a class count the labels define it */
    struct nn_dataset ds;
    ck_assert_int_eq(nn_dataset_load(&ds, at("im"), at("labels.gz"), 0, err, sizeof err), 0);
    ck_assert_int_eq(ds.n_classes, 13);
    nn_dataset_free(&ds);
    ck_assert_int_eq(nn_dataset_load(&ds, at("im"), at("labels.gz"), 13, err, sizeof err), 0);
    nn_dataset_free(&ds);
}
END_TEST

START_TEST(test_wrong_ranks)
{
    write_set(at("im"), at("lb"), 4, 2, 2, 2);
    /* labels given as images and the other way round */
    expect_load_error(at("lb"), at("lb"), 2, "rank 1");
    expect_load_error(at("im"), at("im"), 2, "labels must be an IDX file of rank 1");
    uint8_t px[16] = {0};
    static const uint32_t d2[2] = {4, 4}, d5[5] = {4, 1, 2, 2, 1};
    ck_assert_int_eq(nn_idx_write(at("r2"), px, 2, d2, err, sizeof err), 0);
    expect_load_error(at("r2"), at("lb"), 2, "not rank 2");
    ck_assert_int_eq(nn_idx_write(at("r5"), px, 5, d5, err, sizeof err), 0);
    expect_load_error(at("r5"), at("lb"), 2, "not rank 5");
    /* no images, or images of no pixels */
    static const uint32_t z0[3] = {0, 2, 2}, z1[1] = {0}, zw[3] = {4, 2, 0};
    ck_assert_int_eq(nn_idx_write(at("z"), NULL, 3, z0, err, sizeof err), 0);
    ck_assert_int_eq(nn_idx_write(at("zl"), NULL, 1, z1, err, sizeof err), 0);
    expect_load_error(at("z"), at("zl"), 2, "no images");
    ck_assert_int_eq(nn_idx_write(at("zw"), NULL, 3, zw, err, sizeof err), 0);
    expect_load_error(at("zw"), at("lb"), 2, "not usable");
}
END_TEST

START_TEST(test_truncate)
{
    write_set(at("im"), at("lb"), 10, 3, 2, 4);
    struct nn_dataset ds;
    ck_assert_int_eq(nn_dataset_load(&ds, at("im"), at("lb"), 4, err, sizeof err), 0);
    uint8_t want[10 * 6];
    fill(want, sizeof want, 10);
    nn_dataset_truncate(&ds, 0);    /* no-op */
    ck_assert_uint_eq(ds.n, 10);
    nn_dataset_truncate(&ds, 10);   /* no-op */
    ck_assert_uint_eq(ds.n, 10);
    nn_dataset_truncate(&ds, 99);   /* no-op */
    ck_assert_uint_eq(ds.n, 10);
    nn_dataset_truncate(&ds, 3);
    ck_assert_uint_eq(ds.n, 3);
    ck_assert_int_eq(ds.h, 3);
    ck_assert_int_eq(ds.w, 2);
    ck_assert_int_eq(ds.n_classes, 4);
    ck_assert_int_eq(memcmp(ds.images, want, 3 * 6), 0);
    for (int i = 0; i < 3; i++) ck_assert_uint_eq(ds.labels[i], i % 4);
    nn_dataset_truncate(&ds, 1);
    ck_assert_uint_eq(ds.n, 1);
    ck_assert_int_eq(memcmp(ds.images, want, 6), 0);
    nn_dataset_free(&ds);
}
END_TEST

/* ---- finding Fashion-MNIST ------------------------------------------------ */

static const char *const names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* A tiny stand-in data set in dir: gzipped or plain files, all four or the first `count`. */
static void fake_fmnist(const char *dir, int gz, int count)
{
    char p[4][1100];
    for (int i = 0; i < 4; i++)
        snprintf(p[i], sizeof p[i], "%s/%s%s", dir, names[i], gz ? ".gz" : "");
    write_set(p[0], p[1], 12, 28, 28, 10);
    write_set(p[2], p[3], 5, 28, 28, 10);
    for (int i = count; i < 4; i++) ck_assert_int_eq(unlink(p[i]), 0);
}

static int sys_data_present(void)
{
    for (int i = 0; i < 4; i++) {
        char a[256], b[256];
        snprintf(a, sizeof a, "%s/%s.gz", SYS_DIR, names[i]);
        snprintf(b, sizeof b, "%s/%s", SYS_DIR, names[i]);
        if (access(a, R_OK) && access(b, R_OK)) return 0;
    }
    return 1;
}

/* The environment and working directory, restored after each find test. */
static char saved_cwd[4096], saved_env[4096];
static int had_env;

static void find_setup(void)
{
    setup();
    ck_assert_ptr_nonnull(getcwd(saved_cwd, sizeof saved_cwd));
    const char *e = getenv("NNRUN_DATA");
    had_env = e != NULL;
    if (e) snprintf(saved_env, sizeof saved_env, "%s", e);
    ck_assert_int_eq(mkdir(at("cwd"), 0755), 0);
    ck_assert_int_eq(chdir(at("cwd")), 0);
}

static void find_teardown(void)
{
    if (chdir(saved_cwd) != 0) perror(saved_cwd);
    if (had_env)
        setenv("NNRUN_DATA", saved_env, 1);
    else
        unsetenv("NNRUN_DATA");
    teardown();
}

START_TEST(test_find_env)
{
    ck_assert_int_eq(mkdir(at("env"), 0755), 0);
    fake_fmnist(at("env"), 1, 4);
    setenv("NNRUN_DATA", at("env"), 1);
    struct nn_data_paths p;
    ck_assert_msg(nn_fashion_mnist_find(&p, err, sizeof err) == 0, "%s", err);
    char want[1100];
    snprintf(want, sizeof want, "%s/train-images-idx3-ubyte.gz", at("env"));
    ck_assert_str_eq(p.train_images, want);
    snprintf(want, sizeof want, "%s/t10k-labels-idx1-ubyte.gz", at("env"));
    ck_assert_str_eq(p.test_labels, want);
    struct nn_dataset tr, te;
    ck_assert_msg(nn_dataset_load(&tr, p.train_images, p.train_labels, 10, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_msg(nn_dataset_load(&te, p.test_images, p.test_labels, 10, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_uint_eq(tr.n, 12);
    ck_assert_uint_eq(te.n, 5);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);

    /* plain files count too, and NNRUN_DATA comes before ./data/fashion-mnist */
    ck_assert_int_eq(mkdir("data", 0755), 0);
    ck_assert_int_eq(mkdir("data/fashion-mnist", 0755), 0);
    fake_fmnist("data/fashion-mnist", 0, 4);
    ck_assert_int_eq(nn_fashion_mnist_find(&p, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(p.train_images, at("env")));
    unsetenv("NNRUN_DATA");
    ck_assert_msg(nn_fashion_mnist_find(&p, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(p.train_images, "data/fashion-mnist/train-images-idx3-ubyte");
    ck_assert_str_eq(p.test_labels, "data/fashion-mnist/t10k-labels-idx1-ubyte");
    /* an incomplete NNRUN_DATA directory is passed over */
    ck_assert_int_eq(mkdir(at("part"), 0755), 0);
    fake_fmnist(at("part"), 1, 3);
    setenv("NNRUN_DATA", at("part"), 1);
    ck_assert_int_eq(nn_fashion_mnist_find(&p, err, sizeof err), 0);
    ck_assert_str_eq(p.train_labels, "data/fashion-mnist/train-labels-idx1-ubyte");
}
END_TEST

START_TEST(test_find_missing)
{
    /* NNRUN_DATA is an empty directory, ./data/fashion-mnist holds 3 files */
    ck_assert_int_eq(mkdir(at("empty"), 0755), 0);
    setenv("NNRUN_DATA", at("empty"), 1);
    ck_assert_int_eq(mkdir("data", 0755), 0);
    ck_assert_int_eq(mkdir("data/fashion-mnist", 0755), 0);
    fake_fmnist("data/fashion-mnist", 1, 3);
    struct nn_data_paths p;
    int r = nn_fashion_mnist_find(&p, err, sizeof err);
    if (sys_data_present()) {
        /* this machine has the Debian package: the search falls through to it */
        ck_assert_msg(r == 0, "%s", err);
        ck_assert_int_eq(strncmp(p.train_images, SYS_DIR "/", strlen(SYS_DIR) + 1), 0);
        ck_assert_int_eq(strncmp(p.test_labels, SYS_DIR "/", strlen(SYS_DIR) + 1), 0);
    } else {
        ck_assert_int_eq(r, -1);
        ck_assert_ptr_null(strchr(err, '\n'));
        ck_assert_msg(strstr(err, at("empty")) != NULL, "%s", err);
        ck_assert_msg(strstr(err, "data/fashion-mnist (missing t10k-labels-idx1-ubyte") != NULL,
                      "%s", err);
        ck_assert_msg(strstr(err, SYS_DIR) != NULL, "%s", err);
        ck_assert_msg(strstr(err, "apt-get install dataset-fashion-mnist") != NULL, "%s", err);
        ck_assert_msg(strstr(err, "data/fetch-fashion-mnist.sh") != NULL, "%s", err);
        ck_assert_msg(strstr(err, "NNRUN_DATA") != NULL, "%s", err);
    }
    /* a tiny buffer is never overrun and stays a terminated string */
    char small[40];
    memset(small, 'x', sizeof small);
    unsetenv("NNRUN_DATA");
    ck_assert_int_eq(chdir(tmp), 0);   /* no data/ here */
    r = nn_fashion_mnist_find(&p, small, sizeof small);
    if (r) ck_assert_uint_lt(strlen(small), sizeof small);
}
END_TEST

/* ---- the real data set, when installed ------------------------------------ */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void check_real(const char *images, const char *labels, size_t n, int per_class)
{
    struct nn_dataset ds;
    double t0 = now();
    ck_assert_msg(nn_dataset_load(&ds, images, labels, 10, err, sizeof err) == 0, "%s", err);
    double dt = now() - t0;
    fprintf(stderr, "test_data: loaded %zu samples from %s in %.3f s\n", ds.n, images, dt);
    ck_assert_uint_eq(ds.n, n);
    ck_assert_int_eq(ds.h, 28);
    ck_assert_int_eq(ds.w, 28);
    ck_assert_int_eq(ds.c, 1);
    ck_assert_int_eq(ds.n_classes, 10);
    size_t hist[10] = {0};
    for (size_t i = 0; i < ds.n; i++) hist[ds.labels[i]]++;
    for (int k = 0; k < 10; k++) ck_assert_uint_eq(hist[k], (size_t)per_class);
    nn_dataset_free(&ds);
}

START_TEST(test_real_fashion_mnist)
{
    if (!sys_data_present()) {
        fprintf(stderr, "test_data: %s not installed; skipping the real-data checks\n", SYS_DIR);
        return;
    }
    char im[256], lb[256];
    snprintf(im, sizeof im, "%s/train-images-idx3-ubyte.gz", SYS_DIR);
    snprintf(lb, sizeof lb, "%s/train-labels-idx1-ubyte.gz", SYS_DIR);
    if (access(im, R_OK)) snprintf(im, sizeof im, "%s/train-images-idx3-ubyte", SYS_DIR);
    if (access(lb, R_OK)) snprintf(lb, sizeof lb, "%s/train-labels-idx1-ubyte", SYS_DIR);
    check_real(im, lb, 60000, 6000);
    snprintf(im, sizeof im, "%s/t10k-images-idx3-ubyte.gz", SYS_DIR);
    snprintf(lb, sizeof lb, "%s/t10k-labels-idx1-ubyte.gz", SYS_DIR);
    if (access(im, R_OK)) snprintf(im, sizeof im, "%s/t10k-images-idx3-ubyte", SYS_DIR);
    if (access(lb, R_OK)) snprintf(lb, sizeof lb, "%s/t10k-labels-idx1-ubyte", SYS_DIR);
    check_real(im, lb, 10000, 1000);
}

/* Found by fuzz_idx (tests/fuzz/regress/idx/): a zero dimension means an
 * empty payload even when the other dimensions multiply past any size; the
 * reader accepted such a file and the writer refused to write it. */
START_TEST(test_zero_dim_overflow)
{
    /* (dimensions over INT_MAX are refused since: 2^31 - 1 stands in for 2^32 - 1) */
    static const uint32_t dims[4] = {0x7FFFFFFFu, 0x7FFFFFFFu, 0x7FFFFFFFu, 0};
    static const uint8_t want[20] = {0, 0, 8, 4, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff,
                                     0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    write_bytes(at("zin"), want, sizeof want);
    uint8_t *data = NULL;
    uint32_t got[8];
    int r = 0;
    ck_assert_msg(nn_idx_read(at("zin"), &data, &r, got, 8, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(r, 4);
    free(data);
    ck_assert_msg(nn_idx_write(at("zout"), NULL, 4, dims, err, sizeof err) == 0, "%s", err);
    uint8_t back[32];
    ck_assert_uint_eq(read_bytes(at("zout"), back, sizeof back), sizeof want);
    ck_assert_int_eq(memcmp(back, want, sizeof want), 0);
}
END_TEST

END_TEST

/* ---- bounded readers (issue 13) ------------------------------------------- */

/* Every reader refuses path at once, naming it and `want`. */
static void expect_all_refuse(const char *path, const char *want)
{
    expect_read_error(path, want);
    struct nn_dataset ds;
    write_set(at("ok-im"), at("ok-lb"), 3, 2, 2, 2);
    expect_load_error(path, at("ok-lb"), 2, want);
    expect_load_error(at("ok-im"), path, 2, want);
    memset(&ds, 0xAB, sizeof ds);
    ck_assert_int_eq(nn_images_load(&ds, path, 0, err, sizeof err), -1);
    ck_assert_ptr_null(ds.images);
    ck_assert_msg(strstr(err, want) && !strncmp(err, path, strlen(path)), "%s", err);
    for (int header = 0; header < 2; header++) {
        memset(&ds, 0xAB, sizeof ds);
        ck_assert_int_eq(nn_csv_load(&ds, path, 0, header, 28, 28, 1, 10, err, sizeof err), -1);
        ck_assert_ptr_null(ds.images);
        ck_assert_uint_eq(ds.n, 0);
        ck_assert_msg(strstr(err, want) && !strncmp(err, path, strlen(path)), "%s", err);
    }
}

START_TEST(test_not_regular)
{
    /* devices, a directory and a FIFO nobody writes to: refused when opened
     * (O_NONBLOCK, so the FIFO cannot block; Check's timeout would fail a hang) */
    static const char *const devices[3] = {"/dev/zero", "/dev/urandom", "/dev/null"};
    for (int i = 0; i < 3; i++) {
        struct stat st;
        if (stat(devices[i], &st) || !S_ISCHR(st.st_mode)) {   /* a broken container */
            fprintf(stderr, "test_data: %s is not a character device here; skipped\n",
                    devices[i]);
            continue;
        }
        expect_all_refuse(devices[i], "is a character device, not a regular file");
    }
    ck_assert_int_eq(mkdir(at("dir"), 0755), 0);
    expect_all_refuse(at("dir"), "is a directory");
    ck_assert_int_eq(mkfifo(at("fifo"), 0644), 0);
    double t0 = now();
    expect_all_refuse(at("fifo"), "is a FIFO (named pipe)");
    ck_assert_double_lt(now() - t0, 2.0);
    /* a FIFO with a writer waiting is refused as well, without reading it */
    int wfd = open(at("fifo"), O_RDWR | O_NONBLOCK);
    ck_assert_int_ge(wfd, 0);
    ck_assert_int_eq(write(wfd, "1,2,3\n", 6), 6);
    expect_all_refuse(at("fifo"), "is a FIFO");
    close(wfd);
}
END_TEST

START_TEST(test_growing_file)
{
    /* the source never reads past the size seen at open */
    write_set(at("im"), at("lb"), 4, 2, 2, 2);
    struct nn_src src;
    ck_assert_msg(nn_src_open(&src, at("lb"), err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(src.size, 12);
    FILE *f = fopen(at("lb"), "ab");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 1000; i++) fputc(1, f);
    fclose(f);
    uint8_t buf[4096];
    ck_assert_uint_eq(nn_src_read(&src, buf, sizeof buf), 12);
    ck_assert_int_eq(src.state, NN_SRC_END);
    nn_src_close(&src);
    /* and a gzip file's compressed bytes likewise: appended data is not inflated */
    write_set(at("im.gz"), at("lb.gz"), 4, 2, 2, 2);
    ck_assert_int_eq(nn_src_open(&src, at("lb.gz"), err, sizeof err), 0);
    f = fopen(at("lb.gz"), "ab");
    uint8_t raw[4096];
    size_t n = read_bytes(at("lb.gz"), raw, sizeof raw);
    fwrite(raw, 1, n, f);   /* a second member: would double the data */
    fclose(f);
    ck_assert_uint_eq(nn_src_read(&src, buf, sizeof buf), 12);
    ck_assert_int_eq(src.state, NN_SRC_END);
    nn_src_close(&src);
}
END_TEST

/* A gzip file of an IDX header and `payload` bytes, zeros or (noise) random. */
static void write_gz_idx(const char *path, const uint8_t *head, size_t n_head, size_t payload,
                         int noise)
{
    gzFile g = gzopen(path, "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzwrite(g, head, (unsigned)n_head), (int)n_head);
    static uint8_t zeros[1 << 16];
    memset(zeros, 0, sizeof zeros);
    if (noise) fill(zeros, sizeof zeros, 5);
    for (size_t off = 0; off < payload;) {
        unsigned k = payload - off > sizeof zeros ? sizeof zeros : (unsigned)(payload - off);
        ck_assert_int_eq(gzwrite(g, zeros, k), (int)k);
        off += k;
    }
    ck_assert_int_eq(gzclose(g), Z_OK);
}

START_TEST(test_gzip_bomb)
{
    /* 5,000,000 images of 28 x 28 (3.9 GB, under the 4 GiB cap) announced
     * by a gzip file of a few KB: more than it can inflate to */
    static const uint8_t big[16] = {0, 0, 8, 3, 0x00, 0x4c, 0x4b, 0x40, 0, 0, 0, 28, 0, 0, 0, 28};
    write_gz_idx(at("bomb.gz"), big, sizeof big, 1 << 20, 0);
    expect_read_error(at("bomb.gz"), "the header announces 3920000000 bytes of image data "
                      "(5000000 x 28 x 28), more than a gzip file of");
    /* labels that disagree are refused from the two headers, before either
     * payload is read: here the images' payload is cut short as well, and
     * the count is what the message names */
    static const uint8_t im[16] = {0, 0, 8, 3, 0, 0, 0x03, 0xe8, 0, 0, 0, 28, 0, 0, 0, 28};
    write_gz_idx(at("im.gz"), im, sizeof im, 1000 * 784 / 2, 1);
    static const uint8_t lb[18] = {0, 0, 8, 1, 0, 0, 0, 10};
    write_bytes(at("lb"), lb, sizeof lb);
    char want[1200];
    snprintf(want, sizeof want, "%s: 10 labels but %s has 1000 images (from the headers)",
             at("lb"), at("im.gz"));
    expect_load_error(at("im.gz"), at("lb"), 10, want);
}
END_TEST

START_TEST(test_max_bytes)
{
    write_set(at("im.gz"), at("lb"), 30, 6, 5, 7);   /* 30 * (30 + 1) = 930 bytes */
    struct nn_dataset ds;
    memset(&ds, 0xAB, sizeof ds);
    ck_assert_int_eq(nn_dataset_load_max(&ds, at("im.gz"), at("lb"), 10, 929, err, sizeof err),
                     NN_DATA_TOO_BIG);
    ck_assert_ptr_null(ds.images);
    ck_assert_msg(strstr(err, "30 images of 6 x 5 x 1 and their labels take 930 bytes, more "
                         "than the 929 bytes the memory limit leaves for data"), "%s", err);
    ck_assert_int_eq(nn_dataset_load_max(&ds, at("im.gz"), at("lb"), 10, 930, err, sizeof err),
                     0);
    ck_assert_uint_eq(ds.n, 30);
    nn_dataset_free(&ds);
    ck_assert_int_eq(nn_images_load(&ds, at("im.gz"), 929, err, sizeof err), NN_DATA_TOO_BIG);
    ck_assert_int_eq(nn_images_load(&ds, at("im.gz"), 930, err, sizeof err), 0);
    ck_assert_uint_eq(ds.n, 30);
    ck_assert_int_eq(ds.h, 6);
    nn_dataset_free(&ds);
    /* CSV: counted as the samples arrive (4 pixels + a label = 5 bytes each) */
    FILE *f = fopen(at("s.csv"), "w");
    for (int i = 0; i < 1000; i++) fprintf(f, "%d,1,2,3,4\n", i % 10);
    fclose(f);
    ck_assert_int_eq(nn_csv_load_max(&ds, at("s.csv"), 0, 0, 2, 2, 1, 10, 4000, err,
                                     sizeof err), NN_DATA_TOO_BIG);
    ck_assert_ptr_null(ds.images);
    ck_assert_msg(strstr(err, "s.csv:801: 801 samples of 2 x 2 x 1 and their labels would pass "
                         "the 4000 bytes (3.9 KiB) the memory limit leaves for data"), "%s", err);
    ck_assert_int_eq(nn_csv_load_max(&ds, at("s.csv"), 0, 0, 2, 2, 1, 10, 5000, err,
                                     sizeof err), 0);
    ck_assert_uint_eq(ds.n, 1000);
    nn_dataset_free(&ds);
}
END_TEST

START_TEST(test_payload_messages)
{
    /* damage in the payload is named as such, never as a header error */
    write_set(at("im.gz"), at("lb.gz"), 200, 28, 28, 10);
    off_t n = file_size(at("im.gz"));
    ck_assert_int_eq(truncate(at("im.gz"), n - 100), 0);
    expect_read_error(at("im.gz"), "truncated: expected 156800 bytes of image data, got");
    ck_assert_ptr_null(strstr(err, "header"));
    /* a bad CRC: all the data is there, the checksum says it is damaged */
    write_set(at("a.gz"), at("b.gz"), 20, 5, 5, 3);
    n = file_size(at("a.gz"));
    int fd = open(at("a.gz"), O_RDWR);
    uint8_t c;
    ck_assert_int_eq(pread(fd, &c, 1, n - 8), 1);
    c ^= 0x01;
    ck_assert_int_eq(pwrite(fd, &c, 1, n - 8), 1);
    close(fd);
    expect_read_error(at("a.gz"), "corrupt gzip stream: incorrect data check, at the end of the "
                      "image data (the payload is damaged)");
    /* bytes after the gzip stream that are not another member */
    write_set(at("t.gz"), at("u.gz"), 20, 5, 5, 3);
    FILE *f = fopen(at("t.gz"), "ab");
    fputs("junk", f);
    fclose(f);
    expect_read_error(at("t.gz"), "trailing data after the gzip stream (at byte");
    /* two members are one stream, as gzip makes them */
    uint8_t raw[4096];
    size_t k = read_bytes(at("u.gz"), raw, sizeof raw);
    f = fopen(at("two.gz"), "wb");
    fwrite(raw, 1, 12, f);   /* header of the first member only: cut */
    fclose(f);
    expect_read_error(at("two.gz"), "truncated");
    gzFile g = gzopen(at("m.gz"), "wb");
    static const uint8_t head[8] = {0, 0, 8, 1, 0, 0, 0, 6};
    gzwrite(g, head, 8);
    gzwrite(g, "abc", 3);
    gzclose(g);
    g = gzopen(at("m2.gz"), "wb");
    gzwrite(g, "def", 3);
    gzclose(g);
    k = read_bytes(at("m2.gz"), raw, sizeof raw);
    f = fopen(at("m.gz"), "ab");
    fwrite(raw, 1, k, f);
    fclose(f);
    uint8_t *data;
    uint32_t d[1];
    int rank;
    ck_assert_msg(nn_idx_read(at("m.gz"), &data, &rank, d, 1, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(memcmp(data, "abcdef", 6), 0);
    free(data);
    /* a plain file: its size is checked against the header before reading */
    write_set(at("p"), at("q"), 50, 28, 28, 10);
    ck_assert_int_eq(truncate(at("p"), 1000), 0);
    expect_read_error(at("p"), "truncated: expected 39200 bytes of image data, got 984 (the "
                      "header announces 50 x 28 x 28; the file has 1000 bytes)");
}
END_TEST

START_TEST(test_images_load)
{
    struct nn_dataset ds;
    static const uint32_t z0[3] = {0, 28, 28}, zw[3] = {4, 2, 0}, l1[1] = {5};
    ck_assert_int_eq(nn_idx_write(at("z"), NULL, 3, z0, err, sizeof err), 0);
    ck_assert_int_eq(nn_images_load(&ds, at("z"), 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "holds no images (the header says 0 images of 28 x 28 x 1)"), "%s",
                  err);
    ck_assert_int_eq(nn_idx_write(at("zw"), NULL, 3, zw, err, sizeof err), 0);
    ck_assert_int_eq(nn_images_load(&ds, at("zw"), 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "image shape 2 x 0 x 1 (height x width x channels) is not usable"),
                  "%s", err);
    ck_assert_ptr_null(strstr(err, "-1"));
    uint8_t five[5] = {0};
    ck_assert_int_eq(nn_idx_write(at("l"), five, 1, l1, err, sizeof err), 0);
    ck_assert_int_eq(nn_images_load(&ds, at("l"), 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "not rank 1 (a labels file?)"), "%s", err);
    write_set(at("im"), at("lb"), 7, 3, 4, 2);
    ck_assert_msg(nn_images_load(&ds, at("im"), 0, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(ds.n, 7);
    ck_assert_int_eq(ds.h, 3);
    ck_assert_int_eq(ds.w, 4);
    ck_assert_int_eq(ds.c, 1);
    uint8_t want[7 * 12];
    fill(want, sizeof want, 7);
    ck_assert_int_eq(memcmp(ds.images, want, sizeof want), 0);
    for (int i = 0; i < 7; i++) ck_assert_uint_eq(ds.labels[i], 0);
    nn_dataset_free(&ds);
}
END_TEST

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

/* nn_csv_load of text (2 x 2 images, label first) fails with "PATH" + want. */
static void expect_csv(const char *text, int header, const char *want)
{
    write_text(at("c.csv"), text);
    struct nn_dataset ds;
    memset(&ds, 0xAB, sizeof ds);
    ck_assert_int_eq(nn_csv_load(&ds, at("c.csv"), 0, header, 2, 2, 1, 10, err, sizeof err), -1);
    ck_assert_ptr_null(ds.images);
    char full[1200];
    snprintf(full, sizeof full, "%s%s", at("c.csv"), want);
    ck_assert_msg(strstr(err, full) == err, "expected \"%s\" in: %s", full, err);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_ptr_null(strchr(err, '\r'));
}

START_TEST(test_csv_bounds)
{
    /* empty, header only, blank lines only: three messages */
    expect_csv("", 1, ": holds no samples (the file is empty)");
    expect_csv("", 0, ": holds no samples (the file is empty)");
    expect_csv("label,a,b,c,d\n", 1, ": holds no samples (only a header)");
    expect_csv("label,a,b,c,d", 1, ": holds no samples (only a header)");
    expect_csv("label,a,b,c,d\r\n\r\n  \n", 1, ": holds no samples (only a header and blank "
               "lines)");
    expect_csv("\n\n", 0, ": holds no samples (only blank lines)");
    /* a header with no line break, a field too long, too many fields */
    char *big = malloc(1 << 20);
    memset(big, 'x', (1 << 20) - 1);
    big[(1 << 20) - 1] = '\0';
    expect_csv(big, 1, ":1: the header line is longer than 4256 bytes (no line break");
    expect_csv(big, 0, ":1: field 1 is longer than 64 characters ('xxxxxxxxxxxxxxxxxxxxxxxx...')");
    memset(big, ' ', (1 << 20) - 1);
    expect_csv(big, 0, ":1: field 1 is longer than 64 characters");
    for (int i = 0; i < (1 << 20) - 1; i++) big[i] = i % 2 ? ',' : '1';
    expect_csv(big, 0, ":1: more than 26 fields, expected 5 (a label and 4 pixels)");
    free(big);
    /* blank lines between samples: at most a line's worth (5 x 65) plus 1 MiB */
    big = malloc((1 << 21) + 64);
    strcpy(big, "1,2,3,4,5\n");
    memset(big + 10, '\n', 1 << 21);
    big[10 + (1 << 21)] = '\0';
    expect_csv(big, 0, ":1048903: more than 1048901 bytes of blank lines and spaces without a "
               "sample");
    memset(big + 10, '\n', (1 << 20) - 1);   /* under the cap: read */
    strcpy(big + 10 + (1 << 20) - 1, "2,2,2,2,2\n");
    write_text(at("gap.csv"), big);
    free(big);
    struct nn_dataset gap;
    ck_assert_msg(nn_csv_load(&gap, at("gap.csv"), 0, 0, 2, 2, 1, 10, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_uint_eq(gap.n, 2);
    nn_dataset_free(&gap);
    /* binary bytes are shown escaped, on one line */
    expect_csv("1,2,\x01\x7f\xc3\xa9,4,5\n", 0, ":1: field 3 is '\\x01\\x7f\\xc3\\xa9', not a "
               "number");
    /* a lone CR ends a line, as "\r\n" and "\n" do */
    write_text(at("cr.csv"), "label,a,b,c,d\r1,2,3,4,5\r6,7,8,9,10\r\r\n3,0,0,0,0\n4,1,1,1,1");
    struct nn_dataset ds;
    ck_assert_msg(nn_csv_load(&ds, at("cr.csv"), 0, 1, 2, 2, 1, 10, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_uint_eq(ds.n, 4);
    static const uint8_t lb[4] = {1, 6, 3, 4}, im[16] = {2, 3, 4, 5, 7, 8, 9, 10, 0, 0, 0, 0,
                                                         1, 1, 1, 1};
    ck_assert_int_eq(memcmp(ds.labels, lb, 4), 0);
    ck_assert_int_eq(memcmp(ds.images, im, 16), 0);
    nn_dataset_free(&ds);
    /* line numbers count CR lines: the bad one is line 3 */
    expect_csv("label,a,b,c,d\r1,2,3,4,5\r1,2,3,4\r", 1, ":3: 4 fields, expected 5");
    expect_csv("label,a,b,c,d\r\n1,2,3,4,5\r\n1,2,3,4\r\n", 1, ":3: 4 fields, expected 5");
    /* a file of zeros (sparse, 1 GiB): refused within the first line */
    int fd = open(at("zeros.csv"), O_CREAT | O_WRONLY, 0644);
    ck_assert_int_eq(ftruncate(fd, (off_t)1 << 30), 0);
    close(fd);
    double t0 = now();
    ck_assert_int_eq(nn_csv_load(&ds, at("zeros.csv"), 0, 1, 28, 28, 1, 10, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "zeros.csv:1: the header line is longer than"), "%s", err);
    ck_assert_int_eq(nn_csv_load(&ds, at("zeros.csv"), 0, 0, 28, 28, 1, 10, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "zeros.csv:1: field 1 is longer than 64 characters ('\\x00"), "%s",
                  err);
    ck_assert_double_lt(now() - t0, 2.0);
}
END_TEST

static Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *idx = tcase_create("idx");
    tcase_add_unchecked_fixture(idx, root_setup, root_teardown);
    tcase_add_checked_fixture(idx, setup, teardown);
    tcase_add_test(idx, test_roundtrip);
    tcase_add_test(idx, test_zero_dim_overflow);
    tcase_add_test(idx, test_exact_bytes);
    tcase_add_test(idx, test_truncated);
    tcase_add_test(idx, test_bad_magic);
    tcase_add_test(idx, test_trailing);
    tcase_add_test(idx, test_oversize);
    tcase_add_test(idx, test_corrupt_gzip);
    tcase_add_test(idx, test_missing_file);
    tcase_set_timeout(idx, 60);
    suite_add_tcase(s, idx);

    TCase *set = tcase_create("dataset");
    tcase_add_unchecked_fixture(set, root_setup, root_teardown);
    tcase_add_checked_fixture(set, setup, teardown);
    tcase_add_test(set, test_load);
    tcase_add_test(set, test_count_mismatch);
    tcase_add_test(set, test_label_range);
    tcase_add_test(set, test_wrong_ranks);
    tcase_add_test(set, test_truncate);
    suite_add_tcase(s, set);

    TCase *bound = tcase_create("bounded");
    tcase_add_unchecked_fixture(bound, root_setup, root_teardown);
    tcase_add_checked_fixture(bound, setup, teardown);
    tcase_add_test(bound, test_not_regular);
    tcase_add_test(bound, test_growing_file);
    tcase_add_test(bound, test_gzip_bomb);
    tcase_add_test(bound, test_max_bytes);
    tcase_add_test(bound, test_payload_messages);
    tcase_add_test(bound, test_images_load);
    tcase_add_test(bound, test_csv_bounds);
    tcase_set_timeout(bound, 60);
    suite_add_tcase(s, bound);

    TCase *find = tcase_create("find");
    tcase_add_unchecked_fixture(find, root_setup, root_teardown);
    tcase_add_checked_fixture(find, find_setup, find_teardown);
    tcase_add_test(find, test_find_env);
    tcase_add_test(find, test_find_missing);
    suite_add_tcase(s, find);

    TCase *real = tcase_create("fashion-mnist");
    tcase_add_test(real, test_real_fashion_mnist);
    tcase_set_timeout(real, 300);   /* slow under valgrind */
    suite_add_tcase(s, real);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(data_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
