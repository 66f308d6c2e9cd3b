/* train.c - `nnrun [train] SPEC`: train, evaluate, keep a run record;
 * `--resume DIR` continues one.  Progress: a bar redrawn in place on a
 * terminal, one line per epoch otherwise, or JSON objects with --json. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "nnrun/parallel.h"
#include "nnrun/run.h"
#include "nnrun/util.h"

static volatile int stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
    signal(sig, SIG_DFL);   /* a second Ctrl-C ends the process at once */
}

struct progress {
    const struct nn_spec *s;
    int bar, json, quiet;
    double t_epoch, t_draw;
    int started;            /* the epoch's first batch was seen */
    size_t batch0;          /* batches done when it was (a resumed epoch starts late) */
};

static void fmt_time(char *b, size_t n, double s)
{
    if (s < 0 || s > 1e7) s = 0;
    snprintf(b, n, "%d:%02d", (int)s / 60, (int)s % 60);
}

static void on_batch(void *ctx, const struct nn_trainer *t, size_t n_batches)
{
    struct progress *p = ctx;
    if (!p->bar) return;
    const double now = nn_now();
    const size_t done = t->batch + 1;
    if (!p->started) {   /* the rate is measured from the end of the first batch */
        p->started = 1;
        p->batch0 = done;
        p->t_epoch = now;
        return;
    }
    if (now - p->t_draw < 0.1 && done < n_batches) return;
    p->t_draw = now;
    const double el = now - p->t_epoch;
    const double rate = el > 0 ? (double)(done - p->batch0) / el : 0;
    const double sps = rate * p->s->train.batch_size;
    char eta[16];
    fmt_time(eta, sizeof eta, rate > 0 ? (double)(n_batches - done) / rate : 0);
    char bar[31];
    const int fill = (int)(30.0 * (double)done / (double)n_batches);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[30] = '\0';
    fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %zu/%zu  %.0f samples/s  loss %.4f  ETA %s",
            t->epoch + 1, p->s->train.epochs, bar, done, n_batches, sps,
            t->sums.n ? t->sums.loss / (double)t->sums.n : 0.0, eta);
    fflush(stderr);
}

static void on_epoch(void *ctx, const struct nn_epoch_row *w)
{
    struct progress *p = ctx;
    p->started = 0;
    if (p->bar) fprintf(stderr, "\r\033[K");
    if (p->json) {
        printf("{\"event\": \"epoch\", \"epoch\": %d, \"epochs\": %d, \"loss\": %.6f, "
               "\"accuracy\": %.6f, \"mse\": %.6f, \"%s_loss\": %.6f, \"%s_accuracy\": %.6f, "
               "\"%s_mse\": %.6f, \"seconds\": %.3f}\n", w->epoch, p->s->train.epochs,
               w->train.loss, w->train.accuracy, w->train.mse, w->eval_name, w->eval.loss,
               w->eval_name, w->eval.accuracy, w->eval_name, w->eval.mse, w->train.seconds);
    } else if (!p->quiet) {
        const unsigned m = p->s->train.metrics;
        printf("epoch %d/%d  loss %.4f", w->epoch, p->s->train.epochs, w->train.loss);
        if (m & (1u << NN_METRIC_ACCURACY)) printf("  accuracy %.4f", w->train.accuracy);
        if (m & (1u << NN_METRIC_MSE)) printf("  mse %.4f", w->train.mse);
        printf("  %s_loss %.4f", w->eval_name, w->eval.loss);
        if (m & (1u << NN_METRIC_ACCURACY))
            printf("  %s_accuracy %.4f", w->eval_name, w->eval.accuracy);
        printf("  %.2fs\n", w->train.seconds);
    }
    fflush(stdout);
}



static double default_max_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? 0.8 * (double)pages * (double)size : 1e15;
}

static void fmt_bytes(char *b, size_t n, double v)
{
    const char *u[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int i = 0;
    while (v >= 1024 && i < 6) v /= 1024, i++;
    snprintf(b, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

int cmd_train(int argc, char **argv, int first)
{
    struct cli c = {.cmd = "train"};
    if (cli_parse(argc, argv, first,
                  OPT_THREADS | OPT_SEED | OPT_SET | OPT_QUIET | OPT_JSON | OPT_OUT | OPT_FORCE |
                      OPT_RESUME | OPT_MAX_MEMORY | OPT_NO_RECORD, &c))
        return EXIT_USAGE;
    char spec_buf[PATH_MAX];
    const char *spec_path = c.n_pos ? c.pos[0] : NULL;
    if (c.n_pos > 1) {
        fprintf(stderr, "nnrun: error: unexpected argument '%s'\n", c.pos[1]);
        return EXIT_USAGE;
    }
    if (!spec_path && c.resume) {   /* nnrun --resume DIR: the run's own spec */
        snprintf(spec_buf, sizeof spec_buf, "%s/spec.yaml", c.resume);
        spec_path = spec_buf;
        /* the record's spec: a regular file of at most NN_SPEC_FILE_MAX bytes
         * (a FIFO would block the spec reader); a missing one is reported below */
        char why[256];
        uint64_t size;
        const int fd = nn_open_regular(spec_buf, NN_SPEC_FILE_MAX, &size, why, sizeof why);
        if (fd >= 0) close(fd);
        else if (!access(spec_buf, F_OK)) {
            fprintf(stderr, "nnrun: error: %s: %s\n", spec_buf, why);
            return EXIT_USAGE;
        }
    }
    if (!spec_path) {
        fprintf(stderr, "nnrun: error: no spec file given\n");
        cli_usage(stderr);
        return EXIT_USAGE;
    }
    if (c.resume && (c.out || c.no_record)) {
        fprintf(stderr, "nnrun: error: --resume continues the run in its own directory; "
                "it does not take --out or --no-record\n");
        return EXIT_USAGE;
    }
    struct nn_spec *s;
    struct nn_graph g;
    int rc = cli_load_model(&c, spec_path, &s, &g);
    if (rc) return rc;
    struct nn_pool *pool = NULL;
    struct nn_dataset train = {0}, val = {0}, test = {0};
    const int threads = c.threads ? c.threads : nn_cpu_count();
    const double limit = c.max_memory ? c.max_memory : default_max_memory();
    const size_t plan = nn_graph_plan_bytes(&g, s->train.batch_size, threads);
    if (plan == SIZE_MAX || (double)plan > limit) {
        char need[32], lim[32];
        fmt_bytes(need, sizeof need, plan == SIZE_MAX ? 1.8e19 : (double)plan);
        fmt_bytes(lim, sizeof lim, limit);
        fprintf(stderr, "%s: error: the model needs %s%s of memory (parameters, gradients, "
                "optimizer state and activations for batch_size %d on %d threads); the limit "
                "is %s (%s)\n", s->path, plan == SIZE_MAX ? "more than " : "", need,
                s->train.batch_size, threads, lim,
                c.max_memory ? "--max-memory" : "80% of this machine's memory; raise it with "
                "--max-memory");
        rc = EXIT_USAGE;
        goto out_model;
    }
    const struct cli_budget budget = {limit, (double)plan, c.max_memory ? "--max-memory" :
                                      "80% of this machine's memory; raise it with --max-memory"};
    rc = cli_load_data_within(s, &budget, &train, &val, &test);   /* data count against it too */
    if (rc) goto out_model;
    char err[1024];
    pool = nn_pool_create(threads);
    if (nn_graph_alloc(&g, s->train.batch_size, nn_pool_threads(pool), err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        rc = EXIT_RUNTIME;
        goto out;
    }
    nn_graph_init_params(&g, s->seed);
    char dir[PATH_MAX];
    const char *run_dir = NULL;
    if (c.resume) {
        snprintf(dir, sizeof dir, "%s", c.resume);
        run_dir = dir;
    } else if (!c.no_record) {
        char base[PATH_MAX];
        if (c.out) snprintf(base, sizeof base, "%s", c.out);
        else cli_default_dir(base, sizeof base, "", s->name);
        int renamed = cli_fresh_dir(dir, sizeof dir, base, c.force);
        if (renamed < 0 || nn_mkdirs(dir, err, sizeof err)) {
            fprintf(stderr, "nnrun: error: %s\n", renamed < 0 ? "no free run directory name" : err);
            rc = EXIT_RUNTIME;
            goto out;
        }
        if (renamed && !c.quiet && !c.json)
            printf("note: %s exists; this run's record goes to %s\n", base, dir);
        run_dir = dir;
    }
    const int bar = !c.quiet && !c.json && isatty(STDERR_FILENO);
    struct progress prog = {.s = s, .bar = bar, .json = c.json, .quiet = c.quiet};
    if (!c.quiet && !c.json)
        printf("%s: %zu parameters, %zu training, %zu validation and %zu test samples, seed "
               "%llu, %d threads%s%s\n", s->name, g.n_params, train.n, val.n, test.n,
               (unsigned long long)s->seed, nn_pool_threads(pool), run_dir ? "; record in " : "",
               run_dir ? run_dir : "");
    fflush(stdout);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct nn_run_opts ro = {pool, nn_pool_threads(pool), run_dir, c.resume != NULL,
                             &stop_signal, on_batch, on_epoch, &prog};
    struct nn_run_result r;
    if (nn_run(&g, s, &train, &val, &test, &ro, &r, err, sizeof err)) {
        if (bar) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "nnrun: error: %s\n", err);
        if (run_dir && r.epochs_run)
            fprintf(stderr, "nnrun: the last good checkpoint is %s/checkpoint.nnc (after epoch "
                    "%d)\n", run_dir, r.epochs_run);
        rc = EXIT_RUNTIME;
    } else if (r.status == 1) {
        if (bar) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "nnrun: %s: stopped during epoch %d", stop_signal == SIGTERM ?
                "terminated" : "interrupted", r.epochs_run + 1);
        if (run_dir)
            fprintf(stderr, "; checkpoint written. Resume with:\n  nnrun --resume %s\n", run_dir);
        else
            fprintf(stderr, " (--no-record: nothing to resume from)\n");
        rc = stop_signal == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
    } else if (c.json) {
        printf("{\"event\": \"result\", \"test_loss\": %.6f, \"test_accuracy\": %.6f, "
               "\"test_mse\": %.6f, \"epochs_run\": %d, \"stopped_early\": %s, "
               "\"best_epoch\": %d, \"seconds\": %.3f, \"run_dir\": ", r.test.loss,
               r.test.accuracy, r.test.mse, r.epochs_run, r.stopped_early ? "true" : "false",
               r.best_epoch, r.seconds);
        if (run_dir) nn_json_string(stdout, run_dir);
        else printf("null");
        printf("}\n");
    } else {
        double train_s = 0;
        for (int i = 0; i < r.epochs_run; i++) train_s += r.rows[i].train.seconds;
        if (r.stopped_early && !c.quiet)
            printf("early stopping after epoch %d: %s did not improve for %d epochs (best: epoch "
                   "%d%s)\n", r.epochs_run, nn_monitor_names[s->train.early_stopping.monitor],
                   s->train.early_stopping.patience, r.best_epoch,
                   s->train.early_stopping.restore_best_weights ? ", restored" : "");
        if (!c.quiet)
            printf("test: loss %.4f  accuracy %.4f  mse %.4f  (%ld samples, %.2fs; training "
                   "%.1fs)\n", r.test.loss, r.test.accuracy, r.test.mse, r.test.n,
                   r.test.seconds, train_s);
        printf("test accuracy: %.2f%%\n", 100.0 * r.test.accuracy);
        if (run_dir && !c.quiet) printf("run record: %s\n", run_dir);
    }
    nn_run_result_free(&r);
out:
    nn_pool_free(pool);
    nn_dataset_free(&train);
    nn_dataset_free(&val);
    nn_dataset_free(&test);
out_model:
    nn_graph_free(&g);
    nn_spec_free(s);
    return rc;
}
