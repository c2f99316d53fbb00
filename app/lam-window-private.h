/* lam-window-private.h: LamWindow's insides, for its sibling files and tests.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-graph-view.h"
#include "lam-inspector.h"
#include "lam-network.h"
#include "lam-palette.h"
#include "lam-start-view.h"
#include "lam-training-panel.h"
#include "lam-training-session.h"
#include "lam-training-views.h"
#include "lam-window.h"

G_BEGIN_DECLS

struct _LamWindow {
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwWindowTitle       *window_title;
  GMenu                *recent_menu;
  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  LamStartView         *start_view;
  LamPalette           *palette;
  LamGraphView         *graph_view;
  GtkRevealer          *canvas_tools_revealer;
  GtkWidget            *canvas_tools;
  GtkWidget            *canvas_tidy;
  GtkWidget            *canvas_tidy_separator;
  LamInspector         *inspector;
  GtkRevealer          *problem_revealer;
  GtkLabel             *problem_label;
  GtkLabel             *layers_label;
  GtkLabel             *params_label;
  GtkLabel             *flops_label;
  GtkLabel             *memory_label;
  GtkLabel             *zoom_label;
  GtkWidget            *undo_button;
  GtkWidget            *redo_button;
  GtkWidget            *train_button;
  AdwButtonContent     *train_button_content;
  GtkStack             *training_stack;
  GtkPaned             *editor_paned;
  GtkRevealer          *locked_revealer;
  GtkLabel             *locked_label;
  AdwViewStack         *sidebar_stack;
  LamTrainingPanel     *training_panel;
  LamTrainingViews     *training_views;

  /* Owned references */
  LamNetwork           *network;
  LamTrainingSession   *session;
  GFile                *file;          /* NULL until saved or opened from a file */
  GtkNativeDialog      *chooser;       /* the open or save dialog while it is up */
  gboolean              closing;       /* the user agreed to lose unsaved work */
  gboolean              views_shown;   /* the training views replaced the placeholder */
  gboolean              tools_fit;     /* the canvas is tall enough for its tools */
  guint                 tools_idle_id; /* shows or hides them after an allocation */

  /* LAMINA_FRAME_LOG: frame times, for bench/window-training */
  FILE                 *frame_log;
  GdkFrameClock        *frame_clock;
  gint64                paint_start;
  gint64                last_frame;
  LamSessionState       logged_state;

  /* the status labels follow a running trainer 5 to 6 times a second */
  LamSessionState       shown_state;
  gint64                last_status;
  guint                 status_timeout_id;
};

/* Called after a confirmation or a save, when the user did not cancel. */
typedef void (*LamWindowThen) (LamWindow *self, gpointer data);

void      _lam_window_class_actions_init (GtkWidgetClass *widget_class);
void      _lam_window_actions_update     (LamWindow *self);

void      _lam_window_show_start         (LamWindow *self);
void      _lam_window_show_editor        (LamWindow *self);
void      _lam_window_show_error         (LamWindow *self, const char *heading, const char *message);
void      _lam_window_toast              (LamWindow *self, const char *message);

/* Asks before unsaved changes are lost, offering to save them; then runs
 * then (data is freed with destroy either way). */
void      _lam_window_confirm_discard    (LamWindow *self, LamWindowThen then, gpointer data,
                                          GDestroyNotify destroy);
/* Reads the file first; on failure shows the engine's message and keeps
 * what is open, else asks about unsaved work and replaces it. */
gboolean  _lam_window_open_file          (LamWindow *self, GFile *file);
gboolean  _lam_window_open_preset        (LamWindow *self, const char *name);
gboolean  _lam_window_save_to            (LamWindow *self, GFile *file, GError **error);
void      _lam_window_save_as            (LamWindow *self, LamWindowThen then, gpointer data,
                                          GDestroyNotify destroy);
void      _lam_window_train              (LamWindow *self);

/* The network or its training settings differ from the file (the
 * network's history says so: undoing back to the saved state clears it). */
gboolean  _lam_window_get_modified       (LamWindow *self);
/* Shows the training views and the training panel. */
void      _lam_window_show_training      (LamWindow *self);
void      _lam_window_save_weights       (LamWindow *self);
void      _lam_window_load_weights       (LamWindow *self);
/* Space outside the canvas and text fields; FALSE when it did nothing. */
gboolean  _lam_window_toggle_pause       (LamWindow *self);

G_END_DECLS
