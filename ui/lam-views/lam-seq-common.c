/* lam-seq-common.c: the input beside the time axis, step names and
 * ticks, shared by the sequence views.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>

#include "lam-seq-common.h"

void
_lam_seq_input_clear (LamSeqInput *in)
{
  g_clear_pointer (&in->x, g_free);
  g_clear_pointer (&in->labels, g_strfreev);
  g_clear_pointer (&in->surface, cairo_surface_destroy);
  in->T = in->F = 0;
  in->rows = FALSE;
}

void
_lam_seq_input_set (LamSeqInput *in, const float *x, int T, int F, gboolean rows)
{
  float lo, hi;

  g_clear_pointer (&in->x, g_free);
  g_clear_pointer (&in->surface, cairo_surface_destroy);
  in->rows = rows;
  in->T = in->F = 0;
  if (x == NULL || T <= 0 || F <= 0)
    return;
  in->T = T;
  in->F = F;
  in->x = g_memdup2 (x, (gsize) T * F * sizeof (float));
  /* gray from the smallest to the largest value, as the feature view
   * draws a network's input */
  if (!_lam_float_range (x, (gsize) T * F, &lo, &hi))
    lo = hi = 0;
  in->surface = _lam_heatmap_new (x, F, T, lo, hi > lo ? hi : lo + 1, LAM_CMAP_GRAY);
}

void
_lam_seq_input_set_labels (LamSeqInput *in, const char *const *labels)
{
  g_clear_pointer (&in->labels, g_strfreev);
  in->labels = labels ? g_strdupv ((char **) labels) : NULL;
}

static const char *
label_at (const LamSeqInput *in, int t)
{
  if (in->labels == NULL || t < 0 || t >= (int) g_strv_length (in->labels))
    return NULL;
  return in->labels[t];
}

char *
_lam_seq_step_name (const LamSeqInput *in, int t)
{
  const char *label = label_at (in, t);

  if (in->rows)
    return g_strdup_printf ("row %d", t);
  if (label)
    return g_strdup_printf ("step %d ‘%s’", t,
                            g_str_equal (label, " ") ? "␣" : g_str_equal (label, "\n") ? "↵" : label);
  return g_strdup_printf ("step %d", t);
}

const char *
_lam_seq_axis_title (const LamSeqInput *in)
{
  return in->rows ? "image row = time step" : "time step";
}

double
_lam_seq_input_width (const LamSeqInput *in, int T, double row_h, double max_w)
{
  if (in->surface == NULL || in->T != T)
    return 0;
  if (in->rows)
    return MIN (in->F * row_h, max_w);
  return MIN (in->F * MIN (row_h, 12.0), max_w);
}

void
_lam_seq_row_band (LamViewStyle *st, double x, double y, double w, double h)
{
  cairo_rectangle (st->cr, x - 1, y - 1, w + 2, h + 2);
  _lam_style_fg (st, 0.9);
  cairo_set_line_width (st->cr, 2);
  cairo_stroke (st->cr);
}

void
_lam_seq_input_draw (const LamSeqInput *in, LamViewStyle *st, double x, double y, double w,
                     double row_h, int T, int hover, int hover2)
{
  cairo_t *cr = st->cr;

  if (in->surface == NULL || in->T != T || w <= 0)
    return;
  _lam_paint_surface (cr, in->surface, x, y, w, row_h * T, CAIRO_FILTER_NEAREST);
  cairo_rectangle (cr, x - 0.5, y - 0.5, w + 1, row_h * T + 1);
  _lam_style_fg (st, 0.3);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  if (hover2 >= 0 && hover2 < T && hover2 != hover)
    {
      LamRgb c;
      _lam_class_color (1, st->dark, &c);
      cairo_rectangle (cr, x - 1, y + hover2 * row_h - 1, w + 2, row_h + 2);
      _lam_style_rgb (st, &c, 1);
      cairo_set_line_width (cr, 2.5);
      cairo_stroke (cr);
    }
  if (hover >= 0 && hover < T)
    {
      cairo_rectangle (cr, x - 1, y + hover * row_h - 1, w + 2, row_h + 2);
      cairo_set_source_rgba (cr, st->accent.red, st->accent.green, st->accent.blue, 1);
      cairo_set_line_width (cr, 2.5);
      cairo_stroke (cr);
    }
}

void
_lam_seq_axis_draw (const LamSeqInput *in, LamViewStyle *st, double x_right, double y,
                    double row_h, int T, int hover)
{
  double em = st->font_size * 96.0 / 72.0, ticks[32], step;
  gboolean every = in->labels != NULL && row_h >= em * 0.95 && label_at (in, T - 1) != NULL;
  char buf[64];
  int n;

  if (T <= 0)
    return;
  if (every)
    {
      /* a character model: each step's character, in a fixed-width font */
      for (int t = 0; t < T; t++)
        {
          const char *label = label_at (in, t);
          _lam_text (st, g_str_equal (label, " ") ? "␣" : g_str_equal (label, "\n") ? "↵" : label,
                     x_right, y + (t + 0.5) * row_h, 1, 0.5, MIN (1.0, row_h / (em * 1.2)),
                     t == hover ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, NULL,
                     t == hover ? 1 : 0.8, 0);
        }
      return;
    }
  n = _lam_nice_ticks (0, T - 1, MAX (2, (int) (T * row_h / (em * 1.8))), ticks, &step);
  step = MAX (step, 1);
  for (int i = 0; i < n; i++)
    {
      int t = (int) lround (ticks[i]);
      if (t < 0 || t >= T || (hover >= 0 && ABS (t - hover) * row_h < em * 1.1))
        continue;
      g_snprintf (buf, sizeof buf, "%d", t);
      _lam_text (st, buf, x_right, y + (t + 0.5) * row_h, 1, 0.5, 0.9, PANGO_WEIGHT_NORMAL, NULL,
                 0.8, 0);
    }
  if (hover >= 0 && hover < T)
    {
      g_snprintf (buf, sizeof buf, "%d", hover);
      _lam_text (st, buf, x_right, y + (hover + 0.5) * row_h, 1, 0.5, 0.95, PANGO_WEIGHT_BOLD,
                 &st->accent, 1, 0);
    }
}
