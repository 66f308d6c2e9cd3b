/* collect.c - `nnrun collect DIR... [--sort METRIC] [--csv FILE]`: every run
 * record (a directory holding results.json) under the DIRs, as one table
 * sorted by a metric.
 *
 * The spec columns are the leaf keys of the resolved specs (spec.yaml) whose
 * values differ between the runs, named the way --set names them
 * (train.optimizer.learning_rate, model.layers.3.dense.units): the table
 * shows what was varied without being told.  `nnrun sweep` prints its
 * leaderboard through collect_table too, naming its varied keys instead.
 *
 * Finding run records, reading results.json and flattening and comparing
 * specs are here once, for `nnrun report` too (collect.h). */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "nnrun/diag.h"
#include "nnrun/spec.h"
#include "nnrun/util.h"

/* records sit at most at runs/sweep-x/runs/trial; the bound keeps a stray
 * argument such as / from walking the whole disk */
#define MAX_DEPTH 6
/* the terminal shows at most this many differing keys; the CSV has them all */
#define MAX_SHOWN_KEYS 12
#define KEY_MAX 1024

const char *const collect_metric_names[CM_COUNT] = {
    "test_accuracy", "test_loss", "val_accuracy", "val_loss", "train_loss", "train_accuracy",
    "seconds",
};

static int ascending(int m)
{
    return m != CM_TEST_ACCURACY && m != CM_VAL_ACCURACY && m != CM_TRAIN_ACCURACY;
}

int collect_metric(const char *name, char *why, size_t n)
{
    for (int i = 0; i < CM_COUNT; i++)
        if (!strcmp(name, collect_metric_names[i])) return i;
    char list[256];
    nn_join(list, sizeof list, collect_metric_names, CM_COUNT);
    const char *s = nn_suggest(name, collect_metric_names, CM_COUNT);
    snprintf(why, n, "unknown metric '%s'; expected one of: %s%s%s%s", name, list,
             s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
    return -1;
}


/* ---- finding run records ------------------------------------------------- */

void collect_paths_free(struct collect_paths *ps)
{
    for (int i = 0; i < ps->n; i++) free(ps->p[i]);
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

static void push_path(struct collect_paths *ps, const char *s)
{
    ps->p = nn_xrealloc(ps->p, (size_t)(ps->n + 1) * sizeof *ps->p);
    ps->p[ps->n++] = nn_xstrdup(s);
}

int collect_is_record(const char *dir)
{
    char p[PATH_MAX];
    struct stat st;
    return snprintf(p, sizeof p, "%s/results.json", dir) < (int)sizeof p && !stat(p, &st) &&
           S_ISREG(st.st_mode);
}

int collect_results_bad(const char *dir, char *why, size_t n)
{
    char p[PATH_MAX];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/results.json", dir) >= (int)sizeof p || lstat(p, &st))
        return 0;
    uint64_t size;
    const int fd = nn_open_regular(p, 0, &size, why, n);
    if (fd < 0) return 1;
    close(fd);
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int find(const char *dir, int depth, int max_depth, int link, struct collect_paths *out,
                struct collect_paths *left_out)
{
    if (collect_is_record(dir)) {
        push_path(out, dir);
        return 1;   /* a record's own files are not records */
    }
    if (depth >= max_depth || link) {
        if (left_out) push_path(left_out, dir);
        return 0;
    }
    /* the names first, in order, and the directory closed before going down */
    struct collect_paths names = {0};
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    for (struct dirent *e; (e = readdir(dp));)
        if (e->d_name[0] != '.') push_path(&names, e->d_name);   /* ., .. and .git */
    closedir(dp);
    if (names.n) qsort(names.p, (size_t)names.n, sizeof *names.p, by_path);
    int found = 0;
    const int here = !strcmp(dir, ".");   /* under ".", "run" rather than "./run" */
    for (int i = 0; i < names.n; i++) {
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s%s%s", here ? "" : dir, here ? "" : "/", names.p[i]) >=
            (int)sizeof p)
            continue;
        struct stat st;
        if (lstat(p, &st)) continue;
        if (S_ISDIR(st.st_mode)) found += find(p, depth + 1, max_depth, 0, out, left_out);
        else if (S_ISLNK(st.st_mode) && !stat(p, &st) && S_ISDIR(st.st_mode))
            found += find(p, depth + 1, max_depth, 1, out, left_out);
    }
    collect_paths_free(&names);
    return found;
}

int collect_find(const char *dir, int max_depth, struct collect_paths *out,
                 struct collect_paths *left_out)
{
    return find(dir, 0, max_depth, 0, out, left_out);
}

/* ---- results.json ------------------------------------------------------------ */

const struct nn_ynode *collect_get(const struct nn_ynode *root, const char *path)
{
    const struct nn_ynode *n = root;
    while (n && *path) {
        const size_t l = strcspn(path, ".");
        const struct nn_ynode *next = NULL;
        for (int i = 0; n->kind == NN_Y_MAP && i < n->n && !next; i++)
            if (!strncmp(n->keys[i], path, l) && !n->keys[i][l]) next = n->items[i];
        n = next;
        path += l + (path[l] == '.');
    }
    return n;
}

int collect_number(const struct nn_ynode *n, double *out)
{
    if (!n || n->kind != NN_Y_SCALAR || !n->str) return -1;
    if (!n->quoted && !strcmp(n->str, "null")) {   /* results.json: NaN or infinite */
        *out = NAN;
        return 0;
    }
    char *end;
    const double x = strtod(n->str, &end);
    if (end == n->str || *end) return -1;
    *out = x;
    return 0;
}

/* ---- spec.yaml ------------------------------------------------------------------ */

/* A scalar as people write it: 0.00100000005 -> 0.001 (see collect.h). */
static char *show_scalar(const struct nn_ynode *n)
{
    const char *v = n->str ? n->str : "";
    char *end;
    const double x = strtod(v, &end);
    if (!n->quoted && end != v && !*end && strpbrk(v, ".eE") && isfinite(x))
        for (int p = 1; p <= 9; p++) {
            char buf[64];
            snprintf(buf, sizeof buf, "%.*g", p, x);
            if ((float)strtod(buf, NULL) == (float)x) return nn_xstrdup(buf);
        }
    return nn_xstrdup(v);
}

static void add_leaf(struct spec_leaves *l, const char *key, char *val)
{
    l->keys = nn_xrealloc(l->keys, (size_t)(l->n + 1) * sizeof *l->keys);
    l->vals = nn_xrealloc(l->vals, (size_t)(l->n + 1) * sizeof *l->vals);
    l->keys[l->n] = nn_xstrdup(key);
    l->vals[l->n] = val;
    l->n++;
}

static int all_scalars(const struct nn_ynode *n)
{
    for (int i = 0; i < n->n; i++)
        if (n->items[i]->kind != NN_Y_SCALAR) return 0;
    return 1;
}

static void flatten(struct spec_leaves *l, const struct nn_ynode *n, char *path, size_t len)
{
    const int map = n->kind == NN_Y_MAP && n->n;
    if (map || (n->kind == NN_Y_SEQ && n->n && !all_scalars(n))) {
        for (int i = 0; i < n->n; i++) {
            int k = map ? snprintf(path + len, KEY_MAX - len, "%s%s", len ? "." : "", n->keys[i])
                        : snprintf(path + len, KEY_MAX - len, "%s%d", len ? "." : "", i);
            /* absurdly deep: left out */
            if (k >= 0 && len + (size_t)k < KEY_MAX) flatten(l, n->items[i], path, len + (size_t)k);
            path[len] = '\0';
        }
        return;
    }
    if (n->kind == NN_Y_SCALAR) {
        add_leaf(l, path, show_scalar(n));
        return;
    }
    struct cli_sb v = {0};
    cli_sb_put(&v, "%s", n->kind == NN_Y_MAP ? "{" : "[");
    for (int i = 0; i < n->n; i++) {
        char *s = show_scalar(n->items[i]);
        cli_sb_put(&v, "%s%s", i ? ", " : "", s);
        free(s);
    }
    cli_sb_put(&v, "%s", n->kind == NN_Y_MAP ? "}" : "]");
    add_leaf(l, path, v.p);
}

void collect_flatten_spec(const struct nn_ynode *spec, struct spec_leaves *out)
{
    char key[KEY_MAX] = "";
    memset(out, 0, sizeof *out);
    if (spec) flatten(out, spec, key, 0);
}

struct nn_ynode *collect_parse_file(const char *path, size_t max, struct nn_diag *d)
{
    size_t len;
    char why[256];
    char *text = (char *)nn_read_file_max(path, max, &len, why, sizeof why);
    if (!text) {
        nn_diag_error(d, (struct nn_mark){0, 0, 0}, "%s", why);
        return NULL;
    }
    struct nn_ynode *root = nn_yaml_parse_string(text, len, d);
    free(text);
    return root;
}

int collect_read_spec(const char *path, struct spec_leaves *out, FILE *errors)
{
    struct nn_diag d;
    nn_diag_init(&d, path);
    struct nn_ynode *spec = collect_parse_file(path, NN_SPEC_FILE_MAX, &d);
    if (errors) nn_diag_print(&d, errors);
    nn_diag_free(&d);
    collect_flatten_spec(spec, out);
    nn_ynode_free(spec);
    return spec ? 0 : -1;
}

void collect_leaves_free(struct spec_leaves *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->keys[i]);
        free(l->vals[i]);
    }
    free(l->keys);
    free(l->vals);
    memset(l, 0, sizeof *l);
}

/* collect_spec_value, looking at leaf hint first: specs mostly line up */
static const char *value_at(const struct spec_leaves *l, const char *key, int hint)
{
    if (hint >= 0 && hint < l->n && !strcmp(l->keys[hint], key)) return l->vals[hint];
    const size_t n = strlen(key);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < l->n; i++) {
            const char *k = l->keys[i];
            if (!strncmp(k, key, n) && (pass ? !strcmp(k + n, ".name") : !k[n])) return l->vals[i];
        }
    return NULL;
}

const char *collect_spec_value(const struct spec_leaves *l, const char *key)
{
    return value_at(l, key, -1);
}

static int has_key(const struct spec_leaves *l, const char *key, int hint)
{
    if (hint < l->n && !strcmp(l->keys[hint], key)) return 1;
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->keys[i], key)) return 1;
    return 0;
}

int collect_differing_keys(const struct spec_leaves *const *specs, int n, const char ***out)
{
    const char **keys = NULL;
    int n_keys = 0;
    for (int pass = 0; pass < 2; pass++)   /* 0: the keys every spec has */
        for (int i = 0; i < n; i++)
            for (int l = 0; l < specs[i]->n; l++) {
                const char *k = specs[i]->keys[l];
                if (!strcmp(k, "name")) continue;
                int seen = 0;   /* already considered */
                for (int j = 0; j < i && !seen; j++) seen = has_key(specs[j], k, l);
                if (seen) continue;
                int differs = 0, missing = 0;
                for (int j = 0; j < n; j++) {
                    if (!specs[j]->n) continue;
                    const char *v = value_at(specs[j], k, l);
                    missing |= !v;
                    differs |= !v || strcmp(v, specs[i]->vals[l]);
                }
                if (!differs || missing != pass) continue;
                keys = nn_xrealloc(keys, (size_t)(n_keys + 1) * sizeof *keys);
                keys[n_keys++] = k;
            }
    *out = keys;
    return n_keys;
}

/* ---- one record ------------------------------------------------------------ */

static double num_at(const struct nn_ynode *root, const char *path)
{
    double x;
    return collect_number(collect_get(root, path), &x) ? NAN : x;
}

int collect_load(const char *dir, struct run_record *r, char *err, size_t n_err)
{
    memset(r, 0, sizeof *r);
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/results.json", dir) >= sizeof path) {
        snprintf(err, n_err, "%.200s...: the path is too long", dir);
        return -1;
    }
    struct nn_diag d;
    nn_diag_init(&d, path);
    /* JSON is YAML's flow syntax */
    struct nn_ynode *res = collect_parse_file(path, NN_RESULTS_FILE_MAX, &d);
    if (!res || res->kind != NN_Y_MAP) {
        if (d.n_errors) snprintf(err, n_err, "%s", d.msgs[0]);
        else snprintf(err, n_err, "%s: not a JSON object", path);
        nn_ynode_free(res);
        nn_diag_free(&d);
        return -1;
    }
    r->dir = nn_xstrdup(dir);
    const struct nn_ynode *name = collect_get(res, "name");
    r->name = nn_xstrdup(name && name->kind == NN_Y_SCALAR ? name->str : "?");
    double seed = num_at(res, "seed"), epochs = num_at(res, "epochs_run");
    r->seed = isnan(seed) ? -1 : (long long)seed;
    r->epochs_run = isnan(epochs) ? 0 : (int)epochs;
    r->m[CM_TEST_ACCURACY] = num_at(res, "test.accuracy");
    r->m[CM_TEST_LOSS] = num_at(res, "test.loss");
    r->m[CM_VAL_ACCURACY] = num_at(res, "validation.accuracy");
    r->m[CM_VAL_LOSS] = num_at(res, "validation.loss");
    r->m[CM_TRAIN_ACCURACY] = num_at(res, "train.accuracy");
    r->m[CM_TRAIN_LOSS] = num_at(res, "train.loss");
    r->m[CM_SECONDS] = num_at(res, "seconds.train") + num_at(res, "seconds.test");
    nn_ynode_free(res);
    nn_diag_free(&d);

    /* the spec is optional: without it the record just has no spec columns */
    snprintf(path, sizeof path, "%s/spec.yaml", dir);
    collect_read_spec(path, &r->spec, NULL);
    return 0;
}

void collect_record_free(struct run_record *r)
{
    collect_leaves_free(&r->spec);
    free(r->dir);
    free(r->name);
    memset(r, 0, sizeof *r);
}

const char *collect_short_key(const char *const *keys, int n, int i)
{
    const char *k = keys[i];
    for (const char *s = k + strlen(k); s > k; s--) {
        if (s[-1] != '.') continue;
        int unique = 1;
        for (int j = 0; j < n && unique; j++) {
            size_t lj = strlen(keys[j]), ls = strlen(s);
            if (j != i && lj >= ls && !strcmp(keys[j] + lj - ls, s) &&
                (lj == ls || keys[j][lj - ls - 1] == '.'))
                unique = 0;
        }
        if (unique) return s;
    }
    return k;
}

/* ---- ordering records ------------------------------------------------------ */

static int sort_metric;   /* qsort has no context argument */

/* -1 when x is better than y by metric m, 1 when worse, 0 when equal;
 * a missing value is worse than any */
static int compare(const struct run_record *x, const struct run_record *y, int m)
{
    const double u = x->m[m], v = y->m[m];
    if (isnan(u) != isnan(v)) return isnan(u) ? 1 : -1;
    if (isnan(u) || u == v) return 0;
    return (u < v) == ascending(m) ? -1 : 1;
}

/* best first by the metric; equal accuracies (common on small test sets) by
 * the matching loss; then by directory, so the order is always the same */
static int by_metric(const void *a, const void *b)
{
    const struct run_record *x = a, *y = b;
    static const int loss_of[CM_COUNT] = {
        [CM_TEST_ACCURACY] = CM_TEST_LOSS, [CM_VAL_ACCURACY] = CM_VAL_LOSS,
        [CM_TRAIN_ACCURACY] = CM_TRAIN_LOSS, [CM_TEST_LOSS] = CM_TEST_LOSS,
        [CM_VAL_LOSS] = CM_VAL_LOSS, [CM_TRAIN_LOSS] = CM_TRAIN_LOSS, [CM_SECONDS] = CM_SECONDS};
    int c = compare(x, y, sort_metric);
    if (!c) c = compare(x, y, loss_of[sort_metric]);
    return c ? c : strcmp(x->dir, y->dir);
}

/* a spec value in a cell: empty when the record lacks the key */
static const char *spec_text(const struct run_record *x, const char *key)
{
    const char *v = collect_spec_value(&x->spec, key);
    return v ? v : "";
}

/* The keys that differ, bar seed: it has a column of its own (and name). */
static int differing_keys(const struct run_record *rs, int n, const char ***out)
{
    const struct spec_leaves **specs = nn_xcalloc((size_t)n + 1, sizeof *specs);
    for (int i = 0; i < n; i++) specs[i] = &rs[i].spec;
    int n_keys = collect_differing_keys(specs, n, out), k = 0;
    for (int i = 0; i < n_keys; i++)
        if (strcmp((*out)[i], "seed")) (*out)[k++] = (*out)[i];
    free(specs);
    return k;
}

/* ---- output ---------------------------------------------------------------- */

struct table {
    int rows, cols;             /* rows include the header */
    char **cell;                /* rows * cols */
    int *right;                 /* numbers are right-aligned */
};

static void put_cell(struct table *t, int row, int col, int right, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void put_cell(struct table *t, int row, int col, int right, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    t->cell[row * t->cols + col] = nn_xstrdup(buf);
    if (row) t->right[col] = right;
}

static void put_num(struct table *t, int row, int col, const char *fmt, double v)
{
    if (isnan(v)) put_cell(t, row, col, 1, "-");
    else put_cell(t, row, col, 1, fmt, v);
}

static void print_table(const struct table *t, FILE *f)
{
    size_t *w = nn_xcalloc((size_t)t->cols, sizeof *w);
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < t->cols; c++) {
            size_t l = strlen(t->cell[r * t->cols + c]);
            if (l > w[c]) w[c] = l;
        }
    for (int r = 0; r < t->rows; r++) {
        for (int c = 0; c < t->cols; c++) {
            const char *s = t->cell[r * t->cols + c];
            const int last = c == t->cols - 1;
            if (t->right[c]) fprintf(f, "%*s%s", (int)w[c], s, last ? "" : "  ");
            else if (last) fputs(s, f);
            else fprintf(f, "%-*s  ", (int)w[c], s);
        }
        fputc('\n', f);
    }
    free(w);
}

static void table_free(struct table *t)
{
    for (int i = 0; i < t->rows * t->cols; i++) free(t->cell[i]);
    free(t->cell);
    free(t->right);
}

/* The terminal table: rank, the run (or the sweep's trial), the keys, the
 * metrics the records have, epochs and seconds. */
static void show(const struct collect_opts *o, const struct run_record *rs, int n,
                 const char *const *keys, int n_keys, FILE *f)
{
    int has_val = 0;
    for (int i = 0; i < n; i++) has_val |= !isnan(rs[i].m[CM_VAL_ACCURACY]);
    const int train_col = o->metric == CM_TRAIN_LOSS || o->metric == CM_TRAIN_ACCURACY;
    const int shown = n_keys > MAX_SHOWN_KEYS && !o->keys ? MAX_SHOWN_KEYS : n_keys;
    struct table t = {n + 1, 1 + (o->sweep ? 1 : 3) + shown + 2 + 2 * has_val + train_col + 2,
                      NULL, NULL};
    t.cell = nn_xcalloc((size_t)(t.rows * t.cols), sizeof *t.cell);
    t.right = nn_xcalloc((size_t)t.cols, sizeof *t.right);
    for (int r = 0; r <= n; r++) {
        const struct run_record *x = r ? &rs[r - 1] : NULL;
        int c = 0;
        if (x) put_cell(&t, r, c++, 1, "%d", r);
        else put_cell(&t, r, c++, 1, "rank");
        if (!o->sweep) {
            put_cell(&t, r, c++, 0, "%s", x ? x->dir : "run");
            put_cell(&t, r, c++, 0, "%s", x ? x->name : "name");
            if (x && x->seed >= 0) put_cell(&t, r, c++, 1, "%lld", x->seed);
            else put_cell(&t, r, c++, 1, "%s", x ? "-" : "seed");
        } else {
            put_cell(&t, r, c++, 0, "%s", x ? x->name : "trial");
        }
        for (int k = 0; k < shown; k++)
            put_cell(&t, r, c++, 0, "%s",
                     x ? spec_text(x, keys[k])
                       : collect_short_key(keys, n_keys, k));
        static const struct { int m; const char *head, *fmt; } cols[] = {
            {CM_TEST_ACCURACY, "test_acc", "%.4f"}, {CM_TEST_LOSS, "test_loss", "%.4f"},
            {CM_VAL_ACCURACY, "val_acc", "%.4f"},   {CM_VAL_LOSS, "val_loss", "%.4f"},
            {CM_TRAIN_ACCURACY, "train_acc", "%.4f"}, {CM_TRAIN_LOSS, "train_loss", "%.4f"},
        };
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            const int m = cols[k].m;
            if (((m == CM_VAL_ACCURACY || m == CM_VAL_LOSS) && !has_val) ||
                ((m == CM_TRAIN_ACCURACY || m == CM_TRAIN_LOSS) && (!train_col || m != o->metric)))
                continue;
            if (x) put_num(&t, r, c++, cols[k].fmt, x->m[m]);
            else put_cell(&t, r, c++, 1, "%s", cols[k].head);
        }
        if (x) put_cell(&t, r, c++, 1, "%d", x->epochs_run);
        else put_cell(&t, r, c++, 1, "epochs");
        if (x) put_num(&t, r, c++, "%.1f", x->m[CM_SECONDS]);
        else put_cell(&t, r, c++, 1, "seconds");
        NN_ASSERT(c == t.cols);
    }
    print_table(&t, f);
    table_free(&t);
    if (shown < n_keys)
        fprintf(f, "(%d more spec keys differ between the runs; --csv FILE has them all)\n",
                n_keys - shown);
}


/* The CSV: the same rows with every key and every metric, full keys as the
 * header, numbers as results.json has them (6 decimals), empty when absent. */
static int write_csv(const char *path, const struct run_record *rs, int n,
                     const char *const *keys, int n_keys)
{
    struct cli_sb b = {0};
    cli_sb_put(&b, "rank,run,name,seed");
    for (int k = 0; k < n_keys; k++) cli_csv_field(&b, keys[k]);
    cli_sb_put(&b, ",test_accuracy,test_loss,val_accuracy,val_loss,train_accuracy,train_loss,"
               "epochs_run,seconds\n");
    static const int order[] = {CM_TEST_ACCURACY, CM_TEST_LOSS, CM_VAL_ACCURACY, CM_VAL_LOSS,
                                CM_TRAIN_ACCURACY, CM_TRAIN_LOSS};
    for (int i = 0; i < n; i++) {
        const struct run_record *x = &rs[i];
        cli_sb_put(&b, "%d", i + 1);
        cli_csv_field(&b, x->dir);
        cli_csv_field(&b, x->name);
        if (x->seed >= 0) cli_sb_put(&b, ",%lld", x->seed);
        else cli_sb_put(&b, ",");
        for (int k = 0; k < n_keys; k++)
            cli_csv_field(&b, spec_text(x, keys[k]));
        for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
            if (isnan(x->m[order[k]])) cli_sb_put(&b, ",");
            else cli_sb_put(&b, ",%.6f", x->m[order[k]]);
        cli_sb_put(&b, ",%d,", x->epochs_run);
        if (!isnan(x->m[CM_SECONDS])) cli_sb_put(&b, "%.3f", x->m[CM_SECONDS]);
        cli_sb_put(&b, "\n");
    }
    char err[1024];
    int rc = nn_write_file_atomic(path, b.p, b.n, err, sizeof err);
    if (rc) fprintf(stderr, "nnrun: error: %s\n", err);
    free(b.p);
    return rc;
}

/* The directories' run records, found and loaded; unreadable ones are
 * skipped with a warning (a run still writing its results, say).  -1 when
 * an argument is not a directory. */
static int load_all(const struct collect_opts *o, struct run_record **out, int *n_out)
{
    struct collect_paths ps = {0};
    for (int i = 0; i < o->n_dirs; i++) {
        char top[PATH_MAX];
        if ((size_t)snprintf(top, sizeof top, "%s", o->dirs[i]) >= sizeof top) {
            fprintf(stderr, "nnrun: error: %.200s...: the path is %zu bytes long; the system "
                    "allows %d\n", o->dirs[i], strlen(o->dirs[i]), PATH_MAX - 1);
            collect_paths_free(&ps);
            return -1;
        }
        for (size_t l = strlen(top); l > 1 && top[l - 1] == '/'; l--) top[l - 1] = '\0';
        struct stat st;
        if (stat(top, &st) || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "nnrun: error: %s: %s\n", top,
                    stat(top, &st) ? "no such directory" : "not a directory");
            collect_paths_free(&ps);
            return -1;
        }
        char why[256];
        if (collect_results_bad(top, why, sizeof why))   /* a record, damaged: said once */
            fprintf(stderr, "nnrun: warning: skipping %s: %s/results.json: %s\n", top, top, why);
        else
            collect_find(top, MAX_DEPTH, &ps, NULL);
    }
    if (ps.n) qsort(ps.p, (size_t)ps.n, sizeof *ps.p, by_path);   /* ps.p is NULL without */
    struct run_record *rs = nn_xcalloc((size_t)ps.n + 1, sizeof *rs);
    char **real = nn_xcalloc((size_t)ps.n + 1, sizeof *real);
    int n = 0;
    for (int i = 0; i < ps.n; i++) {
        char err[1024];
        /* a record found twice (collect runs runs/x, or . and runs) counts once */
        real[i] = realpath(ps.p[i], NULL);
        int dup = 0;
        for (int k = 0; k < i && real[i] && !dup; k++) dup = real[k] && !strcmp(real[k], real[i]);
        if (dup) continue;
        if (collect_load(ps.p[i], &rs[n], err, sizeof err))
            fprintf(stderr, "nnrun: warning: skipping %s: %s\n", ps.p[i], err);
        else
            n++;
    }
    for (int k = 0; k < ps.n; k++) free(real[k]);
    free(real);
    collect_paths_free(&ps);
    *out = rs;
    *n_out = n;
    return 0;
}

int collect_table(const struct collect_opts *o, FILE *f)
{
    struct run_record *rs;
    int n;
    if (load_all(o, &rs, &n)) return EXIT_USAGE;
    if (!n) {
        fprintf(stderr, "nnrun: error: no run records (directories with results.json) under");
        for (int i = 0; i < o->n_dirs; i++) fprintf(stderr, " %s", o->dirs[i]);
        fprintf(stderr, "\n");
        free(rs);
        return EXIT_RUNTIME;
    }
    sort_metric = o->metric;
    qsort(rs, (size_t)n, sizeof *rs, by_metric);
    const char **diff = NULL;
    const int n_keys = o->keys ? o->n_keys : differing_keys(rs, n, &diff);
    const char *const *keys = o->keys ? o->keys : diff;
    show(o, rs, n, keys, n_keys, f);
    int rc = o->csv && write_csv(o->csv, rs, n, keys, n_keys) ? EXIT_RUNTIME : 0;
    free(diff);   /* it points into the records' keys */
    for (int i = 0; i < n; i++) collect_record_free(&rs[i]);
    free(rs);
    return rc;
}

int cmd_collect(int argc, char **argv, int first)
{
    struct cli c = {.cmd = "collect"};
    if (cli_parse(argc, argv, first, OPT_SORT | OPT_CSV, &c)) return EXIT_USAGE;
    if (!c.n_pos) {
        fprintf(stderr, "nnrun: error: no directory given: nnrun collect DIR... "
                "[--sort METRIC] [--csv FILE]\n");
        return EXIT_USAGE;
    }
    char why[512];
    const int metric = collect_metric(c.sort ? c.sort : "test_accuracy", why, sizeof why);
    if (metric < 0) {
        fprintf(stderr, "nnrun: error: --sort %s: %s\n", c.sort, why);
        return EXIT_USAGE;
    }
    struct collect_opts o = {c.pos, c.n_pos, NULL, 0, metric, c.csv, 0};
    const int rc = collect_table(&o, stdout);
    if (!rc) printf("sorted by %s, %s first%s%s\n", collect_metric_names[metric],
                    ascending(metric) ? "lowest" : "highest", c.csv ? "; also in " : "",
                    c.csv ? c.csv : "");
    return rc;
}
