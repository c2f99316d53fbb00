/* lam-net.c: a validated graph compiled for a backend and batch size;
 * forward in topological order, backward in reverse (llm.c style).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-net"

#include "config.h"

#include <math.h>
#include <string.h>

#include "lam-net.h"
#include "lam-rng.h"
#include "lam-seq.h"
#include "lam-seq-private.h"

typedef struct {
  LamNode      *node;
  int           n_in;
  int          *in;           /* input node indices */
  gsize         size;         /* floats per sample of the output */
  float        *out;          /* [B, size]; aliases the input for Flatten */
  float        *grad;         /* [B, size] gradient of the loss, or NULL */
  gboolean      needs_grad;   /* something at or before this node learns */
  gboolean      written;      /* grad holds this step's value (backward) */
  gboolean      owns_out;
  /* Dense/Conv2D → ReLU run as one op in training nets: the producer has
   * fused_relu set and the ReLU node fused (it aliases the output). */
  gboolean      fused_relu;
  gboolean      fused;
  int           relu_node;
  /* Conv2D (→ ReLU) → MaxPool2D run as one op where the backend has it:
   * the convolution has fused_pool and pool_node set, the pool node
   * pooled (its output and argmax are its own; its op does nothing). */
  gboolean      fused_pool;
  gboolean      pooled;
  int           pool_node;
  LamConvShape  cs;
  /* parameters (pointers into the blocks; NULL when absent) */
  float        *w, *b, *dw, *db;
  float        *run_mean, *run_var;
  /* auxiliaries */
  float        *save_mean, *save_invstd, *mask;
  gint32       *argmax;
  /* the layers of lam-seq*.c: their state, and every trainable tensor
   * of the node in the order _lam_seq_tensors() lists them */
  LamSeqNode   *seq;
  int           n_pw;
  float        *pw[LAM_SEQ_MAX_TENSORS], *pg[LAM_SEQ_MAX_TENSORS];
} NodeRt;

struct _LamNet {
  LamBackend *be;
  LamGraph   *graph;
  LamNet     *owner;        /* a shared net's parameter owner, or NULL */
  int         batch;
  guint       n_nodes;
  NodeRt     *rt;
  GArray     *order;        /* int: node indices, inputs first */
  int         input_node;
  int         loss_node;
  GArray     *tensors;      /* LamTensorInfo */
  gsize       n_params, n_state;
  float      *params, *grads, *state;
  float      *input;        /* [B, input size] */
  gint32     *labels;
  float      *targets;      /* [B, loss input size] when the loss is MSE */
  gboolean    use_targets;  /* MSE against targets instead of one-hot labels */
  float      *stats;        /* 2 floats */
  float      *dummy_stats;
  /* a training forward took the loss's gradient into its input's
   * gradient buffer, in the same pass as the loss: the backward starts
   * from it (one op fewer a step; on CUDA, two launches) */
  gboolean    loss_grad_ready;
  float      *tmp;          /* fan-out gradient scratch, max node size × B */
  gsize       tmp_len;
  gboolean    profile;      /* LAMINA_PROFILE=1: time each node */
  double     *fwd_time, *bwd_time;
};

static gboolean
check_ops (LamNet *net, GError **error)
{
  const LamBackendOps *o = net->be->ops;
  for (guint i = 0; i < net->n_nodes; i++)
    {
      LamNode *n = net->rt[i].node;
      gboolean ok = TRUE;
      switch (n->kind)
        {
        case LAM_LAYER_DENSE: ok = o->dense_forward && o->dense_backward; break;
        case LAM_LAYER_CONV2D: ok = o->conv2d_forward && o->conv2d_backward; break;
        case LAM_LAYER_MAXPOOL2D: ok = o->maxpool_forward && o->maxpool_backward; break;
        case LAM_LAYER_AVGPOOL2D: ok = o->avgpool_forward && o->avgpool_backward; break;
        case LAM_LAYER_GLOBALAVGPOOL: ok = o->gap_forward && o->gap_backward; break;
        case LAM_LAYER_RELU: case LAM_LAYER_LEAKYRELU: case LAM_LAYER_TANH:
        case LAM_LAYER_SIGMOID: case LAM_LAYER_GELU:
          ok = o->act_forward && o->act_backward; break;
        case LAM_LAYER_SOFTMAX: ok = o->softmax_forward && o->softmax_backward; break;
        case LAM_LAYER_DROPOUT: ok = o->dropout_forward && o->mul; break;
        case LAM_LAYER_BATCHNORM: ok = o->batchnorm_forward && o->batchnorm_backward; break;
        case LAM_LAYER_ADD: ok = o->axpy != NULL; break;
        case LAM_LAYER_CONCAT: ok = o->concat_forward && o->concat_backward; break;
        case LAM_LAYER_SOFTMAX_XENT: ok = o->xent_loss != NULL; break;
        case LAM_LAYER_MSE: ok = o->mse_loss != NULL; break;
        default: break;
        }
      if (n->kind == LAM_LAYER_GLOBALAVGPOOL && n->out_shape.rank == 1 &&
          net->rt[net->rt[i].in[0]].node->out_shape.rank == 2)
        ok = o->time_mean_forward && o->time_mean_backward;
      if (n->kind == LAM_LAYER_DENSE && n->out_shape.rank == 2)
        ok = o->gemm && o->add_rows && o->sum_rows && o->act_forward && o->act_backward;
      if (_lam_seq_handles (n->kind) && _lam_seq_missing_op (o, n) != NULL)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_UNSUPPORTED,
                       "node \"%s\": the %s backend does not support %s layers (no %s op)", n->name,
                       net->be->name, lam_layer_info (n->kind)->type_name, _lam_seq_missing_op (o, n));
          return FALSE;
        }
      if (!ok)
        {
          g_set_error (error, LAM_ERROR, LAM_ERROR_UNSUPPORTED,
                       "node \"%s\": the %s backend does not support %s layers", n->name,
                       net->be->name, lam_layer_info (n->kind)->type_name);
          return FALSE;
        }
    }
  return TRUE;
}

/* "out of … memory: 3.1 MB more were needed for the network at a batch
 * of 64; try a smaller batch" */
static void
set_batch_out_of_memory (LamNet *net, gsize bytes, GError **error)
{
  g_autofree char *what = g_strdup_printf ("the network at a batch of %d%s", net->batch,
                                           net->batch > 1 ? "; try a smaller batch" : "");
  lam_backend_set_out_of_memory (net->be, error, bytes, what);
}

/* Backend memory for the batch's values (activations, gradients…); the
 * error says the batch, and that a smaller one may fit. */
static void *
net_alloc (LamNet *net, gsize bytes, GError **error)
{
  void *p = net->be->ops->alloc (net->be, bytes);
  if (p == NULL)
    set_batch_out_of_memory (net, bytes, error);
  return p;
}

/* Backend memory for the weights, their gradients and state: no batch
 * makes them smaller. */
static void *
weights_alloc (LamNet *net, gsize bytes, GError **error)
{
  void *p = net->be->ops->alloc (net->be, bytes);
  if (p == NULL)
    lam_backend_set_out_of_memory (net->be, error, bytes, "the network's weights");
  return p;
}

static void
add_tensor (LamNet *net, int node, const char *suffix, int ndim, const int *shape, gboolean trainable)
{
  LamTensorInfo t = { 0 };
  t.name = g_strdup_printf ("%s.%s", net->rt[node].node->name, suffix);
  t.node = node;
  t.ndim = ndim;
  t.n = 1;
  for (int i = 0; i < ndim; i++)
    {
      t.shape[i] = shape[i];
      t.n *= shape[i];
    }
  t.trainable = trainable;
  if (trainable)
    {
      t.offset = net->n_params;
      net->n_params += t.n;
    }
  else
    {
      t.offset = net->n_state;
      net->n_state += t.n;
    }
  g_array_append_val (net->tensors, t);
}

/* Lays out parameters and state; pointers are set by bind_params(). */
static void
plan_params (LamNet *net)
{
  for (guint oi = 0; oi < net->order->len; oi++)
    {
      int i = g_array_index (net->order, int, oi);
      NodeRt *r = &net->rt[i];
      LamNode *n = r->node;
      switch (n->kind)
        {
        case LAM_LAYER_DENSE:
          {
            const LamShape *is = &net->rt[r->in[0]].node->out_shape;
            int in = is->rank == 2 ? is->d[1] : (int) net->rt[r->in[0]].size;   /* per step */
            add_tensor (net, i, "weight", 2, (int[]) { n->p.units, in }, TRUE);
            if (n->p.bias)
              add_tensor (net, i, "bias", 1, (int[]) { n->p.units }, TRUE);
            break;
          }
        case LAM_LAYER_CONV2D:
          add_tensor (net, i, "weight", 4, (int[]) { r->cs.OC, r->cs.C, r->cs.K, r->cs.K }, TRUE);
          if (n->p.bias)
            add_tensor (net, i, "bias", 1, (int[]) { r->cs.OC }, TRUE);
          break;
        case LAM_LAYER_BATCHNORM:
          add_tensor (net, i, "weight", 1, (int[]) { n->out_shape.d[0] }, TRUE);
          add_tensor (net, i, "bias", 1, (int[]) { n->out_shape.d[0] }, TRUE);
          break;
        default:
          if (_lam_seq_handles (n->kind))
            {
              LamSeqTensor ts[LAM_SEQ_MAX_TENSORS];
              int nt = _lam_seq_tensors (n, &net->rt[r->in[0]].node->out_shape, ts);
              for (int k = 0; k < nt; k++)
                add_tensor (net, i, ts[k].suffix, ts[k].ndim, ts[k].shape, TRUE);
            }
          break;
        }
    }
  /* State after all parameters, so trainable tensors come first. */
  for (guint oi = 0; oi < net->order->len; oi++)
    {
      int i = g_array_index (net->order, int, oi);
      LamNode *n = net->rt[i].node;
      if (n->kind == LAM_LAYER_BATCHNORM)
        {
          add_tensor (net, i, "running_mean", 1, (int[]) { n->out_shape.d[0] }, FALSE);
          add_tensor (net, i, "running_var", 1, (int[]) { n->out_shape.d[0] }, FALSE);
        }
    }
}

static void
bind_params (LamNet *net)
{
  for (guint i = 0; i < net->n_nodes; i++)
    net->rt[i].n_pw = 0;
  for (guint t = 0; t < net->tensors->len; t++)
    {
      LamTensorInfo *ti = &g_array_index (net->tensors, LamTensorInfo, t);
      NodeRt *r = &net->rt[ti->node];
      const char *suffix = strrchr (ti->name, '.') + 1;
      if (ti->trainable)
        {
          float *p = net->params + ti->offset, *g = net->grads + ti->offset;
          g_assert (r->n_pw < LAM_SEQ_MAX_TENSORS);
          r->pw[r->n_pw] = p;
          r->pg[r->n_pw++] = g;
          if (strcmp (suffix, "weight") == 0)
            r->w = p, r->dw = g;
          else
            r->b = p, r->db = g;
        }
      else if (strcmp (suffix, "running_mean") == 0)
        r->run_mean = net->state + ti->offset;
      else
        r->run_var = net->state + ti->offset;
    }
}

static gboolean
compile (LamNet *net, GError **error)
{
  LamGraph *g = net->graph;
  int B = net->batch;

  net->n_nodes = g->nodes->len;
  net->rt = g_new0 (NodeRt, net->n_nodes);
  net->order = lam_graph_topo_order (g, error);
  if (net->order == NULL)
    return FALSE;
  net->tensors = g_array_new (FALSE, TRUE, sizeof (LamTensorInfo));

  g_autoptr(GHashTable) by_name = lam_graph_name_index (g);
  for (guint i = 0; i < net->n_nodes; i++)
    {
      NodeRt *r = &net->rt[i];
      r->node = g_ptr_array_index (g->nodes, i);
      r->n_in = (int) r->node->inputs->len;
      r->in = g_new0 (int, MAX (r->n_in, 1));
      for (int j = 0; j < r->n_in; j++)
        r->in[j] = lam_graph_name_lookup (by_name, g_ptr_array_index (r->node->inputs, j));
      r->size = (gsize) lam_shape_size (&r->node->out_shape);
      if (r->node->kind == LAM_LAYER_INPUT)
        net->input_node = (int) i;
      if (lam_layer_info (r->node->kind)->is_loss)
        net->loss_node = (int) i;
    }

  /* Shapes for convolutions and pools; which nodes need gradients. */
  for (guint oi = 0; oi < net->order->len; oi++)
    {
      NodeRt *r = &net->rt[g_array_index (net->order, int, oi)];
      LamNode *n = r->node;
      if (n->kind == LAM_LAYER_CONV2D || n->kind == LAM_LAYER_MAXPOOL2D || n->kind == LAM_LAYER_AVGPOOL2D)
        {
          const LamShape *is = &net->rt[r->in[0]].node->out_shape;
          r->cs = (LamConvShape) { B, is->d[0], is->d[1], is->d[2], n->out_shape.d[0],
                                   n->out_shape.d[1], n->out_shape.d[2], n->p.kernel, n->p.stride,
                                   n->p.padding };
        }
      r->needs_grad = n->kind == LAM_LAYER_DENSE || n->kind == LAM_LAYER_CONV2D ||
                      n->kind == LAM_LAYER_BATCHNORM || _lam_seq_learns (n);
      for (int j = 0; j < r->n_in; j++)
        r->needs_grad |= net->rt[r->in[j]].needs_grad;
    }

  if (!check_ops (net, error))
    return FALSE;
  plan_params (net);
  return TRUE;
}

static int
consumers (LamNet *net, int node)
{
  int n = 0;
  for (guint k = 0; k < net->n_nodes; k++)
    for (int j = 0; j < net->rt[k].n_in; j++)
      n += net->rt[k].in[j] == node;
  return n;
}

/* Marks Dense/Conv2D → ReLU pairs (the producer's only consumer being the
 * ReLU) to run as one op; then, where the backend can, Conv2D (→ ReLU) →
 * MaxPool2D whose windows tile the convolution's output (kernel =
 * stride, no padding), the pool the only consumer. Views use unfused
 * nets, so they can still show the values before the activation. */
static void
plan_fusion (LamNet *net)
{
  for (guint i = 0; i < net->n_nodes; i++)
    {
      NodeRt *r = &net->rt[i];
      if (r->node->kind != LAM_LAYER_RELU)
        continue;
      NodeRt *x = &net->rt[r->in[0]];
      if (x->node->kind != LAM_LAYER_DENSE && x->node->kind != LAM_LAYER_CONV2D)
        continue;
      if (consumers (net, r->in[0]) != 1)
        continue;
      x->fused_relu = TRUE;
      x->relu_node = (int) i;
      r->fused = TRUE;
    }

  const LamBackendOps *o = net->be->ops;
  if (o->conv2d_pool_forward == NULL || o->conv2d_pool_backward == NULL)
    return;
  for (guint i = 0; i < net->n_nodes; i++)
    {
      NodeRt *p = &net->rt[i];
      if (p->node->kind != LAM_LAYER_MAXPOOL2D)
        continue;
      NodeRt *c = &net->rt[p->in[0]];
      if (c->fused)   /* the ReLU run by the convolution */
        c = &net->rt[c->in[0]];
      const LamConvShape *ps = &p->cs;
      if (c->node->kind != LAM_LAYER_CONV2D || consumers (net, p->in[0]) != 1 ||
          ps->K != ps->stride || ps->pad != 0 || ps->H % ps->K != 0 || ps->W % ps->K != 0)
        continue;
      c->fused_pool = TRUE;
      c->pool_node = (int) i;
      p->pooled = TRUE;
    }
}

/* ImageToSequence of a one-channel image changes nothing in memory:
 * [1, H, W] is already H steps of W values. */
static gboolean
image_to_sequence_alias (LamNet *net, const NodeRt *r)
{
  return r->node->kind == LAM_LAYER_IMAGE_TO_SEQUENCE && net->rt[r->in[0]].node->out_shape.d[0] == 1;
}

static gboolean
alloc_activations (LamNet *net, GError **error)
{
  int B = net->batch;
  gsize in_size = net->rt[net->input_node].size;

  net->input = net_alloc (net, (gsize) B * in_size * sizeof (float), error);
  net->labels = net->input ? net_alloc (net, (gsize) B * sizeof (gint32), error) : NULL;
  net->stats = net->labels ? net_alloc (net, 2 * sizeof (float), error) : NULL;
  net->dummy_stats = net->stats ? net_alloc (net, 2 * sizeof (float), error) : NULL;
  if (net->dummy_stats == NULL)
    return FALSE;

  for (guint oi = 0; oi < net->order->len; oi++)
    {
      int i = g_array_index (net->order, int, oi);
      NodeRt *r = &net->rt[i];
      LamNode *n = r->node;
      gsize bytes = (gsize) B * r->size * sizeof (float);

      if (n->kind == LAM_LAYER_INPUT)
        r->out = net->input;
      else if (n->kind == LAM_LAYER_FLATTEN || r->fused || image_to_sequence_alias (net, r))
        r->out = net->rt[r->in[0]].out;
      else if (!lam_layer_info (n->kind)->is_loss)
        {
          if (!(r->out = net_alloc (net, bytes, error)))
            return FALSE;
          r->owns_out = TRUE;
        }
      /* a producer fused with its ReLU starts from the ReLU's gradient */
      if (r->needs_grad && !r->fused_relu && !lam_layer_info (n->kind)->is_loss &&
          n->kind != LAM_LAYER_INPUT && !(r->grad = net_alloc (net, bytes, error)))
        return FALSE;
      net->tmp_len = MAX (net->tmp_len, (gsize) B * r->size);

      if (n->kind == LAM_LAYER_MAXPOOL2D &&
          !(r->argmax = net_alloc (net, (gsize) B * r->size * sizeof (gint32), error)))
        return FALSE;
      if (n->kind == LAM_LAYER_DROPOUT && !(r->mask = net_alloc (net, bytes, error)))
        return FALSE;
      if (n->kind == LAM_LAYER_BATCHNORM &&
          (!(r->save_mean = net_alloc (net, n->out_shape.d[0] * sizeof (float), error)) ||
           !(r->save_invstd = net_alloc (net, n->out_shape.d[0] * sizeof (float), error))))
        return FALSE;
      if (_lam_seq_handles (n->kind) && !image_to_sequence_alias (net, r) &&
          !(r->seq = _lam_seq_node_new (net->be, n, &net->rt[r->in[0]].node->out_shape, B, error)))
        return FALSE;
      if (n->kind == LAM_LAYER_MSE &&
          !(net->targets = net_alloc (net, (gsize) B * net->rt[r->in[0]].size * sizeof (float), error)))
        return FALSE;
    }
  net->tmp = net_alloc (net, net->tmp_len * sizeof (float), error);
  return net->tmp != NULL;
}

/* On a backend in main memory, what the net's allocs took against what
 * the system can still give: its allocs all succeed (the system
 * promises memory it may not have), and touching more pages than there
 * are would end the program, with the editor's unsaved work. The pages
 * are untouched yet, so what is available still counts them as free. */
static gboolean
memory_fits (LamNet *net, gsize held_before, GError **error)
{
  LamBackend *be = net->be;

  if (be->ops->bytes_held == NULL)
    return TRUE;
  gsize held = be->ops->bytes_held (be);
  gsize took = held > held_before ? held - held_before : 0;
  gsize avail = lam_host_memory_available ();
  if (took <= avail)
    return TRUE;
  set_batch_out_of_memory (net, took - avail, error);
  return FALSE;
}

LamNet *
lam_net_new (const LamGraph *graph, LamBackend *be, int batch, GError **error)
{
  g_return_val_if_fail (graph != NULL && be != NULL, NULL);

  if (batch < 1 || batch > 65536)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "batch size %d is out of range (1 to 65536)", batch);
      return NULL;
    }
  LamNet *net = g_new0 (LamNet, 1);
  gsize held_before = be->ops->bytes_held ? be->ops->bytes_held (be) : 0;
  net->be = be;
  net->batch = batch;
  net->graph = lam_graph_copy (graph);
  if (!lam_graph_validate (net->graph, error) || !compile (net, error))
    {
      lam_net_free (net);
      return NULL;
    }
  if (g_strcmp0 (g_getenv ("LAMINA_NO_FUSION"), "1") != 0)
    plan_fusion (net);
  if (!(net->params = weights_alloc (net, MAX (net->n_params, 1) * sizeof (float), error)) ||
      !(net->grads = weights_alloc (net, MAX (net->n_params, 1) * sizeof (float), error)) ||
      !(net->state = weights_alloc (net, MAX (net->n_state, 1) * sizeof (float), error)) ||
      !alloc_activations (net, error) || !memory_fits (net, held_before, error))
    {
      lam_net_free (net);
      return NULL;
    }
  bind_params (net);
  lam_net_init_params (net, 1);
  if (g_strcmp0 (g_getenv ("LAMINA_PROFILE"), "1") == 0)
    {
      net->profile = TRUE;
      net->fwd_time = g_new0 (double, net->n_nodes);
      net->bwd_time = g_new0 (double, net->n_nodes);
    }
  return net;
}

LamNet *
lam_net_new_shared (LamNet *owner, int batch, GError **error)
{
  LamNet *net = g_new0 (LamNet, 1);
  gsize held_before = owner->be->ops->bytes_held ? owner->be->ops->bytes_held (owner->be) : 0;
  net->be = owner->be;
  net->batch = batch;
  net->owner = owner;
  net->graph = lam_graph_copy (owner->graph);
  if (!compile (net, error))
    {
      lam_net_free (net);
      return NULL;
    }
  net->params = owner->params;
  net->grads = owner->grads;
  net->state = owner->state;
  if (!alloc_activations (net, error) || !memory_fits (net, held_before, error))
    {
      lam_net_free (net);
      return NULL;
    }
  bind_params (net);
  return net;
}

void
lam_net_free (LamNet *net)
{
  if (net == NULL)
    return;
  if (net->profile)
    {
      double tf = 0, tb = 0;
      for (guint i = 0; i < net->n_nodes; i++)
        tf += net->fwd_time[i], tb += net->bwd_time[i];
      g_printerr ("%-16s %10s %10s  (batch %d)\n", "node", "fwd ms", "bwd ms", net->batch);
      for (guint i = 0; i < net->n_nodes; i++)
        g_printerr ("%-16s %10.1f %10.1f\n", net->rt[i].node->name, net->fwd_time[i] * 1e3, net->bwd_time[i] * 1e3);
      g_printerr ("%-16s %10.1f %10.1f\n", "total", tf * 1e3, tb * 1e3);
      g_free (net->fwd_time);
      g_free (net->bwd_time);
    }
  LamBackend *be = net->be;
#define FREE(p) G_STMT_START { if (p) be->ops->free (be, p); } G_STMT_END
  for (guint i = 0; net->rt && i < net->n_nodes; i++)
    {
      NodeRt *r = &net->rt[i];
      if (r->owns_out)
        FREE (r->out);
      FREE (r->grad);
      FREE (r->argmax);
      FREE (r->mask);
      FREE (r->save_mean);
      FREE (r->save_invstd);
      _lam_seq_node_free (be, r->seq);
      g_free (r->in);
    }
  if (net->owner == NULL)
    {
      FREE (net->params);
      FREE (net->grads);
      FREE (net->state);
    }
  FREE (net->input);
  FREE (net->labels);
  FREE (net->targets);
  FREE (net->stats);
  FREE (net->dummy_stats);
  FREE (net->tmp);
#undef FREE
  if (net->tensors)
    for (guint t = 0; t < net->tensors->len; t++)
      g_free (g_array_index (net->tensors, LamTensorInfo, t).name);
  g_clear_pointer (&net->tensors, g_array_unref);
  g_clear_pointer (&net->order, g_array_unref);
  g_free (net->rt);
  lam_graph_free (net->graph);
  g_free (net);
}

const LamGraph *lam_net_graph (LamNet *net) { return net->graph; }
LamBackend *lam_net_backend (LamNet *net) { return net->be; }
int lam_net_batch (LamNet *net) { return net->batch; }
guint lam_net_n_tensors (LamNet *net) { return net->tensors->len; }
gsize lam_net_n_params (LamNet *net) { return net->n_params; }
gsize lam_net_n_state (LamNet *net) { return net->n_state; }
float *lam_net_params (LamNet *net) { return net->params; }
float *lam_net_grads (LamNet *net) { return net->grads; }
float *lam_net_state (LamNet *net) { return net->state; }
float *lam_net_input (LamNet *net) { return net->input; }
gint32 *lam_net_labels (LamNet *net) { return net->labels; }

const LamTensorInfo *
lam_net_tensor (LamNet *net, guint i)
{
  g_return_val_if_fail (i < net->tensors->len, NULL);
  return &g_array_index (net->tensors, LamTensorInfo, i);
}

const LamTensorInfo *
lam_net_find_tensor (LamNet *net, const char *name)
{
  for (guint t = 0; t < net->tensors->len; t++)
    if (strcmp (g_array_index (net->tensors, LamTensorInfo, t).name, name) == 0)
      return &g_array_index (net->tensors, LamTensorInfo, t);
  return NULL;
}

/* The layer kind a tensor's output passes through next, skipping
 * normalisation and dropout: decides He or Xavier initialisation. */
static LamLayerKind
next_nonlinearity (LamNet *net, int node)
{
  for (int hops = 0; hops < 8; hops++)
    {
      int next = -1, count = 0;
      for (guint i = 0; i < net->n_nodes; i++)
        for (int j = 0; j < net->rt[i].n_in; j++)
          if (net->rt[i].in[j] == node)
            next = (int) i, count++;
      if (count != 1)
        return LAM_N_LAYER_KINDS;
      LamLayerKind k = net->rt[next].node->kind;
      if (k != LAM_LAYER_BATCHNORM && k != LAM_LAYER_DROPOUT && k != LAM_LAYER_FLATTEN)
        return k;
      node = next;
    }
  return LAM_N_LAYER_KINDS;
}

void
lam_net_init_params (LamNet *net, guint64 seed)
{
  g_autofree float *p = g_new0 (float, MAX (net->n_params, 1));
  g_autofree float *s = g_new0 (float, MAX (net->n_state, 1));
  g_autofree int *node_tensors = g_new0 (int, MAX (net->n_nodes, 1));

  for (guint t = 0; t < net->tensors->len; t++)
    {
      LamTensorInfo *ti = &g_array_index (net->tensors, LamTensorInfo, t);
      LamNode *n = net->rt[ti->node].node;
      const char *suffix = strrchr (ti->name, '.') + 1;
      int k = node_tensors[ti->node]++;
      LamRng rng;

      lam_rng_init (&rng, seed, 1000 + t);
      if (_lam_seq_handles (n->kind))
        {
          /* by the node's own rules; the suffix may hold a dot ("out_proj.weight") */
          LamSeqTensor st = { .ndim = ti->ndim };
          LamLayerKind next = next_nonlinearity (net, ti->node);
          g_strlcpy (st.suffix, ti->name + strlen (n->name) + 1, sizeof st.suffix);
          memcpy (st.shape, ti->shape, sizeof st.shape);
          _lam_seq_init_tensor (n, &net->rt[net->rt[ti->node].in[0]].node->out_shape, k, &st,
                                p + ti->offset, &rng,
                                next == LAM_LAYER_RELU || next == LAM_LAYER_LEAKYRELU || next == LAM_LAYER_GELU);
        }
      else if (strcmp (suffix, "running_var") == 0)
        for (gsize i = 0; i < ti->n; i++)
          s[ti->offset + i] = 1.0f;
      else if (n->kind == LAM_LAYER_BATCHNORM && strcmp (suffix, "weight") == 0)
        for (gsize i = 0; i < ti->n; i++)
          p[ti->offset + i] = 1.0f;
      else if (strcmp (suffix, "weight") == 0)
        {
          /* fan_in = n / out; fan_out = n / in_channels */
          double fan_in = (double) ti->n / ti->shape[0];
          double fan_out = (double) ti->n / ti->shape[1];
          LamLayerKind next = next_nonlinearity (net, ti->node);
          double bound;
          if (next == LAM_LAYER_RELU || next == LAM_LAYER_LEAKYRELU || next == LAM_LAYER_GELU)
            bound = sqrt (6.0 / fan_in);                /* He (Kaiming) uniform */
          else
            bound = sqrt (6.0 / (fan_in + fan_out));    /* Xavier (Glorot) uniform */
          for (gsize i = 0; i < ti->n; i++)
            p[ti->offset + i] = (float) ((2.0 * lam_rng_uniform (&rng) - 1.0) * bound);
        }
    }
  lam_net_write_params (net, p);
  lam_net_write_state (net, s);
}

static inline gsize
bytes_of (LamNet *net, const NodeRt *r)
{
  return (gsize) net->batch * r->size * sizeof (float);
}

static void
act_of (LamLayerKind k, LamActKind *a)
{
  switch (k)
    {
    case LAM_LAYER_RELU: *a = LAM_ACT_RELU; break;
    case LAM_LAYER_LEAKYRELU: *a = LAM_ACT_LEAKYRELU; break;
    case LAM_LAYER_TANH: *a = LAM_ACT_TANH; break;
    case LAM_LAYER_SIGMOID: *a = LAM_ACT_SIGMOID; break;
    default: *a = LAM_ACT_GELU; break;
    }
}

/* Rows and features of a Dense: a sequence [T, F] runs as B·T rows of F. */
static void
dense_dims (LamNet *net, const NodeRt *x, int *rows, int *in)
{
  const LamShape *is = &x->node->out_shape;
  *rows = net->batch * (is->rank == 2 ? is->d[0] : 1);
  *in = is->rank == 2 ? is->d[1] : (int) x->size;
}

static gboolean
is_sequence (const NodeRt *r)
{
  return r->node->out_shape.rank == 2;
}

/* Channels and inner size of a node's output for BatchNorm/Concat/GAP. */
static void
chan_inner (const LamShape *s, int *C, int *inner)
{
  *C = s->d[0];
  *inner = s->rank == 3 ? s->d[1] * s->d[2] : 1;
}

/* The loss of the batch into stats; its gradient into dl, where not NULL. */
static void
loss_op (LamNet *net, LamLayerKind kind, float *dl, float *stats, NodeRt *x)
{
  LamBackend *be = net->be;
  int B = net->batch, n = (int) x->size;
  if (kind == LAM_LAYER_SOFTMAX_XENT)
    be->ops->xent_loss (be, dl, stats, x->out, net->labels, B, n, 1.0f);
  else if (net->use_targets)
    be->ops->mse_loss_targets (be, dl, stats, x->out, net->targets, B, n, 1.0f, LAM_TARGET_TOLERANCE);
  else
    be->ops->mse_loss (be, dl, stats, x->out, net->labels, B, n, 1.0f);
}

void
lam_net_forward (LamNet *net, gboolean train, guint64 dropout_seed)
{
  LamBackend *be = net->be;
  const LamBackendOps *o = be->ops;
  int B = net->batch;

  for (guint oi = 0; oi < net->order->len; oi++)
    {
      int i = g_array_index (net->order, int, oi);
      NodeRt *r = &net->rt[i];
      LamNode *n = r->node;
      NodeRt *x = r->n_in > 0 ? &net->rt[r->in[0]] : NULL;
      gsize count = (gsize) B * r->size;
      int C, inner;
      gint64 t0 = net->profile ? g_get_monotonic_time () : 0;

      switch (n->kind)
        {
        case LAM_LAYER_INPUT:
        case LAM_LAYER_FLATTEN:
          break;
        case LAM_LAYER_DENSE:
          {
            int rows, in;
            dense_dims (net, x, &rows, &in);
            if (is_sequence (x))
              {
                /* every step of every sample: many rows, split by rows */
                _lam_seq_linear_forward (be, r->out, x->out, r->w, r->b, rows, in, n->p.units);
                if (r->fused_relu)
                  o->act_forward (be, LAM_ACT_RELU, 0, r->out, r->out, count);
              }
            else
              o->dense_forward (be, r->out, x->out, r->w, r->b, rows, in, n->p.units, r->fused_relu);
            break;
          }
        case LAM_LAYER_CONV2D:
          if (r->fused_pool)
            {
              NodeRt *p = &net->rt[r->pool_node];
              o->conv2d_pool_forward (be, &r->cs, &p->cs, r->out, p->out, p->argmax, x->out, r->w, r->b,
                                      r->fused_relu);
            }
          else
            o->conv2d_forward (be, &r->cs, r->out, x->out, r->w, r->b, r->fused_relu);
          break;
        case LAM_LAYER_MAXPOOL2D:
          if (!r->pooled)
            o->maxpool_forward (be, &r->cs, r->out, r->argmax, x->out);
          break;
        case LAM_LAYER_AVGPOOL2D:
          o->avgpool_forward (be, &r->cs, r->out, x->out);
          break;
        case LAM_LAYER_GLOBALAVGPOOL:
          if (is_sequence (x))
            {
              o->time_mean_forward (be, r->out, x->out, B, x->node->out_shape.d[0], x->node->out_shape.d[1]);
              break;
            }
          chan_inner (&x->node->out_shape, &C, &inner);
          o->gap_forward (be, r->out, x->out, B, C, inner);
          break;
        case LAM_LAYER_RELU:
        case LAM_LAYER_LEAKYRELU:
        case LAM_LAYER_TANH:
        case LAM_LAYER_SIGMOID:
        case LAM_LAYER_GELU:
          if (r->fused)
            break;
          {
            LamActKind a;
            act_of (n->kind, &a);
            o->act_forward (be, a, n->p.alpha, r->out, x->out, count);
            break;
          }
        case LAM_LAYER_SOFTMAX:
          if (is_sequence (r))   /* each step on its own */
            o->softmax_forward (be, r->out, x->out, B * n->out_shape.d[0], n->out_shape.d[1]);
          else
            o->softmax_forward (be, r->out, x->out, B, (int) r->size);
          break;
        case LAM_LAYER_DROPOUT:
          if (train && n->p.rate > 0)
            o->dropout_forward (be, r->out, r->mask, x->out, count, n->p.rate,
                                dropout_seed ^ ((guint64) (i + 1) * G_GUINT64_CONSTANT (0x632BE59BD9B4E019)));
          else
            o->copy (be, r->out, x->out, bytes_of (net, r));
          break;
        case LAM_LAYER_BATCHNORM:
          chan_inner (&n->out_shape, &C, &inner);
          o->batchnorm_forward (be, r->out, x->out, r->w, r->b, r->run_mean, r->run_var,
                                r->save_mean, r->save_invstd, B, C, inner, n->p.eps,
                                n->p.momentum, train);
          break;
        case LAM_LAYER_ADD:
          o->copy (be, r->out, x->out, bytes_of (net, r));
          for (int j = 1; j < r->n_in; j++)
            o->axpy (be, r->out, net->rt[r->in[j]].out, 1.0f, count);
          break;
        case LAM_LAYER_CONCAT:
          {
            int off = 0, outer = B;
            chan_inner (&n->out_shape, &C, &inner);
            if (is_sequence (r))   /* the features of each step */
              outer = B * n->out_shape.d[0], C = n->out_shape.d[1];
            for (int j = 0; j < r->n_in; j++)
              {
                NodeRt *xj = &net->rt[r->in[j]];
                int cx = xj->node->out_shape.d[is_sequence (r) ? 1 : 0];
                o->concat_forward (be, r->out, xj->out, outer, C, cx, off, inner);
                off += cx;
              }
            break;
          }
        case LAM_LAYER_SOFTMAX_XENT:
        case LAM_LAYER_MSE:
          {
            /* (a gradient buffer is only read in the backward) */
            float *dl = train && x->needs_grad ? x->grad : NULL;
            loss_op (net, n->kind, dl, net->stats, x);
            net->loss_grad_ready = dl != NULL;
            break;
          }
        default:
          if (r->seq)
            _lam_seq_forward (be, r->seq, r->pw, r->out, x->out, train);
          else
            g_assert (image_to_sequence_alias (net, r));
          break;
        }
      if (net->profile)
        {
          be->ops->synchronize (be);
          net->fwd_time[i] += (g_get_monotonic_time () - t0) / 1e6;
        }
    }
}

/* Where the gradient for input j of r goes: straight into the input's
 * gradient the first time in a step, into scratch (then added) after. */
static float *
grad_target (LamNet *net, NodeRt *r, int j)
{
  NodeRt *x = &net->rt[r->in[j]];
  if (!x->needs_grad || x->grad == NULL)
    return NULL;
  return x->written ? net->tmp : x->grad;
}

static void
grad_done (LamNet *net, NodeRt *r, int j, float *target)
{
  NodeRt *x = &net->rt[r->in[j]];
  if (target == NULL)
    return;
  if (target == net->tmp)
    net->be->ops->axpy (net->be, x->grad, net->tmp, 1.0f, (gsize) net->batch * x->size);
  x->written = TRUE;
}

/* The gradient a Dense/Conv2D starts its backward from: its fused ReLU's. */
static const float *
fused_dy (LamNet *net, NodeRt *r)
{
  return r->fused_relu ? net->rt[r->relu_node].grad : r->grad;
}

void
lam_net_backward (LamNet *net)
{
  LamBackend *be = net->be;
  const LamBackendOps *o = be->ops;
  int B = net->batch;

  for (guint i = 0; i < net->n_nodes; i++)
    net->rt[i].written = FALSE;

  for (guint oi = net->order->len; oi > 0; oi--)
    {
      int i = g_array_index (net->order, int, oi - 1);
      NodeRt *r = &net->rt[i];
      LamNode *n = r->node;
      NodeRt *x = r->n_in > 0 ? &net->rt[r->in[0]] : NULL;
      gsize count = (gsize) B * r->size;
      int C, inner;
      float *dx;

      if (!lam_layer_info (n->kind)->is_loss && (!r->needs_grad || !r->written))
        continue;
      gint64 t0 = net->profile ? g_get_monotonic_time () : 0;

      switch (n->kind)
        {
        case LAM_LAYER_INPUT:
          break;
        case LAM_LAYER_SOFTMAX_XENT:
        case LAM_LAYER_MSE:
          /* taken by the training forward, unless something was added
           * to the buffer since (a second backward) */
          if ((dx = grad_target (net, r, 0)) && !(net->loss_grad_ready && dx == x->grad))
            loss_op (net, n->kind, dx, net->dummy_stats, x);
          net->loss_grad_ready = FALSE;
          grad_done (net, r, 0, dx);
          break;
        case LAM_LAYER_DENSE:
          {
            int rows, in;
            dense_dims (net, x, &rows, &in);
            dx = grad_target (net, r, 0);
            if (is_sequence (x))
              {
                /* the fused ReLU's backward, in place in its gradient (read only here) */
                float *dy = (float *) fused_dy (net, r);
                if (r->fused_relu)
                  o->act_backward (be, LAM_ACT_RELU, 0, dy, dy, r->out, r->out, count);
                _lam_seq_linear_backward (be, dx, r->dw, r->db, dy, x->out, r->w, rows, in, n->p.units);
              }
            else
              o->dense_backward (be, dx, r->dw, r->db, fused_dy (net, r), x->out, r->w, rows,
                                 in, n->p.units, r->fused_relu ? r->out : NULL);
            grad_done (net, r, 0, dx);
            break;
          }
        case LAM_LAYER_CONV2D:
          dx = grad_target (net, r, 0);
          if (r->fused_pool)
            {
              NodeRt *p = &net->rt[r->pool_node];
              o->conv2d_pool_backward (be, &r->cs, &p->cs, dx, r->dw, r->db, p->grad, p->argmax, x->out,
                                       r->w, r->fused_relu ? r->out : NULL, (float *) fused_dy (net, r));
            }
          else
            o->conv2d_backward (be, &r->cs, dx, r->dw, r->db, fused_dy (net, r), x->out, r->w,
                                r->fused_relu ? r->out : NULL);
          grad_done (net, r, 0, dx);
          break;
        case LAM_LAYER_MAXPOOL2D:
          if (r->pooled)
            {
              /* the convolution takes this node's gradient directly */
              x->written = TRUE;
              break;
            }
          if ((dx = grad_target (net, r, 0)))
            o->maxpool_backward (be, &r->cs, dx, r->grad, r->argmax);
          grad_done (net, r, 0, dx);
          break;
        case LAM_LAYER_AVGPOOL2D:
          if ((dx = grad_target (net, r, 0)))
            o->avgpool_backward (be, &r->cs, dx, r->grad);
          grad_done (net, r, 0, dx);
          break;
        case LAM_LAYER_GLOBALAVGPOOL:
          chan_inner (&x->node->out_shape, &C, &inner);
          if ((dx = grad_target (net, r, 0)) && is_sequence (x))
            o->time_mean_backward (be, dx, r->grad, B, x->node->out_shape.d[0], x->node->out_shape.d[1]);
          else if (dx)
            o->gap_backward (be, dx, r->grad, B, C, inner);
          grad_done (net, r, 0, dx);
          break;
        case LAM_LAYER_FLATTEN:
          if ((dx = grad_target (net, r, 0)))
            o->copy (be, dx, r->grad, bytes_of (net, r));
          grad_done (net, r, 0, dx);
          break;
        case LAM_LAYER_RELU:
        case LAM_LAYER_LEAKYRELU:
        case LAM_LAYER_TANH:
        case LAM_LAYER_SIGMOID:
        case LAM_LAYER_GELU:
          if (r->fused)
            {
              /* the producer takes this node's gradient directly */
              x->written = TRUE;
              break;
            }
          if ((dx = grad_target (net, r, 0)))
            {
              LamActKind a;
              act_of (n->kind, &a);
              o->act_backward (be, a, n->p.alpha, dx, r->grad, x->out, r->out, count);
            }
          grad_done (net, r, 0, dx);
          break;
        case LAM_LAYER_SOFTMAX:
          if ((dx = grad_target (net, r, 0)) && is_sequence (r))
            o->softmax_backward (be, dx, r->grad, r->out, B * n->out_shape.d[0], n->out_shape.d[1]);
          else if (dx)
            o->softmax_backward (be, dx, r->grad, r->out, B, (int) r->size);
          grad_done (net, r, 0, dx);
          break;
        case LAM_LAYER_DROPOUT:
          if ((dx = grad_target (net, r, 0)))
            {
              if (n->p.rate > 0)
                o->mul (be, dx, r->grad, r->mask, count);
              else
                o->copy (be, dx, r->grad, bytes_of (net, r));
            }
          grad_done (net, r, 0, dx);
          break;
        case LAM_LAYER_BATCHNORM:
          {
            chan_inner (&n->out_shape, &C, &inner);
            dx = grad_target (net, r, 0);
            float *dxx = dx ? dx : net->tmp;   /* the op always computes dx */
            o->batchnorm_backward (be, dxx, r->dw, r->db, r->grad, x->out, r->w, r->save_mean,
                                   r->save_invstd, B, C, inner);
            grad_done (net, r, 0, dx);
            break;
          }
        case LAM_LAYER_ADD:
          for (int j = 0; j < r->n_in; j++)
            {
              if ((dx = grad_target (net, r, j)))
                o->copy (be, dx, r->grad, bytes_of (net, r));
              grad_done (net, r, j, dx);
            }
          break;
        case LAM_LAYER_CONCAT:
          {
            int off = 0, outer = B;
            chan_inner (&n->out_shape, &C, &inner);
            if (is_sequence (r))
              outer = B * n->out_shape.d[0], C = n->out_shape.d[1];
            for (int j = 0; j < r->n_in; j++)
              {
                NodeRt *xj = &net->rt[r->in[j]];
                int cx = xj->node->out_shape.d[is_sequence (r) ? 1 : 0];
                if ((dx = grad_target (net, r, j)))
                  o->concat_backward (be, dx, r->grad, outer, C, cx, off, inner);
                grad_done (net, r, j, dx);
                off += cx;
              }
            break;
          }
        default:
          /* the layers of lam-seq*.c; a one-channel ImageToSequence is an alias */
          dx = grad_target (net, r, 0);
          if (r->seq)
            _lam_seq_backward (be, r->seq, r->pw, r->pg, dx, r->grad, x->out, r->out);
          else if (dx)
            o->copy (be, dx, r->grad, bytes_of (net, r));
          grad_done (net, r, 0, dx);
          break;
        }
      if (net->profile)
        {
          be->ops->synchronize (be);
          net->bwd_time[i] += (g_get_monotonic_time () - t0) / 1e6;
        }
    }
}

void
lam_net_stats_reset (LamNet *net)
{
  net->be->ops->zero (net->be, net->stats, 2 * sizeof (float));
}

void
lam_net_stats_read (LamNet *net, double *loss_sum, double *correct)
{
  float s[2];
  net->be->ops->download (net->be, s, net->stats, sizeof s);
  if (loss_sum)
    *loss_sum = s[0];
  if (correct)
    *correct = s[1];
}

gboolean
lam_net_read_output (LamNet *net, int node, float *host)
{
  g_return_val_if_fail (node >= 0 && (guint) node < net->n_nodes, FALSE);
  NodeRt *r = &net->rt[node];
  if (r->out == NULL)
    return FALSE;
  net->be->ops->download (net->be, host, r->out, bytes_of (net, r));
  return TRUE;
}

float *
lam_net_output_ptr (LamNet *net, int node)
{
  g_return_val_if_fail (node >= 0 && (guint) node < net->n_nodes, NULL);
  return net->rt[node].out;
}

float *
lam_net_grad_ptr (LamNet *net, int node)
{
  g_return_val_if_fail (node >= 0 && (guint) node < net->n_nodes, NULL);
  const NodeRt *r = &net->rt[node], *c = r->fused ? &net->rt[r->in[0]] : r;
  return c->fused_pool ? NULL : r->grad;   /* never written: the op starts from the pool's */
}

void
lam_net_read_params (LamNet *net, float *host)
{
  net->be->ops->download (net->be, host, net->params, net->n_params * sizeof (float));
}

void
lam_net_write_params (LamNet *net, const float *host)
{
  net->be->ops->upload (net->be, net->params, host, net->n_params * sizeof (float));
}

void
lam_net_read_state (LamNet *net, float *host)
{
  net->be->ops->download (net->be, host, net->state, net->n_state * sizeof (float));
}

void
lam_net_write_state (LamNet *net, const float *host)
{
  net->be->ops->upload (net->be, net->state, host, net->n_state * sizeof (float));
}

void
lam_net_read_grads (LamNet *net, float *host)
{
  net->be->ops->download (net->be, host, net->grads, net->n_params * sizeof (float));
}

/* lam-seq.h: what the sequence layers add to the net */

float *
lam_net_targets (LamNet *net)
{
  g_return_val_if_fail (net != NULL, NULL);
  return net->targets;
}

gboolean
lam_net_set_use_targets (LamNet *net, gboolean use)
{
  g_return_val_if_fail (net != NULL, FALSE);
  if (use && (net->targets == NULL || net->be->ops->mse_loss_targets == NULL))
    return FALSE;
  net->use_targets = use;
  net->loss_grad_ready = FALSE;   /* another loss: the backward takes its gradient anew */
  return TRUE;
}

float *
lam_net_attention (LamNet *net, int node, int *heads, int *steps)
{
  g_return_val_if_fail (net != NULL && node >= 0 && (guint) node < net->n_nodes, NULL);
  return _lam_seq_attention (net->rt[node].seq, heads, steps);
}
