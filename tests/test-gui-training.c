/* test-gui-training.c: training from the window, live.
 *
 * Small networks on small data (a 2-D MLP on "moons", LeNet-5 and the
 * MLP preset on a slice of Fashion-MNIST), driven through the window's
 * actions and the panel's controls: start, pause, step, resume, stop;
 * the curves and every view get data and draw it; edits are refused
 * while training runs and rebuild the trainer when made while paused;
 * a diverging run says so and the window stays usable; weights saved
 * and loaded continue a run exactly; settings mark the document
 * modified and are saved with it.
 *
 * Needs an X display (Xvfb) and GTK_A11Y=none, GSK_RENDERER=cairo:
 *   xvfb-run -a -s "-screen 0 1280x800x24" meson test -C build --suite gui
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "test-gui-training"

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "lam-views.h"
#include "lam-window-private.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLOW_BUILD 1
#else
#define SLOW_BUILD 0
#endif

static LamApplication *app;
static char *tmpdir;

/* 2 → 16 → 16 → 2, tanh: learns "moons" in a second, and its steps take
 * microseconds, so pausing and stepping can be counted. */
static const char moons_json[] =
  "{\"format\":\"lamina-model\",\"version\":1,\"name\":\"Moons\","
  "\"nodes\":["
  "{\"name\":\"input\",\"type\":\"Input\",\"params\":{\"channels\":2,\"height\":1,\"width\":1},\"position\":[40,200]},"
  "{\"name\":\"dense1\",\"type\":\"Dense\",\"params\":{\"units\":16},\"inputs\":[\"input\"],\"position\":[210,200]},"
  "{\"name\":\"tanh1\",\"type\":\"Tanh\",\"inputs\":[\"dense1\"],\"position\":[380,200]},"
  "{\"name\":\"dense2\",\"type\":\"Dense\",\"params\":{\"units\":16},\"inputs\":[\"tanh1\"],\"position\":[550,200]},"
  "{\"name\":\"tanh2\",\"type\":\"Tanh\",\"inputs\":[\"dense2\"],\"position\":[720,200]},"
  "{\"name\":\"out\",\"type\":\"Dense\",\"params\":{\"units\":2},\"inputs\":[\"tanh2\"],\"position\":[890,200]},"
  "{\"name\":\"loss\",\"type\":\"SoftmaxCrossEntropy\",\"inputs\":[\"out\"],\"position\":[1060,200]}],"
  "\"data\":{\"name\":\"moons\",\"n_samples\":400,\"noise\":0.15},"
  "\"training\":{\"epochs\":%d,\"batch\":16,\"seed\":3,\"backend\":\"cpu\",\"threads\":1,"
  "\"optimizer\":{\"kind\":\"adam\",\"lr\":0.01}}}";

/* ------------------------------------------------------------------ */
/* Helpers */

static void
iterate (void)
{
  for (int i = 0; i < 5; i++)
    while (g_main_context_iteration (NULL, FALSE))
      ;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for ms milliseconds. */
static void
run_for (int ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

typedef gboolean (*Cond) (LamWindow *win, gpointer data);

/* Runs the main loop until cond holds; fails after seconds. */
static void
wait_for_cond (LamWindow *win, Cond cond, gpointer data, double seconds, const char *what)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * (SLOW_BUILD ? 4 : 1) * G_USEC_PER_SEC);

  while (!cond (win, data))
    {
      if (g_get_monotonic_time () > end)
        g_error ("timed out waiting for %s (state %d, step %d)", what,
                 lam_training_session_get_state (win->session), lam_training_session_get_step (win->session));
      run_for (5);
    }
}

static gboolean
state_is (LamWindow *win, gpointer data)
{
  return lam_training_session_get_state (win->session) == (LamSessionState) GPOINTER_TO_INT (data)
         && !lam_training_session_get_busy (win->session);
}

static void
wait_state (LamWindow *win, LamSessionState state)
{
  static const char *const names[] = { "idle", "preparing", "running", "paused", "finished", "failed" };
  wait_for_cond (win, state_is, GINT_TO_POINTER (state), 30, names[state]);
}

static gboolean
step_at_least (LamWindow *win, gpointer data)
{
  return lam_training_session_get_step (win->session) >= GPOINTER_TO_INT (data);
}

static void
wait_step (LamWindow *win, int step)
{
  wait_for_cond (win, step_at_least, GINT_TO_POINTER (step), 60, "steps");
}

static gboolean
no_data_pending (LamWindow *win, gpointer data)
{
  return !lam_training_session_get_data_loading (win->session);
}

static void
wait_data (LamWindow *win)
{
  wait_for_cond (win, no_data_pending, NULL, 60, "the dataset");
}

static void
count_paint (GdkFrameClock *clock, gpointer data)
{
  (*(int *) data)++;
}

/* Until w is mapped and two frames were painted since: a widget's
 * paintable shows what it last drew. */
static void
wait_mapped (GtkWidget *w)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GdkFrameClock *clock;
  int painted = 0;
  gulong id;

  while (!(gtk_widget_get_mapped (w) && gtk_widget_get_width (w) > 0))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, TRUE);
    }
  clock = gtk_widget_get_frame_clock (w);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (count_paint), &painted);
  gtk_widget_queue_draw (w);
  while (painted < 2 && g_get_monotonic_time () < end)
    {
      run_for (10);
      if (painted == 1)
        gtk_widget_queue_draw (w);
    }
  g_signal_handler_disconnect (clock, id);
  g_assert_cmpint (painted, >=, 2);
}

static LamWindow *
new_window (void)
{
  LamWindow *win = lam_window_new (app);

  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 780);
  gtk_window_present (GTK_WINDOW (win));
  iterate ();
  return win;
}

static LamWindow *
window_with_model (LamModelFile *m)
{
  LamWindow *win = new_window ();

  lam_network_take_model (win->network, m);
  _lam_window_show_editor (win);
  wait_mapped (GTK_WIDGET (win->graph_view));
  return win;
}

static LamWindow *
moons_window (int epochs)
{
  g_autofree char *json = g_strdup_printf (moons_json, epochs);
  g_autoptr(GError) error = NULL;
  LamModelFile *m = lam_model_file_parse (json, -1, "moons.json", &error);

  g_assert_no_error (error);
  return window_with_model (m);
}

/* A preset on limit training images, a given batch and epochs. */
static LamWindow *
preset_window (const char *preset, int limit, int batch, int epochs)
{
  g_autoptr(GError) error = NULL;
  LamModelFile *m = lam_model_file_load_preset (preset, &error);

  g_assert_no_error (error);
  m->config.data.limit = limit;
  m->config.batch = batch;
  m->config.epochs = epochs;
  g_free (m->config.backend);
  m->config.backend = g_strdup ("cpu");
  return window_with_model (m);
}

static void
close_window (LamWindow *win)
{
  win->closing = TRUE;
  gtk_window_destroy (GTK_WINDOW (win));
  iterate ();
}

/* What _lam_window_actions_update decided. GTK 4.8 has no public query
 * for a widget action's enabled state: ask a button bound to it, which
 * follows that state, as the window's own buttons do. */
static gboolean
enabled (LamWindow *win, const char *action)
{
  GtkWidget *b = gtk_button_new ();
  gboolean on;

  gtk_widget_set_parent (b, GTK_WIDGET (win->training_panel));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
  iterate ();
  on = gtk_widget_get_sensitive (b);
  gtk_widget_unparent (b);
  return on;
}

static void
activate (LamWindow *win, const char *action)
{
  if (!enabled (win, action))
    g_error ("%s is disabled (state %d, busy %d, step %d, problem %s)", action,
             lam_training_session_get_state (win->session), lam_training_session_get_busy (win->session),
             lam_training_session_get_step (win->session),
             lam_training_session_get_start_problem (win->session));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), action, NULL));
  iterate ();
}

static gpointer
find_controller (GtkWidget *w, GType type)
{
  g_autoptr(GListModel) list = gtk_widget_observe_controllers (w);

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (list, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        return c;   /* the widget keeps it alive */
    }
  return NULL;
}

/* A drop from the palette, as GtkDropTarget delivers it: accepted? */
static gboolean
drop_layer (LamWindow *win, LamLayerKind kind, double x, double y)
{
  GtkDropTarget *target = find_controller (GTK_WIDGET (win->graph_view), GTK_TYPE_DROP_TARGET);
  GValue value = G_VALUE_INIT;
  gboolean accepted = FALSE;

  g_assert_nonnull (target);
  g_value_init (&value, LAM_TYPE_LAYER_KIND);
  g_value_set_enum (&value, kind);
  g_signal_emit_by_name (target, "drop", &value, x, y, &accepted);
  g_value_unset (&value);
  iterate ();
  return accepted;
}

static gboolean
press_key (GtkWidget *w, guint keyval, GdkModifierType state)
{
  GtkEventControllerKey *key = find_controller (w, GTK_TYPE_EVENT_CONTROLLER_KEY);
  gboolean handled = FALSE;

  g_assert_nonnull (key);
  g_signal_emit_by_name (key, "key-pressed", keyval, 0, state, &handled);
  iterate ();
  return handled;
}

/* Pixels of w that are drawn (opaque) and differ from the most common
 * colour (the background), after GTK's own renderer drew it. */
static int
count_drawn (GtkWidget *w, const char *name)
{
  int width = gtk_widget_get_width (w), height = gtk_widget_get_height (w);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (w);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guint32 *px = NULL;
  g_autoptr(GHashTable) counts = g_hash_table_new (NULL, NULL);
  guint32 common = 0;
  int best = 0, drawn = 0;

  g_assert_cmpint (width, >, 20);
  g_assert_cmpint (height, >, 20);
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_test_message ("%s: nothing drawn yet", name);
      return 0;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (w)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  px = g_new (guint32, (gsize) width * height);
  gdk_texture_download (texture, (guchar *) px, (gsize) width * 4);
  if (g_getenv ("LAM_TEST_SAVE_PNG"))
    {
      g_autofree char *path = g_strdup_printf ("%s/training-%s.png", g_getenv ("LAM_TEST_SAVE_PNG"), name);
      gdk_texture_save_to_png (texture, path);
    }
  for (gsize i = 0; i < (gsize) width * height; i++)
    {
      int n = GPOINTER_TO_INT (g_hash_table_lookup (counts, GUINT_TO_POINTER (px[i]))) + 1;
      g_hash_table_insert (counts, GUINT_TO_POINTER (px[i]), GINT_TO_POINTER (n));
      if (n > best)
        best = n, common = px[i];
    }
  for (gsize i = 0; i < (gsize) width * height; i++)
    drawn += px[i] != common && (px[i] >> 24) > 0x80;
  g_test_message ("%s: %d of %d pixels drawn", name, drawn, width * height);
  return drawn;
}

static gboolean
refreshed_since (LamWindow *win, gpointer data)
{
  return lam_training_views_get_n_refreshes (win->training_views) > GPOINTER_TO_UINT (data);
}

/* Shows a page and waits until copies for it arrived. */
static void
show_page (LamWindow *win, const char *page)
{
  guint before = lam_training_views_get_n_refreshes (win->training_views);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "view.training-page", "s", page));
  g_assert_cmpstr (lam_training_views_get_page (win->training_views), ==, page);
  /* the copies in flight may be for the page before: wait for the next */
  if (g_strcmp0 (page, "curves") != 0)
    wait_for_cond (win, refreshed_since, GUINT_TO_POINTER (before + 1), 30, page);
  run_for (150);
}

static LamSeries *
loss_series (LamWindow *win)
{
  LamLossPlot *plot = LAM_LOSS_PLOT (lam_training_views_get_view (win->training_views, "loss"));
  return lam_loss_plot_get_series (plot, LAM_LOSS_CURVE_LOSS);
}

/* A consistent copy of a tensor, through the session's snapshot. */
typedef struct {
  LamSnapshot *snap;
  gboolean     done;
} SnapWait;

static void
snap_done (GObject *source, GAsyncResult *result, gpointer data)
{
  SnapWait *w = data;
  g_autoptr(GError) error = NULL;

  w->snap = lam_training_session_snapshot_finish (LAM_TRAINING_SESSION (source), result, &error);
  g_assert_no_error (error);
  w->done = TRUE;
}

static float *
copy_weights (LamWindow *win, const char *node, gsize *n)
{
  LamSnapshotRequest req = { LAM_SNAPSHOT_WEIGHTS, (char *) node, 0, NULL };
  SnapWait w = { NULL, FALSE };
  float *out;

  lam_training_session_snapshot (win->session, &req, NULL, snap_done, &w);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (w.snap);
  g_assert_nonnull (w.snap->weights);
  *n = (gsize) w.snap->shape[0] * w.snap->shape[1];
  out = g_memdup2 (w.snap->weights, *n * sizeof (float));
  lam_snapshot_free (w.snap);
  return out;
}

typedef struct {
  gboolean done;
  gboolean ok;
  char    *message;
} FileWait;

static void
saved_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  FileWait *w = data;
  g_autoptr(GError) error = NULL;

  w->ok = lam_training_session_save_weights_finish (LAM_TRAINING_SESSION (source), result, &error);
  w->message = error ? g_strdup (error->message) : NULL;
  w->done = TRUE;
}

static void
loaded_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  FileWait *w = data;
  g_autoptr(GError) error = NULL;

  w->ok = lam_training_session_load_weights_finish (LAM_TRAINING_SESSION (source), result, &error);
  w->message = error ? g_strdup (error->message) : NULL;
  w->done = TRUE;
}

static void
wait_file (FileWait *w)
{
  while (!w->done)
    g_main_context_iteration (NULL, TRUE);
  if (!w->ok)
    g_error ("%s", w->message);
}

/* ------------------------------------------------------------------ */
/* Tests */

static void
test_controls (void)
{
  LamWindow *win = moons_window (100000);
  int paused_at;

  g_assert_cmpint (lam_training_session_get_state (win->session), ==, LAM_SESSION_IDLE);
  g_assert_false (enabled (win, "train.pause"));
  g_assert_false (enabled (win, "train.resume"));
  g_assert_false (enabled (win, "weights.save"));

  /* Start: the views replace the placeholder, the panel shows the run */
  activate (win, "train.start");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->training_stack), ==, "views");
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (win->sidebar_stack), ==, "training");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, 50);
  g_assert_true (enabled (win, "train.pause"));
  g_assert_true (enabled (win, "train.stop"));
  g_assert_false (enabled (win, "train.start"));
  g_assert_false (enabled (win, "train.step"));
  g_assert_true (g_str_has_prefix (lam_training_panel_get_status_title (win->training_panel), "Training: epoch"));
  g_assert_cmpuint (lam_series_get_length (loss_series (win)), >, 0);

  /* Pause: the steps stop */
  activate (win, "train.pause");
  wait_state (win, LAM_SESSION_PAUSED);
  run_for (50);
  paused_at = lam_training_session_get_step (win->session);
  run_for (300);
  g_assert_cmpint (lam_training_session_get_step (win->session), ==, paused_at);
  g_assert_true (g_str_has_prefix (lam_training_panel_get_status_title (win->training_panel), "Paused"));
  g_assert_true (enabled (win, "train.resume"));
  g_assert_true (enabled (win, "train.step"));
  g_assert_true (enabled (win, "weights.save"));

  /* Step: one batch at a time, paused after each */
  activate (win, "train.step");
  wait_step (win, paused_at + 1);
  wait_state (win, LAM_SESSION_PAUSED);
  run_for (100);
  g_assert_cmpint (lam_training_session_get_step (win->session), ==, paused_at + 1);
  activate (win, "train.step");
  wait_step (win, paused_at + 2);
  wait_state (win, LAM_SESSION_PAUSED);
  run_for (100);
  g_assert_cmpint (lam_training_session_get_step (win->session), ==, paused_at + 2);
  g_assert_cmpfloat (lam_series_get_x (loss_series (win), lam_series_get_length (loss_series (win)) - 1), ==,
                     paused_at + 2);

  /* Resume goes on. Space (GtkWindow's activate-focus) pauses, except
   * on the canvas, which may want the key for itself */
  activate (win, "train.resume");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, paused_at + 100);
  gtk_widget_grab_focus (GTK_WIDGET (win->graph_view));
  g_signal_emit_by_name (win, "activate-focus");
  run_for (200);
  g_assert_cmpint (lam_training_session_get_state (win->session), ==, LAM_SESSION_RUNNING);
  lam_training_views_focus (win->training_views);
  g_assert_false (gtk_widget_has_focus (GTK_WIDGET (win->graph_view)));
  g_signal_emit_by_name (win, "activate-focus");
  wait_state (win, LAM_SESSION_PAUSED);

  /* Stop ends the run and keeps the weights */
  activate (win, "train.stop");
  wait_state (win, LAM_SESSION_IDLE);
  g_assert_true (lam_training_session_has_run (win->session));
  g_assert_true (enabled (win, "weights.save"));
  g_assert_true (enabled (win, "train.start"));
  g_assert_true (g_str_has_prefix (lam_training_panel_get_status_title (win->training_panel), "Stopped"));

  /* Start again: a new run, the curves start over */
  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, 5);
  g_assert_cmpfloat (lam_series_get_x (loss_series (win), 0), ==, 1);

  /* another network while it runs: training stops, the views go back
   * to their placeholder, nothing crashes */
  {
    g_autoptr(GError) error = NULL;
    LamModelFile *m = lam_model_file_load_preset ("mlp", &error);
    g_assert_no_error (error);
    lam_network_take_model (win->network, m);
    iterate ();
    g_assert_cmpint (lam_training_session_get_state (win->session), ==, LAM_SESSION_IDLE);
    g_assert_false (lam_training_session_has_run (win->session));
    g_assert_cmpstr (gtk_stack_get_visible_child_name (win->training_stack), ==, "empty");
    g_assert_cmpuint (lam_series_get_length (loss_series (win)), ==, 0);
    g_assert_true (lam_graph_view_get_editable (win->graph_view));
    run_for (100);
  }
  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  close_window (win);   /* while it runs */
}

static void
test_finish (void)
{
  LamWindow *win = moons_window (5);

  activate (win, "train.start");
  wait_state (win, LAM_SESSION_FINISHED);
  g_assert_cmpint (lam_training_session_get_step (win->session), ==, 5 * lam_training_session_get_metrics (win->session)->steps_per_epoch);
  g_assert_cmpfloat (lam_training_session_get_progress (win->session), ==, 1.0);
  g_assert_true (g_str_has_prefix (lam_training_panel_get_status_title (win->training_panel), "Finished 5 epochs"));
  /* the epoch means and the validation results are on the curves */
  {
    LamLossPlot *plot = LAM_LOSS_PLOT (lam_training_views_get_view (win->training_views, "loss"));
    g_assert_cmpuint (lam_series_get_length (lam_loss_plot_get_series (plot, LAM_LOSS_CURVE_TRAIN_LOSS)), ==, 5);
    g_assert_cmpuint (lam_series_get_length (lam_loss_plot_get_series (plot, LAM_LOSS_CURVE_VAL_ACCURACY)), ==, 5);
  }
  g_assert_true (enabled (win, "train.start"));
  g_assert_false (enabled (win, "train.resume"));
  close_window (win);
}

static void
count_refresh (guint *n)
{
  (*n)++;
}

/* Every view draws something while LeNet-5 trains. */
static void
test_views_lenet (void)
{
  LamWindow *win = preset_window ("lenet5", 512, 32, 1000);
  GtkWidget *graph_view = GTK_WIDGET (win->graph_view);
  struct { const char *page, *view; } views[] = {
    { "curves", "loss" },
    { "filters", "filters" },
    { "features", "features" },
    { "features", "browser" },
    { "predictions", "prediction" },
    { "predictions", "confusion" },
    { "predictions", "gallery" },
  };
  guint before, n_asked;
  gulong asked_id;
  gint64 t0;
  double per_second;

  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, 20);
  g_assert_true (lam_training_views_page_visible (win->training_views, "filters"));
  g_assert_false (lam_training_views_page_visible (win->training_views, "boundary"));
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      GtkWidget *w = lam_training_views_get_view (win->training_views, views[i].view);
      int drawn = 0;
      show_page (win, views[i].page);
      /* what a paintable shows is what the widget last drew: a frame or two */
      for (int tries = 0; tries < 20 && drawn <= 500; tries++)
        {
          wait_mapped (w);
          drawn = count_drawn (w, views[i].view);
        }
      g_assert_cmpint (drawn, >, 500);
    }
  /* the first conv layer's six 5×5 filters */
  g_assert_cmpint (lam_filter_view_get_layout (LAM_FILTER_VIEW (lam_training_views_get_view (win->training_views, "filters"))),
                   ==, LAM_FILTER_LAYOUT_TILES);
  g_assert_cmpint (lam_confusion_view_get_n_classes (LAM_CONFUSION_VIEW (lam_training_views_get_view (win->training_views, "confusion"))),
                   ==, 10);

  /* the session asks the views for new copies 10 times a second while
   * training; the visible view takes them at least 5 times a second
   * (fewer on a machine too busy to give the main thread its share) */
  show_page (win, "features");
  before = lam_training_views_get_n_refreshes (win->training_views);
  n_asked = 0;
  asked_id = g_signal_connect_swapped (win->session, "refresh", G_CALLBACK (count_refresh), &n_asked);
  t0 = g_get_monotonic_time ();
  run_for (2000);
  g_signal_handler_disconnect (win->session, asked_id);
  per_second = (lam_training_views_get_n_refreshes (win->training_views) - before)
               / ((g_get_monotonic_time () - t0) / 1e6);
  g_test_message ("feature maps: %.1f refreshes a second, %.1f asked for", per_second,
                  n_asked / ((g_get_monotonic_time () - t0) / 1e6));
  /* refreshes are asked for when there are new steps: a starved
   * trainer (a machine busy with other tests) has fewer to show */
  g_assert_cmpint (n_asked, >=, 1);
  g_assert_cmpfloat (per_second, >=, SLOW_BUILD ? 0.5 : MIN (5.0, 0.6 * n_asked / 2.0));
  g_assert_cmpint (lam_training_session_get_state (win->session), ==, LAM_SESSION_RUNNING);

  /* the graph's selection selects the layer in the views... */
  lam_graph_view_select (win->graph_view, "conv2");
  iterate ();
  g_assert_cmpstr (lam_feature_view_get_selected_node (LAM_FEATURE_VIEW (lam_training_views_get_view (win->training_views, "features"))),
                   ==, "conv2");
  show_page (win, "filters");
  {
    LamFilterView *fv = LAM_FILTER_VIEW (lam_training_views_get_view (win->training_views, "filters"));
    int units, channels;
    lam_filter_view_get_shown (fv, &units, &channels);
    g_assert_cmpint (lam_filter_view_get_layout (fv), ==, LAM_FILTER_LAYOUT_GRID);   /* 16 × 6 */
  }
  /* ...and a row of the feature maps selects the node in the graph */
  g_signal_emit_by_name (lam_training_views_get_view (win->training_views, "features"), "node-activated", "pool1");
  iterate ();
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "pool1");

  /* choosing a sample in the browser runs it through the network */
  g_signal_emit_by_name (lam_training_views_get_view (win->training_views, "browser"), "sample-selected", 7);
  g_assert_cmpint (lam_training_views_get_sample (win->training_views), ==, 7);
  (void) graph_view;
  close_window (win);
}

/* The sequence views: an LSTM's hidden state and gates after a few steps;
 * no Attention or Text page for it. */
static void
test_views_lstm (void)
{
  LamWindow *win = preset_window ("lstm", 256, 32, 1000);
  const char *const views[] = { "sequence", "gates" };

  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, 2);
  g_assert_true (lam_training_views_page_visible (win->training_views, "sequence"));
  g_assert_false (lam_training_views_page_visible (win->training_views, "attention"));
  g_assert_false (lam_training_views_page_visible (win->training_views, "text"));
  g_assert_false (lam_training_views_page_visible (win->training_views, "boundary"));
  show_page (win, "sequence");
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      GtkWidget *w = lam_training_views_get_view (win->training_views, views[i]);
      int drawn = 0;
      for (int tries = 0; tries < 20 && drawn <= 500; tries++)
        {
          wait_mapped (w);
          drawn = count_drawn (w, views[i]);
        }
      g_assert_cmpint (drawn, >, 500);
    }
  close_window (win);
}

/* The 2-D views: the boundary, and no filters for a dense layer on 2 inputs. */
static void
test_views_moons (void)
{
  LamWindow *win = moons_window (100000);
  GtkWidget *boundary = lam_training_views_get_view (win->training_views, "boundary");

  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, 200);
  g_assert_true (lam_training_views_page_visible (win->training_views, "boundary"));
  g_assert_false (lam_training_views_page_visible (win->training_views, "filters"));
  show_page (win, "boundary");
  wait_mapped (boundary);
  g_assert_cmpint (count_drawn (boundary, "boundary"), >, 2000);
  show_page (win, "features");
  wait_mapped (lam_training_views_get_view (win->training_views, "features"));
  g_assert_cmpint (count_drawn (lam_training_views_get_view (win->training_views, "features"), "features-2d"), >, 200);
  show_page (win, "predictions");
  wait_mapped (lam_training_views_get_view (win->training_views, "confusion"));
  g_assert_cmpint (count_drawn (lam_training_views_get_view (win->training_views, "confusion"), "confusion-2d"), >, 500);
  close_window (win);
}

static gboolean
lr_is (LamWindow *win, gpointer data)
{
  const LamMetrics *m = lam_training_session_get_metrics (win->session);
  return m != NULL && fabs (m->lr - 0.005) < 1e-6;
}

static void
test_edit_while_training (void)
{
  LamWindow *win = moons_window (100000);
  LamNetwork *net = win->network;
  g_autofree char *before = NULL;
  int step;

  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  before = lam_network_to_json (net);

  /* running: the canvas is read-only and says why */
  g_assert_false (lam_graph_view_get_editable (win->graph_view));
  g_assert_true (gtk_revealer_get_reveal_child (win->locked_revealer));
  g_assert_nonnull (strstr (gtk_label_get_text (win->locked_label), "Pause or stop training to edit"));
  g_assert_false (drop_layer (win, LAM_LAYER_DENSE, 300, 120));
  lam_graph_view_select (win->graph_view, "dense2");
  gtk_widget_grab_focus (GTK_WIDGET (win->graph_view));
  press_key (GTK_WIDGET (win->graph_view), GDK_KEY_Delete, 0);
  g_assert_nonnull (lam_network_get_node (net, "dense2"));
  g_assert_false (enabled (win, "graph.tidy"));
  g_assert_false (enabled (win, "graph.delete"));
  g_assert_false (enabled (win, "graph.undo"));
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (win->palette)));
  g_assert_false (gtk_widget_is_sensitive (lam_training_panel_get_control (win->training_panel, "batch")));
  g_assert_true (gtk_widget_is_sensitive (lam_training_panel_get_control (win->training_panel, "lr")));
  {
    g_autofree char *after = lam_network_to_json (net);
    g_assert_cmpstr (after, ==, before);
  }

  /* the learning rate changes while it runs */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, "lr")), 0.005);
  iterate ();
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.005f);
  wait_for_cond (win, lr_is, NULL, 10, "the new learning rate");
  g_assert_cmpint (lam_training_session_get_state (win->session), ==, LAM_SESSION_RUNNING);

  /* paused: edits work; Resume rebuilds the trainer and keeps what fits */
  activate (win, "train.pause");
  wait_state (win, LAM_SESSION_PAUSED);
  g_assert_true (lam_graph_view_get_editable (win->graph_view));
  g_assert_false (gtk_revealer_get_reveal_child (win->locked_revealer));
  g_assert_true (lam_network_set_param (net, "dense2", "units", 24));
  iterate ();
  step = lam_training_session_get_step (win->session);
  activate (win, "train.resume");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, step + 50);
  /* the trainer's graph is the edited one */
  g_assert_cmpint (lam_graph_find (lam_training_session_get_graph (win->session), "dense2")->p.units, ==, 24);

  /* an edit that breaks the graph while paused: Resume says why it cannot */
  activate (win, "train.pause");
  wait_state (win, LAM_SESSION_PAUSED);
  g_assert_true (lam_network_set_param (net, "out", "units", 1));
  iterate ();
  g_assert_false (enabled (win, "train.resume"));
  g_assert_true (gtk_revealer_get_reveal_child (win->problem_revealer));
  g_assert_nonnull (strstr (gtk_label_get_text (win->problem_label), "Cannot train yet"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  iterate ();
  g_assert_true (enabled (win, "train.resume"));

  /* a setting changed while paused: also rebuilt, on Step */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, "batch")), 32);
  iterate ();
  step = lam_training_session_get_step (win->session);
  activate (win, "train.step");
  wait_step (win, step + 1);
  wait_state (win, LAM_SESSION_PAUSED);
  /* 367 training points: 22 steps of 16, now 11 of 32 */
  g_assert_cmpint (lam_training_session_get_metrics (win->session)->steps_per_epoch, ==, 11);
  close_window (win);
}

static void
test_diverge (void)
{
  LamWindow *win = preset_window ("mlp", 1000, 64, 100);
  const char *problem;

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, "lr")), 10);
  iterate ();
  activate (win, "train.start");
  wait_state (win, LAM_SESSION_FAILED);
  problem = lam_training_panel_get_problem (win->training_panel);
  g_assert_nonnull (problem);
  g_test_message ("%s", problem);
  g_assert_nonnull (strstr (problem, "diverged"));
  g_assert_nonnull (strstr (problem, "lower the learning rate"));
  g_assert_cmpstr (lam_training_panel_get_status_title (win->training_panel), ==, "Training failed");

  /* the window stays usable: edit, lower the rate, train again */
  g_assert_true (lam_graph_view_get_editable (win->graph_view));
  g_assert_true (enabled (win, "graph.tidy"));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, "lr")), 0.05);
  iterate ();
  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  g_assert_null (lam_training_panel_get_problem (win->training_panel));
  wait_step (win, 5);
  activate (win, "train.stop");
  wait_state (win, LAM_SESSION_IDLE);
  close_window (win);
}

static void
test_weights_continue (void)
{
  LamWindow *win = moons_window (100000);
  g_autofree char *path = g_build_filename (tmpdir, "moons.safetensors", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree float *w1 = NULL, *w2 = NULL;
  gsize n1, n2;
  double loss1, loss2;
  FileWait fw = { 0 };

  /* three steps from idle: a new run, paused after each */
  for (int i = 1; i <= 3; i++)
    {
      activate (win, "train.step");
      wait_step (win, i);
      wait_state (win, LAM_SESSION_PAUSED);
    }
  lam_training_session_save_weights (win->session, file, NULL, saved_cb, &fw);
  wait_file (&fw);
  g_clear_pointer (&fw.message, g_free);
  for (int i = 4; i <= 6; i++)
    {
      activate (win, "train.step");
      wait_step (win, i);
      wait_state (win, LAM_SESSION_PAUSED);
    }
  loss1 = lam_training_session_get_metrics (win->session)->batch_loss;
  w1 = copy_weights (win, "dense1", &n1);

  /* back to step 3 from the file, and the same three steps again */
  memset (&fw, 0, sizeof fw);
  lam_training_session_load_weights (win->session, file, NULL, loaded_cb, &fw);
  wait_file (&fw);
  wait_state (win, LAM_SESSION_PAUSED);
  g_assert_cmpint (lam_training_session_get_step (win->session), ==, 3);
  g_assert_true (enabled (win, "train.resume"));
  for (int i = 4; i <= 6; i++)
    {
      activate (win, "train.step");
      wait_step (win, i);
      wait_state (win, LAM_SESSION_PAUSED);
    }
  loss2 = lam_training_session_get_metrics (win->session)->batch_loss;
  w2 = copy_weights (win, "dense1", &n2);
  g_assert_cmpfloat (loss1, ==, loss2);
  g_assert_cmpuint (n1, ==, n2);
  g_assert_cmpmem (w1, n1 * sizeof (float), w2, n2 * sizeof (float));

  /* a file of another network is refused with the engine's words */
  {
    LamWindow *other = preset_window ("lenet5", 256, 32, 1);
    FileWait bad = { 0 };
    wait_data (other);
    lam_training_session_load_weights (other->session, file, NULL, loaded_cb, &bad);
    while (!bad.done)
      g_main_context_iteration (NULL, TRUE);
    g_assert_false (bad.ok);
    g_test_message ("%s", bad.message);
    g_assert_nonnull (strstr (bad.message, "another network"));
    g_free (bad.message);
    g_assert_true (enabled (other, "train.start"));
    close_window (other);
  }
  g_unlink (path);
  close_window (win);
}

static void
test_data_mismatch (void)
{
  LamWindow *win = preset_window ("lenet5", 256, 32, 1);
  AdwComboRow *dataset = ADW_COMBO_ROW (lam_training_panel_get_control (win->training_panel, "dataset"));

  g_assert_true (enabled (win, "train.start"));
  adw_combo_row_set_selected (dataset, 3);   /* moons */
  iterate ();
  g_assert_cmpstr (lam_network_get_config (win->network)->data.name, ==, "moons");
  wait_data (win);
  g_assert_false (enabled (win, "train.start"));
  g_assert_nonnull (lam_training_session_get_start_problem (win->session));
  g_test_message ("%s", lam_training_session_get_start_problem (win->session));
  g_assert_nonnull (strstr (gtk_label_get_text (win->problem_label), "the network takes 1×28×28 values per sample"));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (win->train_button), "Cannot train yet"));
  /* a settings change marks the document modified */
  g_assert_true (g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (win)), "• "));

  /* IDX files: none chosen yet, then Fashion-MNIST's test files as IDX
   * (what the panel's file choosers write, then announce) */
  adw_combo_row_set_selected (dataset, 1);
  iterate ();
  g_assert_false (enabled (win, "train.start"));
  g_assert_nonnull (strstr (lam_training_session_get_start_problem (win->session), "choose the IDX files"));
  {
    LamTrainConfig *c = (LamTrainConfig *) lam_network_get_config (win->network);
    const char *dir = g_getenv ("LAMINA_FASHION_MNIST_DIR") ? g_getenv ("LAMINA_FASHION_MNIST_DIR")
                                                              : LAM_FASHION_MNIST_DIR;
    c->data.train_images = g_build_filename (dir, "t10k-images-idx3-ubyte.gz", NULL);
    c->data.train_labels = g_build_filename (dir, "t10k-labels-idx1-ubyte.gz", NULL);
    g_signal_emit_by_name (win->training_panel, "config-changed", "data");
    iterate ();
  }
  wait_data (win);
  g_assert_null (lam_training_session_get_start_problem (win->session));
  activate (win, "train.step");
  wait_step (win, 1);
  wait_state (win, LAM_SESSION_PAUSED);
  g_assert_true (lam_training_views_page_visible (win->training_views, "filters"));

  adw_combo_row_set_selected (dataset, 0);   /* Fashion-MNIST again */
  iterate ();
  wait_data (win);
  g_assert_true (enabled (win, "train.resume"));   /* rebuilt on Resume, weights kept */
  g_assert_false (gtk_revealer_get_reveal_child (win->problem_revealer));
  activate (win, "train.stop");
  wait_state (win, LAM_SESSION_IDLE);
  g_assert_true (enabled (win, "train.start"));
  close_window (win);
}

static void
test_settings_saved (void)
{
  LamWindow *win = moons_window (7);
  g_autofree char *path = g_build_filename (tmpdir, "moons-settings.json", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) back = NULL;

  g_assert_false (_lam_window_get_modified (win));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, "epochs")), 12);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, "noise")), 0.3);
  adw_combo_row_set_selected (ADW_COMBO_ROW (lam_training_panel_get_control (win->training_panel, "optimizer")), 0);
  iterate ();
  g_assert_true (_lam_window_get_modified (win));
  g_assert_true (g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (win)), "• "));
  g_assert_true (_lam_window_save_to (win, file, &error));
  g_assert_no_error (error);
  g_assert_false (_lam_window_get_modified (win));
  back = lam_model_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->config.epochs, ==, 12);
  g_assert_cmpfloat (fabs (back->config.data.noise - 0.3), <, 1e-6);
  g_assert_cmpint (back->config.opt.kind, ==, LAM_OPT_SGD);
  g_unlink (path);
  close_window (win);
}

int
main (int argc, char **argv)
{
  int ret;

  tmpdir = g_dir_make_tmp ("lamina-gui-training-XXXXXX", NULL);
  {
    g_autofree char *config = g_build_filename (tmpdir, "config", NULL);
    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  }
  gtk_test_init (&argc, &argv, NULL);

  app = lam_application_new (G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));

  g_test_add_func ("/gui/training/controls", test_controls);
  g_test_add_func ("/gui/training/finish", test_finish);
  g_test_add_func ("/gui/training/views-lenet", test_views_lenet);
  g_test_add_func ("/gui/training/views-moons", test_views_moons);
  g_test_add_func ("/gui/training/views-lstm", test_views_lstm);
  g_test_add_func ("/gui/training/edit-while-training", test_edit_while_training);
  g_test_add_func ("/gui/training/diverge", test_diverge);
  g_test_add_func ("/gui/training/weights-continue", test_weights_continue);
  g_test_add_func ("/gui/training/data-mismatch", test_data_mismatch);
  g_test_add_func ("/gui/training/settings-saved", test_settings_saved);
  ret = g_test_run ();

  g_object_unref (app);
  {
    g_autofree char *d1 = g_build_filename (tmpdir, "config", NULL);
    g_rmdir (d1);
  }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return ret;
}
