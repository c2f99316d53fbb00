/* lam-seq-data.h: what the sequence views need, from a trainer.
 *
 * No GTK: like lam-view-data.h, these run on any thread and return plain
 * host arrays for the views' setters.
 *
 * A recurrent layer's inside for one sample. The engine keeps every
 * step's gates for backpropagation, but in its LamNet's private state
 * and for the whole batch, so the views do not read them there: they
 * run the layer again on the host from a copy of its weights
 * (lam_trainer_copy_tensor: weight_ih_l0 [G·H, F], weight_hh_l0 [G·H, H],
 * bias_ih_l0, bias_hh_l0, in PyTorch's gate order, LSTM i, f, g, o and
 * GRU r, z, n; LTC weight_ih, weight_hh, bias, log_tau, A) and the
 * layer's input from lam_trainer_activations. That gives every step's
 * hidden state (the engine only outputs the last one unless the layer
 * has return_sequences), the LSTM cell and the gates, and the last
 * states are checked against the engine's own output (max_error).
 *
 * Cost, measured on the 2-core build machine (CPU backend): for the
 * lstm preset (28 steps, 128 units) the recomputation takes about
 * 1.3 ms, next to about 0.3 ms for the trainer's activations of one
 * sample and the tensor copies.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-trainer.h"

G_BEGIN_DECLS

typedef struct {
  char         *node;       /* the recurrent node's name */
  LamLayerKind  kind;       /* SimpleRNN, LSTM, GRU or LTC */
  int           T, F;       /* steps, input features */
  int           H;          /* units per direction */
  int           dirs;       /* 2 when bidirectional: outputs are dirs·H wide */
  int           n_gates;    /* LSTM 4 (i, f, g, o), GRU 3 (r, z, n), else 0 */
  float        *input;      /* [T, F] the layer's input */
  float        *states;     /* [T, dirs·H] h after each step, in time order (the
                             * backward direction's h at t has read steps T-1..t) */
  float        *cells;      /* LSTM: [T, dirs·H] the cell c; else NULL */
  float        *gates;      /* [n_gates, T, dirs·H]; NULL when n_gates is 0 */
  double        max_error;  /* max |recomputed − engine output|; NAN when unchecked */
} LamSeqTrace;

/* Runs a recurrent node (of a validated graph) on one input sequence x
 * [T, F]. tensors: the node's tensors in the engine's order (per
 * direction: weight_ih, weight_hh, bias_ih, bias_hh; LTC: weight_ih,
 * weight_hh, bias, log_tau, A; the reverse direction's after). NULL
 * with an error for other kinds. max_error is NAN. */
LamSeqTrace *lam_seq_trace_compute       (const LamNode *node, const float *x, int T, int F,
                                          float *const *tensors, GError **error);
/* The same for one sample of ds with a trainer's current weights. The
 * node's output from the engine (the last state, or all of them) sets
 * max_error. acts (may be NULL) receives the activations taken on the
 * way (free with lam_trainer_free_activations). The weights and the
 * activations are two copies: when the trainer's worker runs, hold it
 * between two steps meanwhile (as lam-seq-views-demo does) or a step
 * may fall between them, which max_error then shows. */
LamSeqTrace *lam_seq_trace_from_trainer  (LamTrainer *t, LamDataset *ds, int sample,
                                          const char *node, float ***acts, GError **error);
void         lam_seq_trace_free          (LamSeqTrace *tr);

/* "input gate", "forget gate", "cell candidate", "output gate" (LSTM);
 * "reset", "update", "new" (GRU); NULL-terminated, static; NULL for
 * other kinds. */
const char *const *lam_seq_gate_names    (LamLayerKind kind);
/* TRUE for the gates that are tanh (−1..1): LSTM's cell candidate and
 * GRU's new state; the others are sigmoids (0..1). */
gboolean     lam_seq_gate_is_signed      (LamLayerKind kind, int gate);

/* The first recurrent (SimpleRNN, LSTM, GRU, LTC) or MultiHeadAttention
 * node in topological order, or NULL. */
const LamNode *lam_seq_view_recurrent_node (const LamGraph *g);
const LamNode *lam_seq_view_attention_node (const LamGraph *g);
/* TRUE when node's steps are the rows of the input image (Fashion-MNIST
 * read row by row: an ImageToSequence node, and as many steps as rows). */
gboolean     lam_seq_view_steps_are_rows (const LamGraph *g, const LamNode *node);
/* A character model: an Input of token ids followed by an Embedding. */
gboolean     lam_seq_view_is_text_model  (const LamGraph *g);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamSeqTrace, lam_seq_trace_free)

G_END_DECLS
