/* test-cuda-emu-self.cu: the CUDA emulator's own checks, each shown to
 * fire on a planted bug of the kind it exists for (README.md here). The
 * kernels below are wrong on purpose. Each bad case runs in a
 * subprocess that must die with the emulator's exact words.
 *
 * Built like the files in kernels/cuda: lam-cuda-emu-gen.py rewrites the
 * launches, and the result is compiled as host C++ with the emulator.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <cuda_runtime.h>
#include <cublas_v2.h>

#include <glib.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Kernels */

/* In place, each element plus its left neighbour: which neighbour value
 * a thread reads (old or already updated) depends on which thread runs
 * first, within a block and across blocks. Run in order, as the emulator
 * runs by default, it happens to compute a prefix sum over pairs. */
__global__ static void
racy_neighbour_kernel (float *x, int n)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i > 0 && i < n)
    x[i] += x[i - 1];
}

/* The same without the race: read into a second array. */
__global__ static void
neighbour_kernel (const float *x, float *y, int n)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    y[i] = x[i] + (i > 0 ? x[i - 1] : 0.0f);
}

/* A block sum with its barriers, as kernels/cuda's reductions do it. */
__global__ static void
block_sum_kernel (const float *x, float *out, int n)
{
  __shared__ float part[128];
  int t = threadIdx.x;
  float v = 0;
  for (int i = t; i < n; i += blockDim.x)
    v += x[i];
  part[t] = v;
  __syncthreads ();
  for (int s = blockDim.x / 2; s > 0; s >>= 1)
    {
      if (t < s)
        part[t] += part[t + s];
      __syncthreads ();
    }
  if (t == 0)
    out[blockIdx.x] = part[0];
}

/* Sums all 128 slots of shared memory, but only as many threads as were
 * launched wrote theirs. */
__global__ static void
unwritten_shared_kernel (float *out)
{
  __shared__ float part[128];
  part[threadIdx.x] = 1.0f;
  __syncthreads ();
  if (threadIdx.x == 0)
    {
      float s = 0;
      for (int i = 0; i < 128; i++)
        s += part[i];
      out[blockIdx.x] = s;
    }
}

/* A barrier that only half the block reaches. */
__global__ static void
divergent_barrier_kernel (float *x)
{
  if (threadIdx.x < 16)
    __syncthreads ();
  x[threadIdx.x] = 1.0f;
}

__global__ static void
fill_kernel (float *x, int n, float v)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    x[i] = v;
}

/* Helpers */

static cudaStream_t s0;   /* the tests' stream: the default one is refused */

#define N 200   /* two blocks of 128, the second partly filled */

static float *
device_copy (const float *host, int n)
{
  void *d = NULL;
  g_assert_cmpint (cudaMalloc (&d, n * sizeof (float)), ==, cudaSuccess);
  g_assert_cmpint (cudaMemcpyAsync (d, host, n * sizeof (float), cudaMemcpyHostToDevice, s0), ==, cudaSuccess);
  return (float *) d;
}

static void
read_back (float *host, const float *d, int n)
{
  g_assert_cmpint (cudaMemcpyAsync (host, d, n * sizeof (float), cudaMemcpyDeviceToHost, s0), ==, cudaSuccess);
}

static void
ones (float *x, int n)
{
  for (int i = 0; i < n; i++)
    x[i] = 1.0f;
}

/* In the subprocess: no core file for the abort it is meant to end in. */
static void
expect_abort (void)
{
  struct rlimit none = { 0, 0 };
  setrlimit (RLIMIT_CORE, &none);
}

/* Races */

static void
test_race_hidden_in_order (void)
{
  /* Without the race check the planted race goes unseen: run in order,
   * every thread reads its neighbour already updated. This is why the
   * check exists. */
  float h[N];
  ones (h, N);
  float *d = device_copy (h, N);
  racy_neighbour_kernel<<<(N + 127) / 128, 128, 0, s0>>> (d, N);
  g_assert_cmpint (cudaGetLastError (), ==, cudaSuccess);
  read_back (h, d, N);
  for (int i = 0; i < N; i++)
    g_assert_cmpfloat (h[i], ==, (float) (i + 1));
  cudaFree (d);
}

static void
test_race_caught (void)
{
  if (g_test_subprocess ())
    {
      expect_abort ();
      g_setenv ("EMU_RACECHECK", "1", TRUE);
      float h[N];
      ones (h, N);
      float *d = device_copy (h, N);
      racy_neighbour_kernel<<<(N + 127) / 128, 128, 0, s0>>> (d, N);
      cudaStreamSynchronize (s0);   /* it runs when waited for */
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  /* element 1 is 1 + 1 either way; element 2 is 1 + 2 = 3 (0x40400000)
   * in order and 1 + 1 = 2 (0x40000000) in reverse: byte 10 differs */
  g_test_trap_assert_stderr ("*lam-cuda-emu: racy_neighbour_kernel, launched at *test-cuda-emu-self.cu:*: "
                             "a race: the result depends on the order in which blocks and threads run "
                             "(threads that share memory without __syncthreads, blocks that read what "
                             "other blocks write, or __shared__ memory read before the block wrote it). "
                             "Byte 10 of the 800-byte allocation at * is 0x40 run in order and 0x00 in "
                             "reverse (as floats at byte 8: 3 and 2)*");
}

static void
test_race_free (void)
{
  /* kernels without races pass the check, with the right results */
  if (g_test_subprocess ())
    {
      g_setenv ("EMU_RACECHECK", "1", TRUE);
      float h[N], y[N], s[1];
      for (int i = 0; i < N; i++)
        h[i] = (float) i;
      float *d = device_copy (h, N), *dy = device_copy (h, N), *ds = device_copy (h, 1);
      neighbour_kernel<<<(N + 127) / 128, 128, 0, s0>>> (d, dy, N);
      block_sum_kernel<<<1, 128, 0, s0>>> (d, ds, N);
      g_assert_cmpint (cudaGetLastError (), ==, cudaSuccess);
      read_back (y, dy, N);
      read_back (s, ds, 1);
      for (int i = 0; i < N; i++)
        g_assert_cmpfloat (y[i], ==, (float) (i + (i > 0 ? i - 1 : 0)));
      g_assert_cmpfloat (s[0], ==, (float) (N * (N - 1) / 2));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Shared memory starts undefined */

static void
test_shared_unwritten (void)
{
  /* 64 threads write 64 of the 128 slots; the other 64 read as NaN, as a
   * GPU's leftovers would read as garbage. Under ASan the arrays are
   * plain statics (lam-cuda-emu.h) and keep the last block's values. */
  float h[2];
  ones (h, 2);
  float *d = device_copy (h, 2);
  unwritten_shared_kernel<<<1, 128, 0, s0>>> (d);   /* every slot written: 128 */
  read_back (h, d, 1);
  g_assert_cmpfloat (h[0], ==, 128.0f);
  unwritten_shared_kernel<<<2, 64, 0, s0>>> (d);
  read_back (h, d, 2);
#if defined(__SANITIZE_ADDRESS__)
  g_test_message ("ASan build: __shared__ memory is not filled with NaN (ASan guards it instead)");
#else
  g_assert_true (isnan (h[0]));
  g_assert_true (isnan (h[1]));
#endif
  cudaFree (d);
}

/* Pointers a GPU could not follow */

static void
test_host_pointer (void)
{
  if (g_test_subprocess ())
    {
      expect_abort ();
      float *host = g_new0 (float, N);
      fill_kernel<<<1, 128, 0, s0>>> (host, N, 1.0f);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*lam-cuda-emu: fill_kernel, launched at *test-cuda-emu-self.cu:*: argument 1 (0x*) "
                             "is not device memory (a host pointer, or memory already freed): "
                             "on a GPU the kernel would fault*");
}

/* An allocation starts 16-byte aligned, as CUDA's do, so a few bytes can
 * lie between its end and the guard page: a write there is found when it
 * is freed. */
static void
test_past_the_end_slack (void)
{
  if (g_test_subprocess ())
    {
      expect_abort ();
      float h[5];
      ones (h, 5);
      float *d = device_copy (h, 5);   /* 20 bytes: 12 before the guard page */
      g_assert_cmpuint (GPOINTER_TO_SIZE (d) % 16, ==, 0);
      fill_kernel<<<1, 32, 0, s0>>> (d, 6, 2.0f);
      cudaStreamSynchronize (s0);
      cudaFree (d);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*cudaFree of 0x*: something wrote past the end of its 20 bytes (byte 0 after it)*");
}

static void
test_freed_pointer (void)
{
  if (g_test_subprocess ())
    {
      expect_abort ();
      float h[N];
      ones (h, N);
      float *d = device_copy (h, N);
      cudaFree (d);
      fill_kernel<<<1, 128, 0, s0>>> (d, N, 1.0f);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*fill_kernel*argument 1 (0x*) is not device memory*");
}

/* C (2x2) = A (2x3) B (3x2), A and B in one 6-float device allocation;
 * C on the host or the device, B's leading dimension ldb (3 fits). */
static void
bad_gemm (gboolean host_c, int ldb)
{
  expect_abort ();
  float a[6] = { 0 }, c[4];
  float *da = device_copy (a, 6), *dc = host_c ? c : device_copy (a, 4);
  cublasHandle_t handle;
  cublasCreate (&handle);
  cublasSetStream (handle, s0);
  float alpha = 1, beta = 0;
  cublasSgemm (handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &alpha, da, 2, da, ldb, &beta, dc, 2);
}

static void
test_gemm_host_pointer (void)
{
  if (g_test_subprocess ())
    {
      bad_gemm (TRUE, 3);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*lam-cuda-emu: cublasSgemm (C): 16 bytes at 0x* are not inside one device allocation*");
}

static void
test_gemm_past_the_end (void)
{
  /* a leading dimension that runs B past its allocation */
  if (g_test_subprocess ())
    {
      bad_gemm (FALSE, 4);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*lam-cuda-emu: cublasSgemm (B): 28 bytes at 0x* are not inside one device allocation*");
}

/* Launches CUDA refuses or forbids */

static void
test_divergent_barrier (void)
{
  if (g_test_subprocess ())
    {
      expect_abort ();
      float h[32];
      float *d = device_copy (h, 32);
      divergent_barrier_kernel<<<1, 32, 0, s0>>> (d);
      cudaStreamSynchronize (s0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*lam-cuda-emu: divergent __syncthreads: thread 0 passed 1 barriers, thread 16 passed 0*"
                             "in divergent_barrier_kernel, launched at *test-cuda-emu-self.cu:*, block (0,0,0)*");
}

static void
test_invalid_configuration (void)
{
  float h[N];
  ones (h, N);
  float *d = device_copy (h, N);
  fill_kernel<<<1, 2048, 0, s0>>> (d, N, 5.0f);   /* over 1024 threads a block */
  g_assert_cmpint (cudaGetLastError (), ==, cudaErrorInvalidConfiguration);
  g_assert_cmpint (cudaGetLastError (), ==, cudaSuccess);
  read_back (h, d, N);
  g_assert_cmpfloat (h[0], ==, 1.0f);   /* nothing ran */
  cudaFree (d);
}

/* Streams */

static void
test_default_stream (void)
{
  if (g_test_subprocess ())
    {
      expect_abort ();
      float h[N];
      ones (h, N);
      float *d = device_copy (h, N);
      fill_kernel<<<1, 128>>> (d, N, 2.0f);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*lam-cuda-emu: fill_kernel on the default stream (0): each backend has its own stream*");
}

typedef struct {
  cudaStream_t stream;
  float       *d;
  cudaError_t  malloc_err, sync_err, own_sync_err;
} OtherThread;

/* While the main thread captures s0, another thread may launch on its
 * own stream, allocate, and wait for that stream (which runs its work). */
static gpointer
other_thread (gpointer data)
{
  OtherThread *o = (OtherThread *) data;
  void *p = NULL;
  fill_kernel<<<2, 128, 0, o->stream>>> (o->d, N, 3.0f);
  o->malloc_err = cudaMalloc (&p, 64);
  cudaFree (p);
  o->own_sync_err = cudaStreamSynchronize (o->stream);
  o->sync_err = cudaStreamSynchronize (s0);   /* the capturing one: refused */
  cudaGetLastError ();
  return NULL;
}

static void
test_capture_per_stream (void)
{
  float h[N];
  ones (h, N);
  float *d = device_copy (h, N), *e = device_copy (h, N);
  OtherThread o = { NULL, e, 0, 0, 0 };
  g_assert_cmpint (cudaStreamCreateWithFlags (&o.stream, cudaStreamNonBlocking), ==, cudaSuccess);

  g_assert_cmpint (cudaStreamBeginCapture (s0, cudaStreamCaptureModeThreadLocal), ==, cudaSuccess);
  fill_kernel<<<2, 128, 0, s0>>> (d, N, 2.0f);   /* recorded, not run */
  g_thread_join (g_thread_new ("other", other_thread, &o));
  cudaGraph_t graph = NULL;
  /* the other thread's wait on s0 invalidated the capture */
  g_assert_cmpint (cudaStreamEndCapture (s0, &graph), ==, cudaErrorStreamCaptureInvalidated);
  g_assert_null (graph);
  g_assert_cmpint (cudaGetLastError (), ==, cudaErrorStreamCaptureInvalidated);
  g_assert_cmpint (o.malloc_err, ==, cudaSuccess);
  g_assert_cmpint (o.own_sync_err, ==, cudaSuccess);
  g_assert_cmpint (o.sync_err, ==, cudaErrorStreamCaptureUnsupported);
  read_back (h, d, N);
  g_assert_cmpfloat (h[N - 1], ==, 1.0f);   /* the capture's kernel never ran */
  read_back (h, e, N);
  g_assert_cmpfloat (h[N - 1], ==, 3.0f);   /* the other stream's did */

  /* the capturing thread's own allocation invalidates a capture too */
  g_assert_cmpint (cudaStreamBeginCapture (s0, cudaStreamCaptureModeThreadLocal), ==, cudaSuccess);
  fill_kernel<<<2, 128, 0, s0>>> (d, N, 2.0f);
  g_assert_cmpint (cudaMalloc ((void **) &o.d, 4), ==, cudaErrorStreamCaptureUnsupported);   /* this thread: refused */
  g_assert_cmpint (cudaStreamEndCapture (s0, &graph), ==, cudaErrorStreamCaptureInvalidated);
  g_assert_cmpint (cudaGetLastError (), ==, cudaErrorStreamCaptureInvalidated);
  /* a clean capture: the graph replays the kernel */
  g_assert_cmpint (cudaStreamBeginCapture (s0, cudaStreamCaptureModeThreadLocal), ==, cudaSuccess);
  fill_kernel<<<2, 128, 0, s0>>> (d, N, 2.0f);
  g_assert_cmpint (cudaStreamEndCapture (s0, &graph), ==, cudaSuccess);
  cudaGraphExec_t exec = NULL;
  g_assert_cmpint (cudaGraphInstantiate (&exec, graph, 0), ==, cudaSuccess);
  read_back (h, d, N);
  g_assert_cmpfloat (h[N - 1], ==, 1.0f);
  g_assert_cmpint (cudaGraphLaunch (exec, s0), ==, cudaSuccess);
  read_back (h, d, N);
  g_assert_cmpfloat (h[N - 1], ==, 2.0f);
  cudaGraphExecDestroy (exec);
  cudaGraphDestroy (graph);
  cudaStreamDestroy (o.stream);
  cudaFree (d);
  cudaFree (e);
}

/* Work waits in its stream's queue until the host waits for it, as on
 * a GPU, where it would still be running. */
static void
test_queued_until_waited (void)
{
  float h[N], *hp = NULL;
  ones (h, N);
  float *d = device_copy (h, N), *e = device_copy (h, N);
  cudaStream_t s1;
  g_assert_cmpint (cudaStreamCreateWithFlags (&s1, cudaStreamNonBlocking), ==, cudaSuccess);
  g_assert_cmpint (cudaHostAlloc ((void **) &hp, N * sizeof (float), cudaHostAllocDefault), ==, cudaSuccess);

  /* a copy to pinned memory: done when the stream is waited for */
  hp[0] = 0;
  fill_kernel<<<2, 128, 0, s0>>> (d, N, 7.0f);
  g_assert_cmpint (cudaMemcpyAsync (hp, d, N * sizeof (float), cudaMemcpyDeviceToHost, s0), ==, cudaSuccess);
  g_assert_cmpfloat (hp[0], ==, 0.0f);
  g_assert_cmpint (cudaStreamSynchronize (s0), ==, cudaSuccess);
  g_assert_cmpfloat (hp[0], ==, 7.0f);
  g_assert_cmpfloat (hp[N - 1], ==, 7.0f);

  /* a copy from pinned memory reads it when the stream gets there: the
   * host's later write is what arrives */
  hp[0] = 1.0f;
  g_assert_cmpint (cudaMemcpyAsync (d, hp, sizeof (float), cudaMemcpyHostToDevice, s0), ==, cudaSuccess);
  hp[0] = 5.0f;
  read_back (h, d, 1);   /* pageable: waits for the stream, as CUDA */
  g_assert_cmpfloat (h[0], ==, 5.0f);

  /* streams do not wait for each other: s0's copy of e runs before s1's
   * fill of it, which no one waited for */
  fill_kernel<<<2, 128, 0, s1>>> (e, N, 9.0f);
  g_assert_cmpint (cudaMemcpyAsync (d, e, N * sizeof (float), cudaMemcpyDeviceToDevice, s0), ==, cudaSuccess);
  read_back (h, d, N);
  g_assert_cmpfloat (h[0], ==, 1.0f);
  g_assert_cmpint (cudaStreamSynchronize (s1), ==, cudaSuccess);
  read_back (h, e, N);
  g_assert_cmpfloat (h[0], ==, 9.0f);

  /* an event's wait runs the work before its record, not after */
  cudaEvent_t ev;
  g_assert_cmpint (cudaEventCreateWithFlags (&ev, cudaEventDefault), ==, cudaSuccess);
  fill_kernel<<<2, 128, 0, s0>>> (d, N, 6.0f);
  g_assert_cmpint (cudaMemcpyAsync (hp, d, sizeof (float), cudaMemcpyDeviceToHost, s0), ==, cudaSuccess);
  g_assert_cmpint (cudaEventRecord (ev, s0), ==, cudaSuccess);
  fill_kernel<<<2, 128, 0, s0>>> (d, N, 8.0f);
  g_assert_cmpint (cudaMemcpyAsync (hp + 1, d, sizeof (float), cudaMemcpyDeviceToHost, s0), ==, cudaSuccess);
  hp[1] = 0;
  g_assert_cmpint (cudaEventSynchronize (ev), ==, cudaSuccess);
  g_assert_cmpfloat (hp[0], ==, 6.0f);
  g_assert_cmpfloat (hp[1], ==, 0.0f);
  cudaEventDestroy (ev);   /* its record was reached; the rest stays queued */
  g_assert_cmpint (cudaStreamSynchronize (s0), ==, cudaSuccess);
  g_assert_cmpfloat (hp[1], ==, 8.0f);

  cudaFreeHost (hp);
  cudaStreamDestroy (s1);
  cudaFree (d);
}

/* Memory freed by cudaFreeAsync while work on another stream that uses
 * it still waits in its queue: the work aborts the run when it runs. */
static void
test_freed_while_queued (void)
{
  if (g_test_subprocess ())
    {
      expect_abort ();
      float h[N];
      ones (h, N);
      float *e = device_copy (h, N);
      cudaStream_t s1;
      cudaStreamCreateWithFlags (&s1, cudaStreamNonBlocking);
      fill_kernel<<<2, 128, 0, s1>>> (e, N, 2.0f);
      cudaFreeAsync (e, s0);
      cudaStreamSynchronize (s0);   /* the free runs */
      cudaStreamSynchronize (s1);   /* then the fill */
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*lam-cuda-emu: fill_kernel, when its stream ran it: 0 bytes at 0x* are no longer "
                             "device memory (freed while the work waited in its stream's queue*");
}

/* Work issued after cudaFreeAsync may not use the memory, even while the
 * free still waits in its queue. */
static void
test_use_after_free_async (void)
{
  if (g_test_subprocess ())
    {
      expect_abort ();
      float h[N];
      ones (h, N);
      float *d = device_copy (h, N);
      cudaFreeAsync (d, s0);
      fill_kernel<<<2, 128, 0, s0>>> (d, N, 2.0f);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*fill_kernel*argument 1 (0x*) is not device memory*");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (cudaStreamCreateWithFlags (&s0, cudaStreamNonBlocking), ==, cudaSuccess);
  /* the race check only where a test turns it on */
  g_unsetenv ("EMU_RACECHECK");
  g_test_add_func ("/emu/race/hidden-in-order", test_race_hidden_in_order);
  g_test_add_func ("/emu/race/caught", test_race_caught);
  g_test_add_func ("/emu/race/free", test_race_free);
  g_test_add_func ("/emu/shared/unwritten", test_shared_unwritten);
  g_test_add_func ("/emu/pointer/host", test_host_pointer);
  g_test_add_func ("/emu/pointer/freed", test_freed_pointer);
  g_test_add_func ("/emu/pointer/past-the-end-slack", test_past_the_end_slack);
  g_test_add_func ("/emu/pointer/gemm-host", test_gemm_host_pointer);
  g_test_add_func ("/emu/pointer/gemm-past-the-end", test_gemm_past_the_end);
  g_test_add_func ("/emu/launch/divergent-barrier", test_divergent_barrier);
  g_test_add_func ("/emu/launch/invalid-configuration", test_invalid_configuration);
  g_test_add_func ("/emu/stream/default-refused", test_default_stream);
  g_test_add_func ("/emu/stream/capture-per-stream", test_capture_per_stream);
  g_test_add_func ("/emu/stream/queued-until-waited", test_queued_until_waited);
  g_test_add_func ("/emu/stream/freed-while-queued", test_freed_while_queued);
  g_test_add_func ("/emu/stream/use-after-free-async", test_use_after_free_async);
  return g_test_run ();
}
