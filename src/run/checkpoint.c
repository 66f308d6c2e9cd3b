/* checkpoint.c - the checkpoint and weights format (see checkpoint.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nnrun/checkpoint.h"
#include "nnrun/util.h"

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void putf64(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put64(p, v);
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static void putf32(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put32(p, v);
}
static float getf32(const uint8_t *p)
{
    uint32_t v = get32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static double getf64(const uint8_t *p)
{
    uint64_t v = get64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

/* float32 arrays as little-endian bytes (a copy on big-endian hosts) */
static void floats_to_le(uint8_t *dst, const float *src, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, n * 4);
#else
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, &src[i], 4);
        put32(dst + 4 * i, v);
    }
#endif
}
static void floats_from_le(float *dst, const uint8_t *src, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, n * 4);
#else
    for (size_t i = 0; i < n; i++) {
        uint32_t v = get32(src + 4 * i);
        memcpy(&dst[i], &v, 4);
    }
#endif
}

int nn_ckpt_write(const char *path, const struct nn_ckpt *c, char *err, size_t n_err)
{
    const size_t n = (size_t)c->n_params, arrays = 1 + c->n_state, ch = c->n_input_ch;
    const size_t raw_len = nn_mul_size(nn_mul_size(n, 4), arrays) + 8 * ch;
    uLong bound = compressBound((uLong)raw_len);
    uint8_t *raw = malloc(raw_len ? raw_len : 1);
    uint8_t *file = malloc(NN_CKPT_HEADER + (size_t)bound + 4);
    if (raw_len == SIZE_MAX || !raw || !file) {
        free(raw);
        free(file);
        snprintf(err, n_err, "%s: out of memory for a checkpoint of %zu parameters", path, n);
        return -1;
    }
    floats_to_le(raw, c->params, n);
    for (uint32_t a = 0; a < c->n_state; a++) floats_to_le(raw + 4 * n * (a + 1), c->state[a], n);
    if (ch) {
        floats_to_le(raw + 4 * n * arrays, c->in_scale, ch);
        floats_to_le(raw + 4 * n * arrays + 4 * ch, c->in_shift, ch);
    }
    uLongf comp_len = bound;
    /* level 1: the floats barely compress; speed matters more, the checksum
     * and framing are what zlib is here for */
    int zrc = compress2(file + NN_CKPT_HEADER, &comp_len, raw, (uLong)raw_len, 1);
    free(raw);
    if (zrc != Z_OK) {
        free(file);
        snprintf(err, n_err, "%s: zlib could not compress the checkpoint (%d)", path, zrc);
        return -1;
    }
    uint8_t *h = file;
    memcpy(h, NN_CKPT_MAGIC, 8);
    put32(h + 8, NN_CKPT_VERSION);
    put32(h + 12, c->kind);
    put64(h + 16, c->spec_hash);
    put64(h + 24, c->n_params);
    put32(h + 32, c->n_state);
    put32(h + 36, (uint32_t)c->epoch);
    put64(h + 40, c->batch);
    put64(h + 48, c->step);
    put64(h + 56, (uint64_t)c->optim_t);
    putf64(h + 64, c->sums.loss);
    putf64(h + 72, c->sums.correct);
    putf64(h + 80, c->sums.sq_err);
    put64(h + 88, (uint64_t)(int64_t)c->sums.n);
    putf64(h + 96, c->epoch_seconds);
    putf64(h + 104, c->best);
    put32(h + 112, (uint32_t)c->best_epoch);
    put32(h + 116, (uint32_t)c->wait);
    put64(h + 120, raw_len);
    put64(h + 128, comp_len);
    putf32(h + 136, c->lr);
    putf32(h + 140, c->plateau_lr);
    putf64(h + 144, c->plateau_best);
    put32(h + 152, (uint32_t)c->plateau_wait);
    put32(h + 156, (uint32_t)c->plateau_cooldown);
    put32(h + 160, c->n_input_ch);
    put32(h + 164, 0);
    const size_t len = NN_CKPT_HEADER + comp_len;
    put32(file + len, (uint32_t)crc32_z(0L, file, len));
    int rc = nn_write_file_atomic(path, file, len + 4, err, n_err);
    free(file);
    return rc;
}

/* The frame of a file of len bytes, of which buf holds the first avail
 * (at least min(len, NN_CKPT_HEADER)): the magic, the version, and the
 * compressed size the header declares against len.  With decode_fields,
 * everything that must hold before anything is allocated for the payload. */
static int decode_frame(const uint8_t *buf, size_t avail, uint64_t len, struct nn_ckpt *c,
                        size_t *header_out, char *err, size_t n_err)
{
    memset(c, 0, sizeof *c);
    if (avail < 8 || memcmp(buf, NN_CKPT_MAGIC, 8)) {
        snprintf(err, n_err, "not an nnrun checkpoint or weights file (%s\"%s\" magic)",
                 len < 8 ? "too short for the " : "no ", NN_CKPT_MAGIC);
        return -1;
    }
    if (len < NN_CKPT_HEADER_V1 + 4) {
        snprintf(err, n_err, "truncated: %llu bytes, less than the %d of a header and checksum",
                 (unsigned long long)len, NN_CKPT_HEADER_V1 + 4);
        return -1;
    }
    const uint32_t version = get32(buf + 8);
    if (version < 1 || version > NN_CKPT_VERSION) {
        snprintf(err, n_err, "format version %u; this nnrun reads versions 1 to %d", version,
                 NN_CKPT_VERSION);
        return -1;
    }
    const size_t header = version == 1 ? NN_CKPT_HEADER_V1
                          : version == 2 ? NN_CKPT_HEADER_V2 : NN_CKPT_HEADER;
    if (len < header + 4) {
        snprintf(err, n_err, "truncated: %llu bytes, less than the %zu of a header and checksum",
                 (unsigned long long)len, header + 4);
        return -1;
    }
    NN_ASSERT(avail >= header);
    const uint64_t comp_len = get64(buf + 128);
    if (comp_len > len - header - 4 || header + comp_len + 4 != len) {
        snprintf(err, n_err, "truncated or padded: the header promises %llu compressed bytes, "
                 "the file has %llu", (unsigned long long)comp_len,
                 (unsigned long long)(len - header - 4));
        return -1;
    }
    *header_out = header;
    return 0;
}

/* The header's fields into c (the frame checked by decode_frame) and the
 * sizes they declare against each other and max_params. */
static int decode_fields(const uint8_t *buf, uint64_t len, size_t header, uint64_t max_params,
                         struct nn_ckpt *c, uint64_t *raw_len_out, char *err, size_t n_err)
{
    const uint32_t version = get32(buf + 8);
    const uint64_t comp_len = len - header - 4, raw_len = get64(buf + 120);
    c->kind = get32(buf + 12);
    c->spec_hash = get64(buf + 16);
    c->n_params = get64(buf + 24);
    c->n_state = get32(buf + 32);
    c->epoch = (int32_t)get32(buf + 36);
    c->batch = get64(buf + 40);
    c->step = get64(buf + 48);
    c->optim_t = (int64_t)get64(buf + 56);
    c->sums.loss = getf64(buf + 64);
    c->sums.correct = getf64(buf + 72);
    c->sums.sq_err = getf64(buf + 80);
    c->sums.n = (long)(int64_t)get64(buf + 88);
    c->epoch_seconds = getf64(buf + 96);
    c->best = getf64(buf + 104);
    c->best_epoch = (int32_t)get32(buf + 112);
    c->wait = (int32_t)get32(buf + 116);
    c->version = version;
    if (version >= 2) {
        c->lr = getf32(buf + 136);
        c->plateau_lr = getf32(buf + 140);
        c->plateau_best = getf64(buf + 144);
        c->plateau_wait = (int32_t)get32(buf + 152);
        c->plateau_cooldown = (int32_t)get32(buf + 156);
    }
    if (version >= 3) c->n_input_ch = get32(buf + 160);
    if (c->kind > NN_CKPT_TRAIN || c->n_state > 2 || (c->kind == NN_CKPT_WEIGHTS && c->n_state) ||
        (c->kind == NN_CKPT_TRAIN && c->n_state != 2) || c->epoch < 0 ||
        c->n_input_ch > NN_CKPT_MAX_CHANNELS || (version >= 3 && get32(buf + 164))) {
        snprintf(err, n_err, "bad header (kind %u, %u state arrays, epoch %d, %u input "
                 "channels)", c->kind, c->n_state, c->epoch, c->n_input_ch);
        return -1;
    }
    const uint64_t arrays = 1 + c->n_state, ch = c->n_input_ch;
    /* the payload is floats: 4 bytes each; zlib compresses at most ~1032:1
     * and expands by less than 0.1% (compressBound) */
    if (c->n_params == 0 || c->n_params > (UINT64_MAX / 4 - 2 * ch) / arrays ||
        raw_len != c->n_params * 4 * arrays + 8 * ch || raw_len / 1032 > comp_len ||
        raw_len > (uint64_t)SIZE_MAX / 2 || comp_len > raw_len + raw_len / 1000 + 1024) {
        snprintf(err, n_err, "bad header: %llu parameters, %llu payload bytes from %llu "
                 "compressed", (unsigned long long)c->n_params, (unsigned long long)raw_len,
                 (unsigned long long)comp_len);
        return -1;
    }
    const uint64_t cap = max_params ? max_params : NN_CKPT_MAX_PARAMS;
    if (c->n_params > cap) {
        if (max_params)
            snprintf(err, n_err, "holds %llu parameters, the model has %llu",
                     (unsigned long long)c->n_params, (unsigned long long)max_params);
        else
            snprintf(err, n_err, "holds %llu parameters, more than the %llu nnrun reads",
                     (unsigned long long)c->n_params, (unsigned long long)cap);
        return -1;
    }
    *raw_len_out = raw_len;
    return 0;
}

/* A float that must be a finite number >= 0. */
static int bad_amount(double x) { return !(x >= 0) || !isfinite(x); }

/* The counters a training state can have whatever the spec: the step is
 * the epochs' batches plus the current one's, the optimizer took one step
 * per batch, the running sums cover at least one sample per batch. */
static int check_counters(const struct nn_ckpt *c, char *err, size_t n_err)
{
    const uint64_t e = (uint64_t)c->epoch;
    const char *why = NULL;
    if (e > NN_CKPT_MAX_EPOCH)
        why = "an epoch beyond any spec's";
    else if (c->batch > c->step || c->step - c->batch < e ||
             (e ? (c->step - c->batch) % e || c->batch >= (c->step - c->batch) / e
                : c->step != c->batch))
        why = "a step that is not the epochs' batches plus the batch";
    else if (c->optim_t < 0 || (uint64_t)c->optim_t != c->step)
        why = "an optimizer step count other than the step";
    else if (c->sums.n < 0 || (uint64_t)c->sums.n < c->batch || (c->batch == 0 && c->sums.n) ||
             bad_amount(c->sums.loss) || bad_amount(c->sums.sq_err) ||
             bad_amount(c->sums.correct) || c->sums.correct > (double)c->sums.n)
        why = "impossible running sums";
    else if (bad_amount(c->epoch_seconds))
        why = "impossible seconds";
    else if (isnan(c->best) || c->best_epoch < 0 || c->best_epoch > c->epoch || c->wait < 0 ||
             c->wait > c->epoch)
        why = "an impossible early-stopping state";
    else if (bad_amount(c->lr) || bad_amount(c->plateau_lr) || isnan(c->plateau_best) ||
             c->plateau_wait < 0 || c->plateau_wait > c->epoch || c->plateau_cooldown < 0)
        why = "an impossible learning-rate state";
    if (!why) return 0;
    snprintf(err, n_err, "holds %s (%d epochs and %llu batches done, step %llu, optimizer "
             "step %lld, %ld samples summed, loss sum %g, best epoch %d, %d epochs waited): not "
             "a state training writes", why, c->epoch, (unsigned long long)c->batch,
             (unsigned long long)c->step, (long long)c->optim_t, c->sums.n, c->sums.loss,
             c->best_epoch, c->wait);
    return -1;
}

int nn_ckpt_decode(const uint8_t *buf, size_t len, uint64_t max_params, struct nn_ckpt *c,
                   char *err, size_t n_err)
{
    uint64_t raw_len;
    size_t header;
    if (decode_frame(buf, len, len, c, &header, err, n_err)) return -1;
    const uint64_t comp_len = len - header - 4;
    /* the checksum before the fields: a damaged file is called damaged */
    const uint32_t want = get32(buf + len - 4);
    const uint32_t got = (uint32_t)crc32_z(0L, buf, len - 4);
    if (want != got) {
        snprintf(err, n_err, "checksum mismatch (stored %08x, computed %08x): the file is "
                 "corrupt", want, got);
        return -1;
    }
    if (decode_fields(buf, len, header, max_params, c, &raw_len, err, n_err) ||
        check_counters(c, err, n_err)) {
        memset(c, 0, sizeof *c);
        return -1;
    }
    const uint64_t arrays = 1 + c->n_state, ch = c->n_input_ch;
    uint8_t *raw = malloc((size_t)raw_len);
    float *arr = malloc((size_t)raw_len);
    if (!raw || !arr) {
        free(raw);
        free(arr);
        snprintf(err, n_err, "out of memory for %llu parameters", (unsigned long long)c->n_params);
        memset(c, 0, sizeof *c);
        return -1;
    }
    uLongf out_len = (uLongf)raw_len;
    int zrc = uncompress(raw, &out_len, buf + header, (uLong)comp_len);
    if (zrc != Z_OK || out_len != raw_len) {
        free(raw);
        free(arr);
        snprintf(err, n_err, "the compressed payload is corrupt (zlib: %s)",
                 zrc == Z_OK ? "short output" : zError(zrc));
        memset(c, 0, sizeof *c);
        return -1;
    }
    floats_from_le(arr, raw, (size_t)(raw_len / 4));
    free(raw);
    c->params = arr;
    for (uint32_t a = 0; a < c->n_state; a++) c->state[a] = arr + (size_t)c->n_params * (a + 1);
    if (ch) {
        c->in_scale = arr + (size_t)c->n_params * (size_t)arrays;
        c->in_shift = c->in_scale + ch;
    }
    return 0;
}

/* Opens path and checks its header against its size and max_params, the
 * payload unread: fd, the size and the header's fields in c; -1 with err
 * as "PATH: why". */
static int open_checked(const char *path, uint64_t max_params, struct nn_ckpt *c, uint64_t *size,
                        char *err, size_t n_err)
{
    memset(c, 0, sizeof *c);
    char why[256];
    int fd = nn_open_regular(path, 0, size, why, sizeof why);
    if (fd < 0) {
        snprintf(err, n_err, "%s: %s", path, why);
        return -1;
    }
    uint8_t h[NN_CKPT_HEADER];
    const size_t avail = *size < NN_CKPT_HEADER ? (size_t)*size : NN_CKPT_HEADER;
    uint64_t raw_len;
    size_t header = 0;
    int bad = nn_read_full(fd, h, avail, why, sizeof why) ||
              decode_frame(h, avail, *size, c, &header, why, sizeof why) ||
              decode_fields(h, *size, header, max_params, c, &raw_len, why, sizeof why);
    if (bad) {
        close(fd);
        memset(c, 0, sizeof *c);
        snprintf(err, n_err, "%s: %s", path, why);
        return -1;
    }
    return fd;
}

int nn_ckpt_read_header(const char *path, uint64_t max_params, struct nn_ckpt *c, char *err,
                        size_t n_err)
{
    uint64_t size;
    int fd = open_checked(path, max_params, c, &size, err, n_err);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

int nn_ckpt_read(const char *path, uint64_t max_params, struct nn_ckpt *c, char *err,
                 size_t n_err)
{
    uint64_t size;
    int fd = open_checked(path, max_params, c, &size, err, n_err);
    if (fd < 0) return -1;
    char why[256];
    /* the header's sizes fit the file and the model: only now the buffer,
     * of the size seen at open (a file growing meanwhile is not read on) */
    uint8_t *buf = malloc((size_t)size);
    int rc = -1;
    if (!buf)
        snprintf(why, sizeof why, "out of memory for %llu bytes", (unsigned long long)size);
    else if (lseek(fd, 0, SEEK_SET) != 0)
        snprintf(why, sizeof why, "cannot seek: %s", strerror(errno));
    else if (!nn_read_full(fd, buf, (size_t)size, why, sizeof why))
        rc = nn_ckpt_decode(buf, (size_t)size, max_params, c, why, sizeof why);
    close(fd);
    free(buf);
    if (rc) snprintf(err, n_err, "%s: %s", path, why);
    return rc;
}

int nn_ckpt_check_position(const struct nn_ckpt *c, int epochs, uint64_t batches,
                           uint64_t batch_size, char *err, size_t n_err)
{
    const uint64_t e = (uint64_t)(c->epoch < 0 ? 0 : c->epoch);
    if (c->epoch < 0 || c->epoch > epochs || (c->epoch == epochs && c->batch)) {
        snprintf(err, n_err, "is after %d epochs and %llu batches; the spec trains %d epochs",
                 c->epoch, (unsigned long long)c->batch, epochs);
        return -1;
    }
    if (c->batch >= batches) {
        snprintf(err, n_err, "is after %llu batches of an epoch; the spec's epochs have %llu "
                 "batches", (unsigned long long)c->batch, (unsigned long long)batches);
        return -1;
    }
    if (c->step != e * batches + c->batch) {
        snprintf(err, n_err, "holds step %llu after %d epochs and %llu batches; with %llu "
                 "batches an epoch that is step %llu", (unsigned long long)c->step, c->epoch,
                 (unsigned long long)c->batch, (unsigned long long)batches,
                 (unsigned long long)(e * batches + c->batch));
        return -1;
    }
    if (c->sums.n < 0 || (uint64_t)c->sums.n != c->batch * batch_size) {
        snprintf(err, n_err, "holds running sums over %ld samples after %llu batches of %llu",
                 c->sums.n, (unsigned long long)c->batch, (unsigned long long)batch_size);
        return -1;
    }
    return 0;
}

void nn_ckpt_free(struct nn_ckpt *c)
{
    free(c->params);   /* the state arrays and the input scaling live in the same block */
    memset(c, 0, sizeof *c);
}
