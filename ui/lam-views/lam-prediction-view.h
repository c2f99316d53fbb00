/* lam-prediction-view.h: what the network says about one sample.
 *
 * The sample's image and the verdict ("Predicted / Shirt 71% / ✗ true
 * class: Dress"), and one bar per class with its probability: the true
 * class in green, the predicted one in red when it is wrong. Narrow, the
 * verdict and the caption sit beside a small image and the bars run
 * under both; wide, a big image has a column of its own, its caption
 * under it. The class names' column is as wide as the longest name.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LAM_TYPE_PREDICTION_VIEW (lam_prediction_view_get_type ())
G_DECLARE_FINAL_TYPE (LamPredictionView, lam_prediction_view, LAM, PREDICTION_VIEW, GtkWidget)

GtkWidget *lam_prediction_view_new               (void);

/* Copies probs (n_classes floats) and the names; true_label -1: unknown. */
void       lam_prediction_view_set_probabilities (LamPredictionView *self, const float *probs,
                                                  int n_classes, const char *const *class_names,
                                                  int true_label);
/* c×h×w bytes, planar (c 1 or 3); NULL hides the image. */
void       lam_prediction_view_set_image         (LamPredictionView *self, const guint8 *pixels,
                                                  int c, int h, int w, const char *caption);
void       lam_prediction_view_clear             (LamPredictionView *self);

int        lam_prediction_view_get_predicted     (LamPredictionView *self);   /* -1: none */
/* Class k's bar track (its full width), widget coordinates. */
gboolean   lam_prediction_view_get_bar_rect      (LamPredictionView *self, int k,
                                                  graphene_rect_t *rect);
/* Texts that did not fit at the last draw (shortened with "…" or cut at
 * an edge): 0 when everything could be read. For tests. */
guint      lam_prediction_view_get_n_cut_texts   (LamPredictionView *self);

G_END_DECLS
