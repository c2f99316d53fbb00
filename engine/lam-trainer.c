/* lam-trainer.c: the training loop, its worker thread and checkpoints.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-trainer"

#include "config.h"

#include <math.h>
#include <string.h>

#include "lam-trainer.h"
#include "lam-rng.h"
#include "lam-safetensors.h"
#include "lam-seq.h"

typedef struct {
  LamDataset *ds;
  guint8     *images;   /* backend memory */
  float      *data;
  guint8     *labels;
  float      *targets;  /* numeric targets of a regression set, or NULL */
} DevData;

typedef struct {
  int     batch;
  LamNet *net;
} SharedNet;

/* Where forward passes run: the trainer's backend and nets, or the
 * views' mirror of them. */
typedef struct {
  LamBackend *be;
  LamNet     *net;       /* owns the parameters */
  int         batch;     /* net's; 0: run only nets made from it (unfused) */
  GArray     *dev;       /* DevData: datasets in be's memory */
  GArray     *shared;    /* SharedNet: nets of other batch sizes */
} Place;

/* The views' copies (lam_trainer_views_hold). */
typedef struct {
  GRecMutex   lock;        /* one view thread at a time, for a whole hold */
  int         holds;       /* nested holds of the lock's owner */
  gboolean    has_lock;    /* the hold keeps the trainer's lock (no mirror) */
  GThread    *lock_owner;  /* then its thread (atomic) */
  int         step;        /* the step the held weights come from */
  gboolean    want_mirror;
  Place       mirror;      /* be == NULL: none (yet) */
  gboolean    broken;      /* the mirror failed: dropped after the hold, not remade */
  char       *no_mirror;   /* why there will be none */
} Views;

struct _LamTrainer {
  LamTrainConfig cfg;
  LamBackend    *be;
  char          *backend_note;
  LamNet        *net;
  LamOptimizer  *opt;
  LamDataSplits  data;
  GArray        *dev;          /* DevData */
  GArray        *shared;       /* SharedNet: eval nets of other batch sizes */
  Views          views;

  int            batch;
  int            steps_per_epoch;
  int            epoch;         /* current (0-based); == epochs when done */
  int            step_in_epoch; /* steps done in the current epoch */
  int            global_step;
  gint32        *perm;
  float          lr;
  double         epoch_loss, epoch_correct;
  int            epoch_seen;

  guint64        graph_key;     /* a new one when a recorded step would go stale */
  gboolean       graphs;        /* bracket steps for the backend (step_begin) */
  char          *graph_status;  /* the backend's, after the last step (ctl_lock) */

  double         elapsed;       /* seconds of training steps, this run */
  gint64         run_images;

  /* worker thread */
  GMutex         lock;          /* held for a whole step; copies take it */
  gint64         waited_us;     /* the worker's waits for that lock (ctl_lock) */
  int            readers;       /* callers waiting for the lock (atomic) */
  GMutex         ctl_lock;      /* guards the control flags below */
  GCond          ctl_cond;
  GThread       *thread;
  LamTrainerState state;
  gboolean       pause_req, stop_req;
  int            single_steps;
  float          new_lr;        /* > 0: change before the next step */
  LamMetricsFunc metrics_cb;
  LamStateFunc   state_cb;
  gpointer       cb_data;
};

/* Callers other than the worker take the lock through here: the worker
 * lets them in before its next step, so a copy waits at most one step
 * (GMutex is not fair, and the worker would otherwise retake it at once). */
static void
reader_lock (LamTrainer *t)
{
  /* a hold without a mirror keeps the lock: taking it again would hang */
  if (G_UNLIKELY (g_atomic_pointer_get (&t->views.lock_owner) == g_thread_self ()))
    g_error ("a trainer call that waits for the training's lock (a step, an evaluation, a save or load, "
             "a weights reset) made within lam_trainer_views_hold, which keeps that lock on the CPU");
  g_atomic_int_inc (&t->readers);
  g_mutex_lock (&t->lock);
  g_atomic_int_dec_and_test (&t->readers);
}

static void
worker_lock (LamTrainer *t)
{
  if (g_atomic_int_get (&t->readers) == 0 && g_mutex_trylock (&t->lock))
    return;
  gint64 t0 = g_get_monotonic_time ();
  for (int i = 0; g_atomic_int_get (&t->readers) > 0 && i < 20000; i++)
    g_usleep (50);
  g_mutex_lock (&t->lock);
  gint64 waited = g_get_monotonic_time () - t0;
  g_mutex_lock (&t->ctl_lock);
  t->waited_us += waited;
  g_mutex_unlock (&t->ctl_lock);
}

void
lam_train_config_init (LamTrainConfig *c)
{
  memset (c, 0, sizeof *c);
  lam_data_spec_init (&c->data);
  lam_opt_config_init (&c->opt);
  c->epochs = 3;
  c->batch = 64;
  c->seed = 1;
  c->backend = g_strdup ("auto");
  c->threads = 0;
}

void
lam_train_config_clear (LamTrainConfig *c)
{
  lam_data_spec_clear (&c->data);
  g_clear_pointer (&c->backend, g_free);
}

void
lam_train_config_copy (LamTrainConfig *dst, const LamTrainConfig *src)
{
  *dst = *src;
  lam_data_spec_copy (&dst->data, &src->data);
  dst->backend = g_strdup (src->backend);
}

gboolean
lam_train_config_check (const LamTrainConfig *c, GError **error)
{
  if (c->epochs < 1 || c->epochs > 100000)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "epochs %d is out of range (1 to 100000)", c->epochs);
      return FALSE;
    }
  if (c->batch < 1 || c->batch > 65536)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "batch %d is out of range (1 to 65536)", c->batch);
      return FALSE;
    }
  if (c->threads < 0 || c->threads > 256)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "threads %d is out of range (0 to 256)", c->threads);
      return FALSE;
    }
  if (c->backend && g_ascii_strcasecmp (c->backend, "cpu") != 0 &&
      g_ascii_strcasecmp (c->backend, "cuda") != 0 && g_ascii_strcasecmp (c->backend, "auto") != 0)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "backend \"%s\" is unknown (cpu, cuda or auto)", c->backend);
      return FALSE;
    }
  return lam_opt_config_check (&c->opt, error);
}

#define MAX_EXTRA_DATASETS 4

static Place
own_place (LamTrainer *t)
{
  return (Place) { t->be, t->net, t->batch, t->dev, t->shared };
}

static void
dev_data_clear (LamBackend *be, DevData *d)
{
  if (d->images)
    be->ops->free (be, d->images);
  if (d->data)
    be->ops->free (be, d->data);
  if (d->labels)
    be->ops->free (be, d->labels);
  if (d->targets)
    be->ops->free (be, d->targets);
  lam_dataset_unref (d->ds);
}

/* ds in the memory of p's backend, uploaded once */
static DevData *
dev_data (LamTrainer *t, const Place *p, LamDataset *ds, GError **error)
{
  GArray *dev = p->dev;
  for (guint i = 0; i < dev->len; i++)
    if (g_array_index (dev, DevData, i).ds == ds)
      return &g_array_index (dev, DevData, i);

  LamBackend *be = p->be;

  /* Keep the run's own sets; of the others (a view's grid of points, a
   * picked sample set) only the few most recent, or memory would grow. */
  guint extras = 0, oldest = 0;
  for (guint i = 0; i < dev->len; i++)
    {
      LamDataset *o = g_array_index (dev, DevData, i).ds;
      if (o != t->data.train && o != t->data.val && o != t->data.test && extras++ == 0)
        oldest = i;
    }
  if (extras >= MAX_EXTRA_DATASETS)
    {
      dev_data_clear (be, &g_array_index (dev, DevData, oldest));
      g_array_remove_index (dev, oldest);
    }

  DevData d = { lam_dataset_ref (ds), NULL, NULL, NULL, NULL };
  gsize n = (gsize) ds->n * lam_dataset_sample_size (ds);
  gboolean ok;
  if (ds->images)
    ok = (d.images = be->ops->alloc (be, MAX (n, 1))) != NULL;
  else
    ok = (d.data = be->ops->alloc (be, MAX (n, 1) * sizeof (float))) != NULL;
  ok = ok && (d.labels = be->ops->alloc (be, MAX (ds->n, 1))) != NULL;
  if (ok && ds->targets)
    ok = (d.targets = be->ops->alloc (be, MAX ((gsize) ds->n * ds->n_targets, 1) * sizeof (float))) != NULL;
  if (!ok)
    {
      g_autofree char *what = g_strdup_printf ("the dataset %s", ds->name);
      gsize bytes = n * (ds->images ? 1 : sizeof (float)) + ds->n +
                    (ds->targets ? (gsize) ds->n * ds->n_targets * sizeof (float) : 0);
      lam_backend_set_out_of_memory (be, error, bytes, what);
      if (d.images) be->ops->free (be, d.images);
      if (d.data) be->ops->free (be, d.data);
      if (d.labels) be->ops->free (be, d.labels);
      lam_dataset_unref (ds);
      return NULL;
    }
  if (ds->images)
    be->ops->upload (be, d.images, ds->images, n);
  else
    be->ops->upload (be, d.data, ds->data, n * sizeof (float));
  be->ops->upload (be, d.labels, ds->labels, ds->n);
  if (d.targets)
    be->ops->upload (be, d.targets, ds->targets, (gsize) ds->n * ds->n_targets * sizeof (float));
  g_array_append_val (dev, d);
  return &g_array_index (dev, DevData, dev->len - 1);
}

/* net's input batch from d, on net's backend */
static void
gather (LamNet *net, DevData *d, const gint32 *idx, int B)
{
  LamBackend *be = lam_net_backend (net);
  LamDataset *ds = d->ds;
  int n = (int) lam_dataset_sample_size (ds);
  if (d->images)
    be->ops->gather_u8 (be, lam_net_input (net), lam_net_labels (net), d->images, d->labels,
                        idx, B, n, ds->mean, ds->std);
  else
    be->ops->gather_f32 (be, lam_net_input (net), lam_net_labels (net), d->data, d->labels,
                         idx, B, n);
  /* a regression set: the MSE loss compares with its numeric targets */
  if (d->targets && lam_net_set_use_targets (net, TRUE))
    be->ops->gather_rows (be, lam_net_targets (net), d->targets, idx, B, ds->n_targets);
}

/* Frees p's nets and datasets, not its backend. */
static void
place_clear (Place *p)
{
  if (p->shared != NULL)
    {
      for (guint i = 0; i < p->shared->len; i++)
        lam_net_free (g_array_index (p->shared, SharedNet, i).net);
      g_clear_pointer (&p->shared, g_array_unref);
    }
  if (p->dev != NULL)
    {
      for (guint i = 0; i < p->dev->len; i++)
        dev_data_clear (p->be, &g_array_index (p->dev, DevData, i));
      g_clear_pointer (&p->dev, g_array_unref);
    }
  g_clear_pointer (&p->net, lam_net_free);
}

static void
mirror_free (Place *m)
{
  if (m->be == NULL)
    return;
  place_clear (m);
  g_clear_pointer (&m->be, lam_backend_free);
}

/* Keys for the backend's recorded steps: a step recorded under one key
 * stays valid until the pointers or the op sequence change (weights
 * reset, optimizer state reloaded), which take a new key. */
static guint64
new_graph_key (void)
{
  static gint counter;
  return (guint64) g_atomic_int_add (&counter, 1) + 1;
}

static LamNet *
net_for_batch (const Place *p, int batch, GError **error)
{
  if (batch == p->batch)
    return p->net;
  for (guint i = 0; i < p->shared->len; i++)
    if (g_array_index (p->shared, SharedNet, i).batch == batch)
      return g_array_index (p->shared, SharedNet, i).net;
  LamNet *net = lam_net_new_shared (p->net, batch, error);
  if (net == NULL)
    return NULL;
  SharedNet s = { batch, net };
  g_array_append_val (p->shared, s);
  return net;
}

static gboolean
check_data (const LamGraph *g, const LamDataSplits *data, GError **error)
{
  LamNode *in = lam_graph_input_node (g), *loss = lam_graph_loss_node (g);
  char a[64], b[64];
  LamDataset *ds = data->train;
  if (ds == NULL || ds->n == 0)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "the training set is empty");
      return FALSE;
    }
  if (lam_shape_size (&in->out_shape) != (gint64) lam_dataset_sample_size (ds))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH,
                   "node \"%s\": the network takes %s values per sample but %s has %s",
                   in->name, lam_shape_to_string (&in->out_shape, a, sizeof a), ds->name,
                   lam_shape_to_string (&ds->shape, b, sizeof b));
      return FALSE;
    }
  LamNode *logits = lam_graph_find (g, g_ptr_array_index (loss->inputs, 0));
  gint64 n_out = lam_shape_size (&logits->out_shape);
  if (ds->targets != NULL && (loss->kind != LAM_LAYER_MSE || n_out != ds->n_targets))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH,
                   "node \"%s\": %s has %d numeric target%s per sample: end the network with %d output%s "
                   "and an MSE loss", loss->kind == LAM_LAYER_MSE ? logits->name : loss->name, ds->name,
                   ds->n_targets, ds->n_targets == 1 ? "" : "s", ds->n_targets, ds->n_targets == 1 ? "" : "s");
      return FALSE;
    }
  if (n_out < ds->n_classes)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH,
                   "node \"%s\": gives %" G_GINT64_FORMAT " outputs but %s has %d classes",
                   logits->name, n_out, ds->name, ds->n_classes);
      return FALSE;
    }
  return TRUE;
}

/* The network on the trainer's backend, and the training set in that
 * backend's memory. */
static LamNet *
net_with_data (LamTrainer *t, const LamGraph *g, GError **error)
{
  LamNet *net = lam_net_new (g, t->be, t->batch, error);
  if (net == NULL)
    return NULL;
  Place p = { t->be, net, t->batch, t->dev, t->shared };
  gboolean ok = dev_data (t, &p, t->data.train, error) != NULL;
  /* The evaluations' sets and last, smaller batches too, now rather than
   * at the first epoch's end: on a GPU the views' mirror may have taken
   * the memory by then, and a run that starts should not fail later. */
  LamDataset *evals[2] = { t->data.val, t->data.test };
  for (int i = 0; ok && i < 2; i++)
    if (evals[i] != NULL && evals[i]->n > 0)
      ok = dev_data (t, &p, evals[i], error) != NULL &&
           (evals[i]->n % t->batch == 0 || net_for_batch (&p, evals[i]->n % t->batch, error) != NULL);
  if (!ok)
    {
      /* all of it, as the caller may try another backend */
      p.net = NULL;
      place_clear (&p);
      t->dev = g_array_new (FALSE, TRUE, sizeof (DevData));
      t->shared = g_array_new (FALSE, TRUE, sizeof (SharedNet));
      g_clear_pointer (&net, lam_net_free);
    }
  return net;
}

LamTrainer *
lam_trainer_new (const LamGraph *graph, const LamTrainConfig *cfg, const LamDataSplits *data,
                 GError **error)
{
  g_autoptr(GError) net_error = NULL;   /* declared before any goto fail */
  if (!lam_train_config_check (cfg, error))
    return NULL;
  g_autoptr(LamGraph) g = lam_graph_copy (graph);
  if (!lam_graph_validate (g, error) || !check_data (g, data, error))
    return NULL;

  LamTrainer *t = g_new0 (LamTrainer, 1);
  lam_train_config_copy (&t->cfg, cfg);
  g_mutex_init (&t->lock);
  g_mutex_init (&t->ctl_lock);
  g_cond_init (&t->ctl_cond);
  g_rec_mutex_init (&t->views.lock);
  t->dev = g_array_new (FALSE, TRUE, sizeof (DevData));
  t->shared = g_array_new (FALSE, TRUE, sizeof (SharedNet));
  t->data.train = lam_dataset_ref (data->train);
  t->data.val = data->val ? lam_dataset_ref (data->val) : NULL;
  t->data.test = data->test ? lam_dataset_ref (data->test) : NULL;

  t->be = lam_backend_new (cfg->backend, cfg->threads, &t->backend_note, error);
  if (t->be == NULL)
    goto fail;
  t->batch = MIN (cfg->batch, t->data.train->n);
  t->net = net_with_data (t, g, &net_error);
  if (t->net == NULL && g_ascii_strcasecmp (cfg->backend, "auto") == 0 &&
      strcmp (t->be->name, "cpu") != 0 &&
      (g_error_matches (net_error, LAM_ERROR, LAM_ERROR_UNSUPPORTED) ||
       g_error_matches (net_error, LAM_ERROR, LAM_ERROR_BACKEND)))
    {
      /* "auto": a GPU that lacks an op, or the memory for the network or
       * the training set, still trains on the CPU */
      g_free (t->backend_note);
      t->backend_note = g_strdup (net_error->message);
      lam_backend_free (t->be);
      t->be = lam_backend_new_cpu (cfg->threads);
      g_clear_error (&net_error);
      t->net = net_with_data (t, g, &net_error);
    }
  if (t->net == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&net_error));
      goto fail;
    }
  lam_net_init_params (t->net, cfg->seed);
  t->opt = lam_optimizer_new (&cfg->opt, t->be, lam_net_n_params (t->net));
  t->steps_per_epoch = t->data.train->n / t->batch;
  t->perm = g_new (gint32, t->data.train->n);
  t->lr = cfg->opt.lr;
  t->graph_key = new_graph_key ();
  /* LAMINA_PROFILE times each node, waiting for the device after each */
  t->graphs = t->be->ops->step_begin != NULL && g_strcmp0 (g_getenv ("LAMINA_PROFILE"), "1") != 0;
  /* the views' mirror: on a GPU (see lam_trainer_views_hold) */
  const char *mirror = g_getenv ("LAMINA_VIEW_MIRROR");
  t->views.want_mirror = mirror != NULL ? strcmp (mirror, "1") == 0 : strcmp (t->be->name, "cpu") != 0;
  t->state = LAM_TRAINER_IDLE;
  return t;

fail:
  lam_trainer_free (t);
  return NULL;
}

void
lam_trainer_free (LamTrainer *t)
{
  if (t == NULL)
    return;
  lam_trainer_stop (t);
  mirror_free (&t->views.mirror);
  g_free (t->views.no_mirror);
  g_rec_mutex_clear (&t->views.lock);
  Place own = own_place (t);
  place_clear (&own);
  lam_optimizer_free (t->opt);
  lam_backend_free (t->be);
  lam_data_splits_clear (&t->data);
  lam_train_config_clear (&t->cfg);
  g_free (t->backend_note);
  g_free (t->graph_status);
  g_free (t->perm);
  g_mutex_clear (&t->lock);
  g_mutex_clear (&t->ctl_lock);
  g_cond_clear (&t->ctl_cond);
  g_free (t);
}

LamNet *lam_trainer_net (LamTrainer *t) { return t->net; }
LamBackend *lam_trainer_backend (LamTrainer *t) { return t->be; }
const char *lam_trainer_backend_note (LamTrainer *t) { return t->backend_note; }

char *
lam_trainer_dup_graph_status (LamTrainer *t)
{
  g_mutex_lock (&t->ctl_lock);
  char *s = g_strdup (t->graph_status);
  g_mutex_unlock (&t->ctl_lock);
  return s;
}
const LamTrainConfig *lam_trainer_config (LamTrainer *t) { return &t->cfg; }
int lam_trainer_steps_per_epoch (LamTrainer *t) { return t->steps_per_epoch; }
int lam_trainer_epoch (LamTrainer *t) { return t->epoch; }
int lam_trainer_step_count (LamTrainer *t) { return t->global_step; }
gboolean lam_trainer_done (LamTrainer *t) { return t->epoch >= t->cfg.epochs; }

static void
make_perm (LamTrainer *t)
{
  LamRng rng;
  int n = t->data.train->n;
  for (int i = 0; i < n; i++)
    t->perm[i] = i;
  lam_rng_init (&rng, t->cfg.seed, 7000 + (guint64) t->epoch);
  lam_rng_shuffle (&rng, t->perm, n);
}

/* FALSE with the backend's error, when an op failed (a layer's working
 * memory that could not grow, say): what it computed is not to be used */
static gboolean
be_ok (LamBackend *be, GError **error)
{
  return be->ops->status == NULL || be->ops->status (be, error);
}

static gboolean
backend_ok (LamTrainer *t, GError **error)
{
  return be_ok (t->be, error);
}

/* Loss, accuracy and class predictions over ds on p's nets, in batches
 * of the trainer's size (evaluation mode). */
static gboolean
evaluate_on (LamTrainer *t, const Place *p, LamDataset *ds, double *loss, double *accuracy, gint32 *pred,
             GError **error)
{
  DevData *d = dev_data (t, p, ds, error);
  if (d == NULL)
    return FALSE;
  double loss_sum = 0, correct = 0;
  g_autofree gint32 *idx = g_new (gint32, t->batch);
  for (int start = 0; start < ds->n; start += t->batch)
    {
      int B = MIN (t->batch, ds->n - start);
      LamNet *net = net_for_batch (p, B, error);
      if (net == NULL)
        return FALSE;
      for (int i = 0; i < B; i++)
        idx[i] = start + i;
      gather (net, d, idx, B);
      lam_net_stats_reset (net);
      lam_net_forward (net, FALSE, 0);
      double l, c;
      lam_net_stats_read (net, &l, &c);
      loss_sum += l;
      correct += c;
      if (pred)
        {
          const LamGraph *g = lam_net_graph (net);
          LamNode *loss_node = lam_graph_loss_node (g);
          int li = lam_graph_index_of (g, g_ptr_array_index (loss_node->inputs, 0));
          LamNode *ln = g_ptr_array_index (g->nodes, li);
          int nc = (int) lam_shape_size (&ln->out_shape);
          g_autofree float *out = g_new (float, (gsize) B * nc);
          lam_net_read_output (net, li, out);
          for (int b = 0; b < B; b++)
            {
              int best = 0;
              for (int k = 1; k < nc; k++)
                if (out[(gsize) b * nc + k] > out[(gsize) b * nc + best])
                  best = k;
              pred[start + b] = best;
            }
        }
    }
  if (!be_ok (p->be, error))
    return FALSE;
  if (loss)
    *loss = ds->n ? loss_sum / ds->n : NAN;
  if (accuracy)
    *accuracy = ds->n ? correct / ds->n : NAN;
  return TRUE;
}

gboolean
lam_trainer_evaluate (LamTrainer *t, LamDataset *ds, double *loss, double *accuracy, GError **error)
{
  reader_lock (t);
  Place own = own_place (t);
  gboolean ok = evaluate_on (t, &own, ds, loss, accuracy, NULL, error);
  g_mutex_unlock (&t->lock);
  return ok;
}

static gboolean
step_locked (LamTrainer *t, LamMetrics *m, GError **error)
{
  if (lam_trainer_done (t))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "training has finished (%d epochs)",
                   t->cfg.epochs);
      return FALSE;
    }
  gint64 t0 = g_get_monotonic_time ();
  int B = t->batch;
  if (t->step_in_epoch == 0)
    {
      make_perm (t);
      t->epoch_loss = t->epoch_correct = 0;
      t->epoch_seen = 0;
    }
  DevData *d = &g_array_index (t->dev, DevData, 0);
  guint64 dseed = t->cfg.seed * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15) + (guint64) t->global_step;
  double epoch_f = t->epoch + (double) t->step_in_epoch / t->steps_per_epoch;
  float lr = lam_opt_schedule_lr (&t->cfg.opt, t->lr, epoch_f, t->cfg.epochs);
  const LamBackendOps *o = t->be->ops;
  int opt_t = t->opt->t;
  gboolean graphed = t->graphs;
  for (;;)
    {
      /* the step's device work: the same ops every step, which a
       * backend may record once and replay (step_begin) */
      if (graphed)
        o->step_begin (t->be, t->graph_key);
      gather (t->net, d, t->perm + (gsize) t->step_in_epoch * B, B);
      lam_net_stats_reset (t->net);
      lam_net_forward (t->net, TRUE, dseed);
      lam_net_backward (t->net);
      gboolean ok = lam_optimizer_step (t->opt, lam_net_params (t->net), lam_net_grads (t->net), lr, error);
      if (!graphed || o->step_end (t->be))
        {
          if (!ok)
            {
              /* the backend's own error came first (a layer out of
               * memory, say): tell that one */
              GError *first = NULL;
              if (!backend_ok (t, &first))
                {
                  g_clear_error (error);
                  g_propagate_error (error, first);
                }
              return FALSE;
            }
          break;
        }
      /* the recording failed and nothing ran: again, op by op */
      g_clear_error (error);
      t->opt->t = opt_t;
      graphed = t->graphs = FALSE;
    }
  if (o->graph_status)
    {
      /* for other threads (the window): the backend's is the worker's */
      char *status = o->graph_status (t->be, NULL);
      g_mutex_lock (&t->ctl_lock);
      char *old = t->graph_status;
      t->graph_status = status;
      g_mutex_unlock (&t->ctl_lock);
      g_free (old);
    }

  double loss, correct;
  lam_net_stats_read (t->net, &loss, &correct);
  if (!backend_ok (t, error))
    return FALSE;
  if (!isfinite (loss))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_DIVERGED,
                   "training diverged: the loss became %s at epoch %d, step %d; "
                   "lower the learning rate (now %g) and reset the weights",
                   isnan (loss) ? "NaN" : "infinite", t->epoch + 1, t->step_in_epoch + 1, lr);
      return FALSE;
    }
  t->epoch_loss += loss;
  t->epoch_correct += correct;
  t->epoch_seen += B;
  t->step_in_epoch++;
  t->global_step++;
  t->run_images += B;

  LamMetrics mm = { 0 };
  mm.epoch = t->epoch;
  mm.step = t->global_step;
  mm.step_in_epoch = t->step_in_epoch;
  mm.steps_per_epoch = t->steps_per_epoch;
  mm.batch_loss = loss / B;
  mm.batch_accuracy = correct / B;
  mm.train_loss = t->epoch_loss / t->epoch_seen;
  mm.train_accuracy = t->epoch_correct / t->epoch_seen;
  mm.lr = lr;
  mm.val_loss = mm.val_accuracy = NAN;

  if (t->step_in_epoch >= t->steps_per_epoch)
    {
      mm.epoch_end = TRUE;
      /* training time excludes the validation pass */
      t->elapsed += (g_get_monotonic_time () - t0) / 1e6;
      Place own = own_place (t);
      if (t->data.val && t->data.val->n > 0 &&
          !evaluate_on (t, &own, t->data.val, &mm.val_loss, &mm.val_accuracy, NULL, error))
        return FALSE;
      t0 = g_get_monotonic_time ();
      t->epoch++;
      t->step_in_epoch = 0;
    }
  t->elapsed += (g_get_monotonic_time () - t0) / 1e6;
  mm.elapsed = t->elapsed;
  mm.images_per_second = t->elapsed > 0 ? t->run_images / t->elapsed : 0;
  gint64 left = (gint64) t->cfg.epochs * t->steps_per_epoch - t->global_step;
  mm.eta = mm.images_per_second > 0 ? left * (double) B / mm.images_per_second : 0;
  if (m)
    *m = mm;
  return TRUE;
}

gboolean
lam_trainer_step (LamTrainer *t, LamMetrics *out, GError **error)
{
  reader_lock (t);
  gboolean ok = step_locked (t, out, error);
  g_mutex_unlock (&t->lock);
  return ok;
}

/* Threaded control */

void
lam_trainer_set_callbacks (LamTrainer *t, LamMetricsFunc metrics, LamStateFunc state, gpointer user_data)
{
  t->metrics_cb = metrics;
  t->state_cb = state;
  t->cb_data = user_data;
}

static void
set_state (LamTrainer *t, LamTrainerState s, const GError *error)
{
  g_mutex_lock (&t->ctl_lock);
  t->state = s;
  g_cond_broadcast (&t->ctl_cond);
  g_mutex_unlock (&t->ctl_lock);
  if (t->state_cb)
    t->state_cb (t, s, error, t->cb_data);
}

static gpointer
worker (gpointer data)
{
  LamTrainer *t = data;
  g_autoptr(GError) error = NULL;

  for (;;)
    {
      gboolean one = FALSE;
      g_mutex_lock (&t->ctl_lock);
      if (t->pause_req && t->single_steps == 0 && !t->stop_req)
        {
          t->state = LAM_TRAINER_PAUSED;
          g_mutex_unlock (&t->ctl_lock);
          if (t->state_cb)
            t->state_cb (t, LAM_TRAINER_PAUSED, NULL, t->cb_data);
          g_mutex_lock (&t->ctl_lock);
          while (t->pause_req && t->single_steps == 0 && !t->stop_req)
            g_cond_wait (&t->ctl_cond, &t->ctl_lock);
          if (!t->stop_req && !t->pause_req)
            {
              t->state = LAM_TRAINER_RUNNING;
              g_mutex_unlock (&t->ctl_lock);
              if (t->state_cb)
                t->state_cb (t, LAM_TRAINER_RUNNING, NULL, t->cb_data);
              g_mutex_lock (&t->ctl_lock);
            }
        }
      if (t->stop_req)
        {
          g_mutex_unlock (&t->ctl_lock);
          set_state (t, LAM_TRAINER_IDLE, NULL);
          return NULL;
        }
      if (t->single_steps > 0)
        {
          t->single_steps--;
          one = TRUE;
        }
      if (t->new_lr > 0)
        {
          t->lr = t->new_lr;
          t->new_lr = 0;
        }
      g_mutex_unlock (&t->ctl_lock);

      LamMetrics m;
      worker_lock (t);
      gboolean ok = step_locked (t, &m, &error);
      gboolean done = lam_trainer_done (t);
      g_mutex_unlock (&t->lock);
      if (!ok)
        {
          set_state (t, LAM_TRAINER_FAILED, error);
          return NULL;
        }
      if (t->metrics_cb)
        t->metrics_cb (t, &m, t->cb_data);
      if (done)
        {
          set_state (t, LAM_TRAINER_FINISHED, NULL);
          return NULL;
        }
      (void) one;
    }
}

void
lam_trainer_start (LamTrainer *t)
{
  g_return_if_fail (t->thread == NULL);
  t->stop_req = FALSE;
  t->pause_req = FALSE;
  t->single_steps = 0;
  t->elapsed = 0;
  t->run_images = 0;
  t->state = LAM_TRAINER_RUNNING;
  t->thread = g_thread_new ("lamina-trainer", worker, t);
}

void
lam_trainer_pause (LamTrainer *t)
{
  g_mutex_lock (&t->ctl_lock);
  t->pause_req = TRUE;
  g_cond_broadcast (&t->ctl_cond);
  g_mutex_unlock (&t->ctl_lock);
}

void
lam_trainer_resume (LamTrainer *t)
{
  g_mutex_lock (&t->ctl_lock);
  t->pause_req = FALSE;
  g_cond_broadcast (&t->ctl_cond);
  g_mutex_unlock (&t->ctl_lock);
}

void
lam_trainer_single_step (LamTrainer *t)
{
  g_mutex_lock (&t->ctl_lock);
  t->pause_req = TRUE;
  t->single_steps++;
  g_cond_broadcast (&t->ctl_cond);
  g_mutex_unlock (&t->ctl_lock);
}

void
lam_trainer_stop (LamTrainer *t)
{
  if (t->thread == NULL)
    return;
  g_mutex_lock (&t->ctl_lock);
  t->stop_req = TRUE;
  g_cond_broadcast (&t->ctl_cond);
  g_mutex_unlock (&t->ctl_lock);
  g_thread_join (t->thread);
  t->thread = NULL;
}

LamTrainerState
lam_trainer_state (LamTrainer *t)
{
  g_mutex_lock (&t->ctl_lock);
  LamTrainerState s = t->state;
  g_mutex_unlock (&t->ctl_lock);
  return s;
}

void
lam_trainer_set_lr (LamTrainer *t, float lr)
{
  g_return_if_fail (lr > 0);
  g_mutex_lock (&t->ctl_lock);
  if (t->thread)
    t->new_lr = lr;
  else
    t->lr = lr;
  g_mutex_unlock (&t->ctl_lock);
}

void
lam_trainer_reset_weights (LamTrainer *t, guint64 seed)
{
  reader_lock (t);
  lam_net_init_params (t->net, seed);
  lam_optimizer_free (t->opt);
  t->opt = lam_optimizer_new (&t->cfg.opt, t->be, lam_net_n_params (t->net));
  t->graph_key = new_graph_key ();
  t->epoch = t->step_in_epoch = t->global_step = 0;
  t->lr = t->cfg.opt.lr;
  g_mutex_unlock (&t->lock);
}

/* The views' copies
 *
 * Views read weights and run forward passes between two training steps,
 * all of one hold from the same step. On a GPU they work on a mirror: a
 * second backend of the trainer's kind, with a stream, nets and datasets
 * of its own, whose weights the hold copies from the trainer's, device to
 * device; the worker waits for that copy only, and trains on while the
 * views compute. On the CPU, whose cores the worker keeps busy, a hold
 * keeps the trainer's own lock instead, and the worker waits for the
 * views' work: a mirror there would run it on one thread beside the
 * worker's, for longer (bench/lam-bench-views, LeNet-5, views 10 times a
 * second, two runs: 0.964 and 0.954 of the speed without views, against
 * 0.930 and 0.946 with a mirror).
 * LAMINA_VIEW_MIRROR=1 makes a mirror on the CPU too, and =0 none on a
 * GPU. Either way the views run unfused nets (lam-net.h), so a Dense
 * before its ReLU shows its own values. */

/* A mirror of the trainer's network on a second backend of its kind. */
static gboolean
mirror_make (LamTrainer *t, GError **error)
{
  Place *m = &t->views.mirror;
  g_autofree char *why_not = NULL;
  m->be = lam_backend_new (t->be->name, 1, &why_not, error);
  if (m->be == NULL)
    return FALSE;
  if (strcmp (m->be->name, t->be->name) != 0)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BACKEND, "no second %s backend: %s", t->be->name,
                   why_not != NULL ? why_not : "another kind was made");
      mirror_free (m);
      return FALSE;
    }
  m->dev = g_array_new (FALSE, TRUE, sizeof (DevData));
  m->shared = g_array_new (FALSE, TRUE, sizeof (SharedNet));
  m->batch = 0;
  m->net = lam_net_new (lam_net_graph (t->net), m->be, 1, error);
  if (m->net == NULL)
    {
      mirror_free (m);
      return FALSE;
    }
  /* one graph, one layout */
  g_assert (lam_net_n_params (m->net) == lam_net_n_params (t->net) &&
            lam_net_n_state (m->net) == lam_net_n_state (t->net));
  return TRUE;
}

/* The trainer's weights into the mirror, between two steps. Both are
 * memory of one device (or main memory), so the trainer's backend copies
 * them in its stream's order; waiting for it orders the mirror's work
 * after. */
static void
mirror_refresh (LamTrainer *t)
{
  Place *m = &t->views.mirror;
  m->be->ops->synchronize (m->be);   /* nothing of its own still reads them */
  reader_lock (t);
  t->be->ops->copy (t->be, lam_net_params (m->net), lam_net_params (t->net),
                    lam_net_n_params (t->net) * sizeof (float));
  t->be->ops->copy (t->be, lam_net_state (m->net), lam_net_state (t->net),
                    lam_net_n_state (t->net) * sizeof (float));
  t->be->ops->synchronize (t->be);
  t->views.step = t->global_step;
  g_mutex_unlock (&t->lock);
}

int
lam_trainer_views_hold (LamTrainer *t)
{
  Views *v = &t->views;
  g_rec_mutex_lock (&v->lock);
  if (v->holds++ > 0)
    return v->step;
  if (v->want_mirror && v->mirror.be == NULL && v->no_mirror == NULL)
    {
      g_autoptr(GError) error = NULL;
      if (mirror_make (t, &error))
        g_debug ("views: on a mirror of the network (%s)", v->mirror.be->description);
      else
        {
          v->no_mirror = g_strdup (error->message);
          g_debug ("views: on the trainer's own nets, between its steps: %s", error->message);
        }
    }
  if (v->mirror.be != NULL)
    mirror_refresh (t);
  else
    {
      reader_lock (t);
      v->has_lock = TRUE;
      g_atomic_pointer_set (&v->lock_owner, g_thread_self ());
      v->step = t->global_step;
    }
  return v->step;
}

void
lam_trainer_views_release (LamTrainer *t)
{
  Views *v = &t->views;
  g_return_if_fail (v->holds > 0);
  if (--v->holds == 0)
    {
      if (v->has_lock)
        {
          v->has_lock = FALSE;
          g_atomic_pointer_set (&v->lock_owner, NULL);
          g_mutex_unlock (&t->lock);
        }
      if (v->broken)
        {
          /* its backend's error is sticky; a mirror made anew would most
           * likely fail again (memory), and cost a setup a refresh */
          mirror_free (&v->mirror);
          v->broken = FALSE;
          v->no_mirror = g_strdup ("the mirror failed");
          g_debug ("views: the mirror failed; on the trainer's own nets from now on");
        }
    }
  g_rec_mutex_unlock (&v->lock);
}

/* Where the held views run. Call within a hold. */
static Place
views_place (LamTrainer *t)
{
  if (t->views.mirror.be != NULL)
    return t->views.mirror;
  Place p = own_place (t);
  p.batch = 0;   /* unfused nets, as the mirror's */
  return p;
}

/* be_ok for the views' place: a failed mirror goes after the hold */
static gboolean
views_ok (LamTrainer *t, const Place *p, GError **error)
{
  if (be_ok (p->be, error))
    return TRUE;
  if (p->be == t->views.mirror.be)
    t->views.broken = TRUE;
  return FALSE;
}

double
lam_trainer_views_wait (LamTrainer *t)
{
  g_mutex_lock (&t->ctl_lock);
  gint64 us = t->waited_us;
  g_mutex_unlock (&t->ctl_lock);
  return us / 1e6;
}

gboolean
lam_trainer_views_mirrored (LamTrainer *t)
{
  g_rec_mutex_lock (&t->views.lock);
  gboolean on = t->views.mirror.be != NULL;
  g_rec_mutex_unlock (&t->views.lock);
  return on;
}

float *
lam_trainer_copy_tensor (LamTrainer *t, const char *name, int *ndim, int shape[4])
{
  lam_trainer_views_hold (t);
  Place p = views_place (t);
  const LamTensorInfo *ti = lam_net_find_tensor (p.net, name);
  float *out = NULL;
  if (ti != NULL)
    {
      out = g_new0 (float, MAX (ti->n, 1));
      float *base = ti->trainable ? lam_net_params (p.net) : lam_net_state (p.net);
      p.be->ops->download (p.be, out, base + ti->offset, ti->n * sizeof (float));
      if (!views_ok (t, &p, NULL))
        g_clear_pointer (&out, g_free);
    }
  if (out != NULL)
    {
      if (ndim)
        *ndim = ti->ndim;
      if (shape)
        memcpy (shape, ti->shape, sizeof ti->shape);
    }
  lam_trainer_views_release (t);
  return out;
}

float **
lam_trainer_activations (LamTrainer *t, LamDataset *ds, int sample, GError **error)
{
  if (sample < 0 || sample >= ds->n)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "sample %d is out of range (0 to %d)",
                   sample, ds->n - 1);
      return NULL;
    }
  lam_trainer_views_hold (t);
  Place p = views_place (t);
  float **acts = NULL;
  DevData *d = dev_data (t, &p, ds, error);
  LamNet *net = d ? net_for_batch (&p, 1, error) : NULL;
  if (net != NULL)
    {
      gint32 idx = sample;
      gather (net, d, &idx, 1);
      lam_net_stats_reset (net);
      lam_net_forward (net, FALSE, 0);
      const LamGraph *g = lam_net_graph (net);
      acts = g_new0 (float *, g->nodes->len + 1);
      for (guint i = 0; i < g->nodes->len; i++)
        {
          LamNode *n = g_ptr_array_index (g->nodes, i);
          if (lam_layer_info (n->kind)->is_loss)
            continue;
          acts[i] = g_new (float, lam_shape_size (&n->out_shape));
          lam_net_read_output (net, (int) i, acts[i]);
        }
      if (!views_ok (t, &p, error))
        {
          for (guint i = 0; i < g->nodes->len; i++)
            g_free (acts[i]);
          g_clear_pointer (&acts, g_free);
        }
    }
  lam_trainer_views_release (t);
  return acts;
}

gboolean
lam_trainer_node_outputs (LamTrainer *t, LamDataset *ds, const int *nodes, int n_nodes, float **out,
                          GError **error)
{
  const LamGraph *g = lam_net_graph (t->net);
  for (int k = 0; k < n_nodes; k++)
    if (nodes[k] < 0 || nodes[k] >= (int) g->nodes->len ||
        lam_layer_info (((LamNode *) g_ptr_array_index (g->nodes, nodes[k]))->kind)->is_loss)
      {
        g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "node %d has no output to read",
                     nodes[k]);
        return FALSE;
      }
  lam_trainer_views_hold (t);
  Place p = views_place (t);
  gboolean ok = TRUE;
  DevData *d = dev_data (t, &p, ds, error);
  g_autofree gint32 *idx = g_new (gint32, t->batch);
  for (int start = 0; ok && d != NULL && start < ds->n; start += t->batch)
    {
      int B = MIN (t->batch, ds->n - start);
      LamNet *net = net_for_batch (&p, B, error);
      if (net == NULL)
        {
          ok = FALSE;
          break;
        }
      for (int i = 0; i < B; i++)
        idx[i] = start + i;
      gather (net, d, idx, B);
      lam_net_stats_reset (net);
      lam_net_forward (net, FALSE, 0);
      for (int k = 0; k < n_nodes; k++)
        {
          gsize size = lam_shape_size (&((LamNode *) g_ptr_array_index (g->nodes, nodes[k]))->out_shape);
          lam_net_read_output (net, nodes[k], out[k] + (gsize) start * size);
        }
    }
  ok = ok && d != NULL && views_ok (t, &p, error);
  lam_trainer_views_release (t);
  return ok;
}

gboolean
lam_trainer_predict (LamTrainer *t, LamDataset *ds, gint32 *pred, GError **error)
{
  lam_trainer_views_hold (t);
  Place p = views_place (t);
  gboolean ok = evaluate_on (t, &p, ds, NULL, NULL, pred, error);
  if (!ok && p.be == t->views.mirror.be && !be_ok (p.be, NULL))
    t->views.broken = TRUE;
  lam_trainer_views_release (t);
  return ok;
}

void
lam_trainer_free_activations (LamTrainer *t, float **acts)
{
  if (acts == NULL)
    return;
  guint n = lam_net_graph (t->net)->nodes->len;
  for (guint i = 0; i < n; i++)
    g_free (acts[i]);
  g_free (acts);
}

/* Checkpoints */

#define META_FORMAT "lamina-checkpoint-1"

static void
meta_int (LamStFile *f, const char *key, gint64 v)
{
  g_autofree char *s = g_strdup_printf ("%" G_GINT64_FORMAT, v);
  lam_st_file_set_meta (f, key, s);
}

static void
meta_double (LamStFile *f, const char *key, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  lam_st_file_set_meta (f, key, g_ascii_dtostr (buf, sizeof buf, v));
}

gboolean
lam_trainer_save (LamTrainer *t, const char *path, GError **error)
{
  g_autoptr(LamStFile) f = lam_st_file_new ();
  reader_lock (t);
  gsize np = lam_net_n_params (t->net), ns = lam_net_n_state (t->net);
  g_autofree float *p = g_new (float, MAX (np, 1));
  g_autofree float *s = g_new (float, MAX (ns, 1));
  lam_net_read_params (t->net, p);
  lam_net_read_state (t->net, s);
  for (guint i = 0; i < lam_net_n_tensors (t->net); i++)
    {
      const LamTensorInfo *ti = lam_net_tensor (t->net, i);
      gint64 shape[4];
      for (int k = 0; k < ti->ndim; k++)
        shape[k] = ti->shape[k];
      lam_st_file_add (f, ti->name, ti->ndim, shape, (ti->trainable ? p : s) + ti->offset);
    }
  if (t->opt->m || t->opt->v)
    {
      g_autofree float *buf = g_new (float, MAX (np, 1));
      gint64 shape[1] = { (gint64) np };
      if (t->opt->m)
        {
          t->be->ops->download (t->be, buf, t->opt->m, np * sizeof (float));
          lam_st_file_add (f, "optimizer.m", 1, shape, buf);
        }
      if (t->opt->v)
        {
          t->be->ops->download (t->be, buf, t->opt->v, np * sizeof (float));
          lam_st_file_add (f, "optimizer.v", 1, shape, buf);
        }
    }
  lam_st_file_set_meta (f, "format", META_FORMAT);
  lam_st_file_set_meta (f, "optimizer", lam_opt_kind_name (t->cfg.opt.kind));
  meta_int (f, "epoch", t->epoch);
  meta_int (f, "step_in_epoch", t->step_in_epoch);
  meta_int (f, "global_step", t->global_step);
  meta_int (f, "optimizer_t", t->opt->t);
  meta_int (f, "seed", (gint64) t->cfg.seed);
  meta_int (f, "batch", t->batch);
  meta_double (f, "lr", t->lr);
  meta_double (f, "epoch_loss", t->epoch_loss);
  meta_double (f, "epoch_correct", t->epoch_correct);
  meta_int (f, "epoch_seen", t->epoch_seen);
  g_mutex_unlock (&t->lock);
  return lam_st_file_save (f, path, error);
}

static gboolean
meta_get_int (LamStFile *f, const char *key, gint64 *out)
{
  const char *s = lam_st_file_get_meta (f, key);
  return s != NULL && g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, out, NULL);
}

gboolean
lam_trainer_load (LamTrainer *t, const char *path, GError **error)
{
  g_autoptr(LamStFile) f = lam_st_file_load (path, error);
  if (f == NULL)
    return FALSE;
  g_autofree char *base = g_path_get_basename (path);
  gsize np = lam_net_n_params (t->net), ns = lam_net_n_state (t->net);
  g_autofree float *p = g_new0 (float, MAX (np, 1));
  g_autofree float *s = g_new0 (float, MAX (ns, 1));

  for (guint i = 0; i < lam_net_n_tensors (t->net); i++)
    {
      const LamTensorInfo *ti = lam_net_tensor (t->net, i);
      LamStTensor *st = lam_st_file_find (f, ti->name);
      if (st == NULL)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                       "%s: has no tensor \"%s\"; was it saved from another network?", base, ti->name);
          return FALSE;
        }
      gboolean same = st->ndim == ti->ndim;
      for (int k = 0; same && k < ti->ndim; k++)
        same = st->shape[k] == ti->shape[k];
      if (!same)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                       "%s: tensor \"%s\" has another shape than the network's; was it saved from another network?",
                       base, ti->name);
          return FALSE;
        }
      memcpy ((ti->trainable ? p : s) + ti->offset, st->data, ti->n * sizeof (float));
    }
  LamStTensor *m = lam_st_file_find (f, "optimizer.m"), *v = lam_st_file_find (f, "optimizer.v");
  if ((m && m->n != np) || (v && v->n != np))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE, "%s: the optimizer state does not fit this network", base);
      return FALSE;
    }

  gint64 epoch = 0, sie = 0, gs = 0, ot = 0, seen = 0;
  const char *fmt = lam_st_file_get_meta (f, "format");
  gboolean has_pos = g_strcmp0 (fmt, META_FORMAT) == 0 &&
                     meta_get_int (f, "epoch", &epoch) && meta_get_int (f, "step_in_epoch", &sie) &&
                     meta_get_int (f, "global_step", &gs) && meta_get_int (f, "optimizer_t", &ot);
  if (has_pos && (epoch < 0 || epoch > t->cfg.epochs || sie < 0 || sie >= t->steps_per_epoch ||
                  gs < 0 || ot < 0 || ot > G_MAXINT))
    has_pos = FALSE;

  reader_lock (t);
  lam_net_write_params (t->net, p);
  lam_net_write_state (t->net, s);
  lam_optimizer_free (t->opt);
  t->opt = lam_optimizer_new (&t->cfg.opt, t->be, np);
  t->graph_key = new_graph_key ();
  if (has_pos && g_strcmp0 (lam_st_file_get_meta (f, "optimizer"), lam_opt_kind_name (t->cfg.opt.kind)) == 0)
    {
      t->opt->t = (int) ot;
      if (m && (t->opt->m = t->be->ops->alloc (t->be, np * sizeof (float))))
        t->be->ops->upload (t->be, t->opt->m, m->data, np * sizeof (float));
      if (v && (t->opt->v = t->be->ops->alloc (t->be, np * sizeof (float))))
        t->be->ops->upload (t->be, t->opt->v, v->data, np * sizeof (float));
    }
  if (has_pos)
    {
      t->epoch = (int) epoch;
      t->step_in_epoch = (int) sie;
      t->global_step = (int) gs;
      const char *lr = lam_st_file_get_meta (f, "lr");
      if (lr && g_ascii_strtod (lr, NULL) > 0)
        t->lr = (float) g_ascii_strtod (lr, NULL);
      const char *el = lam_st_file_get_meta (f, "epoch_loss");
      const char *ec = lam_st_file_get_meta (f, "epoch_correct");
      t->epoch_loss = el ? g_ascii_strtod (el, NULL) : 0;
      t->epoch_correct = ec ? g_ascii_strtod (ec, NULL) : 0;
      t->epoch_seen = meta_get_int (f, "epoch_seen", &seen) ? (int) seen : 0;
      if (t->step_in_epoch > 0)
        make_perm (t);
    }
  g_mutex_unlock (&t->lock);
  return TRUE;
}
