/* lam-training-panel.c: the training settings and the run's status.
 *
 * The numeric settings are one table (fields[]) turned into AdwActionRow
 * + GtkSpinButton rows, like the inspector's parameter rows; each reads
 * one field of the network's LamTrainConfig and changes it through
 * lam_network_set_config, so that every change is an undo step. The
 * controls follow the network's "config-changed" (undo, redo) and
 * "reset" (another network).
 *
 * The learning rate while training runs: the only setting that stays
 * editable, applied to the running trainer at once as before. It is
 * recorded too, so that after the run is paused or stopped Undo brings
 * back the rate the run started with: all the changes made during one
 * stretch of running merge into one step ("Change Learning Rate"), apart
 * from the changes made before it. (Not recording them would be worse:
 * the history holds whole states, so undoing any older step would
 * silently bring the old rate back, and the saved-state marker could no
 * longer come from the history.) Undo itself is disabled while the run
 * runs, as for graph edits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-training-panel"

#include "config.h"

#include <math.h>
#include <string.h>

#include <adwaita.h>

#include "lam-dataset.h"
#include "lam-undo-keys.h"
#include "lam-training-panel.h"

typedef enum {
  F_SAMPLES,
  F_NOISE,
  F_CLASSES,
  F_LIMIT,
  F_VAL_FRACTION,
  F_LR,
  F_MOMENTUM,
  F_WEIGHT_DECAY,
  F_EPOCHS,
  F_BATCH,
  F_SEED,
  N_FIELDS
} Field;

typedef enum {
  GROUP_DATA,
  GROUP_OPTIMIZER,
  GROUP_RUN,
} Group;

typedef struct {
  const char *name;       /* for get_control, and the undo steps' merge key */
  const char *title;
  const char *subtitle;
  const char *undo_label; /* "Undo Change Learning Rate" */
  Group       group;
  double      min, max, step;
  gboolean    is_float;
} FieldInfo;

static const FieldInfo fields[N_FIELDS] = {
  [F_SAMPLES]      = { "samples", "Samples", "Training points (the test set has a quarter as many)",
                       "Change Samples", GROUP_DATA, 4, 1000000, 100, FALSE },
  [F_NOISE]        = { "noise", "Noise", "How far points stray from their class's shape",
                       "Change Noise", GROUP_DATA, 0, 1, 0.01, TRUE },
  [F_CLASSES]      = { "classes", "Classes", "Arms of the spiral, or blobs; 0 for the default",
                       "Change Classes", GROUP_DATA, 0, 10, 1, FALSE },
  [F_LIMIT]        = { "limit", "Training images", "Use at most this many; 0 for all",
                       "Change Number of Training Images", GROUP_DATA, 0, 1000000, 1000, FALSE },
  [F_VAL_FRACTION] = { "val-fraction", "Validation share", "Held out of the training set to measure progress",
                       "Change Validation Share", GROUP_DATA, 0, 0.5, 0.01, TRUE },
  [F_LR]           = { "lr", "Learning rate", "Size of each update; can change while training runs",
                       "Change Learning Rate", GROUP_OPTIMIZER, 1e-6, 10, 0.001, TRUE },
  [F_MOMENTUM]     = { "momentum", "Momentum", "Share of the last update that carries on",
                       "Change Momentum", GROUP_OPTIMIZER, 0, 0.999, 0.01, TRUE },
  [F_WEIGHT_DECAY] = { "weight-decay", "Weight decay", "Pulls the weights towards zero",
                       "Change Weight Decay", GROUP_OPTIMIZER, 0, 1, 0.0001, TRUE },
  [F_EPOCHS]       = { "epochs", "Epochs", "Passes over the training set",
                       "Change Epochs", GROUP_RUN, 1, 100000, 1, FALSE },
  [F_BATCH]        = { "batch", "Batch size", "Samples per step",
                       "Change Batch Size", GROUP_RUN, 1, 65536, 8, FALSE },
  [F_SEED]         = { "seed", "Seed", "The same seed gives the same run",
                       "Change Seed", GROUP_RUN, 0, 2147483647, 1, FALSE },
};

/* The datasets, in the order of the combo row. */
typedef struct {
  const char *name;    /* LamDataSpec.name */
  const char *label;
} DatasetInfo;

static const DatasetInfo datasets[] = {
  { "fashion-mnist", "Fashion-MNIST" },
  { "idx", "IDX files from disk" },
  { "spiral", "Spiral (2-D)" },
  { "moons", "Moons (2-D)" },
  { "circles", "Circles (2-D)" },
  { "xor", "XOR (2-D)" },
  { "blobs", "Blobs (2-D)" },
  { "adding", "Adding (sequences)" },
  { "sine", "Sine (sequences)" },
  { "parity", "Parity (sequences)" },
  { "text", "Text (characters)" },
};

static const char *const backends[] = { "auto", "cpu", "cuda" };

struct _LamTrainingPanel {
  GtkWidget            parent_instance;

  /* Template widgets */
  GtkLabel            *status_title;
  GtkProgressBar      *progress;
  GtkLabel            *status_detail;
  GtkLabel            *status_values;
  GtkLabel            *problem_label;
  GtkButton           *play_button;
  AdwButtonContent    *play_content;
  AdwPreferencesGroup *data_group;
  AdwPreferencesGroup *optimizer_group;
  AdwPreferencesGroup *run_group;
  AdwComboRow         *dataset_row;
  GtkStringList       *dataset_names;
  AdwActionRow        *images_row;
  AdwActionRow        *labels_row;
  GtkWidget           *images_button;
  GtkWidget           *labels_button;
  AdwComboRow         *optimizer_row;
  AdwComboRow         *backend_row;

  /* Built */
  GtkWidget           *rows[N_FIELDS];
  GtkWidget           *spins[N_FIELDS];

  /* Owned references */
  LamNetwork          *network;
  GtkNativeDialog     *chooser;
  gboolean             syncing;
  gboolean             locked;
  gboolean             paused;
  guint                n_locks;   /* stretches of running so far: live rate changes merge per stretch */
};

G_DEFINE_FINAL_TYPE (LamTrainingPanel, lam_training_panel, GTK_TYPE_WIDGET)

/* An edit: a copy of the network's settings, changed by the caller and
 * handed back with edit_end(), which records it as one undo step. */
static void
edit_begin (LamTrainingPanel *self, LamTrainConfig *c)
{
  lam_train_config_copy (c, lam_network_get_config (self->network));
}

static void
edit_end (LamTrainingPanel *self, LamTrainConfig *c, const char *label, const char *merge_key)
{
  lam_network_set_config (self->network, c, label, merge_key);
  lam_train_config_clear (c);
}

static void
set_string (char **field, const char *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
}

static double
field_get (const LamTrainConfig *c, Field f)
{
  switch (f)
    {
    case F_SAMPLES: return c->data.n_samples;
    case F_NOISE: return c->data.noise;
    case F_CLASSES: return c->data.n_classes;
    case F_LIMIT: return c->data.limit;
    case F_VAL_FRACTION: return c->data.val_fraction;
    case F_LR: return c->opt.lr;
    case F_MOMENTUM: return c->opt.momentum;
    case F_WEIGHT_DECAY: return c->opt.weight_decay;
    case F_EPOCHS: return c->epochs;
    case F_BATCH: return c->batch;
    case F_SEED: return (double) c->seed;
    case N_FIELDS:
    default: return 0;
    }
}

static void
field_set (LamTrainConfig *c, Field f, double v)
{
  switch (f)
    {
    case F_SAMPLES: c->data.n_samples = (int) v; break;
    case F_NOISE: c->data.noise = (float) v; break;
    case F_CLASSES: c->data.n_classes = (int) v; break;
    case F_LIMIT: c->data.limit = (int) v; break;
    case F_VAL_FRACTION: c->data.val_fraction = (float) v; break;
    case F_LR: c->opt.lr = (float) v; break;
    case F_MOMENTUM: c->opt.momentum = (float) v; break;
    case F_WEIGHT_DECAY: c->opt.weight_decay = (float) v; break;
    case F_EPOCHS: c->epochs = (int) v; break;
    case F_BATCH: c->batch = (int) v; break;
    case F_SEED: c->seed = (guint64) v; break;
    case N_FIELDS:
    default: break;
    }
}

/* ------------------------------------------------------------------ */
/* Showing the settings */

static int
dataset_index (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (datasets); i++)
    if (g_strcmp0 (datasets[i].name, name) == 0)
      return (int) i;
  return -1;
}

const char *
lam_training_panel_dataset_label (const char *name)
{
  int i = dataset_index (name);
  return i >= 0 ? datasets[i].label : NULL;
}

static void
set_file_subtitle (AdwActionRow *row, const char *path)
{
  g_autofree char *base = path != NULL ? g_filename_display_basename (path) : NULL;

  adw_action_row_set_subtitle (row, base != NULL ? base : "Not chosen yet");
  gtk_widget_set_tooltip_text (GTK_WIDGET (row), path);
}

/* Which rows the chosen dataset and optimizer use. */
static void
update_visibility (LamTrainingPanel *self)
{
  const LamTrainConfig *c = lam_network_get_config (self->network);
  const char *name = c->data.name != NULL ? c->data.name : "";
  LamSynthKind kind;
  gboolean synthetic = lam_synth_kind_from_name (name, &kind);
  gboolean images = g_str_equal (name, "fashion-mnist") || g_str_equal (name, "idx");
  gboolean idx = g_str_equal (name, "idx");

  gtk_widget_set_visible (GTK_WIDGET (self->images_row), idx);
  gtk_widget_set_visible (GTK_WIDGET (self->labels_row), idx);
  gtk_widget_set_visible (self->rows[F_SAMPLES], synthetic);
  gtk_widget_set_visible (self->rows[F_NOISE], synthetic && kind != LAM_SYNTH_TEXT);
  gtk_widget_set_visible (self->rows[F_CLASSES], synthetic && (kind == LAM_SYNTH_SPIRAL || kind == LAM_SYNTH_BLOBS));
  gtk_widget_set_visible (self->rows[F_LIMIT], images);
  gtk_widget_set_visible (self->rows[F_MOMENTUM], c->opt.kind == LAM_OPT_SGD);
  if (idx)
    {
      set_file_subtitle (self->images_row, c->data.train_images);
      set_file_subtitle (self->labels_row, c->data.train_labels);
    }
}

/* The combo row's position for a dataset name; a name this panel does
 * not list is shown as it is, added once after the known ones. */
static guint
dataset_position (LamTrainingPanel *self, const char *name)
{
  GListModel *list = G_LIST_MODEL (self->dataset_names);
  int d = dataset_index (name);
  guint n = g_list_model_get_n_items (list);

  if (d >= 0)
    return (guint) d;
  if (name == NULL)
    name = "?";
  for (guint i = G_N_ELEMENTS (datasets); i < n; i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->dataset_names, i), name) == 0)
      return i;
  gtk_string_list_append (self->dataset_names, name);
  return n;
}

static void
set_selected (AdwComboRow *row, guint position)
{
  if (adw_combo_row_get_selected (row) != position)
    adw_combo_row_set_selected (row, position);
}

/* Shows the network's settings. Only the controls whose value differs
 * are touched, so that a spin button being typed in keeps its text. */
static void
sync_from_config (LamTrainingPanel *self)
{
  const LamTrainConfig *c;
  guint backend = 0;

  if (self->network == NULL)
    return;
  c = lam_network_get_config (self->network);
  self->syncing = TRUE;
  set_selected (self->dataset_row, dataset_position (self, c->data.name));
  set_selected (self->optimizer_row, (guint) c->opt.kind);
  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    if (c->backend != NULL && g_ascii_strcasecmp (c->backend, backends[i]) == 0)
      backend = i;
  set_selected (self->backend_row, backend);
  for (int f = 0; f < N_FIELDS; f++)
    {
      GtkSpinButton *spin = GTK_SPIN_BUTTON (self->spins[f]);
      double shown = gtk_spin_button_get_value (spin), v = field_get (c, f);

      if (fields[f].is_float ? (float) shown != (float) v : shown != v)
        gtk_spin_button_set_value (spin, v);
    }
  update_visibility (self);
  self->syncing = FALSE;
}

/* ------------------------------------------------------------------ */
/* Editing them */

/* Each choice in a combo row is a step of its own (no merge key). */
static void
on_dataset_selected (LamTrainingPanel *self)
{
  guint i = adw_combo_row_get_selected (self->dataset_row);
  LamTrainConfig c;
  LamSynthKind kind;

  if (self->syncing || self->network == NULL || i >= G_N_ELEMENTS (datasets))
    return;
  if (g_strcmp0 (lam_network_get_config (self->network)->data.name, datasets[i].name) == 0)
    return;
  edit_begin (self, &c);
  set_string (&c.data.name, datasets[i].name);
  /* a set's own class count: 0 takes its default */
  if (lam_synth_kind_from_name (datasets[i].name, &kind) && kind != LAM_SYNTH_SPIRAL && kind != LAM_SYNTH_BLOBS)
    c.data.n_classes = 0;
  edit_end (self, &c, "Change Dataset", NULL);
}

static void
on_optimizer_selected (LamTrainingPanel *self)
{
  LamTrainConfig c;
  LamOptKind kind = (LamOptKind) adw_combo_row_get_selected (self->optimizer_row);

  if (self->syncing || self->network == NULL || kind > LAM_OPT_ADAMW)
    return;
  if (lam_network_get_config (self->network)->opt.kind == kind)
    return;
  edit_begin (self, &c);
  c.opt.kind = kind;
  edit_end (self, &c, "Change Optimizer", NULL);
}

static void
on_backend_selected (LamTrainingPanel *self)
{
  guint i = adw_combo_row_get_selected (self->backend_row);
  const char *now;
  LamTrainConfig c;

  if (self->syncing || self->network == NULL || i >= G_N_ELEMENTS (backends))
    return;
  now = lam_network_get_config (self->network)->backend;
  if (now != NULL && g_ascii_strcasecmp (now, backends[i]) == 0)
    return;
  edit_begin (self, &c);
  set_string (&c.backend, backends[i]);
  edit_end (self, &c, "Change Backend", NULL);
}

/* Typing a value or holding an arrow makes one step per control; the
 * learning rate changed while training runs makes one per stretch of
 * running (see the top of this file). */
static void
on_spin_changed (GtkSpinButton *spin, LamTrainingPanel *self)
{
  Field f = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (spin), "field"));
  double v = gtk_spin_button_get_value (spin), now;
  g_autofree char *live_key = NULL;
  LamTrainConfig c;

  if (self->syncing || self->network == NULL)
    return;
  now = field_get (lam_network_get_config (self->network), f);
  if (now == v || (fields[f].is_float && (float) now == (float) v))
    return;
  if (self->locked && f == F_LR)
    live_key = g_strdup_printf ("%s:running-%u", fields[f].name, self->n_locks);
  edit_begin (self, &c);
  field_set (&c, f, v);
  edit_end (self, &c, fields[f].undo_label, live_key != NULL ? live_key : fields[f].name);
}

static gboolean
on_spin_output (GtkSpinButton *spin)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.4g", gtk_adjustment_get_value (gtk_spin_button_get_adjustment (spin)));
  gtk_editable_set_text (GTK_EDITABLE (spin), buf);
  return TRUE;
}

static int
on_spin_input (GtkSpinButton *spin, double *value)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);

  if (end == text || !isfinite (v))
    return GTK_INPUT_ERROR;
  *value = v;
  return TRUE;
}

/* Rates span decades: the arrows step within the value's decade
 * (0.01 → 0.011 or 0.009), so they stay useful from 1e-5 to 1. */
static void
on_rate_changed (GtkSpinButton *spin)
{
  GtkAdjustment *adj = gtk_spin_button_get_adjustment (spin);
  double v = gtk_adjustment_get_value (adj);
  double step = v > 0 ? pow (10, floor (log10 (v) - 1e-9)) : 1e-4;

  gtk_adjustment_set_step_increment (adj, step);
  gtk_adjustment_set_page_increment (adj, step * 10);
}

static void
build_rows (LamTrainingPanel *self)
{
  AdwPreferencesGroup *groups[] = { self->data_group, self->optimizer_group, self->run_group };

  for (int f = 0; f < N_FIELDS; f++)
    {
      const FieldInfo *info = &fields[f];
      GtkAdjustment *adj = gtk_adjustment_new (info->min, info->min, info->max, info->step, info->step * 10, 0);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *spin = gtk_spin_button_new (adj, 0, info->is_float ? 8 : 0);

      gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), FALSE);
      lam_undo_keys_forward (spin);
      gtk_editable_set_width_chars (GTK_EDITABLE (spin), f == F_SEED || f == F_SAMPLES || f == F_LIMIT ? 8 : 6);
      gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
      if (info->is_float)
        {
          g_signal_connect (spin, "output", G_CALLBACK (on_spin_output), NULL);
          g_signal_connect (spin, "input", G_CALLBACK (on_spin_input), NULL);
        }
      if (f == F_LR || f == F_WEIGHT_DECAY)
        g_signal_connect (spin, "value-changed", G_CALLBACK (on_rate_changed), NULL);
      g_object_set_data (G_OBJECT (spin), "field", GINT_TO_POINTER (f));
      g_signal_connect (spin, "value-changed", G_CALLBACK (on_spin_changed), self);
      gtk_accessible_update_property (GTK_ACCESSIBLE (spin),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, info->title,
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, info->subtitle,
                                      -1);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), info->title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), info->subtitle);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
      adw_preferences_group_add (groups[info->group], row);
      self->rows[f] = row;
      self->spins[f] = spin;
    }
  /* the backend closes its group, under the numbers */
  g_object_ref (self->backend_row);
  adw_preferences_group_remove (self->run_group, GTK_WIDGET (self->backend_row));
  adw_preferences_group_add (self->run_group, GTK_WIDGET (self->backend_row));
  g_object_unref (self->backend_row);
}

/* ------------------------------------------------------------------ */
/* IDX files */

static void
on_chooser_response (GtkNativeDialog *chooser, int response, LamTrainingPanel *self)
{
  g_autoptr(GtkNativeDialog) owned = g_steal_pointer (&self->chooser);
  gboolean labels = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "labels"));

  if (response == GTK_RESPONSE_ACCEPT && self->network != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);
      LamTrainConfig c;

      if (path == NULL)
        return;
      edit_begin (self, &c);
      set_string (labels ? &c.data.train_labels : &c.data.train_images, path);
      edit_end (self, &c, labels ? "Choose Training Labels" : "Choose Training Images", NULL);
    }
}

static void
choose_file (LamTrainingPanel *self, gboolean labels)
{
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) idx = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  if (self->chooser != NULL || self->network == NULL)
    return;
  chooser = gtk_file_chooser_native_new (labels ? "Choose the Training Labels" : "Choose the Training Images",
                                         GTK_IS_WINDOW (native) ? GTK_WINDOW (native) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, "_Choose", "_Cancel");
  gtk_file_filter_set_name (idx, "IDX files (MNIST format)");
  gtk_file_filter_add_pattern (idx, "*-ubyte");
  gtk_file_filter_add_pattern (idx, "*-ubyte.gz");
  gtk_file_filter_add_pattern (idx, "*.idx*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), idx);
  gtk_file_filter_set_name (all, "All files");
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_object_set_data (G_OBJECT (chooser), "labels", GINT_TO_POINTER (labels));
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

static void
on_choose_images (LamTrainingPanel *self)
{
  choose_file (self, FALSE);
}

static void
on_choose_labels (LamTrainingPanel *self)
{
  choose_file (self, TRUE);
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
lam_training_panel_dispose (GObject *object)
{
  LamTrainingPanel *self = LAM_TRAINING_PANEL (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  if (self->network != NULL)
    g_signal_handlers_disconnect_by_data (self->network, self);
  g_clear_object (&self->network);
  gtk_widget_dispose_template (GTK_WIDGET (self), LAM_TYPE_TRAINING_PANEL);
  /* the template's top widget has no id, so dispose_template leaves it */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (lam_training_panel_parent_class)->dispose (object);
}

static void
lam_training_panel_class_init (LamTrainingPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lam_training_panel_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/lamina/Lamina/ui/lam-training-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, status_title);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, progress);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, status_detail);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, status_values);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, problem_label);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, play_button);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, play_content);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, data_group);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, optimizer_group);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, run_group);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, dataset_row);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, dataset_names);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, images_row);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, labels_row);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, images_button);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, labels_button);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, optimizer_row);
  gtk_widget_class_bind_template_child (widget_class, LamTrainingPanel, backend_row);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_images);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_labels);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "trainingpanel");
}

static void
lam_training_panel_init (LamTrainingPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  for (guint i = 0; i < G_N_ELEMENTS (datasets); i++)
    gtk_string_list_append (self->dataset_names, datasets[i].label);
  build_rows (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->dataset_row), GTK_ACCESSIBLE_PROPERTY_LABEL, "Dataset", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->optimizer_row), GTK_ACCESSIBLE_PROPERTY_LABEL, "Optimizer", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->backend_row), GTK_ACCESSIBLE_PROPERTY_LABEL, "Backend", -1);
  g_signal_connect_swapped (self->dataset_row, "notify::selected", G_CALLBACK (on_dataset_selected), self);
  g_signal_connect_swapped (self->optimizer_row, "notify::selected", G_CALLBACK (on_optimizer_selected), self);
  g_signal_connect_swapped (self->backend_row, "notify::selected", G_CALLBACK (on_backend_selected), self);
}

GtkWidget *
lam_training_panel_new (void)
{
  return g_object_new (LAM_TYPE_TRAINING_PANEL, NULL);
}

void
lam_training_panel_set_network (LamTrainingPanel *self, LamNetwork *network)
{
  g_return_if_fail (LAM_IS_TRAINING_PANEL (self));
  g_return_if_fail (network == NULL || LAM_IS_NETWORK (network));

  if (self->network == network)
    return;
  if (self->network != NULL)
    g_signal_handlers_disconnect_by_data (self->network, self);
  g_set_object (&self->network, network);
  if (network != NULL)
    {
      g_signal_connect_swapped (network, "reset", G_CALLBACK (sync_from_config), self);
      g_signal_connect_swapped (network, "config-changed", G_CALLBACK (sync_from_config), self);
    }
  sync_from_config (self);
}

static void
set_label (GtkLabel *label, const char *text)
{
  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL && text[0] != '\0');
}

void
lam_training_panel_set_status (LamTrainingPanel *self, const char *title, const char *detail,
                               const char *values, double fraction)
{
  g_return_if_fail (LAM_IS_TRAINING_PANEL (self));

  gtk_label_set_text (self->status_title, title != NULL ? title : "");
  set_label (self->status_detail, detail);
  set_label (self->status_values, values);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), fraction >= 0);
  if (fraction >= 0)
    gtk_progress_bar_set_fraction (self->progress, CLAMP (fraction, 0, 1));
}

void
lam_training_panel_set_problem (LamTrainingPanel *self, const char *problem)
{
  g_return_if_fail (LAM_IS_TRAINING_PANEL (self));
  set_label (self->problem_label, problem);
}

void
lam_training_panel_set_backend_text (LamTrainingPanel *self, const char *text)
{
  g_return_if_fail (LAM_IS_TRAINING_PANEL (self));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->backend_row), text != NULL ? text : "");
}

void
lam_training_panel_set_locked (LamTrainingPanel *self, gboolean locked)
{
  g_return_if_fail (LAM_IS_TRAINING_PANEL (self));

  if (locked && !self->locked)
    self->n_locks++;
  self->locked = locked;
  gtk_widget_set_sensitive (GTK_WIDGET (self->dataset_row), !locked);
  gtk_widget_set_sensitive (self->images_button, !locked);
  gtk_widget_set_sensitive (self->labels_button, !locked);
  gtk_widget_set_sensitive (GTK_WIDGET (self->optimizer_row), !locked);
  gtk_widget_set_sensitive (GTK_WIDGET (self->backend_row), !locked);
  for (int f = 0; f < N_FIELDS; f++)
    if (f != F_LR)
      gtk_widget_set_sensitive (self->rows[f], !locked);
}

void
lam_training_panel_set_paused (LamTrainingPanel *self, gboolean paused)
{
  g_return_if_fail (LAM_IS_TRAINING_PANEL (self));

  if (self->paused == paused)
    return;
  self->paused = paused;
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->play_button), paused ? "train.resume" : "train.start");
  adw_button_content_set_label (self->play_content, paused ? "Resume" : "Start");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button),
                               paused ? "Go on with this run (F5 or Space)"
                                      : "Start a new run from fresh weights (F5, Ctrl+Enter)");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  paused ? "Resume training" : "Start training", -1);
}

GtkWidget *
lam_training_panel_get_control (LamTrainingPanel *self, const char *name)
{
  g_return_val_if_fail (LAM_IS_TRAINING_PANEL (self), NULL);

  if (g_strcmp0 (name, "dataset") == 0)
    return GTK_WIDGET (self->dataset_row);
  if (g_strcmp0 (name, "optimizer") == 0)
    return GTK_WIDGET (self->optimizer_row);
  if (g_strcmp0 (name, "backend") == 0)
    return GTK_WIDGET (self->backend_row);
  for (int f = 0; f < N_FIELDS; f++)
    if (g_strcmp0 (name, fields[f].name) == 0)
      return self->spins[f];
  return NULL;
}

const char *
lam_training_panel_get_status_title (LamTrainingPanel *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_PANEL (self), NULL);
  return gtk_label_get_text (self->status_title);
}

const char *
lam_training_panel_get_problem (LamTrainingPanel *self)
{
  g_return_val_if_fail (LAM_IS_TRAINING_PANEL (self), NULL);
  return gtk_widget_get_visible (GTK_WIDGET (self->problem_label)) ? gtk_label_get_text (self->problem_label) : NULL;
}
