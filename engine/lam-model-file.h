/* lam-model-file.h: the JSON model file (docs/model-format.md): the
 * graph with editor positions, the dataset and the hyperparameters.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-types.h"
#include "lam-graph.h"
#include "lam-trainer.h"

G_BEGIN_DECLS

struct _LamModelFile {
  char          *name;         /* "LeNet-5" */
  char          *description;  /* a sentence for the start view */
  LamGraph      *graph;
  LamTrainConfig config;
};

LamModelFile *lam_model_file_new       (void);
void          lam_model_file_free      (LamModelFile *m);
/* Parses and checks types and ranges; does not validate the graph's
 * shapes (an invalid graph can be opened and fixed in the editor).
 * Errors name the file and the JSON field or node. */
LamModelFile *lam_model_file_load      (const char *path, GError **error);
LamModelFile *lam_model_file_parse     (const char *json, gssize len, const char *path_for_errors,
                                        GError **error);
char         *lam_model_file_to_json   (const LamModelFile *m);
/* Atomic save. */
gboolean      lam_model_file_save      (const LamModelFile *m, const char *path, GError **error);

/* Presets shipped in resources/presets (LAM_DATADIR/presets when installed,
 * else the source tree): "mlp", "lenet5", "alexnet", "vgg", "resnet". */
const char  *const *lam_preset_names   (void);
char         *lam_preset_path          (const char *name);   /* NULL if unknown */
LamModelFile *lam_model_file_load_preset (const char *name, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamModelFile, lam_model_file_free)

G_END_DECLS
