/* lam-seq-layers.c: the non-recurrent layers of lam-seq-private.h
 * (LocallyConnected2D, ImageToSequence, Embedding, MultiHeadAttention,
 * PositionalEncoding, LayerNorm) and the dispatch for all of them.
 *
 * MultiHeadAttention is PyTorch's nn.MultiheadAttention used as
 * self-attention (query = key = value = the input, batch_first): the
 * tensors are in_proj_weight [3D, D] (rows: Q, K, V), in_proj_bias [3D],
 * out_proj.weight [D, D], out_proj.bias [D]. Forward is three ops: the
 * input projection (one Dense over all B·T steps), the attention core
 * (scores, softmax, weighted sum, per batch and head), the output
 * projection; backward the same three reversed. The probabilities of
 * the last forward stay in the node for the attention view
 * (lam_net_attention in lam-seq.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-seq"

#include "config.h"

#include <math.h>
#include <string.h>

#include "lam-seq-private.h"

/* Buffers of the non-recurrent kinds */
enum { MHA_QKV, MHA_CTX, MHA_PROBS, MHA_DQKV, MHA_DCTX };
enum { PE_TABLE };
enum { LN_MEAN, LN_RSTD };

gboolean
_lam_seq_handles (LamLayerKind kind)
{
  switch (kind)
    {
    case LAM_LAYER_LOCALLY_CONNECTED2D:
    case LAM_LAYER_IMAGE_TO_SEQUENCE:
    case LAM_LAYER_EMBEDDING:
    case LAM_LAYER_SIMPLE_RNN:
    case LAM_LAYER_LSTM:
    case LAM_LAYER_GRU:
    case LAM_LAYER_LTC:
    case LAM_LAYER_MULTIHEAD_ATTENTION:
    case LAM_LAYER_POSITIONAL_ENCODING:
    case LAM_LAYER_LAYERNORM:
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
_lam_seq_learns (const LamNode *node)
{
  switch (node->kind)
    {
    case LAM_LAYER_IMAGE_TO_SEQUENCE:
      return FALSE;
    case LAM_LAYER_POSITIONAL_ENCODING:
      return node->p.learned;
    default:
      return _lam_seq_handles (node->kind);
    }
}

const char *
_lam_seq_missing_op (const LamBackendOps *o, const LamNode *node)
{
#define NEED(op) G_STMT_START { if (o->op == NULL) return #op; } G_STMT_END
  switch (node->kind)
    {
    case LAM_LAYER_LOCALLY_CONNECTED2D:
      NEED (lc2d_forward); NEED (lc2d_backward);
      break;
    case LAM_LAYER_IMAGE_TO_SEQUENCE:
      NEED (copy_strided);
      break;
    case LAM_LAYER_EMBEDDING:
      NEED (embedding_forward); NEED (embedding_backward);
      break;
    case LAM_LAYER_SIMPLE_RNN:
    case LAM_LAYER_LSTM:
    case LAM_LAYER_GRU:
    case LAM_LAYER_LTC:
      NEED (copy_strided); NEED (gemm); NEED (dense_forward); NEED (add_rows); NEED (sum_rows);
      NEED (axpy);
      if (node->kind == LAM_LAYER_LSTM)
        { NEED (lstm_cell_forward); NEED (lstm_cell_backward); }
      else if (node->kind == LAM_LAYER_GRU)
        { NEED (gru_cell_forward); NEED (gru_cell_backward); }
      else if (node->kind == LAM_LAYER_SIMPLE_RNN)
        { NEED (rnn_cell_forward); NEED (rnn_cell_backward); }
      else
        { NEED (ltc_cell_forward); NEED (ltc_cell_backward); }
      break;
    case LAM_LAYER_MULTIHEAD_ATTENTION:
      NEED (gemm); NEED (add_rows); NEED (sum_rows); NEED (attention_forward); NEED (attention_backward);
      break;
    case LAM_LAYER_POSITIONAL_ENCODING:
      NEED (add_rows); NEED (sum_rows);
      break;
    case LAM_LAYER_LAYERNORM:
      NEED (layernorm_forward); NEED (layernorm_backward);
      break;
    default:
      break;
    }
  return NULL;
#undef NEED
}

static void
tensor (LamSeqTensor *t, const char *suffix, int ndim, int d0, int d1, int d2)
{
  g_strlcpy (t->suffix, suffix, sizeof t->suffix);
  t->ndim = ndim;
  t->shape[0] = d0;
  t->shape[1] = d1;
  t->shape[2] = d2;
  t->shape[3] = 0;
}

int
_lam_seq_tensors (const LamNode *node, const LamShape *in, LamSeqTensor *out)
{
  const LamLayerParams *p = &node->p;
  const LamShape *o = &node->out_shape;
  switch (node->kind)
    {
    case LAM_LAYER_LOCALLY_CONNECTED2D:
      tensor (&out[0], "weight", 3, o->d[1] * o->d[2], p->filters, in->d[0] * p->kernel * p->kernel);
      if (!p->bias)
        return 1;
      tensor (&out[1], "bias", 3, p->filters, o->d[1], o->d[2]);
      return 2;
    case LAM_LAYER_EMBEDDING:
      tensor (&out[0], "weight", 2, p->vocab, p->dim, 0);
      return 1;
    case LAM_LAYER_MULTIHEAD_ATTENTION:
      {
        int D = in->d[1];
        tensor (&out[0], "in_proj_weight", 2, 3 * D, D, 0);
        tensor (&out[1], "in_proj_bias", 1, 3 * D, 0, 0);
        tensor (&out[2], "out_proj.weight", 2, D, D, 0);
        tensor (&out[3], "out_proj.bias", 1, D, 0, 0);
        return 4;
      }
    case LAM_LAYER_POSITIONAL_ENCODING:
      if (!p->learned)
        return 0;
      tensor (&out[0], "weight", 2, in->d[0], in->d[1], 0);
      return 1;
    case LAM_LAYER_LAYERNORM:
      {
        int n = in->rank == 2 ? in->d[1] : in->d[0];
        tensor (&out[0], "weight", 1, n, 0, 0);
        tensor (&out[1], "bias", 1, n, 0, 0);
        return 2;
      }
    default:
      if (_lam_seq_is_recurrent (node->kind))
        return _lam_seq_rnn_tensors (node, in, out);
      return 0;
    }
}

static void
fill_uniform (float *p, gsize n, double bound, LamRng *rng)
{
  for (gsize i = 0; i < n; i++)
    p[i] = (float) ((2.0 * lam_rng_uniform (rng) - 1.0) * bound);
}

void
_lam_seq_init_tensor (const LamNode *node, const LamShape *in, int ti, const LamSeqTensor *t, float *p,
                      LamRng *rng, gboolean relu_next)
{
  gsize n = 1;
  for (int i = 0; i < t->ndim; i++)
    n *= t->shape[i];

  switch (node->kind)
    {
    case LAM_LAYER_LOCALLY_CONNECTED2D:
      if (ti == 0)
        {
          /* as a Conv2D's filters: fan_in C·K·K, fan_out OC·K·K */
          double fan_in = t->shape[2], fan_out = (double) t->shape[1] * node->p.kernel * node->p.kernel;
          fill_uniform (p, n, relu_next ? sqrt (6.0 / fan_in) : sqrt (6.0 / (fan_in + fan_out)), rng);
        }
      else
        memset (p, 0, n * sizeof (float));
      break;
    case LAM_LAYER_EMBEDDING:   /* PyTorch: N(0, 1) */
      for (gsize i = 0; i < n; i++)
        p[i] = (float) lam_rng_normal (rng);
      break;
    case LAM_LAYER_MULTIHEAD_ATTENTION:
      {
        double D = in->d[1];
        if (ti == 0)        /* xavier_uniform_ over [3D, D] */
          fill_uniform (p, n, sqrt (6.0 / (D + 3 * D)), rng);
        else if (ti == 2)   /* nn.Linear's default: ±1/√fan_in */
          fill_uniform (p, n, 1.0 / sqrt (D), rng);
        else
          memset (p, 0, n * sizeof (float));
        break;
      }
    case LAM_LAYER_POSITIONAL_ENCODING:   /* small, as GPT-2's learned positions */
      for (gsize i = 0; i < n; i++)
        p[i] = (float) (0.02 * lam_rng_normal (rng));
      break;
    case LAM_LAYER_LAYERNORM:
      for (gsize i = 0; i < n; i++)
        p[i] = ti == 0 ? 1.0f : 0.0f;
      break;
    default:
      if (_lam_seq_is_recurrent (node->kind))
        _lam_seq_rnn_init (node, in, ti, t, p, rng);
      else
        memset (p, 0, n * sizeof (float));
      break;
    }
}

void
_lam_seq_linear_forward (LamBackend *be, float *y, const float *x, const float *w, const float *b,
                         int rows, int in, int out)
{
  be->ops->gemm (be, FALSE, TRUE, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  if (b)
    be->ops->add_rows (be, y, y, b, rows, out);
}

void
_lam_seq_linear_backward (LamBackend *be, float *dx, float *dw, float *db, const float *dy,
                          const float *x, const float *w, int rows, int in, int out)
{
  /* dw[out, in] = dyᵀ · x, db = sum of dy's rows, dx[rows, in] = dy · w */
  be->ops->gemm (be, TRUE, FALSE, out, in, rows, 1.0f, dy, out, x, in, 0.0f, dw, in);
  if (db)
    be->ops->sum_rows (be, db, dy, rows, out);
  if (dx)
    be->ops->gemm (be, FALSE, FALSE, rows, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
}

gboolean
_lam_seq_buf (LamBackend *be, LamSeqNode *s, int i, gsize n, GError **error)
{
  g_assert (i < LAM_SEQ_MAX_BUFS && s->buf[i] == NULL);
  s->buf[i] = be->ops->alloc (be, MAX (n, 1) * sizeof (float));
  if (s->buf[i] == NULL)
    {
      g_autofree char *what = g_strdup_printf ("a layer's buffers (%s)", lam_layer_info (s->kind)->type_name);
      lam_backend_set_out_of_memory (be, error, MAX (n, 1) * sizeof (float), what);
      return FALSE;
    }
  return TRUE;
}

/* PE[t, 2i] = sin (t / 10000^(2i/D)), PE[t, 2i+1] = cos (the same), as in
 * "Attention is all you need". */
static float *
sinusoid_table (int T, int D)
{
  float *pe = g_new (float, (gsize) T * D);
  for (int t = 0; t < T; t++)
    for (int i = 0; i < D; i++)
      {
        double angle = t / pow (10000.0, (double) (i - i % 2) / D);
        pe[(gsize) t * D + i] = (float) (i % 2 == 0 ? sin (angle) : cos (angle));
      }
  return pe;
}

LamSeqNode *
_lam_seq_node_new (LamBackend *be, const LamNode *node, const LamShape *in, int B, GError **error)
{
  LamSeqNode *s = g_new0 (LamSeqNode, 1);
  gboolean ok = TRUE;
  s->kind = node->kind;
  s->p = node->p;
  s->in = *in;
  s->out = node->out_shape;
  s->B = B;

  switch (node->kind)
    {
    case LAM_LAYER_LOCALLY_CONNECTED2D:
      s->cs = (LamConvShape) { B, in->d[0], in->d[1], in->d[2], s->out.d[0], s->out.d[1], s->out.d[2],
                               node->p.kernel, node->p.stride, node->p.padding };
      break;
    case LAM_LAYER_MULTIHEAD_ATTENTION:
      {
        gsize T = in->d[0], D = in->d[1];
        s->T = (int) T;
        s->D = (int) D;
        s->heads = node->p.heads;
        s->dh = s->D / s->heads;
        ok = _lam_seq_buf (be, s, MHA_QKV, B * T * 3 * D, error) &&
             _lam_seq_buf (be, s, MHA_CTX, B * T * D, error) &&
             _lam_seq_buf (be, s, MHA_PROBS, B * s->heads * T * T, error) &&
             _lam_seq_buf (be, s, MHA_DQKV, B * T * 3 * D, error) &&
             _lam_seq_buf (be, s, MHA_DCTX, B * T * D, error);
        break;
      }
    case LAM_LAYER_POSITIONAL_ENCODING:
      if (!node->p.learned)
        {
          g_autofree float *pe = sinusoid_table (in->d[0], in->d[1]);
          gsize n = (gsize) in->d[0] * in->d[1];
          ok = _lam_seq_buf (be, s, PE_TABLE, n, error);
          if (ok)
            be->ops->upload (be, s->buf[PE_TABLE], pe, n * sizeof (float));
        }
      break;
    case LAM_LAYER_LAYERNORM:
      {
        gsize rows = (gsize) B * (in->rank == 2 ? in->d[0] : 1);
        ok = _lam_seq_buf (be, s, LN_MEAN, rows, error) && _lam_seq_buf (be, s, LN_RSTD, rows, error);
        break;
      }
    default:
      if (_lam_seq_is_recurrent (node->kind))
        ok = _lam_seq_rnn_alloc (be, s, error);
      break;
    }
  if (!ok)
    {
      _lam_seq_node_free (be, s);
      return NULL;
    }
  return s;
}

void
_lam_seq_node_free (LamBackend *be, LamSeqNode *s)
{
  if (s == NULL)
    return;
  for (int i = 0; i < LAM_SEQ_MAX_BUFS; i++)
    if (s->buf[i])
      be->ops->free (be, s->buf[i]);
  g_free (s);
}

/* ImageToSequence with C > 1: y[b, h, c, w] = x[b, c, h, w] */
static void
image_to_sequence (LamBackend *be, const LamSeqNode *s, float *y, const float *x, gboolean back)
{
  int C = s->in.d[0], H = s->in.d[1], W = s->in.d[2];
  const int n[4] = { s->B, C, H, W };
  const gssize img[3] = { (gssize) C * H * W, (gssize) H * W, W };
  const gssize seq[3] = { (gssize) H * C * W, W, (gssize) C * W };
  if (back)   /* y is dx, x is dy */
    be->ops->copy_strided (be, y, x, n, img, seq);
  else
    be->ops->copy_strided (be, y, x, n, seq, img);
}

static void
ln_rows (const LamSeqNode *s, int *rows, int *n)
{
  *rows = s->B * (s->in.rank == 2 ? s->in.d[0] : 1);
  *n = s->in.rank == 2 ? s->in.d[1] : s->in.d[0];
}

void
_lam_seq_forward (LamBackend *be, LamSeqNode *s, float *const *P, float *y, const float *x, gboolean train)
{
  const LamBackendOps *o = be->ops;
  int B = s->B, rows, n;

  switch (s->kind)
    {
    case LAM_LAYER_LOCALLY_CONNECTED2D:
      o->lc2d_forward (be, &s->cs, y, x, P[0], s->p.bias ? P[1] : NULL);
      break;
    case LAM_LAYER_IMAGE_TO_SEQUENCE:
      image_to_sequence (be, s, y, x, FALSE);
      break;
    case LAM_LAYER_EMBEDDING:
      o->embedding_forward (be, y, x, P[0], B * s->in.d[0], s->p.vocab, s->p.dim);
      break;
    case LAM_LAYER_MULTIHEAD_ATTENTION:
      {
        int BT = B * s->T, D = s->D;
        _lam_seq_linear_forward (be, s->buf[MHA_QKV], x, P[0], P[1], BT, D, 3 * D);
        o->attention_forward (be, s->buf[MHA_CTX], s->buf[MHA_PROBS], s->buf[MHA_QKV], B, s->T,
                              s->heads, s->dh, s->p.causal);
        _lam_seq_linear_forward (be, y, s->buf[MHA_CTX], P[2], P[3], BT, D, D);
        break;
      }
    case LAM_LAYER_POSITIONAL_ENCODING:
      o->add_rows (be, y, x, s->p.learned ? P[0] : s->buf[PE_TABLE], B, s->in.d[0] * s->in.d[1]);
      break;
    case LAM_LAYER_LAYERNORM:
      ln_rows (s, &rows, &n);
      o->layernorm_forward (be, y, s->buf[LN_MEAN], s->buf[LN_RSTD], x, P[0], P[1], rows, n, s->p.eps);
      break;
    default:
      _lam_seq_rnn_forward (be, s, P, y, x);
      break;
    }
}

void
_lam_seq_backward (LamBackend *be, LamSeqNode *s, float *const *P, float *const *G, float *dx,
                   const float *dy, const float *x, const float *y)
{
  const LamBackendOps *o = be->ops;
  int B = s->B, rows, n;

  switch (s->kind)
    {
    case LAM_LAYER_LOCALLY_CONNECTED2D:
      o->lc2d_backward (be, &s->cs, dx, G[0], s->p.bias ? G[1] : NULL, dy, x, P[0]);
      break;
    case LAM_LAYER_IMAGE_TO_SEQUENCE:
      if (dx)
        image_to_sequence (be, s, dx, dy, TRUE);
      break;
    case LAM_LAYER_EMBEDDING:
      /* token ids have no gradient */
      o->embedding_backward (be, G[0], dy, x, B * s->in.d[0], s->p.vocab, s->p.dim);
      if (dx)
        o->zero (be, dx, (gsize) B * s->in.d[0] * sizeof (float));
      break;
    case LAM_LAYER_MULTIHEAD_ATTENTION:
      {
        int BT = B * s->T, D = s->D;
        _lam_seq_linear_backward (be, s->buf[MHA_DCTX], G[2], G[3], dy, s->buf[MHA_CTX], P[2], BT, D, D);
        o->attention_backward (be, s->buf[MHA_DQKV], s->buf[MHA_DCTX], s->buf[MHA_QKV], s->buf[MHA_PROBS],
                               B, s->T, s->heads, s->dh);
        _lam_seq_linear_backward (be, dx, G[0], G[1], s->buf[MHA_DQKV], x, P[0], BT, D, 3 * D);
        break;
      }
    case LAM_LAYER_POSITIONAL_ENCODING:
      n = s->in.d[0] * s->in.d[1];
      if (dx)
        o->copy (be, dx, dy, (gsize) B * n * sizeof (float));
      if (s->p.learned)
        o->sum_rows (be, G[0], dy, B, n);
      break;
    case LAM_LAYER_LAYERNORM:
      ln_rows (s, &rows, &n);
      o->layernorm_backward (be, dx, G[0], G[1], dy, x, s->buf[LN_MEAN], s->buf[LN_RSTD], P[0], rows, n);
      break;
    default:
      _lam_seq_rnn_backward (be, s, P, G, dx, dy);
      break;
    }
}

float *
_lam_seq_attention (LamSeqNode *s, int *heads, int *steps)
{
  if (s == NULL || s->kind != LAM_LAYER_MULTIHEAD_ATTENTION)
    return NULL;
  if (heads)
    *heads = s->heads;
  if (steps)
    *steps = s->T;
  return s->buf[MHA_PROBS];
}
