/* test-model-file.c: the JSON model file and the presets.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "test-model-file"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "lam-model-file.h"

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* ------------------------------------------------------------------ */
/* Presets */

static void
test_preset_names (void)
{
  const char *const *names = lam_preset_names ();
  const char *expected[] = { "mlp", "lenet5", "alexnet", "vgg", "resnet", "rnn", "lstm", "gru", "ltc",
                             "transformer", "locally-connected", "conv-twin", "charlstm" };

  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (names[i], ==, expected[i]);
  g_assert_null (names[G_N_ELEMENTS (expected)]);

  for (gsize i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = lam_preset_path (names[i]);
      g_assert_nonnull (path);
      g_assert_true (g_str_has_suffix (path, ".json"));
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }

  g_assert_null (lam_preset_path ("no-such-preset"));
  g_assert_null (lam_preset_path ("../presets/mlp"));
  g_assert_null (lam_preset_path (""));
}

static void
test_preset (gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_load_preset (name, &error);
  g_autoptr(LamModelFile) m2 = NULL;
  g_autofree char *json = NULL, *json2 = NULL;
  LamNode *input, *loss;

  g_assert_no_error (error);
  g_assert_nonnull (m);
  g_assert_nonnull (m->name);
  g_assert_cmpstr (m->name, !=, "");
  g_assert_nonnull (m->description);
  g_assert_cmpuint (strlen (m->description), >, 20);
  g_assert_cmpuint (m->graph->nodes->len, >=, 4);

  /* Fashion-MNIST input (charlstm: 50 characters of the text set), exactly one loss. */
  gboolean text = g_strcmp0 (name, "charlstm") == 0;
  input = lam_graph_input_node (m->graph);
  g_assert_nonnull (input);
  g_assert_cmpint (input->p.channels, ==, text ? 50 : 1);
  g_assert_cmpint (input->p.height, ==, text ? 1 : 28);
  g_assert_cmpint (input->p.width, ==, text ? 1 : 28);
  loss = lam_graph_loss_node (m->graph);
  g_assert_nonnull (loss);
  g_assert_cmpint (loss->kind, ==, LAM_LAYER_SOFTMAX_XENT);
  g_assert_cmpstr (m->config.data.name, ==, text ? "text" : "fashion-mnist");
  g_assert_true (lam_train_config_check (&m->config, NULL));

  /* A preset must be a valid graph that ends in 10 classes. */
  if (!lam_graph_validate (m->graph, &error))
    g_error ("preset %s: %s", name, error->message);
  g_assert_cmpint (lam_shape_size (&((LamNode *) lam_graph_find (m->graph, g_ptr_array_index (loss->inputs, 0)))->out_shape),
                   ==, text ? 64 : 10);
  g_test_message ("%s: %u nodes, %" G_GINT64_FORMAT " parameters, %.1f MFLOPs per sample",
                  name, m->graph->nodes->len, m->graph->total_params, m->graph->total_flops / 1e6);

  /* Left to right. */
  for (guint i = 1; i < m->graph->nodes->len; i++)
    {
      LamNode *n = g_ptr_array_index (m->graph->nodes, i);
      for (guint j = 0; j < n->inputs->len; j++)
        g_assert_cmpfloat (lam_graph_find (m->graph, g_ptr_array_index (n->inputs, j))->x, <, n->x);
    }

  /* Round trip: to JSON, back, to JSON again: identical. */
  json = lam_model_file_to_json (m);
  m2 = lam_model_file_parse (json, -1, "preset.json", &error);
  g_assert_no_error (error);
  g_assert_nonnull (m2);
  json2 = lam_model_file_to_json (m2);
  g_assert_cmpstr (json, ==, json2);
  g_assert_cmpstr (m2->name, ==, m->name);
  g_assert_cmpuint (m2->graph->nodes->len, ==, m->graph->nodes->len);
  for (guint i = 0; i < m->graph->nodes->len; i++)
    {
      LamNode *a = g_ptr_array_index (m->graph->nodes, i);
      LamNode *b = g_ptr_array_index (m2->graph->nodes, i);
      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpint (a->kind, ==, b->kind);
      g_assert_cmpmem (&a->p, sizeof a->p, &b->p, sizeof b->p);
      g_assert_cmpfloat (a->x, ==, b->x);
      g_assert_cmpfloat (a->y, ==, b->y);
    }
}

static void
test_preset_values (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) lenet = lam_model_file_load_preset ("lenet5", &error);
  g_autoptr(LamModelFile) mlp = NULL;
  g_autoptr(LamModelFile) resnet = NULL;
  LamNode *n;
  int n_add = 0;

  g_assert_no_error (error);
  g_assert_cmpstr (lenet->name, ==, "LeNet-5");
  n = lam_graph_find (lenet->graph, "conv1");
  g_assert_nonnull (n);
  g_assert_cmpint (n->kind, ==, LAM_LAYER_CONV2D);
  g_assert_cmpint (n->p.filters, ==, 6);
  g_assert_cmpint (n->p.kernel, ==, 5);
  g_assert_cmpint (n->p.padding, ==, 2);
  g_assert_cmpint (lenet->config.opt.kind, ==, LAM_OPT_SGD);
  g_assert_cmpfloat (lenet->config.opt.lr, ==, 0.02f);
  g_assert_cmpfloat (lenet->config.opt.momentum, ==, 0.9f);
  g_assert_cmpint (lenet->config.batch, ==, 64);
  g_assert_cmpint (lenet->config.epochs, ==, 3);

  mlp = lam_model_file_load_preset ("mlp", &error);
  g_assert_no_error (error);
  g_assert_nonnull (lam_graph_find (mlp->graph, "dense1"));
  g_assert_cmpint (lam_graph_find (mlp->graph, "dense1")->p.units, ==, 256);
  g_assert_cmpint (lam_graph_find (mlp->graph, "dense2")->p.units, ==, 128);

  resnet = lam_model_file_load_preset ("resnet", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < resnet->graph->nodes->len; i++)
    {
      n = g_ptr_array_index (resnet->graph->nodes, i);
      if (n->kind == LAM_LAYER_ADD)
        {
          g_assert_cmpuint (n->inputs->len, ==, 2);
          n_add++;
        }
    }
  g_assert_cmpint (n_add, ==, 3);
}

static void
test_presets_dir_env (void)
{
  g_autofree char *dir = tmp_path ("presets");
  g_autofree char *path = g_build_filename (dir, "mlp.json", NULL);
  g_autofree char *found = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = NULL;
  const char *json = "{\"format\": \"lamina-model\", \"version\": 1, \"name\": \"Custom\", \"nodes\": []}";

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, json, -1, NULL));
  g_setenv ("LAMINA_PRESETS_DIR", dir, TRUE);

  found = lam_preset_path ("mlp");
  g_assert_cmpstr (found, ==, path);
  m = lam_model_file_load_preset ("mlp", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (m->name, ==, "Custom");
  /* Others still come from the shipped presets. */
  g_clear_pointer (&found, g_free);
  found = lam_preset_path ("vgg");
  g_assert_nonnull (found);

  g_unsetenv ("LAMINA_PRESETS_DIR");
  g_unlink (path);
  g_rmdir (dir);

  g_assert_null (lam_model_file_load_preset ("nope", &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, "nope.json: "));
}

/* ------------------------------------------------------------------ */
/* Round trips and defaults */

static void
test_round_trip_custom (void)
{
  g_autoptr(LamModelFile) m = lam_model_file_new ();
  g_autoptr(LamModelFile) m2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL, *json2 = NULL;
  LamNode *a, *b, *c;

  g_free (m->name);
  m->name = g_strdup ("Tricky \"name\"\nwith ✓ and \\");
  g_free (m->description);
  m->description = g_strdup ("tab\there, control \x01 char");

  a = lam_graph_add_node (m->graph, LAM_LAYER_INPUT, "in");
  a->p.channels = 2;
  a->p.height = 1;
  a->p.width = 1;
  a->x = 12.5;
  a->y = -3.25;
  b = lam_graph_add_node (m->graph, LAM_LAYER_LEAKYRELU, "leaky ünïcode");
  b->p.alpha = 0.2f;
  g_ptr_array_add (b->inputs, g_strdup ("in"));
  b->x = 1.0 / 3.0;
  b->y = 2.5e-7;   /* an exponent, within the ±100000 that positions are kept to */
  c = lam_graph_add_node (m->graph, LAM_LAYER_BATCHNORM, "bn");
  c->p.eps = 1e-8f;
  c->p.momentum = 0.01f;
  g_ptr_array_add (c->inputs, g_strdup ("leaky ünïcode"));
  g_ptr_array_add (c->inputs, g_strdup ("in"));

  g_free (m->config.data.name);
  m->config.data.name = g_strdup ("spiral");
  m->config.data.n_samples = 500;
  m->config.data.noise = 0.2f;
  m->config.data.n_classes = 3;
  m->config.data.val_fraction = 0.25f;
  m->config.data.limit = 100;
  m->config.data.train_images = g_strdup ("/data/\"quoted\" dir/train-images.gz");
  m->config.opt.kind = LAM_OPT_ADAMW;
  m->config.opt.lr = 3e-4f;
  m->config.opt.weight_decay = 0.01f;
  m->config.opt.nesterov = TRUE;
  m->config.opt.schedule = LAM_SCHED_COSINE;
  m->config.opt.step_epochs = 7;
  m->config.opt.gamma = 0.5f;
  m->config.opt.beta2 = 0.98f;
  m->config.opt.eps = 1e-6f;
  m->config.epochs = 11;
  m->config.batch = 17;
  m->config.seed = G_MAXUINT64 - 5;
  g_free (m->config.backend);
  m->config.backend = g_strdup ("cpu");
  m->config.threads = 2;

  json = lam_model_file_to_json (m);
  g_test_message ("%s", json);
  m2 = lam_model_file_parse (json, -1, "custom.json", &error);
  g_assert_no_error (error);
  g_assert_nonnull (m2);
  json2 = lam_model_file_to_json (m2);
  g_assert_cmpstr (json, ==, json2);

  g_assert_cmpstr (m2->name, ==, m->name);
  g_assert_cmpstr (m2->description, ==, m->description);
  g_assert_cmpuint (m2->graph->nodes->len, ==, 3);
  a = lam_graph_find (m2->graph, "in");
  g_assert_cmpfloat (a->x, ==, 12.5);
  g_assert_cmpfloat (a->y, ==, -3.25);
  g_assert_cmpint (a->p.channels, ==, 2);
  b = lam_graph_find (m2->graph, "leaky ünïcode");
  g_assert_nonnull (b);
  g_assert_cmpfloat (b->p.alpha, ==, 0.2f);
  g_assert_cmpfloat (b->x, ==, 1.0 / 3.0);
  g_assert_cmpfloat (b->y, ==, 2.5e-7);
  c = lam_graph_find (m2->graph, "bn");
  g_assert_cmpfloat (c->p.eps, ==, 1e-8f);
  g_assert_cmpfloat (c->p.momentum, ==, 0.01f);
  g_assert_cmpuint (c->inputs->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (c->inputs, 0), ==, "leaky ünïcode");
  g_assert_cmpstr (g_ptr_array_index (c->inputs, 1), ==, "in");

  g_assert_cmpstr (m2->config.data.name, ==, "spiral");
  g_assert_cmpint (m2->config.data.n_samples, ==, 500);
  g_assert_cmpfloat (m2->config.data.noise, ==, 0.2f);
  g_assert_cmpint (m2->config.data.n_classes, ==, 3);
  g_assert_cmpfloat (m2->config.data.val_fraction, ==, 0.25f);
  g_assert_cmpint (m2->config.data.limit, ==, 100);
  g_assert_cmpstr (m2->config.data.train_images, ==, m->config.data.train_images);
  g_assert_null (m2->config.data.test_images);
  g_assert_cmpint (m2->config.opt.kind, ==, LAM_OPT_ADAMW);
  g_assert_cmpfloat (m2->config.opt.lr, ==, 3e-4f);
  g_assert_cmpfloat (m2->config.opt.weight_decay, ==, 0.01f);
  g_assert_true (m2->config.opt.nesterov);
  g_assert_cmpint (m2->config.opt.schedule, ==, LAM_SCHED_COSINE);
  g_assert_cmpint (m2->config.opt.step_epochs, ==, 7);
  g_assert_cmpfloat (m2->config.opt.gamma, ==, 0.5f);
  g_assert_cmpfloat (m2->config.opt.beta2, ==, 0.98f);
  g_assert_cmpfloat (m2->config.opt.eps, ==, 1e-6f);
  g_assert_cmpint (m2->config.epochs, ==, 11);
  g_assert_cmpint (m2->config.batch, ==, 17);
  g_assert_cmpuint (m2->config.seed, ==, G_MAXUINT64 - 5);
  g_assert_cmpstr (m2->config.backend, ==, "cpu");
  g_assert_cmpint (m2->config.threads, ==, 2);

  /* Floats print as short decimals. */
  g_assert_nonnull (strstr (json, "\"lr\": 0.0003,"));
  g_assert_nonnull (strstr (json, "\"eps\": 1e-06,"));
  g_assert_nonnull (strstr (json, "\"alpha\": 0.2}"));
  g_assert_nonnull (strstr (json, "\"position\": [12.5, -3.25]"));
}

/* Positions far off the canvas come within ±100000, and infinity
 * (1e999) to 0: the nodes stay where the canvas can show them. */
static void
test_far_positions (void)
{
  const char *json = "{\"format\": \"lamina-model\", \"version\": 1, \"nodes\": ["
                     "{\"name\": \"a\", \"type\": \"ReLU\", \"position\": [1e300, -2e5]},"
                     "{\"name\": \"b\", \"type\": \"ReLU\", \"position\": [1e999, 99999.5]}]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_parse (json, -1, "far.json", &error);

  g_assert_no_error (error);
  const LamNode *a = lam_graph_find (m->graph, "a"), *b = lam_graph_find (m->graph, "b");
  g_assert_cmpfloat (a->x, ==, 100000);
  g_assert_cmpfloat (a->y, ==, -100000);
  g_assert_cmpfloat (b->x, ==, 0);
  g_assert_cmpfloat (b->y, ==, 99999.5);
}

static void
test_defaults (void)
{
  const char *json = "{\"format\": \"lamina-model\", \"version\": 1, \"nodes\": ["
                     "{\"name\": \"c\", \"type\": \"Conv2D\", \"params\": {\"filters\": 4}}]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_parse (json, -1, "/some/where/my-net.json", &error);
  LamTrainConfig def;
  LamLayerParams p;
  LamNode *n;

  g_assert_no_error (error);
  g_assert_cmpstr (m->name, ==, "my-net");
  g_assert_cmpstr (m->description, ==, "");

  n = lam_graph_find (m->graph, "c");
  lam_layer_params_init (LAM_LAYER_CONV2D, &p);
  p.filters = 4;
  g_assert_cmpmem (&n->p, sizeof p, &p, sizeof p);
  g_assert_cmpuint (n->inputs->len, ==, 0);
  g_assert_cmpfloat (n->x, ==, 0);

  lam_train_config_init (&def);
  g_assert_cmpint (m->config.epochs, ==, def.epochs);
  g_assert_cmpint (m->config.batch, ==, def.batch);
  g_assert_cmpuint (m->config.seed, ==, def.seed);
  g_assert_cmpstr (m->config.backend, ==, def.backend);
  g_assert_cmpstr (m->config.data.name, ==, def.data.name);
  g_assert_cmpfloat (m->config.data.val_fraction, ==, def.data.val_fraction);
  g_assert_cmpmem (&m->config.opt, sizeof def.opt, &def.opt, sizeof def.opt);
  lam_train_config_clear (&def);
}

/* Unknown keys outside "params" are ignored (forward compatibility). */
static void
test_unknown_keys_ignored (void)
{
  const char *json =
    "{\"format\": \"lamina-model\", \"version\": 1, \"future\": {\"x\": [1, 2]},"
    " \"nodes\": [{\"name\": \"in\", \"type\": \"Input\", \"color\": \"red\"}],"
    " \"data\": {\"name\": \"moons\", \"augment\": true},"
    " \"training\": {\"epochs\": 5, \"clip\": 1.0, \"optimizer\": {\"kind\": \"adam\", \"amsgrad\": false}}}";
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_parse (json, -1, "model.json", &error);

  g_assert_no_error (error);
  g_assert_cmpint (m->config.epochs, ==, 5);
  g_assert_cmpint (m->config.opt.kind, ==, LAM_OPT_ADAM);
  g_assert_cmpstr (m->config.data.name, ==, "moons");
}

/* Shapes are not checked: the editor must open broken graphs. */
static void
test_invalid_graph_opens (void)
{
  const char *json =
    "{\"format\": \"lamina-model\", \"version\": 1, \"nodes\": ["
    " {\"name\": \"a\", \"type\": \"Input\"},"
    " {\"name\": \"b\", \"type\": \"Input\"},"
    " {\"name\": \"add\", \"type\": \"Add\", \"inputs\": [\"a\"]},"
    " {\"name\": \"relu\", \"type\": \"ReLU\", \"inputs\": [\"a\", \"b\", \"relu\"]},"
    " {\"name\": \"d\", \"type\": \"Dense\", \"inputs\": [\"a\"]}]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_parse (json, -1, "model.json", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (m->graph->nodes->len, ==, 5);
  g_assert_false (lam_graph_validate (m->graph, NULL));
}

/* ------------------------------------------------------------------ */
/* Files */

static void
test_save_atomic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_load_preset ("lenet5", &error);
  g_autoptr(LamModelFile) back = NULL;
  g_autofree char *dir = tmp_path ("save");
  g_autofree char *path = g_build_filename (dir, "model.json", NULL);
  g_autofree char *contents = NULL, *json = NULL;
  g_autoptr(GDir) d = NULL;
  const char *entry;
  int n_entries = 0;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "{\"old\": true}", -1, NULL));

  g_assert_true (lam_model_file_save (m, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  json = lam_model_file_to_json (m);
  g_assert_cmpstr (contents, ==, json);

  back = lam_model_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->name, ==, "LeNet-5");

  d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_assert_cmpstr (entry, ==, "model.json");
      n_entries++;
    }
  g_assert_cmpint (n_entries, ==, 1);
  g_unlink (path);
  g_rmdir (dir);

  g_assert_false (lam_model_file_save (m, path, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, "model.json: "));
}

static void
test_load_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = tmp_path ("missing.json");
  g_autofree char *big = tmp_path ("big.json");
  LamModelFile *m;
  int fd;

  m = lam_model_file_load (missing, &error);
  g_assert_null (m);
  g_assert_error (error, LAM_ERROR, LAM_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, "missing.json: "));
  g_clear_error (&error);

  m = lam_model_file_load (tmpdir, &error);
  g_assert_null (m);
  g_assert_error (error, LAM_ERROR, LAM_ERROR_IO);
  g_clear_error (&error);

  /* Over 16 MB (sparse): refused before reading. */
  fd = g_open (big, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 17 * 1024 * 1024), ==, 0);
  close (fd);
  m = lam_model_file_load (big, &error);
  g_assert_null (m);
  g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
  g_assert_true (g_str_has_prefix (error->message, "big.json: "));
  g_assert_nonnull (strstr (error->message, "16 MB"));
  g_unlink (big);
}

/* ------------------------------------------------------------------ */
/* Bad files */

#define HEAD "{\"format\": \"lamina-model\", \"version\": 1, "
#define NODES(...) HEAD "\"nodes\": [" __VA_ARGS__ "]}"
#define CONV(params) "{\"name\": \"conv1\", \"type\": \"Conv2D\", \"params\": " params "}"
#define TRAIN(t) HEAD "\"nodes\": [], \"training\": " t "}"
#define DATA(d) HEAD "\"nodes\": [], \"data\": " d "}"

typedef struct {
  const char *test;
  const char *json;
  const char *expect;      /* the message, or part of it (after "model.json: ") */
  gboolean    exact;
} BadCase;

static const BadCase bad_cases[] = {
  { "not-json", "{\n  \"format\": \"lamina-model\",\n  \"version\": 1,,\n}",
    "not valid JSON: line 3, column", FALSE },
  { "empty", "", "not a JSON object", FALSE },
  { "not-object", "[1, 2]", "the top level is not a JSON object; this is not a Lamina model file", TRUE },
  { "not-utf8", "{\"format\": \"lamina-model\", \"name\": \"\xff\"}", "UTF-8", FALSE },
  /* valid text, but json-glib reads \201 as the byte 0x81 (found by fuzz-model-file) */
  { "octal-escape", HEAD "\"name\": \"a \\2014 b\", \"nodes\": []}",
    "a string is not valid UTF-8 text once its escapes are read (an octal escape such as \\201?)", TRUE },
  { "octal-escape-key", HEAD "\"nodes\": [], \"\\377\": 1}",
    "a string is not valid UTF-8 text once its escapes are read (an octal escape such as \\201?)", TRUE },
  { "deep", "{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    "nested", FALSE },
  { "no-format", "{\"version\": 1, \"nodes\": []}", "no \"format\"", FALSE },
  { "wrong-format", "{\"format\": \"keras\", \"version\": 1, \"nodes\": []}",
    "\"format\" is \"keras\", not \"lamina-model\"; this is not a Lamina model file", TRUE },
  { "format-number", "{\"format\": 1, \"version\": 1, \"nodes\": []}", "\"format\" is not", FALSE },
  { "newer-version", "{\"format\": \"lamina-model\", \"version\": 7, \"nodes\": [{\"type\": \"Future\"}]}",
    "version 7 is newer than this Lamina understands (1)", TRUE },
  { "version-zero", "{\"format\": \"lamina-model\", \"version\": 0, \"nodes\": []}",
    "version 0 is not valid", TRUE },
  { "version-string", "{\"format\": \"lamina-model\", \"version\": \"1\", \"nodes\": []}",
    "\"version\" must be an integer", TRUE },
  { "no-version", "{\"format\": \"lamina-model\", \"nodes\": []}", "no \"version\"", TRUE },
  { "no-nodes", HEAD "\"name\": \"x\"}", "no \"nodes\" array", TRUE },
  { "nodes-object", HEAD "\"nodes\": {}}", "\"nodes\" must be an array", TRUE },
  { "node-not-object", NODES ("3"), "nodes[0] is not a JSON object", TRUE },
  { "node-no-name", NODES ("{\"type\": \"ReLU\"}"), "nodes[0] has no \"name\"", TRUE },
  { "node-empty-name", NODES ("{\"name\": \"\", \"type\": \"ReLU\"}"), "nodes[0]: the name is empty", TRUE },
  { "node-name-number", NODES ("{\"name\": 5, \"type\": \"ReLU\"}"), "nodes[0]: \"name\" must be a string", TRUE },
  { "no-type", NODES ("{\"name\": \"x\"}"), "node \"x\" has no \"type\"", TRUE },
  { "unknown-type", NODES ("{\"name\": \"x\", \"type\": \"Conv3D\"}"),
    "node \"x\": unknown layer type \"Conv3D\"", TRUE },
  { "out-of-range", NODES (CONV ("{\"kernel\": 0}")),
    "node \"conv1\": parameter \"kernel\" is 0, must be between 1 and 15", TRUE },
  { "out-of-range-high", NODES (CONV ("{\"filters\": 5000}")),
    "node \"conv1\": parameter \"filters\" is 5000, must be between 1 and 4096", TRUE },
  { "out-of-range-float", NODES ("{\"name\": \"drop\", \"type\": \"Dropout\", \"params\": {\"rate\": 0.99}}"),
    "node \"drop\": parameter \"rate\" is 0.99, must be between 0 and 0.95", TRUE },
  { "out-of-range-eps", NODES ("{\"name\": \"bn\", \"type\": \"BatchNorm\", \"params\": {\"eps\": 0}}"),
    "node \"bn\": parameter \"eps\" is 0, must be between 1e-08 and 0.1", TRUE },
  { "param-string", NODES (CONV ("{\"kernel\": \"3\"}")),
    "node \"conv1\": parameter \"kernel\" must be an integer", TRUE },
  { "param-fraction", NODES (CONV ("{\"kernel\": 2.5}")),
    "node \"conv1\": parameter \"kernel\" must be an integer", TRUE },
  { "param-bool-int", NODES (CONV ("{\"bias\": 1}")),
    "node \"conv1\": parameter \"bias\" must be true or false", TRUE },
  { "param-float-string", NODES ("{\"name\": \"l\", \"type\": \"LeakyReLU\", \"params\": {\"alpha\": \"x\"}}"),
    "node \"l\": parameter \"alpha\" must be a number", TRUE },
  { "unknown-param", NODES (CONV ("{\"kernal\": 3}")),
    "node \"conv1\": unknown parameter \"kernal\" for Conv2D", TRUE },
  { "param-of-other-layer", NODES ("{\"name\": \"r\", \"type\": \"ReLU\", \"params\": {\"units\": 3}}"),
    "node \"r\": unknown parameter \"units\" for ReLU", TRUE },
  { "params-array", NODES (CONV ("[3]")), "node \"conv1\": \"params\" must be a JSON object", TRUE },
  { "duplicate-name", NODES (CONV ("{}") ", " CONV ("{}")),
    "node \"conv1\": the name is used twice", TRUE },
  { "unknown-input", NODES ("{\"name\": \"in\", \"type\": \"Input\"},"
                            "{\"name\": \"r\", \"type\": \"ReLU\", \"inputs\": [\"in\", \"nope\"]}"),
    "node \"r\": input \"nope\" is not a node", TRUE },
  { "input-not-string", NODES ("{\"name\": \"r\", \"type\": \"ReLU\", \"inputs\": [1]}"),
    "node \"r\": inputs[0] is not a node name (a string)", TRUE },
  { "inputs-string", NODES ("{\"name\": \"r\", \"type\": \"ReLU\", \"inputs\": \"in\"}"),
    "node \"r\": \"inputs\" must be an array of node names", TRUE },
  { "position-short", NODES ("{\"name\": \"r\", \"type\": \"ReLU\", \"position\": [1]}"),
    "node \"r\": \"position\" must be [x, y]", TRUE },
  { "position-string", NODES ("{\"name\": \"r\", \"type\": \"ReLU\", \"position\": [\"1\", 2]}"),
    "node \"r\": \"position\" must be [x, y]", TRUE },
  { "bad-optimizer", TRAIN ("{\"optimizer\": {\"kind\": \"sgdd\"}}"),
    "\"training.optimizer.kind\": unknown optimizer \"sgdd\" (use sgd, adam or adamw)", TRUE },
  { "bad-schedule", TRAIN ("{\"optimizer\": {\"schedule\": \"linear\"}}"),
    "unknown schedule \"linear\"", FALSE },
  { "negative-lr", TRAIN ("{\"optimizer\": {\"lr\": -0.1}}"), "-0.1", FALSE },
  { "lr-string", TRAIN ("{\"optimizer\": {\"lr\": \"fast\"}}"),
    "\"training.optimizer.lr\" must be a number", TRUE },
  { "lr-huge", TRAIN ("{\"optimizer\": {\"lr\": 1e300}}"),
    "\"training.optimizer.lr\" is out of range (1e+300)", TRUE },
  { "nesterov-int", TRAIN ("{\"optimizer\": {\"nesterov\": 1}}"),
    "\"training.optimizer.nesterov\" must be true or false", TRUE },
  { "optimizer-array", TRAIN ("{\"optimizer\": []}"), "\"training.optimizer\" must be a JSON object", TRUE },
  { "epochs-string", TRAIN ("{\"epochs\": \"3\"}"), "\"training.epochs\" must be an integer", TRUE },
  { "epochs-zero", TRAIN ("{\"epochs\": 0}"), "epochs", FALSE },
  { "epochs-huge", TRAIN ("{\"epochs\": 99999999999}"), "\"training.epochs\" is out of range (99999999999)", TRUE },
  { "batch-fraction", TRAIN ("{\"batch\": 6.5}"), "\"training.batch\" must be an integer", TRUE },
  { "backend-unknown", TRAIN ("{\"backend\": \"tpu\"}"), "tpu", FALSE },
  { "backend-number", TRAIN ("{\"backend\": 1}"), "\"training.backend\" must be a string", TRUE },
  { "training-array", HEAD "\"nodes\": [], \"training\": []}", "\"training\" must be a JSON object", TRUE },
  { "data-string", DATA ("\"mnist\""), "\"data\" must be a JSON object", TRUE },
  { "data-unknown", DATA ("{\"name\": \"imagenet\"}"), "\"data.name\": unknown dataset \"imagenet\"", FALSE },
  { "data-val", DATA ("{\"val_fraction\": 0.7}"), "\"data.val_fraction\" is 0.7, must be between 0 and 0.5", TRUE },
  { "data-limit", DATA ("{\"limit\": -1}"), "\"data.limit\" is -1", FALSE },
  { "data-noise", DATA ("{\"name\": \"spiral\", \"noise\": 2}"), "\"data.noise\" is 2", FALSE },
  { "data-path-number", DATA ("{\"name\": \"idx\", \"train_images\": 3}"),
    "\"data.train_images\" must be a string", TRUE },
  { "name-number", HEAD "\"name\": 3, \"nodes\": []}", "\"name\" must be a string", TRUE },
};

static void
test_bad_case (gconstpointer data)
{
  const BadCase *c = data;
  g_autoptr(GError) error = NULL;
  LamModelFile *m = lam_model_file_parse (c->json, -1, "/tmp/dir/model.json", &error);
  const char *msg;

  g_assert_null (m);
  g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "model.json: "));
  msg = error->message + strlen ("model.json: ");
  if (c->exact)
    g_assert_cmpstr (msg, ==, c->expect);
  else if (strstr (msg, c->expect) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", error->message, c->expect);
}

static void
test_truncated (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_load_preset ("resnet", &error);
  g_autofree char *json = lam_model_file_to_json (m);
  gsize len = strlen (json);

  g_assert_cmpint (json[len - 1], ==, '\n');
  for (gsize cut = 0; cut + 1 < len; cut++)
    {
      LamModelFile *t = lam_model_file_parse (json, (gssize) cut, "cut.json", &error);
      g_assert_null (t);
      g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
      g_assert_true (g_str_has_prefix (error->message, "cut.json: "));
      g_clear_error (&error);
    }
}

static void
test_fuzz (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LamModelFile) m = lam_model_file_load_preset ("lenet5", &error);
  g_autofree char *json = lam_model_file_to_json (m);
  g_autoptr(GRand) rand = g_rand_new_with_seed (99);
  gsize len = strlen (json);
  int n_ok = 0;

  for (int iter = 0; iter < 2000; iter++)
    {
      g_autofree char *copy = g_strdup (json);
      LamModelFile *t;
      int n = g_rand_int_range (rand, 1, 4);

      for (int k = 0; k < n; k++)
        {
          gsize at = (gsize) g_rand_int_range (rand, 0, (gint32) len);
          copy[at] = "0123456789-+.eE[]{}\",: tfnx\\"[g_rand_int_range (rand, 0, 28)];
        }
      t = lam_model_file_parse (copy, (gssize) len, "fuzz.json", &error);
      if (t != NULL)
        {
          g_autofree char *again = lam_model_file_to_json (t);
          LamModelFile *t2 = lam_model_file_parse (again, -1, "fuzz.json", NULL);
          g_assert_nonnull (t2);   /* what was accepted writes back readably */
          lam_model_file_free (t2);
          lam_model_file_free (t);
          n_ok++;
        }
      else
        {
          g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
          g_assert_true (g_str_has_prefix (error->message, "fuzz.json: "));
          g_clear_error (&error);
        }
    }
  g_test_message ("%d of 2000 mutated files parsed", n_ok);
}

int
main (int argc, char **argv)
{
  const char *const *names;
  int ret;

  g_test_init (&argc, &argv, NULL);

  /* The shipped presets, not whatever the environment points at. */
  g_unsetenv ("LAMINA_PRESETS_DIR");
  tmpdir = g_dir_make_tmp ("lamina-mf-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/engine/model-file/preset-names", test_preset_names);
  names = lam_preset_names ();
  for (gsize i = 0; names[i] != NULL; i++)
    {
      g_autofree char *p = g_strdup_printf ("/engine/model-file/preset/%s", names[i]);
      g_test_add_data_func (p, names[i], test_preset);
    }
  g_test_add_func ("/engine/model-file/preset-values", test_preset_values);
  g_test_add_func ("/engine/model-file/presets-dir-env", test_presets_dir_env);
  g_test_add_func ("/engine/model-file/round-trip", test_round_trip_custom);
  g_test_add_func ("/engine/model-file/defaults", test_defaults);
  g_test_add_func ("/engine/model-file/unknown-keys-ignored", test_unknown_keys_ignored);
  g_test_add_func ("/engine/model-file/invalid-graph-opens", test_invalid_graph_opens);
  g_test_add_func ("/engine/model-file/save-atomic", test_save_atomic);
  g_test_add_func ("/engine/model-file/load-errors", test_load_errors);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *p = g_strdup_printf ("/engine/model-file/bad/%s", bad_cases[i].test);
      g_test_add_data_func (p, &bad_cases[i], test_bad_case);
    }
  g_test_add_func ("/engine/model-file/truncated", test_truncated);
  g_test_add_func ("/engine/model-file/fuzz", test_fuzz);
  g_test_add_func ("/engine/model-file/far-positions", test_far_positions);

  ret = g_test_run ();

  g_rmdir (tmpdir);
  g_free (tmpdir);
  return ret;
}
