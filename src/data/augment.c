/* augment.c - bytes -> input floats, with the training-time augmentation
 * (see include/nnrun/augment.h for what each one does). */
#include <math.h>
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

/* The plain conversion, no change to the sample. */
static void convert(const struct nn_input_map *m, const uint8_t *src, float *dst)
{
    const size_t pixels = (size_t)m->h * (size_t)m->w, c = (size_t)m->c;
    if (!m->ch_scale) {
        const float scale = m->scale;
        for (size_t i = 0; i < pixels * c; i++) dst[i] = (float)src[i] * scale;
        return;
    }
    if (c == 1) {
        const float a = m->ch_scale[0], b = m->ch_shift[0];
        for (size_t i = 0; i < pixels; i++) dst[i] = (float)src[i] * a + b;
        return;
    }
    for (size_t i = 0; i < pixels; i++)
        for (size_t ch = 0; ch < c; ch++)
            dst[i * c + ch] = (float)src[i * c + ch] * m->ch_scale[ch] + m->ch_shift[ch];
}

void nn_input_apply(const struct nn_input_map *m, const struct nn_augment_draw *d,
                    const uint8_t *src, float *dst)
{
    if (!d->flip && !d->dy && !d->dx && !d->eh) {
        convert(m, src, dst);
        return;
    }
    const int h = m->h, w = m->w, c = m->c;
    for (int y = 0; y < h; y++) {
        const int sy = y - d->dy;
        const int erase_row = d->eh && y >= d->ey && y < d->ey + d->eh;
        for (int x = 0; x < w; x++) {
            const size_t o = ((size_t)y * (size_t)w + (size_t)x) * (size_t)c;
            const int sx = x - d->dx;
            const uint8_t *px = NULL;
            if (sy >= 0 && sy < h && sx >= 0 && sx < w)
                px = src + ((size_t)sy * (size_t)w + (size_t)(d->flip ? w - 1 - sx : sx)) *
                               (size_t)c;
            const int erased = erase_row && x >= d->ex && x < d->ex + d->ew;
            for (int ch = 0; ch < c; ch++) {
                const uint8_t v = erased ? (uint8_t)(nn_rand_at(m->seed, d->noise, o + (size_t)ch) >> 56)
                                         : px ? px[ch] : 0;
                dst[o + (size_t)ch] = m->ch_scale
                                          ? (float)v * m->ch_scale[ch] + m->ch_shift[ch]
                                          : (float)v * m->scale;
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
