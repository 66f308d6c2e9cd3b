/* act.c - vectorizable activation math.
 *
 * tanh without libm, branch-free so the compiler vectorizes the loop: the
 * rational minimax approximation Eigen uses (odd degree-13 numerator over
 * even degree-6 denominator) on x clamped to +-7.905, where tanh rounds to
 * +-1 in float.  Max error against libm's tanhf: a few 1e-8
 * (tests/test_kernels.c). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nnrun/kernels.h"

static inline __attribute__((always_inline)) float tanh_one(float v)
{
    v = v < -7.90531110763549805f ? -7.90531110763549805f : v;
    v = v > 7.90531110763549805f ? 7.90531110763549805f : v;
    const float z = v * v;
    float p = -2.76076847742355e-16f;
    p = p * z + 2.00018790482477e-13f;
    p = p * z - 8.60467152213735e-11f;
    p = p * z + 5.12229709037114e-08f;
    p = p * z + 1.48572235717979e-05f;
    p = p * z + 6.37261928875436e-04f;
    p = p * z + 4.89352455891786e-03f;
    p = p * v;
    float q = 1.19825839466702e-06f;
    q = q * z + 1.18534705686654e-04f;
    q = q * z + 2.26843463243900e-03f;
    q = q * z + 4.89352518554385e-03f;
    return p / q;
}

/* Out of place or exactly in place (x == y), both vectorized. */
NN_HOT void nn_tanh(const float *x, float *y, size_t n)
{
    if (x == y) {
        float *restrict p = y;
        for (size_t i = 0; i < n; i++) p[i] = tanh_one(p[i]);
        return;
    }
    const float *restrict in = x;
    float *restrict out = y;
    for (size_t i = 0; i < n; i++) out[i] = tanh_one(in[i]);
}
