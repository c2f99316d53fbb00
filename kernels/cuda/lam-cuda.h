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

typedef struct {
  int            device;
  cudaStream_t   stream;
  cublasHandle_t blas;
  char          *error;        /* first error, sticky */
  float         *scratch;      /* im2col, permuted gradients, partial sums */
  size_t         scratch_len;  /* floats */
  gint32        *idx;          /* batch indices on the device */
  int            idx_len;
} LamCuda;

#define LAM_CUDA(be) ((LamCuda *) (be)->ctx)

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

/* Copies B host indices to cu->idx (grows; never shrinks) and waits, since
 * the caller may change them after we return. NULL on failure. */
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

/* Row-major sgemm on cuBLAS (column-major): C[M,N] = alpha·op(A)·op(B) + beta·C. */
void _lam_cuda_sgemm (LamCuda *cu, int transA, int transB, int M, int N, int K, float alpha,
                      const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* Op families fill their entries. */
void _lam_cuda_elementwise_init (LamBackendOps *ops);
void _lam_cuda_dense_init       (LamBackendOps *ops);
void _lam_cuda_conv_init        (LamBackendOps *ops);
void _lam_cuda_norm_init        (LamBackendOps *ops);
void _lam_cuda_seq_init         (LamBackendOps *ops);
