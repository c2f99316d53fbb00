/* lam-sequence-view.c: hidden states as a units × time heat map, with the
 * input beside it and a few units as lines.
 *
 * set_states copies the states, sorts the units and builds the heat map
 * surface (one pixel per value, drawn scaled with NEAREST); the layout
 * is one function used by drawing and hit testing alike.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>
#include <stdlib.h>

#include "lam-sequence-view.h"
#include "lam-seq-common.h"

#define AUTO_UNITS 3

struct _LamSequenceView {
  GtkWidget        parent_instance;

  float           *h;          /* [T, H] */
  int              T, H;
  char            *title;
  double           hi;         /* colour scale: ±hi */
  int             *order;      /* column → unit */
  int             *column;     /* unit → column */
  cairo_surface_t *map;        /* T high, H wide, in column order */
  gboolean         sort_units;
  LamSeqInput      input;

  int              selected[LAM_SEQUENCE_VIEW_MAX_SELECTED];
  int              n_selected;
  gboolean         chosen;     /* the selection came from the user or the API */

  int              hover_unit, hover_step;
};

G_DEFINE_FINAL_TYPE (LamSequenceView, lam_sequence_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SORT_UNITS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct {
  double em;
  double top, row_h;
  double axis_x;
  double in_x, in_w;
  double map_x, map_w, col_w;
  double plot_x, plot_w;
  double bottom;               /* below the last row */
} Layout;

static void
compute_layout (LamSequenceView *self, int width, int height, Layout *l)
{
  int T = MAX (self->T, 1), H = MAX (self->H, 1);
  double avail;

  l->em = _lam_widget_em (GTK_WIDGET (self));
  l->top = round (l->em * 5.4);
  avail = height - l->top - l->em * 4.2;
  l->row_h = MIN (MAX (avail / T, 1.0), l->em * 2);
  if (l->row_h >= 3)
    l->row_h = floor (l->row_h);
  l->bottom = l->top + T * l->row_h;
  l->axis_x = round (l->em * 4.4);
  l->in_x = l->axis_x + round (l->em * 0.5);
  l->in_w = round (_lam_seq_input_width (&self->input, self->T, l->row_h, width * 0.26));
  l->map_x = l->in_x + l->in_w + (l->in_w > 0 ? round (l->em * 1.2) : 0);
  l->plot_w = round (CLAMP (width * 0.24, l->em * 10, l->em * 22));
  l->plot_x = width - l->em - l->plot_w;
  l->map_w = MAX (l->plot_x - l->em * 2.5 - l->map_x, 8);
  l->col_w = MIN (l->map_w / H, l->em * 2);
  if (l->col_w >= 2)
    l->col_w = floor (l->col_w);
  l->map_w = l->col_w * H;
}

/* ── Data ────────────────────────────────────────────────────────────── */

typedef struct {
  int   step;    /* where |h| peaks */
  float value;   /* h there */
  int   unit;
} SortKey;

static int
cmp_keys (const void *a, const void *b)
{
  const SortKey *x = a, *y = b;

  if (x->step != y->step)
    return x->step < y->step ? -1 : 1;
  if (x->value != y->value)
    return x->value > y->value ? -1 : 1;
  return x->unit - y->unit;
}

static void
rebuild (LamSequenceView *self)
{
  int T = self->T, H = self->H;
  g_autofree float *cols = NULL;

  g_clear_pointer (&self->map, cairo_surface_destroy);
  if (self->h == NULL)
    return;

  /* sort by the step where |h| peaks, then from red to blue */
  {
    g_autofree SortKey *keys = g_new (SortKey, H);
    for (int u = 0; u < H; u++)
      {
        int best = 0;
        for (int t = 1; t < T; t++)
          if (fabsf (self->h[(gsize) t * H + u]) > fabsf (self->h[(gsize) best * H + u]))
            best = t;
        keys[u].unit = u;
        keys[u].step = self->sort_units ? best : 0;
        keys[u].value = self->sort_units ? self->h[(gsize) best * H + u] : 0;
      }
    qsort (keys, H, sizeof *keys, cmp_keys);
    for (int c = 0; c < H; c++)
      {
        self->order[c] = keys[c].unit;
        self->column[keys[c].unit] = c;
      }
  }

  cols = g_new (float, (gsize) T * H);
  for (int t = 0; t < T; t++)
    for (int c = 0; c < H; c++)
      cols[(gsize) t * H + c] = self->h[(gsize) t * H + self->order[c]];
  self->map = _lam_heatmap_new (cols, H, T, -self->hi, self->hi, LAM_CMAP_DIVERGING);
}

/* The units whose states swing the most: a start for the lines. */
static void
auto_select (LamSequenceView *self)
{
  g_autofree double *var = g_new0 (double, self->H);

  self->n_selected = 0;
  for (int u = 0; u < self->H; u++)
    {
      double mean = 0, m2 = 0;
      for (int t = 0; t < self->T; t++)
        mean += self->h[(gsize) t * self->H + u];
      mean /= self->T;
      for (int t = 0; t < self->T; t++)
        {
          double d = self->h[(gsize) t * self->H + u] - mean;
          m2 += d * d;
        }
      var[u] = m2;
    }
  for (int k = 0; k < MIN (AUTO_UNITS, self->H); k++)
    {
      int best = -1;
      for (int u = 0; u < self->H; u++)
        {
          gboolean taken = FALSE;
          for (int i = 0; i < self->n_selected; i++)
            taken |= self->selected[i] == u;
          if (!taken && (best < 0 || var[u] > var[best]))
            best = u;
        }
      self->selected[self->n_selected++] = best;
    }
}

void
lam_sequence_view_clear (LamSequenceView *self)
{
  g_return_if_fail (LAM_IS_SEQUENCE_VIEW (self));

  g_clear_pointer (&self->h, g_free);
  g_clear_pointer (&self->order, g_free);
  g_clear_pointer (&self->column, g_free);
  g_clear_pointer (&self->map, cairo_surface_destroy);
  g_clear_pointer (&self->title, g_free);
  self->T = self->H = 0;
  self->n_selected = 0;
  self->chosen = FALSE;
  self->hover_unit = self->hover_step = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_sequence_view_set_states (LamSequenceView *self, const float *h, int T, int H,
                              const char *title)
{
  g_autofree char *desc = NULL;
  float lo, hi;

  g_return_if_fail (LAM_IS_SEQUENCE_VIEW (self));
  g_return_if_fail (h != NULL && T > 0 && H > 0);

  if (H != self->H)
    {
      self->n_selected = 0;
      self->chosen = FALSE;
      g_free (self->order);
      g_free (self->column);
      self->order = g_new (int, H);
      self->column = g_new (int, H);
    }
  g_free (self->h);
  self->h = g_memdup2 (h, (gsize) T * H * sizeof (float));
  self->T = T;
  self->H = H;
  g_free (self->title);
  self->title = g_strdup (title);
  if (self->hover_step >= T)
    self->hover_step = -1;
  if (self->hover_unit >= H)
    self->hover_unit = -1;

  /* one scale for the map, from the 99% quantile of |h| (the colour bar
   * says it), so a few saturated units do not wash the others out */
  self->hi = _lam_robust_max_abs (h, (gsize) T * H, 0.99);
  if (!(self->hi > 0))
    self->hi = 1;
  rebuild (self);
  if (!self->chosen)
    auto_select (self);

  if (!_lam_float_range (h, (gsize) T * H, &lo, &hi))
    lo = hi = 0;
  desc = g_strdup_printf ("%d units over %d steps, values from %.2f to %.2f", H, T, lo, hi);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, desc,
                                  -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_sequence_view_set_input (LamSequenceView *self, const float *x, int T, int F,
                             gboolean image_rows)
{
  g_return_if_fail (LAM_IS_SEQUENCE_VIEW (self));

  _lam_seq_input_set (&self->input, x, T, F, image_rows);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_sequence_view_set_step_labels (LamSequenceView *self, const char *const *labels)
{
  g_return_if_fail (LAM_IS_SEQUENCE_VIEW (self));

  _lam_seq_input_set_labels (&self->input, labels);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
lam_sequence_view_get_sort_units (LamSequenceView *self)
{
  g_return_val_if_fail (LAM_IS_SEQUENCE_VIEW (self), FALSE);
  return self->sort_units;
}

void
lam_sequence_view_set_sort_units (LamSequenceView *self, gboolean sort)
{
  g_return_if_fail (LAM_IS_SEQUENCE_VIEW (self));

  sort = !!sort;
  if (self->sort_units == sort)
    return;
  self->sort_units = sort;
  rebuild (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SORT_UNITS]);
}

const int *
lam_sequence_view_get_unit_order (LamSequenceView *self, int *n)
{
  g_return_val_if_fail (LAM_IS_SEQUENCE_VIEW (self), NULL);

  if (n)
    *n = self->h ? self->H : 0;
  return self->h ? self->order : NULL;
}

int
lam_sequence_view_get_selected_units (LamSequenceView *self, int *units, int max)
{
  g_return_val_if_fail (LAM_IS_SEQUENCE_VIEW (self), 0);

  for (int i = 0; units && i < MIN (max, self->n_selected); i++)
    units[i] = self->selected[i];
  return self->n_selected;
}

void
lam_sequence_view_set_selected_units (LamSequenceView *self, const int *units, int n)
{
  g_return_if_fail (LAM_IS_SEQUENCE_VIEW (self));
  g_return_if_fail (n == 0 || units != NULL);

  self->n_selected = 0;
  self->chosen = TRUE;
  for (int i = 0; i < n && self->n_selected < LAM_SEQUENCE_VIEW_MAX_SELECTED; i++)
    if (units[i] >= 0 && (self->H == 0 || units[i] < self->H))
      self->selected[self->n_selected++] = units[i];
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static int
selected_index (LamSequenceView *self, int unit)
{
  for (int i = 0; i < self->n_selected; i++)
    if (self->selected[i] == unit)
      return i;
  return -1;
}

gboolean
lam_sequence_view_toggle_unit (LamSequenceView *self, int unit)
{
  int i;

  g_return_val_if_fail (LAM_IS_SEQUENCE_VIEW (self), FALSE);
  g_return_val_if_fail (unit >= 0 && unit < self->H, FALSE);

  self->chosen = TRUE;
  i = selected_index (self, unit);
  if (i >= 0)
    {
      for (; i < self->n_selected - 1; i++)
        self->selected[i] = self->selected[i + 1];
      self->n_selected--;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return FALSE;
    }
  if (self->n_selected == LAM_SEQUENCE_VIEW_MAX_SELECTED)
    {
      /* the oldest makes room */
      for (i = 0; i < self->n_selected - 1; i++)
        self->selected[i] = self->selected[i + 1];
      self->n_selected--;
    }
  self->selected[self->n_selected++] = unit;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

/* ── Hit testing ─────────────────────────────────────────────────────── */

static void
current_layout (LamSequenceView *self, Layout *l)
{
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), l);
}

gboolean
lam_sequence_view_cell_at (LamSequenceView *self, double x, double y, int *unit, int *step)
{
  Layout l;
  int c, t;

  g_return_val_if_fail (LAM_IS_SEQUENCE_VIEW (self), FALSE);

  if (self->h == NULL)
    return FALSE;
  current_layout (self, &l);
  c = (int) floor ((x - l.map_x) / l.col_w);
  t = (int) floor ((y - l.top) / l.row_h);
  if (x < l.map_x || y < l.top || c < 0 || c >= self->H || t < 0 || t >= self->T)
    return FALSE;
  if (unit)
    *unit = self->order[c];
  if (step)
    *step = t;
  return TRUE;
}

gboolean
lam_sequence_view_get_cell_rect (LamSequenceView *self, int unit, int step, graphene_rect_t *rect)
{
  Layout l;

  g_return_val_if_fail (LAM_IS_SEQUENCE_VIEW (self), FALSE);

  if (self->h == NULL || unit < 0 || unit >= self->H || step < 0 || step >= self->T)
    return FALSE;
  current_layout (self, &l);
  graphene_rect_init (rect, l.map_x + self->column[unit] * l.col_w, l.top + step * l.row_h,
                      l.col_w, l.row_h);
  return TRUE;
}

int
lam_sequence_view_step_at (LamSequenceView *self, double x, double y)
{
  Layout l;
  int t;

  g_return_val_if_fail (LAM_IS_SEQUENCE_VIEW (self), -1);

  if (self->h == NULL)
    return -1;
  current_layout (self, &l);
  t = (int) floor ((y - l.top) / l.row_h);
  if (y < l.top || t >= self->T || x < l.in_x || x > l.plot_x + l.plot_w)
    return -1;
  return t;
}

char *
lam_sequence_view_describe_cell (LamSequenceView *self, int unit, int step)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (LAM_IS_SEQUENCE_VIEW (self), NULL);
  g_return_val_if_fail (self->h && unit >= 0 && unit < self->H && step >= 0 && step < self->T,
                        NULL);

  name = _lam_seq_step_name (&self->input, step);
  return g_strdup_printf ("Unit %d after %s: %.3f%s", unit, name,
                          self->h[(gsize) step * self->H + unit],
                          selected_index (self, unit) >= 0 ? " (click: stop following it)"
                                                           : " (click: follow it)");
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

static void
unit_color (LamViewStyle *st, int index, LamRgb *c)
{
  /* skip the class palette's blue and orange: too close to the map's ends */
  static const int picks[] = { 2, 3, 6, 5, 8, 9, 0, 1 };
  _lam_class_color (picks[index % G_N_ELEMENTS (picks)], st->dark, c);
}

static void
draw_plot (LamSequenceView *self, LamViewStyle *st, const Layout *l)
{
  cairo_t *cr = st->cr;
  double m = 0, ticks[32], step, x0 = l->plot_x, w = l->plot_w;
  char buf[32];
  int n;

  cairo_rectangle (cr, x0, l->top, w, l->bottom - l->top);
  _lam_style_fg (st, 0.04);
  cairo_fill (cr);

  if (self->n_selected == 0)
    {
      _lam_text (st, "Click a column", x0 + w / 2, (l->top + l->bottom) / 2 - l->em * 0.7, 0.5,
                 0.5, 1, PANGO_WEIGHT_NORMAL, NULL, 0.55, w);
      _lam_text (st, "to follow a unit here", x0 + w / 2, (l->top + l->bottom) / 2 + l->em * 0.7,
                 0.5, 0.5, 1, PANGO_WEIGHT_NORMAL, NULL, 0.55, w);
      return;
    }

  for (int i = 0; i < self->n_selected; i++)
    for (int t = 0; t < self->T; t++)
      m = MAX (m, fabsf (self->h[(gsize) t * self->H + self->selected[i]]));
  m = m > 0 ? m * 1.08 : 1;

  /* value ticks: vertical grid lines, labels under the panel */
  n = _lam_nice_ticks (-m, m, MAX (3, (int) (w / (l->em * 3.5))), ticks, &step);
  cairo_set_line_width (cr, 1);
  for (int i = 0; i < n; i++)
    {
      double px = x0 + (ticks[i] + m) / (2 * m) * w;
      _lam_style_fg (st, ticks[i] == 0 ? 0.4 : 0.1);
      cairo_move_to (cr, round (px) + 0.5, l->top);
      cairo_line_to (cr, round (px) + 0.5, l->bottom);
      cairo_stroke (cr);
      _lam_format_value (ticks[i], step, buf, sizeof buf);
      _lam_text (st, buf, px, l->bottom + 4, 0.5, 0, 0.85, PANGO_WEIGHT_NORMAL, NULL, 0.8, 0);
    }

  for (int i = 0; i < self->n_selected; i++)
    {
      int u = self->selected[i];
      LamRgb c;

      unit_color (st, i, &c);
      _lam_style_rgb (st, &c, 1);
      cairo_set_line_width (cr, MAX (2.5, l->em / 5));
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      for (int t = 0; t < self->T; t++)
        {
          double v = self->h[(gsize) t * self->H + u];
          double px = x0 + (v + m) / (2 * m) * w, py = l->top + (t + 0.5) * l->row_h;
          if (t == 0)
            cairo_move_to (cr, px, py);
          else
            cairo_line_to (cr, px, py);
        }
      cairo_stroke (cr);
      if (l->row_h >= 10)
        for (int t = 0; t < self->T; t++)
          {
            double v = self->h[(gsize) t * self->H + u];
            cairo_arc (cr, x0 + (v + m) / (2 * m) * w, l->top + (t + 0.5) * l->row_h,
                       MAX (2.5, l->em / 5), 0, 2 * G_PI);
            cairo_fill (cr);
          }
    }

  /* legend, wrapped under the value labels */
  {
    double lx = x0, ly = l->bottom + l->em * 1.9;
    for (int i = 0; i < self->n_selected; i++)
      {
        double tw;
        LamRgb c;
        g_snprintf (buf, sizeof buf, "unit %d", self->selected[i]);
        _lam_text_size (st, buf, 0.9, PANGO_WEIGHT_NORMAL, &tw, NULL);
        if (lx > x0 && lx + l->em * 1.4 + tw > x0 + w)
          {
            lx = x0;
            ly += l->em * 1.3;
          }
        unit_color (st, i, &c);
        cairo_rectangle (cr, lx, ly + l->em * 0.5 - 2, l->em * 0.9, 4);
        _lam_style_rgb (st, &c, 1);
        cairo_fill (cr);
        lx += l->em * 1.2;
        lx += _lam_text (st, buf, lx, ly + l->em * 0.5, 0, 0.5, 0.9, PANGO_WEIGHT_NORMAL, NULL, 0.9,
                         0);
        lx += l->em * 0.9;
      }
  }
}

static void
lam_sequence_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamSequenceView *self = LAM_SEQUENCE_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  LamViewStyle st;
  cairo_t *cr;
  Layout l;
  char lo[32], hi[32];

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  _lam_style_begin (&st, widget, cr);
  compute_layout (self, w, h, &l);

  if (self->h == NULL)
    {
      _lam_text (&st, "No hidden states yet: train a recurrent network", w / 2.0, h / 2.0, 0.5,
                 0.5, 1.2, PANGO_WEIGHT_NORMAL, NULL, 0.55, 0);
      goto out;
    }

  _lam_text (&st, self->title ? self->title : "Hidden state over time", l.em, l.em * 0.7, 0, 0,
             1.25, PANGO_WEIGHT_BOLD, NULL, 1, w - 2 * l.em);
  _lam_text (&st,
             self->input.rows
               ? "Read the image top to bottom: after each row, every unit's value (red +, blue −). "
                 "Click a column to follow that unit."
               : "After each step, every unit's value (red +, blue −). Click a column to follow "
                 "that unit.",
             l.em, l.em * 2.4, 0, 0, 0.9, PANGO_WEIGHT_NORMAL, NULL, 0.7, w - 2 * l.em);

  /* panel headers */
  if (l.in_w > 0)
    _lam_text (&st, self->input.rows ? "image" : "input", l.in_x + l.in_w / 2, l.top - l.em * 0.5,
               0.5, 1, 0.95, PANGO_WEIGHT_BOLD, NULL, 0.75, MAX (l.in_w, l.em * 4));
  {
    g_autofree char *head = g_strdup_printf ("hidden state: %d units%s", self->H,
                                             self->sort_units ? ", sorted by when they peak" : "");
    _lam_text (&st, head, l.map_x, l.top - l.em * 0.5, 0, 1, 0.95, PANGO_WEIGHT_BOLD, NULL, 0.75,
               l.plot_x - l.map_x - l.em);
  }
  _lam_text (&st, "followed units", l.plot_x, l.top - l.em * 0.5, 0, 1, 0.95, PANGO_WEIGHT_BOLD,
             NULL, 0.75, l.plot_w);

  /* time axis: labels, and its name turned along it */
  _lam_seq_axis_draw (&self->input, &st, l.axis_x - l.em * 0.4, l.top, l.row_h, self->T,
                      self->hover_step);
  cairo_save (cr);
  cairo_translate (cr, l.em * 0.9, (l.top + l.bottom) / 2);
  cairo_rotate (cr, -G_PI / 2);
  {
    g_autofree char *axis = g_strdup_printf ("← %s", _lam_seq_axis_title (&self->input));
    _lam_text (&st, axis, 0, 0, 0.5, 0.5, 0.95, PANGO_WEIGHT_BOLD, NULL, 0.7, 0);
  }
  cairo_restore (cr);

  _lam_seq_input_draw (&self->input, &st, l.in_x, l.top, l.in_w, l.row_h, self->T,
                       self->hover_step, -1);

  _lam_paint_surface (cr, self->map, l.map_x, l.top, l.map_w, l.bottom - l.top,
                      CAIRO_FILTER_NEAREST);
  cairo_rectangle (cr, l.map_x - 0.5, l.top - 0.5, l.map_w + 1, l.bottom - l.top + 1);
  _lam_style_fg (&st, 0.3);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);

  /* the followed units: their columns framed in their line's colour,
   * with a tab above */
  for (int i = 0; i < self->n_selected; i++)
    {
      double x = l.map_x + self->column[self->selected[i]] * l.col_w;
      double cw = MAX (l.col_w, 3);
      LamRgb c;
      unit_color (&st, i, &c);
      _lam_style_rgb (&st, &c, 1);
      cairo_rectangle (cr, x + l.col_w / 2 - cw / 2 - 1, l.top - l.em * 0.35, cw + 2, l.em * 0.3);
      cairo_fill (cr);
      cairo_rectangle (cr, x - 1, l.top - 1, l.col_w + 2, l.bottom - l.top + 2);
      cairo_set_line_width (cr, 2);
      cairo_stroke (cr);
    }

  if (self->hover_step >= 0)
    {
      _lam_seq_row_band (&st, l.map_x, l.top + self->hover_step * l.row_h, l.map_w, l.row_h);
      _lam_seq_row_band (&st, l.plot_x, l.top + self->hover_step * l.row_h, l.plot_w, l.row_h);
    }
  if (self->hover_unit >= 0 && self->hover_unit < self->H)
    {
      cairo_rectangle (cr, l.map_x + self->column[self->hover_unit] * l.col_w - 1.5, l.top - 1.5,
                       l.col_w + 3, l.bottom - l.top + 3);
      _lam_style_fg (&st, 0.9);
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
    }

  /* colour bar under the map */
  g_snprintf (lo, sizeof lo, "−%.2g", self->hi);
  g_snprintf (hi, sizeof hi, "+%.2g", self->hi);
  _lam_draw_colorbar (&st, LAM_CMAP_DIVERGING, l.map_x + l.em * 2, l.bottom + l.em * 0.9,
                      MIN (l.map_w - l.em * 2, l.em * 14), l.em * 0.7, lo, "0", hi, "h");

  draw_plot (self, &st, &l);

out:
  _lam_style_end (&st);
  cairo_destroy (cr);
}

static void
lam_sequence_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                           int *minimum, int *natural, int *minimum_baseline,
                           int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 480 : 320;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 1000 : 640;
}

/* ── Input ───────────────────────────────────────────────────────────── */

static void
set_hover (LamSequenceView *self, int unit, int step)
{
  if (unit == self->hover_unit && step == self->hover_step)
    return;
  self->hover_unit = unit;
  self->hover_step = step;
  gtk_widget_trigger_tooltip_query (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, LamSequenceView *self)
{
  int unit = -1, step = -1;

  if (!lam_sequence_view_cell_at (self, x, y, &unit, &step))
    step = lam_sequence_view_step_at (self, x, y);
  set_hover (self, unit, step);
}

static void
leave_cb (GtkEventControllerMotion *motion, LamSequenceView *self)
{
  set_hover (self, -1, -1);
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer data)
{
  LamSequenceView *self = LAM_SEQUENCE_VIEW (widget);
  g_autofree char *text = NULL;
  int unit, step;

  if (lam_sequence_view_cell_at (self, x, y, &unit, &step))
    text = lam_sequence_view_describe_cell (self, unit, step);
  else if ((step = lam_sequence_view_step_at (self, x, y)) >= 0)
    {
      g_autofree char *name = _lam_seq_step_name (&self->input, step);
      GString *s = g_string_new (NULL);
      g_string_append_printf (s, "After %s", name);
      for (int i = 0; i < self->n_selected; i++)
        g_string_append_printf (s, "%sunit %d: %.3f", i ? ", " : ": ", self->selected[i],
                                self->h[(gsize) step * self->H + self->selected[i]]);
      text = g_string_free (s, FALSE);
    }
  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
pressed_cb (GtkGestureClick *click, int n_press, double x, double y, LamSequenceView *self)
{
  int unit;

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (lam_sequence_view_cell_at (self, x, y, &unit, NULL))
    lam_sequence_view_toggle_unit (self, unit);
}

/* Arrow keys move a cursor over the map (columns, steps); Enter follows
 * or drops the unit under it. */
static gboolean
key_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
        LamSequenceView *self)
{
  int c, t;

  if (self->h == NULL)
    return GDK_EVENT_PROPAGATE;
  c = self->hover_unit >= 0 ? self->column[self->hover_unit] : 0;
  t = MAX (self->hover_step, 0);
  switch (keyval)
    {
    case GDK_KEY_Left:
      c = MAX (c - 1, 0);
      break;
    case GDK_KEY_Right:
      c = MIN (c + 1, self->H - 1);
      break;
    case GDK_KEY_Up:
      t = MAX (t - 1, 0);
      break;
    case GDK_KEY_Down:
      t = MIN (t + 1, self->T - 1);
      break;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_space:
      lam_sequence_view_toggle_unit (self, self->order[c]);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
  set_hover (self, self->order[c], t);
  {
    g_autofree char *text = lam_sequence_view_describe_cell (self, self->order[c], t);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                    text, -1);
  }
  return GDK_EVENT_STOP;
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_sequence_view_finalize (GObject *object)
{
  LamSequenceView *self = LAM_SEQUENCE_VIEW (object);

  g_free (self->h);
  g_free (self->order);
  g_free (self->column);
  g_free (self->title);
  g_clear_pointer (&self->map, cairo_surface_destroy);
  _lam_seq_input_clear (&self->input);
  G_OBJECT_CLASS (lam_sequence_view_parent_class)->finalize (object);
}

static void
lam_sequence_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamSequenceView *self = LAM_SEQUENCE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SORT_UNITS:
      g_value_set_boolean (value, self->sort_units);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_sequence_view_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  LamSequenceView *self = LAM_SEQUENCE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SORT_UNITS:
      lam_sequence_view_set_sort_units (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_sequence_view_class_init (LamSequenceViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lam_sequence_view_finalize;
  object_class->get_property = lam_sequence_view_get_property;
  object_class->set_property = lam_sequence_view_set_property;
  widget_class->snapshot = lam_sequence_view_snapshot;
  widget_class->measure = lam_sequence_view_measure;

  properties[PROP_SORT_UNITS] =
    g_param_spec_boolean ("sort-units", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "sequenceview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lam_sequence_view_init (LamSequenceView *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->sort_units = TRUE;
  self->hover_unit = self->hover_step = -1;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Hidden state over time", -1);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (controller, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_click_new ();
  g_signal_connect (gesture, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
}

GtkWidget *
lam_sequence_view_new (void)
{
  return g_object_new (LAM_TYPE_SEQUENCE_VIEW, NULL);
}
