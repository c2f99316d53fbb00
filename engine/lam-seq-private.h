/* lam-seq-private.h: the layers of lam-seq*.c as lam-net.c sees them.
 *
 * LamNet keeps, for each node of these kinds, a LamSeqNode: the shapes
 * and the auxiliary buffers (backend memory) the layer needs between its
 * forward and backward pass (gates, states, attention probabilities).
 * Parameters stay in the net's blocks; forward and backward get the
 * node's tensors, in the order _lam_seq_tensors() lists them.
 *
 * Kinds: LocallyConnected2D, ImageToSequence (with more than one
 * channel; one channel is a plain alias in lam-net.c), Embedding,
 * SimpleRNN, LSTM, GRU, LTC, MultiHeadAttention, PositionalEncoding,
 * LayerNorm.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-graph.h"
#include "lam-backend.h"
#include "lam-rng.h"

G_BEGIN_DECLS

#define LAM_SEQ_MAX_TENSORS 10
#define LAM_SEQ_MAX_BUFS    24

typedef struct {
  char suffix[32];   /* "weight_ih_l0", "out_proj.weight" */
  int  ndim;
  int  shape[4];
} LamSeqTensor;

typedef struct {
  LamLayerKind   kind;
  LamLayerParams p;
  LamShape       in, out;
  int            B;
  int            T, F, H, G, S, K, dirs;   /* recurrent: steps, features, units, gates, saved, unfolds */
  int            D, heads, dh;             /* attention */
  LamConvShape   cs;                       /* LocallyConnected2D */
  float         *buf[LAM_SEQ_MAX_BUFS];    /* auxiliaries, backend memory, owned */
} LamSeqNode;

gboolean    _lam_seq_handles      (LamLayerKind kind);
/* The node learns (has trainable tensors). */
gboolean    _lam_seq_learns       (const LamNode *node);
/* The name of a backend op the node needs and the backend lacks, or NULL. */
const char *_lam_seq_missing_op   (const LamBackendOps *o, const LamNode *node);
/* The node's trainable tensors, in order; returns how many (at most
 * LAM_SEQ_MAX_TENSORS). in is the node's input shape. */
int         _lam_seq_tensors      (const LamNode *node, const LamShape *in, LamSeqTensor *out);
/* Initial values of the node's tensor ti (PyTorch's defaults where
 * PyTorch has the layer). relu_next: a ReLU-like activation follows. */
void        _lam_seq_init_tensor  (const LamNode *node, const LamShape *in, int ti,
                                   const LamSeqTensor *t, float *p, LamRng *rng, gboolean relu_next);

LamSeqNode *_lam_seq_node_new     (LamBackend *be, const LamNode *node, const LamShape *in, int B,
                                   GError **error);
void        _lam_seq_node_free    (LamBackend *be, LamSeqNode *s);

/* y = layer (x). params: the node's tensors in _lam_seq_tensors() order. */
void        _lam_seq_forward      (LamBackend *be, LamSeqNode *s, float *const *params, float *y,
                                   const float *x, gboolean train);
/* Overwrites the node's parameter gradients and dx (when not NULL) from
 * dy, after a forward of the same batch. */
void        _lam_seq_backward     (LamBackend *be, LamSeqNode *s, float *const *params,
                                   float *const *grads, float *dx, const float *dy, const float *x,
                                   const float *y);

/* MultiHeadAttention: the probabilities of the last forward,
 * [B, heads, T, T] in backend memory. */
float      *_lam_seq_attention    (LamSeqNode *s, int *heads, int *steps);

/* Internals shared by lam-seq.c (recurrent) and lam-seq-layers.c (the rest). */
gboolean    _lam_seq_is_recurrent (LamLayerKind kind);
int         _lam_seq_rnn_tensors  (const LamNode *node, const LamShape *in, LamSeqTensor *out);
void        _lam_seq_rnn_init     (const LamNode *node, const LamShape *in, int ti,
                                   const LamSeqTensor *t, float *p, LamRng *rng);
gboolean    _lam_seq_rnn_alloc    (LamBackend *be, LamSeqNode *s, GError **error);
void        _lam_seq_rnn_forward  (LamBackend *be, LamSeqNode *s, float *const *P, float *y,
                                   const float *x);
void        _lam_seq_rnn_backward (LamBackend *be, LamSeqNode *s, float *const *P, float *const *G,
                                   float *dx, const float *dy);
/* A Dense over many rows (all the steps of a batch): y[rows, out] =
 * x[rows, in] · wᵀ + b. Unlike the backend's dense ops, which split the
 * output features among threads (right for a batch of 64 vectors), the
 * backend's gemm splits the rows here, so no thread packs the whole
 * input again. Backward overwrites dw, db (may be NULL) and dx (may be
 * NULL). Needs the gemm, add_rows and sum_rows ops. */
void        _lam_seq_linear_forward  (LamBackend *be, float *y, const float *x, const float *w,
                                      const float *b, int rows, int in, int out);
void        _lam_seq_linear_backward (LamBackend *be, float *dx, float *dw, float *db, const float *dy,
                                      const float *x, const float *w, int rows, int in, int out);

/* Allocates s->buf[i] of n floats (zeroed); FALSE with an error when out of memory. */
gboolean    _lam_seq_buf          (LamBackend *be, LamSeqNode *s, int i, gsize n, GError **error);

G_END_DECLS
