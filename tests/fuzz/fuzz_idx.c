/* fuzz_idx.c - libFuzzer target: the IDX reader (src/data/idx.c), gzipped
 * or plain, and the data set loader on top of it.
 *
 * nn_idx_read only takes a path, so the input is written to an in-memory
 * file (memfd_create) and read back through /proc/self/fd/N; nothing is
 * written to disk.  zlib's gzread decides gzip or plain from the magic bytes.
 *
 * Per input:
 *   1. nn_idx_read of the input (room for every rank the format allows);
 *   2. when it reads, the payload is written back with nn_idx_write and read
 *      again; the dimensions and bytes must match (small payloads only);
 *   3. nn_dataset_load with the input as the images file and a labels file
 *      made to fit (its count, labels from the pixels), or, when the input
 *      is of rank 1, as the labels file next to matching 1x1 images; then
 *      nn_dataset_truncate. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memfile.h"
#include "nnrun/data.h"

#define MAX_RANK 255
#define ROUNDTRIP_MAX ((size_t)1 << 20)
#define COMPANION_MAX ((uint32_t)1 << 20)

static int fd_in = -1, fd_aux = -1;
static char path_in[64], path_aux[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fd_in = memfile_open("fuzz_idx_in", path_in, sizeof path_in);
    fd_aux = memfile_open("fuzz_idx_aux", path_aux, sizeof path_aux);
    return 0;
}

static size_t payload_bytes(const uint32_t *dims, int rank)
{
    size_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];   /* bounded: the reader accepted it */
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    uint8_t *buf;
    int rank;
    uint32_t dims[MAX_RANK];

    memfile_put(fd_in, data, size);
    if (nn_idx_read(path_in, &buf, &rank, dims, MAX_RANK, err, sizeof err)) {
        if (!memchr(err, '\0', sizeof err)) abort();   /* the message is always terminated */
        return 0;
    }
    if (rank < 1 || rank > MAX_RANK) abort();
    size_t total = payload_bytes(dims, rank);

    /* 2: write it back (plain) and read it again */
    if (total <= ROUNDTRIP_MAX) {
        if (ftruncate(fd_aux, 0) != 0) abort();
        if (nn_idx_write(path_aux, buf, rank, dims, err, sizeof err)) {
            fprintf(stderr, "nn_idx_write failed on what nn_idx_read accepted: %s\n", err);
            abort();
        }
        uint8_t *buf2;
        int rank2;
        uint32_t dims2[MAX_RANK];
        if (nn_idx_read(path_aux, &buf2, &rank2, dims2, MAX_RANK, err, sizeof err)) {
            fprintf(stderr, "cannot read back what nn_idx_write wrote: %s\n", err);
            abort();
        }
        if (rank2 != rank || memcmp(dims, dims2, sizeof *dims * (size_t)rank) ||
            (total && memcmp(buf, buf2, total))) {
            fprintf(stderr, "IDX round trip changed the data\n");
            abort();
        }
        free(buf2);
    }

    /* 3: the data set loader, with a companion file made to fit */
    struct nn_dataset ds;
    if ((rank == 3 || rank == 4) && dims[0] <= COMPANION_MAX) {
        uint8_t *labels = malloc(dims[0] ? dims[0] : 1);
        if (!labels) abort();
        size_t sample = dims[0] ? total / dims[0] : 0;
        for (uint32_t i = 0; i < dims[0]; i++) labels[i] = sample ? buf[(size_t)i * sample] : 0;
        uint32_t ldims[1] = {dims[0]};
        if (ftruncate(fd_aux, 0) != 0) abort();
        if (nn_idx_write(path_aux, labels, 1, ldims, err, sizeof err)) abort();
        free(labels);
        int classes = size ? data[size - 1] % 12 : 0;   /* 0: no check; else 1..11 */
        if (nn_dataset_load(&ds, path_in, path_aux, classes, err, sizeof err) == 0) {
            if (ds.n != dims[0] || ds.h < 1 || ds.w < 1 || ds.c < 1) abort();
            for (size_t i = 0; i < ds.n; i++)
                if (ds.labels[i] >= ds.n_classes) abort();
            nn_dataset_truncate(&ds, ds.n / 2);
            nn_dataset_free(&ds);
        }
    } else if (rank == 1 && dims[0] <= COMPANION_MAX) {
        uint8_t *images = calloc(dims[0] ? dims[0] : 1, 1);
        if (!images) abort();
        uint32_t idims[3] = {dims[0], 1, 1};
        if (ftruncate(fd_aux, 0) != 0) abort();
        if (nn_idx_write(path_aux, images, 3, idims, err, sizeof err)) abort();
        free(images);
        if (nn_dataset_load(&ds, path_aux, path_in, 10, err, sizeof err) == 0) {
            nn_dataset_truncate(&ds, 1);
            nn_dataset_free(&ds);
        }
    }
    free(buf);
    return 0;
}
