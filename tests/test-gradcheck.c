/* test-gradcheck.c: central-difference checks of every layer kind's
 * input and parameter gradients on the CPU backend, plus determinism
 * of training across runs and thread counts.
 *
 * The checker (five-point stencil in double, exact perturbations, kink
 * handling for ReLU, LeakyReLU and MaxPool2D) is in gradcheck-common.c,
 * shared with test-seq.c; its header describes it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib.h>

#include "lam-backend.h"
#include "lam-graph.h"
#include "lam-net.h"
#include "lam-optim.h"

#include "gradcheck-common.h"

/* Graph building beyond gradcheck-common's */

static LamNode *
add_conv (LamGraph *g, const char *name, const char *from, int filters, int k, int stride,
          int pad, gboolean bias)
{
  LamNode *n = add (g, LAM_LAYER_CONV2D, name, from);
  n->p.filters = filters;
  n->p.kernel = k;
  n->p.stride = stride;
  n->p.padding = pad;
  n->p.bias = bias;
  return n;
}

static LamNode *
add_pool (LamGraph *g, LamLayerKind kind, const char *name, const char *from, int k, int stride,
          int pad)
{
  LamNode *n = add (g, kind, name, from);
  n->p.kernel = k;
  n->p.stride = stride;
  n->p.padding = pad;
  return n;
}

/* Builds, checks and frees: the common case. h > 0 replaces the default
 * step (layers with kinks want 1/512). */
static void
gradcheck_graph (LamGraph *g, int B, guint64 seed, double h)
{
  CheckOptions opts = { .h = h };
  gradcheck_run (g, B, seed, &opts);
}

/* Dense */

static void
test_dense (void)
{
  /* input → dense1 (bias) → dense2 (no bias) → xent: dense2's dx is
   * checked through dense1's parameters. */
  LamGraph *g = graph_with_input (6, 1, 1);
  add_dense (g, "dense1", "input", 5, TRUE);
  add_dense (g, "dense2", "dense1", 4, FALSE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense2");
  gradcheck_graph (g, 3, 1, 0);

  /* no bias first, bias second; an image input flattened by Dense itself */
  g = graph_with_input (2, 3, 4);
  add_dense (g, "dense1", "input", 5, FALSE);
  add_dense (g, "dense2", "dense1", 4, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense2");
  gradcheck_graph (g, 2, 2, 0);
}

/* lam_net_grad_ptr is d(mean loss)/d(output): Dense's weight gradient
 * must equal dyᵀ · x from it. */
static void
test_dense_grad_ptr (void)
{
  g_autoptr(LamGraph) g = graph_with_input (6, 1, 1);
  add_dense (g, "dense1", "input", 5, TRUE);
  add (g, LAM_LAYER_TANH, "tanh", "dense1");
  add_dense (g, "dense2", "tanh", 4, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense2");
  Check *c = check_new (g, 3, 3, NULL);
  check_backward (c);

  int node = lam_graph_index_of (lam_net_graph (c->net), "dense1");
  const float *dy = lam_net_grad_ptr (c->net, node);
  const float *x = lam_net_input (c->net);
  const LamTensorInfo *tw = lam_net_find_tensor (c->net, "dense1.weight");
  const LamTensorInfo *tb = lam_net_find_tensor (c->net, "dense1.bias");
  g_assert_nonnull (dy);
  g_assert_null (lam_net_grad_ptr (c->net, lam_graph_index_of (lam_net_graph (c->net), "input")));
  for (int o = 0; o < 5; o++)
    {
      double db = 0;
      for (int b = 0; b < 3; b++)
        db += dy[b * 5 + o];
      g_assert_cmpfloat_with_epsilon (c->ana[tb->offset + o], db, 1e-6);
      for (int i = 0; i < 6; i++)
        {
          double dw = 0;
          for (int b = 0; b < 3; b++)
            dw += (double) dy[b * 5 + o] * x[b * 6 + i];
          g_assert_cmpfloat_with_epsilon (c->ana[tw->offset + o * 6 + i], dw, 1e-6);
        }
    }
  check_free (c);
}

/* With Dense → ReLU fused into one op, lam_net_grad_ptr of the Dense
 * node is NULL (documented): its gradient is the ReLU node's, masked. */
static void
test_grad_ptr_fused (void)
{
  g_autoptr(LamGraph) g = graph_with_input (6, 1, 1);
  add_dense (g, "dense1", "input", 5, TRUE);
  add (g, LAM_LAYER_RELU, "relu", "dense1");
  add_dense (g, "dense2", "relu", 4, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense2");
  Check *c = check_new (g, 3, 4, NULL);
  check_backward (c);

  const LamGraph *cg = lam_net_graph (c->net);
  g_assert_null (lam_net_grad_ptr (c->net, lam_graph_index_of (cg, "dense1")));
  const float *dy = lam_net_grad_ptr (c->net, lam_graph_index_of (cg, "relu"));
  const float *y = lam_net_output_ptr (c->net, lam_graph_index_of (cg, "relu"));
  const LamTensorInfo *tb = lam_net_find_tensor (c->net, "dense1.bias");
  g_assert_nonnull (dy);
  for (int o = 0; o < 5; o++)
    {
      double db = 0;
      for (int b = 0; b < 3; b++)
        db += y[b * 5 + o] > 0 ? dy[b * 5 + o] : 0;
      g_assert_cmpfloat_with_epsilon (c->ana[tb->offset + o], db, 1e-6);
    }
  check_free (c);
}

/* Conv2D */

typedef struct {
  int C, H, W, filters, k, stride, pad;
} ConvCase;

static void
test_conv2d (void)
{
  static const ConvCase cases[] = {
    { 2, 5, 6, 3, 3, 1, 1 },   /* same padding */
    { 2, 7, 6, 3, 3, 2, 1 },   /* stride 2 with padding */
    { 3, 7, 7, 2, 3, 2, 0 },   /* stride 2, no padding */
    { 2, 6, 5, 3, 5, 1, 2 },   /* 5×5 kernel */
    { 3, 5, 6, 4, 1, 1, 0 },   /* 1×1 (the pointwise path) */
    { 2, 6, 7, 3, 1, 2, 0 },   /* 1×1 stride 2 (not pointwise) */
    { 2, 6, 6, 2, 2, 2, 0 },   /* 2×2 stride 2 */
    { 1, 5, 7, 2, 4, 3, 2 },   /* padding larger than stride, ragged edge */
    { 2, 4, 5, 3, 3, 1, 3 },   /* padding 3 > kernel / 2: all-zero border rows */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const ConvCase *cc = &cases[i];
      g_test_message ("Conv2D C=%d %dx%d filters=%d k=%d stride=%d pad=%d", cc->C, cc->H, cc->W,
                      cc->filters, cc->k, cc->stride, cc->pad);
      /* input → pre (3×3, bias) → conv → flatten → dense → xent */
      LamGraph *g = graph_with_input (cc->C, cc->H, cc->W);
      add_conv (g, "pre", "input", cc->C, 3, 1, 1, TRUE);
      add_conv (g, "conv", "pre", cc->filters, cc->k, cc->stride, cc->pad, i % 2 == 0);
      add_head (g, "conv", TRUE, 4, LAM_LAYER_SOFTMAX_XENT);
      gradcheck_graph (g, 2, 10 + i, 0);
    }
}

/* Conv2D as the first layer and with a 3×3 pre-layer (input gradient
 * through a spatial kernel). */
static void
test_conv2d_chain (void)
{
  LamGraph *g = graph_with_input (2, 6, 5);
  add_conv (g, "conv1", "input", 3, 3, 1, 1, TRUE);
  add_conv (g, "conv2", "conv1", 2, 3, 2, 1, TRUE);
  add_head (g, "conv2", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_graph (g, 3, 20, 0);
}

/* Pools */

typedef struct {
  int k, stride, pad;
} PoolCase;

static const PoolCase pool_cases[] = {
  { 2, 2, 0 },
  { 3, 2, 1 },
  { 3, 1, 1 },
  { 2, 2, 1 },
  { 3, 3, 0 },
  { 2, 1, 0 },
};

static void
pool_test (LamLayerKind kind, guint64 seed0)
{
  for (guint i = 0; i < G_N_ELEMENTS (pool_cases); i++)
    {
      const PoolCase *pc = &pool_cases[i];
      g_test_message ("%s k=%d stride=%d pad=%d", lam_layer_info (kind)->type_name, pc->k,
                      pc->stride, pc->pad);
      LamGraph *g = graph_with_input (2, 7, 6);
      add_conv (g, "pre", "input", 2, 3, 1, 1, TRUE);
      add_pool (g, kind, "pool", "pre", pc->k, pc->stride, pc->pad);
      add_head (g, "pool", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
      /* Max pool: a smaller step crosses fewer argmax changes. */
      gradcheck_graph (g, 2, seed0 + i, kind == LAM_LAYER_MAXPOOL2D ? 1.0 / 512 : 0);
    }
}

static void
test_maxpool2d (void)
{
  pool_test (LAM_LAYER_MAXPOOL2D, 30);
}

static void
test_avgpool2d (void)
{
  pool_test (LAM_LAYER_AVGPOOL2D, 40);
}

static void
test_globalavgpool (void)
{
  LamGraph *g = graph_with_input (2, 5, 6);
  add_conv (g, "pre", "input", 3, 3, 1, 1, TRUE);
  add (g, LAM_LAYER_GLOBALAVGPOOL, "gap", "pre");
  add_head (g, "gap", FALSE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_graph (g, 3, 50, 0);
}

static void
test_flatten (void)
{
  /* Flatten between two parameter layers, and a Flatten of a vector. */
  LamGraph *g = graph_with_input (2, 4, 5);
  add_conv (g, "pre", "input", 2, 3, 1, 0, TRUE);
  add (g, LAM_LAYER_FLATTEN, "flatten", "pre");
  add (g, LAM_LAYER_FLATTEN, "flatten2", "flatten");
  add_head (g, "flatten2", FALSE, 4, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_graph (g, 2, 51, 0);
}

/* Activations: input → dense → ACT → dense → xent, and an image version
 * (conv → ACT → flatten → dense). */

static void
act_test (LamLayerKind kind, float alpha, guint64 seed)
{
  gboolean kinked = kind == LAM_LAYER_RELU || kind == LAM_LAYER_LEAKYRELU;
  double h = kinked ? 1.0 / 512 : 0;
  LamGraph *g = graph_with_input (6, 1, 1);
  add_dense (g, "pre", "input", 8, TRUE);
  add (g, kind, "act", "pre")->p.alpha = alpha;
  add_dense (g, "post", "act", 4, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "post");
  gradcheck_graph (g, 3, seed, h);

  g = graph_with_input (2, 4, 5);
  add_conv (g, "pre", "input", 2, 3, 1, 1, TRUE);
  add (g, kind, "act", "pre")->p.alpha = alpha;
  add_head (g, "act", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_graph (g, 2, seed + 1, h);
}

static void
test_relu (void)
{
  /* Dense/Conv2D → ReLU runs fused; LAMINA_NO_FUSION=1 runs it as two ops. */
  act_test (LAM_LAYER_RELU, 0, 60);
  g_setenv ("LAMINA_NO_FUSION", "1", TRUE);
  act_test (LAM_LAYER_RELU, 0, 160);
  g_unsetenv ("LAMINA_NO_FUSION");

  /* ReLU after a pool and after an Add: never fused. */
  LamGraph *g = graph_with_input (2, 6, 5);
  add_conv (g, "pre", "input", 3, 3, 1, 1, TRUE);
  add_pool (g, LAM_LAYER_AVGPOOL2D, "avg", "pre", 2, 1, 0);
  add (g, LAM_LAYER_RELU, "relu", "avg");
  add_head (g, "relu", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_graph (g, 2, 162, 1.0 / 512);
}
static void test_leakyrelu (void) { act_test (LAM_LAYER_LEAKYRELU, 0.1f, 62); }
static void test_tanh (void) { act_test (LAM_LAYER_TANH, 0, 64); }
static void test_sigmoid (void) { act_test (LAM_LAYER_SIGMOID, 0, 66); }
static void test_gelu (void) { act_test (LAM_LAYER_GELU, 0, 68); }

static void
test_softmax (void)
{
  /* Softmax feeding MSE (SoftmaxCrossEntropy refuses a Softmax input). */
  LamGraph *g = graph_with_input (6, 1, 1);
  add_dense (g, "pre", "input", 5, TRUE);
  add (g, LAM_LAYER_SOFTMAX, "softmax", "pre");
  add (g, LAM_LAYER_MSE, "loss", "softmax");
  gradcheck_graph (g, 3, 70, 0);

  /* over an image's flattened values, with a layer after it */
  g = graph_with_input (2, 3, 3);
  add_conv (g, "pre", "input", 2, 3, 1, 1, TRUE);
  add (g, LAM_LAYER_SOFTMAX, "softmax", "pre");
  add_head (g, "softmax", TRUE, 3, LAM_LAYER_MSE);
  gradcheck_graph (g, 2, 71, 0);
}

static void
test_dropout (void)
{
  LamGraph *g = graph_with_input (6, 1, 1);
  add_dense (g, "pre", "input", 16, TRUE);
  add (g, LAM_LAYER_DROPOUT, "dropout", "pre")->p.rate = 0.3f;
  add_dense (g, "post", "dropout", 4, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "post");

  /* The mask is a function of the seed: some units are dropped, the
   * rest scaled by 1/(1-rate), and the same seed repeats it. */
  Check *c = check_new (g, 3, 80, NULL);
  int di = lam_graph_index_of (lam_net_graph (c->net), "dropout");
  int pi = lam_graph_index_of (lam_net_graph (c->net), "pre");
  float y1[48], y2[48];
  lam_net_forward (c->net, TRUE, c->seed);
  lam_net_read_output (c->net, di, y1);
  const float *x = lam_net_output_ptr (c->net, pi);
  int zeros = 0;
  for (int i = 0; i < 48; i++)
    {
      if (y1[i] == 0)
        zeros++;
      else
        g_assert_cmpfloat_with_epsilon (y1[i], x[i] / 0.7f, 1e-6);
    }
  g_assert_cmpint (zeros, >, 0);
  g_assert_cmpint (zeros, <, 48);
  lam_net_forward (c->net, TRUE, c->seed);
  lam_net_read_output (c->net, di, y2);
  g_assert_cmpmem (y1, sizeof y1, y2, sizeof y2);
  lam_net_forward (c->net, TRUE, c->seed + 1);
  lam_net_read_output (c->net, di, y2);
  g_assert_true (memcmp (y1, y2, sizeof y1) != 0);
  /* evaluation: the identity */
  lam_net_forward (c->net, FALSE, c->seed);
  lam_net_read_output (c->net, di, y2);
  g_assert_cmpmem (x, sizeof y2, y2, sizeof y2);
  check_free (c);

  gradcheck_graph (g, 3, 80, 0);
}

static void
test_batchnorm_image (void)
{
  /* input → conv (no bias: BatchNorm cancels it) → BN → tanh → flatten → dense */
  LamGraph *g = graph_with_input (2, 4, 5);
  add_conv (g, "pre", "input", 3, 3, 1, 1, FALSE);
  add (g, LAM_LAYER_BATCHNORM, "bn", "pre");
  add (g, LAM_LAYER_TANH, "tanh", "bn");
  add_head (g, "tanh", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_graph (g, 3, 90, 0);

  /* BN straight after the input (its γ/β only) and straight before the loss */
  g = graph_with_input (2, 3, 4);
  add (g, LAM_LAYER_BATCHNORM, "bn", "input");
  add_conv (g, "conv", "bn", 2, 3, 1, 0, TRUE);
  add (g, LAM_LAYER_BATCHNORM, "bn2", "conv");
  add (g, LAM_LAYER_FLATTEN, "flatten", "bn2");
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "flatten");
  gradcheck_graph (g, 2, 91, 0);
}

static void
test_batchnorm_vector (void)
{
  /* Per-feature statistics over the batch: needs a few samples. */
  LamGraph *g = graph_with_input (6, 1, 1);
  add_dense (g, "pre", "input", 5, FALSE);
  add (g, LAM_LAYER_BATCHNORM, "bn", "pre");
  add (g, LAM_LAYER_SIGMOID, "sig", "bn");
  add_dense (g, "post", "sig", 3, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "post");
  gradcheck_graph (g, 4, 92, 0);
}

static void
test_add (void)
{
  /* A residual block: "a" feeds both the branch and the Add (fan-out). */
  LamGraph *g = graph_with_input (2, 5, 5);
  add_conv (g, "a", "input", 3, 3, 1, 1, TRUE);
  add (g, LAM_LAYER_TANH, "t", "a");
  add_conv (g, "b", "t", 3, 3, 1, 1, TRUE);
  add (g, LAM_LAYER_ADD, "add", "a");
  lam_graph_connect (g, "b", "add");
  add_head (g, "add", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_graph (g, 2, 100, 0);

  /* Three inputs, one of them twice, and a node that feeds three
   * consumers (fan-out of 3 through scratch). */
  g = graph_with_input (5, 1, 1);
  add_dense (g, "a", "input", 4, TRUE);
  add (g, LAM_LAYER_SIGMOID, "s", "a");
  add_dense (g, "b", "s", 4, TRUE);
  add (g, LAM_LAYER_ADD, "add", "a");
  lam_graph_connect (g, "b", "add");
  lam_graph_connect (g, "a", "add");
  add (g, LAM_LAYER_GELU, "gelu", "add");
  add_dense (g, "post", "gelu", 3, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "post");
  gradcheck_graph (g, 3, 101, 0);
}

static void
test_concat (void)
{
  /* images: channels 2 + 3, the first also feeding the second */
  LamGraph *g = graph_with_input (2, 4, 5);
  add_conv (g, "a", "input", 2, 3, 1, 1, TRUE);
  add_conv (g, "b", "a", 3, 3, 1, 1, TRUE);
  add (g, LAM_LAYER_CONCAT, "cat", "a");
  lam_graph_connect (g, "b", "cat");
  add_conv (g, "mix", "cat", 2, 1, 1, 0, TRUE);
  add_head (g, "mix", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_graph (g, 2, 110, 0);

  /* vectors: three inputs, one repeated */
  g = graph_with_input (5, 1, 1);
  add_dense (g, "a", "input", 3, TRUE);
  add_dense (g, "b", "input", 4, TRUE);
  add (g, LAM_LAYER_CONCAT, "cat", "a");
  lam_graph_connect (g, "b", "cat");
  lam_graph_connect (g, "a", "cat");
  add_dense (g, "post", "cat", 3, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "post");
  gradcheck_graph (g, 3, 111, 0);
}

/* Losses: logits straight from a Dense layer. */
static void
test_xent (void)
{
  LamGraph *g = graph_with_input (4, 1, 1);
  add_dense (g, "logits", "input", 6, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "logits");
  gradcheck_graph (g, 4, 120, 0);

  /* two classes, batch 1 */
  g = graph_with_input (3, 1, 1);
  add_dense (g, "logits", "input", 2, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "logits");
  gradcheck_graph (g, 1, 121, 0);
}

static void
test_mse (void)
{
  LamGraph *g = graph_with_input (4, 1, 1);
  add_dense (g, "pred", "input", 5, TRUE);
  add (g, LAM_LAYER_MSE, "loss", "pred");
  gradcheck_graph (g, 4, 130, 0);

  g = graph_with_input (2, 3, 3);
  add_conv (g, "pre", "input", 2, 3, 1, 1, TRUE);
  add (g, LAM_LAYER_SIGMOID, "sig", "pre");
  add (g, LAM_LAYER_FLATTEN, "flat", "sig");
  add (g, LAM_LAYER_MSE, "loss", "flat");
  gradcheck_graph (g, 2, 131, 0);
}

/* A small residual network with every kind of merge, pool and norm. */
static void
test_mixed (void)
{
  LamGraph *g = graph_with_input (2, 6, 6);
  add_conv (g, "stem", "input", 4, 3, 1, 1, FALSE);
  add (g, LAM_LAYER_BATCHNORM, "bn1", "stem");
  add (g, LAM_LAYER_GELU, "g1", "bn1");
  add_conv (g, "c2", "g1", 4, 3, 1, 1, FALSE);
  add (g, LAM_LAYER_BATCHNORM, "bn2", "c2");
  add (g, LAM_LAYER_ADD, "res", "bn2");
  lam_graph_connect (g, "g1", "res");
  add_pool (g, LAM_LAYER_AVGPOOL2D, "avg", "res", 2, 2, 0);
  add_conv (g, "side", "avg", 2, 1, 1, 0, TRUE);
  add (g, LAM_LAYER_CONCAT, "cat", "avg");
  lam_graph_connect (g, "side", "cat");
  add (g, LAM_LAYER_GLOBALAVGPOOL, "gap", "cat");
  add (g, LAM_LAYER_DROPOUT, "drop", "gap")->p.rate = 0.2f;
  add_head (g, "drop", FALSE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_graph (g, 3, 140, 0);
}

/* The checker must be able to fail. */
static void
test_sanity (void)
{
  g_autoptr(LamGraph) g = graph_with_input (6, 1, 1);
  add_dense (g, "pre", "input", 5, TRUE);
  add (g, LAM_LAYER_TANH, "tanh", "pre");
  add_dense (g, "post", "tanh", 4, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "post");
  Check *c = check_new (g, 3, 150, NULL);
  const LamTensorInfo *tw = lam_net_find_tensor (c->net, "pre.weight");
  const LamTensorInfo *tb = lam_net_find_tensor (c->net, "post.bias");
  TensorResult r;

  check_backward (c);
  check_tensor (c, tw, &r);
  g_assert_true (tensor_ok (&r));
  check_tensor (c, tb, &r);
  g_assert_true (tensor_ok (&r));

  /* one element's sign flipped (post.bias has 4 elements: all checked) */
  gsize big = 0;
  for (gsize i = 1; i < tb->n; i++)
    if (fabs (c->ana[tb->offset + i]) > fabs (c->ana[tb->offset + big]))
      big = i;
  c->ana[tb->offset + big] = -c->ana[tb->offset + big];
  check_tensor (c, tb, &r);
  g_assert_false (tensor_ok (&r));
  g_assert_cmpuint (r.worst, ==, big);
  c->ana[tb->offset + big] = -c->ana[tb->offset + big];

  /* a whole tensor 5 % too large */
  for (gsize i = 0; i < tw->n; i++)
    c->ana[tw->offset + i] *= 1.05;
  check_tensor (c, tw, &r);
  g_assert_false (tensor_ok (&r));
  for (gsize i = 0; i < tw->n; i++)
    c->ana[tw->offset + i] /= 1.05;

  /* two elements swapped */
  double t = c->ana[tw->offset + 0];
  c->ana[tw->offset + 0] = c->ana[tw->offset + 7];
  c->ana[tw->offset + 7] = t;
  c->max_elems = (int) tw->n;
  check_tensor (c, tw, &r);
  g_assert_false (tensor_ok (&r));

  check_free (c);
}

/* Determinism */

static LamGraph *
small_conv_net (void)
{
  LamGraph *g = graph_with_input (3, 12, 12);
  add_conv (g, "conv1", "input", 8, 3, 1, 1, TRUE);
  add (g, LAM_LAYER_BATCHNORM, "bn1", "conv1");
  add (g, LAM_LAYER_RELU, "relu1", "bn1");
  add_pool (g, LAM_LAYER_MAXPOOL2D, "pool1", "relu1", 2, 2, 0);
  add_conv (g, "conv2", "pool1", 8, 3, 1, 1, TRUE);
  add (g, LAM_LAYER_RELU, "relu2", "conv2");
  add (g, LAM_LAYER_ADD, "res", "relu2");
  lam_graph_connect (g, "pool1", "res");
  add (g, LAM_LAYER_FLATTEN, "flat", "res");
  add_dense (g, "fc1", "flat", 32, TRUE);
  add (g, LAM_LAYER_DROPOUT, "drop", "fc1")->p.rate = 0.25f;
  add (g, LAM_LAYER_GELU, "gelu", "drop");
  add_dense (g, "fc2", "gelu", 10, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "fc2");
  return g;
}

/* Trains for a few SGD steps on fixed synthetic batches; returns the
 * parameters followed by the BatchNorm state. */
static float *
train_run (int n_threads, gsize *n_out)
{
  g_autoptr(LamGraph) g = small_conv_net ();
  g_autoptr(GError) error = NULL;
  LamBackend *be = lam_backend_new_cpu (n_threads);
  const int B = 16;
  LamNet *net = lam_net_new (g, be, B, &error);
  LamOptConfig cfg;

  g_assert_no_error (error);
  g_assert_cmpint (be->n_threads, ==, n_threads);
  lam_net_init_params (net, 7);
  lam_opt_config_init (&cfg);
  cfg.kind = LAM_OPT_SGD;
  cfg.lr = 0.05f;
  cfg.momentum = 0.9f;
  cfg.weight_decay = 1e-4f;
  LamOptimizer *opt = lam_optimizer_new (&cfg, be, lam_net_n_params (net));

  GRand *rand = g_rand_new_with_seed (99);
  gsize in_n = (gsize) B * 3 * 12 * 12;
  for (int step = 0; step < 4; step++)
    {
      float *x = lam_net_input (net);
      for (gsize i = 0; i < in_n; i++)
        x[i] = (float) g_rand_double_range (rand, -1, 1);
      for (int b = 0; b < B; b++)
        lam_net_labels (net)[b] = g_rand_int_range (rand, 0, 10);
      lam_net_stats_reset (net);
      lam_net_forward (net, TRUE, 1000 + step);
      lam_net_backward (net);
      g_assert_true (lam_optimizer_step (opt, lam_net_params (net), lam_net_grads (net), cfg.lr, &error));
      g_assert_no_error (error);
    }
  g_rand_free (rand);

  gsize np = lam_net_n_params (net), ns = lam_net_n_state (net);
  float *out = g_new (float, np + ns);
  lam_net_read_params (net, out);
  lam_net_read_state (net, out + np);
  *n_out = np + ns;
  for (gsize i = 0; i < np + ns; i++)
    g_assert_true (isfinite (out[i]));
  lam_optimizer_free (opt);
  lam_net_free (net);
  lam_backend_free (be);
  return out;
}

/* A training forward takes the loss's gradient with the loss, and the
 * backward starts from it: only from the forward just run. An eval
 * forward in between, with other labels, must be what the backward
 * differentiates; a second backward gives the first's gradients. */
static void
test_loss_gradient_reuse (void)
{
  g_autoptr(GError) error = NULL;
  LamGraph *g = graph_with_input (1, 6, 6);
  add (g, LAM_LAYER_FLATTEN, "flat", "input");
  add_dense (g, "fc1", "flat", 12, TRUE);
  add (g, LAM_LAYER_RELU, "relu", "fc1");
  add_dense (g, "fc2", "relu", 5, TRUE);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "fc2");
  LamBackend *be = lam_backend_new_cpu (1);
  const int B = 8;
  LamNet *net = lam_net_new (g, be, B, &error);
  g_assert_no_error (error);
  lam_net_init_params (net, 3);
  gsize np = lam_net_n_params (net);
  g_autofree float *want = g_new (float, np), *got = g_new (float, np);
  float *x = lam_net_input (net);
  for (int i = 0; i < B * 36; i++)
    x[i] = (float) sin (i * 0.37);
  gint32 *y = lam_net_labels (net);

  /* the reference: labels 2, a training forward and its backward */
  for (int b = 0; b < B; b++)
    y[b] = 2;
  lam_net_forward (net, TRUE, 1);
  lam_net_backward (net);
  memcpy (want, lam_net_grads (net), np * sizeof (float));
  lam_net_backward (net);
  g_assert_cmpmem (lam_net_grads (net), np * sizeof (float), want, np * sizeof (float));

  /* labels 4 for a training forward, then labels 2 for an evaluation
   * forward (the same activations: no dropout, no BatchNorm) */
  for (int b = 0; b < B; b++)
    y[b] = 4;
  lam_net_forward (net, TRUE, 1);
  for (int b = 0; b < B; b++)
    y[b] = 2;
  lam_net_forward (net, FALSE, 0);
  lam_net_backward (net);
  memcpy (got, lam_net_grads (net), np * sizeof (float));
  g_assert_cmpmem (got, np * sizeof (float), want, np * sizeof (float));

  lam_net_free (net);
  lam_backend_free (be);
  lam_graph_free (g);
}

static void
test_determinism_same_seed (void)
{
  for (int threads = 1; threads <= 2; threads++)
    {
      gsize n1, n2;
      g_autofree float *a = train_run (threads, &n1);
      g_autofree float *b = train_run (threads, &n2);
      g_assert_cmpuint (n1, ==, n2);
      g_assert_cmpmem (a, n1 * sizeof (float), b, n2 * sizeof (float));
    }
}

/* The CPU backend splits work into chunks that depend only on the job
 * (not on the thread count) and reduces partial sums in chunk order, so
 * any number of threads gives the same bits. The net above is large
 * enough at batch 16 for its convolutions to run in several chunks. */
static void
test_determinism_threads (void)
{
  gsize n1;
  g_autofree float *a = train_run (1, &n1);

  for (int threads = 2; threads <= 3; threads++)
    {
      gsize n2, differ = 0;
      g_autofree float *b = train_run (threads, &n2);
      double max_rel = 0;

      g_assert_cmpuint (n1, ==, n2);
      for (gsize i = 0; i < n1; i++)
        {
          if (memcmp (&a[i], &b[i], sizeof (float)) != 0)
            differ++;
          max_rel = MAX (max_rel, fabs (a[i] - b[i]) / MAX (fabs (a[i]), 1e-3));
        }
      g_test_message ("1 vs %d threads: %zu of %zu values differ, max relative difference %.3g",
                      threads, differ, n1, max_rel);
      g_assert_cmpmem (a, n1 * sizeof (float), b, n2 * sizeof (float));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/gradcheck/sanity", test_sanity);
  g_test_add_func ("/engine/layer/dense/grad", test_dense);
  g_test_add_func ("/engine/layer/dense/grad-ptr", test_dense_grad_ptr);
  g_test_add_func ("/engine/layer/dense/grad-ptr-fused", test_grad_ptr_fused);
  g_test_add_func ("/engine/layer/conv2d/grad", test_conv2d);
  g_test_add_func ("/engine/layer/conv2d/grad-chain", test_conv2d_chain);
  g_test_add_func ("/engine/layer/maxpool2d/grad", test_maxpool2d);
  g_test_add_func ("/engine/layer/avgpool2d/grad", test_avgpool2d);
  g_test_add_func ("/engine/layer/globalavgpool/grad", test_globalavgpool);
  g_test_add_func ("/engine/layer/flatten/grad", test_flatten);
  g_test_add_func ("/engine/layer/relu/grad", test_relu);
  g_test_add_func ("/engine/layer/leakyrelu/grad", test_leakyrelu);
  g_test_add_func ("/engine/layer/tanh/grad", test_tanh);
  g_test_add_func ("/engine/layer/sigmoid/grad", test_sigmoid);
  g_test_add_func ("/engine/layer/gelu/grad", test_gelu);
  g_test_add_func ("/engine/layer/softmax/grad", test_softmax);
  g_test_add_func ("/engine/layer/dropout/grad", test_dropout);
  g_test_add_func ("/engine/layer/batchnorm/grad-image", test_batchnorm_image);
  g_test_add_func ("/engine/layer/batchnorm/grad-vector", test_batchnorm_vector);
  g_test_add_func ("/engine/layer/add/grad", test_add);
  g_test_add_func ("/engine/layer/concat/grad", test_concat);
  g_test_add_func ("/engine/loss/softmax-xent/grad", test_xent);
  g_test_add_func ("/engine/loss/mse/grad", test_mse);
  g_test_add_func ("/engine/net/mixed/grad", test_mixed);
  g_test_add_func ("/engine/net/loss-gradient-reuse", test_loss_gradient_reuse);
  g_test_add_func ("/engine/net/determinism/same-seed", test_determinism_same_seed);
  g_test_add_func ("/engine/net/determinism/threads", test_determinism_threads);

  return g_test_run ();
}
