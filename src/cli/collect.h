/* collect.h - run records read back into one table: what `nnrun collect`
 * and the leaderboard of `nnrun sweep` share, so that both print and sort
 * exactly the same way. */
#ifndef NNRUN_CLI_COLLECT_H
#define NNRUN_CLI_COLLECT_H

#include <stddef.h>
#include <stdio.h>

/* What a table can be sorted by: *_loss and seconds ascend, accuracies
 * descend.  seconds is training plus test evaluation (results.json). */
enum collect_metric {
    CM_TEST_ACCURACY, CM_TEST_LOSS, CM_VAL_ACCURACY, CM_VAL_LOSS, CM_TRAIN_LOSS,
    CM_TRAIN_ACCURACY, CM_SECONDS, CM_COUNT
};
extern const char *const collect_metric_names[CM_COUNT];

/* The metric called name, or -1 with what is accepted (and a did-you-mean)
 * in why, for the caller to place. */
int collect_metric(const char *name, char *why, size_t n);

/* One run record: results.json and the flattened spec.yaml. */
struct run_record {
    char *dir, *name;
    long long seed;
    double m[CM_COUNT];         /* NAN where the record lacks it (val_* without a split) */
    int epochs_run;
    int n_leaves;
    char **keys, **vals;        /* leaf paths (train.batch_size) and their YAML text */
};

/* Reads dir/results.json and dir/spec.yaml (optional).  0, or -1 with the
 * reason in err. */
int collect_load(const char *dir, struct run_record *r, char *err, size_t n_err);
void collect_record_free(struct run_record *r);

/* The shortest dotted suffix of keys[i] that no other key ends with:
 * train.optimizer.learning_rate -> learning_rate.  Points into keys[i]. */
const char *collect_short_key(const char *const *keys, int n, int i);

struct collect_opts {
    const char *const *dirs;    /* searched recursively for run records */
    int n_dirs;
    const char *const *keys;    /* spec keys to show; NULL: those whose values differ */
    int n_keys;
    int metric;                 /* enum collect_metric: the order */
    const char *csv;            /* also written there; NULL: not */
    int sweep;                  /* a leaderboard: the trial's name, no dir and seed */
};

/* Finds the run records, prints them as one table sorted by the metric and
 * writes the CSV.  0; EXIT_USAGE when a directory does not exist;
 * EXIT_RUNTIME when none holds a run record or the CSV cannot be written. */
int collect_table(const struct collect_opts *o, FILE *out);

#endif
