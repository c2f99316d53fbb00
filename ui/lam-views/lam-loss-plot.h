/* lam-loss-plot.h: training curves, live.
 *
 * Two panels over the same step axis: loss above (every batch's loss as
 * a light line, its exponential moving average on top, and the epoch
 * means of training and validation loss as markers), accuracy below
 * (the same, in percent). Hovering shows the value under the pointer;
 * scrolling zooms around it, dragging selects a step range, a double
 * click (or Home) shows everything again. Curves are decimated to one
 * min/max bucket per pixel column, so 100k steps redraw in a few ms.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-series.h"

G_BEGIN_DECLS

typedef enum {
  LAM_LOSS_CURVE_LOSS,             /* per step: the batch's loss */
  LAM_LOSS_CURVE_LOSS_SMOOTHED,    /* its moving average */
  LAM_LOSS_CURVE_ACCURACY,         /* per step, 0..1 */
  LAM_LOSS_CURVE_ACCURACY_SMOOTHED,
  LAM_LOSS_CURVE_TRAIN_LOSS,       /* per epoch, at the epoch's last step */
  LAM_LOSS_CURVE_VAL_LOSS,
  LAM_LOSS_CURVE_TRAIN_ACCURACY,
  LAM_LOSS_CURVE_VAL_ACCURACY,
  LAM_LOSS_N_CURVES
} LamLossCurve;

typedef struct {
  LamLossCurve curve;
  guint        index;      /* in that curve's series */
  double       x, y;       /* step and value */
  double       px, py;     /* where it is drawn, widget coordinates */
} LamLossPlotHit;

#define LAM_TYPE_LOSS_PLOT (lam_loss_plot_get_type ())
G_DECLARE_FINAL_TYPE (LamLossPlot, lam_loss_plot, LAM, LOSS_PLOT, GtkWidget)

GtkWidget       *lam_loss_plot_new          (void);

void             lam_loss_plot_clear        (LamLossPlot *self);
/* One training step. accuracy may be NAN. */
void             lam_loss_plot_add_step     (LamLossPlot *self, double step, double loss,
                                             double accuracy);
/* An epoch's end: means over the epoch and the validation results (NAN
 * when there is no validation set). */
void             lam_loss_plot_add_epoch    (LamLossPlot *self, double step, double train_loss,
                                             double val_loss, double train_accuracy,
                                             double val_accuracy);
LamSeries       *lam_loss_plot_get_series   (LamLossPlot *self, LamLossCurve curve);
const char      *lam_loss_curve_label       (LamLossCurve curve);

gboolean         lam_loss_plot_get_log_scale (LamLossPlot *self);
void             lam_loss_plot_set_log_scale (LamLossPlot *self, gboolean log_scale);
/* Weight of the moving average, 0 (none) to 0.999; default 0.9. A change
 * re-smooths the steps already there. */
double           lam_loss_plot_get_smoothing (LamLossPlot *self);
void             lam_loss_plot_set_smoothing (LamLossPlot *self, double smoothing);

/* Zoom to a step range; reset follows all data again (live). */
void             lam_loss_plot_zoom          (LamLossPlot *self, double x0, double x1);
void             lam_loss_plot_reset_zoom    (LamLossPlot *self);
gboolean         lam_loss_plot_get_zoomed    (LamLossPlot *self);

/* The point nearest to widget coordinates (x, y), in the panel under y,
 * within 40 px horizontally; this is what the hover label shows. */
gboolean         lam_loss_plot_value_at      (LamLossPlot *self, double x, double y,
                                              LamLossPlotHit *hit);
/* Draws at any size, e.g. for exports; width and height in pixels. */
void             lam_loss_plot_draw          (LamLossPlot *self, cairo_t *cr, int width, int height);

/* The size drawn is the widget's, or 1200×700 when it is not shown. */
gboolean         lam_loss_plot_export_png    (LamLossPlot *self, const char *path, GError **error);
gboolean         lam_loss_plot_export_svg    (LamLossPlot *self, const char *path, GError **error);
/* One row per distinct step: step,loss,loss_smoothed,accuracy,
 * accuracy_smoothed,train_loss,val_loss,train_accuracy,val_accuracy;
 * empty fields where a curve has no point at that step. */
char            *lam_loss_plot_to_csv        (LamLossPlot *self);
gboolean         lam_loss_plot_export_csv    (LamLossPlot *self, const char *path, GError **error);

G_END_DECLS
