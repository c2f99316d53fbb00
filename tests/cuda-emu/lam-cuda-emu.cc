/* lam-cuda-emu.cc: the CUDA emulator's runtime: a fiber per GPU thread,
 * device memory between guard pages, and a reference cuBLAS GEMM.
 * See README.md here for what it proves and what it cannot.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cuda-emu"

#include "lam-cuda-emu.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <mutex>
#include <vector>

#include <glib.h>

#if defined(__SANITIZE_ADDRESS__)
# include <sanitizer/common_interface_defs.h>
# define EMU_ASAN 1
#else
# define EMU_ASAN 0
#endif

/* Threads and the scheduler
 *
 * A block's threads run as fibers, one after another, each until it
 * finishes, reaches __syncthreads or a warp shuffle. A thread at a
 * barrier waits until every live thread of its block is at one; they
 * must all have passed as many, and so must the threads that finished.
 * A shuffle takes two rounds (write, then read); the lanes in its mask
 * and the lane it reads must be at the same shuffle. */

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

enum { AT_NOTHING, AT_BARRIER, AT_SHUFFLE };

typedef struct {
  ucontext_t ctx;
  uint3      tid;
  bool       done;
  int        at;          /* AT_* */
  int        n_barriers;  /* barriers passed, to match them up */
  int        n_shuffles;
  void      *fake_stack;  /* ASan's, while switched out */
} Fiber;

#define MAX_THREADS 1024
/* Kernels need little stack. Small also keeps ASan fast: its swapcontext
 * clears the stack's shadow, by memset below 64 KiB of shadow (512 KiB
 * of stack) and by remapping pages, far slower, above. */
#define STACK_BYTES (128 * 1024)

static std::mutex launch_lock;
static std::vector<Fiber> fibers;
static std::vector<char *> stacks;    /* usable part, above a guard page */
static ucontext_t scheduler;
static int current, n_threads;
static const std::function<void ()> *current_body;
static float shuffle_f[MAX_THREADS];
static int shuffle_i[MAX_THREADS], shuffle_seq[MAX_THREADS];
static unsigned long n_launches, n_blocks, n_graph_launches;
/* The emulator's thread-locals live in the static TLS block (initial
 * exec), though the module is dlopen'ed: dynamic TLS would go through
 * __tls_get_addr, whose blocks LLVM 14's LeakSanitizer finds by a guess
 * that glibc 2.36 can defeat, and its scan at exit then crashes
 * ("Tracer caught signal 11"; about 1 run in 20 of test-gui-training's
 * view test on the emulator, under load). A few bytes: glibc keeps room
 * for them. */
#define EMU_TLS __attribute__ ((tls_model ("initial-exec")))
static thread_local cudaError_t last_error EMU_TLS;   /* CUDA's is per host thread too */

static const EmuCfg *launch;   /* the one running */
static bool in_fiber;

/* Aborts, saying where in the emulated program we are. */
G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN static void
die (const char *format, ...)
{
  va_list args;
  fputs ("lam-cuda-emu: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  if (launch != NULL)
    {
      fprintf (stderr, "\n  in %s, launched at %s:%d, block (%u,%u,%u)", launch->kernel, launch->file,
               launch->line, blockIdx.x, blockIdx.y, blockIdx.z);
      if (in_fiber)
        fprintf (stderr, ", thread (%u,%u,%u)", threadIdx.x, threadIdx.y, threadIdx.z);
    }
  fputc ('\n', stderr);
  abort ();
}

#if EMU_ASAN
static const void *scheduler_stack;
static size_t scheduler_stack_size;
#endif

/* Leaves the current fiber for the scheduler; exiting frees its ASan state. */
static void
switch_to_scheduler (bool exiting)
{
  Fiber &f = fibers[current];
#if EMU_ASAN
  __sanitizer_start_switch_fiber (exiting ? NULL : &f.fake_stack, scheduler_stack, scheduler_stack_size);
#endif
  swapcontext (&f.ctx, &scheduler);
#if EMU_ASAN
  __sanitizer_finish_switch_fiber (f.fake_stack, NULL, NULL);
#else
  (void) exiting;
#endif
}

static void
switch_to_fiber (int i)
{
  current = i;
  threadIdx = fibers[i].tid;
#if EMU_ASAN
  void *fake_stack = NULL;
  __sanitizer_start_switch_fiber (&fake_stack, stacks[i], STACK_BYTES);
#endif
  in_fiber = true;
  swapcontext (&scheduler, &fibers[i].ctx);
  in_fiber = false;
#if EMU_ASAN
  __sanitizer_finish_switch_fiber (fake_stack, NULL, NULL);
#endif
}

static void
fiber_main (void)
{
#if EMU_ASAN
  __sanitizer_finish_switch_fiber (NULL, &scheduler_stack, &scheduler_stack_size);
#endif
  (*current_body) ();
  fibers[current].done = true;
  switch_to_scheduler (true);
  die ("a finished thread was resumed");
}

static int
linear_thread_index (void)
{
  return threadIdx.x + threadIdx.y * blockDim.x + threadIdx.z * blockDim.x * blockDim.y;
}

void
__syncthreads (void)
{
  Fiber &f = fibers[current];
  f.n_barriers++;
  f.at = AT_BARRIER;
  switch_to_scheduler (false);
}

template <typename T> static T
shuffle (unsigned mask, T v, T *slots, int lane, bool xor_mode)
{
  int me = linear_thread_index ();
  int my_lane = me % 32, warp = me - my_lane;
  if (lane < 0 || lane >= 32)
    die ("thread %d shuffles with lane %d", me, lane);
  if (!(mask & (1u << my_lane)))
    die ("thread %d shuffles with a mask (0x%08x) that leaves it out", me, mask);
  int src = warp + (xor_mode ? (my_lane ^ lane) : lane);
  Fiber &f = fibers[current];
  int seq = ++f.n_shuffles;
  slots[me] = v;
  shuffle_seq[me] = seq;
  f.at = AT_SHUFFLE;
  switch_to_scheduler (false);   /* every lane writes */
  for (int l = 0; l < 32; l++)
    {
      int t = warp + l;
      if (t < n_threads && (t == src || (mask & (1u << l))) && shuffle_seq[t] != seq)
        die ("divergent shuffle: thread %d at its shuffle %d (mask 0x%08x, reading lane %d), "
             "thread %d at its shuffle %d", me, seq, mask, src - warp, t, shuffle_seq[t]);
    }
  if (src >= n_threads)
    die ("thread %d reads lane %d, beyond the block's %d threads", me, src - warp, n_threads);
  T r = slots[src];
  switch_to_scheduler (false);   /* every lane reads before any writes again */
  return r;
}

float
emu_shfl (unsigned mask, float v, int lane, bool xor_mode)
{
  return shuffle (mask, v, shuffle_f, lane, xor_mode);
}

int
emu_shfl_i (unsigned mask, int v, int lane, bool xor_mode)
{
  return shuffle (mask, v, shuffle_i, lane, xor_mode);
}

/* Kept apart from the loops: getcontext returns twice, as far as the
 * compiler knows, which would pin run_block's locals. */
__attribute__ ((noinline)) static void
start_context (ucontext_t *ctx, char *stack)
{
  getcontext (ctx);
  ctx->uc_stack.ss_sp = stack;
  ctx->uc_stack.ss_size = STACK_BYTES;
  ctx->uc_link = NULL;
  makecontext (ctx, fiber_main, 0);
}

static void
run_block (const dim3 &block, bool reverse)
{
  for (int i = 0; i < n_threads; i++)
    {
      Fiber &f = fibers[i];
      f.done = false;
      f.at = AT_NOTHING;
      f.n_barriers = f.n_shuffles = 0;
      f.fake_stack = NULL;
      f.tid = uint3 { i % block.x, (i / block.x) % block.y, i / (block.x * block.y) };
      start_context (&f.ctx, stacks[i]);
      shuffle_seq[i] = 0;
    }
  for (;;)
    {
      int alive = 0, waiting = 0;
      for (int k = 0; k < n_threads; k++)
        {
          int i = reverse ? n_threads - 1 - k : k;
          Fiber &f = fibers[i];
          if (!f.done && f.at != AT_BARRIER)
            switch_to_fiber (i);
          if (!f.done)
            alive++;
          if (!f.done && f.at == AT_BARRIER)
            waiting++;
        }
      if (alive == 0)
        break;
      if (waiting < alive)
        continue;
      /* every live thread is at a barrier: the same one? */
      int first = -1;
      for (int i = 0; i < n_threads; i++)
        {
          Fiber &f = fibers[i];
          if (f.done)
            continue;
          if (first < 0)
            first = i;
          else if (f.n_barriers != fibers[first].n_barriers)
            die ("divergent __syncthreads: thread %d at its barrier %d, thread %d at its barrier %d",
                 first, fibers[first].n_barriers, i, f.n_barriers);
          f.at = AT_NOTHING;
        }
    }
  /* As the CUDA guide asks: a barrier in conditional code only where the
   * condition is the same for the whole block. Threads that return early
   * and skip the barriers that the others wait at break that rule too. */
  for (int i = 1; i < n_threads; i++)
    if (fibers[i].n_barriers != fibers[0].n_barriers)
      die ("divergent __syncthreads: thread 0 passed %d barriers, thread %d passed %d",
           fibers[0].n_barriers, i, fibers[i].n_barriers);
}

#if !EMU_ASAN
static struct sigaction previous_segv, previous_bus;

/* A fault in a kernel is most likely a guard page: say which kernel, then
 * fault again under the previous handler. (ASan builds have ASan's.) */
static void
on_fault (int sig, siginfo_t *info, void *)
{
  if (launch != NULL)
    {
      char msg[512];
      int n = snprintf (msg, sizeof msg,
                        "lam-cuda-emu: %s at %p in %s, launched at %s:%d, block (%u,%u,%u), thread (%u,%u,%u): "
                        "a guard page (just past a device allocation, or just before one with "
                        "EMU_GUARD=front) or memory that is not the device's\n",
                        sig == SIGSEGV ? "SIGSEGV" : "SIGBUS", info->si_addr, launch->kernel, launch->file,
                        launch->line, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
      G_GNUC_UNUSED ssize_t written = write (STDERR_FILENO, msg, MIN ((size_t) n, sizeof msg - 1));
    }
  sigaction (sig, sig == SIGSEGV ? &previous_segv : &previous_bus, NULL);
}

static void
catch_faults (void)
{
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGSEGV, &sa, &previous_segv);
  sigaction (SIGBUS, &sa, &previous_bus);
}
#endif

/* The __shared__ arrays (lam-cuda-emu.h), where the linker gathered them;
 * absent when nothing in the module declares one, or under ASan. */
extern char __start_emu_shared[] __attribute__ ((weak, visibility ("hidden")));
extern char __stop_emu_shared[] __attribute__ ((weak, visibility ("hidden")));

/* Every block of the launch, in order or in reverse; in reverse, each
 * block's threads run last to first as well. Each block starts with its
 * shared memory undefined: 0xff bytes. */
static void
run_grid (bool reverse)
{
  const dim3 &g = gridDim;
  size_t shared_bytes = __start_emu_shared != NULL ? (size_t) (__stop_emu_shared - __start_emu_shared) : 0;
  unsigned long n = (unsigned long) g.x * g.y * g.z;
  for (unsigned long k = 0; k < n; k++)
    {
      unsigned long i = reverse ? n - 1 - k : k;
      blockIdx = uint3 { (unsigned) (i % g.x), (unsigned) (i / g.x % g.y), (unsigned) (i / g.x / g.y) };
      if (shared_bytes > 0)
        memset (__start_emu_shared, 0xff, shared_bytes);
      run_block (blockDim, reverse);
      n_blocks++;
    }
}

static void run_grid_both_ways (const std::vector<const void *> &pointers);

bool
emu_launch_ok (const EmuCfg &cfg)
{
  const dim3 &g = cfg.grid, &b = cfg.block;
  unsigned long nt = (unsigned long) b.x * b.y * b.z;
  if (g.x < 1 || g.y < 1 || g.z < 1 || g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535 ||
      b.x < 1 || b.y < 1 || b.z < 1 || b.x > 1024 || b.y > 1024 || b.z > 64 || nt > MAX_THREADS)
    {
      /* as CUDA: the launch does nothing, and cudaGetLastError says why */
      fprintf (stderr, "lam-cuda-emu: %s, launched at %s:%d: invalid configuration grid (%u,%u,%u) block (%u,%u,%u)\n",
               cfg.kernel, cfg.file, cfg.line, g.x, g.y, g.z, b.x, b.y, b.z);
      last_error = cudaErrorInvalidConfiguration;
      return false;
    }
  return true;
}

void
emu_run (const EmuCfg &cfg, const std::vector<const void *> &pointers, const std::function<void ()> &body)
{
  const dim3 &g = cfg.grid, &b = cfg.block;
  unsigned long nt = (unsigned long) b.x * b.y * b.z;

  std::lock_guard<std::mutex> hold (launch_lock);
  /* checked at the launch; freed since, while the launch waited in its
   * queue (a free on another stream, say)? (Under the lock, so that a
   * message names no other thread's kernel.) */
  for (const void *p : pointers)
    emu_check_still_device (p, 0, cfg.kernel);
#if !EMU_ASAN
  static bool catching = false;
  if (!catching)
    catch_faults ();
  catching = true;
#endif
  n_launches++;
  n_threads = (int) nt;
  gridDim = g;
  blockDim = b;
  current_body = &body;
  if (fibers.size () < nt)
    fibers.resize (nt);
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  while (stacks.size () < nt)
    {
      /* a guard page below each stack turns an overflow into a crash */
      char *s = (char *) mmap (NULL, STACK_BYTES + page, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (s == MAP_FAILED)
        die ("no memory for thread stacks");
      mprotect (s, page, PROT_NONE);
      stacks.push_back (s + page);
    }
  launch = &cfg;
  static int racecheck = -1;
  if (racecheck < 0)
    racecheck = g_strcmp0 (g_getenv ("EMU_RACECHECK"), "1") == 0;
  if (racecheck)
    run_grid_both_ways (pointers);
  else
    run_grid (false);
  launch = NULL;
}

static size_t still_queued (void);

__attribute__ ((destructor)) static void
report (void)
{
  if (n_launches > 0)
    fprintf (stderr, "lam-cuda-emu: emulated %lu kernel launches, %lu blocks, %lu graph launches\n",
             n_launches, n_blocks, n_graph_launches);
  /* (a GPU would have run it; nothing waited, so nothing checked it) */
  size_t left = still_queued ();
  if (left > 0)
    fprintf (stderr, "lam-cuda-emu: %zu operations were still queued at exit, never waited for\n", left);
}

/* Streams, stream capture and graphs
 *
 * Work issued to a stream (launches, copies, memsets, GEMMs, convolutions,
 * graph launches, frees) waits in the stream's queue, in order, until
 * something makes the host wait for it: cudaStreamSynchronize or
 * cudaEventSynchronize for that stream, a copy to or from pageable host
 * memory (synchronous in CUDA), and cudaFree, cudaFreeHost or
 * cudaGraphExecDestroy for every stream. So a host that reads results it
 * did not wait for, or rewrites pinned memory that a queued copy still
 * reads, or a stream that needs another's work without waiting for it,
 * sees what it would on a GPU: the old bytes. (EMU_SYNC=1 runs work when
 * it is issued instead.) Streams never run their work concurrently.
 *
 * While a stream captures, the work issued to it (from any thread) is
 * recorded into the graph being built instead. What cannot be captured
 * (waits, cudaMalloc, cudaFree) fails and invalidates the capture when
 * the capturing thread calls it, as in CUDA's thread-local mode: other
 * threads may. Work on the default stream (0) is refused outright: each
 * Lamina backend has a stream of its own, and work on the wrong one would
 * race on a GPU. */

typedef std::vector<std::function<void ()>> EmuWork;

/* A graph being recorded, or an instantiated one: run is what a launch
 * runs, kept alive by the launches still queued after a destroy. */
struct EmuGraph
{
  EmuWork                  work;
  std::shared_ptr<EmuWork> run;
};

struct EmuStream
{
  EmuGraph     *capture = NULL;   /* being recorded, or NULL */
  bool          invalidated = false;
  std::mutex    queue_lock;       /* guards queue and submitted */
  std::deque<std::pair<unsigned long, std::function<void ()>>> queue;   /* by number */
  unsigned long submitted = 0;
  std::mutex    run_lock;         /* one thread runs the queue at a time, in order */
};

static std::mutex streams_lock;   /* guards streams; held while all are flushed */
/* never destroyed: report () reads it at exit, after static destructors */
static std::vector<EmuStream *> &streams = *new std::vector<EmuStream *>;

/* the stream this thread captures, or NULL */
static thread_local EmuStream *capturing_here EMU_TLS;

static EmuStream *
stream_of (cudaStream_t stream, const char *what)
{
  if (stream == NULL)
    die ("%s on the default stream (0): each backend has its own stream", what);
  return (EmuStream *) stream;
}

static bool
emu_capturing (cudaStream_t stream, const char *what)
{
  return stream_of (stream, what)->capture != NULL;
}

static bool
synchronous (void)
{
  static int sync = -1;
  if (sync < 0)
    sync = g_strcmp0 (g_getenv ("EMU_SYNC"), "1") == 0;
  return sync;
}

/* Queues work; returns its number in the stream (0: recorded or run). */
static unsigned long
submit (EmuStream *s, std::function<void ()> work)
{
  if (s->capture != NULL)
    s->capture->work.push_back (std::move (work));
  else if (synchronous ())
    work ();
  else
    {
      std::lock_guard<std::mutex> hold (s->queue_lock);
      s->queue.emplace_back (++s->submitted, std::move (work));
      return s->submitted;
    }
  return 0;
}

void
emu_submit (cudaStream_t stream, const char *what, std::function<void ()> work)
{
  submit (stream_of (stream, what), std::move (work));
}

/* Runs what s has queued, up to the work numbered last: the stream
 * catches up with the host. */
static void
flush_to (EmuStream *s, unsigned long last)
{
  std::lock_guard<std::mutex> running (s->run_lock);
  for (;;)
    {
      std::function<void ()> work;
      {
        std::lock_guard<std::mutex> hold (s->queue_lock);
        if (s->queue.empty () || s->queue.front ().first > last)
          return;
        work = std::move (s->queue.front ().second);
        s->queue.pop_front ();
      }
      work ();
    }
}

static void
flush (EmuStream *s)
{
  flush_to (s, ULONG_MAX);
}

static size_t
still_queued (void)
{
  size_t n = 0;
  std::lock_guard<std::mutex> hold (streams_lock);
  for (EmuStream *s : streams)
    {
      std::lock_guard<std::mutex> q (s->queue_lock);
      n += s->queue.size ();
    }
  return n;
}

/* The whole device catches up (cudaFree, cudaFreeHost...). */
static void
flush_all (void)
{
  std::lock_guard<std::mutex> hold (streams_lock);
  for (EmuStream *s : streams)
    flush (s);
}

/* For calls that a capturing thread may not make. */
static bool
refused_in_capture (const char *what)
{
  if (capturing_here == NULL)
    return false;
  fprintf (stderr, "lam-cuda-emu: %s during stream capture: the capture is invalidated\n", what);
  capturing_here->invalidated = true;
  last_error = cudaErrorStreamCaptureUnsupported;
  return true;
}

cudaError_t
cudaStreamBeginCapture (cudaStream_t stream, cudaStreamCaptureMode)
{
  EmuStream *s = stream_of (stream, "cudaStreamBeginCapture");
  if (s->capture != NULL || capturing_here != NULL)
    return last_error = cudaErrorInvalidValue;
  s->capture = new EmuGraph;
  s->invalidated = false;
  capturing_here = s;
  return cudaSuccess;
}

cudaError_t
cudaStreamEndCapture (cudaStream_t stream, cudaGraph_t *graph)
{
  EmuStream *s = stream_of (stream, "cudaStreamEndCapture");
  *graph = NULL;
  if (s->capture == NULL)
    return last_error = cudaErrorInvalidValue;
  if (capturing_here != s)
    die ("cudaStreamEndCapture on a thread other than the one that began the capture");
  EmuGraph *g = s->capture;
  s->capture = NULL;
  capturing_here = NULL;
  if (s->invalidated || g_strcmp0 (g_getenv ("EMU_CAPTURE_FAIL"), "1") == 0)
    {
      delete g;
      return last_error = cudaErrorStreamCaptureInvalidated;
    }
  *graph = g;
  return cudaSuccess;
}

cudaError_t
cudaGraphGetNodes (cudaGraph_t graph, cudaGraphNode_t *nodes, size_t *numNodes)
{
  if (graph == NULL || numNodes == NULL)
    return last_error = cudaErrorInvalidValue;
  if (nodes != NULL)
    die ("cudaGraphGetNodes: the emulator only counts nodes (pass NULL)");
  *numNodes = graph->work.size ();
  return cudaSuccess;
}

cudaError_t
cudaGraphInstantiate (cudaGraphExec_t *exec, cudaGraph_t graph, unsigned long long)
{
  if (graph == NULL || capturing_here != NULL)
    return last_error = cudaErrorInvalidValue;
  EmuGraph *e = new EmuGraph;
  e->run = std::make_shared<EmuWork> (graph->work);
  *exec = e;
  return cudaSuccess;
}

cudaError_t
cudaGraphLaunch (cudaGraphExec_t exec, cudaStream_t stream)
{
  if (exec == NULL || emu_capturing (stream, "cudaGraphLaunch") || refused_in_capture ("cudaGraphLaunch"))
    return last_error = cudaErrorInvalidValue;
  n_graph_launches++;
  std::shared_ptr<EmuWork> run = exec->run;
  if (run == NULL)
    die ("cudaGraphLaunch of a graph that was not instantiated");
  emu_submit (stream, "cudaGraphLaunch", [run] () {
    for (auto &w : *run)
      w ();
  });
  return cudaSuccess;
}

cudaError_t
cudaGraphDestroy (cudaGraph_t graph)
{
  delete graph;
  return cudaSuccess;
}

cudaError_t
cudaGraphExecDestroy (cudaGraphExec_t exec)
{
  delete exec;   /* launches still queued keep what they run */
  return cudaSuccess;
}

/* Events: a record is reached when its stream runs the work queued
 * before it; each record has its own state, which the queued work keeps
 * (an event may be recorded again, or destroyed, before it is reached). */
struct EmuRecord
{
  std::atomic<bool> reached { false };
  gint64            when = 0;
};

struct EmuEvent
{
  std::shared_ptr<EmuRecord> rec;   /* the last record, or NULL */
  EmuStream                 *stream = NULL;
  unsigned long              number = 0;   /* its work's, in the stream */
};

cudaError_t
cudaEventCreateWithFlags (cudaEvent_t *event, unsigned)
{
  *event = new EmuEvent;
  return cudaSuccess;
}

cudaError_t
cudaEventElapsedTime (float *ms, cudaEvent_t start, cudaEvent_t end)
{
  if (start == NULL || end == NULL || start->rec == NULL || end->rec == NULL || !start->rec->reached ||
      !end->rec->reached)
    return last_error = cudaErrorInvalidValue;
  *ms = (float) ((end->rec->when - start->rec->when) / 1000.0);
  return cudaSuccess;
}

cudaError_t
cudaEventRecord (cudaEvent_t event, cudaStream_t stream)
{
  /* Lamina records none in a capture */
  if (event == NULL || emu_capturing (stream, "cudaEventRecord") || capturing_here != NULL)
    return last_error = cudaErrorInvalidValue;
  std::shared_ptr<EmuRecord> rec = std::make_shared<EmuRecord> ();
  event->rec = rec;
  event->stream = (EmuStream *) stream;
  event->number = submit (event->stream, [rec] () {
    rec->when = g_get_monotonic_time ();
    rec->reached = true;
  });
  return cudaSuccess;
}

/* Waits for the record only: work queued after it stays queued. */
cudaError_t
cudaEventSynchronize (cudaEvent_t event)
{
  if (event == NULL)
    return last_error = cudaErrorInvalidValue;
  if (refused_in_capture ("cudaEventSynchronize"))
    return cudaErrorStreamCaptureUnsupported;
  if (event->rec == NULL || event->rec->reached)
    return cudaSuccess;
  std::lock_guard<std::mutex> hold (streams_lock);
  if (std::find (streams.begin (), streams.end (), event->stream) != streams.end ())
    flush_to (event->stream, event->number);
  return cudaSuccess;
}

cudaError_t
cudaEventDestroy (cudaEvent_t event)
{
  delete event;   /* a queued record keeps its own state */
  return cudaSuccess;
}

/* Device memory
 *
 * Each allocation sits between PROT_NONE pages, against the back one
 * (EMU_GUARD=front: the front one) up to its 16-byte alignment, and
 * starts as 0xff bytes: NaN as float, -1 as int. Copies and memsets must
 * stay inside one allocation. */

typedef struct {
  bool   free_pending;   /* cudaFreeAsync queued: no new work may use it */
  char  *map;     /* the mapping, guards included */
  size_t map_len;
  size_t bytes;   /* what was asked for */
} Alloc;

/* The bytes an allocation of `bytes` spans: 16-byte aligned, as CUDA's
 * (256) are for what aligned loads need; the up to 12 bytes past its end
 * are 0xff, and must still be at the free. */
static inline size_t
alloc_span (size_t bytes)
{
  return (bytes + 15) & ~(size_t) 15;
}

static std::mutex alloc_lock;
static std::map<const char *, Alloc> allocs;   /* by the pointer handed out */
static std::map<const char *, size_t> pinned;  /* cudaHostAlloc's, by pointer: bytes */

/* Whether [p, p + n) lies in one block of pinned host memory. */
static bool
is_pinned (const void *p, size_t n)
{
  std::lock_guard<std::mutex> hold (alloc_lock);
  const char *c = (const char *) p;
  auto it = pinned.upper_bound (c);
  if (it == pinned.begin ())
    return false;
  --it;
  return c >= it->first && n <= it->second && (size_t) (c - it->first) <= it->second - n;
}

/* The allocation [p, p + n) lies in, or NULL. Call with alloc_lock held. */
static const Alloc *
alloc_of (const void *p, size_t n)
{
  const char *c = (const char *) p;
  auto it = allocs.upper_bound (c);
  if (it == allocs.begin ())
    return NULL;
  --it;
  if (c >= it->first && n <= it->second.bytes && (size_t) (c - it->first) <= it->second.bytes - n)
    return &it->second;
  return NULL;
}

/* Whether new work may use [p, p + n): inside one allocation that no
 * cudaFreeAsync has been queued for. Call with alloc_lock held. */
static bool
is_device (const void *p, size_t n)
{
  const Alloc *a = alloc_of (p, n);
  return a != NULL && !a->free_pending;
}

static void
check_device (const void *p, size_t n, const char *what)
{
  if (!is_device (p, n))
    die ("%s: %zu bytes at %p are not inside one device allocation (or cudaFreeAsync was called for it)",
         what, n, p);
}

static void
check_host (const void *p, size_t n, const char *what)
{
  if (n > 0 && alloc_of (p, 1) != NULL)
    die ("%s: the host pointer %p is device memory", what, p);
}

/* Queued work, when it runs: its memory is still there (a free queued
 * after it on its stream has not run yet). */
void
emu_check_still_device (const void *p, size_t n, const char *what)
{
  std::lock_guard<std::mutex> hold (alloc_lock);
  if (alloc_of (p, n) == NULL)
    die ("%s, when its stream ran it: %zu bytes at %p are no longer device memory (freed while the work "
         "waited in its stream's queue: a free, or a stream that did not wait for another)", what, n, p);
}

void
emu_check_pointer_arg (const EmuCfg &cfg, int index, const void *p)
{
  if (p == NULL)
    return;
  std::lock_guard<std::mutex> hold (alloc_lock);
  if (!is_device (p, 0))
    {
      fprintf (stderr, "lam-cuda-emu: %s, launched at %s:%d: argument %d (%p) is not device memory "
               "(a host pointer, or memory already freed): on a GPU the kernel would fault\n",
               cfg.kernel, cfg.file, cfg.line, index + 1, p);
      abort ();
    }
}

/* The race check (EMU_RACECHECK=1)
 *
 * The launch runs twice from the same memory: blocks and threads first
 * in order, then in reverse. A kernel without races computes the same
 * bytes either way; a difference is a race between threads, blocks that
 * read what other blocks write, or a read of __shared__ memory that the
 * block has not written. Only the allocations that the launch's pointer
 * arguments point into are compared, as a kernel reaches no other. */
static void
run_grid_both_ways (const std::vector<const void *> &pointers)
{
  std::lock_guard<std::mutex> hold (alloc_lock);
  std::vector<std::pair<char *, size_t>> reach;
  for (const void *p : pointers)
    {
      auto it = allocs.upper_bound ((const char *) p);
      if (it == allocs.begin () || (size_t) ((const char *) p - (--it)->first) > it->second.bytes)
        die ("%s: a pointer argument (%p) is no longer device memory (freed since the launch was recorded?)",
             launch->kernel, p);
      std::pair<char *, size_t> a ((char *) it->first, it->second.bytes);
      if (std::find (reach.begin (), reach.end (), a) == reach.end ())
        reach.push_back (a);
    }
  std::vector<std::string> before, forward;
  for (auto &a : reach)
    before.emplace_back (a.first, a.second);
  run_grid (false);
  for (auto &a : reach)
    forward.emplace_back (a.first, a.second);
  for (size_t i = 0; i < reach.size (); i++)
    memcpy (reach[i].first, before[i].data (), reach[i].second);
  run_grid (true);
  for (size_t i = 0; i < reach.size (); i++)
    {
      const char *now = reach[i].first, *then = forward[i].data ();
      if (memcmp (now, then, reach[i].second) == 0)
        continue;
      size_t at = 0;
      while (now[at] == then[at])
        at++;
      size_t word = at & ~(size_t) 3;
      float f_then, f_now;
      memcpy (&f_then, then + word, 4);
      memcpy (&f_now, now + word, 4);
      fprintf (stderr, "lam-cuda-emu: %s, launched at %s:%d: a race: the result depends on the order in which blocks and threads run "
           "(threads that share memory without __syncthreads, blocks that read what other blocks "
           "write, or __shared__ memory read before the block wrote it). Byte %zu of the %zu-byte "
           "allocation at %p is 0x%02x run in order and 0x%02x in reverse (as floats at byte %zu: %g and %g)\n",
           launch->kernel, launch->file, launch->line, at, reach[i].second, (void *) reach[i].first, (unsigned char) then[at], (unsigned char) now[at],
           word, f_then, f_now);
      abort ();
    }
}

/* Running out of memory on demand: emu_fail_allocations_after (N),
 * looked up in this module with g_module_symbol, lets the next N
 * allocations (cudaMalloc and cudaHostAlloc) succeed and fails every
 * later one, as on a GPU whose memory has run out; N < 0 ends it. By
 * hand, EMU_MALLOC_FAIL_AFTER=N does the same from the process's first
 * allocation. */
static std::mutex fail_lock;
static long fail_after = -2;   /* -2: EMU_MALLOC_FAIL_AFTER not read yet */
static unsigned long fail_count;

extern "C" __attribute__ ((visibility ("default"))) void
emu_fail_allocations_after (long n)
{
  std::lock_guard<std::mutex> hold (fail_lock);
  fail_after = n;
  fail_count = 0;
}

static bool
allocation_fails (void)
{
  std::lock_guard<std::mutex> hold (fail_lock);
  if (fail_after == -2)
    {
      const char *v = g_getenv ("EMU_MALLOC_FAIL_AFTER");
      fail_after = v != NULL ? (long) g_ascii_strtoll (v, NULL, 10) : -1;
    }
  return fail_after >= 0 && fail_count++ >= (unsigned long) fail_after;
}

cudaError_t
cudaMalloc (void **ptr, size_t bytes)
{
  if (refused_in_capture ("cudaMalloc"))
    return cudaErrorStreamCaptureUnsupported;
  if (allocation_fails ())
    return last_error = cudaErrorMemoryAllocation;
  static int front = -1;
  if (front < 0)
    front = g_strcmp0 (g_getenv ("EMU_GUARD"), "front") == 0;
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  size_t pages = (bytes + page - 1) / page;
  size_t len = (pages + 2) * page;
  char *map = (char *) mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED)
    return last_error = cudaErrorMemoryAllocation;
  mprotect (map, page, PROT_NONE);
  mprotect (map + (pages + 1) * page, page, PROT_NONE);
  /* against the back guard up to its alignment: a kernel that reads past
   * the end reads NaN there, a write there is found at the free */
  size_t span = alloc_span (bytes);
  char *p = front ? map + page : map + (pages + 1) * page - span;
  memset (p, 0xff, span);
  std::lock_guard<std::mutex> hold (alloc_lock);
  allocs[p] = Alloc { false, map, len, bytes };
  *ptr = p;
  return cudaSuccess;
}

static void
free_now (void *ptr, const char *what, bool pending)
{
  std::lock_guard<std::mutex> hold (alloc_lock);
  auto it = allocs.find ((const char *) ptr);
  if (it == allocs.end () || it->second.free_pending != pending)
    die ("%s of %p, which cudaMalloc did not return (or which was freed)", what, ptr);
  const char *p = it->first;
  size_t bytes = it->second.bytes, span = alloc_span (bytes);
  for (size_t i = bytes; i < span; i++)
    if ((unsigned char) p[i] != 0xff)
      die ("%s of %p: something wrote past the end of its %zu bytes (byte %zu after it)", what, ptr, bytes,
           i - bytes);
  munmap (it->second.map, it->second.map_len);
  allocs.erase (it);
}

cudaError_t
cudaFree (void *ptr)
{
  if (ptr == NULL)
    return cudaSuccess;
  if (refused_in_capture ("cudaFree"))
    return cudaErrorStreamCaptureUnsupported;
  flush_all ();   /* as CUDA: the device is done with it first */
  free_now (ptr, "cudaFree", false);
  return cudaSuccess;
}

/* Freed when the stream reaches it: work queued before may still use it. */
cudaError_t
cudaFreeAsync (void *ptr, cudaStream_t stream)
{
  if (ptr == NULL)
    return cudaSuccess;
  if (emu_capturing (stream, "cudaFreeAsync"))
    {
      /* memory the graph did not allocate: CUDA refuses, and the capture is lost */
      ((EmuStream *) stream)->invalidated = true;
      return last_error = cudaErrorStreamCaptureUnsupported;
    }
  {
    std::lock_guard<std::mutex> hold (alloc_lock);
    auto it = allocs.find ((const char *) ptr);
    if (it == allocs.end () || it->second.free_pending)
      die ("cudaFreeAsync of %p, which cudaMalloc did not return (or which was freed)", ptr);
    it->second.free_pending = true;
  }
  emu_submit (stream, "cudaFreeAsync", [ptr] () { free_now (ptr, "cudaFreeAsync", true); });
  return cudaSuccess;
}

cudaError_t
cudaMemsetAsync (void *ptr, int value, size_t bytes, cudaStream_t stream)
{
  {
    std::lock_guard<std::mutex> hold (alloc_lock);
    check_device (ptr, bytes, "cudaMemsetAsync");
  }
  emu_submit (stream, "cudaMemsetAsync", [ptr, value, bytes] () {
    emu_check_still_device (ptr, bytes, "cudaMemsetAsync");
    memset (ptr, value, bytes);
  });
  return cudaSuccess;
}

cudaError_t
cudaMemcpyAsync (void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream)
{
  {
    std::lock_guard<std::mutex> hold (alloc_lock);
    switch (kind)
      {
      case cudaMemcpyHostToDevice:
        check_device (dst, bytes, "cudaMemcpyAsync (to the device)");
        check_host (src, bytes, "cudaMemcpyAsync (to the device)");
        break;
      case cudaMemcpyDeviceToHost:
        check_device (src, bytes, "cudaMemcpyAsync (to the host)");
        check_host (dst, bytes, "cudaMemcpyAsync (to the host)");
        break;
      case cudaMemcpyDeviceToDevice:
        check_device (dst, bytes, "cudaMemcpyAsync (on the device)");
        check_device (src, bytes, "cudaMemcpyAsync (on the device)");
        break;
      default:
        return last_error = cudaErrorInvalidValue;
      }
  }
  /* Pageable host memory, as CUDA: a copy to it returns when it is done,
   * and a copy from it once the stream's earlier work is (the bytes are
   * then staged). Pinned memory (cudaHostAlloc) is read or written when
   * the stream gets there, as any queued work; so is device memory. */
  const void *host = kind == cudaMemcpyHostToDevice ? src : kind == cudaMemcpyDeviceToHost ? dst : NULL;
  if (host != NULL && !is_pinned (host, bytes) && !emu_capturing (stream, "cudaMemcpyAsync"))
    {
      flush (stream_of (stream, "cudaMemcpyAsync"));
      emu_check_still_device (kind == cudaMemcpyHostToDevice ? dst : src, bytes, "cudaMemcpyAsync");
      memmove (dst, src, bytes);
      return cudaSuccess;
    }
  /* (captured: the source is read when the graph runs, as on a GPU) */
  emu_submit (stream, "cudaMemcpyAsync", [dst, src, bytes, kind] () {
    if (kind != cudaMemcpyHostToDevice)
      emu_check_still_device (src, bytes, "cudaMemcpyAsync");
    if (kind != cudaMemcpyDeviceToHost)
      emu_check_still_device (dst, bytes, "cudaMemcpyAsync");
    memmove (dst, src, bytes);
  });
  return cudaSuccess;
}

/* The rest of the runtime: one device, streams run at the host's waits. */

cudaError_t
cudaGetLastError (void)
{
  cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}

const char *
cudaGetErrorString (cudaError_t err)
{
  switch (err)
    {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    default: return "unknown error";
    }
}

cudaError_t
cudaGetDeviceCount (int *n)
{
  *n = 1;
  return cudaSuccess;
}

cudaError_t
cudaSetDevice (int device)
{
  return device == 0 ? cudaSuccess : (last_error = cudaErrorInvalidValue);
}

cudaError_t
cudaGetDeviceProperties (cudaDeviceProp *prop, int device)
{
  if (device != 0)
    return last_error = cudaErrorInvalidValue;
  memset (prop, 0, sizeof *prop);
  /* becomes the backend's description: nobody should take this for a GPU */
  g_strlcpy (prop->name, "Lamina CUDA emulator (host CPU, not a GPU)", sizeof prop->name);
  prop->major = 9;
  prop->minor = 0;
  prop->totalGlobalMem = (size_t) 1 << 34;
  return cudaSuccess;
}

cudaError_t
cudaStreamCreateWithFlags (cudaStream_t *stream, int)
{
  EmuStream *s = new EmuStream;
  std::lock_guard<std::mutex> hold (streams_lock);
  streams.push_back (s);
  *stream = s;
  return cudaSuccess;
}

cudaError_t
cudaStreamDestroy (cudaStream_t stream)
{
  if (emu_capturing (stream, "cudaStreamDestroy"))
    die ("cudaStreamDestroy of a stream that captures");
  EmuStream *s = (EmuStream *) stream;
  std::lock_guard<std::mutex> hold (streams_lock);
  flush (s);   /* as CUDA: its work still completes */
  streams.erase (std::find (streams.begin (), streams.end (), s));
  delete s;
  return cudaSuccess;
}

cudaError_t
cudaStreamSynchronize (cudaStream_t stream)
{
  if (refused_in_capture ("cudaStreamSynchronize"))
    return cudaErrorStreamCaptureUnsupported;
  if (emu_capturing (stream, "cudaStreamSynchronize"))
    {
      /* another thread's capture: CUDA refuses the wait, and the capture is lost */
      ((EmuStream *) stream)->invalidated = true;
      return last_error = cudaErrorStreamCaptureUnsupported;
    }
  flush ((EmuStream *) stream);
  return cudaSuccess;
}

cudaError_t
cudaHostAlloc (void **ptr, size_t bytes, unsigned)
{
  if (refused_in_capture ("cudaHostAlloc"))
    return cudaErrorStreamCaptureUnsupported;
  if (allocation_fails ())
    return last_error = cudaErrorMemoryAllocation;
  *ptr = g_malloc (bytes ? bytes : 1);
  memset (*ptr, 0xff, bytes);
  std::lock_guard<std::mutex> hold (alloc_lock);
  pinned[(const char *) *ptr] = bytes;
  return cudaSuccess;
}

cudaError_t
cudaFreeHost (void *ptr)
{
  if (ptr == NULL)
    return cudaSuccess;
  flush_all ();   /* queued copies may read or write it */
  {
    std::lock_guard<std::mutex> hold (alloc_lock);
    if (pinned.erase ((const char *) ptr) == 0)
      die ("cudaFreeHost of %p, which cudaHostAlloc did not return (or which was freed)", ptr);
  }
  g_free (ptr);
  return cudaSuccess;
}

/* cuBLAS */

/* A handle keeps the stream its work goes to. */
struct EmuHandle
{
  cudaStream_t stream;
};

cublasStatus_t
cublasCreate (cublasHandle_t *handle)
{
  *handle = new EmuHandle { NULL };
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasDestroy (cublasHandle_t handle)
{
  delete (EmuHandle *) handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSetStream (cublasHandle_t handle, cudaStream_t stream)
{
  ((EmuHandle *) handle)->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSetMathMode (cublasHandle_t, int)
{
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSetWorkspace (cublasHandle_t, void *workspace, size_t bytes)
{
  std::lock_guard<std::mutex> hold (alloc_lock);
  check_device (workspace, bytes, "cublasSetWorkspace");
  return CUBLAS_STATUS_SUCCESS;
}

const char *
cublasGetStatusString (cublasStatus_t status)
{
  switch (status)
    {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    default: return "CUBLAS_STATUS_UNKNOWN";
    }
}

static void gemm_now (cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
                      const float *A, int lda, long long strideA, const float *B, int ldb, long long strideB,
                      float beta, float *C, int ldc, long long strideC, int count);

/* Column-major, as cuBLAS, with its argument checks; beta == 0 never
 * reads C. A plain triple loop: slow, and its rounding is not cuBLAS's. */
cublasStatus_t
cublasSgemmStridedBatched (cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb,
                           int m, int n, int k, const float *alpha, const float *A, int lda,
                           long long strideA, const float *B, int ldb, long long strideB,
                           const float *beta, float *C, int ldc, long long strideC, int count)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || k < 0 || count < 0 ||
      lda < (ta == CUBLAS_OP_N ? MAX (1, m) : MAX (1, k)) ||
      ldb < (tb == CUBLAS_OP_N ? MAX (1, k) : MAX (1, n)) ||
      ldc < MAX (1, m))
    {
      fprintf (stderr, "lam-cuda-emu: cublasSgemm: invalid value: ta %d tb %d m %d n %d k %d lda %d ldb %d ldc %d\n",
               ta, tb, m, n, k, lda, ldb, ldc);
      return CUBLAS_STATUS_INVALID_VALUE;
    }
  if (m > 0 && n > 0 && count > 0)
    {
      /* the last element of each matrix, in the last of the batch */
      std::lock_guard<std::mutex> hold (alloc_lock);
      if (k > 0)
        {
          size_t a_end = (size_t) ((ta == CUBLAS_OP_N ? (m - 1) + (size_t) (k - 1) * lda
                                                      : (k - 1) + (size_t) (m - 1) * lda) +
                                   (size_t) (count - 1) * strideA + 1);
          size_t b_end = (size_t) ((tb == CUBLAS_OP_N ? (k - 1) + (size_t) (n - 1) * ldb
                                                      : (n - 1) + (size_t) (k - 1) * ldb) +
                                   (size_t) (count - 1) * strideB + 1);
          check_device (A, a_end * sizeof (float), "cublasSgemm (A)");
          check_device (B, b_end * sizeof (float), "cublasSgemm (B)");
        }
      size_t c_end = (size_t) ((m - 1) + (size_t) (n - 1) * ldc + (size_t) (count - 1) * strideC + 1);
      check_device (C, c_end * sizeof (float), "cublasSgemm (C)");
    }
  /* cuBLAS reads alpha and beta (host pointers) at the call */
  float al = *alpha, be = *beta;
  emu_submit (((EmuHandle *) handle)->stream, "cublasSgemm", [=] () {
    if (m > 0 && n > 0 && count > 0)
      {
        if (k > 0)
          {
            emu_check_still_device (A, 0, "cublasSgemm (A)");
            emu_check_still_device (B, 0, "cublasSgemm (B)");
          }
        emu_check_still_device (C, 0, "cublasSgemm (C)");
      }
    gemm_now (ta, tb, m, n, k, al, A, lda, strideA, B, ldb, strideB, be, C, ldc, strideC, count);
  });
  return CUBLAS_STATUS_SUCCESS;
}

static void
gemm_now (cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha, const float *A,
          int lda, long long strideA, const float *B, int ldb, long long strideB, float beta, float *C, int ldc,
          long long strideC, int count)
{
  for (int c = 0; c < count; c++)
    {
      const float *a = A + c * strideA, *b = B + c * strideB;
      float *cc = C + c * strideC;
      for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++)
          {
            float t = 0;
            for (int l = 0; l < k; l++)
              t += (ta == CUBLAS_OP_N ? a[i + (size_t) l * lda] : a[l + (size_t) i * lda]) *
                   (tb == CUBLAS_OP_N ? b[l + (size_t) j * ldb] : b[j + (size_t) l * ldb]);
            float *o = cc + i + (size_t) j * ldc;
            *o = alpha * t + (beta == 0.0f ? 0.0f : beta * *o);
          }
    }
}

cublasStatus_t
cublasSgemm (cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
             const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
             float *C, int ldc)
{
  return cublasSgemmStridedBatched (handle, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

/* cuDNN
 *
 * As much of cuDNN 9 as kernels/cuda/lam-cuda-cudnn.cu uses, exported
 * under cuDNN's names: LAMINA_CUDNN_LIBRARY set to this module's path
 * makes that file load them. Descriptors are checked as cuDNN checks
 * them (NCHW floats, cross-correlation, no dilation) and against each
 * other; the heuristics (cudnnGet*Algorithm_v7) rank two algorithms
 * each, first a non-deterministic one (running it stops the run: Lamina
 * must not pick it), then a deterministic one with a workspace, which
 * must be device memory of the size cudnnGet*WorkspaceSize says. The convolutions are plain loops, their buffers
 * checked to be device memory, and recorded in a stream capture, as the
 * GEMM is. */

#define DNN extern "C" __attribute__ ((visibility ("default")))
enum { DNN_OK = 0, DNN_BAD_PARAM = 2000, DNN_BAD_PARAM_MISALIGNED_POINTER = 2003, DNN_NOT_SUPPORTED = 3000 };
/* the deterministic algorithms' workspaces, in bytes: none forward, so
 * that Lamina's way without one runs too */
static size_t
dnn_workspace_bytes (int which /* DnnWhich */)
{
  return which == 0 ? 0 : which == 1 ? 4096 : 2048;
}

struct EmuDnnTensor { int n, c, h, w; };
struct EmuDnnConv { int pad_h, pad_w, u, v, math; };
struct EmuDnnPerf { int algo, status; float time; size_t memory; int determinism, math_type, reserved[3]; };

DNN int cudnnCreate (void **handle) { *handle = new EmuHandle { NULL }; return DNN_OK; }
DNN int cudnnDestroy (void *handle) { delete (EmuHandle *) handle; return DNN_OK; }
DNN int cudnnSetStream (void *handle, cudaStream_t stream) { ((EmuHandle *) handle)->stream = stream; return DNN_OK; }

DNN const char *
cudnnGetErrorString (int status)
{
  return status == DNN_OK ? "CUDNN_STATUS_SUCCESS"
         : status == DNN_BAD_PARAM ? "CUDNN_STATUS_BAD_PARAM"
         : status == DNN_BAD_PARAM_MISALIGNED_POINTER ? "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER"
                                                      : "CUDNN_STATUS_NOT_SUPPORTED";
}

DNN int cudnnCreateTensorDescriptor (EmuDnnTensor **d) { *d = new EmuDnnTensor { 0, 0, 0, 0 }; return DNN_OK; }
DNN int cudnnDestroyTensorDescriptor (EmuDnnTensor *d) { delete d; return DNN_OK; }
DNN int cudnnCreateFilterDescriptor (EmuDnnTensor **d) { *d = new EmuDnnTensor { 0, 0, 0, 0 }; return DNN_OK; }
DNN int cudnnDestroyFilterDescriptor (EmuDnnTensor *d) { delete d; return DNN_OK; }
DNN int cudnnCreateConvolutionDescriptor (EmuDnnConv **d) { *d = new EmuDnnConv { -1, -1, 0, 0, 0 }; return DNN_OK; }
DNN int cudnnDestroyConvolutionDescriptor (EmuDnnConv *d) { delete d; return DNN_OK; }

DNN int
cudnnSetTensor4dDescriptor (EmuDnnTensor *d, int format, int type, int n, int c, int h, int w)
{
  if (format != 0 || type != 0)
    return DNN_NOT_SUPPORTED;
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
    return DNN_BAD_PARAM;
  *d = EmuDnnTensor { n, c, h, w };
  return DNN_OK;
}

/* (type, format): the other order from tensors, as in cuDNN */
DNN int
cudnnSetFilter4dDescriptor (EmuDnnTensor *d, int type, int format, int k, int c, int h, int w)
{
  return cudnnSetTensor4dDescriptor (d, format, type, k, c, h, w);
}

DNN int
cudnnSetConvolution2dDescriptor (EmuDnnConv *d, int pad_h, int pad_w, int u, int v, int dil_h, int dil_w, int mode,
                                 int type)
{
  if (pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dil_h <= 0 || dil_w <= 0)
    return DNN_BAD_PARAM;
  if (dil_h != 1 || dil_w != 1 || mode != 1 /* cross-correlation */ || type != 0)
    return DNN_NOT_SUPPORTED;
  d->pad_h = pad_h, d->pad_w = pad_w, d->u = u, d->v = v;
  return DNN_OK;
}

DNN int
cudnnSetConvolutionMathType (EmuDnnConv *d, int math)
{
  d->math = math;
  return DNN_OK;
}

/* x ⋆ w = y, by their descriptors */
static bool
dnn_shapes_agree (const EmuDnnTensor *x, const EmuDnnTensor *w, const EmuDnnConv *c, const EmuDnnTensor *y)
{
  return c->u > 0 && x->c == w->c && y->n == x->n && y->c == w->n &&
         y->h == (x->h + 2 * c->pad_h - w->h) / c->u + 1 && y->w == (x->w + 2 * c->pad_w - w->w) / c->v + 1 &&
         x->h + 2 * c->pad_h >= w->h && x->w + 2 * c->pad_w >= w->w;
}

static int
dnn_rank (int which, const EmuDnnTensor *x, const EmuDnnTensor *w, const EmuDnnConv *c, const EmuDnnTensor *y,
          int requested, int *returned, EmuDnnPerf *perf)
{
  if (!dnn_shapes_agree (x, w, c, y) || requested < 1)
    return DNN_BAD_PARAM;
  EmuDnnPerf all[2] = { { 0, DNN_OK, -1.0f, 0, 0, c->math, { 0 } },
                        { 1, DNN_OK, -1.0f, dnn_workspace_bytes (which), 1, c->math, { 0 } } };
  *returned = MIN (requested, 2);
  /* EMU_CUDNN_NO_BACKWARD=1: the backward has the non-deterministic one
   * only, so Lamina runs it as im2col, after a forward through cuDNN */
  if (which != 0 && g_strcmp0 (g_getenv ("EMU_CUDNN_NO_BACKWARD"), "1") == 0)
    *returned = MIN (requested, 1);
  memcpy (perf, all, *returned * sizeof *perf);
  return DNN_OK;
}

static int
dnn_workspace (int which, const EmuDnnTensor *x, const EmuDnnTensor *w, const EmuDnnConv *c,
               const EmuDnnTensor *y, int algo, size_t *bytes)
{
  if (!dnn_shapes_agree (x, w, c, y) || algo < 0 || algo > 1)
    return DNN_BAD_PARAM;
  *bytes = algo == 1 ? dnn_workspace_bytes (which) : 0;
  return DNN_OK;
}

DNN int
cudnnGetConvolutionForwardAlgorithm_v7 (void *, EmuDnnTensor *x, EmuDnnTensor *w, EmuDnnConv *c, EmuDnnTensor *y,
                                        int requested, int *returned, EmuDnnPerf *perf)
{
  return dnn_rank (0, x, w, c, y, requested, returned, perf);
}

DNN int
cudnnGetConvolutionBackwardDataAlgorithm_v7 (void *, EmuDnnTensor *w, EmuDnnTensor *dy, EmuDnnConv *c,
                                             EmuDnnTensor *dx, int requested, int *returned, EmuDnnPerf *perf)
{
  return dnn_rank (1, dx, w, c, dy, requested, returned, perf);
}

DNN int
cudnnGetConvolutionBackwardFilterAlgorithm_v7 (void *, EmuDnnTensor *x, EmuDnnTensor *dy, EmuDnnConv *c,
                                               EmuDnnTensor *dw, int requested, int *returned, EmuDnnPerf *perf)
{
  return dnn_rank (2, x, dw, c, dy, requested, returned, perf);
}

DNN int
cudnnGetConvolutionForwardWorkspaceSize (void *, EmuDnnTensor *x, EmuDnnTensor *w, EmuDnnConv *c, EmuDnnTensor *y,
                                         int algo, size_t *bytes)
{
  return dnn_workspace (0, x, w, c, y, algo, bytes);
}

DNN int
cudnnGetConvolutionBackwardDataWorkspaceSize (void *, EmuDnnTensor *w, EmuDnnTensor *dy, EmuDnnConv *c,
                                              EmuDnnTensor *dx, int algo, size_t *bytes)
{
  return dnn_workspace (1, dx, w, c, dy, algo, bytes);
}

DNN int
cudnnGetConvolutionBackwardFilterWorkspaceSize (void *, EmuDnnTensor *x, EmuDnnTensor *dy, EmuDnnConv *c,
                                                EmuDnnTensor *dw, int algo, size_t *bytes)
{
  return dnn_workspace (2, x, dw, c, dy, algo, bytes);
}

static size_t
dnn_count (const EmuDnnTensor *t)
{
  return (size_t) t->n * t->c * t->h * t->w;
}

typedef enum { DNN_FORWARD, DNN_DATA, DNN_FILTER } DnnWhich;

/* One of the three, once its arguments are checked: out = alpha · op + beta · out */
static void
dnn_compute (DnnWhich which, EmuDnnTensor x, EmuDnnTensor w, EmuDnnConv c, EmuDnnTensor y, const float *xp,
             const float *wp, const float *yp, float *out, float alpha, float beta)
{
  size_t n_out = which == DNN_FORWARD ? dnn_count (&y) : which == DNN_DATA ? dnn_count (&x) : dnn_count (&w);
  std::vector<float> acc (n_out, 0.0f);
  for (int b = 0; b < x.n; b++)
    for (int k = 0; k < w.n; k++)
      for (int oh = 0; oh < y.h; oh++)
        for (int ow = 0; ow < y.w; ow++)
          for (int ch = 0; ch < x.c; ch++)
            for (int i = 0; i < w.h; i++)
              for (int j = 0; j < w.w; j++)
                {
                  int ih = oh * c.u - c.pad_h + i, iw = ow * c.v - c.pad_w + j;
                  if (ih < 0 || ih >= x.h || iw < 0 || iw >= x.w)
                    continue;
                  size_t xi = (((size_t) b * x.c + ch) * x.h + ih) * x.w + iw;
                  size_t wi = (((size_t) k * w.c + ch) * w.h + i) * w.w + j;
                  size_t yi = (((size_t) b * y.c + k) * y.h + oh) * y.w + ow;
                  if (which == DNN_FORWARD)
                    acc[yi] += xp[xi] * wp[wi];
                  else if (which == DNN_DATA)
                    acc[xi] += wp[wi] * yp[yi];
                  else
                    acc[wi] += xp[xi] * yp[yi];
                }
  for (size_t i = 0; i < n_out; i++)
    out[i] = alpha * acc[i] + (beta == 0.0f ? 0.0f : beta * out[i]);
}

static int
dnn_run (void *handle, DnnWhich which, const float *alpha, const EmuDnnTensor *x, const float *xp, const EmuDnnTensor *w,
         const float *wp, const EmuDnnConv *c, int algo, void *ws, size_t ws_bytes, const float *beta,
         const EmuDnnTensor *y, const float *yp, float *out)
{
  static const char *names[] = { "cudnnConvolutionForward", "cudnnConvolutionBackwardData",
                                 "cudnnConvolutionBackwardFilter" };
  const char *name = names[which];
  if (!dnn_shapes_agree (x, w, c, y))
    return DNN_BAD_PARAM;
  if (algo == 0)
    die ("%s with the non-deterministic algorithm that the heuristics ranked first: the same seed would not give "
         "the same run", name);
  if (algo != 1)
    return DNN_BAD_PARAM;
  /* cuDNN 9's kernels may load 16 bytes at a time: it refuses data it
   * cannot (the strictest reading; float data 4-byte aligned may pass on
   * a GPU, or fail this way) */
  for (const void *p : { (const void *) xp, (const void *) wp, (const void *) yp, (const void *) out, (const void *) ws })
    if (p != NULL && ((uintptr_t) p & 15) != 0)
      return DNN_BAD_PARAM_MISALIGNED_POINTER;
  size_t ws_need = dnn_workspace_bytes (which);
  if (ws_bytes < ws_need)
    die ("%s: a workspace of %zu bytes, where cudnnGet*WorkspaceSize asked for %zu", name, ws_bytes, ws_need);
  {
    std::lock_guard<std::mutex> hold (alloc_lock);
    if (ws_need > 0 || ws != NULL)
      check_device (ws, ws_bytes, name);
    if (which != DNN_DATA)
      check_device (xp, dnn_count (x) * sizeof (float), name);
    if (which != DNN_FILTER)
      check_device (wp, dnn_count (w) * sizeof (float), name);
    if (which != DNN_FORWARD)
      check_device (yp, dnn_count (y) * sizeof (float), name);
    size_t n_out = which == DNN_FORWARD ? dnn_count (y) : which == DNN_DATA ? dnn_count (x) : dnn_count (w);
    check_device (out, n_out * sizeof (float), name);
  }
  /* cuDNN reads alpha and beta (host pointers) at the call, and the
   * descriptors then too */
  float al = *alpha, be = *beta;
  EmuDnnTensor xd = *x, wd = *w, yd = *y;
  EmuDnnConv cd = *c;
  emu_submit (((EmuHandle *) handle)->stream, name,
              [=] () {
                for (const void *p : { (const void *) xp, (const void *) wp, (const void *) yp, (const void *) out })
                  if (p != NULL)
                    emu_check_still_device (p, 0, name);
                dnn_compute (which, xd, wd, cd, yd, xp, wp, yp, out, al, be);
              });
  return DNN_OK;
}

DNN int
cudnnConvolutionForward (void *handle, const float *alpha, EmuDnnTensor *xd, const float *x, EmuDnnTensor *wd,
                         const float *w, EmuDnnConv *c, int algo, void *ws, size_t ws_bytes, const float *beta,
                         EmuDnnTensor *yd, float *y)
{
  return dnn_run (handle, DNN_FORWARD, alpha, xd, x, wd, w, c, algo, ws, ws_bytes, beta, yd, NULL, y);
}

DNN int
cudnnConvolutionBackwardData (void *handle, const float *alpha, EmuDnnTensor *wd, const float *w, EmuDnnTensor *dyd,
                              const float *dy, EmuDnnConv *c, int algo, void *ws, size_t ws_bytes,
                              const float *beta, EmuDnnTensor *dxd, float *dx)
{
  return dnn_run (handle, DNN_DATA, alpha, dxd, NULL, wd, w, c, algo, ws, ws_bytes, beta, dyd, dy, dx);
}

DNN int
cudnnConvolutionBackwardFilter (void *handle, const float *alpha, EmuDnnTensor *xd, const float *x, EmuDnnTensor *dyd,
                                const float *dy, EmuDnnConv *c, int algo, void *ws, size_t ws_bytes,
                                const float *beta, EmuDnnTensor *dwd, float *dw)
{
  return dnn_run (handle, DNN_FILTER, alpha, xd, x, dwd, NULL, c, algo, ws, ws_bytes, beta, dyd, dy, dw);
}
