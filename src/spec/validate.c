/* validate.c - the YAML tree -> struct nn_spec, driven by key tables.
 *
 * Every section and every layer kind declares its keys once as a table of
 * struct nn_arg_desc {key, type, bounds, default, choices}; one generic
 * routine checks a mapping against a table, so every error has the same
 * form: file:line:column, what was found, what is accepted, a did-you-mean.
 * All errors are collected before returning.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/layer.h"
#include "nnrun/optim.h"
#include "nnrun/spec.h"
#include "nnrun/util.h"
#include "tables.h"

const char *const nn_act_names[NN_ACT_COUNT] = {
    "linear", "tanh", "relu", "sigmoid", "softmax", "leaky_relu", "elu"};
const char *const nn_init_names[NN_INIT_COUNT] = {
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros"};
const char *const nn_padding_names[NN_PAD_COUNT] = {"valid", "same"};
const char *const nn_loss_names[NN_LOSS_COUNT] = {
    "sparse_categorical_crossentropy", "categorical_crossentropy", "mse"};
const char *const nn_optim_names[NN_OPT_COUNT] = {"sgd", "rmsprop", "adam", "adamw"};
const char *const nn_metric_names[NN_METRIC_COUNT] = {"accuracy", "mse", "loss"};

#define NCHOICES(a) (int)(sizeof(a) / sizeof((a)[0]))

/* ---- scalar conversion -------------------------------------------------- */

/* s for a message, on one line: controls, line breaks and bytes that are not
 * UTF-8 as \xNN or \uNNNN, at most about max bytes, never cutting a character. */
static const char *shown(char *buf, size_t size, const char *s, size_t max)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 8 < size;) {
        if (o >= max) {
            memcpy(buf + o, "...", 4);
            return buf;
        }
        long cp;
        int len = nn_spec_utf8_char(p, &cp);
        if (!len || (cp <= 0xff && nn_spec_forbidden_char(cp)))
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", len ? (unsigned)cp : *p);
        else if (nn_spec_forbidden_char(cp))
            o += (size_t)snprintf(buf + o, size - o, "\\u%04lx", cp);
        else
            memcpy(buf + o, p, (size_t)len), o += (size_t)len;
        p += len ? len : 1;
    }
    buf[o] = '\0';
    return buf;
}

static const char *describe(const struct nn_ynode *n)
{
    static char buf[160];
    char t[128];
    if (n->kind == NN_Y_MAP) return "a mapping";
    if (n->kind == NN_Y_SEQ) return "a list";
    shown(t, sizeof t, n->str, 80);
    if (n->quoted == 2) snprintf(buf, sizeof buf, "the text '%s' (tagged !!str)", t);
    else if (n->quoted) snprintf(buf, sizeof buf, "the quoted text \"%s\"", t);
    else snprintf(buf, sizeof buf, "'%s'", t);
    return buf;
}

static int is_null(const struct nn_ynode *n)
{
    return n->kind == NN_Y_SCALAR && !n->quoted &&
           (!n->str[0] || !strcmp(n->str, "~") || !strcmp(n->str, "null"));
}

static int scalar_long(const struct nn_ynode *n, long long *out)
{
    if (n->kind != NN_Y_SCALAR || n->quoted || !n->str[0]) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(n->str, &end, 10);
    if (*end || errno) {
        /* accept integral floats written like 1e3 */
        errno = 0;
        double d = strtod(n->str, &end);
        if (*end || end == n->str) return -1;
        if (errno == ERANGE ? !isinf(d) : (!isfinite(d) || d != floor(d))) return -1;
        /* a whole number too big for long long (99999999999999999999, 1e300, inf from
           an overflowing 1e999): clamped, so that the range check says it is too big */
        if (d >= 9.2e18) v = LLONG_MAX;
        else if (d <= -9.2e18) v = LLONG_MIN;
        else v = (long long)d;
    }
    *out = v;
    return 0;
}

/* A number; out of a double's range (1e999, 1e-999) it is strtod's +-HUGE_VAL or
 * its tiny result, which the float checks then refuse with the value's text. */
static int scalar_double(const struct nn_ynode *n, double *out)
{
    if (n->kind != NN_Y_SCALAR || n->quoted || !n->str[0]) return -1;
    char *end;
    errno = 0;
    double v = strtod(n->str, &end);
    if (*end || end == n->str || (errno != ERANGE && !isfinite(v))) return -1;
    /* an underflow (1e-400) gives 0 or a denormal double: kept non-zero, so that it is
       refused as too small rather than taken as 0 */
    if (errno == ERANGE && fabs(v) < 1) v = v == 0 ? copysign(DBL_TRUE_MIN, v) : v;
    *out = v;
    return 0;
}

static int scalar_bool(const struct nn_ynode *n, int *out)
{
    if (n->kind != NN_Y_SCALAR || n->quoted) return -1;
    static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "on"};
    static const char *const f[] = {"false", "False", "FALSE", "no", "No", "off"};
    for (int i = 0; i < 6; i++) {
        if (!strcmp(n->str, t[i])) return *out = 1, 0;
        if (!strcmp(n->str, f[i])) return *out = 0, 0;
    }
    return -1;
}

/* Reports an unknown name against choices, with a did-you-mean. */
static void bad_choice(struct nn_diag *d, struct nn_mark m, const char *what,
                       const char *found, const char *const *choices, int n)
{
    char list[1024], f[128];
    nn_join(list, sizeof list, choices, n);
    const char *s = nn_suggest(found, choices, n);
    shown(f, sizeof f, found, 80);
    if (s)
        nn_diag_error(d, m, "unknown %s '%s'; expected one of: %s (did you mean '%s'?)", what,
                      f, list, s);
    else
        nn_diag_error(d, m, "unknown %s '%s'; expected one of: %s", what, f, list);
}

static int find_choice(const char *s, const char *const *choices, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, choices[i])) return i;
    return -1;
}

/* Exact: the digits are read as a decimal, never through a double, so no text
 * is rounded into the range (9.007199254740993e15 is refused, not 2^53). */
int nn_seed_parse(const char *text, uint64_t *seed)
{
    if (!text) return -1;
    const char *p = text;
    const char *int_digits = p;
    while (*p >= '0' && *p <= '9') p++;
    const long n_int = p - int_digits;
    if (!n_int) return -1;   /* no sign, space, '.5', hex or words */
    const char *frac = NULL;
    long n_frac = 0;
    if (*p == '.') {
        frac = ++p;
        while (*p >= '0' && *p <= '9') p++;
        n_frac = p - frac;
    }
    long e = 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        int neg = *p == '-';
        if (*p == '-' || *p == '+') p++;
        if (!(*p >= '0' && *p <= '9')) return -1;
        for (; *p >= '0' && *p <= '9'; p++)
            if (e < 100000) e = e * 10 + (*p - '0');
        if (neg) e = -e;
    }
    if (*p) return -1;
    /* digit k of int_digits then frac; the integer has the first n_int + e of them */
    const long n = n_int + n_frac, whole = n_int + e;
    uint64_t v = 0;
    for (long k = 0; k < (whole > n ? whole : n); k++) {
        const int dig = k >= n ? 0 : k < n_int ? int_digits[k] - '0' : frac[k - n_int] - '0';
        if (k >= whole) {
            if (dig) return -1;   /* a fraction */
            continue;
        }
        if (v > (NN_SEED_MAX - (uint64_t)dig) / 10) return -1;
        v = v * 10 + (uint64_t)dig;
    }
    *seed = v;
    return 0;
}

/* ---- text values --------------------------------------------------------- */

int nn_spec_utf8_char(const unsigned char *s, long *cp)
{
    if (s[0] < 0x80) return *cp = s[0], 1;
    int len;
    long c;
    unsigned char lo = 0x80, hi = 0xbf;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) len = 2, c = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3, c = s[0] & 0x0f;
        if (s[0] == 0xe0) lo = 0xa0;   /* overlong */
        if (s[0] == 0xed) hi = 0x9f;   /* surrogates */
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, c = s[0] & 0x07;
        if (s[0] == 0xf0) lo = 0x90;   /* overlong */
        if (s[0] == 0xf4) hi = 0x8f;   /* beyond U+10FFFF */
    } else {
        return 0;
    }
    for (int i = 1; i < len; i++) {
        if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf)) return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    *cp = c;
    return len;
}

int nn_spec_forbidden_char(long cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

/* The byte offset of the first character of s that is not allowed text (not
 * UTF-8, or forbidden_char), or -1 when all of it is; *cp is its code point,
 * or -1 for bytes that are not UTF-8, and *chars the characters before it. */
static long bad_text(const char *s, long *cp, long *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    *chars = 0;
    for (long i = 0; p[i]; (*chars)++) {
        int len = nn_spec_utf8_char(p + i, cp);
        if (!len) return *cp = -1, i;
        if (nn_spec_forbidden_char(*cp)) return i;
        i += len;
    }
    return -1;
}

/* Refuses a text value (a name, a file path) that does not round-trip
 * through the resolved spec: what is the subject of the message. */
static int check_text(struct nn_diag *d, const struct nn_ynode *n, const char *what)
{
    long cp, chars;
    long at = bad_text(n->str, &cp, &chars);
    if (at < 0) return 0;
    if (cp < 0)
        nn_diag_error(d, n->mark, "%s is not valid UTF-8 text: byte 0x%02x at character %ld "
                      "(from 1) starts no UTF-8 character", what,
                      ((const unsigned char *)n->str)[at], chars + 1);
    else
        nn_diag_error(d, n->mark, "%s holds the control character U+%04lX%s at character %ld "
                      "(from 1); names and file paths in a spec must be printable text, on "
                      "one line", what, cp,
                      cp == '\n' ? " (line feed)" : cp == '\t' ? " (tab)" :
                      cp == '\r' ? " (carriage return)" : "", chars + 1);
    return -1;
}

/* s with every character check_text refuses replaced by '_', in place: for
 * a name taken from the spec's file name, which may be anything. */
static void sanitize_text(char *s)
{
    long cp, chars, at;
    while ((at = bad_text(s, &cp, &chars)) >= 0) {
        long len = cp < 0 ? 1 : nn_spec_utf8_char((const unsigned char *)s + at, &cp);
        s[at] = '_';
        memmove(s + at + 1, s + at + len, strlen(s + at + len) + 1);
    }
}

static void fmt_num(char *buf, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%g", v);
}

/* Checks v against a's bounds; note (or "") follows the value in the message. */
static int check_range_note(struct nn_diag *d, const struct nn_ynode *n, const char *ctx,
                            const struct nn_arg_desc *a, double v, double min, double max,
                            const char *note)
{
    if (v >= min && (a->max_open ? v < max : v <= max)) return 0;
    char lo[32], hi[32];
    fmt_num(lo, sizeof lo, a->min);
    fmt_num(hi, sizeof hi, a->max);
    /* a layer's width: say what it would cost, so "too big" has a size */
    char cost[160] = "";
    if (v > a->max && (!strcmp(a->key, "units") || !strcmp(a->key, "filters"))) {
        double bytes = v * 4.0 * 2.0;   /* float32 output and its gradient, per sample */
        const char *u[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int k = 0;
        while (bytes >= 1024 && k < 6) bytes /= 1024, k++;
        snprintf(cost, sizeof cost, " (its output and gradient alone would need %.1f %s of "
                 "memory per sample, before any weights)", bytes, u[k]);
    }
    nn_diag_error(d, n->mark, "%s: '%s' is %s%s; it must be %s %s and %s %s%s", ctx, a->key,
                  n->str, note, ">=", lo, a->max_open ? "<" : "<=", hi, cost);
    return -1;
}

static int check_range(struct nn_diag *d, const struct nn_ynode *n, const char *ctx,
                       const struct nn_arg_desc *a, double v)
{
    return check_range_note(d, n, ctx, a, v, a->min, a->max, "");
}

/* A FLOAT key is stored and used as a 32-bit float, so the float is what is
 * checked: 0.99999999 is 1.0f and fails "< 1", 1e39 is beyond FLT_MAX, 1e-50
 * would become 0 and 1e-40 a denormal.  The bounds are compared as floats too
 * (1e-12 as a float is below the double 1e-12), so a value at a bound passes.
 * The accepted float is what the resolved spec writes (9 significant digits
 * give back the same float), and that text passes the same checks: the record
 * reloads.  -0 becomes 0.  Returns 0 with *out set, or -1 with the error. */
static int check_float(struct nn_diag *d, const struct nn_ynode *n, const char *ctx,
                       const struct nn_arg_desc *a, double v, float *out)
{
    const double lo = (float)a->min, hi = (float)a->max;
    if (fabs(v) > FLT_MAX) {   /* out of float range: converting would be inf */
        check_range_note(d, n, ctx, a, v > 0 ? INFINITY : -INFINITY, lo, hi,
                         " (beyond the largest 32-bit float, 3.40282347e+38)");
        return -1;
    }
    const float f = (float)v;
    char note[96] = "";
    const int double_ok = v >= a->min && (a->max_open ? v < a->max : v <= a->max);
    if ((double)f != v && double_ok)   /* only the rounding takes it out of bounds */
        snprintf(note, sizeof note, " (%.9g as the 32-bit float nnrun uses)", (double)f);
    if (check_range_note(d, n, ctx, a, f, lo, hi, note)) return -1;
    if (v != 0 && fabsf(f) < FLT_MIN) {
        nn_diag_error(d, n->mark, "%s: '%s' is %s, below the smallest normal 32-bit float "
                      "(1.17549435e-38) in magnitude; nnrun computes in 32-bit floats, so "
                      "write 0 or a value of at least 1.17549435e-38", ctx, a->key, n->str);
        return -1;
    }
    *out = f == 0 ? 0.0f : f;
    return 0;
}

/* Parses one value per its description into base + a->offset. */
static int parse_value(struct nn_diag *d, const struct nn_ynode *n, const char *ctx,
                       const struct nn_arg_desc *a, void *base)
{
    char *dst = (char *)base + a->offset;
    long long iv;
    double dv;
    int bv;
    switch (a->type) {
    case NN_ARG_INT:
        if (scalar_long(n, &iv)) {
            nn_diag_error(d, n->mark, "%s: '%s' must be an integer, found %s", ctx, a->key,
                          describe(n));
            return -1;
        }
        if (check_range(d, n, ctx, a, (double)iv)) return -1;
        *(int *)dst = (int)iv;
        return 0;
    case NN_ARG_PAIR: {
        int *p = (int *)dst;
        if (n->kind == NN_Y_SEQ) {
            if (n->n != 2) {
                nn_diag_error(d, n->mark, "%s: '%s' must be an integer or a list of 2 "
                              "integers [height, width], found a list of %d", ctx, a->key, n->n);
                return -1;
            }
            for (int i = 0; i < 2; i++) {
                if (scalar_long(n->items[i], &iv)) {
                    nn_diag_error(d, n->items[i]->mark, "%s: '%s' must hold integers, found %s",
                                  ctx, a->key, describe(n->items[i]));
                    return -1;
                }
                if (check_range(d, n->items[i], ctx, a, (double)iv)) return -1;
                p[i] = (int)iv;
            }
            return 0;
        }
        if (scalar_long(n, &iv)) {
            nn_diag_error(d, n->mark, "%s: '%s' must be an integer or a list of 2 integers "
                          "[height, width], found %s", ctx, a->key, describe(n));
            return -1;
        }
        if (check_range(d, n, ctx, a, (double)iv)) return -1;
        p[0] = p[1] = (int)iv;
        return 0;
    }
    case NN_ARG_FLOAT:
        if (scalar_double(n, &dv)) {
            nn_diag_error(d, n->mark, "%s: '%s' must be a number, found %s", ctx, a->key,
                          describe(n));
            return -1;
        }
        if (check_float(d, n, ctx, a, dv, (float *)dst)) return -1;
        return 0;
    case NN_ARG_BOOL:
        if (scalar_bool(n, &bv)) {
            nn_diag_error(d, n->mark, "%s: '%s' must be true or false, found %s", ctx, a->key,
                          describe(n));
            return -1;
        }
        *(int *)dst = bv;
        return 0;
    case NN_ARG_ENUM: {
        if (n->kind != NN_Y_SCALAR) {
            char list[512];
            nn_join(list, sizeof list, a->choices, a->n_choices);
            nn_diag_error(d, n->mark, "%s: '%s' must be one of: %s; found %s", ctx, a->key,
                          list, describe(n));
            return -1;
        }
        int k = find_choice(n->str, a->choices, a->n_choices);
        if (k < 0) {
            bad_choice(d, n->mark, a->key, n->str, a->choices, a->n_choices);
            return -1;
        }
        *(int *)dst = k;
        return 0;
    }
    case NN_ARG_STRING:
        if (n->kind != NN_Y_SCALAR || !n->str[0]) {
            nn_diag_error(d, n->mark, "%s: '%s' must be a text value, found %s", ctx, a->key,
                          n->kind == NN_Y_SCALAR ? "nothing" : describe(n));
            return -1;
        }
        {
            char what[160];
            snprintf(what, sizeof what, "%s: '%s'", ctx, a->key);
            if (check_text(d, n, what)) return -1;
        }
        free(*(char **)dst);
        *(char **)dst = nn_xstrdup(n->str);
        return 0;
    }
    return -1;
}

static void set_default(const struct nn_arg_desc *a, void *base)
{
    char *dst = (char *)base + a->offset;
    switch (a->type) {
    case NN_ARG_INT: case NN_ARG_BOOL: case NN_ARG_ENUM: *(int *)dst = (int)a->def; break;
    case NN_ARG_PAIR: ((int *)dst)[0] = ((int *)dst)[1] = (int)a->def; break;
    case NN_ARG_FLOAT: *(float *)dst = (float)a->def; break;
    case NN_ARG_STRING: *(char **)dst = NULL; break;
    }
}

/* Keys handled by the caller rather than the table (name, inputs, ...). */
struct extra_keys {
    const char *const *keys;
    int n;
    int unlisted;   /* 1: not offered in "expected one of" (the view of flat_named) */
};

/* Checks map against table: unknown keys, types, bounds, required keys.
 * Fills base with defaults first.  Returns the number of errors. */
static int parse_table(struct nn_diag *d, const struct nn_ynode *map, const char *ctx,
                       const struct nn_arg_desc *table, int n_table, void *base,
                       struct extra_keys extra)
{
    int errors = 0;
    for (int i = 0; i < n_table; i++) set_default(&table[i], base);
    if (map && map->kind != NN_Y_MAP) {
        nn_diag_error(d, map->mark, "%s: expected a mapping of keys, found %s", ctx,
                      describe(map));
        return 1;
    }
    for (int i = 0; map && i < map->n; i++) {
        const char *key = map->keys[i];
        if (find_choice(key, extra.keys, extra.n) >= 0) continue;
        int k = -1;
        for (int j = 0; j < n_table; j++)
            if (!strcmp(table[j].key, key)) k = j;
        if (k < 0) {
            const char *names[64];
            int n = 0;
            for (int j = 0; j < n_table && n < 64; j++) names[n++] = table[j].key;
            for (int j = 0; j < extra.n && n < 64 && !extra.unlisted; j++)
                names[n++] = extra.keys[j];
            char what[160];
            snprintf(what, sizeof what, "key for %s", ctx);
            bad_choice(d, map->key_marks[i], what, key, names, n);
            errors++;
            continue;
        }
        if (parse_value(d, map->items[i], ctx, &table[k], base)) errors++;
    }
    for (int j = 0; j < n_table; j++) {
        if (table[j].required != 1 || nn_ymap_get(map, table[j].key)) continue;
        struct nn_mark m = map ? map->mark : (struct nn_mark){0, 0, 0};
        nn_diag_error(d, m, "%s: missing required key '%s' (%s)", ctx, table[j].key,
                      table[j].doc);
        errors++;
    }
    return errors;
}

/* ---- sections ----------------------------------------------------------- */

static const char *const dataset_names[] = {"fashion_mnist"};

#define DOFF(f) offsetof(struct nn_data_spec, f)
const struct nn_arg_desc nn_spec_data_keys[] = {
    {"dataset", NN_ARG_STRING, DOFF(dataset), 0, 0, 0, 0, 0, NULL, 0,
     "a known data set: fashion_mnist"},
    {"train_images", NN_ARG_STRING, DOFF(train_images), 0, 0, 0, 0, 0, NULL, 0,
     "IDX file of training images (gzipped or not)"},
    {"train_labels", NN_ARG_STRING, DOFF(train_labels), 0, 0, 0, 0, 0, NULL, 0,
     "IDX file of training labels"},
    {"test_images", NN_ARG_STRING, DOFF(test_images), 0, 0, 0, 0, 0, NULL, 0,
     "IDX file of test images"},
    {"test_labels", NN_ARG_STRING, DOFF(test_labels), 0, 0, 0, 0, 0, NULL, 0,
     "IDX file of test labels"},
    {"divide_by", NN_ARG_FLOAT, DOFF(divide_by), 0, 1e-30, 1e30, 0, 255, NULL, 0,
     "inputs are pixel / divide_by"},
    {"train_samples", NN_ARG_INT, DOFF(train_samples), 0, 0, 2e9, 0, 0, NULL, 0,
     "use only the first N training samples (0: all)"},
    {"test_samples", NN_ARG_INT, DOFF(test_samples), 0, 0, 2e9, 0, 0, NULL, 0,
     "use only the first N test samples (0: all)"},
    {"classes", NN_ARG_INT, DOFF(classes), 0, 2, 256, 0, 10, NULL, 0,
     "number of classes; labels must be below it"},
    {"validation_split", NN_ARG_FLOAT, DOFF(validation_split), 0, 0, 1, 1, 0, NULL, 0,
     "hold out this fraction of the training samples (the last ones, as Keras does) "
     "for validation"},
    {"standardize", NN_ARG_BOOL, DOFF(standardize), 0, 0, 1, 0, 0, NULL, 0,
     "inputs become (pixel / divide_by - mean) / std, per channel, with the training set's "
     "mean and standard deviation"},
    {"format", NN_ARG_ENUM, DOFF(format), 0, 0, 0, 0, NN_DATA_IDX, nn_data_format_names,
     NN_DATA_FORMAT_COUNT, "idx (four IDX files or a known data set) or csv (train and test)"},
    {"train", NN_ARG_STRING, DOFF(train), 0, 0, 0, 0, 0, NULL, 0,
     "CSV file of training samples (format csv)"},
    {"test", NN_ARG_STRING, DOFF(test), 0, 0, 0, 0, 0, NULL, 0,
     "CSV file of test samples (format csv)"},
    {"label_column", NN_ARG_INT, DOFF(label_column), 0, 0, 16777216, 0, 0, NULL, 0,
     "CSV: the label's column, counted from 0"},
    {"header", NN_ARG_BOOL, DOFF(header), 0, 0, 1, 0, 1, NULL, 0,
     "CSV: the first line is a header, not a sample"},
};
const int nn_spec_n_data_keys = NCHOICES(nn_spec_data_keys);

const char *const nn_data_format_names[NN_DATA_FORMAT_COUNT] = {"idx", "csv"};

#define AOFF(f) offsetof(struct nn_augment_spec, f)
const struct nn_arg_desc nn_spec_augment_keys[] = {
    {"flip_horizontal", NN_ARG_BOOL, AOFF(flip_horizontal), 0, 0, 1, 0, 0, NULL, 0,
     "mirror each training image left-right with probability 1/2"},
    {"translate", NN_ARG_INT, AOFF(translate), 0, 0, 65536, 0, 0, NULL, 0,
     "shift each training image by up to this many pixels each way, padding with 0"},
    {"erase", NN_ARG_FLOAT, AOFF(erase), 0, 0, 1, 0, 0, NULL, 0,
     "probability of erasing a random rectangle of a training image (random erasing)"},
};
const int nn_spec_n_augment_keys = NCHOICES(nn_spec_augment_keys);

/* data.image_shape: [h, w, c], [h, w] or [features], as model.input. */
static void parse_image_shape(struct nn_diag *d, const struct nn_ynode *n, int *shape)
{
    if (n->kind != NN_Y_SEQ || n->n < 1 || n->n > 3) {
        nn_diag_error(d, n->mark, "data: 'image_shape' must be a list [height, width, "
                      "channels], [height, width] or [features], found %s", describe(n));
        return;
    }
    int v[3] = {1, 1, 1}, ok = 1;
    const int first = n->n == 1 ? 2 : 0;
    for (int i = 0; i < n->n; i++) {
        long long x;
        if (scalar_long(n->items[i], &x) || x < 1 || x > 65536) {
            nn_diag_error(d, n->items[i]->mark, "data: 'image_shape' sizes must be integers "
                          "from 1 to 65536, found %s", describe(n->items[i]));
            ok = 0;
        } else {
            v[first + i] = (int)x;
        }
    }
    if (ok) memcpy(shape, v, sizeof v);
}

static void parse_data(struct nn_diag *d, const struct nn_ynode *n, struct nn_spec *s)
{
    struct nn_data_spec *v = &s->data;
    static const char *const data_extra[] = {"augment", "image_shape"};
    parse_table(d, n, "data", nn_spec_data_keys, nn_spec_n_data_keys, v,
                (struct extra_keys){data_extra, NCHOICES(data_extra), 0});
    const struct nn_ynode *au = nn_ymap_get(n, "augment");
    parse_table(d, au && !is_null(au) ? au : NULL, "augment", nn_spec_augment_keys,
                nn_spec_n_augment_keys, &v->augment, (struct extra_keys){0});
    const struct nn_ynode *shape = nn_ymap_get(n, "image_shape");
    if (shape) parse_image_shape(d, shape, v->image_shape);
    int n_paths = !!v->train_images + !!v->train_labels + !!v->test_images + !!v->test_labels;
    static const char *const path_keys[] = {"train_images", "train_labels", "test_images",
                                            "test_labels", "train", "test"};
    for (int i = 0; i < NCHOICES(path_keys); i++) {   /* refused, never cut */
        const struct nn_ynode *k = nn_ymap_get(n, path_keys[i]);
        const size_t len = k && k->kind == NN_Y_SCALAR && k->str ? strlen(k->str) : 0;
        if (len >= NN_DATA_PATH_MAX || len >= PATH_MAX)
            nn_diag_error(d, k->mark, "data: '%s' is a path of %zu bytes; a data path may have "
                          "at most %d", path_keys[i], len,
                          (NN_DATA_PATH_MAX < PATH_MAX ? NN_DATA_PATH_MAX : PATH_MAX) - 1);
    }
    struct nn_mark m = n ? n->mark : (struct nn_mark){0, 0, 0};
    const struct nn_ynode *fmt = nn_ymap_get(n, "format");
    v->format_mark = fmt ? fmt->mark : m;
    if (v->format == NN_DATA_CSV) {
        /* CSV: train and test, no IDX files, no known data set */
        static const char *const idx_keys[] = {"dataset", "train_images", "train_labels",
                                               "test_images", "test_labels"};
        for (int i = 0; i < NCHOICES(idx_keys); i++) {
            const struct nn_ynode *k = nn_ymap_get(n, idx_keys[i]);
            if (k)
                nn_diag_error(d, k->mark, "data: '%s' is for IDX data; with format csv give "
                              "'train' and 'test' CSV files", idx_keys[i]);
        }
        if (!v->train || !v->test)
            nn_diag_error(d, v->format_mark, "data: format csv needs 'train' and 'test' "
                          "(CSV files: a label column and one column per pixel)%s",
                          v->train ? "; 'test' is missing" : v->test ? "; 'train' is missing"
                                                                     : "");
        return;
    }
    static const char *const csv_keys[] = {"train", "test", "label_column", "header",
                                           "image_shape"};
    for (int i = 0; i < NCHOICES(csv_keys); i++) {
        const struct nn_ynode *k = nn_ymap_get(n, csv_keys[i]);
        if (k)
            nn_diag_error(d, k->mark, "data: '%s' applies to CSV files only; add 'format: csv' "
                          "(or, for IDX files, use train_images, train_labels, test_images, "
                          "test_labels)", csv_keys[i]);
    }
    if (v->dataset) {
        const struct nn_ynode *dn = nn_ymap_get(n, "dataset");
        if (find_choice(v->dataset, dataset_names, NCHOICES(dataset_names)) < 0)
            bad_choice(d, dn->mark, "dataset", v->dataset, dataset_names,
                       NCHOICES(dataset_names));
        if (n_paths)
            nn_diag_error(d, dn->mark, "data: give either 'dataset' or the four file paths "
                          "(train_images, train_labels, test_images, test_labels), not both");
    } else if (n_paths == 0) {
        v->dataset = nn_xstrdup("fashion_mnist");
    } else if (n_paths != 4) {
        nn_diag_error(d, m, "data: explicit files need all four of train_images, "
                      "train_labels, test_images, test_labels (%d given)", n_paths);
    }
}

#define TOFF(f) offsetof(struct nn_train_spec, f)
const struct nn_arg_desc nn_spec_train_keys[] = {
    {"epochs", NN_ARG_INT, TOFF(epochs), 0, 1, 1e6, 0, 1, NULL, 0, "passes over the data"},
    {"batch_size", NN_ARG_INT, TOFF(batch_size), 0, 1, 1e6, 0, 32, NULL, 0,
     "samples per gradient step"},
    {"shuffle", NN_ARG_BOOL, TOFF(shuffle), 0, 0, 1, 0, 1, NULL, 0,
     "reshuffle the training data every epoch"},
    {"l2", NN_ARG_FLOAT, TOFF(l2), 0, 0, 1e6, 0, 0, NULL, 0,
     "L2 regularization: adds l2 * sum(w^2) over every layer's weights (not biases) to the "
     "loss, as Keras' kernel_regularizer l2 on each layer"},
    {"label_smoothing", NN_ARG_FLOAT, TOFF(label_smoothing), 0, 0, 1, 0, 0, NULL, 0,
     "cross-entropy targets become y * (1 - label_smoothing) + label_smoothing / classes"},
};
const int nn_spec_n_train_keys = NCHOICES(nn_spec_train_keys);
static const char *const train_extra[] = {"loss", "optimizer", "metrics", "early_stopping",
                                           "lr_schedule"};

#define EOFF(f) offsetof(struct nn_early_stop_spec, f)
const char *const nn_monitor_names[NN_MONITOR_COUNT] = {
    "loss", "accuracy", "mse", "val_loss", "val_accuracy", "val_mse"};
const struct nn_arg_desc nn_spec_early_keys[] = {
    {"monitor", NN_ARG_ENUM, EOFF(monitor), 0, 0, 0, 0, NN_MONITOR_VAL_LOSS, nn_monitor_names,
     NN_MONITOR_COUNT, "the quantity watched at the end of each epoch"},
    {"patience", NN_ARG_INT, EOFF(patience), 0, 0, 1e6, 0, 0, NULL, 0,
     "epochs without improvement before training stops"},
    {"min_delta", NN_ARG_FLOAT, EOFF(min_delta), 0, 0, 1e30, 0, 0, NULL, 0,
     "smallest change that counts as an improvement"},
    {"restore_best_weights", NN_ARG_BOOL, EOFF(restore_best_weights), 0, 0, 1, 0, 0, NULL, 0,
     "end with the best epoch's weights instead of the last ones"},
};
const int nn_spec_n_early_keys = NCHOICES(nn_spec_early_keys);

#define OOFF(f) offsetof(struct nn_optim_spec, f)
#define LR(def) {"learning_rate", NN_ARG_FLOAT, OOFF(learning_rate), 0, 0, 1e6, 0, def, NULL, 0, "step size"}
#define EPS {"epsilon", NN_ARG_FLOAT, OOFF(epsilon), 0, 0, 1, 0, 1e-7, NULL, 0, "added to the denominator"}
/* Keras 3's arguments of every optimizer: decoupled weight decay, clipping */
#define WD(def) {"weight_decay", NN_ARG_FLOAT, OOFF(weight_decay), 0, 0, 1e6, 0, def, NULL, 0, \
                 "decoupled weight decay: w -= learning_rate * weight_decay * w before each " \
                 "update, on every parameter (biases too, as Keras)"}
#define CLIP {"clipnorm", NN_ARG_FLOAT, OOFF(clipnorm), 0, 0, 1e30, 0, 0, NULL, 0, \
              "clip each tensor's gradient to this L2 norm (0: off)"}, \
             {"global_clipnorm", NN_ARG_FLOAT, OOFF(global_clipnorm), 0, 0, 1e30, 0, 0, NULL, 0, \
              "clip all gradients together to this global L2 norm (0: off)"}
static const struct nn_arg_desc sgd_keys[] = {
    LR(0.01),
    {"momentum", NN_ARG_FLOAT, OOFF(momentum), 0, 0, 1, 1, 0, NULL, 0, "velocity decay"},
    {"nesterov", NN_ARG_BOOL, OOFF(nesterov), 0, 0, 1, 0, 0, NULL, 0, "Nesterov momentum"},
    WD(0), CLIP,
};
static const struct nn_arg_desc rmsprop_keys[] = {
    LR(0.001),
    {"rho", NN_ARG_FLOAT, OOFF(rho), 0, 0, 1, 1, 0.9, NULL, 0, "decay of the squared mean"},
    {"momentum", NN_ARG_FLOAT, OOFF(momentum), 0, 0, 1, 1, 0, NULL, 0, "momentum"},
    EPS, WD(0), CLIP,
};
static const struct nn_arg_desc adam_keys[] = {
    LR(0.001),
    {"beta_1", NN_ARG_FLOAT, OOFF(beta_1), 0, 0, 1, 1, 0.9, NULL, 0, "first-moment decay"},
    {"beta_2", NN_ARG_FLOAT, OOFF(beta_2), 0, 0, 1, 1, 0.999, NULL, 0, "second-moment decay"},
    EPS, WD(0), CLIP,
};
static const struct nn_arg_desc adamw_keys[] = {
    LR(0.001),
    {"weight_decay", NN_ARG_FLOAT, OOFF(weight_decay), 0, 0, 1e6, 0, 0.004, NULL, 0,
     "decoupled weight decay: w -= learning_rate * weight_decay * w before each update, on "
     "every parameter (biases too, as Keras)"},
    {"beta_1", NN_ARG_FLOAT, OOFF(beta_1), 0, 0, 1, 1, 0.9, NULL, 0, "first-moment decay"},
    {"beta_2", NN_ARG_FLOAT, OOFF(beta_2), 0, 0, 1, 1, 0.999, NULL, 0, "second-moment decay"},
    EPS, CLIP,
};
const struct nn_spec_table nn_spec_optim_tables[NN_OPT_COUNT] = {
    {sgd_keys, NCHOICES(sgd_keys)},
    {rmsprop_keys, NCHOICES(rmsprop_keys)},
    {adam_keys, NCHOICES(adam_keys)},
    {adamw_keys, NCHOICES(adamw_keys)},
};

void nn_optim_defaults(struct nn_optim_spec *o, enum nn_optim_kind kind)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    for (int i = 0; i < nn_spec_optim_tables[kind].n; i++)
        set_default(&nn_spec_optim_tables[kind].keys[i], o);
}

/* ---- a named thing with arguments, in either spelling -------------------- */

/* `optimizer: {adam: {learning_rate: 0.001}}` is written like a layer (the
 * kind as the key, its arguments as the value, which may be {} or null);
 * `optimizer: {name: adam, learning_rate: 0.001}` is the other spelling, and
 * the one the resolved spec writes, so both give the same spec and hash.
 * The same holds for train.lr_schedule.
 *
 * flat_named() reads the layer-like spelling as a flat view: a map whose
 * first pair is name: KIND (marked at the key) followed by the arguments,
 * pointing at the original nodes (free only its arrays, with flat_free).
 * Pairs beside the kind key are refused, except the ones --set added
 * (their marks name the override): `--set train.optimizer.learning_rate=0.1`
 * changes the argument inside {adam: {...}}, and `--set
 * train.optimizer.name=sgd` the kind, as in the flat spelling.  The other way
 * round, `--set train.optimizer.adam.beta_1=0.5` on {name: adam, ...} changes
 * that argument (and is refused when the spec's optimizer is not adam).
 * Returns 1 with the view in flat, 0 when n is not in that spelling (a name, or
 * a map with name:), -1 on an error (reported). */
struct flat_view {
    struct nn_ynode map, name;
};

static void flat_add(struct nn_ynode *m, const char *key, struct nn_ynode *val,
                     struct nn_mark km)
{
    m->items = nn_xrealloc(m->items, (size_t)(m->n + 1) * sizeof *m->items);
    m->keys = nn_xrealloc(m->keys, (size_t)(m->n + 1) * sizeof *m->keys);
    m->key_marks = nn_xrealloc(m->key_marks, (size_t)(m->n + 1) * sizeof *m->key_marks);
    m->items[m->n] = val;
    m->keys[m->n] = (char *)key;   /* borrowed, never freed */
    m->key_marks[m->n++] = km;
}

static void flat_free(struct flat_view *f)
{
    free(f->map.items);
    free(f->map.keys);
    free(f->map.key_marks);
}

static int flat_named(struct nn_diag *d, const struct nn_ynode *n, const char *what,
                      const char *const *kinds, int n_kinds, const char *example,
                      struct flat_view *f)
{
    memset(f, 0, sizeof *f);
    if (!n || n->kind != NN_Y_MAP || !n->n) return 0;
    const struct nn_ynode *name = nn_ymap_get(n, "name");
    int k = -1;   /* the kind key */
    for (int i = 0; i < n->n; i++) {
        if (find_choice(n->keys[i], kinds, n_kinds) < 0) continue;
        if (k >= 0) {
            nn_diag_error(d, n->key_marks[i], "%s: name one kind, found both '%s' and '%s'",
                          what, n->keys[k], n->keys[i]);
            return -1;
        }
        k = i;
    }
    if (k < 0) {
        /* {adma: {...}}: one key, not an argument, holding a mapping: a misspelt kind */
        const struct nn_ynode *v = n->items[0];
        if (name || n->n != 1 || !(v->kind == NN_Y_MAP || is_null(v))) return 0;
        bad_choice(d, n->key_marks[0], what, n->keys[0], kinds, n_kinds);
        return -1;
    }
    const struct nn_ynode *args = n->items[k];
    if (is_null(args)) args = NULL;
    if (args && args->kind != NN_Y_MAP) {
        nn_diag_error(d, args->mark, "%s: '%s' takes a mapping of its arguments, such as "
                      "{%s: %s}, or nothing ({%s: {}}); found %s", what, n->keys[k],
                      n->keys[k], example, n->keys[k], describe(args));
        return -1;
    }
    const struct nn_ynode *inner_name = nn_ymap_get(args, "name");
    if (inner_name) {
        for (int i = 0; i < args->n; i++)
            if (!strcmp(args->keys[i], "name"))
                nn_diag_error(d, args->key_marks[i], "%s: the key '%s' already names the kind; "
                              "'name' does not go inside its arguments", what, n->keys[k]);
        return -1;
    }
    int name_at = -1;
    for (int i = 0; i < n->n; i++)
        if (!strcmp(n->keys[i], "name")) name_at = i;
    f->map.kind = NN_Y_MAP;
    f->map.mark = n->mark;
    f->name.kind = NN_Y_SCALAR;
    f->name.mark = n->key_marks[k];
    f->name.str = n->keys[k];
    if (n->key_marks[k].override && name && !n->key_marks[name_at].override) {
        /* the flat spelling in the file, `--set train.optimizer.adam.beta_1=0.5`: the
           override's arguments replace the file's, for the same kind only */
        if (name->kind != NN_Y_SCALAR || strcmp(name->str, n->keys[k])) {
            nn_diag_error(d, n->key_marks[k], "%s: '%s.*' sets arguments of %s, but the spec's "
                          "%s is %s (to change it, set '%s' itself or its 'name')", what,
                          n->keys[k], n->keys[k], what, describe(name), what);
            return -1;
        }
        flat_add(&f->map, "name", (struct nn_ynode *)name, n->key_marks[name_at]);
        for (int i = 0; i < n->n; i++)
            if (i != k && i != name_at && !nn_ymap_get(args, n->keys[i]))
                flat_add(&f->map, n->keys[i], n->items[i], n->key_marks[i]);
        for (int i = 0; args && i < args->n; i++)
            flat_add(&f->map, args->keys[i], args->items[i], args->key_marks[i]);
        return 1;
    }
    for (int i = 0; i < n->n; i++) {
        if (i == k || n->key_marks[i].override) continue;
        if (i == name_at)
            nn_diag_error(d, n->key_marks[i], "%s: give the kind as 'name: %s' or as the key "
                          "'%s: {...}', not both", what, n->keys[k], n->keys[k]);
        else
            nn_diag_error(d, n->key_marks[i], "%s: '%s' goes inside '%s: {...}' with the other "
                          "arguments", what, n->keys[i], n->keys[k]);
        return -1;
    }
    /* the view: name, the arguments bar those an override replaces, the overrides */
    if (name) flat_add(&f->map, "name", (struct nn_ynode *)name, n->key_marks[name_at]);
    else flat_add(&f->map, "name", &f->name, n->key_marks[k]);
    for (int i = 0; args && i < args->n; i++)
        if (!nn_ymap_get(n, args->keys[i]))
            flat_add(&f->map, args->keys[i], args->items[i], args->key_marks[i]);
    for (int i = 0; i < n->n; i++)
        if (i != k && i != name_at)
            flat_add(&f->map, n->keys[i], n->items[i], n->key_marks[i]);
    return 1;
}

static void parse_optimizer_flat(struct nn_diag *d, const struct nn_ynode *n,
                                 struct nn_spec *s, int view);

static void parse_optimizer(struct nn_diag *d, const struct nn_ynode *n, struct nn_spec *s)
{
    struct nn_optim_spec *o = &s->train.optim;
    nn_optim_defaults(o, NN_OPT_RMSPROP);   /* Keras' compile() default */
    if (!n) return;
    struct flat_view f;
    const int flat = flat_named(d, n, "optimizer", nn_optim_names, NN_OPT_COUNT,
                                "{learning_rate: 0.001}", &f);
    if (flat < 0) return;
    if (flat) {
        parse_optimizer_flat(d, &f.map, s, 1);
        flat_free(&f);
        return;
    }
    parse_optimizer_flat(d, n, s, 0);
}

static void parse_optimizer_flat(struct nn_diag *d, const struct nn_ynode *n, struct nn_spec *s,
                                 int view)
{
    struct nn_optim_spec *o = &s->train.optim;
    const struct nn_ynode *name = n;
    if (n->kind == NN_Y_MAP) {
        name = nn_ymap_get(n, "name");
        if (!name) {
            nn_diag_error(d, n->mark, "optimizer: missing required key 'name' (one of: sgd, "
                          "rmsprop, adam, adamw); write {name: adam, learning_rate: 0.001} or "
                          "{adam: {learning_rate: 0.001}}");
            return;
        }
    }
    if (name->kind != NN_Y_SCALAR) {
        nn_diag_error(d, name->mark, "optimizer must be a name (sgd, rmsprop, adam, adamw) or a "
                      "mapping with 'name' and parameters; found %s", describe(name));
        return;
    }
    int k = find_choice(name->str, nn_optim_names, NN_OPT_COUNT);
    if (k < 0) {
        bad_choice(d, name->mark, "optimizer", name->str, nn_optim_names, NN_OPT_COUNT);
        return;
    }
    nn_optim_defaults(o, (enum nn_optim_kind)k);
    if (n->kind == NN_Y_MAP) {
        static const char *const extra[] = {"name"};
        char ctx[64];
        snprintf(ctx, sizeof ctx, "optimizer %s", nn_optim_names[k]);
        parse_table(d, n, ctx, nn_spec_optim_tables[k].keys, nn_spec_optim_tables[k].n, o,
                    (struct extra_keys){extra, 1, view});
        o->kind = (enum nn_optim_kind)k;
        const struct nn_ynode *gc = nn_ymap_get(n, "global_clipnorm");
        if (o->clipnorm > 0 && o->global_clipnorm > 0)   /* Keras refuses both too */
            nn_diag_error(d, gc->mark, "%s: give 'clipnorm' (per tensor) or 'global_clipnorm' "
                          "(over all gradients), not both", ctx);
    }
}

/* ---- train.lr_schedule ---- */

const char *const nn_lr_names[NN_LR_COUNT] = {"constant", "step", "exponential", "cosine",
                                              "reduce_on_plateau"};

#define SOFF(f) offsetof(struct nn_lr_schedule_spec, f)
static const struct nn_arg_desc lr_step_keys[] = {
    {"step_size", NN_ARG_INT, SOFF(step_size), 1, 1, 1e9, 0, 1, NULL, 0,
     "epochs between decays"},
    {"gamma", NN_ARG_FLOAT, SOFF(gamma), 0, 0, 1e6, 0, 0.1, NULL, 0,
     "the rate is multiplied by gamma every step_size epochs"},
};
static const struct nn_arg_desc lr_exponential_keys[] = {
    {"decay_steps", NN_ARG_INT, SOFF(decay_steps), 1, 1, 2e9, 0, 1, NULL, 0,
     "steps (batches) over which the rate is multiplied by decay_rate"},
    {"decay_rate", NN_ARG_FLOAT, SOFF(decay_rate), 1, 1e-30, 1e6, 0, 1, NULL, 0,
     "rate = learning_rate * decay_rate ^ (step / decay_steps)"},
    {"staircase", NN_ARG_BOOL, SOFF(staircase), 0, 0, 1, 0, 0, NULL, 0,
     "decay in whole periods: floor(step / decay_steps)"},
};
static const struct nn_arg_desc lr_cosine_keys[] = {
    {"decay_steps", NN_ARG_INT, SOFF(decay_steps), 0, 0, 2e9, 0, 0, NULL, 0,
     "steps of the cosine after the warmup (0: to the end of training)"},
    {"alpha", NN_ARG_FLOAT, SOFF(alpha), 0, 0, 1, 0, 0, NULL, 0,
     "the final rate as a fraction of learning_rate"},
    {"warmup_steps", NN_ARG_INT, SOFF(warmup_steps), 0, 0, 2e9, 0, 0, NULL, 0,
     "steps of linear warmup from 0 to learning_rate"},
    {"warmup_epochs", NN_ARG_INT, SOFF(warmup_epochs), 0, 0, 1e6, 0, 0, NULL, 0,
     "the warmup in epochs instead of steps"},
};
static const struct nn_arg_desc lr_plateau_keys[] = {
    {"monitor", NN_ARG_ENUM, SOFF(monitor), 0, 0, 0, 0, NN_MONITOR_VAL_LOSS, nn_monitor_names,
     NN_MONITOR_COUNT, "the quantity watched at the end of each epoch"},
    {"factor", NN_ARG_FLOAT, SOFF(factor), 0, 0, 1, 1, 0.1, NULL, 0,
     "the rate is multiplied by factor on a plateau"},
    {"patience", NN_ARG_INT, SOFF(patience), 0, 0, 1e6, 0, 10, NULL, 0,
     "epochs without improvement before the rate is reduced"},
    {"min_delta", NN_ARG_FLOAT, SOFF(min_delta), 0, 0, 1e30, 0, 1e-4, NULL, 0,
     "smallest change that counts as an improvement"},
    {"cooldown", NN_ARG_INT, SOFF(cooldown), 0, 0, 1e6, 0, 0, NULL, 0,
     "epochs after a reduction before waiting starts again"},
    {"min_lr", NN_ARG_FLOAT, SOFF(min_lr), 0, 0, 1e6, 0, 0, NULL, 0,
     "the rate is never reduced below this"},
};
const struct nn_spec_table nn_spec_lr_tables[NN_LR_COUNT] = {
    {NULL, 0},
    {lr_step_keys, NCHOICES(lr_step_keys)},
    {lr_exponential_keys, NCHOICES(lr_exponential_keys)},
    {lr_cosine_keys, NCHOICES(lr_cosine_keys)},
    {lr_plateau_keys, NCHOICES(lr_plateau_keys)},
};

static void parse_lr_schedule_flat(struct nn_diag *d, const struct nn_ynode *n,
                                   struct nn_spec *s, int view);

static void parse_lr_schedule(struct nn_diag *d, const struct nn_ynode *n, struct nn_spec *s)
{
    struct nn_lr_schedule_spec *ls = &s->train.lr_schedule;
    memset(ls, 0, sizeof *ls);
    ls->kind = NN_LR_CONSTANT;
    if (!n || is_null(n)) return;
    struct flat_view f;
    const int flat = flat_named(d, n, "lr_schedule", nn_lr_names, NN_LR_COUNT,
                                "{step_size: 10}", &f);
    if (flat < 0) return;
    if (flat) {
        parse_lr_schedule_flat(d, &f.map, s, 1);
        flat_free(&f);
        return;
    }
    parse_lr_schedule_flat(d, n, s, 0);
}

static void parse_lr_schedule_flat(struct nn_diag *d, const struct nn_ynode *n,
                                   struct nn_spec *s, int view)
{
    struct nn_lr_schedule_spec *ls = &s->train.lr_schedule;
    char list[256];
    nn_join(list, sizeof list, nn_lr_names, NN_LR_COUNT);
    const struct nn_ynode *name = n;
    if (n->kind == NN_Y_MAP) {
        name = nn_ymap_get(n, "name");
        if (!name) {
            nn_diag_error(d, n->mark, "lr_schedule: missing required key 'name' (one of: %s); "
                          "write {name: step, step_size: 10} or {step: {step_size: 10}}", list);
            return;
        }
    }
    if (name->kind != NN_Y_SCALAR) {
        nn_diag_error(d, name->mark, "lr_schedule must be a name (%s) or a mapping with "
                      "'name' and parameters; found %s", list, describe(name));
        return;
    }
    const int k = find_choice(name->str, nn_lr_names, NN_LR_COUNT);
    if (k < 0) {
        bad_choice(d, name->mark, "lr_schedule", name->str, nn_lr_names, NN_LR_COUNT);
        return;
    }
    const struct nn_spec_table *tb = &nn_spec_lr_tables[k];
    char ctx[64];
    snprintf(ctx, sizeof ctx, "lr_schedule %s", nn_lr_names[k]);
    static const char *const extra[] = {"name"};
    if (n->kind == NN_Y_MAP) {
        parse_table(d, n, ctx, tb->keys, tb->n, ls, (struct extra_keys){extra, 1, view});
    } else {
        for (int i = 0; i < tb->n; i++) {
            set_default(&tb->keys[i], ls);
            if (tb->keys[i].required == 1)
                nn_diag_error(d, n->mark, "%s: missing required key '%s' (%s); write "
                              "{name: %s, %s: ...}", ctx, tb->keys[i].key, tb->keys[i].doc,
                              nn_lr_names[k], tb->keys[i].key);
        }
    }
    ls->kind = (enum nn_lr_kind)k;
    const struct nn_ynode *at = n->kind == NN_Y_MAP ? n : NULL;
    if (k == NN_LR_COSINE && ls->warmup_steps > 0 && ls->warmup_epochs > 0)
        nn_diag_error(d, nn_ymap_get(at, "warmup_epochs")->mark, "%s: give 'warmup_steps' or "
                      "'warmup_epochs', not both", ctx);
    if (k == NN_LR_PLATEAU && ls->monitor >= NN_MONITOR_VAL_LOSS &&
        s->data.validation_split <= 0) {
        const struct nn_ynode *mon = nn_ymap_get(at, "monitor");
        nn_diag_error(d, mon ? mon->mark : n->mark, "lr_schedule: monitor %s needs a "
                      "validation set; set data.validation_split (e.g. 0.1) or monitor loss",
                      nn_monitor_names[ls->monitor]);
    }
}

static int lookup_alias(const char *s, const char *const (*aliases)[2], int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, aliases[i][0])) return i;
    return -1;
}

static void parse_train(struct nn_diag *d, const struct nn_ynode *n, struct nn_spec *s)
{
    struct nn_train_spec *t = &s->train;
    parse_table(d, n, "train", nn_spec_train_keys, nn_spec_n_train_keys, t,
                (struct extra_keys){train_extra, NCHOICES(train_extra), 0});
    const struct nn_ynode *loss = nn_ymap_get(n, "loss");
    const struct nn_ynode *bs = nn_ymap_get(n, "batch_size");
    s->batch_mark = bs ? bs->mark : (n ? n->mark : (struct nn_mark){0, 0, 0});
    static const char *const loss_alias[][2] = {
        {"mean_squared_error", "mse"}, {"sparse_crossentropy", "sparse_categorical_crossentropy"}};
    if (!loss) {
        if (n && n->kind == NN_Y_MAP) {
            char list[256];
            nn_join(list, sizeof list, nn_loss_names, NN_LOSS_COUNT);
            nn_diag_error(d, n->mark, "train: missing required key 'loss' (one of: %s)", list);
        }
    } else if (loss->kind != NN_Y_SCALAR) {
        nn_diag_error(d, loss->mark, "train: 'loss' must be a name, found %s", describe(loss));
    } else {
        s->loss_mark = loss->mark;
        const char *name = loss->str;
        int a = lookup_alias(name, loss_alias, NCHOICES(loss_alias));
        if (a >= 0) name = loss_alias[a][1];
        int k = find_choice(name, nn_loss_names, NN_LOSS_COUNT);
        if (k < 0) bad_choice(d, loss->mark, "loss", loss->str, nn_loss_names, NN_LOSS_COUNT);
        else t->loss = (enum nn_loss_kind)k;
    }
    parse_optimizer(d, nn_ymap_get(n, "optimizer"), s);
    parse_lr_schedule(d, nn_ymap_get(n, "lr_schedule"), s);
    if (t->label_smoothing > 0 && t->loss == NN_LOSS_MSE) {
        const struct nn_ynode *ls = nn_ymap_get(n, "label_smoothing");
        nn_diag_error(d, ls->mark, "train: 'label_smoothing' applies to the cross-entropy "
                      "losses, not %s", nn_loss_names[t->loss]);
    }
    const struct nn_ynode *es = nn_ymap_get(n, "early_stopping");
    if (es && !is_null(es)) {
        t->early_stopping.enabled = 1;
        parse_table(d, es, "early_stopping", nn_spec_early_keys, nn_spec_n_early_keys,
                    &t->early_stopping, (struct extra_keys){0});
        const struct nn_ynode *mon = es->kind == NN_Y_MAP ? nn_ymap_get(es, "monitor") : NULL;
        if (t->early_stopping.monitor >= NN_MONITOR_VAL_LOSS && s->data.validation_split <= 0)
            nn_diag_error(d, mon ? mon->mark : es->mark, "early_stopping: monitor %s needs a "
                          "validation set; set data.validation_split (e.g. 0.1) or monitor "
                          "loss", nn_monitor_names[t->early_stopping.monitor]);
    }
    const struct nn_ynode *m = nn_ymap_get(n, "metrics");
    t->metrics = 1u << NN_METRIC_LOSS;
    if (m) {
        static const char *const metric_alias[][2] = {
            {"acc", "accuracy"}, {"mean_squared_error", "mse"}};
        if (m->kind != NN_Y_SEQ) {
            nn_diag_error(d, m->mark, "train: 'metrics' must be a list such as [accuracy, mse], "
                          "found %s", describe(m));
        } else {
            for (int i = 0; i < m->n; i++) {
                const struct nn_ynode *it = m->items[i];
                if (it->kind != NN_Y_SCALAR) {
                    nn_diag_error(d, it->mark, "train: a metric must be a name, found %s",
                                  describe(it));
                    continue;
                }
                const char *name = it->str;
                int a = lookup_alias(name, metric_alias, NCHOICES(metric_alias));
                if (a >= 0) name = metric_alias[a][1];
                int k = find_choice(name, nn_metric_names, NN_METRIC_COUNT);
                if (k < 0) bad_choice(d, it->mark, "metric", it->str, nn_metric_names,
                                      NN_METRIC_COUNT);
                else t->metrics |= 1u << k;
            }
        }
    }
}

/* ---- layers -------------------------------------------------------------- */

static const char *const layer_common[] = {"name", "inputs", "activation"};

static int act_from_node(struct nn_diag *d, const struct nn_ynode *n)
{
    if (n->kind != NN_Y_SCALAR) {
        nn_diag_error(d, n->mark, "an activation must be a name, found %s", describe(n));
        return -1;
    }
    int k = find_choice(n->str, nn_act_names, NN_ACT_COUNT);
    if (k < 0) bad_choice(d, n->mark, "activation", n->str, nn_act_names, NN_ACT_COUNT);
    return k;
}

static void layer_kind_names(const char **names, int *n)
{
    *n = 0;
    for (int i = 0; i < NN_LAYER_COUNT; i++) names[(*n)++] = nn_layer_kinds[i]->name;
    for (int i = 1; i < NN_ACT_COUNT; i++) names[(*n)++] = nn_act_names[i];
}

static int parse_layer(struct nn_diag *d, const struct nn_ynode *item, struct nn_layer_spec *L,
                       int *kind_counts)
{
    const char *kind;
    const struct nn_ynode *args = NULL;
    struct nn_mark kmark = item->mark;
    memset(L, 0, sizeof *L);
    L->mark = item->mark;
    L->activation = NN_ACT_LINEAR;
    if (item->kind == NN_Y_SCALAR) {
        kind = item->str;
    } else if (item->kind == NN_Y_MAP && item->n == 1) {
        kind = item->keys[0];
        kmark = item->key_marks[0];
        args = item->items[0];
        if (is_null(args)) args = NULL;
    } else {
        nn_diag_error(d, item->mark, "a layer must be a kind name such as 'flatten' or a "
                      "mapping of one kind to its arguments such as 'dense: {units: 10}'; "
                      "found %s", item->kind == NN_Y_MAP ? "a mapping with several keys"
                                                          : describe(item));
        return -1;
    }
    const struct nn_layer_ops *ops = nn_layer_find(kind);
    int preset_act = -1;
    if (!ops) {
        preset_act = find_choice(kind, nn_act_names, NN_ACT_COUNT);
        if (preset_act >= 0) ops = &nn_layer_activation;
    }
    if (!ops) {
        const char *names[64];
        int n;
        layer_kind_names(names, &n);
        bad_choice(d, kmark, "layer", kind, names, n);
        return -1;
    }
    L->ops = ops;
    L->args = nn_xcalloc(1, ops->args_size ? ops->args_size : 1);
    char ctx[96];
    snprintf(ctx, sizeof ctx, "%s", preset_act >= 0 ? kind : ops->name);
    int errors = 0;
    if (ops == &nn_layer_activation && args && args->kind == NN_Y_SCALAR && preset_act < 0) {
        /* - activation: tanh */
        struct nn_activation_args *aa = L->args;
        aa->alpha = NAN;
        int k = act_from_node(d, args);
        if (k < 0) return -1;
        aa->activation = k;
        args = NULL;
    } else {
        /* skip the activation key in the activation layer's table when preset */
        struct extra_keys extra = {layer_common, 2, 0};
        if (ops->flags & NN_LAYER_TAKES_ACTIVATION) extra.n = 3;
        if (preset_act >= 0) {
            extra.n = 2;   /* name, inputs: the activation is the kind itself */
            struct nn_arg_desc table[8];
            int nt = 0;
            for (int i = 0; i < ops->n_args && nt < 8; i++)
                if (strcmp(ops->args[i].key, "activation")) table[nt++] = ops->args[i];
            errors += parse_table(d, args, ctx, table, nt, L->args, extra);
            ((struct nn_activation_args *)L->args)->activation = preset_act;
        } else {
            errors += parse_table(d, args, ctx, ops->args, ops->n_args, L->args, extra);
        }
    }
    /* name, inputs, activation */
    const struct nn_ynode *nm = args ? nn_ymap_get(args, "name") : NULL;
    char what[128];
    snprintf(what, sizeof what, "%s: 'name'", ctx);
    if (nm && nm->kind == NN_Y_SCALAR && check_text(d, nm, what)) {
        errors++;
    } else if (nm) {
        if (nm->kind != NN_Y_SCALAR || !nm->str[0] || strlen(nm->str) >= NN_NAME_MAX ||
            strchr(nm->str, ' ')) {
            nn_diag_error(d, nm->mark, "%s: 'name' must be a word of at most %d characters, "
                          "found %s", ctx, NN_NAME_MAX - 1, describe(nm));
            errors++;
        } else {
            L->name = nn_xstrdup(nm->str);
        }
    }
    if (!L->name) {
        char buf[NN_NAME_MAX];
        int idx = 0;
        for (int i = 0; i < NN_LAYER_COUNT; i++)
            if (nn_layer_kinds[i] == ops) idx = i;
        snprintf(buf, sizeof buf, "%s_%d", preset_act >= 0 ? kind : ops->name,
                 ++kind_counts[idx]);
        L->name = nn_xstrdup(buf);
    }
    const struct nn_ynode *in = args ? nn_ymap_get(args, "inputs") : NULL;
    if (in) {
        const struct nn_ynode *const *list = (const struct nn_ynode *const *)&in;
        int n = 1;
        if (in->kind == NN_Y_SEQ) {
            list = (const struct nn_ynode *const *)in->items;
            n = in->n;
        }
        if (n < ops->min_inputs || n > ops->max_inputs || n > NN_MAX_INPUTS) {
            if (ops->min_inputs == ops->max_inputs)
                nn_diag_error(d, in->mark, "%s: takes %d input%s, 'inputs' names %d", ctx,
                              ops->max_inputs, ops->max_inputs == 1 ? "" : "s", n);
            else
                nn_diag_error(d, in->mark, "%s: takes %d to %d inputs, 'inputs' names %d", ctx,
                              ops->min_inputs, ops->max_inputs, n);
            errors++;
        } else {
            L->inputs = nn_xcalloc((size_t)n, sizeof *L->inputs);
            L->input_marks = nn_xcalloc((size_t)n, sizeof *L->input_marks);
            for (int i = 0; i < n; i++) {
                if (list[i]->kind != NN_Y_SCALAR || !list[i]->str[0]) {
                    nn_diag_error(d, list[i]->mark, "%s: 'inputs' must name layers, found %s",
                                  ctx, describe(list[i]));
                    errors++;
                    continue;
                }
                snprintf(what, sizeof what, "%s: a name in 'inputs'", ctx);
                if (check_text(d, list[i], what)) {
                    errors++;
                    continue;
                }
                L->inputs[L->n_inputs] = nn_xstrdup(list[i]->str);
                L->input_marks[L->n_inputs++] = list[i]->mark;
            }
        }
    } else if (ops->min_inputs > 1) {
        /* a join (add, concatenate) has no single previous layer to default to */
        nn_diag_error(d, L->mark, "%s: takes %d to %d inputs; name them with 'inputs', "
                      "e.g. inputs: [a, b]", ctx, ops->min_inputs, ops->max_inputs);
        errors++;
    }
    const struct nn_ynode *act = args && (ops->flags & NN_LAYER_TAKES_ACTIVATION)
                                     ? nn_ymap_get(args, "activation") : NULL;
    if (act) {
        int k = act_from_node(d, act);
        if (k < 0) errors++;
        else L->activation = k;
        L->act_mark = act->mark;
        if (!L->act_mark.override) L->act_mark.override = item->mark.override;   /* --set */
    }
    if (ops == &nn_layer_activation) {
        struct nn_activation_args *aa = L->args;
        const struct nn_ynode *al = args ? nn_ymap_get(args, "alpha") : NULL;
        if (!al) aa->alpha = NAN;
        else if (aa->activation != NN_ACT_LEAKY_RELU && aa->activation != NN_ACT_ELU) {
            nn_diag_error(d, al->mark, "%s: 'alpha' applies only to leaky_relu and elu, not %s",
                          ctx, nn_act_names[aa->activation]);
            errors++;
        }
    }
    return errors ? -1 : 0;
}

static void parse_model(struct nn_diag *d, const struct nn_ynode *n, struct nn_spec *s)
{
    static const char *const keys[] = {"input", "layers"};
    if (n->kind != NN_Y_MAP) {
        nn_diag_error(d, n->mark, "model: expected a mapping with 'input' and 'layers', "
                      "found %s", describe(n));
        return;
    }
    for (int i = 0; i < n->n; i++)
        if (find_choice(n->keys[i], keys, 2) < 0)
            bad_choice(d, n->key_marks[i], "key for model", n->keys[i], keys, 2);
    const struct nn_ynode *in = nn_ymap_get(n, "input");
    if (!in) {
        nn_diag_error(d, n->mark, "model: missing required key 'input' (the shape of one "
                      "sample, [height, width, channels], e.g. [28, 28, 1])");
    } else if (in->kind != NN_Y_SEQ || in->n < 1 || in->n > 3) {
        nn_diag_error(d, in->mark, "model: 'input' must be a list [height, width, channels], "
                      "[height, width] or [features], found %s", describe(in));
    } else {
        /* [h, w, c]; [h, w] has one channel; [n] is a flat vector (1, 1, n) */
        s->input_mark = in->mark;
        s->input[0] = s->input[1] = s->input[2] = 1;
        int first = in->n == 1 ? 2 : 0;
        for (int i = 0; i < in->n; i++) {
            long long v;
            if (scalar_long(in->items[i], &v) || v < 1 || v > 65536)
                nn_diag_error(d, in->items[i]->mark, "model: 'input' sizes must be integers "
                              "from 1 to 65536, found %s", describe(in->items[i]));
            else s->input[first + i] = (int)v;
        }
    }
    const struct nn_ynode *ls = nn_ymap_get(n, "layers");
    if (!ls) {
        nn_diag_error(d, n->mark, "model: missing required key 'layers' (a list of layers)");
        return;
    }
    if (ls->kind != NN_Y_SEQ || ls->n == 0) {
        nn_diag_error(d, ls->mark, "model: 'layers' must be a non-empty list of layers, found %s",
                      ls->kind == NN_Y_SEQ ? "an empty list" : describe(ls));
        return;
    }
    s->layers = nn_xcalloc((size_t)ls->n, sizeof *s->layers);
    int kind_counts[NN_LAYER_COUNT] = {0};
    for (int i = 0; i < ls->n; i++) {
        parse_layer(d, ls->items[i], &s->layers[i], kind_counts);
        s->n_layers = i + 1;
    }
    /* names are unique */
    for (int i = 0; i < s->n_layers; i++)
        for (int j = 0; j < i; j++)
            if (s->layers[i].name && s->layers[j].name &&
                !strcmp(s->layers[i].name, s->layers[j].name))
                nn_diag_error(d, s->layers[i].mark, "layer name '%s' is already used by the "
                              "layer at line %d", s->layers[i].name, s->layers[j].mark.line);
}

struct nn_spec *nn_spec_from_tree(const struct nn_ynode *root, const char *path,
                                  struct nn_diag *d)
{
    int before = d->n_errors;
    if (root->kind != NN_Y_MAP) {
        nn_diag_error(d, root->mark, "a spec must be a mapping with the sections name, seed, "
                      "data, model and train; found %s", describe(root));
        return NULL;
    }
    struct nn_spec *s = nn_xcalloc(1, sizeof *s);
    s->path = nn_xstrdup(path ? path : "<spec>");
    s->seed = 1;
    static const char *const top[] = {"name", "seed", "data", "model", "train"};
    for (int i = 0; i < root->n; i++)
        if (find_choice(root->keys[i], top, NCHOICES(top)) < 0)
            bad_choice(d, root->key_marks[i], "top-level key", root->keys[i], top, NCHOICES(top));
    const struct nn_ynode *name = nn_ymap_get(root, "name");
    if (name && (name->kind != NN_Y_SCALAR || !name->str[0]))
        nn_diag_error(d, name->mark, "'name' must be a text value, found %s", describe(name));
    else if (name && !check_text(d, name, "'name'"))
        s->name = nn_xstrdup(name->str);
    else if (!name) {
        /* the file's base name without extension; what would not read back from the
           resolved spec (bytes that are not UTF-8, controls) becomes '_' */
        const char *b = strrchr(s->path, '/');
        b = b ? b + 1 : s->path;
        s->name = nn_xstrdup(b);
        char *dot = strrchr(s->name, '.');
        if (dot && dot != s->name) *dot = '\0';
        sanitize_text(s->name);
    }
    const struct nn_ynode *seed = nn_ymap_get(root, "seed");
    if (seed) {
        uint64_t v;
        if (seed->kind != NN_Y_SCALAR || seed->quoted || nn_seed_parse(seed->str, &v))
            nn_diag_error(d, seed->mark, "'seed' must be %s, found %s", NN_SEED_RANGE,
                          describe(seed));
        else s->seed = v;
    }
    parse_data(d, nn_ymap_get(root, "data"), s);
    const struct nn_ynode *model = nn_ymap_get(root, "model");
    if (!model) nn_diag_error(d, root->mark, "missing required section 'model' (input and layers)");
    else parse_model(d, model, s);
    const struct nn_ynode *au = nn_ymap_get(nn_ymap_get(root, "data"), "augment");
    const struct nn_augment_spec *ag = &s->data.augment;
    if (au && (ag->flip_horizontal || ag->translate || ag->erase > 0) && s->input[0] == 1 &&
        s->input[1] == 1)
        nn_diag_error(d, au->mark, "data: augment moves pixels within an image; model.input "
                      "[%d] has no height and width (write it as [height, width, channels])",
                      s->input[2]);
    const struct nn_ynode *train = nn_ymap_get(root, "train");
    if (!train) nn_diag_error(d, root->mark, "missing required section 'train' (loss, optimizer, "
                              "metrics, epochs, batch_size)");
    else parse_train(d, train, s);
    if (d->n_errors > before) {
        nn_spec_free(s);
        return NULL;
    }
    return s;
}

struct nn_spec *nn_spec_load(const char *path, struct nn_diag *d)
{
    struct nn_ynode *root = nn_yaml_parse_file(path, d);
    if (!root) return NULL;
    struct nn_spec *s = nn_spec_from_tree(root, path, d);
    nn_ynode_free(root);
    return s;
}

struct nn_spec *nn_spec_from_string(const char *text, size_t len, const char *name,
                                    struct nn_diag *d)
{
    struct nn_ynode *root = nn_yaml_parse_string(text, len, d);
    if (!root) return NULL;
    struct nn_spec *s = nn_spec_from_tree(root, name, d);
    nn_ynode_free(root);
    return s;
}

void nn_spec_free(struct nn_spec *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_layers; i++) {
        struct nn_layer_spec *L = &s->layers[i];
        free(L->name);
        for (int j = 0; j < L->n_inputs; j++) free(L->inputs[j]);
        free(L->inputs);
        free(L->input_marks);
        free(L->args);
    }
    free(s->layers);
    free(s->data.dataset);
    free(s->data.train_images);
    free(s->data.train_labels);
    free(s->data.test_images);
    free(s->data.test_labels);
    free(s->data.train);
    free(s->data.test);
    free(s->name);
    free(s->path);
    free(s);
}
