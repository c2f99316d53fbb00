/* lam-cuda-emu.h: the part of the CUDA runtime and cuBLAS that Lamina's
 * kernels (kernels/cuda) use, emulated on the host, so that test-cuda
 * runs every kernel on a machine without a GPU. See README.md here.
 *
 * The kernels are compiled unchanged, as C++, after
 * lam-cuda-emu-gen.py has rewritten each launch
 *   kernel<<<grid, block, shmem, stream>>> (args);
 * into
 *   emu_launch (emu_cfg ("kernel", __FILE__, __LINE__, grid, block, shmem, stream),
 *               kernel, args);
 * The real kernels/cuda/lam-cuda.h is used as it is: its
 * <cuda_runtime.h> and <cublas_v2.h> are this directory's, which
 * include this file.
 *
 * A test tool, never installed and never part of Lamina itself.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

/* for the kernels' sources: the real cuDNN is never loaded here */
#define LAM_CUDA_EMULATOR 1

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

/* Qualifiers */
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
/* Blocks run one after another, so one copy per kernel is enough. Each
 * block starts with it filled with 0xff bytes (NaN as float, -1 as int),
 * as a GPU's starts undefined: all __shared__ arrays of the module live in
 * one section, "emu_shared", that the scheduler fills. Not under ASan,
 * which leaves variables in named sections without redzones: there the
 * arrays are plain statics that ASan guards against overflows. */
#if defined(__SANITIZE_ADDRESS__)
# define __shared__ static
#else
# define __shared__ static __attribute__ ((section ("emu_shared")))
#endif

/* Geometry; the current thread's is set by the scheduler. */
struct dim3
{
  unsigned x, y, z;
  dim3 (unsigned a = 1, unsigned b = 1, unsigned c = 1) : x (a), y (b), z (c) {}
};
struct uint3
{
  unsigned x, y, z;
};
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

/* Runtime */
typedef int cudaError_t;
enum {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
};
typedef void *cudaStream_t;
typedef struct EmuEvent *cudaEvent_t;
typedef struct EmuGraph *cudaGraph_t;
typedef struct EmuGraph *cudaGraphExec_t;
typedef struct EmuGraphNode *cudaGraphNode_t;   /* never made: only counted */
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal, cudaStreamCaptureModeThreadLocal,
                             cudaStreamCaptureModeRelaxed };
#define cudaHostAllocDefault 0
#define cudaEventDefault 0
#define cudaEventDisableTiming 2
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
#define cudaStreamNonBlocking 1
struct cudaDeviceProp
{
  char   name[256];
  int    major, minor;
  size_t totalGlobalMem;
};

cudaError_t cudaGetDeviceCount        (int *n);
cudaError_t cudaSetDevice             (int device);
cudaError_t cudaGetDeviceProperties   (cudaDeviceProp *prop, int device);
cudaError_t cudaStreamCreateWithFlags (cudaStream_t *stream, int flags);
cudaError_t cudaStreamDestroy         (cudaStream_t stream);
cudaError_t cudaStreamSynchronize     (cudaStream_t stream);
cudaError_t cudaMalloc                (void **ptr, size_t bytes);
cudaError_t cudaFree                  (void *ptr);
cudaError_t cudaFreeAsync             (void *ptr, cudaStream_t stream);
cudaError_t cudaMemsetAsync           (void *ptr, int value, size_t bytes, cudaStream_t stream);
cudaError_t cudaMemcpyAsync           (void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                                       cudaStream_t stream);
cudaError_t cudaGetLastError          (void);
/* Pinned host memory: plain host memory here, never device memory; copies
 * to and from it wait in their stream's queue, as on a GPU, where copies
 * with pageable memory are synchronous. */
cudaError_t cudaHostAlloc             (void **ptr, size_t bytes, unsigned flags);
cudaError_t cudaFreeHost              (void *ptr);
/* Events: reached when their stream runs the work queued before them. */
cudaError_t cudaEventCreateWithFlags  (cudaEvent_t *event, unsigned flags);
cudaError_t cudaEventRecord           (cudaEvent_t event, cudaStream_t stream);
cudaError_t cudaEventSynchronize      (cudaEvent_t event);
cudaError_t cudaEventDestroy          (cudaEvent_t event);
/* host time between the two records, as if the work had taken it */
cudaError_t cudaEventElapsedTime      (float *ms, cudaEvent_t start, cudaEvent_t end);
/* Stream capture and graphs. While the stream captures, launches, memsets,
 * copies and GEMMs are recorded (their arguments by value, memory read
 * when the graph runs), not run; a synchronisation, cudaMalloc or
 * cudaFree then fails and invalidates the capture, as CUDA's
 * thread-local mode does. EMU_CAPTURE_FAIL=1 makes cudaStreamEndCapture
 * fail, to test what the caller does then. */
cudaError_t cudaStreamBeginCapture    (cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture      (cudaStream_t stream, cudaGraph_t *graph);
cudaError_t cudaGraphInstantiate      (cudaGraphExec_t *exec, cudaGraph_t graph, unsigned long long flags);
/* the count of work items recorded (launches, copies, memsets, GEMMs, convolutions);
 * nodes must be NULL */
cudaError_t cudaGraphGetNodes         (cudaGraph_t graph, cudaGraphNode_t *nodes, size_t *numNodes);
cudaError_t cudaGraphLaunch           (cudaGraphExec_t exec, cudaStream_t stream);
cudaError_t cudaGraphDestroy          (cudaGraph_t graph);
cudaError_t cudaGraphExecDestroy      (cudaGraphExec_t exec);
const char *cudaGetErrorString        (cudaError_t err);

/* cuBLAS: a plain reference GEMM with cuBLAS's argument checks. */
typedef int cublasStatus_t;
enum { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1, CUBLAS_STATUS_INVALID_VALUE = 7 };
typedef enum { CUBLAS_OP_N, CUBLAS_OP_T } cublasOperation_t;
typedef void *cublasHandle_t;
#define CUBLAS_PEDANTIC_MATH 2

cublasStatus_t cublasCreate          (cublasHandle_t *handle);
cublasStatus_t cublasDestroy         (cublasHandle_t handle);
cublasStatus_t cublasSetStream       (cublasHandle_t handle, cudaStream_t stream);
cublasStatus_t cublasSetMathMode     (cublasHandle_t handle, int mode);
cublasStatus_t cublasSetWorkspace    (cublasHandle_t handle, void *workspace, size_t bytes);
const char    *cublasGetStatusString (cublasStatus_t status);
cublasStatus_t cublasSgemm           (cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb,
                                      int m, int n, int k, const float *alpha, const float *A, int lda,
                                      const float *B, int ldb, const float *beta, float *C, int ldc);
cublasStatus_t cublasSgemmStridedBatched (cublasHandle_t handle, cublasOperation_t ta,
                                          cublasOperation_t tb, int m, int n, int k, const float *alpha,
                                          const float *A, int lda, long long strideA,
                                          const float *B, int ldb, long long strideB,
                                          const float *beta, float *C, int ldc, long long strideC,
                                          int count);

/* Device functions. Barriers and warp shuffles switch fibers; the
 * emulator aborts when the threads of a block pass different numbers of
 * barriers, or when a lane named in a shuffle's mask, or the lane it
 * reads, is not at the same shuffle. */
void  __syncthreads (void);
float emu_shfl      (unsigned mask, float v, int lane, bool xor_mode);
int   emu_shfl_i    (unsigned mask, int v, int lane, bool xor_mode);

static inline float __shfl_sync     (unsigned m, float v, int lane) { return emu_shfl (m, v, lane, false); }
static inline int   __shfl_sync     (unsigned m, int v, int lane)   { return emu_shfl_i (m, v, lane, false); }
static inline float __shfl_xor_sync (unsigned m, float v, int x)    { return emu_shfl (m, v, x, true); }
static inline int   __shfl_xor_sync (unsigned m, int v, int x)      { return emu_shfl_i (m, v, x, true); }

/* Host libm stands in for CUDA's device maths (see README.md). */
static inline float rsqrtf (float x) { return 1.0f / sqrtf (x); }
/* CUDA's overloads; mixing types is ambiguous here, so it fails to build
 * rather than silently converting. */
static inline int      min (int a, int b)           { return a < b ? a : b; }
static inline int      max (int a, int b)           { return a > b ? a : b; }
static inline unsigned min (unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max (unsigned a, unsigned b) { return a > b ? a : b; }
static inline float    min (float a, float b)       { return fminf (a, b); }
static inline float    max (float a, float b)       { return fmaxf (a, b); }

/* Launches */
struct EmuCfg
{
  const char  *kernel, *file;   /* where it was launched, for messages */
  int          line;
  dim3         grid, block;
  cudaStream_t stream;
};

static inline EmuCfg
emu_cfg (const char *kernel, const char *file, int line, dim3 grid, dim3 block,
         size_t /* shared bytes */ = 0, cudaStream_t stream = 0)
{
  return EmuCfg { kernel, file, line, grid, block, stream };
}

/* Runs body once per thread of every block, block after block.
 * With EMU_RACECHECK=1, twice: see README.md. */
void emu_run (const EmuCfg &cfg, const std::vector<const void *> &pointers,
              const std::function<void ()> &body);

/* Dies unless every pointer argument of a launch is NULL or points into
 * (or just past) a device allocation: a host pointer faults on a GPU. */
void emu_check_pointer_arg (const EmuCfg &cfg, int index, const void *p);
/* Dies unless [p, p + n) is still inside one device allocation, when
 * queued work runs. */
void emu_check_still_device (const void *p, size_t n, const char *what);

/* Work for a stream: queued until the host waits for the stream, or
 * recorded while the stream captures (lam-cuda-emu.cc). Dies for the
 * default stream (0), naming what. */
void emu_submit    (cudaStream_t stream, const char *what, std::function<void ()> work);
/* A launch's configuration, checked when it is launched: FALSE (with
 * cudaGetLastError's answer set) when CUDA would refuse it. */
bool emu_launch_ok (const EmuCfg &cfg);

/* As a real launch: the arguments are evaluated once, on the host, and
 * converted to the kernel's parameter types; every thread then gets its
 * own copy of them. */
template <typename... P, typename... A>
static inline void
emu_launch (const EmuCfg &cfg, void (*kernel) (P...), A &&...args)
{
  static_assert (sizeof... (P) == sizeof... (A), "wrong number of kernel arguments");
  const std::tuple<std::decay_t<P>...> params (std::forward<A> (args)...);
  /* the memory it can reach */
  std::vector<const void *> pointers;
  std::apply ([&] (const auto &...p) {
    int i = 0;
    auto note = [&] (const auto &v) {
      if constexpr (std::is_pointer_v<std::decay_t<decltype (v)>>)
        {
          emu_check_pointer_arg (cfg, i, (const void *) v);
          if (v != NULL)
            pointers.push_back ((const void *) v);
        }
      i++;
    };
    (note (p), ...);
  }, params);
  if (!emu_launch_ok (cfg))
    return;
  /* the queue (or a graph) keeps the arguments, as evaluated at the launch */
  EmuCfg c = cfg;
  emu_submit (cfg.stream, cfg.kernel, [c, pointers, kernel, params] () {
    emu_run (c, pointers, [&] () { std::apply (kernel, params); });
  });
}
