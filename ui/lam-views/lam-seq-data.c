/* lam-seq-data.c: a recurrent layer run again on the host, step by step,
 * keeping what the engine keeps to itself: every state and every gate.
 *
 * The maths follows engine/lam-seq.c and the CPU cells in
 * kernels/cpu/lam-cpu-seq.c, with sums in double: the engine's float
 * GEMMs then differ from it only by their own rounding.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>
#include <string.h>

#include "lam-seq-data.h"

static const char *const lstm_gates[] = {
  "input gate", "forget gate", "cell candidate", "output gate", NULL,
};
static const char *const gru_gates[] = { "reset", "update", "new", NULL };

const char *const *
lam_seq_gate_names (LamLayerKind kind)
{
  return kind == LAM_LAYER_LSTM ? lstm_gates : kind == LAM_LAYER_GRU ? gru_gates : NULL;
}

gboolean
lam_seq_gate_is_signed (LamLayerKind kind, int gate)
{
  return gate == 2 && (kind == LAM_LAYER_LSTM || kind == LAM_LAYER_GRU);
}

static gboolean
is_recurrent (LamLayerKind kind)
{
  return kind == LAM_LAYER_SIMPLE_RNN || kind == LAM_LAYER_LSTM || kind == LAM_LAYER_GRU
         || kind == LAM_LAYER_LTC;
}

static int
n_gates (LamLayerKind kind)
{
  return kind == LAM_LAYER_LSTM ? 4 : kind == LAM_LAYER_GRU ? 3 : 0;
}

/* rows of the weights: LSTM 4H, GRU 3H, SimpleRNN and LTC H */
static int
weight_rows (LamLayerKind kind, int H)
{
  return (kind == LAM_LAYER_LSTM ? 4 : kind == LAM_LAYER_GRU ? 3 : 1) * H;
}

static int
tensors_per_dir (LamLayerKind kind)
{
  return kind == LAM_LAYER_LTC ? 5 : 4;
}

static inline double
sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

/* y[r] = b[r] + Σ W[r, k] x[k] for r < rows; b may be NULL */
static void
matvec (double *y, const float *W, const float *b, const double *x, int rows, int cols)
{
  for (int r = 0; r < rows; r++)
    {
      const float *w = W + (gsize) r * cols;
      double s = b ? b[r] : 0.0;
      for (int k = 0; k < cols; k++)
        s += w[k] * x[k];
      y[r] = s;
    }
}

void
lam_seq_trace_free (LamSeqTrace *tr)
{
  if (tr == NULL)
    return;
  g_free (tr->node);
  g_free (tr->input);
  g_free (tr->states);
  g_free (tr->cells);
  g_free (tr->gates);
  g_free (tr);
}

LamSeqTrace *
lam_seq_trace_compute (const LamNode *node, const float *x, int T, int F, float *const *tensors,
                       GError **error)
{
  g_return_val_if_fail (node != NULL && x != NULL && tensors != NULL, NULL);
  g_return_val_if_fail (T > 0 && F > 0, NULL);

  if (!is_recurrent (node->kind) || node->p.units <= 0)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "\"%s\" is not a recurrent layer (SimpleRNN, LSTM, GRU or LTC)", node->name);
      return NULL;
    }

  LamSeqTrace *tr = g_new0 (LamSeqTrace, 1);
  int H = node->p.units, dirs = node->p.bidirectional ? 2 : 1, HD = H * dirs;
  int G = n_gates (node->kind), R = weight_rows (node->kind, H);
  int K = node->kind == LAM_LAYER_LTC ? MAX (node->p.ode_steps, 1) : 1;
  double dt = 1.0 / K;

  tr->node = g_strdup (node->name);
  tr->kind = node->kind;
  tr->T = T, tr->F = F, tr->H = H, tr->dirs = dirs, tr->n_gates = G;
  tr->max_error = NAN;
  tr->input = g_memdup2 (x, (gsize) T * F * sizeof (float));
  tr->states = g_new (float, (gsize) T * HD);
  if (node->kind == LAM_LAYER_LSTM)
    tr->cells = g_new (float, (gsize) T * HD);
  if (G > 0)
    tr->gates = g_new (float, (gsize) G * T * HD);

  g_autofree double *xd = g_new (double, F);
  g_autofree double *h = g_new (double, H);
  g_autofree double *hn = g_new (double, H);
  g_autofree double *c = g_new (double, H);
  g_autofree double *xp = g_new (double, R);
  g_autofree double *hh = g_new (double, R);

  for (int d = 0; d < dirs; d++)
    {
      float *const *W = tensors + d * tensors_per_dir (node->kind);
      memset (h, 0, sizeof (double) * H);
      memset (c, 0, sizeof (double) * H);
      for (int s = 0; s < T; s++)
        {
          int t = d ? T - 1 - s : s;
          gsize o = (gsize) t * HD + (gsize) d * H;

          for (int k = 0; k < F; k++)
            xd[k] = x[(gsize) t * F + k];
          /* the input side with its bias, as the engine's one big GEMM */
          matvec (xp, W[0], W[2], xd, R, F);
          switch (node->kind)
            {
            case LAM_LAYER_LSTM:
              matvec (hh, W[1], W[3], h, R, H);
              for (int j = 0; j < H; j++)
                {
                  double ig = sigmoid (xp[j] + hh[j]);
                  double fg = sigmoid (xp[H + j] + hh[H + j]);
                  double gg = tanh (xp[2 * H + j] + hh[2 * H + j]);
                  double og = sigmoid (xp[3 * H + j] + hh[3 * H + j]);
                  c[j] = fg * c[j] + ig * gg;
                  h[j] = og * tanh (c[j]);
                  tr->gates[o + j] = (float) ig;
                  tr->gates[(gsize) T * HD + o + j] = (float) fg;
                  tr->gates[(gsize) 2 * T * HD + o + j] = (float) gg;
                  tr->gates[(gsize) 3 * T * HD + o + j] = (float) og;
                  tr->cells[o + j] = (float) c[j];
                }
              break;
            case LAM_LAYER_GRU:
              matvec (hh, W[1], W[3], h, R, H);
              for (int j = 0; j < H; j++)
                {
                  double r = sigmoid (xp[j] + hh[j]);
                  double z = sigmoid (xp[H + j] + hh[H + j]);
                  double n = tanh (xp[2 * H + j] + r * hh[2 * H + j]);
                  hn[j] = (1.0 - z) * n + z * h[j];
                  tr->gates[o + j] = (float) r;
                  tr->gates[(gsize) T * HD + o + j] = (float) z;
                  tr->gates[(gsize) 2 * T * HD + o + j] = (float) n;
                }
              memcpy (h, hn, sizeof (double) * H);
              break;
            case LAM_LAYER_SIMPLE_RNN:
              matvec (hh, W[1], W[3], h, R, H);
              for (int j = 0; j < H; j++)
                h[j] = tanh (xp[j] + hh[j]);
              break;
            case LAM_LAYER_LTC:
              /* the fused solver: K unfolds of x' = (x + dt·f·A) / (1 + dt·(1/τ + f)) */
              for (int k = 0; k < K; k++)
                {
                  matvec (hh, W[1], NULL, h, H, H);
                  for (int j = 0; j < H; j++)
                    {
                      double f = sigmoid (xp[j] + hh[j]);
                      hn[j] = (h[j] + dt * f * W[4][j]) / (1.0 + dt * (exp (-W[3][j]) + f));
                    }
                  memcpy (h, hn, sizeof (double) * H);
                }
              break;
            default:
              g_assert_not_reached ();
            }
          for (int j = 0; j < H; j++)
            tr->states[o + j] = (float) h[j];
        }
    }
  return tr;
}

/* The node's tensors from the trainer, checked against the shapes the
 * engine gives them (lam-seq.c's _lam_seq_rnn_tensors). */
static gboolean
copy_tensors (LamTrainer *t, const LamNode *node, int F, float **out, int *n_out, GError **error)
{
  static const char *const rnn_names[] = { "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0" };
  static const char *const ltc_names[] = { "weight_ih", "weight_hh", "bias", "log_tau", "A" };
  int H = node->p.units, R = weight_rows (node->kind, H), per = tensors_per_dir (node->kind);
  int dirs = node->p.bidirectional ? 2 : 1, n = 0;

  for (int d = 0; d < dirs; d++)
    for (int i = 0; i < per; i++)
      {
        const char *suffix = node->kind == LAM_LAYER_LTC ? ltc_names[i] : rnn_names[i];
        g_autofree char *name = g_strdup_printf ("%s.%s%s", node->name, suffix, d ? "_reverse" : "");
        int rows = node->kind == LAM_LAYER_LTC ? H : R, cols = i == 0 ? F : H;
        int ndim = 0, shape[4] = { 0 };
        gsize want = i < 2 ? (gsize) rows * cols : (gsize) rows;

        out[n] = lam_trainer_copy_tensor (t, name, &ndim, shape);
        if (out[n] == NULL
            || (gsize) shape[0] * (ndim > 1 ? shape[1] : 1) != want || shape[0] != rows)
          {
            g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                         "tensor %s is missing or has an unexpected shape", name);
            g_clear_pointer (&out[n], g_free);
            *n_out = n;
            return FALSE;
          }
        n++;
      }
  *n_out = n;
  return TRUE;
}

LamSeqTrace *
lam_seq_trace_from_trainer (LamTrainer *t, LamDataset *ds, int sample, const char *node_name,
                            float ***acts_out, GError **error)
{
  g_return_val_if_fail (t != NULL && ds != NULL && node_name != NULL, NULL);

  const LamGraph *g = lam_net_graph (lam_trainer_net (t));
  const LamNode *node = lam_graph_find (g, node_name), *in;
  int ni = lam_graph_index_of (g, node_name), ii, T, F, n = 0;
  float *tensors[10] = { NULL };
  float **acts = NULL;
  LamSeqTrace *tr = NULL;

  if (node == NULL || !is_recurrent (node->kind) || node->inputs->len != 1)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "\"%s\" is not a recurrent layer (SimpleRNN, LSTM, GRU or LTC)", node_name);
      return NULL;
    }
  ii = lam_graph_index_of (g, g_ptr_array_index (node->inputs, 0));
  in = g_ptr_array_index (g->nodes, ii);
  if (in->out_shape.rank != 2)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "the input of \"%s\" is not a sequence", node_name);
      return NULL;
    }
  T = in->out_shape.d[0];
  F = in->out_shape.d[1];

  lam_trainer_views_hold (t);   /* the weights and activations of one step */
  gboolean copied = copy_tensors (t, node, F, tensors, &n, error);
  if (copied)
    acts = lam_trainer_activations (t, ds, sample, error);
  lam_trainer_views_release (t);
  if (!copied)
    goto out;
  if (acts == NULL || acts[ii] == NULL || acts[ni] == NULL)
    {
      if (acts != NULL)
        g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "no activations for \"%s\"",
                     node_name);
      goto out;
    }
  tr = lam_seq_trace_compute (node, acts[ii], T, F, tensors, error);
  if (tr)
    {
      /* the engine's output: every state, or the last one of each direction */
      const float *y = acts[ni];
      int HD = tr->H * tr->dirs;
      double err = 0;
      if (node->p.return_sequences)
        for (gsize i = 0; i < (gsize) T * HD; i++)
          err = MAX (err, fabs ((double) y[i] - tr->states[i]));
      else
        for (int d = 0; d < tr->dirs; d++)
          for (int j = 0; j < tr->H; j++)
            {
              int last = d ? 0 : T - 1;
              err = MAX (err, fabs ((double) y[d * tr->H + j]
                                    - tr->states[(gsize) last * HD + d * tr->H + j]));
            }
      tr->max_error = err;
    }

out:
  for (int i = 0; i < n; i++)
    g_free (tensors[i]);
  if (acts_out && tr)
    *acts_out = acts;
  else if (acts)
    lam_trainer_free_activations (t, acts);
  return tr;
}

/* ── Choosing nodes ──────────────────────────────────────────────────── */

static const LamNode *
first_node (const LamGraph *g, gboolean (*pred) (LamLayerKind))
{
  g_autoptr(GArray) order = lam_graph_topo_order (g, NULL);

  for (guint k = 0; k < g->nodes->len; k++)
    {
      guint i = order && order->len == g->nodes->len ? (guint) g_array_index (order, int, k) : k;
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      if (pred (n->kind))
        return n;
    }
  return NULL;
}

static gboolean
is_attention (LamLayerKind kind)
{
  return kind == LAM_LAYER_MULTIHEAD_ATTENTION;
}

const LamNode *
lam_seq_view_recurrent_node (const LamGraph *g)
{
  g_return_val_if_fail (g != NULL, NULL);
  return first_node (g, is_recurrent);
}

const LamNode *
lam_seq_view_attention_node (const LamGraph *g)
{
  g_return_val_if_fail (g != NULL, NULL);
  return first_node (g, is_attention);
}

gboolean
lam_seq_view_steps_are_rows (const LamGraph *g, const LamNode *node)
{
  const LamNode *input;
  const LamShape *s;
  gboolean rows = FALSE;

  g_return_val_if_fail (g != NULL && node != NULL, FALSE);

  input = lam_graph_input_node (g);
  if (input == NULL || input->out_shape.rank != 3)
    return FALSE;
  for (guint i = 0; i < g->nodes->len; i++)
    rows |= ((const LamNode *) g_ptr_array_index (g->nodes, i))->kind == LAM_LAYER_IMAGE_TO_SEQUENCE;
  /* the layer's steps: its input's for a recurrent layer, its own for attention */
  if (node->inputs->len > 0)
    {
      const LamNode *from = lam_graph_find (g, g_ptr_array_index (node->inputs, 0));
      s = from ? &from->out_shape : &node->out_shape;
    }
  else
    s = &node->out_shape;
  return rows && s->rank == 2 && s->d[0] == input->out_shape.d[1];
}

gboolean
lam_seq_view_is_text_model (const LamGraph *g)
{
  const LamNode *input;

  g_return_val_if_fail (g != NULL, FALSE);

  input = lam_graph_input_node (g);
  if (input == NULL || input->out_shape.rank != 1)
    return FALSE;
  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      if (n->kind == LAM_LAYER_EMBEDDING && n->inputs->len == 1
          && g_strcmp0 (g_ptr_array_index (n->inputs, 0), input->name) == 0)
        return TRUE;
    }
  return FALSE;
}
