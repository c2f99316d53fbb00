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
#include <gmodule.h>

#include "lam-backend.h"
#include "lam-model-file.h"
#include "lam-net.h"
#include "lam-rng.h"
#include "lam-trainer.h"

static LamBackend *cpu, *gpu;
static char *gpu_why;
static char *module_env;   /* LAMINA_CUDA_MODULE as the test started (the emulator's) */

/* The fallback tests point LAMINA_CUDA_MODULE elsewhere, then back. */
static void
restore_module_env (void)
{
  if (module_env)
    g_setenv ("LAMINA_CUDA_MODULE", module_env, TRUE);
  else
    g_unsetenv ("LAMINA_CUDA_MODULE");
}

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
  restore_module_env ();
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
  restore_module_env ();
  g_unlink (path);
}

/* A module built against another version of lam-backend.h (its table
 * of ops has another size) is refused before any of its code runs. */
static void
test_fallback_other_version (void)
{
  g_autofree char *why = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "liblamina-cuda-other-version.so", NULL);
  g_setenv ("LAMINA_CUDA_MODULE", path, TRUE);
  LamBackend *be = lam_backend_new ("auto", 1, &why, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (be->name, ==, "cpu");
  g_autofree char *want = g_strdup_printf ("%s was built for another version of Lamina (its table of "
                                           "operations differs from this engine's): rebuild it", path);
  g_assert_cmpstr (why, ==, want);
  lam_backend_free (be);

  g_assert_null (lam_backend_new ("cuda", 1, NULL, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_BACKEND);
  g_assert_nonnull (strstr (error->message, "built for another version of Lamina"));
  restore_module_env ();
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
      /* the module built with this engine: never refused as stale */
      g_assert_null (strstr (why, "another version"));
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
  /* one chunk of rows for the bias gradient; then three, the last
   * short, over three blocks of 32 columns, the last short */
  static const int shapes[][3] = { { 33, 70, 19 }, { 150, 40, 70 } };   /* B, in, out */
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    for (int relu = 0; relu < 2; relu++)
      for (int bias = 0; bias < 2; bias++)
        {
          int B = shapes[k][0], in = shapes[k][1], out = shapes[k][2];
          g_autofree float *x = randv ((gsize) B * in, 1, -1, 1), *w = randv ((gsize) in * out, 2, -1, 1);
          g_autofree float *b = randv (out, 3, -1, 1), *dy = randv ((gsize) B * out, 4, -1, 1);
          g_autofree float *y = g_new (float, B * out), *dx = g_new (float, B * in);
          g_autofree float *dw = g_new (float, in * out), *db = g_new (float, out);
          cpu->ops->dense_forward (cpu, y, x, w, bias ? b : NULL, B, in, out, relu);
          cpu->ops->dense_backward (cpu, dx, dw, bias ? db : NULL, dy, x, w, B, in, out, relu ? y : NULL);
          float *dX = up (x, B * in * 4), *dW = up (w, in * out * 4), *dB = up (b, out * 4), *dDY = up (dy, B * out * 4);
          float *dY = gpu->ops->alloc (gpu, B * out * 4), *dDX = gpu->ops->alloc (gpu, B * in * 4);
          float *dDW = gpu->ops->alloc (gpu, in * out * 4), *dDB = gpu->ops->alloc (gpu, out * 4);
          gpu->ops->dense_forward (gpu, dY, dX, dW, bias ? dB : NULL, B, in, out, relu);
          gpu->ops->dense_backward (gpu, dDX, dDW, bias ? dDB : NULL, dDY, dX, dW, B, in, out, relu ? dY : NULL);
          EXPECT_CLOSE ("dense y", y, dY, B * out, 1e-10);
          EXPECT_CLOSE ("dense dx", dx, dDX, B * in, 1e-10);
          EXPECT_CLOSE ("dense dw", dw, dDW, in * out, 1e-10);
          if (bias)
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
    /* 9000 positions a channel: the bias gradient over two chunks */
    { 10, 2, 30, 30, 3, 30, 30, 3, 1, 1 },
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
      float *dX = up (x, nx * 4), *dW = up (w, nw * 4), *dB = up (b, s->OC * 4), *dDY = up (dy, ny * 4);
      float *dY = gpu->ops->alloc (gpu, ny * 4), *dDX = gpu->ops->alloc (gpu, nx * 4);
      float *dDW = gpu->ops->alloc (gpu, nw * 4), *dDB = gpu->ops->alloc (gpu, s->OC * 4);
      /* with a ReLU after it, a bias and the input's gradient; a bias
       * and the input's gradient; a ReLU only; none of them (a first
       * layer, "bias": false) */
      for (int v = 3; v >= 0; v--)
        {
          gboolean relu = v == 3 || v == 1, full = v >= 2;
          cpu->ops->conv2d_forward (cpu, s, y, x, w, full ? b : NULL, relu);
          cpu->ops->conv2d_backward (cpu, s, full ? dx : NULL, dw, full ? db : NULL, dy, x, w, relu ? y : NULL);
          gpu->ops->conv2d_forward (gpu, s, dY, dX, dW, full ? dB : NULL, relu);
          gpu->ops->conv2d_backward (gpu, s, full ? dDX : NULL, dDW, full ? dDB : NULL, dDY, dX, dW,
                                     relu ? dY : NULL);
          EXPECT_CLOSE ("conv y", y, dY, ny, 1e-10);
          EXPECT_CLOSE ("conv dw", dw, dDW, nw, 1e-10);
          if (full)
            {
              EXPECT_CLOSE ("conv dx", dx, dDX, nx, 1e-10);
              EXPECT_CLOSE ("conv db", db, dDB, s->OC, 1e-10);
            }
        }
      for (float *p[] = { dX, dW, dB, dDY, dY, dDX, dDW, dDB }, **q = p; q < p + 8; q++)
        gpu->ops->free (gpu, *q);

      /* The same shape once more, on buffers 4 bytes past a 16-byte
       * boundary, as the engine's packed weights can be: the way decided
       * above (cuDNN, where forced) must not fail on them. The emulator's
       * cuDNN refuses them as cuDNN 9 may (MISALIGNED_POINTER). */
      float *base[8];
      gsize len[8] = { nx, nw, s->OC, ny, ny, nx, nw, s->OC };
      const float *src[8] = { x, w, b, dy, NULL, NULL, NULL, NULL };
      float *m[8];
      for (int i = 0; i < 8; i++)
        {
          base[i] = gpu->ops->alloc (gpu, (len[i] + 1) * 4);
          m[i] = base[i] + 1;
          if (src[i])
            gpu->ops->upload (gpu, m[i], src[i], len[i] * 4);
        }
      cpu->ops->conv2d_forward (cpu, s, y, x, w, b, TRUE);
      cpu->ops->conv2d_backward (cpu, s, dx, dw, db, dy, x, w, y);
      gpu->ops->conv2d_forward (gpu, s, m[4], m[0], m[1], m[2], TRUE);
      gpu->ops->conv2d_backward (gpu, s, m[5], m[6], m[7], m[3], m[0], m[1], m[4]);
      EXPECT_CLOSE ("conv y (unaligned)", y, m[4], ny, 1e-10);
      EXPECT_CLOSE ("conv dx (unaligned)", dx, m[5], nx, 1e-10);
      EXPECT_CLOSE ("conv dw (unaligned)", dw, m[6], nw, 1e-10);
      EXPECT_CLOSE ("conv db (unaligned)", db, m[7], s->OC, 1e-10);
      g_autoptr(GError) error = NULL;
      gboolean ok = gpu->ops->status (gpu, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      for (int i = 0; i < 8; i++)
        gpu->ops->free (gpu, base[i]);
    }
  /* where cuDNN is forced (test-cuda-emu-cudnn, gpu-check), it ran every
   * shape: a GPU machine without cuDNN fails here, not silently */
  g_autofree char *status = gpu->ops->graph_status (gpu, NULL);
  g_test_message ("%s", status);
  /* (backward: each shape with and without the input's gradient) */
  if (g_strcmp0 (g_getenv ("LAMINA_CUDNN"), "1") == 0)
    g_assert_nonnull (strstr (status, "; cuDNN for 5 of 5 convolution shapes forward, 10 of 10 backward"));
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

/* Sequence ops, attention, LayerNorm, Embedding, LocallyConnected2D.
 * Device outputs start as NaN, so an element an op fails to write
 * makes the error NaN and the check fail. Backward ops get the same
 * forward results on both sides (the CPU's, uploaded), so each check
 * measures one op. */

static GPtrArray *dev_bufs;   /* freed by dev_free_all () */

static float *
dev_up (const float *host, gsize n)
{
  float *d = up (host, MAX (n, 1) * sizeof (float));
  g_ptr_array_add (dev_bufs, d);
  return d;
}

static float *
dev_nan (gsize n)
{
  g_autofree float *h = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < MAX (n, 1); i++)
    h[i] = NAN;
  return dev_up (h, n);
}

/* the device's first error, if any, fails the test; then frees the buffers */
static void
dev_free_all (void)
{
  g_autoptr(GError) error = NULL;
  if (gpu->ops->status && !gpu->ops->status (gpu, &error))
    g_assert_no_error (error);   /* fails, with the message */
  for (guint i = 0; i < dev_bufs->len; i++)
    gpu->ops->free (gpu, dev_bufs->pdata[i]);
  g_ptr_array_set_size (dev_bufs, 0);
}

/* gsize floats (or gint32s) of two device buffers, the same to the last bit */
static void
expect_same_bits (const char *what, const void *a, const void *b, gsize n)
{
  g_autofree float *ha = down (a, n), *hb = down (b, n);
  if (memcmp (ha, hb, n * sizeof (float)) != 0)
    g_error ("%s: the fused op differs from the two ops", what);
}

/* Conv2D (with its ReLU and bias, or neither) and the max pool after it
 * as one op: against the CPU's two ops within rounding, and against the
 * backend's own two ops bit for bit (argmax included: the ReLU's zeros
 * make ties, which the first position wins). LeNet-5's first layer, a
 * 3 × 3 pool, and a convolution without padding. */
static void
test_conv_pool (void)
{
  if (!need_gpu ())
    return;
  g_assert_nonnull (gpu->ops->conv2d_pool_forward);
  g_assert_nonnull (gpu->ops->conv2d_pool_backward);
  static const struct { LamConvShape s; int k; } cases[] = {
    { { 3, 1, 28, 28, 6, 28, 28, 5, 1, 2 }, 2 },
    { { 2, 2, 9, 9, 3, 9, 9, 3, 1, 1 }, 3 },
    { { 4, 3, 12, 12, 5, 10, 10, 3, 1, 0 }, 2 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    for (int full = 1; full >= 0; full--)
      {
        const LamConvShape *s = &cases[k].s;
        int K = cases[k].k;
        LamConvShape ps = { s->B, s->OC, s->OH, s->OW, s->OC, s->OH / K, s->OW / K, K, K, 0 };
        gsize nx = (gsize) s->B * s->C * s->H * s->W, ny = (gsize) s->B * s->OC * s->OH * s->OW;
        gsize nw = (gsize) s->OC * s->C * s->K * s->K, np = (gsize) s->B * s->OC * ps.OH * ps.OW;
        g_autofree float *x = randv (nx, 110 + k, -1, 1), *w = randv (nw, 120 + k, -1, 1);
        g_autofree float *b = randv (s->OC, 130 + k, -1, 1), *dpy = randv (np, 140 + k, -1, 1);
        g_autofree float *y = g_new (float, ny), *py = g_new (float, np), *dy = g_new (float, ny);
        g_autofree float *dx = g_new (float, nx), *dw = g_new (float, nw), *db = g_new (float, s->OC);
        g_autofree gint32 *am = g_new (gint32, np);
        const float *bias = full ? b : NULL;
        cpu->ops->conv2d_forward (cpu, s, y, x, w, bias, full);
        cpu->ops->maxpool_forward (cpu, &ps, py, am, y);
        cpu->ops->maxpool_backward (cpu, &ps, dy, dpy, am);
        cpu->ops->conv2d_backward (cpu, s, full ? dx : NULL, dw, full ? db : NULL, dy, x, w, full ? y : NULL);

        float *dX = dev_up (x, nx), *dW = dev_up (w, nw), *dB = full ? dev_up (b, s->OC) : NULL;
        float *dDPY = dev_up (dpy, np);
        /* the two ops */
        float *dY = dev_nan (ny), *dPY = dev_nan (np), *dAM = dev_nan (np), *dDY = dev_nan (ny);
        float *dDX = dev_nan (nx), *dDW = dev_nan (nw), *dDB = dev_nan (s->OC);
        gpu->ops->conv2d_forward (gpu, s, dY, dX, dW, dB, full);
        gpu->ops->maxpool_forward (gpu, &ps, dPY, (gint32 *) dAM, dY);
        gpu->ops->maxpool_backward (gpu, &ps, dDY, dDPY, (gint32 *) dAM);
        gpu->ops->conv2d_backward (gpu, s, full ? dDX : NULL, dDW, full ? dDB : NULL, dDY, dX, dW,
                                   full ? dY : NULL);
        /* one */
        float *fY = dev_nan (ny), *fPY = dev_nan (np), *fAM = dev_nan (np), *fDY = dev_nan (ny);
        float *fDX = dev_nan (nx), *fDW = dev_nan (nw), *fDB = dev_nan (s->OC);
        gpu->ops->conv2d_pool_forward (gpu, s, &ps, fY, fPY, (gint32 *) fAM, dX, dW, dB, full);
        gpu->ops->conv2d_pool_backward (gpu, s, &ps, full ? fDX : NULL, fDW, full ? fDB : NULL, dDPY,
                                        (gint32 *) fAM, dX, dW, full ? fY : NULL, fDY);

        EXPECT_CLOSE ("conv-pool y", y, fY, ny, 1e-10);
        EXPECT_CLOSE ("conv-pool pooled", py, fPY, np, 1e-10);
        EXPECT_CLOSE ("conv-pool dw", dw, fDW, nw, 1e-10);
        expect_same_bits ("conv-pool y", dY, fY, ny);
        expect_same_bits ("conv-pool pooled", dPY, fPY, np);
        expect_same_bits ("conv-pool argmax", dAM, fAM, np);
        expect_same_bits ("conv-pool dw", dDW, fDW, nw);
        if (full)
          {
            EXPECT_CLOSE ("conv-pool dx", dx, fDX, nx, 1e-10);
            EXPECT_CLOSE ("conv-pool db", db, fDB, s->OC, 1e-10);
            expect_same_bits ("conv-pool dx", dDX, fDX, nx);
            expect_same_bits ("conv-pool db", dDB, fDB, s->OC);
          }
        dev_free_all ();
      }
}

static void
test_seq_gemm (void)
{
  if (!need_gpu ())
    return;
  int M = 37, N = 29, K = 23;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (int bi = 0; bi < 2; bi++)
        {
          float beta = bi ? 0.5f : 0.0f, alpha = 0.75f;
          int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
          gsize na = (gsize) (ta ? K : M) * lda, nb = (gsize) (tb ? N : K) * ldb, nc = (gsize) M * ldc;
          g_autofree float *a = randv (na, 100 + ta, -1, 1), *b = randv (nb, 102 + tb, -1, 1);
          g_autofree float *c = randv (nc, 104, -1, 1);
          /* beta = 0 ignores C, NaN included (the padding columns stay) */
          if (beta == 0)
            for (int i = 0; i < M; i++)
              for (int j = 0; j < N; j++)
                c[(gsize) i * ldc + j] = NAN;
          float *dA = dev_up (a, na), *dB = dev_up (b, nb), *dC = dev_up (c, nc);
          cpu->ops->gemm (cpu, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
          gpu->ops->gemm (gpu, ta, tb, M, N, K, alpha, dA, lda, dB, ldb, beta, dC, ldc);
          EXPECT_CLOSE ("gemm", c, dC, nc, 1e-10);
          dev_free_all ();
        }
  /* K = 0: C = beta · C */
  for (int bi = 0; bi < 2; bi++)
    {
      float beta = bi ? 0.5f : 0.0f;
      g_autofree float *c = randv (5 * 6, 105, -1, 1);
      float *dC = dev_up (c, 5 * 6);
      cpu->ops->gemm (cpu, FALSE, FALSE, 5, 4, 0, 1.0f, NULL, 1, NULL, 4, beta, c, 6);
      gpu->ops->gemm (gpu, FALSE, FALSE, 5, 4, 0, 1.0f, NULL, 1, NULL, 4, beta, dC, 6);
      EXPECT_CLOSE ("gemm K = 0", c, dC, 5 * 6, 1e-14);
      dev_free_all ();
    }
}

static void
test_seq_copy_strided (void)
{
  if (!need_gpu ())
    return;
  /* [B, T, F] → [T, B, F] reversed in time (engine/lam-seq.c), a gappy
   * scatter over three levels, and a negative middle stride */
  int B = 3, T = 5, F = 7;
  const struct {
    int n[4];
    gssize ds[3], ss[3];
    gsize dst_len, src_len, dst_off, src_off;
  } cases[] = {
    { { B, T, 1, F }, { F, (gssize) B * F, 0 }, { (gssize) T * F, -F, 0 }, (gsize) B * T * F, (gsize) B * T * F,
      0, (gsize) (T - 1) * F },
    { { 2, 3, 4, 5 }, { 240, 80, 10 }, { 60, 20, 5 }, 480, 120, 0, 0 },
    { { 2, 3, 1, 4 }, { 12, -4, 0 }, { 4, 8, 0 }, 24, 24, 8, 0 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autofree float *dst = randv (cases[k].dst_len, 110 + k, -1, 1);
      g_autofree float *src = randv (cases[k].src_len, 120 + k, -1, 1);
      float *dD = dev_up (dst, cases[k].dst_len), *dS = dev_up (src, cases[k].src_len);
      cpu->ops->copy_strided (cpu, dst + cases[k].dst_off, src + cases[k].src_off, cases[k].n, cases[k].ds,
                              cases[k].ss);
      gpu->ops->copy_strided (gpu, dD + cases[k].dst_off, dS + cases[k].src_off, cases[k].n, cases[k].ds,
                              cases[k].ss);
      EXPECT_CLOSE ("copy_strided", dst, dD, cases[k].dst_len, 1e-14);
      dev_free_all ();
    }
}

static void
test_seq_rows (void)
{
  if (!need_gpu ())
    return;
  /* add_rows (also in place) and sum_rows, over more rows than one chunk */
  int R = 700, n = 70;
  gsize N = (gsize) R * n;
  g_autofree float *x = randv (N, 130, -1, 1), *v = randv (n, 131, -1, 1);
  g_autofree float *y = g_new (float, N), *s = g_new (float, n), *x2 = g_memdup2 (x, N * sizeof (float));
  float *dX = dev_up (x, N), *dV = dev_up (v, n), *dY = dev_nan (N), *dS = dev_nan (n);
  cpu->ops->add_rows (cpu, y, x, v, R, n);
  gpu->ops->add_rows (gpu, dY, dX, dV, R, n);
  EXPECT_CLOSE ("add_rows", y, dY, N, 1e-14);
  cpu->ops->add_rows (cpu, x2, x2, v, R, n);
  gpu->ops->add_rows (gpu, dX, dX, dV, R, n);
  EXPECT_CLOSE ("add_rows in place", x2, dX, N, 1e-14);
  for (int rows = 1; rows <= R; rows += R - 1)
    {
      cpu->ops->sum_rows (cpu, s, y, rows, n);
      gpu->ops->sum_rows (gpu, dS, dY, rows, n);
      EXPECT_CLOSE ("sum_rows", s, dS, n, 1e-12);
    }

  /* time mean of [B, T, F] */
  int B = 6, T = 11, F = 13;
  gsize nx = (gsize) B * T * F;
  g_autofree float *tx = randv (nx, 132, -1, 1), *tdy = randv ((gsize) B * F, 133, -1, 1);
  g_autofree float *ty = g_new (float, B * F), *tdx = g_new (float, nx);
  float *dTX = dev_up (tx, nx), *dTDY = dev_up (tdy, B * F), *dTY = dev_nan (B * F), *dTDX = dev_nan (nx);
  cpu->ops->time_mean_forward (cpu, ty, tx, B, T, F);
  cpu->ops->time_mean_backward (cpu, tdx, tdy, B, T, F);
  gpu->ops->time_mean_forward (gpu, dTY, dTX, B, T, F);
  gpu->ops->time_mean_backward (gpu, dTDX, dTDY, B, T, F);
  EXPECT_CLOSE ("time_mean y", ty, dTY, B * F, 1e-12);
  EXPECT_CLOSE ("time_mean dx", tdx, dTDX, nx, 1e-14);

  /* gather_rows (host indices) and the MSE against numeric targets */
  int rows = 100, cols = 3, Bt = 50;
  g_autofree float *src = randv ((gsize) rows * cols, 134, -1, 1), *tg = g_new (float, Bt * cols);
  g_autofree float *pred = randv ((gsize) Bt * cols, 135, -1, 1), *dp = g_new (float, Bt * cols);
  g_autofree gint32 *idx = g_new (gint32, Bt);
  for (int i = 0; i < Bt; i++)
    idx[i] = (i * 37 + 11) % rows;
  float *dSRC = dev_up (src, rows * cols), *dTG = dev_nan (Bt * cols), *dP = dev_up (pred, Bt * cols);
  float *dDP = dev_nan (Bt * cols);
  cpu->ops->gather_rows (cpu, tg, src, idx, Bt, cols);
  gpu->ops->gather_rows (gpu, dTG, dSRC, idx, Bt, cols);
  EXPECT_CLOSE ("gather_rows", tg, dTG, Bt * cols, 1e-14);
  float st[2] = { 1.5f, 2.0f };
  float *dST = dev_up (st, 2);
  cpu->ops->mse_loss_targets (cpu, dp, st, pred, tg, Bt, cols, 0.5f, 0.6f);
  gpu->ops->mse_loss_targets (gpu, dDP, dST, dP, dTG, Bt, cols, 0.5f, 0.6f);
  EXPECT_CLOSE ("mse_loss_targets dpred", dp, dDP, Bt * cols, 1e-12);
  EXPECT_CLOSE ("mse_loss_targets stats", st, dST, 2, 1e-12);
  cpu->ops->mse_loss_targets (cpu, NULL, st, pred, tg, Bt, cols, 1.0f, 0.6f);
  gpu->ops->mse_loss_targets (gpu, NULL, dST, dP, dTG, Bt, cols, 1.0f, 0.6f);
  EXPECT_CLOSE ("mse_loss_targets stats (no gradient)", st, dST, 2, 1e-12);
  dev_free_all ();
}

/* The recurrent cells: B rows of H units (H over one warp, B over the
 * LTC kernel's batch lanes). Backward runs with every combination of
 * absent (NULL) incoming gradients. */
#define CELL_B 37
#define CELL_H 45

static void
test_seq_lstm (void)
{
  if (!need_gpu ())
    return;
  int B = CELL_B, H = CELL_H;
  gsize BH = (gsize) B * H;
  g_autofree float *xp = randv (4 * BH, 140, -2, 2), *hh = randv (4 * BH, 141, -2, 2), *cp = randv (BH, 142, -1, 1);
  g_autofree float *h = g_new (float, BH), *c = g_new (float, BH), *g = g_new (float, 4 * BH);
  float *dXP = dev_up (xp, 4 * BH), *dHH = dev_up (hh, 4 * BH), *dCP = dev_up (cp, BH);
  float *dH = dev_nan (BH), *dC = dev_nan (BH), *dG = dev_nan (4 * BH);
  cpu->ops->lstm_cell_forward (cpu, h, c, g, xp, hh, cp, B, H);
  gpu->ops->lstm_cell_forward (gpu, dH, dC, dG, dXP, dHH, dCP, B, H);
  EXPECT_CLOSE ("lstm h", h, dH, BH, 1e-10);
  EXPECT_CLOSE ("lstm c", c, dC, BH, 1e-10);
  EXPECT_CLOSE ("lstm gates", g, dG, 4 * BH, 1e-10);

  g_autofree float *dh = randv (BH, 143, -1, 1), *dhr = randv (BH, 144, -1, 1), *dcn = randv (BH, 145, -1, 1);
  g_autofree float *dpre = g_new (float, 4 * BH), *dcp = g_new (float, BH);
  float *gDH = dev_up (dh, BH), *gDHR = dev_up (dhr, BH), *gDCN = dev_up (dcn, BH);
  float *cG = dev_up (g, 4 * BH), *cC = dev_up (c, BH);
  for (int m = 0; m < 8; m++)
    {
      float *dPRE = dev_nan (4 * BH), *dDCP = dev_nan (BH);
      cpu->ops->lstm_cell_backward (cpu, dpre, dcp, m & 1 ? NULL : dh, m & 2 ? NULL : dhr, m & 4 ? NULL : dcn,
                                    g, c, cp, B, H);
      gpu->ops->lstm_cell_backward (gpu, dPRE, dDCP, m & 1 ? NULL : gDH, m & 2 ? NULL : gDHR,
                                    m & 4 ? NULL : gDCN, cG, cC, dCP, B, H);
      if (m != 7)   /* all absent: zeros, nmse would divide by 0 */
        {
          EXPECT_CLOSE ("lstm dpre", dpre, dPRE, 4 * BH, 1e-10);
          EXPECT_CLOSE ("lstm dc_prev", dcp, dDCP, BH, 1e-10);
        }
      else
        {
          EXPECT_CLOSE ("lstm dpre (no gradient)", dpre, dPRE, 4 * BH, 1e-20);
          EXPECT_CLOSE ("lstm dc_prev (no gradient)", dcp, dDCP, BH, 1e-20);
        }
    }
  dev_free_all ();
}

static void
test_seq_gru (void)
{
  if (!need_gpu ())
    return;
  int B = CELL_B, H = CELL_H;
  gsize BH = (gsize) B * H;
  g_autofree float *xp = randv (3 * BH, 150, -2, 2), *hh = randv (3 * BH, 151, -2, 2), *hp = randv (BH, 152, -1, 1);
  g_autofree float *h = g_new (float, BH), *g = g_new (float, 4 * BH);
  float *dXP = dev_up (xp, 3 * BH), *dHH = dev_up (hh, 3 * BH), *dHP = dev_up (hp, BH);
  float *dH = dev_nan (BH), *dG = dev_nan (4 * BH);
  cpu->ops->gru_cell_forward (cpu, h, g, xp, hh, hp, B, H);
  gpu->ops->gru_cell_forward (gpu, dH, dG, dXP, dHH, dHP, B, H);
  EXPECT_CLOSE ("gru h", h, dH, BH, 1e-10);
  EXPECT_CLOSE ("gru gates", g, dG, 4 * BH, 1e-10);

  g_autofree float *dh = randv (BH, 153, -1, 1), *dhr = randv (BH, 154, -1, 1);
  g_autofree float *dxp = g_new (float, 3 * BH), *dhh = g_new (float, 3 * BH), *dhp = g_new (float, BH);
  float *gDH = dev_up (dh, BH), *gDHR = dev_up (dhr, BH), *cG = dev_up (g, 4 * BH);
  for (int m = 0; m < 3; m++)
    {
      float *dDXP = dev_nan (3 * BH), *dDHH = dev_nan (3 * BH), *dDHP = dev_nan (BH);
      cpu->ops->gru_cell_backward (cpu, dxp, dhh, dhp, m & 1 ? NULL : dh, m & 2 ? NULL : dhr, g, hp, B, H);
      gpu->ops->gru_cell_backward (gpu, dDXP, dDHH, dDHP, m & 1 ? NULL : gDH, m & 2 ? NULL : gDHR, cG, dHP, B, H);
      EXPECT_CLOSE ("gru dxp", dxp, dDXP, 3 * BH, 1e-10);
      EXPECT_CLOSE ("gru dhh", dhh, dDHH, 3 * BH, 1e-10);
      EXPECT_CLOSE ("gru dh_prev", dhp, dDHP, BH, 1e-10);
    }
  dev_free_all ();
}

static void
test_seq_rnn (void)
{
  if (!need_gpu ())
    return;
  int B = CELL_B, H = CELL_H;
  gsize BH = (gsize) B * H;
  g_autofree float *xp = randv (BH, 160, -2, 2), *hh = randv (BH, 161, -2, 2), *h = g_new (float, BH);
  float *dXP = dev_up (xp, BH), *dHH = dev_up (hh, BH), *dH = dev_nan (BH);
  cpu->ops->rnn_cell_forward (cpu, h, xp, hh, B, H);
  gpu->ops->rnn_cell_forward (gpu, dH, dXP, dHH, B, H);
  EXPECT_CLOSE ("rnn h", h, dH, BH, 1e-10);

  g_autofree float *dh = randv (BH, 162, -1, 1), *dhr = randv (BH, 163, -1, 1), *dpre = g_new (float, BH);
  float *gDH = dev_up (dh, BH), *gDHR = dev_up (dhr, BH), *cH = dev_up (h, BH);
  for (int m = 0; m < 3; m++)
    {
      float *dPRE = dev_nan (BH);
      cpu->ops->rnn_cell_backward (cpu, dpre, m & 1 ? NULL : dh, m & 2 ? NULL : dhr, h, B, H);
      gpu->ops->rnn_cell_backward (gpu, dPRE, m & 1 ? NULL : gDH, m & 2 ? NULL : gDHR, cH, B, H);
      EXPECT_CLOSE ("rnn dpre", dpre, dPRE, BH, 1e-10);
    }
  dev_free_all ();
}

static void
test_seq_ltc (void)
{
  if (!need_gpu ())
    return;
  int B = CELL_B, H = CELL_H;
  gsize BH = (gsize) B * H;
  float dt = 1.0f / 3;
  g_autofree float *x = randv (BH, 170, -1, 1), *xp = randv (BH, 171, -2, 2), *hh = randv (BH, 172, -2, 2);
  g_autofree float *A = randv (H, 173, -1, 1), *lt = randv (H, 174, -1, 1);
  g_autofree float *xn = g_new (float, BH), *f = g_new (float, BH);
  float *dX = dev_up (x, BH), *dXP = dev_up (xp, BH), *dHH = dev_up (hh, BH), *dA = dev_up (A, H), *dLT = dev_up (lt, H);
  float *dXN = dev_nan (BH), *dF = dev_nan (BH);
  cpu->ops->ltc_cell_forward (cpu, xn, f, x, xp, hh, A, lt, dt, B, H);
  gpu->ops->ltc_cell_forward (gpu, dXN, dF, dX, dXP, dHH, dA, dLT, dt, B, H);
  EXPECT_CLOSE ("ltc x_next", xn, dXN, BH, 1e-10);
  EXPECT_CLOSE ("ltc f", f, dF, BH, 1e-10);

  /* dA and dlog_tau accumulate: start from the same values on both sides */
  g_autofree float *dh = randv (BH, 175, -1, 1), *dhr = randv (BH, 176, -1, 1);
  g_autofree float *dx = g_new (float, BH), *dp = g_new (float, BH);
  g_autofree float *gA = randv (H, 177, -1, 1), *gLT = randv (H, 178, -1, 1);
  float *gDH = dev_up (dh, BH), *gDHR = dev_up (dhr, BH), *cXN = dev_up (xn, BH), *cF = dev_up (f, BH);
  float *dGA = dev_up (gA, H), *dGLT = dev_up (gLT, H);
  for (int m = 0; m < 3; m++)
    {
      float *dDX = dev_nan (BH), *dDP = dev_nan (BH);
      cpu->ops->ltc_cell_backward (cpu, dx, dp, gA, gLT, m & 1 ? NULL : dh, m & 2 ? NULL : dhr, xn, x, f, A, lt,
                                   dt, B, H);
      gpu->ops->ltc_cell_backward (gpu, dDX, dDP, dGA, dGLT, m & 1 ? NULL : gDH, m & 2 ? NULL : gDHR, cXN, dX, cF,
                                   dA, dLT, dt, B, H);
      EXPECT_CLOSE ("ltc dx", dx, dDX, BH, 1e-10);
      EXPECT_CLOSE ("ltc dpre", dp, dDP, BH, 1e-10);
      EXPECT_CLOSE ("ltc dA (accumulated)", gA, dGA, H, 1e-10);
      EXPECT_CLOSE ("ltc dlog_tau (accumulated)", gLT, dGLT, H, 1e-10);
    }
  dev_free_all ();
}

static void
test_seq_attention (void)
{
  if (!need_gpu ())
    return;
  /* T under and over a warp's 32 lanes */
  static const int shapes[][4] = { { 3, 19, 2, 8 }, { 2, 40, 3, 5 }, { 1, 1, 1, 4 } };   /* B, T, heads, dh */
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    for (int causal = 0; causal < 2; causal++)
      {
        int B = shapes[k][0], T = shapes[k][1], heads = shapes[k][2], dh = shapes[k][3], D = heads * dh;
        gsize nq = (gsize) B * T * 3 * D, nc = (gsize) B * T * D, np = (gsize) B * heads * T * T;
        g_autofree float *qkv = randv (nq, 180 + k, -2, 2), *dctx = randv (nc, 190 + k, -1, 1);
        g_autofree float *ctx = g_new (float, nc), *probs = g_new (float, np), *dqkv = g_new (float, nq);
        float *dQKV = dev_up (qkv, nq), *dDCTX = dev_up (dctx, nc);
        float *dCTX = dev_nan (nc), *dP = dev_nan (np), *dDQKV = dev_nan (nq);
        cpu->ops->attention_forward (cpu, ctx, probs, qkv, B, T, heads, dh, causal);
        gpu->ops->attention_forward (gpu, dCTX, dP, dQKV, B, T, heads, dh, causal);
        EXPECT_CLOSE ("attention probs", probs, dP, np, 1e-10);
        EXPECT_CLOSE ("attention ctx", ctx, dCTX, nc, 1e-10);
        float *cP = dev_up (probs, np);
        cpu->ops->attention_backward (cpu, dqkv, dctx, qkv, probs, B, T, heads, dh);
        gpu->ops->attention_backward (gpu, dDQKV, dDCTX, dQKV, cP, B, T, heads, dh);
        EXPECT_CLOSE ("attention dqkv", dqkv, dDQKV, nq, 1e-9);
        dev_free_all ();
      }
}

static void
test_seq_layernorm (void)
{
  if (!need_gpu ())
    return;
  /* rows over one column-sum chunk; n under and over a warp */
  static const int shapes[][2] = { { 300, 45 }, { 7, 20 }, { 33, 130 } };
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      int rows = shapes[k][0], n = shapes[k][1];
      gsize N = (gsize) rows * n;
      g_autofree float *x = randv (N, 200 + k, -2, 3), *w = randv (n, 210 + k, 0.5, 1.5), *b = randv (n, 220 + k, -1, 1);
      g_autofree float *dy = randv (N, 230 + k, -1, 1), *y = g_new (float, N), *mean = g_new (float, rows);
      g_autofree float *rstd = g_new (float, rows), *dx = g_new (float, N), *dw = g_new (float, n), *db = g_new (float, n);
      float *dX = dev_up (x, N), *dW = dev_up (w, n), *dB = dev_up (b, n), *dDY = dev_up (dy, N);
      float *dY = dev_nan (N), *dM = dev_nan (rows), *dR = dev_nan (rows);
      cpu->ops->layernorm_forward (cpu, y, mean, rstd, x, w, b, rows, n, 1e-5f);
      gpu->ops->layernorm_forward (gpu, dY, dM, dR, dX, dW, dB, rows, n, 1e-5f);
      EXPECT_CLOSE ("layernorm y", y, dY, N, 1e-10);
      EXPECT_CLOSE ("layernorm mean", mean, dM, rows, 1e-10);
      EXPECT_CLOSE ("layernorm rstd", rstd, dR, rows, 1e-10);
      float *cM = dev_up (mean, rows), *cR = dev_up (rstd, rows);
      for (int with_dx = 0; with_dx < 2; with_dx++)
        {
          float *dDX = dev_nan (N), *dDW = dev_nan (n), *dDB = dev_nan (n);
          cpu->ops->layernorm_backward (cpu, with_dx ? dx : NULL, dw, db, dy, x, mean, rstd, w, rows, n);
          gpu->ops->layernorm_backward (gpu, with_dx ? dDX : NULL, dDW, dDB, dDY, dX, cM, cR, dW, rows, n);
          if (with_dx)
            EXPECT_CLOSE ("layernorm dx", dx, dDX, N, 1e-9);
          EXPECT_CLOSE ("layernorm dw", dw, dDW, n, 1e-10);
          EXPECT_CLOSE ("layernorm db", db, dDB, n, 1e-10);
        }
      dev_free_all ();
    }
}

static void
test_seq_embedding (void)
{
  if (!need_gpu ())
    return;
  /* vocab over several row blocks, dim over one warp; ids repeat, fall
   * outside [0, vocab) and halfway between integers (rounded to even) */
  int N = 300, vocab = 150, dim = 40;
  g_autofree float *ids = g_new (float, N), *w = randv ((gsize) vocab * dim, 240, -1, 1);
  g_autofree float *dy = randv ((gsize) N * dim, 241, -1, 1), *y = g_new (float, N * dim);
  g_autofree float *dw = g_new (float, vocab * dim);
  for (int i = 0; i < N; i++)
    ids[i] = (float) ((i * 7919) % (vocab + 20) - 10);
  ids[0] = 2.5f;
  ids[1] = 3.5f;
  ids[2] = 2.4f;
  ids[3] = 1e9f;
  ids[4] = -1e9f;
  ids[5] = vocab - 0.6f;
  float *dIDS = dev_up (ids, N), *dW = dev_up (w, vocab * dim), *dDY = dev_up (dy, N * dim);
  float *dY = dev_nan (N * dim), *dDW = dev_nan (vocab * dim);
  cpu->ops->embedding_forward (cpu, y, ids, w, N, vocab, dim);
  gpu->ops->embedding_forward (gpu, dY, dIDS, dW, N, vocab, dim);
  EXPECT_CLOSE ("embedding y", y, dY, N * dim, 1e-14);
  cpu->ops->embedding_backward (cpu, dw, dy, ids, N, vocab, dim);
  gpu->ops->embedding_backward (gpu, dDW, dDY, dIDS, N, vocab, dim);
  /* the same order of sums as the CPU: equal */
  EXPECT_CLOSE ("embedding dw", dw, dDW, vocab * dim, 1e-14);
  dev_free_all ();
}

static void
test_seq_lc2d (void)
{
  if (!need_gpu ())
    return;
  static const LamConvShape shapes[] = {
    { 3, 2, 7, 6, 4, 7, 6, 3, 1, 1 },
    { 2, 3, 9, 9, 5, 4, 4, 3, 2, 0 },
    { 4, 1, 8, 5, 3, 5, 3, 2, 2, 1 },
    { 2, 2, 5, 5, 2, 3, 3, 3, 3, 2 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    for (int var = 0; var < 2; var++)   /* 0: bias and dx; 1: neither */
      {
        const LamConvShape *s = &shapes[k];
        gsize OHW = (gsize) s->OH * s->OW, CKK = (gsize) s->C * s->K * s->K;
        gsize nx = (gsize) s->B * s->C * s->H * s->W, ny = (gsize) s->B * s->OC * OHW;
        gsize nw = OHW * s->OC * CKK, nb = (gsize) s->OC * OHW;
        g_autofree float *x = randv (nx, 250 + k, -1, 1), *w = randv (nw, 260 + k, -1, 1);
        g_autofree float *b = randv (nb, 270 + k, -1, 1), *dy = randv (ny, 280 + k, -1, 1);
        g_autofree float *y = g_new (float, ny), *dx = g_new (float, nx), *dw = g_new (float, nw);
        g_autofree float *db = g_new (float, nb);
        float *dX = dev_up (x, nx), *dW = dev_up (w, nw), *dB = dev_up (b, nb), *dDY = dev_up (dy, ny);
        float *dY = dev_nan (ny), *dDX = dev_nan (nx), *dDW = dev_nan (nw), *dDB = dev_nan (nb);
        cpu->ops->lc2d_forward (cpu, s, y, x, w, var ? NULL : b);
        gpu->ops->lc2d_forward (gpu, s, dY, dX, dW, var ? NULL : dB);
        EXPECT_CLOSE ("lc2d y", y, dY, ny, 1e-10);
        cpu->ops->lc2d_backward (cpu, s, var ? NULL : dx, dw, var ? NULL : db, dy, x, w);
        gpu->ops->lc2d_backward (gpu, s, var ? NULL : dDX, dDW, var ? NULL : dDB, dDY, dX, dW);
        EXPECT_CLOSE ("lc2d dw", dw, dDW, nw, 1e-10);
        if (!var)
          {
            EXPECT_CLOSE ("lc2d dx", dx, dDX, nx, 1e-10);
            EXPECT_CLOSE ("lc2d db", db, dDB, nb, 1e-10);
          }
        dev_free_all ();
      }
}

/* The ops around the layers: device memory, batch assembly
 * (LamTrainer), Dropout's mul, Add and Concat, GlobalAvgPool, the
 * losses and the optimizers (LamOptimizer). Their kernels run one
 * thread per element on 1-D grids of 256-thread blocks (the losses: a
 * thread per row in blocks of 128, then one block of 256 for the
 * stats), so the sizes are not multiples of the block and some run over
 * 65535 elements. Copies and gathers must be bit for bit equal
 * (EXPECT_SAME); their outputs start as NaN, so equality also says that
 * no element was left unwritten and none outside the slice was written. */

/* the first byte at which a and b differ, or n */
static gsize
first_diff (const void *a, const void *b, gsize n)
{
  const guint8 *p = a, *q = b;
  for (gsize i = 0; i < n; i++)
    if (p[i] != q[i])
      return i;
  return n;
}

#define EXPECT_SAME(what, ref, dev, bytes) \
  G_STMT_START { \
    gsize nb_ = (bytes); \
    g_autofree guint8 *got_ = g_malloc (MAX (nb_, 1)); \
    gpu->ops->download (gpu, got_, (dev), nb_); \
    gsize at_ = first_diff ((ref), got_, nb_); \
    g_test_message ("%s: %s", (what), at_ == nb_ ? "equal" : "differ"); \
    g_assert_cmpuint (at_, ==, nb_);   /* the first byte that differs */ \
  } G_STMT_END

static void *
dev_up_bytes (const void *host, gsize bytes)
{
  void *d = up (host, bytes);
  g_ptr_array_add (dev_bufs, d);
  return d;
}

static void
test_memory (void)
{
  if (!need_gpu ())
    return;
  /* alloc hands back zeros; copy and zero keep to their byte ranges */
  gsize n = 1001;
  g_autofree float *zeros = g_new0 (float, n), *a = randv (n, 300, -1, 1), *b = randv (n, 301, -1, 1);
  float *dZ = gpu->ops->alloc (gpu, n * 4);
  g_assert_nonnull (dZ);
  g_ptr_array_add (dev_bufs, dZ);
  EXPECT_SAME ("alloc (zeroed)", zeros, dZ, n * 4);
  float *dA = dev_up (a, n), *dB = dev_up (b, n);
  memcpy (b + 3, a + 10, 990 * 4);
  gpu->ops->copy (gpu, dB + 3, dA + 10, 990 * 4);
  gpu->ops->copy (gpu, dB, dA, 0);
  memset (a + 1, 0, 999 * 4);   /* leaves a[0] and a[1000] */
  gpu->ops->zero (gpu, dA + 1, 999 * 4);
  gpu->ops->zero (gpu, dA, 0);
  gpu->ops->synchronize (gpu);
  EXPECT_SAME ("copy", b, dB, n * 4);
  EXPECT_SAME ("zero", a, dA, n * 4);
  dev_free_all ();
}

static void
test_gather (void)
{
  if (!need_gpu ())
    return;
  /* a byte dataset of N images of n pixels, N·n a multiple of 4 so that
   * the last image ends at the emulator's guard page; indices take the
   * first and the last image and repeat */
  int N = 100, n = 785;
  gsize nimg = (gsize) N * n;
  g_autofree guint8 *images = g_new (guint8, nimg), *labels = g_new (guint8, N);
  LamRng r;
  lam_rng_init (&r, 310, 99);
  for (gsize i = 0; i < nimg; i++)
    images[i] = (guint8) (lam_rng_uniform (&r) * 256);
  images[0] = 0;
  images[nimg - 1] = 255;
  for (int i = 0; i < N; i++)
    labels[i] = (guint8) ((i * 7 + 3) % 10);
  guint8 *dIMG = dev_up_bytes (images, nimg), *dLAB = dev_up_bytes (labels, N);
  /* B grows, shrinks and grows: the backend's device copy of idx is
   * reused and regrown; 97 · 785 = 76145 elements, 298 blocks */
  static const int Bs[] = { 5, 97, 3, 60 };
  for (guint k = 0; k < G_N_ELEMENTS (Bs); k++)
    {
      int B = Bs[k];
      g_autofree gint32 *idx = g_new (gint32, B), *y = g_new (gint32, B);
      g_autofree float *x = g_new (float, (gsize) B * n);
      for (int b = 0; b < B; b++)
        idx[b] = (b * 37 + (int) k) % N;
      idx[0] = N - 1;
      idx[B - 1] = 0;
      float *dX = dev_nan ((gsize) B * n);
      gint32 *dY = (gint32 *) dev_nan (B);
      cpu->ops->gather_u8 (cpu, x, y, images, labels, idx, B, n, 0.1307f, 0.3081f);
      gpu->ops->gather_u8 (gpu, dX, dY, dIMG, dLAB, idx, B, n, 0.1307f, 0.3081f);
      /* pixel · scale + shift: nvcc may fuse it into one FMA, one
       * rounding fewer than the CPU's, so close rather than equal */
      EXPECT_CLOSE ("gather_u8 x", x, dX, (gsize) B * n, 1e-12);
      EXPECT_SAME ("gather_u8 labels", y, dY, B * sizeof (gint32));
    }

  /* float datasets: the synthetic 2-D sets (40000 · 2 = 80000 elements)
   * and a 3-wide one; copies, so equal */
  static const int fshapes[][3] = { { 1000, 2, 40000 }, { 50, 3, 33 } };   /* N, n, B */
  for (guint k = 0; k < G_N_ELEMENTS (fshapes); k++)
    {
      int FN = fshapes[k][0], fn = fshapes[k][1], B = fshapes[k][2];
      g_autofree float *data = randv ((gsize) FN * fn, 320 + k, -3, 3);
      g_autofree guint8 *flab = g_new (guint8, FN);
      g_autofree gint32 *idx = g_new (gint32, B), *y = g_new (gint32, B);
      g_autofree float *x = g_new (float, (gsize) B * fn);
      for (int i = 0; i < FN; i++)
        flab[i] = (guint8) (i % 2 + k);
      for (int b = 0; b < B; b++)
        idx[b] = (int) (((gint64) b * 7919) % FN);
      idx[B - 1] = FN - 1;
      float *dD = dev_up (data, (gsize) FN * fn);
      guint8 *dFL = dev_up_bytes (flab, FN);
      float *dX = dev_nan ((gsize) B * fn);
      gint32 *dY = (gint32 *) dev_nan (B);
      cpu->ops->gather_f32 (cpu, x, y, data, flab, idx, B, fn);
      gpu->ops->gather_f32 (gpu, dX, dY, dD, dFL, idx, B, fn);
      EXPECT_SAME ("gather_f32 x", x, dX, (gsize) B * fn * sizeof (float));
      EXPECT_SAME ("gather_f32 labels", y, dY, B * sizeof (gint32));
    }
  dev_free_all ();
}

static void
test_mul_axpy (void)
{
  if (!need_gpu ())
    return;
  /* one thread; exactly one block; 274 blocks, the last part idle */
  static const gsize sizes[] = { 1, 256, 70001 };
  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      gsize n = sizes[k];
      g_autofree float *a = randv (n, 330 + k, -2, 2), *b = randv (n, 340 + k, -2, 2), *y = g_new (float, n);
      float *dA = dev_up (a, n), *dB = dev_up (b, n), *dY = dev_nan (n);
      cpu->ops->mul (cpu, y, a, b, n);
      gpu->ops->mul (gpu, dY, dA, dB, n);
      EXPECT_CLOSE ("mul", y, dY, n, 1e-14);
      cpu->ops->mul (cpu, a, a, b, n);
      gpu->ops->mul (gpu, dA, dA, dB, n);
      EXPECT_CLOSE ("mul in place", a, dA, n, 1e-14);
      /* y += alpha · x, twice, as LamNet sums a fan-out (OpenBLAS's
       * saxpy may use FMA: close, not equal) */
      cpu->ops->axpy (cpu, y, b, -0.75f, n);
      gpu->ops->axpy (gpu, dY, dB, -0.75f, n);
      EXPECT_CLOSE ("axpy", y, dY, n, 1e-12);
      cpu->ops->axpy (cpu, y, a, 1.0f, n);
      gpu->ops->axpy (gpu, dY, dA, 1.0f, n);
      EXPECT_CLOSE ("axpy again", y, dY, n, 1e-12);
      dev_free_all ();
    }
}

static void
test_concat (void)
{
  if (!need_gpu ())
    return;
  /* parts of cx channels side by side in y [B, cy, inner]: a conv
   * concat of three, a Dense one (inner 1, B over one block) and one
   * with parts over 65535 elements */
  static const struct { int B, inner, parts, cx[3]; } cases[] = {
    { 5, 37, 3, { 2, 5, 1 } },
    { 300, 1, 2, { 3, 4 } },
    { 16, 900, 2, { 5, 3 } },
  };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      int B = cases[k].B, inner = cases[k].inner, cy = 0;
      for (int p = 0; p < cases[k].parts; p++)
        cy += cases[k].cx[p];
      gsize ny = (gsize) B * cy * inner;
      g_autofree float *y = g_new (float, ny), *dy = randv (ny, 350 + k, -1, 1);
      for (gsize i = 0; i < ny; i++)
        y[i] = NAN;
      float *dY = dev_nan (ny), *dDY = dev_up (dy, ny);
      for (int p = 0, off = 0; p < cases[k].parts; off += cases[k].cx[p], p++)
        {
          int cx = cases[k].cx[p];
          gsize nx = (gsize) B * cx * inner;
          g_autofree float *x = randv (nx, 360 + 3 * k + p, -1, 1), *dx = g_new (float, nx);
          float *dX = dev_up (x, nx), *dDX = dev_nan (nx);
          cpu->ops->concat_forward (cpu, y, x, B, cy, cx, off, inner);
          gpu->ops->concat_forward (gpu, dY, dX, B, cy, cx, off, inner);
          EXPECT_SAME ("concat y (other channels still NaN)", y, dY, ny * sizeof (float));
          cpu->ops->concat_backward (cpu, dx, dy, B, cy, cx, off, inner);
          gpu->ops->concat_backward (gpu, dDX, dDY, B, cy, cx, off, inner);
          EXPECT_SAME ("concat dx", dx, dDX, nx * sizeof (float));
        }
      for (gsize i = 0; i < ny; i++)   /* every part in: no NaN left, here nor there */
        g_assert_false (isnan (y[i]));
      dev_free_all ();
    }
}

static void
test_gap (void)
{
  if (!need_gpu ())
    return;
  /* B, C, HW: planes over one block; HW 1; few long planes; a backward
   * grid over 65535 elements */
  static const int shapes[][3] = { { 7, 45, 49 }, { 300, 3, 1 }, { 2, 3, 1000 }, { 20, 64, 64 } };
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      int B = shapes[k][0], C = shapes[k][1], HW = shapes[k][2];
      gsize np = (gsize) B * C, nx = np * HW;
      g_autofree float *x = randv (nx, 370 + k, -2, 3), *dy = randv (np, 380 + k, -1, 1);
      g_autofree float *y = g_new (float, np), *dx = g_new (float, nx);
      float *dX = dev_up (x, nx), *dDY = dev_up (dy, np), *dY = dev_nan (np), *dDX = dev_nan (nx);
      cpu->ops->gap_forward (cpu, y, x, B, C, HW);
      gpu->ops->gap_forward (gpu, dY, dX, B, C, HW);
      EXPECT_CLOSE ("gap y", y, dY, np, 1e-14);
      cpu->ops->gap_backward (cpu, dx, dy, B, C, HW);
      gpu->ops->gap_backward (gpu, dDX, dDY, B, C, HW);
      EXPECT_CLOSE ("gap dx", dx, dDX, nx, 1e-14);
      dev_free_all ();
    }
}

typedef void (*LossFunc) (LamBackend *be, float *dpred, float *stats, const float *pred,
                          const gint32 *labels, int B, int n, float scale);

static void
test_losses (void)
{
  if (!need_gpu ())
    return;
  /* xent_loss and mse_loss (against one-hot labels): rows over the 256
   * threads of the one-block way (up to 4096 scores), over several
   * blocks of 128 in the two-launch way (2000 × 10), and one row;
   * training (with a scale) and evaluation (no gradient); the stats
   * accumulate from nonzero over the calls. Every third row is made
   * right, so the count of right answers is no accident. */
  static const int shapes[][2] = { { 300, 10 }, { 257, 3 }, { 2000, 10 }, { 1, 7 } };   /* B, n */
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    for (int loss = 0; loss < 2; loss++)
      {
        const char *name = loss ? "mse_loss" : "xent_loss";
        LossFunc cpu_fn = loss ? cpu->ops->mse_loss : cpu->ops->xent_loss;
        LossFunc gpu_fn = loss ? gpu->ops->mse_loss : gpu->ops->xent_loss;
        int B = shapes[k][0], n = shapes[k][1];
        gsize N = (gsize) B * n;
        g_autofree float *p = randv (N, 390 + k, loss ? -0.5 : -3, loss ? 1.5 : 3), *d = g_new (float, N);
        g_autofree gint32 *lab = g_new (gint32, B);
        for (int b = 0; b < B; b++)
          {
            lab[b] = (b * 5 + (int) k) % n;
            if (b % 3 == 0)
              p[(gsize) b * n + lab[b]] += 10;   /* over every other value */
          }
        float st[2] = { 1.5f, 2.0f };
        float *dP = dev_up (p, N), *dST = dev_up (st, 2);
        gint32 *dLAB = dev_up_bytes (lab, B * sizeof (gint32));
        for (int m = 0; m < 3; m++)   /* scale 1, scale 0.5, no gradient */
          {
            float scale = m == 1 ? 0.5f : 1.0f;
            float *dD = dev_nan (N);
            cpu_fn (cpu, m == 2 ? NULL : d, st, p, lab, B, n, scale);
            gpu_fn (gpu, m == 2 ? NULL : dD, dST, dP, dLAB, B, n, scale);
            g_autofree char *what_d = g_strdup_printf ("%s dpred (scale %g)", name, scale);
            g_autofree char *what_l = g_strdup_printf ("%s stats loss%s", name, m == 2 ? " (no gradient)" : "");
            if (m < 2)
              EXPECT_CLOSE (what_d, d, dD, N, loss ? 1e-12 : 1e-10);
            /* the loss sum: the CPU sums in double, the GPU in a float tree */
            EXPECT_CLOSE (what_l, st, dST, 1, 1e-10);
            /* the count is a count */
            g_autofree float *got = down (dST, 2);
            g_test_message ("%s stats correct: %g, %g", name, st[1], got[1]);
            g_assert_cmpfloat (got[1], ==, st[1]);
          }
        g_assert_cmpfloat (st[1], >=, 2.0f + 3 * ((B + 2) / 3));   /* the planted rows count, each call */
        dev_free_all ();
      }
}

/* Optimizers: several steps in a row from the same start, every flag
 * combination at n = 4099 (17 blocks, the last nearly idle), then all
 * flags on at n = 70001 (274 blocks, over 65535 elements). */
#define OPT_STEPS 4

static void
test_optim_sgd (void)
{
  if (!need_gpu ())
    return;
  for (int c = 0; c < 9; c++)
    {
      gsize n = c < 8 ? 4099 : 70001;
      int f = c < 8 ? c : 7;
      float mom = f & 1 ? 0.9f : 0.0f, wd = f & 2 ? 0.01f : 0.0f;
      gboolean nesterov = (f & 4) != 0;   /* without momentum: ignored */
      g_autofree float *w = randv (n, 400 + c, -1, 1), *vel = g_new0 (float, n);
      /* as LamOptimizer: no velocity buffer without momentum */
      float *dW = dev_up (w, n), *dV = mom != 0 ? dev_up (vel, n) : NULL;
      for (int t = 1; t <= OPT_STEPS; t++)
        {
          g_autofree float *g = randv (n, 410 + 10 * c + t, -1, 1);
          float *dG = dev_up (g, n);
          cpu->ops->sgd_step (cpu, w, g, dV ? vel : NULL, n, 0.1f, mom, wd, nesterov);
          gpu->ops->sgd_step (gpu, dW, dG, dV, n, 0.1f, mom, wd, nesterov);
          g_autofree char *what = g_strdup_printf ("sgd (n %" G_GSIZE_FORMAT ", momentum %g%s, wd %g) step %d",
                                                   n, mom, nesterov ? ", nesterov" : "", wd, t);
          EXPECT_CLOSE (what, w, dW, n, 1e-12);
          if (dV)
            EXPECT_CLOSE ("sgd velocity", vel, dV, n, 1e-12);
        }
      dev_free_all ();
    }
}

static void
test_optim_adam (void)
{
  if (!need_gpu ())
    return;
  for (int c = 0; c < 5; c++)
    {
      gsize n = c < 4 ? 4099 : 70001;
      int f = c < 4 ? c : 3;
      float wd = f & 1 ? 0.05f : 0.0f;
      gboolean decoupled = (f & 2) != 0;   /* AdamW */
      g_autofree float *w = randv (n, 500 + c, -1, 1), *m = g_new0 (float, n), *v = g_new0 (float, n);
      float *dW = dev_up (w, n), *dM = dev_up (m, n), *dV = dev_up (v, n);
      for (int t = 1; t <= OPT_STEPS; t++)   /* t drives the bias correction */
        {
          g_autofree float *g = randv (n, 510 + 10 * c + t, -1, 1);
          if (t == 1)   /* zero first gradients: m̂ = v̂ = 0, the step is 0 / eps */
            for (gsize i = 0; i < n; i += 97)
              g[i] = 0;
          float *dG = dev_up (g, n);
          cpu->ops->adam_step (cpu, w, g, m, v, n, 0.01f, 0.9f, 0.999f, 1e-8f, wd, decoupled, t);
          gpu->ops->adam_step (gpu, dW, dG, dM, dV, n, 0.01f, 0.9f, 0.999f, 1e-8f, wd, decoupled, t);
          g_autofree char *what = g_strdup_printf ("%s (n %" G_GSIZE_FORMAT ", wd %g) step %d",
                                                   decoupled ? "adamw" : "adam", n, wd, t);
          EXPECT_CLOSE (what, w, dW, n, 1e-12);
          EXPECT_CLOSE ("adam m", m, dM, n, 1e-12);
          EXPECT_CLOSE ("adam v", v, dV, n, 1e-12);
        }
      dev_free_all ();
    }
}

/* Step graphs (kernels/cuda/lam-cuda-graph.cu): a run that records its
 * step once and replays it must be the same run, bit for bit, as one
 * that launches op by op; a recording that fails must cost nothing but
 * the graphs. */

/* An IDX pair of n random 8×8 images in 3 classes, written to dir. */
static LamDataset *
tiny_images_sized (const char *dir, int n, guint8 side)
{
  g_autofree char *ip = g_build_filename (dir, "tiny-images.idx", NULL);
  g_autofree char *lp = g_build_filename (dir, "tiny-labels.idx", NULL);
  g_autoptr(GByteArray) im = g_byte_array_new (), lb = g_byte_array_new ();
  guint8 ih[16] = { 0, 0, 8, 3, n >> 24, n >> 16, n >> 8, n, 0, 0, 0, side, 0, 0, 0, side };
  guint8 lh[8] = { 0, 0, 8, 1, n >> 24, n >> 16, n >> 8, n };
  g_byte_array_append (im, ih, sizeof ih);
  g_byte_array_append (lb, lh, sizeof lh);
  LamRng rng;
  lam_rng_init (&rng, 77, 0);
  for (int i = 0; i < n; i++)
    {
      guint8 label = (guint8) (lam_rng_next (&rng) % 3), px[28 * 28];
      g_assert_cmpint (side, <=, 28);
      for (int j = 0; j < side * side; j++)   /* a class-dependent stripe, and noise */
        px[j] = (guint8) ((j % 8 == 2 * label + 1 ? 160 : 0) + lam_rng_next (&rng) % 90);
      g_byte_array_append (im, px, side * side);
      g_byte_array_append (lb, &label, 1);
    }
  g_autoptr(GError) error = NULL;
  g_assert_true (g_file_set_contents (ip, (char *) im->data, im->len, &error));
  g_assert_true (g_file_set_contents (lp, (char *) lb->data, lb->len, &error));
  LamDataset *ds = lam_dataset_load_idx (ip, lp, &error);
  g_assert_no_error (error);
  g_unlink (ip);
  g_unlink (lp);
  return ds;
}

static LamDataset *
tiny_images (const char *dir, int n)
{
  return tiny_images_sized (dir, n, 8);
}

/* conv -> ReLU -> max pool -> dropout -> dense -> BatchNorm -> ReLU ->
 * dense -> softmax cross-entropy: every dynamic value (batch indices,
 * dropout seed, learning rate and Adam's step) changes every step. */
static const char tiny_cnn_json[] =
  "{\"format\": \"lamina-model\", \"version\": 1, \"name\": \"tiny\", \"nodes\": ["
  "{\"name\": \"input\", \"type\": \"Input\", \"params\": {\"channels\": 1, \"height\": 8, \"width\": 8}, \"inputs\": []},"
  "{\"name\": \"conv\", \"type\": \"Conv2D\", \"params\": {\"filters\": 4, \"kernel\": 3, \"stride\": 1, \"padding\": 1, \"bias\": true}, \"inputs\": [\"input\"]},"
  "{\"name\": \"relu\", \"type\": \"ReLU\", \"params\": {}, \"inputs\": [\"conv\"]},"
  "{\"name\": \"pool\", \"type\": \"MaxPool2D\", \"params\": {\"kernel\": 2, \"stride\": 2, \"padding\": 0}, \"inputs\": [\"relu\"]},"
  "{\"name\": \"drop\", \"type\": \"Dropout\", \"params\": {\"rate\": 0.25}, \"inputs\": [\"pool\"]},"
  "{\"name\": \"flat\", \"type\": \"Flatten\", \"params\": {}, \"inputs\": [\"drop\"]},"
  "{\"name\": \"fc\", \"type\": \"Dense\", \"params\": {\"units\": 12, \"bias\": true}, \"inputs\": [\"flat\"]},"
  "{\"name\": \"bn\", \"type\": \"BatchNorm\", \"params\": {}, \"inputs\": [\"fc\"]},"
  "{\"name\": \"relu2\", \"type\": \"ReLU\", \"params\": {}, \"inputs\": [\"bn\"]},"
  "{\"name\": \"out\", \"type\": \"Dense\", \"params\": {\"units\": 3, \"bias\": true}, \"inputs\": [\"relu2\"]},"
  "{\"name\": \"loss\", \"type\": \"SoftmaxCrossEntropy\", \"params\": {}, \"inputs\": [\"out\"]}]}";

typedef struct {
  GArray  *losses;     /* batch losses, then each epoch's validation loss */
  float   *params;
  gsize    n_params;
  char    *status;     /* graph_status at the end, its graphs' part */
  char    *dnn;        /* its cuDNN part ("" without): how many shapes cuDNN ran, each
                        * way; for tiny_cnn_json's one shape, which way it ran */
  guint64  replays;
} GraphRun;

static void
graph_run_clear (GraphRun *r)
{
  g_array_unref (r->losses);
  g_free (r->params);
  g_free (r->status);
  g_free (r->dnn);
}

/* Trains g on s with the CUDA backend, with env "NAME=VALUE" set. The weights are reset (a new recording) after
 * reset_at steps, when above 0. */
static GraphRun
graph_run (const LamGraph *g, LamTrainConfig *c, const LamDataSplits *s, const char *env, int reset_at)
{
  g_autoptr(GError) error = NULL;
  g_auto (GStrv) kv = g_strsplit (env, "=", 2);
  g_setenv (kv[0], kv[1], TRUE);
  LamTrainer *t = lam_trainer_new (g, c, s, &error);
  g_assert_no_error (error);
  LamBackend *be = lam_trainer_backend (t);
  g_assert_cmpstr (be->name, ==, "cuda");
  g_assert_nonnull (be->ops->step_begin);

  GraphRun r = { g_array_new (FALSE, FALSE, sizeof (double)), NULL, 0, NULL, NULL, 0 };
  for (int i = 0; !lam_trainer_done (t); i++)
    {
      if (i == reset_at)
        lam_trainer_reset_weights (t, 5);
      LamMetrics m;
      g_assert_true (lam_trainer_step (t, &m, &error));
      g_assert_no_error (error);
      g_array_append_val (r.losses, m.batch_loss);
      if (m.epoch_end)
        g_array_append_val (r.losses, m.val_loss);
    }
  LamNet *net = lam_trainer_net (t);
  r.n_params = lam_net_n_params (net);
  r.params = g_new (float, r.n_params);
  lam_net_read_params (net, r.params);
  r.status = be->ops->graph_status (be, &r.replays);
  g_test_message ("%s: %s", env, r.status);
  /* the copy the window shows, taken after the last step */
  g_autofree char *shown = lam_trainer_dup_graph_status (t);
  g_assert_cmpstr (shown, ==, r.status);
  /* the graphs' part: how convolutions ran ("; cuDNN …") is the conv tests' business */
  char *dnn = strstr (r.status, "; cuDNN ");
  r.dnn = g_strdup (dnn != NULL ? dnn : "");
  if (dnn != NULL)
    *dnn = '\0';
  lam_trainer_free (t);
  g_unsetenv (kv[0]);
  return r;
}

/* The same run, bit for bit, where both ran each convolution the same
 * way. On a GPU, cuDNN or im2col is chosen per shape by timing them
 * (LAMINA_CUDNN unset): two runs may choose apart, and then their
 * sums come in another order, so the same run within rounding. */
static void
assert_same_run (const GraphRun *a, const GraphRun *b)
{
  g_assert_cmpuint (a->losses->len, ==, b->losses->len);
  g_assert_cmpuint (a->n_params, ==, b->n_params);
  if (g_strcmp0 (a->dnn, b->dnn) != 0)
    {
      g_test_message ("the runs ran convolutions apart (%s, then %s): compared within rounding", a->dnn, b->dnn);
      for (guint i = 0; i < a->losses->len; i++)
        {
          double x = g_array_index (a->losses, double, i), y = g_array_index (b->losses, double, i);
          g_assert_cmpfloat_with_epsilon (x, y, 1e-3 * (1 + fabs (x)));
        }
      g_assert_cmpfloat (nmse (a->params, b->params, a->n_params), <, 1e-6);
      return;
    }
  for (guint i = 0; i < a->losses->len; i++)
    {
      double x = g_array_index (a->losses, double, i), y = g_array_index (b->losses, double, i);
      if (memcmp (&x, &y, sizeof x) != 0)
        g_error ("loss %u differs: %.17g op by op, %.17g with graphs", i, x, y);
    }
  g_assert_cmpmem (a->params, a->n_params * sizeof (float), b->params, b->n_params * sizeof (float));
}

/* The tiny CNN, set for CUDA with batch 8, and 64 training and 16
 * validation images for it. */
static LamModelFile *
tiny_setup (LamDataSplits *s)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lamina-graphs-XXXXXX", &error);
  g_assert_no_error (error);
  g_autoptr(LamDataset) all = tiny_images (dir, 80);
  g_rmdir (dir);
  s->train = lam_dataset_slice (all, 0, 64);
  s->val = lam_dataset_slice (all, 64, 16);
  s->test = NULL;
  LamModelFile *m = lam_model_file_parse (tiny_cnn_json, -1, "tiny", &error);
  g_assert_no_error (error);
  g_assert_true (lam_graph_validate (m->graph, &error));
  g_free (m->config.backend);
  m->config.backend = g_strdup ("cuda");
  m->config.batch = 8;
  return m;
}

static gboolean
on_emulator (void)
{
  return strstr (gpu->description, "emulator") != NULL;
}

static void
test_graphs_train (void)
{
  if (!need_gpu ())
    return;
  g_auto (LamDataSplits) s = { 0 };
  g_autoptr(LamModelFile) m = tiny_setup (&s);
  LamTrainConfig *c = &m->config;
  c->epochs = 2;
  c->seed = 3;
  c->opt.kind = LAM_OPT_ADAM;
  c->opt.lr = 0.01f;
  c->opt.schedule = LAM_SCHED_COSINE;   /* the learning rate changes every step */

  /* 5 steps, then the weights reset (a new key: recorded anew), which
   * starts the 16 steps of the 2 epochs again */
  GraphRun eager = graph_run (m->graph, c, &s, "LAMINA_CUDA_GRAPHS=0", 5);
  g_assert_nonnull (strstr (eager.status, "off (LAMINA_CUDA_GRAPHS=0)"));
  g_assert_cmpuint (eager.replays, ==, 0);

  GraphRun graphed = graph_run (m->graph, c, &s, "LAMINA_CUDA_GRAPHS=1", 5);
  assert_same_run (&eager, &graphed);
  /* per key: one step op by op, one recorded (and launched), the rest replayed */
  g_assert_cmpuint (graphed.replays, ==, (5 - 2) + (16 - 2));
  g_assert_true (g_str_has_prefix (graphed.status, "CUDA graphs: on, 17 steps replayed, "));
  g_assert_true (g_str_has_suffix (graphed.status, " GPU operations a step"));

  /* SGD with momentum and Nesterov: the other optimizer kernel */
  c->opt.kind = LAM_OPT_SGD;
  c->opt.nesterov = TRUE;
  c->opt.schedule = LAM_SCHED_STEP;
  GraphRun sgd_eager = graph_run (m->graph, c, &s, "LAMINA_CUDA_GRAPHS=0", -1);
  GraphRun sgd_graphed = graph_run (m->graph, c, &s, "LAMINA_CUDA_GRAPHS=1", -1);
  assert_same_run (&sgd_eager, &sgd_graphed);
  g_assert_cmpuint (sgd_graphed.replays, ==, 16 - 2);

  if (on_emulator ())
    {
      /* A recording that fails: the step runs again op by op, and the
       * run goes on without graphs, saying why. */
      GraphRun failed = graph_run (m->graph, c, &s, "EMU_CAPTURE_FAIL=1", -1);
      assert_same_run (&sgd_eager, &failed);
      g_assert_cmpuint (failed.replays, ==, 0);
      g_assert_cmpstr (failed.status, ==, "CUDA graphs: off (recording the step failed: "
                       "operation failed due to a previous error during capture)");
      graph_run_clear (&failed);
    }
  else
    g_test_message ("a failing recording is tested on the emulator only");

  graph_run_clear (&eager);
  graph_run_clear (&graphed);
  graph_run_clear (&sgd_eager);
  graph_run_clear (&sgd_graphed);
}

/* What a recorded step costs the GPU: its operations (the graph's nodes:
 * kernels, GEMMs, copies), for the MLP and LeNet-5 at the benchmark's
 * batch of 64. Fusions undone show here. Before them (the loss's
 * gradient taken again in the backward; the ReLU's mask, the bias
 * gradient and the convolution's gather apart) the steps had 23 and 45.
 * The counts are the emulator's: on a GPU, cuBLAS may add nodes of its
 * own (a split-K reduction). */
static void
test_graphs_nodes (void)
{
  if (!need_gpu ())
    return;
  static const struct { const char *preset; const char *nodes; } cases[] = {
    { "mlp", ", 18 GPU operations a step" },
    { "lenet5", ", 35 GPU operations a step" },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lamina-nodes-XXXXXX", &error);
  g_assert_no_error (error);
  g_autoptr(LamDataset) all = tiny_images_sized (dir, 192, 28);
  g_rmdir (dir);
  g_auto (LamDataSplits) s = { 0 };
  s.train = lam_dataset_slice (all, 0, 192);   /* 3 steps: op by op, recorded, replayed */
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(LamModelFile) m = lam_model_file_load_preset (cases[k].preset, &error);
      g_assert_no_error (error);
      g_free (m->config.backend);
      m->config.backend = g_strdup ("cuda");
      m->config.batch = 64;
      m->config.epochs = 1;
      GraphRun r = graph_run (m->graph, &m->config, &s, "LAMINA_CUDA_GRAPHS=1", -1);
      g_test_message ("%s at a batch of 64: %s", cases[k].preset, r.status);
      g_assert_true (g_str_has_prefix (r.status, "CUDA graphs: on, 1 step replayed, "));
      g_assert_cmpuint (r.replays, ==, 1);
      /* (with cuDNN, its convolutions are a node each, and the count another) */
      if (on_emulator () && g_getenv ("LAMINA_CUDNN_LIBRARY") == NULL)
        g_assert_true (g_str_has_suffix (r.status, cases[k].nodes));
      graph_run_clear (&r);
    }
}

/* Sets name back to value, or unsets it where value is NULL */
static void
restore_env (const char *name, const char *value)
{
  if (value != NULL)
    g_setenv (name, value, TRUE);
  else
    g_unsetenv (name);
}

/* The window's way: the worker thread trains while another thread takes
 * copies (weights, one sample's activations) between two steps, as the
 * views do. The run must be the one trained alone, op by op. */
static void
test_graphs_threaded (void)
{
  if (!need_gpu ())
    return;
  g_autoptr(GError) error = NULL;
  g_auto (LamDataSplits) s = { 0 };
  g_autoptr(LamModelFile) m = tiny_setup (&s);
  LamTrainConfig *c = &m->config;
  /* long enough that copies come while it trains: on a GPU a step of
   * this net takes a few microseconds */
  c->epochs = on_emulator () ? 3 : 200;
  c->seed = 4;
  c->opt.kind = LAM_OPT_ADAM;
  c->opt.lr = 0.01f;
  /* the same run, bit for bit: im2col only, unless told (on a GPU, two
   * runs that measure cuDNN against im2col may choose apart) */
  g_autofree char *dnn_mode = g_strdup (g_getenv ("LAMINA_CUDNN"));
  if (dnn_mode == NULL)
    g_setenv ("LAMINA_CUDNN", "0", TRUE);

  GraphRun alone = graph_run (m->graph, c, &s, "LAMINA_CUDA_GRAPHS=0", -1);

  LamTrainer *t = lam_trainer_new (m->graph, c, &s, &error);
  g_assert_no_error (error);
  LamNet *net = lam_trainer_net (t);
  const char *name = lam_net_tensor (net, 0)->name;
  /* The views work on a mirror with a stream of its own: during a hold
   * the worker goes on replaying its steps, and the hold's copies stay
   * those of one step (here the first, the initial weights). */
  {
    const LamTensorInfo *ti = lam_net_tensor (net, 0);
    g_autofree float *p0 = g_new (float, lam_net_n_params (net));
    lam_net_read_params (net, p0);
    int held = lam_trainer_views_hold (t), ndim, shape[4];
    g_assert_cmpint (held, ==, 0);
    g_assert_true (lam_trainer_views_mirrored (t));
    lam_trainer_start (t);
    g_autofree float *a = lam_trainer_copy_tensor (t, name, &ndim, shape);
    g_assert_nonnull (a);
    g_assert_cmpmem (a, ti->n * sizeof (float), p0 + ti->offset, ti->n * sizeof (float));
    gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
    while (lam_trainer_step_count (t) < held + 2 && lam_trainer_state (t) == LAM_TRAINER_RUNNING &&
           g_get_monotonic_time () < end)
      g_usleep (1000);
    g_assert_cmpint (lam_trainer_step_count (t), >=, held + 2);
    float **acts = lam_trainer_activations (t, s.val, 0, &error);
    g_assert_no_error (error);
    lam_trainer_free_activations (t, acts);
    g_autofree float *b = lam_trainer_copy_tensor (t, name, &ndim, shape);
    g_assert_cmpmem (a, lam_net_tensor (net, 0)->n * sizeof (float), b, lam_net_tensor (net, 0)->n * sizeof (float));
    lam_trainer_views_release (t);
  }
  int copies = 0;
  while (lam_trainer_state (t) != LAM_TRAINER_FINISHED)
    {
      g_assert_cmpint (lam_trainer_state (t), !=, LAM_TRAINER_FAILED);
      int ndim, shape[4];
      g_free (lam_trainer_copy_tensor (t, name, &ndim, shape));
      float **acts = lam_trainer_activations (t, s.val, copies % s.val->n, &error);
      g_assert_no_error (error);
      lam_trainer_free_activations (t, acts);
      copies++;
      /* the window asks 10 times a second; back to back, copies would
       * keep the worker waiting (it lets them in before each step) */
      g_usleep (5000);
    }
  LamBackend *be = lam_trainer_backend (t);
  guint64 replays = 0;
  g_autofree char *status = be->ops->graph_status (be, &replays);
  g_test_message ("%d copies while training; %s", copies, status);
  g_assert_cmpuint (replays, ==, c->epochs * 8 - 2);
  g_assert_cmpint (copies, >, 0);
  g_autofree float *params = g_new (float, alone.n_params);
  g_assert_cmpuint (lam_net_n_params (net), ==, alone.n_params);
  lam_net_read_params (net, params);
  g_assert_cmpmem (params, alone.n_params * sizeof (float), alone.params, alone.n_params * sizeof (float));
  lam_trainer_free (t);
  graph_run_clear (&alone);
  restore_env ("LAMINA_CUDNN", dnn_mode);
}

/* Scratch memory that grows between two steps (a larger batch outside
 * the step) moves: the recorded step, which holds its old address, must
 * be dropped and recorded anew. */
static void
test_graphs_scratch (void)
{
  if (!need_gpu ())
    return;
  g_autoptr(GError) error = NULL;
  LamBackend *be = lam_backend_new ("cuda", 1, NULL, &error);   /* its own recording */
  g_assert_no_error (error);
  /* im2col's scratch, which grows with the batch (cuDNN's workspace may not) */
  g_autofree char *dnn_mode = g_strdup (g_getenv ("LAMINA_CUDNN"));
  g_setenv ("LAMINA_CUDNN", "0", TRUE);
  const LamConvShape s = { 2, 1, 6, 6, 3, 6, 6, 3, 1, 1 }, big = { 8, 1, 6, 6, 3, 6, 6, 3, 1, 1 };
  gsize nx = 8 * 36, ny = 8 * 3 * 36, nw = 27;
  g_autofree float *w = randv (nw, 61, -1, 1), *b = randv (3, 62, -1, 1), *ref = g_new (float, ny);
  g_autofree float *got = g_new (float, ny);
  float *dX = be->ops->alloc (be, nx * 4), *dW = be->ops->alloc (be, nw * 4), *dB = be->ops->alloc (be, 12);
  float *dY = be->ops->alloc (be, ny * 4);
  be->ops->upload (be, dW, w, nw * 4);
  be->ops->upload (be, dB, b, 12);
  guint64 replays = 0;
  for (int round = 0; round < 2; round++)
    {
      g_autofree float *x = randv (nx, 63 + round, -1, 1);
      be->ops->upload (be, dX, x, nx * 4);
      cpu->ops->conv2d_forward (cpu, &s, ref, x, w, b, FALSE);
      /* op by op, recorded, replayed */
      for (int step = 0; step < 3; step++)
        {
          be->ops->step_begin (be, 1);
          be->ops->zero (be, dY, ny * 4);
          be->ops->conv2d_forward (be, &s, dY, dX, dW, dB, FALSE);
          g_assert_true (be->ops->step_end (be));
          be->ops->download (be, got, dY, 2 * 3 * 36 * 4);
          g_assert_cmpfloat (nmse (ref, got, 2 * 3 * 36), <, 1e-10);
        }
      g_free (be->ops->graph_status (be, &replays));
      g_assert_cmpuint (replays, ==, round + 1);
      /* a batch of 8 outside the step: the scratch grows, and moves */
      be->ops->conv2d_forward (be, &big, dY, dX, dW, dB, FALSE);
    }
  restore_env ("LAMINA_CUDNN", dnn_mode);
  g_autoptr(GError) status = NULL;
  g_assert_true (be->ops->status (be, &status));
  for (float *p[] = { dX, dW, dB, dY }, **q = p; q < p + 4; q++)
    be->ops->free (be, *q);
  lam_backend_free (be);
}

/* A regression sequence set: the targets are gathered too (gather_rows),
 * through an LSTM's many small ops. */
static void
test_graphs_sequence (void)
{
  if (!need_gpu ())
    return;
  g_autoptr(GError) error = NULL;
  static const char json[] =
    "{\"format\": \"lamina-model\", \"version\": 1, \"name\": \"adding\", \"nodes\": ["
    "{\"name\": \"input\", \"type\": \"Input\", \"params\": {\"channels\": 1, \"height\": 6, \"width\": 2}, \"inputs\": []},"
    "{\"name\": \"seq\", \"type\": \"ImageToSequence\", \"params\": {}, \"inputs\": [\"input\"]},"
    "{\"name\": \"lstm\", \"type\": \"LSTM\", \"params\": {\"units\": 8, \"return_sequences\": false, \"bidirectional\": true}, \"inputs\": [\"seq\"]},"
    "{\"name\": \"out\", \"type\": \"Dense\", \"params\": {\"units\": 1, \"bias\": true}, \"inputs\": [\"lstm\"]},"
    "{\"name\": \"loss\", \"type\": \"MSE\", \"params\": {}, \"inputs\": [\"out\"]}],"
    "\"data\": {\"name\": \"adding\", \"length\": 6, \"n_samples\": 48}}";
  g_autoptr(LamModelFile) m = lam_model_file_parse (json, -1, "adding", &error);
  g_assert_no_error (error);
  LamTrainConfig *c = &m->config;
  g_free (c->backend);
  c->backend = g_strdup ("cuda");
  c->batch = 8;
  c->epochs = 1;
  c->opt.kind = LAM_OPT_ADAMW;
  c->opt.weight_decay = 0.01f;
  g_auto (LamDataSplits) s = { 0 };
  g_assert_true (lam_data_open (&c->data, 1, &s, &error));
  g_assert_no_error (error);
  g_assert_nonnull (s.train->targets);

  GraphRun eager = graph_run (m->graph, c, &s, "LAMINA_CUDA_GRAPHS=0", -1);
  GraphRun graphed = graph_run (m->graph, c, &s, "LAMINA_CUDA_GRAPHS=1", -1);
  assert_same_run (&eager, &graphed);
  int steps = s.train->n / 8;
  g_assert_cmpint (steps, >=, 4);
  g_assert_cmpuint (graphed.replays, ==, (guint64) steps - 2);
  graph_run_clear (&eager);
  graph_run_clear (&graphed);
}

/* Out of device memory, at every allocation in turn */

typedef enum { OOM_CREATE, OOM_STEP, OOM_VIEW, OOM_FALLBACK, OOM_NONE } OomOutcome;

/* The emulator's switch: the next n allocations succeed, the rest fail
 * (n < 0: none fails) */
typedef void (*FailAfterFunc) (long n);

/* A run of the tiny CNN whose allocations fail from the n-th on: what
 * happened, and the message. */
static OomOutcome
oom_run (const LamGraph *g, LamTrainConfig *c, const LamDataSplits *s, const char *backend, int n,
         FailAfterFunc fail_after, char **message)
{
  g_autoptr(GError) error = NULL;
  g_free (c->backend);
  c->backend = g_strdup (backend);
  fail_after (n);
  OomOutcome outcome = OOM_NONE;
  LamTrainer *t = lam_trainer_new (g, c, s, &error);
  if (t == NULL)
    {
      *message = g_strdup (error->message);
      outcome = OOM_CREATE;
      goto done;
    }
  if (strcmp (lam_trainer_backend (t)->name, "cpu") == 0)
    {
      *message = g_strdup (lam_trainer_backend_note (t));
      outcome = OOM_FALLBACK;
    }
  while (!lam_trainer_done (t))
    {
      LamMetrics m;
      if (!lam_trainer_step (t, &m, &error))
        {
          *message = g_strdup (error->message);
          outcome = OOM_STEP;
          goto done;
        }
    }
  /* a view's copies: the activations of one sample */
  float **acts = lam_trainer_activations (t, s->val, 0, &error);
  if (acts == NULL)
    {
      *message = g_strdup (error->message);
      outcome = OOM_VIEW;
      goto done;
    }
  lam_trainer_free_activations (t, acts);

done:
  lam_trainer_free (t);
  fail_after (-1);
  return outcome;
}

/* What a user may read when the GPU's memory runs out: where, and how much. */
#define OOM_MESSAGE "^out of GPU memory: [0-9.]+.(bytes|kB|MB|GB) more were needed for " \
  "(the network at a batch of [0-9]+(; try a smaller batch)?|the network's weights|the dataset tiny-images.idx|" \
  "the optimizer's state|a layer's working memory|a layer's buffers \\([A-Za-z]+\\))$"
/* The backend itself could not start (its pinned host memory) */
#define NO_BACKEND "could not allocate pinned host memory for the CUDA backend"

static void
test_out_of_memory (void)
{
  if (!need_gpu ())
    return;
  if (!on_emulator ())
    {
      g_test_skip ("needs the CUDA emulator, which can run out of memory on demand");
      return;
    }
  if (g_strcmp0 (g_getenv ("EMU_RACECHECK"), "1") == 0)
    {
      /* host code, the same whatever order the kernels' threads run in */
      g_test_skip ("run by test-cuda-emu, without the race check");
      return;
    }
  /* the module the backends load: the emulator's switch for failing allocations */
  GModule *module = g_module_open (g_getenv ("LAMINA_CUDA_MODULE"), G_MODULE_BIND_LAZY);
  FailAfterFunc fail_after = NULL;
  g_assert_nonnull (module);
  g_assert_true (g_module_symbol (module, "emu_fail_allocations_after", (gpointer *) &fail_after));
  g_auto (LamDataSplits) s = { 0 };
  g_autoptr(LamModelFile) m = tiny_setup (&s);
  LamTrainConfig *c = &m->config;
  c->epochs = 1;
  c->opt.kind = LAM_OPT_ADAM;
  /* two steps are enough: every allocation happens in the first */
  LamDataset *train = s.train;
  s.train = lam_dataset_slice (train, 0, 16);
  lam_dataset_unref (train);
  /* Each allocation in turn is the first to fail, from creating the
   * backend to a view's copy of the activations after the run, until a
   * run needs no more than were allowed. Whatever fails must say so:
   * "cuda" with the message, "auto" by training on the CPU when the
   * network or the training set does not fit, and never a crash, a
   * warning or a leak (ASan). */
  int seen[OOM_NONE + 1] = { 0 }, seen_auto[OOM_NONE + 1] = { 0 }, n;
  for (n = 0; n < 1000; n++)
    {
      g_autofree char *cuda_msg = NULL, *auto_msg = NULL;
      OomOutcome cuda = oom_run (m->graph, c, &s, "cuda", n, fail_after, &cuda_msg);
      /* once the trainer exists, "auto" runs the very same code as "cuda":
       * checked at the first such allocation and at the end */
      gboolean check_auto = cuda == OOM_CREATE || cuda == OOM_NONE || seen[OOM_STEP] == 0;
      OomOutcome autob = check_auto ? oom_run (m->graph, c, &s, "auto", n, fail_after, &auto_msg) : cuda;
      if (!check_auto)
        auto_msg = g_strdup (cuda_msg);
      g_test_message ("first failing allocation %d: cuda %d (%s), auto %d (%s)", n, cuda, cuda_msg, autob, auto_msg);
      seen[cuda]++;
      seen_auto[autob]++;
      if (cuda == OOM_NONE)
        {
          g_assert_null (cuda_msg);
          g_assert_cmpint (autob, ==, OOM_NONE);
          break;
        }
      g_assert_cmpint (cuda, !=, OOM_FALLBACK);
      if (cuda == OOM_CREATE && g_str_has_suffix (cuda_msg, NO_BACKEND))
        g_assert_cmpstr (cuda_msg, ==, "CUDA backend unavailable: " NO_BACKEND);
      else if (!g_regex_match_simple (OOM_MESSAGE, cuda_msg, 0, 0))
        g_error ("allocation %d, backend cuda: unexpected message \"%s\"", n, cuda_msg);
      /* "auto" never fails to start; it fails where "cuda" did, or trains on the CPU */
      if (cuda == OOM_CREATE)
        {
          g_assert_cmpint (autob, ==, OOM_FALLBACK);
          g_assert_cmpstr (auto_msg, ==, g_str_has_prefix (cuda_msg, "CUDA backend unavailable: ")
                                         ? cuda_msg + strlen ("CUDA backend unavailable: ") : cuda_msg);
        }
      else
        {
          g_assert_cmpint (autob, ==, cuda);
          g_assert_cmpstr (auto_msg, ==, cuda_msg);
        }
    }
  g_assert_cmpint (n, <, 1000);
  g_test_message ("%d allocations; first failing at creation %d times, in a step %d, in a view %d",
                  n, seen[OOM_CREATE], seen[OOM_STEP], seen[OOM_VIEW]);
  /* every kind of place was reached: the test tests something */
  g_assert_cmpint (seen[OOM_CREATE], >, 5);
  g_assert_cmpint (seen[OOM_STEP], >, 0);
  g_assert_cmpint (seen[OOM_VIEW], >, 0);
  g_assert_cmpint (seen_auto[OOM_FALLBACK], ==, seen[OOM_CREATE]);
  g_module_close (module);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dev_bufs = g_ptr_array_new ();
  module_env = g_strdup (g_getenv ("LAMINA_CUDA_MODULE"));
  cpu = lam_backend_new_cpu (2);
  gpu = lam_backend_new ("cuda", 1, NULL, NULL);
  if (gpu != NULL)   /* names the emulator when LAMINA_CUDA_MODULE is tests/cuda-emu's */
    g_test_message ("CUDA backend: %s", gpu->description);
  else
    {
      g_autoptr(GError) error = NULL;
      LamBackend *be = lam_backend_new ("auto", 1, &gpu_why, &error);
      lam_backend_free (be);
    }
  g_test_add_func ("/backend/fallback/no-module", test_fallback_no_module);
  g_test_add_func ("/backend/fallback/not-a-module", test_fallback_not_a_module);
  g_test_add_func ("/backend/fallback/other-version", test_fallback_other_version);
  g_test_add_func ("/backend/auto", test_auto);
  g_test_add_func ("/backend/cuda/dense", test_dense);
  g_test_add_func ("/backend/cuda/conv2d", test_conv);
  g_test_add_func ("/backend/cuda/pools", test_pools);
  g_test_add_func ("/backend/cuda/conv-pool", test_conv_pool);
  g_test_add_func ("/backend/cuda/elementwise", test_elementwise);
  g_test_add_func ("/backend/cuda/batchnorm-losses", test_batchnorm_and_losses);
  g_test_add_func ("/backend/cuda/seq/gemm", test_seq_gemm);
  g_test_add_func ("/backend/cuda/seq/copy-strided", test_seq_copy_strided);
  g_test_add_func ("/backend/cuda/seq/rows", test_seq_rows);
  g_test_add_func ("/backend/cuda/seq/lstm", test_seq_lstm);
  g_test_add_func ("/backend/cuda/seq/gru", test_seq_gru);
  g_test_add_func ("/backend/cuda/seq/rnn", test_seq_rnn);
  g_test_add_func ("/backend/cuda/seq/ltc", test_seq_ltc);
  g_test_add_func ("/backend/cuda/seq/attention", test_seq_attention);
  g_test_add_func ("/backend/cuda/seq/layernorm", test_seq_layernorm);
  g_test_add_func ("/backend/cuda/seq/embedding", test_seq_embedding);
  g_test_add_func ("/backend/cuda/seq/lc2d", test_seq_lc2d);
  g_test_add_func ("/backend/cuda/memory", test_memory);
  g_test_add_func ("/backend/cuda/gather", test_gather);
  g_test_add_func ("/backend/cuda/mul-axpy", test_mul_axpy);
  g_test_add_func ("/backend/cuda/concat", test_concat);
  g_test_add_func ("/backend/cuda/gap", test_gap);
  g_test_add_func ("/backend/cuda/losses", test_losses);
  g_test_add_func ("/backend/cuda/optim/sgd", test_optim_sgd);
  g_test_add_func ("/backend/cuda/optim/adam", test_optim_adam);
  g_test_add_func ("/backend/cuda/graphs/train", test_graphs_train);
  g_test_add_func ("/backend/cuda/graphs/scratch", test_graphs_scratch);
  g_test_add_func ("/backend/cuda/graphs/nodes", test_graphs_nodes);
  g_test_add_func ("/backend/cuda/graphs/threaded", test_graphs_threaded);
  g_test_add_func ("/backend/cuda/graphs/sequence", test_graphs_sequence);
  g_test_add_func ("/backend/cuda/out-of-memory", test_out_of_memory);
  int ret = g_test_run ();
  lam_backend_free (gpu);
  lam_backend_free (cpu);
  g_ptr_array_unref (dev_bufs);
  g_free (gpu_why);
  g_free (module_env);
  return ret;
}
