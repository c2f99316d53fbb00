/* lam-safetensors.h: reading and writing safetensors files
 * (8-byte little-endian header length, JSON header, raw data), float32
 * only, as Python's safetensors package reads them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-types.h"

G_BEGIN_DECLS

typedef struct {
  char   *name;
  int     ndim;
  gint64  shape[4];
  float  *data;        /* owned */
  gsize   n;           /* elements */
} LamStTensor;

typedef struct {
  GPtrArray  *tensors;   /* LamStTensor*, in file order (sorted by name on write? no: as added) */
  GHashTable *metadata;  /* char* -> char*, the "__metadata__" object */
} LamStFile;

LamStFile   *lam_st_file_new    (void);
void         lam_st_file_free   (LamStFile *f);
/* Adds a copy of data. */
LamStTensor *lam_st_file_add    (LamStFile *f, const char *name, int ndim, const gint64 *shape,
                                 const float *data);
LamStTensor *lam_st_file_find   (LamStFile *f, const char *name);
void         lam_st_file_set_meta (LamStFile *f, const char *key, const char *value);
const char  *lam_st_file_get_meta (LamStFile *f, const char *key);

/* Atomic write (temporary file, then rename). */
gboolean     lam_st_file_save   (LamStFile *f, const char *path, GError **error);
/* Validates everything: header length within the file, JSON well formed,
 * dtype F32, offsets in order within the data, sizes matching shapes,
 * no overflow. Errors name the file and the tensor. */
LamStFile   *lam_st_file_load   (const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamStFile, lam_st_file_free)

G_END_DECLS
