/* gemm.c - the matrix products the layers need, and their references.
 *
 * Two register-blocked kernels cover the three shapes:
 *  - "panel" (nn, tn): C[i, j..j+16) += A(i,k) * B[k, j..j+16), 6 rows at a
 *    time (then 4, then 1), up to 12 vector accumulators; A may be strided either way, B's rows are
 *    contiguous.  Used where N is a multiple of 8 or large.
 *  - "dot" (nt): C[i,j] = sum_k A[i,k] B[j,k] with 8-lane partial sums,
 *    4x2 outputs at a time.  Used where K is long and N small.
 * Every output element is computed by the same sequence of operations
 * whichever block or chunk it falls in, so results do not depend on how
 * rows are split between threads.
 */
#include <string.h>

#include "nnrun/kernels.h"
#include "nnrun/parallel.h"
#include "simd.h"

/* ---- references: one output element at a time, k increasing ------------ */

void nn_gemm_nn_ref(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, int acc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[(size_t)i * lda + k] * B[(size_t)k * ldb + j];
            C[(size_t)i * ldc + j] = acc ? C[(size_t)i * ldc + j] + s : s;
        }
}

void nn_gemm_tn_ref(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, int acc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[(size_t)k * lda + i] * B[(size_t)k * ldb + j];
            C[(size_t)i * ldc + j] = acc ? C[(size_t)i * ldc + j] + s : s;
        }
}

void nn_gemm_nt_ref(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, int acc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[(size_t)i * lda + k] * B[(size_t)j * ldb + k];
            C[(size_t)i * ldc + j] = acc ? C[(size_t)i * ldc + j] + s : s;
        }
}

/* ---- the panel kernel ----------------------------------------------------- */


/* C[R rows, 16) (+)= A(R rows, K) . B[K, 16); A(i,k) = A[i*rs + k*cs]. */
static inline __attribute__((always_inline)) void panel16(int R, int K, const float *A,
                                                          size_t rs, size_t cs, const float *B,
                                                          size_t ldb, float *C, size_t ldc,
                                                          int acc)
{
    v8 c[6][2];
    for (int r = 0; r < R; r++) {
        c[r][0] = acc ? LD(C + r * ldc) : (v8){0};
        c[r][1] = acc ? LD(C + r * ldc + 8) : (v8){0};
    }
    for (int k = 0; k < K; k++) {
        const v8 b0 = LD(B + k * ldb), b1 = LD(B + k * ldb + 8);
        for (int r = 0; r < R; r++) {
            const float a = A[r * rs + k * cs];
            c[r][0] += a * b0;
            c[r][1] += a * b1;
        }
    }
    for (int r = 0; r < R; r++) {
        ST(C + r * ldc, c[r][0]);
        ST(C + r * ldc + 8, c[r][1]);
    }
}

/* The same for 8 columns. */
static inline __attribute__((always_inline)) void panel8(int R, int K, const float *A, size_t rs,
                                                         size_t cs, const float *B, size_t ldb,
                                                         float *C, size_t ldc, int acc)
{
    v8 c[6];
    for (int r = 0; r < R; r++) c[r] = acc ? LD(C + r * ldc) : (v8){0};
    for (int k = 0; k < K; k++) {
        const v8 b0 = LD(B + k * ldb);
        for (int r = 0; r < R; r++) c[r] += A[r * rs + k * cs] * b0;
    }
    for (int r = 0; r < R; r++) ST(C + r * ldc, c[r]);
}

/* Columns left over after the 8-wide panels, one element at a time with the
 * same operation order (start from C or 0, add a*b for k increasing). */
static inline void panel_tail(int R, int n, int K, const float *A, size_t rs, size_t cs,
                              const float *B, size_t ldb, float *C, size_t ldc, int acc)
{
    for (int r = 0; r < R; r++)
        for (int j = 0; j < n; j++) {
            float s = acc ? C[r * ldc + j] : 0.0f;
            for (int k = 0; k < K; k++) s += A[r * rs + k * cs] * B[k * ldb + j];
            C[r * ldc + j] = s;
        }
}

/* R rows of C across all N columns: 16-wide panels, then 8, then the tail. */
static inline __attribute__((always_inline)) void panel_rows(int R, int N, int K,
                                                              const float *a, size_t rs,
                                                              size_t cs, const float *B,
                                                              size_t ldb, float *c, size_t ldc,
                                                              int acc)
{
    int j = 0;
    for (; j + 16 <= N; j += 16) panel16(R, K, a, rs, cs, B + j, ldb, c + j, ldc, acc);
    for (; j + 8 <= N; j += 8) panel8(R, K, a, rs, cs, B + j, ldb, c + j, ldc, acc);
    if (j < N) panel_tail(R, N - j, K, a, rs, cs, B + j, ldb, c + j, ldc, acc);
}

/* Rows in blocks of 6 (12 accumulators, 2 B vectors, 1 broadcast), then 4,
 * then one at a time. */
static inline __attribute__((always_inline)) void panel_gemm(int M, int N, int K,
                                                              const float *A, size_t rs,
                                                              size_t cs, const float *B,
                                                              size_t ldb, float *C, size_t ldc,
                                                              int acc)
{
    int i = 0;
    for (; i + 6 <= M; i += 6) panel_rows(6, N, K, A + i * rs, rs, cs, B, ldb, C + i * ldc, ldc, acc);
    for (; i + 4 <= M; i += 4) panel_rows(4, N, K, A + i * rs, rs, cs, B, ldb, C + i * ldc, ldc, acc);
    for (; i < M; i++) panel_rows(1, N, K, A + i * rs, rs, cs, B, ldb, C + i * ldc, ldc, acc);
}

/* One R-row block of C over a panel of w columns: 16, 8, or the tail. */
static inline __attribute__((always_inline)) void panel_any(int R, int w, int K, const float *A,
                                                            size_t rs, size_t cs, const float *B,
                                                            size_t ldb, float *C, size_t ldc,
                                                            int acc)
{
    if (w == 16) panel16(R, K, A, rs, cs, B, ldb, C, ldc, acc);
    else if (w == 8) panel8(R, K, A, rs, cs, B, ldb, C, ldc, acc);
    else panel_tail(R, w, K, A, rs, cs, B, ldb, C, ldc, acc);
}

/* Column panels outer, rows inner: one B panel stays in L1 while every row
 * block of A passes over it. */
static inline __attribute__((always_inline)) void panel_cols(int M, int N, int K,
                                                              const float *A, size_t rs,
                                                              size_t cs, const float *B,
                                                              size_t ldb, float *C, size_t ldc,
                                                              int acc)
{
    for (int j = 0; j < N;) {
        const int w = N - j >= 16 ? 16 : N - j >= 8 ? 8 : N - j;
        const float *b = B + j;
        float *c = C + j;
        int i = 0;
        for (; i + 6 <= M; i += 6)
            panel_any(6, w, K, A + i * rs, rs, cs, b, ldb, c + i * ldc, ldc, acc);
        for (; i + 4 <= M; i += 4)
            panel_any(4, w, K, A + i * rs, rs, cs, b, ldb, c + i * ldc, ldc, acc);
        for (; i < M; i++) panel_any(1, w, K, A + i * rs, rs, cs, b, ldb, c + i * ldc, ldc, acc);
        j += w;
    }
}

/* A long K is cut into blocks of NN_KC, each a pass of panel_cols over A's
 * columns k0..k0+NN_KC and B's rows k0..k0+NN_KC (16 KB of B a panel): the
 * operands stay in L1 and L2 where one pass over all of K would stream them
 * from memory for every row block.  C is stored after a block and loaded
 * for the next, so each element still takes the same sequence of
 * operations (start from C or 0, then k increasing) as without blocks. */
#define NN_KC 256
static inline __attribute__((always_inline)) void panel_gemm_blocked(int M, int N, int K,
                                                                      const float *A, size_t rs,
                                                                      size_t cs, const float *B,
                                                                      size_t ldb, float *C,
                                                                      size_t ldc, int acc)
{
    if (K <= 2 * NN_KC) {
        panel_gemm(M, N, K, A, rs, cs, B, ldb, C, ldc, acc);
        return;
    }
    for (int k0 = 0; k0 < K; k0 += NN_KC) {
        const int kk = K - k0 < NN_KC ? K - k0 : NN_KC;
        panel_cols(M, N, kk, A + (size_t)k0 * cs, rs, cs, B + (size_t)k0 * ldb, ldb, C, ldc,
                   acc || k0 > 0);
    }
}

/* One instance per layout, so the constant stride folds into the addressing. */
NN_HOT void nn_gemm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                       float *C, int ldc, int acc)
{
    panel_gemm_blocked(M, N, K, A, (size_t)lda, 1, B, (size_t)ldb, C, (size_t)ldc, acc);
}

NN_HOT void nn_gemm_tn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                       float *C, int ldc, int acc)
{
    panel_gemm_blocked(M, N, K, A, 1, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc, acc);
}

/* ---- the dot kernel --------------------------------------------------------- */

static inline __attribute__((always_inline)) float hsum(v8 v)
{
    /* fixed order: pairs, then quads, then the two halves */
    float s0 = v[0] + v[1], s1 = v[2] + v[3], s2 = v[4] + v[5], s3 = v[6] + v[7];
    return (s0 + s1) + (s2 + s3);
}

/* C[R rows, Q cols] (+)= A[R, K] . B[Q, K]^T */
static inline __attribute__((always_inline)) void dot_block(int R, int Q, int K, const float *A,
                                                            size_t lda, const float *B,
                                                            size_t ldb, float *C, size_t ldc,
                                                            int acc)
{
    v8 s[4][2];
    for (int r = 0; r < R; r++)
        for (int q = 0; q < Q; q++) s[r][q] = (v8){0};
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        v8 b[2];
        for (int q = 0; q < Q; q++) b[q] = LD(B + q * ldb + k);
        for (int r = 0; r < R; r++) {
            const v8 a = LD(A + r * lda + k);
            for (int q = 0; q < Q; q++) s[r][q] += a * b[q];
        }
    }
    for (int r = 0; r < R; r++)
        for (int q = 0; q < Q; q++) {
            float t = hsum(s[r][q]);
            for (int kk = k; kk < K; kk++) t += A[r * lda + kk] * B[q * ldb + kk];
            C[r * ldc + q] = acc ? C[r * ldc + q] + t : t;
        }
}

NN_HOT void nn_gemm_nt(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                       float *C, int ldc, int acc)
{
    const size_t la = (size_t)lda, lb = (size_t)ldb, lc = (size_t)ldc;
    int i = 0;
    for (; i + 4 <= M; i += 4) {
        int j = 0;
        for (; j + 2 <= N; j += 2)
            dot_block(4, 2, K, A + i * la, la, B + j * lb, lb, C + i * lc + j, lc, acc);
        if (j < N) dot_block(4, 1, K, A + i * la, la, B + j * lb, lb, C + i * lc + j, lc, acc);
    }
    for (; i < M; i++) {
        int j = 0;
        for (; j + 2 <= N; j += 2)
            dot_block(1, 2, K, A + i * la, la, B + j * lb, lb, C + i * lc + j, lc, acc);
        if (j < N) dot_block(1, 1, K, A + i * la, la, B + j * lb, lb, C + i * lc + j, lc, acc);
    }
}

/* ---- transpose, in 8x8 tiles ------------------------------------------- */

void nn_transpose(int R, int C, const float *A, int lda, float *B, int ldb)
{
    for (int r0 = 0; r0 < R; r0 += 8)
        for (int c0 = 0; c0 < C; c0 += 8) {
            const int r1 = r0 + 8 < R ? r0 + 8 : R, c1 = c0 + 8 < C ? c0 + 8 : C;
            for (int c = c0; c < c1; c++)
                for (int r = r0; r < r1; r++)
                    B[(size_t)c * ldb + r] = A[(size_t)r * lda + c];
        }
}

/* ---- row-parallel wrappers ----------------------------------------------- */

struct gemm_job {
    void (*fn)(int, int, int, const float *, int, const float *, int, float *, int, int);
    int N, K, lda, ldb, ldc, acc, a_trans;
    const float *A, *B;
    float *C;
};

static void gemm_rows(void *ctx, size_t r0, size_t r1)
{
    const struct gemm_job *j = ctx;
    /* rows of C are rows of A, or columns of A when it is transposed */
    const float *a = j->a_trans ? j->A + r0 : j->A + r0 * (size_t)j->lda;
    j->fn((int)(r1 - r0), j->N, j->K, a, j->lda, j->B, j->ldb, j->C + r0 * (size_t)j->ldc,
          j->ldc, j->acc);
}

static void pgemm(struct nn_pool *p, struct gemm_job *j, int M)
{
    /* chunks of about 256k multiply-adds, in whole blocks of 4 rows */
    size_t per_row = (size_t)j->N * (size_t)j->K + 1;
    size_t grain = (262144 / per_row + 4) & ~(size_t)3;
    nn_pool_for(p, (size_t)M, grain, gemm_rows, j);
}

void nn_pgemm_nn(struct nn_pool *p, int M, int N, int K, const float *A, int lda,
                 const float *B, int ldb, float *C, int ldc, int acc)
{
    struct gemm_job j = {nn_gemm_nn, N, K, lda, ldb, ldc, acc, 0, A, B, C};
    pgemm(p, &j, M);
}

void nn_pgemm_tn(struct nn_pool *p, int M, int N, int K, const float *A, int lda,
                 const float *B, int ldb, float *C, int ldc, int acc)
{
    struct gemm_job j = {nn_gemm_tn, N, K, lda, ldb, ldc, acc, 1, A, B, C};
    pgemm(p, &j, M);
}

void nn_pgemm_nt(struct nn_pool *p, int M, int N, int K, const float *A, int lda,
                 const float *B, int ldb, float *C, int ldc, int acc)
{
    struct gemm_job j = {nn_gemm_nt, N, K, lda, ldb, ldc, acc, 0, A, B, C};
    pgemm(p, &j, M);
}
