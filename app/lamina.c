/* lamina.c: the Lamina window program.
 *
 *   lamina                  the start view: classic networks and recent files
 *   lamina FILE.json        opens a model file
 *   lamina --preset lenet5  opens a classic network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina"

#include "config.h"

#include "lam-application.h"

int
main (int argc, char *argv[])
{
  g_autoptr(LamApplication) app = lam_application_new (G_APPLICATION_DEFAULT_FLAGS);

  return g_application_run (G_APPLICATION (app), argc, argv);
}
