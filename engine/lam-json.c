/* lam-json.c: see lam-json.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "lam-json.h"

gboolean
lam_json_depth_ok (const char *s, gsize len, int max_depth)
{
  int depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char ch = s[i];

      if (in_string)
        {
          if (ch == '\\')
            i++;
          else if (ch == '"')
            in_string = FALSE;
        }
      else if (ch == '"')
        in_string = TRUE;
      else if (ch == '[' || ch == '{')
        {
          if (++depth > max_depth)
            return FALSE;
        }
      else if (ch == ']' || ch == '}')
        depth--;
    }
  return TRUE;
}

/* (The depth is bounded by lam_json_depth_ok, so recursion is safe.) */
gboolean
lam_json_strings_valid (JsonNode *node)
{
  if (node == NULL)
    return TRUE;
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        const char *key;
        JsonNode *value;

        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, &key, &value))
          if (!g_utf8_validate (key, -1, NULL) || !lam_json_strings_valid (value))
            return FALSE;
        return TRUE;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *a = json_node_get_array (node);
        for (guint i = 0; i < json_array_get_length (a); i++)
          if (!lam_json_strings_valid (json_array_get_element (a, i)))
            return FALSE;
        return TRUE;
      }
    case JSON_NODE_VALUE:
      return json_node_get_value_type (node) != G_TYPE_STRING ||
             g_utf8_validate (json_node_get_string (node), -1, NULL);
    case JSON_NODE_NULL:
    default:
      return TRUE;
    }
}
