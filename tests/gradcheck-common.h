/* gradcheck-common.h: the central-difference gradient checker shared by
 * test-gradcheck.c (the image and vector layers) and test-seq.c (the
 * sequence layers), and the graph-building helpers both use.
 *
 * The forward pass runs in float32, so the bookkeeping is in double:
 * parameters are rounded to multiples of 2⁻¹² and perturbed by
 * multiples of a power-of-two step, so every perturbed value is exact,
 * and the loss is recomputed in double from the logits (and checked
 * against the engine's own loss). The numerical derivative is the
 * five-point stencil (f(-2h) - 8f(-h) + 8f(h) - f(2h)) / 12h.
 *
 * A layer's input gradient is checked through the parameters of a layer
 * placed before it: their gradients are computed from it.
 *
 * Piecewise-linear layers (ReLU, LeakyReLU, MaxPool2D) have kinks; an
 * element whose perturbation moves any of them across a kink (a sign
 * or an argmax changes) falls back to the central difference at ±h,
 * then at ±h/4, and is skipped when those cross one too; at least half
 * of the elements a tensor should have had checked must remain.
 *
 * Per element, |a - n| / max(|a| + |n|, floor) < 1e-2, where floor is 5 %
 * of the largest gradient in the tensor or 1e-3 (the float32 noise);
 * and the normalised mean squared error < 1e-6. These are fixed: a
 * caller chooses only what CheckOptions lists.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "lam-backend.h"
#include "lam-graph.h"
#include "lam-net.h"

G_BEGIN_DECLS

/* Graph building: nodes are named, "from" (or NULL) is the input. */

LamNode  *add              (LamGraph     *g,
                            LamLayerKind  kind,
                            const char   *name,
                            const char   *from);
LamGraph *graph_with_input (int           c,
                            int           h,
                            int           w);
LamNode  *add_dense        (LamGraph     *g,
                            const char   *name,
                            const char   *from,
                            int           units,
                            gboolean      bias);
/* from → [Flatten "head_flatten"] → Dense "head" (n_classes) → loss "loss" */
void      add_head         (LamGraph     *g,
                            const char   *from,
                            gboolean      flatten,
                            int           n_classes,
                            LamLayerKind  loss);

/* What a caller may choose; zero (or a NULL pointer) means the default. */
typedef struct {
  double   h;          /* finite-difference step, a power of two; default 1/32.
                        * Layers with kinks want a smaller one (1/512). */
  int      max_elems;  /* elements checked per tensor, chosen at random; default 40 */
  int      vocab;      /* > 0: the inputs are token ids in [0, vocab) (Embedding);
                        * otherwise uniform in [-1, 1) */
  gboolean targets;    /* MSE against random numeric targets rather than
                        * the one-hot labels */
} CheckOptions;

typedef struct {
  LamBackend  *be;
  LamNet      *net;
  int          B;
  guint64      seed;         /* dropout seed for every forward */
  double       h;
  int          max_elems;
  int          logits_node;  /* the loss node's input */
  LamLayerKind loss_kind;
  int          n_classes;
  gboolean     targets;
  double      *ana;          /* analytic gradients, n_params */
  guint64      sig0;         /* kink signature at the unperturbed point */
  GRand       *rand;
} Check;

typedef struct {
  int    checked;
  int    skipped;   /* every difference crossed a kink */
  int    wanted;    /* MIN (n, max_elems) */
  double max_err;
  double nmse;
  gsize  worst;     /* element index of max_err */
  double worst_a, worst_n;
} TensorResult;

/* Compiles g (not taken) for batch B on a 1-thread CPU backend, with
 * the engine's parameters jittered and rounded, random inputs and
 * labels (and targets), all from seed. */
Check    *check_new      (LamGraph            *g,
                          int                  B,
                          guint64              seed,
                          const CheckOptions  *opts);
void      check_free     (Check               *c);
/* Forward and backward at the unperturbed point: fills c->ana and
 * asserts the engine's loss equals the one recomputed in double. */
void      check_backward (Check               *c);
/* Compares c->ana with numerical gradients for up to max_elems elements
 * of t; c->ana may be altered in between to test the checker. */
void      check_tensor   (Check               *c,
                          const LamTensorInfo *t,
                          TensorResult        *r);
gboolean  tensor_ok      (const TensorResult  *r);
/* Checks every trainable tensor, with a message for each; returns how
 * many fail. */
int       check_all      (Check               *c);
/* check_new, check_backward, check_all, then frees c and g (taken) and
 * asserts that no tensor failed. */
void      gradcheck_run  (LamGraph            *g,
                          int                  B,
                          guint64              seed,
                          const CheckOptions  *opts);

G_END_DECLS
