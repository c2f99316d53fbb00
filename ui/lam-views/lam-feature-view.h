/* lam-feature-view.h: every layer's activations for one sample.
 *
 * One row per node, from input to output: the node's name, type and
 * shape on the left; on the right its output: C×H×W as a strip of C
 * small heatmaps (at most max-channels, then "+N more"), vectors as bars
 * (or a wrapped 1-row heatmap when long), and the classifier's output
 * as labelled probability bars (softmax of the loss's logits). A row's
 * colour scale is shared by its channels: a diverging map when the layer
 * has negative values, viridis when it has none, gray for the input.
 *
 * The view is GtkScrollable: put it straight into a GtkScrolledWindow.
 * Clicking a row (or Up/Down) selects it and emits "node-activated";
 * lam_feature_view_select_node() highlights and scrolls to a node
 * without emitting, for syncing with the graph editor.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-graph.h"

G_BEGIN_DECLS

#define LAM_TYPE_FEATURE_VIEW (lam_feature_view_get_type ())
G_DECLARE_FINAL_TYPE (LamFeatureView, lam_feature_view, LAM, FEATURE_VIEW, GtkWidget)

GtkWidget  *lam_feature_view_new              (void);

/* acts is indexed like graph->nodes, each of that node's out_shape size;
 * NULL entries are skipped. Everything kept is copied. class_names
 * (NULL-terminated, or NULL) label the probability bars. */
void        lam_feature_view_set_activations  (LamFeatureView *self, const LamGraph *graph,
                                               float **acts, const char *const *class_names);
void        lam_feature_view_clear            (LamFeatureView *self);

gboolean    lam_feature_view_select_node      (LamFeatureView *self, const char *name);
const char *lam_feature_view_get_selected_node (LamFeatureView *self);

int         lam_feature_view_get_max_channels (LamFeatureView *self);
void        lam_feature_view_set_max_channels (LamFeatureView *self, int max_channels);

/* Rows, for tests and tools: count, node name, rectangle in widget
 * coordinates (scrolling applied), and the row under a point (-1: none). */
guint       lam_feature_view_get_n_rows       (LamFeatureView *self);
const char *lam_feature_view_get_row_node     (LamFeatureView *self, guint row);
gboolean    lam_feature_view_get_row_rect     (LamFeatureView *self, guint row,
                                               graphene_rect_t *rect);
int         lam_feature_view_row_at           (LamFeatureView *self, double x, double y);

G_END_DECLS
