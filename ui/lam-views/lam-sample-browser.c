/* lam-sample-browser.c: thumbnails drawn in one widget.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>
#include <string.h>

#include "lam-sample-browser.h"
#include "lam-view-common.h"

typedef struct {
  int index;     /* in the dataset */
  int label;     /* -1: unknown */
  int pred;      /* -1: not a misclassified item */
} Item;

struct _LamSampleBrowser {
  GtkWidget  parent_instance;

  guint8    *images;       /* n_items × c×h×w */
  int        c, h, w;
  GArray    *items;        /* Item */
  GPtrArray *surfaces;     /* cairo_surface_t or NULL, per item, made when drawn */
  char     **class_names;
  char      *title;
  gboolean   gallery;

  int        selected;     /* item */
  int        hover;
  int        thumb_scale;

  LamScroll  scroll;
  double     content_height;
};

enum {
  PROP_0,
  PROP_THUMB_SCALE,
  PROP_SCROLL_FIRST,
  N_PROPS = PROP_SCROLL_FIRST
};

enum {
  SAMPLE_SELECTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE_WITH_CODE (LamSampleBrowser, lam_sample_browser, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE, NULL))

/* ── Layout ──────────────────────────────────────────────────────────── */

typedef struct {
  double em, pad, gap;
  double header;
  double thumb_w, thumb_h;
  double cell_w, cell_h;
  int    cols;
} Layout;

static void
compute_layout (LamSampleBrowser *self, int width, Layout *l)
{
  int scale = self->thumb_scale > 0 ? self->thumb_scale : self->gallery ? 3 : 2;
  int lines = self->gallery ? 2 : 1;

  l->em = _lam_widget_em (GTK_WIDGET (self));
  l->pad = round (l->em * 0.8);
  l->gap = round (l->em * 0.5);
  l->header = self->title ? ceil (l->em * 2.6) : l->pad;
  l->thumb_w = self->w * scale;
  l->thumb_h = self->h * scale;
  l->cell_w = MAX (l->thumb_w, l->em * (self->gallery ? 8.5 : 4.6));
  l->cell_h = l->thumb_h + 8 + lines * l->em * 1.35;
  l->cols = MAX (1, (int) ((width - 2 * l->pad + l->gap) / (l->cell_w + l->gap)));
}

static double
content_height (LamSampleBrowser *self, const Layout *l)
{
  int rows = ((int) self->items->len + l->cols - 1) / l->cols;

  return l->header + rows * (l->cell_h + l->gap) + l->pad;
}

/* Item rectangle in content coordinates (no scrolling). */
static void
item_rect (const Layout *l, int item, graphene_rect_t *r)
{
  graphene_rect_init (r, l->pad + (item % l->cols) * (l->cell_w + l->gap),
                      l->header + (item / l->cols) * (l->cell_h + l->gap), l->cell_w, l->cell_h);
}

static void
lam_sample_browser_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  LamSampleBrowser *self = LAM_SAMPLE_BROWSER (widget);
  Layout l;

  compute_layout (self, width, &l);
  self->content_height = content_height (self, &l);
  _lam_scroll_configure (&self->scroll, width, height, self->content_height);
}

/* Across: any width from 160 pixels. Down: the height of the thumbnails
 * at that width (at the natural width when not given), at least 120, so
 * that a GtkScrolledWindow around it sees the same content that it
 * scrolls through: asked for less, it would hide its scrollbar, learn
 * from the adjustment that it needs one, and lay out again, each frame. */
static void
lam_sample_browser_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                            int *minimum, int *natural, int *minimum_baseline,
                            int *natural_baseline)
{
  LamSampleBrowser *self = LAM_SAMPLE_BROWSER (widget);
  Layout l;

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 160;
      *natural = 800;
      return;
    }
  compute_layout (self, for_size > 0 ? for_size : 800, &l);
  *minimum = *natural = MAX (120, (int) ceil (content_height (self, &l)));
}

/* ── Data ────────────────────────────────────────────────────────────── */

static void
reset (LamSampleBrowser *self, int c, int h, int w, const char *const *class_names)
{
  g_clear_pointer (&self->images, g_free);
  g_array_set_size (self->items, 0);
  g_ptr_array_set_size (self->surfaces, 0);
  g_clear_pointer (&self->class_names, g_strfreev);
  self->class_names = class_names ? g_strdupv ((char **) class_names) : NULL;
  self->c = c, self->h = h, self->w = w;
  self->selected = self->hover = -1;
}

/* The content's height is the widget's height (see measure). */
static void
changed (LamSampleBrowser *self)
{
  g_ptr_array_set_size (self->surfaces, self->items->len);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_sample_browser_clear (LamSampleBrowser *self)
{
  g_return_if_fail (LAM_IS_SAMPLE_BROWSER (self));
  reset (self, 0, 0, 0, NULL);
  changed (self);
}

void
lam_sample_browser_set_title (LamSampleBrowser *self, const char *title)
{
  g_return_if_fail (LAM_IS_SAMPLE_BROWSER (self));

  g_free (self->title);
  self->title = g_strdup (title);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lam_sample_browser_set_images (LamSampleBrowser *self, const guint8 *images, int c, int h, int w,
                               int n, const guint8 *labels, const char *const *class_names,
                               int first_index)
{
  g_return_if_fail (LAM_IS_SAMPLE_BROWSER (self));
  g_return_if_fail (n == 0 || images != NULL);
  g_return_if_fail (c > 0 && h > 0 && w > 0 && n >= 0);

  reset (self, c, h, w, class_names);
  self->gallery = FALSE;
  self->images = g_memdup2 (images, (gsize) n * c * h * w);
  for (int i = 0; i < n; i++)
    {
      Item it = { first_index + i, labels ? labels[i] : -1, -1 };
      g_array_append_val (self->items, it);
    }
  changed (self);
}

void
lam_sample_browser_set_dataset (LamSampleBrowser *self, const LamDataset *ds, int start, int count)
{
  gsize size;

  g_return_if_fail (LAM_IS_SAMPLE_BROWSER (self));
  g_return_if_fail (ds != NULL && ds->images != NULL && ds->shape.rank == 3);

  start = CLAMP (start, 0, ds->n);
  count = CLAMP (count, 0, ds->n - start);
  size = lam_dataset_sample_size (ds);
  lam_sample_browser_set_images (self, ds->images + (gsize) start * size, ds->shape.d[0],
                                 ds->shape.d[1], ds->shape.d[2], count, ds->labels + start,
                                 (const char *const *) ds->class_names, start);
}

int
lam_sample_browser_set_misclassified (LamSampleBrowser *self, const guint8 *images, int c, int h,
                                      int w, const int *pred, const guint8 *labels, int n,
                                      const char *const *class_names, int max_items)
{
  gsize size = (gsize) c * h * w;
  int wrong = 0;
  g_autofree char *title = NULL;

  g_return_val_if_fail (LAM_IS_SAMPLE_BROWSER (self), 0);
  g_return_val_if_fail (n == 0 || (images != NULL && pred != NULL && labels != NULL), 0);
  g_return_val_if_fail (c > 0 && h > 0 && w > 0 && n >= 0, 0);

  reset (self, c, h, w, class_names);
  self->gallery = TRUE;
  for (int i = 0; i < n; i++)
    if (pred[i] != labels[i])
      wrong++;
  self->images = g_malloc (MAX (MIN (wrong, max_items), 1) * size);
  for (int i = 0; i < n && (int) self->items->len < max_items; i++)
    if (pred[i] != labels[i])
      {
        Item it = { i, labels[i], pred[i] };
        memcpy (self->images + self->items->len * size, images + (gsize) i * size, size);
        g_array_append_val (self->items, it);
      }

  if (n == 0)
    title = g_strdup ("No predictions yet");
  else if (wrong == 0)
    title = g_strdup_printf ("All %d samples are classified correctly", n);
  else
    title = g_strdup_printf ("%d of %d misclassified (%.1f%%)%s", wrong, n, 100.0 * wrong / n,
                             wrong > max_items ? " — showing the first ones" : "");
  g_free (self->title);
  self->title = g_steal_pointer (&title);
  changed (self);
  return wrong;
}

int
lam_sample_browser_get_n_items (LamSampleBrowser *self)
{
  g_return_val_if_fail (LAM_IS_SAMPLE_BROWSER (self), 0);
  return (int) self->items->len;
}

int
lam_sample_browser_get_item_index (LamSampleBrowser *self, int item)
{
  g_return_val_if_fail (LAM_IS_SAMPLE_BROWSER (self), -1);
  g_return_val_if_fail (item >= 0 && item < (int) self->items->len, -1);
  return g_array_index (self->items, Item, item).index;
}

int
lam_sample_browser_item_at (LamSampleBrowser *self, double x, double y)
{
  Layout l;
  graphene_rect_t r;
  double cy;
  int col, row, item;

  g_return_val_if_fail (LAM_IS_SAMPLE_BROWSER (self), -1);

  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)), &l);
  cy = y + _lam_scroll_offset (&self->scroll);
  col = (int) floor ((x - l.pad) / (l.cell_w + l.gap));
  row = (int) floor ((cy - l.header) / (l.cell_h + l.gap));
  if (col < 0 || col >= l.cols || row < 0)
    return -1;
  item = row * l.cols + col;
  if (item >= (int) self->items->len)
    return -1;
  item_rect (&l, item, &r);
  return graphene_rect_contains_point (&r, &GRAPHENE_POINT_INIT (x, cy)) ? item : -1;
}

gboolean
lam_sample_browser_get_item_rect (LamSampleBrowser *self, int item, graphene_rect_t *rect)
{
  Layout l;

  g_return_val_if_fail (LAM_IS_SAMPLE_BROWSER (self), FALSE);

  if (item < 0 || item >= (int) self->items->len)
    return FALSE;
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)), &l);
  item_rect (&l, item, rect);
  rect->origin.y -= _lam_scroll_offset (&self->scroll);
  return TRUE;
}

void
lam_sample_browser_set_selected (LamSampleBrowser *self, int index)
{
  g_return_if_fail (LAM_IS_SAMPLE_BROWSER (self));

  self->selected = -1;
  for (guint i = 0; index >= 0 && i < self->items->len; i++)
    if (g_array_index (self->items, Item, i).index == index)
      self->selected = (int) i;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
lam_sample_browser_get_selected (LamSampleBrowser *self)
{
  g_return_val_if_fail (LAM_IS_SAMPLE_BROWSER (self), -1);

  if (self->selected < 0)
    return -1;
  return g_array_index (self->items, Item, self->selected).index;
}

int
lam_sample_browser_get_thumb_scale (LamSampleBrowser *self)
{
  g_return_val_if_fail (LAM_IS_SAMPLE_BROWSER (self), 0);
  return self->thumb_scale;
}

void
lam_sample_browser_set_thumb_scale (LamSampleBrowser *self, int scale)
{
  g_return_if_fail (LAM_IS_SAMPLE_BROWSER (self));
  g_return_if_fail (scale >= 0 && scale <= 16);

  if (self->thumb_scale == scale)
    return;
  self->thumb_scale = scale;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMB_SCALE]);
}

/* ── Drawing ─────────────────────────────────────────────────────────── */

static const char *
class_name (LamSampleBrowser *self, int k, char *buf, gsize len)
{
  if (k < 0)
    return "";
  if (self->class_names && k < (int) g_strv_length (self->class_names))
    return self->class_names[k];
  g_snprintf (buf, len, "%d", k);
  return buf;
}

static void
draw_item (LamSampleBrowser *self, LamViewStyle *st, const Layout *l, int i, double offset)
{
  Item *it = &g_array_index (self->items, Item, i);
  cairo_surface_t *s = g_ptr_array_index (self->surfaces, i);
  cairo_t *cr = st->cr;
  graphene_rect_t r;
  double tx, ty;
  char a[32], b[32];

  item_rect (l, i, &r);
  r.origin.y -= offset;
  if (s == NULL)
    {
      gsize size = (gsize) self->c * self->h * self->w;
      s = _lam_bytes_surface_new (self->images + i * size, self->c, self->h, self->w);
      self->surfaces->pdata[i] = s;
    }

  if (i == self->hover || i == self->selected)
    {
      _lam_rounded_rect (cr, r.origin.x - 3, r.origin.y - 3, r.size.width + 6, r.size.height + 6, 6);
      if (i == self->selected)
        cairo_set_source_rgba (cr, st->accent.red, st->accent.green, st->accent.blue, 0.18);
      else
        _lam_style_fg (st, 0.06);
      cairo_fill (cr);
    }
  tx = round (r.origin.x + (r.size.width - l->thumb_w) / 2);
  ty = r.origin.y;
  _lam_paint_surface (cr, s, tx, ty, l->thumb_w, l->thumb_h, CAIRO_FILTER_NEAREST);
  if (i == self->selected)
    {
      cairo_rectangle (cr, tx - 1.5, ty - 1.5, l->thumb_w + 3, l->thumb_h + 3);
      cairo_set_source_rgba (cr, st->accent.red, st->accent.green, st->accent.blue, 1);
      cairo_set_line_width (cr, 3);
      cairo_stroke (cr);
    }

  if (!self->gallery)
    {
      _lam_text (st, class_name (self, it->label, a, sizeof a), r.origin.x + r.size.width / 2,
                 ty + l->thumb_h + 4, 0.5, 0, 0.85, PANGO_WEIGHT_NORMAL, NULL, 0.8, r.size.width);
    }
  else
    {
      GdkRGBA bad = st->dark ? (GdkRGBA) { 1.0, 0.47, 0.44, 1 } : (GdkRGBA) { 0.75, 0.11, 0.16, 1 };
      g_autofree char *pred = g_strdup_printf ("→ %s", class_name (self, it->pred, b, sizeof b));
      _lam_text (st, class_name (self, it->label, a, sizeof a), r.origin.x + r.size.width / 2,
                 ty + l->thumb_h + 4, 0.5, 0, 0.9, PANGO_WEIGHT_NORMAL, NULL, 0.85, r.size.width);
      _lam_text (st, pred, r.origin.x + r.size.width / 2, ty + l->thumb_h + 4 + l->em * 1.3, 0.5,
                 0, 0.9, PANGO_WEIGHT_BOLD, &bad, 1, r.size.width);
    }
}

static void
lam_sample_browser_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamSampleBrowser *self = LAM_SAMPLE_BROWSER (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  double offset = _lam_scroll_offset (&self->scroll);
  LamViewStyle st;
  cairo_t *cr;
  Layout l;
  int first, last;

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  _lam_style_begin (&st, widget, cr);
  compute_layout (self, w, &l);

  if (self->title)
    _lam_text (&st, self->title, l.pad, l.em * 0.7 - offset, 0, 0, 1.15, PANGO_WEIGHT_BOLD, NULL,
               0.9, w - 2 * l.pad);
  if (self->items->len == 0 && !self->gallery)
    _lam_text (&st, "No samples", w / 2.0, h / 2.0, 0.5, 0.5, 1.2, PANGO_WEIGHT_NORMAL, NULL,
               0.55, 0);

  first = MAX (0, (int) floor ((offset - l.header) / (l.cell_h + l.gap))) * l.cols;
  last = MIN ((int) self->items->len,
              ((int) ceil ((offset + h - l.header) / (l.cell_h + l.gap)) + 1) * l.cols);
  for (int i = first; i < last; i++)
    draw_item (self, &st, &l, i, offset);

  _lam_style_end (&st);
  cairo_destroy (cr);
}

/* ── Input ───────────────────────────────────────────────────────────── */

static void
select_item (LamSampleBrowser *self, int item, gboolean emit)
{
  Layout l;
  graphene_rect_t r;

  if (item < 0 || item >= (int) self->items->len)
    return;
  self->selected = item;
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)), &l);
  item_rect (&l, item, &r);
  /* the first row comes with the title above it */
  _lam_scroll_show (&self->scroll, item < l.cols ? 0 : r.origin.y - l.gap, r.origin.y + r.size.height + l.gap);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (emit)
    g_signal_emit (self, signals[SAMPLE_SELECTED], 0, g_array_index (self->items, Item, item).index);
}

static void
pressed_cb (GtkGestureClick *click, int n_press, double x, double y, LamSampleBrowser *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  select_item (self, lam_sample_browser_item_at (self, x, y), TRUE);
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, LamSampleBrowser *self)
{
  int i = lam_sample_browser_item_at (self, x, y);

  if (i != self->hover)
    {
      self->hover = i;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *motion, LamSampleBrowser *self)
{
  self->hover = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
key_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
        LamSampleBrowser *self)
{
  Layout l;
  int n = (int) self->items->len, s = self->selected, to;

  if (n == 0)
    return GDK_EVENT_PROPAGATE;
  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)), &l);
  switch (keyval)
    {
    case GDK_KEY_Left:
      to = s - 1;
      break;
    case GDK_KEY_Right:
      to = s + 1;
      break;
    case GDK_KEY_Up:
      to = s - l.cols;
      break;
    case GDK_KEY_Down:
      to = s < 0 ? 0 : s + l.cols;
      break;
    case GDK_KEY_Home:
      to = 0;
      break;
    case GDK_KEY_End:
      to = n - 1;
      break;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_space:
      to = MAX (s, 0);
      break;
    default:
      return GDK_EVENT_PROPAGATE;
    }
  select_item (self, CLAMP (to, 0, n - 1), TRUE);
  return GDK_EVENT_STOP;
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_sample_browser_dispose (GObject *object)
{
  LamSampleBrowser *self = LAM_SAMPLE_BROWSER (object);

  _lam_scroll_clear (&self->scroll);
  G_OBJECT_CLASS (lam_sample_browser_parent_class)->dispose (object);
}

static void
lam_sample_browser_finalize (GObject *object)
{
  LamSampleBrowser *self = LAM_SAMPLE_BROWSER (object);

  g_free (self->images);
  g_array_unref (self->items);
  g_ptr_array_unref (self->surfaces);
  g_strfreev (self->class_names);
  g_free (self->title);
  G_OBJECT_CLASS (lam_sample_browser_parent_class)->finalize (object);
}

static void
lam_sample_browser_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamSampleBrowser *self = LAM_SAMPLE_BROWSER (object);

  if (_lam_scroll_get_property (&self->scroll, PROP_SCROLL_FIRST, prop_id, value))
    return;
  switch (prop_id)
    {
    case PROP_THUMB_SCALE:
      g_value_set_int (value, self->thumb_scale);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_sample_browser_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  LamSampleBrowser *self = LAM_SAMPLE_BROWSER (object);

  if (_lam_scroll_set_property (&self->scroll, PROP_SCROLL_FIRST, prop_id, value))
    return;
  switch (prop_id)
    {
    case PROP_THUMB_SCALE:
      lam_sample_browser_set_thumb_scale (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_sample_browser_class_init (LamSampleBrowserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lam_sample_browser_dispose;
  object_class->finalize = lam_sample_browser_finalize;
  object_class->get_property = lam_sample_browser_get_property;
  object_class->set_property = lam_sample_browser_set_property;
  widget_class->snapshot = lam_sample_browser_snapshot;
  widget_class->measure = lam_sample_browser_measure;
  widget_class->size_allocate = lam_sample_browser_size_allocate;

  properties[PROP_THUMB_SCALE] =
    g_param_spec_int ("thumb-scale", NULL, NULL, 0, 16, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  _lam_scroll_install (object_class, PROP_SCROLL_FIRST);

  /**
   * LamSampleBrowser::sample-selected:
   * @index: the sample's index in its dataset
   */
  signals[SAMPLE_SELECTED] =
    g_signal_new ("sample-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  gtk_widget_class_set_css_name (widget_class, "samplebrowser");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GRID);
}

static void
lam_sample_browser_init (LamSampleBrowser *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->items = g_array_new (FALSE, FALSE, sizeof (Item));
  self->surfaces = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);
  self->selected = self->hover = -1;
  _lam_scroll_init (&self->scroll, GTK_WIDGET (self));

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "Samples",
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  "Arrow keys move, Enter chooses a sample", -1);

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
lam_sample_browser_new (void)
{
  return g_object_new (LAM_TYPE_SAMPLE_BROWSER, NULL);
}
