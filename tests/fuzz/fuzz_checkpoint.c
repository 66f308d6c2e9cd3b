/* fuzz_checkpoint.c - libFuzzer target: the checkpoint and weights decoder
 * (src/run/checkpoint.c).  Every input goes through nn_ckpt_decode with a
 * parameter bound (as nnrun loads a file for a known model); an accepted
 * file must encode back to the same contents (the zlib stream may compress
 * differently, so it is decoded again and compared).
 *
 * The CRC-32 at the end would stop almost every mutation at the checksum, so
 * odd-length inputs get a correct CRC patched in first: the fuzzer then
 * reaches the header checks and zlib.  (Refusals by checksum are covered by
 * tests/test_run.c, which flips every byte of a file.)
 *
 * The same bytes are also read as a file, through an in-memory file
 * (memfd_create, /proc/self/fd/N): nn_ckpt_read checks the header against
 * the file's size before it reads the payload, and must agree with
 * nn_ckpt_decode on every input (accept what it accepts, refuse what it
 * refuses), as must nn_ckpt_read_header where decode accepts.  An accepted
 * state goes through nn_ckpt_check_position with a run made from the input's
 * last bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "memfile.h"
#include "nnrun/checkpoint.h"

#define MAX_PARAMS (1u << 20)

static int fd_in = -1;
static char path_in[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fd_in = memfile_open("fuzz_checkpoint_in", path_in, sizeof path_in);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nn_ckpt c, again, head;
    char err[512];
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (size >= 8 && size % 2) {
        const uint32_t crc = (uint32_t)crc32_z(0L, buf, size - 4);
        for (int i = 0; i < 4; i++) buf[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    err[0] = '\0';
    int rc = nn_ckpt_decode(buf, size, MAX_PARAMS, &c, err, sizeof err);
    /* the bounded file reader agrees with the decoder */
    memfile_put(fd_in, buf, size);
    free(buf);
    char ferr[1024] = "";
    const int frc = nn_ckpt_read(path_in, MAX_PARAMS, &again, ferr, sizeof ferr);
    if (frc != rc || (frc && strncmp(ferr, path_in, strlen(path_in)))) abort();
    if (!frc) nn_ckpt_free(&again);
    if (!rc && (nn_ckpt_read_header(path_in, MAX_PARAMS, &head, ferr, sizeof ferr) ||
                head.params || head.n_params != c.n_params || head.spec_hash != c.spec_hash ||
                head.step != c.step))
        abort();
    if (rc) {
        if (!err[0]) abort();   /* every refusal says why */
        return 0;
    }
    if (size >= 12) {   /* a run to resume: epochs, batches, batch size from the last bytes */
        const uint8_t *t = data + size - 12;
        err[0] = '\0';
        if (nn_ckpt_check_position(&c, 1 + t[0] % 200, 1 + (t[1] | t[2] << 8), 1 + t[3] % 128,
                                   err, sizeof err) &&
            !err[0])
            abort();
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
