/* lam-pool.c: fork-join thread pool with claimed chunks (see lam-pool.h).
 *
 * The job's ticket packs (generation << 32 | chunks << 16 | next chunk)
 * in one atomic, so a worker that wakes up late can never claim a chunk
 * of a newer job by mistake: its compare-and-swap fails when the
 * generation moved on. The chunk count is in the ticket too: read from
 * the job's fields, it could belong to the next job, whose caller writes
 * them before it publishes the new ticket, and a worker holding the old
 * ticket (all chunks claimed) would then claim a chunk "past the end"
 * of the old job and run it with the new job's function: a chunk run
 * twice, and a caller that returns before its job is done.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cpu"

#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause ()
#else
#define cpu_relax() do { } while (0)
#endif

#include "lam-pool.h"

#define SPIN_PAUSES 4000      /* ~ tens of microseconds before yielding */
#define SPIN_YIELDS 50        /* then yield a few times before sleeping */

struct _LamPool {
  int               n_threads;
  pthread_t        *threads;
  LamPoolFunc       fn;
  void             *ctx;
  int               n_chunks;
  _Atomic uint64_t  ticket;     /* generation << 32 | chunks << 16 | next chunk */
  atomic_int        done;       /* chunks finished in this generation */
  atomic_int        sleepers;
  atomic_bool       quit;
  pthread_mutex_t   lock;
  pthread_cond_t    wake;
};

typedef struct {
  LamPool *pool;
  int      tid;
} Worker;

/* Claims and runs chunks of generation gen until none are left. */
static void
run_chunks (LamPool *pool, uint32_t gen, int tid)
{
  for (;;)
    {
      uint64_t t = atomic_load_explicit (&pool->ticket, memory_order_acquire);
      if ((uint32_t) (t >> 32) != gen)
        return;
      int n = (int) ((t >> 16) & 0xffffu);
      int c = (int) (t & 0xffffu);
      if (c >= n)
        return;
      if (!atomic_compare_exchange_weak_explicit (&pool->ticket, &t, t + 1,
                                                  memory_order_acq_rel, memory_order_relaxed))
        continue;
      pool->fn (pool->ctx, c, n, tid);
      atomic_fetch_add_explicit (&pool->done, 1, memory_order_release);
    }
}

static void *
worker_main (void *data)
{
  Worker *w = data;
  LamPool *pool = w->pool;
  int tid = w->tid;
  uint32_t seen = (uint32_t) (atomic_load (&pool->ticket) >> 32);

  g_free (w);
  for (;;)
    {
      uint32_t gen;
      int spins = 0;
      while ((gen = (uint32_t) (atomic_load_explicit (&pool->ticket, memory_order_acquire) >> 32)) == seen &&
             !atomic_load_explicit (&pool->quit, memory_order_relaxed))
        {
          spins++;
          if (spins < SPIN_PAUSES)
            cpu_relax ();
          else if (spins < SPIN_PAUSES + SPIN_YIELDS)
            sched_yield ();
          else
            {
              pthread_mutex_lock (&pool->lock);
              atomic_fetch_add (&pool->sleepers, 1);
              while ((uint32_t) (atomic_load (&pool->ticket) >> 32) == seen && !atomic_load (&pool->quit))
                pthread_cond_wait (&pool->wake, &pool->lock);
              atomic_fetch_sub (&pool->sleepers, 1);
              pthread_mutex_unlock (&pool->lock);
              spins = 0;
            }
        }
      if (atomic_load (&pool->quit))
        return NULL;
      seen = gen;
      run_chunks (pool, gen, tid);
    }
}

LamPool *
lam_pool_new (int n_threads)
{
  LamPool *pool = g_new0 (LamPool, 1);
  pool->n_threads = MAX (1, n_threads);
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->wake, NULL);
  pool->threads = g_new0 (pthread_t, pool->n_threads);
  for (int i = 1; i < pool->n_threads; i++)
    {
      Worker *w = g_new0 (Worker, 1);
      w->pool = pool;
      w->tid = i;
      if (pthread_create (&pool->threads[i], NULL, worker_main, w) != 0)
        {
          g_free (w);
          g_warning ("could not start CPU worker thread %d; using %d threads", i, i);
          pool->n_threads = i;
          break;
        }
    }
  return pool;
}

void
lam_pool_free (LamPool *pool)
{
  if (pool == NULL)
    return;
  pthread_mutex_lock (&pool->lock);
  atomic_store (&pool->quit, TRUE);
  pthread_cond_broadcast (&pool->wake);
  pthread_mutex_unlock (&pool->lock);
  for (int i = 1; i < pool->n_threads; i++)
    pthread_join (pool->threads[i], NULL);
  pthread_mutex_destroy (&pool->lock);
  pthread_cond_destroy (&pool->wake);
  g_free (pool->threads);
  g_free (pool);
}

int
lam_pool_n_threads (LamPool *pool)
{
  return pool->n_threads;
}

void
lam_pool_run (LamPool *pool, int n_chunks, LamPoolFunc fn, void *ctx)
{
  if (pool->n_threads == 1 || n_chunks <= 1)
    {
      for (int c = 0; c < n_chunks; c++)
        fn (ctx, c, n_chunks, 0);
      return;
    }
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n_chunks = n_chunks;
  atomic_store_explicit (&pool->done, 0, memory_order_relaxed);
  g_assert (n_chunks <= 0xffff);
  uint32_t gen = (uint32_t) (atomic_load (&pool->ticket) >> 32) + 1;
  atomic_store_explicit (&pool->ticket, (uint64_t) gen << 32 | (uint64_t) n_chunks << 16,
                         memory_order_seq_cst);
  if (atomic_load (&pool->sleepers) > 0)
    {
      pthread_mutex_lock (&pool->lock);
      pthread_cond_broadcast (&pool->wake);
      pthread_mutex_unlock (&pool->lock);
    }
  run_chunks (pool, gen, 0);
  for (int spins = 0; atomic_load_explicit (&pool->done, memory_order_acquire) < n_chunks; spins++)
    {
      if (spins < SPIN_PAUSES)
        cpu_relax ();
      else
        sched_yield ();
    }
}
