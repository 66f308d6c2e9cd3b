/* loss.c - cross-entropies and mean squared error, with accuracy and mse. */
#include <math.h>
#include <string.h>

#include "nnrun/loss.h"

#define CLIP_EPS 1e-7f

int nn_loss_fuses_softmax(enum nn_loss_kind kind)
{
    return kind == NN_LOSS_SPARSE_CCE || kind == NN_LOSS_CCE;
}

void nn_loss_measure(enum nn_loss_kind kind, const float *p, const uint8_t *labels, int B,
                     int C, struct nn_metric_sums *sums)
{
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
        } else {
            float q = pb[y];
            q = q < CLIP_EPS ? CLIP_EPS : q > 1 - CLIP_EPS ? 1 - CLIP_EPS : q;
            sums->loss += -log((double)q);
        }
    }
    sums->n += B;
}

void nn_loss_grad(enum nn_loss_kind kind, const float *p, const uint8_t *labels, int B, int C,
                  int batch, int fused_softmax, float *dp)
{
    const float inv_b = 1.0f / (float)batch;
    for (int b = 0; b < B; b++) {
        const float *pb = p + (size_t)b * C;
        float *db = dp + (size_t)b * C;
        const int y = labels[b];
        if (kind == NN_LOSS_MSE) {
            for (int c = 0; c < C; c++) db[c] = 2.0f * (pb[c] - (float)(c == y)) * inv_b / (float)C;
        } else if (fused_softmax) {
            for (int c = 0; c < C; c++) db[c] = (pb[c] - (float)(c == y)) * inv_b;
        } else {
            /* d(-log clip(p_y))/dp: zero where the clip is active */
            memset(db, 0, (size_t)C * sizeof *db);
            float q = pb[y];
            if (q > CLIP_EPS && q < 1 - CLIP_EPS) db[y] = -inv_b / q;
        }
    }
}
