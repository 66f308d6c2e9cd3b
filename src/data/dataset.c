/* dataset.c - where Fashion-MNIST is looked for, in order:
 * $NNRUN_DATA, data/fashion-mnist/ (from the working directory), then
 * /usr/share/datasets/fashion-mnist/ (Debian's package dataset-fashion-mnist).
 * Each file may be gzipped (NAME.gz, preferred) or plain (NAME). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnrun/data.h"

#define NN_PATH_MAX NN_DATA_PATH_MAX   /* the size of the fields of struct nn_data_paths */

static const char *const nn_fmnist_files[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
};

static const char nn_fmnist_hint[] =
    "install Debian's package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), "
    "run data/fetch-fashion-mnist.sh, or set NNRUN_DATA";

static int readable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* Fills out[4] with the files in dir.  Returns 1 when all four are there;
 * otherwise 0, with what is wrong with dir appended to note[0..n_note). */
static int probe(const char *dir, char out[4][NN_PATH_MAX], char *note, size_t n_note)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(note, n_note, "no such directory");
        return 0;
    }
    int missing[4], n_missing = 0, too_long = 0, odd = -1;   /* odd: there, not a file */
    for (int i = 0; i < 4; i++) {
        int n = snprintf(out[i], NN_PATH_MAX, "%s/%s.gz", dir, nn_fmnist_files[i]);
        if (n < 0 || n >= NN_PATH_MAX) {
            too_long = 1;
            break;
        }
        if (readable_file(out[i])) continue;
        if (stat(out[i], &st) == 0 && !S_ISREG(st.st_mode)) odd = i;
        snprintf(out[i], NN_PATH_MAX, "%s/%s", dir, nn_fmnist_files[i]);
        if (readable_file(out[i])) continue;
        if (stat(out[i], &st) == 0 && !S_ISREG(st.st_mode)) odd = i;
        missing[n_missing++] = i;
    }
    if (too_long) {
        snprintf(note, n_note, "path too long");
        return 0;
    }
    if (n_missing == 0) return 1;
    if (odd >= 0) {   /* a directory, FIFO or device by a data file's name */
        snprintf(note, n_note, "%s[.gz] is not a regular file", nn_fmnist_files[odd]);
        return 0;
    }
    if (n_missing == 4) {
        snprintf(note, n_note, "none of the four files");
        return 0;
    }
    size_t used = (size_t)snprintf(note, n_note, "missing");
    for (int k = 0; k < n_missing && used < n_note; k++)
        used += (size_t)snprintf(note + used, n_note - used, "%s %s[.gz]", k ? "," : "",
                                 nn_fmnist_files[missing[k]]);
    return 0;
}

const char *nn_class_name(const char *dataset, int k, char *buf, size_t n)
{
    static const char *const fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                            "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                            "Ankle boot"};
    if (dataset && !strcmp(dataset, "fashion_mnist") && k >= 0 && k < 10) return fashion[k];
    snprintf(buf, n, "%d", k);
    return buf;
}

int nn_fashion_mnist_find(struct nn_data_paths *paths, char *err, size_t n_err)
{
    const char *dirs[3], *labels[3];
    int n = 0;
    const char *env = getenv("NNRUN_DATA");
    if (env && *env) {
        labels[n] = "$NNRUN_DATA";
        dirs[n++] = env;
    }
    labels[n] = NULL;
    dirs[n++] = "data/fashion-mnist";
    labels[n] = NULL;
    dirs[n++] = "/usr/share/datasets/fashion-mnist";

    /* the places looked in, kept short enough that the hint always fits */
    char looked[1536];
    size_t used = 0;
    looked[0] = '\0';
    for (int d = 0; d < n; d++) {
        char found[4][NN_PATH_MAX], note[256];
        if (probe(dirs[d], found, note, sizeof note)) {
            memcpy(paths->train_images, found[0], sizeof paths->train_images);
            memcpy(paths->train_labels, found[1], sizeof paths->train_labels);
            memcpy(paths->test_images, found[2], sizeof paths->test_images);
            memcpy(paths->test_labels, found[3], sizeof paths->test_labels);
            if (n_err) err[0] = '\0';
            return 0;
        }
        if (used < sizeof looked)
            used += (size_t)snprintf(looked + used, sizeof looked - used, "%s%.300s (%s%s%s)",
                                     d ? ", " : "", dirs[d], labels[d] ? labels[d] : "",
                                     labels[d] ? ": " : "", note);
    }
    /* one line: "not found; looked in A (why), B (why), C (why); install ..." */
    static const char head[] = "Fashion-MNIST not found; looked in ";
    size_t room = n_err > sizeof head + sizeof nn_fmnist_hint + 2
                      ? n_err - sizeof head - sizeof nn_fmnist_hint - 2
                      : 0;
    if (room >= strlen(looked))
        snprintf(err, n_err, "%s%s; %s", head, looked, nn_fmnist_hint);
    else if (room > 3)
        snprintf(err, n_err, "%s%.*s...; %s", head, (int)(room - 3), looked, nn_fmnist_hint);
    else
        snprintf(err, n_err, "Fashion-MNIST not found; %s", nn_fmnist_hint);
    return -1;
}
