/* test-graph.c: the layer table, graph editing and lam_graph_validate():
 * inferred shapes, parameter counts and FLOPs of valid graphs, and the
 * exact message (and the node it marks) for every kind of invalid graph.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "test-graph"

#include <math.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include <glib.h>

#include "lam-graph.h"

/* ------------------------------------------------------------------ */
/* Helpers */

/* Adds a node with up to two inputs (NULL: none). Inputs are appended
 * directly so that duplicate names and dangling references can be made. */
static LamNode *
add (LamGraph *g, LamLayerKind kind, const char *name, const char *in1, const char *in2)
{
  LamNode *n = lam_graph_add_node (g, kind, name);
  g_assert_nonnull (n);
  if (in1)
    g_ptr_array_add (n->inputs, g_strdup (in1));
  if (in2)
    g_ptr_array_add (n->inputs, g_strdup (in2));
  return n;
}

static LamNode *
add_input (LamGraph *g, const char *name, int c, int h, int w)
{
  LamNode *n = add (g, LAM_LAYER_INPUT, name, NULL, NULL);
  n->p.channels = c;
  n->p.height = h;
  n->p.width = w;
  return n;
}

static LamNode *
add_dense (LamGraph *g, const char *name, const char *in, int units)
{
  LamNode *n = add (g, LAM_LAYER_DENSE, name, in, NULL);
  n->p.units = units;
  return n;
}

static LamNode *
add_conv (LamGraph *g, const char *name, const char *in, int filters, int k, int s, int p)
{
  LamNode *n = add (g, LAM_LAYER_CONV2D, name, in, NULL);
  n->p.filters = filters;
  n->p.kernel = k;
  n->p.stride = s;
  n->p.padding = p;
  return n;
}

static LamNode *
add_pool (LamGraph *g, LamLayerKind kind, const char *name, const char *in, int k, int s, int p)
{
  LamNode *n = add (g, kind, name, in, NULL);
  n->p.kernel = k;
  n->p.stride = s;
  n->p.padding = p;
  return n;
}

static void
check_node (const LamGraph *g, const char *name, int rank, int d0, int d1, int d2,
            gint64 n_params, gint64 flops)
{
  LamNode *n = lam_graph_find (g, name);
  g_assert_nonnull (n);
  if (n->error)
    g_test_message ("node %s: %s", name, n->error);
  g_assert_null (n->error);
  g_assert_cmpint (n->out_shape.rank, ==, rank);
  g_assert_cmpint (n->out_shape.d[0], ==, d0);
  if (rank == 3)
    {
      g_assert_cmpint (n->out_shape.d[1], ==, d1);
      g_assert_cmpint (n->out_shape.d[2], ==, d2);
    }
  g_assert_cmpint (n->n_params, ==, n_params);
  g_assert_cmpint (n->flops, ==, flops);
}

static int
count_node_errors (const LamGraph *g)
{
  int c = 0;
  for (guint i = 0; i < g->nodes->len; i++)
    if (((LamNode *) g_ptr_array_index (g->nodes, i))->error)
      c++;
  return c;
}

/* Validation must fail with exactly `message`. With `bad` it must be
 * "node \"NAME\": NODE_MSG", bad->error must be NODE_MSG and no other node
 * may be marked; without it no node is marked. */
static void
expect_invalid_full (LamGraph *g, LamNode *bad, const char *node_msg, const char *graph_msg)
{
  g_autoptr(GError) error = NULL;
  g_assert_false (lam_graph_validate (g, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH);
  if (bad != NULL)
    {
      g_autofree char *full = g_strdup_printf ("node \"%s\": %s", bad->name, node_msg);
      g_assert_cmpstr (error->message, ==, full);
      g_assert_cmpstr (bad->error, ==, node_msg);
      g_assert_cmpint (bad->out_shape.rank, ==, 0);
      for (guint i = 0; i < g->nodes->len; i++)
        {
          LamNode *n = g_ptr_array_index (g->nodes, i);
          if (n != bad && n->error)
            g_test_message ("unexpected error on %s: %s", n->name, n->error);
        }
      g_assert_cmpint (count_node_errors (g), ==, 1);
    }
  else
    {
      g_assert_cmpstr (error->message, ==, graph_msg);
      g_assert_cmpint (count_node_errors (g), ==, 0);
    }

  /* Validating without a GError must give the same verdict. */
  g_assert_false (lam_graph_validate (g, NULL));
}

static void
expect_invalid (LamGraph *g, LamNode *bad, const char *node_msg)
{
  expect_invalid_full (g, bad, node_msg, NULL);
}

static void
expect_valid (LamGraph *g)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = lam_graph_validate (g, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (count_node_errors (g), ==, 0);
}

/* input (vector of n) -> dense1 -> relu1 -> dense2 -> loss */
static LamGraph *
small_mlp (int n_in, int hidden, int n_out)
{
  LamGraph *g = lam_graph_new ();
  add_input (g, "input", n_in, 1, 1);
  add_dense (g, "dense1", "input", hidden);
  add (g, LAM_LAYER_RELU, "relu1", "dense1", NULL);
  add_dense (g, "dense2", "relu1", n_out);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense2", NULL);
  return g;
}

/* ------------------------------------------------------------------ */
/* Valid graphs */

static void
test_valid_mlp (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 1, 28, 28);
  add (g, LAM_LAYER_FLATTEN, "flatten", "input", NULL);
  add_dense (g, "dense1", "flatten", 256);
  add (g, LAM_LAYER_RELU, "relu1", "dense1", NULL);
  add_dense (g, "dense2", "relu1", 128);
  add (g, LAM_LAYER_RELU, "relu2", "dense2", NULL);
  add_dense (g, "dense3", "relu2", 10);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense3", NULL);
  expect_valid (g);

  check_node (g, "input", 3, 1, 28, 28, 0, 0);
  check_node (g, "flatten", 1, 784, 1, 1, 0, 0);
  check_node (g, "dense1", 1, 256, 1, 1, 784 * 256 + 256, 2 * 784 * 256);
  check_node (g, "relu1", 1, 256, 1, 1, 0, 256);
  check_node (g, "dense2", 1, 128, 1, 1, 256 * 128 + 128, 2 * 256 * 128);
  check_node (g, "relu2", 1, 128, 1, 1, 0, 128);
  check_node (g, "dense3", 1, 10, 1, 1, 128 * 10 + 10, 2 * 128 * 10);
  check_node (g, "loss", 1, 1, 1, 1, 0, 4 * 10);
  g_assert_cmpint (g->total_params, ==, 235146);
  g_assert_cmpint (g->total_flops, ==, 401408 + 256 + 65536 + 128 + 2560 + 40);

  g_assert_true (lam_graph_input_node (g) == lam_graph_find (g, "input"));
  g_assert_true (lam_graph_loss_node (g) == lam_graph_find (g, "loss"));

  /* Without bias the Dense layers lose their bias parameters. */
  lam_graph_find (g, "dense1")->p.bias = 0;
  expect_valid (g);
  check_node (g, "dense1", 1, 256, 1, 1, 784 * 256, 2 * 784 * 256);
  g_assert_cmpint (g->total_params, ==, 235146 - 256);
}

static void
test_valid_lenet (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 1, 28, 28);
  add_conv (g, "conv1", "input", 6, 5, 1, 2);
  add (g, LAM_LAYER_RELU, "relu1", "conv1", NULL);
  add_pool (g, LAM_LAYER_MAXPOOL2D, "pool1", "relu1", 2, 2, 0);
  add_conv (g, "conv2", "pool1", 16, 5, 1, 0);
  add (g, LAM_LAYER_RELU, "relu2", "conv2", NULL);
  add_pool (g, LAM_LAYER_MAXPOOL2D, "pool2", "relu2", 2, 2, 0);
  add (g, LAM_LAYER_FLATTEN, "flatten", "pool2", NULL);
  add_dense (g, "dense1", "flatten", 120);
  add (g, LAM_LAYER_RELU, "relu3", "dense1", NULL);
  add_dense (g, "dense2", "relu3", 84);
  add (g, LAM_LAYER_RELU, "relu4", "dense2", NULL);
  add_dense (g, "dense3", "relu4", 10);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense3", NULL);
  expect_valid (g);

  check_node (g, "input", 3, 1, 28, 28, 0, 0);
  /* 6 filters of 1×5×5, output 6×28×28: 2·6·28·28·25 */
  check_node (g, "conv1", 3, 6, 28, 28, 6 * 25 + 6, 235200);
  check_node (g, "relu1", 3, 6, 28, 28, 0, 4704);
  check_node (g, "pool1", 3, 6, 14, 14, 0, 6 * 14 * 14 * 4);
  /* 16 filters of 6×5×5, output 16×10×10: 2·16·10·10·6·25 */
  check_node (g, "conv2", 3, 16, 10, 10, 16 * 6 * 25 + 16, 480000);
  check_node (g, "relu2", 3, 16, 10, 10, 0, 1600);
  check_node (g, "pool2", 3, 16, 5, 5, 0, 16 * 5 * 5 * 4);
  check_node (g, "flatten", 1, 400, 1, 1, 0, 0);
  check_node (g, "dense1", 1, 120, 1, 1, 400 * 120 + 120, 2 * 400 * 120);
  check_node (g, "relu3", 1, 120, 1, 1, 0, 120);
  check_node (g, "dense2", 1, 84, 1, 1, 120 * 84 + 84, 2 * 120 * 84);
  check_node (g, "relu4", 1, 84, 1, 1, 0, 84);
  check_node (g, "dense3", 1, 10, 1, 1, 84 * 10 + 10, 2 * 84 * 10);
  check_node (g, "loss", 1, 1, 1, 1, 0, 40);
  g_assert_cmpint (g->total_params, ==, 61706);
  g_assert_cmpint (g->total_flops, ==, 845892);

  /* Stride and padding: conv 3×3 stride 2 pad 1 on 28×28 gives 14×14;
   * average pooling 3 stride 2 pad 1 on 14×14 gives 7×7. */
  LamNode *c1 = lam_graph_find (g, "conv1");
  c1->p.kernel = 3;
  c1->p.stride = 2;
  c1->p.padding = 1;
  LamNode *p1 = lam_graph_find (g, "pool1");
  p1->kind = LAM_LAYER_AVGPOOL2D;
  p1->p.kernel = 3;
  p1->p.padding = 1;
  LamNode *c2 = lam_graph_find (g, "conv2");
  c2->p.kernel = 3;
  c2->p.padding = 1;
  expect_valid (g);
  check_node (g, "conv1", 3, 6, 14, 14, 6 * 9 + 6, 2 * 6 * 14 * 14 * 9);
  check_node (g, "pool1", 3, 6, 7, 7, 0, 6 * 7 * 7 * 9);
  check_node (g, "conv2", 3, 16, 7, 7, 16 * 6 * 9 + 16, 2 * 16 * 7 * 7 * 6 * 9);
  check_node (g, "pool2", 3, 16, 3, 3, 0, 16 * 3 * 3 * 4);
  check_node (g, "flatten", 1, 144, 1, 1, 0, 0);
}

/* Merges, normalisation, global pooling, a vector input and an MSE loss. */
static void
test_valid_branches (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 3, 8, 8);
  add_conv (g, "a", "input", 4, 3, 1, 1);
  add_conv (g, "b", "input", 4, 1, 1, 0);
  add (g, LAM_LAYER_ADD, "sum", "a", "b");
  add (g, LAM_LAYER_CONCAT, "cat", "sum", "a");
  add (g, LAM_LAYER_BATCHNORM, "bn", "cat", NULL);
  add_pool (g, LAM_LAYER_AVGPOOL2D, "pool", "bn", 2, 2, 0);
  add (g, LAM_LAYER_GLOBALAVGPOOL, "gap", "pool", NULL);
  add (g, LAM_LAYER_DROPOUT, "drop", "gap", NULL);
  add_dense (g, "out", "drop", 3);
  add (g, LAM_LAYER_MSE, "loss", "out", NULL);
  expect_valid (g);

  check_node (g, "a", 3, 4, 8, 8, 4 * 3 * 9 + 4, 2 * 4 * 64 * 3 * 9);
  check_node (g, "b", 3, 4, 8, 8, 4 * 3 + 4, 2 * 4 * 64 * 3);
  check_node (g, "sum", 3, 4, 8, 8, 0, 256);
  check_node (g, "cat", 3, 8, 8, 8, 0, 0);
  check_node (g, "bn", 3, 8, 8, 8, 16, 2 * 512);
  check_node (g, "pool", 3, 8, 4, 4, 0, 8 * 16 * 4);
  check_node (g, "gap", 1, 8, 1, 1, 0, 128);
  check_node (g, "drop", 1, 8, 1, 1, 0, 8);
  check_node (g, "out", 1, 3, 1, 1, 27, 48);
  check_node (g, "loss", 1, 1, 1, 1, 0, 12);
  g_assert_cmpint (g->total_params, ==, 112 + 16 + 16 + 27);
  g_assert_cmpint (g->total_flops, ==, 13824 + 1536 + 256 + 1024 + 512 + 128 + 8 + 48 + 12);

  /* Add and Concat take any number of inputs, the same one twice too. */
  g_ptr_array_add (lam_graph_find (g, "sum")->inputs, g_strdup ("b"));
  g_ptr_array_add (lam_graph_find (g, "cat")->inputs, g_strdup ("a"));
  expect_valid (g);
  check_node (g, "sum", 3, 4, 8, 8, 0, 2 * 256);
  check_node (g, "cat", 3, 12, 8, 8, 0, 0);

  /* A vector input of 2 features is rank 1. */
  g_autoptr(LamGraph) v = small_mlp (2, 16, 2);
  expect_valid (v);
  check_node (v, "input", 1, 2, 1, 1, 0, 0);
  check_node (v, "dense1", 1, 16, 1, 1, 48, 64);
  check_node (v, "dense2", 1, 2, 1, 1, 34, 64);
  g_assert_cmpint (v->total_params, ==, 82);

  /* Topological order puts every node after its inputs. */
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) order = lam_graph_topo_order (g, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (order->len, ==, g->nodes->len);
  for (guint i = 0; i < order->len; i++)
    {
      LamNode *n = g_ptr_array_index (g->nodes, g_array_index (order, int, i));
      for (guint j = 0; j < n->inputs->len; j++)
        {
          int src = lam_graph_index_of (g, g_ptr_array_index (n->inputs, j));
          gboolean before = FALSE;
          for (guint k = 0; k < i; k++)
            before |= g_array_index (order, int, k) == src;
          g_assert_true (before);
        }
    }
}

/* Errors are cleared when the graph is validated again. */
static void
test_valid_revalidate (void)
{
  g_autoptr(LamGraph) g = small_mlp (4, 8, 3);
  LamNode *d1 = lam_graph_find (g, "dense1");

  d1->p.units = 0;
  expect_invalid (g, d1, "parameter \"units\" is 0, must be between 1 and 65536");
  /* Downstream shapes are unknown, and the totals only count valid nodes. */
  g_assert_cmpint (lam_graph_find (g, "dense2")->out_shape.rank, ==, 0);
  g_assert_cmpint (g->total_params, ==, 0);

  /* Fixing the node clears its error on the next validation. */
  d1->p.units = 8;
  expect_valid (g);
  g_assert_null (d1->error);
  g_assert_cmpint (g->total_params, ==, 4 * 8 + 8 + 8 * 3 + 3);
}

/* ------------------------------------------------------------------ */
/* Invalid graphs */

static void
test_invalid_empty (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  expect_invalid_full (g, NULL, NULL, "the network is empty: add an Input layer");
  g_assert_cmpint (g->total_params, ==, 0);
}

static void
test_invalid_no_input (void)
{
  /* The Input layer deleted: the graph-level message explains it best, and
   * the first layer is marked for having no input. */
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  lam_graph_remove_node (g, "input");
  g_autoptr(GError) e1 = NULL;
  g_assert_false (lam_graph_validate (g, &e1));
  g_assert_cmpstr (e1->message, ==, "the network has no Input layer");
  g_assert_cmpstr (lam_graph_find (g, "dense1")->error, ==, "has no input; connect a layer to it");

  /* With no node lacking inputs (here a cycle) the graph-level message shows. */
  g_autoptr(LamGraph) c = lam_graph_new ();
  add_dense (c, "dense1", "relu1", 4);
  add (c, LAM_LAYER_RELU, "relu1", "dense1", NULL);
  add (c, LAM_LAYER_SOFTMAX_XENT, "xent", "dense1", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false (lam_graph_validate (c, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH);
  g_assert_cmpstr (error->message, ==, "the network has no Input layer");
}

static void
test_invalid_two_inputs (void)
{
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  LamNode *in2 = add_input (g, "input2", 2, 1, 1);
  expect_invalid (g, in2, "a second Input layer; a network has exactly one");

  /* An Input layer with an input. */
  g_autoptr(LamGraph) h = small_mlp (2, 4, 2);
  LamNode *in = lam_graph_find (h, "input");
  g_ptr_array_add (in->inputs, g_strdup ("nowhere"));
  expect_invalid (h, in, "an Input layer takes no inputs");
}

static void
test_invalid_no_loss (void)
{
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  lam_graph_remove_node (g, "loss");
  expect_invalid_full (g, NULL, NULL, "the network has no loss: end it with SoftmaxCrossEntropy or MSE");
  /* Shapes are still inferred. */
  g_assert_cmpint (lam_graph_find (g, "dense2")->out_shape.rank, ==, 1);
  g_assert_cmpint (lam_graph_find (g, "dense2")->out_shape.d[0], ==, 2);
  g_assert_null (lam_graph_loss_node (g));
}

static void
test_invalid_two_losses (void)
{
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  LamNode *l2 = add (g, LAM_LAYER_MSE, "loss2", "dense2", NULL);
  expect_invalid (g, l2, "a second loss; a network has exactly one");
  g_assert_true (lam_graph_loss_node (g) == lam_graph_find (g, "loss"));

  /* A loss fed by a loss. */
  g_autoptr(LamGraph) h = small_mlp (2, 4, 2);
  LamNode *r = add (h, LAM_LAYER_RELU, "after", "loss", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false (lam_graph_validate (h, &error));
  g_assert_cmpstr (error->message, ==,
                   "node \"after\": input \"loss\" is a loss; a loss is the end of the network");
  g_assert_cmpstr (r->error, ==, "input \"loss\" is a loss; a loss is the end of the network");
}

static void
test_invalid_cycle (void)
{
  /* feat -> sum(feat, act) -> act -> head -> xent, with sum <-> act a cycle.
   * Node names avoid words of the message ("input", "loss") on purpose: see
   * /engine/graph/invalid/cycle-marks-only-cycle for those. */
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "feat", 4, 1, 1);
  LamNode *sum = add (g, LAM_LAYER_ADD, "sum", "feat", "act");
  add (g, LAM_LAYER_RELU, "act", "sum", NULL);
  add_dense (g, "head", "act", 2);
  add (g, LAM_LAYER_SOFTMAX_XENT, "xent", "head", NULL);

  g_autoptr(GError) error = NULL;
  g_assert_false (lam_graph_validate (g, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH);
  g_assert_cmpstr (error->message, ==,
                   "node \"sum\": part of a cycle; a network must flow one way, from input to loss");
  g_assert_cmpstr (sum->error, ==, "part of a cycle; a network must flow one way, from input to loss");
  g_assert_null (lam_graph_find (g, "feat")->error);
  g_assert_null (lam_graph_find (g, "head")->error);
  g_assert_null (lam_graph_find (g, "xent")->error);

  g_autoptr(GError) e2 = NULL;
  g_assert_null (lam_graph_topo_order (g, &e2));
  g_assert_error (e2, LAM_ERROR, LAM_ERROR_INVALID_GRAPH);
  g_assert_cmpstr (e2->message, ==, error->message);
}

/* Every node on the cycle, and only those, should be marked. */
static void
test_invalid_cycle_marks (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 4, 1, 1);
  LamNode *sum = add (g, LAM_LAYER_ADD, "sum", "input", "act");
  LamNode *act = add (g, LAM_LAYER_RELU, "act", "sum", NULL);
  add_dense (g, "head", "act", 2);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "head", NULL);

  g_assert_false (lam_graph_validate (g, NULL));
  g_assert_nonnull (sum->error);
  g_assert_nonnull (act->error);
  g_assert_null (lam_graph_find (g, "input")->error);
  g_assert_null (lam_graph_find (g, "head")->error);
  g_assert_null (lam_graph_find (g, "loss")->error);
  g_assert_cmpint (count_node_errors (g), ==, 2);
}

static void
test_invalid_missing_input (void)
{
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  LamNode *r = lam_graph_find (g, "relu1");
  g_free (g_ptr_array_index (r->inputs, 0));
  g_ptr_array_index (r->inputs, 0) = g_strdup ("nope");
  g_autoptr(GError) error = NULL;
  g_assert_false (lam_graph_validate (g, &error));
  g_assert_cmpstr (error->message, ==, "node \"relu1\": input \"nope\" does not exist");
  g_assert_cmpstr (r->error, ==, "input \"nope\" does not exist");
  /* dense1 now leads nowhere too; relu1 is reported first. */
  g_assert_cmpstr (lam_graph_find (g, "dense1")->error, ==,
                   "its output leads nowhere: connect it on towards the loss, or delete it");
  g_assert_null (lam_graph_find (g, "dense2")->error);
}

static void
test_invalid_self (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "feat", 2, 1, 1);
  add_dense (g, "hid", "feat", 2);
  LamNode *r = add (g, LAM_LAYER_RELU, "selfie", "selfie", NULL);
  add (g, LAM_LAYER_SOFTMAX_XENT, "xent", "hid", NULL);
  expect_invalid (g, r, "is connected to itself");
}

static void
test_invalid_conv_vector (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 1, 28, 28);
  add (g, LAM_LAYER_FLATTEN, "flatten", "input", NULL);
  LamNode *c = add_conv (g, "conv", "flatten", 4, 3, 1, 0);
  add (g, LAM_LAYER_FLATTEN, "flatten2", "conv", NULL);
  add_dense (g, "dense", "flatten2", 10);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense", NULL);
  expect_invalid (g, c, "input is a vector of 784 values; Conv2D needs an image (channels×height×width)");
  /* Nodes after the invalid one have unknown shapes and no error of their own. */
  g_assert_cmpint (lam_graph_find (g, "dense")->out_shape.rank, ==, 0);

  /* Pooling and global pooling say the same. */
  c->kind = LAM_LAYER_MAXPOOL2D;
  c->p.kernel = 2;
  c->p.stride = 2;
  expect_invalid (g, c, "input is a vector of 784 values; pooling needs an image (channels×height×width)");
  c->kind = LAM_LAYER_GLOBALAVGPOOL;
  expect_invalid (g, c, "input is a vector of 784 values; GlobalAvgPool needs an image");
}

static void
test_invalid_kernel_too_large (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 1, 5, 5);
  LamNode *c = add_conv (g, "conv", "input", 4, 7, 1, 0);
  add (g, LAM_LAYER_FLATTEN, "flatten", "conv", NULL);
  add_dense (g, "dense", "flatten", 10);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense", NULL);
  expect_invalid (g, c, "kernel 7×7 is larger than the input 1×5×5");
  c->p.kernel = 9;
  c->p.padding = 1;
  expect_invalid (g, c, "kernel 9×9 is larger than the input 1×5×5 padded to 7×7");
  c->p.kernel = 7;

  /* Padding 1 makes the input 7×7: the kernel fits, output 1×1. */
  c->p.padding = 1;
  expect_valid (g);
  check_node (g, "conv", 3, 4, 1, 1, 4 * 49 + 4, 2 * 4 * 49);

  /* Non-square input: too narrow counts as too small. */
  LamNode *in = lam_graph_find (g, "input");
  in->p.height = 9;
  in->p.width = 4;
  c->p.padding = 0;
  c->p.kernel = 5;
  expect_invalid (g, c, "kernel 5×5 is larger than the input 1×9×4");

  /* The same for a pooling window. */
  g_autoptr(LamGraph) p = lam_graph_new ();
  add_input (p, "input", 1, 3, 3);
  LamNode *pool = add_pool (p, LAM_LAYER_MAXPOOL2D, "pool", "input", 4, 1, 0);
  add (p, LAM_LAYER_FLATTEN, "flatten", "pool", NULL);
  add_dense (p, "dense", "flatten", 10);
  add (p, LAM_LAYER_SOFTMAX_XENT, "loss", "dense", NULL);
  expect_invalid (p, pool, "kernel 4×4 is larger than the input 1×3×3");
}

static void
test_invalid_pool_padding (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 1, 8, 8);
  LamNode *p = add_pool (g, LAM_LAYER_MAXPOOL2D, "pool", "input", 3, 1, 2);
  add (g, LAM_LAYER_FLATTEN, "flatten", "pool", NULL);
  add_dense (g, "dense", "flatten", 10);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense", NULL);
  expect_invalid (g, p, "padding 2 is more than half the window 3");

  p->kind = LAM_LAYER_AVGPOOL2D;
  expect_invalid (g, p, "padding 2 is more than half the window 3");

  /* Exactly half is allowed: window 4 padding 2. */
  p->p.kernel = 4;
  expect_valid (g);
  check_node (g, "pool", 3, 1, 9, 9, 0, 81 * 16);
}

static void
test_invalid_add_shapes (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 4, 1, 1);
  add_dense (g, "d1", "input", 16);
  add_dense (g, "d2", "input", 8);
  LamNode *a = add (g, LAM_LAYER_ADD, "add", "d1", "d2");
  add_dense (g, "out", "add", 2);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "out", NULL);
  expect_invalid (g, a, "inputs have different shapes: 16 from \"d1\" and 8 from \"d2\"");

  /* Same size, different layout: 4×2×2 and 16. */
  g_autoptr(LamGraph) h = lam_graph_new ();
  add_input (h, "input", 4, 2, 2);
  add (h, LAM_LAYER_FLATTEN, "flat", "input", NULL);
  LamNode *b = add (h, LAM_LAYER_ADD, "add", "input", "flat");
  add (h, LAM_LAYER_FLATTEN, "flat2", "add", NULL);
  add_dense (h, "out", "flat2", 2);
  add (h, LAM_LAYER_SOFTMAX_XENT, "loss", "out", NULL);
  expect_invalid (h, b, "inputs have different shapes: 4×2×2 from \"input\" and 16 from \"flat\"");

  /* Images with different channels. */
  g_autoptr(LamGraph) k = lam_graph_new ();
  add_input (k, "input", 1, 8, 8);
  add_conv (k, "c1", "input", 4, 3, 1, 1);
  add_conv (k, "c2", "input", 2, 3, 1, 1);
  LamNode *s = add (k, LAM_LAYER_ADD, "add", "c1", "c2");
  add (k, LAM_LAYER_FLATTEN, "flat", "add", NULL);
  add_dense (k, "out", "flat", 2);
  add (k, LAM_LAYER_SOFTMAX_XENT, "loss", "out", NULL);
  expect_invalid (k, s, "inputs have different shapes: 4×8×8 from \"c1\" and 2×8×8 from \"c2\"");
}

static void
test_invalid_concat_shapes (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 1, 28, 28);
  add_conv (g, "c1", "input", 4, 3, 1, 1);
  add_pool (g, LAM_LAYER_MAXPOOL2D, "p", "c1", 2, 2, 0);
  LamNode *cat = add (g, LAM_LAYER_CONCAT, "cat", "c1", "p");
  add (g, LAM_LAYER_FLATTEN, "flat", "cat", NULL);
  add_dense (g, "out", "flat", 10);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "out", NULL);
  expect_invalid (g, cat, "inputs 4×28×28 from \"c1\" and 4×14×14 from \"p\" differ in more than the channels");

  /* An image and a vector. */
  g_autoptr(LamGraph) h = lam_graph_new ();
  add_input (h, "input", 1, 4, 4);
  add (h, LAM_LAYER_FLATTEN, "flat", "input", NULL);
  LamNode *c2 = add (h, LAM_LAYER_CONCAT, "cat", "flat", "input");
  add_dense (h, "out", "cat", 2);
  add (h, LAM_LAYER_SOFTMAX_XENT, "loss", "out", NULL);
  expect_invalid (h, c2, "inputs 16 from \"flat\" and 1×4×4 from \"input\" differ in more than the channels");

  /* Vectors of different lengths concatenate. */
  g_autoptr(LamGraph) v = lam_graph_new ();
  add_input (v, "input", 4, 1, 1);
  add_dense (v, "d1", "input", 3);
  add_dense (v, "d2", "input", 5);
  add (v, LAM_LAYER_CONCAT, "cat", "d1", "d2");
  add_dense (v, "out", "cat", 2);
  add (v, LAM_LAYER_SOFTMAX_XENT, "loss", "out", NULL);
  expect_valid (v);
  check_node (v, "cat", 1, 8, 1, 1, 0, 0);
}

static void
test_invalid_input_count (void)
{
  /* A Dense with no input. */
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  LamNode *d2 = lam_graph_find (g, "dense2");
  g_ptr_array_set_size (d2->inputs, 0);
  g_autoptr(GError) error = NULL;
  g_assert_false (lam_graph_validate (g, &error));
  g_assert_cmpstr (error->message, ==, "node \"dense2\": has no input; connect a layer to it");
  g_assert_cmpstr (d2->error, ==, "has no input; connect a layer to it");
  /* relu1 lost its only consumer: it leads nowhere. */
  g_assert_nonnull (lam_graph_find (g, "relu1")->error);

  /* A Dense with two inputs. */
  g_autoptr(LamGraph) h = small_mlp (2, 4, 2);
  LamNode *d = lam_graph_find (h, "dense2");
  g_ptr_array_add (d->inputs, g_strdup ("dense1"));
  expect_invalid (h, d, "takes 1 input, has 2");

  /* An Add with one input. */
  g_autoptr(LamGraph) k = small_mlp (2, 4, 2);
  LamNode *a = add (k, LAM_LAYER_ADD, "add", "relu1", NULL);
  LamNode *d3 = lam_graph_find (k, "dense2");
  g_free (g_ptr_array_index (d3->inputs, 0));
  g_ptr_array_index (d3->inputs, 0) = g_strdup ("add");
  expect_invalid (k, a, "needs at least 2 inputs, has 1");
}

static void
test_invalid_dangling (void)
{
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  LamNode *x = add (g, LAM_LAYER_TANH, "extra", "relu1", NULL);
  expect_invalid (g, x, "its output leads nowhere: connect it on towards the loss, or delete it");

  /* A lone node with no inputs is reported for that, not as dangling. */
  g_autoptr(LamGraph) h = small_mlp (2, 4, 2);
  LamNode *lone = add (h, LAM_LAYER_SIGMOID, "lone", NULL, NULL);
  expect_invalid (h, lone, "has no input; connect a layer to it");
}

static void
test_invalid_param_range (void)
{
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  LamNode *d = lam_graph_find (g, "dense1");
  d->p.units = 70000;
  expect_invalid (g, d, "parameter \"units\" is 70000, must be between 1 and 65536");
  d->p.units = 4;

  LamNode *in = lam_graph_find (g, "input");
  in->p.channels = 0;
  expect_invalid (g, in, "parameter \"channels\" is 0, must be between 1 and 1024");
  in->p.channels = 2;

  /* Bool parameters are 0 or 1. */
  d->p.bias = 2;
  expect_invalid (g, d, "parameter \"bias\" is 2, must be between 0 and 1");
  d->p.bias = 1;

  /* Float parameters, and NaN. */
  LamNode *drop = add (g, LAM_LAYER_DROPOUT, "drop", "relu1", NULL);
  LamNode *d2 = lam_graph_find (g, "dense2");
  g_free (g_ptr_array_index (d2->inputs, 0));
  g_ptr_array_index (d2->inputs, 0) = g_strdup ("drop");
  expect_valid (g);
  drop->p.rate = 0.99f;
  expect_invalid (g, drop, "parameter \"rate\" is 0.99, must be between 0 and 0.95");
  drop->p.rate = NAN;
  expect_invalid (g, drop, "parameter \"rate\" is nan, must be between 0 and 0.95");
  drop->p.rate = -0.5f;
  expect_invalid (g, drop, "parameter \"rate\" is -0.5, must be between 0 and 0.95");
  drop->p.rate = 0.5f;
  expect_valid (g);

  /* Conv stride 0. */
  g_autoptr(LamGraph) c = lam_graph_new ();
  add_input (c, "input", 1, 8, 8);
  LamNode *conv = add_conv (c, "conv", "input", 2, 3, 0, 0);
  add (c, LAM_LAYER_FLATTEN, "flat", "conv", NULL);
  add_dense (c, "out", "flat", 2);
  add (c, LAM_LAYER_SOFTMAX_XENT, "loss", "out", NULL);
  expect_invalid (c, conv, "parameter \"stride\" is 0, must be between 1 and 8");

  /* Too many weights for one Dense. */
  g_autoptr(LamGraph) big = lam_graph_new ();
  add_input (big, "input", 1024, 1024, 1);
  add (big, LAM_LAYER_FLATTEN, "flat", "input", NULL);
  LamNode *huge = add_dense (big, "huge", "flat", 65536);
  add (big, LAM_LAYER_SOFTMAX_XENT, "loss", "huge", NULL);
  expect_invalid (big, huge, "1048576 inputs × 65536 units is too many weights (more than 2³¹)");

  /* SoftmaxCrossEntropy needs two scores. */
  g_autoptr(LamGraph) one = small_mlp (2, 4, 1);
  expect_invalid (one, lam_graph_find (one, "loss"), "needs at least 2 class scores");
  /* MSE is happy with one output. */
  lam_graph_find (one, "loss")->kind = LAM_LAYER_MSE;
  expect_valid (one);
}

static void
test_invalid_softmax_xent (void)
{
  g_autoptr(LamGraph) g = small_mlp (2, 4, 3);
  add (g, LAM_LAYER_SOFTMAX, "softmax", "dense2", NULL);
  LamNode *loss = lam_graph_find (g, "loss");
  g_free (g_ptr_array_index (loss->inputs, 0));
  g_ptr_array_index (loss->inputs, 0) = g_strdup ("softmax");
  expect_invalid (g, loss, "\"softmax\" is a Softmax, but this loss applies softmax itself: "
                  "feed it the scores (logits) instead");

  /* MSE after a Softmax is fine. */
  loss->kind = LAM_LAYER_MSE;
  expect_valid (g);
}

static void
test_invalid_duplicate_names (void)
{
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  LamNode *dup = add (g, LAM_LAYER_RELU, "dense1", "relu1", NULL);
  expect_invalid (g, dup, "another node has the same name");
  /* The first node of that name is the one found, and it is fine. */
  g_assert_true (lam_graph_find (g, "dense1") != dup);
  g_assert_null (lam_graph_find (g, "dense1")->error);

  /* A node with no name. */
  g_autoptr(LamGraph) h = small_mlp (2, 4, 2);
  LamNode *r = lam_graph_find (h, "relu1");
  g_free (r->name);
  r->name = g_strdup ("");
  g_autoptr(GError) error = NULL;
  g_assert_false (lam_graph_validate (h, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH);
  g_assert_cmpstr (error->message, ==, "a ReLU node has no name");
}

/* ------------------------------------------------------------------ */
/* Editing */

static void
test_remove_node (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  add_input (g, "input", 4, 1, 1);
  add_dense (g, "a", "input", 4);
  add_dense (g, "b", "input", 4);
  add (g, LAM_LAYER_ADD, "sum", "a", "b");
  g_ptr_array_add (lam_graph_find (g, "sum")->inputs, g_strdup ("a"));
  add_dense (g, "out", "sum", 2);
  add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "out", NULL);
  expect_valid (g);
  g_assert_cmpuint (g->nodes->len, ==, 6);

  g_assert_false (lam_graph_remove_node (g, "nope"));
  g_assert_cmpuint (g->nodes->len, ==, 6);

  /* Removing "a" drops both edges a -> sum; b -> sum stays. */
  g_assert_true (lam_graph_remove_node (g, "a"));
  g_assert_cmpuint (g->nodes->len, ==, 5);
  g_assert_null (lam_graph_find (g, "a"));
  g_assert_cmpint (lam_graph_index_of (g, "a"), ==, -1);
  LamNode *sum = lam_graph_find (g, "sum");
  g_assert_cmpuint (sum->inputs->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (sum->inputs, 0), ==, "b");
  for (guint i = 0; i < g->nodes->len; i++)
    {
      LamNode *n = g_ptr_array_index (g->nodes, i);
      for (guint j = 0; j < n->inputs->len; j++)
        g_assert_cmpstr (g_ptr_array_index (n->inputs, j), !=, "a");
    }
  /* The order of the others is kept. */
  g_assert_cmpint (lam_graph_index_of (g, "input"), ==, 0);
  g_assert_cmpint (lam_graph_index_of (g, "b"), ==, 1);
  g_assert_cmpint (lam_graph_index_of (g, "loss"), ==, 4);
  expect_invalid (g, sum, "needs at least 2 inputs, has 1");

  /* Removing the node with the edges into it: its inputs go with it. */
  g_assert_true (lam_graph_remove_node (g, "sum"));
  g_assert_cmpuint (lam_graph_find (g, "out")->inputs->len, ==, 0);
  lam_graph_connect (g, "b", "out");
  expect_valid (g);
}

static void
test_connect (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  lam_graph_add_node (g, LAM_LAYER_INPUT, "input")->p.height = 1;
  LamNode *in = lam_graph_find (g, "input");
  in->p.width = 1;
  in->p.channels = 3;
  lam_graph_add_node (g, LAM_LAYER_DENSE, "d");
  lam_graph_add_node (g, LAM_LAYER_SOFTMAX_XENT, "loss");
  lam_graph_connect (g, "input", "d");
  lam_graph_connect (g, "d", "loss");
  expect_valid (g);
  check_node (g, "d", 1, 10, 1, 1, 40, 60);

  if (g_test_undefined ())
    {
      /* Connecting to a node that does not exist is a programming error. */
      g_test_expect_message ("lamina-graph", G_LOG_LEVEL_CRITICAL, "*dst != NULL*");
      lam_graph_connect (g, "d", "nope");
      g_test_assert_expected_messages ();
    }
}

static void
test_copy_deep (void)
{
  g_autoptr(LamGraph) g = small_mlp (2, 4, 2);
  lam_graph_find (g, "dense1")->x = 12.5;
  lam_graph_find (g, "dense1")->y = -3;
  lam_graph_find (g, "relu1")->kind = LAM_LAYER_LEAKYRELU;
  lam_graph_find (g, "relu1")->p.alpha = 0.2f;
  expect_valid (g);
  /* An error on a node is copied too. */
  lam_graph_find (g, "dense2")->error = g_strdup ("an error");

  g_autoptr(LamGraph) c = lam_graph_copy (g);
  g_assert_true (c != g);
  g_assert_true (c->nodes != g->nodes);
  g_assert_cmpuint (c->nodes->len, ==, g->nodes->len);
  g_assert_cmpint (c->total_params, ==, g->total_params);
  g_assert_cmpint (c->total_flops, ==, g->total_flops);
  for (guint i = 0; i < g->nodes->len; i++)
    {
      LamNode *a = g_ptr_array_index (g->nodes, i), *b = g_ptr_array_index (c->nodes, i);
      g_assert_true (a != b);
      g_assert_true (a->name != b->name);
      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpint (a->kind, ==, b->kind);
      g_assert_cmpmem (&a->p, sizeof a->p, &b->p, sizeof b->p);
      g_assert_cmpfloat (a->x, ==, b->x);
      g_assert_cmpfloat (a->y, ==, b->y);
      g_assert_cmpmem (&a->out_shape, sizeof a->out_shape, &b->out_shape, sizeof b->out_shape);
      g_assert_cmpint (a->n_params, ==, b->n_params);
      g_assert_cmpint (a->flops, ==, b->flops);
      g_assert_cmpstr (a->error, ==, b->error);
      if (a->error)
        g_assert_true (a->error != b->error);
      g_assert_true (a->inputs != b->inputs);
      g_assert_cmpuint (a->inputs->len, ==, b->inputs->len);
      for (guint j = 0; j < a->inputs->len; j++)
        {
          g_assert_true (g_ptr_array_index (a->inputs, j) != g_ptr_array_index (b->inputs, j));
          g_assert_cmpstr (g_ptr_array_index (a->inputs, j), ==, g_ptr_array_index (b->inputs, j));
        }
    }

  /* Changing the copy leaves the original alone. */
  LamNode *cd = lam_graph_find (c, "dense1");
  cd->p.units = 99;
  g_free (cd->name);
  cd->name = g_strdup ("renamed");
  g_free (g_ptr_array_index (lam_graph_find (c, "relu1")->inputs, 0));
  g_ptr_array_index (lam_graph_find (c, "relu1")->inputs, 0) = g_strdup ("renamed");
  lam_graph_remove_node (c, "loss");
  add (c, LAM_LAYER_MSE, "mse", "dense2", NULL);
  expect_valid (c);   /* and the copied error on dense2 is cleared */
  g_assert_null (lam_graph_find (c, "dense2")->error);

  g_assert_nonnull (lam_graph_find (g, "dense1"));
  g_assert_null (lam_graph_find (g, "renamed"));
  g_assert_cmpint (lam_graph_find (g, "dense1")->p.units, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (lam_graph_find (g, "relu1")->inputs, 0), ==, "dense1");
  g_assert_nonnull (lam_graph_find (g, "loss"));
  g_assert_cmpstr (lam_graph_find (g, "dense2")->error, ==, "an error");
  expect_valid (g);

  /* Freeing the original leaves the copy usable. */
  g_clear_pointer (&g, lam_graph_free);
  g_assert_cmpstr (lam_graph_find (c, "renamed")->name, ==, "renamed");

  /* An empty graph copies. */
  g_autoptr(LamGraph) e = lam_graph_new ();
  g_autoptr(LamGraph) ec = lam_graph_copy (e);
  g_assert_cmpuint (ec->nodes->len, ==, 0);
}

static void
test_unique_name (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  g_autofree char *n1 = lam_graph_unique_name (g, "dense");
  g_assert_cmpstr (n1, ==, "dense1");

  lam_graph_add_node (g, LAM_LAYER_DENSE, "dense1");
  lam_graph_add_node (g, LAM_LAYER_DENSE, "dense2");
  lam_graph_add_node (g, LAM_LAYER_DENSE, "dense4");
  g_autofree char *n3 = lam_graph_unique_name (g, "dense");
  g_assert_cmpstr (n3, ==, "dense3");
  g_autofree char *c1 = lam_graph_unique_name (g, "conv");
  g_assert_cmpstr (c1, ==, "conv1");

  lam_graph_remove_node (g, "dense1");
  g_autofree char *again = lam_graph_unique_name (g, "dense");
  g_assert_cmpstr (again, ==, "dense1");

  /* A node added without a name gets the lower-case type name and a number. */
  LamNode *a = lam_graph_add_node (g, LAM_LAYER_CONV2D, NULL);
  LamNode *b = lam_graph_add_node (g, LAM_LAYER_CONV2D, NULL);
  LamNode *c = lam_graph_add_node (g, LAM_LAYER_SOFTMAX_XENT, NULL);
  LamNode *d = lam_graph_add_node (g, LAM_LAYER_DENSE, NULL);
  g_assert_cmpstr (a->name, ==, "conv2d1");
  g_assert_cmpstr (b->name, ==, "conv2d2");
  g_assert_cmpstr (c->name, ==, "softmaxcrossentropy1");
  g_assert_cmpstr (d->name, ==, "dense1");
  /* Parameters start at their defaults. */
  g_assert_cmpint (a->p.filters, ==, 8);
  g_assert_cmpint (a->p.kernel, ==, 3);
  g_assert_cmpint (a->p.bias, ==, 1);
  g_assert_cmpuint (a->inputs->len, ==, 0);
  g_assert_null (a->error);
}

static void
test_kind_from_name (void)
{
  static const char *const names[LAM_N_LAYER_KINDS] = {
    [LAM_LAYER_INPUT] = "Input",
    [LAM_LAYER_DENSE] = "Dense",
    [LAM_LAYER_CONV2D] = "Conv2D",
    [LAM_LAYER_MAXPOOL2D] = "MaxPool2D",
    [LAM_LAYER_AVGPOOL2D] = "AvgPool2D",
    [LAM_LAYER_GLOBALAVGPOOL] = "GlobalAvgPool",
    [LAM_LAYER_FLATTEN] = "Flatten",
    [LAM_LAYER_RELU] = "ReLU",
    [LAM_LAYER_LEAKYRELU] = "LeakyReLU",
    [LAM_LAYER_TANH] = "Tanh",
    [LAM_LAYER_SIGMOID] = "Sigmoid",
    [LAM_LAYER_GELU] = "GELU",
    [LAM_LAYER_SOFTMAX] = "Softmax",
    [LAM_LAYER_DROPOUT] = "Dropout",
    [LAM_LAYER_BATCHNORM] = "BatchNorm",
    [LAM_LAYER_ADD] = "Add",
    [LAM_LAYER_CONCAT] = "Concat",
    [LAM_LAYER_SOFTMAX_XENT] = "SoftmaxCrossEntropy",
    [LAM_LAYER_MSE] = "MSE",
  };

  for (int k = 0; k < LAM_N_LAYER_KINDS; k++)
    {
      const LamLayerInfo *info = lam_layer_info (k);
      LamLayerKind kind = LAM_N_LAYER_KINDS;
      g_assert_nonnull (info);
      g_assert_cmpint (info->kind, ==, k);
      /* the kinds listed above keep their names; later kinds round-trip */
      if ((gsize) k < G_N_ELEMENTS (names) && names[k] != NULL)
        g_assert_cmpstr (info->type_name, ==, names[k]);
      g_assert_true (lam_layer_kind_from_name (info->type_name, &kind));
      g_assert_cmpint (kind, ==, k);
      g_assert_nonnull (info->group);
      g_assert_nonnull (info->blurb);
      g_assert_cmpint (info->min_inputs, >=, 0);
      g_assert_true (info->max_inputs == -1 || info->max_inputs >= info->min_inputs);
    }

  const char *bad[] = { "relu", "RELU", "Conv2d", "", " Dense", "Dense ", "Softmax CrossEntropy", "Unknown" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      LamLayerKind kind = LAM_LAYER_MSE;
      g_assert_false (lam_layer_kind_from_name (bad[i], &kind));
      g_assert_cmpint (kind, ==, LAM_LAYER_MSE);  /* untouched */
    }
  LamLayerKind kind;
  g_assert_false (lam_layer_kind_from_name (NULL, &kind));
}

static void
test_param_specs (void)
{
  for (int k = 0; k < LAM_N_LAYER_KINDS; k++)
    {
      const LamLayerInfo *info = lam_layer_info (k);
      LamLayerParams p;
      lam_layer_params_init (k, &p);
      g_assert_cmpint (p.bias, ==, 1);
      g_assert_true (info->n_params == 0 || info->params != NULL);

      for (int i = 0; i < info->n_params; i++)
        {
          const LamParamSpec *s = &info->params[i];
          g_assert_nonnull (s->name);
          g_assert_nonnull (s->label);
          g_assert_nonnull (s->blurb);
          g_assert_cmpuint (s->offset + (s->type == LAM_PARAM_FLOAT ? sizeof (float) : sizeof (int)),
                            <=, sizeof (LamLayerParams));
          g_assert_cmpfloat (s->min, <=, s->def);
          g_assert_cmpfloat (s->def, <=, s->max);
          if (s->type == LAM_PARAM_BOOL)
            {
              g_assert_cmpfloat (s->min, ==, 0);
              g_assert_cmpfloat (s->max, ==, 1);
            }
          for (int j = 0; j < i; j++)
            g_assert_cmpstr (info->params[j].name, !=, s->name);

          /* Defaults, as stored (floats are floats). */
          double def = s->type == LAM_PARAM_FLOAT ? (double) (float) s->def : s->def;
          g_assert_cmpfloat (lam_layer_param_get (&p, s), ==, def);

          /* Set and get round-trip at the ends of the range and touch only this field. */
          LamLayerParams q = p;
          lam_layer_param_set (&q, s, s->max);
          double want = s->type == LAM_PARAM_FLOAT ? (double) (float) s->max : s->max;
          g_assert_cmpfloat (lam_layer_param_get (&q, s), ==, want);
          lam_layer_param_set (&q, s, s->min);
          want = s->type == LAM_PARAM_FLOAT ? (double) (float) s->min : s->min;
          g_assert_cmpfloat (lam_layer_param_get (&q, s), ==, want);
          lam_layer_param_set (&q, s, lam_layer_param_get (&p, s));
          g_assert_cmpmem (&q, sizeof q, &p, sizeof p);
        }
    }

  /* The fields behind the names. */
  const LamLayerInfo *conv = lam_layer_info (LAM_LAYER_CONV2D);
  LamLayerParams p;
  lam_layer_params_init (LAM_LAYER_CONV2D, &p);
  g_assert_cmpint (conv->n_params, ==, 5);
  for (int i = 0; i < conv->n_params; i++)
    {
      const LamParamSpec *s = &conv->params[i];
      if (strcmp (s->name, "filters") == 0)
        {
          lam_layer_param_set (&p, s, 32);
          g_assert_cmpint (p.filters, ==, 32);
        }
      else if (strcmp (s->name, "kernel") == 0)
        {
          lam_layer_param_set (&p, s, 5.9);  /* an int parameter truncates */
          g_assert_cmpint (p.kernel, ==, 5);
          g_assert_cmpfloat (lam_layer_param_get (&p, s), ==, 5);
        }
      else if (strcmp (s->name, "stride") == 0)
        {
          g_assert_cmpint (s->type, ==, LAM_PARAM_INT);
          lam_layer_param_set (&p, s, 2);
          g_assert_cmpint (p.stride, ==, 2);
        }
      else if (strcmp (s->name, "padding") == 0)
        {
          lam_layer_param_set (&p, s, 1);
          g_assert_cmpint (p.padding, ==, 1);
        }
      else if (strcmp (s->name, "bias") == 0)
        {
          g_assert_cmpint (s->type, ==, LAM_PARAM_BOOL);
          lam_layer_param_set (&p, s, 0);
          g_assert_cmpint (p.bias, ==, 0);
        }
      else
        g_assert_not_reached ();
    }
  g_assert_cmpint (p.filters, ==, 32);
  g_assert_cmpint (p.kernel, ==, 5);
  g_assert_cmpint (p.stride, ==, 2);
  g_assert_cmpint (p.padding, ==, 1);
  g_assert_cmpint (p.bias, ==, 0);

  const LamLayerInfo *drop = lam_layer_info (LAM_LAYER_DROPOUT);
  g_assert_cmpint (drop->n_params, ==, 1);
  g_assert_cmpstr (drop->params[0].name, ==, "rate");
  g_assert_cmpint (drop->params[0].type, ==, LAM_PARAM_FLOAT);
  lam_layer_params_init (LAM_LAYER_DROPOUT, &p);
  g_assert_cmpfloat (p.rate, ==, 0.5f);
  lam_layer_param_set (&p, &drop->params[0], 0.25);
  g_assert_cmpfloat (p.rate, ==, 0.25f);

  const LamLayerInfo *bn = lam_layer_info (LAM_LAYER_BATCHNORM);
  lam_layer_params_init (LAM_LAYER_BATCHNORM, &p);
  g_assert_cmpfloat (p.eps, ==, 1e-5f);
  g_assert_cmpfloat (p.momentum, ==, 0.1f);
  g_assert_cmpint (bn->n_params, ==, 2);

  const LamLayerInfo *in = lam_layer_info (LAM_LAYER_INPUT);
  lam_layer_params_init (LAM_LAYER_INPUT, &p);
  g_assert_cmpint (in->n_params, ==, 3);
  g_assert_cmpint (p.channels, ==, 1);
  g_assert_cmpint (p.height, ==, 28);
  g_assert_cmpint (p.width, ==, 28);

  lam_layer_params_init (LAM_LAYER_LEAKYRELU, &p);
  g_assert_cmpfloat (p.alpha, ==, 0.01f);
  lam_layer_params_init (LAM_LAYER_DENSE, &p);
  g_assert_cmpint (p.units, ==, 10);
  lam_layer_params_init (LAM_LAYER_MAXPOOL2D, &p);
  g_assert_cmpint (p.kernel, ==, 2);
  g_assert_cmpint (p.stride, ==, 2);
  g_assert_cmpint (p.padding, ==, 0);

  /* Kinds without parameters. */
  g_assert_cmpint (lam_layer_info (LAM_LAYER_RELU)->n_params, ==, 0);
  g_assert_cmpint (lam_layer_info (LAM_LAYER_FLATTEN)->n_params, ==, 0);
  g_assert_cmpint (lam_layer_info (LAM_LAYER_SOFTMAX_XENT)->n_params, ==, 0);
}

static void
test_shape_to_string (void)
{
  char buf[64];
  LamShape s0 = { 0, { 0, 0, 0 } }, s1 = { 1, { 784, 1, 1 } }, s3 = { 3, { 16, 14, 14 } };
  g_assert_cmpstr (lam_shape_to_string (&s0, buf, sizeof buf), ==, "?");
  g_assert_cmpstr (lam_shape_to_string (&s1, buf, sizeof buf), ==, "784");
  g_assert_cmpstr (lam_shape_to_string (&s3, buf, sizeof buf), ==, "16×14×14");
  g_assert_cmpint (lam_shape_size (&s3), ==, 16 * 14 * 14);
  g_assert_cmpint (lam_shape_size (&s0), ==, 1);
}

/* The order as the engine defines it (parameters are laid out in it,
 * so checkpoints depend on it): passes over the nodes in index order,
 * each taking every node whose inputs are all taken when the pass
 * reaches it; an input names the first node of that name. Written the
 * slow, obvious way, against the engine's fast one, on random graphs
 * with random insertion orders, inputs named twice, names no node has,
 * nodes of one name and cycles. (Before the fast one, nodes of one name
 * counted as each other's inputs; only invalid graphs have them.) */
static GArray *
reference_order (const LamGraph *g)
{
  guint n = g->nodes->len;
  g_autofree gboolean *done = g_new0 (gboolean, n);
  GArray *order = g_array_new (FALSE, FALSE, sizeof (int));

  for (gboolean progress = TRUE; progress;)
    {
      progress = FALSE;
      for (guint i = 0; i < n; i++)
        {
          LamNode *node = g_ptr_array_index (g->nodes, i);
          gboolean ready = !done[i];
          for (guint j = 0; ready && j < node->inputs->len; j++)
            {
              int si = lam_graph_index_of (g, g_ptr_array_index (node->inputs, j));
              ready = si < 0 || done[si];
            }
          if (ready)
            {
              int ii = (int) i;
              done[i] = progress = TRUE;
              g_array_append_val (order, ii);
            }
        }
    }
  return order;
}

static void
test_topo_order_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);

  for (int iter = 0; iter < 300; iter++)
    {
      int n = g_rand_int_range (rand, 1, 40);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      LamGraph *g = lam_graph_new ();
      gboolean cyclic = iter % 5 == 4;

      for (int i = 0; i < n; i++)
        g_ptr_array_add (names, g_strdup_printf ("n%d", i));
      /* node k is made at a random place; its inputs are earlier nodes
       * (in k), some twice, some missing, and in cyclic graphs a later one */
      for (int i = 0; i < n; i++)
        lam_graph_add_node (g, LAM_LAYER_RELU, names->pdata[g_rand_int_range (rand, 0, n)]);
      for (guint i = 0; i < g->nodes->len; i++)
        {
          LamNode *node = g_ptr_array_index (g->nodes, i);
          int k = atoi (node->name + 1);
          int n_in = k == 0 ? 0 : g_rand_int_range (rand, 0, 4);
          for (int j = 0; j < n_in; j++)
            g_ptr_array_add (node->inputs, g_strdup (names->pdata[g_rand_int_range (rand, 0, k)]));
          if (g_rand_int_range (rand, 0, 10) == 0)
            g_ptr_array_add (node->inputs, g_strdup ("nowhere"));
          if (g_rand_int_range (rand, 0, 30) == 0)
            g_ptr_array_add (node->inputs, NULL);   /* lam_graph_connect (g, NULL, …) */
          if (cyclic && k > 0 && g_rand_int_range (rand, 0, 8) == 0)
            g_ptr_array_add (node->inputs, g_strdup (names->pdata[g_rand_int_range (rand, k, n)]));
        }

      g_autoptr(GArray) want = reference_order (g);
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) got = lam_graph_topo_order (g, &error);
      if (want->len < g->nodes->len)
        {
          g_assert_null (got);
          g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH);
          g_assert_nonnull (strstr (error->message, "part of a cycle"));
        }
      else
        {
          g_assert_no_error (error);
          g_assert_cmpmem (got->data, got->len * sizeof (int), want->data, want->len * sizeof (int));
        }
      lam_graph_free (g);
    }
}

/* Many nodes: a chain of 20000 in reverse insertion order validates in
 * one pass of hash lookups, not n² string compares (a model file of
 * this size once froze the window for a quarter of a minute). */
static void
test_many_nodes (void)
{
  LamGraph *g = lam_graph_new ();
  const int n = 20000;
  g_autoptr(GError) error = NULL;

  lam_graph_add_node (g, LAM_LAYER_SOFTMAX_XENT, "loss");
  g_ptr_array_add (((LamNode *) g->nodes->pdata[0])->inputs, g_strdup_printf ("r%d", n - 1));
  for (int i = n - 1; i >= 0; i--)
    {
      g_autofree char *name = g_strdup_printf ("r%d", i);
      LamNode *node = lam_graph_add_node (g, LAM_LAYER_RELU, name);
      g_ptr_array_add (node->inputs, i > 0 ? g_strdup_printf ("r%d", i - 1) : g_strdup ("input"));
    }
  LamNode *in = lam_graph_add_node (g, LAM_LAYER_INPUT, "input");
  in->p.channels = 3, in->p.height = 1, in->p.width = 1;

  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (lam_graph_validate (g, &error));
  g_assert_no_error (error);
  g_test_message ("validated %d nodes in %.3f s", n + 2, (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpint (lam_graph_find (g, "r0")->out_shape.d[0], ==, 3);
  lam_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/graph/valid/mlp", test_valid_mlp);
  g_test_add_func ("/engine/graph/valid/lenet", test_valid_lenet);
  g_test_add_func ("/engine/graph/valid/branches", test_valid_branches);
  g_test_add_func ("/engine/graph/valid/revalidate", test_valid_revalidate);
  g_test_add_func ("/engine/graph/invalid/empty", test_invalid_empty);
  g_test_add_func ("/engine/graph/invalid/no-input", test_invalid_no_input);
  g_test_add_func ("/engine/graph/invalid/two-inputs", test_invalid_two_inputs);
  g_test_add_func ("/engine/graph/invalid/no-loss", test_invalid_no_loss);
  g_test_add_func ("/engine/graph/invalid/two-losses", test_invalid_two_losses);
  g_test_add_func ("/engine/graph/invalid/cycle", test_invalid_cycle);
  g_test_add_func ("/engine/graph/invalid/cycle-marks-only-cycle", test_invalid_cycle_marks);
  g_test_add_func ("/engine/graph/invalid/missing-input", test_invalid_missing_input);
  g_test_add_func ("/engine/graph/invalid/self-connection", test_invalid_self);
  g_test_add_func ("/engine/graph/invalid/conv-vector", test_invalid_conv_vector);
  g_test_add_func ("/engine/graph/invalid/kernel-too-large", test_invalid_kernel_too_large);
  g_test_add_func ("/engine/graph/invalid/pool-padding", test_invalid_pool_padding);
  g_test_add_func ("/engine/graph/invalid/add-shapes", test_invalid_add_shapes);
  g_test_add_func ("/engine/graph/invalid/concat-shapes", test_invalid_concat_shapes);
  g_test_add_func ("/engine/graph/invalid/input-count", test_invalid_input_count);
  g_test_add_func ("/engine/graph/invalid/dangling", test_invalid_dangling);
  g_test_add_func ("/engine/graph/invalid/param-range", test_invalid_param_range);
  g_test_add_func ("/engine/graph/invalid/softmax-xent", test_invalid_softmax_xent);
  g_test_add_func ("/engine/graph/invalid/duplicate-names", test_invalid_duplicate_names);
  g_test_add_func ("/engine/graph/remove-node", test_remove_node);
  g_test_add_func ("/engine/graph/connect", test_connect);
  g_test_add_func ("/engine/graph/copy", test_copy_deep);
  g_test_add_func ("/engine/graph/unique-name", test_unique_name);
  g_test_add_func ("/engine/graph/kind-from-name", test_kind_from_name);
  g_test_add_func ("/engine/graph/param-specs", test_param_specs);
  g_test_add_func ("/engine/graph/shape-to-string", test_shape_to_string);
  g_test_add_func ("/engine/graph/topo-order-random", test_topo_order_random);
  g_test_add_func ("/engine/graph/many-nodes", test_many_nodes);

  return g_test_run ();
}
