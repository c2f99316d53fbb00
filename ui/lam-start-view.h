/* lam-start-view.h: what a new window shows: the classic networks as
 * cards, an empty network, and the files opened lately.
 *
 * The cards and rows only name actions (document.open-preset,
 * document.new-empty, document.open, document.open-recent) for the
 * window to install.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LAM_TYPE_START_VIEW (lam_start_view_get_type ())
G_DECLARE_FINAL_TYPE (LamStartView, lam_start_view, LAM, START_VIEW, GtkWidget)

GtkWidget *lam_start_view_new        (void);
void       lam_start_view_set_recent (LamStartView *self, const char *const *paths);

G_END_DECLS
