/* override.c - `--set KEY=VALUE`: changes to the parsed YAML tree, made
 * before validation, so an override is checked like the file itself.
 *
 * KEY is a dot-separated path: map keys by name, list items by index
 * (model.layers.3.dense.units), in the grammar of nn_spec_path_parse, which
 * sweep keys share (include/nnrun/spec.h).  A key missing from the file is added (the
 * validator then accepts it or reports it with a did-you-mean); a scalar that
 * the path goes through becomes {name: scalar}, so that
 * train.optimizer.learning_rate works on `optimizer: rmsprop`.  VALUE is YAML
 * (a number, a word, [28, 28, 1], ...).  Every node an override creates
 * carries its index in its mark, and errors about it name the override. */
#include <limits.h>
#include <stdio.h>
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

/* ---- the key path ------------------------------------------------------------ */

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

int nn_spec_path_parse(const char *text, size_t len, struct nn_path *p, char *why, size_t n_why)
{
    p->n = 0;
    if (!len) {
        snprintf(why, n_why, "the key is empty");
        return -1;
    }
    size_t i = 0;
    for (;;) {
        const size_t s = i;
        while (i < len && text[i] != '.') i++;
        const size_t l = i - s;
        const char *seg = text + s;
        if (!l) {
            snprintf(why, n_why, "%s", len == 1 ? "'.' alone is not a key"
                     : s == 0 ? "the key starts with '.'"
                     : i == len ? "the key ends with '.'"
                     : "the key has an empty segment between two dots");
            return -1;
        }
        if (p->n == NN_PATH_MAX_SEGMENTS) {
            snprintf(why, n_why, "the key has more than %d segments", NN_PATH_MAX_SEGMENTS);
            return -1;
        }
        int index = -1;
        if (is_digit(seg[0]) || seg[0] == '+' || seg[0] == '-') {
            /* a list index: digits only */
            size_t k = seg[0] == '+' || seg[0] == '-';
            while (k < l && is_digit(seg[k])) k++;
            if (seg[0] == '+' || seg[0] == '-') {
                snprintf(why, n_why, "'%.*s' is not a list index: an index has no sign (items "
                         "count from 0)", (int)(l > 40 ? 40 : l), seg);
                return -1;
            }
            if (k < l) {
                snprintf(why, n_why, "'%.*s' is neither a key (a letter or '_' first) nor a list "
                         "index (digits only)", (int)(l > 40 ? 40 : l), seg);
                return -1;
            }
            if (l > 1 && seg[0] == '0') {
                snprintf(why, n_why, "'%.*s' is not a list index: an index has no leading zero",
                         (int)(l > 40 ? 40 : l), seg);
                return -1;
            }
            long long v = 0;
            for (k = 0; k < l && v <= INT_MAX; k++) v = 10 * v + (seg[k] - '0');
            index = v > INT_MAX ? INT_MAX : (int)v;
        } else {
            size_t k = 0;
            if (is_alpha(seg[0]))
                for (k = 1; k < l && (is_alpha(seg[k]) || is_digit(seg[k]) || seg[k] == '-'); k++)
                    ;
            if (k < l) {
                const unsigned char c = (unsigned char)seg[k];
                char shown[16];
                if (c == ' ') snprintf(shown, sizeof shown, "a space");
                else if (c == '\t') snprintf(shown, sizeof shown, "a tab");
                else if (c < 0x20 || c >= 0x7f) snprintf(shown, sizeof shown, "byte 0x%02X", c);
                else snprintf(shown, sizeof shown, "'%c'", c);
                snprintf(why, n_why, "'%.*s' has %s; a key segment is letters, digits, '_' and "
                         "'-' (a letter or '_' first), a list index is digits",
                         (int)(l > 40 ? 40 : l), seg, shown);
                return -1;
            }
        }
        p->start[p->n] = (int)s;
        p->len[p->n] = (int)l;
        p->index[p->n] = index;
        p->n++;
        if (i == len) return 0;
        i++;   /* the dot */
    }
}

/* ---- applying an override --------------------------------------------------------- */

/* Re-records the errors of the value's own parse (file name "value") as
 * errors of the override, with the position inside the value. */
static void value_errors(struct nn_diag *d, struct nn_mark m, const struct nn_diag *vd,
                         int multiline)
{
    for (int i = 0; i < vd->n_errors; i++) {
        const char *msg = vd->msgs[i];
        int line, col, used = 0;
        char where[64] = "";
        if (sscanf(msg, "value:%d:%d: error: %n", &line, &col, &used) == 2 && used) {
            if (multiline) snprintf(where, sizeof where, " (line %d, column %d)", line, col);
            else if (line > 1) snprintf(where, sizeof where, " (at its end)");
            else snprintf(where, sizeof where, " (column %d)", col);
            msg += used;
        } else {
            const char *body = strstr(msg, ": error: ");
            if (body) msg = body + 9;
        }
        if (!strcmp(msg, "the spec is empty"))
            nn_diag_error(d, m, "the value is empty (a comment only); write '' for empty text");
        else if (!strncmp(msg, "a spec holds one YAML document", 30))
            nn_diag_error(d, m, "the value%s holds a second YAML document; a value is one", where);
        else if (!strncmp(msg, "invalid YAML: ", 14))
            nn_diag_error(d, m, "the value is not valid YAML%s: %s", where, msg + 14);
        else
            nn_diag_error(d, m, "the value%s: %s", where, msg);
    }
}

int nn_spec_override(struct nn_ynode *root, const char *text, int index, struct nn_diag *d)
{
    const struct nn_mark m = {0, 0, index};
    const char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        nn_diag_error(d, m, "expected KEY=VALUE, such as train.epochs=5");
        return -1;
    }
    struct nn_path path;
    char why[256];
    if (nn_spec_path_parse(text, (size_t)(eq - text), &path, why, sizeof why)) {
        nn_diag_error(d, m, "'%.*s' is not a key path such as train.batch_size or "
                      "model.layers.2.dense.units: %s", (int)(eq - text > 200 ? 200 : eq - text),
                      text, why);
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
            if (vd.n_errors) value_errors(d, m, &vd, strpbrk(eq + 1, "\r\n") != NULL);
            else nn_diag_error(d, m, "the value is not valid YAML");
            nn_diag_free(&vd);
            return -1;
        }
    }
    nn_diag_free(&vd);
    mark_all(val, m);

    struct nn_ynode *node = root;
    int rc = 0;
    for (int s = 0; s < path.n; s++) {
        char *seg = nn_xmalloc((size_t)path.len[s] + 1);
        memcpy(seg, text + path.start[s], (size_t)path.len[s]);
        seg[path.len[s]] = '\0';
        const int last = s == path.n - 1;
        if (node->kind == NN_Y_SEQ) {
            const int k = path.index[s];
            if (k < 0 || k >= node->n) {
                nn_diag_error(d, m, "'%s' is not an index of a list of %d item%s (0 to %d)", seg,
                              node->n, node->n == 1 ? "" : "s", node->n - 1);
                rc = -1;
                free(seg);
                break;
            }
            free(seg);
            if (last) {
                nn_ynode_free(node->items[k]);
                node->items[k] = val;
                val = NULL;
                break;
            }
            node = node->items[k];
            node->mark.override = index;   /* a layer's own errors are the override's too */
            continue;
        }
        if (node->kind == NN_Y_SCALAR) {
            /* `optimizer: rmsprop` seen as {name: rmsprop}; `- flatten` as {flatten: } */
            struct nn_ynode *old = nn_xcalloc(1, sizeof *old);
            *old = *node;
            memset(node, 0, sizeof *node);
            node->kind = NN_Y_MAP;
            node->mark = old->mark;
            node->mark.override = index;   /* the mapping is the override's doing */
            map_add(node, "name", old, old->mark);
        }
        int i = 0;
        while (i < node->n && strcmp(node->keys[i], seg)) i++;
        if (i == node->n) map_add(node, seg, last ? NULL : new_map(m), m);
        free(seg);
        if (last) {
            nn_ynode_free(node->items[i]);
            node->items[i] = val;
            node->key_marks[i] = m;
            val = NULL;
            break;
        }
        node = node->items[i];
    }
    nn_ynode_free(val);
    return rc;
}
