/* lam-gate-view.h: an LSTM's or GRU's gates over time, for one sample.
 *
 * One heat map per gate, units across and time steps down (as in
 * LamSequenceView, with the input beside the time axis): the sigmoid
 * gates (LSTM input, forget, output; GRU reset, update) from 0 to 1 in
 * viridis, the tanh candidates (LSTM cell candidate, GRU new) from −1
 * to 1 in blue, white and red. Each panel names its gate, says in a
 * line what it does and gives its mean. Hovering a cell names it and
 * marks the same unit and step in every panel.
 *
 * The values come from lam_seq_trace_from_trainer() (lam-seq-data.h):
 * LamSeqTrace.gates, n_gates × T × (dirs·units).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-graph.h"

G_BEGIN_DECLS

#define LAM_TYPE_GATE_VIEW (lam_gate_view_get_type ())
G_DECLARE_FINAL_TYPE (LamGateView, lam_gate_view, LAM, GATE_VIEW, GtkWidget)

GtkWidget  *lam_gate_view_new              (void);

/* gates: G × T × H for kind LSTM (G = 4: i, f, g, o) or GRU (G = 3:
 * r, z, n), copied. For other kinds gates may be NULL: the view then
 * says that the layer has none. title may be NULL. */
void        lam_gate_view_set_gates        (LamGateView *self, LamLayerKind kind,
                                            const float *gates, int T, int H, const char *title);
/* As lam_sequence_view_set_input() and _set_step_labels(). */
void        lam_gate_view_set_input        (LamGateView *self, const float *x, int T, int F,
                                            gboolean image_rows);
void        lam_gate_view_set_step_labels  (LamGateView *self, const char *const *labels);
/* order[column] = unit, H entries (e.g. lam_sequence_view_get_unit_order(),
 * so both views put each unit in the same column), or NULL for 0..H-1. */
void        lam_gate_view_set_unit_order   (LamGateView *self, const int *order, int H);
void        lam_gate_view_clear            (LamGateView *self);

int         lam_gate_view_get_n_gates      (LamGateView *self);
/* Hit testing, for tests and tools; the hover text reads
 * "Forget gate, unit 17, after row 5: 0.93". */
gboolean    lam_gate_view_cell_at          (LamGateView *self, double x, double y, int *gate,
                                            int *unit, int *step);
gboolean    lam_gate_view_get_cell_rect    (LamGateView *self, int gate, int unit, int step,
                                            graphene_rect_t *rect);
char       *lam_gate_view_describe_cell    (LamGateView *self, int gate, int unit, int step);

G_END_DECLS
