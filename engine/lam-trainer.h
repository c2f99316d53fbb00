/* lam-trainer.h: training under the caller's control.
 *
 * lam_trainer_step() runs one batch on the caller's thread: that is all
 * lamina-train needs. lam_trainer_start() runs steps on a worker thread
 * that pause/resume/stop/single-step control between steps; metrics
 * come through a callback on the worker thread (the window marshals
 * them to its main loop). Copies of weights and activations are taken
 * under the trainer's lock between two steps, so they are consistent.
 *
 * Determinism: the epoch's shuffle comes from (seed, epoch) and dropout
 * masks from (seed, step), so a run resumed from a checkpoint repeats
 * the uninterrupted one bit for bit on the same backend and threads.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-types.h"
#include "lam-graph.h"
#include "lam-dataset.h"
#include "lam-optim.h"
#include "lam-net.h"

G_BEGIN_DECLS

typedef struct {
  LamDataSpec  data;
  LamOptConfig opt;
  int          epochs;
  int          batch;
  guint64      seed;
  char        *backend;    /* "cpu", "cuda", "auto" */
  int          threads;    /* 0: all cores */
} LamTrainConfig;

void     lam_train_config_init  (LamTrainConfig *c);   /* 3 epochs, batch 64, seed 1, auto */
void     lam_train_config_clear (LamTrainConfig *c);
void     lam_train_config_copy  (LamTrainConfig *dst, const LamTrainConfig *src);
gboolean lam_train_config_check (const LamTrainConfig *c, GError **error);

typedef struct {
  int      epoch;             /* 0-based epoch this step belongs to */
  int      step;              /* global step count after this step */
  int      step_in_epoch;     /* 1-based */
  int      steps_per_epoch;
  double   batch_loss;
  double   batch_accuracy;
  double   train_loss;        /* mean over the epoch so far */
  double   train_accuracy;
  gboolean epoch_end;
  double   val_loss;          /* at epoch end, when there is a validation set; else NAN */
  double   val_accuracy;
  double   lr;
  double   images_per_second; /* over the current run */
  double   elapsed;           /* seconds of training (pauses excluded) */
  double   eta;               /* seconds left, estimated */
} LamMetrics;

typedef enum {
  LAM_TRAINER_IDLE,
  LAM_TRAINER_RUNNING,
  LAM_TRAINER_PAUSED,
  LAM_TRAINER_FINISHED,
  LAM_TRAINER_FAILED,
} LamTrainerState;

typedef void (*LamMetricsFunc) (LamTrainer *t, const LamMetrics *m, gpointer user_data);
/* state changes (and failures, with error set) from the worker thread */
typedef void (*LamStateFunc)   (LamTrainer *t, LamTrainerState state, const GError *error,
                                gpointer user_data);

/* Compiles the graph on the configured backend. When "auto" falls back
 * to the CPU, lam_trainer_backend_note() says why. */
LamTrainer *lam_trainer_new        (const LamGraph *graph, const LamTrainConfig *cfg,
                                    const LamDataSplits *data, GError **error);
void        lam_trainer_free       (LamTrainer *t);

LamNet     *lam_trainer_net        (LamTrainer *t);
LamBackend *lam_trainer_backend    (LamTrainer *t);
const char *lam_trainer_backend_note (LamTrainer *t);  /* why not CUDA, or NULL */
/* How the last step ran on a backend that records steps ("CUDA graphs:
 * on, 120 steps replayed", "CUDA graphs: off (why)"); NULL before the
 * first step or on the CPU. Any thread; g_free it. */
char       *lam_trainer_dup_graph_status (LamTrainer *t);
const LamTrainConfig *lam_trainer_config (LamTrainer *t);
int         lam_trainer_steps_per_epoch (LamTrainer *t);
int         lam_trainer_epoch      (LamTrainer *t);    /* epochs completed */
int         lam_trainer_step_count (LamTrainer *t);    /* global steps done */
gboolean    lam_trainer_done       (LamTrainer *t);

/* Synchronous use. One step; at an epoch's end it also evaluates the
 * validation set. FALSE with LAM_ERROR_DIVERGED when the loss is not finite. */
gboolean    lam_trainer_step       (LamTrainer *t, LamMetrics *out, GError **error);
/* Loss and accuracy over a whole dataset in evaluation mode. */
gboolean    lam_trainer_evaluate   (LamTrainer *t, LamDataset *ds, double *loss,
                                    double *accuracy, GError **error);

/* Threaded use. */
void        lam_trainer_set_callbacks (LamTrainer *t, LamMetricsFunc metrics,
                                       LamStateFunc state, gpointer user_data);
void        lam_trainer_start      (LamTrainer *t);      /* runs to the last epoch */
void        lam_trainer_pause      (LamTrainer *t);
void        lam_trainer_resume     (LamTrainer *t);
void        lam_trainer_single_step(LamTrainer *t);      /* while paused: one batch */
void        lam_trainer_stop       (LamTrainer *t);      /* returns when the worker ended */
LamTrainerState lam_trainer_state  (LamTrainer *t);
void        lam_trainer_set_lr     (LamTrainer *t, float lr);  /* from the next step */
void        lam_trainer_reset_weights (LamTrainer *t, guint64 seed);

/* For the views, from any thread: copies of the weights and forward
 * passes in evaluation mode, taken between two steps. Each call below
 * takes the weights of the last step done; between lam_trainer_views_hold
 * and lam_trainer_views_release (nested, one thread at a time) they all
 * use those of one step, the one hold returns. On a GPU the views work
 * on a mirror of the network, with a stream of its own: training waits
 * only for the hold's copy of the weights, and goes on while the views
 * compute. On the CPU, with LAMINA_VIEW_MIRROR=0, or where no mirror can
 * be made (or one failed: memory), a hold keeps the training's lock
 * until the release: within it, do not step, evaluate, save, load, reset,
 * stop or wait for steps (the program ends with a message where it would
 * hang). No hold may span lam_trainer_free. Views run unfused nets: a
 * Dense or Conv2D before its ReLU gives its own outputs, before the
 * activation. */
int         lam_trainer_views_hold    (LamTrainer *t);
void        lam_trainer_views_release (LamTrainer *t);
/* Whether the views run on a mirror (known after the first hold). */
gboolean    lam_trainer_views_mirrored (LamTrainer *t);
/* Seconds the worker has waited for the lock that the views (and saves,
 * evaluations, ...) take between its steps, since the trainer was made. */
double      lam_trainer_views_wait    (LamTrainer *t);

/* The tensor's values (g_free) and its shape. */
float      *lam_trainer_copy_tensor (LamTrainer *t, const char *name, int *ndim, int shape[4]);
/* Class predictions for a dataset (n ints). */
gboolean    lam_trainer_predict    (LamTrainer *t, LamDataset *ds, gint32 *pred,
                                    GError **error);
/* Activations of every node for one sample (evaluation mode): returns an
 * array of n_nodes float buffers (NULL where a node has no output), each
 * of that node's out_shape size. Free with lam_trainer_free_activations. */
float     **lam_trainer_activations (LamTrainer *t, LamDataset *ds, int sample, GError **error);
void        lam_trainer_free_activations (LamTrainer *t, float **acts);
/* The outputs of n_nodes nodes (graph indices, no loss node) for every
 * sample of ds, in evaluation mode, a batch at a time under one lock:
 * out[k] receives ds->n × the node's out_shape size floats, sample by
 * sample. For many samples (a view's grid of points) it is far cheaper
 * than lam_trainer_activations per sample, above all on a GPU. */
gboolean    lam_trainer_node_outputs (LamTrainer *t, LamDataset *ds, const int *nodes, int n_nodes,
                                      float **out, GError **error);

/* Checkpoints: weights, optimizer state and the position in the run, in
 * one safetensors file. Loading continues the run exactly. */
gboolean    lam_trainer_save       (LamTrainer *t, const char *path, GError **error);
gboolean    lam_trainer_load       (LamTrainer *t, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamTrainer, lam_trainer_free)

G_END_DECLS
