/* conv2d.c - 2-D convolution over NHWC data by im2col and matrix products.
 *
 * W is stored [kh, kw, C, F] = [P, F] (Keras' kernel layout), then b[F].
 *   forward:  col[B*OH*OW, P] = im2col(x);  y = col . W + b
 *   backward: dW += col^T . dy;  db += sum(dy);  dx += col2im(dy . W^T)
 * The scratch tensor keeps col from forward to backward and then holds dcol.
 */
#include <string.h>

#include "args.h"
#include "nnrun/kernels.h"
#include "nnrun/parallel.h"

struct conv2d_args {
    int filters;
    int kernel[2], strides[2];
    int padding, use_bias, kernel_init, bias_init;
};

static const struct nn_arg_desc conv2d_keys[] = {
    {"filters", NN_ARG_INT, offsetof(struct conv2d_args, filters), 1, 1, 1 << 16, 0, 0, NULL,
     0, "number of output channels"},
    {"kernel_size", NN_ARG_PAIR, offsetof(struct conv2d_args, kernel), 1, 1, 4096, 0, 0, NULL,
     0, "window size, n or [height, width]"},
    {"strides", NN_ARG_PAIR, offsetof(struct conv2d_args, strides), 0, 1, 4096, 0, 1, NULL, 0,
     "step of the window, n or [height, width]"},
    NN_ARG_PADDING(struct conv2d_args),
    NN_ARG_USE_BIAS(struct conv2d_args),
    NN_ARG_KERNEL_INIT(struct conv2d_args),
    NN_ARG_BIAS_INIT(struct conv2d_args),
};

static void conv_window(const struct nn_node *n, const struct nn_node *in, struct nn_window *wd)
{
    const struct conv2d_args *a = n->args;
    memset(wd, 0, sizeof *wd);
    wd->h = in->h, wd->w = in->w, wd->c = in->c;
    wd->kh = a->kernel[0], wd->kw = a->kernel[1];
    wd->sh = a->strides[0], wd->sw = a->strides[1];
    nn_window_plan(wd, a->padding == NN_PAD_SAME);
}

static int conv2d_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    const struct conv2d_args *a = n->args;
    const struct nn_node *in = &g->nodes[n->inputs[0]];
    struct nn_window wd;
    conv_window(n, in, &wd);
    if (a->padding == NN_PAD_VALID && (a->kernel[0] > in->h || a->kernel[1] > in->w)) {
        nn_diag_error(d, n->mark, "layer '%s' (conv2d): kernel %dx%d is larger than its input "
                      "[%d, %d, %d] with padding valid", n->name, a->kernel[0], a->kernel[1],
                      in->h, in->w, in->c);
        return -1;
    }
    size_t P = (size_t)wd.kh * wd.kw * wd.c, F = (size_t)a->filters;
    n->h = wd.oh, n->w = wd.ow, n->c = a->filters;
    n->n_weights = P * F;
    n->n_params = P * F + (a->use_bias ? F : 0);
    n->fan_in = (int)P;
    n->fan_out = (int)((size_t)wd.kh * wd.kw * F);
    n->kernel_init = a->kernel_init;
    n->bias_init = a->bias_init;
    n->scratch_per_sample = (size_t)wd.oh * wd.ow * P;
    n->flops = 2 * (size_t)wd.oh * wd.ow * P * F;
    return 0;
}

struct conv_job {
    const struct nn_node *n;
    struct nn_exec *x;
    struct nn_window wd;
    const float *W;
};

static void conv_fwd_samples(void *ctx, size_t s0, size_t s1)
{
    const struct conv_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const int M = j->wd.oh * j->wd.ow, P = j->wd.kh * j->wd.kw * j->wd.c, F = n->c;
    for (size_t s = s0; s < s1; s++) {
        float *col = n->scratch + s * (size_t)M * P;
        float *y = n->out + s * n->size;
        nn_im2col(&j->wd, in->out + s * in->size, col);
        if (n->n_params > n->n_weights) {
            const float *b = j->W + n->n_weights;
            for (int m = 0; m < M; m++)
                for (int f = 0; f < F; f++) y[(size_t)m * F + f] = b[f];
            nn_gemm_nn(M, F, P, col, P, j->W, F, y, F, 1);
        } else {
            nn_gemm_nn(M, F, P, col, P, j->W, F, y, F, 0);
        }
    }
}

static void conv2d_forward(const struct nn_node *n, struct nn_exec *x)
{
    struct conv_job j = {n, x, {0}, x->params + n->param_off};
    conv_window(n, nn_input(x, n, 0), &j.wd);
    nn_pool_for(x->pool, (size_t)x->batch, 1, conv_fwd_samples, &j);
}

static void conv_bwd_samples(void *ctx, size_t s0, size_t s1)
{
    const struct conv_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    const int M = j->wd.oh * j->wd.ow, P = j->wd.kh * j->wd.kw * j->wd.c, F = n->c;
    for (size_t s = s0; s < s1; s++) {
        float *dcol = n->scratch + s * (size_t)M * P;
        float *dx = in->dout + s * in->size;
        nn_gemm_nt(M, P, F, n->dout + s * n->size, F, j->W, F, dcol, P, 0);
        if (!n->din_acc[0]) memset(dx, 0, in->size * sizeof *dx);
        nn_col2im(&j->wd, dcol, dx);
    }
}

static void conv2d_backward(const struct nn_node *n, struct nn_exec *x)
{
    struct conv_job j = {n, x, {0}, x->params + n->param_off};
    conv_window(n, nn_input(x, n, 0), &j.wd);
    const int M = j.wd.oh * j.wd.ow, P = j.wd.kh * j.wd.kw * j.wd.c, F = n->c;
    const size_t rows = (size_t)x->batch * M;
    float *dW = x->grads + n->param_off;
    /* dW[P,F] += col^T . dy over every output position of the batch */
    nn_pgemm_tn(x->pool, P, F, (int)rows, n->scratch, P, n->dout, F, dW, F, 1);
    if (n->n_params > n->n_weights) {
        float *db = dW + n->n_weights;
        for (size_t r = 0; r < rows; r++)
            for (int f = 0; f < F; f++) db[f] += n->dout[r * F + f];
    }
    if (n->needs_dinput) nn_pool_for(x->pool, (size_t)x->batch, 1, conv_bwd_samples, &j);
}

const struct nn_layer_ops nn_layer_conv2d = {
    .name = "conv2d",
    .aliases = (const char *const[]){"conv2D", "convolution2d", NULL},
    .doc = "2-D convolution (NHWC), Keras' Conv2D",
    .args = conv2d_keys,
    .n_args = NN_ARRAY_LEN(conv2d_keys),
    .args_size = sizeof(struct conv2d_args),
    .flags = NN_LAYER_TAKES_ACTIVATION,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = conv2d_infer,
    .init = nn_layer_init_default,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
};
