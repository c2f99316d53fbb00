/* lam-cuda-backend.cu: the CUDA backend's entry point, memory and cuBLAS.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cuda"

#include <stdio.h>
#include <string.h>

#include <gmodule.h>

#include "lam-cuda.h"

void
_lam_cuda_fail (LamCuda *cu, const char *what, const char *msg, const char *file, int line)
{
  if (cu->mode == LAM_CUDA_CAPTURE)
    {
      /* not an error yet: the step runs again, op by op, and tells */
      g_autofree char *why = g_strdup_printf ("%s (%s)", msg, what);
      _lam_cuda_graph_break (cu, why);
      return;
    }
  if (cu->error == NULL)
    cu->error = g_strdup_printf ("CUDA: %s (%s at %s:%d)", msg, what, file, line);
  g_warning ("CUDA: %s (%s at %s:%d)", msg, what, file, line);
}

float *
_lam_cuda_scratch (LamCuda *cu, size_t n)
{
  if (cu->scratch_len >= n)
    return cu->scratch;
  _lam_cuda_graph_break (cu, "its scratch memory grows");
  /* a recorded step's kernels hold the old address */
  _lam_cuda_graph_forget (cu);
  if (cu->scratch)
    cudaFree (cu->scratch);
  cu->scratch = NULL;
  cu->scratch_len = 0;
  if (cudaMalloc ((void **) &cu->scratch, n * sizeof (float)) != cudaSuccess)
    {
      cudaGetLastError ();
      /* an answer for the user, not a bug to log: no warning */
      if (cu->error == NULL)
        {
          g_autofree char *size = g_format_size (n * sizeof (float));
          cu->error = g_strdup_printf ("out of GPU memory: %s more were needed for a layer's "
                                       "working memory", size);
        }
      return NULL;
    }
  cu->scratch_len = n;
  /* a recording that this ended: the op must not launch the rest eagerly */
  return cu->mode == LAM_CUDA_ABORTED ? NULL : cu->scratch;
}

void
_lam_cuda_sgemm (LamCuda *cu, int transA, int transB, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
  /* Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ. */
  LAM_CUBLAS_CHECK (cu, cublasSgemm (cu->blas,
                                     transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                                     transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                                     N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc));
}

static void *
cuda_alloc (LamBackend *be, gsize bytes)
{
  LamCuda *cu = LAM_CUDA (be);
  void *p = NULL;
  _lam_cuda_graph_break (cu, "it allocates device memory");
  if (cudaMalloc (&p, bytes ? bytes : 1) != cudaSuccess)
    {
      cudaGetLastError ();   /* out of memory is an answer, not a sticky error */
      return NULL;
    }
  LAM_CUDA_CHECK (cu, cudaMemsetAsync (p, 0, bytes, cu->stream));
  return p;
}

static void
cuda_free (LamBackend *be, void *p)
{
  LamCuda *cu = LAM_CUDA (be);
  _lam_cuda_graph_break (cu, "it frees device memory");
  if (p)
    LAM_CUDA_CHECK (cu, cudaFreeAsync (p, cu->stream));
}

static void
cuda_upload (LamBackend *be, void *dst, const void *src, gsize bytes)
{
  LamCuda *cu = LAM_CUDA (be);
  _lam_cuda_graph_break (cu, "it uploads host memory");
  if (bytes)
    LAM_CUDA_CHECK (cu, cudaMemcpyAsync (dst, src, bytes, cudaMemcpyHostToDevice, cu->stream));
  /* the host buffer may go away after we return */
  LAM_CUDA_CHECK (cu, cudaStreamSynchronize (cu->stream));
}

static void
cuda_download (LamBackend *be, void *dst, const void *src, gsize bytes)
{
  LamCuda *cu = LAM_CUDA (be);
  _lam_cuda_graph_break (cu, "it downloads device memory");
  if (bytes)
    LAM_CUDA_CHECK (cu, cudaMemcpyAsync (dst, src, bytes, cudaMemcpyDeviceToHost, cu->stream));
  LAM_CUDA_CHECK (cu, cudaStreamSynchronize (cu->stream));
}

static void
cuda_copy (LamBackend *be, void *dst, const void *src, gsize bytes)
{
  LAM_CUDA_OP (be, cu);
  if (bytes)
    LAM_CUDA_CHECK (cu, cudaMemcpyAsync (dst, src, bytes, cudaMemcpyDeviceToDevice, cu->stream));
}

static void
cuda_zero (LamBackend *be, void *dst, gsize bytes)
{
  LAM_CUDA_OP (be, cu);
  if (bytes)
    LAM_CUDA_CHECK (cu, cudaMemsetAsync (dst, 0, bytes, cu->stream));
}

static void
cuda_synchronize (LamBackend *be)
{
  LamCuda *cu = LAM_CUDA (be);
  _lam_cuda_graph_break (cu, "it waits for the device");
  LAM_CUDA_CHECK (cu, cudaStreamSynchronize (cu->stream));
}

static gboolean
cuda_status (LamBackend *be, GError **error)
{
  LamCuda *cu = LAM_CUDA (be);
  if (cu->error == NULL)
    return TRUE;
  /* the engine's LAM_ERROR quark, by name: the module does not link the engine */
  g_set_error_literal (error, g_quark_from_static_string ("lam-error-quark"), LAM_ERROR_BACKEND,
                       cu->error);
  return FALSE;
}

static void
cuda_destroy (LamBackend *be)
{
  LamCuda *cu = LAM_CUDA (be);
  cudaStreamSynchronize (cu->stream);
  _lam_cuda_dnn_destroy (cu);
  if (cu->scratch)
    cudaFree (cu->scratch);
  _lam_cuda_graph_destroy (cu);
  cublasDestroy (cu->blas);
  if (cu->blas_workspace)
    cudaFree (cu->blas_workspace);
  cudaStreamDestroy (cu->stream);
  g_free (cu->error);
  g_free (cu);
}

static LamBackendOps cuda_ops;

/* cuBLAS's recommendation for Hopper; older GPUs need less */
#define BLAS_WORKSPACE ((size_t) 32 << 20)

extern "C" G_MODULE_EXPORT LamBackend *lam_cuda_backend_new (int device, char **why_not, GError **error);

/* checked by the engine before it calls lam_cuda_backend_new (lam-backend.h) */
extern "C" G_MODULE_EXPORT const guint32 lam_cuda_backend_abi = LAM_BACKEND_ABI;

/* Returns NULL with *why_not set when CUDA cannot be used here: no driver,
 * no device, or the device cannot be set up. */
extern "C" G_MODULE_EXPORT LamBackend *
lam_cuda_backend_new (int device, char **why_not, GError **error)
{
  int count = 0;
  cudaError_t err = cudaGetDeviceCount (&count);
  if (err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice || count == 0)
    {
      cudaGetLastError ();
      *why_not = g_strdup (err == cudaErrorInsufficientDriver
                           ? "no NVIDIA driver (or one too old for CUDA 13)"
                           : "no NVIDIA GPU found");
      return NULL;
    }
  if (err != cudaSuccess)
    {
      cudaGetLastError ();
      *why_not = g_strdup_printf ("CUDA is not usable: %s", cudaGetErrorString (err));
      return NULL;
    }
  if (device < 0 || device >= count)
    {
      *why_not = g_strdup_printf ("no CUDA device %d (%d found)", device, count);
      return NULL;
    }
  cudaDeviceProp prop;
  if (cudaSetDevice (device) != cudaSuccess || cudaGetDeviceProperties (&prop, device) != cudaSuccess)
    {
      cudaGetLastError ();
      *why_not = g_strdup_printf ("CUDA device %d cannot be used", device);
      return NULL;
    }
  if (prop.major < 7 || (prop.major == 7 && prop.minor < 5))
    {
      *why_not = g_strdup_printf ("%s (compute capability %d.%d) is older than this build supports (7.5)",
                                  prop.name, prop.major, prop.minor);
      return NULL;
    }

  LamCuda *cu = g_new0 (LamCuda, 1);
  cu->device = device;
  if (cudaStreamCreateWithFlags (&cu->stream, cudaStreamNonBlocking) != cudaSuccess ||
      cublasCreate (&cu->blas) != CUBLAS_STATUS_SUCCESS)
    {
      cudaGetLastError ();
      *why_not = g_strdup ("could not create a CUDA stream or cuBLAS handle (out of memory?)");
      g_free (cu);
      return NULL;
    }
  cublasSetStream (cu->blas, cu->stream);
  /* cuBLAS's own workspace, set after the stream (which resets it): one
   * buffer for every recorded step, never allocated during a recording. */
  if (cudaMalloc (&cu->blas_workspace, BLAS_WORKSPACE) == cudaSuccess)
    cublasSetWorkspace (cu->blas, cu->blas_workspace, BLAS_WORKSPACE);
  else
    {
      cudaGetLastError ();
      cu->blas_workspace = NULL;
    }
  if (!_lam_cuda_graph_setup (cu))
    {
      *why_not = g_strdup ("could not allocate pinned host memory for the CUDA backend");
      _lam_cuda_graph_destroy (cu);
      if (cu->blas_workspace)
        cudaFree (cu->blas_workspace);
      cublasDestroy (cu->blas);
      cudaStreamDestroy (cu->stream);
      g_free (cu);
      return NULL;
    }
  /* Same seed, same run: pedantic math avoids reduced-precision tensor-core
   * paths that change between runs on some shapes. */
  cublasSetMathMode (cu->blas, CUBLAS_PEDANTIC_MATH);

  static gsize ops_init = 0;
  if (g_once_init_enter (&ops_init))
    {
      cuda_ops.destroy = cuda_destroy;
      cuda_ops.alloc = cuda_alloc;
      cuda_ops.free = cuda_free;
      cuda_ops.upload = cuda_upload;
      cuda_ops.download = cuda_download;
      cuda_ops.copy = cuda_copy;
      cuda_ops.zero = cuda_zero;
      cuda_ops.synchronize = cuda_synchronize;
      cuda_ops.status = cuda_status;
      _lam_cuda_graph_init (&cuda_ops);
      _lam_cuda_elementwise_init (&cuda_ops);
      _lam_cuda_dense_init (&cuda_ops);
      _lam_cuda_conv_init (&cuda_ops);
      _lam_cuda_norm_init (&cuda_ops);
      _lam_cuda_seq_init (&cuda_ops);
      g_once_init_leave (&ops_init, 1);
    }

  LamBackend *be = g_new0 (LamBackend, 1);
  be->ops = &cuda_ops;
  be->ctx = cu;
  be->name = g_strdup ("cuda");
  be->n_threads = 1;
  be->description = g_strdup_printf ("CUDA: %s, %.0f GB", prop.name, prop.totalGlobalMem / 1e9);
  (void) error;
  return be;
}
