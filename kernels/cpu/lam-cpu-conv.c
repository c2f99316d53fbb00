/* lam-cpu-conv.c: convolution (im2col + sgemm over groups of images,
 * chunks of the batch across threads) and pooling on the CPU.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cpu"

#include "config.h"

#include <float.h>
#include <string.h>
#include <cblas.h>

#include "lam-cpu.h"

/* Convolution as GEMM over a group of g images at once: im2col writes
 * image j's patches into columns [j·OHW, (j+1)·OHW) of a [C·K·K, g·OHW]
 * matrix (row stride ld), so one GEMM covers the group. Groups are sized
 * to keep the patch matrix in cache. */

#define GROUP_FLOATS (96 * 1024)

/* col[(c*K + ki)*K + kj][oh*OW + ow] = x[c][oh*s - p + ki][ow*s - p + kj] (0 outside) */
static void
im2col (const LamConvShape *s, const float *restrict x, float *restrict col, gsize ld)
{
  int K = s->K, st = s->stride, p = s->pad;
  for (int c = 0; c < s->C; c++)
    for (int ki = 0; ki < K; ki++)
      for (int kj = 0; kj < K; kj++)
        {
          float *row = col + (gsize) ((c * K + ki) * K + kj) * ld;
          /* ow range whose iw = ow*st - p + kj lies in [0, W) */
          int ow_lo = 0, ow_hi = s->OW;
          while (ow_lo < s->OW && ow_lo * st - p + kj < 0)
            ow_lo++;
          while (ow_hi > ow_lo && (ow_hi - 1) * st - p + kj >= s->W)
            ow_hi--;
          for (int oh = 0; oh < s->OH; oh++)
            {
              float *dst = row + oh * s->OW;
              int ih = oh * st - p + ki;
              if (ih < 0 || ih >= s->H)
                {
                  memset (dst, 0, s->OW * sizeof (float));
                  continue;
                }
              const float *src = x + ((gsize) c * s->H + ih) * s->W - p + kj;
              for (int ow = 0; ow < ow_lo; ow++)
                dst[ow] = 0;
              /* rows are short (a few dozen floats): an inline loop beats memcpy */
              if (st == 1)
                for (int ow = ow_lo; ow < ow_hi; ow++)
                  dst[ow] = src[ow];
              else
                for (int ow = ow_lo; ow < ow_hi; ow++)
                  dst[ow] = src[ow * st];
              for (int ow = ow_hi; ow < s->OW; ow++)
                dst[ow] = 0;
            }
        }
}

/* dx[c][ih][iw] += col[...] (the transpose of im2col); dx zeroed by the caller */
static void
col2im (const LamConvShape *s, const float *restrict col, gsize ld, float *restrict dx)
{
  int K = s->K, st = s->stride, p = s->pad;
  for (int c = 0; c < s->C; c++)
    for (int ki = 0; ki < K; ki++)
      for (int kj = 0; kj < K; kj++)
        {
          const float *row = col + (gsize) ((c * K + ki) * K + kj) * ld;
          int ow_lo = 0, ow_hi = s->OW;
          while (ow_lo < s->OW && ow_lo * st - p + kj < 0)
            ow_lo++;
          while (ow_hi > ow_lo && (ow_hi - 1) * st - p + kj >= s->W)
            ow_hi--;
          for (int oh = 0; oh < s->OH; oh++)
            {
              int ih = oh * st - p + ki;
              if (ih < 0 || ih >= s->H)
                continue;
              const float *src = row + oh * s->OW;
              float *dst = dx + ((gsize) c * s->H + ih) * s->W - p + kj;
              if (st == 1)
                for (int ow = ow_lo; ow < ow_hi; ow++)
                  dst[ow] += src[ow];
              else
                for (int ow = ow_lo; ow < ow_hi; ow++)
                  dst[ow * st] += src[ow];
            }
        }
}

static int
group_size (const LamConvShape *s)
{
  gsize per = (gsize) MAX (s->C * s->K * s->K, s->OC) * s->OH * s->OW;
  return (int) CLAMP (GROUP_FLOATS / MAX (per, 1), 1, 16);
}

typedef struct {
  const LamConvShape *s;
  LamCpu *cpu;
  float *y, *dx, *dw, *db;
  const float *x, *w, *b, *dy, *relu_y;
  gboolean relu;
  LamDirectKind direct;
} ConvArgs;

/* The direct kernels for this shape (packing the weights for them), or
 * LAM_DIRECT_NONE for im2col. */
static LamDirectKind
direct_setup (LamCpu *cpu, const LamConvShape *s, const float *w, gboolean need_dx)
{
  if (!cpu->direct_conv)
    return LAM_DIRECT_NONE;
  LamDirectKind kind = _lam_cpu_direct_kind (s, need_dx);
  if (kind == LAM_DIRECT_NONE)
    return kind;
  gsize n = _lam_cpu_direct_pack_size (s, kind);
  if (cpu->wpack_len < n)
    {
      g_free (cpu->wpack);
      cpu->wpack = g_malloc (n * sizeof (float));
      cpu->wpack_len = n;
    }
  _lam_cpu_direct_pack (s, kind, w, cpu->wpack);
  return kind;
}

static void
conv_forward_worker (void *ctx, int c, int nc, int thread)
{
  ConvArgs *a = ctx;
  const LamConvShape *s = a->s;
  int CKK = s->C * s->K * s->K, OHW = s->OH * s->OW, G = group_size (s);
  gsize in_sz = (gsize) s->C * s->H * s->W, out_sz = (gsize) s->OC * OHW;
  gsize lo, hi;

  lam_split (s->B, c, nc, &lo, &hi);
  if (a->direct != LAM_DIRECT_NONE)
    {
      float *scr = _lam_cpu_scratch (a->cpu, thread, _lam_cpu_direct_scratch (s, a->direct));
      for (gsize b = lo; b < hi; b++)
        _lam_cpu_direct_forward (s, a->direct, a->cpu->wpack, a->b, a->relu, a->x + b * in_sz,
                                 a->y + b * out_sz, scr);
      return;
    }
  float *col = _lam_cpu_scratch (a->cpu, thread, (gsize) (CKK + s->OC) * G * OHW);
  float *ybuf = col + (gsize) CKK * G * OHW;
  for (gsize b0 = lo; b0 < hi; b0 += G)
    {
      int g = (int) MIN ((gsize) G, hi - b0);
      gsize ld = (gsize) g * OHW;
      for (int j = 0; j < g; j++)
        im2col (s, a->x + (b0 + j) * in_sz, col + (gsize) j * OHW, ld);
      if (s->OC <= LAM_SMALL_GEMM_OC)
        _lam_cpu_gemm_small_nn (s->OC, CKK, ld, a->w, col, ld, ybuf);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, s->OC, (int) ld, CKK, 1.0f,
                     a->w, CKK, col, (int) ld, 0.0f, ybuf, (int) ld);
      /* scatter to NCHW with the bias and the fused ReLU, while in cache */
      for (int j = 0; j < g; j++)
        for (int o = 0; o < s->OC; o++)
          {
            const float *restrict src = ybuf + (gsize) o * ld + (gsize) j * OHW;
            float *restrict yo = a->y + (b0 + j) * out_sz + (gsize) o * OHW;
            float bo = a->b ? a->b[o] : 0.0f;
            if (a->relu)
              for (int i = 0; i < OHW; i++)
                {
                  float v = src[i] + bo;
                  yo[i] = v > 0 ? v : 0;
                }
            else
              for (int i = 0; i < OHW; i++)
                yo[i] = src[i] + bo;
          }
    }
}

static void
cpu_conv2d_forward (LamBackend *be, const LamConvShape *s, float *y, const float *x,
                    const float *w, const float *b, gboolean relu)
{
  ConvArgs a = { .s = s, .cpu = LAM_CPU (be), .y = y, .x = x, .w = w, .b = b, .relu = relu };
  a.direct = direct_setup (a.cpu, s, w, FALSE);
  gsize work = (gsize) s->B * s->OC * s->OH * s->OW * s->C * s->K * s->K;
  _lam_cpu_run (a.cpu, work, s->B, conv_forward_worker, &a);
}

static void
conv_backward_worker (void *ctx, int c, int nc, int thread)
{
  ConvArgs *a = ctx;
  const LamConvShape *s = a->s;
  int CKK = s->C * s->K * s->K, OHW = s->OH * s->OW, G = group_size (s);
  gsize in_sz = (gsize) s->C * s->H * s->W, out_sz = (gsize) s->OC * OHW;
  gsize wn = (gsize) s->OC * CKK;
  gsize col_n = (gsize) CKK * G * OHW;
  /* per-chunk partial gradients: chunk 0 writes dw and db, chunk c > 0 its
   * slot in cpu->partials; summed in chunk order afterwards */
  float *pdw = c == 0 ? a->dw : a->cpu->partials + (gsize) (c - 1) * (wn + s->OC);
  float *pdb = a->db == NULL ? NULL : c == 0 ? a->db : pdw + wn;
  gsize lo, hi;

  memset (pdw, 0, wn * sizeof (float));
  if (pdb)
    memset (pdb, 0, s->OC * sizeof (float));
  lam_split (s->B, c, nc, &lo, &hi);
  if (a->direct != LAM_DIRECT_NONE)
    {
      float *scr = _lam_cpu_scratch (a->cpu, thread, _lam_cpu_direct_scratch (s, a->direct));
      _lam_cpu_direct_backward_begin (s, a->direct, scr);
      for (gsize b = lo; b < hi; b++)
        _lam_cpu_direct_backward_image (s, a->direct, a->w, a->x + b * in_sz,
                                        a->dy + b * out_sz,
                                        a->relu_y ? a->relu_y + b * out_sz : NULL, pdb,
                                        a->dx ? a->dx + b * in_sz : NULL, scr);
      _lam_cpu_direct_backward_end (s, a->direct, scr, pdw);
      return;
    }
  /* per-thread scratch: [col][dy of the group][dcol] */
  float *col = _lam_cpu_scratch (a->cpu, thread, col_n + (gsize) s->OC * G * OHW + (a->dx ? col_n : 0));
  float *dyn = col + col_n;
  float *dcol = dyn + (gsize) s->OC * G * OHW;
  for (gsize b0 = lo; b0 < hi; b0 += G)
    {
      int g = (int) MIN ((gsize) G, hi - b0);
      gsize ld = (gsize) g * OHW;
      /* gather the group's dy (masked by the fused ReLU) as [OC, g·OHW],
       * summing the bias gradient on the way */
      for (int j = 0; j < g; j++)
        {
          const float *dyb = a->dy + (b0 + j) * out_sz;
          const float *yb = a->relu_y ? a->relu_y + (b0 + j) * out_sz : NULL;
          for (int o = 0; o < s->OC; o++)
            {
              const float *restrict src = dyb + (gsize) o * OHW;
              float *restrict dst = dyn + (gsize) o * ld + (gsize) j * OHW;
              float t = 0;
              if (yb)
                {
                  const float *restrict yo = yb + (gsize) o * OHW;
                  for (int i = 0; i < OHW; i++)
                    {
                      float d = src[i];   /* unconditional load: vectorises */
                      dst[i] = yo[i] > 0 ? d : 0.0f;
                      t += dst[i];
                    }
                }
              else
                for (int i = 0; i < OHW; i++)
                  {
                    dst[i] = src[i];
                    t += src[i];
                  }
              if (pdb)
                pdb[o] += t;
            }
          im2col (s, a->x + (b0 + j) * in_sz, col + (gsize) j * OHW, ld);
        }
      /* dw[OC, CKK] += dy[OC, g·OHW] · colᵀ[g·OHW, CKK] */
      if (s->OC <= LAM_SMALL_GEMM_OC)
        _lam_cpu_gemm_small_nt (s->OC, CKK, ld, dyn, col, ld, pdw);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, s->OC, CKK, (int) ld, 1.0f,
                     dyn, (int) ld, col, (int) ld, 1.0f, pdw, CKK);
      if (a->dx)
        {
          /* dcol[CKK, g·OHW] = wᵀ[CKK, OC] · dy[OC, g·OHW], then back to images */
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, CKK, (int) ld, s->OC, 1.0f,
                       a->w, CKK, dyn, (int) ld, 0.0f, dcol, (int) ld);
          for (int j = 0; j < g; j++)
            {
              float *dxb = a->dx + (b0 + j) * in_sz;
              memset (dxb, 0, in_sz * sizeof (float));
              col2im (s, dcol + (gsize) j * OHW, ld, dxb);
            }
        }
    }
}

typedef struct {
  const float *partials; float *dw, *db; gsize wn; int OC; int n_partials;
} ReduceArgs;

/* dw += the partials of chunks 1.., always in chunk order */
static void
reduce_worker (void *ctx, int c, int nc, int thread)
{
  ReduceArgs *r = ctx;
  gsize lo, hi;
  lam_split (r->wn, c, nc, &lo, &hi);
  for (int t = 0; t < r->n_partials; t++)
    {
      const float *p = r->partials + (gsize) t * (r->wn + r->OC);
      for (gsize i = lo; i < hi; i++)
        r->dw[i] += p[i];
      if (r->db && c == 0)
        for (int i = 0; i < r->OC; i++)
          r->db[i] += p[r->wn + i];
    }
}

static void
cpu_conv2d_backward (LamBackend *be, const LamConvShape *s, float *dx, float *dw, float *db,
                     const float *dy, const float *x, const float *w, const float *relu_y)
{
  LamCpu *cpu = LAM_CPU (be);
  ConvArgs a = { .s = s, .cpu = cpu, .dx = dx, .dw = dw, .db = db, .dy = dy, .x = x, .w = w,
                 .relu_y = relu_y };
  a.direct = direct_setup (cpu, s, w, dx != NULL);
  gsize work = (gsize) s->B * s->OC * s->OH * s->OW * s->C * s->K * s->K * (dx ? 2 : 1);
  int nc = _lam_cpu_chunks (work, s->B);
  gsize wn = (gsize) s->OC * s->C * s->K * s->K;
  gsize need = (gsize) (nc - 1) * (wn + s->OC);

  if (cpu->partials_len < need)
    {
      g_free (cpu->partials);
      cpu->partials = g_malloc (need * sizeof (float));
      cpu->partials_len = need;
    }
  lam_pool_run (cpu->pool, nc, conv_backward_worker, &a);
  if (nc > 1)
    {
      ReduceArgs r = { cpu->partials, dw, db, wn, s->OC, nc - 1 };
      _lam_cpu_run (cpu, wn * nc, wn / 256, reduce_worker, &r);
    }
}

/* Pooling: one task per (image, channel) plane. */

typedef struct {
  const LamConvShape *s;
  float *y, *dx; gint32 *argmax; const float *x, *dy; const gint32 *cargmax;
  gboolean avx512;
} PoolArgs;

#if defined(__x86_64__) && defined(__GNUC__)
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"   /* GCC 12's AVX-512 headers */
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define HAVE_POOL512 1

/* One output row of the 2×2 stride-2 max pool, 16 outputs per vector:
 * the same comparisons as the scalar loop below, so the same maximum and
 * the same (first, row-major) argmax, NaNs included. */
__attribute__ ((target ("avx512f")))
static void
maxpool2_row512 (const float *r0, const float *r1, int OW, int W, gint32 base, float *yo,
                 gint32 *ao)
{
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  const __m512i iota2 = _mm512_add_epi32 (even, _mm512_set1_epi32 (base));
  const __m512i one = _mm512_set1_epi32 (1);
  for (int ow = 0; ow < OW; ow += 16)
    {
      int n = MIN (16, OW - ow);
      __mmask16 mlo = (__mmask16) ((1u << MIN (16, 2 * n)) - 1);
      __mmask16 mhi = (__mmask16) ((1u << MAX (0, 2 * n - 16)) - 1);
      __mmask16 mn = (__mmask16) ((1u << n) - 1);
      __m512 a_lo = _mm512_maskz_loadu_ps (mlo, r0 + 2 * ow), a_hi = _mm512_maskz_loadu_ps (mhi, r0 + 2 * ow + 16);
      __m512 b_lo = _mm512_maskz_loadu_ps (mlo, r1 + 2 * ow), b_hi = _mm512_maskz_loadu_ps (mhi, r1 + 2 * ow + 16);
      __m512 a0 = _mm512_permutex2var_ps (a_lo, even, a_hi), a1 = _mm512_permutex2var_ps (a_lo, odd, a_hi);
      __m512 b0 = _mm512_permutex2var_ps (b_lo, even, b_hi), b1 = _mm512_permutex2var_ps (b_lo, odd, b_hi);
      __mmask16 ca = _mm512_cmp_ps_mask (a1, a0, _CMP_GT_OQ), cb = _mm512_cmp_ps_mask (b1, b0, _CMP_GT_OQ);
      __m512 ma = _mm512_mask_blend_ps (ca, a0, a1), mb = _mm512_mask_blend_ps (cb, b0, b1);
      __mmask16 cm = _mm512_cmp_ps_mask (mb, ma, _CMP_GT_OQ);
      __m512i col = _mm512_add_epi32 (iota2, _mm512_set1_epi32 (2 * ow));
      __m512i ka = _mm512_mask_add_epi32 (col, ca, col, one);
      __m512i colb = _mm512_add_epi32 (col, _mm512_set1_epi32 (W));
      __m512i kb = _mm512_mask_add_epi32 (colb, cb, colb, one);
      _mm512_mask_storeu_ps (yo + ow, mn, _mm512_mask_blend_ps (cm, ma, mb));
      _mm512_mask_storeu_epi32 (ao + ow, mn, _mm512_mask_blend_epi32 (cm, ka, kb));
    }
}
#endif

static void
maxpool_forward_worker (void *ctx, int tid, int nt, int thread)
{
  PoolArgs *a = ctx;
  const LamConvShape *s = a->s;
  gsize lo, hi;
  lam_split ((gsize) s->B * s->C, tid, nt, &lo, &hi);
  for (gsize pl = lo; pl < hi; pl++)
    {
      const float *x = a->x + pl * s->H * s->W;
      float *y = a->y + pl * s->OH * s->OW;
      gint32 *am = a->argmax + pl * s->OH * s->OW;
      if (s->K == 2 && s->stride == 2 && s->pad == 0)
        {
          /* the common 2×2 window, branch-free so it vectorises */
#ifdef HAVE_POOL512
          if (a->avx512)
            {
              for (int oh = 0; oh < s->OH; oh++)
                maxpool2_row512 (x + 2 * oh * s->W, x + (2 * oh + 1) * s->W, s->OW, s->W,
                                 2 * oh * s->W, y + oh * s->OW, am + oh * s->OW);
              continue;
            }
#endif
          for (int oh = 0; oh < s->OH; oh++)
            {
              const float *restrict r0 = x + 2 * oh * s->W, *restrict r1 = r0 + s->W;
              float *restrict yo = y + oh * s->OW;
              gint32 *restrict ao = am + oh * s->OW;
              gint32 base = 2 * oh * s->W;
              for (int ow = 0; ow < s->OW; ow++)
                {
                  float a0 = r0[2 * ow], a1 = r0[2 * ow + 1], b0 = r1[2 * ow], b1 = r1[2 * ow + 1];
                  gint32 ca = a1 > a0, cb = b1 > b0;
                  float ma = ca ? a1 : a0, mb = cb ? b1 : b0;
                  gint32 cm = mb > ma;
                  /* first maximum in row-major order, as the general path picks */
                  gint32 ka = base + 2 * ow + ca, kb = base + s->W + 2 * ow + cb;
                  yo[ow] = cm ? mb : ma;
                  ao[ow] = ka + cm * (kb - ka);
                }
            }
          continue;
        }
      for (int oh = 0; oh < s->OH; oh++)
        for (int ow = 0; ow < s->OW; ow++)
          {
            int h0 = oh * s->stride - s->pad, w0 = ow * s->stride - s->pad;
            float best = -FLT_MAX;
            int bi = -1;
            for (int i = MAX (h0, 0); i < MIN (h0 + s->K, s->H); i++)
              for (int j = MAX (w0, 0); j < MIN (w0 + s->K, s->W); j++)
                if (x[i * s->W + j] > best || bi < 0)
                  {
                    best = x[i * s->W + j];
                    bi = i * s->W + j;
                  }
            y[oh * s->OW + ow] = best;
            am[oh * s->OW + ow] = bi;
          }
    }
}

static void
cpu_maxpool_forward (LamBackend *be, const LamConvShape *s, float *y, gint32 *argmax, const float *x)
{
  PoolArgs a = { .s = s, .y = y, .argmax = argmax, .x = x, .avx512 = LAM_CPU (be)->direct_conv };
  _lam_cpu_run (LAM_CPU (be), (gsize) s->B * s->C * s->OH * s->OW * s->K * s->K, (gsize) s->B * s->C, maxpool_forward_worker, &a);
}

static void
maxpool_backward_worker (void *ctx, int tid, int nt, int thread)
{
  PoolArgs *a = ctx;
  const LamConvShape *s = a->s;
  gsize lo, hi;
  lam_split ((gsize) s->B * s->C, tid, nt, &lo, &hi);
  for (gsize pl = lo; pl < hi; pl++)
    {
      float *dx = a->dx + pl * s->H * s->W;
      const float *dy = a->dy + pl * s->OH * s->OW;
      const gint32 *am = a->cargmax + pl * s->OH * s->OW;
      memset (dx, 0, (gsize) s->H * s->W * sizeof (float));
      for (int i = 0; i < s->OH * s->OW; i++)
        dx[am[i]] += dy[i];
    }
}

static void
cpu_maxpool_backward (LamBackend *be, const LamConvShape *s, float *dx, const float *dy,
                      const gint32 *argmax)
{
  PoolArgs a = { .s = s, .dx = dx, .dy = dy, .cargmax = argmax };
  _lam_cpu_run (LAM_CPU (be), (gsize) s->B * s->C * s->H * s->W, (gsize) s->B * s->C, maxpool_backward_worker, &a);
}

static void
avgpool_forward_worker (void *ctx, int tid, int nt, int thread)
{
  PoolArgs *a = ctx;
  const LamConvShape *s = a->s;
  float inv = 1.0f / (s->K * s->K);
  gsize lo, hi;
  lam_split ((gsize) s->B * s->C, tid, nt, &lo, &hi);
  for (gsize pl = lo; pl < hi; pl++)
    {
      const float *x = a->x + pl * s->H * s->W;
      float *y = a->y + pl * s->OH * s->OW;
      for (int oh = 0; oh < s->OH; oh++)
        for (int ow = 0; ow < s->OW; ow++)
          {
            int h0 = oh * s->stride - s->pad, w0 = ow * s->stride - s->pad;
            float t = 0;
            for (int i = MAX (h0, 0); i < MIN (h0 + s->K, s->H); i++)
              for (int j = MAX (w0, 0); j < MIN (w0 + s->K, s->W); j++)
                t += x[i * s->W + j];
            y[oh * s->OW + ow] = t * inv;
          }
    }
}

static void
avgpool_backward_worker (void *ctx, int tid, int nt, int thread)
{
  PoolArgs *a = ctx;
  const LamConvShape *s = a->s;
  float inv = 1.0f / (s->K * s->K);
  gsize lo, hi;
  lam_split ((gsize) s->B * s->C, tid, nt, &lo, &hi);
  for (gsize pl = lo; pl < hi; pl++)
    {
      float *dx = a->dx + pl * s->H * s->W;
      const float *dy = a->dy + pl * s->OH * s->OW;
      memset (dx, 0, (gsize) s->H * s->W * sizeof (float));
      for (int oh = 0; oh < s->OH; oh++)
        for (int ow = 0; ow < s->OW; ow++)
          {
            int h0 = oh * s->stride - s->pad, w0 = ow * s->stride - s->pad;
            float g = dy[oh * s->OW + ow] * inv;
            for (int i = MAX (h0, 0); i < MIN (h0 + s->K, s->H); i++)
              for (int j = MAX (w0, 0); j < MIN (w0 + s->K, s->W); j++)
                dx[i * s->W + j] += g;
          }
    }
}

static void
cpu_avgpool_forward (LamBackend *be, const LamConvShape *s, float *y, const float *x)
{
  PoolArgs a = { .s = s, .y = y, .x = x };
  _lam_cpu_run (LAM_CPU (be), (gsize) s->B * s->C * s->OH * s->OW * s->K * s->K, (gsize) s->B * s->C, avgpool_forward_worker, &a);
}

static void
cpu_avgpool_backward (LamBackend *be, const LamConvShape *s, float *dx, const float *dy)
{
  PoolArgs a = { .s = s, .dx = dx, .dy = dy };
  _lam_cpu_run (LAM_CPU (be), (gsize) s->B * s->C * s->OH * s->OW * s->K * s->K, (gsize) s->B * s->C, avgpool_backward_worker, &a);
}

void
_lam_cpu_conv_init (LamBackendOps *ops)
{
  ops->conv2d_forward = cpu_conv2d_forward;
  ops->conv2d_backward = cpu_conv2d_backward;
  ops->maxpool_forward = cpu_maxpool_forward;
  ops->maxpool_backward = cpu_maxpool_backward;
  ops->avgpool_forward = cpu_avgpool_forward;
  ops->avgpool_backward = cpu_avgpool_backward;
}
