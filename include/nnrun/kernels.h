/* kernels.h - plain float kernels over raw pointers, testable without a graph.
 *
 * Matrices are row-major with leading dimensions (lda, ...).  M, N, K as in
 * C[M,N] = A[M,K] . B[K,N].  `acc` = 0 overwrites C, 1 adds into it.
 * Every fast kernel has a naive *_ref twin that the tests compare it with.
 * Reductions over K run in increasing k for each output element, so a
 * kernel's result for one row does not depend on how rows are split.
 */
#ifndef NNRUN_KERNELS_H
#define NNRUN_KERNELS_H

#include <stddef.h>

/* Hot kernels are compiled twice, for x86-64-v3 (AVX2 + FMA) and for the
 * baseline, and the loader picks one for the running CPU (function
 * multi-versioning); other architectures build the plain version. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NN_NO_CLONES)
#define NN_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NN_HOT
#endif

/* C[M,N] (+)= A[M,K] . B[K,N] */
void nn_gemm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int acc);
/* C[M,N] (+)= A[K,M]^T . B[K,N] */
void nn_gemm_tn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int acc);
/* C[M,N] (+)= A[M,K] . B[N,K]^T */
void nn_gemm_nt(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int acc);

void nn_gemm_nn_ref(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, int acc);
void nn_gemm_tn_ref(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, int acc);
void nn_gemm_nt_ref(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, int acc);

/* B[c * ldb + r] = A[r * lda + c] for r < R, c < C. */
void nn_transpose(int R, int C, const float *A, int lda, float *B, int ldb);

/* The same, split over rows of C in fixed chunks on a thread pool (rows
 * are independent, so the result does not depend on the thread count). */
struct nn_pool;
void nn_pgemm_nn(struct nn_pool *p, int M, int N, int K, const float *A, int lda,
                 const float *B, int ldb, float *C, int ldc, int acc);
void nn_pgemm_tn(struct nn_pool *p, int M, int N, int K, const float *A, int lda,
                 const float *B, int ldb, float *C, int ldc, int acc);
void nn_pgemm_nt(struct nn_pool *p, int M, int N, int K, const float *A, int lda,
                 const float *B, int ldb, float *C, int ldc, int acc);

/* Geometry of a 2-D window op (convolution or pooling) over NHWC data. */
struct nn_window {
    int h, w, c;        /* input */
    int kh, kw;         /* window */
    int sh, sw;         /* strides */
    int dh, dw;         /* dilation: window taps dh, dw apart (0 is taken as 1) */
    int pt, pl;         /* padding before (top, left); after is implied */
    int oh, ow;         /* output */
};

/* Output size and leading padding for Keras' 'valid' / 'same'. */
void nn_window_plan(struct nn_window *wd, int same);

/* The plain patch layout (conv2d's input gradient, and the reference for
 * nn_im2row in the tests):
 * col[oh*ow, kh*kw*c + ones] <- patches of one sample x[h,w,c] (zero
 * outside); with ones = 1 each row ends with a 1. */
void nn_im2col(const struct nn_window *wd, const float *x, float *col, int ones);
/* dx[h,w,c] += patches' gradients dcol[oh*ow, kh*kw*c]. */
void nn_col2im(const struct nn_window *wd, const float *dcol, float *dx);

/* The transposed layout conv2d uses, one row per patch element:
 * rowT[k * ld + m] for k = (ky, kx, c) < kh*kw*c and m < oh*ow, then (ones)
 * a row of 1s, so that a product with [W; b] adds the bias and the weight
 * gradient's product yields db too.  With stride 1 and one channel each row
 * is a shifted copy of the image, copied in contiguous runs.  ld >= oh*ow
 * lets a chunk's samples sit side by side. */
void nn_im2row(const struct nn_window *wd, const float *x, float *rowT, size_t ld, int ones);

/* y[i] = tanh(x[i]), max error 2.9e-7; x and y may be the same array. */
void nn_tanh(const float *x, float *y, size_t n);
void nn_tanh_ref(const float *x, float *y, size_t n);

#endif
