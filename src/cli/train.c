/* train.c - `nnrun [train] SPEC`: train, evaluate, keep a run record;
 * `--resume DIR` continues one.  Progress: a bar redrawn in place on a
 * terminal, one line per epoch otherwise, or JSON objects with --json. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "nnrun/diag.h"
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

/* , "PREFIXkey": v (null when not finite) */
static void json_field(const char *key, const char *prefix, double v)
{
    printf(", \"%s%s\": ", prefix, key);
    nn_json_number(stdout, "%.6f", v);
}

static void on_epoch(void *ctx, const struct nn_epoch_row *w)
{
    struct progress *p = ctx;
    p->started = 0;
    if (p->bar) fprintf(stderr, "\r\033[K");
    if (p->json) {   /* a NaN or infinite number is written null */
        printf("{\"event\": \"epoch\", \"epoch\": %d, \"epochs\": %d", w->epoch,
               p->s->train.epochs);
        json_field("loss", "", w->train.loss);
        json_field("accuracy", "", w->train.accuracy);
        json_field("mse", "", w->train.mse);
        json_field("_loss", w->eval_name, w->eval.loss);
        json_field("_accuracy", w->eval_name, w->eval.accuracy);
        json_field("_mse", w->eval_name, w->eval.mse);
        printf(", \"seconds\": ");
        nn_json_number(stdout, "%.3f", w->train.seconds);
        printf("}\n");
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

/* ---- --smoke ---------------------------------------------------------------- */

/* The spec cut down to a quick look: one epoch of about two batches, a few
 * hundred test samples.  The validation split keeps at least one sample on
 * each side, as the full run's would. */
static void smoke_spec(struct nn_spec *s)
{
    const double split = s->data.validation_split;
    const double bs = s->train.batch_size;
    double n = 2 * bs;
    if (split > 0) n = fmax(ceil(2 * bs / (1 - split)), ceil(1 / split) + 1);
    if (n > 1e9) n = 1e9;
    if (!s->data.train_samples || n < s->data.train_samples) s->data.train_samples = (int)n;
    if (!s->data.test_samples || s->data.test_samples > 256) s->data.test_samples = 256;
    s->train.epochs = 1;
}

/* anc = base's nearest ancestor that exists (its parent, then the parent's
 * parent, ...; "." for a relative name with none) */
static void nearest_ancestor(const char *base, char anc[PATH_MAX])
{
    struct stat st;
    snprintf(anc, PATH_MAX, "%s", base);
    for (;;) {
        char *slash = strrchr(anc, '/');
        while (slash && slash > anc && slash[-1] == '/') slash--;
        if (!slash) snprintf(anc, PATH_MAX, ".");
        else if (slash == anc) anc[1] = '\0';
        else *slash = '\0';
        if (!stat(anc, &st) || errno != ENOENT || !strcmp(anc, ".") || !strcmp(anc, "/")) break;
    }
}

/* Whether the record directory base could be made (the full run makes it,
 * or base-N or a staging directory beside it, under base's nearest existing
 * ancestor): a directory is made there, a file written into it, and both
 * removed.  With --force the full run takes the lock of the record it
 * replaces, so one that another nnrun process is writing fails it: the lock
 * is tried here too, and released at once.  0, or EXIT_RUNTIME with the
 * message printed. */
static int smoke_probe(const char *base, int force)
{
    char anc[PATH_MAX], probe[PATH_MAX + 32], file[PATH_MAX + 64], err[PATH_MAX + 256];
    struct stat st;
    if (force && !lstat(base, &st) && S_ISDIR(st.st_mode)) {
        const int fd = nn_dir_lock(base);
        if (fd < 0) {
            fprintf(stderr, "nnrun: error: %s: %s\n", base, errno == EBUSY ? "in use by another "
                    "nnrun process; --force does not replace a record being written" :
                    strerror(errno));
            return EXIT_RUNTIME;
        }
        close(fd);
    }
    nearest_ancestor(base, anc);
    if (stat(anc, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "nnrun: error: --out %s: %s %s, so the run record cannot be made\n", base,
                anc, stat(anc, &st) ? strerror(errno) : "is not a directory");
        return EXIT_RUNTIME;
    }
    snprintf(probe, sizeof probe, "%s/.nnrun-smoke-XXXXXX", anc);
    if (!mkdtemp(probe)) {
        fprintf(stderr, "nnrun: error: --out %s: cannot create a directory in %s: %s\n", base,
                anc, strerror(errno));
        return EXIT_RUNTIME;
    }
    snprintf(file, sizeof file, "%s/probe", probe);
    int rc = nn_write_file_atomic(file, "nnrun\n", 6, err, sizeof err);
    if (rc) fprintf(stderr, "nnrun: error: --out %s: cannot write in %s: %s\n", base, anc, err);
    nn_remove_tree(probe);
    return rc ? EXIT_RUNTIME : 0;
}

/* After the smoke run: the record in dir reloads (spec.yaml to the same
 * hash, model.nnw and checkpoint.nnc into the model, results.json). */
static int smoke_reload(const char *dir, const struct nn_spec *s, struct nn_graph *g)
{
    char path[PATH_MAX + 32], err[PATH_MAX + 512];
    const uint64_t hash = nn_spec_hash(s);
    snprintf(path, sizeof path, "%s/spec.yaml", dir);
    struct nn_diag d;
    nn_diag_init(&d, path);
    struct nn_ynode *root = nn_yaml_parse_file(path, &d);
    struct nn_spec *back = root ? nn_spec_from_tree(root, path, &d) : NULL;
    nn_ynode_free(root);
    const uint64_t back_hash = back ? nn_spec_hash(back) : 0;
    nn_spec_free(back);
    if (!back || back_hash != hash) {
        nn_diag_print(&d, stderr);
        fprintf(stderr, "nnrun: error: the record's spec.yaml does not read back as the same "
                "spec (hash %016llx, the run's %016llx)\n", (unsigned long long)back_hash,
                (unsigned long long)hash);
        nn_diag_free(&d);
        return EXIT_RUNTIME;
    }
    nn_diag_free(&d);
    static const char *const files[] = {"model.nnw", "checkpoint.nnc"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        struct nn_input_scaling sc;
        const int bad = nn_load_weights(g, path, hash, &sc, err, sizeof err);
        nn_input_scaling_free(&sc);
        if (bad) {
            fprintf(stderr, "nnrun: error: %s\n", err);
            return EXIT_RUNTIME;
        }
    }
    struct run_record rec;
    if (collect_load(dir, &rec, err, sizeof err)) {
        fprintf(stderr, "nnrun: error: the record's results.json: %s\n", err);
        return EXIT_RUNTIME;
    }
    collect_record_free(&rec);
    return 0;
}

/* ---- nnrun [train] SPEC ----------------------------------------------------- */

int cmd_train(int argc, char **argv, int first)
{
    struct cli c = {.cmd = "train"};
    if (cli_parse(argc, argv, first,
                  OPT_THREADS | OPT_SEED | OPT_SET | OPT_QUIET | OPT_JSON | OPT_OUT | OPT_FORCE |
                      OPT_RESUME | OPT_MAX_MEMORY | OPT_NO_RECORD | OPT_SMOKE, &c))
        return EXIT_USAGE;
    char spec_buf[PATH_MAX];
    const char *spec_path = c.n_pos ? c.pos[0] : NULL;
    if (c.n_pos > 1) {
        fprintf(stderr, "nnrun: error: unexpected argument '%s'\n", c.pos[1]);
        return EXIT_USAGE;
    }
    if (!spec_path && c.resume) {   /* nnrun --resume DIR: the run's own spec */
        if ((size_t)snprintf(spec_buf, sizeof spec_buf, "%s/spec.yaml", c.resume) >=
            sizeof spec_buf) {
            fprintf(stderr, "nnrun: error: --resume: the path is too long\n");
            return EXIT_USAGE;
        }
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
        } else if (errno == ENOENT) {
            /* leftovers of a killed write go first (under the lock, so never
             * a live run's); a record with no spec and no checkpoint is of a
             * run stopped before it got started, and is called that */
            char ck[PATH_MAX + 16];
            snprintf(ck, sizeof ck, "%s/checkpoint.nnc", c.resume);
            const int lock = nn_dir_lock(c.resume), lock_errno = errno;
            if (lock >= 0) nn_remove_stale_tmp(c.resume);
            if (lock < 0 && lock_errno == EBUSY) {
                fprintf(stderr, "nnrun: error: %s: in use by another nnrun process (a run or "
                        "resume of it is going on)\n", c.resume);
                return EXIT_RUNTIME;
            }
            if (lock >= 0 && access(ck, F_OK)) {
                fprintf(stderr, "nnrun: error: %s: no such file: the record holds no spec: the "
                        "run was stopped before it got started, so there is nothing to resume "
                        "(start it again with nnrun SPEC --out %s)\n", spec_buf, c.resume);
                close(lock);
                return EXIT_USAGE;
            }
            if (lock >= 0) close(lock);
        }
    }
    if (!spec_path) {
        fprintf(stderr, "nnrun: error: no spec file given\n");
        cli_usage(stderr);
        return EXIT_USAGE;
    }
    if (c.resume && (c.out || c.no_record || c.smoke)) {
        fprintf(stderr, "nnrun: error: --resume continues the run in its own directory; "
                "it does not take --out, --no-record or --smoke\n");
        return EXIT_USAGE;
    }
    if (c.resume && strlen(c.resume) + 64 >= PATH_MAX) {   /* refused, never cut */
        fprintf(stderr, "nnrun: error: --resume: the path is %zu bytes long; with the files of "
                "the record it must stay under %d bytes (PATH_MAX)\n", strlen(c.resume),
                PATH_MAX - 64);
        return EXIT_USAGE;
    }
    /* a path that cannot be a record is refused before anything is read */
    int rc = c.out ? cli_check_out("--out", c.out, 64, c.force, CLI_DIR_RUN) : 0;
    if (!rc) rc = cli_check_inside("--out", c.out, spec_path, c.force);
    if (rc) return rc;
    struct nn_spec *s;
    struct nn_graph g;
    rc = cli_load_model(&c, spec_path, &s, &g);
    if (rc) return rc;
    if (c.smoke) smoke_spec(s);
    struct nn_pool *pool = NULL;
    struct nn_dataset train = {0}, val = {0}, test = {0};
    struct cli_dir rd = {.lock_fd = -1, .old_lock_fd = -1};
    char smoke_dir[PATH_MAX] = "";
    const double t_start = nn_now();
    const int threads = c.threads ? c.threads : nn_cpu_count();
    const double limit = c.max_memory ? c.max_memory : default_max_memory();
    const size_t plan = nn_graph_plan_bytes(&g, s->train.batch_size, threads);
    if (plan == SIZE_MAX || (double)plan > limit) {
        char need[32], lim[32];
        fmt_bytes(need, sizeof need, plan == SIZE_MAX ? 1.8e19 : (double)plan);
        fmt_bytes(lim, sizeof lim, limit);
        /* an override of the batch size or the model is named, as validation would */
        static const char *const plan_keys[] = {"model.", "model", "train.optimizer"};
        struct nn_diag d;
        cli_diag_init(&d, s);
        const struct nn_mark m = cli_blame(s->batch_mark, plan_keys, 3);
        nn_diag_error(&d, m.override ? m : (struct nn_mark){0, 0, 0}, "the model needs %s%s "
                      "of memory (parameters, gradients, optimizer state and activations for "
                      "batch_size %d on %d threads); the limit is %s (%s)",
                      plan == SIZE_MAX ? "more than " : "", need, s->train.batch_size, threads, lim,
                      c.max_memory ? "--max-memory" : "80% of this machine's memory; raise it "
                      "with --max-memory");
        nn_diag_print(&d, stderr);
        nn_diag_free(&d);
        rc = EXIT_USAGE;
        goto out_model;
    }
    const struct cli_budget budget = {limit, (double)plan, c.max_memory ? "--max-memory" :
                                      "80% of this machine's memory; raise it with --max-memory"};
    rc = cli_load_data_within(s, &budget, &train, &val, &test);   /* data count against it too */
    if (rc) goto out_model;
    char err[PATH_MAX + 1024];
    pool = nn_pool_create(threads);
    if (nn_graph_alloc(&g, s->train.batch_size, nn_pool_threads(pool), err, sizeof err)) {
        fprintf(stderr, "nnrun: error: %s\n", err);
        rc = EXIT_RUNTIME;
        goto out;
    }
    nn_graph_init_params(&g, s->seed);
    char base[PATH_MAX];
    const char *run_dir = NULL, *final_dir = NULL;
    if (c.out) snprintf(base, sizeof base, "%s", c.out);
    else cli_default_dir(base, sizeof base, "", s->name);
    if (c.smoke) {
        /* the record goes to a temporary directory, removed at the end */
        if (!c.no_record && (rc = smoke_probe(base, c.force))) goto out;
        /* in $TMPDIR, else /tmp, else beside where the record would go (the
         * full run needs none of them: a missing $TMPDIR does not fail it) */
        const char *tmp = getenv("TMPDIR");
        char places[3][PATH_MAX], why[3][PATH_MAX + 128];
        int n_places = 0, made = 0;
        if (tmp && *tmp && strlen(tmp) < PATH_MAX)
            snprintf(places[n_places++], PATH_MAX, "%s", tmp);
        snprintf(places[n_places++], PATH_MAX, "/tmp");
        nearest_ancestor(base, places[n_places++]);
        for (int i = 0; i < n_places && !made; i++) {
            if ((size_t)snprintf(smoke_dir, sizeof smoke_dir, "%s/%snnrun-smoke-XXXXXX",
                                 places[i], i == n_places - 1 ? "." : "") >= sizeof smoke_dir)
                snprintf(why[i], sizeof why[i], "%.200s...: path too long", places[i]);
            else if (!mkdtemp(smoke_dir))
                snprintf(why[i], sizeof why[i], "%.*s: %s", PATH_MAX, places[i], strerror(errno));
            else
                made = 1;
        }
        if (!made) {
            fprintf(stderr, "nnrun: error: --smoke: cannot create a temporary directory in");
            for (int i = 0; i < n_places; i++) fprintf(stderr, "%s %s", i ? "," : "", why[i]);
            fprintf(stderr, "\n");
            smoke_dir[0] = '\0';
            rc = EXIT_RUNTIME;
            goto out;
        }
        run_dir = smoke_dir;
    } else if (c.resume) {
        snprintf(rd.dir, sizeof rd.dir, "%s", c.resume);
        if ((rd.lock_fd = nn_dir_lock(rd.dir)) < 0) {
            fprintf(stderr, "nnrun: error: %s: %s\n", rd.dir, errno == EBUSY ? "in use by another "
                    "nnrun process (a run or resume of it is going on)" : strerror(errno));
            rc = EXIT_RUNTIME;
            goto out;
        }
        run_dir = rd.dir;
    } else if (!c.no_record) {
        if ((rc = cli_claim(&rd, base, c.force, CLI_DIR_RUN))) goto out;
        if (rd.renamed && !c.quiet && !c.json)
            printf("note: %s exists; this run's record goes to %s\n", base, rd.dir);
        run_dir = rd.dir;
        if (rd.final[0]) final_dir = rd.final;
    }
    const int bar = !c.quiet && !c.json && isatty(STDERR_FILENO);
    struct progress prog = {.s = s, .bar = bar, .json = c.json, .quiet = c.quiet};
    if (c.smoke && !c.json && !c.quiet)
        printf("smoke test: 1 epoch of %zu batch%s on %zu training samples, %zu validation and "
               "%zu test samples; the record goes to %s and is removed\n",
               (train.n + (size_t)s->train.batch_size - 1) / (size_t)s->train.batch_size,
               train.n > (size_t)s->train.batch_size ? "es" : "", train.n, val.n, test.n,
               smoke_dir);
    else if (!c.smoke && !c.quiet && !c.json)
        printf("%s: %zu parameters, %zu training, %zu validation and %zu test samples, seed "
               "%llu, %d threads%s%s%s\n", s->name, g.n_params, train.n, val.n, test.n,
               (unsigned long long)s->seed, nn_pool_threads(pool), run_dir ? "; record in " : "",
               run_dir ? (final_dir ? final_dir : run_dir) : "",
               final_dir ? " (--force: it replaces the old record at the first checkpoint)" : "");
    fflush(stdout);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct nn_run_opts ro = {pool, nn_pool_threads(pool), run_dir, c.resume != NULL, final_dir,
                             &stop_signal, on_batch, on_epoch, &prog};
    struct nn_run_result r;
    const int failed = nn_run(&g, s, &train, &val, &test, &ro, &r, err, sizeof err);
    if (r.placed) {   /* the staging directory is now the record */
        snprintf(rd.dir, sizeof rd.dir, "%s", rd.final);
        rd.final[0] = '\0';
        run_dir = rd.dir;
    }
    if (failed) {
        char ckpt_path[PATH_MAX + 32];
        snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoint.nnc", run_dir ? run_dir : ".");
        if (bar) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "nnrun: error: %s\n", err);
        if (c.smoke)
            fprintf(stderr, "nnrun: the smoke test failed (its temporary record %s was "
                    "removed)\n", smoke_dir);
        else if (final_dir && !r.placed)
            fprintf(stderr, "nnrun: the old record in %s is unchanged\n", final_dir);
        else if (run_dir && r.ckpt_epoch >= 0 && !r.ckpt_batch)
            fprintf(stderr, "nnrun: the last good checkpoint is %s/checkpoint.nnc (after epoch "
                    "%d)\n", run_dir, r.ckpt_epoch);
        else if (run_dir && r.ckpt_epoch >= 0)
            fprintf(stderr, "nnrun: the last good checkpoint is %s/checkpoint.nnc (epoch %d, "
                    "batch %llu)\n", run_dir, r.ckpt_epoch + 1, (unsigned long long)r.ckpt_batch);
        else if (c.resume && !access(ckpt_path, F_OK))   /* it could not be used */
            fprintf(stderr, "nnrun: %s was not changed; no new checkpoint was written\n",
                    ckpt_path);
        else if (c.resume)
            fprintf(stderr, "nnrun: %s holds no checkpoint; none was written\n", run_dir);
        else if (run_dir)
            fprintf(stderr, "nnrun: no checkpoint was written\n");
        rc = EXIT_RUNTIME;
    } else if (r.status == 1) {
        if (bar) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "nnrun: %s: stopped during epoch %d", stop_signal == SIGTERM ?
                "terminated" : "interrupted", r.epochs_run + 1);
        if (c.smoke)
            fprintf(stderr, " (--smoke: nothing kept)\n");
        else if (run_dir)
            fprintf(stderr, "; checkpoint written. Resume with:\n  nnrun --resume %s\n", run_dir);
        else
            fprintf(stderr, " (--no-record: nothing to resume from)\n");
        rc = stop_signal == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
    } else if (c.smoke && (rc = smoke_reload(smoke_dir, s, &g))) {
        fprintf(stderr, "nnrun: the smoke test failed: the run record does not reload\n");
    } else if (c.smoke) {
        if (c.json) {
            printf("{\"event\": \"smoke\", \"ok\": true, \"seconds\": ");
            nn_json_number(stdout, "%.3f", nn_now() - t_start);
            printf("}\n");
        } else {
            printf("smoke test passed in %.1fs: data, training, evaluation, checkpoint and run "
                   "record all work (nothing was kept%s%s)\n", nn_now() - t_start,
                   c.no_record ? "" : "; the record can be made for ", c.no_record ? "" : base);
        }
    } else if (c.json) {
        printf("{\"event\": \"result\", \"test_loss\": ");
        nn_json_number(stdout, "%.6f", r.test.loss);
        printf(", \"test_accuracy\": ");
        nn_json_number(stdout, "%.6f", r.test.accuracy);
        printf(", \"test_mse\": ");
        nn_json_number(stdout, "%.6f", r.test.mse);
        printf(", \"epochs_run\": %d, \"stopped_early\": %s, \"best_epoch\": %d, \"seconds\": ",
               r.epochs_run, r.stopped_early ? "true" : "false", r.best_epoch);
        nn_json_number(stdout, "%.3f", r.seconds);
        printf(", \"run_dir\": ");
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
    if (smoke_dir[0]) nn_remove_tree(smoke_dir);
    cli_release(&rd);
    nn_pool_free(pool);
    nn_dataset_free(&train);
    nn_dataset_free(&val);
    nn_dataset_free(&test);
out_model:
    nn_graph_free(&g);
    nn_spec_free(s);
    return rc;
}
