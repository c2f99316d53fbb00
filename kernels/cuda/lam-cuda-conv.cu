/* lam-cuda-conv.cu: convolution as im2col + one cuBLAS GEMM over the
 * whole batch (or cuDNN, where lam-cuda-cudnn.cu finds it faster),
 * pooling and global average pooling. Every reduction is a
 * gather in a fixed order, so a seed repeats a run bit for bit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cuda"

#include <float.h>

#include "lam-cuda.h"

#define THREADS 256

/* Kernels */

/* col[r][b·OHW + p], r = (c·K + ki)·K + kj, p = oh·OW + ow */
__global__ static void
im2col_kernel (float *col, const float *x, LamConvShape s)
{
  size_t OHW = (size_t) s.OH * s.OW, N = (size_t) s.B * OHW;
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  size_t rows = (size_t) s.C * s.K * s.K;
  if (i >= rows * N)
    return;
  size_t r = i / N, q = i % N;
  int b = (int) (q / OHW), p = (int) (q % OHW);
  int kj = (int) (r % s.K), ki = (int) ((r / s.K) % s.K), c = (int) (r / (s.K * s.K));
  int ih = (p / s.OW) * s.stride - s.pad + ki, iw = (p % s.OW) * s.stride - s.pad + kj;
  col[i] = (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W)
           ? x[(((size_t) b * s.C + c) * s.H + ih) * s.W + iw] : 0.0f;
}

/* dx[b, c, ih, iw] = Σ over the (ki, kj) whose window covers it of dcol */
__global__ static void
col2im_kernel (float *dx, const float *dcol, LamConvShape s)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  size_t total = (size_t) s.B * s.C * s.H * s.W;
  if (i >= total)
    return;
  int iw = (int) (i % s.W), ih = (int) ((i / s.W) % s.H);
  int c = (int) ((i / ((size_t) s.W * s.H)) % s.C), b = (int) (i / ((size_t) s.W * s.H * s.C));
  size_t OHW = (size_t) s.OH * s.OW, N = (size_t) s.B * OHW;
  float t = 0;
  for (int ki = 0; ki < s.K; ki++)
    {
      int oh_s = ih + s.pad - ki;
      if (oh_s < 0 || oh_s % s.stride)
        continue;
      int oh = oh_s / s.stride;
      if (oh >= s.OH)
        continue;
      for (int kj = 0; kj < s.K; kj++)
        {
          int ow_s = iw + s.pad - kj;
          if (ow_s < 0 || ow_s % s.stride)
            continue;
          int ow = ow_s / s.stride;
          if (ow >= s.OW)
            continue;
          size_t r = ((size_t) c * s.K + ki) * s.K + kj;
          t += dcol[r * N + (size_t) b * OHW + oh * s.OW + ow];
        }
    }
  dx[i] = t;
}

/* y[b, o, p] = relu(ybuf[o][b·OHW + p] + bias[o]) */
__global__ static void
scatter_kernel (float *y, const float *ybuf, const float *bias, LamConvShape s, int relu)
{
  size_t OHW = (size_t) s.OH * s.OW;
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= (size_t) s.B * s.OC * OHW)
    return;
  size_t p = i % OHW, o = (i / OHW) % s.OC, b = i / (OHW * s.OC);
  float v = ybuf[o * s.B * OHW + b * OHW + p] + (bias ? bias[o] : 0.0f);
  y[i] = lam_cuda_fused_relu (v, relu);
}

/* g[o][q] = dy[b, o, p] for q = b·OHW + p (or g[b, o, p], same_layout),
 * masked by the fused ReLU's output where relu_y, and part[c·OC + o] =
 * Σ of it over chunk c of q, in a fixed tree: a block per chunk and
 * channel (the chunks then add up as _lam_cuda_sum_chunks adds a Dense's).
 * Without g, only the sums; without part, only g. With argmax,
 * dy is a max pool's: dpy at the pool's output that took this position
 * (its windows, PK × PK, tile the convolution's output), as
 * maxpool_backward_kernel sums it. */
__global__ static void
conv_dy_kernel (float *g, float *part, const float *dy, const float *relu_y, LamConvShape s, int chunk,
                int same_layout, const float *dpy, const gint32 *argmax, int PK)
{
  __shared__ float acc[THREADS];
  size_t OHW = (size_t) s.OH * s.OW, N = (size_t) s.B * OHW;
  size_t o = blockIdx.y, q0 = (size_t) blockIdx.x * chunk, q1 = q0 + chunk < N ? q0 + chunk : N;
  int PH = argmax ? s.OH / PK : 0, PW = argmax ? s.OW / PK : 0;
  float t = 0;
  for (size_t q = q0 + threadIdx.x; q < q1; q += blockDim.x)
    {
      size_t b = q / OHW, p = q % OHW, i = (b * s.OC + o) * OHW + p;
      float v;
      if (argmax)
        {
          size_t pi = ((b * s.OC + o) * PH + (p / s.OW) / PK) * PW + (p % s.OW) / PK;
          v = 0;
          if (argmax[pi] == (gint32) p)
            v += dpy[pi];
        }
      else
        v = dy[i];
      if (relu_y && !(relu_y[i] > 0))   /* as the CPU: a NaN output passes no gradient */
        v = 0;
      if (g)
        g[same_layout ? i : o * N + q] = v;
      t += v;
    }
  if (part == NULL)   /* the same for the whole block */
    return;
  t = lam_cuda_block_sum (t, acc);
  if (threadIdx.x == 0)
    part[(size_t) blockIdx.x * s.OC + o] = t;
}

/* A max pool of PK × PK windows that tile the convolution's output, with
 * the convolution's epilogue: for each window, y = relu(conv + bias) as
 * scatter_kernel writes it (conv from src: [OC][B·OHW] when gemm_layout,
 * y's own layout otherwise, in place), and its max and argmax as
 * maxpool_forward_kernel takes them. A thread a window. */
__global__ static void
conv_pool_kernel (float *y, float *py, gint32 *argmax, const float *src, const float *bias, LamConvShape s,
                  int PK, int relu, int gemm_layout)
{
  int PH = s.OH / PK, PW = s.OW / PK;
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= (size_t) s.B * s.OC * PH * PW)
    return;
  size_t OHW = (size_t) s.OH * s.OW, N = (size_t) s.B * OHW;
  int pw = (int) (i % PW), ph = (int) ((i / PW) % PH);
  size_t plane = i / ((size_t) PH * PW), o = plane % s.OC, b = plane / s.OC;
  float best = -FLT_MAX;
  int bi = -1;
  for (int h = ph * PK; h < ph * PK + PK; h++)
    for (int w = pw * PK; w < pw * PK + PK; w++)
      {
        size_t p = (size_t) h * s.OW + w, yi = plane * OHW + p;
        float v = (gemm_layout ? src[o * N + b * OHW + p] : src[yi]) + (bias ? bias[o] : 0.0f);
        v = lam_cuda_fused_relu (v, relu);
        y[yi] = v;
        if (bi < 0 || v > best)
          {
            best = v;
            bi = (int) p;
          }
      }
  py[i] = best;
  argmax[i] = bi;
}

__global__ static void
maxpool_forward_kernel (float *y, gint32 *argmax, const float *x, LamConvShape s)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  size_t OHW = (size_t) s.OH * s.OW;
  if (i >= (size_t) s.B * s.C * OHW)
    return;
  size_t plane = i / OHW;
  int p = (int) (i % OHW), oh = p / s.OW, ow = p % s.OW;
  const float *xp = x + plane * s.H * s.W;
  int h0 = oh * s.stride - s.pad, w0 = ow * s.stride - s.pad;
  float best = -FLT_MAX;
  int bi = -1;
  for (int ih = max (h0, 0); ih < min (h0 + s.K, s.H); ih++)
    for (int iw = max (w0, 0); iw < min (w0 + s.K, s.W); iw++)
      if (bi < 0 || xp[ih * s.W + iw] > best)
        {
          best = xp[ih * s.W + iw];
          bi = ih * s.W + iw;
        }
  y[i] = best;
  argmax[i] = bi;
}

/* dx[pixel] = Σ dy over the windows whose argmax is this pixel (a gather) */
__global__ static void
maxpool_backward_kernel (float *dx, const float *dy, const gint32 *argmax, LamConvShape s)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  size_t HW = (size_t) s.H * s.W, OHW = (size_t) s.OH * s.OW;
  if (i >= (size_t) s.B * s.C * HW)
    return;
  size_t plane = i / HW;
  int q = (int) (i % HW), ih = q / s.W, iw = q % s.W;
  float t = 0;
  int oh_lo = max (0, (ih + s.pad - s.K) / s.stride), oh_hi = min (s.OH - 1, (ih + s.pad) / s.stride);
  int ow_lo = max (0, (iw + s.pad - s.K) / s.stride), ow_hi = min (s.OW - 1, (iw + s.pad) / s.stride);
  for (int oh = oh_lo; oh <= oh_hi; oh++)
    for (int ow = ow_lo; ow <= ow_hi; ow++)
      {
        size_t o = plane * OHW + oh * s.OW + ow;
        if (argmax[o] == q)
          t += dy[o];
      }
  dx[i] = t;
}

__global__ static void
avgpool_forward_kernel (float *y, const float *x, LamConvShape s)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  size_t OHW = (size_t) s.OH * s.OW;
  if (i >= (size_t) s.B * s.C * OHW)
    return;
  size_t plane = i / OHW;
  int p = (int) (i % OHW), oh = p / s.OW, ow = p % s.OW;
  const float *xp = x + plane * s.H * s.W;
  int h0 = oh * s.stride - s.pad, w0 = ow * s.stride - s.pad;
  float t = 0;
  for (int ih = max (h0, 0); ih < min (h0 + s.K, s.H); ih++)
    for (int iw = max (w0, 0); iw < min (w0 + s.K, s.W); iw++)
      t += xp[ih * s.W + iw];
  y[i] = t / (s.K * s.K);
}

__global__ static void
avgpool_backward_kernel (float *dx, const float *dy, LamConvShape s)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  size_t HW = (size_t) s.H * s.W, OHW = (size_t) s.OH * s.OW;
  if (i >= (size_t) s.B * s.C * HW)
    return;
  size_t plane = i / HW;
  int q = (int) (i % HW), ih = q / s.W, iw = q % s.W;
  float t = 0;
  for (int oh = 0; oh < s.OH; oh++)
    {
      int h0 = oh * s.stride - s.pad;
      if (ih < h0 || ih >= h0 + s.K)
        continue;
      for (int ow = 0; ow < s.OW; ow++)
        {
          int w0 = ow * s.stride - s.pad;
          if (iw >= w0 && iw < w0 + s.K)
            t += dy[plane * OHW + oh * s.OW + ow];
        }
    }
  dx[i] = t / (s.K * s.K);
}

__global__ static void
gap_forward_kernel (float *y, const float *x, size_t planes, int HW)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= planes)
    return;
  float t = 0;
  for (int j = 0; j < HW; j++)
    t += x[i * HW + j];
  y[i] = t / HW;
}

__global__ static void
gap_backward_kernel (float *dx, const float *dy, size_t planes, int HW)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i < planes * HW)
    dx[i] = dy[i / HW] / HW;
}

/* Launchers */

/* Elements of a channel a block of conv_dy_kernel sums: one launch where
 * a channel's gradient has no more, as at LeNet-5's second layer at a
 * batch of 64 (6400); at 1024, its first layer has 98 chunks a channel. */
#define DY_CHUNK 8192

static size_t
dy_chunks (const LamConvShape *s)
{
  size_t N = (size_t) s->B * s->OH * s->OW;
  return (N + DY_CHUNK - 1) / DY_CHUNK;
}

size_t
_lam_cuda_conv_dy_part (const LamConvShape *s)
{
  size_t chunks = dy_chunks (s);
  return chunks > 1 ? chunks * s->OC : 0;
}

void
_lam_cuda_conv_dy (LamCuda *cu, const LamConvShape *s, float *g, float *db, float *part, const float *dy,
                   const float *relu_y, gboolean same_layout, const LamConvShape *ps, const float *dpy,
                   const gint32 *argmax)
{
  size_t chunks = dy_chunks (s);
  if (g == NULL && db == NULL)
    return;
  float *sums = db == NULL ? NULL : chunks > 1 ? part : db;
  dim3 grid ((unsigned) chunks, s->OC);
  conv_dy_kernel<<<grid, THREADS, 0, cu->stream>>> (g, sums, dy, relu_y, *s, DY_CHUNK, same_layout,
                                                    ps ? dpy : NULL, ps ? argmax : NULL, ps ? ps->K : 1);
  LAM_CUDA_LAUNCHED (cu);
  if (db != NULL && chunks > 1)
    {
      _lam_cuda_sum_chunks (cu, db, part, (int) chunks, s->OC);
    }
}

/* The convolution as im2col and one GEMM: [OC][B·OHW] in scratch, or NULL */
static const float *
conv_gemm_im2col (LamCuda *cu, const LamConvShape *s, const float *x, const float *w)
{
  size_t CKK = (size_t) s->C * s->K * s->K, N = (size_t) s->B * s->OH * s->OW;
  float *col = _lam_cuda_scratch (cu, CKK * N + (size_t) s->OC * N);
  if (col == NULL)
    return NULL;
  float *ybuf = col + CKK * N;
  im2col_kernel<<<lam_cuda_blocks (CKK * N, THREADS), THREADS, 0, cu->stream>>> (col, x, *s);
  LAM_CUDA_LAUNCHED (cu);
  _lam_cuda_sgemm (cu, 0, 0, s->OC, (int) N, (int) CKK, 1.0f, w, (int) CKK, col, (int) N, 0.0f, ybuf, (int) N);
  return ybuf;
}

static void
conv_forward_im2col (LamCuda *cu, const LamConvShape *s, float *y, const float *x, const float *w,
                     const float *b, gboolean relu)
{
  size_t N = (size_t) s->B * s->OH * s->OW;
  const float *ybuf = conv_gemm_im2col (cu, s, x, w);
  if (ybuf == NULL)
    return;
  scatter_kernel<<<lam_cuda_blocks ((size_t) s->OC * N, THREADS), THREADS, 0, cu->stream>>> (y, ybuf, b, *s, relu);
  LAM_CUDA_LAUNCHED (cu);
}

/* With ps, dy is the max pool's after the convolution (dpy, argmax):
 * see conv_dy_kernel. */
static void
conv_backward_im2col_pool (LamCuda *cu, const LamConvShape *s, float *dx, float *dw, float *db,
                           const float *dy, const float *x, const float *w, const float *relu_y,
                           const LamConvShape *ps, const float *dpy, const gint32 *argmax)
{
  size_t CKK = (size_t) s->C * s->K * s->K, N = (size_t) s->B * s->OH * s->OW;
  /* the bias's partial sums, with or without db: the same scratch for
   * every call of a shape (a first step without db, as the fused op's
   * cuDNN trial, must not leave a recorded step that grows it) */
  size_t np = _lam_cuda_conv_dy_part (s);
  float *col = _lam_cuda_scratch (cu, 2 * CKK * N + (size_t) s->OC * N + np);
  if (col == NULL)
    return;
  float *dyp = col + CKK * N, *dcol = dyp + (size_t) s->OC * N, *part = dcol + CKK * N;
  /* dy in the GEMM's layout, masked by the ReLU, and the bias gradient */
  _lam_cuda_conv_dy (cu, s, dyp, db, part, dy, relu_y, FALSE, ps, dpy, argmax);
  im2col_kernel<<<lam_cuda_blocks (CKK * N, THREADS), THREADS, 0, cu->stream>>> (col, x, *s);
  LAM_CUDA_LAUNCHED (cu);
  /* dw[OC, CKK] = dyp[OC, N] · colᵀ[N, CKK] */
  _lam_cuda_sgemm (cu, 0, 1, s->OC, (int) CKK, (int) N, 1.0f, dyp, (int) N, col, (int) N, 0.0f, dw, (int) CKK);
  if (dx)
    {
      /* dcol[CKK, N] = wᵀ[CKK, OC] · dyp[OC, N] */
      _lam_cuda_sgemm (cu, 1, 0, (int) CKK, (int) N, s->OC, 1.0f, w, (int) CKK, dyp, (int) N, 0.0f, dcol, (int) N);
      size_t n = (size_t) s->B * s->C * s->H * s->W;
      col2im_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (dx, dcol, *s);
      LAM_CUDA_LAUNCHED (cu);
    }
}

static void
conv_backward_im2col (LamCuda *cu, const LamConvShape *s, float *dx, float *dw, float *db,
                      const float *dy, const float *x, const float *w, const float *relu_y)
{
  conv_backward_im2col_pool (cu, s, dx, dw, db, dy, x, w, relu_y, NULL, NULL, NULL);
}

static void
cuda_conv2d_forward (LamBackend *be, const LamConvShape *s, float *y, const float *x,
                     const float *w, const float *b, gboolean relu)
{
  LAM_CUDA_OP (be, cu);
  if (!_lam_cuda_dnn_conv_forward (cu, s, y, x, w, b, relu, conv_forward_im2col))
    conv_forward_im2col (cu, s, y, x, w, b, relu);
}

static void
cuda_conv2d_backward (LamBackend *be, const LamConvShape *s, float *dx, float *dw, float *db,
                      const float *dy, const float *x, const float *w, const float *relu_y)
{
  LAM_CUDA_OP (be, cu);
  if (!_lam_cuda_dnn_conv_backward (cu, s, dx, dw, db, dy, x, w, relu_y, conv_backward_im2col))
    conv_backward_im2col (cu, s, dx, dw, db, dy, x, w, relu_y);
}

static void
cuda_conv2d_pool_forward (LamBackend *be, const LamConvShape *s, const LamConvShape *ps, float *y, float *py,
                          gint32 *argmax, const float *x, const float *w, const float *b, gboolean relu)
{
  LAM_CUDA_OP (be, cu);
  const float *src = y;
  int gemm_layout = 0;
  /* the convolution alone (cuDNN into y, or a GEMM's layout in scratch),
   * then its bias, ReLU and pool in one kernel */
  if (_lam_cuda_dnn_conv_forward (cu, s, y, x, w, NULL, FALSE, conv_forward_im2col))
    {
      if (cu->mode == LAM_CUDA_ABORTED)
        return;
    }
  else if ((src = conv_gemm_im2col (cu, s, x, w)) != NULL)
    gemm_layout = 1;
  else
    return;
  size_t n = (size_t) s->B * s->OC * ps->OH * ps->OW;
  conv_pool_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, py, argmax, src, b, *s, ps->K,
                                                                              relu, gemm_layout);
  LAM_CUDA_LAUNCHED (cu);
}

/* dy: the convolution's output gradient's buffer, free to write: where
 * cuDNN may run the convolution, the gradient is put there first. */
static void
cuda_conv2d_pool_backward (LamBackend *be, const LamConvShape *s, const LamConvShape *ps, float *dx, float *dw,
                           float *db, const float *dpy, const gint32 *argmax, const float *x, const float *w,
                           const float *relu_y, float *dy)
{
  LAM_CUDA_OP (be, cu);
  if (!_lam_cuda_dnn_may_backward (cu, s, dx, dw, dy, x, w))
    {
      conv_backward_im2col_pool (cu, s, dx, dw, db, NULL, x, w, relu_y, ps, dpy, argmax);
      return;
    }
  size_t np = db ? _lam_cuda_conv_dy_part (s) : 0;
  float *part = NULL;
  if (np > 0 && (part = _lam_cuda_scratch (cu, np)) == NULL)
    return;
  _lam_cuda_conv_dy (cu, s, dy, db, part, NULL, relu_y, TRUE, ps, dpy, argmax);
  /* (the chunks are summed into db, in stream order, before cuDNN's
   * workspace may take the same scratch) */
  if (!_lam_cuda_dnn_conv_backward (cu, s, dx, dw, NULL, dy, x, w, NULL, conv_backward_im2col))
    conv_backward_im2col (cu, s, dx, dw, NULL, dy, x, w, NULL);
}

static void
cuda_maxpool_forward (LamBackend *be, const LamConvShape *s, float *y, gint32 *argmax, const float *x)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) s->B * s->C * s->OH * s->OW;
  maxpool_forward_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, argmax, x, *s);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_maxpool_backward (LamBackend *be, const LamConvShape *s, float *dx, const float *dy, const gint32 *argmax)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) s->B * s->C * s->H * s->W;
  maxpool_backward_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (dx, dy, argmax, *s);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_avgpool_forward (LamBackend *be, const LamConvShape *s, float *y, const float *x)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) s->B * s->C * s->OH * s->OW;
  avgpool_forward_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, x, *s);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_avgpool_backward (LamBackend *be, const LamConvShape *s, float *dx, const float *dy)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) s->B * s->C * s->H * s->W;
  avgpool_backward_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (dx, dy, *s);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_gap_forward (LamBackend *be, float *y, const float *x, int B, int C, int HW)
{
  LAM_CUDA_OP (be, cu);
  size_t planes = (size_t) B * C;
  gap_forward_kernel<<<lam_cuda_blocks (planes, THREADS), THREADS, 0, cu->stream>>> (y, x, planes, HW);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_gap_backward (LamBackend *be, float *dx, const float *dy, int B, int C, int HW)
{
  LAM_CUDA_OP (be, cu);
  size_t planes = (size_t) B * C;
  gap_backward_kernel<<<lam_cuda_blocks (planes * HW, THREADS), THREADS, 0, cu->stream>>> (dx, dy, planes, HW);
  LAM_CUDA_LAUNCHED (cu);
}

void
_lam_cuda_conv_init (LamBackendOps *ops)
{
  ops->conv2d_forward = cuda_conv2d_forward;
  ops->conv2d_backward = cuda_conv2d_backward;
  ops->conv2d_pool_forward = cuda_conv2d_pool_forward;
  ops->conv2d_pool_backward = cuda_conv2d_pool_backward;
  ops->maxpool_forward = cuda_maxpool_forward;
  ops->maxpool_backward = cuda_maxpool_backward;
  ops->avgpool_forward = cuda_avgpool_forward;
  ops->avgpool_backward = cuda_avgpool_backward;
  ops->gap_forward = cuda_gap_forward;
  ops->gap_backward = cuda_gap_backward;
}
