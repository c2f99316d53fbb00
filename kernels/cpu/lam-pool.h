/* lam-pool.h: a tiny fork-join thread pool for the CPU kernels.
 *
 * lam_pool_run() calls fn (ctx, tid, n_threads) on every thread, the
 * caller being tid 0, and returns when all are done. Workers spin
 * briefly between jobs (a training step issues dozens of short jobs)
 * and then sleep, so an idle pool costs nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LamPool LamPool;
typedef void (*LamPoolFunc) (void *ctx, int tid, int n_threads);

LamPool *lam_pool_new       (int n_threads);
void     lam_pool_free      (LamPool *pool);
int      lam_pool_n_threads (LamPool *pool);
void     lam_pool_run       (LamPool *pool, LamPoolFunc fn, void *ctx);

/* The [lo, hi) share of n items for thread tid of nt. */
static inline void
lam_split (gsize n, int tid, int nt, gsize *lo, gsize *hi)
{
  gsize q = n / (gsize) nt, r = n % (gsize) nt;
  *lo = (gsize) tid * q + MIN ((gsize) tid, r);
  *hi = *lo + q + ((gsize) tid < r ? 1 : 0);
}

G_END_DECLS
