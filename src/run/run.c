/* run.c - a whole training run: epochs, evaluation after each, early
 * stopping, checkpoints, resume, and the run record (see run.h). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/checkpoint.h"
#include "nnrun/run.h"
#include "nnrun/util.h"

#ifndef NNRUN_VERSION
#define NNRUN_VERSION "dev"
#endif

struct paths {
    char spec[PATH_MAX], metrics[PATH_MAX], ckpt[PATH_MAX], best[PATH_MAX], model[PATH_MAX],
        results[PATH_MAX];
};

/* The record's paths; -1 when dir is too long for them (never cut short). */
static int make_paths(struct paths *p, const char *dir, char *err, size_t n_err)
{
    /* the longest name, with the ".tmp.PID" of an atomic write */
    if (strlen(dir) + sizeof "/checkpoint.nnc.tmp.4294967295" > sizeof p->spec) {
        snprintf(err, n_err, "%.200s...: the run directory's path is too long", dir);
        return -1;
    }
    snprintf(p->spec, sizeof p->spec, "%s/spec.yaml", dir);
    snprintf(p->metrics, sizeof p->metrics, "%s/metrics.csv", dir);
    snprintf(p->ckpt, sizeof p->ckpt, "%s/checkpoint.nnc", dir);
    snprintf(p->best, sizeof p->best, "%s/best.nnw", dir);
    snprintf(p->model, sizeof p->model, "%s/model.nnw", dir);
    snprintf(p->results, sizeof p->results, "%s/results.json", dir);
    return 0;
}

/* A text file built in memory, then written atomically. */
static int write_text(const char *path, char *text, size_t len, char *err, size_t n_err)
{
    int rc = text ? nn_write_file_atomic(path, text, len, err, n_err) : -1;
    if (!text) snprintf(err, n_err, "%s: out of memory", path);
    free(text);
    return rc;
}

static const char *eval_prefix(const struct nn_dataset *val) { return val->n ? "val" : "test"; }

static int write_metrics(const char *path, const struct nn_run_result *r, const char *pre,
                         char *err, size_t n_err)
{
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    if (!f) return write_text(path, NULL, 0, err, n_err);
    fprintf(f, "epoch,loss,accuracy,mse,%s_loss,%s_accuracy,%s_mse,seconds,lr\n", pre, pre,
            pre);
    for (int i = 0; i < r->epochs_run; i++) {
        const struct nn_epoch_row *w = &r->rows[i];
        fprintf(f, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.9g\n", w->epoch, w->train.loss,
                w->train.accuracy, w->train.mse, w->eval.loss, w->eval.accuracy, w->eval.mse,
                w->train.seconds, w->train.lr);
    }
    fclose(f);
    return write_text(path, text, len, err, n_err);
}

/* The rows of a run being resumed: the first `want` rows of metrics.csv,
 * under the header write_metrics writes (lr last; older runs lack it).
 * Bounded: a regular file of at most NN_METRICS_FILE_MAX bytes, lines of at
 * most NN_METRICS_LINE_MAX, every row's numbers checked. */
static int read_metrics(const char *path, struct nn_run_result *r, int want, const char *pre,
                        char *err, size_t n_err)
{
    size_t len;
    char why[256];
    if (want == 0) return 0;   /* stopped during epoch 1: no rows written yet */
    char *text = (char *)nn_read_file_max(path, NN_METRICS_FILE_MAX, &len, why, sizeof why);
    if (!text) {
        snprintf(err, n_err, "%s: %s", path, why);
        return -1;
    }
    char head[128];
    snprintf(head, sizeof head, "epoch,loss,accuracy,mse,%s_loss,%s_accuracy,%s_mse,seconds", pre,
             pre, pre);
    const size_t hl = strlen(head);
    int n = 0, line_no = 1, bad = 0;
    char *line = text, *const end = text + len;
    if (len < hl || memcmp(text, head, hl) || (text[hl] != '\n' && strncmp(text + hl, ",lr\n", 4))) {
        snprintf(err, n_err, "%s:1: the header is not '%s[,lr]'", path, head);
        bad = 1;
    }
    while (!bad && n < want) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) break;   /* the last line, or none: no more complete rows */
        line = nl + 1;
        line_no++;
        nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) break;
        if (nl - line > NN_METRICS_LINE_MAX) {
            snprintf(err, n_err, "%s:%d: a line longer than %d bytes", path, line_no,
                     NN_METRICS_LINE_MAX);
            bad = 1;
            break;
        }
        *nl = '\0';
        struct nn_epoch_row *w = &r->rows[n];
        w->train.lr = NAN;   /* a run begun before the lr column: unknown, written "nan" */
        int used = -1;
        const int k = sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf%n,%lf%n", &w->epoch,
                             &w->train.loss, &w->train.accuracy, &w->train.mse, &w->eval.loss,
                             &w->eval.accuracy, &w->eval.mse, &w->train.seconds, &used,
                             &w->train.lr, &used);
        *nl = '\n';
        if ((k != 9 && k != 8) || used < 0 || line + used != nl || w->epoch != n + 1)
            break;   /* the first incomplete or foreign row ends the usable ones */
        w->eval_name = pre;
        n++;
    }
    free(text);
    if (bad) return -1;
    if (n < want) {
        snprintf(err, n_err, "%s: has %d complete rows, the checkpoint is after epoch %d", path,
                 n, want);
        return -1;
    }
    r->epochs_run = n;
    return 0;
}

/* Numbers that are NaN or infinite (a loss that overflowed) are written
 * null: results.json is valid JSON whatever happened. */
static void json_stats(FILE *f, const char *key, double loss, double acc, double mse)
{
    fprintf(f, "  \"%s\": {\"loss\": ", key);
    nn_json_number(f, "%.6f", loss);
    fprintf(f, ", \"accuracy\": ");
    nn_json_number(f, "%.6f", acc);
    fprintf(f, ", \"mse\": ");
    nn_json_number(f, "%.6f", mse);
    fprintf(f, "},\n");
}



static int write_results(const char *path, const struct nn_graph *g, const struct nn_spec *s,
                         const struct nn_dataset *train, const struct nn_dataset *val,
                         const struct nn_dataset *test, const struct nn_run_opts *o,
                         const struct nn_run_result *r, char *err, size_t n_err)
{
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    if (!f) return write_text(path, NULL, 0, err, n_err);
    fprintf(f, "{\n  \"nnrun_version\": \"%s\",\n  \"name\": ", NNRUN_VERSION);
    nn_json_string(f, s->name);
    fprintf(f, ",\n  \"spec\": \"spec.yaml\",\n  \"spec_hash\": \"%016llx\",\n",
            (unsigned long long)nn_spec_hash(s));
    fprintf(f, "  \"seed\": %llu,\n  \"threads\": %d,\n  \"params\": %zu,\n",
            (unsigned long long)s->seed, o->threads, g->n_params);
    fprintf(f, "  \"train_samples\": %zu,\n  \"validation_samples\": %zu,\n"
            "  \"test_samples\": %zu,\n", train->n, val->n, test->n);
    fprintf(f, "  \"epochs\": %d,\n  \"epochs_run\": %d,\n  \"stopped_early\": %s,\n"
            "  \"best_epoch\": %d,\n", s->train.epochs, r->epochs_run,
            r->stopped_early ? "true" : "false", r->best_epoch);
    if (r->epochs_run) {
        const struct nn_epoch_row *w = &r->rows[r->epochs_run - 1];
        json_stats(f, "train", w->train.loss, w->train.accuracy, w->train.mse);
        if (val->n) json_stats(f, "validation", w->eval.loss, w->eval.accuracy, w->eval.mse);
    }
    json_stats(f, "test", r->test.loss, r->test.accuracy, r->test.mse);
    double total = 0;
    for (int i = 0; i < r->epochs_run; i++) total += r->rows[i].train.seconds;
    fprintf(f, "  \"seconds\": {\"train\": ");
    nn_json_number(f, "%.3f", total);
    fprintf(f, ", \"test\": ");
    nn_json_number(f, "%.3f", r->test.seconds);
    fprintf(f, ", \"epochs\": [");
    for (int i = 0; i < r->epochs_run; i++) {
        fprintf(f, "%s", i ? ", " : "");
        nn_json_number(f, "%.3f", r->rows[i].train.seconds);
    }
    fprintf(f, "]},\n  \"classes\": [");
    const int C = r->n_classes;
    for (int k = 0; k < C; k++) {
        fprintf(f, "%s", k ? ", " : "");
        char nb[16];
        nn_json_string(f, nn_class_name(s->data.dataset, k, nb, sizeof nb));
    }
    fprintf(f, "],\n  \"per_class_accuracy\": [");
    for (int k = 0; k < C; k++) {
        uint64_t tot = 0;
        for (int p = 0; p < C; p++) tot += r->confusion[k * C + p];
        fprintf(f, "%s", k ? ", " : "");
        if (tot) fprintf(f, "%.4f", (double)r->confusion[k * C + k] / (double)tot);
        else fprintf(f, "null");   /* no test sample of that class */
    }
    fprintf(f, "],\n  \"confusion\": [");
    for (int k = 0; k < C; k++) {
        fprintf(f, "%s[", k ? ",\n                " : "");
        for (int p = 0; p < C; p++) fprintf(f, "%s%u", p ? ", " : "", r->confusion[k * C + p]);
        fprintf(f, "]");
    }
    fprintf(f, "]\n}\n");
    fclose(f);
    return write_text(path, text, len, err, n_err);
}

void nn_confusion(const struct nn_dataset *ds, const uint8_t *pred, int n_classes, uint32_t *m)
{
    memset(m, 0, (size_t)n_classes * (size_t)n_classes * sizeof *m);
    for (size_t i = 0; i < ds->n; i++)
        if (ds->labels[i] < n_classes && pred[i] < n_classes)
            m[ds->labels[i] * n_classes + pred[i]]++;
}

int nn_load_weights(struct nn_graph *g, const char *path, uint64_t hash,
                    struct nn_input_scaling *sc, char *err, size_t n_err)
{
    struct nn_ckpt c;
    if (sc) memset(sc, 0, sizeof *sc);
    if (nn_ckpt_read(path, g->n_params, &c, err, n_err)) return -1;
    int rc = -1;
    if (c.n_params != g->n_params)
        snprintf(err, n_err, "%s: holds %llu parameters, the model has %zu", path,
                 (unsigned long long)c.n_params, g->n_params);
    else if (hash && c.spec_hash != hash)
        snprintf(err, n_err, "%s: was written for a spec with hash %016llx; this spec's hash is "
                 "%016llx", path, (unsigned long long)c.spec_hash, (unsigned long long)hash);
    else {
        memcpy(g->params, c.params, g->n_params * sizeof *g->params);
        if (sc && c.n_input_ch) {
            const size_t bytes = c.n_input_ch * sizeof(float);
            sc->channels = (int)c.n_input_ch;
            sc->scale = memcpy(nn_xmalloc(bytes), c.in_scale, bytes);
            sc->shift = memcpy(nn_xmalloc(bytes), c.in_shift, bytes);
        }
        rc = 0;
    }
    nn_ckpt_free(&c);
    return rc;
}

void nn_input_scaling_free(struct nn_input_scaling *sc)
{
    free(sc->scale);
    free(sc->shift);
    memset(sc, 0, sizeof *sc);
}

/* Keras' EarlyStopping: an improvement is beyond min_delta in the monitor's
 * direction (accuracy up, losses down). */
static int monitor_rises(int m) { return m == NN_MONITOR_ACCURACY || m == NN_MONITOR_VAL_ACCURACY; }

static double monitor_value(int m, const struct nn_epoch_row *w)
{
    switch (m) {
    case NN_MONITOR_LOSS: return w->train.loss;
    case NN_MONITOR_ACCURACY: return w->train.accuracy;
    case NN_MONITOR_MSE: return w->train.mse;
    case NN_MONITOR_VAL_LOSS: return w->eval.loss;
    case NN_MONITOR_VAL_ACCURACY: return w->eval.accuracy;
    default: return w->eval.mse;
    }
}

/* A file's copy of the input scaling of data.standardize, when the data has one. */
static void put_scaling(struct nn_ckpt *c, const struct nn_dataset *train)
{
    if (!train->scale) return;
    c->n_input_ch = (uint32_t)train->c;
    c->in_scale = train->scale;
    c->in_shift = train->shift;
}

static int save_state(const char *path, const struct nn_trainer *t, uint64_t hash,
                      double best, int best_epoch, int wait, char *err, size_t n_err)
{
    struct nn_ckpt c = {.kind = NN_CKPT_TRAIN, .spec_hash = hash, .n_params = t->g->n_params,
                        .n_state = 2, .epoch = t->epoch, .batch = t->batch, .step = t->step,
                        .optim_t = t->o.t, .sums = t->sums, .epoch_seconds = t->epoch_seconds,
                        .best = best, .best_epoch = best_epoch, .wait = wait,
                        .lr = t->o.lr, .plateau_lr = t->lr_state.lr,
                        .plateau_best = t->lr_state.best, .plateau_wait = t->lr_state.wait,
                        .plateau_cooldown = t->lr_state.cooldown,
                        .params = t->g->params, .state = {t->o.s1, t->o.s2}};
    put_scaling(&c, t->train);
    return nn_ckpt_write(path, &c, err, n_err);
}

static int save_weights(const char *path, const struct nn_graph *g, const float *params,
                        const struct nn_dataset *train, uint64_t hash, char *err, size_t n_err)
{
    struct nn_ckpt c = {.kind = NN_CKPT_WEIGHTS, .spec_hash = hash, .n_params = g->n_params,
                        .params = (float *)params};
    put_scaling(&c, train);
    return nn_ckpt_write(path, &c, err, n_err);
}

/* The training state to checkpoint.nnc; the first one puts a staging
 * directory in the place of the record it replaces (o->final_dir). */
static int checkpoint(struct paths *p, const struct nn_run_opts *o, struct nn_run_result *r,
                      const struct nn_trainer *t, uint64_t hash, double best, int best_epoch,
                      int wait, char *err, size_t n_err)
{
    if (save_state(p->ckpt, t, hash, best, best_epoch, wait, err, n_err)) return -1;
    r->ckpt_epoch = t->epoch;
    r->ckpt_batch = t->batch;
    if (o->final_dir && !r->placed) {
        if (nn_dir_replace(o->dir, o->final_dir, err, n_err)) return -1;
        r->placed = 1;
        make_paths(p, o->final_dir, err, n_err);   /* checked by the caller */
    }
    return 0;
}

/* err about a file of the staging directory, as the user knows it: the
 * record's own path (final) in place of the staging one, and no word of a
 * "previous" staging file (the caller says that the old record is
 * unchanged). */
static void name_final(char *err, size_t n_err, const char *staging, const char *final)
{
    if (strstr(err, " in its place: ") || strstr(err, ": cannot move it aside: "))
        return;   /* the swap itself failed (nn_dir_replace): both names are meant */
    char in[2048], *prev = strstr(err, "; the previous ");
    if (prev) *prev = '\0';
    snprintf(in, sizeof in, "%s", err);
    const size_t ls = strlen(staging);
    size_t k = 0;
    for (const char *c = in; *c && k + 1 < n_err;) {
        if (ls && !strncmp(c, staging, ls)) {
            k += (size_t)snprintf(err + k, n_err - k, "%s", final);
            if (k >= n_err) k = n_err - 1;
            c += ls;
        } else {
            err[k++] = *c++;
        }
    }
    err[k] = '\0';
}

int nn_run(struct nn_graph *g, const struct nn_spec *s, const struct nn_dataset *train,
           const struct nn_dataset *val, const struct nn_dataset *test,
           const struct nn_run_opts *o, struct nn_run_result *r, char *err, size_t n_err)
{
    const double t0 = nn_now();
    memset(r, 0, sizeof *r);
    r->status = -1;
    const uint64_t hash = nn_spec_hash(s);
    const struct nn_early_stop_spec *es = &s->train.early_stopping;
    const int E = s->train.epochs, rises = monitor_rises(es->monitor);
    const char *pre = eval_prefix(val);
    const struct nn_dataset *eval_set = val->n ? val : test;
    struct paths p;
    r->ckpt_epoch = -1;
    if ((o->dir && make_paths(&p, o->dir, err, n_err)) ||
        (o->final_dir && make_paths(&p, o->final_dir, err, n_err)) ||
        (o->dir && make_paths(&p, o->dir, err, n_err)))
        return -1;
    r->n_classes = g->nodes[g->output].c;
    r->rows = nn_xcalloc((size_t)E, sizeof *r->rows);
    r->confusion = nn_xcalloc((size_t)r->n_classes * (size_t)r->n_classes,
                              sizeof *r->confusion);
    float *best_params = es->enabled ? nn_alloc_floats(g->n_params) : NULL;
    uint8_t *pred = malloc(test->n ? test->n : 1);
    struct nn_trainer t;
    if ((es->enabled && !best_params) || !pred) {
        snprintf(err, n_err, "out of memory");
        free(best_params);
        free(pred);
        return -1;
    }
    if (nn_trainer_init(&t, g, s, train, err, n_err)) {
        free(best_params);
        free(pred);
        return -1;
    }
    double best = rises ? -INFINITY : INFINITY;
    int best_epoch = 0, wait = 0;
    if (o->dir && !o->resume) {
        char *text = nn_spec_to_yaml(s);
        if (write_text(p.spec, text, strlen(text), err, n_err)) goto out;
    }
    if (o->resume) {
        nn_remove_stale_tmp(o->dir);   /* left by a write that was killed */
        struct nn_ckpt c;
        if (nn_ckpt_read(p.ckpt, g->n_params, &c, err, n_err)) goto out;
        int bad = 1;
        if (c.kind != NN_CKPT_TRAIN || c.n_state != 2)
            snprintf(err, n_err, "%s: holds weights only, not a training state", p.ckpt);
        else if (c.spec_hash != hash)
            snprintf(err, n_err, "%s: was written for a spec with hash %016llx; this spec's "
                     "hash is %016llx (resume with the run's own spec.yaml, or the same spec, "
                     "seed and overrides)", p.ckpt, (unsigned long long)c.spec_hash,
                     (unsigned long long)hash);
        else if (c.n_params != g->n_params)
            snprintf(err, n_err, "%s: holds %llu parameters, the model has %zu", p.ckpt,
                     (unsigned long long)c.n_params, g->n_params);
        else if (nn_ckpt_check_position(&c, E, nn_trainer_batches(&t),
                                        (uint64_t)s->train.batch_size, err, n_err)) {
            char why[512];
            snprintf(why, sizeof why, "%s", err);
            snprintf(err, n_err, "%s: %s", p.ckpt, why);
        } else
            bad = 0;
        if (!bad) {
            memcpy(g->params, c.params, g->n_params * sizeof *g->params);
            memcpy(t.o.s1, c.state[0], g->n_params * sizeof *t.o.s1);
            memcpy(t.o.s2, c.state[1], g->n_params * sizeof *t.o.s2);
            t.o.t = (long)c.optim_t;
            nn_trainer_seek(&t, c.epoch, (size_t)c.batch);
            t.step = c.step;
            t.sums = c.sums;
            t.epoch_seconds = c.epoch_seconds;
            r->ckpt_epoch = c.epoch;
            r->ckpt_batch = c.batch;
            best = c.best;
            best_epoch = c.best_epoch;
            wait = c.wait;
            if (c.version >= 2) {   /* version 1 predates schedules: the initial state */
                t.o.lr = c.lr;
                t.lr_state = (struct nn_lr_state){c.plateau_lr, c.plateau_best, c.plateau_wait,
                                                  c.plateau_cooldown};
            }
        }
        nn_ckpt_free(&c);
        if (bad || read_metrics(p.metrics, r, t.epoch, pre, err, n_err)) goto out;
        if (best_params && best_epoch) {   /* the best weights so far */
            struct nn_ckpt bw;
            if (nn_ckpt_read(p.best, g->n_params, &bw, err, n_err)) goto out;
            const int fits = bw.n_params == g->n_params && bw.spec_hash == hash;
            if (fits) memcpy(best_params, bw.params, g->n_params * sizeof *best_params);
            else snprintf(err, n_err, "%s: does not belong to this run", p.best);
            nn_ckpt_free(&bw);
            if (!fits) goto out;
        }
        r->best_epoch = best_epoch;
        if (es->enabled && wait > 0 && wait >= es->patience && t.epoch > 1 && t.batch == 0)
            r->stopped_early = 1;
    }
    struct nn_train_hooks h = {o->pool, o->stop, o->on_batch, o->ctx};
    while (t.epoch < E && !r->stopped_early) {
        struct nn_epoch_row *w = &r->rows[t.epoch];
        const int e = t.epoch;
        int rc = nn_trainer_epoch(&t, &h, &w->train, err, n_err);
        if (rc == 1) {
            r->status = 1;
            if (o->dir && checkpoint(&p, o, r, &t, hash, best, best_epoch, wait, err, n_err))
                r->status = -1;
            goto out;
        }
        if (rc) goto out;
        w->epoch = e + 1;
        w->eval_name = pre;
        nn_evaluate(g, s, eval_set, o->pool, &w->eval);
        r->epochs_run = e + 1;
        nn_lr_plateau_update(&t.lr_state, &s->train.lr_schedule,
                             monitor_value(s->train.lr_schedule.monitor, w));
        if (es->enabled) {
            const double v = monitor_value(es->monitor, w);
            const double delta = rises ? es->min_delta : -es->min_delta;
            wait++;
            if (rises ? v - delta > best : v - delta < best) {
                best = v;
                best_epoch = e + 1;
                wait = 0;
                memcpy(best_params, g->params, g->n_params * sizeof *g->params);
                if (o->dir && save_weights(p.best, g, best_params, train, hash, err, n_err))
                    goto out;
            } else if (wait >= es->patience && e > 0) {
                r->stopped_early = 1;
            }
            r->best_epoch = best_epoch;
        }
        if (o->dir && (write_metrics(p.metrics, r, pre, err, n_err) ||
                       checkpoint(&p, o, r, &t, hash, best, best_epoch, wait, err, n_err)))
            goto out;
        if (o->on_epoch) o->on_epoch(o->ctx, w);
    }
    if (best_params && best_epoch && es->restore_best_weights)
        memcpy(g->params, best_params, g->n_params * sizeof *g->params);
    nn_predict(g, s, test, o->pool, &r->test, pred, NULL);
    nn_confusion(test, pred, r->n_classes, r->confusion);
    if (o->dir && (save_weights(p.model, g, g->params, train, hash, err, n_err) ||
                   write_metrics(p.metrics, r, pre, err, n_err) ||
                   write_results(p.results, g, s, train, val, test, o, r, err, n_err)))
        goto out;
    r->status = 0;
out:
    if (r->status < 0 && o->final_dir && !r->placed) name_final(err, n_err, o->dir, o->final_dir);
    r->seconds = nn_now() - t0;
    nn_trainer_free(&t);
    free(best_params);
    free(pred);
    return r->status < 0 ? -1 : 0;
}

void nn_run_result_free(struct nn_run_result *r)
{
    free(r->rows);
    free(r->confusion);
    memset(r, 0, sizeof *r);
}
