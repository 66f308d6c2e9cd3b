/* executor.c - the generic training loop.  It walks the graph's order
 * forward and in reverse, and knows no layer kind: what it needs of a node
 * (is it a softmax the loss can fuse with?) comes from the node's flags.
 *
 * A step is data-parallel over chunks of the batch (see graph.h): each chunk
 * gathers its rows into a slot, runs forward, the loss and backward there,
 * and writes its own parameter gradients; then the optimizer steps, summing
 * the chunks' gradients in chunk order.  Chunks depend on the batch
 * size only, so results are the same at any thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/layer.h"
#include "nnrun/optim.h"
#include "nnrun/parallel.h"
#include "nnrun/train.h"
#include "nnrun/util.h"

void nn_exec_forward(struct nn_exec *x)
{
    const struct nn_graph *g = x->g;
    for (int k = 0; k < g->n_nodes - 1; k++) {
        const struct nn_node *n = &g->nodes[g->order[k]];
        n->ops->forward(n, x);
    }
}

void nn_exec_backward(struct nn_exec *x, int skip_output)
{
    const struct nn_graph *g = x->g;
    for (int k = g->n_nodes - 2; k >= 0; k--) {
        const struct nn_node *n = &g->nodes[g->order[k]];
        if (skip_output && g->order[k] == g->output) continue;
        n->ops->backward(n, x);
    }
}

struct step_job {
    struct nn_graph *g;
    const struct nn_spec *s;
    const struct nn_dataset *ds;
    const size_t *idx;
    int B, n_chunks, training, backward;
    uint64_t step;
    struct nn_metric_sums sums[NN_MAX_CHUNKS];
};

static void run_chunks(void *ctx, size_t c0, size_t c1)
{
    struct step_job *j = ctx;
    struct nn_graph *g = j->g;
    const struct nn_spec *s = j->s;
    struct nn_slot *slot = &g->slots[nn_pool_thread()];
    const struct nn_node *in = &g->nodes[0], *out = &g->nodes[g->output];
    const float scale = 1.0f / s->data.divide_by;
    for (size_t c = c0; c < c1; c++) {
        const int r0 = nn_chunk_start(j->B, j->n_chunks, (int)c);
        const int rows = nn_chunk_start(j->B, j->n_chunks, (int)c + 1) - r0;
        /* input rows <- bytes / divide_by; labels alongside */
        float *xin = slot->t[0].out;
        for (int b = 0; b < rows; b++) {
            const size_t k = j->idx[r0 + b];
            const uint8_t *src = j->ds->images + k * in->size;
            float *dst = xin + (size_t)b * in->size;
            for (size_t i = 0; i < in->size; i++) dst[i] = (float)src[i] * scale;
            slot->labels[b] = j->ds->labels[k];
        }
        struct nn_exec x = {g, slot->t, rows, r0, j->training, g->params,
                            g->chunk_grads + c * g->n_params, NULL, s->seed, j->step};
        nn_exec_forward(&x);
        float *p = slot->t[g->output].out, *dp = slot->t[g->output].dout;
        j->sums[c] = (struct nn_metric_sums){0};
        nn_loss_measure(s->train.loss, p, slot->labels, rows, out->c, &j->sums[c]);
        if (!j->backward) continue;
        /* the loss writes the output's gradient; fused with a softmax, it is
         * the gradient of the softmax input and the softmax backward is skipped */
        const int fused = (out->flags & NN_NODE_SOFTMAX) && nn_loss_fuses_softmax(s->train.loss);
        nn_loss_grad(s->train.loss, p, slot->labels, rows, out->c, j->B, fused, dp);
        if (fused && out->needs_dinput && slot->t[out->inputs[0]].dout != dp) {
            /* (an in-place softmax already shares its input's gradient) */
            float *dz = slot->t[out->inputs[0]].dout;
            const size_t len = (size_t)rows * out->size;
            if (out->din_acc[0])
                for (size_t i = 0; i < len; i++) dz[i] += dp[i];
            else
                memcpy(dz, dp, len * sizeof *dz);
        }
        nn_exec_backward(&x, fused);
    }
}

/* Runs the chunks of one batch; returns the chunks' sums added in order. */
static void run_batch(struct step_job *j, struct nn_pool *pool, struct nn_metric_sums *sums)
{
    j->n_chunks = nn_graph_chunks(j->B);
    nn_pool_for(pool, (size_t)j->n_chunks, 1, run_chunks, j);
    if (!sums) return;
    for (int c = 0; c < j->n_chunks; c++) {
        sums->loss += j->sums[c].loss;
        sums->correct += j->sums[c].correct;
        sums->sq_err += j->sums[c].sq_err;
        sums->n += j->sums[c].n;
    }
}

void nn_train_step(struct nn_graph *g, const struct nn_spec *s, struct nn_optim *o,
                   const struct nn_dataset *ds, const size_t *idx, int B, struct nn_pool *pool,
                   uint64_t step, struct nn_metric_sums *sums)
{
    struct step_job j = {.g = g, .s = s, .ds = ds, .idx = idx, .B = B, .training = 1,
                         .backward = 1, .step = step};
    run_batch(&j, pool, sums);
    /* the optimizer adds the chunks' gradients in chunk order as it goes */
    nn_optim_step(o, g->params, g->chunk_grads, j.n_chunks, g->n_params, pool);
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
        struct step_job j = {.g = g, .s = s, .ds = ds, .idx = idx, .B = B};
        run_batch(&j, pool, &sums);
    }
    out->n = sums.n;
    out->loss = sums.n ? sums.loss / (double)sums.n : 0;
    out->accuracy = sums.n ? sums.correct / (double)sums.n : 0;
    out->mse = sums.n ? sums.sq_err / (double)sums.n : 0;
    out->seconds = nn_now() - t0;
}
