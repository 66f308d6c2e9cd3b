/* loss.c - cross-entropies and mean squared error, with accuracy and mse. */
#include <math.h>
#include <string.h>

#include "nnrun/loss.h"

#define CLIP_EPS 1e-7f

int nn_loss_fuses_softmax(enum nn_loss_kind kind)
{
    return kind == NN_LOSS_SPARSE_CCE || kind == NN_LOSS_CCE;
}

static float clip(float q) { return q < CLIP_EPS ? CLIP_EPS : q > 1 - CLIP_EPS ? 1 - CLIP_EPS : q; }

void nn_loss_measure_smoothed(enum nn_loss_kind kind, const float *p, const uint8_t *labels,
                              int B, int C, float ls, struct nn_metric_sums *sums)
{
    const float off = ls / (float)C, on = 1.0f - ls + off;   /* Keras: y*(1-ls) + ls/C */
    for (int b = 0; b < B; b++) {
        const float *pb = p + (size_t)b * C;
        const int y = labels[b];
        int arg = 0;
        double sq = 0;
        for (int c = 0; c < C; c++) {
            if (pb[c] > pb[arg]) arg = c;
            double e = (double)pb[c] - (c == y);
            sq += e * e;
        }
        sums->correct += arg == y;
        sums->sq_err += sq / C;
        if (kind == NN_LOSS_MSE) {
            sums->loss += sq / C;
        } else if (ls == 0) {
            sums->loss += -log((double)clip(pb[y]));
        } else {
            double l = 0;
            for (int c = 0; c < C; c++) l -= (double)(c == y ? on : off) * log((double)clip(pb[c]));
            sums->loss += l;
        }
    }
    sums->n += B;
}

void nn_loss_grad_smoothed(enum nn_loss_kind kind, const float *p, const uint8_t *labels,
                           int B, int C, int batch, int fused_softmax, float ls, float *dp)
{
    const float inv_b = 1.0f / (float)batch;
    const float off = ls / (float)C, on = 1.0f - ls + off;
    for (int b = 0; b < B; b++) {
        const float *pb = p + (size_t)b * C;
        float *db = dp + (size_t)b * C;
        const int y = labels[b];
        if (kind == NN_LOSS_MSE) {
            for (int c = 0; c < C; c++) db[c] = 2.0f * (pb[c] - (float)(c == y)) * inv_b / (float)C;
        } else if (fused_softmax && ls == 0) {
            for (int c = 0; c < C; c++) db[c] = (pb[c] - (float)(c == y)) * inv_b;
        } else if (fused_softmax) {
            for (int c = 0; c < C; c++) db[c] = (pb[c] - (c == y ? on : off)) * inv_b;
        } else {
            /* d(-sum y_c log clip(p_c))/dp: zero where the clip is active */
            memset(db, 0, (size_t)C * sizeof *db);
            for (int c = 0; c < C; c++) {
                const float t = ls == 0 ? (float)(c == y) : c == y ? on : off, q = pb[c];
                if (t != 0 && q > CLIP_EPS && q < 1 - CLIP_EPS) db[c] = -t * inv_b / q;
            }
        }
    }
}

void nn_loss_measure(enum nn_loss_kind kind, const float *p, const uint8_t *labels, int B,
                     int C, struct nn_metric_sums *sums)
{
    nn_loss_measure_smoothed(kind, p, labels, B, C, 0, sums);
}

void nn_loss_grad(enum nn_loss_kind kind, const float *p, const uint8_t *labels, int B, int C,
                  int batch, int fused_softmax, float *dp)
{
    nn_loss_grad_smoothed(kind, p, labels, B, C, batch, fused_softmax, 0, dp);
}
