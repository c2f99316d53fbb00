/* lam-attention-view.h: a MultiHeadAttention layer's weights for one
 * sample, one T × T matrix per head.
 *
 * Row q of a head's matrix (the query, time running down as in the
 * other sequence views) says how much step q takes from each step k
 * (the key, across); each row adds up to 1. The input stands beside
 * the first panel of each line of panels with its steps beside the
 * queries (for an image read row by row: the image itself); hovering a
 * cell names it in a tooltip, marks the query row (blue) and the key
 * row (orange) in that input, and frames the same cell in every head.
 * Each head's header says how far it looks on average.
 *
 * Colours: viridis from 0 to the largest weight shown (auto-scale, the
 * default: attention spread over 28 steps is mostly below 0.1 and
 * would be dark on a 0 to 1 scale), or from 0 to 1.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LAM_TYPE_ATTENTION_VIEW (lam_attention_view_get_type ())
G_DECLARE_FINAL_TYPE (LamAttentionView, lam_attention_view, LAM, ATTENTION_VIEW, GtkWidget)

GtkWidget  *lam_attention_view_new             (void);

/* p: heads × T × T probabilities (lam_seq_attention_for_sample()),
 * copied. title may be NULL. */
void        lam_attention_view_set_weights     (LamAttentionView *self, const float *p, int heads,
                                                int T, const char *title);
/* As lam_sequence_view_set_input() and _set_step_labels(): the
 * sequence the positions come from (e.g. the image, T rows of F
 * pixels). */
void        lam_attention_view_set_input       (LamAttentionView *self, const float *x, int T,
                                                int F, gboolean image_rows);
void        lam_attention_view_set_step_labels (LamAttentionView *self,
                                                const char *const *labels);
void        lam_attention_view_clear           (LamAttentionView *self);

gboolean    lam_attention_view_get_auto_scale  (LamAttentionView *self);
void        lam_attention_view_set_auto_scale  (LamAttentionView *self, gboolean auto_scale);

int         lam_attention_view_get_n_heads     (LamAttentionView *self);
/* The weights shown (heads × T × T, owned by the view; NULL before
 * any), for tests and tools. */
const float *lam_attention_view_get_weights    (LamAttentionView *self, int *heads, int *T);
/* Hit testing, for tests and tools; the hover text reads
 * "Head 2: row 5 takes 0.31 of its input from row 12". */
gboolean    lam_attention_view_cell_at         (LamAttentionView *self, double x, double y,
                                                int *head, int *query, int *key);
gboolean    lam_attention_view_get_cell_rect   (LamAttentionView *self, int head, int query,
                                                int key, graphene_rect_t *rect);
char       *lam_attention_view_describe_cell   (LamAttentionView *self, int head, int query,
                                                int key);

G_END_DECLS
