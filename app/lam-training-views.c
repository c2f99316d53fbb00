/* lam-training-views.c: the view stack under the graph editor.
 *
 * Data flows one way: the session's trainer → a snapshot (host copies
 * taken on a thread) → the views' setters, which copy what they keep.
 * Only the visible page asks for copies, and only one snapshot is in
 * flight at a time; a change that comes while one is (a new sample, a
 * page switch) asks again when it is back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-training-views"

#include "config.h"

#include <math.h>

#include <adwaita.h>

#include "lam-layer-style.h"
#include "lam-training-views.h"
#include "lam-views.h"
#include "lam-seq-views.h"

#define CONFUSION_EVERY_US  (2 * G_USEC_PER_SEC)
/* The curves take new points at most this often while training runs:
 * redrawing them is the most expensive frame of all the views, and
 * 5 to 6 times a second looks as live as 10. */
#define PLOT_EVERY_US       (180 * 1000)
#define N_BROWSE            300
#define N_GALLERY           300

struct _LamTrainingViews {
  GtkWidget           parent_instance;

  /* Template widgets */
  AdwViewStack       *stack;
  GtkLabel           *status_label;
  GtkLabel           *copy_problem;
  AdwViewStackPage   *filters_page;
  AdwViewStackPage   *boundary_page;
  GtkToggleButton    *log_button;
  LamLossPlot        *loss_plot;
  GtkDropDown        *filter_layer;
  GtkStringList      *filter_nodes;
  GtkLabel           *filters_caption;
  GtkToggleButton    *gray_button;
  LamFilterView      *filters;
  GtkLabel           *features_caption;
  GtkSpinButton      *sample_spin;
  GtkWidget          *browser_scroll;
  LamSampleBrowser   *browser;
  LamFeatureView     *features;
  GtkLabel           *predictions_caption;
  GtkWidget          *all_mistakes_button;
  LamPredictionView  *prediction;
  GtkWidget          *gallery_scroll;
  LamSampleBrowser   *gallery;
  LamConfusionView   *confusion;
  LamBoundaryView    *boundary;
  AdwViewStackPage   *sequence_page;
  AdwViewStackPage   *attention_page;
  AdwViewStackPage   *text_page;
  GtkLabel           *sequence_caption;
  GtkToggleButton    *sort_units_button;
  LamSequenceView    *sequence;
  LamGateView        *gates;
  GtkLabel           *attention_caption;
  GtkToggleButton    *auto_scale_button;
  LamAttentionView   *attention;
  LamTextView        *textview;

  /* Borrowed: the session's current data (valid until run-changed) */
  LamDataset         *view_set;
  gboolean            images;          /* the view set holds images */
  gboolean            steps_are_rows;  /* the recurrent layer reads the image row by row */

  /* Owned */
  LamTrainingSession *session;
  GCancellable       *cancellable;
  int                 sample;
  char               *selected_node;   /* the graph's selection */
  int                *last_pred;       /* view_set->n predictions, for the gallery */
  int                 gallery_true, gallery_pred;
  gboolean            busy;            /* a snapshot is in flight */
  gboolean            dirty;           /* the visible page wants new copies */
  gboolean            confusion_due;
  gint64              last_confusion;
  int                 last_step;       /* of the last snapshot */
  GArray             *plot_pending;    /* LamMetrics not on the curves yet */
  gint64              last_plot;
  guint               plot_timeout_id;
  guint               n_refreshes;
  gboolean            syncing;
};

G_DEFINE_FINAL_TYPE (LamTrainingViews, lam_training_views, GTK_TYPE_WIDGET)

enum {
  NODE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void maybe_snapshot (LamTrainingViews *self);

static const char *const *
class_names (LamTrainingViews *self)
{
  return self->view_set != NULL ? (const char *const *) self->view_set->class_names : NULL;
}

static const char *
class_name (LamTrainingViews *self, int k)
{
  const LamDataset *v = self->view_set;

  if (v == NULL || v->class_names == NULL || k < 0 || k >= v->n_classes)
    return "?";
  return v->class_names[k];
}

/* ------------------------------------------------------------------ */
/* Applying copies */

static void
show_gallery (LamTrainingViews *self)
{
  const LamDataset *v = self->view_set;
  g_autofree int *pred = NULL;
  g_autofree char *title = NULL;
  int n;

  if (v == NULL || !self->images || self->last_pred == NULL)
    return;
  if (self->gallery_true < 0)
    {
      n = lam_sample_browser_set_misclassified (self->gallery, v->images, v->shape.d[0], v->shape.d[1],
                                                v->shape.d[2], self->last_pred, v->labels, v->n, class_names (self),
                                                N_GALLERY);
      title = g_strdup_printf ("%d of %d misclassified: click one", n, v->n);
    }
  else
    {
      /* one cell of the matrix: everything else counts as right */
      pred = g_memdup2 (self->last_pred, sizeof (int) * v->n);
      for (int i = 0; i < v->n; i++)
        if (v->labels[i] != self->gallery_true || pred[i] != self->gallery_pred)
          pred[i] = v->labels[i];
      n = lam_sample_browser_set_misclassified (self->gallery, v->images, v->shape.d[0], v->shape.d[1],
                                                v->shape.d[2], pred, v->labels, v->n, class_names (self),
                                                N_GALLERY);
      title = g_strdup_printf ("%d × %s taken for %s", n, class_name (self, self->gallery_true),
                               class_name (self, self->gallery_pred));
    }
  lam_sample_browser_set_title (self->gallery, title);
  /* the sample shown stays picked out when it is still a mistake: the
   * gallery is rebuilt with each new set of predictions (while paused,
   * with each sample chosen), and the arrow keys go on from there */
  lam_sample_browser_set_selected (self->gallery, self->sample);
}

static void
update_sample_captions (LamTrainingViews *self)
{
  const LamDataset *v = self->view_set;
  g_autofree char *caption = NULL;

  if (v == NULL || self->sample < 0 || self->sample >= v->n)
    {
      gtk_label_set_text (self->features_caption, "");
      gtk_label_set_text (self->predictions_caption, "");
      return;
    }
  caption = v->n_classes > 0 ? g_strdup_printf ("Validation sample %d: %s", self->sample,
                                                class_name (self, v->labels[self->sample]))
                             : g_strdup_printf ("Validation sample %d", self->sample);
  gtk_label_set_text (self->features_caption, caption);
  gtk_label_set_text (self->predictions_caption, caption);
  if (self->images)
    {
      gsize size = lam_dataset_sample_size (v);
      /* the true class is in the verdict beside the image */
      g_autofree char *which = g_strdup_printf ("Validation sample %d", self->sample);
      lam_prediction_view_set_image (self->prediction, v->images + (gsize) self->sample * size, v->shape.d[0],
                                     v->shape.d[1], v->shape.d[2], which);
    }
}

static void
apply (LamTrainingViews *self, LamSnapshot *s)
{
  if (s->problem != NULL)
    {
      g_autofree char *text = g_strdup_printf ("The views could not be updated. %s", s->problem);
      gtk_label_set_text (self->copy_problem, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->copy_problem), s->problem != NULL);
  if (s->what & LAM_SNAPSHOT_WEIGHTS)
    {
      g_autofree char *caption = NULL;
      lam_filter_view_set_weights (self->filters, s->weights, s->ndim, s->shape, s->in_c, s->in_h, s->in_w,
                                   s->weights_node);
      if (s->ndim == 4)
        caption = g_strdup_printf ("%d filters of %d×%d over %d channel%s", s->shape[0], s->shape[2], s->shape[3],
                                   s->shape[1], s->shape[1] == 1 ? "" : "s");
      else if (s->in_h > 0)
        caption = g_strdup_printf ("%d units, each a %d×%d template", s->shape[0], s->in_h, s->in_w);
      else
        caption = g_strdup_printf ("%d units × %d inputs", s->shape[0], s->shape[1]);
      gtk_label_set_text (self->filters_caption, caption);
    }
  if (s->what & LAM_SNAPSHOT_ACTIVATIONS)
    {
      lam_feature_view_set_activations (self->features, s->graph, s->acts, class_names (self));
      if (self->selected_node != NULL)
        lam_feature_view_select_node (self->features, self->selected_node);
      if (s->probs != NULL && s->view_set != NULL && s->sample >= 0 && s->sample < s->view_set->n)
        lam_prediction_view_set_probabilities (self->prediction, s->probs, s->n_classes, class_names (self),
                                               s->view_set->n_classes > 0 ? s->view_set->labels[s->sample] : -1);
    }
  if ((s->what & LAM_SNAPSHOT_PREDICTIONS) && s->view_set != NULL && s->view_set == self->view_set)
    {
      g_autofree char *n = lam_format_count (s->view_set->n), *step = lam_format_count (s->step);
      g_autofree char *title = g_strdup_printf ("Validation set: %s samples at step %s", n, step);
      lam_confusion_view_set_data (self->confusion, s->pred, s->view_set->labels, s->view_set->n,
                                   s->view_set->n_classes, class_names (self));
      lam_confusion_view_set_title (self->confusion, title);
      g_free (self->last_pred);
      self->last_pred = g_steal_pointer (&s->pred);
      show_gallery (self);
    }
  if (s->what & LAM_SNAPSHOT_FIELD)
    {
      lam_boundary_view_set_field (self->boundary, s->field, s->grid, s->field_classes, s->xmin, s->xmax, s->ymin,
                                   s->ymax);
      if (s->units != NULL)
        lam_boundary_view_set_units (self->boundary, s->units, s->n_units, s->grid, s->units_node);
    }
  if ((s->what & LAM_SNAPSHOT_SEQUENCE) && s->trace != NULL)
    {
      LamSeqTrace *tr = s->trace;
      const LamLayerInfo *info = lam_layer_info (tr->kind);
      int HD = tr->H * tr->dirs, n = 0;
      const int *order;
      g_autofree char *title = g_strdup_printf ("%s · %s, %d units%s · sample %d", tr->node, info->type_name, tr->H,
                                                tr->dirs > 1 ? " each way" : "", s->sample);
      gtk_label_set_text (self->sequence_caption, gtk_label_get_text (self->features_caption));
      lam_sequence_view_set_input (self->sequence, tr->input, tr->T, tr->F, self->steps_are_rows);
      lam_sequence_view_set_states (self->sequence, tr->states, tr->T, HD, title);
      gtk_widget_set_visible (GTK_WIDGET (self->gates), tr->n_gates > 0 && tr->gates != NULL);
      if (tr->n_gates > 0 && tr->gates != NULL)
        {
          lam_gate_view_set_input (self->gates, tr->input, tr->T, tr->F, self->steps_are_rows);
          lam_gate_view_set_gates (self->gates, tr->kind, tr->gates, tr->T, HD, title);
          /* the same column for each unit in both views */
          order = lam_sequence_view_get_unit_order (self->sequence, &n);
          lam_gate_view_set_unit_order (self->gates, order, n);
        }
    }
  if ((s->what & LAM_SNAPSHOT_ATTENTION) && s->att != NULL)
    {
      g_autofree char *title = g_strdup_printf ("%s · %d heads · sample %d", s->att_node, s->att_heads, s->sample);
      const LamDataset *v = s->view_set;
      gtk_label_set_text (self->attention_caption, gtk_label_get_text (self->features_caption));
      if (self->images && v != NULL && v->shape.d[0] == 1 && s->sample >= 0 && s->sample < v->n)
        {
          int h = v->shape.d[1], w = v->shape.d[2];
          gsize size = lam_dataset_sample_size (v);
          g_autofree float *img = g_new (float, size);
          for (gsize i = 0; i < size; i++)
            img[i] = v->images[(gsize) s->sample * size + i] / 255.0f;
          lam_attention_view_set_input (self->attention, img, h, w, TRUE);
        }
      lam_attention_view_set_weights (self->attention, s->att, s->att_heads, s->att_steps, title);
    }
  self->last_step = s->step;
  self->n_refreshes++;
}

static void
snapshot_done (GObject *source, GAsyncResult *result, gpointer data)
{
  LamTrainingViews *self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LamSnapshot) s = lam_training_session_snapshot_finish (LAM_TRAINING_SESSION (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_object_unref (self);
      return;
    }
  self->busy = FALSE;
  /* a snapshot of a trainer that was replaced meanwhile is not shown */
  if (s != NULL && self->session != NULL && s->graph == lam_training_session_get_graph (self->session))
    apply (self, s);
  if (self->dirty)
    maybe_snapshot (self);
  g_object_unref (self);
}

static const char *
filter_node (LamTrainingViews *self)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (self->filter_layer);

  return item != NULL ? gtk_string_object_get_string (item) : NULL;
}

static void
maybe_snapshot (LamTrainingViews *self)
{
  const char *page;
  LamSnapshotRequest req = { 0 };
  gint64 now = g_get_monotonic_time ();

  if (self->busy || !self->dirty || self->session == NULL || !gtk_widget_get_mapped (GTK_WIDGET (self))
      || !lam_training_session_has_run (self->session))
    return;
  page = lam_training_views_get_page (self);
  req.sample = self->sample;
  if (g_strcmp0 (page, "filters") == 0)
    {
      req.what = LAM_SNAPSHOT_WEIGHTS;
      req.weights_node = (char *) filter_node (self);
    }
  else if (g_strcmp0 (page, "features") == 0)
    req.what = LAM_SNAPSHOT_ACTIVATIONS;
  else if (g_strcmp0 (page, "predictions") == 0)
    {
      req.what = LAM_SNAPSHOT_ACTIVATIONS;
      /* a confusion matrix needs classes: not for a regression */
      if (self->view_set != NULL && self->view_set->n_classes >= 2
          && (self->confusion_due || self->last_pred == NULL || now - self->last_confusion > CONFUSION_EVERY_US
          || lam_training_session_get_state (self->session) != LAM_SESSION_RUNNING))
        {
          req.what |= LAM_SNAPSHOT_PREDICTIONS;
          self->confusion_due = FALSE;
          self->last_confusion = now;
        }
    }
  else if (g_strcmp0 (page, "boundary") == 0)
    req.what = LAM_SNAPSHOT_FIELD;
  else if (g_strcmp0 (page, "sequence") == 0)
    req.what = LAM_SNAPSHOT_SEQUENCE;
  else if (g_strcmp0 (page, "attention") == 0)
    req.what = LAM_SNAPSHOT_ATTENTION;
  self->dirty = FALSE;
  if (req.what == 0)
    return;
  self->busy = TRUE;
  lam_training_session_snapshot (self->session, &req, self->cancellable, snapshot_done, g_object_ref (self));
}

static void
want_snapshot (LamTrainingViews *self)
{
  self->dirty = TRUE;
  maybe_snapshot (self);
}

/* ------------------------------------------------------------------ */
/* The session */

static void
flush_plot (LamTrainingViews *self)
{
  const LamMetrics *m = (const LamMetrics *) self->plot_pending->data;

  g_clear_handle_id (&self->plot_timeout_id, g_source_remove);
  for (guint i = 0; i < self->plot_pending->len; i++)
    {
      lam_loss_plot_add_step (self->loss_plot, m[i].step, m[i].batch_loss, m[i].batch_accuracy);
      if (m[i].epoch_end)
        lam_loss_plot_add_epoch (self->loss_plot, m[i].step, m[i].train_loss, m[i].val_loss, m[i].train_accuracy,
                                 m[i].val_accuracy);
    }
  g_array_set_size (self->plot_pending, 0);
  self->last_plot = g_get_monotonic_time ();
}

static gboolean
plot_timeout_cb (gpointer data)
{
  LamTrainingViews *self = data;

  self->plot_timeout_id = 0;
  flush_plot (self);
  return G_SOURCE_REMOVE;
}

static void
on_metrics (LamTrainingViews *self, const LamMetrics *m, guint n)
{
  gint64 wait;

  g_array_append_vals (self->plot_pending, m, n);
  for (guint i = 0; i < n; i++)
    if (m[i].epoch_end)
      self->confusion_due = TRUE;
  wait = self->last_plot + PLOT_EVERY_US - g_get_monotonic_time ();
  if (wait <= 0 || lam_training_session_get_state (self->session) != LAM_SESSION_RUNNING)
    flush_plot (self);
  else if (self->plot_timeout_id == 0)
    self->plot_timeout_id = g_timeout_add_full (G_PRIORITY_DEFAULT_IDLE, (guint) (wait / 1000 + 1),
                                                plot_timeout_cb, self, NULL);
}

static void
on_cleared (LamTrainingViews *self)
{
  g_clear_handle_id (&self->plot_timeout_id, g_source_remove);
  g_array_set_size (self->plot_pending, 0);
  self->last_plot = 0;
  lam_loss_plot_clear (self->loss_plot);
  self->confusion_due = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self->copy_problem), FALSE);
}

static void
on_state_changed (LamTrainingViews *self)
{
  /* a pause or the end: the last points now */
  if (self->plot_pending->len > 0 && lam_training_session_get_state (self->session) != LAM_SESSION_RUNNING)
    flush_plot (self);
}

static void
on_refresh (LamTrainingViews *self)
{
  want_snapshot (self);
}

static gboolean
has_picture (const LamGraph *g, const LamNode *n)
{
  int c, h, w;

  if (n->kind == LAM_LAYER_CONV2D)
    return TRUE;
  return n->kind == LAM_LAYER_DENSE && lam_view_weight_tensor (g, n->name, NULL, &c, &h, &w) && h > 0;
}

static void
select_filter_node (LamTrainingViews *self, const char *name)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->filter_nodes));

  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->filter_nodes, i), name) == 0)
      {
        gtk_drop_down_set_selected (self->filter_layer, i);
        return;
      }
}

static void
on_run_changed (LamTrainingViews *self)
{
  const LamGraph *g = lam_training_session_get_graph (self->session);
  LamDataset *train = lam_training_session_get_train_set (self->session);
  g_autofree char *keep = g_strdup (filter_node (self));
  const char *first = NULL;
  gboolean pictures = FALSE;
  guint n_nodes;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->busy = FALSE;
  /* a problem of the run before is not this one's */
  gtk_widget_set_visible (GTK_WIDGET (self->copy_problem), FALSE);
  self->view_set = lam_training_session_get_view_set (self->session);
  self->images = self->view_set != NULL && self->view_set->images != NULL && self->view_set->shape.rank == 3;
  g_clear_pointer (&self->last_pred, g_free);
  self->gallery_true = self->gallery_pred = -1;

  /* Filters: every conv and dense layer, the first with a picture first in mind */
  self->syncing = TRUE;
  n_nodes = g_list_model_get_n_items (G_LIST_MODEL (self->filter_nodes));
  gtk_string_list_splice (self->filter_nodes, 0, n_nodes, NULL);
  for (guint i = 0; g != NULL && i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      if (n->kind != LAM_LAYER_CONV2D && n->kind != LAM_LAYER_DENSE)
        continue;
      gtk_string_list_append (self->filter_nodes, n->name);
      if (has_picture (g, n))
        {
          pictures = TRUE;
          if (first == NULL || (n->kind == LAM_LAYER_CONV2D && lam_graph_find (g, first)->kind != LAM_LAYER_CONV2D))
            first = n->name;
        }
    }
  select_filter_node (self, first);
  if (keep != NULL)
    select_filter_node (self, keep);
  self->syncing = FALSE;
  adw_view_stack_page_set_visible (self->filters_page, pictures);
  adw_view_stack_page_set_visible (self->boundary_page, lam_training_session_get_grid_size (self->session) > 0);

  /* Sequence views: the first recurrent layer, the first attention, a character model */
  {
    const LamNode *rnn = g != NULL ? lam_seq_view_recurrent_node (g) : NULL;
    gboolean text = g != NULL && lam_seq_view_is_text_model (g);
    LamTrainer *trainer = lam_training_session_get_trainer (self->session);

    self->steps_are_rows = rnn != NULL && lam_seq_view_steps_are_rows (g, rnn);
    adw_view_stack_page_set_visible (self->sequence_page, rnn != NULL);
    adw_view_stack_page_set_visible (self->attention_page, g != NULL && lam_seq_view_attention_node (g) != NULL);
    adw_view_stack_page_set_visible (self->text_page, text);
    lam_sequence_view_clear (self->sequence);
    lam_gate_view_clear (self->gates);
    lam_attention_view_clear (self->attention);
    gtk_label_set_text (self->sequence_caption, "");
    gtk_label_set_text (self->attention_caption, "");
    if (text && trainer != NULL && train != NULL)
      lam_text_view_set_trainer (self->textview, trainer, (const char *const *) train->class_names);
    else
      lam_text_view_set_trainer (self->textview, NULL, NULL);
  }

  /* Samples */
  gtk_widget_set_visible (self->browser_scroll, self->images);
  gtk_widget_set_visible (self->gallery_scroll, self->images);
  gtk_widget_set_visible (self->all_mistakes_button, self->images);
  if (self->images)
    {
      lam_sample_browser_set_dataset (self->browser, self->view_set, 0, MIN (self->view_set->n, N_BROWSE));
      lam_sample_browser_set_title (self->browser, "Validation samples");
      lam_sample_browser_clear (self->gallery);
    }
  else
    lam_prediction_view_set_image (self->prediction, NULL, 0, 0, 0, NULL);
  gtk_spin_button_set_range (self->sample_spin, 0, self->view_set != NULL ? MAX (self->view_set->n - 1, 0) : 0);
  if (self->view_set == NULL || self->sample >= self->view_set->n)
    self->sample = 0;
  self->syncing = TRUE;
  gtk_spin_button_set_value (self->sample_spin, self->sample);
  self->syncing = FALSE;
  if (self->images)
    lam_sample_browser_set_selected (self->browser, self->sample);
  update_sample_captions (self);

  lam_feature_view_clear (self->features);
  lam_confusion_view_clear (self->confusion);
  lam_filter_view_clear (self->filters);
  lam_boundary_view_clear (self->boundary);
  if (train != NULL && lam_training_session_get_grid_size (self->session) > 0)
    {
      g_autofree char *title = g_strdup_printf ("Decision boundary: %s", train->name);
      lam_boundary_view_set_class_names (self->boundary, (const char *const *) train->class_names);
      lam_boundary_view_set_points (self->boundary, train->data, train->labels, train->n, train->n_classes);
      lam_boundary_view_set_title (self->boundary, title);
    }

  /* a page that is gone shows the curves instead */
  {
    const char *page = lam_training_views_get_page (self);
    if (page == NULL || !lam_training_views_page_visible (self, page))
      adw_view_stack_set_visible_child_name (self->stack, "curves");
  }
  self->confusion_due = TRUE;
  want_snapshot (self);
}

/* ------------------------------------------------------------------ */
/* Interaction */

static void
on_page_changed (LamTrainingViews *self)
{
  want_snapshot (self);
}

static void
on_filter_layer_changed (LamTrainingViews *self)
{
  if (!self->syncing)
    want_snapshot (self);
}

static void
on_sample_spin_changed (LamTrainingViews *self)
{
  if (!self->syncing)
    lam_training_views_set_sample (self, gtk_spin_button_get_value_as_int (self->sample_spin));
}

static void
on_sample_selected (LamTrainingViews *self, int index)
{
  lam_training_views_set_sample (self, index);
}

static void
on_gallery_selected (LamTrainingViews *self, int index)
{
  lam_training_views_set_sample (self, index);
}

static void
on_feature_node_activated (LamTrainingViews *self, const char *name)
{
  g_free (self->selected_node);
  self->selected_node = g_strdup (name);
  self->syncing = TRUE;
  select_filter_node (self, name);
  self->syncing = FALSE;
  g_signal_emit (self, signals[NODE_ACTIVATED], 0, name);
}

static void
on_cell_activated (LamTrainingViews *self, int t, int p)
{
  if (t == p)
    self->gallery_true = self->gallery_pred = -1;
  else
    {
      self->gallery_true = t;
      self->gallery_pred = p;
    }
  show_gallery (self);
}

static void
on_all_mistakes (LamTrainingViews *self)
{
  self->gallery_true = self->gallery_pred = -1;
  show_gallery (self);
}

static void
lam_training_views_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (lam_training_views_parent_class)->map (widget);
  want_snapshot (LAM_TRAINING_VIEWS (widget));
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
lam_training_views_dispose (GObject *object)
{
  LamTrainingViews *self = LAM_TRAINING_VIEWS (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->plot_timeout_id, g_source_remove);
  if (self->textview != NULL)
    lam_text_view_set_trainer (self->textview, NULL, NULL);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), LAM_TYPE_TRAINING_VIEWS);
  /* the template's top widget has no id, so dispose_template leaves it */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (lam_training_views_parent_class)->dispose (object);
}

static void
lam_training_views_finalize (GObject *object)
{
  LamTrainingViews *self = LAM_TRAINING_VIEWS (object);

  g_free (self->selected_node);
  g_free (self->last_pred);
  g_array_unref (self->plot_pending);
  G_OBJECT_CLASS (lam_training_views_parent_class)->finalize (object);
}

static void
lam_training_views_class_init (LamTrainingViewsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lam_training_views_dispose;
  object_class->finalize = lam_training_views_finalize;
  widget_class->map = lam_training_views_map;

  /* node-activated (name): a row of the feature maps was clicked */
  signals[NODE_ACTIVATED] = g_signal_new ("node-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  g_type_ensure (LAM_TYPE_LOSS_PLOT);
  g_type_ensure (LAM_TYPE_FILTER_VIEW);
  g_type_ensure (LAM_TYPE_FEATURE_VIEW);
  g_type_ensure (LAM_TYPE_SAMPLE_BROWSER);
  g_type_ensure (LAM_TYPE_PREDICTION_VIEW);
  g_type_ensure (LAM_TYPE_CONFUSION_VIEW);
  g_type_ensure (LAM_TYPE_BOUNDARY_VIEW);
  g_type_ensure (LAM_TYPE_SEQUENCE_VIEW);
  g_type_ensure (LAM_TYPE_GATE_VIEW);
  g_type_ensure (LAM_TYPE_ATTENTION_VIEW);
  g_type_ensure (LAM_TYPE_TEXT_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/lamina/Lamina/ui/lam-training-views.ui");
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, stack);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, status_label);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, copy_problem);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, filters_page);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, boundary_page);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, log_button);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, loss_plot);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, filter_layer);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, filter_nodes);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, filters_caption);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, gray_button);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, filters);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, features_caption);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, sample_spin);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, browser_scroll);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, browser);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, features);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, predictions_caption);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, all_mistakes_button);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, prediction);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, gallery_scroll);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, gallery);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, confusion);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, boundary);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, sequence_page);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, attention_page);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, text_page);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, sequence_caption);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, sort_units_button);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, sequence);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, gates);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, attention_caption);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, auto_scale_button);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, attention);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingViews, textview);
  gtk_widget_class_bind_template_callback (widget_class, on_page_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_filter_layer_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_sample_spin_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_sample_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_gallery_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_feature_node_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_cell_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_all_mistakes);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "trainingviews");
}

static void
lam_training_views_init (LamTrainingViews *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->gallery_true = self->gallery_pred = -1;
  self->cancellable = g_cancellable_new ();
  self->plot_pending = g_array_new (FALSE, FALSE, sizeof (LamMetrics));
  /* the views' defaults set the toggles, not the other way round: the
   * attention's colours scale to its largest weights and the sequence
   * view sorts its units unless the user says otherwise */
  g_object_bind_property (self->loss_plot, "log-scale", self->log_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->filters, "gray", self->gray_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  lam_sample_browser_set_title (self->gallery, "Misclassified validation samples");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->loss_plot), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Loss and accuracy curves", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->filters), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Learned filters", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->browser), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Validation samples", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->features), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Feature maps of every layer", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->prediction), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Class probabilities for the sample", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->gallery), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Misclassified samples", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->confusion), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Confusion matrix of the validation set", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->boundary), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Decision boundary and hidden units", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->sequence), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Hidden state of the recurrent layer over time", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->gates), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Gates of the recurrent layer over time", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->attention), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Attention weights of each head", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->textview), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Text written by the network", -1);
  g_object_bind_property (self->sequence, "sort-units", self->sort_units_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->attention, "auto-scale", self->auto_scale_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  adw_view_stack_page_set_visible (self->boundary_page, FALSE);
}

GtkWidget *
lam_training_views_new (void)
{
  return g_object_new (LAM_TYPE_TRAINING_VIEWS, NULL);
}

/* Before the session's trainer goes: the text view may be writing with it. */
static void
on_run_releasing (LamTrainingViews *self)
{
  lam_text_view_set_trainer (self->textview, NULL, NULL);
}

void
lam_training_views_set_session (LamTrainingViews *self, LamTrainingSession *session)
{
  g_return_if_fail (LAM_IS_TRAINING_VIEWS (self));
  g_return_if_fail (session == NULL || LAM_IS_TRAINING_SESSION (session));

  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      g_signal_connect_swapped (session, "metrics-changed", G_CALLBACK (on_metrics), self);
      g_signal_connect_swapped (session, "cleared", G_CALLBACK (on_cleared), self);
      g_signal_connect_swapped (session, "refresh", G_CALLBACK (on_refresh), self);
      g_signal_connect_swapped (session, "run-changed", G_CALLBACK (on_run_changed), self);
      g_signal_connect_swapped (session, "run-releasing", G_CALLBACK (on_run_releasing), self);
      g_signal_connect_swapped (session, "state-changed", G_CALLBACK (on_state_changed), self);
      on_run_changed (self);
    }
}

void
lam_training_views_select_node (LamTrainingViews *self, const char *name)
{
  g_return_if_fail (LAM_IS_TRAINING_VIEWS (self));

  if (g_strcmp0 (self->selected_node, name) == 0)
    return;
  g_free (self->selected_node);
  self->selected_node = g_strdup (name);
  if (name == NULL)
    return;
  lam_feature_view_select_node (self->features, name);
  select_filter_node (self, name);
}

const char *
lam_training_views_get_page (LamTrainingViews *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_VIEWS (self), NULL);
  return adw_view_stack_get_visible_child_name (self->stack);
}

gboolean
lam_training_views_page_visible (LamTrainingViews *self, const char *name)
{
  GtkWidget *child;

  g_return_val_if_fail (LAM_IS_TRAINING_VIEWS (self), FALSE);

  child = adw_view_stack_get_child_by_name (self->stack, name);
  return child != NULL && adw_view_stack_page_get_visible (adw_view_stack_get_page (self->stack, child));
}

gboolean
lam_training_views_set_page (LamTrainingViews *self, const char *name)
{
  g_return_val_if_fail (LAM_IS_TRAINING_VIEWS (self), FALSE);

  if (!lam_training_views_page_visible (self, name))
    return FALSE;
  adw_view_stack_set_visible_child_name (self->stack, name);
  return TRUE;
}

void
lam_training_views_set_status (LamTrainingViews *self, const char *text)
{
  g_return_if_fail (LAM_IS_TRAINING_VIEWS (self));
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
}

int
lam_training_views_get_sample (LamTrainingViews *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_VIEWS (self), -1);
  return self->sample;
}

void
lam_training_views_set_sample (LamTrainingViews *self, int index)
{
  g_return_if_fail (LAM_IS_TRAINING_VIEWS (self));

  if (self->view_set == NULL || index < 0 || index >= self->view_set->n)
    return;
  self->sample = index;
  self->syncing = TRUE;
  gtk_spin_button_set_value (self->sample_spin, index);
  self->syncing = FALSE;
  if (self->images)
    {
      lam_sample_browser_set_selected (self->browser, index);
      lam_sample_browser_set_selected (self->gallery, index);
    }
  update_sample_captions (self);
  want_snapshot (self);
}

GtkWidget *
lam_training_views_get_view (LamTrainingViews *self, const char *name)
{
  g_return_val_if_fail (LAM_IS_TRAINING_VIEWS (self), NULL);

  if (g_strcmp0 (name, "loss") == 0)
    return GTK_WIDGET (self->loss_plot);
  if (g_strcmp0 (name, "filters") == 0)
    return GTK_WIDGET (self->filters);
  if (g_strcmp0 (name, "features") == 0)
    return GTK_WIDGET (self->features);
  if (g_strcmp0 (name, "browser") == 0)
    return GTK_WIDGET (self->browser);
  if (g_strcmp0 (name, "prediction") == 0)
    return GTK_WIDGET (self->prediction);
  if (g_strcmp0 (name, "confusion") == 0)
    return GTK_WIDGET (self->confusion);
  if (g_strcmp0 (name, "gallery") == 0)
    return GTK_WIDGET (self->gallery);
  if (g_strcmp0 (name, "boundary") == 0)
    return GTK_WIDGET (self->boundary);
  if (g_strcmp0 (name, "sequence") == 0)
    return GTK_WIDGET (self->sequence);
  if (g_strcmp0 (name, "gates") == 0)
    return GTK_WIDGET (self->gates);
  if (g_strcmp0 (name, "attention") == 0)
    return GTK_WIDGET (self->attention);
  if (g_strcmp0 (name, "text") == 0)
    return GTK_WIDGET (self->textview);
  if (g_strcmp0 (name, "problem") == 0)
    return GTK_WIDGET (self->copy_problem);
  return NULL;
}

void
lam_training_views_focus (LamTrainingViews *self)
{
  static const struct { const char *page, *view; } main_view[] = {
    { "curves", "loss" }, { "filters", "filters" }, { "features", "features" },
    { "predictions", "confusion" }, { "boundary", "boundary" }, { "sequence", "sequence" },
    { "attention", "attention" }, { "text", "text" },
  };
  const char *page;

  g_return_if_fail (LAM_IS_TRAINING_VIEWS (self));

  page = lam_training_views_get_page (self);
  for (guint i = 0; i < G_N_ELEMENTS (main_view); i++)
    {
      GtkWidget *view = lam_training_views_get_view (self, main_view[i].view);
      if (g_strcmp0 (page, main_view[i].page) == 0 && gtk_widget_get_focusable (view)
          && gtk_widget_grab_focus (view))
        return;
    }
  /* a view that takes no keys: nothing focused, so Space reaches the window */
  if (gtk_widget_get_root (GTK_WIDGET (self)) != NULL)
    gtk_root_set_focus (gtk_widget_get_root (GTK_WIDGET (self)), NULL);
}

const char *
lam_training_views_get_problem (LamTrainingViews *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_VIEWS (self), NULL);

  return gtk_widget_get_visible (GTK_WIDGET (self->copy_problem)) ? gtk_label_get_text (self->copy_problem)
                                                                   : NULL;
}

guint
lam_training_views_get_n_refreshes (LamTrainingViews *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_VIEWS (self), 0);
  return self->n_refreshes;
}
