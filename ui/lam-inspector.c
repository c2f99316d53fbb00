/* lam-inspector.c: the selected layer's controls.
 *
 * The parameter rows come from the engine's LamParamSpec table: a
 * GtkSpinButton bounded by the spec's min and max for numbers, a
 * GtkSwitch for booleans. Each change goes straight to the network,
 * which validates at once; the inspector then refreshes from it, so it
 * shows the engine's verdict (shape, problem) for every keystroke.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-inspector"

#include "config.h"

#include <math.h>

#include <adwaita.h>

#include "lam-undo-keys.h"
#include "lam-inspector.h"
#include "lam-layer-style.h"

struct _LamInspector {
  GtkWidget            parent_instance;

  /* Template widgets */
  GtkStack            *stack;
  GtkLabel            *network_title;
  GtkLabel            *network_description;
  GtkImage            *layer_icon;
  GtkLabel            *layer_type;
  GtkLabel            *layer_blurb;
  GtkWidget           *problem_box;
  GtkLabel            *problem_label;
  AdwEntryRow         *name_row;
  AdwPreferencesGroup *params_group;
  AdwPreferencesGroup *inputs_group;
  AdwPreferencesGroup *outputs_group;
  GtkLabel            *shape_label;
  GtkLabel            *count_label;
  GtkLabel            *flops_label;
  AdwComboRow         *add_input_row;
  AdwComboRow         *add_output_row;
  GtkWidget           *add_input_group;
  GtkWidget           *add_output_group;
  GtkLabel            *several_label;

  /* Owned references */
  LamNetwork          *network;
  char                *node;
  guint                n_selected;
  int                  kind;           /* of the built parameter rows; -1: none */
  GPtrArray           *param_rows;     /* rows in params_group */
  GPtrArray           *param_widgets;  /* their spin buttons and switches */
  GPtrArray           *link_rows;      /* (group, row) pairs of connection rows */
  GtkStringList       *input_choices;
  GtkStringList       *output_choices;
  gboolean             syncing;        /* setting controls from the model */
  gboolean             name_edited;    /* the name row differs from the model on purpose */
};

G_DEFINE_FINAL_TYPE (LamInspector, lam_inspector, GTK_TYPE_WIDGET)

enum {
  SELECT_NODE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void refresh (LamInspector *self);

static const LamNode *
current_node (LamInspector *self)
{
  return self->network != NULL ? lam_network_get_node (self->network, self->node) : NULL;
}

static void
toast (LamInspector *self, const char *message)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (message));
}

/* ------------------------------------------------------------------ */
/* Parameters */

static gboolean
on_spin_output (GtkSpinButton *spin)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%g", gtk_adjustment_get_value (gtk_spin_button_get_adjustment (spin)));
  gtk_editable_set_text (GTK_EDITABLE (spin), buf);
  return TRUE;
}

static int
on_spin_input (GtkSpinButton *spin, double *value)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);

  if (end == text || !isfinite (v))
    return GTK_INPUT_ERROR;
  *value = v;
  return TRUE;
}

static void
on_spin_changed (GtkSpinButton *spin, LamInspector *self)
{
  const LamParamSpec *spec = g_object_get_data (G_OBJECT (spin), "spec");

  if (!self->syncing && self->node != NULL)
    lam_network_set_param (self->network, self->node, spec->name, gtk_spin_button_get_value (spin));
}

static void
on_switch_active (GtkSwitch *sw, GParamSpec *pspec, LamInspector *self)
{
  const LamParamSpec *spec = g_object_get_data (G_OBJECT (sw), "spec");

  if (!self->syncing && self->node != NULL)
    lam_network_set_param (self->network, self->node, spec->name, gtk_switch_get_active (sw) ? 1 : 0);
}

/* A step that suits the range: 1 for counts; for rates, a tenth of the
 * default's order of magnitude. */
static double
float_step (const LamParamSpec *spec)
{
  double step = spec->def > 0 ? pow (10, floor (log10 (spec->def))) : 0.01;
  return MIN (step, (spec->max - spec->min) / 10);
}

static GtkWidget *
make_param_control (LamInspector *self, const LamParamSpec *spec)
{
  GtkWidget *w;

  if (spec->type == LAM_PARAM_BOOL)
    {
      w = gtk_switch_new ();
      g_signal_connect (w, "notify::active", G_CALLBACK (on_switch_active), self);
    }
  else
    {
      gboolean is_int = spec->type == LAM_PARAM_INT;
      double step = is_int ? 1 : float_step (spec);
      GtkAdjustment *adj = gtk_adjustment_new (spec->def, spec->min, spec->max, step, is_int ? 10 : step * 10, 0);

      w = gtk_spin_button_new (adj, 0, is_int ? 0 : 8);
      gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (w), FALSE);
      gtk_editable_set_width_chars (GTK_EDITABLE (w), 7);
      if (!is_int)
        {
          g_signal_connect (w, "output", G_CALLBACK (on_spin_output), NULL);
          g_signal_connect (w, "input", G_CALLBACK (on_spin_input), NULL);
        }
      g_signal_connect (w, "value-changed", G_CALLBACK (on_spin_changed), self);
      lam_undo_keys_forward (w);
    }
  gtk_widget_set_valign (w, GTK_ALIGN_CENTER);
  g_object_set_data (G_OBJECT (w), "spec", (gpointer) spec);
  gtk_accessible_update_property (GTK_ACCESSIBLE (w),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, spec->label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, spec->blurb,
                                  -1);
  return w;
}

static void
build_params (LamInspector *self, LamLayerKind kind)
{
  const LamLayerInfo *info = lam_layer_info (kind);

  for (guint i = 0; i < self->param_rows->len; i++)
    adw_preferences_group_remove (self->params_group, g_ptr_array_index (self->param_rows, i));
  g_ptr_array_set_size (self->param_rows, 0);
  g_ptr_array_set_size (self->param_widgets, 0);

  for (int i = 0; i < info->n_params; i++)
    {
      const LamParamSpec *spec = &info->params[i];
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *control = make_param_control (self, spec);
      g_autofree char *range = spec->type == LAM_PARAM_BOOL ? g_strdup (spec->blurb)
                               : g_strdup_printf ("%s (%g to %g)", spec->blurb, spec->min, spec->max);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), spec->label);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), range);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), control);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), control);
      adw_preferences_group_add (self->params_group, row);
      g_ptr_array_add (self->param_rows, row);
      g_ptr_array_add (self->param_widgets, control);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->params_group), info->n_params > 0);
  self->kind = kind;
}

static void
sync_params (LamInspector *self, const LamNode *n)
{
  for (guint i = 0; i < self->param_widgets->len; i++)
    {
      GtkWidget *w = g_ptr_array_index (self->param_widgets, i);
      const LamParamSpec *spec = g_object_get_data (G_OBJECT (w), "spec");
      double v = lam_layer_param_get (&n->p, spec);

      if (GTK_IS_SWITCH (w))
        gtk_switch_set_active (GTK_SWITCH (w), v != 0);
      else if (gtk_spin_button_get_value (GTK_SPIN_BUTTON (w)) != v)
        gtk_spin_button_set_value (GTK_SPIN_BUTTON (w), v);
    }
}

/* ------------------------------------------------------------------ */
/* Connections */

static void
on_link_remove (GtkButton *button, LamInspector *self)
{
  const char *from = g_object_get_data (G_OBJECT (button), "from");
  const char *to = g_object_get_data (G_OBJECT (button), "to");
  g_autofree char *f = g_strdup (from), *t = g_strdup (to);

  lam_network_disconnect (self->network, f, t);
}

static void
on_link_activated (AdwActionRow *row, LamInspector *self)
{
  g_autofree char *name = g_strdup (g_object_get_data (G_OBJECT (row), "node"));

  g_signal_emit (self, signals[SELECT_NODE], 0, name);
}

static void
add_link_row (LamInspector *self, AdwPreferencesGroup *group, const char *other, const char *from,
              const char *to)
{
  const LamNode *n = lam_network_get_node (self->network, other);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *remove = gtk_button_new_from_icon_name ("edit-delete-symbolic");
  g_autofree char *label = g_strdup_printf ("Disconnect %s", other);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), other);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (n != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), lam_layer_info (n->kind)->type_name);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "node", g_strdup (other), g_free);
  g_signal_connect (row, "activated", G_CALLBACK (on_link_activated), self);

  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (remove, "flat");
  gtk_widget_set_tooltip_text (remove, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  g_object_set_data_full (G_OBJECT (remove), "from", g_strdup (from), g_free);
  g_object_set_data_full (G_OBJECT (remove), "to", g_strdup (to), g_free);
  g_signal_connect (remove, "clicked", G_CALLBACK (on_link_remove), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);

  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->link_rows, group);
  g_ptr_array_add (self->link_rows, row);
}

static void
set_choices (GtkStringList *list, GPtrArray *names)
{
  guint old = g_list_model_get_n_items (G_LIST_MODEL (list));

  g_ptr_array_add (names, NULL);
  gtk_string_list_splice (list, 0, old, (const char *const *) names->pdata);
}

static void
sync_links (LamInspector *self, const LamNode *n)
{
  const LamGraph *g = lam_network_get_graph (self->network);
  g_autoptr(GPtrArray) ins = g_ptr_array_new ();
  g_autoptr(GPtrArray) outs = g_ptr_array_new ();

  for (guint i = 0; i + 1 < self->link_rows->len; i += 2)
    adw_preferences_group_remove (g_ptr_array_index (self->link_rows, i), g_ptr_array_index (self->link_rows, i + 1));
  g_ptr_array_set_size (self->link_rows, 0);

  for (guint j = 0; j < n->inputs->len; j++)
    add_link_row (self, self->inputs_group, g_ptr_array_index (n->inputs, j), g_ptr_array_index (n->inputs, j),
                  n->name);
  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *m = g_ptr_array_index (g->nodes, i);
      if (g_ptr_array_find_with_equal_func (m->inputs, n->name, g_str_equal, NULL))
        add_link_row (self, self->outputs_group, m->name, n->name, m->name);
      if (m == n)
        continue;
      if (lam_network_can_connect (self->network, m->name, n->name, NULL))
        g_ptr_array_add (ins, m->name);
      if (lam_network_can_connect (self->network, n->name, m->name, NULL))
        g_ptr_array_add (outs, m->name);
    }
  adw_preferences_group_set_description (self->inputs_group, n->inputs->len == 0 ? "Nothing connected yet" : NULL);
  adw_preferences_group_set_description (self->outputs_group,
                                         self->link_rows->len / 2 == n->inputs->len ? "Nothing connected yet" : NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->add_input_row), ins->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->add_output_row), outs->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->inputs_group), lam_layer_info (n->kind)->max_inputs != 0);
  gtk_widget_set_visible (GTK_WIDGET (self->outputs_group), !lam_layer_info (n->kind)->is_loss);
  gtk_widget_set_visible (self->add_input_group, lam_layer_info (n->kind)->max_inputs != 0 && ins->len > 0);
  gtk_widget_set_visible (self->add_output_group, !lam_layer_info (n->kind)->is_loss && outs->len > 0);
  set_choices (self->input_choices, ins);
  set_choices (self->output_choices, outs);
}

static const char *
chosen (AdwComboRow *row)
{
  GtkStringObject *item = adw_combo_row_get_selected_item (row);
  return item != NULL ? gtk_string_object_get_string (item) : NULL;
}

static void
connect_chosen (LamInspector *self, const char *from, const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *f = g_strdup (from), *t = g_strdup (to);

  if (f != NULL && t != NULL && !lam_network_connect (self->network, f, t, &error))
    toast (self, error->message);
}

static void
on_add_input (LamInspector *self)
{
  connect_chosen (self, chosen (self->add_input_row), self->node);
}

static void
on_add_output (LamInspector *self)
{
  connect_chosen (self, self->node, chosen (self->add_output_row));
}

/* ------------------------------------------------------------------ */
/* Name */

static void
on_name_changed (LamInspector *self)
{
  if (!self->syncing)
    {
      self->name_edited = TRUE;
      gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
    }
}

static void
on_name_apply (LamInspector *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row)));
  g_autofree char *old = g_strdup (self->node);

  if (old == NULL)
    return;
  self->name_edited = FALSE;
  if (!lam_network_rename_node (self->network, old, g_strstrip (text), &error))
    {
      self->name_edited = TRUE;
      gtk_widget_add_css_class (GTK_WIDGET (self->name_row), "error");
      toast (self, error->message);
    }
}

/* ------------------------------------------------------------------ */
/* Refreshing */

static void
show_network (LamInspector *self)
{
  const char *description = self->network != NULL ? lam_network_get_description (self->network) : "";

  gtk_label_set_text (self->network_title, self->network != NULL ? lam_network_get_name (self->network) : "");
  gtk_label_set_text (self->network_description, description);
  gtk_widget_set_visible (GTK_WIDGET (self->network_description), description[0] != '\0');
  gtk_stack_set_visible_child_name (self->stack, "network");
}

static void
show_layer (LamInspector *self, const LamNode *n)
{
  const LamLayerInfo *info = lam_layer_info (n->kind);
  char shape[64];
  g_autofree char *count = lam_format_count (n->n_params);
  g_autofree char *flops = lam_format_flops (n->flops);

  if (self->kind != (int) n->kind)
    {
      g_autoptr(GdkPaintable) icon = lam_layer_icon_new (n->kind);
      for (guint gi = 0; gi < lam_layer_n_groups (); gi++)
        gtk_widget_remove_css_class (GTK_WIDGET (self->layer_icon), lam_layer_group_css_class (gi));
      gtk_widget_add_css_class (GTK_WIDGET (self->layer_icon), lam_layer_group_css_class (lam_layer_group_of (n->kind)));
      gtk_image_set_from_paintable (self->layer_icon, icon);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->layer_icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      info->type_name, -1);
      gtk_label_set_text (self->layer_type, info->type_name);
      gtk_label_set_text (self->layer_blurb, info->blurb);
      build_params (self, n->kind);
    }
  sync_params (self, n);

  if (!self->name_edited && g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->name_row)), n->name) != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->name_row), n->name);

  gtk_widget_set_visible (self->problem_box, n->error != NULL);
  gtk_label_set_text (self->problem_label, n->error != NULL ? n->error : "");

  /* past a problem the engine knows no shape, so no counts either */
  gtk_label_set_text (self->shape_label, lam_shape_to_string (&n->out_shape, shape, sizeof shape));
  gtk_label_set_text (self->count_label, n->out_shape.rank > 0 ? count : "?");
  gtk_label_set_text (self->flops_label, n->out_shape.rank > 0 ? flops : "?");
  sync_links (self, n);
  gtk_stack_set_visible_child_name (self->stack, "layer");
}

static void
refresh (LamInspector *self)
{
  const LamNode *n = current_node (self);

  self->syncing = TRUE;
  if (self->n_selected > 1)
    {
      g_autofree char *text = g_strdup_printf ("%u layers selected", self->n_selected);
      gtk_label_set_text (self->several_label, text);
      gtk_stack_set_visible_child_name (self->stack, "several");
    }
  else if (n == NULL)
    show_network (self);
  else
    show_layer (self, n);
  self->syncing = FALSE;
}

static void
on_network_changed (LamInspector *self)
{
  refresh (self);
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
lam_inspector_dispose (GObject *object)
{
  LamInspector *self = LAM_INSPECTOR (object);

  lam_inspector_set_network (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (object), LAM_TYPE_INSPECTOR);
  /* the template's top widget has no id, so dispose_template leaves it */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL;)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (lam_inspector_parent_class)->dispose (object);
}

static void
lam_inspector_finalize (GObject *object)
{
  LamInspector *self = LAM_INSPECTOR (object);

  g_free (self->node);
  g_ptr_array_unref (self->param_rows);
  g_ptr_array_unref (self->param_widgets);
  g_ptr_array_unref (self->link_rows);
  g_clear_object (&self->input_choices);
  g_clear_object (&self->output_choices);
  G_OBJECT_CLASS (lam_inspector_parent_class)->finalize (object);
}

static void
lam_inspector_class_init (LamInspectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lam_inspector_dispose;
  object_class->finalize = lam_inspector_finalize;

  /* select-node (name): the user picked a connected layer */
  signals[SELECT_NODE] = g_signal_new ("select-node", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/lamina/Lamina/ui/lam-inspector.ui");
  gtk_widget_class_bind_template_child (widget_class, LamInspector, stack);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, network_title);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, network_description);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, layer_icon);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, layer_type);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, layer_blurb);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, problem_box);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, problem_label);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, name_row);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, params_group);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, inputs_group);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, outputs_group);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, shape_label);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, count_label);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, flops_label);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, add_input_row);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, add_output_row);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, add_input_group);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, add_output_group);
  gtk_widget_class_bind_template_child (widget_class, LamInspector, several_label);
  gtk_widget_class_bind_template_callback (widget_class, on_name_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_name_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_add_input);
  gtk_widget_class_bind_template_callback (widget_class, on_add_output);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "inspector");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
lam_inspector_init (LamInspector *self)
{
  g_autoptr(GtkExpression) expr = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, "Inspector", -1);

  self->kind = -1;
  self->param_rows = g_ptr_array_new ();
  self->param_widgets = g_ptr_array_new ();
  self->link_rows = g_ptr_array_new ();
  self->input_choices = gtk_string_list_new (NULL);
  self->output_choices = gtk_string_list_new (NULL);

  expr = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");
  adw_combo_row_set_expression (self->add_input_row, expr);
  adw_combo_row_set_expression (self->add_output_row, expr);
  adw_combo_row_set_model (self->add_input_row, G_LIST_MODEL (self->input_choices));
  adw_combo_row_set_model (self->add_output_row, G_LIST_MODEL (self->output_choices));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->add_input_row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Connect input from", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->add_output_row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Connect output to", -1);
  refresh (self);
}

GtkWidget *
lam_inspector_new (void)
{
  return g_object_new (LAM_TYPE_INSPECTOR, NULL);
}

void
lam_inspector_set_network (LamInspector *self, LamNetwork *network)
{
  g_return_if_fail (LAM_IS_INSPECTOR (self));

  if (self->network == network)
    return;
  if (self->network != NULL)
    g_signal_handlers_disconnect_by_data (self->network, self);
  g_set_object (&self->network, network);
  if (network != NULL)
    {
      g_signal_connect_swapped (network, "changed", G_CALLBACK (on_network_changed), self);
      g_signal_connect_swapped (network, "notify::name", G_CALLBACK (on_network_changed), self);
      g_signal_connect_swapped (network, "notify::description", G_CALLBACK (on_network_changed), self);
    }
  g_clear_pointer (&self->node, g_free);
  self->n_selected = 0;
  if (gtk_widget_get_first_child (GTK_WIDGET (self)) != NULL)
    refresh (self);
}

void
lam_inspector_set_selection (LamInspector *self, const char *node, guint n_selected)
{
  g_return_if_fail (LAM_IS_INSPECTOR (self));

  if (g_strcmp0 (self->node, node) != 0)
    {
      g_free (self->node);
      self->node = g_strdup (node);
      self->name_edited = FALSE;
      gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
    }
  self->n_selected = n_selected;
  refresh (self);
}

const char *
lam_inspector_get_node (LamInspector *self)
{
  g_return_val_if_fail (LAM_IS_INSPECTOR (self), NULL);
  return self->node;
}

void
lam_inspector_focus_layer (LamInspector *self)
{
  g_return_if_fail (LAM_IS_INSPECTOR (self));

  if (self->param_widgets->len > 0 && current_node (self) != NULL)
    gtk_widget_grab_focus (g_ptr_array_index (self->param_widgets, 0));
  else if (current_node (self) != NULL)
    gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
}

void
lam_inspector_set_editable (LamInspector *self, gboolean editable)
{
  GtkWidget *controls[] = {
    GTK_WIDGET (self->name_row), GTK_WIDGET (self->params_group), GTK_WIDGET (self->inputs_group),
    GTK_WIDGET (self->outputs_group), self->add_input_group, self->add_output_group,
  };

  g_return_if_fail (LAM_IS_INSPECTOR (self));

  for (guint i = 0; i < G_N_ELEMENTS (controls); i++)
    gtk_widget_set_sensitive (controls[i], editable);
}

GtkWidget *
lam_inspector_get_param_widget (LamInspector *self, const char *param)
{
  g_return_val_if_fail (LAM_IS_INSPECTOR (self), NULL);

  for (guint i = 0; i < self->param_widgets->len; i++)
    {
      GtkWidget *w = g_ptr_array_index (self->param_widgets, i);
      const LamParamSpec *spec = g_object_get_data (G_OBJECT (w), "spec");
      if (g_strcmp0 (spec->name, param) == 0)
        return w;
    }
  return NULL;
}
