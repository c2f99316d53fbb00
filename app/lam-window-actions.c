/* lam-window-actions.c: the window's actions and their shortcuts.
 *
 * Actions are named after what they act on: document.* (files),
 * graph.* (editing), view.* (zoom, the training views), train.* (the
 * run), weights.* (checkpoints). _lam_window_actions_update() is the one
 * place that enables and disables them.
 *
 * Training keys: F5 starts (or resumes a paused run), Ctrl+Enter starts,
 * Space pauses and resumes (unless the canvas, a text field or a button
 * has the focus: see _lam_window_toggle_pause), F7 steps one batch,
 * Shift+F5 stops, Alt+1…5 show the views. F10 stays GNOME's key for the
 * main menu, and F6/F8 GtkPaned's keys for moving between panes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-window"

#include "config.h"

#include "lam-window-private.h"

/* ------------------------------------------------------------------ */
/* document.* */

static void
show_start_cleared (LamWindow *self, gpointer data)
{
  g_clear_object (&self->file);
  lam_network_clear (self->network);
  _lam_window_show_start (self);
}

static void
show_empty_editor (LamWindow *self, gpointer data)
{
  g_clear_object (&self->file);
  lam_network_clear (self->network);
  _lam_window_show_editor (self);
}

static void
document_new (GtkWidget *widget, const char *name, GVariant *param)
{
  _lam_window_confirm_discard (LAM_WINDOW (widget), show_start_cleared, NULL, NULL);
}

static void
document_new_empty (GtkWidget *widget, const char *name, GVariant *param)
{
  _lam_window_confirm_discard (LAM_WINDOW (widget), show_empty_editor, NULL, NULL);
}

static void
on_open_response (GtkNativeDialog *chooser, int response, LamWindow *self)
{
  g_autoptr(GtkNativeDialog) owned = g_steal_pointer (&self->chooser);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      _lam_window_open_file (self, file);
    }
}

static void
document_open (GtkWidget *widget, const char *name, GVariant *param)
{
  LamWindow *self = LAM_WINDOW (widget);
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter;

  if (self->chooser != NULL)
    return;
  chooser = gtk_file_chooser_native_new ("Open Network", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                         "_Open", "_Cancel");
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "Lamina networks (*.json)");
  gtk_file_filter_add_pattern (filter, "*.json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_open_response), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

static void
document_open_recent (GtkWidget *widget, const char *name, GVariant *param)
{
  g_autoptr(GFile) file = g_file_new_for_path (g_variant_get_string (param, NULL));

  _lam_window_open_file (LAM_WINDOW (widget), file);
}

static void
document_open_preset (GtkWidget *widget, const char *name, GVariant *param)
{
  _lam_window_open_preset (LAM_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
document_save (GtkWidget *widget, const char *name, GVariant *param)
{
  LamWindow *self = LAM_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (self->file == NULL)
    _lam_window_save_as (self, NULL, NULL, NULL);
  else if (!_lam_window_save_to (self, self->file, &error))
    _lam_window_show_error (self, "Could Not Save", error->message);
}

static void
document_save_as (GtkWidget *widget, const char *name, GVariant *param)
{
  _lam_window_save_as (LAM_WINDOW (widget), NULL, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* graph.* */

static void
graph_undo (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_network_undo (LAM_WINDOW (widget)->network);
}

static void
graph_redo (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_network_redo (LAM_WINDOW (widget)->network);
}

static void
graph_delete (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_graph_view_delete_selection (LAM_WINDOW (widget)->graph_view);
}

static void
graph_duplicate (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_graph_view_duplicate_selection (LAM_WINDOW (widget)->graph_view);
}

static void
graph_select_all (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_graph_view_select_all (LAM_WINDOW (widget)->graph_view);
}

static void
graph_tidy (GtkWidget *widget, const char *name, GVariant *param)
{
  LamWindow *self = LAM_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (!lam_network_tidy (self->network, &error))
    _lam_window_toast (self, error->message);
  else
    lam_graph_view_show_network (self->graph_view);
}

static void
graph_add_layer (GtkWidget *widget, const char *name, GVariant *param)
{
  LamWindow *self = LAM_WINDOW (widget);
  LamLayerKind kind;

  if (lam_layer_kind_from_name (g_variant_get_string (param, NULL), &kind))
    lam_graph_view_add_layer_at_center (self->graph_view, kind);
}

static void
graph_find_layer (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_palette_focus_search (LAM_WINDOW (widget)->palette);
}

/* Selects the first layer with a problem, or says what is missing;
 * for a dataset that does not fit, shows the training settings. */
static void
graph_show_problem (GtkWidget *widget, const char *name, GVariant *param)
{
  LamWindow *self = LAM_WINDOW (widget);
  const LamGraph *g = lam_network_get_graph (self->network);

  if (lam_network_get_valid (self->network))
    {
      LamNode *in = lam_graph_input_node (g);
      if (in != NULL)
        lam_graph_view_select (self->graph_view, in->name);
      adw_view_stack_set_visible_child_name (self->sidebar_stack, "training");
      return;
    }

  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      if (n->error != NULL)
        {
          lam_graph_view_select (self->graph_view, n->name);
          lam_graph_view_reveal (self->graph_view, n->name);
          gtk_widget_grab_focus (GTK_WIDGET (self->graph_view));
          return;
        }
    }
  if (lam_network_get_problem (self->network) != NULL)
    _lam_window_toast (self, lam_network_get_problem (self->network));
}

/* ------------------------------------------------------------------ */
/* view.* and train.* */

static void
view_zoom_in (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_graph_view_zoom_in (LAM_WINDOW (widget)->graph_view);
}

static void
view_zoom_out (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_graph_view_zoom_out (LAM_WINDOW (widget)->graph_view);
}

static void
view_zoom_fit (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_graph_view_zoom_to_fit (LAM_WINDOW (widget)->graph_view);
}

static void
train_start (GtkWidget *widget, const char *name, GVariant *param)
{
  _lam_window_train (LAM_WINDOW (widget));
}

static void
train_pause (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_training_session_pause (LAM_WINDOW (widget)->session);
}

static void
train_resume (GtkWidget *widget, const char *name, GVariant *param)
{
  _lam_window_show_training (LAM_WINDOW (widget));
  lam_training_session_resume (LAM_WINDOW (widget)->session);
}

static void
train_step (GtkWidget *widget, const char *name, GVariant *param)
{
  _lam_window_show_training (LAM_WINDOW (widget));
  lam_training_session_step (LAM_WINDOW (widget)->session);
}

static void
train_stop (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_training_session_stop (LAM_WINDOW (widget)->session);
}

static void
train_reset (GtkWidget *widget, const char *name, GVariant *param)
{
  lam_training_session_reset_weights (LAM_WINDOW (widget)->session);
}

static void
weights_save (GtkWidget *widget, const char *name, GVariant *param)
{
  _lam_window_save_weights (LAM_WINDOW (widget));
}

static void
weights_load (GtkWidget *widget, const char *name, GVariant *param)
{
  _lam_window_load_weights (LAM_WINDOW (widget));
}

static void
view_training_page (GtkWidget *widget, const char *name, GVariant *param)
{
  LamWindow *self = LAM_WINDOW (widget);

  _lam_window_show_training (self);
  if (lam_training_views_set_page (self->training_views, g_variant_get_string (param, NULL)))
    lam_training_views_focus (self->training_views);   /* its keys, and Space, work at once */
}

/* F5: resume a paused run, else start one. */
static gboolean
start_or_resume (GtkWidget *widget, GVariant *args, gpointer data)
{
  LamWindow *self = LAM_WINDOW (widget);

  if (lam_training_session_can_resume (self->session))
    return gtk_widget_activate_action (widget, "train.resume", NULL);
  if (lam_training_session_can_start (self->session))
    return gtk_widget_activate_action (widget, "train.start", NULL);
  return FALSE;
}

/* Space: pause or resume. GtkWindow binds Space to "activate-focus"
 * (what makes it press a focused button), so the window takes Space
 * there, when the focus is on something Space does not activate and is
 * not the canvas (which may want the key) or a text field. */
gboolean
_lam_window_toggle_pause (LamWindow *self)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  if (focus != NULL && (focus == GTK_WIDGET (self->graph_view) || GTK_IS_EDITABLE (focus)
                        || gtk_widget_get_ancestor (focus, GTK_TYPE_EDITABLE) != NULL
                        || gtk_widget_class_get_activate_signal (GTK_WIDGET_GET_CLASS (focus)) != 0))
    return FALSE;
  if (lam_training_session_can_pause (self->session))
    return gtk_widget_activate_action (GTK_WIDGET (self), "train.pause", NULL);
  if (lam_training_session_can_resume (self->session))
    return gtk_widget_activate_action (GTK_WIDGET (self), "train.resume", NULL);
  return FALSE;
}

void
_lam_window_class_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "document.new", NULL, document_new);
  gtk_widget_class_install_action (widget_class, "document.new-empty", NULL, document_new_empty);
  gtk_widget_class_install_action (widget_class, "document.open", NULL, document_open);
  gtk_widget_class_install_action (widget_class, "document.open-recent", "s", document_open_recent);
  gtk_widget_class_install_action (widget_class, "document.open-preset", "s", document_open_preset);
  gtk_widget_class_install_action (widget_class, "document.save", NULL, document_save);
  gtk_widget_class_install_action (widget_class, "document.save-as", NULL, document_save_as);
  gtk_widget_class_install_action (widget_class, "graph.undo", NULL, graph_undo);
  gtk_widget_class_install_action (widget_class, "graph.redo", NULL, graph_redo);
  gtk_widget_class_install_action (widget_class, "graph.delete", NULL, graph_delete);
  gtk_widget_class_install_action (widget_class, "graph.duplicate", NULL, graph_duplicate);
  gtk_widget_class_install_action (widget_class, "graph.select-all", NULL, graph_select_all);
  gtk_widget_class_install_action (widget_class, "graph.tidy", NULL, graph_tidy);
  gtk_widget_class_install_action (widget_class, "graph.add-layer", "s", graph_add_layer);
  gtk_widget_class_install_action (widget_class, "graph.find-layer", NULL, graph_find_layer);
  gtk_widget_class_install_action (widget_class, "graph.show-problem", NULL, graph_show_problem);
  gtk_widget_class_install_action (widget_class, "view.zoom-in", NULL, view_zoom_in);
  gtk_widget_class_install_action (widget_class, "view.zoom-out", NULL, view_zoom_out);
  gtk_widget_class_install_action (widget_class, "view.zoom-fit", NULL, view_zoom_fit);
  gtk_widget_class_install_action (widget_class, "view.training-page", "s", view_training_page);
  gtk_widget_class_install_action (widget_class, "train.start", NULL, train_start);
  gtk_widget_class_install_action (widget_class, "train.pause", NULL, train_pause);
  gtk_widget_class_install_action (widget_class, "train.resume", NULL, train_resume);
  gtk_widget_class_install_action (widget_class, "train.step", NULL, train_step);
  gtk_widget_class_install_action (widget_class, "train.stop", NULL, train_stop);
  gtk_widget_class_install_action (widget_class, "train.reset", NULL, train_reset);
  gtk_widget_class_install_action (widget_class, "weights.save", NULL, weights_save);
  gtk_widget_class_install_action (widget_class, "weights.load", NULL, weights_load);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "document.new", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "document.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "document.save", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "document.save-as", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK, "graph.undo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "graph.redo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_y, GDK_CONTROL_MASK, "graph.redo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, GDK_CONTROL_MASK, "graph.duplicate", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_t, GDK_CONTROL_MASK, "graph.tidy", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "graph.find-layer", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "view.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, GDK_CONTROL_MASK, "view.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "view.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "view.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "train.start", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK, "train.start", NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_F5, 0, start_or_resume, NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, GDK_SHIFT_MASK, "train.stop", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F7, 0, "train.step", NULL);
  {
    static const char *const pages[] = { "curves", "filters", "features", "predictions", "boundary",
                                         "sequence", "attention", "text" };
    for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
      gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1 + i, GDK_ALT_MASK, "view.training-page", "s",
                                           pages[i]);
  }
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
}

void
_lam_window_actions_update (LamWindow *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  LamTrainingSession *ts = self->session;
  LamSessionState state = lam_training_session_get_state (ts);
  gboolean editor = g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "editor") == 0;
  gboolean has_layers = lam_network_get_graph (self->network)->nodes->len > 0;
  guint n_selected = lam_graph_view_get_n_selected (self->graph_view);
  /* the graph is locked while the trainer runs on it (pausing unlocks it) */
  gboolean edit = editor && state != LAM_SESSION_RUNNING && state != LAM_SESSION_PREPARING;
  gboolean problem = !lam_network_get_valid (self->network) || lam_training_session_get_start_problem (ts) != NULL;

  gtk_widget_action_set_enabled (w, "document.save", editor);
  gtk_widget_action_set_enabled (w, "document.save-as", editor);
  gtk_widget_action_set_enabled (w, "graph.undo", edit && lam_network_get_can_undo (self->network));
  gtk_widget_action_set_enabled (w, "graph.redo", edit && lam_network_get_can_redo (self->network));
  gtk_widget_action_set_enabled (w, "graph.delete",
                                 edit && (n_selected > 0 || lam_graph_view_has_selected_edge (self->graph_view)));
  gtk_widget_action_set_enabled (w, "graph.duplicate", edit && n_selected > 0);
  gtk_widget_action_set_enabled (w, "graph.select-all", editor && has_layers);
  gtk_widget_action_set_enabled (w, "graph.tidy", edit && has_layers);
  gtk_widget_action_set_enabled (w, "graph.add-layer", edit);
  gtk_widget_action_set_enabled (w, "graph.find-layer", edit);
  gtk_widget_action_set_enabled (w, "graph.show-problem", editor && problem);
  gtk_widget_action_set_enabled (w, "view.zoom-in", editor);
  gtk_widget_action_set_enabled (w, "view.zoom-out", editor);
  gtk_widget_action_set_enabled (w, "view.zoom-fit", editor);
  gtk_widget_action_set_enabled (w, "view.training-page", editor);
  gtk_widget_action_set_enabled (w, "train.start", editor && lam_training_session_can_start (ts));
  gtk_widget_action_set_enabled (w, "train.pause", editor && lam_training_session_can_pause (ts));
  gtk_widget_action_set_enabled (w, "train.resume", editor && lam_training_session_can_resume (ts));
  gtk_widget_action_set_enabled (w, "train.step", editor && lam_training_session_can_step (ts));
  gtk_widget_action_set_enabled (w, "train.stop", editor && lam_training_session_can_stop (ts));
  gtk_widget_action_set_enabled (w, "train.reset", editor && lam_training_session_can_reset (ts));
  gtk_widget_action_set_enabled (w, "weights.save", editor && lam_training_session_can_save (ts));
  gtk_widget_action_set_enabled (w, "weights.load", editor && lam_training_session_can_load (ts));
}
