/* lam-view-data.c: grids, node choice, weight copies and predictions for
 * the views.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>
#include <string.h>

#include "lam-view-data.h"

struct _LamViewGrid {
  LamDataset *ds;
  int         size;
  float       xmin, xmax, ymin, ymax;
};

/* ── Grid ────────────────────────────────────────────────────────────── */

LamViewGrid *
lam_view_grid_new (const LamDataset *like, int grid, float margin)
{
  float xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY, half, cx, cy;
  LamViewGrid *g;
  LamDataset *ds;

  g_return_val_if_fail (like != NULL && like->data != NULL, NULL);
  g_return_val_if_fail (lam_dataset_sample_size (like) == 2, NULL);
  g_return_val_if_fail (grid >= 2 && grid <= 1000, NULL);

  for (int i = 0; i < like->n; i++)
    {
      xlo = MIN (xlo, like->data[2 * i]);
      xhi = MAX (xhi, like->data[2 * i]);
      ylo = MIN (ylo, like->data[2 * i + 1]);
      yhi = MAX (yhi, like->data[2 * i + 1]);
    }
  if (!(xlo < xhi))
    xlo = -1, xhi = 1;
  if (!(ylo < yhi))
    ylo = -1, yhi = 1;
  /* a square, so that the plane keeps its shape on screen */
  half = MAX (xhi - xlo, yhi - ylo) * (0.5f + margin);
  cx = (xlo + xhi) / 2;
  cy = (ylo + yhi) / 2;
  g = g_new0 (LamViewGrid, 1);
  g->size = grid;
  g->xmin = cx - half, g->xmax = cx + half;
  g->ymin = cy - half, g->ymax = cy + half;

  /* The engine has no constructor for a float dataset; the struct is
   * public and lam_dataset_unref() frees exactly these fields. */
  ds = g_new0 (LamDataset, 1);
  g_atomic_ref_count_init (&ds->ref);
  ds->name = g_strdup ("view grid");
  ds->shape = like->shape;
  ds->n = grid * grid;
  ds->n_classes = like->n_classes;
  ds->class_names = g_strdupv (like->class_names);
  ds->data = g_new (float, 2 * (gsize) ds->n);
  ds->labels = g_new0 (guint8, ds->n);
  ds->mean = like->mean;
  ds->std = like->std;
  for (int j = 0; j < grid; j++)
    for (int i = 0; i < grid; i++)
      {
        float *p = ds->data + 2 * ((gsize) j * grid + i);
        p[0] = g->xmin + (i + 0.5f) * (g->xmax - g->xmin) / grid;
        p[1] = g->ymin + (j + 0.5f) * (g->ymax - g->ymin) / grid;
      }
  g->ds = ds;
  return g;
}

void
lam_view_grid_free (LamViewGrid *g)
{
  if (g == NULL)
    return;
  lam_dataset_unref (g->ds);
  g_free (g);
}

int
lam_view_grid_get_size (LamViewGrid *g)
{
  return g->size;
}

LamDataset *
lam_view_grid_get_dataset (LamViewGrid *g)
{
  return g->ds;
}

void
lam_view_grid_get_bounds (LamViewGrid *g, float *xmin, float *xmax, float *ymin, float *ymax)
{
  *xmin = g->xmin;
  *xmax = g->xmax;
  *ymin = g->ymin;
  *ymax = g->ymax;
}

static void
to_probabilities (const LamGraph *g, const float *logits, int n, float *out)
{
  const LamNode *loss = lam_graph_loss_node (g);
  double mx = -INFINITY, sum = 0;

  if (loss && loss->kind == LAM_LAYER_SOFTMAX_XENT)
    {
      for (int k = 0; k < n; k++)
        mx = MAX (mx, logits[k]);
      for (int k = 0; k < n; k++)
        sum += out[k] = (float) exp (logits[k] - mx);
    }
  else
    for (int k = 0; k < n; k++)
      sum += out[k] = MAX (logits[k], 0.f);
  for (int k = 0; k < n; k++)
    out[k] = sum > 0 ? (float) (out[k] / sum) : 1.f / n;
}

gboolean
lam_view_grid_evaluate (LamTrainer *t, LamViewGrid *grid, float *probs, int n_classes,
                        const char *units_node, float **units, int *n_units, GError **error)
{
  const LamGraph *g;
  const LamNode *logits;
  int li = -1, ui = -1, nu = 0, n;

  g_return_val_if_fail (t != NULL && grid != NULL, FALSE);
  g_return_val_if_fail (units_node == NULL || (units != NULL && n_units != NULL), FALSE);

  g = lam_net_graph (lam_trainer_net (t));
  n = grid->ds->n;
  if (probs)
    {
      logits = lam_view_logits_node (g);
      if (logits == NULL || lam_shape_size (&logits->out_shape) != n_classes)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                       "the network does not end in %d class scores", n_classes);
          return FALSE;
        }
      li = lam_graph_index_of (g, logits->name);
    }
  if (units_node)
    {
      ui = lam_graph_index_of (g, units_node);
      if (ui < 0)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "no node named %s",
                       units_node);
          return FALSE;
        }
      nu = (int) lam_shape_size (&((LamNode *) g_ptr_array_index (g->nodes, ui))->out_shape);
      *units = g_new (float, (gsize) nu * n);
      *n_units = nu;
    }

  /* every grid point in batches: one pass per batch, not per point */
  {
    int nodes[2], k = 0;
    float *outs[2];
    g_autofree float *logit_out = li >= 0 ? g_new (float, (gsize) n * n_classes) : NULL;
    g_autofree float *unit_out = ui >= 0 ? g_new (float, (gsize) n * nu) : NULL;
    if (li >= 0)
      nodes[k] = li, outs[k++] = logit_out;
    if (ui >= 0)
      nodes[k] = ui, outs[k++] = unit_out;
    if (k > 0 && !lam_trainer_node_outputs (t, grid->ds, nodes, k, outs, error))
      {
        if (units_node)
          g_clear_pointer (units, g_free);
        return FALSE;
      }
    for (int p = 0; p < n; p++)
      {
        if (li >= 0)
          to_probabilities (g, logit_out + (gsize) p * n_classes, n_classes, probs + (gsize) p * n_classes);
        if (ui >= 0)
          for (int u = 0; u < nu; u++)
            (*units)[(gsize) u * n + p] = unit_out[(gsize) p * nu + u];
      }
  }
  return TRUE;
}

/* ── Nodes ───────────────────────────────────────────────────────────── */

const LamNode *
lam_view_logits_node (const LamGraph *g)
{
  const LamNode *loss = lam_graph_loss_node (g);

  if (loss == NULL || loss->inputs->len == 0)
    return NULL;
  return lam_graph_find (g, g_ptr_array_index (loss->inputs, 0));
}

const LamNode *
lam_view_first_node (const LamGraph *g, LamLayerKind kind)
{
  g_autoptr(GArray) order = lam_graph_topo_order (g, NULL);

  for (guint k = 0; k < g->nodes->len; k++)
    {
      guint i = order && order->len == g->nodes->len ? (guint) g_array_index (order, int, k) : k;
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      if (n->kind == kind)
        return n;
    }
  return NULL;
}

static gboolean
is_activation (LamLayerKind kind)
{
  return kind == LAM_LAYER_RELU || kind == LAM_LAYER_LEAKYRELU || kind == LAM_LAYER_TANH
         || kind == LAM_LAYER_SIGMOID || kind == LAM_LAYER_GELU;
}

/* The only node reading from, or NULL. */
static const LamNode *
single_consumer (const LamGraph *g, const LamNode *from)
{
  const LamNode *found = NULL;

  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      for (guint k = 0; k < n->inputs->len; k++)
        if (strcmp (g_ptr_array_index (n->inputs, k), from->name) == 0)
          {
            if (found)
              return NULL;
            found = n;
          }
    }
  return found;
}

const LamNode *
lam_view_hidden_node (const LamGraph *g)
{
  const LamNode *dense = lam_view_first_node (g, LAM_LAYER_DENSE), *n;

  if (dense == NULL)
    return NULL;
  for (n = single_consumer (g, dense); n; n = single_consumer (g, n))
    {
      if (is_activation (n->kind))
        return n;
      if (n->kind != LAM_LAYER_BATCHNORM && n->kind != LAM_LAYER_DROPOUT)
        break;
    }
  return dense;
}

gboolean
lam_view_weight_tensor (const LamGraph *g, const char *node, char **tensor, int *in_c, int *in_h,
                        int *in_w)
{
  const LamNode *n = lam_graph_find (g, node), *in;

  g_return_val_if_fail (g != NULL && node != NULL, FALSE);

  *in_c = *in_h = *in_w = 0;
  if (n == NULL || (n->kind != LAM_LAYER_DENSE && n->kind != LAM_LAYER_CONV2D))
    return FALSE;
  if (tensor)
    *tensor = g_strdup_printf ("%s.weight", n->name);
  if (n->kind != LAM_LAYER_DENSE || n->inputs->len == 0)
    return TRUE;

  /* back through the layers that only flatten or pass values through */
  for (in = lam_graph_find (g, g_ptr_array_index (n->inputs, 0)); in != NULL;
       in = in->inputs->len ? lam_graph_find (g, g_ptr_array_index (in->inputs, 0)) : NULL)
    {
      if (in->out_shape.rank == 3)
        {
          *in_c = in->out_shape.d[0];
          *in_h = in->out_shape.d[1];
          *in_w = in->out_shape.d[2];
          break;
        }
      if (in->kind != LAM_LAYER_FLATTEN && in->kind != LAM_LAYER_DROPOUT)
        break;
    }
  return TRUE;
}

float *
lam_view_copy_weights (LamTrainer *t, const char *node, int *ndim, int shape[4], int *in_c,
                       int *in_h, int *in_w)
{
  g_autofree char *tensor = NULL;

  g_return_val_if_fail (t != NULL && node != NULL, NULL);

  if (!lam_view_weight_tensor (lam_net_graph (lam_trainer_net (t)), node, &tensor, in_c, in_h,
                               in_w))
    return NULL;
  return lam_trainer_copy_tensor (t, tensor, ndim, shape);
}

/* ── Predictions ─────────────────────────────────────────────────────── */

int *
lam_view_predict (LamTrainer *t, LamDataset *ds, GError **error)
{
  g_autofree gint32 *pred = NULL;

  g_return_val_if_fail (t != NULL && ds != NULL, NULL);
  G_STATIC_ASSERT (sizeof (gint32) == sizeof (int));

  pred = g_new (gint32, MAX (ds->n, 1));
  if (!lam_trainer_predict (t, ds, pred, error))
    return NULL;
  return (int *) g_steal_pointer (&pred);
}

float *
lam_view_probabilities (const LamGraph *g, float **acts, int *n_classes)
{
  const LamNode *logits = lam_view_logits_node (g);
  int li, n;
  float *out;

  g_return_val_if_fail (g != NULL && acts != NULL, NULL);

  if (logits == NULL)
    return NULL;
  li = lam_graph_index_of (g, logits->name);
  if (li < 0 || acts[li] == NULL)
    return NULL;
  n = (int) lam_shape_size (&logits->out_shape);
  out = g_new (float, n);
  to_probabilities (g, acts[li], n, out);
  if (n_classes)
    *n_classes = n;
  return out;
}
