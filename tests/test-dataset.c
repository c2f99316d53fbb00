/* test-dataset.c: IDX loading (valid and hostile files), synthetic sets,
 * slicing, and lam_data_open's splits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-dataset"

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "lam-dataset.h"

static char *tmpdir;

/* Writes buf to tmpdir/name (gzip-compressed when name ends in .gz). */
static char *
write_file (const char *name, const guint8 *buf, gsize len)
{
  char *path = g_build_filename (tmpdir, name, NULL);

  if (g_str_has_suffix (name, ".gz"))
    {
      gzFile f = gzopen (path, "wb");
      g_assert_nonnull (f);
      g_assert_cmpint (gzwrite (f, buf, (unsigned) len), ==, (int) len);
      g_assert_cmpint (gzclose (f), ==, Z_OK);
    }
  else
    {
      g_autoptr(GError) err = NULL;
      g_file_set_contents (path, (const char *) buf, (gssize) len, &err);
      g_assert_no_error (err);
    }
  return path;
}

static void
put_be32 (GByteArray *a, guint32 v)
{
  guint32 be = GUINT32_TO_BE (v);
  g_byte_array_append (a, (const guint8 *) &be, 4);
}

/* Sample s has pixel p = (s * 31 + p) & 0xff, except its first two bytes,
 * which are s's low and high byte, so samples are all different. */
static guint8
pixel (guint32 s, guint32 p)
{
  return p == 0 ? s & 0xff : p == 1 ? (s >> 8) & 0xff : (s * 31 + p) & 0xff;
}

static char *
write_images (const char *name, guint32 magic, guint32 count, guint32 rows, guint32 cols,
              gsize n_data)
{
  g_autoptr(GByteArray) a = g_byte_array_new ();

  put_be32 (a, magic);
  put_be32 (a, count);
  put_be32 (a, rows);
  put_be32 (a, cols);
  for (gsize i = 0; i < n_data; i++)
    {
      guint8 b = pixel ((guint32) (i / (rows * cols)), (guint32) (i % (rows * cols)));
      g_byte_array_append (a, &b, 1);
    }
  return write_file (name, a->data, a->len);
}

static char *
write_labels (const char *name, guint32 magic, guint32 count, gsize n_data, int n_classes)
{
  g_autoptr(GByteArray) a = g_byte_array_new ();

  put_be32 (a, magic);
  put_be32 (a, count);
  for (gsize i = 0; i < n_data; i++)
    {
      guint8 b = (guint8) (i % n_classes);
      g_byte_array_append (a, &b, 1);
    }
  return write_file (name, a->data, a->len);
}

static void
assert_load_fails (const char *images, const char *labels, int code, const char *culprit,
                   const char *what)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(LamDataset) ds = lam_dataset_load_idx (images, labels, &err);
  g_autofree char *base = g_path_get_basename (culprit);

  g_assert_null (ds);
  g_assert_error (err, LAM_ERROR, code);
  g_test_message ("error: %s", err->message);
  g_assert_nonnull (strstr (err->message, base));
  if (what != NULL)
    g_assert_nonnull (strstr (err->message, what));
}

/* ── IDX ─────────────────────────────────────────────────────────────── */

static void
check_valid (const char *suffix)
{
  g_autofree char *img_name = g_strconcat ("valid-images", suffix, NULL);
  g_autofree char *lbl_name = g_strconcat ("valid-labels", suffix, NULL);
  g_autofree char *img = write_images (img_name, 0x803, 5, 2, 3, 5 * 6);
  g_autofree char *lbl = write_labels (lbl_name, 0x801, 5, 5, 4);
  g_autoptr(GError) err = NULL;
  g_autoptr(LamDataset) ds = lam_dataset_load_idx (img, lbl, &err);
  double sum = 0, sum2 = 0, mean;

  g_assert_no_error (err);
  g_assert_nonnull (ds);
  g_assert_cmpint (ds->n, ==, 5);
  g_assert_cmpint (ds->shape.rank, ==, 3);
  g_assert_cmpint (ds->shape.d[0], ==, 1);
  g_assert_cmpint (ds->shape.d[1], ==, 2);
  g_assert_cmpint (ds->shape.d[2], ==, 3);
  g_assert_cmpuint (lam_dataset_sample_size (ds), ==, 6);
  g_assert_nonnull (ds->images);
  g_assert_null (ds->data);
  for (guint32 i = 0; i < 30; i++)
    {
      g_assert_cmpuint (ds->images[i], ==, pixel (i / 6, i % 6));
      sum += ds->images[i] / 255.0;
      sum2 += (ds->images[i] / 255.0) * (ds->images[i] / 255.0);
    }
  for (int i = 0; i < 5; i++)
    g_assert_cmpuint (ds->labels[i], ==, i % 4);
  g_assert_cmpint (ds->n_classes, ==, 4);
  g_assert_cmpuint (g_strv_length (ds->class_names), ==, 4);
  g_assert_cmpstr (ds->class_names[0], ==, "0");
  g_assert_cmpstr (ds->class_names[3], ==, "3");
  mean = sum / 30;
  g_assert_cmpfloat_with_epsilon (ds->mean, mean, 1e-5);
  g_assert_cmpfloat_with_epsilon (ds->std, sqrt (sum2 / 30 - mean * mean), 1e-5);
}

static void
test_idx_valid (void)
{
  check_valid ("");
}

static void
test_idx_valid_gzip (void)
{
  check_valid (".gz");
}

static void
test_idx_trailing_data (void)
{
  /* documented choice: bytes after the data are ignored */
  g_autofree char *img = write_images ("trail-images", 0x803, 2, 2, 2, 8 + 5);
  g_autofree char *lbl = write_labels ("trail-labels", 0x801, 2, 2 + 3, 2);
  g_autoptr(GError) err = NULL;
  g_autoptr(LamDataset) ds = lam_dataset_load_idx (img, lbl, &err);

  g_assert_no_error (err);
  g_assert_cmpint (ds->n, ==, 2);
}

static void
test_idx_wrong_magic (void)
{
  g_autofree char *img = write_images ("magic-images.gz", 0x801, 2, 2, 2, 8);
  g_autofree char *lbl = write_labels ("magic-labels.gz", 0x801, 2, 2, 2);
  g_autofree char *good_img = write_images ("magic-good-images", 0x803, 2, 2, 2, 8);
  g_autofree char *bad_lbl = write_labels ("magic-bad-labels", 0x803, 2, 2, 2);

  assert_load_fails (img, lbl, LAM_ERROR_BAD_FILE, img,
                     "magic 0x00000801, expected 0x00000803");
  assert_load_fails (good_img, bad_lbl, LAM_ERROR_BAD_FILE, bad_lbl,
                     "magic 0x00000803, expected 0x00000801");
  /* images and labels swapped */
  assert_load_fails (lbl, good_img, LAM_ERROR_BAD_FILE, lbl, "not an IDX image file");
}

static void
test_idx_truncated_header (void)
{
  static const guint8 hdr[] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0 };
  g_autofree char *img = write_file ("short-header-images", hdr, sizeof hdr);
  g_autofree char *img_gz = write_file ("short-header-images.gz", hdr, sizeof hdr);
  g_autofree char *empty = write_file ("empty-images", hdr, 0);
  g_autofree char *tiny = write_file ("tiny-images", hdr, 2);
  g_autofree char *lbl = write_labels ("short-header-labels", 0x801, 2, 2, 2);
  g_autofree char *lbl_short = write_file ("short-header-labels2", hdr, 6);
  g_autofree char *good_img = write_images ("short-header-good", 0x803, 2, 2, 2, 8);

  assert_load_fails (img, lbl, LAM_ERROR_BAD_FILE, img, "truncated");
  assert_load_fails (img_gz, lbl, LAM_ERROR_BAD_FILE, img_gz, "truncated");
  assert_load_fails (empty, lbl, LAM_ERROR_BAD_FILE, empty, "truncated");
  assert_load_fails (tiny, lbl, LAM_ERROR_BAD_FILE, tiny, "truncated");
  /* labels: 0x00000803 magic is wrong before it is short */
  assert_load_fails (good_img, lbl_short, LAM_ERROR_BAD_FILE, lbl_short, "magic");
}

static void
test_idx_truncated_data (void)
{
  g_autofree char *img = write_images ("trunc-images", 0x803, 3, 4, 4, 3 * 16 - 1);
  g_autofree char *img_gz = write_images ("trunc-images.gz", 0x803, 3, 4, 4, 20);
  g_autofree char *lbl = write_labels ("trunc-labels.gz", 0x801, 3, 3, 2);
  g_autofree char *good_img = write_images ("trunc-good-images", 0x803, 3, 4, 4, 48);
  g_autofree char *short_lbl = write_labels ("trunc-short-labels", 0x801, 3, 1, 2);
  /* a header that claims a million 28×28 images but holds none must fail
   * on the missing data without allocating 784 MB */
  g_autofree char *big = write_images ("trunc-big-images", 0x803, 1000000, 28, 28, 100);
  g_autofree char *big_lbl = write_labels ("trunc-big-labels", 0x801, 1000000, 1000000, 10);

  assert_load_fails (img, lbl, LAM_ERROR_BAD_FILE, img, "truncated pixels");
  assert_load_fails (img_gz, lbl, LAM_ERROR_BAD_FILE, img_gz, "truncated pixels");
  assert_load_fails (good_img, short_lbl, LAM_ERROR_BAD_FILE, short_lbl, "truncated labels");
  assert_load_fails (big, big_lbl, LAM_ERROR_BAD_FILE, big, "truncated pixels");
}

static void
test_idx_truncated_gzip (void)
{
  g_autofree char *full = write_images ("cut-images.gz", 0x803, 50, 8, 8, 50 * 64);
  g_autofree char *lbl = write_labels ("cut-labels", 0x801, 50, 50, 2);
  g_autofree char *contents = NULL;
  g_autofree char *cut = NULL;
  g_autofree char *garbled = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (full, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 40);
  cut = write_file ("cut-images-stream", (guint8 *) contents, len / 2);
  assert_load_fails (cut, lbl, LAM_ERROR_BAD_FILE, cut, NULL);

  /* corrupt the deflate stream after the gzip header */
  for (gsize i = 12; i < len - 8; i++)
    contents[i] ^= 0x5a;
  garbled = write_file ("garbled-images", (guint8 *) contents, len);
  assert_load_fails (garbled, lbl, LAM_ERROR_BAD_FILE, garbled, NULL);
}

static void
test_idx_count_mismatch (void)
{
  g_autofree char *img = write_images ("mismatch-images", 0x803, 4, 2, 2, 16);
  g_autofree char *lbl = write_labels ("mismatch-labels.gz", 0x801, 3, 3, 2);
  g_autoptr(GError) err = NULL;
  g_autoptr(LamDataset) ds = lam_dataset_load_idx (img, lbl, &err);

  g_assert_null (ds);
  g_assert_error (err, LAM_ERROR, LAM_ERROR_BAD_FILE);
  g_assert_nonnull (strstr (err->message, "mismatch-labels.gz"));
  g_assert_nonnull (strstr (err->message, "mismatch-images"));
}

static void
test_idx_overflow (void)
{
  g_autofree char *img = write_images ("overflow-images", 0x803, 0xFFFFFFFFu, 65535, 65535, 64);
  g_autofree char *big = write_images ("overflow-big-images", 0x803, 100000000, 4096, 4096, 64);
  g_autofree char *side = write_images ("overflow-side-images", 0x803, 2, 4097, 2, 64);
  g_autofree char *lbl = write_labels ("overflow-labels", 0x801, 0xFFFFFFFFu, 16, 2);

  assert_load_fails (img, lbl, LAM_ERROR_BAD_FILE, img, "count");
  assert_load_fails (big, lbl, LAM_ERROR_BAD_FILE, big, "too large");
  assert_load_fails (side, lbl, LAM_ERROR_BAD_FILE, side, "4097");
}

static void
test_idx_zero (void)
{
  g_autofree char *rows = write_images ("zero-rows-images", 0x803, 2, 0, 28, 0);
  g_autofree char *cols = write_images ("zero-cols-images.gz", 0x803, 2, 28, 0, 0);
  g_autofree char *count = write_images ("zero-count-images", 0x803, 0, 28, 28, 0);
  g_autofree char *lbl = write_labels ("zero-labels", 0x801, 2, 2, 2);

  assert_load_fails (rows, lbl, LAM_ERROR_BAD_FILE, rows, "0×28");
  assert_load_fails (cols, lbl, LAM_ERROR_BAD_FILE, cols, "28×0");
  assert_load_fails (count, lbl, LAM_ERROR_BAD_FILE, count, "count 0");
}

static void
test_idx_missing (void)
{
  g_autofree char *img = g_build_filename (tmpdir, "no-such-images", NULL);
  g_autofree char *lbl = write_labels ("missing-labels", 0x801, 2, 2, 2);
  g_autofree char *good = write_images ("missing-good-images", 0x803, 2, 2, 2, 8);
  g_autofree char *no_lbl = g_build_filename (tmpdir, "no-such-labels.gz", NULL);

  assert_load_fails (img, lbl, LAM_ERROR_IO, img, NULL);
  assert_load_fails (good, no_lbl, LAM_ERROR_IO, no_lbl, NULL);
  assert_load_fails (tmpdir, lbl, LAM_ERROR_IO, tmpdir, "cannot open: not a regular file");   /* a directory */

  /* a FIFO: opening it for reading would wait for a writer, for ever */
  g_autofree char *fifo = g_build_filename (tmpdir, "fifo-images", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  assert_load_fails (fifo, lbl, LAM_ERROR_IO, fifo, "cannot open: not a regular file");
  assert_load_fails (good, fifo, LAM_ERROR_IO, fifo, "cannot open: not a regular file");
  g_unlink (fifo);
  /* a device that never ends */
  assert_load_fails ("/dev/zero", lbl, LAM_ERROR_IO, "/dev/zero", "/dev/zero: cannot open: not a regular file");
}

/* ── Fashion-MNIST ───────────────────────────────────────────────────── */

static gboolean
have_fashion_mnist (void)
{
  const char *dir = g_getenv ("LAMINA_FASHION_MNIST_DIR");
  g_autofree char *path = g_build_filename (dir && *dir ? dir : LAM_FASHION_MNIST_DIR,
                                            "t10k-images-idx3-ubyte.gz", NULL);

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_test_skip ("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)");
  return FALSE;
}

static void
test_fashion_mnist (void)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(LamDataset) ds = NULL;

  if (!have_fashion_mnist ())
    return;
  ds = lam_dataset_load_fashion_mnist (FALSE, &err);
  g_assert_no_error (err);
  g_assert_cmpint (ds->n, ==, 10000);
  g_assert_cmpint (ds->shape.rank, ==, 3);
  g_assert_cmpint (ds->shape.d[0], ==, 1);
  g_assert_cmpint (ds->shape.d[1], ==, 28);
  g_assert_cmpint (ds->shape.d[2], ==, 28);
  g_assert_cmpint (ds->n_classes, ==, 10);
  g_assert_cmpuint (ds->labels[0], ==, 9);
  g_assert_cmpstr (ds->class_names[9], ==, "Ankle boot");
  g_assert_cmpstr (ds->class_names[0], ==, "T-shirt/top");
  g_assert_null (ds->class_names[10]);
  g_assert_cmpfloat_with_epsilon (ds->mean, 0.2860, 1e-6);
  g_assert_cmpfloat_with_epsilon (ds->std, 0.3530, 1e-6);
}

static void
test_fashion_mnist_open (void)
{
  g_autoptr(GError) err = NULL;
  LamDataSpec spec;
  LamDataSplits s = { 0 };

  if (!have_fashion_mnist ())
    return;
  lam_data_spec_init (&spec);
  spec.limit = 1000;
  g_assert_true (lam_data_open (&spec, 1, &s, &err));
  g_assert_no_error (err);
  g_assert_cmpint (s.train->n, ==, 1000);
  g_assert_cmpint (s.val->n, ==, 5000);
  g_assert_cmpint (s.test->n, ==, 10000);
  g_assert_cmpfloat (s.val->mean, ==, s.train->mean);
  g_assert_cmpfloat (s.test->std, ==, s.train->std);
  lam_data_splits_clear (&s);
  g_assert_null (s.train);
  lam_data_spec_clear (&spec);
}

static void
test_fashion_mnist_missing (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("LAMINA_FASHION_MNIST_DIR"));
  g_autoptr(GError) err = NULL;
  g_autoptr(LamDataset) ds = NULL;

  g_setenv ("LAMINA_FASHION_MNIST_DIR", tmpdir, TRUE);
  ds = lam_dataset_load_fashion_mnist (TRUE, &err);
  if (saved != NULL)
    g_setenv ("LAMINA_FASHION_MNIST_DIR", saved, TRUE);
  else
    g_unsetenv ("LAMINA_FASHION_MNIST_DIR");

  g_assert_null (ds);
  g_assert_error (err, LAM_ERROR, LAM_ERROR_IO);
  g_assert_nonnull (strstr (err->message, "dataset-fashion-mnist"));
  g_assert_nonnull (strstr (err->message, "train-images-idx3-ubyte.gz"));
}

/* ── Synthetic ───────────────────────────────────────────────────────── */

static void
test_synthetic_sets (void)
{
  for (int k = 0; k < LAM_N_SYNTH; k++)
    {
      static const int n_classes[] = { 0, 3, 10 };

      for (guint c = 0; c < G_N_ELEMENTS (n_classes); c++)
        {
          g_autoptr(GError) err = NULL;
          g_autoptr(LamDataset) ds = lam_dataset_synthetic (k, 600, 0.1f, n_classes[c], 7, &err);
          LamSynthKind back;
          int counts[10] = { 0 };
          int want = k == LAM_SYNTH_SPIRAL ? (n_classes[c] ? n_classes[c] : 2)
                   : k == LAM_SYNTH_BLOBS ? (n_classes[c] ? n_classes[c] : 3) : 2;

          g_assert_no_error (err);
          g_assert_cmpstr (ds->name, ==, lam_synth_kind_name (k));
          g_assert_true (lam_synth_kind_from_name (lam_synth_kind_name (k), &back));
          g_assert_cmpint (back, ==, k);
          g_assert_cmpint (ds->n, ==, 600);
          g_assert_cmpint (ds->shape.rank, ==, 1);
          g_assert_cmpint (ds->shape.d[0], ==, 2);
          g_assert_cmpuint (lam_dataset_sample_size (ds), ==, 2);
          g_assert_null (ds->images);
          g_assert_nonnull (ds->data);
          g_assert_cmpfloat (ds->mean, ==, 0.f);
          g_assert_cmpfloat (ds->std, ==, 1.f);
          g_assert_cmpint (ds->n_classes, ==, want);
          g_assert_cmpuint (g_strv_length (ds->class_names), ==, want);
          for (int i = 0; i < ds->n; i++)
            {
              g_assert_cmpuint (ds->labels[i], <, want);
              counts[ds->labels[i]]++;
              g_assert_cmpfloat (fabsf (ds->data[2 * i]), <, 1.3f);
              g_assert_cmpfloat (fabsf (ds->data[2 * i + 1]), <, 1.3f);
            }
          for (int i = 0; i < want; i++)
            g_assert_cmpint (abs (counts[i] - 600 / want), <=, 1);
        }
      /* without noise, all but the Gaussian blobs lie in [-1, 1]² */
      if (k != LAM_SYNTH_BLOBS)
        {
          g_autoptr(LamDataset) ds = lam_dataset_synthetic (k, 1000, 0.f, 0, 3, NULL);
          for (int i = 0; i < 2 * ds->n; i++)
            g_assert_cmpfloat (fabsf (ds->data[i]), <=, 1.f);
        }
    }
  g_assert_false (lam_synth_kind_from_name ("spirals", NULL));
  g_assert_false (lam_synth_kind_from_name (NULL, NULL));
}

static void
test_synthetic_determinism (void)
{
  for (int k = 0; k < LAM_N_SYNTH; k++)
    {
      g_autoptr(LamDataset) a = lam_dataset_synthetic (k, 101, 0.3f, 0, 42, NULL);
      g_autoptr(LamDataset) b = lam_dataset_synthetic (k, 101, 0.3f, 0, 42, NULL);
      g_autoptr(LamDataset) c = lam_dataset_synthetic (k, 101, 0.3f, 0, 43, NULL);

      g_assert_cmpmem (a->data, 101 * 2 * sizeof (float), b->data, 101 * 2 * sizeof (float));
      g_assert_cmpmem (a->labels, 101, b->labels, 101);
      g_assert_true (memcmp (a->data, c->data, 101 * 2 * sizeof (float)) != 0);
    }
}

static void
test_synthetic_bad_params (void)
{
  static const struct {
    LamSynthKind kind;
    int n;
    float noise;
    int n_classes;
    const char *param;
  } cases[] = {
    { LAM_SYNTH_SPIRAL, 3, 0.1f, 0, "n_samples" },
    { LAM_SYNTH_MOONS, 1000001, 0.1f, 0, "n_samples" },
    { LAM_SYNTH_CIRCLES, -5, 0.1f, 0, "n_samples" },
    { LAM_SYNTH_XOR, 100, -0.1f, 0, "noise" },
    { LAM_SYNTH_BLOBS, 100, 1.5f, 0, "noise" },
    { LAM_SYNTH_BLOBS, 100, NAN, 0, "noise" },
    { LAM_SYNTH_SPIRAL, 100, 0.1f, 1, "n_classes" },
    { LAM_SYNTH_BLOBS, 100, 0.1f, 11, "n_classes" },
    { LAM_SYNTH_SPIRAL, 100, 0.1f, -2, "n_classes" },
    { LAM_N_SYNTH, 100, 0.1f, 0, "kind" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) err = NULL;
      g_autoptr(LamDataset) ds = lam_dataset_synthetic (cases[i].kind, cases[i].n,
                                                        cases[i].noise, cases[i].n_classes,
                                                        1, &err);
      g_assert_null (ds);
      g_assert_error (err, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (err->message, cases[i].param));
    }
}

/* ── Slices and splits ───────────────────────────────────────────────── */

static void
test_slice_select (void)
{
  g_autoptr(LamDataset) ds = lam_dataset_synthetic (LAM_SYNTH_BLOBS, 20, 0.5f, 4, 9, NULL);
  g_autoptr(LamDataset) sl = lam_dataset_slice (ds, 5, 7);
  g_autoptr(LamDataset) empty = lam_dataset_slice (ds, 20, 0);
  static const gint32 idx[] = { 19, 0, 3, 3 };
  g_autoptr(LamDataset) sel = lam_dataset_select (ds, idx, 4);
  g_autofree char *img = write_images ("slice-images", 0x803, 6, 3, 2, 36);
  g_autofree char *lbl = write_labels ("slice-labels", 0x801, 6, 6, 3);
  g_autoptr(LamDataset) im = lam_dataset_load_idx (img, lbl, NULL);
  g_autoptr(LamDataset) im_sel = lam_dataset_select (im, idx + 2, 1);

  g_assert_cmpint (sl->n, ==, 7);
  g_assert_cmpint (sl->n_classes, ==, 4);
  g_assert_cmpstr (sl->class_names[3], ==, ds->class_names[3]);
  g_assert_true (sl->class_names != ds->class_names);
  g_assert_cmpmem (sl->data, 14 * sizeof (float), ds->data + 10, 14 * sizeof (float));
  g_assert_cmpmem (sl->labels, 7, ds->labels + 5, 7);

  g_assert_cmpint (empty->n, ==, 0);
  g_assert_nonnull (empty->data);   /* still a float set */
  g_assert_null (empty->images);

  g_assert_cmpint (sel->n, ==, 4);
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpmem (sel->data + 2 * i, 2 * sizeof (float),
                       ds->data + 2 * idx[i], 2 * sizeof (float));
      g_assert_cmpuint (sel->labels[i], ==, ds->labels[idx[i]]);
    }

  g_assert_nonnull (im);
  g_assert_cmpint (im_sel->n, ==, 1);
  g_assert_cmpint (im_sel->shape.d[1], ==, 3);
  g_assert_cmpmem (im_sel->images, 6, im->images + 3 * 6, 6);
  g_assert_cmpuint (im_sel->labels[0], ==, 0);
  g_assert_cmpfloat (im_sel->mean, ==, im->mean);
  g_assert_cmpfloat (im_sel->std, ==, im->std);

  g_assert_true (lam_dataset_ref (sl) == sl);
  lam_dataset_unref (sl);
  g_assert_cmpint (sl->n, ==, 7);
}

static void
test_spec (void)
{
  LamDataSpec a, b;

  lam_data_spec_init (&a);
  g_assert_cmpstr (a.name, ==, "fashion-mnist");
  g_assert_cmpfloat_with_epsilon (a.val_fraction, 1.0 / 12, 1e-7);
  g_assert_cmpint (a.n_samples, ==, 1000);
  g_assert_cmpfloat_with_epsilon (a.noise, 0.1, 1e-7);
  g_assert_cmpint (a.n_classes, ==, 0);
  g_assert_cmpint (a.limit, ==, 0);
  g_assert_null (a.train_images);
  g_assert_null (a.test_labels);

  a.train_images = g_strdup ("a.gz");
  a.limit = 5;
  lam_data_spec_copy (&b, &a);
  g_assert_true (b.name != a.name);
  g_assert_true (b.train_images != a.train_images);
  g_assert_cmpstr (b.train_images, ==, "a.gz");
  g_assert_null (b.train_labels);
  g_assert_cmpint (b.limit, ==, 5);
  lam_data_spec_clear (&a);
  g_assert_null (a.name);
  g_assert_null (a.train_images);
  g_assert_cmpstr (b.name, ==, "fashion-mnist");
  lam_data_spec_clear (&b);
}

static GHashTable *
sample_set (void)
{
  return g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, NULL);
}

static GBytes *
sample_bytes (LamDataset *ds, int i)
{
  gsize size = lam_dataset_sample_size (ds);

  if (ds->images != NULL)
    return g_bytes_new (ds->images + i * size, size);
  return g_bytes_new (ds->data + i * size, size * sizeof (float));
}

/* Checks that the sets have no sample in common; returns how many there are. */
static int
assert_disjoint (LamDataset **sets, int n_sets)
{
  g_autoptr(GHashTable) seen = sample_set ();
  int total = 0;

  for (int s = 0; s < n_sets; s++)
    for (int i = 0; i < sets[s]->n; i++, total++)
      g_assert_true (g_hash_table_add (seen, sample_bytes (sets[s], i)));
  return total;
}

static void
test_open_synthetic (void)
{
  g_autoptr(GError) err = NULL;
  LamDataSpec spec;
  LamDataSplits s = { 0 }, s2 = { 0 };
  g_autoptr(LamDataset) full = NULL;
  g_autoptr(GHashTable) all = sample_set ();

  lam_data_spec_init (&spec);
  g_free (spec.name);
  spec.name = g_strdup ("spiral");
  spec.n_samples = 1200;
  spec.val_fraction = 0.25f;
  g_assert_true (lam_data_open (&spec, 5, &s, &err));
  g_assert_no_error (err);
  g_assert_cmpint (s.train->n, ==, 900);
  g_assert_cmpint (s.val->n, ==, 300);
  g_assert_cmpint (s.test->n, ==, 300);
  g_assert_cmpint (s.train->n_classes, ==, 2);
  g_assert_cmpint (s.val->n_classes, ==, 2);
  g_assert_cmpint (assert_disjoint ((LamDataset *[]) { s.train, s.val, s.test }, 3), ==, 1500);

  /* train and val together are the seeded set; the same seed splits alike */
  full = lam_dataset_synthetic (LAM_SYNTH_SPIRAL, 1200, spec.noise, 0, 5, NULL);
  for (int i = 0; i < full->n; i++)
    g_hash_table_add (all, sample_bytes (full, i));
  for (int i = 0; i < s.train->n; i++)
    {
      g_autoptr(GBytes) b = sample_bytes (s.train, i);
      g_assert_true (g_hash_table_contains (all, b));
    }
  g_assert_true (lam_data_open (&spec, 5, &s2, &err));
  g_assert_cmpmem (s.val->data, 300 * 2 * sizeof (float), s2.val->data, 300 * 2 * sizeof (float));
  lam_data_splits_clear (&s2);
  lam_data_splits_clear (&s);

  /* limit cuts the training set only */
  spec.limit = 100;
  spec.val_fraction = 0.f;
  g_assert_true (lam_data_open (&spec, 5, &s, &err));
  g_assert_cmpint (s.train->n, ==, 100);
  g_assert_cmpint (s.val->n, ==, 0);
  g_assert_cmpint (s.test->n, ==, 300);
  g_assert_cmpmem (s.train->data, 200 * sizeof (float), full->data, 200 * sizeof (float));
  lam_data_splits_clear (&s);

  spec.limit = 5000;   /* more than there is: no cut */
  spec.val_fraction = 0.5f;
  g_free (spec.name);
  spec.name = g_strdup ("blobs");
  spec.n_classes = 5;
  g_assert_true (lam_data_open (&spec, 5, &s, &err));
  g_assert_cmpint (s.train->n, ==, 600);
  g_assert_cmpint (s.val->n, ==, 600);
  g_assert_cmpint (s.test->n_classes, ==, 5);
  lam_data_splits_clear (&s);
  lam_data_spec_clear (&spec);
}

static void
test_open_idx (void)
{
  g_autofree char *img = write_images ("open-images.gz", 0x803, 120, 4, 4, 120 * 16);
  g_autofree char *lbl = write_labels ("open-labels.gz", 0x801, 120, 120, 3);
  g_autofree char *t_img = write_images ("open-t-images", 0x803, 30, 4, 4, 30 * 16);
  g_autofree char *t_lbl = write_labels ("open-t-labels", 0x801, 30, 30, 5);
  g_autoptr(GError) err = NULL;
  LamDataSpec spec;
  LamDataSplits s = { 0 };

  lam_data_spec_init (&spec);
  g_free (spec.name);
  spec.name = g_strdup ("idx");
  spec.train_images = g_strdup (img);
  spec.train_labels = g_strdup (lbl);
  spec.val_fraction = 0.2f;

  /* no test files: a sixth of train is held out */
  g_assert_true (lam_data_open (&spec, 11, &s, &err));
  g_assert_no_error (err);
  g_assert_cmpint (s.test->n, ==, 20);
  g_assert_cmpint (s.val->n, ==, 20);
  g_assert_cmpint (s.train->n, ==, 80);
  g_assert_cmpint (assert_disjoint ((LamDataset *[]) { s.train, s.val, s.test }, 3), ==, 120);
  g_assert_cmpfloat (s.val->mean, ==, s.train->mean);
  g_assert_cmpfloat (s.test->std, ==, s.train->std);
  g_assert_cmpfloat (s.train->std, !=, 1.f);
  lam_data_splits_clear (&s);

  /* with test files, and a limit */
  spec.test_images = g_strdup (t_img);
  spec.test_labels = g_strdup (t_lbl);
  spec.limit = 50;
  g_assert_true (lam_data_open (&spec, 11, &s, &err));
  g_assert_no_error (err);
  g_assert_cmpint (s.train->n, ==, 50);
  g_assert_cmpint (s.val->n, ==, 24);
  g_assert_cmpint (s.test->n, ==, 30);
  g_assert_cmpint (assert_disjoint ((LamDataset *[]) { s.train, s.val }, 2), ==, 74);
  g_assert_cmpint (s.train->n_classes, ==, 5);   /* the test file has labels up to 4 */
  g_assert_cmpint (s.test->n_classes, ==, 5);
  g_assert_cmpstr (s.train->class_names[4], ==, "4");
  g_assert_cmpfloat (s.test->mean, ==, s.train->mean);
  lam_data_splits_clear (&s);
  lam_data_spec_clear (&spec);
}

static void
test_open_bad_spec (void)
{
  LamDataSpec spec;
  LamDataSplits s = { 0 };
  g_autofree char *img = write_images ("bad-spec-images", 0x803, 4, 4, 4, 64);

  lam_data_spec_init (&spec);
  spec.val_fraction = 0.7f;
  {
    g_autoptr(GError) err = NULL;
    g_assert_false (lam_data_open (&spec, 1, &s, &err));
    g_assert_error (err, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (err->message, "val_fraction"));
  }
  spec.val_fraction = 0.1f;
  g_free (spec.name);
  spec.name = g_strdup ("cifar");
  {
    g_autoptr(GError) err = NULL;
    g_assert_false (lam_data_open (&spec, 1, &s, &err));
    g_assert_error (err, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (err->message, "cifar"));
    g_assert_nonnull (strstr (err->message, "fashion-mnist"));
    g_assert_nonnull (strstr (err->message, "spiral"));
  }
  g_free (spec.name);
  spec.name = g_strdup ("idx");
  {
    g_autoptr(GError) err = NULL;
    g_assert_false (lam_data_open (&spec, 1, &s, &err));
    g_assert_error (err, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (err->message, "train_images"));
  }
  spec.train_images = g_strdup (img);
  spec.train_labels = g_build_filename (tmpdir, "bad-spec-no-labels", NULL);
  {
    g_autoptr(GError) err = NULL;
    g_assert_false (lam_data_open (&spec, 1, &s, &err));
    g_assert_error (err, LAM_ERROR, LAM_ERROR_IO);
    g_assert_nonnull (strstr (err->message, "bad-spec-no-labels"));
  }
  g_free (spec.name);
  spec.name = g_strdup ("moons");
  spec.n_samples = 2;
  {
    g_autoptr(GError) err = NULL;
    g_assert_false (lam_data_open (&spec, 1, &s, &err));
    g_assert_error (err, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (err->message, "n_samples"));
  }
  g_assert_null (s.train);
  lam_data_spec_clear (&spec);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) err = NULL;
  GDir *dir;
  const char *name;
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("lamina-dataset-XXXXXX", &err);
  g_assert_no_error (err);

  g_test_add_func ("/engine/dataset/idx/valid", test_idx_valid);
  g_test_add_func ("/engine/dataset/idx/valid-gzip", test_idx_valid_gzip);
  g_test_add_func ("/engine/dataset/idx/trailing-data", test_idx_trailing_data);
  g_test_add_func ("/engine/dataset/idx/wrong-magic", test_idx_wrong_magic);
  g_test_add_func ("/engine/dataset/idx/truncated-header", test_idx_truncated_header);
  g_test_add_func ("/engine/dataset/idx/truncated-data", test_idx_truncated_data);
  g_test_add_func ("/engine/dataset/idx/truncated-gzip", test_idx_truncated_gzip);
  g_test_add_func ("/engine/dataset/idx/count-mismatch", test_idx_count_mismatch);
  g_test_add_func ("/engine/dataset/idx/overflow", test_idx_overflow);
  g_test_add_func ("/engine/dataset/idx/zero-size", test_idx_zero);
  g_test_add_func ("/engine/dataset/idx/missing-file", test_idx_missing);
  g_test_add_func ("/engine/dataset/fashion-mnist/t10k", test_fashion_mnist);
  g_test_add_func ("/engine/dataset/fashion-mnist/open", test_fashion_mnist_open);
  g_test_add_func ("/engine/dataset/fashion-mnist/missing", test_fashion_mnist_missing);
  g_test_add_func ("/engine/dataset/synthetic/sets", test_synthetic_sets);
  g_test_add_func ("/engine/dataset/synthetic/determinism", test_synthetic_determinism);
  g_test_add_func ("/engine/dataset/synthetic/bad-params", test_synthetic_bad_params);
  g_test_add_func ("/engine/dataset/slice-select", test_slice_select);
  g_test_add_func ("/engine/dataset/spec", test_spec);
  g_test_add_func ("/engine/dataset/open/synthetic", test_open_synthetic);
  g_test_add_func ("/engine/dataset/open/idx", test_open_idx);
  g_test_add_func ("/engine/dataset/open/bad-spec", test_open_bad_spec);

  ret = g_test_run ();

  dir = g_dir_open (tmpdir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmpdir, name, NULL);
      g_remove (path);
    }
  g_clear_pointer (&dir, g_dir_close);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return ret;
}
