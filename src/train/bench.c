/* bench.c - `nnrun bench`: where a training step spends its time, layer by
 * layer (in the spirit of `caffe time` and `darknet speed`).
 *
 * Runs on random inputs, so no data set is needed: first each node's forward
 * and backward timed over whole batches in one thread, then full training
 * steps (all chunks, all threads) for the throughput. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/data.h"
#include "nnrun/layer.h"
#include "nnrun/optim.h"
#include "nnrun/parallel.h"
#include "nnrun/train.h"
#include "nnrun/util.h"

static const char *kind_name(const struct nn_node *n)
{
    if (n->ops == &nn_layer_activation) return nn_act_names[n->act];
    return n->ops->name;
}

static void bytes_text(char *b, size_t n, double v)
{
    const char *u[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int i = 0;
    while (v >= 1024 && i < 6) v /= 1024, i++;
    snprintf(b, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

int nn_bench(struct nn_graph *g, const struct nn_spec *s, int threads, int steps,
             double max_bytes, FILE *f, char *err, size_t n_err)
{
    const int B = s->train.batch_size;
    struct nn_pool *pool = nn_pool_create(threads);
    /* everything the benchmark allocates, checked before any of it is:
     * the model with slots of B * NN_MAX_CHUNKS rows (so the per-layer pass
     * can run a whole batch as one chunk), and four batches of random data
     * with their labels and indexes */
    const size_t plan = nn_graph_plan_bytes(g, B * NN_MAX_CHUNKS, nn_pool_threads(pool));
    const double need = plan == SIZE_MAX ? 1.8e19 : (double)plan + 4.0 * B *
                        ((double)g->nodes[0].size + 1 + sizeof(size_t));
    if (max_bytes > 0 && need > max_bytes) {
        char a[32], b[32];
        bytes_text(a, sizeof a, need);
        bytes_text(b, sizeof b, max_bytes);
        snprintf(err, n_err, "the benchmark needs %s%s of memory (the model for batches of up "
                 "to %d rows on %d threads, and 4 batches of random inputs); the limit is %s",
                 plan == SIZE_MAX ? "more than " : "", a, B * NN_MAX_CHUNKS,
                 nn_pool_threads(pool), b);
        nn_pool_free(pool);
        return -2;
    }
    if (nn_graph_alloc(g, B * NN_MAX_CHUNKS, nn_pool_threads(pool), err, n_err)) {
        nn_pool_free(pool);
        return -1;
    }
    nn_graph_init_params(g, s->seed);
    struct nn_dataset ds = {0};
    ds.n = (size_t)B * 4;
    ds.h = s->input[0], ds.w = s->input[1], ds.c = s->input[2];
    ds.n_classes = s->data.classes;
    const size_t sample = g->nodes[0].size;
    ds.images = malloc(ds.n * sample);
    ds.labels = malloc(ds.n);
    size_t *idx = malloc(ds.n * sizeof *idx);
    struct nn_optim o;
    if (!ds.images || !ds.labels || !idx || nn_train_optim_init(&o, g, s)) {
        snprintf(err, n_err, "out of memory for the benchmark's data");
        free(ds.images), free(ds.labels), free(idx);
        nn_pool_free(pool);
        return -1;
    }
    struct nn_rng r;
    nn_rng_init(&r, 1, 2);
    for (size_t i = 0; i < ds.n * sample; i++) ds.images[i] = (uint8_t)nn_rng_below(&r, 256);
    for (size_t i = 0; i < ds.n; i++) {
        ds.labels[i] = (uint8_t)nn_rng_below(&r, (uint64_t)ds.n_classes);
        idx[i] = i;
    }

    /* 1. per node, one thread, whole batches */
    double *fwd = calloc((size_t)g->n_nodes, sizeof *fwd), *bwd = calloc((size_t)g->n_nodes, sizeof *bwd);
    struct nn_exec x = {g, g->slots[0].t, B, 0, 1, g->params, g->chunk_grads, NULL, s->seed, 0};
    float *xin = g->slots[0].t[0].out;
    for (size_t i = 0; i < (size_t)B * sample; i++)
        xin[i] = (float)ds.images[i] / s->data.divide_by;
    const struct nn_node *out = &g->nodes[g->output];
    for (int it = -2; it < steps; it++) {   /* two warm-up rounds */
        for (int k = 0; k < g->n_nodes - 1; k++) {
            const struct nn_node *n = &g->nodes[g->order[k]];
            double t0 = nn_now();
            n->ops->forward(n, &x);
            if (it >= 0) fwd[g->order[k]] += nn_now() - t0;
        }
        nn_loss_grad(s->train.loss, nn_out(&x, out), ds.labels, B, out->c, B, 0, nn_dout(&x, out));
        for (int k = g->n_nodes - 2; k >= 0; k--) {
            const struct nn_node *n = &g->nodes[g->order[k]];
            double t0 = nn_now();
            n->ops->backward(n, &x);
            if (it >= 0) bwd[g->order[k]] += nn_now() - t0;
        }
    }
    fprintf(f, "%s: batch %d, %d timed batches, 1 thread per layer\n", s->name, B, steps);
    int wk = 10;   /* the kind column fits the longest kind name */
    for (int v = 1; v < g->n_nodes; v++)
        if ((int)strlen(kind_name(&g->nodes[v])) > wk) wk = (int)strlen(kind_name(&g->nodes[v]));
    fprintf(f, "%-24s %-*s %10s %10s %12s %9s\n", "layer", wk, "kind", "fwd ms", "bwd ms",
            "MFLOP/batch", "GFLOP/s");
    double tf = 0, tb = 0;
    for (int k = 0; k < g->n_nodes - 1; k++) {
        const int v = g->order[k];
        const struct nn_node *n = &g->nodes[v];
        double mf = (double)nn_node_train_flops(n) * B / 1e6;
        double t = (fwd[v] + bwd[v]) / steps;
        fprintf(f, "%-24s %-*s %10.3f %10.3f %12.2f %9.2f\n", n->name, wk, kind_name(n),
                1e3 * fwd[v] / steps, 1e3 * bwd[v] / steps, mf, t > 0 ? mf / 1e3 / t : 0.0);
        tf += fwd[v] / steps;
        tb += bwd[v] / steps;
    }
    double mf_total = (double)nn_graph_train_flops(g) * B / 1e6;
    fprintf(f, "%-24s %-*s %10.3f %10.3f %12.2f %9.2f\n", "total", wk, "", 1e3 * tf, 1e3 * tb,
            mf_total, mf_total / 1e3 / (tf + tb));

    /* 2. whole training steps on the pool */
    for (int it = 0; it < 3; it++)
        nn_train_step(g, s, &o, &ds, idx + (size_t)(it % 4) * B, B, pool, (uint64_t)it, NULL);
    double t0 = nn_now();
    for (int it = 0; it < steps; it++)
        nn_train_step(g, s, &o, &ds, idx + (size_t)(it % 4) * B, B, pool, (uint64_t)it, NULL);
    double dt = (nn_now() - t0) / steps;
    fprintf(f, "training step (%d threads, %d chunks): %.3f ms, %.0f samples/s, %.2f GFLOP/s\n",
            nn_pool_threads(pool), nn_graph_chunks(B), 1e3 * dt, B / dt, mf_total / 1e3 / dt);
    free(fwd), free(bwd);
    nn_optim_free(&o);
    free(ds.images), free(ds.labels), free(idx);
    nn_pool_free(pool);
    return 0;
}
