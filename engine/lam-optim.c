/* lam-optim.c: optimizers and schedules.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-optim"

#include "config.h"

#include <math.h>

#include "lam-optim.h"

void
lam_opt_config_init (LamOptConfig *c)
{
  *c = (LamOptConfig) {
    .kind = LAM_OPT_SGD, .lr = 0.01f, .momentum = 0.9f, .nesterov = FALSE,
    .weight_decay = 0, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
    .schedule = LAM_SCHED_CONSTANT, .step_epochs = 1, .gamma = 0.1f,
  };
}

static const char *opt_names[] = { "sgd", "adam", "adamw" };
static const char *sched_names[] = { "constant", "step", "cosine" };

const char *
lam_opt_kind_name (LamOptKind k)
{
  g_return_val_if_fail (k <= LAM_OPT_ADAMW, NULL);
  return opt_names[k];
}

gboolean
lam_opt_kind_from_name (const char *s, LamOptKind *k)
{
  for (guint i = 0; i < G_N_ELEMENTS (opt_names); i++)
    if (g_ascii_strcasecmp (s, opt_names[i]) == 0)
      {
        *k = i;
        return TRUE;
      }
  return FALSE;
}

const char *
lam_sched_kind_name (LamSchedKind k)
{
  g_return_val_if_fail (k <= LAM_SCHED_COSINE, NULL);
  return sched_names[k];
}

gboolean
lam_sched_kind_from_name (const char *s, LamSchedKind *k)
{
  for (guint i = 0; i < G_N_ELEMENTS (sched_names); i++)
    if (g_ascii_strcasecmp (s, sched_names[i]) == 0)
      {
        *k = i;
        return TRUE;
      }
  return FALSE;
}

#define CHECK(cond, field, fmt, ...) \
  G_STMT_START { \
    if (!(cond)) { \
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, field " " fmt, __VA_ARGS__); \
      return FALSE; \
    } \
  } G_STMT_END

gboolean
lam_opt_config_check (const LamOptConfig *c, GError **error)
{
  CHECK (c->kind <= LAM_OPT_ADAMW, "optimizer", "%d is unknown", c->kind);
  CHECK (c->lr > 0 && c->lr <= 10, "learning rate", "%g is out of range (above 0, at most 10)", c->lr);
  CHECK (c->momentum >= 0 && c->momentum < 1, "momentum", "%g is out of range (0 to below 1)", c->momentum);
  CHECK (c->weight_decay >= 0 && c->weight_decay <= 1, "weight decay", "%g is out of range (0 to 1)", c->weight_decay);
  CHECK (c->beta1 >= 0 && c->beta1 < 1, "beta1", "%g is out of range (0 to below 1)", c->beta1);
  CHECK (c->beta2 >= 0 && c->beta2 < 1, "beta2", "%g is out of range (0 to below 1)", c->beta2);
  CHECK (c->eps > 0 && c->eps <= 1, "eps", "%g is out of range (above 0, at most 1)", c->eps);
  CHECK (c->schedule <= LAM_SCHED_COSINE, "schedule", "%d is unknown", c->schedule);
  CHECK (c->step_epochs >= 1 && c->step_epochs <= 10000, "step_epochs", "%d is out of range (1 to 10000)", c->step_epochs);
  CHECK (c->gamma > 0 && c->gamma <= 1, "gamma", "%g is out of range (above 0, at most 1)", c->gamma);
  CHECK (!c->nesterov || c->momentum > 0, "nesterov", "%s", "needs a momentum above 0");
  return TRUE;
}

float
lam_opt_schedule_lr (const LamOptConfig *c, float base_lr, double epoch_f, int total_epochs)
{
  switch (c->schedule)
    {
    case LAM_SCHED_STEP:
      return base_lr * powf (c->gamma, (float) floor (epoch_f / c->step_epochs));
    case LAM_SCHED_COSINE:
      if (total_epochs <= 0)
        return base_lr;
      return (float) (base_lr * 0.5 * (1.0 + cos (G_PI * MIN (epoch_f / total_epochs, 1.0))));
    case LAM_SCHED_CONSTANT:
    default:
      return base_lr;
    }
}

LamOptimizer *
lam_optimizer_new (const LamOptConfig *cfg, LamBackend *be, gsize n)
{
  LamOptimizer *o = g_new0 (LamOptimizer, 1);
  o->cfg = *cfg;
  o->be = be;
  o->n = n;
  return o;
}

void
lam_optimizer_free (LamOptimizer *o)
{
  if (o == NULL)
    return;
  if (o->m)
    o->be->ops->free (o->be, o->m);
  if (o->v)
    o->be->ops->free (o->be, o->v);
  g_free (o);
}

static gboolean
ensure (LamOptimizer *o, float **p, GError **error)
{
  if (*p == NULL && !(*p = o->be->ops->alloc (o->be, MAX (o->n, 1) * sizeof (float))))
    {
      lam_backend_set_out_of_memory (o->be, error, MAX (o->n, 1) * sizeof (float),
                                     "the optimizer's state");
      return FALSE;
    }
  return TRUE;
}

gboolean
lam_optimizer_step (LamOptimizer *o, float *w, const float *g, float lr, GError **error)
{
  const LamOptConfig *c = &o->cfg;
  o->t++;
  if (c->kind == LAM_OPT_SGD)
    {
      if (c->momentum > 0 && !ensure (o, &o->m, error))
        return FALSE;
      o->be->ops->sgd_step (o->be, w, g, o->m, o->n, lr, c->momentum, c->weight_decay, c->nesterov);
    }
  else
    {
      if (!ensure (o, &o->m, error) || !ensure (o, &o->v, error))
        return FALSE;
      o->be->ops->adam_step (o->be, w, g, o->m, o->v, o->n, lr, c->beta1, c->beta2, c->eps,
                             c->weight_decay, c->kind == LAM_OPT_ADAMW, o->t);
    }
  return TRUE;
}
