/* lam-palette.h: the layer kinds, grouped as in the course, to drag onto
 * the canvas or to add with Enter.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-graph.h"

G_BEGIN_DECLS

#define LAM_TYPE_PALETTE (lam_palette_get_type ())
G_DECLARE_FINAL_TYPE (LamPalette, lam_palette, LAM, PALETTE, GtkWidget)

GtkWidget *lam_palette_new          (void);
void       lam_palette_focus_search (LamPalette *self);
/* The row of a kind, e.g. to start a drag from it in a test. */
GtkWidget *lam_palette_get_row      (LamPalette *self, LamLayerKind kind);

G_END_DECLS
