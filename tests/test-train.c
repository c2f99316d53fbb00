/* test-train.c: training end to end on small data: convergence,
 * determinism, checkpoint resume, the threaded control API, divergence,
 * prediction, and (slow) LeNet-5 on Fashion-MNIST.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "test-train"

#include "config.h"

#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "lam-model-file.h"
#include "lam-trainer.h"

static char *tmpdir;

/* ------------------------------------------------------------------ */
/* Helpers */

static void
config_init (LamTrainConfig *c, const char *data, int n_samples, LamOptKind opt, float lr,
             int epochs, int batch, guint64 seed)
{
  lam_train_config_init (c);
  g_free (c->data.name);
  c->data.name = g_strdup (data);
  c->data.n_samples = n_samples;
  c->data.noise = 0.1f;
  c->data.val_fraction = 0.1f;
  c->opt.kind = opt;
  c->opt.lr = lr;
  c->epochs = epochs;
  c->batch = batch;
  c->seed = seed;
  g_free (c->backend);
  c->backend = g_strdup ("cpu");
  c->threads = 1;
}

static void
open_data (const LamTrainConfig *c, LamDataSplits *s)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (lam_data_open (&c->data, c->seed, s, &error));
  g_assert_no_error (error);
}

static LamNode *
add (LamGraph *g, LamLayerKind kind, const char *name, const char *in)
{
  LamNode *n = lam_graph_add_node (g, kind, name);
  if (in)
    lam_graph_connect (g, in, name);
  return n;
}

/* 2 inputs -> hidden -> ReLU -> hidden -> ReLU -> n_classes. With
 * regularise, BatchNorm after the first Dense and Dropout after its ReLU. */
static LamGraph *
mlp2d (int hidden, int n_classes, gboolean regularise, LamLayerKind loss)
{
  LamGraph *g = lam_graph_new ();
  LamNode *in = add (g, LAM_LAYER_INPUT, "input", NULL);
  in->p.channels = 2;
  in->p.height = in->p.width = 1;
  add (g, LAM_LAYER_DENSE, "dense1", "input")->p.units = hidden;
  const char *prev = "dense1";
  if (regularise)
    {
      add (g, LAM_LAYER_BATCHNORM, "bn1", prev);
      prev = "bn1";
    }
  add (g, LAM_LAYER_RELU, "relu1", prev);
  prev = "relu1";
  if (regularise)
    {
      add (g, LAM_LAYER_DROPOUT, "drop1", prev)->p.rate = 0.2f;
      prev = "drop1";
    }
  add (g, LAM_LAYER_DENSE, "dense2", prev)->p.units = hidden;
  add (g, LAM_LAYER_RELU, "relu2", "dense2");
  add (g, LAM_LAYER_DENSE, "dense3", "relu2")->p.units = n_classes;
  add (g, loss, "loss", "dense3");
  g_autoptr(GError) error = NULL;
  g_assert_true (lam_graph_validate (g, &error));
  g_assert_no_error (error);
  return g;
}

static LamTrainer *
new_trainer (const LamGraph *g, const LamTrainConfig *c, const LamDataSplits *s)
{
  g_autoptr(GError) error = NULL;
  LamTrainer *t = lam_trainer_new (g, c, s, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

/* Runs n steps (or to the end when n < 0); returns the batch losses. */
static GArray *
run_steps (LamTrainer *t, int n)
{
  GArray *losses = g_array_new (FALSE, FALSE, sizeof (double));
  for (int i = 0; n < 0 ? !lam_trainer_done (t) : i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      LamMetrics m;
      g_assert_true (lam_trainer_step (t, &m, &error));
      g_assert_no_error (error);
      g_assert_cmpint (m.step, ==, lam_trainer_step_count (t));
      g_array_append_val (losses, m.batch_loss);
      if (m.epoch_end)
        {
          g_array_append_val (losses, m.train_loss);
          if (isfinite (m.val_loss))
            g_array_append_val (losses, m.val_loss);
        }
    }
  return losses;
}

static void
assert_same_losses (GArray *a, GArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      double x = g_array_index (a, double, i), y = g_array_index (b, double, i);
      if (memcmp (&x, &y, sizeof x) != 0)
        g_error ("loss %u differs: %.17g vs %.17g", i, x, y);
    }
}

static float *
read_params (LamTrainer *t, gsize *n)
{
  LamNet *net = lam_trainer_net (t);
  *n = lam_net_n_params (net);
  float *p = g_new (float, MAX (*n, 1));
  lam_net_read_params (net, p);
  return p;
}

static gboolean
wait_for (gboolean (*cond) (gpointer), gpointer data, double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_usleep (1000);
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Convergence on 2-D sets */

static void
test_moons (void)
{
  LamTrainConfig c;
  config_init (&c, "moons", 1000, LAM_OPT_ADAM, 0.01f, 30, 32, 1);
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = mlp2d (32, 2, FALSE, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);

  g_assert_cmpint (lam_trainer_steps_per_epoch (t), ==, s.train->n / 32);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr(GArray) losses = run_steps (t, -1);
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  g_assert_true (lam_trainer_done (t));
  g_assert_cmpint (lam_trainer_epoch (t), ==, 30);
  g_assert_cmpint (lam_trainer_step_count (t), ==, 30 * lam_trainer_steps_per_epoch (t));

  /* Another step after the end is refused. */
  g_autoptr(GError) error = NULL;
  g_assert_false (lam_trainer_step (t, NULL, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  double loss, acc;
  g_assert_true (lam_trainer_evaluate (t, s.test, &loss, &acc, &error));
  g_assert_no_error (error);
  g_test_message ("moons: test loss %.4f, accuracy %.2f%%, %.2f s", loss, acc * 100, secs);
  g_assert_cmpfloat (acc, >=, 0.95);
  g_assert_cmpfloat (loss, <, 0.2);
  g_assert_cmpfloat (secs, <, 10);
  lam_train_config_clear (&c);
}

static void
test_spiral (void)
{
  LamTrainConfig c;
  config_init (&c, "spiral", 1000, LAM_OPT_ADAM, 0.01f, 60, 32, 3);
  c.data.n_classes = 3;
  c.data.noise = 0.05f;
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_assert_cmpint (s.train->n_classes, ==, 3);
  g_autoptr(LamGraph) g = mlp2d (64, 3, FALSE, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
  g_autoptr(GArray) losses = run_steps (t, -1);

  double loss, acc;
  g_autoptr(GError) error = NULL;
  g_assert_true (lam_trainer_evaluate (t, s.test, &loss, &acc, &error));
  g_assert_no_error (error);
  g_test_message ("spiral (3 arms): test loss %.4f, accuracy %.2f%%", loss, acc * 100);
  g_assert_cmpfloat (acc, >=, 0.90);
  lam_train_config_clear (&c);
}

/* XOR with an MSE loss and plain SGD. */
static void
test_xor_mse (void)
{
  LamTrainConfig c;
  config_init (&c, "xor", 800, LAM_OPT_SGD, 0.1f, 40, 16, 5);
  c.opt.momentum = 0.9f;
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = mlp2d (32, 2, FALSE, LAM_LAYER_MSE);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
  g_autoptr(GArray) losses = run_steps (t, -1);

  double loss, acc;
  g_autoptr(GError) error = NULL;
  g_assert_true (lam_trainer_evaluate (t, s.test, &loss, &acc, &error));
  g_assert_no_error (error);
  g_test_message ("xor (MSE, SGD): test loss %.4f, accuracy %.2f%%", loss, acc * 100);
  g_assert_cmpfloat (acc, >=, 0.90);
  lam_train_config_clear (&c);
}

/* ------------------------------------------------------------------ */
/* Determinism */

static GArray *
seeded_run (guint64 seed, int threads, gboolean regularise, float **params, gsize *n_params)
{
  LamTrainConfig c;
  config_init (&c, "moons", 600, LAM_OPT_SGD, 0.05f, 3, 16, seed);
  c.opt.momentum = 0.9f;
  c.threads = threads;
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = mlp2d (32, 2, regularise, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
  GArray *losses = run_steps (t, -1);
  if (params)
    *params = read_params (t, n_params);
  lam_train_config_clear (&c);
  return losses;
}

static void
test_determinism (void)
{
  for (int threads = 1; threads <= 2; threads++)
    for (int reg = 0; reg <= 1; reg++)
      {
        g_autofree float *pa = NULL, *pb = NULL;
        gsize na, nb;
        g_autoptr(GArray) a = seeded_run (1, threads, reg, &pa, &na);
        g_autoptr(GArray) b = seeded_run (1, threads, reg, &pb, &nb);
        assert_same_losses (a, b);
        g_assert_cmpmem (pa, na * sizeof (float), pb, nb * sizeof (float));
      }

  /* Another seed: other data, other weights, other losses. */
  g_autoptr(GArray) a = seeded_run (1, 1, TRUE, NULL, NULL);
  g_autoptr(GArray) b = seeded_run (2, 1, TRUE, NULL, NULL);
  g_assert_cmpuint (a->len, ==, b->len);
  guint differ = 0;
  for (guint i = 0; i < a->len; i++)
    differ += g_array_index (a, double, i) != g_array_index (b, double, i);
  g_assert_cmpuint (differ, >, a->len * 9 / 10);
}

/* ------------------------------------------------------------------ */
/* Checkpoints */

typedef struct {
  LamOptKind kind;
  gboolean   regularise;
  LamSchedKind schedule;
} ResumeCase;

static void
test_resume (gconstpointer data)
{
  const ResumeCase *rc = data;
  LamTrainConfig c;
  config_init (&c, "moons", 500, rc->kind, rc->kind == LAM_OPT_SGD ? 0.05f : 0.005f, 4, 32, 11);
  c.opt.momentum = 0.9f;
  c.opt.weight_decay = rc->kind == LAM_OPT_ADAMW ? 0.01f : 0.0f;
  c.opt.schedule = rc->schedule;
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = mlp2d (24, 2, rc->regularise, LAM_LAYER_SOFTMAX_XENT);
  g_autofree char *path = g_build_filename (tmpdir, "resume.safetensors", NULL);

  g_autoptr(LamTrainer) a = new_trainer (g, &c, &s);
  int spe = lam_trainer_steps_per_epoch (a);   /* 450 / 32 = 14 */
  g_assert_cmpint (spe, ==, 14);
  int N = spe + 5;              /* mid-epoch, after an epoch end */
  int M = 2 * spe;              /* crosses two epoch ends and validations */
  g_autoptr(GArray) first = run_steps (a, N);
  g_autoptr(GError) error = NULL;
  g_assert_true (lam_trainer_save (a, path, &error));
  g_assert_no_error (error);
  g_autoptr(GArray) cont = run_steps (a, M);
  gsize na, nb;
  g_autofree float *pa = read_params (a, &na);

  /* A fresh trainer, other initial weights, then the checkpoint. */
  LamTrainConfig c2;
  lam_train_config_copy (&c2, &c);
  c2.seed = 11;
  g_autoptr(LamTrainer) b = new_trainer (g, &c2, &s);
  lam_trainer_reset_weights (b, 999);
  g_assert_true (lam_trainer_load (b, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lam_trainer_step_count (b), ==, N);
  g_assert_cmpint (lam_trainer_epoch (b), ==, 1);
  g_autoptr(GArray) resumed = run_steps (b, M);
  assert_same_losses (cont, resumed);
  g_autofree float *pb = read_params (b, &nb);
  g_assert_cmpmem (pa, na * sizeof (float), pb, nb * sizeof (float));
  g_assert_cmpint (lam_trainer_step_count (b), ==, lam_trainer_step_count (a));

  /* BatchNorm running statistics travel too. */
  if (rc->regularise)
    {
      int nd, shape[4];
      g_autofree float *ma = lam_trainer_copy_tensor (a, "bn1.running_mean", &nd, shape);
      g_autofree float *mb = lam_trainer_copy_tensor (b, "bn1.running_mean", &nd, shape);
      g_assert_nonnull (ma);
      g_assert_cmpint (nd, ==, 1);
      g_assert_cmpint (shape[0], ==, 24);
      g_assert_cmpmem (ma, 24 * sizeof (float), mb, 24 * sizeof (float));
    }

  /* Both finish the same run. */
  g_autoptr(GArray) ra = run_steps (a, -1);
  g_autoptr(GArray) rb = run_steps (b, -1);
  assert_same_losses (ra, rb);
  double la, aa, lb, ab;
  g_assert_true (lam_trainer_evaluate (a, s.test, &la, &aa, NULL));
  g_assert_true (lam_trainer_evaluate (b, s.test, &lb, &ab, NULL));
  g_assert_cmpmem (&la, sizeof la, &lb, sizeof lb);
  g_assert_cmpfloat (aa, ==, ab);

  g_remove (path);
  lam_train_config_clear (&c);
  lam_train_config_clear (&c2);
}

/* Loading a checkpoint from another network, or a file that is not one. */
static void
test_load_errors (void)
{
  LamTrainConfig c;
  config_init (&c, "moons", 200, LAM_OPT_SGD, 0.05f, 1, 16, 1);
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = mlp2d (8, 2, FALSE, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamGraph) g2 = mlp2d (16, 2, FALSE, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamGraph) g3 = mlp2d (8, 2, TRUE, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
  g_autoptr(LamTrainer) t2 = new_trainer (g2, &c, &s);
  g_autoptr(LamTrainer) t3 = new_trainer (g3, &c, &s);
  g_autofree char *path = g_build_filename (tmpdir, "small.safetensors", NULL);
  g_autofree char *junk = g_build_filename (tmpdir, "junk.safetensors", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (lam_trainer_save (t, path, &error));
  g_assert_no_error (error);

  g_assert_false (lam_trainer_load (t2, path, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
  g_assert_cmpstr (error->message, ==, "small.safetensors: tensor \"dense1.weight\" has another shape "
                   "than the network's; was it saved from another network?");
  g_clear_error (&error);

  g_assert_false (lam_trainer_load (t3, path, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
  g_assert_cmpstr (error->message, ==, "small.safetensors: has no tensor \"bn1.weight\"; "
                   "was it saved from another network?");
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (junk, "this is not a safetensors file at all", -1, NULL));
  g_assert_false (lam_trainer_load (t, junk, &error));
  g_assert_nonnull (error);
  g_assert_true (g_str_has_prefix (error->message, "junk.safetensors: "));
  g_clear_error (&error);

  g_autofree char *missing = g_build_filename (tmpdir, "missing.safetensors", NULL);
  g_assert_false (lam_trainer_load (t, missing, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* The failed loads left t usable. */
  g_autoptr(GArray) l = run_steps (t, 2);
  g_assert_cmpuint (l->len, ==, 2);

  g_remove (path);
  g_remove (junk);
  lam_train_config_clear (&c);
}

/* ------------------------------------------------------------------ */
/* The threaded API */

typedef struct {
  GMutex          lock;
  GArray         *states;    /* LamTrainerState */
  GArray         *steps;     /* int: metrics' step */
  GArray         *lrs;       /* double */
  GError         *error;
  LamTrainer     *t;
  int             want_steps;
  LamTrainerState want_state;
} Watch;

static void
on_metrics (LamTrainer *t, const LamMetrics *m, gpointer data)
{
  Watch *w = data;
  g_mutex_lock (&w->lock);
  g_array_append_val (w->steps, m->step);
  g_array_append_val (w->lrs, m->lr);
  g_mutex_unlock (&w->lock);
}

static void
on_state (LamTrainer *t, LamTrainerState state, const GError *error, gpointer data)
{
  Watch *w = data;
  g_mutex_lock (&w->lock);
  g_array_append_val (w->states, state);
  if (error && !w->error)
    w->error = g_error_copy (error);
  g_mutex_unlock (&w->lock);
}

static guint
n_metrics (Watch *w)
{
  g_mutex_lock (&w->lock);
  guint n = w->steps->len;
  g_mutex_unlock (&w->lock);
  return n;
}

static LamTrainerState
last_state (Watch *w)
{
  g_mutex_lock (&w->lock);
  LamTrainerState s = w->states->len ? g_array_index (w->states, LamTrainerState, w->states->len - 1)
                                     : (LamTrainerState) -1;
  g_mutex_unlock (&w->lock);
  return s;
}

static gboolean
reached_steps (gpointer data)
{
  Watch *w = data;
  return (int) n_metrics (w) >= w->want_steps;
}

static gboolean
in_state (gpointer data)
{
  Watch *w = data;
  return lam_trainer_state (w->t) == w->want_state && last_state (w) == w->want_state;
}

static void
watch_init (Watch *w, LamTrainer *t)
{
  memset (w, 0, sizeof *w);
  g_mutex_init (&w->lock);
  w->states = g_array_new (FALSE, FALSE, sizeof (LamTrainerState));
  w->steps = g_array_new (FALSE, FALSE, sizeof (int));
  w->lrs = g_array_new (FALSE, FALSE, sizeof (double));
  w->t = t;
  lam_trainer_set_callbacks (t, on_metrics, on_state, w);
}

static void
watch_clear (Watch *w)
{
  g_array_unref (w->states);
  g_array_unref (w->steps);
  g_array_unref (w->lrs);
  g_clear_error (&w->error);
  g_mutex_clear (&w->lock);
}

static void
wait_state (Watch *w, LamTrainerState s)
{
  w->want_state = s;
  if (!wait_for (in_state, w, 10))
    g_error ("state %d not reached within 10 s (now %d)", s, lam_trainer_state (w->t));
}

static void
wait_steps (Watch *w, int n)
{
  w->want_steps = n;
  if (!wait_for (reached_steps, w, 10))
    g_error ("%d steps not reached within 10 s (now %u)", n, n_metrics (w));
}

static void
test_threaded (void)
{
  LamTrainConfig c;
  config_init (&c, "moons", 1000, LAM_OPT_SGD, 0.05f, 10000, 16, 1);
  c.opt.momentum = 0.9f;
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = mlp2d (16, 2, TRUE, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
  Watch w;
  watch_init (&w, t);

  g_assert_cmpint (lam_trainer_state (t), ==, LAM_TRAINER_IDLE);
  lam_trainer_start (t);
  g_assert_cmpint (lam_trainer_state (t), ==, LAM_TRAINER_RUNNING);
  wait_steps (&w, 5);

  /* Copies while running have the tensor's shape. */
  int nd = 0, shape[4] = { 0 };
  g_autofree float *w1 = lam_trainer_copy_tensor (t, "dense1.weight", &nd, shape);
  g_assert_nonnull (w1);
  g_assert_cmpint (nd, ==, 2);
  g_assert_cmpint (shape[0], ==, 16);
  g_assert_cmpint (shape[1], ==, 2);
  g_autofree float *b3 = lam_trainer_copy_tensor (t, "dense3.bias", &nd, shape);
  g_assert_nonnull (b3);
  g_assert_cmpint (nd, ==, 1);
  g_assert_cmpint (shape[0], ==, 2);
  g_autofree float *rv = lam_trainer_copy_tensor (t, "bn1.running_var", &nd, shape);
  g_assert_nonnull (rv);
  g_assert_cmpint (shape[0], ==, 16);
  g_assert_null (lam_trainer_copy_tensor (t, "nope.weight", &nd, shape));
  g_assert_null (lam_trainer_copy_tensor (t, "relu1.weight", NULL, NULL));

  /* Activations while running: one buffer per node of its size, none for the loss. */
  const LamGraph *ng = lam_net_graph (lam_trainer_net (t));
  g_autoptr(GError) error = NULL;
  float **acts = lam_trainer_activations (t, s.test, 3, &error);
  g_assert_no_error (error);
  g_assert_nonnull (acts);
  for (guint i = 0; i < ng->nodes->len; i++)
    {
      LamNode *n = g_ptr_array_index (ng->nodes, i);
      if (lam_layer_info (n->kind)->is_loss)
        {
          g_assert_null (acts[i]);
          continue;
        }
      g_assert_nonnull (acts[i]);
      gint64 size = lam_shape_size (&n->out_shape);
      double sum = 0;
      for (gint64 k = 0; k < size; k++)   /* reads every element (ASan checks the size) */
        {
          g_assert_true (isfinite (acts[i][k]));
          sum += acts[i][k];
        }
      if (n->kind == LAM_LAYER_RELU)
        for (gint64 k = 0; k < size; k++)
          g_assert_cmpfloat (acts[i][k], >=, 0);
      (void) sum;
    }
  /* The input activations are the sample. */
  g_assert_cmpfloat (acts[0][0], ==, s.test->data[3 * 2 + 0]);
  g_assert_cmpfloat (acts[0][1], ==, s.test->data[3 * 2 + 1]);
  lam_trainer_free_activations (t, acts);
  g_assert_null (lam_trainer_activations (t, s.test, s.test->n, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Pause: the state becomes PAUSED and the step count stops. */
  lam_trainer_pause (t);
  wait_state (&w, LAM_TRAINER_PAUSED);
  int s0 = lam_trainer_step_count (t);
  guint m0 = n_metrics (&w);
  g_assert_cmpint (s0, ==, (int) m0);
  g_usleep (100000);
  g_assert_cmpint (lam_trainer_step_count (t), ==, s0);
  g_assert_cmpuint (n_metrics (&w), ==, m0);

  /* While paused, the last Dense's output for a sample is W·h + b. */
  {
    int nd2, sh[4];
    g_autofree float *W = lam_trainer_copy_tensor (t, "dense3.weight", &nd2, sh);
    g_autofree float *B = lam_trainer_copy_tensor (t, "dense3.bias", NULL, NULL);
    g_assert_cmpint (sh[0], ==, 2);
    g_assert_cmpint (sh[1], ==, 16);
    float **a = lam_trainer_activations (t, s.test, 7, &error);
    g_assert_no_error (error);
    int i_relu2 = lam_graph_index_of (ng, "relu2"), i_d3 = lam_graph_index_of (ng, "dense3");
    for (int o = 0; o < 2; o++)
      {
        double y = B[o];
        for (int k = 0; k < 16; k++)
          y += (double) W[o * 16 + k] * a[i_relu2][k];
        g_assert_cmpfloat_with_epsilon (a[i_d3][o], y, 1e-4 * (1 + fabs (y)));
      }
    lam_trainer_free_activations (t, a);
  }

  /* A single step advances exactly one step and stays paused. */
  lam_trainer_single_step (t);
  wait_steps (&w, (int) m0 + 1);
  g_usleep (100000);
  g_assert_cmpint (lam_trainer_step_count (t), ==, s0 + 1);
  g_assert_cmpuint (n_metrics (&w), ==, m0 + 1);
  g_assert_cmpint (g_array_index (w.steps, int, m0), ==, s0 + 1);
  wait_state (&w, LAM_TRAINER_PAUSED);

  /* A new learning rate applies from the next step. */
  g_assert_cmpfloat (g_array_index (w.lrs, double, m0), ==, 0.05f);
  lam_trainer_set_lr (t, 0.001f);
  lam_trainer_single_step (t);
  lam_trainer_single_step (t);
  wait_steps (&w, (int) m0 + 3);
  g_usleep (50000);
  g_assert_cmpint (lam_trainer_step_count (t), ==, s0 + 3);
  g_assert_cmpfloat (g_array_index (w.lrs, double, m0 + 1), ==, 0.001f);
  g_assert_cmpfloat (g_array_index (w.lrs, double, m0 + 2), ==, 0.001f);
  wait_state (&w, LAM_TRAINER_PAUSED);

  /* Resume: running again, steps advance. */
  lam_trainer_resume (t);
  wait_state (&w, LAM_TRAINER_RUNNING);
  wait_steps (&w, (int) m0 + 20);
  g_assert_cmpint (lam_trainer_state (t), ==, LAM_TRAINER_RUNNING);

  /* Steps reported are consecutive. */
  g_mutex_lock (&w.lock);
  for (guint i = 0; i < w.steps->len; i++)
    g_assert_cmpint (g_array_index (w.steps, int, i), ==, (int) i + 1);
  g_mutex_unlock (&w.lock);

  /* Stop returns promptly, and the worker has ended. */
  gint64 t0 = g_get_monotonic_time ();
  lam_trainer_stop (t);
  double stop_s = (g_get_monotonic_time () - t0) / 1e6;
  g_test_message ("stop took %.3f s", stop_s);
  g_assert_cmpfloat (stop_s, <, 1.0);
  g_assert_cmpint (lam_trainer_state (t), ==, LAM_TRAINER_IDLE);
  g_assert_cmpint (last_state (&w), ==, LAM_TRAINER_IDLE);
  int after = lam_trainer_step_count (t);
  g_usleep (50000);
  g_assert_cmpint (lam_trainer_step_count (t), ==, after);
  g_assert_cmpint (after, ==, (int) n_metrics (&w));
  g_assert_null (w.error);
  /* Stopping again is harmless. */
  lam_trainer_stop (t);

  /* Stop while paused. */
  lam_trainer_start (t);
  wait_steps (&w, after + 2);
  lam_trainer_pause (t);
  wait_state (&w, LAM_TRAINER_PAUSED);
  t0 = g_get_monotonic_time ();
  lam_trainer_stop (t);
  g_assert_cmpfloat ((g_get_monotonic_time () - t0) / 1e6, <, 1.0);
  g_assert_cmpint (lam_trainer_state (t), ==, LAM_TRAINER_IDLE);

  watch_clear (&w);
  lam_train_config_clear (&c);
}

/* A threaded run to its end reports FINISHED; its losses equal a synchronous run's. */
static void
test_threaded_finish (void)
{
  LamTrainConfig c;
  config_init (&c, "moons", 300, LAM_OPT_ADAMW, 0.01f, 3, 16, 4);
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = mlp2d (16, 2, TRUE, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
  Watch w;
  watch_init (&w, t);
  lam_trainer_start (t);
  wait_state (&w, LAM_TRAINER_FINISHED);
  g_assert_true (lam_trainer_done (t));
  g_assert_cmpint (lam_trainer_step_count (t), ==, 3 * lam_trainer_steps_per_epoch (t));
  g_assert_cmpuint (n_metrics (&w), ==, (guint) lam_trainer_step_count (t));
  g_assert_null (w.error);
  lam_trainer_stop (t);   /* joins the finished worker */
  g_assert_cmpint (lam_trainer_state (t), ==, LAM_TRAINER_FINISHED);

  g_autoptr(LamTrainer) u = new_trainer (g, &c, &s);
  g_autoptr(GArray) l = run_steps (u, -1);
  gsize na, nb;
  g_autofree float *pa = read_params (t, &na);
  g_autofree float *pb = read_params (u, &nb);
  g_assert_cmpmem (pa, na * sizeof (float), pb, nb * sizeof (float));

  watch_clear (&w);
  lam_train_config_clear (&c);
}

/* ------------------------------------------------------------------ */
/* Divergence */

static LamGraph *
diverging_graph (void)
{
  LamGraph *g = lam_graph_new ();
  LamNode *in = add (g, LAM_LAYER_INPUT, "input", NULL);
  in->p.channels = 2;
  in->p.height = in->p.width = 1;
  add (g, LAM_LAYER_DENSE, "dense1", "input")->p.units = 64;
  add (g, LAM_LAYER_DENSE, "dense2", "dense1")->p.units = 64;
  add (g, LAM_LAYER_DENSE, "dense3", "dense2")->p.units = 2;
  add (g, LAM_LAYER_MSE, "loss", "dense3");
  return g;
}

static void
test_diverge (void)
{
  LamTrainConfig c;
  config_init (&c, "moons", 400, LAM_OPT_SGD, 10.0f, 5, 32, 1);
  c.opt.momentum = 0.9f;
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = diverging_graph ();
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);

  g_autoptr(GError) error = NULL;
  int steps = 0;
  while (!lam_trainer_done (t))
    {
      LamMetrics m;
      if (!lam_trainer_step (t, &m, &error))
        break;
      steps++;
    }
  g_assert_error (error, LAM_ERROR, LAM_ERROR_DIVERGED);
  g_test_message ("after %d steps: %s", steps, error->message);
  g_assert_nonnull (strstr (error->message, "diverged"));
  g_assert_nonnull (strstr (error->message, "learning rate"));
  g_assert_cmpint (steps, <, 50);

  /* The same through the worker: FAILED, with the error. */
  g_autoptr(LamTrainer) u = new_trainer (g, &c, &s);
  Watch w;
  watch_init (&w, u);
  lam_trainer_start (u);
  wait_state (&w, LAM_TRAINER_FAILED);
  lam_trainer_stop (u);
  g_assert_error (w.error, LAM_ERROR, LAM_ERROR_DIVERGED);
  g_assert_cmpstr (w.error->message, ==, error->message);
  g_assert_cmpint (lam_trainer_state (u), ==, LAM_TRAINER_FAILED);
  watch_clear (&w);

  /* After reset_weights with a small rate it trains. */
  lam_trainer_reset_weights (t, 1);
  lam_trainer_set_lr (t, 0.01f);
  g_assert_cmpint (lam_trainer_step_count (t), ==, 0);
  g_autoptr(GArray) l = run_steps (t, 20);
  for (guint i = 0; i < l->len; i++)
    g_assert_true (isfinite (g_array_index (l, double, i)));
  lam_train_config_clear (&c);
}

/* ------------------------------------------------------------------ */
/* Prediction */

/* The views' copies of one hold come from one step. With a mirror
 * (LAMINA_VIEW_MIRROR=1; the default on a GPU) training goes on during a
 * hold; without (the CPU's default) it waits for the release. Either way
 * the views' answers are those of the trainer's own nets. */
static void
views_hold_check (gboolean mirror)
{
  LamTrainConfig c;
  config_init (&c, "moons", 1000, LAM_OPT_SGD, 0.05f, 10000, 16, 1);
  c.opt.momentum = 0.9f;
  c.threads = 2;
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = mlp2d (16, 2, TRUE, LAM_LAYER_SOFTMAX_XENT);
  g_setenv ("LAMINA_VIEW_MIRROR", mirror ? "1" : "0", TRUE);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
  g_unsetenv ("LAMINA_VIEW_MIRROR");
  LamNet *net = lam_trainer_net (t);
  const LamTensorInfo *w1 = lam_net_find_tensor (net, "dense1.weight");
  const LamTensorInfo *rv = lam_net_find_tensor (net, "bn1.running_var");
  const LamGraph *ng = lam_net_graph (net);
  int i_d2 = lam_graph_index_of (ng, "dense2"), i_d3 = lam_graph_index_of (ng, "dense3");
  g_autoptr(GError) error = NULL;

  g_array_unref (run_steps (t, 3));
  gsize np = lam_net_n_params (net), ns = lam_net_n_state (net);
  g_autofree float *p3 = g_new (float, np), *s3 = g_new (float, ns);
  lam_net_read_params (net, p3);
  lam_net_read_state (net, s3);

  g_assert_cmpint (lam_trainer_views_hold (t), ==, 3);
  g_assert_true (lam_trainer_views_mirrored (t) == mirror);
  g_assert_cmpint (lam_trainer_views_hold (t), ==, 3);   /* nested */
  lam_trainer_views_release (t);
  g_autofree float *a3 = NULL;
  if (mirror)
    {
      /* the trainer steps on; the hold's copies stay at step 3 */
      g_array_unref (run_steps (t, 1));
      g_autofree float *p4 = g_new (float, np);
      lam_net_read_params (net, p4);
      g_assert_true (memcmp (p3, p4, np * sizeof (float)) != 0);
    }
  g_autofree float *hw = lam_trainer_copy_tensor (t, "dense1.weight", NULL, NULL);
  g_autofree float *hv = lam_trainer_copy_tensor (t, "bn1.running_var", NULL, NULL);
  g_assert_true (memcmp (hw, p3 + w1->offset, w1->n * sizeof (float)) == 0);
  g_assert_true (memcmp (hv, s3 + rv->offset, rv->n * sizeof (float)) == 0);
  float **acts = lam_trainer_activations (t, s.test, 5, &error);
  g_assert_no_error (error);
  g_autofree gint32 *pred = g_new (gint32, s.test->n);
  g_assert_true (lam_trainer_predict (t, s.test, pred, &error));
  g_assert_no_error (error);
  /* Dense2 runs fused with its ReLU in training; the views see its own
   * outputs at every batch size, the trainer's included (16 samples) */
  g_autoptr(LamDataset) first = lam_dataset_slice (s.test, 0, 16);
  g_autofree float *d2 = g_new (float, 16 * 16), *d3 = g_new (float, 16 * 2);
  int nodes[2] = { i_d2, i_d3 };
  float *outs[2] = { d2, d3 };
  g_assert_true (lam_trainer_node_outputs (t, first, nodes, 2, outs, &error));
  g_assert_no_error (error);
  lam_trainer_views_release (t);

  int negative = 0;
  for (int k = 0; k < 16; k++)
    {
      negative += d2[5 * 16 + k] < 0;
      g_assert_cmpfloat_with_epsilon (d2[5 * 16 + k], acts[i_d2][k], 1e-5);
    }
  g_assert_cmpint (negative, >, 0);
  for (int o = 0; o < 2; o++)
    g_assert_cmpfloat_with_epsilon (d3[5 * 2 + o], acts[i_d3][o], 1e-5);
  g_assert_cmpint (pred[5], ==, acts[i_d3][1] > acts[i_d3][0]);
  a3 = g_memdup2 (acts[i_d3], 2 * sizeof (float));
  lam_trainer_free_activations (t, acts);

  /* after the release: the last step's */
  g_autofree float *pn = g_new (float, np);
  lam_net_read_params (net, pn);
  g_autofree float *nw = lam_trainer_copy_tensor (t, "dense1.weight", NULL, NULL);
  g_assert_true (memcmp (nw, pn + w1->offset, w1->n * sizeof (float)) == 0);

  /* A trainer without a mirror, three steps from the same seed: the same
   * outputs, to the bit (one thread or two give one run) */
  {
    g_setenv ("LAMINA_VIEW_MIRROR", "0", TRUE);
    g_autoptr(LamTrainer) u = new_trainer (g, &c, &s);
    g_unsetenv ("LAMINA_VIEW_MIRROR");
    g_array_unref (run_steps (u, 3));
    float **b = lam_trainer_activations (u, s.test, 5, &error);
    g_assert_no_error (error);
    g_assert_false (lam_trainer_views_mirrored (u));
    g_assert_true (memcmp (b[i_d3], a3, 2 * sizeof (float)) == 0);
    lam_trainer_free_activations (u, b);
  }

  /* Threaded: a hold of 0.2 s. With a mirror the worker steps on; without,
   * it waits, and says so. */
  Watch w;
  watch_init (&w, t);
  lam_trainer_start (t);
  wait_steps (&w, 3);
  double waited0 = lam_trainer_views_wait (t);
  int held = lam_trainer_views_hold (t);
  g_autofree float *c1 = lam_trainer_copy_tensor (t, "dense1.weight", NULL, NULL);
  g_usleep (200000);
  int during = lam_trainer_step_count (t) - held;
  g_autofree float *c2 = lam_trainer_copy_tensor (t, "dense1.weight", NULL, NULL);
  g_assert_true (memcmp (c1, c2, w1->n * sizeof (float)) == 0);
  lam_trainer_views_release (t);
  wait_steps (&w, (int) n_metrics (&w) + 3);
  lam_trainer_stop (t);
  double waited = lam_trainer_views_wait (t) - waited0;
  g_test_message ("%s: %d steps during the hold; the worker waited %.3f s", mirror ? "mirror" : "no mirror",
                  during, waited);
  if (mirror)
    g_assert_cmpint (during, >, 3);
  else
    {
      g_assert_cmpint (during, <=, 1);   /* the step in progress at the hold */
      g_assert_cmpfloat (waited, >, 0.15);
    }
  watch_clear (&w);
  lam_train_config_clear (&c);
}

/* A mirror that cannot be made (no memory for its network): the views
 * use the trainer's nets, between its steps, and say so. */
static void
test_views_mirror_fails (void)
{
  LamTrainConfig c;
  config_init (&c, "moons", 1000, LAM_OPT_SGD, 0.05f, 10, 16, 1);
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_autoptr(LamGraph) g = mlp2d (16, 2, TRUE, LAM_LAYER_SOFTMAX_XENT);
  g_setenv ("LAMINA_VIEW_MIRROR", "1", TRUE);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
  g_unsetenv ("LAMINA_VIEW_MIRROR");
  g_array_unref (run_steps (t, 2));
  LamNet *net = lam_trainer_net (t);
  const LamTensorInfo *w1 = lam_net_find_tensor (net, "dense1.weight");
  g_autofree float *p = g_new (float, lam_net_n_params (net));
  lam_net_read_params (net, p);

  g_setenv ("LAMINA_HOST_MEMORY", "1", TRUE);   /* no room for a second network */
  g_assert_cmpint (lam_trainer_views_hold (t), ==, 2);
  g_unsetenv ("LAMINA_HOST_MEMORY");
  g_assert_false (lam_trainer_views_mirrored (t));
  g_autofree float *w = lam_trainer_copy_tensor (t, "dense1.weight", NULL, NULL);
  g_assert_nonnull (w);
  g_assert_true (memcmp (w, p + w1->offset, w1->n * sizeof (float)) == 0);
  g_autoptr(GError) error = NULL;
  float **acts = lam_trainer_activations (t, s.test, 0, &error);
  g_assert_no_error (error);
  lam_trainer_free_activations (t, acts);
  lam_trainer_views_release (t);
  /* and later holds too, without trying again */
  lam_trainer_views_hold (t);
  g_assert_false (lam_trainer_views_mirrored (t));
  lam_trainer_views_release (t);
  lam_train_config_clear (&c);
}

/* A step within a hold that keeps the training's lock would hang: it
 * ends the program with a message instead. */
static void
test_views_step_in_hold (void)
{
  if (g_test_subprocess ())
    {
      struct rlimit no_core = { 0, 0 };   /* the abort is the point: no core file */
      setrlimit (RLIMIT_CORE, &no_core);
      LamTrainConfig c;
      config_init (&c, "moons", 200, LAM_OPT_SGD, 0.05f, 10, 16, 1);
      g_auto(LamDataSplits) s = { 0 };
      open_data (&c, &s);
      g_autoptr(LamGraph) g = mlp2d (8, 2, FALSE, LAM_LAYER_SOFTMAX_XENT);
      g_setenv ("LAMINA_VIEW_MIRROR", "0", TRUE);
      g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
      lam_trainer_views_hold (t);
      LamMetrics m;
      lam_trainer_step (t, &m, NULL);
      return;
    }
  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*made within lam_trainer_views_hold, which keeps that lock on the CPU*");
}

static void
test_views_hold (void)
{
  views_hold_check (FALSE);
}

static void
test_views_mirror (void)
{
  views_hold_check (TRUE);
}

static void
test_predict (void)
{
  LamTrainConfig c;
  config_init (&c, "spiral", 600, LAM_OPT_ADAM, 0.01f, 5, 32, 2);
  g_auto(LamDataSplits) s = { 0 };
  open_data (&c, &s);
  g_assert_cmpint (s.test->n % 32, !=, 0);  /* a last, partial batch */
  g_autoptr(LamGraph) g = mlp2d (32, 2, TRUE, LAM_LAYER_SOFTMAX_XENT);
  g_autoptr(LamTrainer) t = new_trainer (g, &c, &s);
  g_autoptr(GArray) l = run_steps (t, -1);

  LamDataset *sets[] = { s.test, s.val, s.train };
  for (gsize k = 0; k < G_N_ELEMENTS (sets); k++)
    {
      LamDataset *ds = sets[k];
      g_autofree gint32 *pred = g_new (gint32, ds->n);
      g_autoptr(GError) error = NULL;
      double loss, acc;
      g_assert_true (lam_trainer_evaluate (t, ds, &loss, &acc, &error));
      g_assert_no_error (error);
      for (int i = 0; i < ds->n; i++)
        pred[i] = -1;
      g_assert_true (lam_trainer_predict (t, ds, pred, &error));
      g_assert_no_error (error);
      int correct = 0;
      for (int i = 0; i < ds->n; i++)
        {
          g_assert_cmpint (pred[i], >=, 0);
          g_assert_cmpint (pred[i], <, ds->n_classes);
          correct += pred[i] == ds->labels[i];
        }
      g_test_message ("%s: evaluate %.4f, predict %.4f", ds->name, acc, (double) correct / ds->n);
      g_assert_cmpfloat (acc, ==, (double) correct / ds->n);
      g_assert_cmpfloat (acc, >, 0.55);
    }
  lam_train_config_clear (&c);
}

/* ------------------------------------------------------------------ */
/* Fashion-MNIST */

static gboolean
have_fashion (void)
{
  const char *dir = g_getenv ("LAMINA_FASHION_MNIST_DIR");
  g_autofree char *path = g_build_filename (dir && *dir ? dir : LAM_FASHION_MNIST_DIR,
                                            "train-images-idx3-ubyte.gz", NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_test_skip ("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)");
  return FALSE;
}

/* The MLP preset on 3000 images, one epoch: quick, but well above chance. */
static void
test_fashion_limit (void)
{
  if (!have_fashion ())
    return;
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_load_preset ("mlp", &error);
  g_assert_no_error (error);
  m->config.data.limit = 3000;
  m->config.epochs = 1;
  g_free (m->config.backend);
  m->config.backend = g_strdup ("cpu");
  g_auto(LamDataSplits) s = { 0 };
  open_data (&m->config, &s);
  g_assert_cmpint (s.train->n, ==, 3000);
  g_autoptr(LamTrainer) t = new_trainer (m->graph, &m->config, &s);
  g_autoptr(GArray) l = run_steps (t, -1);
  g_autoptr(LamDataset) test = lam_dataset_slice (s.test, 0, 2000);
  double loss, acc;
  g_assert_true (lam_trainer_evaluate (t, test, &loss, &acc, &error));
  g_assert_no_error (error);
  g_test_message ("mlp, 3000 images, 1 epoch: test accuracy %.2f%%", acc * 100);
  g_assert_cmpfloat (acc, >=, 0.70);
}

static void
test_lenet_convergence (void)
{
  if (g_getenv ("LAMINA_SKIP_CONVERGENCE"))
    {
      g_test_skip ("LAMINA_SKIP_CONVERGENCE is set");
      return;
    }
  if (!have_fashion ())
    return;
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_load_preset ("lenet5", &error);
  g_assert_no_error (error);
  g_assert_cmpint (m->config.epochs, ==, 3);
  g_auto(LamDataSplits) s = { 0 };
  open_data (&m->config, &s);
  g_autoptr(LamTrainer) t = new_trainer (m->graph, &m->config, &s);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr(GArray) l = run_steps (t, -1);
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  double loss, acc;
  g_assert_true (lam_trainer_evaluate (t, s.test, &loss, &acc, &error));
  g_assert_no_error (error);
  g_test_message ("LeNet-5, 3 epochs on %s: test loss %.4f, accuracy %.2f%%, %.1f s",
                  lam_trainer_backend (t)->description, loss, acc * 100, secs);
  g_assert_cmpint (s.test->n, ==, 10000);
  /* Well short of 88% means something is broken; just short is reported. */
  g_assert_cmpfloat (acc, >=, 0.86);
  if (acc < 0.88)
    g_test_incomplete ("LeNet-5 preset after 3 epochs reaches less than 88% test accuracy");
}

int
main (int argc, char **argv)
{
  static const ResumeCase sgd = { LAM_OPT_SGD, FALSE, LAM_SCHED_CONSTANT };
  static const ResumeCase sgd_reg = { LAM_OPT_SGD, TRUE, LAM_SCHED_COSINE };
  static const ResumeCase adamw = { LAM_OPT_ADAMW, FALSE, LAM_SCHED_CONSTANT };
  static const ResumeCase adamw_reg = { LAM_OPT_ADAMW, TRUE, LAM_SCHED_STEP };
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("test-train-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/engine/train/moons", test_moons);
  g_test_add_func ("/engine/train/spiral", test_spiral);
  g_test_add_func ("/engine/train/xor-mse", test_xor_mse);
  g_test_add_func ("/engine/train/determinism", test_determinism);
  g_test_add_data_func ("/engine/train/resume/sgd", &sgd, test_resume);
  g_test_add_data_func ("/engine/train/resume/sgd-dropout-batchnorm", &sgd_reg, test_resume);
  g_test_add_data_func ("/engine/train/resume/adamw", &adamw, test_resume);
  g_test_add_data_func ("/engine/train/resume/adamw-dropout-batchnorm", &adamw_reg, test_resume);
  g_test_add_func ("/engine/train/load-errors", test_load_errors);
  g_test_add_func ("/engine/train/threaded", test_threaded);
  g_test_add_func ("/engine/train/threaded-finish", test_threaded_finish);
  g_test_add_func ("/engine/train/diverge", test_diverge);
  g_test_add_func ("/engine/train/predict", test_predict);
  g_test_add_func ("/engine/train/views/hold", test_views_hold);
  g_test_add_func ("/engine/train/views/mirror", test_views_mirror);
  g_test_add_func ("/engine/train/views/mirror-fails", test_views_mirror_fails);
  g_test_add_func ("/engine/train/views/step-in-hold", test_views_step_in_hold);
  g_test_add_func ("/engine/train/fashion-mnist/limit", test_fashion_limit);
  g_test_add_func ("/engine/train/fashion-mnist/lenet5-convergence", test_lenet_convergence);

  ret = g_test_run ();
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return ret;
}
