/* lam-boundary-view.h: what a classifier does to the plane (2-D data).
 *
 * The decision field: every grid cell coloured by the predicted class
 * probabilities (pale where the model is unsure), the decision boundary
 * traced where the winning class changes, and the training points on
 * top. Beside it, small multiples of each hidden unit's output over the
 * same plane: what every neuron has learned to detect.
 *
 * Grids are row-major from (xmin, ymin): value (i, j) belongs to the
 * cell centred at x = xmin + (i + 0.5)·(xmax - xmin)/grid,
 * y = ymin + (j + 0.5)·(ymax - ymin)/grid; lam_view_grid_new() in
 * lam-view-data.h makes exactly these points.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LAM_TYPE_BOUNDARY_VIEW (lam_boundary_view_get_type ())
G_DECLARE_FINAL_TYPE (LamBoundaryView, lam_boundary_view, LAM, BOUNDARY_VIEW, GtkWidget)

GtkWidget *lam_boundary_view_new             (void);

/* n points (x, y pairs) and their labels. */
void       lam_boundary_view_set_points      (LamBoundaryView *self, const float *xy,
                                              const guint8 *labels, int n, int n_classes);
/* grid × grid × n_classes probabilities over [xmin, xmax] × [ymin, ymax]. */
void       lam_boundary_view_set_field       (LamBoundaryView *self, const float *probs, int grid,
                                              int n_classes, float xmin, float xmax, float ymin,
                                              float ymax);
/* n_units × grid × grid outputs over the field's rectangle. */
void       lam_boundary_view_set_units       (LamBoundaryView *self, const float *unit_values,
                                              int n_units, int grid, const char *layer_name);
void       lam_boundary_view_set_class_names (LamBoundaryView *self,
                                              const char *const *class_names);
void       lam_boundary_view_set_title       (LamBoundaryView *self, const char *title);
void       lam_boundary_view_clear           (LamBoundaryView *self);

/* At most this many unit maps (default 32). */
int        lam_boundary_view_get_max_units   (LamBoundaryView *self);
void       lam_boundary_view_set_max_units   (LamBoundaryView *self, int max_units);

/* Geometry, for tests: a data point in widget coordinates, and a unit's tile. */
gboolean   lam_boundary_view_data_to_widget  (LamBoundaryView *self, double x, double y,
                                              double *wx, double *wy);
gboolean   lam_boundary_view_get_unit_rect   (LamBoundaryView *self, int unit,
                                              graphene_rect_t *rect);

G_END_DECLS
