/* lam-pool.c: fork-join thread pool (see lam-pool.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cpu"

#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause ()
#else
#define cpu_relax() do { } while (0)
#endif

#include "lam-pool.h"

#define SPIN_ITERATIONS 200000

struct _LamPool {
  int              n_threads;
  pthread_t       *threads;
  LamPoolFunc      fn;
  void            *ctx;
  atomic_uint      generation;   /* bumped for each job */
  atomic_int       pending;      /* workers still running the job */
  atomic_int       sleepers;
  atomic_bool      quit;
  pthread_mutex_t  lock;
  pthread_cond_t   wake;
};

typedef struct {
  LamPool *pool;
  int      tid;
} Worker;

static void *
worker_main (void *data)
{
  Worker *w = data;
  LamPool *pool = w->pool;
  int tid = w->tid;
  unsigned seen = atomic_load (&pool->generation);

  g_free (w);
  for (;;)
    {
      unsigned gen;
      int spins = 0;
      while ((gen = atomic_load_explicit (&pool->generation, memory_order_acquire)) == seen &&
             !atomic_load (&pool->quit))
        {
          if (++spins < SPIN_ITERATIONS)
            {
              cpu_relax ();
              continue;
            }
          pthread_mutex_lock (&pool->lock);
          atomic_fetch_add (&pool->sleepers, 1);
          while (atomic_load (&pool->generation) == seen && !atomic_load (&pool->quit))
            pthread_cond_wait (&pool->wake, &pool->lock);
          atomic_fetch_sub (&pool->sleepers, 1);
          pthread_mutex_unlock (&pool->lock);
          spins = 0;
        }
      if (atomic_load (&pool->quit))
        return NULL;
      seen = gen;
      pool->fn (pool->ctx, tid, pool->n_threads);
      atomic_fetch_sub_explicit (&pool->pending, 1, memory_order_release);
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
lam_pool_run (LamPool *pool, LamPoolFunc fn, void *ctx)
{
  if (pool->n_threads == 1)
    {
      fn (ctx, 0, 1);
      return;
    }
  pool->fn = fn;
  pool->ctx = ctx;
  atomic_store (&pool->pending, pool->n_threads - 1);
  atomic_fetch_add_explicit (&pool->generation, 1, memory_order_release);
  if (atomic_load (&pool->sleepers) > 0)
    {
      pthread_mutex_lock (&pool->lock);
      pthread_cond_broadcast (&pool->wake);
      pthread_mutex_unlock (&pool->lock);
    }
  fn (ctx, 0, pool->n_threads);
  while (atomic_load_explicit (&pool->pending, memory_order_acquire) > 0)
    cpu_relax ();
}
