/* test-cpu-kernels: the CPU backend's AVX-512 kernels against its
 * OpenBLAS paths, op by op.
 *
 * Convolution: the direct kernels against im2col + GEMM at LeNet-5's
 * shapes and at shapes that exercise every block shape and edge:
 * forward (with and without bias and the fused ReLU), weight, bias and
 * input gradients. Dense: the AVX-512 GEMM against OpenBLAS at the
 * presets' shapes and ragged ones (panel and row-block edges).
 * Skips where the CPU lacks AVX-512 (only the OpenBLAS paths exist there).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lam-backend.h"

typedef struct {
  const char *what;
  int B, C, H, W, OC, K, pad;
  gboolean need_dx;
} Case;

static const Case cases[] = {
  { "LeNet-5 conv1 (pixel lanes)",          7, 1, 28, 28,  6, 5, 2, FALSE },
  { "LeNet-5 conv2 (filter lanes)",         5, 6, 14, 14, 16, 5, 0, TRUE },
  { "VGG-like 3x3 same (filter lanes)",     3, 5, 12, 13, 32, 3, 1, TRUE },
  { "odd sizes, 4 filters, 3x3 pad 1",      3, 2, 17, 21,  4, 3, 1, FALSE },
  { "7 filters (two blocks), 5x5 no pad",   2, 3, 20, 19,  7, 5, 0, FALSE },
  { "16 filters 1x1",                       3, 9,  5,  7, 16, 1, 0, TRUE },
  { "48 filters 2x2 pad 1, narrow",         2, 4,  5,  4, 48, 2, 1, TRUE },
  { "16 filters 4x4 pad 3",                 2, 3,  9,  8, 16, 4, 3, TRUE },
};

static float *
rnd (gsize n, guint32 *seed)
{
  float *p = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    {
      *seed = *seed * 1664525u + 1013904223u;
      p[i] = (float) ((*seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
  return p;
}

/* n floats that end where an inaccessible page begins: a kernel that
 * touches even one float past them crashes the test. (The direct
 * kernels' masked AVX-512 stores are invisible to GCC's
 * AddressSanitizer; one such store, adding zeros past the input
 * gradient, went unseen until clang's found it.) */
typedef struct {
  void  *map;
  gsize  len;
} Guarded;

static float *
guarded_new (gsize n, Guarded *g)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  gsize bytes = n * sizeof (float);
  gsize data_pages = (bytes + page - 1) / page;

  g->len = (data_pages + 1) * page;
  g->map = mmap (NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert_true (g->map != MAP_FAILED);
  g_assert_cmpint (mprotect ((char *) g->map + data_pages * page, page, PROT_NONE), ==, 0);
  return (float *) ((char *) g->map + data_pages * page - bytes);
}

static void
guarded_free (Guarded *g)
{
  if (g->map != NULL)
    munmap (g->map, g->len);
  g->map = NULL;
}

/* max |a - b| / max |b| */
static double
rel_err (const float *a, const float *b, gsize n)
{
  double num = 0, den = 1e-30;
  for (gsize i = 0; i < n; i++)
    {
      num = MAX (num, fabs ((double) a[i] - b[i]));
      den = MAX (den, fabs ((double) b[i]));
    }
  return num / den;
}

static LamBackend *
backend (gboolean direct)
{
  if (!direct)
    {
      g_setenv ("LAMINA_CONV", "im2col", TRUE);
      g_setenv ("LAMINA_GEMM", "openblas", TRUE);
    }
  LamBackend *be = lam_backend_new_cpu (2);
  g_unsetenv ("LAMINA_CONV");
  g_unsetenv ("LAMINA_GEMM");
  return be;
}

static void
test_direct_vs_im2col (gconstpointer data)
{
  const Case *c = data;
  LamBackend *dir = backend (TRUE), *ref = backend (FALSE);

  if (strstr (dir->description, "AVX-512") == NULL)
    {
      g_test_skip ("this CPU has no AVX-512: only the im2col path exists");
      lam_backend_free (dir);
      lam_backend_free (ref);
      return;
    }
  g_assert_null (strstr (ref->description, "AVX-512"));

  int OH = c->H + 2 * c->pad - c->K + 1, OW = c->W + 2 * c->pad - c->K + 1;
  LamConvShape s = { c->B, c->C, c->H, c->W, c->OC, OH, OW, c->K, 1, c->pad };
  gsize nx = (gsize) c->B * c->C * c->H * c->W, ny = (gsize) c->B * c->OC * OH * OW;
  gsize nw = (gsize) c->OC * c->C * c->K * c->K;
  guint32 seed = 7;
  float *x = rnd (nx, &seed), *w = rnd (nw, &seed), *b = rnd (c->OC, &seed), *dy = rnd (ny, &seed);

  for (int variant = 0; variant < 3; variant++)
    {
      gboolean relu = variant != 1;
      const float *bias = variant == 2 ? NULL : b;
      float *y1 = g_new (float, ny), *y2 = g_new (float, ny);
      dir->ops->conv2d_forward (dir, &s, y1, x, w, bias, relu);
      ref->ops->conv2d_forward (ref, &s, y2, x, w, bias, relu);
      double e = rel_err (y1, y2, ny);
      g_test_message ("%s, forward relu=%d bias=%d: rel err %.2e", c->what, relu, bias != NULL, e);
      g_assert_cmpfloat (e, <, 2e-6);
      if (relu)
        {
          gsize zeros = 0;
          for (gsize i = 0; i < ny; i++)
            zeros += y1[i] == 0.0f;
          g_assert_cmpuint (zeros, >, ny / 8);    /* the ReLU cut something */
        }

      for (int with_dx = 0; with_dx < 2; with_dx++)
        {
          if (with_dx && !c->need_dx)
            continue;
          float *dw1 = g_new (float, nw), *dw2 = g_new (float, nw);
          float *db1 = g_new (float, c->OC), *db2 = g_new (float, c->OC);
          Guarded guard = { 0 };
          float *dx1 = with_dx ? guarded_new (nx, &guard) : NULL, *dx2 = with_dx ? g_new (float, nx) : NULL;
          const float *ry = relu ? y2 : NULL;
          dir->ops->conv2d_backward (dir, &s, dx1, dw1, db1, dy, x, w, ry);
          ref->ops->conv2d_backward (ref, &s, dx2, dw2, db2, dy, x, w, ry);
          double ew = rel_err (dw1, dw2, nw), eb = rel_err (db1, db2, c->OC);
          double ex = with_dx ? rel_err (dx1, dx2, nx) : 0;
          g_test_message ("%s, backward relu=%d dx=%d: dw %.2e db %.2e dx %.2e", c->what, relu,
                          with_dx, ew, eb, ex);
          g_assert_cmpfloat (ew, <, 2e-6);
          g_assert_cmpfloat (eb, <, 2e-6);
          g_assert_cmpfloat (ex, <, 2e-6);
          g_free (dw1); g_free (dw2); g_free (db1); g_free (db2); guarded_free (&guard); g_free (dx2);
        }
      g_free (y1);
      g_free (y2);
    }

  /* the same call twice: bit for bit */
  float *a1 = g_new (float, nw), *a2 = g_new (float, nw), *bb = g_new (float, c->OC);
  dir->ops->conv2d_backward (dir, &s, NULL, a1, bb, dy, x, w, NULL);
  dir->ops->conv2d_backward (dir, &s, NULL, a2, bb, dy, x, w, NULL);
  g_assert_cmpmem (a1, nw * sizeof (float), a2, nw * sizeof (float));

  g_free (a1); g_free (a2); g_free (bb);
  g_free (x); g_free (w); g_free (b); g_free (dy);
  lam_backend_free (dir);
  lam_backend_free (ref);
}

typedef struct {
  int B, in, out;
} DenseCase;

static const DenseCase dense_cases[] = {
  { 64, 784, 256 }, { 256, 256, 128 }, { 256, 128, 10 },   /* the MLP preset */
  { 64, 400, 120 }, { 64, 120, 84 }, { 64, 84, 10 },       /* LeNet-5's head */
  { 7, 33, 65 }, { 1, 1, 1 }, { 13, 130, 3 }, { 5, 17, 129 },
};

static void
test_dense (gconstpointer data)
{
  const DenseCase *c = data;
  LamBackend *dir = backend (TRUE), *ref = backend (FALSE);
  if (strstr (dir->description, "AVX-512 dense") == NULL)
    {
      g_test_skip ("this CPU has no AVX-512: only the OpenBLAS path exists");
      lam_backend_free (dir);
      lam_backend_free (ref);
      return;
    }
  g_assert_null (strstr (ref->description, "AVX-512"));
  gsize nx = (gsize) c->B * c->in, ny = (gsize) c->B * c->out, nw = (gsize) c->in * c->out;
  guint32 seed = 11;
  float *x = rnd (nx, &seed), *w = rnd (nw, &seed), *b = rnd (c->out, &seed), *dy = rnd (ny, &seed);
  float *y1 = g_new (float, ny), *y2 = g_new (float, ny);
  float *dx1 = g_new (float, nx), *dx2 = g_new (float, nx), *dw1 = g_new (float, nw), *dw2 = g_new (float, nw);
  float *db1 = g_new (float, c->out), *db2 = g_new (float, c->out);

  for (int variant = 0; variant < 3; variant++)
    {
      gboolean relu = variant != 1;
      const float *bias = variant == 2 ? NULL : b;
      dir->ops->dense_forward (dir, y1, x, w, bias, c->B, c->in, c->out, relu);
      ref->ops->dense_forward (ref, y2, x, w, bias, c->B, c->in, c->out, relu);
      double e = rel_err (y1, y2, ny);
      g_test_message ("dense %d x %d -> %d relu=%d bias=%d: forward %.2e", c->B, c->in, c->out,
                      relu, bias != NULL, e);
      g_assert_cmpfloat (e, <, 2e-6);

      const float *ry = relu ? y2 : NULL;
      dir->ops->dense_backward (dir, variant == 2 ? NULL : dx1, dw1, db1, dy, x, w, c->B, c->in, c->out, ry);
      ref->ops->dense_backward (ref, variant == 2 ? NULL : dx2, dw2, db2, dy, x, w, c->B, c->in, c->out, ry);
      double ew = rel_err (dw1, dw2, nw), eb = rel_err (db1, db2, c->out);
      double ex = variant == 2 ? 0 : rel_err (dx1, dx2, nx);
      g_test_message ("  backward: dw %.2e db %.2e dx %.2e", ew, eb, ex);
      g_assert_cmpfloat (ew, <, 2e-6);
      g_assert_cmpfloat (eb, <, 2e-6);
      g_assert_cmpfloat (ex, <, 2e-6);
    }
  g_free (x); g_free (w); g_free (b); g_free (dy); g_free (y1); g_free (y2);
  g_free (dx1); g_free (dx2); g_free (dw1); g_free (dw2); g_free (db1); g_free (db2);
  lam_backend_free (dir);
  lam_backend_free (ref);
}

/* 2×2 stride-2 max pool: values and argmax equal to the scalar path's,
 * with ties (the first in row-major order wins), NaNs, odd widths and
 * rows longer than a vector. */
static void
test_maxpool (void)
{
  LamBackend *dir = backend (TRUE), *ref = backend (FALSE);
  if (strstr (dir->description, "AVX-512") == NULL)
    {
      g_test_skip ("this CPU has no AVX-512");
      lam_backend_free (dir);
      lam_backend_free (ref);
      return;
    }
  static const int sizes[][3] = { { 28, 28, 6 }, { 10, 10, 16 }, { 7, 9, 3 }, { 4, 70, 2 }, { 2, 2, 1 } };
  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      int H = sizes[k][0], W = sizes[k][1], C = sizes[k][2], B = 3;
      LamConvShape s = { B, C, H, W, C, H / 2, W / 2, 2, 2, 0 };
      gsize nx = (gsize) B * C * H * W, ny = (gsize) B * C * s.OH * s.OW;
      guint32 seed = 5 + k;
      float *x = rnd (nx, &seed);
      for (gsize i = 0; i < nx; i++)
        {
          if (i % 7 == 0)
            x[i] = 0.25f;              /* ties */
          if (i % 97 == 3)
            x[i] = NAN;
        }
      float *y1 = g_new (float, ny), *y2 = g_new (float, ny);
      gint32 *a1 = g_new (gint32, ny), *a2 = g_new (gint32, ny);
      dir->ops->maxpool_forward (dir, &s, y1, a1, x);
      ref->ops->maxpool_forward (ref, &s, y2, a2, x);
      g_assert_cmpmem (a1, ny * sizeof (gint32), a2, ny * sizeof (gint32));
      g_assert_cmpmem (y1, ny * sizeof (float), y2, ny * sizeof (float));
      g_free (x); g_free (y1); g_free (y2); g_free (a1); g_free (a2);
    }
  lam_backend_free (dir);
  lam_backend_free (ref);
}

/* The backend's general GEMM op (sequence layers): every transpose
 * combination, beta 0 and 1, column and row splits, leading dimensions
 * wider than the matrices. */
static void
test_gemm (void)
{
  LamBackend *dir = backend (TRUE), *ref = backend (FALSE);
  if (strstr (dir->description, "AVX-512 dense") == NULL)
    {
      g_test_skip ("this CPU has no AVX-512");
      lam_backend_free (dir);
      lam_backend_free (ref);
      return;
    }
  static const int shapes[][3] = { { 1792, 512, 28 }, { 64, 512, 128 }, { 28, 28, 16 }, { 5, 300, 7 },
                                   { 300, 5, 9 }, { 1, 1, 1 }, { 130, 70, 65 } };
  guint32 seed = 3;
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        for (int beta = 0; beta < 2; beta++)
          {
            int M = shapes[k][0], N = shapes[k][1], K = shapes[k][2];
            int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
            gsize na = (gsize) (ta ? K : M) * lda, nb = (gsize) (tb ? N : K) * ldb, nc = (gsize) M * ldc;
            float *A = rnd (na, &seed), *B = rnd (nb, &seed), *C1 = rnd (nc, &seed);
            float *C2 = g_memdup2 (C1, nc * sizeof (float));
            dir->ops->gemm (dir, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C1, ldc);
            ref->ops->gemm (ref, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C2, ldc);
            double e = rel_err (C1, C2, nc);   /* the padding columns too: untouched */
            if (e >= 2e-6)
              g_error ("gemm %dx%dx%d ta=%d tb=%d beta=%d: rel err %.2e", M, N, K, ta, tb, beta, e);
            g_free (A); g_free (B); g_free (C1); g_free (C2);
          }
  lam_backend_free (dir);
  lam_backend_free (ref);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gemm/avx512", test_gemm);
  g_test_add_func ("/pool/max2x2", test_maxpool);
  for (guint i = 0; i < G_N_ELEMENTS (dense_cases); i++)
    {
      char *path = g_strdup_printf ("/dense/avx512/%u", i);
      g_test_add_data_func (path, &dense_cases[i], test_dense);
      g_free (path);
    }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = g_strdup_printf ("/conv/direct/%u", i);
      g_test_add_data_func (path, &cases[i], test_direct_vs_im2col);
      g_free (path);
    }
  return g_test_run ();
}
