/* lam-cpu-conv-direct-tmpl.h: the filter-lane kernels of
 * lam-cpu-conv-direct.c at one block shape, included once per shape:
 * with BR and BP defined (rows × pixels of a block), b_forward_BRxBP ();
 * with BK defined (kernel size), b_weight_grad_BK (). Register arrays
 * need sizes known when compiling, hence the template.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define PASTE3_(a, b, c) a##b##c
#define PASTE3(a, b, c) PASTE3_ (a, b, c)
#define PASTE4_(a, b, c, d) a##b##c##d
#define PASTE4(a, b, c, d) PASTE4_ (a, b, c, d)

#if defined(BR) && defined(BP)

/* One block of BR rows × BP pixels at (oy, ox), filters ob·16 .. +15 */
AVX512 static inline void
PASTE4 (b_block_, BR, x, BP) (const LamConvShape *s, const float *xp, const float *wB,
                              const float *bias, gboolean relu, float *y, int ob, int oy, int ox)
{
  int K = s->K, C = s->C, OW = s->OW;
  int hp = s->H + 2 * s->pad, wp = s->W + 2 * s->pad;
  gsize ohw = (gsize) s->OH * OW;
  __m512 acc[BR][BP];
#pragma GCC unroll 8
  for (int r = 0; r < BR; r++)
#pragma GCC unroll 12
    for (int p = 0; p < BP; p++)
      acc[r][p] = _mm512_setzero_ps ();
  for (int c = 0; c < C; c++)
    for (int ky = 0; ky < K; ky++)
      {
        const float *src = xp + ((gsize) c * hp + oy + ky) * wp + ox;
        const float *wk = wB + (((gsize) ob * C + c) * K + ky) * K * 16;
        for (int kx = 0; kx < K; kx++)
          {
            __m512 wv = _mm512_loadu_ps (wk + kx * 16);
#pragma GCC unroll 8
            for (int r = 0; r < BR; r++)
#pragma GCC unroll 12
              for (int p = 0; p < BP; p++)
                acc[r][p] = _mm512_fmadd_ps (_mm512_set1_ps (src[(gsize) r * wp + p + kx]), wv,
                                             acc[r][p]);
          }
      }
  __m512 bv = bias ? _mm512_loadu_ps (bias + ob * 16) : _mm512_setzero_ps ();
  float t[BP][16];
#pragma GCC unroll 8
  for (int r = 0; r < BR; r++)
    {
#pragma GCC unroll 12
      for (int p = 0; p < BP; p++)
        {
          __m512 v = _mm512_add_ps (acc[r][p], bv);
          if (relu)
            v = relu512 (v);
          _mm512_storeu_ps (t[p], v);
        }
      float *yr = y + (gsize) ob * 16 * ohw + (gsize) (oy + r) * OW + ox;
      for (int o = 0; o < 16; o++)
        for (int p = 0; p < BP; p++)
          yr[o * ohw + p] = t[p][o];
    }
}

AVX512 static void
PASTE4 (b_forward_, BR, x, BP) (const LamConvShape *s, const float *xp, const float *wB,
                                const float *bias, gboolean relu, float *y)
{
  for (int ob = 0; ob < s->OC / 16; ob++)
    for (int oy0 = 0; oy0 < s->OH; oy0 += BR)
      for (int ox0 = 0; ox0 < s->OW; ox0 += BP)
        /* the last blocks overlap the ones before: same values again */
        PASTE4 (b_block_, BR, x, BP) (s, xp, wB, bias, relu, y, ob, MIN (oy0, s->OH - BR),
                                      MIN (ox0, s->OW - BP));
}

#undef BR
#undef BP
#endif

#if defined(BK)

/* dwB[ob][c][ky][kx][16] += Σ over pixels of dyt[oy][ox][ob·16 + lane]
 * · xp[c][oy+ky][ox+kx], with dyt = dy transposed to [OH·OW][OC]. */
AVX512 static void
PASTE3 (b_weight_grad_, BK, ) (const LamConvShape *s, const float *xp, const float *dyt,
                               float *dwB)
{
  int C = s->C, OH = s->OH, OW = s->OW, OC = s->OC;
  int hp = s->H + 2 * s->pad, wp = s->W + 2 * s->pad;
  for (int ob = 0; ob < OC / 16; ob++)
    for (int c = 0; c < C; c++)
      {
        float *dst = dwB + ((gsize) ob * C + c) * BK * BK * 16;
        __m512 acc[BK * BK];
#pragma GCC unroll 25
        for (int t = 0; t < BK * BK; t++)
          acc[t] = _mm512_loadu_ps (dst + t * 16);
        for (int oy = 0; oy < OH; oy++)
          for (int ox = 0; ox < OW; ox++)
            {
              __m512 d = _mm512_loadu_ps (dyt + ((gsize) oy * OW + ox) * OC + ob * 16);
              const float *src = xp + ((gsize) c * hp + oy) * wp + ox;
#pragma GCC unroll 5
              for (int ky = 0; ky < BK; ky++)
#pragma GCC unroll 5
                for (int kx = 0; kx < BK; kx++)
                  acc[ky * BK + kx] = _mm512_fmadd_ps (_mm512_set1_ps (src[ky * wp + kx]), d,
                                                       acc[ky * BK + kx]);
            }
#pragma GCC unroll 25
        for (int t = 0; t < BK * BK; t++)
          _mm512_storeu_ps (dst + t * 16, acc[t]);
      }
}

#undef BK
#endif
