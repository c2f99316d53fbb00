/* sgemm_peak: OpenBLAS single-precision GEMM throughput, the practical
 * ceiling for Lamina's CPU backend.
 *
 *   cc -O2 -pthread bench/sgemm_peak.c -lopenblas -o /tmp/sgemm_peak
 *   /tmp/sgemm_peak [N] [REPS]       (defaults 2048 and 5)
 *
 * Times C = A*B with N x N x N sgemm at 1 and 2 threads
 * (openblas_set_num_threads), one untimed warm-up call each, best of REPS.
 * Prints the OpenBLAS config line, then one line per thread count:
 *   threads=T gflops=G
 * and, where the CPU has AVX-512, the FMA peak of a register-resident
 * loop of 512-bit FMAs (what Lamina's own kernels can reach; OpenBLAS's
 * kernel for the core type in use may run narrower vectors):
 *   fma512 threads=T gflops=G
 */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FMA_ITERS 20000000L

/* 12 independent chains of 512-bit FMAs: 12 x 16 x 2 flops per iteration */
__attribute__ ((target ("avx512f"))) static void *
fma512_loop (void *out)
{
  __m512 a[12];
  __m512 m = _mm512_set1_ps (0.999999f), c = _mm512_set1_ps (1e-7f);
  for (int i = 0; i < 12; i++)
    a[i] = _mm512_set1_ps ((float) i);
  for (long it = 0; it < FMA_ITERS; it++)
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++)
      a[i] = _mm512_fmadd_ps (a[i], m, c);
  float s = 0;
  for (int i = 0; i < 12; i++)
    s += _mm512_reduce_add_ps (a[i]);
  *(float *) out = s;
  return NULL;
}

static void
fma512_peak (void)
{
  __builtin_cpu_init ();
  if (!__builtin_cpu_supports ("avx512f"))
    return;
  for (int t = 1; t <= 2; t++)
    {
      pthread_t th[2];
      float sink[2];
      double best = 1e30;
      for (int r = 0; r < 3; r++)
        {
          double t0 = now ();
          for (int i = 0; i < t; i++)
            pthread_create (&th[i], NULL, fma512_loop, &sink[i]);
          for (int i = 0; i < t; i++)
            pthread_join (th[i], NULL);
          double dt = now () - t0;
          if (dt < best)
            best = dt;
        }
      printf ("fma512 threads=%d gflops=%.1f\n", t, t * FMA_ITERS * 12.0 * 16 * 2 / best / 1e9);
    }
}
#else
static void
fma512_peak (void)
{
}
#endif

int
main (int argc, char **argv)
{
  int n = argc > 1 ? atoi (argv[1]) : 2048;
  int reps = argc > 2 ? atoi (argv[2]) : 5;
  if (n <= 0 || reps <= 0)
    {
      fprintf (stderr, "usage: %s [N] [REPS]\n", argv[0]);
      return 2;
    }
  size_t nn = (size_t) n * n;
  float *a = malloc (nn * sizeof *a), *b = malloc (nn * sizeof *b), *c = malloc (nn * sizeof *c);
  if (!a || !b || !c)
    {
      fprintf (stderr, "out of memory\n");
      return 1;
    }
  for (size_t i = 0; i < nn; i++)
    {
      a[i] = (float) ((i * 7 % 13) - 6) / 13.0f;
      b[i] = (float) ((i * 5 % 11) - 5) / 11.0f;
      c[i] = 0;
    }
  printf ("config: %s\n", openblas_get_config ());
  double flops = 2.0 * n * (double) n * n;
  for (int t = 1; t <= 2; t++)
    {
      openblas_set_num_threads (t);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
      double best = 1e30;
      for (int r = 0; r < reps; r++)
        {
          double t0 = now ();
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
          double dt = now () - t0;
          if (dt < best)
            best = dt;
        }
      printf ("threads=%d gflops=%.1f\n", t, flops / best / 1e9);
    }
  free (a);
  free (b);
  free (c);
  fma512_peak ();
  return 0;
}
