/* lam-graph-view.c: the network canvas.
 *
 * Graph units are the model's positions; the view maps them with
 *   view = graph × zoom + (tx, ty).
 * Everything is drawn in view units so that text can keep a legible
 * size when zoomed out (a projector at the back of a room): below a
 * certain zoom, a node shows fewer lines rather than smaller ones.
 *
 * Gestures never edit the graph until they end: a move is drawn as an
 * offset and committed as one undoable step on release.
 *
 * A view that is not editable (while training runs) still selects, pans
 * and zooms, but refuses every edit: drops, wires, moves, deletions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-graph-view"

#include "config.h"

#include <math.h>

#include <adwaita.h>

#include "lam-graph-view.h"
#include "lam-layer-style.h"

#define NODE_W       LAM_NODE_WIDTH
#define NODE_H       LAM_NODE_HEIGHT
#define HEADER_H     28.0
#define LINE_H       15.6     /* a body line, in graph units */
#define CORNER       9.0
#define PORT_R       6.5
#define PORT_HIT     12.0     /* view pixels */
#define EDGE_HIT     6.0      /* view pixels */
#define DRAG_SLOP    4.0      /* view pixels before a press becomes a drag */
#define MIN_ZOOM     0.15
#define MAX_ZOOM     3.0
#define MIN_FONT_PX  9.5      /* text is never drawn smaller */
#define GRID         30.0
#define KEY_STEP     10.0     /* graph units per Ctrl+arrow */
#define FIRST_ZOOM   1.0      /* a loaded network is shown at least this big */
#define SHORT_ZOOM   0.7      /* but down to this to show whole layers on a short canvas */

typedef enum {
  MODE_NONE,
  MODE_MOVE,
  MODE_CONNECT,
  MODE_RUBBER,
  MODE_PAN,
} Mode;

typedef enum {
  HIT_NONE,
  HIT_NODE,
  HIT_IN_PORT,
  HIT_OUT_PORT,
  HIT_EDGE,
} HitKind;

typedef struct {
  HitKind        kind;
  const LamNode *node;        /* the node, or for an edge its target */
  const char    *edge_from;
} Hit;

struct _LamGraphView {
  GtkWidget   parent_instance;

  LamNetwork *network;
  gboolean    editable;
  GPtrArray  *selection;        /* char*, in the order selected */
  char       *edge_from;        /* the selected edge, if any */
  char       *edge_to;

  double      zoom, tx, ty;
  gboolean    in_allocate;      /* inside size_allocate: GTK is laying out */
  guint       zoom_idle;        /* notify::zoom put off until the layout is done */
  gboolean    fit_pending;
  gboolean    fitted;           /* the view is still as the last fit left it */
  double      fit_min_zoom;     /* that fit's least zoom, to fit again when the size changes */
  graphene_rect_t fit_bounds;   /* and the graph's bounds then */
  int         corner_w, corner_h;  /* what the floating tools cover, from the bottom-right */
  int         alloc_w, alloc_h;  /* the last size, to keep the centre when it changes */
  double      zoom_begin;       /* at the start of a pinch */

  /* The gesture in progress */
  Mode        mode;
  double      press_x, press_y;
  double      off_x, off_y;
  gboolean    dragged;          /* moved past DRAG_SLOP */
  gboolean    extend;           /* Shift or Ctrl held at press */
  char       *wire_node;        /* MODE_CONNECT: where the wire starts */
  gboolean    wire_from_input;
  double      pan_tx, pan_ty;

  /* A palette drag over the canvas: where the layer would land */
  gboolean    drop_hover;
  double      drop_x, drop_y;

  /* Hover */
  double      pointer_x, pointer_y;
  Hit         hover;

  GtkWidget  *context_menu;
};

G_DEFINE_FINAL_TYPE (LamGraphView, lam_graph_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_NETWORK,
  PROP_ZOOM,
  PROP_EDITABLE,
  N_PROPS
};

enum {
  SELECTION_CHANGED,
  NODE_ACTIVATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------ */
/* Geometry */

static const LamGraph *
graph (LamGraphView *self)
{
  return self->network != NULL ? lam_network_get_graph (self->network) : NULL;
}

static gboolean
is_selected (LamGraphView *self, const char *name)
{
  return g_ptr_array_find_with_equal_func (self->selection, name, g_str_equal, NULL);
}

/* The node's rectangle in view coordinates, with a move in progress. */
static graphene_rect_t
node_rect (LamGraphView *self, const LamNode *n)
{
  double x = n->x * self->zoom + self->tx;
  double y = n->y * self->zoom + self->ty;

  if (self->mode == MODE_MOVE && self->dragged && is_selected (self, n->name))
    {
      x += self->off_x;
      y += self->off_y;
    }
  return GRAPHENE_RECT_INIT (x, y, NODE_W * self->zoom, NODE_H * self->zoom);
}

static gboolean
has_in_port (const LamNode *n)
{
  return lam_layer_info (n->kind)->max_inputs != 0;
}

static gboolean
has_out_port (const LamNode *n)
{
  return !lam_layer_info (n->kind)->is_loss;
}

static graphene_point_t
in_port (LamGraphView *self, const LamNode *n)
{
  graphene_rect_t r = node_rect (self, n);
  return GRAPHENE_POINT_INIT (r.origin.x, r.origin.y + r.size.height / 2);
}

static graphene_point_t
out_port (LamGraphView *self, const LamNode *n)
{
  graphene_rect_t r = node_rect (self, n);
  return GRAPHENE_POINT_INIT (r.origin.x + r.size.width, r.origin.y + r.size.height / 2);
}

/* An edge is a cubic from an output port to an input port; one that
 * runs far along a row arcs over the layers between. */
static void
edge_controls (LamGraphView *self, graphene_point_t a, graphene_point_t b, graphene_point_t c[2])
{
  double dx = b.x - a.x, dy = b.y - a.y;
  double pull = MAX (fabs (dx) * 0.45, 50 * self->zoom);
  double lift = 0;

  if (dx > 1.6 * NODE_W * self->zoom && fabs (dy) < NODE_H * self->zoom)
    lift = -MIN (dx * 0.35, 0.9 * NODE_H * self->zoom);
  c[0] = GRAPHENE_POINT_INIT (a.x + pull, a.y + lift);
  c[1] = GRAPHENE_POINT_INIT (b.x - pull, b.y + lift);
}

static graphene_point_t
bezier_at (graphene_point_t a, graphene_point_t c[2], graphene_point_t b, double t)
{
  double u = 1 - t;
  return GRAPHENE_POINT_INIT (u * u * u * a.x + 3 * u * u * t * c[0].x + 3 * u * t * t * c[1].x + t * t * t * b.x,
                              u * u * u * a.y + 3 * u * u * t * c[0].y + 3 * u * t * t * c[1].y + t * t * t * b.y);
}

static double
edge_distance (LamGraphView *self, const LamNode *from, const LamNode *to, double x, double y)
{
  graphene_point_t a = out_port (self, from), b = in_port (self, to), c[2];
  graphene_point_t p = GRAPHENE_POINT_INIT (x, y), prev = a;
  double best = G_MAXDOUBLE;

  edge_controls (self, a, b, c);
  for (int i = 1; i <= 32; i++)
    {
      graphene_point_t q = bezier_at (a, c, b, i / 32.0);
      /* distance to the segment prev–q */
      double vx = q.x - prev.x, vy = q.y - prev.y, len2 = vx * vx + vy * vy;
      double t = len2 > 0 ? CLAMP (((x - prev.x) * vx + (y - prev.y) * vy) / len2, 0, 1) : 0;
      graphene_point_t s = GRAPHENE_POINT_INIT (prev.x + t * vx, prev.y + t * vy);
      best = MIN (best, graphene_point_distance (&p, &s, NULL, NULL));
      prev = q;
    }
  return best;
}

/* Drawing order: unselected first, selected on top. Calls func in that order. */
static GPtrArray *
nodes_in_drawing_order (LamGraphView *self)
{
  const LamGraph *g = graph (self);
  GPtrArray *out = g_ptr_array_new ();

  if (g == NULL)
    return out;
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < g->nodes->len; i++)
      {
        LamNode *n = g_ptr_array_index (g->nodes, i);
        if (is_selected (self, n->name) == pass)
          g_ptr_array_add (out, n);
      }
  return out;
}

static Hit
hit_test (LamGraphView *self, double x, double y)
{
  const LamGraph *g = graph (self);
  g_autoptr(GPtrArray) order = nodes_in_drawing_order (self);
  graphene_point_t p = GRAPHENE_POINT_INIT (x, y);
  double port_hit = MAX (PORT_HIT, PORT_R * self->zoom + 4);

  if (g == NULL)
    return (Hit) { HIT_NONE };
  for (guint i = order->len; i > 0; i--)
    {
      const LamNode *n = g_ptr_array_index (order, i - 1);
      graphene_point_t a = in_port (self, n), b = out_port (self, n);
      if (has_out_port (n) && graphene_point_distance (&p, &b, NULL, NULL) <= port_hit)
        return (Hit) { HIT_OUT_PORT, n };
      if (has_in_port (n) && graphene_point_distance (&p, &a, NULL, NULL) <= port_hit)
        return (Hit) { HIT_IN_PORT, n };
    }
  for (guint i = order->len; i > 0; i--)
    {
      const LamNode *n = g_ptr_array_index (order, i - 1);
      graphene_rect_t r = node_rect (self, n);
      if (graphene_rect_contains_point (&r, &p))
        return (Hit) { HIT_NODE, n };
    }
  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      for (guint j = 0; j < n->inputs->len; j++)
        {
          const LamNode *src = lam_graph_find (g, g_ptr_array_index (n->inputs, j));
          if (src != NULL && edge_distance (self, src, n, x, y) <= EDGE_HIT)
            return (Hit) { HIT_EDGE, n, src->name };
        }
    }
  return (Hit) { HIT_NONE };
}

/* ------------------------------------------------------------------ */
/* Selection */

static void
update_accessible (LamGraphView *self)
{
  const char *name = lam_graph_view_get_selected (self);
  const LamNode *n = self->network != NULL ? lam_network_get_node (self->network, name) : NULL;
  g_autofree char *text = NULL;

  if (n != NULL)
    {
      g_autofree char *summary = lam_network_layer_summary (n);
      char shape[64];
      text = g_strdup_printf ("Selected: %s, %s, %s, output %s%s%s", n->name, lam_layer_info (n->kind)->type_name,
                              summary, lam_shape_to_string (&n->out_shape, shape, sizeof shape),
                              n->error ? ". Problem: " : "", n->error ? n->error : "");
    }
  else if (self->selection->len > 1)
    text = g_strdup_printf ("%u layers selected", self->selection->len);
  else
    text = g_strdup ("No layer selected. Tab selects the next layer.");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
}

static void
selection_changed (LamGraphView *self)
{
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

static void
clear_edge (LamGraphView *self)
{
  g_clear_pointer (&self->edge_from, g_free);
  g_clear_pointer (&self->edge_to, g_free);
}

static void
select_names (LamGraphView *self, const char *const *names, gboolean extend)
{
  if (!extend)
    g_ptr_array_set_size (self->selection, 0);
  clear_edge (self);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    if (!is_selected (self, names[i]))
      g_ptr_array_add (self->selection, g_strdup (names[i]));
  selection_changed (self);
}

static void
toggle_selected (LamGraphView *self, const char *name)
{
  guint index;

  clear_edge (self);
  if (g_ptr_array_find_with_equal_func (self->selection, name, g_str_equal, &index))
    g_ptr_array_remove_index (self->selection, index);
  else
    g_ptr_array_add (self->selection, g_strdup (name));
  selection_changed (self);
}

/* ------------------------------------------------------------------ */
/* Zoom and pan */

static void
set_zoom_at (LamGraphView *self, double zoom, double x, double y)
{
  zoom = CLAMP (zoom, MIN_ZOOM, MAX_ZOOM);
  if (zoom == self->zoom)
    return;
  /* keep the graph point under (x, y) where it is */
  self->tx = x - (x - self->tx) * zoom / self->zoom;
  self->ty = y - (y - self->ty) * zoom / self->zoom;
  self->fitted = FALSE;
  self->zoom = zoom;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
}

static gboolean
graph_bounds (LamGraphView *self, graphene_rect_t *out)
{
  const LamGraph *g = graph (self);
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;

  if (g == NULL || g->nodes->len == 0)
    return FALSE;
  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      x0 = MIN (x0, n->x);
      y0 = MIN (y0, n->y);
      x1 = MAX (x1, n->x + NODE_W);
      y1 = MAX (y1, n->y + NODE_H);
    }
  *out = GRAPHENE_RECT_INIT (x0, y0, x1 - x0, y1 - y0);
  return TRUE;
}

/* Where a graph too big to fit starts: its Input node (else its first
 * node), at the top-left corner of a node. */
static graphene_point_t
graph_anchor (LamGraphView *self)
{
  const LamGraph *g = graph (self);
  const LamNode *n = g ? lam_graph_input_node (g) : NULL;

  if (n == NULL && g != NULL && g->nodes->len > 0)
    n = g_ptr_array_index (g->nodes, 0);
  return n ? GRAPHENE_POINT_INIT (n->x, n->y) : GRAPHENE_POINT_INIT (0, 0);
}

/* The zoom and offset that fit bounds b into w × h less margins mx, my:
 * no bigger than 1, and no smaller than min_w for the width or min_h for
 * the height. Too wide at that, it is shown from the anchor a (the
 * input) at the left; too tall, with the anchor half-way down (a node a
 * file put far away leaves the input in view, not the empty middle). */
static void
fit_into (const graphene_rect_t *b, const graphene_point_t *a, double w, double h, double mx,
          double my, double min_w, double min_h, double *zoom, double *tx, double *ty)
{
  double z = MIN (CLAMP ((w - 2 * mx) / b->size.width, min_w, 1.0),
                  CLAMP ((h - 2 * my) / b->size.height, min_h, 1.0));

  *zoom = z;
  if (b->size.width * z <= w - 2 * mx)
    *tx = (w - b->size.width * z) / 2 - b->origin.x * z;
  else
    *tx = mx - a->x * z;
  if (b->size.height * z <= h - 2 * my)
    *ty = (h - b->size.height * z) / 2 - b->origin.y * z;
  else
    *ty = h / 2 - (a->y + NODE_H / 2) * z;
}

/* Whether bounds b at (zoom, tx, ty) reach under the tools' corner. */
static gboolean
under_corner (LamGraphView *self, const graphene_rect_t *b, double zoom, double tx, double ty, int w, int h)
{
  if (self->corner_w <= 0 || self->corner_h <= 0)
    return FALSE;
  return tx + (b->origin.x + b->size.width) * zoom > w - self->corner_w
         && ty + (b->origin.y + b->size.height) * zoom > h - self->corner_h;
}

static gboolean
notify_zoom_idle (gpointer data)
{
  LamGraphView *self = data;

  self->zoom_idle = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  return G_SOURCE_REMOVE;
}

/* Fits the graph; with min_zoom above MIN_ZOOM a wide graph is shown
 * from its start (the input) at a legible size instead, and on a short
 * canvas (while training) its layers are shown whole down to SHORT_ZOOM.
 * Where the tools floating in the bottom-right corner would cover part
 * of it, it goes above them or left of them if it stays legible there. */
static void
fit (LamGraphView *self, double min_zoom)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));
  graphene_rect_t b;
  double mx = 36, my = MIN (36, round (h * 0.08)), zoom, tx, ty;

  self->fit_min_zoom = min_zoom;
  if (w <= 0 || h <= 0)
    {
      self->fit_pending = TRUE;
      return;
    }
  self->fit_pending = FALSE;
  self->fitted = TRUE;
  self->fit_bounds = GRAPHENE_RECT_INIT (0, 0, 0, 0);
  if (!graph_bounds (self, &b))
    {
      zoom = 1;
      tx = w / 2.0 - NODE_W / 2;
      ty = h / 2.0 - NODE_H / 2;
    }
  else
    {
      double least = MIN (min_zoom, SHORT_ZOOM);
      graphene_point_t a = graph_anchor (self);

      self->fit_bounds = b;
      fit_into (&b, &a, w, h, mx, my, min_zoom, least, &zoom, &tx, &ty);
      if (under_corner (self, &b, zoom, tx, ty, w, h))
        {
          double band = h - self->corner_h, column = w - self->corner_w;
          double my2 = MIN (36, round (band * 0.08)), z2 = 0, tx2, ty2, z3 = 0, tx3, ty3;

          /* above the tools: as wide as before, shorter */
          if (band > 0)
            {
              fit_into (&b, &a, w, band, mx, my2, min_zoom, least, &z2, &tx2, &ty2);
              if (b.size.height * z2 > band - 2 * my2 + 0.5)
                z2 = 0;
            }
          /* left of them: as tall as before, narrower */
          if (column > 2 * mx)
            {
              fit_into (&b, &a, column, h, mx, my, least, least, &z3, &tx3, &ty3);
              if (b.size.width * z3 > column - 2 * mx + 0.5)
                z3 = 0;
            }
          if (z2 > 0 && z2 >= z3)
            zoom = z2, tx = tx2, ty = ty2;
          else if (z3 > 0)
            zoom = z3, tx = tx3, ty = ty3;
        }
    }
  self->zoom = zoom;
  self->tx = tx;
  self->ty = ty;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (!self->in_allocate)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  else if (self->zoom_idle == 0)
    /* fitted in the middle of GTK's layout: whoever shows the zoom (the
     * window's zoom label) would queue a resize now, and GTK would then
     * draw that part of the window without an allocation */
    self->zoom_idle = g_idle_add (notify_zoom_idle, self);
}

/* ------------------------------------------------------------------ */
/* Drawing */

typedef struct {
  gboolean dark;
  GdkRGBA  fg, card, border, accent, error, grid, edge;
} Palette;

static void
get_palette (LamGraphView *self, Palette *p)
{
  GtkStyleContext *ctx = gtk_widget_get_style_context (GTK_WIDGET (self));

  p->dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  gtk_style_context_get_color (ctx, &p->fg);
  if (!gtk_style_context_lookup_color (ctx, "accent_bg_color", &p->accent))
    gdk_rgba_parse (&p->accent, "#3584e4");
  if (!gtk_style_context_lookup_color (ctx, "error_color", &p->error))
    gdk_rgba_parse (&p->error, "#c01c28");
  gdk_rgba_parse (&p->card, p->dark ? "#38383c" : "#ffffff");
  p->border = p->fg;
  p->border.alpha = p->dark ? 0.25 : 0.22;
  p->grid = p->fg;
  p->grid.alpha = 0.13;
  p->edge = p->fg;
  p->edge.alpha = p->dark ? 0.6 : 0.5;
}

static void
rounded_rect (cairo_t *cr, double x, double y, double w, double h, double r, gboolean bottom)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  if (bottom)
    {
      cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
      cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
    }
  else
    {
      cairo_line_to (cr, x + w, y + h);
      cairo_line_to (cr, x, y + h);
    }
  cairo_arc (cr, x + r, y + r, r, G_PI, 1.5 * G_PI);
  cairo_close_path (cr);
}

static PangoLayout *
make_layout (LamGraphView *self, const char *text, double px, gboolean bold, double width)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  PangoFontDescription *font = pango_font_description_copy (
      pango_context_get_font_description (pango_layout_get_context (layout)));

  pango_font_description_set_absolute_size (font, px * PANGO_SCALE);
  pango_font_description_set_weight (font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_width (layout, (int) (MAX (width, 1) * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_single_paragraph_mode (layout, TRUE);
  pango_font_description_free (font);
  return layout;
}

static void
show_text (cairo_t *cr, PangoLayout *layout, double x, double y)
{
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

static void
set_source_alpha (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static void
draw_edge_path (LamGraphView *self, cairo_t *cr, graphene_point_t a, graphene_point_t b)
{
  graphene_point_t c[2];

  edge_controls (self, a, b, c);
  cairo_move_to (cr, a.x, a.y);
  cairo_curve_to (cr, c[0].x, c[0].y, c[1].x, c[1].y, b.x, b.y);
}

static void
draw_arrowhead (cairo_t *cr, graphene_point_t b, double size)
{
  cairo_move_to (cr, b.x - 1, b.y);
  cairo_line_to (cr, b.x - size, b.y - size * 0.6);
  cairo_line_to (cr, b.x - size, b.y + size * 0.6);
  cairo_close_path (cr);
  cairo_fill (cr);
}

static void
draw_edges (LamGraphView *self, cairo_t *cr, const Palette *p)
{
  const LamGraph *g = graph (self);
  double width = MAX (1.5, 2.6 * self->zoom);

  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      for (guint j = 0; j < n->inputs->len; j++)
        {
          const char *from = g_ptr_array_index (n->inputs, j);
          const LamNode *src = lam_graph_find (g, from);
          gboolean selected = g_strcmp0 (self->edge_from, from) == 0 && g_strcmp0 (self->edge_to, n->name) == 0;
          gboolean hovered = self->hover.kind == HIT_EDGE && self->hover.node == n
                             && g_strcmp0 (self->hover.edge_from, from) == 0;
          graphene_point_t a, b;

          if (src == NULL)
            continue;
          a = out_port (self, src);
          b = in_port (self, n);
          draw_edge_path (self, cr, a, b);
          cairo_set_line_width (cr, selected ? width * 1.8 : hovered ? width * 1.4 : width);
          gdk_cairo_set_source_rgba (cr, selected ? &p->accent : &p->edge);
          cairo_stroke (cr);
          if (hypot (b.x - a.x, b.y - a.y) > 60 * self->zoom)
            draw_arrowhead (cr, GRAPHENE_POINT_INIT (b.x - PORT_R * self->zoom, b.y), MAX (5, 9 * self->zoom));
        }
    }
}

static void
draw_port (LamGraphView *self, cairo_t *cr, graphene_point_t at, const GdkRGBA *fill, const Palette *p,
           gboolean hot)
{
  double r = MAX (3.5, PORT_R * self->zoom) * (hot ? 1.5 : 1);

  cairo_new_path (cr);   /* text leaves a current point behind */
  cairo_arc (cr, at.x, at.y, r, 0, 2 * G_PI);
  gdk_cairo_set_source_rgba (cr, hot ? &p->accent : fill);
  cairo_fill_preserve (cr);
  gdk_cairo_set_source_rgba (cr, &p->card);
  cairo_set_line_width (cr, MAX (1.5, 2 * self->zoom));
  cairo_stroke (cr);
}

/* A red disc with a white "!". */
static void
draw_problem_badge (cairo_t *cr, double cx, double cy, double r, const GdkRGBA *error)
{
  cairo_new_path (cr);
  cairo_arc (cr, cx, cy, r, 0, 2 * G_PI);
  gdk_cairo_set_source_rgba (cr, error);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_set_line_width (cr, MAX (1.2, r * 0.18));
  cairo_stroke (cr);
  cairo_rectangle (cr, cx - r * 0.13, cy - r * 0.6, r * 0.26, r * 0.72);
  cairo_arc (cr, cx, cy + r * 0.42, r * 0.15, 0, 2 * G_PI);
  cairo_fill (cr);
}

static void
format_params_line (const LamNode *n, char *buf, gsize len)
{
  g_autofree char *count = NULL;

  if (n->error != NULL && n->out_shape.rank == 0)
    g_strlcpy (buf, "", len);
  else if (n->n_params == 0)
    g_strlcpy (buf, "no parameters", len);
  else
    {
      count = lam_format_count (n->n_params);
      g_snprintf (buf, len, "%s parameters", count);
    }
}

typedef struct {
  const char *text;
  double      px;        /* at zoom 1 */
  gboolean    bold;
  double      alpha;
  int         priority;  /* 0 is shown first when space is short */
} TextLine;

static void
draw_node (LamGraphView *self, cairo_t *cr, const LamNode *n, const Palette *p)
{
  const LamLayerInfo *info = lam_layer_info (n->kind);
  graphene_rect_t r = node_rect (self, n);
  double z = self->zoom, x = r.origin.x, y = r.origin.y, w = r.size.width, h = r.size.height;
  double corner = CORNER * z, header = HEADER_H * z, pad = 9 * z;
  gboolean selected = is_selected (self, n->name);
  gboolean problem = n->error != NULL;
  GdkRGBA group;
  g_autofree char *summary = lam_network_layer_summary (n);
  char shape[64], shape_line[80], params_line[64];
  TextLine lines[4];
  int n_lines = G_N_ELEMENTS (lines), shown;
  double line_h, y_text, icon, title_px;

  lam_layer_group_color (lam_layer_group_of (n->kind), &group);

  /* shadow, card, header */
  rounded_rect (cr, x, y + 2 * z, w, h, corner, TRUE);
  cairo_set_source_rgba (cr, 0, 0, 0, p->dark ? 0.3 : 0.08);
  cairo_fill (cr);
  rounded_rect (cr, x, y, w, h, corner, TRUE);
  gdk_cairo_set_source_rgba (cr, &p->card);
  cairo_fill_preserve (cr);
  gdk_cairo_set_source_rgba (cr, &p->border);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  rounded_rect (cr, x, y, w, header, corner, FALSE);
  gdk_cairo_set_source_rgba (cr, &group);
  cairo_fill (cr);

  /* header: glyph and type */
  icon = MIN (16 * z, header - 6);
  if (icon >= 7)
    {
      cairo_save (cr);
      cairo_translate (cr, x + pad, y + (header - icon) / 2);
      cairo_scale (cr, icon / 16, icon / 16);
      cairo_set_source_rgb (cr, 1, 1, 1);
      lam_layer_draw_glyph (cr, n->kind);
      cairo_restore (cr);
    }
  title_px = MAX (MIN_FONT_PX, MIN (15 * z, header * 0.64));
  {
    double tx = icon >= 7 ? x + pad + icon + 6 * z : x + pad;
    double tw = x + w - tx - pad - (problem ? header * 0.75 : 0);
    g_autoptr(PangoLayout) layout = make_layout (self, info->type_name, title_px, TRUE, tw);
    int lh;
    pango_layout_get_pixel_size (layout, NULL, &lh);
    cairo_set_source_rgb (cr, 1, 1, 1);
    show_text (cr, layout, tx, y + (header - lh) / 2);
  }
  if (problem)
    draw_problem_badge (cr, x + w - header * 0.5, y + header * 0.5, header * 0.34, &p->error);

  /* body lines, as many as fit at a legible size, by priority */
  g_snprintf (shape_line, sizeof shape_line, "→ %s", lam_shape_to_string (&n->out_shape, shape, sizeof shape));
  format_params_line (n, params_line, sizeof params_line);
  lines[0] = (TextLine) { n->name, 14, TRUE, 1.0, 0 };
  lines[1] = (TextLine) { summary, 13, FALSE, 0.8, 2 };
  lines[2] = (TextLine) { shape_line, 13, FALSE, 0.8, 1 };
  lines[3] = (TextLine) { params_line, 12, FALSE, 0.6, 3 };
  line_h = MAX (LINE_H * z, MIN_FONT_PX * 1.2);
  shown = (int) floor ((h - header - 3 * z) / line_h);
  y_text = y + header + MAX (2 * z, ((h - header) - MIN (shown, n_lines) * line_h) / 2);
  for (int i = 0; i < n_lines; i++)
    {
      g_autoptr(PangoLayout) layout = NULL;
      int lh;

      if (lines[i].priority >= shown)
        continue;
      layout = make_layout (self, lines[i].text, MAX (MIN_FONT_PX, lines[i].px * z), lines[i].bold, w - 2 * pad);
      pango_layout_get_pixel_size (layout, NULL, &lh);
      set_source_alpha (cr, &p->fg, lines[i].alpha);
      show_text (cr, layout, x + pad, y_text + (line_h - lh) / 2);
      y_text += line_h;
    }

  /* outline: a problem in red, the selection in the accent colour */
  if (problem || selected)
    {
      double grow = selected ? 3.5 : 2;
      rounded_rect (cr, x - grow, y - grow, w + 2 * grow, h + 2 * grow, corner + grow, TRUE);
      gdk_cairo_set_source_rgba (cr, problem && !selected ? &p->error : &p->accent);
      cairo_set_line_width (cr, 3);
      cairo_stroke (cr);
      if (problem && selected)
        {
          rounded_rect (cr, x - 0.5, y - 0.5, w + 1, h + 1, corner, TRUE);
          gdk_cairo_set_source_rgba (cr, &p->error);
          cairo_set_line_width (cr, 2.5);
          cairo_stroke (cr);
        }
    }

  /* ports */
  if (has_in_port (n))
    draw_port (self, cr, in_port (self, n), &p->edge, p,
               self->hover.node == n && self->hover.kind == HIT_IN_PORT);
  if (has_out_port (n))
    draw_port (self, cr, out_port (self, n), &group, p,
               self->hover.node == n && self->hover.kind == HIT_OUT_PORT);
}

static void
draw_grid (LamGraphView *self, cairo_t *cr, int w, int h, const Palette *p)
{
  double step = GRID * self->zoom;
  double r = MAX (1.0, 1.3 * self->zoom);

  if (step < 12)
    return;
  gdk_cairo_set_source_rgba (cr, &p->grid);
  for (double gx = fmod (self->tx, step); gx < w; gx += step)
    for (double gy = fmod (self->ty, step); gy < h; gy += step)
      cairo_rectangle (cr, gx - r / 2, gy - r / 2, r, r);
  cairo_fill (cr);
}

static void
draw_empty_hint (LamGraphView *self, cairo_t *cr, int w, int h, const Palette *p)
{
  g_autoptr(PangoLayout) layout =
    make_layout (self, "Drag layers here from the palette, starting with an Input", 17, FALSE, w - 40);

  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  set_source_alpha (cr, &p->fg, 0.55);
  show_text (cr, layout, 20, h / 2.0 - 12);
}

static void
lam_graph_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LamGraphView *self = LAM_GRAPH_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  g_autoptr(GPtrArray) order = NULL;
  const LamGraph *g = graph (self);
  Palette p;
  cairo_t *cr;

  if (w <= 0 || h <= 0)
    return;
  get_palette (self, &p);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  draw_grid (self, cr, w, h, &p);

  if (g == NULL || g->nodes->len == 0)
    draw_empty_hint (self, cr, w, h, &p);
  else
    {
      draw_edges (self, cr, &p);
      order = nodes_in_drawing_order (self);
      for (guint i = 0; i < order->len; i++)
        {
          const LamNode *n = g_ptr_array_index (order, i);
          graphene_rect_t r = node_rect (self, n);
          if (r.origin.x > w + 20 || r.origin.y > h + 20 || r.origin.x + r.size.width < -20
              || r.origin.y + r.size.height < -20)
            continue;
          draw_node (self, cr, n, &p);
        }
    }

  /* the wire being drawn */
  if (self->mode == MODE_CONNECT && self->dragged)
    {
      const LamNode *n = lam_network_get_node (self->network, self->wire_node);
      graphene_point_t end = GRAPHENE_POINT_INIT (self->press_x + self->off_x, self->press_y + self->off_y);
      if (n != NULL)
        {
          if (self->wire_from_input)
            draw_edge_path (self, cr, end, in_port (self, n));
          else
            draw_edge_path (self, cr, out_port (self, n), end);
          gdk_cairo_set_source_rgba (cr, &p.accent);
          cairo_set_line_width (cr, MAX (2, 3 * self->zoom));
          cairo_set_dash (cr, (double[]) { 8, 5 }, 2, 0);
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
        }
    }

  /* where a dragged palette layer would land */
  if (self->drop_hover)
    {
      double nw = NODE_W * self->zoom, nh = NODE_H * self->zoom;
      rounded_rect (cr, self->drop_x - nw / 2, self->drop_y - nh / 2, nw, nh, CORNER * self->zoom, TRUE);
      set_source_alpha (cr, &p.accent, 0.12);
      cairo_fill_preserve (cr);
      gdk_cairo_set_source_rgba (cr, &p.accent);
      cairo_set_line_width (cr, 2);
      cairo_set_dash (cr, (double[]) { 6, 4 }, 2, 0);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
    }

  /* rubber band */
  if (self->mode == MODE_RUBBER && self->dragged)
    {
      cairo_rectangle (cr, self->press_x, self->press_y, self->off_x, self->off_y);
      set_source_alpha (cr, &p.accent, 0.15);
      cairo_fill_preserve (cr);
      gdk_cairo_set_source_rgba (cr, &p.accent);
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
    }
  cairo_destroy (cr);
}

/* ------------------------------------------------------------------ */
/* Messages */

static void
toast (LamGraphView *self, const char *message)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (message));
  else
    g_message ("%s", message);
}

static void
connect_nodes (LamGraphView *self, const char *from, const char *to)
{
  g_autoptr(GError) error = NULL;

  if (!lam_network_connect (self->network, from, to, &error))
    toast (self, error->message);
}

/* ------------------------------------------------------------------ */
/* Gestures */

static GdkModifierType
current_state (GtkGesture *gesture)
{
  return gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, LamGraphView *self)
{
  Hit hit;

  if (self->network == NULL)
    return;
  gtk_widget_grab_focus (GTK_WIDGET (self));
  hit = hit_test (self, x, y);
  self->press_x = x;
  self->press_y = y;
  self->off_x = self->off_y = 0;
  self->dragged = FALSE;
  self->extend = (current_state (GTK_GESTURE (gesture)) & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) != 0;

  switch (hit.kind)
    {
    case HIT_OUT_PORT:
    case HIT_IN_PORT:
      if (!self->editable)
        {
          if (!is_selected (self, hit.node->name))
            lam_graph_view_select (self, hit.node->name);
          self->mode = MODE_NONE;
          break;
        }
      self->mode = MODE_CONNECT;
      g_free (self->wire_node);
      self->wire_node = g_strdup (hit.node->name);
      self->wire_from_input = hit.kind == HIT_IN_PORT;
      break;

    case HIT_NODE:
      if (self->extend)
        toggle_selected (self, hit.node->name);
      else if (!is_selected (self, hit.node->name))
        lam_graph_view_select (self, hit.node->name);
      self->mode = self->editable && is_selected (self, hit.node->name) ? MODE_MOVE : MODE_NONE;
      break;

    case HIT_EDGE:
      g_ptr_array_set_size (self->selection, 0);
      clear_edge (self);
      self->edge_from = g_strdup (hit.edge_from);
      self->edge_to = g_strdup (hit.node->name);
      selection_changed (self);
      self->mode = MODE_NONE;
      break;

    case HIT_NONE:
    default:
      self->mode = MODE_RUBBER;
      break;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, LamGraphView *self)
{
  if (self->mode == MODE_NONE)
    return;
  if (!self->dragged && hypot (dx, dy) < DRAG_SLOP)
    return;
  self->dragged = TRUE;
  self->off_x = dx;
  self->off_y = dy;
  if (self->mode == MODE_CONNECT)
    self->hover = hit_test (self, self->press_x + dx, self->press_y + dy);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
finish_rubber (LamGraphView *self)
{
  const LamGraph *g = graph (self);
  graphene_rect_t band = GRAPHENE_RECT_INIT (self->press_x, self->press_y, self->off_x, self->off_y);
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  g_auto(GStrv) strv = NULL;

  graphene_rect_normalize (&band);
  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      graphene_rect_t r = node_rect (self, n);
      if (graphene_rect_intersection (&band, &r, NULL))
        g_strv_builder_add (names, n->name);
    }
  strv = g_strv_builder_end (names);
  select_names (self, (const char *const *) strv, self->extend);
}

static void
on_drag_end (GtkGestureDrag *gesture, double dx, double dy, LamGraphView *self)
{
  Mode mode = self->mode;

  if (mode == MODE_NONE || self->network == NULL)
    return;
  if (self->dragged)
    {
      self->off_x = dx;
      self->off_y = dy;
    }

  switch (mode)
    {
    case MODE_MOVE:
      self->mode = MODE_NONE;
      if (self->dragged)
        {
          g_auto(GStrv) names = lam_graph_view_get_selection (self);
          lam_network_move_nodes (self->network, (const char *const *) names, dx / self->zoom, dy / self->zoom);
        }
      break;

    case MODE_CONNECT:
      self->mode = MODE_NONE;
      if (self->dragged)
        {
          Hit hit = hit_test (self, self->press_x + dx, self->press_y + dy);
          g_autofree char *wire = g_strdup (self->wire_node);
          if (hit.node != NULL && hit.kind != HIT_EDGE)
            {
              g_autofree char *other = g_strdup (hit.node->name);
              if (self->wire_from_input)
                connect_nodes (self, other, wire);
              else
                connect_nodes (self, wire, other);
            }
        }
      break;

    case MODE_RUBBER:
      self->mode = MODE_NONE;
      if (self->dragged)
        finish_rubber (self);
      else if (!self->extend)
        select_names (self, NULL, FALSE);
      break;

    case MODE_PAN:
    case MODE_NONE:
    default:
      self->mode = MODE_NONE;
      break;
    }
  self->dragged = FALSE;
  self->hover = (Hit) { HIT_NONE };
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_pan_begin (GtkGestureDrag *gesture, double x, double y, LamGraphView *self)
{
  self->mode = MODE_PAN;
  self->pan_tx = self->tx;
  self->pan_ty = self->ty;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grabbing");
}

static void
on_pan_update (GtkGestureDrag *gesture, double dx, double dy, LamGraphView *self)
{
  if (self->mode != MODE_PAN)
    return;
  self->tx = self->pan_tx + dx;
  self->ty = self->pan_ty + dy;
  self->fitted = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_pan_end (GtkGestureDrag *gesture, double dx, double dy, LamGraphView *self)
{
  self->mode = MODE_NONE;
  gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
}

static void
on_zoom_begin (GtkGesture *gesture, GdkEventSequence *sequence, LamGraphView *self)
{
  self->zoom_begin = self->zoom;
}

static void
on_zoom_changed (GtkGestureZoom *gesture, double scale, LamGraphView *self)
{
  double cx, cy;

  if (!gtk_gesture_is_active (GTK_GESTURE (gesture))
      || !gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &cx, &cy))
    {
      cx = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      cy = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  set_zoom_at (self, self->zoom_begin * scale, cx, cy);
}

static gboolean
on_scroll (GtkEventControllerScroll *scroll, double dx, double dy, LamGraphView *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));
  gboolean wheel = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (scroll)) == NULL
                   || gtk_event_controller_scroll_get_unit (scroll) == GDK_SCROLL_UNIT_WHEEL;
  double step = wheel ? 48 : 1;   /* a wheel's notch, or a touchpad's pixels */

  if (state & GDK_CONTROL_MASK)
    {
      set_zoom_at (self, self->zoom * pow (1.15, -dy * (step > 1 ? 1 : 0.05)), self->pointer_x, self->pointer_y);
      return TRUE;
    }
  if (state & GDK_SHIFT_MASK && dx == 0)
    {
      dx = dy;
      dy = 0;
    }
  self->tx -= dx * step;
  self->ty -= dy * step;
  self->fitted = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, LamGraphView *self)
{
  Hit hit;

  self->pointer_x = x;
  self->pointer_y = y;
  if (self->mode != MODE_NONE || self->network == NULL)
    return;
  hit = hit_test (self, x, y);
  if (hit.kind != self->hover.kind || hit.node != self->hover.node || hit.edge_from != self->hover.edge_from)
    {
      self->hover = hit;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self),
                                       hit.kind == HIT_IN_PORT || hit.kind == HIT_OUT_PORT ? "crosshair"
                                       : hit.kind == HIT_NODE ? "grab"
                                       : hit.kind == HIT_EDGE ? "pointer" : NULL);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
on_leave (GtkEventControllerMotion *motion, LamGraphView *self)
{
  if (self->hover.kind != HIT_NONE)
    {
      self->hover = (Hit) { HIT_NONE };
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
on_click (GtkGestureClick *click, int n_press, double x, double y, LamGraphView *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (click));
  Hit hit = hit_test (self, x, y);

  if (button == GDK_BUTTON_SECONDARY)
    {
      if (hit.kind == HIT_NODE && !is_selected (self, hit.node->name))
        lam_graph_view_select (self, hit.node->name);
      gtk_popover_set_pointing_to (GTK_POPOVER (self->context_menu), &(GdkRectangle) { (int) x, (int) y, 1, 1 });
      gtk_popover_popup (GTK_POPOVER (self->context_menu));
    }
  else if (button == GDK_BUTTON_PRIMARY && n_press == 2 && hit.kind == HIT_NODE)
    g_signal_emit (self, signals[NODE_ACTIVATED], 0, hit.node->name);
}

static GdkDragAction
on_drop_motion (GtkDropTarget *target, double x, double y, LamGraphView *self)
{
  self->drop_hover = self->network != NULL && self->editable;
  self->drop_x = x;
  self->drop_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return self->drop_hover ? GDK_ACTION_COPY : 0;
}

static void
on_drop_leave (GtkDropTarget *target, LamGraphView *self)
{
  self->drop_hover = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, LamGraphView *self)
{
  self->drop_hover = FALSE;
  if (self->network == NULL || !self->editable || !G_VALUE_HOLDS (value, LAM_TYPE_LAYER_KIND))
    return FALSE;
  lam_graph_view_add_layer (self, g_value_get_enum (value), x, y);
  gtk_widget_grab_focus (GTK_WIDGET (self));
  return TRUE;
}

static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip)
{
  LamGraphView *self = LAM_GRAPH_VIEW (widget);
  Hit hit;
  graphene_rect_t r;
  g_autofree char *text = NULL;

  if (self->network == NULL)
    return FALSE;
  if (keyboard)
    {
      const LamNode *n = lam_network_get_node (self->network, lam_graph_view_get_selected (self));
      hit = (Hit) { n != NULL ? HIT_NODE : HIT_NONE, n };
    }
  else
    hit = hit_test (self, x, y);

  switch (hit.kind)
    {
    case HIT_NODE:
      text = hit.node->error != NULL
        ? g_strdup_printf ("%s: %s", hit.node->name, hit.node->error)
        : g_strdup_printf ("%s: %s", lam_layer_info (hit.node->kind)->type_name, lam_layer_info (hit.node->kind)->blurb);
      break;
    case HIT_OUT_PORT:
      text = g_strdup_printf ("Output of %s: drag onto another layer to connect", hit.node->name);
      break;
    case HIT_IN_PORT:
      text = g_strdup_printf ("Input of %s: drag from another layer's output", hit.node->name);
      break;
    case HIT_EDGE:
      text = g_strdup_printf ("%s → %s: click, then Delete to disconnect", hit.edge_from, hit.node->name);
      break;
    case HIT_NONE:
    default:
      return FALSE;
    }
  r = node_rect (self, hit.node);
  gtk_tooltip_set_text (tooltip, text);
  if (hit.kind == HIT_NODE)
    gtk_tooltip_set_tip_area (tooltip, &(GdkRectangle) { (int) r.origin.x, (int) r.origin.y,
                                                         (int) r.size.width, (int) r.size.height });
  else
    gtk_tooltip_set_tip_area (tooltip, &(GdkRectangle) { x - 4, y - 4, 8, 8 });
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Keyboard */

static void
select_step (LamGraphView *self, int step)
{
  const LamGraph *g = graph (self);
  const char *current = lam_graph_view_get_selected (self);
  int i, n;

  if (g == NULL || (n = (int) g->nodes->len) == 0)
    return;
  i = current != NULL ? lam_graph_index_of (g, current) : (step > 0 ? -1 : 0);
  i = ((i + step) % n + n) % n;
  lam_graph_view_select (self, ((LamNode *) g_ptr_array_index (g->nodes, i))->name);
  lam_graph_view_reveal (self, lam_graph_view_get_selected (self));
}

/* Selects the nearest layer in a direction (dx, dy: one of them ±1). */
static void
select_neighbour (LamGraphView *self, int dx, int dy)
{
  const LamGraph *g = graph (self);
  const LamNode *from = lam_network_get_node (self->network, lam_graph_view_get_selected (self));
  const LamNode *best = NULL;
  double best_score = G_MAXDOUBLE;

  if (from == NULL)
    {
      select_step (self, 1);
      return;
    }
  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      double along = (n->x - from->x) * dx + (n->y - from->y) * dy;
      double across = fabs ((n->x - from->x) * dy) + fabs ((n->y - from->y) * dx);
      double score = along + 2 * across;
      if (n == from || along <= 1 || score >= best_score)
        continue;
      best = n;
      best_score = score;
    }
  if (best != NULL)
    {
      lam_graph_view_select (self, best->name);
      lam_graph_view_reveal (self, best->name);
    }
}

static gboolean
on_key_pressed (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
                LamGraphView *self)
{
  gboolean ctrl = (state & GDK_CONTROL_MASK) != 0;
  gboolean shift = (state & GDK_SHIFT_MASK) != 0;
  int dx = 0, dy = 0;

  if (self->network == NULL)
    return FALSE;

  switch (keyval)
    {
    case GDK_KEY_Tab:
    case GDK_KEY_KP_Tab:
    case GDK_KEY_ISO_Left_Tab:
      if (ctrl)
        return FALSE;   /* Ctrl+Tab leaves the canvas */
      select_step (self, shift || keyval == GDK_KEY_ISO_Left_Tab ? -1 : 1);
      return TRUE;

    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      dx = -1;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      dx = 1;
      break;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      dy = -1;
      break;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      dy = 1;
      break;

    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
      lam_graph_view_zoom_in (self);
      return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
      lam_graph_view_zoom_out (self);
      return TRUE;
    case GDK_KEY_0:
    case GDK_KEY_KP_0:
      if (ctrl)
        return FALSE;
      lam_graph_view_zoom_to_fit (self);
      return TRUE;

    case GDK_KEY_Delete:
    case GDK_KEY_KP_Delete:
    case GDK_KEY_BackSpace:
      lam_graph_view_delete_selection (self);
      return TRUE;

    case GDK_KEY_Escape:
      if (self->mode != MODE_NONE)
        {
          self->mode = MODE_NONE;
          self->dragged = FALSE;
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
      else
        lam_graph_view_select (self, NULL);
      return TRUE;

    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      if (lam_graph_view_get_selected (self) != NULL)
        g_signal_emit (self, signals[NODE_ACTIVATED], 0, lam_graph_view_get_selected (self));
      return TRUE;

    case GDK_KEY_a:
      if (!ctrl)
        return FALSE;
      lam_graph_view_select_all (self);
      return TRUE;

    default:
      return FALSE;
    }

  /* arrows: Ctrl moves the selected layers, otherwise the selection moves */
  if (ctrl && self->selection->len > 0 && self->editable)
    {
      g_auto(GStrv) names = lam_graph_view_get_selection (self);
      double step = shift ? 5 * KEY_STEP : KEY_STEP;
      lam_network_move_nodes (self->network, (const char *const *) names, dx * step, dy * step);
      lam_graph_view_reveal (self, names[0]);
    }
  else
    select_neighbour (self, dx, dy);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* The network */

static void
on_network_changed (LamGraphView *self, LamNetwork *network)
{
  gboolean pruned = FALSE;

  for (guint i = self->selection->len; i > 0; i--)
    if (lam_network_get_node (network, g_ptr_array_index (self->selection, i - 1)) == NULL)
      {
        g_ptr_array_remove_index (self->selection, i - 1);
        pruned = TRUE;
      }
  if (self->edge_to != NULL)
    {
      const LamNode *n = lam_network_get_node (network, self->edge_to);
      if (n == NULL || !g_ptr_array_find_with_equal_func (n->inputs, self->edge_from, g_str_equal, NULL))
        {
          clear_edge (self);
          pruned = TRUE;
        }
    }
  self->hover = (Hit) { HIT_NONE };
  /* layers added or moved since the view was fitted: a new size keeps
   * the view where the user works rather than fitting again */
  if (self->fitted)
    {
      graphene_rect_t b = GRAPHENE_RECT_INIT (0, 0, 0, 0);
      graph_bounds (self, &b);
      if (!graphene_rect_equal (&b, &self->fit_bounds))
        self->fitted = FALSE;
    }
  if (pruned)
    selection_changed (self);
  else
    update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_node_renamed (LamGraphView *self, const char *old_name, const char *new_name, LamNetwork *network)
{
  guint index;

  if (g_ptr_array_find_with_equal_func (self->selection, old_name, g_str_equal, &index))
    {
      g_free (self->selection->pdata[index]);
      self->selection->pdata[index] = g_strdup (new_name);
    }
  if (g_strcmp0 (self->edge_from, old_name) == 0 || g_strcmp0 (self->edge_to, old_name) == 0)
    clear_edge (self);
  selection_changed (self);
}

static void
on_network_reset (LamGraphView *self, LamNetwork *network)
{
  g_ptr_array_set_size (self->selection, 0);
  clear_edge (self);
  self->mode = MODE_NONE;
  fit (self, FIRST_ZOOM);
  selection_changed (self);
}

static void
on_dark_changed (LamGraphView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
lam_graph_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  LamGraphView *self = LAM_GRAPH_VIEW (widget);

  self->in_allocate = TRUE;
  if (self->fit_pending)
    fit (self, self->fit_min_zoom);
  else if (self->fitted && (width != self->alloc_w || height != self->alloc_h))
    {
      /* nobody moved the view since it was fitted: fit it again (the
       * canvas shrinks in steps when training starts, its banner slides
       * in and out) */
      fit (self, self->fit_min_zoom);
    }
  else if (self->alloc_w > 0 && self->alloc_h > 0)
    {
      /* a pane or the window was resized: what was in the middle stays there */
      self->tx += (width - self->alloc_w) / 2.0;
      self->ty += (height - self->alloc_h) / 2.0;
    }
  self->alloc_w = width;
  self->alloc_h = height;
  self->in_allocate = FALSE;
  gtk_popover_present (GTK_POPOVER (self->context_menu));
}

static void
lam_graph_view_dispose (GObject *object)
{
  LamGraphView *self = LAM_GRAPH_VIEW (object);

  g_clear_handle_id (&self->zoom_idle, g_source_remove);
  g_clear_pointer (&self->context_menu, gtk_widget_unparent);
  g_clear_object (&self->network);
  G_OBJECT_CLASS (lam_graph_view_parent_class)->dispose (object);
}

static void
lam_graph_view_finalize (GObject *object)
{
  LamGraphView *self = LAM_GRAPH_VIEW (object);

  g_ptr_array_unref (self->selection);
  g_free (self->edge_from);
  g_free (self->edge_to);
  g_free (self->wire_node);
  G_OBJECT_CLASS (lam_graph_view_parent_class)->finalize (object);
}

static void
lam_graph_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamGraphView *self = LAM_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_NETWORK:
      g_value_set_object (value, self->network);
      break;
    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;
    case PROP_EDITABLE:
      g_value_set_boolean (value, self->editable);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_graph_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LamGraphView *self = LAM_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_NETWORK:
      lam_graph_view_set_network (self, g_value_get_object (value));
      break;
    case PROP_EDITABLE:
      lam_graph_view_set_editable (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_graph_view_class_init (LamGraphViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lam_graph_view_dispose;
  object_class->finalize = lam_graph_view_finalize;
  object_class->get_property = lam_graph_view_get_property;
  object_class->set_property = lam_graph_view_set_property;
  widget_class->snapshot = lam_graph_view_snapshot;
  widget_class->size_allocate = lam_graph_view_size_allocate;
  widget_class->query_tooltip = on_query_tooltip;

  properties[PROP_NETWORK] =
    g_param_spec_object ("network", NULL, NULL, LAM_TYPE_NETWORK,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, MIN_ZOOM, MAX_ZOOM, 1.0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_EDITABLE] =
    g_param_spec_boolean ("editable", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                             0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* node-activated (name): Enter or a double click on a layer */
  signals[NODE_ACTIVATED] = g_signal_new ("node-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_css_name (widget_class, "graphview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static GMenuModel *
context_menu_model (void)
{
  GMenu *menu = g_menu_new ();
  g_autoptr(GMenu) edit = g_menu_new ();
  g_autoptr(GMenu) layout = g_menu_new ();

  g_menu_append (edit, "_Duplicate", "graph.duplicate");
  g_menu_append (edit, "_Delete", "graph.delete");
  g_menu_append (layout, "_Tidy Up", "graph.tidy");
  g_menu_append (layout, "Zoom to _Fit", "view.zoom-fit");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (edit));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (layout));
  return G_MENU_MODEL (menu);
}

static void
lam_graph_view_init (LamGraphView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkGesture *drag, *pan, *zoom, *click;
  GtkEventController *scroll, *motion, *key;
  GtkDropTarget *drop;
  g_autoptr(GMenuModel) menu = context_menu_model ();

  self->selection = g_ptr_array_new_with_free_func (g_free);
  self->editable = TRUE;
  self->zoom = 1.0;
  self->fit_pending = TRUE;
  self->fit_min_zoom = FIRST_ZOOM;

  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_hexpand (widget, TRUE);
  gtk_widget_set_vexpand (widget, TRUE);
  gtk_widget_set_overflow (widget, GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_has_tooltip (widget, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, "Network graph", -1);
  update_accessible (self);

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (drag));

  pan = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (pan), GDK_BUTTON_MIDDLE);
  g_signal_connect (pan, "drag-begin", G_CALLBACK (on_pan_begin), self);
  g_signal_connect (pan, "drag-update", G_CALLBACK (on_pan_update), self);
  g_signal_connect (pan, "drag-end", G_CALLBACK (on_pan_end), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (pan));

  zoom = gtk_gesture_zoom_new ();
  g_signal_connect (zoom, "begin", G_CALLBACK (on_zoom_begin), self);
  g_signal_connect (zoom, "scale-changed", G_CALLBACK (on_zoom_changed), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (zoom));

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), 0);
  g_signal_connect (click, "pressed", G_CALLBACK (on_click), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (click));

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (widget, scroll);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (widget, motion);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (widget, key);

  drop = gtk_drop_target_new (LAM_TYPE_LAYER_KIND, GDK_ACTION_COPY);
  g_signal_connect (drop, "enter", G_CALLBACK (on_drop_motion), self);
  g_signal_connect (drop, "motion", G_CALLBACK (on_drop_motion), self);
  g_signal_connect (drop, "leave", G_CALLBACK (on_drop_leave), self);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (drop));

  self->context_menu = gtk_popover_menu_new_from_model (menu);
  gtk_popover_set_has_arrow (GTK_POPOVER (self->context_menu), FALSE);
  gtk_widget_set_halign (self->context_menu, GTK_ALIGN_START);
  gtk_widget_set_parent (self->context_menu, widget);

  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (on_dark_changed), self, G_CONNECT_SWAPPED);
}

/* ------------------------------------------------------------------ */
/* Public */

GtkWidget *
lam_graph_view_new (void)
{
  return g_object_new (LAM_TYPE_GRAPH_VIEW, NULL);
}

void
lam_graph_view_set_network (LamGraphView *self, LamNetwork *network)
{
  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));
  g_return_if_fail (network == NULL || LAM_IS_NETWORK (network));

  if (self->network == network)
    return;
  if (self->network != NULL)
    g_signal_handlers_disconnect_by_data (self->network, self);
  g_set_object (&self->network, network);
  if (network != NULL)
    {
      g_signal_connect_swapped (network, "changed", G_CALLBACK (on_network_changed), self);
      g_signal_connect_swapped (network, "node-renamed", G_CALLBACK (on_node_renamed), self);
      g_signal_connect_swapped (network, "reset", G_CALLBACK (on_network_reset), self);
      on_network_reset (self, network);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NETWORK]);
}

LamNetwork *
lam_graph_view_get_network (LamGraphView *self)
{
  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), NULL);
  return self->network;
}

char **
lam_graph_view_get_selection (LamGraphView *self)
{
  GStrvBuilder *b;
  char **out;

  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), NULL);

  b = g_strv_builder_new ();
  for (guint i = 0; i < self->selection->len; i++)
    g_strv_builder_add (b, g_ptr_array_index (self->selection, i));
  out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

guint
lam_graph_view_get_n_selected (LamGraphView *self)
{
  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), 0);
  return self->selection->len;
}

const char *
lam_graph_view_get_selected (LamGraphView *self)
{
  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), NULL);
  return self->selection->len == 1 ? g_ptr_array_index (self->selection, 0) : NULL;
}

void
lam_graph_view_select (LamGraphView *self, const char *name)
{
  const char *names[] = { name, NULL };

  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));
  select_names (self, names, FALSE);
}

void
lam_graph_view_select_all (LamGraphView *self)
{
  const LamGraph *g;

  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));

  if ((g = graph (self)) == NULL)
    return;
  g_ptr_array_set_size (self->selection, 0);
  for (guint i = 0; i < g->nodes->len; i++)
    g_ptr_array_add (self->selection, g_strdup (((LamNode *) g_ptr_array_index (g->nodes, i))->name));
  clear_edge (self);
  selection_changed (self);
}

gboolean
lam_graph_view_has_selected_edge (LamGraphView *self)
{
  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), FALSE);
  return self->edge_to != NULL;
}

gboolean
lam_graph_view_delete_selection (LamGraphView *self)
{
  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), FALSE);

  if (self->network == NULL || !self->editable)
    return FALSE;
  if (self->edge_to != NULL)
    {
      g_autofree char *from = g_steal_pointer (&self->edge_from);
      g_autofree char *to = g_steal_pointer (&self->edge_to);
      selection_changed (self);
      return lam_network_disconnect (self->network, from, to);
    }
  if (self->selection->len > 0)
    {
      g_auto(GStrv) names = lam_graph_view_get_selection (self);
      return lam_network_remove_nodes (self->network, (const char *const *) names);
    }
  return FALSE;
}

gboolean
lam_graph_view_duplicate_selection (LamGraphView *self)
{
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) copies = NULL;

  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), FALSE);

  if (self->network == NULL || self->selection->len == 0 || !self->editable)
    return FALSE;
  names = lam_graph_view_get_selection (self);
  copies = lam_network_duplicate_nodes (self->network, (const char *const *) names);
  if (copies == NULL)
    return FALSE;
  select_names (self, (const char *const *) copies, FALSE);
  return TRUE;
}

const char *
lam_graph_view_add_layer (LamGraphView *self, LamLayerKind kind, double x, double y)
{
  const char *name;

  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), NULL);
  g_return_val_if_fail (self->network != NULL, NULL);

  if (!self->editable)
    return NULL;
  /* graph coordinates of the top-left corner, on the grid */
  x = round (((x - self->tx) / self->zoom - NODE_W / 2) / 10) * 10;
  y = round (((y - self->ty) / self->zoom - NODE_H / 2) / 10) * 10;
  name = lam_network_add_node (self->network, kind, x, y);
  lam_graph_view_select (self, name);
  return name;
}

/* At the centre, stepping aside while a layer is already there so that
 * layers added with Enter do not hide one another. */
const char *
lam_graph_view_add_layer_at_center (LamGraphView *self, LamLayerKind kind)
{
  const LamGraph *g;
  double x, y;

  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), NULL);
  g_return_val_if_fail (self->network != NULL, NULL);

  if (!self->editable)
    return NULL;
  g = graph (self);
  x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
  y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
  for (int tries = 0; tries < 50; tries++)
    {
      gboolean taken = FALSE;
      graphene_point_t p = GRAPHENE_POINT_INIT (x, y);
      for (guint i = 0; i < g->nodes->len && !taken; i++)
        {
          graphene_rect_t r = node_rect (self, g_ptr_array_index (g->nodes, i));
          taken = graphene_rect_contains_point (&r, &p);
        }
      if (!taken)
        break;
      x += 30 * self->zoom;
      y += 30 * self->zoom;
    }
  return lam_graph_view_add_layer (self, kind, x, y);
}

double
lam_graph_view_get_zoom (LamGraphView *self)
{
  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), 1.0);
  return self->zoom;
}

void
lam_graph_view_zoom_in (LamGraphView *self)
{
  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));
  set_zoom_at (self, self->zoom * 1.25, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
               gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

void
lam_graph_view_zoom_out (LamGraphView *self)
{
  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));
  set_zoom_at (self, self->zoom / 1.25, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
               gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

void
lam_graph_view_zoom_to_fit (LamGraphView *self)
{
  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));
  fit (self, MIN_ZOOM);
}

void
lam_graph_view_show_network (LamGraphView *self)
{
  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));
  fit (self, FIRST_ZOOM);
}

void
lam_graph_view_queue_show_network (LamGraphView *self)
{
  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));
  self->fit_pending = TRUE;
  self->fit_min_zoom = FIRST_ZOOM;
  gtk_widget_queue_allocate (GTK_WIDGET (self));
}

void
lam_graph_view_set_reserved_corner (LamGraphView *self, int width, int height)
{
  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));

  width = MAX (width, 0);
  height = MAX (height, 0);
  if (width == self->corner_w && height == self->corner_h)
    return;
  self->corner_w = width;
  self->corner_h = height;
  /* a fitted view fits again, clear of the tools (or using their room) */
  if (self->fitted)
    {
      self->fit_pending = TRUE;
      gtk_widget_queue_allocate (GTK_WIDGET (self));
    }
}

void
lam_graph_view_reveal (LamGraphView *self, const char *name)
{
  const LamNode *n;
  graphene_rect_t r;
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  double margin = 24;

  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));

  if (self->network == NULL || (n = lam_network_get_node (self->network, name)) == NULL)
    return;
  r = node_rect (self, n);
  if (r.origin.x < margin || r.origin.x + r.size.width > w - margin || r.origin.y < margin
      || r.origin.y + r.size.height > h - margin)
    self->fitted = FALSE;
  if (r.origin.x < margin)
    self->tx += margin - r.origin.x;
  else if (r.origin.x + r.size.width > w - margin)
    self->tx -= r.origin.x + r.size.width - (w - margin);
  if (r.origin.y < margin)
    self->ty += margin - r.origin.y;
  else if (r.origin.y + r.size.height > h - margin)
    self->ty -= r.origin.y + r.size.height - (h - margin);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
lam_graph_view_get_node_area (LamGraphView *self, const char *name, graphene_rect_t *out)
{
  const LamNode *n;

  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), FALSE);

  if (self->network == NULL || (n = lam_network_get_node (self->network, name)) == NULL)
    return FALSE;
  *out = node_rect (self, n);
  return TRUE;
}

gboolean
lam_graph_view_get_editable (LamGraphView *self)
{
  g_return_val_if_fail (LAM_IS_GRAPH_VIEW (self), FALSE);
  return self->editable;
}

void
lam_graph_view_set_editable (LamGraphView *self, gboolean editable)
{
  g_return_if_fail (LAM_IS_GRAPH_VIEW (self));

  editable = !!editable;
  if (self->editable == editable)
    return;
  self->editable = editable;
  if (!editable && self->mode != MODE_NONE && self->mode != MODE_PAN && self->mode != MODE_RUBBER)
    {
      /* a move or wire in progress ends without an edit */
      self->mode = MODE_NONE;
      self->dragged = FALSE;
    }
  self->drop_hover = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EDITABLE]);
}
