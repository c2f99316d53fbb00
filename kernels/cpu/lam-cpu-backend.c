/* lam-cpu-backend.c: the CPU backend on OpenBLAS and a small thread pool.
 *
 * Work is split statically by thread, so results do not depend on
 * timing: one seed and one thread count repeat a run bit for bit.
 * OpenBLAS runs single-threaded inside each of our threads.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cpu"

#include "config.h"

#include <malloc.h>

#include <math.h>
#include <string.h>
#include <cblas.h>

#include "lam-cpu.h"

#define SMALL_WORK 16384
#define CHUNK_WORK 65536
#define MAX_CHUNKS 8

float *
_lam_cpu_scratch (LamCpu *cpu, int tid, gsize n)
{
  if (cpu->scratch_len[tid] < n)
    {
      g_free (cpu->scratch[tid]);
      cpu->scratch[tid] = g_malloc (n * sizeof (float));
      cpu->scratch_len[tid] = n;
    }
  return cpu->scratch[tid];
}

int
_lam_cpu_chunks (gsize work, gsize items)
{
  if (work < SMALL_WORK || items < 2)
    return 1;
  return (int) MIN (MIN (items, MAX_CHUNKS), MAX (2, work / CHUNK_WORK));
}

void
_lam_cpu_run (LamCpu *cpu, gsize work, gsize items, LamPoolFunc fn, void *ctx)
{
  lam_pool_run (cpu->pool, _lam_cpu_chunks (work, items), fn, ctx);
}

/* Memory */

static void *
cpu_alloc (LamBackend *be, gsize bytes)
{
  void *p = g_try_malloc0 (MAX (bytes, 1));
  if (p != NULL)
    g_atomic_pointer_add (&LAM_CPU (be)->bytes_held, (gssize) malloc_usable_size (p));
  return p;
}

static gsize
cpu_bytes_held (LamBackend *be)
{
  return (gsize) g_atomic_pointer_get (&LAM_CPU (be)->bytes_held);
}

static void
cpu_free (LamBackend *be, void *p)
{
  if (p != NULL)
    g_atomic_pointer_add (&LAM_CPU (be)->bytes_held, -(gssize) malloc_usable_size (p));
  g_free (p);
}

static void
cpu_copy (LamBackend *be, void *dst, const void *src, gsize bytes)
{
  if (bytes)
    memcpy (dst, src, bytes);
}

static void
cpu_zero (LamBackend *be, void *dst, gsize bytes)
{
  memset (dst, 0, bytes);
}

static void
cpu_synchronize (LamBackend *be)
{
}

/* Batch assembly */

typedef struct {
  float *x; gint32 *y; const guint8 *images; const float *data; const guint8 *labels;
  const gint32 *idx; int B, n; float scale, shift;
} GatherArgs;

static void
gather_worker (void *ctx, int tid, int nt, int thread)
{
  GatherArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->B, tid, nt, &lo, &hi);
  const float scale = a->scale, shift = a->shift;
  const int n = a->n;
  for (gsize b = lo; b < hi; b++)
    {
      float *restrict dst = a->x + b * n;
      gsize off = (gsize) a->idx[b] * n;
      if (a->images)
        {
          const guint8 *restrict src = a->images + off;
          for (int i = 0; i < n; i++)   /* locals: vectorises */
            dst[i] = src[i] * scale + shift;
        }
      else
        memcpy (dst, a->data + off, a->n * sizeof (float));
      a->y[b] = a->labels[a->idx[b]];
    }
}

static void
cpu_gather_u8 (LamBackend *be, float *x, gint32 *y, const guint8 *images, const guint8 *labels,
               const gint32 *idx, int B, int n, float mean, float std)
{
  GatherArgs a = { x, y, images, NULL, labels, idx, B, n, 1.0f / (255.0f * std), -mean / std };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * n, B, gather_worker, &a);
}

static void
cpu_gather_f32 (LamBackend *be, float *x, gint32 *y, const float *data, const guint8 *labels,
                const gint32 *idx, int B, int n)
{
  GatherArgs a = { x, y, NULL, data, labels, idx, B, n, 1, 0 };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * n, B, gather_worker, &a);
}

/* Dense */

typedef struct {
  float *y, *dx, *dw, *db; const float *x, *w, *b, *dy; int B, in, out; gboolean relu;
} DenseArgs;

/* Chunks split the output features, so each chunk packs only its part
 * of the weights (the batch is the small operand). */
static void
dense_forward_worker (void *ctx, int c, int nc, int thread)
{
  DenseArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->out, c, nc, &lo, &hi);
  if (hi == lo)
    return;
  int cols = (int) (hi - lo);
  if (a->b)
    for (int r = 0; r < a->B; r++)
      memcpy (a->y + (gsize) r * a->out + lo, a->b + lo, cols * sizeof (float));
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, a->B, cols, a->in,
               1.0f, a->x, a->in, a->w + lo * a->in, a->in, a->b ? 1.0f : 0.0f, a->y + lo, a->out);
  if (a->relu)
    for (int r = 0; r < a->B; r++)
      {
        float *y = a->y + (gsize) r * a->out + lo;
        for (int i = 0; i < cols; i++)
          y[i] = y[i] > 0 ? y[i] : 0;
      }
}

static int
dense_chunks (int B, int in, int out)
{
  return _lam_cpu_chunks ((gsize) B * in * out, MIN (out / 16, 4));
}

/* AVX-512 path: chunks take panels of 64 output features */
static int
panels (int n)
{
  return (n + LAM_GEMM512_PANEL - 1) / LAM_GEMM512_PANEL;
}

static void
split_panels (int n, int c, int nc, int *lo, int *hi)
{
  gsize plo, phi;
  lam_split (panels (n), c, nc, &plo, &phi);
  *lo = (int) MIN ((gsize) n, plo * LAM_GEMM512_PANEL);
  *hi = (int) MIN ((gsize) n, phi * LAM_GEMM512_PANEL);
}

typedef struct {
  LamCpu *cpu; DenseArgs *d;
} Dense512Args;

static void
cpu_dense_forward (LamBackend *be, float *y, const float *x, const float *w, const float *b,
                   int B, int in, int out, gboolean relu)
{
  LamCpu *cpu = LAM_CPU (be);
  DenseArgs a = { .y = y, .x = x, .w = w, .b = b, .B = B, .in = in, .out = out, .relu = relu };
  if (cpu->gemm512)
    {
      LamGemm g = { .M = B, .N = out, .K = in, .A = x, .lda = in, .B = w, .ldb = in, .b_trans = TRUE,
                    .C = y, .ldc = out, .init = b ? LAM_GEMM_INIT_BIAS : LAM_GEMM_INIT_ZERO,
                    .bias = b, .relu = relu };
      _lam_cpu_gemm512_run (cpu, &g);
      return;
    }
  lam_pool_run (cpu->pool, dense_chunks (B, in, out), dense_forward_worker, &a);
}

/* db[o] = Σ over the batch of dy[b][o], for o in [lo, hi), rows in order */
static void
bias_grad (float *db, const float *dy, int B, int out, gsize lo, gsize hi)
{
  for (gsize o = lo; o < hi; o++)
    db[o] = 0;
  for (int b = 0; b < B; b++)
    {
      const float *row = dy + (gsize) b * out;
      for (gsize o = lo; o < hi; o++)
        db[o] += row[o];
    }
}

static void
dense_backward_worker (void *ctx, int c, int nc, int thread)
{
  DenseArgs *a = ctx;
  gsize lo, hi;

  /* dw[out,in] = dyᵀ[out,B] · x[B,in], this chunk's output rows */
  lam_split (a->out, c, nc, &lo, &hi);
  if (hi > lo)
    {
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) (hi - lo), a->in, a->B,
                   1.0f, a->dy + lo, a->out, a->x, a->in, 0.0f, a->dw + lo * a->in, a->in);
      if (a->db)
        bias_grad (a->db, a->dy, a->B, a->out, lo, hi);
    }
  /* dx[B,in] = dy[B,out] · w[out,in], this chunk's input columns */
  if (a->dx)
    {
      lam_split (a->in, c, nc, &lo, &hi);
      if (hi > lo)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, a->B, (int) (hi - lo), a->out,
                     1.0f, a->dy, a->out, a->w + lo, a->in, 0.0f, a->dx + lo, a->in);
    }
}

/* chunks take panels of 64 input features of dw and dx, and a share of db */
static void
dense_backward512_worker (void *ctx, int c, int nc, int thread)
{
  Dense512Args *a = ctx;
  DenseArgs *d = a->d;
  int lo, hi;
  split_panels (d->in, c, nc, &lo, &hi);
  if (hi > lo)
    {
      /* dw[out,in] = dyᵀ[out,B] · x[B,in] */
      LamGemm g = { .M = d->out, .N = d->in, .K = d->B, .A = d->dy, .lda = d->out, .a_trans = TRUE,
                    .B = d->x, .ldb = d->in, .C = d->dw, .ldc = d->in };
      _lam_cpu_gemm512 (&g, lo, hi, NULL);
      /* dx[B,in] = dy[B,out] · w[out,in] */
      if (d->dx)
        {
          LamGemm h = { .M = d->B, .N = d->in, .K = d->out, .A = d->dy, .lda = d->out,
                        .B = d->w, .ldb = d->in, .C = d->dx, .ldc = d->in };
          _lam_cpu_gemm512 (&h, lo, hi, NULL);
        }
    }
  if (d->db)
    {
      gsize olo, ohi;
      lam_split (d->out, c, nc, &olo, &ohi);
      bias_grad (d->db, d->dy, d->B, d->out, olo, ohi);
    }
}

static void
cpu_dense_backward (LamBackend *be, float *dx, float *dw, float *db, const float *dy,
                    const float *x, const float *w, int B, int in, int out, const float *relu_y)
{
  if (relu_y)
    {
      /* the fused ReLU's backward: dy masked where its output was 0 */
      float *m = _lam_cpu_scratch (LAM_CPU (be), 0, (gsize) B * out);
      for (gsize i = 0; i < (gsize) B * out; i++)
        {
          float d = dy[i];   /* loaded unconditionally, so the loop vectorises */
          m[i] = relu_y[i] > 0 ? d : 0.0f;
        }
      dy = m;
    }
  DenseArgs a = { .dx = dx, .dw = dw, .db = db, .dy = dy, .x = x, .w = w, .B = B, .in = in, .out = out };
  LamCpu *cpu = LAM_CPU (be);
  if (cpu->gemm512)
    {
      Dense512Args g = { cpu, &a };
      lam_pool_run (cpu->pool, _lam_cpu_chunks ((gsize) B * in * out * (dx ? 2 : 1), panels (in)),
                    dense_backward512_worker, &g);
      return;
    }
  lam_pool_run (cpu->pool, dense_chunks (B, in, out), dense_backward_worker, &a);
}

/* Activations */

typedef struct {
  LamActKind kind; float alpha; float *y, *dx; const float *x, *dy, *yy; gsize n;
} ActArgs;

static void
act_forward_worker (void *ctx, int tid, int nt, int thread)
{
  ActArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->n, tid, nt, &lo, &hi);
  float *restrict y = a->y;
  const float *restrict x = a->x;
  switch (a->kind)
    {
    case LAM_ACT_RELU:
      for (gsize i = lo; i < hi; i++)
        y[i] = x[i] > 0 ? x[i] : 0;
      break;
    case LAM_ACT_LEAKYRELU:
      for (gsize i = lo; i < hi; i++)
        y[i] = x[i] > 0 ? x[i] : a->alpha * x[i];
      break;
    case LAM_ACT_TANH:
      for (gsize i = lo; i < hi; i++)
        y[i] = tanhf (x[i]);
      break;
    case LAM_ACT_SIGMOID:
      for (gsize i = lo; i < hi; i++)
        y[i] = 1.0f / (1.0f + expf (-x[i]));
      break;
    case LAM_ACT_GELU:
      for (gsize i = lo; i < hi; i++)
        y[i] = 0.5f * x[i] * (1.0f + erff (x[i] * (float) M_SQRT1_2));
      break;
    }
}

static void
act_backward_worker (void *ctx, int tid, int nt, int thread)
{
  ActArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->n, tid, nt, &lo, &hi);
  float *restrict dx = a->dx;
  const float *restrict x = a->x, *restrict y = a->yy, *restrict dy = a->dy;
  switch (a->kind)
    {
    case LAM_ACT_RELU:
      for (gsize i = lo; i < hi; i++)
        {
          float d = dy[i];   /* loaded unconditionally, so the loop vectorises */
          dx[i] = x[i] > 0 ? d : 0.0f;
        }
      break;
    case LAM_ACT_LEAKYRELU:
      for (gsize i = lo; i < hi; i++)
        {
          float d = dy[i];
          dx[i] = x[i] > 0 ? d : a->alpha * d;
        }
      break;
    case LAM_ACT_TANH:
      for (gsize i = lo; i < hi; i++)
        dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
    case LAM_ACT_SIGMOID:
      for (gsize i = lo; i < hi; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
      break;
    case LAM_ACT_GELU:
      for (gsize i = lo; i < hi; i++)
        {
          float cdf = 0.5f * (1.0f + erff (x[i] * (float) M_SQRT1_2));
          float pdf = expf (-0.5f * x[i] * x[i]) * 0.3989422804014327f;
          dx[i] = dy[i] * (cdf + x[i] * pdf);
        }
      break;
    }
}

static void
cpu_act_forward (LamBackend *be, LamActKind kind, float alpha, float *y, const float *x, gsize n)
{
  ActArgs a = { .kind = kind, .alpha = alpha, .y = y, .x = x, .n = n };
  _lam_cpu_run (LAM_CPU (be), n * (kind <= LAM_ACT_LEAKYRELU ? 1 : 8), n / 1024, act_forward_worker, &a);
}

static void
cpu_act_backward (LamBackend *be, LamActKind kind, float alpha, float *dx, const float *dy,
                  const float *x, const float *y, gsize n)
{
  ActArgs a = { .kind = kind, .alpha = alpha, .dx = dx, .dy = dy, .x = x, .yy = y, .n = n };
  _lam_cpu_run (LAM_CPU (be), n * (kind <= LAM_ACT_LEAKYRELU ? 1 : 8), n / 1024, act_backward_worker, &a);
}

/* Softmax over rows */

static void
cpu_softmax_forward (LamBackend *be, float *y, const float *x, int rows, int n)
{
  for (int r = 0; r < rows; r++)
    {
      const float *xr = x + (gsize) r * n;
      float *yr = y + (gsize) r * n;
      float mx = xr[0], sum = 0;
      for (int i = 1; i < n; i++)
        mx = MAX (mx, xr[i]);
      for (int i = 0; i < n; i++)
        sum += (yr[i] = expf (xr[i] - mx));
      for (int i = 0; i < n; i++)
        yr[i] /= sum;
    }
}

static void
cpu_softmax_backward (LamBackend *be, float *dx, const float *dy, const float *y, int rows, int n)
{
  for (int r = 0; r < rows; r++)
    {
      const float *yr = y + (gsize) r * n, *dyr = dy + (gsize) r * n;
      float *dxr = dx + (gsize) r * n;
      float dot = 0;
      for (int i = 0; i < n; i++)
        dot += yr[i] * dyr[i];
      for (int i = 0; i < n; i++)
        dxr[i] = yr[i] * (dyr[i] - dot);
    }
}

/* Dropout and elementwise helpers */

static void
cpu_dropout_forward (LamBackend *be, float *y, float *mask, const float *x, gsize n, float rate,
                     guint64 seed)
{
  float keep = 1.0f / (1.0f - rate);
  for (gsize i = 0; i < n; i++)
    {
      mask[i] = lam_hash_uniform (seed, i) >= rate ? keep : 0.0f;
      y[i] = x[i] * mask[i];
    }
}

static void
cpu_mul (LamBackend *be, float *y, const float *a, const float *b, gsize n)
{
  for (gsize i = 0; i < n; i++)
    y[i] = a[i] * b[i];
}

static void
cpu_axpy (LamBackend *be, float *y, const float *x, float alpha, gsize n)
{
  cblas_saxpy ((int) n, alpha, x, 1, y, 1);
}

/* BatchNorm, per channel over [B, C, HW] */

typedef struct {
  float *y, *dx, *dgamma, *dbeta, *run_mean, *run_var, *save_mean, *save_invstd;
  const float *x, *dy, *gamma, *beta, *cmean, *cinvstd;
  int B, C, HW; float eps, momentum; gboolean train;
} BnArgs;

/* Sums in 8 independent float lanes (vectorised, fixed order), combined in double. */
static double
lane_sum (const float *restrict x, int n)
{
  float acc[8] = { 0 };
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      acc[k] += x[i + k];
  double t = 0;
  for (int k = 0; k < 8; k++)
    t += acc[k];
  for (; i < n; i++)
    t += x[i];
  return t;
}

/* Σ (x - m)² the same way */
static double
lane_sqdev (const float *restrict x, int n, float m)
{
  float acc[8] = { 0 };
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      acc[k] += (x[i + k] - m) * (x[i + k] - m);
  double t = 0;
  for (int k = 0; k < 8; k++)
    t += acc[k];
  for (; i < n; i++)
    t += (double) (x[i] - m) * (x[i] - m);
  return t;
}

/* Σ dy and Σ dy·(x - m) */
static void
lane_dot2 (const float *restrict dy, const float *restrict x, int n, float m, double *sdy, double *sdyx)
{
  float a[8] = { 0 }, b[8] = { 0 };
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      {
        a[k] += dy[i + k];
        b[k] += dy[i + k] * (x[i + k] - m);
      }
  double ta = 0, tb = 0;
  for (int k = 0; k < 8; k++)
    ta += a[k], tb += b[k];
  for (; i < n; i++)
    ta += dy[i], tb += (double) dy[i] * (x[i] - m);
  *sdy += ta;
  *sdyx += tb;
}

static void
bn_forward_worker (void *ctx, int tid, int nt, int thread)
{
  BnArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->C, tid, nt, &lo, &hi);
  gsize cnt = (gsize) a->B * a->HW;
  for (gsize c = lo; c < hi; c++)
    {
      float mean, invstd;
      if (a->train)
        {
          double s = 0, ss = 0;
          for (int b = 0; b < a->B; b++)
            s += lane_sum (a->x + ((gsize) b * a->C + c) * a->HW, a->HW);
          float m = (float) (s / cnt);
          for (int b = 0; b < a->B; b++)
            ss += lane_sqdev (a->x + ((gsize) b * a->C + c) * a->HW, a->HW, m);
          double var = ss / cnt;
          mean = m;
          invstd = (float) (1.0 / sqrt (var + a->eps));
          a->save_mean[c] = mean;
          a->save_invstd[c] = invstd;
          double unbiased = cnt > 1 ? ss / (cnt - 1) : var;
          a->run_mean[c] = (1 - a->momentum) * a->run_mean[c] + a->momentum * m;
          a->run_var[c] = (1 - a->momentum) * a->run_var[c] + a->momentum * (float) unbiased;
        }
      else
        {
          mean = a->run_mean[c];
          invstd = 1.0f / sqrtf (a->run_var[c] + a->eps);
        }
      float g = a->gamma[c] * invstd, sh = a->beta[c] - mean * g;
      for (int b = 0; b < a->B; b++)
        {
          const float *restrict xp = a->x + ((gsize) b * a->C + c) * a->HW;
          float *restrict yp = a->y + ((gsize) b * a->C + c) * a->HW;
          for (int i = 0; i < a->HW; i++)
            yp[i] = xp[i] * g + sh;
        }
    }
}

static void
cpu_batchnorm_forward (LamBackend *be, float *y, const float *x, const float *gamma,
                       const float *beta, float *run_mean, float *run_var, float *save_mean,
                       float *save_invstd, int B, int C, int HW, float eps, float momentum,
                       gboolean train)
{
  BnArgs a = { .y = y, .x = x, .gamma = gamma, .beta = beta, .run_mean = run_mean,
               .run_var = run_var, .save_mean = save_mean, .save_invstd = save_invstd,
               .B = B, .C = C, .HW = HW, .eps = eps, .momentum = momentum, .train = train };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * C * HW * 3, C, bn_forward_worker, &a);
}

static void
bn_backward_worker (void *ctx, int tid, int nt, int thread)
{
  BnArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->C, tid, nt, &lo, &hi);
  gsize cnt = (gsize) a->B * a->HW;
  for (gsize c = lo; c < hi; c++)
    {
      float mean = a->cmean[c], invstd = a->cinvstd[c];
      double sdy = 0, sdyx = 0;
      for (int b = 0; b < a->B; b++)
        {
          gsize off = ((gsize) b * a->C + c) * a->HW;
          lane_dot2 (a->dy + off, a->x + off, a->HW, mean, &sdy, &sdyx);
        }
      a->dbeta[c] = (float) sdy;
      a->dgamma[c] = (float) (sdyx * invstd);
      /* dx = γ·invstd/N · (N·dy - Σdy - (x - m)·invstd²·Σdy(x - m)) */
      float k = a->gamma[c] * invstd / cnt;
      float m_dy = (float) sdy, m_dyx = (float) (sdyx * invstd * invstd);
      for (int b = 0; b < a->B; b++)
        {
          gsize off = ((gsize) b * a->C + c) * a->HW;
          const float *restrict xp = a->x + off, *restrict dyp = a->dy + off;
          float *restrict dxp = a->dx + off;
          for (int i = 0; i < a->HW; i++)
            dxp[i] = k * (cnt * dyp[i] - m_dy - (xp[i] - mean) * m_dyx);
        }
    }
}

static void
cpu_batchnorm_backward (LamBackend *be, float *dx, float *dgamma, float *dbeta, const float *dy,
                        const float *x, const float *gamma, const float *save_mean,
                        const float *save_invstd, int B, int C, int HW)
{
  BnArgs a = { .dx = dx, .dgamma = dgamma, .dbeta = dbeta, .dy = dy, .x = x, .gamma = gamma,
               .cmean = save_mean, .cinvstd = save_invstd, .B = B, .C = C, .HW = HW };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * C * HW * 4, C, bn_backward_worker, &a);
}

/* Global average pool */

static void
cpu_gap_forward (LamBackend *be, float *y, const float *x, int B, int C, int HW)
{
  for (gsize p = 0; p < (gsize) B * C; p++)
    {
      float s = 0;
      for (int i = 0; i < HW; i++)
        s += x[p * HW + i];
      y[p] = s / HW;
    }
}

static void
cpu_gap_backward (LamBackend *be, float *dx, const float *dy, int B, int C, int HW)
{
  for (gsize p = 0; p < (gsize) B * C; p++)
    for (int i = 0; i < HW; i++)
      dx[p * HW + i] = dy[p] / HW;
}

/* Concat */

static void
cpu_concat_forward (LamBackend *be, float *y, const float *x, int B, int cy, int cx, int off, int inner)
{
  for (int b = 0; b < B; b++)
    memcpy (y + ((gsize) b * cy + off) * inner, x + (gsize) b * cx * inner,
            (gsize) cx * inner * sizeof (float));
}

static void
cpu_concat_backward (LamBackend *be, float *dx, const float *dy, int B, int cy, int cx, int off, int inner)
{
  for (int b = 0; b < B; b++)
    memcpy (dx + (gsize) b * cx * inner, dy + ((gsize) b * cy + off) * inner,
            (gsize) cx * inner * sizeof (float));
}

/* Losses */

static int
argmax (const float *v, int n)
{
  int best = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return best;
}

static void
cpu_xent_loss (LamBackend *be, float *dlogits, float *stats, const float *logits,
               const gint32 *labels, int B, int n, float scale)
{
  double loss = 0;
  int correct = 0;
  for (int b = 0; b < B; b++)
    {
      const float *z = logits + (gsize) b * n;
      int y = labels[b];
      float mx = z[0];
      double sum = 0;
      for (int i = 1; i < n; i++)
        mx = MAX (mx, z[i]);
      /* one exp per logit (float: within an ulp), summed in double; the
       * gradient reuses them, kept in dlogits until divided */
      float *d = dlogits ? dlogits + (gsize) b * n : NULL;
      for (int i = 0; i < n; i++)
        {
          float e = expf (z[i] - mx);
          sum += e;
          if (d)
            d[i] = e;
        }
      double lse = log (sum) + mx;
      loss += lse - z[y];
      correct += argmax (z, n) == y;
      if (d)
        {
          double k = scale / (double) B, inv = 1.0 / sum;
          for (int i = 0; i < n; i++)
            d[i] = (float) ((d[i] * inv - (i == y)) * k);
        }
    }
  stats[0] += (float) loss;
  stats[1] += (float) correct;
}

static void
cpu_mse_loss (LamBackend *be, float *dpred, float *stats, const float *pred, const gint32 *labels,
              int B, int n, float scale)
{
  double loss = 0;
  int correct = 0;
  for (int b = 0; b < B; b++)
    {
      const float *p = pred + (gsize) b * n;
      double s = 0;
      for (int i = 0; i < n; i++)
        {
          float d = p[i] - (i == labels[b] ? 1.0f : 0.0f);
          s += (double) d * d;
          if (dpred)
            dpred[(gsize) b * n + i] = 2.0f * d * scale / ((float) B * n);
        }
      loss += s / n;
      correct += argmax (p, n) == labels[b];
    }
  stats[0] += (float) loss;
  stats[1] += (float) correct;
}

/* Optimizers */

typedef struct {
  float *w, *m, *v; const float *g; gsize n;
  float lr, mom, wd, b1, b2, eps, c1, c2; gboolean nesterov, decoupled;
} OptArgs;

static void
sgd_worker (void *ctx, int tid, int nt, int thread)
{
  OptArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->n, tid, nt, &lo, &hi);
  /* restrict locals, one loop per case: these loops vectorise (through
   * the struct they did not: a quarter of an MLP's step) */
  float *restrict w = a->w + lo, *restrict m = a->m ? a->m + lo : NULL;
  const float *restrict g = a->g + lo;
  const float lr = a->lr, wd = a->wd, mom = a->mom;
  gsize n = hi - lo;
  if (m == NULL)
    for (gsize i = 0; i < n; i++)
      w[i] -= lr * (g[i] + wd * w[i]);
  else if (a->nesterov)
    for (gsize i = 0; i < n; i++)
      {
        float gi = g[i] + wd * w[i];
        float mi = mom * m[i] + gi;
        m[i] = mi;
        w[i] -= lr * (gi + mom * mi);
      }
  else
    for (gsize i = 0; i < n; i++)
      {
        float gi = g[i] + wd * w[i];
        float mi = mom * m[i] + gi;
        m[i] = mi;
        w[i] -= lr * mi;
      }
}

static void
cpu_sgd_step (LamBackend *be, float *w, const float *g, float *vel, gsize n, float lr,
              float momentum, float wd, gboolean nesterov)
{
  OptArgs a = { .w = w, .g = g, .m = momentum != 0 ? vel : NULL, .n = n, .lr = lr,
                .mom = momentum, .wd = wd, .nesterov = nesterov };
  _lam_cpu_run (LAM_CPU (be), n * 4, n / 1024, sgd_worker, &a);
}

static void
adam_worker (void *ctx, int tid, int nt, int thread)
{
  OptArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->n, tid, nt, &lo, &hi);
  float *restrict w = a->w + lo, *restrict m = a->m + lo, *restrict v = a->v + lo;
  const float *restrict g = a->g + lo;
  const float lr = a->lr, wd = a->wd, b1 = a->b1, b2 = a->b2, c1 = a->c1, c2 = a->c2, eps = a->eps;
  const gboolean decoupled = a->decoupled;
  gsize n = hi - lo;
  for (gsize i = 0; i < n; i++)
    {
      float gi = g[i];
      if (decoupled)
        w[i] -= lr * wd * w[i];
      else
        gi += wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      float mhat = m[i] / c1;
      float vhat = v[i] / c2;
      w[i] -= lr * mhat / (sqrtf (vhat) + eps);
    }
}

static void
cpu_adam_step (LamBackend *be, float *w, const float *g, float *m, float *v, gsize n, float lr,
               float beta1, float beta2, float eps, float wd, gboolean decoupled, int t)
{
  OptArgs a = { .w = w, .g = g, .m = m, .v = v, .n = n, .lr = lr, .wd = wd, .b1 = beta1,
                .b2 = beta2, .eps = eps, .decoupled = decoupled,
                .c1 = 1.0f - powf (beta1, (float) t), .c2 = 1.0f - powf (beta2, (float) t) };
  _lam_cpu_run (LAM_CPU (be), n * 10, n / 1024, adam_worker, &a);
}

static void
cpu_destroy (LamBackend *be)
{
  LamCpu *cpu = LAM_CPU (be);
  lam_pool_free (cpu->pool);
  for (int i = 0; i < cpu->n_threads; i++)
    g_free (cpu->scratch[i]);
  g_free (cpu->scratch);
  g_free (cpu->scratch_len);
  g_free (cpu->partials);
  g_free (cpu->wpack);
  g_free (cpu);
}

static LamBackendOps cpu_ops = {
  .destroy = cpu_destroy,
  .alloc = cpu_alloc,
  .bytes_held = cpu_bytes_held,
  .free = cpu_free,
  .upload = cpu_copy,
  .download = cpu_copy,
  .copy = cpu_copy,
  .zero = cpu_zero,
  .synchronize = cpu_synchronize,
  .gather_u8 = cpu_gather_u8,
  .gather_f32 = cpu_gather_f32,
  .dense_forward = cpu_dense_forward,
  .dense_backward = cpu_dense_backward,
  .act_forward = cpu_act_forward,
  .act_backward = cpu_act_backward,
  .softmax_forward = cpu_softmax_forward,
  .softmax_backward = cpu_softmax_backward,
  .dropout_forward = cpu_dropout_forward,
  .mul = cpu_mul,
  .batchnorm_forward = cpu_batchnorm_forward,
  .batchnorm_backward = cpu_batchnorm_backward,
  .gap_forward = cpu_gap_forward,
  .gap_backward = cpu_gap_backward,
  .axpy = cpu_axpy,
  .concat_forward = cpu_concat_forward,
  .concat_backward = cpu_concat_backward,
  .xent_loss = cpu_xent_loss,
  .mse_loss = cpu_mse_loss,
  .sgd_step = cpu_sgd_step,
  .adam_step = cpu_adam_step,
};

LamBackend *
lam_backend_new_cpu (int n_threads)
{
  static gsize ops_init = 0;
  if (g_once_init_enter (&ops_init))
    {
      _lam_cpu_conv_init (&cpu_ops);
      _lam_cpu_seq_init (&cpu_ops);
      g_once_init_leave (&ops_init, 1);
    }
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
  openblas_set_num_threads (1);
#endif
  if (n_threads <= 0)
    n_threads = (int) g_get_num_processors ();
  n_threads = CLAMP (n_threads, 1, 256);

  LamCpu *cpu = g_new0 (LamCpu, 1);
  cpu->pool = lam_pool_new (n_threads);
  cpu->n_threads = lam_pool_n_threads (cpu->pool);
  cpu->scratch = g_new0 (float *, cpu->n_threads);
  cpu->scratch_len = g_new0 (gsize, cpu->n_threads);
  cpu->direct_conv = _lam_cpu_direct_available () && g_strcmp0 (g_getenv ("LAMINA_CONV"), "im2col") != 0;
  cpu->gemm512 = _lam_cpu_direct_available () && g_strcmp0 (g_getenv ("LAMINA_GEMM"), "openblas") != 0;

  LamBackend *be = g_new0 (LamBackend, 1);
  be->ops = &cpu_ops;
  be->ctx = cpu;
  be->name = g_strdup ("cpu");
  be->n_threads = cpu->n_threads;
  be->description = g_strdup_printf ("CPU, %d thread%s, OpenBLAS%s%s", cpu->n_threads,
                                     cpu->n_threads == 1 ? "" : "s",
                                     cpu->direct_conv ? ", AVX-512 convolutions" : "",
                                     cpu->gemm512 ? ", AVX-512 dense layers" : "");
  return be;
}
