/* fuzz-model-file.c: a model file from anywhere, opened as the window
 * and lamina-train open it, and when its graph is valid and small,
 * trained one step on the CPU.
 *
 * Checks, besides memory errors (the sanitizers) and GLib criticals:
 * - a rejected file gets a LAM_ERROR_BAD_FILE that names the file;
 * - an accepted file writes back as JSON that reads again, and writes
 *   back the same a second time (a fixed point);
 * - an invalid graph gets a message, and a valid one no node error;
 * - a valid graph builds (or says why not), and runs forward and
 *   backward on a batch of 2 without touching memory it does not own;
 * - on 1 thread and on 4, to the same loss and gradients, bit for bit
 *   (the CPU backend's promise; a race breaks it, now and then);
 * - where LAMINA_CUDA_MODULE names a CUDA module (the emulator's, in
 *   the test suite), on the CUDA backend too, to the CPU's loss and
 *   gradients within float rounding.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "fuzz-common.h"

#include <math.h>
#include <string.h>

#include "lam-backend.h"
#include "lam-model-file.h"
#include "lam-net.h"
#include "lam-network.h"
#include "lam-seq.h"

/* Small enough that one input runs in milliseconds. */
#define MAX_PARAMS      200000
#define MAX_ACTIVATIONS 100000   /* floats per sample, all nodes */
#define MAX_FLOPS       20000000

static LamBackend *cpu1, *cpu4, *cuda;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup ();
  cpu1 = lam_backend_new_cpu (1);
  cpu4 = lam_backend_new_cpu (4);
  if (g_getenv ("LAMINA_CUDA_MODULE") != NULL)
    {
      g_autoptr(GError) error = NULL;
      cuda = lam_backend_new ("cuda", 1, NULL, &error);
      fuzz_check (cuda != NULL, "LAMINA_CUDA_MODULE is set, but: %s", error->message);
    }
  return 0;
}

typedef struct {
  gboolean built;
  double   loss;
  gsize    n_params;
  float   *grads;
} StepResult;

static void
train_one_step (const LamGraph *graph, LamBackend *be, StepResult *r)
{
  g_autoptr(GError) error = NULL;
  const int batch = 2;
  LamNet *net = lam_net_new (graph, be, batch, &error);

  if (net == NULL)
    {
      fuzz_check (error != NULL && error->message[0] != '\0', "lam_net_new failed without a message");
      return;
    }
  r->built = TRUE;
  lam_net_init_params (net, 1);

  /* (the net's buffers are the backend's memory: uploaded to) */
  const LamNode *in = lam_graph_input_node (lam_net_graph (net));
  if (in != NULL && lam_net_input (net) != NULL)
    {
      gint64 n = batch * lam_shape_size (&in->out_shape);
      g_autofree float *x = g_new (float, n);
      for (gint64 i = 0; i < n; i++)
        x[i] = (float) (i % 3);   /* 0, 1, 2: valid token ids for an Embedding too */
      be->ops->upload (be, lam_net_input (net), x, n * sizeof (float));
    }
  if (lam_net_labels (net) != NULL)
    {
      gint32 labels[2] = { 0, 0 };
      be->ops->upload (be, lam_net_labels (net), labels, sizeof labels);
    }
  if (lam_net_targets (net) != NULL)
    {
      /* [B, n], n the MSE loss's input size */
      const LamNode *loss = lam_graph_loss_node (lam_net_graph (net));
      const LamNode *before = lam_graph_find (lam_net_graph (net), loss->inputs->pdata[0]);
      gint64 n = batch * lam_shape_size (&before->out_shape);
      g_autofree float *t = g_new (float, n);
      for (gint64 i = 0; i < n; i++)
        t[i] = 0.5f;
      be->ops->upload (be, lam_net_targets (net), t, n * sizeof (float));
      lam_net_set_use_targets (net, TRUE);
    }

  lam_net_stats_reset (net);
  lam_net_forward (net, TRUE, 7);
  if (lam_graph_loss_node (lam_net_graph (net)) != NULL)
    lam_net_backward (net);
  double loss = 0, correct = 0;
  lam_net_stats_read (net, &loss, &correct);
  fuzz_check (correct >= 0 && correct <= batch, "%g correct of %d", correct, batch);
  if (g_getenv ("FUZZ_VERBOSE"))
    fprintf (stderr, "trained a step: loss %g\n", loss);
  r->loss = loss;
  r->n_params = lam_net_n_params (net);
  r->grads = g_new0 (float, MAX (r->n_params, 1));
  lam_net_read_grads (net, r->grads);
  lam_net_free (net);
}

static void
train_and_compare (const LamGraph *graph)
{
  StepResult one = { 0 }, four = { 0 };

  train_one_step (graph, cpu1, &one);
  train_one_step (graph, cpu4, &four);
  fuzz_check (one.built == four.built, "built on %d threads, not on %d", one.built ? 1 : 4, one.built ? 4 : 1);
  if (one.built)
    {
      fuzz_check (memcmp (&one.loss, &four.loss, sizeof one.loss) == 0 || (isnan (one.loss) && isnan (four.loss)),
                  "loss %.17g on 1 thread, %.17g on 4", one.loss, four.loss);
      fuzz_check (one.n_params == four.n_params, "parameter counts differ");
      for (gsize i = 0; i < one.n_params; i++)
        fuzz_check (memcmp (&one.grads[i], &four.grads[i], sizeof (float)) == 0 ||
                    (isnan (one.grads[i]) && isnan (four.grads[i])),
                    "gradient %zu is %.9g on 1 thread, %.9g on 4", i, one.grads[i], four.grads[i]);
    }
  g_free (four.grads);

  if (cuda != NULL && one.built)
    {
      StepResult gpu = { 0 };
      train_one_step (graph, cuda, &gpu);
      fuzz_check (gpu.built, "built on the CPU, not on CUDA");
      fuzz_check (gpu.n_params == one.n_params, "parameter counts differ");
      /* float rounding in other orders: relative to the loss and to
       * the gradients' size (mean square error over mean square) */
      fuzz_check (fabs (gpu.loss - one.loss) <= 1e-4 * MAX (1.0, fabs (one.loss)) ||
                  (!isfinite (gpu.loss) && !isfinite (one.loss)),
                  "loss %.9g on the CPU, %.9g on CUDA", one.loss, gpu.loss);
      double e = 0, z = 0;
      for (gsize i = 0; i < one.n_params; i++)
        {
          e += ((double) gpu.grads[i] - one.grads[i]) * ((double) gpu.grads[i] - one.grads[i]);
          z += (double) one.grads[i] * one.grads[i];
        }
      fuzz_check (isfinite (one.loss) == FALSE || e <= 1e-6 * z + 1e-12 * one.n_params,
                  "gradients differ: mean square error %.3g of mean square %.3g", e / one.n_params,
                  z / one.n_params);
      g_free (gpu.grads);
    }
  g_free (one.grads);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_parse ((const char *) data, (gssize) size, "fuzz.json", &error);

  if (m == NULL)
    {
      fuzz_check (g_error_matches (error, LAM_ERROR, LAM_ERROR_BAD_FILE), "%s", error ? error->message : "no error");
      fuzz_check (g_str_has_prefix (error->message, "fuzz.json: "), "%s", error->message);
      return 0;
    }

  /* What was accepted writes back readably, and the same again. */
  g_autofree char *json = lam_model_file_to_json (m);
  g_autoptr(LamModelFile) again = lam_model_file_parse (json, -1, "again.json", &error);
  fuzz_check (again != NULL, "accepted, but its own JSON is refused: %s\n%s", error->message, json);
  g_autofree char *json2 = lam_model_file_to_json (again);
  fuzz_check (strcmp (json, json2) == 0, "not a fixed point:\n%s\n---\n%s", json, json2);

  lam_train_config_check (&m->config, NULL);

  /* The editor's model of it: totals and the JSON it saves. */
  {
    g_autoptr(LamNetwork) network = lam_network_new ();
    LamNetworkTotals totals;
    lam_network_take_model (network, lam_model_file_new ());
    g_autoptr(LamModelFile) copy = lam_model_file_parse (json, -1, "copy.json", NULL);
    lam_network_take_model (network, g_steal_pointer (&copy));
    lam_network_get_totals (network, &totals);
    fuzz_check (lam_network_get_valid (network) == (lam_network_get_problem (network) == NULL),
                "valid but with a problem, or invalid without one");
    g_autofree char *saved = lam_network_to_json (network);
    fuzz_check (saved != NULL, "no JSON");
  }

  LamGraph *g = lam_graph_copy (m->graph);
  if (!lam_graph_validate (g, &error))
    {
      fuzz_check (error != NULL && error->message[0] != '\0', "invalid without a message");
      lam_graph_free (g);
      return 0;
    }
  gint64 activations = 0;
  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *node = g->nodes->pdata[i];
      fuzz_check (node->error == NULL, "valid graph, but node %s has an error: %s", node->name, node->error);
      activations += lam_shape_size (&node->out_shape);
    }
  if (g->total_params <= MAX_PARAMS && g->total_flops <= MAX_FLOPS && activations <= MAX_ACTIVATIONS)
    train_and_compare (g);
  lam_graph_free (g);
  return 0;
}
