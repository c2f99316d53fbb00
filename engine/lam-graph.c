/* lam-graph.c: the layer table, the graph and its validation.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-graph"

#include "config.h"

#include <stddef.h>
#include <string.h>
#include <stdio.h>

#include "lam-graph.h"

G_DEFINE_QUARK (lam-error-quark, lam_error)

#define P_INT(field, lbl, lo, hi, d, text) \
  { #field, lbl, LAM_PARAM_INT, offsetof (LamLayerParams, field), lo, hi, d, text }
#define P_FLOAT(field, lbl, lo, hi, d, text) \
  { #field, lbl, LAM_PARAM_FLOAT, offsetof (LamLayerParams, field), lo, hi, d, text }
#define P_BOOL(field, lbl, d, text) \
  { #field, lbl, LAM_PARAM_BOOL, offsetof (LamLayerParams, field), 0, 1, d, text }

static const LamParamSpec input_params[] = {
  P_INT (channels, "Channels", 1, 1024, 1, "Channels per sample (features when height and width are 1)"),
  P_INT (height, "Height", 1, 1024, 28, "Image height in pixels (1 for plain feature vectors)"),
  P_INT (width, "Width", 1, 1024, 28, "Image width in pixels (1 for plain feature vectors)"),
};
static const LamParamSpec dense_params[] = {
  P_INT (units, "Units", 1, 65536, 10, "Number of neurons"),
  P_BOOL (bias, "Bias", 1, "Add a learned bias to each neuron"),
};
static const LamParamSpec conv_params[] = {
  P_INT (filters, "Filters", 1, 4096, 8, "Number of output channels (learned filters)"),
  P_INT (kernel, "Kernel size", 1, 15, 3, "Width and height of each filter"),
  P_INT (stride, "Stride", 1, 8, 1, "Step between filter positions"),
  P_INT (padding, "Padding", 0, 15, 0, "Zeros added around the input"),
  P_BOOL (bias, "Bias", 1, "Add a learned bias to each filter"),
};
static const LamParamSpec pool_params[] = {
  P_INT (kernel, "Window", 1, 15, 2, "Width and height of the pooling window"),
  P_INT (stride, "Stride", 1, 15, 2, "Step between windows"),
  P_INT (padding, "Padding", 0, 7, 0, "Padding around the input (at most half the window)"),
};
static const LamParamSpec leaky_params[] = {
  P_FLOAT (alpha, "Negative slope", 0.0, 1.0, 0.01, "Slope for negative inputs"),
};
static const LamParamSpec dropout_params[] = {
  P_FLOAT (rate, "Rate", 0.0, 0.95, 0.5, "Probability of dropping each unit while training"),
};
static const LamParamSpec bn_params[] = {
  P_FLOAT (eps, "Epsilon", 1e-8, 0.1, 1e-5, "Added to the variance for stability"),
  P_FLOAT (momentum, "Momentum", 0.0, 1.0, 0.1, "Weight of each batch in the running statistics"),
};
static const LamParamSpec recurrent_params[] = {
  P_INT (units, "Units", 1, 4096, 64, "Size of the hidden state (per direction)"),
  P_BOOL (return_sequences, "Return sequences", 0, "Output the state at every step (steps×units) instead of only the last one"),
  P_BOOL (bidirectional, "Bidirectional", 0, "Also read the sequence backwards; the two states are concatenated"),
};
static const LamParamSpec ltc_params[] = {
  P_INT (units, "Units", 1, 4096, 64, "Number of neurons (per direction)"),
  P_INT (ode_steps, "ODE steps", 1, 16, 6, "Unfolds of the fused ODE solver per time step (dt = 1/steps)"),
  P_BOOL (return_sequences, "Return sequences", 0, "Output the state at every step (steps×units) instead of only the last one"),
  P_BOOL (bidirectional, "Bidirectional", 0, "Also read the sequence backwards; the two states are concatenated"),
};
static const LamParamSpec mha_params[] = {
  P_INT (heads, "Heads", 1, 64, 4, "Attention heads; each looks at width/heads of the features"),
  P_BOOL (causal, "Causal", 0, "A step attends only to itself and earlier steps"),
};
static const LamParamSpec posenc_params[] = {
  P_BOOL (learned, "Learned", 0, "Learn a table of positions instead of the fixed sine and cosine waves"),
};
static const LamParamSpec ln_params[] = {
  P_FLOAT (eps, "Epsilon", 1e-8, 0.1, 1e-5, "Added to the variance for stability"),
};
static const LamParamSpec embedding_params[] = {
  P_INT (vocab, "Vocabulary", 2, 65536, 128, "Number of different token ids (ids outside 0..vocabulary-1 are clamped)"),
  P_INT (dim, "Dimension", 1, 4096, 32, "Learned values per token"),
};


static const LamLayerInfo layer_infos[LAM_N_LAYER_KINDS] = {
  [LAM_LAYER_INPUT] = { LAM_LAYER_INPUT, "Input", "Inputs", "The samples of the dataset enter here", 0, 0, input_params, G_N_ELEMENTS (input_params), FALSE },
  [LAM_LAYER_DENSE] = { LAM_LAYER_DENSE, "Dense", "Dense and Convolution", "Fully connected: every unit sees every input", 1, 1, dense_params, G_N_ELEMENTS (dense_params), FALSE },
  [LAM_LAYER_CONV2D] = { LAM_LAYER_CONV2D, "Conv2D", "Dense and Convolution", "Slides learned filters over the image: simple cells", 1, 1, conv_params, G_N_ELEMENTS (conv_params), FALSE },
  [LAM_LAYER_MAXPOOL2D] = { LAM_LAYER_MAXPOOL2D, "MaxPool2D", "Pooling", "Keeps the strongest response in each window: complex cells", 1, 1, pool_params, G_N_ELEMENTS (pool_params), FALSE },
  [LAM_LAYER_AVGPOOL2D] = { LAM_LAYER_AVGPOOL2D, "AvgPool2D", "Pooling", "Averages each window", 1, 1, pool_params, G_N_ELEMENTS (pool_params), FALSE },
  [LAM_LAYER_GLOBALAVGPOOL] = { LAM_LAYER_GLOBALAVGPOOL, "GlobalAvgPool", "Pooling", "Averages each channel to one number", 1, 1, NULL, 0, FALSE },
  [LAM_LAYER_FLATTEN] = { LAM_LAYER_FLATTEN, "Flatten", "Dense and Convolution", "Turns an image into a vector", 1, 1, NULL, 0, FALSE },
  [LAM_LAYER_RELU] = { LAM_LAYER_RELU, "ReLU", "Activations", "max(0, x)", 1, 1, NULL, 0, FALSE },
  [LAM_LAYER_LEAKYRELU] = { LAM_LAYER_LEAKYRELU, "LeakyReLU", "Activations", "x, or a small slope times x below zero", 1, 1, leaky_params, G_N_ELEMENTS (leaky_params), FALSE },
  [LAM_LAYER_TANH] = { LAM_LAYER_TANH, "Tanh", "Activations", "Hyperbolic tangent, from -1 to 1", 1, 1, NULL, 0, FALSE },
  [LAM_LAYER_SIGMOID] = { LAM_LAYER_SIGMOID, "Sigmoid", "Activations", "Logistic function, from 0 to 1", 1, 1, NULL, 0, FALSE },
  [LAM_LAYER_GELU] = { LAM_LAYER_GELU, "GELU", "Activations", "Gaussian error linear unit, as in Transformers", 1, 1, NULL, 0, FALSE },
  [LAM_LAYER_SOFTMAX] = { LAM_LAYER_SOFTMAX, "Softmax", "Activations", "Turns scores into probabilities that sum to 1", 1, 1, NULL, 0, FALSE },
  [LAM_LAYER_DROPOUT] = { LAM_LAYER_DROPOUT, "Dropout", "Normalisation and Regularisation", "Randomly silences units while training", 1, 1, dropout_params, G_N_ELEMENTS (dropout_params), FALSE },
  [LAM_LAYER_BATCHNORM] = { LAM_LAYER_BATCHNORM, "BatchNorm", "Normalisation and Regularisation", "Normalises each channel over the batch", 1, 1, bn_params, G_N_ELEMENTS (bn_params), FALSE },
  [LAM_LAYER_ADD] = { LAM_LAYER_ADD, "Add", "Merge", "Sums its inputs: a skip connection", 2, -1, NULL, 0, FALSE },
  [LAM_LAYER_CONCAT] = { LAM_LAYER_CONCAT, "Concat", "Merge", "Stacks its inputs along the channels", 2, -1, NULL, 0, FALSE },
  [LAM_LAYER_SOFTMAX_XENT] = { LAM_LAYER_SOFTMAX_XENT, "SoftmaxCrossEntropy", "Outputs and Losses", "Classification loss on the scores (logits)", 1, 1, NULL, 0, TRUE },
  [LAM_LAYER_MSE] = { LAM_LAYER_MSE, "MSE", "Outputs and Losses", "Mean squared error against the one-hot target, or the dataset's numeric targets", 1, 1, NULL, 0, TRUE },
  [LAM_LAYER_LOCALLY_CONNECTED2D] = { LAM_LAYER_LOCALLY_CONNECTED2D, "LocallyConnected2D", "Dense and Convolution", "Like Conv2D, but every position has its own filters: as many weights as a Conv2D times the output positions", 1, 1, conv_params, G_N_ELEMENTS (conv_params), FALSE },
  [LAM_LAYER_IMAGE_TO_SEQUENCE] = { LAM_LAYER_IMAGE_TO_SEQUENCE, "ImageToSequence", "Sequences", "Reads an image row by row: height steps of channels×width values", 1, 1, NULL, 0, FALSE },
  [LAM_LAYER_EMBEDDING] = { LAM_LAYER_EMBEDDING, "Embedding", "Sequences", "Turns token ids (characters, words) into learned vectors", 1, 1, embedding_params, G_N_ELEMENTS (embedding_params), FALSE },
  [LAM_LAYER_SIMPLE_RNN] = { LAM_LAYER_SIMPLE_RNN, "SimpleRNN", "Recurrent", "Elman network: the state is fed back at every step", 1, 1, recurrent_params, G_N_ELEMENTS (recurrent_params), FALSE },
  [LAM_LAYER_LSTM] = { LAM_LAYER_LSTM, "LSTM", "Recurrent", "Long short-term memory: gates decide what the cell keeps, forgets and shows", 1, 1, recurrent_params, G_N_ELEMENTS (recurrent_params), FALSE },
  [LAM_LAYER_GRU] = { LAM_LAYER_GRU, "GRU", "Recurrent", "Gated recurrent unit: an LSTM with two gates and no separate cell", 1, 1, recurrent_params, G_N_ELEMENTS (recurrent_params), FALSE },
  [LAM_LAYER_LTC] = { LAM_LAYER_LTC, "LTC", "Recurrent", "Liquid time-constant neurons: an ODE whose time constant depends on the input", 1, 1, ltc_params, G_N_ELEMENTS (ltc_params), FALSE },
  [LAM_LAYER_MULTIHEAD_ATTENTION] = { LAM_LAYER_MULTIHEAD_ATTENTION, "MultiHeadAttention", "Attention", "Self-attention: every step looks at every step and takes what is relevant", 1, 1, mha_params, G_N_ELEMENTS (mha_params), FALSE },
  [LAM_LAYER_POSITIONAL_ENCODING] = { LAM_LAYER_POSITIONAL_ENCODING, "PositionalEncoding", "Attention", "Adds each step's position, so attention knows the order", 1, 1, posenc_params, G_N_ELEMENTS (posenc_params), FALSE },
  [LAM_LAYER_LAYERNORM] = { LAM_LAYER_LAYERNORM, "LayerNorm", "Normalisation and Regularisation", "Normalises each sample (each step of a sequence) over its features", 1, 1, ln_params, G_N_ELEMENTS (ln_params), FALSE },
};

const LamLayerInfo *
lam_layer_info (LamLayerKind kind)
{
  g_return_val_if_fail (kind < LAM_N_LAYER_KINDS, NULL);
  return &layer_infos[kind];
}

gboolean
lam_layer_kind_from_name (const char *type_name, LamLayerKind *kind)
{
  for (int k = 0; k < LAM_N_LAYER_KINDS; k++)
    if (g_strcmp0 (layer_infos[k].type_name, type_name) == 0)
      {
        *kind = k;
        return TRUE;
      }
  return FALSE;
}

double
lam_layer_param_get (const LamLayerParams *p, const LamParamSpec *spec)
{
  const char *base = (const char *) p + spec->offset;
  if (spec->type == LAM_PARAM_FLOAT)
    return *(const float *) base;
  return *(const int *) base;
}

void
lam_layer_param_set (LamLayerParams *p, const LamParamSpec *spec, double value)
{
  char *base = (char *) p + spec->offset;
  if (spec->type == LAM_PARAM_FLOAT)
    *(float *) base = (float) value;
  else
    *(int *) base = (int) value;
}

void
lam_layer_params_init (LamLayerKind kind, LamLayerParams *p)
{
  const LamLayerInfo *info = lam_layer_info (kind);
  memset (p, 0, sizeof *p);
  p->bias = 1;
  for (int i = 0; i < info->n_params; i++)
    lam_layer_param_set (p, &info->params[i], info->params[i].def);
}

const char *
lam_shape_to_string (const LamShape *s, char *buf, gsize len)
{
  if (s->rank == 0)
    g_strlcpy (buf, "?", len);
  else if (s->rank == 1)
    g_snprintf (buf, len, "%d", s->d[0]);
  else if (s->rank == 2)
    g_snprintf (buf, len, "%d×%d", s->d[0], s->d[1]);
  else
    g_snprintf (buf, len, "%d×%d×%d", s->d[0], s->d[1], s->d[2]);
  return buf;
}

/* Graph */

static void
lam_node_free (gpointer data)
{
  LamNode *n = data;
  g_free (n->name);
  g_free (n->error);
  g_ptr_array_unref (n->inputs);
  g_free (n);
}

LamGraph *
lam_graph_new (void)
{
  LamGraph *g = g_new0 (LamGraph, 1);
  g->nodes = g_ptr_array_new_with_free_func (lam_node_free);
  return g;
}

void
lam_graph_free (LamGraph *g)
{
  if (g == NULL)
    return;
  g_ptr_array_unref (g->nodes);
  g_free (g);
}

LamGraph *
lam_graph_copy (const LamGraph *g)
{
  LamGraph *c = lam_graph_new ();
  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      LamNode *m = lam_graph_add_node (c, n->kind, n->name);
      m->p = n->p;
      m->x = n->x;
      m->y = n->y;
      m->out_shape = n->out_shape;
      m->n_params = n->n_params;
      m->flops = n->flops;
      m->error = g_strdup (n->error);
      for (guint j = 0; j < n->inputs->len; j++)
        g_ptr_array_add (m->inputs, g_strdup (g_ptr_array_index (n->inputs, j)));
    }
  c->total_params = g->total_params;
  c->total_flops = g->total_flops;
  return c;
}

LamNode *
lam_graph_add_node (LamGraph *g, LamLayerKind kind, const char *name)
{
  g_return_val_if_fail (kind < LAM_N_LAYER_KINDS, NULL);
  LamNode *n = g_new0 (LamNode, 1);
  n->kind = kind;
  if (name != NULL)
    n->name = g_strdup (name);
  else
    {
      g_autofree char *prefix = g_ascii_strdown (layer_infos[kind].type_name, -1);
      n->name = lam_graph_unique_name (g, prefix);
    }
  n->inputs = g_ptr_array_new_with_free_func (g_free);
  lam_layer_params_init (kind, &n->p);
  g_ptr_array_add (g->nodes, n);
  return n;
}

int
lam_graph_index_of (const LamGraph *g, const char *name)
{
  for (guint i = 0; i < g->nodes->len; i++)
    if (g_strcmp0 (((LamNode *) g_ptr_array_index (g->nodes, i))->name, name) == 0)
      return (int) i;
  return -1;
}

GHashTable *
lam_graph_name_index (const LamGraph *g)
{
  GHashTable *by_name = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < g->nodes->len; i++)
    {
      LamNode *node = g_ptr_array_index (g->nodes, i);
      if (node->name != NULL && !g_hash_table_contains (by_name, node->name))
        g_hash_table_insert (by_name, node->name, GINT_TO_POINTER (i + 1));
    }
  return by_name;
}

int
lam_graph_name_lookup (GHashTable *index, const char *name)
{
  return name != NULL ? GPOINTER_TO_INT (g_hash_table_lookup (index, name)) - 1 : -1;
}

LamNode *
lam_graph_find (const LamGraph *g, const char *name)
{
  int i = lam_graph_index_of (g, name);
  return i < 0 ? NULL : g_ptr_array_index (g->nodes, i);
}

char *
lam_graph_unique_name (const LamGraph *g, const char *prefix)
{
  for (int i = 1;; i++)
    {
      char *name = g_strdup_printf ("%s%d", prefix, i);
      if (lam_graph_find (g, name) == NULL)
        return name;
      g_free (name);
    }
}

gboolean
lam_graph_remove_node (LamGraph *g, const char *name)
{
  int idx = lam_graph_index_of (g, name);
  if (idx < 0)
    return FALSE;
  /* Drop the edges that came from it. */
  for (guint i = 0; i < g->nodes->len; i++)
    {
      LamNode *n = g_ptr_array_index (g->nodes, i);
      for (guint j = n->inputs->len; j > 0; j--)
        if (g_strcmp0 (g_ptr_array_index (n->inputs, j - 1), name) == 0)
          g_ptr_array_remove_index (n->inputs, j - 1);
    }
  g_ptr_array_remove_index (g->nodes, idx);
  return TRUE;
}

void
lam_graph_connect (LamGraph *g, const char *from, const char *to)
{
  LamNode *dst = lam_graph_find (g, to);
  g_return_if_fail (dst != NULL);
  g_ptr_array_add (dst->inputs, g_strdup (from));
}

LamNode *
lam_graph_input_node (const LamGraph *g)
{
  for (guint i = 0; i < g->nodes->len; i++)
    {
      LamNode *n = g_ptr_array_index (g->nodes, i);
      if (n->kind == LAM_LAYER_INPUT)
        return n;
    }
  return NULL;
}

LamNode *
lam_graph_loss_node (const LamGraph *g)
{
  for (guint i = 0; i < g->nodes->len; i++)
    {
      LamNode *n = g_ptr_array_index (g->nodes, i);
      if (layer_infos[n->kind].is_loss)
        return n;
    }
  return NULL;
}


/* Kahn's algorithm; done[i] tells which nodes were placed (the others are
 * on or after a cycle). */
typedef struct _InputIndex InputIndex;
static GArray  *topo_order (const LamGraph *g, const InputIndex *ix, gboolean *done, GError **error);
static gboolean on_cycle   (const LamGraph *g, const InputIndex *ix, const gboolean *placed, int start);


/* Each node's inputs as node indices (-1 for a name that is no node):
 * idx[off[i] .. off[i+1]). One hash table, so that a graph of many
 * nodes is not n² string compares. */
struct _InputIndex {
  int *off;
  int *idx;
};

static void
input_index_init (const LamGraph *g, InputIndex *ix)
{
  guint n = g->nodes->len, total = 0;
  g_autoptr(GHashTable) by_name = lam_graph_name_index (g);

  for (guint i = 0; i < n; i++)
    total += ((LamNode *) g_ptr_array_index (g->nodes, i))->inputs->len;
  ix->off = g_new (int, n + 1);
  ix->idx = g_new (int, MAX (total, 1));
  ix->off[0] = 0;
  for (guint i = 0; i < n; i++)
    {
      LamNode *node = g_ptr_array_index (g->nodes, i);
      for (guint j = 0; j < node->inputs->len; j++)
        ix->idx[ix->off[i] + j] = lam_graph_name_lookup (by_name, g_ptr_array_index (node->inputs, j));
      ix->off[i + 1] = ix->off[i] + (int) node->inputs->len;
    }
}

static void
input_index_clear (InputIndex *ix)
{
  g_clear_pointer (&ix->off, g_free);
  g_clear_pointer (&ix->idx, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (InputIndex, input_index_clear)

/* a min-heap of node indices */
static void
heap_push (GArray *h, int v)
{
  g_array_append_val (h, v);
  int *a = (int *) h->data;
  for (guint i = h->len - 1; i > 0 && a[(i - 1) / 2] > a[i]; i = (i - 1) / 2)
    {
      int t = a[i];
      a[i] = a[(i - 1) / 2];
      a[(i - 1) / 2] = t;
    }
}

static int
heap_pop (GArray *h)
{
  int *a = (int *) h->data, top = a[0];
  guint n = h->len - 1;

  a[0] = a[n];
  g_array_set_size (h, n);
  for (guint i = 0;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && a[l] < a[m])
        m = l;
      if (r < n && a[r] < a[m])
        m = r;
      if (m == i)
        break;
      int t = a[i];
      a[i] = a[m];
      a[m] = t;
      i = m;
    }
  return top;
}

static GArray *
topo_order (const LamGraph *g, const InputIndex *ix, gboolean *done, GError **error)
{
  guint n = g->nodes->len;
  g_autofree int *indeg = g_new0 (int, MAX (n, 1));
  g_autofree int *cons_off = g_new0 (int, n + 1);
  g_autofree int *cons = NULL;
  g_autoptr(GArray) order = g_array_sized_new (FALSE, FALSE, sizeof (int), n);
  g_autoptr(GArray) now = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) later = g_array_new (FALSE, FALSE, sizeof (int));

  /* who consumes each node, once per input that names it */
  for (guint i = 0; i < n; i++)
    for (int e = ix->off[i]; e < ix->off[i + 1]; e++)
      if (ix->idx[e] >= 0)
        {
          indeg[i]++;
          cons_off[ix->idx[e] + 1]++;
        }
  for (guint i = 0; i < n; i++)
    cons_off[i + 1] += cons_off[i];
  cons = g_new (int, MAX (cons_off[n], 1));
  {
    g_autofree int *fill = g_memdup2 (cons_off, (n + 1) * sizeof (int));
    for (guint i = 0; i < n; i++)
      for (int e = ix->off[i]; e < ix->off[i + 1]; e++)
        if (ix->idx[e] >= 0)
          cons[fill[ix->idx[e]]++] = (int) i;
  }

  /* Kahn's algorithm, taking ready nodes in insertion order so the order
   * is stable: passes over the nodes in index order, each taking every
   * node that is ready when the pass reaches it. A node made ready by a
   * later one waits for the next pass ("later"); one after it is taken
   * in this pass ("now", a heap by index). */
  for (guint i = 0; i < n; i++)
    if (indeg[i] == 0)
      heap_push (now, (int) i);
  while (now->len > 0)
    {
      while (now->len > 0)
        {
          int i = heap_pop (now);
          done[i] = TRUE;
          g_array_append_val (order, i);
          for (int e = cons_off[i]; e < cons_off[i + 1]; e++)
            if (--indeg[cons[e]] == 0)
              {
                if (cons[e] > i)
                  heap_push (now, cons[e]);
                else
                  g_array_append_val (later, cons[e]);
              }
        }
      for (guint k = 0; k < later->len; k++)
        heap_push (now, g_array_index (later, int, k));
      g_array_set_size (later, 0);
    }
  if (order->len < n)
    {
      for (guint i = 0; i < n; i++)
        if (!done[i] && on_cycle (g, ix, done, (int) i))
          {
            g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH,
                         "node \"%s\": part of a cycle; a network must flow one way, from input to loss",
                         ((LamNode *) g_ptr_array_index (g->nodes, i))->name);
            break;
          }
      return NULL;
    }
  return g_steal_pointer (&order);
}

GArray *
lam_graph_topo_order (const LamGraph *g, GError **error)
{
  g_autofree gboolean *done = g_new0 (gboolean, MAX (g->nodes->len, 1));
  InputIndex ix;

  input_index_init (g, &ix);
  GArray *order = topo_order (g, &ix, done, error);
  input_index_clear (&ix);
  return order;
}

static int
pool_out (int in, int k, int s, int p)
{
  int span = in + 2 * p - k;
  return span < 0 ? 0 : span / s + 1;
}

/* "an image (1×28×28)", "a sequence of 28 steps of 28 values",
 * "a vector of 784 values": what a layer was fed, for messages. */
static const char *
describe_shape (const LamShape *s, char *buf, gsize len)
{
  char t[64];
  if (s->rank == 3)
    g_snprintf (buf, len, "an image (%s)", lam_shape_to_string (s, t, sizeof t));
  else if (s->rank == 2)
    g_snprintf (buf, len, "a sequence of %d steps of %d values", s->d[0], s->d[1]);
  else
    g_snprintf (buf, len, "a vector of %d values", s->d[0]);
  return buf;
}

/* Divisors of n, "1, 2, 4, 7, 14, 28", for the heads message. */
static char *
divisors (int n)
{
  GString *s = g_string_new (NULL);
  for (int d = 1; d <= n && d <= 64; d++)
    if (n % d == 0)
      g_string_append_printf (s, "%s%d", s->len ? ", " : "", d);
  return g_string_free (s, FALSE);
}

/* Infers node's shape from its inputs. Returns an error message or NULL. */
static char *
infer_node (const LamGraph *g, LamNode *node, LamShape *in, int n_in)
{
  const LamLayerParams *p = &node->p;
  LamShape *o = &node->out_shape;
  char a[64], b[64];
  gint64 in_size = n_in > 0 ? lam_shape_size (&in[0]) : 0;

  node->n_params = 0;
  node->flops = 0;

  switch (node->kind)
    {
    case LAM_LAYER_INPUT:
      if (p->height == 1 && p->width == 1)
        *o = (LamShape) { 1, { p->channels, 1, 1 } };
      else
        *o = (LamShape) { 3, { p->channels, p->height, p->width } };
      return NULL;

    case LAM_LAYER_DENSE:
      if (in[0].rank == 2)
        {
          /* A sequence: the same Dense on every step (PyTorch's Linear,
           * Keras' Dense on 3-D input); Flatten first to see all steps. */
          gint64 F = in[0].d[1];
          *o = (LamShape) { 2, { in[0].d[0], p->units, 1 } };
          node->n_params = F * p->units + (p->bias ? p->units : 0);
          node->flops = 2 * in_size * p->units;
          return NULL;
        }
      *o = (LamShape) { 1, { p->units, 1, 1 } };
      node->n_params = in_size * p->units + (p->bias ? p->units : 0);
      node->flops = 2 * in_size * p->units;
      if (in_size * p->units > (G_GINT64_CONSTANT (1) << 31))
        return g_strdup_printf ("%" G_GINT64_FORMAT " inputs × %d units is too many weights (more than 2³¹)",
                                in_size, p->units);
      return NULL;

    case LAM_LAYER_CONV2D:
    case LAM_LAYER_MAXPOOL2D:
    case LAM_LAYER_AVGPOOL2D:
      {
        const char *what = node->kind == LAM_LAYER_CONV2D ? "Conv2D" : "pooling";
        if (in[0].rank == 2)
          return g_strdup_printf ("input is %s; %s needs an image (channels×height×width)",
                                  describe_shape (&in[0], a, sizeof a), what);
        if (in[0].rank != 3)
          return g_strdup_printf ("input is a vector of %s values; %s needs an image (channels×height×width)",
                                  lam_shape_to_string (&in[0], a, sizeof a), what);
        int C = in[0].d[0], H = in[0].d[1], W = in[0].d[2];
        if (node->kind != LAM_LAYER_CONV2D && p->padding * 2 > p->kernel)
          return g_strdup_printf ("padding %d is more than half the window %d", p->padding, p->kernel);
        if (p->kernel > H + 2 * p->padding || p->kernel > W + 2 * p->padding)
          return p->padding == 0
                 ? g_strdup_printf ("kernel %d×%d is larger than the input %s", p->kernel, p->kernel,
                                    lam_shape_to_string (&in[0], a, sizeof a))
                 : g_strdup_printf ("kernel %d×%d is larger than the input %s padded to %d×%d",
                                    p->kernel, p->kernel, lam_shape_to_string (&in[0], a, sizeof a),
                                    H + 2 * p->padding, W + 2 * p->padding);
        int OH = pool_out (H, p->kernel, p->stride, p->padding);
        int OW = pool_out (W, p->kernel, p->stride, p->padding);
        int OC = node->kind == LAM_LAYER_CONV2D ? p->filters : C;
        *o = (LamShape) { 3, { OC, OH, OW } };
        if (node->kind == LAM_LAYER_CONV2D)
          {
            node->n_params = (gint64) OC * C * p->kernel * p->kernel + (p->bias ? OC : 0);
            node->flops = 2 * (gint64) OC * OH * OW * C * p->kernel * p->kernel;
          }
        else
          node->flops = (gint64) OC * OH * OW * p->kernel * p->kernel;
        return NULL;
      }

    case LAM_LAYER_GLOBALAVGPOOL:
      if (in[0].rank == 2)
        {
          /* a sequence: the average over time, per feature */
          *o = (LamShape) { 1, { in[0].d[1], 1, 1 } };
          node->flops = in_size;
          return NULL;
        }
      if (in[0].rank != 3)
        return g_strdup_printf ("input is a vector of %s values; GlobalAvgPool needs an image",
                                lam_shape_to_string (&in[0], a, sizeof a));
      *o = (LamShape) { 1, { in[0].d[0], 1, 1 } };
      node->flops = in_size;
      return NULL;

    case LAM_LAYER_FLATTEN:
      *o = (LamShape) { 1, { (int) in_size, 1, 1 } };
      return NULL;

    case LAM_LAYER_RELU:
    case LAM_LAYER_LEAKYRELU:
    case LAM_LAYER_TANH:
    case LAM_LAYER_SIGMOID:
    case LAM_LAYER_GELU:
    case LAM_LAYER_SOFTMAX:
    case LAM_LAYER_DROPOUT:
      *o = in[0];
      node->flops = in_size;
      return NULL;

    case LAM_LAYER_BATCHNORM:
      if (in[0].rank == 2)
        return g_strdup_printf ("input is %s; BatchNorm normalises channels of images or vectors: "
                                "use LayerNorm for sequences", describe_shape (&in[0], a, sizeof a));
      *o = in[0];
      node->n_params = 2 * (gint64) in[0].d[0];
      node->flops = 2 * in_size;
      return NULL;

    case LAM_LAYER_ADD:
      for (int i = 1; i < n_in; i++)
        if (in[i].rank != in[0].rank || lam_shape_size (&in[i]) != in_size ||
            memcmp (in[i].d, in[0].d, sizeof (int) * in[0].rank) != 0)
          return g_strdup_printf ("inputs have different shapes: %s from \"%s\" and %s from \"%s\"",
                                  lam_shape_to_string (&in[0], a, sizeof a),
                                  (char *) g_ptr_array_index (node->inputs, 0),
                                  lam_shape_to_string (&in[i], b, sizeof b),
                                  (char *) g_ptr_array_index (node->inputs, i));
      *o = in[0];
      node->flops = in_size * (n_in - 1);
      return NULL;

    case LAM_LAYER_CONCAT:
      *o = in[0];
      for (int i = 1; i < n_in; i++)
        {
          if (in[0].rank == 2)
            {
              /* sequences: the features of each step are stacked */
              if (in[i].rank != 2 || in[i].d[0] != in[0].d[0])
                return g_strdup_printf ("inputs %s from \"%s\" and %s from \"%s\" differ in more than the features "
                                        "(sequences are concatenated step by step)",
                                        lam_shape_to_string (&in[0], a, sizeof a),
                                        (char *) g_ptr_array_index (node->inputs, 0),
                                        lam_shape_to_string (&in[i], b, sizeof b),
                                        (char *) g_ptr_array_index (node->inputs, i));
              o->d[1] += in[i].d[1];
              continue;
            }
          if (in[i].rank != in[0].rank ||
              (in[0].rank == 3 && (in[i].d[1] != in[0].d[1] || in[i].d[2] != in[0].d[2])))
            return g_strdup_printf ("inputs %s from \"%s\" and %s from \"%s\" differ in more than the channels",
                                    lam_shape_to_string (&in[0], a, sizeof a),
                                    (char *) g_ptr_array_index (node->inputs, 0),
                                    lam_shape_to_string (&in[i], b, sizeof b),
                                    (char *) g_ptr_array_index (node->inputs, i));
          o->d[0] += in[i].d[0];
        }
      return NULL;

    case LAM_LAYER_SOFTMAX_XENT:
    case LAM_LAYER_MSE:
      if (in[0].rank == 2)
        return g_strdup_printf ("input is %s; a loss needs one vector of scores per sample: end the sequence "
                                "with a recurrent layer without return_sequences, a GlobalAvgPool over time, "
                                "or Flatten", describe_shape (&in[0], a, sizeof a));
      if (in_size < 2 && node->kind == LAM_LAYER_SOFTMAX_XENT)
        return g_strdup ("needs at least 2 class scores");
      {
        LamNode *src = lam_graph_find (g, g_ptr_array_index (node->inputs, 0));
        if (node->kind == LAM_LAYER_SOFTMAX_XENT && src && src->kind == LAM_LAYER_SOFTMAX)
          return g_strdup_printf ("\"%s\" is a Softmax, but this loss applies softmax itself: "
                                  "feed it the scores (logits) instead", src->name);
      }
      *o = (LamShape) { 1, { 1, 1, 1 } };
      node->flops = 4 * in_size;
      return NULL;

    case LAM_LAYER_LOCALLY_CONNECTED2D:
      {
        if (in[0].rank != 3)
          return g_strdup_printf ("input is %s; LocallyConnected2D needs an image (channels×height×width)",
                                  describe_shape (&in[0], a, sizeof a));
        int C = in[0].d[0], H = in[0].d[1], W = in[0].d[2], K = p->kernel;
        if (K > H + 2 * p->padding || K > W + 2 * p->padding)
          return g_strdup_printf ("kernel %d×%d is larger than the padded input %s",
                                  K, K, lam_shape_to_string (&in[0], a, sizeof a));
        int OH = pool_out (H, K, p->stride, p->padding), OW = pool_out (W, K, p->stride, p->padding);
        gint64 weights = (gint64) OH * OW * p->filters * C * K * K;
        *o = (LamShape) { 3, { p->filters, OH, OW } };
        node->n_params = weights + (p->bias ? (gint64) p->filters * OH * OW : 0);
        node->flops = 2 * weights;
        if (weights > (G_GINT64_CONSTANT (1) << 31))
          return g_strdup_printf ("%d×%d positions × %d filters × %d×%d×%d is too many weights (more than 2³¹)",
                                  OH, OW, p->filters, C, K, K);
        return NULL;
      }

    case LAM_LAYER_IMAGE_TO_SEQUENCE:
      if (in[0].rank != 3)
        return g_strdup_printf ("input is %s; ImageToSequence reads an image (channels×height×width) row by row",
                                describe_shape (&in[0], a, sizeof a));
      *o = (LamShape) { 2, { in[0].d[1], in[0].d[0] * in[0].d[2], 1 } };
      return NULL;

    case LAM_LAYER_EMBEDDING:
      if (in[0].rank != 1)
        return g_strdup_printf ("input is %s; Embedding needs a vector of token ids (one per step)",
                                describe_shape (&in[0], a, sizeof a));
      *o = (LamShape) { 2, { in[0].d[0], p->dim, 1 } };
      node->n_params = (gint64) p->vocab * p->dim;
      if (node->n_params > (G_GINT64_CONSTANT (1) << 31))
        return g_strdup_printf ("%d tokens × %d values is too many weights (more than 2³¹)", p->vocab, p->dim);
      return NULL;

    case LAM_LAYER_SIMPLE_RNN:
    case LAM_LAYER_LSTM:
    case LAM_LAYER_GRU:
    case LAM_LAYER_LTC:
      {
        const char *type = layer_infos[node->kind].type_name;
        if (in[0].rank == 3)
          return g_strdup_printf ("input is %s; %s needs a sequence (steps×features): "
                                  "put an ImageToSequence before it", describe_shape (&in[0], a, sizeof a), type);
        if (in[0].rank != 2)
          return g_strdup_printf ("input is %s; %s needs a sequence (steps×features): use Embedding for "
                                  "token ids, or ImageToSequence for an image", describe_shape (&in[0], a, sizeof a),
                                  type);
        gint64 T = in[0].d[0], F = in[0].d[1], H = p->units, dirs = p->bidirectional ? 2 : 1;
        gint64 G = node->kind == LAM_LAYER_LSTM ? 4 : node->kind == LAM_LAYER_GRU ? 3 : 1;
        gint64 per_dir = G * H * (F + H) + 2 * G * H;
        gint64 steps = node->kind == LAM_LAYER_LTC ? (gint64) p->ode_steps : 1;
        if (node->kind == LAM_LAYER_LTC)   /* weight_ih, weight_hh, bias, log_tau, A */
          per_dir = H * (F + H) + 3 * H;
        *o = p->return_sequences ? (LamShape) { 2, { (int) T, (int) (H * dirs), 1 } }
                                 : (LamShape) { 1, { (int) (H * dirs), 1, 1 } };
        node->n_params = dirs * per_dir;
        node->flops = dirs * T * (2 * G * H * F + steps * (2 * G * H * H + 10 * G * H));
        if (dirs * per_dir > (G_GINT64_CONSTANT (1) << 31))
          return g_strdup_printf ("%" G_GINT64_FORMAT " units is too many weights (more than 2³¹)", H);
        return NULL;
      }

    case LAM_LAYER_MULTIHEAD_ATTENTION:
      {
        if (in[0].rank != 2)
          return g_strdup_printf ("input is %s; MultiHeadAttention needs a sequence (steps×features)%s",
                                  describe_shape (&in[0], a, sizeof a),
                                  in[0].rank == 3 ? ": put an ImageToSequence before it" : "");
        gint64 T = in[0].d[0], D = in[0].d[1];
        if (D % p->heads != 0)
          {
            g_autofree char *divs = divisors ((int) D);
            return g_strdup_printf ("the width %" G_GINT64_FORMAT " does not split into %d heads: "
                                    "choose heads that divide it (%s), or change the width with a Dense before",
                                    D, p->heads, divs);
          }
        *o = in[0];
        node->n_params = 4 * D * D + 4 * D;
        node->flops = 2 * T * 4 * D * D + 4 * T * T * D + 4 * T * T * p->heads;
        return NULL;
      }

    case LAM_LAYER_POSITIONAL_ENCODING:
      if (in[0].rank != 2)
        return g_strdup_printf ("input is %s; PositionalEncoding needs a sequence (steps×features)",
                                describe_shape (&in[0], a, sizeof a));
      *o = in[0];
      node->n_params = p->learned ? in_size : 0;
      node->flops = in_size;
      return NULL;

    case LAM_LAYER_LAYERNORM:
      if (in[0].rank == 3)
        return g_strdup_printf ("input is %s; LayerNorm normalises a vector or each step of a sequence: "
                                "use BatchNorm for images, or Flatten first", describe_shape (&in[0], a, sizeof a));
      *o = in[0];
      node->n_params = 2 * (gint64) (in[0].rank == 2 ? in[0].d[1] : in[0].d[0]);
      node->flops = 5 * in_size;
      return NULL;

    case LAM_N_LAYER_KINDS:
    default:
      break;
    }
  g_assert_not_reached ();
}

gint64
lam_graph_equivalent_conv_params (const LamGraph *g, const LamNode *node)
{
  g_return_val_if_fail (g != NULL && node != NULL, -1);
  if (node->kind != LAM_LAYER_LOCALLY_CONNECTED2D || node->error != NULL || node->inputs->len != 1)
    return -1;
  LamNode *src = lam_graph_find (g, g_ptr_array_index (node->inputs, 0));
  if (src == NULL || src->out_shape.rank != 3)
    return -1;
  gint64 C = src->out_shape.d[0], K = node->p.kernel;
  return node->p.filters * C * K * K + (node->p.bias ? node->p.filters : 0);
}

static void
set_node_error (LamNode *node, char *msg, GError **first)
{
  g_free (node->error);
  node->error = msg;
  node->out_shape.rank = 0;
  if (first && *first == NULL)
    g_set_error (first, LAM_ERROR, LAM_ERROR_INVALID_GRAPH, "node \"%s\": %s", node->name, msg);
}

/* Whether node i reaches itself through unplaced nodes (depth-first). */
static gboolean
on_cycle (const LamGraph *g, const InputIndex *ix, const gboolean *placed, int start)
{
  guint n = g->nodes->len;
  g_autofree gboolean *seen = g_new0 (gboolean, n);
  g_autoptr(GArray) stack = g_array_new (FALSE, FALSE, sizeof (int));
  g_array_append_val (stack, start);
  while (stack->len > 0)
    {
      int i = g_array_index (stack, int, stack->len - 1);
      g_array_set_size (stack, stack->len - 1);
      for (int e = ix->off[i]; e < ix->off[i + 1]; e++)
        {
          int si = ix->idx[e];
          if (si < 0 || placed[si])
            continue;
          if (si == start)
            return TRUE;
          if (!seen[si])
            {
              seen[si] = TRUE;
              g_array_append_val (stack, si);
            }
        }
    }
  return FALSE;
}

gboolean
lam_graph_validate (LamGraph *g, GError **error)
{
  g_autoptr(GError) first = NULL;
  guint n = g->nodes->len;
  int n_input = 0, n_loss = 0;

  g->total_params = 0;
  g->total_flops = 0;
  for (guint i = 0; i < n; i++)
    {
      LamNode *node = g_ptr_array_index (g->nodes, i);
      g_clear_pointer (&node->error, g_free);
      node->out_shape.rank = 0;
      node->n_params = 0;
      node->flops = 0;
    }

  if (n == 0)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH, "the network is empty: add an Input layer");
      return FALSE;
    }

  /* A missing Input or loss explains more than the node errors it causes. */
  for (guint i = 0; i < n; i++)
    {
      const LamLayerInfo *info = &layer_infos[((LamNode *) g_ptr_array_index (g->nodes, i))->kind];
      n_input += info->kind == LAM_LAYER_INPUT;
      n_loss += info->is_loss;
    }
  if (n_input == 0)
    g_set_error (&first, LAM_ERROR, LAM_ERROR_INVALID_GRAPH, "the network has no Input layer");
  else if (n_loss == 0)
    g_set_error (&first, LAM_ERROR, LAM_ERROR_INVALID_GRAPH,
                 "the network has no loss: end it with SoftmaxCrossEntropy or MSE");
  n_input = n_loss = 0;

  for (guint i = 0; i < n; i++)
    {
      LamNode *node = g_ptr_array_index (g->nodes, i);
      if (node->name == NULL || node->name[0] == '\0')
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH, "a %s node has no name",
                       layer_infos[node->kind].type_name);
          return FALSE;
        }
    }
  g_auto(InputIndex) ix = { 0 };
  input_index_init (g, &ix);
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  /* Local checks: names, parameters, number of inputs, references. */
  for (guint i = 0; i < n; i++)
    {
      LamNode *node = g_ptr_array_index (g->nodes, i);
      const LamLayerInfo *info = &layer_infos[node->kind];
      int n_in = (int) node->inputs->len;

      if (!g_hash_table_add (names, node->name))
        set_node_error (node, g_strdup ("another node has the same name"), &first);

      if (node->kind == LAM_LAYER_INPUT && ++n_input > 1)
        set_node_error (node, g_strdup ("a second Input layer; a network has exactly one"), &first);
      if (info->is_loss && ++n_loss > 1)
        set_node_error (node, g_strdup ("a second loss; a network has exactly one"), &first);

      for (int k = 0; k < info->n_params && node->error == NULL; k++)
        {
          const LamParamSpec *spec = &info->params[k];
          double v = lam_layer_param_get (&node->p, spec);
          if (!(v >= spec->min && v <= spec->max))
            set_node_error (node, g_strdup_printf ("parameter \"%s\" is %g, must be between %g and %g",
                                                   spec->name, v, spec->min, spec->max), &first);
        }

      if (node->error == NULL && n_in < info->min_inputs)
        set_node_error (node, info->min_inputs == 1
                        ? g_strdup_printf ("has no input; connect a layer to it")
                        : g_strdup_printf ("needs at least %d inputs, has %d", info->min_inputs, n_in),
                        &first);
      else if (node->error == NULL && info->max_inputs >= 0 && n_in > info->max_inputs)
        set_node_error (node, info->max_inputs == 0
                        ? g_strdup ("an Input layer takes no inputs")
                        : g_strdup_printf ("takes %d input, has %d", info->max_inputs, n_in), &first);

      for (int j = 0; j < n_in && node->error == NULL; j++)
        {
          const char *src = g_ptr_array_index (node->inputs, j);
          int si = ix.idx[ix.off[i] + j];
          if (si < 0)
            set_node_error (node, g_strdup_printf ("input \"%s\" does not exist", src), &first);
          else if (si == (int) i)
            set_node_error (node, g_strdup ("is connected to itself"), &first);
          else if (layer_infos[((LamNode *) g_ptr_array_index (g->nodes, si))->kind].is_loss)
            set_node_error (node, g_strdup_printf ("input \"%s\" is a loss; a loss is the end of the network", src), &first);
        }
    }


  /* Order; a cycle stops shape inference. */
  g_autoptr(GError) cycle_error = NULL;
  g_autofree gboolean *placed = g_new0 (gboolean, n);
  g_autoptr(GArray) order = topo_order (g, &ix, placed, &cycle_error);
  if (order == NULL)
    {
      /* Nodes that could not be placed are on a cycle or after one; mark
       * those that are on one: they can reach themselves. */
      for (guint i = 0; i < n; i++)
        {
          LamNode *node = g_ptr_array_index (g->nodes, i);
          if (!placed[i] && node->error == NULL && on_cycle (g, &ix, placed, (int) i))
            node->error = g_strdup ("part of a cycle; a network must flow one way, from input to loss");
        }
      g_propagate_error (error, first ? g_steal_pointer (&first) : g_steal_pointer (&cycle_error));
      return FALSE;
    }

  /* Shapes, in order. Nodes after an invalid one stay unknown ("?"). */
  for (guint oi = 0; oi < order->len; oi++)
    {
      int ni = g_array_index (order, int, oi);
      LamNode *node = g_ptr_array_index (g->nodes, ni);
      int n_in = (int) node->inputs->len;
      g_autofree LamShape *in = g_new0 (LamShape, MAX (n_in, 1));
      gboolean known = node->error == NULL;

      for (int j = 0; j < n_in && known; j++)
        {
          LamNode *src = g_ptr_array_index (g->nodes, ix.idx[ix.off[ni] + j]);
          in[j] = src->out_shape;
          if (src->out_shape.rank == 0)
            known = FALSE;
        }
      if (!known)
        continue;
      char *msg = infer_node (g, node, in, n_in);
      if (msg)
        set_node_error (node, msg, &first);
      else
        {
          g->total_params += node->n_params;
          g->total_flops += node->flops;
        }
    }

  /* Every node must lead to the loss. */
  LamNode *loss = lam_graph_loss_node (g);
  if (loss != NULL)
    {
      g_autofree gboolean *reach = g_new0 (gboolean, n);
      reach[lam_graph_index_of (g, loss->name)] = TRUE;
      for (guint oi = order->len; oi > 0; oi--)
        {
          int i = g_array_index (order, int, oi - 1);
          if (!reach[i])
            continue;
          for (int e = ix.off[i]; e < ix.off[i + 1]; e++)
            if (ix.idx[e] >= 0)
              reach[ix.idx[e]] = TRUE;
        }
      for (guint i = 0; i < n; i++)
        {
          LamNode *node = g_ptr_array_index (g->nodes, i);
          if (!reach[i] && node->error == NULL && !layer_infos[node->kind].is_loss)
            set_node_error (node, g_strdup ("its output leads nowhere: connect it on towards the loss, or delete it"),
                            &first);
        }
    }

  if (first != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first));
      return FALSE;
    }
  return TRUE;
}
