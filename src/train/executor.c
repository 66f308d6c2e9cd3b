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

#include "nnrun/augment.h"
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
    uint8_t *pred;              /* evaluation: per-sample arg max and its value */
    float *prob;
    struct nn_metric_sums sums[NN_MAX_CHUNKS];
};

static void run_chunks(void *ctx, size_t c0, size_t c1)
{
    struct step_job *j = ctx;
    struct nn_graph *g = j->g;
    const struct nn_spec *s = j->s;
    struct nn_slot *slot = &g->slots[nn_pool_thread()];
    const struct nn_node *in = &g->nodes[0], *out = &g->nodes[g->output];
    struct nn_input_map map;
    nn_input_map_init(&map, s, j->ds, j->training, j->step);
    NN_ASSERT((size_t)map.h * (size_t)map.w * (size_t)map.c == in->size);
    for (size_t c = c0; c < c1; c++) {
        const int r0 = nn_chunk_start(j->B, j->n_chunks, (int)c);
        const int rows = nn_chunk_start(j->B, j->n_chunks, (int)c + 1) - r0;
        /* input rows <- bytes / divide_by (or standardized), augmented when
         * training, keyed by the row in the batch; labels alongside */
        float *xin = slot->t[0].out;
        for (int b = 0; b < rows; b++) {
            const size_t k = j->idx[r0 + b];
            const uint8_t *src = j->ds->images + k * in->size;
            nn_input_sample(&map, (uint64_t)(r0 + b), src, xin + (size_t)b * in->size);
            slot->labels[b] = j->ds->labels[k];
        }
        struct nn_exec x = {g, slot->t, rows, r0, j->training, g->params,
                            g->chunk_grads + c * g->n_params, NULL, s->seed, j->step};
        nn_exec_forward(&x);
        float *p = slot->t[g->output].out, *dp = slot->t[g->output].dout;
        j->sums[c] = (struct nn_metric_sums){0};
        nn_loss_measure_smoothed(s->train.loss, p, slot->labels, rows, out->c,
                                 s->train.label_smoothing, &j->sums[c]);
        for (int b = 0; (j->pred || j->prob) && b < rows; b++) {
            const float *pb = p + (size_t)b * out->c;
            int best = 0;
            for (int k = 1; k < out->c; k++)
                if (pb[k] > pb[best]) best = k;
            const size_t i = j->idx[r0 + b];
            if (j->pred) j->pred[i] = (uint8_t)best;
            if (j->prob) j->prob[i] = pb[best];
        }
        if (!j->backward) continue;
        /* the loss writes the output's gradient; fused with a softmax, it is
         * the gradient of the softmax input and the softmax backward is skipped */
        const int fused = (out->flags & NN_NODE_SOFTMAX) && nn_loss_fuses_softmax(s->train.loss);
        nn_loss_grad_smoothed(s->train.loss, p, slot->labels, rows, out->c, j->B, fused,
                              s->train.label_smoothing, dp);
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
    /* train.l2: the loss includes l2 * sum(w^2) of the weights the batch saw */
    if (sums && o->l2 != 0) sums->loss += (double)B * o->penalty;
    /* then the nodes with state update it from the chunks' records */
    for (int k = 0; k < g->n_nodes - 1; k++) {
        const struct nn_node *n = &g->nodes[g->order[k]];
        if (n->ops->after_step) n->ops->after_step(n, g, B);
    }
}

/* The optimizer's tensors (for clipnorm and train.l2): each node's weights,
 * then its biases, in parameter order.  train.l2 applies to the weights of
 * the layers with a fan-in (dense and conv2d kernels: Keras' kernels), not to
 * batch normalization's gamma. */
static int set_tensors(struct nn_optim *o, const struct nn_graph *g)
{
    size_t *len = malloc(2 * (size_t)g->n_nodes * sizeof *len);
    unsigned char *w = malloc(2 * (size_t)g->n_nodes);
    int n = 0;
    for (int k = 0; len && w && k < g->n_nodes - 1; k++) {
        const struct nn_node *nd = &g->nodes[g->order[k]];
        if (!nd->n_params) continue;
        len[n] = nd->n_weights, w[n++] = nd->fan_in > 0;
        len[n] = nd->n_params - nd->n_weights, w[n++] = 0;
    }
    int rc = len && w ? nn_optim_set_tensors(o, n, len, w) : -1;
    free(len);
    free(w);
    return rc;
}

/* The sum of the squared weights train.l2 applies to, in parameter order. */
static double weights_sq(const struct nn_graph *g)
{
    double sq = 0;
    for (int k = 0; k < g->n_nodes - 1; k++) {
        const struct nn_node *nd = &g->nodes[g->order[k]];
        if (nd->fan_in <= 0) continue;
        const float *w = g->params + nd->param_off;
        for (size_t i = 0; i < nd->n_weights; i++) sq += (double)w[i] * w[i];
    }
    return sq;
}

int nn_train_optim_init(struct nn_optim *o, const struct nn_graph *g, const struct nn_spec *s)
{
    /* the state arrays span the whole parameter block, as checkpoints store
     * them, but the updates cover only the trainable prefix */
    if (nn_optim_init(o, &s->train.optim, g->n_params)) return -1;
    o->n = g->n_trainable;
    o->l2 = s->train.l2;
    if (set_tensors(o, g)) {
        nn_optim_free(o);
        return -1;
    }
    return 0;
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

/* After a non-finite loss: names the first node, in graph order, whose
 * output in slot 0 (the rows of its last chunk, from the forward pass that
 * gave the loss) holds a NaN or infinity, else the first whose parameters
 * do (after the update, a NaN gradient has spread to every layer, so the
 * outputs come first); "" when none is found. */
static const char *first_nonfinite(const struct nn_graph *g, char *buf, size_t n)
{
    buf[0] = '\0';
    for (int k = 0; k < g->n_nodes - 1 && !buf[0]; k++) {
        const int id = g->order[k];
        const struct nn_node *nd = &g->nodes[id];
        const float *o = g->slots[0].t[id].out;
        for (size_t i = 0; i < (size_t)g->slot_rows * nd->size; i++)
            if (!isfinite(o[i])) {
                snprintf(buf, n, " (first in the output of layer '%s')", nd->name);
                break;
            }
    }
    for (int k = 0; k < g->n_nodes - 1 && !buf[0]; k++) {
        const struct nn_node *nd = &g->nodes[g->order[k]];
        for (size_t i = 0; i < nd->n_params; i++)
            if (!isfinite(g->params[nd->param_off + i])) {
                snprintf(buf, n, " (first in the parameters of layer '%s')", nd->name);
                break;
            }
    }
    return buf;
}

int nn_trainer_init(struct nn_trainer *t, struct nn_graph *g, const struct nn_spec *s,
                    const struct nn_dataset *train, char *err, size_t n_err)
{
    memset(t, 0, sizeof *t);
    t->g = g;
    t->s = s;
    t->train = train;
    t->idx = malloc(train->n * sizeof *t->idx);
    if (!t->idx || nn_train_optim_init(&t->o, g, s)) {
        free(t->idx);
        snprintf(err, n_err, "out of memory for the optimizer state (%zu parameters)",
                 g->n_params);
        return -1;
    }
    nn_lr_state_init(&t->lr_state, &s->train.lr_schedule, s->train.optim.learning_rate);
    nn_trainer_seek(t, 0, 0);
    return 0;
}

size_t nn_trainer_batches(const struct nn_trainer *t)
{
    const size_t bs = (size_t)t->s->train.batch_size;
    return (t->train->n + bs - 1) / bs;
}

void nn_trainer_seek(struct nn_trainer *t, int epoch, size_t batch)
{
    /* the order of epoch e is the shuffles of epochs 0..e applied in turn */
    for (size_t i = 0; i < t->train->n; i++) t->idx[i] = i;
    for (int e = 0; e < epoch + (batch > 0) && t->s->train.shuffle; e++)
        shuffle(t->idx, t->train->n, t->s->seed, e);
    t->shuffled = batch > 0 ? epoch : epoch - 1;
    t->epoch = epoch;
    t->batch = batch;
    t->step = (uint64_t)epoch * nn_trainer_batches(t) + batch;
    t->sums = (struct nn_metric_sums){0};
    t->epoch_seconds = 0;
}

int nn_trainer_epoch(struct nn_trainer *t, const struct nn_train_hooks *h,
                     struct nn_epoch_stats *st, char *err, size_t n_err)
{
    const size_t n = t->train->n, bs = (size_t)t->s->train.batch_size;
    const size_t n_batches = nn_trainer_batches(t);
    char where[NN_NAME_MAX + 64];
    double t0 = nn_now() - t->epoch_seconds;
    if (t->shuffled != t->epoch) {
        if (t->s->train.shuffle) shuffle(t->idx, n, t->s->seed, t->epoch);
        t->shuffled = t->epoch;
    }
    for (; t->batch < n_batches; t->batch++) {
        if (h->stop && *h->stop) {
            t->epoch_seconds = nn_now() - t0;
            return 1;
        }
        const size_t b = t->batch * bs;
        const int B = (int)(n - b < bs ? n - b : bs);
        const double before = t->sums.loss;
        t->o.lr = nn_lr_at(&t->s->train.lr_schedule, &t->lr_state,
                           t->s->train.optim.learning_rate, t->step, n_batches,
                           (uint64_t)n_batches * (uint64_t)t->s->train.epochs);
        nn_train_step(t->g, t->s, &t->o, t->train, t->idx + b, B, h->pool, t->step++,
                      &t->sums);
        if (!isfinite(t->sums.loss - before)) {
            snprintf(err, n_err, "the loss became %s at epoch %d, batch %zu of %zu%s; "
                     "try a smaller learning rate",
                     isnan(t->sums.loss - before) ? "NaN" : "infinite", t->epoch + 1,
                     t->batch + 1, n_batches, first_nonfinite(t->g, where, sizeof where));
            return -1;
        }
        if (h->on_batch) h->on_batch(h->ctx, t, n_batches);
    }
    const double m = t->sums.n ? (double)t->sums.n : 1;
    *st = (struct nn_epoch_stats){t->sums.loss / m, t->sums.correct / m, t->sums.sq_err / m,
                                  nn_now() - t0, t->o.lr};
    t->epoch++;
    t->batch = 0;
    t->sums = (struct nn_metric_sums){0};
    t->epoch_seconds = 0;
    return 0;
}

void nn_trainer_free(struct nn_trainer *t)
{
    nn_optim_free(&t->o);
    free(t->idx);
    t->idx = NULL;
}

int nn_train(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *train,
             const struct nn_train_opts *opts, struct nn_epoch_stats *epochs, char *err,
             size_t n_err)
{
    struct nn_trainer t;
    if (nn_trainer_init(&t, g, s, train, err, n_err)) return -1;
    struct nn_train_hooks h = {.pool = opts->pool};
    int rc = 0;
    while (t.epoch < s->train.epochs && rc == 0) {
        struct nn_epoch_stats st;
        const int e = t.epoch;
        rc = nn_trainer_epoch(&t, &h, &st, err, n_err);
        if (rc) break;
        if (epochs) epochs[e] = st;
        /* reduce_on_plateau on a training quantity (val_* needs nn_run's evaluation) */
        const int mon = s->train.lr_schedule.monitor;
        if (mon < NN_MONITOR_VAL_LOSS)
            nn_lr_plateau_update(&t.lr_state, &s->train.lr_schedule,
                                 mon == NN_MONITOR_LOSS ? st.loss
                                 : mon == NN_MONITOR_ACCURACY ? st.accuracy : st.mse);
        if (opts->log) {
            fprintf(opts->log, "epoch %d/%d  loss %.4f", e + 1, s->train.epochs, st.loss);
            if (s->train.metrics & (1u << NN_METRIC_ACCURACY))
                fprintf(opts->log, "  accuracy %.4f", st.accuracy);
            if (s->train.metrics & (1u << NN_METRIC_MSE)) fprintf(opts->log, "  mse %.4f", st.mse);
            fprintf(opts->log, "  %.2fs\n", st.seconds);
            fflush(opts->log);
        }
    }
    nn_trainer_free(&t);
    return rc;
}

void nn_evaluate(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *ds,
                 struct nn_pool *pool, struct nn_eval_stats *out)
{
    nn_predict(g, s, ds, pool, out, NULL, NULL);
}

void nn_predict(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *ds,
                struct nn_pool *pool, struct nn_eval_stats *out, uint8_t *pred, float *prob)
{
    double t0 = nn_now();
    struct nn_metric_sums sums = {0};
    size_t idx[4096];
    const size_t bs = (size_t)g->max_batch < 4096 ? (size_t)g->max_batch : 4096;
    for (size_t b = 0; b < ds->n; b += bs) {
        int B = (int)(ds->n - b < bs ? ds->n - b : bs);
        for (int i = 0; i < B; i++) idx[i] = b + (size_t)i;
        struct step_job j = {.g = g, .s = s, .ds = ds, .idx = idx, .B = B, .pred = pred,
                             .prob = prob};
        run_batch(&j, pool, &sums);
    }
    out->n = sums.n;
    out->loss = sums.n ? sums.loss / (double)sums.n : 0;
    if (s->train.l2 != 0 && sums.n) out->loss += s->train.l2 * weights_sq(g);   /* as Keras */
    out->accuracy = sums.n ? sums.correct / (double)sums.n : 0;
    out->mse = sums.n ? sums.sq_err / (double)sums.n : 0;
    out->seconds = nn_now() - t0;
}
