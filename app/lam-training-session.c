/* lam-training-session.c: the trainer of one window, its data, its
 * worker and the copies the views draw.
 *
 * Threads. The trainer's worker calls on_worker_metrics() and
 * on_worker_state(); they touch only a Link (refcounted, its own
 * mutex), never the session, so a session can go away while a worker
 * is stopping. The main thread drains the Link from a 100 ms timeout
 * (metrics while running) and from one idle per burst of state changes.
 * Tasks (GTask threads) hold a reference on the Run they work on; a Run
 * is freed, and its worker joined, by whoever drops the last reference.
 * "busy" counts the tasks that own the trainer (stop, step, reset,
 * rebuild, load): while it is non-zero the main thread leaves the
 * trainer alone and worker states are ignored.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-training"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#ifdef __linux__
#include <sys/resource.h>
#endif

#include "lam-layer-style.h"
#include "lam-training-panel.h"
#include "lam-training-session.h"
#include "lam-view-data.h"
#include "lam-seq.h"

#define TICK_MS        100      /* draining metrics, and the views' refresh, while training: 10 Hz */
#define VIEW_SET_MAX   1000     /* samples the views choose from, predict and confuse */
#define FIELD_GRID     100      /* 2-D decision field, per side */
#define TRAINER_NICE   5        /* training threads yield to the window's */
#define DATA_SETTLE_MS 300      /* a changed dataset loads once the settings rest */

/* The trainer's threads (its worker and the CPU backend's pool, which
 * inherits the nice value of the thread that builds the backend) run a
 * little below the window's: when the window draws, it gets the core at
 * once, and training loses only the time the drawing takes. Linux keeps
 * the nice value per thread; elsewhere it is per process, so leave it. */
static void
lower_thread_priority (void)
{
#ifdef __linux__
  static _Thread_local gboolean lowered;
  int now;

  if (lowered)
    return;
  lowered = TRUE;
  errno = 0;
  now = getpriority (PRIO_PROCESS, 0);
  if (errno == 0 && setpriority (PRIO_PROCESS, 0, MIN (now + TRAINER_NICE, 19)) != 0)
    g_debug ("could not lower the training thread's priority: %s", g_strerror (errno));
#endif
}

G_DEFINE_ENUM_TYPE (LamSessionState, lam_session_state,
                    G_DEFINE_ENUM_VALUE (LAM_SESSION_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (LAM_SESSION_PREPARING, "preparing"),
                    G_DEFINE_ENUM_VALUE (LAM_SESSION_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (LAM_SESSION_PAUSED, "paused"),
                    G_DEFINE_ENUM_VALUE (LAM_SESSION_FINISHED, "finished"),
                    G_DEFINE_ENUM_VALUE (LAM_SESSION_FAILED, "failed"))

/* ------------------------------------------------------------------ */
/* Link: what the worker thread hands to the main thread */

typedef struct {
  gatomicrefcount     ref;
  GMutex              lock;          /* guards the fields up to idle_id */
  GArray             *pending;       /* LamMetrics, oldest first */
  gboolean            state_set;
  LamTrainerState     state;
  char               *error;
  guint               idle_id;
  LamTrainingSession *session;       /* main thread only; NULL once the run is dropped */
} Link;

static Link *
link_new (void)
{
  Link *l = g_new0 (Link, 1);

  g_atomic_ref_count_init (&l->ref);
  g_mutex_init (&l->lock);
  l->pending = g_array_new (FALSE, FALSE, sizeof (LamMetrics));
  return l;
}

static Link *
link_ref (Link *l)
{
  g_atomic_ref_count_inc (&l->ref);
  return l;
}

static void
link_unref (gpointer data)
{
  Link *l = data;

  if (!g_atomic_ref_count_dec (&l->ref))
    return;
  g_array_unref (l->pending);
  g_free (l->error);
  g_mutex_clear (&l->lock);
  g_free (l);
}

/* ------------------------------------------------------------------ */
/* Run: one trainer with its data and what the views need from it */

typedef struct {
  gatomicrefcount ref;
  LamTrainer     *trainer;
  LamDataSplits   data;
  LamDataset     *view_set;     /* kept: the trainer uploads each dataset it sees once */
  LamViewGrid    *grid;         /* 2-D sets */
  Link           *link;
  char           *graph_key;    /* what it was built from, to know when it is stale */
  char           *config_key;
  gboolean        worker;       /* main thread: lam_trainer_start ran and nobody joined yet */
} Run;

static Run *
run_ref (Run *run)
{
  g_atomic_ref_count_inc (&run->ref);
  return run;
}

static void
run_unref (gpointer data)
{
  Run *run = data;

  if (run == NULL || !g_atomic_ref_count_dec (&run->ref))
    return;
  lam_trainer_free (run->trainer);   /* stops and joins the worker first */
  link_unref (run->link);
  g_clear_pointer (&run->grid, lam_view_grid_free);
  g_clear_pointer (&run->view_set, lam_dataset_unref);
  lam_data_splits_clear (&run->data);
  g_free (run->graph_key);
  g_free (run->config_key);
  g_free (run);
}

static void
release_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Run *run = data;

  lam_trainer_stop (run->trainer);
  g_task_return_boolean (task, TRUE);
}

/* Drops a run whose worker may still be in a step, without waiting for
 * it on the main thread. */
static void
run_release (Run *run)
{
  g_autoptr(GTask) task = NULL;

  if (run == NULL)
    return;
  run->link->session = NULL;
  if (!run->worker)
    {
      run_unref (run);
      return;
    }
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, run, run_unref);
  g_task_run_in_thread (task, release_thread);
}

/* ------------------------------------------------------------------ */
/* Keys: what a run was built from */

static char *
data_key (const LamTrainConfig *c)
{
  const LamDataSpec *d = &c->data;

  return g_strdup_printf ("%s|%s|%s|%s|%s|%d|%.9g|%d|%d|%.9g|%d|%" G_GUINT64_FORMAT,
                          d->name ? d->name : "", d->train_images ? d->train_images : "",
                          d->train_labels ? d->train_labels : "", d->test_images ? d->test_images : "",
                          d->test_labels ? d->test_labels : "", d->n_samples, d->noise, d->n_classes,
                          d->length, d->val_fraction, d->limit, c->seed);
}

/* Everything but the learning rate, which a running trainer takes at once. */
static char *
config_key (const LamTrainConfig *c)
{
  g_autofree char *dk = data_key (c);
  const LamOptConfig *o = &c->opt;

  return g_strdup_printf ("%s|%d|%d|%s|%d|%d|%.9g|%d|%.9g|%.9g|%.9g|%.9g|%d|%d|%.9g", dk, c->epochs, c->batch,
                          c->backend ? c->backend : "auto", c->threads, o->kind, o->momentum, o->nesterov,
                          o->weight_decay, o->beta1, o->beta2, o->eps, o->schedule, o->step_epochs, o->gamma);
}

/* The graph without the editor's positions. */
static char *
graph_key (const LamGraph *g)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      const LamLayerInfo *info = lam_layer_info (n->kind);

      g_string_append_printf (s, "%s:%d(", n->name, n->kind);
      for (int k = 0; k < info->n_params; k++)
        g_string_append_printf (s, "%.9g,", lam_layer_param_get (&n->p, &info->params[k]));
      g_string_append (s, ")<");
      for (guint k = 0; k < n->inputs->len; k++)
        g_string_append_printf (s, "%s,", (const char *) g_ptr_array_index (n->inputs, k));
      g_string_append (s, ";");
    }
  return g_string_free (s, FALSE);
}

/* The engine's check of a dataset against a validated graph, in its
 * words (lam_trainer_new makes it; this makes it before there is a
 * trainer, so that Start can say why it is disabled). */
static char *
fit_problem (const LamGraph *g, const LamDataSplits *data)
{
  LamNode *in = lam_graph_input_node (g), *loss = lam_graph_loss_node (g), *logits;
  LamDataset *ds = data->train;
  char a[64], b[64];
  gint64 n_out;

  if (in == NULL || loss == NULL || loss->inputs->len == 0)
    return NULL;   /* the graph's own problem says it */
  if (ds == NULL || ds->n == 0)
    return g_strdup ("the training set is empty");
  if (lam_shape_size (&in->out_shape) != (gint64) lam_dataset_sample_size (ds))
    return g_strdup_printf ("node \"%s\": the network takes %s values per sample but %s has %s",
                            in->name, lam_shape_to_string (&in->out_shape, a, sizeof a), ds->name,
                            lam_shape_to_string (&ds->shape, b, sizeof b));
  logits = lam_graph_find (g, g_ptr_array_index (loss->inputs, 0));
  n_out = logits != NULL ? lam_shape_size (&logits->out_shape) : 0;
  if (logits != NULL && n_out < ds->n_classes)
    return g_strdup_printf ("node \"%s\": gives %" G_GINT64_FORMAT " outputs but %s has %d classes",
                            logits->name, n_out, ds->name, ds->n_classes);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* CUDA: probed once per process, on a thread */

static GList   *all_sessions;      /* main thread */
static gboolean cuda_probe_started;
static gboolean cuda_probe_done;   /* main thread, once the idle ran */
static char    *cuda_problem;
static char    *cuda_description;

static void on_cuda_probed (LamTrainingSession *self);

typedef struct {
  char *problem;
  char *description;
} CudaProbe;

static gboolean
cuda_probe_idle (gpointer data)
{
  CudaProbe *p = data;

  cuda_problem = p->problem;
  cuda_description = p->description;
  cuda_probe_done = TRUE;
  g_free (p);
  for (GList *l = all_sessions; l != NULL; l = l->next)
    on_cuda_probed (l->data);
  return G_SOURCE_REMOVE;
}

static gpointer
cuda_probe_thread (gpointer data)
{
  CudaProbe *p = g_new0 (CudaProbe, 1);
  g_autoptr(GError) error = NULL;
  LamBackend *be = lam_backend_new ("cuda", 1, NULL, &error);

  if (be == NULL)
    {
      const char *msg = error->message;
      /* "CUDA backend unavailable: why" → "why" */
      p->problem = g_strdup (g_str_has_prefix (msg, "CUDA backend unavailable: ")
                             ? msg + strlen ("CUDA backend unavailable: ") : msg);
    }
  else
    {
      p->description = g_strdup (be->description);
      lam_backend_free (be);
    }
  g_idle_add (cuda_probe_idle, p);
  return NULL;
}

static void
cuda_probe_start (void)
{
  if (cuda_probe_started)
    return;
  cuda_probe_started = TRUE;
  g_thread_unref (g_thread_new ("lamina-cuda-probe", cuda_probe_thread, NULL));
}

const char *
lam_training_session_get_cuda_problem (void)
{
  return cuda_probe_done ? cuda_problem : NULL;
}

/* ------------------------------------------------------------------ */
/* The session */

typedef enum {
  ACT_NONE,
  ACT_START,     /* a new run, then run it */
  ACT_RESUME,    /* rebuild the stale trainer, then run it */
  ACT_STEP,      /* a new run, then one step */
  ACT_STEP_ON,   /* rebuild the stale trainer of a paused run, then one step */
  ACT_RESET,     /* fresh weights, no run */
  ACT_LOAD,      /* a trainer for the network, then a checkpoint into it */
} Action;

typedef enum {
  BUILD_NEW,       /* a trainer from the network */
  BUILD_RESET,     /* the current one, fresh weights */
  BUILD_REBUILD,   /* a trainer from the network, with the current one's weights */
  BUILD_KEEP,      /* the current one, its worker stopped */
} BuildMode;

struct _LamTrainingSession {
  GObject          parent_instance;

  LamNetwork      *network;
  gboolean         active;
  gboolean         shut_down;
  LamSessionState  state;
  guint            generation;     /* counts networks: a task for an older one is ignored */

  /* The dataset the settings name */
  char            *data_key;       /* of what is loaded or loading */
  LamDataSplits    data;
  gboolean         data_ready;
  char            *data_error;
  GCancellable    *data_cancel;    /* the load in flight */
  guint            data_timeout_id; /* a load after the settings settle */
  char            *fit_problem;
  char            *start_problem;

  /* The run */
  Run             *run;
  gboolean         stale;          /* the network or settings changed since it was built */
  gboolean         pause_requested;
  int              busy;
  guint            tick_id;
  int              step_base;      /* added to a rebuilt trainer's steps, so curves go on */
  LamMetrics       last;
  gboolean         has_last;
  char            *error;

  /* A request waiting for the data or the trainer */
  Action           pending;
  GTask           *pending_load;   /* load_weights' task */
  gboolean         cancel_build;   /* Stop while preparing */
  char            *preparing_what;
};

G_DEFINE_FINAL_TYPE (LamTrainingSession, lam_training_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  N_PROPS
};

enum {
  METRICS_CHANGED,
  STATE_CHANGED,
  REFRESH,
  RUN_CHANGED,
  RUN_RELEASING,
  CLEARED,
  FAILED,
  MESSAGE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void continue_request (LamTrainingSession *self);
static void drain (LamTrainingSession *self, Link *link);

/* A dataset's name for people, as the panel's Dataset row has it */
static const char *
data_title (const char *name)
{
  const char *label = lam_training_panel_dataset_label (name);

  return label != NULL ? label : name != NULL && name[0] != '\0' ? name : "the data";
}

static const LamTrainConfig *
config (LamTrainingSession *self)
{
  return lam_network_get_config (self->network);
}

static void
emit_changed (LamTrainingSession *self)
{
  if (!self->shut_down)
    g_signal_emit (self, signals[STATE_CHANGED], 0);
}

static gboolean
tick_cb (gpointer data)
{
  LamTrainingSession *self = data;

  if (self->run != NULL)
    drain (self, self->run->link);
  return G_SOURCE_CONTINUE;
}

static void
set_state (LamTrainingSession *self, LamSessionState state)
{
  gboolean running = state == LAM_SESSION_RUNNING;

  if (running && self->tick_id == 0)
    self->tick_id = g_timeout_add_full (G_PRIORITY_DEFAULT_IDLE, TICK_MS, tick_cb, self, NULL);
  else if (!running)
    g_clear_handle_id (&self->tick_id, g_source_remove);
  if (state != LAM_SESSION_RUNNING)
    self->pause_requested = FALSE;
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  emit_changed (self);
}

static void
update_start_problem (LamTrainingSession *self)
{
  const LamTrainConfig *c = config (self);
  g_autoptr(GError) error = NULL;
  char *problem = NULL;

  if (!lam_network_get_valid (self->network))
    problem = g_strdup (lam_network_get_problem (self->network));
  else if (g_strcmp0 (c->data.name, "idx") == 0 && (c->data.train_images == NULL || c->data.train_labels == NULL))
    problem = g_strdup ("choose the IDX files of the training images and labels");
  else if (self->data_error != NULL)
    problem = g_strdup_printf ("the dataset cannot be loaded: %s", self->data_error);
  else if (self->fit_problem != NULL)
    problem = g_strdup (self->fit_problem);
  else if (c->backend != NULL && g_ascii_strcasecmp (c->backend, "cuda") == 0 && cuda_problem != NULL)
    problem = g_strdup_printf ("CUDA backend unavailable: %s", cuda_problem);
  else if (!lam_train_config_check (c, &error))
    problem = g_strdup (error->message);
  g_free (self->start_problem);
  self->start_problem = problem;
}

static void
update_fit (LamTrainingSession *self)
{
  g_clear_pointer (&self->fit_problem, g_free);
  if (self->data_ready && lam_network_get_valid (self->network))
    self->fit_problem = fit_problem (lam_network_get_graph (self->network), &self->data);
  update_start_problem (self);
}

static void
update_stale (LamTrainingSession *self)
{
  g_autofree char *gk = NULL, *ck = NULL;

  if (self->run == NULL)
    {
      self->stale = FALSE;
      return;
    }
  gk = graph_key (lam_network_get_graph (self->network));
  ck = config_key (config (self));
  self->stale = g_strcmp0 (gk, self->run->graph_key) != 0 || g_strcmp0 (ck, self->run->config_key) != 0;
}

static void
fail (LamTrainingSession *self, const char *message)
{
  g_free (self->error);
  self->error = g_strdup (message);
  set_state (self, LAM_SESSION_FAILED);
  if (!self->shut_down)
    g_signal_emit (self, signals[FAILED], 0, message);
}

static void
emit_refresh (LamTrainingSession *self)
{
  if (!self->shut_down)
    g_signal_emit (self, signals[REFRESH], 0);
}

static void
on_cuda_probed (LamTrainingSession *self)
{
  if (self->shut_down)
    return;
  update_start_problem (self);
  emit_changed (self);
}

/* ------------------------------------------------------------------ */
/* Draining the worker's news (main thread) */

static void
join_worker (LamTrainingSession *self)
{
  if (self->run != NULL && self->run->worker)
    {
      /* the worker has returned or is about to: this does not wait */
      lam_trainer_stop (self->run->trainer);
      self->run->worker = FALSE;
    }
}

static void
handle_worker_state (LamTrainingSession *self, LamTrainerState state, const char *error)
{
  if (self->busy > 0)
    return;   /* a task owns the trainer and sets the state when it is done */
  switch (state)
    {
    case LAM_TRAINER_RUNNING:
      if (self->state == LAM_SESSION_PAUSED)
        set_state (self, LAM_SESSION_RUNNING);
      break;
    case LAM_TRAINER_PAUSED:
      if (self->state == LAM_SESSION_RUNNING || self->state == LAM_SESSION_PAUSED)
        set_state (self, LAM_SESSION_PAUSED);
      break;
    case LAM_TRAINER_FINISHED:
      join_worker (self);
      if (self->state == LAM_SESSION_RUNNING || self->state == LAM_SESSION_PAUSED)
        set_state (self, LAM_SESSION_FINISHED);
      emit_refresh (self);
      break;
    case LAM_TRAINER_FAILED:
      join_worker (self);
      fail (self, error != NULL ? error : "training failed");
      break;
    case LAM_TRAINER_IDLE:
    default:
      break;   /* a stop this session asked for */
    }
}

static void
drain (LamTrainingSession *self, Link *link)
{
  g_autoptr(GArray) got = NULL;
  g_autofree char *error = NULL;
  gboolean state_set;
  LamTrainerState state;

  if (self->run == NULL || link != self->run->link)
    return;
  g_mutex_lock (&link->lock);
  if (link->pending->len > 0)
    {
      got = link->pending;
      link->pending = g_array_new (FALSE, FALSE, sizeof (LamMetrics));
    }
  state_set = link->state_set;
  state = link->state;
  error = g_steal_pointer (&link->error);
  link->state_set = FALSE;
  g_mutex_unlock (&link->lock);

  if (got != NULL)
    {
      for (guint i = 0; i < got->len; i++)
        g_array_index (got, LamMetrics, i).step += self->step_base;
      self->last = g_array_index (got, LamMetrics, got->len - 1);
      self->has_last = TRUE;
      if (!self->shut_down)
        g_signal_emit (self, signals[METRICS_CHANGED], 0, got->data, got->len);
    }
  if (state_set)
    handle_worker_state (self, state, error);
  if (got != NULL)
    {
      emit_changed (self);
      emit_refresh (self);
    }
}

static gboolean
link_idle (gpointer data)
{
  Link *link = data;

  g_mutex_lock (&link->lock);
  link->idle_id = 0;
  g_mutex_unlock (&link->lock);
  if (link->session != NULL)
    drain (link->session, link);
  return G_SOURCE_REMOVE;
}

/* The worker thread: */

static void
on_worker_metrics (LamTrainer *t, const LamMetrics *m, gpointer data)
{
  Link *link = data;

  lower_thread_priority ();
  g_mutex_lock (&link->lock);
  g_array_append_vals (link->pending, m, 1);
  g_mutex_unlock (&link->lock);
}

static void
on_worker_state (LamTrainer *t, LamTrainerState state, const GError *error, gpointer data)
{
  Link *link = data;

  g_mutex_lock (&link->lock);
  link->state_set = TRUE;
  link->state = state;
  if (error != NULL)
    {
      g_free (link->error);
      link->error = g_strdup (error->message);
    }
  if (link->idle_id == 0)
    link->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT, link_idle, link_ref (link), link_unref);
  g_mutex_unlock (&link->lock);
}

static void
start_worker (LamTrainingSession *self)
{
  LamTrainer *t = self->run->trainer;

  g_assert (!self->run->worker);
  lam_trainer_set_lr (t, config (self)->opt.lr);
  lam_trainer_set_callbacks (t, on_worker_metrics, on_worker_state, self->run->link);
  lam_trainer_start (t);
  self->run->worker = TRUE;
  set_state (self, LAM_SESSION_RUNNING);
}

/* ------------------------------------------------------------------ */
/* Data (a GTask thread) */

typedef struct {
  LamDataSpec   spec;
  guint64       seed;
  LamDataSplits out;
  char         *key;
} DataJob;

static void
data_job_free (gpointer data)
{
  DataJob *job = data;

  lam_data_spec_clear (&job->spec);
  lam_data_splits_clear (&job->out);
  g_free (job->key);
  g_free (job);
}

static void
data_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  DataJob *job = data;
  GError *error = NULL;

  if (lam_data_open (&job->spec, job->seed, &job->out, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
data_done (GObject *source, GAsyncResult *result, gpointer data)
{
  LamTrainingSession *self = LAM_TRAINING_SESSION (source);
  DataJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->shut_down
      || g_strcmp0 (job->key, self->data_key) != 0)
    return;
  g_clear_object (&self->data_cancel);
  if (ok)
    {
      self->data = job->out;
      memset (&job->out, 0, sizeof job->out);
      self->data_ready = TRUE;
    }
  else
    self->data_error = g_strdup (error->message);
  update_fit (self);
  emit_changed (self);
  if (self->pending != ACT_NONE)
    continue_request (self);
}

static void
forget_data (LamTrainingSession *self)
{
  if (self->data_cancel != NULL)
    g_cancellable_cancel (self->data_cancel);
  g_clear_object (&self->data_cancel);
  lam_data_splits_clear (&self->data);
  self->data_ready = FALSE;
  g_clear_pointer (&self->data_error, g_free);
  g_clear_pointer (&self->data_key, g_free);
  update_fit (self);
}

/* Loads the dataset the settings name, unless it is there or coming. */
static void
want_data (LamTrainingSession *self)
{
  const LamTrainConfig *c = config (self);
  g_autofree char *key = data_key (c);
  g_autoptr(GTask) task = NULL;
  DataJob *job;

  if (g_strcmp0 (key, self->data_key) == 0)
    return;
  forget_data (self);
  self->data_key = g_strdup (key);
  job = g_new0 (DataJob, 1);
  lam_data_spec_copy (&job->spec, &c->data);
  job->seed = c->seed;
  job->key = g_steal_pointer (&key);
  self->data_cancel = g_cancellable_new ();
  task = g_task_new (self, self->data_cancel, data_done, NULL);
  g_task_set_task_data (task, job, data_job_free);
  g_task_run_in_thread (task, data_thread);
  emit_changed (self);
}

/* ------------------------------------------------------------------ */
/* Building a trainer (a GTask thread) */

typedef struct {
  BuildMode       mode;
  Action          action;
  LamGraph       *graph;
  LamTrainConfig  cfg;
  LamDataSplits   data;
  Run            *old;
  Run            *result;
  char           *message;
  char           *graph_key;
  char           *config_key;
  int             old_steps;
  guint           generation;
} BuildJob;

static void
build_job_free (gpointer data)
{
  BuildJob *job = data;

  g_clear_pointer (&job->graph, lam_graph_free);
  lam_train_config_clear (&job->cfg);
  lam_data_splits_clear (&job->data);
  run_unref (job->old);
  run_unref (job->result);
  g_free (job->message);
  g_free (job->graph_key);
  g_free (job->config_key);
  g_free (job);
}

static Run *
run_new (LamTrainer *t, const LamDataSplits *data, char *graph_key_taken, char *config_key_taken)
{
  Run *run = g_new0 (Run, 1);
  LamDataset *from;

  g_atomic_ref_count_init (&run->ref);
  run->trainer = t;
  run->link = link_new ();
  run->data.train = lam_dataset_ref (data->train);
  run->data.val = data->val ? lam_dataset_ref (data->val) : NULL;
  run->data.test = data->test ? lam_dataset_ref (data->test) : NULL;
  run->graph_key = graph_key_taken;
  run->config_key = config_key_taken;
  from = data->val != NULL && data->val->n > 0 ? data->val : data->test;
  if (from != NULL && from->n > 0)
    run->view_set = lam_dataset_slice (from, 0, MIN (from->n, VIEW_SET_MAX));
  if (data->train->data != NULL && lam_dataset_sample_size (data->train) == 2)
    run->grid = lam_view_grid_new (data->train, FIELD_GRID, 0.08f);
  return run;
}

/* The old trainer's weights into the new one: through a checkpoint when
 * every tensor still fits (weights, optimizer state and, when the batch
 * and data allow, the position: the run goes on exactly), else tensor
 * by tensor where name and shape agree. Both trainers are stopped. */
static char *
transfer_weights (Run *from, Run *to)
{
  LamNet *a = lam_trainer_net (from->trainer), *b = lam_trainer_net (to->trainer);
  g_autofree char *tmp = NULL;
  g_autoptr(GError) error = NULL;
  int fd = g_file_open_tmp ("lamina-rebuild-XXXXXX.safetensors", &tmp, NULL);
  gboolean loaded = FALSE;
  guint kept = 0, total = 0;

  if (fd >= 0)
    {
      g_close (fd, NULL);
      loaded = lam_trainer_save (from->trainer, tmp, NULL) && lam_trainer_load (to->trainer, tmp, &error);
      g_unlink (tmp);
    }
  if (loaded)
    {
      if (lam_trainer_step_count (to->trainer) == lam_trainer_step_count (from->trainer))
        return g_strdup ("Rebuilt the trainer for the changes: kept the weights and the position");
      return g_strdup ("Rebuilt the trainer for the changes: kept the weights; the steps count from 0 again");
    }
  {
    gsize npa = lam_net_n_params (a), nsa = lam_net_n_state (a);
    gsize npb = lam_net_n_params (b), nsb = lam_net_n_state (b);
    g_autofree float *pa = g_new (float, MAX (npa, 1)), *sa = g_new (float, MAX (nsa, 1));
    g_autofree float *pb = g_new (float, MAX (npb, 1)), *sb = g_new (float, MAX (nsb, 1));

    lam_net_read_params (a, pa);
    lam_net_read_state (a, sa);
    lam_net_read_params (b, pb);
    lam_net_read_state (b, sb);
    for (guint i = 0; i < lam_net_n_tensors (b); i++)
      {
        const LamTensorInfo *tb = lam_net_tensor (b, i);
        const LamTensorInfo *ta = lam_net_find_tensor (a, tb->name);
        gboolean same = ta != NULL && ta->ndim == tb->ndim && ta->trainable == tb->trainable;

        for (int k = 0; same && k < tb->ndim; k++)
          same = ta->shape[k] == tb->shape[k];
        if (tb->trainable)
          total++;
        if (!same)
          continue;
        if (tb->trainable)
          {
            memcpy (pb + tb->offset, pa + ta->offset, tb->n * sizeof (float));
            kept++;
          }
        else
          memcpy (sb + tb->offset, sa + ta->offset, tb->n * sizeof (float));
      }
    lam_net_write_params (b, pb);
    lam_net_write_state (b, sb);
  }
  return g_strdup_printf ("Rebuilt the trainer for the changed network: kept %u of its %u weight tensors; "
                          "the steps count from 0 again", kept, total);
}

typedef struct {
  BuildJob   *job;
  LamTrainer *trainer;
  GError     *error;
} NewTrainer;

/* lam_trainer_new on a thread of its own, whose lower priority the CPU
 * backend's pool threads inherit. */
static gpointer
new_trainer_thread (gpointer data)
{
  NewTrainer *nt = data;

  lower_thread_priority ();
  nt->trainer = lam_trainer_new (nt->job->graph, &nt->job->cfg, &nt->job->data, &nt->error);
  return NULL;
}

static void
build_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  BuildJob *job = data;
  NewTrainer nt = { job, NULL, NULL };
  LamTrainer *t;

  if (job->old != NULL)
    lam_trainer_stop (job->old->trainer);   /* a paused or finished worker */
  switch (job->mode)
    {
    case BUILD_KEEP:
      job->result = run_ref (job->old);
      break;
    case BUILD_RESET:
      lam_trainer_reset_weights (job->old->trainer, job->cfg.seed);
      lam_trainer_set_lr (job->old->trainer, job->cfg.opt.lr);
      job->result = run_ref (job->old);
      break;
    case BUILD_NEW:
    case BUILD_REBUILD:
    default:
      g_thread_join (g_thread_new ("lamina-build", new_trainer_thread, &nt));
      t = nt.trainer;
      if (t == NULL)
        {
          g_task_return_error (task, nt.error);
          return;
        }
      job->result = run_new (t, &job->data, g_steal_pointer (&job->graph_key), g_steal_pointer (&job->config_key));
      if (job->mode == BUILD_REBUILD)
        {
          job->message = transfer_weights (job->old, job->result);
          lam_trainer_set_lr (t, job->cfg.opt.lr);
        }
      break;
    }
  g_task_return_boolean (task, TRUE);
}

static void step_task_start (LamTrainingSession *self);
static void load_task_start (LamTrainingSession *self);

static void
install_run (LamTrainingSession *self, Run *run)
{
  Run *old = self->run;

  if (old == run)
    return;
  if (old != NULL && !self->shut_down)
    g_signal_emit (self, signals[RUN_RELEASING], 0);
  self->run = run_ref (run);
  run->link->session = self;
  run_release (old);
  if (!self->shut_down)
    g_signal_emit (self, signals[RUN_CHANGED], 0);
}

static void
clear_curves (LamTrainingSession *self)
{
  self->step_base = 0;
  self->has_last = FALSE;
  memset (&self->last, 0, sizeof self->last);
  g_clear_pointer (&self->error, g_free);
  if (!self->shut_down)
    g_signal_emit (self, signals[CLEARED], 0);
}

static void
finish_pending_load (LamTrainingSession *self, GError *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->pending_load);

  if (task == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
build_done (GObject *source, GAsyncResult *result, gpointer data)
{
  LamTrainingSession *self = LAM_TRAINING_SESSION (source);
  BuildJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  Action action = self->pending;

  self->busy--;
  g_clear_pointer (&self->preparing_what, g_free);
  if (self->shut_down || job->generation != self->generation)
    return;
  self->pending = ACT_NONE;
  if (!ok)
    {
      finish_pending_load (self, g_error_copy (error));
      if (self->cancel_build)
        {
          self->cancel_build = FALSE;
          set_state (self, LAM_SESSION_IDLE);
        }
      else
        fail (self, error->message);
      return;
    }
  /* Reset and rebuild changed or replaced the current run: take the
   * result even when Stop came meanwhile; a new one only when wanted. */
  if (self->cancel_build && job->mode == BUILD_NEW)
    {
      self->cancel_build = FALSE;
      finish_pending_load (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped"));
      set_state (self, LAM_SESSION_IDLE);
      return;
    }
  install_run (self, job->result);
  self->stale = FALSE;
  update_stale (self);
  if (job->mode == BUILD_NEW || job->mode == BUILD_RESET)
    clear_curves (self);
  else if (job->mode == BUILD_REBUILD)
    {
      if (lam_trainer_step_count (self->run->trainer) != job->old_steps)
        self->step_base = self->has_last ? self->last.step : self->step_base;
      if (job->message != NULL)
        g_signal_emit (self, signals[MESSAGE], 0, job->message);
    }
  if (self->cancel_build)
    {
      self->cancel_build = FALSE;
      finish_pending_load (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped"));
      set_state (self, LAM_SESSION_IDLE);
      emit_refresh (self);
      return;
    }
  switch (action)
    {
    case ACT_START:
    case ACT_RESUME:
      start_worker (self);
      break;
    case ACT_STEP:
    case ACT_STEP_ON:
      step_task_start (self);
      break;
    case ACT_LOAD:
      load_task_start (self);
      break;
    case ACT_RESET:
    case ACT_NONE:
    default:
      set_state (self, LAM_SESSION_IDLE);
      emit_refresh (self);
      break;
    }
}

static void
build_start (LamTrainingSession *self, BuildMode mode)
{
  g_autoptr(GTask) task = NULL;
  BuildJob *job = g_new0 (BuildJob, 1);

  job->mode = mode;
  job->graph = lam_graph_copy (lam_network_get_graph (self->network));
  lam_train_config_copy (&job->cfg, config (self));
  if (self->data_ready)
    {
      job->data.train = lam_dataset_ref (self->data.train);
      job->data.val = self->data.val ? lam_dataset_ref (self->data.val) : NULL;
      job->data.test = self->data.test ? lam_dataset_ref (self->data.test) : NULL;
    }
  job->old = self->run != NULL ? run_ref (self->run) : NULL;
  job->old_steps = self->run != NULL ? lam_trainer_step_count (self->run->trainer) : 0;
  job->graph_key = graph_key (job->graph);
  job->config_key = config_key (&job->cfg);
  job->generation = self->generation;
  if (job->old != NULL)
    job->old->worker = FALSE;   /* the job joins it */
  g_free (self->preparing_what);
  self->preparing_what = g_strdup (mode == BUILD_NEW || mode == BUILD_REBUILD ? "Building the network…"
                                   : "Stopping the worker…");
  self->busy++;
  task = g_task_new (self, NULL, build_done, NULL);
  g_task_set_task_data (task, job, build_job_free);
  g_task_run_in_thread (task, build_thread);
  emit_changed (self);
}

/* Carries a request on: data first, then the trainer, then the action. */
static void
continue_request (LamTrainingSession *self)
{
  Action action = self->pending;
  gboolean usable = self->run != NULL && !self->stale;
  BuildMode mode;

  if (action == ACT_NONE || self->busy > 0)
    return;
  want_data (self);
  if (!self->data_ready && self->data_error == NULL)
    {
      g_free (self->preparing_what);
      self->preparing_what = g_strdup_printf ("Loading %s…", data_title (config (self)->data.name));
      emit_changed (self);
      return;   /* data_done comes back here */
    }
  update_fit (self);
  if (self->start_problem != NULL)
    {
      g_autofree char *problem = g_strdup (self->start_problem);
      self->pending = ACT_NONE;
      finish_pending_load (self, g_error_new (LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "%s", problem));
      fail (self, problem);
      return;
    }
  switch (action)
    {
    case ACT_START:
    case ACT_RESET:
      mode = usable ? BUILD_RESET : BUILD_NEW;
      break;
    case ACT_STEP:
      mode = usable ? BUILD_RESET : BUILD_NEW;
      break;
    case ACT_STEP_ON:
    case ACT_RESUME:
      mode = self->run != NULL ? BUILD_REBUILD : BUILD_NEW;
      break;
    case ACT_LOAD:
    default:
      mode = usable ? BUILD_KEEP : BUILD_NEW;
      break;
    }
  build_start (self, mode);
}

static void
request (LamTrainingSession *self, Action action)
{
  self->pending = action;
  self->cancel_build = FALSE;
  g_clear_pointer (&self->error, g_free);
  set_state (self, LAM_SESSION_PREPARING);
  continue_request (self);
}

/* ------------------------------------------------------------------ */
/* Stop, step, load (GTask threads that own the trainer) */

static void
stop_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Run *run = data;

  lam_trainer_stop (run->trainer);
  g_task_return_boolean (task, TRUE);
}

static void
stop_done (GObject *source, GAsyncResult *result, gpointer data)
{
  LamTrainingSession *self = LAM_TRAINING_SESSION (source);
  Run *run = g_task_get_task_data (G_TASK (result));

  self->busy--;
  if (self->shut_down || run != self->run)
    return;
  drain (self, run->link);
  set_state (self, LAM_SESSION_IDLE);
  emit_refresh (self);
}

typedef struct {
  Run       *run;
  LamMetrics m;
  gboolean   done;
} StepJob;

static void
step_job_free (gpointer data)
{
  StepJob *job = data;

  run_unref (job->run);
  g_free (job);
}

static void
step_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  StepJob *job = data;
  GError *error = NULL;

  if (!lam_trainer_step (job->run->trainer, &job->m, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  job->done = lam_trainer_done (job->run->trainer);
  g_mutex_lock (&job->run->link->lock);
  g_array_append_vals (job->run->link->pending, &job->m, 1);
  g_mutex_unlock (&job->run->link->lock);
  g_task_return_boolean (task, TRUE);
}

static void
step_done (GObject *source, GAsyncResult *result, gpointer data)
{
  LamTrainingSession *self = LAM_TRAINING_SESSION (source);
  StepJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  self->busy--;
  if (self->shut_down || job->run != self->run)
    return;
  drain (self, job->run->link);
  if (!ok)
    fail (self, error->message);
  else
    set_state (self, job->done ? LAM_SESSION_FINISHED : LAM_SESSION_PAUSED);
  emit_refresh (self);
}

static void
step_task_start (LamTrainingSession *self)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, step_done, NULL);
  StepJob *job = g_new0 (StepJob, 1);

  g_assert (!self->run->worker);
  job->run = run_ref (self->run);
  lam_trainer_set_lr (self->run->trainer, config (self)->opt.lr);
  g_task_set_task_data (task, job, step_job_free);
  self->busy++;
  if (self->state != LAM_SESSION_PAUSED)
    set_state (self, LAM_SESSION_PAUSED);
  g_task_run_in_thread (task, step_thread);
}

typedef struct {
  Run  *run;
  char *path;
} FileJob;

static void
file_job_free (gpointer data)
{
  FileJob *job = data;

  run_unref (job->run);
  g_free (job->path);
  g_free (job);
}

static void
load_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  FileJob *job = data;
  GError *error = NULL;

  lam_trainer_stop (job->run->trainer);
  if (lam_trainer_load (job->run->trainer, job->path, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer data)
{
  LamTrainingSession *self = LAM_TRAINING_SESSION (source);
  FileJob *job = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  LamTrainer *t = job->run->trainer;

  self->busy--;
  if (self->shut_down || job->run != self->run)
    {
      finish_pending_load (self, error);
      return;
    }
  if (ok)
    {
      clear_curves (self);
      /* where the checkpoint stands, until the next step says more */
      self->last.epoch = MIN (lam_trainer_epoch (t), MAX (lam_trainer_config (t)->epochs - 1, 0));
      self->last.step = lam_trainer_step_count (t);
      self->last.steps_per_epoch = lam_trainer_steps_per_epoch (t);
      self->last.step_in_epoch = self->last.step - lam_trainer_epoch (t) * self->last.steps_per_epoch;
      self->last.val_loss = self->last.val_accuracy = self->last.train_loss = self->last.train_accuracy = NAN;
      self->has_last = self->last.step > 0;
      set_state (self, lam_trainer_done (t) ? LAM_SESSION_FINISHED : LAM_SESSION_PAUSED);
    }
  else
    set_state (self, self->has_last ? LAM_SESSION_PAUSED : LAM_SESSION_IDLE);
  finish_pending_load (self, error);
  emit_refresh (self);
}

static void
load_task_start (LamTrainingSession *self)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, load_done, NULL);
  FileJob *job = g_new0 (FileJob, 1);
  GFile *file = g_task_get_task_data (self->pending_load);

  job->run = run_ref (self->run);
  job->path = g_file_get_path (file);
  self->run->worker = FALSE;
  g_task_set_task_data (task, job, file_job_free);
  self->busy++;
  g_task_run_in_thread (task, load_thread);
}

/* ------------------------------------------------------------------ */
/* Network and settings */

static void
on_network_changed (LamTrainingSession *self)
{
  update_stale (self);
  update_fit (self);
  emit_changed (self);
}

static void
on_network_reset (LamTrainingSession *self)
{
  g_clear_handle_id (&self->tick_id, g_source_remove);
  self->generation++;
  self->pending = ACT_NONE;
  self->cancel_build = FALSE;
  g_clear_pointer (&self->preparing_what, g_free);
  finish_pending_load (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Another network was opened"));
  if (self->run != NULL)
    {
      Run *old;
      if (!self->shut_down)
        g_signal_emit (self, signals[RUN_RELEASING], 0);
      old = g_steal_pointer (&self->run);
      run_release (old);
      if (!self->shut_down)
        g_signal_emit (self, signals[RUN_CHANGED], 0);
    }
  forget_data (self);
  clear_curves (self);
  set_state (self, LAM_SESSION_IDLE);
  if (self->active)
    want_data (self);
}

static gboolean
data_timeout_cb (gpointer data)
{
  LamTrainingSession *self = data;

  self->data_timeout_id = 0;
  want_data (self);
  return G_SOURCE_REMOVE;
}

void
lam_training_session_config_changed (LamTrainingSession *self)
{
  const LamTrainConfig *c;
  g_autofree char *key = NULL;

  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));

  c = config (self);
  if (self->run != NULL && c->opt.lr > 0 && self->busy == 0)
    lam_trainer_set_lr (self->run->trainer, c->opt.lr);
  key = data_key (c);
  if (self->data_key != NULL && g_strcmp0 (key, self->data_key) != 0)
    forget_data (self);
  /* a spin button's arrows change the size a few times a second: load
   * once they stop (Start does not wait for this) */
  g_clear_handle_id (&self->data_timeout_id, g_source_remove);
  if (self->pending != ACT_NONE)
    want_data (self);
  else if (self->active)
    self->data_timeout_id = g_timeout_add (DATA_SETTLE_MS, data_timeout_cb, self);
  update_stale (self);
  update_start_problem (self);
  emit_changed (self);
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
lam_training_session_dispose (GObject *object)
{
  LamTrainingSession *self = LAM_TRAINING_SESSION (object);

  lam_training_session_shutdown (self);
  G_OBJECT_CLASS (lam_training_session_parent_class)->dispose (object);
}

static void
lam_training_session_finalize (GObject *object)
{
  LamTrainingSession *self = LAM_TRAINING_SESSION (object);

  all_sessions = g_list_remove (all_sessions, self);
  lam_data_splits_clear (&self->data);
  g_free (self->data_key);
  g_free (self->data_error);
  g_free (self->fit_problem);
  g_free (self->start_problem);
  g_free (self->error);
  g_free (self->preparing_what);
  G_OBJECT_CLASS (lam_training_session_parent_class)->finalize (object);
}

static void
lam_training_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamTrainingSession *self = LAM_TRAINING_SESSION (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_training_session_class_init (LamTrainingSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lam_training_session_dispose;
  object_class->finalize = lam_training_session_finalize;
  object_class->get_property = lam_training_session_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, LAM_TYPE_SESSION_STATE, LAM_SESSION_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* metrics-changed (const LamMetrics *metrics, guint n) */
  signals[METRICS_CHANGED] = g_signal_new ("metrics-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_UINT);
  signals[STATE_CHANGED] = g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[REFRESH] = g_signal_new ("refresh", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[RUN_CHANGED] = g_signal_new ("run-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[RUN_RELEASING] = g_signal_new ("run-releasing", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CLEARED] = g_signal_new ("cleared", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
lam_training_session_init (LamTrainingSession *self)
{
  self->state = LAM_SESSION_IDLE;
  all_sessions = g_list_prepend (all_sessions, self);
  cuda_probe_start ();
}

LamTrainingSession *
lam_training_session_new (LamNetwork *network)
{
  LamTrainingSession *self;

  g_return_val_if_fail (LAM_IS_NETWORK (network), NULL);

  self = g_object_new (LAM_TYPE_TRAINING_SESSION, NULL);
  self->network = g_object_ref (network);
  g_signal_connect_swapped (network, "changed", G_CALLBACK (on_network_changed), self);
  g_signal_connect_swapped (network, "reset", G_CALLBACK (on_network_reset), self);
  update_start_problem (self);
  return self;
}

LamNetwork *
lam_training_session_get_network (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);
  return self->network;
}

void
lam_training_session_shutdown (LamTrainingSession *self)
{
  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));

  if (self->shut_down)
    return;
  self->shut_down = TRUE;
  all_sessions = g_list_remove (all_sessions, self);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->data_timeout_id, g_source_remove);
  self->pending = ACT_NONE;
  finish_pending_load (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The window closed"));
  if (self->data_cancel != NULL)
    g_cancellable_cancel (self->data_cancel);
  g_clear_object (&self->data_cancel);
  if (self->run != NULL)
    {
      Run *run;
      /* even while shutting down: a view may hold the trainer */
      g_signal_emit (self, signals[RUN_RELEASING], 0);
      run = g_steal_pointer (&self->run);
      run->link->session = NULL;
      run_unref (run);   /* joins a running worker: one step at most */
    }
  if (self->network != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->network, self);
      g_clear_object (&self->network);
    }
}

void
lam_training_session_set_active (LamTrainingSession *self, gboolean active)
{
  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));

  self->active = active;
  if (active && !self->shut_down)
    want_data (self);
}

/* ------------------------------------------------------------------ */
/* Reading */

LamSessionState
lam_training_session_get_state (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), LAM_SESSION_IDLE);
  return self->state;
}

gboolean
lam_training_session_get_busy (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return self->busy > 0;
}

gboolean
lam_training_session_get_data_loading (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return self->data_cancel != NULL || self->data_timeout_id != 0;
}

gboolean
lam_training_session_has_run (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return self->run != NULL;
}

const char *
lam_training_session_get_start_problem (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);
  return self->start_problem;
}

const char *
lam_training_session_get_error (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);
  return self->error;
}

const LamMetrics *
lam_training_session_get_metrics (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);
  return self->has_last ? &self->last : NULL;
}

int
lam_training_session_get_step (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), 0);
  return self->has_last ? self->last.step : 0;
}

double
lam_training_session_get_copy_wait (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), 0);

  if (self->run == NULL)
    return 0;
  return lam_trainer_views_wait (self->run->trainer);
}

int
lam_training_session_get_epochs (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), 0);
  if (self->run != NULL && !self->stale)
    return lam_trainer_config (self->run->trainer)->epochs;
  return self->network != NULL ? config (self)->epochs : 0;
}

static char *
format_duration (double seconds)
{
  gint64 s = (gint64) (seconds + 0.5);

  if (s < 60)
    return g_strdup_printf ("%" G_GINT64_FORMAT " s", s);
  if (s < 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT " min %02" G_GINT64_FORMAT " s", s / 60, s % 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT " h %02" G_GINT64_FORMAT " min", s / 3600, (s / 60) % 60);
}

static int
total_steps (LamTrainingSession *self)
{
  const LamMetrics *m = &self->last;

  return lam_training_session_get_epochs (self) * MAX (m->steps_per_epoch, 1);
}

char *
lam_training_session_dup_status_title (LamTrainingSession *self)
{
  g_autofree char *epochs = NULL, *epoch = NULL;
  int n;

  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);

  n = lam_training_session_get_epochs (self);
  epochs = lam_format_count (n);
  epoch = lam_format_count (self->has_last ? self->last.epoch + 1 : 1);
  switch (self->state)
    {
    case LAM_SESSION_PREPARING:
      return g_strdup ("Getting ready…");
    case LAM_SESSION_RUNNING:
      if (self->pause_requested)
        return g_strdup ("Pausing…");
      return g_strdup_printf ("Training: epoch %s of %s", epoch, epochs);
    case LAM_SESSION_PAUSED:
      return g_strdup_printf ("Paused in epoch %s of %s", epoch, epochs);
    case LAM_SESSION_FINISHED:
      return g_strdup_printf ("Finished %s epoch%s", epochs, n == 1 ? "" : "s");
    case LAM_SESSION_FAILED:
      return g_strdup ("Training failed");
    case LAM_SESSION_IDLE:
    default:
      if (self->has_last)
        return g_strdup_printf ("Stopped in epoch %s of %s", epoch, epochs);
      return g_strdup ("Ready to train");
    }
}

char *
lam_training_session_dup_status_detail (LamTrainingSession *self)
{
  const LamMetrics *m = &self->last;
  g_autofree char *step = NULL, *total = NULL, *rate = NULL, *time = NULL;

  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);

  if (self->state == LAM_SESSION_PREPARING)
    return g_strdup (self->preparing_what != NULL ? self->preparing_what : "");
  /* a failure's message: in the panel's problem box, not here again */
  if (!self->has_last)
    {
      if (self->data_ready)
        {
          g_autofree char *n_train = lam_format_count (self->data.train->n);
          g_autofree char *n_val = lam_format_count (self->data.val ? self->data.val->n : 0);
          return g_strdup_printf ("%s: %s training and %s validation samples", data_title (config (self)->data.name),
                                  n_train, n_val);
        }
      if ((self->data_key != NULL && self->data_error == NULL) || self->data_timeout_id != 0)
        return g_strdup_printf ("Loading %s…", data_title (config (self)->data.name));
      return g_strdup ("");
    }
  step = lam_format_count (m->step);
  total = lam_format_count (total_steps (self) + self->step_base);
  rate = lam_format_count ((gint64) (m->images_per_second + 0.5));
  switch (self->state)
    {
    case LAM_SESSION_RUNNING:
      time = format_duration (m->eta);
      return g_strdup_printf ("step %s of %s · %s images/s · %s left", step, total, rate, time);
    case LAM_SESSION_FINISHED:
      time = format_duration (m->elapsed);
      return g_strdup_printf ("%s steps · %s images/s · %s", step, rate, time);
    case LAM_SESSION_PAUSED:
    case LAM_SESSION_IDLE:
    default:
      return g_strdup_printf ("step %s of %s", step, total);
    }
}

char *
lam_training_session_dup_status_values (LamTrainingSession *self)
{
  const LamMetrics *m = &self->last;
  GString *s;

  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);

  if (!self->has_last || !isfinite (m->train_loss))
    return g_strdup ("");
  s = g_string_new (NULL);
  g_string_append_printf (s, "loss %.3f", m->train_loss);
  if (isfinite (m->train_accuracy))
    g_string_append_printf (s, " · accuracy %.1f%%", 100 * m->train_accuracy);
  if (isfinite (m->val_accuracy))
    g_string_append_printf (s, " · validation %.1f%%", 100 * m->val_accuracy);
  return g_string_free (s, FALSE);
}

double
lam_training_session_get_progress (LamTrainingSession *self)
{
  int total;

  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), -1);

  if (self->state == LAM_SESSION_FINISHED)
    return 1.0;
  if (!self->has_last)
    return self->state == LAM_SESSION_PREPARING ? 0.0 : -1.0;
  total = total_steps (self);
  return total > 0 ? CLAMP ((double) (self->last.step - self->step_base) / total, 0.0, 1.0) : -1.0;
}

char *
lam_training_session_dup_backend_text (LamTrainingSession *self)
{
  const char *want;

  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);

  if (self->run != NULL)
    {
      LamBackend *be = lam_trainer_backend (self->run->trainer);
      const char *note = lam_trainer_backend_note (self->run->trainer);
      g_autofree char *graphs = lam_trainer_dup_graph_status (self->run->trainer);
      if (note != NULL)
        return g_strdup_printf ("Training on: %s. CUDA is not used: %s", be->description, note);
      if (graphs != NULL)   /* "CUDA graphs: on, 120 steps replayed, 39 GPU operations a step" */
        return g_strdup_printf ("Training on: %s. %s", be->description, graphs);
      return g_strdup_printf ("Training on: %s", be->description);
    }
  want = config (self)->backend != NULL ? config (self)->backend : "auto";
  if (!cuda_probe_done)
    return g_strdup ("Looking for a CUDA GPU…");
  if (cuda_problem != NULL)
    return g_strdup_printf ("CUDA cannot be used: %s%s", cuda_problem,
                            g_ascii_strcasecmp (want, "cuda") == 0 ? "" : ". Training runs on the CPU.");
  return g_strdup_printf ("CUDA: %s", cuda_description != NULL ? cuda_description : "available");
}

/* ------------------------------------------------------------------ */
/* Control */

static gboolean
is_ended (LamSessionState s)
{
  return s == LAM_SESSION_IDLE || s == LAM_SESSION_FINISHED || s == LAM_SESSION_FAILED;
}

gboolean
lam_training_session_can_start (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return !self->shut_down && self->busy == 0 && is_ended (self->state) && self->start_problem == NULL;
}

gboolean
lam_training_session_can_pause (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return self->busy == 0 && self->state == LAM_SESSION_RUNNING && !self->pause_requested;
}

gboolean
lam_training_session_can_resume (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return self->busy == 0 && self->state == LAM_SESSION_PAUSED && self->start_problem == NULL;
}

gboolean
lam_training_session_can_step (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return !self->shut_down && self->busy == 0 && self->start_problem == NULL
         && (is_ended (self->state) || self->state == LAM_SESSION_PAUSED);
}

gboolean
lam_training_session_can_stop (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return (self->state == LAM_SESSION_PREPARING && !self->cancel_build)
         || (self->busy == 0 && (self->state == LAM_SESSION_RUNNING || self->state == LAM_SESSION_PAUSED));
}

gboolean
lam_training_session_can_reset (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return self->busy == 0 && self->run != NULL && self->start_problem == NULL
         && (is_ended (self->state) || self->state == LAM_SESSION_PAUSED);
}

gboolean
lam_training_session_can_save (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return self->run != NULL && self->state != LAM_SESSION_PREPARING;
}

gboolean
lam_training_session_can_load (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), FALSE);
  return !self->shut_down && self->busy == 0 && lam_network_get_valid (self->network)
         && (is_ended (self->state) || self->state == LAM_SESSION_PAUSED);
}

void
lam_training_session_start (LamTrainingSession *self)
{
  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));

  if (!lam_training_session_can_start (self))
    return;
  request (self, ACT_START);
}

void
lam_training_session_pause (LamTrainingSession *self)
{
  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));

  if (!lam_training_session_can_pause (self))
    return;
  self->pause_requested = TRUE;
  lam_trainer_pause (self->run->trainer);
  emit_changed (self);
}

void
lam_training_session_resume (LamTrainingSession *self)
{
  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));

  if (!lam_training_session_can_resume (self))
    return;
  if (self->stale || self->run == NULL)
    request (self, ACT_RESUME);
  else if (self->run->worker)
    {
      lam_trainer_set_lr (self->run->trainer, config (self)->opt.lr);
      lam_trainer_resume (self->run->trainer);
      set_state (self, LAM_SESSION_RUNNING);
    }
  else
    start_worker (self);
}

void
lam_training_session_step (LamTrainingSession *self)
{
  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));

  if (!lam_training_session_can_step (self))
    return;
  if (self->state == LAM_SESSION_PAUSED && self->run != NULL && !self->stale)
    {
      if (self->run->worker)
        lam_trainer_single_step (self->run->trainer);   /* the worker says PAUSED again after it */
      else
        step_task_start (self);
      return;
    }
  /* edited while paused: rebuild, keeping the weights, then step */
  request (self, self->state == LAM_SESSION_PAUSED && self->run != NULL ? ACT_STEP_ON : ACT_STEP);
}

void
lam_training_session_stop (LamTrainingSession *self)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));

  if (!lam_training_session_can_stop (self))
    return;
  if (self->state == LAM_SESSION_PREPARING)
    {
      /* the data load or the build goes on; its result is not used */
      self->pending = ACT_NONE;
      finish_pending_load (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped"));
      if (self->busy > 0)
        {
          self->cancel_build = TRUE;
          emit_changed (self);
        }
      else
        set_state (self, LAM_SESSION_IDLE);
      return;
    }
  if (!self->run->worker)
    {
      set_state (self, LAM_SESSION_IDLE);
      return;
    }
  /* lam_trainer_stop waits for the step in progress: not on this thread */
  self->run->worker = FALSE;
  self->busy++;
  task = g_task_new (self, NULL, stop_done, NULL);
  g_task_set_task_data (task, run_ref (self->run), run_unref);
  g_task_run_in_thread (task, stop_thread);
  emit_changed (self);
}

void
lam_training_session_reset_weights (LamTrainingSession *self)
{
  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));

  if (!lam_training_session_can_reset (self))
    return;
  request (self, ACT_RESET);
}

/* ------------------------------------------------------------------ */
/* Checkpoints */

static void
save_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  FileJob *job = data;
  GError *error = NULL;

  if (lam_trainer_save (job->run->trainer, job->path, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
lam_training_session_save_weights (LamTrainingSession *self, GFile *file, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer data)
{
  g_autoptr(GTask) task = NULL;
  FileJob *job;

  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, data);
  g_task_set_source_tag (task, lam_training_session_save_weights);
  if (!lam_training_session_can_save (self))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               "There are no trained weights yet: train first");
      return;
    }
  job = g_new0 (FileJob, 1);
  job->path = g_file_get_path (file);
  if (job->path == NULL)
    {
      file_job_free (job);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Only local files can be written");
      return;
    }
  job->run = run_ref (self->run);
  g_task_set_task_data (task, job, file_job_free);
  g_task_run_in_thread (task, save_thread);
}

gboolean
lam_training_session_save_weights_finish (LamTrainingSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
lam_training_session_load_weights (LamTrainingSession *self, GFile *file, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, data);
  g_task_set_source_tag (task, lam_training_session_load_weights);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  if (!lam_training_session_can_load (self))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY,
                               "Weights can be loaded when training is paused or stopped");
      return;
    }
  if (!g_file_is_native (file))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Only local files can be read");
      return;
    }
  self->pending_load = g_steal_pointer (&task);
  request (self, ACT_LOAD);
}

gboolean
lam_training_session_load_weights_finish (LamTrainingSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ */
/* What the views draw */

const LamGraph *
lam_training_session_get_graph (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);
  return self->run != NULL ? lam_net_graph (lam_trainer_net (self->run->trainer)) : NULL;
}

LamDataset *
lam_training_session_get_train_set (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);
  return self->run != NULL ? self->run->data.train : NULL;
}

LamTrainer *
lam_training_session_get_trainer (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);
  return self->run != NULL ? self->run->trainer : NULL;
}

LamDataset *
lam_training_session_get_view_set (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), NULL);
  return self->run != NULL ? self->run->view_set : NULL;
}

int
lam_training_session_get_grid_size (LamTrainingSession *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_SESSION (self), 0);
  return self->run != NULL && self->run->grid != NULL ? lam_view_grid_get_size (self->run->grid) : 0;
}

typedef struct {
  Run               *run;
  LamSnapshotRequest req;
  LamSnapshot       *snap;
} SnapJob;

static void
snap_job_free (gpointer data)
{
  SnapJob *job = data;

  run_unref (job->run);
  g_free (job->req.weights_node);
  g_free (job->req.units_node);
  g_clear_pointer (&job->snap, lam_snapshot_free);
  g_free (job);
}

/* Keeps the first failed copy's message for the views; the others only
 * for G_MESSAGES_DEBUG. */
static void
snapshot_problem (LamSnapshot *s, const char *what, const GError *error)
{
  g_debug ("%s: %s", what, error->message);
  if (s->problem == NULL)
    s->problem = g_strdup_printf ("%s: %s", what, error->message);
}

void
lam_snapshot_free (LamSnapshot *s)
{
  Run *run;

  if (s == NULL)
    return;
  run = s->run;
  if (s->acts != NULL)
    lam_trainer_free_activations (run->trainer, s->acts);
  g_free (s->weights_node);
  g_free (s->weights);
  g_free (s->probs);
  g_free (s->pred);
  g_free (s->field);
  g_free (s->units);
  g_free (s->units_node);
  lam_seq_trace_free (s->trace);
  g_free (s->att);
  g_free (s->att_node);
  g_free (s->problem);
  g_clear_pointer (&s->view_set, lam_dataset_unref);
  g_free (s);
  run_unref (run);
}

static void
snapshot_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SnapJob *job = data;
  Run *run = job->run;
  LamTrainer *t = run->trainer;
  LamSnapshot *s = g_new0 (LamSnapshot, 1);
  const LamGraph *g = lam_net_graph (lam_trainer_net (t));
  LamDataset *vs = run->view_set;
  g_autoptr(GError) error = NULL;

  s->run = run_ref (run);
  s->graph = g;
  s->view_set = vs != NULL ? lam_dataset_ref (vs) : NULL;
  s->sample = -1;
  /* every copy below from this one step */
  s->step = lam_trainer_views_hold (t);

  if ((job->req.what & LAM_SNAPSHOT_WEIGHTS) && job->req.weights_node != NULL)
    {
      s->weights = lam_view_copy_weights (t, job->req.weights_node, &s->ndim, s->shape, &s->in_c, &s->in_h, &s->in_w);
      if (s->weights != NULL)
        {
          s->weights_node = g_strdup (job->req.weights_node);
          s->what |= LAM_SNAPSHOT_WEIGHTS;
        }
    }
  if ((job->req.what & LAM_SNAPSHOT_ACTIVATIONS) && vs != NULL && job->req.sample >= 0 && job->req.sample < vs->n)
    {
      s->acts = lam_trainer_activations (t, vs, job->req.sample, &error);
      if (s->acts != NULL)
        {
          s->sample = job->req.sample;
          s->probs = lam_view_probabilities (g, s->acts, &s->n_classes);
          s->what |= LAM_SNAPSHOT_ACTIVATIONS;
        }
      else
        snapshot_problem (s, "Activations", error);
      g_clear_error (&error);
    }
  if ((job->req.what & LAM_SNAPSHOT_PREDICTIONS) && vs != NULL && vs->n > 0)
    {
      s->pred = lam_view_predict (t, vs, &error);
      if (s->pred != NULL)
        s->what |= LAM_SNAPSHOT_PREDICTIONS;
      else
        snapshot_problem (s, "Predictions", error);
      g_clear_error (&error);
    }
  if ((job->req.what & LAM_SNAPSHOT_FIELD) && run->grid != NULL)
    {
      const LamNode *logits = lam_view_logits_node (g);
      const LamNode *hidden = job->req.units_node != NULL ? lam_graph_find (g, job->req.units_node)
                                                          : lam_view_hidden_node (g);
      int nc = logits != NULL ? (int) lam_shape_size (&logits->out_shape) : 0;

      s->grid = lam_view_grid_get_size (run->grid);
      s->field_classes = nc;
      lam_view_grid_get_bounds (run->grid, &s->xmin, &s->xmax, &s->ymin, &s->ymax);
      s->units_node = hidden != NULL ? g_strdup (hidden->name) : NULL;
      s->field = nc > 0 ? g_new (float, (gsize) s->grid * s->grid * nc) : NULL;
      if (s->field != NULL
          && lam_view_grid_evaluate (t, run->grid, s->field, nc, s->units_node,
                                     s->units_node != NULL ? &s->units : NULL,
                                     s->units_node != NULL ? &s->n_units : NULL, &error))
        s->what |= LAM_SNAPSHOT_FIELD;
      else
        {
          if (error != NULL)
            snapshot_problem (s, "Decision field", error);
          g_clear_pointer (&s->field, g_free);
        }
    }
  if ((job->req.what & LAM_SNAPSHOT_SEQUENCE) && vs != NULL && job->req.sample >= 0 && job->req.sample < vs->n)
    {
      const LamNode *node = lam_seq_view_recurrent_node (g);
      if (node != NULL)
        {
          s->trace = lam_seq_trace_from_trainer (t, vs, job->req.sample, node->name, NULL, &error);
          if (s->trace != NULL)
            {
              s->sample = job->req.sample;
              s->what |= LAM_SNAPSHOT_SEQUENCE;
            }
          else
            snapshot_problem (s, "Hidden states", error);
          g_clear_error (&error);
        }
    }
  if ((job->req.what & LAM_SNAPSHOT_ATTENTION) && vs != NULL && job->req.sample >= 0 && job->req.sample < vs->n)
    {
      const LamNode *node = lam_seq_view_attention_node (g);
      if (node != NULL)
        {
          s->att = lam_seq_attention_for_sample (t, vs, job->req.sample, node->name, &s->att_heads,
                                                 &s->att_steps, &error);
          if (s->att != NULL)
            {
              s->sample = job->req.sample;
              s->att_node = g_strdup (node->name);
              s->what |= LAM_SNAPSHOT_ATTENTION;
            }
          else
            snapshot_problem (s, "Attention weights", error);
          g_clear_error (&error);
        }
    }
  lam_trainer_views_release (t);
  job->snap = s;
  g_task_return_boolean (task, TRUE);
}

void
lam_training_session_snapshot (LamTrainingSession *self, const LamSnapshotRequest *request,
                               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer data)
{
  g_autoptr(GTask) task = NULL;
  SnapJob *job;

  g_return_if_fail (LAM_IS_TRAINING_SESSION (self));
  g_return_if_fail (request != NULL);

  task = g_task_new (self, cancellable, callback, data);
  g_task_set_source_tag (task, lam_training_session_snapshot);
  if (self->run == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  job = g_new0 (SnapJob, 1);
  job->run = run_ref (self->run);
  job->req.what = request->what;
  job->req.sample = request->sample;
  job->req.weights_node = g_strdup (request->weights_node);
  job->req.units_node = g_strdup (request->units_node);
  g_task_set_task_data (task, job, snap_job_free);
  g_task_run_in_thread (task, snapshot_thread);
}

LamSnapshot *
lam_training_session_snapshot_finish (LamTrainingSession *self, GAsyncResult *result, GError **error)
{
  SnapJob *job;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  job = g_task_get_task_data (G_TASK (result));
  return job != NULL ? g_steal_pointer (&job->snap) : NULL;
}
