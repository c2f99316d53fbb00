/* lam-cpu-conv-direct.c: direct convolution kernels (stride 1) for CPUs
 * with AVX-512, for the small convolutions of teaching networks
 * (LeNet-5's conv1 and conv2), where im2col + GEMM spends more time
 * moving patches than multiplying.
 *
 * Two layouts of the work:
 *
 *  A. pixel lanes: 16 neighbouring output pixels of one row per vector,
 *     blocks of 4 rows × 6 filters held in 24 registers. For layers with
 *     few filters (conv1: one input channel, 6 filters over 28 × 28).
 *     Forward and weight gradient.
 *
 *  B. filter lanes: 16 filters per vector, blocks of R rows × P pixels
 *     (R·P ≤ 25) broadcasting one input value per pixel. For layers with
 *     a multiple of 16 filters (conv2: 16 filters over 10 × 10 outputs,
 *     too narrow for pixel lanes). Forward, weight gradient and input
 *     gradient (a dot product over the filters per input pixel and
 *     tap, reduced across lanes at the end).
 *
 * Every sum runs in a fixed order, so a run still repeats bit for bit;
 * the results differ from the im2col path in the last bits only.
 * Callers check _lam_cpu_direct_supports () first; the im2col path in
 * lam-cpu-conv.c handles everything else.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cpu"

#include "config.h"

#include <string.h>

#include "lam-cpu.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_DIRECT 1
/* GCC 12's own AVX-512 headers trip this warning (_mm512_undefined_ps) */
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define AVX512 __attribute__ ((target ("avx512f,fma,avx2")))
#define INLINE static inline __attribute__ ((always_inline))
#endif

#define AR 4          /* A: output rows per block */
#define AO 6          /* A: filters per block */
#define DW_O 3        /* A: filters per block of the weight gradient */
#define DW_K 5        /* A: taps along x per block of the weight gradient */

gboolean
_lam_cpu_direct_available (void)
{
#ifdef HAVE_DIRECT
  static int avail = -1;
  if (avail < 0)
    {
      __builtin_cpu_init ();
      avail = __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("fma");
    }
  return avail;
#else
  return FALSE;
#endif
}

LamDirectKind
_lam_cpu_direct_kind (const LamConvShape *s, gboolean need_dx)
{
  if (!_lam_cpu_direct_available () || s->stride != 1 || s->K > 5 || s->K < 1)
    return LAM_DIRECT_NONE;
  if (s->OC % 16 == 0 && s->OC <= 64 && s->OH >= 2 && s->OW >= 4 && s->C <= 64)
    return LAM_DIRECT_FILTER_LANES;
  /* pixel lanes: few filters, rows wide enough to fill most lanes; the
   * input gradient is not implemented in this layout */
  if (!need_dx && s->OC < 16 && s->OW >= 12 && s->OH >= AR && s->C * s->K * s->K <= 400)
    return LAM_DIRECT_PIXEL_LANES;
  return LAM_DIRECT_NONE;
}

/* Floats of weight-gradient partials: A keeps lanes per tap (kx padded
 * to DW_K, filters to blocks of DW_O), B filters in lanes already. */
static gsize
acc_floats (const LamConvShape *s, LamDirectKind kind)
{
  if (kind == LAM_DIRECT_PIXEL_LANES)
    return (gsize) (s->OC + DW_O) * s->C * s->K * DW_K * 16;
  return (gsize) s->OC * s->C * s->K * s->K;
}

/* Floats of per-thread scratch that one image needs: the padded image,
 * dy rearranged, the partials, and for B's input gradient dy on the
 * padded pitch and the padded input gradient. */
gsize
_lam_cpu_direct_scratch (const LamConvShape *s, LamDirectKind kind)
{
  gsize hp = s->H + 2 * s->pad, wp = s->W + 2 * s->pad;
  gsize xp = s->C * hp * wp + 16;
  gsize dy = (gsize) (s->OC + DW_O) * s->OH * s->OW + 16;
  gsize dx = kind == LAM_DIRECT_FILTER_LANES ? (gsize) s->OC * s->OH * wp + 16 + xp : 0;
  return xp + dy + acc_floats (s, kind) + 64 + dx;
}

/* Packed weights: A [ob][c][ky][kx][AO] (zeros past OC);
 * B [ob][c][ky][kx][16]. */
gsize
_lam_cpu_direct_pack_size (const LamConvShape *s, LamDirectKind kind)
{
  gsize ckk = (gsize) s->C * s->K * s->K;
  if (kind == LAM_DIRECT_PIXEL_LANES)
    return (gsize) ((s->OC + AO - 1) / AO) * ckk * AO;
  return (gsize) s->OC * ckk;
}

void
_lam_cpu_direct_pack (const LamConvShape *s, LamDirectKind kind, const float *w, float *wp)
{
  int ckk = s->C * s->K * s->K;
  int lanes = kind == LAM_DIRECT_PIXEL_LANES ? AO : 16;
  int nob = (s->OC + lanes - 1) / lanes;
  for (int ob = 0; ob < nob; ob++)
    for (int t = 0; t < ckk; t++)
      for (int o = 0; o < lanes; o++)
        {
          int oc = ob * lanes + o;
          wp[((gsize) ob * ckk + t) * lanes + o] = oc < s->OC ? w[(gsize) oc * ckk + t] : 0.0f;
        }
}

#ifdef HAVE_DIRECT

/* The image with its zero padding, rows wp apart (x itself when pad is 0). */
static const float *
pad_image (const LamConvShape *s, const float *x, float *buf)
{
  int p = s->pad, hp = s->H + 2 * p, wp = s->W + 2 * p;
  if (p == 0)
    return x;
  memset (buf, 0, (gsize) s->C * hp * wp * sizeof (float));
  for (int c = 0; c < s->C; c++)
    for (int h = 0; h < s->H; h++)
      memcpy (buf + ((gsize) c * hp + h + p) * wp + p, x + ((gsize) c * s->H + h) * s->W,
              s->W * sizeof (float));
  return buf;
}

/* x > 0 ? x : 0, as the other ReLUs (a NaN becomes 0) */
AVX512 static inline __m512
relu512 (__m512 v)
{
  return _mm512_maskz_mov_ps (_mm512_cmp_ps_mask (v, _mm512_setzero_ps (), _CMP_GT_OQ), v);
}

static inline __mmask16
lane_mask (int n)
{
  return n >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << n) - 1);
}

/* ── A: pixel lanes ─────────────────────────────────────────────────── */

AVX512 static void
a_forward (const LamConvShape *s, const float *xp, const float *wA, const float *bias,
           gboolean relu, float *y)
{
  int K = s->K, C = s->C, OH = s->OH, OW = s->OW;
  int hp = s->H + 2 * s->pad, wp = s->W + 2 * s->pad;
  int nob = (s->OC + AO - 1) / AO;
  gsize ohw = (gsize) OH * OW;

  for (int ob = 0; ob < nob; ob++)
    {
      int no = MIN (AO, s->OC - ob * AO);
      for (int oy0 = 0; oy0 < OH; oy0 += AR)
        {
          int oy = MIN (oy0, OH - AR);   /* the last block overlaps: same values */
          for (int ox = 0; ox < OW; ox += 16)
            {
              __mmask16 m = lane_mask (OW - ox);
              __m512 acc[AR][AO];
#pragma GCC unroll 4
              for (int r = 0; r < AR; r++)
#pragma GCC unroll 6
                for (int o = 0; o < AO; o++)
                  acc[r][o] = _mm512_setzero_ps ();
              for (int c = 0; c < C; c++)
                for (int ky = 0; ky < K; ky++)
                  {
                    const float *src = xp + ((gsize) c * hp + oy + ky) * wp + ox;
                    const float *wk = wA + (((gsize) ob * C + c) * K + ky) * K * AO;
                    for (int kx = 0; kx < K; kx++)
                      {
                        __m512 in[AR];
#pragma GCC unroll 4
                        for (int r = 0; r < AR; r++)
                          in[r] = _mm512_maskz_loadu_ps (m, src + (gsize) r * wp + kx);
#pragma GCC unroll 6
                        for (int o = 0; o < AO; o++)
                          {
                            __m512 wv = _mm512_set1_ps (wk[kx * AO + o]);
#pragma GCC unroll 4
                            for (int r = 0; r < AR; r++)
                              acc[r][o] = _mm512_fmadd_ps (in[r], wv, acc[r][o]);
                          }
                      }
                  }
#pragma GCC unroll 6
              for (int o = 0; o < AO; o++)
                if (o < no)
                  {
                    int oc = ob * AO + o;
                    __m512 bv = _mm512_set1_ps (bias ? bias[oc] : 0.0f);
#pragma GCC unroll 4
                    for (int r = 0; r < AR; r++)
                      {
                        __m512 v = _mm512_add_ps (acc[r][o], bv);
                        if (relu)
                          v = relu512 (v);
                        _mm512_mask_storeu_ps (y + oc * ohw + (gsize) (oy + r) * OW + ox, m, v);
                      }
                  }
            }
        }
    }
}

/* dwl[o][c][ky][kx][16] += lanes of Σ dy[o][oy][ox]·xp[c][oy+ky][ox+kx]
 * (kx padded to blocks of DW_K, o to blocks of DW_O; dy rows OW apart,
 * DW_O - 1 zero rows past OC) */
AVX512 static void
a_weight_grad (const LamConvShape *s, const float *xp, const float *dy, float *dwl)
{
  int K = s->K, C = s->C, OH = s->OH, OW = s->OW;
  int hp = s->H + 2 * s->pad, wp = s->W + 2 * s->pad;
  gsize ohw = (gsize) OH * OW;

  for (int c = 0; c < C; c++)
    for (int ky = 0; ky < K; ky++)
      for (int o0 = 0; o0 < s->OC; o0 += DW_O)
        {
          __m512 acc[DW_O][DW_K];
          float *dst[DW_O];
#pragma GCC unroll 3
          for (int o = 0; o < DW_O; o++)
            {
              dst[o] = dwl + ((((gsize) (o0 + o) * C + c) * K + ky) * DW_K) * 16;
#pragma GCC unroll 5
              for (int k = 0; k < DW_K; k++)
                acc[o][k] = _mm512_loadu_ps (dst[o] + k * 16);
            }
          for (int oy = 0; oy < OH; oy++)
            {
              const float *src = xp + ((gsize) c * hp + oy + ky) * wp;
              for (int ox = 0; ox < OW; ox += 16)
                {
                  __mmask16 m = lane_mask (OW - ox);
                  __m512 d[DW_O], in[DW_K];
#pragma GCC unroll 3
                  for (int o = 0; o < DW_O; o++)
                    d[o] = _mm512_maskz_loadu_ps (m, dy + (o0 + o) * ohw + (gsize) oy * OW + ox);
#pragma GCC unroll 5
                  for (int k = 0; k < DW_K; k++)
                    in[k] = k < K ? _mm512_maskz_loadu_ps (m, src + ox + k) : _mm512_setzero_ps ();
#pragma GCC unroll 3
                  for (int o = 0; o < DW_O; o++)
#pragma GCC unroll 5
                    for (int k = 0; k < DW_K; k++)
                      acc[o][k] = _mm512_fmadd_ps (d[o], in[k], acc[o][k]);
                }
            }
#pragma GCC unroll 3
          for (int o = 0; o < DW_O; o++)
#pragma GCC unroll 5
            for (int k = 0; k < DW_K; k++)
              _mm512_storeu_ps (dst[o] + k * 16, acc[o][k]);
        }
}

/* ── B: filter lanes ────────────────────────────────────────────────── */

/* b_forward_RxP () for the block shapes below, and b_weight_grad_K ()
 * for K = 1..5: register arrays need compile-time sizes. */
#define BR 5
#define BP 5
#include "lam-cpu-conv-direct-tmpl.h"
#define BR 4
#define BP 6
#include "lam-cpu-conv-direct-tmpl.h"
#define BR 3
#define BP 8
#include "lam-cpu-conv-direct-tmpl.h"
#define BR 2
#define BP 12
#include "lam-cpu-conv-direct-tmpl.h"
#define BR 6
#define BP 4
#include "lam-cpu-conv-direct-tmpl.h"
#define BR 2
#define BP 4
#include "lam-cpu-conv-direct-tmpl.h"
#define BK 1
#include "lam-cpu-conv-direct-tmpl.h"
#define BK 2
#include "lam-cpu-conv-direct-tmpl.h"
#define BK 3
#include "lam-cpu-conv-direct-tmpl.h"
#define BK 4
#include "lam-cpu-conv-direct-tmpl.h"
#define BK 5
#include "lam-cpu-conv-direct-tmpl.h"

/* Block shapes (rows × pixels) for filter lanes: the one that wastes the
 * least work on overlapping last blocks. */
static const int b_shapes[][2] = { { 5, 5 }, { 4, 6 }, { 3, 8 }, { 2, 12 }, { 6, 4 }, { 2, 4 } };

static int
b_pick_shape (const LamConvShape *s)
{
  int best = -1;
  gsize best_work = G_MAXSIZE;
  for (int i = 0; i < (int) G_N_ELEMENTS (b_shapes); i++)
    {
      int R = b_shapes[i][0], P = b_shapes[i][1];
      if (s->OH < R || s->OW < P)
        continue;
      gsize work = (gsize) ((s->OH + R - 1) / R) * R * ((s->OW + P - 1) / P) * P;
      if (work < best_work)
        best = i, best_work = work;
    }
  return best;
}

AVX512 static void
b_forward (const LamConvShape *s, const float *xp, const float *wB, const float *bias,
           gboolean relu, float *y)
{
  switch (b_pick_shape (s))
    {
    case 0: b_forward_5x5 (s, xp, wB, bias, relu, y); break;
    case 1: b_forward_4x6 (s, xp, wB, bias, relu, y); break;
    case 2: b_forward_3x8 (s, xp, wB, bias, relu, y); break;
    case 3: b_forward_2x12 (s, xp, wB, bias, relu, y); break;
    case 4: b_forward_6x4 (s, xp, wB, bias, relu, y); break;
    default: b_forward_2x4 (s, xp, wB, bias, relu, y); break;
    }
}

AVX512 static void
b_weight_grad (const LamConvShape *s, const float *xp, const float *dyt, float *dwB)
{
  switch (s->K)
    {
    case 1: b_weight_grad_1 (s, xp, dyt, dwB); break;
    case 2: b_weight_grad_2 (s, xp, dyt, dwB); break;
    case 3: b_weight_grad_3 (s, xp, dyt, dwB); break;
    case 4: b_weight_grad_4 (s, xp, dyt, dwB); break;
    default: b_weight_grad_5 (s, xp, dyt, dwB); break;
    }
}

/* dx = the transpose of the convolution, as a GEMM and shifted adds:
 * with dy laid out on the padded input's row pitch (dyw[o][oh·wp + ow],
 * zero for ow ≥ OW), tap t = (c, ky, kx) adds
 *   col[q] = Σ_o w[o][t]·dyw[o][q]
 * to dxp[c] at offset ky·wp + kx, for every q < (OH-1)·wp + OW at once:
 * past the last row's last column dy is zero, and the last tap's adds
 * would pass the end of dxp (by K-1 floats: the next image's gradient,
 * which another thread may be writing). Blocks of 8 taps × 3 vectors of
 * q (24 registers); dxp, the padded input gradient, is zeroed by the
 * caller. */
#define XT 8
#define XQ 3
AVX512 static void
b_input_grad (const LamConvShape *s, const float *dyw, const float *w, float *dxp)
{
  int K = s->K, OC = s->OC, CKK = s->C * s->K * s->K;
  int hp = s->H + 2 * s->pad, wp = s->W + 2 * s->pad;
  int nq = (s->OH - 1) * wp + s->OW;
  gsize plane = (gsize) s->OH * wp;

  for (int t0 = 0; t0 < CKK; t0 += XT)
    {
      int nt = MIN (XT, CKK - t0);
      float *dst[XT];
      for (int j = 0; j < XT; j++)
        {
          int t = t0 + MIN (j, nt - 1);
          int c = t / (K * K), ky = t / K % K, kx = t % K;
          dst[j] = dxp + ((gsize) c * hp + ky) * wp + kx;
        }
      for (int q0 = 0; q0 < nq; q0 += XQ * 16)
        {
          __mmask16 m[XQ];
          __m512 acc[XT][XQ];
#pragma GCC unroll 4
          for (int v = 0; v < XQ; v++)
            m[v] = q0 + v * 16 < nq ? lane_mask (nq - q0 - v * 16) : 0;
#pragma GCC unroll 8
          for (int j = 0; j < XT; j++)
#pragma GCC unroll 4
            for (int v = 0; v < XQ; v++)
              acc[j][v] = _mm512_setzero_ps ();
          for (int o = 0; o < OC; o++)
            {
              __m512 d[XQ];
              const float *wo = w + (gsize) o * CKK + t0;
#pragma GCC unroll 4
              for (int v = 0; v < XQ; v++)
                d[v] = _mm512_maskz_loadu_ps (m[v], dyw + o * plane + q0 + v * 16);
#pragma GCC unroll 8
              for (int j = 0; j < XT; j++)
                {
                  __m512 wv = _mm512_set1_ps (j < nt ? wo[j] : 0.0f);
#pragma GCC unroll 4
                  for (int v = 0; v < XQ; v++)
                    acc[j][v] = _mm512_fmadd_ps (d[v], wv, acc[j][v]);
                }
            }
#pragma GCC unroll 8
          for (int j = 0; j < XT; j++)
            if (j < nt)
#pragma GCC unroll 4
              for (int v = 0; v < XQ; v++)
                if (m[v])
                  {
                    float *p = dst[j] + q0 + v * 16;
                    _mm512_mask_storeu_ps (p, m[v], _mm512_add_ps (_mm512_maskz_loadu_ps (m[v], p),
                                                                   acc[j][v]));
                  }
        }
    }
}

/* dy masked by the fused ReLU, as [OC][OH·OW] (pixel lanes) or
 * transposed to [OH·OW][OC] (filter lanes); db[o] += its sum over the
 * image, in lanes and then across them, in a fixed order. */
AVX512 static void
prep_dy (const LamConvShape *s, LamDirectKind kind, const float *dy, const float *relu_y,
         float *db, float *dyb)
{
  int ohw = s->OH * s->OW;
  for (int o = 0; o < s->OC; o++)
    {
      const float *src = dy + (gsize) o * ohw;
      const float *yo = relu_y ? relu_y + (gsize) o * ohw : NULL;
      __m512 sum = _mm512_setzero_ps ();
      for (int i = 0; i < ohw; i += 16)
        {
          __mmask16 m = lane_mask (ohw - i);
          __m512 d = _mm512_maskz_loadu_ps (m, src + i);
          if (yo)
            d = _mm512_maskz_mov_ps (_mm512_cmp_ps_mask (_mm512_maskz_loadu_ps (m, yo + i),
                                                         _mm512_setzero_ps (), _CMP_GT_OQ), d);
          sum = _mm512_add_ps (sum, d);
          if (kind == LAM_DIRECT_PIXEL_LANES)
            _mm512_mask_storeu_ps (dyb + (gsize) o * ohw + i, m, d);
          else
            {
              float t[16];
              _mm512_storeu_ps (t, d);
              for (int l = 0; l < MIN (16, ohw - i); l++)
                dyb[(gsize) (i + l) * s->OC + o] = t[l];
            }
        }
      if (db)
        {
          float t[16], acc = 0;
          _mm512_storeu_ps (t, sum);
          for (int l = 0; l < 16; l++)
            acc += t[l];
          db[o] += acc;
        }
    }
}

#endif /* HAVE_DIRECT */

void
_lam_cpu_direct_forward (const LamConvShape *s, LamDirectKind kind, const float *wpack,
                         const float *bias, gboolean relu, const float *x, float *y, float *scratch)
{
#ifdef HAVE_DIRECT
  const float *xp = pad_image (s, x, scratch);
  if (kind == LAM_DIRECT_PIXEL_LANES)
    a_forward (s, xp, wpack, bias, relu, y);
  else
    b_forward (s, xp, wpack, bias, relu, y);
#else
  g_assert_not_reached ();
#endif
}

void
_lam_cpu_direct_backward_begin (const LamConvShape *s, LamDirectKind kind, float *scratch)
{
  gsize hp = s->H + 2 * s->pad, wp = s->W + 2 * s->pad;
  float *acc = scratch + s->C * hp * wp + 16 + (gsize) (s->OC + DW_O) * s->OH * s->OW + 16;
  memset (acc, 0, acc_floats (s, kind) * sizeof (float));
}

/* One image: masks dy by the fused ReLU, adds to the bias gradient db
 * (may be NULL), accumulates the weight gradient in the scratch's
 * partials, writes dx when asked (filter lanes only; w: the weights as
 * given, [OC][C][K][K]). */
void
_lam_cpu_direct_backward_image (const LamConvShape *s, LamDirectKind kind, const float *w,
                                const float *x, const float *dy, const float *relu_y,
                                float *db, float *dx, float *scratch)
{
#ifdef HAVE_DIRECT
  gsize hp = s->H + 2 * s->pad, wp = s->W + 2 * s->pad;
  gsize ohw = (gsize) s->OH * s->OW;
  float *dyb = scratch + s->C * hp * wp + 16;
  float *acc = dyb + (gsize) (s->OC + DW_O) * ohw + 16;
  const float *xp = pad_image (s, x, scratch);

  prep_dy (s, kind, dy, relu_y, db, dyb);
  if (kind == LAM_DIRECT_PIXEL_LANES)
    {
      /* zero rows for the filters past OC in the last block */
      memset (dyb + s->OC * ohw, 0, (DW_O - 1) * ohw * sizeof (float));
      a_weight_grad (s, xp, dyb, acc);
    }
  else
    {
      b_weight_grad (s, xp, dyb, acc);
      if (dx)
        {
          float *dyw = acc + acc_floats (s, kind) + 64;
          float *dxp = s->pad ? dyw + (gsize) s->OC * s->OH * wp + 16 : dx;
          for (int o = 0; o < s->OC; o++)
            for (int oh = 0; oh < s->OH; oh++)
              {
                float *row = dyw + ((gsize) o * s->OH + oh) * wp;
                for (int ow = 0; ow < s->OW; ow++)
                  row[ow] = dyb[((gsize) oh * s->OW + ow) * s->OC + o];
                for (int ow = s->OW; ow < (int) wp; ow++)
                  row[ow] = 0.0f;
              }
          memset (dxp, 0, (gsize) s->C * hp * wp * sizeof (float));
          b_input_grad (s, dyw, w, dxp);
          if (s->pad)
            for (int c = 0; c < s->C; c++)
              for (int h = 0; h < s->H; h++)
                memcpy (dx + ((gsize) c * s->H + h) * s->W,
                        dxp + ((gsize) c * hp + h + s->pad) * wp + s->pad, s->W * sizeof (float));
        }
    }
#else
  g_assert_not_reached ();
#endif
}

/* Adds the scratch's partials to dw[OC][C][K][K]. */
void
_lam_cpu_direct_backward_end (const LamConvShape *s, LamDirectKind kind, const float *scratch,
                              float *dw)
{
  gsize hp = s->H + 2 * s->pad, wp = s->W + 2 * s->pad;
  const float *acc = scratch + s->C * hp * wp + 16 + (gsize) (s->OC + DW_O) * s->OH * s->OW + 16;
  int K = s->K, C = s->C;
  for (int o = 0; o < s->OC; o++)
    for (int c = 0; c < C; c++)
      for (int ky = 0; ky < K; ky++)
        for (int kx = 0; kx < K; kx++)
          {
            float t;
            if (kind == LAM_DIRECT_PIXEL_LANES)
              {
                const float *l = acc + ((((gsize) o * C + c) * K + ky) * DW_K + kx) * 16;
                t = 0;
                for (int i = 0; i < 16; i++)
                  t += l[i];
              }
            else
              t = acc[((((gsize) (o / 16) * C + c) * K + ky) * K + kx) * 16 + o % 16];
            dw[(((gsize) o * C + c) * K + ky) * K + kx] += t;
          }
}
