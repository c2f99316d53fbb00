/* test-gui-network.c: LamNetwork, the model behind the editor: edits,
 * signals, undo/redo (of the graph and of the training settings, in one
 * history), the modified state and file round trips.
 * Needs no display.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "test-gui-network"

#include <glib/gstdio.h>

#include "lam-network.h"

typedef struct {
  GString *log;   /* "+conv1 -conv1 >a:b <a:b =a:b changed reset" */
} Recorder;

static void
on_node (LamNetwork *n, const char *name, gpointer data)
{
  GString *log = data;
  const char *sig = g_signal_name (g_signal_get_invocation_hint (n)->signal_id);
  g_string_append_printf (log, "%c%s ", g_str_equal (sig, "node-added") ? '+' : '-', name);
}

static void
on_pair (LamNetwork *n, const char *a, const char *b, gpointer data)
{
  GString *log = data;
  const char *sig = g_signal_name (g_signal_get_invocation_hint (n)->signal_id);
  char c = g_str_equal (sig, "edge-added") ? '>' : g_str_equal (sig, "edge-removed") ? '<' : '=';
  g_string_append_printf (log, "%c%s:%s ", c, a, b);
}

static void
on_plain (LamNetwork *n, gpointer data)
{
  GString *log = data;
  g_string_append_printf (log, "%s ", g_signal_name (g_signal_get_invocation_hint (n)->signal_id));
}

static GString *
record (LamNetwork *net)
{
  GString *log = g_string_new (NULL);
  g_signal_connect (net, "node-added", G_CALLBACK (on_node), log);
  g_signal_connect (net, "node-removed", G_CALLBACK (on_node), log);
  g_signal_connect (net, "edge-added", G_CALLBACK (on_pair), log);
  g_signal_connect (net, "edge-removed", G_CALLBACK (on_pair), log);
  g_signal_connect (net, "node-renamed", G_CALLBACK (on_pair), log);
  g_signal_connect (net, "config-changed", G_CALLBACK (on_plain), log);
  g_signal_connect (net, "changed", G_CALLBACK (on_plain), log);
  g_signal_connect (net, "reset", G_CALLBACK (on_plain), log);
  return log;
}

static char *
take_log (GString *log)
{
  char *s = g_strdup (g_strchomp (log->str));
  g_string_truncate (log, 0);
  return s;
}

#define assert_log(log, expected) G_STMT_START { \
  g_autofree char *_got = take_log (log); \
  g_assert_cmpstr (_got, ==, expected); \
} G_STMT_END

static void
test_edit_signals_undo (void)
{
  g_autoptr(LamNetwork) net = lam_network_new ();
  g_autoptr(GString) log = record (net);
  g_autoptr(GError) error = NULL;
  const char *in, *dense, *loss;

  g_assert_false (lam_network_get_valid (net));
  g_assert_false (lam_network_get_modified (net));
  g_assert_false (lam_network_get_can_undo (net));

  in = lam_network_add_node (net, LAM_LAYER_INPUT, 0, 0);
  g_assert_cmpstr (in, ==, "input1");
  assert_log (log, "+input1 changed");
  g_assert_true (lam_network_get_modified (net));
  g_assert_cmpstr (lam_network_get_undo_label (net), ==, "Add Input");

  dense = lam_network_add_node (net, LAM_LAYER_DENSE, 200, 0);
  loss = lam_network_add_node (net, LAM_LAYER_SOFTMAX_XENT, 400, 0);
  g_assert_cmpstr (dense, ==, "dense1");
  g_assert_cmpstr (loss, ==, "loss1");
  g_string_truncate (log, 0);

  g_assert_true (lam_network_connect (net, "input1", "dense1", &error));
  g_assert_no_error (error);
  assert_log (log, ">input1:dense1 changed");
  g_assert_false (lam_network_get_valid (net));   /* dense1 leads nowhere */
  g_assert_true (lam_network_connect (net, "dense1", "loss1", NULL));
  g_assert_true (lam_network_get_valid (net));
  g_assert_null (lam_network_get_problem (net));

  /* Refused connections */
  g_assert_false (lam_network_connect (net, "loss1", "dense1", &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_INVALID_GRAPH);
  g_clear_error (&error);
  g_assert_false (lam_network_connect (net, "dense1", "input1", &error));
  g_clear_error (&error);
  g_assert_false (lam_network_connect (net, "dense1", "dense1", &error));
  g_clear_error (&error);
  g_assert_false (lam_network_connect (net, "input1", "dense1", &error));   /* already */
  g_clear_error (&error);
  g_string_truncate (log, 0);

  /* A cycle is refused: dense2 → dense1 while dense1 → dense2 */
  lam_network_add_node (net, LAM_LAYER_DENSE, 200, 200);
  g_assert_true (lam_network_connect (net, "dense1", "dense2", NULL));
  g_assert_false (lam_network_connect (net, "dense2", "dense1", &error));
  g_assert_nonnull (strstr (error->message, "loop"));
  g_clear_error (&error);
  g_assert_true (lam_network_undo (net));
  g_assert_true (lam_network_undo (net));
  g_string_truncate (log, 0);

  /* Delete, undo, redo */
  {
    const char *names[] = { "dense1", NULL };
    g_assert_true (lam_network_remove_nodes (net, names));
  }
  assert_log (log, "<input1:dense1 <dense1:loss1 -dense1 changed");
  g_assert_false (lam_network_get_valid (net));
  g_assert_true (lam_network_undo (net));
  assert_log (log, "+dense1 >input1:dense1 >dense1:loss1 changed");
  g_assert_true (lam_network_get_valid (net));
  g_assert_true (lam_network_redo (net));
  assert_log (log, "<input1:dense1 <dense1:loss1 -dense1 changed");
  g_assert_true (lam_network_undo (net));
  g_string_truncate (log, 0);

  /* Rename announces itself and rewires */
  g_assert_false (lam_network_rename_node (net, "dense1", "loss1", &error));
  g_clear_error (&error);
  g_assert_false (lam_network_rename_node (net, "dense1", "bad name", &error));
  g_clear_error (&error);
  g_assert_true (lam_network_rename_node (net, "dense1", "hidden", &error));
  assert_log (log, "=dense1:hidden changed");
  g_assert_cmpstr (g_ptr_array_index (lam_network_get_node (net, "loss1")->inputs, 0), ==, "hidden");
  g_assert_true (lam_network_undo (net));
  assert_log (log, "=hidden:dense1 changed");
  g_assert_nonnull (lam_network_get_node (net, "dense1"));

  /* Parameter changes merge while they are in a row */
  g_assert_true (lam_network_set_param (net, "dense1", "units", 11));
  g_assert_true (lam_network_set_param (net, "dense1", "units", 12));
  g_assert_false (lam_network_set_param (net, "dense1", "units", 12));
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 12);
  g_assert_true (lam_network_set_param (net, "dense1", "units", 1e9));    /* clamped */
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 65536);
  g_assert_true (lam_network_undo (net));
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 10);
  g_assert_true (lam_network_redo (net));
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 65536);
  g_assert_true (lam_network_undo (net));

  /* Moves */
  {
    const char *names[] = { "dense1", "loss1", NULL };
    g_assert_true (lam_network_move_nodes (net, names, 10, 5));
    g_assert_true (lam_network_move_nodes (net, names, 10, 5));
    g_assert_cmpfloat (lam_network_get_node (net, "loss1")->x, ==, 420);
    g_assert_true (lam_network_undo (net));
    g_assert_cmpfloat (lam_network_get_node (net, "loss1")->x, ==, 400);
  }
}

static void
test_duplicate_tidy (void)
{
  g_autoptr(LamNetwork) net = lam_network_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) copies = NULL;
  const char *names[] = { "conv1", "relu1", NULL };
  const LamNode *c;

  g_assert_true (lam_network_load_preset (net, "lenet5", &error));
  g_assert_no_error (error);
  g_assert_true (lam_network_get_valid (net));
  g_assert_false (lam_network_get_modified (net));

  copies = lam_network_duplicate_nodes (net, names);
  g_assert_cmpuint (g_strv_length (copies), ==, 2);
  c = lam_network_get_node (net, copies[1]);
  g_assert_cmpint (c->kind, ==, LAM_LAYER_RELU);
  g_assert_cmpstr (g_ptr_array_index (c->inputs, 0), ==, copies[0]);   /* internal edge joins the copies */
  c = lam_network_get_node (net, copies[0]);
  g_assert_cmpint (c->p.filters, ==, 6);
  g_assert_cmpstr (g_ptr_array_index (c->inputs, 0), ==, "input");     /* outside input is kept */
  g_assert_false (lam_network_get_valid (net));                          /* the copies lead nowhere */
  g_assert_true (lam_network_undo (net));
  g_assert_true (lam_network_get_valid (net));
  g_assert_false (lam_network_get_modified (net));

  g_assert_true (lam_network_tidy (net, &error));
  g_assert_no_error (error);
  /* A chain: one row, one column per depth */
  g_assert_cmpfloat (lam_network_get_node (net, "input")->x, <, lam_network_get_node (net, "conv1")->x);
  g_assert_cmpfloat (lam_network_get_node (net, "loss")->y, ==, lam_network_get_node (net, "input")->y);
  g_assert_true (lam_network_get_modified (net));
  g_assert_true (lam_network_undo (net));
  g_assert_cmpfloat (lam_network_get_node (net, "conv1")->x, ==, 210);
}

static void
test_tidy_branches (void)
{
  g_autoptr(LamNetwork) net = lam_network_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (lam_network_load_preset (net, "resnet", &error));
  g_assert_true (lam_network_tidy (net, &error));
  /* The skip branch sits beside the main branch, not on it */
  g_assert_cmpfloat (lam_network_get_node (net, "block3_skip_conv")->x, ==,
                     lam_network_get_node (net, "block3_conv1")->x);
  g_assert_cmpfloat (lam_network_get_node (net, "block3_skip_conv")->y, !=,
                     lam_network_get_node (net, "block3_conv1")->y);
}

static void
test_save_round_trip (void)
{
  g_autoptr(LamNetwork) net = lam_network_new ();
  g_autoptr(LamNetwork) net2 = lam_network_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lamina-net-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "m.json", NULL);
  g_autofree char *json = NULL, *json2 = NULL;
  g_autofree char *before = NULL;

  g_assert_true (lam_network_load_preset (net, "vgg", &error));
  lam_network_set_param (net, "conv1", "filters", 7);
  g_assert_true (lam_network_get_modified (net));
  g_assert_true (lam_network_save (net, path, &error));
  g_assert_no_error (error);
  g_assert_false (lam_network_get_modified (net));
  /* Undo past the save point is a modification, redo comes back to it */
  g_assert_true (lam_network_undo (net));
  g_assert_true (lam_network_get_modified (net));
  g_assert_true (lam_network_redo (net));
  g_assert_false (lam_network_get_modified (net));

  g_assert_true (lam_network_load_file (net2, path, &error));
  json = lam_network_to_json (net);
  json2 = lam_network_to_json (net2);
  g_assert_cmpstr (json, ==, json2);
  g_assert_cmpstr (lam_network_get_name (net2), ==, "VGG (small)");

  /* A failed load keeps what was there */
  g_assert_true (g_file_set_contents (path, "{\"format\": \"lamina-model\", \"nodes\": 3}", -1, NULL));
  before = lam_network_to_json (net2);
  g_assert_false (lam_network_load_file (net2, path, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
  json2 = (g_free (json2), lam_network_to_json (net2));
  g_assert_cmpstr (json2, ==, before);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_totals (void)
{
  g_autoptr(LamNetwork) net = lam_network_new ();
  LamNetworkTotals t;
  g_autofree char *summary = NULL;

  g_assert_true (lam_network_load_preset (net, "lenet5", NULL));
  lam_network_get_totals (net, &t);
  g_assert_cmpuint (t.n_layers, ==, 14);
  g_assert_cmpint (t.params, ==, lam_network_get_graph (net)->total_params);
  g_assert_cmpint (t.params, ==, 61706);
  g_assert_cmpint (t.batch, ==, 64);
  g_assert_cmpint (t.bytes_per_batch, ==, 4 * (64 * t.activations + t.params));

  summary = lam_network_layer_summary (lam_network_get_node (net, "conv1"));
  g_assert_cmpstr (summary, ==, "6 filters 5×5 pad 2");
  g_clear_pointer (&summary, g_free);
  summary = lam_network_layer_summary (lam_network_get_node (net, "pool1"));
  g_assert_cmpstr (summary, ==, "2×2");
}

static void
test_layer_kind_type (void)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (LAM_TYPE_LAYER_KIND);
  GEnumValue *v = g_enum_get_value (klass, LAM_LAYER_CONV2D);

  g_assert_cmpstr (v->value_name, ==, "Conv2D");
  g_assert_cmpuint (klass->n_values, ==, LAM_N_LAYER_KINDS);
}

static void
test_finalize (void)
{
  LamNetwork *net = lam_network_new ();
  LamTrainConfig c;

  g_assert_true (lam_network_load_preset (net, "resnet", NULL));
  lam_network_tidy (net, NULL);
  lam_network_undo (net);
  /* settings steps on both lists, with their strings */
  lam_train_config_copy (&c, lam_network_get_config (net));
  g_free (c.backend);
  c.backend = g_strdup ("cpu");
  g_assert_true (lam_network_set_config (net, &c, "Change Backend", NULL));
  g_free (c.data.name);
  c.data.name = g_strdup ("spiral");
  g_assert_true (lam_network_set_config (net, &c, "Change Dataset", NULL));
  lam_train_config_clear (&c);
  lam_network_undo (net);
  g_assert_finalize_object (net);
}

/* ------------------------------------------------------------------ */
/* Training settings in the history */

/* A copy of the network's settings, to change and hand back. */
static LamTrainConfig
config_copy (LamNetwork *net)
{
  LamTrainConfig c;

  lam_train_config_copy (&c, lam_network_get_config (net));
  return c;
}

/* Sets one float field through lam_network_set_config. */
static gboolean
set_lr (LamNetwork *net, float lr, const char *merge_key)
{
  LamTrainConfig c = config_copy (net);
  gboolean ok;

  c.opt.lr = lr;
  ok = lam_network_set_config (net, &c, "Change Learning Rate", merge_key);
  lam_train_config_clear (&c);
  return ok;
}

static gboolean
set_optimizer (LamNetwork *net, LamOptKind kind)
{
  LamTrainConfig c = config_copy (net);
  gboolean ok;

  c.opt.kind = kind;
  ok = lam_network_set_config (net, &c, "Change Optimizer", NULL);
  lam_train_config_clear (&c);
  return ok;
}

/* The settings as the model file writes them, every field. */
static char *
config_json (LamNetwork *net)
{
  g_autoptr(LamModelFile) m = lam_network_to_model_file (net);

  lam_graph_free (m->graph);
  m->graph = lam_graph_new ();
  return lam_model_file_to_json (m);
}

static void
test_config_undo (void)
{
  g_autoptr(LamNetwork) net = lam_network_new ();
  g_autoptr(GString) log = NULL;
  g_autofree char *saved = NULL, *changed = NULL, *again = NULL;
  LamTrainConfig c;

  g_assert_true (lam_network_load_preset (net, "lenet5", NULL));
  log = record (net);
  saved = config_json (net);
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, !=, 0.125f);

  /* one change is one step, announced, and marks the network modified */
  c = config_copy (net);
  c.opt.lr = 0.125f;
  c.opt.kind = LAM_OPT_ADAMW;
  c.epochs = 9;
  c.batch = 17;
  c.seed = 12345;
  c.opt.weight_decay = 0.25f;
  c.data.val_fraction = 0.125f;
  g_free (c.data.name);
  c.data.name = g_strdup ("spiral");
  c.data.n_samples = 321;
  g_free (c.backend);
  c.backend = g_strdup ("cpu");
  g_assert_true (lam_network_set_config (net, &c, "Change Several Things", NULL));
  assert_log (log, "config-changed changed");
  g_assert_true (lam_network_get_modified (net));
  g_assert_true (lam_network_get_can_undo (net));
  g_assert_false (lam_network_get_can_redo (net));
  g_assert_cmpstr (lam_network_get_undo_label (net), ==, "Change Several Things");
  /* the network keeps its own copy */
  g_assert_true (lam_network_get_config (net) != &c);
  g_assert_true (lam_network_get_config (net)->data.name != c.data.name);
  g_assert_cmpstr (lam_network_get_config (net)->data.name, ==, "spiral");
  /* the same settings again record nothing */
  g_assert_false (lam_network_set_config (net, &c, "Change Nothing", NULL));
  assert_log (log, "");
  g_assert_cmpstr (lam_network_get_undo_label (net), ==, "Change Several Things");
  lam_train_config_clear (&c);
  changed = config_json (net);
  g_assert_cmpstr (changed, !=, saved);

  /* undo restores the exact settings, graph untouched; redo reapplies */
  g_assert_true (lam_network_undo (net));
  assert_log (log, "config-changed changed");
  again = config_json (net);
  g_assert_cmpstr (again, ==, saved);
  g_assert_false (lam_network_get_modified (net));
  g_assert_cmpstr (lam_network_get_redo_label (net), ==, "Change Several Things");
  g_assert_true (lam_network_redo (net));
  assert_log (log, "config-changed changed");
  g_clear_pointer (&again, g_free);
  again = config_json (net);
  g_assert_cmpstr (again, ==, changed);
  g_assert_cmpstr (lam_network_get_config (net)->backend, ==, "cpu");
  g_assert_cmpint (lam_network_get_config (net)->seed, ==, 12345);
  g_assert_true (lam_network_get_modified (net));
  g_assert_cmpuint (lam_network_get_graph (net)->nodes->len, ==, 14);
}

static void
test_config_merge (void)
{
  g_autoptr(LamNetwork) net = lam_network_new ();
  float lr0;

  g_assert_true (lam_network_load_preset (net, "lenet5", NULL));
  lr0 = lam_network_get_config (net)->opt.lr;
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, ==, LAM_OPT_SGD);

  /* typing a rate, or holding the arrow: one step */
  g_assert_true (set_lr (net, 0.025f, "lr"));
  g_assert_true (set_lr (net, 0.03f, "lr"));
  g_assert_true (set_lr (net, 0.04f, "lr"));
  g_assert_false (set_lr (net, 0.04f, "lr"));
  /* another key starts a step of its own */
  g_assert_true (set_lr (net, 0.05f, "lr:running-1"));
  g_assert_true (set_lr (net, 0.06f, "lr:running-1"));
  /* and no key never merges */
  g_assert_true (set_optimizer (net, LAM_OPT_ADAM));
  g_assert_true (set_optimizer (net, LAM_OPT_SGD));

  g_assert_true (lam_network_undo (net));
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, ==, LAM_OPT_ADAM);
  g_assert_true (lam_network_undo (net));
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, ==, LAM_OPT_SGD);
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.06f);
  g_assert_true (lam_network_undo (net));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.04f);
  g_assert_true (lam_network_undo (net));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, lr0);
  g_assert_false (lam_network_get_can_undo (net));
  g_assert_false (lam_network_get_modified (net));

  /* undo and redo end a merge: the next change is a step of its own */
  g_assert_true (set_lr (net, 0.5f, "lr"));
  g_assert_true (lam_network_undo (net));
  g_assert_true (lam_network_redo (net));
  g_assert_true (set_lr (net, 0.25f, "lr"));
  g_assert_true (lam_network_undo (net));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.5f);

  /* a setting never merges with a graph edit that used the same key */
  lam_network_add_node (net, LAM_LAYER_DENSE, 0, 0);
  g_assert_true (lam_network_set_param (net, "dense1", "units", 20));
  g_assert_true (set_lr (net, 0.125f, "param:dense1:units"));
  g_assert_true (lam_network_undo (net));
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 20);
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.5f);
  g_assert_true (lam_network_undo (net));
  g_assert_true (lam_network_undo (net));

  /* nor across a save: the saved state stays reachable */
  lam_network_set_saved (net);
  g_assert_true (set_lr (net, 0.75f, "lr"));
  g_assert_true (set_lr (net, 0.875f, "lr"));
  g_assert_true (lam_network_undo (net));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.5f);
  g_assert_false (lam_network_get_modified (net));
}

static void
test_config_interleave (void)
{
  g_autoptr(LamNetwork) net = lam_network_new ();
  g_autoptr(GString) log = record (net);
  float lr0 = lam_network_get_config (net)->opt.lr;
  const char *names[] = { "dense1", NULL };

  /* graph, settings, graph, settings */
  lam_network_add_node (net, LAM_LAYER_DENSE, 0, 0);
  g_assert_true (set_lr (net, 0.5f, "lr"));
  g_assert_true (lam_network_set_param (net, "dense1", "units", 20));
  g_assert_true (set_optimizer (net, LAM_OPT_ADAMW));
  g_string_truncate (log, 0);

  /* undone in the order they were made, each restoring only its part */
  g_assert_cmpstr (lam_network_get_undo_label (net), ==, "Change Optimizer");
  g_assert_true (lam_network_undo (net));
  assert_log (log, "config-changed changed");
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, !=, LAM_OPT_ADAMW);
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 20);

  g_assert_cmpstr (lam_network_get_undo_label (net), ==, "Change Units of dense1");
  g_assert_true (lam_network_undo (net));
  assert_log (log, "changed");   /* the settings did not change: no config-changed */
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 10);
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.5f);

  g_assert_cmpstr (lam_network_get_undo_label (net), ==, "Change Learning Rate");
  g_assert_true (lam_network_undo (net));
  assert_log (log, "config-changed changed");
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, lr0);
  g_assert_nonnull (lam_network_get_node (net, "dense1"));

  g_assert_true (lam_network_undo (net));
  assert_log (log, "-dense1 changed");
  g_assert_false (lam_network_get_can_undo (net));

  /* and redone in order */
  g_assert_true (lam_network_redo (net));
  assert_log (log, "+dense1 changed");
  g_assert_true (lam_network_redo (net));
  assert_log (log, "config-changed changed");
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.5f);
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 10);
  g_assert_true (lam_network_redo (net));
  g_assert_cmpint (lam_network_get_node (net, "dense1")->p.units, ==, 20);
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.5f);
  g_assert_true (lam_network_get_can_redo (net));

  /* a graph edit after undo clears redo, settings steps included */
  g_assert_true (lam_network_undo (net));
  g_assert_true (lam_network_undo (net));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, lr0);
  g_assert_true (lam_network_remove_nodes (net, names));
  g_assert_false (lam_network_get_can_redo (net));
  g_assert_null (lam_network_get_redo_label (net));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, lr0);
  /* ... and so does a settings change */
  g_assert_true (lam_network_undo (net));
  g_assert_true (lam_network_get_can_redo (net));
  g_assert_true (set_optimizer (net, LAM_OPT_ADAM));
  g_assert_false (lam_network_get_can_redo (net));
  g_assert_nonnull (lam_network_get_node (net, "dense1"));
}

static void
test_config_modified (void)
{
  g_autoptr(LamNetwork) net = lam_network_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lamina-net-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "m.json", NULL);
  g_autoptr(LamModelFile) back = NULL;
  guint notified = 0;

  g_assert_true (lam_network_load_preset (net, "mlp", NULL));
  g_signal_connect_swapped (net, "notify::modified", G_CALLBACK (g_atomic_int_inc), &notified);
  g_assert_false (lam_network_get_modified (net));

  /* a settings change, a graph edit, another settings change; save */
  g_assert_true (set_lr (net, 0.5f, "lr"));
  g_assert_true (lam_network_get_modified (net));
  g_assert_cmpuint (notified, ==, 1);
  lam_network_add_node (net, LAM_LAYER_RELU, 0, 0);
  g_assert_true (set_optimizer (net, LAM_OPT_ADAM));
  g_assert_true (lam_network_save (net, path, &error));
  g_assert_no_error (error);
  g_assert_false (lam_network_get_modified (net));
  g_assert_cmpuint (notified, ==, 2);
  back = lam_model_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (back->config.opt.lr, ==, 0.5f);
  g_assert_cmpint (back->config.opt.kind, ==, LAM_OPT_ADAM);

  /* a settings change after the save, undone: back to clean */
  g_assert_true (set_lr (net, 0.25f, "lr"));
  g_assert_true (lam_network_get_modified (net));
  g_assert_true (lam_network_undo (net));
  g_assert_false (lam_network_get_modified (net));
  g_assert_cmpuint (notified, ==, 4);
  /* undo past the save point, then redo to it */
  g_assert_true (lam_network_undo (net));
  g_assert_true (lam_network_get_modified (net));
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, ==, LAM_OPT_SGD);
  g_assert_true (lam_network_redo (net));
  g_assert_false (lam_network_get_modified (net));
  g_assert_cmpint (lam_network_get_config (net)->opt.kind, ==, LAM_OPT_ADAM);
  /* the undone change after the save is still there to redo, modified */
  g_assert_true (lam_network_redo (net));
  g_assert_true (lam_network_get_modified (net));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.25f);

  /* loading starts a fresh, clean history */
  g_assert_true (lam_network_load_file (net, path, &error));
  g_assert_false (lam_network_get_modified (net));
  g_assert_false (lam_network_get_can_undo (net));
  g_assert_cmpfloat (lam_network_get_config (net)->opt.lr, ==, 0.5f);

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/LamNetwork/edit-signals-undo", test_edit_signals_undo);
  g_test_add_func ("/ui/LamNetwork/duplicate-tidy", test_duplicate_tidy);
  g_test_add_func ("/ui/LamNetwork/tidy-branches", test_tidy_branches);
  g_test_add_func ("/ui/LamNetwork/save-round-trip", test_save_round_trip);
  g_test_add_func ("/ui/LamNetwork/totals", test_totals);
  g_test_add_func ("/ui/LamNetwork/layer-kind-type", test_layer_kind_type);
  g_test_add_func ("/ui/LamNetwork/finalize", test_finalize);
  g_test_add_func ("/ui/LamNetwork/config-undo", test_config_undo);
  g_test_add_func ("/ui/LamNetwork/config-merge", test_config_merge);
  g_test_add_func ("/ui/LamNetwork/config-interleave", test_config_interleave);
  g_test_add_func ("/ui/LamNetwork/config-modified", test_config_modified);
  return g_test_run ();
}
