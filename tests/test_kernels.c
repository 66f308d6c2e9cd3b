/* test_kernels.c - every fast kernel against its plain reference, on random
 * shapes with odd sizes and leading dimensions wider than the rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "nnrun/kernels.h"
#include "nnrun/parallel.h"
#include "nnrun/util.h"

typedef void (*gemm_fn)(int, int, int, const float *, int, const float *, int, float *, int, int);

static void check_gemm(const char *name, gemm_fn fast, gemm_fn ref, int ta, int tb, int seed)
{
    struct nn_rng r;
    nn_rng_init(&r, (uint64_t)seed, 1);
    for (int trial = 0; trial < 40; trial++) {
        int M = 1 + (int)nn_rng_below(&r, 37), N = 1 + (int)nn_rng_below(&r, 41);
        /* every eighth trial has a K long enough to be cut into blocks */
        int K = 1 + (int)nn_rng_below(&r, trial % 8 == 7 ? 1400 : 67);
        int pad = (int)nn_rng_below(&r, 3);
        int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
        int lda = ac + pad, ldb = bc + pad, ldc = N + pad;
        float *A = malloc(sizeof(float) * ar * lda), *Bm = malloc(sizeof(float) * br * ldb);
        float *C1 = malloc(sizeof(float) * M * ldc), *C2 = malloc(sizeof(float) * M * ldc);
        t_fill(A, (size_t)ar * lda, -1, 1, (uint64_t)trial);
        t_fill(Bm, (size_t)br * ldb, -1, 1, 1000 + (uint64_t)trial);
        for (int acc = 0; acc <= 1; acc++) {
            t_fill(C1, (size_t)M * ldc, -1, 1, 2000 + (uint64_t)trial);
            memcpy(C2, C1, sizeof(float) * M * ldc);
            fast(M, N, K, A, lda, Bm, ldb, C1, ldc, acc);
            ref(M, N, K, A, lda, Bm, ldb, C2, ldc, acc);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    float a = C1[i * ldc + j], b = C2[i * ldc + j];
                    ck_assert_msg(fabsf(a - b) <= 1e-5f * (float)K,
                                  "%s M=%d N=%d K=%d acc=%d at (%d,%d): %g vs %g", name, M, N,
                                  K, acc, i, j, a, b);
                }
        }
        free(A), free(Bm), free(C1), free(C2);
    }
}

START_TEST(test_gemm_vs_ref)
{
    check_gemm("nn", nn_gemm_nn, nn_gemm_nn_ref, 0, 0, 1);
    check_gemm("tn", nn_gemm_tn, nn_gemm_tn_ref, 1, 0, 2);
    check_gemm("nt", nn_gemm_nt, nn_gemm_nt_ref, 0, 1, 3);
}
END_TEST

START_TEST(test_transpose)
{
    /* odd sizes (partial 8x8 tiles) and row strides on both sides */
    enum { R = 19, C = 11, LDA = 13, LDB = 23 };
    float A[R * LDA], Bt[C * LDB];
    for (int i = 0; i < R * LDA; i++) A[i] = (float)i;
    for (int i = 0; i < C * LDB; i++) Bt[i] = -1;
    nn_transpose(R, C, A, LDA, Bt, LDB);
    for (int c = 0; c < C; c++)
        for (int r = 0; r < LDB; r++)
            ck_assert_float_eq(Bt[c * LDB + r], r < R ? (float)(r * LDA + c) : -1.0f);
}
END_TEST

START_TEST(test_pgemm_thread_independent)
{
    /* the pooled versions give the same bits at 1 and 3 threads */
    enum { M = 129, N = 31, K = 200 };
    float *A = malloc(sizeof(float) * M * K), *Bm = malloc(sizeof(float) * K * N);
    float *C1 = malloc(sizeof(float) * M * N), *C3 = malloc(sizeof(float) * M * N);
    t_fill(A, M * K, -1, 1, 5);
    t_fill(Bm, K * N, -1, 1, 6);
    struct nn_pool *p1 = nn_pool_create(1), *p3 = nn_pool_create(3);
    nn_pgemm_nn(p1, M, N, K, A, K, Bm, N, C1, N, 0);
    nn_pgemm_nn(p3, M, N, K, A, K, Bm, N, C3, N, 0);
    ck_assert_int_eq(memcmp(C1, C3, sizeof(float) * M * N), 0);
    nn_pgemm_tn(p1, K, N, M, A, K, C1, N, Bm, N, 0);
    float *D = malloc(sizeof(float) * K * N);
    nn_pgemm_tn(p3, K, N, M, A, K, C3, N, D, N, 0);
    ck_assert_int_eq(memcmp(Bm, D, sizeof(float) * K * N), 0);
    nn_pool_free(p1), nn_pool_free(p3);
    free(A), free(Bm), free(C1), free(C3), free(D);
}
END_TEST

START_TEST(test_im2col_adjoint)
{
    /* <im2col(x), y> == <x, col2im(y)> for same and valid, strides 1 and 2 */
    for (int same = 0; same <= 1; same++)
        for (int s = 1; s <= 2; s++) {
            struct nn_window wd = {.h = 7, .w = 6, .c = 2, .kh = 3, .kw = 2, .sh = s, .sw = s};
            nn_window_plan(&wd, same);
            size_t nx = 7 * 6 * 2, nc = (size_t)wd.oh * wd.ow * 3 * 2 * 2;
            float *x = malloc(nx * sizeof *x), *col = malloc(nc * sizeof *col);
            float *y = malloc(nc * sizeof *y), *dx = calloc(nx, sizeof *dx);
            t_fill(x, nx, -1, 1, 9);
            t_fill(y, nc, -1, 1, 10);
            nn_im2col(&wd, x, col, 0);
            nn_col2im(&wd, y, dx);
            double a = 0, b = 0;
            for (size_t i = 0; i < nc; i++) a += (double)col[i] * y[i];
            for (size_t i = 0; i < nx; i++) b += (double)x[i] * dx[i];
            ck_assert_double_eq_tol(a, b, 1e-4);
            free(x), free(col), free(y), free(dx);
        }
    /* im2row holds the same values as im2col, transposed (16 and 8 channels at
     * stride 1 take the 8x8 transposing path, with full blocks of 8
     * positions and a remainder) */
    for (int same = 0; same <= 1; same++)
        for (int s = 1; s <= 2; s++)
            for (int c = 1; c <= 16; c *= 2) {
                struct nn_window wd = {.h = 7, .w = 13, .c = c, .kh = 3, .kw = 2, .sh = s, .sw = s};
                nn_window_plan(&wd, same);
                size_t M = (size_t)wd.oh * wd.ow, P = (size_t)3 * 2 * c, nx = (size_t)7 * 13 * c;
                size_t ld = M + 3;
                float *x = malloc(nx * sizeof *x), *col = malloc(M * (P + 1) * sizeof *col);
                float *rt = malloc(ld * (P + 1) * sizeof *rt);
                t_fill(x, nx, -1, 1, 19);
                nn_im2col(&wd, x, col, 1);
                nn_im2row(&wd, x, rt, ld, 1);
                for (size_t m = 0; m < M; m++)
                    for (size_t k = 0; k <= P; k++)
                        ck_assert_float_eq(col[m * (P + 1) + k], rt[k * ld + m]);
                free(x), free(col), free(rt);
            }
    /* 'same' geometry as TensorFlow: 28 -> 28 (3x3, stride 1), 7 -> 4 (stride 2) */
    struct nn_window wd = {.h = 28, .w = 7, .c = 1, .kh = 3, .kw = 3, .sh = 1, .sw = 2};
    nn_window_plan(&wd, 1);
    ck_assert_int_eq(wd.oh, 28);
    ck_assert_int_eq(wd.ow, 4);
    ck_assert_int_eq(wd.pt, 1);
    ck_assert_int_eq(wd.pl, 1);
}
END_TEST

START_TEST(test_tanh)
{
    enum { N = 10007 };
    float *x = malloc(N * sizeof *x), *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    t_fill(x, N, -12, 12, 3);
    x[0] = 0, x[1] = -0.0f, x[2] = 1e-8f, x[3] = 40, x[4] = -40;
    nn_tanh(x, a, N);
    nn_tanh_ref(x, b, N);
    for (int i = 0; i < N; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= 4e-7f, "tanh(%g): %.9g vs %.9g", x[i], a[i], b[i]);
    ck_assert_float_eq(a[3], 1.0f);
    ck_assert_float_eq(a[4], -1.0f);
    free(x), free(a), free(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_gemm_vs_ref);
    tcase_add_test(tc, test_transpose);
    tcase_add_test(tc, test_pgemm_thread_independent);
    tcase_add_test(tc, test_im2col_adjoint);
    tcase_add_test(tc, test_tanh);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return t_run(suite()); }
