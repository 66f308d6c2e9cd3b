/* parallel.h - a small persistent thread pool.
 *
 * nn_pool_for splits [0, n) into chunks of `grain` items (the last one
 * shorter): the chunks depend on n and grain only, never on the number of
 * threads, and each chunk is run by exactly one thread.  A kernel that writes
 * each output element from one chunk, with any reduction inside the chunk in
 * a fixed order, therefore gives bit-identical results at any thread count.
 */
#ifndef NNRUN_PARALLEL_H
#define NNRUN_PARALLEL_H

#include <stddef.h>

struct nn_pool;

typedef void (*nn_task_fn)(void *ctx, size_t begin, size_t end);

/* n_threads <= 0: one per online CPU.  The calling thread is one of them. */
struct nn_pool *nn_pool_create(int n_threads);
void nn_pool_free(struct nn_pool *p);
int nn_pool_threads(const struct nn_pool *p);
/* Runs fn over [0, n) in chunks of grain; returns when all are done.
 * p may be NULL (runs inline). */
void nn_pool_for(struct nn_pool *p, size_t n, size_t grain, nn_task_fn fn, void *ctx);
/* Index of the calling thread within the pool running it: 0 for the thread
 * that called nn_pool_for, 1..n_threads-1 for the workers.  Lets a task pick
 * per-thread buffers. */
int nn_pool_thread(void);
/* Number of online CPUs. */
int nn_cpu_count(void);

#endif
