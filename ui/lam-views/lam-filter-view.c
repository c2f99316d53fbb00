/* lam-filter-view.c: weights as tiles.
 *
 * set_weights copies the weights into a [units, C, H, W] view of them
 * and makes one small surface per tile; drawing only scales those.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>
#include <string.h>

#include "lam-filter-view.h"
#include "lam-view-common.h"

#define MAX_CHANNELS  32     /* grid columns */
#define MAX_TILE_PX   320.0

struct _LamFilterView {
  GtkWidget        parent_instance;

  LamFilterLayout  layout;
  float           *w;            /* [units, c, h, w] (matrix: [units, w], c = h = 1) */
  int              units, c, h, w_;
  int              shown_units, shown_channels;
  double           max_abs;       /* the colour scale */
  double           true_max;
  char            *title;
  char            *subtitle;
  gboolean         dense;
  GPtrArray       *tiles;        /* cairo_surface_t, row-major over shown units × channels */

  gboolean         gray;
  int              max_units;
};

G_DEFINE_FINAL_TYPE (LamFilterView, lam_filter_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_GRAY,
  PROP_MAX_UNITS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct {
  double em;
  double header;        /* height of the title block */
  double x, y;          /* top-left of the first tile */
  double tile_w, tile_h;
  double step_x, step_y;
  int    cols;          /* tiles per row (TILES, RGB) */
  int    units;         /* units drawn: a grid shows only the rows that fit */
  double label_h;       /* under each tile */
} Layout;

/* The largest whole multiple of the tile's pixels that fits s, or s
 * itself when even one pixel per weight does not fit. */
static double
snap (double s, int px)
{
  return s >= px ? floor (s / px) * px : MAX (s, 1);
}

static void
compute_layout (LamFilterView *self, int width, int height, Layout *l)
{
  double em = _lam_widget_em (GTK_WIDGET (self)), gap = round (em * 0.5);
  double avail_w, avail_h;
  int side = MAX (self->h, self->w_);

  memset (l, 0, sizeof *l);
  l->em = em;
  l->units = self->shown_units;
  l->header = ceil (em * 4.6);
  avail_w = width - 2 * em;
  avail_h = height - l->header - em;
  l->x = em;
  l->y = l->header;

  switch (self->layout)
    {
    case LAM_FILTER_LAYOUT_TILES:
    case LAM_FILTER_LAYOUT_RGB:
      {
        double best = 0;
        l->label_h = ceil (em * 1.4);
        for (int cols = 1; cols <= self->shown_units; cols++)
          {
            int rows = (self->shown_units + cols - 1) / cols;
            double s = MIN (avail_w / cols - gap, avail_h / rows - gap - l->label_h);
            s = snap (MIN (s, MAX_TILE_PX), side);
            if (s > best)
              best = s, l->cols = cols;
          }
        l->tile_w = best * self->w_ / side;
        l->tile_h = best * self->h / side;
        l->step_x = MAX (best, em * 2.5) + gap;
        l->step_y = best + gap + l->label_h;
        l->x = round (MAX (em, (width - (l->cols * l->step_x - gap)) / 2));
      }
      break;

    case LAM_FILTER_LAYOUT_GRID:
      {
        double left = ceil (em * 3.5), top = ceil (em * 1.6), s, g;
        s = MIN ((avail_w - left) / self->shown_channels, (avail_h - top) / self->shown_units);
        if (s < 3 * side + 2 && self->shown_units > 8)
          {
            /* rows of specks teach nothing: fewer rows, each weight 3 px at least */
            l->units = CLAMP ((int) ((avail_h - top) / (3 * side + 2)), 8, self->shown_units);
            s = MIN ((avail_w - left) / self->shown_channels, (avail_h - top) / l->units);
          }
        g = s > 12 ? MAX (2, round (s * 0.12)) : 1;
        s = snap (MIN (s - g, MAX_TILE_PX), side);
        l->cols = self->shown_channels;
        l->tile_w = s * self->w_ / side;
        l->tile_h = s * self->h / side;
        l->step_x = s + g;
        l->step_y = s + g;
        l->x = round (MAX (em + left, (width + left - (l->cols * l->step_x - g)) / 2));
        l->y += top;
      }
      break;

    case LAM_FILTER_LAYOUT_MATRIX:
      {
        double left = ceil (em * 3.5), top = ceil (em * 1.6);
        l->x += left;
        l->y += top;
        l->cols = 1;
        l->tile_w = MAX (avail_w - left, 1);
        l->tile_h = MAX (MIN (avail_h - top, self->shown_units * 24.0), 1);
        l->step_x = l->tile_w;
        l->step_y = l->tile_h;
      }
      break;

    case LAM_FILTER_LAYOUT_NONE:
    default:
      break;
    }
}

static gboolean
tile_rect (LamFilterView *self, const Layout *l, int unit, int channel, graphene_rect_t *r)
{
  int row, col;

  if (unit < 0 || unit >= l->units || channel < 0 || channel >= self->shown_channels)
    return FALSE;
  switch (self->layout)
    {
    case LAM_FILTER_LAYOUT_TILES:
    case LAM_FILTER_LAYOUT_RGB:
      row = unit / l->cols;
      col = unit % l->cols;
      break;
    case LAM_FILTER_LAYOUT_GRID:
      row = unit;
      col = channel;
      break;
    case LAM_FILTER_LAYOUT_MATRIX:
      if (unit > 0)
        return FALSE;
      row = col = 0;
      break;
    case LAM_FILTER_LAYOUT_NONE:
    default:
      return FALSE;
    }
  graphene_rect_init (r, l->x + col * l->step_x, l->y + row * l->step_y, l->tile_w, l->tile_h);
  return TRUE;
}

/* ── Data ────────────────────────────────────────────────────────────── */

static void
rebuild_tiles (LamFilterView *self)
{
  LamColormap cmap = self->gray ? LAM_CMAP_GRAY : LAM_CMAP_DIVERGING;
  gsize plane = (gsize) self->h * self->w_;

  g_ptr_array_set_size (self->tiles, 0);
  for (int u = 0; u < self->shown_units; u++)
    for (int ch = 0; ch < self->shown_channels; ch++)
      {
        const float *src = self->w + ((gsize) u * self->c + ch) * plane;
        cairo_surface_t *s;

        if (self->layout == LAM_FILTER_LAYOUT_RGB)
          s = _lam_rgb_planes_new (src, self->w_, self->h, self->max_abs);
        else if (self->layout == LAM_FILTER_LAYOUT_MATRIX)
          s = cmap == LAM_CMAP_GRAY
                ? _lam_heatmap_new (self->w, self->w_, self->shown_units, -self->max_abs,
                                    self->max_abs, cmap)
                : _lam_heatmap_new (self->w, self->w_, self->shown_units, 0, self->max_abs, cmap);
        else
          s = cmap == LAM_CMAP_GRAY
                ? _lam_heatmap_new (src, self->w_, self->h, -self->max_abs, self->max_abs, cmap)
                : _lam_heatmap_new (src, self->w_, self->h, 0, self->max_abs, cmap);
        g_ptr_array_add (self->tiles, s);
        if (self->layout == LAM_FILTER_LAYOUT_MATRIX)
          return;
      }
}

void
lam_filter_view_clear (LamFilterView *self)
{
  g_return_if_fail (LAM_IS_FILTER_VIEW (self));

  self->layout = LAM_FILTER_LAYOUT_NONE;
  g_clear_pointer (&self->w, g_free);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->subtitle, g_free);
  g_ptr_array_set_size (self->tiles, 0);
  self->units = self->c = self->h = self->w_ = 0;
  self->shown_units = self->shown_channels = 0;
  self->max_abs = self->true_max = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_filter_view_set_weights (LamFilterView *self, const float *w, int ndim, const int shape[4],
                             int in_c, int in_h, int in_w, const char *title)
{
  gsize n = 1;
  const char *kind;

  g_return_if_fail (LAM_IS_FILTER_VIEW (self));
  g_return_if_fail (w != NULL && shape != NULL);
  g_return_if_fail (ndim >= 1 && ndim <= 4);

  for (int i = 0; i < ndim; i++)
    {
      g_return_if_fail (shape[i] > 0);
      n *= shape[i];
    }

  lam_filter_view_clear (self);
  self->w = g_memdup2 (w, n * sizeof (float));
  self->title = g_strdup (title ? title : "");
  self->true_max = _lam_max_abs (w, n);
  /* one scale for the layer; a few large weights would wash the rest out */
  self->max_abs = _lam_robust_max_abs (w, n, 0.99);
  self->dense = ndim == 2;

  if (ndim == 4)
    {
      self->units = shape[0], self->c = shape[1], self->h = shape[2], self->w_ = shape[3];
      kind = "filter";
    }
  else if (ndim == 2 && in_c > 0 && in_h > 0 && in_w > 0 && (gsize) in_c * in_h * in_w == (gsize) shape[1]
           && in_h * in_w > 1)
    {
      self->units = shape[0], self->c = in_c, self->h = in_h, self->w_ = in_w;
      kind = "unit";
    }
  else
    {
      self->units = ndim == 2 ? shape[0] : 1;
      self->c = self->h = 1;
      self->w_ = (int) (n / self->units);
      self->layout = LAM_FILTER_LAYOUT_MATRIX;
      kind = "unit";
    }

  self->shown_units = MIN (self->units, self->max_units);
  if (self->layout == LAM_FILTER_LAYOUT_MATRIX)
    self->shown_channels = 1;
  else if (self->c == 1)
    self->layout = LAM_FILTER_LAYOUT_TILES, self->shown_channels = 1;
  else if (self->c == 3)
    self->layout = LAM_FILTER_LAYOUT_RGB, self->shown_channels = 1;
  else
    self->layout = LAM_FILTER_LAYOUT_GRID, self->shown_channels = MIN (self->c, MAX_CHANNELS);

  switch (self->layout)
    {
    case LAM_FILTER_LAYOUT_MATRIX:
      self->subtitle = g_strdup_printf ("%d %ss × %d inputs", self->units, kind, self->w_);
      break;
    case LAM_FILTER_LAYOUT_GRID:
      self->subtitle = g_strdup_printf ("%d %ss × %d input channels, %d×%d each", self->units,
                                        kind, self->c, self->h, self->w_);
      break;
    default:
      self->subtitle = g_strdup_printf ("%d %ss, %d×%d%s", self->units, kind, self->h, self->w_,
                                        self->layout == LAM_FILTER_LAYOUT_RGB ? " RGB" : "");
      break;
    }
  if (self->max_abs < self->true_max * 0.999)
    {
      /* the scale is the 99% quantile: name the largest weight too */
      char *text = g_strdup_printf ("%s · largest |w| %.3g", self->subtitle, self->true_max);
      g_free (self->subtitle);
      self->subtitle = text;
    }

  rebuild_tiles (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  self->subtitle, -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

LamFilterLayout
lam_filter_view_get_layout (LamFilterView *self)
{
  g_return_val_if_fail (LAM_IS_FILTER_VIEW (self), LAM_FILTER_LAYOUT_NONE);
  return self->layout;
}

double
lam_filter_view_get_scale (LamFilterView *self)
{
  g_return_val_if_fail (LAM_IS_FILTER_VIEW (self), 0);
  return self->max_abs;
}

void
lam_filter_view_get_shown (LamFilterView *self, int *units, int *channels)
{
  Layout l;

  g_return_if_fail (LAM_IS_FILTER_VIEW (self));
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), &l);
  if (units)
    *units = self->layout == LAM_FILTER_LAYOUT_NONE ? 0 : l.units;
  if (channels)
    *channels = self->shown_channels;
}

gboolean
lam_filter_view_get_tile_rect (LamFilterView *self, int unit, int channel, graphene_rect_t *rect)
{
  Layout l;

  g_return_val_if_fail (LAM_IS_FILTER_VIEW (self), FALSE);
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), &l);
  return tile_rect (self, &l, unit, channel, rect);
}

gboolean
lam_filter_view_get_gray (LamFilterView *self)
{
  g_return_val_if_fail (LAM_IS_FILTER_VIEW (self), FALSE);
  return self->gray;
}

void
lam_filter_view_set_gray (LamFilterView *self, gboolean gray)
{
  g_return_if_fail (LAM_IS_FILTER_VIEW (self));

  gray = !!gray;
  if (self->gray == gray)
    return;
  self->gray = gray;
  rebuild_tiles (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GRAY]);
}

int
lam_filter_view_get_max_units (LamFilterView *self)
{
  g_return_val_if_fail (LAM_IS_FILTER_VIEW (self), 0);
  return self->max_units;
}

void
lam_filter_view_set_max_units (LamFilterView *self, int max_units)
{
  g_return_if_fail (LAM_IS_FILTER_VIEW (self));
  g_return_if_fail (max_units > 0);

  if (self->max_units == max_units)
    return;
  self->max_units = max_units;
  if (self->w)
    {
      self->shown_units = MIN (self->units, max_units);
      rebuild_tiles (self);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_UNITS]);
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

static void
draw_header (LamFilterView *self, LamViewStyle *st, const Layout *l, int width)
{
  char lo[32], hi[32];
  double em = l->em, bar_w = MIN (em * 13, width * 0.3);
  g_autofree char *subtitle = NULL;

  if (l->units < self->units || self->shown_channels < self->c)
    subtitle = g_strdup_printf ("%s — showing %d of %d%s", self->subtitle, l->units, self->units,
                                self->shown_channels < self->c ? ", first channels" : "");
  _lam_text (st, self->title, em, em * 0.6, 0, 0, 1.3, PANGO_WEIGHT_BOLD, NULL, 1,
             width - bar_w - em * 8);
  _lam_text (st, subtitle ? subtitle : self->subtitle, em, em * 2.6, 0, 0, 1.0,
             PANGO_WEIGHT_NORMAL, NULL, 0.75, width - bar_w - em * 8);

  g_snprintf (lo, sizeof lo, "−%.3g", self->max_abs);
  g_snprintf (hi, sizeof hi, "+%.3g", self->max_abs);
  if (self->layout == LAM_FILTER_LAYOUT_RGB)
    {
      _lam_text (st, "colour: the weights of R, G, B", width - em, em * 0.9, 1, 0, 0.9,
                 PANGO_WEIGHT_NORMAL, NULL, 0.8, 0);
      g_snprintf (lo, sizeof lo, "gray = 0, full colour = ±%.3g", self->max_abs);
      _lam_text (st, lo, width - em, em * 2.3, 1, 0, 0.9, PANGO_WEIGHT_NORMAL, NULL, 0.8, 0);
      return;
    }
  _lam_draw_colorbar (st, self->gray ? LAM_CMAP_GRAY : LAM_CMAP_DIVERGING, width - em - bar_w,
                      em * 1.2, bar_w, round (em * 0.9), lo, "0", hi, "weight");
}

static void
draw_tiles (LamFilterView *self, LamViewStyle *st, const Layout *l)
{
  cairo_t *cr = st->cr;
  int units = self->layout == LAM_FILTER_LAYOUT_MATRIX ? 1 : l->units;
  char buf[32];

  for (int u = 0; u < units; u++)
    for (int ch = 0; ch < self->shown_channels; ch++)
      {
        graphene_rect_t r;
        cairo_surface_t *s = g_ptr_array_index (self->tiles, u * self->shown_channels + ch);

        tile_rect (self, l, u, ch, &r);
        _lam_paint_surface (cr, s, r.origin.x, r.origin.y, r.size.width, r.size.height,
                            CAIRO_FILTER_NEAREST);
        if (r.size.width >= 6)
          {
            cairo_rectangle (cr, r.origin.x - 0.5, r.origin.y - 0.5, r.size.width + 1,
                             r.size.height + 1);
            _lam_style_fg (st, 0.3);
            cairo_set_line_width (cr, 1);
            cairo_stroke (cr);
          }
        if (self->layout == LAM_FILTER_LAYOUT_TILES || self->layout == LAM_FILTER_LAYOUT_RGB)
          {
            g_snprintf (buf, sizeof buf, "%d", u);
            _lam_text (st, buf, r.origin.x + r.size.width / 2, r.origin.y + r.size.height + 2, 0.5,
                       0, 0.9, PANGO_WEIGHT_NORMAL, NULL, 0.75, 0);
          }
      }

  if (self->layout == LAM_FILTER_LAYOUT_GRID)
    {
      graphene_rect_t r;
      int every_row = l->step_y >= l->em * 1.1 ? 1 : (int) ceil (l->em * 1.1 / l->step_y);
      int every_col = l->step_x >= l->em * 2.2 ? 1 : (int) ceil (l->em * 2.2 / l->step_x);

      for (int u = 0; u < l->units; u += every_row)
        {
          tile_rect (self, l, u, 0, &r);
          g_snprintf (buf, sizeof buf, "%d", u);
          _lam_text (st, buf, r.origin.x - 6, r.origin.y + r.size.height / 2, 1, 0.5, 0.85,
                     PANGO_WEIGHT_NORMAL, NULL, 0.75, 0);
        }
      for (int ch = 0; ch < self->shown_channels; ch += every_col)
        {
          tile_rect (self, l, 0, ch, &r);
          g_snprintf (buf, sizeof buf, "%d", ch);
          _lam_text (st, buf, r.origin.x + r.size.width / 2, r.origin.y - 3, 0.5, 1, 0.85,
                     PANGO_WEIGHT_NORMAL, NULL, 0.75, 0);
        }
      tile_rect (self, l, 0, 0, &r);
      _lam_text (st, "input channel →", r.origin.x,
                 r.origin.y - l->em * 1.5, 0, 1, 0.85, PANGO_WEIGHT_BOLD, NULL, 0.7, 0);
      _lam_text (st, self->dense ? "unit ↓" : "filter ↓", r.origin.x - 6, r.origin.y - l->em * 1.5,
                 1, 1, 0.85, PANGO_WEIGHT_BOLD, NULL, 0.7, 0);
    }
  else if (self->layout == LAM_FILTER_LAYOUT_MATRIX)
    {
      _lam_text (st, "inputs →", l->x, l->y - 3, 0, 1, 0.85, PANGO_WEIGHT_BOLD, NULL, 0.7, 0);
      _lam_text (st, "units ↓", l->x - 6, l->y, 1, 0, 0.85, PANGO_WEIGHT_BOLD, NULL, 0.7, 0);
    }
}

static void
lam_filter_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamFilterView *self = LAM_FILTER_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  LamViewStyle st;
  cairo_t *cr;
  Layout l;

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  _lam_style_begin (&st, widget, cr);
  if (self->layout == LAM_FILTER_LAYOUT_NONE)
    _lam_text (&st, "No weights to show", w / 2.0, h / 2.0, 0.5, 0.5, 1.2, PANGO_WEIGHT_NORMAL,
               NULL, 0.55, 0);
  else
    {
      compute_layout (self, w, h, &l);
      draw_header (self, &st, &l, w);
      draw_tiles (self, &st, &l);
    }
  _lam_style_end (&st);
  cairo_destroy (cr);
}

static void
lam_filter_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                         int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = 200;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 800 : 600;
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer data)
{
  LamFilterView *self = LAM_FILTER_VIEW (widget);
  Layout l;

  if (self->layout == LAM_FILTER_LAYOUT_NONE || self->layout == LAM_FILTER_LAYOUT_MATRIX)
    return FALSE;
  compute_layout (self, gtk_widget_get_width (widget), gtk_widget_get_height (widget), &l);
  for (int u = 0; u < l.units; u++)
    for (int ch = 0; ch < self->shown_channels; ch++)
      {
        graphene_rect_t r;
        gsize plane = (gsize) self->h * self->w_;
        const float *v;
        g_autofree char *text = NULL;
        float lo, hi;

        tile_rect (self, &l, u, ch, &r);
        if (!graphene_rect_contains_point (&r, &GRAPHENE_POINT_INIT (x, y)))
          continue;
        v = self->w + ((gsize) u * self->c + ch) * plane;
        _lam_float_range (v, plane * (self->layout == LAM_FILTER_LAYOUT_RGB ? 3 : 1), &lo, &hi);
        if (self->layout == LAM_FILTER_LAYOUT_GRID)
          text = g_strdup_printf ("%s %d, input channel %d\nweights %.3g to %.3g",
                                  self->dense ? "unit" : "filter", u, ch, lo, hi);
        else
          text = g_strdup_printf ("%s %d\nweights %.3g to %.3g", self->dense ? "unit" : "filter",
                                  u, lo, hi);
        gtk_tooltip_set_text (tooltip, text);
        return TRUE;
      }
  return FALSE;
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_filter_view_finalize (GObject *object)
{
  LamFilterView *self = LAM_FILTER_VIEW (object);

  g_free (self->w);
  g_free (self->title);
  g_free (self->subtitle);
  g_ptr_array_unref (self->tiles);

  G_OBJECT_CLASS (lam_filter_view_parent_class)->finalize (object);
}

static void
lam_filter_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamFilterView *self = LAM_FILTER_VIEW (object);

  switch (prop_id)
    {
    case PROP_GRAY:
      g_value_set_boolean (value, self->gray);
      break;
    case PROP_MAX_UNITS:
      g_value_set_int (value, self->max_units);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_filter_view_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  LamFilterView *self = LAM_FILTER_VIEW (object);

  switch (prop_id)
    {
    case PROP_GRAY:
      lam_filter_view_set_gray (self, g_value_get_boolean (value));
      break;
    case PROP_MAX_UNITS:
      lam_filter_view_set_max_units (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_filter_view_class_init (LamFilterViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lam_filter_view_finalize;
  object_class->get_property = lam_filter_view_get_property;
  object_class->set_property = lam_filter_view_set_property;
  widget_class->snapshot = lam_filter_view_snapshot;
  widget_class->measure = lam_filter_view_measure;

  properties[PROP_GRAY] =
    g_param_spec_boolean ("gray", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_UNITS] =
    g_param_spec_int ("max-units", NULL, NULL, 1, 4096, 64,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "filterview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lam_filter_view_init (LamFilterView *self)
{
  self->tiles = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);
  self->max_units = 64;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Learned weights", -1);
}

GtkWidget *
lam_filter_view_new (void)
{
  return g_object_new (LAM_TYPE_FILTER_VIEW, NULL);
}
