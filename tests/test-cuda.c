/* test-cuda.c: the CUDA backend against the CPU backend, op by op
 * (normalised mean squared error, after ggml's test-backend-ops), and
 * the fallbacks that must work on every machine: no module, a broken
 * module, no driver.
 *
 * The op tests skip, saying why, where no usable GPU is present.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lam-backend.h"
#include "lam-rng.h"

static LamBackend *cpu, *gpu;
static char *gpu_why;

/* Fallbacks */

static void
test_fallback_no_module (void)
{
  g_autofree char *why = NULL;
  g_autoptr(GError) error = NULL;
  g_setenv ("LAMINA_CUDA_MODULE", "/nonexistent/liblamina-cuda.so", TRUE);
  LamBackend *be = lam_backend_new ("auto", 1, &why, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (be->name, ==, "cpu");
  g_assert_nonnull (strstr (why, "could not be loaded"));
  lam_backend_free (be);

  /* asking for CUDA by name is an error, not a silent fallback */
  g_assert_null (lam_backend_new ("cuda", 1, NULL, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_BACKEND);
  g_assert_nonnull (strstr (error->message, "CUDA backend unavailable"));
  g_unsetenv ("LAMINA_CUDA_MODULE");
}

static void
test_fallback_not_a_module (void)
{
  g_autofree char *why = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  int fd = g_file_open_tmp ("not-a-module-XXXXXX.so", &path, &error);
  g_assert_no_error (error);
  g_assert_true (write (fd, "not an ELF file", 15) == 15);
  close (fd);
  g_setenv ("LAMINA_CUDA_MODULE", path, TRUE);
  LamBackend *be = lam_backend_new ("auto", 1, &why, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (be->name, ==, "cpu");
  g_assert_nonnull (strstr (why, "could not be loaded"));
  lam_backend_free (be);
  g_unsetenv ("LAMINA_CUDA_MODULE");
  g_unlink (path);
}

/* With the module built: a machine without a GPU gets the CPU and the
 * reason; one with a GPU gets CUDA. */
static void
test_auto (void)
{
  g_autofree char *why = NULL;
  g_autoptr(GError) error = NULL;
  LamBackend *be = lam_backend_new ("auto", 1, &why, &error);
  g_assert_no_error (error);
  if (g_strcmp0 (be->name, "cuda") == 0)
    g_assert_null (why);
  else
    {
      g_assert_cmpstr (be->name, ==, "cpu");
      g_assert_nonnull (why);
      g_test_message ("auto chose the CPU: %s", why);
    }
  lam_backend_free (be);
}

/* Op checks */

static float *
randv (gsize n, guint64 seed, float lo, float hi)
{
  LamRng r;
  lam_rng_init (&r, seed, 99);
  float *p = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    p[i] = (float) (lo + (hi - lo) * lam_rng_uniform (&r));
  return p;
}

static void *
up (const void *host, gsize bytes)
{
  void *d = gpu->ops->alloc (gpu, bytes);
  g_assert_nonnull (d);
  gpu->ops->upload (gpu, d, host, bytes);
  return d;
}

static float *
down (const void *dev, gsize n)
{
  float *h = g_new (float, MAX (n, 1));
  gpu->ops->download (gpu, h, dev, n * sizeof (float));
  return h;
}

/* mse(a, b) / mse(a, 0) */
static double
nmse (const float *ref, const float *got, gsize n)
{
  double e = 0, z = 0;
  for (gsize i = 0; i < n; i++)
    {
      e += ((double) ref[i] - got[i]) * ((double) ref[i] - got[i]);
      z += (double) ref[i] * ref[i];
    }
  return z > 0 ? e / z : e;
}

#define EXPECT_CLOSE(what, ref, dev, n, tol) \
  G_STMT_START { \
    g_autofree float *got_ = down ((dev), (n)); \
    double e_ = nmse ((ref), got_, (n)); \
    g_test_message ("%s: nmse %.3g", (what), e_); \
    g_assert_cmpfloat (e_, <, (tol)); \
  } G_STMT_END

static gboolean
need_gpu (void)
{
  if (gpu == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("no usable CUDA device: %s", gpu_why ? gpu_why : "unknown");
      g_test_skip (msg);
      return FALSE;
    }
  return TRUE;
}

static void
test_dense (void)
{
  if (!need_gpu ())
    return;
  int B = 33, in = 70, out = 19;
  g_autofree float *x = randv ((gsize) B * in, 1, -1, 1), *w = randv ((gsize) in * out, 2, -1, 1);
  g_autofree float *b = randv (out, 3, -1, 1), *dy = randv ((gsize) B * out, 4, -1, 1);
  g_autofree float *y = g_new (float, B * out), *dx = g_new (float, B * in);
  g_autofree float *dw = g_new (float, in * out), *db = g_new (float, out);
  for (int relu = 0; relu < 2; relu++)
    {
      cpu->ops->dense_forward (cpu, y, x, w, b, B, in, out, relu);
      cpu->ops->dense_backward (cpu, dx, dw, db, dy, x, w, B, in, out, relu ? y : NULL);
      float *dX = up (x, B * in * 4), *dW = up (w, in * out * 4), *dB = up (b, out * 4), *dDY = up (dy, B * out * 4);
      float *dY = gpu->ops->alloc (gpu, B * out * 4), *dDX = gpu->ops->alloc (gpu, B * in * 4);
      float *dDW = gpu->ops->alloc (gpu, in * out * 4), *dDB = gpu->ops->alloc (gpu, out * 4);
      gpu->ops->dense_forward (gpu, dY, dX, dW, dB, B, in, out, relu);
      gpu->ops->dense_backward (gpu, dDX, dDW, dDB, dDY, dX, dW, B, in, out, relu ? dY : NULL);
      EXPECT_CLOSE ("dense y", y, dY, B * out, 1e-10);
      EXPECT_CLOSE ("dense dx", dx, dDX, B * in, 1e-10);
      EXPECT_CLOSE ("dense dw", dw, dDW, in * out, 1e-10);
      EXPECT_CLOSE ("dense db", db, dDB, out, 1e-10);
      for (float *p[] = { dX, dW, dB, dDY, dY, dDX, dDW, dDB }, **q = p; q < p + 8; q++)
        gpu->ops->free (gpu, *q);
    }
}

static void
test_conv (void)
{
  if (!need_gpu ())
    return;
  static const LamConvShape shapes[] = {
    { 5, 3, 9, 8, 4, 9, 8, 3, 1, 1 },
    { 4, 2, 11, 11, 5, 5, 5, 3, 2, 0 },
    { 3, 6, 7, 7, 3, 7, 7, 1, 1, 0 },
    { 2, 1, 28, 28, 6, 28, 28, 5, 1, 2 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      const LamConvShape *s = &shapes[k];
      gsize nx = (gsize) s->B * s->C * s->H * s->W, ny = (gsize) s->B * s->OC * s->OH * s->OW;
      gsize nw = (gsize) s->OC * s->C * s->K * s->K;
      g_autofree float *x = randv (nx, 10 + k, -1, 1), *w = randv (nw, 20 + k, -1, 1);
      g_autofree float *b = randv (s->OC, 30 + k, -1, 1), *dy = randv (ny, 40 + k, -1, 1);
      g_autofree float *y = g_new (float, ny), *dx = g_new (float, nx), *dw = g_new (float, nw);
      g_autofree float *db = g_new (float, s->OC);
      cpu->ops->conv2d_forward (cpu, s, y, x, w, b, TRUE);
      cpu->ops->conv2d_backward (cpu, s, dx, dw, db, dy, x, w, y);
      float *dX = up (x, nx * 4), *dW = up (w, nw * 4), *dB = up (b, s->OC * 4), *dDY = up (dy, ny * 4);
      float *dY = gpu->ops->alloc (gpu, ny * 4), *dDX = gpu->ops->alloc (gpu, nx * 4);
      float *dDW = gpu->ops->alloc (gpu, nw * 4), *dDB = gpu->ops->alloc (gpu, s->OC * 4);
      gpu->ops->conv2d_forward (gpu, s, dY, dX, dW, dB, TRUE);
      gpu->ops->conv2d_backward (gpu, s, dDX, dDW, dDB, dDY, dX, dW, dY);
      EXPECT_CLOSE ("conv y", y, dY, ny, 1e-10);
      EXPECT_CLOSE ("conv dx", dx, dDX, nx, 1e-10);
      EXPECT_CLOSE ("conv dw", dw, dDW, nw, 1e-10);
      EXPECT_CLOSE ("conv db", db, dDB, s->OC, 1e-10);
      for (float *p[] = { dX, dW, dB, dDY, dY, dDX, dDW, dDB }, **q = p; q < p + 8; q++)
        gpu->ops->free (gpu, *q);
    }
}

static void
test_pools (void)
{
  if (!need_gpu ())
    return;
  static const LamConvShape shapes[] = {
    { 3, 4, 8, 8, 4, 4, 4, 2, 2, 0 },
    { 2, 3, 7, 9, 3, 4, 5, 3, 2, 1 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      const LamConvShape *s = &shapes[k];
      gsize nx = (gsize) s->B * s->C * s->H * s->W, ny = (gsize) s->B * s->C * s->OH * s->OW;
      g_autofree float *x = randv (nx, 50 + k, -1, 1), *dy = randv (ny, 60 + k, -1, 1);
      g_autofree float *y = g_new (float, ny), *dx = g_new (float, nx);
      g_autofree gint32 *am = g_new (gint32, ny);
      float *dX = up (x, nx * 4), *dDY = up (dy, ny * 4);
      float *dY = gpu->ops->alloc (gpu, ny * 4), *dDX = gpu->ops->alloc (gpu, nx * 4);
      gint32 *dAM = gpu->ops->alloc (gpu, ny * 4);

      cpu->ops->maxpool_forward (cpu, s, y, am, x);
      cpu->ops->maxpool_backward (cpu, s, dx, dy, am);
      gpu->ops->maxpool_forward (gpu, s, dY, dAM, dX);
      gpu->ops->maxpool_backward (gpu, s, dDX, dDY, dAM);
      EXPECT_CLOSE ("maxpool y", y, dY, ny, 1e-12);
      EXPECT_CLOSE ("maxpool dx", dx, dDX, nx, 1e-12);

      cpu->ops->avgpool_forward (cpu, s, y, x);
      cpu->ops->avgpool_backward (cpu, s, dx, dy);
      gpu->ops->avgpool_forward (gpu, s, dY, dX);
      gpu->ops->avgpool_backward (gpu, s, dDX, dDY);
      EXPECT_CLOSE ("avgpool y", y, dY, ny, 1e-10);
      EXPECT_CLOSE ("avgpool dx", dx, dDX, nx, 1e-10);
      for (float *p[] = { dX, dDY, dY, dDX, (float *) dAM }, **q = p; q < p + 5; q++)
        gpu->ops->free (gpu, *q);
    }
}

static void
test_elementwise (void)
{
  if (!need_gpu ())
    return;
  gsize n = 10007;
  g_autofree float *x = randv (n, 70, -3, 3), *dy = randv (n, 71, -1, 1);
  g_autofree float *y = g_new (float, n), *dx = g_new (float, n), *mask = g_new (float, n);
  float *dX = up (x, n * 4), *dDY = up (dy, n * 4);
  float *dY = gpu->ops->alloc (gpu, n * 4), *dDX = gpu->ops->alloc (gpu, n * 4), *dM = gpu->ops->alloc (gpu, n * 4);
  for (int k = LAM_ACT_RELU; k <= LAM_ACT_GELU; k++)
    {
      cpu->ops->act_forward (cpu, k, 0.1f, y, x, n);
      cpu->ops->act_backward (cpu, k, 0.1f, dx, dy, x, y, n);
      gpu->ops->act_forward (gpu, k, 0.1f, dY, dX, n);
      gpu->ops->act_backward (gpu, k, 0.1f, dDX, dDY, dX, dY, n);
      EXPECT_CLOSE ("act y", y, dY, n, 1e-10);
      EXPECT_CLOSE ("act dx", dx, dDX, n, 1e-10);
    }
  /* the same hash: the same dropout masks */
  cpu->ops->dropout_forward (cpu, y, mask, x, n, 0.3f, 1234);
  gpu->ops->dropout_forward (gpu, dY, dM, dX, n, 0.3f, 1234);
  EXPECT_CLOSE ("dropout mask", mask, dM, n, 1e-14);
  EXPECT_CLOSE ("dropout y", y, dY, n, 1e-14);
  cpu->ops->softmax_forward (cpu, y, x, 1000, 10);
  gpu->ops->softmax_forward (gpu, dY, dX, 1000, 10);
  EXPECT_CLOSE ("softmax y", y, dY, 10000, 1e-10);
  cpu->ops->softmax_backward (cpu, dx, dy, y, 1000, 10);
  gpu->ops->softmax_backward (gpu, dDX, dDY, dY, 1000, 10);
  EXPECT_CLOSE ("softmax dx", dx, dDX, 10000, 1e-10);
  for (float *p[] = { dX, dDY, dY, dDX, dM }, **q = p; q < p + 5; q++)
    gpu->ops->free (gpu, *q);
}

static void
test_batchnorm_and_losses (void)
{
  if (!need_gpu ())
    return;
  int B = 16, C = 5, HW = 49;
  gsize n = (gsize) B * C * HW;
  g_autofree float *x = randv (n, 80, -2, 3), *dy = randv (n, 81, -1, 1);
  g_autofree float *g = randv (C, 82, 0.5, 1.5), *bt = randv (C, 83, -1, 1);
  g_autofree float *rm = g_new0 (float, C), *rv = g_new (float, C), *sm = g_new (float, C), *si = g_new (float, C);
  g_autofree float *y = g_new (float, n), *dx = g_new (float, n), *dg = g_new (float, C), *dbt = g_new (float, C);
  for (int i = 0; i < C; i++)
    rv[i] = 1;
  float *dX = up (x, n * 4), *dDY = up (dy, n * 4), *dG = up (g, C * 4), *dBT = up (bt, C * 4);
  float *dRM = up (rm, C * 4), *dRV = up (rv, C * 4);
  float *dSM = gpu->ops->alloc (gpu, C * 4), *dSI = gpu->ops->alloc (gpu, C * 4);
  float *dY = gpu->ops->alloc (gpu, n * 4), *dDX = gpu->ops->alloc (gpu, n * 4);
  float *dDG = gpu->ops->alloc (gpu, C * 4), *dDBT = gpu->ops->alloc (gpu, C * 4);
  cpu->ops->batchnorm_forward (cpu, y, x, g, bt, rm, rv, sm, si, B, C, HW, 1e-5f, 0.1f, TRUE);
  cpu->ops->batchnorm_backward (cpu, dx, dg, dbt, dy, x, g, sm, si, B, C, HW);
  gpu->ops->batchnorm_forward (gpu, dY, dX, dG, dBT, dRM, dRV, dSM, dSI, B, C, HW, 1e-5f, 0.1f, TRUE);
  gpu->ops->batchnorm_backward (gpu, dDX, dDG, dDBT, dDY, dX, dG, dSM, dSI, B, C, HW);
  EXPECT_CLOSE ("bn y", y, dY, n, 1e-10);
  EXPECT_CLOSE ("bn running var", rv, dRV, C, 1e-10);
  EXPECT_CLOSE ("bn dx", dx, dDX, n, 1e-9);
  EXPECT_CLOSE ("bn dgamma", dg, dDG, C, 1e-9);
  EXPECT_CLOSE ("bn dbeta", dbt, dDBT, C, 1e-10);

  /* losses: gradients and the accumulated (loss, correct) */
  int R = 300, K = 10;
  g_autofree float *z = randv ((gsize) R * K, 84, -3, 3), *dz = g_new (float, R * K);
  g_autofree gint32 *lab = g_new (gint32, R);
  for (int i = 0; i < R; i++)
    lab[i] = (i * 7) % K;
  float st[2] = { 0, 0 };
  float *dZ = up (z, R * K * 4), *dDZ = gpu->ops->alloc (gpu, R * K * 4), *dST = gpu->ops->alloc (gpu, 8);
  gint32 *dLAB = up (lab, R * 4);
  cpu->ops->xent_loss (cpu, dz, st, z, lab, R, K, 1.0f);
  gpu->ops->xent_loss (gpu, dDZ, dST, dZ, dLAB, R, K, 1.0f);
  EXPECT_CLOSE ("xent dz", dz, dDZ, R * K, 1e-10);
  EXPECT_CLOSE ("xent stats", st, dST, 2, 1e-10);
  for (float *p[] = { dX, dDY, dG, dBT, dRM, dRV, dSM, dSI, dY, dDX, dDG, dDBT, dZ, dDZ, dST, (float *) dLAB },
       **q = p; q < p + 16; q++)
    gpu->ops->free (gpu, *q);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cpu = lam_backend_new_cpu (2);
  gpu = lam_backend_new ("cuda", 1, NULL, NULL);
  if (gpu == NULL)
    {
      g_autoptr(GError) error = NULL;
      LamBackend *be = lam_backend_new ("auto", 1, &gpu_why, &error);
      lam_backend_free (be);
    }
  g_test_add_func ("/backend/fallback/no-module", test_fallback_no_module);
  g_test_add_func ("/backend/fallback/not-a-module", test_fallback_not_a_module);
  g_test_add_func ("/backend/auto", test_auto);
  g_test_add_func ("/backend/cuda/dense", test_dense);
  g_test_add_func ("/backend/cuda/conv2d", test_conv);
  g_test_add_func ("/backend/cuda/pools", test_pools);
  g_test_add_func ("/backend/cuda/elementwise", test_elementwise);
  g_test_add_func ("/backend/cuda/batchnorm-losses", test_batchnorm_and_losses);
  int ret = g_test_run ();
  lam_backend_free (gpu);
  lam_backend_free (cpu);
  g_free (gpu_why);
  return ret;
}
