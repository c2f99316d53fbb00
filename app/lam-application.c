/* lam-application.c: command line, windows and recent files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-application"

#include "config.h"

#include <errno.h>

#include <glib/gstdio.h>

#include "lam-application-private.h"
#include "lam-model-file.h"
#include "lam-window-private.h"

#define MAX_RECENT 8

G_DEFINE_FINAL_TYPE (LamApplication, lam_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_RECENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];


/* ------------------------------------------------------------------ */
/* Recent files */

static char *
recent_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "lamina", "recent.ini", NULL);
}

static void
load_recent (LamApplication *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = recent_path ();

  g_clear_pointer (&self->recent, g_strfreev);
  if (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    self->recent = g_key_file_get_string_list (kf, "Recent", "files", NULL, NULL);
  if (self->recent == NULL)
    self->recent = g_new0 (char *, 1);
}

static void
save_recent (LamApplication *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = recent_path ();
  g_autofree char *dir = g_path_get_dirname (path);

  g_key_file_set_string_list (kf, "Recent", "files", (const char *const *) self->recent,
                              g_strv_length (self->recent));
  if (g_mkdir_with_parents (dir, 0700) != 0 || !g_key_file_save_to_file (kf, path, &error))
    g_warning ("Cannot save the recent files to %s: %s", path, error != NULL ? error->message : g_strerror (errno));
}

const char *const *
lam_application_get_recent (LamApplication *self)
{
  g_return_val_if_fail (LAM_IS_APPLICATION (self), NULL);
  return (const char *const *) self->recent;
}

void
lam_application_add_recent (LamApplication *self, const char *path)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  guint n = 1;

  g_return_if_fail (LAM_IS_APPLICATION (self));
  g_return_if_fail (path != NULL);

  g_strv_builder_add (b, path);
  for (guint i = 0; self->recent[i] != NULL && n < MAX_RECENT; i++)
    if (g_strcmp0 (self->recent[i], path) != 0)
      {
        g_strv_builder_add (b, self->recent[i]);
        n++;
      }
  g_strfreev (self->recent);
  self->recent = g_strv_builder_end (b);
  save_recent (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECENT]);
}

/* ------------------------------------------------------------------ */
/* GApplication */

static LamWindow *
new_window (LamApplication *self)
{
  LamWindow *window = lam_window_new (self);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static int
lam_application_handle_local_options (GApplication *app, GVariantDict *opts)
{
  if (g_variant_dict_contains (opts, "version"))
    {
      g_print ("lamina %s\n", PACKAGE_VERSION);
      return 0;
    }
  return -1;
}

static int
lam_application_command_line (GApplication *app, GApplicationCommandLine *cmdline)
{
  LamApplication *self = LAM_APPLICATION (app);
  GVariantDict *opts = g_application_command_line_get_options_dict (cmdline);
  g_autofree char *preset = NULL;
  g_auto(GStrv) files = NULL;
  gboolean opened = FALSE;

  g_variant_dict_lookup (opts, "preset", "s", &preset);
  g_variant_dict_lookup (opts, G_OPTION_REMAINING, "^aay", &files);

  for (guint i = 0; files != NULL && files[i] != NULL; i++)
    {
      g_autoptr(GFile) file = g_application_command_line_create_file_for_arg (cmdline, files[i]);
      _lam_window_open_file (new_window (self), file);
      opened = TRUE;
    }
  if (preset != NULL)
    {
      _lam_window_open_preset (new_window (self), preset);
      opened = TRUE;
    }
  if (!opened)
    new_window (self);
  return 0;
}

static void
lam_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window != NULL)
    gtk_window_present (window);
  else
    new_window (LAM_APPLICATION (app));
}

static void
lam_application_startup (GApplication *app)
{
  LamApplication *self = LAM_APPLICATION (app);

  G_APPLICATION_CLASS (lam_application_parent_class)->startup (app);
  g_set_application_name ("Lamina");
  gtk_window_set_default_icon_name ("applications-science");
  _lam_application_actions_init (self);
}

static void
lam_application_finalize (GObject *object)
{
  LamApplication *self = LAM_APPLICATION (object);

  g_strfreev (self->recent);
  G_OBJECT_CLASS (lam_application_parent_class)->finalize (object);
}

static void
lam_application_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamApplication *self = LAM_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_RECENT:
      g_value_set_boxed (value, self->recent);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_application_class_init (LamApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = lam_application_finalize;
  object_class->get_property = lam_application_get_property;
  app_class->startup = lam_application_startup;
  app_class->activate = lam_application_activate;
  app_class->command_line = lam_application_command_line;
  app_class->handle_local_options = lam_application_handle_local_options;

  properties[PROP_RECENT] =
    g_param_spec_boxed ("recent", NULL, NULL, G_TYPE_STRV, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lam_application_init (LamApplication *self)
{
  static char *preset_help;
  static GOptionEntry options[] = {
    { "preset", 'p', 0, G_OPTION_ARG_STRING, NULL, NULL, "NAME" },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, "Print the version and exit", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, NULL, "[FILE.json…]" },
    { NULL }
  };

  if (preset_help == NULL)
    {
      g_autofree char *names = g_strjoinv (", ", (char **) lam_preset_names ());
      preset_help = g_strdup_printf ("Open a classic network: %s", names);
    }
  options[0].description = preset_help;
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            "Build neural networks by dragging layers, train them, "
                                            "and watch what every layer learns.");
  load_recent (self);
}

LamApplication *
lam_application_new (GApplicationFlags flags)
{
  return g_object_new (LAM_TYPE_APPLICATION,
                       "application-id", LAM_APPLICATION_ID,
                       "resource-base-path", "/org/lamina/Lamina",
                       "flags", flags | G_APPLICATION_HANDLES_COMMAND_LINE,
                       NULL);
}
