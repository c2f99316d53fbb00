/* lam-palette.c: a list of layer kinds; each row is a drag source that
 * carries a LAM_TYPE_LAYER_KIND value, as in gtk-demo's dnd.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-palette"

#include "config.h"

#include <string.h>

#include "lam-layer-style.h"
#include "lam-network.h"
#include "lam-palette.h"

struct _LamPalette {
  GtkWidget       parent_instance;

  /* Template widgets */
  GtkSearchEntry *search_entry;
  GtkListBox     *list_box;

  GtkWidget      *rows[LAM_N_LAYER_KINDS];
};

G_DEFINE_FINAL_TYPE (LamPalette, lam_palette, GTK_TYPE_WIDGET)

enum {
  LAYER_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define ROW_KIND(row) ((LamLayerKind) GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "kind")))

static GdkContentProvider *
on_drag_prepare (GtkDragSource *source, double x, double y, GtkWidget *row)
{
  return gdk_content_provider_new_typed (LAM_TYPE_LAYER_KIND, ROW_KIND (row));
}

/* The drag icon: a small node, in the group's colour, opaque so that it
 * reads well on any desktop. */
static GdkPaintable *
make_drag_icon (GtkWidget *row, LamLayerKind kind)
{
  const LamLayerInfo *info = lam_layer_info (kind);
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (row, info->type_name);
  PangoFontDescription *font = pango_font_description_from_string ("Bold");
  const int height = 34, pad = 10, icon = 18, r = 7;
  int text_w, text_h, width, stride;
  cairo_surface_t *surface;
  cairo_t *cr;
  GdkRGBA color;
  GBytes *bytes;
  GdkTexture *texture;

  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  pango_layout_get_pixel_size (layout, &text_w, &text_h);
  width = pad + icon + 8 + text_w + pad;

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  lam_layer_group_color (lam_layer_group_of (kind), &color);
  cairo_new_sub_path (cr);
  cairo_arc (cr, width - r, r, r, -G_PI / 2, 0);
  cairo_arc (cr, width - r, height - r, r, 0, G_PI / 2);
  cairo_arc (cr, r, height - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, r, r, r, G_PI, 1.5 * G_PI);
  gdk_cairo_set_source_rgba (cr, &color);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_save (cr);
  cairo_translate (cr, pad, (height - icon) / 2.0);
  cairo_scale (cr, icon / 16.0, icon / 16.0);
  lam_layer_draw_glyph (cr, kind);
  cairo_restore (cr);
  cairo_move_to (cr, pad + icon + 8, (height - text_h) / 2.0);
  pango_cairo_show_layout (cr, layout);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  stride = cairo_image_surface_get_stride (surface);
  bytes = g_bytes_new (cairo_image_surface_get_data (surface), (gsize) stride * height);
  texture = gdk_memory_texture_new (width, height, GDK_MEMORY_DEFAULT, bytes, stride);
  g_bytes_unref (bytes);
  cairo_surface_destroy (surface);
  return GDK_PAINTABLE (texture);
}

static void
on_drag_begin (GtkDragSource *source, GdkDrag *drag, GtkWidget *row)
{
  g_autoptr(GdkPaintable) icon = make_drag_icon (row, ROW_KIND (row));

  gtk_drag_source_set_icon (source, icon, 20, gdk_paintable_get_intrinsic_height (icon) / 2);
}

static GtkWidget *
make_row (LamLayerKind kind)
{
  const LamLayerInfo *info = lam_layer_info (kind);
  guint group = lam_layer_group_of (kind);
  g_autoptr(GdkPaintable) icon = lam_layer_icon_new (kind);
  GtkWidget *row, *box, *image, *label;
  GtkDragSource *source;

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  image = gtk_image_new_from_paintable (icon);
  gtk_image_set_pixel_size (GTK_IMAGE (image), 20);
  gtk_widget_add_css_class (image, "layer-icon");
  gtk_widget_add_css_class (image, lam_layer_group_css_class (group));
  gtk_accessible_update_property (GTK_ACCESSIBLE (image), GTK_ACCESSIBLE_PROPERTY_LABEL, info->type_name, -1);
  gtk_box_append (GTK_BOX (box), image);
  label = gtk_label_new (info->type_name);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), label);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_tooltip_text (row, info->blurb);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, info->type_name,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, info->blurb,
                                  -1);
  g_object_set_data (G_OBJECT (row), "kind", GINT_TO_POINTER (kind));

  source = gtk_drag_source_new ();
  gtk_drag_source_set_actions (source, GDK_ACTION_COPY);
  g_signal_connect (source, "prepare", G_CALLBACK (on_drag_prepare), row);
  g_signal_connect (source, "drag-begin", G_CALLBACK (on_drag_begin), row);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (source));
  return row;
}

static void
header_func (GtkListBoxRow *row, GtkListBoxRow *before, gpointer data)
{
  guint group = lam_layer_group_of (ROW_KIND (row));
  GtkWidget *header;

  if (before != NULL && lam_layer_group_of (ROW_KIND (before)) == group)
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }
  header = gtk_label_new (lam_layer_group_title (group));
  gtk_label_set_xalign (GTK_LABEL (header), 0);
  gtk_label_set_wrap (GTK_LABEL (header), TRUE);
  gtk_widget_add_css_class (header, "palette-group");
  gtk_widget_add_css_class (header, lam_layer_group_css_class (group));
  gtk_list_box_row_set_header (row, header);
}

static gboolean
filter_func (GtkListBoxRow *row, gpointer data)
{
  LamPalette *self = data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  const LamLayerInfo *info = lam_layer_info (ROW_KIND (row));
  g_autofree char *needle = g_utf8_casefold (text, -1);
  g_autofree char *hay = NULL;

  if (needle[0] == '\0')
    return TRUE;
  hay = g_utf8_casefold (info->type_name, -1);
  if (strstr (hay, needle) != NULL)
    return TRUE;
  g_free (hay);
  hay = g_utf8_casefold (info->group, -1);
  return strstr (hay, needle) != NULL;
}

static void
on_search_changed (LamPalette *self)
{
  gtk_list_box_invalidate_filter (self->list_box);
}

static GtkWidget *
first_visible_row (LamPalette *self)
{
  for (guint i = 0; i < LAM_N_LAYER_KINDS; i++)
    {
      GtkWidget *row = self->rows[lam_layer_kinds_in_order ()[i]];
      if (filter_func (GTK_LIST_BOX_ROW (row), self))
        return row;
    }
  return NULL;
}

static void
on_search_activate (LamPalette *self)
{
  GtkWidget *row = first_visible_row (self);

  if (row != NULL)
    g_signal_emit (self, signals[LAYER_ACTIVATED], 0, ROW_KIND (row));
}

static void
on_stop_search (LamPalette *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
}

static void
on_row_activated (LamPalette *self, GtkListBoxRow *row)
{
  g_signal_emit (self, signals[LAYER_ACTIVATED], 0, ROW_KIND (row));
}

/* Down from the search entry goes into the list. */
static gboolean
on_search_key (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
               LamPalette *self)
{
  GtkWidget *row;

  if (keyval != GDK_KEY_Down && keyval != GDK_KEY_KP_Down)
    return FALSE;
  if ((row = first_visible_row (self)) != NULL)
    {
      gtk_list_box_select_row (self->list_box, GTK_LIST_BOX_ROW (row));
      gtk_widget_grab_focus (row);
    }
  return TRUE;
}

static void
lam_palette_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), LAM_TYPE_PALETTE);
  /* the template's top widget has no id, so dispose_template leaves it */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL;)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (lam_palette_parent_class)->dispose (object);
}

static void
lam_palette_class_init (LamPaletteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lam_palette_dispose;

  /* layer-activated (kind): Enter or a double click on a row */
  signals[LAYER_ACTIVATED] = g_signal_new ("layer-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, LAM_TYPE_LAYER_KIND);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/lamina/Lamina/ui/lam-palette.ui");
  gtk_widget_class_bind_template_child (widget_class, LamPalette, search_entry);
  gtk_widget_class_bind_template_child (widget_class, LamPalette, list_box);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_search_activate);
  gtk_widget_class_bind_template_callback (widget_class, on_stop_search);
  gtk_widget_class_bind_template_callback (widget_class, on_row_activated);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "palette");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
lam_palette_init (LamPalette *self)
{
  const LamLayerKind *order = lam_layer_kinds_in_order ();
  GtkEventController *key;

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, "Layer palette", -1);

  for (guint i = 0; i < LAM_N_LAYER_KINDS; i++)
    {
      self->rows[order[i]] = make_row (order[i]);
      gtk_list_box_append (self->list_box, self->rows[order[i]]);
    }
  gtk_list_box_set_header_func (self->list_box, header_func, NULL, NULL);
  gtk_list_box_set_filter_func (self->list_box, filter_func, self, NULL);
  gtk_list_box_unselect_all (self->list_box);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_search_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self->search_entry), key);
}

GtkWidget *
lam_palette_new (void)
{
  return g_object_new (LAM_TYPE_PALETTE, NULL);
}

void
lam_palette_focus_search (LamPalette *self)
{
  g_return_if_fail (LAM_IS_PALETTE (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

GtkWidget *
lam_palette_get_row (LamPalette *self, LamLayerKind kind)
{
  g_return_val_if_fail (LAM_IS_PALETTE (self), NULL);
  g_return_val_if_fail (kind < LAM_N_LAYER_KINDS, NULL);
  return self->rows[kind];
}
