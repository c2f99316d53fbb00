/* lam-boundary-view.c: decision field, boundary, points and unit maps.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>
#include <string.h>

#include "lam-boundary-view.h"
#include "lam-view-common.h"

struct _LamBoundaryView {
  GtkWidget        parent_instance;

  float           *xy;
  guint8          *labels;
  int              n_points;
  int              n_classes;
  char           **class_names;
  char            *title;

  float           *probs;           /* grid² × field_classes */
  int              grid, field_classes;
  double           xmin, xmax, ymin, ymax;
  gboolean         have_bounds;
  cairo_surface_t *field;
  gboolean         field_dark;      /* the theme the surface was made for */

  GPtrArray       *units;           /* cairo_surface_t */
  int              n_units;
  char            *layer_name;
  int              max_units;
};

G_DEFINE_FINAL_TYPE (LamBoundaryView, lam_boundary_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_MAX_UNITS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ── Layout ──────────────────────────────────────────────────────────── */

typedef struct {
  double em;
  double fx, fy, fs;         /* the field square */
  double ux, uy, uw, uh;     /* the unit area */
  double tile, step_x, step_y;
  int    cols;
} Layout;

static void
compute_layout (LamBoundaryView *self, int width, int height, Layout *l)
{
  double top, left, bottom, right_w;
  int shown = MIN (self->n_units, self->max_units);

  l->em = _lam_widget_em (GTK_WIDGET (self));
  top = ceil (l->em * 3.4);
  left = ceil (l->em * 3);
  bottom = ceil (l->em * 2.4);
  right_w = shown > 0 ? MAX (width * 0.42, l->em * 12) : 0;
  l->fs = floor (MAX (MIN (height - top - bottom, width - left - right_w - l->em * 2), 40));
  l->fx = left;
  l->fy = top;

  l->ux = l->fx + l->fs + l->em * 2;
  l->uy = top + l->em * 2.8;
  l->uw = MAX (width - l->ux - l->em, 1);
  l->uh = MAX (l->fy + l->fs - l->uy, 1);
  l->tile = 0;
  l->cols = 1;
  for (int cols = 1; cols <= shown; cols++)
    {
      int rows = (shown + cols - 1) / cols;
      double s = floor (MIN (l->uw / cols - l->em * 0.5, l->uh / rows - l->em * 1.6));
      if (s > l->tile)
        l->tile = s, l->cols = cols;
    }
  l->step_x = l->tile + l->em * 0.5;
  l->step_y = l->tile + l->em * 1.6;
}

static inline double
to_wx (LamBoundaryView *self, const Layout *l, double x)
{
  return l->fx + (x - self->xmin) / (self->xmax - self->xmin) * l->fs;
}

static inline double
to_wy (LamBoundaryView *self, const Layout *l, double y)
{
  return l->fy + l->fs - (y - self->ymin) / (self->ymax - self->ymin) * l->fs;
}

/* ── Data ────────────────────────────────────────────────────────────── */

static void
bounds_from_points (LamBoundaryView *self)
{
  float xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  double mx, my;

  if (self->have_bounds || self->n_points == 0)
    return;
  for (int i = 0; i < self->n_points; i++)
    {
      xlo = MIN (xlo, self->xy[2 * i]);
      xhi = MAX (xhi, self->xy[2 * i]);
      ylo = MIN (ylo, self->xy[2 * i + 1]);
      yhi = MAX (yhi, self->xy[2 * i + 1]);
    }
  mx = MAX ((xhi - xlo) * 0.1, 1e-3);
  my = MAX ((yhi - ylo) * 0.1, 1e-3);
  self->xmin = xlo - mx, self->xmax = xhi + mx;
  self->ymin = ylo - my, self->ymax = yhi + my;
}

static void
rebuild_field (LamBoundaryView *self, const LamViewStyle *st)
{
  int G = self->grid, K = self->field_classes;
  LamRgb bg = { st->bg.red, st->bg.green, st->bg.blue }, colors[64];
  cairo_surface_t *s;
  guint8 *data;
  int stride;

  g_clear_pointer (&self->field, cairo_surface_destroy);
  if (self->probs == NULL)
    return;
  for (int k = 0; k < MIN (K, 64); k++)
    _lam_class_color (k, st->dark, &colors[k]);
  s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, G, G);
  data = cairo_image_surface_get_data (s);
  stride = cairo_image_surface_get_stride (s);
  cairo_surface_flush (s);
  for (int j = 0; j < G; j++)
    {
      /* row j is y from ymin: the bottom of the picture */
      guint32 *row = (guint32 *) (data + (gsize) (G - 1 - j) * stride);
      for (int i = 0; i < G; i++)
        {
          const float *p = self->probs + ((gsize) j * G + i) * K;
          LamRgb c = { 0, 0, 0 }, out;
          double best = 0, sum = 0, conf;

          for (int k = 0; k < K; k++)
            {
              double v = isfinite (p[k]) ? MAX (p[k], 0) : 0;
              c.r += v * colors[k % 64].r;
              c.g += v * colors[k % 64].g;
              c.b += v * colors[k % 64].b;
              sum += v;
              best = MAX (best, v);
            }
          if (sum > 0)
            c.r /= sum, c.g /= sum, c.b /= sum, best /= sum;
          conf = K > 1 ? CLAMP ((best - 1.0 / K) / (1 - 1.0 / K), 0, 1) : 1;
          _lam_rgb_mix (&bg, &c, sum > 0 ? 0.18 + 0.42 * conf : 0, &out);
          row[i] = 0xff000000u | ((guint32) lround (out.r * 255) << 16)
                   | ((guint32) lround (out.g * 255) << 8) | (guint32) lround (out.b * 255);
        }
    }
  cairo_surface_mark_dirty (s);
  self->field = s;
  self->field_dark = st->dark;
}

void
lam_boundary_view_clear (LamBoundaryView *self)
{
  g_return_if_fail (LAM_IS_BOUNDARY_VIEW (self));

  g_clear_pointer (&self->xy, g_free);
  g_clear_pointer (&self->labels, g_free);
  g_clear_pointer (&self->probs, g_free);
  g_clear_pointer (&self->field, cairo_surface_destroy);
  g_clear_pointer (&self->layer_name, g_free);
  g_ptr_array_set_size (self->units, 0);
  self->n_points = self->n_units = self->grid = 0;
  self->have_bounds = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_boundary_view_set_points (LamBoundaryView *self, const float *xy, const guint8 *labels, int n,
                              int n_classes)
{
  g_return_if_fail (LAM_IS_BOUNDARY_VIEW (self));
  g_return_if_fail (n >= 0 && (n == 0 || (xy != NULL && labels != NULL)));

  g_free (self->xy);
  g_free (self->labels);
  self->xy = g_memdup2 (xy, sizeof (float) * 2 * MAX (n, 1));
  self->labels = g_memdup2 (labels, MAX (n, 1));
  self->n_points = n;
  self->n_classes = n_classes;
  bounds_from_points (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_boundary_view_set_field (LamBoundaryView *self, const float *probs, int grid, int n_classes,
                             float xmin, float xmax, float ymin, float ymax)
{
  g_return_if_fail (LAM_IS_BOUNDARY_VIEW (self));
  g_return_if_fail (probs != NULL && grid > 1 && n_classes > 0);
  g_return_if_fail (xmax > xmin && ymax > ymin);

  g_free (self->probs);
  self->probs = g_memdup2 (probs, sizeof (float) * (gsize) grid * grid * n_classes);
  self->grid = grid;
  self->field_classes = n_classes;
  self->xmin = xmin, self->xmax = xmax, self->ymin = ymin, self->ymax = ymax;
  self->have_bounds = TRUE;
  g_clear_pointer (&self->field, cairo_surface_destroy);   /* made in the next draw */
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_boundary_view_set_units (LamBoundaryView *self, const float *unit_values, int n_units,
                             int grid, const char *layer_name)
{
  gsize plane = (gsize) grid * grid;

  g_return_if_fail (LAM_IS_BOUNDARY_VIEW (self));
  g_return_if_fail (n_units >= 0 && (n_units == 0 || (unit_values != NULL && grid > 0)));

  g_ptr_array_set_size (self->units, 0);
  self->n_units = n_units;
  g_free (self->layer_name);
  self->layer_name = g_strdup (layer_name);
  for (int u = 0; u < MIN (n_units, self->max_units); u++)
    {
      const float *v = unit_values + u * plane;
      g_autofree float *flipped = g_new (float, plane);
      float lo, hi;

      /* row 0 is ymin: flip so it lands at the bottom */
      for (int j = 0; j < grid; j++)
        memcpy (flipped + (gsize) (grid - 1 - j) * grid, v + (gsize) j * grid, grid * sizeof (float));
      if (!_lam_float_range (v, plane, &lo, &hi))
        lo = hi = 0;
      g_ptr_array_add (self->units, lo < 0
                                      ? _lam_heatmap_new (flipped, grid, grid, 0,
                                                          MAX (-lo, hi), LAM_CMAP_DIVERGING)
                                      : _lam_heatmap_new (flipped, grid, grid, 0, MAX (hi, 1e-12),
                                                          LAM_CMAP_SEQUENTIAL));
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_boundary_view_set_class_names (LamBoundaryView *self, const char *const *class_names)
{
  g_return_if_fail (LAM_IS_BOUNDARY_VIEW (self));

  g_strfreev (self->class_names);
  self->class_names = class_names ? g_strdupv ((char **) class_names) : NULL;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_boundary_view_set_title (LamBoundaryView *self, const char *title)
{
  g_return_if_fail (LAM_IS_BOUNDARY_VIEW (self));

  g_free (self->title);
  self->title = g_strdup (title);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
lam_boundary_view_get_max_units (LamBoundaryView *self)
{
  g_return_val_if_fail (LAM_IS_BOUNDARY_VIEW (self), 0);
  return self->max_units;
}

void
lam_boundary_view_set_max_units (LamBoundaryView *self, int max_units)
{
  g_return_if_fail (LAM_IS_BOUNDARY_VIEW (self));
  g_return_if_fail (max_units > 0);

  if (self->max_units == max_units)
    return;
  /* applies to the next set_units */
  self->max_units = max_units;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_UNITS]);
}

gboolean
lam_boundary_view_data_to_widget (LamBoundaryView *self, double x, double y, double *wx, double *wy)
{
  Layout l;

  g_return_val_if_fail (LAM_IS_BOUNDARY_VIEW (self), FALSE);

  if (!self->have_bounds && self->n_points == 0)
    return FALSE;
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), &l);
  *wx = to_wx (self, &l, x);
  *wy = to_wy (self, &l, y);
  return TRUE;
}

gboolean
lam_boundary_view_get_unit_rect (LamBoundaryView *self, int unit, graphene_rect_t *rect)
{
  Layout l;

  g_return_val_if_fail (LAM_IS_BOUNDARY_VIEW (self), FALSE);

  if (unit < 0 || unit >= (int) self->units->len)
    return FALSE;
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), &l);
  graphene_rect_init (rect, l.ux + (unit % l.cols) * l.step_x, l.uy + (unit / l.cols) * l.step_y,
                      l.tile, l.tile);
  return TRUE;
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

/* Marching squares over the cell centres for f = p_k - max_{j≠k} p_j = 0. */
static double
margin_at (LamBoundaryView *self, int i, int j, int k)
{
  const float *p = self->probs + ((gsize) j * self->grid + i) * self->field_classes;
  double other = -INFINITY;

  for (int m = 0; m < self->field_classes; m++)
    if (m != k)
      other = MAX (other, p[m]);
  return p[k] - other;
}

static void
trace_boundary (LamBoundaryView *self, cairo_t *cr, const Layout *l, int k)
{
  int G = self->grid;
  double dx = (self->xmax - self->xmin) / G, dy = (self->ymax - self->ymin) / G;
  g_autofree double *f = g_new (double, (gsize) G * G);

  for (int j = 0; j < G; j++)
    for (int i = 0; i < G; i++)
      f[j * G + i] = margin_at (self, i, j, k);

  for (int j = 0; j + 1 < G; j++)
    for (int i = 0; i + 1 < G; i++)
      {
        /* corners counter-clockwise from (i, j); edge e joins corner e and e+1 */
        static const int ci[4] = { 0, 1, 1, 0 }, cj[4] = { 0, 0, 1, 1 };
        double v[4], px[4], py[4];
        int n = 0;

        for (int c = 0; c < 4; c++)
          v[c] = f[(j + cj[c]) * G + i + ci[c]];
        for (int e = 0; e < 4; e++)
          {
            int a = e, b = (e + 1) % 4;
            double t;
            if ((v[a] > 0) == (v[b] > 0))
              continue;
            t = v[a] / (v[a] - v[b]);
            px[n] = to_wx (self, l, self->xmin + (i + ci[a] + t * (ci[b] - ci[a]) + 0.5) * dx);
            py[n] = to_wy (self, l, self->ymin + (j + cj[a] + t * (cj[b] - cj[a]) + 0.5) * dy);
            n++;
          }
        if (n == 2)
          {
            cairo_move_to (cr, px[0], py[0]);
            cairo_line_to (cr, px[1], py[1]);
          }
        else if (n == 4)
          {
            /* a saddle: the centre decides which corners connect */
            gboolean centre = (v[0] + v[1] + v[2] + v[3]) / 4 > 0;
            int first = centre == (v[0] > 0) ? 0 : 1;
            cairo_move_to (cr, px[first], py[first]);
            cairo_line_to (cr, px[(first + 1) % 4], py[(first + 1) % 4]);
            cairo_move_to (cr, px[(first + 2) % 4], py[(first + 2) % 4]);
            cairo_line_to (cr, px[(first + 3) % 4], py[(first + 3) % 4]);
          }
      }
}

static const char *
class_label (LamBoundaryView *self, int k, char *buf, gsize len)
{
  if (self->class_names && k < (int) g_strv_length (self->class_names))
    return self->class_names[k];
  g_snprintf (buf, len, "class %d", k);
  return buf;
}

static void
draw_field (LamBoundaryView *self, LamViewStyle *st, const Layout *l)
{
  cairo_t *cr = st->cr;
  double ticks[32], step;
  char buf[32];
  int n;

  cairo_save (cr);
  cairo_rectangle (cr, l->fx, l->fy, l->fs, l->fs);
  cairo_clip (cr);
  if (self->probs && (self->field == NULL || self->field_dark != st->dark))
    rebuild_field (self, st);
  if (self->field)
    {
      /* the surface's pixels are the cells: bilinear between their centres */
      _lam_paint_surface (cr, self->field, l->fx, l->fy, l->fs, l->fs, CAIRO_FILTER_BILINEAR);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      for (int k = 0; k < (self->field_classes == 2 ? 1 : self->field_classes); k++)
        trace_boundary (self, cr, l, k);
      _lam_style_fg (st, 0.85);
      cairo_set_line_width (cr, MAX (2, l->em / 6));
      cairo_stroke (cr);
    }
  else
    {
      cairo_rectangle (cr, l->fx, l->fy, l->fs, l->fs);
      _lam_style_fg (st, 0.04);
      cairo_fill (cr);
    }

  /* points: class colour with a ring in the background colour. Each
   * class's dot is drawn once into a sprite and copied to every point at
   * whole pixels: 900 cairo arcs cost ~10 ms, 900 sprite copies ~1 ms. */
  if (self->n_points > 0)
    {
      double r = CLAMP (round (l->fs / 130), 3, 7);
      int size = (int) ceil (2 * r + 3), K = MAX (self->n_classes, 1);
      g_autofree cairo_surface_t **sprites = g_new0 (cairo_surface_t *, K);

      for (int k = 0; k < K; k++)
        {
          cairo_t *sc;
          LamRgb c;

          sprites[k] = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, size, size);
          sc = cairo_create (sprites[k]);
          cairo_arc (sc, size / 2.0, size / 2.0, r, 0, 2 * G_PI);
          _lam_class_color (k, st->dark, &c);
          cairo_set_source_rgb (sc, c.r, c.g, c.b);
          cairo_fill_preserve (sc);
          cairo_set_source_rgba (sc, st->bg.red, st->bg.green, st->bg.blue, 0.9);
          cairo_set_line_width (sc, 1.2);
          cairo_stroke (sc);
          cairo_destroy (sc);
        }
      for (int i = 0; i < self->n_points; i++)
        {
          int k = MIN (self->labels[i], K - 1);
          double x = round (to_wx (self, l, self->xy[2 * i])) - size / 2;
          double y = round (to_wy (self, l, self->xy[2 * i + 1])) - size / 2;
          cairo_set_source_surface (cr, sprites[k], x, y);
          cairo_rectangle (cr, x, y, size, size);
          cairo_fill (cr);
        }
      for (int k = 0; k < K; k++)
        cairo_surface_destroy (sprites[k]);
    }
  cairo_restore (cr);

  _lam_style_fg (st, 0.4);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, l->fx - 0.5, l->fy - 0.5, l->fs + 1, l->fs + 1);
  cairo_stroke (cr);

  if (!self->have_bounds && self->n_points == 0)
    return;
  n = _lam_nice_ticks (self->xmin, self->xmax, MAX (2, (int) (l->fs / (l->em * 5))), ticks, &step);
  for (int i = 0; i < n; i++)
    {
      _lam_format_value (ticks[i], step, buf, sizeof buf);
      _lam_text (st, buf, to_wx (self, l, ticks[i]), l->fy + l->fs + 4, 0.5, 0, 0.85,
                 PANGO_WEIGHT_NORMAL, NULL, 0.75, 0);
    }
  n = _lam_nice_ticks (self->ymin, self->ymax, MAX (2, (int) (l->fs / (l->em * 3))), ticks, &step);
  for (int i = 0; i < n; i++)
    {
      _lam_format_value (ticks[i], step, buf, sizeof buf);
      _lam_text (st, buf, l->fx - 6, to_wy (self, l, ticks[i]), 1, 0.5, 0.85, PANGO_WEIGHT_NORMAL,
                 NULL, 0.75, 0);
    }
}

static void
draw_header (LamBoundaryView *self, LamViewStyle *st, const Layout *l, int width)
{
  double x;
  int K = MAX (self->n_classes, self->field_classes);
  char buf[32];

  x = l->fx + _lam_text (st, self->title ? self->title : "Decision boundary", l->fx, l->em * 0.6,
                         0, 0, 1.3, PANGO_WEIGHT_BOLD, NULL, 1, 0);
  x += l->em * 1.5;
  for (int k = 0; k < K; k++)
    {
      LamRgb c;
      _lam_class_color (k, st->dark, &c);
      cairo_arc (st->cr, x + l->em * 0.45, l->em * 1.45, l->em * 0.45, 0, 2 * G_PI);
      _lam_style_rgb (st, &c, 1);
      cairo_fill (st->cr);
      x += l->em * 1.2;
      x += _lam_text (st, class_label (self, k, buf, sizeof buf), x, l->em * 1.45, 0, 0.5, 1.0,
                      PANGO_WEIGHT_NORMAL, NULL, 0.9, 0);
      x += l->em * 1.2;
    }
}

static void
draw_units (LamBoundaryView *self, LamViewStyle *st, const Layout *l)
{
  g_autofree char *head = NULL;
  char buf[32];

  if (self->units->len == 0)
    return;
  head = g_strdup_printf ("Hidden units of %s%s", self->layer_name ? self->layer_name : "the first layer",
                          self->n_units > (int) self->units->len ? " (first ones)" : "");
  _lam_text (st, head, l->ux, l->fy, 0, 0, 1.1, PANGO_WEIGHT_BOLD, NULL, 0.95, l->uw);
  _lam_text (st, "each neuron's output over the same plane", l->ux, l->fy + l->em * 1.2, 0, 0, 0.85,
             PANGO_WEIGHT_NORMAL, NULL, 0.65, l->uw);

  for (guint u = 0; u < self->units->len; u++)
    {
      graphene_rect_t r = GRAPHENE_RECT_INIT (l->ux + (u % l->cols) * l->step_x,
                                              l->uy + (u / l->cols) * l->step_y, l->tile, l->tile);
      _lam_paint_surface (st->cr, g_ptr_array_index (self->units, u), r.origin.x, r.origin.y,
                          l->tile, l->tile, CAIRO_FILTER_BILINEAR);
      _lam_style_fg (st, 0.3);
      cairo_set_line_width (st->cr, 1);
      cairo_rectangle (st->cr, r.origin.x - 0.5, r.origin.y - 0.5, l->tile + 1, l->tile + 1);
      cairo_stroke (st->cr);
      g_snprintf (buf, sizeof buf, "%u", u);
      _lam_text (st, buf, r.origin.x + l->tile / 2, r.origin.y + l->tile + 2, 0.5, 0, 0.8,
                 PANGO_WEIGHT_NORMAL, NULL, 0.7, 0);
    }
}

static void
lam_boundary_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamBoundaryView *self = LAM_BOUNDARY_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  LamViewStyle st;
  cairo_t *cr;
  Layout l;

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  _lam_style_begin (&st, widget, cr);
  compute_layout (self, w, h, &l);
  draw_header (self, &st, &l, w);
  draw_field (self, &st, &l);
  draw_units (self, &st, &l);
  _lam_style_end (&st);
  cairo_destroy (cr);
}

static void
lam_boundary_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                           int *minimum, int *natural, int *minimum_baseline,
                           int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 300 : 240;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 1000 : 600;
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_boundary_view_finalize (GObject *object)
{
  LamBoundaryView *self = LAM_BOUNDARY_VIEW (object);

  g_free (self->xy);
  g_free (self->labels);
  g_strfreev (self->class_names);
  g_free (self->title);
  g_free (self->probs);
  g_clear_pointer (&self->field, cairo_surface_destroy);
  g_ptr_array_unref (self->units);
  g_free (self->layer_name);
  G_OBJECT_CLASS (lam_boundary_view_parent_class)->finalize (object);
}

static void
lam_boundary_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamBoundaryView *self = LAM_BOUNDARY_VIEW (object);

  switch (prop_id)
    {
    case PROP_MAX_UNITS:
      g_value_set_int (value, self->max_units);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_boundary_view_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  LamBoundaryView *self = LAM_BOUNDARY_VIEW (object);

  switch (prop_id)
    {
    case PROP_MAX_UNITS:
      lam_boundary_view_set_max_units (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_boundary_view_class_init (LamBoundaryViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lam_boundary_view_finalize;
  object_class->get_property = lam_boundary_view_get_property;
  object_class->set_property = lam_boundary_view_set_property;
  widget_class->snapshot = lam_boundary_view_snapshot;
  widget_class->measure = lam_boundary_view_measure;

  properties[PROP_MAX_UNITS] =
    g_param_spec_int ("max-units", NULL, NULL, 1, 1024, 32,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "boundaryview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lam_boundary_view_init (LamBoundaryView *self)
{
  self->units = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);
  self->max_units = 32;
  self->xmin = self->ymin = -1;
  self->xmax = self->ymax = 1;
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Decision boundary and hidden units", -1);
}

GtkWidget *
lam_boundary_view_new (void)
{
  return g_object_new (LAM_TYPE_BOUNDARY_VIEW, NULL);
}
