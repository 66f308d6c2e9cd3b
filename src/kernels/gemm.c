/* gemm.c - the three matrix products the layers need, and their references.
 *
 * Loops are ordered so the innermost one runs over contiguous memory with
 * no dependence between iterations, which the compiler vectorizes; rows of
 * C are independent, so the pool splits them.
 */
#include <string.h>

#include "nnrun/kernels.h"
#include "nnrun/parallel.h"

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

/* ---- fast versions ------------------------------------------------------- */

/* C[i,:] (+)= sum_k A[i,k] B[k,:]: broadcast A[i,k], stream B's row k. */
void nn_gemm_nn(int M, int N, int K, const float *restrict A, int lda,
                const float *restrict B, int ldb, float *restrict C, int ldc, int acc)
{
    for (int i = 0; i < M; i++) {
        float *restrict c = C + (size_t)i * ldc;
        const float *a = A + (size_t)i * lda;
        if (!acc) memset(c, 0, (size_t)N * sizeof *c);
        for (int k = 0; k < K; k++) {
            const float aik = a[k];
            const float *restrict b = B + (size_t)k * ldb;
            for (int j = 0; j < N; j++) c[j] += aik * b[j];
        }
    }
}

/* C[i,:] (+)= sum_k A[k,i] B[k,:] */
void nn_gemm_tn(int M, int N, int K, const float *restrict A, int lda,
                const float *restrict B, int ldb, float *restrict C, int ldc, int acc)
{
    for (int i = 0; i < M; i++) {
        float *restrict c = C + (size_t)i * ldc;
        if (!acc) memset(c, 0, (size_t)N * sizeof *c);
        for (int k = 0; k < K; k++) {
            const float aki = A[(size_t)k * lda + i];
            const float *restrict b = B + (size_t)k * ldb;
            for (int j = 0; j < N; j++) c[j] += aki * b[j];
        }
    }
}

/* C[i,j] (+)= dot(A[i,:], B[j,:]) */
void nn_gemm_nt(int M, int N, int K, const float *restrict A, int lda,
                const float *restrict B, int ldb, float *restrict C, int ldc, int acc)
{
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        for (int j = 0; j < N; j++) {
            const float *b = B + (size_t)j * ldb;
            float s = 0;
            for (int k = 0; k < K; k++) s += a[k] * b[k];
            C[(size_t)i * ldc + j] = acc ? C[(size_t)i * ldc + j] + s : s;
        }
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
    /* chunks of about 64k multiply-adds, at least one row */
    size_t per_row = (size_t)j->N * (size_t)j->K + 1;
    size_t grain = 65536 / per_row + 1;
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
