/* lam-cpu-conv.c: convolution (im2col + sgemm per image, images split
 * across threads) and pooling on the CPU.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cpu"

#include "config.h"

#include <float.h>
#include <string.h>
#include <cblas.h>

#include "lam-cpu.h"

/* col[(c*K + ki)*K + kj][oh*OW + ow] = x[c][oh*s - p + ki][ow*s - p + kj] (0 outside) */
static void
im2col (const LamConvShape *s, const float *x, float *col)
{
  int K = s->K, st = s->stride, p = s->pad, OHW = s->OH * s->OW;
  for (int c = 0; c < s->C; c++)
    for (int ki = 0; ki < K; ki++)
      for (int kj = 0; kj < K; kj++)
        {
          float *row = col + (gsize) ((c * K + ki) * K + kj) * OHW;
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
              if (st == 1)
                memcpy (dst + ow_lo, src + ow_lo, (ow_hi - ow_lo) * sizeof (float));
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
col2im (const LamConvShape *s, const float *col, float *dx)
{
  int K = s->K, st = s->stride, p = s->pad, OHW = s->OH * s->OW;
  for (int c = 0; c < s->C; c++)
    for (int ki = 0; ki < K; ki++)
      for (int kj = 0; kj < K; kj++)
        {
          const float *row = col + (gsize) ((c * K + ki) * K + kj) * OHW;
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

static gboolean
is_pointwise (const LamConvShape *s)
{
  return s->K == 1 && s->stride == 1 && s->pad == 0;
}

typedef struct {
  const LamConvShape *s;
  LamCpu *cpu;
  float *y, *dx, *dw, *db;
  const float *x, *w, *b, *dy, *relu_y;
  gboolean relu;
} ConvArgs;

static void
conv_forward_worker (void *ctx, int tid, int nt, int thread)
{
  ConvArgs *a = ctx;
  const LamConvShape *s = a->s;
  int CKK = s->C * s->K * s->K, OHW = s->OH * s->OW;
  gsize in_sz = (gsize) s->C * s->H * s->W, out_sz = (gsize) s->OC * OHW;
  float *col = is_pointwise (s) ? NULL : _lam_cpu_scratch (a->cpu, thread, (gsize) CKK * OHW);
  gsize lo, hi;

  lam_split (s->B, tid, nt, &lo, &hi);
  for (gsize b = lo; b < hi; b++)
    {
      const float *xb = a->x + b * in_sz;
      float *yb = a->y + b * out_sz;
      if (col)
        im2col (s, xb, col);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, s->OC, OHW, CKK, 1.0f,
                   a->w, CKK, col ? col : xb, OHW, 0.0f, yb, OHW);
      /* bias and the fused ReLU in one pass while the output is in cache */
      for (int o = 0; o < s->OC && (a->b || a->relu); o++)
        {
          float *yo = yb + (gsize) o * OHW, bo = a->b ? a->b[o] : 0.0f;
          if (a->relu)
            for (int i = 0; i < OHW; i++)
              {
                float v = yo[i] + bo;
                yo[i] = v > 0 ? v : 0;
              }
          else
            for (int i = 0; i < OHW; i++)
              yo[i] += bo;
        }
    }
}

static void
cpu_conv2d_forward (LamBackend *be, const LamConvShape *s, float *y, const float *x,
                    const float *w, const float *b, gboolean relu)
{
  ConvArgs a = { .s = s, .cpu = LAM_CPU (be), .y = y, .x = x, .w = w, .b = b, .relu = relu };
  gsize work = (gsize) s->B * s->OC * s->OH * s->OW * s->C * s->K * s->K;
  _lam_cpu_run (a.cpu, work, s->B, conv_forward_worker, &a);
}

static void
conv_backward_worker (void *ctx, int c, int nc, int thread)
{
  ConvArgs *a = ctx;
  const LamConvShape *s = a->s;
  int CKK = s->C * s->K * s->K, OHW = s->OH * s->OW;
  gsize in_sz = (gsize) s->C * s->H * s->W, out_sz = (gsize) s->OC * OHW;
  gsize col_n = is_pointwise (s) ? 0 : (gsize) CKK * OHW;
  gsize wn = (gsize) s->OC * CKK;
  /* per-thread scratch: [col][dcol]; per-chunk partial gradients:
   * chunk 0 writes dw and db, chunk c > 0 its slot in cpu->partials */
  gsize dcol_n = a->dx ? (gsize) CKK * OHW : 0;
  float *buf = _lam_cpu_scratch (a->cpu, thread, col_n + dcol_n + (a->relu_y ? out_sz : 0) + 1);
  float *col = col_n ? buf : NULL;
  float *dcol = buf + col_n;
  float *mdy = buf + col_n + dcol_n;
  float *pdw = c == 0 ? a->dw : a->cpu->partials + (gsize) (c - 1) * (wn + s->OC);
  float *pdb = a->db == NULL ? NULL : c == 0 ? a->db : pdw + wn;
  gsize lo, hi;

  memset (pdw, 0, wn * sizeof (float));
  if (pdb)
    memset (pdb, 0, s->OC * sizeof (float));
  lam_split (s->B, c, nc, &lo, &hi);
  for (gsize b = lo; b < hi; b++)
    {
      const float *xb = a->x + b * in_sz;
      const float *dyb = a->dy + b * out_sz;
      const float *cb = xb;
      if (a->relu_y)
        {
          /* the fused ReLU's backward, and the bias gradient in the same pass */
          const float *yb = a->relu_y + b * out_sz;
          for (int o = 0; o < s->OC; o++)
            {
              const float *yo = yb + (gsize) o * OHW, *dyo = dyb + (gsize) o * OHW;
              float *m = mdy + (gsize) o * OHW, t = 0;
              for (int i = 0; i < OHW; i++)
                {
                  m[i] = yo[i] > 0 ? dyo[i] : 0;
                  t += m[i];
                }
              if (pdb)
                pdb[o] += t;
            }
          dyb = mdy;
        }
      else if (pdb)
        for (int o = 0; o < s->OC; o++)
          {
            float t = 0;
            for (int i = 0; i < OHW; i++)
              t += dyb[(gsize) o * OHW + i];
            pdb[o] += t;
          }
      if (col)
        {
          im2col (s, xb, col);
          cb = col;
        }
      /* dw[OC, CKK] += dy[OC, OHW] · colᵀ[OHW, CKK] */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, s->OC, CKK, OHW, 1.0f,
                   dyb, OHW, cb, OHW, 1.0f, pdw, CKK);
      if (a->dx)
        {
          float *dxb = a->dx + b * in_sz;
          /* dcol[CKK, OHW] = wᵀ[CKK, OC] · dy[OC, OHW] */
          if (col)
            {
              cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, CKK, OHW, s->OC, 1.0f,
                           a->w, CKK, dyb, OHW, 0.0f, dcol, OHW);
              memset (dxb, 0, in_sz * sizeof (float));
              col2im (s, dcol, dxb);
            }
          else
            cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, CKK, OHW, s->OC, 1.0f,
                         a->w, CKK, dyb, OHW, 0.0f, dxb, OHW);
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
} PoolArgs;

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
          /* the common 2×2 window: no bounds to check */
          for (int oh = 0; oh < s->OH; oh++)
            {
              const float *r0 = x + 2 * oh * s->W, *r1 = r0 + s->W;
              for (int ow = 0; ow < s->OW; ow++)
                {
                  int j = 2 * ow, i0 = 2 * oh * s->W + j;
                  float a0 = r0[j], a1 = r0[j + 1], b0 = r1[j], b1 = r1[j + 1];
                  float m0 = a1 > a0 ? a1 : a0, m1 = b1 > b0 ? b1 : b0;
                  int k0 = a1 > a0 ? i0 + 1 : i0, k1 = b1 > b0 ? i0 + s->W + 1 : i0 + s->W;
                  y[oh * s->OW + ow] = m1 > m0 ? m1 : m0;
                  am[oh * s->OW + ow] = m1 > m0 ? k1 : k0;
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
  PoolArgs a = { .s = s, .y = y, .argmax = argmax, .x = x };
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
