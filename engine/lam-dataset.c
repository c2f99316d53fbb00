/* lam-dataset.c: IDX (MNIST-format) loading, Fashion-MNIST, synthetic
 * 2-D sets, sequence tasks and the text corpus, and the
 * train/validation/test split of a LamDataSpec.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-dataset"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "lam-dataset.h"
#include "lam-file.h"
#include "lam-rng.h"

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u
#define IDX_MAX_COUNT    100000000u
#define IDX_MAX_SIDE     4096u
#define IDX_MAX_BYTES    (G_GUINT64_CONSTANT (1) << 32)   /* 4 GiB of pixels */
#define IDX_CHUNK        (1u << 20)

/* Random streams, one per use, so that seeds do not correlate. */
#define STREAM_SYNTH     0x53594e00u   /* + kind */
#define STREAM_TEXT      0x54585400u
#define STREAM_VAL       0x56414c00u
#define STREAM_HOLDOUT   0x54455354u

#define FASHION_MEAN 0.2860f
#define FASHION_STD  0.3530f

static const char * const fashion_names[] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot", NULL
};

static const char * const synth_names[LAM_N_SYNTH_ALL] = {
  "spiral", "moons", "circles", "xor", "blobs",
  "adding", "sine", "parity", "text"
};

#define TEXT_CORPUS_FILE "lamina-corpus.txt"

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gzFile, gzclose, NULL)

static char **
numbered_names (int n, const char *prefix)
{
  char **names = g_new0 (char *, n + 1);

  for (int i = 0; i < n; i++)
    names[i] = g_strdup_printf ("%s%d", prefix, i);
  return names;
}

static LamDataset *
dataset_new (const char *name, LamShape shape, int n, int n_classes, char **class_names)
{
  LamDataset *ds = g_new0 (LamDataset, 1);

  g_atomic_ref_count_init (&ds->ref);
  ds->name = g_strdup (name);
  ds->shape = shape;
  ds->n = n;
  ds->n_classes = n_classes;
  ds->class_names = class_names;
  ds->mean = 0.f;
  ds->std = 1.f;
  return ds;
}

/* ── IDX ─────────────────────────────────────────────────────────────── */

static void
set_gz_error (gzFile f, const char *path, GError **error)
{
  int errnum;
  const char *msg = gzerror (f, &errnum);

  /* zlib prefixes its messages with the path it was opened with */
  if (g_str_has_prefix (msg, path) && g_str_has_prefix (msg + strlen (path), ": "))
    msg += strlen (path) + 2;
  if (errnum == Z_ERRNO)
    g_set_error (error, LAM_ERROR, LAM_ERROR_IO, "%s: read failed: %s", path, msg);
  else
    g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE, "%s: corrupt gzip data (%s)", path, msg);
}

/* Opens an IDX file (raw or gzip: zlib tells them apart by the 0x1f 0x8b
 * magic) and reads its header: the magic, then n_dims big-endian sizes. */
static gzFile
idx_open (const char *path, guint32 magic, const char *what, guint32 *dims, int n_dims,
          GError **error)
{
  int fd = lam_open_regular_file (path);
  g_auto (gzFile) f = NULL;
  guint8 hdr[16];
  int want = 4 * (1 + n_dims);
  int got;
  guint32 m, be;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, LAM_ERROR, LAM_ERROR_IO, "%s: cannot open: %s", path,
                   saved == EINVAL ? "not a regular file" : g_strerror (saved));
      return NULL;
    }
  f = gzdopen (fd, "rb");
  if (f == NULL)
    {
      close (fd);
      g_set_error (error, LAM_ERROR, LAM_ERROR_IO, "%s: cannot open: %s", path, g_strerror (ENOMEM));
      return NULL;
    }
  gzbuffer (f, 128 * 1024);

  got = gzread (f, hdr, want);
  if (got < 0)
    {
      set_gz_error (f, path, error);
      return NULL;
    }
  if (got < 4)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: truncated IDX header (%d of %d bytes)", path, got, want);
      return NULL;
    }
  memcpy (&be, hdr, 4);
  m = GUINT32_FROM_BE (be);
  if (m != magic)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: not an IDX %s file (magic 0x%08x, expected 0x%08x)",
                   path, what, m, magic);
      return NULL;
    }
  if (got < want)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: truncated IDX header (%d of %d bytes)", path, got, want);
      return NULL;
    }
  for (int i = 0; i < n_dims; i++)
    {
      memcpy (&be, hdr + 4 * (i + 1), 4);
      dims[i] = GUINT32_FROM_BE (be);
    }
  return g_steal_pointer (&f);
}

/* Reads exactly len bytes, growing the buffer only as data arrives, so a
 * header that claims more than the file holds allocates nothing big.
 * Bytes after the data (trailing garbage) are ignored. */
static guint8 *
idx_read_data (gzFile f, const char *path, guint64 len, const char *what, GError **error)
{
  gsize cap = (gsize) MIN (len, IDX_CHUNK);
  g_autofree guint8 *buf = g_malloc (MAX (cap, 1));
  guint64 got = 0;

  while (got < len)
    {
      int r;

      if (got == cap)
        {
          cap = (gsize) MIN (len, (guint64) cap * 2);
          buf = g_realloc (buf, cap);
        }
      r = gzread (f, buf + got, (unsigned) MIN (cap - got, 16 * IDX_CHUNK));
      if (r < 0)
        {
          set_gz_error (f, path, error);
          return NULL;
        }
      if (r == 0)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                       "%s: truncated %s (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes)",
                       path, what, got, len);
          return NULL;
        }
      got += (guint64) r;
    }
  return g_steal_pointer (&buf);
}

/* n_classes == 10 is Fashion-MNIST: labels must be below it and get its
 * class names; 0 takes max label + 1 classes named "0".."n-1". */
static LamDataset *
load_idx (const char *images_path, const char *labels_path, int n_classes,
          const char *name, GError **error)
{
  g_auto (gzFile) fi = NULL;
  g_auto (gzFile) fl = NULL;
  g_autofree guint8 *labels = NULL;
  guint32 idims[3], ldims[1];
  guint32 count, rows, cols;
  guint64 n_pix = 0;
  guint64 hist[256] = { 0 };
  double sum = 0, sum2 = 0, mean, var;
  LamDataset *ds;
  int max_label = 0;

  fi = idx_open (images_path, IDX_IMAGES_MAGIC, "image", idims, 3, error);
  if (fi == NULL)
    return NULL;
  count = idims[0], rows = idims[1], cols = idims[2];
  if (count == 0 || count > IDX_MAX_COUNT)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: bad image count %u (must be 1..%u)", images_path, count, IDX_MAX_COUNT);
      return NULL;
    }
  if (rows == 0 || cols == 0 || rows > IDX_MAX_SIDE || cols > IDX_MAX_SIDE)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: bad image size %u×%u (each side must be 1..%u)",
                   images_path, rows, cols, IDX_MAX_SIDE);
      return NULL;
    }
  if (!g_uint64_checked_mul (&n_pix, count, rows) ||
      !g_uint64_checked_mul (&n_pix, n_pix, cols) ||
      n_pix > IDX_MAX_BYTES)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: %u images of %u×%u is too large (at most %" G_GUINT64_FORMAT " bytes)",
                   images_path, count, rows, cols, IDX_MAX_BYTES);
      return NULL;
    }

  fl = idx_open (labels_path, IDX_LABELS_MAGIC, "label", ldims, 1, error);
  if (fl == NULL)
    return NULL;
  if (ldims[0] != count)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: %u labels, but %s has %u images",
                   labels_path, ldims[0], images_path, count);
      return NULL;
    }

  labels = idx_read_data (fl, labels_path, count, "labels", error);
  if (labels == NULL)
    return NULL;
  for (guint32 i = 0; i < count; i++)
    {
      if (n_classes > 0 && labels[i] >= n_classes)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                       "%s: label %u of sample %u is out of range (%d classes)",
                       labels_path, labels[i], i, n_classes);
          return NULL;
        }
      max_label = MAX (max_label, labels[i]);
    }

  ds = dataset_new (name, (LamShape) { 3, { 1, (int) rows, (int) cols } }, (int) count,
                    n_classes > 0 ? n_classes : max_label + 1, NULL);
  ds->class_names = n_classes > 0 ? g_strdupv ((char **) fashion_names)
                                  : numbered_names (ds->n_classes, "");
  ds->labels = g_steal_pointer (&labels);
  ds->images = idx_read_data (fi, images_path, n_pix, "pixels", error);
  if (ds->images == NULL)
    {
      lam_dataset_unref (ds);
      return NULL;
    }

  for (guint64 i = 0; i < n_pix; i++)
    hist[ds->images[i]]++;
  for (int b = 0; b < 256; b++)
    {
      sum += hist[b] * (b / 255.0);
      sum2 += hist[b] * (b / 255.0) * (b / 255.0);
    }
  mean = sum / n_pix;
  var = sum2 / n_pix - mean * mean;
  ds->mean = (float) mean;
  ds->std = var > 1e-12 ? (float) sqrt (var) : 1.f;
  return ds;
}

LamDataset *
lam_dataset_load_idx (const char *images_path, const char *labels_path, GError **error)
{
  g_autofree char *base = NULL;

  g_return_val_if_fail (images_path != NULL && labels_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  base = g_path_get_basename (images_path);
  return load_idx (images_path, labels_path, 0, base, error);
}

LamDataset *
lam_dataset_load_fashion_mnist (gboolean train, GError **error)
{
  const char *dir = g_getenv ("LAMINA_FASHION_MNIST_DIR");
  const char *prefix = train ? "train" : "t10k";
  g_autofree char *img_name = g_strdup_printf ("%s-images-idx3-ubyte.gz", prefix);
  g_autofree char *lbl_name = g_strdup_printf ("%s-labels-idx1-ubyte.gz", prefix);
  g_autofree char *img = NULL;
  g_autofree char *lbl = NULL;
  LamDataset *ds;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (dir == NULL || *dir == '\0')
    dir = LAM_FASHION_MNIST_DIR;
  img = g_build_filename (dir, img_name, NULL);
  lbl = g_build_filename (dir, lbl_name, NULL);
  for (int i = 0; i < 2; i++)
    {
      const char *path = i == 0 ? img : lbl;
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_IO,
                       "Fashion-MNIST not found: %s does not exist "
                       "(install Debian's package dataset-fashion-mnist, "
                       "or set LAMINA_FASHION_MNIST_DIR)", path);
          return NULL;
        }
    }

  ds = load_idx (img, lbl, 10, train ? "fashion-mnist (train)" : "fashion-mnist (test)", error);
  if (ds != NULL)
    {
      ds->mean = FASHION_MEAN;
      ds->std = FASHION_STD;
    }
  return ds;
}

/* ── Synthetic 2-D sets ──────────────────────────────────────────────── */

const char *
lam_synth_kind_name (LamSynthKind kind)
{
  g_return_val_if_fail (kind >= 0 && kind < LAM_N_SYNTH_ALL, NULL);
  return synth_names[kind];
}

gboolean
lam_synth_kind_from_name (const char *name, LamSynthKind *kind)
{
  for (int k = 0; k < LAM_N_SYNTH_ALL; k++)
    if (g_strcmp0 (name, synth_names[k]) == 0)
      {
        if (kind != NULL)
          *kind = (LamSynthKind) k;
        return TRUE;
      }
  return FALSE;
}

/* Points are interleaved by class (sample i has class i % k), so classes
 * are balanced and any prefix stays nearly balanced. n_classes applies to
 * spiral and blobs only; the other sets always have 2 classes. */
LamDataset *
lam_dataset_synthetic (LamSynthKind kind, int n, float noise, int n_classes,
                       guint64 seed, GError **error)
{
  LamDataset *ds;
  LamRng rng;
  int k = 2;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (kind < 0 || kind >= LAM_N_SYNTH)
    {
      /* the sequence sets share the names, not this function: lam_dataset_sequence */
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "kind %d is not a synthetic 2-D dataset", (int) kind);
      return NULL;
    }
  if (n < 4 || n > 1000000)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "n_samples %d is out of range (4..1000000)", n);
      return NULL;
    }
  if (!(noise >= 0.f && noise <= 1.f))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "noise %g is out of range (0..1)", noise);
      return NULL;
    }
  if (kind == LAM_SYNTH_SPIRAL || kind == LAM_SYNTH_BLOBS)
    {
      k = n_classes != 0 ? n_classes : kind == LAM_SYNTH_SPIRAL ? 2 : 3;
      if (k < 2 || k > 10)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                       "n_classes %d is out of range (2..10)", n_classes);
          return NULL;
        }
    }

  ds = dataset_new (synth_names[kind], (LamShape) { 1, { 2, 0, 0 } }, n, k,
                    numbered_names (k, "class "));
  ds->data = g_new (float, 2 * (gsize) n);
  ds->labels = g_new (guint8, n);
  lam_rng_init (&rng, seed, STREAM_SYNTH + kind);

  for (int i = 0; i < n; i++)
    {
      int c = i % k, j = i / k;
      int m = n / k + (c < n % k);               /* points in class c */
      double u = m > 1 ? (double) j / (m - 1) : 0.5;
      double x = 0, y = 0, s = 0, t, r;

      switch (kind)
        {
        case LAM_SYNTH_SPIRAL:                   /* arms of 1.75 turns */
          r = 0.05 + 0.9 * u;
          t = 2 * G_PI * c / k + 3.5 * G_PI * u;
          x = r * sin (t);
          y = r * cos (t);
          s = 0.1;
          break;
        case LAM_SYNTH_MOONS:                    /* sklearn's, scaled to ±0.9 */
          t = G_PI * lam_rng_uniform (&rng);
          x = c == 0 ? cos (t) : 1 - cos (t);
          y = c == 0 ? sin (t) : 0.5 - sin (t);
          x = (x - 0.5) * 0.6;
          y = (y - 0.25) * 0.6;
          s = 0.2;
          break;
        case LAM_SYNTH_CIRCLES:
          t = 2 * G_PI * lam_rng_uniform (&rng);
          r = c == 0 ? 0.35 : 0.85;
          x = r * cos (t);
          y = r * sin (t);
          s = 0.15;
          break;
        case LAM_SYNTH_XOR:                      /* class 0: ++ and --, class 1: +- and -+ */
          x = 0.05 + 0.95 * lam_rng_uniform (&rng);
          y = 0.05 + 0.95 * lam_rng_uniform (&rng);
          if (j % 2)
            x = -x, y = -y;
          if (c == 1)
            y = -y;
          s = 0.15;
          break;
        case LAM_SYNTH_BLOBS:                    /* centres on a circle of radius 0.6 */
          t = 2 * G_PI * c / k + G_PI / 2;
          r = 0.08 + 0.2 * noise;
          x = 0.6 * cos (t) + r * lam_rng_normal (&rng);
          y = 0.6 * sin (t) + r * lam_rng_normal (&rng);
          break;
        default:
          g_assert_not_reached ();
        }
      if (s > 0)
        {
          x += noise * s * lam_rng_normal (&rng);
          y += noise * s * lam_rng_normal (&rng);
        }
      ds->data[2 * i] = (float) x;
      ds->data[2 * i + 1] = (float) y;
      ds->labels[i] = (guint8) c;
    }
  return ds;
}

/* ── Sequence tasks ──────────────────────────────────────────────────── */

int
lam_sequence_default_length (LamSynthKind kind)
{
  return kind == LAM_SYNTH_PARITY ? 16 : 50;
}

static char **
strv_of (const char *a, const char *b)
{
  char **v = g_new0 (char *, 3);
  v[0] = g_strdup (a);
  v[1] = g_strdup (b);
  return v;
}

LamDataset *
lam_dataset_sequence (LamSynthKind kind, int n, int length, float noise, guint64 seed, GError **error)
{
  LamDataset *ds;
  LamRng rng;
  int T, F;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (kind < LAM_N_SYNTH || kind >= LAM_N_SYNTH_ALL)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "kind %d is not a sequence dataset", (int) kind);
      return NULL;
    }
  if (length == 0)
    length = lam_sequence_default_length (kind);
  if (length < 2 || length > 4096)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "length %d is out of range (2..4096)", length);
      return NULL;
    }
  if (kind == LAM_SYNTH_TEXT)
    return lam_dataset_text (n, length, FALSE, seed, error);
  if (n < 4 || n > 1000000)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "n_samples %d is out of range (4..1000000)", n);
      return NULL;
    }
  if (!(noise >= 0.f && noise <= 1.f))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "noise %g is out of range (0..1)", noise);
      return NULL;
    }

  T = length;
  F = kind == LAM_SYNTH_ADDING ? 2 : 1;
  if (kind == LAM_SYNTH_PARITY)
    ds = dataset_new (synth_names[kind], (LamShape) { 3, { 1, T, F } }, n, 2, strv_of ("even", "odd"));
  else
    {
      char **names = g_new0 (char *, 2);
      names[0] = g_strdup (kind == LAM_SYNTH_ADDING ? "sum" : "next value");
      ds = dataset_new (synth_names[kind], (LamShape) { 3, { 1, T, F } }, n, 1, names);
      ds->n_targets = 1;
      ds->targets = g_new (float, n);
    }
  ds->data = g_new (float, (gsize) n * T * F);
  ds->labels = g_new0 (guint8, n);
  /* the noise has its own stream: the same seed gives the same clean
   * sequences and targets at every noise level */
  LamRng noise_rng;
  lam_rng_init (&rng, seed, STREAM_SYNTH + kind);
  lam_rng_init (&noise_rng, seed, STREAM_SYNTH + 0x80 + kind);

  for (int i = 0; i < n; i++)
    {
      float *x = ds->data + (gsize) i * T * F;
      switch (kind)
        {
        case LAM_SYNTH_ADDING:
          {
            int a = (int) lam_rng_below (&rng, (guint32) (T / 2));
            int b = T / 2 + (int) lam_rng_below (&rng, (guint32) (T - T / 2));
            for (int t = 0; t < T; t++)
              {
                x[2 * t] = (float) lam_rng_uniform (&rng);
                x[2 * t + 1] = t == a || t == b ? 1.0f : 0.0f;
              }
            ds->targets[i] = x[2 * a] + x[2 * b];
            break;
          }
        case LAM_SYNTH_SINE:
          {
            double period = 10 + 40 * lam_rng_uniform (&rng);
            double phase = 2 * G_PI * lam_rng_uniform (&rng);
            double amp = 0.5 + 0.5 * lam_rng_uniform (&rng);
            for (int t = 0; t < T; t++)
              x[t] = (float) (amp * sin (2 * G_PI * t / period + phase));
            ds->targets[i] = (float) (amp * sin (2 * G_PI * T / period + phase));
            break;
          }
        case LAM_SYNTH_PARITY:
          {
            int parity = 0;
            for (int t = 0; t < T; t++)
              {
                int bit = (int) lam_rng_below (&rng, 2);
                x[t] = (float) bit;
                parity ^= bit;
              }
            ds->labels[i] = (guint8) parity;
            break;
          }
        default:
          g_assert_not_reached ();
        }
      if (noise > 0)
        for (int k = 0; k < T * F; k++)
          x[k] += (float) (noise * lam_rng_normal (&noise_rng));
    }
  return ds;
}

/* ── Text ────────────────────────────────────────────────────────────── */

char *
lam_text_corpus_path (void)
{
  const char *dirs[3] = { g_getenv ("LAMINA_TEXT_DIR"), LAM_SOURCE_DIR "/resources/text", LAM_DATADIR "/text" };

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = NULL;
      if (dirs[i] == NULL || dirs[i][0] == '\0')
        continue;
      path = g_build_filename (dirs[i], TEXT_CORPUS_FILE, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

static int
cmp_unichar (gconstpointer a, gconstpointer b)
{
  gunichar x = *(const gunichar *) a, y = *(const gunichar *) b;
  return x < y ? -1 : x > y;
}

LamDataset *
lam_dataset_text (int n, int length, gboolean test_part, guint64 seed, GError **error)
{
  g_autofree char *path = lam_text_corpus_path ();
  g_autofree char *text = NULL;
  g_autofree gunichar *chars = NULL;
  g_autofree gint32 *ids = NULL;
  g_autoptr(GArray) vocab = g_array_new (FALSE, FALSE, sizeof (gunichar));
  g_autoptr(GHashTable) index = g_hash_table_new (NULL, NULL);
  glong n_chars = 0;
  gsize len = 0;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length == 0)
    length = lam_sequence_default_length (LAM_SYNTH_TEXT);
  if (length < 2 || length > 4096)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "length %d is out of range (2..4096)", length);
      return NULL;
    }
  if (path == NULL)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_IO,
                   "the text corpus %s was not found (looked in $LAMINA_TEXT_DIR, %s and %s)",
                   TEXT_CORPUS_FILE, LAM_SOURCE_DIR "/resources/text", LAM_DATADIR "/text");
      return NULL;
    }
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_IO, "%s", local->message);
      return NULL;
    }
  if (!g_utf8_validate_len (text, len, NULL))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE, "%s: not valid UTF-8 text", path);
      return NULL;
    }
  chars = g_utf8_to_ucs4_fast (text, (glong) len, &n_chars);

  /* the vocabulary: every character of the corpus, in code point order */
  for (glong i = 0; i < n_chars; i++)
    if (!g_hash_table_contains (index, GUINT_TO_POINTER (chars[i])))
      {
        g_hash_table_add (index, GUINT_TO_POINTER (chars[i]));
        g_array_append_val (vocab, chars[i]);
      }
  g_array_sort (vocab, cmp_unichar);
  if (vocab->len > 255 || vocab->len < 2)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: %u different characters; the text set needs 2 to 255", path, vocab->len);
      return NULL;
    }
  g_hash_table_remove_all (index);
  for (guint v = 0; v < vocab->len; v++)
    g_hash_table_insert (index, GUINT_TO_POINTER (g_array_index (vocab, gunichar, v)), GUINT_TO_POINTER (v));
  ids = g_new (gint32, MAX (n_chars, 1));
  for (glong i = 0; i < n_chars; i++)
    ids[i] = (gint32) GPOINTER_TO_UINT (g_hash_table_lookup (index, GUINT_TO_POINTER (chars[i])));

  /* windows [start, start + length) with the label at start + length:
   * test windows start at or after the split, training windows end before it */
  glong split = n_chars - n_chars / 10;
  glong lo = test_part ? split : 0;
  glong hi = (test_part ? n_chars : split) - length - 1;   /* last start, inclusive: its label is inside */
  glong avail = hi - lo + 1;
  if (avail < 1)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE, "%s: %ld characters are too few for windows of %d",
                   path, n_chars, length);
      return NULL;
    }
  int count = n <= 0 || n >= avail ? (int) MIN (avail, 1000000) : n;

  char **names = g_new0 (char *, vocab->len + 1);
  for (guint v = 0; v < vocab->len; v++)
    {
      char buf[8] = { 0 };
      g_unichar_to_utf8 (g_array_index (vocab, gunichar, v), buf);
      names[v] = g_strdup (buf);
    }
  LamDataset *ds = dataset_new ("text", (LamShape) { 1, { length, 1, 1 } }, count, (int) vocab->len, names);
  ds->data = g_new (float, (gsize) count * length);
  ds->labels = g_new (guint8, MAX (count, 1));

  LamRng rng;
  lam_rng_init (&rng, seed, STREAM_TEXT + (test_part ? 1 : 0));
  for (int i = 0; i < count; i++)
    {
      glong start = count == avail ? lo + i : lo + (glong) lam_rng_below (&rng, (guint32) avail);
      for (int t = 0; t < length; t++)
        ds->data[(gsize) i * length + t] = (float) ids[start + t];
      ds->labels[i] = (guint8) ids[start + length];
    }
  return ds;
}

/* ── Copies and reference counting ───────────────────────────────────── */

gsize
lam_dataset_sample_size (const LamDataset *ds)
{
  g_return_val_if_fail (ds != NULL, 0);
  return (gsize) lam_shape_size (&ds->shape);
}

LamDataset *
lam_dataset_select (LamDataset *ds, const gint32 *idx, int count)
{
  gsize size;
  LamDataset *out;

  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (count >= 0 && (idx != NULL || count == 0), NULL);
  for (int i = 0; i < count; i++)
    g_return_val_if_fail (idx[i] >= 0 && idx[i] < ds->n, NULL);

  size = lam_dataset_sample_size (ds);
  out = dataset_new (ds->name, ds->shape, count, ds->n_classes, g_strdupv (ds->class_names));
  out->mean = ds->mean;
  out->std = ds->std;
  out->labels = g_malloc (MAX (count, 1));
  out->n_targets = ds->n_targets;
  if (ds->targets != NULL)
    out->targets = g_malloc (MAX ((gsize) count * ds->n_targets, 1) * sizeof (float));
  if (ds->images != NULL)
    out->images = g_malloc (MAX (count * size, 1));
  if (ds->data != NULL)
    out->data = g_malloc (MAX (count * size * sizeof (float), 1));
  for (int i = 0; i < count; i++)
    {
      out->labels[i] = ds->labels[idx[i]];
      if (ds->targets != NULL)
        memcpy (out->targets + (gsize) i * ds->n_targets, ds->targets + (gsize) idx[i] * ds->n_targets,
                ds->n_targets * sizeof (float));
      if (ds->images != NULL)
        memcpy (out->images + i * size, ds->images + idx[i] * size, size);
      if (ds->data != NULL)
        memcpy (out->data + i * size, ds->data + idx[i] * size, size * sizeof (float));
    }
  return out;
}

LamDataset *
lam_dataset_slice (LamDataset *ds, int start, int count)
{
  g_autofree gint32 *idx = NULL;

  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (start >= 0 && count >= 0 && start <= ds->n - count, NULL);

  idx = g_new (gint32, MAX (count, 1));
  for (int i = 0; i < count; i++)
    idx[i] = start + i;
  return lam_dataset_select (ds, idx, count);
}

LamDataset *
lam_dataset_ref (LamDataset *ds)
{
  g_return_val_if_fail (ds != NULL, NULL);
  g_atomic_ref_count_inc (&ds->ref);
  return ds;
}

void
lam_dataset_unref (LamDataset *ds)
{
  g_return_if_fail (ds != NULL);
  if (!g_atomic_ref_count_dec (&ds->ref))
    return;
  g_free (ds->name);
  g_strfreev (ds->class_names);
  g_free (ds->images);
  g_free (ds->data);
  g_free (ds->labels);
  g_free (ds->targets);
  g_free (ds);
}

/* ── Specs and splits ────────────────────────────────────────────────── */

void
lam_data_spec_init (LamDataSpec *spec)
{
  memset (spec, 0, sizeof *spec);
  spec->name = g_strdup ("fashion-mnist");
  spec->n_samples = 1000;
  spec->noise = 0.1f;
  spec->val_fraction = 1.0f / 12;
}

void
lam_data_spec_clear (LamDataSpec *spec)
{
  g_clear_pointer (&spec->name, g_free);
  g_clear_pointer (&spec->train_images, g_free);
  g_clear_pointer (&spec->train_labels, g_free);
  g_clear_pointer (&spec->test_images, g_free);
  g_clear_pointer (&spec->test_labels, g_free);
}

/* dst is overwritten, not freed. */
void
lam_data_spec_copy (LamDataSpec *dst, const LamDataSpec *src)
{
  *dst = *src;
  dst->name = g_strdup (src->name);
  dst->train_images = g_strdup (src->train_images);
  dst->train_labels = g_strdup (src->train_labels);
  dst->test_images = g_strdup (src->test_images);
  dst->test_labels = g_strdup (src->test_labels);
}

/* Splits ds into a seeded random subset of n_out samples (*out) and the
 * rest (*rest); both keep the original order. */
static void
split_random (LamDataset *ds, int n_out, guint64 seed, guint64 stream,
              LamDataset **out, LamDataset **rest)
{
  g_autofree gint32 *perm = g_new (gint32, ds->n);
  g_autofree gint32 *idx = g_new (gint32, ds->n);
  g_autofree gboolean *chosen = g_new0 (gboolean, ds->n);
  LamRng rng;
  int a = 0, b = n_out;

  for (int i = 0; i < ds->n; i++)
    perm[i] = i;
  lam_rng_init (&rng, seed, stream);
  lam_rng_shuffle (&rng, perm, ds->n);
  for (int i = 0; i < n_out; i++)
    chosen[perm[i]] = TRUE;
  for (int i = 0; i < ds->n; i++)
    idx[chosen[i] ? a++ : b++] = i;
  *out = lam_dataset_select (ds, idx, n_out);
  *rest = lam_dataset_select (ds, idx + n_out, ds->n - n_out);
}

static void
set_name (LamDataset *ds, const char *base, const char *part)
{
  g_free (ds->name);
  ds->name = g_strdup_printf ("%s (%s)", base, part);
}

static gboolean
open_idx (const LamDataSpec *spec, guint64 seed, LamDataset **train, LamDataset **test,
          GError **error)
{
  g_autoptr(LamDataset) full = NULL;
  g_autoptr(LamDataset) t = NULL;
  const char *missing = NULL;

  if (spec->train_images == NULL)
    missing = "train_images";
  else if (spec->train_labels == NULL)
    missing = "train_labels";
  else if (spec->test_images != NULL && spec->test_labels == NULL)
    missing = "test_labels";
  else if (spec->test_images == NULL && spec->test_labels != NULL)
    missing = "test_images";
  if (missing != NULL)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "dataset “idx” needs %s", missing);
      return FALSE;
    }

  full = lam_dataset_load_idx (spec->train_images, spec->train_labels, error);
  if (full == NULL)
    return FALSE;

  if (spec->test_images == NULL)
    {
      /* hold out a sixth of the training file as the test set */
      if (full->n < 2)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                       "%s: too few samples (%d) to split off a test set",
                       spec->train_images, full->n);
          return FALSE;
        }
      split_random (full, MAX (full->n / 6, 1), seed, STREAM_HOLDOUT, test, train);
      return TRUE;
    }

  t = lam_dataset_load_idx (spec->test_images, spec->test_labels, error);
  if (t == NULL)
    return FALSE;
  if (memcmp (&t->shape, &full->shape, sizeof t->shape) != 0)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: images are %d×%d, but training images (%s) are %d×%d",
                   spec->test_images, t->shape.d[1], t->shape.d[2],
                   spec->train_images, full->shape.d[1], full->shape.d[2]);
      return FALSE;
    }
  /* both sets get the classes of either */
  if (t->n_classes != full->n_classes)
    {
      LamDataset *fewer = t->n_classes < full->n_classes ? t : full;
      fewer->n_classes = MAX (t->n_classes, full->n_classes);
      g_strfreev (fewer->class_names);
      fewer->class_names = numbered_names (fewer->n_classes, "");
    }
  *train = g_steal_pointer (&full);
  *test = g_steal_pointer (&t);
  return TRUE;
}

gboolean
lam_data_open (const LamDataSpec *spec, guint64 seed, LamDataSplits *out, GError **error)
{
  g_autoptr(LamDataset) full = NULL;
  g_autoptr(LamDataset) train = NULL;
  g_autoptr(LamDataset) val = NULL;
  g_autoptr(LamDataset) test = NULL;
  LamSynthKind kind;
  int n_val;

  g_return_val_if_fail (spec != NULL && out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(spec->val_fraction >= 0.f && spec->val_fraction <= 0.5f))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "val_fraction %g is out of range (0..0.5)", spec->val_fraction);
      return FALSE;
    }
  if (spec->limit < 0)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "limit %d is negative", spec->limit);
      return FALSE;
    }

  if (g_strcmp0 (spec->name, "fashion-mnist") == 0)
    {
      full = lam_dataset_load_fashion_mnist (TRUE, error);
      if (full == NULL)
        return FALSE;
      test = lam_dataset_load_fashion_mnist (FALSE, error);
      if (test == NULL)
        return FALSE;
    }
  else if (g_strcmp0 (spec->name, "idx") == 0)
    {
      if (!open_idx (spec, seed, &full, &test, error))
        return FALSE;
    }
  else if (lam_synth_kind_from_name (spec->name, &kind) && kind == LAM_SYNTH_TEXT)
    {
      full = lam_dataset_text (spec->n_samples, spec->length, FALSE, seed, error);
      if (full == NULL)
        return FALSE;
      test = lam_dataset_text (MAX (spec->n_samples / 4, 4), spec->length, TRUE, seed + 1, error);
      if (test == NULL)
        return FALSE;
    }
  else if (lam_synth_kind_from_name (spec->name, &kind) && kind >= LAM_N_SYNTH)
    {
      full = lam_dataset_sequence (kind, spec->n_samples, spec->length, spec->noise, seed, error);
      if (full == NULL)
        return FALSE;
      test = lam_dataset_sequence (kind, MAX (spec->n_samples / 4, 4), spec->length, spec->noise,
                                   seed + 1, error);
      if (test == NULL)
        return FALSE;
    }
  else if (lam_synth_kind_from_name (spec->name, &kind))
    {
      full = lam_dataset_synthetic (kind, spec->n_samples, spec->noise, spec->n_classes,
                                    seed, error);
      if (full == NULL)
        return FALSE;
      test = lam_dataset_synthetic (kind, MAX (spec->n_samples / 4, 4), spec->noise,
                                    spec->n_classes, seed + 1, error);
      if (test == NULL)
        return FALSE;
    }
  else
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "unknown dataset “%s” (expected fashion-mnist, idx, spiral, moons, "
                   "circles, xor, blobs, adding, sine, parity or text)", spec->name ? spec->name : "(none)");
      return FALSE;
    }

  n_val = (int) floor (full->n * (double) spec->val_fraction + 0.5);
  n_val = CLAMP (n_val, 0, full->n - 1);
  split_random (full, n_val, seed, STREAM_VAL, &val, &train);
  if (spec->limit > 0 && spec->limit < train->n)
    {
      LamDataset *cut = lam_dataset_slice (train, 0, spec->limit);
      lam_dataset_unref (train);
      train = cut;
    }

  val->mean = test->mean = train->mean;
  val->std = test->std = train->std;
  set_name (train, spec->name, "train");
  set_name (val, spec->name, "validation");
  set_name (test, spec->name, "test");
  out->train = g_steal_pointer (&train);
  out->val = g_steal_pointer (&val);
  out->test = g_steal_pointer (&test);
  return TRUE;
}

void
lam_data_splits_clear (LamDataSplits *s)
{
  g_clear_pointer (&s->train, lam_dataset_unref);
  g_clear_pointer (&s->val, lam_dataset_unref);
  g_clear_pointer (&s->test, lam_dataset_unref);
}
