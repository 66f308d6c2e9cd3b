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
    ck_assert_ptr_nonnull(strstr(buf, "conv2d_1 (conv2d)"));
    ck_assert_ptr_nonnull(strstr(buf, "(28, 28, 16)"));
    ck_assert_ptr_nonnull(strstr(buf, "94,110"));
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
    tcase_add_test(tc, test_strides_and_padding);
    tcase_add_test(tc, test_named_inputs_dag);
    tcase_add_test(tc, test_in_place);
    tcase_add_test(tc, test_plan_overflow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
