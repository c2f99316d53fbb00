/* lam-cuda-elementwise.cu: batch assembly, activations, dropout, axpy,
 * concat and the optimizers: one thread per element.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cuda"

#include <math.h>

#include "lam-cuda.h"

#define THREADS 256

/* Kernels */

__global__ static void
gather_u8_kernel (float *x, gint32 *y, const guint8 *images, const guint8 *labels,
                  const gint32 *idx, int B, int n, float scale, float shift)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= (size_t) B * n)
    return;
  int b = (int) (i / n), j = (int) (i % n);
  x[i] = images[(size_t) idx[b] * n + j] * scale + shift;
  if (j == 0)
    y[b] = labels[idx[b]];
}

__global__ static void
gather_f32_kernel (float *x, gint32 *y, const float *data, const guint8 *labels,
                   const gint32 *idx, int B, int n)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= (size_t) B * n)
    return;
  int b = (int) (i / n), j = (int) (i % n);
  x[i] = data[(size_t) idx[b] * n + j];
  if (j == 0)
    y[b] = labels[idx[b]];
}

__device__ static inline float
act (LamActKind k, float alpha, float x)
{
  switch (k)
    {
    case LAM_ACT_RELU: return x > 0 ? x : 0;
    case LAM_ACT_LEAKYRELU: return x > 0 ? x : alpha * x;
    case LAM_ACT_TANH: return tanhf (x);
    case LAM_ACT_SIGMOID: return 1.0f / (1.0f + expf (-x));
    default: return 0.5f * x * (1.0f + erff (x * 0.70710678118654752f));
    }
}

__device__ static inline float
act_grad (LamActKind k, float alpha, float x, float y)
{
  switch (k)
    {
    case LAM_ACT_RELU: return x > 0 ? 1.0f : 0.0f;
    case LAM_ACT_LEAKYRELU: return x > 0 ? 1.0f : alpha;
    case LAM_ACT_TANH: return 1.0f - y * y;
    case LAM_ACT_SIGMOID: return y * (1.0f - y);
    default:
      return 0.5f * (1.0f + erff (x * 0.70710678118654752f)) + x * expf (-0.5f * x * x) * 0.3989422804014327f;
    }
}

__global__ static void
act_forward_kernel (LamActKind k, float alpha, float *y, const float *x, size_t n)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i < n)
    y[i] = act (k, alpha, x[i]);
}

__global__ static void
act_backward_kernel (LamActKind k, float alpha, float *dx, const float *dy, const float *x,
                     const float *y, size_t n)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i < n)
    dx[i] = dy[i] * act_grad (k, alpha, x[i], y ? y[i] : 0.0f);
}

/* the same hash as lam_hash_uniform() on the CPU, so masks match */
__device__ static inline float
hash_uniform (guint64 seed, guint64 i)
{
  guint64 z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (float) (z >> 40) * (1.0f / 16777216.0f);
}

__global__ static void
dropout_kernel (float *y, float *mask, const float *x, size_t n, float rate, guint64 seed,
                const guint64 *seed_dev)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  if (seed_dev)   /* a recorded step: the seed changes from replay to replay */
    seed = *seed_dev;
  float m = hash_uniform (seed, i) >= rate ? 1.0f / (1.0f - rate) : 0.0f;
  mask[i] = m;
  y[i] = x[i] * m;
}

__global__ static void
mul_kernel (float *y, const float *a, const float *b, size_t n)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i < n)
    y[i] = a[i] * b[i];
}

__global__ static void
axpy_kernel (float *y, const float *x, float alpha, size_t n)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i < n)
    y[i] += alpha * x[i];
}

/* forward: y[b, off + c, i] = x[b, c, i]; backward the other way */
__global__ static void
concat_kernel (float *y, const float *x, int B, int cy, int cx, int off, int inner, int backward)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  size_t per = (size_t) cx * inner;
  if (i >= (size_t) B * per)
    return;
  size_t b = i / per, r = i % per;
  size_t yi = (b * cy + off) * inner + r;
  if (backward)
    y[i] = x[yi];          /* here y is dx [B, cx, inner] and x is dy */
  else
    y[yi] = x[i];
}

__global__ static void
sgd_kernel (float *w, const float *g, float *vel, size_t n, float lr, float mom, float wd, int nesterov,
            const float *lr_dev)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  if (lr_dev)
    lr = *lr_dev;
  float gi = g[i] + wd * w[i];
  if (vel)
    {
      vel[i] = mom * vel[i] + gi;
      gi = nesterov ? gi + mom * vel[i] : vel[i];
    }
  w[i] -= lr * gi;
}

__global__ static void
adam_kernel (float *w, const float *g, float *m, float *v, size_t n, float lr, float b1, float b2,
             float eps, float wd, int decoupled, float c1, float c2, const float *dyn)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  if (dyn)   /* lr and the bias corrections, which change every step */
    {
      lr = dyn[0];
      c1 = dyn[1];
      c2 = dyn[2];
    }
  float gi = g[i];
  if (decoupled)
    w[i] -= lr * wd * w[i];
  else
    gi += wd * w[i];
  m[i] = b1 * m[i] + (1 - b1) * gi;
  v[i] = b2 * v[i] + (1 - b2) * gi * gi;
  w[i] -= lr * (m[i] / c1) / (sqrtf (v[i] / c2) + eps);
}

/* Launchers */

const gint32 *
_lam_cuda_upload_idx (LamCuda *cu, const gint32 *idx, int B)
{
  return (const gint32 *) _lam_cuda_dyn (cu, idx, (size_t) B * sizeof (gint32));
}

static void
cuda_gather_u8 (LamBackend *be, float *x, gint32 *y, const guint8 *images, const guint8 *labels,
                const gint32 *idx, int B, int n, float mean, float std)
{
  LAM_CUDA_OP_DYN (be, cu);
  const gint32 *didx = _lam_cuda_upload_idx (cu, idx, B);
  if (didx == NULL)
    return;
  size_t N = (size_t) B * n;
  gather_u8_kernel<<<lam_cuda_blocks (N, THREADS), THREADS, 0, cu->stream>>> (
    x, y, images, labels, didx, B, n, 1.0f / (255.0f * std), -mean / std);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_gather_f32 (LamBackend *be, float *x, gint32 *y, const float *data, const guint8 *labels,
                 const gint32 *idx, int B, int n)
{
  LAM_CUDA_OP_DYN (be, cu);
  const gint32 *didx = _lam_cuda_upload_idx (cu, idx, B);
  if (didx == NULL)
    return;
  size_t N = (size_t) B * n;
  gather_f32_kernel<<<lam_cuda_blocks (N, THREADS), THREADS, 0, cu->stream>>> (x, y, data, labels, didx, B, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_act_forward (LamBackend *be, LamActKind kind, float alpha, float *y, const float *x, gsize n)
{
  LAM_CUDA_OP (be, cu);
  act_forward_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (kind, alpha, y, x, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_act_backward (LamBackend *be, LamActKind kind, float alpha, float *dx, const float *dy,
                   const float *x, const float *y, gsize n)
{
  LAM_CUDA_OP (be, cu);
  act_backward_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (kind, alpha, dx, dy, x, y, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_dropout_forward (LamBackend *be, float *y, float *mask, const float *x, gsize n, float rate,
                      guint64 seed)
{
  LAM_CUDA_OP_DYN (be, cu);
  const guint64 *seed_dev = NULL;
  if (cu->mode != LAM_CUDA_EAGER && (seed_dev = (const guint64 *) _lam_cuda_dyn (cu, &seed, sizeof seed)) == NULL)
    return;
  dropout_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, mask, x, n, rate, seed,
                                                                          seed_dev);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_mul (LamBackend *be, float *y, const float *a, const float *b, gsize n)
{
  LAM_CUDA_OP (be, cu);
  mul_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, a, b, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_axpy (LamBackend *be, float *y, const float *x, float alpha, gsize n)
{
  LAM_CUDA_OP (be, cu);
  axpy_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, x, alpha, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_concat_forward (LamBackend *be, float *y, const float *x, int B, int cy, int cx, int off, int inner)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) B * cx * inner;
  concat_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, x, B, cy, cx, off, inner, 0);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_concat_backward (LamBackend *be, float *dx, const float *dy, int B, int cy, int cx, int off, int inner)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) B * cx * inner;
  concat_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (dx, dy, B, cy, cx, off, inner, 1);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_sgd_step (LamBackend *be, float *w, const float *g, float *vel, gsize n, float lr,
               float momentum, float wd, gboolean nesterov)
{
  LAM_CUDA_OP_DYN (be, cu);
  const float *lr_dev = NULL;
  if (cu->mode != LAM_CUDA_EAGER && (lr_dev = (const float *) _lam_cuda_dyn (cu, &lr, sizeof lr)) == NULL)
    return;
  sgd_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (
    w, g, momentum != 0 ? vel : NULL, n, lr, momentum, wd, nesterov, lr_dev);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_adam_step (LamBackend *be, float *w, const float *g, float *m, float *v, gsize n, float lr,
                float beta1, float beta2, float eps, float wd, gboolean decoupled, int t)
{
  LAM_CUDA_OP_DYN (be, cu);
  float dyn[3] = { lr, 1.0f - powf (beta1, (float) t), 1.0f - powf (beta2, (float) t) };
  const float *dyn_dev = NULL;
  if (cu->mode != LAM_CUDA_EAGER && (dyn_dev = (const float *) _lam_cuda_dyn (cu, dyn, sizeof dyn)) == NULL)
    return;
  adam_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (
    w, g, m, v, n, lr, beta1, beta2, eps, wd, decoupled, dyn[1], dyn[2], dyn_dev);
  LAM_CUDA_LAUNCHED (cu);
}

void
_lam_cuda_elementwise_init (LamBackendOps *ops)
{
  ops->gather_u8 = cuda_gather_u8;
  ops->gather_f32 = cuda_gather_f32;
  ops->act_forward = cuda_act_forward;
  ops->act_backward = cuda_act_backward;
  ops->dropout_forward = cuda_dropout_forward;
  ops->mul = cuda_mul;
  ops->axpy = cuda_axpy;
  ops->concat_forward = cuda_concat_forward;
  ops->concat_backward = cuda_concat_backward;
  ops->sgd_step = cuda_sgd_step;
  ops->adam_step = cuda_adam_step;
}
