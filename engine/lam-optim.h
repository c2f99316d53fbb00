/* lam-optim.h: optimizers and learning-rate schedules.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-types.h"
#include "lam-backend.h"

G_BEGIN_DECLS

typedef enum {
  LAM_OPT_SGD,
  LAM_OPT_ADAM,
  LAM_OPT_ADAMW,
} LamOptKind;

typedef enum {
  LAM_SCHED_CONSTANT,
  LAM_SCHED_STEP,     /* lr × gamma every step_epochs epochs */
  LAM_SCHED_COSINE,   /* cosine from lr to 0 over all epochs */
} LamSchedKind;

typedef struct {
  LamOptKind   kind;
  float        lr;
  float        momentum;      /* SGD */
  gboolean     nesterov;      /* SGD */
  float        weight_decay;
  float        beta1, beta2, eps;  /* Adam(W) */
  LamSchedKind schedule;
  int          step_epochs;   /* step schedule */
  float        gamma;         /* step schedule */
} LamOptConfig;

void        lam_opt_config_init   (LamOptConfig *c);  /* SGD lr 0.01 momentum 0.9 */
const char *lam_opt_kind_name     (LamOptKind k);     /* "sgd", "adam", "adamw" */
gboolean    lam_opt_kind_from_name(const char *s, LamOptKind *k);
const char *lam_sched_kind_name   (LamSchedKind k);   /* "constant", "step", "cosine" */
gboolean    lam_sched_kind_from_name (const char *s, LamSchedKind *k);
/* Checks ranges; the message names the field. */
gboolean    lam_opt_config_check  (const LamOptConfig *c, GError **error);

/* Learning rate for a step: epoch_f is epochs done as a fraction (0..total). */
float       lam_opt_schedule_lr   (const LamOptConfig *c, float base_lr, double epoch_f,
                                   int total_epochs);

struct _LamOptimizer {
  LamOptConfig cfg;
  LamBackend  *be;
  gsize        n;
  float       *m;     /* momentum / first moment (backend memory, lazily allocated) */
  float       *v;     /* second moment */
  int          t;     /* steps taken */
};

LamOptimizer *lam_optimizer_new  (const LamOptConfig *cfg, LamBackend *be, gsize n);
void          lam_optimizer_free (LamOptimizer *o);
/* One update of w from g with learning rate lr. FALSE when out of memory. */
gboolean      lam_optimizer_step (LamOptimizer *o, float *w, const float *g, float lr,
                                  GError **error);

G_END_DECLS
