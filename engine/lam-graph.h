/* lam-graph.h: a network as a directed acyclic graph of layer nodes.
 *
 * The graph is plain data that the editor changes and the model file
 * stores. lam_graph_validate() infers each node's output shape,
 * parameter count and FLOPs, and marks invalid nodes with a message
 * that names the node and the problem. LamNet compiles a valid graph
 * for training.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-types.h"

G_BEGIN_DECLS

typedef enum {
  LAM_LAYER_INPUT,
  LAM_LAYER_DENSE,
  LAM_LAYER_CONV2D,
  LAM_LAYER_MAXPOOL2D,
  LAM_LAYER_AVGPOOL2D,
  LAM_LAYER_GLOBALAVGPOOL,
  LAM_LAYER_FLATTEN,
  LAM_LAYER_RELU,
  LAM_LAYER_LEAKYRELU,
  LAM_LAYER_TANH,
  LAM_LAYER_SIGMOID,
  LAM_LAYER_GELU,
  LAM_LAYER_SOFTMAX,
  LAM_LAYER_DROPOUT,
  LAM_LAYER_BATCHNORM,
  LAM_LAYER_ADD,
  LAM_LAYER_CONCAT,
  LAM_LAYER_SOFTMAX_XENT,   /* loss: softmax cross-entropy over logits */
  LAM_LAYER_MSE,            /* loss: mean squared error against one-hot or targets */
  /* Appended after the losses so that existing kind numbers stay. */
  LAM_LAYER_LOCALLY_CONNECTED2D, /* Conv2D with unshared weights per position */
  LAM_LAYER_IMAGE_TO_SEQUENCE,   /* C×H×W → H steps of C·W values */
  LAM_LAYER_EMBEDDING,           /* token ids [T] → [T, dim] */
  LAM_LAYER_SIMPLE_RNN,          /* Elman: h = tanh(W x + U h + b) */
  LAM_LAYER_LSTM,
  LAM_LAYER_GRU,
  LAM_LAYER_LTC,                 /* liquid time-constant cell, fused ODE solver */
  LAM_LAYER_MULTIHEAD_ATTENTION, /* self-attention over the steps */
  LAM_LAYER_POSITIONAL_ENCODING, /* adds sinusoidal or learned positions */
  LAM_LAYER_LAYERNORM,           /* normalises each step over its features */
  LAM_N_LAYER_KINDS
} LamLayerKind;

/* Every parameter any layer kind has; each kind uses a few (see its
 * LamLayerInfo.params). Keeping one flat struct keeps JSON, the
 * inspector and validation table-driven. */
typedef struct {
  int   units;      /* Dense */
  int   filters;    /* Conv2D */
  int   kernel;     /* Conv2D, pools */
  int   stride;     /* Conv2D, pools */
  int   padding;    /* Conv2D, pools */
  int   bias;       /* Dense, Conv2D: 1 = has bias */
  int   channels;   /* Input */
  int   height;     /* Input */
  int   width;      /* Input */
  float alpha;      /* LeakyReLU negative slope */
  float rate;       /* Dropout probability */
  float eps;        /* BatchNorm */
  float momentum;   /* BatchNorm running-average momentum (PyTorch meaning) */
  int   return_sequences; /* recurrent: 1 = output every step [T, H], 0 = the last state [H] */
  int   bidirectional;    /* recurrent: 1 = a second pass backwards in time, outputs concatenated */
  int   ode_steps;        /* LTC: unfolds of the fused ODE solver per time step */
  int   heads;            /* MultiHeadAttention */
  int   causal;           /* MultiHeadAttention: 1 = a step sees only itself and earlier steps */
  int   learned;          /* PositionalEncoding: 1 = learned table, 0 = sinusoidal */
  int   vocab;            /* Embedding: number of token ids */
  int   dim;              /* Embedding: values per token */
} LamLayerParams;

typedef enum {
  LAM_PARAM_INT,
  LAM_PARAM_FLOAT,
  LAM_PARAM_BOOL,
} LamParamType;

typedef struct {
  const char  *name;     /* JSON key and inspector label key, e.g. "kernel" */
  const char  *label;    /* "Kernel size" */
  LamParamType type;
  gsize        offset;   /* into LamLayerParams */
  double       min;
  double       max;
  double       def;
  const char  *blurb;
} LamParamSpec;

typedef struct {
  LamLayerKind        kind;
  const char         *type_name;   /* "Conv2D": JSON "type" */
  const char         *group;       /* palette group: "Inputs", "Dense and Convolution", ... */
  const char         *blurb;       /* one-line tooltip */
  int                 min_inputs;
  int                 max_inputs;  /* -1: any number >= min_inputs */
  const LamParamSpec *params;
  int                 n_params;
  gboolean            is_loss;
} LamLayerInfo;

const LamLayerInfo *lam_layer_info           (LamLayerKind kind);
gboolean            lam_layer_kind_from_name (const char *type_name, LamLayerKind *kind);
void                lam_layer_params_init    (LamLayerKind kind, LamLayerParams *p);
double              lam_layer_param_get      (const LamLayerParams *p, const LamParamSpec *spec);
void                lam_layer_param_set      (LamLayerParams *p, const LamParamSpec *spec, double value);

struct _LamNode {
  char          *name;       /* unique within the graph, e.g. "conv1" */
  LamLayerKind   kind;
  LamLayerParams p;
  GPtrArray     *inputs;     /* char*: names of the input nodes, in order */
  double         x, y;       /* position in the editor */

  /* Filled by lam_graph_validate() */
  LamShape       out_shape;
  gint64         n_params;
  gint64         flops;      /* forward multiply-adds x2 per sample */
  char          *error;      /* NULL when the node is valid */
};

struct _LamGraph {
  GPtrArray *nodes;          /* LamNode*, owned; order is insertion order */
  /* Filled by lam_graph_validate() */
  gint64     total_params;
  gint64     total_flops;
};

LamGraph *lam_graph_new        (void);
LamGraph *lam_graph_copy       (const LamGraph *g);
void      lam_graph_free       (LamGraph *g);
LamNode  *lam_graph_add_node   (LamGraph *g, LamLayerKind kind, const char *name);
LamNode  *lam_graph_find       (const LamGraph *g, const char *name);
int       lam_graph_index_of   (const LamGraph *g, const char *name);
/* Node names to indices (the first node of a name), for code that looks
 * up every node's inputs: lam_graph_index_of each time is n² string
 * compares. Valid until the graph changes; lam_graph_name_lookup gives
 * a name's index in it, or -1 (for NULL too). */
GHashTable *lam_graph_name_index  (const LamGraph *g);
int         lam_graph_name_lookup (GHashTable *index, const char *name);
gboolean  lam_graph_remove_node(LamGraph *g, const char *name);
void      lam_graph_connect    (LamGraph *g, const char *from, const char *to);
char     *lam_graph_unique_name(const LamGraph *g, const char *prefix);

/* Infers shapes; returns FALSE and sets error (naming the node) when
 * the graph is invalid. Every node's ->error is set or cleared. */
gboolean  lam_graph_validate   (LamGraph *g, GError **error);

/* Topological order of node indices (inputs first). NULL with error on a cycle. */
GArray   *lam_graph_topo_order (const LamGraph *g, GError **error);

/* The parameter count of the Conv2D with the same filters, kernel and
 * bias as a LocallyConnected2D node (of a validated graph), for the
 * inspector to show beside the node's own count: the price of unshared
 * weights. -1 for other kinds or an invalid node. */
gint64    lam_graph_equivalent_conv_params (const LamGraph *g, const LamNode *node);

/* The single Input node and the single loss node, or NULL. */
LamNode  *lam_graph_input_node (const LamGraph *g);
LamNode  *lam_graph_loss_node  (const LamGraph *g);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LamGraph, lam_graph_free)

G_END_DECLS
