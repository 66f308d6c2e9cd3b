/* cli.h - the command line's shared parts: one option parser for every
 * subcommand, loading a spec with its overrides, loading its data.
 * Each subcommand lives in its own file (train.c, eval.c, sweep.c, ...);
 * main.c only dispatches.  Exit statuses: */
#ifndef NNRUN_CLI_H
#define NNRUN_CLI_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "nnrun/data.h"
#include "nnrun/graph.h"
#include "nnrun/run.h"
#include "nnrun/spec.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_SIGINT = 130, EXIT_SIGTERM = 143 };

#ifndef NNRUN_VERSION
#define NNRUN_VERSION "dev"
#endif

#define CLI_MAX_SETS 64
#define CLI_MAX_POS 256

/* Options; which ones a subcommand accepts is its entry's mask. */
enum cli_opt {
    OPT_THREADS = 1 << 0, OPT_SEED = 1 << 1, OPT_SET = 1 << 2, OPT_QUIET = 1 << 3,
    OPT_JSON = 1 << 4, OPT_OUT = 1 << 5, OPT_FORCE = 1 << 6, OPT_RESUME = 1 << 7,
    OPT_WEIGHTS = 1 << 8, OPT_EMIT = 1 << 9, OPT_JOBS = 1 << 10, OPT_MAX_RUNS = 1 << 11,
    OPT_OUTPUT = 1 << 12, OPT_MAX_MEMORY = 1 << 13, OPT_NO_RECORD = 1 << 14,
    OPT_SORT = 1 << 15, OPT_CSV = 1 << 16, OPT_SMOKE = 1 << 17,
};

struct cli {
    const char *cmd;
    const char *pos[CLI_MAX_POS];   /* positional arguments after the subcommand */
    int n_pos;
    int threads, quiet, json, force, no_record, jobs, max_runs, smoke;
    long long seed;                 /* -1: the spec's */
    const char *sets[CLI_MAX_SETS]; /* --set KEY=VALUE, in order */
    int n_sets;
    const char *out, *resume, *weights, *emit, *output, *sort, *csv;
    double max_memory;              /* bytes; 0: the default (see train.c) */
};

/* Parses argv[first..argc) into c, refusing options outside allowed.
 * Prints the error; returns 0 or -1. */
int cli_parse(int argc, char **argv, int first, unsigned allowed, struct cli *c);
void cli_usage(FILE *f);

/* Loads spec_path, applies c's overrides (and --seed), builds the graph;
 * prints every error.  0 or EXIT_USAGE. */
int cli_load_model(const struct cli *c, const char *spec_path, struct nn_spec **spec,
                   struct nn_graph *g);

/* Diagnostics for checks made after the spec was loaded (against the data,
 * the memory plan): d names the spec file and knows the --set texts of the
 * last cli_load_model, so a mark of an overridden value names the override. */
void cli_diag_init(struct nn_diag *d, const struct nn_spec *s);

/* The mark to blame for a check of the value at own that also depends on
 * keys (full paths such as "data.train_samples"; one ending in '.' stands
 * for every key under it): own when --set gave it, else the last --set of
 * one of keys, else own. */
struct nn_mark cli_blame(struct nn_mark own, const char *const *keys, int n_keys);

/* Loads the data the spec names: train (minus the validation split), the
 * validation split (val->n == 0 without one) and test; checks them against
 * the spec.  With data.standardize, all three get the per-channel scaling of
 * the training samples (train after the split).  Files are IDX or CSV
 * (data.format).  0, EXIT_RUNTIME (files) or EXIT_USAGE (mismatch with the spec). */
int cli_load_data(const struct nn_spec *s, struct nn_dataset *train, struct nn_dataset *val,
                  struct nn_dataset *test);

/* Only the spec's test set (eval), checked against the model's input; with
 * no input scaling (see cli_input_scaling).  0, EXIT_RUNTIME or EXIT_USAGE. */
int cli_load_test(const struct nn_spec *s, struct nn_dataset *test);

/* A memory limit the data sets count against: they may take limit - model
 * bytes (images and labels, the training set's before the test set's),
 * checked from the IDX headers before any payload is read, and as samples
 * arrive for CSV.  source names the limit for the message ("--max-memory").
 * Over it: a message with the numbers, EXIT_RUNTIME. */
struct cli_budget {
    double limit, model;
    const char *source;
};
/* cli_load_data and cli_load_test within a budget (NULL: none). */
int cli_load_data_within(const struct nn_spec *s, const struct cli_budget *budget,
                         struct nn_dataset *train, struct nn_dataset *val,
                         struct nn_dataset *test);
int cli_load_test_within(const struct nn_spec *s, const struct cli_budget *budget,
                         struct nn_dataset *test);

/* With data.standardize: gives ds the per-channel scaling training used:
 * the weights file's copy sc when it has one (taken over: sc is left
 * empty), else, for files written before nnrun kept it, one recomputed
 * from the training data as cli_load_data does.  Without data.standardize
 * ds keeps byte / divide_by.  0, EXIT_RUNTIME (sc is for another channel
 * count) or cli_load_data's status. */
int cli_input_scaling(const struct nn_spec *s, struct nn_input_scaling *sc,
                      struct nn_dataset *ds);



/* A growing string (malloc'd p, NUL-terminated), for CSV text and lists. */
struct cli_sb {
    char *p;
    size_t n, cap;
};
void cli_sb_put(struct cli_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ",field" appended to b, quoted when it holds a comma, a quote or a newline. */
void cli_csv_field(struct cli_sb *b, const char *s);

/* Drops trailing slashes from path p ("/" stays "/"). */
void cli_strip_slashes(char *p);
/* runs/PREFIX-NAME-YYYYmmddTHHMMSSZ, the name made safe for a path. */
void cli_default_dir(char *buf, size_t n, const char *prefix, const char *name);
/* ---- record directories (common.c) -----------------------------------------
 * A record's directory is claimed with one mkdir(2) that fails if it
 * exists (then base-2, base-3, ...), so two processes never share one.
 * With --force and base existing, the new record is written to a staging
 * directory .BASE.new.PID beside it and put in base's place by
 * cli_place (one rename exchange) at its first complete write; until then
 * base holds the old record, untouched, and if the new one never gets
 * there (an error, a stop before it) cli_release removes it. */
enum cli_dir_kind { CLI_DIR_RUN, CLI_DIR_SWEEP, CLI_DIR_EMIT };
struct cli_dir {
    char dir[PATH_MAX];     /* where the record is being written */
    char final[PATH_MAX];   /* --force: the directory it is to replace; "" otherwise */
    int renamed;            /* dir is base-N, base existed */
    int lock_fd, old_lock_fd;   /* flocks on dir and on the old record */
    int *sub_fd, n_sub;         /* a sweep's --force: flocks on the old trials */
};
/* Refuses (message printed, EXIT_USAGE) before anything is made: an empty
 * path, a name longer than NAME_MAX, a path that with `reserve` bytes of
 * file names under it would pass PATH_MAX; with force, an existing base
 * that is not a directory of kind's record (a file, a symbolic link, a
 * directory holding anything else).  0 when fine. */
int cli_check_out(const char *opt, const char *path, size_t reserve, int force,
                  enum cli_dir_kind kind);
/* With force: EXIT_USAGE (message printed) when file lies inside directory
 * dir, which --force would replace; 0 otherwise. */
int cli_check_inside(const char *opt, const char *dir, const char *file, int force);
/* Claims base (see above): 0, or EXIT_USAGE / EXIT_RUNTIME with the
 * message printed.  The claimed directory is locked (flock) while d lives;
 * with force, so is the old record, and one being written by another
 * process is refused. */
int cli_claim(struct cli_dir *d, const char *base, int force, enum cli_dir_kind kind);
/* With force: the staging directory goes in place of the old record, which
 * is removed; d->dir becomes base.  0 or -1 with err (nothing changed). */
int cli_place(struct cli_dir *d, char *err, size_t n_err);
/* Removes a staging directory that was never placed; drops the locks. */
void cli_release(struct cli_dir *d);

/* Subcommands: argc/argv as main has them, first = index after the word. */
int cmd_train(int argc, char **argv, int first);
int cmd_check(int argc, char **argv, int first);
int cmd_bench(int argc, char **argv, int first);
int cmd_eval(int argc, char **argv, int first);
int cmd_predict(int argc, char **argv, int first);
int cmd_sweep(int argc, char **argv, int first);
int cmd_collect(int argc, char **argv, int first);
int cmd_report(int argc, char **argv, int first);

#endif
