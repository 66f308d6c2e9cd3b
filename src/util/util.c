/* util.c - checked allocation, the counter-based random stream, the clock. */
#include "nnrun/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Noreturn void nn_assert_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: internal error: assertion failed: %s\n", file, line, expr);
    abort();
}

static _Noreturn void out_of_memory(size_t n)
{
    fprintf(stderr, "nnrun: error: out of memory allocating %zu bytes\n", n);
    exit(1);
}

void *nn_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *nn_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) out_of_memory(nn_mul_size(n, size));
    return p;
}

void *nn_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

char *nn_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = nn_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

float *nn_alloc_floats(size_t n)
{
    size_t bytes = nn_mul_size(n ? n : 1, sizeof(float));
    if (bytes == SIZE_MAX) return NULL;
    bytes = (bytes + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

size_t nn_mul_size(size_t a, size_t b)
{
    if (a == SIZE_MAX || b == SIZE_MAX) return SIZE_MAX;
    if (a && b > SIZE_MAX / a) return SIZE_MAX;
    return a * b;
}

size_t nn_add_size(size_t a, size_t b)
{
    if (a == SIZE_MAX || b == SIZE_MAX || a > SIZE_MAX - b) return SIZE_MAX;
    return a + b;
}


void nn_rng_init(struct nn_rng *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->i = 0;
}

uint64_t nn_rng_next(struct nn_rng *r) { return nn_rand_at(r->seed, r->stream, r->i++); }

float nn_rng_uniform(struct nn_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * nn_unit_float(nn_rng_next(r));
}

double nn_rng_normal(struct nn_rng *r)
{
    /* Box-Muller on 53-bit uniforms; u1 in (0, 1] */
    double u1 = ((double)(nn_rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(nn_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t nn_rng_below(struct nn_rng *r, uint64_t n)
{
    /* rejection keeps it unbiased */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = nn_rng_next(r);
    while (v >= lim);
    return v % n;
}

double nn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
