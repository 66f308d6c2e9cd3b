/* eval.c - `nnrun eval RUN_DIR` (or SPEC --weights FILE): accuracy,
 * per-class accuracy and the confusion matrix on the test set;
 * `nnrun predict RUN_DIR IMAGES`: the class and probability of each image
 * of an IDX file. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "nnrun/checkpoint.h"
#include "nnrun/parallel.h"
#include "nnrun/run.h"
#include "nnrun/util.h"

#define EVAL_BATCH 256

/* The spec at path with the first n of sets applied, or NULL; quiet (the
 * full spec has been loaded and reported on already). */
static struct nn_spec *load_quiet(const char *path, const char *const *sets, int n)
{
    struct nn_diag d;
    nn_diag_init(&d, path);
    d.overrides = sets;
    d.n_overrides = n;
    struct nn_ynode *root = nn_yaml_parse_file(path, &d);
    int bad = !root;
    for (int i = 0; root && !bad && i < n; i++) bad = nn_spec_override(root, sets[i], i + 1, &d);
    struct nn_spec *s = bad ? NULL : nn_spec_from_tree(root, path, &d);
    nn_ynode_free(root);
    nn_diag_free(&d);
    return s;
}

/* What weights depend on: the resolved spec's model section (input and
 * layers with every argument) and the input scaling (data.divide_by,
 * data.standardize).  malloc'd text. */
static char *model_of(const struct nn_spec *s)
{
    char *y = nn_spec_to_yaml(s);
    const char *a = strstr(y, "\nmodel:\n"), *b = a ? strstr(a, "\ntrain:\n") : NULL;
    struct cli_sb m = {0};
    if (a && b) cli_sb_put(&m, "%.*s", (int)(b - a), a);
    else cli_sb_put(&m, "%s", y);   /* no sections found: the whole spec */
    cli_sb_put(&m, "\ndivide_by %a standardize %d\n", (double)s->data.divide_by,
               s->data.standardize);
    free(y);
    return m.p;
}

/* Whether the weights file (written for the spec hash `hash`) belongs to
 * the resolved spec s (spec_path with c's overrides).  It does when the
 * hashes agree; with --set, also when the file was written for spec_path
 * with the first k of the overrides (the longest such k is taken: the
 * overrides it was trained with, then free ones) and none of the others
 * changes the model (a test set, test_samples, batch_size, the loss are
 * free; units, layers, input shape, divide_by and standardize are not).
 * 0, or -1 with the message printed. */
static int weights_belong(const struct cli *c, const char *spec_path, const struct nn_spec *s,
                          const char *weights, uint64_t hash)
{
    const uint64_t mine = nn_spec_hash(s);
    if (hash == mine) return 0;
    if (!c->n_sets) {
        fprintf(stderr, "nnrun: error: %s: was written for a spec with hash %016llx; %s has "
                "hash %016llx: the weights belong to another spec (give the run directory "
                "they came from, or the spec with the --set overrides they were trained "
                "with)\n", weights, (unsigned long long)hash, spec_path,
                (unsigned long long)mine);
        return -1;
    }
    struct nn_spec *base = NULL;
    uint64_t base_hash = 0;
    /* models[i]: the model of spec_path with the first i overrides, kept
     * from the search below for the check after it (NULL: did not load) */
    char *models[CLI_MAX_SETS + 1] = {0};
    int k = c->n_sets - 1;   /* all n_sets were tried: hash != mine */
    for (; k >= 0; k--) {
        struct nn_spec *t = load_quiet(spec_path, c->sets, k);
        const uint64_t h = t ? nn_spec_hash(t) : 0;
        if (!k) base_hash = h;
        if (t && h == hash) {
            base = t;
            break;
        }
        if (t) models[k] = model_of(t);
        nn_spec_free(t);
    }
    if (!base) {
        for (int i = 0; i < c->n_sets; i++) free(models[i]);
        fprintf(stderr, "nnrun: error: %s: was written for a spec with hash %016llx; %s has "
                "hash %016llx with the --set overrides, %016llx without, and none of the "
                "first overrides alone gives it: the weights belong to another spec (give the "
                "run directory they came from, or the spec with the overrides they were "
                "trained with first)\n", weights, (unsigned long long)hash, spec_path,
                (unsigned long long)mine, (unsigned long long)base_hash);
        return -1;
    }
    /* the file is spec_path's with the first k overrides: each later one in
     * turn must leave its model */
    int rc = -1;
    char *want = model_of(base);
    int j = k;
    for (; j < c->n_sets; j++) {
        if (j + 1 == c->n_sets) {   /* the one spec the search did not load */
            struct nn_spec *t = load_quiet(spec_path, c->sets, j + 1);
            models[j + 1] = t ? model_of(t) : NULL;
            nn_spec_free(t);
        }
        if (!models[j + 1] || strcmp(models[j + 1], want)) break;
    }
    for (int i = k + 1; i <= c->n_sets; i++) free(models[i]);
    if (j == c->n_sets) {
        rc = 0;
    } else {
        char with[64] = "";
        if (k) snprintf(with, sizeof with, " with the first %d override%s", k, k > 1 ? "s" : "");
        fprintf(stderr, "nnrun: error: --set %s: changes the model that %s was trained "
                "as (%s%s: its input, layers or input scaling); weights never load into "
                "another model\n", c->sets[j], weights, spec_path, with);
    }
    free(want);
    nn_spec_free(base);
    return rc;
}

/* The model of a run directory (spec.yaml + model.nnw) or of a spec and
 * --weights; allocated, weights loaded, with the input scaling the weights
 * file keeps (data.standardize) in sc. */
static int load_trained(const struct cli *c, const char *where, struct nn_spec **s,
                        struct nn_graph *g, struct nn_pool **pool, struct nn_input_scaling *sc)
{
    char spec[PATH_MAX], weights[PATH_MAX], err[1024], why[256];
    struct stat st;
    const int is_dir = !stat(where, &st) && S_ISDIR(st.st_mode);
    if (strlen(where) + sizeof "/spec.yaml" > sizeof spec ||
        (c->weights && strlen(c->weights) >= sizeof weights)) {
        fprintf(stderr, "nnrun: error: %.200s...: the path is too long\n",
                strlen(where) + sizeof "/spec.yaml" > sizeof spec ? where : c->weights);
        return EXIT_USAGE;
    }
    if (is_dir) {
        if ((size_t)snprintf(spec, sizeof spec, "%s/spec.yaml", where) >= sizeof spec ||
            (size_t)snprintf(weights, sizeof weights, "%s/model.nnw", where) >= sizeof weights) {
            fprintf(stderr, "nnrun: error: %s: path too long\n", where);
            return EXIT_USAGE;
        }
        if (c->weights) snprintf(weights, sizeof weights, "%s", c->weights);
    } else {
        if (!c->weights) {
            fprintf(stderr, "nnrun: error: %s: %s; give a run directory, or a spec with "
                    "--weights FILE\n", where,
                    access(where, F_OK) ? "no such run directory" : "is not a run directory");
            return EXIT_USAGE;
        }
        snprintf(spec, sizeof spec, "%s", where);
        snprintf(weights, sizeof weights, "%s", c->weights);
    }
    /* the spec is read twice (with and without --set): a regular file of at
     * most NN_SPEC_FILE_MAX bytes, never a FIFO or a device to block on */
    uint64_t size;
    int fd = nn_open_regular(spec, NN_SPEC_FILE_MAX, &size, why, sizeof why);
    if (fd < 0) {
        fprintf(stderr, "nnrun: error: %s: %s\n", spec, why);
        return EXIT_USAGE;   /* as a spec that does not parse */
    }
    close(fd);
    int rc = cli_load_model(c, spec, s, g);
    if (rc) return rc;
    /* the file's header first: the parameter count and the spec it belongs to */
    struct nn_ckpt h;
    if (nn_ckpt_read_header(weights, g->n_params, &h, err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        rc = EXIT_RUNTIME;
    } else if (h.n_params != g->n_params) {
        fprintf(stderr, "nnrun: error: %s: holds %llu parameters, the model has %zu\n", weights,
                (unsigned long long)h.n_params, g->n_params);
        rc = EXIT_RUNTIME;
    } else if (weights_belong(c, spec, *s, weights, h.spec_hash)) {
        rc = EXIT_RUNTIME;
    }
    if (rc) {
        nn_graph_free(g);
        nn_spec_free(*s);
        return rc;
    }
    *pool = nn_pool_create(c->threads);
    if (nn_graph_alloc(g, EVAL_BATCH, nn_pool_threads(*pool), err, sizeof err) ||
        nn_load_weights(g, weights, h.spec_hash, sc, err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        nn_pool_free(*pool);
        nn_graph_free(g);
        nn_spec_free(*s);
        return EXIT_RUNTIME;
    }
    return 0;
}

int cmd_eval(int argc, char **argv, int first)
{
    struct cli c = {.cmd = "eval"};
    if (cli_parse(argc, argv, first, OPT_THREADS | OPT_SET | OPT_JSON | OPT_WEIGHTS, &c))
        return EXIT_USAGE;
    if (c.n_pos != 1) {
        fprintf(stderr, "nnrun: error: usage: nnrun eval RUN_DIR, or nnrun eval SPEC --weights "
                "FILE\n");
        return EXIT_USAGE;
    }
    struct nn_spec *s;
    struct nn_graph g;
    struct nn_pool *pool;
    struct nn_input_scaling sc;
    int rc = load_trained(&c, c.pos[0], &s, &g, &pool, &sc);
    if (rc) return rc;
    struct nn_dataset test = {0};
    rc = cli_load_test(s, &test);
    if (!rc) rc = cli_input_scaling(s, &sc, &test);   /* the weights file's numbers */
    if (rc) goto out;
    const int C = g.nodes[g.output].c;
    uint8_t *pred = nn_xmalloc(test.n);
    uint32_t *m = nn_xcalloc((size_t)C * (size_t)C, sizeof *m);
    struct nn_eval_stats ev;
    nn_predict(&g, s, &test, pool, &ev, pred, NULL);
    nn_confusion(&test, pred, C, m);
    char nb[16];
    if (c.json) {
        /* NaN or infinite numbers are written null, as in results.json */
        printf("{\"samples\": %ld, \"loss\": ", ev.n);
        nn_json_number(stdout, "%.6f", ev.loss);
        printf(", \"accuracy\": ");
        nn_json_number(stdout, "%.6f", ev.accuracy);
        printf(", \"mse\": ");
        nn_json_number(stdout, "%.6f", ev.mse);
        printf(", \"per_class\": [");
        for (int k = 0; k < C; k++) {
            uint32_t tot = 0;
            for (int p = 0; p < C; p++) tot += m[k * C + p];
            printf("%s{\"class\": ", k ? ", " : "");
            nn_json_string(stdout, nn_class_name(s->data.dataset, k, nb, sizeof nb));
            printf(", \"accuracy\": ");
            nn_json_number(stdout, "%.6f", tot ? (double)m[k * C + k] / tot : NAN);
            printf(", \"samples\": %u}", tot);
        }
        printf("], \"confusion\": [");
        for (int k = 0; k < C; k++) {
            printf("%s[", k ? ", " : "");
            for (int p = 0; p < C; p++) printf("%s%u", p ? ", " : "", m[k * C + p]);
            printf("]");
        }
        printf("]}\n");
    } else {
        printf("test: %ld samples  accuracy %.2f%%  loss %.4f  mse %.4f\n\n", ev.n,
               100 * ev.accuracy, ev.loss, ev.mse);
        printf("per-class accuracy:\n");
        for (int k = 0; k < C; k++) {
            uint32_t tot = 0;
            for (int p = 0; p < C; p++) tot += m[k * C + p];
            printf("  %2d %-12s %6.2f%%  (%u/%u)\n", k, nn_class_name(s->data.dataset, k, nb, sizeof nb),
                   tot ? 100.0 * m[k * C + k] / tot : 0.0, m[k * C + k], tot);
        }
        printf("\nconfusion matrix (rows: true class, columns: predicted class):\n     ");
        for (int p = 0; p < C; p++) printf(" %5d", p);
        printf("\n");
        for (int k = 0; k < C; k++) {
            printf("  %2d ", k);
            for (int p = 0; p < C; p++) printf(" %5u", m[k * C + p]);
            printf("   %s\n", nn_class_name(s->data.dataset, k, nb, sizeof nb));
        }
    }
    free(pred);
    free(m);
out:
    nn_dataset_free(&test);
    nn_input_scaling_free(&sc);
    nn_pool_free(pool);
    nn_graph_free(&g);
    nn_spec_free(s);
    return rc;
}

/* "x.csv" or "x.csv.gz" */
static int is_csv(const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && !strcmp(path + n - 3, ".gz")) n -= 3;
    return n >= 4 && !strncmp(path + n - 4, ".csv", 4);
}

int cmd_predict(int argc, char **argv, int first)
{
    struct cli c = {.cmd = "predict"};
    if (cli_parse(argc, argv, first, OPT_THREADS | OPT_JSON | OPT_WEIGHTS, &c))
        return EXIT_USAGE;
    if (c.n_pos != 2) {
        fprintf(stderr, "nnrun: error: usage: nnrun predict RUN_DIR IMAGES (an IDX file of "
                "images, or a CSV file laid out as the spec's data; gzipped or not)\n");
        return EXIT_USAGE;
    }
    struct nn_spec *s;
    struct nn_graph g;
    struct nn_pool *pool;
    struct nn_input_scaling sc;
    int rc = load_trained(&c, c.pos[0], &s, &g, &pool, &sc);
    if (rc) return rc;
    char err[1024];
    struct nn_dataset ds = {0};
    int rank = 4;
    uint32_t dims[4] = {0};
    /* images from a FIFO or a device would block or never end: a regular file */
    uint64_t size;
    char why[256];
    int fd = nn_open_regular(c.pos[1], 0, &size, why, sizeof why);
    if (fd < 0) {
        fprintf(stderr, "nnrun: error: %s: %s\n", c.pos[1], why);
        rc = EXIT_RUNTIME;
        goto out;
    }
    close(fd);
    if (is_csv(c.pos[1])) {
        /* the layout of the spec's CSV files (label column, header), else a
         * label in column 0 under a header line; the labels are not used */
        const int csv = s->data.format == NN_DATA_CSV;
        if (nn_csv_load(&ds, c.pos[1], csv ? s->data.label_column : 0, csv ? s->data.header : 1,
                        s->input[0], s->input[1], s->input[2], s->data.classes, err,
                        sizeof err)) {
            fprintf(stderr, "nnrun: error: %s\n", err);
            rc = EXIT_RUNTIME;
            goto out;
        }
        free(ds.labels);
        ds.labels = NULL;
    } else {
        if (nn_idx_read(c.pos[1], &ds.images, &rank, dims, 4, err, sizeof err)) {
            fprintf(stderr, "nnrun: error: %s\n", err);
            rc = EXIT_RUNTIME;
            goto out;
        }
        /* one image's shape as the file gives it: rank 3 is [h, w], 1 channel */
        char shape[96];
        int at = snprintf(shape, sizeof shape, "[");
        for (int k = 1; k < rank; k++)
            at += snprintf(shape + at, sizeof shape - (size_t)at, "%s%u", k > 1 ? ", " : "",
                           dims[k]);
        snprintf(shape + at, sizeof shape - (size_t)at, "]%s", rank == 3 ? " (1 channel)" : "");
        const uint32_t want[3] = {(uint32_t)s->input[0], (uint32_t)s->input[1],
                                  (uint32_t)s->input[2]};
        const int fits = (rank == 3 && dims[1] == want[0] && dims[2] == want[1] && want[2] == 1) ||
                         (rank == 4 && dims[1] == want[0] && dims[2] == want[1] &&
                          dims[3] == want[2]);
        if (rank < 3 || !fits) {
            fprintf(stderr, "nnrun: error: %s: an IDX file of rank %d: %u image%s of %s; the "
                    "model takes images of [%d, %d, %d]\n", c.pos[1], rank, dims[0],
                    dims[0] == 1 ? "" : "s", rank < 2 ? "[] (no image dimensions)" : shape,
                    s->input[0], s->input[1], s->input[2]);
            rc = EXIT_RUNTIME;
            goto out_data;
        }
        ds.n = dims[0];
        ds.h = s->input[0];
        ds.w = s->input[1];
        ds.c = s->input[2];
    }
    if (ds.n == 0) {
        fprintf(stderr, "nnrun: error: %s: holds 0 images of [%d, %d, %d]: nothing to "
                "predict\n", c.pos[1], ds.h, ds.w, ds.c);
        rc = EXIT_RUNTIME;
        goto out_data;
    }
    if (ds.h != s->input[0] || ds.w != s->input[1] || ds.c != s->input[2]) {
        fprintf(stderr, "nnrun: error: %s: images are [%d, %d, %d], the model takes "
                "[%d, %d, %d]\n", c.pos[1], ds.h, ds.w, ds.c, s->input[0], s->input[1],
                s->input[2]);
        rc = EXIT_RUNTIME;
        goto out_data;
    }
    rc = cli_input_scaling(s, &sc, &ds);   /* data.standardize: training's numbers */
    if (rc) goto out_data;
    ds.labels = nn_xcalloc(ds.n ? ds.n : 1, 1);   /* unknown: the loss is not reported */
    uint8_t *pred = nn_xmalloc(ds.n ? ds.n : 1);
    float *prob = nn_xmalloc((ds.n ? ds.n : 1) * sizeof *prob);
    struct nn_eval_stats ev;
    nn_predict(&g, s, &ds, pool, &ev, pred, prob);
    char nb[16];
    for (size_t i = 0; i < ds.n; i++) {
        const char *name = nn_class_name(s->data.dataset, pred[i], nb, sizeof nb);
        if (c.json) {
            printf("{\"index\": %zu, \"class\": %d, \"name\": ", i, pred[i]);
            nn_json_string(stdout, name);
            printf(", \"probability\": ");
            nn_json_number(stdout, "%.6f", prob[i]);
            printf("}\n");
        } else {
            printf("%zu\t%d\t%s\t%.4f\n", i, pred[i], name, prob[i]);
        }
    }
    free(pred);
    free(prob);
out_data:
    nn_dataset_free(&ds);
out:
    nn_input_scaling_free(&sc);
    nn_pool_free(pool);
    nn_graph_free(&g);
    nn_spec_free(s);
    return rc;
}
