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
  /* Optional: FALSE with an error when an earlier op failed on the device
   * (ops return nothing, so a device backend keeps the first error). */
  gboolean (*status)   (LamBackend *be, GError **error);
  /* Optional, for backends in main memory: the bytes their allocs hold
   * now. (An alloc there seldom fails: the system promises memory it may
   * not have, and ends the program when the pages are touched.) */
  gsize    (*bytes_held) (LamBackend *be);

  /* Optional: replaying training steps as one recorded graph (CUDA
   * graphs). The trainer brackets each training step with step_begin and
   * step_end. Between them it calls the same ops, with the same pointers
   * and shapes, every step with the same key; only the batch indices,
   * dropout seeds, learning rate and Adam step count may change. A new
   * key (another network, reset weights, reloaded optimizer state) makes
   * the backend record anew. step_end returns FALSE when the step's ops
   * were not run (the recording failed; the backend has fallen back to
   * running ops one by one): the caller then runs the same step again.
   * graph_status describes the state for people ("CUDA graphs: on, 120
   * steps replayed" or "CUDA graphs: off (why)"); replays counts the steps
   * run as a replayed graph. */
  void     (*step_begin)   (LamBackend *be, guint64 key);
  gboolean (*step_end)     (LamBackend *be);
  char    *(*graph_status) (LamBackend *be, guint64 *replays);

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

  /* Optional (NULL: the engine runs the two ops): a Conv2D (shape s,
   * with its ReLU when relu) and the MaxPool2D after it (shape ps, its
   * windows a tiling of the convolution's output: kernel = stride, no
   * padding, OH and OW multiples of it) as one op. y is the
   * convolution's output, after the ReLU (the views read it, and the
   * backward masks by it); py and argmax as maxpool_forward's. Backward,
   * dpy is the pool's output gradient, dy a buffer of the convolution's
   * output gradient's size that the op may write; the rest as
   * conv2d_backward's. The results are the two ops'. */
  void (*conv2d_pool_forward)  (LamBackend *be, const LamConvShape *s, const LamConvShape *ps,
                                float *y, float *py, gint32 *argmax, const float *x,
                                const float *w, const float *b, gboolean relu);
  void (*conv2d_pool_backward) (LamBackend *be, const LamConvShape *s, const LamConvShape *ps,
                                float *dx, float *dw, float *db, const float *dpy,
                                const gint32 *argmax, const float *x, const float *w,
                                const float *relu_y, float *dy);

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

  /* ── Sequences, attention and unshared convolution (engine/lam-seq*.c;
   * CPU: kernels/cpu/lam-cpu-seq.c). Sequences are [B, T, F] row-major;
   * the recurrent layers work time-major inside ([T, B, ·]). ─────────── */

  /* C[M,N] = alpha · op(A) · op(B) + beta · C, row-major like cblas_sgemm
   * with CblasRowMajor; op(A) is M×K, op(B) is K×N; leading dimensions in
   * floats. beta == 0 ignores C's old contents (NaN included). */
  void (*gemm)            (LamBackend *be, gboolean trans_a, gboolean trans_b, int M, int N, int K,
                           float alpha, const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc);
  /* dst[i0·ds[0] + i1·ds[1] + i2·ds[2] + i3] = src[i0·ss[0] + i1·ss[1] + i2·ss[2] + i3]
   * for i < n (in floats; strides may be negative: the pointers then point
   * at the element i = 0, not at the lowest address). Transposes and
   * reverses sequences, scatters the directions of a bidirectional layer. */
  void (*copy_strided)    (LamBackend *be, float *dst, const float *src, const int n[4],
                           const gssize ds[3], const gssize ss[3]);
  /* y[r, j] = x[r, j] + v[j] (broadcast over rows); y may be x. */
  void (*add_rows)        (LamBackend *be, float *y, const float *x, const float *v, int rows, int n);
  /* y[j] = sum over r of x[r, j] */
  void (*sum_rows)        (LamBackend *be, float *y, const float *x, int rows, int n);
  /* GlobalAvgPool of a sequence: y[b, f] = mean over t of x[b, t, f] */
  void (*time_mean_forward)  (LamBackend *be, float *y, const float *x, int B, int T, int F);
  void (*time_mean_backward) (LamBackend *be, float *dx, const float *dy, int B, int T, int F);
  /* dst[b, :] = src[idx[b], :] for n floats per row; idx is a host array
   * of B indices (numeric targets of a regression dataset). */
  void (*gather_rows)     (LamBackend *be, float *dst, const float *src, const gint32 *idx, int B, int n);
  /* MSE against numeric targets [B, n]: loss per sample = mean_j (p_j - t_j)²;
   * a sample counts as correct when every |p_j - t_j| < tol. stats and
   * dpred as for mse_loss. */
  void (*mse_loss_targets)(LamBackend *be, float *dpred, float *stats, const float *pred,
                           const float *targets, int B, int n, float scale, float tol);

  /* Recurrent cells, one time step over B rows of H units. xp holds the
   * input projection (W_ih x + b_ih) of the step, hh the recurrent one
   * (W_hh h + b_hh), both [B, G·H] in PyTorch's gate order. Backward:
   * dh is the gradient from the layer's output at this step and dh_rec
   * the one from the next step (either may be NULL for zero); the
   * pre-activation gradients (dpre, dxp, dhh) and the direct gradients
   * to the previous state (dc_prev, dh_prev) are overwritten. */
  /* LSTM, gates i, f, g, o: c = f·c_prev + i·g, h = o·tanh(c); gates [B, 4H]
   * keeps the activated gates for backward. */
  void (*lstm_cell_forward)  (LamBackend *be, float *h, float *c, float *gates, const float *xp,
                              const float *hh, const float *c_prev, int B, int H);
  void (*lstm_cell_backward) (LamBackend *be, float *dpre, float *dc_prev, const float *dh,
                              const float *dh_rec, const float *dc_next, const float *gates,
                              const float *c, const float *c_prev, int B, int H);
  /* GRU, gates r, z, n (PyTorch): n = tanh(xn + r·hn), h = (1 - z)·n + z·h_prev;
   * gates [B, 4H] keeps r, z, n and hn. dxp gets the input-side gradient,
   * dhh the recurrent side (they differ in the n gate: dhh_n = dxp_n · r),
   * dh_prev the part through z. */
  void (*gru_cell_forward)   (LamBackend *be, float *h, float *gates, const float *xp,
                              const float *hh, const float *h_prev, int B, int H);
  void (*gru_cell_backward)  (LamBackend *be, float *dxp, float *dhh, float *dh_prev,
                              const float *dh, const float *dh_rec, const float *gates,
                              const float *h_prev, int B, int H);
  /* Elman: h = tanh(xp + hh) */
  void (*rnn_cell_forward)   (LamBackend *be, float *h, const float *xp, const float *hh, int B, int H);
  void (*rnn_cell_backward)  (LamBackend *be, float *dpre, const float *dh, const float *dh_rec,
                              const float *h, int B, int H);
  /* LTC, one unfold of the fused solver (Hasani et al. 2021, eq. 3):
   * f = σ(xp + hh), x' = (x + dt·f·A) / (1 + dt·(1/τ + f)), τ = exp(log_tau).
   * f [B, H] is kept for backward. Backward: dx gets the direct gradient
   * to x, dpre the gradient of xp + hh (both overwritten); dA and dlog_tau
   * ACCUMULATE (+=) over calls, summed over the batch. */
  void (*ltc_cell_forward)   (LamBackend *be, float *x_next, float *f, const float *x, const float *xp,
                              const float *hh, const float *A, const float *log_tau, float dt,
                              int B, int H);
  void (*ltc_cell_backward)  (LamBackend *be, float *dx, float *dpre, float *dA, float *dlog_tau,
                              const float *dh, const float *dh_rec, const float *x_next,
                              const float *x, const float *f, const float *A, const float *log_tau,
                              float dt, int B, int H);

  /* Scaled dot-product attention of qkv [B, T, 3D] (Q, K, V side by side,
   * D = heads·dh, head h at columns h·dh): probs [B, heads, T, T] =
   * softmax(Q Kᵀ / √dh) (causal: masked above the diagonal), ctx [B, T, D]
   * = probs · V. Backward overwrites all of dqkv. */
  void (*attention_forward)  (LamBackend *be, float *ctx, float *probs, const float *qkv,
                              int B, int T, int heads, int dh, gboolean causal);
  void (*attention_backward) (LamBackend *be, float *dqkv, const float *dctx, const float *qkv,
                              const float *probs, int B, int T, int heads, int dh);
  /* LayerNorm over the last axis of [rows, n] (biased variance, as PyTorch);
   * mean and rstd [rows] are kept for backward. */
  void (*layernorm_forward)  (LamBackend *be, float *y, float *mean, float *rstd, const float *x,
                              const float *w, const float *b, int rows, int n, float eps);
  void (*layernorm_backward) (LamBackend *be, float *dx, float *dw, float *db, const float *dy,
                              const float *x, const float *mean, const float *rstd,
                              const float *w, int rows, int n);
  /* Embedding: y[i, :] = w[id_i, :] for N ids stored as floats, rounded
   * and clamped to [0, vocab). Backward overwrites all of dw [vocab, dim]. */
  void (*embedding_forward)  (LamBackend *be, float *y, const float *ids, const float *w,
                              int N, int vocab, int dim);
  void (*embedding_backward) (LamBackend *be, float *dw, const float *dy, const float *ids,
                              int N, int vocab, int dim);
  /* LocallyConnected2D: a convolution whose filters differ per output
   * position p = oh·OW + ow: w [OH·OW, OC, C·K·K] (the patch in im2col
   * order c, ki, kj), b [OC, OH, OW] (may be NULL). */
  void (*lc2d_forward)    (LamBackend *be, const LamConvShape *s, float *y, const float *x,
                           const float *w, const float *b);
  void (*lc2d_backward)   (LamBackend *be, const LamConvShape *s, float *dx, float *dw, float *db,
                           const float *dy, const float *x, const float *w);
};

/* What the engine and a backend module must agree on. The CUDA module
 * exports its value as lam_cuda_backend_abi, and the engine refuses a
 * module whose value differs from its own: one built against another
 * version of this header fills another table, and the engine would call
 * the wrong ops. (Sizes catch an op added or removed, not two swapped
 * or an op's arguments changed: the build's dependency files must.) */
#define LAM_BACKEND_ABI ((guint32) (sizeof (LamBackendOps) << 16 | sizeof (LamBackend) << 8 | sizeof (LamConvShape)))

/* Creates a backend by name: "cpu", "cuda" or "auto". n_threads 0 means
 * all cores (CPU backend). For "auto", when CUDA cannot be used, *why_not
 * (if given) receives the reason ("no NVIDIA driver", "module not built"). */
LamBackend *lam_backend_new  (const char *name, int n_threads, char **why_not, GError **error);
LamBackend *lam_backend_new_cpu (int n_threads);
void        lam_backend_free (LamBackend *be);
/* The message for an alloc that failed: "out of GPU memory: 3.1 MB more
 * were needed for <for_what>" (LAM_ERROR_BACKEND). */
void        lam_backend_set_out_of_memory (LamBackend *be, GError **error, gsize bytes,
                                           const char *for_what);
/* Main memory the system can still give (MemAvailable, or
 * $LAMINA_HOST_MEMORY bytes for tests), G_MAXSIZE when unknown. */
gsize       lam_host_memory_available (void);

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
