/* lam-views-demo.c: every view, live, on two real training runs.
 *
 * LeNet-5 learns Fashion-MNIST (5000 training images) and a small MLP
 * learns a 2-D set, each on its trainer's worker thread. Their metrics
 * callbacks only queue LamMetrics under a mutex; a 5 Hz timeout on the
 * main thread drains the queues into the loss plot and starts, when
 * none is running, one refresh task on a GTask thread that takes every
 * copy the views need (weights, one sample's activations, predictions
 * for the confusion matrix, the 2-D probability field), so the main
 * loop never waits for a trainer's lock. The task's result is handed to
 * the views' setters on the main thread.
 *
 *   lam-views-demo [--epochs N] [--pace-ms MS] [--dark]
 *                  [--screenshots DIR] [--shot-after SECONDS]
 *
 * --screenshots writes views-{loss,filters,features,predictions,
 * confusion,boundary}.png after the delay, then quits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views-demo"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "lam-views.h"
#include "lam-model-file.h"

#define REFRESH_MS        200      /* 5 Hz */
#define CONFUSION_EVERY   (2 * G_USEC_PER_SEC)
#define N_BROWSE          300
#define N_CONFUSION       1000
#define GRID              100

/* ── A training run ──────────────────────────────────────────────────── */

typedef struct {
  LamTrainer     *trainer;
  LamDataSplits   data;
  const LamGraph *graph;      /* the net's validated copy */
  GMutex          lock;       /* guards the fields below */
  GArray         *pending;    /* LamMetrics, from the worker */
  LamTrainerState state;
  char           *error;
  guint           pace_us;    /* sleep per step: a 2-D set otherwise learns in 0.1 s */
} Run;

static void
run_metrics_cb (LamTrainer *t, const LamMetrics *m, gpointer data)
{
  Run *run = data;

  g_mutex_lock (&run->lock);
  g_array_append_vals (run->pending, m, 1);
  g_mutex_unlock (&run->lock);
  if (run->pace_us)
    g_usleep (run->pace_us);
}

static void
run_state_cb (LamTrainer *t, LamTrainerState state, const GError *error, gpointer data)
{
  Run *run = data;

  g_mutex_lock (&run->lock);
  run->state = state;
  if (error)
    {
      g_free (run->error);
      run->error = g_strdup (error->message);
    }
  g_mutex_unlock (&run->lock);
}

static void
run_free (Run *run)
{
  if (run == NULL)
    return;
  lam_trainer_free (run->trainer);   /* stops the worker first */
  lam_data_splits_clear (&run->data);
  g_array_unref (run->pending);
  g_free (run->error);
  g_mutex_clear (&run->lock);
  g_free (run);
}

static Run *
run_new (const LamGraph *graph, const LamTrainConfig *cfg, guint pace_us, GError **error)
{
  Run *run = g_new0 (Run, 1);

  g_mutex_init (&run->lock);
  run->pending = g_array_new (FALSE, FALSE, sizeof (LamMetrics));
  run->pace_us = pace_us;
  if (!lam_data_open (&cfg->data, cfg->seed, &run->data, error)
      || (run->trainer = lam_trainer_new (graph, cfg, &run->data, error)) == NULL)
    {
      run_free (run);
      return NULL;
    }
  run->graph = lam_net_graph (lam_trainer_net (run->trainer));
  lam_trainer_set_callbacks (run->trainer, run_metrics_cb, run_state_cb, run);
  return run;
}

/* Moves the queued metrics into out (may be NULL); returns how many. */
static guint
run_drain (Run *run, GArray *out)
{
  guint n;

  g_mutex_lock (&run->lock);
  n = run->pending->len;
  if (out)
    g_array_append_vals (out, run->pending->data, n);
  g_array_set_size (run->pending, 0);
  g_mutex_unlock (&run->lock);
  return n;
}

/* ── The demo ────────────────────────────────────────────────────────── */

typedef struct {
  GtkApplication    *app;
  GtkWindow         *window;
  AdwViewStack      *stack;

  Run               *cnn;
  Run               *flat;
  LamDataset        *val;          /* the first N_CONFUSION validation images */
  LamViewGrid       *grid;
  char              *flat_set;     /* "moons" */
  int                epochs;
  guint              pace_us;

  LamLossPlot       *loss;
  GtkLabel          *loss_status;
  LamFilterView     *filters;
  GtkDropDown       *filter_layer;
  GtkStringList     *filter_nodes;
  LamFeatureView    *features;
  GtkLabel          *features_status;
  LamSampleBrowser  *browse_features;
  LamSampleBrowser  *browse_predictions;
  LamPredictionView *prediction;
  LamConfusionView  *confusion;
  LamSampleBrowser  *gallery;
  GtkLabel          *gallery_status;
  LamBoundaryView   *boundary;
  GtkLabel          *boundary_status;
  GtkDropDown       *boundary_set;

  int               *last_pred;    /* for filtering the gallery */
  int                gallery_true, gallery_pred;
  int                sample;
  guint              timeout_id;
  gboolean           busy;         /* a refresh task is running */
  gboolean           restart_flat; /* once the task is done */
  gboolean           dirty;        /* something changed since the last refresh */
  gint64             last_confusion;
  gboolean           paused;
  gboolean           dark;
  LamMetrics         cnn_last, flat_last;
  LamTrainerState    cnn_state, flat_state;

  /* measurements */
  double             task_ms, apply_ms;
  guint              n_refresh;

  char              *shot_dir;
  int                shot_after;
  guint              shot_index;
} Demo;

static const char *const flat_sets[] = { "moons", "spiral", "circles", "xor", NULL };

static void restart_flat (Demo *d);

/* ── Refresh: copies on a worker, setters on the main thread ─────────── */

typedef struct {
  Run     *cnn, *flat;
  LamDataset *val;
  LamViewGrid *grid;
  int      sample;
  char    *filter_node;
  gboolean confusion;

  /* results */
  float   *weights;
  int      ndim, shape[4], in_c, in_h, in_w;
  float  **acts;
  float   *probs;
  int      n_classes;
  int     *pred;
  float   *field;
  float   *units;
  int      n_units;
  int      flat_classes;
  char    *units_node;
  double   ms, cnn_ms, confusion_ms;
} Refresh;

static void
refresh_free (Refresh *r)
{
  if (r->acts)
    lam_trainer_free_activations (r->cnn->trainer, r->acts);
  g_free (r->filter_node);
  g_free (r->weights);
  g_free (r->probs);
  g_free (r->pred);
  g_free (r->field);
  g_free (r->units);
  g_free (r->units_node);
  g_free (r);
}

static void
refresh_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Refresh *r = data;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr(GError) error = NULL;

  if (r->cnn)
    {
      LamTrainer *t = r->cnn->trainer;
      /* all of a refresh's copies from one step */
      lam_trainer_views_hold (t);
      r->weights = lam_view_copy_weights (t, r->filter_node, &r->ndim, r->shape, &r->in_c,
                                          &r->in_h, &r->in_w);
      r->acts = lam_trainer_activations (t, r->val, r->sample, &error);
      if (r->acts)
        r->probs = lam_view_probabilities (r->cnn->graph, r->acts, &r->n_classes);
      else
        g_warning ("activations: %s", error->message);
      r->cnn_ms = (g_get_monotonic_time () - t0) / 1000.0;
      if (r->confusion)
        r->pred = lam_view_predict (t, r->val, NULL);
      r->confusion_ms = (g_get_monotonic_time () - t0) / 1000.0 - r->cnn_ms;
      lam_trainer_views_release (t);
    }
  if (r->flat)
    {
      const LamNode *hidden = lam_view_hidden_node (r->flat->graph);
      r->flat_classes = r->flat->data.train->n_classes;
      r->field = g_new (float, GRID * GRID * r->flat_classes);
      r->units_node = hidden ? g_strdup (hidden->name) : NULL;
      if (!lam_view_grid_evaluate (r->flat->trainer, r->grid, r->field, r->flat_classes,
                                   r->units_node, r->units_node ? &r->units : NULL,
                                   r->units_node ? &r->n_units : NULL, &error))
        {
          g_warning ("2-D field: %s", error->message);
          g_clear_pointer (&r->field, g_free);
        }
    }
  r->ms = (g_get_monotonic_time () - t0) / 1000.0;
  g_task_return_boolean (task, TRUE);
}

static void
show_gallery (Demo *d)
{
  const LamDataset *v = d->val;
  g_autofree int *pred = NULL;
  int n;

  if (d->last_pred == NULL)
    return;
  if (d->gallery_true < 0)
    {
      n = lam_sample_browser_set_misclassified (d->gallery, v->images, 1, 28, 28, d->last_pred,
                                                v->labels, v->n,
                                                (const char *const *) v->class_names, 300);
      gtk_label_set_text (d->gallery_status, "All mistakes; click a cell of the matrix to see one kind");
      return;
    }
  /* one cell: everything else counts as right */
  pred = g_memdup2 (d->last_pred, sizeof (int) * v->n);
  for (int i = 0; i < v->n; i++)
    if (v->labels[i] != d->gallery_true || pred[i] != d->gallery_pred)
      pred[i] = v->labels[i];
  n = lam_sample_browser_set_misclassified (d->gallery, v->images, 1, 28, 28, pred, v->labels,
                                            v->n, (const char *const *) v->class_names, 300);
  {
    g_autofree char *title = g_strdup_printf ("%d × %s taken for %s", n,
                                              v->class_names[d->gallery_true],
                                              v->class_names[d->gallery_pred]);
    lam_sample_browser_set_title (d->gallery, title);
    gtk_label_set_text (d->gallery_status, title);
  }
}

static void
refresh_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Demo *d = data;
  Refresh *r = g_task_get_task_data (G_TASK (result));
  gint64 t0 = g_get_monotonic_time ();
  const LamDataset *v = d->val;

  d->busy = FALSE;
  if (d->window == NULL)
    return;

  if (r->weights)
    lam_filter_view_set_weights (d->filters, r->weights, r->ndim, r->shape, r->in_c, r->in_h,
                                 r->in_w, r->filter_node);
  if (r->acts)
    lam_feature_view_set_activations (d->features, r->cnn->graph, r->acts,
                                      (const char *const *) v->class_names);
  if (r->probs)
    lam_prediction_view_set_probabilities (d->prediction, r->probs, r->n_classes,
                                           (const char *const *) v->class_names,
                                           v->labels[r->sample]);
  if (r->pred)
    {
      lam_confusion_view_set_data (d->confusion, r->pred, v->labels, v->n, v->n_classes,
                                   (const char *const *) v->class_names);
      g_free (d->last_pred);
      d->last_pred = g_steal_pointer (&r->pred);
      show_gallery (d);
    }
  if (r->field)
    {
      float x0, x1, y0, y1;
      lam_view_grid_get_bounds (d->grid, &x0, &x1, &y0, &y1);
      lam_boundary_view_set_field (d->boundary, r->field, GRID, r->flat_classes, x0, x1, y0, y1);
      if (r->units)
        lam_boundary_view_set_units (d->boundary, r->units, r->n_units, GRID, r->units_node);
    }

  d->task_ms += r->ms;
  if (g_getenv ("LAM_DEMO_VERBOSE"))
    g_message ("copies %.1f ms: LeNet weights and activations %.1f, predictions %.1f, 2-D field %.1f",
               r->ms, r->cnn_ms, r->confusion_ms, r->ms - r->cnn_ms - r->confusion_ms);
  d->apply_ms += (g_get_monotonic_time () - t0) / 1000.0;
  d->n_refresh++;
  if (g_getenv ("LAM_DEMO_VERBOSE") && d->n_refresh % 25 == 0)
    g_message ("refresh %u: copies %.1f ms on the worker, setters %.2f ms on the main thread "
               "(means)", d->n_refresh, d->task_ms / d->n_refresh, d->apply_ms / d->n_refresh);

  if (d->restart_flat)
    restart_flat (d);
}

static void
start_refresh (Demo *d, gboolean force)
{
  g_autoptr(GTask) task = NULL;
  Refresh *r;
  GtkStringObject *node;
  gint64 now = g_get_monotonic_time ();

  if (d->busy || (!d->dirty && !force))
    return;
  r = g_new0 (Refresh, 1);
  r->cnn = d->cnn;
  r->flat = d->flat;
  r->val = d->val;
  r->grid = d->grid;
  r->sample = d->sample;
  node = gtk_drop_down_get_selected_item (d->filter_layer);
  r->filter_node = g_strdup (node ? gtk_string_object_get_string (node) : "conv1");
  r->confusion = force || now - d->last_confusion > CONFUSION_EVERY;
  if (r->confusion)
    d->last_confusion = now;
  d->busy = TRUE;
  d->dirty = FALSE;

  task = g_task_new (NULL, NULL, refresh_done, d);
  g_task_set_task_data (task, r, (GDestroyNotify) refresh_free);
  g_task_run_in_thread (task, refresh_thread);
}

/* rate: samples per second to show, or 0 for none */
static void
set_status (GtkLabel *label, const char *name, const LamMetrics *m, int epochs,
            LamTrainerState state, double rate)
{
  g_autofree char *text = NULL;
  g_autofree char *speed = rate > 0 ? g_strdup_printf (" · %.0f images/s", rate) : g_strdup ("");
  const char *what = state == LAM_TRAINER_FINISHED ? " · finished"
                     : state == LAM_TRAINER_PAUSED ? " · paused"
                     : state == LAM_TRAINER_FAILED ? " · failed" : speed;

  text = g_strdup_printf ("%s · epoch %d/%d · loss %.3f · accuracy %.1f%%%s", name, m->epoch + 1,
                          epochs, m->train_loss, m->train_accuracy * 100, what);
  gtk_label_set_text (label, text);
}

/* Drains a run's metrics; TRUE when anything changed. */
static gboolean
drain (Run *run, LamMetrics *last, LamTrainerState *last_state, LamLossPlot *plot)
{
  g_autoptr(GArray) got = g_array_new (FALSE, FALSE, sizeof (LamMetrics));
  LamTrainerState state;

  if (run == NULL)
    return FALSE;
  run_drain (run, got);
  for (guint i = 0; plot && i < got->len; i++)
    {
      const LamMetrics *m = &g_array_index (got, LamMetrics, i);
      lam_loss_plot_add_step (plot, m->step, m->batch_loss, m->batch_accuracy);
      if (m->epoch_end)
        lam_loss_plot_add_epoch (plot, m->step, m->train_loss, m->val_loss, m->train_accuracy,
                                 m->val_accuracy);
    }
  if (got->len > 0)
    *last = g_array_index (got, LamMetrics, got->len - 1);
  g_mutex_lock (&run->lock);
  state = run->state;
  g_mutex_unlock (&run->lock);
  if (got->len == 0 && state == *last_state)
    return FALSE;
  *last_state = state;
  return TRUE;
}

static gboolean
tick (gpointer data)
{
  Demo *d = data;

  if (drain (d->cnn, &d->cnn_last, &d->cnn_state, d->loss))
    {
      set_status (d->loss_status, "LeNet-5, Fashion-MNIST", &d->cnn_last, d->epochs,
                  d->cnn_state, d->cnn_last.images_per_second);
      if (d->cnn_last.epoch_end)
        d->last_confusion = 0;   /* new weights for a whole epoch: refresh the matrix now */
      d->dirty = TRUE;
    }
  if (drain (d->flat, &d->flat_last, &d->flat_state, NULL))
    {
      /* paced on purpose: its own rate would say nothing */
      set_status (d->boundary_status, d->flat_set, &d->flat_last,
                  lam_trainer_config (d->flat->trainer)->epochs, d->flat_state, 0);
      d->dirty = TRUE;
    }
  start_refresh (d, FALSE);
  return G_SOURCE_CONTINUE;
}

/* ── The 2-D run ─────────────────────────────────────────────────────── */

static LamNode *
add_node (LamGraph *g, LamLayerKind kind, const char *name, const char *in)
{
  LamNode *n = lam_graph_add_node (g, kind, name);
  if (in)
    lam_graph_connect (g, in, name);
  return n;
}

/* 2 → h (tanh) → h (tanh) → classes: small enough to watch every unit. */
static LamGraph *
flat_mlp (int hidden, int n_classes)
{
  LamGraph *g = lam_graph_new ();
  LamNode *in = add_node (g, LAM_LAYER_INPUT, "input", NULL);

  in->p.channels = 2;
  in->p.height = in->p.width = 1;
  add_node (g, LAM_LAYER_DENSE, "dense1", "input")->p.units = hidden;
  add_node (g, LAM_LAYER_TANH, "tanh1", "dense1");
  add_node (g, LAM_LAYER_DENSE, "dense2", "tanh1")->p.units = hidden;
  add_node (g, LAM_LAYER_TANH, "tanh2", "dense2");
  add_node (g, LAM_LAYER_DENSE, "out", "tanh2")->p.units = n_classes;
  add_node (g, LAM_LAYER_SOFTMAX_XENT, "loss", "out");
  return g;
}

static void
restart_flat (Demo *d)
{
  g_autoptr(LamGraph) graph = NULL;
  g_autoptr(GError) error = NULL;
  gboolean spiral = g_strcmp0 (d->flat_set, "spiral") == 0;
  LamTrainConfig c;
  LamDataset *train;

  if (d->busy)
    {
      d->restart_flat = TRUE;
      return;
    }
  d->restart_flat = FALSE;
  g_clear_pointer (&d->grid, lam_view_grid_free);
  g_clear_pointer (&d->flat, run_free);
  memset (&d->flat_last, 0, sizeof d->flat_last);
  d->flat_state = LAM_TRAINER_IDLE;

  lam_train_config_init (&c);
  g_free (c.data.name);
  c.data.name = g_strdup (d->flat_set);
  c.data.n_samples = spiral ? 900 : 600;
  c.data.noise = spiral ? 0.1f : 0.15f;
  c.data.n_classes = spiral ? 3 : 0;
  g_free (c.backend);
  c.backend = g_strdup ("cpu");
  c.threads = 1;
  c.batch = 32;
  c.epochs = spiral ? 600 : 300;
  c.opt.kind = LAM_OPT_ADAM;
  c.opt.lr = 0.01f;
  graph = flat_mlp (spiral ? 32 : 16, spiral ? 3 : 2);
  if (!lam_graph_validate (graph, &error) || (d->flat = run_new (graph, &c, d->pace_us, &error)) == NULL)
    {
      g_warning ("%s: %s", d->flat_set, error->message);
      lam_train_config_clear (&c);
      return;
    }
  lam_train_config_clear (&c);

  train = d->flat->data.train;
  d->grid = lam_view_grid_new (train, GRID, 0.08f);
  lam_boundary_view_clear (d->boundary);
  lam_boundary_view_set_class_names (d->boundary, (const char *const *) train->class_names);
  lam_boundary_view_set_points (d->boundary, train->data, train->labels, train->n,
                                train->n_classes);
  {
    g_autofree char *title = g_strdup_printf ("Decision boundary: %s", d->flat_set);
    lam_boundary_view_set_title (d->boundary, title);
  }
  lam_trainer_start (d->flat->trainer);
  if (d->paused)
    lam_trainer_pause (d->flat->trainer);
  d->dirty = TRUE;
}

static void
boundary_set_cb (GtkDropDown *dropdown, GParamSpec *pspec, Demo *d)
{
  g_free (d->flat_set);
  d->flat_set = g_strdup (flat_sets[gtk_drop_down_get_selected (dropdown)]);
  restart_flat (d);
}

static void
restart_clicked_cb (GtkButton *button, Demo *d)
{
  restart_flat (d);
}

/* ── Interaction ─────────────────────────────────────────────────────── */

static void
select_sample (Demo *d, int index)
{
  const LamDataset *v = d->val;
  g_autofree char *caption = NULL;

  if (index < 0 || index >= v->n)
    return;
  d->sample = index;
  caption = g_strdup_printf ("validation #%d: %s", index, v->class_names[v->labels[index]]);
  lam_prediction_view_set_image (d->prediction, v->images + (gsize) index * 784, 1, 28, 28,
                                 caption);
  lam_sample_browser_set_selected (d->browse_features, index);
  lam_sample_browser_set_selected (d->browse_predictions, index);
  gtk_label_set_text (d->features_status, caption);
  d->dirty = TRUE;
  start_refresh (d, FALSE);
}

static void
sample_selected_cb (LamSampleBrowser *browser, int index, Demo *d)
{
  select_sample (d, index);
}

static void
gallery_selected_cb (LamSampleBrowser *browser, int index, Demo *d)
{
  select_sample (d, index);
  adw_view_stack_set_visible_child_name (d->stack, "predictions");
}

static void
node_activated_cb (LamFeatureView *view, const char *name, Demo *d)
{
  const LamNode *node = lam_graph_find (d->cnn->graph, name);
  g_autofree char *text = NULL;

  /* in the app this selects the node in the graph editor */
  text = g_strdup_printf ("Layer %s selected (%s)", name,
                          node ? lam_layer_info (node->kind)->blurb : "");
  gtk_label_set_text (d->features_status, text);
  if (node && (node->kind == LAM_LAYER_CONV2D || node->kind == LAM_LAYER_DENSE))
    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (d->filter_nodes)); i++)
      if (g_strcmp0 (gtk_string_list_get_string (d->filter_nodes, i), name) == 0)
        gtk_drop_down_set_selected (d->filter_layer, i);
}

static void
cell_activated_cb (LamConfusionView *view, int t, int p, Demo *d)
{
  if (t == p)
    d->gallery_true = d->gallery_pred = -1;
  else
    d->gallery_true = t, d->gallery_pred = p;
  show_gallery (d);
}

static void
all_mistakes_cb (GtkButton *button, Demo *d)
{
  d->gallery_true = d->gallery_pred = -1;
  show_gallery (d);
}

static void
filter_layer_cb (GtkDropDown *dropdown, GParamSpec *pspec, Demo *d)
{
  d->dirty = TRUE;
  start_refresh (d, FALSE);
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
  for (Run **run = (Run *[]) { d->cnn, d->flat, NULL }; *run; run++)
    if (d->paused)
      lam_trainer_pause ((*run)->trainer);
    else
      lam_trainer_resume ((*run)->trainer);
}

/* Export with a native file chooser; which format comes from the button. */
static void
export_response_cb (GtkNativeDialog *dialog, int response, Demo *d)
{
  const char *format = g_object_get_data (G_OBJECT (dialog), "format");
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      gboolean ok = g_str_equal (format, "png") ? lam_loss_plot_export_png (d->loss, path, &error)
                    : g_str_equal (format, "svg") ? lam_loss_plot_export_svg (d->loss, path, &error)
                                                  : lam_loss_plot_export_csv (d->loss, path, &error);
      if (!ok)
        g_warning ("export: %s", error->message);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
export_clicked_cb (GtkButton *button, Demo *d)
{
  const char *format = g_object_get_data (G_OBJECT (button), "format");
  g_autofree char *name = g_strdup_printf ("training.%s", format);
  GtkFileChooserNative *dialog;

  dialog = gtk_file_chooser_native_new ("Export the training curves", d->window,
                                        GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  g_object_set_data (G_OBJECT (dialog), "format", (gpointer) format);
  g_signal_connect (dialog, "response", G_CALLBACK (export_response_cb), d);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
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
labelled_button (const char *label, const char *accessible, const char *tooltip)
{
  GtkWidget *b = gtk_button_new_with_label (label);

  gtk_widget_set_tooltip_text (b, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
  return b;
}

static GtkWidget *
scrolled (GtkWidget *child)
{
  GtkWidget *sw = gtk_scrolled_window_new ();

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), child);
  gtk_widget_set_vexpand (sw, TRUE);
  gtk_widget_set_hexpand (sw, TRUE);
  return sw;
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

static GtkWidget *
loss_page (Demo *d)
{
  GtkWidget *bar = toolbar (), *w, *scale;

  d->loss = LAM_LOSS_PLOT (lam_loss_plot_new ());
  d->loss_status = status_label (bar);

  w = gtk_toggle_button_new_with_label ("Log scale");
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Logarithmic loss axis", -1);
  g_object_bind_property (d->loss, "log-scale", w, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_box_append (GTK_BOX (bar), w);

  gtk_box_append (GTK_BOX (bar), gtk_label_new ("Smoothing"));
  scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 0.99, 0.01);
  gtk_widget_set_size_request (scale, 140, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (scale), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Smoothing of the loss curve", -1);
  g_object_bind_property (d->loss, "smoothing", gtk_range_get_adjustment (GTK_RANGE (scale)),
                          "value", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_box_append (GTK_BOX (bar), scale);

  for (const char *const *f = (const char *const[]) { "png", "svg", "csv", NULL }; *f; f++)
    {
      g_autofree char *label = g_ascii_strup (*f, -1);
      g_autofree char *acc = g_strdup_printf ("Export the curves as %s", label);
      w = labelled_button (label, acc, acc);
      g_object_set_data (G_OBJECT (w), "format", (gpointer) *f);
      g_signal_connect (w, "clicked", G_CALLBACK (export_clicked_cb), d);
      gtk_box_append (GTK_BOX (bar), w);
    }
  return page (bar, GTK_WIDGET (d->loss));
}

static GtkWidget *
filters_page (Demo *d)
{
  GtkWidget *bar = toolbar (), *w;

  d->filters = LAM_FILTER_VIEW (lam_filter_view_new ());
  d->filter_nodes = gtk_string_list_new (NULL);
  for (guint i = 0; i < d->cnn->graph->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (d->cnn->graph->nodes, i);
      if (n->kind == LAM_LAYER_CONV2D || n->kind == LAM_LAYER_DENSE)
        gtk_string_list_append (d->filter_nodes, n->name);
    }
  w = gtk_label_new ("Weights of the layer");
  gtk_widget_add_css_class (w, "heading");
  gtk_box_append (GTK_BOX (bar), w);
  d->filter_layer = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_object_ref (d->filter_nodes)), NULL));
  gtk_accessible_update_property (GTK_ACCESSIBLE (d->filter_layer), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Layer whose weights to show", -1);
  g_signal_connect (d->filter_layer, "notify::selected", G_CALLBACK (filter_layer_cb), d);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (d->filter_layer));
  w = gtk_label_new ("");
  gtk_widget_set_hexpand (w, TRUE);
  gtk_box_append (GTK_BOX (bar), w);
  w = gtk_toggle_button_new_with_label ("Gray");
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Gray colour map instead of blue, white and red", -1);
  g_object_bind_property (d->filters, "gray", w, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_box_append (GTK_BOX (bar), w);
  return page (bar, GTK_WIDGET (d->filters));
}

static LamSampleBrowser *
browser (Demo *d, GCallback cb)
{
  LamSampleBrowser *b = LAM_SAMPLE_BROWSER (lam_sample_browser_new ());

  lam_sample_browser_set_dataset (b, d->val, 0, N_BROWSE);
  lam_sample_browser_set_title (b, "Validation images");
  g_signal_connect (b, "sample-selected", cb, d);
  return b;
}

static GtkWidget *
paned (GtkWidget *start, GtkWidget *end, int position)
{
  GtkWidget *p = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);

  gtk_paned_set_start_child (GTK_PANED (p), start);
  gtk_paned_set_end_child (GTK_PANED (p), end);
  gtk_paned_set_shrink_start_child (GTK_PANED (p), FALSE);
  gtk_paned_set_position (GTK_PANED (p), position);
  return p;
}

static GtkWidget *
features_page (Demo *d)
{
  GtkWidget *bar = toolbar ();

  d->features = LAM_FEATURE_VIEW (lam_feature_view_new ());
  g_signal_connect (d->features, "node-activated", G_CALLBACK (node_activated_cb), d);
  d->browse_features = browser (d, G_CALLBACK (sample_selected_cb));
  d->features_status = status_label (bar);
  return page (bar, paned (scrolled (GTK_WIDGET (d->browse_features)),
                           scrolled (GTK_WIDGET (d->features)), 330));
}

static GtkWidget *
predictions_page (Demo *d)
{
  GtkWidget *bar = toolbar ();

  d->prediction = LAM_PREDICTION_VIEW (lam_prediction_view_new ());
  d->browse_predictions = browser (d, G_CALLBACK (sample_selected_cb));
  gtk_label_set_text (status_label (bar), "Click an image to see what the network says about it");
  return page (bar, paned (scrolled (GTK_WIDGET (d->browse_predictions)),
                           GTK_WIDGET (d->prediction), 420));
}

static GtkWidget *
confusion_page (Demo *d)
{
  GtkWidget *bar = toolbar (), *w;
  g_autofree char *text = NULL;

  d->confusion = LAM_CONFUSION_VIEW (lam_confusion_view_new ());
  text = g_strdup_printf ("Validation set (%d images)", d->val->n);
  lam_confusion_view_set_title (d->confusion, text);
  g_signal_connect (d->confusion, "cell-activated", G_CALLBACK (cell_activated_cb), d);
  d->gallery = LAM_SAMPLE_BROWSER (lam_sample_browser_new ());
  g_signal_connect (d->gallery, "sample-selected", G_CALLBACK (gallery_selected_cb), d);
  d->gallery_true = d->gallery_pred = -1;
  d->gallery_status = status_label (bar);
  w = labelled_button ("All mistakes", "Show all misclassified images",
                       "Show every misclassified image");
  g_signal_connect (w, "clicked", G_CALLBACK (all_mistakes_cb), d);
  gtk_box_append (GTK_BOX (bar), w);
  return page (bar, paned (GTK_WIDGET (d->confusion), scrolled (GTK_WIDGET (d->gallery)), 700));
}

static GtkWidget *
boundary_page (Demo *d)
{
  GtkWidget *bar = toolbar (), *w;

  d->boundary = LAM_BOUNDARY_VIEW (lam_boundary_view_new ());
  d->boundary_status = status_label (bar);
  d->boundary_set = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (flat_sets));
  gtk_accessible_update_property (GTK_ACCESSIBLE (d->boundary_set), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Two-dimensional data set", -1);
  for (guint i = 0; flat_sets[i]; i++)
    if (g_strcmp0 (flat_sets[i], d->flat_set) == 0)
      gtk_drop_down_set_selected (d->boundary_set, i);
  g_signal_connect (d->boundary_set, "notify::selected", G_CALLBACK (boundary_set_cb), d);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (d->boundary_set));
  w = gtk_button_new_from_icon_name ("view-refresh-symbolic");
  gtk_widget_set_tooltip_text (w, "Train again from new random weights");
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Restart the two-dimensional run", -1);
  g_signal_connect (w, "clicked", G_CALLBACK (restart_clicked_cb), d);
  gtk_box_append (GTK_BOX (bar), w);
  return page (bar, GTK_WIDGET (d->boundary));
}

static void
add_page (Demo *d, GtkWidget *child, const char *name, const char *title, const char *icon)
{
  AdwViewStackPage *p = adw_view_stack_add_titled (d->stack, child, name, title);
  adw_view_stack_page_set_icon_name (p, icon);
}

/* ── Screenshots ─────────────────────────────────────────────────────── */

static const char *const shot_pages[] = {
  "loss", "filters", "features", "predictions", "confusion", "boundary", NULL,
};

static gboolean
shoot (gpointer data)
{
  Demo *d = data;
  GtkWidget *content = GTK_WIDGET (d->window);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  GtkSnapshot *snapshot;
  int w, h;

  /* the previous step switched the page; now it has had time to draw */
  if (d->shot_index > 0)
    {
      w = gtk_widget_get_width (content);
      h = gtk_widget_get_height (content);
      paintable = gtk_widget_paintable_new (content);
      snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, snapshot, w, h);
      node = gtk_snapshot_free_to_node (snapshot);
      texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (d->window)), node,
                                             &GRAPHENE_RECT_INIT (0, 0, w, h));
      path = g_strdup_printf ("%s/views-%s.png", d->shot_dir, shot_pages[d->shot_index - 1]);
      if (!gdk_texture_save_to_png (texture, path))
        g_warning ("could not write %s", path);
      else
        g_message ("wrote %s", path);
    }
  if (shot_pages[d->shot_index] == NULL)
    {
      g_message ("refresh: copies %.1f ms on the worker, setters %.2f ms on the main thread "
                 "(means over %u refreshes)", d->task_ms / MAX (d->n_refresh, 1),
                 d->apply_ms / MAX (d->n_refresh, 1), d->n_refresh);
      gtk_window_destroy (d->window);
      return G_SOURCE_REMOVE;
    }
  if (g_str_equal (shot_pages[d->shot_index], "features"))
    lam_feature_view_select_node (d->features, "conv1");
  if (g_str_equal (shot_pages[d->shot_index], "predictions") && d->last_pred)
    {
      /* a mistake says more than a success */
      for (int i = 0; i < d->val->n; i++)
        if (d->last_pred[i] != d->val->labels[i])
          {
            select_sample (d, i);
            break;
          }
    }
  if (g_str_equal (shot_pages[d->shot_index], "loss"))
    {
      /* show the hover label, as if the pointer rested on the curve */
      g_autoptr(GListModel) list = gtk_widget_observe_controllers (GTK_WIDGET (d->loss));
      for (guint i = 0; i < g_list_model_get_n_items (list); i++)
        {
          g_autoptr(GObject) c = g_list_model_get_item (list, i);
          if (GTK_IS_EVENT_CONTROLLER_MOTION (c))
            g_signal_emit_by_name (c, "motion", gtk_widget_get_width (GTK_WIDGET (d->loss)) * 0.55,
                                   gtk_widget_get_height (GTK_WIDGET (d->loss)) * 0.3);
        }
    }
  adw_view_stack_set_visible_child_name (d->stack, shot_pages[d->shot_index++]);
  return G_SOURCE_CONTINUE;
}

static gboolean
start_shots (gpointer data)
{
  Demo *d = data;

  select_sample (d, 7);
  start_refresh (d, TRUE);
  g_timeout_add (900, shoot, d);
  return G_SOURCE_REMOVE;
}

/* ── Application ─────────────────────────────────────────────────────── */

static void
window_destroy_cb (GtkWidget *window, Demo *d)
{
  d->window = NULL;
  g_clear_handle_id (&d->timeout_id, g_source_remove);
}

static void
activate_cb (GtkApplication *app, Demo *d)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) model = NULL;
  GtkWidget *window, *box, *header, *title, *w;

  if (d->window)
    {
      gtk_window_present (d->window);
      return;
    }

  if (d->dark)
    adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                        ADW_COLOR_SCHEME_FORCE_DARK);

  model = lam_model_file_load_preset ("lenet5", &error);
  if (model == NULL)
    {
      g_printerr ("lenet5: %s\n", error->message);
      return;
    }
  model->config.data.limit = 5000;
  model->config.epochs = d->epochs;
  g_free (model->config.backend);
  model->config.backend = g_strdup ("cpu");
  model->config.threads = 1;
  d->cnn = run_new (model->graph, &model->config, 0, &error);
  if (d->cnn == NULL)
    {
      g_printerr ("LeNet-5: %s\n", error->message);
      return;
    }
  /* a fixed subset, kept as long as the trainer: it uploads each dataset once */
  d->val = lam_dataset_slice (d->cnn->data.val, 0, MIN (N_CONFUSION, d->cnn->data.val->n));

  window = adw_application_window_new (app);
  d->window = GTK_WINDOW (window);
  gtk_window_set_title (d->window, "Lamina views");
  gtk_window_set_default_size (d->window, 1280, 800);
  g_signal_connect (window, "destroy", G_CALLBACK (window_destroy_cb), d);

  d->stack = ADW_VIEW_STACK (adw_view_stack_new ());
  header = adw_header_bar_new ();
  title = adw_view_switcher_title_new ();
  adw_view_switcher_title_set_stack (ADW_VIEW_SWITCHER_TITLE (title), d->stack);
  adw_view_switcher_title_set_title (ADW_VIEW_SWITCHER_TITLE (title), "Lamina views");
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), title);
  w = gtk_toggle_button_new ();
  gtk_button_set_icon_name (GTK_BUTTON (w), "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text (w, "Pause training");
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Pause training", -1);
  g_signal_connect (w, "toggled", G_CALLBACK (pause_toggled_cb), d);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), w);

  add_page (d, loss_page (d), "loss", "Training", "applications-science-symbolic");
  add_page (d, filters_page (d), "filters", "Filters", "view-grid-symbolic");
  add_page (d, features_page (d), "features", "Activations", "view-app-grid-symbolic");
  add_page (d, predictions_page (d), "predictions", "Predictions", "emblem-ok-symbolic");
  add_page (d, confusion_page (d), "confusion", "Confusion", "x-office-spreadsheet-symbolic");
  add_page (d, boundary_page (d), "boundary", "2-D boundary", "color-select-symbolic");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (box), header);
  gtk_widget_set_vexpand (GTK_WIDGET (d->stack), TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (d->stack));
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window), box);

  restart_flat (d);
  lam_trainer_start (d->cnn->trainer);
  select_sample (d, 0);
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
  gboolean dark = FALSE;
  int pace_ms = 3;
  char *set = NULL;
  int status;
  GOptionEntry entries[] = {
    { "epochs", 0, 0, G_OPTION_ARG_INT, &d.epochs, "LeNet-5 epochs (default 10)", "N" },
    { "pace-ms", 0, 0, G_OPTION_ARG_INT, &pace_ms, "Pause per 2-D training step (default 3)", "MS" },
    { "set", 0, 0, G_OPTION_ARG_STRING, &set, "2-D set: moons, spiral, circles, xor", "NAME" },
    { "dark", 0, 0, G_OPTION_ARG_NONE, &dark, "Dark style", NULL },
    { "screenshots", 0, 0, G_OPTION_ARG_FILENAME, &d.shot_dir, "Write screenshots here, then quit", "DIR" },
    { "shot-after", 0, 0, G_OPTION_ARG_INT, &d.shot_after, "Seconds of training before the screenshots (default 20)", "S" },
    { NULL }
  };

  d.epochs = 10;
  d.shot_after = 20;
  ctx = g_option_context_new ("— the Lamina views on live training");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  d.pace_us = (guint) MAX (pace_ms, 0) * 1000;
  d.flat_set = g_strdup (set && g_strv_contains (flat_sets, set) ? set : "moons");
  g_free (set);

  app = adw_application_new ("org.lamina.ViewsDemo", G_APPLICATION_NON_UNIQUE);
  d.app = GTK_APPLICATION (app);
  g_signal_connect (app, "activate", G_CALLBACK (activate_cb), &d);
  d.dark = dark;
  status = g_application_run (G_APPLICATION (app), argc, argv);

  /* the refresh task may still be running: wait for it before freeing the runs */
  while (d.busy)
    g_main_context_iteration (NULL, TRUE);
  g_clear_pointer (&d.grid, lam_view_grid_free);
  g_clear_pointer (&d.val, lam_dataset_unref);
  run_free (d.flat);
  run_free (d.cnn);
  g_clear_object (&d.filter_nodes);
  g_free (d.last_pred);
  g_free (d.flat_set);
  g_free (d.shot_dir);
  return status;
}
