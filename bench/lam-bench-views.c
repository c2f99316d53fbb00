/* lam-bench-views: what the live views cost the training, headless.
 *
 *   build/bench/lam-bench-views [PRESET [BACKEND [SECONDS [ROUNDS]]]]
 *   (defaults: lenet5 auto 3 3)
 *
 * Trains PRESET on its dataset in the trainer's worker thread, three ways
 * in each round, in a rotating order: without views; with a view thread
 * that refreshes 10 times a second as the window does with every view
 * open (the first weight tensor, one sample's activations, and class
 * predictions over 1000 validation images, all within one hold), on the
 * trainer's own nets (LAMINA_VIEW_MIRROR=0: the worker waits for them);
 * and the same on a mirror (LAMINA_VIEW_MIRROR=1: a second backend, on a
 * GPU its own stream, so the worker trains on). Prints a Markdown table of
 * the medians: training images/s (after 0.5 s of warm-up), against the
 * run without views, the worker's waits, and the refreshes' duration.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lam-model-file.h"
#include "lam-trainer.h"

enum { NONE, HOLD, MIRROR, N_MODES };
static const char *const mode_names[N_MODES] = {
  "no views", "views, trainer's nets (LAMINA_VIEW_MIRROR=0)", "views, mirror (LAMINA_VIEW_MIRROR=1)",
};

typedef struct {
  LamTrainer *t;
  LamDataset *val;        /* the refreshes' predictions */
  gint        stop;       /* atomic */
  int         refreshes;
  double      busy;       /* seconds in refreshes */
  double      held;       /* of which between hold and release */
  char       *error;
} Viewer;

static gpointer
viewer (gpointer data)
{
  Viewer *v = data;
  const char *tensor = lam_net_tensor (lam_trainer_net (v->t), 0)->name;
  g_autofree gint32 *pred = g_new (gint32, v->val->n);

  while (!g_atomic_int_get (&v->stop))
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(GError) error = NULL;
      lam_trainer_views_hold (v->t);
      gint64 h0 = g_get_monotonic_time ();
      g_free (lam_trainer_copy_tensor (v->t, tensor, NULL, NULL));
      float **acts = lam_trainer_activations (v->t, v->val, v->refreshes % v->val->n, &error);
      gboolean ok = acts != NULL && lam_trainer_predict (v->t, v->val, pred, &error);
      v->held += (g_get_monotonic_time () - h0) / 1e6;
      lam_trainer_views_release (v->t);
      lam_trainer_free_activations (v->t, acts);
      if (!ok)
        {
          v->error = g_strdup (error->message);
          return NULL;
        }
      v->refreshes++;
      gint64 took = g_get_monotonic_time () - t0;
      v->busy += took / 1e6;
      if (took < 100000)
        g_usleep (100000 - took);
    }
  return NULL;
}

typedef struct {
  double images_per_second, waited, refresh_ms, held;
  int    refreshes;
  gboolean mirrored;
} Result;

static gboolean
run (LamModelFile *m, LamDataSplits *data, LamDataset *val, int mode, double seconds, Result *r,
     GError **error)
{
  g_setenv ("LAMINA_VIEW_MIRROR", mode == MIRROR ? "1" : "0", TRUE);
  g_autoptr(LamTrainer) t = lam_trainer_new (m->graph, &m->config, data, error);
  if (t == NULL)
    return FALSE;
  if (mode != NONE)
    {
      /* the mirror's setup (a backend, its uploads) before the clock */
      lam_trainer_views_hold (t);
      lam_trainer_views_release (t);
    }
  lam_trainer_start (t);
  g_usleep (500000);
  int s0 = lam_trainer_step_count (t);
  double w0 = lam_trainer_views_wait (t);
  gint64 t0 = g_get_monotonic_time ();
  Viewer v = { t, val, 0, 0, 0, 0, NULL };
  GThread *th = mode != NONE ? g_thread_new ("viewer", viewer, &v) : NULL;
  g_usleep ((gulong) (seconds * 1e6));
  int s1 = lam_trainer_step_count (t);
  double elapsed = (g_get_monotonic_time () - t0) / 1e6;
  double w1 = lam_trainer_views_wait (t);
  g_atomic_int_set (&v.stop, 1);
  if (th)
    g_thread_join (th);
  r->mirrored = lam_trainer_views_mirrored (t);
  gboolean failed = lam_trainer_state (t) == LAM_TRAINER_FAILED || lam_trainer_state (t) == LAM_TRAINER_FINISHED;
  lam_trainer_stop (t);
  if (v.error != NULL || failed)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BACKEND, "%s: %s", mode_names[mode],
                   v.error ? v.error : "the training ended before the measurement did");
      g_free (v.error);
      return FALSE;
    }
  r->images_per_second = (s1 - s0) * (double) lam_net_batch (lam_trainer_net (t)) / elapsed;
  r->waited = w1 - w0;
  r->refreshes = v.refreshes;
  r->refresh_ms = v.refreshes ? v.busy / v.refreshes * 1e3 : 0;
  r->held = v.held;
  return TRUE;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main (int argc, char **argv)
{
  const char *preset = argc > 1 ? argv[1] : "lenet5", *backend = argc > 2 ? argv[2] : "auto";
  double seconds = argc > 3 ? g_ascii_strtod (argv[3], NULL) : 3;
  int rounds = argc > 4 ? atoi (argv[4]) : 3;
  g_autoptr(GError) error = NULL;

  if (seconds <= 0 || seconds > 600 || rounds < 1 || rounds > 100)
    {
      fprintf (stderr, "usage: lam-bench-views [PRESET [BACKEND [SECONDS (0-600] [ROUNDS (1-100)]]]]\n");
      return 2;
    }
  g_autoptr(LamModelFile) m = lam_model_file_load_preset (preset, &error);
  if (m == NULL)
    {
      fprintf (stderr, "lam-bench-views: %s: %s\n", preset, error->message);
      return 2;
    }
  m->config.epochs = 100000;   /* runs until stopped */
  g_free (m->config.backend);
  m->config.backend = g_strdup (backend);
  g_auto(LamDataSplits) data = { 0 };
  if (!lam_data_open (&m->config.data, m->config.seed, &data, &error))
    {
      fprintf (stderr, "lam-bench-views: %s\n", error->message);
      return 2;
    }
  LamDataset *from = data.val != NULL && data.val->n > 0 ? data.val : data.train;
  g_autoptr(LamDataset) val = lam_dataset_slice (from, 0, MIN (1000, from->n));

  double ips[N_MODES][100], waited[N_MODES][100], ms[N_MODES][100];
  int refreshes[N_MODES] = { 0 };
  gboolean mirrored = FALSE;
  g_autofree char *description = NULL;
  for (int r = 0; r < rounds; r++)
    for (int k = 0; k < N_MODES; k++)
      {
        int mode = (k + r) % N_MODES;
        Result res;
        if (!run (m, &data, val, mode, seconds, &res, &error))
          {
            fprintf (stderr, "lam-bench-views: %s\n", error->message);
            return 1;
          }
        ips[mode][r] = res.images_per_second;
        waited[mode][r] = res.waited;
        ms[mode][r] = res.refresh_ms;
        refreshes[mode] += res.refreshes;
        if (mode == MIRROR)
          mirrored = res.mirrored;
        fprintf (stderr, "round %d, %s: %.0f images/s, the worker waited %.3f s, %d refreshes of %.1f ms "
                 "(held %.3f s in all)\n", r + 1, mode_names[mode], res.images_per_second, res.waited,
                 res.refreshes, res.refresh_ms, res.held);
      }
  g_unsetenv ("LAMINA_VIEW_MIRROR");
  {
    /* which backend ran: a trainer made once more, not started */
    g_autoptr(LamTrainer) t = lam_trainer_new (m->graph, &m->config, &data, NULL);
    description = g_strdup (t ? lam_trainer_backend (t)->description : "?");
  }

  double base = median (ips[NONE], rounds);
  printf ("%s on %s, batch %d; %d rounds of %.1f s, medians; views refreshed 10 times a second "
          "(weights, a sample's activations, predictions for %d images)%s.\n\n",
          preset, description, m->config.batch, rounds, seconds, val->n,
          mirrored ? "" : "; NOTE: the mirror could not be made, its row ran on the trainer's nets");
  printf ("| | images/s | against no views | worker's waits s/s | refresh ms | refreshes |\n");
  printf ("|---|---:|---:|---:|---:|---:|\n");
  for (int mode = 0; mode < N_MODES; mode++)
    {
      double i = median (ips[mode], rounds);
      printf ("| %s | %.0f | %.3f | %.3f | %.1f | %d |\n", mode_names[mode], i, i / base,
              median (waited[mode], rounds) / seconds, mode == NONE ? 0 : median (ms[mode], rounds),
              refreshes[mode]);
    }
  return 0;
}
