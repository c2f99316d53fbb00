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
  /* Convolution weights packed for the direct kernels. */
  float   *wpack;
  gsize    wpack_len;
  /* Direct convolution kernels allowed (LAMINA_CONV=im2col turns them off). */
  gboolean direct_conv;
  /* AVX-512 GEMM for dense layers (LAMINA_GEMM=openblas turns it off). */
  gboolean gemm512;
  /* What the backend's allocs hold (malloc_usable_size), for bytes_held. */
  gsize    bytes_held;
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
/* Direct convolution (lam-cpu-conv-direct.c), stride 1 on AVX-512 CPUs. */
typedef enum {
  LAM_DIRECT_NONE,
  LAM_DIRECT_PIXEL_LANES,    /* few filters, wide rows: forward and weight gradient */
  LAM_DIRECT_FILTER_LANES,   /* filters a multiple of 16: forward and both gradients */
} LamDirectKind;

gboolean      _lam_cpu_direct_available (void);
LamDirectKind _lam_cpu_direct_kind      (const LamConvShape *s, gboolean need_dx);
gsize         _lam_cpu_direct_scratch   (const LamConvShape *s, LamDirectKind kind);
gsize         _lam_cpu_direct_pack_size (const LamConvShape *s, LamDirectKind kind);
void          _lam_cpu_direct_pack      (const LamConvShape *s, LamDirectKind kind, const float *w,
                                         float *wpack);
void          _lam_cpu_direct_forward   (const LamConvShape *s, LamDirectKind kind,
                                         const float *wpack, const float *bias, gboolean relu,
                                         const float *x, float *y, float *scratch);
void          _lam_cpu_direct_backward_begin (const LamConvShape *s, LamDirectKind kind,
                                              float *scratch);
void          _lam_cpu_direct_backward_image (const LamConvShape *s, LamDirectKind kind,
                                              const float *w, const float *x, const float *dy,
                                              const float *relu_y, float *db, float *dx,
                                              float *scratch);
void          _lam_cpu_direct_backward_end   (const LamConvShape *s, LamDirectKind kind,
                                              const float *scratch, float *dw);

/* AVX-512 GEMM (lam-cpu-gemm512.c): C[M×N] = init + A·B with
 * A(i,k) = a_trans ? A[k·lda + i] : A[i·lda + k] and
 * B(k,j) = b_trans ? B[j·ldb + k] : B[k·ldb + j]; init is zero, C's
 * contents or the bias row; relu clamps the result at 0. */
typedef enum { LAM_GEMM_INIT_ZERO, LAM_GEMM_INIT_C, LAM_GEMM_INIT_BIAS } LamGemmInit;
typedef struct {
  int M, N, K;
  const float *A; int lda; gboolean a_trans;
  const float *B; int ldb; gboolean b_trans;
  float *C; int ldc;
  LamGemmInit init; const float *bias; gboolean relu;
} LamGemm;
#define LAM_GEMM512_PANEL 64
/* Floats of scratch per call of _lam_cpu_gemm512 (packing). */
gsize  _lam_cpu_gemm512_scratch (const LamGemm *g);
/* Columns [j_lo, j_hi) of C (j_lo a multiple of LAM_GEMM512_PANEL). */
void   _lam_cpu_gemm512 (const LamGemm *g, int j_lo, int j_hi, float *scratch);
/* All of C, on the backend's threads. */
void   _lam_cpu_gemm512_run (LamCpu *cpu, const LamGemm *g);

void   _lam_cpu_seq_init  (LamBackendOps *ops);   /* lam-cpu-seq.c */

G_END_DECLS
