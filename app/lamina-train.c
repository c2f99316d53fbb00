/* lamina-train: train a Lamina model in the terminal.
 *
 *   lamina-train MODEL.json | --preset NAME [options]
 *
 * Progress goes to standard error when it is a terminal; the last line
 * on standard output is one JSON object with the results. Bad input
 * gives one line naming the file, field or node, and exit status 2.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-train"

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "lam-model-file.h"
#include "lam-trainer.h"

static char *opt_preset, *opt_dataset, *opt_labels, *opt_test_images, *opt_test_labels;
static char *opt_optimizer, *opt_schedule, *opt_backend, *opt_load, *opt_save, *opt_log;
/* Options not given keep these "unset" values, which no user can type. */
#define UNSET_INT G_MININT
#define UNSET_SEED G_MININT64
static int opt_epochs = UNSET_INT, opt_batch = UNSET_INT, opt_threads = UNSET_INT, opt_limit = UNSET_INT;
static double opt_lr = NAN, opt_momentum = NAN, opt_wd = NAN, opt_val = NAN;

/* Numbers must be finite: "nan" or "inf" would otherwise read as unset. */
static gboolean
parse_number (const char *name, const char *value, gpointer data, GError **error)
{
  static const struct { const char *name; double *var; } vars[] = {
    { "--lr", &opt_lr }, { "--momentum", &opt_momentum },
    { "--weight-decay", &opt_wd }, { "--val-fraction", &opt_val },
  };
  char *end = NULL;
  double v = g_ascii_strtod (value, &end);
  if (end == value || *end != '\0' || !isfinite (v))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s %s: not a number", name, value);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (vars); i++)
    if (strcmp (vars[i].name, name) == 0)
      *vars[i].var = v;
  return TRUE;
}
static gint64 opt_seed = UNSET_SEED;
static gboolean opt_quiet, opt_progress, opt_no_progress, opt_list, opt_version;
static volatile gsize interrupted;

static GOptionEntry entries[] = {
  { "preset", 'p', 0, G_OPTION_ARG_STRING, &opt_preset, NULL /* the presets' names, in main */, "NAME" },
  { "dataset", 'd', 0, G_OPTION_ARG_FILENAME, &opt_dataset, "fashion-mnist; 2-D sets spiral, moons, circles, xor, blobs; sequences adding, sine, parity, text; or an IDX images file", "NAME|PATH" },
  { "labels", 0, 0, G_OPTION_ARG_FILENAME, &opt_labels, "IDX labels file for --dataset PATH (default: guessed from the images name)", "PATH" },
  { "test-images", 0, 0, G_OPTION_ARG_FILENAME, &opt_test_images, "IDX test images (default: hold out 1/6 of the training file)", "PATH" },
  { "test-labels", 0, 0, G_OPTION_ARG_FILENAME, &opt_test_labels, "IDX test labels", "PATH" },
  { "epochs", 'e', 0, G_OPTION_ARG_INT, &opt_epochs, "Epochs to train", "N" },
  { "batch", 'b', 0, G_OPTION_ARG_INT, &opt_batch, "Batch size", "N" },
  { "lr", 0, 0, G_OPTION_ARG_CALLBACK, parse_number, "Learning rate", "RATE" },
  { "optimizer", 'o', 0, G_OPTION_ARG_STRING, &opt_optimizer, "sgd, adam or adamw", "NAME" },
  { "momentum", 0, 0, G_OPTION_ARG_CALLBACK, parse_number, "SGD momentum", "M" },
  { "weight-decay", 0, 0, G_OPTION_ARG_CALLBACK, parse_number, "Weight decay", "WD" },
  { "schedule", 0, 0, G_OPTION_ARG_STRING, &opt_schedule, "Learning-rate schedule: constant, step or cosine", "NAME" },
  { "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed, "Random seed (same seed, same run)", "N" },
  { "backend", 0, 0, G_OPTION_ARG_STRING, &opt_backend, "cpu, cuda or auto", "NAME" },
  { "threads", 't', 0, G_OPTION_ARG_INT, &opt_threads, "CPU threads (0: all cores)", "N" },
  { "limit", 'l', 0, G_OPTION_ARG_INT, &opt_limit, "Use at most N training images (0: all)", "N" },
  { "val-fraction", 0, 0, G_OPTION_ARG_CALLBACK, parse_number, "Share of the training set held out for validation", "F" },
  { "load", 0, 0, G_OPTION_ARG_FILENAME, &opt_load, "Load weights (and continue the run) from a checkpoint", "FILE" },
  { "save", 0, 0, G_OPTION_ARG_FILENAME, &opt_save, "Save weights and optimizer state at the end (safetensors)", "FILE" },
  { "log", 0, 0, G_OPTION_ARG_FILENAME, &opt_log, "Write a JSON line per step and per epoch", "FILE" },
  { "progress", 0, 0, G_OPTION_ARG_NONE, &opt_progress, "Show the progress bar even when not on a terminal", NULL },
  { "no-progress", 0, 0, G_OPTION_ARG_NONE, &opt_no_progress, "Never show the progress bar", NULL },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "Print only the final JSON line", NULL },
  { "list-presets", 0, 0, G_OPTION_ARG_NONE, &opt_list, "List the presets and exit", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
  { NULL }
};

G_GNUC_PRINTF (1, 2) static int
fail (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "lamina-train: %s\n", msg);
  return 2;
}

static gboolean
on_sigint (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
sigint_handler (int sig)
{
  interrupted = 1;
}

static char *
format_time (double s)
{
  if (!isfinite (s) || s < 0)
    return g_strdup ("--:--");
  int t = (int) (s + 0.5);
  if (t >= 3600)
    return g_strdup_printf ("%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  return g_strdup_printf ("%02d:%02d", t / 60, t % 60);
}

static void
draw_progress (const LamMetrics *m, int epochs)
{
  const int width = 28;
  double frac = (double) m->step_in_epoch / m->steps_per_epoch;
  int fill = (int) (frac * width);
  char bar[3 * 32 + 1] = "";
  for (int i = 0; i < width; i++)
    strcat (bar, i < fill ? "█" : "░");
  g_autofree char *eta = format_time (m->eta);
  fprintf (stderr, "\r\033[Kepoch %d/%d %s %3.0f%%  loss %.4f  acc %5.1f%%  %6.0f img/s  eta %s",
           m->epoch + 1, epochs, bar, frac * 100, m->train_loss, m->train_accuracy * 100,
           m->images_per_second, eta);
  fflush (stderr);
}

static void
log_metrics (FILE *log, const LamMetrics *m)
{
  if (log == NULL)
    return;
  fprintf (log, "{\"epoch\":%d,\"step\":%d,\"loss\":%.6g,\"accuracy\":%.6g,\"lr\":%.6g,\"images_per_second\":%.1f",
           m->epoch + 1, m->step, m->batch_loss, m->batch_accuracy, m->lr, m->images_per_second);
  if (m->epoch_end)
    {
      fprintf (log, ",\"epoch_end\":true,\"train_loss\":%.6g,\"train_accuracy\":%.6g", m->train_loss, m->train_accuracy);
      if (isfinite (m->val_loss))
        fprintf (log, ",\"val_loss\":%.6g,\"val_accuracy\":%.6g", m->val_loss, m->val_accuracy);
    }
  fprintf (log, "}\n");
}

/* Guess the labels file beside an images file: "...images-idx3..." -> "...labels-idx1..." */
static char *
guess_labels (const char *images)
{
  g_autofree char *dir = g_path_get_dirname (images);
  g_autofree char *base = g_path_get_basename (images);
  const char *pairs[][2] = { { "images-idx3", "labels-idx1" }, { "images", "labels" } };
  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      char *hit = strstr (base, pairs[i][0]);
      if (hit == NULL)
        continue;
      g_autoptr(GString) s = g_string_new_len (base, hit - base);
      g_string_append (s, pairs[i][1]);
      g_string_append (s, hit + strlen (pairs[i][0]));
      return g_build_filename (dir, s->str, NULL);
    }
  return NULL;
}

static gboolean
apply_options (LamTrainConfig *c, GError **error)
{
  if (opt_dataset)
    {
      LamSynthKind k;
      g_free (c->data.name);
      if (g_strcmp0 (opt_dataset, "fashion-mnist") == 0 || lam_synth_kind_from_name (opt_dataset, &k))
        c->data.name = g_strdup (opt_dataset);
      else
        {
          c->data.name = g_strdup ("idx");
          g_free (c->data.train_images);
          c->data.train_images = g_strdup (opt_dataset);
          g_free (c->data.train_labels);
          c->data.train_labels = opt_labels ? g_strdup (opt_labels) : guess_labels (opt_dataset);
          if (c->data.train_labels == NULL)
            {
              g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                           "--dataset %s: not a dataset name, and no labels file given (--labels)", opt_dataset);
              return FALSE;
            }
          if (opt_test_images)
            {
              c->data.test_images = g_strdup (opt_test_images);
              c->data.test_labels = opt_test_labels ? g_strdup (opt_test_labels) : guess_labels (opt_test_images);
            }
        }
    }
  if (opt_optimizer && !lam_opt_kind_from_name (opt_optimizer, &c->opt.kind))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "--optimizer %s: unknown (sgd, adam or adamw)", opt_optimizer);
      return FALSE;
    }
  if (opt_schedule && !lam_sched_kind_from_name (opt_schedule, &c->opt.schedule))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "--schedule %s: unknown (constant, step or cosine)", opt_schedule);
      return FALSE;
    }
  if (opt_epochs != UNSET_INT) c->epochs = opt_epochs;
  if (opt_batch != UNSET_INT) c->batch = opt_batch;
  if (opt_threads != UNSET_INT) c->threads = opt_threads;
  if (!isnan (opt_lr)) c->opt.lr = (float) opt_lr;
  if (!isnan (opt_momentum)) c->opt.momentum = (float) opt_momentum;
  if (!isnan (opt_wd)) c->opt.weight_decay = (float) opt_wd;
  if (opt_backend)
    {
      g_free (c->backend);
      c->backend = g_strdup (opt_backend);
    }
  if (opt_limit != UNSET_INT)
    {
      if (opt_limit < 0)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "--limit %d: must be 0 (all) or more", opt_limit);
          return FALSE;
        }
      c->data.limit = opt_limit;
    }
  if (!isnan (opt_val))
    {
      if (!(opt_val >= 0 && opt_val <= 0.5))
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "--val-fraction %g: must be between 0 and 0.5", opt_val);
          return FALSE;
        }
      c->data.val_fraction = (float) opt_val;
    }
  if (opt_seed != UNSET_SEED)
    {
      if (opt_seed < 0)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "--seed %" G_GINT64_FORMAT ": must be 0 or more", opt_seed);
          return FALSE;
        }
      c->seed = (guint64) opt_seed;
    }
  return lam_train_config_check (c, error);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[MODEL.json] - train a Lamina network");
  g_autofree char *preset_list = g_strjoinv (", ", (char **) lam_preset_names ());
  g_autofree char *preset_help = g_strdup_printf ("Train a preset: %s (--list-presets says what each is)", preset_list);
  entries[0].description = preset_help;
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Trains a network from a Lamina model file or a preset, in the terminal.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail ("%s (see --help)", error->message);

  if (opt_version)
    {
      printf ("lamina-train %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (opt_list)
    {
      int width = 0;
      for (const char *const *p = lam_preset_names (); *p; p++)
        width = MAX (width, (int) strlen (*p));
      for (const char *const *p = lam_preset_names (); *p; p++)
        {
          g_autoptr(LamModelFile) m = lam_model_file_load_preset (*p, NULL);
          printf ("%-*s  %s\n", width, *p, m && m->description ? m->description : "");
        }
      return 0;
    }
  if ((argc > 2) || (argc == 2 && opt_preset) || (argc < 2 && !opt_preset))
    return fail ("give one model file or --preset NAME (see --help)");

  g_autoptr(LamModelFile) model = NULL;
  g_autofree char *preset_path = opt_preset ? lam_preset_path (opt_preset) : NULL;
  if (opt_preset && preset_path == NULL)
    {
      g_autofree char *names = g_strjoinv (", ", (char **) lam_preset_names ());
      return fail ("--preset %s: no such preset (%s)", opt_preset, names);
    }
  if (opt_preset)
    model = lam_model_file_load_preset (opt_preset, &error);
  else
    model = lam_model_file_load (argv[1], &error);
  if (model == NULL)
    return fail ("%s", error->message);

  LamTrainConfig *cfg = &model->config;
  if (!apply_options (cfg, &error))
    return fail ("%s", error->message);
  if (!lam_graph_validate (model->graph, &error))
    return fail ("%s: %s", opt_preset ? opt_preset : argv[1], error->message);

  g_auto(LamDataSplits) data = { 0 };
  if (!lam_data_open (&cfg->data, cfg->seed, &data, &error))
    return fail ("%s", error->message);

  g_autoptr(LamTrainer) trainer = lam_trainer_new (model->graph, cfg, &data, &error);
  if (trainer == NULL)
    return fail ("%s", error->message);
  if (opt_load && !lam_trainer_load (trainer, opt_load, &error))
    return fail ("%s", error->message);

  if (opt_save)
    {
      g_autofree char *dir = g_path_get_dirname (opt_save);
      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        return fail ("--save %s: the folder %s does not exist", opt_save, dir);
      if (g_file_test (opt_save, G_FILE_TEST_IS_DIR))
        return fail ("--save %s: is a folder", opt_save);
    }

  FILE *log = NULL;
  if (opt_log && !(log = fopen (opt_log, "w")))
    return fail ("%s: cannot write the log: %s", opt_log, g_strerror (errno));

  gboolean tty = isatty (STDERR_FILENO);
  gboolean progress = !opt_quiet && !opt_no_progress && (tty || opt_progress);
  LamBackend *be = lam_trainer_backend (trainer);
  if (!opt_quiet)
    {
      fprintf (stderr, "%s: %" G_GINT64_FORMAT " parameters, %.2f MFLOPs per sample\n",
               model->name ? model->name : "model", model->graph->total_params,
               model->graph->total_flops / 1e6);
      fprintf (stderr, "data: %s, %d training, %d validation, %d test samples\n", cfg->data.name,
               data.train->n, data.val ? data.val->n : 0, data.test ? data.test->n : 0);
      fprintf (stderr, "backend: %s", be->description);
      if (lam_trainer_backend_note (trainer))
        fprintf (stderr, " (CUDA not used: %s)", lam_trainer_backend_note (trainer));
      fprintf (stderr, "\n");
    }

  signal (SIGINT, sigint_handler);
  (void) on_sigint;

  LamMetrics m = { 0 };
  double last_draw = 0;
  int first_epoch = lam_trainer_epoch (trainer);
  while (!lam_trainer_done (trainer) && !interrupted)
    {
      if (!lam_trainer_step (trainer, &m, &error))
        {
          if (progress)
            fprintf (stderr, "\n");
          if (log)
            fclose (log);
          return fail ("%s", error->message);
        }
      log_metrics (log, &m);
      double now = g_get_monotonic_time () / 1e6;
      if (progress && (now - last_draw > 0.1 || m.epoch_end))
        {
          draw_progress (&m, cfg->epochs);
          last_draw = now;
        }
      if (m.epoch_end && !opt_quiet)
        {
          if (progress)
            fprintf (stderr, "\n");
          fprintf (stderr, "epoch %d/%d: train loss %.4f acc %.2f%%", m.epoch + 1, cfg->epochs,
                   m.train_loss, m.train_accuracy * 100);
          if (isfinite (m.val_loss))
            fprintf (stderr, ", validation loss %.4f acc %.2f%%", m.val_loss, m.val_accuracy * 100);
          fprintf (stderr, ", %.0f img/s\n", m.images_per_second);
        }
    }
  if (interrupted && progress)
    fprintf (stderr, "\ninterrupted\n");
  if (log)
    fclose (log);

  double test_loss = NAN, test_acc = NAN;
  if (data.test && data.test->n > 0 && !lam_trainer_evaluate (trainer, data.test, &test_loss, &test_acc, &error))
    return fail ("%s", error->message);
  if (opt_save && !lam_trainer_save (trainer, opt_save, &error))
    return fail ("%s", error->message);
  /* "CUDA graphs: on, 936 steps replayed, 39 GPU operations a step" or
   * "CUDA graphs: off (why)" */
  g_autofree char *graphs = be->ops->graph_status ? be->ops->graph_status (be, NULL) : NULL;
  if (graphs && !opt_quiet)
    fprintf (stderr, "%s\n", graphs);

  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model->name ? model->name : "");
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, be->name);
  if (graphs)
    {
      json_builder_set_member_name (b, "graphs");
      json_builder_add_string_value (b, graphs);
    }
  json_builder_set_member_name (b, "threads");
  json_builder_add_int_value (b, be->n_threads);
  json_builder_set_member_name (b, "epochs");
  json_builder_add_int_value (b, lam_trainer_epoch (trainer));
  json_builder_set_member_name (b, "steps");
  json_builder_add_int_value (b, lam_trainer_step_count (trainer));
  json_builder_set_member_name (b, "batch");
  json_builder_add_int_value (b, lam_net_batch (lam_trainer_net (trainer)));
#define ADD_NUM(key, v) G_STMT_START { json_builder_set_member_name (b, key); \
    if (isfinite (v)) json_builder_add_double_value (b, v); else json_builder_add_null_value (b); } G_STMT_END
  ADD_NUM ("train_loss", m.step ? m.train_loss : NAN);
  ADD_NUM ("train_accuracy", m.step ? m.train_accuracy : NAN);
  ADD_NUM ("val_loss", m.val_loss);
  ADD_NUM ("val_accuracy", m.val_accuracy);
  ADD_NUM ("test_loss", test_loss);
  ADD_NUM ("test_accuracy", test_acc);
  ADD_NUM ("images_per_second", m.images_per_second);
  ADD_NUM ("seconds", m.elapsed);
#undef ADD_NUM
  json_builder_set_member_name (b, "parameters");
  json_builder_add_int_value (b, model->graph->total_params);
  json_builder_set_member_name (b, "interrupted");
  json_builder_add_boolean_value (b, interrupted != 0);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *line = json_to_string (root, FALSE);
  printf ("%s\n", line);
  (void) first_epoch;
  return interrupted ? 130 : 0;
}
