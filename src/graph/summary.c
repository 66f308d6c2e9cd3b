/* summary.c - the layer table of `nnrun check` (printing lives here only). */
#include <stdio.h>
#include <string.h>

#include "nnrun/graph.h"
#include "nnrun/layer.h"

static void commas(char *buf, size_t n, unsigned long long v)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%llu", v), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

static const char *kind_name(const struct nn_node *n)
{
    if (!n->ops) return "input";
    if (n->ops == &nn_layer_activation) return nn_act_names[n->act];
    return n->ops->name;
}

void nn_graph_summary(const struct nn_graph *g, const struct nn_spec *s, FILE *f)
{
    fprintf(f, "Model: %s (%s)\n", s->name, s->path);
    /* the first column fits the longest "name (kind)", 28 at least */
    int wl = 28;
    for (int v = 0; v < g->n_nodes; v++) {
        const int len = (int)(strlen(g->nodes[v].name) + strlen(kind_name(&g->nodes[v]))) + 3;
        if (len > wl) wl = len;
    }
    const int rule = 90 + wl - 28;
    char eq[256];
    memset(eq, '=', sizeof eq);
    fprintf(f, "%-*s %-18s %12s  %-12s %s\n", wl, "Layer (type)", "Output shape", "Param #",
            "MFLOP/sample", "Inputs");
    fprintf(f, "%.*s\n", rule, eq);
    for (int k = -1; k < g->n_nodes - 1; k++) {
        const struct nn_node *n = &g->nodes[k < 0 ? 0 : g->order[k]];
        char label[NN_NAME_MAX + 32], shape[48], params[32], inputs[256] = "";
        snprintf(label, sizeof label, "%s (%s)", n->name, kind_name(n));
        if (n->h == 1 && n->w == 1) snprintf(shape, sizeof shape, "(%d)", n->c);
        else snprintf(shape, sizeof shape, "(%d, %d, %d)", n->h, n->w, n->c);
        commas(params, sizeof params, n->n_params + n->n_state);
        size_t used = 0;
        for (int i = 0; i < n->n_inputs && used < sizeof inputs; i++)
            used += (size_t)snprintf(inputs + used, sizeof inputs - used, "%s%s", i ? ", " : "",
                                     g->nodes[n->inputs[i]].name);
        fprintf(f, "%-*s %-18s %12s  %12.4f %s\n", wl, label, shape, params,
                (double)n->flops / 1e6, inputs);
    }
    char total[32], trainable[32], fixed[32];
    commas(total, sizeof total, g->n_params);
    commas(trainable, sizeof trainable, g->n_trainable);
    commas(fixed, sizeof fixed, g->n_params - g->n_trainable);
    fprintf(f, "%.*s\n", rule, eq);
    fprintf(f, "Total params: %s (%.1f KB); per sample: forward %.3f MFLOP, training %.3f "
            "MFLOP\n", total, (double)g->n_params * 4 / 1024.0, (double)nn_graph_flops(g) / 1e6,
            (double)nn_graph_train_flops(g) / 1e6);
    fprintf(f, "Trainable params: %s\nNon-trainable params: %s\n", trainable, fixed);
    fprintf(f, "Batch %d: %.1f MB planned for tensors and optimizer state (per thread: "
            "%.1f MB more)\n", s->train.batch_size,
            (double)nn_graph_plan_bytes(g, s->train.batch_size, 1) / 1e6,
            (double)(nn_graph_plan_bytes(g, s->train.batch_size, 2) -
                     nn_graph_plan_bytes(g, s->train.batch_size, 1)) / 1e6);
}
