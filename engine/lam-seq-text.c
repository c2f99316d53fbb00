/* lam-seq-text.c: sampling text from a character model, and the
 * attention of one sample, for the views.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-seq"

#include "config.h"

#include <math.h>
#include <string.h>

#include "lam-seq.h"
#include "lam-rng.h"

#define STREAM_SAMPLE 0x53414d50u

/* The node feeding the loss (the logits). */
static int
logits_node (const LamGraph *g)
{
  LamNode *loss = lam_graph_loss_node (g);
  return loss ? lam_graph_index_of (g, g_ptr_array_index (loss->inputs, 0)) : -1;
}

char *
lam_seq_generate_text (LamNet *net, const char *const *vocab, const char *prompt, int n_chars,
                       float temperature, guint64 seed, GError **error)
{
  g_return_val_if_fail (net != NULL && vocab != NULL, NULL);
  g_return_val_if_fail (n_chars >= 0, NULL);

  const LamGraph *g = lam_net_graph (net);
  LamBackend *be = lam_net_backend (net);
  LamNode *in = lam_graph_input_node (g);
  int li = logits_node (g);
  int V = (int) g_strv_length ((char **) vocab);
  int B = lam_net_batch (net);

  if (prompt == NULL)
    prompt = "";
  if (!g_utf8_validate (prompt, -1, NULL))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "the prompt is not valid UTF-8 text");
      return NULL;
    }
  if (!(temperature >= 0 && temperature <= 100))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "temperature %g is out of range (0 to 100)", temperature);
      return NULL;
    }
  if (in == NULL || in->out_shape.rank != 1 || li < 0 || V < 2)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "not a character model: it needs an Input of token ids (a vector), "
                   "a loss over the next character and a vocabulary of at least 2 characters");
      return NULL;
    }
  LamNode *ln = g_ptr_array_index (g->nodes, li);
  int n_out = (int) lam_shape_size (&ln->out_shape);
  if (n_out < V)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "node \"%s\" scores %d characters, but the vocabulary has %d", ln->name, n_out, V);
      return NULL;
    }

  /* character → id */
  g_autoptr(GHashTable) ids = g_hash_table_new (NULL, NULL);
  for (int v = V - 1; v >= 0; v--)
    g_hash_table_insert (ids, GUINT_TO_POINTER (g_utf8_get_char (vocab[v])), GINT_TO_POINTER (v + 1));

  g_autoptr(GArray) seq = g_array_new (FALSE, FALSE, sizeof (int));
  for (const char *p = prompt; *p; p = g_utf8_next_char (p))
    {
      int id = GPOINTER_TO_INT (g_hash_table_lookup (ids, GUINT_TO_POINTER (g_utf8_get_char (p)))) - 1;
      if (id >= 0)
        g_array_append_val (seq, id);
    }
  if (seq->len == 0)
    {
      int id = GPOINTER_TO_INT (g_hash_table_lookup (ids, GUINT_TO_POINTER (' '))) - 1;
      id = MAX (id, 0);
      g_array_append_val (seq, id);
    }

  int T = in->out_shape.d[0];
  gsize in_size = (gsize) T;
  g_autofree float *x = g_new0 (float, (gsize) B * in_size);
  g_autofree float *z = g_new (float, (gsize) B * n_out);
  g_autofree double *prob = g_new (double, V);
  GString *out = g_string_new (prompt);
  LamRng rng;
  lam_rng_init (&rng, seed, STREAM_SAMPLE);

  for (int c = 0; c < n_chars; c++)
    {
      int len = (int) seq->len;
      for (int t = 0; t < T; t++)
        {
          int k = len - T + t;
          x[t] = (float) g_array_index (seq, int, MAX (k, 0));
        }
      be->ops->upload (be, lam_net_input (net), x, (gsize) B * in_size * sizeof (float));
      lam_net_forward (net, FALSE, 0);
      lam_net_read_output (net, li, z);

      int next = 0;
      for (int v = 1; v < V; v++)
        if (z[v] > z[next])
          next = v;
      if (temperature > 0)
        {
          double sum = 0, u;
          for (int v = 0; v < V; v++)
            sum += prob[v] = exp ((z[v] - (double) z[next]) / temperature);
          u = lam_rng_uniform (&rng) * sum;
          for (next = 0; next < V - 1 && (u -= prob[next]) >= 0; next++)
            ;
        }
      g_array_append_val (seq, next);
      g_string_append (out, vocab[next]);
    }
  lam_net_stats_reset (net);
  return g_string_free (out, FALSE);
}

/* A batch-1 copy of the trainer's network on a one-thread CPU backend,
 * with the trainer's current weights and state. */
static LamNet *
private_net (LamTrainer *t, LamBackend **be_out, GError **error)
{
  LamNet *tn = lam_trainer_net (t);
  LamBackend *be = lam_backend_new_cpu (1);
  LamNet *net = lam_net_new (lam_net_graph (tn), be, 1, error);
  if (net == NULL)
    {
      lam_backend_free (be);
      return NULL;
    }
  lam_trainer_views_hold (t);   /* every tensor from one step */
  for (guint i = 0; i < lam_net_n_tensors (net); i++)
    {
      const LamTensorInfo *ti = lam_net_tensor (net, i);
      g_autofree float *data = lam_trainer_copy_tensor (t, ti->name, NULL, NULL);
      float *base = ti->trainable ? lam_net_params (net) : lam_net_state (net);
      if (data)
        be->ops->upload (be, base + ti->offset, data, ti->n * sizeof (float));
    }
  lam_trainer_views_release (t);
  *be_out = be;
  return net;
}

char *
lam_seq_generate_text_from_trainer (LamTrainer *t, const char *const *vocab, const char *prompt,
                                    int n_chars, float temperature, guint64 seed, GError **error)
{
  g_return_val_if_fail (t != NULL, NULL);
  LamBackend *be = NULL;
  LamNet *net = private_net (t, &be, error);
  if (net == NULL)
    return NULL;
  char *text = lam_seq_generate_text (net, vocab, prompt, n_chars, temperature, seed, error);
  lam_net_free (net);
  lam_backend_free (be);
  return text;
}

float *
lam_seq_attention_for_sample (LamTrainer *t, LamDataset *ds, int sample, const char *node,
                              int *heads, int *steps, GError **error)
{
  g_return_val_if_fail (t != NULL && ds != NULL && node != NULL, NULL);
  if (sample < 0 || sample >= ds->n)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "sample %d is out of range (0 to %d)",
                   sample, ds->n - 1);
      return NULL;
    }
  const LamGraph *g = lam_net_graph (lam_trainer_net (t));
  int ni = lam_graph_index_of (g, node);
  if (ni < 0 || ((LamNode *) g_ptr_array_index (g->nodes, ni))->kind != LAM_LAYER_MULTIHEAD_ATTENTION)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "\"%s\" is not a MultiHeadAttention node", node);
      return NULL;
    }
  gsize n = lam_dataset_sample_size (ds);
  if ((gint64) n != lam_shape_size (&lam_graph_input_node (g)->out_shape))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "%s does not fit the network's input", ds->name);
      return NULL;
    }

  LamBackend *be = NULL;
  LamNet *net = private_net (t, &be, error);
  if (net == NULL)
    return NULL;
  g_autofree float *x = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    x[i] = ds->images ? (ds->images[(gsize) sample * n + i] / 255.0f - ds->mean) / ds->std
                      : ds->data[(gsize) sample * n + i];
  be->ops->upload (be, lam_net_input (net), x, n * sizeof (float));
  lam_net_forward (net, FALSE, 0);
  int h = 0, T = 0;
  float *probs = lam_net_attention (net, ni, &h, &T);
  float *out = g_new (float, (gsize) h * T * T);
  be->ops->download (be, out, probs, (gsize) h * T * T * sizeof (float));
  if (heads)
    *heads = h;
  if (steps)
    *steps = T;
  lam_net_free (net);
  lam_backend_free (be);
  return out;
}
