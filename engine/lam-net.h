/* lam-net.h: a validated graph compiled for one backend and batch size.
 *
 * Parameters live in one backend block, gradients in a second block
 * with the same layout (llm.c), so an optimizer is one flat loop.
 * Non-trainable state (BatchNorm running statistics) lives in a third.
 * Activations are planned for the batch size; change it by making a new
 * net that shares the parameters (lam_net_new_shared).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-types.h"
#include "lam-graph.h"
#include "lam-backend.h"

G_BEGIN_DECLS

typedef struct {
  char    *name;        /* "conv1.weight", PyTorch state_dict style */
  int      node;        /* index in the graph */
  int      ndim;
  int      shape[4];
  gsize    offset;      /* in floats, into the params (or state) block */
  gsize    n;
  gboolean trainable;   /* FALSE: state (running_mean, running_var) */
} LamTensorInfo;

LamNet      *lam_net_new         (const LamGraph *graph, LamBackend *be, int batch,
                                  GError **error);
/* A second net over the same parameters and state (e.g. batch 1 for views). */
LamNet      *lam_net_new_shared  (LamNet *owner, int batch, GError **error);
void         lam_net_free        (LamNet *net);

const LamGraph *lam_net_graph    (LamNet *net);   /* the net's own validated copy */
LamBackend  *lam_net_backend     (LamNet *net);
int          lam_net_batch       (LamNet *net);

/* He (ReLU family) or Xavier (tanh/sigmoid, and layers before a loss)
 * uniform initialisation from seed, as PyTorch does per layer kind;
 * biases zero, BatchNorm γ=1 β=0, running var 1. */
void         lam_net_init_params (LamNet *net, guint64 seed);

/* Tensors: trainable parameters then state, in graph order. */
guint        lam_net_n_tensors   (LamNet *net);
const LamTensorInfo *lam_net_tensor (LamNet *net, guint i);
const LamTensorInfo *lam_net_find_tensor (LamNet *net, const char *name);
gsize        lam_net_n_params    (LamNet *net);   /* trainable floats */
gsize        lam_net_n_state     (LamNet *net);
float       *lam_net_params      (LamNet *net);   /* backend memory */
float       *lam_net_grads       (LamNet *net);
float       *lam_net_state       (LamNet *net);

/* Batch input [B, sample] and labels [B] in backend memory. */
float       *lam_net_input       (LamNet *net);
gint32      *lam_net_labels      (LamNet *net);

/* Forward through the loss. train: dropout on, BatchNorm batch stats.
 * Adds the batch's loss sum and correct count to the stats. */
void         lam_net_forward     (LamNet *net, gboolean train, guint64 dropout_seed);
/* Backward from the loss: fills the gradient block. Call after a
 * training forward: it differentiates the loss that forward took, with
 * the labels or targets it had (a training forward takes the loss's
 * gradient in the same pass). */
void         lam_net_backward    (LamNet *net);

void         lam_net_stats_reset (LamNet *net);
/* Downloads (loss sum, correct count) accumulated since the reset. */
void         lam_net_stats_read  (LamNet *net, double *loss_sum, double *correct);

/* Host copies for views and tests. Node output [B, shape] of the last
 * forward; buffers must hold batch × size floats. */
gboolean     lam_net_read_output (LamNet *net, int node, float *host);
float       *lam_net_output_ptr  (LamNet *net, int node);   /* backend memory */
/* d(mean loss)/d(node output) after a backward, in backend memory; NULL for
 * the Input, for nodes that need no gradient, for a Dense/Conv2D run as
 * one op with the ReLU after it (ask the ReLU node instead), and for a
 * Conv2D (and its ReLU) run as one op with the MaxPool2D after it (on
 * CUDA). Nets made with lam_net_new_shared never fuse. */
float       *lam_net_grad_ptr    (LamNet *net, int node);
void         lam_net_read_params (LamNet *net, float *host);    /* n_params floats */
void         lam_net_write_params(LamNet *net, const float *host);
void         lam_net_read_state  (LamNet *net, float *host);
void         lam_net_write_state (LamNet *net, const float *host);
void         lam_net_read_grads  (LamNet *net, float *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamNet, lam_net_free)

G_END_DECLS
