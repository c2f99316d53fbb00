/* lam-attention-view.c: one query × key matrix per attention head.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>

#include "lam-attention-view.h"
#include "lam-seq-common.h"

struct _LamAttentionView {
  GtkWidget        parent_instance;

  float           *p;          /* [heads, T, T] */
  int              heads, T;
  double           hi;         /* colour scale: 0..hi */
  double          *distance;   /* per head: mean |q − k| */
  char            *title;
  GPtrArray       *maps;       /* cairo_surface_t, one per head */
  gboolean         auto_scale;
  LamSeqInput      input;

  int              hover_head, hover_q, hover_k;
};

G_DEFINE_FINAL_TYPE (LamAttentionView, lam_attention_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_AUTO_SCALE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct {
  double em;
  int    cols, rows;
  double top, cell, side;      /* side = T · cell */
  double head_h, key_h, gap_x, gap_y;
  double axis_x, in_x, in_w, x0;
  double bottom;
} Layout;

static void
layout_for (LamAttentionView *self, int width, int height, int cols, Layout *l)
{
  int T = MAX (self->T, 1), heads = MAX (self->heads, 1);
  double cell_h, cell_w;

  l->cols = cols;
  l->rows = (heads + cols - 1) / cols;
  l->top = round (l->em * 4.6);
  l->head_h = round (l->em * 2.9);
  l->key_h = round (l->em * 1.6);
  l->gap_x = round (l->em * 1.5);
  l->gap_y = round (l->em * 0.6);
  l->axis_x = round (l->em * 4.4);
  l->in_x = l->axis_x + round (l->em * 0.5);
  cell_h = (height - l->top - l->em * 3.4 - l->rows * (l->head_h + l->key_h)
            - (l->rows - 1) * l->gap_y) / (l->rows * T);
  l->in_w = round (_lam_seq_input_width (&self->input, self->T, cell_h, width * 0.2));
  l->x0 = l->in_x + l->in_w + (l->in_w > 0 ? round (l->em * 1.2) : 0);
  cell_w = (width - l->x0 - l->em - (cols - 1) * l->gap_x) / (cols * T);
  l->cell = MAX (MIN (MIN (cell_h, cell_w), l->em * 2.5), 1);
  if (l->cell >= 3)
    l->cell = floor (l->cell);
  /* the input beside the queries, at the final row height */
  l->in_w = round (_lam_seq_input_width (&self->input, self->T, l->cell, width * 0.2));
  l->x0 = l->in_x + l->in_w + (l->in_w > 0 ? round (l->em * 1.2) : 0);
  l->side = l->cell * T;
  l->bottom = l->top + l->rows * (l->head_h + l->side + l->key_h) + (l->rows - 1) * l->gap_y;
}

/* The grid with the biggest cells; among (nearly) equal ones, the one
 * with the fewest empty places, then the fewest lines. */
static void
compute_layout (LamAttentionView *self, int width, int height, Layout *l)
{
  int heads = MAX (self->heads, 1), best_cols = 1, best_empty = G_MAXINT;
  double best = -1;

  l->em = _lam_widget_em (GTK_WIDGET (self));
  for (int cols = 1; cols <= heads; cols++)
    {
      int empty;
      layout_for (self, width, height, cols, l);
      empty = l->rows * cols - heads;
      if (l->cell > best + 0.25 || (l->cell >= best - 0.25 && empty <= best_empty))
        best = MAX (best, l->cell), best_cols = cols, best_empty = empty;
    }
  layout_for (self, width, height, best_cols, l);
}

static void
panel_origin (const Layout *l, int head, double *x, double *y)
{
  int r = head / l->cols, c = head % l->cols;

  *x = l->x0 + c * (l->side + l->gap_x);
  *y = l->top + r * (l->head_h + l->side + l->key_h + l->gap_y) + l->head_h;
}

/* ── Data ────────────────────────────────────────────────────────────── */

static void
rebuild (LamAttentionView *self)
{
  gsize n = (gsize) self->heads * self->T * self->T;

  g_ptr_array_set_size (self->maps, 0);
  if (self->p == NULL)
    return;
  /* auto: up to the 99% quantile, so one sharp spike does not darken
   * the rest (the colour bar says the top) */
  self->hi = self->auto_scale ? _lam_robust_max_abs (self->p, n, 0.99) : 1.0;
  if (!(self->hi > 0))
    self->hi = 1;
  for (int h = 0; h < self->heads; h++)
    g_ptr_array_add (self->maps, _lam_heatmap_new (self->p + (gsize) h * self->T * self->T,
                                                   self->T, self->T, 0, self->hi,
                                                   LAM_CMAP_SEQUENTIAL));
}

void
lam_attention_view_clear (LamAttentionView *self)
{
  g_return_if_fail (LAM_IS_ATTENTION_VIEW (self));

  g_clear_pointer (&self->p, g_free);
  g_clear_pointer (&self->distance, g_free);
  g_clear_pointer (&self->title, g_free);
  g_ptr_array_set_size (self->maps, 0);
  self->heads = self->T = 0;
  self->hover_head = self->hover_q = self->hover_k = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_attention_view_set_weights (LamAttentionView *self, const float *p, int heads, int T,
                                const char *title)
{
  g_autoptr(GString) desc = g_string_new (NULL);

  g_return_if_fail (LAM_IS_ATTENTION_VIEW (self));
  g_return_if_fail (p != NULL && heads > 0 && T > 0);

  if (heads != self->heads || T != self->T)
    self->hover_head = self->hover_q = self->hover_k = -1;
  g_free (self->p);
  g_free (self->distance);
  g_free (self->title);
  self->p = g_memdup2 (p, (gsize) heads * T * T * sizeof (float));
  self->heads = heads;
  self->T = T;
  self->title = g_strdup (title);
  self->distance = g_new0 (double, heads);
  for (int h = 0; h < heads; h++)
    {
      double d = 0;
      for (int q = 0; q < T; q++)
        for (int k = 0; k < T; k++)
          d += p[((gsize) h * T + q) * T + k] * ABS (q - k);
      self->distance[h] = d / T;
      g_string_append_printf (desc, "%shead %d looks %.1f steps away on average", h ? "; " : "",
                              h + 1, self->distance[h]);
    }
  rebuild (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  desc->str, -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_attention_view_set_input (LamAttentionView *self, const float *x, int T, int F,
                              gboolean image_rows)
{
  g_return_if_fail (LAM_IS_ATTENTION_VIEW (self));

  _lam_seq_input_set (&self->input, x, T, F, image_rows);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_attention_view_set_step_labels (LamAttentionView *self, const char *const *labels)
{
  g_return_if_fail (LAM_IS_ATTENTION_VIEW (self));

  _lam_seq_input_set_labels (&self->input, labels);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
lam_attention_view_get_auto_scale (LamAttentionView *self)
{
  g_return_val_if_fail (LAM_IS_ATTENTION_VIEW (self), FALSE);
  return self->auto_scale;
}

void
lam_attention_view_set_auto_scale (LamAttentionView *self, gboolean auto_scale)
{
  g_return_if_fail (LAM_IS_ATTENTION_VIEW (self));

  auto_scale = !!auto_scale;
  if (self->auto_scale == auto_scale)
    return;
  self->auto_scale = auto_scale;
  rebuild (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUTO_SCALE]);
}

int
lam_attention_view_get_n_heads (LamAttentionView *self)
{
  g_return_val_if_fail (LAM_IS_ATTENTION_VIEW (self), 0);
  return self->heads;
}

const float *
lam_attention_view_get_weights (LamAttentionView *self, int *heads, int *T)
{
  g_return_val_if_fail (LAM_IS_ATTENTION_VIEW (self), NULL);

  if (heads)
    *heads = self->heads;
  if (T)
    *T = self->T;
  return self->p;
}

/* ── Hit testing ─────────────────────────────────────────────────────── */

static void
current_layout (LamAttentionView *self, Layout *l)
{
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), l);
}

gboolean
lam_attention_view_cell_at (LamAttentionView *self, double x, double y, int *head, int *query,
                            int *key)
{
  Layout l;

  g_return_val_if_fail (LAM_IS_ATTENTION_VIEW (self), FALSE);

  if (self->p == NULL)
    return FALSE;
  current_layout (self, &l);
  for (int h = 0; h < self->heads; h++)
    {
      double px, py;
      panel_origin (&l, h, &px, &py);
      if (x < px || y < py || x >= px + l.side || y >= py + l.side)
        continue;
      if (head)
        *head = h;
      if (query)
        *query = MIN ((int) ((y - py) / l.cell), self->T - 1);
      if (key)
        *key = MIN ((int) ((x - px) / l.cell), self->T - 1);
      return TRUE;
    }
  return FALSE;
}

gboolean
lam_attention_view_get_cell_rect (LamAttentionView *self, int head, int query, int key,
                                  graphene_rect_t *rect)
{
  Layout l;
  double px, py;

  g_return_val_if_fail (LAM_IS_ATTENTION_VIEW (self), FALSE);

  if (self->p == NULL || head < 0 || head >= self->heads || query < 0 || query >= self->T
      || key < 0 || key >= self->T)
    return FALSE;
  current_layout (self, &l);
  panel_origin (&l, head, &px, &py);
  graphene_rect_init (rect, px + key * l.cell, py + query * l.cell, l.cell, l.cell);
  return TRUE;
}

char *
lam_attention_view_describe_cell (LamAttentionView *self, int head, int query, int key)
{
  g_autofree char *q = NULL;
  g_autofree char *k = NULL;

  g_return_val_if_fail (LAM_IS_ATTENTION_VIEW (self), NULL);
  g_return_val_if_fail (self->p && head >= 0 && head < self->heads && query >= 0
                        && query < self->T && key >= 0 && key < self->T, NULL);

  q = _lam_seq_step_name (&self->input, query);
  k = _lam_seq_step_name (&self->input, key);
  return g_strdup_printf ("Head %d: %s takes %.3f of its input from %s", head + 1, q,
                          self->p[((gsize) head * self->T + query) * self->T + key], k);
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

static void
draw_key_ticks (LamAttentionView *self, LamViewStyle *st, const Layout *l, double px, double y)
{
  double ticks[32], step;
  char buf[32];
  int n = _lam_nice_ticks (0, self->T - 1, MAX (2, (int) (l->side / (l->em * 2.2))), ticks, &step);

  for (int i = 0; i < n; i++)
    {
      int k = (int) lround (ticks[i]);
      if (k < 0 || k >= self->T)
        continue;
      g_snprintf (buf, sizeof buf, "%d", k);
      _lam_text (st, buf, px + (k + 0.5) * l->cell, y + 3, 0.5, 0, 0.8, PANGO_WEIGHT_NORMAL, NULL,
                 0.75, 0);
    }
}

static void
lam_attention_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamAttentionView *self = LAM_ATTENTION_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  LamViewStyle st;
  cairo_t *cr;
  Layout l;
  char buf[96];

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  _lam_style_begin (&st, widget, cr);
  compute_layout (self, w, h, &l);

  if (self->p == NULL)
    {
      _lam_text (&st, "No attention yet: train a network with a MultiHeadAttention layer",
                 w / 2.0, h / 2.0, 0.5, 0.5, 1.2, PANGO_WEIGHT_NORMAL, NULL, 0.55, 0);
      goto out;
    }

  _lam_text (&st, self->title ? self->title : "Attention", l.em, l.em * 0.7, 0, 0, 1.25,
             PANGO_WEIGHT_BOLD, NULL, 1, w - 2 * l.em);
  g_snprintf (buf, sizeof buf, "%.2f", 1.0 / self->T);
  {
    g_autofree char *sub = g_strdup_printf (
      "Row q: how much %s q takes from each %s k (each row adds up to 1; spread evenly, %s "
      "each). Hover a cell to mark both in the %s.",
      self->input.rows ? "row" : "step", self->input.rows ? "row" : "step", buf,
      self->input.rows ? "image" : "input");
    _lam_text (&st, sub, l.em, l.em * 2.4, 0, 0, 0.9, PANGO_WEIGHT_NORMAL, NULL, 0.7,
               w - 2 * l.em);
  }

  for (int r = 0; r < l.rows; r++)
    {
      double y = l.top + r * (l.head_h + l.side + l.key_h + l.gap_y) + l.head_h;
      _lam_seq_axis_draw (&self->input, &st, l.axis_x - l.em * 0.4, y, l.cell, self->T,
                          self->hover_q);
      _lam_seq_input_draw (&self->input, &st, l.in_x, y, l.in_w, l.cell, self->T, self->hover_q,
                           self->hover_k);
      cairo_save (cr);
      cairo_translate (cr, l.em * 0.9, y + l.side / 2);
      cairo_rotate (cr, -G_PI / 2);
      g_snprintf (buf, sizeof buf, "← query %s", self->input.rows ? "row" : "step");
      _lam_text (&st, buf, 0, 0, 0.5, 0.5, 0.95, PANGO_WEIGHT_BOLD, NULL, 0.7, l.side);
      cairo_restore (cr);
    }

  for (int hd = 0; hd < self->heads; hd++)
    {
      double px, py;

      panel_origin (&l, hd, &px, &py);
      g_snprintf (buf, sizeof buf, "head %d", hd + 1);
      _lam_text (&st, buf, px, py - l.head_h + l.em * 0.2, 0, 0, 1.05, PANGO_WEIGHT_BOLD, NULL, 1,
                 l.side);
      g_snprintf (buf, sizeof buf, "looks %.1f %s away on average", self->distance[hd],
                  self->input.rows ? "rows" : "steps");
      _lam_text (&st, buf, px, py - l.head_h + l.em * 1.55, 0, 0, 0.85, PANGO_WEIGHT_NORMAL, NULL,
                 0.7, l.side);

      _lam_paint_surface (cr, g_ptr_array_index (self->maps, hd), px, py, l.side, l.side,
                          CAIRO_FILTER_NEAREST);
      cairo_rectangle (cr, px - 0.5, py - 0.5, l.side + 1, l.side + 1);
      _lam_style_fg (&st, 0.3);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);

      draw_key_ticks (self, &st, &l, px, py + l.side);
      if (hd % l.cols == l.cols - 1 || hd == self->heads - 1)
        {
          g_snprintf (buf, sizeof buf, "key %s →", self->input.rows ? "row" : "step");
          _lam_text (&st, buf, px + l.side, py + l.side + l.em * 1.25, 1, 0, 0.85,
                     PANGO_WEIGHT_BOLD, NULL, 0.7, 0);
        }

      if (self->hover_q >= 0 && self->hover_k >= 0)
        {
          cairo_rectangle (cr, px + self->hover_k * l.cell - 1, py + self->hover_q * l.cell - 1,
                           l.cell + 2, l.cell + 2);
          if (hd == self->hover_head)
            {
              cairo_set_source_rgba (cr, 1, 1, 1, 1);
              cairo_set_line_width (cr, 3);
              cairo_stroke_preserve (cr);
              cairo_set_source_rgba (cr, 0, 0, 0, 1);
              cairo_set_line_width (cr, 1.5);
            }
          else
            {
              cairo_set_source_rgba (cr, 1, 1, 1, 0.8);
              cairo_set_line_width (cr, 1.5);
            }
          cairo_stroke (cr);
        }
    }

  {
    char hi[32];
    g_snprintf (hi, sizeof hi, "%.2g", self->hi);
    _lam_draw_colorbar (&st, LAM_CMAP_SEQUENTIAL, l.x0 + l.em * 5, l.bottom + l.em * 1.0,
                        MIN (l.em * 14, w - l.x0 - l.em * 6), l.em * 0.7, "0", NULL, hi,
                        "weight");
  }

out:
  _lam_style_end (&st);
  cairo_destroy (cr);
}

static void
lam_attention_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                            int *minimum, int *natural, int *minimum_baseline,
                            int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 400 : 320;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 1000 : 640;
}

/* ── Input ───────────────────────────────────────────────────────────── */

static void
set_hover (LamAttentionView *self, int head, int q, int k)
{
  if (head == self->hover_head && q == self->hover_q && k == self->hover_k)
    return;
  self->hover_head = head;
  self->hover_q = q;
  self->hover_k = k;
  gtk_widget_trigger_tooltip_query (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, LamAttentionView *self)
{
  int hd = -1, q = -1, k = -1;

  lam_attention_view_cell_at (self, x, y, &hd, &q, &k);
  set_hover (self, hd, q, k);
}

static void
leave_cb (GtkEventControllerMotion *motion, LamAttentionView *self)
{
  set_hover (self, -1, -1, -1);
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer data)
{
  LamAttentionView *self = LAM_ATTENTION_VIEW (widget);
  g_autofree char *text = NULL;
  int hd, q, k;

  if (!lam_attention_view_cell_at (self, x, y, &hd, &q, &k))
    return FALSE;
  text = lam_attention_view_describe_cell (self, hd, q, k);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
pressed_cb (GtkGestureClick *click, int n_press, double x, double y, LamAttentionView *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

/* Arrow keys move a cursor over a head's cells; Tab goes to the next head. */
static gboolean
key_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
        LamAttentionView *self)
{
  int hd = MAX (self->hover_head, 0), q = MAX (self->hover_q, 0), k = MAX (self->hover_k, 0);

  if (self->p == NULL)
    return GDK_EVENT_PROPAGATE;
  switch (keyval)
    {
    case GDK_KEY_Left:
      k = MAX (k - 1, 0);
      break;
    case GDK_KEY_Right:
      k = MIN (k + 1, self->T - 1);
      break;
    case GDK_KEY_Up:
      q = MAX (q - 1, 0);
      break;
    case GDK_KEY_Down:
      q = MIN (q + 1, self->T - 1);
      break;
    case GDK_KEY_Tab:
      if (state & GDK_CONTROL_MASK)
        return GDK_EVENT_PROPAGATE;
      hd = (hd + 1) % self->heads;
      break;
    default:
      return GDK_EVENT_PROPAGATE;
    }
  set_hover (self, hd, q, k);
  {
    g_autofree char *text = lam_attention_view_describe_cell (self, hd, q, k);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                    text, -1);
  }
  return GDK_EVENT_STOP;
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_attention_view_finalize (GObject *object)
{
  LamAttentionView *self = LAM_ATTENTION_VIEW (object);

  g_free (self->p);
  g_free (self->distance);
  g_free (self->title);
  g_ptr_array_unref (self->maps);
  _lam_seq_input_clear (&self->input);
  G_OBJECT_CLASS (lam_attention_view_parent_class)->finalize (object);
}

static void
lam_attention_view_get_property (GObject *object, guint prop_id, GValue *value,
                                 GParamSpec *pspec)
{
  LamAttentionView *self = LAM_ATTENTION_VIEW (object);

  switch (prop_id)
    {
    case PROP_AUTO_SCALE:
      g_value_set_boolean (value, self->auto_scale);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_attention_view_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  LamAttentionView *self = LAM_ATTENTION_VIEW (object);

  switch (prop_id)
    {
    case PROP_AUTO_SCALE:
      lam_attention_view_set_auto_scale (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_attention_view_class_init (LamAttentionViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lam_attention_view_finalize;
  object_class->get_property = lam_attention_view_get_property;
  object_class->set_property = lam_attention_view_set_property;
  widget_class->snapshot = lam_attention_view_snapshot;
  widget_class->measure = lam_attention_view_measure;

  properties[PROP_AUTO_SCALE] =
    g_param_spec_boolean ("auto-scale", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "attentionview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lam_attention_view_init (LamAttentionView *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->auto_scale = TRUE;
  self->maps = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);
  self->hover_head = self->hover_q = self->hover_k = -1;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Attention weights per head", -1);

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
lam_attention_view_new (void)
{
  return g_object_new (LAM_TYPE_ATTENTION_VIEW, NULL);
}
