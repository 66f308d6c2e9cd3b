/* util.h - allocation that cannot fail silently, and a seeded random stream. */
#ifndef NNRUN_UTIL_H
#define NNRUN_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* Programmer-error check, always on: prints file:line and aborts. */
#define NN_ASSERT(x)                                                          \
    do {                                                                      \
        if (!(x)) nn_assert_fail(__FILE__, __LINE__, #x);                     \
    } while (0)
_Noreturn void nn_assert_fail(const char *file, int line, const char *expr);

/* malloc/calloc/realloc/strdup that abort with a message when memory runs out.
 * Used for build-time objects; large blocks are planned and checked first. */
void *nn_xmalloc(size_t n);
void *nn_xcalloc(size_t n, size_t size);
void *nn_xrealloc(void *p, size_t n);
char *nn_xstrdup(const char *s);
/* 64-byte aligned, zeroed block for tensors (free with free()); NULL on failure. */
float *nn_alloc_floats(size_t n);

/* a * b, or SIZE_MAX when it overflows (then stays SIZE_MAX). */
size_t nn_mul_size(size_t a, size_t b);
size_t nn_add_size(size_t a, size_t b);

/* ---- random numbers -------------------------------------------------------
 * A counter-based generator: every draw is a function of (seed, stream,
 * index), so a value does not depend on which thread draws it or in what
 * order.  nn_rng is a sequential convenience on top of it. */
/* splitmix64's finalizer: a bijective mix of all 64 bits (inline: dropout
 * draws one value per element) */
static inline uint64_t nn_hash64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}
static inline uint64_t nn_rand_at(uint64_t seed, uint64_t stream, uint64_t i)
{
    return nn_hash64(seed ^ nn_hash64(stream * 0x9E3779B97F4A7C15ULL + i));
}
/* uniform in [0, 1) with 24 random bits */
static inline float nn_unit_float(uint64_t r) { return (float)(r >> 40) * (1.0f / 16777216.0f); }

struct nn_rng {
    uint64_t seed, stream, i;
};
void nn_rng_init(struct nn_rng *r, uint64_t seed, uint64_t stream);
uint64_t nn_rng_next(struct nn_rng *r);
float nn_rng_uniform(struct nn_rng *r, float lo, float hi);
double nn_rng_normal(struct nn_rng *r);                 /* standard normal */
uint64_t nn_rng_below(struct nn_rng *r, uint64_t n);    /* uniform in [0, n) */

/* ---- files (src/util/file.c) ----------------------------------------------
 * nnrun never leaves a half-written file: data goes to a temporary name in
 * the same directory, is flushed to disk, then renamed over path. */
int nn_write_file_atomic(const char *path, const void *data, size_t n, char *err,
                         size_t n_err);
/* Bounded reads.  Every reader of a file nnrun did not just write (run
 * records, weights, checkpoints, specs of a run directory) opens it with
 * nn_open_regular: O_NONBLOCK, so a FIFO without a writer cannot hang the
 * open, then fstat, and anything but a regular file (a directory, a FIFO,
 * /dev/zero, a socket) is refused, as is one larger than max bytes (0: no
 * bound).  Returns the descriptor (blocking again) with the size seen now
 * in *size, or -1.  err gets the reason without the path ("is a FIFO (named
 * pipe), not a regular file"): callers put the path in front. */
int nn_open_regular(const char *path, uint64_t max, uint64_t *size, char *err, size_t n_err);
/* Exactly n bytes from fd; a short file ("changed while being read") or a
 * read error is -1 with err. */
int nn_read_full(int fd, void *buf, size_t n, char *err, size_t n_err);
/* The whole of a regular file of at most max bytes (0: NN_READ_FILE_MAX),
 * malloc'd (plus a terminating NUL not counted in *len): the size seen at
 * open is allocated and read, no more, and a file whose size changed
 * meanwhile is refused.  NULL with the reason in err (no path, as above). */
#define NN_READ_FILE_MAX ((size_t)64 << 20)
uint8_t *nn_read_file_max(const char *path, size_t max, size_t *len, char *err, size_t n_err);
/* nn_read_file_max(path, NN_READ_FILE_MAX, ...) */
uint8_t *nn_read_file(const char *path, size_t *len, char *err, size_t n_err);
/* Caps of the run record's text files (a resolved spec is capped as a
 * spec given on the command line is, src/spec/yaml.c). */
#define NN_SPEC_FILE_MAX ((size_t)16 << 20)
#define NN_RESULTS_FILE_MAX ((size_t)16 << 20)
#define NN_METRICS_FILE_MAX ((size_t)256 << 20)
#define NN_METRICS_LINE_MAX 4096
#define NN_METRICS_ROWS_MAX 1000000   /* train.epochs is at most 1e6 */
/* mkdir -p; 0 or -1 with err. */
int nn_mkdirs(const char *path, char *err, size_t n_err);

/* ---- run directories ------------------------------------------------------
 * A directory belongs to the one process whose mkdir(2) created it. */
/* Creates base's parents (mkdir -p), then base itself, made and locked
 * (flock) under a hidden name .NAME.claim.PID and renamed to base with
 * renameat2(RENAME_NOREPLACE), so that no other process ever sees it
 * unlocked; if base exists, base-2, base-3, ... up to base-9999.  out gets
 * the name claimed, *lock_fd the lock.  0: base; 1: another name; -1 with
 * err. */
int nn_claim_dir(const char *base, char *out, size_t n_out, int *lock_fd, char *err,
                 size_t n_err);
/* A fresh staging directory .NAME.new.PID beside path (NAME: path's last
 * component), for a record that is to replace path; stale ones (of
 * processes that are gone) are removed first.  0 or -1 with err. */
int nn_claim_staging(const char *path, char *out, size_t n_out, char *err, size_t n_err);
/* Puts directory fresh in the place of directory old, then removes the
 * old one: one renameat2(RENAME_EXCHANGE), so that old's name always holds
 * one complete directory; where the file system cannot exchange, old is
 * renamed aside to .NAME.old.PID and fresh renamed in (old's name is then
 * absent for that moment).  0, or -1 with err and both left as they were. */
int nn_dir_replace(const char *fresh, const char *old, char *err, size_t n_err);
/* rm -r path (not following symbolic links); 0 or -1. */
int nn_remove_tree(const char *path);
/* An exclusive flock(2) on directory dir, held while the returned fd stays
 * open; -1 with errno EBUSY when another process holds it. */
int nn_dir_lock(const char *dir);
/* Whether name is NAME.tmp.PID, an atomic write's temporary file (NAME
 * not empty, PID digits). */
int nn_is_tmp_name(const char *name);
/* Removes the temporary files NAME.tmp.PID that an atomic write killed
 * before its rename left in dir; returns how many. */
int nn_remove_stale_tmp(const char *dir);

/* t as a JSON string, quotes and escapes included, bytes that are not
 * UTF-8 as U+FFFD: valid JSON whatever t holds (src/util/file.c). */
void nn_json_string(FILE *f, const char *t);
/* v with printf format fmt, or null when v is NaN or infinite (JSON has
 * no such numbers). */
void nn_json_number(FILE *f, const char *fmt, double v);

/* Monotonic wall clock in seconds. */
double nn_now(void);

#endif
