/* test-gui-seq-views.c: the sequence views of ui/lam-views (hidden
 * states, gates, attention, generated text) and lam-seq-data.
 *
 *  - lam-seq-data: the host recomputation of every recurrent kind
 *    (LSTM, GRU, SimpleRNN, LTC; one or two directions; the last state
 *    or every state) matches the engine's own output after a few
 *    training steps, to 1e-5; and for LSTM and GRU, h recomputed from
 *    the gates alone (c = f·c + i·g, h = o·tanh c; h = (1−z)·n + z·h)
 *    matches it too.
 *  - each view, shown in a window and rendered by GTK into a texture,
 *    has the colours its synthetic data says in the cells its hit
 *    testing names, and the cell under a point is the right one.
 *  - the text view writes text of the requested length from a
 *    character LSTM, on a thread.
 *
 * Needs a display: run under xvfb-run with GTK_A11Y=none and
 * GSK_RENDERER=cairo (meson's suite 'gui' sets both).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>
#include <gtk/gtk.h>

#include "lam-model-file.h"
#include "lam-views.h"
#include "lam-seq-views.h"
#include "gui-views-common.h"

/* ── Helpers (gui-views-common.c) ───────────────────────────────────── */

/* The pixel at the centre of a cell. */
static guint32
centre (const Image *img, const graphene_rect_t *r)
{
  return pixel (img, r->origin.x + r->size.width / 2, r->origin.y + r->size.height / 2);
}

static int
count_opaque_all (const Image *img)
{
  return count_opaque (img, 0, 0, img->width, img->height);
}

/* ── lam-seq-data against the engine ─────────────────────────────────── */

#define T_STEPS 12
#define UNITS   6

static LamNode *
add_node (LamGraph *g, LamLayerKind kind, const char *name, const char *from)
{
  LamNode *n = lam_graph_add_node (g, kind, name);
  if (from)
    lam_graph_connect (g, from, name);
  return n;
}

/* adding problem (T steps of 2 values) → recurrent layer → Dense → MSE,
 * a few steps of Adam on one CPU thread */
static LamTrainer *
small_trainer (LamLayerKind kind, gboolean bidirectional, gboolean sequences, LamDataSplits *s)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  g_autoptr(GError) error = NULL;
  LamNode *in = add_node (g, LAM_LAYER_INPUT, "input", NULL), *rnn;
  LamTrainConfig c;
  LamTrainer *t;

  in->p.channels = 1, in->p.height = T_STEPS, in->p.width = 2;
  add_node (g, LAM_LAYER_IMAGE_TO_SEQUENCE, "seq", "input");
  rnn = add_node (g, kind, "rnn", "seq");
  rnn->p.units = UNITS;
  rnn->p.bidirectional = bidirectional;
  rnn->p.return_sequences = sequences;
  if (kind == LAM_LAYER_LTC)
    rnn->p.ode_steps = 3;
  if (sequences)
    add_node (g, LAM_LAYER_GLOBALAVGPOOL, "gap", "rnn");
  add_node (g, LAM_LAYER_DENSE, "out", sequences ? "gap" : "rnn")->p.units = 1;
  add_node (g, LAM_LAYER_MSE, "loss", "out");
  g_assert_true (lam_graph_validate (g, &error));
  g_assert_no_error (error);

  lam_train_config_init (&c);
  g_free (c.data.name);
  c.data.name = g_strdup ("adding");
  c.data.length = T_STEPS;
  c.data.n_samples = 128;
  g_free (c.backend);
  c.backend = g_strdup ("cpu");
  c.threads = 1;
  c.batch = 16;
  c.opt.kind = LAM_OPT_ADAM;
  c.opt.lr = 0.01f;
  g_assert_true (lam_data_open (&c.data, 1, s, &error));
  g_assert_no_error (error);
  t = lam_trainer_new (g, &c, s, &error);
  g_assert_no_error (error);
  lam_train_config_clear (&c);
  for (int i = 0; i < 5; i++)
    {
      g_assert_true (lam_trainer_step (t, NULL, &error));
      g_assert_no_error (error);
    }
  return t;
}

/* h from the gates alone, per direction in processing order; returns
 * the largest difference from the engine's output y. */
static double
h_from_gates (const LamSeqTrace *tr, const float *y, gboolean sequences)
{
  int T = tr->T, H = tr->H, HD = H * tr->dirs;
  double err = 0;

  for (int d = 0; d < tr->dirs; d++)
    for (int j = 0; j < H; j++)
      {
        double h = 0, c = 0;
        for (int s = 0; s < T; s++)
          {
            int t = d ? T - 1 - s : s;
            gsize o = (gsize) t * HD + d * H + j;
            const float *g = tr->gates;
            gsize gs = (gsize) T * HD;
            if (tr->kind == LAM_LAYER_LSTM)
              {
                c = g[gs + o] * c + g[o] * g[2 * gs + o];
                h = g[3 * gs + o] * tanh (c);
                g_assert_cmpfloat (fabs (c - tr->cells[o]), <, 1e-6);
              }
            else
              h = (1 - g[gs + o]) * g[2 * gs + o] + g[gs + o] * h;
            if (sequences)
              err = MAX (err, fabs (h - y[o]));
          }
        if (!sequences)
          err = MAX (err, fabs (h - y[d * H + j]));
      }
  return err;
}

static void
check_kind (LamLayerKind kind)
{
  for (int b = 0; b < 2; b++)
    for (int r = 0; r < 2; r++)
      {
        g_auto (LamDataSplits) s = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(LamTrainer) t = small_trainer (kind, b, r, &s);
        const LamGraph *g = lam_net_graph (lam_trainer_net (t));
        float **acts = NULL;
        g_autoptr(LamSeqTrace) tr = lam_seq_trace_from_trainer (t, s.val, 3, "rnn", &acts, &error);
        const float *y;

        g_assert_no_error (error);
        g_assert_nonnull (tr);
        g_assert_nonnull (acts);
        y = acts[lam_graph_index_of (g, "rnn")];
        g_test_message ("%s%s%s: max |host − engine| = %.2g", lam_layer_info (kind)->type_name,
                        b ? " bidirectional" : "", r ? " sequences" : "", tr->max_error);
        g_assert_cmpint (tr->T, ==, T_STEPS);
        g_assert_cmpint (tr->F, ==, 2);
        g_assert_cmpint (tr->H, ==, UNITS);
        g_assert_cmpint (tr->dirs, ==, b ? 2 : 1);
        g_assert_cmpfloat (tr->max_error, <, 1e-5);
        /* the input is the sample the engine read */
        for (int i = 0; i < T_STEPS * 2; i++)
          g_assert_cmpfloat (tr->input[i], ==, s.val->data[(gsize) 3 * T_STEPS * 2 + i]);
        if (kind == LAM_LAYER_LSTM || kind == LAM_LAYER_GRU)
          {
            double err = h_from_gates (tr, y, r);
            g_assert_cmpint (tr->n_gates, ==, kind == LAM_LAYER_LSTM ? 4 : 3);
            g_assert_cmpfloat (err, <, 1e-5);
            /* sigmoid gates in 0..1, the tanh candidate in −1..1 */
            for (int gi = 0; gi < tr->n_gates; gi++)
              for (gsize i = 0; i < (gsize) T_STEPS * UNITS * tr->dirs; i++)
                {
                  float v = tr->gates[(gsize) gi * T_STEPS * UNITS * tr->dirs + i];
                  g_assert_cmpfloat (v, >=, lam_seq_gate_is_signed (kind, gi) ? -1 : 0);
                  g_assert_cmpfloat (v, <=, 1);
                }
          }
        else
          {
            g_assert_cmpint (tr->n_gates, ==, 0);
            g_assert_null (tr->gates);
          }
        lam_trainer_free_activations (t, acts);
      }
}

static void
test_data_lstm (void)
{
  check_kind (LAM_LAYER_LSTM);
}

static void
test_data_gru (void)
{
  check_kind (LAM_LAYER_GRU);
}

static void
test_data_rnn (void)
{
  check_kind (LAM_LAYER_SIMPLE_RNN);
}

static void
test_data_ltc (void)
{
  check_kind (LAM_LAYER_LTC);
}

static void
test_data_nodes (void)
{
  g_auto (LamDataSplits) s = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(LamTrainer) t = small_trainer (LAM_LAYER_LSTM, FALSE, FALSE, &s);
  const LamGraph *g = lam_net_graph (lam_trainer_net (t));

  g_assert_cmpstr (lam_seq_view_recurrent_node (g)->name, ==, "rnn");
  g_assert_null (lam_seq_view_attention_node (g));
  g_assert_true (lam_seq_view_steps_are_rows (g, lam_seq_view_recurrent_node (g)));
  g_assert_false (lam_seq_view_is_text_model (g));
  g_assert_null (lam_seq_trace_from_trainer (t, s.val, 0, "out", NULL, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (lam_seq_gate_names (LAM_LAYER_LSTM)[1], ==, "forget gate");
  g_assert_cmpstr (lam_seq_gate_names (LAM_LAYER_GRU)[2], ==, "new");
  g_assert_null (lam_seq_gate_names (LAM_LAYER_LTC));
}

/* The cost of the host recomputation for the lstm preset's layer (28
 * steps of 28 values, 128 units), for the figure in lam-seq-data.h. */
static void
test_data_cost (void)
{
  LamNode node = { .name = (char *) "lstm", .kind = LAM_LAYER_LSTM };
  enum { T = 28, F = 28, H = 128 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autofree float *x = g_new (float, T * F);
  float *w[4];
  const gsize n[4] = { 4 * H * F, 4 * H * H, 4 * H, 4 * H };
  gint64 t0;
  double ms;

  node.p.units = H;
  for (int i = 0; i < T * F; i++)
    x[i] = (float) g_rand_double_range (rand, -1, 1);
  for (int k = 0; k < 4; k++)
    {
      w[k] = g_new (float, n[k]);
      for (gsize i = 0; i < n[k]; i++)
        w[k][i] = (float) g_rand_double_range (rand, -0.09, 0.09);
    }
  t0 = g_get_monotonic_time ();
  for (int r = 0; r < 10; r++)
    {
      g_autoptr(LamSeqTrace) tr = lam_seq_trace_compute (&node, x, T, F, w, NULL);
      g_assert_nonnull (tr);
      g_assert_cmpint (tr->n_gates, ==, 4);
    }
  ms = (g_get_monotonic_time () - t0) / 1000.0 / 10;
  g_test_message ("LSTM 28 steps × 128 units recomputed in %.2f ms", ms);
  g_assert_cmpfloat (ms, <, 50);
  for (int k = 0; k < 4; k++)
    g_free (w[k]);
}

/* ── LamSequenceView ─────────────────────────────────────────────────── */

static void
test_sequence_view (void)
{
  GtkWidget *view = lam_sequence_view_new ();
  GtkWidget *window = show (view, 1000, 640);
  LamSequenceView *sv = LAM_SEQUENCE_VIEW (view);
  enum { T = 10, H = 6, F = 8 };
  float h[T * H], x[T * F];
  g_auto (Image) img = { 0 };
  g_autofree char *text = NULL;
  graphene_rect_t r;
  int unit, step, sel[8], n;
  const int *order;

  /* unit u: +1 (u % 3 == 0), −1 (u % 3 == 1) or 0, except unit 5,
   * which peaks at step 7 */
  for (int t = 0; t < T; t++)
    for (int u = 0; u < H; u++)
      h[t * H + u] = u % 3 == 0 ? 1.0f : u % 3 == 1 ? -1.0f : 0.0f;
  for (int t = 0; t < T; t++)
    h[t * H + 5] = t == 7 ? 1.0f : 0.0f;
  for (int i = 0; i < T * F; i++)
    x[i] = (float) i;
  lam_sequence_view_set_states (sv, h, T, H, "test · LSTM");
  lam_sequence_view_set_input (sv, x, T, F, TRUE);
  wait_frames (2);
  render (view, &img);
  g_assert_cmpint (count_opaque_all (&img), >, 1000);

  /* sorted by peak: the units that peak at step 0 first, unit 5 last */
  order = lam_sequence_view_get_unit_order (sv, &n);
  g_assert_cmpint (n, ==, H);
  g_assert_cmpint (order[H - 1], ==, 5);
  g_assert_cmpint (order[0], ==, 0);

  g_assert_true (lam_sequence_view_get_cell_rect (sv, 0, 2, &r));
  assert_color (centre (&img, &r), 0xb2182b, 2);   /* +1: the red end */
  g_assert_true (lam_sequence_view_get_cell_rect (sv, 4, 9, &r));
  assert_color (centre (&img, &r), 0x2166ac, 2);   /* −1: the blue end */
  g_assert_true (lam_sequence_view_get_cell_rect (sv, 2, 0, &r));
  assert_color (centre (&img, &r), 0xffffff, 1);   /* 0: white */
  g_assert_true (lam_sequence_view_get_cell_rect (sv, 5, 7, &r));
  assert_color (centre (&img, &r), 0xb2182b, 2);

  g_assert_true (lam_sequence_view_cell_at (sv, r.origin.x + r.size.width / 2,
                                            r.origin.y + r.size.height / 2, &unit, &step));
  g_assert_cmpint (unit, ==, 5);
  g_assert_cmpint (step, ==, 7);
  g_assert_cmpint (lam_sequence_view_step_at (sv, r.origin.x + 1, r.origin.y + 1), ==, 7);
  g_assert_false (lam_sequence_view_cell_at (sv, 1, 1, &unit, &step));
  text = lam_sequence_view_describe_cell (sv, 5, 7);
  g_assert_true (g_str_has_prefix (text, "Unit 5 after row 7: 1.000"));

  /* the image rows stand left of the map: the row of step 7 is
   * brighter than that of step 0 (x grows down the image) */
  {
    double y7 = r.origin.y + r.size.height / 2;
    g_assert_true (lam_sequence_view_get_cell_rect (sv, 0, 0, &r));
    double y0 = r.origin.y + r.size.height / 2, xs = -1;
    for (int px = (int) r.origin.x - 20; px > 0; px--)
      if (G (pixel (&img, px, y7)) > 0x80 && R (pixel (&img, px, y7)) == G (pixel (&img, px, y7)))
        {
          xs = px;
          break;
        }
    g_assert_cmpfloat (xs, >, 0);
    g_assert_cmpint (G (pixel (&img, xs, y7)), >, G (pixel (&img, xs, y0)));
  }

  /* three units are followed from the start (largest swing first), and
   * a click on a column follows or drops it */
  n = lam_sequence_view_get_selected_units (sv, sel, 8);
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpint (sel[0], ==, 5);
  g_assert_true (lam_sequence_view_get_cell_rect (sv, 3, 4, &r));
  click (view, r.origin.x + r.size.width / 2, r.origin.y + 2);
  n = lam_sequence_view_get_selected_units (sv, sel, 8);
  g_assert_cmpint (n, ==, 4);
  g_assert_cmpint (sel[3], ==, 3);
  click (view, r.origin.x + r.size.width / 2, r.origin.y + 2);
  g_assert_cmpint (lam_sequence_view_get_selected_units (sv, NULL, 0), ==, 3);
  /* the user's choice survives new data of the same width */
  lam_sequence_view_set_selected_units (sv, (const int[]) { 2 }, 1);
  lam_sequence_view_set_states (sv, h, T, H, NULL);
  n = lam_sequence_view_get_selected_units (sv, sel, 8);
  g_assert_cmpint (n, ==, 1);
  g_assert_cmpint (sel[0], ==, 2);

  /* a character model's steps are named by their characters */
  {
    const char *const chars[] = { "T", "h", "e", " ", "c", "a", "t", " ", "s", "a", NULL };
    g_autofree char *desc = NULL;
    lam_sequence_view_set_input (sv, NULL, 0, 0, FALSE);
    lam_sequence_view_set_step_labels (sv, chars);
    desc = lam_sequence_view_describe_cell (sv, 1, 3);
    g_assert_true (g_str_has_prefix (desc, "Unit 1 after step 3 ‘␣’: -1.000"));
    wait_frames (2);
    image_clear (&img);
    render (view, &img);
    g_assert_cmpint (count_opaque_all (&img), >, 1000);
  }

  /* unsorted: columns in unit order */
  lam_sequence_view_set_sort_units (sv, FALSE);
  order = lam_sequence_view_get_unit_order (sv, NULL);
  for (int u = 0; u < H; u++)
    g_assert_cmpint (order[u], ==, u);

  lam_sequence_view_clear (sv);
  g_assert_false (lam_sequence_view_get_cell_rect (sv, 0, 0, &r));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ── LamGateView ─────────────────────────────────────────────────────── */

static void
test_gate_view (void)
{
  GtkWidget *view = lam_gate_view_new ();
  GtkWidget *window = show (view, 1000, 640);
  LamGateView *gv = LAM_GATE_VIEW (view);
  enum { T = 8, H = 5 };
  float g[4 * T * H];
  g_auto (Image) img = { 0 };
  g_autofree char *text = NULL;
  graphene_rect_t r;
  int gate, unit, step;

  /* input gate 0, forget gate 1, candidate −1, output gate 0.5; one
   * forget-gate cell half open */
  for (int i = 0; i < T * H; i++)
    {
      g[i] = 0;
      g[T * H + i] = 1;
      g[2 * T * H + i] = -1;
      g[3 * T * H + i] = 0.5f;
    }
  g[T * H + 3 * H + 2] = 0.5f;
  lam_gate_view_set_gates (gv, LAM_LAYER_LSTM, g, T, H, "test · LSTM gates");
  g_assert_cmpint (lam_gate_view_get_n_gates (gv), ==, 4);
  wait_frames (2);
  render (view, &img);

  g_assert_true (lam_gate_view_get_cell_rect (gv, 0, 1, 1, &r));
  assert_color (centre (&img, &r), 0x440154, 2);   /* viridis 0 */
  g_assert_true (lam_gate_view_get_cell_rect (gv, 1, 4, 6, &r));
  assert_color (centre (&img, &r), 0xfde725, 2);   /* viridis 1 */
  g_assert_true (lam_gate_view_get_cell_rect (gv, 2, 0, 0, &r));
  assert_color (centre (&img, &r), 0x2166ac, 2);   /* the candidate's −1 */
  g_assert_true (lam_gate_view_get_cell_rect (gv, 3, 2, 5, &r));
  assert_color (centre (&img, &r), 0x22918b, 2);   /* viridis 0.5 */
  g_assert_true (lam_gate_view_get_cell_rect (gv, 1, 2, 3, &r));
  assert_color (centre (&img, &r), 0x22918b, 2);

  g_assert_true (lam_gate_view_cell_at (gv, r.origin.x + r.size.width / 2,
                                        r.origin.y + r.size.height / 2, &gate, &unit, &step));
  g_assert_cmpint (gate, ==, 1);
  g_assert_cmpint (unit, ==, 2);
  g_assert_cmpint (step, ==, 3);
  text = lam_gate_view_describe_cell (gv, 1, 2, 3);
  g_assert_cmpstr (text, ==, "Forget gate, unit 2, after step 3: 0.500");

  /* the same unit order as a sequence view: unit 4 in column 0 */
  lam_gate_view_set_unit_order (gv, (const int[]) { 4, 3, 2, 1, 0 }, H);
  {
    graphene_rect_t r4, r0;
    g_assert_true (lam_gate_view_get_cell_rect (gv, 0, 4, 0, &r4));
    g_assert_true (lam_gate_view_get_cell_rect (gv, 0, 0, 0, &r0));
    g_assert_cmpfloat (r4.origin.x, <, r0.origin.x);
  }

  /* GRU: three gates; SimpleRNN: none, and a message instead */
  lam_gate_view_set_gates (gv, LAM_LAYER_GRU, g, T, H, NULL);
  g_assert_cmpint (lam_gate_view_get_n_gates (gv), ==, 3);
  lam_gate_view_set_gates (gv, LAM_LAYER_SIMPLE_RNN, NULL, 0, 0, NULL);
  g_assert_cmpint (lam_gate_view_get_n_gates (gv), ==, 0);
  g_assert_false (lam_gate_view_cell_at (gv, 500, 300, NULL, NULL, NULL));
  wait_frames (2);
  image_clear (&img);
  render (view, &img);
  g_assert_cmpint (count_opaque_all (&img), >, 50);

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ── LamAttentionView ────────────────────────────────────────────────── */

static void
test_attention_view (void)
{
  GtkWidget *view = lam_attention_view_new ();
  GtkWidget *window = show (view, 1000, 640);
  LamAttentionView *av = LAM_ATTENTION_VIEW (view);
  enum { HEADS = 3, T = 6 };
  float p[HEADS * T * T];
  g_auto (Image) img = { 0 };
  g_autofree char *text = NULL;
  graphene_rect_t r;
  int head, q, k;

  /* head 0 looks at itself, head 1 everywhere evenly, head 2 at step 0 */
  for (int h = 0; h < HEADS; h++)
    for (int i = 0; i < T; i++)
      for (int j = 0; j < T; j++)
        p[(h * T + i) * T + j] = h == 0 ? (i == j) : h == 1 ? 1.0f / T : (j == 0);
  lam_attention_view_set_weights (av, p, HEADS, T, "test · attention");
  g_assert_cmpint (lam_attention_view_get_n_heads (av), ==, HEADS);
  wait_frames (2);
  render (view, &img);

  g_assert_true (lam_attention_view_get_cell_rect (av, 0, 3, 3, &r));
  assert_color (centre (&img, &r), 0xfde725, 2);
  g_assert_true (lam_attention_view_get_cell_rect (av, 0, 3, 4, &r));
  assert_color (centre (&img, &r), 0x440154, 2);
  g_assert_true (lam_attention_view_get_cell_rect (av, 2, 5, 0, &r));
  assert_color (centre (&img, &r), 0xfde725, 2);
  {
    /* 1/6 of viridis: still dark purple-blue */
    guint32 px;
    g_assert_true (lam_attention_view_get_cell_rect (av, 1, 2, 4, &r));
    px = centre (&img, &r);
    g_assert_cmpint (B (px), >, R (px));
    g_assert_cmpint (G (px), <, 0x50);
  }

  g_assert_true (lam_attention_view_get_cell_rect (av, 2, 4, 1, &r));
  g_assert_true (lam_attention_view_cell_at (av, r.origin.x + r.size.width / 2,
                                             r.origin.y + r.size.height / 2, &head, &q, &k));
  g_assert_cmpint (head, ==, 2);
  g_assert_cmpint (q, ==, 4);
  g_assert_cmpint (k, ==, 1);
  g_assert_false (lam_attention_view_cell_at (av, 2, 2, &head, &q, &k));
  lam_attention_view_set_input (av, NULL, T, 4, TRUE);
  text = lam_attention_view_describe_cell (av, 1, 4, 1);
  g_assert_cmpstr (text, ==, "Head 2: row 4 takes 0.167 of its input from row 1");

  /* auto-scale: the largest weight is the top of the scale */
  for (int i = 0; i < HEADS * T * T; i++)
    p[i] *= 0.5f;
  lam_attention_view_set_weights (av, p, HEADS, T, NULL);
  wait_frames (2);
  image_clear (&img);
  render (view, &img);
  g_assert_true (lam_attention_view_get_cell_rect (av, 0, 1, 1, &r));
  assert_color (centre (&img, &r), 0xfde725, 2);
  lam_attention_view_set_auto_scale (av, FALSE);
  wait_frames (2);
  image_clear (&img);
  render (view, &img);
  assert_color (centre (&img, &r), 0x22918b, 2);   /* 0.5 of 0..1 */

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ── LamTextView ─────────────────────────────────────────────────────── */

static void
on_generate_requested (LamTextView *view, const char *prompt, double temperature, int length,
                       guint64 seed, int *count)
{
  (*count)++;
  lam_text_view_set_text (view, "ab: written elsewhere", 2);
}

static gboolean
tick_cb (gpointer data)
{
  gint64 *last = data;
  gint64 now = g_get_monotonic_time ();

  last[1] = MAX (last[1], now - last[0]);
  last[0] = now;
  return G_SOURCE_CONTINUE;
}

static void
test_text_view (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_load_preset ("charlstm", &error);
  g_auto (LamDataSplits) s = { 0 };
  g_autoptr(LamTrainer) t = NULL;
  GtkWidget *view = lam_text_view_new ();
  GtkWidget *window = show (view, 900, 500);
  LamTextView *tv = LAM_TEXT_VIEW (view);
  g_autofree char *text = NULL;
  gint64 gaps[2], t0, deadline;
  int requested = 0;
  guint tick;

  /* without a trainer, the integrator is asked */
  g_signal_connect (view, "generate-requested", G_CALLBACK (on_generate_requested), &requested);
  g_assert_true (lam_text_view_generate (tv));
  g_assert_cmpint (requested, ==, 1);
  text = lam_text_view_dup_text (tv);
  g_assert_cmpstr (text, ==, "ab: written elsewhere");
  g_clear_pointer (&text, g_free);

  /* a character LSTM after a few steps */
  g_assert_no_error (error);
  m->config.data.n_samples = 512;
  g_free (m->config.backend);
  m->config.backend = g_strdup ("cpu");
  m->config.threads = 1;
  g_assert_true (lam_data_open (&m->config.data, m->config.seed, &s, &error));
  g_assert_no_error (error);
  t = lam_trainer_new (m->graph, &m->config, &s, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 3; i++)
    g_assert_true (lam_trainer_step (t, NULL, &error));
  g_assert_true (lam_seq_view_is_text_model (lam_net_graph (lam_trainer_net (t))));

  lam_text_view_set_trainer (tv, t, (const char *const *) s.train->class_names);
  lam_text_view_set_prompt (tv, "The ");
  lam_text_view_set_length (tv, 40);
  lam_text_view_set_temperature (tv, 0.5);
  g_assert_cmpint (lam_text_view_get_length (tv), ==, 40);
  g_assert_cmpfloat (lam_text_view_get_temperature (tv), ==, 0.5);

  /* on a thread: the main loop keeps turning meanwhile */
  gaps[0] = g_get_monotonic_time ();
  gaps[1] = 0;
  tick = g_timeout_add (5, tick_cb, gaps);
  t0 = g_get_monotonic_time ();
  g_assert_true (lam_text_view_generate (tv));
  g_assert_true (lam_text_view_get_busy (tv));
  g_assert_false (lam_text_view_generate (tv));   /* one at a time */
  deadline = t0 + 30 * G_USEC_PER_SEC;
  while (lam_text_view_get_busy (tv) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  g_assert_false (lam_text_view_get_busy (tv));
  g_test_message ("40 characters in %.1f ms; longest main-loop gap %.1f ms",
                  (g_get_monotonic_time () - t0) / 1000.0, gaps[1] / 1000.0);
  text = lam_text_view_dup_text (tv);
  g_assert_true (g_str_has_prefix (text, "The "));
  g_assert_cmpint (g_utf8_strlen (text, -1), ==, 4 + 40);
  g_assert_cmpint (requested, ==, 1);

  /* Follow training writes at once, then only after new steps */
  lam_text_view_set_follow (tv, TRUE);
  g_assert_true (lam_text_view_get_busy (tv));
  while (lam_text_view_get_busy (tv) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  lam_text_view_set_follow (tv, FALSE);

  /* cleared: asks the integrator again */
  lam_text_view_set_trainer (tv, NULL, NULL);
  g_assert_true (lam_text_view_generate (tv));
  g_assert_cmpint (requested, ==, 2);

  /* freed while writing: the trainer outlives the thread's use of it */
  lam_text_view_set_trainer (tv, t, (const char *const *) s.train->class_names);
  g_assert_true (lam_text_view_generate (tv));
  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_pointer (&t, lam_trainer_free);
  wait_frames (5);
}

int
main (int argc, char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gui/seq-views/data/lstm", test_data_lstm);
  g_test_add_func ("/gui/seq-views/data/gru", test_data_gru);
  g_test_add_func ("/gui/seq-views/data/simple-rnn", test_data_rnn);
  g_test_add_func ("/gui/seq-views/data/ltc", test_data_ltc);
  g_test_add_func ("/gui/seq-views/data/nodes", test_data_nodes);
  g_test_add_func ("/gui/seq-views/data/cost", test_data_cost);
  g_test_add_func ("/gui/seq-views/sequence-view", test_sequence_view);
  g_test_add_func ("/gui/seq-views/gate-view", test_gate_view);
  g_test_add_func ("/gui/seq-views/attention-view", test_attention_view);
  g_test_add_func ("/gui/seq-views/text-view", test_text_view);
  return g_test_run ();
}
