#include "common.h"

#include <stdlib.h>
#include <string.h>

#include "nnrun/data.h"
#include "nnrun/util.h"

struct nn_spec *t_spec(const char *yaml)
{
    struct nn_diag d;
    nn_diag_init(&d, "t.yaml");
    struct nn_spec *s = nn_spec_from_string(yaml, strlen(yaml), "t.yaml", &d);
    if (!s) {
        nn_diag_print(&d, stderr);
        ck_abort_msg("spec did not parse: %s", d.n_errors ? d.msgs[0] : "?");
    }
    nn_diag_free(&d);
    return s;
}

struct nn_spec *t_model(const char *yaml, struct nn_graph *g)
{
    struct nn_spec *s = t_spec(yaml);
    struct nn_diag d;
    nn_diag_init(&d, "t.yaml");
    if (nn_graph_build(g, s, &d)) {
        nn_diag_print(&d, stderr);
        ck_abort_msg("graph did not build: %s", d.n_errors ? d.msgs[0] : "?");
    }
    nn_diag_free(&d);
    return s;
}

const char *t_errors(const char *yaml)
{
    static char buf[8192];
    struct nn_diag d;
    nn_diag_init(&d, "t.yaml");
    struct nn_spec *s = nn_spec_from_string(yaml, strlen(yaml), "t.yaml", &d);
    if (s) {
        struct nn_graph g;
        if (nn_graph_build(&g, s, &d) == 0) nn_graph_free(&g);
        nn_spec_free(s);
    }
    if (!d.n_errors) {
        nn_diag_free(&d);
        return NULL;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < d.n_errors && used < sizeof buf; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s\n", d.msgs[i]);
    nn_diag_free(&d);
    return buf;
}

void t_fill(float *p, size_t n, float lo, float hi, uint64_t seed)
{
    struct nn_rng r;
    nn_rng_init(&r, seed, 77);
    for (size_t i = 0; i < n; i++) p[i] = nn_rng_uniform(&r, lo, hi);
}

int t_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int t_have_data(void)
{
    struct nn_data_paths p;
    char err[2048];
    if (nn_fashion_mnist_find(&p, err, sizeof err) == 0) return 1;
    const char *req = getenv("NNRUN_REQUIRE_DATA");
    if (req && !strcmp(req, "1")) {
        fprintf(stderr, "NNRUN_REQUIRE_DATA=1 but the data set is missing: %s\n", err);
        exit(EXIT_FAILURE);
    }
    return 0;
}

void t_row_bands(struct nn_dataset *ds, size_t n, uint64_t seed)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n, ds->h = 10, ds->w = 10, ds->c = 1, ds->n_classes = 10;
    ds->images = malloc(ds->n * 100);
    ds->labels = malloc(ds->n);
    struct nn_rng r;
    nn_rng_init(&r, seed, 3);
    for (size_t i = 0; i < ds->n; i++) {
        int y = (int)nn_rng_below(&r, 10);
        ds->labels[i] = (uint8_t)y;
        for (int p = 0; p < 100; p++)
            ds->images[i * 100 + p] = (uint8_t)(nn_rng_below(&r, 60) + (p / 10 == y ? 190 : 0));
    }
}
