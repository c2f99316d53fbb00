/* lam-window.h: a Lamina window: one network, its editor and, later,
 * its training views.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "lam-application.h"

G_BEGIN_DECLS

#define LAM_TYPE_WINDOW (lam_window_get_type ())
G_DECLARE_FINAL_TYPE (LamWindow, lam_window, LAM, WINDOW, AdwApplicationWindow)

LamWindow *lam_window_new (LamApplication *application);

G_END_DECLS
