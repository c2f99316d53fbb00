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
} LamCpu;

#define LAM_CPU(be) ((LamCpu *) (be)->ctx)

/* Thread tid's scratch of at least n floats. */
float *_lam_cpu_scratch (LamCpu *cpu, int tid, gsize n);

/* Runs fn on the pool, or inline on one thread when work (a rough count
 * of float operations) is too small to be worth waking the workers. */
void   _lam_cpu_run     (LamCpu *cpu, gsize work, LamPoolFunc fn, void *ctx);

void   _lam_cpu_conv_init (LamBackendOps *ops);

G_END_DECLS
