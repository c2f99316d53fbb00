/* lam-cpu-gemm512.c: single-precision GEMM with AVX-512 for the dense
 * and sequence layers, used wherever the CPU has AVX-512. Written for
 * CPUs whose AVX-512 units run at full width (AMD Zen 5, the build
 * machine), where OpenBLAS's kernels for the core type it is given
 * (Haswell here) use half of it.
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
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define AVX512 __attribute__ ((target ("avx512f,fma,avx2")))
#endif

#define NR 64           /* columns per panel */

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

/* panel_rows (): C's columns [j0, j0 + nj) for all rows, B's panel at bp
 * with rows ldbp apart; 6 rows × 4 vectors, or 12 rows × 1 vector for a
 * panel of at most 16 columns (a 10-class output layer). */
#define T_MR 6
#define T_NV 4
#define PANEL_ROWS panel_rows
#include "lam-cpu-gemm512-tmpl.h"
#define T_MR 12
#define T_NV 1
#define PANEL_ROWS panel_rows_narrow
#include "lam-cpu-gemm512-tmpl.h"

/* k in blocks of KC: the block of B's panel (KC × 64 floats, 64 kB)
 * stays in cache while all of C's rows go by. Each block adds to what
 * the one before stored, in the same order as one long loop: the
 * result is the same to the bit. */
#define KC 256

void
_lam_cpu_gemm512 (const LamGemm *g, int j_lo, int j_hi, float *scratch)
{
  for (int j0 = j_lo; j0 < j_hi; j0 += NR)
    {
      int nj = MIN (NR, j_hi - j0);
      const float *bp = g->B + j0;
      gsize ldbp = g->ldb;
      if (g->b_trans)
        {
          pack_transposed (g, j0, nj, scratch);
          bp = scratch;
          ldbp = NR;
        }
      for (int k0 = 0; k0 < g->K; k0 += KC)
        {
          LamGemm sub = *g;
          sub.K = MIN (KC, g->K - k0);
          sub.A += g->a_trans ? (gsize) k0 * g->lda : (gsize) k0;
          if (k0 > 0)
            sub.init = LAM_GEMM_INIT_C;
          if (k0 + KC < g->K)
            sub.relu = FALSE;
          (nj <= 16 ? panel_rows_narrow : panel_rows) (&sub, j0, nj, bp + (gsize) k0 * ldbp, ldbp);
        }
    }
}

#else

void
_lam_cpu_gemm512 (const LamGemm *g, int j_lo, int j_hi, float *scratch)
{
  g_assert_not_reached ();
}

#endif

/* On the pool: chunks take panels of 64 columns, or rows where there
 * are fewer than two panels (an output layer of 10 classes). */
typedef struct {
  LamCpu *cpu; const LamGemm *g; gboolean split_rows;
} RunArgs;

static void
run_worker (void *ctx, int c, int nc, int thread)
{
  RunArgs *a = ctx;
  LamGemm g = *a->g;
  gsize lo, hi;
  if (a->split_rows)
    {
      lam_split (g.M, c, nc, &lo, &hi);
      if (hi == lo)
        return;
      g.A += g.a_trans ? lo : lo * (gsize) g.lda;
      g.C += lo * (gsize) g.ldc;
      g.M = (int) (hi - lo);
      _lam_cpu_gemm512 (&g, 0, g.N, _lam_cpu_scratch (a->cpu, thread, _lam_cpu_gemm512_scratch (&g)));
    }
  else
    {
      int np = (g.N + NR - 1) / NR;
      lam_split (np, c, nc, &lo, &hi);
      if (hi == lo)
        return;
      _lam_cpu_gemm512 (&g, (int) lo * NR, (int) MIN ((gsize) g.N, hi * NR),
                        _lam_cpu_scratch (a->cpu, thread, _lam_cpu_gemm512_scratch (&g)));
    }
}

void
_lam_cpu_gemm512_run (LamCpu *cpu, const LamGemm *g)
{
  int np = (g->N + NR - 1) / NR;
  RunArgs a = { cpu, g, np < 2 };
  gsize work = (gsize) g->M * g->N * g->K;
  _lam_cpu_run (cpu, work, a.split_rows ? (gsize) g->M / 6 : (gsize) np, run_worker, &a);
}
