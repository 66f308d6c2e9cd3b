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

#include "cli.h"
#include "nnrun/parallel.h"
#include "nnrun/run.h"
#include "nnrun/util.h"

#define EVAL_BATCH 256

/* The model of a run directory (spec.yaml + model.nnw) or of a spec and
 * --weights; allocated, weights loaded, with the input scaling the weights
 * file keeps (data.standardize) in sc. */
static int load_trained(const struct cli *c, const char *where, struct nn_spec **s,
                        struct nn_graph *g, struct nn_pool **pool, struct nn_input_scaling *sc)
{
    char spec[PATH_MAX], weights[PATH_MAX];
    struct stat st;
    const int is_dir = !stat(where, &st) && S_ISDIR(st.st_mode);
    if (strlen(where) + sizeof "/spec.yaml" > sizeof spec ||
        (c->weights && strlen(c->weights) >= sizeof weights)) {
        fprintf(stderr, "nnrun: error: %.200s...: the path is too long\n",
                strlen(where) + sizeof "/spec.yaml" > sizeof spec ? where : c->weights);
        return EXIT_USAGE;
    }
    if (is_dir) {
        snprintf(spec, sizeof spec, "%s/spec.yaml", where);
        snprintf(weights, sizeof weights, "%s/model.nnw", where);
        if (c->weights) snprintf(weights, sizeof weights, "%s", c->weights);
    } else {
        if (!c->weights) {
            fprintf(stderr, "nnrun: error: %s is not a run directory; give a run directory, "
                    "or a spec with --weights FILE\n", where);
            return EXIT_USAGE;
        }
        snprintf(spec, sizeof spec, "%s", where);
        snprintf(weights, sizeof weights, "%s", c->weights);
    }
    int rc = cli_load_model(c, spec, s, g);
    if (rc) return rc;
    char err[1024];
    *pool = nn_pool_create(c->threads);
    /* the spec's hash must match unless --set changed it on purpose */
    if (nn_graph_alloc(g, EVAL_BATCH, nn_pool_threads(*pool), err, sizeof err) ||
        nn_load_weights(g, weights, c->n_sets ? 0 : nn_spec_hash(*s), sc, err, sizeof err)) {
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
    uint32_t dims[4];
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
        ds.n = dims[0];
        ds.h = rank > 1 ? (int)dims[1] : 1;
        ds.w = rank > 2 ? (int)dims[2] : 1;
        ds.c = rank > 3 ? (int)dims[3] : 1;
    }
    if (rank < 3 || ds.h != s->input[0] || ds.w != s->input[1] || ds.c != s->input[2]) {
        fprintf(stderr, "nnrun: error: %s: images are [%d, %d, %d] (rank %d), the model takes "
                "[%d, %d, %d]\n", c.pos[1], ds.h, ds.w, ds.c, rank, s->input[0], s->input[1],
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
