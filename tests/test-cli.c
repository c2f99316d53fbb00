/* test-cli.c: lamina-train as a user runs it: a small successful run,
 * its JSON summary and log, checkpoints, and one clear line on standard
 * error with exit status 2 for every kind of bad input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "test-cli"

#include "config.h"

#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

static char *tmpdir;
static char *exe;

/* A 2-D model for the synthetic sets: trains in milliseconds. */
static const char moons_json[] =
  "{\n"
  "  \"format\": \"lamina-model\",\n"
  "  \"version\": 1,\n"
  "  \"name\": \"Moons MLP\",\n"
  "  \"nodes\": [\n"
  "    {\"name\": \"input\", \"type\": \"Input\", \"params\": {\"channels\": 2, \"height\": 1, \"width\": 1}},\n"
  "    {\"name\": \"dense1\", \"type\": \"Dense\", \"params\": {\"units\": 16}, \"inputs\": [\"input\"]},\n"
  "    {\"name\": \"relu1\", \"type\": \"ReLU\", \"inputs\": [\"dense1\"]},\n"
  "    {\"name\": \"dense2\", \"type\": \"Dense\", \"params\": {\"units\": 2}, \"inputs\": [\"relu1\"]},\n"
  "    {\"name\": \"loss\", \"type\": \"SoftmaxCrossEntropy\", \"inputs\": [\"dense2\"]}\n"
  "  ],\n"
  "  \"data\": {\"name\": \"moons\", \"n_samples\": 400, \"noise\": 0.1, \"val_fraction\": 0.1},\n"
  "  \"training\": {\"epochs\": 2, \"batch\": 32, \"seed\": 1, \"backend\": \"cpu\", \"threads\": 1,\n"
  "    \"optimizer\": {\"kind\": \"adam\", \"lr\": 0.01}}\n"
  "}\n";

/* ------------------------------------------------------------------ */
/* Helpers */

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static char *
write_tmp (const char *name, const char *data, gssize len)
{
  char *path = tmp_path (name);
  g_autoptr(GError) error = NULL;
  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
  return path;
}

/* moons.json with every `from` replaced by `to`. */
static char *
write_variant (const char *name, const char *from, const char *to)
{
  g_autoptr(GString) s = g_string_new (moons_json);
  g_assert_cmpuint (g_string_replace (s, from, to, 0), >, 0);
  return write_tmp (name, s->str, -1);
}

typedef struct {
  int   status;    /* exit status, or -1 when killed by a signal */
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs lamina-train with the NULL-terminated arguments, in tmpdir. */
static void
run_argv (Run *r, const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, exe);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  g_autofree char *cmd = g_strjoinv (" ", (char **) argv->pdata);
  g_test_message ("$ %s", cmd);
  gint64 t0 = g_get_monotonic_time ();
  g_spawn_sync (tmpdir, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &r->out, &r->err, &wait_status, &error);
  g_assert_no_error (error);
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  if (WIFSIGNALED (wait_status))
    g_test_message ("killed by signal %d", WTERMSIG (wait_status));
  g_test_message ("exit %d after %.2f s; stderr: %s", r->status, secs, r->err);
  g_assert_cmpfloat (secs, <, 20);
}

#define RUN(r, ...) run_argv ((r), (const char *const[]) { __VA_ARGS__, NULL })

static guint
count_lines (const char *s)
{
  guint n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* Exit status 2, nothing on stdout, and exactly one line on stderr:
 * "lamina-train: " then the message. Returns the message (without the
 * prefix and newline), owned by r. */
static const char *
assert_one_error_line (Run *r)
{
  g_assert_cmpint (r->status, ==, 2);
  g_assert_cmpstr (r->out, ==, "");
  g_assert_true (g_str_has_prefix (r->err, "lamina-train: "));
  g_assert_true (g_str_has_suffix (r->err, "\n"));
  g_assert_cmpuint (count_lines (r->err), ==, 1);
  r->err[strlen (r->err) - 1] = '\0';
  return r->err + strlen ("lamina-train: ");
}

/* Bad input with a known message. */
#define EXPECT_ERROR(msg, ...) G_STMT_START { \
    g_auto(Run) r_ = { 0 }; \
    RUN (&r_, __VA_ARGS__); \
    g_assert_cmpstr (assert_one_error_line (&r_), ==, (msg)); \
  } G_STMT_END

/* Bad input whose message must contain each of the given strings. */
static void
expect_error_containing (const char *const *args, const char *const *needles)
{
  g_auto(Run) r = { 0 };
  run_argv (&r, args);
  const char *msg = assert_one_error_line (&r);
  for (int i = 0; needles[i]; i++)
    if (strstr (msg, needles[i]) == NULL)
      g_error ("\"%s\" does not contain \"%s\"", msg, needles[i]);
}

#define EXPECT_ERROR_CONTAINING(needles, ...) \
  expect_error_containing ((const char *const[]) { __VA_ARGS__, NULL }, \
                           (const char *const[]) { STRIP_PARENS needles, NULL })
#define STRIP_PARENS(...) __VA_ARGS__

/* The last line of stdout, parsed as a JSON object. */
static JsonObject *
last_json_line (const char *out)
{
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  guint n = g_strv_length (lines);
  g_assert_cmpuint (n, >=, 2);
  g_assert_cmpstr (lines[n - 1], ==, "");   /* ends with a newline */
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_assert_true (json_parser_load_from_data (p, lines[n - 2], -1, &error));
  g_assert_no_error (error);
  JsonNode *root = json_parser_get_root (p);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static double
num (JsonObject *o, const char *key)
{
  g_assert_true (json_object_has_member (o, key));
  JsonNode *n = json_object_get_member (o, key);
  g_assert_true (JSON_NODE_HOLDS_VALUE (n));
  return json_node_get_double (n);
}

/* An MNIST-format pair: n images of rows×cols, labels i % 10. */
static void
write_idx (const char *images, const char *labels, guint32 n, guint32 rows, guint32 cols,
           gsize truncate_to)
{
  g_autoptr(GByteArray) a = g_byte_array_new ();
  guint32 hdr[4] = { GUINT32_TO_BE (0x803), GUINT32_TO_BE (n), GUINT32_TO_BE (rows), GUINT32_TO_BE (cols) };
  g_byte_array_append (a, (guint8 *) hdr, sizeof hdr);
  for (guint32 i = 0; i < n; i++)
    for (guint32 p = 0; p < rows * cols; p++)
      {
        /* class c lights up the c-th band of rows */
        guint8 v = (p / cols) * 10 / rows == i % 10 ? 200 : (guint8) ((i * 7 + p) % 50);
        g_byte_array_append (a, &v, 1);
      }
  g_autofree char *ip = tmp_path (images);
  g_assert_true (g_file_set_contents (ip, (char *) a->data, truncate_to ? (gssize) truncate_to : (gssize) a->len, NULL));

  g_autoptr(GByteArray) l = g_byte_array_new ();
  guint32 lh[2] = { GUINT32_TO_BE (0x801), GUINT32_TO_BE (n) };
  g_byte_array_append (l, (guint8 *) lh, sizeof lh);
  for (guint32 i = 0; i < n; i++)
    {
      guint8 v = i % 10;
      g_byte_array_append (l, &v, 1);
    }
  g_autofree char *lp = tmp_path (labels);
  g_assert_true (g_file_set_contents (lp, (char *) l->data, l->len, NULL));
}

/* ------------------------------------------------------------------ */
/* Successful runs */

static void
test_help (void)
{
  g_auto(Run) r = { 0 };
  RUN (&r, "--help");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "--preset"));
  /* every preset, the sequence ones too */
  g_assert_nonnull (strstr (r.out, "Train a preset: mlp, lenet5, alexnet, vgg, resnet, rnn, lstm, gru, ltc, "
                                   "transformer, locally-connected, conv-twin, charlstm (--list-presets"));
  g_assert_nonnull (strstr (r.out, "--dataset"));
  g_assert_nonnull (strstr (r.out, "--load"));
  g_assert_cmpstr (r.err, ==, "");

  g_auto(Run) v = { 0 };
  RUN (&v, "--version");
  g_assert_cmpint (v.status, ==, 0);
  g_assert_true (g_str_has_prefix (v.out, "lamina-train "));

  g_auto(Run) l = { 0 };
  RUN (&l, "--list-presets");
  g_assert_cmpint (l.status, ==, 0);
  const char *names[] = { "mlp", "lenet5", "alexnet", "vgg", "resnet" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_nonnull (strstr (l.out, names[i]));
  /* descriptions in one column, after the longest name */
  g_assert_nonnull (strstr (l.out, "\nlocally-connected  "));
  g_assert_true (g_str_has_prefix (l.out, "mlp                A multilayer perceptron"));
  g_assert_cmpuint (count_lines (l.out), >=, G_N_ELEMENTS (names));
}

static void
test_run (void)
{
  g_autofree char *model = write_tmp ("moons.json", moons_json, -1);
  g_auto(Run) r = { 0 };
  RUN (&r, "moons.json", "-q");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.err, ==, "");
  g_assert_cmpuint (count_lines (r.out), ==, 1);
  g_autoptr(JsonObject) o = last_json_line (r.out);
  g_assert_cmpstr (json_object_get_string_member (o, "backend"), ==, "cpu");
  g_assert_cmpint (json_object_get_int_member (o, "epochs"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (o, "model"), ==, "Moons MLP");
  /* 400 samples, 40 for validation, batch 32: 11 steps an epoch */
  g_assert_cmpint (json_object_get_int_member (o, "steps"), ==, 22);
  g_assert_cmpint (json_object_get_int_member (o, "parameters"), ==, 2 * 16 + 16 + 16 * 2 + 2);
  g_assert_false (json_object_get_boolean_member (o, "interrupted"));
  double train_loss = num (o, "train_loss"), test_loss = num (o, "test_loss");
  double test_acc = num (o, "test_accuracy");
  g_assert_true (isfinite (train_loss) && train_loss > 0 && train_loss < 1);
  g_assert_true (isfinite (test_loss) && test_loss > 0 && test_loss < 1);
  g_assert_cmpfloat (test_acc, >=, 0.7);
  g_assert_cmpfloat (test_acc, <=, 1);
  g_assert_cmpfloat (num (o, "images_per_second"), >, 0);
  g_assert_cmpfloat (num (o, "seconds"), >=, 0);
  g_assert_true (json_object_has_member (o, "val_loss"));

  /* Without -q the summary goes to stderr and stdout still ends in the JSON line. */
  g_auto(Run) v = { 0 };
  RUN (&v, "moons.json", "--no-progress");
  g_assert_cmpint (v.status, ==, 0);
  g_assert_nonnull (strstr (v.err, "Moons MLP: 82 parameters"));
  g_assert_nonnull (strstr (v.err, "epoch 2/2"));
  g_autoptr(JsonObject) o2 = last_json_line (v.out);
  /* Same seed, same run. */
  g_assert_cmpfloat (num (o2, "test_loss"), ==, test_loss);

  /* Options override the file. */
  g_auto(Run) w = { 0 };
  RUN (&w, "moons.json", "-q", "--epochs", "1", "--batch", "16", "--optimizer", "sgd", "--lr", "0.1",
       "--dataset", "xor", "--seed", "3", "--schedule", "cosine");
  g_assert_cmpint (w.status, ==, 0);
  g_autoptr(JsonObject) o3 = last_json_line (w.out);
  g_assert_cmpint (json_object_get_int_member (o3, "epochs"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (o3, "batch"), ==, 16);
  g_assert_cmpint (json_object_get_int_member (o3, "steps"), ==, 360 / 16);
}

static void
test_log (void)
{
  g_autofree char *model = write_tmp ("moons-log.json", moons_json, -1);
  g_autofree char *log = tmp_path ("train.log");
  g_auto(Run) r = { 0 };
  RUN (&r, "moons-log.json", "-q", "--log", "train.log");
  g_assert_cmpint (r.status, ==, 0);

  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);
  g_assert_cmpuint (n, ==, 22 + 1);
  g_assert_cmpstr (lines[n - 1], ==, "");
  int epoch_ends = 0;
  for (guint i = 0; i + 1 < n; i++)
    {
      g_autoptr(JsonParser) p = json_parser_new ();
      g_autoptr(GError) error = NULL;
      g_assert_true (json_parser_load_from_data (p, lines[i], -1, &error));
      g_assert_no_error (error);
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      g_assert_nonnull (o);
      g_assert_cmpint (json_object_get_int_member (o, "step"), ==, i + 1);
      g_assert_cmpint (json_object_get_int_member (o, "epoch"), ==, i < 11 ? 1 : 2);
      g_assert_true (isfinite (num (o, "loss")));
      g_assert_true (isfinite (num (o, "accuracy")));
      g_assert_cmpfloat_with_epsilon (num (o, "lr"), 0.01, 1e-6);
      if (json_object_has_member (o, "epoch_end"))
        {
          epoch_ends++;
          g_assert_true (json_object_get_boolean_member (o, "epoch_end"));
          g_assert_true (isfinite (num (o, "train_loss")));
          g_assert_true (isfinite (num (o, "val_loss")));
          g_assert_true (isfinite (num (o, "val_accuracy")));
          g_assert_true (i == 10 || i == 21);
        }
    }
  g_assert_cmpint (epoch_ends, ==, 2);
  g_remove (log);
}

static void
test_save_load (void)
{
  g_autofree char *model = write_tmp ("moons-ck.json", moons_json, -1);
  g_autofree char *ck = tmp_path ("ck.safetensors");

  /* Two epochs in one go... */
  g_auto(Run) full = { 0 };
  RUN (&full, "moons-ck.json", "-q");
  g_assert_cmpint (full.status, ==, 0);
  g_autoptr(JsonObject) of = last_json_line (full.out);

  /* ...and one, saved, then loaded to continue to two: the same run. */
  g_auto(Run) a = { 0 };
  RUN (&a, "moons-ck.json", "-q", "--epochs", "1", "--save", "ck.safetensors");
  g_assert_cmpint (a.status, ==, 0);
  g_assert_true (g_file_test (ck, G_FILE_TEST_IS_REGULAR));

  g_auto(Run) b = { 0 };
  RUN (&b, "moons-ck.json", "-q", "--load", "ck.safetensors");
  g_assert_cmpint (b.status, ==, 0);
  g_autoptr(JsonObject) ob = last_json_line (b.out);
  g_assert_cmpint (json_object_get_int_member (ob, "epochs"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (ob, "steps"), ==, 22);
  g_assert_cmpfloat (num (ob, "test_loss"), ==, num (of, "test_loss"));
  g_assert_cmpfloat (num (ob, "test_accuracy"), ==, num (of, "test_accuracy"));
  g_assert_cmpfloat (num (ob, "train_loss"), ==, num (of, "train_loss"));

  /* Loading a finished run trains no further and evaluates the weights. */
  g_auto(Run) c = { 0 };
  RUN (&c, "moons-ck.json", "-q", "--epochs", "1", "--load", "ck.safetensors");
  g_assert_cmpint (c.status, ==, 0);
  g_autoptr(JsonObject) oc = last_json_line (c.out);
  g_assert_cmpint (json_object_get_int_member (oc, "steps"), ==, 11);
}

static void
test_idx_run (void)
{
  write_idx ("tiny-images-idx3-ubyte", "tiny-labels-idx1-ubyte", 120, 28, 28, 0);
  g_auto(Run) r = { 0 };
  RUN (&r, "--preset", "mlp", "--dataset", "tiny-images-idx3-ubyte", "--epochs", "2", "-q",
       "--backend", "cpu", "--threads", "1");
  g_assert_cmpint (r.status, ==, 0);
  g_autoptr(JsonObject) o = last_json_line (r.out);
  g_assert_cmpint (json_object_get_int_member (o, "epochs"), ==, 2);
  g_assert_true (isfinite (num (o, "test_loss")));
}

/* ------------------------------------------------------------------ */
/* Bad input */

static void
test_bad_usage (void)
{
  EXPECT_ERROR ("give one model file or --preset NAME (see --help)", "--epochs", "1");
  g_autofree char *m = write_tmp ("usage.json", moons_json, -1);
  EXPECT_ERROR ("give one model file or --preset NAME (see --help)", "usage.json", "usage.json");
  EXPECT_ERROR ("give one model file or --preset NAME (see --help)", "usage.json", "--preset", "mlp");
  EXPECT_ERROR ("Unknown option --frobnicate (see --help)", "usage.json", "--frobnicate");
}

static void
test_bad_model_file (void)
{
  EXPECT_ERROR ("missing.json: cannot open: No such file or directory", "missing.json");

  g_autofree char *t = write_tmp ("truncated.json", moons_json, 200);
  EXPECT_ERROR_CONTAINING (("truncated.json: ", "not valid JSON", "line "), "truncated.json");

  g_autofree char *e = write_tmp ("empty.json", "", 0);
  EXPECT_ERROR_CONTAINING (("empty.json: "), "empty.json");

  g_autofree char *bin = write_tmp ("binary.json", "\x89PNG\r\n\x1a\n\xff\xfe", 10);
  EXPECT_ERROR ("binary.json: not valid UTF-8 text", "binary.json");

  g_autofree char *notmodel = write_tmp ("other.json", "{\"hello\": 1}", -1);
  EXPECT_ERROR ("other.json: no \"format\": \"lamina-model\"; this is not a Lamina model file", "other.json");

  g_autofree char *u = write_variant ("unknown-type.json", "\"ReLU\"", "\"Relu\"");
  EXPECT_ERROR ("unknown-type.json: node \"relu1\": unknown layer type \"Relu\"", "unknown-type.json");

  g_autofree char *p = write_variant ("bad-param.json", "\"units\": 16", "\"units\": 0");
  EXPECT_ERROR ("bad-param.json: node \"dense1\": parameter \"units\" is 0, must be between 1 and 65536",
                "bad-param.json");

  g_autofree char *in = write_variant ("bad-input.json", "\"inputs\": [\"relu1\"]", "\"inputs\": [\"relu\"]");
  EXPECT_ERROR ("bad-input.json: node \"dense2\": input \"relu\" is not a node", "bad-input.json");

  g_autofree char *ds = write_variant ("bad-data.json", "\"name\": \"moons\"", "\"name\": \"swirl\"");
  EXPECT_ERROR_CONTAINING (("bad-data.json: ", "data.name", "swirl"), "bad-data.json");
}

static void
test_bad_graph (void)
{
  /* dense2 fed by the input: dense1 and relu1 lead nowhere. */
  g_autofree char *a = write_variant ("dangling.json", "\"inputs\": [\"relu1\"]", "\"inputs\": [\"input\"]");
  EXPECT_ERROR ("dangling.json: node \"dense1\": its output leads nowhere: connect it on towards the loss, "
                "or delete it", "dangling.json");

  /* A Conv2D fed the 2-feature vector. */
  g_autofree char *b = write_variant ("conv.json", "\"type\": \"Dense\", \"params\": {\"units\": 16}",
                                      "\"type\": \"Conv2D\", \"params\": {\"filters\": 4}");
  EXPECT_ERROR ("conv.json: node \"dense1\": input is a vector of 2 values; Conv2D needs an image "
                "(channels×height×width)", "conv.json");

  /* A cycle. */
  g_autofree char *c = write_variant ("cycle.json", "\"inputs\": [\"input\"]", "\"inputs\": [\"relu1\"]");
  EXPECT_ERROR_CONTAINING (("cycle.json: ", "cycle"), "cycle.json");

  /* The network does not fit the data. */
  write_idx ("fit-images-idx3-ubyte", "fit-labels-idx1-ubyte", 30, 28, 28, 0);
  g_autofree char *d = write_tmp ("fit.json", moons_json, -1);
  EXPECT_ERROR_CONTAINING (("node \"input\"", "2 values per sample", "1×28×28"),
                           "fit.json", "--dataset", "fit-images-idx3-ubyte");

  /* Too few outputs for the classes: 2 scores, 3 spiral arms. */
  g_autofree char *e = write_variant ("classes.json", "\"name\": \"moons\"", "\"name\": \"spiral\", \"n_classes\": 3");
  EXPECT_ERROR_CONTAINING (("node \"dense2\"", "2 outputs", "3 classes"), "classes.json");
}

static void
test_bad_options (void)
{
  g_autofree char *m = write_tmp ("opts.json", moons_json, -1);

  EXPECT_ERROR ("batch 0 is out of range (1 to 65536)", "opts.json", "--batch", "0");
  EXPECT_ERROR ("batch 100000 is out of range (1 to 65536)", "opts.json", "--batch", "100000");
  EXPECT_ERROR ("learning rate -2 is out of range (above 0, at most 10)", "opts.json", "--lr", "-2");
  EXPECT_ERROR ("learning rate 0 is out of range (above 0, at most 10)", "opts.json", "--lr", "0");
  EXPECT_ERROR ("--lr nan: not a number (see --help)", "opts.json", "--lr", "nan");
  EXPECT_ERROR ("--momentum inf: not a number (see --help)", "opts.json", "--momentum", "inf");
  EXPECT_ERROR ("--optimizer foo: unknown (sgd, adam or adamw)", "opts.json", "--optimizer", "foo");
  EXPECT_ERROR ("--schedule foo: unknown (constant, step or cosine)", "opts.json", "--schedule", "foo");
  EXPECT_ERROR ("backend \"foo\" is unknown (cpu, cuda or auto)", "opts.json", "--backend", "foo");
  EXPECT_ERROR ("epochs 0 is out of range (1 to 100000)", "opts.json", "--epochs", "0");
  EXPECT_ERROR ("--limit -5: must be 0 (all) or more", "opts.json", "--limit", "-5");
  EXPECT_ERROR_CONTAINING (("--epochs", "abc"), "opts.json", "--epochs", "abc");
  EXPECT_ERROR_CONTAINING (("--batch", "12x"), "opts.json", "--batch", "12x");
  EXPECT_ERROR_CONTAINING (("--lr", "fast"), "opts.json", "--lr", "fast");
  EXPECT_ERROR ("--val-fraction 0.9: must be between 0 and 0.5", "opts.json", "--val-fraction", "0.9");
  EXPECT_ERROR_CONTAINING (("momentum"), "opts.json", "--momentum", "-2");
}

/* -1 is how lamina-train marks "option not given"; given explicitly it
 * must still be refused. */
static void
test_bad_options_minus_one (void)
{
  g_autofree char *m = write_tmp ("opts1.json", moons_json, -1);
  const char *opts[] = { "--lr", "--batch", "--epochs", "--threads", "--momentum", "--weight-decay",
                         "--val-fraction", "--seed" };
  GString *accepted = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (opts); i++)
    {
      g_auto(Run) r = { 0 };
      RUN (&r, "opts1.json", "-q", opts[i], "-1");
      if (r.status == 0)
        g_string_append_printf (accepted, " %s -1", opts[i]);
      else
        assert_one_error_line (&r);
    }
  g_assert_cmpstr (accepted->str, ==, "");
  g_string_free (accepted, TRUE);
}

/* A batch the machine has no memory for: the system would promise it
 * and end the program when training touched it; Lamina says so first.
 * (LAMINA_HOST_MEMORY pretends the machine has 1000 bytes free.) */
static void
test_out_of_main_memory (void)
{
  g_autofree char *m = write_tmp ("memory.json", moons_json, -1);

  g_setenv ("LAMINA_HOST_MEMORY", "1000", TRUE);
  EXPECT_ERROR_CONTAINING (("out of main memory: ",
                            " more were needed for the network at a batch of 32; try a smaller batch"),
                           "memory.json");
  g_unsetenv ("LAMINA_HOST_MEMORY");
  g_auto(Run) r = { 0 };
  RUN (&r, "memory.json", "-q");
  g_assert_cmpint (r.status, ==, 0);
}

static void
test_bad_preset (void)
{
  EXPECT_ERROR_CONTAINING (("--preset nope: no such preset (mlp, lenet5, alexnet, vgg, resnet"), "--preset", "nope");
  EXPECT_ERROR_CONTAINING (("no such preset"), "--preset", "../presets/mlp");
}

static void
test_bad_dataset (void)
{
  g_autofree char *m = write_tmp ("data.json", moons_json, -1);
  g_autofree char *missing = tmp_path ("missing-images-idx3-ubyte");
  g_autofree char *missing_msg = g_strdup_printf ("%s: cannot open: No such file or directory", missing);
  EXPECT_ERROR (missing_msg, "--preset", "mlp", "--dataset", missing);

  EXPECT_ERROR ("--dataset foo: not a dataset name, and no labels file given (--labels)",
                "data.json", "--dataset", "foo");

  /* Garbage where the images should be. */
  g_autofree char *gi = write_tmp ("junk-images-idx3-ubyte", "this is not an IDX file", -1);
  g_autofree char *gl = write_tmp ("junk-labels-idx1-ubyte", "neither is this", -1);
  EXPECT_ERROR ("junk-images-idx3-ubyte: not an IDX image file (magic 0x74686973, expected 0x00000803)",
                "--preset", "mlp", "--dataset", "junk-images-idx3-ubyte");

  /* A valid header, then the data cut short. */
  write_idx ("cut-images-idx3-ubyte", "cut-labels-idx1-ubyte", 50, 28, 28, 16 + 10 * 784 + 100);
  EXPECT_ERROR_CONTAINING (("cut-images-idx3-ubyte", "truncated"), "--preset", "mlp",
                           "--dataset", "cut-images-idx3-ubyte");

  /* Labels that do not match the images. */
  write_idx ("pair-images-idx3-ubyte", "pair-labels-idx1-ubyte", 50, 28, 28, 0);
  write_idx ("other-images-idx3-ubyte", "other-labels-idx1-ubyte", 40, 28, 28, 0);
  EXPECT_ERROR_CONTAINING (("50", "40"), "--preset", "mlp", "--dataset", "pair-images-idx3-ubyte",
                           "--labels", "other-labels-idx1-ubyte");

  /* A labels file given as images. */
  EXPECT_ERROR_CONTAINING (("pair-labels-idx1-ubyte", "not an IDX image file"), "--preset", "mlp",
                           "--dataset", "pair-labels-idx1-ubyte", "--labels", "pair-labels-idx1-ubyte");
}

static void
test_bad_load (void)
{
  g_autofree char *m = write_tmp ("load.json", moons_json, -1);

  g_autofree char *s = write_tmp ("short.safetensors", "hello\n", -1);
  EXPECT_ERROR_CONTAINING (("short.safetensors"), "load.json", "--load", "short.safetensors");

  /* A text file long enough to have a header length. */
  EXPECT_ERROR_CONTAINING (("load.json", "not a safetensors file"), "load.json", "--load", "load.json");

  g_autofree char *junk = g_malloc (4096);
  for (int i = 0; i < 4096; i++)
    junk[i] = (char) (i * 37 + 11);
  g_autofree char *j = write_tmp ("junk.safetensors", junk, 4096);
  EXPECT_ERROR_CONTAINING (("junk.safetensors"), "load.json", "--load", "junk.safetensors");

  EXPECT_ERROR_CONTAINING (("missing.safetensors"), "load.json", "--load", "missing.safetensors");

  /* Weights of another network: 8 hidden units instead of 16, and another layer name. */
  g_autofree char *o = write_variant ("other-net.json", "\"units\": 16", "\"units\": 8");
  g_auto(Run) save = { 0 };
  RUN (&save, "other-net.json", "-q", "--epochs", "1", "--save", "other.safetensors");
  g_assert_cmpint (save.status, ==, 0);
  EXPECT_ERROR ("other.safetensors: tensor \"dense1.weight\" has another shape than the network's; "
                "was it saved from another network?", "load.json", "--load", "other.safetensors");

  g_autofree char *n = write_variant ("named.json", "\"dense1\"", "\"hidden\"");
  EXPECT_ERROR ("other.safetensors: has no tensor \"hidden.weight\"; was it saved from another network?",
                "named.json", "--load", "other.safetensors");
}

static void
test_bad_output (void)
{
  g_autofree char *m = write_tmp ("out.json", moons_json, -1);
  EXPECT_ERROR ("/nonexistent/dir/train.log: cannot write the log: No such file or directory",
                "out.json", "--log", "/nonexistent/dir/train.log");
  /* refused before training, not after it */
  EXPECT_ERROR ("--save /nonexistent/dir/x.safetensors: the folder /nonexistent/dir does not exist",
                "out.json", "-q", "--save", "/nonexistent/dir/x.safetensors");
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  {
    /* absolute: the runs happen in tmpdir */
    g_autofree char *rel = g_test_build_filename (G_TEST_BUILT, "..", "app", "lamina-train", NULL);
    exe = g_canonicalize_filename (rel, NULL);
  }
  tmpdir = g_dir_make_tmp ("test-cli-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);
  /* Messages in English, whatever the user's locale. */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_setenv ("LANGUAGE", "C", TRUE);

  g_test_add_func ("/cli/help", test_help);
  g_test_add_func ("/cli/run", test_run);
  g_test_add_func ("/cli/log", test_log);
  g_test_add_func ("/cli/save-load", test_save_load);
  g_test_add_func ("/cli/idx", test_idx_run);
  g_test_add_func ("/cli/bad/usage", test_bad_usage);
  g_test_add_func ("/cli/bad/model-file", test_bad_model_file);
  g_test_add_func ("/cli/bad/graph", test_bad_graph);
  g_test_add_func ("/cli/bad/options", test_bad_options);
  g_test_add_func ("/cli/bad/options-minus-one", test_bad_options_minus_one);
  g_test_add_func ("/cli/bad/preset", test_bad_preset);
  g_test_add_func ("/cli/bad/out-of-main-memory", test_out_of_main_memory);
  g_test_add_func ("/cli/bad/dataset", test_bad_dataset);
  g_test_add_func ("/cli/bad/load", test_bad_load);
  g_test_add_func ("/cli/bad/output", test_bad_output);

  ret = g_test_run ();

  GDir *dir = g_dir_open (tmpdir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmpdir, name, NULL);
      g_remove (path);
    }
  g_clear_pointer (&dir, g_dir_close);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  g_free (exe);
  return ret;
}
