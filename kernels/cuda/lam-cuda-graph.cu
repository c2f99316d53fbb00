/* lam-cuda-graph.cu: training steps replayed as CUDA graphs, and the
 * pinned memory through which host values (batch indices, seeds,
 * learning rates) reach the kernels without a wait.
 *
 * A small network's step is some 40 kernels of a few microseconds each:
 * launched one by one, the host's launch overhead, not the GPU, sets the
 * pace. So the trainer brackets each step with step_begin/step_end:
 *
 *   - the first step with a key runs eagerly (scratch memory and the
 *     optimizer state grow then, outside any recording);
 *   - the second is recorded by stream capture and launched as a graph;
 *   - from then on the ops are skipped: LAM_CUDA_OP checks that each one
 *     comes in the recorded order, the few ops whose values change from
 *     step to step write them to pinned memory (_lam_cuda_dyn), and
 *     step_end copies those values and launches the graph: two calls.
 *
 * Whatever cannot be recorded (an allocation, a wait for the device, an
 * error) ends the recording; step_end then says the step did not run and
 * the trainer runs it again, op by op, with graphs off for the run.
 * LAMINA_CUDA_GRAPHS=0 keeps them off.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cuda"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lam-cuda.h"

/* Per arena: the eager ring holds batch indices between steps (evaluation,
 * views); the step arena one step's values. 1 MiB is 256k indices. */
#define ARENA_BYTES ((size_t) 1 << 20)
#define ALIGN 16

static void
graphs_off (LamCuda *cu, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
graphs_off (LamCuda *cu, const char *format, ...)
{
  if (cu->exec)
    cudaGraphExecDestroy (cu->exec);
  cu->exec = NULL;
  if (!cu->graphs)
    return;
  cu->graphs = FALSE;
  va_list ap;
  va_start (ap, format);
  cu->graphs_off = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_message ("CUDA graphs off: %s; steps run op by op", cu->graphs_off);
}

static gboolean
arena_init (LamCudaArena *a)
{
  if (cudaHostAlloc ((void **) &a->host, ARENA_BYTES, cudaHostAllocDefault) != cudaSuccess ||
      cudaMalloc ((void **) &a->dev, ARENA_BYTES) != cudaSuccess ||
      cudaEventCreateWithFlags (&a->copied, cudaEventDisableTiming) != cudaSuccess)
    {
      cudaGetLastError ();
      return FALSE;
    }
  a->size = ARENA_BYTES;
  a->used = 0;
  return TRUE;
}

static void
arena_clear (LamCudaArena *a)
{
  if (a->copied)
    cudaEventDestroy (a->copied);
  if (a->dev)
    cudaFree (a->dev);
  if (a->host)
    cudaFreeHost (a->host);
  memset (a, 0, sizeof *a);
}

gboolean
_lam_cuda_graph_setup (LamCuda *cu)
{
  if (!arena_init (&cu->eager) || !arena_init (&cu->step))
    return FALSE;
  cu->ops = g_ptr_array_new ();
  cu->graphs = TRUE;
  if (g_strcmp0 (g_getenv ("LAMINA_CUDA_GRAPHS"), "0") == 0)
    {
      cu->graphs = FALSE;
      cu->graphs_off = g_strdup ("LAMINA_CUDA_GRAPHS=0");
    }
  return TRUE;
}

void
_lam_cuda_graph_destroy (LamCuda *cu)
{
  if (cu->exec)
    cudaGraphExecDestroy (cu->exec);
  arena_clear (&cu->eager);
  arena_clear (&cu->step);
  if (cu->ops)
    g_ptr_array_unref (cu->ops);
  g_free (cu->graphs_off);
  g_free (cu->mismatch);
}

/* Ends a recording: what was recorded is dropped. */
static void
end_capture (LamCuda *cu)
{
  cudaGraph_t g = NULL;
  cudaStreamEndCapture (cu->stream, &g);
  if (g)
    cudaGraphDestroy (g);
  cudaGetLastError ();
}

void
_lam_cuda_graph_forget (LamCuda *cu)
{
  if (cu->exec == NULL)
    return;
  cudaGraphExecDestroy (cu->exec);
  cu->exec = NULL;
  cu->warm = 0;
}

void
_lam_cuda_graph_break (LamCuda *cu, const char *why)
{
  if (cu->mode == LAM_CUDA_CAPTURE)
    {
      end_capture (cu);
      cu->mode = LAM_CUDA_ABORTED;
      graphs_off (cu, "the step cannot be recorded: %s", why);
    }
  else if (cu->mode == LAM_CUDA_REPLAY && cu->mismatch == NULL)
    cu->mismatch = g_strdup_printf ("%s after op %u", why, cu->pos);
}

gboolean
_lam_cuda_graph_op (LamCuda *cu, const char *op)
{
  switch (cu->mode)
    {
    case LAM_CUDA_CAPTURE:
      g_ptr_array_add (cu->ops, (gpointer) op);
      return FALSE;
    case LAM_CUDA_REPLAY:
      if (cu->mismatch == NULL &&
          (cu->pos >= cu->ops->len || strcmp (op, (const char *) g_ptr_array_index (cu->ops, cu->pos)) != 0))
        cu->mismatch = g_strdup_printf ("op %u is %s where the recording has %s", cu->pos + 1, op,
                                        cu->pos < cu->ops->len
                                        ? (const char *) g_ptr_array_index (cu->ops, cu->pos) : "none");
      cu->pos++;
      return TRUE;
    case LAM_CUDA_ABORTED:
      return TRUE;
    case LAM_CUDA_EAGER:
    default:
      return FALSE;
    }
}

const void *
_lam_cuda_dyn (LamCuda *cu, const void *src, size_t bytes)
{
  size_t need = (bytes + ALIGN - 1) & ~(size_t) (ALIGN - 1);
  if (cu->mode == LAM_CUDA_ABORTED)
    return NULL;
  if (cu->mode == LAM_CUDA_EAGER)
    {
      LamCudaArena *a = &cu->eager;
      if (need > a->size)
        {
          _lam_cuda_fail (cu, "_lam_cuda_dyn", "too many host values for one op", __FILE__, __LINE__);
          return NULL;
        }
      if (a->used + need > a->size)
        {
          /* back to the ring's start: the copies out of it must be done */
          LAM_CUDA_CHECK (cu, cudaEventSynchronize (a->copied));
          a->used = 0;
        }
      char *h = a->host + a->used, *d = a->dev + a->used;
      a->used += need;
      memcpy (h, src, bytes);
      LAM_CUDA_CHECK (cu, cudaMemcpyAsync (d, h, bytes, cudaMemcpyHostToDevice, cu->stream));
      LAM_CUDA_CHECK (cu, cudaEventRecord (a->copied, cu->stream));
      return d;
    }

  /* a recorded step: step_end copies the values in one go */
  LamCudaArena *a = &cu->step;
  if (a->used + need > a->size)
    {
      _lam_cuda_graph_break (cu, "its host values exceed 1 MiB");
      return NULL;
    }
  char *h = a->host + a->used, *d = a->dev + a->used;
  a->used += need;
  memcpy (h, src, bytes);
  return cu->mode == LAM_CUDA_CAPTURE ? d : NULL;
}

static void
step_begin (LamBackend *be, guint64 key)
{
  LamCuda *cu = LAM_CUDA (be);
  if (cu->mode != LAM_CUDA_EAGER)
    {
      g_critical ("step_begin: the last step did not end");
      if (cu->mode == LAM_CUDA_CAPTURE)
        end_capture (cu);
      cu->mode = LAM_CUDA_EAGER;
    }
  if (!cu->graphs || cu->error)
    return;
  if (key != cu->key)
    {
      if (cu->exec)
        cudaGraphExecDestroy (cu->exec);
      cu->exec = NULL;
      cu->key = key;
      cu->warm = 0;
    }
  /* the last launch's copy must have read the values we overwrite */
  LAM_CUDA_CHECK (cu, cudaEventSynchronize (cu->step.copied));
  cu->step.used = 0;
  if (cu->exec)
    {
      cu->mode = LAM_CUDA_REPLAY;
      cu->pos = 0;
      g_clear_pointer (&cu->mismatch, g_free);
      return;
    }
  if (cu->warm < 1)
    {
      cu->warm++;
      return;
    }
  g_ptr_array_set_size (cu->ops, 0);
  cudaError_t err = cudaStreamBeginCapture (cu->stream, cudaStreamCaptureModeThreadLocal);
  if (err != cudaSuccess)
    {
      cudaGetLastError ();
      graphs_off (cu, "stream capture failed to start: %s", cudaGetErrorString (err));
      return;
    }
  cu->mode = LAM_CUDA_CAPTURE;
}

/* Copies the step's host values, then launches the graph. FALSE, with
 * graphs off, when that fails: the step then runs again op by op (and
 * meets the same error there, if the device has one). */
static gboolean
launch (LamCuda *cu)
{
  cudaError_t err = cudaSuccess;
  if (cu->step.used)
    err = cudaMemcpyAsync (cu->step.dev, cu->step.host, cu->step.used, cudaMemcpyHostToDevice, cu->stream);
  if (err == cudaSuccess)
    err = cudaEventRecord (cu->step.copied, cu->stream);
  if (err == cudaSuccess)
    err = cudaGraphLaunch (cu->exec, cu->stream);
  if (err != cudaSuccess)
    {
      cudaGetLastError ();
      graphs_off (cu, "launching the recorded step failed: %s", cudaGetErrorString (err));
      return FALSE;
    }
  return TRUE;
}

static gboolean
step_end (LamBackend *be)
{
  LamCuda *cu = LAM_CUDA (be);
  LamCudaMode mode = cu->mode;
  cu->mode = LAM_CUDA_EAGER;
  switch (mode)
    {
    case LAM_CUDA_ABORTED:
      return FALSE;

    case LAM_CUDA_CAPTURE:
      {
        cudaGraph_t g = NULL;
        cudaError_t err = cudaStreamEndCapture (cu->stream, &g);
        if (err == cudaSuccess && g != NULL)
          {
            /* what a step costs on the GPU's side, for the status line */
            if (cudaGraphGetNodes (g, NULL, &cu->step_nodes) != cudaSuccess)
              {
                cudaGetLastError ();
                cu->step_nodes = 0;
              }
            err = cudaGraphInstantiate (&cu->exec, g, 0);
            if (err != cudaSuccess)
              cu->exec = NULL;
          }
        if (g)
          cudaGraphDestroy (g);
        if (err != cudaSuccess || cu->exec == NULL)
          {
            cudaGetLastError ();
            graphs_off (cu, "recording the step failed: %s",
                        err != cudaSuccess ? cudaGetErrorString (err) : "empty graph");
            return FALSE;
          }
        cu->step_bytes = cu->step.used;
        return launch (cu);   /* the recorded ops have not run yet */
      }

    case LAM_CUDA_REPLAY:
      if (cu->mismatch == NULL && cu->pos != cu->ops->len)
        cu->mismatch = g_strdup_printf ("the step has %u ops where the recording has %u",
                                        cu->pos, cu->ops->len);
      if (cu->mismatch == NULL && cu->step.used != cu->step_bytes)
        cu->mismatch = g_strdup_printf ("the step hands over %zu bytes of host values where the "
                                        "recording has %zu", cu->step.used, cu->step_bytes);
      if (cu->mismatch)
        {
          /* an engine bug: the ops were skipped, so the step runs again */
          g_warning ("CUDA graph replay: %s", cu->mismatch);
          graphs_off (cu, "the step changed: %s", cu->mismatch);
          return FALSE;
        }
      if (!launch (cu))
        return FALSE;
      cu->replays++;
      return TRUE;

    case LAM_CUDA_EAGER:
    default:
      return TRUE;
    }
}

static char *
graph_status (LamBackend *be, guint64 *replays)
{
  LamCuda *cu = LAM_CUDA (be);
  g_autofree char *graphs = NULL, *dnn = _lam_cuda_dnn_status (cu);
  g_autofree char *nodes = cu->step_nodes > 0 ? g_strdup_printf (", %zu GPU operations a step", cu->step_nodes)
                                              : g_strdup ("");
  if (replays)
    *replays = cu->replays;
  if (!cu->graphs)
    graphs = g_strdup_printf ("CUDA graphs: off (%s)", cu->graphs_off);
  else if (cu->exec == NULL && cu->replays == 0)
    graphs = g_strdup ("CUDA graphs: on, nothing recorded yet");
  else
    graphs = g_strdup_printf ("CUDA graphs: on, %" G_GUINT64_FORMAT " step%s replayed%s", cu->replays,
                              cu->replays == 1 ? "" : "s", nodes);
  /* how convolutions run, where cuDNN is there to choose */
  return dnn != NULL ? g_strconcat (graphs, "; ", dnn, NULL) : g_steal_pointer (&graphs);
}

void
_lam_cuda_graph_init (LamBackendOps *ops)
{
  ops->step_begin = step_begin;
  ops->step_end = step_end;
  ops->graph_status = graph_status;
}
