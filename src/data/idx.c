/* idx.c - IDX files (MNIST's format), gzipped or plain, read through zlib.
 *
 * Layout: magic 00 00 08 rank (08 = unsigned bytes), rank big-endian uint32
 * dimensions, then the payload in row-major order.  Every size is checked
 * before allocating; no partial result survives an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnrun/data.h"
#include "nnrun/util.h"

#define IDX_MAX_BYTES ((size_t)4 << 30)

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads exactly n bytes; returns bytes read, or -1 on a stream error. */
static long long read_full(gzFile f, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        unsigned chunk = n - got > (1u << 30) ? 1u << 30 : (unsigned)(n - got);
        int r = gzread(f, (uint8_t *)buf + got, chunk);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long long)got;
}

static void stream_error(gzFile f, const char *path, char *err, size_t n_err)
{
    int code;
    const char *msg = gzerror(f, &code);
    snprintf(err, n_err, "%s: corrupt or unreadable data: %s", path,
             code == Z_ERRNO ? strerror(errno) : msg);
}

int nn_idx_read(const char *path, uint8_t **data, int *rank, uint32_t *dims, int max_rank,
                char *err, size_t n_err)
{
    *data = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, n_err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    gzbuffer(f, 1 << 20);
    uint8_t head[4 + 4 * 8];
    long long got = read_full(f, head, 4);
    if (got < 0) goto stream_err;
    if (got < 4) {
        snprintf(err, n_err, "%s: truncated: %lld bytes, too short for an IDX header", path, got);
        goto fail;
    }
    if (head[0] || head[1] || head[3] == 0 || head[3] > 8) {
        snprintf(err, n_err, "%s: not an IDX file (magic 0x%02x%02x%02x%02x)", path, head[0],
                 head[1], head[2], head[3]);
        goto fail;
    }
    if (head[2] != 0x08) {
        snprintf(err, n_err, "%s: IDX data type 0x%02x is not supported; nnrun reads unsigned "
                 "bytes (0x08)", path, head[2]);
        goto fail;
    }
    int r = head[3];
    if (r > max_rank) {
        snprintf(err, n_err, "%s: IDX rank %d; expected at most %d dimensions", path, r, max_rank);
        goto fail;
    }
    got = read_full(f, head + 4, 4 * (size_t)r);
    if (got < 0) goto stream_err;
    if (got < 4 * r) {
        snprintf(err, n_err, "%s: truncated: the header ends after %lld of %d dimension bytes",
                 path, got, 4 * r);
        goto fail;
    }
    size_t total = 1;
    for (int i = 0; i < r; i++) {
        dims[i] = be32(head + 4 + 4 * i);
        total = nn_mul_size(total, dims[i]);
    }
    if (total > IDX_MAX_BYTES) {
        snprintf(err, n_err, "%s: the header announces %s bytes of data; nnrun reads at most 4 GiB",
                 path, total == SIZE_MAX ? "more than 2^64" : "over 4 GiB");
        goto fail;
    }
    *data = malloc(total ? total : 1);
    if (!*data) {
        snprintf(err, n_err, "%s: out of memory for %zu bytes", path, total);
        goto fail;
    }
    got = read_full(f, *data, total);
    if (got < 0) goto stream_err;
    if ((size_t)got < total) {
        snprintf(err, n_err, "%s: truncated: expected %zu bytes of data, got %lld", path, total,
                 got);
        goto fail;
    }
    uint8_t extra;
    got = read_full(f, &extra, 1);
    if (got < 0) goto stream_err;
    if (got > 0) {
        snprintf(err, n_err, "%s: unexpected data after the %zu bytes the header announces", path,
                 total);
        goto fail;
    }
    gzclose(f);
    *rank = r;
    return 0;
stream_err:
    stream_error(f, path, err, n_err);
fail:
    free(*data);
    *data = NULL;
    gzclose(f);
    return -1;
}

int nn_idx_write(const char *path, const uint8_t *data, int rank, const uint32_t *dims,
                 char *err, size_t n_err)
{
    size_t len = strlen(path);
    int gz = len > 3 && !strcmp(path + len - 3, ".gz");
    gzFile f = gzopen(path, gz ? "wb6" : "wbT");   /* T: plain, no compression */
    if (!f) {
        snprintf(err, n_err, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    uint8_t head[4 + 4 * 8] = {0, 0, 0x08, (uint8_t)rank};
    size_t total = 1;
    for (int i = 0; i < rank; i++) {
        head[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        head[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        head[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        head[7 + 4 * i] = (uint8_t)dims[i];
        total *= dims[i];
    }
    int ok = gzwrite(f, head, 4 + 4 * (unsigned)rank) == (int)(4 + 4 * rank);
    for (size_t off = 0; ok && off < total; off += 1u << 30) {
        unsigned chunk = total - off > (1u << 30) ? 1u << 30 : (unsigned)(total - off);
        ok = gzwrite(f, data + off, chunk) == (int)chunk;
    }
    if (gzclose(f) != Z_OK || !ok) {
        snprintf(err, n_err, "%s: write failed", path);
        return -1;
    }
    return 0;
}

int nn_dataset_load(struct nn_dataset *ds, const char *images_path, const char *labels_path,
                    int n_classes, char *err, size_t n_err)
{
    memset(ds, 0, sizeof *ds);
    uint32_t idims[8], ldims[8];
    int irank, lrank;
    if (nn_idx_read(images_path, &ds->images, &irank, idims, 4, err, n_err)) return -1;
    if (irank < 3) {
        snprintf(err, n_err, "%s: images must have 3 or 4 dimensions (count, height, width[, "
                 "channels]), found %d", images_path, irank);
        goto fail;
    }
    if (nn_idx_read(labels_path, &ds->labels, &lrank, ldims, 8, err, n_err)) goto fail;
    if (lrank != 1) {
        snprintf(err, n_err, "%s: labels must have 1 dimension, found %d", labels_path, lrank);
        goto fail;
    }
    if (ldims[0] != idims[0]) {
        snprintf(err, n_err, "%s: %u labels, but %s holds %u images", labels_path, ldims[0],
                 images_path, idims[0]);
        goto fail;
    }
    if (idims[1] == 0 || idims[2] == 0 || (irank == 4 && idims[3] == 0) || idims[1] > 65536 ||
        idims[2] > 65536 || (irank == 4 && idims[3] > 65536)) {
        snprintf(err, n_err, "%s: image size %ux%u is out of range", images_path, idims[1],
                 idims[2]);
        goto fail;
    }
    ds->n = idims[0];
    ds->h = (int)idims[1];
    ds->w = (int)idims[2];
    ds->c = irank == 4 ? (int)idims[3] : 1;
    int top = 0;
    for (size_t i = 0; i < ds->n; i++) {
        if (n_classes > 0 && ds->labels[i] >= n_classes) {
            snprintf(err, n_err, "%s: label %d at index %zu is outside the %d classes (0 to %d)",
                     labels_path, ds->labels[i], i, n_classes, n_classes - 1);
            goto fail;
        }
        if (ds->labels[i] > top) top = ds->labels[i];
    }
    ds->n_classes = n_classes > top + 1 ? n_classes : top + 1;
    return 0;
fail:
    nn_dataset_free(ds);
    return -1;
}

void nn_dataset_truncate(struct nn_dataset *ds, size_t n)
{
    if (n && n < ds->n) ds->n = n;
}

void nn_dataset_free(struct nn_dataset *ds)
{
    if (!ds) return;
    free(ds->images);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}
