/* lam-cpu-gemm512-tmpl.h: the register block of lam-cpu-gemm512.c at
 * one shape, included once per shape with T_MR (rows) and T_NV (vectors
 * of 16 columns) and PANEL_ROWS (the function's name) defined: register
 * arrays need sizes known when compiling.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

AVX512 static void
PANEL_ROWS (const LamGemm *g, int j0, int nj, const float *bp, gsize ldbp)
{
  int M = g->M, K = g->K;
  __mmask16 m[T_NV];
  for (int v = 0; v < T_NV; v++)
    m[v] = lanes (nj - v * 16);
  gsize sa_i = g->a_trans ? 1 : (gsize) g->lda;   /* step between rows of A */
  gsize sa_k = g->a_trans ? (gsize) g->lda : 1;   /* step along k */

  for (int i0 = 0; i0 < M; i0 += T_MR)
    {
      int nr = MIN (T_MR, M - i0);
      const float *ap[T_MR];
      __m512 acc[T_MR][T_NV];
#pragma GCC unroll 12
      for (int r = 0; r < T_MR; r++)
        {
          int i = i0 + MIN (r, nr - 1);
          ap[r] = g->A + (gsize) i * sa_i;
          float *c = g->C + (gsize) i * g->ldc + j0;
#pragma GCC unroll 4
          for (int v = 0; v < T_NV; v++)
            acc[r][v] = g->init == LAM_GEMM_INIT_C ? _mm512_maskz_loadu_ps (m[v], c + v * 16)
                      : g->init == LAM_GEMM_INIT_BIAS ? _mm512_maskz_loadu_ps (m[v], g->bias + j0 + v * 16)
                      : _mm512_setzero_ps ();
        }
      const float *b = bp;
      if (sa_k == 1)
        for (int k = 0; k < K; k++, b += ldbp)
          {
            __m512 bv[T_NV];
#pragma GCC unroll 4
            for (int v = 0; v < T_NV; v++)
              bv[v] = _mm512_maskz_loadu_ps (m[v], b + v * 16);
#pragma GCC unroll 12
            for (int r = 0; r < T_MR; r++)
              {
                __m512 a = _mm512_set1_ps (ap[r][k]);
#pragma GCC unroll 4
                for (int v = 0; v < T_NV; v++)
                  acc[r][v] = _mm512_fmadd_ps (a, bv[v], acc[r][v]);
              }
          }
      else
        for (int k = 0; k < K; k++, b += ldbp)
          {
            __m512 bv[T_NV];
#pragma GCC unroll 4
            for (int v = 0; v < T_NV; v++)
              bv[v] = _mm512_maskz_loadu_ps (m[v], b + v * 16);
            const float *ak = g->A + (gsize) k * sa_k;
#pragma GCC unroll 12
            for (int r = 0; r < T_MR; r++)
              {
                __m512 a = _mm512_set1_ps (ak[(gsize) (i0 + MIN (r, nr - 1)) * sa_i]);
#pragma GCC unroll 4
                for (int v = 0; v < T_NV; v++)
                  acc[r][v] = _mm512_fmadd_ps (a, bv[v], acc[r][v]);
              }
          }
#pragma GCC unroll 12
      for (int r = 0; r < T_MR; r++)
        if (r < nr)
          {
            float *c = g->C + (gsize) (i0 + r) * g->ldc + j0;
#pragma GCC unroll 4
            for (int v = 0; v < T_NV; v++)
              {
                __m512 x = acc[r][v];
                if (g->relu)
                  x = _mm512_maskz_mov_ps (_mm512_cmp_ps_mask (x, _mm512_setzero_ps (), _CMP_GT_OQ), x);
                _mm512_mask_storeu_ps (c + v * 16, m[v], x);
              }
          }
    }
}

#undef T_MR
#undef T_NV
#undef PANEL_ROWS
