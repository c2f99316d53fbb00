/* lam-bench-ops: times single CPU backend ops at the shapes of the
 * presets, to find where a training step spends its time.
 *
 *   build/bench/lam-bench-ops [threads]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>

#include "lam-backend.h"

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static float *
rnd (gsize n)
{
  float *p = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    p[i] = (float) ((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  return p;
}

#define TIME(label, flops, reps, stmt) \
  G_STMT_START { \
    double best = 1e9; \
    for (int r_ = 0; r_ < 5; r_++) { \
      double t_ = now (); \
      for (int i_ = 0; i_ < (reps); i_++) { stmt; } \
      t_ = (now () - t_) / (reps); \
      if (t_ < best) best = t_; \
    } \
    printf ("%-34s %9.1f us %8.1f GFLOP/s\n", label, best * 1e6, (flops) / best / 1e9); \
  } G_STMT_END

static void
conv_case (LamBackend *be, const char *name, int B, int C, int H, int OC, int K, int pad)
{
  int OH = H + 2 * pad - K + 1;
  LamConvShape s = { B, C, H, H, OC, OH, OH, K, 1, pad };
  gsize nx = (gsize) B * C * H * H, ny = (gsize) B * OC * OH * OH, nw = (gsize) OC * C * K * K;
  float *x = rnd (nx), *y = rnd (ny), *w = rnd (nw), *b = rnd (OC), *dx = rnd (nx), *dw = rnd (nw), *db = rnd (OC);
  double fl = 2.0 * ny * C * K * K;
  char label[128];
  g_snprintf (label, sizeof label, "%s fwd", name);
  TIME (label, fl, 20, be->ops->conv2d_forward (be, &s, y, x, w, b, TRUE));
  g_snprintf (label, sizeof label, "%s bwd (dx)", name);
  TIME (label, 2 * fl, 20, be->ops->conv2d_backward (be, &s, dx, dw, db, y, x, w, y));
  g_snprintf (label, sizeof label, "%s bwd (no dx)", name);
  TIME (label, fl, 20, be->ops->conv2d_backward (be, &s, NULL, dw, db, y, x, w, y));
  g_free (x); g_free (y); g_free (w); g_free (b); g_free (dx); g_free (dw); g_free (db);
}

int
main (int argc, char **argv)
{
  int threads = argc > 1 ? atoi (argv[1]) : 0;
  LamBackend *be = lam_backend_new_cpu (threads);
  printf ("%s\n", be->description);

  conv_case (be, "lenet conv1 B64", 64, 1, 28, 6, 5, 2);
  conv_case (be, "lenet conv2 B64", 64, 6, 14, 16, 5, 0);
  conv_case (be, "vgg conv2 B64", 64, 16, 28, 16, 3, 1);

  {
    int B = 64, C = 16, H = 28;
    LamConvShape s = { B, C, H, H, C, H / 2, H / 2, 2, 2, 0 };
    gsize nx = (gsize) B * C * H * H, ny = nx / 4;
    float *x = rnd (nx), *y = rnd (ny), *dx = rnd (nx);
    gint32 *am = g_new0 (gint32, ny);
    TIME ("maxpool 2x2 B64x16x28x28 fwd", 0, 50, be->ops->maxpool_forward (be, &s, y, am, x));
    TIME ("maxpool 2x2 bwd", 0, 50, be->ops->maxpool_backward (be, &s, dx, y, am));
    float *g = rnd (C), *bt = rnd (C), *rm = rnd (C), *rv = g_new (float, C), *sm = rnd (C), *si = rnd (C);
    for (int i = 0; i < C; i++) rv[i] = 1;
    TIME ("batchnorm B64x16x784 fwd", 0, 50,
          be->ops->batchnorm_forward (be, dx, x, g, bt, rm, rv, sm, si, B, C, H * H, 1e-5f, 0.1f, TRUE));
    float *bdx = rnd (nx);
    TIME ("batchnorm bwd", 0, 50,
          be->ops->batchnorm_backward (be, bdx, g, bt, dx, x, g, sm, si, B, C, H * H));
    g_free (bdx);
    TIME ("relu fwd 800k", 0, 50, be->ops->act_forward (be, LAM_ACT_RELU, 0, dx, x, nx));
    float *dy = rnd (nx), *yy = rnd (nx);
    TIME ("relu bwd 800k", 0, 50, be->ops->act_backward (be, LAM_ACT_RELU, 0, dx, dy, x, yy, nx));
    float *g2 = rnd (C), *b2 = rnd (C);
    TIME ("batchnorm bwd (no alias)", 0, 50,
          be->ops->batchnorm_backward (be, yy, g2, b2, dy, x, g, sm, si, B, C, H * H));
  }
  {
    /* the MLP's first layer at batch 64 and 256, an LSTM's recurrent step
     * (128 units, 4 gates, batch 256), LeNet-5's first dense layer */
    static const int shapes[][3] = { { 64, 784, 256 }, { 256, 784, 256 }, { 256, 128, 512 }, { 64, 400, 120 } };
    for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
      {
        int B = shapes[k][0], in = shapes[k][1], out = shapes[k][2];
        float *x = rnd ((gsize) B * in), *w = rnd ((gsize) in * out), *b = rnd (out), *y = rnd ((gsize) B * out);
        float *dx = rnd ((gsize) B * in), *dw = rnd ((gsize) in * out), *db = rnd (out);
        double fl = 2.0 * B * in * out;
        char label[128];
        g_snprintf (label, sizeof label, "dense %d->%d B%d fwd", in, out, B);
        TIME (label, fl, 100, be->ops->dense_forward (be, y, x, w, b, B, in, out, TRUE));
        g_snprintf (label, sizeof label, "dense %d->%d B%d bwd", in, out, B);
        TIME (label, 2 * fl, 100, be->ops->dense_backward (be, dx, dw, db, y, x, w, B, in, out, y));
        g_free (x); g_free (w); g_free (b); g_free (y); g_free (dx); g_free (dw); g_free (db);
      }
  }
  lam_backend_free (be);
  return 0;
}
