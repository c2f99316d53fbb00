/* test-seq-train.c: the sequence presets train to the accuracy they
 * promise (suite "slow": minutes on two cores).
 *
 *  - lstm: Fashion-MNIST read row by row, 5 epochs: at least 85% test
 *    accuracy (about 88% is usual; 1 min on 2 idle cores).
 *  - charlstm: the shipped text, 2 epochs: the next-character accuracy
 *    well above always guessing the most frequent character, and text
 *    generated from the trained net.
 *
 * LAMINA_SKIP_CONVERGENCE=1 skips them, as in test-train.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib.h>

#include "lam-model-file.h"
#include "lam-seq.h"
#include "lam-trainer.h"

static gboolean
skip (void)
{
  if (g_getenv ("LAMINA_SKIP_CONVERGENCE"))
    {
      g_test_skip ("LAMINA_SKIP_CONVERGENCE is set");
      return TRUE;
    }
  return FALSE;
}

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

/* Trains a preset to its end; returns the trainer and its data. */
static LamTrainer *
train_preset (const char *name, int epochs, LamDataSplits *s, double *secs)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_load_preset (name, &error);
  g_assert_no_error (error);
  if (epochs > 0)
    m->config.epochs = epochs;
  g_free (m->config.backend);
  m->config.backend = g_strdup ("cpu");
  g_assert_true (lam_data_open (&m->config.data, m->config.seed, s, &error));
  g_assert_no_error (error);
  LamTrainer *t = lam_trainer_new (m->graph, &m->config, s, &error);
  g_assert_no_error (error);
  gint64 t0 = g_get_monotonic_time ();
  while (!lam_trainer_done (t))
    {
      LamMetrics mm;
      g_assert_true (lam_trainer_step (t, &mm, &error));
      g_assert_no_error (error);
      if (mm.epoch_end)
        g_test_message ("%s epoch %d: train loss %.4f acc %.2f%%, validation acc %.2f%%, %.0f img/s", name,
                        mm.epoch + 1, mm.train_loss, 100 * mm.train_accuracy, 100 * mm.val_accuracy,
                        mm.images_per_second);
    }
  *secs = (g_get_monotonic_time () - t0) / 1e6;
  return t;
}

static void
test_lstm_rows (void)
{
  if (skip () || !have_fashion ())
    return;
  g_auto (LamDataSplits) s = { 0 };
  double secs, loss, acc;
  g_autoptr(GError) error = NULL;
  g_autoptr(LamTrainer) t = train_preset ("lstm", 0, &s, &secs);
  g_assert_true (lam_trainer_evaluate (t, s.test, &loss, &acc, &error));
  g_assert_no_error (error);
  g_test_message ("LSTM on Fashion-MNIST rows, %d epochs on %s: test loss %.4f, accuracy %.2f%%, %.1f s",
                  lam_trainer_epoch (t), lam_trainer_backend (t)->description, loss, 100 * acc, secs);
  g_assert_cmpint (s.test->n, ==, 10000);
  g_assert_cmpfloat (acc, >=, 0.85);
}

static void
test_charlstm (void)
{
  if (skip ())
    return;
  g_auto (LamDataSplits) s = { 0 };
  double secs, loss, acc;
  g_autoptr(GError) error = NULL;
  g_autoptr(LamTrainer) t = train_preset ("charlstm", 2, &s, &secs);
  g_assert_true (lam_trainer_evaluate (t, s.test, &loss, &acc, &error));
  g_assert_no_error (error);

  /* the most frequent character (the space) as the baseline */
  int counts[256] = { 0 }, best = 0;
  for (int i = 0; i < s.test->n; i++)
    counts[s.test->labels[i]]++;
  for (int k = 0; k < 256; k++)
    best = MAX (best, counts[k]);
  double base = (double) best / s.test->n;
  g_test_message ("character LSTM, 2 epochs, %.1f s: test loss %.4f, next-character accuracy %.2f%% "
                  "(most frequent character: %.2f%%)", secs, loss, 100 * acc, 100 * base);
  g_assert_cmpfloat (acc, >, 2 * base);

  g_autofree char *text = lam_seq_generate_text_from_trainer (t, (const char *const *) s.train->class_names,
                                                              "The visual cortex", 200, 0.6f, 1, &error);
  g_assert_no_error (error);
  g_test_message ("sampled: %s", text);
  g_assert_cmpint (g_utf8_strlen (text, -1), ==, 17 + 200);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/seq-train/lstm-fashion-rows", test_lstm_rows);
  g_test_add_func ("/engine/seq-train/charlstm", test_charlstm);
  return g_test_run ();
}
