/* lam-seq-common.h: what the sequence views share: the input beside the
 * time axis, the step names and the time axis itself. Private to
 * ui/lam-views.
 *
 * Time runs down in all three sequence views, one row per step, so that
 * for an image read row by row (Fashion-MNIST, 28 steps of 28 pixels)
 * the picture stands upright beside the plots and image row t lines up
 * with step t of every heat map.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-view-common.h"

G_BEGIN_DECLS

typedef struct {
  float           *x;        /* [T, F] or NULL */
  int              T, F;
  gboolean         rows;     /* the steps are the rows of an image */
  char           **labels;   /* one per step (characters), or NULL */
  cairo_surface_t *surface;  /* x as a gray heat map, T high, F wide */
} LamSeqInput;

void    _lam_seq_input_clear  (LamSeqInput *in);
/* Copies x; NULL clears the values but keeps rows and labels. */
void    _lam_seq_input_set    (LamSeqInput *in, const float *x, int T, int F, gboolean rows);
void    _lam_seq_input_set_labels (LamSeqInput *in, const char *const *labels);
/* "row 5", "step 5 ‘e’", "step 5" */
char   *_lam_seq_step_name    (const LamSeqInput *in, int t);
/* The axis title: "image row (= time step)", "time step" */
const char *_lam_seq_axis_title (const LamSeqInput *in);
/* Width of the input beside a time axis of T rows of row_h pixels: the
 * image with square pixels, other inputs at most a cell per feature;
 * at most max_w; 0 when there is no input of T steps. */
double  _lam_seq_input_width  (const LamSeqInput *in, int T, double row_h, double max_w);
/* Draws the input (T rows from y) with step hover (and hover2, e.g. an
 * attention key) marked; nothing when the input does not have T steps. */
void    _lam_seq_input_draw   (const LamSeqInput *in, LamViewStyle *st, double x, double y,
                               double w, double row_h, int T, int hover, int hover2);
/* Step labels right-aligned at x_right for T rows of row_h from y:
 * nice ticks, or every label when they fit; hover in bold. */
void    _lam_seq_axis_draw    (const LamSeqInput *in, LamViewStyle *st, double x_right, double y,
                               double row_h, int T, int hover);
/* A band across a row, for hover. */
void    _lam_seq_row_band     (LamViewStyle *st, double x, double y, double w, double h);

G_END_DECLS
