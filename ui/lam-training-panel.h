/* lam-training-panel.h: the training controls: run buttons, status and
 * progress, and the network's training settings (dataset, optimizer,
 * learning rate, batch, epochs, weight decay, seed, backend).
 *
 * The settings live in the network's LamTrainConfig, so they are saved
 * with the model; the panel changes them with lam_network_set_config,
 * one undo step per change ("Change Learning Rate"), and shows them again
 * on the network's "config-changed" (undo, redo) and "reset". Whoever
 * follows the settings (the window, and through it the training session)
 * listens to the network, not to the panel. The run buttons are bound to the train.*
 * and weights.* actions of the window around it, and Ctrl+Z, Ctrl+Shift+Z
 * and Ctrl+Y in its fields to graph.undo and graph.redo;
 * the status comes from whoever runs the training (set_status). No
 * trainer here: the panel only knows the network.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-network.h"

G_BEGIN_DECLS

#define LAM_TYPE_TRAINING_PANEL (lam_training_panel_get_type ())
G_DECLARE_FINAL_TYPE (LamTrainingPanel, lam_training_panel, LAM, TRAINING_PANEL, GtkWidget)

GtkWidget  *lam_training_panel_new             (void);
/* A dataset's name for people, as the Dataset row shows it
 * ("Fashion-MNIST", "Spiral (2-D)"); NULL for a name it does not offer. */
const char *lam_training_panel_dataset_label   (const char *name);
void        lam_training_panel_set_network     (LamTrainingPanel *self, LamNetwork *network);

/* title: "Training: epoch 2 of 3"; detail: "step 340 of 859 · …";
 * values: "loss 0.41 · accuracy 85.2%"; fraction 0..1, < 0 hides the bar. */
void        lam_training_panel_set_status      (LamTrainingPanel *self, const char *title,
                                                const char *detail, const char *values,
                                                double fraction);
/* Why training cannot start, or why it failed; NULL hides it. */
void        lam_training_panel_set_problem     (LamTrainingPanel *self, const char *problem);
/* Under the backend: where it trains, and why CUDA is not used. */
void        lam_training_panel_set_backend_text (LamTrainingPanel *self, const char *text);
/* While training runs, only the learning rate stays editable; its
 * changes during one stretch of running make one undo step. */
void        lam_training_panel_set_locked      (LamTrainingPanel *self, gboolean locked);
/* A paused run: the first button resumes it instead of starting anew. */
void        lam_training_panel_set_paused      (LamTrainingPanel *self, gboolean paused);

/* A control by setting name ("dataset", "optimizer", "backend", "lr",
 * "batch", "epochs", "seed", "weight-decay", "momentum", "samples",
 * "noise", "classes", "limit", "val-fraction"), for tests. */
GtkWidget  *lam_training_panel_get_control     (LamTrainingPanel *self, const char *name);
const char *lam_training_panel_get_status_title (LamTrainingPanel *self);
const char *lam_training_panel_get_problem     (LamTrainingPanel *self);

G_END_DECLS
