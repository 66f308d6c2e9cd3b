/* build.c - spec layers -> nodes: inputs resolved by name, a topological
 * order (Kahn), shape inference, parameter layout and the memory plan. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/graph.h"
#include "nnrun/layer.h"
#include "nnrun/util.h"

/* Largest per-sample tensor and parameter count nnrun accepts. */
#define NN_MAX_ELEMS ((size_t)1 << 31)

static struct nn_node *add_node(struct nn_graph *g, const char *name, struct nn_mark mark)
{
    struct nn_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    size_t len = strlen(name);
    if (len >= sizeof n->name) len = sizeof n->name - 1;
    memcpy(n->name, name, len);
    n->name[len] = '\0';
    n->mark = mark;
    n->alpha = NAN;
    return n;
}

static int find_layer(const struct nn_spec *s, const char *name)
{
    for (int i = 0; i < s->n_layers; i++)
        if (!strcmp(s->layers[i].name, name)) return i;
    return -1;
}

/* Kahn's algorithm over nodes 1..n-1; returns -1 on a cycle. */
static int topo_order(struct nn_graph *g)
{
    int n = g->n_nodes, *indeg = nn_xcalloc((size_t)n, sizeof *indeg);
    int *queue = nn_xmalloc((size_t)n * sizeof *queue), head = 0, tail = 0, count = 0;
    for (int v = 1; v < n; v++)
        for (int i = 0; i < g->nodes[v].n_inputs; i++)
            if (g->nodes[v].inputs[i] != 0) indeg[v]++;
    for (int v = 1; v < n; v++)
        if (!indeg[v]) queue[tail++] = v;
    while (head < tail) {
        int u = queue[head++];
        g->order[count++] = u;
        for (int v = 1; v < n; v++)
            for (int i = 0; i < g->nodes[v].n_inputs; i++)
                if (g->nodes[v].inputs[i] == u && --indeg[v] == 0) queue[tail++] = v;
    }
    free(indeg);
    free(queue);
    return count == n - 1 ? 0 : -1;
}

static int n_consumers(const struct nn_graph *g, int u)
{
    int k = 0;
    for (int v = 1; v < g->n_nodes; v++)
        for (int i = 0; i < g->nodes[v].n_inputs; i++) k += g->nodes[v].inputs[i] == u;
    return k;
}

int nn_graph_build(struct nn_graph *g, const struct nn_spec *s, struct nn_diag *d)
{
    int before = d->n_errors;
    memset(g, 0, sizeof *g);
    int cap = 1 + 2 * s->n_layers;
    g->nodes = nn_xcalloc((size_t)cap, sizeof *g->nodes);
    g->order = nn_xcalloc((size_t)cap, sizeof *g->order);
    int *layer_out = nn_xcalloc((size_t)s->n_layers, sizeof *layer_out);  /* final node */
    int *layer_node = nn_xcalloc((size_t)s->n_layers, sizeof *layer_node);

    struct nn_node *in = add_node(g, "input", s->input_mark);
    in->h = s->input[0], in->w = s->input[1], in->c = s->input[2];
    in->size = (size_t)in->h * in->w * in->c;

    /* pass 1: a node per layer, plus one per `activation:` argument */
    for (int i = 0; i < s->n_layers; i++) {
        const struct nn_layer_spec *L = &s->layers[i];
        struct nn_node *n = add_node(g, L->name, L->mark);
        n->ops = L->ops;
        n->args = L->args;
        if (L->ops == &nn_layer_activation) {
            const struct nn_activation_args *aa = L->args;
            n->act = aa->activation;
            n->alpha = aa->alpha;
        }
        layer_node[i] = layer_out[i] = g->n_nodes - 1;
        if (L->activation != NN_ACT_LINEAR) {
            char name[NN_NAME_MAX + 16];
            snprintf(name, sizeof name, "%s/%s", L->name, nn_act_names[L->activation]);
            struct nn_node *a = add_node(g, name, L->act_mark);
            a->ops = &nn_layer_activation;
            a->act = L->activation;
            a->n_inputs = 1;
            a->inputs[0] = g->n_nodes - 2;
            layer_out[i] = g->n_nodes - 1;
        }
    }
    /* pass 2: inputs by name, or the previous layer */
    for (int i = 0; i < s->n_layers; i++) {
        const struct nn_layer_spec *L = &s->layers[i];
        struct nn_node *n = &g->nodes[layer_node[i]];
        if (L->n_inputs == 0) {
            n->n_inputs = 1;
            n->inputs[0] = i ? layer_out[i - 1] : 0;
            continue;
        }
        n->n_inputs = L->n_inputs;
        for (int k = 0; k < L->n_inputs; k++) {
            int j = find_layer(s, L->inputs[k]);
            if (j >= 0) {
                n->inputs[k] = layer_out[j];
                continue;
            }
            if (!strcmp(L->inputs[k], "input")) {
                n->inputs[k] = 0;
                continue;
            }
            const char **names = nn_xcalloc((size_t)s->n_layers + 1, sizeof *names);
            names[0] = "input";
            for (int m = 0; m < s->n_layers; m++) names[m + 1] = s->layers[m].name;
            const char *sug = nn_suggest(L->inputs[k], names, s->n_layers + 1);
            nn_diag_error(d, L->input_marks[k], "layer '%s': input '%s' names no layer%s%s%s",
                          L->name, L->inputs[k], sug ? " (did you mean '" : "", sug ? sug : "",
                          sug ? "'?)" : "");
            free(names);
        }
    }
    if (d->n_errors > before) goto fail;
    if (topo_order(g)) {
        /* report the first layer left out of the order */
        for (int v = 1; v < g->n_nodes; v++) {
            int placed = 0;
            for (int k = 0; k < g->n_nodes - 1; k++) placed |= g->order[k] == v;
            if (!placed) {
                nn_diag_error(d, g->nodes[v].mark, "layer '%s' is part of a cycle: its inputs "
                              "lead back to itself", g->nodes[v].name);
                break;
            }
        }
        goto fail;
    }
    g->output = layer_out[s->n_layers - 1];
    /* every layer must feed the output: mark the output's ancestors */
    {
        unsigned char *used = nn_xcalloc((size_t)g->n_nodes, 1);
        used[g->output] = 1;
        for (int k = g->n_nodes - 2; k >= 0; k--) {
            const struct nn_node *n = &g->nodes[g->order[k]];
            if (used[g->order[k]])
                for (int i = 0; i < n->n_inputs; i++) used[n->inputs[i]] = 1;
        }
        for (int i = 0; i < s->n_layers; i++)
            if (!used[layer_node[i]])
                nn_diag_error(d, s->layers[i].mark, "layer '%s' is not used: no path leads "
                              "from it to the output layer '%s'", s->layers[i].name,
                              s->layers[s->n_layers - 1].name);
        free(used);
        if (d->n_errors > before) goto fail;
    }

    /* shapes, parameters, gradients needed */
    int *req = nn_xcalloc((size_t)g->n_nodes, sizeof *req);
    size_t off = 0;
    for (int k = 0; k < g->n_nodes - 1; k++) {
        struct nn_node *n = &g->nodes[g->order[k]];
        if (n->ops->infer(n, g, d)) break;
        n->size = (size_t)n->h * n->w * n->c;
        if (n->h < 1 || n->w < 1 || n->c < 1 || n->size > NN_MAX_ELEMS ||
            n->n_params > NN_MAX_ELEMS || n->n_state > NN_MAX_ELEMS) {
            nn_diag_error(d, n->mark, "layer '%s' would have an output of [%d, %d, %d] and %zu "
                          "parameters (%.3g GB); nnrun accepts at most %zu of each", n->name,
                          n->h, n->w, n->c, n->n_params, 4e-9 * (double)n->n_params,
                          NN_MAX_ELEMS);
            break;
        }
        n->param_off = off;
        off += n->n_params;
        int r = n->n_params > 0;
        for (int i = 0; i < n->n_inputs; i++) {
            if (req[n->inputs[i]]) n->needs_dinput = 1;
            r |= req[n->inputs[i]];
        }
        req[g->order[k]] = r;
    }
    free(req);
    if (d->n_errors > before) goto fail;
    /* non-trainable state after every trainable parameter */
    g->n_trainable = off;
    for (int k = 0; k < g->n_nodes - 1; k++) {
        struct nn_node *n = &g->nodes[g->order[k]];
        n->state_off = off;
        off += n->n_state;
    }
    g->n_params = off;

    /* the last consumer of a tensor (first in backward) overwrites its gradient;
     * only consumers that write input gradients count (a join such as add
     * writes every input's, even one no other consumer writes) */
    int *seen = nn_xcalloc((size_t)g->n_nodes, sizeof *seen);
    for (int k = g->n_nodes - 2; k >= 0; k--) {
        struct nn_node *n = &g->nodes[g->order[k]];
        if (!n->needs_dinput) continue;
        for (int i = 0; i < n->n_inputs; i++) {
            n->din_acc[i] = (unsigned char)seen[n->inputs[i]];
            seen[n->inputs[i]] = 1;
        }
    }
    free(seen);

    /* Shared tensors, decided in forward order so an input's choice is made:
     * a node shares its input's tensors only when the input feeds it alone,
     * and one that writes in place only when no node whose tensor it would
     * overwrite (the input, and through shared tensors the input's own
     * inputs) reads its output in backward. */
    for (int k = 0; k < g->n_nodes - 1; k++) {
        struct nn_node *n = &g->nodes[g->order[k]];
        if (!(n->flags & NN_NODE_ALIAS)) continue;
        int safe = n_consumers(g, n->inputs[0]) == 1;
        if (safe && (n->ops->flags & NN_LAYER_IN_PLACE))
            for (int m = n->inputs[0]; m != 0; m = g->nodes[m].inputs[0]) {
                const struct nn_node *src = &g->nodes[m];
                if (src->ops->flags & NN_LAYER_READS_OUTPUT) safe = 0;
                if (!(src->flags & NN_NODE_ALIAS)) break;
            }
        if (!safe) n->flags &= ~(unsigned)NN_NODE_ALIAS;
        /* an in-place activation right after a producer that can apply it
         * as its epilogue runs there, while the output is in cache */
        struct nn_node *p = &g->nodes[n->inputs[0]];
        if ((n->flags & NN_NODE_ALIAS) && (n->ops->flags & NN_LAYER_IN_PLACE) && p->ops &&
            (p->ops->flags & NN_LAYER_EPILOGUE) && p->epi_act == NN_ACT_LINEAR) {
            p->epi_act = n->act;
            p->epi_alpha = n->alpha;
            n->flags |= NN_NODE_FUSED;
        }
    }

    /* the prediction must be one value per class */
    const struct nn_node *o = &g->nodes[g->output];
    if (o->h != 1 || o->w != 1 || o->c != s->data.classes) {
        nn_diag_error(d, o->mark, "the last layer '%s' gives [%d, %d, %d], but the loss needs "
                      "one value per class: [%d] (data.classes)", o->name, o->h, o->w, o->c,
                      s->data.classes);
        goto fail;
    }
    free(layer_out);
    free(layer_node);
    return 0;
fail:
    free(layer_out);
    free(layer_node);
    nn_graph_free(g);
    return -1;
}

/* Floats of one slot of rows rows: every node's tensors (out, dout,
 * scratch) per row, and the workspaces. */
static size_t floats_per_slot(const struct nn_graph *g, size_t rows)
{
    size_t t = 2 * g->nodes[0].size, work = 0;
    for (int v = 1; v < g->n_nodes; v++) {
        const struct nn_node *n = &g->nodes[v];
        if (!(n->flags & NN_NODE_ALIAS)) t = nn_add_size(t, nn_mul_size(2, n->size));
        t = nn_add_size(t, n->scratch_per_sample);
        work = nn_add_size(work, n->work_per_slot);
    }
    return nn_add_size(nn_mul_size(t, rows), work);
}

/* Rows of the largest chunk of any batch up to max_batch: a batch of B rows
 * has chunks of at most NN_CHUNK_ROWS until it needs NN_MAX_CHUNKS of them,
 * then of ceil(B / NN_MAX_CHUNKS). */
static int slot_rows(int max_batch)
{
    if (max_batch <= NN_CHUNK_ROWS) return max_batch;
    int r = (max_batch + NN_MAX_CHUNKS - 1) / NN_MAX_CHUNKS;
    return r > NN_CHUNK_ROWS ? r : NN_CHUNK_ROWS;
}

size_t nn_graph_plan_bytes(const struct nn_graph *g, int max_batch, int n_slots)
{
    /* parameters, two optimizer states and the chunks' gradients */
    size_t p = nn_mul_size((3 + NN_MAX_CHUNKS) * sizeof(float), g->n_params);
    size_t slot = floats_per_slot(g, (size_t)slot_rows(max_batch));
    size_t a = nn_mul_size(nn_mul_size(slot, (size_t)n_slots), sizeof(float));
    return nn_add_size(p, a);
}

int nn_graph_alloc(struct nn_graph *g, int max_batch, int n_slots, char *err, size_t n_err)
{
    g->max_batch = max_batch;
    g->n_slots = n_slots;
    g->slot_rows = slot_rows(max_batch);
    const size_t rows = (size_t)g->slot_rows, per_slot = floats_per_slot(g, rows);
    g->act_floats = nn_mul_size(per_slot, (size_t)n_slots);
    g->params = nn_alloc_floats(g->n_params);
    g->chunk_grads = nn_alloc_floats(nn_mul_size(NN_MAX_CHUNKS, g->n_params));
    g->act_block = g->act_floats == SIZE_MAX ? NULL : nn_alloc_floats(g->act_floats);
    g->slots = calloc((size_t)n_slots, sizeof *g->slots);
    int slots_ok = g->slots != NULL;
    for (int k = 0; g->slots && k < n_slots; k++) {
        g->slots[k].t = calloc((size_t)g->n_nodes, sizeof *g->slots[k].t);
        g->slots[k].labels = calloc(rows, 1);
        slots_ok &= g->slots[k].t && g->slots[k].labels;
    }
    /* on failure nn_graph_free releases whatever was allocated */
    if (!g->params || !g->chunk_grads || !g->act_block || !slots_ok) {
        snprintf(err, n_err, "cannot allocate %.1f MB for the model's tensors (batch %d)",
                 (double)nn_graph_plan_bytes(g, max_batch, n_slots) / 1e6, max_batch);
        return -1;
    }
    for (int k = 0; k < n_slots; k++) {
        struct nn_tensors *t = g->slots[k].t;
        float *p = g->act_block + (size_t)k * per_slot;
        /* the input's dout: only a node sharing the input's tensors writes it */
        t[0].out = p, p += rows * g->nodes[0].size;
        t[0].dout = p, p += rows * g->nodes[0].size;
        for (int o = 0; o < g->n_nodes - 1; o++) {
            const int v = g->order[o];
            const struct nn_node *n = &g->nodes[v];
            if (n->flags & NN_NODE_ALIAS) {
                t[v].out = t[n->inputs[0]].out;
                t[v].dout = t[n->inputs[0]].dout;
            } else {
                t[v].out = p, p += rows * n->size;
                t[v].dout = p, p += rows * n->size;
            }
            t[v].scratch = n->scratch_per_sample ? p : NULL;
            p += rows * n->scratch_per_sample;
            t[v].work = n->work_per_slot ? p : NULL;
            p += n->work_per_slot;
        }
    }
    return 0;
}

void nn_graph_init_params(struct nn_graph *g, uint64_t seed)
{
    for (int v = 1; v < g->n_nodes; v++) {
        const struct nn_node *n = &g->nodes[v];
        if (n->n_params && n->ops->init) n->ops->init(n, g->params + n->param_off, seed);
        if (n->n_state && n->ops->init_state) n->ops->init_state(n, g->params + n->state_off);
    }
}

uint64_t nn_graph_flops(const struct nn_graph *g)
{
    uint64_t f = 0;
    for (int v = 1; v < g->n_nodes; v++) f += g->nodes[v].flops;
    return f;
}

uint64_t nn_node_train_flops(const struct nn_node *n)
{
    return n->flops * (1 + (n->n_params > 0) + (n->needs_dinput != 0));
}

uint64_t nn_graph_train_flops(const struct nn_graph *g)
{
    uint64_t f = 0;
    for (int v = 1; v < g->n_nodes; v++) f += nn_node_train_flops(&g->nodes[v]);
    return f;
}

void nn_graph_free(struct nn_graph *g)
{
    if (!g) return;
    free(g->nodes);
    free(g->order);
    free(g->params);
    free(g->act_block);
    free(g->chunk_grads);
    for (int k = 0; g->slots && k < g->n_slots; k++) {
        free(g->slots[k].t);
        free(g->slots[k].labels);
    }
    free(g->slots);
    memset(g, 0, sizeof *g);
}
