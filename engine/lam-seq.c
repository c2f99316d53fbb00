/* lam-seq.c: recurrent layers (SimpleRNN, LSTM, GRU, LTC) over a
 * sequence, forward and backpropagation through time, on backend ops.
 *
 * Layout. The layer's input is [B, T, F] and its output [B, T, dirs·H]
 * (return_sequences) or [B, dirs·H]. Inside, each direction works in
 * processing order, time-major: step s of the backward direction is
 * time T-1-s, so both directions run the same loop over contiguous
 * [B, ·] slices. Per direction:
 *
 *   xin  [T, B, F]        the input in processing order
 *   xp   [T, B, G·H]      W_ih·x + b_ih for all steps: one big GEMM;
 *                         overwritten by its gradient in backward
 *   hs   [T·K + 1, B, H]  the states, slot 0 = the zero initial state,
 *                         slot (s+1)·K = after step s (K: LTC unfolds)
 *   cs   [T + 1, B, H]    LSTM cells, likewise
 *   sv   [T·K, B, S·H]    what each cell keeps for backward (gates)
 *   dhh  [T·K, B, G·H]    GRU: the recurrent-side gradients; LTC with
 *                         K > 1: every unfold's pre-activation gradient
 *
 * Per step, forward is one GEMM (W_hh·h + b_hh) and one cell op; backward
 * one cell op and one GEMM (dh = dpre·W_hh). The weight gradients are
 * then one GEMM each over all steps: dW_hh = dpre_allᵀ · h_prev_all,
 * dW_ih = dxpᵀ · xin (llm.c's "forward, then backward reversed by hand").
 *
 * Tensors per direction, in PyTorch's names and layouts (nn.RNN, nn.LSTM,
 * nn.GRU with num_layers=1), so weights move between the two as they
 * are: weight_ih_l0 [G·H, F], weight_hh_l0 [G·H, H], bias_ih_l0 [G·H],
 * bias_hh_l0 [G·H]; the backward direction adds "_reverse". Gates:
 * LSTM i, f, g, o; GRU r, z, n. LTC (not in PyTorch): weight_ih [H, F],
 * weight_hh [H, H], bias [H], log_tau [H] (τ = exp(log_tau)), A [H].
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-seq"

#include "config.h"

#include <math.h>
#include <string.h>

#include "lam-seq-private.h"

/* Buffers: per direction d, index + d; shared ones after. */
enum {
  XIN = 0,   XP = 2,   HS = 4,   CS = 6,   SV = 8,   DHH = 10,
  HH = 12,   DH_A,     DH_B,     DC_A,     DC_B,     DHS,      DXIN,     DXTMP,
  N_RNN_BUFS
};
G_STATIC_ASSERT (N_RNN_BUFS <= LAM_SEQ_MAX_BUFS);

gboolean
_lam_seq_is_recurrent (LamLayerKind kind)
{
  return kind == LAM_LAYER_SIMPLE_RNN || kind == LAM_LAYER_LSTM || kind == LAM_LAYER_GRU ||
         kind == LAM_LAYER_LTC;
}

static int
n_gates (LamLayerKind kind)
{
  return kind == LAM_LAYER_LSTM ? 4 : kind == LAM_LAYER_GRU ? 3 : 1;
}

/* Tensors per direction */
static int
per_dir (LamLayerKind kind)
{
  return kind == LAM_LAYER_LTC ? 5 : 4;
}

int
_lam_seq_rnn_tensors (const LamNode *node, const LamShape *in, LamSeqTensor *out)
{
  int H = node->p.units, F = in->d[1], GH = n_gates (node->kind) * H, n = 0;
  int dirs = node->p.bidirectional ? 2 : 1;
  for (int d = 0; d < dirs; d++)
    {
      const char *rev = d ? "_reverse" : "";
      if (node->kind == LAM_LAYER_LTC)
        {
          static const char *const names[] = { "weight_ih", "weight_hh", "bias", "log_tau", "A" };
          for (int i = 0; i < 5; i++)
            {
              LamSeqTensor *t = &out[n++];
              g_snprintf (t->suffix, sizeof t->suffix, "%s%s", names[i], rev);
              t->ndim = i < 2 ? 2 : 1;
              t->shape[0] = H;
              t->shape[1] = i == 0 ? F : H;
            }
          continue;
        }
      static const char *const names[] = { "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0" };
      for (int i = 0; i < 4; i++)
        {
          LamSeqTensor *t = &out[n++];
          g_snprintf (t->suffix, sizeof t->suffix, "%s%s", names[i], rev);
          t->ndim = i < 2 ? 2 : 1;
          t->shape[0] = GH;
          t->shape[1] = i == 0 ? F : H;
        }
    }
  return n;
}

/* PyTorch: every weight and bias uniform in ±1/√H. LTC: the input
 * weights Xavier, the recurrent ones ±1/√H, bias 0, A uniform in ±1
 * (each neuron's "reversal potential", both signs), and time constants
 * spread log-uniformly from 1 to 50 time steps, so that some neurons
 * follow each row and others remember the whole image (with τ = 1 for
 * all, the rows before the last few fade and Fashion-MNIST read row by
 * row learns half as fast). */
#define LTC_TAU_MAX 50.0
void
_lam_seq_rnn_init (const LamNode *node, const LamShape *in, int ti, const LamSeqTensor *t, float *p,
                   LamRng *rng)
{
  gsize n = 1;
  for (int i = 0; i < t->ndim; i++)
    n *= t->shape[i];
  double bound = 1.0 / sqrt ((double) node->p.units);
  if (node->kind == LAM_LAYER_LTC)
    {
      int which = ti % 5;
      if (which == 0)
        bound = sqrt (6.0 / (in->d[1] + node->p.units));
      else if (which == 2)
        bound = 0;
      else if (which == 3)
        {
          for (gsize i = 0; i < n; i++)
            p[i] = (float) (lam_rng_uniform (rng) * log (LTC_TAU_MAX));
          return;
        }
      else if (which == 4)
        bound = 1.0;
    }
  for (gsize i = 0; i < n; i++)
    p[i] = (float) ((2.0 * lam_rng_uniform (rng) - 1.0) * bound);
}

gboolean
_lam_seq_rnn_alloc (LamBackend *be, LamSeqNode *s, GError **error)
{
  s->T = s->in.d[0];
  s->F = s->in.d[1];
  s->H = s->p.units;
  s->G = n_gates (s->kind);
  s->K = s->kind == LAM_LAYER_LTC ? s->p.ode_steps : 1;
  s->S = s->kind == LAM_LAYER_LSTM || s->kind == LAM_LAYER_GRU ? 4 : s->kind == LAM_LAYER_LTC ? 1 : 0;
  s->dirs = s->p.bidirectional ? 2 : 1;

  gsize B = s->B, T = s->T, F = s->F, H = s->H, GH = (gsize) s->G * H, K = s->K;
  for (int d = 0; d < s->dirs; d++)
    {
      if (!_lam_seq_buf (be, s, XIN + d, T * B * F, error) ||
          !_lam_seq_buf (be, s, XP + d, T * B * GH, error) ||
          !_lam_seq_buf (be, s, HS + d, (T * K + 1) * B * H, error) ||
          (s->kind == LAM_LAYER_LSTM && !_lam_seq_buf (be, s, CS + d, (T + 1) * B * H, error)) ||
          (s->S > 0 && !_lam_seq_buf (be, s, SV + d, T * K * B * s->S * H, error)) ||
          (s->kind == LAM_LAYER_GRU && !_lam_seq_buf (be, s, DHH + d, T * B * GH, error)) ||
          (s->kind == LAM_LAYER_LTC && K > 1 && !_lam_seq_buf (be, s, DHH + d, T * K * B * H, error)))
        return FALSE;
    }
  return _lam_seq_buf (be, s, HH, B * GH, error) &&
         _lam_seq_buf (be, s, DH_A, B * H, error) &&
         _lam_seq_buf (be, s, DH_B, B * H, error) &&
         (s->kind != LAM_LAYER_LSTM || (_lam_seq_buf (be, s, DC_A, B * H, error) &&
                                        _lam_seq_buf (be, s, DC_B, B * H, error))) &&
         _lam_seq_buf (be, s, DHS, T * B * H, error) &&
         _lam_seq_buf (be, s, DXIN, T * B * F, error) &&
         (s->dirs == 1 || _lam_seq_buf (be, s, DXTMP, B * T * F, error));
}

/* [B, T, F] → [T, B, F] in processing order (reversed in time for the
 * backward direction), and back. */
static void
to_processing_order (LamBackend *be, float *dst, const float *src, int B, int T, int F, gboolean rev)
{
  const int n[4] = { B, T, 1, F };
  const gssize ds[3] = { F, (gssize) B * F, 0 };
  const gssize ss[3] = { (gssize) T * F, rev ? -F : F, 0 };
  be->ops->copy_strided (be, dst, rev ? src + (gsize) (T - 1) * F : src, n, ds, ss);
}

static void
from_processing_order (LamBackend *be, float *dst, const float *src, int B, int T, int F, gboolean rev)
{
  const int n[4] = { B, T, 1, F };
  const gssize ds[3] = { (gssize) T * F, rev ? -F : F, 0 };
  const gssize ss[3] = { F, (gssize) B * F, 0 };
  be->ops->copy_strided (be, rev ? dst + (gsize) (T - 1) * F : dst, src, n, ds, ss);
}

/* The states the layer outputs, from hs into y, or (backward) the
 * output's gradient from dy into dhs [T, B, H]. */
static void
scatter_output (LamBackend *be, LamSeqNode *s, int d, float *y, const float *hs)
{
  int B = s->B, T = s->T, H = s->H, K = s->K, HD = H * s->dirs;
  gsize BH = (gsize) B * H;
  gboolean rev = d == 1;
  if (s->p.return_sequences)
    {
      const int n[4] = { B, T, 1, H };
      const gssize ds[3] = { (gssize) T * HD, rev ? -HD : HD, 0 };
      const gssize ss[3] = { H, (gssize) (K * BH), 0 };
      be->ops->copy_strided (be, y + d * H + (rev ? (gsize) (T - 1) * HD : 0), hs + K * BH, n, ds, ss);
    }
  else
    {
      const int n[4] = { B, 1, 1, H };
      const gssize ds[3] = { HD, 0, 0 }, ss[3] = { H, 0, 0 };
      be->ops->copy_strided (be, y + d * H, hs + (gsize) T * K * BH, n, ds, ss);
    }
}

static void
gather_output_grad (LamBackend *be, LamSeqNode *s, int d, float *dhs, const float *dy)
{
  int B = s->B, T = s->T, H = s->H, HD = H * s->dirs;
  gboolean rev = d == 1;
  if (s->p.return_sequences)
    {
      const int n[4] = { B, T, 1, H };
      const gssize ds[3] = { H, (gssize) B * H, 0 };
      const gssize ss[3] = { (gssize) T * HD, rev ? -HD : HD, 0 };
      be->ops->copy_strided (be, dhs, dy + d * H + (rev ? (gsize) (T - 1) * HD : 0), n, ds, ss);
    }
  else
    {
      /* only the last step has a gradient from the output */
      const int n[4] = { B, 1, 1, H };
      const gssize ds[3] = { H, 0, 0 }, ss[3] = { HD, 0, 0 };
      be->ops->copy_strided (be, dhs + (gsize) (T - 1) * B * H, dy + d * H, n, ds, ss);
    }
}

void
_lam_seq_rnn_forward (LamBackend *be, LamSeqNode *s, float *const *P, float *y, const float *x)
{
  const LamBackendOps *o = be->ops;
  int B = s->B, T = s->T, F = s->F, H = s->H, K = s->K, GH = s->G * H;
  gsize BH = (gsize) B * H, BGH = (gsize) B * GH;
  float dt = 1.0f / K;

  for (int d = 0; d < s->dirs; d++)
    {
      float *const *W = P + d * per_dir (s->kind);
      float *xin = s->buf[XIN + d], *xp = s->buf[XP + d], *hs = s->buf[HS + d];
      float *cs = s->buf[CS + d], *sv = s->buf[SV + d], *hh = s->buf[HH];

      to_processing_order (be, xin, x, B, T, F, d == 1);
      _lam_seq_linear_forward (be, xp, xin, W[0], W[2], T * B, F, GH);
      for (int st = 0; st < T; st++)
        {
          const float *xps = xp + st * BGH;
          switch (s->kind)
            {
            case LAM_LAYER_LSTM:
              o->dense_forward (be, hh, hs + st * BH, W[1], W[3], B, H, GH, FALSE);
              o->lstm_cell_forward (be, hs + (st + 1) * BH, cs + (st + 1) * BH, sv + st * 4 * BH,
                                    xps, hh, cs + st * BH, B, H);
              break;
            case LAM_LAYER_GRU:
              o->dense_forward (be, hh, hs + st * BH, W[1], W[3], B, H, GH, FALSE);
              o->gru_cell_forward (be, hs + (st + 1) * BH, sv + st * 4 * BH, xps, hh, hs + st * BH, B, H);
              break;
            case LAM_LAYER_SIMPLE_RNN:
              o->dense_forward (be, hh, hs + st * BH, W[1], W[3], B, H, GH, FALSE);
              o->rnn_cell_forward (be, hs + (st + 1) * BH, xps, hh, B, H);
              break;
            case LAM_LAYER_LTC:
              for (int k = 0; k < K; k++)
                {
                  gsize j = (gsize) st * K + k;
                  o->dense_forward (be, hh, hs + j * BH, W[1], NULL, B, H, H, FALSE);
                  o->ltc_cell_forward (be, hs + (j + 1) * BH, sv + j * BH, hs + j * BH, xps, hh, W[4], W[3],
                                       dt, B, H);
                }
              break;
            default:
              g_assert_not_reached ();
            }
        }
      scatter_output (be, s, d, y, hs);
    }
}

void
_lam_seq_rnn_backward (LamBackend *be, LamSeqNode *s, float *const *P, float *const *G, float *dx,
                       const float *dy)
{
  const LamBackendOps *o = be->ops;
  int B = s->B, T = s->T, F = s->F, H = s->H, K = s->K, GH = s->G * H;
  gsize BH = (gsize) B * H, BGH = (gsize) B * GH;
  float dt = 1.0f / K;
  float *dhs = s->buf[DHS];

  for (int d = 0; d < s->dirs; d++)
    {
      float *const *W = P + d * per_dir (s->kind);
      float *const *dW = G + d * per_dir (s->kind);
      float *xin = s->buf[XIN + d], *xp = s->buf[XP + d], *hs = s->buf[HS + d];
      float *cs = s->buf[CS + d], *sv = s->buf[SV + d], *dhh = s->buf[DHH + d];
      float *dh_rec = NULL, *dc_next = NULL;
      /* the pre-activation gradients of every step and unfold, beside the
       * states they multiply in dW_hh */
      float *dpre_all = s->kind == LAM_LAYER_GRU || (s->kind == LAM_LAYER_LTC && K > 1) ? dhh : xp;

      gather_output_grad (be, s, d, dhs, dy);
      if (s->kind == LAM_LAYER_LTC)
        {
          o->zero (be, dW[3], (gsize) H * sizeof (float));
          o->zero (be, dW[4], (gsize) H * sizeof (float));
        }
      for (int st = T - 1; st >= 0; st--)
        {
          const float *dh = s->p.return_sequences || st == T - 1 ? dhs + st * BH : NULL;
          float *dps = xp + st * BGH;   /* dxp of this step, over its forward value */
          switch (s->kind)
            {
            case LAM_LAYER_LSTM:
              {
                float *dc_prev = dc_next == s->buf[DC_A] ? s->buf[DC_B] : s->buf[DC_A];
                o->lstm_cell_backward (be, dps, dc_prev, dh, dh_rec, dc_next, sv + st * 4 * BH,
                                       cs + (st + 1) * BH, cs + st * BH, B, H);
                dc_next = dc_prev;
                if (st > 0)
                  {
                    o->gemm (be, FALSE, FALSE, B, H, GH, 1.0f, dps, GH, W[1], H, 0.0f, s->buf[DH_A], H);
                    dh_rec = s->buf[DH_A];
                  }
                break;
              }
            case LAM_LAYER_GRU:
              {
                float *dh_prev = dh_rec == s->buf[DH_A] ? s->buf[DH_B] : s->buf[DH_A];
                float *dhhs = dhh + st * BGH;
                o->gru_cell_backward (be, dps, dhhs, dh_prev, dh, dh_rec, sv + st * 4 * BH, hs + st * BH, B, H);
                if (st > 0)
                  {
                    o->gemm (be, FALSE, FALSE, B, H, GH, 1.0f, dhhs, GH, W[1], H, 1.0f, dh_prev, H);
                    dh_rec = dh_prev;
                  }
                break;
              }
            case LAM_LAYER_SIMPLE_RNN:
              o->rnn_cell_backward (be, dps, dh, dh_rec, hs + (st + 1) * BH, B, H);
              if (st > 0)
                {
                  o->gemm (be, FALSE, FALSE, B, H, H, 1.0f, dps, H, W[1], H, 0.0f, s->buf[DH_A], H);
                  dh_rec = s->buf[DH_A];
                }
              break;
            case LAM_LAYER_LTC:
              for (int k = K - 1; k >= 0; k--)
                {
                  gsize j = (gsize) st * K + k;
                  float *dz = dh_rec == s->buf[DH_A] ? s->buf[DH_B] : s->buf[DH_A];
                  float *dp = K == 1 ? dps : dhh + j * BH;
                  o->ltc_cell_backward (be, dz, dp, dW[4], dW[3], k == K - 1 ? dh : NULL, dh_rec,
                                        hs + (j + 1) * BH, hs + j * BH, sv + j * BH, W[4], W[3], dt, B, H);
                  if (j > 0)
                    {
                      o->gemm (be, FALSE, FALSE, B, H, H, 1.0f, dp, H, W[1], H, 1.0f, dz, H);
                      dh_rec = dz;
                    }
                }
              if (K > 1)
                {
                  /* the input projection feeds every unfold of the step */
                  o->copy (be, dps, dhh + (gsize) st * K * BH, BH * sizeof (float));
                  for (int k = 1; k < K; k++)
                    o->axpy (be, dps, dhh + ((gsize) st * K + k) * BH, 1.0f, BH);
                }
              break;
            default:
              g_assert_not_reached ();
            }
        }
      /* dW_hh (and db_hh) over all steps: dpre_allᵀ · h_prev_all, the
       * states before each step being slots 0 .. T·K-1 */
      _lam_seq_linear_backward (be, NULL, dW[1], s->kind == LAM_LAYER_LTC ? NULL : dW[3], dpre_all, hs, W[1],
                                T * K * B, H, GH);
      /* dW_ih, db_ih and the input gradient */
      _lam_seq_linear_backward (be, dx ? s->buf[DXIN] : NULL, dW[0], dW[2], xp, xin, W[0], T * B, F, GH);
      if (dx)
        {
          if (d == 0)
            from_processing_order (be, dx, s->buf[DXIN], B, T, F, FALSE);
          else
            {
              from_processing_order (be, s->buf[DXTMP], s->buf[DXIN], B, T, F, TRUE);
              o->axpy (be, dx, s->buf[DXTMP], 1.0f, (gsize) B * T * F);
            }
        }
    }
}
