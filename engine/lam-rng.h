/* lam-rng.h: a small deterministic generator (PCG32) for initialisation,
 * shuffling and synthetic data. One seed gives the same numbers on every
 * machine.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <math.h>

G_BEGIN_DECLS

typedef struct {
  guint64 state;
  guint64 inc;
} LamRng;

static inline guint32
lam_rng_next (LamRng *r)
{
  guint64 old = r->state;
  r->state = old * G_GUINT64_CONSTANT (6364136223846793005) + r->inc;
  guint32 xorshifted = (guint32) (((old >> 18u) ^ old) >> 27u);
  guint32 rot = (guint32) (old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

static inline void
lam_rng_init (LamRng *r, guint64 seed, guint64 stream)
{
  r->state = 0;
  r->inc = (stream << 1u) | 1u;
  lam_rng_next (r);
  r->state += seed;
  lam_rng_next (r);
}

/* uniform in [0, 1) */
static inline double
lam_rng_uniform (LamRng *r)
{
  guint64 hi = lam_rng_next (r), lo = lam_rng_next (r);
  return (double) (((hi << 21) ^ lo) & ((G_GUINT64_CONSTANT (1) << 53) - 1)) / 9007199254740992.0;
}

/* uniform integer in [0, n) */
static inline guint32
lam_rng_below (LamRng *r, guint32 n)
{
  guint32 threshold = (-n) % n;
  for (;;)
    {
      guint32 x = lam_rng_next (r);
      if (x >= threshold)
        return x % n;
    }
}

static inline double
lam_rng_normal (LamRng *r)
{
  double u1 = lam_rng_uniform (r), u2 = lam_rng_uniform (r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

static inline void
lam_rng_shuffle (LamRng *r, gint32 *a, int n)
{
  for (int i = n - 1; i > 0; i--)
    {
      int j = (int) lam_rng_below (r, (guint32) (i + 1));
      gint32 t = a[i]; a[i] = a[j]; a[j] = t;
    }
}

G_END_DECLS
