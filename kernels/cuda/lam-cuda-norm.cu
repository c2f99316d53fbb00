/* lam-cuda-norm.cu: BatchNorm, softmax and the losses. Reductions run
 * one block per channel or row in a fixed tree: deterministic.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cuda"

#include <float.h>

#include "lam-cuda.h"

#define THREADS 256

/* Kernels */

/* One block per channel: batch mean and variance, running statistics. */
__global__ static void
bn_stats_kernel (const float *x, float *save_mean, float *save_invstd, float *run_mean,
                 float *run_var, int B, int C, int HW, float eps, float momentum)
{
  __shared__ float part[THREADS];
  int c = blockIdx.x;
  size_t cnt = (size_t) B * HW;
  float s = 0;
  for (size_t j = threadIdx.x; j < cnt; j += blockDim.x)
    s += x[((j / HW) * C + c) * HW + j % HW];
  float mean = lam_cuda_block_sum (s, part) / cnt;
  float ss = 0;
  for (size_t j = threadIdx.x; j < cnt; j += blockDim.x)
    {
      float d = x[((j / HW) * C + c) * HW + j % HW] - mean;
      ss += d * d;
    }
  ss = lam_cuda_block_sum (ss, part);
  if (threadIdx.x == 0)
    {
      float var = ss / cnt;
      save_mean[c] = mean;
      save_invstd[c] = rsqrtf (var + eps);
      float unbiased = cnt > 1 ? ss / (cnt - 1) : var;
      run_mean[c] = (1 - momentum) * run_mean[c] + momentum * mean;
      run_var[c] = (1 - momentum) * run_var[c] + momentum * unbiased;
    }
}

__global__ static void
bn_apply_kernel (float *y, const float *x, const float *gamma, const float *beta, const float *mean,
                 const float *invstd, const float *run_mean, const float *run_var, float eps,
                 int C, int HW, size_t n, int train)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  int c = (int) ((i / HW) % C);
  float m = train ? mean[c] : run_mean[c];
  float is = train ? invstd[c] : rsqrtf (run_var[c] + eps);
  y[i] = (x[i] - m) * is * gamma[c] + beta[c];
}

__global__ static void
bn_grad_sums_kernel (float *dgamma, float *dbeta, const float *dy, const float *x, const float *mean,
                     const float *invstd, int B, int C, int HW)
{
  __shared__ float part[THREADS];
  int c = blockIdx.x;
  size_t cnt = (size_t) B * HW;
  float a = 0, b = 0;
  for (size_t j = threadIdx.x; j < cnt; j += blockDim.x)
    {
      size_t i = ((j / HW) * C + c) * HW + j % HW;
      a += dy[i];
      b += dy[i] * (x[i] - mean[c]);
    }
  a = lam_cuda_block_sum (a, part);
  b = lam_cuda_block_sum (b, part);
  if (threadIdx.x == 0)
    {
      dbeta[c] = a;
      dgamma[c] = b * invstd[c];
    }
}

__global__ static void
bn_dx_kernel (float *dx, const float *dy, const float *x, const float *gamma, const float *mean,
              const float *invstd, const float *dgamma, const float *dbeta, int C, int HW, size_t n,
              float cnt)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  int c = (int) ((i / HW) % C);
  float is = invstd[c];
  /* Σdy(x - m) = dgamma / invstd */
  dx[i] = gamma[c] * is / cnt * (cnt * dy[i] - dbeta[c] - (x[i] - mean[c]) * is * dgamma[c]);
}

__global__ static void
softmax_forward_kernel (float *y, const float *x, int rows, int n)
{
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows)
    return;
  const float *xr = x + (size_t) r * n;
  float *yr = y + (size_t) r * n;
  float mx = xr[0], s = 0;
  for (int i = 1; i < n; i++)
    mx = fmaxf (mx, xr[i]);
  for (int i = 0; i < n; i++)
    s += (yr[i] = expf (xr[i] - mx));
  for (int i = 0; i < n; i++)
    yr[i] /= s;
}

__global__ static void
softmax_backward_kernel (float *dx, const float *dy, const float *y, int rows, int n)
{
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows)
    return;
  const float *yr = y + (size_t) r * n, *dyr = dy + (size_t) r * n;
  float dot = 0;
  for (int i = 0; i < n; i++)
    dot += yr[i] * dyr[i];
  for (int i = 0; i < n; i++)
    dx[(size_t) r * n + i] = yr[i] * (dyr[i] - dot);
}

/* Row b's loss and correct count into st[0], st[1]; its gradient into d
 * where not NULL. */
__device__ static void
xent_row (float *d, float *st, const float *z, const gint32 *labels, int b, int B, int n, float scale)
{
  const float *zr = z + (size_t) b * n;
  int y = labels[b], best = 0;
  float mx = zr[0];
  for (int i = 1; i < n; i++)
    {
      mx = fmaxf (mx, zr[i]);
      if (zr[i] > zr[best])
        best = i;
    }
  double s = 0;
  for (int i = 0; i < n; i++)
    s += exp ((double) zr[i] - mx);
  double lse = log (s) + mx;
  st[0] = (float) (lse - zr[y]);
  st[1] = best == y;
  if (d)
    for (int i = 0; i < n; i++)
      d[(size_t) b * n + i] = (float) ((exp ((double) zr[i] - lse) - (i == y)) * scale / B);
}

__device__ static void
mse_row (float *d, float *st, const float *p, const gint32 *labels, int b, int B, int n, float scale)
{
  const float *pr = p + (size_t) b * n;
  int best = 0;
  double s = 0;
  for (int i = 0; i < n; i++)
    {
      float diff = pr[i] - (i == labels[b] ? 1.0f : 0.0f);
      s += (double) diff * diff;
      if (pr[i] > pr[best])
        best = i;
      if (d)
        d[(size_t) b * n + i] = 2.0f * diff * scale / ((float) B * n);
    }
  st[0] = (float) (s / n);
  st[1] = best == labels[b];
}

__device__ static inline void
loss_row (int mse, float *d, float *st, const float *z, const gint32 *labels, int b, int B, int n, float scale)
{
  if (mse)
    mse_row (d, st, z, labels, b, B, n, scale);
  else
    xent_row (d, st, z, labels, b, B, n, scale);
}

/* A thread a row: loss and correct into rowstat[2·r], gradient into d. */
__global__ static void
loss_rows_kernel (int mse, float *d, float *rowstat, const float *z, const gint32 *labels, int B, int n,
                  float scale)
{
  int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b < B)
    loss_row (mse, d, rowstat + 2 * b, z, labels, b, B, n, scale);
}

/* stats[k] += Σ_r rowstat[2r + k], in a fixed order */
__global__ static void
stats_sum_kernel (float *stats, const float *rowstat, int B)
{
  __shared__ float part[THREADS];
  for (int k = 0; k < 2; k++)
    {
      float t = 0;
      for (int r = threadIdx.x; r < B; r += blockDim.x)
        t += rowstat[2 * r + k];
      t = lam_cuda_block_sum (t, part);
      if (threadIdx.x == 0)
        stats[k] += t;
    }
}

/* Both in one block, for a small batch: each thread takes its rows as
 * stats_sum_kernel sums them (r = threadIdx.x, then blockDim.x further
 * on), so the stats come out as the two kernels' do, bit for bit. */
__global__ static void
loss_one_block_kernel (int mse, float *d, float *stats, const float *z, const gint32 *labels, int B, int n,
                       float scale)
{
  __shared__ float part[THREADS];
  float t[2] = { 0, 0 };
  for (int r = threadIdx.x; r < B; r += blockDim.x)
    {
      float st[2];
      loss_row (mse, d, st, z, labels, r, B, n, scale);
      t[0] += st[0];
      t[1] += st[1];
    }
  for (int k = 0; k < 2; k++)
    {
      float v = lam_cuda_block_sum (t[k], part);
      if (threadIdx.x == 0)
        stats[k] += v;
    }
}

/* Launchers */

static void
cuda_batchnorm_forward (LamBackend *be, float *y, const float *x, const float *gamma,
                        const float *beta, float *run_mean, float *run_var, float *save_mean,
                        float *save_invstd, int B, int C, int HW, float eps, float momentum,
                        gboolean train)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) B * C * HW;
  if (train)
    {
      bn_stats_kernel<<<C, THREADS, 0, cu->stream>>> (x, save_mean, save_invstd, run_mean, run_var,
                                                      B, C, HW, eps, momentum);
      LAM_CUDA_LAUNCHED (cu);
    }
  bn_apply_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (
    y, x, gamma, beta, save_mean, save_invstd, run_mean, run_var, eps, C, HW, n, train);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_batchnorm_backward (LamBackend *be, float *dx, float *dgamma, float *dbeta, const float *dy,
                         const float *x, const float *gamma, const float *save_mean,
                         const float *save_invstd, int B, int C, int HW)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) B * C * HW;
  bn_grad_sums_kernel<<<C, THREADS, 0, cu->stream>>> (dgamma, dbeta, dy, x, save_mean, save_invstd, B, C, HW);
  LAM_CUDA_LAUNCHED (cu);
  bn_dx_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (
    dx, dy, x, gamma, save_mean, save_invstd, dgamma, dbeta, C, HW, n, (float) ((size_t) B * HW));
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_softmax_forward (LamBackend *be, float *y, const float *x, int rows, int n)
{
  LAM_CUDA_OP (be, cu);
  softmax_forward_kernel<<<lam_cuda_blocks (rows, 128), 128, 0, cu->stream>>> (y, x, rows, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_softmax_backward (LamBackend *be, float *dx, const float *dy, const float *y, int rows, int n)
{
  LAM_CUDA_OP (be, cu);
  softmax_backward_kernel<<<lam_cuda_blocks (rows, 128), 128, 0, cu->stream>>> (dx, dy, y, rows, n);
  LAM_CUDA_LAUNCHED (cu);
}

/* Batches of up to this many scores take the loss in one launch (one
 * block: its rows' double-precision exp and log on one multiprocessor,
 * which GPUs with little FP64 do slowly; more take two launches). */
#define LOSS_ONE_BLOCK 4096

static void
loss (LamCuda *cu, int mse, float *d, float *stats, const float *z, const gint32 *labels, int B, int n,
      float scale)
{
  if ((size_t) B * n <= LOSS_ONE_BLOCK)
    {
      loss_one_block_kernel<<<1, THREADS, 0, cu->stream>>> (mse, d, stats, z, labels, B, n, scale);
      LAM_CUDA_LAUNCHED (cu);
      return;
    }
  float *rowstat = _lam_cuda_scratch (cu, 2 * (size_t) B);
  if (rowstat == NULL)
    return;
  loss_rows_kernel<<<lam_cuda_blocks (B, 128), 128, 0, cu->stream>>> (mse, d, rowstat, z, labels, B, n, scale);
  LAM_CUDA_LAUNCHED (cu);
  stats_sum_kernel<<<1, THREADS, 0, cu->stream>>> (stats, rowstat, B);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_xent_loss (LamBackend *be, float *dlogits, float *stats, const float *logits,
                const gint32 *labels, int B, int n, float scale)
{
  LAM_CUDA_OP (be, cu);
  loss (cu, 0, dlogits, stats, logits, labels, B, n, scale);
}

static void
cuda_mse_loss (LamBackend *be, float *dpred, float *stats, const float *pred, const gint32 *labels,
               int B, int n, float scale)
{
  LAM_CUDA_OP (be, cu);
  loss (cu, 1, dpred, stats, pred, labels, B, n, scale);
}

void
_lam_cuda_norm_init (LamBackendOps *ops)
{
  ops->batchnorm_forward = cuda_batchnorm_forward;
  ops->batchnorm_backward = cuda_batchnorm_backward;
  ops->softmax_forward = cuda_softmax_forward;
  ops->softmax_backward = cuda_softmax_backward;
  ops->xent_loss = cuda_xent_loss;
  ops->mse_loss = cuda_mse_loss;
}
