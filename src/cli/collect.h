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

/* ---- pieces nnrun report uses too ---------------------------------------- */

struct nn_ynode;
struct nn_diag;

/* A list of paths. */
struct collect_paths {
    char **p;
    int n;
};
void collect_paths_free(struct collect_paths *ps);

/* Whether dir is a run record: a directory holding results.json. */
int collect_is_record(const char *dir);
/* 1 when DIR/results.json is there but cannot be a record's (a directory,
 * a FIFO, a device...); why gets the reason. */
int collect_results_bad(const char *dir, char *why, size_t n);

/* Appends to out the run records at dir and below it, at most max_depth
 * levels down, in the order of the names at each level.  A record's own
 * subdirectories are not searched, hidden ones (.git) never; a symbolic link
 * to a record is taken but no link is searched, so there are no cycles.
 * Under ".", paths are "run", not "./run".  left_out (NULL: not wanted) gets
 * the directories passed over without a record: those at max_depth and
 * links.  Returns how many records it appended. */
int collect_find(const char *dir, int max_depth, struct collect_paths *out,
                 struct collect_paths *left_out);

/* The node at a dotted path ("test.accuracy") in a parsed results.json (JSON
 * is YAML's flow syntax, so nn_yaml_parse_file reads it), or NULL. */
const struct nn_ynode *collect_get(const struct nn_ynode *root, const char *path);

/* The number a scalar holds, the whole text parsed: 0, or -1 (no scalar, or
 * not a number). */
int collect_number(const struct nn_ynode *n, double *out);

/* A spec as its leaves: key paths named the way --set names them
 * (train.optimizer.learning_rate, model.layers.3.dense.units) and their
 * values as people write them.  A list of scalars ([28, 28, 1]) is one
 * value, an empty map "{}"; a list of maps (layers) is indexed.  Unquoted
 * numbers with a point or an exponent are shown in the shortest form that
 * is the same float (the resolved spec's 0.00100000005 is 0.001). */
struct spec_leaves {
    int n;
    char **keys, **vals;
};
void collect_flatten_spec(const struct nn_ynode *spec, struct spec_leaves *out);

/* A run record's YAML or JSON file (spec.yaml, results.json) parsed, read
 * bounded (nn_read_file_max: a regular file of at most max bytes; a FIFO, a
 * device or a directory is refused without blocking); NULL with the errors,
 * each naming path, in d. */
struct nn_ynode *collect_parse_file(const char *path, size_t max, struct nn_diag *d);

/* Reads and flattens the spec at path (at most NN_SPEC_FILE_MAX bytes); -1 when it cannot be read, its
 * diagnostics printed to errors (NULL: not printed). */
int collect_read_spec(const char *path, struct spec_leaves *out, FILE *errors);
void collect_leaves_free(struct spec_leaves *l);

/* The value of key, or NULL.  A key that names a section rather than a leaf
 * (a sweep over train.optimizer: [adam, sgd]) gives the section's name. */
const char *collect_spec_value(const struct spec_leaves *l, const char *key);

/* The keys, in the order of the specs, whose values are not the same in
 * every spec (a key some specs lack differs): first those every spec has,
 * then the others (another model's layers).  'name' is left out; specs
 * without leaves (no spec.yaml) are not compared.  *out points into the
 * specs' keys; free(*out) when done.  Returns how many. */
int collect_differing_keys(const struct spec_leaves *const *specs, int n, const char ***out);

/* ---- run records as a table ----------------------------------------------- */

/* One run record: results.json and the flattened spec.yaml. */
struct run_record {
    char *dir, *name;
    long long seed;
    double m[CM_COUNT];         /* NAN where the record lacks it (val_* without a split) */
    int epochs_run;
    struct spec_leaves spec;    /* none without a spec.yaml */
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
