/* lam-prediction-view.h: what the network says about one sample.
 *
 * The sample's image on the left, and one bar per class with its
 * probability: the true class in green, the predicted one in red when
 * it is wrong.
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

G_END_DECLS
