/* lam-series.h: a plain x/y data series for plots.
 *
 * Points are appended in non-decreasing x (training steps), so ranges
 * are found by bisection and drawing decimates to one bucket per pixel
 * column keeping the first, last, minimum and maximum y: a curve of a
 * million points draws as a few hundred line segments and still shows
 * every spike. No GTK here.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define LAM_TYPE_SERIES (lam_series_get_type ())
GType lam_series_get_type (void) G_GNUC_CONST;

typedef struct _LamSeries LamSeries;

typedef struct {
  double x_first, x_last;   /* x of the first and last point in the bucket */
  double y_first, y_last;
  double y_min, y_max;
  guint  count;
} LamSeriesBucket;

LamSeries  *lam_series_new          (const char *name);
LamSeries  *lam_series_ref          (LamSeries *self);
void        lam_series_unref        (LamSeries *self);

const char *lam_series_get_name     (const LamSeries *self);
/* x must not decrease; y may be NaN (a gap, skipped when drawing). */
void        lam_series_append       (LamSeries *self, double x, double y);
void        lam_series_clear        (LamSeries *self);
guint       lam_series_get_length   (const LamSeries *self);
double      lam_series_get_x        (const LamSeries *self, guint i);
double      lam_series_get_y        (const LamSeries *self, guint i);
double      lam_series_get_last_y   (const LamSeries *self);   /* NAN when empty */

gboolean    lam_series_get_x_range  (const LamSeries *self, double *min, double *max);
/* Finite y over points with x in [x0, x1]; positive_only for log axes. */
gboolean    lam_series_get_y_range  (const LamSeries *self, double x0, double x1,
                                     gboolean positive_only, double *min, double *max);
/* First index with x >= value (length when none). */
guint       lam_series_lower_bound  (const LamSeries *self, double x);
/* Index of the point whose x is nearest; FALSE when empty. */
gboolean    lam_series_nearest      (const LamSeries *self, double x, guint *index);

/* Splits [x0, x1] into n_buckets equal columns and summarises the finite
 * points in each non-empty one, in order. The nearest point outside each
 * end comes as a bucket of its own so that lines reach the edges: out
 * must hold n_buckets + 2. Returns the number of buckets written. */
guint       lam_series_decimate     (const LamSeries *self, double x0, double x1, guint n_buckets,
                                     LamSeriesBucket *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamSeries, lam_series_unref)

G_END_DECLS
