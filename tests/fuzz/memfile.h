/* memfile.h - an in-memory file for the fuzz targets: memfd_create, read
 * back through /proc/self/fd/N, so a target exercises the real file readers
 * (open, fstat, read) without touching the disk.  Header-only: each target
 * is its own program. */
#ifndef NNRUN_FUZZ_MEMFILE_H
#define NNRUN_FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* A new memfd named name; its /proc path goes to path[n].  Aborts on failure. */
static inline int memfile_open(const char *name, char *path, size_t n)
{
    int fd = memfd_create(name, 0);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(path, n, "/proc/self/fd/%d", fd);
    return fd;
}

/* The file's content becomes data[0..size). */
static inline void memfile_put(int fd, const void *data, size_t size)
{
    if (ftruncate(fd, 0) != 0) abort();
    for (size_t off = 0; off < size;) {
        ssize_t w = pwrite(fd, (const uint8_t *)data + off, size - off, (off_t)off);
        if (w <= 0) abort();
        off += (size_t)w;
    }
}

#endif
