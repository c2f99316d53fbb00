/* test-gui-training.c: training from the window, live.
 *
 * Small networks on small data (a 2-D MLP on "moons", LeNet-5 and the
 * MLP preset on a slice of Fashion-MNIST), driven through the window's
 * actions and the panel's controls: start, pause, step, resume, stop;
 * the curves and every view get data and draw it; edits are refused
 * while training runs and rebuild the trainer when made while paused;
 * a diverging run says so and the window stays usable; weights saved
 * and loaded continue a run exactly; settings mark the document
 * modified, are saved with it, and are undone and redone with Ctrl+Z and
 * Ctrl+Shift+Z like graph edits (a rate changed while training runs
 * too, once the run is paused). The sequence pages in the window: a
 * Transformer's attention (Alt+7) and a character LSTM's text (Alt+8),
 * their values and their pixels; the gallery of mistakes scrolls; the
 * window fits a 1280×720 screen while it trains, the predictions page's
 * texts whole; the canvas' zoom tools cover no layer.
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
#include <gmodule.h>
#include <gtk/gtk.h>

#include "lam-seq-views.h"
#include "lam-view-common.h"
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

/* Like press_shortcut, for a key that may do nothing: activated? */
static gboolean
try_shortcut (GtkWidget *w, guint keyval, GdkModifierType state)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (w);
  gboolean found = FALSE, done = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers) && !found; i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (c))
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (c)) && !found; k++)
        {
          g_autoptr(GtkShortcut) sc = g_list_model_get_item (G_LIST_MODEL (c), k);
          GtkShortcutTrigger *t = gtk_shortcut_get_trigger (sc);

          if (GTK_IS_KEYVAL_TRIGGER (t) && gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (t)) == keyval
              && gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (t)) == state)
            {
              found = TRUE;
              done = gtk_shortcut_action_activate (gtk_shortcut_get_action (sc), GTK_SHORTCUT_ACTION_EXCLUSIVE, w,
                                                   gtk_shortcut_get_arguments (sc));
            }
        }
    }
  g_assert_true (found);
  iterate ();
  return done;
}

/* What GTK's renderer makes of w: BGRA words
 * (0xAARRGGBB), *width × *height; NULL when it drew nothing yet. With
 * LAM_TEST_SAVE_PNG=dir, also dir/training-NAME.png. */
static guint32 *
render_snapshot (GtkWidget *w, const char *name, int *width, int *height)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (w);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  guint32 *px;

  *width = gtk_widget_get_width (w);
  *height = gtk_widget_get_height (w);
  g_assert_cmpint (*width, >, 20);
  g_assert_cmpint (*height, >, 20);
  gdk_paintable_snapshot (paintable, snapshot, *width, *height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    return NULL;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (w)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, *width, *height));
  px = g_new (guint32, (gsize) *width * *height);
  gdk_texture_download (texture, (guchar *) px, (gsize) *width * 4);
  if (g_getenv ("LAM_TEST_SAVE_PNG"))
    {
      g_autofree char *path = g_strdup_printf ("%s/training-%s.png", g_getenv ("LAM_TEST_SAVE_PNG"), name);
      gdk_texture_save_to_png (texture, path);
    }
  return px;
}

typedef struct {
  GtkWidget  *w;
  const char *name;
  int         width, height;
  guint32    *px;
  gboolean    done;
} RenderJob;

static void
render_after_paint (GdkFrameClock *clock, RenderJob *job)
{
  if (!job->done)
    job->px = render_snapshot (job->w, job->name, &job->width, &job->height);
  job->done = TRUE;
}

/* render_snapshot at the end of a frame, right after GTK's layout and
 * paint: a view that the session refreshes while it trains may add
 * children (new rows of feature maps) between two frames, and a
 * snapshot taken then finds them without an allocation, which GTK
 * warns about (a fatal warning in tests). */
static guint32 *
render (GtkWidget *w, const char *name, int *width, int *height)
{
  RenderJob job = { w, name, 0, 0, NULL, FALSE };
  GdkFrameClock *clock = gtk_widget_get_frame_clock (w);
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  gulong id;

  g_assert_nonnull (clock);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (render_after_paint), &job);
  gtk_widget_queue_draw (w);
  while (!job.done)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, TRUE);
    }
  g_signal_handler_disconnect (clock, id);
  *width = job.width;
  *height = job.height;
  return job.px;
}

/* Within tol per channel of the colour map's colour for t. */
static gboolean
near_cmap (guint32 px, LamColormap cmap, double t, int tol)
{
  LamRgb c;
  int r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;

  _lam_cmap (cmap, t, &c);
  return ABS (r - (int) lround (c.r * 255)) <= tol && ABS (g - (int) lround (c.g * 255)) <= tol
         && ABS (b - (int) lround (c.b * 255)) <= tol;
}

/* The first widget of type under w (w included), with that button label
 * when label is not NULL: for the controls a template keeps to itself. */
static GtkWidget *
find_descendant (GtkWidget *w, GType type, const char *label)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (w, type)
      && (label == NULL || (GTK_IS_BUTTON (w) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (w)), label) == 0)))
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_descendant (c, type, label);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Runs the window's own shortcut for keyval + modifiers, as its
 * GtkShortcutController would on that key press. */
static void
press_shortcut (LamWindow *win, guint keyval, GdkModifierType modifiers)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (win));

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);
      if (!GTK_IS_SHORTCUT_CONTROLLER (c))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (c)); j++)
        {
          g_autoptr(GtkShortcut) sc = g_list_model_get_item (G_LIST_MODEL (c), j);
          GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (sc);
          if (GTK_IS_KEYVAL_TRIGGER (trigger)
              && gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) == keyval
              && gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) == modifiers)
            {
              g_assert_true (gtk_shortcut_action_activate (gtk_shortcut_get_action (sc), 0, GTK_WIDGET (win),
                                                           gtk_shortcut_get_arguments (sc)));
              iterate ();
              return;
            }
        }
    }
  g_error ("no shortcut for %s", gtk_accelerator_name (keyval, modifiers));
}

/* Pixels of w that are drawn (opaque) and differ from the most common
 * colour (the background), after GTK's own renderer drew it. */
static int
count_drawn (GtkWidget *w, const char *name)
{
  int width, height;
  g_autofree guint32 *px = render (w, name, &width, &height);
  g_autoptr(GHashTable) counts = g_hash_table_new (NULL, NULL);
  guint32 common = 0;
  int best = 0, drawn = 0;

  if (px == NULL)
    {
      g_test_message ("%s: nothing drawn yet", name);
      return 0;
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
  /* the units sorted by when they peak, as the view does by default,
   * and the page's toggle says so */
  g_assert_true (lam_sequence_view_get_sort_units (LAM_SEQUENCE_VIEW (lam_training_views_get_view (win->training_views, "sequence"))));
  {
    GtkWidget *sort = find_descendant (GTK_WIDGET (win->training_views), GTK_TYPE_TOGGLE_BUTTON, "Sort units");
    g_assert_nonnull (sort);
    g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (sort)));
  }
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
views_problem_shown (LamWindow *win, gpointer data)
{
  return lam_training_views_get_problem (win->training_views) != NULL;
}

static gboolean
views_problem_gone (LamWindow *win, gpointer data)
{
  return lam_training_views_get_problem (win->training_views) == NULL &&
         lam_training_views_get_n_refreshes (win->training_views) > GPOINTER_TO_UINT (data);
}

/* The views' copies run out of GPU memory (the CUDA emulator's
 * emu_fail_allocations_after) while training goes on: the views say so,
 * and stop saying it once memory is back. */
static void
test_views_out_of_memory (void)
{
  const char *emu = g_getenv ("LAMINA_TEST_CUDA_EMU");
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf (moons_json, 100000);
  LamModelFile *m;
  LamWindow *win;
  const char *problem;

  if (emu == NULL)
    {
      g_test_skip ("needs the CUDA emulator (LAMINA_TEST_CUDA_EMU)");
      return;
    }
  if (!g_test_subprocess ())
    {
      /* a process of its own: the window looks for CUDA once a process,
       * and the tests before found the real module (or none) */
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  /* the module the trainer will load, and its switch for failing
   * allocations (setenv is not safe with the trainer's threads) */
  g_setenv ("LAMINA_CUDA_MODULE", emu, TRUE);
  GModule *module = g_module_open (emu, G_MODULE_BIND_LAZY);
  void (*fail_allocations_after) (long n) = NULL;
  g_assert_nonnull (module);
  g_assert_true (g_module_symbol (module, "emu_fail_allocations_after", (gpointer *) &fail_allocations_after));
  m = lam_model_file_parse (json, -1, "moons.json", &error);
  g_assert_no_error (error);
  g_free (m->config.backend);
  m->config.backend = g_strdup ("cuda");
  win = window_with_model (m);
  show_page (win, "curves");
  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  /* past the first epoch's end: the run has all the memory it needs */
  wait_step (win, 60);
  g_assert_null (lam_training_views_get_problem (win->training_views));

  /* from now on every allocation fails; the features page needs new ones */
  fail_allocations_after (0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "view.training-page", "s", "features"));
  wait_for_cond (win, views_problem_shown, NULL, 30, "the views' problem");
  problem = lam_training_views_get_problem (win->training_views);
  g_test_message ("%s", problem);
  g_assert_true (g_str_has_prefix (problem, "The views could not be updated. "));
  g_assert_nonnull (strstr (problem, ": out of GPU memory: "));
  g_assert_nonnull (strstr (problem, " more were needed for "));
  /* drawn as a red banner with white words, above the view */
  GtkWidget *banner = lam_training_views_get_view (win->training_views, "problem");
  int w, h, white = 0;
  wait_mapped (banner);
  g_autofree guint32 *px = render_snapshot (banner, "views-problem", &w, &h);
  g_assert_nonnull (px);
  guint32 bg = px[2 * w + 2];
  g_test_message ("banner %d×%d, background 0x%08x", w, h, bg);
  g_assert_cmpuint ((bg >> 16) & 0xff, >, 0xc0);
  g_assert_cmpuint ((bg >> 8) & 0xff, <, 0x50);
  g_assert_cmpuint (bg & 0xff, <, 0x60);
  for (int i = 0; i < w * h; i++)
    white += ((px[i] >> 16) & 0xff) > 0xe0 && ((px[i] >> 8) & 0xff) > 0xe0 && (px[i] & 0xff) > 0xe0;
  g_assert_cmpint (white, >, 100);
  /* training goes on */
  int step = lam_training_session_get_step (win->session);
  wait_step (win, step + 20);
  g_assert_cmpint (lam_training_session_get_state (win->session), ==, LAM_SESSION_RUNNING);

  fail_allocations_after (-1);
  wait_for_cond (win, views_problem_gone, GUINT_TO_POINTER (lam_training_views_get_n_refreshes (win->training_views)),
                 30, "the views' problem to go");
  activate (win, "train.stop");
  wait_state (win, LAM_SESSION_IDLE);
  close_window (win);
  g_module_close (module);
  g_unsetenv ("LAMINA_CUDA_MODULE");
}

static gboolean
lr_is (LamWindow *win, gpointer data)
{
  const LamMetrics *m = lam_training_session_get_metrics (win->session);
  return m != NULL && fabs (m->lr - 0.005) < 1e-6;
}

/* The trainer's last step used the rate *(float *) data. */
static gboolean
lr_used (LamWindow *win, gpointer data)
{
  const LamMetrics *m = lam_training_session_get_metrics (win->session);
  return m != NULL && fabs (m->lr - *(float *) data) < 1e-7;
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
  /* the message once, in the problem box: not again under the title */
  {
    g_autofree char *detail = lam_training_session_dup_status_detail (win->session);
    g_test_message ("detail: %s", detail);
    g_assert_null (strstr (detail, "diverged"));
  }

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
    const char *dir = g_getenv ("LAMINA_FASHION_MNIST_DIR") ? g_getenv ("LAMINA_FASHION_MNIST_DIR")
                                                              : LAM_FASHION_MNIST_DIR;
    LamTrainConfig c;

    lam_train_config_copy (&c, lam_network_get_config (win->network));
    g_free (c.data.train_images);
    g_free (c.data.train_labels);
    c.data.train_images = g_build_filename (dir, "t10k-images-idx3-ubyte.gz", NULL);
    c.data.train_labels = g_build_filename (dir, "t10k-labels-idx1-ubyte.gz", NULL);
    g_assert_true (lam_network_set_config (win->network, &c, "Choose Training Images", NULL));
    lam_train_config_clear (&c);
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

static gboolean
title_modified (LamWindow *win)
{
  return g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (win)), "• ");
}

static float
spin_value (LamWindow *win, const char *name)
{
  return (float) gtk_spin_button_get_value (GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, name)));
}

/* Settings are undone like graph edits: Ctrl+Z brings back the panel's
 * values and the network's, Ctrl+Shift+Z applies them again, and the
 * title's modified marker follows the history. */
static void
test_settings_undo (void)
{
  LamWindow *win = moons_window (7);
  LamNetwork *net = win->network;
  GtkSpinButton *lr = GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, "lr"));
  AdwComboRow *optimizer = ADW_COMBO_ROW (lam_training_panel_get_control (win->training_panel, "optimizer"));
  GtkWidget *momentum = gtk_widget_get_ancestor (lam_training_panel_get_control (win->training_panel, "momentum"),
                                                 ADW_TYPE_ACTION_ROW);

  adw_view_stack_set_visible_child_name (win->sidebar_stack, "training");
  iterate ();
  g_assert_false (title_modified (win));
  g_assert_false (enabled (win, "graph.undo"));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (win->undo_button), ==, "Undo (Ctrl+Z)");
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.01f);
  g_assert_cmpint (adw_combo_row_get_selected (optimizer), ==, LAM_OPT_ADAM);
  g_assert_false (gtk_widget_get_visible (momentum));

  /* a rate set in two goes (one step), then the optimizer (another) */
  gtk_spin_button_set_value (lr, 0.02);
  iterate ();
  gtk_spin_button_set_value (lr, 0.03);
  iterate ();
  adw_combo_row_set_selected (optimizer, LAM_OPT_SGD);
  iterate ();
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.03f);
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, ==, LAM_OPT_SGD);
  g_assert_true (gtk_widget_get_visible (momentum));
  g_assert_true (title_modified (win));
  g_assert_true (_lam_window_get_modified (win));
  g_assert_true (enabled (win, "graph.undo"));
  g_assert_false (enabled (win, "graph.redo"));
  g_assert_cmpstr (lam_network_get_undo_label (net), ==, "Change Optimizer");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (win->undo_button), ==, "Undo Change Optimizer (Ctrl+Z)");

  /* Ctrl+Z: the optimizer comes back, the rate stays */
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpint (adw_combo_row_get_selected (optimizer), ==, LAM_OPT_ADAM);
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, ==, LAM_OPT_ADAM);
  g_assert_false (gtk_widget_get_visible (momentum));
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.03f);
  g_assert_true (title_modified (win));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (win->undo_button), ==, "Undo Change Learning Rate (Ctrl+Z)");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (win->redo_button), ==, "Redo Change Optimizer (Ctrl+Shift+Z)");

  /* Ctrl+Z: the rate as it was before both changes; the file is clean */
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.01f);
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.01f);
  g_assert_false (title_modified (win));
  g_assert_false (_lam_window_get_modified (win));
  g_assert_false (enabled (win, "graph.undo"));
  g_assert_false (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));   /* nothing left */

  /* Ctrl+Shift+Z, twice: both again */
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK));
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.03f);
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.03f);
  g_assert_cmpint (adw_combo_row_get_selected (optimizer), ==, LAM_OPT_ADAM);
  g_assert_true (title_modified (win));
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK));
  g_assert_cmpint (adw_combo_row_get_selected (optimizer), ==, LAM_OPT_SGD);
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, ==, LAM_OPT_SGD);
  g_assert_true (gtk_widget_get_visible (momentum));
  g_assert_false (enabled (win, "graph.redo"));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (win->redo_button), ==, "Redo (Ctrl+Shift+Z)");

  /* a graph edit and a setting, one history */
  g_assert_true (lam_network_set_param (net, "dense1", "units", 20));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, "epochs")), 9);
  iterate ();
  g_assert_cmpstr (gtk_widget_get_tooltip_text (win->undo_button), ==, "Undo Change Epochs (Ctrl+Z)");
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpfloat (spin_value (win, "epochs"), ==, 7);
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 20);
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 16);
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, ==, LAM_OPT_SGD);

  /* in a field, Ctrl+Z is the window's undo too, not the text's */
  gtk_widget_grab_focus (GTK_WIDGET (lr));
  gtk_spin_button_set_value (lr, 0.05);
  iterate ();
  g_assert_true (try_shortcut (GTK_WIDGET (lr), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.03f);
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.03f);
  g_assert_true (try_shortcut (GTK_WIDGET (lr), GDK_KEY_y, GDK_CONTROL_MASK));
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.05f);
  g_assert_true (try_shortcut (GTK_WIDGET (lr), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_true (try_shortcut (GTK_WIDGET (lr), GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.05f);
  close_window (win);
}

/* The rate changed while training runs applies at once, and is one undo
 * step for the run, undone (once paused) back to the rate it started
 * with; the trainer follows the undo too. */
static void
test_live_rate_undo (void)
{
  LamWindow *win = moons_window (100000);
  LamNetwork *net = win->network;
  GtkSpinButton *lr = GTK_SPIN_BUTTON (lam_training_panel_get_control (win->training_panel, "lr"));
  float want;
  int step;

  /* before the run: 0.01 → 0.02, a step of its own */
  gtk_spin_button_set_value (lr, 0.02);
  iterate ();
  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);

  /* while it runs: applied at once, recorded, but not undoable yet */
  gtk_spin_button_set_value (lr, 0.006);
  iterate ();
  gtk_spin_button_set_value (lr, 0.005);
  iterate ();
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.005f);
  wait_for_cond (win, lr_is, NULL, 10, "the new learning rate");
  g_assert_cmpstr (lam_network_get_undo_label (net), ==, "Change Learning Rate");
  g_assert_false (enabled (win, "graph.undo"));
  g_assert_false (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_false (try_shortcut (GTK_WIDGET (lr), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.005f);
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.005f);
  g_assert_true (title_modified (win));

  /* paused: Ctrl+Z brings back the rate the run started with, and the
   * next step uses it */
  activate (win, "train.pause");
  wait_state (win, LAM_SESSION_PAUSED);
  g_assert_true (enabled (win, "graph.undo"));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (win->undo_button), ==, "Undo Change Learning Rate (Ctrl+Z)");
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.02f);
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.02f);
  step = lam_training_session_get_step (win->session);
  activate (win, "train.step");
  wait_step (win, step + 1);
  wait_state (win, LAM_SESSION_PAUSED);
  want = 0.02f;
  g_assert_true (lr_used (win, &want));

  /* then the change made before the run; redo the live one */
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.01f);
  g_assert_false (title_modified (win));
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK));
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK));
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.005f);
  activate (win, "train.resume");
  want = 0.005f;
  wait_for_cond (win, lr_used, &want, 10, "the redone learning rate");

  /* each stretch of running makes its own step */
  wait_state (win, LAM_SESSION_RUNNING);
  gtk_spin_button_set_value (lr, 0.004);
  iterate ();
  activate (win, "train.pause");
  wait_state (win, LAM_SESSION_PAUSED);
  activate (win, "train.resume");
  wait_state (win, LAM_SESSION_RUNNING);
  gtk_spin_button_set_value (lr, 0.003);
  iterate ();
  gtk_spin_button_set_value (lr, 0.002);
  iterate ();
  activate (win, "train.stop");
  wait_state (win, LAM_SESSION_IDLE);
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.004f);
  g_assert_true (try_shortcut (GTK_WIDGET (win), GDK_KEY_z, GDK_CONTROL_MASK));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.005f);
  g_assert_cmpfloat (spin_value (win, "lr"), ==, 0.005f);
  close_window (win);
}

/* ------------------------------------------------------------------ */
/* Sequence pages, the gallery's scrolling, the window's size */

static void
attention_snapshot (LamWindow *win, int sample, LamSnapshot **out)
{
  LamSnapshotRequest req = { LAM_SNAPSHOT_ATTENTION, NULL, sample, NULL };
  SnapWait w = { NULL, FALSE };

  lam_training_session_snapshot (win->session, &req, NULL, snap_done, &w);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (w.snap);
  *out = w.snap;
}

/* The Transformer preset (Fashion-MNIST read as 28 rows, 4 heads):
 * Alt+7 shows the attention of the paused run, the engine's copy, row
 * by row a distribution, drawn in the colours of its values. */
static void
test_attention_page (void)
{
  LamWindow *win = preset_window ("transformer", 256, 32, 1000);
  LamAttentionView *av = LAM_ATTENTION_VIEW (lam_training_views_get_view (win->training_views, "attention"));
  const LamNode *attn = lam_graph_find (lam_network_get_graph (win->network), "attn");
  GtkWidget *scale_button;
  LamSnapshot *snap = NULL;
  const float *p;
  g_autofree float *weights = NULL;
  int heads = 0, T = 0, width, height, argmax = 0, checked = 0;
  g_autofree guint32 *px = NULL;

  g_assert_nonnull (attn);
  g_assert_cmpint (attn->p.heads, ==, 4);
  g_assert_null (lam_attention_view_get_weights (av, NULL, NULL));   /* nothing before a run */

  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, 3);
  g_assert_true (lam_training_views_page_visible (win->training_views, "attention"));
  g_assert_false (lam_training_views_page_visible (win->training_views, "text"));
  g_assert_false (lam_training_views_page_visible (win->training_views, "sequence"));
  activate (win, "train.pause");
  wait_state (win, LAM_SESSION_PAUSED);

  /* Alt+7, as the user presses it; then the copies of the paused run */
  {
    guint before = lam_training_views_get_n_refreshes (win->training_views);
    press_shortcut (win, GDK_KEY_7, GDK_ALT_MASK);
    g_assert_cmpstr (lam_training_views_get_page (win->training_views), ==, "attention");
    wait_for_cond (win, refreshed_since, GUINT_TO_POINTER (before), 30, "the attention");
  }
  p = lam_attention_view_get_weights (av, &heads, &T);
  g_assert_nonnull (p);
  p = weights = g_memdup2 (p, (gsize) heads * T * T * sizeof (float));
  g_assert_cmpint (heads, ==, 4);
  g_assert_cmpint (lam_attention_view_get_n_heads (av), ==, 4);
  g_assert_cmpint (T, ==, 28);   /* one step per image row */

  /* each query row is a distribution over the 28 keys */
  for (int h = 0; h < heads; h++)
    for (int q = 0; q < T; q++)
      {
        double sum = 0;
        for (int k = 0; k < T; k++)
          {
            float v = p[((gsize) h * T + q) * T + k];
            g_assert_true (isfinite (v));
            g_assert_cmpfloat (v, >=, 0);
            g_assert_cmpfloat (v, <=, 1);
            sum += v;
          }
        g_assert_cmpfloat (fabs (sum - 1), <, 1e-4);
      }
  /* the engine's own copy for the same sample of the paused run: the same numbers */
  attention_snapshot (win, lam_training_views_get_sample (win->training_views), &snap);
  g_assert_cmpstr (snap->att_node, ==, "attn");
  g_assert_cmpint (snap->att_heads, ==, heads);
  g_assert_cmpint (snap->att_steps, ==, T);
  g_assert_cmpmem (snap->att, (gsize) heads * T * T * sizeof (float), p, (gsize) heads * T * T * sizeof (float));
  lam_snapshot_free (snap);

  /* drawn: by default the colours go up to the largest weights (their
   * 99% quantile; with 0 to 1 early weights of about 1/28 would all be
   * dark), so the largest of all is the top of the colour map */
  wait_mapped (GTK_WIDGET (av));
  g_assert_cmpint (count_drawn (GTK_WIDGET (av), "attention"), >, 5000);
  for (int i = 1; i < heads * T * T; i++)
    if (p[i] > p[argmax])
      argmax = i;
  {
    graphene_rect_t r;
    int h = argmax / (T * T), q = argmax / T % T, k = argmax % T;
    g_assert_true (lam_attention_view_get_cell_rect (av, h, q, k, &r));
    g_assert_cmpfloat (r.size.width, >=, 3);
    px = render (GTK_WIDGET (av), "attention-auto", &width, &height);
    g_assert_nonnull (px);
    g_assert_true (lam_attention_view_get_auto_scale (av));
    g_assert_true (near_cmap (px[(int) (r.origin.y + r.size.height / 2) * width + (int) (r.origin.x + r.size.width / 2)],
                              LAM_CMAP_SEQUENTIAL, 1.0, 2));
    g_clear_pointer (&px, g_free);
  }

  /* the page's "Scale to the largest" button off: colours from 0 to 1,
   * so each cell's colour is its weight's */
  scale_button = find_descendant (GTK_WIDGET (win->training_views), GTK_TYPE_TOGGLE_BUTTON, "Scale to the largest");
  g_assert_nonnull (scale_button);
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (scale_button)));
  g_signal_emit_by_name (scale_button, "clicked");
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (scale_button)));
  g_assert_false (lam_attention_view_get_auto_scale (av));
  {
    int h2, T2;
    const float *now = lam_attention_view_get_weights (av, &h2, &T2);
    g_assert_cmpmem (now, (gsize) h2 * T2 * T2 * sizeof (float), p, (gsize) heads * T * T * sizeof (float));
  }
  wait_mapped (GTK_WIDGET (av));
  px = render (GTK_WIDGET (av), "attention", &width, &height);
  g_assert_nonnull (px);
  for (int h = 0; h < heads; h++)
    for (int q = 0; q < T; q += 3)
      for (int k = 0; k < T; k += 5)
        {
          graphene_rect_t r;
          guint32 c;
          g_assert_true (lam_attention_view_get_cell_rect (av, h, q, k, &r));
          c = px[(int) (r.origin.y + r.size.height / 2) * width + (int) (r.origin.x + r.size.width / 2)];
          if (!near_cmap (c, LAM_CMAP_SEQUENTIAL, p[((gsize) h * T + q) * T + k], 3))
            g_error ("head %d, query %d, key %d: weight %.4f drawn as #%06x", h, q, k,
                     p[((gsize) h * T + q) * T + k], c & 0xffffff);
          checked++;
        }
  g_assert_cmpint (checked, >, 100);
  close_window (win);
}

static void
count_generated (LamTextView *tv, const char *text, int *n)
{
  (*n)++;
}

static gboolean
int_at_least_one (LamWindow *win, gpointer data)
{
  return *(int *) data >= 1;
}

/* Until tv wrote once more (a button click emits "clicked" a moment
 * after its activation). */
static void
wait_written (LamWindow *win, LamTextView *tv, void (*start) (LamTextView *tv, GtkWidget *button), GtkWidget *button)
{
  int n = 0;
  gulong id = g_signal_connect (tv, "generated", G_CALLBACK (count_generated), &n);

  start (tv, button);
  wait_for_cond (win, int_at_least_one, &n, 30, "the text");
  g_signal_handler_disconnect (tv, id);
  g_assert_false (lam_text_view_get_busy (tv));
}

static void
click_generate (LamTextView *tv, GtkWidget *button)
{
  gtk_widget_activate (button);   /* as Enter or Space on it, or a click */
}

static void
generate_seed_1234 (LamTextView *tv, GtkWidget *button)
{
  lam_text_view_set_seed (tv, 1234);
  g_assert_true (lam_text_view_generate (tv));
}

/* Dark (text) pixels in w as drawn: luma below 100 on a light theme. */
static int
count_dark (GtkWidget *w, const char *name)
{
  int width, height, n = 0;
  g_autofree guint32 *px = render (w, name, &width, &height);

  g_assert_nonnull (px);
  for (gsize i = 0; i < (gsize) width * height; i++)
    {
      int r = (px[i] >> 16) & 0xff, g = (px[i] >> 8) & 0xff, b = px[i] & 0xff;
      n += (px[i] >> 24) > 0x80 && (r * 299 + g * 587 + b * 114) / 1000 < 100;
    }
  g_test_message ("%s: %d dark pixels", name, n);
  return n;
}

/* The character LSTM: Alt+8 shows the Text page; Generate writes the
 * length asked for after the prompt, from the corpus's characters, the
 * same again from the same seed of the paused run; and it is drawn. */
static void
test_text_page (void)
{
  LamWindow *win;
  LamTextView *tv;
  GtkWidget *generate, *text_widget;
  g_autofree char *corpus_path = lam_text_corpus_path ();
  g_autofree char *corpus = NULL;
  g_autoptr(GHashTable) alphabet = g_hash_table_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL, *again = NULL;
  const char *prompt = "The network ";
  const LamDataset *train;
  int dark_before;

  /* the corpus's alphabet, read here */
  g_assert_nonnull (corpus_path);
  g_assert_true (g_file_get_contents (corpus_path, &corpus, NULL, &error));
  g_assert_no_error (error);
  for (const char *c = corpus; *c; c = g_utf8_next_char (c))
    g_hash_table_add (alphabet, GUINT_TO_POINTER (g_utf8_get_char (c)));

  {
    LamModelFile *m = lam_model_file_load_preset ("charlstm", &error);
    g_assert_no_error (error);
    m->config.data.n_samples = 2000;
    m->config.batch = 32;
    m->config.epochs = 1000;
    g_free (m->config.backend);
    m->config.backend = g_strdup ("cpu");
    win = window_with_model (m);
  }
  tv = LAM_TEXT_VIEW (lam_training_views_get_view (win->training_views, "text"));
  generate = find_descendant (GTK_WIDGET (tv), GTK_TYPE_BUTTON, "_Generate");
  text_widget = find_descendant (GTK_WIDGET (tv), GTK_TYPE_TEXT_VIEW, NULL);
  g_assert_nonnull (generate);
  g_assert_nonnull (text_widget);

  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, 3);
  g_assert_true (lam_training_views_page_visible (win->training_views, "text"));
  g_assert_true (lam_training_views_page_visible (win->training_views, "sequence"));
  g_assert_false (lam_training_views_page_visible (win->training_views, "attention"));
  activate (win, "train.pause");
  wait_state (win, LAM_SESSION_PAUSED);
  train = lam_training_session_get_train_set (win->session);
  g_assert_nonnull (train);
  g_assert_cmpint (train->n_classes, ==, (int) g_hash_table_size (alphabet));

  press_shortcut (win, GDK_KEY_8, GDK_ALT_MASK);
  g_assert_cmpstr (lam_training_views_get_page (win->training_views), ==, "text");
  wait_mapped (text_widget);
  dark_before = count_dark (text_widget, "text-empty");

  lam_text_view_set_follow (tv, FALSE);
  lam_text_view_set_prompt (tv, prompt);
  lam_text_view_set_length (tv, 120);
  lam_text_view_set_temperature (tv, 0.8);
  wait_written (win, tv, click_generate, generate);
  text = lam_text_view_dup_text (tv);
  g_test_message ("wrote: %s", text);
  g_assert_true (g_str_has_prefix (text, prompt));
  g_assert_cmpint (g_utf8_strlen (text, -1), ==, (glong) strlen (prompt) + 120);
  for (const char *c = text; *c; c = g_utf8_next_char (c))
    {
      gunichar u = g_utf8_get_char (c);
      gboolean in_vocab = FALSE;
      if (!g_hash_table_contains (alphabet, GUINT_TO_POINTER (u)))
        g_error ("U+%04X is not in the corpus", u);
      for (int v = 0; v < train->n_classes && !in_vocab; v++)
        in_vocab = g_utf8_get_char (train->class_names[v]) == u;
      g_assert_true (in_vocab);
    }
  /* the paused run's weights, the same seed: the same text */
  wait_written (win, tv, generate_seed_1234, NULL);
  g_free (text);
  text = lam_text_view_dup_text (tv);
  wait_written (win, tv, generate_seed_1234, NULL);
  again = lam_text_view_dup_text (tv);
  g_assert_cmpstr (again, ==, text);

  /* drawn: the glyphs, dark on the light card */
  wait_mapped (text_widget);
  g_assert_cmpint (count_dark (text_widget, "text"), >, dark_before + 1000);
  g_assert_cmpint (count_drawn (GTK_WIDGET (tv), "text-page"), >, 3000);
  close_window (win);
}

static gboolean
gallery_filled (LamWindow *win, gpointer data)
{
  return lam_sample_browser_get_n_items (LAM_SAMPLE_BROWSER (data)) >= 60;
}

/* The gallery of mistakes scrolls: more than fit, the keys bring each
 * into view, a click there picks it, and its layout settles. */
static void
test_gallery_scrolls (void)
{
  LamWindow *win = preset_window ("lenet5", 512, 32, 1000);
  GtkWidget *gallery = lam_training_views_get_view (win->training_views, "gallery");
  LamSampleBrowser *sb = LAM_SAMPLE_BROWSER (gallery);
  GtkWidget *scrolled;
  GtkAdjustment *adj;
  graphene_rect_t r;
  int n, last;
  guint before;
  g_autofree guint32 *top = NULL, *bottom = NULL;
  int width, height;

  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, 2);
  activate (win, "train.pause");   /* early in a run: hundreds of mistakes */
  wait_state (win, LAM_SESSION_PAUSED);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "view.training-page", "s", "predictions"));
  wait_for_cond (win, gallery_filled, gallery, 30, "the mistakes");
  n = lam_sample_browser_get_n_items (sb);
  g_test_message ("%d mistakes in the gallery", n);

  scrolled = gtk_widget_get_ancestor (gallery, GTK_TYPE_SCROLLED_WINDOW);
  g_assert_nonnull (scrolled);
  g_assert_true (gtk_widget_is_ancestor (scrolled, GTK_WIDGET (win->training_views)));
  g_assert_true (gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled)) == gallery);
  wait_mapped (gallery);
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  g_assert_cmpfloat (gtk_adjustment_get_page_size (adj), ==, gtk_widget_get_height (gallery));
  g_assert_cmpfloat (gtk_adjustment_get_upper (adj), >, 2 * gtk_adjustment_get_page_size (adj));
  g_assert_true (gtk_widget_get_visible (gtk_scrolled_window_get_vscrollbar (GTK_SCROLLED_WINDOW (scrolled))));
  last = n - 1;
  g_assert_true (lam_sample_browser_get_item_rect (sb, last, &r));
  g_assert_cmpfloat (r.origin.y, >, gtk_widget_get_height (gallery));   /* out of sight */

  /* nothing changes while paused: no layout after layout, frame after
   * frame (which would be about 30 in half a second). Once the window is
   * quiet (a busy machine may still be finishing the last refresh, or a
   * scrollbar's fade), a few stray layouts at most: another test's window
   * on the same display, taking the focus, restyles this one. */
  {
    GdkFrameClock *clock = gtk_widget_get_frame_clock (gallery);
    int layouts = 0, tries = 0;
    gulong id = g_signal_connect (clock, "layout", G_CALLBACK (count_paint), &layouts);
    do
      {
        layouts = 0;
        run_for (300);
      }
    while (layouts > 0 && ++tries < 10);
    layouts = 0;
    run_for (500);
    g_signal_handler_disconnect (clock, id);
    g_test_message ("%d layouts in 500 ms, after %d tries to find the window quiet", layouts, tries);
    g_assert_cmpint (layouts, <=, 5);
  }

  /* End: the last mistake is chosen and scrolled into view */
  top = render (gallery, "gallery-top", &width, &height);
  g_assert_nonnull (top);
  gtk_widget_grab_focus (gallery);
  g_assert_true (gtk_widget_has_focus (gallery));
  before = lam_training_views_get_n_refreshes (win->training_views);
  g_assert_true (press_key (gallery, GDK_KEY_End, 0));
  g_assert_cmpint (lam_sample_browser_get_selected (sb), ==, lam_sample_browser_get_item_index (sb, last));
  g_assert_cmpint (lam_training_views_get_sample (win->training_views), ==, lam_sample_browser_get_item_index (sb, last));
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), >, 0);
  /* the sample's copies come back (and, paused, the predictions with
   * them): the gallery keeps the mistake picked and where it was */
  {
    double value = gtk_adjustment_get_value (adj);
    wait_for_cond (win, refreshed_since, GUINT_TO_POINTER (before), 30, "the sample");
    run_for (100);
    g_assert_cmpint (lam_sample_browser_get_selected (sb), ==, lam_sample_browser_get_item_index (sb, last));
    g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, value);
  }
  g_assert_true (lam_sample_browser_get_item_rect (sb, last, &r));
  g_assert_cmpfloat (r.origin.y, >=, 0);
  g_assert_cmpfloat (r.origin.y + r.size.height, <=, gtk_widget_get_height (gallery));
  g_assert_cmpint (lam_sample_browser_item_at (sb, r.origin.x + r.size.width / 2, r.origin.y + r.size.height / 2),
                   ==, last);
  /* drawn there: the thumbnails further down, not those of the top */
  wait_mapped (gallery);
  bottom = render (gallery, "gallery-bottom", &width, &height);
  g_assert_nonnull (bottom);
  {
    int differ = 0;
    for (gsize i = 0; i < (gsize) width * height; i++)
      differ += top[i] != bottom[i];
    g_assert_cmpint (differ, >, width * height / 10);
  }

  /* Up goes a row back; Home to the top */
  g_assert_true (press_key (gallery, GDK_KEY_Up, 0));
  g_assert_cmpint (lam_sample_browser_get_selected (sb), <, lam_sample_browser_get_item_index (sb, last));
  g_assert_true (press_key (gallery, GDK_KEY_Home, 0));
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 0);
  g_assert_cmpint (lam_sample_browser_get_selected (sb), ==, lam_sample_browser_get_item_index (sb, 0));

  /* scrolled by its scroll bar (or the wheel): the middle comes into view */
  gtk_adjustment_set_value (adj, (gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj)) / 2);
  iterate ();
  {
    int mid = lam_sample_browser_item_at (sb, r.origin.x + r.size.width / 2, gtk_widget_get_height (gallery) / 2.0);
    if (mid < 0)   /* between two rows */
      mid = lam_sample_browser_item_at (sb, r.origin.x + r.size.width / 2, gtk_widget_get_height (gallery) / 2.0 + 30);
    g_assert_cmpint (mid, >, 0);
    g_assert_cmpint (mid, <, last);
  }
  close_window (win);
}

static gboolean
predictions_shown (LamWindow *win, gpointer data)
{
  GtkWidget *pv = lam_training_views_get_view (win->training_views, "prediction");
  GtkWidget *cv = lam_training_views_get_view (win->training_views, "confusion");

  return lam_prediction_view_get_predicted (LAM_PREDICTION_VIEW (pv)) >= 0
         && lam_confusion_view_get_n_classes (LAM_CONFUSION_VIEW (cv)) > 0;
}

/* The predictions page at the window's size: the headline ("Predicted /
 * Shirt 71%"), the verdict, the caption, the class names beside the bars
 * and the confusion matrix's title all read whole, none shortened. */
static void
assert_predictions_readable (LamWindow *win)
{
  GtkWidget *pv = lam_training_views_get_view (win->training_views, "prediction");
  GtkWidget *cv = lam_training_views_get_view (win->training_views, "confusion");

  show_page (win, "predictions");
  wait_for_cond (win, predictions_shown, NULL, 30, "predictions");
  wait_mapped (pv);
  wait_mapped (cv);
  g_test_message ("predictions %d × %d, confusion %d × %d: %u and %u texts cut", gtk_widget_get_width (pv),
                  gtk_widget_get_height (pv), gtk_widget_get_width (cv), gtk_widget_get_height (cv),
                  lam_prediction_view_get_n_cut_texts (LAM_PREDICTION_VIEW (pv)),
                  lam_confusion_view_get_n_cut_texts (LAM_CONFUSION_VIEW (cv)));
  g_assert_cmpuint (lam_prediction_view_get_n_cut_texts (LAM_PREDICTION_VIEW (pv)), ==, 0);
  g_assert_cmpuint (lam_confusion_view_get_n_cut_texts (LAM_CONFUSION_VIEW (cv)), ==, 0);
}

/* On a 1280×720 screen (a school projector): the window fits while it
 * trains, whatever the page and the network. */
static void
test_fits_1280 (void)
{
  const char *const presets[] = { "lenet5", "transformer", "charlstm", "lstm" };
  const char *const pages[] = { "curves", "filters", "features", "predictions", "boundary",
                                "sequence", "attention", "text" };

  for (guint p = 0; p < G_N_ELEMENTS (presets) + 1; p++)
    {
      LamWindow *win;
      int n_pages = 0;

      if (p < G_N_ELEMENTS (presets))
        {
          g_autoptr(GError) error = NULL;
          LamModelFile *m = lam_model_file_load_preset (presets[p], &error);
          g_assert_no_error (error);
          m->config.data.limit = 256;
          m->config.data.n_samples = MIN (m->config.data.n_samples, 2000);
          m->config.batch = 32;
          m->config.epochs = 1000;
          g_free (m->config.backend);
          m->config.backend = g_strdup ("cpu");
          win = window_with_model (m);
        }
      else
        win = moons_window (100000);
      gtk_window_set_default_size (GTK_WINDOW (win), 1280, 720);
      activate (win, "train.start");
      wait_state (win, LAM_SESSION_RUNNING);
      wait_step (win, 2);
      for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
        {
          int min_w, nat_w, min_h, nat_h;
          if (!lam_training_views_page_visible (win->training_views, pages[i]))
            continue;
          n_pages++;
          g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "view.training-page", "s", pages[i]));
          run_for (100);
          wait_mapped (GTK_WIDGET (win->training_views));
          gtk_widget_measure (GTK_WIDGET (win), GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL, NULL);
          gtk_widget_measure (GTK_WIDGET (win), GTK_ORIENTATION_VERTICAL, 1280, &min_h, &nat_h, NULL, NULL);
          g_test_message ("%s, %s: at least %d × %d (natural width %d), now %d × %d",
                          p < G_N_ELEMENTS (presets) ? presets[p] : "moons", pages[i], min_w, min_h, nat_w,
                          gtk_widget_get_width (GTK_WIDGET (win)), gtk_widget_get_height (GTK_WIDGET (win)));
          g_assert_cmpint (min_w, <=, 1280);
          g_assert_cmpint (min_h, <=, 720);
          g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (win)), <=, 1280);
          g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (win)), <=, 720);
        }
      if (p == 0)
        assert_predictions_readable (win);
      /* and the training panel's rows fit in it, none cut off at its edge */
      {
        GtkWidget *scrolled = find_descendant (GTK_WIDGET (win->training_panel), GTK_TYPE_SCROLLED_WINDOW, NULL);
        GtkWidget *content = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled));
        g_assert_cmpint (gtk_widget_get_width (content), <=, gtk_widget_get_width (scrolled));
        g_assert_cmpint (gtk_widget_get_width (scrolled), <=, gtk_widget_get_width (GTK_WIDGET (win->training_panel)));
      }
      g_assert_cmpint (n_pages, >=, 4);
      g_assert_cmpint (lam_training_session_get_state (win->session), ==, LAM_SESSION_RUNNING);
      close_window (win);
    }
}

/* Until w's size stays the same for a few frames: banners and the canvas
 * tools slide and fade in. */
static void
wait_settled (GtkWidget *w)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  int same = 0, width = -1, height = -1;

  while (same < 4)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      run_for (80);
      if (gtk_widget_get_width (w) == width && gtk_widget_get_height (w) == height)
        same++;
      else
        same = 0;
      width = gtk_widget_get_width (w);
      height = gtk_widget_get_height (w);
    }
  wait_mapped (w);
}

/* The zoom tools float over the canvas' bottom-right corner: while LeNet-5
 * trains at 1400x900 (the canvas a band above the views) they cover no
 * layer, the network shown from its input above them; at 1280x720 the
 * canvas is too short for both, and they fade out while the layers show
 * whole. A long chain opens at 100% (fitting all 14 layers would make
 * them illegible on a projector). */
/* LeNet-5 training in a window of w × h, the canvas settled. */
static LamWindow *
lenet_training_at (int w, int h)
{
  LamWindow *win = preset_window ("lenet5", 512, 32, 1000);
  GtkWidget *gv = GTK_WIDGET (win->graph_view);

  /* a long chain opens at 100%, from its input */
  g_assert_cmpfloat (lam_graph_view_get_zoom (win->graph_view), ==, 1.0);
  gtk_window_set_default_size (GTK_WINDOW (win), w, h);
  wait_settled (gv);
  activate (win, "train.start");
  wait_state (win, LAM_SESSION_RUNNING);
  wait_step (win, 2);
  g_assert_true (gtk_revealer_get_reveal_child (win->locked_revealer));
  wait_settled (gv);
  g_test_message ("%d × %d: canvas %d × %d, zoom %.2f", w, h, gtk_widget_get_width (gv), gtk_widget_get_height (gv),
                  lam_graph_view_get_zoom (win->graph_view));
  return win;
}

static void
test_canvas_tools (void)
{
  LamWindow *win = lenet_training_at (1400, 900);
  GtkWidget *gv = GTK_WIDGET (win->graph_view);
  const LamGraph *g = lam_network_get_graph (win->network);
  graphene_rect_t tools, r;
  guint n_seen = 0;

  g_assert_cmpint (gtk_widget_get_height (gv), <, 260);
  g_assert_true (gtk_revealer_get_reveal_child (win->canvas_tools_revealer));
  g_assert_false (gtk_widget_get_visible (win->canvas_tidy));   /* an edit: not while training */
  g_assert_true (gtk_widget_compute_bounds (win->canvas_tools, gv, &tools));
  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      g_assert_true (lam_graph_view_get_node_area (win->graph_view, n->name, &r));
      if (r.origin.x >= gtk_widget_get_width (gv))
        continue;
      n_seen++;
      g_assert_false (graphene_rect_intersection (&r, &tools, NULL));
      g_assert_cmpfloat (r.origin.y, >=, 0);
      g_assert_cmpfloat (r.origin.y + r.size.height, <=, gtk_widget_get_height (gv));
    }
  g_assert_cmpuint (n_seen, >=, 4);
  g_assert_true (lam_graph_view_get_node_area (win->graph_view, "input", &r));
  g_assert_cmpfloat (r.origin.x, >=, 0);
  /* legible: 100% on a 1400x900 screen, a little less where the window
   * cannot be that big (1280x800) */
  g_assert_cmpfloat (lam_graph_view_get_zoom (win->graph_view), >=, 0.7);
  close_window (win);

  win = lenet_training_at (1280, 720);
  gv = GTK_WIDGET (win->graph_view);
  g_assert_false (gtk_revealer_get_reveal_child (win->canvas_tools_revealer));
  g_assert_true (lam_graph_view_get_node_area (win->graph_view, "input", &r));
  g_assert_cmpfloat (r.origin.x, >=, 0);
  g_assert_cmpfloat (r.origin.y, >=, 0);
  g_assert_cmpfloat (r.origin.y + r.size.height, <=, gtk_widget_get_height (gv));
  g_assert_cmpint (lam_training_session_get_state (win->session), ==, LAM_SESSION_RUNNING);
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
  g_test_add_func ("/gui/training/views-out-of-memory", test_views_out_of_memory);
  g_test_add_func ("/gui/training/weights-continue", test_weights_continue);
  g_test_add_func ("/gui/training/data-mismatch", test_data_mismatch);
  g_test_add_func ("/gui/training/settings-saved", test_settings_saved);
  g_test_add_func ("/gui/training/settings-undo", test_settings_undo);
  g_test_add_func ("/gui/training/live-rate-undo", test_live_rate_undo);
  g_test_add_func ("/gui/training/attention-page", test_attention_page);
  g_test_add_func ("/gui/training/text-page", test_text_page);
  g_test_add_func ("/gui/training/gallery-scrolls", test_gallery_scrolls);
  g_test_add_func ("/gui/training/fits-1280", test_fits_1280);
  g_test_add_func ("/gui/training/canvas-tools", test_canvas_tools);
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
