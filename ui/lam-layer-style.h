/* lam-layer-style.h: how layer kinds look: the palette's group order,
 * a colour per group, and a small glyph per kind, drawn with cairo so
 * that the palette and the canvas share one drawing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-graph.h"

G_BEGIN_DECLS

/* The palette's groups, in the course's order. */
guint        lam_layer_n_groups        (void);
const char  *lam_layer_group_title     (guint group);
guint        lam_layer_group_of        (LamLayerKind kind);
/* "lam-group-dense": a CSS class for tinting widgets of that group */
const char  *lam_layer_group_css_class (guint group);
/* The group's colour: dark enough for white text, light or dark theme. */
void         lam_layer_group_color     (guint group, GdkRGBA *out);

/* Kinds in palette order: by group, then as the engine lists them. */
const LamLayerKind *lam_layer_kinds_in_order (void);

/* Draws kind's glyph in the 16×16 box at the origin with the current
 * source; scale the context for other sizes. */
void         lam_layer_draw_glyph      (cairo_t *cr, LamLayerKind kind);

/* Numbers for people: "61,706", "0.85 MFLOPs", "4.1 MB". */
char        *lam_format_count          (gint64 n);
char        *lam_format_flops          (gint64 flops);
char        *lam_format_bytes          (gint64 bytes);

/* The glyph as a symbolic paintable for GtkImage: it takes the colour
 * of the widget's text, like a symbolic icon. */
#define LAM_TYPE_LAYER_ICON (lam_layer_icon_get_type ())
G_DECLARE_FINAL_TYPE (LamLayerIcon, lam_layer_icon, LAM, LAYER_ICON, GObject)

GdkPaintable *lam_layer_icon_new (LamLayerKind kind);

G_END_DECLS
