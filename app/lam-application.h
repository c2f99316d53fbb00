/* lam-application.h: the Lamina application: command line, windows,
 * app-wide actions and the list of files opened lately.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define LAM_APPLICATION_ID "org.lamina.Lamina"
#define LAM_APPLICATION_DEFAULT (LAM_APPLICATION (g_application_get_default ()))

#define LAM_TYPE_APPLICATION (lam_application_get_type ())
G_DECLARE_FINAL_TYPE (LamApplication, lam_application, LAM, APPLICATION, AdwApplication)

LamApplication     *lam_application_new        (GApplicationFlags flags);
/* Most recent first; kept in g_get_user_config_dir()/lamina/recent.ini. */
const char *const  *lam_application_get_recent (LamApplication *self);
void                lam_application_add_recent (LamApplication *self, const char *path);

G_END_DECLS
