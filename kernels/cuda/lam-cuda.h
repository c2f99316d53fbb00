/* lam-cuda.h: the CUDA backend's private state and helpers.
 *
 * The backend is a module (liblamina-cuda.so) that the engine loads at
 * run time with g_module_open; nothing else in Lamina links CUDA.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <cuda_runtime.h>
#include <cublas_v2.h>

#include "lam-backend.h"

/* How ops run (lam-cuda-graph.cu). EAGER: launched one by one. CAPTURE:
 * recorded into a CUDA graph (stream capture), not run. REPLAY: skipped,
 * since step_end launches the recorded graph; ops only hand over the
 * values that change from step to step. ABORTED: a recording failed in
 * the middle of a step; ops are skipped until step_end, which asks the
 * engine to run the step again, one op at a time. */
typedef enum {
  LAM_CUDA_EAGER,
  LAM_CUDA_CAPTURE,
  LAM_CUDA_REPLAY,
  LAM_CUDA_ABORTED,
} LamCudaMode;

/* Pinned host memory and its device twin, for values that come from the
 * host: batch indices, dropout seeds, learning rates. Host regions are
 * written, then copied to the device in stream order. */
typedef struct {
  char        *host;         /* cudaHostAlloc'd */
  char        *dev;
  size_t       size;
  size_t       used;
  cudaEvent_t  copied;       /* after the last copy out of host */
} LamCudaArena;

typedef struct _LamDnn LamDnn;

typedef struct {
  int            device;
  cudaStream_t   stream;
  cublasHandle_t blas;
  void          *blas_workspace;
  char          *error;        /* first error, sticky */
  float         *scratch;      /* im2col, permuted gradients, partial sums */
  size_t         scratch_len;  /* floats */

  /* Step graphs (lam-cuda-graph.cu) */
  LamCudaMode      mode;
  LamCudaArena     eager;      /* a ring, for ops outside a recorded step */
  LamCudaArena     step;       /* the recorded step's values, from offset 0 */
  gboolean         graphs;     /* allowed (LAMINA_CUDA_GRAPHS=0 turns them off) */
  char            *graphs_off; /* why they were turned off */
  guint64          key;        /* of the recorded step */
  int              warm;       /* steps run with this key before recording */
  cudaGraphExec_t  exec;
  GPtrArray       *ops;        /* the recorded ops, by name (__func__) */
  size_t           step_bytes; /* the recorded step's host values */
  size_t           step_nodes; /* the recorded step's nodes (kernels, GEMMs, copies…) */
  guint            pos;        /* replay: the next op */
  char            *mismatch;   /* replay: the first op that differed */
  guint64          replays;

  /* cuDNN (lam-cuda-cudnn.cu): NULL until the first convolution */
  LamDnn          *dnn;
} LamCuda;

#define LAM_CUDA(be) ((LamCuda *) (be)->ctx)

/* Starts every compute op: declares cu and, unless ops run eagerly,
 * notes the op (recording) or checks it against the recording and
 * returns (replaying, aborted). Ops whose values change from step to
 * step use LAM_CUDA_OP_DYN and _lam_cuda_dyn instead. */
#define LAM_CUDA_OP(be, cu) \
  LamCuda *cu = LAM_CUDA (be); \
  if (G_UNLIKELY (cu->mode != LAM_CUDA_EAGER) && _lam_cuda_graph_op (cu, __func__)) \
    return

#define LAM_CUDA_OP_DYN(be, cu) \
  LamCuda *cu = LAM_CUDA (be); \
  if (G_UNLIKELY (cu->mode != LAM_CUDA_EAGER)) \
    _lam_cuda_graph_op (cu, __func__)

/* Notes (CAPTURE) or checks (REPLAY) one op; TRUE when it must not run. */
gboolean _lam_cuda_graph_op (LamCuda *cu, const char *op);

/* Hands bytes of host values (batch indices, a seed, a learning rate)
 * to a kernel through pinned memory: returns the device address it reads
 * them at. Ops running eagerly get them copied now, in stream order, with
 * no wait; in a recorded step, step_end copies them all before each
 * launch. NULL when the op must not launch (REPLAY, ABORTED) or on
 * failure. */
const void *_lam_cuda_dyn (LamCuda *cu, const void *src, size_t bytes);

/* For what cannot be recorded or replayed (a device allocation, a wait
 * for the device, an error): ends a recording (the step's remaining ops
 * are skipped and step_end returns FALSE), or marks a replay as not
 * matching its recording. Nothing while ops run eagerly. */
void _lam_cuda_graph_break (LamCuda *cu, const char *why);

/* Drops the recorded step (its buffers moved): the next steps record anew. */
void _lam_cuda_graph_forget (LamCuda *cu);

void _lam_cuda_graph_init    (LamBackendOps *ops);
gboolean _lam_cuda_graph_setup (LamCuda *cu);
void _lam_cuda_graph_destroy (LamCuda *cu);

/* Records the first failure (statement, file, line) and carries on; the
 * trainer asks ops->status after each step and stops with the message. */
void _lam_cuda_fail (LamCuda *cu, const char *what, const char *msg, const char *file, int line);

#define LAM_CUDA_CHECK(cu, stmt) \
  do { \
    cudaError_t err_ = (stmt); \
    if (err_ != cudaSuccess) \
      _lam_cuda_fail ((cu), #stmt, cudaGetErrorString (err_), __FILE__, __LINE__); \
  } while (0)

#define LAM_CUBLAS_CHECK(cu, stmt) \
  do { \
    cublasStatus_t st_ = (stmt); \
    if (st_ != CUBLAS_STATUS_SUCCESS) \
      _lam_cuda_fail ((cu), #stmt, cublasGetStatusString (st_), __FILE__, __LINE__); \
  } while (0)

/* After each kernel launch. */
#define LAM_CUDA_LAUNCHED(cu) LAM_CUDA_CHECK ((cu), cudaGetLastError ())

/* Scratch of at least n floats (grows; never shrinks). NULL on failure. */
float *_lam_cuda_scratch (LamCuda *cu, size_t n);

/* B host indices on the device (through _lam_cuda_dyn: no wait). NULL
 * on failure, or when the op must return (REPLAY, ABORTED). */
const gint32 *_lam_cuda_upload_idx (LamCuda *cu, const gint32 *idx, int B);

/* Blocks of `threads` for n elements, one element per thread: the grid's
 * x may reach 2^31 - 1 blocks on every GPU Lamina builds for (sm_75 and
 * newer), which covers any tensor that fits in memory; kernels index with
 * size_t. (It was capped at 65535 x 32 blocks, which left elements past
 * about 537 million unwritten.) */
static inline unsigned
lam_cuda_blocks (size_t n, unsigned threads)
{
  size_t b = (n + threads - 1) / threads;
  return (unsigned) (b > 0x7fffffffu ? 0x7fffffffu : (b == 0 ? 1 : b));
}

/* The ReLU fused after a layer's bias add, where relu: a NaN passes, as
 * the CPU's and the unfused ReLU op's do (every fused epilogue uses this) */
__device__ static inline float
lam_cuda_fused_relu (float v, int relu)
{
  return relu && v < 0.0f ? 0.0f : v;
}

/* The sum of each thread's v over the block, in a fixed tree order (so a
 * seed repeats a run), for every thread. blockDim.x must be a power of
 * two, and part blockDim.x floats of __shared__ memory; every thread of
 * the block must call it. */
__device__ static inline float
lam_cuda_block_sum (float v, float *part)
{
  part[threadIdx.x] = v;
  __syncthreads ();
  for (int s = blockDim.x / 2; s > 0; s >>= 1)
    {
      if (threadIdx.x < s)
        part[threadIdx.x] += part[threadIdx.x + s];
      __syncthreads ();
    }
  float r = part[0];
  __syncthreads ();
  return r;
}

/* Column sums y[j] = Σ_r g[r, j] of a [rows, n] matrix in a fixed order,
 * for g = x, or x where relu_y > 0 and 0 elsewhere (a ReLU's backward):
 * blocks of 32 columns × COL_LANES row lanes over chunks of `chunk` rows
 * (_lam_cuda_col_chunk), then the chunks in order. part: chunks · n
 * floats when there are several chunks. m, where not NULL, gets g; y may
 * be NULL (g only). (lam-cuda-dense.cu) */
#define COL_LANES 8
int  _lam_cuda_col_chunk   (int rows, int base);
void _lam_cuda_column_sums (LamCuda *cu, float *y, float *part, float *m, const float *x,
                            const float *relu_y, int rows, int n, int chunk);
/* y[j] = Σ_c part[c·n + j], in chunk order */
void _lam_cuda_sum_chunks  (LamCuda *cu, float *y, const float *part, int chunks, int n);

/* Row-major sgemm on cuBLAS (column-major): C[M,N] = alpha·op(A)·op(B) + beta·C. */
void _lam_cuda_sgemm (LamCuda *cu, int transA, int transB, int M, int N, int K, float alpha,
                      const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* The gradient a convolution's backward starts from (lam-cuda-conv.cu):
 * dy masked by the fused ReLU's output (where relu_y), into g in the
 * GEMM's layout [OC][B·OHW] (or in dy's own, same_layout; g NULL: not
 * written), and its sum per channel into db (NULL: none), a block per
 * channel and chunk, then the chunks in order. part:
 * _lam_cuda_conv_dy_part (s) floats of scratch. With ps (a max pool of
 * shape ps after the convolution, its windows a tiling), dy is read from
 * the pool's output gradient dpy and argmax instead. */
size_t _lam_cuda_conv_dy_part (const LamConvShape *s);
void   _lam_cuda_conv_dy      (LamCuda *cu, const LamConvShape *s, float *g, float *db, float *part,
                               const float *dy, const float *relu_y, gboolean same_layout,
                               const LamConvShape *ps, const float *dpy, const gint32 *argmax);

/* Convolutions through cuDNN where it is installed and measured faster
 * (lam-cuda-cudnn.cu). Each returns FALSE when the caller is to run the
 * op itself, as im2col; TRUE when it ran (or, in a recording that just
 * ended, skipped) it. The im2col way is handed over, to time against. */
typedef void (*LamCudaConvFwd) (LamCuda *cu, const LamConvShape *s, float *y, const float *x, const float *w,
                                const float *b, gboolean relu);
typedef void (*LamCudaConvBwd) (LamCuda *cu, const LamConvShape *s, float *dx, float *dw, float *db,
                                const float *dy, const float *x, const float *w, const float *relu_y);
gboolean _lam_cuda_dnn_conv_forward  (LamCuda *cu, const LamConvShape *s, float *y, const float *x,
                                      const float *w, const float *b, gboolean relu, LamCudaConvFwd im2col);
/* FALSE when im2col runs the convolution's backward this way for sure
 * (no cuDNN, decided so, or buffers it cannot take) */
gboolean _lam_cuda_dnn_may_backward  (LamCuda *cu, const LamConvShape *s, const float *dx, const float *dw,
                                      const float *dy, const float *x, const float *w);
gboolean _lam_cuda_dnn_conv_backward (LamCuda *cu, const LamConvShape *s, float *dx, float *dw, float *db,
                                      const float *dy, const float *x, const float *w, const float *relu_y,
                                      LamCudaConvBwd im2col);
/* "cuDNN for 2 of 2 convolution shapes forward, …", "cuDNN not used:
 * cuDNN 9 not found", or NULL (no convolution yet, or LAMINA_CUDNN=0) */
char    *_lam_cuda_dnn_status        (LamCuda *cu);
void     _lam_cuda_dnn_destroy       (LamCuda *cu);

/* Op families fill their entries. */
void _lam_cuda_elementwise_init (LamBackendOps *ops);
void _lam_cuda_dense_init       (LamBackendOps *ops);
void _lam_cuda_conv_init        (LamBackendOps *ops);
void _lam_cuda_norm_init        (LamBackendOps *ops);
void _lam_cuda_seq_init         (LamBackendOps *ops);
