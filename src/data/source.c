/* source.c - the bounded byte source under the IDX and CSV readers (see
 * source.h): regular files only, never past their size at open, gzip
 * inflated on demand into the caller's buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnrun/util.h"
#include "source.h"

#define SRC_IN_CAP ((size_t)1 << 18)    /* gzip input buffer */
#define SRC_MAX_CALL ((size_t)1 << 30)  /* bytes per read() or inflate() call */

int nn_src_open(struct nn_src *s, const char *path, char *err, size_t n_err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    /* a regular file only, opened so that a FIFO without a writer cannot
     * hang it (see nn_open_regular) */
    char why[160];
    uint64_t size;
    s->fd = nn_open_regular(path, 0, &size, why, sizeof why);
    if (s->fd < 0) {
        snprintf(err, n_err, "%s: %s", path, why);
        return -1;
    }
    s->size = size;
    uint8_t magic[2];
    if (s->size >= 2 && pread(s->fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        s->gz = 1;
        s->in = malloc(SRC_IN_CAP);
        if (!s->in || inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
            snprintf(err, n_err, "%s: out of memory for the gzip stream", path);
            goto fail;
        }
        s->z_live = 1;
        s->in_cap = SRC_IN_CAP;
    }
    return 0;
fail:
    nn_src_close(s);
    return -1;
}

void nn_src_close(struct nn_src *s)
{
    if (s->z_live) inflateEnd(&s->z);
    free(s->in);
    if (s->fd >= 0) close(s->fd);
    s->z_live = 0;
    s->in = NULL;
    s->fd = -1;
}

/* read() of at most n bytes, never past s->size; 0 at the end (a file that
 * shrank ends where it is now), -1 on an error (state set). */
static ssize_t raw_read(struct nn_src *s, uint8_t *buf, size_t n)
{
    const uint64_t left = s->size - s->raw;
    if (n > left) n = (size_t)left;
    if (n > SRC_MAX_CALL) n = SRC_MAX_CALL;
    if (!n) return 0;
    for (;;) {
        ssize_t r = read(s->fd, buf, n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            s->state = NN_SRC_IO;
            s->err_no = errno;
            return -1;
        }
        if (r == 0) s->size = s->raw;
        s->raw += (uint64_t)r;
        return r;
    }
}

/* Tops up the gzip input buffer (keeping what is unread); -1 on an error. */
static int refill(struct nn_src *s)
{
    if (s->z.avail_in && s->z.next_in != s->in) memmove(s->in, s->z.next_in, s->z.avail_in);
    s->z.next_in = s->in;
    while (s->z.avail_in < s->in_cap && s->raw < s->size) {
        ssize_t r = raw_read(s, s->in + s->z.avail_in, s->in_cap - s->z.avail_in);
        if (r < 0) return -1;
        if (r == 0) break;
        s->z.avail_in += (unsigned)r;
    }
    return 0;
}

static size_t gz_read(struct nn_src *s, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (s->z.avail_in == 0 && refill(s)) break;
        const size_t chunk = n - got > SRC_MAX_CALL ? SRC_MAX_CALL : n - got;
        s->z.next_out = buf + got;
        s->z.avail_out = (unsigned)chunk;
        const unsigned in_before = s->z.avail_in;
        const int zr = inflate(&s->z, Z_NO_FLUSH);
        const size_t made = chunk - s->z.avail_out;
        got += made;
        if (zr == Z_STREAM_END) {
            /* another member, the end, or trailing bytes */
            if (s->z.avail_in < 2 && refill(s)) break;
            if (s->z.avail_in == 0) {
                s->state = NN_SRC_END;
                break;
            }
            if (s->z.avail_in >= 2 && s->z.next_in[0] == 0x1f && s->z.next_in[1] == 0x8b) {
                inflateReset(&s->z);
                continue;
            }
            s->state = NN_SRC_TRAILING;
            break;
        }
        if (zr == Z_MEM_ERROR) {
            s->state = NN_SRC_NOMEM;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {   /* Z_DATA_ERROR, Z_NEED_DICT, ... */
            s->state = NN_SRC_CORRUPT;
            s->msg = s->z.msg ? s->z.msg : "invalid data";
            break;
        }
        if (!made && s->z.avail_in == in_before) {   /* no progress: wants more input */
            if (s->raw < s->size && s->z.avail_in < s->in_cap) {
                if (refill(s)) break;
                continue;
            }
            s->state = NN_SRC_CUT;   /* no input left, and the stream is not over */
            break;
        }
    }
    return got;
}

size_t nn_src_read(struct nn_src *s, void *buf, size_t n)
{
    if (s->state != NN_SRC_OK || !n) return 0;
    size_t got = 0;
    if (s->gz) {
        got = gz_read(s, buf, n);
    } else {
        while (got < n) {
            ssize_t r = raw_read(s, (uint8_t *)buf + got, n - got);
            if (r <= 0) {
                if (r == 0) s->state = NN_SRC_END;
                break;
            }
            got += (size_t)r;
        }
    }
    s->out += got;
    return got;
}

const char *nn_src_why(const struct nn_src *s, char *buf, size_t n)
{
    switch (s->state) {
    case NN_SRC_IO: snprintf(buf, n, "read error: %s", strerror(s->err_no)); break;
    case NN_SRC_CORRUPT: snprintf(buf, n, "corrupt gzip stream: %s", s->msg); break;
    case NN_SRC_CUT:
        snprintf(buf, n, "truncated gzip stream (the compressed data ends early)");
        break;
    case NN_SRC_TRAILING:
        snprintf(buf, n, "trailing data after the gzip stream (at byte %llu of the file)",
                 (unsigned long long)(s->raw - s->z.avail_in));
        break;
    case NN_SRC_NOMEM: snprintf(buf, n, "out of memory in zlib"); break;
    default: snprintf(buf, n, "no error"); break;
    }
    return buf;
}

uint64_t nn_src_gzip_max_out(uint64_t size)
{
    return size > UINT64_MAX / 1032 ? UINT64_MAX : size * 1032 + 1024;
}

void nn_data_bytes_text(char *buf, size_t n, uint64_t bytes)
{
    const char *u[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    int i = 0;
    while (v >= 1024 && i < 6) v /= 1024, i++;
    if (i)
        snprintf(buf, n, "%llu bytes (%.1f %s)", (unsigned long long)bytes, v, u[i]);
    else
        snprintf(buf, n, "%llu bytes", (unsigned long long)bytes);
}
