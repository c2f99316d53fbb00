/* lam-prediction-view.c: class probability bars for one sample.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>

#include "lam-prediction-view.h"
#include "lam-view-common.h"

struct _LamPredictionView {
  GtkWidget        parent_instance;

  float           *probs;
  int              n_classes;
  char           **class_names;
  int              true_label;
  int              predicted;

  cairo_surface_t *image;
  int              img_h, img_w;
  char            *caption;

  guint            n_cut;       /* texts that did not fit at the last draw */
};

G_DEFINE_FINAL_TYPE (LamPredictionView, lam_prediction_view, GTK_TYPE_WIDGET)

static const GdkRGBA green_light = { 0x26 / 255.0, 0xa2 / 255.0, 0x69 / 255.0, 1 };
static const GdkRGBA green_dark = { 0x57 / 255.0, 0xe3 / 255.0, 0x89 / 255.0, 1 };
static const GdkRGBA red_light = { 0xc0 / 255.0, 0x1c / 255.0, 0x28 / 255.0, 1 };
static const GdkRGBA red_dark = { 0xff / 255.0, 0x7b / 255.0, 0x63 / 255.0, 1 };

/* The headline beside the image: what the network says, whether it is
 * right, and which sample. Scales are of the widget's font; a line that
 * does not fit its column shrinks down to its least scale first. */
#define KICKER_SCALE   0.9
#define CLASS_SCALE    1.45
#define VERDICT_SCALE  1.05
#define CAPTION_SCALE  0.85
#define NAME_SCALE     1.0
#define PCT_SCALE      0.95
#define MARKER_SCALE   0.85
#define LINE_SPACING   1.25   /* a line's height, in ems of its own size */

typedef struct {
  double em, pad;
  gboolean side;                      /* wide: the image in a column of its own */
  double img_x, img_y, img_s_w, img_s_h;
  double text_x, text_y, text_w;      /* the headline */
  double col_x;                       /* where the names' column starts */
  double names_w, bar_x, bar_w, bars_y, line;
  double pct_w;
  gboolean markers;                   /* "true" / "predicted" after the numbers */
} Layout;

/* The caption goes under the image when the image has a column of its
 * own, else it is the headline's last line. */
static double
headline_height (LamPredictionView *self, double em, gboolean side)
{
  double h = (KICKER_SCALE + CLASS_SCALE) * LINE_SPACING * em;

  if (self->true_label >= 0)
    h += VERDICT_SCALE * LINE_SPACING * em;
  if (self->image && self->caption && !side)
    h += CAPTION_SCALE * LINE_SPACING * em;
  return h;
}

static void
compute_layout (LamPredictionView *self, int width, int height, Layout *l)
{
  double header, names = 0, marker = 0, rest, min_bar;
  LamViewStyle st;

  l->em = _lam_widget_em (GTK_WIDGET (self));
  l->pad = round (l->em);
  l->side = self->image != NULL && width >= l->em * 40;
  header = headline_height (self, l->em, l->side);
  l->img_s_w = l->img_s_h = 0;
  l->col_x = l->text_x = l->pad;
  if (self->image && l->side)
    {
      /* wide: a big image on the left, its caption under it; the
       * headline and the bars beside it */
      double s = MIN (width * 0.32, height - 2 * l->pad - l->em * 3);
      double scale = MAX (1, floor (s / MAX (self->img_h, self->img_w)));
      l->img_s_w = self->img_w * scale;
      l->img_s_h = self->img_h * scale;
      l->img_x = l->img_y = l->pad;
      l->col_x = l->text_x = l->pad + l->img_s_w + 2 * l->pad;
    }
  else if (self->image)
    {
      /* narrow: the image beside the headline, no taller than the bars
       * leave room for; the bars across the whole width under them */
      double bars = MAX (self->n_classes, 1) * l->em * 1.2 + 3 * l->pad;
      double s = MIN (MIN (width * 0.3, l->em * 6.5), MAX (height - bars, header));
      double scale = MAX (1, floor (s / MAX (self->img_h, self->img_w)));
      l->img_s_w = self->img_w * scale;
      l->img_s_h = self->img_h * scale;
      l->img_x = l->img_y = l->pad;
      l->text_x += l->img_s_w + l->pad;
      header = MAX (header, l->img_s_h);
    }
  l->text_w = MAX (width - l->text_x - l->pad, 1);
  l->text_y = l->pad + (header - headline_height (self, l->em, l->side)) / 2;
  l->bars_y = l->pad + header + l->pad * 0.8;
  l->line = self->n_classes > 0
              ? MIN (l->em * 3.0, MAX (l->em * 1.2, (height - l->bars_y - l->pad * 0.5) / self->n_classes))
              : 0;

  /* columns: as wide as the longest name, the numbers and the markers */
  _lam_style_begin_measure (&st, GTK_WIDGET (self));
  for (int k = 0; k < self->n_classes; k++)
    {
      double w;
      _lam_text_size (&st, self->class_names[k], NAME_SCALE, PANGO_WEIGHT_BOLD, &w, NULL);
      names = MAX (names, w);
    }
  _lam_text_size (&st, "100.0%", PCT_SCALE, PANGO_WEIGHT_BOLD, &l->pct_w, NULL);
  _lam_text_size (&st, "predicted", MARKER_SCALE, PANGO_WEIGHT_BOLD, &marker, NULL);
  _lam_style_end (&st);

  l->names_w = MIN (ceil (names) + 2, (width - l->col_x) * 0.4);
  l->bar_x = l->col_x + l->names_w + l->pad * 0.6;
  rest = width - l->bar_x - l->pad * 0.6 - l->pct_w - l->pad * 0.5;
  min_bar = MAX (l->em * 4, (width - l->col_x) * 0.2);
  l->markers = rest - l->pad * 0.5 - marker >= min_bar;
  l->bar_w = MAX (l->markers ? rest - l->pad * 0.5 - marker : rest, 20);
}

/* ── Data ────────────────────────────────────────────────────────────── */

void
lam_prediction_view_clear (LamPredictionView *self)
{
  g_return_if_fail (LAM_IS_PREDICTION_VIEW (self));

  g_clear_pointer (&self->probs, g_free);
  g_clear_pointer (&self->class_names, g_strfreev);
  g_clear_pointer (&self->image, cairo_surface_destroy);
  g_clear_pointer (&self->caption, g_free);
  self->n_classes = 0;
  self->true_label = self->predicted = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_prediction_view_set_probabilities (LamPredictionView *self, const float *probs, int n_classes,
                                       const char *const *class_names, int true_label)
{
  g_autofree char *desc = NULL;
  guint n_names;

  g_return_if_fail (LAM_IS_PREDICTION_VIEW (self));
  g_return_if_fail (n_classes >= 0 && (n_classes == 0 || probs != NULL));

  g_free (self->probs);
  self->probs = g_memdup2 (probs, sizeof (float) * MAX (n_classes, 1));
  self->n_classes = n_classes;
  g_strfreev (self->class_names);
  self->class_names = g_new0 (char *, n_classes + 1);
  n_names = class_names ? g_strv_length ((char **) class_names) : 0;
  for (int k = 0; k < n_classes; k++)
    self->class_names[k] = (guint) k < n_names ? g_strdup (class_names[k])
                                               : g_strdup_printf ("class %d", k);
  self->true_label = true_label >= 0 && true_label < n_classes ? true_label : -1;
  self->predicted = -1;
  for (int k = 0; k < n_classes; k++)
    if (isfinite (probs[k]) && (self->predicted < 0 || probs[k] > probs[self->predicted]))
      self->predicted = k;

  if (self->predicted >= 0)
    {
      desc = g_strdup_printf ("Predicted %s with %.0f%%%s%s", self->class_names[self->predicted],
                              self->probs[self->predicted] * 100.0,
                              self->true_label >= 0 ? "; true class " : "",
                              self->true_label >= 0 ? self->class_names[self->true_label] : "");
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      desc, -1);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_prediction_view_set_image (LamPredictionView *self, const guint8 *pixels, int c, int h, int w,
                               const char *caption)
{
  g_return_if_fail (LAM_IS_PREDICTION_VIEW (self));

  g_clear_pointer (&self->image, cairo_surface_destroy);
  g_clear_pointer (&self->caption, g_free);
  if (pixels != NULL)
    {
      g_return_if_fail (c > 0 && h > 0 && w > 0);
      self->image = _lam_bytes_surface_new (pixels, c, h, w);
      self->img_h = h;
      self->img_w = w;
      self->caption = g_strdup (caption);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
lam_prediction_view_get_predicted (LamPredictionView *self)
{
  g_return_val_if_fail (LAM_IS_PREDICTION_VIEW (self), -1);
  return self->predicted;
}

gboolean
lam_prediction_view_get_bar_rect (LamPredictionView *self, int k, graphene_rect_t *rect)
{
  Layout l;

  g_return_val_if_fail (LAM_IS_PREDICTION_VIEW (self), FALSE);

  if (k < 0 || k >= self->n_classes)
    return FALSE;
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)),
                  gtk_widget_get_height (GTK_WIDGET (self)), &l);
  graphene_rect_init (rect, l.bar_x, l.bars_y + k * l.line + l.line * 0.15, l.bar_w, l.line * 0.7);
  return TRUE;
}

guint
lam_prediction_view_get_n_cut_texts (LamPredictionView *self)
{
  g_return_val_if_fail (LAM_IS_PREDICTION_VIEW (self), 0);
  return self->n_cut;
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

static void
lam_prediction_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamPredictionView *self = LAM_PREDICTION_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  const GdkRGBA *green, *red;
  LamViewStyle st;
  cairo_t *cr;
  Layout l;

  if (w <= 0 || h <= 0)
    return;
  compute_layout (self, w, h, &l);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  _lam_style_begin (&st, widget, cr);
  green = st.dark ? &green_dark : &green_light;
  red = st.dark ? &red_dark : &red_light;

  if (self->image)
    {
      _lam_paint_surface (cr, self->image, l.img_x, l.img_y, l.img_s_w, l.img_s_h,
                          CAIRO_FILTER_NEAREST);
      _lam_style_fg (&st, 0.3);
      cairo_set_line_width (cr, 1);
      cairo_rectangle (cr, l.img_x - 0.5, l.img_y - 0.5, l.img_s_w + 1, l.img_s_h + 1);
      cairo_stroke (cr);
      if (l.side && self->caption)
        {
          double cw;
          /* centred under the image, wrapped to its width */
          _lam_text_size (&st, self->caption, CAPTION_SCALE, PANGO_WEIGHT_NORMAL, &cw, NULL);
          cw = MIN (cw + 1, l.img_s_w + l.pad);
          _lam_paragraph (&st, self->caption, l.img_x + (l.img_s_w - cw) / 2, l.img_y + l.img_s_h + 6,
                          CAPTION_SCALE, PANGO_WEIGHT_NORMAL, NULL, 0.8, cw);
        }
    }

  if (self->n_classes == 0 || self->predicted < 0)
    {
      double y = l.text_y;
      if (self->image && self->caption && !l.side)
        y += _lam_paragraph (&st, self->caption, l.text_x, y, CAPTION_SCALE, PANGO_WEIGHT_NORMAL,
                             NULL, 0.7, l.text_w) + l.em * 0.4;
      _lam_paragraph (&st, "Choose a sample to see what the network predicts", l.text_x, y, 1.1,
                      PANGO_WEIGHT_NORMAL, NULL, 0.55, l.text_w);
    }
  else
    {
      gboolean right = self->true_label < 0 || self->true_label == self->predicted;
      g_autofree char *headline = NULL;
      double y = l.text_y, tx;

      /* "Predicted" above "Shirt 71%": the class and its share read from
       * the back of the room, however long the class name */
      _lam_text (&st, "Predicted", l.text_x, y, 0, 0, KICKER_SCALE, PANGO_WEIGHT_NORMAL, NULL,
                 0.7, l.text_w);
      y += KICKER_SCALE * LINE_SPACING * l.em;
      headline = g_strdup_printf ("%s  %.0f%%", self->class_names[self->predicted],
                                  self->probs[self->predicted] * 100.0);
      _lam_text_fit (&st, headline, l.text_x, y - l.em * 0.1, 0, 0, CLASS_SCALE, 0.95,
                     PANGO_WEIGHT_BOLD, right ? NULL : red, 1, l.text_w);
      y += CLASS_SCALE * LINE_SPACING * l.em;
      if (self->true_label >= 0)
        {
          g_autofree char *verdict = right ? g_strdup ("✓ correct")
                                           : g_strdup_printf ("✗ true class: %s",
                                                              self->class_names[self->true_label]);
          _lam_text_fit (&st, verdict, l.text_x, y, 0, 0, VERDICT_SCALE, 0.8, PANGO_WEIGHT_BOLD,
                         right ? green : red, 1, l.text_w);
          y += VERDICT_SCALE * LINE_SPACING * l.em;
        }
      if (self->image && self->caption && !l.side)
        _lam_text_fit (&st, self->caption, l.text_x, y, 0, 0, CAPTION_SCALE, 0.75,
                       PANGO_WEIGHT_NORMAL, NULL, 0.7, l.text_w);

      for (int k = 0; k < self->n_classes; k++)
        {
          double by = l.bars_y + k * l.line, p = CLAMP (self->probs[k], 0, 1);
          gboolean is_true = k == self->true_label, is_wrong = k == self->predicted && !right;
          const GdkRGBA *c = is_true ? green : is_wrong ? red : NULL;
          char pct[32];

          /* a pixel or two to spare: the names were measured for this width */
          _lam_text (&st, self->class_names[k], l.bar_x - l.pad * 0.6, by + l.line / 2, 1, 0.5,
                     NAME_SCALE, is_true || k == self->predicted ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL,
                     c, c ? 1 : 0.85, l.names_w + 2);
          cairo_rectangle (cr, l.bar_x, by + l.line * 0.15, l.bar_w, l.line * 0.7);
          _lam_style_fg (&st, 0.07);
          cairo_fill (cr);
          cairo_rectangle (cr, l.bar_x, by + l.line * 0.15, MAX (l.bar_w * p, 1.5), l.line * 0.7);
          if (c)
            cairo_set_source_rgba (cr, c->red, c->green, c->blue, 1);
          else
            cairo_set_source_rgba (cr, st.accent.red, st.accent.green, st.accent.blue,
                                   k == self->predicted ? 1 : 0.5);
          cairo_fill (cr);

          g_snprintf (pct, sizeof pct, "%.1f%%", p * 100);
          tx = l.bar_x + l.bar_w + l.pad * 0.6;
          _lam_text (&st, pct, tx, by + l.line / 2, 0, 0.5, PCT_SCALE,
                     c || k == self->predicted ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, NULL, 0.85, 0);
          if ((is_true || is_wrong) && l.markers)
            _lam_text (&st, is_true ? "true" : "predicted", tx + l.pct_w + l.pad * 0.5, by + l.line / 2,
                       0, 0.5, MARKER_SCALE, PANGO_WEIGHT_BOLD, c, 1, 0);
        }
    }
  self->n_cut = st.n_cut;
  _lam_style_end (&st);
  cairo_destroy (cr);
}

static void
lam_prediction_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                             int *minimum, int *natural, int *minimum_baseline,
                             int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 320 : 160;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 800 : 400;
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_prediction_view_finalize (GObject *object)
{
  LamPredictionView *self = LAM_PREDICTION_VIEW (object);

  g_free (self->probs);
  g_strfreev (self->class_names);
  g_clear_pointer (&self->image, cairo_surface_destroy);
  g_free (self->caption);
  G_OBJECT_CLASS (lam_prediction_view_parent_class)->finalize (object);
}

static void
lam_prediction_view_class_init (LamPredictionViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lam_prediction_view_finalize;
  widget_class->snapshot = lam_prediction_view_snapshot;
  widget_class->measure = lam_prediction_view_measure;

  gtk_widget_class_set_css_name (widget_class, "predictionview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lam_prediction_view_init (LamPredictionView *self)
{
  self->true_label = self->predicted = -1;
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Class probabilities", -1);
}

GtkWidget *
lam_prediction_view_new (void)
{
  return g_object_new (LAM_TYPE_PREDICTION_VIEW, NULL);
}
