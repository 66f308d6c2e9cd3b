/* inspect.c - `nnrun check SPEC` (the layer table) and `nnrun bench SPEC`
 * (per-layer timings). */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "nnrun/train.h"

static int one_spec(const struct cli *c)
{
    if (c->n_pos != 1) {
        fprintf(stderr, "nnrun: error: 'nnrun %s' takes one spec file, got %d arguments\n",
                c->cmd, c->n_pos);
        return -1;
    }
    return 0;
}

int cmd_check(int argc, char **argv, int first)
{
    struct cli c = {.cmd = "check"};
    if (cli_parse(argc, argv, first, OPT_SET | OPT_SEED, &c) || one_spec(&c)) return EXIT_USAGE;
    struct nn_spec *s;
    struct nn_graph g;
    int rc = cli_load_model(&c, c.pos[0], &s, &g);
    if (rc) return rc;
    nn_graph_summary(&g, s, stdout);
    nn_graph_free(&g);
    nn_spec_free(s);
    return EXIT_OK;
}

int cmd_bench(int argc, char **argv, int first)
{
    struct cli c = {.cmd = "bench"};
    if (cli_parse(argc, argv, first, OPT_SET | OPT_SEED | OPT_THREADS | OPT_MAX_MEMORY, &c) ||
        one_spec(&c))
        return EXIT_USAGE;
    struct nn_spec *s;
    struct nn_graph g;
    int rc = cli_load_model(&c, c.pos[0], &s, &g);
    if (rc) return rc;
    char err[512];
    /* the limit `nnrun train` applies: --max-memory, else 80% of the memory */
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    const double limit = c.max_memory ? c.max_memory
                         : pages > 0 && size > 0 ? 0.8 * (double)pages * (double)size : 0;
    int r = nn_bench(&g, s, c.threads, 20, limit, stdout, err, sizeof err);
    if (r == -2) {
        /* an override of the batch size or the model is named, as in train */
        static const char *const plan_keys[] = {"model.", "model", "train.optimizer"};
        struct nn_diag d;
        cli_diag_init(&d, s);
        struct nn_mark m = cli_blame(s->batch_mark, plan_keys, 3);
        nn_diag_error(&d, m.override ? m : (struct nn_mark){0, 0, 0}, "%s (%s)", err,
                      c.max_memory ? "--max-memory" :
                      "80% of this machine's memory; raise it with --max-memory");
        nn_diag_print(&d, stderr);
        nn_diag_free(&d);
        rc = EXIT_USAGE;
    } else if (r) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        rc = EXIT_RUNTIME;
    }
    nn_graph_free(&g);
    nn_spec_free(s);
    return rc;
}
