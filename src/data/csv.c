/* csv.c - labelled images from CSV files, as Kaggle ships Fashion-MNIST:
 * "label,pixel1,...,pixel784", one sample per line.
 *
 * One pass over the file in large chunks (through the bounded source of
 * source.h, so a gzipped file works too and only a regular file is read,
 * never past its size at open), a small state machine per character, every
 * pixel written straight into the image block, which doubles as it fills
 * (within the memory limit).  Fields, lines and the header line have length
 * caps, so any input ends in bounded time and memory.  The first bad field
 * stops the load with "PATH:LINE: what is wrong". */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/data.h"
#include "nnrun/util.h"
#include "source.h"

#define CSV_MAX_BYTES ((uint64_t)1 << 32)   /* images at most 4 GiB, as for IDX */
#define CSV_CHUNK (1 << 18)
#define CSV_FIELD_TEXT 40                   /* characters of a field kept for messages */

struct csv_state {
    const char *path;
    size_t line;                /* from 1 */
    size_t cols, pixels;        /* per line: cols = pixels + 1 */
    int label_column, n_classes;
    /* the current field */
    char text[CSV_FIELD_TEXT + 1];
    size_t text_len;
    long long value;
    int digits, negative, bad, done;   /* done: spaces after the digits */
    /* the current line */
    size_t field;               /* fields finished on this line */
    int blank;                  /* nothing but spaces so far */
    /* the data set being built */
    struct nn_dataset *ds;
    size_t cap;                 /* samples the blocks hold */
    size_t flen;                /* characters of the current field so far */
    uint64_t max_bytes;         /* the memory limit for the data (0: none) */
    int rc;                     /* -1 or NN_DATA_TOO_BIG once failed */
    char *err;
    size_t n_err;
};

static void field_reset(struct csv_state *s)
{
    s->text_len = 0;
    s->text[0] = '\0';
    s->flen = 0;
    s->value = 0;
    s->digits = s->negative = s->bad = s->done = 0;
}

/* The field text for a message: its first 24 bytes, control and non-ASCII
 * bytes as \xNN, "..." when there is more. */
static const char *shown(const struct csv_state *s, char *buf, size_t n)
{
    size_t k = 0, i = 0;
    for (; i < s->text_len && i < 24 && k + 8 < n; i++) {
        const unsigned char ch = (unsigned char)s->text[i];
        if (ch < 0x20 || ch >= 0x7f)
            k += (size_t)snprintf(buf + k, n - k, "\\x%02x", ch);
        else
            buf[k++] = (char)ch;
    }
    if (i < s->text_len || s->text_len >= CSV_FIELD_TEXT)
        k += (size_t)snprintf(buf + k, n - k, "...");
    buf[k] = '\0';
    return buf;
}

static int fail(struct csv_state *s, int rc)
{
    s->rc = rc;
    return rc;
}

/* Makes room for sample ds->n; fails when the data would pass 4 GiB or the
 * memory limit, or memory ran out. */
static int reserve(struct csv_state *s)
{
    struct nn_dataset *ds = s->ds;
    if (ds->n < s->cap) return 0;
    size_t cap = s->cap ? 2 * s->cap : 256;
    if ((uint64_t)cap * s->pixels > CSV_MAX_BYTES) cap = (size_t)(CSV_MAX_BYTES / s->pixels);
    if (cap <= ds->n) {
        snprintf(s->err, s->n_err, "%s:%zu: more than %zu samples of %zu pixels, over the "
                 "4 GiB limit", s->path, s->line, ds->n, s->pixels);
        return fail(s, -1);
    }
    if (s->max_bytes && (uint64_t)cap * (s->pixels + 1) > s->max_bytes) {
        cap = (size_t)(s->max_bytes / (s->pixels + 1));
        if (cap <= ds->n) {
            char lim[64];
            nn_data_bytes_text(lim, sizeof lim, s->max_bytes);
            snprintf(s->err, s->n_err, "%s:%zu: %zu samples of %d x %d x %d and their labels "
                     "would pass the %s the memory limit leaves for data", s->path, s->line,
                     ds->n + 1, ds->h, ds->w, ds->c, lim);
            return fail(s, NN_DATA_TOO_BIG);
        }
    }
    uint8_t *im = realloc(ds->images, cap * s->pixels);
    if (im) ds->images = im;
    uint8_t *lb = im ? realloc(ds->labels, cap) : NULL;
    if (lb) ds->labels = lb;
    if (!im || !lb) {
        snprintf(s->err, s->n_err, "%s:%zu: out of memory for %zu samples", s->path, s->line,
                 cap);
        return fail(s, -1);
    }
    s->cap = cap;
    return 0;
}

/* Ends the current field: checks it and stores it in sample ds->n. */
static int end_field(struct csv_state *s)
{
    const size_t f = s->field++;
    while (s->text_len && (s->text[s->text_len - 1] == ' ' || s->text[s->text_len - 1] == '\t'))
        s->text[--s->text_len] = '\0';
    char buf[4 * 24 + 8];
    if (f >= s->cols) {
        field_reset(s);
        if (s->field <= 2 * s->cols + 16) return 0;   /* counted, reported at the line's end */
        snprintf(s->err, s->n_err, "%s:%zu: more than %zu fields, expected %zu (a label and "
                 "%zu pixels)", s->path, s->line, 2 * s->cols + 16, s->cols, s->pixels);
        return fail(s, -1);
    }
    if (!s->digits || s->bad) {
        if (!s->text_len && !s->bad)
            snprintf(s->err, s->n_err, "%s:%zu: field %zu is empty; expected an integer",
                     s->path, s->line, f + 1);
        else
            snprintf(s->err, s->n_err, "%s:%zu: field %zu is '%s', not a number; expected "
                     "an integer", s->path, s->line, f + 1, shown(s, buf, sizeof buf));
        return fail(s, -1);
    }
    const long long v = s->negative ? -s->value : s->value;
    const char *num = s->text;   /* digits and a sign only */
    if ((int)f == s->label_column) {
        if (v < 0 || v > 255 || (s->n_classes > 0 && v >= s->n_classes)) {
            snprintf(s->err, s->n_err, "%s:%zu: label %s (field %zu) is outside the %d "
                     "classes 0..%d", s->path, s->line, num, f + 1,
                     s->n_classes > 0 ? s->n_classes : 256,
                     (s->n_classes > 0 ? s->n_classes : 256) - 1);
            return fail(s, -1);
        }
        s->ds->labels[s->ds->n] = (uint8_t)v;
    } else {
        if (v < 0 || v > 255) {
            snprintf(s->err, s->n_err, "%s:%zu: pixel value %s (field %zu) is outside 0..255",
                     s->path, s->line, num, f + 1);
            return fail(s, -1);
        }
        const size_t p = (int)f < s->label_column ? f : f - 1;
        s->ds->images[s->ds->n * s->pixels + p] = (uint8_t)v;
    }
    field_reset(s);
    return 0;
}

/* Ends the current line (a sample unless blank). */
static int end_line(struct csv_state *s)
{
    if (s->blank) {
        field_reset(s);
        s->field = 0;
        return 0;
    }
    if (end_field(s)) return -1;
    if (s->field != s->cols) {
        snprintf(s->err, s->n_err, "%s:%zu: %zu fields, expected %zu (a label and %zu pixels)",
                 s->path, s->line, s->field, s->cols, s->pixels);
        return fail(s, -1);
    }
    s->ds->n++;
    s->field = 0;
    s->blank = 1;
    return 0;
}

static int feed(struct csv_state *s, char ch)
{
    if (s->blank && ch != ' ' && ch != '\t') {
        if (reserve(s)) return -1;
        s->blank = 0;
    }
    if (ch == ',') return end_field(s);
    if (++s->flen > NN_CSV_MAX_FIELD) {
        char buf[4 * 24 + 8];
        snprintf(s->err, s->n_err, "%s:%zu: field %zu is longer than %d characters ('%s'); "
                 "expected an integer", s->path, s->line, s->field + 1, NN_CSV_MAX_FIELD,
                 shown(s, buf, sizeof buf));
        return fail(s, -1);
    }
    switch (ch) {
    case ' ': case '\t':
        if (s->digits) s->done = 1;
        if (s->text_len && s->text_len < CSV_FIELD_TEXT) {
            s->text[s->text_len++] = ch;   /* kept for the message, as written */
            s->text[s->text_len] = '\0';
        }
        return 0;
    default:
        break;
    }
    if (s->text_len < CSV_FIELD_TEXT) {
        s->text[s->text_len++] = ch;
        s->text[s->text_len] = '\0';
    }
    if (ch >= '0' && ch <= '9' && !s->done) {
        s->digits++;
        if (s->value < 1000000) s->value = s->value * 10 + (ch - '0');
    } else if ((ch == '-' || ch == '+') && !s->digits && !s->negative && s->text_len == 1) {
        s->negative = ch == '-';
    } else {
        s->bad = 1;
    }
    return 0;
}

int nn_csv_load_max(struct nn_dataset *ds, const char *path, int label_column, int header,
                    int h, int w, int c, int n_classes, uint64_t max_bytes, char *err,
                    size_t n_err)
{
    memset(ds, 0, sizeof *ds);
    if (h < 1 || w < 1 || c < 1) {
        snprintf(err, n_err, "%s: image shape %d x %d x %d is not usable", path, h, w, c);
        return -1;
    }
    const uint64_t pixels = (uint64_t)h * (uint64_t)w * (uint64_t)c;
    if (pixels > CSV_MAX_BYTES) {
        snprintf(err, n_err, "%s: images of %d x %d x %d pixels are over the 4 GiB limit", path,
                 h, w, c);
        return -1;
    }
    if (label_column < 0 || (uint64_t)label_column > pixels) {
        snprintf(err, n_err, "%s: label_column %d is past the %llu fields of a line (a label "
                 "and %d x %d x %d pixels)", path, label_column,
                 (unsigned long long)pixels + 1, h, w, c);
        return -1;
    }
    struct nn_src src;
    if (nn_src_open(&src, path, err, n_err)) return -1;
    struct csv_state s = {.path = path, .line = 1, .cols = (size_t)pixels + 1,
                          .pixels = (size_t)pixels, .label_column = label_column,
                          .n_classes = n_classes, .blank = 1, .ds = ds, .max_bytes = max_bytes,
                          .err = err, .n_err = n_err};
    field_reset(&s);
    ds->h = h, ds->w = w, ds->c = c;
    char *buf = nn_xmalloc(CSV_CHUNK);
    const uint64_t header_cap = NN_CSV_MAX_HEADER(s.cols);
    /* bytes between two samples (blank lines, spaces, the next line itself):
     * at most a full line plus 1 MiB, so that the work per sample is bounded
     * (a gzip file of nothing but line breaks ends too) */
    const uint64_t gap_cap = (uint64_t)s.cols * (NN_CSV_MAX_FIELD + 1) + ((uint64_t)1 << 20);
    uint64_t header_len = 0, total = 0, gap = 0;
    int skipping = header, after_cr = 0, header_seen = 0;
    size_t r;
    while ((r = nn_src_read(&src, buf, CSV_CHUNK)) > 0) {
        total += r;
        for (size_t i = 0; i < r; i++) {
            const char ch = buf[i];
            if (ch == '\n' && after_cr) {   /* the "\n" of "\r\n" */
                after_cr = 0;
                continue;
            }
            after_cr = ch == '\r';
            if (!skipping && ++gap > gap_cap) {
                snprintf(err, n_err, "%s:%zu: more than %llu bytes of blank lines and "
                         "spaces without a sample", path, s.line, (unsigned long long)gap_cap);
                s.rc = -1;
                goto out;
            }
            if (ch == '\n' || ch == '\r') {   /* "\n", "\r\n" or a lone "\r" */
                const size_t before = ds->n;
                if (skipping) header_seen = 1;
                else if (end_line(&s)) goto out;
                if (ds->n > before) gap = 0;
                skipping = 0;
                s.line++;
            } else if (skipping) {
                if (++header_len > header_cap) {
                    snprintf(err, n_err, "%s:1: the header line is longer than %llu bytes "
                             "(no line break; is this a CSV file of %zu columns?)", path,
                             (unsigned long long)header_cap, s.cols);
                    s.rc = -1;
                    goto out;
                }
            } else if (feed(&s, ch)) {
                goto out;
            }
        }
    }
    if (src.state != NN_SRC_END) {
        char why[256];
        snprintf(err, n_err, "%s:%zu: %s", path, s.line, nn_src_why(&src, why, sizeof why));
        s.rc = -1;
        goto out;
    }
    if (skipping && header_len) header_seen = 1;   /* a header line without '\n' */
    if (!skipping && end_line(&s)) goto out;       /* a last line without '\n' */
    if (ds->n == 0) {
        snprintf(err, n_err, "%s: holds no samples (%s)", path,
                 total == 0 ? "the file is empty"
                 : header_seen && s.line <= 2 ? "only a header"
                 : header_seen ? "only a header and blank lines" : "only blank lines");
        s.rc = -1;
        goto out;
    }
    int top = 0;
    for (size_t i = 0; i < ds->n; i++)
        if (ds->labels[i] > top) top = ds->labels[i];
    ds->n_classes = n_classes > top + 1 ? n_classes : top + 1;
    /* give the unused tail of the blocks back (keeping them is fine if realloc fails) */
    uint8_t *im = realloc(ds->images, ds->n * s.pixels);
    if (im) ds->images = im;
    uint8_t *lb = realloc(ds->labels, ds->n);
    if (lb) ds->labels = lb;
    s.rc = 0;
out:
    free(buf);
    nn_src_close(&src);
    if (s.rc) nn_dataset_free(ds);
    return s.rc;
}

int nn_csv_load(struct nn_dataset *ds, const char *path, int label_column, int header, int h,
                int w, int c, int n_classes, char *err, size_t n_err)
{
    return nn_csv_load_max(ds, path, label_column, header, h, w, c, n_classes, 0, err, n_err);
}
