/* simd.h - 8-lane float vectors through GCC's vector extensions (private).
 *
 * Plain C that GCC lowers to AVX2 in the x86-64-v3 clones of NN_HOT
 * functions, to SSE pairs in the baseline ones and to NEON on aarch64. */
#ifndef NNRUN_SIMD_H
#define NNRUN_SIMD_H

#include <stdint.h>

typedef float v8 __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));   /* unaligned access */
#define LD(p) ((v8)(*(const v8u *)(p)))
#define ST(p, v) (*(v8u *)(p) = (v))
/* mask ? a : b, with mask lanes all ones or all zeros (a vector comparison) */
#define SEL(mask, a, b) ((v8)(((v8i)(a) & (mask)) | ((v8i)(b) & ~(mask))))
#define LANES ((v8){0, 1, 2, 3, 4, 5, 6, 7})

#endif
