/* lam-view-common.c: colour maps, text, heatmaps, ticks and scrolling
 * shared by the views.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>

#include "lam-view-common.h"

/* ── Colour maps ─────────────────────────────────────────────────────── */

/* ColorBrewer RdBu with a pure white centre, blue for negative. */
static const guint8 diverging_stops[][3] = {
  { 0x21, 0x66, 0xac }, { 0x67, 0xa9, 0xcf }, { 0xd1, 0xe5, 0xf0 }, { 0xff, 0xff, 0xff },
  { 0xfd, 0xdb, 0xc7 }, { 0xef, 0x8a, 0x62 }, { 0xb2, 0x18, 0x2b },
};

/* viridis: perceptually even, readable in gray and by most colour-blind viewers */
static const guint8 viridis_stops[][3] = {
  { 0x44, 0x01, 0x54 }, { 0x48, 0x28, 0x78 }, { 0x3e, 0x49, 0x89 }, { 0x31, 0x68, 0x8e },
  { 0x26, 0x82, 0x8e }, { 0x1f, 0x9e, 0x89 }, { 0x35, 0xb7, 0x79 }, { 0x6e, 0xce, 0x58 },
  { 0xb5, 0xde, 0x2b }, { 0xfd, 0xe7, 0x25 },
};

static void
interpolate (const guint8 (*stops)[3], int n, double t, LamRgb *c)
{
  double f;
  int i;

  if (!(t > 0.0))
    t = 0.0;
  if (t > 1.0)
    t = 1.0;
  f = t * (n - 1);
  i = MIN ((int) f, n - 2);
  f -= i;
  c->r = (stops[i][0] + f * (stops[i + 1][0] - stops[i][0])) / 255.0;
  c->g = (stops[i][1] + f * (stops[i + 1][1] - stops[i][1])) / 255.0;
  c->b = (stops[i][2] + f * (stops[i + 1][2] - stops[i][2])) / 255.0;
}

void
_lam_cmap (LamColormap cmap, double t, LamRgb *c)
{
  switch (cmap)
    {
    case LAM_CMAP_DIVERGING:
      interpolate (diverging_stops, G_N_ELEMENTS (diverging_stops), (t + 1.0) / 2.0, c);
      break;
    case LAM_CMAP_SEQUENTIAL:
      interpolate (viridis_stops, G_N_ELEMENTS (viridis_stops), t, c);
      break;
    case LAM_CMAP_GRAY:
    default:
      c->r = c->g = c->b = CLAMP (isnan (t) ? 0.0 : t, 0.0, 1.0);
      break;
    }
}

/* GNOME palette, in an order that keeps neighbours apart. */
static const guint32 class_light[] = {
  0x1c71d8, 0xe66100, 0x26a269, 0x9141ac, 0xc01c28, 0xc88800, 0x865e3c, 0x2190a4, 0xc061cb,
  0x5e5c64,
};
static const guint32 class_dark[] = {
  0x62a0ea, 0xffa348, 0x57e389, 0xc061cb, 0xf66151, 0xf8e45c, 0xcdab8f, 0x5bc8d8, 0xdc8add,
  0xc0bfbc,
};

void
_lam_class_color (int k, gboolean dark, LamRgb *c)
{
  guint32 v = (dark ? class_dark : class_light)[ABS (k) % G_N_ELEMENTS (class_light)];

  c->r = ((v >> 16) & 0xff) / 255.0;
  c->g = ((v >> 8) & 0xff) / 255.0;
  c->b = (v & 0xff) / 255.0;
}

void
_lam_rgb_mix (const LamRgb *a, const LamRgb *b, double t, LamRgb *out)
{
  out->r = a->r + t * (b->r - a->r);
  out->g = a->g + t * (b->g - a->g);
  out->b = a->b + t * (b->b - a->b);
}

static inline guint32
pack (const LamRgb *c)
{
  return 0xff000000u | ((guint32) lround (c->r * 255) << 16) | ((guint32) lround (c->g * 255) << 8)
         | (guint32) lround (c->b * 255);
}

/* ── Style and text ──────────────────────────────────────────────────── */

double
_lam_widget_em (GtkWidget *widget)
{
  const PangoFontDescription *desc;
  double size;

  desc = pango_context_get_font_description (gtk_widget_get_pango_context (widget));
  size = desc ? (double) pango_font_description_get_size (desc) / PANGO_SCALE : 11;
  if (desc && !pango_font_description_get_size_is_absolute (desc))
    size *= 96.0 / 72.0;
  return size > 0 ? size : 14.0;
}

void
_lam_style_begin (LamViewStyle *st, GtkWidget *widget, cairo_t *cr)
{
  const PangoFontDescription *desc;

  st->cr = cr;
  st->owns_cr = FALSE;
  st->n_cut = 0;
  st->dev_x0 = 0;
  st->dev_x1 = gtk_widget_get_width (widget);
  {
    double y0 = 0, y1 = 0;
    cairo_user_to_device (cr, &st->dev_x0, &y0);
    cairo_user_to_device (cr, &st->dev_x1, &y1);
  }
  st->layout = pango_cairo_create_layout (cr);
  desc = pango_context_get_font_description (gtk_widget_get_pango_context (widget));
  st->font = desc ? pango_font_description_copy (desc) : pango_font_description_from_string ("Sans 11");
  if (pango_font_description_get_size (st->font) <= 0)
    pango_font_description_set_size (st->font, 11 * PANGO_SCALE);
  st->font_size = (double) pango_font_description_get_size (st->font) / PANGO_SCALE;
  if (pango_font_description_get_size_is_absolute (st->font))
    st->font_size *= 72.0 / 96.0;

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &st->fg);
G_GNUC_END_IGNORE_DEPRECATIONS
  st->dark = 0.2126 * st->fg.red + 0.7152 * st->fg.green + 0.0722 * st->fg.blue > 0.5;
  if (st->dark)
    {
      st->bg = (GdkRGBA) { 0.14, 0.14, 0.14, 1 };
      st->accent = (GdkRGBA) { 0x78 / 255.0, 0xae / 255.0, 0xed / 255.0, 1 };
    }
  else
    {
      st->bg = (GdkRGBA) { 1, 1, 1, 1 };
      st->accent = (GdkRGBA) { 0x1c / 255.0, 0x71 / 255.0, 0xd8 / 255.0, 1 };
    }
}

void
_lam_style_begin_measure (LamViewStyle *st, GtkWidget *widget)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);

  cairo_surface_destroy (surface);
  _lam_style_begin (st, widget, cr);
  st->owns_cr = TRUE;
}

void
_lam_style_end (LamViewStyle *st)
{
  g_clear_object (&st->layout);
  g_clear_pointer (&st->font, pango_font_description_free);
  if (st->owns_cr)
    g_clear_pointer (&st->cr, cairo_destroy);
}

void
_lam_style_fg (LamViewStyle *st, double alpha)
{
  cairo_set_source_rgba (st->cr, st->fg.red, st->fg.green, st->fg.blue, st->fg.alpha * alpha);
}

void
_lam_style_rgb (LamViewStyle *st, const LamRgb *c, double alpha)
{
  cairo_set_source_rgba (st->cr, c->r, c->g, c->b, alpha);
}

static void
layout_prepare (LamViewStyle *st, const char *text, double scale, PangoWeight weight,
                double max_width)
{
  pango_font_description_set_size (st->font, (int) (st->font_size * scale * PANGO_SCALE));
  pango_font_description_set_weight (st->font, weight);
  pango_layout_set_font_description (st->layout, st->font);
  pango_layout_set_width (st->layout, max_width > 0 ? (int) (max_width * PANGO_SCALE) : -1);
  pango_layout_set_wrap (st->layout, PANGO_WRAP_WORD);
  pango_layout_set_ellipsize (st->layout, max_width > 0 ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
  pango_layout_set_text (st->layout, text, -1);
}

/* Counts a text drawn at (x, y) with logical width w that does not fit:
 * ellipsized, or (upright) past an edge of the widget. */
static void
count_cut (LamViewStyle *st, double x, double y, double w)
{
  cairo_matrix_t m;
  double x0 = x, y0 = y, x1 = x + w, y1 = y;

  if (pango_layout_is_ellipsized (st->layout))
    {
      st->n_cut++;
      return;
    }
  cairo_get_matrix (st->cr, &m);
  if (m.xy != 0 || m.yx != 0)
    return;
  cairo_user_to_device (st->cr, &x0, &y0);
  cairo_user_to_device (st->cr, &x1, &y1);
  if (x0 < st->dev_x0 - 0.5 || x1 > st->dev_x1 + 0.5)
    st->n_cut++;
}

void
_lam_text_size (LamViewStyle *st, const char *text, double scale, PangoWeight weight,
                double *width, double *height)
{
  PangoRectangle log;

  layout_prepare (st, text, scale, weight, 0);
  pango_layout_get_pixel_extents (st->layout, NULL, &log);
  if (width)
    *width = log.width;
  if (height)
    *height = log.height;
}

double
_lam_text (LamViewStyle *st, const char *text, double x, double y, double xalign, double yalign,
           double scale, PangoWeight weight, const GdkRGBA *color, double alpha, double max_width)
{
  PangoRectangle log;

  layout_prepare (st, text, scale, weight, max_width);
  pango_layout_get_pixel_extents (st->layout, NULL, &log);
  if (color == NULL)
    color = &st->fg;
  cairo_set_source_rgba (st->cr, color->red, color->green, color->blue, color->alpha * alpha);
  x = round (x - xalign * log.width - log.x);
  cairo_move_to (st->cr, x, round (y - yalign * log.height));
  pango_cairo_show_layout (st->cr, st->layout);
  count_cut (st, x + log.x, y, log.width);
  return log.width;
}

double
_lam_text_fit (LamViewStyle *st, const char *text, double x, double y, double xalign, double yalign,
               double scale, double min_scale, PangoWeight weight, const GdkRGBA *color, double alpha,
               double max_width)
{
  double w;

  if (max_width > 0)
    {
      _lam_text_size (st, text, scale, weight, &w, NULL);
      /* a step below the exact ratio: hinting does not scale quite linearly */
      if (w > max_width)
        scale = MAX (min_scale, scale * max_width / w * 0.98);
    }
  return _lam_text (st, text, x, y, xalign, yalign, scale, weight, color, alpha, max_width);
}

double
_lam_paragraph (LamViewStyle *st, const char *text, double x, double y, double scale,
                PangoWeight weight, const GdkRGBA *color, double alpha, double width)
{
  PangoRectangle log;

  layout_prepare (st, text, scale, weight, width);
  pango_layout_set_ellipsize (st->layout, PANGO_ELLIPSIZE_NONE);
  pango_layout_get_pixel_extents (st->layout, NULL, &log);
  if (color == NULL)
    color = &st->fg;
  cairo_set_source_rgba (st->cr, color->red, color->green, color->blue, color->alpha * alpha);
  cairo_move_to (st->cr, round (x), round (y));
  pango_cairo_show_layout (st->cr, st->layout);
  return log.height;
}

/* ── Heatmap surfaces ────────────────────────────────────────────────── */

cairo_surface_t *
_lam_heatmap_new (const float *v, int w, int h, double lo, double hi, LamColormap cmap)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, MAX (w, 1), MAX (h, 1));
  int stride = cairo_image_surface_get_stride (s);
  guint8 *data = cairo_image_surface_get_data (s);
  double span = hi - lo;
  LamRgb lut[256];

  /* A 256-entry table: a heatmap is then one lookup per value. */
  for (int i = 0; i < 256; i++)
    _lam_cmap (cmap, cmap == LAM_CMAP_DIVERGING ? i / 127.5 - 1.0 : i / 255.0, &lut[i]);

  cairo_surface_flush (s);
  for (int y = 0; y < h; y++)
    {
      guint32 *row = (guint32 *) (data + (gsize) y * stride);
      for (int x = 0; x < w; x++)
        {
          double f = v[(gsize) y * w + x], t;
          if (!isfinite (f))
            {
              row[x] = 0xff808080u;
              continue;
            }
          if (cmap == LAM_CMAP_DIVERGING)
            t = hi > 0 ? (f / hi + 1.0) / 2.0 : 0.5;
          else
            t = span > 0 ? (f - lo) / span : 0.0;
          row[x] = pack (&lut[(int) lround (CLAMP (t, 0.0, 1.0) * 255.0)]);
        }
    }
  cairo_surface_mark_dirty (s);
  return s;
}

cairo_surface_t *
_lam_rgb_planes_new (const float *v, int w, int h, double hi)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, MAX (w, 1), MAX (h, 1));
  int stride = cairo_image_surface_get_stride (s);
  guint8 *data = cairo_image_surface_get_data (s);
  gsize plane = (gsize) w * h;

  cairo_surface_flush (s);
  for (int y = 0; y < h; y++)
    {
      guint32 *row = (guint32 *) (data + (gsize) y * stride);
      for (int x = 0; x < w; x++)
        {
          gsize i = (gsize) y * w + x;
          LamRgb c;
          c.r = CLAMP (hi > 0 ? v[i] / (2 * hi) + 0.5 : 0.5, 0.0, 1.0);
          c.g = CLAMP (hi > 0 ? v[plane + i] / (2 * hi) + 0.5 : 0.5, 0.0, 1.0);
          c.b = CLAMP (hi > 0 ? v[2 * plane + i] / (2 * hi) + 0.5 : 0.5, 0.0, 1.0);
          row[x] = pack (&c);
        }
    }
  cairo_surface_mark_dirty (s);
  return s;
}

cairo_surface_t *
_lam_bytes_surface_new (const guint8 *px, int c, int h, int w)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, MAX (w, 1), MAX (h, 1));
  int stride = cairo_image_surface_get_stride (s);
  guint8 *data = cairo_image_surface_get_data (s);
  gsize plane = (gsize) w * h;
  gboolean rgb = c == 3;

  cairo_surface_flush (s);
  for (int y = 0; y < h; y++)
    {
      guint32 *row = (guint32 *) (data + (gsize) y * stride);
      for (int x = 0; x < w; x++)
        {
          gsize i = (gsize) y * w + x;
          guint32 r = px[i], g = rgb ? px[plane + i] : r, b = rgb ? px[2 * plane + i] : r;
          row[x] = 0xff000000u | (r << 16) | (g << 8) | b;
        }
    }
  cairo_surface_mark_dirty (s);
  return s;
}

void
_lam_paint_surface (cairo_t *cr, cairo_surface_t *s, double x, double y, double w, double h,
                    cairo_filter_t filter)
{
  int sw = cairo_image_surface_get_width (s);
  int sh = cairo_image_surface_get_height (s);

  if (sw <= 0 || sh <= 0 || w <= 0 || h <= 0)
    return;
  cairo_save (cr);
  cairo_rectangle (cr, x, y, w, h);
  cairo_clip (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, w / sw, h / sh);
  cairo_set_source_surface (cr, s, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), filter);
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_paint (cr);
  cairo_restore (cr);
}

void
_lam_draw_colorbar (LamViewStyle *st, LamColormap cmap, double x, double y, double w, double h,
                    const char *lo, const char *mid, const char *hi, const char *caption)
{
  cairo_t *cr = st->cr;
  cairo_pattern_t *p = cairo_pattern_create_linear (x, 0, x + w, 0);

  for (int i = 0; i <= 16; i++)
    {
      LamRgb c;
      _lam_cmap (cmap, cmap == LAM_CMAP_DIVERGING ? i / 8.0 - 1.0 : i / 16.0, &c);
      cairo_pattern_add_color_stop_rgb (p, i / 16.0, c.r, c.g, c.b);
    }
  cairo_rectangle (cr, x, y, w, h);
  cairo_set_source (cr, p);
  cairo_fill_preserve (cr);
  cairo_pattern_destroy (p);
  _lam_style_fg (st, 0.5);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);

  if (lo)
    _lam_text (st, lo, x, y + h + 2, 0, 0, 0.85, PANGO_WEIGHT_NORMAL, NULL, 0.8, 0);
  if (mid)
    _lam_text (st, mid, x + w / 2, y + h + 2, 0.5, 0, 0.85, PANGO_WEIGHT_NORMAL, NULL, 0.8, 0);
  if (hi)
    _lam_text (st, hi, x + w, y + h + 2, 1, 0, 0.85, PANGO_WEIGHT_NORMAL, NULL, 0.8, 0);
  if (caption)
    _lam_text (st, caption, x - 8, y + h / 2, 1, 0.5, 0.85, PANGO_WEIGHT_NORMAL, NULL, 0.8, 0);
}

gboolean
_lam_float_range (const float *v, gsize n, float *lo, float *hi)
{
  float a = INFINITY, b = -INFINITY;

  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      {
        a = MIN (a, v[i]);
        b = MAX (b, v[i]);
      }
  *lo = a;
  *hi = b;
  return a <= b;
}

double
_lam_max_abs (const float *v, gsize n)
{
  double m = 0;

  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      m = MAX (m, fabs (v[i]));
  return m;
}

double
_lam_robust_max_abs (const float *v, gsize n, double q)
{
  guint hist[1024] = { 0 };
  double m = _lam_max_abs (v, n), target, seen = 0;
  gsize count = 0;

  if (m <= 0 || n < 64)
    return m;
  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      {
        hist[MIN (1023, (int) (fabs (v[i]) / m * 1024))]++;
        count++;
      }
  target = q * count;
  for (int b = 0; b < 1024; b++)
    {
      seen += hist[b];
      if (seen >= target)
        return MAX ((b + 1) / 1024.0 * m, m * 0.05);
    }
  return m;
}

/* ── Ticks ───────────────────────────────────────────────────────────── */

int
_lam_nice_ticks (double lo, double hi, int max_ticks, double *ticks, double *step)
{
  double span = hi - lo, raw, mag, s;
  int n = 0;

  if (!(span > 0) || !isfinite (span) || max_ticks < 2)
    {
      ticks[0] = lo;
      *step = 1;
      return 1;
    }
  raw = span / (max_ticks - 1);
  mag = pow (10, floor (log10 (raw)));
  if (raw / mag <= 1)
    s = mag;
  else if (raw / mag <= 2)
    s = 2 * mag;
  else if (raw / mag <= 5)
    s = 5 * mag;
  else
    s = 10 * mag;
  for (double t = ceil (lo / s - 1e-9) * s; t <= hi + s * 1e-9 && n < 32; t += s)
    ticks[n++] = fabs (t) < s * 1e-9 ? 0.0 : t;
  *step = s;
  return n;
}

void
_lam_format_value (double v, double step, char *buf, gsize len)
{
  int digits = step > 0 ? MAX (0, (int) -floor (log10 (step) + 1e-9)) : 3;

  if (fabs (v) >= 1e5 && step >= 1000)
    g_snprintf (buf, len, "%.0fk", v / 1000);
  else
    g_snprintf (buf, len, "%.*f", MIN (digits, 6), v);
}

void
_lam_rounded_rect (cairo_t *cr, double x, double y, double w, double h, double r)
{
  r = MIN (r, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* ── GtkScrollable ───────────────────────────────────────────────────── */

void
_lam_scroll_install (GObjectClass *klass, guint first_prop)
{
  g_object_class_override_property (klass, first_prop + LAM_SCROLL_PROP_HADJUSTMENT, "hadjustment");
  g_object_class_override_property (klass, first_prop + LAM_SCROLL_PROP_VADJUSTMENT, "vadjustment");
  g_object_class_override_property (klass, first_prop + LAM_SCROLL_PROP_HSCROLL_POLICY,
                                    "hscroll-policy");
  g_object_class_override_property (klass, first_prop + LAM_SCROLL_PROP_VSCROLL_POLICY,
                                    "vscroll-policy");
}

void
_lam_scroll_init (LamScroll *s, GtkWidget *widget)
{
  s->widget = widget;
  s->adj[0] = s->adj[1] = NULL;
  s->policy[0] = s->policy[1] = GTK_SCROLL_MINIMUM;
}

static void
set_adjustment (LamScroll *s, int i, GtkAdjustment *adj)
{
  if (adj == s->adj[i])
    return;
  if (s->adj[i])
    {
      g_signal_handlers_disconnect_by_func (s->adj[i], gtk_widget_queue_draw, s->widget);
      g_clear_object (&s->adj[i]);
    }
  if (adj == NULL)
    adj = gtk_adjustment_new (0, 0, 0, 0, 0, 0);
  s->adj[i] = g_object_ref_sink (adj);
  g_signal_connect_swapped (adj, "value-changed", G_CALLBACK (gtk_widget_queue_draw), s->widget);
  gtk_widget_queue_allocate (s->widget);
}

void
_lam_scroll_clear (LamScroll *s)
{
  for (int i = 0; i < 2; i++)
    if (s->adj[i])
      {
        g_signal_handlers_disconnect_by_func (s->adj[i], gtk_widget_queue_draw, s->widget);
        g_clear_object (&s->adj[i]);
      }
}

gboolean
_lam_scroll_get_property (LamScroll *s, guint first_prop, guint prop_id, GValue *value)
{
  if (prop_id < first_prop || prop_id >= first_prop + LAM_SCROLL_N_PROPS)
    return FALSE;
  switch (prop_id - first_prop)
    {
    case LAM_SCROLL_PROP_HADJUSTMENT:
    case LAM_SCROLL_PROP_VADJUSTMENT:
      g_value_set_object (value, s->adj[prop_id - first_prop - LAM_SCROLL_PROP_HADJUSTMENT]);
      break;
    default:
      g_value_set_enum (value, s->policy[prop_id - first_prop - LAM_SCROLL_PROP_HSCROLL_POLICY]);
      break;
    }
  return TRUE;
}

gboolean
_lam_scroll_set_property (LamScroll *s, guint first_prop, guint prop_id, const GValue *value)
{
  if (prop_id < first_prop || prop_id >= first_prop + LAM_SCROLL_N_PROPS)
    return FALSE;
  switch (prop_id - first_prop)
    {
    case LAM_SCROLL_PROP_HADJUSTMENT:
    case LAM_SCROLL_PROP_VADJUSTMENT:
      set_adjustment (s, prop_id - first_prop - LAM_SCROLL_PROP_HADJUSTMENT,
                      g_value_get_object (value));
      break;
    default:
      {
        int i = prop_id - first_prop - LAM_SCROLL_PROP_HSCROLL_POLICY;
        GtkScrollablePolicy p = g_value_get_enum (value);
        if (s->policy[i] != p)
          {
            s->policy[i] = p;
            gtk_widget_queue_resize (s->widget);
            g_object_notify_by_pspec (G_OBJECT (s->widget),
                                      g_object_class_find_property (G_OBJECT_GET_CLASS (s->widget),
                                                                    i ? "vscroll-policy"
                                                                      : "hscroll-policy"));
          }
      }
      break;
    }
  return TRUE;
}

void
_lam_scroll_configure (LamScroll *s, int width, int height, double content_height)
{
  if (s->adj[0])
    gtk_adjustment_configure (s->adj[0], 0, 0, width, width * 0.1, width * 0.9, width);
  if (s->adj[1])
    {
      double upper = MAX (content_height, height);
      double value = CLAMP (gtk_adjustment_get_value (s->adj[1]), 0, upper - height);
      gtk_adjustment_configure (s->adj[1], value, 0, upper, 40, height * 0.9, height);
    }
}

double
_lam_scroll_offset (LamScroll *s)
{
  return s->adj[1] ? gtk_adjustment_get_value (s->adj[1]) : 0.0;
}

void
_lam_scroll_show (LamScroll *s, double y0, double y1)
{
  double v, page;

  if (s->adj[1] == NULL)
    return;
  v = gtk_adjustment_get_value (s->adj[1]);
  page = gtk_adjustment_get_page_size (s->adj[1]);
  if (y0 < v)
    gtk_adjustment_set_value (s->adj[1], y0);
  else if (y1 > v + page)
    gtk_adjustment_set_value (s->adj[1], MIN (y0, y1 - page));
}
