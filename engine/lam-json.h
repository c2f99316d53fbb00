/* lam-json.h: what the model file and safetensors readers both need
 * before they trust json-glib with hostile text.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The JSON parser recurses per nesting level; refuse deep nesting before
 * it sees the text, so that hostile input cannot exhaust the stack. */
gboolean lam_json_depth_ok      (const char *s, gsize len, int max_depth);

/* FALSE when a string or member name in the tree is not valid UTF-8.
 * Valid UTF-8 text can still parse to such strings: json-glib reads
 * octal escapes ("\201" is the byte 0x81) and lone surrogates ("\ud800"). */
gboolean lam_json_strings_valid (JsonNode *node);

G_END_DECLS
