/* test_roundtrip.c - every accepted spec makes a resolved spec that reloads to
 * the same spec (issue 13, class 2), both spellings of a named thing give one
 * resolved spec (class 10), and the seed has one range (class 8).
 *
 * The property test is driven by the key tables themselves (every layer
 * kind's, the optimizers', the schedules', data, augment, train,
 * early_stopping), so a key added later is covered without a change here.
 * For each key it writes a spec holding that key at values at and near its
 * bounds (and far beyond them, and special floats), then:
 *   - accepted: the resolved text E1 parses, resolves to E1 again
 *     (emit(parse(emit(x))) == emit(x)), with the same hash, the same bits in
 *     the key's field, and a stored value inside the key's bounds as the
 *     32-bit float or int the program uses;
 *   - refused: the error points at the value's own line and column;
 *   - values that are plainly valid (the bounds, the default, the float just
 *     inside an open bound) must be accepted, values that are plainly not
 *     (beyond a bound, a float that rounds onto an open bound, one that
 *     underflows) must be refused. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/spec/tables.h"
#include "common.h"
#include "nnrun/layer.h"

/* ---- building a spec around one key ----------------------------------------- */

enum section { SEC_LAYER, SEC_DATA, SEC_AUGMENT, SEC_TRAIN, SEC_EARLY, SEC_OPTIM, SEC_LR };

struct table {
    enum section sec;
    int index;                  /* layer kind, optimizer or schedule */
    const struct nn_arg_desc *keys;
    int n;
    char label[64];
};

static int n_tables;
static struct table tables[64];

static void add_table(enum section sec, int index, const struct nn_arg_desc *keys, int n,
                      const char *label)
{
    ck_assert_int_lt(n_tables, 64);
    struct table *t = &tables[n_tables++];
    t->sec = sec;
    t->index = index;
    t->keys = keys;
    t->n = n;
    snprintf(t->label, sizeof t->label, "%s", label);
}

static void collect_tables(void)
{
    if (n_tables) return;
    for (int i = 0; i < NN_LAYER_COUNT; i++)
        add_table(SEC_LAYER, i, nn_layer_kinds[i]->args, nn_layer_kinds[i]->n_args,
                  nn_layer_kinds[i]->name);
    add_table(SEC_DATA, 0, nn_spec_data_keys, nn_spec_n_data_keys, "data");
    add_table(SEC_AUGMENT, 0, nn_spec_augment_keys, nn_spec_n_augment_keys, "augment");
    add_table(SEC_TRAIN, 0, nn_spec_train_keys, nn_spec_n_train_keys, "train");
    add_table(SEC_EARLY, 0, nn_spec_early_keys, nn_spec_n_early_keys, "early_stopping");
    for (int k = 0; k < NN_OPT_COUNT; k++) {
        char l[64];
        snprintf(l, sizeof l, "optimizer %s", nn_optim_names[k]);
        add_table(SEC_OPTIM, k, nn_spec_optim_tables[k].keys, nn_spec_optim_tables[k].n, l);
    }
    for (int k = 0; k < NN_LR_COUNT; k++) {
        char l[64];
        snprintf(l, sizeof l, "lr_schedule %s", nn_lr_names[k]);
        if (nn_spec_lr_tables[k].n)
            add_table(SEC_LR, k, nn_spec_lr_tables[k].keys, nn_spec_lr_tables[k].n, l);
    }
}

struct sb {
    char p[8192];
    size_t n;
};

static void sb_put(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, sizeof b->p - b->n, fmt, ap);
    va_end(ap);
    ck_assert(k >= 0 && (size_t)k < sizeof b->p - b->n);
    b->n += (size_t)k;
}

/* A valid value for a required key that is not the one under test. */
static void required_value(struct sb *b, const struct nn_arg_desc *a, int want_alpha)
{
    double v = a->def >= a->min && a->def <= a->max ? a->def : a->min;
    switch (a->type) {
    case NN_ARG_INT: case NN_ARG_PAIR: sb_put(b, "%lld", (long long)(v < 1 ? 1 : v)); break;
    case NN_ARG_FLOAT: sb_put(b, "%.9g", v); break;
    case NN_ARG_BOOL: sb_put(b, "true"); break;
    case NN_ARG_ENUM: {
        int k = 0;   /* alpha applies to leaky_relu only */
        for (int i = 0; i < a->n_choices && want_alpha; i++)
            if (!strcmp(a->choices[i], "leaky_relu")) k = i;
        sb_put(b, "%s", a->choices[k]);
        break;
    }
    case NN_ARG_STRING: sb_put(b, "\"x\""); break;
    }
}

/* The required keys of t other than skip, as "k: v, " pairs. */
static void required_pairs(struct sb *b, const struct table *t, const char *skip)
{
    for (int i = 0; i < t->n; i++) {
        if (t->keys[i].required != 1 || !strcmp(t->keys[i].key, skip)) continue;
        sb_put(b, "%s: ", t->keys[i].key);
        required_value(b, &t->keys[i], !strcmp(skip, "alpha"));
        sb_put(b, ", ");
    }
}

static int is_idx_path(const char *k)
{
    return !strcmp(k, "train_images") || !strcmp(k, "train_labels") ||
           !strcmp(k, "test_images") || !strcmp(k, "test_labels");
}

static int is_csv_key(const char *k)
{
    return !strcmp(k, "format") || !strcmp(k, "train") || !strcmp(k, "test") ||
           !strcmp(k, "label_column") || !strcmp(k, "header");
}

/* The data section's pairs around key = val (or none). */
static void data_pairs(struct sb *b, const char *key, const char *val)
{
    static const char *const idx[] = {"train_images", "train_labels", "test_images",
                                      "test_labels"};
    static const char *const csv[][2] = {{"format", "csv"}, {"train", "\"tr.csv\""},
                                         {"test", "\"te.csv\""}};
    if (strcmp(key, "validation_split")) sb_put(b, "validation_split: 0.1, ");
    if (is_idx_path(key))
        for (int i = 0; i < 4; i++)
            if (strcmp(key, idx[i])) sb_put(b, "%s: \"%s.idx\", ", idx[i], idx[i]);
    if (is_csv_key(key))
        for (int i = 0; i < 3; i++)
            if (strcmp(key, csv[i][0])) sb_put(b, "%s: %s, ", csv[i][0], csv[i][1]);
    sb_put(b, "%s: %s", key, val);
}

/* The spelling of a named section (optimizer, lr_schedule). */
enum spelling { FLAT, LAYER_LIKE };

/* The whole spec, with key: val in table t; *line is the line holding it. */
static void spec_text(struct sb *b, const struct table *t, const char *key, const char *val,
                      enum spelling sp, int *line)
{
    b->n = 0;
    sb_put(b, "name: rt\nseed: 7\n");
    /* line 3 */
    sb_put(b, "data: {");
    if (t->sec == SEC_DATA) data_pairs(b, key, val);
    else if (t->sec == SEC_AUGMENT) sb_put(b, "validation_split: 0.1, augment: {%s: %s}", key, val);
    else sb_put(b, "validation_split: 0.1");
    sb_put(b, "}\nmodel:\n  input: [8, 8, 2]\n  layers:\n");
    /* line 7 */
    if (t->sec == SEC_LAYER) {
        const struct nn_layer_ops *ops = nn_layer_kinds[t->index];
        sb_put(b, "    - %s: {", ops->name);
        if (ops->min_inputs > 1) sb_put(b, "inputs: [a, b], ");
        required_pairs(b, t, key);
        sb_put(b, "%s: %s}\n", key, val);
    } else {
        sb_put(b, "    - flatten\n");
    }
    sb_put(b, "train:\n  loss: sparse_categorical_crossentropy\n");
    /* line 10 */
    if (t->sec == SEC_OPTIM && sp == FLAT)
        sb_put(b, "  optimizer: {name: %s, %s: %s}\n", nn_optim_names[t->index], key, val);
    else if (t->sec == SEC_OPTIM)
        sb_put(b, "  optimizer: {%s: {%s: %s}}\n", nn_optim_names[t->index], key, val);
    else
        sb_put(b, "  optimizer: adam\n");
    if (t->sec == SEC_TRAIN && !strcmp(key, "epochs")) sb_put(b, "  shuffle: false\n");
    else sb_put(b, "  epochs: 1\n");
    /* line 12 */
    if (t->sec == SEC_TRAIN) sb_put(b, "  %s: %s\n", key, val);
    else sb_put(b, "  batch_size: 16\n");
    /* line 13 */
    if (t->sec == SEC_EARLY) sb_put(b, "  early_stopping: {%s: %s}\n", key, val);
    else sb_put(b, "  metrics: [accuracy]\n");
    /* line 14 */
    if (t->sec == SEC_LR) {
        struct sb req = {.n = 0};
        req.p[0] = '\0';
        required_pairs(&req, t, key);
        if (sp == FLAT)
            sb_put(b, "  lr_schedule: {name: %s, %s%s: %s}\n", nn_lr_names[t->index], req.p, key,
                   val);
        else
            sb_put(b, "  lr_schedule: {%s: {%s%s: %s}}\n", nn_lr_names[t->index], req.p, key,
                   val);
    }
    static const int lines[] = {[SEC_LAYER] = 7, [SEC_DATA] = 3, [SEC_AUGMENT] = 3,
                                [SEC_TRAIN] = 12, [SEC_EARLY] = 13, [SEC_OPTIM] = 10,
                                [SEC_LR] = 14};
    *line = lines[t->sec];
}

/* Where key's value starts: "rt.yaml:L:C:" */
static void value_pos(const char *text, int line, const char *key, const char *val, char *out,
                      size_t n)
{
    const char *l = text;
    for (int i = 1; i < line; i++) l = strchr(l, '\n') + 1;
    char pair[600];
    snprintf(pair, sizeof pair, "%s: %s", key, val);
    const char *p = strstr(l, pair);
    ck_assert_msg(p != NULL, "no '%s' on line %d of\n%s", pair, line, text);
    if (val[0] == '[')   /* an item of a list is reported at the item */
        snprintf(out, n, "rt.yaml:%d:", line);
    else
        snprintf(out, n, "rt.yaml:%d:%d:", line, (int)(p - l + (long)strlen(key) + 3));
}

static void *section_base(struct nn_spec *s, const struct table *t)
{
    switch (t->sec) {
    case SEC_LAYER: return s->layers[0].args;
    case SEC_DATA: return &s->data;
    case SEC_AUGMENT: return &s->data.augment;
    case SEC_TRAIN: return &s->train;
    case SEC_EARLY: return &s->train.early_stopping;
    case SEC_OPTIM: return &s->train.optim;
    case SEC_LR: return &s->train.lr_schedule;
    }
    return NULL;
}

static size_t field_size(const struct nn_arg_desc *a)
{
    switch (a->type) {
    case NN_ARG_PAIR: return 2 * sizeof(int);
    case NN_ARG_FLOAT: return sizeof(float);
    case NN_ARG_STRING: return sizeof(char *);
    default: return sizeof(int);
    }
}

static struct nn_spec *parse(const char *text, const char *name, struct nn_diag *d)
{
    nn_diag_init(d, name);
    return nn_spec_from_string(text, strlen(text), name, d);
}

/* counts over the whole property run, to show it is not vacuous */
static long n_accepted, n_refused, n_keys;

enum expect { ANY, ACCEPT, REFUSE };

/* parse -> emit -> parse -> emit for one value; returns 1 when accepted. */
static int check_value(const struct table *t, const struct nn_arg_desc *a, const char *val,
                       enum expect want, enum spelling sp)
{
    struct sb text;
    int line;
    spec_text(&text, t, a->key, val, sp, &line);
    struct nn_diag d;
    struct nn_spec *s1 = parse(text.p, "rt.yaml", &d);
    if (!s1) {
        n_refused++;
        ck_assert_msg(want != ACCEPT, "%s: %s: %s refused:\n%s\n%s", t->label, a->key, val,
                      d.n_errors ? d.msgs[0] : "?", text.p);
        if (want == REFUSE) {   /* the error is at the value */
            char pos[64];
            value_pos(text.p, line, a->key, val, pos, sizeof pos);
            int found = 0;
            for (int i = 0; i < d.n_errors; i++)
                found |= !strncmp(d.msgs[i], pos, strlen(pos)) &&
                         /* the key, or yaml.c's refusal of a character no text may hold */
                         (strstr(d.msgs[i], a->key) || strstr(d.msgs[i], "the text holds U+"));
            ck_assert_msg(found, "%s: %s: %s: no error at %s naming the key; got %s", t->label,
                          a->key, val, pos, d.msgs[0]);
        }
        nn_diag_free(&d);
        return 0;
    }
    nn_diag_free(&d);
    n_accepted++;
    ck_assert_msg(want != REFUSE, "%s: %s: %s accepted", t->label, a->key, val);
    char *e1 = nn_spec_to_yaml(s1);
    struct nn_spec *s2 = parse(e1, "spec.yaml", &d);
    ck_assert_msg(s2 != NULL, "%s: %s: %s: the resolved spec does not reload: %s\n%s", t->label,
                  a->key, val, d.n_errors ? d.msgs[0] : "?", e1);
    nn_diag_free(&d);
    char *e2 = nn_spec_to_yaml(s2);
    ck_assert_msg(!strcmp(e1, e2), "%s: %s: %s: the resolved spec changes on reload:\n%s\n%s",
                  t->label, a->key, val, e1, e2);
    ck_assert_uint_eq(nn_spec_hash(s1), nn_spec_hash(s2));
    /* the same bits in the field, and a value the program may use */
    const char *p1 = (const char *)section_base(s1, t) + a->offset;
    const char *p2 = (const char *)section_base(s2, t) + a->offset;
    if (a->type == NN_ARG_STRING) {
        ck_assert_str_eq(*(char *const *)p1, *(char *const *)p2);
    } else {
        ck_assert_msg(!memcmp(p1, p2, field_size(a)), "%s: %s: %s: another value on reload",
                      t->label, a->key, val);
    }
    if (a->type == NN_ARG_FLOAT) {
        const float f = *(const float *)p1;
        if (!isnan(a->def) || !isnan(f)) {
            ck_assert_msg(isfinite(f) && f >= (float)a->min &&
                          (a->max_open ? f < (float)a->max : f <= (float)a->max),
                          "%s: %s: %s stored as %.9g, outside the bounds", t->label, a->key,
                          val, (double)f);
            ck_assert_msg(f == 0 || fabsf(f) >= FLT_MIN, "%s: %s: %s stored as a denormal",
                          t->label, a->key, val);
            ck_assert_msg(!signbit(f), "%s: %s: %s stored as -0", t->label, a->key, val);
        }
    } else if (a->type == NN_ARG_INT || a->type == NN_ARG_PAIR) {
        for (int i = 0; i < (a->type == NN_ARG_PAIR ? 2 : 1); i++) {
            const int v = ((const int *)p1)[i];
            ck_assert(v >= a->min && v <= a->max);
        }
    }
    free(e1);
    free(e2);
    nn_spec_free(s1);
    nn_spec_free(s2);
    return 1;
}

/* ---- the values tried for each type ---------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-53;
}

static int float_ok(const struct nn_arg_desc *a, float f)
{
    return isfinite(f) && f >= (float)a->min &&
           (a->max_open ? f < (float)a->max : f <= (float)a->max);
}

static void try_float(const struct table *t, const struct nn_arg_desc *a, enum spelling sp,
                      int *accepted)
{
    char v[64];
    const double lo = a->min, hi = a->max;
    const float flo = (float)lo, fhi = (float)hi;
    struct {
        double x;
        enum expect want;
    } c[80];
    int n = 0;
#define C(x_, w_) (c[n].x = (x_), c[n++].want = (w_))
    C(lo, ACCEPT);
    C(hi, a->max_open ? REFUSE : ACCEPT);
    if (isfinite(a->def)) C(a->def, ACCEPT);
    C(nextafterf(fhi, -INFINITY), ACCEPT);            /* the float just inside the top */
    C(nextafterf(fhi, INFINITY), REFUSE);             /* just outside */
    C(nextafterf(flo, INFINITY), nextafterf(flo, INFINITY) >= FLT_MIN ? ACCEPT : REFUSE);
    C(nextafterf(flo, -INFINITY), REFUSE);            /* below the bottom (-denormal at 0) */
    C(nextafter(hi, -INFINITY), a->max_open ? REFUSE : ACCEPT);   /* rounds onto hi */
    C(nextafter(hi, INFINITY), ANY);
    C(nextafter(lo, -INFINITY), ANY);
    C(nextafter(lo, INFINITY), ANY);
    C(hi * (1 - 1e-8), a->max_open ? REFUSE : ACCEPT);   /* 0.99999999 under an open 1 */
    C(hi * (1 - 1e-7), ANY);
    C(lo + (hi - lo) * 1e-9, ANY);
    C(lo + (hi - lo) / 2, ACCEPT);
    static const double specials[] = {0, 1e-12, 1e-13, 1e-30, 1e-38, FLT_MIN, FLT_MIN / 2,
                                      FLT_TRUE_MIN, 1e-45, 1e-50, 0.5, 1, 0.99999999,
                                      0.9999999, 0.999999999999, 1e6, 1e30, 1.0000001e30,
                                      1e38, 3.4028235e38, 3.4028236e38, 1e39, -1e-50, -1};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
        const double x = specials[i];
        const float f = (float)x;
        /* a value that becomes 0 or a denormal as a float is refused */
        enum expect w = x != 0 && fabsf(f) < FLT_MIN ? REFUSE
                        : float_ok(a, f) && (double)f == x ? ACCEPT : ANY;
        if (fabs(x) > FLT_MAX || !float_ok(a, f)) w = REFUSE;
        C(x, w);
    }
    for (int i = 0; i < 20; i++) {   /* log-uniform inside the bounds, as floats */
        const double l0 = log(fmax(lo, 1e-37)), l1 = log(hi);
        const float f = (float)exp(l0 + uniform() * (l1 - l0));
        C(f, float_ok(a, f) && fabsf(f) >= FLT_MIN ? ACCEPT : ANY);
    }
#undef C
    static const char *const fmts[] = {"%.17g", "%.9g", "%.6g"};
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            snprintf(v, sizeof v, fmts[k], c[i].x);
            /* a shorter form names another number; only %.17g is the one expected */
            *accepted += check_value(t, a, v, k == 0 ? c[i].want : ANY, sp);
        }
    static const char *const texts[][2] = {
        {"1e-400", "R"}, {"1e400", "R"}, {"-1e400", "R"}, {"-0.0", "A"}, {"-0", "A"},
        {"0x1p-3", "-"}, {"1E-12", "-"}, {".5", "-"}, {"inf", "R"}, {"nan", "R"}, {"1e", "R"},
        {"0.1.2", "R"}, {"\"0.5\"", "R"}, {"[0.5]", "R"}, {"{a: 1}", "R"}, {"true", "R"}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        enum expect w = texts[i][1][0] == 'R' ? REFUSE : ANY;
        if (texts[i][1][0] == 'A' && float_ok(a, 0)) w = ACCEPT;
        if (texts[i][1][0] == 'A' && !float_ok(a, 0)) w = REFUSE;
        *accepted += check_value(t, a, texts[i][0], w, sp);
    }
}

static void try_int(const struct table *t, const struct nn_arg_desc *a, enum spelling sp,
                    int *accepted)
{
    const long long lo = (long long)a->min, hi = (long long)a->max;
    struct {
        long long x;
        enum expect want;
    } c[] = {{lo, ACCEPT}, {lo + 1, ACCEPT}, {hi - 1, ACCEPT}, {hi, ACCEPT},
             {(lo + hi) / 2, ACCEPT}, {lo - 1, REFUSE}, {hi + 1, REFUSE},
             {2147483647LL, hi >= 2147483647LL ? ACCEPT : REFUSE},
             {2147483648LL, REFUSE}, {-2147483649LL, REFUSE},
             {9223372036854775807LL, REFUSE}, {-9223372036854775807LL - 1, REFUSE},
             {(long long)a->def, a->def >= lo && a->def <= hi ? ACCEPT : REFUSE}};
    char v[64];
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        snprintf(v, sizeof v, "%lld", c[i].x);
        *accepted += check_value(t, a, v, c[i].want, sp);
        if (a->type == NN_ARG_PAIR) {   /* and as [h, w] */
            snprintf(v, sizeof v, "[%lld, %lld]", lo, c[i].x);
            *accepted += check_value(t, a, v, c[i].want, sp);
        }
    }
    snprintf(v, sizeof v, "%lld.0", hi);
    *accepted += check_value(t, a, v, ACCEPT, sp);
    snprintf(v, sizeof v, "%.17g", (double)hi);   /* 1e6 style */
    *accepted += check_value(t, a, v, ANY, sp);
    static const char *const texts[][2] = {
        {"99999999999999999999", "R"}, {"-99999999999999999999", "R"}, {"1e300", "R"},
        {"1e999", "R"}, {"-1e999", "R"}, {"1.5", "R"}, {"inf", "R"}, {"nan", "R"},
        {"1e-999", "R"}, {"\"3\"", "R"}, {"true", "R"}, {"0x10", "-"}, {"[1, 2, 3]", "R"}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        *accepted += check_value(t, a, texts[i][0], texts[i][1][0] == 'R' ? REFUSE : ANY, sp);
}

/* texts that read back as they are, and texts that are refused (controls,
 * line breaks) with their position */
static const char *const good_texts[] = {
    "\"plain.idx\"", "plain", "\"dir with space/file.gz\"", "\"quote\\\"s\"",
    "\"back\\\\slash\"", "\"#hash\"", "\": colon\"", "\"'single'\"", "\"  leading\"",
    "\"trailing  \"", "\"\xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xe2\x9c\x93\"",
    "\"\xf0\x9f\x98\x80\"", "\"\\u00e9\"", "\"\\U0001F600\"", "'it''s'", "\"no\\_break\"",
    "\"a&b*c!d%e@f`g|h\""};
static const char *const bad_texts[] = {
    "\"a\\nb\"", "\"a\\tb\"", "\"\\x01\"", "\"a\\x7fb\"", "\"a\\x85b\"", "\"a\\u2028b\"",
    "\"a\\u2029b\"", "\"a\\rb\"", "\"a\\eb\"", "\"\\x9f\"", "\"a\\x00b\"", "\"\\b\"", "\"\\v\"",
    "\"\\f\"", "\"a\\Lb\"", "\"a\\Pb\"", "\"a\\Nb\"", "\"\""};

static void try_string(const struct table *t, const struct nn_arg_desc *a, enum spelling sp,
                       int *accepted)
{
    if (!strcmp(a->key, "dataset")) {   /* a choice */
        *accepted += check_value(t, a, "fashion_mnist", ACCEPT, sp);
        *accepted += check_value(t, a, "\"fashion_mnist\"", ACCEPT, sp);
        return;
    }
    for (size_t i = 0; i < sizeof good_texts / sizeof good_texts[0]; i++)
        *accepted += check_value(t, a, good_texts[i], ACCEPT, sp);
    for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++)
        /* "a\0b" is cut at the NUL by the YAML reader: "a", which is fine */
        *accepted += check_value(t, a, bad_texts[i], strstr(bad_texts[i], "\\x00") ? ANY
                                                                                    : REFUSE, sp);
}

static void try_key(const struct table *t, const struct nn_arg_desc *a, enum spelling sp)
{
    int accepted = 0;
    n_keys++;
    switch (a->type) {
    case NN_ARG_FLOAT: try_float(t, a, sp, &accepted); break;
    case NN_ARG_INT: case NN_ARG_PAIR: try_int(t, a, sp, &accepted); break;
    case NN_ARG_BOOL: {
        static const char *const b[] = {"true", "false", "yes", "no", "on", "off", "True",
                                        "FALSE"};
        for (int i = 0; i < 8; i++) accepted += check_value(t, a, b[i], ACCEPT, sp);
        check_value(t, a, "1", REFUSE, sp);
        check_value(t, a, "\"true\"", REFUSE, sp);
        break;
    }
    case NN_ARG_ENUM:
        for (int i = 0; i < a->n_choices; i++)
            accepted += check_value(t, a, a->choices[i], ANY, sp);
        check_value(t, a, "no_such_choice", REFUSE, sp);
        break;
    case NN_ARG_STRING: try_string(t, a, sp, &accepted); break;
    }
    ck_assert_msg(accepted > 0, "%s: no value of '%s' was accepted", t->label, a->key);
}

/* Every key of every table, at and near its bounds. */
START_TEST(test_every_key_round_trips)
{
    collect_tables();
    ck_assert_int_ge(n_tables, NN_LAYER_COUNT + 4 + NN_OPT_COUNT + NN_LR_COUNT - 1);
    for (int i = 0; i < n_tables; i++)
        for (int k = 0; k < tables[i].n; k++) {
            try_key(&tables[i], &tables[i].keys[k], FLAT);
            if (tables[i].sec == SEC_OPTIM || tables[i].sec == SEC_LR)
                try_key(&tables[i], &tables[i].keys[k], LAYER_LIKE);
        }
    fprintf(stderr, "round trip: %ld keys, %ld specs accepted and reloaded, %ld refused\n",
            n_keys, n_accepted, n_refused);
    ck_assert_int_gt(n_keys, 80);
    ck_assert_int_gt(n_accepted, 3000);
    ck_assert_int_gt(n_refused, 1000);
}
END_TEST

/* The examples of the issue, with the message each gets. */
START_TEST(test_floats_are_checked_as_floats)
{
    static const char *const cases[][2] = {
        {"    - dropout: {rate: 0.99999999}\n", "'rate' is 0.99999999 (1 as the 32-bit float"},
        {"    - batch_normalization: {epsilon: 1e-50}\n", "must be >= 1e-12"},
        {"    - dense: {units: 4}\ntrain:\n  loss: mse\n  optimizer: {name: adam, epsilon: "
         "1e-50}\n", "'epsilon' is 1e-50, below the smallest normal 32-bit float"},
        {"    - dense: {units: 4}\ntrain:\n  loss: mse\n  optimizer: {name: adam, beta_2: "
         "0.9999999999}\n", "'beta_2' is 0.9999999999 (1 as the 32-bit float"},
        {"    - dense: {units: 4}\ntrain:\n  loss: mse\n  optimizer: {name: sgd, clipnorm: "
         "1e39}\n", "'clipnorm' is 1e39 (beyond the largest 32-bit float"},
        {"    - dense: {units: 4}\ntrain:\n  loss: mse\n  optimizer: {name: sgd, clipnorm: "
         "1e-40}\n", "below the smallest normal"},
        {"    - leaky_relu: {alpha: 1e-400}\n", "'alpha' is 1e-400, below the smallest normal"},
        {"    - dense: {units: 99999999999999999999}\n", "'units' is 99999999999999999999; "
         "it must be >= 1 and <= 16777216"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char y[1024];
        const int has_train = strstr(cases[i][0], "train:") != NULL;
        snprintf(y, sizeof y, "name: t\nmodel:\n  input: [8, 8, 1]\n  layers:\n%s%s", cases[i][0],
                 has_train ? "" : "train:\n  loss: mse\n");
        const char *e = t_errors(y);
        ck_assert_msg(e && strstr(e, cases[i][1]), "%s: got %s", cases[i][0], e ? e : "none");
    }
    /* at the bound: 1e-12 is below the double 1e-12 as a float, yet accepted, and the
       resolved text (9.99999996e-13) reloads */
    struct nn_spec *s = t_spec("name: t\nmodel:\n  input: [8, 8, 1]\n  layers:\n"
                               "    - batch_normalization: {epsilon: 1e-12}\n"
                               "train:\n  loss: mse\n  optimizer: {name: sgd, clipnorm: 1e30}\n"
                               "data: {divide_by: 1e-30, validation_split: 0.99999994}\n");
    char *e1 = nn_spec_to_yaml(s);
    ck_assert_ptr_nonnull(strstr(e1, "epsilon: 9.99999996e-13"));
    ck_assert_ptr_nonnull(strstr(e1, "clipnorm: 1.00000002e+30"));
    ck_assert_ptr_nonnull(strstr(e1, "validation_split: 0.99999994"));
    struct nn_spec *s2 = t_spec(e1);
    ck_assert_uint_eq(nn_spec_hash(s), nn_spec_hash(s2));
    free(e1);
    nn_spec_free(s);
    nn_spec_free(s2);
}
END_TEST

/* Ordinary values keep the text older records were hashed with. */
START_TEST(test_ordinary_values_keep_their_text)
{
    struct nn_spec *s = t_spec(
        "name: t\nseed: 18\ndata: {divide_by: 255}\nmodel:\n  input: [28, 28, 1]\n  layers:\n"
        "    - flatten\n    - dropout: {rate: 0.5}\n    - dense: {units: 10}\n"
        "train:\n  loss: mse\n  optimizer: {name: adam, learning_rate: 0.001}\n");
    char *e = nn_spec_to_yaml(s);
    ck_assert_ptr_nonnull(strstr(e, "seed: 18\n"));
    ck_assert_ptr_nonnull(strstr(e, "divide_by: 255.0,"));
    ck_assert_ptr_nonnull(strstr(e, "rate: 0.5}"));
    ck_assert_ptr_nonnull(strstr(e, "learning_rate: 0.00100000005, beta_1: 0.899999976, "
                                    "beta_2: 0.999000013, epsilon: 1.00000001e-07}"));
    free(e);
    nn_spec_free(s);
}
END_TEST

/* The keys outside the tables: name, seed, model.input, data.image_shape, loss
 * and metric aliases, layer names, inputs, activations, the activation layer's
 * forms.  Each spec must reload as itself. */
static void assert_round_trip(const char *yaml)
{
    struct nn_spec *s = t_spec(yaml);
    char *e1 = nn_spec_to_yaml(s);
    struct nn_diag d;
    struct nn_spec *s2 = parse(e1, "spec.yaml", &d);
    ck_assert_msg(s2 != NULL, "%s\ndoes not reload: %s\n%s", yaml, d.n_errors ? d.msgs[0] : "",
                  e1);
    char *e2 = nn_spec_to_yaml(s2);
    ck_assert_str_eq(e1, e2);
    ck_assert_uint_eq(nn_spec_hash(s), nn_spec_hash(s2));
    ck_assert_uint_eq(s->seed, s2->seed);
    ck_assert_str_eq(s->name, s2->name);
    ck_assert_int_eq(memcmp(s->input, s2->input, sizeof s->input), 0);
    free(e1);
    free(e2);
    nn_spec_free(s);
    nn_spec_free(s2);
    nn_diag_free(&d);
}

START_TEST(test_other_keys_round_trip)
{
    static const char *const specs[] = {
        "name: \"1.5\"\nseed: 0\nmodel:\n  input: [65536, 1, 1]\n  layers:\n"
        "    - flatten\ntrain:\n  loss: mean_squared_error\n  metrics: [acc, mean_squared_error, "
        "loss, accuracy]\n",
        "name: true\nseed: 9007199254740992\nmodel:\n  input: [1]\n  layers:\n"
        "    - relu\n    - leaky_relu\n    - elu: {alpha: 0.5}\n    - activation: tanh\n"
        "    - activation: {activation: leaky_relu, alpha: 0.99999994}\n"
        "    - dense: {units: 10, activation: elu, name: out}\n"
        "train:\n  loss: sparse_crossentropy\n  metrics: []\n",
        "data: {format: csv, train: a.csv, test: b.csv, image_shape: [65536]}\nmodel:\n"
        "  input: [65536]\n  layers:\n    - dense: {units: 10}\ntrain:\n  loss: mse\n",
        "data: {format: csv, train: a.csv, test: b.csv}\nmodel:\n  input: [2, 3]\n  layers:\n"
        "    - flatten: {name: \"a:b\"}\n    - dense: {units: 10, name: \"\\u00e9\"}\n"
        "    - add: {inputs: [\"a:b\", \"\\u00e9\"]}\n"
        "    - concatenate: {inputs: [add_1, \"a:b\"], name: c}\ntrain:\n  loss: mse\n",
        "name: s\ndata: {augment: {flip_horizontal: false, translate: 0, erase: 0}}\nmodel:\n"
        "  input: [4, 4]\n  layers:\n    - flatten\ntrain:\n  loss: mse\n  early_stopping: "
        "{monitor: loss}\n  lr_schedule: constant\n",
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) assert_round_trip(specs[i]);
}
END_TEST

/* ---- text values ----------------------------------------------------------- */

START_TEST(test_text_refused_with_position)
{
    const char *e = t_errors("name: \"run\\nsecond line\"\nmodel:\n  input: [4]\n  layers:\n"
                             "    - dense: {units: 10}\ntrain:\n  loss: mse\n");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_nonnull(strstr(e, "t.yaml:1:7: error: 'name' holds the control character "
                                    "U+000A (line feed) at character 4"));
    e = t_errors("model:\n  input: [4]\n  layers:\n    - dense: {units: 10, name: \"a\\tb\"}\n"
                 "train:\n  loss: mse\n");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_nonnull(strstr(e, "t.yaml:4:32: error: dense: 'name' holds the control "
                                    "character U+0009 (tab) at character 2"));
    e = t_errors("model:\n  input: [4]\n  layers:\n    - dense: {units: 10, name: a}\n"
                 "    - add: {inputs: [a, \"a\\u2028\"]}\ntrain:\n  loss: mse\n");
    ck_assert_ptr_nonnull(e);
    /* U+2028 and U+0085 are refused by the YAML reader itself, even as escapes */
    ck_assert_ptr_nonnull(strstr(e, "t.yaml:5:25: error: the text holds U+2028"));
    e = t_errors("data: {train_images: \"x\\x85\", train_labels: a, test_images: b, "
                 "test_labels: c}\nmodel:\n  input: [4]\n  layers:\n    - dense: {units: 10}\n"
                 "train:\n  loss: mse\n");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_nonnull(strstr(e, "t.yaml:1:22: error: the text holds U+0085"));
}
END_TEST

/* A value from --set is checked the same way, and the error names the override. */
START_TEST(test_text_from_override)
{
    const char *spec = "model:\n  input: [4]\n  layers:\n    - dense: {units: 10}\n"
                       "train:\n  loss: mse\n";
    struct nn_diag d;
    nn_diag_init(&d, "t.yaml");
    const char *sets[] = {"data.train_images=\"a\\x01\""};
    d.overrides = sets;
    d.n_overrides = 1;
    struct nn_ynode *root = nn_yaml_parse_string(spec, strlen(spec), &d);
    ck_assert_int_eq(nn_spec_override(root, sets[0], 1, &d), 0);
    ck_assert_ptr_null(nn_spec_from_tree(root, "t.yaml", &d));
    ck_assert_int_ge(d.n_errors, 1);
    ck_assert_msg(strstr(d.msgs[0], "--set data.train_images=\"a\\x01\": error: data: "
                                    "'train_images' holds the control character U+0001"),
                  "%s", d.msgs[0]);
    nn_ynode_free(root);
    nn_diag_free(&d);
}
END_TEST

/* A spec without name: is named after its file; what of the file name would not
 * read back (bytes that are not UTF-8, controls) becomes '_'. */
START_TEST(test_name_from_file_name)
{
    const char *spec = "model:\n  input: [4]\n  layers:\n    - dense: {units: 10}\n"
                       "train:\n  loss: mse\n";
    struct nn_diag d;
    nn_diag_init(&d, "x");
    struct nn_spec *s = nn_spec_from_string(spec, strlen(spec), "dir/a\xff\xfe" "b\nc\xc3\xa9.yaml",
                                            &d);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->name, "a__b_c\xc3\xa9");
    char *e1 = nn_spec_to_yaml(s);
    struct nn_spec *s2 = t_spec(e1);
    ck_assert_str_eq(s2->name, s->name);
    ck_assert_uint_eq(nn_spec_hash(s), nn_spec_hash(s2));
    free(e1);
    nn_spec_free(s);
    nn_spec_free(s2);
    nn_diag_free(&d);
}
END_TEST

/* ---- one spelling for named things ----------------------------------------- */

static char *resolved(const char *yaml, const char *set)
{
    struct nn_diag d;
    nn_diag_init(&d, "t.yaml");
    const char *sets[1] = {set};
    d.overrides = sets;
    d.n_overrides = set ? 1 : 0;
    struct nn_ynode *root = nn_yaml_parse_string(yaml, strlen(yaml), &d);
    ck_assert_ptr_nonnull(root);
    if (set) ck_assert_int_eq(nn_spec_override(root, set, 1, &d), 0);
    struct nn_spec *s = nn_spec_from_tree(root, "t.yaml", &d);
    ck_assert_msg(s != NULL, "%s: %s", yaml, d.n_errors ? d.msgs[0] : "?");
    char *e = nn_spec_to_yaml(s);
    nn_spec_free(s);
    nn_ynode_free(root);
    nn_diag_free(&d);
    return e;
}

#define NAMED_HEAD "name: t\ndata: {validation_split: 0.1}\nmodel:\n  input: [4]\n  layers:\n" \
                   "    - dense: {units: 10}\ntrain:\n  loss: mse\n"

START_TEST(test_both_spellings_one_spec)
{
    static const char *const same[][2] = {
        {"  optimizer: {name: adam, learning_rate: 0.01, beta_2: 0.99}\n",
         "  optimizer: {adam: {learning_rate: 0.01, beta_2: 0.99}}\n"},
        {"  optimizer: adam\n", "  optimizer: {adam: {}}\n"},
        {"  optimizer: adam\n", "  optimizer: {adam: null}\n"},
        {"  optimizer: adam\n", "  optimizer: {adam: }\n"},
        {"  optimizer: {name: sgd}\n", "  optimizer:\n    sgd:\n"},
        {"  optimizer: {name: sgd, momentum: 0.9, nesterov: true}\n",
         "  optimizer:\n    sgd:\n      momentum: 0.9\n      nesterov: true\n"},
        {"  lr_schedule: {name: step, step_size: 3, gamma: 0.5}\n",
         "  lr_schedule: {step: {step_size: 3, gamma: 0.5}}\n"},
        {"  lr_schedule: reduce_on_plateau\n", "  lr_schedule: {reduce_on_plateau: null}\n"},
        {"  lr_schedule: {name: cosine, warmup_epochs: 2}\n",
         "  lr_schedule: {cosine: {warmup_epochs: 2}}\n"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char a[1024], b[1024];
        snprintf(a, sizeof a, NAMED_HEAD "%s", same[i][0]);
        snprintf(b, sizeof b, NAMED_HEAD "%s", same[i][1]);
        char *ea = resolved(a, NULL), *eb = resolved(b, NULL);
        ck_assert_str_eq(ea, eb);
        /* the canonical form is the flat one, as before */
        ck_assert(strstr(ea, "optimizer: {name: ") != NULL);
        free(ea);
        free(eb);
    }
}
END_TEST

/* --set reaches the argument in either spelling */
START_TEST(test_override_on_both_spellings)
{
    static const char *const specs[] = {
        NAMED_HEAD "  optimizer: {name: adam, learning_rate: 0.01}\n"
                   "  lr_schedule: {name: step, step_size: 3}\n",
        NAMED_HEAD "  optimizer: {adam: {learning_rate: 0.01}}\n"
                   "  lr_schedule: {step: {step_size: 3}}\n",
        NAMED_HEAD "  optimizer:\n    adam:\n      learning_rate: 0.01\n"
                   "  lr_schedule:\n    step:\n      step_size: 3\n",
    };
    static const char *const sets[][2] = {
        {"train.optimizer.learning_rate=0.5", "learning_rate: 0.5,"},
        {"train.optimizer.beta_1=0.5", "beta_1: 0.5,"},
        {"train.lr_schedule.step_size=7", "step_size: 7,"},
        {"train.optimizer.name=adamw", "{name: adamw, learning_rate: 0.00999999978,"},
        {"train.optimizer=sgd", "{name: sgd, learning_rate: 0.00999999978, momentum: 0.0"},
        /* the layer-like path, on either spelling */
        {"train.optimizer.adam.beta_1=0.5", "beta_1: 0.5,"},
        {"train.optimizer.adam.learning_rate=0.25", "learning_rate: 0.25,"},
        {"train.lr_schedule.step.gamma=0.5", "step_size: 3, gamma: 0.5}"},
    };
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        char *first = NULL;
        for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
            char *e = resolved(specs[i], sets[k][0]);
            ck_assert_msg(strstr(e, sets[k][1]), "%s on spec %zu:\n%s", sets[k][0], i, e);
            if (first) ck_assert_str_eq(first, e);
            else first = e;
            if (e != first) free(e);
        }
        free(first);
    }
    /* arguments of another kind than the spec's: refused, naming the override */
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct nn_diag d;
        nn_diag_init(&d, "t.yaml");
        const char *set[] = {"train.optimizer.sgd.momentum=0.5"};
        d.overrides = set;
        d.n_overrides = 1;
        struct nn_ynode *root = nn_yaml_parse_string(specs[i], strlen(specs[i]), &d);
        ck_assert_int_eq(nn_spec_override(root, set[0], 1, &d), 0);
        ck_assert_ptr_null(nn_spec_from_tree(root, "t.yaml", &d));
        ck_assert_msg(d.n_errors >= 1 && !strncmp(d.msgs[0], "--set train.optimizer.sgd.momentum"
                                                  "=0.5: error: optimizer: ", 55),
                      "spec %zu: %s", i, d.n_errors ? d.msgs[0] : "accepted");
        nn_ynode_free(root);
        nn_diag_free(&d);
    }
}
END_TEST

START_TEST(test_layer_like_errors)
{
    static const char *const cases[][2] = {
        {"  optimizer: {adma: {learning_rate: 0.1}}\n",
         "t.yaml:9:15: error: unknown optimizer 'adma'; expected one of: sgd, rmsprop, adam, "
         "adamw (did you mean 'adam'?)"},
        {"  optimizer: {adam: {learning_rat: 0.1}}\n",
         "t.yaml:9:22: error: unknown key for optimizer adam 'learning_rat'"},
        {"  optimizer: {adam: {learning_rate: -1}}\n",
         "t.yaml:9:37: error: optimizer adam: 'learning_rate' is -1; it must be >= 0"},
        {"  optimizer: {adam: 0.1}\n",
         "t.yaml:9:21: error: optimizer: 'adam' takes a mapping of its arguments"},
        {"  optimizer: {adam: {}, sgd: {}}\n",
         "t.yaml:9:25: error: optimizer: name one kind, found both 'adam' and 'sgd'"},
        {"  optimizer: {adam: {}, learning_rate: 0.1}\n",
         "t.yaml:9:25: error: optimizer: 'learning_rate' goes inside 'adam: {...}'"},
        {"  optimizer: {name: adam, adam: {}}\n",
         "t.yaml:9:15: error: optimizer: give the kind as 'name: adam' or as the key"},
        {"  optimizer: {adam: {name: x}}\n",
         "t.yaml:9:22: error: optimizer: the key 'adam' already names the kind"},
        {"  optimizer: {learning_rate: 0.1}\n",
         "t.yaml:9:14: error: optimizer: missing required key 'name' (one of: sgd, rmsprop, "
         "adam, adamw); write {name: adam, learning_rate: 0.001} or {adam: {learning_rate: "
         "0.001}}"},
        {"  lr_schedule: {step: {}}\n",
         "t.yaml:9:16: error: lr_schedule step: missing required key 'step_size'"},
        {"  lr_schedule: {stpe: {step_size: 2}}\n",
         "t.yaml:9:17: error: unknown lr_schedule 'stpe'"},
        {"  lr_schedule: {cosine: {warmup_steps: 2, warmup_epochs: 3}}\n",
         "t.yaml:9:58: error: lr_schedule cosine: give 'warmup_steps' or 'warmup_epochs', "
         "not both"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char y[1024];
        snprintf(y, sizeof y, NAMED_HEAD "%s", cases[i][0]);
        const char *e = t_errors(y);
        ck_assert_msg(e && strstr(e, cases[i][1]), "%s: got %s", cases[i][0], e ? e : "none");
    }
}
END_TEST

/* ---- the seed -------------------------------------------------------------- */

START_TEST(test_seed_range)
{
    static const struct {
        const char *text;
        int ok;
        uint64_t v;
    } c[] = {
        {"0", 1, 0}, {"1", 1, 1}, {"9007199254740992", 1, 9007199254740992ULL},
        {"9007199254740991", 1, 9007199254740991ULL}, {"9007199254740993", 0, 0},
        {"18446744073709551615", 0, 0}, {"18446744073709551616", 0, 0},
        {"99999999999999999999999", 0, 0}, {"-1", 0, 0}, {"-0", 0, 0}, {"+1", 0, 0},
        {"", 0, 0}, {" 1", 0, 0}, {"1 ", 0, 0}, {"1e3", 1, 1000}, {"1.5e1", 1, 15},
        {"1.5", 0, 0}, {"1e-1", 0, 0}, {"10e-1", 1, 1}, {"9.007199254740992e15", 1,
        9007199254740992ULL}, {"9.007199254740993e15", 0, 0}, {"9.0071992547409921e15", 0, 0},
        {"0x10", 0, 0}, {"inf", 0, 0}, {"nan", 0, 0}, {"1e99999999", 0, 0}, {"0e99999999", 1, 0},
        {"007", 1, 7}, {"3.0", 1, 3}, {"3.", 1, 3}, {".5", 0, 0}, {"1e", 0, 0}, {"2^53", 0, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint64_t v = 12345;
        int rc = nn_seed_parse(c[i].text, &v);
        ck_assert_msg((rc == 0) == c[i].ok, "nn_seed_parse(\"%s\") = %d", c[i].text, rc);
        if (c[i].ok) ck_assert_uint_eq(v, c[i].v);
        else ck_assert_uint_eq(v, 12345);
        /* the spec's seed: takes the same */
        char y[512];
        snprintf(y, sizeof y, "seed: %s\nmodel:\n  input: [4]\n  layers:\n    - dense: "
                 "{units: 10}\ntrain:\n  loss: mse\n", c[i].text[0] ? c[i].text : "\"\"");
        if (strchr(c[i].text, ' ')) continue;   /* YAML drops the spaces of a plain scalar */
        const char *e = t_errors(y);
        if (c[i].ok) {
            ck_assert_msg(e == NULL, "seed: %s refused: %s", c[i].text, e);
            struct nn_spec *s = t_spec(y);
            ck_assert_uint_eq(s->seed, c[i].v);
            char *e1 = nn_spec_to_yaml(s);
            struct nn_spec *s2 = t_spec(e1);
            ck_assert_uint_eq(s2->seed, c[i].v);
            free(e1);
            nn_spec_free(s);
            nn_spec_free(s2);
        } else {
            ck_assert_msg(e && strstr(e, "'seed' must be an integer from 0 to 9007199254740992 "
                                         "(2^53)"), "seed: %s: %s", c[i].text, e ? e : "accepted");
        }
    }
    ck_assert_int_eq(nn_seed_parse(NULL, &(uint64_t){0}), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("roundtrip");
    TCase *tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_key_round_trips);
    tcase_add_test(tc, test_floats_are_checked_as_floats);
    tcase_add_test(tc, test_ordinary_values_keep_their_text);
    tcase_add_test(tc, test_other_keys_round_trip);
    tcase_add_test(tc, test_text_refused_with_position);
    tcase_add_test(tc, test_text_from_override);
    tcase_add_test(tc, test_name_from_file_name);
    tcase_add_test(tc, test_both_spellings_one_spec);
    tcase_add_test(tc, test_override_on_both_spellings);
    tcase_add_test(tc, test_layer_like_errors);
    tcase_add_test(tc, test_seed_range);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
