/* fuzz-safetensors.c: a weights or checkpoint file from anywhere, read
 * as "Open Weights…" and "Resume" read it: lam_st_file_load, then
 * lam_trainer_load into a small trainer (Dense, BatchNorm, Adam on the
 * spiral set), whose tensors the corpus's seed file has.
 *
 * Checks, besides memory errors and GLib criticals:
 * - a rejected file gets a LAM_ERROR error that starts with the file's
 *   name;
 * - every tensor of an accepted file has as many floats as its shape
 *   says, all readable;
 * - an accepted file saved again reads back the same;
 * - after lam_trainer_load, accepted or not, the trainer still steps.
 *
 * FUZZ_WRITE_SEED=path writes the trainer's own checkpoint there (the
 * corpus's seed).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "fuzz-common.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "lam-model-file.h"
#include "lam-safetensors.h"
#include "lam-trainer.h"

static const char model_json[] =
  "{\"format\": \"lamina-model\", \"version\": 1, \"name\": \"fuzz\", \"nodes\": ["
  "{\"name\": \"input\", \"type\": \"Input\", \"params\": {\"channels\": 2, \"height\": 1, \"width\": 1}},"
  "{\"name\": \"flatten\", \"type\": \"Flatten\", \"inputs\": [\"input\"]},"
  "{\"name\": \"dense1\", \"type\": \"Dense\", \"params\": {\"units\": 8}, \"inputs\": [\"flatten\"]},"
  "{\"name\": \"bn1\", \"type\": \"BatchNorm\", \"inputs\": [\"dense1\"]},"
  "{\"name\": \"relu1\", \"type\": \"ReLU\", \"inputs\": [\"bn1\"]},"
  "{\"name\": \"dense2\", \"type\": \"Dense\", \"params\": {\"units\": 2}, \"inputs\": [\"relu1\"]},"
  "{\"name\": \"loss\", \"type\": \"SoftmaxCrossEntropy\", \"inputs\": [\"dense2\"]}],"
  "\"data\": {\"name\": \"spiral\", \"n_samples\": 64, \"noise\": 0.1, \"val_fraction\": 0},"
  "\"training\": {\"epochs\": 2, \"batch\": 16, \"seed\": 1, \"backend\": \"cpu\", \"threads\": 1,"
  " \"optimizer\": {\"kind\": \"adam\", \"lr\": 0.01}}}";

static LamTrainer *trainer;
static LamDataSplits splits;
static char *tmp_dir;

static void
remove_tmp_dir (void)
{
  g_rmdir (tmp_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = NULL;
  const char *seed_path = g_getenv ("FUZZ_WRITE_SEED");

  fuzz_setup ();
  m = lam_model_file_parse (model_json, -1, "fuzz-model.json", &error);
  fuzz_check (m != NULL, "%s", error->message);
  fuzz_check (lam_data_open (&m->config.data, m->config.seed, &splits, &error), "%s", error->message);
  trainer = lam_trainer_new (m->graph, &m->config, &splits, &error);
  fuzz_check (trainer != NULL, "%s", error->message);
  /* a few steps in: the checkpoint has a position and optimizer state */
  for (int i = 0; i < 3; i++)
    fuzz_check (lam_trainer_step (trainer, NULL, &error), "%s", error->message);
  if (seed_path != NULL)
    fuzz_check (lam_trainer_save (trainer, seed_path, &error), "%s", error->message);
  tmp_dir = g_dir_make_tmp ("lamina-fuzz-XXXXXX", &error);
  fuzz_check (tmp_dir != NULL, "%s", error->message);
  atexit (remove_tmp_dir);
  return 0;
}

static void
check_resave (LamStFile *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (tmp_dir, "again.safetensors", NULL);

  fuzz_check (lam_st_file_save (f, path, &error), "%s", error->message);
  g_autoptr(LamStFile) again = lam_st_file_load (path, &error);
  fuzz_check (again != NULL, "saved, but refused: %s", error->message);
  fuzz_check (again->tensors->len == f->tensors->len, "%u tensors, then %u", f->tensors->len, again->tensors->len);
  for (guint i = 0; i < f->tensors->len; i++)
    {
      const LamStTensor *a = f->tensors->pdata[i];
      const LamStTensor *b = lam_st_file_find (again, a->name);
      fuzz_check (b != NULL, "tensor %s lost", a->name);
      fuzz_check (a->ndim == b->ndim && a->n == b->n && memcmp (a->shape, b->shape, sizeof a->shape) == 0,
                  "tensor %s changed shape", a->name);
      fuzz_check (a->n == 0 || memcmp (a->data, b->data, a->n * sizeof (float)) == 0, "tensor %s changed", a->name);
    }
  unlink (path);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  int fd;
  char *path = fuzz_write_file (data, size, &fd);
  g_autoptr(LamStFile) f = lam_st_file_load (path, &error);

  /* every input starts from the same trainer, as a crash must repeat */
  lam_trainer_reset_weights (trainer, 1);

  if (f == NULL)
    {
      fuzz_check (error != NULL && error->domain == LAM_ERROR, "refused without a Lamina error");
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *prefix = g_strconcat (base, ": ", NULL);
      fuzz_check (g_str_has_prefix (error->message, prefix), "the message does not name the file: %s",
                  error->message);
    }
  else
    {
          for (guint i = 0; i < f->tensors->len; i++)
        {
          const LamStTensor *t = f->tensors->pdata[i];
          gsize n = 1;
          fuzz_check (t->ndim >= 0 && t->ndim <= 4, "tensor %s has %d dimensions", t->name, t->ndim);
          for (int k = 0; k < t->ndim; k++)
            n *= (gsize) t->shape[k];
          fuzz_check (n == t->n, "tensor %s: shape says %zu floats, n is %zu", t->name, n, t->n);
          for (gsize k = 0; k < t->n; k++)
            fuzz_sink += t->data[k];
        }
      check_resave (f);
    }

  g_clear_error (&error);
  if (!lam_trainer_load (trainer, path, &error))
    fuzz_check (error != NULL && error->message[0] != '\0', "refused without a message");
  /* whatever it loaded, the trainer goes on (a diverging loss is an
   * error it reports, not a crash) */
  g_clear_error (&error);
  if (!lam_trainer_done (trainer))
    lam_trainer_step (trainer, NULL, &error);
  fuzz_close_file (fd, path);
  return 0;
}
