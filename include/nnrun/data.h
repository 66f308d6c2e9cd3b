/* data.h - labelled image data sets read from IDX files (gzipped or not).
 *
 * Images are kept as bytes (one uint8 per pixel, NHWC order, sample-major),
 * so the 60,000 Fashion-MNIST training images take 47 MB; the trainer scales
 * them to floats batch by batch. Labels are one byte each.
 *
 * Runtime failures return -1 and write one line into err ("PATH: what is
 * wrong"); no partial data set is left allocated.
 *
 * Every reader is bounded on any input: only regular files are read (a
 * directory, FIFO, socket or device is refused when opened, without
 * blocking), never past the size the file had when it was opened; sizes a
 * header announces are checked against the file (and against the other file
 * and the memory limit) before anything is allocated or inflated; CSV lines
 * and fields have length caps.
 */
#ifndef NNRUN_DATA_H
#define NNRUN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "nnrun/spec.h"

struct nn_dataset {
    uint8_t *images;   /* n * h * w * c bytes */
    uint8_t *labels;   /* n bytes, each < n_classes */
    size_t n;          /* number of samples */
    int h, w, c;       /* per-sample shape; an IDX file of rank 3 has c = 1 */
    int n_classes;     /* 1 + the largest label seen (at least the spec's classes) */
    /* Standardization (data.standardize), per channel: an input is
     * byte * scale[ch] + shift[ch].  NULL (the default): byte / divide_by.
     * Owned by the data set (malloc'd, c floats each). */
    float *scale, *shift;
};

/* The four files of an MNIST-format data set. */
struct nn_data_paths {
    char train_images[NN_DATA_PATH_MAX], train_labels[NN_DATA_PATH_MAX];
    char test_images[NN_DATA_PATH_MAX], test_labels[NN_DATA_PATH_MAX];
};

/* Returned instead of -1 when a data set would pass the memory limit. */
#define NN_DATA_TOO_BIG (-2)

/* Reads an IDX file of unsigned bytes (magic 0x0801 for labels, 0x0803 for
 * images, or 0x0804 for rank-4 images), gzipped or plain.  On success *data
 * holds the payload (malloc'd), dims[0..*rank) the dimensions.  max_rank
 * bounds dims.  Refuses a wrong magic, a non-ubyte type, sizes over 4 GiB,
 * a plain file whose size is not header + payload (truncated, or trailing
 * data: told from the size, before reading), a gzip file too small to
 * inflate to what its header announces, a truncated or corrupt gzip stream
 * and bytes after the payload; at most 4 KiB past the announced payload is
 * ever inflated. */
int nn_idx_read(const char *path, uint8_t **data, int *rank, uint32_t *dims,
                int max_rank, char *err, size_t n_err);

/* Writes an IDX ubyte file (plain, or gzipped when the path ends in ".gz").
 * Used by tests and `nnrun predict` fixtures. */
int nn_idx_write(const char *path, const uint8_t *data, int rank,
                 const uint32_t *dims, char *err, size_t n_err);

/* Loads an images file and a labels file into ds; checks that the counts agree
 * and that every label is < n_classes (n_classes <= 0: no check).  Both
 * headers are read first: ranks, counts (which must agree), the shape (at
 * least one image, every dimension 1..INT_MAX) and the bytes of both
 * payloads against max_bytes (0: no limit) are checked before any payload
 * is read.  -1, or NN_DATA_TOO_BIG over max_bytes. */
int nn_dataset_load_max(struct nn_dataset *ds, const char *images_path,
                        const char *labels_path, int n_classes, uint64_t max_bytes,
                        char *err, size_t n_err);
/* nn_dataset_load_max without a memory limit. */
int nn_dataset_load(struct nn_dataset *ds, const char *images_path,
                    const char *labels_path, int n_classes, char *err,
                    size_t n_err);

/* Loads images without labels (`nnrun predict`): an IDX file of rank 3 or 4
 * with at least one image, every dimension 1..INT_MAX (a message gives the
 * header's numbers otherwise), its bytes at most max_bytes (0: no limit).
 * ds->labels are all 0.  -1, or NN_DATA_TOO_BIG. */
int nn_images_load(struct nn_dataset *ds, const char *path, uint64_t max_bytes, char *err,
                   size_t n_err);

/* Loads a CSV file of samples: one line per sample, a label column (label_column,
 * from 0) and h * w * c pixel columns (integers 0..255, NHWC order), comma
 * separated; the first line is skipped when header is set.  Blank lines are
 * skipped; a line ends at "\n", "\r\n" or a lone "\r"; the file may be
 * gzipped.  Errors name the file and line: a field that is not an integer, a
 * wrong column count (reported as soon as a line has one field too many), a
 * field over NN_CSV_MAX_FIELD characters, a header line over
 * NN_CSV_MAX_HEADER(cols) bytes, more than a line's worth plus 1 MiB of
 * blank lines and spaces between two samples, a pixel outside 0..255, a label outside
 * n_classes (n_classes <= 0: no check); an empty file and a file of only a
 * header are told apart.  The images grow as samples arrive; passing
 * max_bytes (0: only the 4 GiB cap) is NN_DATA_TOO_BIG. */
#define NN_CSV_MAX_FIELD 64
#define NN_CSV_MAX_HEADER(cols) (4096 + 32 * (uint64_t)(cols))
int nn_csv_load_max(struct nn_dataset *ds, const char *path, int label_column, int header,
                    int h, int w, int c, int n_classes, uint64_t max_bytes, char *err,
                    size_t n_err);
/* nn_csv_load_max without a memory limit. */
int nn_csv_load(struct nn_dataset *ds, const char *path, int label_column, int header,
                int h, int w, int c, int n_classes, char *err, size_t n_err);

/* Per-channel mean and standard deviation of the inputs byte / divide_by
 * over all of ds (mean[c], std[c] for c < ds->c).  Exact integer sums, so
 * the result depends on the bytes only.  std is the population standard
 * deviation, at least 1e-7 (Keras' Normalization floors it the same way). */
void nn_dataset_channel_stats(const struct nn_dataset *ds, double divide_by, double *mean,
                              double *std);

/* Sets ds->scale, ds->shift so that inputs become (byte / divide_by - mean[ch]) / std[ch]. */
void nn_dataset_standardize(struct nn_dataset *ds, double divide_by, const double *mean,
                            const double *std);

/* Keeps only the first n samples (no-op when n == 0 or n >= ds->n). */
void nn_dataset_truncate(struct nn_dataset *ds, size_t n);

/* Moves samples [n, ds->n) into tail (a new data set) and keeps the first n
 * in ds: the validation split.  tail is empty when n >= ds->n. */
void nn_dataset_split(struct nn_dataset *ds, struct nn_dataset *tail, size_t n);
void nn_dataset_free(struct nn_dataset *ds);

/* Finds Fashion-MNIST: $NNRUN_DATA, then data/fashion-mnist/ (relative to the
 * working directory), then /usr/share/datasets/fashion-mnist/.  A directory
 * counts when it holds the four files train-images-idx3-ubyte.gz,
 * train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
 * t10k-labels-idx1-ubyte.gz (or the same names without .gz).  On failure err
 * lists every place looked in and names the Debian package to install. */
/* The name of class k: Fashion-MNIST's ("T-shirt/top", ..., "Ankle boot")
 * when dataset is "fashion_mnist", else the number written into buf. */
const char *nn_class_name(const char *dataset, int k, char *buf, size_t n);

int nn_fashion_mnist_find(struct nn_data_paths *paths, char *err, size_t n_err);

#endif
