/* lam-cuda-dense.cu: Dense forward and backward on cuBLAS, with the
 * bias, the fused ReLU and the bias gradient as small kernels.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cuda"

#include "lam-cuda.h"

#define THREADS 256

/* Kernels */

__global__ static void
bias_relu_rows_kernel (float *y, const float *b, int rows, int cols, int relu)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= (size_t) rows * cols)
    return;
  float v = y[i] + (b ? b[i % cols] : 0.0f);
  y[i] = relu && v < 0 ? 0.0f : v;
}

__global__ static void
mask_kernel (float *out, const float *dy, const float *y, size_t n)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i < n)
    out[i] = y[i] > 0 ? dy[i] : 0.0f;
}

/* db[o] = Σ_b dy[b, o]: one thread per column, summed in order (deterministic) */
__global__ static void
column_sum_kernel (float *db, const float *dy, int rows, int cols)
{
  int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= cols)
    return;
  float t = 0;
  for (int r = 0; r < rows; r++)
    t += dy[(size_t) r * cols + o];
  db[o] = t;
}

/* Launchers */

static void
cuda_dense_forward (LamBackend *be, float *y, const float *x, const float *w, const float *b,
                    int B, int in, int out, gboolean relu)
{
  LAM_CUDA_OP (be, cu);
  _lam_cuda_sgemm (cu, 0, 1, B, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  if (b || relu)
    {
      size_t n = (size_t) B * out;
      bias_relu_rows_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, b, B, out, relu);
      LAM_CUDA_LAUNCHED (cu);
    }
}

static void
cuda_dense_backward (LamBackend *be, float *dx, float *dw, float *db, const float *dy,
                     const float *x, const float *w, int B, int in, int out, const float *relu_y)
{
  LAM_CUDA_OP (be, cu);
  if (relu_y)
    {
      size_t n = (size_t) B * out;
      float *m = _lam_cuda_scratch (cu, n);
      if (m == NULL)
        return;
      mask_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (m, dy, relu_y, n);
      LAM_CUDA_LAUNCHED (cu);
      dy = m;
    }
  /* dw[out, in] = dyᵀ[out, B] · x[B, in] */
  _lam_cuda_sgemm (cu, 1, 0, out, in, B, 1.0f, dy, out, x, in, 0.0f, dw, in);
  if (db)
    {
      column_sum_kernel<<<lam_cuda_blocks (out, THREADS), THREADS, 0, cu->stream>>> (db, dy, B, out);
      LAM_CUDA_LAUNCHED (cu);
    }
  /* dx[B, in] = dy[B, out] · w[out, in] */
  if (dx)
    _lam_cuda_sgemm (cu, 0, 0, B, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
}

void
_lam_cuda_dense_init (LamBackendOps *ops)
{
  ops->dense_forward = cuda_dense_forward;
  ops->dense_backward = cuda_dense_backward;
}
