/* lam-series.c: x/y series with bisection and per-column decimation.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>

#include "lam-series.h"

struct _LamSeries {
  gatomicrefcount ref;
  char   *name;
  GArray *x;   /* double */
  GArray *y;
};

G_DEFINE_BOXED_TYPE (LamSeries, lam_series, lam_series_ref, lam_series_unref)

#define X(s, i) g_array_index ((s)->x, double, (i))
#define Y(s, i) g_array_index ((s)->y, double, (i))

LamSeries *
lam_series_new (const char *name)
{
  LamSeries *self = g_new0 (LamSeries, 1);

  g_atomic_ref_count_init (&self->ref);
  self->name = g_strdup (name);
  self->x = g_array_new (FALSE, FALSE, sizeof (double));
  self->y = g_array_new (FALSE, FALSE, sizeof (double));
  return self;
}

LamSeries *
lam_series_ref (LamSeries *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
lam_series_unref (LamSeries *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_ref_count_dec (&self->ref))
    return;
  g_free (self->name);
  g_array_unref (self->x);
  g_array_unref (self->y);
  g_free (self);
}

const char *
lam_series_get_name (const LamSeries *self)
{
  return self->name;
}

void
lam_series_append (LamSeries *self, double x, double y)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (isfinite (x));
  g_return_if_fail (self->x->len == 0 || x >= X (self, self->x->len - 1));

  g_array_append_val (self->x, x);
  g_array_append_val (self->y, y);
}

void
lam_series_clear (LamSeries *self)
{
  g_array_set_size (self->x, 0);
  g_array_set_size (self->y, 0);
}

guint
lam_series_get_length (const LamSeries *self)
{
  return self->x->len;
}

double
lam_series_get_x (const LamSeries *self, guint i)
{
  g_return_val_if_fail (i < self->x->len, NAN);
  return X (self, i);
}

double
lam_series_get_y (const LamSeries *self, guint i)
{
  g_return_val_if_fail (i < self->y->len, NAN);
  return Y (self, i);
}

double
lam_series_get_last_y (const LamSeries *self)
{
  return self->y->len ? Y (self, self->y->len - 1) : NAN;
}

gboolean
lam_series_get_x_range (const LamSeries *self, double *min, double *max)
{
  if (self->x->len == 0)
    return FALSE;
  *min = X (self, 0);
  *max = X (self, self->x->len - 1);
  return TRUE;
}

guint
lam_series_lower_bound (const LamSeries *self, double x)
{
  guint lo = 0, hi = self->x->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (X (self, mid) < x)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

gboolean
lam_series_get_y_range (const LamSeries *self, double x0, double x1, gboolean positive_only,
                        double *min, double *max)
{
  double a = INFINITY, b = -INFINITY;
  guint n = self->x->len;

  for (guint i = lam_series_lower_bound (self, x0); i < n && X (self, i) <= x1; i++)
    {
      double y = Y (self, i);
      if (!isfinite (y) || (positive_only && y <= 0))
        continue;
      a = MIN (a, y);
      b = MAX (b, y);
    }
  *min = a;
  *max = b;
  return a <= b;
}

gboolean
lam_series_nearest (const LamSeries *self, double x, guint *index)
{
  guint n = self->x->len, i;

  if (n == 0)
    return FALSE;
  i = lam_series_lower_bound (self, x);
  if (i == n || (i > 0 && x - X (self, i - 1) <= X (self, i) - x))
    i--;
  *index = i;
  return TRUE;
}

guint
lam_series_decimate (const LamSeries *self, double x0, double x1, guint n_buckets,
                     LamSeriesBucket *out)
{
  guint n = self->x->len, lo, hi, written = 0;
  double scale;
  gint64 current = G_MININT64;

  if (n == 0 || n_buckets == 0 || !(x1 > x0))
    return 0;
  lo = lam_series_lower_bound (self, x0);
  hi = lam_series_lower_bound (self, x1);
  while (hi < n && X (self, hi) <= x1)
    hi++;
  /* one point beyond each end, as its own bucket */
  if (lo > 0)
    lo--;
  if (hi < n)
    hi++;
  scale = n_buckets / (x1 - x0);

  for (guint i = lo; i < hi; i++)
    {
      double x = X (self, i), y = Y (self, i);
      gint64 b;
      LamSeriesBucket *k;

      if (!isfinite (y))
        continue;
      b = x < x0 ? -1 : x > x1 ? (gint64) n_buckets + 1 : MIN ((gint64) ((x - x0) * scale),
                                                                (gint64) n_buckets - 1);
      if (b != current || written == 0)
        {
          if (written == n_buckets + 2)
            break;
          k = &out[written++];
          k->x_first = k->x_last = x;
          k->y_first = k->y_last = k->y_min = k->y_max = y;
          k->count = 1;
          current = b;
          continue;
        }
      k = &out[written - 1];
      k->x_last = x;
      k->y_last = y;
      k->y_min = MIN (k->y_min, y);
      k->y_max = MAX (k->y_max, y);
      k->count++;
    }
  return written;
}
