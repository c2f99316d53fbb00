/* lam-cuda-cudnn.cu: convolutions through cuDNN, where it is installed
 * and measured faster than im2col and cuBLAS (lam-cuda-conv.cu).
 *
 * cuDNN is opened at run time (dlopen), so that the module needs neither
 * its headers to build nor the library to load: without it, every
 * convolution runs as im2col + GEMM, as before. With it, the first call
 * of each convolution shape, forward and backward apart, decides: the
 * deterministic algorithm cuDNN's heuristics rank first (not a timed
 * search, so every run picks the same; FMA maths, no TF32) is run against
 * im2col on the same data, a few times each; where their results agree
 * and cuDNN is faster by a clear margin, cuDNN runs that shape from then
 * on. The decision is taken while ops run one by one, never inside a
 * recorded step (a recording that meets an undecided shape ends, and the
 * step runs again op by op).
 *
 * Same seed, same run: with LAMINA_CUDNN=0 (never cuDNN) or =1 (cuDNN
 * for every shape it can run), always. Unset ("auto"), the choice is a
 * measurement: two runs take the same way unless the two ways' speeds
 * come within the margin of each other on that GPU, and then their
 * losses may differ in the last digits.
 *
 * LAMINA_CUDNN_LIBRARY names the library (default libcudnn.so.9, then
 * beside the loaded cuBLAS).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cuda"

#include <dlfcn.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "lam-cuda.h"

#define THREADS 256

/* The part of cuDNN 9's API used here, declared here (see above); the
 * values are those of cudnn_graph.h, cudnn_ops.h and cudnn_cnn.h: nvcc
 * builds check the constants and the result structs' layout below, where
 * cuDNN 9's headers are installed (the functions' signatures are checked
 * by hand only). */
typedef int LamDnnStatus;
typedef struct LamDnnContext *LamDnnHandle;
typedef struct LamDnnTensor *LamDnnTensorDesc;
typedef struct LamDnnFilter *LamDnnFilterDesc;
typedef struct LamDnnConv *LamDnnConvDesc;
enum {
  LAM_DNN_STATUS_SUCCESS = 0,
  LAM_DNN_NO_SCRATCH = -1,   /* ours: the workspace could not be had (the backend's error says why) */
  LAM_DNN_DATA_FLOAT = 0,
  LAM_DNN_TENSOR_NCHW = 0,
  LAM_DNN_CROSS_CORRELATION = 1,
  LAM_DNN_FMA_MATH = 3,
  LAM_DNN_DETERMINISTIC = 1,
};
/* cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t, all three alike */
typedef struct {
  int          algo;
  LamDnnStatus status;
  float        time;
  size_t       memory;
  int          determinism;
  int          math_type;
  int          reserved[3];
} LamDnnPerf;

#if defined(__CUDACC__) && defined(__has_include)
# if __has_include(<cudnn.h>)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#  include <cudnn.h>
#  if CUDNN_MAJOR == 9   /* other versions' headers: nothing to check against */
static_assert ((int) CUDNN_STATUS_SUCCESS == LAM_DNN_STATUS_SUCCESS && (int) CUDNN_DATA_FLOAT == LAM_DNN_DATA_FLOAT &&
               (int) CUDNN_TENSOR_NCHW == LAM_DNN_TENSOR_NCHW &&
               (int) CUDNN_CROSS_CORRELATION == LAM_DNN_CROSS_CORRELATION &&
               (int) CUDNN_FMA_MATH == LAM_DNN_FMA_MATH && (int) CUDNN_DETERMINISTIC == LAM_DNN_DETERMINISTIC,
               "cuDNN's constants");
#  define LAM_DNN_SAME_PERF(T) \
  static_assert (sizeof (T) == sizeof (LamDnnPerf) && offsetof (T, status) == offsetof (LamDnnPerf, status) && \
                 offsetof (T, memory) == offsetof (LamDnnPerf, memory) && \
                 offsetof (T, determinism) == offsetof (LamDnnPerf, determinism) && \
                 offsetof (T, mathType) == offsetof (LamDnnPerf, math_type), #T)
LAM_DNN_SAME_PERF (cudnnConvolutionFwdAlgoPerf_t);
LAM_DNN_SAME_PERF (cudnnConvolutionBwdDataAlgoPerf_t);
LAM_DNN_SAME_PERF (cudnnConvolutionBwdFilterAlgoPerf_t);
#  endif
#  pragma GCC diagnostic pop
# endif
#endif

/* What a convolution shape runs on, one direction */
typedef enum { DNN_UNDECIDED, DNN_IM2COL, DNN_CUDNN } DnnChoice;

typedef struct {
  LamConvShape      s;
  LamDnnTensorDesc  x, y;
  LamDnnFilterDesc  w;
  LamDnnConvDesc    conv;
  DnnChoice         fwd;
  DnnChoice         bwd[2];           /* without, with the input's gradient (dx) */
  int               fwd_algo, data_algo, filter_algo;
  size_t            fwd_ws, bwd_ws;   /* bytes */
} DnnShape;

/* cudnnGetConvolution*Algorithm_v7 (handle, in1, in2, conv, out, n, &returned, perf) */
typedef LamDnnStatus (*DnnHeurFn) (LamDnnHandle, const void *, const void *, LamDnnConvDesc, const void *, int,
                                   int *, LamDnnPerf *);
/* cudnnGetConvolution*WorkspaceSize (handle, in1, in2, conv, out, algo, &bytes) */
typedef LamDnnStatus (*DnnWsFn) (LamDnnHandle, const void *, const void *, LamDnnConvDesc, const void *, int,
                                 size_t *);
typedef LamDnnStatus (*DnnRunFn) (LamDnnHandle, const void *, const void *, const void *, const void *,
                                  const void *, LamDnnConvDesc, int, void *, size_t, const void *, const void *,
                                  void *);

struct _LamDnn {
  void        *lib;
  LamDnnHandle handle;
  int          mode;         /* 0 never, 1 always, 2 measure */
  GArray      *shapes;       /* DnnShape */
  char        *why_not;      /* cuDNN not used at all: why */
  char        *status;       /* _lam_cuda_dnn_status's, until a decision changes it (asked every step) */
  /* the API */
  LamDnnStatus (*create) (LamDnnHandle *);
  LamDnnStatus (*destroy) (LamDnnHandle);
  LamDnnStatus (*set_stream) (LamDnnHandle, cudaStream_t);
  const char  *(*error_string) (LamDnnStatus);
  LamDnnStatus (*create_tensor) (LamDnnTensorDesc *);
  LamDnnStatus (*set_tensor) (LamDnnTensorDesc, int, int, int, int, int, int);
  LamDnnStatus (*destroy_tensor) (LamDnnTensorDesc);
  LamDnnStatus (*create_filter) (LamDnnFilterDesc *);
  LamDnnStatus (*set_filter) (LamDnnFilterDesc, int, int, int, int, int, int);
  LamDnnStatus (*destroy_filter) (LamDnnFilterDesc);
  LamDnnStatus (*create_conv) (LamDnnConvDesc *);
  LamDnnStatus (*set_conv) (LamDnnConvDesc, int, int, int, int, int, int, int, int);
  LamDnnStatus (*set_math) (LamDnnConvDesc, int);
  LamDnnStatus (*destroy_conv) (LamDnnConvDesc);
  DnnHeurFn    heur_fwd, heur_data, heur_filter;
  DnnWsFn      ws_fwd, ws_data, ws_filter;
  /* (handle, alpha, in1 desc, in1, in2 desc, in2, conv, algo, ws, ws bytes, beta, out desc, out) */
  DnnRunFn     fwd, data, filter;
};

/* Kernels */

/* y[b, c, p] = relu? (y + bias[c]), in place, NCHW */
__global__ static void
bias_relu_kernel (float *y, const float *bias, size_t n, int C, int HW, int relu)
{
  size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  float v = y[i];
  if (bias)
    v += bias[(i / HW) % C];
  y[i] = lam_cuda_fused_relu (v, relu);
}

/* Loading */

static void *
dnn_open (void)
{
  const char *name = g_getenv ("LAMINA_CUDNN_LIBRARY");
  if (name != NULL)
    return dlopen (name, RTLD_NOW | RTLD_LOCAL);
#ifdef LAM_CUDA_EMULATOR
  /* never the real one under the emulator: it needs a GPU */
  return NULL;
#else
  void *lib = dlopen ("libcudnn.so.9", RTLD_NOW | RTLD_LOCAL);
  Dl_info info;
  if (lib == NULL && dladdr ((void *) cublasCreate, &info) && info.dli_fname != NULL)
    {
      /* beside cuBLAS, as the CUDA toolkit installs it, or where NVIDIA's
       * Python wheels do (nvidia/cublas/lib, nvidia/cudnn/lib) */
      g_autofree char *dir = g_path_get_dirname (info.dli_fname);
      g_autofree char *path = g_build_filename (dir, "libcudnn.so.9", NULL);
      g_autofree char *wheel = g_build_filename (dir, "..", "..", "cudnn", "lib", "libcudnn.so.9", NULL);
      lib = dlopen (path, RTLD_NOW | RTLD_LOCAL);
      if (lib == NULL)
        lib = dlopen (wheel, RTLD_NOW | RTLD_LOCAL);
    }
  return lib;
#endif
}

static gboolean
dnn_load (LamDnn *d)
{
  d->lib = dnn_open ();
  if (d->lib == NULL)
    {
      const char *name = g_getenv ("LAMINA_CUDNN_LIBRARY");
      d->why_not = name != NULL ? g_strdup_printf ("%s could not be opened (%s)", name, dlerror ())
                                : g_strdup ("cuDNN 9 not found");
      return FALSE;
    }
#define SYM(field, name) \
  if (!(*(void **) &d->field = dlsym (d->lib, name))) \
    { \
      d->why_not = g_strdup ("cuDNN lacks " name); \
      return FALSE; \
    }
  SYM (create, "cudnnCreate");
  SYM (destroy, "cudnnDestroy");
  SYM (set_stream, "cudnnSetStream");
  SYM (error_string, "cudnnGetErrorString");
  SYM (create_tensor, "cudnnCreateTensorDescriptor");
  SYM (set_tensor, "cudnnSetTensor4dDescriptor");
  SYM (destroy_tensor, "cudnnDestroyTensorDescriptor");
  SYM (create_filter, "cudnnCreateFilterDescriptor");
  SYM (set_filter, "cudnnSetFilter4dDescriptor");
  SYM (destroy_filter, "cudnnDestroyFilterDescriptor");
  SYM (create_conv, "cudnnCreateConvolutionDescriptor");
  SYM (set_conv, "cudnnSetConvolution2dDescriptor");
  SYM (set_math, "cudnnSetConvolutionMathType");
  SYM (destroy_conv, "cudnnDestroyConvolutionDescriptor");
  SYM (heur_fwd, "cudnnGetConvolutionForwardAlgorithm_v7");
  SYM (heur_data, "cudnnGetConvolutionBackwardDataAlgorithm_v7");
  SYM (heur_filter, "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
  SYM (ws_fwd, "cudnnGetConvolutionForwardWorkspaceSize");
  SYM (ws_data, "cudnnGetConvolutionBackwardDataWorkspaceSize");
  SYM (ws_filter, "cudnnGetConvolutionBackwardFilterWorkspaceSize");
  SYM (fwd, "cudnnConvolutionForward");
  SYM (data, "cudnnConvolutionBackwardData");
  SYM (filter, "cudnnConvolutionBackwardFilter");
#undef SYM
  return TRUE;
}

/* cuDNN for this backend, opened at the first convolution; NULL when it
 * is not to be used (d->why_not says why). */
static LamDnn *
dnn_get (LamCuda *cu)
{
  if (cu->dnn != NULL)
    return cu->dnn->handle != NULL ? cu->dnn : NULL;
  LamDnn *d = cu->dnn = g_new0 (LamDnn, 1);
  d->shapes = g_array_new (FALSE, TRUE, sizeof (DnnShape));
  const char *mode = g_getenv ("LAMINA_CUDNN");
  d->mode = g_strcmp0 (mode, "0") == 0 ? 0 : g_strcmp0 (mode, "1") == 0 ? 1 : 2;
  if (d->mode == 0)
    {
      d->why_not = g_strdup ("LAMINA_CUDNN=0");
      return NULL;
    }
  if (!dnn_load (d))
    return NULL;
  if (d->create (&d->handle) != LAM_DNN_STATUS_SUCCESS)
    {
      d->handle = NULL;
      d->why_not = g_strdup ("cuDNN could not start (cudnnCreate)");
      return NULL;
    }
  d->set_stream (d->handle, cu->stream);
  return d;
}

void
_lam_cuda_dnn_destroy (LamCuda *cu)
{
  LamDnn *d = cu->dnn;
  if (d == NULL)
    return;
  for (guint i = 0; i < d->shapes->len; i++)
    {
      DnnShape *e = &g_array_index (d->shapes, DnnShape, i);
      if (e->x) d->destroy_tensor (e->x);
      if (e->y) d->destroy_tensor (e->y);
      if (e->w) d->destroy_filter (e->w);
      if (e->conv) d->destroy_conv (e->conv);
    }
  g_array_unref (d->shapes);
  if (d->handle)
    d->destroy (d->handle);
  if (d->lib)
    dlclose (d->lib);
  g_free (d->why_not);
  g_free (d->status);
  g_free (d);
}

/* The shape's entry, with its descriptors; NULL when cuDNN cannot
 * describe it (the shape then runs as im2col). */
static DnnShape *
dnn_shape (LamDnn *d, const LamConvShape *s)
{
  for (guint i = 0; i < d->shapes->len; i++)
    {
      DnnShape *e = &g_array_index (d->shapes, DnnShape, i);
      if (memcmp (&e->s, s, sizeof *s) == 0)
        return e;
    }
  DnnShape e;
  memset (&e, 0, sizeof e);
  e.s = *s;
  e.fwd = e.bwd[0] = e.bwd[1] = DNN_UNDECIDED;
  gboolean ok = d->create_tensor (&e.x) == 0 && d->create_tensor (&e.y) == 0 && d->create_filter (&e.w) == 0 &&
                d->create_conv (&e.conv) == 0 &&
                d->set_tensor (e.x, LAM_DNN_TENSOR_NCHW, LAM_DNN_DATA_FLOAT, s->B, s->C, s->H, s->W) == 0 &&
                d->set_tensor (e.y, LAM_DNN_TENSOR_NCHW, LAM_DNN_DATA_FLOAT, s->B, s->OC, s->OH, s->OW) == 0 &&
                d->set_filter (e.w, LAM_DNN_DATA_FLOAT, LAM_DNN_TENSOR_NCHW, s->OC, s->C, s->K, s->K) == 0 &&
                d->set_conv (e.conv, s->pad, s->pad, s->stride, s->stride, 1, 1, LAM_DNN_CROSS_CORRELATION,
                             LAM_DNN_DATA_FLOAT) == 0 &&
                d->set_math (e.conv, LAM_DNN_FMA_MATH) == 0;
  if (!ok)
    e.fwd = e.bwd[0] = e.bwd[1] = DNN_IM2COL;
  g_array_append_val (d->shapes, e);
  g_clear_pointer (&d->status, g_free);
  return &g_array_index (d->shapes, DnnShape, d->shapes->len - 1);
}

/* The first deterministic algorithm in cuDNN's heuristic ranking whose
 * workspace is at most max_ws bytes, and that workspace; -1 when there is
 * none */
static int
dnn_best (DnnHeurFn heur, DnnWsFn wsfn, LamDnnHandle h, const void *a, const void *b, LamDnnConvDesc conv,
          const void *c, size_t max_ws, size_t *ws)
{
  LamDnnPerf perf[16];
  int n = 0;
  if (heur (h, a, b, conv, c, G_N_ELEMENTS (perf), &n, perf) != LAM_DNN_STATUS_SUCCESS)
    return -1;
  for (int i = 0; i < n; i++)
    if (perf[i].status == LAM_DNN_STATUS_SUCCESS && perf[i].determinism == LAM_DNN_DETERMINISTIC &&
        (perf[i].math_type == LAM_DNN_FMA_MATH || perf[i].math_type == 0) &&
        wsfn (h, a, b, conv, c, perf[i].algo, ws) == LAM_DNN_STATUS_SUCCESS && *ws <= max_ws)
      return perf[i].algo;
  return -1;
}

/* Running */

static size_t
ws_floats (size_t bytes)
{
  return (bytes + 255) / 256 * 64;   /* whole 256-byte blocks */
}

/* cuDNN's status, or LAM_DNN_NO_SCRATCH (the backend's error, or a
 * recording that just ended, says why) */
static LamDnnStatus
dnn_run_forward (LamCuda *cu, LamDnn *d, DnnShape *e, float *y, const float *x, const float *w,
                 const float *b, gboolean relu)
{
  const LamConvShape *s = &e->s;
  float *ws = NULL;
  if (e->fwd_ws > 0 && (ws = _lam_cuda_scratch (cu, ws_floats (e->fwd_ws))) == NULL)
    return LAM_DNN_NO_SCRATCH;
  const float one = 1.0f, zero = 0.0f;
  LamDnnStatus st = d->fwd (d->handle, &one, e->x, x, e->w, w, e->conv, e->fwd_algo, ws, e->fwd_ws, &zero, e->y, y);
  if (st != LAM_DNN_STATUS_SUCCESS)
    return st;
  if (b != NULL || relu)
    {
      size_t n = (size_t) s->B * s->OC * s->OH * s->OW;
      bias_relu_kernel<<<lam_cuda_blocks (n, THREADS), THREADS, 0, cu->stream>>> (y, b, n, s->OC, s->OH * s->OW,
                                                                                  relu);
      LAM_CUDA_LAUNCHED (cu);
    }
  return LAM_DNN_STATUS_SUCCESS;
}

static LamDnnStatus
dnn_run_backward (LamCuda *cu, LamDnn *d, DnnShape *e, float *dx, float *dw, float *db, const float *dy,
                  const float *x, const float *w, const float *relu_y)
{
  const LamConvShape *s = &e->s;
  size_t n = (size_t) s->B * s->OC * s->OH * s->OW;
  size_t masked = relu_y != NULL ? ws_floats (n * sizeof (float)) : 0, need = masked + ws_floats (e->bwd_ws);
  size_t np = db != NULL ? _lam_cuda_conv_dy_part (s) : 0;
  float *scratch = NULL;
  if (need + np > 0 && (scratch = _lam_cuda_scratch (cu, need + np)) == NULL)
    return LAM_DNN_NO_SCRATCH;
  float *ws = e->bwd_ws > 0 ? scratch + masked : NULL;
  /* dy masked by the ReLU (in its own layout), and the bias gradient */
  _lam_cuda_conv_dy (cu, s, relu_y != NULL ? scratch : NULL, db, scratch + need, dy, relu_y, TRUE, NULL, NULL, NULL);
  const float *g = relu_y != NULL ? scratch : dy;
  const float one = 1.0f, zero = 0.0f;
  LamDnnStatus st = d->filter (d->handle, &one, e->x, x, e->y, g, e->conv, e->filter_algo, ws, e->bwd_ws, &zero,
                               e->w, dw);
  if (st == LAM_DNN_STATUS_SUCCESS && dx != NULL)
    st = d->data (d->handle, &one, e->w, w, e->y, g, e->conv, e->data_algo, ws, e->bwd_ws, &zero, e->x, dx);
  return st;
}

/* Deciding */

/* Copies of device buffers, to compare two ways of computing them */
static float *
dev_clone (LamCuda *cu, const float *src, size_t n)
{
  float *p = NULL;
  if (src == NULL || cudaMalloc ((void **) &p, n * sizeof (float)) != cudaSuccess)
    {
      cudaGetLastError ();
      return NULL;
    }
  cudaMemcpyAsync (p, src, n * sizeof (float), cudaMemcpyDeviceToDevice, cu->stream);
  return p;
}

/* Normalised squared difference of two device buffers (waits) */
static double
dev_nmse (LamCuda *cu, const float *a, const float *b, size_t n)
{
  g_autofree float *ha = g_new (float, n), *hb = g_new (float, n);
  cudaMemcpyAsync (ha, a, n * sizeof (float), cudaMemcpyDeviceToHost, cu->stream);
  cudaMemcpyAsync (hb, b, n * sizeof (float), cudaMemcpyDeviceToHost, cu->stream);
  cudaStreamSynchronize (cu->stream);
  double num = 0, den = 1e-30;
  for (size_t i = 0; i < n; i++)
    {
      num += ((double) ha[i] - hb[i]) * ((double) ha[i] - hb[i]);
      den += (double) hb[i] * hb[i];
    }
  return num / den;
}

#define REPS 5
/* cuDNN and im2col may round differently; a wrong layout is far off */
#define AGREE 1e-8
/* cuDNN runs a shape only when this much faster: a clear difference,
 * which the next run measures again the same way */
#define MARGIN 1.1f

/* Milliseconds per run of `run` (REPS runs after one to warm up) */
static float
time_runs (LamCuda *cu, void (*run) (gpointer), gpointer data)
{
  cudaEvent_t t0, t1;
  float ms = INFINITY;
  if (cudaEventCreateWithFlags (&t0, cudaEventDefault) != cudaSuccess)
    {
      cudaGetLastError ();
      return ms;
    }
  if (cudaEventCreateWithFlags (&t1, cudaEventDefault) != cudaSuccess)
    {
      cudaGetLastError ();
      cudaEventDestroy (t0);
      return ms;
    }
  run (data);
  cudaEventRecord (t0, cu->stream);
  for (int i = 0; i < REPS; i++)
    run (data);
  cudaEventRecord (t1, cu->stream);
  if (cudaEventSynchronize (t1) == cudaSuccess && cudaEventElapsedTime (&ms, t0, t1) == cudaSuccess)
    ms /= REPS;
  cudaGetLastError ();
  cudaEventDestroy (t0);
  cudaEventDestroy (t1);
  return ms;
}

typedef struct {
  LamCuda *cu;
  LamDnn *d;
  DnnShape *e;
  float *y, *dx, *dw, *db;
  const float *x, *w, *b, *dy, *relu_y;
  gboolean relu;
  LamCudaConvFwd im2col_fwd;
  LamCudaConvBwd im2col_bwd;
  LamDnnStatus   failed;   /* cuDNN's first failure in the trial */
} Trial;

static void run_im2col_fwd (gpointer p) { Trial *t = (Trial *) p; t->im2col_fwd (t->cu, &t->e->s, t->y, t->x, t->w, t->b, t->relu); }
static void
run_dnn_fwd (gpointer p)
{
  Trial *t = (Trial *) p;
  LamDnnStatus st = dnn_run_forward (t->cu, t->d, t->e, t->y, t->x, t->w, t->b, t->relu);
  if (t->failed == LAM_DNN_STATUS_SUCCESS)
    t->failed = st;
}
static void run_im2col_bwd (gpointer p) { Trial *t = (Trial *) p; t->im2col_bwd (t->cu, &t->e->s, t->dx, t->dw, t->db, t->dy, t->x, t->w, t->relu_y); }
static void
run_dnn_bwd (gpointer p)
{
  Trial *t = (Trial *) p;
  LamDnnStatus st = dnn_run_backward (t->cu, t->d, t->e, t->dx, t->dw, t->db, t->dy, t->x, t->w, t->relu_y);
  if (t->failed == LAM_DNN_STATUS_SUCCESS)
    t->failed = st;
}

/* Scratch floats the cuDNN way needs, and the most workspace it may take:
 * never more memory than im2col's own scratch for the shape (or 16 MiB) */
static size_t
dnn_fwd_scratch (const DnnShape *e)
{
  return e->fwd_ws > 0 ? ws_floats (e->fwd_ws) : 0;
}

static size_t
dnn_bwd_scratch (const DnnShape *e, gboolean relu, gboolean bias)
{
  const LamConvShape *s = &e->s;
  return (relu ? ws_floats ((size_t) s->B * s->OC * s->OH * s->OW * sizeof (float)) : 0) + ws_floats (e->bwd_ws) +
         (bias ? _lam_cuda_conv_dy_part (s) : 0);   /* as dnn_run_backward lays it out */
}

static size_t
dnn_max_ws (const LamConvShape *s, gboolean forward)
{
  size_t CKK = (size_t) s->C * s->K * s->K, N = (size_t) s->B * s->OH * s->OW;
  size_t im2col = ((forward ? 1 : 2) * CKK * N + (size_t) s->OC * N) * sizeof (float);
  return MAX (im2col, (size_t) 16 << 20);
}

/* Grows the scratch for a trial of the cuDNN way; FALSE, with the
 * backend's error left as it was, when that does not fit. */
static gboolean
dnn_scratch_fits (LamCuda *cu, size_t floats)
{
  if (floats == 0)
    return TRUE;
  gboolean had_error = cu->error != NULL;
  if (_lam_cuda_scratch (cu, floats) != NULL)
    return TRUE;
  if (!had_error)
    g_clear_pointer (&cu->error, g_free);   /* im2col runs it: not an error */
  return FALSE;
}

/* Runs both ways on the op's own buffers (each way writes them afresh):
 * returns the choice, and leaves the op's outputs computed the way
 * chosen. */
static DnnChoice
decide (Trial *t, gboolean forward)
{
  LamCuda *cu = t->cu;
  const LamConvShape *s = &t->e->s;
  const char *dir = forward ? "forward" : t->dx != NULL ? "backward" : "backward (no input gradient)";
  void (*mine) (gpointer) = forward ? run_im2col_fwd : run_im2col_bwd;
  void (*theirs) (gpointer) = forward ? run_dnn_fwd : run_dnn_bwd;
  size_t need = forward ? dnn_fwd_scratch (t->e) : dnn_bwd_scratch (t->e, t->relu_y != NULL, t->db != NULL);
  if (!dnn_scratch_fits (cu, need))
    {
      g_message ("cuDNN's workspace for a %dx%dx%d convolution (%s) does not fit in GPU memory; im2col runs it",
                 s->C, s->H, s->W, dir);
      mine (t);
      return DNN_IM2COL;
    }
  if (t->d->mode == 1)
    {
      theirs (t);
      if (t->failed == LAM_DNN_STATUS_SUCCESS)
        return DNN_CUDNN;
      g_message ("cuDNN failed on a %dx%dx%d convolution (%s): %s; im2col runs it", s->C, s->H, s->W, dir,
                 t->d->error_string (t->failed));
      mine (t);
      return DNN_IM2COL;
    }
  /* the outputs one way, kept; then the other way, compared */
  size_t ny = (size_t) s->B * s->OC * s->OH * s->OW, nx = (size_t) s->B * s->C * s->H * s->W;
  size_t nw = (size_t) s->OC * s->C * s->K * s->K;
  float *out[3] = { forward ? t->y : t->dw, forward ? NULL : t->dx, forward ? NULL : t->db };
  size_t len[3] = { forward ? ny : nw, nx, (size_t) s->OC };
  float *kept[3] = { NULL, NULL, NULL };
  DnnChoice choice = DNN_IM2COL;
  mine (t);
  for (int i = 0; i < 3; i++)
    if (out[i] != NULL && (kept[i] = dev_clone (cu, out[i], len[i])) == NULL)
      goto done;   /* no memory to compare in: im2col, which ran last */
  theirs (t);
  for (int i = 0; i < 3; i++)
    if (t->failed != LAM_DNN_STATUS_SUCCESS || (out[i] != NULL && !(dev_nmse (cu, out[i], kept[i], len[i]) <= AGREE)))
      {
        if (t->failed != LAM_DNN_STATUS_SUCCESS)
          g_message ("cuDNN failed on a %dx%dx%d convolution (%s): %s; im2col runs it", s->C, s->H, s->W, dir,
                     t->d->error_string (t->failed));
        else
          g_message ("cuDNN disagrees with im2col on a %dx%dx%d convolution (%s, output %d): not used for it",
                     s->C, s->H, s->W, dir, i);
        mine (t);
        goto done;
      }
  {
    float t_mine = time_runs (cu, mine, t), t_theirs = time_runs (cu, theirs, t);
    g_debug ("convolution %dx%dx%d -> %d, batch %d, %s: im2col %.4f ms, cuDNN %.4f ms", s->C, s->H, s->W, s->OC,
             s->B, dir, t_mine, t_theirs);
    if (t->failed == LAM_DNN_STATUS_SUCCESS && t_theirs * MARGIN < t_mine)
      choice = DNN_CUDNN;   /* ran last */
    else
      mine (t);
  }
done:
  for (int i = 0; i < 3; i++)
    cudaFree (kept[i]);
  return choice;
}

/* The shape's entry when cuDNN may run it this way (decided so, or
 * undecided); NULL when im2col runs it. */
static DnnShape *
dnn_for (LamCuda *cu, const LamConvShape *s, int way, LamDnn **dp)
{
  LamDnn *d = dnn_get (cu);
  *dp = d;
  if (d == NULL)
    return NULL;
  DnnShape *e = dnn_shape (d, s);
  return (way < 0 ? e->fwd : e->bwd[way]) == DNN_IM2COL ? NULL : e;
}

/* Reports a cuDNN failure on the way chosen (not a workspace that could
 * not be had: the backend said why, or a recording just ended) */
static void
dnn_check (LamCuda *cu, LamDnn *d, LamDnnStatus st, const char *what)
{
  if (st != LAM_DNN_STATUS_SUCCESS && st != LAM_DNN_NO_SCRATCH)
    _lam_cuda_fail (cu, what, d->error_string (st), __FILE__, __LINE__);
}

/* Whether cuDNN may have these buffers: its kernels may load 16 bytes at
 * a time, and cuDNN 9 refuses (or a kernel faults on) data that is not
 * so aligned. The engine packs a net's weights one tensor after another,
 * so a weight or its gradient may be 4-byte aligned only: that call runs
 * on im2col, and the shape's choice stands for the calls that are
 * aligned (two layers of one shape can differ). Always the same for a
 * recorded step, whose buffers do not move. */
static gboolean
dnn_aligned (const void *a, const void *b, const void *c, const void *d)
{
  return ((GPOINTER_TO_SIZE (a) | GPOINTER_TO_SIZE (b) | GPOINTER_TO_SIZE (c) | GPOINTER_TO_SIZE (d)) & 15) == 0;
}

/* (db and relu_y: our own kernels read them) */
static gboolean
dnn_bwd_aligned (const float *dx, const float *dw, const float *dy, const float *x, const float *w)
{
  return dnn_aligned (dx, dw, dy, x) && dnn_aligned (w, NULL, NULL, NULL);
}

gboolean
_lam_cuda_dnn_conv_forward (LamCuda *cu, const LamConvShape *s, float *y, const float *x, const float *w,
                            const float *b, gboolean relu, LamCudaConvFwd im2col)
{
  /* (b: our own kernel adds it) */
  if (!dnn_aligned (y, x, w, NULL))
    return FALSE;
  LamDnn *d;
  DnnShape *e = dnn_for (cu, s, -1, &d);
  if (e == NULL)
    return FALSE;
  if (e->fwd == DNN_CUDNN)
    {
      dnn_check (cu, d, dnn_run_forward (cu, d, e, y, x, w, b, relu), "cudnnConvolutionForward");
      return TRUE;
    }
  /* undecided: only while ops run one by one (the first step of a run
   * decides every shape the step has, before any recording) */
  if (cu->mode != LAM_CUDA_EAGER)
    {
      _lam_cuda_graph_break (cu, "a convolution's algorithm is still to be chosen");
      return TRUE;
    }
  g_clear_pointer (&d->status, g_free);   /* a decision follows */
  e->fwd_algo = dnn_best (d->heur_fwd, d->ws_fwd, d->handle, e->x, e->w, e->conv, e->y, dnn_max_ws (s, TRUE),
                          &e->fwd_ws);
  if (e->fwd_algo < 0)
    {
      e->fwd = DNN_IM2COL;
      return FALSE;
    }
  Trial t = { cu, d, e, y, NULL, NULL, NULL, x, w, b, NULL, NULL, relu, im2col, NULL, LAM_DNN_STATUS_SUCCESS };
  e->fwd = decide (&t, TRUE);
  return TRUE;
}

gboolean
_lam_cuda_dnn_may_backward (LamCuda *cu, const LamConvShape *s, const float *dx, const float *dw, const float *dy,
                            const float *x, const float *w)
{
  LamDnn *d;
  return dnn_bwd_aligned (dx, dw, dy, x, w) && dnn_for (cu, s, dx != NULL, &d) != NULL;
}

gboolean
_lam_cuda_dnn_conv_backward (LamCuda *cu, const LamConvShape *s, float *dx, float *dw, float *db, const float *dy,
                             const float *x, const float *w, const float *relu_y, LamCudaConvBwd im2col)
{
  if (!dnn_bwd_aligned (dx, dw, dy, x, w))
    return FALSE;
  LamDnn *d;
  int way = dx != NULL;   /* decided apart: without dx, the data gradient is neither run nor checked */
  DnnShape *e = dnn_for (cu, s, way, &d);
  if (e == NULL)
    return FALSE;
  if (e->bwd[way] == DNN_CUDNN)
    {
      dnn_check (cu, d, dnn_run_backward (cu, d, e, dx, dw, db, dy, x, w, relu_y), "cudnnConvolutionBackward");
      return TRUE;
    }
  if (cu->mode != LAM_CUDA_EAGER)
    {
      _lam_cuda_graph_break (cu, "a convolution's algorithm is still to be chosen");
      return TRUE;
    }
  g_clear_pointer (&d->status, g_free);   /* a decision follows */
  if (e->bwd[!way] == DNN_UNDECIDED)
    {
      /* the algorithms, once for both ways */
      size_t data_ws = 0, filter_ws = 0, max_ws = dnn_max_ws (s, FALSE);
      e->filter_algo = dnn_best (d->heur_filter, d->ws_filter, d->handle, e->x, e->y, e->conv, e->w, max_ws,
                                 &filter_ws);
      e->data_algo = dnn_best (d->heur_data, d->ws_data, d->handle, e->w, e->y, e->conv, e->x, max_ws, &data_ws);
      e->bwd_ws = MAX (data_ws, filter_ws);
    }
  if (e->filter_algo < 0 || e->data_algo < 0)
    {
      e->bwd[way] = DNN_IM2COL;
      return FALSE;
    }
  Trial t = { cu, d, e, NULL, dx, dw, db, x, w, NULL, dy, relu_y, FALSE, NULL, im2col, LAM_DNN_STATUS_SUCCESS };
  e->bwd[way] = decide (&t, FALSE);
  return TRUE;
}

char *
_lam_cuda_dnn_status (LamCuda *cu)
{
  LamDnn *d = cu->dnn;
  if (d == NULL)
    return NULL;   /* no convolution yet */
  if (d->handle == NULL)
    return d->mode == 0 ? NULL : g_strdup_printf ("cuDNN not used: %s", d->why_not);
  if (d->status == NULL)
    {
      int fwd = 0, bwd = 0, n_fwd = 0, n_bwd = 0;
      for (guint i = 0; i < d->shapes->len; i++)
        {
          DnnShape *e = &g_array_index (d->shapes, DnnShape, i);
          n_fwd += e->fwd != DNN_UNDECIDED;
          fwd += e->fwd == DNN_CUDNN;
          for (int way = 0; way < 2; way++)
            {
              n_bwd += e->bwd[way] != DNN_UNDECIDED;
              bwd += e->bwd[way] == DNN_CUDNN;
            }
        }
      if (n_fwd + n_bwd == 0)
        return NULL;
      d->status = g_strdup_printf ("cuDNN for %d of %d convolution shapes forward, %d of %d backward%s", fwd, n_fwd,
                                   bwd, n_bwd, d->mode == 1 ? " (LAMINA_CUDNN=1)" : "");
    }
  return g_strdup (d->status);
}
