/* lam-loss-plot.c: loss and accuracy curves with hover, zoom and export.
 *
 * The data lives in LamSeries; this file only maps them to pixels. The
 * layout (panel rectangles and value ranges) is one function used by
 * both drawing and hit testing, so the hover label always names the
 * point drawn under the pointer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>
#include <cairo-svg.h>

#include "lam-loss-plot.h"
#include "lam-view-common.h"

#define DEFAULT_EXPORT_WIDTH  1200
#define DEFAULT_EXPORT_HEIGHT 700
#define HIT_RADIUS            40.0
#define ZOOM_STEP             1.25

enum { PANEL_LOSS, PANEL_ACCURACY, N_PANELS };

typedef struct {
  double   x, y, w, h;   /* plot area, widget pixels */
  double   y0, y1;       /* value range; log10 of it on a log axis */
  gboolean log;
  gboolean percent;
} Panel;

typedef struct {
  double em;             /* font size in pixels */
  double x0, x1;         /* step range */
  Panel  panel[N_PANELS];
} Layout;

struct _LamLossPlot {
  GtkWidget        parent_instance;

  LamSeries       *series[LAM_LOSS_N_CURVES];
  double           smoothing;
  double           ema[2];          /* loss, accuracy: raw moving averages */
  guint            ema_n[2];
  gboolean         log_scale;

  gboolean         zoomed;
  double           zoom_x0, zoom_x1;

  gboolean         hover;
  double           hover_x, hover_y;
  gboolean         dragging;
  double           drag_x0, drag_x1;

  LamSeriesBucket *buckets;
  guint            n_buckets;
};

G_DEFINE_FINAL_TYPE (LamLossPlot, lam_loss_plot, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_LOG_SCALE,
  PROP_SMOOTHING,
  PROP_ZOOMED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const curve_names[LAM_LOSS_N_CURVES] = {
  "loss", "loss_smoothed", "accuracy", "accuracy_smoothed",
  "train_loss", "val_loss", "train_accuracy", "val_accuracy",
};

static const char *const curve_labels[LAM_LOSS_N_CURVES] = {
  "batch loss", "smoothed loss", "batch accuracy", "smoothed accuracy",
  "training loss (epoch)", "validation loss", "training accuracy (epoch)", "validation accuracy",
};

/* Which panel each curve belongs to, drawn in this order (markers last). */
static const LamLossCurve panel_curves[N_PANELS][4] = {
  { LAM_LOSS_CURVE_LOSS, LAM_LOSS_CURVE_LOSS_SMOOTHED, LAM_LOSS_CURVE_TRAIN_LOSS,
    LAM_LOSS_CURVE_VAL_LOSS },
  { LAM_LOSS_CURVE_ACCURACY, LAM_LOSS_CURVE_ACCURACY_SMOOTHED, LAM_LOSS_CURVE_TRAIN_ACCURACY,
    LAM_LOSS_CURVE_VAL_ACCURACY },
};

const char *
lam_loss_curve_label (LamLossCurve curve)
{
  g_return_val_if_fail (curve < LAM_LOSS_N_CURVES, NULL);
  return curve_labels[curve];
}

static gboolean
is_epoch_curve (LamLossCurve c)
{
  return c >= LAM_LOSS_CURVE_TRAIN_LOSS;
}

static int
curve_panel (LamLossCurve c)
{
  for (int i = 0; i < 4; i++)
    if (panel_curves[PANEL_LOSS][i] == c)
      return PANEL_LOSS;
  return PANEL_ACCURACY;
}

static gboolean
is_validation_curve (LamLossCurve c)
{
  return c == LAM_LOSS_CURVE_VAL_LOSS || c == LAM_LOSS_CURVE_VAL_ACCURACY;
}

/* Training is blue, validation orange, in both panels. */
static void
curve_color (LamLossCurve c, gboolean dark, LamRgb *rgb)
{
  _lam_class_color (is_validation_curve (c) ? 1 : 0, dark, rgb);
  if (c == LAM_LOSS_CURVE_TRAIN_LOSS || c == LAM_LOSS_CURVE_TRAIN_ACCURACY)
    {
      LamRgb deep = dark ? (LamRgb) { 0.75, 0.85, 1.0 } : (LamRgb) { 0.05, 0.2, 0.45 };
      _lam_rgb_mix (rgb, &deep, 0.35, rgb);
    }
}

/* ── Layout and transforms ───────────────────────────────────────────── */

static void
data_x_range (LamLossPlot *self, double *x0, double *x1)
{
  double lo = INFINITY, hi = -INFINITY;

  for (int c = 0; c < LAM_LOSS_N_CURVES; c++)
    {
      double a, b;
      if (lam_series_get_x_range (self->series[c], &a, &b))
        {
          lo = MIN (lo, a);
          hi = MAX (hi, b);
        }
    }
  if (!(lo <= hi))
    lo = 0, hi = 1;
  if (lo >= 0)
    lo = 0;   /* steps: start the axis at 0 */
  if (hi - lo < 1)
    hi = lo + 1;
  else
    hi += (hi - lo) * 0.015;   /* room for the last epoch's markers */
  *x0 = lo;
  *x1 = hi;
}

static void
panel_range (LamLossPlot *self, int p, double x0, double x1, Panel *panel)
{
  double lo = INFINITY, hi = -INFINITY;

  panel->log = p == PANEL_LOSS && self->log_scale;
  panel->percent = p == PANEL_ACCURACY;
  for (int i = 0; i < 4; i++)
    {
      double a, b;
      if (lam_series_get_y_range (self->series[panel_curves[p][i]], x0, x1, panel->log, &a, &b))
        {
          lo = MIN (lo, a);
          hi = MAX (hi, b);
        }
    }

  if (p == PANEL_ACCURACY)
    {
      /* the whole 0-100% while following; zoomed, the visible tenths */
      panel->y0 = self->zoomed && lo <= hi ? MAX (0.0, floor (lo * 10 - 1e-9) / 10) : 0.0;
      panel->y1 = 1.0;
      if (panel->y1 - panel->y0 < 0.1)
        panel->y0 = 0.9;
      return;
    }
  if (!(lo <= hi))
    lo = panel->log ? 0.1 : 0, hi = 1;
  if (panel->log)
    {
      double a = log10 (lo), b = log10 (hi);
      if (b - a < 0.3)
        a = (a + b) / 2 - 0.15, b = a + 0.3;
      panel->y0 = a - (b - a) * 0.04;
      panel->y1 = b + (b - a) * 0.06;
    }
  else
    {
      if (lo > 0 && !self->zoomed)
        lo = 0;
      if (hi - lo < 1e-6)
        hi = lo + 1e-6 + fabs (lo) * 0.1;
      panel->y0 = lo;
      panel->y1 = hi + (hi - lo) * 0.06;
    }
}

static void
compute_layout (LamLossPlot *self, int width, int height, double em, Layout *l)
{
  double left = ceil (em * 5.4), right = ceil (em * 1.2);
  double top = ceil (em * 2.4), bottom = ceil (em * 3.2), gap = ceil (em * 1.6);
  double avail = MAX (height - top - bottom - gap, 20);

  l->em = em;
  if (self->zoomed)
    l->x0 = self->zoom_x0, l->x1 = self->zoom_x1;
  else
    data_x_range (self, &l->x0, &l->x1);

  for (int p = 0; p < N_PANELS; p++)
    {
      Panel *panel = &l->panel[p];
      panel->x = left;
      panel->w = MAX (width - left - right, 20);
      panel->h = floor (p == PANEL_LOSS ? avail * 0.62 : avail * 0.38);
      panel->y = p == PANEL_LOSS ? top : top + l->panel[PANEL_LOSS].h + gap;
      panel_range (self, p, l->x0, l->x1, panel);
    }
}

static inline double
to_px (const Layout *l, const Panel *p, double x)
{
  return p->x + (x - l->x0) / (l->x1 - l->x0) * p->w;
}

static inline double
from_px (const Layout *l, const Panel *p, double px)
{
  return l->x0 + (px - p->x) / p->w * (l->x1 - l->x0);
}

static inline double
to_py (const Panel *p, double y)
{
  double v = p->log ? log10 (y) : y;
  return p->y + p->h - (v - p->y0) / (p->y1 - p->y0) * p->h;
}

/* ── Data ────────────────────────────────────────────────────────────── */

static double
smooth (LamLossPlot *self, int which, double y)
{
  double s = self->smoothing;

  if (!isfinite (y))
    return NAN;
  if (self->ema_n[which] == 0)
    self->ema[which] = 0;
  self->ema[which] = s * self->ema[which] + (1 - s) * y;
  self->ema_n[which]++;
  /* debiased, as TensorBoard does, so the first points are not pulled to 0 */
  return s > 0 ? self->ema[which] / (1 - pow (s, self->ema_n[which])) : y;
}

static void
resmooth (LamLossPlot *self)
{
  static const LamLossCurve raw[2] = { LAM_LOSS_CURVE_LOSS, LAM_LOSS_CURVE_ACCURACY };
  static const LamLossCurve out[2] = { LAM_LOSS_CURVE_LOSS_SMOOTHED,
                                       LAM_LOSS_CURVE_ACCURACY_SMOOTHED };

  for (int k = 0; k < 2; k++)
    {
      LamSeries *r = self->series[raw[k]];
      lam_series_clear (self->series[out[k]]);
      self->ema_n[k] = 0;
      for (guint i = 0; i < lam_series_get_length (r); i++)
        lam_series_append (self->series[out[k]], lam_series_get_x (r, i),
                           smooth (self, k, lam_series_get_y (r, i)));
    }
}

void
lam_loss_plot_clear (LamLossPlot *self)
{
  g_return_if_fail (LAM_IS_LOSS_PLOT (self));

  for (int c = 0; c < LAM_LOSS_N_CURVES; c++)
    lam_series_clear (self->series[c]);
  self->ema_n[0] = self->ema_n[1] = 0;
  lam_loss_plot_reset_zoom (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_loss_plot_add_step (LamLossPlot *self, double step, double loss, double accuracy)
{
  g_return_if_fail (LAM_IS_LOSS_PLOT (self));

  lam_series_append (self->series[LAM_LOSS_CURVE_LOSS], step, loss);
  lam_series_append (self->series[LAM_LOSS_CURVE_LOSS_SMOOTHED], step, smooth (self, 0, loss));
  lam_series_append (self->series[LAM_LOSS_CURVE_ACCURACY], step, accuracy);
  lam_series_append (self->series[LAM_LOSS_CURVE_ACCURACY_SMOOTHED], step,
                     smooth (self, 1, accuracy));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_loss_plot_add_epoch (LamLossPlot *self, double step, double train_loss, double val_loss,
                         double train_accuracy, double val_accuracy)
{
  g_autofree char *desc = NULL;

  g_return_if_fail (LAM_IS_LOSS_PLOT (self));

  lam_series_append (self->series[LAM_LOSS_CURVE_TRAIN_LOSS], step, train_loss);
  lam_series_append (self->series[LAM_LOSS_CURVE_VAL_LOSS], step, val_loss);
  lam_series_append (self->series[LAM_LOSS_CURVE_TRAIN_ACCURACY], step, train_accuracy);
  lam_series_append (self->series[LAM_LOSS_CURVE_VAL_ACCURACY], step, val_accuracy);

  desc = g_strdup_printf ("Epoch %u at step %.0f: training loss %.3f, accuracy %.1f%%; "
                          "validation loss %.3f, accuracy %.1f%%",
                          lam_series_get_length (self->series[LAM_LOSS_CURVE_TRAIN_LOSS]), step,
                          train_loss, train_accuracy * 100, val_loss, val_accuracy * 100);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, desc,
                                  -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

LamSeries *
lam_loss_plot_get_series (LamLossPlot *self, LamLossCurve curve)
{
  g_return_val_if_fail (LAM_IS_LOSS_PLOT (self), NULL);
  g_return_val_if_fail (curve < LAM_LOSS_N_CURVES, NULL);
  return self->series[curve];
}

gboolean
lam_loss_plot_get_log_scale (LamLossPlot *self)
{
  g_return_val_if_fail (LAM_IS_LOSS_PLOT (self), FALSE);
  return self->log_scale;
}

void
lam_loss_plot_set_log_scale (LamLossPlot *self, gboolean log_scale)
{
  g_return_if_fail (LAM_IS_LOSS_PLOT (self));

  log_scale = !!log_scale;
  if (self->log_scale == log_scale)
    return;
  self->log_scale = log_scale;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOG_SCALE]);
}

double
lam_loss_plot_get_smoothing (LamLossPlot *self)
{
  g_return_val_if_fail (LAM_IS_LOSS_PLOT (self), 0);
  return self->smoothing;
}

void
lam_loss_plot_set_smoothing (LamLossPlot *self, double smoothing)
{
  g_return_if_fail (LAM_IS_LOSS_PLOT (self));

  smoothing = CLAMP (smoothing, 0.0, 0.999);
  if (self->smoothing == smoothing)
    return;
  self->smoothing = smoothing;
  resmooth (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMOOTHING]);
}

static void
set_zoomed (LamLossPlot *self, gboolean zoomed)
{
  if (self->zoomed == zoomed)
    return;
  self->zoomed = zoomed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOMED]);
}

void
lam_loss_plot_zoom (LamLossPlot *self, double x0, double x1)
{
  double d0, d1;

  g_return_if_fail (LAM_IS_LOSS_PLOT (self));

  if (x1 < x0)
    {
      double t = x0;
      x0 = x1, x1 = t;
    }
  data_x_range (self, &d0, &d1);
  if (x1 - x0 < 2)
    {
      double c = (x0 + x1) / 2;
      x0 = c - 1, x1 = c + 1;
    }
  if (x0 <= d0 && x1 >= d1)
    {
      lam_loss_plot_reset_zoom (self);
      return;
    }
  self->zoom_x0 = x0;
  self->zoom_x1 = x1;
  set_zoomed (self, TRUE);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_loss_plot_reset_zoom (LamLossPlot *self)
{
  g_return_if_fail (LAM_IS_LOSS_PLOT (self));
  set_zoomed (self, FALSE);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
lam_loss_plot_get_zoomed (LamLossPlot *self)
{
  g_return_val_if_fail (LAM_IS_LOSS_PLOT (self), FALSE);
  return self->zoomed;
}

/* ── Hit testing ─────────────────────────────────────────────────────── */

static gboolean
hit_test (LamLossPlot *self, const Layout *l, double x, double y, LamLossPlotHit *hit)
{
  double best = INFINITY;

  for (int p = 0; p < N_PANELS; p++)
    {
      const Panel *panel = &l->panel[p];
      double dx0;

      if (y < panel->y - 8 || y > panel->y + panel->h + 8 || x < panel->x - 8
          || x > panel->x + panel->w + 8)
        continue;
      dx0 = from_px (l, panel, x);
      /* epoch markers first: on a tie they win over the step under them */
      for (int i = 3; i >= 0; i--)
        {
          LamLossCurve c = panel_curves[p][i];
          guint idx;
          double vx, vy, px, py, d;

          if (!lam_series_nearest (self->series[c], dx0, &idx))
            continue;
          vx = lam_series_get_x (self->series[c], idx);
          vy = lam_series_get_y (self->series[c], idx);
          if (!isfinite (vy) || (panel->log && vy <= 0) || vx < l->x0 || vx > l->x1)
            continue;
          px = to_px (l, panel, vx);
          py = to_py (panel, vy);
          if (fabs (px - x) > HIT_RADIUS)
            continue;
          d = (px - x) * (px - x) + (py - y) * (py - y);
          if (d < best)
            {
              best = d;
              *hit = (LamLossPlotHit) { c, idx, vx, vy, px, py };
            }
        }
    }
  return isfinite (best);
}

gboolean
lam_loss_plot_value_at (LamLossPlot *self, double x, double y, LamLossPlotHit *hit)
{
  Layout l;
  LamLossPlotHit dummy;

  g_return_val_if_fail (LAM_IS_LOSS_PLOT (self), FALSE);

  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), _lam_widget_em (GTK_WIDGET (self)), &l);
  return hit_test (self, &l, x, y, hit ? hit : &dummy);
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

static void
draw_axes (LamLossPlot *self, LamViewStyle *st, const Layout *l, int p)
{
  cairo_t *cr = st->cr;
  const Panel *panel = &l->panel[p];
  double ticks[32], step;
  char buf[32];
  int n;

  cairo_set_line_width (cr, 1);

  /* y grid and labels */
  if (panel->log)
    {
      for (int e = (int) floor (panel->y0); e <= (int) ceil (panel->y1); e++)
        for (int m = 1; m < 10; m++)
          {
            double v = m * pow (10, e), py;
            if (log10 (v) < panel->y0 || log10 (v) > panel->y1)
              continue;
            py = round (to_py (panel, v)) + 0.5;
            _lam_style_fg (st, m == 1 ? 0.16 : 0.06);
            cairo_move_to (cr, panel->x, py);
            cairo_line_to (cr, panel->x + panel->w, py);
            cairo_stroke (cr);
            if (m == 1 || m == 2 || m == 5)
              {
                g_snprintf (buf, sizeof buf, "%g", v);
                _lam_text (st, buf, panel->x - 6, py, 1, 0.5, 0.9, PANGO_WEIGHT_NORMAL, NULL,
                           m == 1 ? 0.85 : 0.6, 0);
              }
          }
    }
  else
    {
      n = _lam_nice_ticks (panel->y0, panel->y1, MAX (3, (int) (panel->h / (l->em * 2.6))), ticks,
                           &step);
      for (int i = 0; i < n; i++)
        {
          double py = round (to_py (panel, ticks[i])) + 0.5;
          _lam_style_fg (st, 0.12);
          cairo_move_to (cr, panel->x, py);
          cairo_line_to (cr, panel->x + panel->w, py);
          cairo_stroke (cr);
          if (panel->percent)
            g_snprintf (buf, sizeof buf, "%.0f%%", ticks[i] * 100);
          else
            _lam_format_value (ticks[i], step, buf, sizeof buf);
          _lam_text (st, buf, panel->x - 6, py, 1, 0.5, 0.9, PANGO_WEIGHT_NORMAL, NULL, 0.85, 0);
        }
    }

  /* x grid; labels under the lower panel only */
  n = _lam_nice_ticks (l->x0, l->x1, MAX (2, (int) (panel->w / (l->em * 6))), ticks, &step);
  for (int i = 0; i < n; i++)
    {
      double px = round (to_px (l, panel, ticks[i])) + 0.5;
      _lam_style_fg (st, 0.08);
      cairo_move_to (cr, px, panel->y);
      cairo_line_to (cr, px, panel->y + panel->h);
      cairo_stroke (cr);
      if (p == N_PANELS - 1)
        {
          _lam_format_value (ticks[i], MAX (step, 1), buf, sizeof buf);
          _lam_text (st, buf, px, panel->y + panel->h + 5, 0.5, 0, 0.9, PANGO_WEIGHT_NORMAL, NULL,
                     0.85, 0);
        }
    }
  if (p == N_PANELS - 1)
    _lam_text (st, "training step", panel->x + panel->w, panel->y + panel->h + l->em * 1.6, 1, 0,
               0.9, PANGO_WEIGHT_BOLD, NULL, 0.7, 0);

  /* frame */
  _lam_style_fg (st, 0.35);
  cairo_rectangle (cr, panel->x + 0.5, panel->y + 0.5, panel->w - 1, panel->h - 1);
  cairo_stroke (cr);

  /* the panel's name along its axis */
  cairo_save (cr);
  cairo_translate (cr, round (l->em * 0.3), panel->y + panel->h / 2);
  cairo_rotate (cr, -G_PI / 2);
  _lam_text (st, p == PANEL_LOSS ? (panel->log ? "Loss (log scale)" : "Loss") : "Accuracy", 0, 0,
             0.5, 0, 1.05, PANGO_WEIGHT_BOLD, NULL, 0.9, panel->h);
  cairo_restore (cr);
}

static void
draw_epoch_lines (LamLossPlot *self, LamViewStyle *st, const Layout *l)
{
  LamSeries *s = self->series[LAM_LOSS_CURVE_TRAIN_LOSS];
  cairo_t *cr = st->cr;
  double last_label = -INFINITY, last_line = -INFINITY;

  for (guint i = 0; i < lam_series_get_length (s); i++)
    {
      double x = lam_series_get_x (s, i), px;

      if (x < l->x0 || x > l->x1)
        continue;
      px = round (to_px (l, &l->panel[0], x));
      if (px - last_line < 6)
        continue;   /* hundreds of epochs: a line every few pixels says nothing */
      last_line = px;
      for (int p = 0; p < N_PANELS; p++)
        cairo_rectangle (cr, px, l->panel[p].y, 1, l->panel[p].h);
    }
  _lam_style_fg (st, 0.2);
  cairo_fill (cr);

  for (guint i = 0; i < lam_series_get_length (s); i++)
    {
      double x = lam_series_get_x (s, i), px;
      char buf[32];

      if (x < l->x0 || x > l->x1)
        continue;
      px = round (to_px (l, &l->panel[0], x));
      if (px - last_label > l->em * 5)
        {
          g_snprintf (buf, sizeof buf, "epoch %u", i + 1);
          _lam_text (st, buf, px - 4, l->panel[0].y + 5, 1, 0, 0.8, PANGO_WEIGHT_NORMAL, NULL,
                     0.6, 0);
          last_label = px;
        }
    }
}

/* Adds a curve to the path, decimated to the pixel columns. A curve
 * with several points per column becomes one min..max bar per column
 * (joined to its neighbours), to be filled: this is what keeps 100k
 * noisy steps cheap, since cairo strokes thousands of zig-zags slowly.
 * Otherwise it is a polyline to stroke, with the column's extremes only
 * where they are a pixel apart. Returns TRUE for bars. */
static gboolean
trace_series (LamLossPlot *self, cairo_t *cr, const Layout *l, const Panel *panel, LamSeries *s,
              gboolean allow_bars, double min_span)
{
  guint cols = (guint) MAX (1, ceil (panel->w)), n, total = 0;
  gboolean pen = FALSE, bars;
  double prev = NAN;

  if (self->n_buckets < cols + 2)
    {
      self->n_buckets = cols + 2;
      self->buckets = g_renew (LamSeriesBucket, self->buckets, self->n_buckets);
    }
  n = lam_series_decimate (s, l->x0, l->x1, cols, self->buckets);
  for (guint i = 0; i < n; i++)
    total += self->buckets[i].count;
  bars = allow_bars && total > 2 * n;

  for (guint i = 0; i < n; i++)
    {
      const LamSeriesBucket *b = &self->buckets[i];
      double px0 = to_px (l, panel, b->x_first), px1 = to_px (l, panel, b->x_last);
      double top, bottom;

      if (panel->log && b->y_min <= 0)
        {
          pen = FALSE;   /* a gap rather than a line to -infinity */
          prev = NAN;
          continue;
        }
      top = to_py (panel, b->y_max);
      bottom = to_py (panel, b->y_min);
      if (bars)
        {
          double x = floor (px0);
          if (isfinite (prev))
            top = MIN (top, prev), bottom = MAX (bottom, prev);
          cairo_rectangle (cr, x, top - 0.5, MAX (1, floor (px1) + 1 - x), bottom - top + 1);
          prev = to_py (panel, b->y_last);
          continue;
        }
      /* one vertex per column unless its points span more than min_span
       * pixels: short zig-zags make cairo's stroker intersect the outline
       * with itself, which costs tens of ms at 100k points */
      if (b->count == 1 || bottom - top < min_span)
        {
          double px = b->count == 1 ? px0 : (px0 + px1) / 2;
          double py = to_py (panel, b->count == 1 ? b->y_first : (b->y_first + b->y_last) / 2);
          if (pen)
            cairo_line_to (cr, px, py);
          else
            cairo_move_to (cr, px, py);
        }
      else
        {
          double pm = (px0 + px1) / 2, first = to_py (panel, b->y_first);
          gboolean down = pen && fabs (first - top) < fabs (first - bottom);
          if (pen)
            cairo_line_to (cr, pm, down ? top : bottom);
          else
            cairo_move_to (cr, pm, down ? top : bottom);
          cairo_line_to (cr, pm, down ? bottom : top);
          cairo_line_to (cr, pm, to_py (panel, b->y_last));
        }
      pen = TRUE;
    }
  return bars;
}

static void
draw_marker (cairo_t *cr, double x, double y, double r, gboolean diamond)
{
  if (diamond)
    {
      r *= 1.25;
      cairo_move_to (cr, x, y - r);
      cairo_line_to (cr, x + r, y);
      cairo_line_to (cr, x, y + r);
      cairo_line_to (cr, x - r, y);
      cairo_close_path (cr);
    }
  else
    {
      cairo_new_sub_path (cr);
      cairo_arc (cr, x, y, r, 0, 2 * G_PI);
    }
}

static void
draw_curves (LamLossPlot *self, LamViewStyle *st, const Layout *l, int p)
{
  const Panel *panel = &l->panel[p];
  cairo_t *cr = st->cr;
  double em = l->em, radius = MAX (5, em / 2.6);
  guint visible;

  cairo_save (cr);
  cairo_rectangle (cr, panel->x, panel->y, panel->w, panel->h);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  for (int i = 0; i < 4; i++)
    {
      LamLossCurve c = panel_curves[p][i];
      LamSeries *s = self->series[c];
      LamRgb rgb;

      curve_color (c, st->dark, &rgb);
      if (!is_epoch_curve (c))
        {
          gboolean raw = c == LAM_LOSS_CURVE_LOSS || c == LAM_LOSS_CURVE_ACCURACY;
          double width = raw ? 1.0 : MAX (3.0, em / 4.5);
          _lam_style_rgb (st, &rgb, raw ? 0.3 : 1.0);
          /* a moving average has no spikes to keep: one vertex per column */
          if (trace_series (self, cr, l, panel, s, raw, raw ? 1.5 : G_MAXDOUBLE))
            cairo_fill (cr);
          else
            {
              cairo_set_line_width (cr, width);
              cairo_stroke (cr);
            }
          continue;
        }

      /* epoch means: a thin line through markers, while markers fit */
      visible = lam_series_lower_bound (s, l->x1 + 1e-9) - lam_series_lower_bound (s, l->x0);
      for (guint k = 0; k < lam_series_get_length (s); k++)
        {
          double y = lam_series_get_y (s, k);
          if (!isfinite (y) || (panel->log && y <= 0))
            continue;
          cairo_line_to (cr, to_px (l, panel, lam_series_get_x (s, k)), to_py (panel, y));
        }
      _lam_style_rgb (st, &rgb, 0.9);
      cairo_set_line_width (cr, visible * radius * 3 < panel->w ? 1.5 : 2.5);
      cairo_stroke (cr);
      if (visible * radius * 3 >= panel->w)
        continue;
      for (guint k = 0; k < lam_series_get_length (s); k++)
        {
          double y = lam_series_get_y (s, k);
          if (!isfinite (y) || (panel->log && y <= 0))
            continue;
          draw_marker (cr, to_px (l, panel, lam_series_get_x (s, k)), to_py (panel, y), radius,
                       is_validation_curve (c));
        }
      _lam_style_rgb (st, &rgb, 1);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, st->bg.red, st->bg.green, st->bg.blue, 1);
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

static void
draw_legend (LamLossPlot *self, LamViewStyle *st, const Layout *l)
{
  static const LamLossCurve items[] = { LAM_LOSS_CURVE_LOSS, LAM_LOSS_CURVE_LOSS_SMOOTHED,
                                        LAM_LOSS_CURVE_TRAIN_LOSS, LAM_LOSS_CURVE_VAL_LOSS };
  static const char *const labels[] = { "per batch", "smoothed", "training (epoch mean)",
                                        "validation" };
  cairo_t *cr = st->cr;
  double x = l->panel[0].x, y = round (l->em * 1.1), em = l->em;

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      LamRgb rgb;
      curve_color (items[i], st->dark, &rgb);
      if (is_epoch_curve (items[i]))
        {
          draw_marker (cr, x + em * 0.9, y, MAX (5, em / 2.6), is_validation_curve (items[i]));
          _lam_style_rgb (st, &rgb, 1);
          cairo_fill (cr);
        }
      else
        {
          cairo_move_to (cr, x, y);
          cairo_line_to (cr, x + em * 1.8, y);
          _lam_style_rgb (st, &rgb, items[i] == LAM_LOSS_CURVE_LOSS ? 0.4 : 1);
          cairo_set_line_width (cr, items[i] == LAM_LOSS_CURVE_LOSS ? 2 : MAX (3.0, em / 4.5));
          cairo_stroke (cr);
        }
      x += em * 2.3;
      x += _lam_text (st, labels[i], x, y, 0, 0.5, 0.95, PANGO_WEIGHT_NORMAL, NULL, 0.9, 0);
      x += em * 1.4;
    }
}

static void
draw_hover (LamLossPlot *self, LamViewStyle *st, const Layout *l)
{
  LamLossPlotHit hit;
  cairo_t *cr = st->cr;
  const Panel *panel;
  char line1[64], line2[96];
  double w1, w2, h1, h2, bw, bh, bx, by, pad = l->em * 0.5;
  LamRgb rgb;

  if (!hit_test (self, l, self->hover_x, self->hover_y, &hit))
    return;
  panel = &l->panel[curve_panel (hit.curve)];
  curve_color (hit.curve, st->dark, &rgb);

  cairo_set_line_width (cr, 1);
  _lam_style_fg (st, 0.4);
  cairo_move_to (cr, round (hit.px) + 0.5, panel->y);
  cairo_line_to (cr, round (hit.px) + 0.5, panel->y + panel->h);
  cairo_stroke (cr);
  cairo_arc (cr, hit.px, hit.py, MAX (4, l->em / 3), 0, 2 * G_PI);
  _lam_style_rgb (st, &rgb, 1);
  cairo_fill_preserve (cr);
  _lam_style_fg (st, 0.9);
  cairo_stroke (cr);

  g_snprintf (line1, sizeof line1, "step %.0f", hit.x);
  if (panel->percent)
    g_snprintf (line2, sizeof line2, "%s %.1f%%", curve_labels[hit.curve], hit.y * 100);
  else
    g_snprintf (line2, sizeof line2, "%s %.4g", curve_labels[hit.curve], hit.y);
  _lam_text_size (st, line1, 0.9, PANGO_WEIGHT_NORMAL, &w1, &h1);
  _lam_text_size (st, line2, 1.0, PANGO_WEIGHT_BOLD, &w2, &h2);
  bw = MAX (w1, w2) + 2 * pad;
  bh = h1 + h2 + 2 * pad;
  bx = hit.px + 12;
  if (bx + bw > panel->x + panel->w)
    bx = hit.px - 12 - bw;
  by = CLAMP (hit.py - bh - 8, panel->y + 2, panel->y + panel->h - bh - 2);

  _lam_rounded_rect (cr, bx, by, bw, bh, 6);
  cairo_set_source_rgba (cr, st->bg.red, st->bg.green, st->bg.blue, 0.94);
  cairo_fill_preserve (cr);
  _lam_style_rgb (st, &rgb, 1);
  cairo_set_line_width (cr, 1.5);
  cairo_stroke (cr);
  _lam_text (st, line1, bx + pad, by + pad, 0, 0, 0.9, PANGO_WEIGHT_NORMAL, NULL, 0.75, 0);
  _lam_text (st, line2, bx + pad, by + pad + h1, 0, 0, 1.0, PANGO_WEIGHT_BOLD, NULL, 1, 0);
}

static void
draw_plot (LamLossPlot *self, cairo_t *cr, int width, int height, gboolean overlays)
{
  LamViewStyle st;
  Layout l;

  _lam_style_begin (&st, GTK_WIDGET (self), cr);
  compute_layout (self, width, height, _lam_widget_em (GTK_WIDGET (self)), &l);

  draw_legend (self, &st, &l);
  for (int p = 0; p < N_PANELS; p++)
    draw_axes (self, &st, &l, p);
  draw_epoch_lines (self, &st, &l);
  for (int p = 0; p < N_PANELS; p++)
    draw_curves (self, &st, &l, p);

  if (overlays && self->dragging)
    {
      const Panel *top = &l.panel[0], *bottom = &l.panel[N_PANELS - 1];
      double a = CLAMP (MIN (self->drag_x0, self->drag_x1), top->x, top->x + top->w);
      double b = CLAMP (MAX (self->drag_x0, self->drag_x1), top->x, top->x + top->w);
      cairo_rectangle (cr, a, top->y, b - a, bottom->y + bottom->h - top->y);
      cairo_set_source_rgba (cr, st.accent.red, st.accent.green, st.accent.blue, 0.18);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, st.accent.red, st.accent.green, st.accent.blue, 0.8);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
    }
  else if (overlays && self->hover)
    draw_hover (self, &st, &l);

  _lam_style_end (&st);
}

void
lam_loss_plot_draw (LamLossPlot *self, cairo_t *cr, int width, int height)
{
  g_return_if_fail (LAM_IS_LOSS_PLOT (self));
  draw_plot (self, cr, width, height, FALSE);
}

static void
lam_loss_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamLossPlot *self = LAM_LOSS_PLOT (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  cairo_t *cr;

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  draw_plot (self, cr, w, h, TRUE);
  cairo_destroy (cr);
}

static void
lam_loss_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                       int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 200;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 800 : 500;
}

/* ── Exports ─────────────────────────────────────────────────────────── */

static void
export_size (LamLossPlot *self, int *w, int *h)
{
  *w = gtk_widget_get_width (GTK_WIDGET (self));
  *h = gtk_widget_get_height (GTK_WIDGET (self));
  if (*w <= 0 || *h <= 0)
    *w = DEFAULT_EXPORT_WIDTH, *h = DEFAULT_EXPORT_HEIGHT;
}

static gboolean
export_surface (LamLossPlot *self, cairo_surface_t *surface, int w, int h, const char *path,
                gboolean png, GError **error)
{
  cairo_t *cr = cairo_create (surface);
  LamViewStyle st;
  cairo_status_t status;

  _lam_style_begin (&st, GTK_WIDGET (self), cr);
  cairo_set_source_rgba (cr, st.bg.red, st.bg.green, st.bg.blue, 1);
  cairo_paint (cr);
  _lam_style_end (&st);
  draw_plot (self, cr, w, h, FALSE);
  cairo_destroy (cr);

  if (png)
    status = cairo_surface_write_to_png (surface, path);
  else
    {
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
    }
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

gboolean
lam_loss_plot_export_png (LamLossPlot *self, const char *path, GError **error)
{
  int w, h;

  g_return_val_if_fail (LAM_IS_LOSS_PLOT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  export_size (self, &w, &h);
  return export_surface (self, cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h), w, h, path,
                         TRUE, error);
}

gboolean
lam_loss_plot_export_svg (LamLossPlot *self, const char *path, GError **error)
{
  int w, h;

  g_return_val_if_fail (LAM_IS_LOSS_PLOT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  export_size (self, &w, &h);
  return export_surface (self, cairo_svg_surface_create (path, w, h), w, h, path, FALSE, error);
}

static void
csv_value (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_c (s, ',');
  if (isfinite (v))
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", v));
}

char *
lam_loss_plot_to_csv (LamLossPlot *self)
{
  GString *s = g_string_new ("step");
  guint pos[LAM_LOSS_N_CURVES] = { 0 };
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_val_if_fail (LAM_IS_LOSS_PLOT (self), NULL);

  for (int c = 0; c < LAM_LOSS_N_CURVES; c++)
    g_string_append_printf (s, ",%s", curve_names[c]);
  g_string_append_c (s, '\n');

  /* a merge of the sorted series: one row per distinct step */
  for (;;)
    {
      double x = INFINITY;

      for (int c = 0; c < LAM_LOSS_N_CURVES; c++)
        if (pos[c] < lam_series_get_length (self->series[c]))
          x = MIN (x, lam_series_get_x (self->series[c], pos[c]));
      if (!isfinite (x))
        break;
      g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", x));
      for (int c = 0; c < LAM_LOSS_N_CURVES; c++)
        {
          LamSeries *ser = self->series[c];
          if (pos[c] < lam_series_get_length (ser) && lam_series_get_x (ser, pos[c]) == x)
            csv_value (s, lam_series_get_y (ser, pos[c]++));
          else
            g_string_append_c (s, ',');
        }
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

gboolean
lam_loss_plot_export_csv (LamLossPlot *self, const char *path, GError **error)
{
  g_autofree char *csv = NULL;

  g_return_val_if_fail (LAM_IS_LOSS_PLOT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  csv = lam_loss_plot_to_csv (self);
  return g_file_set_contents (path, csv, -1, error);
}

/* ── Input ───────────────────────────────────────────────────────────── */

static void
current_layout (LamLossPlot *self, Layout *l)
{
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), _lam_widget_em (GTK_WIDGET (self)), l);
}

static void
zoom_around (LamLossPlot *self, double px, double factor)
{
  Layout l;
  double c;

  current_layout (self, &l);
  c = from_px (&l, &l.panel[0], px);
  lam_loss_plot_zoom (self, c - (c - l.x0) * factor, c + (l.x1 - c) * factor);
}

static void
pan (LamLossPlot *self, double fraction)
{
  Layout l;
  double d;

  current_layout (self, &l);
  d = (l.x1 - l.x0) * fraction;
  if (self->zoomed)
    lam_loss_plot_zoom (self, l.x0 + d, l.x1 + d);
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, LamLossPlot *self)
{
  self->hover = TRUE;
  self->hover_x = x;
  self->hover_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *motion, LamLossPlot *self)
{
  self->hover = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll, double dx, double dy, LamLossPlot *self)
{
  if (dy != 0)
    zoom_around (self, self->hover ? self->hover_x : gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
                 pow (ZOOM_STEP, CLAMP (dy, -4, 4)));
  if (dx != 0)
    pan (self, 0.1 * CLAMP (dx, -4, 4));
  return GDK_EVENT_STOP;
}

static void
pressed_cb (GtkGestureClick *click, int n_press, double x, double y, LamLossPlot *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (n_press == 2)
    lam_loss_plot_reset_zoom (self);
}

static void
drag_begin_cb (GtkGestureDrag *drag, double x, double y, LamLossPlot *self)
{
  self->drag_x0 = self->drag_x1 = x;
}

static void
drag_update_cb (GtkGestureDrag *drag, double dx, double dy, LamLossPlot *self)
{
  self->drag_x1 = self->drag_x0 + dx;
  self->dragging = fabs (dx) > 4;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
drag_end_cb (GtkGestureDrag *drag, double dx, double dy, LamLossPlot *self)
{
  Layout l;

  if (self->dragging)
    {
      current_layout (self, &l);
      lam_loss_plot_zoom (self, from_px (&l, &l.panel[0], self->drag_x0),
                          from_px (&l, &l.panel[0], self->drag_x0 + dx));
    }
  self->dragging = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
key_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
        LamLossPlot *self)
{
  double mid = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;

  switch (keyval)
    {
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
      zoom_around (self, mid, 1 / ZOOM_STEP);
      return GDK_EVENT_STOP;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
      zoom_around (self, mid, ZOOM_STEP);
      return GDK_EVENT_STOP;
    case GDK_KEY_0:
    case GDK_KEY_Home:
      lam_loss_plot_reset_zoom (self);
      return GDK_EVENT_STOP;
    case GDK_KEY_Left:
      pan (self, -0.1);
      return GDK_EVENT_STOP;
    case GDK_KEY_Right:
      pan (self, 0.1);
      return GDK_EVENT_STOP;
    case GDK_KEY_l:
      lam_loss_plot_set_log_scale (self, !self->log_scale);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_loss_plot_finalize (GObject *object)
{
  LamLossPlot *self = LAM_LOSS_PLOT (object);

  for (int c = 0; c < LAM_LOSS_N_CURVES; c++)
    g_clear_pointer (&self->series[c], lam_series_unref);
  g_free (self->buckets);

  G_OBJECT_CLASS (lam_loss_plot_parent_class)->finalize (object);
}

static void
lam_loss_plot_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamLossPlot *self = LAM_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_LOG_SCALE:
      g_value_set_boolean (value, self->log_scale);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    case PROP_ZOOMED:
      g_value_set_boolean (value, self->zoomed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_loss_plot_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LamLossPlot *self = LAM_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_LOG_SCALE:
      lam_loss_plot_set_log_scale (self, g_value_get_boolean (value));
      break;
    case PROP_SMOOTHING:
      lam_loss_plot_set_smoothing (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_loss_plot_class_init (LamLossPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lam_loss_plot_finalize;
  object_class->get_property = lam_loss_plot_get_property;
  object_class->set_property = lam_loss_plot_set_property;
  widget_class->snapshot = lam_loss_plot_snapshot;
  widget_class->measure = lam_loss_plot_measure;

  properties[PROP_LOG_SCALE] =
    g_param_spec_boolean ("log-scale", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SMOOTHING] =
    g_param_spec_double ("smoothing", NULL, NULL, 0.0, 0.999, 0.9,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOMED] =
    g_param_spec_boolean ("zoomed", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "lossplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lam_loss_plot_init (LamLossPlot *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  for (int c = 0; c < LAM_LOSS_N_CURVES; c++)
    self->series[c] = lam_series_new (curve_names[c]);
  self->smoothing = 0.9;

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_focus_on_click (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "Training loss and accuracy",
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  "Scroll or press plus and minus to zoom, drag to select steps, "
                                  "double-click or Home to show all, L for a log scale",
                                  -1);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (controller, "enter", G_CALLBACK (motion_cb), self);
  g_signal_connect (controller, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES
                                                | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (controller, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_click_new ();
  g_signal_connect (gesture, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_drag_new ();
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (gesture, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

GtkWidget *
lam_loss_plot_new (void)
{
  return g_object_new (LAM_TYPE_LOSS_PLOT, NULL);
}
