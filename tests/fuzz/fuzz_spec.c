/* fuzz_spec.c - libFuzzer target: the spec parser, the --set overrides, the
 * validator and the graph builder (never nn_graph_alloc: no parameters are
 * allocated, so absurd sizes cost nothing).
 *
 * Input:
 *   - without a NUL byte: the whole input is a YAML spec, read with
 *     nn_spec_from_string;
 *   - with a NUL byte: the bytes before the first NUL are --set texts, one
 *     per line (at most 16), the bytes after it are the YAML spec; the tree
 *     is parsed, each override applied in order (as src/main.c load_model
 *     does), then validated.
 * A spec that validates goes through nn_graph_build and, on success, the
 * `nnrun check` table (printed to /dev/null).  Diagnostics are printed to
 * /dev/null too, so their formatting (override names included) is covered. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/diag.h"
#include "nnrun/graph.h"
#include "nnrun/spec.h"

#define MAX_SETS 16

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    if (!devnull) abort();
    return 0;
}

static void build_and_free(struct nn_spec *s, struct nn_diag *d)
{
    if (!s) return;
    struct nn_graph g;
    memset(&g, 0, sizeof g);
    if (nn_graph_build(&g, s, d) == 0) {
        nn_graph_summary(&g, s, devnull);
        (void)nn_graph_flops(&g);
        (void)nn_graph_train_flops(&g);
        (void)nn_graph_plan_bytes(&g, s->train.batch_size, 2);
        nn_graph_free(&g);
    }
    nn_spec_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    struct nn_diag d;
    nn_diag_init(&d, "fuzz.yaml");

    if (!nul) {
        /* an exact-size copy: any read past the end is caught by ASan */
        char *text = malloc(size ? size : 1);
        if (!text) return 0;
        memcpy(text, data, size);
        build_and_free(nn_spec_from_string(text, size, "fuzz.yaml", &d), &d);
        free(text);
    } else {
        size_t head = (size_t)(nul - data);
        size_t len = size - head - 1;
        char *sets_buf = malloc(head + 1);
        char *text = malloc(len ? len : 1);
        if (!sets_buf || !text) {
            free(sets_buf);
            free(text);
            return 0;
        }
        memcpy(sets_buf, data, head);
        sets_buf[head] = '\0';
        memcpy(text, nul + 1, len);

        const char *sets[MAX_SETS];
        int n_sets = 0;
        for (char *p = sets_buf; p && n_sets < MAX_SETS;) {
            char *nl = strchr(p, '\n');
            if (nl) *nl = '\0';
            sets[n_sets++] = p;
            p = nl ? nl + 1 : NULL;
        }
        d.overrides = sets;
        d.n_overrides = n_sets;

        struct nn_ynode *root = nn_yaml_parse_string(text, len, &d);
        int bad = !root;
        for (int i = 0; root && i < n_sets; i++) bad |= nn_spec_override(root, sets[i], i + 1, &d);
        struct nn_spec *s = bad ? NULL : nn_spec_from_tree(root, "fuzz.yaml", &d);
        nn_ynode_free(root);
        build_and_free(s, &d);
        nn_diag_print(&d, devnull);
        nn_diag_free(&d);
        free(sets_buf);
        free(text);
        return 0;
    }
    nn_diag_print(&d, devnull);
    nn_diag_free(&d);
    return 0;
}
