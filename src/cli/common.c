/* common.c - the option parser every subcommand shares, and loading a spec
 * and its data. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nnrun/diag.h"
#include "nnrun/util.h"

static const char usage[] =
    "usage: nnrun [train] SPEC [options]     train the spec's model, then evaluate it\n"
    "       nnrun check SPEC                 validate the spec and print its layer table\n"
    "       nnrun bench SPEC                 time each layer and whole training steps\n"
    "       nnrun eval RUN_DIR | SPEC --weights FILE\n"
    "                                        accuracy, per-class accuracy, confusion matrix\n"
    "       nnrun predict RUN_DIR IMAGES [--json]\n"
    "                                        the class and probability of each image\n"
    "       nnrun sweep SWEEP.yaml [-j N] [--emit DIR]\n"
    "                                        run (or only write) a hyperparameter sweep\n"
    "       nnrun collect DIR...             one table of the run records under DIRs\n"
    "       nnrun report RUN_DIR... [-o FILE]\n"
    "                                        one HTML page with curves and tables\n"
    "       nnrun --help | --version\n"
    "\n"
    "training options:\n"
    "  --threads N     worker threads (default: all cores); results do not depend on it\n"
    "  --seed N        use seed N instead of the spec's seed\n"
    "  --set KEY=VALUE change any key of the spec before it is checked, e.g.\n"
    "                  --set train.epochs=5 --set model.layers.3.dense.units=64\n"
    "  --out DIR       the run record's directory (default runs/NAME-UTCTIME/); one\n"
    "                  that exists is never reused: the run goes to DIR-2, DIR-3, ...\n"
    "  --force         replace the record in --out DIR (only a run record): the old one\n"
    "                  stays whole until the new run's first checkpoint replaces it\n"
    "  --no-record     write no run record\n"
    "  --resume DIR    continue the run in DIR from its last checkpoint\n"
    "  --max-memory N  refuse a run whose model plan and data sets need more than N\n"
    "                  bytes (K, M, G suffixes; also for bench); default 80% of memory\n"
    "  --quiet         print only the final test line\n"
    "  --json          one JSON object per epoch and one for the result, on stdout\n"
    "  --smoke         a quick look before a long run: 1 epoch of about 2 batches on\n"
    "                  a few hundred samples, evaluation, checkpoint and record written\n"
    "                  to a temporary directory and reloaded, then removed; checks that\n"
    "                  --out could be made; exits as the full run would (0, 1 or 2)\n"
    "\n"
    "exit status: 0 success, 1 runtime failure, 2 bad spec or bad arguments,\n"
    "             130 interrupted (SIGINT), 143 terminated (SIGTERM)\n";

void cli_usage(FILE *f) { fputs(usage, f); }

static int parse_int_arg(const char *opt, const char *v, long long lo, long long hi,
                         long long *out)
{
    char *end;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "nnrun: error: %s needs an integer from %lld to %lld, got '%s'\n", opt,
                lo, hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_bytes(const char *opt, const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (v && end != v) {
        double mult = 1;
        switch (*end) {
        case 'k': case 'K': mult = 1024.0; end++; break;
        case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
        case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
        case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
        }
        if ((*end == 'b' || *end == 'B') && mult > 1) end++;
        x *= mult;
    }
    if (!v || end == v || *end || errno || !(x >= 1) || !isfinite(x)) {
        fprintf(stderr, "nnrun: error: %s needs a size in bytes such as 500M or 2G, got '%s'\n",
                opt, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

static const struct {
    const char *name, *alt;
    unsigned bit;
    int takes_value;
} options[] = {
    {"--threads", NULL, OPT_THREADS, 1}, {"--seed", NULL, OPT_SEED, 1},
    {"--set", NULL, OPT_SET, 1},         {"--quiet", "-q", OPT_QUIET, 0},
    {"--json", NULL, OPT_JSON, 0},       {"--out", NULL, OPT_OUT, 1},
    {"--force", NULL, OPT_FORCE, 0},     {"--resume", NULL, OPT_RESUME, 1},
    {"--weights", NULL, OPT_WEIGHTS, 1}, {"--emit", NULL, OPT_EMIT, 1},
    {"--jobs", "-j", OPT_JOBS, 1},       {"--max-runs", NULL, OPT_MAX_RUNS, 1},
    {"--output", "-o", OPT_OUTPUT, 1},   {"--max-memory", NULL, OPT_MAX_MEMORY, 1},
    {"--no-record", NULL, OPT_NO_RECORD, 0}, {"--sort", NULL, OPT_SORT, 1},
    {"--csv", NULL, OPT_CSV, 1},         {"--smoke", NULL, OPT_SMOKE, 0},
};
#define N_OPTIONS (int)(sizeof options / sizeof options[0])

int cli_parse(int argc, char **argv, int first, unsigned allowed, struct cli *c)
{
    const char *cmd = c->cmd;
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    c->seed = -1;
    c->jobs = 1;
    c->max_runs = 1000;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            if (c->n_pos == CLI_MAX_POS) {
                fprintf(stderr, "nnrun: error: more than %d arguments\n", CLI_MAX_POS);
                return -1;
            }
            c->pos[c->n_pos++] = a;
            continue;
        }
        int k = -1;
        for (int j = 0; j < N_OPTIONS; j++)
            if (!strcmp(a, options[j].name) || (options[j].alt && !strcmp(a, options[j].alt)))
                k = j;
        if (k < 0 || !(allowed & options[k].bit)) {
            if (k < 0) {
                const char *names[N_OPTIONS];
                for (int j = 0; j < N_OPTIONS; j++) names[j] = options[j].name;
                const char *s = nn_suggest(a, names, N_OPTIONS);
                fprintf(stderr, "nnrun: error: unknown option '%s'%s%s%s\n", a,
                        s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
            } else {
                fprintf(stderr, "nnrun: error: 'nnrun %s' does not take %s\n", c->cmd, a);
            }
            fprintf(stderr, "run 'nnrun --help' for the options\n");
            return -1;
        }
        const char *v = NULL;
        if (options[k].takes_value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nnrun: error: %s needs a value\n", a);
                return -1;
            }
            v = argv[++i];
        }
        const unsigned paths = OPT_OUT | OPT_RESUME | OPT_WEIGHTS | OPT_EMIT | OPT_OUTPUT | OPT_CSV;
        if (v && !*v && (options[k].bit & paths)) {
            fprintf(stderr, "nnrun: error: %s needs a path, got ''\n", a);
            return -1;
        }
        long long x;
        switch (options[k].bit) {
        case OPT_THREADS:
            if (parse_int_arg(a, v, 1, 1024, &x)) return -1;
            c->threads = (int)x;
            break;
        case OPT_SEED: {
            uint64_t seed;   /* the spec's range and syntax (spec.h) */
            if (nn_seed_parse(v, &seed)) {
                fprintf(stderr, "nnrun: error: %s needs %s, got '%s'\n", a, NN_SEED_RANGE, v);
                return -1;
            }
            c->seed = (long long)seed;
            break;
        }
        case OPT_SET:
            if (c->n_sets == CLI_MAX_SETS) {
                fprintf(stderr, "nnrun: error: at most %d --set options\n", CLI_MAX_SETS);
                return -1;
            }
            c->sets[c->n_sets++] = v;
            break;
        case OPT_JOBS:
            if (parse_int_arg(a, v, 1, 1024, &x)) return -1;
            c->jobs = (int)x;
            break;
        case OPT_MAX_RUNS:
            if (parse_int_arg(a, v, 1, 1000000, &x)) return -1;
            c->max_runs = (int)x;
            break;
        case OPT_MAX_MEMORY:
            if (parse_bytes(a, v, &c->max_memory)) return -1;
            break;
        case OPT_QUIET: c->quiet = 1; break;
        case OPT_JSON: c->json = 1; break;
        case OPT_FORCE: c->force = 1; break;
        case OPT_NO_RECORD: c->no_record = 1; break;
        case OPT_SMOKE: c->smoke = 1; break;
        case OPT_OUT: c->out = v; break;
        case OPT_RESUME: c->resume = v; break;
        case OPT_WEIGHTS: c->weights = v; break;
        case OPT_EMIT: c->emit = v; break;
        case OPT_OUTPUT: c->output = v; break;
        case OPT_SORT: c->sort = v; break;
        case OPT_CSV: c->csv = v; break;
        }
    }
    return 0;
}

/* The --set texts of the spec cli_load_model loaded (a process loads one):
 * the checks made later, against the data, name them as validation does. */
static const char *const *loaded_sets;
static int loaded_n_sets;

void cli_diag_init(struct nn_diag *d, const struct nn_spec *s)
{
    nn_diag_init(d, s->path);
    d->overrides = loaded_sets;
    d->n_overrides = loaded_n_sets;
}

struct nn_mark cli_blame(struct nn_mark own, const char *const *keys, int n_keys)
{
    if (own.override > 0) return own;
    for (int i = loaded_n_sets - 1; i >= 0; i--) {
        const char *set = loaded_sets[i];
        const size_t l = strcspn(set, "=");
        for (int k = 0; k < n_keys; k++) {
            const size_t kl = strlen(keys[k]);
            const int prefix = kl && keys[k][kl - 1] == '.';
            if (prefix ? l >= kl && !strncmp(set, keys[k], kl)
                       : l == kl && !strncmp(set, keys[k], kl))
                return (struct nn_mark){0, 0, i + 1};
        }
    }
    return own;
}

int cli_load_model(const struct cli *c, const char *path, struct nn_spec **spec,
                   struct nn_graph *g)
{
    loaded_sets = c->sets;
    loaded_n_sets = c->n_sets;
    struct nn_diag d;
    nn_diag_init(&d, path);
    d.overrides = c->sets;
    d.n_overrides = c->n_sets;
    *spec = NULL;
    struct nn_ynode *root = nn_yaml_parse_file(path, &d);
    int bad = !root;
    for (int i = 0; root && i < c->n_sets; i++) bad |= nn_spec_override(root, c->sets[i], i + 1, &d);
    if (!bad) *spec = nn_spec_from_tree(root, path, &d);
    nn_ynode_free(root);
    if (*spec && c->seed >= 0) (*spec)->seed = (uint64_t)c->seed;
    if (*spec && nn_graph_build(g, *spec, &d)) {
        nn_spec_free(*spec);
        *spec = NULL;
    }
    nn_diag_print(&d, stderr);
    nn_diag_free(&d);
    return *spec ? 0 : EXIT_USAGE;
}

/* Bytes of a loaded data set: images and labels. */
static double set_bytes(const struct nn_dataset *ds)
{
    return (double)ds->n * ((double)ds->h * ds->w * ds->c + 1);
}

static void budget_text(char *b, size_t n, double v)
{
    const char *u[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int i = 0;
    while (v >= 1024 && i < 6) v /= 1024, i++;
    snprintf(b, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* to = from, a data path; one too long is refused (validation refuses it in
 * a spec first), never cut to another file's name */
static int copy_path(char to[NN_DATA_PATH_MAX], const char *from)
{
    if ((size_t)snprintf(to, NN_DATA_PATH_MAX, "%s", from) < NN_DATA_PATH_MAX) return 0;
    fprintf(stderr, "nnrun: error: %.200s...: the data path is %zu bytes long; at most %d are "
            "accepted\n", from, strlen(from), NN_DATA_PATH_MAX - 1);
    return -1;
}

/* One of the spec's data sets (test: the test set, else the training set),
 * from its files (IDX or CSV); path gets the images' file name.  With a
 * budget, the set may take at most budget->limit - budget->model - used
 * bytes (checked from the headers for IDX files, as samples arrive for CSV). */
static int load_set(const struct nn_spec *s, int test, struct nn_dataset *ds,
                    char path[NN_DATA_PATH_MAX],
                    const struct cli_budget *budget, double used)
{
    char err[2048];
    const struct nn_data_spec *d = &s->data;
    uint64_t max_bytes = 0;
    if (budget) {
        double left = budget->limit - budget->model - used;
        max_bytes = left >= 1 ? (left < 1.8e19 ? (uint64_t)left : UINT64_MAX) : 1;
    }
    int bad;
    if (d->format == NN_DATA_CSV) {
        const int *shape = d->image_shape[0] ? d->image_shape : s->input;
        const char *file = test ? d->test : d->train;
        if (copy_path(path, file)) return EXIT_RUNTIME;
        bad = nn_csv_load_max(ds, file, d->label_column, d->header, shape[0], shape[1],
                              shape[2], d->classes, max_bytes, err, sizeof err);
    } else {
        struct nn_data_paths p;
        if (!d->dataset) {
            if (copy_path(p.train_images, d->train_images) ||
                copy_path(p.train_labels, d->train_labels) ||
                copy_path(p.test_images, d->test_images) ||
                copy_path(p.test_labels, d->test_labels))
                return EXIT_RUNTIME;
        } else if (nn_fashion_mnist_find(&p, err, sizeof err)) {
            fprintf(stderr, "nnrun: error: %s\n", err);
            return EXIT_RUNTIME;
        }
        if (copy_path(path, test ? p.test_images : p.train_images)) return EXIT_RUNTIME;
        bad = nn_dataset_load_max(ds, path, test ? p.test_labels : p.train_labels, d->classes,
                                  max_bytes, err, sizeof err);
    }
    if (bad == NN_DATA_TOO_BIG) {
        char lim[32], model[32], other[32];
        budget_text(lim, sizeof lim, budget->limit);
        budget_text(model, sizeof model, budget->model);
        budget_text(other, sizeof other, used);
        fprintf(stderr, "nnrun: error: %s; the limit is %s (%s), of which the model plans %s%s%s"
                "\n", err, lim, budget->source, model, used > 0 ? " and the training set takes "
                : "", used > 0 ? other : "");
        return EXIT_RUNTIME;
    }
    if (bad) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        return EXIT_RUNTIME;
    }
    return 0;
}

/* the keys that choose the data files and their shape */
static const char *const data_keys[] = {"data.train_images", "data.test_images",
                                        "data.train", "data.test", "data.image_shape",
                                        "data.format", "data.dataset", "data"};

static void check_input_shape(const struct nn_spec *s, const struct nn_dataset *ds,
                              const char *path, struct nn_diag *d)
{
    if (ds->h != s->input[0] || ds->w != s->input[1] || ds->c != s->input[2])
        nn_diag_error(d, cli_blame(s->input_mark, data_keys, 8), "model input [%d, %d, %d] "
                      "does not match the images of "
                      "%s, which are [%d, %d, %d]", s->input[0], s->input[1], s->input[2],
                      path, ds->h, ds->w, ds->c);
}

int cli_load_data(const struct nn_spec *s, struct nn_dataset *train, struct nn_dataset *val,
                  struct nn_dataset *test)
{
    return cli_load_data_within(s, NULL, train, val, test);
}

int cli_load_data_within(const struct nn_spec *s, const struct cli_budget *budget,
                         struct nn_dataset *train, struct nn_dataset *val,
                         struct nn_dataset *test)
{
    char paths[2][NN_DATA_PATH_MAX];
    memset(val, 0, sizeof *val);
    int rc = load_set(s, 0, train, paths[0], budget, 0);
    if (rc) return rc;
    if ((rc = load_set(s, 1, test, paths[1], budget, set_bytes(train)))) {
        nn_dataset_free(train);
        return rc;
    }
    nn_dataset_truncate(train, (size_t)s->data.train_samples);
    nn_dataset_truncate(test, (size_t)s->data.test_samples);
    struct nn_diag d;
    cli_diag_init(&d, s);
    check_input_shape(s, train, paths[0], &d);
    if (!d.n_errors && (test->h != train->h || test->w != train->w || test->c != train->c))
        nn_diag_error(&d, cli_blame(s->input_mark, data_keys, 8), "test images %s are "
                      "[%d, %d, %d], training images "
                      "[%d, %d, %d]", paths[1], test->h, test->w, test->c, train->h,
                      train->w, train->c);
    /* Keras' validation_split: the last fraction of the samples, before shuffling */
    size_t n_val = (size_t)((double)train->n * s->data.validation_split);
    static const char *const split_keys[] = {"data.validation_split", "data.train_samples",
                                             "data.train_images", "data.train", "data.dataset",
                                             "data"};
    struct nn_mark split_mark = cli_blame((struct nn_mark){0, 0, 0}, split_keys, 6);
    if (!split_mark.override) split_mark = s->batch_mark;   /* the split keeps no mark */
    if (s->data.validation_split > 0 && (n_val == 0 || n_val >= train->n))
        nn_diag_error(&d, split_mark, "validation_split %g of %zu training samples leaves "
                      "%zu for validation and %zu for training; both must be at least 1",
                      (double)s->data.validation_split, train->n, n_val, train->n - n_val);
    else if (n_val)
        nn_dataset_split(train, val, train->n - n_val);
    static const char *const batch_keys[] = {"data.train_samples", "data.validation_split",
                                             "data.train_images", "data.train", "data.dataset",
                                             "data"};
    if ((size_t)s->train.batch_size > train->n)
        nn_diag_error(&d, cli_blame(s->batch_mark, batch_keys, 6), "batch_size %d is larger "
                      "than the %zu training "
                      "samples", s->train.batch_size, train->n);
    int bad = d.n_errors;
    nn_diag_print(&d, stderr);
    nn_diag_free(&d);
    if (bad) {
        nn_dataset_free(train);
        nn_dataset_free(val);
        nn_dataset_free(test);
        return EXIT_USAGE;
    }
    if (s->data.standardize) {
        /* statistics of the training samples only (after the split), recomputed
         * from the same bytes by every command, so eval and predict use the
         * numbers training used */
        double *mean = nn_xmalloc((size_t)train->c * sizeof *mean);
        double *std = nn_xmalloc((size_t)train->c * sizeof *std);
        nn_dataset_channel_stats(train, s->data.divide_by, mean, std);
        nn_dataset_standardize(train, s->data.divide_by, mean, std);
        if (val->n) nn_dataset_standardize(val, s->data.divide_by, mean, std);
        nn_dataset_standardize(test, s->data.divide_by, mean, std);
        free(mean);
        free(std);
    }
    return 0;
}

int cli_load_test(const struct nn_spec *s, struct nn_dataset *test)
{
    return cli_load_test_within(s, NULL, test);
}

int cli_load_test_within(const struct nn_spec *s, const struct cli_budget *budget,
                         struct nn_dataset *test)
{
    char path[NN_DATA_PATH_MAX];
    int rc = load_set(s, 1, test, path, budget, 0);
    if (rc) return rc;
    nn_dataset_truncate(test, (size_t)s->data.test_samples);
    struct nn_diag d;
    cli_diag_init(&d, s);
    check_input_shape(s, test, path, &d);
    int bad = d.n_errors;
    nn_diag_print(&d, stderr);
    nn_diag_free(&d);
    if (bad) {
        nn_dataset_free(test);
        return EXIT_USAGE;
    }
    return 0;
}

int cli_input_scaling(const struct nn_spec *s, struct nn_input_scaling *sc,
                      struct nn_dataset *ds)
{
    if (!s->data.standardize) return 0;
    float *scale, *shift;
    if (sc->channels) {   /* the weights file's copy, taken over */
        if (sc->channels != ds->c) {
            fprintf(stderr, "nnrun: error: the weights file's input scaling is for %d channels, "
                    "the images have %d\n", sc->channels, ds->c);
            return EXIT_RUNTIME;
        }
        scale = sc->scale, shift = sc->shift;
        *sc = (struct nn_input_scaling){0};
    } else {   /* an older file: recomputed from the training data */
        struct nn_dataset train = {0}, val = {0}, test = {0};
        int rc = cli_load_data(s, &train, &val, &test);
        NN_ASSERT(rc || train.c == ds->c);
        scale = train.scale, shift = train.shift;   /* taken over */
        train.scale = train.shift = NULL;
        nn_dataset_free(&train);
        nn_dataset_free(&val);
        nn_dataset_free(&test);
        if (rc) return rc;
    }
    free(ds->scale);
    free(ds->shift);
    ds->scale = scale, ds->shift = shift;
    return 0;
}



void cli_sb_put(struct cli_sb *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        NN_ASSERT(k >= 0);
        if (b->p && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = 2 * b->cap + (size_t)k + 64;
        b->p = nn_xrealloc(b->p, b->cap);
    }
}

void cli_default_dir(char *buf, size_t n, const char *prefix, const char *name)
{
    char safe[128];
    size_t k = 0;
    for (const char *c = name; *c && k + 1 < sizeof safe; c++)
        safe[k++] = (char)((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                                   (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'
                               ? *c : '_');
    safe[k] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(buf, n, "runs/%s%s-%s", prefix, safe, ts);
}

/* ---- record directories ------------------------------------------------------ */

/* What --force may replace: a real record of its kind, nothing else.  A
 * run record holds only the files nnrun writes there (and temporary files
 * NAME.tmp.PID of atomic writes), all regular files, a spec.yaml that
 * begins with the resolved-spec header (src/spec/emit.c), and results.json
 * or checkpoint.nnc; a sweep directory holds sweep.yaml, specs/ (emitted
 * specs) and runs/ (trial records, each checked as a run record, and their
 * logs); an --emit directory holds trials.csv and emitted specs. */
enum rec_kind { REC_RUN = CLI_DIR_RUN, REC_SWEEP = CLI_DIR_SWEEP, REC_EMIT = CLI_DIR_EMIT,
                REC_TRIAL, REC_RUNS };
#define RUN_ENTRIES {"spec.yaml", "metrics.csv", "checkpoint.nnc", "best.nnw", "model.nnw", \
                     "results.json", "report.html", NULL}
static const char *const record_entries[][8] = {
    [REC_RUN] = RUN_ENTRIES,
    [REC_TRIAL] = RUN_ENTRIES,
    [REC_SWEEP] = {"sweep.yaml", "specs", "runs", "sweep.csv", "report.html", NULL},
    [REC_EMIT] = {"trials.csv", NULL},
    [REC_RUNS] = {NULL},
};
static const char *const kind_names[] = {"run record", "sweep directory", "--emit directory",
                                         "run record", "sweep directory"};
#define SPEC_HEADER "# resolved spec: every default filled in, every override applied\n"

static int ends_with(const char *s, const char *tail)
{
    const size_t l = strlen(s), t = strlen(tail);
    return l > t && !strcmp(s + l - t, tail);
}

/* Whether regular file path begins with the resolved-spec header (a
 * sweep's trial spec: after its line "# trial N of M of the sweep ..."). */
static int spec_header(const char *path)
{
    const int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return 0;
    buf[n] = '\0';
    const char *h = buf;
    if (!strncmp(h, "# trial ", 8) && strchr(h, '\n')) h = strchr(h, '\n') + 1;
    return !strncmp(h, SPEC_HEADER, sizeof SPEC_HEADER - 1);
}

/* 0 if directory path is a record of kind k (top: the one --force names);
 * else EXIT_USAGE with the message printed (EXIT_RUNTIME if unreadable). */
static int check_record(const char *opt, const char *top, const char *path, enum rec_kind k)
{
    const char *what = kind_names[k == REC_RUNS || k == REC_TRIAL ? REC_SWEEP : k];
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "nnrun: error: %s: %s\n", path, strerror(errno));
        return EXIT_RUNTIME;
    }
    int rc = 0, n = 0, spec = 0, result = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        n++;
        char full[PATH_MAX];
        struct stat st;
        errno = ENAMETOOLONG;
        if ((size_t)snprintf(full, sizeof full, "%s/%s", path, name) >= sizeof full ||
            lstat(full, &st)) {
            fprintf(stderr, "nnrun: error: %s/%s: %s\n", path, name, strerror(errno));
            rc = EXIT_RUNTIME;
            break;
        }
        int known = nn_is_tmp_name(name);
        for (int i = 0; !known && record_entries[k][i]; i++)
            known = !strcmp(name, record_entries[k][i]);
        const int subdir = k == REC_SWEEP && (!strcmp(name, "runs") || !strcmp(name, "specs"));
        const int trial = k == REC_RUNS && S_ISDIR(st.st_mode);
        const int yaml = k == REC_EMIT && ends_with(name, ".yaml");
        if (k == REC_RUNS) known = known || trial || ends_with(name, ".log");
        if (k == REC_EMIT) known = known || yaml;
        if (!known) {
            fprintf(stderr, "nnrun: error: %s holds '%s', which is not part of a %s; --force "
                    "replaces a %s and nothing else (remove it yourself, or choose another "
                    "%s)\n", path, name, what, what, opt);
            rc = EXIT_USAGE;
        } else if (subdir || trial) {
            if (!S_ISDIR(st.st_mode)) {
                fprintf(stderr, "nnrun: error: %s is not a directory, so %s is not a %s; "
                        "--force replaces a %s and nothing else\n", full, top, what, what);
                rc = EXIT_USAGE;
            } else {
                rc = check_record(opt, top, full, trial ? REC_TRIAL
                                  : !strcmp(name, "runs") ? REC_RUNS : REC_EMIT);
            }
        } else if (!S_ISREG(st.st_mode)) {
            fprintf(stderr, "nnrun: error: %s is %s, not a file nnrun wrote, so %s is not a %s; "
                    "--force replaces a %s and nothing else\n", full,
                    S_ISDIR(st.st_mode) ? "a directory" : S_ISLNK(st.st_mode) ?
                    "a symbolic link" : "not a regular file", top, what, what);
            rc = EXIT_USAGE;
        } else if ((!strcmp(name, "spec.yaml") && (k == REC_RUN || k == REC_TRIAL)) || yaml) {
            if (!spec_header(full)) {
                fprintf(stderr, "nnrun: error: %s was not written by nnrun (it does not begin "
                        "with the line '# resolved spec: ...'), so %s is not a %s; --force "
                        "replaces a %s and nothing else\n", full, top, what, what);
                rc = EXIT_USAGE;
            }
            spec = 1;
        } else if (!strcmp(name, "results.json") || !strcmp(name, "checkpoint.nnc")) {
            result = 1;
        }
    }
    closedir(d);
    if (!rc && k == REC_RUN && n && (!spec || !result)) {
        fprintf(stderr, "nnrun: error: %s holds no complete run record (%s); --force replaces "
                "the record of a run that finished or was stopped, nothing else (remove it "
                "yourself, or choose another %s)\n", path, !spec ? "no spec.yaml" :
                "no checkpoint.nnc or results.json", opt);
        rc = EXIT_USAGE;
    }
    return rc;
}

void cli_strip_slashes(char *p)
{
    for (size_t l = strlen(p); l > 1 && p[l - 1] == '/'; l--) p[l - 1] = '\0';
}

int cli_check_out(const char *opt, const char *path, size_t reserve, int force,
                  enum cli_dir_kind kind)
{
    if (!*path) {
        fprintf(stderr, "nnrun: error: %s needs a directory name, got ''\n", opt);
        return EXIT_USAGE;
    }
    /* room for base-NNNN or .base.new.PID, and for the longest path in it */
    const size_t len = strlen(path);
    if (len + 24 + reserve >= PATH_MAX) {
        fprintf(stderr, "nnrun: error: %s: the path is %zu bytes long; with the files of the "
                "record it must stay under %d bytes (PATH_MAX); nothing was written\n", opt,
                len, (int)(PATH_MAX - 24 - reserve));
        return EXIT_USAGE;
    }
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    cli_strip_slashes(p);
    /* a record is a directory of its own, named by its last component */
    const char *last = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
    if (!strcmp(p, "/") || !strcmp(last, ".") || !strcmp(last, "..")) {
        fprintf(stderr, "nnrun: error: %s %s: a record goes to a directory of its own, given "
                "by its name, not '%s'; nothing was written\n", opt, path,
                !strcmp(p, "/") ? "/" : last);
        return EXIT_USAGE;
    }
    for (const char *c = p; *c;) {
        const size_t l = strcspn(c, "/");
        const int final = !c[l];
        if (l > (size_t)NAME_MAX - (final ? 24 : 0)) {
            fprintf(stderr, "nnrun: error: %s: the name '%.40s...' is %zu bytes long; the "
                    "system allows %d per name%s; nothing was written\n", opt, c, l, NAME_MAX,
                    final ? " (less 24 for the -N or staging suffix)" : "");
            return EXIT_USAGE;
        }
        c += l;
        while (*c == '/') c++;
    }
    if (!force) return 0;
    struct stat st;
    if (lstat(p, &st)) return 0;   /* nothing to replace */
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "nnrun: error: %s %s exists and is not a directory; --force replaces "
                "only a %s\n", opt, p, kind_names[kind]);
        return EXIT_USAGE;
    }
    return check_record(opt, p, p, (enum rec_kind)kind);
}

int cli_check_inside(const char *opt, const char *dir, const char *file, int force)
{
    if (!force || !dir || !file) return 0;
    char d[PATH_MAX], f[PATH_MAX];
    if (!realpath(dir, d) || !realpath(file, f)) return 0;   /* no DIR: nothing replaced */
    const size_t l = strlen(d);
    if (strncmp(f, d, l) || (f[l] != '/' && strcmp(d, "/"))) return 0;
    fprintf(stderr, "nnrun: error: %s lies inside %s %s, which --force would replace; copy "
            "it elsewhere first, or choose another %s; nothing was written\n", file, opt, dir,
            opt);
    return EXIT_USAGE;
}

/* With a sweep's --force: a lock on each trial record in base/runs, so that
 * none being resumed is replaced.  0, or EXIT_RUNTIME with the message. */
static int lock_trials(struct cli_dir *d, const char *base)
{
    char runs[PATH_MAX];
    if ((size_t)snprintf(runs, sizeof runs, "%s/runs", base) >= sizeof runs) return 0;
    DIR *dp = opendir(runs);
    if (!dp) return 0;
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(dp));) {
        char full[PATH_MAX];
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (size_t)snprintf(full, sizeof full, "%s/%s", runs, e->d_name) >= sizeof full ||
            lstat(full, &st) || !S_ISDIR(st.st_mode))
            continue;
        const int fd = nn_dir_lock(full);
        if (fd < 0) {
            fprintf(stderr, "nnrun: error: %s: %s\n", full, errno == EBUSY ? "in use by another "
                    "nnrun process (a resume of this trial?); --force does not replace a sweep "
                    "while one of its records is being written" : strerror(errno));
            rc = EXIT_RUNTIME;
            break;
        }
        d->sub_fd = nn_xrealloc(d->sub_fd, (size_t)(d->n_sub + 1) * sizeof *d->sub_fd);
        d->sub_fd[d->n_sub++] = fd;
    }
    closedir(dp);
    return rc;
}

int cli_claim(struct cli_dir *d, const char *base_in, int force, enum cli_dir_kind kind)
{
    char err[PATH_MAX + 256], base[PATH_MAX];
    memset(d, 0, sizeof *d);
    d->lock_fd = d->old_lock_fd = -1;
    snprintf(base, sizeof base, "%s", base_in);
    cli_strip_slashes(base);
    struct stat st;
    if (force && !lstat(base, &st)) {
        const char *opt = kind == CLI_DIR_EMIT ? "--emit" : "--out";
        /* locked first, then checked: what is checked is what gets replaced */
        if (S_ISDIR(st.st_mode) && (d->old_lock_fd = nn_dir_lock(base)) < 0) {
            fprintf(stderr, "nnrun: error: %s: %s\n", base, errno == EBUSY ? "in use by another "
                    "nnrun process; --force does not replace a record being written" :
                    strerror(errno));
            return EXIT_RUNTIME;
        }
        int rc = cli_check_out(opt, base, 0, 1, kind);
        if (!rc && kind == CLI_DIR_SWEEP) rc = lock_trials(d, base);
        if (rc) {
            cli_release(d);
            return rc;
        }
        if (nn_claim_staging(base, d->dir, sizeof d->dir, err, sizeof err)) {
            fprintf(stderr, "nnrun: error: %s\n", err);
            cli_release(d);
            return EXIT_RUNTIME;
        }
        snprintf(d->final, sizeof d->final, "%s", base);
        d->lock_fd = nn_dir_lock(d->dir);   /* .BASE.new.PID: ours by its name */
        return 0;
    }
    const int r = nn_claim_dir(base, d->dir, sizeof d->dir, &d->lock_fd, err, sizeof err);
    if (r < 0) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        return EXIT_RUNTIME;
    }
    d->renamed = r;
    return 0;
}

int cli_place(struct cli_dir *d, char *err, size_t n_err)
{
    if (!d->final[0]) return 0;
    if (nn_dir_replace(d->dir, d->final, err, n_err)) return -1;
    snprintf(d->dir, sizeof d->dir, "%s", d->final);
    d->final[0] = '\0';
    return 0;
}

void cli_release(struct cli_dir *d)
{
    if (d->final[0]) nn_remove_tree(d->dir);   /* never placed: the old record stays */
    d->final[0] = '\0';
    if (d->lock_fd >= 0) close(d->lock_fd);
    if (d->old_lock_fd >= 0) close(d->old_lock_fd);
    for (int i = 0; i < d->n_sub; i++) close(d->sub_fd[i]);
    free(d->sub_fd);
    d->sub_fd = NULL;
    d->n_sub = 0;
    d->lock_fd = d->old_lock_fd = -1;
}

void cli_csv_field(struct cli_sb *b, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        cli_sb_put(b, ",%s", s);
        return;
    }
    cli_sb_put(b, ",\"");
    for (; *s; s++) cli_sb_put(b, *s == '"' ? "\"\"" : "%c", *s);
    cli_sb_put(b, "\"");
}
