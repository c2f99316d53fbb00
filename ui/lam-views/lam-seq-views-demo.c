/* lam-seq-views-demo.c: the sequence views, live, on three training runs.
 *
 * An LSTM reads Fashion-MNIST row by row (the lstm preset, 3000 training
 * images; --rnn gru, rnn or ltc for the other recurrent presets), a
 * Transformer encoder reads it too (the transformer preset, 3000
 * images) and a character LSTM learns the shipped text (the charlstm
 * preset, 20 000 windows), each on its trainer's worker thread, one
 * core each. As in lam-views-demo, the metrics callbacks only queue
 * metrics; a 5 Hz timeout on the main thread drains them and starts, when
 * none is running, one refresh task on a GTask thread that takes the
 * copies the views need (the recurrent layer's trace for the chosen
 * image, the attention of the chosen image), so the main loop never
 * waits for a trainer's lock. The text view writes on its own thread.
 *
 *   lam-seq-views-demo [--rnn lstm|gru|rnn|ltc] [--epochs N] [--sample I]
 *                      [--dark] [--screenshots DIR] [--shot-after SECONDS]
 *
 * --screenshots writes views-seq-{hidden,gates,attention,text}.png after
 * the delay, then quits. LAM_DEMO_VERBOSE=1 logs the refresh costs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views-demo"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "lam-views.h"
#include "lam-seq-views.h"
#include "lam-model-file.h"
#include "lam-seq.h"

#define REFRESH_MS 160      /* 6 Hz: at least 5 when a copy waits for a step */
#define N_BROWSE   300

/* ── A training run (as in lam-views-demo.c) ─────────────────────────── */

typedef struct {
  LamTrainer     *trainer;
  LamDataSplits   data;
  const LamGraph *graph;      /* the net's validated copy */
  char           *name;       /* "LSTM (rows)" */
  int             epochs;
  GMutex          lock;       /* guards the fields below */
  LamMetrics      last;
  gboolean        have_last;
  LamTrainerState state;
} Run;

static void
run_metrics_cb (LamTrainer *t, const LamMetrics *m, gpointer data)
{
  Run *run = data;

  g_mutex_lock (&run->lock);
  run->last = *m;
  run->have_last = TRUE;
  g_mutex_unlock (&run->lock);
}

static void
run_state_cb (LamTrainer *t, LamTrainerState state, const GError *error, gpointer data)
{
  Run *run = data;

  g_mutex_lock (&run->lock);
  run->state = state;
  g_mutex_unlock (&run->lock);
  if (error)
    g_warning ("%s: %s", run->name, error->message);
}

static void
run_free (Run *run)
{
  if (run == NULL)
    return;
  lam_trainer_free (run->trainer);   /* stops the worker first */
  lam_data_splits_clear (&run->data);
  g_free (run->name);
  g_mutex_clear (&run->lock);
  g_free (run);
}

/* A preset on one CPU thread; limit > 0 cuts its training images,
 * n_samples > 0 sets a text set's windows. */
static Run *
run_new (const char *preset, int limit, int n_samples, int epochs, GError **error)
{
  g_autoptr(LamModelFile) m = lam_model_file_load_preset (preset, error);
  Run *run;

  if (m == NULL)
    return NULL;
  if (limit > 0)
    m->config.data.limit = limit;
  /* a small validation set: its pass at each epoch's end holds the
   * trainer, and the views' copies would wait for it */
  m->config.data.val_fraction = MIN (m->config.data.val_fraction, 0.02f);
  if (n_samples > 0)
    m->config.data.n_samples = n_samples;
  m->config.epochs = epochs;
  g_free (m->config.backend);
  m->config.backend = g_strdup ("cpu");
  m->config.threads = 1;

  run = g_new0 (Run, 1);
  g_mutex_init (&run->lock);
  run->name = g_strdup (m->name);
  run->epochs = epochs;
  if (!lam_data_open (&m->config.data, m->config.seed, &run->data, error)
      || (run->trainer = lam_trainer_new (m->graph, &m->config, &run->data, error)) == NULL)
    {
      run_free (run);
      return NULL;
    }
  run->graph = lam_net_graph (lam_trainer_net (run->trainer));
  lam_trainer_set_callbacks (run->trainer, run_metrics_cb, run_state_cb, run);
  return run;
}

/* "LSTM (rows) · epoch 1/3 · loss 0.712 · accuracy 74.0%" */
static char *
run_status (Run *run)
{
  LamMetrics m;
  gboolean have;
  LamTrainerState state;

  g_mutex_lock (&run->lock);
  m = run->last;
  have = run->have_last;
  state = run->state;
  g_mutex_unlock (&run->lock);
  if (!have)
    return g_strdup_printf ("%s · starting…", run->name);
  return g_strdup_printf ("%s · epoch %d/%d · step %d · loss %.3f · accuracy %.1f%%%s", run->name,
                          m.epoch + 1, run->epochs, m.step, m.train_loss,
                          m.train_accuracy * 100,
                          state == LAM_TRAINER_FINISHED ? " · finished"
                          : state == LAM_TRAINER_PAUSED ? " · paused" : "");
}

/* ── The demo ────────────────────────────────────────────────────────── */

typedef struct {
  GtkApplication   *app;
  GtkWindow        *window;
  AdwViewStack     *stack;

  Run              *rnn;           /* lstm, gru, rnn or ltc preset */
  Run              *attn;          /* transformer */
  Run              *text;          /* charlstm */
  LamDataset       *val;           /* the first N_BROWSE validation images */
  char             *rnn_preset;
  char             *rnn_node;
  char             *attn_node;
  gboolean          rows;
  int               epochs;

  LamSequenceView  *sequence;
  LamGateView      *gates;
  LamAttentionView *attention;
  LamTextView      *textview;
  LamSampleBrowser *browsers[3];
  GtkLabel         *status[4];

  int               sample;
  guint             timeout_id;
  gboolean          busy;
  gboolean          pending;       /* a tick came while busy */
  gboolean          paused;
  gboolean          dark;

  /* measurements */
  double            task_ms, apply_ms, max_apply_ms;
  guint             n_refresh;
  gint64            first_refresh, last_refresh;

  char             *shot_dir;
  int               shot_after;
  guint             shot_index;
} Demo;

/* ── Refresh: copies on a worker, setters on the main thread ─────────── */

typedef struct {
  Run         *rnn, *attn;
  LamDataset  *val;
  int          sample;
  char        *rnn_node, *attn_node;

  LamSeqTrace *trace;
  float       *att;
  int          heads, steps;
  double       ms, rnn_ms;
} Refresh;

static void
refresh_free (Refresh *r)
{
  lam_seq_trace_free (r->trace);
  g_free (r->att);
  g_free (r->rnn_node);
  g_free (r->attn_node);
  g_free (r);
}

static void
refresh_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Refresh *r = data;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr(GError) error = NULL;

  if (r->rnn && r->rnn_node)
    {
      r->trace = lam_seq_trace_from_trainer (r->rnn->trainer, r->val, r->sample, r->rnn_node,
                                             NULL, &error);
      if (r->trace == NULL)
        g_warning ("trace: %s", error->message);
      g_clear_error (&error);
    }
  r->rnn_ms = (g_get_monotonic_time () - t0) / 1000.0;
  if (r->attn && r->attn_node)
    {
      r->att = lam_seq_attention_for_sample (r->attn->trainer, r->val, r->sample, r->attn_node,
                                             &r->heads, &r->steps, &error);
      if (r->att == NULL)
        g_warning ("attention: %s", error->message);
    }
  r->ms = (g_get_monotonic_time () - t0) / 1000.0;
  g_task_return_boolean (task, TRUE);
}

static void
set_statuses (Demo *d)
{
  Run *runs[4] = { d->rnn, d->rnn, d->attn, d->text };

  for (int i = 0; i < 4; i++)
    if (runs[i])
      {
        g_autofree char *text = run_status (runs[i]);
        gtk_label_set_text (d->status[i], text);
      }
}

static void start_refresh (Demo *d);

static void
refresh_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Demo *d = data;
  Refresh *r = g_task_get_task_data (G_TASK (result));
  gint64 t0 = g_get_monotonic_time ();
  double ms;

  d->busy = FALSE;
  if (d->window == NULL)
    return;
  /* a tick missed while copying: go again now rather than at the next
   * one, so a slow copy costs its own time, not a whole period more */
  if (d->pending)
    {
      d->pending = FALSE;
      g_idle_add_once ((GSourceOnceFunc) start_refresh, d);
    }

  if (r->trace)
    {
      LamSeqTrace *tr = r->trace;
      const LamLayerInfo *info = lam_layer_info (tr->kind);
      int HD = tr->H * tr->dirs, n = 0;
      const int *order;
      g_autofree char *title = g_strdup_printf ("%s · %s, %d units%s · image #%d: %s",
                                                tr->node, info->type_name, tr->H,
                                                tr->dirs > 1 ? " each way" : "", r->sample,
                                                r->val->class_names[r->val->labels[r->sample]]);
      lam_sequence_view_set_input (d->sequence, tr->input, tr->T, tr->F, d->rows);
      lam_sequence_view_set_states (d->sequence, tr->states, tr->T, HD, title);
      lam_gate_view_set_input (d->gates, tr->input, tr->T, tr->F, d->rows);
      lam_gate_view_set_gates (d->gates, tr->kind, tr->gates, tr->T, HD, title);
      /* the same column for each unit in both views */
      order = lam_sequence_view_get_unit_order (d->sequence, &n);
      lam_gate_view_set_unit_order (d->gates, order, n);
      if (tr->max_error > 1e-3)
        g_message ("the host recomputation is %.2g off the engine's output", tr->max_error);
    }
  if (r->att)
    {
      g_autofree float *img = g_new (float, 784);
      g_autofree char *title = g_strdup_printf ("%s · %d heads · image #%d: %s", r->attn_node,
                                                r->heads, r->sample,
                                                r->val->class_names[r->val->labels[r->sample]]);
      for (int i = 0; i < 784; i++)
        img[i] = r->val->images[(gsize) r->sample * 784 + i] / 255.0f;
      lam_attention_view_set_input (d->attention, img, 28, 28, TRUE);
      lam_attention_view_set_weights (d->attention, r->att, r->heads, r->steps, title);
    }
  set_statuses (d);

  ms = (g_get_monotonic_time () - t0) / 1000.0;
  d->task_ms += r->ms;
  d->apply_ms += ms;
  d->max_apply_ms = MAX (d->max_apply_ms, ms);
  d->n_refresh++;
  d->last_refresh = g_get_monotonic_time ();
  if (d->first_refresh == 0)
    d->first_refresh = d->last_refresh;
  if (g_getenv ("LAM_DEMO_VERBOSE"))
    g_message ("refresh %u: copies %.1f ms (trace %.1f, attention %.1f), setters %.2f ms",
               d->n_refresh, r->ms, r->rnn_ms, r->ms - r->rnn_ms, ms);
}

static void
start_refresh (Demo *d)
{
  g_autoptr(GTask) task = NULL;
  Refresh *r;

  if (d->busy || d->window == NULL)
    {
      d->pending = d->busy;
      return;
    }
  r = g_new0 (Refresh, 1);
  r->rnn = d->rnn;
  r->attn = d->attn;
  r->val = d->val;
  r->sample = d->sample;
  r->rnn_node = g_strdup (d->rnn_node);
  r->attn_node = g_strdup (d->attn_node);
  d->busy = TRUE;

  task = g_task_new (NULL, NULL, refresh_done, d);
  g_task_set_task_data (task, r, (GDestroyNotify) refresh_free);
  g_task_run_in_thread (task, refresh_thread);
}

/* Refreshes at 5 Hz while anything trains, and once more after. */
static gboolean
tick (gpointer data)
{
  Demo *d = data;

  start_refresh (d);
  return G_SOURCE_CONTINUE;
}

/* ── Interaction ─────────────────────────────────────────────────────── */

static void
select_sample (Demo *d, int index)
{
  if (index < 0 || index >= d->val->n)
    return;
  d->sample = index;
  for (int i = 0; i < 3; i++)
    lam_sample_browser_set_selected (d->browsers[i], index);
  start_refresh (d);
}

static void
sample_selected_cb (LamSampleBrowser *browser, int index, Demo *d)
{
  select_sample (d, index);
}

static void
pause_toggled_cb (GtkToggleButton *button, Demo *d)
{
  d->paused = gtk_toggle_button_get_active (button);
  gtk_button_set_icon_name (GTK_BUTTON (button), d->paused ? "media-playback-start-symbolic"
                                                           : "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (button), d->paused ? "Resume training" : "Pause training");
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  d->paused ? "Resume training" : "Pause training", -1);
  for (Run **run = (Run *[]) { d->rnn, d->attn, d->text, NULL }; *run; run++)
    if (d->paused)
      lam_trainer_pause ((*run)->trainer);
    else
      lam_trainer_resume ((*run)->trainer);
}

/* ── Building the window ─────────────────────────────────────────────── */

static GtkWidget *
toolbar (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);

  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 10);
  gtk_widget_set_margin_bottom (box, 6);
  return box;
}

static GtkLabel *
status_label (GtkWidget *box)
{
  GtkWidget *label = gtk_label_new ("Starting…");

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (GTK_BOX (box), label);
  return GTK_LABEL (label);
}

static GtkWidget *
page (GtkWidget *bar, GtkWidget *content)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  gtk_box_append (GTK_BOX (box), bar);
  gtk_widget_set_vexpand (content, TRUE);
  gtk_widget_set_margin_start (content, 6);
  gtk_widget_set_margin_end (content, 6);
  gtk_widget_set_margin_bottom (content, 6);
  gtk_box_append (GTK_BOX (box), content);
  return box;
}

/* The validation images on the left, a view on the right. */
static GtkWidget *
with_browser (Demo *d, int i, GtkWidget *view)
{
  GtkWidget *p = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL), *sw = gtk_scrolled_window_new ();
  LamSampleBrowser *b = LAM_SAMPLE_BROWSER (lam_sample_browser_new ());

  lam_sample_browser_set_dataset (b, d->val, 0, N_BROWSE);
  lam_sample_browser_set_title (b, "Validation images");
  lam_sample_browser_set_thumb_scale (b, 1);
  g_signal_connect (b, "sample-selected", G_CALLBACK (sample_selected_cb), d);
  d->browsers[i] = b;
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), GTK_WIDGET (b));
  gtk_paned_set_start_child (GTK_PANED (p), sw);
  gtk_paned_set_end_child (GTK_PANED (p), view);
  gtk_paned_set_shrink_start_child (GTK_PANED (p), FALSE);
  gtk_paned_set_resize_start_child (GTK_PANED (p), FALSE);
  gtk_paned_set_position (GTK_PANED (p), 190);
  return p;
}

static GtkWidget *
hidden_page (Demo *d)
{
  GtkWidget *bar = toolbar (), *w;

  d->sequence = LAM_SEQUENCE_VIEW (lam_sequence_view_new ());
  d->status[0] = status_label (bar);
  w = gtk_toggle_button_new_with_label ("Sort units");
  gtk_widget_set_tooltip_text (w, "Sort the units by the step at which they peak");
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Sort the units by when they peak", -1);
  g_object_bind_property (d->sequence, "sort-units", w, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_box_append (GTK_BOX (bar), w);
  return page (bar, with_browser (d, 0, GTK_WIDGET (d->sequence)));
}

static GtkWidget *
gates_page (Demo *d)
{
  GtkWidget *bar = toolbar ();

  d->gates = LAM_GATE_VIEW (lam_gate_view_new ());
  d->status[1] = status_label (bar);
  return page (bar, with_browser (d, 1, GTK_WIDGET (d->gates)));
}

static GtkWidget *
attention_page (Demo *d)
{
  GtkWidget *bar = toolbar (), *w;

  d->attention = LAM_ATTENTION_VIEW (lam_attention_view_new ());
  d->status[2] = status_label (bar);
  w = gtk_toggle_button_new_with_label ("Scale to the largest");
  gtk_widget_set_tooltip_text (w, "Colours from 0 to the largest weight instead of 0 to 1");
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Scale the colours to the largest weight", -1);
  g_object_bind_property (d->attention, "auto-scale", w, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_box_append (GTK_BOX (bar), w);
  return page (bar, with_browser (d, 2, GTK_WIDGET (d->attention)));
}

static GtkWidget *
text_page (Demo *d)
{
  GtkWidget *bar = toolbar ();

  GtkWidget *p;

  d->textview = LAM_TEXT_VIEW (lam_text_view_new ());
  g_object_add_weak_pointer (G_OBJECT (d->textview), (gpointer *) &d->textview);
  d->status[3] = status_label (bar);
  lam_text_view_set_trainer (d->textview, d->text->trainer,
                             (const char *const *) d->text->data.train->class_names);
  lam_text_view_set_follow (d->textview, TRUE);
  p = page (bar, GTK_WIDGET (d->textview));
  /* in line with the status above */
  gtk_widget_set_margin_start (GTK_WIDGET (d->textview), 18);
  gtk_widget_set_margin_end (GTK_WIDGET (d->textview), 18);
  gtk_widget_set_margin_bottom (GTK_WIDGET (d->textview), 12);
  return p;
}

static void
add_page (Demo *d, GtkWidget *child, const char *name, const char *title, const char *icon)
{
  AdwViewStackPage *p = adw_view_stack_add_titled (d->stack, child, name, title);
  adw_view_stack_page_set_icon_name (p, icon);
}

/* ── Screenshots ─────────────────────────────────────────────────────── */

static const char *const shot_pages[] = { "hidden", "gates", "attention", "text", NULL };

/* As if the pointer rested at (fx, fy) of the widget's size. */
static void
hover (GtkWidget *widget, double x, double y)
{
  g_autoptr(GListModel) list = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (list, i);
      if (GTK_IS_EVENT_CONTROLLER_MOTION (c))
        g_signal_emit_by_name (c, "motion", x, y);
    }
}

static gboolean
shoot (gpointer data)
{
  Demo *d = data;
  GtkWidget *content = GTK_WIDGET (d->window);
  const char *name;

  if (d->shot_index > 0)
    {
      int w = gtk_widget_get_width (content), h = gtk_widget_get_height (content);
      g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (content);
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      g_autoptr(GskRenderNode) node = NULL;
      g_autoptr(GdkTexture) texture = NULL;
      g_autofree char *path = NULL;

      gdk_paintable_snapshot (paintable, snapshot, w, h);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        return G_SOURCE_CONTINUE;   /* not drawn yet (a restyle, a relayout): next time */
      texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (d->window)),
                                             node, &GRAPHENE_RECT_INIT (0, 0, w, h));
      path = g_strdup_printf ("%s/views-seq-%s.png", d->shot_dir, shot_pages[d->shot_index - 1]);
      if (!gdk_texture_save_to_png (texture, path))
        g_warning ("could not write %s", path);
      else
        g_message ("wrote %s", path);
    }
  name = shot_pages[d->shot_index];
  if (name == NULL)
    {
      double secs = (d->last_refresh - d->first_refresh) / 1e6;
      g_message ("%u refreshes in %.1f s (%.1f Hz): copies %.1f ms on the worker, setters "
                 "%.2f ms on the main thread (means; longest %.2f ms)",
                 d->n_refresh, secs, secs > 0 ? (d->n_refresh - 1) / secs : 0,
                 d->task_ms / MAX (d->n_refresh, 1), d->apply_ms / MAX (d->n_refresh, 1),
                 d->max_apply_ms);
      gtk_window_destroy (d->window);
      return G_SOURCE_REMOVE;
    }
  if (g_str_equal (name, "hidden"))
    {
      /* the pointer on a followed unit, halfway down the image */
      int units[1];
      graphene_rect_t r;
      if (lam_sequence_view_get_selected_units (d->sequence, units, 1) > 0
          && lam_sequence_view_get_cell_rect (d->sequence, units[0], 16, &r))
        hover (GTK_WIDGET (d->sequence), r.origin.x + r.size.width / 2,
               r.origin.y + r.size.height / 2);
    }
  if (g_str_equal (name, "gates"))
    {
      graphene_rect_t r;
      if (lam_gate_view_get_cell_rect (d->gates, 1, 0, 16, &r))
        hover (GTK_WIDGET (d->gates), r.origin.x + r.size.width / 2,
               r.origin.y + r.size.height / 2);
    }
  if (g_str_equal (name, "attention"))
    {
      graphene_rect_t r;
      if (lam_attention_view_get_cell_rect (d->attention, 0, 20, 8, &r))
        hover (GTK_WIDGET (d->attention), r.origin.x + r.size.width / 2,
               r.origin.y + r.size.height / 2);
    }
  adw_view_stack_set_visible_child_name (d->stack, name);
  d->shot_index++;
  return G_SOURCE_CONTINUE;
}

static gboolean
start_shots (gpointer data)
{
  Demo *d = data;

  start_refresh (d);
  g_timeout_add (1500, shoot, d);
  return G_SOURCE_REMOVE;
}

/* ── Application ─────────────────────────────────────────────────────── */

static void
window_destroy_cb (GtkWidget *window, Demo *d)
{
  d->window = NULL;
  g_clear_handle_id (&d->timeout_id, g_source_remove);
  /* before the trainer goes: waits for a generation using it */
  if (d->textview)
    lam_text_view_set_trainer (d->textview, NULL, NULL);
}

static void
activate_cb (GtkApplication *app, Demo *d)
{
  g_autoptr(GError) error = NULL;
  GtkWidget *window, *box, *header, *title, *w;
  const LamNode *node;

  if (d->window)
    {
      gtk_window_present (d->window);
      return;
    }
  if (d->dark)
    adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                        ADW_COLOR_SCHEME_FORCE_DARK);

  if ((d->rnn = run_new (d->rnn_preset, 3000, 0, d->epochs, &error)) == NULL
      || (d->attn = run_new ("transformer", 3000, 0, d->epochs, &error)) == NULL
      || (d->text = run_new ("charlstm", 0, 20000, d->epochs, &error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return;
    }
  node = lam_seq_view_recurrent_node (d->rnn->graph);
  d->rnn_node = node ? g_strdup (node->name) : NULL;
  d->rows = node && lam_seq_view_steps_are_rows (d->rnn->graph, node);
  node = lam_seq_view_attention_node (d->attn->graph);
  d->attn_node = node ? g_strdup (node->name) : NULL;
  /* a fixed subset, kept as long as the trainers: each uploads it once */
  d->val = lam_dataset_slice (d->rnn->data.val, 0, MIN (N_BROWSE, d->rnn->data.val->n));
  d->sample = CLAMP (d->sample, 0, d->val->n - 1);

  window = adw_application_window_new (app);
  d->window = GTK_WINDOW (window);
  gtk_window_set_title (d->window, "Lamina sequence views");
  gtk_window_set_default_size (d->window, 1280, 800);
  g_signal_connect (window, "destroy", G_CALLBACK (window_destroy_cb), d);

  d->stack = ADW_VIEW_STACK (adw_view_stack_new ());
  header = adw_header_bar_new ();
  title = adw_view_switcher_title_new ();
  adw_view_switcher_title_set_stack (ADW_VIEW_SWITCHER_TITLE (title), d->stack);
  adw_view_switcher_title_set_title (ADW_VIEW_SWITCHER_TITLE (title), "Lamina sequence views");
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), title);
  w = gtk_toggle_button_new ();
  gtk_button_set_icon_name (GTK_BUTTON (w), "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text (w, "Pause training");
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Pause training", -1);
  g_signal_connect (w, "toggled", G_CALLBACK (pause_toggled_cb), d);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), w);

  add_page (d, hidden_page (d), "hidden", "Hidden state", "view-continuous-symbolic");
  add_page (d, gates_page (d), "gates", "Gates", "view-grid-symbolic");
  add_page (d, attention_page (d), "attention", "Attention", "view-app-grid-symbolic");
  add_page (d, text_page (d), "text", "Text", "accessories-text-editor-symbolic");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (box), header);
  gtk_widget_set_vexpand (GTK_WIDGET (d->stack), TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (d->stack));
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window), box);

  lam_trainer_start (d->rnn->trainer);
  lam_trainer_start (d->attn->trainer);
  lam_trainer_start (d->text->trainer);
  select_sample (d, d->sample);
  d->timeout_id = g_timeout_add (REFRESH_MS, tick, d);
  gtk_window_present (d->window);

  if (d->shot_dir)
    g_timeout_add_seconds (d->shot_after, start_shots, d);
}

int
main (int argc, char *argv[])
{
  Demo d = { 0 };
  g_autoptr(AdwApplication) app = NULL;
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  static const char *const rnn_presets[] = { "lstm", "gru", "rnn", "ltc", NULL };
  gboolean dark = FALSE;
  char *rnn = NULL;
  int status;
  GOptionEntry entries[] = {
    { "rnn", 0, 0, G_OPTION_ARG_STRING, &rnn, "Recurrent preset: lstm, gru, rnn, ltc", "NAME" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &d.epochs, "Epochs of each run (default 30)", "N" },
    { "sample", 0, 0, G_OPTION_ARG_INT, &d.sample, "Validation image to show first", "I" },
    { "dark", 0, 0, G_OPTION_ARG_NONE, &dark, "Dark style", NULL },
    { "screenshots", 0, 0, G_OPTION_ARG_FILENAME, &d.shot_dir, "Write screenshots here, then quit", "DIR" },
    { "shot-after", 0, 0, G_OPTION_ARG_INT, &d.shot_after, "Seconds of training before the screenshots (default 25)", "S" },
    { NULL }
  };

  d.epochs = 30;
  d.shot_after = 25;
  ctx = g_option_context_new ("— the Lamina sequence views on live training");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  d.rnn_preset = g_strdup (rnn && g_strv_contains (rnn_presets, rnn) ? rnn : "lstm");
  g_free (rnn);
  d.dark = dark;

  app = adw_application_new ("org.lamina.SeqViewsDemo", G_APPLICATION_NON_UNIQUE);
  d.app = GTK_APPLICATION (app);
  g_signal_connect (app, "activate", G_CALLBACK (activate_cb), &d);
  status = g_application_run (G_APPLICATION (app), argc, argv);

  /* the refresh task may still be running: wait for it before freeing the runs */
  while (d.busy)
    g_main_context_iteration (NULL, TRUE);
  g_clear_pointer (&d.val, lam_dataset_unref);
  run_free (d.rnn);
  run_free (d.attn);
  run_free (d.text);
  g_free (d.rnn_preset);
  g_free (d.rnn_node);
  g_free (d.attn_node);
  g_free (d.shot_dir);
  return status;
}
