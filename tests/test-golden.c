/* test-golden.c: training steps against PyTorch reference runs.
 *
 * bench/golden/make_golden.py wrote the golden files with PyTorch (in
 * float64, from float32 weights and inputs): the initial weights, a
 * batch, the loss before each of 3 optimizer steps, the gradients at
 * step 1 and the weights (and BatchNorm statistics) after the last step.
 * The file format is described in that script. This test repeats the
 * run with the CPU backend and compares.
 *
 *  - golden-lenet5.bin: resources/presets/lenet5.json, SGD with momentum.
 *  - golden-resblock.bin: Conv2D → BatchNorm → GELU → residual Add →
 *    Dropout(0) → AvgPool2D → GlobalAvgPool → Dense, AdamW.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib.h>

#include "lam-backend.h"
#include "lam-graph.h"
#include "lam-model-file.h"
#include "lam-net.h"
#include "lam-optim.h"

/* Tolerances against the float64 reference. Losses: relative. Tensors:
 * the largest error relative to the tensor's largest magnitude, and the
 * normalised mean squared error. */
#define LOSS_TOL   1e-5
#define MAXERR_TOL 1e-5
#define NMSE_TOL   1e-10

typedef struct {
  char    *name;
  gboolean trainable;
  int      ndim;
  int      shape[4];
  gsize    n;
  guint    stride;
  gsize    n_stored;      /* ceil (n / stride) */
  gsize    offset;        /* into init_params or init_state */
  gsize    stored_offset; /* into grads (trainable) and final */
} GoldTensor;

typedef struct {
  GArray     *tensors;    /* GoldTensor */
  int         B, C, H, W, n_steps;
  guint       opt_kind;   /* 0 SGD, 1 AdamW */
  float       lr, momentum, weight_decay, beta1, beta2, eps;
  gsize       n_params, n_state, n_grads_stored, n_final_stored;
  float      *init;       /* n_params + n_state */
  float      *inputs;
  gint32     *labels;
  double     *losses;
  float      *grads;      /* strided, trainable tensors */
  float      *final;      /* strided, all tensors */
} Golden;

typedef struct {
  const guint8 *p, *end;
} Cursor;

static const void *
take (Cursor *c, gsize n)
{
  g_assert_cmpuint ((gsize) (c->end - c->p), >=, n);
  const void *r = c->p;
  c->p += n;
  return r;
}

static guint32
take_u32 (Cursor *c)
{
  guint32 v;
  memcpy (&v, take (c, 4), 4);
  return GUINT32_FROM_LE (v);
}

static float
take_f32 (Cursor *c)
{
  guint32 v = take_u32 (c);
  float f;
  memcpy (&f, &v, 4);
  return f;
}

/* A copy of an array of n little-endian 4- or 8-byte elements (the
 * file's arrays are not aligned). */
static gpointer
take_array (Cursor *c, gsize n, gsize elem)
{
  g_assert_true (G_BYTE_ORDER == G_LITTLE_ENDIAN);
  g_assert_cmpuint (n, <, G_MAXSIZE / elem);
  return g_memdup2 (take (c, n * elem), MAX (n * elem, 1));
}

static void
golden_free (Golden *g)
{
  for (guint i = 0; i < g->tensors->len; i++)
    g_free (g_array_index (g->tensors, GoldTensor, i).name);
  g_array_unref (g->tensors);
  g_free (g->init);
  g_free (g->inputs);
  g_free (g->labels);
  g_free (g->losses);
  g_free (g->grads);
  g_free (g->final);
  g_free (g);
}

/* $LAMINA_SOURCE_DIR/tests (as meson test sets it), G_TEST_SRCDIR, or
 * the source tree the test was built from. */
static char *
golden_path (const char *name)
{
  const char *src = g_getenv ("LAMINA_SOURCE_DIR");
  if (src != NULL && *src != '\0')
    return g_build_filename (src, "tests", name, NULL);
  if (g_getenv ("G_TEST_SRCDIR") != NULL)
    return g_test_build_filename (G_TEST_DIST, name, NULL);
  return g_build_filename (LAM_SOURCE_DIR, "tests", name, NULL);
}

static Golden *
golden_load (const char *name)
{
  g_autofree char *path = golden_path (name);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  Golden *g = g_new0 (Golden, 1);

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g->tensors = g_array_new (FALSE, TRUE, sizeof (GoldTensor));

  Cursor c = { (const guint8 *) contents, (const guint8 *) contents + len };
  g_assert_cmpmem (take (&c, 8), 8, "LAMGOLD1", 8);
  g_assert_cmpuint (take_u32 (&c), ==, 1);
  guint n_tensors = take_u32 (&c);
  g_assert_cmpuint (n_tensors, >, 0);
  g_assert_cmpuint (n_tensors, <, 1000);
  for (guint i = 0; i < n_tensors; i++)
    {
      GoldTensor t = { 0 };
      guint32 name_len = take_u32 (&c);
      g_assert_cmpuint (name_len, <, 256);
      t.name = g_strndup (take (&c, name_len), name_len);
      t.trainable = take_u32 (&c) != 0;
      t.ndim = (int) take_u32 (&c);
      g_assert_cmpint (t.ndim, >=, 1);
      g_assert_cmpint (t.ndim, <=, 4);
      t.n = 1;
      for (int d = 0; d < t.ndim; d++)
        {
          t.shape[d] = (int) take_u32 (&c);
          t.n *= t.shape[d];
        }
      t.stride = take_u32 (&c);
      g_assert_cmpuint (t.stride, >=, 1);
      t.n_stored = (t.n + t.stride - 1) / t.stride;
      if (t.trainable)
        {
          /* trainable tensors come first, as in Lamina */
          g_assert_cmpuint (g->n_state, ==, 0);
          t.offset = g->n_params;
          t.stored_offset = g->n_grads_stored;
          g->n_params += t.n;
          g->n_grads_stored += t.n_stored;
        }
      else
        {
          t.offset = g->n_state;
          g->n_state += t.n;
        }
      g->n_final_stored += t.n_stored;
      g_array_append_val (g->tensors, t);
    }
  /* final values are stored for every tensor, trainable first */
  gsize fo = 0;
  for (guint i = 0; i < n_tensors; i++)
    {
      GoldTensor *t = &g_array_index (g->tensors, GoldTensor, i);
      if (t->trainable)
        {
          g_assert_cmpuint (t->stored_offset, ==, fo);
        }
      else
        t->stored_offset = fo;
      fo += t->n_stored;
    }

  g->B = (int) take_u32 (&c);
  g->C = (int) take_u32 (&c);
  g->H = (int) take_u32 (&c);
  g->W = (int) take_u32 (&c);
  g->n_steps = (int) take_u32 (&c);
  g_assert_cmpint (g->n_steps, >=, 1);
  g->opt_kind = take_u32 (&c);
  g->lr = take_f32 (&c);
  g->momentum = take_f32 (&c);
  g->weight_decay = take_f32 (&c);
  g->beta1 = take_f32 (&c);
  g->beta2 = take_f32 (&c);
  g->eps = take_f32 (&c);

  g->init = take_array (&c, g->n_params + g->n_state, 4);
  g->inputs = take_array (&c, (gsize) g->B * g->C * g->H * g->W, 4);
  g->labels = take_array (&c, g->B, 4);
  g->losses = take_array (&c, g->n_steps, 8);
  g->grads = take_array (&c, g->n_grads_stored, 4);
  g->final = take_array (&c, g->n_final_stored, 4);
  g_assert_true (c.p == c.end);
  return g;
}

/* Compares Lamina's values of tensor t (complete, from its block) with
 * the golden strided ones. Returns FALSE (with a message) when off. */
static gboolean
compare_tensor (const char *what, const GoldTensor *t, const float *mine, const float *gold)
{
  double se = 0, sg = 0, max_err = 0, scale = 0;
  gsize worst = 0;

  for (gsize k = 0; k < t->n_stored; k++)
    scale = MAX (scale, fabs (gold[k]));
  for (gsize k = 0; k < t->n_stored; k++)
    {
      double a = mine[k * t->stride], b = gold[k];
      double e = fabs (a - b);
      if (!(e <= max_err))
        {
          max_err = e;
          worst = k * t->stride;
        }
      se += (a - b) * (a - b);
      sg += b * b;
    }
  double rel = max_err / MAX (scale, 1e-12);
  double nmse = se / MAX (sg, 1e-30);
  gboolean ok = rel < MAXERR_TOL && nmse < NMSE_TOL;
  g_test_message ("%-6s %-18s max err %.2e (of %.3g)  nmse %.2e%s", what, t->name, rel, scale,
                  nmse, ok ? "" : "  FAIL");
  if (!ok)
    g_test_message ("  worst: %s[%zu] lamina %.9g golden %.9g", t->name, worst,
                    mine[worst], gold[worst / t->stride]);
  return ok;
}

/* Runs the golden steps on net; returns the number of mismatches. */
static int
run_golden (const Golden *gd, LamNet *net)
{
  g_autoptr(GError) error = NULL;
  int bad = 0;

  /* The tensors, in Lamina's order, with the file's names and shapes. */
  g_assert_cmpuint (lam_net_n_tensors (net), ==, gd->tensors->len);
  g_assert_cmpuint (lam_net_n_params (net), ==, gd->n_params);
  g_assert_cmpuint (lam_net_n_state (net), ==, gd->n_state);
  for (guint i = 0; i < gd->tensors->len; i++)
    {
      const GoldTensor *t = &g_array_index (gd->tensors, GoldTensor, i);
      const LamTensorInfo *ti = lam_net_tensor (net, i);
      g_assert_cmpstr (ti->name, ==, t->name);
      g_assert_cmpint (ti->trainable, ==, t->trainable);
      g_assert_cmpint (ti->ndim, ==, t->ndim);
      for (int d = 0; d < t->ndim; d++)
        g_assert_cmpint (ti->shape[d], ==, t->shape[d]);
      g_assert_cmpuint (ti->offset, ==, t->offset);
    }

  lam_net_write_params (net, gd->init);
  lam_net_write_state (net, gd->init + gd->n_params);
  gsize in_n = (gsize) gd->B * gd->C * gd->H * gd->W;
  memcpy (lam_net_input (net), gd->inputs, in_n * sizeof (float));
  memcpy (lam_net_labels (net), gd->labels, gd->B * sizeof (gint32));

  LamOptConfig cfg;
  lam_opt_config_init (&cfg);
  cfg.kind = gd->opt_kind == 0 ? LAM_OPT_SGD : LAM_OPT_ADAMW;
  cfg.lr = gd->lr;
  cfg.momentum = gd->momentum;
  cfg.weight_decay = gd->weight_decay;
  cfg.beta1 = gd->beta1;
  cfg.beta2 = gd->beta2;
  cfg.eps = gd->eps;
  g_assert_true (lam_opt_config_check (&cfg, &error));
  g_assert_no_error (error);
  LamOptimizer *opt = lam_optimizer_new (&cfg, lam_net_backend (net), lam_net_n_params (net));

  for (int step = 0; step < gd->n_steps; step++)
    {
      double loss_sum = 0, correct = 0;
      lam_net_stats_reset (net);
      lam_net_forward (net, TRUE, 1 + step);
      lam_net_stats_read (net, &loss_sum, &correct);
      double loss = loss_sum / gd->B, want = gd->losses[step];
      double rel = fabs (loss - want) / fabs (want);
      g_test_message ("step %d loss %.9f golden %.9f  rel err %.2e%s", step + 1, loss, want, rel,
                      rel < LOSS_TOL ? "" : "  FAIL");
      bad += !(rel < LOSS_TOL);

      lam_net_backward (net);
      if (step == 0)
        {
          const float *grads = lam_net_grads (net);
          for (guint i = 0; i < gd->tensors->len; i++)
            {
              const GoldTensor *t = &g_array_index (gd->tensors, GoldTensor, i);
              if (t->trainable)
                bad += !compare_tensor ("grad", t, grads + t->offset, gd->grads + t->stored_offset);
            }
        }
      g_assert_true (lam_optimizer_step (opt, lam_net_params (net), lam_net_grads (net), cfg.lr,
                                         &error));
      g_assert_no_error (error);
    }

  g_autofree float *params = g_new (float, MAX (gd->n_params, 1));
  g_autofree float *state = g_new (float, MAX (gd->n_state, 1));
  lam_net_read_params (net, params);
  lam_net_read_state (net, state);
  for (guint i = 0; i < gd->tensors->len; i++)
    {
      const GoldTensor *t = &g_array_index (gd->tensors, GoldTensor, i);
      const float *mine = (t->trainable ? params : state) + t->offset;
      bad += !compare_tensor ("final", t, mine, gd->final + t->stored_offset);
    }
  lam_optimizer_free (opt);
  return bad;
}

static void
lenet5_run (int n_threads, gboolean fusion)
{
  g_autoptr(GError) error = NULL;
  Golden *gd = golden_load ("golden-lenet5.bin");
  g_autoptr(LamModelFile) model = lam_model_file_load_preset ("lenet5", &error);
  g_assert_no_error (error);

  g_assert_cmpint (gd->B, ==, 8);
  g_assert_cmpint (gd->C, ==, 1);
  g_assert_cmpint (gd->H, ==, 28);
  g_assert_cmpint (gd->W, ==, 28);
  g_assert_cmpint (gd->n_steps, ==, 3);
  g_assert_cmpuint (gd->opt_kind, ==, 0);
  g_assert_cmpfloat (gd->lr, ==, 0.05f);
  g_assert_cmpfloat (gd->momentum, ==, 0.9f);
  /* the preset trains with the same kind of optimizer (its learning rate
   * is tuned separately; the golden run uses its own) */
  g_assert_cmpint (model->config.opt.kind, ==, LAM_OPT_SGD);
  g_assert_cmpfloat (model->config.opt.momentum, ==, 0.9f);

  if (!fusion)
    g_setenv ("LAMINA_NO_FUSION", "1", TRUE);
  LamBackend *be = lam_backend_new_cpu (n_threads);
  LamNet *net = lam_net_new (model->graph, be, gd->B, &error);
  g_unsetenv ("LAMINA_NO_FUSION");
  g_assert_no_error (error);

  int bad = run_golden (gd, net);
  lam_net_free (net);
  lam_backend_free (be);
  golden_free (gd);
  g_assert_cmpint (bad, ==, 0);
}

static void test_lenet5 (void) { lenet5_run (1, TRUE); }

/* The comparison can fail: a run with another momentum is caught. */
static void
test_detects_mismatch (void)
{
  g_autoptr(GError) error = NULL;
  Golden *gd = golden_load ("golden-lenet5.bin");
  g_autoptr(LamModelFile) model = lam_model_file_load_preset ("lenet5", &error);
  g_assert_no_error (error);
  LamBackend *be = lam_backend_new_cpu (1);
  LamNet *net = lam_net_new (model->graph, be, gd->B, &error);
  g_assert_no_error (error);

  gd->momentum = 0.85f;
  int bad = run_golden (gd, net);
  g_test_message ("%d mismatches, as expected", bad);
  g_assert_cmpint (bad, >, 0);
  lam_net_free (net);
  lam_backend_free (be);
  golden_free (gd);
}
static void test_lenet5_unfused (void) { lenet5_run (1, FALSE); }
static void test_lenet5_threads (void) { lenet5_run (2, TRUE); }

/* The graph make_golden.py's ResBlock mirrors. */
static LamGraph *
resblock_graph (void)
{
  LamGraph *g = lam_graph_new ();
  LamNode *n;

  n = lam_graph_add_node (g, LAM_LAYER_INPUT, "input");
  n->p.channels = 3;
  n->p.height = 8;
  n->p.width = 8;
  n = lam_graph_add_node (g, LAM_LAYER_CONV2D, "stem");
  n->p.filters = 8;
  n->p.kernel = 3;
  n->p.stride = 1;
  n->p.padding = 1;
  n->p.bias = 0;
  lam_graph_connect (g, "input", "stem");
  n = lam_graph_add_node (g, LAM_LAYER_BATCHNORM, "bn1");
  n->p.eps = 1e-5f;
  n->p.momentum = 0.1f;
  lam_graph_connect (g, "stem", "bn1");
  lam_graph_add_node (g, LAM_LAYER_GELU, "gelu1");
  lam_graph_connect (g, "bn1", "gelu1");
  n = lam_graph_add_node (g, LAM_LAYER_CONV2D, "c2");
  n->p.filters = 8;
  n->p.kernel = 3;
  n->p.stride = 1;
  n->p.padding = 1;
  n->p.bias = 0;
  lam_graph_connect (g, "gelu1", "c2");
  n = lam_graph_add_node (g, LAM_LAYER_BATCHNORM, "bn2");
  n->p.eps = 1e-5f;
  n->p.momentum = 0.1f;
  lam_graph_connect (g, "c2", "bn2");
  lam_graph_add_node (g, LAM_LAYER_ADD, "add");
  lam_graph_connect (g, "bn2", "add");
  lam_graph_connect (g, "gelu1", "add");
  lam_graph_add_node (g, LAM_LAYER_GELU, "gelu2");
  lam_graph_connect (g, "add", "gelu2");
  n = lam_graph_add_node (g, LAM_LAYER_DROPOUT, "drop");
  n->p.rate = 0;
  lam_graph_connect (g, "gelu2", "drop");
  n = lam_graph_add_node (g, LAM_LAYER_AVGPOOL2D, "pool");
  n->p.kernel = 2;
  n->p.stride = 2;
  n->p.padding = 0;
  lam_graph_connect (g, "drop", "pool");
  lam_graph_add_node (g, LAM_LAYER_GLOBALAVGPOOL, "gap");
  lam_graph_connect (g, "pool", "gap");
  n = lam_graph_add_node (g, LAM_LAYER_DENSE, "head");
  n->p.units = 10;
  n->p.bias = 1;
  lam_graph_connect (g, "gap", "head");
  lam_graph_add_node (g, LAM_LAYER_SOFTMAX_XENT, "loss");
  lam_graph_connect (g, "head", "loss");
  return g;
}

static void
test_resblock (void)
{
  g_autoptr(GError) error = NULL;
  Golden *gd = golden_load ("golden-resblock.bin");
  g_autoptr(LamGraph) graph = resblock_graph ();

  g_assert_cmpuint (gd->opt_kind, ==, 1);
  g_assert_cmpint (gd->C, ==, 3);
  g_assert_cmpint (gd->H, ==, 8);
  g_assert_cmpint (gd->W, ==, 8);
  LamBackend *be = lam_backend_new_cpu (1);
  LamNet *net = lam_net_new (graph, be, gd->B, &error);
  g_assert_no_error (error);

  int bad = run_golden (gd, net);
  lam_net_free (net);
  lam_backend_free (be);
  golden_free (gd);
  g_assert_cmpint (bad, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/golden/lenet5", test_lenet5);
  g_test_add_func ("/engine/golden/lenet5-unfused", test_lenet5_unfused);
  g_test_add_func ("/engine/golden/lenet5-2-threads", test_lenet5_threads);
  g_test_add_func ("/engine/golden/resblock-adamw", test_resblock);
  g_test_add_func ("/engine/golden/detects-mismatch", test_detects_mismatch);

  return g_test_run ();
}
