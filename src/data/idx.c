/* idx.c - IDX files (MNIST's format), gzipped or plain, read through the
 * bounded source of source.h (zlib's inflate for gzip), written with zlib.
 *
 * Layout: magic 00 00 08 rank (08 = unsigned bytes), rank big-endian uint32
 * dimensions, then the payload in row-major order.  Reading is two steps:
 * the header, checked against the file (idx_open), then the payload
 * (idx_payload), so a data set compares its two headers, and the memory
 * limit, before either payload is read.  Every size is checked before
 * anything is allocated, the payload is read straight into its final buffer
 * in large chunks, and no partial result survives an error. */
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
#include "source.h"

#define IDX_MAX_BYTES ((uint64_t)1 << 32)   /* largest payload accepted: 4 GiB */
#define IDX_CHUNK (1u << 30)                /* bytes per gzwrite/fwrite call (< INT_MAX) */
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

/* An IDX file whose header has been read and checked against the file. */
struct idx_in {
    struct nn_src src;
    int rank;
    uint32_t dims[IDX_MAX_RANK];
    uint64_t total;   /* payload bytes the header announces */
};

/* Reports a failed or short read of `what` (want bytes wanted, got read). */
static void read_failure(const struct idx_in *f, const char *what, uint64_t want, uint64_t got,
                         char *err, size_t n_err)
{
    const struct nn_src *s = &f->src;
    char why[256];
    switch (s->state) {
    case NN_SRC_END:
    case NN_SRC_CUT:
    case NN_SRC_TRAILING:
        snprintf(err, n_err, "%s: truncated: expected %llu bytes of %s, got %llu%s", s->path,
                 (unsigned long long)want, what, (unsigned long long)got,
                 s->state == NN_SRC_CUT ? " (the compressed stream ends early)"
                 : s->state == NN_SRC_TRAILING ? " (the gzip stream ends there, and what "
                                                 "follows it is not gzip data)" : "");
        break;
    default:
        snprintf(err, n_err, "%s: %s, in the %s", s->path, nn_src_why(s, why, sizeof why),
                 what);
        break;
    }
}

/* Opens path and reads its header: magic, rank (at most max_rank), the
 * dimensions; checks the payload they announce against the 4 GiB limit and
 * against the file (a plain file must hold exactly header + payload bytes;
 * a gzip file must be large enough to inflate to them). */
static int idx_open(struct idx_in *f, const char *path, int max_rank, char *err, size_t n_err)
{
    memset(f, 0, sizeof *f);
    if (nn_src_open(&f->src, path, err, n_err)) return -1;
    uint8_t head[4];
    size_t got = nn_src_read(&f->src, head, 4);
    if (got < 4) {
        if (got == 0 && f->src.state == NN_SRC_END)
            snprintf(err, n_err, "%s: empty file, not an IDX file", path);
        else
            read_failure(f, "IDX header", 4, got, err, n_err);
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
    got = nn_src_read(&f->src, dbytes, 4 * (size_t)r);
    if (got < 4 * (size_t)r) {
        read_failure(f, "IDX header dimensions", 4 * (uint64_t)r, got, err, n_err);
        goto fail;
    }
    f->rank = r;
    /* size checks come before any allocation */
    uint64_t total = 1;
    int too_big = 0;
    for (int i = 0; i < r; i++) {
        f->dims[i] = be32(dbytes + 4 * i);
        if (f->dims[i] == 0) total = 0;   /* no payload, whatever the other dimensions */
        if (f->dims[i] > INT_MAX) {   /* so that every dimension read fits an int */
            snprintf(err, n_err, "%s: dimension %d of %d in the IDX header is %u, over %d",
                     path, i + 1, r, (unsigned)f->dims[i], INT_MAX);
            goto fail;
        }
    }
    for (int i = 0; i < r && total && !too_big; i++) {
        total *= f->dims[i];   /* <= 2^32 * (2^32 - 1): no overflow */
        if (total > IDX_MAX_BYTES) too_big = 1;
    }
    char shape[256];
    dims_text(shape, sizeof shape, f->dims, r);
    if (too_big) {
        snprintf(err, n_err, "%s: the header announces %s bytes of %s, over the 4 GiB limit",
                 path, shape, what_data(r));
        goto fail;
    }
    f->total = total;
    const uint64_t head_bytes = 4 + 4 * (uint64_t)r;
    if (!f->src.gz) {
        const uint64_t have = f->src.size - head_bytes;
        if (have < total) {
            snprintf(err, n_err, "%s: truncated: expected %llu bytes of %s, got %llu (the "
                     "header announces %s; the file has %llu bytes)", path,
                     (unsigned long long)total, what_data(r), (unsigned long long)have, shape,
                     (unsigned long long)f->src.size);
            goto fail;
        }
        if (have > total) {
            snprintf(err, n_err, "%s: trailing data: %llu bytes after the %llu bytes of %s the "
                     "header announces (%s)", path, (unsigned long long)(have - total),
                     (unsigned long long)total, what_data(r), shape);
            goto fail;
        }
    } else if (head_bytes + total > nn_src_gzip_max_out(f->src.size)) {
        snprintf(err, n_err, "%s: the header announces %llu bytes of %s (%s), more than a gzip "
                 "file of %llu bytes can hold (deflate expands at most 1032 times)", path,
                 (unsigned long long)total, what_data(r), shape,
                 (unsigned long long)f->src.size);
        goto fail;
    }
    return 0;
fail:
    nn_src_close(&f->src);
    return -1;
}

/* Reads the payload f's header announced into a new buffer, then checks
 * that nothing follows it and that the gzip trailer is sound.  Closes f. */
static int idx_payload(struct idx_in *f, uint8_t **data, char *err, size_t n_err)
{
    const char *path = f->src.path, *what = what_data(f->rank);
    const size_t total = (size_t)f->total;
    /* A plain file has been seen to hold the payload: allocate it whole.
     * A gzip file: at most 64 MiB before the data proves to be there. */
    size_t cap = f->src.gz && total > IDX_FIRST_ALLOC ? IDX_FIRST_ALLOC : total;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) {
        snprintf(err, n_err, "%s: out of memory for %zu bytes of %s", path, cap, what);
        goto fail;
    }
    size_t have = 0;
    for (;;) {
        have += nn_src_read(&f->src, buf + have, cap - have);
        if (have < cap) {
            read_failure(f, what, total, have, err, n_err);
            goto fail;
        }
        if (cap == total) break;
        size_t next = cap > total / 2 ? total : 2 * cap;
        uint8_t *grown = realloc(buf, next);
        if (!grown) {
            snprintf(err, n_err, "%s: out of memory for %zu bytes of %s", path, total, what);
            goto fail;
        }
        buf = grown;
        cap = next;
    }
    /* the payload must end the data (at most 4 KiB more is inflated to see),
     * and the gzip trailer must check out */
    uint8_t extra[4096];
    size_t more = nn_src_read(&f->src, extra, sizeof extra);
    char why[256];
    if (more > 0) {
        snprintf(err, n_err, "%s: trailing data: %s%zu bytes after the %zu bytes of %s the "
                 "header announces", path, more == sizeof extra ? "at least " : "", more, total,
                 what);
        goto fail;
    }
    if (f->src.state == NN_SRC_CUT) {
        snprintf(err, n_err, "%s: truncated: all %zu bytes of %s are there, but the compressed "
                 "stream ends before its checksum", path, total, what);
        goto fail;
    }
    if (f->src.state == NN_SRC_CORRUPT) {
        snprintf(err, n_err, "%s: %s, at the end of the %s (the payload is damaged)", path,
                 nn_src_why(&f->src, why, sizeof why), what);
        goto fail;
    }
    if (f->src.state != NN_SRC_END) {
        snprintf(err, n_err, "%s: %s", path, nn_src_why(&f->src, why, sizeof why));
        goto fail;
    }
    nn_src_close(&f->src);
    *data = buf;
    return 0;
fail:
    free(buf);
    nn_src_close(&f->src);
    return -1;
}

int nn_idx_read(const char *path, uint8_t **data, int *rank, uint32_t *dims, int max_rank,
                char *err, size_t n_err)
{
    *data = NULL;
    struct idx_in f;
    if (idx_open(&f, path, max_rank, err, n_err)) return -1;
    if (idx_payload(&f, data, err, n_err)) return -1;
    memcpy(dims, f.dims, sizeof *dims * (size_t)f.rank);
    *rank = f.rank;
    return 0;
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
    for (int i = 0; i < rank; i++) {
        if (!dims[i]) total = 0;   /* no payload, whatever the other dimensions (as nn_idx_read) */
        if (dims[i] > INT_MAX) {
            snprintf(err, n_err, "%s: dimension %d is %u, over %d", path, i + 1,
                     (unsigned)dims[i], INT_MAX);
            return -1;
        }
    }
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

/* Checks an images header: rank 3 or 4, at least one image, every
 * dimension from 1 to INT_MAX; fills the shape of ds.  The message gives
 * the numbers the header holds. */
static int images_shape(const struct idx_in *f, struct nn_dataset *ds, char *err, size_t n_err)
{
    const char *path = f->src.path;
    if (f->rank != 3 && f->rank != 4) {
        snprintf(err, n_err, "%s: images must be an IDX file of rank 3 (count, height, width) "
                 "or 4 (count, height, width, channels), not rank %d%s", path, f->rank,
                 f->rank == 1 ? " (a labels file?)" : "");
        return -1;
    }
    const uint32_t n = f->dims[0], h = f->dims[1], w = f->dims[2];
    const uint32_t c = f->rank == 4 ? f->dims[3] : 1;
    if (n == 0) {
        snprintf(err, n_err, "%s: holds no images (the header says 0 images of %u x %u x %u)",
                 path, (unsigned)h, (unsigned)w, (unsigned)c);
        return -1;
    }
    if (!h || !w || !c || h > INT_MAX || w > INT_MAX || c > INT_MAX) {
        snprintf(err, n_err, "%s: image shape %u x %u x %u (height x width x channels) is not "
                 "usable: each must be from 1 to %d", path, (unsigned)h, (unsigned)w,
                 (unsigned)c, INT_MAX);
        return -1;
    }
    ds->n = n;
    ds->h = (int)h;
    ds->w = (int)w;
    ds->c = (int)c;
    return 0;
}

/* -2 with a message when bytes pass max_bytes (0: no limit). */
static int check_budget(const char *path, const struct nn_dataset *ds, uint64_t bytes,
                        uint64_t max_bytes, char *err, size_t n_err)
{
    if (!max_bytes || bytes <= max_bytes) return 0;
    char need[64], have[64];
    nn_data_bytes_text(need, sizeof need, bytes);
    nn_data_bytes_text(have, sizeof have, max_bytes);
    snprintf(err, n_err, "%s: %zu images of %d x %d x %d and their labels take %s, more than "
             "the %s the memory limit leaves for data", path, ds->n, ds->h, ds->w, ds->c, need,
             have);
    return NN_DATA_TOO_BIG;
}

int nn_dataset_load_max(struct nn_dataset *ds, const char *images_path, const char *labels_path,
                        int n_classes, uint64_t max_bytes, char *err, size_t n_err)
{
    memset(ds, 0, sizeof *ds);
    struct idx_in im, lb;
    int rc = -1;
    /* both headers first: nothing is inflated or allocated until the two
     * files agree with each other and with the memory limit */
    if (idx_open(&im, images_path, 8, err, n_err)) return -1;
    if (images_shape(&im, ds, err, n_err)) {
        nn_src_close(&im.src);
        memset(ds, 0, sizeof *ds);
        return -1;
    }
    if (idx_open(&lb, labels_path, 8, err, n_err)) {
        nn_src_close(&im.src);
        memset(ds, 0, sizeof *ds);
        return -1;
    }
    if (lb.rank != 1) {
        snprintf(err, n_err, "%s: labels must be an IDX file of rank 1 (count), not rank %d",
                 labels_path, lb.rank);
        goto fail;
    }
    if (lb.dims[0] != im.dims[0]) {
        snprintf(err, n_err, "%s: %u labels but %s has %u images (from the headers)",
                 labels_path, (unsigned)lb.dims[0], images_path, (unsigned)im.dims[0]);
        goto fail;
    }
    if ((rc = check_budget(images_path, ds, im.total + lb.total, max_bytes, err, n_err)))
        goto fail;
    rc = -1;
    if (idx_payload(&im, &ds->images, err, n_err)) goto fail;
    if (idx_payload(&lb, &ds->labels, err, n_err)) goto fail;
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
    nn_src_close(&im.src);   /* harmless when idx_payload closed it */
    nn_src_close(&lb.src);
    nn_dataset_free(ds);
    return rc;
}

int nn_dataset_load(struct nn_dataset *ds, const char *images_path, const char *labels_path,
                    int n_classes, char *err, size_t n_err)
{
    return nn_dataset_load_max(ds, images_path, labels_path, n_classes, 0, err, n_err);
}

int nn_images_load(struct nn_dataset *ds, const char *path, uint64_t max_bytes, char *err,
                   size_t n_err)
{
    memset(ds, 0, sizeof *ds);
    struct idx_in im;
    if (idx_open(&im, path, 8, err, n_err)) return -1;
    int rc = images_shape(&im, ds, err, n_err);
    if (!rc) rc = check_budget(path, ds, im.total + ds->n, max_bytes, err, n_err);
    if (!rc) rc = idx_payload(&im, &ds->images, err, n_err);
    if (!rc) {
        ds->labels = calloc(ds->n, 1);   /* unknown: all 0 */
        if (!ds->labels) {
            snprintf(err, n_err, "%s: out of memory for %zu labels", path, ds->n);
            rc = -1;
        }
    }
    nn_src_close(&im.src);
    if (rc) nn_dataset_free(ds);
    ds->n_classes = rc ? 0 : 1;
    return rc;
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
