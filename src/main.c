/* main.c - the command line: argv -> subcommand -> exit status.
 *   0 success, 1 runtime failure (data, memory, NaN), 2 bad spec or usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/data.h"
#include "nnrun/graph.h"
#include "nnrun/layer.h"
#include "nnrun/parallel.h"
#include "nnrun/spec.h"
#include "nnrun/train.h"
#include "nnrun/util.h"

#ifndef NNRUN_VERSION
#define NNRUN_VERSION "dev"
#endif

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static const char usage[] =
    "usage: nnrun [train] SPEC [options]   train the spec's model, then evaluate it\n"
    "       nnrun check SPEC               validate the spec and print its layer table\n"
    "       nnrun bench SPEC               time each layer and whole training steps\n"
    "       nnrun --help | --version\n"
    "\n"
    "options:\n"
    "  --threads N   worker threads (default: all cores); results do not depend on it\n"
    "  --seed N      use seed N instead of the spec's seed\n"
    "  --set KEY=VALUE  change any key of the spec before it is checked, e.g.\n"
    "                --set train.epochs=5 --set model.layers.3.dense.units=64\n"
    "  --quiet       print only the final test line\n"
    "\n"
    "exit status: 0 success, 1 runtime failure, 2 bad spec or bad arguments\n";

#define MAX_SETS 64

struct cli {
    const char *cmd, *spec;
    int threads, quiet;
    long long seed;   /* -1: the spec's */
    const char *sets[MAX_SETS];   /* --set KEY=VALUE, in order */
    int n_sets;
};

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

static int parse_cli(int argc, char **argv, struct cli *c)
{
    memset(c, 0, sizeof *c);
    c->cmd = "train";
    c->seed = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long long v;
        if (!strcmp(a, "--threads")) {
            if (parse_int_arg(a, i + 1 < argc ? argv[++i] : NULL, 1, 1024, &v)) return -1;
            c->threads = (int)v;
        } else if (!strcmp(a, "--seed")) {
            if (parse_int_arg(a, i + 1 < argc ? argv[++i] : NULL, 0, 1LL << 62, &v)) return -1;
            c->seed = v;
        } else if (!strcmp(a, "--set")) {
            if (i + 1 >= argc || c->n_sets == MAX_SETS) {
                fprintf(stderr, "nnrun: error: --set needs KEY=VALUE (at most %d of them)\n",
                        MAX_SETS);
                return -1;
            }
            c->sets[c->n_sets++] = argv[++i];
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            c->quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nnrun: error: unknown option '%s'\n%s", a, usage);
            return -1;
        } else if (!c->spec && (!strcmp(a, "train") || !strcmp(a, "check") ||
                                !strcmp(a, "bench")) &&
                   !strcmp(c->cmd, "train") && i + 1 < argc) {
            c->cmd = a;
        } else if (!c->spec) {
            c->spec = a;
        } else {
            fprintf(stderr, "nnrun: error: unexpected argument '%s'\n%s", a, usage);
            return -1;
        }
    }
    if (!c->spec) {
        fprintf(stderr, "nnrun: error: no spec file given\n%s", usage);
        return -1;
    }
    return 0;
}

/* Loads the spec, applies the overrides and builds the graph; prints every
 * error.  0 or EXIT_USAGE. */
static int load_model(const struct cli *c, struct nn_spec **spec, struct nn_graph *g)
{
    const char *path = c->spec;
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
    if (*spec && nn_graph_build(g, *spec, &d)) {
        nn_spec_free(*spec);
        *spec = NULL;
    }
    nn_diag_print(&d, stderr);
    nn_diag_free(&d);
    return *spec ? 0 : EXIT_USAGE;
}

/* Loads the train and test sets the spec names; checks them against it. */
static int load_data(const struct nn_spec *s, struct nn_dataset *train, struct nn_dataset *test)
{
    char err[2048];
    struct nn_data_paths p;
    if (s->data.dataset) {
        if (nn_fashion_mnist_find(&p, err, sizeof err)) {
            fprintf(stderr, "nnrun: error: %s\n", err);
            return EXIT_RUNTIME;
        }
    } else {
        snprintf(p.train_images, sizeof p.train_images, "%s", s->data.train_images);
        snprintf(p.train_labels, sizeof p.train_labels, "%s", s->data.train_labels);
        snprintf(p.test_images, sizeof p.test_images, "%s", s->data.test_images);
        snprintf(p.test_labels, sizeof p.test_labels, "%s", s->data.test_labels);
    }
    if (nn_dataset_load(train, p.train_images, p.train_labels, s->data.classes, err, sizeof err) ||
        nn_dataset_load(test, p.test_images, p.test_labels, s->data.classes, err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        nn_dataset_free(train);
        return EXIT_RUNTIME;
    }
    nn_dataset_truncate(train, (size_t)s->data.train_samples);
    nn_dataset_truncate(test, (size_t)s->data.test_samples);
    struct nn_diag d;
    nn_diag_init(&d, s->path);
    if (train->h != s->input[0] || train->w != s->input[1] || train->c != s->input[2])
        nn_diag_error(&d, s->input_mark, "model input [%d, %d, %d] does not match the images of "
                      "%s, which are [%d, %d, %d]", s->input[0], s->input[1], s->input[2],
                      p.train_images, train->h, train->w, train->c);
    else if (test->h != train->h || test->w != train->w || test->c != train->c)
        nn_diag_error(&d, s->input_mark, "test images %s are [%d, %d, %d], training images "
                      "[%d, %d, %d]", p.test_images, test->h, test->w, test->c, train->h,
                      train->w, train->c);
    if ((size_t)s->train.batch_size > train->n)
        nn_diag_error(&d, s->batch_mark, "batch_size %d is larger than the %zu training "
                      "samples", s->train.batch_size, train->n);
    int bad = d.n_errors;
    nn_diag_print(&d, stderr);
    nn_diag_free(&d);
    if (bad) {
        nn_dataset_free(train);
        nn_dataset_free(test);
        return EXIT_USAGE;
    }
    return 0;
}

static int cmd_check(const struct cli *c)
{
    struct nn_spec *s;
    struct nn_graph g;
    int rc = load_model(c, &s, &g);
    if (rc) return rc;
    nn_graph_summary(&g, s, stdout);
    nn_graph_free(&g);
    nn_spec_free(s);
    return EXIT_OK;
}

static int cmd_bench(const struct cli *c)
{
    struct nn_spec *s;
    struct nn_graph g;
    int rc = load_model(c, &s, &g);
    if (rc) return rc;
    char err[512];
    if (nn_bench(&g, s, c->threads, 20, stdout, err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        rc = EXIT_RUNTIME;
    }
    nn_graph_free(&g);
    nn_spec_free(s);
    return rc;
}

static int cmd_train(const struct cli *c)
{
    struct nn_spec *s;
    struct nn_graph g;
    int rc = load_model(c, &s, &g);
    if (rc) return rc;
    if (c->seed >= 0) s->seed = (uint64_t)c->seed;
    struct nn_dataset train = {0}, test = {0};
    rc = load_data(s, &train, &test);
    if (rc) goto out_model;
    char err[512];
    struct nn_pool *pool = nn_pool_create(c->threads);
    if (nn_graph_alloc(&g, s->train.batch_size, nn_pool_threads(pool), err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        rc = EXIT_RUNTIME;
        goto out_pool;
    }
    nn_graph_init_params(&g, s->seed);
    FILE *log = c->quiet ? NULL : stdout;
    if (log)
        fprintf(log, "%s: %zu parameters, %zu training and %zu test samples, seed %llu, "
                "%d threads\n", s->name, g.n_params, train.n, test.n,
                (unsigned long long)s->seed, nn_pool_threads(pool));
    struct nn_train_opts opts = {pool, log};
    double t0 = nn_now();
    if (nn_train(&g, s, &train, &opts, NULL, err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        rc = EXIT_RUNTIME;
    } else {
        double train_s = nn_now() - t0;
        struct nn_eval_stats ev;
        nn_evaluate(&g, s, &test, pool, &ev);
        printf("test: loss %.4f  accuracy %.4f  mse %.4f  (%ld samples, %.2fs; training %.1fs)\n",
               ev.loss, ev.accuracy, ev.mse, ev.n, ev.seconds, train_s);
        printf("test accuracy: %.2f%%\n", 100.0 * ev.accuracy);
    }
out_pool:
    nn_pool_free(pool);
    nn_dataset_free(&train);
    nn_dataset_free(&test);
out_model:
    nn_graph_free(&g);
    nn_spec_free(s);
    return rc;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("nnrun %s\n", NNRUN_VERSION);
            return EXIT_OK;
        }
    }
    struct cli c;
    if (parse_cli(argc, argv, &c)) return EXIT_USAGE;
    if (!strcmp(c.cmd, "check")) return cmd_check(&c);
    if (!strcmp(c.cmd, "bench")) return cmd_bench(&c);
    return cmd_train(&c);
}
