/* lam-gate-view.c: one units × time heat map per gate.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>

#include "lam-gate-view.h"
#include "lam-seq-common.h"
#include "lam-seq-data.h"

#define MAX_GATES 4

struct _LamGateView {
  GtkWidget        parent_instance;

  LamLayerKind     kind;
  gboolean         has_kind;
  float           *gates;      /* [G, T, H] */
  int              G, T, H;
  double           mean[MAX_GATES];
  char            *title;
  int             *order;      /* column → unit */
  int             *column;     /* unit → column */
  int             *given_order;
  int              given_n;
  cairo_surface_t *maps[MAX_GATES];
  LamSeqInput      input;

  int              hover_gate, hover_unit, hover_step;
};

G_DEFINE_FINAL_TYPE (LamGateView, lam_gate_view, GTK_TYPE_WIDGET)

/* what each gate does, in a line */
static const char *const lstm_blurbs[] = {
  "share of new content let in",
  "share of the old cell kept",
  "new content, −1 to 1",
  "share of the cell shown",
};
static const char *const gru_blurbs[] = {
  "share of the old state used",
  "share of the old state kept",
  "candidate state, −1 to 1",
};

typedef struct {
  double em;
  int    cols, rows;
  double top, row_h;
  double axis_x, in_x, in_w;
  double x0, panel_w, col_w, head_h, gap_x, gap_y;
  double map_h;
  double bottom;
} Layout;

static void
layout_for (LamGateView *self, int width, int height, int cols, Layout *l)
{
  int T = MAX (self->T, 1), H = MAX (self->H, 1), G = MAX (self->G, 1);
  double avail;

  l->cols = cols;
  l->rows = (G + cols - 1) / cols;
  l->top = round (l->em * 4.6);
  l->head_h = round (l->em * 2.9);
  l->gap_x = round (l->em * 1.2);
  l->gap_y = round (l->em * 1.1);
  avail = height - l->top - l->em * 3.6 - l->rows * l->head_h - (l->rows - 1) * l->gap_y;
  l->row_h = MIN (MAX (avail / (l->rows * T), 1.0), l->em * 1.5);
  if (l->row_h >= 3)
    l->row_h = floor (l->row_h);
  l->map_h = l->row_h * T;
  l->axis_x = round (l->em * 4.4);
  l->in_x = l->axis_x + round (l->em * 0.5);
  l->in_w = round (_lam_seq_input_width (&self->input, self->T, l->row_h, width * 0.18));
  l->x0 = l->in_x + l->in_w + (l->in_w > 0 ? round (l->em * 1.2) : 0);
  l->panel_w = MAX ((width - l->x0 - l->em - (cols - 1) * l->gap_x) / cols, 8);
  l->col_w = MIN (l->panel_w / H, l->em * 2);
  if (l->col_w >= 2)
    l->col_w = floor (l->col_w);
  l->panel_w = l->col_w * H;
  l->bottom = l->top + l->rows * (l->head_h + l->map_h) + (l->rows - 1) * l->gap_y;
}

/* The grid (1 to G columns) that gives the heat maps the most area. */
static void
compute_layout (LamGateView *self, int width, int height, Layout *l)
{
  double best = -1;
  int best_cols = 1;

  l->em = _lam_widget_em (GTK_WIDGET (self));
  for (int cols = 1; cols <= MAX (self->G, 1); cols++)
    {
      double area;
      layout_for (self, width, height, cols, l);
      area = l->panel_w * l->map_h * MAX (self->G, 1);
      if (area >= best * 0.98)
        best = MAX (best, area), best_cols = cols;
    }
  layout_for (self, width, height, best_cols, l);
}

static void
panel_origin (const Layout *l, int g, double *x, double *y)
{
  int r = g / l->cols, c = g % l->cols;

  *x = l->x0 + c * (l->panel_w + l->gap_x);
  *y = l->top + r * (l->head_h + l->map_h + l->gap_y) + l->head_h;
}

/* ── Data ────────────────────────────────────────────────────────────── */

static void
clear_maps (LamGateView *self)
{
  for (int g = 0; g < MAX_GATES; g++)
    g_clear_pointer (&self->maps[g], cairo_surface_destroy);
}

static void
rebuild (LamGateView *self)
{
  int T = self->T, H = self->H;
  g_autofree float *cols = NULL;

  clear_maps (self);
  if (self->gates == NULL)
    return;
  for (int c = 0; c < H; c++)
    self->order[c] = self->given_order && self->given_n == H ? self->given_order[c] : c;
  for (int c = 0; c < H; c++)
    self->column[self->order[c]] = c;
  cols = g_new (float, (gsize) T * H);
  for (int g = 0; g < self->G; g++)
    {
      const float *v = self->gates + (gsize) g * T * H;
      gboolean sign = lam_seq_gate_is_signed (self->kind, g);
      for (int t = 0; t < T; t++)
        for (int c = 0; c < H; c++)
          cols[(gsize) t * H + c] = v[(gsize) t * H + self->order[c]];
      self->maps[g] = _lam_heatmap_new (cols, H, T, sign ? -1 : 0, 1,
                                        sign ? LAM_CMAP_DIVERGING : LAM_CMAP_SEQUENTIAL);
    }
}

void
lam_gate_view_clear (LamGateView *self)
{
  g_return_if_fail (LAM_IS_GATE_VIEW (self));

  g_clear_pointer (&self->gates, g_free);
  g_clear_pointer (&self->order, g_free);
  g_clear_pointer (&self->column, g_free);
  g_clear_pointer (&self->title, g_free);
  clear_maps (self);
  self->G = self->T = self->H = 0;
  self->has_kind = FALSE;
  self->hover_gate = self->hover_unit = self->hover_step = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_gate_view_set_gates (LamGateView *self, LamLayerKind kind, const float *gates, int T, int H,
                         const char *title)
{
  const char *const *names = lam_seq_gate_names (kind);
  g_autoptr(GString) desc = g_string_new (NULL);

  g_return_if_fail (LAM_IS_GATE_VIEW (self));
  g_return_if_fail (names == NULL || (gates != NULL && T > 0 && H > 0));

  {
    /* keep the pointer's cell across refreshes of the same shape */
    int hg = self->hover_gate, hu = self->hover_unit, ht = self->hover_step;
    gboolean same = self->T == T && self->H == H && self->has_kind && self->kind == kind;
    lam_gate_view_clear (self);
    if (same)
      self->hover_gate = hg, self->hover_unit = hu, self->hover_step = ht;
  }
  self->kind = kind;
  self->has_kind = TRUE;
  self->title = g_strdup (title);
  if (names == NULL)
    {
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      "This layer has no gates", -1);
      return;
    }
  self->G = (int) g_strv_length ((char **) names);
  self->T = T;
  self->H = H;
  self->gates = g_memdup2 (gates, (gsize) self->G * T * H * sizeof (float));
  self->order = g_new (int, H);
  self->column = g_new (int, H);
  for (int g = 0; g < self->G; g++)
    {
      double s = 0;
      for (gsize i = 0; i < (gsize) T * H; i++)
        s += gates[(gsize) g * T * H + i];
      self->mean[g] = s / ((double) T * H);
      g_string_append_printf (desc, "%s%s: mean %.2f", g ? "; " : "", names[g], self->mean[g]);
    }
  rebuild (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  desc->str, -1);
}

void
lam_gate_view_set_input (LamGateView *self, const float *x, int T, int F, gboolean image_rows)
{
  g_return_if_fail (LAM_IS_GATE_VIEW (self));

  _lam_seq_input_set (&self->input, x, T, F, image_rows);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_gate_view_set_step_labels (LamGateView *self, const char *const *labels)
{
  g_return_if_fail (LAM_IS_GATE_VIEW (self));

  _lam_seq_input_set_labels (&self->input, labels);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_gate_view_set_unit_order (LamGateView *self, const int *order, int H)
{
  g_return_if_fail (LAM_IS_GATE_VIEW (self));

  g_clear_pointer (&self->given_order, g_free);
  self->given_n = 0;
  if (order && H > 0)
    {
      /* only a permutation is taken */
      g_autofree gboolean *seen = g_new0 (gboolean, H);
      for (int c = 0; c < H; c++)
        {
          g_return_if_fail (order[c] >= 0 && order[c] < H && !seen[order[c]]);
          seen[order[c]] = TRUE;
        }
      self->given_order = g_memdup2 (order, sizeof (int) * H);
      self->given_n = H;
    }
  rebuild (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
lam_gate_view_get_n_gates (LamGateView *self)
{
  g_return_val_if_fail (LAM_IS_GATE_VIEW (self), 0);
  return self->G;
}

/* ── Hit testing ─────────────────────────────────────────────────────── */

static void
current_layout (LamGateView *self, Layout *l)
{
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), l);
}

gboolean
lam_gate_view_cell_at (LamGateView *self, double x, double y, int *gate, int *unit, int *step)
{
  Layout l;

  g_return_val_if_fail (LAM_IS_GATE_VIEW (self), FALSE);

  if (self->gates == NULL)
    return FALSE;
  current_layout (self, &l);
  for (int g = 0; g < self->G; g++)
    {
      double px, py;
      int c, t;
      panel_origin (&l, g, &px, &py);
      if (x < px || y < py || x >= px + l.panel_w || y >= py + l.map_h)
        continue;
      c = MIN ((int) ((x - px) / l.col_w), self->H - 1);
      t = MIN ((int) ((y - py) / l.row_h), self->T - 1);
      if (gate)
        *gate = g;
      if (unit)
        *unit = self->order[c];
      if (step)
        *step = t;
      return TRUE;
    }
  return FALSE;
}

gboolean
lam_gate_view_get_cell_rect (LamGateView *self, int gate, int unit, int step,
                             graphene_rect_t *rect)
{
  Layout l;
  double px, py;

  g_return_val_if_fail (LAM_IS_GATE_VIEW (self), FALSE);

  if (self->gates == NULL || gate < 0 || gate >= self->G || unit < 0 || unit >= self->H
      || step < 0 || step >= self->T)
    return FALSE;
  current_layout (self, &l);
  panel_origin (&l, gate, &px, &py);
  graphene_rect_init (rect, px + self->column[unit] * l.col_w, py + step * l.row_h, l.col_w,
                      l.row_h);
  return TRUE;
}

char *
lam_gate_view_describe_cell (LamGateView *self, int gate, int unit, int step)
{
  g_autofree char *name = NULL;
  g_autofree char *gname = NULL;

  g_return_val_if_fail (LAM_IS_GATE_VIEW (self), NULL);
  g_return_val_if_fail (self->gates && gate >= 0 && gate < self->G && unit >= 0
                        && unit < self->H && step >= 0 && step < self->T, NULL);

  name = _lam_seq_step_name (&self->input, step);
  gname = g_strdup (lam_seq_gate_names (self->kind)[gate]);
  gname[0] = g_ascii_toupper (gname[0]);
  return g_strdup_printf ("%s, unit %d, after %s: %.3f", gname, unit, name,
                          self->gates[((gsize) gate * self->T + step) * self->H + unit]);
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

static void
lam_gate_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamGateView *self = LAM_GATE_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  const char *const *names = self->has_kind ? lam_seq_gate_names (self->kind) : NULL;
  const char *const *blurbs = self->kind == LAM_LAYER_LSTM ? lstm_blurbs : gru_blurbs;
  gboolean any_signed = FALSE, any_sigmoid = FALSE;
  LamViewStyle st;
  cairo_t *cr;
  Layout l;

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  _lam_style_begin (&st, widget, cr);
  compute_layout (self, w, h, &l);

  if (self->gates == NULL)
    {
      const LamLayerInfo *info = self->has_kind ? lam_layer_info (self->kind) : NULL;
      g_autofree char *text =
        info ? g_strdup_printf ("A %s layer has no gates: only LSTM and GRU layers have them",
                                info->type_name)
             : g_strdup ("No gates yet: train an LSTM or GRU network");
      _lam_text (&st, text, w / 2.0, h / 2.0, 0.5, 0.5, 1.2, PANGO_WEIGHT_NORMAL, NULL, 0.55, 0);
      goto out;
    }

  _lam_text (&st, self->title ? self->title : "Gates over time", l.em, l.em * 0.7, 0, 0, 1.25,
             PANGO_WEIGHT_BOLD, NULL, 1, w - 2 * l.em);
  _lam_text (&st,
             self->kind == LAM_LAYER_LSTM
               ? "c = forget · c + input · candidate,   h = output · tanh (c): each gate's value for "
                 "every unit (across) after every step (down)"
               : "h = (1 − update) · new + update · h: each gate's value for every unit (across) "
                 "after every step (down)",
             l.em, l.em * 2.4, 0, 0, 0.9, PANGO_WEIGHT_NORMAL, NULL, 0.7, w - 2 * l.em);

  for (int r = 0; r < l.rows; r++)
    {
      double y = l.top + r * (l.head_h + l.map_h + l.gap_y) + l.head_h;
      _lam_seq_axis_draw (&self->input, &st, l.axis_x - l.em * 0.4, y, l.row_h, self->T,
                          self->hover_step);
      _lam_seq_input_draw (&self->input, &st, l.in_x, y, l.in_w, l.row_h, self->T,
                           self->hover_step, -1);
      cairo_save (cr);
      cairo_translate (cr, l.em * 0.9, y + l.map_h / 2);
      cairo_rotate (cr, -G_PI / 2);
      {
        g_autofree char *axis = g_strdup_printf ("← %s", _lam_seq_axis_title (&self->input));
        _lam_text (&st, axis, 0, 0, 0.5, 0.5, 0.95, PANGO_WEIGHT_BOLD, NULL, 0.7, l.map_h);
      }
      cairo_restore (cr);
    }

  for (int g = 0; g < self->G; g++)
    {
      gboolean sign = lam_seq_gate_is_signed (self->kind, g);
      double px, py, tw;
      char buf[48];

      any_signed |= sign;
      any_sigmoid |= !sign;
      panel_origin (&l, g, &px, &py);
      tw = _lam_text (&st, names[g], px, py - l.head_h + l.em * 0.2, 0, 0, 1.05, PANGO_WEIGHT_BOLD,
                      NULL, 1, l.panel_w);
      g_snprintf (buf, sizeof buf, "mean %.2f", self->mean[g]);
      if (tw + l.em * 6 < l.panel_w)
        _lam_text (&st, buf, px + l.panel_w, py - l.head_h + l.em * 0.25, 1, 0, 0.9,
                   PANGO_WEIGHT_NORMAL, NULL, 0.75, 0);
      _lam_text (&st, blurbs[g], px, py - l.head_h + l.em * 1.55, 0, 0, 0.85, PANGO_WEIGHT_NORMAL,
                 NULL, 0.7, l.panel_w);

      _lam_paint_surface (cr, self->maps[g], px, py, l.panel_w, l.map_h, CAIRO_FILTER_NEAREST);
      cairo_rectangle (cr, px - 0.5, py - 0.5, l.panel_w + 1, l.map_h + 1);
      _lam_style_fg (&st, 0.3);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);

      if (self->hover_step >= 0)
        _lam_seq_row_band (&st, px, py + self->hover_step * l.row_h, l.panel_w, l.row_h);
      if (self->hover_unit >= 0)
        {
          cairo_rectangle (cr, px + self->column[self->hover_unit] * l.col_w - 1.5, py - 1.5,
                           l.col_w + 3, l.map_h + 3);
          _lam_style_fg (&st, 0.9);
          cairo_set_line_width (cr, 1.5);
          cairo_stroke (cr);
        }
    }

  /* the colour bars: 0..1 for the sigmoid gates, −1..1 for the candidates */
  {
    double bx = l.x0 + l.em * 5, by = l.bottom + l.em * 1.1, bw = l.em * 12;
    if (any_sigmoid)
      {
        _lam_draw_colorbar (&st, LAM_CMAP_SEQUENTIAL, bx, by, bw, l.em * 0.7, "0 closed", NULL,
                            "1 open", "gates");
        bx += bw + l.em * 11;
      }
    if (any_signed)
      _lam_draw_colorbar (&st, LAM_CMAP_DIVERGING, bx, by, bw, l.em * 0.7, "−1", "0", "+1",
                          "candidate");
  }

out:
  _lam_style_end (&st);
  cairo_destroy (cr);
}

static void
lam_gate_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                       int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 480 : 320;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 1000 : 640;
}

/* ── Input ───────────────────────────────────────────────────────────── */

static void
set_hover (LamGateView *self, int gate, int unit, int step)
{
  if (gate == self->hover_gate && unit == self->hover_unit && step == self->hover_step)
    return;
  self->hover_gate = gate;
  self->hover_unit = unit;
  self->hover_step = step;
  gtk_widget_trigger_tooltip_query (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, LamGateView *self)
{
  int g = -1, u = -1, t = -1;

  lam_gate_view_cell_at (self, x, y, &g, &u, &t);
  set_hover (self, g, u, t);
}

static void
leave_cb (GtkEventControllerMotion *motion, LamGateView *self)
{
  set_hover (self, -1, -1, -1);
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer data)
{
  LamGateView *self = LAM_GATE_VIEW (widget);
  g_autofree char *text = NULL;
  int g, u, t;

  if (!lam_gate_view_cell_at (self, x, y, &g, &u, &t))
    return FALSE;
  text = lam_gate_view_describe_cell (self, g, u, t);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* Arrow keys move a cursor over the first hovered panel's cells. */
static gboolean
key_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
        LamGateView *self)
{
  int g = MAX (self->hover_gate, 0), c, t = MAX (self->hover_step, 0);

  if (self->gates == NULL)
    return GDK_EVENT_PROPAGATE;
  c = self->hover_unit >= 0 ? self->column[self->hover_unit] : 0;
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
    case GDK_KEY_Tab:
      if (state & GDK_CONTROL_MASK)
        return GDK_EVENT_PROPAGATE;
      g = (g + 1) % self->G;
      break;
    default:
      return GDK_EVENT_PROPAGATE;
    }
  set_hover (self, g, self->order[c], t);
  {
    g_autofree char *text = lam_gate_view_describe_cell (self, g, self->order[c], t);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                    text, -1);
  }
  return GDK_EVENT_STOP;
}

static void
pressed_cb (GtkGestureClick *click, int n_press, double x, double y, LamGateView *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_gate_view_finalize (GObject *object)
{
  LamGateView *self = LAM_GATE_VIEW (object);

  g_free (self->gates);
  g_free (self->order);
  g_free (self->column);
  g_free (self->given_order);
  g_free (self->title);
  clear_maps (self);
  _lam_seq_input_clear (&self->input);
  G_OBJECT_CLASS (lam_gate_view_parent_class)->finalize (object);
}

static void
lam_gate_view_class_init (LamGateViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lam_gate_view_finalize;
  widget_class->snapshot = lam_gate_view_snapshot;
  widget_class->measure = lam_gate_view_measure;

  gtk_widget_class_set_css_name (widget_class, "gateview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lam_gate_view_init (LamGateView *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->hover_gate = self->hover_unit = self->hover_step = -1;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Gate activations over time", -1);

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
lam_gate_view_new (void)
{
  return g_object_new (LAM_TYPE_GATE_VIEW, NULL);
}
