/* test-safetensors.c: the safetensors reader and writer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "test-safetensors"

#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "lam-safetensors.h"

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* Writes a raw safetensors file: header length (header_len, or the
 * real length when G_MAXUINT64), header text, then data bytes. */
static char *
write_raw (const char *name, guint64 header_len, const char *header, gsize hlen,
           const void *data, gsize data_len)
{
  char *path = tmp_path (name);
  g_autoptr(GByteArray) b = g_byte_array_new ();
  guint64 le = GUINT64_TO_LE (header_len == G_MAXUINT64 ? (guint64) hlen : header_len);
  g_autoptr(GError) error = NULL;

  g_byte_array_append (b, (const guint8 *) &le, 8);
  g_byte_array_append (b, (const guint8 *) header, (guint) hlen);
  if (data_len > 0)
    g_byte_array_append (b, data, (guint) data_len);
  g_file_set_contents (path, (const char *) b->data, b->len, &error);
  g_assert_no_error (error);
  return path;
}

static char *
write_header (const char *name, const char *header, gsize data_len)
{
  g_autofree guint8 *data = g_malloc0 (data_len + 1);
  return write_raw (name, G_MAXUINT64, header, strlen (header), data, data_len);
}

static void
assert_same_floats (const float *a, const float *b, gsize n)
{
  /* Bit for bit: NaN payloads, -0 and denormals must survive. */
  if (n > 0)
    g_assert_cmpmem (a, n * sizeof (float), b, n * sizeof (float));
}

static void
test_round_trip (void)
{
  g_autoptr(LamStFile) f = lam_st_file_new ();
  g_autoptr(LamStFile) g = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = tmp_path ("round-trip.safetensors");
  gint64 s1[1] = { 7 };
  gint64 s2[2] = { 3, 5 };
  gint64 s4[4] = { 2, 3, 2, 2 };
  gint64 s0[1] = { 0 };
  float d1[7] = { 0.0f, -0.0f, 1.0f / 3.0f, 1e-42f, INFINITY, -INFINITY, NAN };
  float d2[15], d4[24], scalar = 42.5f;
  LamStTensor *t;

  for (int i = 0; i < 15; i++)
    d2[i] = (float) i * 0.1f - 0.7f;
  for (int i = 0; i < 24; i++)
    d4[i] = sinf ((float) i) * 1e6f;

  /* Deliberately not in alphabetical order. */
  t = lam_st_file_add (f, "conv1.weight", 4, s4, d4);
  g_assert_nonnull (t);
  g_assert_cmpuint (t->n, ==, 24);
  g_assert_nonnull (lam_st_file_add (f, "b", 1, s1, d1));
  g_assert_nonnull (lam_st_file_add (f, "a.matrix", 2, s2, d2));
  g_assert_nonnull (lam_st_file_add (f, "scalar", 0, NULL, &scalar));
  g_assert_nonnull (lam_st_file_add (f, "empty", 1, s0, NULL));
  g_assert_nonnull (lam_st_file_add (f, "zeros", 1, s1, NULL));
  lam_st_file_set_meta (f, "format", "pt");
  lam_st_file_set_meta (f, "lamina.step", "1234");
  lam_st_file_set_meta (f, "unicode", "Größe \"quoted\" \\ ✓");
  lam_st_file_set_meta (f, "removed", "x");
  lam_st_file_set_meta (f, "removed", NULL);

  g_assert_true (lam_st_file_save (f, path, &error));
  g_assert_no_error (error);

  g = lam_st_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g);

  g_assert_cmpuint (g->tensors->len, ==, f->tensors->len);
  for (guint i = 0; i < f->tensors->len; i++)
    {
      LamStTensor *a = g_ptr_array_index (f->tensors, i);
      LamStTensor *b = g_ptr_array_index (g->tensors, i);

      g_assert_cmpstr (a->name, ==, b->name);   /* the order as added */
      g_assert_cmpint (a->ndim, ==, b->ndim);
      for (int d = 0; d < a->ndim; d++)
        g_assert_cmpint (a->shape[d], ==, b->shape[d]);
      g_assert_cmpuint (a->n, ==, b->n);
      assert_same_floats (a->data, b->data, a->n);
    }

  t = lam_st_file_find (g, "scalar");
  g_assert_nonnull (t);
  g_assert_cmpint (t->ndim, ==, 0);
  g_assert_cmpuint (t->n, ==, 1);
  g_assert_cmpfloat (t->data[0], ==, 42.5f);
  t = lam_st_file_find (g, "zeros");
  for (int i = 0; i < 7; i++)
    g_assert_cmpfloat (t->data[i], ==, 0.0f);
  g_assert_cmpuint (lam_st_file_find (g, "empty")->n, ==, 0);
  g_assert_null (lam_st_file_find (g, "nope"));

  g_assert_cmpuint (g_hash_table_size (g->metadata), ==, 3);
  g_assert_cmpstr (lam_st_file_get_meta (g, "format"), ==, "pt");
  g_assert_cmpstr (lam_st_file_get_meta (g, "lamina.step"), ==, "1234");
  g_assert_cmpstr (lam_st_file_get_meta (g, "unicode"), ==, "Größe \"quoted\" \\ ✓");
  g_assert_null (lam_st_file_get_meta (g, "removed"));

  g_unlink (path);
}

/* The bytes on disk: what Python's safetensors writes and reads. */
static void
test_layout (void)
{
  g_autoptr(LamStFile) f = lam_st_file_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *path = tmp_path ("layout.safetensors");
  g_autofree char *contents = NULL;
  gsize len;
  guint64 hlen;
  gint64 s[2] = { 1, 2 };
  float first[2] = { 1.0f, 2.0f }, second[1] = { -1.5f };
  gint64 s1[1] = { 1 };
  JsonObject *o;
  JsonArray *a;
  GList *members;
  float v[3];

  lam_st_file_add (f, "zz", 2, s, first);
  lam_st_file_add (f, "aa", 1, s1, second);
  lam_st_file_set_meta (f, "k", "v");
  g_assert_true (lam_st_file_save (f, path, &error));
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, >=, 8);
  memcpy (&hlen, contents, 8);
  hlen = GUINT64_FROM_LE (hlen);
  g_assert_cmpuint (hlen % 8, ==, 0);
  g_assert_cmpuint (len, ==, 8 + hlen + 12);
  g_assert_cmpint (contents[8], ==, '{');
  /* Padding is spaces. */
  for (guint64 i = hlen; i > 0 && contents[8 + i - 1] != '}'; i--)
    g_assert_cmpint (contents[8 + i - 1], ==, ' ');

  g_assert_true (json_parser_load_from_data (parser, contents + 8, (gssize) hlen, &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "__metadata__"), "k"),
                   ==, "v");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "zz"), "dtype"),
                   ==, "F32");
  a = json_object_get_array_member (json_object_get_object_member (o, "zz"), "data_offsets");
  g_assert_cmpint (json_array_get_int_element (a, 0), ==, 0);
  g_assert_cmpint (json_array_get_int_element (a, 1), ==, 8);
  a = json_object_get_array_member (json_object_get_object_member (o, "aa"), "data_offsets");
  g_assert_cmpint (json_array_get_int_element (a, 0), ==, 8);
  g_assert_cmpint (json_array_get_int_element (a, 1), ==, 12);
  a = json_object_get_array_member (json_object_get_object_member (o, "zz"), "shape");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  g_assert_cmpint (json_array_get_int_element (a, 1), ==, 2);
  members = json_object_get_members (o);
  g_assert_cmpuint (g_list_length (members), ==, 3);
  g_list_free (members);

  /* Little-endian float32 data in the order added. */
  memcpy (v, contents + 8 + hlen, 12);
  for (int i = 0; i < 3; i++)
    {
      guint32 w;
      memcpy (&w, &v[i], 4);
      w = GUINT32_FROM_LE (w);
      memcpy (&v[i], &w, 4);
    }
  g_assert_cmpfloat (v[0], ==, 1.0f);
  g_assert_cmpfloat (v[1], ==, 2.0f);
  g_assert_cmpfloat (v[2], ==, -1.5f);

  g_unlink (path);
}

/* A file as Python's safetensors writes it: keys sorted, data in a
 * different order from the header's. */
static void
test_foreign_order (void)
{
  const char *header = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
  float data[3] = { 1.0f, 2.0f, 3.0f };
  g_autofree char *path = write_raw ("foreign.safetensors", G_MAXUINT64, header, strlen (header),
                                     data, sizeof data);
  g_autoptr(GError) error = NULL;
  g_autoptr(LamStFile) f = lam_st_file_load (path, &error);
  LamStTensor *t;

  g_assert_no_error (error);
  g_assert_nonnull (f);
  /* File order: by offset. */
  g_assert_cmpstr (((LamStTensor *) g_ptr_array_index (f->tensors, 0))->name, ==, "b");
  t = lam_st_file_find (f, "a");
  g_assert_cmpfloat (t->data[0], ==, 3.0f);
  t = lam_st_file_find (f, "b");
  g_assert_cmpfloat (t->data[0], ==, 1.0f);
  g_assert_cmpfloat (t->data[1], ==, 2.0f);
  g_assert_cmpstr (lam_st_file_get_meta (f, "format"), ==, "pt");
  g_unlink (path);
}

static void
test_replace (void)
{
  g_autoptr(LamStFile) f = lam_st_file_new ();
  gint64 s1[1] = { 1 }, s2[1] = { 2 };
  float a = 1.0f, b[2] = { 2.0f, 3.0f };
  LamStTensor *t;

  lam_st_file_add (f, "x", 1, s1, &a);
  lam_st_file_add (f, "y", 1, s1, &a);
  t = lam_st_file_add (f, "x", 1, s2, b);
  g_assert_cmpuint (f->tensors->len, ==, 2);
  g_assert_true (g_ptr_array_index (f->tensors, 0) == t);
  g_assert_true (lam_st_file_find (f, "x") == t);
  g_assert_cmpuint (t->n, ==, 2);
  g_assert_cmpfloat (t->data[1], ==, 3.0f);
}

static void
test_save_atomic (void)
{
  g_autoptr(LamStFile) f = lam_st_file_new ();
  g_autoptr(LamStFile) g = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sub = tmp_path ("atomic");
  g_autofree char *path = g_build_filename (sub, "w.safetensors", NULL);
  g_autoptr(GDir) dir = NULL;
  gint64 s[1] = { 3 };
  float d[3] = { 1, 2, 3 };
  const char *entry;
  int n_entries = 0;

  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "old contents, longer than the new file would be....", -1, NULL));
  lam_st_file_add (f, "w", 1, s, d);
  g_assert_true (lam_st_file_save (f, path, &error));
  g_assert_no_error (error);

  g = lam_st_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (lam_st_file_find (g, "w")->data[2], ==, 3.0f);

  /* No temporary file left behind. */
  dir = g_dir_open (sub, 0, &error);
  g_assert_no_error (error);
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_assert_cmpstr (entry, ==, "w.safetensors");
      n_entries++;
    }
  g_assert_cmpint (n_entries, ==, 1);
  g_unlink (path);
  g_rmdir (sub);
}

static void
test_io_errors (void)
{
  g_autoptr(LamStFile) f = lam_st_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = tmp_path ("no-such-dir/x.safetensors");
  LamStFile *g;

  g_assert_false (lam_st_file_save (f, missing, &error));
  g_assert_error (error, LAM_ERROR, LAM_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "x.safetensors"));
  g_clear_error (&error);

  g = lam_st_file_load (missing, &error);
  g_assert_null (g);
  g_assert_error (error, LAM_ERROR, LAM_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "x.safetensors"));
  g_clear_error (&error);

  g = lam_st_file_load (tmpdir, &error);
  g_assert_null (g);
  g_assert_error (error, LAM_ERROR, LAM_ERROR_IO);
  g_assert_nonnull (strstr (error->message, ": not a regular file"));
  g_clear_error (&error);

  /* a FIFO: opening it for reading would wait for a writer, for ever */
  g_autofree char *fifo = tmp_path ("weights.fifo");
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g = lam_st_file_load (fifo, &error);
  g_assert_null (g);
  g_assert_error (error, LAM_ERROR, LAM_ERROR_IO);
  g_assert_cmpstr (error->message, ==, "weights.fifo: not a regular file");
  g_unlink (fifo);
}

static void
test_empty_file_ok (void)
{
  g_autoptr(LamStFile) f = lam_st_file_new ();
  g_autoptr(LamStFile) g = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = tmp_path ("no-tensors.safetensors");

  g_assert_true (lam_st_file_save (f, path, &error));
  g = lam_st_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g->tensors->len, ==, 0);
  g_assert_cmpuint (g_hash_table_size (g->metadata), ==, 0);
  g_unlink (path);
}

/* Hostile inputs: each must fail with LAM_ERROR_BAD_FILE, a message
 * naming the file and, where there is one, the tensor. */
typedef struct {
  const char *test;
  const char *header;     /* NULL: see raw */
  gsize       data_len;
  const char *expect;     /* substring of the message */
} BadCase;

static const BadCase bad_cases[] = {
  { "not-json", "{\"a\": {\"dtype\": \"F32\",, }", 0, "not valid JSON" },
  { "not-object", "[1, 2, 3]", 0, "not a JSON object" },
  { "string-root", "{", 0, "not valid JSON" },
  { "entry-not-object", "{\"w\": 3}", 0, "\"w\"" },
  { "no-dtype", "{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "\"w\": no \"dtype\"" },
  { "dtype-number", "{\"w\": {\"dtype\": 32, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "\"w\"" },
  { "dtype-f16", "{\"half\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4,
    "tensor \"half\" has dtype F16" },
  { "dtype-i64", "{\"ids\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8,
    "tensor \"ids\" has dtype I64" },
  { "no-shape", "{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4, "\"w\": no \"shape\"" },
  { "shape-object", "{\"w\": {\"dtype\": \"F32\", \"shape\": {}, \"data_offsets\": [0, 4]}}", 4, "\"w\"" },
  { "shape-string", "{\"w\": {\"dtype\": \"F32\", \"shape\": [\"1\"], \"data_offsets\": [0, 4]}}", 4,
    "\"w\": shape entry 0 is not an integer" },
  { "shape-float", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4,
    "not an integer" },
  { "shape-negative", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, -2], \"data_offsets\": [0, 16]}}", 16,
    "\"w\": shape entry 1 is negative" },
  { "shape-overflow",
    "{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 4], \"data_offsets\": [0, 0]}}", 0,
    "\"w\": shape is too large" },
  { "shape-overflow-4",
    "{\"w\": {\"dtype\": \"F32\", \"shape\": [9223372036854775807, 2], \"data_offsets\": [0, 0]}}", 0,
    "\"w\": shape is too large" },
  { "ndim-5", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1, 1, 1, 1, 1], \"data_offsets\": [0, 4]}}", 4,
    "\"w\" has 5 dimensions" },
  { "no-offsets", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, "\"w\": no \"data_offsets\"" },
  { "offsets-three", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}", 8,
    "\"w\": \"data_offsets\" is not" },
  { "offsets-string", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [\"0\", 4]}}", 4,
    "\"w\": \"data_offsets\" is not" },
  { "offsets-reversed", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", 4,
    "out of order" },
  { "offsets-negative", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 4,
    "out of order" },
  { "offsets-vs-shape", "{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8,
    "\"w\": data_offsets [0, 8] span 8 bytes, but the shape needs 12" },
  { "offsets-past-end", "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 12,
    "\"w\": data_offsets [0, 16] extend past the end of the data (12 bytes)" },
  { "offsets-huge",
    "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [9223372036854775800, 9223372036854775804]}}",
    4, "\"w\"" },
  { "overlap",
    "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
    " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12,
    "\"b\": data_offsets [4, 12] overlap tensor \"a\"" },
  { "same-range",
    "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
    " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 16,
    "overlap" },
  { "gap",
    "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
    " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}", 12,
    "\"b\": data_offsets [8, 12] leave a gap" },
  { "trailing", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 8,
    "4 bytes of data follow the last tensor" },
  { "metadata-array", "{\"__metadata__\": [1]}", 0, "\"__metadata__\" is not a JSON object" },
  { "metadata-number", "{\"__metadata__\": {\"step\": 12}}", 0, "value of \"step\" is not a string" },
  { "deep",
    "{\"w\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    0, "nested too deeply" },
};

static void
test_bad_case (gconstpointer data)
{
  const BadCase *c = data;
  g_autofree char *name = g_strdup_printf ("bad-%s.safetensors", c->test);
  g_autofree char *path = write_header (name, c->header, c->data_len);
  g_autoptr(GError) error = NULL;
  LamStFile *f = lam_st_file_load (path, &error);

  g_assert_null (f);
  g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, name));
  if (strstr (error->message, c->expect) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", error->message, c->expect);
  g_unlink (path);
}

static void
expect_bad (const char *path, const char *name, const char *expect)
{
  g_autoptr(GError) error = NULL;
  LamStFile *f = lam_st_file_load (path, &error);

  g_assert_null (f);
  g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, name));
  if (expect != NULL && strstr (error->message, expect) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", error->message, expect);
}

static void
test_bad_raw (void)
{
  g_autofree char *p1 = tmp_path ("short.safetensors");
  g_autofree char *p2 = NULL, *p3 = NULL, *p4 = NULL, *p5 = NULL, *p6 = NULL, *p7 = NULL;
  const char *h = "{}      ";

  /* Shorter than 8 bytes, including empty. */
  g_assert_true (g_file_set_contents (p1, "abc", 3, NULL));
  expect_bad (p1, "short.safetensors", "too short");
  g_assert_true (g_file_set_contents (p1, "", 0, NULL));
  expect_bad (p1, "short.safetensors", "too short");
  g_unlink (p1);

  /* Header length beyond the file. */
  p2 = write_raw ("long-header.safetensors", 9, h, 8, NULL, 0);
  expect_bad (p2, "long-header.safetensors", "larger than the file");
  g_unlink (p2);

  /* Header length over 100 MB, and the largest u64. */
  p3 = write_raw ("huge-header.safetensors", 200 * 1000 * 1000, h, 8, NULL, 0);
  expect_bad (p3, "huge-header.safetensors", "larger than the limit");
  g_unlink (p3);
  p4 = write_raw ("max-header.safetensors", G_MAXUINT64 - 1, h, 8, NULL, 0);
  expect_bad (p4, "max-header.safetensors", "larger than the limit");
  g_unlink (p4);

  /* Zero-length header, and a header that is not UTF-8 or has a NUL. */
  p5 = write_raw ("zero-header.safetensors", 0, h, 8, NULL, 0);
  expect_bad (p5, "zero-header.safetensors", NULL);
  g_unlink (p5);
  p6 = write_raw ("latin1.safetensors", G_MAXUINT64, "{\"\xe9\": 1}    ", 12, NULL, 0);
  expect_bad (p6, "latin1.safetensors", "UTF-8");
  g_unlink (p6);
  p7 = write_raw ("nul.safetensors", G_MAXUINT64, "{\"a\0\": 1}   ", 12, NULL, 0);
  expect_bad (p7, "nul.safetensors", NULL);
  g_unlink (p7);
  /* valid text, but json-glib reads the octal escape \351 as the byte 0xe9 */
  const char *octal = "{\"__metadata__\": {\"a\": \"\\351\"}}";
  g_autofree char *p8 = write_raw ("octal.safetensors", G_MAXUINT64, octal, strlen (octal), NULL, 0);
  expect_bad (p8, "octal.safetensors", "octal.safetensors: header has a string that is not valid UTF-8");
  g_unlink (p8);
}

static void
test_deep_nesting_big (void)
{
  /* Far deeper than any parser's stack could take. */
  gsize depth = 2 * 1000 * 1000;
  g_autofree char *h = g_malloc (2 * depth + 3);
  g_autofree char *path = NULL;

  h[0] = '{';
  memcpy (h + 1, "\"a\":", 4);
  memset (h + 5, '[', depth);
  h[5 + depth] = '\0';
  path = write_raw ("deep.safetensors", G_MAXUINT64, h, 5 + depth, NULL, 0);
  expect_bad (path, "deep.safetensors", "nested too deeply");
  g_unlink (path);
}

static char *
save_sample (const char *name, gsize *len_out, char **contents_out)
{
  g_autoptr(LamStFile) f = lam_st_file_new ();
  g_autoptr(GError) error = NULL;
  char *path = tmp_path (name);
  gint64 s2[2] = { 4, 3 }, s1[1] = { 5 };
  float a[12], b[5];

  for (int i = 0; i < 12; i++)
    a[i] = (float) i;
  for (int i = 0; i < 5; i++)
    b[i] = (float) -i;
  lam_st_file_add (f, "layer.weight", 2, s2, a);
  lam_st_file_add (f, "layer.bias", 1, s1, b);
  lam_st_file_set_meta (f, "epoch", "3");
  g_assert_true (lam_st_file_save (f, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, contents_out, len_out, NULL));
  return path;
}

static void
test_truncated (void)
{
  g_autofree char *contents = NULL;
  gsize len;
  g_autofree char *full = save_sample ("full.safetensors", &len, &contents);
  g_autofree char *path = tmp_path ("truncated.safetensors");

  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr(GError) error = NULL;
      LamStFile *f;

      g_assert_true (g_file_set_contents (path, contents, (gssize) cut, NULL));
      f = lam_st_file_load (path, &error);
      g_assert_null (f);
      g_assert_error (error, LAM_ERROR, LAM_ERROR_BAD_FILE);
      g_assert_true (g_str_has_prefix (error->message, "truncated.safetensors: "));
    }
  g_unlink (path);
  g_unlink (full);
}

/* Random byte changes: the loader must not crash or leak; any file it
 * accepts must be self-consistent. */
static void
test_fuzz (void)
{
  g_autofree char *contents = NULL;
  gsize len;
  g_autofree char *full = save_sample ("fuzz-src.safetensors", &len, &contents);
  g_autofree char *path = tmp_path ("fuzz.safetensors");
  g_autoptr(GRand) rand = g_rand_new_with_seed (1234);
  int n_ok = 0;

  for (int iter = 0; iter < 3000; iter++)
    {
      g_autofree char *copy = g_memdup2 (contents, len);
      g_autoptr(GError) error = NULL;
      LamStFile *f;
      int n_flips = g_rand_int_range (rand, 1, 4);

      for (int k = 0; k < n_flips; k++)
        {
          /* Mostly the header, where the structure is. */
          gsize at = g_rand_boolean (rand) ? (gsize) g_rand_int_range (rand, 0, 8)
                                           : (gsize) g_rand_int_range (rand, 0, (gint32) len);
          if (g_rand_boolean (rand))
            copy[at] = (char) g_rand_int_range (rand, 0, 256);
          else
            copy[at] = "0123456789[]{}\",:-e.F3 "[g_rand_int_range (rand, 0, 23)];
        }
      g_assert_true (g_file_set_contents (path, copy, (gssize) len, NULL));
      f = lam_st_file_load (path, &error);
      if (f != NULL)
        {
          g_assert_no_error (error);
          for (guint i = 0; i < f->tensors->len; i++)
            {
              LamStTensor *t = g_ptr_array_index (f->tensors, i);
              gsize n = 1;
              for (int d = 0; d < t->ndim; d++)
                n *= (gsize) t->shape[d];
              g_assert_cmpuint (n, ==, t->n);
              if (n > 0)
                g_assert_nonnull (t->data);
              for (gsize e = 0; e < t->n; e++)
                (void) t->data[e];   /* readable under ASan */
            }
          lam_st_file_free (f);
          n_ok++;
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == LAM_ERROR);
        }
    }
  g_test_message ("%d of 3000 mutated files loaded", n_ok);
  g_unlink (path);
  g_unlink (full);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  tmpdir = g_dir_make_tmp ("lamina-st-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/engine/safetensors/round-trip", test_round_trip);
  g_test_add_func ("/engine/safetensors/layout", test_layout);
  g_test_add_func ("/engine/safetensors/foreign-order", test_foreign_order);
  g_test_add_func ("/engine/safetensors/replace", test_replace);
  g_test_add_func ("/engine/safetensors/save-atomic", test_save_atomic);
  g_test_add_func ("/engine/safetensors/io-errors", test_io_errors);
  g_test_add_func ("/engine/safetensors/no-tensors", test_empty_file_ok);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *p = g_strdup_printf ("/engine/safetensors/bad/%s", bad_cases[i].test);
      g_test_add_data_func (p, &bad_cases[i], test_bad_case);
    }
  g_test_add_func ("/engine/safetensors/bad/raw", test_bad_raw);
  g_test_add_func ("/engine/safetensors/bad/deep-nesting", test_deep_nesting_big);
  g_test_add_func ("/engine/safetensors/truncated", test_truncated);
  g_test_add_func ("/engine/safetensors/fuzz", test_fuzz);

  ret = g_test_run ();

  g_rmdir (tmpdir);
  g_free (tmpdir);
  return ret;
}
