/* conv2d.c - 2-D convolution over NHWC data by im2col and matrix products.
 *
 * W is stored [kh, kw, C, F] = [P, F] (Keras' kernel layout), then b[F], so
 * the parameters form one [P+1, F] matrix Wb.  The patches are kept
 * transposed, colT[P1, rows*M] (M = OH*OW positions per sample, the chunk's
 * samples side by side), with a last row of 1s when there is a bias
 * (P1 = P + 1), which makes the bias part of the products:
 *   forward:  colT = im2row(x);  y = colT^T . Wb          (per sample)
 *   backward: [dW; db] = colT . dy                        (whole chunk)
 *             dx (+)= col2im(dy . W^T)                    (per sample)
 * The scratch keeps colT from forward to backward; once dW is computed it
 * holds each sample's dcol[M, P], contiguous.  The input gradient multiplies
 * by WT[F, P], W transposed into the workspace once per chunk, so that all
 * three products run on the panel kernel (a dot-product kernel over the
 * short F was 3 times slower), and col2im adds C contiguous values at a
 * time.
 */
#include <string.h>

#include "args.h"
#include "nnrun/kernels.h"
#include "nnrun/parallel.h"

struct conv2d_args {
    int filters;
    int kernel[2], strides[2], dilation[2];
    int padding, use_bias, kernel_init, bias_init;
};

static const struct nn_arg_desc conv2d_keys[] = {
    {"filters", NN_ARG_INT, offsetof(struct conv2d_args, filters), 1, 1, 1 << 16, 0, 0, NULL,
     0, "number of output channels"},
    {"kernel_size", NN_ARG_PAIR, offsetof(struct conv2d_args, kernel), 1, 1, 4096, 0, 0, NULL,
     0, "window size, n or [height, width]"},
    {"strides", NN_ARG_PAIR, offsetof(struct conv2d_args, strides), 0, 1, 4096, 0, 1, NULL, 0,
     "step of the window, n or [height, width]"},
    {"dilation_rate", NN_ARG_PAIR, offsetof(struct conv2d_args, dilation), NN_ARG_LATER, 1,
     4096, 0, 1, NULL, 0, "spacing of the window's taps, n or [height, width]"},
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
    wd->dh = a->dilation[0], wd->dw = a->dilation[1];
    nn_window_plan(wd, a->padding == NN_PAD_SAME);
}

static int conv2d_infer(struct nn_node *n, const struct nn_graph *g, struct nn_diag *d)
{
    const struct conv2d_args *a = n->args;
    const struct nn_node *in = &g->nodes[n->inputs[0]];
    struct nn_window wd;
    conv_window(n, in, &wd);
    if ((a->strides[0] > 1 || a->strides[1] > 1) && (a->dilation[0] > 1 || a->dilation[1] > 1)) {
        nn_diag_error(d, n->mark, "layer '%s' (conv2d): strides [%d, %d] with dilation_rate "
                      "[%d, %d]; as in Keras, one of them may be above 1, not both", n->name,
                      a->strides[0], a->strides[1], a->dilation[0], a->dilation[1]);
        return -1;
    }
    /* the extent of the (dilated) window */
    const long eh = (long)(a->kernel[0] - 1) * wd.dh + 1;
    const long ew = (long)(a->kernel[1] - 1) * wd.dw + 1;
    if (a->padding == NN_PAD_VALID && (eh > in->h || ew > in->w)) {
        if (wd.dh == 1 && wd.dw == 1)
            nn_diag_error(d, n->mark, "layer '%s' (conv2d): kernel %dx%d is larger than its "
                          "input [%d, %d, %d] with padding valid", n->name, a->kernel[0],
                          a->kernel[1], in->h, in->w, in->c);
        else
            nn_diag_error(d, n->mark, "layer '%s' (conv2d): kernel %dx%d dilated by [%d, %d] "
                          "spans %ldx%ld, larger than its input [%d, %d, %d] with padding valid",
                          n->name, a->kernel[0], a->kernel[1], wd.dh, wd.dw, eh, ew, in->h,
                          in->w, in->c);
        return -1;
    }
    size_t P = (size_t)wd.kh * wd.kw * wd.c, F = (size_t)a->filters;
    size_t P1 = P + (a->use_bias ? 1 : 0);
    n->h = wd.oh, n->w = wd.ow, n->c = a->filters;
    n->n_weights = P * F;
    n->n_params = P1 * F;
    n->fan_in = (int)P;
    n->fan_out = (int)((size_t)wd.kh * wd.kw * F);
    n->kernel_init = a->kernel_init;
    n->bias_init = a->bias_init;
    n->scratch_per_sample = (size_t)wd.oh * wd.ow * P1;
    n->work_per_slot = P * F;
    n->flops = 2 * (size_t)wd.oh * wd.ow * P * F;
    return 0;
}

struct conv_job {
    const struct nn_node *n;
    struct nn_exec *x;
    struct nn_window wd;
    int M, P, P1, F;            /* positions per sample, patch, patch + bias, filters */
    size_t ld;                  /* row length of colT: rows * M */
    const float *W, *WT;
    const float *in, *dy;
    float *out, *col, *dx;
};

static void conv_plan(struct conv_job *j, const struct nn_node *n, struct nn_exec *x)
{
    const struct nn_node *in = nn_input(x, n, 0);
    memset(j, 0, sizeof *j);
    j->n = n;
    j->x = x;
    conv_window(n, in, &j->wd);
    j->M = j->wd.oh * j->wd.ow;
    j->P = j->wd.kh * j->wd.kw * j->wd.c;
    j->P1 = (int)(n->n_params / (size_t)n->c);
    j->F = n->c;
    j->W = x->params + n->param_off;
    j->in = nn_out(x, in);
    j->dx = nn_dout(x, in);
    j->out = nn_out(x, n);
    j->dy = nn_dout(x, n);
    j->col = nn_scratch(x, n);
    j->WT = nn_work(x, n);
    j->ld = (size_t)x->batch * (size_t)j->M;
}

static void conv_fwd_samples(void *ctx, size_t s0, size_t s1)
{
    const struct conv_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    for (size_t s = s0; s < s1; s++) {
        float *colT = j->col + s * (size_t)j->M;
        nn_im2row(&j->wd, j->in + s * in->size, colT, j->ld, j->P1 > j->P);
        float *y = j->out + s * n->size;
        nn_gemm_tn(j->M, j->F, j->P1, colT, (int)j->ld, j->W, j->F, y, j->F, 0);
        if (n->epi_act != NN_ACT_LINEAR)
            nn_act_forward(n->epi_act, n->epi_alpha, y, y, (size_t)j->M, j->F);
    }
}

static void conv2d_forward(const struct nn_node *n, struct nn_exec *x)
{
    struct conv_job j;
    conv_plan(&j, n, x);
    nn_pool_for(x->pool, (size_t)x->batch, 1, conv_fwd_samples, &j);
}

static void conv_dx_samples(void *ctx, size_t s0, size_t s1)
{
    const struct conv_job *j = ctx;
    const struct nn_node *n = j->n, *in = nn_input(j->x, n, 0);
    for (size_t s = s0; s < s1; s++) {
        /* (colT is dead: dW has been computed from it) */
        float *dcol = j->col + s * (size_t)j->M * (size_t)j->P1;
        float *dx = j->dx + s * in->size;
        /* dcol[M, P] = dy[M, F] . WT[F, P] */
        nn_gemm_nn(j->M, j->P, j->F, j->dy + s * n->size, j->F, j->WT, j->P, dcol, j->P, 0);
        if (!n->din_acc[0]) memset(dx, 0, in->size * sizeof *dx);
        nn_col2im(&j->wd, dcol, dx);
    }
}

static void conv2d_backward(const struct nn_node *n, struct nn_exec *x)
{
    struct conv_job j;
    conv_plan(&j, n, x);
    /* [dW; db][P1, F] = colT . dy over every output position of the chunk */
    nn_pgemm_nn(x->pool, j.P1, j.F, (int)j.ld, j.col, (int)j.ld, j.dy, j.F,
                x->grads + n->param_off, j.F, 0);
    if (!n->needs_dinput) return;
    nn_transpose(j.P, j.F, j.W, j.F, nn_work(x, n), j.P);
    nn_pool_for(x->pool, (size_t)x->batch, 1, conv_dx_samples, &j);
}

const struct nn_layer_ops nn_layer_conv2d = {
    .name = "conv2d",
    .aliases = (const char *const[]){"conv2D", "convolution2d", NULL},
    .doc = "2-D convolution (NHWC), Keras' Conv2D",
    .args = conv2d_keys,
    .n_args = NN_ARRAY_LEN(conv2d_keys),
    .args_size = sizeof(struct conv2d_args),
    .flags = NN_LAYER_TAKES_ACTIVATION | NN_LAYER_EPILOGUE,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = conv2d_infer,
    .init = nn_layer_init_default,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
};
