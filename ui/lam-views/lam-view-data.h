/* lam-view-data.h: what the views need, computed from a trainer.
 *
 * No GTK: these run on any thread (the demo runs them on a worker so
 * the main loop never waits for the trainer's lock) and return plain
 * host arrays for the views' setters.
 *
 * Cost, measured on the 2-core Zen 4 build machine, CPU backend: the
 * trainer's per-sample lam_trainer_activations() costs about 0.6 µs for
 * a 2→16→16→2 MLP; lam_view_grid_evaluate() runs a 100×100 grid a
 * batch at a time instead (lam_trainer_node_outputs), which on a GPU is
 * one pass per batch rather than 10 000 passes that each wait for the
 * device; lam_trainer_predict() on the same grid (classes only) takes
 * 2.7 ms. For LeNet-5, activations for one sample take 0.13 ms
 * and predictions for 1000 validation images about 21 ms.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-trainer.h"

G_BEGIN_DECLS

/* ── 2-D sets: a grid of points over the plane ───────────────────────── */

typedef struct _LamViewGrid LamViewGrid;

/* grid × grid points over a square covering like's points plus margin
 * (a fraction of the larger span) on each side, so the plane keeps its
 * shape on screen; like must be a 2-D float dataset. Keep the
 * grid for as long as the trainer: the trainer uploads each dataset it
 * sees once and keeps it, so a fresh grid per frame would pile up. */
LamViewGrid *lam_view_grid_new           (const LamDataset *like, int grid, float margin);
void         lam_view_grid_free          (LamViewGrid *g);
int          lam_view_grid_get_size      (LamViewGrid *g);
LamDataset  *lam_view_grid_get_dataset   (LamViewGrid *g);
void         lam_view_grid_get_bounds    (LamViewGrid *g, float *xmin, float *xmax, float *ymin,
                                          float *ymax);

/* Runs every grid point through the network (evaluation mode). probs:
 * grid² × n_classes softmax probabilities (the loss's logits), or NULL.
 * units_node: a node whose output to keep (e.g. the first hidden
 * activation), or NULL; units then receives n_units × grid² values
 * (unit-major, as lam_boundary_view_set_units() wants) and n_units its
 * width. Either output may be skipped. */
gboolean     lam_view_grid_evaluate      (LamTrainer *t, LamViewGrid *g, float *probs,
                                          int n_classes, const char *units_node, float **units,
                                          int *n_units, GError **error);

/* ── Choosing nodes ──────────────────────────────────────────────────── */

/* The node feeding the loss (the logits), or NULL. */
const LamNode *lam_view_logits_node      (const LamGraph *g);
/* The first node of a kind, in topological order, or NULL. */
const LamNode *lam_view_first_node       (const LamGraph *g, LamLayerKind kind);
/* The first hidden layer's activation (the node after the first Dense
 * when it is an activation function, else that Dense), or NULL. */
const LamNode *lam_view_hidden_node      (const LamGraph *g);

/* The weight tensor of a Conv2D or Dense node ("conv1.weight") and, for
 * a Dense layer, the image its input flattens (through Flatten, Dropout
 * and activation nodes), or 0s. FALSE for other kinds. */
gboolean     lam_view_weight_tensor      (const LamGraph *g, const char *node, char **tensor,
                                          int *in_c, int *in_h, int *in_w);
/* A consistent copy of a node's weights plus the above; g_free it. */
float       *lam_view_copy_weights       (LamTrainer *t, const char *node, int *ndim,
                                          int shape[4], int *in_c, int *in_h, int *in_w);

/* ── Predictions ─────────────────────────────────────────────────────── */

/* Class predictions for a whole dataset; g_free them. */
int         *lam_view_predict            (LamTrainer *t, LamDataset *ds, GError **error);
/* Softmax of the logits in acts (from lam_trainer_activations) for
 * graph g; n_classes floats, g_free them. NULL when there are no logits. */
float       *lam_view_probabilities      (const LamGraph *g, float **acts, int *n_classes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamViewGrid, lam_view_grid_free)

G_END_DECLS
