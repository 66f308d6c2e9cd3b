/* report.c - `nnrun report RUN_DIR... [-o FILE]`: one self-contained HTML
 * page about one or more run records (or a sweep directory): facts, final
 * metrics, training curves, confusion matrix, per-class accuracy and, for
 * several runs, a comparison table and charts.  Inline CSS, inline SVG drawn
 * here; no script, no network, no external font.  Every text taken from a
 * file is HTML-escaped. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "nnrun/spec.h"
#include "nnrun/util.h"

/* ---- one run record ------------------------------------------------------ */

struct run {
    char *dir, *label;
    char *name, *version, *spec_hash, *seed;
    double threads, params, n_train, n_val, n_test, epochs, epochs_run, best_epoch;
    int stopped_early, has_val;
    double tr[3], va[3], te[3];         /* loss, accuracy, mse (NAN: absent) */
    double sec_train, sec_test;
    int n_classes;
    char **classes;
    double *pca;                        /* per-class accuracy */
    double *conf;                       /* [true][predicted] */
    /* metrics.csv */
    int n_ep;
    double *ep, *loss, *acc, *ev_loss, *ev_acc;
    const char *eval_name;              /* "val" or "test" */
    struct spec_leaves spec;            /* spec.yaml, flattened */
};

static void run_free(struct run *r)
{
    free(r->dir);
    free(r->label);
    free(r->name);
    free(r->version);
    free(r->spec_hash);
    free(r->seed);
    for (int k = 0; k < r->n_classes && r->classes; k++) free(r->classes[k]);
    free(r->classes);
    free(r->pca);
    free(r->conf);
    free(r->ep);
    free(r->loss);
    free(r->acc);
    free(r->ev_loss);
    free(r->ev_acc);
    collect_leaves_free(&r->spec);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

struct jctx {
    const char *file;
    const struct nn_ynode *root;
    int bad;
};

static double jnum(struct jctx *j, const char *path, int required)
{
    double x = NAN;
    const struct nn_ynode *n = collect_get(j->root, path);
    if ((n || required) && collect_number(n, &x)) {
        if (!j->bad)
            fprintf(stderr, "nnrun: error: %s: '%s' is %s\n", j->file, path,
                    n ? "not a number" : "missing");
        j->bad = 1;
        return NAN;
    }
    return x;
}

static char *jstr(struct jctx *j, const char *path, const char *dflt)
{
    const struct nn_ynode *n = collect_get(j->root, path);
    if (n && n->kind == NN_Y_SCALAR && n->str) return nn_xstrdup(n->str);
    if (n && !j->bad) {
        fprintf(stderr, "nnrun: error: %s: '%s' is not a string\n", j->file, path);
        j->bad = 1;
    }
    return nn_xstrdup(dflt);
}

static int read_results(struct run *r, const char *path)
{
    struct nn_diag d;
    nn_diag_init(&d, path);
    struct nn_ynode *root = collect_parse_file(path, NN_RESULTS_FILE_MAX, &d);
    nn_diag_print(&d, stderr);
    nn_diag_free(&d);
    if (!root) return EXIT_RUNTIME;
    struct jctx j = {path, root, 0};
    if (root->kind != NN_Y_MAP) {
        fprintf(stderr, "nnrun: error: %s: not a JSON object\n", path);
        nn_ynode_free(root);
        return EXIT_RUNTIME;
    }
    r->name = jstr(&j, "name", "");
    if (!collect_get(root, "name") && !j.bad) {
        fprintf(stderr, "nnrun: error: %s: 'name' is missing\n", path);
        j.bad = 1;
    }
    r->version = jstr(&j, "nnrun_version", "?");
    r->spec_hash = jstr(&j, "spec_hash", "");
    jnum(&j, "seed", 0);   /* checked; shown as written (up to 2^62) */
    r->seed = jstr(&j, "seed", "n/a");
    r->threads = jnum(&j, "threads", 0);
    r->params = jnum(&j, "params", 0);
    r->n_train = jnum(&j, "train_samples", 0);
    r->n_val = jnum(&j, "validation_samples", 0);
    r->n_test = jnum(&j, "test_samples", 0);
    r->epochs = jnum(&j, "epochs", 0);
    r->epochs_run = jnum(&j, "epochs_run", 1);
    r->best_epoch = jnum(&j, "best_epoch", 0);
    const struct nn_ynode *se = collect_get(root, "stopped_early");
    r->stopped_early = se && se->kind == NN_Y_SCALAR && se->str && !strcmp(se->str, "true");
    static const char *const m[3] = {"loss", "accuracy", "mse"};
    char key[64];
    r->has_val = collect_get(root, "validation") != NULL;
    for (int k = 0; k < 3; k++) {
        snprintf(key, sizeof key, "train.%s", m[k]);
        r->tr[k] = jnum(&j, key, 0);
        snprintf(key, sizeof key, "validation.%s", m[k]);
        r->va[k] = jnum(&j, key, 0);
        snprintf(key, sizeof key, "test.%s", m[k]);
        r->te[k] = jnum(&j, key, k < 2);
    }
    r->sec_train = jnum(&j, "seconds.train", 0);
    r->sec_test = jnum(&j, "seconds.test", 0);

    /* classes, per-class accuracy, confusion: all three or none */
    const struct nn_ynode *cl = collect_get(root, "classes"),
                          *pc = collect_get(root, "per_class_accuracy"),
                          *cf = collect_get(root, "confusion");
    if (!j.bad && cl) {
        const char *why = NULL;
        int C = cl->kind == NN_Y_SEQ ? cl->n : -1;
        if (C < 1 || C > 1000) why = "'classes' is not a list of 1 to 1000 names";
        for (int k = 0; !why && k < C; k++)
            if (cl->items[k]->kind != NN_Y_SCALAR) why = "'classes' holds a non-string";
        if (!why && (!pc || pc->kind != NN_Y_SEQ || pc->n != C))
            why = "'per_class_accuracy' is not a list as long as 'classes'";
        if (!why && (!cf || cf->kind != NN_Y_SEQ || cf->n != C))
            why = "'confusion' does not have one row per class";
        if (!why) {
            r->n_classes = C;
            r->classes = nn_xcalloc((size_t)C, sizeof *r->classes);
            r->pca = nn_xcalloc((size_t)C, sizeof *r->pca);
            r->conf = nn_xcalloc((size_t)C * (size_t)C, sizeof *r->conf);
            for (int k = 0; k < C; k++) r->classes[k] = nn_xstrdup(cl->items[k]->str);
            for (int k = 0; !why && k < C; k++)
                if (collect_number(pc->items[k], &r->pca[k]))
                    why = "'per_class_accuracy' holds a non-number";
            for (int t = 0; !why && t < C; t++) {
                const struct nn_ynode *row = cf->items[t];
                if (row->kind != NN_Y_SEQ || row->n != C) {
                    why = "a 'confusion' row does not have one count per class";
                    break;
                }
                for (int p = 0; !why && p < C; p++)
                    if (collect_number(row->items[p], &r->conf[t * C + p]) ||
                        !(r->conf[t * C + p] >= 0))
                        why = "'confusion' holds something other than a count";
            }
        }
        if (why) {
            fprintf(stderr, "nnrun: error: %s: %s\n", path, why);
            j.bad = 1;
        }
    }
    nn_ynode_free(root);
    return j.bad ? EXIT_RUNTIME : 0;
}

/* The line at *p, its '\n' (or "\r\n") cut off, *p moved past it; NULL at
 * end, or (with the message printed and *status set) when it is longer
 * than NN_METRICS_LINE_MAX. */
static char *next_line(char **p, char *end, int *line_no, const char *path, int *status)
{
    char *s = *p;
    if (s >= end) return NULL;
    char *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl) nl = end;
    ++*line_no;
    if (nl - s > NN_METRICS_LINE_MAX) {
        fprintf(stderr, "nnrun: error: %s:%d: a line longer than %d bytes\n", path, *line_no,
                NN_METRICS_LINE_MAX);
        *status = EXIT_RUNTIME;
        return NULL;
    }
    *nl = '\0';   /* end itself is the text's terminating NUL */
    if (nl > s && nl[-1] == '\r') nl[-1] = '\0';
    *p = nl + 1;
    return s;
}

/* metrics.csv: epoch,loss,accuracy,mse,P_loss,P_accuracy,P_mse,seconds[,lr].
 * Bounded: a regular file of at most NN_METRICS_FILE_MAX bytes, lines of at
 * most NN_METRICS_LINE_MAX bytes, at most NN_METRICS_ROWS_MAX rows, no NUL. */
static int read_metrics(struct run *r, const char *path)
{
    size_t len;
    char why[256];
    char *text = (char *)nn_read_file_max(path, NN_METRICS_FILE_MAX, &len, why, sizeof why);
    if (!text) {
        fprintf(stderr, "nnrun: error: %s: %s\n", path, why);
        return EXIT_RUNTIME;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        fprintf(stderr, "nnrun: error: %s: a NUL byte at offset %zu: not a text file\n", path,
                (size_t)(nul - text));
        free(text);
        return EXIT_RUNTIME;
    }
    int status = 0, cols = 0, line_no = 0;
    int c_epoch = -1, c_loss = -1, c_acc = -1, c_eloss = -1, c_eacc = -1;
    char *p = text, *const end = text + len;
    char *line = next_line(&p, end, &line_no, path, &status);
    if (!line) {
        if (!status) fprintf(stderr, "nnrun: error: %s: empty: no header line\n", path);
        free(text);
        return EXIT_RUNTIME;
    }
    {
        char *hs = NULL;
        for (char *h = strtok_r(line, ",", &hs); h; h = strtok_r(NULL, ",", &hs), cols++) {
            if (!strcmp(h, "epoch")) c_epoch = cols;
            else if (!strcmp(h, "loss")) c_loss = cols;
            else if (!strcmp(h, "accuracy")) c_acc = cols;
            else if (!strcmp(h, "val_loss") || !strcmp(h, "test_loss")) {
                c_eloss = cols;
                r->eval_name = h[0] == 'v' ? "val" : "test";
            } else if (!strcmp(h, "val_accuracy") || !strcmp(h, "test_accuracy")) c_eacc = cols;
        }
    }
    if (c_epoch < 0 || c_loss < 0 || c_acc < 0 || c_eloss < 0 || c_eacc < 0 || cols > 64) {
        fprintf(stderr, "nnrun: error: %s:1: the header is not 'epoch,loss,accuracy,mse,"
                "val_loss|test_loss,val_accuracy|test_accuracy,...'\n", path);
        free(text);
        return EXIT_RUNTIME;
    }
    int cap = 0;
    double v[64];
    for (;;) {
        if (!(line = next_line(&p, end, &line_no, path, &status))) break;
        if (!*line) continue;
        if (r->n_ep >= NN_METRICS_ROWS_MAX) {
            fprintf(stderr, "nnrun: error: %s:%d: more than %d rows (train.epochs is at most "
                    "%d)\n", path, line_no, NN_METRICS_ROWS_MAX, NN_METRICS_ROWS_MAX);
            status = EXIT_RUNTIME;
            break;
        }
        int n = 0;
        char *q = line;
        for (;;) {
            char *e;
            double x = strtod(q, &e);
            if (e == q || (*e && *e != ',') || n == 64) {
                n = -1;
                break;
            }
            v[n++] = x;
            if (!*e) break;
            q = e + 1;
        }
        if (n != cols) {
            fprintf(stderr, "nnrun: error: %s:%d: expected %d comma-separated numbers\n", path,
                    line_no, cols);
            status = EXIT_RUNTIME;
            break;
        }
        if (r->n_ep == cap) {
            cap = cap ? 2 * cap : 16;
            r->ep = nn_xrealloc(r->ep, (size_t)cap * sizeof *r->ep);
            r->loss = nn_xrealloc(r->loss, (size_t)cap * sizeof *r->loss);
            r->acc = nn_xrealloc(r->acc, (size_t)cap * sizeof *r->acc);
            r->ev_loss = nn_xrealloc(r->ev_loss, (size_t)cap * sizeof *r->ev_loss);
            r->ev_acc = nn_xrealloc(r->ev_acc, (size_t)cap * sizeof *r->ev_acc);
        }
        r->ep[r->n_ep] = v[c_epoch];
        r->loss[r->n_ep] = v[c_loss];
        r->acc[r->n_ep] = v[c_acc];
        r->ev_loss[r->n_ep] = v[c_eloss];
        r->ev_acc[r->n_ep] = v[c_eacc];
        r->n_ep++;
    }
    free(text);
    return status;
}

static int load_run(struct run *r, const char *dir)
{
    char p[PATH_MAX + 32];
    memset(r, 0, sizeof *r);
    r->dir = nn_xstrdup(dir);
    snprintf(p, sizeof p, "%s/results.json", dir);
    int st = read_results(r, p);
    snprintf(p, sizeof p, "%s/metrics.csv", dir);
    if (!st) st = read_metrics(r, p);
    snprintf(p, sizeof p, "%s/spec.yaml", dir);
    if (!st && collect_read_spec(p, &r->spec, stderr)) st = EXIT_RUNTIME;
    return st;
}

/* ---- finding the run records ---------------------------------------------- */

struct runs {
    struct run *v;
    int n;
    struct collect_paths dirs;
};

/* the run records directly under dir; count of them */
static int scan_dir(struct runs *rs, const char *dir)
{
    struct collect_paths left = {0};
    const int found = collect_find(dir, 1, &rs->dirs, &left);
    for (int i = 0; i < left.n; i++) {
        const char *base = strrchr(left.p[i], '/');
        base = base ? base + 1 : left.p[i];
        char why[256];
        if (collect_results_bad(left.p[i], why, sizeof why))
            fprintf(stderr, "nnrun: note: %s/results.json: %s; left out\n", left.p[i], why);
        else if (strcmp(base, "specs") && strcmp(base, "runs"))
            fprintf(stderr, "nnrun: note: %s: no results.json, left out\n", left.p[i]);
    }
    collect_paths_free(&left);
    return found;
}

static int find_runs(struct runs *rs, const char *arg)
{
    char dir[PATH_MAX];
    size_t l = strlen(arg);
    while (l > 1 && arg[l - 1] == '/') l--;   /* "runs/x/" -> "runs/x" */
    if (l >= sizeof dir) {
        fprintf(stderr, "nnrun: error: %s: path too long\n", arg);
        return EXIT_USAGE;
    }
    memcpy(dir, arg, l);
    dir[l] = '\0';
    if (!is_dir(dir)) {
        fprintf(stderr, "nnrun: error: %s: %s\n", dir,
                access(dir, F_OK) ? strerror(errno) : "not a directory");
        return EXIT_USAGE;
    }
    char why[256];
    if (collect_results_bad(dir, why, sizeof why)) {   /* a record, damaged (as collect says) */
        fprintf(stderr, "nnrun: error: %s/results.json: %s (not a run record)\n", dir, why);
        return EXIT_RUNTIME;
    }
    if (collect_find(dir, 0, &rs->dirs, NULL)) return 0;   /* a run record itself */
    char sub[PATH_MAX + 8];
    snprintf(sub, sizeof sub, "%s/runs", dir);
    int found = is_dir(sub) ? scan_dir(rs, sub) : 0;
    if (!found) found = scan_dir(rs, dir);
    if (!found) {
        fprintf(stderr, "nnrun: error: %s: no results.json (not a run record)\n", dir);
        return EXIT_USAGE;
    }
    return 0;
}

/* ---- HTML and SVG --------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n') fputc('?', f);
            else fputc(*s, f);
        }
    }
}

/* at most max bytes of s, cut at a character boundary, with "..." */
static void esc_short(FILE *f, const char *s, size_t max)
{
    size_t l = strlen(s);
    if (l <= max) {
        esc(f, s);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    char *t = nn_xmalloc(max + 4);
    memcpy(t, s, max);
    memcpy(t + max, "...", 4);
    esc(f, t);
    free(t);
}

/* display width of a label in pixels at 12px, roughly */
static double text_w(const char *s, size_t max)
{
    size_t n = 0;
    for (; *s && n < max; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return 7.0 * (double)n;
}

static const char *const palette[10] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                        "#b07aa1", "#edc948", "#ff9da7", "#9c755f", "#79706e"};

static double nice_step(double span, int target)
{
    if (!(span > 0) || !isfinite(span)) return 1;
    double raw = span / target, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
}

static int step_decimals(double step)
{
    int d = (int)ceil(-log10(step) - 1e-9);
    if (fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6) d++;   /* 2.5 */
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

static void fmt_pct(char *b, size_t n, double v)
{
    if (isfinite(v)) snprintf(b, n, "%.2f%%", 100 * v);
    else snprintf(b, n, "n/a");
}

struct series {
    const char *label;
    const double *x, *y;
    int n;
    const char *color;
    int dashed;
};

/* A line chart of y against epoch.  percent: y in [0, 1], shown as %. */
static void line_chart(FILE *f, const char *aria, const char *title, const char *ylabel,
                       int percent, const struct series *s, int ns, double mark_x)
{
    const int side_legend = ns > 2;
    double legend_w = 0;
    for (int i = 0; side_legend && i < ns; i++)
        if (text_w(s[i].label, 24) > legend_w) legend_w = text_w(s[i].label, 24);
    const double W = side_legend ? 520 + legend_w + 50 : 520, H = 300;
    const double L = 72, R = side_legend ? W - legend_w - 50 : W - 16, T = 48, B = H - 42;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < s[i].n; k++) {
            if (isfinite(s[i].x[k])) {
                x0 = fmin(x0, s[i].x[k]);
                x1 = fmax(x1, s[i].x[k]);
            }
            if (isfinite(s[i].y[k]) && isfinite(s[i].x[k])) {
                y0 = fmin(y0, s[i].y[k]);
                y1 = fmax(y1, s[i].y[k]);
            }
        }
    if (!(x0 <= x1)) x0 = 1, x1 = 2;
    if (x1 - x0 < 1) x1 = x0 + 1;
    if (!(y0 <= y1)) y0 = 0, y1 = 1;
    if (y1 - y0 < 1e-9) {
        double pad = fabs(y1) > 0 ? fabs(y1) * 0.05 : 0.1;
        y0 -= pad;
        y1 += pad;
    }
    const double ystep = nice_step(y1 - y0, 5);
    y0 = floor(y0 / ystep + 1e-9) * ystep;
    y1 = ceil(y1 / ystep - 1e-9) * ystep;
    if (percent) {
        y0 = fmax(y0, 0);
        y1 = fmin(y1, 1);
        if (y1 <= y0) y1 = y0 + ystep;
    }
    const double xstep = fmax(1, ceil(nice_step(x1 - x0, 10)));
#define PX(v) (L + ((v) - x0) / (x1 - x0) * (R - L))
#define PY(v) (B - ((v) - y0) / (y1 - y0) * (B - T))
    fprintf(f, "<svg class=\"chart\" role=\"img\" aria-label=\"");
    esc(f, aria);
    fprintf(f, "\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", W, H, W, H);
    fprintf(f, "<text class=\"t\" x=\"%.0f\" y=\"18\">", L);
    esc(f, title);
    fprintf(f, "</text>\n");
    /* grid and y ticks */
    const int yd = step_decimals(percent ? ystep * 100 : ystep);
    for (int k = 0;; k++) {
        double v = y0 + k * ystep;
        if (v > y1 + ystep * 1e-6 || k > 50) break;
        fprintf(f, "<line class=\"g\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"yt\" x=\"%.0f\" y=\"%.1f\">%.*f%s</text>\n", L, R, PY(v), PY(v),
                L - 6, PY(v) + 4, yd, percent ? 100 * v : v, percent ? "%" : "");
    }
    /* x ticks */
    for (double v = ceil(x0 / xstep) * xstep; v <= x1 + 1e-9; v += xstep)
        fprintf(f, "<line class=\"a\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\"/>"
                "<text class=\"xt\" x=\"%.1f\" y=\"%.0f\">%.0f</text>\n", PX(v), PX(v), B,
                B + 5, PX(v), B + 18, v);
    fprintf(f, "<line class=\"a\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>"
            "<line class=\"a\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>\n",
            L, R, B, B, L, L, T, B);
    fprintf(f, "<text class=\"al\" x=\"%.0f\" y=\"%.0f\">epoch</text>\n", (L + R) / 2, H - 6);
    fprintf(f, "<text class=\"al\" transform=\"translate(14 %.0f) rotate(-90)\">", (T + B) / 2);
    esc(f, ylabel);
    fprintf(f, "</text>\n");
    if (isfinite(mark_x) && mark_x >= x0 && mark_x <= x1)
        fprintf(f, "<line class=\"m\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\"/>"
                "<text class=\"mt\" x=\"%.1f\" y=\"%.0f\">best</text>\n", PX(mark_x),
                PX(mark_x), T, B, PX(mark_x) + 3, B - 4);
    /* the lines */
    for (int i = 0; i < ns; i++) {
        int open = 0;
        for (int k = 0; k < s[i].n; k++) {
            const int ok = isfinite(s[i].x[k]) && isfinite(s[i].y[k]);
            if (ok && !open) {
                fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                        s[i].color, s[i].dashed ? " stroke-dasharray=\"6 3\"" : "");
                open = 1;
            } else if (!ok && open) {
                fprintf(f, "\"/>\n");
                open = 0;
            }
            if (ok) fprintf(f, "%.1f,%.1f ", PX(s[i].x[k]), PY(s[i].y[k]));
        }
        if (open) fprintf(f, "\"/>\n");
        if (s[i].n <= 40) {
            fprintf(f, "<g fill=\"%s\">", s[i].color);
            for (int k = 0; k < s[i].n; k++)
                if (isfinite(s[i].x[k]) && isfinite(s[i].y[k]))
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>", PX(s[i].x[k]),
                            PY(s[i].y[k]));
            fprintf(f, "</g>\n");
        }
    }
    /* legend: a row under the title, or a column on the right */
    double lx = L, ly = 36;
    for (int i = 0; i < ns; i++) {
        if (side_legend) lx = R + 16, ly = T + 6 + 18 * i;
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
                "stroke-width=\"3\"%s/><text class=\"lg\" x=\"%.0f\" y=\"%.0f\">", lx, lx + 18,
                ly - 4, ly - 4, s[i].color, s[i].dashed ? " stroke-dasharray=\"6 3\"" : "",
                lx + 23, ly);
        esc_short(f, s[i].label, 24);
        fprintf(f, "</text>\n");
        lx += 23 + text_w(s[i].label, 24) + 20;
    }
    fprintf(f, "</svg>\n");
#undef PX
#undef PY
}

/* Horizontal bars of values in [0, 1], shown as %. */
static void bar_chart(FILE *f, const char *aria, const char *title, const char *const *labels,
                      const double *v, const char *const *colors, int n)
{
    double lw = 40;
    for (int i = 0; i < n; i++)
        if (text_w(labels[i], 28) > lw) lw = text_w(labels[i], 28);
    const double L = lw + 16, row = 22, T = 40, W = L + 360 + 60, R = W - 60;
    const double B = T + row * n, H = B + 34;
    fprintf(f, "<svg class=\"chart\" role=\"img\" aria-label=\"");
    esc(f, aria);
    fprintf(f, "\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", W, H, W, H);
    fprintf(f, "<text class=\"t\" x=\"8\" y=\"18\">");
    esc(f, title);
    fprintf(f, "</text>\n");
    for (int k = 0; k <= 5; k++) {
        const double x = L + k * (R - L) / 5;
        fprintf(f, "<line class=\"g\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\"/>"
                "<text class=\"xt\" x=\"%.1f\" y=\"%.0f\">%d%%</text>\n", x, x, T - 4, B, x,
                B + 16, 20 * k);
    }
    for (int i = 0; i < n; i++) {
        const double y = T + row * i, val = isfinite(v[i]) ? fmin(fmax(v[i], 0), 1) : 0;
        char pct[32];
        fmt_pct(pct, sizeof pct, v[i]);
        fprintf(f, "<text class=\"yt\" x=\"%.0f\" y=\"%.1f\">", L - 6, y + 15);
        esc_short(f, labels[i], 28);
        fprintf(f, "</text><rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
                "fill=\"%s\"/><text class=\"v\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", L, y + 3,
                val * (R - L), row - 6, colors[n > 1 && colors[1] ? i : 0], L + val * (R - L) + 4,
                y + 15, pct);
    }
    fprintf(f, "<line class=\"a\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>\n</svg>\n",
            L, L, T - 4, B);
}

/* The confusion matrix: counts, coloured by the share of the true class. */
static void heat_map(FILE *f, const struct run *r)
{
    const int C = r->n_classes;
    double lw = 30;
    for (int k = 0; k < C; k++)
        if (text_w(r->classes[k], 16) > lw) lw = text_w(r->classes[k], 16);
    const double cell = C <= 12 ? 40 : fmax(8, 480.0 / C);
    const double L = lw + 34, T = 40, B = T + cell * C, W = L + cell * C + 16;
    const double H = B + lw * 0.72 + 36;
    const int show_counts = cell >= 22, show_cols = cell >= 12;
    fprintf(f, "<svg class=\"chart\" role=\"img\" aria-label=\"confusion matrix of ");
    esc(f, r->label);
    fprintf(f, ": rows are the true class, columns the predicted class\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", W, H, W, H);
    fprintf(f, "<text class=\"t\" x=\"8\" y=\"18\">Confusion matrix (test set)</text>\n");
    for (int t = 0; t < C; t++) {
        double tot = 0;
        for (int p = 0; p < C; p++) tot += r->conf[t * C + p];
        const double y = T + cell * t;
        fprintf(f, "<text class=\"yt\" x=\"%.0f\" y=\"%.1f\">", L - 6, y + cell / 2 + 4);
        esc_short(f, r->classes[t], 16);
        fprintf(f, "</text>\n");
        for (int p = 0; p < C; p++) {
            const double c = r->conf[t * C + p], share = tot > 0 ? c / tot : 0;
            const double a = pow(share, 0.6);
            /* #f5f7fa -> #1f5fa8 */
            const int R = (int)lround(245 + a * (31 - 245)), G = (int)lround(247 + a * (95 - 247)),
                      Bl = (int)lround(250 + a * (168 - 250));
            const double x = L + cell * p;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"#%02x%02x%02x\"/>", x, y, cell - 1, cell - 1, R, G, Bl);
            if (show_counts && c > 0)
                fprintf(f, "<text class=\"c%s\" x=\"%.1f\" y=\"%.1f\">%.0f</text>",
                        a > 0.55 ? " w" : "", x + cell / 2, y + cell / 2 + 4, c);
        }
        fputc('\n', f);
    }
    for (int p = 0; show_cols && p < C; p++) {
        const double x = L + cell * p + cell / 2;
        fprintf(f, "<text class=\"yt\" transform=\"translate(%.1f %.0f) rotate(-45)\">", x + 4,
                B + 10);
        esc_short(f, r->classes[p], 16);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "<text class=\"al\" transform=\"translate(12 %.0f) rotate(-90)\">true class"
            "</text><text class=\"al\" x=\"%.0f\" y=\"%.0f\">predicted class</text>\n",
            (T + B) / 2, L + cell * C / 2, H - 6);
    fprintf(f, "</svg>\n");
}

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,"
    "sans-serif;color:#222;background:#f6f7f9;margin:0;padding:24px;line-height:1.4}\n"
    "main{max-width:1180px;margin:0 auto}\n"
    "h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.3em;margin:0 0 8px}"
    "h3{font-size:1.05em;margin:16px 0 6px}\n"
    ".sub{color:#666;margin:0 0 20px}\n"
    "section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:16px 20px;"
    "margin:0 0 20px}\n"
    "table{border-collapse:collapse;font-size:0.92em;margin:4px 0 8px}\n"
    "th,td{border:1px solid #e3e6ea;padding:3px 9px;text-align:left;vertical-align:top}\n"
    "th{background:#f1f3f5;font-weight:600}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "code{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:0.95em}\n"
    ".facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:2px 18px;"
    "margin:0 0 10px;font-size:0.92em}\n"
    ".facts div{border-bottom:1px dotted #e3e6ea;padding:2px 0}.facts b{font-weight:600;"
    "color:#555;margin-right:6px}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\n"
    ".scroll{overflow-x:auto}\n"
    "svg.chart{background:#fff;border:1px solid #eceef1;border-radius:4px;max-width:100%;"
    "height:auto}\n"
    "svg.chart text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    "font-size:12px;fill:#333}\n"
    "svg.chart text.t{font-size:13px;font-weight:600;fill:#222}\n"
    "svg.chart text.yt{text-anchor:end}svg.chart text.xt,svg.chart text.al,svg.chart text.c"
    "{text-anchor:middle}\n"
    "svg.chart text.al{fill:#555}svg.chart text.w{fill:#fff}svg.chart text.v{fill:#444}\n"
    "svg.chart text.mt{fill:#888;font-size:11px}\n"
    "svg.chart line.g{stroke:#eceef1}svg.chart line.a{stroke:#888}"
    "svg.chart line.m{stroke:#aaa;stroke-dasharray:3 3}\n"
    ".note{color:#666;font-size:0.9em}td.r{white-space:nowrap}\n";

static void fact(FILE *f, const char *k, const char *v)
{
    fprintf(f, "<div><b>%s</b>", k);
    esc(f, v);
    fprintf(f, "</div>\n");
}

/* 95100 -> "95,100" */
static const char *thousands(char *b, size_t n, double v)
{
    if (!isfinite(v) || fabs(v) >= 1e18) {
        snprintf(b, n, "n/a");
        return b;
    }
    char d[32];
    const long long x = llround(fabs(v));
    const int len = snprintf(d, sizeof d, "%lld", x);
    size_t o = 0;
    if (v < 0 && o + 1 < n) b[o++] = '-';
    for (int i = 0; i < len && o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) b[o++] = ',';
        b[o++] = d[i];
    }
    b[o] = '\0';
    return b;
}

static void fact_num(FILE *f, const char *k, double v, int decimals)
{
    char b[64];
    if (isfinite(v)) snprintf(b, sizeof b, "%.*f", decimals, v);
    else snprintf(b, sizeof b, "n/a");
    fact(f, k, b);
}

static void metric_cells(FILE *f, const double *m)
{
    char b[32];
    fprintf(f, "<td class=\"n\">%s</td>", isfinite(m[0]) ? (snprintf(b, sizeof b, "%.4f", m[0]), b)
                                                        : "n/a");
    fmt_pct(b, sizeof b, m[1]);
    fprintf(f, "<td class=\"n\">%s</td>", b);
    fprintf(f, "<td class=\"n\">%s</td>", isfinite(m[2]) ? (snprintf(b, sizeof b, "%.4f", m[2]), b)
                                                        : "n/a");
}

static void run_section(FILE *f, const struct run *r, int idx)
{
    char b[256];
    fprintf(f, "<section id=\"run-%d\">\n<h2>", idx + 1);
    esc(f, r->label);
    fprintf(f, "</h2>\n<div class=\"facts\">\n");
    fact(f, "name", r->name);
    fact(f, "directory", r->dir);
    fact(f, "seed", r->seed);
    fact(f, "parameters", thousands(b, sizeof b, r->params));
    if (isfinite(r->epochs_run) && isfinite(r->epochs))
        snprintf(b, sizeof b, "%.0f of %.0f%s", r->epochs_run, r->epochs,
                 r->stopped_early ? " (stopped early)" : "");
    else
        snprintf(b, sizeof b, "%.0f", r->epochs_run);
    fact(f, "epochs run", b);
    if (r->best_epoch > 0) fact_num(f, "best epoch", r->best_epoch, 0);
    char t1[32], t2[32], t3[32];
    if (r->n_val > 0)
        snprintf(b, sizeof b, "%s train, %s val, %s test", thousands(t1, sizeof t1, r->n_train),
                 thousands(t2, sizeof t2, r->n_val), thousands(t3, sizeof t3, r->n_test));
    else
        snprintf(b, sizeof b, "%s train, %s test", thousands(t1, sizeof t1, r->n_train),
                 thousands(t3, sizeof t3, r->n_test));
    fact(f, "samples", b);
    fact_num(f, "training seconds", r->sec_train, 2);
    fact_num(f, "test seconds", r->sec_test, 2);
    fact_num(f, "threads", r->threads, 0);
    fact(f, "spec hash", r->spec_hash);
    fact(f, "nnrun version", r->version);
    fprintf(f, "</div>\n<table><tr><th>final</th><th>loss</th><th>accuracy</th><th>mse</th>"
            "</tr>\n<tr><th>train</th>");
    metric_cells(f, r->tr);
    fprintf(f, "</tr>\n");
    if (r->has_val) {
        fprintf(f, "<tr><th>validation</th>");
        metric_cells(f, r->va);
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "<tr><th>test</th>");
    metric_cells(f, r->te);
    fprintf(f, "</tr>\n</table>\n");

    const char *ev = r->eval_name && !strcmp(r->eval_name, "val") ? "validation" : "test";
    struct series s[2] = {{"train", r->ep, r->loss, r->n_ep, palette[0], 0},
                          {ev, r->ep, r->ev_loss, r->n_ep, palette[1], 0}};
    const double mark = r->best_epoch > 0 ? r->best_epoch : NAN;
    fprintf(f, "<div class=\"charts\">\n");
    char aria[512];
    snprintf(aria, sizeof aria, "loss per epoch of %s, train and %s", r->label, ev);
    line_chart(f, aria, "Loss per epoch", "loss", 0, s, 2, mark);
    s[0].y = r->acc;
    s[1].y = r->ev_acc;
    snprintf(aria, sizeof aria, "accuracy per epoch of %s, train and %s", r->label, ev);
    line_chart(f, aria, "Accuracy per epoch", "accuracy", 1, s, 2, mark);
    fprintf(f, "</div>\n");
    if (r->n_classes > 0) {
        fprintf(f, "<div class=\"charts\">\n<div class=\"scroll\">\n");
        heat_map(f, r);
        fprintf(f, "</div>\n");
        snprintf(aria, sizeof aria, "test accuracy of each class of %s", r->label);
        const char *col[2] = {palette[0], NULL};
        bar_chart(f, aria, "Accuracy per class (test set)", (const char *const *)r->classes,
                  r->pca, col, r->n_classes);
        fprintf(f, "</div>\n");
    }
    fprintf(f, "</section>\n");
}

/* ---- the comparison --------------------------------------------------------- */

#define MAX_DIFF_COLS 12

static const struct run *sort_runs;
static int by_accuracy(const void *a, const void *b)
{
    const double x = sort_runs[*(const int *)a].te[1], y = sort_runs[*(const int *)b].te[1];
    const double xx = isfinite(x) ? x : -1, yy = isfinite(y) ? y : -1;
    if (xx != yy) return xx < yy ? 1 : -1;
    return *(const int *)a - *(const int *)b;
}

static void comparison(FILE *f, const struct run *rs, int n)
{
    /* the spec keys whose values differ, in the runs' order: first those every run
     * has, then those some lack (another model's layers) */
    const struct spec_leaves **specs = nn_xcalloc((size_t)n, sizeof *specs);
    for (int i = 0; i < n; i++) specs[i] = &rs[i].spec;
    const char **keys;
    int n_keys = collect_differing_keys(specs, n, &keys), n_more = 0;
    free(specs);
    if (n_keys > MAX_DIFF_COLS) {
        n_more = n_keys - MAX_DIFF_COLS;
        n_keys = MAX_DIFF_COLS;
    }
    int *order = nn_xmalloc((size_t)n * sizeof *order);
    for (int i = 0; i < n; i++) order[i] = i;
    sort_runs = rs;
    qsort(order, (size_t)n, sizeof *order, by_accuracy);

    fprintf(f, "<section id=\"comparison\">\n<h2>Comparison of %d runs</h2>\n", n);
    fprintf(f, "<p class=\"note\">Sorted by test accuracy. The spec columns are the keys of "
            "<code>spec.yaml</code> whose values differ between the runs");
    if (n_more) fprintf(f, " (the first %d; %d more differ)", MAX_DIFF_COLS, n_more);
    fprintf(f, ".</p>\n<div class=\"scroll\"><table>\n<tr><th>#</th><th>run</th>");
    for (int k = 0; k < n_keys; k++) {
        fprintf(f, "<th><code>");
        esc(f, keys[k]);
        fprintf(f, "</code></th>");
    }
    fprintf(f, "<th>test accuracy</th><th>test loss</th><th>epochs</th><th>seconds</th>"
            "</tr>\n");
    for (int o = 0; o < n; o++) {
        const struct run *r = &rs[order[o]];
        char b[64];
        fprintf(f, "<tr><td class=\"n\">%d</td><td class=\"r\"><a href=\"#run-%d\">", o + 1, order[o] + 1);
        esc(f, r->label);
        fprintf(f, "</a></td>");
        for (int k = 0; k < n_keys; k++) {
            const char *v = collect_spec_value(&r->spec, keys[k]);
            fprintf(f, "<td><code>");
            esc(f, v ? v : "-");
            fprintf(f, "</code></td>");
        }
        fmt_pct(b, sizeof b, r->te[1]);
        fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%.4f</td><td class=\"n\">%.0f</td>"
                "<td class=\"n\">%.*f</td></tr>\n", b, r->te[0], r->epochs_run,
                r->sec_train < 10 ? 2 : 1, r->sec_train);
    }
    fprintf(f, "</table></div>\n<div class=\"charts\">\n");

    struct series *s = nn_xcalloc((size_t)n, sizeof *s);
    int n_val = 0;
    for (int i = 0; i < n; i++) {
        const struct run *r = &rs[order[i]];
        s[i] = (struct series){r->label, r->ep, r->ev_acc, r->n_ep, palette[order[i] % 10], 0};
        n_val += r->eval_name && !strcmp(r->eval_name, "val");
    }
    const char *what = n_val == 0 ? "test accuracy" : n_val == n ? "validation accuracy"
                                                                 : "test or validation accuracy";
    char title[128], aria[128];
    snprintf(title, sizeof title, "%c%s per epoch", what[0] - 32, what + 1);
    snprintf(aria, sizeof aria, "%s per epoch of %d runs", what, n);
    line_chart(f, aria, title, what, 1, s, n, NAN);

    const char **labels = nn_xmalloc((size_t)n * sizeof *labels);
    const char **cols = nn_xmalloc((size_t)(n > 1 ? n : 2) * sizeof *cols);
    double *acc = nn_xmalloc((size_t)n * sizeof *acc);
    for (int i = 0; i < n; i++) {
        labels[i] = rs[order[i]].label;
        cols[i] = palette[order[i] % 10];
        acc[i] = rs[order[i]].te[1];
    }
    snprintf(aria, sizeof aria, "final test accuracy of %d runs", n);
    bar_chart(f, aria, "Final test accuracy", labels, acc, cols, n);
    fprintf(f, "</div>\n</section>\n");
    free(labels);
    free(cols);
    free(acc);
    free(s);
    free(order);
    free(keys);
}

/* short, distinct labels: the names, or the directories' last parts */
static void make_labels(struct run *rs, int n)
{
    int names_unique = 1, dirs_unique = 1;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) {
            if (!strcmp(rs[i].name, rs[j].name)) names_unique = 0;
            const char *a = strrchr(rs[i].dir, '/'), *b = strrchr(rs[j].dir, '/');
            if (!strcmp(a ? a + 1 : rs[i].dir, b ? b + 1 : rs[j].dir)) dirs_unique = 0;
        }
    for (int i = 0; i < n; i++) {
        const char *base = strrchr(rs[i].dir, '/');
        base = base ? base + 1 : rs[i].dir;
        if (names_unique) {
            rs[i].label = nn_xstrdup(rs[i].name);
        } else if (dirs_unique) {
            rs[i].label = nn_xstrdup(base);
        } else {
            char *b;
            size_t l;
            FILE *f = open_memstream(&b, &l);
            if (!f) abort();
            fprintf(f, "%s #%d", rs[i].name, i + 1);
            fclose(f);
            rs[i].label = b;
        }
    }
}

static void page(FILE *f, const struct run *rs, int n, const char *title)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>");
    esc(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<h1>", css);
    esc(f, title);
    fprintf(f, "</h1>\n<p class=\"sub\">%d run%s &middot; generated %s by nnrun %s</p>\n", n,
            n == 1 ? "" : "s", date, NNRUN_VERSION);
    if (n > 1) comparison(f, rs, n);
    for (int i = 0; i < n; i++) run_section(f, &rs[i], i);
    fprintf(f, "</main>\n</body>\n</html>\n");
}

int cmd_report(int argc, char **argv, int first)
{
    struct cli c = {.cmd = "report"};
    if (cli_parse(argc, argv, first, OPT_OUTPUT, &c)) return EXIT_USAGE;
    if (c.n_pos == 0) {
        fprintf(stderr, "nnrun: error: no run directory given\n"
                "usage: nnrun report RUN_DIR... [-o FILE]\n");
        return EXIT_USAGE;
    }
    struct runs rs = {0};
    int status = 0;
    for (int i = 0; i < c.n_pos && !status; i++) status = find_runs(&rs, c.pos[i]);

    char out[PATH_MAX + 16];
    if (!status && c.output && strlen(c.output) >= PATH_MAX) {   /* refused, never cut */
        fprintf(stderr, "nnrun: error: -o: the path is %zu bytes long; the system allows %d\n",
                strlen(c.output), PATH_MAX - 1);
        status = EXIT_USAGE;
    } else if (c.output) {
        snprintf(out, sizeof out, "%s", c.output);
    } else if (c.n_pos == 1 && !status && !collect_is_record(c.pos[0])) {
        snprintf(out, sizeof out, "%s/report.html", c.pos[0]);   /* a sweep */
    } else {
        snprintf(out, sizeof out, "report.html");
    }

    if (!status) {
        rs.v = nn_xcalloc((size_t)rs.dirs.n, sizeof *rs.v);
        for (int i = 0; i < rs.dirs.n && !status; i++, rs.n++)
            status = load_run(&rs.v[i], rs.dirs.p[i]);
    }
    if (!status) {
        make_labels(rs.v, rs.n);
        char title[512];
        if (c.n_pos == 1 && !collect_is_record(c.pos[0]))
            snprintf(title, sizeof title, "nnrun report: %s", c.pos[0]);
        else if (rs.n == 1)
            snprintf(title, sizeof title, "nnrun report: %s", rs.v[0].name);
        else
            snprintf(title, sizeof title, "nnrun report: %d runs", rs.n);
        char *html;
        size_t len;
        FILE *f = open_memstream(&html, &len);
        if (!f) {
            fprintf(stderr, "nnrun: error: out of memory\n");
            status = EXIT_RUNTIME;
        } else {
            page(f, rs.v, rs.n, title);
            fclose(f);
            char err[PATH_MAX + 128];
            if (nn_write_file_atomic(out, html, len, err, sizeof err)) {
                fprintf(stderr, "nnrun: error: %s\n", err);
                status = EXIT_RUNTIME;
            } else {
                printf("wrote %s (%d run%s, %zu KB)\n", out, rs.n, rs.n == 1 ? "" : "s",
                       (len + 1023) / 1024);
            }
            free(html);
        }
    }
    for (int i = 0; i < rs.n; i++) run_free(&rs.v[i]);
    free(rs.v);
    collect_paths_free(&rs.dirs);
    return status;
}
