/* lam-cpu-gemm-small.c: GEMMs with a tiny output dimension, where
 * OpenBLAS spends more time packing than computing: a first convolution
 * with a handful of filters over one input channel (LeNet-5's conv1:
 * 6 filters × 25 taps over thousands of pixels). Plain C with vector
 * types; an AVX2/FMA clone is picked at load time where the CPU has it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-cpu"

#include "config.h"

#include <string.h>

#include "lam-cpu.h"

typedef float v8 __attribute__ ((vector_size (32), aligned (4)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LAM_CLONES __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define LAM_CLONES
#endif

/* y[o·ld + p] = Σ_k w[o·K + k] · col[k·ld + p] for p < L (overwrites y) */
LAM_CLONES void
_lam_cpu_gemm_small_nn (int OC, int K, gsize L, const float *w, const float *col, gsize ld, float *y)
{
  gsize p = 0;
  for (; p + 16 <= L; p += 16)
    for (int o0 = 0; o0 < OC; o0 += 6)
      {
        int no = MIN (OC - o0, 6);
        v8 acc[6][2];
        memset (acc, 0, sizeof acc);
        for (int k = 0; k < K; k++)
          {
            v8 a = *(const v8 *) (col + (gsize) k * ld + p);
            v8 b = *(const v8 *) (col + (gsize) k * ld + p + 8);
            for (int o = 0; o < 6; o++)
              if (o < no)
                {
                  float s = w[(o0 + o) * K + k];
                  acc[o][0] += s * a;
                  acc[o][1] += s * b;
                }
          }
        for (int o = 0; o < no; o++)
          {
            *(v8 *) (y + (gsize) (o0 + o) * ld + p) = acc[o][0];
            *(v8 *) (y + (gsize) (o0 + o) * ld + p + 8) = acc[o][1];
          }
      }
  for (; p < L; p++)
    for (int o = 0; o < OC; o++)
      {
        float t = 0;
        for (int k = 0; k < K; k++)
          t += w[o * K + k] * col[(gsize) k * ld + p];
        y[(gsize) o * ld + p] = t;
      }
}

/* dw[o·K + k] += Σ_p dy[o·ld + p] · col[k·ld + p] for p < L */
LAM_CLONES void
_lam_cpu_gemm_small_nt (int OC, int K, gsize L, const float *dy, const float *col, gsize ld, float *dw)
{
  for (int k = 0; k < K; k += 2)
    {
      int two = k + 1 < K;
      const float *c0 = col + (gsize) k * ld, *c1 = col + (gsize) (k + two) * ld;
      for (int o0 = 0; o0 < OC; o0 += 6)
        {
          int no = MIN (OC - o0, 6);
          v8 acc[6][2];
          gsize p = 0;
          memset (acc, 0, sizeof acc);
          for (; p + 8 <= L; p += 8)
            {
              v8 a = *(const v8 *) (c0 + p), b = *(const v8 *) (c1 + p);
              for (int o = 0; o < 6; o++)
                if (o < no)
                  {
                    v8 d = *(const v8 *) (dy + (gsize) (o0 + o) * ld + p);
                    acc[o][0] += d * a;
                    acc[o][1] += d * b;
                  }
            }
          for (int o = 0; o < no; o++)
            for (int j = 0; j <= two; j++)
              {
                const float *c = j ? c1 : c0;
                const float *d = dy + (gsize) (o0 + o) * ld;
                float t = 0;
                for (int i = 0; i < 8; i++)
                  t += acc[o][j][i];
                for (gsize q = p; q < L; q++)
                  t += d[q] * c[q];
                dw[(o0 + o) * K + k + j] += t;
              }
        }
    }
}
