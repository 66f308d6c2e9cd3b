/* emit.c - the resolved spec: struct nn_spec written back as YAML.
 *
 * Every key of every table is written with its value, so the file states
 * what ran (defaults included) and parses back to the same spec.  Floats are
 * written with 9 significant digits, enough to give back the same float. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/layer.h"
#include "nnrun/spec.h"
#include "nnrun/util.h"
#include "tables.h"

struct buf {
    char *p;
    size_t n, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        NN_ASSERT(k >= 0);
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = 2 * b->cap + (size_t)k + 1;
        b->p = nn_xrealloc(b->p, b->cap);
    }
}

/* A YAML double-quoted scalar that reads back as s.  The validator refuses
 * text with controls or bytes that are not UTF-8 (validate.c check_text), so
 * a spec it accepted writes its text as it is, bar " and \.  For a struct
 * filled by other means, the characters YAML would fold or reject are
 * escaped (\x0a, \x85, \u2028: code points), and a byte that is not UTF-8,
 * which YAML cannot hold, becomes U+FFFD. */
static void put_str(struct buf *b, const char *s)
{
    put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        long cp;
        int len = nn_spec_utf8_char(p, &cp);
        if (!len) {
            put(b, "\\uFFFD");
            p++;
            continue;
        }
        if (cp == '"' || cp == '\\') put(b, "\\%c", (int)cp);
        else if (nn_spec_forbidden_char(cp) && cp <= 0xff) put(b, "\\x%02lx", cp);
        else if (nn_spec_forbidden_char(cp)) put(b, "\\u%04lx", cp);
        else put(b, "%.*s", len, (const char *)p);
        p += len;
    }
    put(b, "\"");
}

static void put_float(struct buf *b, double v)
{
    char t[32];
    snprintf(t, sizeof t, "%.9g", v);
    /* keep it a float to a YAML reader: 1 -> 1.0, 1e-07 stays */
    put(b, "%s%s", t, strpbrk(t, ".en") ? "" : ".0");
}

/* The keys of table, values from base, as "key: value" pairs of a flow
 * mapping (after any text already written).  Returns the pairs written. */
static int put_table(struct buf *b, const struct nn_arg_desc *t, int n, const void *base,
                     int written, const char *skip)
{
    for (int i = 0; i < n; i++) {
        const struct nn_arg_desc *a = &t[i];
        const char *p = (const char *)base + a->offset;
        if (skip && !strcmp(a->key, skip)) continue;
        if (a->type == NN_ARG_STRING && !*(char *const *)p) continue;
        if (a->type == NN_ARG_FLOAT && isnan(*(const float *)p)) continue;
        const int *pair = (const int *)p;
        if (a->required == NN_ARG_LATER && a->type == NN_ARG_PAIR && pair[0] == (int)a->def &&
            pair[1] == (int)a->def)
            continue;
        put(b, "%s%s: ", written++ ? ", " : "", a->key);
        switch (a->type) {
        case NN_ARG_INT: put(b, "%d", *(const int *)p); break;
        case NN_ARG_PAIR: put(b, "[%d, %d]", ((const int *)p)[0], ((const int *)p)[1]); break;
        case NN_ARG_FLOAT: put_float(b, *(const float *)p); break;
        case NN_ARG_BOOL: put(b, "%s", *(const int *)p ? "true" : "false"); break;
        case NN_ARG_ENUM: put(b, "%s", a->choices[*(const int *)p]); break;
        case NN_ARG_STRING: put_str(b, *(char *const *)p); break;
        }
    }
    return written;
}

static void put_layer(struct buf *b, const struct nn_layer_spec *L)
{
    const struct nn_layer_ops *ops = L->ops;
    put(b, "    - %s: {name: ", ops->name);
    put_str(b, L->name);
    int w = 1;
    if (L->n_inputs) {
        put(b, ", inputs: [");
        for (int i = 0; i < L->n_inputs; i++) {
            if (i) put(b, ", ");
            put_str(b, L->inputs[i]);
        }
        put(b, "]");
    }
    w = put_table(b, ops->args, ops->n_args, L->args, w, NULL);
    if (ops->flags & NN_LAYER_TAKES_ACTIVATION)
        put(b, ", activation: %s", nn_act_names[L->activation]);
    put(b, "}\n");
}

/* Keys added to `data` after run records existed are written only when in
 * use (CSV keys with format csv, standardize when true, augment when any of
 * it is on), so a spec without them resolves to the same text as before and
 * the checkpoints tied to its hash still load. */
static int data_key_written(const struct nn_data_spec *d, const char *key)
{
    static const char *const csv_only[] = {"format", "label_column", "header"};
    for (size_t i = 0; i < sizeof csv_only / sizeof csv_only[0]; i++)
        if (!strcmp(key, csv_only[i])) return d->format == NN_DATA_CSV;
    if (!strcmp(key, "standardize")) return d->standardize;
    return 1;
}

static void put_data(struct buf *b, const struct nn_spec *s)
{
    const struct nn_data_spec *d = &s->data;
    put(b, "data: {");
    int w = 0;
    for (int i = 0; i < nn_spec_n_data_keys; i++)
        if (data_key_written(d, nn_spec_data_keys[i].key))
            w = put_table(b, &nn_spec_data_keys[i], 1, d, w, NULL);
    if (d->format == NN_DATA_CSV) {
        const int *shape = d->image_shape[0] ? d->image_shape : s->input;
        put(b, ", image_shape: [%d, %d, %d]", shape[0], shape[1], shape[2]);
    }
    const struct nn_augment_spec *a = &d->augment;
    if (a->flip_horizontal || a->translate || a->erase > 0) {
        put(b, ", augment: {");
        put_table(b, nn_spec_augment_keys, nn_spec_n_augment_keys, a, 0, NULL);
        put(b, "}");
    }
    put(b, "}\n");
}

/* The same for the training keys added later (train.l2, label_smoothing,
 * the optimizers' weight_decay, clipnorm, global_clipnorm): written when not
 * 0, and always for adamw, whose weight_decay is not 0 by default; a
 * lr_schedule only when there is one.  base holds the float at offset. */
static int train_key_written(const void *base, const char *key, size_t offset, int optim_kind)
{
    static const char *const later[] = {"l2", "label_smoothing", "weight_decay", "clipnorm",
                                        "global_clipnorm"};
    if (optim_kind == NN_OPT_ADAMW && !strcmp(key, "weight_decay")) return 1;
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++)
        if (!strcmp(key, later[i])) return *(const float *)((const char *)base + offset) != 0;
    return 1;
}

char *nn_spec_to_yaml(const struct nn_spec *s)
{
    struct buf b = {nn_xmalloc(1024), 0, 1024};
    b.p[0] = '\0';
    put(&b, "# resolved spec: every default filled in, every override applied\n");
    put(&b, "name: ");
    put_str(&b, s->name);
    put(&b, "\nseed: %llu\n", (unsigned long long)s->seed);
    put_data(&b, s);
    put(&b, "model:\n  input: [%d, %d, %d]\n  layers:\n", s->input[0], s->input[1],
        s->input[2]);
    for (int i = 0; i < s->n_layers; i++) put_layer(&b, &s->layers[i]);
    const struct nn_train_spec *t = &s->train;
    put(&b, "train:\n  loss: %s\n  optimizer: {name: %s", nn_loss_names[t->loss],
        nn_optim_names[t->optim.kind]);
    const struct nn_spec_table *ot = &nn_spec_optim_tables[t->optim.kind];
    for (int i = 0, w = 1; i < ot->n; i++)
        if (train_key_written(&t->optim, ot->keys[i].key, ot->keys[i].offset, t->optim.kind))
            w = put_table(&b, &ot->keys[i], 1, &t->optim, w, NULL);
    put(&b, "}\n  metrics: [");
    int w = 0;
    for (int m = 0; m < NN_METRIC_COUNT; m++)
        if (m != NN_METRIC_LOSS && (t->metrics & (1u << m)))
            put(&b, "%s%s", w++ ? ", " : "", nn_metric_names[m]);
    put(&b, "]\n");
    for (int i = 0; i < nn_spec_n_train_keys; i++) {   /* one key per line */
        if (!train_key_written(t, nn_spec_train_keys[i].key, nn_spec_train_keys[i].offset, -1))
            continue;
        put(&b, "  ");
        put_table(&b, &nn_spec_train_keys[i], 1, t, 0, NULL);
        put(&b, "\n");
    }
    if (t->early_stopping.enabled) {
        put(&b, "  early_stopping: {");
        put_table(&b, nn_spec_early_keys, nn_spec_n_early_keys, &t->early_stopping, 0, NULL);
        put(&b, "}\n");
    }
    if (t->lr_schedule.kind != NN_LR_CONSTANT) {
        const struct nn_spec_table *lt = &nn_spec_lr_tables[t->lr_schedule.kind];
        put(&b, "  lr_schedule: {name: %s", nn_lr_names[t->lr_schedule.kind]);
        put_table(&b, lt->keys, lt->n, &t->lr_schedule, 1, NULL);
        put(&b, "}\n");
    }
    return b.p;
}

uint64_t nn_spec_hash(const struct nn_spec *s)
{
    char *text = nn_spec_to_yaml(s);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    free(text);
    return h;
}
