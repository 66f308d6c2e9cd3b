/* fuzz_checkpoint.c - libFuzzer target: the checkpoint and weights decoder
 * (src/run/checkpoint.c).  Every input goes through nn_ckpt_decode with a
 * parameter bound (as nnrun loads a file for a known model); an accepted
 * file must encode back to the same contents (the zlib stream may compress
 * differently, so it is decoded again and compared).
 *
 * The CRC-32 at the end would stop almost every mutation at the checksum, so
 * odd-length inputs get a correct CRC patched in first: the fuzzer then
 * reaches the header checks and zlib.  (Refusals by checksum are covered by
 * tests/test_run.c, which flips every byte of a file.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nnrun/checkpoint.h"

#define MAX_PARAMS (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nn_ckpt c, again;
    char err[512];
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (size >= 8 && size % 2) {
        const uint32_t crc = (uint32_t)crc32_z(0L, buf, size - 4);
        for (int i = 0; i < 4; i++) buf[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    err[0] = '\0';
    int rc = nn_ckpt_decode(buf, size, MAX_PARAMS, &c, err, sizeof err);
    free(buf);
    if (rc) {
        if (!err[0]) abort();   /* every refusal says why */
        return 0;
    }
    /* round trip through a file: the same header fields and arrays */
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_checkpoint.%ld.nnc", (long)getpid());
    if (nn_ckpt_write(path, &c, err, sizeof err)) abort();
    if (nn_ckpt_read(path, MAX_PARAMS, &again, err, sizeof err)) abort();
    unlink(path);
    const size_t bytes = (size_t)c.n_params * sizeof(float);
    if (again.kind != c.kind || again.n_params != c.n_params || again.n_state != c.n_state ||
        again.spec_hash != c.spec_hash || again.epoch != c.epoch || again.batch != c.batch ||
        again.n_input_ch != c.n_input_ch || memcmp(again.params, c.params, bytes) ||
        (c.n_input_ch && (memcmp(again.in_scale, c.in_scale, c.n_input_ch * sizeof(float)) ||
                          memcmp(again.in_shift, c.in_shift, c.n_input_ch * sizeof(float)))))
        abort();
    for (uint32_t a = 0; a < c.n_state; a++)
        if (memcmp(again.state[a], c.state[a], bytes)) abort();
    nn_ckpt_free(&c);
    nn_ckpt_free(&again);
    return 0;
}
