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
/* GCC 12's AVX-512 headers (their _mm512_undefined_* placeholders) */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
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

/* dst[i·ldd + j] = src[j·ld + i] for a 16 × 16 tile, in registers */
AVX512 static inline void
transpose16 (const float *src, gsize ld, float *dst, gsize ldd)
{
  __m512 r[16], t[16];
  for (int i = 0; i < 16; i++)
    r[i] = _mm512_loadu_ps (src + i * ld);
  for (int i = 0; i < 8; i++)
    {
      t[2 * i] = _mm512_unpacklo_ps (r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps (r[2 * i], r[2 * i + 1]);
    }
  for (int i = 0; i < 4; i++)
    {
      __m512d a = _mm512_castps_pd (t[4 * i]), b = _mm512_castps_pd (t[4 * i + 1]);
      __m512d c = _mm512_castps_pd (t[4 * i + 2]), d = _mm512_castps_pd (t[4 * i + 3]);
      r[4 * i] = _mm512_castpd_ps (_mm512_unpacklo_pd (a, c));
      r[4 * i + 1] = _mm512_castpd_ps (_mm512_unpackhi_pd (a, c));
      r[4 * i + 2] = _mm512_castpd_ps (_mm512_unpacklo_pd (b, d));
      r[4 * i + 3] = _mm512_castpd_ps (_mm512_unpackhi_pd (b, d));
    }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++)
      {
        t[8 * i + j] = _mm512_shuffle_f32x4 (r[8 * i + j], r[8 * i + j + 4], 0x88);
        t[8 * i + j + 4] = _mm512_shuffle_f32x4 (r[8 * i + j], r[8 * i + j + 4], 0xdd);
      }
  for (int j = 0; j < 8; j++)
    {
      _mm512_storeu_ps (dst + j * ldd, _mm512_shuffle_f32x4 (t[j], t[j + 8], 0x88));
      _mm512_storeu_ps (dst + (j + 8) * ldd, _mm512_shuffle_f32x4 (t[j], t[j + 8], 0xdd));
    }
}

/* panel[k][jj] = B[(j0 + jj)·ldb + k] for jj < nj (zeros after) */
AVX512 static void
pack_transposed (const LamGemm *g, int j0, int nj, float *panel)
{
  int K = g->K;
  int jj = 0;
  for (; jj + 16 <= nj; jj += 16)
    {
      const float *src = g->B + (gsize) (j0 + jj) * g->ldb;
      int k = 0;
      for (; k + 16 <= K; k += 16)
        transpose16 (src + k, g->ldb, panel + (gsize) k * NR + jj, NR);
      for (; k < K; k++)
        for (int r = 0; r < 16; r++)
          panel[(gsize) k * NR + jj + r] = src[(gsize) r * g->ldb + k];
    }
  if (jj < NR)
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
