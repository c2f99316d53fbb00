/* lam-cuda-seq.cu: the sequence ops (recurrent cells, attention,
 * LayerNorm, Embedding), LocallyConnected2D and the helpers they share
 * (gemm, strided copies, row broadcasts and sums), with the CPU
 * backend's semantics (kernels/cpu/lam-cpu-seq.c): the same layouts,
 * gate order and cached buffers, since the layers run either backend.
 *
 * Products go to cuBLAS (strided-batched over the heads of attention
 * and the positions of LocallyConnected2D). Every reduction is a gather
 * in a fixed order, never an atomic, so a seed repeats a run bit for
 * bit: column sums (bias, LayerNorm and LTC parameter gradients) add
 * each column in row chunks of a fixed size and then the chunks in
 * order; Embedding's weight gradient adds the gradients of each token
 * in the order of the ids, and LocallyConnected2D's input gradient the
 * positions in order, both as the CPU does. Embedding, the copies and
 * the time mean match the CPU bit for bit; elsewhere results differ in
 * the last bits, where the order of the sums, cuBLAS or expf (the CPU
 * uses a polynomial) differ.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cuda"

#include <float.h>
#include <math.h>

#include "lam-cuda.h"

#define THREADS 256

/* Rows a chunk of the column sums (sum_rows, LayerNorm's dw and db) */
#define COL_CHUNK 256

/* Row lanes of the LTC backward kernel (its batch sums). */
#define LTC_LANES 16

/* Vocabulary rows per block of the Embedding backward kernel. */
#define EMB_ROWS 64

#define FULL_MASK 0xffffffffu

/* Grid-stride loop over n items. */
#define FOR_EACH(i, n) \
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < (size_t) (n); \
       i += (size_t) gridDim.x * blockDim.x)

/* Grid-stride loop over rows, one warp per row (blockDim.x a multiple
 * of 32, so that a warp's lanes take the same rows). */
#define FOR_EACH_ROW(row, rows) \
  for (size_t row = (blockIdx.x * (size_t) blockDim.x + threadIdx.x) / 32; row < (size_t) (rows); \
       row += (size_t) gridDim.x * blockDim.x / 32)

typedef struct {
  int       n[4];
  long long ds[3], ss[3];
} StridedShape;

/* Kernels */

/* Reductions over the 32 lanes of a warp, in a fixed butterfly; every
 * lane gets lane 0's result. All 32 lanes must take part. */
__device__ static inline float
warp_sum (float v)
{
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync (FULL_MASK, v, o);
  return __shfl_sync (FULL_MASK, v, 0);
}

__device__ static inline float
warp_max (float v)
{
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf (v, __shfl_xor_sync (FULL_MASK, v, o));
  return __shfl_sync (FULL_MASK, v, 0);
}

__device__ static inline float
sigm (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

/* the CPU's clamp_id: rounded to nearest (even), clamped to [0, vocab) */
__device__ static inline int
emb_id (float v, int vocab)
{
  float r = rintf (v);
  return !(r >= 0.0f) ? 0 : r >= (float) vocab ? vocab - 1 : (int) r;
}

/* C[i, j] = beta · C[i, j] (0 when beta is 0): a gemm with K = 0 */
__global__ static void
scale_matrix_kernel (float *C, int M, int N, int ldc, float beta)
{
  FOR_EACH (i, (size_t) M * N)
    {
      float *c = C + (i / N) * (size_t) ldc + i % N;
      *c = beta == 0.0f ? 0.0f : beta * *c;
    }
}

__global__ static void
copy_strided_kernel (float *dst, const float *src, StridedShape s)
{
  size_t total = (size_t) s.n[0] * s.n[1] * s.n[2] * s.n[3];
  FOR_EACH (i, total)
    {
      long long i3 = (long long) (i % s.n[3]);
      size_t r = i / s.n[3];
      long long i2 = (long long) (r % s.n[2]);
      r /= s.n[2];
      long long i1 = (long long) (r % s.n[1]);
      long long i0 = (long long) (r / s.n[1]);
      dst[i0 * s.ds[0] + i1 * s.ds[1] + i2 * s.ds[2] + i3] = src[i0 * s.ss[0] + i1 * s.ss[1] + i2 * s.ss[2] + i3];
    }
}

__global__ static void
add_rows_kernel (float *y, const float *x, const float *v, int rows, int n)
{
  FOR_EACH (i, (size_t) rows * n)
    y[i] = x[i] + v[i % n];
}

/* y[b, f] = Σ_t x[b, t, f] / T, in time order */
__global__ static void
time_mean_forward_kernel (float *y, const float *x, int B, int T, int F)
{
  FOR_EACH (i, (size_t) B * F)
    {
      size_t b = i / F, f = i % F;
      float t = 0;
      for (int s = 0; s < T; s++)
        t += x[(b * T + s) * F + f];
      y[i] = t / T;
    }
}

__global__ static void
time_mean_backward_kernel (float *dx, const float *dy, int B, int T, int F)
{
  FOR_EACH (i, (size_t) B * T * F)
    dx[i] = dy[(i / ((size_t) T * F)) * F + i % F] / T;
}

__global__ static void
gather_rows_kernel (float *dst, const float *src, const gint32 *idx, int B, int n)
{
  FOR_EACH (i, (size_t) B * n)
    dst[i] = src[(size_t) idx[i / n] * n + i % n];
}

/* Per row: rowstat[2r] = mean squared error, rowstat[2r + 1] = 1 when
 * every |p - t| < tol; the gradient into d. */
__global__ static void
mse_targets_kernel (float *d, double *rowstat, const float *p, const float *t, int B, int n,
                    float scale, float tol)
{
  FOR_EACH (b, B)
    {
      double s = 0;
      int ok = 1;
      for (int i = 0; i < n; i++)
        {
          size_t k = b * n + i;
          float diff = p[k] - t[k];
          s += (double) diff * diff;
          ok = ok && fabsf (diff) < tol;
          if (d)
            d[k] = 2.0f * diff * scale / ((float) B * n);
        }
      rowstat[2 * b] = s / n;
      rowstat[2 * b + 1] = ok;
    }
}

/* stats[k] += Σ_r rowstat[2r + k], one block in a fixed tree */
__global__ static void
stats_sum_kernel (float *stats, const double *rowstat, int B)
{
  __shared__ double part[THREADS];
  for (int k = 0; k < 2; k++)
    {
      double t = 0;
      for (int r = threadIdx.x; r < B; r += blockDim.x)
        t += rowstat[2 * r + k];
      part[threadIdx.x] = t;
      __syncthreads ();
      for (int s = blockDim.x / 2; s > 0; s >>= 1)
        {
          if (threadIdx.x < s)
            part[threadIdx.x] += part[threadIdx.x + s];
          __syncthreads ();
        }
      if (threadIdx.x == 0)
        stats[k] += (float) part[0];
      __syncthreads ();
    }
}

/* LSTM, gates i, f, g, o; one thread per (b, j) */
__global__ static void
lstm_forward_kernel (float *h, float *c, float *gates, const float *xp, const float *hh,
                     const float *c_prev, int B, int H)
{
  FOR_EACH (i, (size_t) B * H)
    {
      size_t b = i / H, j = i % H, g0 = b * 4 * H + j;
      float ig = sigm (xp[g0] + hh[g0]);
      float fg = sigm (xp[g0 + H] + hh[g0 + H]);
      float gg = tanhf (xp[g0 + 2 * H] + hh[g0 + 2 * H]);
      float og = sigm (xp[g0 + 3 * H] + hh[g0 + 3 * H]);
      float cn = fg * c_prev[i] + ig * gg;
      gates[g0] = ig;
      gates[g0 + H] = fg;
      gates[g0 + 2 * H] = gg;
      gates[g0 + 3 * H] = og;
      c[i] = cn;
      h[i] = og * tanhf (cn);
    }
}

__global__ static void
lstm_backward_kernel (float *dpre, float *dc_prev, const float *dh, const float *dh_rec,
                      const float *dc_next, const float *gates, const float *c, const float *c_prev,
                      int B, int H)
{
  FOR_EACH (i, (size_t) B * H)
    {
      size_t b = i / H, j = i % H, g0 = b * 4 * H + j;
      float d = (dh ? dh[i] : 0.0f) + (dh_rec ? dh_rec[i] : 0.0f);
      float ig = gates[g0], fg = gates[g0 + H], gg = gates[g0 + 2 * H], og = gates[g0 + 3 * H];
      float tc = tanhf (c[i]);
      float dc = d * og * (1.0f - tc * tc) + (dc_next ? dc_next[i] : 0.0f);
      float dog = d * tc;
      dpre[g0] = dc * gg * ig * (1.0f - ig);
      dpre[g0 + H] = dc * c_prev[i] * fg * (1.0f - fg);
      dpre[g0 + 2 * H] = dc * ig * (1.0f - gg * gg);
      dpre[g0 + 3 * H] = dog * og * (1.0f - og);
      dc_prev[i] = dc * fg;
    }
}

/* GRU, gates r, z, n; xp and hh [B, 3H], gates [B, 4H] = r, z, n, hn */
__global__ static void
gru_forward_kernel (float *h, float *gates, const float *xp, const float *hh, const float *h_prev,
                    int B, int H)
{
  FOR_EACH (i, (size_t) B * H)
    {
      size_t b = i / H, j = i % H, p0 = b * 3 * H + j, g0 = b * 4 * H + j;
      float r = sigm (xp[p0] + hh[p0]);
      float z = sigm (xp[p0 + H] + hh[p0 + H]);
      float hn = hh[p0 + 2 * H];
      float n = tanhf (xp[p0 + 2 * H] + r * hn);
      gates[g0] = r;
      gates[g0 + H] = z;
      gates[g0 + 2 * H] = n;
      gates[g0 + 3 * H] = hn;
      h[i] = (1.0f - z) * n + z * h_prev[i];
    }
}

__global__ static void
gru_backward_kernel (float *dxp, float *dhh, float *dh_prev, const float *dh, const float *dh_rec,
                     const float *gates, const float *h_prev, int B, int H)
{
  FOR_EACH (i, (size_t) B * H)
    {
      size_t b = i / H, j = i % H, p0 = b * 3 * H + j, g0 = b * 4 * H + j;
      float d = (dh ? dh[i] : 0.0f) + (dh_rec ? dh_rec[i] : 0.0f);
      float r = gates[g0], z = gates[g0 + H], n = gates[g0 + 2 * H], hn = gates[g0 + 3 * H];
      float dn = d * (1.0f - z) * (1.0f - n * n);
      float dz = d * (h_prev[i] - n) * z * (1.0f - z);
      float dr = dn * hn * r * (1.0f - r);
      dxp[p0] = dr;
      dxp[p0 + H] = dz;
      dxp[p0 + 2 * H] = dn;
      dhh[p0] = dr;
      dhh[p0 + H] = dz;
      dhh[p0 + 2 * H] = dn * r;
      dh_prev[i] = d * z;
    }
}

__global__ static void
rnn_forward_kernel (float *h, const float *xp, const float *hh, size_t n)
{
  FOR_EACH (i, n)
    h[i] = tanhf (xp[i] + hh[i]);
}

__global__ static void
rnn_backward_kernel (float *dpre, const float *dh, const float *dh_rec, const float *h, size_t n)
{
  FOR_EACH (i, n)
    dpre[i] = ((dh ? dh[i] : 0.0f) + (dh_rec ? dh_rec[i] : 0.0f)) * (1.0f - h[i] * h[i]);
}

__global__ static void
ltc_forward_kernel (float *x_next, float *f, const float *x, const float *xp, const float *hh,
                    const float *A, const float *log_tau, float dt, int B, int H)
{
  FOR_EACH (i, (size_t) B * H)
    {
      size_t j = i % H;
      float fj = sigm (xp[i] + hh[i]);
      float inv_tau = expf (-log_tau[j]);
      f[i] = fj;
      x_next[i] = (x[i] + dt * fj * A[j]) / (1.0f + dt * (inv_tau + fj));
    }
}

/* Blocks of 32 columns × LTC_LANES batch lanes: dx and dpre per element,
 * dA and dlog_tau summed over the batch in a fixed tree, then added. */
__global__ static void
ltc_backward_kernel (float *dx, float *dpre, float *dA, float *dlog_tau, const float *dh,
                     const float *dh_rec, const float *x_next, const float *f, const float *A,
                     const float *log_tau, float dt, int B, int H)
{
  __shared__ float sa[LTC_LANES][33], sl[LTC_LANES][33];
  int j = blockIdx.x * 32 + threadIdx.x;
  float ta = 0, tl = 0;
  if (j < H)
    {
      float inv_tau = expf (-log_tau[j]), a = A[j];
      for (int b = threadIdx.y; b < B; b += LTC_LANES)
        {
          size_t i = (size_t) b * H + j;
          float g = (dh ? dh[i] : 0.0f) + (dh_rec ? dh_rec[i] : 0.0f);
          float fi = f[i];
          float den = 1.0f + dt * (inv_tau + fi);
          float dnum = g / den;
          float dden = -dnum * x_next[i];
          float df = dt * (dnum * a + dden);
          dx[i] = dnum;
          dpre[i] = df * fi * (1.0f - fi);
          ta += dnum * dt * fi;
          tl += dden * dt * inv_tau;
        }
    }
  sa[threadIdx.y][threadIdx.x] = ta;
  sl[threadIdx.y][threadIdx.x] = tl;
  __syncthreads ();
  if (threadIdx.y == 0 && j < H)
    {
      float s = 0, l = 0;
      for (int k = 0; k < LTC_LANES; k++)
        {
          s += sa[k][threadIdx.x];
          l += sl[k][threadIdx.x];
        }
      dA[j] += s;
      dlog_tau[j] -= l;
    }
}

/* Softmax of each row of the [rows / T] score matrices [T, T] in place,
 * one warp per row; causal rows stop at the diagonal, the rest is 0. */
__global__ static void
attn_softmax_kernel (float *s, int rows, int T, int causal)
{
  int lane = threadIdx.x % 32;
  FOR_EACH_ROW (row, rows)
    {
      float *p = s + row * T;
      int n = causal ? (int) (row % T) + 1 : T;
      float mx = -FLT_MAX;
      for (int j = lane; j < n; j += 32)
        mx = fmaxf (mx, p[j]);
      mx = warp_max (mx);
      float t = 0;
      for (int j = lane; j < n; j += 32)
        {
          float e = expf (p[j] - mx);
          p[j] = e;
          t += e;
        }
      float inv = 1.0f / warp_sum (t);
      for (int j = lane; j < T; j += 32)
        p[j] = j < n ? p[j] * inv : 0.0f;
    }
}

/* dS = P ∘ (dP - rowsum (dP ∘ P)) · scale, in place in dp; a warp per row */
__global__ static void
attn_softmax_backward_kernel (float *dp, const float *p, int rows, int T, float scale)
{
  int lane = threadIdx.x % 32;
  FOR_EACH_ROW (row, rows)
    {
      float *d = dp + row * T;
      const float *pr = p + row * T;
      float t = 0;
      for (int j = lane; j < T; j += 32)
        t += d[j] * pr[j];
      float dot = warp_sum (t);
      for (int j = lane; j < T; j += 32)
        d[j] = pr[j] * (d[j] - dot) * scale;
    }
}

/* LayerNorm, a warp per row: two passes (mean, then the centred sum of
 * squares), as the CPU does. */
__global__ static void
layernorm_forward_kernel (float *y, float *mean, float *rstd, const float *x, const float *w,
                          const float *b, int rows, int n, float eps)
{
  int lane = threadIdx.x % 32;
  FOR_EACH_ROW (row, rows)
    {
      const float *xr = x + row * n;
      float *yr = y + row * n;
      float t = 0;
      for (int j = lane; j < n; j += 32)
        t += xr[j];
      float m = warp_sum (t) / n;
      t = 0;
      for (int j = lane; j < n; j += 32)
        {
          float d = xr[j] - m;
          t += d * d;
        }
      float rs = 1.0f / sqrtf (warp_sum (t) / n + eps);
      if (lane == 0)
        {
          mean[row] = m;
          rstd[row] = rs;
        }
      for (int j = lane; j < n; j += 32)
        yr[j] = (xr[j] - m) * rs * w[j] + b[j];
    }
}

/* dx = rstd · (g - mean (g) - x̂ · mean (g · x̂)), g = dy · w; a warp per row */
__global__ static void
layernorm_dx_kernel (float *dx, const float *dy, const float *x, const float *mean,
                     const float *rstd, const float *w, int rows, int n)
{
  int lane = threadIdx.x % 32;
  FOR_EACH_ROW (row, rows)
    {
      const float *xr = x + row * n, *dyr = dy + row * n;
      float m = mean[row], rs = rstd[row];
      float sg = 0, sgx = 0;
      for (int j = lane; j < n; j += 32)
        {
          float g = dyr[j] * w[j];
          sg += g;
          sgx += g * ((xr[j] - m) * rs);
        }
      sg = warp_sum (sg) / n;
      sgx = warp_sum (sgx) / n;
      for (int j = lane; j < n; j += 32)
        {
          float g = dyr[j] * w[j], xh = (xr[j] - m) * rs;
          dx[row * n + j] = rs * (g - sg - xh * sgx);
        }
    }
}

/* Partial dw and db over a chunk of rows, as column_sums_partial_kernel
 * (lam-cuda-dense.cu). */
__global__ static void
layernorm_dwdb_partial_kernel (float *pw, float *pb, const float *dy, const float *x,
                               const float *mean, const float *rstd, int rows, int n, int chunk)
{
  __shared__ float aw[COL_LANES][33], ab[COL_LANES][33];
  int j = blockIdx.x * 32 + threadIdx.x;
  int r0 = blockIdx.y * chunk, r1 = min (rows, r0 + chunk);
  float tw = 0, tb = 0;
  if (j < n)
    for (int r = r0 + threadIdx.y; r < r1; r += COL_LANES)
      {
        size_t k = (size_t) r * n + j;
        tw += dy[k] * (x[k] - mean[r]) * rstd[r];
        tb += dy[k];
      }
  aw[threadIdx.y][threadIdx.x] = tw;
  ab[threadIdx.y][threadIdx.x] = tb;
  __syncthreads ();
  if (threadIdx.y == 0 && j < n)
    {
      float sw = 0, sb = 0;
      for (int k = 0; k < COL_LANES; k++)
        {
          sw += aw[k][threadIdx.x];
          sb += ab[k][threadIdx.x];
        }
      pw[(size_t) blockIdx.y * n + j] = sw;
      pb[(size_t) blockIdx.y * n + j] = sb;
    }
}

__global__ static void
embedding_forward_kernel (float *y, const float *ids, const float *w, int N, int vocab, int dim)
{
  FOR_EACH (i, (size_t) N * dim)
    y[i] = w[(size_t) emb_id (ids[i / dim], vocab) * dim + i % dim];
}

/* dw[v, j] = Σ of dy[i, j] over the ids i that are v, in id order (the
 * CPU's order): one warp per block owns 32 columns of EMB_ROWS
 * vocabulary rows and walks all ids, 32 at a time. No atomics. */
__global__ static void
embedding_backward_kernel (float *dw, const float *dy, const float *ids, int N, int vocab, int dim)
{
  __shared__ float acc[EMB_ROWS][32];
  int lane = threadIdx.x;
  int j = blockIdx.x * 32 + lane;
  int v0 = blockIdx.y * EMB_ROWS;
  for (int r = 0; r < EMB_ROWS; r++)
    acc[r][lane] = 0;
  for (int i0 = 0; i0 < N; i0 += 32)
    {
      int mine = i0 + lane < N ? emb_id (ids[i0 + lane], vocab) : -1;
      int cnt = min (32, N - i0);
      for (int k = 0; k < cnt; k++)
        {
          int r = __shfl_sync (FULL_MASK, mine, k) - v0;
          if (r >= 0 && r < EMB_ROWS && j < dim)
            acc[r][lane] += dy[(size_t) (i0 + k) * dim + j];
        }
    }
  if (j < dim)
    for (int r = 0; r < EMB_ROWS && v0 + r < vocab; r++)
      dw[(size_t) (v0 + r) * dim + j] = acc[r][lane];
}

/* col[(p·B + b)·CKK + (c·K + ki)·K + kj]: the patch of image b at output
 * position p = oh·OW + ow, in the CPU's (im2col) order */
__global__ static void
lc_im2col_kernel (float *col, const float *x, LamConvShape s)
{
  int K = s.K;
  size_t CKK = (size_t) s.C * K * K, OHW = (size_t) s.OH * s.OW;
  FOR_EACH (i, OHW * s.B * CKK)
    {
      size_t k = i % CKK, q = i / CKK;
      int b = (int) (q % s.B), p = (int) (q / s.B);
      int kj = (int) (k % K), ki = (int) ((k / K) % K), c = (int) (k / ((size_t) K * K));
      int ih = (p / s.OW) * s.stride - s.pad + ki, iw = (p % s.OW) * s.stride - s.pad + kj;
      col[i] = ih >= 0 && ih < s.H && iw >= 0 && iw < s.W
               ? x[(((size_t) b * s.C + c) * s.H + ih) * s.W + iw] : 0.0f;
    }
}

/* y[b, oc, p] = yp[(p·B + b)·OC + oc] + bias[oc, p] */
__global__ static void
lc_scatter_kernel (float *y, const float *yp, const float *bias, LamConvShape s)
{
  size_t OHW = (size_t) s.OH * s.OW;
  FOR_EACH (i, (size_t) s.B * s.OC * OHW)
    {
      size_t p = i % OHW, oc = (i / OHW) % s.OC, b = i / (OHW * s.OC);
      y[i] = yp[(p * s.B + b) * s.OC + oc] + (bias ? bias[oc * OHW + p] : 0.0f);
    }
}

/* dyp[(p·B + b)·OC + oc] = dy[b, oc, p] */
__global__ static void
lc_gather_dy_kernel (float *dyp, const float *dy, LamConvShape s)
{
  size_t OHW = (size_t) s.OH * s.OW;
  FOR_EACH (i, (size_t) s.B * s.OC * OHW)
    {
      size_t p = i % OHW, oc = (i / OHW) % s.OC, b = i / (OHW * s.OC);
      dyp[(p * s.B + b) * s.OC + oc] = dy[i];
    }
}

/* db[oc, p] = Σ_b dyp[(p·B + b)·OC + oc], in batch order */
__global__ static void
lc_bias_grad_kernel (float *db, const float *dyp, LamConvShape s)
{
  size_t OHW = (size_t) s.OH * s.OW;
  FOR_EACH (i, (size_t) s.OC * OHW)
    {
      size_t p = i % OHW, oc = i / OHW;
      float t = 0;
      for (int b = 0; b < s.B; b++)
        t += dyp[(p * s.B + b) * s.OC + oc];
      db[i] = t;
    }
}

/* dx[b, c, ih, iw] = Σ over the positions whose patch holds the pixel,
 * in position order (the CPU's), of dcol */
__global__ static void
lc_col2im_kernel (float *dx, const float *dcol, LamConvShape s)
{
  int K = s.K;
  size_t CKK = (size_t) s.C * K * K;
  FOR_EACH (i, (size_t) s.B * s.C * s.H * s.W)
    {
      int iw = (int) (i % s.W), ih = (int) ((i / s.W) % s.H);
      int c = (int) ((i / ((size_t) s.W * s.H)) % s.C);
      size_t b = i / ((size_t) s.W * s.H * s.C);
      /* ki = ih + pad - oh·stride in [0, K), likewise kj */
      int nh = ih + s.pad - K + 1, nw = iw + s.pad - K + 1;
      int oh_lo = nh <= 0 ? 0 : (nh + s.stride - 1) / s.stride;
      int ow_lo = nw <= 0 ? 0 : (nw + s.stride - 1) / s.stride;
      int oh_hi = min (s.OH - 1, (ih + s.pad) / s.stride);
      int ow_hi = min (s.OW - 1, (iw + s.pad) / s.stride);
      float t = 0;
      for (int oh = oh_lo; oh <= oh_hi; oh++)
        {
          int ki = ih + s.pad - oh * s.stride;
          for (int ow = ow_lo; ow <= ow_hi; ow++)
            {
              int kj = iw + s.pad - ow * s.stride;
              size_t p = (size_t) oh * s.OW + ow;
              t += dcol[(p * s.B + b) * CKK + ((size_t) c * K + ki) * K + kj];
            }
        }
      dx[i] = t;
    }
}

/* Launchers */

/* Row-major strided-batched sgemm: C_i = alpha·op(A_i)·op(B_i) + beta·C_i for
 * i < count, X_i = X + i·sX. */
static void
sgemm_batched (LamCuda *cu, int transA, int transB, int M, int N, int K, float alpha,
               const float *A, int lda, long long sA, const float *B, int ldb, long long sB,
               float beta, float *C, int ldc, long long sC, int count)
{
  /* row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ */
  LAM_CUBLAS_CHECK (cu, cublasSgemmStridedBatched (cu->blas,
                                                   transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                                                   transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                                                   N, M, K, &alpha, B, ldb, sB, A, lda, sA,
                                                   &beta, C, ldc, sC, count));
}

static void
cuda_gemm (LamBackend *be, gboolean trans_a, gboolean trans_b, int M, int N, int K, float alpha,
           const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
  LAM_CUDA_OP (be, cu);
  if (M <= 0 || N <= 0)
    return;
  if (K <= 0)
    {
      scale_matrix_kernel<<<lam_cuda_blocks ((size_t) M * N, THREADS), THREADS, 0, cu->stream>>> (C, M, N, ldc, beta);
      LAM_CUDA_LAUNCHED (cu);
      return;
    }
  _lam_cuda_sgemm (cu, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static void
cuda_copy_strided (LamBackend *be, float *dst, const float *src, const int n[4], const gssize ds[3],
                   const gssize ss[3])
{
  LAM_CUDA_OP (be, cu);
  if (n[0] <= 0 || n[1] <= 0 || n[2] <= 0 || n[3] <= 0)
    return;
  StridedShape s;
  for (int k = 0; k < 4; k++)
    s.n[k] = n[k];
  for (int k = 0; k < 3; k++)
    {
      s.ds[k] = ds[k];
      s.ss[k] = ss[k];
    }
  size_t total = (size_t) n[0] * n[1] * n[2] * n[3];
  copy_strided_kernel<<<lam_cuda_blocks (total, THREADS), THREADS, 0, cu->stream>>> (dst, src, s);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_add_rows (LamBackend *be, float *y, const float *x, const float *v, int rows, int n)
{
  LAM_CUDA_OP (be, cu);
  if (rows <= 0 || n <= 0)
    return;
  add_rows_kernel<<<lam_cuda_blocks ((size_t) rows * n, THREADS), THREADS, 0, cu->stream>>> (y, x, v, rows, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_sum_rows (LamBackend *be, float *y, const float *x, int rows, int n)
{
  LAM_CUDA_OP (be, cu);
  if (n <= 0)
    return;
  if (rows <= 0)
    {
      LAM_CUDA_CHECK (cu, cudaMemsetAsync (y, 0, (size_t) n * sizeof (float), cu->stream));
      return;
    }
  int chunk = _lam_cuda_col_chunk (rows, COL_CHUNK), chunks = (rows + chunk - 1) / chunk;
  float *part = NULL;
  if (chunks > 1 && (part = _lam_cuda_scratch (cu, (size_t) chunks * n)) == NULL)
    return;
  _lam_cuda_column_sums (cu, y, part, NULL, x, NULL, rows, n, chunk);
}

static void
cuda_time_mean_forward (LamBackend *be, float *y, const float *x, int B, int T, int F)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0 || F <= 0)
    return;
  time_mean_forward_kernel<<<lam_cuda_blocks ((size_t) B * F, THREADS), THREADS, 0, cu->stream>>> (y, x, B, T, F);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_time_mean_backward (LamBackend *be, float *dx, const float *dy, int B, int T, int F)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0 || T <= 0 || F <= 0)
    return;
  time_mean_backward_kernel<<<lam_cuda_blocks ((size_t) B * T * F, THREADS), THREADS, 0, cu->stream>>> (dx, dy, B, T, F);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_gather_rows (LamBackend *be, float *dst, const float *src, const gint32 *idx, int B, int n)
{
  LAM_CUDA_OP_DYN (be, cu);
  if (B <= 0 || n <= 0)
    return;
  const gint32 *didx = _lam_cuda_upload_idx (cu, idx, B);
  if (didx == NULL)
    return;
  gather_rows_kernel<<<lam_cuda_blocks ((size_t) B * n, THREADS), THREADS, 0, cu->stream>>> (dst, src, didx, B, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_mse_loss_targets (LamBackend *be, float *dpred, float *stats, const float *pred,
                       const float *targets, int B, int n, float scale, float tol)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0)
    return;
  /* 2·B doubles (cudaMalloc's alignment suits them) */
  double *rowstat = (double *) _lam_cuda_scratch (cu, 4 * (size_t) B);
  if (rowstat == NULL)
    return;
  mse_targets_kernel<<<lam_cuda_blocks (B, 128), 128, 0, cu->stream>>> (dpred, rowstat, pred, targets, B, n, scale, tol);
  LAM_CUDA_LAUNCHED (cu);
  stats_sum_kernel<<<1, THREADS, 0, cu->stream>>> (stats, rowstat, B);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_lstm_cell_forward (LamBackend *be, float *h, float *c, float *gates, const float *xp,
                        const float *hh, const float *c_prev, int B, int H)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0 || H <= 0)
    return;
  lstm_forward_kernel<<<lam_cuda_blocks ((size_t) B * H, THREADS), THREADS, 0, cu->stream>>> (h, c, gates, xp, hh, c_prev, B, H);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_lstm_cell_backward (LamBackend *be, float *dpre, float *dc_prev, const float *dh,
                         const float *dh_rec, const float *dc_next, const float *gates,
                         const float *c, const float *c_prev, int B, int H)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0 || H <= 0)
    return;
  lstm_backward_kernel<<<lam_cuda_blocks ((size_t) B * H, THREADS), THREADS, 0, cu->stream>>> (
    dpre, dc_prev, dh, dh_rec, dc_next, gates, c, c_prev, B, H);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_gru_cell_forward (LamBackend *be, float *h, float *gates, const float *xp, const float *hh,
                       const float *h_prev, int B, int H)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0 || H <= 0)
    return;
  gru_forward_kernel<<<lam_cuda_blocks ((size_t) B * H, THREADS), THREADS, 0, cu->stream>>> (h, gates, xp, hh, h_prev, B, H);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_gru_cell_backward (LamBackend *be, float *dxp, float *dhh, float *dh_prev, const float *dh,
                        const float *dh_rec, const float *gates, const float *h_prev, int B, int H)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0 || H <= 0)
    return;
  gru_backward_kernel<<<lam_cuda_blocks ((size_t) B * H, THREADS), THREADS, 0, cu->stream>>> (
    dxp, dhh, dh_prev, dh, dh_rec, gates, h_prev, B, H);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_rnn_cell_forward (LamBackend *be, float *h, const float *xp, const float *hh, int B, int H)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) B * H;
  if (B <= 0 || H <= 0)
    return;
  rnn_forward_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (h, xp, hh, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_rnn_cell_backward (LamBackend *be, float *dpre, const float *dh, const float *dh_rec,
                        const float *h, int B, int H)
{
  LAM_CUDA_OP (be, cu);
  size_t n = (size_t) B * H;
  if (B <= 0 || H <= 0)
    return;
  rnn_backward_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (dpre, dh, dh_rec, h, n);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_ltc_cell_forward (LamBackend *be, float *x_next, float *f, const float *x, const float *xp,
                       const float *hh, const float *A, const float *log_tau, float dt, int B, int H)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0 || H <= 0)
    return;
  ltc_forward_kernel<<<lam_cuda_blocks ((size_t) B * H, THREADS), THREADS, 0, cu->stream>>> (
    x_next, f, x, xp, hh, A, log_tau, dt, B, H);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_ltc_cell_backward (LamBackend *be, float *dx, float *dpre, float *dA, float *dlog_tau,
                        const float *dh, const float *dh_rec, const float *x_next, const float *x,
                        const float *f, const float *A, const float *log_tau, float dt, int B, int H)
{
  LAM_CUDA_OP (be, cu);
  (void) x;   /* x_next carries it, as on the CPU */
  if (B <= 0 || H <= 0)
    return;
  dim3 grid ((H + 31) / 32), block (32, LTC_LANES);
  ltc_backward_kernel<<<grid, block, 0, cu->stream>>> (dx, dpre, dA, dlog_tau, dh, dh_rec, x_next, f, A,
                                                       log_tau, dt, B, H);
  LAM_CUDA_LAUNCHED (cu);
}

/* Warp-per-row kernels: blocks of THREADS / 32 rows. */
static unsigned
warp_row_blocks (size_t rows)
{
  return lam_cuda_blocks (rows, THREADS / 32);
}

/* Per head, batched over the batch: Q_bh at qkv + b·T·3D + h·dh (rows
 * 3D apart), K_bh D and V_bh 2D further; probs_bh at
 * probs + (b·heads + h)·T·T; ctx_bh at ctx + b·T·D + h·dh (rows D apart). */
static void
cuda_attention_forward (LamBackend *be, float *ctx, float *probs, const float *qkv, int B, int T,
                        int heads, int dh, gboolean causal)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0 || T <= 0 || heads <= 0 || dh <= 0)
    return;
  int D = heads * dh, ld = 3 * D;
  long long sq = (long long) T * ld, sp = (long long) heads * T * T, sc = (long long) T * D;
  float scale = 1.0f / sqrtf ((float) dh);
  for (int h = 0; h < heads; h++)
    {
      const float *q = qkv + (size_t) h * dh;
      /* S = scale · Q Kᵀ */
      sgemm_batched (cu, 0, 1, T, T, dh, scale, q, ld, sq, q + D, ld, sq, 0.0f,
                     probs + (size_t) h * T * T, T, sp, B);
    }
  size_t rows = (size_t) B * heads * T;
  attn_softmax_kernel<<<warp_row_blocks (rows), THREADS, 0, cu->stream>>> (probs, (int) rows, T, causal);
  LAM_CUDA_LAUNCHED (cu);
  for (int h = 0; h < heads; h++)
    {
      const float *v = qkv + (size_t) h * dh + 2 * D;
      /* ctx = P · V */
      sgemm_batched (cu, 0, 0, T, dh, T, 1.0f, probs + (size_t) h * T * T, T, sp, v, ld, sq, 0.0f,
                     ctx + (size_t) h * dh, D, sc, B);
    }
}

static void
cuda_attention_backward (LamBackend *be, float *dqkv, const float *dctx, const float *qkv,
                         const float *probs, int B, int T, int heads, int dh)
{
  LAM_CUDA_OP (be, cu);
  if (B <= 0 || T <= 0 || heads <= 0 || dh <= 0)
    return;
  int D = heads * dh, ld = 3 * D;
  long long sq = (long long) T * ld, sp = (long long) heads * T * T, sc = (long long) T * D;
  float scale = 1.0f / sqrtf ((float) dh);
  size_t rows = (size_t) B * heads * T;
  /* dP (then dS) for every batch row and head, laid out as probs */
  float *dp = _lam_cuda_scratch (cu, rows * T);
  if (dp == NULL)
    return;
  for (int h = 0; h < heads; h++)
    {
      size_t ho = (size_t) h * dh;
      const float *p = probs + (size_t) h * T * T;
      /* dP = dctx · Vᵀ (masked entries meet P = 0), dV = Pᵀ · dctx */
      sgemm_batched (cu, 0, 1, T, T, dh, 1.0f, dctx + ho, D, sc, qkv + ho + 2 * D, ld, sq, 0.0f,
                     dp + (size_t) h * T * T, T, sp, B);
      sgemm_batched (cu, 1, 0, T, dh, T, 1.0f, p, T, sp, dctx + ho, D, sc, 0.0f,
                     dqkv + ho + 2 * D, ld, sq, B);
    }
  attn_softmax_backward_kernel<<<warp_row_blocks (rows), THREADS, 0, cu->stream>>> (dp, probs, (int) rows, T, scale);
  LAM_CUDA_LAUNCHED (cu);
  for (int h = 0; h < heads; h++)
    {
      size_t ho = (size_t) h * dh;
      const float *ds = dp + (size_t) h * T * T;
      /* dQ = dS · K, dK = dSᵀ · Q */
      sgemm_batched (cu, 0, 0, T, dh, T, 1.0f, ds, T, sp, qkv + ho + D, ld, sq, 0.0f,
                     dqkv + ho, ld, sq, B);
      sgemm_batched (cu, 1, 0, T, dh, T, 1.0f, ds, T, sp, qkv + ho, ld, sq, 0.0f,
                     dqkv + ho + D, ld, sq, B);
    }
}

static void
cuda_layernorm_forward (LamBackend *be, float *y, float *mean, float *rstd, const float *x,
                        const float *w, const float *b, int rows, int n, float eps)
{
  LAM_CUDA_OP (be, cu);
  if (rows <= 0 || n <= 0)
    return;
  layernorm_forward_kernel<<<warp_row_blocks (rows), THREADS, 0, cu->stream>>> (y, mean, rstd, x, w, b, rows, n, eps);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_layernorm_backward (LamBackend *be, float *dx, float *dw, float *db, const float *dy,
                         const float *x, const float *mean, const float *rstd, const float *w,
                         int rows, int n)
{
  LAM_CUDA_OP (be, cu);
  if (n <= 0)
    return;
  if (rows <= 0)
    {
      LAM_CUDA_CHECK (cu, cudaMemsetAsync (dw, 0, (size_t) n * sizeof (float), cu->stream));
      LAM_CUDA_CHECK (cu, cudaMemsetAsync (db, 0, (size_t) n * sizeof (float), cu->stream));
      return;
    }
  if (dx)
    {
      layernorm_dx_kernel<<<warp_row_blocks (rows), THREADS, 0, cu->stream>>> (dx, dy, x, mean, rstd, w, rows, n);
      LAM_CUDA_LAUNCHED (cu);
    }
  int chunk = _lam_cuda_col_chunk (rows, COL_CHUNK), chunks = (rows + chunk - 1) / chunk;
  float *pw = dw, *pb = db;
  if (chunks > 1)
    {
      if ((pw = _lam_cuda_scratch (cu, 2 * (size_t) chunks * n)) == NULL)
        return;
      pb = pw + (size_t) chunks * n;
    }
  dim3 grid ((n + 31) / 32, chunks), block (32, COL_LANES);
  layernorm_dwdb_partial_kernel<<<grid, block, 0, cu->stream>>> (pw, pb, dy, x, mean, rstd, rows, n, chunk);
  LAM_CUDA_LAUNCHED (cu);
  if (chunks > 1)
    {
      _lam_cuda_sum_chunks (cu, dw, pw, chunks, n);
      _lam_cuda_sum_chunks (cu, db, pb, chunks, n);
    }
}

static void
cuda_embedding_forward (LamBackend *be, float *y, const float *ids, const float *w, int N, int vocab,
                        int dim)
{
  LAM_CUDA_OP (be, cu);
  if (N <= 0 || dim <= 0 || vocab <= 0)
    return;
  embedding_forward_kernel<<<lam_cuda_blocks ((size_t) N * dim, THREADS), THREADS, 0, cu->stream>>> (y, ids, w, N, vocab, dim);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_embedding_backward (LamBackend *be, float *dw, const float *dy, const float *ids, int N,
                         int vocab, int dim)
{
  LAM_CUDA_OP (be, cu);
  if (dim <= 0 || vocab <= 0)
    return;
  if (N <= 0)
    {
      LAM_CUDA_CHECK (cu, cudaMemsetAsync (dw, 0, (size_t) vocab * dim * sizeof (float), cu->stream));
      return;
    }
  int vblocks = (vocab + EMB_ROWS - 1) / EMB_ROWS;
  if (vblocks > 65535)
    {
      _lam_cuda_fail (cu, "embedding_backward", "vocabulary too large (over 4 million ids)", __FILE__, __LINE__);
      return;
    }
  dim3 grid ((dim + 31) / 32, vblocks);
  embedding_backward_kernel<<<grid, 32, 0, cu->stream>>> (dw, dy, ids, N, vocab, dim);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_lc2d_forward (LamBackend *be, const LamConvShape *s, float *y, const float *x, const float *w,
                   const float *b)
{
  LAM_CUDA_OP (be, cu);
  size_t OHW = (size_t) s->OH * s->OW, CKK = (size_t) s->C * s->K * s->K;
  size_t ncol = OHW * s->B * CKK, ny = OHW * s->B * s->OC;
  if (ny == 0)
    return;
  float *col = _lam_cuda_scratch (cu, ncol + ny);
  if (col == NULL)
    return;
  float *yp = col + ncol;
  lc_im2col_kernel<<<lam_cuda_blocks (ncol, THREADS), THREADS, 0, cu->stream>>> (col, x, *s);
  LAM_CUDA_LAUNCHED (cu);
  /* per position p: yp_p[B, OC] = col_p[B, CKK] · w_pᵀ, w_p [OC, CKK] */
  sgemm_batched (cu, 0, 1, s->B, s->OC, (int) CKK, 1.0f, col, (int) CKK, (long long) s->B * CKK,
                 w, (int) CKK, (long long) s->OC * CKK, 0.0f, yp, s->OC, (long long) s->B * s->OC, (int) OHW);
  lc_scatter_kernel<<<lam_cuda_blocks (ny, THREADS), THREADS, 0, cu->stream>>> (y, yp, b, *s);
  LAM_CUDA_LAUNCHED (cu);
}

static void
cuda_lc2d_backward (LamBackend *be, const LamConvShape *s, float *dx, float *dw, float *db,
                    const float *dy, const float *x, const float *w)
{
  LAM_CUDA_OP (be, cu);
  size_t OHW = (size_t) s->OH * s->OW, CKK = (size_t) s->C * s->K * s->K;
  size_t ncol = OHW * s->B * CKK, ny = OHW * s->B * s->OC;
  if (ny == 0)
    return;
  float *col = _lam_cuda_scratch (cu, ncol + ny + (dx ? ncol : 0));
  if (col == NULL)
    return;
  float *dyp = col + ncol, *dcol = dyp + ny;
  lc_im2col_kernel<<<lam_cuda_blocks (ncol, THREADS), THREADS, 0, cu->stream>>> (col, x, *s);
  LAM_CUDA_LAUNCHED (cu);
  lc_gather_dy_kernel<<<lam_cuda_blocks (ny, THREADS), THREADS, 0, cu->stream>>> (dyp, dy, *s);
  LAM_CUDA_LAUNCHED (cu);
  /* dw_p[OC, CKK] = dyp_pᵀ · col_p */
  sgemm_batched (cu, 1, 0, s->OC, (int) CKK, s->B, 1.0f, dyp, s->OC, (long long) s->B * s->OC,
                 col, (int) CKK, (long long) s->B * CKK, 0.0f, dw, (int) CKK, (long long) s->OC * CKK, (int) OHW);
  if (db)
    {
      lc_bias_grad_kernel<<<lam_cuda_blocks ((size_t) s->OC * OHW, THREADS), THREADS, 0, cu->stream>>> (db, dyp, *s);
      LAM_CUDA_LAUNCHED (cu);
    }
  if (dx)
    {
      /* dcol_p[B, CKK] = dyp_p · w_p */
      sgemm_batched (cu, 0, 0, s->B, (int) CKK, s->OC, 1.0f, dyp, s->OC, (long long) s->B * s->OC,
                     w, (int) CKK, (long long) s->OC * CKK, 0.0f, dcol, (int) CKK, (long long) s->B * CKK, (int) OHW);
      size_t nx = (size_t) s->B * s->C * s->H * s->W;
      lc_col2im_kernel<<<lam_cuda_blocks (nx, THREADS), THREADS, 0, cu->stream>>> (dx, dcol, *s);
      LAM_CUDA_LAUNCHED (cu);
    }
}

void
_lam_cuda_seq_init (LamBackendOps *ops)
{
  ops->gemm = cuda_gemm;
  ops->copy_strided = cuda_copy_strided;
  ops->add_rows = cuda_add_rows;
  ops->sum_rows = cuda_sum_rows;
  ops->time_mean_forward = cuda_time_mean_forward;
  ops->time_mean_backward = cuda_time_mean_backward;
  ops->gather_rows = cuda_gather_rows;
  ops->mse_loss_targets = cuda_mse_loss_targets;
  ops->lstm_cell_forward = cuda_lstm_cell_forward;
  ops->lstm_cell_backward = cuda_lstm_cell_backward;
  ops->gru_cell_forward = cuda_gru_cell_forward;
  ops->gru_cell_backward = cuda_gru_cell_backward;
  ops->rnn_cell_forward = cuda_rnn_cell_forward;
  ops->rnn_cell_backward = cuda_rnn_cell_backward;
  ops->ltc_cell_forward = cuda_ltc_cell_forward;
  ops->ltc_cell_backward = cuda_ltc_cell_backward;
  ops->attention_forward = cuda_attention_forward;
  ops->attention_backward = cuda_attention_backward;
  ops->layernorm_forward = cuda_layernorm_forward;
  ops->layernorm_backward = cuda_layernorm_backward;
  ops->embedding_forward = cuda_embedding_forward;
  ops->embedding_backward = cuda_embedding_backward;
  ops->lc2d_forward = cuda_lc2d_forward;
  ops->lc2d_backward = cuda_lc2d_backward;
}
