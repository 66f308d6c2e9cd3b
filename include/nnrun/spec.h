/* spec.h - the model spec: a YAML file parsed into a tree that keeps every
 * value's position, then validated against tables into struct nn_spec.
 *
 * Stage 1 (src/spec/yaml.c): libyaml events -> struct nn_ynode tree.  Encoding
 * errors, duplicate keys, anchors/aliases, tags and non-scalar keys are
 * refused here.
 * Stage 2 (src/spec/validate.c): tree -> struct nn_spec, every key checked
 * against a table {key, type, bounds, default, choices}; errors are collected
 * in a struct nn_diag with file:line:column, what was found and what is
 * accepted.
 */
#ifndef NNRUN_SPEC_H
#define NNRUN_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "nnrun/diag.h"

/* ---- stage 1: the YAML tree ------------------------------------------- */

enum nn_ynode_kind { NN_Y_SCALAR, NN_Y_MAP, NN_Y_SEQ };

struct nn_ynode {
    enum nn_ynode_kind kind;
    struct nn_mark mark;        /* where the value starts */
    char *str;                  /* scalar text (NN_Y_SCALAR) */
    int quoted;                 /* never a number or bool: 1 quoted (or a block
                                   scalar), 2 plain but tagged !!str */
    int n;                      /* items (SEQ) or pairs (MAP) */
    struct nn_ynode **items;    /* SEQ items, or MAP values */
    char **keys;                /* MAP keys */
    struct nn_mark *key_marks;  /* MAP key positions */
};

/* Parses a whole YAML document (UTF-8).  Returns NULL (errors in d, each at
 * its own line and column) on text that is not UTF-8 or holds control
 * characters, a syntax error, a duplicate key, an anchor or alias anywhere,
 * a tag other than the core schema's where it says what the text means
 * anyway (!!str makes a scalar text), a non-scalar key, more than
 * NN_YAML_MAX_NODES nodes or nesting deeper than NN_YAML_MAX_DEPTH. */
#define NN_YAML_MAX_NODES 100000
#define NN_YAML_MAX_DEPTH 64
struct nn_ynode *nn_yaml_parse_file(const char *path, struct nn_diag *d);
struct nn_ynode *nn_yaml_parse_string(const char *text, size_t len, struct nn_diag *d);
void nn_ynode_free(struct nn_ynode *n);
/* Value of key in a map, or NULL. */
struct nn_ynode *nn_ymap_get(const struct nn_ynode *map, const char *key);

/* ---- stage 2: the validated spec -------------------------------------- */

/* Activation functions, usable as `activation:` and as layers. */
enum nn_act {
    NN_ACT_LINEAR, NN_ACT_TANH, NN_ACT_RELU, NN_ACT_SIGMOID, NN_ACT_SOFTMAX,
    NN_ACT_LEAKY_RELU, NN_ACT_ELU, NN_ACT_COUNT
};
extern const char *const nn_act_names[NN_ACT_COUNT];

enum nn_init {
    NN_INIT_GLOROT_UNIFORM, NN_INIT_GLOROT_NORMAL, NN_INIT_HE_UNIFORM,
    NN_INIT_HE_NORMAL, NN_INIT_ZEROS, NN_INIT_COUNT
};
extern const char *const nn_init_names[NN_INIT_COUNT];

enum nn_padding { NN_PAD_VALID, NN_PAD_SAME, NN_PAD_COUNT };
extern const char *const nn_padding_names[NN_PAD_COUNT];

enum nn_loss_kind {
    NN_LOSS_SPARSE_CCE, NN_LOSS_CCE, NN_LOSS_MSE, NN_LOSS_COUNT
};
extern const char *const nn_loss_names[NN_LOSS_COUNT];

enum nn_optim_kind { NN_OPT_SGD, NN_OPT_RMSPROP, NN_OPT_ADAM, NN_OPT_ADAMW, NN_OPT_COUNT };
extern const char *const nn_optim_names[NN_OPT_COUNT];

enum nn_metric { NN_METRIC_ACCURACY, NN_METRIC_MSE, NN_METRIC_LOSS, NN_METRIC_COUNT };
extern const char *const nn_metric_names[NN_METRIC_COUNT];

/* The seed's range, the same for `seed:` in a spec, `--seed N` and a sweep's
 * `random: {seed: N}`: 0 to 2^53, so that every JSON reader of a record
 * (results.json, run.json) gets it exactly. */
#define NN_SEED_MAX 9007199254740992ULL
#define NN_SEED_RANGE "an integer from 0 to 9007199254740992 (2^53)"
/* Parses a seed: decimal digits, or a whole number written as a float
 * (1e6), within [0, NN_SEED_MAX]; no sign, space, hex or fraction.
 * Returns 0 with *seed set, or -1. */
int nn_seed_parse(const char *text, uint64_t *seed);

/* Value types of a spec key. */
enum nn_arg_type {
    NN_ARG_INT,    /* int, in [min, max] */
    NN_ARG_PAIR,   /* int or [int, int] (kernel_size, strides): int[2] */
    NN_ARG_FLOAT,  /* float, in [min, max] (max excluded when max_open) */
    NN_ARG_BOOL,   /* true/false */
    NN_ARG_ENUM,   /* one of choices: stored as int */
    NN_ARG_STRING, /* text: stored as char * (owned by the spec) */
};

/* One key of a layer kind (or of a spec section): the table that drives
 * parsing, validation, defaults and `nnrun keys`. */
#define NN_ARG_LATER 2
struct nn_arg_desc {
    const char *key;
    enum nn_arg_type type;
    size_t offset;              /* into the kind's args struct */
    int required;               /* 1: required; 0: optional; NN_ARG_LATER: optional
                                   and added after the first release, so resolved
                                   specs leave it out at its default (older specs
                                   keep their hash) */
    double min, max;
    int max_open;               /* max itself is not allowed */
    double def;                 /* default (PAIR: both; ENUM: index) */
    const char *const *choices; /* ENUM */
    int n_choices;
    const char *doc;
};

struct nn_layer_ops;

struct nn_layer_spec {
    const struct nn_layer_ops *ops;
    char *name;                 /* from `name:` or generated: dense_1, ... */
    int n_inputs;               /* 0: the previous layer */
    char **inputs;              /* names from `inputs:` */
    struct nn_mark *input_marks;
    void *args;                 /* the kind's args struct, defaults filled */
    int activation;             /* enum nn_act from `activation:`; LINEAR = none */
    struct nn_mark mark;
    struct nn_mark act_mark;
};

struct nn_optim_spec {
    enum nn_optim_kind kind;
    float learning_rate, momentum, rho, epsilon, beta_1, beta_2;
    int nesterov;
    float weight_decay;         /* decoupled: w -= lr * weight_decay * w; 0 = off */
    float clipnorm;             /* each tensor's gradient to this L2 norm at most; 0 = off */
    float global_clipnorm;      /* all gradients together to this norm at most; 0 = off */
};

/* train.lr_schedule: the learning rate as a function of the step (Keras'
 * ExponentialDecay and CosineDecay, a step decay by epochs) or of the
 * epochs' results (Keras' ReduceLROnPlateau). */
enum nn_lr_kind {
    NN_LR_CONSTANT, NN_LR_STEP, NN_LR_EXPONENTIAL, NN_LR_COSINE, NN_LR_PLATEAU, NN_LR_COUNT
};
extern const char *const nn_lr_names[NN_LR_COUNT];

struct nn_lr_schedule_spec {
    enum nn_lr_kind kind;
    int step_size;              /* step: epochs between decays */
    float gamma;                /* step: factor per decay */
    int decay_steps;            /* exponential; cosine (0: to the end of training) */
    float decay_rate;           /* exponential */
    int staircase;              /* exponential: decay in whole periods */
    int warmup_steps, warmup_epochs;   /* cosine: linear from 0 to the learning rate */
    float alpha;                /* cosine: the final rate as a fraction of the peak */
    int monitor;                /* reduce_on_plateau: enum nn_monitor */
    float factor, min_delta, min_lr;
    int patience, cooldown;
};

/* data.augment: random changes to each training sample, drawn on the fly
 * with the spec's seed (src/data/augment.c); never at evaluation. */
struct nn_augment_spec {
    int flip_horizontal;        /* mirror left-right with probability 1/2 */
    int translate;              /* shift by up to this many pixels each way; 0 = off */
    float erase;                /* probability of random erasing; 0 = off */
};

enum nn_data_format { NN_DATA_IDX, NN_DATA_CSV, NN_DATA_FORMAT_COUNT };
extern const char *const nn_data_format_names[NN_DATA_FORMAT_COUNT];

/* The longest data path a spec may give, in bytes with its terminating NUL
 * (the size of struct nn_data_paths' fields): a longer one is refused at its
 * key, never cut. */
#define NN_DATA_PATH_MAX 1024

struct nn_data_spec {
    char *dataset;              /* "fashion_mnist", or NULL with explicit paths */
    char *train_images, *train_labels, *test_images, *test_labels;
    float divide_by;            /* inputs are byte / divide_by */
    int train_samples, test_samples;   /* first N only; 0 = all */
    int classes;
    float validation_split;     /* the last fraction of the training samples */
    int standardize;            /* per-channel (x - mean) / std of the training set */
    struct nn_augment_spec augment;
    int format;                 /* enum nn_data_format */
    char *train, *test;         /* CSV files (format csv) */
    int label_column;           /* CSV: the label's column, from 0 */
    int header;                 /* CSV: the first line is a header */
    int image_shape[3];         /* CSV: H, W, C of one sample; 0s: model.input */
    struct nn_mark format_mark;
};

/* What early stopping watches: the training set's running means or the
 * validation set's (val_*, which need data.validation_split). */
enum nn_monitor {
    NN_MONITOR_LOSS, NN_MONITOR_ACCURACY, NN_MONITOR_MSE,
    NN_MONITOR_VAL_LOSS, NN_MONITOR_VAL_ACCURACY, NN_MONITOR_VAL_MSE, NN_MONITOR_COUNT
};
extern const char *const nn_monitor_names[NN_MONITOR_COUNT];

struct nn_early_stop_spec {
    int enabled;                /* the spec has train.early_stopping */
    int monitor;                /* enum nn_monitor; accuracy rises, the others fall */
    int patience;               /* epochs without improvement before stopping */
    float min_delta;
    int restore_best_weights;
};

struct nn_train_spec {
    enum nn_loss_kind loss;
    struct nn_optim_spec optim;
    unsigned metrics;           /* bit (1 << enum nn_metric) */
    int epochs, batch_size;
    int shuffle;
    struct nn_early_stop_spec early_stopping;
    float l2;                   /* adds l2 * sum(w^2) over the weights (not biases) */
    float label_smoothing;      /* cross-entropy targets y * (1 - ls) + ls / classes */
    struct nn_lr_schedule_spec lr_schedule;
};

struct nn_spec {
    char *path;
    char *name;
    uint64_t seed;
    struct nn_data_spec data;
    int input[3];               /* H, W, C (NHWC, as Keras' input shape) */
    struct nn_mark input_mark;
    int n_layers;
    struct nn_layer_spec *layers;
    struct nn_train_spec train;
    struct nn_mark batch_mark, loss_mark;
};

/* The key path of `--set KEY=VALUE` and of a sweep's keys (one grammar for
 * both): segments joined by single dots, each either
 *   a key: a letter or '_', then letters, digits, '_' or '-' (train, beta_1), or
 *   a list index: decimal digits without sign, space or leading zero (0, 3, 12),
 * at most NN_PATH_MAX_SEGMENTS of them.  Empty segments (a.b..c, .a, a.),
 * signs, spaces and other characters are refused. */
#define NN_PATH_MAX_SEGMENTS 64
struct nn_path {
    int n;                              /* segments */
    int start[NN_PATH_MAX_SEGMENTS];    /* offset of each in the text */
    int len[NN_PATH_MAX_SEGMENTS];
    int index[NN_PATH_MAX_SEGMENTS];    /* a list index (INT_MAX when larger), or -1: a key */
};
/* Parses the len bytes of text as a key path into p.  Returns 0, or -1 with
 * what is wrong in why (a phrase such as "'+1' is not a list index: ...").
 * src/spec/override.c; sweep keys go through it too. */
int nn_spec_path_parse(const char *text, size_t len, struct nn_path *p, char *why,
                       size_t n_why);

/* Applies `--set KEY=VALUE` (the index-th override, from 1) to a parsed
 * tree before validation; see src/spec/override.c.  Returns 0 or -1. */
int nn_spec_override(struct nn_ynode *root, const char *text, int index, struct nn_diag *d);

/* The resolved spec as YAML: every key with its value, defaults filled in
 * and overrides applied, in a fixed order; parsing it gives the same spec.
 * malloc'd. */
char *nn_spec_to_yaml(const struct nn_spec *s);
/* FNV-1a 64 of nn_spec_to_yaml(s): what a checkpoint is tied to. */
uint64_t nn_spec_hash(const struct nn_spec *s);

/* Parses and validates a spec file; NULL with errors in d on failure. */
struct nn_spec *nn_spec_load(const char *path, struct nn_diag *d);
/* Same from text; name is used in messages. */
struct nn_spec *nn_spec_from_string(const char *text, size_t len, const char *name,
                                    struct nn_diag *d);
/* Validates an already parsed tree. */
struct nn_spec *nn_spec_from_tree(const struct nn_ynode *root, const char *path,
                                  struct nn_diag *d);
void nn_spec_free(struct nn_spec *s);

#endif
