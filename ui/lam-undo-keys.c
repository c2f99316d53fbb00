/* lam-undo-keys.c: Ctrl+Z in a field undoes the setting, not the typing.
 *
 * A number field's text would take the key first (GtkText binds it to
 * its own undo, and eats it even with that undo off), and a field that
 * empties itself while the setting stays is worse than useless; so the
 * field hands Ctrl+Z, Ctrl+Shift+Z and Ctrl+Y to the window's undo and
 * redo (graph.undo and graph.redo, which undo graph and settings edits)
 * before its text sees them. While those are disabled (training runs),
 * the key does nothing: the field's own undo is off.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "lam-undo-keys.h"

void
lam_undo_keys_forward (GtkWidget *editable)
{
  static const struct { guint keyval; GdkModifierType mods; const char *action; } keys[] = {
    { GDK_KEY_z, GDK_CONTROL_MASK, "graph.undo" },
    { GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "graph.redo" },
    { GDK_KEY_y, GDK_CONTROL_MASK, "graph.redo" },
  };
  GtkEventController *controller = gtk_shortcut_controller_new ();

  g_return_if_fail (GTK_IS_EDITABLE (editable));
  gtk_editable_set_enable_undo (GTK_EDITABLE (editable), FALSE);
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (keys[i].keyval, keys[i].mods),
                                                            gtk_named_action_new (keys[i].action)));
  gtk_widget_add_controller (editable, controller);
}
