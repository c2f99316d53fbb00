/* lam-text-view.c: a prompt, a few knobs and the text a character model
 * writes, generated on a GTask thread.
 *
 * The trainer pointer sits in a small shared Source with a mutex: the
 * generation thread holds the mutex while it uses the trainer, and
 * set_trainer() takes it before changing the pointer, so a caller that
 * sets NULL before freeing its trainer never frees it under a running
 * generation, even when the view itself is already gone.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-views"

#include <math.h>
#include <string.h>

#include "lam-text-view.h"
#include "lam-seq.h"

#define FOLLOW_MS 2000

typedef struct {
  gatomicrefcount ref;
  GMutex          lock;
  LamTrainer     *trainer;
  char          **vocab;
} Source;

static Source *
source_new (void)
{
  Source *s = g_new0 (Source, 1);

  g_atomic_ref_count_init (&s->ref);
  g_mutex_init (&s->lock);
  return s;
}

static Source *
source_ref (Source *s)
{
  g_atomic_ref_count_inc (&s->ref);
  return s;
}

static void
source_unref (Source *s)
{
  if (!g_atomic_ref_count_dec (&s->ref))
    return;
  g_strfreev (s->vocab);
  g_mutex_clear (&s->lock);
  g_free (s);
}

struct _LamTextView {
  GtkWidget        parent_instance;

  GtkWidget       *box;
  GtkEntry        *prompt;
  GtkAdjustment   *temperature;
  GtkAdjustment   *length;
  GtkToggleButton *follow;
  GtkButton       *generate;
  GtkTextView     *text;
  GtkLabel        *status;

  Source          *source;
  guint64          seed;
  gboolean         busy;
  guint            follow_id;
  int              written_step;   /* the trainer's step when Follow last wrote */
  gboolean         knobs_changed;  /* since then */
};

G_DEFINE_FINAL_TYPE (LamTextView, lam_text_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_PROMPT,
  PROP_TEMPERATURE,
  PROP_LENGTH,
  PROP_FOLLOW,
  PROP_BUSY,
  N_PROPS
};

enum {
  GENERATE_REQUESTED,
  GENERATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ── Showing text ────────────────────────────────────────────────────── */

void
lam_text_view_set_text (LamTextView *self, const char *text, gsize prompt_len)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, mid, end;
  gsize len;

  g_return_if_fail (LAM_IS_TEXT_VIEW (self));

  if (text == NULL)
    text = "";
  len = strlen (text);
  prompt_len = MIN (prompt_len, len);
  buffer = gtk_text_view_get_buffer (self->text);
  gtk_text_buffer_set_text (buffer, text, (int) len);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_apply_tag_by_name (buffer, "body", &start, &end);
  gtk_text_buffer_get_iter_at_offset (buffer, &mid,
                                      (int) g_utf8_strlen (text, (gssize) prompt_len));
  gtk_text_buffer_apply_tag_by_name (buffer, "prompt", &start, &mid);
}

char *
lam_text_view_dup_text (LamTextView *self)
{
  GtkTextIter start, end;

  g_return_val_if_fail (LAM_IS_TEXT_VIEW (self), NULL);

  gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (self->text), &start, &end);
  return gtk_text_iter_get_text (&start, &end);
}

static void
set_busy (LamTextView *self, gboolean busy)
{
  if (self->busy == busy)
    return;
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* ── Generating ──────────────────────────────────────────────────────── */

typedef struct {
  Source  *source;
  GWeakRef view;      /* the task holds no reference: disposing the view
                       * (which waits for the trainer) must not wait for it */
  char    *prompt;
  float    temperature;
  int      n_chars;
  guint64  seed;
  char    *text;
  double   ms;
} Job;

static void
job_free (Job *job)
{
  source_unref (job->source);
  g_weak_ref_clear (&job->view);
  g_free (job->prompt);
  g_free (job->text);
  g_free (job);
}

static void
generate_thread (GTask *task, gpointer object, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();

  g_mutex_lock (&job->source->lock);
  if (job->source->trainer)
    job->text = lam_seq_generate_text_from_trainer (job->source->trainer,
                                                    (const char *const *) job->source->vocab,
                                                    job->prompt, job->n_chars, job->temperature,
                                                    job->seed, &error);
  else
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "the trainer went away");
  g_mutex_unlock (&job->source->lock);
  job->ms = (g_get_monotonic_time () - t0) / 1000.0;
  if (job->text)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
generate_done (GObject *object, GAsyncResult *result, gpointer data)
{
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(LamTextView) self = g_weak_ref_get (&job->view);
  g_autoptr(GError) error = NULL;
  g_autofree char *status = NULL;

  if (self == NULL)
    return;
  if (self->text == NULL)
    {
      self->busy = FALSE;   /* disposed meanwhile */
      return;
    }
  set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          status = g_strdup_printf ("Could not write: %s", error->message);
          gtk_label_set_text (self->status, status);
        }
      return;
    }
  lam_text_view_set_text (self, job->text, strlen (job->prompt));
  status = g_strdup_printf ("%d characters in %.0f ms at temperature %.2f (seed %" G_GUINT64_FORMAT
                            ")", job->n_chars, job->ms, job->temperature, job->seed);
  gtk_label_set_text (self->status, status);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  job->text, -1);
  g_signal_emit (self, signals[GENERATED], 0, job->text);
}

gboolean
lam_text_view_generate (LamTextView *self)
{
  g_autoptr(GTask) task = NULL;
  gboolean have;
  Job *job;

  g_return_val_if_fail (LAM_IS_TEXT_VIEW (self), FALSE);

  if (self->busy)
    return FALSE;
  g_mutex_lock (&self->source->lock);
  have = self->source->trainer != NULL;
  g_mutex_unlock (&self->source->lock);
  if (!have)
    {
      g_signal_emit (self, signals[GENERATE_REQUESTED], 0, lam_text_view_get_prompt (self),
                     lam_text_view_get_temperature (self), lam_text_view_get_length (self),
                     self->seed);
      return TRUE;
    }

  job = g_new0 (Job, 1);
  job->source = source_ref (self->source);
  g_weak_ref_init (&job->view, self);
  job->prompt = g_strdup (lam_text_view_get_prompt (self));
  job->temperature = (float) lam_text_view_get_temperature (self);
  job->n_chars = lam_text_view_get_length (self);
  job->seed = self->seed;
  set_busy (self, TRUE);
  if (!gtk_toggle_button_get_active (self->follow))
    gtk_label_set_text (self->status, "Writing…");

  task = g_task_new (NULL, NULL, generate_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, generate_thread);
  return TRUE;
}

gboolean
lam_text_view_get_busy (LamTextView *self)
{
  g_return_val_if_fail (LAM_IS_TEXT_VIEW (self), FALSE);
  return self->busy;
}

void
lam_text_view_set_trainer (LamTextView *self, LamTrainer *t, const char *const *vocab)
{
  g_return_if_fail (LAM_IS_TEXT_VIEW (self));
  g_return_if_fail (t == NULL || vocab != NULL);

  /* waits for a generation that uses the old trainer */
  g_mutex_lock (&self->source->lock);
  self->source->trainer = t;
  g_strfreev (self->source->vocab);
  self->source->vocab = t ? g_strdupv ((char **) vocab) : NULL;
  g_mutex_unlock (&self->source->lock);
  if (self->status == NULL)
    return;
  if (t == NULL)
    gtk_label_set_text (self->status, "No character model: train one to see what it writes");
  else if (!self->busy)
    gtk_label_set_text (self->status, "Press Generate to let the network write");
}

static void
generate_clicked_cb (GtkWidget *widget, LamTextView *self)
{
  /* a new seed per press; Follow training keeps it */
  self->seed = g_random_int ();
  lam_text_view_generate (self);
}

static gboolean
follow_tick (gpointer data)
{
  LamTextView *self = data;
  int step = -1;

  /* nothing new once training stops: same weights, same seed, same text;
   * busy writing (which may wait for the views' copies): the next tick */
  if (!g_mutex_trylock (&self->source->lock))
    return G_SOURCE_CONTINUE;
  if (self->source->trainer)
    step = lam_trainer_step_count (self->source->trainer);
  g_mutex_unlock (&self->source->lock);
  if (step == self->written_step && !self->knobs_changed)
    return G_SOURCE_CONTINUE;
  if (lam_text_view_generate (self))
    {
      self->written_step = step;
      self->knobs_changed = FALSE;
    }
  return G_SOURCE_CONTINUE;
}

static void
follow_toggled_cb (GtkToggleButton *button, LamTextView *self)
{
  g_clear_handle_id (&self->follow_id, g_source_remove);
  if (gtk_toggle_button_get_active (button))
    {
      self->follow_id = g_timeout_add (FOLLOW_MS, follow_tick, self);
      self->written_step = -2;
      follow_tick (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW]);
}

/* ── Knobs ───────────────────────────────────────────────────────────── */

const char *
lam_text_view_get_prompt (LamTextView *self)
{
  g_return_val_if_fail (LAM_IS_TEXT_VIEW (self), NULL);
  return gtk_editable_get_text (GTK_EDITABLE (self->prompt));
}

void
lam_text_view_set_prompt (LamTextView *self, const char *prompt)
{
  g_return_if_fail (LAM_IS_TEXT_VIEW (self));
  gtk_editable_set_text (GTK_EDITABLE (self->prompt), prompt ? prompt : "");
}

double
lam_text_view_get_temperature (LamTextView *self)
{
  g_return_val_if_fail (LAM_IS_TEXT_VIEW (self), 0);
  return gtk_adjustment_get_value (self->temperature);
}

void
lam_text_view_set_temperature (LamTextView *self, double temperature)
{
  g_return_if_fail (LAM_IS_TEXT_VIEW (self));
  gtk_adjustment_set_value (self->temperature, temperature);
}

int
lam_text_view_get_length (LamTextView *self)
{
  g_return_val_if_fail (LAM_IS_TEXT_VIEW (self), 0);
  return (int) gtk_adjustment_get_value (self->length);
}

void
lam_text_view_set_length (LamTextView *self, int n_chars)
{
  g_return_if_fail (LAM_IS_TEXT_VIEW (self));
  gtk_adjustment_set_value (self->length, n_chars);
}

gboolean
lam_text_view_get_follow (LamTextView *self)
{
  g_return_val_if_fail (LAM_IS_TEXT_VIEW (self), FALSE);
  return gtk_toggle_button_get_active (self->follow);
}

void
lam_text_view_set_follow (LamTextView *self, gboolean follow)
{
  g_return_if_fail (LAM_IS_TEXT_VIEW (self));
  gtk_toggle_button_set_active (self->follow, follow);
}

void
lam_text_view_set_seed (LamTextView *self, guint64 seed)
{
  g_return_if_fail (LAM_IS_TEXT_VIEW (self));
  self->seed = seed;
}

static void
notify_cb (gpointer object, LamTextView *self)
{
  GParamSpec *pspec = object == (gpointer) self->prompt        ? properties[PROP_PROMPT]
                      : object == (gpointer) self->temperature ? properties[PROP_TEMPERATURE]
                                                               : properties[PROP_LENGTH];
  self->knobs_changed = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), pspec);
}

/* ── Building ────────────────────────────────────────────────────────── */

static GtkWidget *
caption (const char *text, GtkWidget *mnemonic_widget)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (text);

  gtk_label_set_mnemonic_widget (GTK_LABEL (label), mnemonic_widget);
  return label;
}

static void
build (LamTextView *self)
{
  GtkWidget *bar, *knobs, *w, *scale, *spin, *sw;
  GtkTextBuffer *buffer;

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  /* two lines, the prompt and Generate above the knobs: on one line they
   * need 815 pixels, more than the views get beside the editor's panels
   * on a 1280-pixel screen */
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_widget_set_margin_top (bar, 4);
  gtk_box_append (GTK_BOX (self->box), bar);
  knobs = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_box_append (GTK_BOX (self->box), knobs);

  self->prompt = GTK_ENTRY (gtk_entry_new ());
  gtk_widget_set_hexpand (GTK_WIDGET (self->prompt), TRUE);
  gtk_entry_set_placeholder_text (self->prompt, "The first words, or nothing");
  gtk_editable_set_text (GTK_EDITABLE (self->prompt), "The network ");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->prompt), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Prompt", -1);
  g_signal_connect_swapped (self->prompt, "activate", G_CALLBACK (generate_clicked_cb), self);
  g_signal_connect (self->prompt, "changed", G_CALLBACK (notify_cb), self);
  gtk_box_append (GTK_BOX (bar), caption ("_Prompt", GTK_WIDGET (self->prompt)));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->prompt));

  self->temperature = gtk_adjustment_new (0.8, 0, 2, 0.05, 0.25, 0);
  g_signal_connect (self->temperature, "value-changed", G_CALLBACK (notify_cb), self);
  scale = gtk_scale_new (GTK_ORIENTATION_HORIZONTAL, self->temperature);
  gtk_scale_set_digits (GTK_SCALE (scale), 2);
  gtk_scale_set_draw_value (GTK_SCALE (scale), TRUE);
  gtk_scale_set_value_pos (GTK_SCALE (scale), GTK_POS_RIGHT);
  gtk_widget_set_size_request (scale, 180, -1);
  gtk_widget_set_tooltip_text (scale, "0: always the likeliest character; 1: as the network "
                                      "believes; above 1: wilder");
  gtk_accessible_update_property (GTK_ACCESSIBLE (scale), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Temperature", -1);
  gtk_box_append (GTK_BOX (knobs), caption ("_Temperature", scale));
  gtk_box_append (GTK_BOX (knobs), scale);

  self->length = gtk_adjustment_new (300, 10, 2000, 10, 100, 0);
  g_signal_connect (self->length, "value-changed", G_CALLBACK (notify_cb), self);
  spin = gtk_spin_button_new (self->length, 10, 0);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Characters to write", -1);
  gtk_box_append (GTK_BOX (knobs), caption ("_Length", spin));
  gtk_box_append (GTK_BOX (knobs), spin);

  w = gtk_toggle_button_new_with_mnemonic ("_Follow training");
  gtk_widget_set_tooltip_text (w, "Write again every 2 seconds with the same seed, to see the "
                                  "text change as the network learns");
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Follow training", -1);
  g_signal_connect (w, "toggled", G_CALLBACK (follow_toggled_cb), self);
  self->follow = GTK_TOGGLE_BUTTON (w);
  gtk_box_append (GTK_BOX (knobs), w);

  w = gtk_button_new_with_mnemonic ("_Generate");
  gtk_widget_add_css_class (w, "suggested-action");
  gtk_widget_set_tooltip_text (w, "Let the network write, one character at a time");
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL, "Generate",
                                  -1);
  g_signal_connect (w, "clicked", G_CALLBACK (generate_clicked_cb), self);
  self->generate = GTK_BUTTON (w);
  gtk_box_append (GTK_BOX (bar), w);

  self->text = GTK_TEXT_VIEW (gtk_text_view_new ());
  gtk_text_view_set_monospace (self->text, TRUE);
  gtk_text_view_set_editable (self->text, FALSE);
  gtk_text_view_set_cursor_visible (self->text, FALSE);
  gtk_text_view_set_wrap_mode (self->text, GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (self->text, 16);
  gtk_text_view_set_right_margin (self->text, 16);
  gtk_text_view_set_top_margin (self->text, 12);
  gtk_text_view_set_bottom_margin (self->text, 12);
  gtk_text_view_set_pixels_below_lines (self->text, 4);
  gtk_text_view_set_pixels_inside_wrap (self->text, 4);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Generated text", -1);
  buffer = gtk_text_view_get_buffer (self->text);
  /* large enough to read from the back of a room */
  gtk_text_buffer_create_tag (buffer, "body", "scale", 1.45, NULL);
  gtk_text_buffer_create_tag (buffer, "prompt", "weight", PANGO_WEIGHT_BOLD, "underline",
                              PANGO_UNDERLINE_SINGLE, NULL);

  sw = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), GTK_WIDGET (self->text));
  gtk_widget_set_vexpand (sw, TRUE);
  gtk_widget_add_css_class (sw, "card");
  gtk_box_append (GTK_BOX (self->box), sw);

  self->status = GTK_LABEL (gtk_label_new ("No character model: train one to see what it writes"));
  gtk_label_set_xalign (self->status, 0);
  gtk_label_set_ellipsize (self->status, PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (GTK_WIDGET (self->status), "dim-label");
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->status));
}

/* ── GObject ─────────────────────────────────────────────────────────── */

static void
lam_text_view_dispose (GObject *object)
{
  LamTextView *self = LAM_TEXT_VIEW (object);

  g_clear_handle_id (&self->follow_id, g_source_remove);
  if (self->source)
    lam_text_view_set_trainer (self, NULL, NULL);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  self->text = NULL;
  self->generate = NULL;
  self->status = NULL;
  G_OBJECT_CLASS (lam_text_view_parent_class)->dispose (object);
}

static void
lam_text_view_finalize (GObject *object)
{
  LamTextView *self = LAM_TEXT_VIEW (object);

  source_unref (self->source);
  G_OBJECT_CLASS (lam_text_view_parent_class)->finalize (object);
}

static void
lam_text_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LamTextView *self = LAM_TEXT_VIEW (object);

  switch (prop_id)
    {
    case PROP_PROMPT:
      g_value_set_string (value, lam_text_view_get_prompt (self));
      break;
    case PROP_TEMPERATURE:
      g_value_set_double (value, lam_text_view_get_temperature (self));
      break;
    case PROP_LENGTH:
      g_value_set_int (value, lam_text_view_get_length (self));
      break;
    case PROP_FOLLOW:
      g_value_set_boolean (value, lam_text_view_get_follow (self));
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_text_view_set_property (GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec)
{
  LamTextView *self = LAM_TEXT_VIEW (object);

  switch (prop_id)
    {
    case PROP_PROMPT:
      lam_text_view_set_prompt (self, g_value_get_string (value));
      break;
    case PROP_TEMPERATURE:
      lam_text_view_set_temperature (self, g_value_get_double (value));
      break;
    case PROP_LENGTH:
      lam_text_view_set_length (self, g_value_get_int (value));
      break;
    case PROP_FOLLOW:
      lam_text_view_set_follow (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lam_text_view_class_init (LamTextViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lam_text_view_dispose;
  object_class->finalize = lam_text_view_finalize;
  object_class->get_property = lam_text_view_get_property;
  object_class->set_property = lam_text_view_set_property;

  properties[PROP_PROMPT] =
    g_param_spec_string ("prompt", NULL, NULL, "The network ",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEMPERATURE] =
    g_param_spec_double ("temperature", NULL, NULL, 0, 2, 0.8,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LENGTH] =
    g_param_spec_int ("length", NULL, NULL, 10, 2000, 300,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FOLLOW] =
    g_param_spec_boolean ("follow", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * LamTextView::generate-requested:
   * @prompt: the prompt
   * @temperature: the temperature
   * @length: characters to write
   * @seed: the seed
   *
   * Generate was pressed with no trainer set: the integrator writes the
   * text and shows it with lam_text_view_set_text().
   */
  signals[GENERATE_REQUESTED] =
    g_signal_new ("generate-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 4, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_DOUBLE, G_TYPE_INT, G_TYPE_UINT64);
  /**
   * LamTextView::generated:
   * @text: the prompt and what the network wrote
   */
  signals[GENERATED] =
    g_signal_new ("generated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "generatedtext");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
lam_text_view_init (LamTextView *self)
{
  self->source = source_new ();
  self->seed = 1;
  build (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Text written by the network", -1);
}

GtkWidget *
lam_text_view_new (void)
{
  return g_object_new (LAM_TYPE_TEXT_VIEW, NULL);
}
