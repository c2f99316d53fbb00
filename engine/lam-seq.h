/* lam-seq.h: what the sequence layers add to LamNet, and text generation
 * from a character model.
 *
 * Sequences are per-sample shapes of rank 2, {steps, features} ("28×28"
 * for Fashion-MNIST read row by row). The layers themselves
 * (ImageToSequence, Embedding, SimpleRNN, LSTM, GRU, LTC,
 * MultiHeadAttention, PositionalEncoding, LayerNorm, LocallyConnected2D)
 * are ordinary layer kinds of lam-graph.h; docs/model-format.md
 * describes them and their tensors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-types.h"
#include "lam-net.h"
#include "lam-trainer.h"

G_BEGIN_DECLS

/* With numeric targets, a sample counts as correct when every output is
 * within this of its target (the adding problem's usual criterion). */
#define LAM_TARGET_TOLERANCE 0.04f

/* Numeric targets [B, n] in backend memory, n the size of the MSE loss's
 * input; NULL when the loss is not MSE. Whoever fills the batch
 * (lam_net_input, lam_net_labels) fills these for a regression dataset
 * (LamDataset.targets, with the backend's gather_rows) and turns them
 * on; the MSE loss then compares with them instead of one-hot labels. */
float   *lam_net_targets         (LamNet *net);
/* FALSE when the net has no targets (its loss is not MSE) or the backend
 * lacks mse_loss_targets. */
gboolean lam_net_set_use_targets (LamNet *net, gboolean use);

/* The attention probabilities a MultiHeadAttention node computed in the
 * last forward: [batch, heads, steps, steps] floats in backend memory
 * (download them with the backend's download op, between steps), row
 * q holding how much step q took from each step. NULL for other nodes.
 * For one sample of a trainer's network, use lam_seq_attention_for_sample. */
float   *lam_net_attention       (LamNet *net, int node, int *heads, int *steps);

/* The attention of node for one sample of ds, as a newly allocated host
 * array [heads, steps, steps] (g_free), computed in evaluation mode on a
 * private batch-1 copy of the trainer's network with the trainer's
 * current weights. */
float   *lam_seq_attention_for_sample (LamTrainer *t, LamDataset *ds, int sample, const char *node,
                                       int *heads, int *steps, GError **error);

/* Text from a character model: a network whose Input takes T token ids
 * (an Embedding after it) and whose loss scores the next character over
 * vocab (the dataset's class_names, one character each, as the "text"
 * dataset makes them). Starts from prompt (characters missing from the
 * vocabulary are skipped; an empty prompt starts from a space, or the
 * first character), then appends n_chars characters, each drawn from
 * softmax (logits / temperature) with a generator seeded by seed;
 * temperature 0 takes the most likely character. The window holds the
 * last T characters, padded on the left with the first one of the
 * prompt. Runs in evaluation mode on row 0 of the net's batch (the
 * other rows are zero). Returns the prompt and the new text, or NULL
 * with an error when the net is not a character model of vocab. */
char    *lam_seq_generate_text   (LamNet *net, const char *const *vocab, const char *prompt,
                                  int n_chars, float temperature, guint64 seed, GError **error);
/* The same with a trainer's current weights, on a private batch-1 CPU
 * copy of its network (the trainer may keep training meanwhile: the
 * weights are copied tensor by tensor between its steps). */
char    *lam_seq_generate_text_from_trainer (LamTrainer *t, const char *const *vocab,
                                             const char *prompt, int n_chars, float temperature,
                                             guint64 seed, GError **error);

G_END_DECLS
