/* lam-training-views.h: the training views of a window, live.
 *
 * An AdwViewStack with its AdwViewSwitcher (the narrow one, icons above
 * the titles, when the wide one does not fit): Curves (loss and accuracy),
 * Filters (learned weights of a conv/dense layer), Feature maps (every
 * layer's activations for one sample, picked in a sample browser),
 * Predictions (class probabilities, the confusion matrix on the
 * validation set and a gallery of mistakes) and Boundary (2-D sets:
 * the decision field and each hidden unit's output). Boundary is hidden
 * for image data, Filters when no layer has weights to picture.
 *
 * It follows a LamTrainingSession: metrics go straight into the curves;
 * on the session's "refresh" (at most every 100 ms while training) it
 * asks for copies for the visible page only, on a thread, and hands
 * them to the views' setters. The confusion matrix is recomputed at
 * each epoch's end or every 2 s, whichever comes first.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-training-session.h"

G_BEGIN_DECLS

#define LAM_TYPE_TRAINING_VIEWS (lam_training_views_get_type ())
G_DECLARE_FINAL_TYPE (LamTrainingViews, lam_training_views, LAM, TRAINING_VIEWS, GtkWidget)

GtkWidget  *lam_training_views_new          (void);
void        lam_training_views_set_session  (LamTrainingViews *self, LamTrainingSession *session);

/* The graph editor selected a node: its weights in Filters (a conv or
 * dense layer), its row in Feature maps. Does not emit node-activated. */
void        lam_training_views_select_node  (LamTrainingViews *self, const char *name);
/* "curves", "filters", "features", "predictions", "boundary", and for
 * sequence networks "sequence", "attention", "text" (Alt+6, 7, 8) */
const char *lam_training_views_get_page     (LamTrainingViews *self);
gboolean    lam_training_views_set_page     (LamTrainingViews *self, const char *name);
gboolean    lam_training_views_page_visible (LamTrainingViews *self, const char *name);
void        lam_training_views_set_status   (LamTrainingViews *self, const char *text);
/* Gives the keyboard focus to the visible view (its keys, and Space). */
void        lam_training_views_focus        (LamTrainingViews *self);
int         lam_training_views_get_sample   (LamTrainingViews *self);
void        lam_training_views_set_sample   (LamTrainingViews *self, int index);

/* For tests and benchmarks: a view by name ("loss", "filters",
 * "features", "browser", "prediction", "confusion", "gallery",
 * "boundary", "sequence", "gates", "attention", "text", and "problem",
 * the banner that says why the last copy failed), and how many copies
 * were applied so far. */
GtkWidget  *lam_training_views_get_view     (LamTrainingViews *self, const char *name);
guint       lam_training_views_get_n_refreshes (LamTrainingViews *self);
/* What the views say when their last copy failed, or NULL. */
const char *lam_training_views_get_problem  (LamTrainingViews *self);

G_END_DECLS
