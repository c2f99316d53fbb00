/* lam-confusion-view.h: a confusion matrix.
 *
 * Rows are the true classes, columns the predicted ones; each cell shows
 * its count, coloured by its share of the row (row-normalised, so rare
 * classes read as clearly as common ones): the diagonal in blue,
 * confusions in orange. Hovering a cell names it in a tooltip; clicking
 * (or the arrow keys and Enter) emits "cell-activated" (true class,
 * predicted class).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LAM_TYPE_CONFUSION_VIEW (lam_confusion_view_get_type ())
G_DECLARE_FINAL_TYPE (LamConfusionView, lam_confusion_view, LAM, CONFUSION_VIEW, GtkWidget)

GtkWidget *lam_confusion_view_new         (void);

/* pred and labels: n samples; values outside 0..n_classes-1 are ignored. */
void       lam_confusion_view_set_data    (LamConfusionView *self, const int *pred,
                                           const guint8 *labels, int n, int n_classes,
                                           const char *const *class_names);
void       lam_confusion_view_set_title   (LamConfusionView *self, const char *title);
void       lam_confusion_view_clear       (LamConfusionView *self);

int        lam_confusion_view_get_n_classes (LamConfusionView *self);
int        lam_confusion_view_get_count   (LamConfusionView *self, int true_class, int pred_class);
double     lam_confusion_view_get_accuracy (LamConfusionView *self);
gboolean   lam_confusion_view_cell_at     (LamConfusionView *self, double x, double y,
                                           int *true_class, int *pred_class);
gboolean   lam_confusion_view_get_cell_rect (LamConfusionView *self, int true_class,
                                             int pred_class, graphene_rect_t *rect);
/* The hover text for a cell: "True Shirt, predicted T-shirt/top: 37 (12.3% of Shirt)". */
char      *lam_confusion_view_describe_cell (LamConfusionView *self, int true_class,
                                             int pred_class);
/* Texts that did not fit at the last draw: shortened with "…", or (the
 * upright ones) cut at an edge. For tests. */
guint      lam_confusion_view_get_n_cut_texts (LamConfusionView *self);

G_END_DECLS
