/* sweep.c - `nnrun sweep SWEEP.yaml [-j N] [--out DIR | --emit DIR]`:
 * hyperparameter sweeps.  A sweep file names a base spec and the keys to vary:
 *
 *   base: ../cnn.yaml          # the base spec, relative to the sweep file
 *   name: cnn-lr-batch         # optional; default: the sweep file's base name
 *   metric: test_accuracy      # the leaderboard's order: test_accuracy (default),
 *                              # test_loss, val_accuracy, val_loss, train_loss,
 *                              # train_accuracy, seconds; losses and seconds
 *                              # ascending, accuracies descending
 *   set: {train.epochs: 3}     # optional fixed overrides, applied to every trial first
 *   grid:                      # every combination of the value lists
 *     train.optimizer.learning_rate: [0.0003, 0.001, 0.003]
 *     train.batch_size: [32, 100]
 *   # or, instead of grid:
 *   random:
 *     trials: 8
 *     seed: 1                  # the search's own seed, not the model's (default 1)
 *     keys:
 *       train.optimizer.learning_rate: {min: 0.0001, max: 0.01, log: true}
 *       train.batch_size: [32, 64, 100]                  # a choice
 *       model.layers.3.dense.units: {min: 16, max: 64, int: true}
 *
 * Keys are --set's dotted paths and values are YAML, as with --set.  A grid's
 * trials run through the combinations with the last key changing fastest.
 * Random search draws each trial's values in key order from nn_rng seeded
 * with the search's seed: uniform in [min, max] (uniform in log space with
 * log: true; a whole number with int: true, both ends included) or uniform
 * over a list.  Drawn floats are rounded to 4 significant digits, so that the
 * spec, the tables and trials.csv show the same value.  The same file gives
 * the same trials.
 *
 * Trial k is the base spec with `set`, then the command line's --set, then
 * the trial's values applied, and named NAME-k (3 digits or more).  Every
 * trial is validated (spec and graph) before anything is written or run; an
 * error names the sweep file's line and column, the trial and the key.  The
 * trials are written as resolved specs: ordinary spec files that `nnrun SPEC`
 * runs anywhere.  More trials than --max-runs (default 1000) are refused.
 *
 * --emit DIR only writes DIR/NAME-NNN.yaml and DIR/trials.csv (trial, file
 * and each varied key's value).  Otherwise the sweep's directory (--out DIR,
 * default runs/sweep-NAME-UTCTIME, never an existing one unless --force)
 * gets sweep.yaml (a copy of the sweep file), specs/ (what --emit writes),
 * runs/NAME-NNN/ (each trial's run record, written by a child
 * `nnrun train SPEC --quiet`, -j of them at a time) with runs/NAME-NNN.log
 * (the child's output), and sweep.csv, the leaderboard, which is
 * `nnrun collect DIR/runs` with the varied keys as columns.
 *
 * A failed trial does not stop the others (exit status 1 at the end).
 * SIGINT and SIGTERM are forwarded to the running trials, which write their
 * checkpoints and stop; no new trial starts, and the sweep exits 130 / 143. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "nnrun/diag.h"
#include "nnrun/graph.h"
#include "nnrun/parallel.h"
#include "nnrun/spec.h"
#include "nnrun/util.h"

/* ---- small text helpers ---------------------------------------------------- */


static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    NN_ASSERT(k >= 0);
    char *s = nn_xmalloc((size_t)k + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)k + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* A path under the sweep's directory.  The directory is at most
 * PATH_MAX - 256 bytes long (checked when it is chosen), so these fit. */
static void pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
}

/* A scalar as YAML flow text: quoted when it was quoted, or when its text
 * would not read back as one plain scalar inside [..] or {..}. */
static void put_scalar(struct cli_sb *b, const char *s, int quoted)
{
    const size_t l = strlen(s);
    if (!quoted && !strpbrk(s, ",[]{}#\"'\\") && !strstr(s, ": ") &&
        !(l && (s[0] == ' ' || s[l - 1] == ' '))) {
        cli_sb_put(b, "%s", s);
        return;
    }
    cli_sb_put(b, "\"");
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') cli_sb_put(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f) cli_sb_put(b, "\\x%02x", c);
        else cli_sb_put(b, "%c", c);
    }
    cli_sb_put(b, "\"");
}

/* A YAML node written back as flow text, the VALUE of a KEY=VALUE override. */
static void put_node(struct cli_sb *b, const struct nn_ynode *n)
{
    if (n->kind == NN_Y_SCALAR) {
        put_scalar(b, n->str, n->quoted);
        return;
    }
    cli_sb_put(b, "%s", n->kind == NN_Y_MAP ? "{" : "[");
    for (int i = 0; i < n->n; i++) {
        if (i) cli_sb_put(b, ", ");
        if (n->kind == NN_Y_MAP) {
            put_scalar(b, n->keys[i], 0);
            cli_sb_put(b, ": ");
        }
        put_node(b, n->items[i]);
    }
    cli_sb_put(b, "%s", n->kind == NN_Y_MAP ? "}" : "]");
}

static char *node_text(const struct nn_ynode *n)
{
    struct cli_sb b = {0};
    put_node(&b, n);
    return b.p;
}

/* a name made safe for a file name */
static void safe_name(char *out, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++)
        out[k++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                                  (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'
                              ? *s : '_');
    out[k] = '\0';
}

/* ---- the sweep file -------------------------------------------------------- */

struct axis {                   /* one varied key */
    char *key;
    struct nn_mark mark;        /* the key in the sweep file */
    int n;                      /* grid values or random choices; 0: a random range */
    char **vals;                /* YAML text */
    struct nn_mark *marks;
    double lo, hi;              /* a random range */
    int log, is_int;
};

struct sweep {
    const char *path;
    char *base;                 /* the base spec, relative to the working directory */
    char name[128];
    int metric;
    int random;                 /* 0: grid */
    long long trials;           /* random: how many */
    uint64_t seed;
    int n_set;
    char **set;                 /* "KEY=VALUE" */
    struct nn_mark *set_marks;
    int n_axes;
    struct axis *axes;
    int n_trials;
    char **vals;                /* [trial * n_axes + axis], YAML text */
};

static void sweep_free(struct sweep *sw)
{
    free(sw->base);
    for (int i = 0; i < sw->n_set; i++) free(sw->set[i]);
    free(sw->set);
    free(sw->set_marks);
    for (int a = 0; a < sw->n_axes; a++) {
        for (int i = 0; i < sw->axes[a].n; i++) free(sw->axes[a].vals[i]);
        free(sw->axes[a].vals);
        free(sw->axes[a].marks);
        free(sw->axes[a].key);
    }
    free(sw->axes);
    for (long long i = 0; sw->vals && i < (long long)sw->n_trials * sw->n_axes; i++)
        free(sw->vals[i]);
    free(sw->vals);
}

static const char *describe(const struct nn_ynode *n)
{
    return n->kind == NN_Y_MAP ? "a mapping" : n->kind == NN_Y_SEQ ? "a list" : "a single value";
}

/* Refuses keys of map outside allowed, with a did-you-mean. */
static void check_keys(struct nn_diag *d, const struct nn_ynode *map, const char *where,
                       const char *const *allowed, int n)
{
    char list[256];
    nn_join(list, sizeof list, allowed, n);
    for (int i = 0; i < map->n; i++) {
        int ok = 0;
        for (int k = 0; k < n; k++) ok |= !strcmp(map->keys[i], allowed[k]);
        if (ok) continue;
        const char *s = nn_suggest(map->keys[i], allowed, n);
        nn_diag_error(d, map->key_marks[i], "unknown key '%s' in %s; expected one of: %s%s%s%s",
                      map->keys[i], where, list, s ? " (did you mean '" : "", s ? s : "",
                      s ? "'?)" : "");
    }
}

static int get_number(struct nn_diag *d, const struct nn_ynode *n, const char *what, double *out)
{
    char *end = NULL;
    if (n->kind == NN_Y_SCALAR && !n->quoted) *out = strtod(n->str, &end);
    if (!end || end == n->str || *end || !isfinite(*out)) {
        nn_diag_error(d, n->mark, "%s must be a number, found %s%s%s", what,
                      n->kind == NN_Y_SCALAR ? "'" : describe(n),
                      n->kind == NN_Y_SCALAR ? n->str : "", n->kind == NN_Y_SCALAR ? "'" : "");
        return -1;
    }
    return 0;
}

static int get_int(struct nn_diag *d, const struct nn_ynode *n, const char *what, double lo,
                   double hi, long long *out)
{
    double v;
    if (get_number(d, n, what, &v)) return -1;
    if (v != floor(v) || v < lo || v > hi) {
        nn_diag_error(d, n->mark, "%s must be a whole number from %.0f to %.0f, found %s", what,
                      lo, hi, n->str);
        return -1;
    }
    *out = (long long)v;
    return 0;
}

static int get_bool(struct nn_diag *d, const struct nn_ynode *n, const char *what, int *out)
{
    if (n->kind == NN_Y_SCALAR && !n->quoted &&
        (!strcmp(n->str, "true") || !strcmp(n->str, "false"))) {
        *out = n->str[0] == 't';
        return 0;
    }
    nn_diag_error(d, n->mark, "%s must be true or false, found %s%s%s", what,
                  n->kind == NN_Y_SCALAR ? "'" : describe(n), n->kind == NN_Y_SCALAR ? n->str : "",
                  n->kind == NN_Y_SCALAR ? "'" : "");
    return -1;
}

/* the i-th key of map as a --set key path */
static int get_key(struct nn_diag *d, const struct nn_ynode *map, int i)
{
    const char *k = map->keys[i];
    struct nn_path p;
    char why[256];
    if (nn_spec_path_parse(k, strlen(k), &p, why, sizeof why)) {   /* --set's grammar */
        nn_diag_error(d, map->key_marks[i], "'%.200s' is not a key path such as "
                      "train.batch_size: %s", k, why);
        return -1;
    }
    return 0;
}

static struct axis *add_axis(struct sweep *sw, const struct nn_ynode *map, int i)
{
    sw->axes = nn_xrealloc(sw->axes, (size_t)(sw->n_axes + 1) * sizeof *sw->axes);
    struct axis *a = &sw->axes[sw->n_axes++];
    memset(a, 0, sizeof *a);
    a->key = nn_xstrdup(map->keys[i]);
    a->mark = map->key_marks[i];
    return a;
}

/* a list of values: a grid's, or a random key's choices */
static void axis_values(struct axis *a, const struct nn_ynode *list)
{
    a->n = list->n;
    a->vals = nn_xcalloc((size_t)a->n, sizeof *a->vals);
    a->marks = nn_xcalloc((size_t)a->n, sizeof *a->marks);
    for (int i = 0; i < a->n; i++) {
        a->vals[i] = node_text(list->items[i]);
        a->marks[i] = list->items[i]->mark;
    }
}

static void parse_set(struct nn_diag *d, struct sweep *sw, const struct nn_ynode *set)
{
    if (set->kind != NN_Y_MAP) {
        nn_diag_error(d, set->mark, "'set' must be a mapping of keys to values, such as "
                      "{train.epochs: 3}; found %s", describe(set));
        return;
    }
    sw->set = nn_xcalloc((size_t)set->n + 1, sizeof *sw->set);
    sw->set_marks = nn_xcalloc((size_t)set->n + 1, sizeof *sw->set_marks);
    for (int i = 0; i < set->n; i++) {
        if (get_key(d, set, i)) continue;
        char *v = node_text(set->items[i]);
        sw->set[sw->n_set] = xprintf("%s=%s", set->keys[i], v);
        sw->set_marks[sw->n_set++] = set->key_marks[i];
        free(v);
    }
}

static void parse_grid(struct nn_diag *d, struct sweep *sw, const struct nn_ynode *grid)
{
    if (grid->kind != NN_Y_MAP || !grid->n) {
        nn_diag_error(d, grid->mark, "'grid' must be a mapping of keys to lists of values, such "
                      "as {train.batch_size: [32, 100]}; found %s",
                      grid->kind == NN_Y_MAP ? "an empty one" : describe(grid));
        return;
    }
    for (int i = 0; i < grid->n; i++) {
        const struct nn_ynode *v = grid->items[i];
        if (get_key(d, grid, i)) continue;
        if (v->kind != NN_Y_SEQ || !v->n) {
            nn_diag_error(d, v->mark, "grid key '%s' needs a list of values such as [32, 100], "
                          "found %s (a fixed value goes in 'set')", grid->keys[i],
                          v->kind == NN_Y_SEQ ? "an empty list" : describe(v));
            continue;
        }
        axis_values(add_axis(sw, grid, i), v);
    }
}

/* {min: A, max: B, log: true, int: true} */
static void parse_range(struct nn_diag *d, struct axis *a, const struct nn_ynode *r)
{
    static const char *const keys[] = {"min", "max", "log", "int"};
    check_keys(d, r, "a random range", keys, 4);
    const struct nn_ynode *lo = nn_ymap_get(r, "min"), *hi = nn_ymap_get(r, "max");
    const struct nn_ynode *lg = nn_ymap_get(r, "log"), *in = nn_ymap_get(r, "int");
    if (!lo || !hi) {
        nn_diag_error(d, r->mark, "random key '%s' needs min and max", a->key);
        return;
    }
    int bad = get_number(d, lo, "min", &a->lo) | get_number(d, hi, "max", &a->hi);
    if (lg) bad |= get_bool(d, lg, "log", &a->log);
    if (in) bad |= get_bool(d, in, "int", &a->is_int);
    if (bad) return;
    if (a->lo > a->hi)
        nn_diag_error(d, hi->mark, "max %g is below min %g", a->hi, a->lo);
    else if (a->log && a->lo <= 0)
        nn_diag_error(d, lo->mark, "log: true needs min > 0, found %g", a->lo);
    else if (a->is_int && ceil(a->lo) > floor(a->hi))
        nn_diag_error(d, r->mark, "no whole number between min %g and max %g", a->lo, a->hi);
    else if (a->is_int && (fabs(a->lo) > 1e15 || fabs(a->hi) > 1e15))
        nn_diag_error(d, r->mark, "int: true needs min and max within +-1e15");
}

static void parse_random(struct nn_diag *d, struct sweep *sw, const struct nn_ynode *rnd)
{
    static const char *const keys[] = {"trials", "seed", "keys"};
    if (rnd->kind != NN_Y_MAP) {
        nn_diag_error(d, rnd->mark, "'random' must be a mapping with trials, seed and keys; "
                      "found %s", describe(rnd));
        return;
    }
    check_keys(d, rnd, "random", keys, 3);
    sw->random = 1;
    sw->seed = 1;
    const struct nn_ynode *t = nn_ymap_get(rnd, "trials"), *s = nn_ymap_get(rnd, "seed");
    const struct nn_ynode *k = nn_ymap_get(rnd, "keys");
    if (!t) nn_diag_error(d, rnd->mark, "random search needs 'trials', the number of runs");
    else get_int(d, t, "trials", 1, 1e9, &sw->trials);
    if (s && (s->kind != NN_Y_SCALAR || s->quoted || nn_seed_parse(s->str, &sw->seed)))
        nn_diag_error(d, s->mark, "seed must be %s (as a spec's seed), found %s%s%s",
                      NN_SEED_RANGE, s->kind == NN_Y_SCALAR ? "'" : describe(s),
                      s->kind == NN_Y_SCALAR ? s->str : "", s->kind == NN_Y_SCALAR ? "'" : "");
    if (!k || k->kind != NN_Y_MAP || !k->n) {
        nn_diag_error(d, k ? k->mark : rnd->mark, "random search needs 'keys': a mapping of "
                      "keys to a list of choices or {min: A, max: B}");
        return;
    }
    for (int i = 0; i < k->n; i++) {
        const struct nn_ynode *v = k->items[i];
        if (get_key(d, k, i)) continue;
        if ((v->kind == NN_Y_SEQ && !v->n) || v->kind == NN_Y_SCALAR) {
            nn_diag_error(d, v->mark, "random key '%s' needs a list of choices or {min: A, "
                          "max: B}, found %s", k->keys[i],
                          v->kind == NN_Y_SEQ ? "an empty list" : describe(v));
            continue;
        }
        struct axis *a = add_axis(sw, k, i);
        if (v->kind == NN_Y_SEQ) axis_values(a, v);
        else parse_range(d, a, v);
    }
}

static struct nn_mark key_mark(const struct nn_ynode *map, const char *key)
{
    for (int i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key)) return map->key_marks[i];
    return map->mark;
}

static void parse_top(struct nn_diag *d, struct sweep *sw, const struct nn_ynode *root)
{
    static const char *const keys[] = {"base", "name", "metric", "set", "grid", "random"};
    check_keys(d, root, "a sweep file", keys, 6);
    const struct nn_ynode *base = nn_ymap_get(root, "base"), *name = nn_ymap_get(root, "name");
    const struct nn_ynode *metric = nn_ymap_get(root, "metric"), *set = nn_ymap_get(root, "set");
    const struct nn_ynode *grid = nn_ymap_get(root, "grid"), *rnd = nn_ymap_get(root, "random");
    if (!base || base->kind != NN_Y_SCALAR || !base->str[0]) {
        nn_diag_error(d, base ? base->mark : root->mark, "a sweep file needs 'base:', the path "
                      "of the spec the trials start from (relative to the sweep file)");
    } else {
        /* relative to the sweep file's directory */
        const char *slash = strrchr(sw->path, '/');
        if (base->str[0] == '/' || !slash) sw->base = nn_xstrdup(base->str);
        else sw->base = xprintf("%.*s/%s", (int)(slash - sw->path), sw->path, base->str);
        if (access(sw->base, R_OK))
            nn_diag_error(d, base->mark, "cannot read the base spec %s: %s", sw->base,
                          strerror(errno));
    }
    if (name && (name->kind != NN_Y_SCALAR || !name->str[0]))
        nn_diag_error(d, name->mark, "'name' must be a text value, found %s", describe(name));
    else if (name)
        safe_name(sw->name, sizeof sw->name, name->str);
    if (metric) {
        char why[512];
        if (metric->kind != NN_Y_SCALAR)
            nn_diag_error(d, metric->mark, "'metric' must be a metric name, found %s",
                          describe(metric));
        else if ((sw->metric = collect_metric(metric->str, why, sizeof why)) < 0)
            nn_diag_error(d, metric->mark, "%s", why);
    }
    if (set) parse_set(d, sw, set);
    if (grid && rnd)
        nn_diag_error(d, key_mark(root, "random"), "a sweep has either 'grid' or 'random', "
                      "not both");
    else if (grid)
        parse_grid(d, sw, grid);
    else if (rnd)
        parse_random(d, sw, rnd);
    else
        nn_diag_error(d, root->mark, "a sweep file needs 'grid:' (lists of values) or "
                      "'random:' (trials, seed, keys)");
}

/* Parses the sweep file into sw; 0, or -1 with the errors printed. */
static int parse_sweep(const char *path, struct sweep *sw)
{
    memset(sw, 0, sizeof *sw);
    sw->path = path;
    sw->metric = CM_TEST_ACCURACY;
    /* default name: the file's base name without extension */
    const char *b = strrchr(path, '/');
    safe_name(sw->name, sizeof sw->name, b ? b + 1 : path);
    char *dot = strrchr(sw->name, '.');
    if (dot && dot != sw->name) *dot = '\0';
    struct nn_diag d;
    nn_diag_init(&d, path);
    struct nn_ynode *root = nn_yaml_parse_file(path, &d);
    if (root && root->kind != NN_Y_MAP)
        nn_diag_error(&d, root->mark, "a sweep file must be a mapping with base, grid or "
                      "random, and optionally name, metric and set; found %s", describe(root));
    else if (root)
        parse_top(&d, sw, root);
    nn_ynode_free(root);
    const int bad = d.n_errors > 0;
    nn_diag_print(&d, stderr);
    nn_diag_free(&d);
    return bad ? -1 : 0;
}

/* ---- trials ---------------------------------------------------------------- */

/* as a double: a grid's product can overflow an int */
static double count_trials(const struct sweep *sw)
{
    double n = sw->random ? (double)sw->trials : 1;
    for (int a = 0; a < sw->n_axes && !sw->random; a++) n *= sw->axes[a].n;
    return n;
}

/* one value of a random key */
static char *draw(struct nn_rng *r, const struct axis *a)
{
    if (a->n) return nn_xstrdup(a->vals[nn_rng_below(r, (uint64_t)a->n)]);
    const double lo = a->lo, hi = a->hi;
    if (a->is_int && !a->log) {
        const uint64_t span = (uint64_t)(floor(hi) - ceil(lo) + 1);
        return xprintf("%lld", (long long)ceil(lo) + (long long)nn_rng_below(r, span));
    }
    const double u = (double)(nn_rng_next(r) >> 11) * 0x1p-53;   /* [0, 1), 53 bits */
    double v = a->log ? exp(log(lo) + u * (log(hi) - log(lo))) : lo + u * (hi - lo);
    if (!a->is_int) return xprintf("%.4g", v);
    v = fmin(fmax(round(v), ceil(lo)), floor(hi));
    return xprintf("%lld", (long long)v);
}

/* Each trial's value of each key. */
static void expand(struct sweep *sw, int n)
{
    sw->n_trials = n;
    sw->vals = nn_xcalloc((size_t)n * (size_t)sw->n_axes + 1, sizeof *sw->vals);
    struct nn_rng r;
    nn_rng_init(&r, sw->seed, 0x5eed);
    for (int t = 0; t < n; t++) {
        int rest = t;   /* the grid: t in mixed radix, the last key fastest */
        for (int a = sw->n_axes - 1; a >= 0 && !sw->random; a--) {
            sw->vals[t * sw->n_axes + a] = nn_xstrdup(sw->axes[a].vals[rest % sw->axes[a].n]);
            rest /= sw->axes[a].n;
        }
        for (int a = 0; a < sw->n_axes && sw->random; a++)
            sw->vals[t * sw->n_axes + a] = draw(&r, &sw->axes[a]);
    }
}

/* where the value of trial t's key a is in the sweep file */
static struct nn_mark value_mark(const struct sweep *sw, int t, int a)
{
    const struct axis *x = &sw->axes[a];
    if (sw->random) return x->mark;
    int rest = t;
    for (int b = sw->n_axes - 1; b > a; b--) rest /= sw->axes[b].n;
    return x->marks[rest % x->n];
}

/* Messages already printed, so that a bad value shared by many trials (or an
 * error in the base spec) is reported once. */
struct seen {
    char **msg;
    int n;
};

static void report_once(struct seen *s, const char *key, const char *text)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->msg[i], key)) return;
    s->msg = nn_xrealloc(s->msg, (size_t)(s->n + 1) * sizeof *s->msg);
    s->msg[s->n++] = nn_xstrdup(key);
    fprintf(stderr, "%s\n", text);
}

/* Prints d's errors for trial t.  An error about an override that came from
 * the sweep file is moved to the sweep file's position of the key or value:
 * "--set train.batch_size=0: error: ..." becomes
 * "sweep.yaml:9:22: error: trial 2: train.batch_size=0: ...". */
static void report_trial(const struct sweep *sw, int t, const struct nn_diag *d,
                         const struct nn_mark *src, const int *from_grid, struct seen *seen)
{
    for (int i = 0; i < d->n_errors; i++) {
        const char *m = d->msgs[i];
        char *key = NULL, *text = NULL;
        for (int k = 0; k < d->n_overrides && !key; k++) {
            const size_t l = strlen(d->overrides[k]);
            if (!src[k].line || strncmp(m, "--set ", 6) || strncmp(m + 6, d->overrides[k], l) ||
                strncmp(m + 6 + l, ": error: ", 9))
                continue;
            const char *body = m + 6 + l + 9;
            key = xprintf("%s:%d:%d: error: %s%s: %s", sw->path, src[k].line, src[k].col,
                          from_grid[k] ? "" : "set ", d->overrides[k], body);
            text = from_grid[k] ? xprintf("%s:%d:%d: error: trial %d: %s: %s", sw->path,
                                          src[k].line, src[k].col, t + 1, d->overrides[k], body)
                                : nn_xstrdup(key);
        }
        if (!key) {   /* an error in the base spec, or one a trial's values lead to */
            key = nn_xstrdup(m);
            struct cli_sb b = {0};
            cli_sb_put(&b, "%s", m);
            for (int a = 0; a < sw->n_axes; a++)
                cli_sb_put(&b, "%s%s=%s", a ? ", " : " (trial ", sw->axes[a].key,
                       sw->vals[t * sw->n_axes + a]);
            if (sw->n_axes) cli_sb_put(&b, ")");
            text = b.p;
        }
        report_once(seen, key, text);
        free(key);
        free(text);
    }
}

/* Trial t as the text of its spec file: the base spec with the overrides
 * applied, validated, resolved.  NULL after printing its errors. */
static char *make_trial(const struct sweep *sw, const struct cli *c, int t, int width,
                        struct seen *seen)
{
    const int n_ov = sw->n_set + c->n_sets + sw->n_axes + 1;
    char **ov = nn_xcalloc((size_t)n_ov, sizeof *ov);
    struct nn_mark *src = nn_xcalloc((size_t)n_ov, sizeof *src);
    int *from_grid = nn_xcalloc((size_t)n_ov, sizeof *from_grid);
    int k = 0;
    for (int i = 0; i < sw->n_set; i++, k++) {
        ov[k] = nn_xstrdup(sw->set[i]);
        src[k] = sw->set_marks[i];
    }
    for (int i = 0; i < c->n_sets; i++, k++) ov[k] = nn_xstrdup(c->sets[i]);
    for (int a = 0; a < sw->n_axes; a++, k++) {
        ov[k] = xprintf("%s=%s", sw->axes[a].key, sw->vals[t * sw->n_axes + a]);
        src[k] = value_mark(sw, t, a);
        from_grid[k] = 1;
    }
    ov[k++] = xprintf("name=\"%s-%0*d\"", sw->name, width, t + 1);

    struct nn_diag d;
    nn_diag_init(&d, sw->base);
    d.overrides = (const char *const *)ov;
    d.n_overrides = n_ov;
    struct nn_ynode *root = nn_yaml_parse_file(sw->base, &d);
    int bad = !root;
    for (int i = 0; root && i < n_ov; i++) bad |= nn_spec_override(root, ov[i], i + 1, &d);
    struct nn_spec *s = bad ? NULL : nn_spec_from_tree(root, sw->base, &d);
    nn_ynode_free(root);
    char *text = NULL;
    struct nn_graph g;
    if (s && !nn_graph_build(&g, s, &d)) {
        nn_graph_free(&g);
        char *spec = nn_spec_to_yaml(s);
        struct cli_sb b = {0};
        cli_sb_put(&b, "# trial %d of %d of the sweep %s (%s):", t + 1, sw->n_trials, sw->name,
               sw->path);
        for (int a = 0; a < sw->n_axes; a++)
            cli_sb_put(&b, " %s=%s", sw->axes[a].key, sw->vals[t * sw->n_axes + a]);
        cli_sb_put(&b, "\n%s", spec);
        free(spec);
        text = b.p;
    }
    nn_spec_free(s);
    report_trial(sw, t, &d, src, from_grid, seen);
    nn_diag_free(&d);
    for (int i = 0; i < n_ov; i++) free(ov[i]);
    free(ov);
    free(src);
    free(from_grid);
    return text;
}

/* Every trial's spec text, or NULL when any is bad (errors printed). */
static char **make_trials(const struct sweep *sw, const struct cli *c, int width)
{
    struct seen seen = {0};
    char **texts = nn_xcalloc((size_t)sw->n_trials, sizeof *texts);
    int bad = 0;
    for (int t = 0; t < sw->n_trials; t++) bad |= !(texts[t] = make_trial(sw, c, t, width, &seen));
    for (int i = 0; i < seen.n; i++) free(seen.msg[i]);
    free(seen.msg);
    if (!bad) return texts;
    for (int t = 0; t < sw->n_trials; t++) free(texts[t]);
    free(texts);
    return NULL;
}


/* DIR/NAME-NNN.yaml for each trial and DIR/trials.csv (DIR exists). */
static int write_specs(const char *dir, const struct sweep *sw, char **texts, int width)
{
    char path[PATH_MAX], err[1024];
    struct cli_sb csv = {0};
    cli_sb_put(&csv, "trial,file");
    for (int a = 0; a < sw->n_axes; a++) cli_csv_field(&csv, sw->axes[a].key);
    cli_sb_put(&csv, "\n");
    int rc = 0;
    for (int t = 0; t < sw->n_trials && !rc; t++) {
        pathf(path, "%s/%s-%0*d.yaml", dir, sw->name, width, t + 1);
        rc = nn_write_file_atomic(path, texts[t], strlen(texts[t]), err, sizeof err);
        cli_sb_put(&csv, "%d,%s-%0*d.yaml", t + 1, sw->name, width, t + 1);
        for (int a = 0; a < sw->n_axes; a++) cli_csv_field(&csv, sw->vals[t * sw->n_axes + a]);
        cli_sb_put(&csv, "\n");
    }
    pathf(path, "%s/trials.csv", dir);
    if (!rc) rc = nn_write_file_atomic(path, csv.p, csv.n, err, sizeof err);
    if (rc) fprintf(stderr, "nnrun: error: %s\n", err);
    free(csv.p);
    return rc ? EXIT_RUNTIME : 0;
}

/* ---- directories ------------------------------------------------------------ */

/* 1 when path is a directory with anything in it */
static int nonempty_dir(const char *path)
{
    DIR *dp = opendir(path);
    if (!dp) return 0;
    int any = 0;
    for (struct dirent *e; !any && (e = readdir(dp));)
        any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(dp);
    return any;
}


/* --emit DIR: the specs and trials.csv, and how to run them elsewhere.
 * DIR is made with one mkdir, or, if it exists and is empty, taken with a
 * lock (flock) held while writing, so two sweeps never write into one
 * directory; a non-empty DIR is refused.  With --force an existing DIR of
 * emitted specs is replaced whole: the new files go to a staging directory
 * beside it, which then takes its place in one rename exchange. */
static int emit(const struct cli *c, const struct sweep *sw, char **texts, int width)
{
    char base[PATH_MAX], err[PATH_MAX + 256];
    snprintf(base, sizeof base, "%s", c->emit);
    cli_strip_slashes(base);
    struct cli_dir d = {.lock_fd = -1, .old_lock_fd = -1};
    struct stat st;
    int rc = 0;
    if (c->force && !lstat(base, &st)) {
        if ((rc = cli_claim(&d, base, 1, CLI_DIR_EMIT))) return rc;
    } else {
        snprintf(d.dir, sizeof d.dir, "%s", base);
        if (mkdir(base, 0755) && errno != EEXIST && nn_mkdirs(base, err, sizeof err)) {
            fprintf(stderr, "nnrun: error: %s\n", err);
            return EXIT_RUNTIME;
        }
        if ((d.lock_fd = nn_dir_lock(base)) < 0 || nonempty_dir(base)) {
            const int busy = d.lock_fd < 0 && errno == EBUSY, locked = d.lock_fd >= 0;
            fprintf(stderr, "nnrun: error: %s %s; choose another directory%s\n", base,
                    locked ? "exists and is not empty" : busy ? "is being written by "
                    "another nnrun process" : strerror(errno),
                    locked ? " or add --force to replace it" : "");
            cli_release(&d);
            return locked || busy ? EXIT_USAGE : EXIT_RUNTIME;
        }
    }
    rc = write_specs(d.dir, sw, texts, width);
    if (!rc && cli_place(&d, err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        rc = EXIT_RUNTIME;
    }
    cli_release(&d);
    if (rc) return rc;
    printf("wrote %d trial spec%s and trials.csv to %s/\n", sw->n_trials,
           sw->n_trials == 1 ? "" : "s", base);
    printf("run them with GNU parallel (one job per core):\n"
           "  parallel nnrun {} --out runs/%s/{/.} --quiet --threads 1 ::: %s/*.yaml\n"
           "or one by one:\n"
           "  for f in %s/*.yaml; do nnrun \"$f\" --out runs/%s/$(basename \"$f\" .yaml); done\n"
           "then see them in one table:\n"
           "  nnrun collect runs/%s\n", sw->name, base, base, sw->name, sw->name);
    return 0;
}

/* ---- running the trials ------------------------------------------------------ */

struct runner {
    const struct sweep *sw;
    const char *dir;            /* the sweep's directory */
    char exe[PATH_MAX];         /* this program */
    int use_path;               /* exe is argv[0], to be looked up in PATH */
    char threads[16];
    int force, quiet, width;
    const char **keys;          /* the varied keys */
    pid_t *pid;                 /* per trial; 0: not running */
    double *t0;
    int finished, ok, failed, stopped;   /* stopped: by a signal, or never started */
};

static void trial_path(const struct runner *R, int t, const char *what, char *out, size_t n)
{
    (void)n;
    pathf(out, "%s/%s/%s-%0*d%s", R->dir, !strcmp(what, ".yaml") ? "specs" : "runs",
             R->sw->name, R->width, t + 1, what);
}

/* In the child: its own process group, so that a terminal's Ctrl-C reaches
 * only the sweep, which forwards it once (a second SIGINT would kill a run
 * before its checkpoint); stopped with SIGTERM if the sweep dies outright. */
static _Noreturn void child(const struct runner *R, char **args, int log_fd, pid_t parent,
                            const sigset_t *mask)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(EXIT_SIGTERM);
    int nul = open("/dev/null", O_RDONLY);
    if (nul > 0) {
        dup2(nul, STDIN_FILENO);
        close(nul);
    }
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (R->use_path) execvp(args[0], args);
    else execv(args[0], args);
    dprintf(STDERR_FILENO, "nnrun: error: cannot run %s: %s\n", args[0], strerror(errno));
    _exit(127);
}

static int launch(struct runner *R, int t, const sigset_t *mask)
{
    char spec[PATH_MAX], out[PATH_MAX], log[PATH_MAX];
    trial_path(R, t, ".yaml", spec, sizeof spec);
    trial_path(R, t, "", out, sizeof out);
    trial_path(R, t, ".log", log, sizeof log);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "nnrun: error: %s: %s\n", log, strerror(errno));
        return -1;
    }
    char *args[] = {R->exe, "train", spec, "--out", out, "--quiet", "--threads", R->threads,
                    R->force ? "--force" : NULL, NULL};
    const pid_t parent = getpid();
    fflush(NULL);
    const pid_t pid = fork();
    if (pid == 0) child(R, args, fd, parent, mask);
    close(fd);
    if (pid < 0) {
        fprintf(stderr, "nnrun: error: cannot start trial %d: %s\n", t + 1, strerror(errno));
        return -1;
    }
    setpgid(pid, pid);   /* as the child does: whichever runs first */
    R->pid[t] = pid;
    R->t0[t] = nn_now();
    return 0;
}

static void fmt_seconds(char *b, size_t n, double s)
{
    if (s < 60) snprintf(b, n, "%.1fs", s);
    else if (s < 3600) snprintf(b, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(b, n, "%dh%02dm", (int)s / 3600, (int)s / 60 % 60);
}

/* One line for a trial that ended: its values, then its metric or why not. */
static void finished(struct runner *R, int t, int status)
{
    const struct sweep *sw = R->sw;
    char out[PATH_MAX], log[PATH_MAX], secs[32], err[1024], why[PATH_MAX + 512];
    trial_path(R, t, "", out, sizeof out);
    trial_path(R, t, ".log", log, sizeof log);
    fmt_seconds(secs, sizeof secs, nn_now() - R->t0[t]);
    R->finished++;
    struct run_record rec;
    int ok = 0;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == EXIT_SIGINT || code == EXIT_SIGTERM) {
        R->stopped++;
        snprintf(why, sizeof why, "stopped; resume with: nnrun --resume %s", out);
    } else if (code == 0 && !collect_load(out, &rec, err, sizeof err)) {
        ok = 1;
        R->ok++;
    } else {
        R->failed++;
        if (code > 0) snprintf(why, sizeof why, "FAILED (exit %d), log: %s", code, log);
        else if (code == 0) snprintf(why, sizeof why, "FAILED (%.200s), log: %s", err, log);
        else snprintf(why, sizeof why, "FAILED (killed by signal %d), log: %s",
                      WTERMSIG(status), log);
    }
    if (R->quiet && ok) return;
    printf("[%*d/%d] %s-%0*d ", snprintf(NULL, 0, "%d", sw->n_trials), R->finished,
           sw->n_trials, sw->name, R->width, t + 1);
    for (int a = 0; a < sw->n_axes; a++)
        printf(" %s=%s", collect_short_key(R->keys, sw->n_axes, a), sw->vals[t * sw->n_axes + a]);
    if (ok) {
        const double v = rec.m[sw->metric];
        printf("  %s ", collect_metric_names[sw->metric]);
        if (isnan(v)) printf("-");
        else printf(sw->metric == CM_SECONDS ? "%.1f" : "%.4f", v);
        printf("  %s\n", secs);
        collect_record_free(&rec);
    } else {
        printf("  %s\n", why);
    }
    fflush(stdout);
}

static void reap(struct runner *R, int *running)
{
    int status;
    for (pid_t pid; (pid = waitpid(-1, &status, WNOHANG)) > 0;)
        for (int t = 0; t < R->sw->n_trials; t++)
            if (R->pid[t] == pid) {
                R->pid[t] = 0;
                (*running)--;
                finished(R, t, status);
            }
}

/* Runs the trials jobs at a time.  SIGINT, SIGTERM and SIGCHLD are blocked
 * and taken with sigwaitinfo, so a signal cannot slip in between checking
 * and waiting.  Returns the signal that stopped the sweep, or 0. */
static int run_all(struct runner *R, int jobs)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    signal(SIGCHLD, SIG_DFL);   /* an inherited SIG_IGN would reap the children for us */
    sigprocmask(SIG_BLOCK, &set, &old);
    int next = 0, running = 0, stop = 0;
    while (running || (next < R->sw->n_trials && !stop)) {
        while (!stop && running < jobs && next < R->sw->n_trials) {
            if (launch(R, next, &old)) {
                R->failed++;
                R->finished++;
            } else {
                running++;
            }
            next++;
        }
        if (!running) break;
        siginfo_t si;
        const int sig = sigwaitinfo(&set, &si);
        if (sig == SIGINT || sig == SIGTERM) {
            /* the first stops the runs at their next batch, with a
             * checkpoint; a second one ends them at once, as for one run */
            if (!stop) {
                stop = sig;
                fprintf(stderr, "nnrun: %s: stopping the %d running trial%s (no new ones "
                        "start)\n", sig == SIGINT ? "interrupted" : "terminated", running,
                        running == 1 ? "" : "s");
            }
            for (int t = 0; t < R->sw->n_trials; t++)
                if (R->pid[t]) kill(R->pid[t], sig);
        }
        reap(R, &running);
    }
    R->stopped += stop ? R->sw->n_trials - next : 0;
    return stop;
}

/* this program, for the children: /proc/self/exe, or argv[0] as given */
static void find_self(struct runner *R, const char *argv0)
{
    ssize_t k = readlink("/proc/self/exe", R->exe, sizeof R->exe - 1);
    if (k > 0) {
        R->exe[k] = '\0';
        return;
    }
    snprintf(R->exe, sizeof R->exe, "%s", argv0);
    R->use_path = !strchr(argv0, '/');
}


/* The sweep's directory with its specs, and a copy of the sweep file: a
 * directory claimed with one mkdir (base, else base-2, ...), or with
 * --force over an existing sweep, a staging directory that replaces it
 * once the specs are written, before any trial runs. */
static int make_sweep_dir(const struct cli *c, const struct sweep *sw, char **texts, int width,
                          struct cli_dir *d)
{
    char base[PATH_MAX], sub[PATH_MAX], err[PATH_MAX + 256];
    if (c->out) snprintf(base, sizeof base, "%s", c->out);
    else cli_default_dir(base, sizeof base, "sweep-", sw->name);
    cli_strip_slashes(base);
    int rc = cli_claim(d, base, c->force, CLI_DIR_SWEEP);
    if (rc) return rc;
    if (d->renamed) printf("note: %s exists; this sweep goes to %s\n", base, d->dir);
    pathf(sub, "%s/runs", d->dir);
    rc = nn_mkdirs(sub, err, sizeof err);
    pathf(sub, "%s/specs", d->dir);
    if (!rc) rc = nn_mkdirs(sub, err, sizeof err);
    if (rc) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        return EXIT_RUNTIME;
    }
    size_t len;
    uint8_t *copy = nn_read_file(sw->path, &len, err, sizeof err);
    pathf(sub, "%s/sweep.yaml", d->dir);
    if (!copy || nn_write_file_atomic(sub, copy, len, err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        free(copy);
        return EXIT_RUNTIME;
    }
    free(copy);
    pathf(sub, "%s/specs", d->dir);
    if ((rc = write_specs(sub, sw, texts, width))) return rc;
    if (cli_place(d, err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        return EXIT_RUNTIME;
    }
    return 0;
}

static int run_sweep(const struct cli *c, const struct sweep *sw, char **texts, int width,
                     const char *argv0)
{
    struct cli_dir d = {.lock_fd = -1, .old_lock_fd = -1};
    int rc = make_sweep_dir(c, sw, texts, width, &d);
    if (rc) {
        cli_release(&d);
        return rc;
    }
    const char *dir = d.dir;
    /* the sweep's directory is new, so are the trials': no --force for them */
    struct runner R = {.sw = sw, .dir = dir, .quiet = c->quiet, .width = width};
    find_self(&R, argv0);
    const int jobs = c->jobs < sw->n_trials ? c->jobs : sw->n_trials;
    const int cores = nn_cpu_count();
    snprintf(R.threads, sizeof R.threads, "%d",
             c->threads ? c->threads : cores / jobs > 1 ? cores / jobs : 1);
    R.keys = nn_xcalloc((size_t)sw->n_axes + 1, sizeof *R.keys);
    for (int a = 0; a < sw->n_axes; a++) R.keys[a] = sw->axes[a].key;
    R.pid = nn_xcalloc((size_t)sw->n_trials, sizeof *R.pid);
    R.t0 = nn_xcalloc((size_t)sw->n_trials, sizeof *R.t0);
    if (!c->quiet)
        printf("sweep %s: %d trials (%s of %s), %d at a time, %s thread%s each; in %s/\n",
               sw->name, sw->n_trials, sw->random ? "random search" : "grid", sw->base, jobs,
               R.threads, strcmp(R.threads, "1") ? "s" : "", dir);
    fflush(stdout);
    const double t0 = nn_now();
    const int stop = run_all(&R, jobs);
    char total[32];
    fmt_seconds(total, sizeof total, nn_now() - t0);

    const int ok = R.ok;
    if (ok > 0) {
        char runs[PATH_MAX], csv[PATH_MAX];
        pathf(runs, "%s/runs", dir);
        pathf(csv, "%s/sweep.csv", dir);
        const char *dirs[] = {runs};
        struct collect_opts o = {dirs, 1, R.keys, sw->n_axes, sw->metric, csv, 1};
        printf("\nleaderboard, by %s (%s first):\n", collect_metric_names[sw->metric],
               sw->metric == CM_TEST_ACCURACY || sw->metric == CM_VAL_ACCURACY ||
                       sw->metric == CM_TRAIN_ACCURACY ? "highest" : "lowest");
        rc = collect_table(&o, stdout);
    }
    printf("%d of %d trials finished in %s", ok, sw->n_trials, total);
    if (R.failed) printf("; %d failed (see their logs)", R.failed);
    if (R.stopped) printf("; %d stopped or not started", R.stopped);
    printf("%s%s%s\n", ok > 0 ? "; leaderboard in " : "", ok > 0 ? dir : "",
           ok > 0 ? "/sweep.csv" : "");
    free(R.keys);
    free(R.pid);
    free(R.t0);
    cli_release(&d);
    if (stop) return stop == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
    return R.failed || rc ? EXIT_RUNTIME : 0;
}

int cmd_sweep(int argc, char **argv, int first)
{
    struct cli c = {.cmd = "sweep"};
    if (cli_parse(argc, argv, first,
                  OPT_JOBS | OPT_EMIT | OPT_MAX_RUNS | OPT_OUT | OPT_FORCE | OPT_THREADS |
                      OPT_QUIET | OPT_SET, &c))
        return EXIT_USAGE;
    if (c.n_pos != 1) {
        fprintf(stderr, "nnrun: error: %s: nnrun sweep SWEEP.yaml [-j N] [--out DIR | "
                "--emit DIR]\n", c.n_pos ? "one sweep file at a time" : "no sweep file given");
        return EXIT_USAGE;
    }
    if (c.emit && c.out) {
        fprintf(stderr, "nnrun: error: --emit DIR only writes the specs; it does not take "
                "--out\n");
        return EXIT_USAGE;
    }
    /* paths that cannot be made are refused before anything is read */
    int rc = 0;
    if ((c.out && ((rc = cli_check_out("--out", c.out, 256, c.force, CLI_DIR_SWEEP)) ||
                   (rc = cli_check_inside("--out", c.out, c.pos[0], c.force)))) ||
        (c.emit && ((rc = cli_check_out("--emit", c.emit, 256, c.force, CLI_DIR_EMIT)) ||
                    (rc = cli_check_inside("--emit", c.emit, c.pos[0], c.force)))))
        return rc;
    struct sweep sw;
    if (parse_sweep(c.pos[0], &sw)) {
        sweep_free(&sw);
        return EXIT_USAGE;
    }
    rc = EXIT_USAGE;
    const double count = count_trials(&sw);
    if (count > c.max_runs) {
        fprintf(stderr, "%s: error: the sweep expands to %.0f runs, more than --max-runs %d; "
                "nothing was run (raise --max-runs or narrow the sweep)\n", sw.path, count,
                c.max_runs);
        goto out;
    }
    if (c.emit && !c.force && nonempty_dir(c.emit)) {
        fprintf(stderr, "nnrun: error: %s exists and is not empty; choose another directory "
                "or add --force to replace it\n", c.emit);
        goto out;
    }
    expand(&sw, (int)count);
    int width = 3;
    for (int n = sw.n_trials; n >= 1000; n /= 10) width++;
    char **texts = make_trials(&sw, &c, width);
    if (texts) {
        rc = c.emit ? emit(&c, &sw, texts, width) : run_sweep(&c, &sw, texts, width, argv[0]);
        for (int t = 0; t < sw.n_trials; t++) free(texts[t]);
        free(texts);
    }
out:
    sweep_free(&sw);
    return rc;
}
