/* augment.h - one sample's bytes -> the network's input floats.
 *
 * The trainer keeps images as bytes and converts them row by row as it
 * gathers a batch (src/train/executor.c, run_chunks).  The conversion is
 *   x = byte / divide_by                                  (the default), or
 *   x = (byte / divide_by - mean[ch]) / std[ch]           (data.standardize),
 * precomputed as byte * scale[ch] + shift[ch] (struct nn_dataset).
 * In training only, data.augment first changes the sample at random:
 *   flip_horizontal  mirror left-right with probability 1/2;
 *   translate t      shift by dy, dx uniform in [-t, t] each, pixels moved in
 *                    from outside are byte 0 (zero padding in pixel space);
 *   erase p          with probability p, random erasing (Zhong et al. 2017):
 *                    a rectangle of area fraction U(0.02, 0.33) of the image
 *                    and aspect ratio h/w log-uniform in [0.3, 3.3], placed
 *                    uniformly inside the image (up to 10 tries, as
 *                    torchvision's RandomErasing; none fits: no erasing),
 *                    filled with random bytes U{0..255} per pixel and channel
 *                    (the paper's "random values"), then scaled as any pixel.
 * Order: flip, translate, erase.  Every draw comes from nn_rand_at keyed by
 * (spec seed, step, the sample's row in the batch), so a sample's change does
 * not depend on the thread that gathers it; nothing is allocated.
 */
#ifndef NNRUN_AUGMENT_H
#define NNRUN_AUGMENT_H

#include <stdint.h>

#include "nnrun/data.h"
#include "nnrun/spec.h"

/* What the draws decided for one sample. */
struct nn_augment_draw {
    int flip;                   /* mirror left-right (before the shift) */
    int dy, dx;                 /* out(y, x) = in(y - dy, x - dx); byte 0 outside */
    int ey, ex, eh, ew;         /* erased rows ey..ey+eh-1, columns ex..ex+ew-1; eh = 0: none */
    uint64_t noise;             /* key of the erased pixels' random bytes */
};

/* How the samples of one batch become floats. */
struct nn_input_map {
    int h, w, c;
    float scale;                       /* 1 / divide_by (used when ch_scale is NULL) */
    const float *ch_scale, *ch_shift;  /* per channel (standardization), or NULL */
    struct nn_augment_spec aug;        /* all zero: no augmentation */
    uint64_t seed, step;
};

/* The map for a batch of ds: augmentation only when training. */
void nn_input_map_init(struct nn_input_map *m, const struct nn_spec *s,
                       const struct nn_dataset *ds, int training, uint64_t step);

/* The random choices for the sample at row pos of the batch. */
void nn_augment_draw(const struct nn_input_map *m, uint64_t pos, struct nn_augment_draw *d);

/* src (h * w * c bytes, NHWC) -> dst (h * w * c floats), changed as d says. */
void nn_input_apply(const struct nn_input_map *m, const struct nn_augment_draw *d,
                    const uint8_t *src, float *dst);

/* Draw and apply for the sample at row pos: what the trainer calls per row. */
void nn_input_sample(const struct nn_input_map *m, uint64_t pos, const uint8_t *src,
                     float *dst);

#endif
