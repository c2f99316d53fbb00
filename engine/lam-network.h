/* lam-network.h: the network being edited, as a GObject that owns the graph.
 *
 * LamNetwork wraps a LamGraph with the model file's name, description
 * and training settings. Every edit of the graph or of the settings is
 * one undo step in one history: the graph and the settings are copied
 * before the edit (both are small), changed, validated at once, and the
 * differences are announced as signals, so views never touch the graph
 * themselves. Nodes are named by their (unique) names. "modified" comes
 * from the history: undoing back to the saved state clears it.
 *
 * Signals, in this order after an edit, undo or redo:
 *   edge-removed (from, to), node-removed (name), node-renamed (old, new),
 *   node-added (name), edge-added (from, to), config-changed () when the
 *   training settings differ, then changed ().
 * Loading or clearing emits reset () and then changed ().
 *
 * No GTK here: the engine's tests and lamina-train may use it too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "lam-graph.h"
#include "lam-model-file.h"

G_BEGIN_DECLS

/* LamLayerKind as a GType, the value a palette drag carries. */
#define LAM_TYPE_LAYER_KIND (lam_layer_kind_get_type ())
GType lam_layer_kind_get_type (void) G_GNUC_CONST;

#define LAM_TYPE_NETWORK (lam_network_get_type ())
G_DECLARE_FINAL_TYPE (LamNetwork, lam_network, LAM, NETWORK, GObject)

/* The size of a node in the editor, in graph units: positions are a
 * node's top-left corner. Tidy-up and the canvas agree on these. */
#define LAM_NODE_WIDTH  150.0
#define LAM_NODE_HEIGHT 96.0

typedef struct {
  guint   n_layers;
  gint64  params;
  gint64  flops;            /* per sample, forward */
  gint64  activations;      /* floats per sample, all layer outputs */
  gint64  bytes_per_batch;  /* 4 × (batch × activations + params) */
  int     batch;
} LamNetworkTotals;

LamNetwork     *lam_network_new             (void);

/* Replacing the whole network: clears the undo history, not modified. */
void            lam_network_clear           (LamNetwork *self);
void            lam_network_take_model      (LamNetwork *self, LamModelFile *model);
gboolean        lam_network_load_file       (LamNetwork *self, const char *path, GError **error);
gboolean        lam_network_load_preset     (LamNetwork *self, const char *name, GError **error);
gboolean        lam_network_save            (LamNetwork *self, const char *path, GError **error);
LamModelFile   *lam_network_to_model_file   (LamNetwork *self);
char           *lam_network_to_json         (LamNetwork *self);

/* Reading */
const LamGraph *lam_network_get_graph       (LamNetwork *self);
const LamNode  *lam_network_get_node        (LamNetwork *self, const char *name);
const char     *lam_network_get_name        (LamNetwork *self);
void            lam_network_set_name        (LamNetwork *self, const char *name);
const char     *lam_network_get_description (LamNetwork *self);
const LamTrainConfig *lam_network_get_config (LamNetwork *self);
/* Replaces the training settings with a copy of config as one undo step
 * named label ("Change Learning Rate"); changes with the same merge_key
 * in a row (typing a value, holding a spin button) make one step, NULL
 * never merges. FALSE when config equals the current settings (nothing
 * recorded). Emits config-changed, then changed. */
gboolean        lam_network_set_config      (LamNetwork *self, const LamTrainConfig *config,
                                             const char *label, const char *merge_key);
gboolean        lam_network_get_valid       (LamNetwork *self);
const char     *lam_network_get_problem     (LamNetwork *self);  /* why it is invalid, or NULL */
void            lam_network_get_totals      (LamNetwork *self, LamNetworkTotals *out);
gboolean        lam_network_get_modified    (LamNetwork *self);
void            lam_network_set_saved       (LamNetwork *self);  /* the current state is on disk */
char           *lam_network_layer_summary   (const LamNode *node);  /* "6 filters 5×5, pad 2" */

/* Edits: each is one undo step, validated at once. */
const char     *lam_network_add_node        (LamNetwork *self, LamLayerKind kind, double x, double y);
gboolean        lam_network_remove_nodes    (LamNetwork *self, const char *const *names);
gboolean        lam_network_can_connect     (LamNetwork *self, const char *from, const char *to,
                                             GError **error);
gboolean        lam_network_connect         (LamNetwork *self, const char *from, const char *to,
                                             GError **error);
gboolean        lam_network_disconnect      (LamNetwork *self, const char *from, const char *to);
gboolean        lam_network_move_nodes      (LamNetwork *self, const char *const *names,
                                             double dx, double dy);
gboolean        lam_network_set_param       (LamNetwork *self, const char *node, const char *param,
                                             double value);
gboolean        lam_network_rename_node     (LamNetwork *self, const char *old_name,
                                             const char *new_name, GError **error);
char          **lam_network_duplicate_nodes (LamNetwork *self, const char *const *names);
gboolean        lam_network_tidy            (LamNetwork *self, GError **error);

gboolean        lam_network_get_can_undo    (LamNetwork *self);
gboolean        lam_network_get_can_redo    (LamNetwork *self);
const char     *lam_network_get_undo_label  (LamNetwork *self);  /* "Add Conv2D" or NULL */
const char     *lam_network_get_redo_label  (LamNetwork *self);
gboolean        lam_network_undo            (LamNetwork *self);
gboolean        lam_network_redo            (LamNetwork *self);

G_END_DECLS
