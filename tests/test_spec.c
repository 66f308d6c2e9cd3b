/* test_spec.c - spec parsing, defaults, and every error path with its position. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "nnrun/layer.h"
#include "nnrun/optim.h"

#define HEAD "name: t\nmodel:\n  input: [28, 28, 1]\n  layers:\n    - flatten\n"
#define TRAIN "train:\n  loss: sparse_categorical_crossentropy\n  epochs: 1\n"

START_TEST(test_seed_models_parse)
{
    struct nn_diag d;
    nn_diag_init(&d, NULL);
    struct nn_spec *s = nn_spec_load(SRCDIR "/models/cnn.yaml", &d);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->name, "fashion-cnn");
    ck_assert_int_eq(s->n_layers, 6);
    ck_assert_int_eq(s->train.batch_size, 100);
    ck_assert_int_eq(s->train.epochs, 10);
    ck_assert_int_eq(s->train.optim.kind, NN_OPT_RMSPROP);
    ck_assert_float_eq(s->train.optim.learning_rate, 0.001f);
    ck_assert_float_eq(s->train.optim.rho, 0.9f);
    ck_assert_float_eq(s->train.optim.epsilon, 1e-7f);
    ck_assert_int_eq(s->train.loss, NN_LOSS_SPARSE_CCE);
    ck_assert_uint_eq(s->train.metrics, (1u << NN_METRIC_ACCURACY) | (1u << NN_METRIC_MSE) |
                                            (1u << NN_METRIC_LOSS));
    ck_assert_ptr_eq(s->layers[0].ops, &nn_layer_conv2d);
    ck_assert_int_eq(s->layers[0].activation, NN_ACT_TANH);
    ck_assert_str_eq(s->layers[0].name, "conv2d_1");
    ck_assert_str_eq(s->layers[4].name, "dense_2");
    ck_assert_float_eq(s->data.divide_by, 255.0f);
    ck_assert_str_eq(s->data.dataset, "fashion_mnist");
    nn_spec_free(s);
    s = nn_spec_load(SRCDIR "/models/dense.yaml", &d);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->train.batch_size, 25);
    ck_assert_int_eq(d.n_errors, 0);
    nn_spec_free(s);
    nn_diag_free(&d);
}
END_TEST

START_TEST(test_defaults_and_forms)
{
    struct nn_spec *s = t_spec(
        "model:\n  input: [8, 8]\n  layers:\n"
        "    - conv2d: {filters: 2, kernel_size: [3, 2]}\n"
        "    - maxpool2d\n"
        "    - relu\n"
        "    - leaky_relu: {alpha: 0.1}\n"
        "    - activation: elu\n"
        "    - flatten\n"
        "    - dropout: {rate: 0.25}\n"
        "    - dense: {units: 10, activation: softmax, name: out}\n"
        "train:\n  loss: mse\n  optimizer: {name: adam, learning_rate: 0.01}\n");
    ck_assert_str_eq(s->name, "t");       /* from the file name */
    ck_assert_int_eq(s->seed, 1);
    ck_assert_int_eq(s->input[2], 1);     /* [h, w] means one channel */
    ck_assert_int_eq(s->train.epochs, 1); /* Keras' fit() defaults */
    ck_assert_int_eq(s->train.batch_size, 32);
    ck_assert_int_eq(s->train.shuffle, 1);
    ck_assert_uint_eq(s->train.metrics, 1u << NN_METRIC_LOSS);
    ck_assert_int_eq(s->train.optim.kind, NN_OPT_ADAM);
    ck_assert_float_eq(s->train.optim.learning_rate, 0.01f);
    ck_assert_float_eq(s->train.optim.beta_1, 0.9f);
    ck_assert_float_eq(s->train.optim.beta_2, 0.999f);
    ck_assert_ptr_eq(s->layers[2].ops, &nn_layer_activation);
    const struct nn_activation_args *a = s->layers[3].args;
    ck_assert_int_eq(a->activation, NN_ACT_LEAKY_RELU);
    ck_assert_float_eq(a->alpha, 0.1f);
    a = s->layers[4].args;
    ck_assert_int_eq(a->activation, NN_ACT_ELU);
    ck_assert(isnan(a->alpha));
    ck_assert_str_eq(s->layers[7].name, "out");
    ck_assert_str_eq(s->data.dataset, "fashion_mnist");
    nn_spec_free(s);
    struct nn_optim_spec o;
    nn_optim_defaults(&o, NN_OPT_SGD);
    ck_assert_float_eq(o.learning_rate, 0.01f);
    ck_assert_float_eq(o.momentum, 0.0f);
    ck_assert_int_eq(o.nesterov, 0);
}
END_TEST

/* Bad specs and the exact error each must produce (first line). */
static const struct {
    const char *yaml, *error;
} bad[] = {
    {HEAD "    - dense: {units: 10, activation: tahn}\n" TRAIN,
     "t.yaml:6:38: error: unknown activation 'tahn'; expected one of: linear, tanh, relu, "
     "sigmoid, softmax, leaky_relu, elu (did you mean 'tanh'?)"},
    {HEAD "    - dens: {units: 10}\n" TRAIN,
     "t.yaml:6:7: error: unknown layer 'dens'; expected one of: dense, conv2d, maxpool2d, "
     "avgpool2d, flatten, dropout, activation, add, concatenate, global_average_pooling2d, "
     "batch_normalization, tanh, relu, sigmoid, softmax, leaky_relu, elu (did you mean "
     "'dense'?)"},
    {HEAD "    - dense: {unit: 10}\n" TRAIN,
     "t.yaml:6:15: error: unknown key for dense 'unit'; expected one of: units, use_bias, "
     "kernel_initializer, bias_initializer, name, inputs, activation (did you mean 'units'?)"},
    {HEAD "    - dense: {units: -5}\n" TRAIN,
     "t.yaml:6:22: error: dense: 'units' is -5; it must be >= 1 and <= 16777216"},
    {HEAD "    - dense: {units: 1000000000000}\n" TRAIN,
     "t.yaml:6:22: error: dense: 'units' is 1000000000000; it must be >= 1 and <= 16777216"},
    {HEAD "    - dense: {units: ten}\n" TRAIN,
     "t.yaml:6:22: error: dense: 'units' must be an integer, found 'ten'"},
    {HEAD "    - dense: {units: 10}\n" "train:\n  loss: mse\n  epochs: 0\n",
     "t.yaml:9:11: error: train: 'epochs' is 0; it must be >= 1 and <= 1000000"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  batch_size: 0\n",
     "t.yaml:10:15: error: train: 'batch_size' is 0; it must be >= 1 and <= 1000000"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  optimizer: adamv\n",
     "t.yaml:10:14: error: unknown optimizer 'adamv'; expected one of: sgd, rmsprop, adam, "
     "adamw (did you mean 'adam'?)"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  optimizer: {name: sgd, momentum: 1.5}\n",
     "t.yaml:10:36: error: optimizer sgd: 'momentum' is 1.5; it must be >= 0 and < 1"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  optimizer: {name: sgd, rho: 0.5}\n",
     "t.yaml:10:26: error: unknown key for optimizer sgd 'rho'; expected one of: "
     "learning_rate, momentum, nesterov, weight_decay, clipnorm, global_clipnorm, name"},
    /* training features: weight decay, clipping, schedules, label smoothing */
    {HEAD "    - dense: {units: 10}\n" TRAIN "  optimizer: {name: adamw, weight_decay: -1}\n",
     "t.yaml:10:42: error: optimizer adamw: 'weight_decay' is -1; it must be >= 0 and <= "
     "1000000"},
    {HEAD "    - dense: {units: 10}\n" TRAIN
     "  optimizer: {name: adam, clipnorm: 1, global_clipnorm: 1}\n",
     "t.yaml:10:57: error: optimizer adam: give 'clipnorm' (per tensor) or 'global_clipnorm' "
     "(over all gradients), not both"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  optimizer: {name: sgd, clip_norm: 1}\n",
     "t.yaml:10:26: error: unknown key for optimizer sgd 'clip_norm'; expected one of: "
     "learning_rate, momentum, nesterov, weight_decay, clipnorm, global_clipnorm, name "
     "(did you mean 'clipnorm'?)"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  lr_schedule: {name: cosin}\n",
     "t.yaml:10:23: error: unknown lr_schedule 'cosin'; expected one of: constant, step, "
     "exponential, cosine, reduce_on_plateau (did you mean 'cosine'?)"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  lr_schedule: {name: cosine, warmup_step: 5}\n",
     "t.yaml:10:31: error: unknown key for lr_schedule cosine 'warmup_step'; expected one of: "
     "decay_steps, alpha, warmup_steps, warmup_epochs, name (did you mean 'warmup_steps'?)"},
    {HEAD "    - dense: {units: 10}\n" TRAIN
     "  lr_schedule: {name: cosine, warmup_steps: 5, warmup_epochs: 1}\n",
     "t.yaml:10:63: error: lr_schedule cosine: give 'warmup_steps' or 'warmup_epochs', "
     "not both"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  lr_schedule: {name: exponential, decay_rate: 0.5}\n",
     "t.yaml:10:16: error: lr_schedule exponential: missing required key 'decay_steps' "
     "(steps (batches) over which the rate is multiplied by decay_rate)"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  lr_schedule: step\n",
     "t.yaml:10:16: error: lr_schedule step: missing required key 'step_size' (epochs between "
     "decays); write {name: step, step_size: ...}"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  lr_schedule: {name: reduce_on_plateau, factor: 1, monitor: loss}\n",
     "t.yaml:10:50: error: lr_schedule reduce_on_plateau: 'factor' is 1; it must be >= 0 and "
     "< 1"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  lr_schedule: {name: reduce_on_plateau}\n",
     "t.yaml:10:16: error: lr_schedule: monitor val_loss needs a validation set; set "
     "data.validation_split (e.g. 0.1) or monitor loss"},
    {HEAD "    - dense: {units: 10}\n" "train:\n  loss: mse\n  label_smoothing: 0.1\n",
     "t.yaml:9:20: error: train: 'label_smoothing' applies to the cross-entropy losses, "
     "not mse"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  label_smoothing: 1.5\n",
     "t.yaml:10:20: error: train: 'label_smoothing' is 1.5; it must be >= 0 and <= 1"},
    {HEAD "    - dense: {units: 10}\n" "train:\n  loss: sparse_categorical_crossentropi\n",
     "t.yaml:8:9: error: unknown loss 'sparse_categorical_crossentropi'; expected one of: "
     "sparse_categorical_crossentropy, categorical_crossentropy, mse (did you mean "
     "'sparse_categorical_crossentropy'?)"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "  metrics: [accuracyy]\n",
     "t.yaml:10:13: error: unknown metric 'accuracyy'; expected one of: accuracy, mse, loss "
     "(did you mean 'accuracy'?)"},
    {HEAD "    - dense: {units: 10}\n" "trian:\n  loss: mse\n",
     "t.yaml:7:1: error: unknown top-level key 'trian'; expected one of: name, seed, data, "
     "model, train (did you mean 'train'?)"},
    {HEAD "    - dense: {units: 10}\n",
     "t.yaml:1:1: error: missing required section 'train'"},
    {"name: t\n" TRAIN, "t.yaml:1:1: error: missing required section 'model'"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "train:\n  loss: mse\n",
     "t.yaml:10:1: error: duplicate key 'train' (first given at line 7, column 1)"},
    {HEAD "    - dense: {units: 10\n" TRAIN, "t.yaml:7:6: error: invalid YAML: did not find expected ',' or '}' (while parsing a flow "
     "mapping at line 6, column 14)"},
    {"name: &a t\n" "model: *a\n", "t.yaml:1:7: error: YAML anchor found"},
    {"model:\n  input: [28, 28, 1]\n  layers:\n    - dense: {units: 10}\n" TRAIN,
     "t.yaml:4:7: error: layer 'dense_1' (dense) needs a flat input, but 'input' gives "
     "[28, 28, 1]; add a flatten layer before it"},
    {HEAD "    - dense: {units: 30}\n" TRAIN,
     "t.yaml:6:7: error: the last layer 'dense_1' gives [1, 1, 30], but the loss needs one "
     "value per class: [10] (data.classes)"},
    {HEAD "    - dense: {units: 10, inputs: [flaten_1]}\n" TRAIN,
     "t.yaml:6:35: error: layer 'dense_1': input 'flaten_1' names no layer (did you mean "
     "'flatten_1'?)"},
    {"model:\n  input: [4]\n  layers:\n    - dense: {units: 10, name: a, inputs: b}\n"
     "    - dense: {units: 10, name: b, inputs: a}\n" TRAIN,
     "t.yaml:4:7: error: layer 'a' is part of a cycle: its inputs lead back to itself"},
    {"model:\n  input: [2, 2, 1]\n  layers:\n    - conv2d: {filters: 1, kernel_size: 3}\n"
     "    - flatten\n    - dense: {units: 10}\n" TRAIN,
     "t.yaml:4:7: error: layer 'conv2d_1' (conv2d): kernel 3x3 is larger than its input "
     "[2, 2, 1] with padding valid"},
    {HEAD "    - dense: {units: 10}\n" TRAIN "data: {dataset: mnist}\n",
     "t.yaml:10:17: error: unknown dataset 'mnist'; expected one of: fashion_mnist"},
    {HEAD "    - dropout: {rate: 1}\n    - dense: {units: 10}\n" TRAIN,
     "t.yaml:6:23: error: dropout: 'rate' is 1; it must be >= 0 and < 1"},
    {HEAD "    - conv2d: {filters: 4, kernel_size: [3, 3, 3]}\n" TRAIN,
     "t.yaml:6:41: error: conv2d: 'kernel_size' must be an integer or a list of 2 integers "
     "[height, width], found a list of 3"},
    {HEAD "    - dense: {units: 10, use_bias: maybe}\n" TRAIN,
     "t.yaml:6:36: error: dense: 'use_bias' must be true or false, found 'maybe'"},
    {"- 1\n- 2\n", "t.yaml:1:1: error: a spec must be a mapping"},
    {"", "t.yaml:1:1: error: the spec is empty"},
};

START_TEST(test_bad_spec)
{
    const char *got = t_errors(bad[_i].yaml);
    ck_assert_msg(got != NULL, "case %d: no error for:\n%s", _i, bad[_i].yaml);
    ck_assert_msg(strncmp(got, bad[_i].error, strlen(bad[_i].error)) == 0,
                  "case %d:\n expected: %s\n got:      %s", _i, bad[_i].error, got);
}
END_TEST

/* Parses yaml, applies the overrides, validates; returns the spec or NULL
 * with the first error in err. */
static struct nn_spec *with_sets(const char *yaml, const char *const *sets, int n, char *err,
                                 size_t n_err)
{
    struct nn_diag d;
    nn_diag_init(&d, "t.yaml");
    d.overrides = sets;
    d.n_overrides = n;
    struct nn_ynode *root = nn_yaml_parse_string(yaml, strlen(yaml), &d);
    ck_assert_ptr_nonnull(root);
    int bad = 0;
    for (int i = 0; i < n; i++) bad |= nn_spec_override(root, sets[i], i + 1, &d);
    struct nn_spec *s = bad ? NULL : nn_spec_from_tree(root, "t.yaml", &d);
    nn_ynode_free(root);
    snprintf(err, n_err, "%s", d.n_errors ? d.msgs[0] : "");
    nn_diag_free(&d);
    return s;
}

START_TEST(test_overrides)
{
    static const char *const ok[] = {
        "train.epochs=5", "train.optimizer.learning_rate=0.01", "train.optimizer.name=adam",
        "model.layers.1.dense.units=64", "model.input=[32, 32, 3]", "train.shuffle=false",
        "name=sweep-1", "seed=42", "model.layers.0=flatten"};
    char err[1024];
    struct nn_spec *s = with_sets(HEAD "    - dense: {units: 10, activation: softmax}\n" TRAIN
                                  "  optimizer: rmsprop\n", ok, 9, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_int_eq(s->train.epochs, 5);
    ck_assert_int_eq(s->train.optim.kind, NN_OPT_ADAM);   /* a scalar optimizer became a map */
    ck_assert_float_eq(s->train.optim.learning_rate, 0.01f);
    ck_assert_float_eq(s->train.optim.beta_2, 0.999f);
    ck_assert_int_eq(s->n_layers, 2);
    ck_assert_ptr_eq(s->layers[0].ops, &nn_layer_flatten);
    ck_assert_int_eq(s->input[0], 32);
    ck_assert_int_eq(s->input[2], 3);
    ck_assert_int_eq(s->train.shuffle, 0);
    ck_assert_str_eq(s->name, "sweep-1");
    ck_assert_uint_eq(s->seed, 42);
    nn_spec_free(s);

    /* errors name the override, not a file position */
    static const struct {
        const char *set, *error;
    } bad_sets[] = {
        {"train.epoch=5", "--set train.epoch=5: error: unknown key for train 'epoch'; expected "
                          "one of: epochs, batch_size, shuffle, l2, label_smoothing, loss, "
                          "optimizer, metrics, early_stopping, lr_schedule (did you mean "
                          "'epochs'?)"},
        {"tran.epochs=5", "--set tran.epochs=5: error: unknown top-level key 'tran'"},
        {"model.layers.7.dense.units=1",
         "--set model.layers.7.dense.units=1: error: '7' is not an index of a list of 2 items "
         "(0 to 1)"},
        {"train.epochs", "--set train.epochs: error: expected KEY=VALUE, such as train.epochs=5"},
        {"train.epochs=-1", "--set train.epochs=-1: error: train: 'epochs' is -1; it must be >= 1"},
        {"train.batch_size=[1", "--set train.batch_size=[1: error: the value is not valid YAML"},
    };
    for (size_t i = 0; i < sizeof bad_sets / sizeof bad_sets[0]; i++) {
        const char *one[] = {bad_sets[i].set};
        s = with_sets(HEAD "    - dense: {units: 10}\n" TRAIN, one, 1, err, sizeof err);
        ck_assert_ptr_null(s);
        ck_assert_msg(!strncmp(err, bad_sets[i].error, strlen(bad_sets[i].error)),
                      "expected: %s\ngot: %s", bad_sets[i].error, err);
    }
}
END_TEST

/* tests/specs/bad/: every spec is refused with the exact first error listed
 * in EXPECTED (file:line:column, what was found, what is accepted), and
 * every spec in the directory is listed. */
START_TEST(test_bad_corpus)
{
    const char *dir = SRCDIR "/tests/specs/bad";
    char path[1024], line[2048];
    snprintf(path, sizeof path, "%s/EXPECTED", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char cwd[1024];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);   /* messages name the file as written here */
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char file[256];
        size_t len = strcspn(line, ":");
        ck_assert_uint_lt(len, sizeof file);
        memcpy(file, line, len);
        file[len] = '\0';
        struct nn_diag d;
        nn_diag_init(&d, file);
        struct nn_spec *s = nn_spec_load(file, &d);
        struct nn_graph g;
        if (s && nn_graph_build(&g, s, &d) == 0) nn_graph_free(&g);
        nn_spec_free(s);
        ck_assert_msg(d.n_errors > 0, "%s: accepted", file);
        ck_assert_msg(!strcmp(d.msgs[0], line), "\n expected: %s\n got:      %s", line,
                      d.msgs[0]);
        nn_diag_free(&d);
        n++;
    }
    fclose(f);
    ck_assert_int_eq(chdir(cwd), 0);
    int files = 0;
    DIR *dp = opendir(dir);
    ck_assert_ptr_nonnull(dp);
    for (struct dirent *e; (e = readdir(dp));) {
        size_t l = strlen(e->d_name);
        files += l > 5 && !strcmp(e->d_name + l - 5, ".yaml");
    }
    closedir(dp);
    ck_assert_int_eq(n, files);
    ck_assert_int_ge(n, 40);
}
END_TEST

START_TEST(test_suggest)
{
    static const char *const c[] = {"tanh", "relu", "softmax"};
    ck_assert_str_eq(nn_suggest("tahn", c, 3), "tanh");
    ck_assert_str_eq(nn_suggest("softmx", c, 3), "softmax");
    ck_assert_ptr_null(nn_suggest("convolution", c, 3));
    ck_assert_ptr_null(nn_suggest("ab", c, 3));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("spec");
    TCase *tc = tcase_create("spec");
    tcase_add_test(tc, test_seed_models_parse);
    tcase_add_test(tc, test_defaults_and_forms);
    tcase_add_loop_test(tc, test_bad_spec, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_suggest);
    tcase_add_test(tc, test_overrides);
    tcase_add_test(tc, test_bad_corpus);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
