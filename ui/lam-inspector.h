/* lam-inspector.h: edits the selected layer: its name, its parameters
 * (controls built from the engine's parameter table) and its
 * connections; with nothing selected, describes the network.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-network.h"

G_BEGIN_DECLS

#define LAM_TYPE_INSPECTOR (lam_inspector_get_type ())
G_DECLARE_FINAL_TYPE (LamInspector, lam_inspector, LAM, INSPECTOR, GtkWidget)

GtkWidget  *lam_inspector_new           (void);
void        lam_inspector_set_network   (LamInspector *self, LamNetwork *network);
/* node: the one selected layer, or NULL; n_selected: how many are. */
void        lam_inspector_set_selection (LamInspector *self, const char *node, guint n_selected);
const char *lam_inspector_get_node      (LamInspector *self);
/* FALSE: shows the layer but its controls do not edit (training runs). */
void        lam_inspector_set_editable  (LamInspector *self, gboolean editable);
/* Moves the keyboard focus to the first control of the layer. */
void        lam_inspector_focus_layer   (LamInspector *self);
/* The control of a parameter, e.g. "filters" (for tests). */
GtkWidget  *lam_inspector_get_param_widget (LamInspector *self, const char *param);

G_END_DECLS
