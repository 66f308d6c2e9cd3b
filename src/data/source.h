/* source.h - a bounded byte source for the data readers (IDX and CSV), plain
 * or gzipped.  Internal to src/data/.
 *
 * What it guarantees, whatever the path names:
 *   - only a regular file is read: a directory, FIFO, socket or device is
 *     refused at open, by fstat after an O_NONBLOCK open (so a FIFO nobody
 *     writes to cannot block), with a message naming the file and its kind;
 *   - no byte past the size the file had when it was opened is read, so a
 *     file that grows while being read ends where it ended then;
 *   - a gzip file (magic 1f 8b) is inflated only as far as the caller asks,
 *     into the caller's buffer: nothing is decompressed ahead of need, so a
 *     reader that checks sizes first never inflates more than it declared
 *     plus its own small look-ahead.  Members concatenated by gzip are read
 *     in turn, as gzread does; bytes after the last member that do not start
 *     another member are reported as trailing data (gzread ignores them).
 */
#ifndef NNRUN_DATA_SOURCE_H
#define NNRUN_DATA_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

enum nn_src_state {
    NN_SRC_OK,        /* more may follow */
    NN_SRC_END,       /* the data ended cleanly (end of file, or of the last gzip member) */
    NN_SRC_IO,        /* a read error: errno in err_no */
    NN_SRC_CORRUPT,   /* zlib refused the stream: zlib's text in msg */
    NN_SRC_CUT,       /* the compressed stream ends before its end (or its checksum) */
    NN_SRC_TRAILING,  /* bytes after the last gzip member that are not another member */
    NN_SRC_NOMEM,
};

struct nn_src {
    const char *path;
    int fd;
    uint64_t size;        /* the file's size at open: the most ever read */
    uint64_t raw;         /* bytes read from the file so far */
    uint64_t out;         /* bytes handed to the caller so far */
    int gz;               /* 1: gzip */
    int state;            /* enum nn_src_state */
    int err_no;
    const char *msg;      /* zlib's message for NN_SRC_CORRUPT */
    z_stream z;
    int z_live;
    uint8_t *in;          /* gzip input buffer */
    size_t in_cap;
};

/* Opens path for reading.  0, or -1 with "PATH: why" in err (missing,
 * unreadable, not a regular file, out of memory). */
int nn_src_open(struct nn_src *s, const char *path, char *err, size_t n_err);

/* Reads up to n bytes into buf; returns the count.  Short only when the
 * data ended or failed: s->state then says which. */
size_t nn_src_read(struct nn_src *s, void *buf, size_t n);

/* "read error: ...", "corrupt gzip stream: ...", ... for s->state (not
 * NN_SRC_OK or NN_SRC_END), without the path. */
const char *nn_src_why(const struct nn_src *s, char *buf, size_t n);

void nn_src_close(struct nn_src *s);

/* The most bytes a gzip file of `size` bytes can inflate to: deflate
 * expands at most 1032:1 (zlib's FAQ), members add only overhead. */
uint64_t nn_src_gzip_max_out(uint64_t size);

/* A byte count as "47040000 bytes (44.9 MiB)". */
void nn_data_bytes_text(char *buf, size_t n, uint64_t bytes);

#endif
