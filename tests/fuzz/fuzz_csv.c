/* fuzz_csv.c - libFuzzer target: the CSV reader (src/data/csv.c) over the
 * bounded source (src/data/source.c), gzipped or plain.
 *
 * Input: two bytes of parameters, then the file.
 *   byte 0: bits 0-1 height - 1, bits 2-3 width - 1, bit 4 channels - 1,
 *           bit 5 header, bits 6-7 classes (0: no check, else 2, 4, 10);
 *   byte 1: bits 0-3 the label column (mod pixels + 2: one past the end is
 *           refused), bits 4-7 a memory limit of that many x 64 bytes (0: none).
 * The rest goes into a memfd_create file read through /proc/self/fd/N, so
 * nothing touches the disk; the reader sees gzip by its magic bytes.
 *
 * Per input:
 *   1. nn_csv_load without a limit; the message is always terminated and one
 *      line; an accepted set has the asked shape, n >= 1, labels < n_classes;
 *   2. an accepted set is written back as plain CSV and read again: the same
 *      samples and labels;
 *   3. nn_csv_load_max with the limit: NN_DATA_TOO_BIG only when the set
 *      takes more than the limit, and when it loads, the same set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memfile.h"
#include "nnrun/data.h"

static int fd_in = -1, fd_aux = -1;
static char path_in[64], path_aux[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fd_in = memfile_open("fuzz_csv_in", path_in, sizeof path_in);
    fd_aux = memfile_open("fuzz_csv_aux", path_aux, sizeof path_aux);
    return 0;
}

static void check_message(const char *err, size_t n)
{
    if (!memchr(err, '\0', n)) abort();   /* always terminated */
    if (strchr(err, '\n') || strchr(err, '\r')) abort();   /* one line */
    if (strncmp(err, path_in, strlen(path_in)) && strncmp(err, path_aux, strlen(path_aux)))
        abort();   /* names the file */
}

static int same(const struct nn_dataset *a, const struct nn_dataset *b, size_t pixels)
{
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c &&
           !memcmp(a->images, b->images, a->n * pixels) && !memcmp(a->labels, b->labels, a->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static const int class_choice[4] = {0, 2, 4, 10};
    const int h = 1 + (data[0] & 3), w = 1 + (data[0] >> 2 & 3), c = 1 + (data[0] >> 4 & 1);
    const int header = data[0] >> 5 & 1, classes = class_choice[data[0] >> 6];
    const size_t pixels = (size_t)h * (size_t)w * (size_t)c;
    const int label_column = (int)((data[1] & 15) % (pixels + 2));
    const uint64_t limit = (uint64_t)(data[1] >> 4) * 64;
    char err[512];
    memfile_put(fd_in, data + 2, size - 2);

    /* 1 */
    struct nn_dataset ds;
    int rc = nn_csv_load(&ds, path_in, label_column, header, h, w, c, classes, err, sizeof err);
    if (rc) {
        if (rc != -1 || ds.images || ds.labels || ds.n) abort();
        check_message(err, sizeof err);
    } else {
        if (ds.n < 1 || ds.h != h || ds.w != w || ds.c != c || ds.n_classes < classes) abort();
        for (size_t i = 0; i < ds.n; i++)
            if (ds.labels[i] >= ds.n_classes) abort();
        /* 2: written back, plain, the label in its column */
        size_t cap = ds.n * (pixels + 1) * 4 + 64, len = 0;
        char *text = malloc(cap);
        if (!text) abort();
        if (header) len += (size_t)snprintf(text, cap, "header\n");
        for (size_t i = 0; i < ds.n; i++) {
            for (size_t f = 0, p = 0; f <= pixels; f++) {
                int v = (int)f == label_column ? ds.labels[i] : ds.images[i * pixels + p++];
                len += (size_t)snprintf(text + len, cap - len, "%s%d", f ? "," : "", v);
            }
            text[len++] = '\n';
        }
        memfile_put(fd_aux, text, len);
        free(text);
        struct nn_dataset back;
        if (nn_csv_load(&back, path_aux, label_column, header, h, w, c, classes, err,
                        sizeof err)) {
            fprintf(stderr, "cannot read back what nn_csv_load accepted: %s\n", err);
            abort();
        }
        if (!same(&ds, &back, pixels)) {
            fprintf(stderr, "CSV round trip changed the data\n");
            abort();
        }
        nn_dataset_free(&back);
    }

    /* 3: the memory limit */
    if (limit) {
        struct nn_dataset lim;
        int r2 = nn_csv_load_max(&lim, path_in, label_column, header, h, w, c, classes, limit,
                                 err, sizeof err);
        if (r2 == NN_DATA_TOO_BIG) {
            check_message(err, sizeof err);
            if (!rc && ds.n * (pixels + 1) <= limit) abort();   /* it fitted */
        } else if (r2 == 0) {
            if (rc || !same(&ds, &lim, pixels) || ds.n * (pixels + 1) > limit) abort();
            nn_dataset_free(&lim);
        } else {
            check_message(err, sizeof err);
            if (!rc) abort();   /* the limit may only add NN_DATA_TOO_BIG */
        }
        if (r2 && (lim.images || lim.labels)) abort();
    }
    if (!rc) nn_dataset_free(&ds);
    return 0;
}
