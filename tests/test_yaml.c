/* test_yaml.c - the YAML nnrun does not honour is refused, each refusal at its
 * own line and column: tags (the core schema's kept where they fit, !!str
 * honoured), anchors and aliases anywhere, encoding errors; CR line endings
 * read; --set errors name the override; one grammar for key paths. */
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* a small valid spec; %s is replaced by one line of the tests */
#define SPEC_A "name: t\nseed: 1\nmodel:\n  input: [4, 4, 1]\n  layers:\n    - flatten\n"
#define SPEC_B "    - dense: {units: 10, activation: softmax}\ntrain:\n" \
               "  loss: sparse_categorical_crossentropy\n  epochs: 1\n"
#define SPEC SPEC_A SPEC_B

/* Parses len bytes of text, validates and builds the graph; returns every
 * error joined by newlines (static buffer), "" when it is accepted.  *hash
 * gets the spec hash when it is. */
static const char *errors_n(const char *text, size_t len, uint64_t *hash)
{
    static char buf[16384];
    struct nn_diag d;
    nn_diag_init(&d, "t.yaml");
    struct nn_spec *s = nn_spec_from_string(text, len, "t.yaml", &d);
    if (s) {
        struct nn_graph g;
        if (nn_graph_build(&g, s, &d) == 0) nn_graph_free(&g);
        if (hash) *hash = nn_spec_hash(s);
        nn_spec_free(s);
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < d.n_errors && used < sizeof buf; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s\n", d.msgs[i]);
    nn_diag_free(&d);
    return buf;
}

static const char *errors(const char *text) { return errors_n(text, strlen(text), NULL); }

/* the first line of errors, or "" */
static const char *first(const char *all)
{
    static char line[4096];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(all, "\n"), all);
    return line;
}

#define EXPECT_FIRST(text, want)                                                           \
    do {                                                                                   \
        const char *got_ = first(errors(text));                                            \
        ck_assert_msg(!strncmp(got_, want, strlen(want)), "\n for: %s\n expected: %s\n got:      %s", \
                      text, want, got_);                                                   \
    } while (0)

/* ---- tags ------------------------------------------------------------------------ */

START_TEST(test_tags_refused)
{
    static const struct {
        const char *line, *error;
    } cases[] = {
        {"name: !!python/object:os.system x\n",
         "t.yaml:1:7: error: YAML tag '!!python/object:os.system' is not accepted in a spec; "
         "only the core schema's !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are"},
        {"name: !!binary aGVsbG8=\n", "t.yaml:1:7: error: YAML tag '!!binary' is not accepted"},
        {"name: !!timestamp 2001-12-14\n", "t.yaml:1:7: error: YAML tag '!!timestamp' is not"},
        {"name: !local x\n", "t.yaml:1:7: error: YAML tag '!local' is not accepted"},
        {"name: ! x\n", "t.yaml:1:7: error: YAML tag '!' is not accepted"},
        {"name: !<tag:example.com,2000:x> x\n",
         "t.yaml:1:7: error: YAML tag '!<tag:example.com,2000:x>' is not accepted"},
        /* !! remapped by a directive is not the core schema any more */
        {"%TAG !! tag:example.com,2000:\n---\nname: !!str x\n",
         "t.yaml:3:7: error: YAML tag '!<tag:example.com,2000:str>' is not accepted"},
        {"name: !!int five\n",
         "t.yaml:1:7: error: the value 'five' is tagged '!!int' but is not an integer"},
        {"name: !!int 0x1F\n", "t.yaml:1:7: error: the value '0x1F' is tagged '!!int'"},
        {"name: !!int 1.5\n", "t.yaml:1:7: error: the value '1.5' is tagged '!!int'"},
        {"name: !!float x1\n",
         "t.yaml:1:7: error: the value 'x1' is tagged '!!float' but is not a number"},
        {"name: !!bool yes\n",
         "t.yaml:1:7: error: the value 'yes' is tagged '!!bool' but is not true or false"},
        {"name: !!null x\n", "t.yaml:1:7: error: the value 'x' is tagged '!!null' but is not"},
        {"name: !!seq x\n", "t.yaml:1:7: error: YAML tag '!!seq' on a single value; it fits only a list"},
        {"name: !!map [x]\n", "t.yaml:1:7: error: YAML tag '!!map' on a list; it fits only a mapping"},
        {"name: !!str {a: b}\n",
         "t.yaml:1:7: error: YAML tag '!!str' on a mapping; it fits only a single value"},
        {"!!int 5: x\n", "t.yaml:1:1: error: YAML tag '!!int' on a mapping key; a key is a name"},
        {"name: x\n!!binary seed: 1\n", "t.yaml:2:1: error: YAML tag '!!binary' on a mapping key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) EXPECT_FIRST(cases[i].line, cases[i].error);

    /* every refusal is reported, each at its own place */
    const char *all = errors(SPEC_A "    - dense: {units: !!binary AA==, activation: !x softmax}\n"
                             "train:\n  loss: !!python/name:os.system sparse_categorical_crossentropy\n"
                             "  epochs: 1\n");
    ck_assert_msg(strstr(all, "t.yaml:7:22: error: YAML tag '!!binary'") &&
                  strstr(all, "t.yaml:7:49: error: YAML tag '!x'") &&
                  strstr(all, "t.yaml:9:9: error: YAML tag '!!python/name:os.system'"), "%s", all);
    /* and nothing else: the tree is dropped, not validated */
    int n = 0;
    for (const char *p = all; (p = strchr(p, '\n')); p++) n++;
    ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(test_tags_honoured)
{
    /* !!str makes a number text: a key that wants a number refuses it */
    EXPECT_FIRST(SPEC_A "    - dense: {units: !!str 10, activation: softmax}\n" "train:\n"
                 "  loss: sparse_categorical_crossentropy\n",
                 "t.yaml:7:22: error: dense: 'units' must be an integer, found the text '10' "
                 "(tagged !!str)");
    EXPECT_FIRST(SPEC_A "    - dense: {units: 10, use_bias: !!str true, activation: softmax}\n"
                 "train:\n  loss: sparse_categorical_crossentropy\n",
                 "t.yaml:7:36: error: dense: 'use_bias' must be true or false, found the text "
                 "'true' (tagged !!str)");
    /* ... and a key that wants text keeps it as text */
    struct nn_spec *s = t_spec("name: !!str 12\nmodel:\n  input: [4, 4, 1]\n  layers:\n"
                               "    - flatten\n" SPEC_B);
    ck_assert_str_eq(s->name, "12");
    nn_spec_free(s);

    /* the core schema's tags where they fit: the same spec as without them */
    uint64_t plain = 0, tagged = 0;
    ck_assert_str_eq(errors_n(SPEC, strlen(SPEC), &plain), "");
    static const char tags[] =
        "--- !!map\nname: !!str t\n!!str seed: !!int 1\nmodel: !!map\n"
        "  input: !!seq [!!int 4, !!int \"4\", 1]\n  layers:\n    - flatten: !!null\n"
        "    - dense: {units: !!int +10, activation: softmax, use_bias: !!bool \"true\"}\n"
        "train:\n  loss: sparse_categorical_crossentropy\n  epochs: !!float 1\n"
        "  optimizer: {name: rmsprop, learning_rate: !!float 1e-3}\n";
    ck_assert_str_eq(errors_n(tags, strlen(tags), &tagged), "");
    ck_assert_uint_eq(plain, tagged);
    s = t_spec(tags);
    ck_assert_int_eq(s->input[1], 4);   /* !!int "4" is the integer 4, as YAML says */
    ck_assert_float_eq(s->train.optim.learning_rate, 0.001f);
    nn_spec_free(s);
}
END_TEST

/* ---- anchors and aliases ------------------------------------------------------------ */

START_TEST(test_anchors_anywhere)
{
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"name: &n x\n", "t.yaml:1:7: error: YAML anchor found: &n; anchors and aliases are not "
                         "accepted in a spec"},
        {"name: x\n&k seed: 1\n", "t.yaml:2:1: error: YAML anchor found on a mapping key: &k"},
        {"a: [x, &i y]\n", "t.yaml:1:8: error: YAML anchor found: &i"},
        {"a:\n  - &i y\n", "t.yaml:2:5: error: YAML anchor found: &i"},
        {"a: &m {b: c}\n", "t.yaml:1:4: error: YAML anchor found: &m"},
        {"a: &s [1]\n", "t.yaml:1:4: error: YAML anchor found: &s"},
        {"--- &doc\nname: x\n", "t.yaml:1:5: error: YAML anchor found: &doc"},
        {"&top\nname: x\n", "t.yaml:1:1: error: YAML anchor found: &top"},
        {"a: *x\n", "t.yaml:1:4: error: YAML alias '*x' found; anchors and aliases are not"},
        {"a: [1, *x]\n", "t.yaml:1:8: error: YAML alias '*x' found"},
        {"name: x\n*k : 1\n", "t.yaml:2:1: error: YAML alias '*k' found as a mapping key"},
        {"--- *x\n", "t.yaml:1:5: error: YAML alias '*x' found"},
        {"? &k [a]\n: b\n", "t.yaml:1:3: error: a mapping key must be a plain name, found a list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) EXPECT_FIRST(cases[i].text, cases[i].error);
    /* the anchor inside a refused complex key is reported too */
    ck_assert_ptr_nonnull(strstr(errors("? &k [a]\n: b\n"), "t.yaml:1:3: error: YAML anchor found: &k"));
    /* a bomb is refused without expanding it, with every place up to a cap */
    char bomb[4096] = "a: &a [x, x, x, x, x, x, x, x, x]\n";
    for (int r = 0; r < 12; r++) {
        char line[256];
        snprintf(line, sizeof line, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
                 'b' + r, 'b' + r, 'a' + r, 'a' + r, 'a' + r, 'a' + r, 'a' + r, 'a' + r, 'a' + r,
                 'a' + r, 'a' + r);
        strcat(bomb, line);
    }
    const char *all = errors(bomb);   /* 13 anchors, 108 aliases */
    ck_assert_ptr_nonnull(strstr(all, "t.yaml:2:8: error: YAML alias '*a' found"));
    ck_assert_ptr_nonnull(strstr(all, "t.yaml: error: and 101 more YAML errors, not listed"));
}
END_TEST

/* ---- encoding --------------------------------------------------------------------- */

START_TEST(test_encoding_positions)
{
    static const struct {
        const char *text;
        size_t len;
        const char *error;
    } cases[] = {
#define C(s, e) {s, sizeof s - 1, e}
        C("name: x\nseed: 1\nmodel: caf\xe9",
          "t.yaml:3:11: error: invalid UTF-8: byte 0xE9 starts a character that the file cuts short"),
        C("name: x\nseed: 1\nmodel: caf\xe9s\n",
          "t.yaml:3:11: error: invalid UTF-8: byte 0xE9 starts a character that the next byte "
          "does not continue; a spec must be UTF-8 text"),
        C("name: x\nseed: 1\nmodel: \x80x\n",
          "t.yaml:3:8: error: invalid UTF-8: byte 0x80 is a continuation byte"),
        C("name: x\nseed: 1\nmodel: \xc0\xafx\n",
          "t.yaml:3:8: error: invalid UTF-8: byte 0xC0 can never appear in UTF-8"),
        C("name: x\nseed: 1\nmodel: \xed\xa0\x80x\n",   /* a UTF-16 surrogate */
          "t.yaml:3:8: error: invalid UTF-8: byte 0xED starts an overlong or out-of-range"),
        /* characters before the error count one column each, whatever their bytes */
        C("name: x\n  \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80: \xff\n",
          "t.yaml:2:8: error: invalid UTF-8: byte 0xFF can never appear in UTF-8"),
        C("name: x\nseed: 1\nmodel: \"a\x01\"\n",
          "t.yaml:3:10: error: control character U+0001 is not allowed in a spec"),
        C("name: x\nseed: 1\nmodel: a\x7f\n", "t.yaml:3:9: error: control character U+007F"),
        C("name: x\nseed: 1\nmodel: a\xc2\x9b\n", "t.yaml:3:9: error: control character U+009B"),
        C("name: x\nseed: 1\nmodel: ab\x00\n",
          "t.yaml:3:10: error: a NUL byte is not allowed in a spec"),
        C("name: x\nseed: 1\nmodel: a\xef\xbb\xbf\n",
          "t.yaml:3:9: error: a byte order mark (U+FEFF) may only start the file"),
        C("name: x\nseed: 1\nmodel: a\xe2\x80\xa8\n",
          "t.yaml:3:9: error: U+2028 (line separator) is not allowed in a spec"),
        C("name: x\nseed: 1\nmodel: a\xc2\x85\n", "t.yaml:3:9: error: U+0085 (next line)"),
        C("name: x\nseed: 1\nmodel: a\xef\xbf\xbf\n", "t.yaml:3:9: error: U+FFFF is not a character"),
        C("\xff\xfen\x00a\x00", "t.yaml:1:1: error: the spec starts with a UTF-16 or UTF-32 byte"),
        /* CR LF and a lone CR are one line break each, as libyaml counts them */
        C("name: x\r\nseed: 1\rmodel:\r\n  a: b\x01\n",
          "t.yaml:4:7: error: control character U+0001"),
#undef C
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = first(errors_n(cases[i].text, cases[i].len, NULL));
        ck_assert_msg(!strncmp(got, cases[i].error, strlen(cases[i].error)),
                      "case %zu\n expected: %s\n got:      %s", i, cases[i].error, got);
    }
    /* several are listed, up to 5, then counted */
    const char latin1[] = "a: \xe9\nb: \xe9\nc: \xe9\nd: \xe9\ne: \xe9\nf: \xe9\ng: \xe9\n";
    const char *all = errors_n(latin1, sizeof latin1 - 1, NULL);
    ck_assert_ptr_nonnull(strstr(all, "t.yaml:5:4: error: invalid UTF-8"));
    ck_assert_ptr_null(strstr(all, "t.yaml:6:4:"));
    ck_assert_ptr_nonnull(strstr(all, "t.yaml: error: and 2 more encoding errors like these"));
    /* an escaped NUL is not cut off silently */
    EXPECT_FIRST("name: x\nseed: 1\nmodel: \"a\\0b\"\n",
                 "t.yaml:3:8: error: the text holds a NUL character (\\0)");
    /* nor the characters refused in the file, written as escapes */
    EXPECT_FIRST("name: x\nseed: 1\nmodel: \"a\\Lb\"\n",
                 "t.yaml:3:8: error: the text holds U+2028, a control character, line break or "
                 "byte order mark that a spec may not hold, even as an escape");
    EXPECT_FIRST("name: \"\\x85\"\n", "t.yaml:1:7: error: the text holds U+0085");
    EXPECT_FIRST("name: \"\\x9b\"\n", "t.yaml:1:7: error: the text holds U+009B");
    EXPECT_FIRST("name: \"a\\uFEFF\"\n", "t.yaml:1:7: error: the text holds U+FEFF");
    /* a UTF-8 byte order mark at the start is fine, and not counted as a column */
    uint64_t h1 = 0, h2 = 0;
    ck_assert_str_eq(errors_n(SPEC, strlen(SPEC), &h1), "");
    char bom[1024] = "\xef\xbb\xbf";
    strcat(bom, SPEC);
    ck_assert_str_eq(errors_n(bom, strlen(bom), &h2), "");
    ck_assert_uint_eq(h1, h2);
    strcpy(bom, "\xef\xbb\xbfname: [\x01\n");
    ck_assert_str_eq(first(errors(bom)), "t.yaml:1:8: error: control character U+0001 is not "
                     "allowed in a spec, not even written as an escape (\\x01): no value "
                     "of a spec can hold one; delete it");
}
END_TEST

START_TEST(test_cr_line_endings)
{
    /* CR-only and CR LF files read as the LF file does: same spec, same hash,
     * and errors at the same lines and columns */
    char cr[1024], crlf[2048];
    size_t k = 0, j = 0;
    for (const char *p = SPEC; *p; p++) {
        cr[k++] = *p == '\n' ? '\r' : *p;
        if (*p == '\n') crlf[j++] = '\r';
        crlf[j++] = *p;
    }
    cr[k] = crlf[j] = '\0';
    uint64_t h_lf = 0, h_cr = 0, h_crlf = 0;
    ck_assert_str_eq(errors_n(SPEC, strlen(SPEC), &h_lf), "");
    ck_assert_str_eq(errors_n(cr, k, &h_cr), "");
    ck_assert_str_eq(errors_n(crlf, j, &h_crlf), "");
    ck_assert_uint_eq(h_lf, h_cr);
    ck_assert_uint_eq(h_lf, h_crlf);
    char *bad = strstr(cr, "softmax");
    memcpy(bad, "softmx} ", 8);   /* line 7, column 38 */
    ck_assert_str_eq(first(errors(cr)), "t.yaml:7:38: error: unknown activation 'softmx';"
                     " expected one of: linear, tanh, relu, sigmoid, softmax, leaky_relu, elu"
                     " (did you mean 'softmax'?)");
}
END_TEST

/* ---- --set -------------------------------------------------------------------------- */

/* SPEC with the overrides applied; the first error, or "" */
static const char *with_sets(const char *const *sets, int n)
{
    static char err[2048];
    struct nn_diag d;
    nn_diag_init(&d, "t.yaml");
    d.overrides = sets;
    d.n_overrides = n;
    struct nn_ynode *root = nn_yaml_parse_string(SPEC, strlen(SPEC), &d);
    ck_assert_ptr_nonnull(root);
    int bad = 0;
    for (int i = 0; i < n; i++) bad |= nn_spec_override(root, sets[i], i + 1, &d);
    struct nn_spec *s = bad ? NULL : nn_spec_from_tree(root, "t.yaml", &d);
    nn_ynode_free(root);
    struct nn_graph g;
    if (s && nn_graph_build(&g, s, &d) == 0) nn_graph_free(&g);
    nn_spec_free(s);
    snprintf(err, sizeof err, "%s", d.n_errors ? d.msgs[0] : "");
    nn_diag_free(&d);
    return err;
}

START_TEST(test_set_errors_named)
{
    static const struct {
        const char *set, *error;
    } cases[] = {
        /* the value's own YAML errors, tags and anchors, at their column in the value */
        {"train.epochs=[1, 2", "--set train.epochs=[1, 2: error: the value is not valid YAML "
                               "(at its end): did not find expected ',' or ']'"},
        {"train.epochs=a: b: c", "--set train.epochs=a: b: c: error: the value is not valid "
                                 "YAML (column 5): mapping values are not allowed"},
        {"name=!!binary AA==", "--set name=!!binary AA==: error: the value (column 1): YAML tag "
                               "'!!binary' is not accepted in a spec"},
        {"name=[a, !x b]", "--set name=[a, !x b]: error: the value (column 5): YAML tag '!x'"},
        {"train.epochs=&a 3", "--set train.epochs=&a 3: error: the value (column 1): YAML "
                              "anchor found: &a"},
        {"train.epochs=*a", "--set train.epochs=*a: error: the value (column 1): YAML alias '*a'"},
        {"name=a\x01" "b", "--set name=a\\x01b: error: the value (column 2): control character "
                           "U+0001 is not allowed"},
        {"name=x\n  b: [1", "--set name=x\\n  b: [1: error: the value is not valid YAML (line "
                            "2, column 4)"},
        {"name=# x", "--set name=# x: error: the value is empty (a comment only)"},
        {"name=a\n---\nb", "--set name=a\\n---\\nb: error: the value (line 2, column 1) holds a "
                           "second YAML document; a value is one"},
        /* !!str honoured in a value too */
        {"train.epochs=!!str 3", "--set train.epochs=!!str 3: error: train: 'epochs' must be an "
                                 "integer, found the text '3' (tagged !!str)"},
        /* validation of what the override set */
        {"train.epochs=0", "--set train.epochs=0: error: train: 'epochs' is 0; it must be >= 1"},
        {"model.layers.1.dense={units: 0}",
         "--set model.layers.1.dense={units: 0}: error: dense: 'units' is 0"},
        /* and the errors of a layer of the file that the override changed */
        {"model.layers.1.dense.units=12",
         "--set model.layers.1.dense.units=12: error: the last layer 'dense_1/softmax' gives "
         "[1, 1, 12], but the loss needs one value per class: [10] (data.classes) (at "
         "t.yaml:7:38)"},
        {"seed.x=1", "--set seed.x=1: error: 'seed' must be an integer from 0 to "
                     "9007199254740992 (2^53), found a mapping (at t.yaml:2:7)"},
        {"model.layers.2.dense.units=5",
         "--set model.layers.2.dense.units=5: error: '2' is not an index of a list of 2 items "
         "(0 to 1)"},
        {"model.layers.99999999999=5", "--set model.layers.99999999999=5: error: '99999999999' "
                                       "is not an index of a list of 2 items"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *one[] = {cases[i].set};
        const char *got = with_sets(one, 1);
        ck_assert_msg(!strncmp(got, cases[i].error, strlen(cases[i].error)),
                      "\n expected: %s\n got:      %s", cases[i].error, got);
    }
    /* the second override is the one named */
    const char *two[] = {"train.epochs=2", "train.batch_size=0"};
    ck_assert_str_eq(with_sets(two, 2), "--set train.batch_size=0: error: train: 'batch_size' "
                     "is 0; it must be >= 1 and <= 1000000");
    const char *big[] = {"model.input=[100, 100, 3]", "model.layers.1.dense.units=16000000"};
    const char *got = with_sets(big, 2);
    ck_assert_msg(!strncmp(got, "--set model.layers.1.dense.units=16000000: error: layer "
                           "'dense_1' would have an output of [1, 1, 16000000] and 480016000000 "
                           "parameters", 126) && strstr(got, " (at t.yaml:7:7)"), "%s", got);
    /* a tag the core schema has, where it fits, is fine */
    const char *ok[] = {"train.epochs=!!int 3", "name=!!str 7", "model.layers.1.dense.units=!!int \"10\""};
    ck_assert_str_eq(with_sets(ok, 3), "");
}
END_TEST

/* ---- the key path grammar ----------------------------------------------------------- */

START_TEST(test_path_grammar)
{
    struct nn_path p;
    char why[256];
    const char *k = "model.layers.10.dense.beta_1";
    ck_assert_int_eq(nn_spec_path_parse(k, strlen(k), &p, why, sizeof why), 0);
    ck_assert_int_eq(p.n, 5);
    ck_assert_int_eq(p.index[0], -1);
    ck_assert_int_eq(p.index[2], 10);
    ck_assert_int_eq(p.start[4], 22);
    ck_assert_int_eq(p.len[4], 6);
    ck_assert_int_eq(nn_spec_path_parse("a.0", 3, &p, why, sizeof why), 0);
    ck_assert_int_eq(p.index[1], 0);
    ck_assert_int_eq(nn_spec_path_parse("_x-y.Z9", 7, &p, why, sizeof why), 0);
    ck_assert_int_eq(nn_spec_path_parse("a.99999999999", 13, &p, why, sizeof why), 0);
    ck_assert_int_eq(p.index[1], 2147483647);
    /* only len bytes are read */
    ck_assert_int_eq(nn_spec_path_parse("train.epochs=5", 12, &p, why, sizeof why), 0);
    ck_assert_int_eq(p.n, 2);

    static const struct {
        const char *path, *why;
    } bad[] = {
        {"", "the key is empty"},
        {".", "'.' alone is not a key"},
        {"train..epochs", "the key has an empty segment between two dots"},
        {".train", "the key starts with '.'"},
        {"train.", "the key ends with '.'"},
        {"model.layers.+1", "'+1' is not a list index: an index has no sign"},
        {"model.layers.-1", "'-1' is not a list index: an index has no sign"},
        {"model.layers.01", "'01' is not a list index: an index has no leading zero"},
        {"model.layers. 1", "' 1' has a space; a key segment is letters, digits, '_' and '-'"},
        {"model.layers.1 ", "'1 ' is neither a key (a letter or '_' first) nor a list index"},
        {"model.layers.1x", "'1x' is neither a key"},
        {"train.epo chs", "'epo chs' has a space"},
        {"train.epochs\t", "'epochs\t' has a tab"},
        {"train.ep=ochs", "'ep=ochs' has '='"},
        {"train.\xc3\xa9", "'\xc3\xa9' has byte 0xC3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        ck_assert_int_eq(nn_spec_path_parse(bad[i].path, strlen(bad[i].path), &p, why, sizeof why), -1);
        ck_assert_msg(!strncmp(why, bad[i].why, strlen(bad[i].why)), "%s:\n expected: %s\n got: %s",
                      bad[i].path, bad[i].why, why);
    }
    char deep[400] = "a";
    for (int i = 0; i < NN_PATH_MAX_SEGMENTS; i++) strcat(deep, ".b");
    ck_assert_int_eq(nn_spec_path_parse(deep, strlen(deep), &p, why, sizeof why), -1);
    ck_assert_str_eq(why, "the key has more than 64 segments");

    /* --set names the override and says why */
    const char *one[] = {"train..epochs=3"};
    ck_assert_str_eq(with_sets(one, 1), "--set train..epochs=3: error: 'train..epochs' is not a key "
                     "path such as train.batch_size or model.layers.2.dense.units: the key has an "
                     "empty segment between two dots");
    one[0] = "model.layers. 1.dense.units=3";
    ck_assert_str_eq(with_sets(one, 1), "--set model.layers. 1.dense.units=3: error: 'model.layers. "
                     "1.dense.units' is not a key path such as train.batch_size or "
                     "model.layers.2.dense.units: ' 1' has a space; a key segment is letters, "
                     "digits, '_' and '-' (a letter or '_' first), a list index is digits");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("yaml");
    TCase *tc = tcase_create("yaml");
    tcase_add_test(tc, test_tags_refused);
    tcase_add_test(tc, test_tags_honoured);
    tcase_add_test(tc, test_anchors_anywhere);
    tcase_add_test(tc, test_encoding_positions);
    tcase_add_test(tc, test_cr_line_endings);
    tcase_add_test(tc, test_set_errors_named);
    tcase_add_test(tc, test_path_grammar);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
