/* lam-model-file.c: the JSON model file (docs/model-format.md).
 *
 * Parsing is strict about what it understands (types, ranges, layer
 * parameters) and lenient about what it does not: unknown keys outside
 * a node's "params" are ignored, so that files from a later minor
 * revision still open. Graph shapes are not checked here: an invalid
 * graph must open in the editor to be fixed.
 *
 * Writing does not use JsonGenerator: json-glib 1.6 writes doubles
 * with an exponent as "1e-08.0", which is not JSON, and prints floats
 * with 17 digits. Strings are still escaped by json-glib.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-model"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "lam-json.h"
#include "lam-model-file.h"

#define LAM_MODEL_FORMAT      "lamina-model"
#define LAM_MODEL_VERSION     1
#define LAM_MODEL_MAX_SIZE    (16 * 1024 * 1024)
#define LAM_MODEL_MAX_DEPTH   64
/* Editor positions are brought within this (graph units; a node is 150
 * wide): a node a file puts at 1e300 would leave the canvas empty. */
#define LAM_MODEL_MAX_POSITION 100000.0

LamModelFile *
lam_model_file_new (void)
{
  LamModelFile *m = g_new0 (LamModelFile, 1);

  m->name = g_strdup ("Untitled");
  m->description = g_strdup ("");
  m->graph = lam_graph_new ();
  lam_train_config_init (&m->config);
  return m;
}

void
lam_model_file_free (LamModelFile *m)
{
  if (m == NULL)
    return;
  g_free (m->name);
  g_free (m->description);
  lam_graph_free (m->graph);
  lam_train_config_clear (&m->config);
  g_free (m);
}

/* ------------------------------------------------------------------ */
/* Parsing */

typedef struct {
  const char *file;    /* display basename, for messages */
  GError    **error;
} Ctx;

static gboolean fail (Ctx *c, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* Sets "FILE: message"; always returns FALSE. */
static gboolean
fail (Ctx *c, const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (c->error, LAM_ERROR, LAM_ERROR_BAD_FILE, "%s: %s", c->file, msg);
  return FALSE;
}

/* A member, or NULL when it is absent or JSON null. */
static JsonNode *
member (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);

  if (n != NULL && JSON_NODE_HOLDS_NULL (n))
    return NULL;
  return n;
}

static gboolean
node_is (JsonNode *n, GType type)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == type;
}

static gboolean
node_is_number (JsonNode *n)
{
  return node_is (n, G_TYPE_INT64) || node_is (n, G_TYPE_DOUBLE);
}

static double
node_number (JsonNode *n)
{
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return (double) json_node_get_int (n);
  return json_node_get_double (n);
}

/* An integer, also written as 3.0; FALSE for anything else. */
static gboolean
node_integer (JsonNode *n, gint64 *out)
{
  double d;

  if (node_is (n, G_TYPE_INT64))
    {
      *out = json_node_get_int (n);
      return TRUE;
    }
  if (!node_is (n, G_TYPE_DOUBLE))
    return FALSE;
  d = json_node_get_double (n);
  if (d != floor (d) || fabs (d) > 9007199254740992.0)
    return FALSE;
  *out = (gint64) d;
  return TRUE;
}

/* Readers of optional fields: absent leaves *out as it is. */

static gboolean
read_int (Ctx *c, JsonObject *o, const char *key, const char *field, int *out)
{
  JsonNode *n = member (o, key);
  gint64 v;

  if (n == NULL)
    return TRUE;
  if (!node_integer (n, &v))
    return fail (c, "\"%s\" must be an integer", field);
  if (v < G_MININT || v > G_MAXINT)
    return fail (c, "\"%s\" is out of range (%" G_GINT64_FORMAT ")", field, v);
  *out = (int) v;
  return TRUE;
}

static gboolean
read_u64 (Ctx *c, JsonObject *o, const char *key, const char *field, guint64 *out)
{
  JsonNode *n = member (o, key);
  gint64 v;

  if (n == NULL)
    return TRUE;
  if (!node_integer (n, &v))
    return fail (c, "\"%s\" must be an integer", field);
  *out = (guint64) v;   /* written as a signed 64-bit integer */
  return TRUE;
}

static gboolean
read_float (Ctx *c, JsonObject *o, const char *key, const char *field, float *out)
{
  JsonNode *n = member (o, key);
  double d;

  if (n == NULL)
    return TRUE;
  if (!node_is_number (n))
    return fail (c, "\"%s\" must be a number", field);
  d = node_number (n);
  if (!isfinite ((float) d))
    return fail (c, "\"%s\" is out of range (%g)", field, d);
  *out = (float) d;
  return TRUE;
}

static gboolean
read_bool (Ctx *c, JsonObject *o, const char *key, const char *field, gboolean *out)
{
  JsonNode *n = member (o, key);

  if (n == NULL)
    return TRUE;
  if (!node_is (n, G_TYPE_BOOLEAN))
    return fail (c, "\"%s\" must be true or false", field);
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
read_string (Ctx *c, JsonObject *o, const char *key, const char *field, char **out)
{
  JsonNode *n = member (o, key);

  if (n == NULL)
    return TRUE;
  if (!node_is (n, G_TYPE_STRING))
    return fail (c, "\"%s\" must be a string", field);
  g_free (*out);
  *out = g_strdup (json_node_get_string (n));
  return TRUE;
}

/* An optional object member; *out is NULL when absent. */
static gboolean
read_object (Ctx *c, JsonObject *o, const char *key, const char *field, JsonObject **out)
{
  JsonNode *n = member (o, key);

  *out = NULL;
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return fail (c, "\"%s\" must be a JSON object", field);
  *out = json_node_get_object (n);
  return TRUE;
}

static gboolean
parse_param (Ctx *c, LamNode *node, const LamLayerInfo *info, const char *key, JsonNode *v)
{
  const LamParamSpec *spec = NULL;
  double value;

  for (int i = 0; i < info->n_params; i++)
    if (strcmp (info->params[i].name, key) == 0)
      spec = &info->params[i];
  if (spec == NULL)
    return fail (c, "node \"%s\": unknown parameter \"%s\" for %s", node->name, key, info->type_name);

  switch (spec->type)
    {
    case LAM_PARAM_BOOL:
      if (!node_is (v, G_TYPE_BOOLEAN))
        return fail (c, "node \"%s\": parameter \"%s\" must be true or false", node->name, key);
      value = json_node_get_boolean (v) ? 1 : 0;
      break;

    case LAM_PARAM_INT:
      {
        gint64 iv;
        if (!node_integer (v, &iv))
          return fail (c, "node \"%s\": parameter \"%s\" must be an integer", node->name, key);
        if ((double) iv < spec->min || (double) iv > spec->max)
          return fail (c, "node \"%s\": parameter \"%s\" is %" G_GINT64_FORMAT ", must be between %g and %g",
                       node->name, key, iv, spec->min, spec->max);
        value = (double) iv;
      }
      break;

    case LAM_PARAM_FLOAT:
    default:
      if (!node_is_number (v))
        return fail (c, "node \"%s\": parameter \"%s\" must be a number", node->name, key);
      value = node_number (v);
      /* Compare as the float that will be stored. */
      if ((float) value < (float) spec->min || (float) value > (float) spec->max)
        return fail (c, "node \"%s\": parameter \"%s\" is %g, must be between %g and %g",
                     node->name, key, value, spec->min, spec->max);
      break;
    }

  lam_layer_param_set (&node->p, spec, value);
  return TRUE;
}

static double
clamp_position (double v)
{
  if (!isfinite (v))   /* 1e999 reads as infinity */
    return 0;
  return CLAMP (v, -LAM_MODEL_MAX_POSITION, LAM_MODEL_MAX_POSITION);
}

static gboolean
parse_node (Ctx *c, LamGraph *g, GHashTable *names, guint index, JsonNode *jn)
{
  JsonObject *o, *params;
  JsonNode *n;
  const char *name, *type;
  LamLayerKind kind;
  LamNode *node;

  if (!JSON_NODE_HOLDS_OBJECT (jn))
    return fail (c, "nodes[%u] is not a JSON object", index);
  o = json_node_get_object (jn);

  n = member (o, "name");
  if (n == NULL)
    return fail (c, "nodes[%u] has no \"name\"", index);
  if (!node_is (n, G_TYPE_STRING))
    return fail (c, "nodes[%u]: \"name\" must be a string", index);
  name = json_node_get_string (n);
  if (name[0] == '\0')
    return fail (c, "nodes[%u]: the name is empty", index);
  if (g_hash_table_contains (names, name))
    return fail (c, "node \"%s\": the name is used twice", name);

  n = member (o, "type");
  if (n == NULL)
    return fail (c, "node \"%s\" has no \"type\"", name);
  if (!node_is (n, G_TYPE_STRING))
    return fail (c, "node \"%s\": \"type\" must be a string", name);
  type = json_node_get_string (n);
  if (!lam_layer_kind_from_name (type, &kind))
    return fail (c, "node \"%s\": unknown layer type \"%s\"", name, type);

  node = lam_graph_add_node (g, kind, name);
  lam_layer_params_init (kind, &node->p);
  g_hash_table_add (names, node->name);

  n = member (o, "params");
  if (n != NULL)
    {
      const LamLayerInfo *info = lam_layer_info (kind);
      JsonObjectIter iter;
      const char *key;
      JsonNode *v;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        return fail (c, "node \"%s\": \"params\" must be a JSON object", name);
      params = json_node_get_object (n);
      json_object_iter_init_ordered (&iter, params);
      while (json_object_iter_next_ordered (&iter, &key, &v))
        if (!parse_param (c, node, info, key, v))
          return FALSE;
    }

  n = member (o, "inputs");
  if (n != NULL)
    {
      JsonArray *a;

      if (!JSON_NODE_HOLDS_ARRAY (n))
        return fail (c, "node \"%s\": \"inputs\" must be an array of node names", name);
      a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (!node_is (e, G_TYPE_STRING))
            return fail (c, "node \"%s\": inputs[%u] is not a node name (a string)", name, i);
          g_ptr_array_add (node->inputs, g_strdup (json_node_get_string (e)));
        }
    }

  n = member (o, "position");
  if (n != NULL)
    {
      JsonArray *a;
      JsonNode *nx, *ny;

      if (!JSON_NODE_HOLDS_ARRAY (n) || json_array_get_length (a = json_node_get_array (n)) != 2
          || !node_is_number (nx = json_array_get_element (a, 0))
          || !node_is_number (ny = json_array_get_element (a, 1)))
        return fail (c, "node \"%s\": \"position\" must be [x, y]", name);
      node->x = clamp_position (node_number (nx));
      node->y = clamp_position (node_number (ny));
    }

  return TRUE;
}

static gboolean
parse_nodes (Ctx *c, JsonObject *root, LamGraph *g)
{
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  JsonNode *n = member (root, "nodes");
  JsonArray *a;

  if (n == NULL)
    return fail (c, "no \"nodes\" array");
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return fail (c, "\"nodes\" must be an array");
  a = json_node_get_array (n);

  for (guint i = 0; i < json_array_get_length (a); i++)
    if (!parse_node (c, g, names, i, json_array_get_element (a, i)))
      return FALSE;

  for (guint i = 0; i < g->nodes->len; i++)
    {
      LamNode *node = g_ptr_array_index (g->nodes, i);
      for (guint j = 0; j < node->inputs->len; j++)
        {
          const char *in = g_ptr_array_index (node->inputs, j);
          if (!g_hash_table_contains (names, in))
            return fail (c, "node \"%s\": input \"%s\" is not a node", node->name, in);
        }
    }
  return TRUE;
}

static gboolean
parse_data (Ctx *c, JsonObject *root, LamDataSpec *d)
{
  JsonObject *o;
  LamSynthKind synth;

  if (!read_object (c, root, "data", "data", &o))
    return FALSE;
  if (o == NULL)
    return TRUE;

  if (!read_string (c, o, "name", "data.name", &d->name)
      || !read_string (c, o, "train_images", "data.train_images", &d->train_images)
      || !read_string (c, o, "train_labels", "data.train_labels", &d->train_labels)
      || !read_string (c, o, "test_images", "data.test_images", &d->test_images)
      || !read_string (c, o, "test_labels", "data.test_labels", &d->test_labels)
      || !read_int (c, o, "n_samples", "data.n_samples", &d->n_samples)
      || !read_float (c, o, "noise", "data.noise", &d->noise)
      || !read_int (c, o, "n_classes", "data.n_classes", &d->n_classes)
      || !read_int (c, o, "length", "data.length", &d->length)
      || !read_float (c, o, "val_fraction", "data.val_fraction", &d->val_fraction)
      || !read_int (c, o, "limit", "data.limit", &d->limit))
    return FALSE;

  /* The ranges lam_data_open() and lam_dataset_synthetic() accept. */
  if (d->name == NULL
      || (strcmp (d->name, "fashion-mnist") != 0 && strcmp (d->name, "idx") != 0
          && !lam_synth_kind_from_name (d->name, &synth)))
    return fail (c, "\"data.name\": unknown dataset \"%s\" (use fashion-mnist, idx, spiral, moons, "
                 "circles, xor or blobs)", d->name != NULL ? d->name : "");
  if (!(d->val_fraction >= 0.f && d->val_fraction <= 0.5f))
    return fail (c, "\"data.val_fraction\" is %g, must be between 0 and 0.5", d->val_fraction);
  if (d->limit < 0)
    return fail (c, "\"data.limit\" is %d, must be 0 (all) or more", d->limit);
  if (d->n_samples < 4 || d->n_samples > 1000000)
    return fail (c, "\"data.n_samples\" is %d, must be between 4 and 1000000", d->n_samples);
  if (!(d->noise >= 0.f && d->noise <= 1.f))
    return fail (c, "\"data.noise\" is %g, must be between 0 and 1", d->noise);
  if (d->n_classes != 0 && (d->n_classes < 2 || d->n_classes > 10))
    return fail (c, "\"data.n_classes\" is %d, must be 0 (the default) or between 2 and 10", d->n_classes);
  if (d->length != 0 && (d->length < 2 || d->length > 4096))
    return fail (c, "\"data.length\" is %d, must be 0 (the default) or between 2 and 4096", d->length);
  return TRUE;
}

static gboolean
parse_optimizer (Ctx *c, JsonObject *training, LamOptConfig *opt)
{
  JsonObject *o;
  g_autofree char *kind = NULL, *schedule = NULL;

  if (!read_object (c, training, "optimizer", "training.optimizer", &o))
    return FALSE;
  if (o == NULL)
    return TRUE;

  if (!read_string (c, o, "kind", "training.optimizer.kind", &kind)
      || !read_string (c, o, "schedule", "training.optimizer.schedule", &schedule))
    return FALSE;
  if (kind != NULL && !lam_opt_kind_from_name (kind, &opt->kind))
    return fail (c, "\"training.optimizer.kind\": unknown optimizer \"%s\" (use sgd, adam or adamw)", kind);
  if (schedule != NULL && !lam_sched_kind_from_name (schedule, &opt->schedule))
    return fail (c, "\"training.optimizer.schedule\": unknown schedule \"%s\" (use constant, step or cosine)",
                 schedule);

  return read_float (c, o, "lr", "training.optimizer.lr", &opt->lr)
      && read_float (c, o, "momentum", "training.optimizer.momentum", &opt->momentum)
      && read_bool (c, o, "nesterov", "training.optimizer.nesterov", &opt->nesterov)
      && read_float (c, o, "weight_decay", "training.optimizer.weight_decay", &opt->weight_decay)
      && read_float (c, o, "beta1", "training.optimizer.beta1", &opt->beta1)
      && read_float (c, o, "beta2", "training.optimizer.beta2", &opt->beta2)
      && read_float (c, o, "eps", "training.optimizer.eps", &opt->eps)
      && read_int (c, o, "step_epochs", "training.optimizer.step_epochs", &opt->step_epochs)
      && read_float (c, o, "gamma", "training.optimizer.gamma", &opt->gamma);
}

static gboolean
parse_training (Ctx *c, JsonObject *root, LamTrainConfig *cfg)
{
  JsonObject *o;

  if (!read_object (c, root, "training", "training", &o))
    return FALSE;
  if (o == NULL)
    return TRUE;

  return read_int (c, o, "epochs", "training.epochs", &cfg->epochs)
      && read_int (c, o, "batch", "training.batch", &cfg->batch)
      && read_u64 (c, o, "seed", "training.seed", &cfg->seed)
      && read_string (c, o, "backend", "training.backend", &cfg->backend)
      && read_int (c, o, "threads", "training.threads", &cfg->threads)
      && parse_optimizer (c, o, &cfg->opt);
}

/* json-glib says "<data>:3:10: Parse error: unexpected character ..."; make
 * that "line 3, column 10: unexpected character ...". */
static char *
describe_syntax_error (const char *msg)
{
  const char *p = msg;
  char *end;
  guint64 line, col;

  if (g_str_has_prefix (p, "<data>:"))
    p += strlen ("<data>:");
  line = g_ascii_strtoull (p, &end, 10);
  if (end == p || *end != ':')
    return g_strdup_printf ("not valid JSON: %s", msg);
  p = end + 1;
  col = g_ascii_strtoull (p, &end, 10);
  if (end == p || *end != ':')
    return g_strdup_printf ("not valid JSON: %s", msg);
  p = end + 1;
  while (*p == ' ')
    p++;
  if (g_str_has_prefix (p, "Parse error: "))
    p += strlen ("Parse error: ");
  return g_strdup_printf ("not valid JSON: line %" G_GUINT64_FORMAT ", column %" G_GUINT64_FORMAT ": %s",
                          line, col, p);
}

LamModelFile *
lam_model_file_parse (const char *json, gssize len, const char *path_for_errors, GError **error)
{
  g_autofree char *file = path_for_errors != NULL ? g_filename_display_basename (path_for_errors)
                                                   : g_strdup ("model");
  Ctx ctx = { file, error }, *c = &ctx;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(LamModelFile) m = NULL;
  JsonNode *root_node, *n;
  JsonObject *root;
  gint64 version;
  gsize size;

  g_return_val_if_fail (json != NULL || len == 0, NULL);

  if (json == NULL)
    json = "";
  size = len < 0 ? strlen (json) : (gsize) len;
  if (size > LAM_MODEL_MAX_SIZE)
    {
      fail (c, "the file is larger than %d MB; this is not a model file", LAM_MODEL_MAX_SIZE >> 20);
      return NULL;
    }
  if (!g_utf8_validate_len (json, size, NULL))
    {
      fail (c, "not valid UTF-8 text");
      return NULL;
    }
  if (!lam_json_depth_ok (json, size, LAM_MODEL_MAX_DEPTH))
    {
      fail (c, "JSON nested more than %d levels deep", LAM_MODEL_MAX_DEPTH);
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, (gssize) size, &local))
    {
      g_autofree char *what = describe_syntax_error (local->message);
      fail (c, "%s", what);
      return NULL;
    }
  root_node = json_parser_get_root (parser);
  if (!lam_json_strings_valid (root_node))
    {
      fail (c, "a string is not valid UTF-8 text once its escapes are read (an octal escape such as \\201?)");
      return NULL;
    }
  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node))
    {
      fail (c, "the top level is not a JSON object; this is not a Lamina model file");
      return NULL;
    }
  root = json_node_get_object (root_node);

  /* The format and version first: a newer file may use what this
   * version cannot read, and that explains any later error. */
  n = member (root, "format");
  if (n == NULL)
    {
      fail (c, "no \"format\": \"%s\"; this is not a Lamina model file", LAM_MODEL_FORMAT);
      return NULL;
    }
  if (!node_is (n, G_TYPE_STRING) || strcmp (json_node_get_string (n), LAM_MODEL_FORMAT) != 0)
    {
      if (node_is (n, G_TYPE_STRING))
        fail (c, "\"format\" is \"%s\", not \"%s\"; this is not a Lamina model file",
              json_node_get_string (n), LAM_MODEL_FORMAT);
      else
        fail (c, "\"format\" is not \"%s\"; this is not a Lamina model file", LAM_MODEL_FORMAT);
      return NULL;
    }
  n = member (root, "version");
  if (n == NULL)
    {
      fail (c, "no \"version\"");
      return NULL;
    }
  if (!node_integer (n, &version))
    {
      fail (c, "\"version\" must be an integer");
      return NULL;
    }
  if (version > LAM_MODEL_VERSION)
    {
      fail (c, "version %" G_GINT64_FORMAT " is newer than this Lamina understands (%d)",
            version, LAM_MODEL_VERSION);
      return NULL;
    }
  if (version < 1)
    {
      fail (c, "version %" G_GINT64_FORMAT " is not valid", version);
      return NULL;
    }

  m = lam_model_file_new ();
  g_clear_pointer (&m->name, g_free);
  if (!read_string (c, root, "name", "name", &m->name)
      || !read_string (c, root, "description", "description", &m->description))
    return NULL;
  if (m->name == NULL)
    {
      /* "my-net.json" is "my-net" */
      const char *dot = strrchr (file, '.');
      m->name = path_for_errors != NULL && dot != NULL && dot != file ? g_strndup (file, (gsize) (dot - file))
                                                                      : g_strdup ("Untitled");
    }

  if (!parse_nodes (c, root, m->graph)
      || !parse_data (c, root, &m->config.data)
      || !parse_training (c, root, &m->config))
    return NULL;

  if (!lam_train_config_check (&m->config, &local))
    {
      fail (c, "%s", local->message);
      return NULL;
    }

  return g_steal_pointer (&m);
}

LamModelFile *
lam_model_file_load (const char *path, GError **error)
{
  g_autofree char *file = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) local = NULL;
  GStatBuf st;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_filename_display_basename (path);
  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, LAM_ERROR, LAM_ERROR_IO, "%s: cannot open: %s", file, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_IO, "%s: not a regular file", file);
      return NULL;
    }
  if (st.st_size > LAM_MODEL_MAX_SIZE)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE,
                   "%s: the file is larger than %d MB; this is not a model file",
                   file, LAM_MODEL_MAX_SIZE >> 20);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_IO, "%s: %s", file, local->message);
      return NULL;
    }
  return lam_model_file_parse (contents, (gssize) len, path, error);
}

/* ------------------------------------------------------------------ */
/* Writing */

static void
put_string (GString *s, const char *str)
{
  g_autoptr(JsonNode) n = json_node_init_string (json_node_alloc (), str != NULL ? str : "");
  g_autofree char *quoted = json_to_string (n, FALSE);

  g_string_append (s, quoted);
}

/* The shortest decimal that reads back as the same float: 0.05, not
 * 0.05000000074505806. Always has a '.' or an exponent. */
static void
put_float (GString *s, float f)
{
  static const char *const formats[] = { "%.1g", "%.2g", "%.3g", "%.4g", "%.5g",
                                         "%.6g", "%.7g", "%.8g", "%.9g" };
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (f))
    {
      g_string_append (s, "0.0");
      return;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buf, sizeof buf, formats[i], (double) f);
      if ((float) g_ascii_strtod (buf, NULL) == f)
        break;
    }
  g_string_append (s, buf);
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (s, ".0");
}

/* Integral positions as integers, others as the shortest exact decimal. */
static void
put_double (GString *s, double d)
{
  static const char *const formats[] = { "%.15g", "%.16g", "%.17g" };
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (d))
    d = 0;
  if (d == floor (d) && fabs (d) < 1e15)
    {
      g_string_append_printf (s, "%" G_GINT64_FORMAT, (gint64) d);
      return;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buf, sizeof buf, formats[i], d);
      if (g_ascii_strtod (buf, NULL) == d)
        break;
    }
  g_string_append (s, buf);
}

/* Starts a member of a multi-line object: the separator, the indent and the key. */
static void
put_key (GString *s, int indent, gboolean *first, const char *key)
{
  g_string_append (s, *first ? "\n" : ",\n");
  *first = FALSE;
  for (int i = 0; i < indent; i++)
    g_string_append_c (s, ' ');
  put_string (s, key);
  g_string_append (s, ": ");
}

static void
put_end (GString *s, int indent, char close)
{
  g_string_append_c (s, '\n');
  for (int i = 0; i < indent; i++)
    g_string_append_c (s, ' ');
  g_string_append_c (s, close);
}

/* One node on one line. */
static void
put_node (GString *s, const LamNode *node)
{
  const LamLayerInfo *info = lam_layer_info (node->kind);

  g_string_append (s, "{\"name\": ");
  put_string (s, node->name);
  g_string_append (s, ", \"type\": ");
  put_string (s, info->type_name);

  g_string_append (s, ", \"params\": {");
  for (int i = 0; i < info->n_params; i++)
    {
      const LamParamSpec *spec = &info->params[i];
      double v = lam_layer_param_get (&node->p, spec);

      if (i > 0)
        g_string_append (s, ", ");
      put_string (s, spec->name);
      g_string_append (s, ": ");
      switch (spec->type)
        {
        case LAM_PARAM_BOOL:
          g_string_append (s, v != 0 ? "true" : "false");
          break;
        case LAM_PARAM_INT:
          g_string_append_printf (s, "%d", (int) v);
          break;
        case LAM_PARAM_FLOAT:
        default:
          put_float (s, (float) v);
          break;
        }
    }
  g_string_append (s, "}, \"inputs\": [");
  for (guint j = 0; j < node->inputs->len; j++)
    {
      if (j > 0)
        g_string_append (s, ", ");
      put_string (s, g_ptr_array_index (node->inputs, j));
    }
  g_string_append (s, "], \"position\": [");
  put_double (s, node->x);
  g_string_append (s, ", ");
  put_double (s, node->y);
  g_string_append (s, "]}");
}

char *
lam_model_file_to_json (const LamModelFile *m)
{
  GString *s;
  const LamTrainConfig *cfg;
  const LamDataSpec *d;
  const LamOptConfig *o;
  gboolean first = TRUE, first2, first3;

  g_return_val_if_fail (m != NULL, NULL);

  s = g_string_new ("{");
  cfg = &m->config;
  d = &cfg->data;
  o = &cfg->opt;

  put_key (s, 2, &first, "format");
  put_string (s, LAM_MODEL_FORMAT);
  put_key (s, 2, &first, "version");
  g_string_append_printf (s, "%d", LAM_MODEL_VERSION);
  put_key (s, 2, &first, "name");
  put_string (s, m->name);
  put_key (s, 2, &first, "description");
  put_string (s, m->description);

  put_key (s, 2, &first, "nodes");
  if (m->graph == NULL || m->graph->nodes->len == 0)
    g_string_append (s, "[]");
  else
    {
      g_string_append_c (s, '[');
      for (guint i = 0; i < m->graph->nodes->len; i++)
        {
          g_string_append (s, i > 0 ? ",\n    " : "\n    ");
          put_node (s, g_ptr_array_index (m->graph->nodes, i));
        }
      put_end (s, 2, ']');
    }

  /* The data: the fields that matter for its kind. */
  put_key (s, 2, &first, "data");
  g_string_append_c (s, '{');
  first2 = TRUE;
  put_key (s, 4, &first2, "name");
  put_string (s, d->name);
  put_key (s, 4, &first2, "val_fraction");
  put_float (s, d->val_fraction);
  put_key (s, 4, &first2, "limit");
  g_string_append_printf (s, "%d", d->limit);
  {
    const char *keys[] = { "train_images", "train_labels", "test_images", "test_labels" };
    const char *vals[] = { d->train_images, d->train_labels, d->test_images, d->test_labels };
    for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
      if (vals[i] != NULL)
        {
          put_key (s, 4, &first2, keys[i]);
          put_string (s, vals[i]);
        }
  }
  if (g_strcmp0 (d->name, "fashion-mnist") != 0 && g_strcmp0 (d->name, "idx") != 0)
    {
      put_key (s, 4, &first2, "n_samples");
      g_string_append_printf (s, "%d", d->n_samples);
      put_key (s, 4, &first2, "noise");
      put_float (s, d->noise);
      put_key (s, 4, &first2, "n_classes");
      g_string_append_printf (s, "%d", d->n_classes);
      LamSynthKind kind;
      if (lam_synth_kind_from_name (d->name, &kind) && kind >= LAM_N_SYNTH)
        {
          put_key (s, 4, &first2, "length");
          g_string_append_printf (s, "%d", d->length);
        }
    }
  put_end (s, 2, '}');

  put_key (s, 2, &first, "training");
  g_string_append_c (s, '{');
  first2 = TRUE;
  put_key (s, 4, &first2, "epochs");
  g_string_append_printf (s, "%d", cfg->epochs);
  put_key (s, 4, &first2, "batch");
  g_string_append_printf (s, "%d", cfg->batch);
  put_key (s, 4, &first2, "seed");
  g_string_append_printf (s, "%" G_GINT64_FORMAT, (gint64) cfg->seed);
  put_key (s, 4, &first2, "backend");
  put_string (s, cfg->backend != NULL ? cfg->backend : "auto");
  put_key (s, 4, &first2, "threads");
  g_string_append_printf (s, "%d", cfg->threads);

  put_key (s, 4, &first2, "optimizer");
  g_string_append_c (s, '{');
  first3 = TRUE;
  put_key (s, 6, &first3, "kind");
  put_string (s, lam_opt_kind_name (o->kind));
  put_key (s, 6, &first3, "lr");
  put_float (s, o->lr);
  put_key (s, 6, &first3, "momentum");
  put_float (s, o->momentum);
  put_key (s, 6, &first3, "nesterov");
  g_string_append (s, o->nesterov ? "true" : "false");
  put_key (s, 6, &first3, "weight_decay");
  put_float (s, o->weight_decay);
  put_key (s, 6, &first3, "beta1");
  put_float (s, o->beta1);
  put_key (s, 6, &first3, "beta2");
  put_float (s, o->beta2);
  put_key (s, 6, &first3, "eps");
  put_float (s, o->eps);
  put_key (s, 6, &first3, "schedule");
  put_string (s, lam_sched_kind_name (o->schedule));
  put_key (s, 6, &first3, "step_epochs");
  g_string_append_printf (s, "%d", o->step_epochs);
  put_key (s, 6, &first3, "gamma");
  put_float (s, o->gamma);
  put_end (s, 4, '}');
  put_end (s, 2, '}');

  put_end (s, 0, '}');
  g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

gboolean
lam_model_file_save (const LamModelFile *m, const char *path, GError **error)
{
  g_autofree char *json = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (m != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  json = lam_model_file_to_json (m);
  if (!g_file_set_contents_full (path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local))
    {
      g_autofree char *file = g_filename_display_basename (path);
      g_set_error (error, LAM_ERROR, LAM_ERROR_IO, "%s: cannot save: %s", file, local->message);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Presets */

const char *const *
lam_preset_names (void)
{
  static const char *const names[] = { "mlp", "lenet5", "alexnet", "vgg", "resnet", "rnn", "lstm", "gru", "ltc", "transformer", "locally-connected", "conv-twin", "charlstm", NULL };
  return names;
}

static gboolean
preset_name_ok (const char *name)
{
  if (name == NULL || name[0] == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

char *
lam_preset_path (const char *name)
{
  g_autofree char *file = NULL;
  const char *dirs[3];

  if (!preset_name_ok (name))
    return NULL;

  file = g_strconcat (name, ".json", NULL);
  dirs[0] = g_getenv ("LAMINA_PRESETS_DIR");
  dirs[1] = LAM_SOURCE_DIR "/resources/presets";
  dirs[2] = LAM_DATADIR "/presets";

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = NULL;

      if (dirs[i] == NULL || dirs[i][0] == '\0')
        continue;
      path = g_build_filename (dirs[i], file, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

LamModelFile *
lam_model_file_load_preset (const char *name, GError **error)
{
  g_autofree char *path = lam_preset_path (name);

  if (path == NULL)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_IO,
                   "%s.json: no such preset (looked in $LAMINA_PRESETS_DIR, %s and %s)",
                   name != NULL ? name : "(null)",
                   LAM_SOURCE_DIR "/resources/presets", LAM_DATADIR "/presets");
      return NULL;
    }
  return lam_model_file_load (path, error);
}
