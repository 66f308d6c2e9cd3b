/* yaml.c - libyaml events -> struct nn_ynode tree, every value with its mark.
 *
 * Refused here, each at its own line and column (counted as libyaml counts:
 * in characters, a line break being LF, CR LF or a lone CR):
 *  - text that is not UTF-8, control characters (NUL included), a byte
 *    order mark anywhere but at the start, and the line breaks that YAML 1.1
 *    reads and editors do not (U+0085, U+2028, U+2029): checked on the raw
 *    text before libyaml sees it;
 *  - syntax errors (with libyaml's problem and position), more than one
 *    document, more than NN_YAML_MAX_NODES nodes or deeper nesting than
 *    NN_YAML_MAX_DEPTH;
 *  - anchors and aliases, on any node: values, keys, list items, mappings,
 *    the document's root (they buy nothing in a spec and open the door to
 *    alias bombs);
 *  - tags, except the core schema's where they say what the value is anyway:
 *    !!map on a mapping, !!seq on a list, !!int on a decimal integer, !!float
 *    on a number, !!bool on true/false, !!null on ~/null/nothing, and !!str,
 *    which is honoured: `!!str 5` is the text "5", never a number.  A key
 *    takes no tag but !!str;
 *  - duplicate keys, non-scalar keys, a NUL character written as an escape.
 * The refusals that leave the document readable (anchors, aliases, tags,
 * duplicate and non-scalar keys) are all reported, up to MAX_REFUSALS.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "nnrun/spec.h"
#include "nnrun/util.h"

#define MAX_REFUSALS 20         /* messages listed; the rest are counted */
#define CORE_PREFIX "tag:yaml.org,2002:"

struct builder {
    yaml_parser_t parser;
    struct nn_diag *d;
    const unsigned char *text;
    size_t len;
    int n_nodes;
    int n_refused;              /* refusals after which parsing went on */
};

static struct nn_mark mark_of(yaml_mark_t m)
{
    struct nn_mark k = {(int)m.line + 1, (int)m.column + 1, 0};
    return k;
}

/* Records a refusal that lets the parse go on (the tree is dropped at the end). */
static void refuse(struct builder *b, struct nn_mark m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct builder *b, struct nn_mark m, const char *fmt, ...)
{
    if (++b->n_refused > MAX_REFUSALS) return;
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nn_diag_error(b->d, m, "%s", msg);
}

/* ---- the raw text ------------------------------------------------------------ */

/* Length of the UTF-8 character at s[0..n), or 0 when it is not valid UTF-8
 * (then *why says how); its code point in *cp. */
static size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp, const char **why)
{
    const unsigned c = s[0];
    if (c < 0x80) return *cp = c, 1;
    size_t w;
    unsigned lo = 0x80, hi = 0xBF;   /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) w = 2, *cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) {
        w = 3, *cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;        /* overlong */
        if (c == 0xED) hi = 0x9F;        /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        w = 4, *cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;        /* overlong */
        if (c == 0xF4) hi = 0x8F;        /* beyond U+10FFFF */
    } else {
        *why = c >= 0x80 && c <= 0xBF ? "is a continuation byte with no character to continue"
                                      : "can never appear in UTF-8";
        return 0;
    }
    for (size_t k = 1; k < w; k++) {
        if (k >= n) {
            *why = "starts a character that the file cuts short";
            return 0;
        }
        const unsigned x = s[k];
        if (x < (k == 1 ? lo : 0x80) || x > (k == 1 ? hi : 0xBF)) {
            *why = x >= 0x80 && x <= 0xBF ? "starts an overlong or out-of-range sequence"
                                          : "starts a character that the next byte does not continue";
            return 0;
        }
        *cp = (*cp << 6) | (x & 0x3F);
    }
    return w;
}

/* Line and column (from 1) of byte offset off, counted as libyaml does. */
static struct nn_mark mark_at(const unsigned char *t, size_t len, size_t off)
{
    struct nn_mark m = {1, 1, 0};
    size_t i = len >= 3 && t[0] == 0xEF && t[1] == 0xBB && t[2] == 0xBF ? 3 : 0;
    while (i < off && i < len) {
        if (t[i] == '\n' || t[i] == '\r') {
            i += t[i] == '\r' && i + 1 < len && t[i + 1] == '\n' ? 2 : 1;
            m.line++, m.col = 1;
            continue;
        }
        unsigned cp;
        const char *why;
        size_t w = utf8_char(t + i, len - i, &cp, &why);
        if (!w) {   /* as check_text counts a bad sequence: one column */
            w = 1;
            while (w < 4 && i + w < len && t[i + w] >= 0x80 && t[i + w] <= 0xBF) w++;
        }
        i += w;
        m.col++;
    }
    return m;
}

/* Refuses text that libyaml would misread or refuse at 1:1: not UTF-8,
 * control characters, a byte order mark past the start, the YAML 1.1 line
 * breaks.  Returns the number of errors. */
static int check_text(struct builder *b)
{
    const unsigned char *t = b->text;
    const size_t len = b->len;
    if (len >= 2 && ((t[0] == 0xFE && t[1] == 0xFF) || (t[0] == 0xFF && t[1] == 0xFE))) {
        nn_diag_error(b->d, (struct nn_mark){1, 1, 0},
                      "the spec starts with a UTF-16 or UTF-32 byte order mark; nnrun reads "
                      "UTF-8 (convert it, e.g. iconv -f UTF-16 -t UTF-8)");
        return 1;
    }
    int n_bad = 0;
    struct nn_mark m = {1, 1, 0};
    size_t i = len >= 3 && t[0] == 0xEF && t[1] == 0xBB && t[2] == 0xBF ? 3 : 0;
    while (i < len) {
        if (t[i] == '\n' || t[i] == '\r') {
            i += t[i] == '\r' && i + 1 < len && t[i + 1] == '\n' ? 2 : 1;
            m.line++, m.col = 1;
            continue;
        }
        unsigned cp = 0;
        const char *why = NULL;
        char msg[300] = "";
        size_t w = utf8_char(t + i, len - i, &cp, &why);
        if (!w)
            snprintf(msg, sizeof msg, "invalid UTF-8: byte 0x%02X %s; a spec must be UTF-8 "
                     "text (was it saved in another encoding, such as Latin-1?)", t[i], why);
        else if (cp == 0)
            snprintf(msg, sizeof msg, "a NUL byte is not allowed in a spec (is the file binary, "
                     "or UTF-16?)");
        else if ((cp < 0x20 && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F && cp != 0x85))
            snprintf(msg, sizeof msg, "control character U+%04X is not allowed in a spec, not "
                     "even written as an escape (\\x%02X): no value of a spec can hold one; "
                     "delete it", cp, cp);
        else if (cp == 0x85 || cp == 0x2028 || cp == 0x2029)
            snprintf(msg, sizeof msg, "U+%04X (%s) is not allowed in a spec: YAML 1.1 reads it "
                     "as a line break and most editors do not (use a plain line break; no "
                     "value of a spec can hold it, not even written as the escape \\%c)", cp,
                     cp == 0x85 ? "next line" : cp == 0x2028 ? "line separator"
                                                             : "paragraph separator",
                     cp == 0x85 ? 'N' : cp == 0x2028 ? 'L' : 'P');
        else if (cp == 0xFEFF)
            snprintf(msg, sizeof msg, "a byte order mark (U+FEFF) may only start the file, not "
                     "stand inside it");
        else if (cp == 0xFFFE || cp == 0xFFFF)
            snprintf(msg, sizeof msg, "U+%04X is not a character; it is not allowed in a spec", cp);
        if (msg[0] && ++n_bad <= 5) nn_diag_error(b->d, m, "%s", msg);
        if (!w) {   /* one error for a bad byte and the continuation bytes after it */
            w = 1;
            while (w < 4 && i + w < len && t[i + w] >= 0x80 && t[i + w] <= 0xBF) w++;
        }
        i += w;
        m.col++;
    }
    if (n_bad > 5)
        nn_diag_error(b->d, (struct nn_mark){0, 0, 0},
                      "and %d more encoding errors like these, not listed", n_bad - 5);
    return n_bad;
}

/* ---- the tree ---------------------------------------------------------------- */

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
    if (p->error == YAML_MEMORY_ERROR) {
        nn_diag_error(b->d, (struct nn_mark){0, 0, 0}, "out of memory reading the YAML");
        return -1;
    }
    if (p->error == YAML_READER_ERROR) {   /* check_text catches these first */
        nn_diag_error(b->d, mark_at(b->text, b->len, p->problem_offset), "invalid YAML: %s",
                      p->problem ? p->problem : "unreadable text");
        return -1;
    }
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

/* ---- anchors and tags ---------------------------------------------------------- */

static void check_anchor(struct builder *b, const yaml_event_t *ev, const char *where)
{
    const yaml_char_t *a = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
                         : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
                         : ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
                                                                : NULL;
    if (a)
        refuse(b, mark_of(ev->start_mark), "YAML anchor found%s: &%.60s; anchors and aliases "
               "are not accepted in a spec (write the value out)", where, (const char *)a);
}

enum tag { TAG_NONE, TAG_STR, TAG_INT, TAG_FLOAT, TAG_BOOL, TAG_NULL, TAG_MAP, TAG_SEQ, TAG_OTHER };

static enum tag tag_of(const char *t)
{
    static const char *const core[] = {"str", "int", "float", "bool", "null", "map", "seq"};
    if (!t) return TAG_NONE;
    if (strncmp(t, CORE_PREFIX, strlen(CORE_PREFIX))) return TAG_OTHER;
    for (int i = 0; i < 7; i++)
        if (!strcmp(t + strlen(CORE_PREFIX), core[i])) return (enum tag)(TAG_STR + i);
    return TAG_OTHER;
}

/* The tag as it is usually written: !!name for the core prefix. */
static const char *tag_text(char *buf, size_t n, const char *t)
{
    if (!strncmp(t, CORE_PREFIX, strlen(CORE_PREFIX)))
        snprintf(buf, n, "!!%.80s", t + strlen(CORE_PREFIX));
    else if (t[0] == '!')
        snprintf(buf, n, "%.80s", t);
    else
        snprintf(buf, n, "!<%.80s>", t);
    return buf;
}

static const char *event_tag(const yaml_event_t *ev)
{
    const yaml_char_t *t = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.tag
                         : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.tag
                         : ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.tag
                                                                : NULL;
    return (const char *)t;
}

static int one_of(const char *s, const char *const *words, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, words[i])) return 1;
    return 0;
}

static const char *skip_sign(const char *s) { return *s == '+' || *s == '-' ? s + 1 : s; }

static int digits(const char **s)
{
    const char *p = *s;
    while (**s >= '0' && **s <= '9') (*s)++;
    return (int)(*s - p);
}

/* The core schema's forms, as nnrun reads them: decimal integers only. */
static int is_int_text(const char *s)
{
    s = skip_sign(s);
    return digits(&s) > 0 && !*s;
}

static int is_float_text(const char *s)
{
    static const char *const special[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
    const char *p = skip_sign(s);
    if (one_of(p, special, 3) || (p == s && one_of(p, special + 3, 3))) return 1;
    int n = digits(&p);
    if (*p == '.') {
        p++;
        n += digits(&p);
    }
    if (!n) return 0;
    if (*p == 'e' || *p == 'E') {
        p = skip_sign(p + 1);
        if (!digits(&p)) return 0;
    }
    return !*p;
}

static const char *const core_msg =
    "only the core schema's !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are, "
    "where they fit the value";

static const char *kind_name(enum nn_ynode_kind k)
{
    return k == NN_Y_MAP ? "a mapping" : k == NN_Y_SEQ ? "a list" : "a single value";
}

/* Checks node n's tag (from ev) and honours it: !!str makes a scalar text,
 * !!int, !!float, !!bool and !!null make it plain; the rest is refused. */
static void check_tag(struct builder *b, const yaml_event_t *ev, struct nn_ynode *n)
{
    const char *t = event_tag(ev);
    const enum tag k = tag_of(t);
    if (k == TAG_NONE) return;
    char tb[128];
    const struct nn_mark m = mark_of(ev->start_mark);
    if (k == TAG_OTHER) {
        refuse(b, m, "YAML tag '%s' is not accepted in a spec; %s", tag_text(tb, sizeof tb, t),
               core_msg);
        return;
    }
    const enum nn_ynode_kind want = k == TAG_MAP ? NN_Y_MAP : k == TAG_SEQ ? NN_Y_SEQ : NN_Y_SCALAR;
    if (n->kind != want) {
        refuse(b, m, "YAML tag '%s' on %s; it fits only %s", tag_text(tb, sizeof tb, t),
               kind_name(n->kind), kind_name(want));
        return;
    }
    static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    const char *s = n->str;
    const char *fits = NULL;
    switch (k) {
    case TAG_STR: if (!n->quoted) n->quoted = 2; return;
    case TAG_INT: if (!is_int_text(s)) fits = "an integer in decimal, such as 42"; break;
    case TAG_FLOAT: if (!is_float_text(s)) fits = "a number, such as 0.5 or 1e-3"; break;
    case TAG_BOOL: if (!one_of(s, bools, 6)) fits = "true or false"; break;
    case TAG_NULL:
        if (!one_of(s, nulls, 5)) fits = "~, null or nothing";
        else n->str[0] = '\0';
        break;
    default: return;   /* !!map, !!seq on their own kind */
    }
    if (fits) {
        refuse(b, m, "the value %s%.80s%s is tagged '%s' but is not %s", n->quoted ? "\"" : "'",
               s, n->quoted ? "\"" : "'", tag_text(tb, sizeof tb, t), fits);
        return;
    }
    n->quoted = 0;   /* `!!int "5"` is the integer 5, as YAML says */
}

/* ---- the builder ----------------------------------------------------------------- */

/* A scalar's text.  Refused, not cut or passed on: a NUL written as an
 * escape ("\0"), and the characters check_text refuses in the file written
 * as escapes ("\L", "\x85", "\uFEFF"), which a resolved spec could not hold
 * as they are; C0 controls are written back as escapes. */
static char *scalar_text(struct builder *b, const yaml_event_t *ev)
{
    const unsigned char *v = ev->data.scalar.value;
    const size_t len = ev->data.scalar.length;
    if (strlen((const char *)v) != len)
        refuse(b, mark_of(ev->start_mark), "the text holds a NUL character (\\0); nnrun cannot "
               "keep it");
    for (size_t i = 0; i < len;) {
        unsigned cp;
        const char *why;
        size_t w = utf8_char(v + i, len - i, &cp, &why);
        if (!w) break;   /* libyaml gives UTF-8 */
        if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF ||
            cp == 0xFFFE || cp == 0xFFFF) {
            refuse(b, mark_of(ev->start_mark), "the text holds U+%04X, a control character, "
                   "line break or byte order mark that a spec may not hold, even as an escape",
                   cp);
            break;
        }
        i += w;
    }
    return nn_xstrdup((const char *)v);
}

/* Builds the node that starts with event ev (already consumed).  NULL only
 * on a fatal error; a refusal (b->n_refused) still gives a node. */
static struct nn_ynode *build(struct builder *b, yaml_event_t *ev, int depth)
{
    if (depth > NN_YAML_MAX_DEPTH) {
        nn_diag_error(b->d, mark_of(ev->start_mark), "YAML nested deeper than %d levels",
                      NN_YAML_MAX_DEPTH);
        return NULL;
    }
    check_anchor(b, ev, "");
    switch (ev->type) {
    case YAML_ALIAS_EVENT: {
        refuse(b, mark_of(ev->start_mark), "YAML alias '*%.60s' found; anchors and aliases are "
               "not accepted in a spec (write the value out)",
               (const char *)ev->data.alias.anchor);
        struct nn_ynode *n = new_node(b, NN_Y_SCALAR, ev->start_mark);
        if (n) n->str = nn_xstrdup("");
        return n;
    }
    case YAML_SCALAR_EVENT: {
        struct nn_ynode *n = new_node(b, NN_Y_SCALAR, ev->start_mark);
        if (!n) return NULL;
        n->str = scalar_text(b, ev);
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        check_tag(b, ev, n);
        return n;
    }
    case YAML_SEQUENCE_START_EVENT: {
        struct nn_ynode *n = new_node(b, NN_Y_SEQ, ev->start_mark);
        if (!n) return NULL;
        check_tag(b, ev, n);
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
        struct nn_ynode *n = new_node(b, NN_Y_MAP, ev->start_mark);
        if (!n) return NULL;
        check_tag(b, ev, n);
        for (;;) {
            yaml_event_t e;
            if (next_event(b, &e)) goto fail_map;
            if (e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                return n;
            }
            const struct nn_mark km = mark_of(e.start_mark);
            char *key = NULL;
            if (e.type == YAML_SCALAR_EVENT) {
                check_anchor(b, &e, " on a mapping key");
                const char *t = event_tag(&e);
                char tb[128];
                if (tag_of(t) != TAG_NONE && tag_of(t) != TAG_STR)
                    refuse(b, km, "YAML tag '%s' on a mapping key; a key is a name and takes no "
                           "tag but !!str", tag_text(tb, sizeof tb, t));
                key = scalar_text(b, &e);
            } else if (e.type == YAML_ALIAS_EVENT) {
                refuse(b, km, "YAML alias '*%.60s' found as a mapping key; anchors and aliases "
                       "are not accepted in a spec (write the key out)",
                       (const char *)e.data.alias.anchor);
            } else {
                refuse(b, km, "a mapping key must be a plain name, found a %s",
                       e.type == YAML_SEQUENCE_START_EVENT ? "list" : "mapping");
                struct nn_ynode *skip = build(b, &e, depth + 1);   /* read past it */
                if (!skip) {
                    yaml_event_delete(&e);
                    goto fail_map;
                }
                nn_ynode_free(skip);
            }
            yaml_event_delete(&e);
            if (key && nn_ymap_get(n, key)) {
                struct nn_mark first = {0, 0, 0};
                for (int i = 0; i < n->n; i++)
                    if (!strcmp(n->keys[i], key)) first = n->key_marks[i];
                refuse(b, km, "duplicate key '%.200s' (first given at line %d, column %d)", key,
                       first.line, first.col);
                free(key);
                key = NULL;
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
            if (key) push(n, val, key, km);
            else nn_ynode_free(val);
        }
    fail_map:
        nn_ynode_free(n);
        return NULL;
    }
    default:
        nn_diag_error(b->d, mark_of(ev->start_mark), "unexpected YAML structure");
        return NULL;
    }
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
    if (b->n_refused) goto fail;
    return root;
fail:
    if (b->n_refused > MAX_REFUSALS)
        nn_diag_error(b->d, (struct nn_mark){0, 0, 0}, "and %d more YAML errors, not listed",
                      b->n_refused - MAX_REFUSALS);
    nn_ynode_free(root);
    return NULL;
}

struct nn_ynode *nn_yaml_parse_string(const char *text, size_t len, struct nn_diag *d)
{
    struct builder b = {.d = d, .text = (const unsigned char *)text, .len = len};
    if (check_text(&b)) return NULL;
    if (!yaml_parser_initialize(&b.parser)) {
        nn_diag_error(d, (struct nn_mark){0, 0, 0}, "cannot initialize the YAML parser");
        return NULL;
    }
    /* libyaml finds UTF-8 (check_text refused the UTF-16 and UTF-32 marks) and
     * skips a UTF-8 byte order mark at the start, as check_text does */
    yaml_parser_set_input_string(&b.parser, b.text, len);
    struct nn_ynode *root = parse(&b);
    yaml_parser_delete(&b.parser);
    return root;
}

struct nn_ynode *nn_yaml_parse_file(const char *path, struct nn_diag *d)
{
    /* a regular file of at most NN_SPEC_FILE_MAX, read whole so errors can
     * quote positions; a FIFO, device or directory is refused at once (an
     * O_NONBLOCK open and fstat: a FIFO without a writer cannot hang it) */
    char err[256];
    size_t len;
    char *buf = (char *)nn_read_file_max(path, NN_SPEC_FILE_MAX, &len, err, sizeof err);
    if (!buf) {
        if (!strncmp(err, "cannot open: ", 13))
            nn_diag_error(d, (struct nn_mark){0, 0, 0}, "cannot open the spec: %s", err + 13);
        else
            nn_diag_error(d, (struct nn_mark){0, 0, 0}, "cannot read the spec: %s", err);
        return NULL;
    }
    struct nn_ynode *root = nn_yaml_parse_string(buf, len, d);
    free(buf);
    return root;
}
