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
 * Any difference aborts with both texts on stderr: a crash to libFuzzer. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
