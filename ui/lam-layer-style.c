/* lam-layer-style.c: group colours and layer glyphs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-layer-style"

#include "config.h"

#include <math.h>
#include <string.h>

#include "lam-layer-style.h"

typedef struct {
  const char *title;       /* as in lam_layer_info()->group */
  const char *css_class;
  const char *color;       /* GNOME palette shades that keep white text legible */
} Group;

/* The course's order. Groups the engine adds later, unknown here, go
 * before the losses with a colour from the spares. */
static const Group known_groups[] = {
  { "Inputs",                           "lam-group-inputs",        "#26a269" },
  { "Dense and Convolution",            "lam-group-dense",         "#1c71d8" },
  { "Pooling",                          "lam-group-pooling",       "#813d9c" },
  { "Activations",                      "lam-group-activations",   "#c64600" },
  { "Normalisation and Regularisation", "lam-group-normalisation", "#986a44" },
  { "Merge",                            "lam-group-merge",         "#1b7f8c" },
  { "Sequences",                        "lam-group-sequences",     "#9c6e03" },
  { "Recurrent",                        "lam-group-recurrent",     "#b5245e" },
  { "Attention",                        "lam-group-attention",     "#5b4bb7" },
  { "Outputs and Losses",               "lam-group-losses",        "#3d3846" },
};
static const char *const spare_colors[] = { "#63452c", "#4a6c1e", "#7a5a87", "#0b6a8a" };

static GArray *groups;          /* Group, in palette order */
static guint   kind_group[LAM_N_LAYER_KINDS];

static guint
find_group (const char *title)
{
  for (guint i = 0; i < groups->len; i++)
    if (g_strcmp0 (g_array_index (groups, Group, i).title, title) == 0)
      return i;
  return G_MAXUINT;
}

static void
ensure_groups (void)
{
  static gsize done;
  guint n_spare = 0;

  if (!g_once_init_enter (&done))
    return;
  groups = g_array_new (FALSE, FALSE, sizeof (Group));
  for (guint i = 0; i < G_N_ELEMENTS (known_groups); i++)
    for (int k = 0; k < LAM_N_LAYER_KINDS; k++)
      if (g_strcmp0 (lam_layer_info (k)->group, known_groups[i].title) == 0)
        {
          g_array_append_val (groups, known_groups[i]);
          break;
        }
  for (int k = 0; k < LAM_N_LAYER_KINDS; k++)
    {
      const char *title = lam_layer_info (k)->group;
      if (find_group (title) == G_MAXUINT)
        {
          guint losses = find_group ("Outputs and Losses");
          Group g = { g_intern_string (title), "lam-group-other", spare_colors[n_spare++ % G_N_ELEMENTS (spare_colors)] };
          g_array_insert_val (groups, losses != G_MAXUINT ? losses : groups->len, g);
        }
    }
  for (int k = 0; k < LAM_N_LAYER_KINDS; k++)
    kind_group[k] = find_group (lam_layer_info (k)->group);
  g_once_init_leave (&done, 1);
}

guint
lam_layer_n_groups (void)
{
  ensure_groups ();
  return groups->len;
}

const char *
lam_layer_group_title (guint group)
{
  g_return_val_if_fail (group < lam_layer_n_groups (), NULL);
  return g_array_index (groups, Group, group).title;
}

guint
lam_layer_group_of (LamLayerKind kind)
{
  g_return_val_if_fail (kind < LAM_N_LAYER_KINDS, 0);
  ensure_groups ();
  return kind_group[kind];
}

const char *
lam_layer_group_css_class (guint group)
{
  g_return_val_if_fail (group < lam_layer_n_groups (), NULL);
  return g_array_index (groups, Group, group).css_class;
}

void
lam_layer_group_color (guint group, GdkRGBA *out)
{
  g_return_if_fail (group < lam_layer_n_groups ());
  gdk_rgba_parse (out, g_array_index (groups, Group, group).color);
}

const LamLayerKind *
lam_layer_kinds_in_order (void)
{
  static LamLayerKind order[LAM_N_LAYER_KINDS];
  static gsize done;

  if (g_once_init_enter (&done))
    {
      guint n = 0;
      for (guint g = 0; g < lam_layer_n_groups (); g++)
        for (int k = 0; k < LAM_N_LAYER_KINDS; k++)
          if (lam_layer_group_of (k) == g)
            order[n++] = k;
      g_assert (n == LAM_N_LAYER_KINDS);
      g_once_init_leave (&done, 1);
    }
  return order;
}

/* ------------------------------------------------------------------ */
/* Numbers */

char *
lam_format_count (gint64 n)
{
  g_autofree char *digits = g_strdup_printf ("%" G_GINT64_FORMAT, n < 0 ? -n : n);
  GString *s = g_string_new (n < 0 ? "-" : "");
  gsize len = strlen (digits);

  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (s, ',');
      g_string_append_c (s, digits[i]);
    }
  return g_string_free (s, FALSE);
}

char *
lam_format_flops (gint64 flops)
{
  static const char *const units[] = { "FLOPs", "kFLOPs", "MFLOPs", "GFLOPs", "TFLOPs" };
  double v = (double) flops;
  guint u = 0;

  while (v >= 1000 && u + 1 < G_N_ELEMENTS (units))
    {
      v /= 1000;
      u++;
    }
  if (u == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT " FLOPs", flops);
  return g_strdup_printf (v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

char *
lam_format_bytes (gint64 bytes)
{
  return g_format_size ((guint64) MAX (bytes, 0));
}

/* ------------------------------------------------------------------ */
/* Glyphs, in a 16×16 box */

static void
grid (cairo_t *cr, double x, double y, double size, int cells)
{
  cairo_rectangle (cr, x, y, size, size);
  for (int i = 1; i < cells; i++)
    {
      cairo_move_to (cr, x + size * i / cells, y);
      cairo_line_to (cr, x + size * i / cells, y + size);
      cairo_move_to (cr, x, y + size * i / cells);
      cairo_line_to (cr, x + size, y + size * i / cells);
    }
  cairo_stroke (cr);
}

static void
dot (cairo_t *cr, double x, double y, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x, y, r, 0, 2 * G_PI);
}

static void
arrow_right (cairo_t *cr, double x0, double x1, double y)
{
  cairo_move_to (cr, x0, y);
  cairo_line_to (cr, x1 - 1, y);
  cairo_stroke (cr);
  cairo_move_to (cr, x1 + 0.5, y);
  cairo_line_to (cr, x1 - 3, y - 3);
  cairo_line_to (cr, x1 - 3, y + 3);
  cairo_close_path (cr);
  cairo_fill (cr);
}

void
lam_layer_draw_glyph (cairo_t *cr, LamLayerKind kind)
{
  cairo_save (cr);
  cairo_set_line_width (cr, 1.6);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);

  switch (kind)
    {
    case LAM_LAYER_INPUT:        /* data flowing into the network */
      arrow_right (cr, 1.5, 10, 8);
      cairo_rectangle (cr, 12, 2, 2.5, 12);
      cairo_fill (cr);
      break;

    case LAM_LAYER_DENSE:        /* every input to every unit */
      cairo_set_line_width (cr, 0.9);
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
          {
            cairo_move_to (cr, 3, 3 + 5 * i);
            cairo_line_to (cr, 13, 5.5 + 5 * j);
          }
      cairo_stroke (cr);
      for (int i = 0; i < 3; i++)
        dot (cr, 3, 3 + 5 * i, 1.9);
      for (int j = 0; j < 2; j++)
        dot (cr, 13, 5.5 + 5 * j, 1.9);
      cairo_fill (cr);
      break;

    case LAM_LAYER_CONV2D:       /* a filter window on the image grid */
      cairo_set_line_width (cr, 1.1);
      grid (cr, 1.5, 1.5, 13, 3);
      cairo_rectangle (cr, 1.5, 1.5, 26.0 / 3, 26.0 / 3);
      cairo_save (cr);
      cairo_clip_preserve (cr);
      cairo_paint_with_alpha (cr, 0.55);
      cairo_restore (cr);
      cairo_new_path (cr);
      break;

    case LAM_LAYER_MAXPOOL2D:    /* the strongest cell wins */
    case LAM_LAYER_AVGPOOL2D:    /* every cell counts a bit */
      cairo_set_line_width (cr, 1.3);
      grid (cr, 2, 2, 12, 2);
      if (kind == LAM_LAYER_MAXPOOL2D)
        {
          cairo_rectangle (cr, 8, 2, 6, 6);
          cairo_fill (cr);
        }
      else
        {
          cairo_rectangle (cr, 2, 2, 12, 12);
          cairo_save (cr);
          cairo_clip (cr);
          cairo_paint_with_alpha (cr, 0.4);
          cairo_restore (cr);
        }
      break;

    case LAM_LAYER_GLOBALAVGPOOL: /* a whole channel to one number */
      cairo_set_line_width (cr, 1.3);
      cairo_rectangle (cr, 2, 2, 12, 12);
      cairo_stroke (cr);
      dot (cr, 8, 8, 2.6);
      cairo_fill (cr);
      break;

    case LAM_LAYER_FLATTEN:      /* a square into a column */
      cairo_set_line_width (cr, 1.2);
      grid (cr, 1, 4, 8, 2);
      cairo_rectangle (cr, 11.5, 1, 3.5, 14);
      for (int i = 1; i < 4; i++)
        {
          cairo_move_to (cr, 11.5, 1 + 3.5 * i);
          cairo_line_to (cr, 15, 1 + 3.5 * i);
        }
      cairo_stroke (cr);
      break;

    case LAM_LAYER_RELU:
      cairo_move_to (cr, 1, 12);
      cairo_line_to (cr, 8, 12);
      cairo_line_to (cr, 15, 3);
      cairo_stroke (cr);
      break;

    case LAM_LAYER_LEAKYRELU:
      cairo_move_to (cr, 1, 13.5);
      cairo_line_to (cr, 8, 12);
      cairo_line_to (cr, 15, 3);
      cairo_stroke (cr);
      break;

    case LAM_LAYER_TANH:         /* an S through the middle */
    case LAM_LAYER_SIGMOID:      /* an S resting on zero */
      cairo_set_line_width (cr, 0.8);
      {
        double base = kind == LAM_LAYER_TANH ? 8 : 14.5;
        cairo_move_to (cr, 1, base);
        cairo_line_to (cr, 15, base);
        cairo_stroke (cr);
      }
      cairo_set_line_width (cr, 1.6);
      cairo_move_to (cr, 1, 13);
      cairo_curve_to (cr, 7, 13, 9, 3, 15, 3);
      cairo_stroke (cr);
      break;

    case LAM_LAYER_GELU:         /* a ReLU with a soft dip */
      cairo_move_to (cr, 1, 11);
      cairo_curve_to (cr, 4, 11, 5.5, 13, 7.5, 11.5);
      cairo_curve_to (cr, 10, 9.5, 12, 5, 15, 2.5);
      cairo_stroke (cr);
      break;

    case LAM_LAYER_SOFTMAX:      /* probabilities: bars */
      cairo_rectangle (cr, 1.5, 10, 3.4, 4.5);
      cairo_rectangle (cr, 6.3, 2, 3.4, 12.5);
      cairo_rectangle (cr, 11.1, 7, 3.4, 7.5);
      cairo_fill (cr);
      break;

    case LAM_LAYER_DROPOUT:      /* some units silenced */
      cairo_set_line_width (cr, 1.1);
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
          {
            gboolean dropped = (i * 3 + j) % 4 == 1;
            dot (cr, 3 + 5 * j, 3 + 5 * i, dropped ? 1.5 : 1.9);
            if (dropped)
              cairo_stroke (cr);
            else
              cairo_fill (cr);
          }
      break;

    case LAM_LAYER_BATCHNORM:    /* a bell curve */
      cairo_move_to (cr, 1, 13);
      cairo_curve_to (cr, 5, 13, 5.5, 3, 8, 3);
      cairo_curve_to (cr, 10.5, 3, 11, 13, 15, 13);
      cairo_stroke (cr);
      break;

    case LAM_LAYER_ADD:
      cairo_arc (cr, 8, 8, 6.3, 0, 2 * G_PI);
      cairo_stroke (cr);
      cairo_set_line_width (cr, 2);
      cairo_move_to (cr, 8, 4.5);
      cairo_line_to (cr, 8, 11.5);
      cairo_move_to (cr, 4.5, 8);
      cairo_line_to (cr, 11.5, 8);
      cairo_stroke (cr);
      break;

    case LAM_LAYER_CONCAT:       /* two blocks side by side */
      cairo_set_line_width (cr, 1.3);
      cairo_rectangle (cr, 1.5, 3, 13, 10);
      cairo_move_to (cr, 8, 3);
      cairo_line_to (cr, 8, 13);
      cairo_stroke (cr);
      cairo_rectangle (cr, 1.5, 3, 6.5, 10);
      cairo_fill (cr);
      break;

    case LAM_LAYER_SOFTMAX_XENT: /* hitting the right class */
      cairo_arc (cr, 8, 8, 6.2, 0, 2 * G_PI);
      cairo_stroke (cr);
      dot (cr, 8, 8, 2.6);
      cairo_fill (cr);
      break;

    case LAM_LAYER_MSE:          /* a parabola */
      cairo_move_to (cr, 2, 2);
      cairo_curve_to (cr, 6, 16.7, 10, 16.7, 14, 2);
      cairo_stroke (cr);
      break;

    case LAM_LAYER_LOCALLY_CONNECTED2D: /* a different filter in every cell */
      cairo_set_line_width (cr, 1.1);
      grid (cr, 1.5, 1.5, 13, 3);
      for (int i = 0; i < 3; i++)
        cairo_rectangle (cr, 1.5 + 13.0 / 3 * i + 1.2, 1.5 + 13.0 / 3 * ((i * 2) % 3) + 1.2,
                         13.0 / 3 - 2.4, 13.0 / 3 - 2.4);
      cairo_fill (cr);
      break;

    case LAM_LAYER_IMAGE_TO_SEQUENCE: /* the rows, one after another */
      for (int i = 0; i < 4; i++)
        cairo_rectangle (cr, 1.5 + i * 1.5, 1.5 + i * 3.6, 10, 2.2);
      cairo_fill (cr);
      break;

    case LAM_LAYER_EMBEDDING:    /* a token looks up its row */
      dot (cr, 2.5, 8, 2);
      cairo_fill (cr);
      cairo_set_line_width (cr, 1.2);
      cairo_rectangle (cr, 6.5, 1.5, 8, 13);
      cairo_stroke (cr);
      cairo_rectangle (cr, 6.5, 6.5, 8, 3);
      cairo_fill (cr);
      break;

    case LAM_LAYER_SIMPLE_RNN:   /* the state fed back */
    case LAM_LAYER_LSTM:
    case LAM_LAYER_GRU:
    case LAM_LAYER_LTC:
      cairo_set_line_width (cr, 1.4);
      cairo_rectangle (cr, 4, 7, 8, 7);
      cairo_stroke (cr);
      cairo_arc (cr, 8, 7, 5, G_PI, 2 * G_PI);
      cairo_stroke (cr);
      cairo_move_to (cr, 1.2, 8.2);
      cairo_line_to (cr, 3, 5.2);
      cairo_line_to (cr, 4.8, 8.2);
      cairo_close_path (cr);
      cairo_fill (cr);
      if (kind == LAM_LAYER_LSTM)          /* a gate */
        cairo_rectangle (cr, 6.5, 9.5, 3, 2);
      else if (kind == LAM_LAYER_GRU)      /* two gates */
        {
          dot (cr, 6.5, 10.5, 1.1);
          dot (cr, 9.5, 10.5, 1.1);
        }
      else if (kind == LAM_LAYER_LTC)      /* a time constant */
        dot (cr, 8, 10.5, 1.6);
      cairo_fill (cr);
      break;

    case LAM_LAYER_MULTIHEAD_ATTENTION: /* every step to every step */
      cairo_set_line_width (cr, 0.9);
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
          {
            cairo_move_to (cr, 3 + 5 * i, 3);
            cairo_line_to (cr, 3 + 5 * j, 13);
          }
      cairo_stroke (cr);
      for (int i = 0; i < 3; i++)
        {
          dot (cr, 3 + 5 * i, 3, 1.8);
          dot (cr, 3 + 5 * i, 13, 1.8);
        }
      cairo_fill (cr);
      break;

    case LAM_LAYER_POSITIONAL_ENCODING: /* waves of different lengths */
      cairo_set_line_width (cr, 1.3);
      cairo_move_to (cr, 1, 5);
      for (double t = 1; t <= 15; t += 0.5)
        cairo_line_to (cr, t, 5 - 2.5 * sin ((t - 1) * G_PI / 3.5));
      cairo_stroke (cr);
      cairo_move_to (cr, 1, 11.5);
      for (double t = 1; t <= 15; t += 0.5)
        cairo_line_to (cr, t, 11.5 - 2.5 * cos ((t - 1) * G_PI / 7));
      cairo_stroke (cr);
      break;

    case LAM_LAYER_LAYERNORM:    /* a bell curve per step */
      cairo_move_to (cr, 4, 13);
      cairo_curve_to (cr, 7, 13, 7.5, 3, 9.5, 3);
      cairo_curve_to (cr, 11.5, 3, 12, 13, 15, 13);
      cairo_stroke (cr);
      cairo_rectangle (cr, 1, 2, 1.6, 12);
      cairo_fill (cr);
      break;

    case LAM_N_LAYER_KINDS:
    default:                     /* a kind newer than this table */
      cairo_rectangle (cr, 2, 2, 12, 12);
      cairo_stroke (cr);
      dot (cr, 8, 8, 2.5);
      cairo_fill (cr);
      break;
    }
  cairo_restore (cr);
}

/* ------------------------------------------------------------------ */
/* LamLayerIcon */

struct _LamLayerIcon {
  GObject      parent_instance;
  LamLayerKind kind;
};

static void paintable_iface_init (GdkPaintableInterface *iface);
static void symbolic_iface_init (GtkSymbolicPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LamLayerIcon, lam_layer_icon, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE, paintable_iface_init)
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SYMBOLIC_PAINTABLE, symbolic_iface_init))

static void
lam_layer_icon_snapshot_symbolic (GtkSymbolicPaintable *paintable, GdkSnapshot *snapshot,
                                  double width, double height, const GdkRGBA *colors, gsize n_colors)
{
  LamLayerIcon *self = LAM_LAYER_ICON (paintable);
  cairo_t *cr = gtk_snapshot_append_cairo (GTK_SNAPSHOT (snapshot), &GRAPHENE_RECT_INIT (0, 0, width, height));

  gdk_cairo_set_source_rgba (cr, &colors[0]);
  cairo_scale (cr, width / 16.0, height / 16.0);
  lam_layer_draw_glyph (cr, self->kind);
  cairo_destroy (cr);
}

static void
lam_layer_icon_snapshot (GdkPaintable *paintable, GdkSnapshot *snapshot, double width, double height)
{
  GdkRGBA fg = { 0.18, 0.2, 0.21, 1 };

  lam_layer_icon_snapshot_symbolic (GTK_SYMBOLIC_PAINTABLE (paintable), snapshot, width, height, &fg, 1);
}

static int
lam_layer_icon_get_intrinsic_size (GdkPaintable *paintable)
{
  return 16;
}

static GdkPaintableFlags
lam_layer_icon_get_flags (GdkPaintable *paintable)
{
  return GDK_PAINTABLE_STATIC_SIZE | GDK_PAINTABLE_STATIC_CONTENTS;
}

static void
paintable_iface_init (GdkPaintableInterface *iface)
{
  iface->snapshot = lam_layer_icon_snapshot;
  iface->get_intrinsic_width = lam_layer_icon_get_intrinsic_size;
  iface->get_intrinsic_height = lam_layer_icon_get_intrinsic_size;
  iface->get_flags = lam_layer_icon_get_flags;
}

static void
symbolic_iface_init (GtkSymbolicPaintableInterface *iface)
{
  iface->snapshot_symbolic = lam_layer_icon_snapshot_symbolic;
}

static void
lam_layer_icon_class_init (LamLayerIconClass *klass)
{
}

static void
lam_layer_icon_init (LamLayerIcon *self)
{
}

GdkPaintable *
lam_layer_icon_new (LamLayerKind kind)
{
  LamLayerIcon *self;

  g_return_val_if_fail (kind < LAM_N_LAYER_KINDS, NULL);

  self = g_object_new (LAM_TYPE_LAYER_ICON, NULL);
  self->kind = kind;
  return GDK_PAINTABLE (self);
}
