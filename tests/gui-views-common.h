/* gui-views-common.h: helpers of the view tests (see gui-views-common.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

typedef struct {
  int      width, height;
  guint32 *px;     /* ARGB, premultiplied */
} Image;

void        image_clear  (Image *img);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Image, image_clear)

/* Runs the main loop for n frames' worth of time (20 ms each). */
void        wait_frames  (int n);
/* child in an undecorated window of about width × height, mapped. */
GtkWidget  *show         (GtkWidget *child, int width, int height);
/* The widget as GTK renders it (LAM_TEST_SAVE_PNG=DIR also saves it). */
void        render       (GtkWidget *widget, Image *img);
guint32     pixel        (const Image *img, double x, double y);

#define R(p) (((p) >> 16) & 0xff)
#define G(p) (((p) >> 8) & 0xff)
#define B(p) ((p) & 0xff)
#define A(p) ((p) >> 24)

/* An opaque pixel within tol of 0xRRGGBB. */
void        assert_color (guint32 p, guint32 rgb, int tol);
/* Pixels at least half opaque in [x0, x1) × [y0, y1). */
int         count_opaque (const Image *img, int x0, int y0, int x1, int y1);
GtkGesture *find_gesture (GtkWidget *widget, GType type);
/* A press of button 1 at (x, y) on the widget's click gesture. */
void        click        (GtkWidget *widget, double x, double y);
