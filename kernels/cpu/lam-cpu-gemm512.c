/* lam-cpu-gemm512.c: single-precision GEMM with AVX-512 for the dense
 * layers, on CPUs whose AVX-512 units run at full width (AMD Zen 5),
 * where OpenBLAS's kernels for this machine use half of it.
 *
 * C[M×N] = init + Σ_k A(i,k)·B(k,j), in blocks of 6 rows × 64 columns
 * (24 registers): per k, four vectors of B's row and six broadcasts of
 * A. B is read in panels of 64 columns: straight from memory when its
 * rows are contiguous, else (B given transposed, as the weights of a
 * forward pass) packed panel by panel into the caller's scratch. Each
 * C element sums over k in order, whatever the split of the columns, so
 * results do not depend on the thread count.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cpu"

#include "config.h"

#include <string.h>

#include "lam-cpu.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_GEMM512 1
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"   /* GCC 12's AVX-512 headers */
#include <immintrin.h>
#define AVX512 __attribute__ ((target ("avx512f,fma,avx2")))
#endif

#define MR 6
#define NV 4            /* vectors of 16 per panel */
#define NR (NV * 16)

gsize
_lam_cpu_gemm512_scratch (const LamGemm *g)
{
  return g->b_trans ? (gsize) g->K * NR + 16 : 0;
}

#ifdef HAVE_GEMM512

static inline __mmask16
lanes (int n)
{
  return n >= 16 ? (__mmask16) 0xffff : n <= 0 ? 0 : (__mmask16) ((1u << n) - 1);
}

/* panel[k][jj] = B[(j0 + jj)·ldb + k] for jj < nj (zeros after) */
AVX512 static void
pack_transposed (const LamGemm *g, int j0, int nj, float *panel)
{
  int K = g->K;
  int jj = 0;
  for (; jj + 16 <= nj; jj += 16)
    {
      /* 16 rows of B at a time, 16 k at a time: gather columns by
       * transposing through a small tile */
      const float *src = g->B + (gsize) (j0 + jj) * g->ldb;
      int k = 0;
      for (; k + 16 <= K; k += 16)
        {
          float tile[16][16];
          for (int r = 0; r < 16; r++)
            _mm512_storeu_ps (tile[r], _mm512_loadu_ps (src + (gsize) r * g->ldb + k));
          for (int kk = 0; kk < 16; kk++)
            {
              float col[16];
              for (int r = 0; r < 16; r++)
                col[r] = tile[r][kk];
              _mm512_storeu_ps (panel + (gsize) (k + kk) * NR + jj, _mm512_loadu_ps (col));
            }
        }
      for (; k < K; k++)
        for (int r = 0; r < 16; r++)
          panel[(gsize) k * NR + jj + r] = src[(gsize) r * g->ldb + k];
    }
  for (int k = 0; k < K; k++)
    {
      float *dst = panel + (gsize) k * NR;
      for (int j = jj; j < NR; j++)
        dst[j] = j < nj ? g->B[(gsize) (j0 + j) * g->ldb + k] : 0.0f;
    }
}

AVX512 static void
panel_rows (const LamGemm *g, int j0, int nj, const float *bp, gsize ldbp)
{
  int M = g->M, K = g->K;
  __mmask16 m[NV];
  for (int v = 0; v < NV; v++)
    m[v] = lanes (nj - v * 16);
  gsize sa_i = g->a_trans ? 1 : (gsize) g->lda;   /* step between rows of A */
  gsize sa_k = g->a_trans ? (gsize) g->lda : 1;   /* step along k */

  for (int i0 = 0; i0 < M; i0 += MR)
    {
      int nr = MIN (MR, M - i0);
      const float *ap[MR];
      __m512 acc[MR][NV];
#pragma GCC unroll 6
      for (int r = 0; r < MR; r++)
        {
          int i = i0 + MIN (r, nr - 1);
          ap[r] = g->A + (gsize) i * sa_i;
          float *c = g->C + (gsize) i * g->ldc + j0;
#pragma GCC unroll 4
          for (int v = 0; v < NV; v++)
            acc[r][v] = g->init == LAM_GEMM_INIT_C ? _mm512_maskz_loadu_ps (m[v], c + v * 16)
                      : g->init == LAM_GEMM_INIT_BIAS ? _mm512_maskz_loadu_ps (m[v], g->bias + j0 + v * 16)
                      : _mm512_setzero_ps ();
        }
      const float *b = bp;
      if (sa_k == 1)
        for (int k = 0; k < K; k++, b += ldbp)
          {
            __m512 bv[NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
              bv[v] = _mm512_maskz_loadu_ps (m[v], b + v * 16);
#pragma GCC unroll 6
            for (int r = 0; r < MR; r++)
              {
                __m512 a = _mm512_set1_ps (ap[r][k]);
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++)
                  acc[r][v] = _mm512_fmadd_ps (a, bv[v], acc[r][v]);
              }
          }
      else
        for (int k = 0; k < K; k++, b += ldbp)
          {
            __m512 bv[NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
              bv[v] = _mm512_maskz_loadu_ps (m[v], b + v * 16);
            const float *ak = g->A + (gsize) k * sa_k;
#pragma GCC unroll 6
            for (int r = 0; r < MR; r++)
              {
                __m512 a = _mm512_set1_ps (ak[(gsize) (i0 + MIN (r, nr - 1)) * sa_i]);
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++)
                  acc[r][v] = _mm512_fmadd_ps (a, bv[v], acc[r][v]);
              }
          }
#pragma GCC unroll 6
      for (int r = 0; r < MR; r++)
        if (r < nr)
          {
            float *c = g->C + (gsize) (i0 + r) * g->ldc + j0;
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
              {
                __m512 x = acc[r][v];
                if (g->relu)
                  x = _mm512_maskz_mov_ps (_mm512_cmp_ps_mask (x, _mm512_setzero_ps (), _CMP_GT_OQ), x);
                _mm512_mask_storeu_ps (c + v * 16, m[v], x);
              }
          }
    }
}

void
_lam_cpu_gemm512 (const LamGemm *g, int j_lo, int j_hi, float *scratch)
{
  for (int j0 = j_lo; j0 < j_hi; j0 += NR)
    {
      int nj = MIN (NR, j_hi - j0);
      if (g->b_trans)
        {
          pack_transposed (g, j0, nj, scratch);
          panel_rows (g, j0, nj, scratch, NR);
        }
      else
        panel_rows (g, j0, nj, g->B + j0, g->ldb);
    }
}

#else

void
_lam_cpu_gemm512 (const LamGemm *g, int j_lo, int j_hi, float *scratch)
{
  g_assert_not_reached ();
}

#endif
