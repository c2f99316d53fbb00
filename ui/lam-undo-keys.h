/* lam-undo-keys.h: Ctrl+Z in a number field undoes the setting.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void lam_undo_keys_forward (GtkWidget *editable);

G_END_DECLS
