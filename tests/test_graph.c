/* test_graph.c - shape inference, parameter counts, ordering, memory plan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "nnrun/layer.h"

static struct nn_spec *load(const char *path, struct nn_graph *g)
{
    struct nn_diag d;
    nn_diag_init(&d, path);
    struct nn_spec *s = nn_spec_load(path, &d);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(nn_graph_build(g, s, &d), 0);
    nn_diag_free(&d);
    return s;
}

static const struct nn_node *by_name(const struct nn_graph *g, const char *name)
{
    for (int v = 0; v < g->n_nodes; v++)
        if (!strcmp(g->nodes[v].name, name)) return &g->nodes[v];
    ck_abort_msg("no node %s", name);
    return NULL;
}

START_TEST(test_dense_counts)
{
    struct nn_graph g;
    struct nn_spec *s = load(SRCDIR "/models/dense.yaml", &g);
    ck_assert_uint_eq(by_name(&g, "dense_1")->n_params, 23550);
    ck_assert_uint_eq(by_name(&g, "dense_2")->n_params, 620);
    ck_assert_uint_eq(by_name(&g, "dense_3")->n_params, 210);
    ck_assert_uint_eq(g.n_params, 24380);
    ck_assert_int_eq(by_name(&g, "flatten_1")->c, 784);
    ck_assert(by_name(&g, "flatten_1")->flags & NN_NODE_ALIAS);
    ck_assert_int_eq(g.nodes[g.output].c, 10);
    ck_assert(g.nodes[g.output].flags & NN_NODE_SOFTMAX);
    /* the first dense layer reads the data: no input gradient needed */
    ck_assert_int_eq(by_name(&g, "dense_1")->needs_dinput, 0);
    ck_assert_int_eq(by_name(&g, "dense_2")->needs_dinput, 1);
    /* input, flatten, 3 dense, 3 activations */
    ck_assert_int_eq(g.n_nodes, 8);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

START_TEST(test_cnn_counts_and_shapes)
{
    struct nn_graph g;
    struct nn_spec *s = load(SRCDIR "/models/cnn.yaml", &g);
    const struct nn_node *c = by_name(&g, "conv2d_1"), *p = by_name(&g, "maxpool2d_1");
    ck_assert_uint_eq(c->n_params, 160);
    ck_assert_int_eq(c->h, 28);
    ck_assert_int_eq(c->w, 28);
    ck_assert_int_eq(c->c, 16);
    ck_assert_int_eq(p->h, 14);
    ck_assert_int_eq(p->w, 14);
    ck_assert_uint_eq(by_name(&g, "dense_1")->n_params, 94110);
    ck_assert_uint_eq(by_name(&g, "dense_2")->n_params, 620);
    ck_assert_uint_eq(by_name(&g, "dense_3")->n_params, 210);
    ck_assert_uint_eq(g.n_params, 95100);
    ck_assert_int_eq(by_name(&g, "flatten_1")->c, 3136);
    /* forward FLOPs: conv 2*28*28*9*16, dense 2*(3136*30 + 30*20 + 20*10) */
    ck_assert_uint_eq(c->flops, 225792);
    ck_assert_uint_eq(by_name(&g, "dense_1")->flops, 188160);
    /* parameters are laid out in order without gaps */
    ck_assert_uint_eq(c->param_off, 0);
    ck_assert_uint_eq(by_name(&g, "dense_1")->param_off, 160);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

START_TEST(test_summary_table)
{
    struct nn_graph g;
    struct nn_spec *s = load(SRCDIR "/models/cnn.yaml", &g);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    nn_graph_summary(&g, s, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "Total params: 95,100"));
    ck_assert_ptr_nonnull(strstr(buf, "Trainable params: 95,100\nNon-trainable params: 0\n"));
    ck_assert_ptr_nonnull(strstr(buf, "conv2d_1 (conv2d)"));
    ck_assert_ptr_nonnull(strstr(buf, "(28, 28, 16)"));
    ck_assert_ptr_nonnull(strstr(buf, "94,110"));
    free(buf);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

/* Batch normalization: gamma and beta are trainable, the moving mean and
 * variance are state after every trainable parameter; the table shows all
 * four per channel, as Keras does, and the totals both kinds. */
START_TEST(test_batchnorm_counts)
{
    struct nn_graph g;
    struct nn_spec *s = t_model(
        "model:\n  input: [28, 28, 1]\n  layers:\n"
        "    - conv2d: {filters: 8, kernel_size: 3, padding: same}\n"
        "    - batch_normalization\n    - relu\n    - maxpool2d: {pool_size: 2}\n"
        "    - flatten\n    - dense: {units: 10}\n"
        "    - batch_normalization: {scale: false}\n    - softmax\n"
        "train: {loss: mse}\n", &g);
    const struct nn_node *b1 = by_name(&g, "batch_normalization_1");
    const struct nn_node *b2 = by_name(&g, "batch_normalization_2");
    ck_assert_uint_eq(b1->n_params, 16);
    ck_assert_uint_eq(b1->n_state, 16);
    ck_assert_uint_eq(b2->n_params, 10);
    ck_assert_uint_eq(b2->n_state, 20);
    /* trainable: conv 80, gamma and beta 16, dense 15690, beta 10 */
    ck_assert_uint_eq(g.n_trainable, 80 + 16 + 15690 + 10);
    ck_assert_uint_eq(g.n_params, 15796 + 36);
    ck_assert_uint_eq(b1->param_off, 80);
    ck_assert_uint_eq(b2->param_off, 80 + 16 + 15690);
    ck_assert_uint_eq(b1->state_off, 15796);
    ck_assert_uint_eq(b2->state_off, 15796 + 16);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    nn_graph_summary(&g, s, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "Total params: 15,832"));
    ck_assert_ptr_nonnull(strstr(buf, "Trainable params: 15,796\n"));
    ck_assert_ptr_nonnull(strstr(buf, "Non-trainable params: 36\n"));
    char row[128];   /* gamma, beta, moving mean and variance of 8 channels */
    snprintf(row, sizeof row, "batch_normalization_1 (batch_normalization) %-18s %12s",
             "(28, 28, 8)", "32");
    ck_assert_msg(strstr(buf, row), "%s", buf);
    free(buf);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

START_TEST(test_strides_and_padding)
{
    struct nn_graph g;
    struct nn_spec *s = t_model(
        "model:\n  input: [9, 7, 3]\n  layers:\n"
        "    - conv2d: {filters: 4, kernel_size: [3, 2], strides: 2, padding: same}\n"
        "    - avgpool2d: {pool_size: 2, strides: 1}\n"
        "    - maxpool2d: {pool_size: 3, padding: same}\n"
        "    - flatten\n    - dense: {units: 10}\n"
        "train: {loss: mse}\n", &g);
    const struct nn_node *c = &g.nodes[1];
    ck_assert_int_eq(c->h, 5);   /* ceil(9/2) */
    ck_assert_int_eq(c->w, 4);   /* ceil(7/2) */
    ck_assert_uint_eq(c->n_params, 3 * 2 * 3 * 4 + 4);
    ck_assert_int_eq(g.nodes[2].h, 4);  /* valid: (5-2)/1+1 */
    ck_assert_int_eq(g.nodes[2].w, 3);
    ck_assert_int_eq(g.nodes[3].h, 2);  /* same: ceil(4/3) */
    ck_assert_int_eq(g.nodes[3].w, 1);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

START_TEST(test_named_inputs_dag)
{
    /* a layer may name its input, even one defined later in the file */
    struct nn_graph g;
    struct nn_spec *s = t_model(
        "model:\n  input: [6]\n  layers:\n"
        "    - dropout: {rate: 0.5, name: dr, inputs: a}\n"
        "    - dense: {units: 5, name: a, inputs: input, activation: relu}\n"
        "    - dense: {units: 10, inputs: dr}\n"
        "train: {loss: mse}\n", &g);
    const struct nn_node *last = &g.nodes[g.output];
    ck_assert_str_eq(g.nodes[last->inputs[0]].name, "dr");
    /* 'a' means the layer's output after its activation */
    const struct nn_node *dr = &g.nodes[last->inputs[0]];
    ck_assert_str_eq(g.nodes[dr->inputs[0]].name, "a/relu");
    nn_graph_free(&g);
    nn_spec_free(s);
    /* a branch that does not reach the output is an error */
    const char *e = t_errors("model:\n  input: [6]\n  layers:\n"
                             "    - dense: {units: 5, name: a}\n"
                             "    - dropout: {rate: 0.5, name: dr}\n"
                             "    - dense: {units: 10, inputs: a}\n"
                             "train: {loss: mse}\n");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e, "t.yaml:5:7: error: layer 'dr' is not used: no path leads from it to "
                        "the output layer 'dense_1'\n");
}
END_TEST

START_TEST(test_in_place)
{
    /* activations share their input's tensors unless that would be unsafe */
    struct nn_graph g;
    struct nn_spec *s = t_model(
        "model:\n  input: [6]\n  layers:\n"
        "    - dense: {units: 5, activation: tanh}\n"
        "    - relu\n"
        "    - dense: {units: 10, activation: softmax}\n"
        "train: {loss: mse}\n", &g);
    ck_assert(by_name(&g, "dense_1/tanh")->flags & NN_NODE_ALIAS);
    /* relu would overwrite the tanh output that tanh's backward reads */
    ck_assert(!(by_name(&g, "relu_1")->flags & NN_NODE_ALIAS));
    ck_assert(by_name(&g, "dense_2/softmax")->flags & NN_NODE_ALIAS);
    /* in-place activations after a dense layer run as its epilogue */
    ck_assert(by_name(&g, "dense_1/tanh")->flags & NN_NODE_FUSED);
    ck_assert_int_eq(by_name(&g, "dense_1")->epi_act, NN_ACT_TANH);
    ck_assert(!(by_name(&g, "relu_1")->flags & NN_NODE_FUSED));
    ck_assert_int_eq(by_name(&g, "dense_2")->epi_act, NN_ACT_SOFTMAX);
    char err[128];
    ck_assert_int_eq(nn_graph_alloc(&g, 4, 1, err, sizeof err), 0);
    const struct nn_tensors *t = g.slots[0].t;
    const int tanh_i = (int)(by_name(&g, "dense_1/tanh") - g.nodes);
    ck_assert_ptr_eq(t[tanh_i].out, t[tanh_i - 1].out);
    ck_assert_ptr_eq(t[tanh_i].dout, t[tanh_i - 1].dout);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

START_TEST(test_join_shapes)
{
    /* add keeps the shape, concatenate sums the channels, global average
     * pooling keeps only the channels */
    struct nn_graph g;
    struct nn_spec *s = t_model(
        "model:\n  input: [6, 5, 3]\n  layers:\n"
        "    - conv2d: {filters: 3, kernel_size: 3, padding: same, name: a}\n"
        "    - conv2d: {filters: 3, kernel_size: 1, name: b}\n"
        "    - add: {inputs: [b, a, input], name: s}\n"
        "    - conv2d: {filters: 2, kernel_size: 1, inputs: input, name: n}\n"
        "    - concatenate: {inputs: [s, n], name: c}\n"
        "    - global_avgpool2d: {name: gap}\n"
        "    - dense: {units: 10}\n"
        "train: {loss: mse}\n", &g);
    const struct nn_node *sn = by_name(&g, "s"), *c = by_name(&g, "c"), *gap = by_name(&g, "gap");
    ck_assert_int_eq(sn->n_inputs, 3);
    ck_assert_str_eq(g.nodes[sn->inputs[2]].name, "input");
    ck_assert_int_eq(sn->h, 6);
    ck_assert_int_eq(sn->w, 5);
    ck_assert_int_eq(sn->c, 3);
    ck_assert_uint_eq(sn->flops, 2 * 6 * 5 * 3);
    ck_assert_int_eq(c->h, 6);
    ck_assert_int_eq(c->w, 5);
    ck_assert_int_eq(c->c, 5);
    ck_assert_int_eq(gap->h, 1);
    ck_assert_int_eq(gap->w, 1);
    ck_assert_int_eq(gap->c, 5);
    ck_assert_uint_eq(by_name(&g, "dense_1")->n_params, 5 * 10 + 10);
    ck_assert_int_eq(sn->needs_dinput, 1);
    ck_assert_int_eq(c->needs_dinput, 1);
    /* 'a' feeds b and s: s, first in backward, writes its gradient, b adds */
    ck_assert_int_eq(sn->din_acc[1], 0);
    ck_assert_int_eq(by_name(&g, "b")->din_acc[0], 1);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

START_TEST(test_join_errors)
{
    const char *e = t_errors("model:\n  input: [6, 6, 1]\n  layers:\n"
                             "    - conv2d: {filters: 4, kernel_size: 3, name: a}\n"
                             "    - conv2d: {filters: 4, kernel_size: 3, padding: same, "
                             "inputs: input, name: b}\n"
                             "    - add: {inputs: [a, b]}\n"
                             "    - global_average_pooling2d\n    - dense: {units: 10}\n"
                             "train: {loss: mse}\n");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e, "t.yaml:6:7: error: layer 'add_1' (add): input 'b' gives [6, 6, 4], "
                        "but input 'a' gives [4, 4, 4]; add needs inputs of the same shape\n");
    e = t_errors("model:\n  input: [6, 6, 1]\n  layers:\n"
                 "    - conv2d: {filters: 4, kernel_size: 3, name: a}\n"
                 "    - maxpool2d: {inputs: input, name: b}\n"
                 "    - concatenate: {inputs: [a, b]}\n"
                 "    - global_average_pooling2d\n    - dense: {units: 10}\n"
                 "train: {loss: mse}\n");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e, "t.yaml:6:7: error: layer 'concatenate_1' (concatenate): input 'b' "
                        "gives [3, 3, 1], but input 'a' gives [4, 4, 4]; concatenate joins the "
                        "channels of inputs of the same height and width\n");
    /* a join needs at least two inputs, named */
    e = t_errors("model:\n  input: [6]\n  layers:\n"
                 "    - dense: {units: 10, name: a}\n"
                 "    - add\n"
                 "    - concatenate: {inputs: a}\n"
                 "    - add: {inputs: [a, a, a, a, a, a, a, a, a]}\n"
                 "train: {loss: mse}\n");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e, "t.yaml:5:7: error: add: takes 2 to 8 inputs; name them with 'inputs', "
                        "e.g. inputs: [a, b]\n"
                        "t.yaml:6:29: error: concatenate: takes 2 to 8 inputs, 'inputs' names 1\n"
                        "t.yaml:7:21: error: add: takes 2 to 8 inputs, 'inputs' names 9\n");
}
END_TEST

START_TEST(test_join_gradient_writes)
{
    /* the first consumer in backward that writes a tensor's gradient
     * overwrites it, even when a later-running consumer writes none: here
     * 'f' (a copy of the input) is read by b, which needs no input gradient,
     * and by s, which writes one for every input */
    struct nn_graph g;
    struct nn_spec *s = t_model(
        "model:\n  input: [5]\n  layers:\n"
        "    - dense: {units: 5, name: a}\n"
        "    - flatten: {inputs: input, name: f}\n"
        "    - add: {inputs: [f, a], name: s}\n"
        "    - dense: {units: 5, inputs: f, name: b}\n"
        "    - add: {inputs: [s, b]}\n"
        "    - dense: {units: 10}\n"
        "train: {loss: mse}\n", &g);
    const struct nn_node *sn = by_name(&g, "s"), *b = by_name(&g, "b");
    ck_assert_int_lt(sn - g.nodes, b - g.nodes);   /* s runs first forward, b first backward */
    ck_assert_int_eq(b->needs_dinput, 0);
    ck_assert_int_eq(sn->needs_dinput, 1);
    ck_assert_int_eq(sn->din_acc[0], 0);
    ck_assert_int_eq(sn->din_acc[1], 0);
    nn_graph_free(&g);
    nn_spec_free(s);
    /* x + x: the second slot adds to what the first wrote */
    s = t_model("model:\n  input: [5]\n  layers:\n"
                "    - dense: {units: 5, name: a}\n"
                "    - add: {inputs: [a, a]}\n"
                "    - dense: {units: 10}\n"
                "train: {loss: mse}\n", &g);
    ck_assert_int_eq(by_name(&g, "add_1")->din_acc[0], 0);
    ck_assert_int_eq(by_name(&g, "add_1")->din_acc[1], 1);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

START_TEST(test_residual_in_place)
{
    /* the block input (stem/relu) is read by two layers yet still computed in
     * place on stem's tensor (stem has one reader: the relu); the relu after
     * the add works in place on the add's tensor */
    struct nn_graph g;
    struct nn_spec *s = load(SRCDIR "/models/residual-small.yaml", &g);
    const struct nn_node *add = by_name(&g, "block_add");
    ck_assert_str_eq(g.nodes[add->inputs[0]].name, "block_conv2");
    ck_assert_str_eq(g.nodes[add->inputs[1]].name, "stem/relu");
    ck_assert(by_name(&g, "stem/relu")->flags & NN_NODE_ALIAS);
    ck_assert(by_name(&g, "stem/relu")->flags & NN_NODE_FUSED);
    ck_assert(by_name(&g, "block_out")->flags & NN_NODE_ALIAS);
    ck_assert_int_eq(add->din_acc[1], 0);
    ck_assert_int_eq(by_name(&g, "block_conv1")->din_acc[0], 1);
    ck_assert_uint_eq(g.n_params, 320 + 9248 + 9248 + 330);
    ck_assert_int_eq(by_name(&g, "gap")->c, 32);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    nn_graph_summary(&g, s, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, " block_conv2, stem/relu\n"));
    free(buf);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

START_TEST(test_plan_overflow)
{
    struct nn_graph g;
    struct nn_spec *s = t_model("model:\n  input: [28, 28, 1]\n  layers:\n    - flatten\n"
                                "    - dense: {units: 10}\ntrain: {loss: mse}\n", &g);
    ck_assert_uint_eq(nn_graph_plan_bytes(&g, 1 << 30, 1 << 20) > ((size_t)1 << 40), 1);
    ck_assert_uint_lt(nn_graph_plan_bytes(&g, 100, 2), 2000000);
    nn_graph_free(&g);
    nn_spec_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("graph");
    tcase_add_test(tc, test_dense_counts);
    tcase_add_test(tc, test_cnn_counts_and_shapes);
    tcase_add_test(tc, test_summary_table);
    tcase_add_test(tc, test_batchnorm_counts);
    tcase_add_test(tc, test_strides_and_padding);
    tcase_add_test(tc, test_named_inputs_dag);
    tcase_add_test(tc, test_in_place);
    tcase_add_test(tc, test_join_shapes);
    tcase_add_test(tc, test_join_errors);
    tcase_add_test(tc, test_join_gradient_writes);
    tcase_add_test(tc, test_residual_in_place);
    tcase_add_test(tc, test_plan_overflow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
