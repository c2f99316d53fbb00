/* lam-backend.h: the compute backend interface.
 *
 * A backend is a table of ops over raw float pointers in the backend's
 * own memory, with explicit shapes (after llm.c and ggml). The CPU
 * backend (kernels/cpu) fills every entry; the CUDA backend
 * (kernels/cuda, a module loaded at run time) fills what it supports.
 * A NULL entry means "unsupported" and LamNet refuses the graph with
 * a message naming the op.
 *
 * Conventions:
 *  - Activations are NCHW (or N×features), float32, contiguous.
 *  - Backward ops *overwrite* their outputs (dx, dw, db). LamNet sums
 *    gradients where a node feeds several consumers.
 *  - Optional outputs (dx, db, bias) may be NULL.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-types.h"

G_BEGIN_DECLS

typedef struct {
  int B;               /* batch */
  int C, H, W;         /* input per sample */
  int OC, OH, OW;      /* output per sample (pools: OC == C) */
  int K, stride, pad;  /* square kernel */
} LamConvShape;

typedef enum {
  LAM_ACT_RELU,
  LAM_ACT_LEAKYRELU,
  LAM_ACT_TANH,
  LAM_ACT_SIGMOID,
  LAM_ACT_GELU,        /* exact (erf) form, as PyTorch's default */
} LamActKind;

typedef struct _LamBackendOps LamBackendOps;

struct _LamBackend {
  const LamBackendOps *ops;
  void                *ctx;
  char                *name;        /* "cpu", "cuda" */
  char                *description; /* "CPU, 2 threads, OpenBLAS" / "CUDA: NVIDIA H100" */
  int                  n_threads;
};

struct _LamBackendOps {
  void  (*destroy)     (LamBackend *be);

  /* Memory. alloc returns zeroed memory, or NULL when out of memory. */
  void *(*alloc)       (LamBackend *be, gsize bytes);
  void  (*free)        (LamBackend *be, void *ptr);
  void  (*upload)      (LamBackend *be, void *dst, const void *host_src, gsize bytes);
  void  (*download)    (LamBackend *be, void *host_dst, const void *src, gsize bytes);
  void  (*copy)        (LamBackend *be, void *dst, const void *src, gsize bytes);
  void  (*zero)        (LamBackend *be, void *dst, gsize bytes);
  void  (*synchronize) (LamBackend *be);

  /* Batch assembly from a byte dataset living in backend memory:
   * x[b, i] = (images[idx[b] * n + i] / 255 - mean) / std,
   * y[b] = labels[idx[b]]. idx is a host array of B indices. */
  void (*gather_u8)    (LamBackend *be, float *x, gint32 *y,
                        const guint8 *images, const guint8 *labels,
                        const gint32 *idx, int B, int n, float mean, float std);
  /* Same for float datasets (the synthetic 2-D sets): no scaling. */
  void (*gather_f32)   (LamBackend *be, float *x, gint32 *y,
                        const float *data, const guint8 *labels,
                        const gint32 *idx, int B, int n);

  /* Dense: y[B,out] = x[B,in] · w[out,in]ᵀ + b[out], then max(y, 0) when relu.
   * Backward: when relu_y is given, dy is first masked by relu_y > 0 (the
   * fused ReLU's output), so a Dense→ReLU pair runs as one op. */
  void (*dense_forward)   (LamBackend *be, float *y, const float *x, const float *w,
                           const float *b, int B, int in, int out, gboolean relu);
  void (*dense_backward)  (LamBackend *be, float *dx, float *dw, float *db,
                           const float *dy, const float *x, const float *w,
                           int B, int in, int out, const float *relu_y);

  /* Conv2D: w[OC, C, K, K], b[OC]; relu and relu_y as for Dense. */
  void (*conv2d_forward)  (LamBackend *be, const LamConvShape *s, float *y,
                           const float *x, const float *w, const float *b, gboolean relu);
  void (*conv2d_backward) (LamBackend *be, const LamConvShape *s, float *dx, float *dw,
                           float *db, const float *dy, const float *x, const float *w,
                           const float *relu_y);

  /* Pools. Max pool records the argmax (index into the input plane). Padding
   * counts as -inf for max and as zeros for average (count_include_pad). */
  void (*maxpool_forward) (LamBackend *be, const LamConvShape *s, float *y, gint32 *argmax,
                           const float *x);
  void (*maxpool_backward)(LamBackend *be, const LamConvShape *s, float *dx,
                           const float *dy, const gint32 *argmax);
  void (*avgpool_forward) (LamBackend *be, const LamConvShape *s, float *y, const float *x);
  void (*avgpool_backward)(LamBackend *be, const LamConvShape *s, float *dx, const float *dy);

  /* Elementwise activations; backward gets both x and y. */
  void (*act_forward)     (LamBackend *be, LamActKind kind, float alpha, float *y,
                           const float *x, gsize n);
  void (*act_backward)    (LamBackend *be, LamActKind kind, float alpha, float *dx,
                           const float *dy, const float *x, const float *y, gsize n);

  /* Softmax over the last axis of [rows, n]. */
  void (*softmax_forward) (LamBackend *be, float *y, const float *x, int rows, int n);
  void (*softmax_backward)(LamBackend *be, float *dx, const float *dy, const float *y,
                           int rows, int n);

  /* Dropout (inverted): mask[i] = keep ? 1/(1-rate) : 0, from a counter-based
   * hash of (seed, i), so CPU and CUDA draw the same masks. */
  void (*dropout_forward) (LamBackend *be, float *y, float *mask, const float *x, gsize n,
                           float rate, guint64 seed);
  /* y = a * b elementwise (dropout backward, masks) */
  void (*mul)             (LamBackend *be, float *y, const float *a, const float *b, gsize n);

  /* BatchNorm over [B, C, HW]: train uses batch statistics and updates the
   * running ones (unbiased variance, PyTorch momentum); eval uses running. */
  void (*batchnorm_forward) (LamBackend *be, float *y, const float *x, const float *gamma,
                             const float *beta, float *run_mean, float *run_var,
                             float *save_mean, float *save_invstd,
                             int B, int C, int HW, float eps, float momentum, gboolean train);
  void (*batchnorm_backward)(LamBackend *be, float *dx, float *dgamma, float *dbeta,
                             const float *dy, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd,
                             int B, int C, int HW);

  /* GlobalAvgPool: y[B,C] = mean over HW of x[B,C,HW] */
  void (*gap_forward)     (LamBackend *be, float *y, const float *x, int B, int C, int HW);
  void (*gap_backward)    (LamBackend *be, float *dx, const float *dy, int B, int C, int HW);

  /* y += alpha * x */
  void (*axpy)            (LamBackend *be, float *y, const float *x, float alpha, gsize n);

  /* Concat along channels: copies x[B, cx, inner] into y[B, cy, inner] at
   * channel offset off (forward), or the slice back out (backward). */
  void (*concat_forward)  (LamBackend *be, float *y, const float *x, int B, int cy, int cx,
                           int off, int inner);
  void (*concat_backward) (LamBackend *be, float *dx, const float *dy, int B, int cy, int cx,
                           int off, int inner);

  /* Losses. stats (backend memory, 2 floats) accumulates += loss summed over
   * the batch and += number of correct argmax predictions. dlogits gets the
   * gradient of (mean loss) × scale; it may be NULL (evaluation). */
  void (*xent_loss)       (LamBackend *be, float *dlogits, float *stats, const float *logits,
                           const gint32 *labels, int B, int n, float scale);
  /* MSE against one-hot(labels): loss per sample = mean_j (p_j - t_j)^2. */
  void (*mse_loss)        (LamBackend *be, float *dpred, float *stats, const float *pred,
                           const gint32 *labels, int B, int n, float scale);

  /* Optimizers, one flat loop over n parameters (PyTorch semantics).
   * sgd: g' = g + wd·w; v = mu·v + g'; step = nesterov ? g' + mu·v : v; w -= lr·step
   * adam: decoupled ? w -= lr·wd·w : g += wd·w; then Adam with bias correction at step t. */
  void (*sgd_step)        (LamBackend *be, float *w, const float *g, float *vel, gsize n,
                           float lr, float momentum, float wd, gboolean nesterov);
  void (*adam_step)       (LamBackend *be, float *w, const float *g, float *m, float *v,
                           gsize n, float lr, float beta1, float beta2, float eps,
                           float wd, gboolean decoupled, int t);
};

/* Creates a backend by name: "cpu", "cuda" or "auto". n_threads 0 means
 * all cores (CPU backend). For "auto", when CUDA cannot be used, *why_not
 * (if given) receives the reason ("no NVIDIA driver", "module not built"). */
LamBackend *lam_backend_new  (const char *name, int n_threads, char **why_not, GError **error);
LamBackend *lam_backend_new_cpu (int n_threads);
void        lam_backend_free (LamBackend *be);

/* Shared hash for dropout masks: uniform in [0,1). */
static inline float
lam_hash_uniform (guint64 seed, guint64 i)
{
  guint64 z = seed + (i + 1) * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  z ^= z >> 31;
  return (float) (z >> 40) * (1.0f / 16777216.0f);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamBackend, lam_backend_free)

G_END_DECLS
