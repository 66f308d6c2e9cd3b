/* fuzz_roundtrip.c - libFuzzer target: every spec the validator accepts
 * resolves to a spec.yaml that reloads to the same spec (issue 13, class 2).
 *
 * Input: as fuzz_spec (the same corpus and dictionary work): without a NUL
 * byte the whole input is a YAML spec; with one, the bytes before the first
 * NUL are --set texts, one per line (at most 16), applied in order to the
 * tree of the YAML after it.
 *
 * When the spec is accepted, its resolved text E1 (nn_spec_to_yaml) must
 *   - parse and validate again (else: "the resolved spec does not reload"),
 *   - resolve to E1 again, byte for byte, with the same nn_spec_hash,
 *   - give the same spec: every key of every table (data, augment, train,
 *     early_stopping, the optimizer's and the schedule's, each layer's) holds
 *     the same bits, and so do the seed, names, inputs, shapes, metrics.
 * Any difference aborts with both texts on stderr: a crash to libFuzzer.
 *
 * Few mutated specs validate, so each input is also read a second way, to
 * put many values through the check above: its first line (up to 96 bytes)
 * is the value of one key of one table (data, augment, train, early_stopping,
 * an optimizer's, a schedule's, a layer kind's), chosen by a hash of the
 * whole input, in a small spec that is valid around it (required keys filled,
 * CSV or IDX paths as the key needs), in the flat or the layer-like spelling. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/spec/tables.h"
#include "nnrun/diag.h"
#include "nnrun/layer.h"
#include "nnrun/spec.h"

#define MAX_SETS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *cur_e1;

static void fail(const char *what, const char *detail, const char *e2)
{
    fprintf(stderr, "fuzz_roundtrip: %s%s%s\n---- resolved spec ----\n%s", what,
            detail ? ": " : "", detail ? detail : "", cur_e1 ? cur_e1 : "");
    if (e2) fprintf(stderr, "---- resolved again ----\n%s", e2);
    abort();
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

/* Every key of a table holds the same bits (strings: the same text). */
static void same_table(const char *where, const struct nn_arg_desc *t, int n, const void *a,
                       const void *b)
{
    for (int i = 0; i < n; i++) {
        const char *p = (const char *)a + t[i].offset, *q = (const char *)b + t[i].offset;
        int same;
        if (t[i].type == NN_ARG_STRING) {
            const char *x = *(char *const *)p, *y = *(char *const *)q;
            same = (!x && !y) || (x && y && !strcmp(x, y));
        } else {
            same = !memcmp(p, q, field_size(&t[i]));
        }
        if (!same) {
            char m[160];
            snprintf(m, sizeof m, "%s: '%s' differs after the reload", where, t[i].key);
            fail("not the same spec", m, NULL);
        }
    }
}

static int str_eq(const char *x, const char *y) { return (!x && !y) || (x && y && !strcmp(x, y)); }

static void same_spec(const struct nn_spec *s, const struct nn_spec *r)
{
    if (s->seed != r->seed || !str_eq(s->name, r->name) || memcmp(s->input, r->input,
                                                                   sizeof s->input))
        fail("not the same spec", "seed, name or model.input", NULL);
    same_table("data", nn_spec_data_keys, nn_spec_n_data_keys, &s->data, &r->data);
    same_table("augment", nn_spec_augment_keys, nn_spec_n_augment_keys, &s->data.augment,
               &r->data.augment);
    if (s->data.format == NN_DATA_CSV &&
        memcmp(s->data.image_shape[0] ? s->data.image_shape : s->input,
               r->data.image_shape[0] ? r->data.image_shape : r->input, sizeof s->input))
        fail("not the same spec", "data.image_shape", NULL);
    const struct nn_train_spec *t = &s->train, *u = &r->train;
    same_table("train", nn_spec_train_keys, nn_spec_n_train_keys, t, u);
    if (t->loss != u->loss || t->metrics != u->metrics)
        fail("not the same spec", "loss or metrics", NULL);
    if (t->early_stopping.enabled != u->early_stopping.enabled)
        fail("not the same spec", "early_stopping", NULL);
    if (t->early_stopping.enabled)
        same_table("early_stopping", nn_spec_early_keys, nn_spec_n_early_keys,
                   &t->early_stopping, &u->early_stopping);
    if (t->optim.kind != u->optim.kind) fail("not the same spec", "optimizer", NULL);
    const struct nn_spec_table *ot = &nn_spec_optim_tables[t->optim.kind];
    same_table("optimizer", ot->keys, ot->n, &t->optim, &u->optim);
    if (t->lr_schedule.kind != u->lr_schedule.kind) fail("not the same spec", "lr_schedule", NULL);
    const struct nn_spec_table *lt = &nn_spec_lr_tables[t->lr_schedule.kind];
    same_table("lr_schedule", lt->keys, lt->n, &t->lr_schedule, &u->lr_schedule);
    if (s->n_layers != r->n_layers) fail("not the same spec", "the number of layers", NULL);
    for (int i = 0; i < s->n_layers; i++) {
        const struct nn_layer_spec *L = &s->layers[i], *M = &r->layers[i];
        char where[96];
        snprintf(where, sizeof where, "layer %d", i + 1);
        if (L->ops != M->ops || !str_eq(L->name, M->name) || L->n_inputs != M->n_inputs ||
            L->activation != M->activation)
            fail("not the same spec", where, NULL);
        for (int k = 0; k < L->n_inputs; k++)
            if (!str_eq(L->inputs[k], M->inputs[k])) fail("not the same spec", where, NULL);
        same_table(where, L->ops->args, L->ops->n_args, L->args, M->args);
    }
}

static void round_trip(const struct nn_spec *s)
{
    char *e1 = nn_spec_to_yaml(s);
    cur_e1 = e1;
    struct nn_diag d;
    nn_diag_init(&d, "spec.yaml");
    struct nn_spec *r = nn_spec_from_string(e1, strlen(e1), "spec.yaml", &d);
    if (!r) fail("the resolved spec does not reload", d.n_errors ? d.msgs[0] : "?", NULL);
    char *e2 = nn_spec_to_yaml(r);
    if (strcmp(e1, e2)) fail("the resolved spec changes when reloaded", NULL, e2);
    if (nn_spec_hash(s) != nn_spec_hash(r)) fail("the hash changes when reloaded", NULL, e2);
    same_spec(s, r);
    free(e2);
    nn_spec_free(r);
    nn_diag_free(&d);
    free(e1);
    cur_e1 = NULL;
}

/* ---- one key's value in a valid spec ------------------------------------- */

struct keyref {
    int sec;   /* 0 layer, 1 data, 2 augment, 3 train, 4 early, 5 optimizer, 6 schedule */
    int index;
    const struct nn_arg_desc *keys;
    int n;
};

static int all_keys(struct keyref *out, int cap)
{
    int n = 0;
    for (int i = 0; i < NN_LAYER_COUNT && n < cap; i++)
        out[n++] = (struct keyref){0, i, nn_layer_kinds[i]->args, nn_layer_kinds[i]->n_args};
    if (n + 4 > cap) return n;
    out[n++] = (struct keyref){1, 0, nn_spec_data_keys, nn_spec_n_data_keys};
    out[n++] = (struct keyref){2, 0, nn_spec_augment_keys, nn_spec_n_augment_keys};
    out[n++] = (struct keyref){3, 0, nn_spec_train_keys, nn_spec_n_train_keys};
    out[n++] = (struct keyref){4, 0, nn_spec_early_keys, nn_spec_n_early_keys};
    for (int k = 0; k < NN_OPT_COUNT && n < cap; k++)
        out[n++] = (struct keyref){5, k, nn_spec_optim_tables[k].keys, nn_spec_optim_tables[k].n};
    for (int k = 1; k < NN_LR_COUNT && n < cap; k++)
        out[n++] = (struct keyref){6, k, nn_spec_lr_tables[k].keys, nn_spec_lr_tables[k].n};
    return n;
}

static void put(char *b, size_t cap, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *b, size_t cap, size_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b + *o, cap - *o, fmt, ap);
    va_end(ap);
    if (k > 0) *o = *o + (size_t)k < cap ? *o + (size_t)k : cap - 1;
}

/* required keys of t bar skip, as "k: v, " */
static void required(char *b, size_t cap, size_t *o, const struct keyref *t, const char *skip)
{
    for (int i = 0; i < t->n; i++) {
        const struct nn_arg_desc *a = &t->keys[i];
        if (a->required != 1 || !strcmp(a->key, skip)) continue;
        double v = a->def >= a->min && a->def <= a->max ? a->def : a->min;
        if (a->type == NN_ARG_ENUM)
            put(b, cap, o, "%s: %s, ", a->key, !strcmp(skip, "alpha") ? "leaky_relu"
                                                                       : a->choices[0]);
        else if (a->type == NN_ARG_FLOAT) put(b, cap, o, "%s: %.9g, ", a->key, v);
        else if (a->type == NN_ARG_STRING) put(b, cap, o, "%s: x, ", a->key);
        else if (a->type == NN_ARG_BOOL) put(b, cap, o, "%s: true, ", a->key);
        else put(b, cap, o, "%s: %lld, ", a->key, (long long)(v < 1 ? 1 : v));
    }
}

static void one_value(const uint8_t *data, size_t size)
{
    static struct keyref refs[64];
    static int n_refs;
    if (!n_refs) n_refs = all_keys(refs, 64);
    uint64_t h = 0xcbf29ce484222325ULL;   /* which key, which spelling */
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 0x100000001b3ULL;
    int total = 0;
    for (int i = 0; i < n_refs; i++) total += refs[i].n;
    if (!total) return;
    int pick = (int)(h % (uint64_t)total);
    const int layer_like = (int)(h >> 40) & 1;
    const struct keyref *t = refs;
    while (pick >= t->n) pick -= t++->n;
    const char *key = t->keys[pick].key;
    /* the value: one line of the input, chosen by the hash, after its last ": " (a spec
       of the corpus gives 0.001, [3, 3], relu ...) */
    size_t lines = 1, at = 0;
    for (size_t i = 0; i < size && data[i]; i++) lines += data[i] == '\n';
    for (size_t line = (size_t)(h >> 20) % lines; line && at < size; at++)
        if (data[at] == '\n') line--;
    size_t end = at;
    while (end < size && data[end] != '\n' && data[end] != '\0') end++;
    for (size_t i = at; i + 1 < end; i++)
        if (data[i] == ':' && data[i + 1] == ' ') at = i + 2;
    char val[97];
    const size_t vn = end - at < 96 ? end - at : 96;
    memcpy(val, data + at, vn);
    val[vn] = '\0';

    char b[4096];
    size_t o = 0;
    put(b, sizeof b, &o, "name: v\nseed: 3\ndata: {");
    if (t->sec == 1) {
        static const char *const idx[] = {"train_images", "train_labels", "test_images",
                                          "test_labels"};
        int is_idx = 0, is_csv = !strcmp(key, "format") || !strcmp(key, "train") ||
                                 !strcmp(key, "test") || !strcmp(key, "label_column") ||
                                 !strcmp(key, "header");
        for (int i = 0; i < 4; i++) is_idx |= !strcmp(key, idx[i]);
        if (strcmp(key, "validation_split")) put(b, sizeof b, &o, "validation_split: 0.1, ");
        for (int i = 0; i < 4 && is_idx; i++)
            if (strcmp(key, idx[i])) put(b, sizeof b, &o, "%s: f%d, ", idx[i], i);
        if (is_csv && strcmp(key, "format")) put(b, sizeof b, &o, "format: csv, ");
        if (is_csv && strcmp(key, "train")) put(b, sizeof b, &o, "train: a.csv, ");
        if (is_csv && strcmp(key, "test")) put(b, sizeof b, &o, "test: b.csv, ");
        put(b, sizeof b, &o, "%s: %s", key, val);
    } else if (t->sec == 2) {
        put(b, sizeof b, &o, "validation_split: 0.1, augment: {%s: %s}", key, val);
    } else {
        put(b, sizeof b, &o, "validation_split: 0.1");
    }
    put(b, sizeof b, &o, "}\nmodel:\n  input: [8, 8, 2]\n  layers:\n    - ");
    if (t->sec == 0) {
        const struct nn_layer_ops *ops = nn_layer_kinds[t->index];
        put(b, sizeof b, &o, "%s: {%s", ops->name, ops->min_inputs > 1 ? "inputs: [a, b], " : "");
        required(b, sizeof b, &o, t, key);
        put(b, sizeof b, &o, "%s: %s}\n", key, val);
    } else {
        put(b, sizeof b, &o, "flatten\n");
    }
    put(b, sizeof b, &o, "train:\n  loss: sparse_categorical_crossentropy\n");
    if (t->sec == 3) put(b, sizeof b, &o, "  %s: %s\n", key, val);
    if (t->sec == 4) put(b, sizeof b, &o, "  early_stopping: {%s: %s}\n", key, val);
    if (t->sec == 5 && layer_like)
        put(b, sizeof b, &o, "  optimizer: {%s: {%s: %s}}\n", nn_optim_names[t->index], key, val);
    else if (t->sec == 5)
        put(b, sizeof b, &o, "  optimizer: {name: %s, %s: %s}\n", nn_optim_names[t->index], key,
            val);
    if (t->sec == 6) {
        put(b, sizeof b, &o, layer_like ? "  lr_schedule: {%s: {" : "  lr_schedule: {name: %s, ",
            nn_lr_names[t->index]);
        required(b, sizeof b, &o, t, key);
        put(b, sizeof b, &o, "%s: %s}%s\n", key, val, layer_like ? "}" : "");
    }
    struct nn_diag d;
    nn_diag_init(&d, "value.yaml");
    struct nn_spec *s = nn_spec_from_string(b, o, "value.yaml", &d);
    if (s) round_trip(s);
    nn_spec_free(s);
    nn_diag_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one_value(data, size);
    const uint8_t *nul = memchr(data, 0, size);
    const size_t head = nul ? (size_t)(nul - data) : 0;
    const uint8_t *yaml = nul ? nul + 1 : data;
    const size_t len = nul ? size - head - 1 : size;
    char *sets_buf = malloc(head + 1);
    char *text = malloc(len ? len : 1);   /* exact size: ASan sees any read past it */
    if (!sets_buf || !text) {
        free(sets_buf);
        free(text);
        return 0;
    }
    memcpy(sets_buf, data, head);
    sets_buf[head] = '\0';
    memcpy(text, yaml, len);
    const char *sets[MAX_SETS];
    int n_sets = 0;
    for (char *p = nul ? sets_buf : NULL; p && n_sets < MAX_SETS;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        sets[n_sets++] = p;
        p = nl ? nl + 1 : NULL;
    }
    struct nn_diag d;
    nn_diag_init(&d, "fuzz.yaml");
    d.overrides = sets;
    d.n_overrides = n_sets;
    struct nn_ynode *root = nn_yaml_parse_string(text, len, &d);
    int bad = !root;
    for (int i = 0; root && i < n_sets; i++) bad |= nn_spec_override(root, sets[i], i + 1, &d);
    struct nn_spec *s = bad ? NULL : nn_spec_from_tree(root, "fuzz.yaml", &d);
    nn_ynode_free(root);
    if (s) round_trip(s);
    nn_spec_free(s);
    nn_diag_free(&d);
    free(sets_buf);
    free(text);
    return 0;
}
