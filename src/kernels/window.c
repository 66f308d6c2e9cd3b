/* window.c - geometry of 2-D windows, im2col and col2im over NHWC data. */
#include <math.h>
#include <string.h>

#include "nnrun/kernels.h"

void nn_window_plan(struct nn_window *wd, int same)
{
    if (same) {
        /* Keras/TensorFlow 'same': out = ceil(in / stride), the extra
         * padding goes after (bottom/right) when it is odd */
        wd->oh = (wd->h + wd->sh - 1) / wd->sh;
        wd->ow = (wd->w + wd->sw - 1) / wd->sw;
        int ph = (wd->oh - 1) * wd->sh + wd->kh - wd->h;
        int pw = (wd->ow - 1) * wd->sw + wd->kw - wd->w;
        wd->pt = ph > 0 ? ph / 2 : 0;
        wd->pl = pw > 0 ? pw / 2 : 0;
    } else {
        wd->oh = wd->h >= wd->kh ? (wd->h - wd->kh) / wd->sh + 1 : 0;
        wd->ow = wd->w >= wd->kw ? (wd->w - wd->kw) / wd->sw + 1 : 0;
        wd->pt = wd->pl = 0;
    }
}

NN_HOT void nn_im2col(const struct nn_window *wd, const float *x, float *col, int ones)
{
    const int C = wd->c, rowlen = wd->kw * C;
    const size_t ld = (size_t)wd->kh * rowlen + (ones ? 1 : 0);
    for (int oy = 0; oy < wd->oh; oy++)
        for (int ox = 0; ox < wd->ow; ox++) {
            float *dst = col + ((size_t)oy * wd->ow + ox) * ld;
            if (ones) dst[ld - 1] = 1.0f;
            int x0 = ox * wd->sw - wd->pl;
            for (int ky = 0; ky < wd->kh; ky++, dst += rowlen) {
                int iy = oy * wd->sh - wd->pt + ky;
                if (iy < 0 || iy >= wd->h) {
                    memset(dst, 0, (size_t)rowlen * sizeof *dst);
                    continue;
                }
                const float *src = x + (size_t)iy * wd->w * C;
                if (x0 >= 0 && x0 + wd->kw <= wd->w) {
                    const float *s = src + (size_t)x0 * C;
                    for (int t = 0; t < rowlen; t++) dst[t] = s[t];
                    continue;
                }
                for (int kx = 0; kx < wd->kw; kx++) {
                    int ix = x0 + kx;
                    if (ix < 0 || ix >= wd->w) memset(dst + kx * C, 0, (size_t)C * sizeof *dst);
                    else memcpy(dst + kx * C, src + (size_t)ix * C, (size_t)C * sizeof *dst);
                }
            }
        }
}

NN_HOT void nn_col2im(const struct nn_window *wd, const float *dcol, float *dx)
{
    const int C = wd->c, rowlen = wd->kw * C;
    for (int oy = 0; oy < wd->oh; oy++)
        for (int ox = 0; ox < wd->ow; ox++) {
            const float *src = dcol + ((size_t)oy * wd->ow + ox) * (size_t)wd->kh * rowlen;
            for (int ky = 0; ky < wd->kh; ky++, src += rowlen) {
                int iy = oy * wd->sh - wd->pt + ky;
                if (iy < 0 || iy >= wd->h) continue;
                for (int kx = 0; kx < wd->kw; kx++) {
                    int ix = ox * wd->sw - wd->pl + kx;
                    if (ix < 0 || ix >= wd->w) continue;
                    float *d = dx + ((size_t)iy * wd->w + ix) * C;
                    for (int c = 0; c < C; c++) d[c] += src[kx * C + c];
                }
            }
        }
}

NN_HOT void nn_im2row(const struct nn_window *wd, const float *x, float *rowT, size_t ld,
                      int ones)
{
    const int C = wd->c, M = wd->oh * wd->ow;
    size_t k = 0;
    for (int ky = 0; ky < wd->kh; ky++)
        for (int kx = 0; kx < wd->kw; kx++)
            for (int c = 0; c < C; c++, k++) {
                float *dst = rowT + k * ld;
                /* output columns whose input column ix = ox*sw - pl + kx is inside */
                int lo = 0, hi = wd->ow;
                while (lo < hi && lo * wd->sw - wd->pl + kx < 0) lo++;
                while (hi > lo && (hi - 1) * wd->sw - wd->pl + kx >= wd->w) hi--;
                for (int oy = 0; oy < wd->oh; oy++) {
                    float *d = dst + (size_t)oy * wd->ow;
                    const int iy = oy * wd->sh - wd->pt + ky;
                    if (iy < 0 || iy >= wd->h) {
                        for (int ox = 0; ox < wd->ow; ox++) d[ox] = 0;
                        continue;
                    }
                    const float *src = x + ((size_t)iy * wd->w + (lo * wd->sw - wd->pl + kx)) * C + c;
                    for (int ox = 0; ox < lo; ox++) d[ox] = 0;
                    if (wd->sw * C == 1)
                        memcpy(d + lo, src, (size_t)(hi - lo) * sizeof *d);
                    else
                        for (int ox = lo; ox < hi; ox++) d[ox] = src[(size_t)(ox - lo) * wd->sw * C];
                    for (int ox = hi; ox < wd->ow; ox++) d[ox] = 0;
                }
            }
    if (ones)
        for (int m = 0; m < M; m++) rowT[k * ld + m] = 1.0f;
}

void nn_tanh_ref(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}
