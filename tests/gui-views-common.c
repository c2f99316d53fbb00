/* gui-views-common.c: what the view tests (test-gui-views.c,
 * test-gui-seq-views.c) share: a window around a view, GTK's own
 * rendering of it into pixels, pixel checks and a simulated click.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include "gui-views-common.h"

void
image_clear (Image *img)
{
  g_clear_pointer (&img->px, g_free);
}

void
wait_frames (int n)
{
  for (int i = 0; i < n; i++)
    {
      gint64 end = g_get_monotonic_time () + 20000;
      while (g_get_monotonic_time () < end)
        g_main_context_iteration (NULL, FALSE);
    }
}

GtkWidget *
show (GtkWidget *child, int width, int height)
{
  GtkWidget *window = gtk_window_new ();
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_window_set_child (GTK_WINDOW (window), child);
  gtk_window_present (GTK_WINDOW (window));
  while ((!gtk_widget_get_mapped (child) || gtk_widget_get_width (child) < width / 2)
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (gtk_widget_get_mapped (child));
  wait_frames (3);
  return window;
}

void
render (GtkWidget *widget, Image *img)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  img->width = gtk_widget_get_width (widget);
  img->height = gtk_widget_get_height (widget);
  gdk_paintable_snapshot (paintable, snapshot, img->width, img->height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, img->width, img->height));
  g_assert_cmpint (gdk_texture_get_width (texture), ==, img->width);
  img->px = g_new (guint32, (gsize) img->width * img->height);
  gdk_texture_download (texture, (guchar *) img->px, img->width * 4);

  if (g_getenv ("LAM_TEST_SAVE_PNG"))
    {
      g_autofree char *path = g_strdup_printf ("%s/%s.png", g_getenv ("LAM_TEST_SAVE_PNG"),
                                               G_OBJECT_TYPE_NAME (widget));
      gdk_texture_save_to_png (texture, path);
    }
}

guint32
pixel (const Image *img, double x, double y)
{
  int ix = (int) floor (x), iy = (int) floor (y);

  g_assert_cmpint (ix, >=, 0);
  g_assert_cmpint (iy, >=, 0);
  g_assert_cmpint (ix, <, img->width);
  g_assert_cmpint (iy, <, img->height);
  return img->px[(gsize) iy * img->width + ix];
}

/* An opaque pixel within tol of 0xRRGGBB. */
void
assert_color (guint32 p, guint32 rgb, int tol)
{
  if (A (p) != 0xff || ABS ((int) R (p) - (int) R (rgb)) > tol
      || ABS ((int) G (p) - (int) G (rgb)) > tol || ABS ((int) B (p) - (int) B (rgb)) > tol)
    g_error ("pixel %08x is not #%06x (±%d)", p, rgb, tol);
}

int
count_opaque (const Image *img, int x0, int y0, int x1, int y1)
{
  int n = 0;

  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      n += A (img->px[(gsize) y * img->width + x]) > 0x80;
  return n;
}

GtkGesture *
find_gesture (GtkWidget *widget, GType type)
{
  g_autoptr(GListModel) list = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (list, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        return GTK_GESTURE (c);
    }
  return NULL;
}

void
click (GtkWidget *widget, double x, double y)
{
  GtkGesture *g = find_gesture (widget, GTK_TYPE_GESTURE_CLICK);

  g_assert_nonnull (g);
  g_signal_emit_by_name (g, "pressed", 1, x, y);
}
