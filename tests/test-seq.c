/* test-seq.c: the sequence layers (SimpleRNN, LSTM, GRU, LTC,
 * MultiHeadAttention, PositionalEncoding, LayerNorm, Embedding,
 * ImageToSequence), LocallyConnected2D, and what sequences change in the
 * old layers (Dense per step, GlobalAvgPool over time, Concat of
 * features): central-difference gradient checks, shape inference and its
 * messages, golden tests against PyTorch (tests/golden-seq.bin, made by
 * bench/golden/make_seq_golden.py), the sequence datasets, text
 * generation, determinism across thread counts and a short training run.
 *
 * The gradient checker is gradcheck-common.c, shared with
 * test-gradcheck.c: parameters rounded to multiples of 2⁻¹² and perturbed
 * by multiples of a power-of-two step, the loss recomputed in double from
 * the logits, the five-point stencil, kinks (ReLU) detected. A layer's
 * input gradient is checked through the parameters of a layer placed
 * before it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "lam-backend.h"
#include "lam-dataset.h"
#include "lam-graph.h"
#include "lam-model-file.h"
#include "lam-net.h"
#include "lam-optim.h"
#include "lam-seq.h"

#include "gradcheck-common.h"

/* ── Graph building beyond gradcheck-common's ─────────────────────────── */

/* input 1×T×F → seq (ImageToSequence, an alias) */
static LamGraph *
graph_with_sequence (int T, int F)
{
  LamGraph *g = graph_with_input (1, T, F);
  add (g, LAM_LAYER_IMAGE_TO_SEQUENCE, "seq", "input");
  return g;
}

static LamNode *
add_rnn (LamGraph *g, LamLayerKind kind, const char *name, const char *from, int units,
         gboolean retseq, gboolean bidir)
{
  LamNode *n = add (g, kind, name, from);
  n->p.units = units;
  n->p.return_sequences = retseq;
  n->p.bidirectional = bidir;
  return n;
}

/* ── The checker's entry points ──────────────────────────────────────── */

/* gradcheck-common's checker with its defaults (40 elements a tensor;
 * this file's copy checked 24 and had no kink detection); _full for
 * token-id inputs below vocab (Embedding) and MSE against numeric
 * targets. */
static void
gradcheck_full (LamGraph *g, int B, guint64 seed, int vocab, gboolean targets)
{
  CheckOptions opts = { .vocab = vocab, .targets = targets };
  gradcheck_run (g, B, seed, &opts);
}

static void
gradcheck (LamGraph *g, int B, guint64 seed)
{
  gradcheck_run (g, B, seed, NULL);
}

/* ── Gradient checks ─────────────────────────────────────────────────── */

/* Dense on each step, ImageToSequence of one channel (an alias) */
static void
test_dense_per_step (void)
{
  LamGraph *g = graph_with_sequence (4, 3);
  add_dense (g, "proj", "seq", 5, TRUE);
  add (g, LAM_LAYER_TANH, "tanh", "proj");
  add_dense (g, "proj2", "tanh", 2, FALSE);
  add_head (g, "proj2", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck (g, 3, 101);

  /* fused with a ReLU, then averaged over time */
  g = graph_with_sequence (5, 3);
  add_dense (g, "proj", "seq", 6, TRUE);
  add (g, LAM_LAYER_RELU, "relu", "proj");
  add_dense (g, "proj2", "relu", 4, TRUE);
  add (g, LAM_LAYER_GLOBALAVGPOOL, "gap", "proj2");
  add_head (g, "gap", FALSE, 3, LAM_LAYER_SOFTMAX_XENT);
  CheckOptions relu = { .h = 1.0 / 512 };   /* the ReLU's kinks */
  gradcheck_run (g, 2, 102, &relu);
}

/* ImageToSequence of a 2-channel image (a transpose), after a Conv2D */
static void
test_image_to_sequence (void)
{
  LamGraph *g = graph_with_input (2, 4, 3);
  LamNode *conv = add (g, LAM_LAYER_CONV2D, "conv", "input");
  conv->p.filters = 3;
  conv->p.kernel = 3;
  conv->p.padding = 1;
  add (g, LAM_LAYER_IMAGE_TO_SEQUENCE, "seq", "conv");
  add_dense (g, "proj", "seq", 4, TRUE);
  add_head (g, "proj", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck (g, 2, 110);
}

typedef struct {
  gboolean retseq, bidir;
} RnnCase;

static const RnnCase rnn_cases[] = {
  { FALSE, FALSE }, { TRUE, FALSE }, { FALSE, TRUE }, { TRUE, TRUE },
};

/* seq → Dense per step (checks the layer's dx) → layer → [Flatten] → head */
static void
rnn_test (LamLayerKind kind, int ode_steps, guint64 seed)
{
  for (guint i = 0; i < G_N_ELEMENTS (rnn_cases); i++)
    {
      const RnnCase *rc = &rnn_cases[i];
      g_test_message ("%s return_sequences=%d bidirectional=%d ode_steps=%d", lam_layer_info (kind)->type_name,
                      rc->retseq, rc->bidir, ode_steps);
      LamGraph *g = graph_with_sequence (5, 3);
      add_dense (g, "pre", "seq", 4, TRUE);
      LamNode *r = add_rnn (g, kind, "rnn", "pre", 3, rc->retseq, rc->bidir);
      if (ode_steps)
        r->p.ode_steps = ode_steps;
      add_head (g, "rnn", rc->retseq, 3, LAM_LAYER_SOFTMAX_XENT);
      gradcheck (g, 3, seed + i);
    }
}

static void test_rnn (void) { rnn_test (LAM_LAYER_SIMPLE_RNN, 0, 120); }
static void test_lstm (void) { rnn_test (LAM_LAYER_LSTM, 0, 130); }
static void test_gru (void) { rnn_test (LAM_LAYER_GRU, 0, 140); }

static void
test_ltc (void)
{
  rnn_test (LAM_LAYER_LTC, 1, 150);
  rnn_test (LAM_LAYER_LTC, 3, 160);
}

/* Two stacked LSTMs, the second fed every step of the first, and two
 * GRUs on the same sequence concatenated feature by feature. */
static void
test_recurrent_stack (void)
{
  LamGraph *g = graph_with_sequence (4, 3);
  add_rnn (g, LAM_LAYER_LSTM, "lstm1", "seq", 4, TRUE, TRUE);
  add_rnn (g, LAM_LAYER_LSTM, "lstm2", "lstm1", 3, FALSE, FALSE);
  add_head (g, "lstm2", FALSE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck (g, 2, 170);

  g = graph_with_sequence (4, 3);
  add_dense (g, "pre", "seq", 3, TRUE);
  add_rnn (g, LAM_LAYER_GRU, "gru1", "pre", 2, TRUE, FALSE);
  add_rnn (g, LAM_LAYER_SIMPLE_RNN, "rnn2", "pre", 3, TRUE, FALSE);
  LamNode *cat = add (g, LAM_LAYER_CONCAT, "cat", "gru1");
  lam_graph_connect (g, "rnn2", "cat");
  (void) cat;
  add (g, LAM_LAYER_GLOBALAVGPOOL, "gap", "cat");
  add_head (g, "gap", FALSE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck (g, 2, 171);
}

static void
test_mha (void)
{
  /* heads, causal, D, T */
  static const int cases[][4] = { { 1, 0, 4, 4 }, { 2, 0, 6, 4 }, { 2, 1, 6, 5 }, { 3, 1, 6, 4 }, { 2, 1, 4, 66 } };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("MultiHeadAttention heads=%d causal=%d D=%d T=%d", cases[i][0], cases[i][1], cases[i][2],
                      cases[i][3]);
      LamGraph *g = graph_with_sequence (cases[i][3], 3);
      add_dense (g, "pre", "seq", cases[i][2], TRUE);
      LamNode *m = add (g, LAM_LAYER_MULTIHEAD_ATTENTION, "attn", "pre");
      m->p.heads = cases[i][0];
      m->p.causal = cases[i][1];
      add_head (g, "attn", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
      gradcheck (g, 2, 180 + i);
    }
}

static void
test_positional_encoding (void)
{
  for (int learned = 0; learned <= 1; learned++)
    {
      LamGraph *g = graph_with_sequence (4, 3);
      add_dense (g, "pre", "seq", 4, TRUE);
      add (g, LAM_LAYER_POSITIONAL_ENCODING, "pos", "pre")->p.learned = learned;
      add (g, LAM_LAYER_TANH, "tanh", "pos");
      add_head (g, "tanh", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
      gradcheck (g, 2, 190 + learned);
    }
}

static void
test_layernorm (void)
{
  /* each step of a sequence */
  LamGraph *g = graph_with_sequence (3, 4);
  add_dense (g, "pre", "seq", 5, TRUE);
  add (g, LAM_LAYER_LAYERNORM, "ln", "pre");
  add_head (g, "ln", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck (g, 3, 200);

  /* a vector */
  g = graph_with_input (6, 1, 1);
  add_dense (g, "pre", "input", 5, TRUE);
  add (g, LAM_LAYER_LAYERNORM, "ln", "pre");
  add_head (g, "ln", FALSE, 3, LAM_LAYER_SOFTMAX_XENT);
  gradcheck (g, 3, 201);
}

static void
test_embedding (void)
{
  LamGraph *g = graph_with_input (5, 1, 1);   /* 5 token ids */
  LamNode *e = add (g, LAM_LAYER_EMBEDDING, "embed", "input");
  e->p.vocab = 7;
  e->p.dim = 3;
  add_rnn (g, LAM_LAYER_LSTM, "lstm", "embed", 4, FALSE, FALSE);
  add_head (g, "lstm", FALSE, 7, LAM_LAYER_SOFTMAX_XENT);
  gradcheck_full (g, 3, 210, 7, FALSE);
}

typedef struct {
  int C, H, W, filters, k, stride, pad, bias;
} LcCase;

static void
test_locally_connected (void)
{
  static const LcCase cases[] = {
    { 2, 5, 4, 3, 3, 1, 1, 1 },
    { 1, 6, 6, 2, 3, 2, 0, 0 },
    { 2, 5, 6, 2, 2, 2, 1, 1 },
    { 3, 4, 4, 2, 1, 1, 0, 1 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const LcCase *lc = &cases[i];
      g_test_message ("LocallyConnected2D C=%d %dx%d filters=%d k=%d stride=%d pad=%d bias=%d", lc->C, lc->H,
                      lc->W, lc->filters, lc->k, lc->stride, lc->pad, lc->bias);
      LamGraph *g = graph_with_input (lc->C, lc->H, lc->W);
      LamNode *pre = add (g, LAM_LAYER_CONV2D, "pre", "input");
      pre->p.filters = lc->C;
      pre->p.kernel = 3;
      pre->p.padding = 1;
      LamNode *n = add (g, LAM_LAYER_LOCALLY_CONNECTED2D, "lc", "pre");
      n->p.filters = lc->filters;
      n->p.kernel = lc->k;
      n->p.stride = lc->stride;
      n->p.padding = lc->pad;
      n->p.bias = lc->bias;
      add_head (g, "lc", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
      gradcheck (g, 2, 220 + i);
    }
}

/* A LocallyConnected2D whose filters are the same at every position is
 * a Conv2D: same outputs, and its weight gradient summed over the
 * positions is the Conv2D's. */
static void
test_locally_connected_is_conv (void)
{
  static const LcCase cases[] = { { 2, 7, 6, 3, 3, 2, 1, 1 }, { 1, 8, 8, 4, 5, 1, 0, 1 } };
  for (guint ci = 0; ci < G_N_ELEMENTS (cases); ci++)
    {
      const LcCase *lc = &cases[ci];
      g_autoptr(GError) error = NULL;
      g_autoptr(LamBackend) be = lam_backend_new_cpu (2);
      LamNet *nets[2];
      for (int k = 0; k < 2; k++)
        {
          g_autoptr(LamGraph) g = graph_with_input (lc->C, lc->H, lc->W);
          LamNode *n = add (g, k ? LAM_LAYER_LOCALLY_CONNECTED2D : LAM_LAYER_CONV2D, "layer", "input");
          n->p.filters = lc->filters;
          n->p.kernel = lc->k;
          n->p.stride = lc->stride;
          n->p.padding = lc->pad;
          add_head (g, "layer", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
          nets[k] = lam_net_new (g, be, 5, &error);
          g_assert_no_error (error);
        }
      const LamTensorInfo *cw = lam_net_find_tensor (nets[0], "layer.weight");
      const LamTensorInfo *cb = lam_net_find_tensor (nets[0], "layer.bias");
      const LamTensorInfo *lw = lam_net_find_tensor (nets[1], "layer.weight");
      const LamTensorInfo *lb = lam_net_find_tensor (nets[1], "layer.bias");
      int P = lw->shape[0], OC = lc->filters, CKK = (int) (cw->n / OC);
      float *pc = lam_net_params (nets[0]), *pl = lam_net_params (nets[1]);
      /* the same head; LC = the conv filters at every position */
      const LamTensorInfo *hw0 = lam_net_find_tensor (nets[0], "head.weight");
      const LamTensorInfo *hw1 = lam_net_find_tensor (nets[1], "head.weight");
      memcpy (pl + hw1->offset, pc + hw0->offset, (hw0->n + 3) * sizeof (float));
      for (int b = 0; b < OC; b++)
        pc[cb->offset + b] = 0.1f * (b + 1);
      for (int p = 0; p < P; p++)
        {
          memcpy (pl + lw->offset + (gsize) p * OC * CKK, pc + cw->offset, (gsize) OC * CKK * sizeof (float));
          for (int oc = 0; oc < OC; oc++)
            pl[lb->offset + (gsize) oc * P + p] = pc[cb->offset + oc];
        }
      GRand *r = g_rand_new_with_seed (ci + 1);
      gsize in_n = (gsize) 5 * lc->C * lc->H * lc->W;
      for (gsize i = 0; i < in_n; i++)
        lam_net_input (nets[0])[i] = lam_net_input (nets[1])[i] = (float) g_rand_double_range (r, -1, 1);
      for (int b = 0; b < 5; b++)
        lam_net_labels (nets[0])[b] = lam_net_labels (nets[1])[b] = g_rand_int_range (r, 0, 3);
      g_rand_free (r);
      for (int k = 0; k < 2; k++)
        {
          lam_net_forward (nets[k], TRUE, 0);
          lam_net_backward (nets[k]);
        }
      int node = lam_graph_index_of (lam_net_graph (nets[0]), "layer");
      gsize out_n = (gsize) 5 * OC * P;
      const float *y0 = lam_net_output_ptr (nets[0], node), *y1 = lam_net_output_ptr (nets[1], node);
      double err = 0, gerr = 0;
      for (gsize i = 0; i < out_n; i++)
        err = MAX (err, fabs (y0[i] - y1[i]));
      const float *g0 = lam_net_grads (nets[0]), *g1 = lam_net_grads (nets[1]);
      for (int i = 0; i < OC * CKK; i++)
        {
          double sum = 0;
          for (int p = 0; p < P; p++)
            sum += g1[lw->offset + (gsize) p * OC * CKK + i];
          gerr = MAX (gerr, fabs (sum - g0[cw->offset + i]));
        }
      g_test_message ("LocallyConnected2D with shared filters vs Conv2D: outputs differ by %.2e, "
                      "summed weight gradients by %.2e", err, gerr);
      g_assert_cmpfloat (err, <, 1e-5);
      g_assert_cmpfloat (gerr, <, 1e-5);
      lam_net_free (nets[0]);
      lam_net_free (nets[1]);
    }
}

/* MSE against numeric targets, after an LTC */
static void
test_mse_targets (void)
{
  LamGraph *g = graph_with_sequence (4, 2);
  add_rnn (g, LAM_LAYER_LTC, "ltc", "seq", 3, FALSE, FALSE)->p.ode_steps = 2;
  add_dense (g, "head", "ltc", 2, TRUE);
  add (g, LAM_LAYER_MSE, "loss", "head");
  gradcheck_full (g, 3, 230, 0, TRUE);
}

/* A Transformer encoder block: LN → MHA → Add, LN → Dense → GELU → Dense → Add */
static LamGraph *
encoder_graph (int T, int F, int D, int heads)
{
  LamGraph *g = graph_with_sequence (T, F);
  add_dense (g, "embed", "seq", D, TRUE);
  add (g, LAM_LAYER_POSITIONAL_ENCODING, "pos", "embed");
  add (g, LAM_LAYER_LAYERNORM, "ln1", "pos");
  add (g, LAM_LAYER_MULTIHEAD_ATTENTION, "attn", "ln1")->p.heads = heads;
  add (g, LAM_LAYER_ADD, "res1", "pos");
  lam_graph_connect (g, "attn", "res1");
  add (g, LAM_LAYER_LAYERNORM, "ln2", "res1");
  add_dense (g, "ff1", "ln2", 2 * D, TRUE);
  add (g, LAM_LAYER_GELU, "gelu", "ff1");
  add_dense (g, "ff2", "gelu", D, TRUE);
  add (g, LAM_LAYER_ADD, "res2", "res1");
  lam_graph_connect (g, "ff2", "res2");
  add (g, LAM_LAYER_GLOBALAVGPOOL, "gap", "res2");
  add_head (g, "gap", FALSE, 3, LAM_LAYER_SOFTMAX_XENT);
  return g;
}

static void
test_encoder_block (void)
{
  gradcheck (encoder_graph (4, 3, 4, 2), 2, 240);
}

/* ── Shapes and messages ─────────────────────────────────────────────── */

static char *
validate_error (LamGraph *g, const char *node)
{
  g_autoptr(GError) error = NULL;
  g_assert_false (lam_graph_validate (g, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH);
  LamNode *n = lam_graph_find (g, node);
  g_assert_nonnull (n->error);
  g_test_message ("%s", error->message);
  return g_strdup (n->error);
}

static void
assert_contains (const char *msg, const char *part)
{
  if (strstr (msg, part) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", msg, part);
}

static void
test_shapes (void)
{
  char buf[64];

  /* LSTM: every step, both directions */
  g_autoptr(LamGraph) g = graph_with_input (1, 28, 28);
  add (g, LAM_LAYER_IMAGE_TO_SEQUENCE, "seq", "input");
  add_rnn (g, LAM_LAYER_LSTM, "lstm", "seq", 16, TRUE, TRUE);
  add_rnn (g, LAM_LAYER_GRU, "gru", "lstm", 8, FALSE, FALSE);
  add_head (g, "gru", FALSE, 10, LAM_LAYER_SOFTMAX_XENT);
  g_assert_true (lam_graph_validate (g, NULL));
  g_assert_cmpstr (lam_shape_to_string (&lam_graph_find (g, "seq")->out_shape, buf, sizeof buf), ==, "28×28");
  g_assert_cmpstr (lam_shape_to_string (&lam_graph_find (g, "lstm")->out_shape, buf, sizeof buf), ==, "28×32");
  g_assert_cmpstr (lam_shape_to_string (&lam_graph_find (g, "gru")->out_shape, buf, sizeof buf), ==, "8");
  /* PyTorch's counts: LSTM 2·4H(F+H+2); GRU 3H(F+H+2) */
  g_assert_cmpint (lam_graph_find (g, "lstm")->n_params, ==, 2 * 4 * 16 * (28 + 16 + 2));
  g_assert_cmpint (lam_graph_find (g, "gru")->n_params, ==, 3 * 8 * (32 + 8 + 2));

  /* an image with channels: H steps of C·W */
  g_autoptr(LamGraph) g2 = graph_with_input (3, 5, 7);
  add (g2, LAM_LAYER_IMAGE_TO_SEQUENCE, "seq", "input");
  add_dense (g2, "proj", "seq", 6, TRUE);
  add (g2, LAM_LAYER_GLOBALAVGPOOL, "gap", "proj");
  add_head (g2, "gap", FALSE, 2, LAM_LAYER_SOFTMAX_XENT);
  g_assert_true (lam_graph_validate (g2, NULL));
  g_assert_cmpstr (lam_shape_to_string (&lam_graph_find (g2, "seq")->out_shape, buf, sizeof buf), ==, "5×21");
  g_assert_cmpstr (lam_shape_to_string (&lam_graph_find (g2, "proj")->out_shape, buf, sizeof buf), ==, "5×6");
  g_assert_cmpint (lam_graph_find (g2, "proj")->n_params, ==, 21 * 6 + 6);
  g_assert_cmpstr (lam_shape_to_string (&lam_graph_find (g2, "gap")->out_shape, buf, sizeof buf), ==, "6");

  /* Embedding, LTC, attention */
  g_autoptr(LamGraph) g3 = graph_with_input (12, 1, 1);
  LamNode *e = add (g3, LAM_LAYER_EMBEDDING, "embed", "input");
  e->p.vocab = 50;
  e->p.dim = 8;
  add (g3, LAM_LAYER_POSITIONAL_ENCODING, "pos", "embed")->p.learned = TRUE;
  add (g3, LAM_LAYER_MULTIHEAD_ATTENTION, "attn", "pos")->p.heads = 2;
  add (g3, LAM_LAYER_LAYERNORM, "ln", "attn");
  add_rnn (g3, LAM_LAYER_LTC, "ltc", "ln", 5, FALSE, FALSE);
  add_head (g3, "ltc", FALSE, 50, LAM_LAYER_SOFTMAX_XENT);
  g_assert_true (lam_graph_validate (g3, NULL));
  g_assert_cmpstr (lam_shape_to_string (&lam_graph_find (g3, "embed")->out_shape, buf, sizeof buf), ==, "12×8");
  g_assert_cmpint (lam_graph_find (g3, "embed")->n_params, ==, 400);
  g_assert_cmpint (lam_graph_find (g3, "pos")->n_params, ==, 96);
  g_assert_cmpint (lam_graph_find (g3, "attn")->n_params, ==, 4 * 64 + 4 * 8);
  g_assert_cmpint (lam_graph_find (g3, "ln")->n_params, ==, 16);
  g_assert_cmpint (lam_graph_find (g3, "ltc")->n_params, ==, 5 * (8 + 5) + 3 * 5);

  /* LocallyConnected2D beside its Conv2D twin */
  g_autoptr(LamGraph) g4 = graph_with_input (1, 28, 28);
  LamNode *lc = add (g4, LAM_LAYER_LOCALLY_CONNECTED2D, "lc", "input");
  lc->p.filters = 8;
  lc->p.kernel = 5;
  lc->p.stride = 2;
  add_head (g4, "lc", TRUE, 10, LAM_LAYER_SOFTMAX_XENT);
  g_assert_true (lam_graph_validate (g4, NULL));
  g_assert_cmpstr (lam_shape_to_string (&lc->out_shape, buf, sizeof buf), ==, "8×12×12");
  g_assert_cmpint (lc->n_params, ==, 144 * 8 * 25 + 8 * 144);
  g_assert_cmpint (lam_graph_equivalent_conv_params (g4, lc), ==, 8 * 25 + 8);
  g_assert_cmpint (lam_graph_equivalent_conv_params (g4, lam_graph_find (g4, "head")), ==, -1);
}

static void
test_shape_errors (void)
{
  /* a sequence layer fed an image */
  {
    g_autoptr(LamGraph) g = graph_with_input (1, 28, 28);
    add_rnn (g, LAM_LAYER_LSTM, "lstm", "input", 16, FALSE, FALSE);
    add_head (g, "lstm", FALSE, 10, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "lstm");
    assert_contains (msg, "input is an image (1×28×28)");
    assert_contains (msg, "LSTM needs a sequence (steps×features)");
    assert_contains (msg, "ImageToSequence");
  }
  /* ... and a vector */
  {
    g_autoptr(LamGraph) g = graph_with_input (20, 1, 1);
    add_rnn (g, LAM_LAYER_GRU, "gru", "input", 16, FALSE, FALSE);
    add_head (g, "gru", FALSE, 10, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "gru");
    assert_contains (msg, "a vector of 20 values");
    assert_contains (msg, "Embedding");
  }
  /* heads that do not divide the width */
  {
    g_autoptr(LamGraph) g = graph_with_sequence (28, 28);
    add (g, LAM_LAYER_MULTIHEAD_ATTENTION, "attn", "seq")->p.heads = 3;
    add_head (g, "attn", TRUE, 10, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "attn");
    assert_contains (msg, "the width 28 does not split into 3 heads");
    assert_contains (msg, "1, 2, 4, 7, 14, 28");
  }
  /* attention on an image */
  {
    g_autoptr(LamGraph) g = graph_with_input (1, 8, 8);
    add (g, LAM_LAYER_MULTIHEAD_ATTENTION, "attn", "input");
    add_head (g, "attn", TRUE, 10, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "attn");
    assert_contains (msg, "needs a sequence");
  }
  /* a loss fed a sequence */
  {
    g_autoptr(LamGraph) g = graph_with_sequence (5, 4);
    add_rnn (g, LAM_LAYER_LSTM, "lstm", "seq", 10, TRUE, FALSE);
    add (g, LAM_LAYER_SOFTMAX_XENT, "loss", "lstm");
    g_autofree char *msg = validate_error (g, "loss");
    assert_contains (msg, "a sequence of 5 steps of 10 values");
    assert_contains (msg, "return_sequences");
  }
  /* BatchNorm, Conv2D and pooling fed a sequence */
  {
    g_autoptr(LamGraph) g = graph_with_sequence (5, 4);
    add (g, LAM_LAYER_BATCHNORM, "bn", "seq");
    add_head (g, "bn", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "bn");
    assert_contains (msg, "use LayerNorm");
  }
  {
    g_autoptr(LamGraph) g = graph_with_sequence (5, 4);
    add (g, LAM_LAYER_CONV2D, "conv", "seq");
    add_head (g, "conv", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "conv");
    assert_contains (msg, "input is a sequence of 5 steps of 4 values; Conv2D needs an image");
  }
  /* ImageToSequence of a vector, Embedding of an image, LayerNorm of an image */
  {
    g_autoptr(LamGraph) g = graph_with_input (7, 1, 1);
    add (g, LAM_LAYER_IMAGE_TO_SEQUENCE, "seq", "input");
    add_head (g, "seq", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "seq");
    assert_contains (msg, "a vector of 7 values; ImageToSequence reads an image");
  }
  {
    g_autoptr(LamGraph) g = graph_with_input (1, 4, 4);
    add (g, LAM_LAYER_EMBEDDING, "embed", "input");
    add_head (g, "embed", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "embed");
    assert_contains (msg, "Embedding needs a vector of token ids");
  }
  {
    g_autoptr(LamGraph) g = graph_with_input (2, 4, 4);
    add (g, LAM_LAYER_LAYERNORM, "ln", "input");
    add_head (g, "ln", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "ln");
    assert_contains (msg, "use BatchNorm for images");
  }
  /* Concat of sequences of different lengths */
  {
    g_autoptr(LamGraph) g = graph_with_sequence (5, 4);
    add_rnn (g, LAM_LAYER_LSTM, "a", "seq", 3, TRUE, FALSE);
    add_rnn (g, LAM_LAYER_LSTM, "b", "seq", 3, FALSE, FALSE);
    add (g, LAM_LAYER_CONCAT, "cat", "a");
    lam_graph_connect (g, "b", "cat");
    add_head (g, "cat", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "cat");
    assert_contains (msg, "differ in more than the features");
  }
  /* a parameter out of range */
  {
    g_autoptr(LamGraph) g = graph_with_sequence (5, 4);
    add_rnn (g, LAM_LAYER_LTC, "ltc", "seq", 3, FALSE, FALSE)->p.ode_steps = 17;
    add_head (g, "ltc", FALSE, 3, LAM_LAYER_SOFTMAX_XENT);
    g_autofree char *msg = validate_error (g, "ltc");
    assert_contains (msg, "\"ode_steps\" is 17, must be between 1 and 16");
  }
}

/* Tensor names and shapes: PyTorch's */
static void
test_tensor_names (void)
{
  g_autoptr(LamGraph) g = graph_with_sequence (6, 5);
  add_rnn (g, LAM_LAYER_LSTM, "lstm", "seq", 4, TRUE, TRUE);
  add (g, LAM_LAYER_MULTIHEAD_ATTENTION, "attn", "lstm")->p.heads = 2;
  add (g, LAM_LAYER_LAYERNORM, "ln", "attn");
  add_head (g, "ln", TRUE, 3, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamBackend) be = lam_backend_new_cpu (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(LamNet) net = lam_net_new (g, be, 2, &error);
  g_assert_no_error (error);

  static const struct { const char *name; int ndim, d0, d1; } want[] = {
    { "lstm.weight_ih_l0", 2, 16, 5 }, { "lstm.weight_hh_l0", 2, 16, 4 },
    { "lstm.bias_ih_l0", 1, 16, 0 }, { "lstm.bias_hh_l0", 1, 16, 0 },
    { "lstm.weight_ih_l0_reverse", 2, 16, 5 }, { "lstm.bias_hh_l0_reverse", 1, 16, 0 },
    { "attn.in_proj_weight", 2, 24, 8 }, { "attn.in_proj_bias", 1, 24, 0 },
    { "attn.out_proj.weight", 2, 8, 8 }, { "attn.out_proj.bias", 1, 8, 0 },
    { "ln.weight", 1, 8, 0 }, { "ln.bias", 1, 8, 0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      const LamTensorInfo *t = lam_net_find_tensor (net, want[i].name);
      if (t == NULL)
        g_error ("no tensor %s", want[i].name);
      g_assert_cmpint (t->ndim, ==, want[i].ndim);
      g_assert_cmpint (t->shape[0], ==, want[i].d0);
      if (want[i].ndim > 1)
        g_assert_cmpint (t->shape[1], ==, want[i].d1);
    }
  /* LayerNorm starts as the identity: weight 1, bias 0 */
  const LamTensorInfo *w = lam_net_find_tensor (net, "ln.weight"), *b = lam_net_find_tensor (net, "ln.bias");
  for (gsize i = 0; i < w->n; i++)
    {
      g_assert_cmpfloat (lam_net_params (net)[w->offset + i], ==, 1.0f);
      g_assert_cmpfloat (lam_net_params (net)[b->offset + i], ==, 0.0f);
    }
}

/* ── Golden tests against PyTorch ────────────────────────────────────── */

typedef struct {
  int    ndim;
  int    shape[4];
  gsize  n;
  float *data;
} GTensor;

static GHashTable *
golden_load (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "golden-seq.bin", NULL);
  g_autofree char *buf = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (path, &buf, &len, &error))
    g_error ("%s", error->message);
  g_assert_cmpuint (len, >=, 16);
  g_assert_cmpmem (buf, 8, "LAMSEQG1", 8);
  guint32 version, n;
  memcpy (&version, buf + 8, 4);
  memcpy (&n, buf + 12, 4);
  g_assert_cmpuint (GUINT32_FROM_LE (version), ==, 1);
  n = GUINT32_FROM_LE (n);

  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gsize off = 16;
  for (guint32 r = 0; r < n; r++)
    {
      guint32 nl, nd;
      g_assert_cmpuint (off + 4, <=, len);
      memcpy (&nl, buf + off, 4);
      nl = GUINT32_FROM_LE (nl);
      off += 4;
      g_assert_cmpuint (off + nl + 4, <=, len);
      char *name = g_strndup (buf + off, nl);
      off += nl;
      memcpy (&nd, buf + off, 4);
      nd = GUINT32_FROM_LE (nd);
      off += 4;
      g_assert_cmpuint (nd, <=, 4);
      GTensor *t = g_malloc0 (sizeof (GTensor) + 0);
      t->ndim = (int) nd;
      t->n = 1;
      for (guint32 k = 0; k < nd; k++)
        {
          guint32 d;
          memcpy (&d, buf + off, 4);
          t->shape[k] = (int) GUINT32_FROM_LE (d);
          t->n *= t->shape[k];
          off += 4;
        }
      g_assert_cmpuint (off + t->n * 4, <=, len);
      t = g_realloc (t, sizeof (GTensor) + t->n * sizeof (float));
      t->data = (float *) (t + 1);
      memcpy (t->data, buf + off, t->n * sizeof (float));   /* little-endian hosts */
      off += t->n * 4;
      g_hash_table_insert (h, name, t);
    }
  g_assert_cmpuint (off, ==, len);
  return h;
}

static GTensor *
golden (GHashTable *h, const char *cas, const char *what)
{
  g_autofree char *key = g_strdup_printf ("%s/%s", cas, what);
  GTensor *t = g_hash_table_lookup (h, key);
  if (t == NULL)
    g_error ("golden-seq.bin has no %s", key);
  return t;
}

/* max |a - b| / max |b|: the error relative to the tensor's scale */
static double
compare (const char *what, const float *a, const float *b, gsize n)
{
  double scale = 0, err = 0;
  for (gsize i = 0; i < n; i++)
    {
      scale = MAX (scale, fabs (b[i]));
      err = MAX (err, fabs ((double) a[i] - b[i]));
    }
  double rel = err / MAX (scale, 1e-6);
  g_test_message ("%-34s n=%-5zu max |Lamina - PyTorch| = %.2e (%.2e of its scale)", what, n, err, rel);
  return rel;
}

#define GOLDEN_TOL 1e-4

/* Input 1×T×F → seq → pos (learned, zero: its gradient is dx summed over
 * the batch) → layer → [Flatten] → MSE against targets chosen so that
 * d(loss)/d(output) is PyTorch's R. */
static void
golden_case (GHashTable *h, const char *cas, LamLayerKind kind)
{
  GTensor *cfg = golden (h, cas, "config");
  int B = (int) cfg->data[0], T = (int) cfg->data[1], F = (int) cfg->data[2];
  gboolean mha = kind == LAM_LAYER_MULTIHEAD_ATTENTION;
  g_autoptr(LamGraph) g = graph_with_sequence (T, F);
  add (g, LAM_LAYER_POSITIONAL_ENCODING, "pos", "seq")->p.learned = TRUE;
  LamNode *layer;
  if (mha)
    {
      layer = add (g, kind, "layer", "pos");
      layer->p.heads = (int) cfg->data[3];
      layer->p.causal = (int) cfg->data[4];
    }
  else
    layer = add_rnn (g, kind, "layer", "pos", (int) cfg->data[3], cfg->data[5] != 0, cfg->data[4] != 0);
  add (g, LAM_LAYER_FLATTEN, "flat", "layer");
  add (g, LAM_LAYER_MSE, "loss", "flat");

  g_autoptr(LamBackend) be = lam_backend_new_cpu (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(LamNet) net = lam_net_new (g, be, B, &error);
  g_assert_no_error (error);

  float *params = lam_net_params (net);
  memset (params, 0, lam_net_n_params (net) * sizeof (float));
  for (guint i = 0; i < lam_net_n_tensors (net); i++)
    {
      const LamTensorInfo *t = lam_net_tensor (net, i);
      if (!g_str_has_prefix (t->name, "layer."))
        continue;
      GTensor *gt = golden (h, cas, t->name + strlen ("layer."));
      g_assert_cmpuint (gt->n, ==, t->n);
      memcpy (params + t->offset, gt->data, t->n * sizeof (float));
    }
  GTensor *x = golden (h, cas, "x"), *y = golden (h, cas, "y"), *dy = golden (h, cas, "dy");
  memcpy (lam_net_input (net), x->data, x->n * sizeof (float));
  g_assert_true (lam_net_set_use_targets (net, TRUE));
  lam_net_forward (net, TRUE, 0);

  int out_node = lam_graph_index_of (lam_net_graph (net), "flat");
  layer = lam_graph_find (lam_net_graph (net), "layer");   /* the validated copy */
  g_assert_cmpuint ((gsize) B * lam_shape_size (&layer->out_shape), ==, y->n);
  const float *out = lam_net_output_ptr (net, out_node);
  double worst = compare ("output", out, y->data, y->n);

  if (mha)
    {
      int heads = 0, steps = 0;
      const float *probs = lam_net_attention (net, lam_graph_index_of (lam_net_graph (net), "layer"), &heads, &steps);
      GTensor *gp = golden (h, cas, "probs");
      g_assert_nonnull (probs);
      g_assert_cmpint (heads, ==, layer->p.heads);
      g_assert_cmpint (steps, ==, T);
      g_assert_cmpuint ((gsize) B * heads * T * T, ==, gp->n);
      worst = MAX (worst, compare ("attention probabilities", probs, gp->data, gp->n));
    }

  /* targets t = p - R·(B·n)/2 make the gradient of the mean squared error R */
  float *targets = lam_net_targets (net);
  gsize n = y->n / B;
  for (gsize i = 0; i < y->n; i++)
    targets[i] = out[i] - dy->data[i] * (float) (B * n) / 2.0f;
  /* the backward differentiates the loss its forward took: again, with the targets */
  lam_net_forward (net, TRUE, 0);
  lam_net_backward (net);

  const float *grads = lam_net_grads (net);
  for (guint i = 0; i < lam_net_n_tensors (net); i++)
    {
      const LamTensorInfo *t = lam_net_tensor (net, i);
      if (!g_str_has_prefix (t->name, "layer."))
        continue;
      g_autofree char *key = g_strdup_printf ("grad.%s", t->name + strlen ("layer."));
      GTensor *gt = golden (h, cas, key);
      worst = MAX (worst, compare (key, grads + t->offset, gt->data, t->n));
    }
  /* the input gradient, summed over the batch */
  GTensor *dx = golden (h, cas, "dx");
  gsize per = (gsize) T * F;
  g_autofree float *dx_sum = g_new0 (float, per);
  for (int b = 0; b < B; b++)
    for (gsize k = 0; k < per; k++)
      dx_sum[k] += dx->data[b * per + k];
  const LamTensorInfo *pos = lam_net_find_tensor (net, "pos.weight");
  worst = MAX (worst, compare ("input gradient (summed over the batch)", grads + pos->offset, dx_sum, per));
  g_assert_cmpfloat (worst, <, GOLDEN_TOL);
}

static void
test_golden (void)
{
  g_autoptr(GHashTable) h = golden_load ();
  golden_case (h, "lstm_bi_seq", LAM_LAYER_LSTM);
  golden_case (h, "lstm_last", LAM_LAYER_LSTM);
  golden_case (h, "gru_bi_seq", LAM_LAYER_GRU);
  golden_case (h, "gru_last", LAM_LAYER_GRU);
  golden_case (h, "mha", LAM_LAYER_MULTIHEAD_ATTENTION);
  golden_case (h, "mha_causal", LAM_LAYER_MULTIHEAD_ATTENTION);
}

/* ── Presets ─────────────────────────────────────────────────────────── */

/* The sequence presets load, validate, run left to right and survive a
 * save and load unchanged (test-model-file checks the registered ones). */
static void
test_presets (void)
{
  static const char *const names[] = { "rnn", "lstm", "gru", "ltc", "transformer", "locally-connected",
                                       "conv-twin", "charlstm" };
  gint64 lc_params = 0, conv_params = 0;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LamModelFile) m = lam_model_file_load_preset (names[i], &error);
      g_assert_no_error (error);
      g_assert_cmpuint (strlen (m->description), >, 40);
      if (!lam_graph_validate (m->graph, &error))
        g_error ("preset %s: %s", names[i], error->message);
      g_assert_true (lam_train_config_check (&m->config, NULL));
      LamNode *loss = lam_graph_loss_node (m->graph);
      LamNode *logits = lam_graph_find (m->graph, g_ptr_array_index (loss->inputs, 0));
      gboolean text = g_strcmp0 (names[i], "charlstm") == 0;
      g_assert_cmpstr (m->config.data.name, ==, text ? "text" : "fashion-mnist");
      g_assert_cmpint (lam_shape_size (&logits->out_shape), ==, text ? 64 : 10);
      for (guint k = 1; k < m->graph->nodes->len; k++)
        {
          LamNode *n = g_ptr_array_index (m->graph->nodes, k);
          for (guint j = 0; j < n->inputs->len; j++)
            g_assert_cmpfloat (lam_graph_find (m->graph, g_ptr_array_index (n->inputs, j))->x, <, n->x);
        }
      g_autofree char *json = lam_model_file_to_json (m);
      g_autoptr(LamModelFile) m2 = lam_model_file_parse (json, -1, "preset.json", &error);
      g_assert_no_error (error);
      g_autofree char *json2 = lam_model_file_to_json (m2);
      g_assert_cmpstr (json, ==, json2);
      g_test_message ("%-18s %2u nodes %7" G_GINT64_FORMAT " parameters %6.2f MFLOPs per sample", names[i],
                      m->graph->nodes->len, m->graph->total_params, m->graph->total_flops / 1e6);
      if (g_strcmp0 (names[i], "locally-connected") == 0)
        {
          LamNode *lc = lam_graph_find (m->graph, "features");
          lc_params = lc->n_params;
          g_assert_cmpint (lam_graph_equivalent_conv_params (m->graph, lc), ==, 208);
        }
      if (g_strcmp0 (names[i], "conv-twin") == 0)
        conv_params = lam_graph_find (m->graph, "features")->n_params;
    }
  /* the twins: the same filters, shared or not */
  g_assert_cmpint (conv_params, ==, 8 * 25 + 8);
  g_assert_cmpint (lc_params, ==, 24 * 24 * (8 * 25 + 8));
  /* the text preset fits the text set */
  g_autoptr(LamDataset) ds = lam_dataset_text (0, 50, FALSE, 1, NULL);
  g_assert_cmpint (ds->n_classes, <=, 64);
}

/* ── Determinism ─────────────────────────────────────────────────────── */

/* A few SGD steps of a bidirectional LSTM + attention net at batch 32
 * (large enough for several chunks per op): the weights must not depend
 * on the thread count. */
static float *
train_run (int threads, gsize *n_out)
{
  g_autoptr(LamGraph) g = graph_with_sequence (8, 6);
  add_rnn (g, LAM_LAYER_LSTM, "lstm", "seq", 32, TRUE, TRUE);
  add (g, LAM_LAYER_LAYERNORM, "ln", "lstm");
  add (g, LAM_LAYER_MULTIHEAD_ATTENTION, "attn", "ln")->p.heads = 4;
  add_rnn (g, LAM_LAYER_LTC, "ltc", "attn", 16, FALSE, FALSE)->p.ode_steps = 2;
  add_head (g, "ltc", FALSE, 5, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamBackend) be = lam_backend_new_cpu (threads);
  g_autoptr(GError) error = NULL;
  g_autoptr(LamNet) net = lam_net_new (g, be, 32, &error);
  g_assert_no_error (error);
  lam_net_init_params (net, 5);
  LamOptConfig oc;
  lam_opt_config_init (&oc);
  LamOptimizer *opt = lam_optimizer_new (&oc, be, lam_net_n_params (net));
  GRand *r = g_rand_new_with_seed (9);
  for (int step = 0; step < 3; step++)
    {
      for (int i = 0; i < 32 * 48; i++)
        lam_net_input (net)[i] = (float) g_rand_double_range (r, -1, 1);
      for (int b = 0; b < 32; b++)
        lam_net_labels (net)[b] = g_rand_int_range (r, 0, 5);
      lam_net_forward (net, TRUE, step);
      lam_net_backward (net);
      g_assert_true (lam_optimizer_step (opt, lam_net_params (net), lam_net_grads (net), 0.05f, NULL));
    }
  g_rand_free (r);
  lam_optimizer_free (opt);
  *n_out = lam_net_n_params (net);
  return g_memdup2 (lam_net_params (net), *n_out * sizeof (float));
}

static void
test_determinism_threads (void)
{
  gsize n1, n2;
  g_autofree float *a = train_run (1, &n1);
  g_autofree float *b = train_run (2, &n2);
  g_assert_cmpuint (n1, ==, n2);
  g_assert_cmpmem (a, n1 * sizeof (float), b, n2 * sizeof (float));
}

/* ── Datasets ────────────────────────────────────────────────────────── */

static void
test_sequence_sets (void)
{
  g_autoptr(GError) error = NULL;
  LamSynthKind k;

  for (int kind = LAM_SYNTH_ADDING; kind <= LAM_SYNTH_PARITY; kind++)
    {
      g_autoptr(LamDataset) a = lam_dataset_sequence (kind, 200, 12, 0.0f, 3, &error);
      g_autoptr(LamDataset) b = lam_dataset_sequence (kind, 200, 12, 0.0f, 3, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (a->name, ==, lam_synth_kind_name (kind));
      g_assert_true (lam_synth_kind_from_name (a->name, &k));
      g_assert_cmpint (k, ==, kind);
      g_assert_cmpint (a->shape.rank, ==, 3);
      g_assert_cmpint (a->shape.d[1], ==, 12);
      g_assert_cmpint (a->shape.d[2], ==, kind == LAM_SYNTH_ADDING ? 2 : 1);
      g_assert_cmpmem (a->data, 200 * 12 * a->shape.d[2] * sizeof (float), b->data,
                       200 * 12 * b->shape.d[2] * sizeof (float));
      for (int i = 0; i < a->n; i++)
        {
          const float *x = a->data + (gsize) i * 12 * a->shape.d[2];
          if (kind == LAM_SYNTH_ADDING)
            {
              double sum = 0;
              int markers = 0;
              for (int t = 0; t < 12; t++)
                if (x[2 * t + 1] == 1.0f)
                  sum += x[2 * t], markers++;
              g_assert_cmpint (markers, ==, 2);
              g_assert_cmpfloat_with_epsilon (a->targets[i], sum, 1e-6);
            }
          else if (kind == LAM_SYNTH_PARITY)
            {
              int p = 0;
              for (int t = 0; t < 12; t++)
                p ^= x[t] > 0.5f;
              g_assert_cmpint (a->labels[i], ==, p);
            }
          else
            g_assert_cmpfloat (fabsf (a->targets[i]), <=, 1.0f);
        }
      g_assert_true ((a->targets != NULL) == (kind != LAM_SYNTH_PARITY));
    }
  /* noise changes the inputs, not the targets */
  g_autoptr(LamDataset) clean = lam_dataset_sequence (LAM_SYNTH_SINE, 50, 0, 0.0f, 4, NULL);
  g_autoptr(LamDataset) noisy = lam_dataset_sequence (LAM_SYNTH_SINE, 50, 0, 0.2f, 4, NULL);
  g_assert_cmpint (clean->shape.d[1], ==, 50);
  g_assert_cmpmem (clean->targets, 50 * sizeof (float), noisy->targets, 50 * sizeof (float));
  g_assert_true (memcmp (clean->data, noisy->data, 50 * 50 * sizeof (float)) != 0);
  /* select keeps the targets */
  gint32 idx[2] = { 7, 3 };
  g_autoptr(LamDataset) sel = lam_dataset_select (clean, idx, 2);
  g_assert_cmpfloat (sel->targets[0], ==, clean->targets[7]);
  g_assert_cmpfloat (sel->targets[1], ==, clean->targets[3]);

  g_assert_null (lam_dataset_sequence (LAM_SYNTH_ADDING, 100, 1, 0, 1, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (lam_dataset_sequence (LAM_SYNTH_SPIRAL, 100, 10, 0, 1, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* lam_data_open takes the names */
  LamDataSpec spec;
  lam_data_spec_init (&spec);
  g_free (spec.name);
  spec.name = g_strdup ("adding");
  spec.length = 20;
  spec.n_samples = 400;
  g_auto (LamDataSplits) splits = { 0 };
  g_assert_true (lam_data_open (&spec, 1, &splits, &error));
  g_assert_no_error (error);
  g_assert_cmpint (splits.train->n + splits.val->n, ==, 400);
  g_assert_cmpint (splits.test->n, ==, 100);
  g_assert_nonnull (splits.train->targets);
  g_assert_nonnull (splits.val->targets);
  g_assert_cmpint (splits.train->shape.d[1], ==, 20);
  lam_data_spec_clear (&spec);
}

static void
test_text_set (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = lam_text_corpus_path ();
  g_assert_nonnull (path);
  g_autofree char *text = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_test_message ("%s: %zu bytes", path, len);
  g_assert_cmpuint (len, >=, 20000);
  g_assert_cmpuint (len, <=, 60000);

  g_autoptr(LamDataset) train = lam_dataset_text (0, 32, FALSE, 1, &error);
  g_assert_no_error (error);
  g_autoptr(LamDataset) test = lam_dataset_text (0, 32, TRUE, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (train->shape.rank, ==, 1);
  g_assert_cmpint (train->shape.d[0], ==, 32);
  g_assert_cmpint (train->n_classes, ==, test->n_classes);
  g_assert_cmpint (train->n_classes, <=, 100);
  g_test_message ("vocabulary %d characters, %d training and %d test windows", train->n_classes, train->n,
                  test->n);
  g_assert_cmpint (train->n + test->n, >, (int) len * 8 / 10);

  /* the first window is the start of the corpus, its label the next character */
  for (int t = 0; t < 32; t++)
    {
      char ch[2] = { text[t], 0 };
      g_assert_cmpstr (train->class_names[(int) train->data[t]], ==, ch);
    }
  char next[2] = { text[32], 0 };
  g_assert_cmpstr (train->class_names[train->labels[0]], ==, next);
  /* window i + 1 is window i moved by one character */
  for (int t = 0; t < 31; t++)
    g_assert_cmpfloat (train->data[32 + t], ==, train->data[t + 1]);

  /* a random subset */
  g_autoptr(LamDataset) some = lam_dataset_text (500, 20, FALSE, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (some->n, ==, 500);
}

/* ── Text generation ─────────────────────────────────────────────────── */

static void
test_generate_text (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamDataset) ds = lam_dataset_text (0, 16, FALSE, 1, &error);
  g_assert_no_error (error);
  int V = ds->n_classes;

  g_autoptr(LamGraph) g = graph_with_input (16, 1, 1);
  LamNode *e = add (g, LAM_LAYER_EMBEDDING, "embed", "input");
  e->p.vocab = V;
  e->p.dim = 8;
  add_rnn (g, LAM_LAYER_LSTM, "lstm", "embed", 16, FALSE, FALSE);
  add_head (g, "lstm", FALSE, V, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamBackend) be = lam_backend_new_cpu (1);
  g_autoptr(LamNet) net = lam_net_new (g, be, 4, &error);
  g_assert_no_error (error);

  const char *const *vocab = (const char *const *) ds->class_names;
  g_autofree char *a = lam_seq_generate_text (net, vocab, "The visual cortex", 40, 0.8f, 7, &error);
  g_assert_no_error (error);
  g_autofree char *b = lam_seq_generate_text (net, vocab, "The visual cortex", 40, 0.8f, 7, &error);
  g_autofree char *c = lam_seq_generate_text (net, vocab, "The visual cortex", 40, 0.0f, 7, &error);
  g_test_message ("untrained: \"%s\"", a);
  g_assert_cmpstr (a, ==, b);
  g_assert_true (g_str_has_prefix (a, "The visual cortex"));
  g_assert_cmpint (g_utf8_strlen (a, -1), ==, 17 + 40);
  g_assert_cmpint (g_utf8_strlen (c, -1), ==, 17 + 40);

  /* not a character model */
  g_autoptr(LamGraph) g2 = graph_with_sequence (4, 3);
  add_rnn (g2, LAM_LAYER_GRU, "gru", "seq", 4, FALSE, FALSE);
  add_head (g2, "gru", FALSE, 3, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamNet) net2 = lam_net_new (g2, be, 1, &error);
  g_assert_no_error (error);
  g_assert_null (lam_seq_generate_text (net2, vocab, "x", 5, 1.0f, 1, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
}

/* ── Learning ────────────────────────────────────────────────────────── */

/* A GRU learns to continue sine waves (MSE against targets): the loss
 * falls well below that of predicting zero. */
static void
test_learns_sine (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamDataset) ds = lam_dataset_sequence (LAM_SYNTH_SINE, 512, 20, 0.0f, 1, &error);
  g_assert_no_error (error);

  g_autoptr(LamGraph) g = graph_with_sequence (20, 1);
  add_rnn (g, LAM_LAYER_GRU, "gru", "seq", 16, FALSE, FALSE);
  add_dense (g, "head", "gru", 1, TRUE);
  add (g, LAM_LAYER_MSE, "loss", "head");
  g_autoptr(LamBackend) be = lam_backend_new_cpu (0);
  int B = 32;
  g_autoptr(LamNet) net = lam_net_new (g, be, B, &error);
  g_assert_no_error (error);
  g_assert_true (lam_net_set_use_targets (net, TRUE));
  LamOptConfig oc;
  lam_opt_config_init (&oc);
  oc.kind = LAM_OPT_ADAM;
  oc.lr = 0.01f;
  LamOptimizer *opt = lam_optimizer_new (&oc, be, lam_net_n_params (net));

  double first = 0, last = 0, zero = 0;
  for (int i = 0; i < ds->n; i++)
    zero += ds->targets[i] * ds->targets[i];
  zero /= ds->n;
  int epochs = 12, steps = ds->n / B;
  for (int ep = 0; ep < epochs; ep++)
    {
      double sum = 0;
      for (int s = 0; s < steps; s++)
        {
          gint32 idx[32];
          for (int b = 0; b < B; b++)
            idx[b] = s * B + b;
          be->ops->gather_f32 (be, lam_net_input (net), lam_net_labels (net), ds->data, ds->labels, idx, B, 20);
          be->ops->gather_rows (be, lam_net_targets (net), ds->targets, idx, B, 1);
          lam_net_stats_reset (net);
          lam_net_forward (net, TRUE, 0);
          lam_net_backward (net);
          g_assert_true (lam_optimizer_step (opt, lam_net_params (net), lam_net_grads (net), oc.lr, NULL));
          double l;
          lam_net_stats_read (net, &l, NULL);
          sum += l;
        }
      if (ep == 0)
        first = sum / (steps * B);
      last = sum / (steps * B);
    }
  lam_optimizer_free (opt);
  g_test_message ("sine, GRU 16: MSE %.4f after the first epoch, %.4f after %d (predicting 0: %.4f)", first,
                  last, epochs, zero);
  g_assert_cmpfloat (last, <, zero / 10);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/seq/dense-per-step/grad", test_dense_per_step);
  g_test_add_func ("/engine/seq/image-to-sequence/grad", test_image_to_sequence);
  g_test_add_func ("/engine/seq/simple-rnn/grad", test_rnn);
  g_test_add_func ("/engine/seq/lstm/grad", test_lstm);
  g_test_add_func ("/engine/seq/gru/grad", test_gru);
  g_test_add_func ("/engine/seq/ltc/grad", test_ltc);
  g_test_add_func ("/engine/seq/recurrent-stack/grad", test_recurrent_stack);
  g_test_add_func ("/engine/seq/multihead-attention/grad", test_mha);
  g_test_add_func ("/engine/seq/positional-encoding/grad", test_positional_encoding);
  g_test_add_func ("/engine/seq/layernorm/grad", test_layernorm);
  g_test_add_func ("/engine/seq/embedding/grad", test_embedding);
  g_test_add_func ("/engine/seq/locally-connected2d/grad", test_locally_connected);
  g_test_add_func ("/engine/seq/locally-connected2d/is-conv", test_locally_connected_is_conv);
  g_test_add_func ("/engine/seq/mse-targets/grad", test_mse_targets);
  g_test_add_func ("/engine/seq/encoder-block/grad", test_encoder_block);
  g_test_add_func ("/engine/seq/shapes", test_shapes);
  g_test_add_func ("/engine/seq/shape-errors", test_shape_errors);
  g_test_add_func ("/engine/seq/tensor-names", test_tensor_names);
  g_test_add_func ("/engine/seq/golden-pytorch", test_golden);
  g_test_add_func ("/engine/seq/presets", test_presets);
  g_test_add_func ("/engine/seq/determinism/threads", test_determinism_threads);
  g_test_add_func ("/engine/seq/dataset/sequence-sets", test_sequence_sets);
  g_test_add_func ("/engine/seq/dataset/text", test_text_set);
  g_test_add_func ("/engine/seq/generate-text", test_generate_text);
  g_test_add_func ("/engine/seq/learns/sine", test_learns_sine);

  return g_test_run ();
}
