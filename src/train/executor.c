/* executor.c - the generic training loop.  It walks the graph's order
 * forward and in reverse, and knows no layer kind: what it needs of a node
 * (is it a softmax the loss can fuse with?) comes from the node's flags. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/layer.h"
#include "nnrun/optim.h"
#include "nnrun/parallel.h"
#include "nnrun/train.h"
#include "nnrun/util.h"

/* Input rows <- bytes / divide_by; labels alongside. */
static void gather(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *ds,
                   const size_t *idx, int B)
{
    struct nn_node *in = &g->nodes[0];
    const float scale = 1.0f / s->data.divide_by;
    for (int b = 0; b < B; b++) {
        const uint8_t *src = ds->images + idx[b] * in->size;
        float *dst = in->out + (size_t)b * in->size;
        for (size_t i = 0; i < in->size; i++) dst[i] = (float)src[i] * scale;
        g->batch_labels[b] = ds->labels[idx[b]];
    }
}

void nn_forward(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *ds,
                const size_t *idx, int B, struct nn_pool *pool, int training, uint64_t step)
{
    gather(g, s, ds, idx, B);
    struct nn_exec x = {g, B, training, g->params, g->grads, pool, s->seed, step};
    for (int k = 0; k < g->n_nodes - 1; k++) {
        const struct nn_node *n = &g->nodes[g->order[k]];
        n->ops->forward(n, &x);
    }
}

void nn_train_step(struct nn_graph *g, const struct nn_spec *s, struct nn_optim *o,
                   const struct nn_dataset *ds, const size_t *idx, int B, struct nn_pool *pool,
                   uint64_t step, struct nn_metric_sums *sums)
{
    nn_forward(g, s, ds, idx, B, pool, 1, step);
    struct nn_node *out = &g->nodes[g->output];
    const int C = out->c;
    if (sums) nn_loss_measure(s->train.loss, out->out, g->batch_labels, B, C, sums);

    /* the loss writes the output's gradient; fused with a softmax, it is the
     * gradient of the softmax input and the softmax backward is skipped */
    int fused = (out->flags & NN_NODE_SOFTMAX) && nn_loss_fuses_softmax(s->train.loss);
    nn_loss_grad(s->train.loss, out->out, g->batch_labels, B, C, fused, out->dout);
    if (fused && out->needs_dinput) {
        float *dz = g->nodes[out->inputs[0]].dout;
        size_t len = (size_t)B * out->size;
        if (out->din_acc[0])
            for (size_t i = 0; i < len; i++) dz[i] += out->dout[i];
        else
            memcpy(dz, out->dout, len * sizeof *dz);
    }
    memset(g->grads, 0, g->n_params * sizeof *g->grads);
    struct nn_exec x = {g, B, 1, g->params, g->grads, pool, s->seed, step};
    for (int k = g->n_nodes - 2; k >= 0; k--) {
        const struct nn_node *n = &g->nodes[g->order[k]];
        if (fused && n == out) continue;
        n->ops->backward(n, &x);
    }
    nn_optim_step(o, g->params, g->grads, pool);
}

static void shuffle(size_t *idx, size_t n, uint64_t seed, int epoch)
{
    struct nn_rng r;
    nn_rng_init(&r, seed, 0x5348554646ULL + (uint64_t)epoch);   /* "SHUFF" + epoch */
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)nn_rng_below(&r, i + 1);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

int nn_train(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *train,
             const struct nn_train_opts *opts, struct nn_epoch_stats *epochs, char *err,
             size_t n_err)
{
    const size_t n = train->n;
    const int bs = s->train.batch_size;
    size_t *idx = malloc(n * sizeof *idx);
    struct nn_optim o;
    if (!idx || nn_optim_init(&o, &s->train.optim, g->n_params)) {
        free(idx);
        snprintf(err, n_err, "out of memory for the optimizer state (%zu parameters)",
                 g->n_params);
        return -1;
    }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    uint64_t step = 0;
    int rc = 0;
    for (int e = 0; e < s->train.epochs && rc == 0; e++) {
        double t0 = nn_now();
        if (s->train.shuffle) shuffle(idx, n, s->seed, e);
        struct nn_metric_sums sums = {0};
        size_t batch_no = 0;
        for (size_t b = 0; b < n; b += (size_t)bs, batch_no++) {
            int B = (int)(n - b < (size_t)bs ? n - b : (size_t)bs);
            double before = sums.loss;
            nn_train_step(g, s, &o, train, idx + b, B, opts->pool, step++, &sums);
            if (!isfinite(sums.loss - before)) {
                snprintf(err, n_err, "the loss became %s at epoch %d, batch %zu of %zu; "
                         "try a smaller learning rate",
                         isnan(sums.loss - before) ? "NaN" : "infinite", e + 1, batch_no + 1,
                         (n + (size_t)bs - 1) / (size_t)bs);
                rc = -1;
                break;
            }
        }
        if (rc) break;
        struct nn_epoch_stats st = {sums.loss / (double)sums.n, sums.correct / (double)sums.n,
                                    sums.sq_err / (double)sums.n, nn_now() - t0};
        if (epochs) epochs[e] = st;
        if (opts->log) {
            fprintf(opts->log, "epoch %d/%d  loss %.4f", e + 1, s->train.epochs, st.loss);
            if (s->train.metrics & (1u << NN_METRIC_ACCURACY))
                fprintf(opts->log, "  accuracy %.4f", st.accuracy);
            if (s->train.metrics & (1u << NN_METRIC_MSE)) fprintf(opts->log, "  mse %.4f", st.mse);
            fprintf(opts->log, "  %.2fs\n", st.seconds);
            fflush(opts->log);
        }
    }
    nn_optim_free(&o);
    free(idx);
    return rc;
}

void nn_evaluate(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *ds,
                 struct nn_pool *pool, struct nn_eval_stats *out)
{
    double t0 = nn_now();
    struct nn_metric_sums sums = {0};
    size_t idx[4096];
    const size_t bs = (size_t)g->max_batch < 4096 ? (size_t)g->max_batch : 4096;
    for (size_t b = 0; b < ds->n; b += bs) {
        int B = (int)(ds->n - b < bs ? ds->n - b : bs);
        for (int i = 0; i < B; i++) idx[i] = b + (size_t)i;
        nn_forward(g, s, ds, idx, B, pool, 0, 0);
        const struct nn_node *o = &g->nodes[g->output];
        nn_loss_measure(s->train.loss, o->out, g->batch_labels, B, o->c, &sums);
    }
    out->n = sums.n;
    out->loss = sums.n ? sums.loss / (double)sums.n : 0;
    out->accuracy = sums.n ? sums.correct / (double)sums.n : 0;
    out->mse = sums.n ? sums.sq_err / (double)sums.n : 0;
    out->seconds = nn_now() - t0;
}
