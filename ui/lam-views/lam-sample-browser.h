/* lam-sample-browser.h: a grid of dataset thumbnails in one widget.
 *
 * Two uses: browsing samples (caption: the class name) and the gallery
 * of misclassified samples (caption: "true → predicted"). The images
 * are copied as bytes and turned into small surfaces only when first
 * drawn, so a page of thousands stays light: no child widgets. Clicking
 * a thumbnail (or the arrow keys and Enter) emits "sample-selected"
 * with the sample's index in its dataset. GtkScrollable: put it
 * straight into a GtkScrolledWindow.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "lam-dataset.h"

G_BEGIN_DECLS

#define LAM_TYPE_SAMPLE_BROWSER (lam_sample_browser_get_type ())
G_DECLARE_FINAL_TYPE (LamSampleBrowser, lam_sample_browser, LAM, SAMPLE_BROWSER, GtkWidget)

GtkWidget  *lam_sample_browser_new              (void);

/* n images of c×h×w bytes (planar; c 1 or 3), sample i being dataset
 * index first_index + i. labels and class_names may be NULL. */
void        lam_sample_browser_set_images       (LamSampleBrowser *self, const guint8 *images,
                                                 int c, int h, int w, int n,
                                                 const guint8 *labels,
                                                 const char *const *class_names, int first_index);
/* count samples from start of an image dataset (a page). */
void        lam_sample_browser_set_dataset      (LamSampleBrowser *self, const LamDataset *ds,
                                                 int start, int count);
/* The samples where pred != labels, at most max_items of them, captioned
 * "true → predicted". Returns how many were misclassified in all. */
int         lam_sample_browser_set_misclassified (LamSampleBrowser *self, const guint8 *images,
                                                  int c, int h, int w, const int *pred,
                                                  const guint8 *labels, int n,
                                                  const char *const *class_names, int max_items);
void        lam_sample_browser_clear            (LamSampleBrowser *self);
void        lam_sample_browser_set_title        (LamSampleBrowser *self, const char *title);

int         lam_sample_browser_get_n_items      (LamSampleBrowser *self);
int         lam_sample_browser_get_item_index   (LamSampleBrowser *self, int item);
int         lam_sample_browser_item_at          (LamSampleBrowser *self, double x, double y);
gboolean    lam_sample_browser_get_item_rect    (LamSampleBrowser *self, int item,
                                                 graphene_rect_t *rect);
/* By dataset index; -1 for none. Does not emit. */
void        lam_sample_browser_set_selected     (LamSampleBrowser *self, int index);
int         lam_sample_browser_get_selected     (LamSampleBrowser *self);

/* Thumbnail pixels per image pixel; 0 (default) picks 2, or 3 for the gallery. */
int         lam_sample_browser_get_thumb_scale  (LamSampleBrowser *self);
void        lam_sample_browser_set_thumb_scale  (LamSampleBrowser *self, int scale);

G_END_DECLS
