/* lam-start-view.c: preset cards and recent files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-start-view"

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "lam-layer-style.h"
#include "lam-model-file.h"
#include "lam-start-view.h"

struct _LamStartView {
  GtkWidget   parent_instance;

  /* Template widgets */
  GtkFlowBox *cards;
  GtkWidget  *recent_title;
  GtkListBox *recent_list;
};

G_DEFINE_FINAL_TYPE (LamStartView, lam_start_view, GTK_TYPE_WIDGET)

/* A strip of the network's layers, coloured by group: its shape at a glance. */
static void
draw_strip (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  GArray *groups = data;
  double cell = (double) width / MAX (groups->len, 1);

  for (guint i = 0; i < groups->len; i++)
    {
      GdkRGBA color;
      lam_layer_group_color (g_array_index (groups, guint, i), &color);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_rectangle (cr, i * cell + 1, 0, MAX (cell - 2, 1), height);
      cairo_fill (cr);
    }
}

/* A card: a title, a strip of layer colours (none for the empty
 * network), a sentence and a footer; clicking runs action(target). */
static GtkWidget *
make_card (const char *title, GArray *groups, const char *description, const char *footer,
           const char *action, const char *target)
{
  GtkWidget *button, *box, *label, *strip;

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  label = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "title-3");
  gtk_box_append (GTK_BOX (box), label);

  strip = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (strip), 10);
  if (groups != NULL)
    gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (strip), draw_strip, groups, (GDestroyNotify) g_array_unref);
  else
    gtk_widget_add_css_class (strip, "empty-strip");
  gtk_accessible_update_property (GTK_ACCESSIBLE (strip), GTK_ACCESSIBLE_PROPERTY_LABEL, "Layers by group", -1);
  gtk_box_append (GTK_BOX (box), strip);

  label = gtk_label_new (description);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_yalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_lines (GTK_LABEL (label), 4);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_width_chars (GTK_LABEL (label), 34);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  gtk_widget_set_vexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), label);

  label = gtk_label_new (footer);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), label);

  button = gtk_button_new ();
  gtk_button_set_child (GTK_BUTTON (button), box);
  gtk_widget_add_css_class (button, "card");
  gtk_widget_add_css_class (button, "preset-card");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  if (target != NULL)
    gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", target);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
  return button;
}

static GtkWidget *
make_preset_card (const char *preset, LamModelFile *m)
{
  g_autoptr(GArray) order = lam_graph_topo_order (m->graph, NULL);
  GArray *groups = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree char *count = NULL, *stats = NULL;

  lam_graph_validate (m->graph, NULL);
  count = lam_format_count (m->graph->total_params);
  stats = g_strdup_printf ("%u layers · %s parameters", m->graph->nodes->len, count);
  for (guint i = 0; i < m->graph->nodes->len; i++)
    {
      guint index = order != NULL ? (guint) g_array_index (order, int, i) : i;
      guint group = lam_layer_group_of (((LamNode *) g_ptr_array_index (m->graph->nodes, index))->kind);
      g_array_append_val (groups, group);
    }
  return make_card (m->name, groups, m->description, stats, "document.open-preset", preset);
}

static void
lam_start_view_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), LAM_TYPE_START_VIEW);
  /* the template's top widget has no id, so dispose_template leaves it */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL;)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (lam_start_view_parent_class)->dispose (object);
}

static void
lam_start_view_class_init (LamStartViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lam_start_view_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/lamina/Lamina/ui/lam-start-view.ui");
  gtk_widget_class_bind_template_child (widget_class, LamStartView, cards);
  gtk_widget_class_bind_template_child (widget_class, LamStartView, recent_title);
  gtk_widget_class_bind_template_child (widget_class, LamStartView, recent_list);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "startview");
}

static void
lam_start_view_init (LamStartView *self)
{
  const char *const *presets = lam_preset_names ();

  gtk_widget_init_template (GTK_WIDGET (self));

  /* first, so that it is in view however many presets follow */
  gtk_flow_box_append (self->cards,
                       make_card ("Empty Network", NULL,
                                  "A blank canvas: drag in an Input, the layers you want and a loss, "
                                  "then connect them from left to right.",
                                  "Start from scratch", "document.new-empty", NULL));
  for (guint i = 0; presets[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LamModelFile) m = lam_model_file_load_preset (presets[i], &error);

      if (m == NULL)
        {
          g_warning ("%s", error->message);
          continue;
        }
      gtk_flow_box_append (self->cards, make_preset_card (presets[i], m));
    }
  lam_start_view_set_recent (self, NULL);
}

GtkWidget *
lam_start_view_new (void)
{
  return g_object_new (LAM_TYPE_START_VIEW, NULL);
}

void
lam_start_view_set_recent (LamStartView *self, const char *const *paths)
{
  GtkWidget *child;
  guint n = paths != NULL ? g_strv_length ((char **) paths) : 0;

  g_return_if_fail (LAM_IS_START_VIEW (self));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))) != NULL)
    gtk_list_box_remove (self->recent_list, child);

  for (guint i = 0; i < n; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *base = g_filename_display_basename (paths[i]);
      g_autofree char *dir = g_path_get_dirname (paths[i]);
      g_autofree char *dir_display = g_filename_display_name (dir);
      const char *home = g_get_home_dir ();
      g_autofree char *short_dir = g_str_has_prefix (dir_display, home)
                                   ? g_strconcat ("~", dir_display + strlen (home), NULL)
                                   : g_strdup (dir_display);

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), base);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), short_dir);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "document.open-recent");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "s", paths[i]);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, base,
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, short_dir,
                                      -1);
      gtk_list_box_append (self->recent_list, row);
    }
  gtk_widget_set_visible (self->recent_title, n > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->recent_list), n > 0);
}
