/* lam-safetensors.c: reading and writing safetensors files.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v"},
 *    "name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
 * padded with spaces to a multiple of 8, then the raw little-endian data.
 * Offsets are relative to the start of the data area.
 *
 * Loading is as strict as Python's safetensors package: the tensors'
 * byte ranges must tile the data area exactly (no overlap, no gap, no
 * trailing bytes), so a file this accepts is one Python accepts too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-safetensors"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "lam-file.h"
#include "lam-json.h"
#include "lam-safetensors.h"

#define LAM_ST_MAX_HEADER  (100 * 1000 * 1000)  /* bytes */
#define LAM_ST_MAX_NDIM    4
#define LAM_ST_MAX_DEPTH   16                   /* JSON nesting; a valid header needs 3 */

static void
lam_st_tensor_free (LamStTensor *t)
{
  if (t == NULL)
    return;
  g_free (t->name);
  g_free (t->data);
  g_free (t);
}

LamStFile *
lam_st_file_new (void)
{
  LamStFile *f = g_new0 (LamStFile, 1);

  f->tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) lam_st_tensor_free);
  f->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return f;
}

void
lam_st_file_free (LamStFile *f)
{
  if (f == NULL)
    return;
  g_ptr_array_unref (f->tensors);
  g_hash_table_unref (f->metadata);
  g_free (f);
}

LamStTensor *
lam_st_file_find (LamStFile *f, const char *name)
{
  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < f->tensors->len; i++)
    {
      LamStTensor *t = g_ptr_array_index (f->tensors, i);
      if (strcmp (t->name, name) == 0)
        return t;
    }
  return NULL;
}

/* Number of elements of a shape, FALSE on a negative dimension or when
 * the byte size would not fit in a gsize. */
static gboolean
shape_elements (int ndim, const gint64 *shape, gsize *n_out)
{
  guint64 n = 1;

  for (int i = 0; i < ndim; i++)
    {
      if (shape[i] < 0)
        return FALSE;
      if (__builtin_mul_overflow (n, (guint64) shape[i], &n))
        return FALSE;
    }
  if (n > G_MAXSIZE / sizeof (float) || n > G_MAXINT64 / sizeof (float))
    return FALSE;
  *n_out = (gsize) n;
  return TRUE;
}

/* Adds a copy of data (n floats, where n is the product of the shape;
 * NULL data gives zeros). A tensor of the same name is replaced in place. */
LamStTensor *
lam_st_file_add (LamStFile *f, const char *name, int ndim, const gint64 *shape,
                 const float *data)
{
  LamStTensor *t;
  gsize n = 0;

  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (name != NULL && g_utf8_validate (name, -1, NULL), NULL);
  g_return_val_if_fail (strcmp (name, "__metadata__") != 0, NULL);
  g_return_val_if_fail (ndim >= 0 && ndim <= LAM_ST_MAX_NDIM, NULL);
  g_return_val_if_fail (ndim == 0 || shape != NULL, NULL);
  g_return_val_if_fail (shape_elements (ndim, shape, &n), NULL);

  t = g_new0 (LamStTensor, 1);
  t->name = g_strdup (name);
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    t->shape[i] = shape[i];
  t->n = n;
  if (n > 0)
    t->data = data != NULL ? g_memdup2 (data, n * sizeof (float)) : g_new0 (float, n);

  for (guint i = 0; i < f->tensors->len; i++)
    {
      LamStTensor *old = g_ptr_array_index (f->tensors, i);
      if (strcmp (old->name, name) == 0)
        {
          f->tensors->pdata[i] = t;
          lam_st_tensor_free (old);
          return t;
        }
    }
  g_ptr_array_add (f->tensors, t);
  return t;
}

void
lam_st_file_set_meta (LamStFile *f, const char *key, const char *value)
{
  g_return_if_fail (f != NULL);
  g_return_if_fail (key != NULL && g_utf8_validate (key, -1, NULL));

  if (value == NULL)
    g_hash_table_remove (f->metadata, key);
  else
    {
      g_return_if_fail (g_utf8_validate (value, -1, NULL));
      g_hash_table_insert (f->metadata, g_strdup (key), g_strdup (value));
    }
}

const char *
lam_st_file_get_meta (LamStFile *f, const char *key)
{
  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_hash_table_lookup (f->metadata, key);
}

/* ------------------------------------------------------------------ */
/* Errors */

static gboolean set_error (GError **error, int code, const char *path, const char *fmt, ...)
  G_GNUC_PRINTF (4, 5);

/* Always returns FALSE, for "return set_error (...)". */
static gboolean
set_error (GError **error, int code, const char *path, const char *fmt, ...)
{
  g_autofree char *base = g_filename_display_basename (path);
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (error, LAM_ERROR, code, "%s: %s", base, msg);
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Saving */

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

gboolean
lam_st_file_save (LamStFile *f, const char *path, GError **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GString) out = NULL;
  g_autofree char *header = NULL;
  gsize header_len, padded;
  guint64 offset = 0;
  guint64 len_le;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  json_builder_begin_object (builder);

  if (g_hash_table_size (f->metadata) > 0)
    {
      /* Sorted keys, so that equal files are equal bytes. */
      g_autofree const char **keys =
        (const char **) g_hash_table_get_keys_as_array (f->metadata, NULL);
      guint n_keys = g_hash_table_size (f->metadata);

      qsort (keys, n_keys, sizeof (char *), compare_strings);
      json_builder_set_member_name (builder, "__metadata__");
      json_builder_begin_object (builder);
      for (guint i = 0; i < n_keys; i++)
        {
          json_builder_set_member_name (builder, keys[i]);
          json_builder_add_string_value (builder, g_hash_table_lookup (f->metadata, keys[i]));
        }
      json_builder_end_object (builder);
    }

  for (guint i = 0; i < f->tensors->len; i++)
    {
      LamStTensor *t = g_ptr_array_index (f->tensors, i);

      json_builder_set_member_name (builder, t->name);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "dtype");
      json_builder_add_string_value (builder, "F32");
      json_builder_set_member_name (builder, "shape");
      json_builder_begin_array (builder);
      for (int d = 0; d < t->ndim; d++)
        json_builder_add_int_value (builder, t->shape[d]);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "data_offsets");
      json_builder_begin_array (builder);
      json_builder_add_int_value (builder, (gint64) offset);
      offset += (guint64) t->n * sizeof (float);
      json_builder_add_int_value (builder, (gint64) offset);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (gen, root);
  header = json_generator_to_data (gen, &header_len);
  padded = (header_len + 7) & ~(gsize) 7;

  out = g_string_sized_new (8 + padded + offset);
  len_le = GUINT64_TO_LE ((guint64) padded);
  g_string_append_len (out, (const char *) &len_le, 8);
  g_string_append_len (out, header, header_len);
  for (gsize i = header_len; i < padded; i++)
    g_string_append_c (out, ' ');

  for (guint i = 0; i < f->tensors->len; i++)
    {
      LamStTensor *t = g_ptr_array_index (f->tensors, i);

      if (t->n == 0)
        continue;
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      g_string_append_len (out, (const char *) t->data, (gssize) (t->n * sizeof (float)));
#else
      for (gsize k = 0; k < t->n; k++)
        {
          guint32 w;
          memcpy (&w, &t->data[k], 4);
          w = GUINT32_TO_LE (w);
          g_string_append_len (out, (const char *) &w, 4);
        }
#endif
    }

  if (!g_file_set_contents_full (path, out->str, (gssize) out->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local))
    return set_error (error, LAM_ERROR_IO, path, "cannot save: %s", local->message);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Loading */

typedef struct {
  LamStTensor *t;
  guint64      begin, end;
} Entry;

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : (x->end > y->end ? 1 : 0);
}

/* A JSON integer member of an array, >= 0. */
static gboolean
array_int (JsonArray *a, guint i, gint64 *out)
{
  JsonNode *n = json_array_get_element (a, i);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

/* Parses one tensor's header entry; the tensor gets no data yet. */
static gboolean
parse_entry (const char *path, const char *name, JsonNode *node, Entry *e, GError **error)
{
  JsonObject *o;
  JsonNode *dtype, *shape, *offsets;
  JsonArray *sa, *oa;
  const char *dt;
  gint64 dims[LAM_ST_MAX_NDIM] = { 0 };
  gint64 b, en;
  guint ndim;
  gsize n;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return set_error (error, LAM_ERROR_BAD_FILE, path, "tensor \"%s\": entry is not a JSON object", name);
  o = json_node_get_object (node);

  dtype = json_object_get_member (o, "dtype");
  if (dtype == NULL)
    return set_error (error, LAM_ERROR_BAD_FILE, path, "tensor \"%s\": no \"dtype\"", name);
  if (!JSON_NODE_HOLDS_VALUE (dtype) || json_node_get_value_type (dtype) != G_TYPE_STRING)
    return set_error (error, LAM_ERROR_BAD_FILE, path, "tensor \"%s\": \"dtype\" is not a string", name);
  dt = json_node_get_string (dtype);
  if (strcmp (dt, "F32") != 0)
    return set_error (error, LAM_ERROR_BAD_FILE, path,
                      "tensor \"%s\" has dtype %s; only F32 is supported", name, dt);

  shape = json_object_get_member (o, "shape");
  if (shape == NULL)
    return set_error (error, LAM_ERROR_BAD_FILE, path, "tensor \"%s\": no \"shape\"", name);
  if (!JSON_NODE_HOLDS_ARRAY (shape))
    return set_error (error, LAM_ERROR_BAD_FILE, path, "tensor \"%s\": \"shape\" is not an array", name);
  sa = json_node_get_array (shape);
  ndim = json_array_get_length (sa);
  if (ndim > LAM_ST_MAX_NDIM)
    return set_error (error, LAM_ERROR_BAD_FILE, path,
                      "tensor \"%s\" has %u dimensions; at most %d are supported",
                      name, ndim, LAM_ST_MAX_NDIM);
  for (guint i = 0; i < ndim; i++)
    {
      if (!array_int (sa, i, &dims[i]))
        return set_error (error, LAM_ERROR_BAD_FILE, path,
                          "tensor \"%s\": shape entry %u is not an integer", name, i);
      if (dims[i] < 0)
        return set_error (error, LAM_ERROR_BAD_FILE, path,
                          "tensor \"%s\": shape entry %u is negative (%" G_GINT64_FORMAT ")",
                          name, i, dims[i]);
    }
  if (!shape_elements ((int) ndim, dims, &n))
    return set_error (error, LAM_ERROR_BAD_FILE, path, "tensor \"%s\": shape is too large", name);

  offsets = json_object_get_member (o, "data_offsets");
  if (offsets == NULL)
    return set_error (error, LAM_ERROR_BAD_FILE, path, "tensor \"%s\": no \"data_offsets\"", name);
  if (!JSON_NODE_HOLDS_ARRAY (offsets) || json_array_get_length (oa = json_node_get_array (offsets)) != 2
      || !array_int (oa, 0, &b) || !array_int (oa, 1, &en))
    return set_error (error, LAM_ERROR_BAD_FILE, path,
                      "tensor \"%s\": \"data_offsets\" is not an array of two integers", name);
  if (b < 0 || en < b)
    return set_error (error, LAM_ERROR_BAD_FILE, path,
                      "tensor \"%s\": data_offsets [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] are out of order",
                      name, b, en);
  if ((guint64) (en - b) != (guint64) n * sizeof (float))
    return set_error (error, LAM_ERROR_BAD_FILE, path,
                      "tensor \"%s\": data_offsets [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] span %"
                      G_GINT64_FORMAT " bytes, but the shape needs %" G_GUINT64_FORMAT,
                      name, b, en, en - b, (guint64) n * sizeof (float));

  e->t = g_new0 (LamStTensor, 1);
  e->t->name = g_strdup (name);
  e->t->ndim = (int) ndim;
  memcpy (e->t->shape, dims, sizeof dims);
  e->t->n = n;
  e->begin = (guint64) b;
  e->end = (guint64) en;
  return TRUE;
}

static gboolean
read_exact (FILE *fp, void *buf, gsize len)
{
  return len == 0 || fread (buf, 1, len, fp) == len;
}

LamStFile *
lam_st_file_load (const char *path, GError **error)
{
  g_autoptr(LamStFile) f = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *header = NULL;
  g_autofree Entry *entries = NULL;
  GStatBuf st;
  FILE *fp;
  int fd;
  guint8 len_bytes[8];
  guint64 header_len = 0, data_len, file_len, pos;
  JsonNode *root;
  JsonObject *obj;
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;
  guint n_entries = 0, n_members;
  gboolean ok = FALSE;

  g_return_val_if_fail (path != NULL, NULL);

  fd = lam_open_regular_file (path);
  if (fd < 0)
    {
      int saved = errno;
      if (saved == EINVAL)
        set_error (error, LAM_ERROR_IO, path, "not a regular file");
      else
        set_error (error, LAM_ERROR_IO, path, "cannot open: %s", g_strerror (saved));
      return NULL;
    }
  fp = fdopen (fd, "rb");
  if (fp == NULL)
    {
      int saved = errno;
      close (fd);
      set_error (error, LAM_ERROR_IO, path, "cannot open: %s", g_strerror (saved));
      return NULL;
    }

  if (fstat (fileno (fp), &st) != 0)
    {
      int saved = errno;
      set_error (error, LAM_ERROR_IO, path, "cannot read: %s", g_strerror (saved));
      goto out;
    }
  file_len = (guint64) st.st_size;

  if (file_len < 8 || !read_exact (fp, len_bytes, 8))
    {
      set_error (error, LAM_ERROR_BAD_FILE, path,
                 "too short for a safetensors file (%" G_GUINT64_FORMAT " bytes)", file_len);
      goto out;
    }
  memcpy (&header_len, len_bytes, 8);
  header_len = GUINT64_FROM_LE (header_len);

  if (header_len > LAM_ST_MAX_HEADER)
    {
      set_error (error, LAM_ERROR_BAD_FILE, path,
                 "not a safetensors file (header length %" G_GUINT64_FORMAT " is larger than the limit of %d bytes)",
                 header_len, LAM_ST_MAX_HEADER);
      goto out;
    }
  if (header_len > file_len - 8)
    {
      set_error (error, LAM_ERROR_BAD_FILE, path,
                 "not a safetensors file, or a truncated one (header length %" G_GUINT64_FORMAT
                 " is larger than the file, %" G_GUINT64_FORMAT " bytes)",
                 header_len, file_len);
      goto out;
    }
  data_len = file_len - 8 - header_len;

  header = g_malloc (header_len + 1);
  if (!read_exact (fp, header, header_len))
    {
      set_error (error, LAM_ERROR_IO, path, "cannot read the header");
      goto out;
    }
  header[header_len] = '\0';

  if (header_len == 0 || header[0] != '{')
    {
      set_error (error, LAM_ERROR_BAD_FILE, path, "header is not a JSON object");
      goto out;
    }
  if (!g_utf8_validate_len (header, header_len, NULL))
    {
      set_error (error, LAM_ERROR_BAD_FILE, path, "header is not valid UTF-8");
      goto out;
    }
  if (!lam_json_depth_ok (header, header_len, LAM_ST_MAX_DEPTH))
    {
      set_error (error, LAM_ERROR_BAD_FILE, path, "header is nested too deeply");
      goto out;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, header, (gssize) header_len, &local))
    {
      set_error (error, LAM_ERROR_BAD_FILE, path, "header is not valid JSON: %s", local->message);
      goto out;
    }
  root = json_parser_get_root (parser);
  if (!lam_json_strings_valid (root))
    {
      set_error (error, LAM_ERROR_BAD_FILE, path, "header has a string that is not valid UTF-8");
      goto out;
    }
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      set_error (error, LAM_ERROR_BAD_FILE, path, "header is not a JSON object");
      goto out;
    }
  obj = json_node_get_object (root);

  f = lam_st_file_new ();
  n_members = json_object_get_size (obj);
  entries = g_new0 (Entry, n_members > 0 ? n_members : 1);

  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &member, &value))
    {
      if (strcmp (member, "__metadata__") == 0)
        {
          JsonObjectIter mi;
          const char *k;
          JsonNode *v;

          if (!JSON_NODE_HOLDS_OBJECT (value))
            {
              set_error (error, LAM_ERROR_BAD_FILE, path, "\"__metadata__\" is not a JSON object");
              goto out;
            }
          json_object_iter_init_ordered (&mi, json_node_get_object (value));
          while (json_object_iter_next_ordered (&mi, &k, &v))
            {
              if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
                {
                  set_error (error, LAM_ERROR_BAD_FILE, path,
                             "\"__metadata__\": value of \"%s\" is not a string", k);
                  goto out;
                }
              g_hash_table_insert (f->metadata, g_strdup (k), g_strdup (json_node_get_string (v)));
            }
          continue;
        }

      if (!parse_entry (path, member, value, &entries[n_entries], error))
        goto out;
      n_entries++;
    }

  /* The byte ranges must tile the data area: sorted by offset, each
   * begins where the previous ended, and the last ends at the end. */
  qsort (entries, n_entries, sizeof (Entry), compare_entries);
  pos = 0;
  for (guint i = 0; i < n_entries; i++)
    {
      Entry *e = &entries[i];

      if (e->end > data_len)
        {
          set_error (error, LAM_ERROR_BAD_FILE, path,
                     "tensor \"%s\": data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                     "] extend past the end of the data (%" G_GUINT64_FORMAT " bytes)",
                     e->t->name, e->begin, e->end, data_len);
          goto out;
        }
      if (e->begin < pos)
        {
          set_error (error, LAM_ERROR_BAD_FILE, path,
                     "tensor \"%s\": data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                     "] overlap tensor \"%s\"",
                     e->t->name, e->begin, e->end, entries[i - 1].t->name);
          goto out;
        }
      if (e->begin > pos)
        {
          set_error (error, LAM_ERROR_BAD_FILE, path,
                     "tensor \"%s\": data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                     "] leave a gap after byte %" G_GUINT64_FORMAT,
                     e->t->name, e->begin, e->end, pos);
          goto out;
        }
      pos = e->end;
    }
  if (pos != data_len)
    {
      set_error (error, LAM_ERROR_BAD_FILE, path,
                 "%" G_GUINT64_FORMAT " bytes of data follow the last tensor", data_len - pos);
      goto out;
    }

  /* Read the data, in file order. */
  for (guint i = 0; i < n_entries; i++)
    {
      LamStTensor *t = entries[i].t;

      if (t->n > 0)
        {
          t->data = g_try_new (float, t->n);
          if (t->data == NULL)
            {
              set_error (error, LAM_ERROR_IO, path, "tensor \"%s\": out of memory", t->name);
              goto out;
            }
          if (!read_exact (fp, t->data, t->n * sizeof (float)))
            {
              set_error (error, LAM_ERROR_IO, path, "tensor \"%s\": cannot read the data", t->name);
              goto out;
            }
#if G_BYTE_ORDER != G_LITTLE_ENDIAN
          for (gsize k = 0; k < t->n; k++)
            {
              guint32 w;
              memcpy (&w, &t->data[k], 4);
              w = GUINT32_FROM_LE (w);
              memcpy (&t->data[k], &w, 4);
            }
#endif
        }
    }

  for (guint i = 0; i < n_entries; i++)
    {
      g_ptr_array_add (f->tensors, entries[i].t);
      entries[i].t = NULL;
    }
  ok = TRUE;

out:
  if (entries != NULL)
    for (guint i = 0; i < n_entries; i++)
      lam_st_tensor_free (entries[i].t);
  fclose (fp);
  return ok ? g_steal_pointer (&f) : NULL;
}
