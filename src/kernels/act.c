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

NN_HOT void nn_tanh(const float *restrict x, float *restrict y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
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
        y[i] = p / q;
    }
}
