/* lam-application-actions.c: app.quit and app.about.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-application"

#include "config.h"

#include "lam-application-private.h"

/* Closing each window lets it ask about unsaved work first. */
static void
quit (GSimpleAction *action, GVariant *param, gpointer data)
{
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (data)));

  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);
}

static void
about (GSimpleAction *action, GVariant *param, gpointer data)
{
  static const char *developers[] = { "The Lamina authors", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (data));

  adw_show_about_window (parent,
                         "application-name", "Lamina",
                         "application-icon", "applications-science-symbolic",
                         "version", PACKAGE_VERSION,
                         "comments", "A desktop lab for deep learning: build networks by dragging layers, "
                                     "train them, and watch what every layer learns.",
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", quit },
  { "about", about },
};

void
_lam_application_actions_init (LamApplication *self)
{
  static const char *quit_accels[] = { "<Control>q", NULL };

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
}
