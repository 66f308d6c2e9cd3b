/* override.c - `--set KEY=VALUE`: changes to the parsed YAML tree, made
 * before validation, so an override is checked like the file itself.
 *
 * KEY is a dot-separated path: map keys by name, list items by index
 * (model.layers.3.dense.units).  A key missing from the file is added (the
 * validator then accepts it or reports it with a did-you-mean); a scalar that
 * the path goes through becomes {name: scalar}, so that
 * train.optimizer.learning_rate works on `optimizer: rmsprop`.  VALUE is YAML
 * (a number, a word, [28, 28, 1], ...).  Every node an override creates
 * carries its index in its mark, and errors about it name the override. */
#include <stdlib.h>
#include <string.h>

#include "nnrun/spec.h"
#include "nnrun/util.h"

static void mark_all(struct nn_ynode *n, struct nn_mark m)
{
    n->mark = m;
    for (int i = 0; i < n->n; i++) {
        if (n->key_marks) n->key_marks[i] = m;
        mark_all(n->items[i], m);
    }
}

static struct nn_ynode *new_map(struct nn_mark m)
{
    struct nn_ynode *n = nn_xcalloc(1, sizeof *n);
    n->kind = NN_Y_MAP;
    n->mark = m;
    return n;
}

static void map_add(struct nn_ynode *map, const char *key, struct nn_ynode *val, struct nn_mark m)
{
    size_t cap = (size_t)map->n + 1;
    map->items = nn_xrealloc(map->items, cap * sizeof *map->items);
    map->keys = nn_xrealloc(map->keys, cap * sizeof *map->keys);
    map->key_marks = nn_xrealloc(map->key_marks, cap * sizeof *map->key_marks);
    map->items[map->n] = val;
    map->keys[map->n] = nn_xstrdup(key);
    map->key_marks[map->n] = m;
    map->n++;
}

int nn_spec_override(struct nn_ynode *root, const char *text, int index, struct nn_diag *d)
{
    const struct nn_mark m = {0, 0, index};
    const char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        nn_diag_error(d, m, "expected KEY=VALUE, such as train.epochs=5");
        return -1;
    }
    /* the value, parsed as YAML with its own diagnostics relabelled */
    struct nn_diag vd;
    nn_diag_init(&vd, "value");
    struct nn_ynode *val = eq[1] ? nn_yaml_parse_string(eq + 1, strlen(eq + 1), &vd) : NULL;
    if (!val) {
        if (!eq[1]) {
            val = nn_xcalloc(1, sizeof *val);
            val->kind = NN_Y_SCALAR;
            val->str = nn_xstrdup("");
        } else {
            nn_diag_error(d, m, "the value is not valid YAML (%s)",
                          vd.n_errors ? vd.msgs[0] : "?");
            nn_diag_free(&vd);
            return -1;
        }
    }
    nn_diag_free(&vd);
    mark_all(val, m);

    char *path = nn_xmalloc((size_t)(eq - text) + 1);
    memcpy(path, text, (size_t)(eq - text));
    path[eq - text] = '\0';
    struct nn_ynode *node = root;
    int rc = 0;
    char *save = NULL;
    for (char *seg = strtok_r(path, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        const int last = (save == NULL || *save == '\0');
        if (node->kind == NN_Y_SEQ) {
            char *end;
            long k = strtol(seg, &end, 10);
            if (*end || k < 0 || k >= node->n) {
                nn_diag_error(d, m, "'%s' is not an index of a list of %d item%s (0 to %d)", seg,
                              node->n, node->n == 1 ? "" : "s", node->n - 1);
                rc = -1;
                break;
            }
            if (last) {
                nn_ynode_free(node->items[k]);
                node->items[k] = val;
                val = NULL;
                break;
            }
            node = node->items[k];
            continue;
        }
        if (node->kind == NN_Y_SCALAR) {
            /* `optimizer: rmsprop` seen as {name: rmsprop}; `- flatten` as {flatten: } */
            struct nn_ynode *old = nn_xcalloc(1, sizeof *old);
            *old = *node;
            memset(node, 0, sizeof *node);
            node->kind = NN_Y_MAP;
            node->mark = old->mark;
            map_add(node, "name", old, old->mark);
        }
        int i = 0;
        while (i < node->n && strcmp(node->keys[i], seg)) i++;
        if (i == node->n) map_add(node, seg, last ? NULL : new_map(m), m);
        if (last) {
            nn_ynode_free(node->items[i]);
            node->items[i] = val;
            node->key_marks[i] = m;
            val = NULL;
            break;
        }
        node = node->items[i];
    }
    free(path);
    nn_ynode_free(val);
    return rc;
}
