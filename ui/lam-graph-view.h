/* lam-graph-view.h: the canvas that shows and edits a LamNetwork.
 *
 * It draws with cairo and turns gestures into the network's edits:
 * drops from the palette add layers, drags between ports connect them,
 * drags move them, a rubber band selects. It holds only view state
 * (zoom, pan, selection); the network holds the graph.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-network.h"

G_BEGIN_DECLS

#define LAM_TYPE_GRAPH_VIEW (lam_graph_view_get_type ())
G_DECLARE_FINAL_TYPE (LamGraphView, lam_graph_view, LAM, GRAPH_VIEW, GtkWidget)

GtkWidget  *lam_graph_view_new             (void);
void        lam_graph_view_set_network     (LamGraphView *self, LamNetwork *network);
LamNetwork *lam_graph_view_get_network     (LamGraphView *self);
/* FALSE: selection, panning and zoom only; every edit is refused. */
gboolean    lam_graph_view_get_editable    (LamGraphView *self);
void        lam_graph_view_set_editable    (LamGraphView *self, gboolean editable);

/* Selection: names of the selected layers, in the order selected. */
char      **lam_graph_view_get_selection   (LamGraphView *self);
guint       lam_graph_view_get_n_selected  (LamGraphView *self);
const char *lam_graph_view_get_selected    (LamGraphView *self);   /* the one selected layer, or NULL */
void        lam_graph_view_select          (LamGraphView *self, const char *name);  /* NULL: none */
void        lam_graph_view_select_all      (LamGraphView *self);
gboolean    lam_graph_view_has_selected_edge (LamGraphView *self);

/* Edits of the selection, through the network */
gboolean    lam_graph_view_delete_selection    (LamGraphView *self);
gboolean    lam_graph_view_duplicate_selection (LamGraphView *self);
/* Adds a layer centred on (x, y) in widget coordinates and selects it. */
const char *lam_graph_view_add_layer       (LamGraphView *self, LamLayerKind kind, double x, double y);
const char *lam_graph_view_add_layer_at_center (LamGraphView *self, LamLayerKind kind);

/* Zoom and pan */
double      lam_graph_view_get_zoom        (LamGraphView *self);
void        lam_graph_view_zoom_in         (LamGraphView *self);
void        lam_graph_view_zoom_out        (LamGraphView *self);
void        lam_graph_view_zoom_to_fit     (LamGraphView *self);
/* Fits the network, but no smaller than legible: a long one from its start. */
void        lam_graph_view_show_network    (LamGraphView *self);
/* The same once the view has its next size: after a pane moved. */
void        lam_graph_view_queue_show_network (LamGraphView *self);
/* The corner, from the bottom-right, that tools float over: fitting the
 * network keeps it clear where it can stay legible. 0 × 0: none. */
void        lam_graph_view_set_reserved_corner (LamGraphView *self, int width, int height);
void        lam_graph_view_reveal          (LamGraphView *self, const char *name);

/* Where a layer is drawn, in widget coordinates (for tests and popovers). */
gboolean    lam_graph_view_get_node_area   (LamGraphView *self, const char *name, graphene_rect_t *out);

G_END_DECLS
