/* lam-cuda-dense.cu: Dense forward and backward on cuBLAS, with the
 * bias and the fused ReLU in one small kernel forward, and backward the
 * ReLU's mask and the bias gradient in one (the column sums, which the
 * sequence layers use too).
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
  y[i] = lam_cuda_fused_relu (v, relu);
}

/* part[chunk·n + j] = Σ of g[r, j] over the chunk's rows, in a fixed
 * tree, g = x masked by relu_y (where given); m = g where given. Without
 * part, only m. */
__global__ static void
column_sums_partial_kernel (float *part, float *m, const float *x, const float *relu_y, int rows, int n,
                            int chunk)
{
  __shared__ float acc[COL_LANES][33];
  int j = blockIdx.x * 32 + threadIdx.x;
  int r0 = blockIdx.y * chunk, r1 = min (rows, r0 + chunk);
  float t = 0;
  if (j < n)
    for (int r = r0 + threadIdx.y; r < r1; r += COL_LANES)
      {
        size_t i = (size_t) r * n + j;
        float g = relu_y == NULL || relu_y[i] > 0 ? x[i] : 0.0f;
        if (m)
          m[i] = g;
        t += g;
      }
  if (part == NULL)   /* the same for the whole block */
    return;
  acc[threadIdx.y][threadIdx.x] = t;
  __syncthreads ();
  if (threadIdx.y == 0 && j < n)
    {
      float s = 0;
      for (int k = 0; k < COL_LANES; k++)
        s += acc[k][threadIdx.x];
      part[(size_t) blockIdx.y * n + j] = s;
    }
}

__global__ static void
sum_chunks_kernel (float *y, const float *part, int chunks, int n)
{
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= n)
    return;
  float s = 0;
  for (int c = 0; c < chunks; c++)
    s += part[(size_t) c * n + j];
  y[j] = s;
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

int
_lam_cuda_col_chunk (int rows, int base)
{
  /* at most 65535 chunks (grid.y), a multiple of COL_LANES rows each */
  int chunk = base;
  while ((rows + chunk - 1) / chunk > 65535)
    chunk *= 2;
  return chunk;
}

void
_lam_cuda_sum_chunks (LamCuda *cu, float *y, const float *part, int chunks, int n)
{
  sum_chunks_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, part, chunks, n);
  LAM_CUDA_LAUNCHED (cu);
}

void
_lam_cuda_column_sums (LamCuda *cu, float *y, float *part, float *m, const float *x, const float *relu_y,
                       int rows, int n, int chunk)
{
  int chunks = (rows + chunk - 1) / chunk;
  dim3 grid ((n + 31) / 32, chunks), block (32, COL_LANES);
  column_sums_partial_kernel<<<grid, block, 0, cu->stream>>> (y && chunks > 1 ? part : y, m, x, relu_y,
                                                              rows, n, chunk);
  LAM_CUDA_LAUNCHED (cu);
  if (y && chunks > 1)
    _lam_cuda_sum_chunks (cu, y, part, chunks, n);
}

/* Rows a chunk of the bias gradient: one launch up to a batch of 64,
 * and, past it, more blocks than columns alone would give. */
#define DENSE_CHUNK 64

static void
cuda_dense_backward (LamBackend *be, float *dx, float *dw, float *db, const float *dy,
                     const float *x, const float *w, int B, int in, int out, const float *relu_y)
{
  LAM_CUDA_OP (be, cu);
  /* the ReLU's mask and the bias gradient, in one pass over dy */
  if (relu_y || db)
    {
      int chunk = _lam_cuda_col_chunk (B, DENSE_CHUNK), chunks = (B + chunk - 1) / chunk;
      size_t nm = relu_y ? (size_t) B * out : 0, np = db && chunks > 1 ? (size_t) chunks * out : 0;
      float *m = NULL, *part = NULL;
      if (nm + np > 0)
        {
          float *s = _lam_cuda_scratch (cu, nm + np);
          if (s == NULL)
            return;
          m = relu_y ? s : NULL;
          part = np ? s + nm : NULL;
        }
      _lam_cuda_column_sums (cu, db, part, m, dy, relu_y, B, out, chunk);
      if (m)
        dy = m;
    }
  /* dw[out, in] = dyᵀ[out, B] · x[B, in] */
  _lam_cuda_sgemm (cu, 1, 0, out, in, B, 1.0f, dy, out, x, in, 0.0f, dw, in);
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
