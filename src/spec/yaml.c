/* yaml.c - libyaml events -> struct nn_ynode tree, every value with its mark.
 *
 * Refused here: syntax errors (with libyaml's problem and position), duplicate
 * keys, anchors and aliases (they buy nothing in a spec and open the door to
 * alias bombs), non-scalar keys, more than NN_YAML_MAX_NODES nodes or deeper
 * nesting than NN_YAML_MAX_DEPTH, and more than one document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "nnrun/spec.h"
#include "nnrun/util.h"

struct builder {
    yaml_parser_t parser;
    struct nn_diag *d;
    int n_nodes;
};

static struct nn_mark mark_of(yaml_mark_t m)
{
    struct nn_mark k = {(int)m.line + 1, (int)m.column + 1, 0};
    return k;
}

void nn_ynode_free(struct nn_ynode *n)
{
    if (!n) return;
    for (int i = 0; i < n->n; i++) {
        nn_ynode_free(n->items[i]);
        if (n->keys) free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->key_marks);
    free(n->str);
    free(n);
}

struct nn_ynode *nn_ymap_get(const struct nn_ynode *map, const char *key)
{
    if (!map || map->kind != NN_Y_MAP) return NULL;
    for (int i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0) return map->items[i];
    return NULL;
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
    if (yaml_parser_parse(&b->parser, ev)) return 0;
    yaml_parser_t *p = &b->parser;
    struct nn_mark m = mark_of(p->problem_mark);
    if (p->context)
        nn_diag_error(b->d, m, "invalid YAML: %s (%s at line %d, column %d)",
                      p->problem ? p->problem : "syntax error", p->context,
                      (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    else
        nn_diag_error(b->d, m, "invalid YAML: %s", p->problem ? p->problem : "syntax error");
    return -1;
}

static struct nn_ynode *new_node(struct builder *b, enum nn_ynode_kind kind, yaml_mark_t m)
{
    if (++b->n_nodes > NN_YAML_MAX_NODES) {
        nn_diag_error(b->d, mark_of(m), "spec has more than %d YAML nodes; refusing it",
                      NN_YAML_MAX_NODES);
        return NULL;
    }
    struct nn_ynode *n = nn_xcalloc(1, sizeof *n);
    n->kind = kind;
    n->mark = mark_of(m);
    return n;
}

static void push(struct nn_ynode *n, struct nn_ynode *item, char *key, struct nn_mark km)
{
    if ((n->n & (n->n - 1)) == 0) {   /* grow at powers of two */
        size_t cap = n->n ? 2 * (size_t)n->n : 1;
        n->items = nn_xrealloc(n->items, cap * sizeof *n->items);
        if (n->kind == NN_Y_MAP) {
            n->keys = nn_xrealloc(n->keys, cap * sizeof *n->keys);
            n->key_marks = nn_xrealloc(n->key_marks, cap * sizeof *n->key_marks);
        }
    }
    n->items[n->n] = item;
    if (n->kind == NN_Y_MAP) {
        n->keys[n->n] = key;
        n->key_marks[n->n] = km;
    }
    n->n++;
}

/* Builds the node that starts with event ev (already consumed). */
static struct nn_ynode *build(struct builder *b, yaml_event_t *ev, int depth)
{
    if (depth > NN_YAML_MAX_DEPTH) {
        nn_diag_error(b->d, mark_of(ev->start_mark), "YAML nested deeper than %d levels",
                      NN_YAML_MAX_DEPTH);
        return NULL;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        nn_diag_error(b->d, mark_of(ev->start_mark),
                      "YAML alias '*%s' found; anchors and aliases are not accepted in a spec "
                      "(write the value out)", (const char *)ev->data.alias.anchor);
        return NULL;
    case YAML_SCALAR_EVENT: {
        if (ev->data.scalar.anchor) goto anchor;
        struct nn_ynode *n = new_node(b, NN_Y_SCALAR, ev->start_mark);
        if (!n) return NULL;
        n->str = nn_xstrdup((const char *)ev->data.scalar.value);
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        return n;
    }
    case YAML_SEQUENCE_START_EVENT: {
        if (ev->data.sequence_start.anchor) goto anchor;
        struct nn_ynode *n = new_node(b, NN_Y_SEQ, ev->start_mark);
        if (!n) return NULL;
        for (;;) {
            yaml_event_t e;
            if (next_event(b, &e)) goto fail_seq;
            if (e.type == YAML_SEQUENCE_END_EVENT) {
                yaml_event_delete(&e);
                return n;
            }
            struct nn_ynode *item = build(b, &e, depth + 1);
            yaml_event_delete(&e);
            if (!item) goto fail_seq;
            push(n, item, NULL, item->mark);
        }
    fail_seq:
        nn_ynode_free(n);
        return NULL;
    }
    case YAML_MAPPING_START_EVENT: {
        if (ev->data.mapping_start.anchor) goto anchor;
        struct nn_ynode *n = new_node(b, NN_Y_MAP, ev->start_mark);
        if (!n) return NULL;
        for (;;) {
            yaml_event_t e;
            if (next_event(b, &e)) goto fail_map;
            if (e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                return n;
            }
            if (e.type != YAML_SCALAR_EVENT) {
                nn_diag_error(b->d, mark_of(e.start_mark),
                              "a mapping key must be a plain name, found a %s",
                              e.type == YAML_ALIAS_EVENT ? "YAML alias"
                              : e.type == YAML_SEQUENCE_START_EVENT ? "list" : "mapping");
                yaml_event_delete(&e);
                goto fail_map;
            }
            struct nn_mark km = mark_of(e.start_mark);
            char *key = nn_xstrdup((const char *)e.data.scalar.value);
            yaml_event_delete(&e);
            if (nn_ymap_get(n, key)) {
                struct nn_mark first = {0, 0, 0};
                for (int i = 0; i < n->n; i++)
                    if (!strcmp(n->keys[i], key)) first = n->key_marks[i];
                nn_diag_error(b->d, km, "duplicate key '%s' (first given at line %d, column %d)",
                              key, first.line, first.col);
                free(key);
                goto fail_map;
            }
            if (next_event(b, &e)) {
                free(key);
                goto fail_map;
            }
            struct nn_ynode *val = build(b, &e, depth + 1);
            yaml_event_delete(&e);
            if (!val) {
                free(key);
                goto fail_map;
            }
            push(n, val, key, km);
        }
    fail_map:
        nn_ynode_free(n);
        return NULL;
    }
    default:
        nn_diag_error(b->d, mark_of(ev->start_mark), "unexpected YAML structure");
        return NULL;
    }
anchor:
    nn_diag_error(b->d, mark_of(ev->start_mark),
                  "YAML anchor found; anchors and aliases are not accepted in a spec "
                  "(write the value out)");
    return NULL;
}

static struct nn_ynode *parse(struct builder *b)
{
    yaml_event_t ev;
    struct nn_ynode *root = NULL;
    /* stream start, document start */
    if (next_event(b, &ev)) return NULL;
    yaml_event_delete(&ev);
    if (next_event(b, &ev)) return NULL;
    if (ev.type == YAML_STREAM_END_EVENT) {
        nn_diag_error(b->d, mark_of(ev.start_mark), "the spec is empty");
        yaml_event_delete(&ev);
        return NULL;
    }
    yaml_event_delete(&ev);
    if (next_event(b, &ev)) return NULL;
    root = build(b, &ev, 0);
    yaml_event_delete(&ev);
    if (!root) return NULL;
    if (next_event(b, &ev)) goto fail;   /* document end */
    yaml_event_delete(&ev);
    if (next_event(b, &ev)) goto fail;
    if (ev.type != YAML_STREAM_END_EVENT) {
        nn_diag_error(b->d, mark_of(ev.start_mark),
                      "a spec holds one YAML document; found a second one");
        yaml_event_delete(&ev);
        goto fail;
    }
    yaml_event_delete(&ev);
    return root;
fail:
    nn_ynode_free(root);
    return NULL;
}

struct nn_ynode *nn_yaml_parse_string(const char *text, size_t len, struct nn_diag *d)
{
    struct builder b = {.d = d};
    if (!yaml_parser_initialize(&b.parser)) {
        nn_diag_error(d, (struct nn_mark){0, 0, 0}, "cannot initialize the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
    struct nn_ynode *root = parse(&b);
    yaml_parser_delete(&b.parser);
    return root;
}

struct nn_ynode *nn_yaml_parse_file(const char *path, struct nn_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        nn_diag_error(d, (struct nn_mark){0, 0, 0}, "cannot open the spec: %s", strerror(errno));
        return NULL;
    }
    /* specs are small; read it whole (bounded) so errors can quote positions */
    size_t cap = 1 << 16, len = 0;
    char *buf = nn_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            if (cap >= (size_t)16 << 20) {
                nn_diag_error(d, (struct nn_mark){0, 0, 0}, "spec larger than 16 MiB; refusing it");
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            buf = nn_xrealloc(buf, cap);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        nn_diag_error(d, (struct nn_mark){0, 0, 0}, "cannot read the spec");
        free(buf);
        return NULL;
    }
    struct nn_ynode *root = nn_yaml_parse_string(buf, len, d);
    free(buf);
    return root;
}
