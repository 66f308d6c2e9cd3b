/* file.c - bounded whole-file reads, atomic writes, mkdir -p. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnrun/util.h"

int nn_write_file_atomic(const char *path, const void *data, size_t n, char *err,
                         size_t n_err)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        snprintf(err, n_err, "%s: path too long", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, n_err, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(err, n_err, "%s: write failed: %s", tmp, w < 0 ? strerror(errno) : "no space");
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) || close(fd)) {
        snprintf(err, n_err, "%s: cannot flush to disk: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path)) {
        snprintf(err, n_err, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* What a file that is not a regular one is, for messages. */
static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

int nn_open_regular(const char *path, uint64_t max, uint64_t *size, char *err, size_t n_err)
{
    /* O_NONBLOCK: opening a FIFO with no writer (or a tty) returns at once
     * instead of waiting; the file is refused below anyway */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, n_err, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        snprintf(err, n_err, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, n_err, "is %s, not a regular file", file_kind(st.st_mode));
        close(fd);
        return -1;
    }
    if (st.st_size < 0 || (max && (uint64_t)st.st_size > max)) {
        snprintf(err, n_err, "is %lld bytes, more than the %llu this file may have",
                 (long long)st.st_size, (unsigned long long)max);
        close(fd);
        return -1;
    }
    /* back to blocking reads: a regular file never blocks, but a read of
     * one with O_NONBLOCK may fail with EAGAIN on some file systems */
    const int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *size = (uint64_t)st.st_size;
    return fd;
}

int nn_read_full(int fd, void *buf, size_t n, char *err, size_t n_err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, n_err, "read error: %s", strerror(errno));
            return -1;
        }
        if (r == 0) {
            snprintf(err, n_err, "changed while being read: %zu bytes instead of %zu", got, n);
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

uint8_t *nn_read_file_max(const char *path, size_t max, size_t *len, char *err, size_t n_err)
{
    uint64_t size;
    int fd = nn_open_regular(path, max ? max : NN_READ_FILE_MAX, &size, err, n_err);
    if (fd < 0) return NULL;
    /* the size seen at open, no more: a file that grows meanwhile is caught below */
    uint8_t *buf = size < SIZE_MAX ? malloc((size_t)size + 1) : NULL;
    if (!buf) {
        snprintf(err, n_err, "out of memory for %llu bytes", (unsigned long long)size);
        close(fd);
        return NULL;
    }
    struct stat st;
    int bad = nn_read_full(fd, buf, (size_t)size, err, n_err);
    if (!bad && (fstat(fd, &st) || (uint64_t)st.st_size != size)) {
        snprintf(err, n_err, "changed while being read: %llu bytes at open, %lld now",
                 (unsigned long long)size, (long long)st.st_size);
        bad = 1;
    }
    close(fd);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

uint8_t *nn_read_file(const char *path, size_t *len, char *err, size_t n_err)
{
    return nn_read_file_max(path, NN_READ_FILE_MAX, len, err, n_err);
}

int nn_mkdirs(const char *path, char *err, size_t n_err)
{
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p) {
        snprintf(err, n_err, "%s: path too long", path);
        return -1;
    }
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s) continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) && errno != EEXIST) {
            snprintf(err, n_err, "%s: cannot create directory: %s", p, strerror(errno));
            return -1;
        }
        *s = c;
        if (!c) break;
    }
    struct stat st;
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, n_err, "%s: exists and is not a directory", path);
        return -1;
    }
    return 0;
}

void nn_json_string(FILE *f, const char *t)
{
    fputc('"', f);
    for (; *t; t++) {
        unsigned char c = (unsigned char)*t;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}
