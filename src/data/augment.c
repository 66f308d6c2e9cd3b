/* augment.c - bytes -> input floats, with the training-time augmentation
 * (see include/nnrun/augment.h for what each one does). */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "nnrun/augment.h"
#include "nnrun/util.h"

#define AUG_TAG 0x4155474D454E54ULL     /* "AUGMENT": the stream of a step's draws */
#define AUG_NOISE 0x4E4F495345ULL       /* "NOISE": a sample's erased pixels */
#define AUG_DRAWS 64                    /* draws reserved per sample */
#define ERASE_TRIES 10
#define ERASE_AREA_LO 0.02
#define ERASE_AREA_HI 0.33
#define ERASE_RATIO_LO 0.3
#define ERASE_RATIO_HI 3.3

void nn_input_map_init(struct nn_input_map *m, const struct nn_spec *s,
                       const struct nn_dataset *ds, int training, uint64_t step)
{
    memset(m, 0, sizeof *m);
    m->h = ds->h, m->w = ds->w, m->c = ds->c;
    m->scale = 1.0f / s->data.divide_by;
    m->ch_scale = ds->scale;
    m->ch_shift = ds->shift;
    if (training) m->aug = s->data.augment;
    m->seed = s->seed;
    m->step = step;
}

static int aug_on(const struct nn_augment_spec *a)
{
    return a->flip_horizontal || a->translate > 0 || a->erase > 0;
}

void nn_augment_draw(const struct nn_input_map *m, uint64_t pos, struct nn_augment_draw *d)
{
    memset(d, 0, sizeof *d);
    const struct nn_augment_spec *a = &m->aug;
    if (!aug_on(a)) return;
    const uint64_t stream = nn_hash64(AUG_TAG + m->step), base = pos * AUG_DRAWS;
#define DRAW(k) nn_rand_at(m->seed, stream, base + (k))
    if (a->flip_horizontal) d->flip = (int)(DRAW(0) >> 63);
    if (a->translate > 0) {
        const uint64_t span = 2 * (uint64_t)a->translate + 1;
        d->dy = (int)(DRAW(1) % span) - a->translate;
        d->dx = (int)(DRAW(2) % span) - a->translate;
    }
    if (a->erase > 0 && nn_unit_float(DRAW(3)) < a->erase) {
        const double area = (double)m->h * m->w;
        const double lr0 = log(ERASE_RATIO_LO), lr1 = log(ERASE_RATIO_HI);
        for (int t = 0; t < ERASE_TRIES; t++) {
            const uint64_t k = 4 + 4 * (uint64_t)t;
            const double target = area * (ERASE_AREA_LO + (ERASE_AREA_HI - ERASE_AREA_LO) *
                                                              (double)nn_unit_float(DRAW(k)));
            const double ratio = exp(lr0 + (lr1 - lr0) * (double)nn_unit_float(DRAW(k + 1)));
            const int eh = (int)lround(sqrt(target * ratio));
            const int ew = (int)lround(sqrt(target / ratio));
            if (eh < 1 || ew < 1 || eh >= m->h || ew >= m->w) continue;
            d->eh = eh, d->ew = ew;
            d->ey = (int)(DRAW(k + 2) % (uint64_t)(m->h - eh + 1));
            d->ex = (int)(DRAW(k + 3) % (uint64_t)(m->w - ew + 1));
            d->noise = nn_hash64(stream ^ nn_hash64(AUG_NOISE + pos));
            break;
        }
    }
#undef DRAW
}

/* Converts n pixels, src pixel -k for dst pixel k when step is -1 (a mirrored
 * run), src pixel k when step is 1. */
static void convert_run(const struct nn_input_map *m, const uint8_t *src, float *dst,
                        size_t n, int step)
{
    const size_t c = (size_t)m->c;
    if (step > 0 && (!m->ch_scale || c == 1)) {
        if (!m->ch_scale) {
            const float scale = m->scale;
            for (size_t i = 0; i < n * c; i++) dst[i] = (float)src[i] * scale;
        } else {
            const float a = m->ch_scale[0], b = m->ch_shift[0];
            for (size_t i = 0; i < n; i++) dst[i] = (float)src[i] * a + b;
        }
        return;
    }
    if (c == 1) {   /* a mirrored run of one channel */
        if (!m->ch_scale) {
            const float scale = m->scale;
            for (size_t i = 0; i < n; i++) dst[i] = (float)src[-(ptrdiff_t)i] * scale;
        } else {
            const float a = m->ch_scale[0], b = m->ch_shift[0];
            for (size_t i = 0; i < n; i++) dst[i] = (float)src[-(ptrdiff_t)i] * a + b;
        }
        return;
    }
    const ptrdiff_t sp = step > 0 ? (ptrdiff_t)c : -(ptrdiff_t)c;
    for (size_t i = 0; i < n; i++, src += sp)
        for (size_t ch = 0; ch < c; ch++)
            dst[i * c + ch] = m->ch_scale ? (float)src[ch] * m->ch_scale[ch] + m->ch_shift[ch]
                                          : (float)src[ch] * m->scale;
}

/* Pixels x0..x1 of an output row set to the value of byte v (padding or noise). */
static void fill_byte(const struct nn_input_map *m, float *row, int x0, int x1, uint8_t v)
{
    const size_t c = (size_t)m->c;
    for (size_t x = (size_t)x0; x < (size_t)x1; x++)
        for (size_t ch = 0; ch < c; ch++)
            row[x * c + ch] = m->ch_scale ? (float)v * m->ch_scale[ch] + m->ch_shift[ch]
                                          : (float)v * m->scale;
}

void nn_input_apply(const struct nn_input_map *m, const struct nn_augment_draw *d,
                    const uint8_t *src, float *dst)
{
    const int h = m->h, w = m->w;
    const size_t c = (size_t)m->c, row_len = (size_t)w * c;
    if (!d->flip && !d->dy && !d->dx && !d->eh) {
        convert_run(m, src, dst, (size_t)h * (size_t)w, 1);
        return;
    }
    /* output columns [x0, x1) have their source column x - dx inside the image */
    const int x0 = d->dx > 0 ? d->dx : 0, x1 = d->dx < 0 ? w + d->dx : w;
    for (int y = 0; y < h; y++) {
        float *out = dst + (size_t)y * row_len;
        const int sy = y - d->dy;
        if (sy < 0 || sy >= h || x0 >= x1) {
            fill_byte(m, out, 0, w, 0);
        } else {
            fill_byte(m, out, 0, x0, 0);
            fill_byte(m, out, x1, w, 0);
            const uint8_t *row = src + (size_t)sy * row_len;
            /* the source column of x0: x0 - dx, mirrored w - 1 - (x0 - dx) */
            const int first = d->flip ? w - 1 - (x0 - d->dx) : x0 - d->dx;
            convert_run(m, row + (size_t)first * c, out + (size_t)x0 * c, (size_t)(x1 - x0),
                        d->flip ? -1 : 1);
        }
        if (d->eh && y >= d->ey && y < d->ey + d->eh) {
            for (int x = d->ex; x < d->ex + d->ew; x++) {
                const size_t o = (size_t)y * row_len + (size_t)x * c;
                for (size_t ch = 0; ch < c; ch++) {
                    const uint8_t v = (uint8_t)(nn_rand_at(m->seed, d->noise, o + ch) >> 56);
                    dst[o + ch] = m->ch_scale ? (float)v * m->ch_scale[ch] + m->ch_shift[ch]
                                              : (float)v * m->scale;
                }
            }
        }
    }
}

void nn_input_sample(const struct nn_input_map *m, uint64_t pos, const uint8_t *src,
                     float *dst)
{
    struct nn_augment_draw d;
    nn_augment_draw(m, pos, &d);
    nn_input_apply(m, &d, src, dst);
}
