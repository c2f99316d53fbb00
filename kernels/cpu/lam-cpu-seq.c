/* lam-cpu-seq.c: the CPU ops of the sequence layers (recurrent cells,
 * attention, LayerNorm, Embedding), LocallyConnected2D and the general
 * helpers they share (gemm, strided copies).
 *
 * As in the rest of the backend, work is split into chunks that depend
 * on the job alone, so results do not depend on the thread count.
 * Reductions over the batch (dA of LTC, LayerNorm's dw, Embedding's dw)
 * split the columns, never the rows, so every sum runs in one fixed order.
 *
 * The cells spend their time in exp: the loops use a polynomial expf
 * (Cephes, relative error below 1.5e-7) that GCC vectorises, and are
 * compiled for AVX-512, AVX2 and baseline x86-64 (target_clones) with
 * the right one picked when the program starts.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cpu"

#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>
#include <cblas.h>

#include "lam-cpu.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define LAM_SIMD __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LAM_SIMD
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define VECTORIZE _Pragma ("GCC ivdep")
#else
#define VECTORIZE
#endif

/* ── Vectorisable math ───────────────────────────────────────────────── */

static inline float
v_expf (float x)
{
  x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
  float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;   /* round(x / ln 2) */
  float r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  gint32 bits = ((gint32) fn + 127) << 23;
  float scale;
  memcpy (&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float
v_sigmoidf (float x)
{
  return 1.0f / (1.0f + v_expf (-x));
}

/* tanh x = 2σ(2x) - 1, and its Taylor series near 0, where that cancels. */
static inline float
v_tanhf (float x)
{
  float t = 2.0f / (1.0f + v_expf (-2.0f * x)) - 1.0f;
  float x2 = x * x;
  float s = x * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f)));
  return fabsf (x) < 0.04f ? s : t;
}

static inline int
clamp_id (float v, int vocab)
{
  int id = (int) lrintf (v);
  return id < 0 ? 0 : id >= vocab ? vocab - 1 : id;
}

/* ── gemm ────────────────────────────────────────────────────────────── */

typedef struct {
  gboolean ta, tb, split_rows;
  int M, N, K, lda, ldb, ldc;
  float alpha, beta;
  const float *A, *B;
  float *C;
} GemmArgs;

static void
gemm_worker (void *ctx, int c, int nc, int tid)
{
  GemmArgs *a = ctx;
  gsize lo, hi;
  if (a->split_rows)
    {
      lam_split (a->M, c, nc, &lo, &hi);
      if (hi == lo)
        return;
      const float *A = a->ta ? a->A + lo : a->A + lo * a->lda;
      cblas_sgemm (CblasRowMajor, a->ta ? CblasTrans : CblasNoTrans, a->tb ? CblasTrans : CblasNoTrans,
                   (int) (hi - lo), a->N, a->K, a->alpha, A, a->lda, a->B, a->ldb, a->beta,
                   a->C + lo * a->ldc, a->ldc);
    }
  else
    {
      lam_split (a->N, c, nc, &lo, &hi);
      if (hi == lo)
        return;
      const float *B = a->tb ? a->B + lo * a->ldb : a->B + lo;
      cblas_sgemm (CblasRowMajor, a->ta ? CblasTrans : CblasNoTrans, a->tb ? CblasTrans : CblasNoTrans,
                   a->M, (int) (hi - lo), a->K, a->alpha, a->A, a->lda, B, a->ldb, a->beta,
                   a->C + lo, a->ldc);
    }
}

static void
cpu_gemm (LamBackend *be, gboolean trans_a, gboolean trans_b, int M, int N, int K, float alpha,
          const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
  if (M <= 0 || N <= 0)
    return;
  if (K <= 0)
    {
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
          C[(gsize) i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(gsize) i * ldc + j];
      return;
    }
  LamCpu *cpu = LAM_CPU (be);
  /* the AVX-512 GEMM (lam-cpu-gemm512.c) for alpha 1 and beta 0 or 1 */
  if (cpu->gemm512 && alpha == 1.0f && (beta == 0.0f || beta == 1.0f))
    {
      LamGemm g = { .M = M, .N = N, .K = K, .A = A, .lda = lda, .a_trans = trans_a,
                    .B = B, .ldb = ldb, .b_trans = trans_b, .C = C, .ldc = ldc,
                    .init = beta == 0.0f ? LAM_GEMM_INIT_ZERO : LAM_GEMM_INIT_C };
      _lam_cpu_gemm512_run (cpu, &g);
      return;
    }
  GemmArgs a = { trans_a, trans_b, M >= N, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C };
  /* Each chunk packs the shared operand again: a few wide chunks, not many thin ones. */
  int items = MIN (MAX (M, N) / 32, 4);
  _lam_cpu_run (LAM_CPU (be), (gsize) M * N * K, items, gemm_worker, &a);
}

/* ── Copies, broadcasts and reductions ───────────────────────────────── */

typedef struct {
  float *dst;
  const float *src;
  int n[4];
  gssize ds[3], ss[3];
} StridedArgs;

static void
strided_worker (void *ctx, int c, int nc, int tid)
{
  StridedArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->n[0], c, nc, &lo, &hi);
  for (gssize i0 = (gssize) lo; i0 < (gssize) hi; i0++)
    for (gssize i1 = 0; i1 < a->n[1]; i1++)
      for (gssize i2 = 0; i2 < a->n[2]; i2++)
        {
          float *d = a->dst + i0 * a->ds[0] + i1 * a->ds[1] + i2 * a->ds[2];
          const float *s = a->src + i0 * a->ss[0] + i1 * a->ss[1] + i2 * a->ss[2];
          memcpy (d, s, (gsize) a->n[3] * sizeof (float));
        }
}

static void
cpu_copy_strided (LamBackend *be, float *dst, const float *src, const int n[4], const gssize ds[3],
                  const gssize ss[3])
{
  StridedArgs a = { dst, src, { n[0], n[1], n[2], n[3] }, { ds[0], ds[1], ds[2] }, { ss[0], ss[1], ss[2] } };
  if (n[0] <= 0 || n[1] <= 0 || n[2] <= 0 || n[3] <= 0)
    return;
  _lam_cpu_run (LAM_CPU (be), (gsize) n[0] * n[1] * n[2] * n[3], n[0], strided_worker, &a);
}

typedef struct {
  float *y;
  const float *x, *v;
  int rows, n;
} RowsArgs;

static void
add_rows_worker (void *ctx, int c, int nc, int tid)
{
  RowsArgs *a = ctx;
  gsize lo, hi;
  int n = a->n;
  const float *restrict v = a->v;
  lam_split (a->rows, c, nc, &lo, &hi);
  for (gsize r = lo; r < hi; r++)
    {
      float *y = a->y + r * n;
      const float *x = a->x + r * n;
      for (int j = 0; j < n; j++)
        y[j] = x[j] + v[j];
    }
}

static void
cpu_add_rows (LamBackend *be, float *y, const float *x, const float *v, int rows, int n)
{
  RowsArgs a = { y, x, v, rows, n };
  _lam_cpu_run (LAM_CPU (be), (gsize) rows * n, rows, add_rows_worker, &a);
}

typedef struct {
  float *y;
  const float *x;
  int rows, n;
} SumRowsArgs;

static void
sum_rows_worker (void *ctx, int c, int nc, int tid)
{
  SumRowsArgs *a = ctx;
  gsize lo, hi;
  float *restrict y = a->y;
  lam_split (a->n, c, nc, &lo, &hi);
  for (gsize j = lo; j < hi; j++)
    y[j] = 0;
  for (gsize r = 0; r < (gsize) a->rows; r++)
    {
      const float *restrict x = a->x + r * a->n;
      for (gsize j = lo; j < hi; j++)
        y[j] += x[j];
    }
}

static void
cpu_sum_rows (LamBackend *be, float *y, const float *x, int rows, int n)
{
  SumRowsArgs a = { y, x, rows, n };
  _lam_cpu_run (LAM_CPU (be), (gsize) rows * n, n / 64, sum_rows_worker, &a);
}

static void
cpu_time_mean_forward (LamBackend *be, float *y, const float *x, int B, int T, int F)
{
  for (gsize b = 0; b < (gsize) B; b++)
    {
      float *yb = y + b * F;
      for (int f = 0; f < F; f++)
        yb[f] = 0;
      for (gsize t = 0; t < (gsize) T; t++)
        for (int f = 0; f < F; f++)
          yb[f] += x[(b * T + t) * F + f];
      for (int f = 0; f < F; f++)
        yb[f] /= T;
    }
}

static void
cpu_time_mean_backward (LamBackend *be, float *dx, const float *dy, int B, int T, int F)
{
  for (gsize b = 0; b < (gsize) B; b++)
    for (gsize t = 0; t < (gsize) T; t++)
      for (int f = 0; f < F; f++)
        dx[(b * T + t) * F + f] = dy[b * F + f] / T;
}

static void
cpu_gather_rows (LamBackend *be, float *dst, const float *src, const gint32 *idx, int B, int n)
{
  for (gsize b = 0; b < (gsize) B; b++)
    memcpy (dst + b * n, src + (gsize) idx[b] * n, (gsize) n * sizeof (float));
}

static void
cpu_mse_loss_targets (LamBackend *be, float *dpred, float *stats, const float *pred,
                      const float *targets, int B, int n, float scale, float tol)
{
  double loss = 0;
  int correct = 0;
  for (gsize b = 0; b < (gsize) B; b++)
    {
      double s = 0;
      gboolean ok = TRUE;
      for (int i = 0; i < n; i++)
        {
          float d = pred[b * n + i] - targets[b * n + i];
          s += (double) d * d;
          ok = ok && fabsf (d) < tol;
          if (dpred)
            dpred[b * n + i] = 2.0f * d * scale / ((float) B * n);
        }
      loss += s / n;
      correct += ok;
    }
  stats[0] += (float) loss;
  stats[1] += (float) correct;
}

/* ── Recurrent cells ─────────────────────────────────────────────────── */

typedef struct {
  float *o1, *o2, *o3, *o4;
  const float *i1, *i2, *i3, *i4, *i5, *i6, *i7, *i8;
  const float *zeros;   /* H zeros, for a gradient that is absent (NULL) */
  int B, H;
  float dt;
} CellArgs;

/* H zeros, from the calling thread's scratch */
static const float *
zeros_for (LamBackend *be, int H)
{
  float *z = _lam_cpu_scratch (LAM_CPU (be), 0, (gsize) H);
  memset (z, 0, (gsize) H * sizeof (float));
  return z;
}

#define CELL_ROWS(a, c, nc, lo, hi) gsize lo, hi; lam_split ((a)->B, c, nc, &lo, &hi)

/* o1 = h, o2 = c, o3 = gates; i1 = xp, i2 = hh, i3 = c_prev */
LAM_SIMD static void
lstm_fwd_worker (void *ctx, int c, int nc, int tid)
{
  CellArgs *a = ctx;
  CELL_ROWS (a, c, nc, lo, hi);
  int H = a->H;
  for (gsize b = lo; b < hi; b++)
    {
      const float *restrict xp = a->i1 + b * 4 * H, *restrict hh = a->i2 + b * 4 * H;
      const float *restrict cp = a->i3 + b * H;
      float *restrict g = a->o3 + b * 4 * H, *restrict h = a->o1 + b * H, *restrict cc = a->o2 + b * H;
      VECTORIZE
      for (int j = 0; j < H; j++)
        {
          float ig = v_sigmoidf (xp[j] + hh[j]);
          float fg = v_sigmoidf (xp[H + j] + hh[H + j]);
          float gg = v_tanhf (xp[2 * H + j] + hh[2 * H + j]);
          float og = v_sigmoidf (xp[3 * H + j] + hh[3 * H + j]);
          float cn = fg * cp[j] + ig * gg;
          g[j] = ig;
          g[H + j] = fg;
          g[2 * H + j] = gg;
          g[3 * H + j] = og;
          cc[j] = cn;
          h[j] = og * v_tanhf (cn);
        }
    }
}

static void
cpu_lstm_cell_forward (LamBackend *be, float *h, float *c, float *gates, const float *xp,
                       const float *hh, const float *c_prev, int B, int H)
{
  CellArgs a = { .o1 = h, .o2 = c, .o3 = gates, .i1 = xp, .i2 = hh, .i3 = c_prev, .B = B, .H = H };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * H * 40, B, lstm_fwd_worker, &a);
}

/* o1 = dpre, o2 = dc_prev; i1 = dh, i2 = dh_rec, i3 = dc_next, i4 = gates, i5 = c, i6 = c_prev */
LAM_SIMD static void
lstm_bwd_worker (void *ctx, int c, int nc, int tid)
{
  CellArgs *a = ctx;
  CELL_ROWS (a, c, nc, lo, hi);
  int H = a->H;
  for (gsize b = lo; b < hi; b++)
    {
      const float *restrict dh = a->i1 ? a->i1 + b * H : a->zeros;
      const float *restrict dhr = a->i2 ? a->i2 + b * H : a->zeros;
      const float *restrict dcn = a->i3 ? a->i3 + b * H : a->zeros;
      const float *restrict g = a->i4 + b * 4 * H, *restrict cc = a->i5 + b * H, *restrict cp = a->i6 + b * H;
      float *restrict dp = a->o1 + b * 4 * H, *restrict dcp = a->o2 + b * H;
      VECTORIZE
      for (int j = 0; j < H; j++)
        {
          float d = dh[j] + dhr[j];
          float ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j];
          float tc = v_tanhf (cc[j]);
          float dc = d * og * (1.0f - tc * tc) + dcn[j];
          float dog = d * tc;
          dp[j] = dc * gg * ig * (1.0f - ig);
          dp[H + j] = dc * cp[j] * fg * (1.0f - fg);
          dp[2 * H + j] = dc * ig * (1.0f - gg * gg);
          dp[3 * H + j] = dog * og * (1.0f - og);
          dcp[j] = dc * fg;
        }
    }
}

static void
cpu_lstm_cell_backward (LamBackend *be, float *dpre, float *dc_prev, const float *dh,
                        const float *dh_rec, const float *dc_next, const float *gates,
                        const float *c, const float *c_prev, int B, int H)
{
  CellArgs a = { .o1 = dpre, .o2 = dc_prev, .i1 = dh, .i2 = dh_rec, .i3 = dc_next, .i4 = gates,
                 .i5 = c, .i6 = c_prev, .zeros = zeros_for (be, H), .B = B, .H = H };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * H * 30, B, lstm_bwd_worker, &a);
}

/* o1 = h, o3 = gates (r, z, n, hn); i1 = xp, i2 = hh, i3 = h_prev */
LAM_SIMD static void
gru_fwd_worker (void *ctx, int c, int nc, int tid)
{
  CellArgs *a = ctx;
  CELL_ROWS (a, c, nc, lo, hi);
  int H = a->H;
  for (gsize b = lo; b < hi; b++)
    {
      const float *restrict xp = a->i1 + b * 3 * H, *restrict hh = a->i2 + b * 3 * H;
      const float *restrict hp = a->i3 + b * H;
      float *restrict g = a->o3 + b * 4 * H, *restrict h = a->o1 + b * H;
      VECTORIZE
      for (int j = 0; j < H; j++)
        {
          float r = v_sigmoidf (xp[j] + hh[j]);
          float z = v_sigmoidf (xp[H + j] + hh[H + j]);
          float hn = hh[2 * H + j];
          float n = v_tanhf (xp[2 * H + j] + r * hn);
          g[j] = r;
          g[H + j] = z;
          g[2 * H + j] = n;
          g[3 * H + j] = hn;
          h[j] = (1.0f - z) * n + z * hp[j];
        }
    }
}

static void
cpu_gru_cell_forward (LamBackend *be, float *h, float *gates, const float *xp, const float *hh,
                      const float *h_prev, int B, int H)
{
  CellArgs a = { .o1 = h, .o3 = gates, .i1 = xp, .i2 = hh, .i3 = h_prev, .B = B, .H = H };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * H * 30, B, gru_fwd_worker, &a);
}

/* o1 = dxp, o2 = dhh, o3 = dh_prev; i1 = dh, i2 = dh_rec, i4 = gates, i6 = h_prev */
LAM_SIMD static void
gru_bwd_worker (void *ctx, int c, int nc, int tid)
{
  CellArgs *a = ctx;
  CELL_ROWS (a, c, nc, lo, hi);
  int H = a->H;
  for (gsize b = lo; b < hi; b++)
    {
      const float *restrict dh = a->i1 ? a->i1 + b * H : a->zeros;
      const float *restrict dhr = a->i2 ? a->i2 + b * H : a->zeros;
      const float *restrict g = a->i4 + b * 4 * H, *restrict hp = a->i6 + b * H;
      float *restrict dxp = a->o1 + b * 3 * H, *restrict dhh = a->o2 + b * 3 * H, *restrict dhp = a->o3 + b * H;
      VECTORIZE
      for (int j = 0; j < H; j++)
        {
          float d = dh[j] + dhr[j];
          float r = g[j], z = g[H + j], n = g[2 * H + j], hn = g[3 * H + j];
          float dn = d * (1.0f - z) * (1.0f - n * n);
          float dz = d * (hp[j] - n) * z * (1.0f - z);
          float dr = dn * hn * r * (1.0f - r);
          dxp[j] = dr;
          dxp[H + j] = dz;
          dxp[2 * H + j] = dn;
          dhh[j] = dr;
          dhh[H + j] = dz;
          dhh[2 * H + j] = dn * r;
          dhp[j] = d * z;
        }
    }
}

static void
cpu_gru_cell_backward (LamBackend *be, float *dxp, float *dhh, float *dh_prev, const float *dh,
                       const float *dh_rec, const float *gates, const float *h_prev, int B, int H)
{
  CellArgs a = { .o1 = dxp, .o2 = dhh, .o3 = dh_prev, .i1 = dh, .i2 = dh_rec, .i4 = gates,
                 .i6 = h_prev, .zeros = zeros_for (be, H), .B = B, .H = H };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * H * 20, B, gru_bwd_worker, &a);
}

LAM_SIMD static void
rnn_fwd_worker (void *ctx, int c, int nc, int tid)
{
  CellArgs *a = ctx;
  CELL_ROWS (a, c, nc, lo, hi);
  int H = a->H;
  float *restrict h = a->o1;
  const float *restrict xp = a->i1, *restrict hh = a->i2;
  VECTORIZE
  for (gsize i = lo * H; i < hi * H; i++)
    h[i] = v_tanhf (xp[i] + hh[i]);
}

static void
cpu_rnn_cell_forward (LamBackend *be, float *h, const float *xp, const float *hh, int B, int H)
{
  CellArgs a = { .o1 = h, .i1 = xp, .i2 = hh, .B = B, .H = H };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * H * 10, B, rnn_fwd_worker, &a);
}

LAM_SIMD static void
rnn_bwd_worker (void *ctx, int c, int nc, int tid)
{
  CellArgs *a = ctx;
  CELL_ROWS (a, c, nc, lo, hi);
  int H = a->H;
  const float *restrict dh = a->i1, *restrict dhr = a->i2, *restrict h = a->i3;
  float *restrict dp = a->o1;
  if (dh && dhr)
    {
      VECTORIZE
      for (gsize i = lo * H; i < hi * H; i++)
        dp[i] = (dh[i] + dhr[i]) * (1.0f - h[i] * h[i]);
    }
  else
    {
      const float *restrict d = dh ? dh : dhr;
      VECTORIZE
      for (gsize i = lo * H; i < hi * H; i++)
        dp[i] = (d ? d[i] : 0.0f) * (1.0f - h[i] * h[i]);
    }
}

static void
cpu_rnn_cell_backward (LamBackend *be, float *dpre, const float *dh, const float *dh_rec,
                       const float *h, int B, int H)
{
  CellArgs a = { .o1 = dpre, .i1 = dh, .i2 = dh_rec, .i3 = h, .B = B, .H = H };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * H * 4, B, rnn_bwd_worker, &a);
}

/* o1 = x_next, o2 = f; i1 = x, i2 = xp, i3 = hh, i4 = A, i5 = log_tau */
LAM_SIMD static void
ltc_fwd_worker (void *ctx, int c, int nc, int tid)
{
  CellArgs *a = ctx;
  CELL_ROWS (a, c, nc, lo, hi);
  int H = a->H;
  float dt = a->dt;
  const float *A = a->i4, *lt = a->i5;
  for (gsize b = lo; b < hi; b++)
    {
      const float *restrict x = a->i1 + b * H, *restrict xp = a->i2 + b * H, *restrict hh = a->i3 + b * H;
      float *restrict xn = a->o1 + b * H, *restrict f = a->o2 + b * H;
      VECTORIZE
      for (int j = 0; j < H; j++)
        {
          float fj = v_sigmoidf (xp[j] + hh[j]);
          float inv_tau = v_expf (-lt[j]);
          f[j] = fj;
          xn[j] = (x[j] + dt * fj * A[j]) / (1.0f + dt * (inv_tau + fj));
        }
    }
}

static void
cpu_ltc_cell_forward (LamBackend *be, float *x_next, float *f, const float *x, const float *xp,
                      const float *hh, const float *A, const float *log_tau, float dt, int B, int H)
{
  CellArgs a = { .o1 = x_next, .o2 = f, .i1 = x, .i2 = xp, .i3 = hh, .i4 = A, .i5 = log_tau,
                 .B = B, .H = H, .dt = dt };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * H * 25, B, ltc_fwd_worker, &a);
}

/* Columns, so that dA and dlog_tau sum over the batch in one order.
 * o1 = dx, o2 = dpre, o3 = dA, o4 = dlog_tau; i1 = dh, i2 = dh_rec,
 * i3 = x_next, i4 = x (unused: x_next carries it), i5 = f, i6 = A, i7 = log_tau */
LAM_SIMD static void
ltc_bwd_worker (void *ctx, int c, int nc, int tid)
{
  CellArgs *a = ctx;
  gsize lo, hi;
  int H = a->H;
  float dt = a->dt;
  lam_split (H, c, nc, &lo, &hi);
  const float *A = a->i6, *lt = a->i7;
  for (gsize b = 0; b < (gsize) a->B; b++)
    {
      const float *restrict dh = a->i1 ? a->i1 + b * H : a->zeros;
      const float *restrict dhr = a->i2 ? a->i2 + b * H : a->zeros;
      const float *restrict xn = a->i3 + b * H, *restrict f = a->i5 + b * H;
      float *restrict dx = a->o1 + b * H, *restrict dp = a->o2 + b * H;
      float *restrict dA = a->o3, *restrict dlt = a->o4;
      VECTORIZE
      for (gsize j = lo; j < hi; j++)
        {
          float g = dh[j] + dhr[j];
          float inv_tau = v_expf (-lt[j]);
          float den = 1.0f + dt * (inv_tau + f[j]);
          float dnum = g / den;
          float dden = -dnum * xn[j];
          float df = dt * (dnum * A[j] + dden);
          dx[j] = dnum;
          dp[j] = df * f[j] * (1.0f - f[j]);
          dA[j] += dnum * dt * f[j];
          dlt[j] -= dden * dt * inv_tau;
        }
    }
}

static void
cpu_ltc_cell_backward (LamBackend *be, float *dx, float *dpre, float *dA, float *dlog_tau,
                       const float *dh, const float *dh_rec, const float *x_next, const float *x,
                       const float *f, const float *A, const float *log_tau, float dt, int B, int H)
{
  CellArgs a = { .o1 = dx, .o2 = dpre, .o3 = dA, .o4 = dlog_tau, .i1 = dh, .i2 = dh_rec,
                 .i3 = x_next, .i4 = x, .i5 = f, .i6 = A, .i7 = log_tau, .zeros = zeros_for (be, H),
                 .B = B, .H = H, .dt = dt };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * H * 30, H / 32, ltc_bwd_worker, &a);
}

/* ── Attention ───────────────────────────────────────────────────────── */

/* Sums of n floats in 16 interleaved lanes, then the lanes in order: the
 * compiler vectorises it (a plain float sum it may not reorder), and the
 * order is fixed, so results do not depend on the vector width. */
static inline float
lane_sum (const float *x, int n)
{
  float acc[16] = { 0 };
  int j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; k++)
      acc[k] += x[j + k];
  float s = 0;
  for (int k = 0; k < 16; k++)
    s += acc[k];
  for (; j < n; j++)
    s += x[j];
  return s;
}

static inline float
lane_dot (const float *x, const float *y, int n)
{
  float acc[16] = { 0 };
  int j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; k++)
      acc[k] += x[j + k] * y[j + k];
  float s = 0;
  for (int k = 0; k < 16; k++)
    s += acc[k];
  for (; j < n; j++)
    s += x[j] * y[j];
  return s;
}

typedef struct {
  LamCpu *cpu;
  float *ctx, *probs, *dqkv;
  const float *qkv, *dctx, *cprobs;
  int B, T, heads, dh;
  gboolean causal;
} AttnArgs;

/* Softmax of each row of s [T, T] in place; causal rows stop at the diagonal. */
LAM_SIMD static void
softmax_rows (float *s, int T, gboolean causal)
{
  for (int i = 0; i < T; i++)
    {
      float *row = s + (gsize) i * T;
      int n = causal ? i + 1 : T;
      float mx = row[0];
      for (int j = 1; j < n; j++)
        mx = row[j] > mx ? row[j] : mx;
      for (int j = 0; j < n; j++)
        row[j] = v_expf (row[j] - mx);
      float inv = 1.0f / lane_sum (row, n);
      for (int j = 0; j < n; j++)
        row[j] *= inv;
      for (int j = n; j < T; j++)
        row[j] = 0;
    }
}

/* Per batch row and head: scores, softmax and the weighted sum, with
 * OpenBLAS for the two products (for the 28×28×16 products of the
 * Transformer preset its small-matrix path beat hand-written
 * register-tiled loops here by 20%). */
static void
attn_fwd_worker (void *ctx, int c, int nc, int tid)
{
  AttnArgs *a = ctx;
  gsize lo, hi;
  int T = a->T, dh = a->dh, D = a->heads * dh, ld = 3 * D;
  float scale = 1.0f / sqrtf ((float) dh);
  lam_split ((gsize) a->B * a->heads, c, nc, &lo, &hi);
  for (gsize item = lo; item < hi; item++)
    {
      gsize b = item / a->heads, h = item % a->heads;
      const float *q = a->qkv + b * T * ld + h * dh, *k = q + D, *v = q + 2 * D;
      float *s = a->probs + item * T * T;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, scale, q, ld, k, ld, 0.0f, s, T);
      softmax_rows (s, T, a->causal);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, s, T, v, ld, 0.0f,
                   a->ctx + b * T * D + h * dh, D);
    }
}

static void
cpu_attention_forward (LamBackend *be, float *ctx, float *probs, const float *qkv, int B, int T,
                       int heads, int dh, gboolean causal)
{
  AttnArgs a = { .cpu = LAM_CPU (be), .ctx = ctx, .probs = probs, .qkv = qkv, .B = B, .T = T,
                 .heads = heads, .dh = dh, .causal = causal };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * heads * T * T * dh * 4, (gsize) B * heads, attn_fwd_worker, &a);
}

/* dS = P ∘ (dP - rowsum (dP ∘ P)) · scale, in place in dp */
LAM_SIMD static void
softmax_rows_backward (float *dp, const float *p, int T, float scale)
{
  for (int i = 0; i < T; i++)
    {
      float *restrict d = dp + (gsize) i * T;
      const float *restrict pr = p + (gsize) i * T;
      float dot = lane_dot (d, pr, T);
      for (int j = 0; j < T; j++)
        d[j] = pr[j] * (d[j] - dot) * scale;
    }
}

static void
attn_bwd_worker (void *ctx, int c, int nc, int tid)
{
  AttnArgs *a = ctx;
  gsize lo, hi;
  int T = a->T, dh = a->dh, D = a->heads * dh, ld = 3 * D;
  float scale = 1.0f / sqrtf ((float) dh);
  float *dp = _lam_cpu_scratch (a->cpu, tid, (gsize) T * T);
  lam_split ((gsize) a->B * a->heads, c, nc, &lo, &hi);
  for (gsize item = lo; item < hi; item++)
    {
      gsize b = item / a->heads, h = item % a->heads;
      const float *q = a->qkv + b * T * ld + h * dh, *k = q + D, *v = q + 2 * D;
      const float *p = a->cprobs + item * T * T;
      const float *dctx = a->dctx + b * T * D + h * dh;
      float *dq = a->dqkv + b * T * ld + h * dh, *dk = dq + D, *dv = dq + 2 * D;
      /* dP = dctx · Vᵀ (masked entries meet P = 0), dV = Pᵀ · dctx */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1.0f, dctx, D, v, ld, 0.0f, dp, T);
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f, p, T, dctx, D, 0.0f, dv, ld);
      softmax_rows_backward (dp, p, T, scale);
      /* dQ = dS · K, dK = dSᵀ · Q */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, dp, T, k, ld, 0.0f, dq, ld);
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f, dp, T, q, ld, 0.0f, dk, ld);
    }
}

static void
cpu_attention_backward (LamBackend *be, float *dqkv, const float *dctx, const float *qkv,
                        const float *probs, int B, int T, int heads, int dh)
{
  AttnArgs a = { .cpu = LAM_CPU (be), .dqkv = dqkv, .dctx = dctx, .qkv = qkv, .cprobs = probs,
                 .B = B, .T = T, .heads = heads, .dh = dh };
  _lam_cpu_run (LAM_CPU (be), (gsize) B * heads * T * T * dh * 8, (gsize) B * heads, attn_bwd_worker, &a);
}

/* ── LayerNorm ───────────────────────────────────────────────────────── */

typedef struct {
  float *y, *mean, *rstd, *dx, *dw, *db;
  const float *x, *w, *b, *dy, *cmean, *crstd;
  float *tmp;   /* per row n floats of scratch, per thread */
  LamCpu *cpu;
  int rows, n;
  float eps;
} LnArgs;

LAM_SIMD static void
ln_fwd_worker (void *ctx, int c, int nc, int tid)
{
  LnArgs *a = ctx;
  gsize lo, hi;
  int n = a->n;
  float *restrict t = _lam_cpu_scratch (a->cpu, tid, (gsize) n);
  const float *restrict w = a->w, *restrict bb = a->b;
  lam_split (a->rows, c, nc, &lo, &hi);
  for (gsize r = lo; r < hi; r++)
    {
      const float *restrict x = a->x + r * n;
      float *restrict y = a->y + r * n;
      float m = lane_sum (x, n) / n;
      for (int j = 0; j < n; j++)
        t[j] = x[j] - m;
      float rs = 1.0f / sqrtf (lane_dot (t, t, n) / n + a->eps);
      a->mean[r] = m;
      a->rstd[r] = rs;
      for (int j = 0; j < n; j++)
        y[j] = t[j] * rs * w[j] + bb[j];
    }
}

static void
cpu_layernorm_forward (LamBackend *be, float *y, float *mean, float *rstd, const float *x,
                       const float *w, const float *b, int rows, int n, float eps)
{
  LnArgs a = { .y = y, .mean = mean, .rstd = rstd, .x = x, .w = w, .b = b, .cpu = LAM_CPU (be),
               .rows = rows, .n = n, .eps = eps };
  _lam_cpu_run (LAM_CPU (be), (gsize) rows * n * 5, rows, ln_fwd_worker, &a);
}

LAM_SIMD static void
ln_bwd_dx_worker (void *ctx, int c, int nc, int tid)
{
  LnArgs *a = ctx;
  gsize lo, hi;
  int n = a->n;
  float *restrict g = _lam_cpu_scratch (a->cpu, tid, 2 * (gsize) n), *restrict xh = g + n;
  const float *restrict w = a->w;
  lam_split (a->rows, c, nc, &lo, &hi);
  for (gsize r = lo; r < hi; r++)
    {
      const float *restrict x = a->x + r * n, *restrict dy = a->dy + r * n;
      float *restrict dx = a->dx + r * n;
      float m = a->cmean[r], rs = a->crstd[r];
      for (int j = 0; j < n; j++)
        {
          g[j] = dy[j] * w[j];
          xh[j] = (x[j] - m) * rs;
        }
      float sg = lane_sum (g, n) / n, sgx = lane_dot (g, xh, n) / n;
      for (int j = 0; j < n; j++)
        dx[j] = rs * (g[j] - sg - xh[j] * sgx);
    }
}

LAM_SIMD static void
ln_bwd_dw_worker (void *ctx, int c, int nc, int tid)
{
  LnArgs *a = ctx;
  gsize lo, hi;
  int n = a->n;
  float *restrict dw = a->dw, *restrict db = a->db;
  lam_split (n, c, nc, &lo, &hi);
  for (gsize j = lo; j < hi; j++)
    dw[j] = db[j] = 0;
  for (gsize r = 0; r < (gsize) a->rows; r++)
    {
      const float *restrict x = a->x + r * n, *restrict dy = a->dy + r * n;
      float m = a->cmean[r], rs = a->crstd[r];
      for (gsize j = lo; j < hi; j++)
        {
          dw[j] += dy[j] * (x[j] - m) * rs;
          db[j] += dy[j];
        }
    }
}

static void
cpu_layernorm_backward (LamBackend *be, float *dx, float *dw, float *db, const float *dy,
                        const float *x, const float *mean, const float *rstd, const float *w,
                        int rows, int n)
{
  LnArgs a = { .dx = dx, .dw = dw, .db = db, .dy = dy, .x = x, .cmean = mean, .crstd = rstd, .w = w,
               .cpu = LAM_CPU (be), .rows = rows, .n = n };
  if (dx)
    _lam_cpu_run (LAM_CPU (be), (gsize) rows * n * 6, rows, ln_bwd_dx_worker, &a);
  _lam_cpu_run (LAM_CPU (be), (gsize) rows * n * 4, n / 16, ln_bwd_dw_worker, &a);
}

/* ── Embedding ───────────────────────────────────────────────────────── */

static void
cpu_embedding_forward (LamBackend *be, float *y, const float *ids, const float *w, int N, int vocab,
                       int dim)
{
  for (gsize i = 0; i < (gsize) N; i++)
    memcpy (y + i * dim, w + (gsize) clamp_id (ids[i], vocab) * dim, (gsize) dim * sizeof (float));
}

typedef struct {
  float *dw;
  const float *dy, *ids;
  int N, vocab, dim;
} EmbArgs;

static void
emb_bwd_worker (void *ctx, int c, int nc, int tid)
{
  EmbArgs *a = ctx;
  gsize lo, hi;
  lam_split (a->dim, c, nc, &lo, &hi);
  for (gsize v = 0; v < (gsize) a->vocab; v++)
    memset (a->dw + v * a->dim + lo, 0, (hi - lo) * sizeof (float));
  for (gsize i = 0; i < (gsize) a->N; i++)
    {
      float *d = a->dw + (gsize) clamp_id (a->ids[i], a->vocab) * a->dim;
      const float *g = a->dy + i * a->dim;
      for (gsize j = lo; j < hi; j++)
        d[j] += g[j];
    }
}

static void
cpu_embedding_backward (LamBackend *be, float *dw, const float *dy, const float *ids, int N,
                        int vocab, int dim)
{
  EmbArgs a = { dw, dy, ids, N, vocab, dim };
  _lam_cpu_run (LAM_CPU (be), (gsize) (N + vocab) * dim, dim / 16, emb_bwd_worker, &a);
}

/* ── LocallyConnected2D ──────────────────────────────────────────────── */

typedef struct {
  const LamConvShape *s;
  float *y, *dw, *db, *dcol;
  const float *x, *w, *b, *dy;
  LamCpu *cpu;
} LcArgs;

/* xp[b, (c·K + ki)·K + kj] = the patch of image b at output position (oh, ow) */
static void
lc_patch (const LamConvShape *s, const float *x, int oh, int ow, float *xp)
{
  int K = s->K, CKK = s->C * K * K;
  for (int b = 0; b < s->B; b++)
    for (int c = 0; c < s->C; c++)
      for (int ki = 0; ki < K; ki++)
        {
          int ih = oh * s->stride - s->pad + ki;
          float *dst = xp + (gsize) b * CKK + (c * K + ki) * K;
          if (ih < 0 || ih >= s->H)
            {
              /* a row of the padding (no pointer to it: it is outside x) */
              memset (dst, 0, K * sizeof (float));
              continue;
            }
          const float *src = x + (((gsize) b * s->C + c) * s->H + ih) * s->W;
          for (int kj = 0; kj < K; kj++)
            {
              int iw = ow * s->stride - s->pad + kj;
              dst[kj] = iw >= 0 && iw < s->W ? src[iw] : 0.0f;
            }
        }
}

static void
lc_fwd_worker (void *ctx, int c, int nc, int tid)
{
  LcArgs *a = ctx;
  const LamConvShape *s = a->s;
  int CKK = s->C * s->K * s->K, OHW = s->OH * s->OW;
  gsize lo, hi;
  lam_split (OHW, c, nc, &lo, &hi);
  float *xp = _lam_cpu_scratch (a->cpu, tid, (gsize) s->B * CKK + (gsize) s->B * s->OC);
  float *yp = xp + (gsize) s->B * CKK;
  for (gsize p = lo; p < hi; p++)
    {
      lc_patch (s, a->x, (int) (p / s->OW), (int) (p % s->OW), xp);
      /* yp[B, OC] = xp[B, CKK] · w_pᵀ */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, s->B, s->OC, CKK, 1.0f, xp, CKK,
                   a->w + p * s->OC * CKK, CKK, 0.0f, yp, s->OC);
      for (int b = 0; b < s->B; b++)
        for (int oc = 0; oc < s->OC; oc++)
          a->y[((gsize) b * s->OC + oc) * OHW + p] =
            yp[(gsize) b * s->OC + oc] + (a->b ? a->b[(gsize) oc * OHW + p] : 0.0f);
    }
}

static void
cpu_lc2d_forward (LamBackend *be, const LamConvShape *s, float *y, const float *x, const float *w,
                  const float *b)
{
  LcArgs a = { .s = s, .y = y, .x = x, .w = w, .b = b, .cpu = LAM_CPU (be) };
  gsize OHW = (gsize) s->OH * s->OW;
  _lam_cpu_run (LAM_CPU (be), OHW * s->B * s->OC * s->C * s->K * s->K, OHW, lc_fwd_worker, &a);
}

static void
lc_bwd_worker (void *ctx, int c, int nc, int tid)
{
  LcArgs *a = ctx;
  const LamConvShape *s = a->s;
  int CKK = s->C * s->K * s->K, OHW = s->OH * s->OW;
  gsize lo, hi;
  lam_split (OHW, c, nc, &lo, &hi);
  float *xp = _lam_cpu_scratch (a->cpu, tid, (gsize) s->B * CKK + (gsize) s->B * s->OC);
  float *dyp = xp + (gsize) s->B * CKK;
  for (gsize p = lo; p < hi; p++)
    {
      lc_patch (s, a->x, (int) (p / s->OW), (int) (p % s->OW), xp);
      for (int b = 0; b < s->B; b++)
        for (int oc = 0; oc < s->OC; oc++)
          dyp[(gsize) b * s->OC + oc] = a->dy[((gsize) b * s->OC + oc) * OHW + p];
      /* dw_p[OC, CKK] = dypᵀ · xp */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, s->OC, CKK, s->B, 1.0f, dyp, s->OC, xp, CKK,
                   0.0f, a->dw + p * s->OC * CKK, CKK);
      if (a->db)
        for (int oc = 0; oc < s->OC; oc++)
          {
            float sum = 0;
            for (int b = 0; b < s->B; b++)
              sum += dyp[(gsize) b * s->OC + oc];
            a->db[(gsize) oc * OHW + p] = sum;
          }
      /* dcol_p[B, CKK] = dyp · w_p */
      if (a->dcol)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, s->B, CKK, s->OC, 1.0f, dyp, s->OC,
                     a->w + p * s->OC * CKK, CKK, 0.0f, a->dcol + p * s->B * CKK, CKK);
    }
}

/* dx[b, c] = the sum of the patch gradients over the positions that saw it, in position order */
static void
lc_col2im_worker (void *ctx, int c, int nc, int tid)
{
  LcArgs *a = ctx;
  const LamConvShape *s = a->s;
  int K = s->K, CKK = s->C * K * K;
  gsize lo, hi;
  lam_split ((gsize) s->B * s->C, c, nc, &lo, &hi);
  for (gsize plane = lo; plane < hi; plane++)
    {
      int b = (int) (plane / s->C), ch = (int) (plane % s->C);
      float *dx = a->y + plane * s->H * s->W;
      memset (dx, 0, (gsize) s->H * s->W * sizeof (float));
      for (int oh = 0; oh < s->OH; oh++)
        for (int ow = 0; ow < s->OW; ow++)
          {
            const float *g = a->dcol + ((gsize) (oh * s->OW + ow) * s->B + b) * CKK + ch * K * K;
            for (int ki = 0; ki < K; ki++)
              {
                int ih = oh * s->stride - s->pad + ki;
                if (ih < 0 || ih >= s->H)
                  continue;
                for (int kj = 0; kj < K; kj++)
                  {
                    int iw = ow * s->stride - s->pad + kj;
                    if (iw >= 0 && iw < s->W)
                      dx[ih * s->W + iw] += g[ki * K + kj];
                  }
              }
          }
    }
}

static void
cpu_lc2d_backward (LamBackend *be, const LamConvShape *s, float *dx, float *dw, float *db,
                   const float *dy, const float *x, const float *w)
{
  gsize OHW = (gsize) s->OH * s->OW, CKK = (gsize) s->C * s->K * s->K;
  g_autofree float *dcol = dx ? g_new (float, OHW * s->B * CKK) : NULL;
  LcArgs a = { .s = s, .dw = dw, .db = db, .dcol = dcol, .x = x, .w = w, .dy = dy, .cpu = LAM_CPU (be) };
  _lam_cpu_run (LAM_CPU (be), OHW * s->B * s->OC * CKK * (dx ? 2 : 1), OHW, lc_bwd_worker, &a);
  if (dx)
    {
      a.y = dx;
      _lam_cpu_run (LAM_CPU (be), OHW * s->B * CKK, (gsize) s->B * s->C, lc_col2im_worker, &a);
    }
}

void
_lam_cpu_seq_init (LamBackendOps *ops)
{
  ops->gemm = cpu_gemm;
  ops->copy_strided = cpu_copy_strided;
  ops->add_rows = cpu_add_rows;
  ops->sum_rows = cpu_sum_rows;
  ops->time_mean_forward = cpu_time_mean_forward;
  ops->time_mean_backward = cpu_time_mean_backward;
  ops->gather_rows = cpu_gather_rows;
  ops->mse_loss_targets = cpu_mse_loss_targets;
  ops->lstm_cell_forward = cpu_lstm_cell_forward;
  ops->lstm_cell_backward = cpu_lstm_cell_backward;
  ops->gru_cell_forward = cpu_gru_cell_forward;
  ops->gru_cell_backward = cpu_gru_cell_backward;
  ops->rnn_cell_forward = cpu_rnn_cell_forward;
  ops->rnn_cell_backward = cpu_rnn_cell_backward;
  ops->ltc_cell_forward = cpu_ltc_cell_forward;
  ops->ltc_cell_backward = cpu_ltc_cell_backward;
  ops->attention_forward = cpu_attention_forward;
  ops->attention_backward = cpu_attention_backward;
  ops->layernorm_forward = cpu_layernorm_forward;
  ops->layernorm_backward = cpu_layernorm_backward;
  ops->embedding_forward = cpu_embedding_forward;
  ops->embedding_backward = cpu_embedding_backward;
  ops->lc2d_forward = cpu_lc2d_forward;
  ops->lc2d_backward = cpu_lc2d_backward;
}
