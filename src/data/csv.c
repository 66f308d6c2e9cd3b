/* csv.c - labelled images from CSV files, as Kaggle ships Fashion-MNIST:
 * "label,pixel1,...,pixel784", one sample per line.
 *
 * One pass over the file in large chunks (through zlib, so a gzipped file
 * works too), a small state machine per character, every pixel written
 * straight into the image block, which doubles as it fills.  The first bad
 * field stops the load with "PATH:LINE: what is wrong". */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnrun/data.h"
#include "nnrun/util.h"

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
    char *err;
    size_t n_err;
};

static void field_reset(struct csv_state *s)
{
    s->text_len = 0;
    s->text[0] = '\0';
    s->value = 0;
    s->digits = s->negative = s->bad = s->done = 0;
}

/* Makes room for sample ds->n; -1 when the data would pass 4 GiB or memory ran out. */
static int reserve(struct csv_state *s)
{
    struct nn_dataset *ds = s->ds;
    if (ds->n < s->cap) return 0;
    size_t cap = s->cap ? 2 * s->cap : 256;
    if ((uint64_t)cap * s->pixels > CSV_MAX_BYTES) cap = (size_t)(CSV_MAX_BYTES / s->pixels);
    if (cap <= ds->n) {
        snprintf(s->err, s->n_err, "%s:%zu: more than %zu samples of %zu pixels, over the "
                 "4 GiB limit", s->path, s->line, ds->n, s->pixels);
        return -1;
    }
    uint8_t *im = realloc(ds->images, cap * s->pixels);
    if (im) ds->images = im;
    uint8_t *lb = im ? realloc(ds->labels, cap) : NULL;
    if (lb) ds->labels = lb;
    if (!im || !lb) {
        snprintf(s->err, s->n_err, "%s:%zu: out of memory for %zu samples", s->path, s->line,
                 cap);
        return -1;
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
    if (f >= s->cols) {
        field_reset(s);
        return 0;   /* too many fields: counted, reported at the end of the line */
    }
    if (!s->digits || s->bad) {
        if (!s->text_len && !s->bad)
            snprintf(s->err, s->n_err, "%s:%zu: field %zu is empty; expected an integer",
                     s->path, s->line, f + 1);
        else
            snprintf(s->err, s->n_err, "%s:%zu: field %zu is '%s%s', not a number; expected "
                     "an integer", s->path, s->line, f + 1, s->text,
                     s->text_len >= CSV_FIELD_TEXT ? "..." : "");
        return -1;
    }
    const long long v = s->negative ? -s->value : s->value;
    const char *shown = s->text;
    if ((int)f == s->label_column) {
        if (v < 0 || v > 255 || (s->n_classes > 0 && v >= s->n_classes)) {
            snprintf(s->err, s->n_err, "%s:%zu: label %s (field %zu) is outside the %d "
                     "classes 0..%d", s->path, s->line, shown, f + 1,
                     s->n_classes > 0 ? s->n_classes : 256,
                     (s->n_classes > 0 ? s->n_classes : 256) - 1);
            return -1;
        }
        s->ds->labels[s->ds->n] = (uint8_t)v;
    } else {
        if (v < 0 || v > 255) {
            snprintf(s->err, s->n_err, "%s:%zu: pixel value %s (field %zu) is outside 0..255",
                     s->path, s->line, shown, f + 1);
            return -1;
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
        return -1;
    }
    s->ds->n++;
    s->field = 0;
    s->blank = 1;
    return 0;
}

static int feed(struct csv_state *s, char ch)
{
    if (s->blank && ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') {
        if (reserve(s)) return -1;
        s->blank = 0;
    }
    switch (ch) {
    case ',':
        return end_field(s);
    case ' ': case '\t': case '\r':
        if (s->digits) s->done = 1;
        if (s->text_len && s->text_len < CSV_FIELD_TEXT && ch != '\r') {
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

int nn_csv_load(struct nn_dataset *ds, const char *path, int label_column, int header, int h,
                int w, int c, int n_classes, char *err, size_t n_err)
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
    errno = 0;
    gzFile f = gzopen(path, "rbe");
    if (!f) {
        snprintf(err, n_err, "%s: cannot open: %s", path,
                 errno ? strerror(errno) : "out of memory");
        return -1;
    }
    gzbuffer(f, CSV_CHUNK);
    struct csv_state s = {.path = path, .line = 1, .cols = (size_t)pixels + 1,
                          .pixels = (size_t)pixels, .label_column = label_column,
                          .n_classes = n_classes, .blank = 1, .ds = ds, .err = err,
                          .n_err = n_err};
    field_reset(&s);
    ds->h = h, ds->w = w, ds->c = c;
    char *buf = nn_xmalloc(CSV_CHUNK);
    int skipping = header, rc = -1, r;
    while ((r = gzread(f, buf, CSV_CHUNK)) > 0) {
        for (int i = 0; i < r; i++) {
            const char ch = buf[i];
            if (ch == '\n') {
                if (!skipping && end_line(&s)) goto out;
                skipping = 0;
                s.line++;
            } else if (!skipping && feed(&s, ch)) {
                goto out;
            }
        }
    }
    int code;
    const char *m = gzerror(f, &code);
    const size_t plen = strlen(path);   /* zlib's message starts "PATH: " */
    if (m && !strncmp(m, path, plen) && m[plen] == ':' && m[plen + 1] == ' ') m += plen + 2;
    if (r < 0 || (code != Z_OK && code != Z_STREAM_END)) {
        snprintf(err, n_err, "%s:%zu: %s: %s", path, s.line,
                 code == Z_ERRNO ? "read error" : code == Z_BUF_ERROR
                                                      ? "truncated gzip stream"
                                                      : "corrupt gzip stream",
                 code == Z_ERRNO ? strerror(errno) : m ? m : "unknown error");
        goto out;
    }
    if (!skipping && end_line(&s)) goto out;   /* a last line without '\n' */
    if (ds->n == 0) {
        snprintf(err, n_err, "%s: holds no samples%s", path, header ? " (only a header)" : "");
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
    rc = 0;
out:
    free(buf);
    gzclose(f);
    if (rc) nn_dataset_free(ds);
    return rc;
}
