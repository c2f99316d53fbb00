/* lam-dataset.h: datasets held in memory as bytes (images) or floats
 * (synthetic 2-D sets, sequence tasks, token ids of a text), made into
 * float batches per step.
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
  LAM_N_SYNTH,                      /* the 2-D point sets end here */
  /* Sequence sets (lam_dataset_sequence); same name space, so model
   * files and lamina-train --dataset take them like the 2-D sets. */
  LAM_SYNTH_ADDING = LAM_N_SYNTH,   /* T steps of (value, marker): regress the sum of the 2 marked values */
  LAM_SYNTH_SINE,                   /* T samples of a sine wave: regress the next one */
  LAM_SYNTH_PARITY,                 /* T bits: classify their parity */
  LAM_SYNTH_TEXT,                   /* T characters of the shipped corpus: classify the next one */
  LAM_N_SYNTH_ALL
} LamSynthKind;

struct _LamDataset {
  char    *name;          /* "fashion-mnist (train)", "spiral" */
  LamShape shape;         /* per sample: 1×28×28 for IDX, 2 for 2-D sets */
  int      n;             /* number of samples */
  int      n_classes;
  char   **class_names;   /* n_classes strings, NULL-terminated */
  guint8  *images;        /* n × size bytes, or NULL */
  float   *data;          /* n × size floats (synthetic), or NULL */
  guint8  *labels;        /* n labels in [0, n_classes) (all 0 for a regression set) */
  float   *targets;       /* n × n_targets numeric targets of a regression set, or NULL */
  int      n_targets;
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
 * (spiral: n_classes arms, default 2; others 2 classes; blobs: n_classes).
 * kind below LAM_N_SYNTH; the sequence sets come from lam_dataset_sequence. */
LamDataset *lam_dataset_synthetic  (LamSynthKind kind, int n, float noise, int n_classes,
                                    guint64 seed, GError **error);
const char *lam_synth_kind_name    (LamSynthKind kind);   /* "spiral", "adding" */
gboolean    lam_synth_kind_from_name (const char *name, LamSynthKind *kind);

/* Sequence tasks, per sample one "image" 1×T×F (ImageToSequence turns
 * it into T steps of F values), values exact, then noise (0..1) added as
 * Gaussian noise of that standard deviation:
 *   adding: F = 2, (uniform [0,1) value, marker), one marker in each half;
 *           target = the sum of the two marked values (Hochreiter 1997);
 *   sine:   F = 1, a sine of random period (10 to 50 steps) and phase,
 *           amplitude 0.5 to 1; target = the next sample (noise-free);
 *   parity: F = 1, random bits; class = their parity (even, odd);
 *   text:   see lam_dataset_text.
 * length 0 takes the set's default (lam_sequence_default_length). */
LamDataset *lam_dataset_sequence   (LamSynthKind kind, int n, int length, float noise, guint64 seed,
                                    GError **error);
int         lam_sequence_default_length (LamSynthKind kind);   /* adding 50, sine 50, parity 16, text 50 */
/* Next-character prediction on resources/text/lamina-corpus.txt: samples
 * are windows of length characters as token ids (shape [length], floats
 * holding integers), the label the id of the character after the window;
 * class_names are the characters (the vocabulary: every character of the
 * corpus, in code point order). Windows of the test part start in the
 * corpus's last tenth, the others before it (they never overlap). n
 * windows at seeded random positions (n ≤ 0 or more than there are:
 * all, in order). The corpus is found in $LAMINA_TEXT_DIR, the source
 * tree, then the installed data. */
LamDataset *lam_dataset_text       (int n, int length, gboolean test_part, guint64 seed, GError **error);
char       *lam_text_corpus_path   (void);   /* NULL when not found */

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
  int    length;          /* sequence sets: steps per sample; 0 = the set's default */
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
