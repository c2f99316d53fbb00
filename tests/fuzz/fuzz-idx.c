/* fuzz-idx.c: an IDX image file and label file from anywhere (plain or
 * gzip), opened as a model file's "idx" data: lam_data_open, which
 * loads, splits off validation and test sets, and cuts to a limit.
 *
 * The input is: one byte of settings (validation fraction in its low 2
 * bits, limit in the rest), a 4-byte little-endian length L, then L
 * bytes of the image file and the rest, the label file.
 *
 * Checks, besides memory errors and GLib criticals:
 * - a refused pair gets a LAM_ERROR error that names a file;
 * - accepted data has labels below its class count, pixels as many as
 *   its shape says, and splits that add up.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "fuzz-common.h"

#include <string.h>

#include "lam-dataset.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup ();
  return 0;
}

static void
check_set (const LamDataset *ds)
{
  if (ds == NULL)
    return;
  fuzz_check (ds->n >= 0, "%d samples", ds->n);
  fuzz_check (ds->n_classes >= 1, "%d classes", ds->n_classes);
  for (int i = 0; i < ds->n; i++)
    fuzz_check (ds->labels[i] < ds->n_classes, "label %d of %d classes",
                ds->labels[i], ds->n_classes);
  gsize size = lam_dataset_sample_size (ds);
  for (gsize i = 0; ds->images != NULL && i < (gsize) ds->n * size; i++)
    fuzz_sink += ds->images[i];
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 5)
    return 0;
  guint32 len = (guint32) data[1] | (guint32) data[2] << 8 | (guint32) data[3] << 16 | (guint32) data[4] << 24;
  size_t rest = size - 5;
  len = rest ? len % (rest + 1) : 0;

  int fd_images, fd_labels;
  char *images = fuzz_write_file (data + 5, len, &fd_images);
  char *labels = fuzz_write_file (data + 5 + len, rest - len, &fd_labels);

  LamDataSpec spec;
  lam_data_spec_init (&spec);
  g_free (spec.name);
  spec.name = g_strdup ("idx");
  spec.train_images = g_strdup (images);
  spec.train_labels = g_strdup (labels);
  spec.val_fraction = (data[0] & 3) * 0.125f;
  spec.limit = data[0] >> 2;

  g_autoptr(GError) error = NULL;
  LamDataSplits splits = { 0 };
  if (lam_data_open (&spec, 1, &splits, &error))
    {
      check_set (splits.train);
      check_set (splits.val);
      check_set (splits.test);
      fuzz_check (splits.train != NULL && splits.train->n > 0, "no training samples");
      fuzz_check (spec.limit == 0 || splits.train->n <= spec.limit, "%d samples, limit %d",
                  splits.train->n, spec.limit);
      lam_data_splits_clear (&splits);
    }
  else
    {
      fuzz_check (error != NULL && error->domain == LAM_ERROR, "refused without a Lamina error");
      fuzz_check (strstr (error->message, "/proc/self/fd/") != NULL,
                  "the message names no file: %s", error->message);
    }
  lam_data_spec_clear (&spec);
  fuzz_close_file (fd_images, images);
  fuzz_close_file (fd_labels, labels);
  return 0;
}
