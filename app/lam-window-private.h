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
  LamInspector         *inspector;
  GtkRevealer          *problem_revealer;
  GtkLabel             *problem_label;
  GtkLabel             *layers_label;
  GtkLabel             *params_label;
  GtkLabel             *flops_label;
  GtkLabel             *memory_label;
  GtkLabel             *zoom_label;
  GtkWidget            *train_button;
  GtkStack             *training_stack;

  /* Owned references */
  LamNetwork           *network;
  GFile                *file;          /* NULL until saved or opened from a file */
  GtkNativeDialog      *chooser;       /* the open or save dialog while it is up */
  gboolean              closing;       /* the user agreed to lose unsaved work */
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

G_END_DECLS
