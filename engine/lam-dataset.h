/* lam-dataset.h: datasets held in memory as bytes (images) or floats
 * (synthetic 2-D sets), made into float batches per step.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-types.h"

G_BEGIN_DECLS

typedef enum {
  LAM_SYNTH_SPIRAL,
  LAM_SYNTH_MOONS,
  LAM_SYNTH_CIRCLES,
  LAM_SYNTH_XOR,
  LAM_SYNTH_BLOBS,
  LAM_N_SYNTH
} LamSynthKind;

struct _LamDataset {
  char    *name;          /* "fashion-mnist (train)", "spiral" */
  LamShape shape;         /* per sample: 1×28×28 for IDX, 2 for 2-D sets */
  int      n;             /* number of samples */
  int      n_classes;
  char   **class_names;   /* n_classes strings, NULL-terminated */
  guint8  *images;        /* n × size bytes, or NULL */
  float   *data;          /* n × size floats (synthetic), or NULL */
  guint8  *labels;        /* n labels in [0, n_classes) */
  float    mean, std;     /* normalisation of bytes: (b/255 - mean)/std */
  gatomicrefcount ref;
};

/* An MNIST-format IDX pair (optionally gzip-compressed, detected by
 * content). Errors name the file and what is wrong: wrong magic, counts
 * that do not match, truncated data, a label out of range. */
LamDataset *lam_dataset_load_idx   (const char *images_path, const char *labels_path,
                                    GError **error);
/* Fashion-MNIST from Debian's dataset-fashion-mnist package
 * (LAM_FASHION_MNIST_DIR, or $LAMINA_FASHION_MNIST_DIR). */
LamDataset *lam_dataset_load_fashion_mnist (gboolean train, GError **error);

/* n points in [-1,1]² with noise (0..1), classes as the set defines
 * (spiral: n_classes arms, default 2; others 2 classes; blobs: n_classes). */
LamDataset *lam_dataset_synthetic  (LamSynthKind kind, int n, float noise, int n_classes,
                                    guint64 seed, GError **error);
const char *lam_synth_kind_name    (LamSynthKind kind);   /* "spiral" */
gboolean    lam_synth_kind_from_name (const char *name, LamSynthKind *kind);

/* A copy of samples [start, start+count). */
LamDataset *lam_dataset_slice      (LamDataset *ds, int start, int count);
/* Samples listed in idx, in that order. */
LamDataset *lam_dataset_select     (LamDataset *ds, const gint32 *idx, int count);
gsize       lam_dataset_sample_size(const LamDataset *ds);   /* floats per sample */

LamDataset *lam_dataset_ref        (LamDataset *ds);
void        lam_dataset_unref      (LamDataset *ds);

/* What a model file says about its data. */
typedef struct {
  char  *name;            /* "fashion-mnist", "idx", or a synthetic name ("spiral") */
  char  *train_images;    /* for "idx": paths */
  char  *train_labels;
  char  *test_images;     /* optional; when missing, the test set is split off train */
  char  *test_labels;
  int    n_samples;       /* synthetic: training points (test: n_samples/4) */
  float  noise;           /* synthetic */
  int    n_classes;       /* synthetic spiral/blobs; 0 = default */
  float  val_fraction;    /* share of train held out for validation, 0..0.5 */
  int    limit;           /* use at most this many training images (0 = all) */
} LamDataSpec;

void     lam_data_spec_init  (LamDataSpec *spec);   /* fashion-mnist, val 1/12 */
void     lam_data_spec_clear (LamDataSpec *spec);
void     lam_data_spec_copy  (LamDataSpec *dst, const LamDataSpec *src);

typedef struct {
  LamDataset *train;
  LamDataset *val;        /* may have n == 0 */
  LamDataset *test;
} LamDataSplits;

/* Loads and splits. The validation set is a seeded random subset of the
 * training file; limit then cuts the training set. */
gboolean lam_data_open  (const LamDataSpec *spec, guint64 seed, LamDataSplits *out,
                         GError **error);
void     lam_data_splits_clear (LamDataSplits *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamDataset, lam_dataset_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LamDataSplits, lam_data_splits_clear)

G_END_DECLS
