/* gradcheck-common.c: the gradient checker of test-gradcheck and
 * test-seq; gradcheck-common.h says how it works and what a caller may
 * choose.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lam-seq.h"   /* lam_net_targets */

#include "gradcheck-common.h"

#define PARAM_QUANTUM (1.0 / 4096.0)

/* Tolerances: per element |a - n| / max(|a| + |n|, floor) where floor is
 * a fraction of the largest gradient in the tensor (or an absolute floor,
 * for the float32 noise), and the normalised mean squared error. */
#define ELEM_TOL   1e-2
#define NMSE_TOL   1e-6
#define REL_FLOOR  0.05
#define ABS_FLOOR  1e-3

/* Graph building */

LamNode *
add (LamGraph *g, LamLayerKind kind, const char *name, const char *from)
{
  LamNode *n = lam_graph_add_node (g, kind, name);
  if (from != NULL)
    lam_graph_connect (g, from, name);
  return n;
}

LamGraph *
graph_with_input (int c, int h, int w)
{
  LamGraph *g = lam_graph_new ();
  LamNode *n = add (g, LAM_LAYER_INPUT, "input", NULL);
  n->p.channels = c;
  n->p.height = h;
  n->p.width = w;
  return g;
}

LamNode *
add_dense (LamGraph *g, const char *name, const char *from, int units, gboolean bias)
{
  LamNode *n = add (g, LAM_LAYER_DENSE, name, from);
  n->p.units = units;
  n->p.bias = bias;
  return n;
}

void
add_head (LamGraph *g, const char *from, gboolean flatten, int n_classes, LamLayerKind loss)
{
  if (flatten)
    {
      add (g, LAM_LAYER_FLATTEN, "head_flatten", from);
      from = "head_flatten";
    }
  add_dense (g, "head", from, n_classes, TRUE);
  add (g, loss, "loss", "head");
}

/* The checker */

static guint64
mix (guint64 h, guint64 v)
{
  h ^= v + G_GUINT64_CONSTANT (0x9E3779B97F4A7C15) + (h << 6) + (h >> 2);
  return h * G_GUINT64_CONSTANT (0x100000001B3);
}

/* A hash of which side of every kink the forward pass is on: the signs
 * of ReLU/LeakyReLU inputs and the argmax of every max-pool window. */
static guint64
kink_signature (Check *c)
{
  const LamGraph *g = lam_net_graph (c->net);
  guint64 h = 1469598103934665603ull;

  for (guint i = 0; i < g->nodes->len; i++)
    {
      LamNode *n = g_ptr_array_index (g->nodes, i);
      if (n->kind != LAM_LAYER_RELU && n->kind != LAM_LAYER_LEAKYRELU &&
          n->kind != LAM_LAYER_MAXPOOL2D)
        continue;
      int src = lam_graph_index_of (g, g_ptr_array_index (n->inputs, 0));
      LamNode *sn = g_ptr_array_index (g->nodes, src);
      const float *x = lam_net_output_ptr (c->net, src);
      gsize size = (gsize) lam_shape_size (&sn->out_shape);

      if (n->kind != LAM_LAYER_MAXPOOL2D)
        {
          for (gsize j = 0; j < (gsize) c->B * size; j++)
            h = mix (h, x[j] > 0);
          continue;
        }
      int C = sn->out_shape.d[0], H = sn->out_shape.d[1], W = sn->out_shape.d[2];
      int OH = n->out_shape.d[1], OW = n->out_shape.d[2];
      int K = n->p.kernel, st = n->p.stride, pad = n->p.padding;
      for (gsize pl = 0; pl < (gsize) c->B * C; pl++)
        for (int oh = 0; oh < OH; oh++)
          for (int ow = 0; ow < OW; ow++)
            {
              const float *xp = x + pl * H * W;
              int best = -1;
              for (int y = MAX (oh * st - pad, 0); y < MIN (oh * st - pad + K, H); y++)
                for (int xx = MAX (ow * st - pad, 0); xx < MIN (ow * st - pad + K, W); xx++)
                  if (best < 0 || xp[y * W + xx] > xp[best])
                    best = y * W + xx;
              h = mix (h, (guint64) best);
            }
    }
  return h;
}

/* Mean loss over the batch, recomputed in double from the logits of the
 * last forward. */
static double
host_loss (Check *c)
{
  const float *z = lam_net_output_ptr (c->net, c->logits_node);
  const gint32 *y = lam_net_labels (c->net);
  const float *t = lam_net_targets (c->net);
  int n = c->n_classes;
  double loss = 0;

  for (int b = 0; b < c->B; b++)
    {
      const float *zb = z + (gsize) b * n;
      if (c->loss_kind == LAM_LAYER_SOFTMAX_XENT)
        {
          double mx = zb[0], s = 0;
          for (int i = 1; i < n; i++)
            mx = MAX (mx, zb[i]);
          for (int i = 0; i < n; i++)
            s += exp (zb[i] - mx);
          loss += mx + log (s) - zb[y[b]];
        }
      else
        {
          double s = 0;
          for (int i = 0; i < n; i++)
            {
              double want = c->targets ? t[(gsize) b * n + i] : (i == y[b] ? 1.0 : 0.0);
              double d = zb[i] - want;
              s += d * d;
            }
          loss += s / n;
        }
    }
  return loss / c->B;
}

static double
eval_loss (Check *c, guint64 *sig)
{
  lam_net_forward (c->net, TRUE, c->seed);
  if (sig)
    *sig = kink_signature (c);
  return host_loss (c);
}

static double
quantize (double v)
{
  return round (v / PARAM_QUANTUM) * PARAM_QUANTUM;
}

Check *
check_new (LamGraph *g, int B, guint64 seed, const CheckOptions *opts)
{
  static const CheckOptions defaults = { 0 };
  g_autoptr(GError) error = NULL;
  Check *c = g_new0 (Check, 1);

  if (opts == NULL)
    opts = &defaults;
  g_assert_cmpfloat (opts->h, >=, 0);
  g_assert_cmpint (opts->max_elems, >=, 0);

  c->be = lam_backend_new_cpu (1);
  c->net = lam_net_new (g, c->be, B, &error);
  g_assert_no_error (error);
  g_assert_nonnull (c->net);
  c->B = B;
  c->seed = seed * 7919 + 13;
  c->h = opts->h > 0 ? opts->h : 1.0 / 32;
  c->max_elems = opts->max_elems > 0 ? opts->max_elems : 40;
  c->rand = g_rand_new_with_seed ((guint32) seed);

  const LamGraph *ng = lam_net_graph (c->net);
  LamNode *loss = lam_graph_loss_node (ng);
  c->loss_kind = loss->kind;
  c->logits_node = lam_graph_index_of (ng, g_ptr_array_index (loss->inputs, 0));
  c->n_classes = (int) lam_shape_size (&((LamNode *) g_ptr_array_index (ng->nodes, c->logits_node))->out_shape);

  /* Parameters: the engine's initialisation, jittered (so biases and
   * BatchNorm's γ/β are not all 0 or 1), rounded to the quantum. */
  lam_net_init_params (c->net, seed);
  float *p = lam_net_params (c->net);
  for (gsize i = 0; i < lam_net_n_params (c->net); i++)
    p[i] = (float) quantize (p[i] + g_rand_double_range (c->rand, -0.1, 0.1));

  const LamNode *in = lam_graph_input_node (ng);
  gsize in_n = (gsize) B * lam_shape_size (&in->out_shape);
  float *x = lam_net_input (c->net);
  for (gsize i = 0; i < in_n; i++)
    x[i] = opts->vocab > 0 ? (float) g_rand_int_range (c->rand, 0, opts->vocab)
                           : (float) g_rand_double_range (c->rand, -1.0, 1.0);
  gint32 *y = lam_net_labels (c->net);
  for (int b = 0; b < B; b++)
    y[b] = g_rand_int_range (c->rand, 0, c->n_classes);
  if (opts->targets)
    {
      float *t = lam_net_targets (c->net);
      g_assert_nonnull (t);
      g_assert_true (lam_net_set_use_targets (c->net, TRUE));
      for (gsize i = 0; i < (gsize) B * c->n_classes; i++)
        t[i] = (float) g_rand_double_range (c->rand, -1.0, 1.0);
      c->targets = TRUE;
    }
  return c;
}

void
check_free (Check *c)
{
  lam_net_free (c->net);
  lam_backend_free (c->be);
  g_free (c->ana);
  g_rand_free (c->rand);
  g_free (c);
}

void
check_backward (Check *c)
{
  double loss_sum = 0;
  gsize n = lam_net_n_params (c->net);

  lam_net_stats_reset (c->net);
  lam_net_forward (c->net, TRUE, c->seed);
  lam_net_stats_read (c->net, &loss_sum, NULL);
  double mine = host_loss (c);
  g_assert_true (isfinite (mine));
  g_assert_cmpfloat (fabs (loss_sum / c->B - mine), <=, 1e-5 * (1 + fabs (mine)));
  c->sig0 = kink_signature (c);

  lam_net_backward (c->net);
  g_free (c->ana);
  c->ana = g_new (double, MAX (n, 1));
  const float *g = lam_net_grads (c->net);
  for (gsize i = 0; i < n; i++)
    c->ana[i] = g[i];
}

/* Loss with parameter i at w0 + k·step; FALSE when a kink moved. */
static gboolean
loss_at (Check *c, gsize i, float w0, int k, double step, double *f)
{
  float *p = lam_net_params (c->net);
  guint64 sig;

  p[i] = (float) (w0 + k * step);
  g_assert_cmpfloat ((double) p[i], ==, (double) w0 + k * step);   /* exact */
  *f = eval_loss (c, &sig);
  p[i] = w0;
  return sig == c->sig0;
}

/* Numerical gradient of parameter i: the five-point stencil, or where
 * its outer points cross a kink the central difference at ±h, then at
 * ±h/4. FALSE when every one crosses a kink. */
static gboolean
numeric_grad (Check *c, gsize i, double *out)
{
  float w0 = lam_net_params (c->net)[i];
  double h = c->h, f2, f1, fm1, fm2;
  gboolean in = loss_at (c, i, w0, 1, h, &f1) & loss_at (c, i, w0, -1, h, &fm1);
  gboolean outer = loss_at (c, i, w0, 2, h, &f2) & loss_at (c, i, w0, -2, h, &fm2);

  if (in && outer)
    {
      *out = (-f2 + 8 * f1 - 8 * fm1 + fm2) / (12 * h);
      return TRUE;
    }
  if (in)
    {
      *out = (f1 - fm1) / (2 * h);
      return TRUE;
    }
  h /= 4;
  if (loss_at (c, i, w0, 1, h, &f1) & loss_at (c, i, w0, -1, h, &fm1))
    {
      *out = (f1 - fm1) / (2 * h);
      return TRUE;
    }
  return FALSE;
}

void
check_tensor (Check *c, const LamTensorInfo *t, TensorResult *r)
{
  g_autofree gsize *idx = g_new (gsize, t->n);
  g_autofree double *a = g_new (double, t->n);
  g_autofree double *num = g_new (double, t->n);
  g_autofree gsize *which = g_new (gsize, t->n);
  int m = 0;

  memset (r, 0, sizeof *r);
  r->wanted = (int) MIN (t->n, (gsize) c->max_elems);
  for (gsize i = 0; i < t->n; i++)
    idx[i] = i;
  /* Elements in random order; stop when max_elems are checked. */
  for (gsize i = 0; i < t->n && m < c->max_elems; i++)
    {
      gsize j = i + (gsize) g_rand_int_range (c->rand, 0, (gint32) (t->n - i));
      gsize tmp = idx[i];
      idx[i] = idx[j];
      idx[j] = tmp;
      double nv;
      if (!numeric_grad (c, t->offset + idx[i], &nv))
        {
          r->skipped++;
          continue;
        }
      a[m] = c->ana[t->offset + idx[i]];
      num[m] = nv;
      which[m] = idx[i];
      m++;
    }
  r->checked = m;

  double scale = 0, se = 0, sn = 0;
  for (int k = 0; k < m; k++)
    scale = MAX (scale, MAX (fabs (a[k]), fabs (num[k])));
  double floor_ = MAX (REL_FLOOR * scale, ABS_FLOOR);
  for (int k = 0; k < m; k++)
    {
      double err = fabs (a[k] - num[k]) / MAX (fabs (a[k]) + fabs (num[k]), floor_);
      if (err >= r->max_err)
        {
          r->max_err = err;
          r->worst = which[k];
          r->worst_a = a[k];
          r->worst_n = num[k];
        }
      se += (a[k] - num[k]) * (a[k] - num[k]);
      sn += num[k] * num[k];
    }
  /* Tiny gradients (all zero, say) compare absolutely: an RMS error of
   * ELEM_TOL × ABS_FLOOR, about the float32 noise, passes. */
  r->nmse = se / MAX (sn, m * (ELEM_TOL * ABS_FLOOR) * (ELEM_TOL * ABS_FLOOR) / NMSE_TOL);
}

/* Within both tolerances, and enough elements checked: at least half of
 * those wanted, and at least one. */
gboolean
tensor_ok (const TensorResult *r)
{
  return r->max_err < ELEM_TOL && r->nmse < NMSE_TOL && r->checked * 2 >= r->wanted &&
         r->checked > 0;
}

int
check_all (Check *c)
{
  int bad = 0;

  for (guint ti = 0; ti < lam_net_n_tensors (c->net); ti++)
    {
      const LamTensorInfo *t = lam_net_tensor (c->net, ti);
      TensorResult r;
      if (!t->trainable)
        continue;
      check_tensor (c, t, &r);
      gboolean ok = tensor_ok (&r);
      g_test_message ("%-28s n=%-5zu checked %2d skipped %2d  max err %.2e  nmse %.2e%s",
                      t->name, t->n, r.checked, r.skipped, r.max_err, r.nmse, ok ? "" : "  FAIL");
      if (!ok)
        {
          g_test_message ("  worst: %s[%zu] analytic %.8g numeric %.8g", t->name, r.worst,
                          r.worst_a, r.worst_n);
          bad++;
        }
    }
  return bad;
}

void
gradcheck_run (LamGraph *g, int B, guint64 seed, const CheckOptions *opts)
{
  Check *c = check_new (g, B, seed, opts);
  check_backward (c);
  int bad = check_all (c);
  check_free (c);
  lam_graph_free (g);
  g_assert_cmpint (bad, ==, 0);
}
