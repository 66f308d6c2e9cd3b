/* dense.c - fully connected layer: y[B,N] = x[B,K] . W[N,K]^T + b[N].
 * W is stored [N, K] (one row of K weights per unit, as PyTorch's Linear;
 * Keras' kernel is its transpose), then b.  The input must be flat.
 *   forward:  y = x . W^T          (dot kernel: long rows of K)
 *   backward: dW = dy^T . x;  db = sum_b dy;  dx (+)= dy . W   (panel kernel) */
#include "args.h"
#include "nnrun/kernels.h"

struct dense_args {
    int units, use_bias, kernel_init, bias_init;
};

static const struct nn_arg_desc dense_keys[] = {
    {"units", NN_ARG_INT, offsetof(struct dense_args, units), 1, 1, 1 << 24, 0, 0, NULL, 0,
     "number of outputs"},
    NN_ARG_USE_BIAS(struct dense_args),
    NN_ARG_KERNEL_INIT(struct dense_args),
    NN_ARG_BIAS_INIT(struct dense_args),
};

static int dense_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    const struct dense_args *a = n->args;
    const struct nn_node *in = &g->nodes[n->inputs[0]];
    if (in->h != 1 || in->w != 1) {
        nn_diag_error(d, n->mark, "layer '%s' (dense) needs a flat input, but '%s' gives "
                      "[%d, %d, %d]; add a flatten layer before it", n->name, in->name,
                      in->h, in->w, in->c);
        return -1;
    }
    size_t K = in->size, N = (size_t)a->units;
    n->h = n->w = 1;
    n->c = a->units;
    n->n_weights = K * N;
    n->n_params = K * N + (a->use_bias ? N : 0);
    n->fan_in = (int)K;
    n->fan_out = a->units;
    n->kernel_init = a->kernel_init;
    n->bias_init = a->bias_init;
    n->flops = 2 * K * N;
    return 0;
}

static void dense_forward(const struct nn_node *n, struct nn_exec *x)
{
    const struct nn_node *in = nn_input(x, n, 0);
    const int B = x->batch, K = (int)in->size, N = n->c;
    const float *W = x->params + n->param_off;
    float *y = nn_out(x, n);
    nn_pgemm_nt(x->pool, B, N, K, nn_out(x, in), K, W, K, y, N, 0);
    if (n->n_params > n->n_weights) {
        const float *b = W + n->n_weights;
        for (int i = 0; i < B; i++)
            for (int j = 0; j < N; j++) y[(size_t)i * N + j] += b[j];
    }
    if (n->epi_act != NN_ACT_LINEAR) nn_act_forward(n->epi_act, n->epi_alpha, y, y, (size_t)B, N);
}

static void dense_backward(const struct nn_node *n, struct nn_exec *x)
{
    const struct nn_node *in = nn_input(x, n, 0);
    const int B = x->batch, K = (int)in->size, N = n->c;
    const float *W = x->params + n->param_off, *dy = nn_dout(x, n);
    float *dW = x->grads + n->param_off;
    /* dW[N,K] = dy^T . x */
    nn_pgemm_tn(x->pool, N, K, B, dy, N, nn_out(x, in), K, dW, K, 0);
    if (n->n_params > n->n_weights) {
        float *db = dW + n->n_weights;
        for (int j = 0; j < N; j++) db[j] = 0;
        for (int i = 0; i < B; i++)
            for (int j = 0; j < N; j++) db[j] += dy[(size_t)i * N + j];
    }
    /* dx[B,K] (+)= dy . W */
    if (n->needs_dinput)
        nn_pgemm_nn(x->pool, B, K, N, dy, N, W, K, nn_dout(x, in), K, n->din_acc[0]);
}

const struct nn_layer_ops nn_layer_dense = {
    .name = "dense",
    .doc = "fully connected layer on a flat input",
    .args = dense_keys,
    .n_args = NN_ARRAY_LEN(dense_keys),
    .args_size = sizeof(struct dense_args),
    .flags = NN_LAYER_TAKES_ACTIVATION | NN_LAYER_EPILOGUE,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = dense_infer,
    .init = nn_layer_init_default,
    .forward = dense_forward,
    .backward = dense_backward,
};
