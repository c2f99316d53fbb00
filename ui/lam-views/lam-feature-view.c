/* lam-feature-view.c: per-layer activations as rows of heatmaps and bars.
 *
 * set_activations turns each node's output into cached surfaces (the
 * heatmaps) or a copy of the values (bars); size_allocate lays the rows
 * out for the width (tiles wrap), and snapshot draws only the rows in
 * view.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>
#include <string.h>

#include "lam-feature-view.h"
#include "lam-view-common.h"

#define TARGET_TILE 64.0

typedef enum {
  ROW_IMAGE,     /* C×H×W: one heatmap per channel */
  ROW_MAP,       /* rank 2, or an RGB input: one picture */
  ROW_VECTOR,    /* bars, or a wrapped strip when long */
  ROW_PROBS,     /* labelled probability bars */
} RowKind;

typedef struct {
  char        *name;
  char        *info;      /* "Conv2D · 6×28×28" */
  char        *range;     /* "−1.2 to 3.4" */
  RowKind      kind;
  int          c, h, w;   /* vectors: w values */
  float       *values;    /* vectors and probabilities */
  char       **labels;    /* probabilities: class names */
  double       lo, hi;
  LamColormap  cmap;
  GPtrArray   *tiles;     /* cairo_surface_t */
  int          n_more;

  /* layout */
  double       y, height;
  double       tile_w, tile_h;
  int          cols;
  gboolean     strip;     /* a long vector as a wrapped heatmap */
  double       cell;
} Row;

struct _LamFeatureView {
  GtkWidget  parent_instance;

  GArray    *rows;        /* Row */
  int        selected;
  int        hover;
  int        max_channels;
  gboolean   scroll_pending;

  LamScroll  scroll;
  double     content_height;
  int        layout_width;
};

enum {
  PROP_0,
  PROP_MAX_CHANNELS,
  PROP_SCROLL_FIRST,
  N_PROPS = PROP_SCROLL_FIRST
};

enum {
  NODE_ACTIVATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE_WITH_CODE (LamFeatureView, lam_feature_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE, NULL))

static void
row_clear (gpointer data)
{
  Row *r = data;

  g_free (r->name);
  g_free (r->info);
  g_free (r->range);
  g_free (r->values);
  g_strfreev (r->labels);
  g_clear_pointer (&r->tiles, g_ptr_array_unref);
}

/* ── Layout ──────────────────────────────────────────────────────────── */

typedef struct {
  double em, pad, gap;
  double label_w;
  double content_x, content_w;
} Metrics;

static void
metrics (LamFeatureView *self, int width, Metrics *m)
{
  m->em = _lam_widget_em (GTK_WIDGET (self));
  m->pad = round (m->em * 0.6);
  m->gap = MAX (3, round (m->em * 0.3));
  m->label_w = CLAMP (round (width * 0.24), m->em * 9, m->em * 16);
  m->content_x = m->label_w + 2 * m->pad;
  m->content_w = MAX (width - m->content_x - m->pad, m->em * 4);
}

static void
layout_row (Row *r, const Metrics *m)
{
  double label_h = m->em * 4.4, content_h = 0;

  switch (r->kind)
    {
    case ROW_IMAGE:
    case ROW_MAP:
      {
        double scale = r->h <= TARGET_TILE ? MAX (1, floor (TARGET_TILE / r->h)) : TARGET_TILE * 1.5 / r->h;
        int cells = (int) r->tiles->len + (r->n_more > 0);
        int lines;

        r->tile_h = r->h * scale;
        r->tile_w = r->w * scale;
        if (r->tile_w > m->content_w)
          {
            r->tile_h *= m->content_w / r->tile_w;
            r->tile_w = m->content_w;
          }
        r->cols = MAX (1, (int) ((m->content_w + m->gap) / (r->tile_w + m->gap)));
        lines = (cells + r->cols - 1) / r->cols;
        content_h = lines * (r->tile_h + m->gap) - m->gap;
      }
      break;
    case ROW_VECTOR:
      r->strip = r->w * 4 > m->content_w;
      if (r->strip)
        {
          r->cell = MAX (4, floor (m->content_w / 96));
          r->cols = MAX (1, (int) (m->content_w / r->cell));
          content_h = ceil ((double) r->w / r->cols) * r->cell;
        }
      else
        content_h = m->em * 4;
      break;
    case ROW_PROBS:
      content_h = r->w * m->em * 1.6;
      break;
    default:
      break;
    }
  r->height = MAX (label_h, content_h) + 2 * m->pad;
}

static void
relayout (LamFeatureView *self, int width)
{
  Metrics m;
  double y = 0;

  metrics (self, width, &m);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = &g_array_index (self->rows, Row, i);
      layout_row (r, &m);
      r->y = y;
      y += r->height;
    }
  self->content_height = y;
  self->layout_width = width;
}

static void
scroll_to_selected (LamFeatureView *self)
{
  Row *r;

  if (self->selected < 0 || self->selected >= (int) self->rows->len)
    return;
  r = &g_array_index (self->rows, Row, self->selected);
  _lam_scroll_show (&self->scroll, r->y, r->y + r->height);
}

static void
lam_feature_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  LamFeatureView *self = LAM_FEATURE_VIEW (widget);

  relayout (self, width);
  _lam_scroll_configure (&self->scroll, width, height, self->content_height);
  if (self->scroll_pending)
    {
      self->scroll_pending = FALSE;
      scroll_to_selected (self);
    }
}

static void
lam_feature_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                          int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 320 : 120;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 900 : 600;
}

/* ── Data ────────────────────────────────────────────────────────────── */

static void
set_scale (Row *r, const float *v, gsize n, gboolean input)
{
  float lo, hi;
  char a[32], b[32];

  if (!_lam_float_range (v, n, &lo, &hi))
    lo = hi = 0;
  /* one scale per layer, from the 98% quantile of |v| so that a few
   * outliers do not wash the other maps out (the label says the range) */
  if (input)
    r->cmap = LAM_CMAP_GRAY, r->lo = lo, r->hi = hi;
  else if (lo < 0)
    r->cmap = LAM_CMAP_DIVERGING, r->hi = _lam_robust_max_abs (v, n, 0.98), r->lo = -r->hi;
  else
    r->cmap = LAM_CMAP_SEQUENTIAL, r->lo = 0, r->hi = _lam_robust_max_abs (v, n, 0.98);
  g_snprintf (a, sizeof a, "%.3g", lo);
  g_snprintf (b, sizeof b, "%.3g", hi);
  r->range = g_strdup_printf ("%s to %s", a, b);
}

static gboolean
row_from_node (LamFeatureView *self, const LamGraph *graph, const LamNode *node, const float *v,
               const char *const *class_names, Row *r)
{
  const LamLayerInfo *info = lam_layer_info (node->kind);
  const LamNode *loss = lam_graph_loss_node (graph);
  const LamShape *s = &node->out_shape;
  gsize n = (gsize) lam_shape_size (s);
  gboolean input = node->kind == LAM_LAYER_INPUT;
  gboolean logits = FALSE;
  char shape[64];

  if (n == 0)
    return FALSE;
  memset (r, 0, sizeof *r);
  r->name = g_strdup (node->name);
  r->tiles = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);
  lam_shape_to_string (s, shape, sizeof shape);
  r->info = g_strdup_printf ("%s · %s", info ? info->type_name : "?", shape);

  if (loss && loss->inputs->len > 0 && g_strcmp0 (g_ptr_array_index (loss->inputs, 0), node->name) == 0)
    logits = TRUE;

  /* an image: rank 3 with a real picture, or rank 1 in disguise (C×1×1) */
  if (s->rank == 3 && s->d[1] * s->d[2] > 1)
    {
      r->c = s->d[0], r->h = s->d[1], r->w = s->d[2];
      set_scale (r, v, n, input);
      if (input && r->c == 3)
        {
          float lo = (float) r->lo, hi = (float) r->hi;
          g_autofree float *norm = g_new (float, n);
          for (gsize i = 0; i < n; i++)
            norm[i] = hi > lo ? (v[i] - lo) / (hi - lo) - 0.5f : 0.f;
          r->kind = ROW_MAP;
          g_ptr_array_add (r->tiles, _lam_rgb_planes_new (norm, r->w, r->h, 0.5));
          return TRUE;
        }
      r->kind = ROW_IMAGE;
      for (int ch = 0; ch < MIN (r->c, self->max_channels); ch++)
        g_ptr_array_add (r->tiles, _lam_heatmap_new (v + (gsize) ch * r->h * r->w, r->w, r->h,
                                                     r->lo, r->hi, r->cmap));
      r->n_more = MAX (0, r->c - self->max_channels);
      return TRUE;
    }
  if (s->rank == 2)
    {
      r->kind = ROW_MAP;
      r->c = 1, r->h = s->d[0], r->w = s->d[1];
      set_scale (r, v, n, input);
      g_ptr_array_add (r->tiles, _lam_heatmap_new (v, r->w, r->h, r->lo, r->hi, r->cmap));
      return TRUE;
    }

  r->w = (int) n;
  r->values = g_memdup2 (v, n * sizeof (float));
  if (logits && loss->kind == LAM_LAYER_SOFTMAX_XENT && n > 1)
    {
      double mx = -INFINITY, sum = 0;
      for (gsize i = 0; i < n; i++)
        mx = MAX (mx, r->values[i]);
      for (gsize i = 0; i < n; i++)
        sum += r->values[i] = (float) exp (r->values[i] - mx);
      for (gsize i = 0; i < n; i++)
        r->values[i] /= (float) sum;
      g_free (r->info);
      r->info = g_strdup_printf ("%s · %s → softmax", info ? info->type_name : "?", shape);
    }
  if ((logits && loss->kind == LAM_LAYER_SOFTMAX_XENT) || node->kind == LAM_LAYER_SOFTMAX)
    {
      r->kind = ROW_PROBS;
      gsize n_names = class_names ? g_strv_length ((char **) class_names) : 0;
      r->labels = g_new0 (char *, n + 1);
      for (gsize i = 0; i < n; i++)
        r->labels[i] = i < n_names ? g_strdup (class_names[i])
                                   : g_strdup_printf ("class %" G_GSIZE_FORMAT, i);
      r->lo = 0, r->hi = 1;
      r->range = g_strdup ("probabilities");
      return TRUE;
    }
  r->kind = ROW_VECTOR;
  set_scale (r, v, n, input);
  if (input)
    r->cmap = r->lo < 0 ? LAM_CMAP_DIVERGING : LAM_CMAP_SEQUENTIAL;
  g_ptr_array_add (r->tiles, _lam_heatmap_new (v, r->w, 1, r->lo, r->hi, r->cmap));
  return TRUE;
}

void
lam_feature_view_clear (LamFeatureView *self)
{
  g_return_if_fail (LAM_IS_FEATURE_VIEW (self));

  g_array_set_size (self->rows, 0);
  self->hover = -1;
  gtk_widget_queue_allocate (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_feature_view_set_activations (LamFeatureView *self, const LamGraph *graph, float **acts,
                                  const char *const *class_names)
{
  g_autoptr(GArray) order = NULL;
  g_autofree char *selected = NULL;

  g_return_if_fail (LAM_IS_FEATURE_VIEW (self));
  g_return_if_fail (graph != NULL && acts != NULL);

  if (self->selected >= 0 && self->selected < (int) self->rows->len)
    selected = g_strdup (g_array_index (self->rows, Row, self->selected).name);
  g_array_set_size (self->rows, 0);
  self->selected = -1;
  self->hover = -1;

  order = lam_graph_topo_order (graph, NULL);
  for (guint k = 0; k < graph->nodes->len; k++)
    {
      guint i = order && order->len == graph->nodes->len ? (guint) g_array_index (order, int, k) : k;
      const LamNode *node = g_ptr_array_index (graph->nodes, i);
      Row r;

      if (acts[i] == NULL || !row_from_node (self, graph, node, acts[i], class_names, &r))
        continue;
      if (selected && strcmp (selected, r.name) == 0)
        self->selected = (int) self->rows->len;
      g_array_append_val (self->rows, r);
    }

  if (self->layout_width > 0)
    relayout (self, self->layout_width);
  gtk_widget_queue_allocate (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static int
find_row (LamFeatureView *self, const char *name)
{
  for (guint i = 0; name && i < self->rows->len; i++)
    if (strcmp (g_array_index (self->rows, Row, i).name, name) == 0)
      return (int) i;
  return -1;
}

gboolean
lam_feature_view_select_node (LamFeatureView *self, const char *name)
{
  int i;

  g_return_val_if_fail (LAM_IS_FEATURE_VIEW (self), FALSE);

  i = find_row (self, name);
  if (i == self->selected)
    return i >= 0;
  self->selected = i;
  if (i >= 0)
    {
      if (self->layout_width > 0 && gtk_widget_get_height (GTK_WIDGET (self)) > 0)
        scroll_to_selected (self);
      else
        self->scroll_pending = TRUE;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return i >= 0;
}

const char *
lam_feature_view_get_selected_node (LamFeatureView *self)
{
  g_return_val_if_fail (LAM_IS_FEATURE_VIEW (self), NULL);

  if (self->selected < 0 || self->selected >= (int) self->rows->len)
    return NULL;
  return g_array_index (self->rows, Row, self->selected).name;
}

int
lam_feature_view_get_max_channels (LamFeatureView *self)
{
  g_return_val_if_fail (LAM_IS_FEATURE_VIEW (self), 0);
  return self->max_channels;
}

void
lam_feature_view_set_max_channels (LamFeatureView *self, int max_channels)
{
  g_return_if_fail (LAM_IS_FEATURE_VIEW (self));
  g_return_if_fail (max_channels > 0);

  if (self->max_channels == max_channels)
    return;
  /* applies to the next set_activations: the values themselves are not kept */
  self->max_channels = max_channels;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_CHANNELS]);
}

guint
lam_feature_view_get_n_rows (LamFeatureView *self)
{
  g_return_val_if_fail (LAM_IS_FEATURE_VIEW (self), 0);
  return self->rows->len;
}

const char *
lam_feature_view_get_row_node (LamFeatureView *self, guint row)
{
  g_return_val_if_fail (LAM_IS_FEATURE_VIEW (self), NULL);
  g_return_val_if_fail (row < self->rows->len, NULL);
  return g_array_index (self->rows, Row, row).name;
}

gboolean
lam_feature_view_get_row_rect (LamFeatureView *self, guint row, graphene_rect_t *rect)
{
  Row *r;

  g_return_val_if_fail (LAM_IS_FEATURE_VIEW (self), FALSE);

  if (row >= self->rows->len || self->layout_width <= 0)
    return FALSE;
  r = &g_array_index (self->rows, Row, row);
  graphene_rect_init (rect, 0, r->y - _lam_scroll_offset (&self->scroll), self->layout_width,
                      r->height);
  return TRUE;
}

int
lam_feature_view_row_at (LamFeatureView *self, double x, double y)
{
  double cy;

  g_return_val_if_fail (LAM_IS_FEATURE_VIEW (self), -1);

  cy = y + _lam_scroll_offset (&self->scroll);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = &g_array_index (self->rows, Row, i);
      if (cy >= r->y && cy < r->y + r->height)
        return (int) i;
    }
  return -1;
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

static void
draw_bars (LamViewStyle *st, const Row *r, const Metrics *m, double y)
{
  cairo_t *cr = st->cr;
  double h = m->em * 4, bw = MIN (m->em * 1.6, m->content_w / r->w), base;
  double top = r->hi > 0 ? r->hi : 1, bottom = r->lo < 0 ? -r->lo : 0;

  base = y + h * top / (top + bottom);
  for (int i = 0; i < r->w; i++)
    {
      double v = r->values[i], bh;
      LamRgb c;
      if (!isfinite (v))
        continue;
      bh = fabs (v) / (top + bottom) * h;
      /* solid ends of the map: pale colours near 0 would vanish on white */
      if (r->cmap == LAM_CMAP_DIVERGING)
        _lam_cmap (LAM_CMAP_DIVERGING, v >= 0 ? 0.9 : -0.9, &c);
      else
        c = (LamRgb) { st->accent.red, st->accent.green, st->accent.blue };
      cairo_rectangle (cr, m->content_x + i * bw + (bw > 3 ? 0.5 : 0), v >= 0 ? base - bh : base,
                       MAX (bw - (bw > 3 ? 1 : 0), 0.5), MAX (bh, 0.5));
      _lam_style_rgb (st, &c, 1);
      cairo_fill (cr);
    }
  _lam_style_fg (st, 0.45);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, m->content_x, round (base) + 0.5);
  cairo_line_to (cr, m->content_x + r->w * bw, round (base) + 0.5);
  cairo_stroke (cr);
}

static void
draw_strip (LamViewStyle *st, const Row *r, const Metrics *m, double y)
{
  cairo_surface_t *s = g_ptr_array_index (r->tiles, 0);

  /* the 1×n surface, one line of cols cells at a time */
  for (int line = 0; line * r->cols < r->w; line++)
    {
      int n = MIN (r->cols, r->w - line * r->cols);
      cairo_save (st->cr);
      cairo_rectangle (st->cr, m->content_x, y + line * r->cell, n * r->cell, r->cell);
      cairo_clip (st->cr);
      cairo_translate (st->cr, m->content_x - line * r->cols * r->cell, y + line * r->cell);
      cairo_scale (st->cr, r->cell, r->cell);
      cairo_set_source_surface (st->cr, s, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (st->cr), CAIRO_FILTER_NEAREST);
      cairo_paint (st->cr);
      cairo_restore (st->cr);
    }
}

static void
draw_probs (LamViewStyle *st, const Row *r, const Metrics *m, double y)
{
  cairo_t *cr = st->cr;
  double line = m->em * 1.6, name_w = MIN (m->em * 9, m->content_w * 0.35);
  double bar_x = m->content_x + name_w + m->pad, bar_w = m->content_w - name_w - m->pad - m->em * 4;
  int best = 0;

  for (int i = 1; i < r->w; i++)
    if (r->values[i] > r->values[best])
      best = i;
  for (int i = 0; i < r->w; i++)
    {
      double yy = y + i * line, p = CLAMP (r->values[i], 0, 1);
      char buf[32];

      _lam_text (st, r->labels[i], bar_x - m->pad, yy + line / 2, 1, 0.5, 1,
                 i == best ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, NULL, 0.9, name_w);
      cairo_rectangle (cr, bar_x, yy + line * 0.15, bar_w, line * 0.7);
      _lam_style_fg (st, 0.07);
      cairo_fill (cr);
      cairo_rectangle (cr, bar_x, yy + line * 0.15, MAX (bar_w * p, 1), line * 0.7);
      cairo_set_source_rgba (cr, st->accent.red, st->accent.green, st->accent.blue,
                             i == best ? 1 : 0.55);
      cairo_fill (cr);
      g_snprintf (buf, sizeof buf, "%.1f%%", p * 100);
      _lam_text (st, buf, bar_x + bar_w + m->pad, yy + line / 2, 0, 0.5, 0.95,
                 i == best ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, NULL, 0.9, 0);
    }
}

static void
draw_row (LamFeatureView *self, LamViewStyle *st, const Metrics *m, int index, double y, int width)
{
  Row *r = &g_array_index (self->rows, Row, index);
  cairo_t *cr = st->cr;
  double cy = y + m->pad;

  if (index == self->selected)
    {
      cairo_rectangle (cr, 0, y, width, r->height);
      cairo_set_source_rgba (cr, st->accent.red, st->accent.green, st->accent.blue, 0.14);
      cairo_fill (cr);
      cairo_rectangle (cr, 0, y, 4, r->height);
      cairo_set_source_rgba (cr, st->accent.red, st->accent.green, st->accent.blue, 1);
      cairo_fill (cr);
    }
  else if (index == self->hover)
    {
      cairo_rectangle (cr, 0, y, width, r->height);
      _lam_style_fg (st, 0.04);
      cairo_fill (cr);
    }
  _lam_style_fg (st, 0.12);
  cairo_rectangle (cr, 0, round (y + r->height) - 1, width, 1);
  cairo_fill (cr);

  _lam_text (st, r->name, m->pad * 1.5, cy, 0, 0, 1.1, PANGO_WEIGHT_BOLD, NULL, 1, m->label_w);
  _lam_text (st, r->info, m->pad * 1.5, cy + m->em * 1.5, 0, 0, 0.9, PANGO_WEIGHT_NORMAL, NULL,
             0.75, m->label_w);
  if (r->range)
    _lam_text (st, r->range, m->pad * 1.5, cy + m->em * 2.8, 0, 0, 0.85, PANGO_WEIGHT_NORMAL,
               NULL, 0.6, m->label_w);

  switch (r->kind)
    {
    case ROW_IMAGE:
    case ROW_MAP:
      for (guint t = 0; t <= r->tiles->len; t++)
        {
          double tx = m->content_x + (t % r->cols) * (r->tile_w + m->gap);
          double ty = cy + (t / r->cols) * (r->tile_h + m->gap);
          if (t == r->tiles->len)
            {
              char buf[32];
              if (r->n_more <= 0)
                break;
              g_snprintf (buf, sizeof buf, "+%d more", r->n_more);
              _lam_text (st, buf, tx + m->gap, ty + r->tile_h / 2, 0, 0.5, 0.95,
                         PANGO_WEIGHT_BOLD, NULL, 0.7, 0);
              break;
            }
          _lam_paint_surface (cr, g_ptr_array_index (r->tiles, t), tx, ty, r->tile_w, r->tile_h,
                              r->tile_w >= r->w ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
        }
      break;
    case ROW_VECTOR:
      if (r->strip)
        draw_strip (st, r, m, cy);
      else
        draw_bars (st, r, m, cy);
      break;
    case ROW_PROBS:
      draw_probs (st, r, m, cy);
      break;
    default:
      break;
    }
}

static void
lam_feature_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamFeatureView *self = LAM_FEATURE_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  double offset = _lam_scroll_offset (&self->scroll);
  LamViewStyle st;
  Metrics m;
  cairo_t *cr;

  if (w <= 0 || h <= 0)
    return;
  if (self->layout_width != w)
    relayout (self, w);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  _lam_style_begin (&st, widget, cr);
  metrics (self, w, &m);
  if (self->rows->len == 0)
    _lam_text (&st, "No activations yet: pick a sample", w / 2.0, h / 2.0, 0.5, 0.5, 1.2,
               PANGO_WEIGHT_NORMAL, NULL, 0.55, 0);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = &g_array_index (self->rows, Row, i);
      if (r->y + r->height < offset || r->y > offset + h)
        continue;
      draw_row (self, &st, &m, (int) i, r->y - offset, w);
    }
  _lam_style_end (&st);
  cairo_destroy (cr);
}

/* ── Input ───────────────────────────────────────────────────────────── */

static void
activate_row (LamFeatureView *self, int i)
{
  if (i < 0 || i >= (int) self->rows->len)
    return;
  self->selected = i;
  scroll_to_selected (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[NODE_ACTIVATED], 0, g_array_index (self->rows, Row, i).name);
}

static void
pressed_cb (GtkGestureClick *click, int n_press, double x, double y, LamFeatureView *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  activate_row (self, lam_feature_view_row_at (self, x, y));
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, LamFeatureView *self)
{
  int i = lam_feature_view_row_at (self, x, y);

  if (i != self->hover)
    {
      self->hover = i;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *motion, LamFeatureView *self)
{
  self->hover = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
key_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
        LamFeatureView *self)
{
  int n = (int) self->rows->len;

  if (n == 0)
    return GDK_EVENT_PROPAGATE;
  switch (keyval)
    {
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      activate_row (self, self->selected < 0 ? 0 : MAX (self->selected - 1, 0));
      return GDK_EVENT_STOP;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      activate_row (self, self->selected < 0 ? 0 : MIN (self->selected + 1, n - 1));
      return GDK_EVENT_STOP;
    case GDK_KEY_Home:
      activate_row (self, 0);
      return GDK_EVENT_STOP;
    case GDK_KEY_End:
      activate_row (self, n - 1);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_feature_view_dispose (GObject *object)
{
  LamFeatureView *self = LAM_FEATURE_VIEW (object);

  _lam_scroll_clear (&self->scroll);
  G_OBJECT_CLASS (lam_feature_view_parent_class)->dispose (object);
}

static void
lam_feature_view_finalize (GObject *object)
{
  LamFeatureView *self = LAM_FEATURE_VIEW (object);

  g_array_unref (self->rows);
  G_OBJECT_CLASS (lam_feature_view_parent_class)->finalize (object);
}

static void
lam_feature_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamFeatureView *self = LAM_FEATURE_VIEW (object);

  if (_lam_scroll_get_property (&self->scroll, PROP_SCROLL_FIRST, prop_id, value))
    return;
  switch (prop_id)
    {
    case PROP_MAX_CHANNELS:
      g_value_set_int (value, self->max_channels);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_feature_view_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  LamFeatureView *self = LAM_FEATURE_VIEW (object);

  if (_lam_scroll_set_property (&self->scroll, PROP_SCROLL_FIRST, prop_id, value))
    return;
  switch (prop_id)
    {
    case PROP_MAX_CHANNELS:
      lam_feature_view_set_max_channels (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_feature_view_class_init (LamFeatureViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lam_feature_view_dispose;
  object_class->finalize = lam_feature_view_finalize;
  object_class->get_property = lam_feature_view_get_property;
  object_class->set_property = lam_feature_view_set_property;
  widget_class->snapshot = lam_feature_view_snapshot;
  widget_class->measure = lam_feature_view_measure;
  widget_class->size_allocate = lam_feature_view_size_allocate;

  properties[PROP_MAX_CHANNELS] =
    g_param_spec_int ("max-channels", NULL, NULL, 1, 1024, 32,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  _lam_scroll_install (object_class, PROP_SCROLL_FIRST);

  /**
   * LamFeatureView::node-activated:
   * @name: the node's name
   *
   * The user selected a row (click or keyboard).
   */
  signals[NODE_ACTIVATED] =
    g_signal_new ("node-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  gtk_widget_class_set_css_name (widget_class, "featureview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_LIST);
}

static void
lam_feature_view_init (LamFeatureView *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_array_set_clear_func (self->rows, row_clear);
  self->selected = self->hover = -1;
  self->max_channels = 32;
  _lam_scroll_init (&self->scroll, GTK_WIDGET (self));

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "Layer activations",
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  "One row per layer for the chosen sample; Up and Down select a layer",
                                  -1);

  gesture = gtk_gesture_click_new ();
  g_signal_connect (gesture, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (controller, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

GtkWidget *
lam_feature_view_new (void)
{
  return g_object_new (LAM_TYPE_FEATURE_VIEW, NULL);
}
