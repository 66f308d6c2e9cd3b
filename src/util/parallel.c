/* parallel.c - a persistent thread pool running chunked loops.
 *
 * A training step makes a few dozen parallel calls of well under a
 * millisecond each, so waking sleeping threads through a condition variable
 * (tens of microseconds a call) would cost more than the work.  Workers
 * therefore spin on a generation counter for a while after each job and only
 * then sleep; the caller spins until the job's last chunk is done.
 * Chunks are handed out through an atomic counter; which thread runs a chunk
 * varies, what a chunk computes does not (see parallel.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "nnrun/parallel.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "nnrun/util.h"

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* spin iterations (about 20-40 ns each) before a worker goes to sleep; after
 * SPIN_YIELD of them a spinning thread yields the CPU each time, so a pool on
 * a machine with more runnable threads than cores (other jobs, a sweep's
 * parallel runs) hands the core to the thread it is waiting for instead of
 * burning a whole time slice */
#define SPIN_LIMIT 100000
#define SPIN_YIELD 2000

static inline void spin_wait(int spins)
{
    if (spins < SPIN_YIELD) cpu_relax();
    else sched_yield();
}

static _Thread_local int thread_index;   /* 0 outside workers */

int nn_pool_thread(void) { return thread_index; }

struct nn_pool;
struct worker_arg {
    struct nn_pool *pool;
    int index;
};

struct nn_pool {
    int n_threads;
    pthread_t *threads;
    struct worker_arg *args;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int sleepers;                 /* under mu */
    atomic_ulong generation;      /* bumped for each job */
    atomic_int busy;              /* workers not yet done with the current job */
    atomic_int quit;
    /* the current job, published before generation is bumped */
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
    struct worker_arg *wa = arg;
    struct nn_pool *p = wa->pool;
    unsigned long seen = 0;
    thread_index = wa->index;
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&p->quit, memory_order_relaxed)) {
            if (++spins < SPIN_LIMIT) {
                spin_wait(spins);
                continue;
            }
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->wake, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->quit)) break;
        seen = g;
        run_chunks(p);
        atomic_fetch_sub_explicit(&p->busy, 1, memory_order_acq_rel);
    }
    return NULL;
}

struct nn_pool *nn_pool_create(int n_threads)
{
    if (n_threads <= 0) n_threads = nn_cpu_count();
    struct nn_pool *p = nn_xcalloc(1, sizeof *p);
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->threads = nn_xcalloc((size_t)n_threads, sizeof *p->threads);
    p->args = nn_xcalloc((size_t)n_threads, sizeof *p->args);
    for (int i = 1; i < n_threads; i++) {
        p->args[i].pool = p;
        p->args[i].index = i;
        if (pthread_create(&p->threads[i], NULL, worker, &p->args[i]) != 0) {
            p->n_threads = i;   /* run with what we got */
            break;
        }
    }
    return p;
}

static void wake_sleepers(struct nn_pool *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->sleepers) pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
}

void nn_pool_free(struct nn_pool *p)
{
    if (!p) return;
    atomic_store(&p->quit, 1);
    wake_sleepers(p);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    free(p->threads);
    free(p->args);
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
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->grain = grain;
    p->n_chunks = n_chunks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->busy, p->n_threads - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    wake_sleepers(p);
    run_chunks(p);
    for (int spins = 0; atomic_load_explicit(&p->busy, memory_order_acquire) > 0; spins++)
        spin_wait(spins);
}
