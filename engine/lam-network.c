/* lam-network.c: the edited network, its validation and its undo history.
 *
 * Undo keeps whole snapshots of the graph and the training settings: a
 * network has tens of nodes, so a copy costs microseconds and every
 * edit, however complex (tidy-up, duplicate with edges), undoes exactly.
 * Graph edits and settings changes share one history, in the order they
 * were made. Views learn what changed from a diff of the snapshots
 * before and after, which also makes undo and redo announce themselves
 * like any other edit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-network"

#include "config.h"

#include <math.h>
#include <string.h>

#include "lam-network.h"

#define MAX_UNDO        200
#define MAX_NAME_LEN    64
#define MAX_POSITION    1e5
#define TIDY_COLUMN     190.0
#define TIDY_ROW        120.0
#define TIDY_ORIGIN_X   40.0
#define TIDY_ORIGIN_Y   200.0

typedef struct {
  LamGraph       *graph;        /* the state to return to */
  LamTrainConfig  config;       /* and its training settings */
  guint           serial;       /* that state's serial, to know when it is the saved one */
  char           *label;
  char           *rename_from;  /* set when the step renamed a node, in the forward direction */
  char           *rename_to;
} Step;

struct _LamNetwork {
  GObject         parent_instance;

  LamGraph       *graph;
  char           *name;
  char           *description;
  LamTrainConfig  config;
  char           *problem;       /* lam_graph_validate()'s message */

  GPtrArray      *undo;          /* Step*, last is the newest */
  GPtrArray      *redo;
  char           *merge_key;     /* edits with the same key merge into one step */
  guint           serial;        /* of the current state */
  guint           saved_serial;
  guint           next_serial;
};

G_DEFINE_FINAL_TYPE (LamNetwork, lam_network, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_DESCRIPTION,
  PROP_MODIFIED,
  PROP_VALID,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  N_PROPS
};

enum {
  CHANGED,
  RESET,
  CONFIG_CHANGED,
  NODE_ADDED,
  NODE_REMOVED,
  NODE_RENAMED,
  EDGE_ADDED,
  EDGE_REMOVED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Short name prefixes for new nodes: "conv3", not "conv2d3". */
static const char *const name_prefixes[LAM_N_LAYER_KINDS] = {
  [LAM_LAYER_INPUT] = "input",
  [LAM_LAYER_DENSE] = "dense",
  [LAM_LAYER_CONV2D] = "conv",
  [LAM_LAYER_MAXPOOL2D] = "pool",
  [LAM_LAYER_AVGPOOL2D] = "avgpool",
  [LAM_LAYER_GLOBALAVGPOOL] = "gap",
  [LAM_LAYER_FLATTEN] = "flatten",
  [LAM_LAYER_RELU] = "relu",
  [LAM_LAYER_LEAKYRELU] = "lrelu",
  [LAM_LAYER_TANH] = "tanh",
  [LAM_LAYER_SIGMOID] = "sigmoid",
  [LAM_LAYER_GELU] = "gelu",
  [LAM_LAYER_SOFTMAX] = "softmax",
  [LAM_LAYER_DROPOUT] = "dropout",
  [LAM_LAYER_BATCHNORM] = "bn",
  [LAM_LAYER_ADD] = "add",
  [LAM_LAYER_CONCAT] = "concat",
  [LAM_LAYER_SOFTMAX_XENT] = "loss",
  [LAM_LAYER_MSE] = "mse",
  [LAM_LAYER_LOCALLY_CONNECTED2D] = "local",
  [LAM_LAYER_IMAGE_TO_SEQUENCE] = "rows",
  [LAM_LAYER_EMBEDDING] = "embed",
  [LAM_LAYER_SIMPLE_RNN] = "rnn",
  [LAM_LAYER_LSTM] = "lstm",
  [LAM_LAYER_GRU] = "gru",
  [LAM_LAYER_LTC] = "ltc",
  [LAM_LAYER_MULTIHEAD_ATTENTION] = "attn",
  [LAM_LAYER_POSITIONAL_ENCODING] = "pos",
  [LAM_LAYER_LAYERNORM] = "ln",
};

/* A kind newer than the table is named after its type: "newkind1". */
static const char *
name_prefix (LamLayerKind kind)
{
  if (name_prefixes[kind] == NULL)
    {
      g_autofree char *lower = g_ascii_strdown (lam_layer_info (kind)->type_name, -1);
      return g_intern_string (lower);
    }
  return name_prefixes[kind];
}

GType
lam_layer_kind_get_type (void)
{
  static gsize type_id;

  if (g_once_init_enter (&type_id))
    {
      static GEnumValue values[LAM_N_LAYER_KINDS + 1];

      for (int k = 0; k < LAM_N_LAYER_KINDS; k++)
        {
          values[k].value = k;
          values[k].value_name = lam_layer_info (k)->type_name;
          values[k].value_nick = name_prefix (k);
        }
      g_once_init_leave (&type_id, g_enum_register_static ("LamLayerKind", values));
    }
  return type_id;
}

/* ------------------------------------------------------------------ */
/* Undo steps */

static void
step_free (gpointer data)
{
  Step *s = data;

  lam_graph_free (s->graph);
  lam_train_config_clear (&s->config);
  g_free (s->label);
  g_free (s->rename_from);
  g_free (s->rename_to);
  g_free (s);
}

/* Takes graph and the contents of config (which it leaves zeroed). */
static Step *
step_new (LamGraph *graph, LamTrainConfig *config, guint serial, const char *label,
          const char *from, const char *to)
{
  Step *s = g_new0 (Step, 1);

  s->graph = graph;
  s->config = *config;
  memset (config, 0, sizeof *config);
  s->serial = serial;
  s->label = g_strdup (label);
  s->rename_from = g_strdup (from);
  s->rename_to = g_strdup (to);
  return s;
}

/* Field by field (the strings by value): a field added to
 * LamTrainConfig, LamDataSpec or LamOptConfig belongs here too. */
static gboolean
config_equal (const LamTrainConfig *a, const LamTrainConfig *b)
{
  const LamDataSpec *da = &a->data, *db = &b->data;
  const LamOptConfig *oa = &a->opt, *ob = &b->opt;

  return g_strcmp0 (da->name, db->name) == 0 && g_strcmp0 (da->train_images, db->train_images) == 0
         && g_strcmp0 (da->train_labels, db->train_labels) == 0
         && g_strcmp0 (da->test_images, db->test_images) == 0
         && g_strcmp0 (da->test_labels, db->test_labels) == 0
         && da->n_samples == db->n_samples && da->noise == db->noise && da->n_classes == db->n_classes
         && da->length == db->length && da->val_fraction == db->val_fraction && da->limit == db->limit
         && oa->kind == ob->kind && oa->lr == ob->lr && oa->momentum == ob->momentum
         && oa->nesterov == ob->nesterov && oa->weight_decay == ob->weight_decay
         && oa->beta1 == ob->beta1 && oa->beta2 == ob->beta2 && oa->eps == ob->eps
         && oa->schedule == ob->schedule && oa->step_epochs == ob->step_epochs && oa->gamma == ob->gamma
         && a->epochs == b->epochs && a->batch == b->batch && a->seed == b->seed
         && g_strcmp0 (a->backend, b->backend) == 0 && a->threads == b->threads;
}

/* ------------------------------------------------------------------ */
/* Announcing changes */

static char *
edge_key (const char *from, const char *to)
{
  return g_strconcat (from, "\x1f", to, NULL);
}

/* name, mapped through an optional rename. */
static const char *
mapped (const char *name, const char *from, const char *to)
{
  return from != NULL && g_strcmp0 (name, from) == 0 ? to : name;
}

static GHashTable *
edge_set (const LamGraph *g, const char *from, const char *to)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < g->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (g->nodes, i);
      for (guint j = 0; j < n->inputs->len; j++)
        g_hash_table_add (set, edge_key (mapped (g_ptr_array_index (n->inputs, j), from, to),
                                         mapped (n->name, from, to)));
    }
  return set;
}

static void
emit_edges (LamNetwork *self, GHashTable *a, GHashTable *b, guint signal)
{
  GHashTableIter iter;
  const char *key;

  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, (gpointer *) &key, NULL))
    if (!g_hash_table_contains (b, key))
      {
        g_auto(GStrv) parts = g_strsplit (key, "\x1f", 2);
        g_signal_emit (self, signals[signal], 0, parts[0], parts[1]);
      }
}

/* Emits the fine-grained signals for going from `before` to the current
 * graph; a rename (from → to) is announced as such, not as remove + add. */
static void
emit_diff (LamNetwork *self, const LamGraph *before, const char *from, const char *to)
{
  g_autoptr(GHashTable) old_edges = edge_set (before, from, to);
  g_autoptr(GHashTable) new_edges = edge_set (self->graph, NULL, NULL);

  emit_edges (self, old_edges, new_edges, EDGE_REMOVED);
  for (guint i = 0; i < before->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (before->nodes, i);
      if (lam_graph_find (self->graph, mapped (n->name, from, to)) == NULL)
        g_signal_emit (self, signals[NODE_REMOVED], 0, n->name);
    }
  if (from != NULL && lam_graph_find (self->graph, to) != NULL)
    g_signal_emit (self, signals[NODE_RENAMED], 0, from, to);
  for (guint i = 0; i < self->graph->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (self->graph->nodes, i);
      gboolean existed = FALSE;

      for (guint k = 0; k < before->nodes->len && !existed; k++)
        existed = g_strcmp0 (mapped (((LamNode *) g_ptr_array_index (before->nodes, k))->name, from, to),
                             n->name) == 0;
      if (!existed)
        g_signal_emit (self, signals[NODE_ADDED], 0, n->name);
    }
  emit_edges (self, new_edges, old_edges, EDGE_ADDED);
}

static void
validate (LamNetwork *self)
{
  g_autoptr(GError) error = NULL;
  gboolean was_valid = self->problem == NULL;

  g_clear_pointer (&self->problem, g_free);
  if (!lam_graph_validate (self->graph, &error))
    self->problem = g_strdup (error->message);
  if (was_valid != (self->problem == NULL))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VALID]);
}

/* Notifies the properties that depend on the history. */
static void
notify_history (LamNetwork *self, gboolean was_modified, gboolean could_undo, gboolean could_redo)
{
  if (was_modified != lam_network_get_modified (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODIFIED]);
  if (could_undo != lam_network_get_can_undo (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  if (could_redo != lam_network_get_can_redo (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
}

/* Ends an edit that started from the graph `before` (taken) and, for a
 * settings change, the settings `before_config` (its contents taken; NULL
 * when the edit left them alone): records the step, validates and
 * announces. Edits with the same merge_key in a row (a spin button's
 * ticks, arrow-key moves) make one step. */
static void
commit (LamNetwork *self, LamGraph *before, LamTrainConfig *before_config, const char *label,
        const char *merge_key, const char *rename_from, const char *rename_to)
{
  gboolean was_modified = lam_network_get_modified (self);
  gboolean could_undo = lam_network_get_can_undo (self);
  gboolean could_redo = lam_network_get_can_redo (self);
  gboolean config_changed = before_config != NULL;
  g_autoptr(LamGraph) merged = NULL;
  LamTrainConfig config;

  if (before_config != NULL)
    {
      config = *before_config;
      memset (before_config, 0, sizeof *before_config);
    }
  else
    lam_train_config_copy (&config, &self->config);

  if (merge_key != NULL && self->undo->len > 0 && g_strcmp0 (merge_key, self->merge_key) == 0)
    {
      merged = before;   /* the older step already leads back past this edit */
      lam_train_config_clear (&config);
    }
  else
    {
      g_ptr_array_add (self->undo, step_new (before, &config, self->serial, label, rename_from, rename_to));
      if (self->undo->len > MAX_UNDO)
        g_ptr_array_remove_index (self->undo, 0);
    }
  g_free (self->merge_key);
  self->merge_key = g_strdup (merge_key);
  g_ptr_array_set_size (self->redo, 0);
  self->serial = ++self->next_serial;

  validate (self);
  emit_diff (self, before, rename_from, rename_to);
  if (config_changed)
    g_signal_emit (self, signals[CONFIG_CHANGED], 0);
  g_signal_emit (self, signals[CHANGED], 0);
  notify_history (self, was_modified, could_undo, could_redo);
}

/* Moves one step from `from` to `to`, swapping in its graph and settings. */
static gboolean
travel (LamNetwork *self, GPtrArray *from, GPtrArray *to, gboolean backwards)
{
  gboolean was_modified = lam_network_get_modified (self);
  gboolean could_undo = lam_network_get_can_undo (self);
  gboolean could_redo = lam_network_get_can_redo (self);
  gboolean config_changed;
  Step *s;
  LamGraph *current;
  LamTrainConfig current_config;

  if (from->len == 0)
    return FALSE;
  s = g_ptr_array_steal_index (from, from->len - 1);
  current = self->graph;
  self->graph = s->graph;
  current_config = self->config;
  self->config = s->config;
  memset (&s->config, 0, sizeof s->config);
  config_changed = !config_equal (&current_config, &self->config);
  g_ptr_array_add (to, step_new (current, &current_config, self->serial, s->label,
                                 s->rename_from, s->rename_to));
  self->serial = s->serial;
  g_clear_pointer (&self->merge_key, g_free);

  validate (self);
  if (backwards)
    emit_diff (self, current, s->rename_to, s->rename_from);
  else
    emit_diff (self, current, s->rename_from, s->rename_to);
  if (config_changed)
    g_signal_emit (self, signals[CONFIG_CHANGED], 0);
  g_signal_emit (self, signals[CHANGED], 0);
  notify_history (self, was_modified, could_undo, could_redo);

  s->graph = NULL;
  step_free (s);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
lam_network_finalize (GObject *object)
{
  LamNetwork *self = LAM_NETWORK (object);

  lam_graph_free (self->graph);
  g_free (self->name);
  g_free (self->description);
  g_free (self->problem);
  g_free (self->merge_key);
  lam_train_config_clear (&self->config);
  g_ptr_array_unref (self->undo);
  g_ptr_array_unref (self->redo);

  G_OBJECT_CLASS (lam_network_parent_class)->finalize (object);
}

static void
lam_network_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamNetwork *self = LAM_NETWORK (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    case PROP_MODIFIED:
      g_value_set_boolean (value, lam_network_get_modified (self));
      break;
    case PROP_VALID:
      g_value_set_boolean (value, lam_network_get_valid (self));
      break;
    case PROP_CAN_UNDO:
      g_value_set_boolean (value, lam_network_get_can_undo (self));
      break;
    case PROP_CAN_REDO:
      g_value_set_boolean (value, lam_network_get_can_redo (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_network_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LamNetwork *self = LAM_NETWORK (object);

  switch (prop_id)
    {
    case PROP_NAME:
      lam_network_set_name (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_network_class_init (LamNetworkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lam_network_finalize;
  object_class->get_property = lam_network_get_property;
  object_class->set_property = lam_network_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, "Untitled",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, "",
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODIFIED] =
    g_param_spec_boolean ("modified", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_VALID] =
    g_param_spec_boolean ("valid", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[RESET] = g_signal_new ("reset", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CONFIG_CHANGED] = g_signal_new ("config-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[NODE_ADDED] = g_signal_new ("node-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[NODE_REMOVED] = g_signal_new ("node-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[NODE_RENAMED] = g_signal_new ("node-renamed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                        G_TYPE_STRING, G_TYPE_STRING);
  signals[EDGE_ADDED] = g_signal_new ("edge-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[EDGE_REMOVED] = g_signal_new ("edge-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                        G_TYPE_STRING, G_TYPE_STRING);
}

static void
lam_network_init (LamNetwork *self)
{
  self->graph = lam_graph_new ();
  self->name = g_strdup ("Untitled");
  self->description = g_strdup ("");
  lam_train_config_init (&self->config);
  self->undo = g_ptr_array_new_with_free_func (step_free);
  self->redo = g_ptr_array_new_with_free_func (step_free);
  validate (self);
}

LamNetwork *
lam_network_new (void)
{
  return g_object_new (LAM_TYPE_NETWORK, NULL);
}

/* ------------------------------------------------------------------ */
/* Loading and saving */

static double
sane_position (double v)
{
  return isfinite (v) ? CLAMP (v, -MAX_POSITION, MAX_POSITION) : 0.0;
}

void
lam_network_take_model (LamNetwork *self, LamModelFile *model)
{
  gboolean was_modified, could_undo, could_redo;

  g_return_if_fail (LAM_IS_NETWORK (self));
  g_return_if_fail (model != NULL);

  was_modified = lam_network_get_modified (self);
  could_undo = lam_network_get_can_undo (self);
  could_redo = lam_network_get_can_redo (self);

  lam_graph_free (self->graph);
  self->graph = g_steal_pointer (&model->graph);
  /* A hostile file may place nodes anywhere; keep them drawable. */
  for (guint i = 0; i < self->graph->nodes->len; i++)
    {
      LamNode *n = g_ptr_array_index (self->graph->nodes, i);
      n->x = sane_position (n->x);
      n->y = sane_position (n->y);
    }
  g_free (self->description);
  self->description = g_strdup (model->description != NULL ? model->description : "");
  lam_train_config_clear (&self->config);
  lam_train_config_copy (&self->config, &model->config);
  lam_network_set_name (self, model->name != NULL && model->name[0] ? model->name : "Untitled");
  lam_model_file_free (model);

  g_ptr_array_set_size (self->undo, 0);
  g_ptr_array_set_size (self->redo, 0);
  g_clear_pointer (&self->merge_key, g_free);
  self->serial = self->saved_serial = ++self->next_serial;

  validate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIPTION]);
  g_signal_emit (self, signals[RESET], 0);
  g_signal_emit (self, signals[CHANGED], 0);
  notify_history (self, was_modified, could_undo, could_redo);
}

void
lam_network_clear (LamNetwork *self)
{
  lam_network_take_model (self, lam_model_file_new ());
}

gboolean
lam_network_load_file (LamNetwork *self, const char *path, GError **error)
{
  LamModelFile *m;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);

  if ((m = lam_model_file_load (path, error)) == NULL)
    return FALSE;
  lam_network_take_model (self, m);
  return TRUE;
}

gboolean
lam_network_load_preset (LamNetwork *self, const char *name, GError **error)
{
  LamModelFile *m;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);

  if ((m = lam_model_file_load_preset (name, error)) == NULL)
    return FALSE;
  lam_network_take_model (self, m);
  return TRUE;
}

LamModelFile *
lam_network_to_model_file (LamNetwork *self)
{
  LamModelFile *m;

  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);

  m = lam_model_file_new ();
  g_free (m->name);
  m->name = g_strdup (self->name);
  g_free (m->description);
  m->description = g_strdup (self->description);
  lam_graph_free (m->graph);
  m->graph = lam_graph_copy (self->graph);
  lam_train_config_clear (&m->config);
  lam_train_config_copy (&m->config, &self->config);
  return m;
}

char *
lam_network_to_json (LamNetwork *self)
{
  g_autoptr(LamModelFile) m = lam_network_to_model_file (self);

  return lam_model_file_to_json (m);
}

gboolean
lam_network_save (LamNetwork *self, const char *path, GError **error)
{
  g_autoptr(LamModelFile) m = lam_network_to_model_file (self);

  if (!lam_model_file_save (m, path, error))
    return FALSE;
  lam_network_set_saved (self);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Reading */

const LamGraph *
lam_network_get_graph (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);
  return self->graph;
}

const LamNode *
lam_network_get_node (LamNetwork *self, const char *name)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);
  return name != NULL ? lam_graph_find (self->graph, name) : NULL;
}

const char *
lam_network_get_name (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);
  return self->name;
}

void
lam_network_set_name (LamNetwork *self, const char *name)
{
  g_return_if_fail (LAM_IS_NETWORK (self));

  if (name == NULL || name[0] == '\0')
    name = "Untitled";
  if (g_strcmp0 (self->name, name) == 0)
    return;
  g_free (self->name);
  self->name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

const char *
lam_network_get_description (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);
  return self->description;
}

const LamTrainConfig *
lam_network_get_config (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);
  return &self->config;
}

/* One undo step like a graph edit (with an unchanged copy of the graph,
 * so that the history stays one list of whole states). The values are
 * not range-checked here: the panel's controls keep them in range, and
 * the trainer checks them (lam_train_config_check) before it runs. */
gboolean
lam_network_set_config (LamNetwork *self, const LamTrainConfig *config, const char *label,
                        const char *merge_key)
{
  g_autofree char *key = NULL;
  LamTrainConfig before;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (config != &self->config, FALSE);
  g_return_val_if_fail (label != NULL, FALSE);

  if (config_equal (&self->config, config))
    return FALSE;
  before = self->config;
  lam_train_config_copy (&self->config, config);
  /* its own namespace: a setting never merges with a graph edit */
  key = merge_key != NULL ? g_strconcat ("config:", merge_key, NULL) : NULL;
  commit (self, lam_graph_copy (self->graph), &before, label, key, NULL, NULL);
  return TRUE;
}

gboolean
lam_network_get_valid (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);
  return self->problem == NULL;
}

const char *
lam_network_get_problem (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);
  return self->problem;
}

void
lam_network_get_totals (LamNetwork *self, LamNetworkTotals *out)
{
  g_return_if_fail (LAM_IS_NETWORK (self));

  memset (out, 0, sizeof *out);
  out->n_layers = self->graph->nodes->len;
  out->batch = self->config.batch;
  for (guint i = 0; i < self->graph->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (self->graph->nodes, i);
      out->params += n->n_params;
      out->flops += n->flops;
      if (n->out_shape.rank > 0)
        out->activations += lam_shape_size (&n->out_shape);
    }
  /* A first estimate for "will it fit": every layer's output for the
   * batch plus the weights, as 32-bit floats. Training roughly doubles
   * it (gradients), and the optimizer adds a copy or two of the weights. */
  out->bytes_per_batch = 4 * ((gint64) out->batch * out->activations + out->params);
}

gboolean
lam_network_get_modified (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);
  return self->serial != self->saved_serial;
}

void
lam_network_set_saved (LamNetwork *self)
{
  gboolean was_modified;

  g_return_if_fail (LAM_IS_NETWORK (self));

  was_modified = lam_network_get_modified (self);
  self->saved_serial = self->serial;
  g_clear_pointer (&self->merge_key, g_free);
  if (was_modified)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODIFIED]);
}

char *
lam_network_layer_summary (const LamNode *node)
{
  const LamLayerParams *p = &node->p;
  GString *s = g_string_new (NULL);

  switch (node->kind)
    {
    case LAM_LAYER_INPUT:
      if (p->height == 1 && p->width == 1)
        g_string_printf (s, "%d features", p->channels);
      else
        g_string_printf (s, "%d×%d, %d channel%s", p->height, p->width, p->channels, p->channels == 1 ? "" : "s");
      break;
    case LAM_LAYER_DENSE:
      g_string_printf (s, "%d units", p->units);
      break;
    case LAM_LAYER_CONV2D:
      g_string_printf (s, "%d filter%s %d×%d", p->filters, p->filters == 1 ? "" : "s", p->kernel, p->kernel);
      break;
    case LAM_LAYER_MAXPOOL2D:
    case LAM_LAYER_AVGPOOL2D:
      g_string_printf (s, "%d×%d", p->kernel, p->kernel);
      break;
    case LAM_LAYER_GLOBALAVGPOOL:
      g_string_assign (s, "mean per channel");
      break;
    case LAM_LAYER_FLATTEN:
      g_string_assign (s, "image to vector");
      break;
    case LAM_LAYER_RELU:
      g_string_assign (s, "max(0, x)");
      break;
    case LAM_LAYER_LEAKYRELU:
      g_string_printf (s, "slope %g", (double) p->alpha);
      break;
    case LAM_LAYER_TANH:
      g_string_assign (s, "tanh(x)");
      break;
    case LAM_LAYER_SIGMOID:
      g_string_assign (s, "1 / (1 + e⁻ˣ)");
      break;
    case LAM_LAYER_GELU:
      g_string_assign (s, "x·Φ(x)");
      break;
    case LAM_LAYER_SOFTMAX:
      g_string_assign (s, "probabilities");
      break;
    case LAM_LAYER_DROPOUT:
      g_string_printf (s, "rate %g", (double) p->rate);
      break;
    case LAM_LAYER_BATCHNORM:
      g_string_printf (s, "momentum %g", (double) p->momentum);
      break;
    case LAM_LAYER_ADD:
      g_string_printf (s, "sum of %u inputs", node->inputs->len);
      break;
    case LAM_LAYER_CONCAT:
      g_string_printf (s, "%u inputs stacked", node->inputs->len);
      break;
    case LAM_LAYER_SOFTMAX_XENT:
      g_string_assign (s, "cross-entropy");
      break;
    case LAM_LAYER_MSE:
      g_string_assign (s, "squared error");
      break;
    case LAM_LAYER_LOCALLY_CONNECTED2D:
      g_string_printf (s, "%d unshared %d×%d", p->filters, p->kernel, p->kernel);
      break;
    case LAM_LAYER_IMAGE_TO_SEQUENCE:
      g_string_assign (s, "rows as steps");
      break;
    case LAM_LAYER_EMBEDDING:
      g_string_printf (s, "%d tokens → %d", p->vocab, p->dim);
      break;
    case LAM_LAYER_SIMPLE_RNN:
    case LAM_LAYER_LSTM:
    case LAM_LAYER_GRU:
    case LAM_LAYER_LTC:
      g_string_printf (s, "%d units%s%s", p->units, p->bidirectional ? " ⇄" : "",
                       p->return_sequences ? ", all steps" : "");
      break;
    case LAM_LAYER_MULTIHEAD_ATTENTION:
      g_string_printf (s, "%d head%s%s", p->heads, p->heads == 1 ? "" : "s", p->causal ? ", causal" : "");
      break;
    case LAM_LAYER_POSITIONAL_ENCODING:
      g_string_assign (s, p->learned ? "learned" : "sine waves");
      break;
    case LAM_LAYER_LAYERNORM:
      g_string_assign (s, "per step");
      break;
    case LAM_N_LAYER_KINDS:
    default:
      break;   /* a kind newer than this switch: no summary */
    }
  if (node->kind == LAM_LAYER_CONV2D || node->kind == LAM_LAYER_LOCALLY_CONNECTED2D
      || node->kind == LAM_LAYER_MAXPOOL2D || node->kind == LAM_LAYER_AVGPOOL2D)
    {
      int def_stride = node->kind == LAM_LAYER_CONV2D || node->kind == LAM_LAYER_LOCALLY_CONNECTED2D ? 1 : p->kernel;
      if (p->stride != def_stride)
        g_string_append_printf (s, " /%d", p->stride);
      if (p->padding > 0)
        g_string_append_printf (s, " pad %d", p->padding);
    }
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------ */
/* Edits */

const char *
lam_network_add_node (LamNetwork *self, LamLayerKind kind, double x, double y)
{
  LamGraph *before;
  g_autofree char *name = NULL, *label = NULL;
  LamNode *node;

  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);
  g_return_val_if_fail (kind < LAM_N_LAYER_KINDS, NULL);

  before = lam_graph_copy (self->graph);
  name = lam_graph_unique_name (self->graph, name_prefix (kind));
  node = lam_graph_add_node (self->graph, kind, name);
  node->x = sane_position (x);
  node->y = sane_position (y);
  label = g_strdup_printf ("Add %s", lam_layer_info (kind)->type_name);
  commit (self, before, NULL, label, NULL, NULL, NULL);
  return node->name;
}

gboolean
lam_network_remove_nodes (LamNetwork *self, const char *const *names)
{
  LamGraph *before;
  guint removed = 0;
  g_autofree char *label = NULL;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);

  before = lam_graph_copy (self->graph);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    if (lam_graph_remove_node (self->graph, names[i]))
      removed++;
  if (removed == 0)
    {
      lam_graph_free (before);
      return FALSE;
    }
  label = removed == 1 ? g_strdup_printf ("Delete %s", names[0])
                       : g_strdup_printf ("Delete %u layers", removed);
  commit (self, before, NULL, label, NULL, NULL, NULL);
  return TRUE;
}

/* Does `node` depend on `ancestor` (through its inputs)? */
static gboolean
depends_on (const LamGraph *g, const char *node, const char *ancestor)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) todo = g_ptr_array_new ();

  g_ptr_array_add (todo, (gpointer) node);
  while (todo->len > 0)
    {
      const char *name = g_ptr_array_steal_index (todo, todo->len - 1);
      const LamNode *n;

      if (g_strcmp0 (name, ancestor) == 0)
        return TRUE;
      if (!g_hash_table_add (seen, (gpointer) name) || (n = lam_graph_find (g, name)) == NULL)
        continue;
      for (guint j = 0; j < n->inputs->len; j++)
        g_ptr_array_add (todo, g_ptr_array_index (n->inputs, j));
    }
  return FALSE;
}

gboolean
lam_network_can_connect (LamNetwork *self, const char *from, const char *to, GError **error)
{
  const LamNode *src, *dst;
  const LamLayerInfo *info;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);

  src = lam_graph_find (self->graph, from);
  dst = lam_graph_find (self->graph, to);
  if (src == NULL || dst == NULL)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "No layer named “%s”",
                   src == NULL ? from : to);
      return FALSE;
    }
  info = lam_layer_info (dst->kind);
  if (src == dst)
    g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH, "A layer cannot feed itself");
  else if (info->max_inputs == 0)
    g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH,
                 "An Input layer takes no inputs: the data enters there");
  else if (lam_layer_info (src->kind)->is_loss)
    g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH,
                 "“%s” is a loss, the end of the network: nothing comes after it", from);
  else if (info->max_inputs != 1 && dst->kind != LAM_LAYER_ADD && dst->kind != LAM_LAYER_CONCAT
           && g_ptr_array_find_with_equal_func (dst->inputs, from, g_str_equal, NULL))
    g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH, "“%s” already feeds “%s”", from, to);
  else if (info->max_inputs == 1 && dst->inputs->len == 1
           && g_strcmp0 (g_ptr_array_index (dst->inputs, 0), from) == 0)
    g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH, "“%s” already feeds “%s”", from, to);
  else if (depends_on (self->graph, from, to))
    g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH,
                 "That would make a loop: “%s” already comes after “%s”", from, to);
  else
    return TRUE;
  return FALSE;
}

/* A layer with one input gets the new one instead of its old one. */
gboolean
lam_network_connect (LamNetwork *self, const char *from, const char *to, GError **error)
{
  LamGraph *before;
  LamNode *dst;
  g_autofree char *label = NULL;

  if (!lam_network_can_connect (self, from, to, error))
    return FALSE;

  before = lam_graph_copy (self->graph);
  dst = lam_graph_find (self->graph, to);
  if (lam_layer_info (dst->kind)->max_inputs == 1)
    g_ptr_array_set_size (dst->inputs, 0);
  g_ptr_array_add (dst->inputs, g_strdup (from));
  label = g_strdup_printf ("Connect %s to %s", from, to);
  commit (self, before, NULL, label, NULL, NULL, NULL);
  return TRUE;
}

gboolean
lam_network_disconnect (LamNetwork *self, const char *from, const char *to)
{
  LamGraph *before;
  LamNode *dst;
  guint index;
  g_autofree char *label = NULL;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);

  dst = lam_graph_find (self->graph, to);
  if (dst == NULL || !g_ptr_array_find_with_equal_func (dst->inputs, from, g_str_equal, &index))
    return FALSE;

  before = lam_graph_copy (self->graph);
  dst = lam_graph_find (self->graph, to);
  g_ptr_array_remove_index (dst->inputs, index);
  label = g_strdup_printf ("Disconnect %s from %s", from, to);
  commit (self, before, NULL, label, NULL, NULL, NULL);
  return TRUE;
}

gboolean
lam_network_move_nodes (LamNetwork *self, const char *const *names, double dx, double dy)
{
  LamGraph *before;
  g_autoptr(GString) key = g_string_new ("move");
  guint moved = 0;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);

  if (!isfinite (dx) || !isfinite (dy) || (dx == 0 && dy == 0))
    return FALSE;

  before = lam_graph_copy (self->graph);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      LamNode *n = lam_graph_find (self->graph, names[i]);
      if (n == NULL)
        continue;
      n->x = sane_position (n->x + dx);
      n->y = sane_position (n->y + dy);
      g_string_append_printf (key, ":%s", n->name);
      moved++;
    }
  if (moved == 0)
    {
      lam_graph_free (before);
      return FALSE;
    }
  commit (self, before, NULL, moved == 1 ? "Move layer" : "Move layers", key->str, NULL, NULL);
  return TRUE;
}

gboolean
lam_network_set_param (LamNetwork *self, const char *node, const char *param, double value)
{
  LamGraph *before;
  LamNode *n;
  const LamLayerInfo *info;
  const LamParamSpec *spec = NULL;
  g_autofree char *label = NULL, *key = NULL;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);

  if ((n = lam_graph_find (self->graph, node)) == NULL || !isfinite (value))
    return FALSE;
  info = lam_layer_info (n->kind);
  for (int i = 0; i < info->n_params; i++)
    if (g_strcmp0 (info->params[i].name, param) == 0)
      spec = &info->params[i];
  g_return_val_if_fail (spec != NULL, FALSE);

  value = CLAMP (value, spec->min, spec->max);
  if (spec->type != LAM_PARAM_FLOAT)
    value = round (value);
  if (lam_layer_param_get (&n->p, spec) == (spec->type == LAM_PARAM_FLOAT ? (double) (float) value : value))
    return FALSE;

  before = lam_graph_copy (self->graph);
  n = lam_graph_find (self->graph, node);
  lam_layer_param_set (&n->p, spec, value);
  label = g_strdup_printf ("Change %s of %s", spec->label, node);
  key = g_strdup_printf ("param:%s:%s", node, param);
  commit (self, before, NULL, label, key, NULL, NULL);
  return TRUE;
}

static gboolean
name_ok (const char *name)
{
  if (name == NULL || name[0] == '\0' || strlen (name) > MAX_NAME_LEN)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

gboolean
lam_network_rename_node (LamNetwork *self, const char *old_name, const char *new_name, GError **error)
{
  LamGraph *before;
  LamNode *n;
  g_autofree char *label = NULL;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);

  if (lam_graph_find (self->graph, old_name) == NULL)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "No layer named “%s”", old_name);
      return FALSE;
    }
  if (g_strcmp0 (old_name, new_name) == 0)
    return TRUE;
  if (!name_ok (new_name))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "A layer name uses letters, digits, “_” and “-”, at most %d of them", MAX_NAME_LEN);
      return FALSE;
    }
  if (lam_graph_find (self->graph, new_name) != NULL)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT, "Another layer is already called “%s”",
                   new_name);
      return FALSE;
    }

  before = lam_graph_copy (self->graph);
  for (guint i = 0; i < self->graph->nodes->len; i++)
    {
      LamNode *m = g_ptr_array_index (self->graph->nodes, i);
      for (guint j = 0; j < m->inputs->len; j++)
        if (g_strcmp0 (g_ptr_array_index (m->inputs, j), old_name) == 0)
          {
            g_free (m->inputs->pdata[j]);
            m->inputs->pdata[j] = g_strdup (new_name);
          }
    }
  n = lam_graph_find (self->graph, old_name);
  g_free (n->name);
  n->name = g_strdup (new_name);
  label = g_strdup_printf ("Rename %s to %s", old_name, new_name);
  commit (self, before, NULL, label, NULL, old_name, new_name);
  return TRUE;
}

/* Copies keep their parameters and inputs; edges between copied layers
 * join the copies. Returns the copies' names in the order given. */
char **
lam_network_duplicate_nodes (LamNetwork *self, const char *const *names)
{
  LamGraph *before;
  g_autoptr(GHashTable) map = NULL;
  g_autoptr(GStrvBuilder) out = g_strv_builder_new ();
  guint n_copies = 0;

  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);

  before = lam_graph_copy (self->graph);
  map = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      const LamNode *n = lam_graph_find (before, names[i]);
      g_autofree char *name = NULL;
      LamNode *copy;

      if (n == NULL || g_hash_table_contains (map, n->name))
        continue;
      name = lam_graph_unique_name (self->graph, name_prefix (n->kind));
      copy = lam_graph_add_node (self->graph, n->kind, name);
      copy->p = n->p;
      copy->x = sane_position (n->x + 30);
      copy->y = sane_position (n->y + 30);
      g_hash_table_insert (map, n->name, copy->name);
      g_strv_builder_add (out, copy->name);
      n_copies++;
    }
  if (n_copies == 0)
    {
      lam_graph_free (before);
      return NULL;
    }
  for (guint i = 0; i < before->nodes->len; i++)
    {
      const LamNode *n = g_ptr_array_index (before->nodes, i);
      LamNode *copy;

      if (!g_hash_table_contains (map, n->name))
        continue;
      copy = lam_graph_find (self->graph, g_hash_table_lookup (map, n->name));
      for (guint j = 0; j < n->inputs->len; j++)
        {
          const char *in = g_ptr_array_index (n->inputs, j);
          const char *mapped_in = g_hash_table_lookup (map, in);
          g_ptr_array_add (copy->inputs, g_strdup (mapped_in != NULL ? mapped_in : in));
        }
    }
  commit (self, before, NULL, n_copies == 1 ? "Duplicate layer" : "Duplicate layers", NULL, NULL, NULL);
  return g_strv_builder_end (out);
}

typedef struct {
  int    index;
  int    depth;
  double key;
} TidyItem;

static int
tidy_compare (gconstpointer a, gconstpointer b)
{
  const TidyItem *x = a, *y = b;

  if (x->depth != y->depth)
    return x->depth < y->depth ? -1 : 1;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Layers in columns by their depth from the input (the longest path);
 * in a column, ordered by the mean row of their inputs, then by their
 * old height, which keeps a branch on the side the user put it. */
gboolean
lam_network_tidy (LamNetwork *self, GError **error)
{
  const LamGraph *g;
  LamGraph *before;
  g_autoptr(GArray) order = NULL;
  g_autofree int *depth = NULL;
  g_autofree double *row = NULL;
  g_autofree TidyItem *items = NULL;
  guint n;
  gboolean moved = FALSE;

  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);

  g = self->graph;
  n = g->nodes->len;
  if ((order = lam_graph_topo_order (g, error)) == NULL)
    return FALSE;

  depth = g_new0 (int, n);
  for (guint oi = 0; oi < order->len; oi++)
    {
      int i = g_array_index (order, int, oi);
      const LamNode *node = g_ptr_array_index (g->nodes, i);
      for (guint j = 0; j < node->inputs->len; j++)
        {
          int si = lam_graph_index_of (g, g_ptr_array_index (node->inputs, j));
          if (si >= 0)
            depth[i] = MAX (depth[i], depth[si] + 1);
        }
    }

  /* Rows: place column by column so each column can look at the last. */
  row = g_new0 (double, n);
  items = g_new0 (TidyItem, n);
  for (guint i = 0; i < n; i++)
    {
      const LamNode *node = g_ptr_array_index (g->nodes, i);
      items[i] = (TidyItem) { (int) i, depth[i], node->y };
    }
  qsort (items, n, sizeof *items, tidy_compare);
  for (guint start = 0; start < n;)
    {
      guint end = start;
      while (end < n && items[end].depth == items[start].depth)
        end++;
      /* Order this column by the mean row of the inputs, placed already. */
      for (guint k = start; k < end; k++)
        {
          const LamNode *node = g_ptr_array_index (g->nodes, items[k].index);
          double sum = 0;
          int count = 0;
          for (guint j = 0; j < node->inputs->len; j++)
            {
              int si = lam_graph_index_of (g, g_ptr_array_index (node->inputs, j));
              if (si >= 0 && depth[si] < items[k].depth)
                {
                  sum += row[si];
                  count++;
                }
            }
          items[k].key = count > 0 ? sum / count + node->y * 1e-6 : node->y;
        }
      qsort (items + start, end - start, sizeof *items, tidy_compare);
      for (guint k = start; k < end; k++)
        row[items[k].index] = (double) (k - start) - (double) (end - start - 1) / 2.0;
      start = end;
    }

  before = lam_graph_copy (self->graph);
  for (guint i = 0; i < n; i++)
    {
      LamNode *node = g_ptr_array_index (self->graph->nodes, i);
      double x = TIDY_ORIGIN_X + depth[i] * TIDY_COLUMN;
      double y = TIDY_ORIGIN_Y + row[i] * TIDY_ROW;
      moved |= x != node->x || y != node->y;
      node->x = x;
      node->y = y;
    }
  if (!moved)
    {
      lam_graph_free (before);
      return TRUE;
    }
  commit (self, before, NULL, "Tidy up", NULL, NULL, NULL);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* History */

gboolean
lam_network_get_can_undo (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);
  return self->undo->len > 0;
}

gboolean
lam_network_get_can_redo (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);
  return self->redo->len > 0;
}

const char *
lam_network_get_undo_label (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);
  return self->undo->len > 0 ? ((Step *) g_ptr_array_index (self->undo, self->undo->len - 1))->label : NULL;
}

const char *
lam_network_get_redo_label (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), NULL);
  return self->redo->len > 0 ? ((Step *) g_ptr_array_index (self->redo, self->redo->len - 1))->label : NULL;
}

gboolean
lam_network_undo (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);
  return travel (self, self->undo, self->redo, TRUE);
}

gboolean
lam_network_redo (LamNetwork *self)
{
  g_return_val_if_fail (LAM_IS_NETWORK (self), FALSE);
  return travel (self, self->redo, self->undo, FALSE);
}
