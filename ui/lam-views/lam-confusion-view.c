/* lam-confusion-view.c: counts of (true, predicted) pairs as a matrix.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>

#include "lam-confusion-view.h"
#include "lam-view-common.h"

struct _LamConfusionView {
  GtkWidget  parent_instance;

  int        n_classes;
  int       *counts;       /* [true][pred] */
  int       *row_totals;
  int        total, correct;
  char     **class_names;
  char      *title;

  int        hover_t, hover_p;
  guint      n_cut;        /* texts that did not fit at the last draw */
};

G_DEFINE_FINAL_TYPE (LamConfusionView, lam_confusion_view, GTK_TYPE_WIDGET)

enum {
  CELL_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The header: the score, the caller's title, what the colours mean; a
 * line that does not fit the width shrinks before it is shortened. */
#define SCORE_SCALE   1.2
#define TITLE_SCALE   0.9
#define LEGEND_SCALE  0.85
#define AXIS_SCALE    0.95
#define LINE_SPACING  1.25

static const char legend_text[] = "colour: share of each true class (rows add up to 100%)";

typedef struct {
  double em;
  double x, y;         /* top-left of cell (0, 0) */
  double cell;
  double row_scale;    /* of the class names beside the rows */
  double col_scale;    /* and of the slanted ones above the columns: closer together */
  double row_w, col_w; /* the longest name at each */
} Layout;

static double
header_height (LamConfusionView *self, double em)
{
  return em * (0.5 + LINE_SPACING * (SCORE_SCALE + (self->title ? TITLE_SCALE : 0) + LEGEND_SCALE));
}

/* The row names take as much width as the longest needs, the slanted
 * column names as much height: the cells get the rest. */
static void
compute_layout (LamConfusionView *self, int width, int height, Layout *l)
{
  double k = MAX (self->n_classes, 1), corner = 0, names1 = 0, left, top;
  LamViewStyle st;

  l->em = _lam_widget_em (GTK_WIDGET (self));
  _lam_style_begin_measure (&st, GTK_WIDGET (self));
  for (int i = 0; i < self->n_classes; i++)
    {
      double w;
      _lam_text_size (&st, self->class_names[i], 1.0, PANGO_WEIGHT_BOLD, &w, NULL);
      names1 = MAX (names1, w);
    }
  {
    double a, b;
    _lam_text_size (&st, "predicted →", AXIS_SCALE, PANGO_WEIGHT_BOLD, &a, NULL);
    _lam_text_size (&st, "true class ↓", AXIS_SCALE, PANGO_WEIGHT_BOLD, &b, NULL);
    corner = MAX (a, b);
  }
  _lam_style_end (&st);
  names1 = MIN (names1, l->em * 9);

  /* twice: the names' size follows the cells', the cells' the names' */
  l->row_scale = l->col_scale = 1.0;
  for (int pass = 0; pass < 2; pass++)
    {
      l->row_w = ceil (names1 * l->row_scale) + 2;
      l->col_w = ceil (names1 * l->col_scale) + 2;
      left = MAX (l->row_w, corner) + l->em;
      /* the slanted names, or the two axis names left of them */
      top = header_height (self, l->em) + MAX (l->col_w * G_SQRT2 / 2 + l->em * 0.9, l->em * 3.3);
      l->cell = floor (MAX (MIN ((width - left - l->em) / k, (height - top - l->em * 0.5) / k), 4));
      if (pass == 0)
        {
          /* a row's name fills its row; slanted names stand a cell × √½ apart */
          l->row_scale = CLAMP (l->cell / (l->em * 1.3), 0.7, 1.0);
          l->col_scale = CLAMP (l->cell / (l->em * 1.6), 0.7, 1.0);
        }
    }
  l->x = round (left + MAX (0, (width - left - l->em - l->cell * k) / 2));
  l->y = round (top);
}

static inline int
cell (LamConfusionView *self, int t, int p)
{
  return self->counts[t * self->n_classes + p];
}

/* ── Data ────────────────────────────────────────────────────────────── */

void
lam_confusion_view_clear (LamConfusionView *self)
{
  g_return_if_fail (LAM_IS_CONFUSION_VIEW (self));

  g_clear_pointer (&self->counts, g_free);
  g_clear_pointer (&self->row_totals, g_free);
  g_clear_pointer (&self->class_names, g_strfreev);
  self->n_classes = self->total = self->correct = 0;
  self->hover_t = self->hover_p = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_confusion_view_set_data (LamConfusionView *self, const int *pred, const guint8 *labels, int n,
                             int n_classes, const char *const *class_names)
{
  g_autofree char *desc = NULL;
  guint n_names;
  int K = n_classes;

  g_return_if_fail (LAM_IS_CONFUSION_VIEW (self));
  g_return_if_fail (n_classes > 0 && n_classes <= 1000);
  g_return_if_fail (n == 0 || (pred != NULL && labels != NULL));

  lam_confusion_view_clear (self);
  self->n_classes = K;
  self->counts = g_new0 (int, (gsize) K * K);
  self->row_totals = g_new0 (int, K);
  for (int i = 0; i < n; i++)
    {
      if (pred[i] < 0 || pred[i] >= K || labels[i] >= K)
        continue;
      self->counts[labels[i] * K + pred[i]]++;
      self->row_totals[labels[i]]++;
      self->total++;
      self->correct += pred[i] == labels[i];
    }
  n_names = class_names ? g_strv_length ((char **) class_names) : 0;
  self->class_names = g_new0 (char *, K + 1);
  for (int k = 0; k < K; k++)
    self->class_names[k] = (guint) k < n_names ? g_strdup (class_names[k]) : g_strdup_printf ("%d", k);

  desc = g_strdup_printf ("%d of %d correct (%.1f%%)", self->correct, self->total,
                          self->total ? 100.0 * self->correct / self->total : 0.0);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, desc,
                                  -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_confusion_view_set_title (LamConfusionView *self, const char *title)
{
  g_return_if_fail (LAM_IS_CONFUSION_VIEW (self));

  g_free (self->title);
  self->title = g_strdup (title);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
lam_confusion_view_get_n_classes (LamConfusionView *self)
{
  g_return_val_if_fail (LAM_IS_CONFUSION_VIEW (self), 0);
  return self->n_classes;
}

int
lam_confusion_view_get_count (LamConfusionView *self, int true_class, int pred_class)
{
  g_return_val_if_fail (LAM_IS_CONFUSION_VIEW (self), 0);
  g_return_val_if_fail (true_class >= 0 && true_class < self->n_classes, 0);
  g_return_val_if_fail (pred_class >= 0 && pred_class < self->n_classes, 0);
  return cell (self, true_class, pred_class);
}

double
lam_confusion_view_get_accuracy (LamConfusionView *self)
{
  g_return_val_if_fail (LAM_IS_CONFUSION_VIEW (self), NAN);
  return self->total ? (double) self->correct / self->total : NAN;
}

gboolean
lam_confusion_view_cell_at (LamConfusionView *self, double x, double y, int *true_class,
                            int *pred_class)
{
  Layout l;
  int t, p;

  g_return_val_if_fail (LAM_IS_CONFUSION_VIEW (self), FALSE);

  if (self->n_classes == 0)
    return FALSE;
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), &l);
  p = (int) floor ((x - l.x) / l.cell);
  t = (int) floor ((y - l.y) / l.cell);
  if (t < 0 || p < 0 || t >= self->n_classes || p >= self->n_classes)
    return FALSE;
  if (true_class)
    *true_class = t;
  if (pred_class)
    *pred_class = p;
  return TRUE;
}

gboolean
lam_confusion_view_get_cell_rect (LamConfusionView *self, int true_class, int pred_class,
                                  graphene_rect_t *rect)
{
  Layout l;

  g_return_val_if_fail (LAM_IS_CONFUSION_VIEW (self), FALSE);

  if (true_class < 0 || pred_class < 0 || true_class >= self->n_classes
      || pred_class >= self->n_classes)
    return FALSE;
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), &l);
  graphene_rect_init (rect, l.x + pred_class * l.cell, l.y + true_class * l.cell, l.cell, l.cell);
  return TRUE;
}

guint
lam_confusion_view_get_n_cut_texts (LamConfusionView *self)
{
  g_return_val_if_fail (LAM_IS_CONFUSION_VIEW (self), 0);
  return self->n_cut;
}

char *
lam_confusion_view_describe_cell (LamConfusionView *self, int t, int p)
{
  int n, row;

  g_return_val_if_fail (LAM_IS_CONFUSION_VIEW (self), NULL);
  g_return_val_if_fail (t >= 0 && t < self->n_classes && p >= 0 && p < self->n_classes, NULL);

  n = cell (self, t, p);
  row = self->row_totals[t];
  if (t == p)
    return g_strdup_printf ("%s, predicted correctly: %d (%.1f%% of %s)", self->class_names[t], n,
                            row ? 100.0 * n / row : 0.0, self->class_names[t]);
  return g_strdup_printf ("True %s, predicted %s: %d (%.1f%% of %s)", self->class_names[t],
                          self->class_names[p], n, row ? 100.0 * n / row : 0.0,
                          self->class_names[t]);
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

static void
cell_color (LamViewStyle *st, gboolean diagonal, double share, LamRgb *out)
{
  LamRgb bg = { st->bg.red, st->bg.green, st->bg.blue };
  LamRgb ink = diagonal ? (LamRgb) { 0x1a / 255.0, 0x5f / 255.0, 0xb4 / 255.0 }
                        : (LamRgb) { 0xe6 / 255.0, 0x61 / 255.0, 0x00 / 255.0 };

  if (st->dark && diagonal)
    ink = (LamRgb) { 0x35 / 255.0, 0x84 / 255.0, 0xe4 / 255.0 };
  /* sqrt: a 5% confusion should still be visible next to a 90% diagonal */
  _lam_rgb_mix (&bg, &ink, share > 0 ? 0.08 + 0.92 * sqrt (share) : 0, out);
}

static void
lam_confusion_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamConfusionView *self = LAM_CONFUSION_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  int K = self->n_classes;
  LamViewStyle st;
  cairo_t *cr;
  Layout l;
  char buf[64];

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  _lam_style_begin (&st, widget, cr);
  compute_layout (self, w, h, &l);

  if (K == 0)
    {
      _lam_text (&st, "No predictions yet", w / 2.0, h / 2.0, 0.5, 0.5, 1.2, PANGO_WEIGHT_NORMAL,
                 NULL, 0.55, 0);
      goto out;
    }

  {
    g_autofree char *score = g_strdup_printf ("%.1f%% correct (%d of %d)",
                                              self->total ? 100.0 * self->correct / self->total : 0.0,
                                              self->correct, self->total);
    double y = l.em * 0.5, tw = w - 2 * l.em;

    _lam_text_fit (&st, score, l.em, y, 0, 0, SCORE_SCALE, 0.9, PANGO_WEIGHT_BOLD, NULL, 1, tw);
    y += SCORE_SCALE * LINE_SPACING * l.em;
    if (self->title)
      {
        _lam_text_fit (&st, self->title, l.em, y, 0, 0, TITLE_SCALE, 0.75, PANGO_WEIGHT_NORMAL, NULL,
                       0.8, tw);
        y += TITLE_SCALE * LINE_SPACING * l.em;
      }
    _lam_text_fit (&st, legend_text, l.em, y, 0, 0, LEGEND_SCALE, 0.7, PANGO_WEIGHT_NORMAL, NULL, 0.7,
                   tw);
  }

  for (int t = 0; t < K; t++)
    for (int p = 0; p < K; p++)
      {
        int n = cell (self, t, p);
        double share = self->row_totals[t] ? (double) n / self->row_totals[t] : 0;
        double x = l.x + p * l.cell, y = l.y + t * l.cell;
        LamRgb c;

        cell_color (&st, t == p, share, &c);
        cairo_rectangle (cr, x, y, l.cell, l.cell);
        _lam_style_rgb (&st, &c, 1);
        cairo_fill (cr);
        if (l.cell >= l.em * 1.8 && n > 0)
          {
            double lum = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
            GdkRGBA text = lum < 0.55 ? (GdkRGBA) { 1, 1, 1, 1 } : (GdkRGBA) { 0.1, 0.1, 0.1, 1 };
            g_snprintf (buf, sizeof buf, "%d", n);
            _lam_text (&st, buf, x + l.cell / 2, y + l.cell / 2, 0.5, 0.5,
                       CLAMP (l.cell / (l.em * 3.2), 0.75, 1.2),
                       t == p ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, &text, 1, 0);
          }
      }

  /* grid and frame */
  _lam_style_fg (&st, 0.15);
  cairo_set_line_width (cr, 1);
  for (int i = 0; i <= K; i++)
    {
      cairo_move_to (cr, round (l.x + i * l.cell) + 0.5, l.y);
      cairo_line_to (cr, round (l.x + i * l.cell) + 0.5, l.y + K * l.cell);
      cairo_move_to (cr, l.x, round (l.y + i * l.cell) + 0.5);
      cairo_line_to (cr, l.x + K * l.cell, round (l.y + i * l.cell) + 0.5);
    }
  cairo_stroke (cr);

  /* class names: rows on the left, columns slanted above */
  for (int k = 0; k < K; k++)
    {
      gboolean hot_row = k == self->hover_t, hot_col = k == self->hover_p;
      _lam_text (&st, self->class_names[k], l.x - l.em * 0.5, l.y + (k + 0.5) * l.cell, 1, 0.5,
                 l.row_scale, hot_row ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, NULL,
                 hot_row ? 1 : 0.85, l.row_w);
      cairo_save (cr);
      cairo_translate (cr, l.x + (k + 0.5) * l.cell, l.y - l.em * 0.4);
      cairo_rotate (cr, -G_PI / 4);
      _lam_text (&st, self->class_names[k], 0, 0, 0, 0.5, l.col_scale,
                 hot_col ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, NULL, hot_col ? 1 : 0.85,
                 l.col_w);
      cairo_restore (cr);
    }
  /* axis names in the free corner left of the slanted column names */
  _lam_text (&st, "true class ↓", l.x - l.em * 0.5, l.y - l.em * 0.4, 1, 1, AXIS_SCALE,
             PANGO_WEIGHT_BOLD, NULL, 0.7, 0);
  _lam_text (&st, "predicted →", l.x - l.em * 0.5, l.y - l.em * 1.9, 1, 1, AXIS_SCALE,
             PANGO_WEIGHT_BOLD, NULL, 0.7, 0);

  if (self->hover_t >= 0 && self->hover_p >= 0 && self->hover_t < K && self->hover_p < K)
    {
      cairo_rectangle (cr, l.x + self->hover_p * l.cell + 1, l.y + self->hover_t * l.cell + 1,
                       l.cell - 2, l.cell - 2);
      _lam_style_fg (&st, 1);
      cairo_set_line_width (cr, 2.5);
      cairo_stroke (cr);
    }

out:
  self->n_cut = st.n_cut;
  _lam_style_end (&st);
  cairo_destroy (cr);
}

static void
lam_confusion_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                            int *minimum, int *natural, int *minimum_baseline,
                            int *natural_baseline)
{
  *minimum = 280;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 700 : 640;
}

/* ── Input ───────────────────────────────────────────────────────────── */

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, LamConfusionView *self)
{
  int t = -1, p = -1;

  lam_confusion_view_cell_at (self, x, y, &t, &p);
  if (t != self->hover_t || p != self->hover_p)
    {
      self->hover_t = t;
      self->hover_p = p;
      gtk_widget_trigger_tooltip_query (GTK_WIDGET (self));
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *motion, LamConfusionView *self)
{
  self->hover_t = self->hover_p = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer data)
{
  LamConfusionView *self = LAM_CONFUSION_VIEW (widget);
  g_autofree char *text = NULL;
  int t, p;

  if (!lam_confusion_view_cell_at (self, x, y, &t, &p))
    return FALSE;
  text = lam_confusion_view_describe_cell (self, t, p);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
pressed_cb (GtkGestureClick *click, int n_press, double x, double y, LamConfusionView *self)
{
  int t, p;

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (lam_confusion_view_cell_at (self, x, y, &t, &p))
    g_signal_emit (self, signals[CELL_ACTIVATED], 0, t, p);
}

/* Arrow keys move a cursor (the hover cell), Enter activates it. */
static gboolean
key_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
        LamConfusionView *self)
{
  int K = self->n_classes, t = MAX (self->hover_t, 0), p = MAX (self->hover_p, 0);

  if (K == 0)
    return GDK_EVENT_PROPAGATE;
  switch (keyval)
    {
    case GDK_KEY_Left:
      p = MAX (p - 1, 0);
      break;
    case GDK_KEY_Right:
      p = MIN (p + 1, K - 1);
      break;
    case GDK_KEY_Up:
      t = MAX (t - 1, 0);
      break;
    case GDK_KEY_Down:
      t = MIN (t + 1, K - 1);
      break;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_space:
      g_signal_emit (self, signals[CELL_ACTIVATED], 0, t, p);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
  self->hover_t = t;
  self->hover_p = p;
  {
    g_autofree char *text = lam_confusion_view_describe_cell (self, t, p);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                    text, -1);
  }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return GDK_EVENT_STOP;
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_confusion_view_finalize (GObject *object)
{
  LamConfusionView *self = LAM_CONFUSION_VIEW (object);

  g_free (self->counts);
  g_free (self->row_totals);
  g_strfreev (self->class_names);
  g_free (self->title);
  G_OBJECT_CLASS (lam_confusion_view_parent_class)->finalize (object);
}

static void
lam_confusion_view_class_init (LamConfusionViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lam_confusion_view_finalize;
  widget_class->snapshot = lam_confusion_view_snapshot;
  widget_class->measure = lam_confusion_view_measure;

  /**
   * LamConfusionView::cell-activated:
   * @true_class: the row
   * @pred_class: the column
   */
  signals[CELL_ACTIVATED] =
    g_signal_new ("cell-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);

  gtk_widget_class_set_css_name (widget_class, "confusionview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lam_confusion_view_init (LamConfusionView *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->hover_t = self->hover_p = -1;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Confusion matrix", -1);

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
lam_confusion_view_new (void)
{
  return g_object_new (LAM_TYPE_CONFUSION_VIEW, NULL);
}
