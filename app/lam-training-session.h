/* lam-training-session.h: training a window's network, off the main thread.
 *
 * A LamTrainingSession owns the LamTrainer and the data for one
 * LamNetwork. Everything slow (loading a dataset, compiling the net,
 * stopping a worker, a single step, saving and loading checkpoints,
 * copies for the views) runs on a GTask thread or on the trainer's own
 * worker; the main thread only starts them and applies their results.
 *
 * The trainer's callbacks (on its worker thread) append metrics and
 * state changes under a mutex; a 100 ms timeout on the main thread
 * drains them while training runs, and one idle does so at once on a
 * state change, as sysprof-document-task coalesces its notifications.
 * The session then emits, on the main thread:
 *
 *   metrics-changed (metrics, n)  new LamMetrics, oldest first
 *   state-changed ()              get_state() and the status changed
 *   refresh ()                    the trainer has new weights: views
 *                                 may take copies (≥ 5 Hz while training)
 *   run-releasing ()              the current trainer is about to go: drop
 *                                 what holds it (emitted before run-changed)
 *   run-changed ()                a new trainer (graph, data) is in place
 *   cleared ()                    a new run begins: curves start over
 *   failed (message)              the engine's message ("training
 *                                 diverged ... lower the learning rate")
 *   message (text)                something worth a toast
 *
 * Runs and states: Start begins a run from fresh weights (the seed's);
 * Pause/Resume and Step keep it; Stop ends it (the weights stay, for
 * the views and for Save); Start after Stop or at the end begins a new
 * one. Loading a checkpoint makes a paused run at the checkpoint's
 * position, which Resume continues exactly. Editing the network or the
 * settings while paused is allowed: Resume or Step then rebuild the
 * trainer and keep the weights (and the position, when the parameters
 * still fit); while running, the window refuses edits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "lam-network.h"
#include "lam-trainer.h"
#include "lam-seq-data.h"

G_BEGIN_DECLS

typedef enum {
  LAM_SESSION_IDLE,        /* no run in progress (maybe weights from an earlier one) */
  LAM_SESSION_PREPARING,   /* loading data or building the trainer */
  LAM_SESSION_RUNNING,
  LAM_SESSION_PAUSED,      /* a run in progress that does not advance */
  LAM_SESSION_FINISHED,
  LAM_SESSION_FAILED,
} LamSessionState;

#define LAM_TYPE_SESSION_STATE (lam_session_state_get_type ())
GType lam_session_state_get_type (void) G_GNUC_CONST;

#define LAM_TYPE_TRAINING_SESSION (lam_training_session_get_type ())
G_DECLARE_FINAL_TYPE (LamTrainingSession, lam_training_session, LAM, TRAINING_SESSION, GObject)

LamTrainingSession *lam_training_session_new          (LamNetwork *network);
LamNetwork         *lam_training_session_get_network  (LamTrainingSession *self);
/* Stops training and drops the trainer; the window calls it when it closes. */
void                lam_training_session_shutdown     (LamTrainingSession *self);
/* An active session loads the dataset as soon as the settings name one,
 * so that a mismatch with the network's input shows before Start. */
void                lam_training_session_set_active   (LamTrainingSession *self, gboolean active);
/* The network's training settings changed (the panel edited them, or
 * undo or redo brought others back): a new learning rate applies at
 * once, anything else at the next run or rebuild. */
void                lam_training_session_config_changed (LamTrainingSession *self);

/* State */
LamSessionState     lam_training_session_get_state    (LamTrainingSession *self);
/* A task owns the trainer (stopping, stepping, loading): wait. */
gboolean            lam_training_session_get_busy     (LamTrainingSession *self);
/* The dataset the settings name is being loaded (on a thread). */
gboolean            lam_training_session_get_data_loading (LamTrainingSession *self);
/* A trainer with weights exists (Save, Reset and the views need one). */
gboolean            lam_training_session_has_run      (LamTrainingSession *self);
/* Why Start (or Resume) cannot run: the graph's problem, a dataset that
 * cannot be loaded or does not fit the input (the engine's words), or
 * CUDA asked for and unusable. NULL when nothing is known to be wrong. */
const char         *lam_training_session_get_start_problem (LamTrainingSession *self);
const char         *lam_training_session_get_error    (LamTrainingSession *self);
/* The last metrics, with the run's step count; NULL before the first step. */
const LamMetrics   *lam_training_session_get_metrics  (LamTrainingSession *self);
int                 lam_training_session_get_step     (LamTrainingSession *self);
int                 lam_training_session_get_epochs   (LamTrainingSession *self);
/* Seconds the trainer's worker waited between steps while the views
 * took copies, over the current trainer's life (the views' share of
 * the training time that the engine's images/s does not count). */
double              lam_training_session_get_copy_wait (LamTrainingSession *self);

/* What the status line shows: a title ("Training: epoch 2 of 3"), a
 * detail ("step 340 of 859 · 2,310 images/s · 42 s left"), the latest
 * values ("loss 0.41 · accuracy 85.2% · validation 84.1%"), and the
 * fraction done (0..1; < 0 when there is nothing to show). */
char               *lam_training_session_dup_status_title  (LamTrainingSession *self);
char               *lam_training_session_dup_status_detail (LamTrainingSession *self);
char               *lam_training_session_dup_status_values (LamTrainingSession *self);
double              lam_training_session_get_progress (LamTrainingSession *self);
/* "CPU, 2 threads, OpenBLAS" and why CUDA is not used, or what it is. */
char               *lam_training_session_dup_backend_text (LamTrainingSession *self);
/* Why CUDA cannot be used on this machine (probed once per process on
 * a thread; NULL while unknown or when it can). */
const char         *lam_training_session_get_cuda_problem (void);

/* Control: each enabled by the matching can_*() (the window's actions). */
gboolean            lam_training_session_can_start    (LamTrainingSession *self);
gboolean            lam_training_session_can_pause    (LamTrainingSession *self);
gboolean            lam_training_session_can_resume   (LamTrainingSession *self);
gboolean            lam_training_session_can_step     (LamTrainingSession *self);
gboolean            lam_training_session_can_stop     (LamTrainingSession *self);
gboolean            lam_training_session_can_reset    (LamTrainingSession *self);
gboolean            lam_training_session_can_save     (LamTrainingSession *self);
gboolean            lam_training_session_can_load     (LamTrainingSession *self);
void                lam_training_session_start        (LamTrainingSession *self);
void                lam_training_session_pause        (LamTrainingSession *self);
void                lam_training_session_resume       (LamTrainingSession *self);
void                lam_training_session_step         (LamTrainingSession *self);
void                lam_training_session_stop         (LamTrainingSession *self);
void                lam_training_session_reset_weights (LamTrainingSession *self);

/* Checkpoints (safetensors, lam_trainer_save/load), on a thread. */
void                lam_training_session_save_weights (LamTrainingSession *self, GFile *file,
                                                       GCancellable *cancellable,
                                                       GAsyncReadyCallback callback, gpointer data);
gboolean            lam_training_session_save_weights_finish (LamTrainingSession *self,
                                                              GAsyncResult *result, GError **error);
void                lam_training_session_load_weights (LamTrainingSession *self, GFile *file,
                                                       GCancellable *cancellable,
                                                       GAsyncReadyCallback callback, gpointer data);
gboolean            lam_training_session_load_weights_finish (LamTrainingSession *self,
                                                              GAsyncResult *result, GError **error);

/* What the views draw, for the current trainer (NULL without one). */
const LamGraph     *lam_training_session_get_graph    (LamTrainingSession *self);  /* the trainer's copy */
LamDataset         *lam_training_session_get_train_set (LamTrainingSession *self);
/* The current run's trainer, or NULL; valid until "run-releasing". */
LamTrainer         *lam_training_session_get_trainer  (LamTrainingSession *self);
/* Up to 1000 validation samples (the test set when there is no
 * validation set): the views' samples, kept as long as the trainer. */
LamDataset         *lam_training_session_get_view_set (LamTrainingSession *self);
/* For 2-D sets: the grid size of the decision field (0 otherwise). */
int                 lam_training_session_get_grid_size (LamTrainingSession *self);

/* Copies for the views, taken on a thread between two training steps
 * (the worker waits while they are taken, so they all come from one
 * step). Ask only for what the visible view needs. */
typedef enum {
  LAM_SNAPSHOT_WEIGHTS     = 1 << 0,   /* weights of weights_node */
  LAM_SNAPSHOT_ACTIVATIONS = 1 << 1,   /* every node's output for one sample, and its class probabilities */
  LAM_SNAPSHOT_PREDICTIONS = 1 << 2,   /* class predictions for the whole view set */
  LAM_SNAPSHOT_FIELD       = 1 << 3,   /* 2-D sets: probabilities over the plane, and units_node's outputs */
  LAM_SNAPSHOT_SEQUENCE    = 1 << 4,   /* the first recurrent layer's trace for one sample */
  LAM_SNAPSHOT_ATTENTION   = 1 << 5,   /* the first MultiHeadAttention's weights for one sample */
} LamSnapshotFlags;

typedef struct {
  LamSnapshotFlags what;
  char            *weights_node;
  int              sample;        /* in the view set */
  char            *units_node;    /* NULL: the first hidden layer */
} LamSnapshotRequest;

typedef struct {
  LamSnapshotFlags what;          /* what was copied */
  const LamGraph  *graph;         /* the trainer's graph; valid while the snapshot lives */
  LamDataset      *view_set;
  int              step;          /* the run's step the copies come from */
  /* WEIGHTS */
  char            *weights_node;
  float           *weights;
  int              ndim, shape[4], in_c, in_h, in_w;
  /* ACTIVATIONS */
  int              sample;
  float          **acts;          /* indexed like graph->nodes */
  float           *probs;
  int              n_classes;
  /* PREDICTIONS: view_set->n ints */
  int             *pred;
  /* FIELD */
  float           *field;         /* grid² × n_classes */
  int              grid, field_classes;
  float            xmin, xmax, ymin, ymax;
  float           *units;         /* n_units × grid² */
  int              n_units;
  char            *units_node;
  /* SEQUENCE (for sample) */
  LamSeqTrace     *trace;
  /* ATTENTION (for sample): heads × steps × steps */
  float           *att;
  int              att_heads, att_steps;
  char            *att_node;
  /* the first copy that failed, and why ("Activations: out of GPU
   * memory: …"), for the views to say; NULL when all were taken */
  char            *problem;
  gpointer         run;           /* private */
} LamSnapshot;

void                lam_snapshot_free                 (LamSnapshot *snapshot);
void                lam_training_session_snapshot     (LamTrainingSession *self,
                                                       const LamSnapshotRequest *request,
                                                       GCancellable *cancellable,
                                                       GAsyncReadyCallback callback, gpointer data);
/* NULL with an error, or when there was no trainer (no error). */
LamSnapshot        *lam_training_session_snapshot_finish (LamTrainingSession *self,
                                                          GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamSnapshot, lam_snapshot_free)

G_END_DECLS
