/* parallel.c - a persistent pthread pool running chunked loops.
 *
 * Chunks are handed out through an atomic counter; which thread runs a chunk
 * varies, what a chunk computes does not (see parallel.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "nnrun/parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "nnrun/util.h"

struct nn_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    unsigned long generation;   /* bumped for each job */
    int busy;                   /* workers still in the current job */
    int quit;
    /* the current job */
    nn_task_fn fn;
    void *ctx;
    size_t n, grain, n_chunks;
    atomic_size_t next;
};

int nn_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void run_chunks(struct nn_pool *p)
{
    for (;;) {
        size_t c = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (c >= p->n_chunks) break;
        size_t b = c * p->grain, e = b + p->grain;
        p->fn(p->ctx, b, e < p->n ? e : p->n);
    }
}

static void *worker(void *arg)
{
    struct nn_pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->start, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_chunks(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct nn_pool *nn_pool_create(int n_threads)
{
    if (n_threads <= 0) n_threads = nn_cpu_count();
    struct nn_pool *p = nn_xcalloc(1, sizeof *p);
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = nn_xcalloc((size_t)n_threads, sizeof *p->threads);
    for (int i = 1; i < n_threads; i++)
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            p->n_threads = i;   /* run with what we got */
            break;
        }
    return p;
}

void nn_pool_free(struct nn_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int nn_pool_threads(const struct nn_pool *p) { return p ? p->n_threads : 1; }

void nn_pool_for(struct nn_pool *p, size_t n, size_t grain, nn_task_fn fn, void *ctx)
{
    if (n == 0) return;
    if (grain == 0) grain = 1;
    size_t n_chunks = (n + grain - 1) / grain;
    if (!p || p->n_threads == 1 || n_chunks == 1) {
        for (size_t b = 0; b < n; b += grain) fn(ctx, b, b + grain < n ? b + grain : n);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->grain = grain;
    p->n_chunks = n_chunks;
    atomic_store(&p->next, 0);
    p->busy = p->n_threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    run_chunks(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
