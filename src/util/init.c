/* init.c - weight initializers with Keras' formulas.
 *   glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out))
 *   glorot_normal:  truncated N(0, s) at 2s, s = sqrt(2 / (fan_in + fan_out)) / .87962566
 *   he_uniform:     U(-l, l), l = sqrt(6 / fan_in)
 *   he_normal:      truncated N(0, s) at 2s, s = sqrt(2 / fan_in) / .87962566
 * (.87962566 is the standard deviation of a unit normal truncated at +-2,
 * which Keras divides by so the truncated draw keeps the intended variance.)
 */
#include <math.h>
#include <string.h>

#include "nnrun/layer.h"
#include "nnrun/util.h"

static void fill_uniform(float *p, size_t n, float limit, struct nn_rng *r)
{
    for (size_t i = 0; i < n; i++) p[i] = nn_rng_uniform(r, -limit, limit);
}

static void fill_truncated(float *p, size_t n, double sd, struct nn_rng *r)
{
    for (size_t i = 0; i < n; i++) {
        double z;
        do z = nn_rng_normal(r);
        while (fabs(z) > 2.0);
        p[i] = (float)(z * sd);
    }
}

void nn_init_fill(float *p, size_t n, int init, int fan_in, int fan_out, uint64_t seed,
                  uint64_t stream)
{
    struct nn_rng r;
    nn_rng_init(&r, seed, stream);
    double fi = fan_in > 0 ? fan_in : 1, fo = fan_out > 0 ? fan_out : 1;
    switch (init) {
    case NN_INIT_GLOROT_UNIFORM: fill_uniform(p, n, (float)sqrt(6.0 / (fi + fo)), &r); break;
    case NN_INIT_GLOROT_NORMAL: fill_truncated(p, n, sqrt(2.0 / (fi + fo)) / .87962566103423978, &r); break;
    case NN_INIT_HE_UNIFORM: fill_uniform(p, n, (float)sqrt(6.0 / fi), &r); break;
    case NN_INIT_HE_NORMAL: fill_truncated(p, n, sqrt(2.0 / fi) / .87962566103423978, &r); break;
    default: memset(p, 0, n * sizeof *p); break;
    }
}
