/* window.c - geometry of 2-D windows, im2col and col2im over NHWC data. */
#include <math.h>
#include <string.h>

#include "nnrun/kernels.h"
#include "simd.h"

void nn_window_plan(struct nn_window *wd, int same)
{
    if (wd->dh < 1) wd->dh = 1;
    if (wd->dw < 1) wd->dw = 1;
    /* the extent a dilated window covers */
    const int eh = (wd->kh - 1) * wd->dh + 1, ew = (wd->kw - 1) * wd->dw + 1;
    if (same) {
        /* Keras/TensorFlow 'same': out = ceil(in / stride), the extra
         * padding goes after (bottom/right) when it is odd */
        wd->oh = (wd->h + wd->sh - 1) / wd->sh;
        wd->ow = (wd->w + wd->sw - 1) / wd->sw;
        int ph = (wd->oh - 1) * wd->sh + eh - wd->h;
        int pw = (wd->ow - 1) * wd->sw + ew - wd->w;
        wd->pt = ph > 0 ? ph / 2 : 0;
        wd->pl = pw > 0 ? pw / 2 : 0;
    } else {
        wd->oh = wd->h >= eh ? (wd->h - eh) / wd->sh + 1 : 0;
        wd->ow = wd->w >= ew ? (wd->w - ew) / wd->sw + 1 : 0;
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
                int iy = oy * wd->sh - wd->pt + ky * wd->dh;
                if (iy < 0 || iy >= wd->h) {
                    memset(dst, 0, (size_t)rowlen * sizeof *dst);
                    continue;
                }
                const float *src = x + (size_t)iy * wd->w * C;
                if (wd->dw == 1 && x0 >= 0 && x0 + wd->kw <= wd->w) {
                    const float *s = src + (size_t)x0 * C;
                    for (int t = 0; t < rowlen; t++) dst[t] = s[t];
                    continue;
                }
                for (int kx = 0; kx < wd->kw; kx++) {
                    int ix = x0 + kx * wd->dw;
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
                int iy = oy * wd->sh - wd->pt + ky * wd->dh;
                if (iy < 0 || iy >= wd->h) continue;
                for (int kx = 0; kx < wd->kw; kx++) {
                    int ix = ox * wd->sw - wd->pl + kx * wd->dw;
                    if (ix < 0 || ix >= wd->w) continue;
                    float *d = dx + ((size_t)iy * wd->w + ix) * C;
                    for (int c = 0; c < C; c++) d[c] += src[kx * C + c];
                }
            }
        }
}

/* dst[c * lddst + p] = src[p * C + c] for an 8x8 block: 8 positions of 8
 * channels in, 8 channels of 8 positions out (unpack, shuffle, then swap
 * 128-bit halves, as _MM_TRANSPOSE8_PS does). */
static inline __attribute__((always_inline)) void transpose8(const float *src, size_t C,
                                                             float *dst, size_t lddst)
{
    /* __builtin_shufflevector: GCC 12 and clang alike */
#define LO(a, b) __builtin_shufflevector(a, b, 0, 8, 1, 9, 4, 12, 5, 13)
#define HI(a, b) __builtin_shufflevector(a, b, 2, 10, 3, 11, 6, 14, 7, 15)
#define Q0(a, b) __builtin_shufflevector(a, b, 0, 1, 8, 9, 4, 5, 12, 13)
#define Q1(a, b) __builtin_shufflevector(a, b, 2, 3, 10, 11, 6, 7, 14, 15)
#define H0(a, b) __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11)
#define H1(a, b) __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15)
    v8 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = LD(src + i * C);
    for (int i = 0; i < 8; i += 2) {
        t[i] = LO(r[i], r[i + 1]);
        t[i + 1] = HI(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = Q0(t[i], t[i + 2]);
        u[i + 1] = Q1(t[i], t[i + 2]);
        u[i + 2] = Q0(t[i + 1], t[i + 3]);
        u[i + 3] = Q1(t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < 4; i++) {
        ST(dst + i * lddst, H0(u[i], u[i + 4]));
        ST(dst + (i + 4) * lddst, H1(u[i], u[i + 4]));
    }
#undef LO
#undef HI
#undef Q0
#undef Q1
#undef H0
#undef H1
}

/* The output columns [lo, hi) whose input column ox*sw - pl + dx lies inside
 * the image (dx: the tap's offset, kx * dw). */
static inline void inside_cols(const struct nn_window *wd, int dx, int *lo, int *hi)
{
    int l = 0, h = wd->ow;
    while (l < h && l * wd->sw - wd->pl + dx < 0) l++;
    while (h > l && (h - 1) * wd->sw - wd->pl + dx >= wd->w) h--;
    *lo = l, *hi = h;
}

/* nn_im2row for stride 1 and channels in multiples of 8: each kernel offset
 * (ky, kx) and output row oy is a transpose of a contiguous [positions, C]
 * block of x into C rows, 8x8 at a time (the generic loop reads every value
 * with a stride of C). */
static inline __attribute__((always_inline)) void im2row_c8(const struct nn_window *wd,
                                                            const float *x, float *rowT,
                                                            size_t ld)
{
    const int C = wd->c;
    for (int ky = 0; ky < wd->kh; ky++)
        for (int kx = 0; kx < wd->kw; kx++) {
            float *dst0 = rowT + (size_t)(ky * wd->kw + kx) * C * ld;
            const int dx = kx * wd->dw;
            int lo, hi;
            inside_cols(wd, dx, &lo, &hi);
            for (int oy = 0; oy < wd->oh; oy++) {
                const int iy = oy * wd->sh - wd->pt + ky * wd->dh;
                float *d0 = dst0 + (size_t)oy * wd->ow;
                if (iy < 0 || iy >= wd->h) {
                    for (int c = 0; c < C; c++) memset(d0 + c * ld, 0, (size_t)wd->ow * sizeof *d0);
                    continue;
                }
                const float *src = x + ((size_t)iy * wd->w + (lo - wd->pl + dx)) * C;
                for (int c = 0; c < C; c++) {
                    float *d = d0 + c * ld;
                    for (int ox = 0; ox < lo; ox++) d[ox] = 0;
                    for (int ox = hi; ox < wd->ow; ox++) d[ox] = 0;
                }
                int ox = lo;
                for (; ox + 8 <= hi; ox += 8)
                    for (int c = 0; c < C; c += 8)
                        transpose8(src + (size_t)(ox - lo) * C + c, (size_t)C, d0 + c * ld + ox,
                                   ld);
                for (; ox < hi; ox++)
                    for (int c = 0; c < C; c++) d0[c * ld + ox] = src[(size_t)(ox - lo) * C + c];
            }
        }
}

NN_HOT void nn_im2row(const struct nn_window *wd, const float *x, float *rowT, size_t ld,
                      int ones)
{
    const int C = wd->c, M = wd->oh * wd->ow;
    const size_t P = (size_t)wd->kh * wd->kw * C;
    if (ones)
        for (int m = 0; m < M; m++) rowT[P * ld + m] = 1.0f;
    if (wd->sw == 1 && C % 8 == 0) {
        im2row_c8(wd, x, rowT, ld);
        return;
    }
    size_t k = 0;
    for (int ky = 0; ky < wd->kh; ky++)
        for (int kx = 0; kx < wd->kw; kx++)
            for (int c = 0; c < C; c++, k++) {
                float *dst = rowT + k * ld;
                /* output columns whose input column ix = ox*sw - pl + kx*dw is inside */
                const int dx = kx * wd->dw;
                int lo, hi;
                inside_cols(wd, dx, &lo, &hi);
                for (int oy = 0; oy < wd->oh; oy++) {
                    float *d = dst + (size_t)oy * wd->ow;
                    const int iy = oy * wd->sh - wd->pt + ky * wd->dh;
                    if (iy < 0 || iy >= wd->h) {
                        for (int ox = 0; ox < wd->ow; ox++) d[ox] = 0;
                        continue;
                    }
                    const float *src =
                        x + ((size_t)iy * wd->w + (lo * wd->sw - wd->pl + dx)) * C + c;
                    for (int ox = 0; ox < lo; ox++) d[ox] = 0;
                    if (wd->sw * C == 1)
                        memcpy(d + lo, src, (size_t)(hi - lo) * sizeof *d);
                    else
                        for (int ox = lo; ox < hi; ox++) d[ox] = src[(size_t)(ox - lo) * wd->sw * C];
                    for (int ox = hi; ox < wd->ow; ox++) d[ox] = 0;
                }
            }
}

void nn_tanh_ref(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}
