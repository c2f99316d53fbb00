/* lam-cpu.h: the CPU backend's private state, shared by its files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-backend.h"
#include "lam-pool.h"

G_BEGIN_DECLS

typedef struct {
  LamPool *pool;
  int      n_threads;
  /* Per-thread scratch for im2col/col2im and partial weight gradients. */
  float  **scratch;
  gsize   *scratch_len;
  /* Per-chunk partial weight gradients of convolutions. */
  float   *partials;
  gsize    partials_len;
} LamCpu;

#define LAM_CPU(be) ((LamCpu *) (be)->ctx)

/* Thread tid's scratch of at least n floats. */
float *_lam_cpu_scratch (LamCpu *cpu, int tid, gsize n);

/* Number of chunks for a job of `work` (a rough count of float
 * operations) over `items` independent items: 1 when too small to be
 * worth waking the workers. Depends on the job alone, never on the
 * thread count, so results do not either. */
int    _lam_cpu_chunks  (gsize work, gsize items);
/* Runs fn over _lam_cpu_chunks (work, items) chunks. */
void   _lam_cpu_run     (LamCpu *cpu, gsize work, gsize items, LamPoolFunc fn, void *ctx);

void   _lam_cpu_conv_init (LamBackendOps *ops);

/* GEMMs with a tiny output side (a few filters), where OpenBLAS is slow:
 * y[OC, L] = w[OC, K] · col[K, L] and dw[OC, K] += dy[OC, L] · col[K, L]ᵀ,
 * rows ld apart. */
#define LAM_SMALL_GEMM_OC 8
void   _lam_cpu_gemm_small_nn (int OC, int K, gsize L, const float *w, const float *col, gsize ld,
                               float *y);
void   _lam_cpu_gemm_small_nt (int OC, int K, gsize L, const float *dy, const float *col, gsize ld,
                               float *dw);
void   _lam_cpu_seq_init  (LamBackendOps *ops);   /* lam-cpu-seq.c */

G_END_DECLS
