/* lam-pool.h: a small fork-join thread pool for the CPU kernels.
 *
 * lam_pool_run() splits a job into n_chunks chunks that the caller and
 * the workers claim one by one, and returns when all are done. The
 * chunking depends only on the job, never on the number of threads or
 * on who runs what, so results are the same bit for bit with one
 * thread or many. A worker that the system has descheduled (another
 * program holds the core) delays nothing: the caller claims its chunks.
 * Workers spin briefly between jobs (a training step issues dozens of
 * short jobs) and then sleep, so an idle pool costs nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LamPool LamPool;
/* chunk in [0, n_chunks); tid in [0, n_threads) names the thread, for
 * per-thread scratch memory. */
typedef void (*LamPoolFunc) (void *ctx, int chunk, int n_chunks, int tid);

LamPool *lam_pool_new       (int n_threads);
void     lam_pool_free      (LamPool *pool);
int      lam_pool_n_threads (LamPool *pool);
void     lam_pool_run       (LamPool *pool, int n_chunks, LamPoolFunc fn, void *ctx);

/* The [lo, hi) share of n items for chunk c of nc. */
static inline void
lam_split (gsize n, int c, int nc, gsize *lo, gsize *hi)
{
  gsize q = n / (gsize) nc, r = n % (gsize) nc;
  *lo = (gsize) c * q + MIN ((gsize) c, r);
  *hi = *lo + q + ((gsize) c < r ? 1 : 0);
}

G_END_DECLS
