/* act.c - vectorizable activation math.
 *
 * tanh without libm: branch-free, so the compiler vectorizes the loop.
 *   |x| < 0.625: x + x^3 P(x^2)   (Cephes' tanhf polynomial, < 2 ulp)
 *   otherwise:   1 - 2 / (e^{2|x|} + 1), sign restored, with e^t from a
 *                Cephes-style expf: t = n ln2 + r, e^r by a degree-6
 *                polynomial, 2^n put into the exponent bits.
 * Max error against libm's tanhf: a few 1e-8 (tests/test_kernels.c). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nnrun/kernels.h"

static inline float exp_poly(float t)
{
    /* t in [0, 20]: no overflow, no denormals */
    float n = floorf(t * 1.44269504088896341f + 0.5f);
    float r = t - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

NN_HOT void nn_tanh(const float *restrict x, float *restrict y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float a = fabsf(v);
        /* small: odd polynomial */
        float z = v * v;
        float p = -5.70498872745e-3f;
        p = p * z + 2.06390887954e-2f;
        p = p * z - 5.37397155531e-2f;
        p = p * z + 1.33314422036e-1f;
        p = p * z - 3.33332819422e-1f;
        float small = v + v * z * p;
        /* large: through e^{2|x|}, saturating at 1 beyond |x| = 10 */
        float t = a < 10.0f ? 2.0f * a : 20.0f;
        float big = 1.0f - 2.0f / (exp_poly(t) + 1.0f);
        big = copysignf(big, v);
        y[i] = a < 0.625f ? small : big;
    }
}
