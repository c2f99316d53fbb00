/* lam-text-view.h: text written by a character model.
 *
 * A prompt entry ("Prompt") and a "Generate" button, under them a
 * temperature slider, a length and a "Follow training" switch, all
 * above the text (the two lines fit in 660 pixels), shown in a
 * large fixed-width font with the prompt in bold and a status line
 * (how long it took, at which temperature, from which seed).
 *
 * With a trainer set, Generate runs lam_seq_generate_text_from_trainer()
 * in a GTask thread (on a private batch-1 CPU copy of the network; the
 * trainer may keep training), so the window never waits for it: the
 * charlstm preset writes about 0.9 ms a character on the 2-core build
 * machine (300 characters: 0.3 s idle, 0.45 s while three networks
 * train), far more than a frame. Follow training
 * writes again every 2 s with the same seed while the trainer takes
 * steps, so what changes is what the network learnt. Without a trainer, Generate emits
 * "generate-requested" and the integrator shows its own text with
 * lam_text_view_set_text().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-trainer.h"

G_BEGIN_DECLS

#define LAM_TYPE_TEXT_VIEW (lam_text_view_get_type ())
G_DECLARE_FINAL_TYPE (LamTextView, lam_text_view, LAM, TEXT_VIEW, GtkWidget)

GtkWidget  *lam_text_view_new              (void);

/* The trainer of a character model and its vocabulary (the "text"
 * dataset's class_names, one character each; copied), or NULL to
 * clear. The view does not own the trainer: set NULL before freeing it.
 * Setting waits for a generation that is using the old trainer (it
 * holds it only while it runs, about the time of one generation). */
void        lam_text_view_set_trainer      (LamTextView *self, LamTrainer *t,
                                            const char *const *vocab);
/* Starts a generation now, as the button does; FALSE when one is
 * running (it is not queued). Without a trainer it emits
 * "generate-requested" and returns TRUE. */
gboolean    lam_text_view_generate         (LamTextView *self);
gboolean    lam_text_view_get_busy         (LamTextView *self);

/* Shows text (for integrators that generate themselves); its first
 * prompt_len bytes are the prompt, drawn in bold. */
void        lam_text_view_set_text         (LamTextView *self, const char *text, gsize prompt_len);
/* The text shown, prompt included ("" before any). */
char       *lam_text_view_dup_text         (LamTextView *self);

const char *lam_text_view_get_prompt       (LamTextView *self);
void        lam_text_view_set_prompt       (LamTextView *self, const char *prompt);
double      lam_text_view_get_temperature  (LamTextView *self);
void        lam_text_view_set_temperature  (LamTextView *self, double temperature);
int         lam_text_view_get_length       (LamTextView *self);
void        lam_text_view_set_length       (LamTextView *self, int n_chars);
gboolean    lam_text_view_get_follow       (LamTextView *self);
void        lam_text_view_set_follow       (LamTextView *self, gboolean follow);
/* The seed of the next generation (each press of Generate picks a new
 * one; Follow training keeps it). */
void        lam_text_view_set_seed         (LamTextView *self, guint64 seed);

G_END_DECLS
