/* lam-filter-view.h: learned weights as image tiles.
 *
 * Conv2D weights [OC, C, K, K]: one K×K tile per filter when C is 1
 * (a diverging blue-white-red map, symmetric around 0, or gray), one
 * colour tile per filter when C is 3 (each channel v/2max + 0.5), and
 * otherwise a grid of OC rows × C columns (a tile per input channel).
 * Dense weights [units, in] whose input is an image C×H×W (in_c·in_h·in_w
 * = in): each unit's row as an H×W template, laid out the same way;
 * other Dense weights as one units × inputs heatmap. Tiles are scaled by
 * whole numbers with NEAREST filtering so every weight is a crisp square;
 * one scale serves the whole layer and the legend: the 99% quantile of
 * |w| (the largest |w| for under 64 weights), larger weights saturate.
 * A grid shows only as many rows as fit with 3 px per weight or more.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
  LAM_FILTER_LAYOUT_NONE,
  LAM_FILTER_LAYOUT_TILES,    /* one gray/diverging tile per unit */
  LAM_FILTER_LAYOUT_RGB,      /* one colour tile per unit */
  LAM_FILTER_LAYOUT_GRID,     /* units × input channels */
  LAM_FILTER_LAYOUT_MATRIX,   /* the whole matrix as one heatmap */
} LamFilterLayout;

#define LAM_TYPE_FILTER_VIEW (lam_filter_view_get_type ())
G_DECLARE_FINAL_TYPE (LamFilterView, lam_filter_view, LAM, FILTER_VIEW, GtkWidget)

GtkWidget      *lam_filter_view_new            (void);

/* Copies w. ndim 4: [OC, C, K, K]; ndim 2: [units, in]. in_c, in_h, in_w
 * describe a Dense layer's input (0 when it is not an image); Conv2D
 * ignores them. title: e.g. "conv1". */
void            lam_filter_view_set_weights    (LamFilterView *self, const float *w, int ndim,
                                                const int shape[4], int in_c, int in_h, int in_w,
                                                const char *title);
void            lam_filter_view_clear          (LamFilterView *self);

LamFilterLayout lam_filter_view_get_layout     (LamFilterView *self);
double          lam_filter_view_get_scale      (LamFilterView *self);   /* the legend's ±scale */
/* Units (rows) and channels (columns) drawn at the widget's size, after the caps. */
void            lam_filter_view_get_shown      (LamFilterView *self, int *units, int *channels);
/* Where a tile is drawn, in widget coordinates; FALSE when not shown. */
gboolean        lam_filter_view_get_tile_rect  (LamFilterView *self, int unit, int channel,
                                                graphene_rect_t *rect);

gboolean        lam_filter_view_get_gray       (LamFilterView *self);
void            lam_filter_view_set_gray       (LamFilterView *self, gboolean gray);
/* At most this many units (filters, templates, matrix rows); default 64. */
int             lam_filter_view_get_max_units  (LamFilterView *self);
void            lam_filter_view_set_max_units  (LamFilterView *self, int max_units);

G_END_DECLS
