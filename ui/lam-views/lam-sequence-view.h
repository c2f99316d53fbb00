/* lam-sequence-view.h: a recurrent layer's hidden state over time.
 *
 * For one sample: a heat map of every unit (columns) after every time
 * step (rows, time running down), blue for negative, white 0, red for
 * positive; beside it, on the left, the input the layer read at each
 * step (for an image read row by row, the image itself, upright, each
 * of its rows beside the states after reading it); on the right, the
 * trajectories of a few chosen units as lines over the same time axis.
 * Clicking a column (or Enter on the keyboard cursor) adds or removes
 * that unit from the lines; hovering names the cell in a tooltip and
 * marks its step in all three panels.
 *
 * Units are shown sorted by the step at which they peak (sort-units,
 * the default), so the heat map reads as a diagonal of units that
 * respond early to late; clicking still picks the unit, whatever its
 * column.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LAM_TYPE_SEQUENCE_VIEW (lam_sequence_view_get_type ())
G_DECLARE_FINAL_TYPE (LamSequenceView, lam_sequence_view, LAM, SEQUENCE_VIEW, GtkWidget)

#define LAM_SEQUENCE_VIEW_MAX_SELECTED 8

GtkWidget  *lam_sequence_view_new              (void);

/* h: T × H states, row t = every unit after step t (LamSeqTrace.states
 * with H = dirs·units). Copied. The chosen units stay chosen while H
 * stays the same. title: e.g. "lstm · LSTM, 128 units", or NULL. */
void        lam_sequence_view_set_states       (LamSequenceView *self, const float *h, int T,
                                                int H, const char *title);
/* The input sequence x: T × F, drawn beside the time axis when T
 * matches the states'. image_rows: the steps are the rows of an image
 * (labels say "row"). NULL clears. Copied. */
void        lam_sequence_view_set_input        (LamSequenceView *self, const float *x, int T,
                                                int F, gboolean image_rows);
/* One label per step (e.g. the characters a character model read),
 * NULL-terminated, or NULL. Copied. */
void        lam_sequence_view_set_step_labels  (LamSequenceView *self,
                                                const char *const *labels);
void        lam_sequence_view_clear            (LamSequenceView *self);

gboolean    lam_sequence_view_get_sort_units   (LamSequenceView *self);
void        lam_sequence_view_set_sort_units   (LamSequenceView *self, gboolean sort);
/* The column order: order[column] = unit; n is H. NULL before data. */
const int  *lam_sequence_view_get_unit_order   (LamSequenceView *self, int *n);

/* The units drawn as lines, in the order they were chosen. */
int         lam_sequence_view_get_selected_units (LamSequenceView *self, int *units, int max);
void        lam_sequence_view_set_selected_units (LamSequenceView *self, const int *units, int n);
/* Adds or removes a unit; returns whether it is now selected. */
gboolean    lam_sequence_view_toggle_unit      (LamSequenceView *self, int unit);

/* Hit testing, for tests and tools: the heat map cell under a point
 * (unit and step; FALSE outside), a cell's rectangle, the step under a
 * point in any panel (-1: none), and the hover text of a cell:
 * "Unit 17 after row 5: 0.42". */
gboolean    lam_sequence_view_cell_at          (LamSequenceView *self, double x, double y,
                                                int *unit, int *step);
gboolean    lam_sequence_view_get_cell_rect    (LamSequenceView *self, int unit, int step,
                                                graphene_rect_t *rect);
int         lam_sequence_view_step_at          (LamSequenceView *self, double x, double y);
char       *lam_sequence_view_describe_cell    (LamSequenceView *self, int unit, int step);

G_END_DECLS
