/* lam-types.h: forward declarations and the engine's error domain.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LamGraph     LamGraph;
typedef struct _LamNode      LamNode;
typedef struct _LamBackend   LamBackend;
typedef struct _LamNet       LamNet;
typedef struct _LamDataset   LamDataset;
typedef struct _LamOptimizer LamOptimizer;
typedef struct _LamTrainer   LamTrainer;
typedef struct _LamModelFile LamModelFile;

#define LAM_ERROR (lam_error_quark ())
GQuark lam_error_quark (void);

typedef enum {
  LAM_ERROR_INVALID_GRAPH,   /* a cycle, a shape mismatch, a dangling node, a bad parameter */
  LAM_ERROR_BAD_FILE,        /* a model, weight or dataset file that cannot be read */
  LAM_ERROR_IO,              /* open/read/write failed */
  LAM_ERROR_BACKEND,         /* a backend could not be used (no device, out of memory) */
  LAM_ERROR_UNSUPPORTED,     /* an op the backend lacks */
  LAM_ERROR_INVALID_ARGUMENT,/* a bad option or hyperparameter */
  LAM_ERROR_DIVERGED,        /* the loss became NaN or infinite */
  LAM_ERROR_CANCELLED,
} LamErrorCode;

/* Per-sample shape. rank 1: d[0] features; rank 3: d[0] channels, d[1] height, d[2] width. */
typedef struct {
  int rank;
  int d[3];
} LamShape;

static inline gint64
lam_shape_size (const LamShape *s)
{
  gint64 n = 1;
  for (int i = 0; i < s->rank; i++)
    n *= s->d[i];
  return n;
}

/* Writes "16×14×14" or "784" into buf. */
const char *lam_shape_to_string (const LamShape *s, char *buf, gsize len);

G_END_DECLS
