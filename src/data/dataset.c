/* dataset.c - where Fashion-MNIST is looked for, in order:
 * $NNRUN_DATA, data/fashion-mnist/ (from the working directory), then
 * /usr/share/datasets/fashion-mnist/ (Debian's dataset-fashion-mnist). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnrun/data.h"

static const char *const files[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* Fills out[4] with the files in dir (NAME.gz, or NAME); returns the index
 * of the first missing file, or -1 when all four are there. */
static int probe(const char *dir, char out[4][1024])
{
    for (int i = 0; i < 4; i++) {
        snprintf(out[i], 1024, "%s/%s.gz", dir, files[i]);
        if (access(out[i], R_OK) == 0) continue;
        snprintf(out[i], 1024, "%s/%s", dir, files[i]);
        if (access(out[i], R_OK) != 0) return i;
    }
    return -1;
}

int nn_fashion_mnist_find(struct nn_data_paths *paths, char *err, size_t n_err)
{
    const char *dirs[3];
    int n = 0;
    const char *env = getenv("NNRUN_DATA");
    if (env && *env) dirs[n++] = env;
    dirs[n++] = "data/fashion-mnist";
    dirs[n++] = "/usr/share/datasets/fashion-mnist";
    size_t used = (size_t)snprintf(err, n_err, "Fashion-MNIST not found; looked in:");
    for (int d = 0; d < n; d++) {
        char found[4][1024];
        int missing = probe(dirs[d], found);
        if (missing < 0) {
            memcpy(paths->train_images, found[0], sizeof paths->train_images);
            memcpy(paths->train_labels, found[1], sizeof paths->train_labels);
            memcpy(paths->test_images, found[2], sizeof paths->test_images);
            memcpy(paths->test_labels, found[3], sizeof paths->test_labels);
            err[0] = '\0';
            return 0;
        }
        if (used < n_err)
            used += (size_t)snprintf(err + used, n_err - used, "\n  %s%s (no %s.gz)", dirs[d],
                                     d == 0 && env && *env ? " ($NNRUN_DATA)" : "",
                                     files[missing]);
    }
    if (used < n_err)
        snprintf(err + used, n_err - used,
                 "\ninstall Debian's package dataset-fashion-mnist (apt-get install "
                 "dataset-fashion-mnist), run data/fetch-fashion-mnist.sh, or set NNRUN_DATA "
                 "to a directory holding the four IDX files");
    return -1;
}
