/* idx.c - IDX files (MNIST's format), gzipped or plain, read through zlib.
 *
 * Layout: magic 00 00 08 rank (08 = unsigned bytes), rank big-endian uint32
 * dimensions, then the payload in row-major order.  Every size is checked
 * before anything is allocated, the payload is read straight into its final
 * buffer in large chunks, and no partial result survives an error. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nnrun/data.h"
#include "nnrun/util.h"

#define IDX_MAX_BYTES ((uint64_t)1 << 32)   /* largest payload accepted: 4 GiB */
#define IDX_CHUNK (1u << 30)                /* bytes per gzread/gzwrite call (< INT_MAX) */
#define IDX_FIRST_ALLOC ((size_t)64 << 20)  /* grow beyond this only as data arrives */
#define IDX_MAX_RANK 255

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Reads up to n bytes into buf; returns the count read (short at end of
 * file or on an error: check gzerror afterwards). */
static size_t read_some(gzFile f, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        unsigned chunk = n - got > IDX_CHUNK ? IDX_CHUNK : (unsigned)(n - got);
        int r = gzread(f, buf + got, chunk);
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

/* The state of the stream: Z_OK, Z_BUF_ERROR (compressed data cut short),
 * or another code (corrupt data, read error); msg gets zlib's text with the
 * "PATH: " prefix zlib adds removed. */
static int stream_state(gzFile f, const char *path, const char **msg, int *saved_errno)
{
    int code;
    const char *m = gzerror(f, &code);
    size_t len = strlen(path);
    if (m && !strncmp(m, path, len) && m[len] == ':' && m[len + 1] == ' ') m += len + 2;
    *msg = m ? m : "unknown error";
    *saved_errno = errno;
    return code;
}

static const char *what_data(int rank)
{
    return rank == 1 ? "label data" : rank >= 3 ? "image data" : "data";
}

/* Formats "D1 x D2 x ..." into buf. */
static void dims_text(char *buf, size_t n, const uint32_t *dims, int rank)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? " x %u" : "%u", (unsigned)dims[i]);
}

/* Reports a failed or short read: corrupt stream, read error or truncation. */
static void read_failure(gzFile f, const char *path, const char *what, size_t want, size_t got,
                         char *err, size_t n_err)
{
    const char *msg;
    int e;
    int code = stream_state(f, path, &msg, &e);
    if (code == Z_ERRNO)
        snprintf(err, n_err, "%s: read error: %s", path, strerror(e));
    else if (code != Z_OK && code != Z_BUF_ERROR)
        snprintf(err, n_err, "%s: corrupt gzip stream in the %s: %s", path, what, msg);
    else
        snprintf(err, n_err, "%s: truncated: expected %zu bytes of %s, got %zu%s", path, want,
                 what, got, code == Z_BUF_ERROR ? " (the compressed stream ends early)" : "");
}

int nn_idx_read(const char *path, uint8_t **data, int *rank, uint32_t *dims, int max_rank,
                char *err, size_t n_err)
{
    *data = NULL;
    errno = 0;
    gzFile f = gzopen(path, "rbe");
    if (!f) {
        snprintf(err, n_err, "%s: cannot open: %s", path,
                 errno ? strerror(errno) : "out of memory");
        return -1;
    }
    gzbuffer(f, 1u << 18);
    uint8_t *buf = NULL;
    uint8_t head[4];
    size_t got = read_some(f, head, 4);
    if (got < 4) {
        const char *msg;
        int e;
        if (got == 0 && stream_state(f, path, &msg, &e) == Z_OK)
            snprintf(err, n_err, "%s: empty file, not an IDX file", path);
        else
            read_failure(f, path, "IDX header", 4, got, err, n_err);
        goto fail;
    }
    int r = head[3];
    if (head[0] || head[1] || r == 0) {
        snprintf(err, n_err, "%s: not an IDX file (magic 0x%02x%02x%02x%02x)", path, head[0],
                 head[1], head[2], head[3]);
        goto fail;
    }
    if (head[2] != 0x08) {
        static const char *const names[] = {[0x09] = "signed bytes", [0x0B] = "int16",
                                            [0x0C] = "int32", [0x0D] = "float32",
                                            [0x0E] = "float64"};
        const char *name = head[2] < 0x0F ? names[head[2]] : NULL;
        if (!name) {
            snprintf(err, n_err, "%s: not an IDX file (magic 0x%02x%02x%02x%02x)", path,
                     head[0], head[1], head[2], head[3]);
        } else {
            snprintf(err, n_err, "%s: IDX data type 0x%02x (%s) is not supported; nnrun reads "
                     "unsigned bytes (type 0x08)", path, head[2], name);
        }
        goto fail;
    }
    if (r > max_rank) {
        snprintf(err, n_err, "%s: IDX file of rank %d; expected at most %d dimensions", path, r,
                 max_rank);
        goto fail;
    }
    uint8_t dbytes[4 * IDX_MAX_RANK];
    got = read_some(f, dbytes, 4 * (size_t)r);
    if (got < 4 * (size_t)r) {
        read_failure(f, path, "IDX header dimensions", 4 * (size_t)r, got, err, n_err);
        goto fail;
    }
    /* size checks come before any allocation */
    size_t total = 1;
    int too_big = 0;
    for (int i = 0; i < r; i++) {
        dims[i] = be32(dbytes + 4 * i);
        if (too_big || dims[i] == 0) {
            if (dims[i] == 0) total = 0;
            continue;
        }
        if (total > SIZE_MAX / dims[i])
            too_big = 1;
        else
            total *= dims[i];
    }
    if (total && (too_big || total > IDX_MAX_BYTES)) {
        char shape[256];
        dims_text(shape, sizeof shape, dims, r);
        snprintf(err, n_err, "%s: the header announces %s bytes of %s, over the 4 GiB limit",
                 path, shape, what_data(r));
        goto fail;
    }
    /* Allocate what the header announces, but at most 64 MiB before the data
     * proves to be there, so a corrupt header cannot reserve 4 GiB. */
    size_t cap = total < IDX_FIRST_ALLOC ? total : IDX_FIRST_ALLOC;
    buf = malloc(cap ? cap : 1);
    if (!buf) {
        snprintf(err, n_err, "%s: out of memory for %zu bytes of %s", path, cap, what_data(r));
        goto fail;
    }
    size_t have = 0;
    for (;;) {
        size_t n = read_some(f, buf + have, cap - have);
        have += n;
        if (have < cap) {
            read_failure(f, path, what_data(r), total, have, err, n_err);
            goto fail;
        }
        if (cap == total) break;
        size_t next = cap > total / 2 ? total : 2 * cap;
        uint8_t *grown = realloc(buf, next);
        if (!grown) {
            snprintf(err, n_err, "%s: out of memory for %zu bytes of %s", path, total,
                     what_data(r));
            goto fail;
        }
        buf = grown;
        cap = next;
    }
    /* the payload must end the file, and the gzip trailer must check out */
    uint8_t extra[4096];
    size_t more = read_some(f, extra, sizeof extra);
    const char *msg;
    int e;
    int code = stream_state(f, path, &msg, &e);
    if (more > 0) {
        snprintf(err, n_err, "%s: trailing data: %s%zu bytes after the %zu bytes of %s the "
                 "header announces", path, more == sizeof extra ? "at least " : "", more, total,
                 what_data(r));
        goto fail;
    }
    if (code == Z_BUF_ERROR) {
        snprintf(err, n_err, "%s: truncated: the compressed stream ends before its checksum",
                 path);
        goto fail;
    }
    if (code != Z_OK) {
        read_failure(f, path, what_data(r), total, total, err, n_err);
        goto fail;
    }
    if (gzclose(f) != Z_OK) {
        f = NULL;
        snprintf(err, n_err, "%s: read error while closing", path);
        goto fail;
    }
    *data = buf;
    *rank = r;
    return 0;
fail:
    free(buf);
    if (f) gzclose(f);
    return -1;
}

/* Writes all of data through gzwrite or fwrite; 0 on success. */
static int write_all(gzFile gz, FILE *fp, const uint8_t *data, size_t n)
{
    for (size_t off = 0; off < n;) {
        unsigned chunk = n - off > IDX_CHUNK ? IDX_CHUNK : (unsigned)(n - off);
        if (gz ? gzwrite(gz, data + off, chunk) != (int)chunk
               : fwrite(data + off, 1, chunk, fp) != chunk)
            return -1;
        off += chunk;
    }
    return 0;
}

int nn_idx_write(const char *path, const uint8_t *data, int rank, const uint32_t *dims,
                 char *err, size_t n_err)
{
    if (rank < 1 || rank > IDX_MAX_RANK) {
        snprintf(err, n_err, "%s: cannot write an IDX file of rank %d (1 to %d)", path, rank,
                 IDX_MAX_RANK);
        return -1;
    }
    size_t total = 1;
    for (int i = 0; i < rank; i++)
        if (!dims[i]) total = 0;   /* no payload, whatever the other dimensions (as nn_idx_read) */
    for (int i = 0; i < rank && total; i++) {
        if (total > SIZE_MAX / dims[i]) {
            snprintf(err, n_err, "%s: the dimensions overflow the address space", path);
            return -1;
        }
        total *= dims[i];
    }
    if (total > IDX_MAX_BYTES) {
        snprintf(err, n_err, "%s: %zu bytes is over the 4 GiB limit of IDX files", path, total);
        return -1;
    }
    if (total && !data) {
        snprintf(err, n_err, "%s: no data to write", path);
        return -1;
    }
    uint8_t head[4 + 4 * IDX_MAX_RANK] = {0, 0, 0x08, (uint8_t)rank};
    for (int i = 0; i < rank; i++) put_be32(head + 4 + 4 * i, dims[i]);
    size_t n_head = 4 + 4 * (size_t)rank;

    size_t len = strlen(path);
    int gz = len > 3 && !strcmp(path + len - 3, ".gz");
    gzFile g = NULL;
    FILE *fp = NULL;
    errno = 0;
    if (gz)
        g = gzopen(path, "wb");
    else
        fp = fopen(path, "wb");
    if (!g && !fp) {
        snprintf(err, n_err, "%s: cannot create: %s", path,
                 errno ? strerror(errno) : "out of memory");
        return -1;
    }
    int bad = write_all(g, fp, head, n_head) || write_all(g, fp, data, total);
    int e = errno;
    if (g)
        bad |= gzclose(g) != Z_OK;
    else
        bad |= fclose(fp) != 0;
    if (bad) {
        if (!e) e = errno;
        snprintf(err, n_err, "%s: write failed: %s", path, e ? strerror(e) : "I/O error");
        struct stat st;   /* drop the partial file, but never a device such as /dev/full */
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) unlink(path);
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
    if (nn_idx_read(images_path, &ds->images, &irank, idims, 8, err, n_err)) return -1;
    if (irank != 3 && irank != 4) {
        snprintf(err, n_err, "%s: images must be an IDX file of rank 3 (count, height, width) "
                 "or 4 (count, height, width, channels), not rank %d", images_path, irank);
        goto fail;
    }
    if (nn_idx_read(labels_path, &ds->labels, &lrank, ldims, 8, err, n_err)) goto fail;
    if (lrank != 1) {
        snprintf(err, n_err, "%s: labels must be an IDX file of rank 1 (count), not rank %d",
                 labels_path, lrank);
        goto fail;
    }
    if (ldims[0] != idims[0]) {
        snprintf(err, n_err, "%s: %u labels but %s has %u images", labels_path,
                 (unsigned)ldims[0], images_path, (unsigned)idims[0]);
        goto fail;
    }
    uint32_t c = irank == 4 ? idims[3] : 1;
    if (idims[0] == 0) {
        snprintf(err, n_err, "%s: holds no images", images_path);
        goto fail;
    }
    if (!idims[1] || !idims[2] || !c || idims[1] > INT_MAX || idims[2] > INT_MAX || c > INT_MAX) {
        snprintf(err, n_err, "%s: image shape %u x %u x %u is not usable", images_path,
                 (unsigned)idims[1], (unsigned)idims[2], (unsigned)c);
        goto fail;
    }
    ds->n = idims[0];
    ds->h = (int)idims[1];
    ds->w = (int)idims[2];
    ds->c = (int)c;
    int top = 0;
    for (size_t i = 0; i < ds->n; i++) {
        int l = ds->labels[i];
        if (n_classes > 0 && l >= n_classes) {
            snprintf(err, n_err, "%s: label %d at index %zu is outside the %d classes",
                     labels_path, l, i, n_classes);
            goto fail;
        }
        if (l > top) top = l;
    }
    ds->n_classes = n_classes > top + 1 ? n_classes : top + 1;
    return 0;
fail:
    nn_dataset_free(ds);
    return -1;
}

void nn_dataset_truncate(struct nn_dataset *ds, size_t n)
{
    if (n == 0 || n >= ds->n) return;
    size_t sample = (size_t)ds->h * (size_t)ds->w * (size_t)ds->c;
    /* give the tail back; keeping the old block is fine if realloc fails */
    uint8_t *im = realloc(ds->images, n * sample);
    if (im) ds->images = im;
    uint8_t *lb = realloc(ds->labels, n);
    if (lb) ds->labels = lb;
    ds->n = n;
}

void nn_dataset_split(struct nn_dataset *ds, struct nn_dataset *tail, size_t n)
{
    memset(tail, 0, sizeof *tail);
    if (n >= ds->n) return;
    size_t sample = (size_t)ds->h * (size_t)ds->w * (size_t)ds->c;
    *tail = *ds;
    tail->n = ds->n - n;
    tail->images = nn_xmalloc(tail->n * sample);
    tail->labels = nn_xmalloc(tail->n);
    memcpy(tail->images, ds->images + n * sample, tail->n * sample);
    memcpy(tail->labels, ds->labels + n, tail->n);
    if (ds->scale) {   /* the tail gets its own copy of the standardization */
        tail->scale = nn_xmalloc((size_t)ds->c * sizeof *tail->scale);
        tail->shift = nn_xmalloc((size_t)ds->c * sizeof *tail->shift);
        memcpy(tail->scale, ds->scale, (size_t)ds->c * sizeof *tail->scale);
        memcpy(tail->shift, ds->shift, (size_t)ds->c * sizeof *tail->shift);
    }
    nn_dataset_truncate(ds, n);
}

void nn_dataset_channel_stats(const struct nn_dataset *ds, double divide_by, double *mean,
                              double *std)
{
    const size_t c = (size_t)ds->c, per = (size_t)ds->h * (size_t)ds->w;
    for (size_t ch = 0; ch < c; ch++) {
        /* exact: at most 4 GiB of bytes, so the sums fit in 64 bits */
        uint64_t sum = 0, sq = 0;
        for (size_t i = 0; i < ds->n; i++) {
            const uint8_t *p = ds->images + i * per * c + ch;
            for (size_t k = 0; k < per; k++) {
                const uint64_t v = p[k * c];
                sum += v;
                sq += v * v;
            }
        }
        const double cnt = (double)ds->n * (double)per;
        const double m = cnt > 0 ? (double)sum / cnt : 0;
        double var = cnt > 0 ? (double)sq / cnt - m * m : 0;
        if (var < 0) var = 0;
        mean[ch] = m / divide_by;
        std[ch] = sqrt(var) / divide_by;
        if (!(std[ch] >= 1e-7)) std[ch] = 1e-7;
    }
}

void nn_dataset_standardize(struct nn_dataset *ds, double divide_by, const double *mean,
                            const double *std)
{
    free(ds->scale);
    free(ds->shift);
    ds->scale = nn_xmalloc((size_t)ds->c * sizeof *ds->scale);
    ds->shift = nn_xmalloc((size_t)ds->c * sizeof *ds->shift);
    for (int ch = 0; ch < ds->c; ch++) {
        ds->scale[ch] = (float)(1.0 / (divide_by * std[ch]));
        ds->shift[ch] = (float)(-mean[ch] / std[ch]);
    }
}

void nn_dataset_free(struct nn_dataset *ds)
{
    if (!ds) return;
    free(ds->images);
    free(ds->labels);
    free(ds->scale);
    free(ds->shift);
    memset(ds, 0, sizeof *ds);
}
