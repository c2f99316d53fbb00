/* lam-window.c: the window around one LamNetwork.
 *
 * The window owns the network and hands it to its views; it follows the
 * network's signals to keep the title, the totals, the problem banner
 * and the actions current. Files are read and written through the
 * engine's model file, synchronously: a model file is a few kilobytes.
 *
 * Training: a LamTrainingSession trains the network off the main
 * thread; the window shows its state in the training panel (sidebar),
 * the training views (under the canvas) and the header's Train button,
 * and locks the editor while a run is running: the canvas, inspector
 * and palette refuse edits, and a banner says to pause or stop. Edits
 * while paused are fine (the session rebuilds its trainer on Resume).
 * The training settings are part of the network's history like graph
 * edits: the panel changes them through the network, Undo and Redo
 * bring them back, and the network's "config-changed" tells the session
 * (a new learning rate applies at once, even while running) and the
 * window; "modified" is the network's alone.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-window"

#include "config.h"

#include <string.h>

#include "lam-layer-style.h"
#include "lam-window-private.h"

G_DEFINE_FINAL_TYPE (LamWindow, lam_window, ADW_TYPE_APPLICATION_WINDOW)

gboolean
_lam_window_get_modified (LamWindow *self)
{
  return lam_network_get_modified (self->network);
}

/* ------------------------------------------------------------------ */
/* Keeping the window current */

static gboolean
on_editor (LamWindow *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "editor") == 0;
}

static void
update_title (LamWindow *self)
{
  const char *full = lam_network_get_name (self->network);
  g_autofree char *head = g_utf8_strlen (full, -1) > 60 ? g_utf8_substring (full, 0, 59) : NULL;
  g_autofree char *name = head != NULL ? g_strconcat (head, "…", NULL) : g_strdup (full);
  g_autofree char *title = NULL, *subtitle = NULL, *window_title = NULL;
  gboolean modified = _lam_window_get_modified (self);

  if (!on_editor (self))
    {
      adw_window_title_set_title (self->window_title, "Lamina");
      adw_window_title_set_subtitle (self->window_title, "");
      gtk_window_set_title (GTK_WINDOW (self), "Lamina");
      return;
    }
  title = g_strdup_printf ("%s%s", modified ? "• " : "", name);
  if (self->file != NULL)
    {
      g_autofree char *path = g_file_get_path (self->file);
      const char *home = g_get_home_dir ();
      subtitle = path != NULL && g_str_has_prefix (path, home) ? g_strconcat ("~", path + strlen (home), NULL)
                                                               : g_file_get_parse_name (self->file);
    }
  else
    subtitle = g_strdup ("Not saved yet");
  window_title = g_strdup_printf ("%s — Lamina", title);
  adw_window_title_set_title (self->window_title, title);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_window_set_title (GTK_WINDOW (self), window_title);
}

static void
set_label (GtkLabel *label, const char *text)
{
  gtk_label_set_text (label, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

static void
update_totals (LamWindow *self)
{
  LamNetworkTotals t;
  g_autofree char *params = NULL, *flops = NULL, *bytes = NULL;
  g_autofree char *layers_text = NULL, *params_text = NULL, *flops_text = NULL, *memory_text = NULL;

  lam_network_get_totals (self->network, &t);
  params = lam_format_count (t.params);
  flops = lam_format_flops (t.flops);
  bytes = lam_format_bytes (t.bytes_per_batch);
  /* An invalid graph has no shapes past its problem: what is counted is a floor. */
  const char *at_least = lam_network_get_valid (self->network) ? "" : "at least ";

  layers_text = g_strdup_printf ("%u layer%s", t.n_layers, t.n_layers == 1 ? "" : "s");
  params_text = g_strdup_printf ("%s%s parameters", at_least, params);
  flops_text = g_strdup_printf ("%s%s per sample", at_least, flops);
  memory_text = g_strdup_printf ("%s%s per batch of %d", at_least, bytes, t.batch);
  set_label (self->layers_label, layers_text);
  set_label (self->params_label, params_text);
  set_label (self->flops_label, flops_text);
  set_label (self->memory_label, memory_text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->memory_label),
                               "Layer outputs for one batch plus the weights, 4 bytes each; "
                               "training needs about twice as much");
}

/* The graph's problem, or the data's: why Start is disabled. */
static const char *
start_problem (LamWindow *self)
{
  const char *problem = lam_network_get_problem (self->network);

  return problem != NULL ? problem : lam_training_session_get_start_problem (self->session);
}

static gboolean
is_running (LamSessionState state)
{
  return state == LAM_SESSION_RUNNING || state == LAM_SESSION_PREPARING;
}

/* The header's button: Train, Pause or Resume, as the run stands. */
static void
update_train_button (LamWindow *self)
{
  LamSessionState state = lam_training_session_get_state (self->session);
  const char *problem = start_problem (self);
  g_autofree char *text = problem != NULL ? g_strdup_printf ("Cannot train yet: %s", problem) : NULL;
  const char *action = "train.start", *label = "_Train", *icon = "media-playback-start-symbolic";
  const char *tooltip = text != NULL ? text : "Train the network (F5 or Ctrl+Enter)";
  const char *accessible = "Train";

  if (state == LAM_SESSION_RUNNING || state == LAM_SESSION_PREPARING)
    {
      action = "train.pause", label = "_Pause", icon = "media-playback-pause-symbolic";
      tooltip = "Pause training (Space)", accessible = "Pause training";
    }
  else if (state == LAM_SESSION_PAUSED)
    {
      action = "train.resume", label = "_Resume";
      tooltip = text != NULL ? text : "Go on with this run (F5 or Space)", accessible = "Resume training";
    }
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->train_button), action);
  adw_button_content_set_label (self->train_button_content, label);
  adw_button_content_set_icon_name (self->train_button_content, icon);
  gtk_widget_set_tooltip_text (self->train_button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->train_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
}

static void
update_problem (LamWindow *self)
{
  const char *problem = start_problem (self);
  g_autofree char *text = NULL;

  if (problem != NULL)
    {
      text = g_strdup_printf ("Cannot train yet: %s", problem);
      gtk_label_set_text (self->problem_label, text);
    }
  gtk_revealer_set_reveal_child (self->problem_revealer, problem != NULL);
  update_train_button (self);
}

/* ------------------------------------------------------------------ */
/* The canvas tools */

/* What the tools cover from the canvas' bottom-right corner, and a gap:
 * fitting the network keeps clear of it. */
static void
update_canvas_corner (LamWindow *self)
{
  int w = 0, h = 0;

  if (gtk_revealer_get_reveal_child (self->canvas_tools_revealer))
    {
      /* the sizes include the margins from the canvas' edges */
      gtk_widget_measure (GTK_WIDGET (self->canvas_tools_revealer), GTK_ORIENTATION_HORIZONTAL, -1, NULL, &w,
                          NULL, NULL);
      gtk_widget_measure (GTK_WIDGET (self->canvas_tools_revealer), GTK_ORIENTATION_VERTICAL, w, NULL, &h, NULL,
                          NULL);
      w += 8;
      h += 8;
    }
  lam_graph_view_set_reserved_corner (self->graph_view, w, h);
}

static gboolean
apply_tools_fit (gpointer data)
{
  LamWindow *self = data;

  self->tools_idle_id = 0;
  gtk_revealer_set_reveal_child (self->canvas_tools_revealer, self->tools_fit);
  update_canvas_corner (self);
  return G_SOURCE_REMOVE;
}

/* The alignment places the tools; this decides whether the canvas is
 * tall enough for them and a layer above them (it is not on a 1280x720
 * screen while training): they fade out and come back when it grows.
 * The revealer itself stays, so that the overlay asks again. */
static gboolean
on_canvas_tools_position (LamWindow *self, GtkWidget *child, GdkRectangle *allocation, GtkOverlay *overlay)
{
  int tools_h = 0, canvas_h = gtk_widget_get_height (GTK_WIDGET (self->graph_view));

  if (child != GTK_WIDGET (self->canvas_tools_revealer))
    return FALSE;
  gtk_widget_measure (self->canvas_tools, GTK_ORIENTATION_VERTICAL, -1, NULL, &tools_h, NULL, NULL);
  /* room for a layer above them at 70% (see lam-graph-view.c, fit) */
  self->tools_fit = canvas_h >= tools_h * 7 / 2;
  /* not now: showing or hiding a widget while the overlay lays it out
   * would ask for another layout in the middle of this one */
  if (self->tools_fit != gtk_revealer_get_reveal_child (self->canvas_tools_revealer) && self->tools_idle_id == 0)
    self->tools_idle_id = g_idle_add (apply_tools_fit, self);
  return FALSE;
}

/* Status, progress, the editor's lock: everything that follows the run. */
static void
update_training (LamWindow *self)
{
  LamSessionState state = lam_training_session_get_state (self->session);
  g_autofree char *title = lam_training_session_dup_status_title (self->session);
  g_autofree char *detail = lam_training_session_dup_status_detail (self->session);
  g_autofree char *values = lam_training_session_dup_status_values (self->session);
  g_autofree char *backend = lam_training_session_dup_backend_text (self->session);
  g_autofree char *line = NULL;
  const char *problem = start_problem (self);
  gboolean locked = is_running (state);

  lam_training_panel_set_status (self->training_panel, title, detail, values,
                                 lam_training_session_get_progress (self->session));
  if (state == LAM_SESSION_FAILED)
    lam_training_panel_set_problem (self->training_panel, lam_training_session_get_error (self->session));
  else if (problem != NULL && !locked)
    {
      g_autofree char *text = g_strdup_printf ("Cannot train yet: %s", problem);
      lam_training_panel_set_problem (self->training_panel, text);
    }
  else
    lam_training_panel_set_problem (self->training_panel, NULL);
  lam_training_panel_set_backend_text (self->training_panel, backend);
  lam_training_panel_set_locked (self->training_panel, locked);
  lam_training_panel_set_paused (self->training_panel, state == LAM_SESSION_PAUSED);

  line = g_strjoin (" · ", title, detail != NULL && detail[0] != '\0' && state != LAM_SESSION_FAILED ? detail : "",
                    NULL);
  if (g_str_has_suffix (line, " · "))
    line[strlen (line) - 3] = '\0';
  lam_training_views_set_status (self->training_views, line);

  /* no edits while the trainer runs: pausing allows them again */
  lam_graph_view_set_editable (self->graph_view, !locked);
  /* tidying is an edit: its button leaves the canvas tools meanwhile */
  if (gtk_widget_get_visible (self->canvas_tidy) == locked)
    {
      gtk_widget_set_visible (self->canvas_tidy, !locked);
      gtk_widget_set_visible (self->canvas_tidy_separator, !locked);
      update_canvas_corner (self);
    }
  lam_inspector_set_editable (self->inspector, !locked);
  gtk_widget_set_sensitive (GTK_WIDGET (self->palette), !locked);
  gtk_label_set_text (self->locked_label, state == LAM_SESSION_PREPARING
                      ? "Getting ready to train. Stop to edit the network."
                      : "Training is running. Pause or stop training to edit the network.");
  gtk_revealer_set_reveal_child (self->locked_revealer, locked && on_editor (self));
  update_problem (self);
}

static void
log_state (LamWindow *self)
{
  LamSessionState state = lam_training_session_get_state (self->session);
  const LamMetrics *m = lam_training_session_get_metrics (self->session);

  if (self->frame_log == NULL || state == self->logged_state)
    return;
  self->logged_state = state;
  /* train: time (ms), state, the run's step, the engine's images/s and
   * training seconds, and the seconds the worker waited for the views */
  fprintf (self->frame_log, "train %.3f %s step %d images_per_second %.1f elapsed %.3f waited %.3f\n",
           g_get_monotonic_time () / 1000.0,
           g_enum_get_value (g_type_class_peek (LAM_TYPE_SESSION_STATE), state)->value_nick,
           m != NULL ? m->step : 0, m != NULL ? m->images_per_second : 0.0, m != NULL ? m->elapsed : 0.0,
           lam_training_session_get_copy_wait (self->session));
  fflush (self->frame_log);
}

#define STATUS_EVERY_US (180 * 1000)

static gboolean
status_timeout_cb (gpointer data)
{
  LamWindow *self = data;

  self->status_timeout_id = 0;
  self->last_status = g_get_monotonic_time ();
  update_training (self);
  return G_SOURCE_REMOVE;
}

static void
on_session_changed (LamWindow *self)
{
  LamSessionState state = lam_training_session_get_state (self->session);
  gint64 wait = self->last_status + STATUS_EVERY_US - g_get_monotonic_time ();

  /* every relabelling lays the window out again: while the run only
   * moves on, the labels follow at most every 180 ms */
  if (state == LAM_SESSION_RUNNING && state == self->shown_state && wait > 0)
    {
      if (self->status_timeout_id == 0)
        self->status_timeout_id = g_timeout_add_full (G_PRIORITY_DEFAULT_IDLE, (guint) (wait / 1000 + 1),
                                                      status_timeout_cb, self, NULL);
    }
  else
    {
      g_clear_handle_id (&self->status_timeout_id, g_source_remove);
      self->shown_state = state;
      self->last_status = g_get_monotonic_time ();
      update_training (self);
    }
  log_state (self);
  _lam_window_actions_update (self);
}

static void
on_session_failed (LamWindow *self, const char *message)
{
  g_autofree char *text = g_strdup_printf ("Training failed: %s", message);

  _lam_window_show_training (self);
  _lam_window_toast (self, text);
}

static void
on_session_message (LamWindow *self, const char *message)
{
  _lam_window_toast (self, message);
}

/* The buttons' tooltips name the step: "Undo Change Learning Rate (Ctrl+Z)". */
static void
update_undo_buttons (LamWindow *self)
{
  const char *undo = lam_network_get_undo_label (self->network);
  const char *redo = lam_network_get_redo_label (self->network);
  g_autofree char *undo_text = g_strdup_printf ("Undo%s%s (Ctrl+Z)", undo != NULL ? " " : "",
                                                undo != NULL ? undo : "");
  g_autofree char *redo_text = g_strdup_printf ("Redo%s%s (Ctrl+Shift+Z)", redo != NULL ? " " : "",
                                                redo != NULL ? redo : "");

  gtk_widget_set_tooltip_text (self->undo_button, undo_text);
  gtk_widget_set_tooltip_text (self->redo_button, redo_text);
}

static void
on_network_changed (LamWindow *self)
{
  update_totals (self);
  update_problem (self);
  update_undo_buttons (self);
  _lam_window_actions_update (self);
}

static void
on_network_reset (LamWindow *self)
{
  /* another network: the session dropped its trainer; the placeholder
   * says again where the views will be */
  self->views_shown = FALSE;
  gtk_stack_set_visible_child_name (self->training_stack, "empty");
  adw_view_stack_set_visible_child_name (self->sidebar_stack, "layer");
  update_title (self);
}

/* The settings changed: in the panel, or by Undo and Redo. The network's
 * "changed" follows, for the totals (the batch size is in the memory
 * estimate) and the actions; its "notify::modified" for the title. */
static void
on_config_changed (LamWindow *self)
{
  lam_training_session_config_changed (self->session);
  update_training (self);
}

static void
on_views_node_activated (LamWindow *self, const char *name)
{
  if (lam_network_get_node (self->network, name) == NULL)
    return;   /* the trainer's graph, edited since */
  lam_graph_view_select (self->graph_view, name);
  lam_graph_view_reveal (self->graph_view, name);
}

static void
on_network_notify (LamWindow *self)
{
  update_title (self);
  _lam_window_actions_update (self);
}

static void
on_selection_changed (LamWindow *self)
{
  lam_inspector_set_selection (self->inspector, lam_graph_view_get_selected (self->graph_view),
                               lam_graph_view_get_n_selected (self->graph_view));
  lam_training_views_select_node (self->training_views, lam_graph_view_get_selected (self->graph_view));
  _lam_window_actions_update (self);
}

static void
on_node_activated (LamWindow *self, const char *name)
{
  lam_inspector_focus_layer (self->inspector);
}

static void
on_inspector_select_node (LamWindow *self, const char *name)
{
  lam_graph_view_select (self->graph_view, name);
  lam_graph_view_reveal (self->graph_view, name);
}

static void
on_palette_layer_activated (LamWindow *self, LamLayerKind kind)
{
  lam_graph_view_add_layer_at_center (self->graph_view, kind);
  gtk_widget_grab_focus (GTK_WIDGET (self->graph_view));
}

static void
on_zoom_changed (LamWindow *self)
{
  g_autofree char *text = g_strdup_printf ("%.0f%%", 100 * lam_graph_view_get_zoom (self->graph_view));

  gtk_label_set_text (self->zoom_label, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->zoom_label), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

static void
update_recent (LamWindow *self)
{
  LamApplication *app = LAM_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  const char *const *recent = app != NULL ? lam_application_get_recent (app) : NULL;

  g_menu_remove_all (self->recent_menu);
  for (guint i = 0; recent != NULL && recent[i] != NULL; i++)
    {
      g_autofree char *base = g_filename_display_basename (recent[i]);
      g_autoptr(GMenuItem) item = g_menu_item_new (base, NULL);
      g_menu_item_set_action_and_target (item, "document.open-recent", "s", recent[i]);
      g_menu_append_item (self->recent_menu, item);
    }
  if (recent == NULL || recent[0] == NULL)
    g_menu_append (self->recent_menu, "No files yet", "document.none");
  lam_start_view_set_recent (self->start_view, recent);
}

/* ------------------------------------------------------------------ */
/* Pages and messages */

void
_lam_window_show_start (LamWindow *self)
{
  gtk_stack_set_visible_child_name (self->main_stack, "start");
  update_title (self);
  _lam_window_actions_update (self);
}

void
_lam_window_show_editor (LamWindow *self)
{
  gtk_stack_set_visible_child_name (self->main_stack, "editor");
  lam_training_session_set_active (self->session, TRUE);
  update_title (self);
  update_training (self);
  _lam_window_actions_update (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->graph_view));
}

void
_lam_window_show_error (LamWindow *self, const char *heading, const char *message)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, message);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "_Close");
  gtk_window_present (GTK_WINDOW (dialog));
}

void
_lam_window_toast (LamWindow *self, const char *message)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

/* ------------------------------------------------------------------ */
/* Unsaved work */

typedef struct {
  LamWindow      *self;
  LamWindowThen   then;
  gpointer        data;
  GDestroyNotify  destroy;
} Then;

static Then *
then_new (LamWindow *self, LamWindowThen then, gpointer data, GDestroyNotify destroy)
{
  Then *t = g_new0 (Then, 1);

  t->self = g_object_ref (self);
  t->then = then;
  t->data = data;
  t->destroy = destroy;
  return t;
}

static void
then_free (Then *t)
{
  if (t->destroy != NULL)
    t->destroy (t->data);
  g_object_unref (t->self);
  g_free (t);
}

static void
then_run (Then *t)
{
  if (t->then != NULL)
    t->then (t->self, t->data);
  then_free (t);
}

static void
on_discard_response (AdwMessageDialog *dialog, const char *response, Then *t)
{
  LamWindow *self = t->self;

  if (g_strcmp0 (response, "discard") == 0)
    then_run (t);
  else if (g_strcmp0 (response, "save") == 0)
    {
      g_autoptr(GError) error = NULL;
      if (self->file == NULL)
        {
          /* Save As carries the continuation on */
          _lam_window_save_as (self, t->then, t->data, t->destroy);
          t->then = NULL;
          t->destroy = NULL;
          then_free (t);
        }
      else if (_lam_window_save_to (self, self->file, &error))
        then_run (t);
      else
        {
          _lam_window_show_error (self, "Could Not Save", error->message);
          then_free (t);
        }
    }
  else
    then_free (t);
}

void
_lam_window_confirm_discard (LamWindow *self, LamWindowThen then, gpointer data, GDestroyNotify destroy)
{
  Then *t = then_new (self, then, data, destroy);
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  if (!_lam_window_get_modified (self))
    {
      then_run (t);
      return;
    }
  body = g_strdup_printf ("“%s” has changes that are not saved. Save them before they are lost?",
                          lam_network_get_name (self->network));
  dialog = adw_message_dialog_new (GTK_WINDOW (self), "Save Changes?", body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", "_Cancel",
                                    "discard", "_Discard",
                                    "save", "_Save",
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_discard_response), t);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ------------------------------------------------------------------ */
/* Files */

typedef struct {
  LamModelFile *model;
  GFile        *file;   /* where it came from; NULL for a preset */
} Pending;

static void
pending_free (gpointer data)
{
  Pending *p = data;

  lam_model_file_free (p->model);
  g_clear_object (&p->file);
  g_free (p);
}

static void
replace_with (LamWindow *self, gpointer data)
{
  Pending *p = data;
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  g_set_object (&self->file, p->file);
  lam_network_take_model (self->network, g_steal_pointer (&p->model));
  if (self->file != NULL && app != NULL)
    {
      g_autofree char *path = g_file_get_path (self->file);
      if (path != NULL)
        lam_application_add_recent (LAM_APPLICATION (app), path);
    }
  _lam_window_show_editor (self);
}

/* Asks about unsaved work, then shows m (taken), which came from file. */
static void
offer_model (LamWindow *self, LamModelFile *m, GFile *file)
{
  Pending *p = g_new0 (Pending, 1);

  p->model = m;
  p->file = file != NULL ? g_object_ref (file) : NULL;
  _lam_window_confirm_discard (self, replace_with, p, pending_free);
}

gboolean
_lam_window_open_file (LamWindow *self, GFile *file)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_file_get_path (file);
  LamModelFile *m;

  g_return_val_if_fail (LAM_IS_WINDOW (self), FALSE);

  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s: only local files can be opened", uri);
    }
  if (error != NULL || (m = lam_model_file_load (path, &error)) == NULL)
    {
      g_autofree char *base = g_file_get_basename (file);
      g_autofree char *heading = g_strdup_printf ("Could Not Open “%s”", base);
      _lam_window_show_error (self, heading, error->message);
      return FALSE;
    }
  offer_model (self, m, file);
  return TRUE;
}

gboolean
_lam_window_open_preset (LamWindow *self, const char *name)
{
  g_autoptr(GError) error = NULL;
  LamModelFile *m;

  g_return_val_if_fail (LAM_IS_WINDOW (self), FALSE);

  if ((m = lam_model_file_load_preset (name, &error)) == NULL)
    {
      _lam_window_show_error (self, "Could Not Open the Network", error->message);
      return FALSE;
    }
  offer_model (self, m, NULL);
  return TRUE;
}

gboolean
_lam_window_save_to (LamWindow *self, GFile *file, GError **error)
{
  g_autofree char *path = g_file_get_path (file);

  g_return_val_if_fail (LAM_IS_WINDOW (self), FALSE);

  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Only local files can be saved");
      return FALSE;
    }
  /* A new network takes the file's name. */
  if (g_strcmp0 (lam_network_get_name (self->network), "Untitled") == 0)
    {
      g_autofree char *base = g_file_get_basename (file);
      char *dot = strrchr (base, '.');
      if (dot != NULL && dot != base)
        *dot = '\0';
      lam_network_set_name (self->network, base);
    }
  if (!lam_network_save (self->network, path, error))
    return FALSE;
  g_set_object (&self->file, file);
  if (gtk_window_get_application (GTK_WINDOW (self)) != NULL)
    lam_application_add_recent (LAM_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))), path);
  update_title (self);
  return TRUE;
}

static void
on_save_as_response (GtkNativeDialog *chooser, int response, Then *t)
{
  g_autoptr(LamWindow) self = g_object_ref (t->self);
  g_autoptr(GtkNativeDialog) owned = g_steal_pointer (&self->chooser);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autoptr(GError) error = NULL;
      g_autofree char *base = g_file_get_basename (file);

      /* The .json is what makes it a model file on the next Open. */
      if (!g_str_has_suffix (base, ".json"))
        {
          g_autofree char *named = g_strconcat (base, ".json", NULL);
          g_autoptr(GFile) parent = g_file_get_parent (file);
          g_set_object (&file, g_file_get_child (parent, named));
        }
      if (_lam_window_save_to (self, file, &error))
        {
          then_run (t);
          return;
        }
      _lam_window_show_error (self, "Could Not Save", error->message);
    }
  then_free (t);
}

static GtkFileFilter *
json_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "Lamina networks (*.json)");
  gtk_file_filter_add_pattern (filter, "*.json");
  gtk_file_filter_add_mime_type (filter, "application/json");
  return filter;
}

void
_lam_window_save_as (LamWindow *self, LamWindowThen then, gpointer data, GDestroyNotify destroy)
{
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = json_filter ();
  g_autofree char *name = g_strconcat (lam_network_get_name (self->network), ".json", NULL);

  g_return_if_fail (LAM_IS_WINDOW (self));

  if (self->chooser != NULL)
    {
      if (destroy != NULL)
        destroy (data);
      return;
    }
  chooser = gtk_file_chooser_native_new ("Save Network", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                         "_Save", "_Cancel");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  if (self->file != NULL)
    gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), self->file, NULL);
  else
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_save_as_response), then_new (self, then, data, destroy));
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

void
_lam_window_show_training (LamWindow *self)
{
  g_return_if_fail (LAM_IS_WINDOW (self));

  adw_view_stack_set_visible_child_name (self->sidebar_stack, "training");
  if (self->views_shown)
    return;
  self->views_shown = TRUE;
  gtk_stack_set_visible_child_name (self->training_stack, "views");
  /* the views take about two thirds of the height at first */
  {
    int h = gtk_widget_get_height (GTK_WIDGET (self->editor_paned));
    if (h > 0)
      gtk_paned_set_position (self->editor_paned, MAX (h * 7 / 20, 200));
  }
  /* the canvas is much shorter now: show the network's start again, clear
   * of the canvas tools, rather than whatever was in its middle */
  lam_graph_view_queue_show_network (self->graph_view);
}

void
_lam_window_train (LamWindow *self)
{
  g_return_if_fail (LAM_IS_WINDOW (self));

  if (!lam_training_session_can_start (self->session))
    return;
  _lam_window_show_training (self);
  lam_training_session_start (self->session);
  /* the canvas is locked now: Space (pause) and the views' keys work
   * once the focus is off it */
  if (gtk_root_get_focus (GTK_ROOT (self)) == GTK_WIDGET (self->graph_view))
    lam_training_views_focus (self->training_views);
}

/* ------------------------------------------------------------------ */
/* Weights */

static GtkFileFilter *
weights_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "Trained weights (*.safetensors)");
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  return filter;
}

static void
on_weights_saved (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(LamWindow) self = data;
  g_autoptr(GError) error = NULL;

  if (!lam_training_session_save_weights_finish (LAM_TRAINING_SESSION (source), result, &error))
    _lam_window_show_error (self, "Could Not Save the Weights", error->message);
  else
    _lam_window_toast (self, "Saved the weights");
}

static void
on_save_weights_response (GtkNativeDialog *chooser, int response, LamWindow *self)
{
  g_autoptr(GtkNativeDialog) owned = g_steal_pointer (&self->chooser);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *base = g_file_get_basename (file);

      if (!g_str_has_suffix (base, ".safetensors"))
        {
          g_autofree char *named = g_strconcat (base, ".safetensors", NULL);
          g_autoptr(GFile) parent = g_file_get_parent (file);
          g_set_object (&file, g_file_get_child (parent, named));
        }
      lam_training_session_save_weights (self->session, file, NULL, on_weights_saved, g_object_ref (self));
    }
}

void
_lam_window_save_weights (LamWindow *self)
{
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = weights_filter ();
  g_autofree char *name = g_strconcat (lam_network_get_name (self->network), ".safetensors", NULL);

  if (self->chooser != NULL)
    return;
  chooser = gtk_file_chooser_native_new ("Save Weights", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                         "_Save", "_Cancel");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_save_weights_response), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

static void
on_weights_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(LamWindow) self = data;
  g_autoptr(GError) error = NULL;

  if (!lam_training_session_load_weights_finish (LAM_TRAINING_SESSION (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _lam_window_show_error (self, "Could Not Load the Weights", error->message);
    }
  else
    _lam_window_toast (self, lam_training_session_get_state (self->session) == LAM_SESSION_PAUSED
                             ? "Loaded the weights: Resume goes on with that run"
                             : "Loaded the weights");
}

static void
on_load_weights_response (GtkNativeDialog *chooser, int response, LamWindow *self)
{
  g_autoptr(GtkNativeDialog) owned = g_steal_pointer (&self->chooser);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      _lam_window_show_training (self);
      lam_training_session_load_weights (self->session, file, NULL, on_weights_loaded, g_object_ref (self));
    }
}

void
_lam_window_load_weights (LamWindow *self)
{
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = weights_filter ();

  if (self->chooser != NULL)
    return;
  chooser = gtk_file_chooser_native_new ("Load Weights", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                         "_Load", "_Cancel");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_load_weights_response), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

/* ------------------------------------------------------------------ */
/* Frame times (LAMINA_FRAME_LOG=path), for bench/window-training */

static void
on_before_paint (GdkFrameClock *clock, LamWindow *self)
{
  self->paint_start = g_get_monotonic_time ();
}

static void
on_after_paint (GdkFrameClock *clock, LamWindow *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 frame = gdk_frame_clock_get_frame_time (clock);
  const char *page = lam_training_views_get_page (self->training_views);

  if (self->frame_log == NULL || self->paint_start == 0)
    return;
  /* frame: time (ms), interval since the last frame (ms), layout to the end of painting (ms) */
  fprintf (self->frame_log, "frame %.3f %.3f %.3f %s %s\n", now / 1000.0,
           self->last_frame > 0 ? (frame - self->last_frame) / 1000.0 : 0.0, (now - self->paint_start) / 1000.0,
           page != NULL ? page : "-",
           g_enum_get_value (g_type_class_peek (LAM_TYPE_SESSION_STATE),
                             lam_training_session_get_state (self->session))->value_nick);
  self->last_frame = frame;
  self->paint_start = 0;
}

static void
lam_window_realize (GtkWidget *widget)
{
  LamWindow *self = LAM_WINDOW (widget);
  const char *path = g_getenv ("LAMINA_FRAME_LOG");

  GTK_WIDGET_CLASS (lam_window_parent_class)->realize (widget);
  if (path == NULL || path[0] == '\0' || self->frame_log != NULL)
    return;
  self->frame_log = fopen (path, "w");
  if (self->frame_log == NULL)
    {
      g_warning ("LAMINA_FRAME_LOG: cannot write %s", path);
      return;
    }
  self->frame_clock = g_object_ref (gtk_widget_get_frame_clock (widget));
  g_signal_connect (self->frame_clock, "before-paint", G_CALLBACK (on_before_paint), self);
  g_signal_connect (self->frame_clock, "after-paint", G_CALLBACK (on_after_paint), self);
}

static void
stop_frame_log (LamWindow *self)
{
  if (self->frame_clock != NULL)
    g_signal_handlers_disconnect_by_data (self->frame_clock, self);
  g_clear_object (&self->frame_clock);
  g_clear_pointer (&self->frame_log, fclose);
}

static void
lam_window_unrealize (GtkWidget *widget)
{
  stop_frame_log (LAM_WINDOW (widget));
  GTK_WIDGET_CLASS (lam_window_parent_class)->unrealize (widget);
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
close_now (LamWindow *self, gpointer data)
{
  self->closing = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

static void
lam_window_activate_focus (GtkWindow *window)
{
  if (!_lam_window_toggle_pause (LAM_WINDOW (window)))
    GTK_WINDOW_CLASS (lam_window_parent_class)->activate_focus (window);
}

static gboolean
lam_window_close_request (GtkWindow *window)
{
  LamWindow *self = LAM_WINDOW (window);

  if (!self->closing && _lam_window_get_modified (self))
    {
      _lam_window_confirm_discard (self, close_now, NULL, NULL);
      return TRUE;
    }
  return GTK_WINDOW_CLASS (lam_window_parent_class)->close_request (window);
}

static void
lam_window_constructed (GObject *object)
{
  LamWindow *self = LAM_WINDOW (object);
  GtkApplication *app;

  G_OBJECT_CLASS (lam_window_parent_class)->constructed (object);

  if ((app = gtk_window_get_application (GTK_WINDOW (self))) != NULL)
    g_signal_connect_object (app, "notify::recent", G_CALLBACK (update_recent), self, G_CONNECT_SWAPPED);
  update_recent (self);
}

static void
lam_window_dispose (GObject *object)
{
  LamWindow *self = LAM_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  stop_frame_log (self);
  g_clear_handle_id (&self->status_timeout_id, g_source_remove);
  g_clear_handle_id (&self->tools_idle_id, g_source_remove);
  if (self->session != NULL)
    {
      /* stop training now: a task may still hold the session a moment */
      g_signal_handlers_disconnect_by_data (self->session, self);
      lam_training_session_shutdown (self->session);
    }
  if (self->network != NULL)
    g_signal_handlers_disconnect_by_data (self->network, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), LAM_TYPE_WINDOW);
  g_clear_object (&self->session);
  g_clear_object (&self->network);
  g_clear_object (&self->file);
  G_OBJECT_CLASS (lam_window_parent_class)->dispose (object);
}

static void
lam_window_class_init (LamWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = lam_window_constructed;
  object_class->dispose = lam_window_dispose;
  widget_class->realize = lam_window_realize;
  widget_class->unrealize = lam_window_unrealize;
  window_class->close_request = lam_window_close_request;
  window_class->activate_focus = lam_window_activate_focus;

  g_type_ensure (LAM_TYPE_START_VIEW);
  g_type_ensure (LAM_TYPE_PALETTE);
  g_type_ensure (LAM_TYPE_GRAPH_VIEW);
  g_type_ensure (LAM_TYPE_INSPECTOR);
  g_type_ensure (LAM_TYPE_TRAINING_PANEL);
  g_type_ensure (LAM_TYPE_TRAINING_VIEWS);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/lamina/Lamina/ui/lam-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LamWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, recent_menu);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, start_view);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, palette);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, graph_view);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, canvas_tools_revealer);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, canvas_tools);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, canvas_tidy);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, canvas_tidy_separator);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, inspector);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, problem_revealer);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, problem_label);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, layers_label);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, params_label);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, flops_label);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, memory_label);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, zoom_label);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, undo_button);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, redo_button);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, train_button);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, train_button_content);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, training_stack);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, editor_paned);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, locked_revealer);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, locked_label);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, sidebar_stack);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, training_panel);
  gtk_widget_class_bind_template_child (widget_class, LamWindow, training_views);
  gtk_widget_class_bind_template_callback (widget_class, on_selection_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_node_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_zoom_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_canvas_tools_position);
  gtk_widget_class_bind_template_callback (widget_class, on_inspector_select_node);
  gtk_widget_class_bind_template_callback (widget_class, on_palette_layer_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_views_node_activated);

  _lam_window_class_actions_init (widget_class);
}

static void
lam_window_init (LamWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->network = lam_network_new ();
  self->session = lam_training_session_new (self->network);
  self->logged_state = self->shown_state = (LamSessionState) -1;
  g_signal_connect_swapped (self->network, "reset", G_CALLBACK (on_network_reset), self);
  g_signal_connect_swapped (self->network, "config-changed", G_CALLBACK (on_config_changed), self);
  g_signal_connect_swapped (self->network, "changed", G_CALLBACK (on_network_changed), self);
  g_signal_connect_swapped (self->network, "notify::modified", G_CALLBACK (on_network_notify), self);
  g_signal_connect_swapped (self->network, "notify::name", G_CALLBACK (on_network_notify), self);
  g_signal_connect_swapped (self->network, "notify::can-undo", G_CALLBACK (on_network_notify), self);
  g_signal_connect_swapped (self->network, "notify::can-redo", G_CALLBACK (on_network_notify), self);
  lam_graph_view_set_network (self->graph_view, self->network);
  lam_inspector_set_network (self->inspector, self->network);
  lam_training_panel_set_network (self->training_panel, self->network);
  lam_training_views_set_session (self->training_views, self->session);
  g_signal_connect_swapped (self->session, "state-changed", G_CALLBACK (on_session_changed), self);
  g_signal_connect_swapped (self->session, "failed", G_CALLBACK (on_session_failed), self);
  g_signal_connect_swapped (self->session, "message", G_CALLBACK (on_session_message), self);
  gtk_stack_set_visible_child_name (self->training_stack, "empty");

  on_network_changed (self);
  update_training (self);
  on_zoom_changed (self);
  update_canvas_corner (self);
  _lam_window_show_start (self);
}

LamWindow *
lam_window_new (LamApplication *application)
{
  return g_object_new (LAM_TYPE_WINDOW, "application", application, NULL);
}
