/* test-gui-views.c: the views in ui/lam-views, rendered for real.
 *
 * Each view is shown in a window, rendered through GTK's own renderer
 * into a texture, and its pixels are checked where the data says they
 * must be. Needs a display: run under xvfb-run with GTK_A11Y=none and
 * GSK_RENDERER=cairo (meson's suite 'gui' sets both).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "lam-views.h"
#include "lam-model-file.h"
#include "gui-views-common.h"

/* ── LamSeries ───────────────────────────────────────────────────────── */

static void
test_series_decimate (void)
{
  g_autoptr(LamSeries) s = lam_series_new ("loss");
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const guint N = 100000, B = 97;
  g_autofree LamSeriesBucket *b = g_new (LamSeriesBucket, B + 2);
  double gmin = INFINITY, gmax = -INFINITY, bmin = INFINITY, bmax = -INFINITY;
  guint n, total = 0;

  for (guint i = 0; i < N; i++)
    {
      double y = exp (-(double) i / 20000.0) + g_rand_double_range (rand, -0.05, 0.05);
      if (i == 31337)
        y = 9.5;      /* a spike that must survive */
      if (i == 77777)
        y = -3.25;
      if (i == 500)
        y = NAN;      /* a gap */
      lam_series_append (s, i, y);
      if (isfinite (y))
        gmin = MIN (gmin, y), gmax = MAX (gmax, y);
    }
  g_assert_cmpuint (lam_series_get_length (s), ==, N);

  n = lam_series_decimate (s, 0, N - 1, B, b);
  g_assert_cmpuint (n, <=, B + 2);
  g_assert_cmpuint (n, >=, B - 1);
  for (guint k = 0; k < n; k++)
    {
      double lo = INFINITY, hi = -INFINITY;
      guint i0 = lam_series_lower_bound (s, b[k].x_first);
      guint cnt = 0;
      for (guint i = i0; i < N && lam_series_get_x (s, i) <= b[k].x_last; i++)
        {
          double y = lam_series_get_y (s, i);
          if (!isfinite (y))
            continue;
          lo = MIN (lo, y), hi = MAX (hi, y), cnt++;
        }
      /* each bucket keeps exactly the extremes of its points */
      g_assert_cmpfloat (b[k].y_min, ==, lo);
      g_assert_cmpfloat (b[k].y_max, ==, hi);
      g_assert_cmpuint (b[k].count, ==, cnt);
      g_assert_cmpfloat (b[k].y_first, ==, lam_series_get_y (s, i0));
      if (k > 0)
        g_assert_cmpfloat (b[k].x_first, >, b[k - 1].x_last);
      bmin = MIN (bmin, b[k].y_min);
      bmax = MAX (bmax, b[k].y_max);
      total += b[k].count;
    }
  g_assert_cmpfloat (bmin, ==, -3.25);
  g_assert_cmpfloat (bmax, ==, 9.5);
  g_assert_cmpfloat (bmin, ==, gmin);
  g_assert_cmpfloat (bmax, ==, gmax);
  g_assert_cmpuint (total, ==, N - 1);   /* every finite point, once */

  /* a window: the points just outside come as their own buckets */
  n = lam_series_decimate (s, 1000, 2000, 10, b);
  g_assert_cmpuint (n, ==, 12);
  g_assert_cmpfloat (b[0].x_first, ==, 999);
  g_assert_cmpuint (b[0].count, ==, 1);
  g_assert_cmpfloat (b[n - 1].x_first, ==, 2001);
  g_assert_cmpuint (b[n - 1].count, ==, 1);
}

static void
test_series_lookup (void)
{
  g_autoptr(LamSeries) s = lam_series_new ("x");
  double lo, hi;
  guint i;

  g_assert_false (lam_series_nearest (s, 3, &i));
  g_assert_false (lam_series_get_x_range (s, &lo, &hi));
  for (int k = 0; k < 10; k++)
    lam_series_append (s, k * 10, k == 4 ? -1 : k);
  g_assert_cmpuint (lam_series_lower_bound (s, 25), ==, 3);
  g_assert_cmpuint (lam_series_lower_bound (s, 30), ==, 3);
  g_assert_cmpuint (lam_series_lower_bound (s, 1000), ==, 10);
  g_assert_true (lam_series_nearest (s, 34, &i));
  g_assert_cmpuint (i, ==, 3);
  g_assert_true (lam_series_nearest (s, 36, &i));
  g_assert_cmpuint (i, ==, 4);
  g_assert_true (lam_series_nearest (s, -50, &i));
  g_assert_cmpuint (i, ==, 0);
  g_assert_true (lam_series_get_y_range (s, 20, 50, FALSE, &lo, &hi));
  g_assert_cmpfloat (lo, ==, -1);
  g_assert_cmpfloat (hi, ==, 5);
  g_assert_true (lam_series_get_y_range (s, 20, 50, TRUE, &lo, &hi));
  g_assert_cmpfloat (lo, ==, 2);
  g_assert_true (lam_series_get_x_range (s, &lo, &hi));
  g_assert_cmpfloat (hi, ==, 90);
  g_assert_cmpfloat (lam_series_get_last_y (s), ==, 9);
}

/* ── LamLossPlot ─────────────────────────────────────────────────────── */

static void
fill_plot (LamLossPlot *plot, int steps, int per_epoch)
{
  for (int i = 1; i <= steps; i++)
    {
      double loss = 2.0 * exp (-i / 300.0) + 0.2 + 0.05 * sin (i * 0.7);
      lam_loss_plot_add_step (plot, i, loss, 1 - loss / 2.4);
      if (i % per_epoch == 0)
        lam_loss_plot_add_epoch (plot, i, loss, loss * 1.1, 1 - loss / 2.4, 1 - loss / 2.2);
    }
}

static void
test_loss_plot_render (void)
{
  GtkWidget *plot = lam_loss_plot_new ();
  GtkWidget *window = show (plot, 900, 560);
  g_auto (Image) img = { 0 };
  LamLossPlotHit hit;
  int curve_px = 0;

  fill_plot (LAM_LOSS_PLOT (plot), 1000, 250);
  wait_frames (2);
  render (plot, &img);
  g_assert_cmpint (img.width, ==, 900);

  /* the smoothed loss is drawn in blue where value_at says it is */
  g_assert_true (lam_loss_plot_value_at (LAM_LOSS_PLOT (plot), 150, 150, &hit));
  g_assert_cmpfloat (fabs (hit.px - 150), <=, 2);
  g_assert_false (lam_loss_plot_value_at (LAM_LOSS_PLOT (plot), 2, 2, &hit));
  for (int y = 0; y < 320; y++)
    {
      guint32 p = pixel (&img, 150, y);
      if (A (p) == 0xff && B (p) > R (p) + 60 && B (p) > 150)
        curve_px++;
    }
  g_assert_cmpint (curve_px, >=, 3);

  /* both panels drew something; the top-right corner stays empty */
  g_assert_cmpint (count_opaque (&img, 100, 60, 880, 300), >, 500);
  g_assert_cmpint (count_opaque (&img, 100, 360, 880, 500), >, 300);
  g_assert_cmpint (A (pixel (&img, img.width - 3, 3)), ==, 0);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_loss_plot_value_at (void)
{
  GtkWidget *plot = lam_loss_plot_new ();
  GtkWidget *window = show (plot, 800, 500);
  LamLossPlot *p = LAM_LOSS_PLOT (plot);
  LamLossPlotHit hit, again;
  LamSeries *raw = lam_loss_plot_get_series (p, LAM_LOSS_CURVE_LOSS);

  lam_loss_plot_set_smoothing (p, 0);
  for (int i = 1; i <= 100; i++)
    lam_loss_plot_add_step (p, i, i == 50 ? 3.0 : 1.0, 0.5);
  lam_loss_plot_add_epoch (p, 100, 1.0, 1.2, 0.5, 0.45);

  /* the spike at step 50: find where it is drawn, then ask near it */
  {
    double px = -1, py = -1;
    for (double x = 0; x < 800 && px < 0; x += 0.5)
      if (lam_loss_plot_value_at (p, x, 80, &hit) && hit.x == 50)
        px = hit.px, py = hit.py;
    g_assert_cmpfloat (px, >, 0);
    g_assert_true (lam_loss_plot_value_at (p, px + 1, py + 2, &hit));
    /* smoothing 0: the smoothed curve lies on the raw one and, drawn on top, answers */
    g_assert_cmpint (hit.curve, ==, LAM_LOSS_CURVE_LOSS_SMOOTHED);
    g_assert_cmpfloat (hit.x, ==, 50);
    g_assert_cmpfloat (hit.y, ==, 3.0);
    g_assert_cmpuint (hit.index, ==, 49);
    g_assert_cmpfloat (lam_series_get_y (raw, hit.index), ==, 3.0);
    lam_loss_plot_set_smoothing (p, 0.9);
    g_assert_true (lam_loss_plot_value_at (p, px + 1, py + 2, &hit));
    g_assert_cmpint (hit.curve, ==, LAM_LOSS_CURVE_LOSS);
    g_assert_cmpfloat (hit.y, ==, 3.0);
    /* below the spike, on the flat part, the neighbours answer with 1.0 */
    g_assert_true (lam_loss_plot_value_at (p, px + 6, py + 150, &again));
    g_assert_cmpfloat (again.y, ==, 1.0);
  }

  /* the accuracy panel answers with accuracy */
  g_assert_true (lam_loss_plot_value_at (p, 400, 430, &hit));
  g_assert_true (hit.curve == LAM_LOSS_CURVE_ACCURACY || hit.curve == LAM_LOSS_CURVE_ACCURACY_SMOOTHED
                 || hit.curve == LAM_LOSS_CURVE_TRAIN_ACCURACY
                 || hit.curve == LAM_LOSS_CURVE_VAL_ACCURACY);
  /* the epoch's validation marker, asked for at its own place */
  {
    gboolean found = FALSE;
    for (double y = 20; y < 480 && !found; y += 1)
      if (lam_loss_plot_value_at (p, 790, y, &hit) && hit.curve == LAM_LOSS_CURVE_VAL_LOSS)
        found = TRUE;
    g_assert_true (found);
    g_assert_cmpfloat (hit.y, ==, 1.2);
  }
  /* outside the panels: nothing */
  g_assert_false (lam_loss_plot_value_at (p, 400, 2, &hit));

  /* hovering draws the label: the picture changes around the pointer */
  {
    g_auto (Image) before = { 0 };
    g_auto (Image) after = { 0 };
    GtkEventController *motion = NULL;
    g_autoptr(GListModel) list = gtk_widget_observe_controllers (plot);
    int changed = 0;

    for (guint i = 0; i < g_list_model_get_n_items (list) && !motion; i++)
      {
        g_autoptr(GObject) c = g_list_model_get_item (list, i);
        if (GTK_IS_EVENT_CONTROLLER_MOTION (c))
          motion = GTK_EVENT_CONTROLLER (c);
      }
    g_assert_nonnull (motion);
    wait_frames (2);
    render (plot, &before);
    g_assert_true (lam_loss_plot_value_at (p, 300, 150, &hit));
    g_signal_emit_by_name (motion, "motion", 300.0, 150.0);
    /* the label comes with a frame or two: render until it is there (a
     * loaded machine may take more frames), at most 20 */
    for (int tries = 0; tries < 10 && changed <= 500; tries++)
      {
        wait_frames (2);
        image_clear (&after);
        render (plot, &after);
        changed = 0;
        for (int y = 0; y < before.height; y++)
          for (int x = (int) hit.px - 120; x < hit.px + 120; x++)
            if (x >= 0 && x < before.width)
              changed += before.px[y * before.width + x] != after.px[y * after.width + x];
      }
    g_assert_cmpint (changed, >, 500);
    g_signal_emit_by_name (motion, "leave");
  }

  /* a double click resets a zoom */
  lam_loss_plot_zoom (p, 10, 20);
  g_assert_true (lam_loss_plot_get_zoomed (p));
  {
    GtkGesture *g = find_gesture (plot, GTK_TYPE_GESTURE_CLICK);
    g_signal_emit_by_name (g, "pressed", 2, 100.0, 100.0);
  }
  g_assert_false (lam_loss_plot_get_zoomed (p));

  /* zoom: steps 40..60 now span the panel */
  lam_loss_plot_zoom (p, 40, 60);
  g_assert_true (lam_loss_plot_get_zoomed (p));
  g_assert_true (lam_loss_plot_value_at (p, 400, 100, &hit));
  g_assert_cmpfloat (fabs (hit.x - 50), <=, 1);
  lam_loss_plot_reset_zoom (p);
  g_assert_false (lam_loss_plot_get_zoomed (p));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
notify_count (GObject *obj, GParamSpec *pspec, int *count)
{
  (*count)++;
}

static void
test_loss_plot_properties (void)
{
  GtkWidget *plot = g_object_ref_sink (lam_loss_plot_new ());
  LamLossPlot *p = LAM_LOSS_PLOT (plot);
  int notified = 0;
  gboolean log;
  LamSeries *sm = lam_loss_plot_get_series (p, LAM_LOSS_CURVE_LOSS_SMOOTHED);

  g_signal_connect (plot, "notify::log-scale", G_CALLBACK (notify_count), &notified);
  lam_loss_plot_set_log_scale (p, TRUE);
  lam_loss_plot_set_log_scale (p, TRUE);
  g_assert_cmpint (notified, ==, 1);
  g_object_get (plot, "log-scale", &log, NULL);
  g_assert_true (log);

  /* smoothing: debiased, so a constant stays constant, and a change re-smooths */
  for (int i = 1; i <= 5; i++)
    lam_loss_plot_add_step (p, i, 2.0, NAN);
  g_assert_cmpfloat (fabs (lam_series_get_y (sm, 0) - 2.0), <, 1e-12);
  g_assert_cmpfloat (fabs (lam_series_get_y (sm, 4) - 2.0), <, 1e-12);
  lam_loss_plot_add_step (p, 6, 0.0, NAN);
  g_assert_cmpfloat (lam_series_get_y (sm, 5), >, 1.0);
  lam_loss_plot_set_smoothing (p, 0);
  g_assert_cmpfloat (lam_series_get_y (sm, 5), ==, 0.0);
  g_assert_cmpuint (lam_series_get_length (sm), ==, 6);

  /* draws off screen, in log scale with a zero loss, without trouble */
  {
    cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 400, 300);
    cairo_t *cr = cairo_create (s);
    lam_loss_plot_draw (p, cr, 400, 300);
    g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
    cairo_destroy (cr);
    cairo_surface_destroy (s);
  }

  lam_loss_plot_clear (p);
  g_assert_cmpuint (lam_series_get_length (sm), ==, 0);
  g_assert_finalize_object (plot);
}

static void
test_loss_plot_export (void)
{
  GtkWidget *plot = g_object_ref_sink (lam_loss_plot_new ());
  LamLossPlot *p = LAM_LOSS_PLOT (plot);
  g_autofree char *dir = g_dir_make_tmp ("lam-views-XXXXXX", NULL);
  g_autofree char *csv_path = g_build_filename (dir, "loss.csv", NULL);
  g_autofree char *svg_path = g_build_filename (dir, "loss.svg", NULL);
  g_autofree char *png_path = g_build_filename (dir, "loss.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *csv = NULL, *svg = NULL, *png = NULL;
  gsize len;

  lam_loss_plot_set_smoothing (p, 0.5);
  lam_loss_plot_add_step (p, 1, 2.0, 0.25);
  lam_loss_plot_add_step (p, 2, 1.0, 0.5);
  lam_loss_plot_add_step (p, 3, 0.5, NAN);
  lam_loss_plot_add_epoch (p, 3, 1.25, 1.5, 0.375, 0.4);
  lam_loss_plot_add_epoch (p, 7, 0.75, NAN, 0.6, NAN);

  g_assert_true (lam_loss_plot_export_csv (p, csv_path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  /* smoothed with 0.5, debiased: 2, (0.5·1 + 0.25·2)/0.75 = 1.3333…, (0.25·0.5 + ...)/0.875 */
  g_assert_cmpstr (csv, ==,
                   "step,loss,loss_smoothed,accuracy,accuracy_smoothed,"
                   "train_loss,val_loss,train_accuracy,val_accuracy\n"
                   "1,2,2,0.25,0.25,,,,\n"
                   "2,1,1.33333333,0.5,0.416666667,,,,\n"
                   "3,0.5,0.857142857,,,1.25,1.5,0.375,0.4\n"
                   "7,,,,,0.75,,0.6,\n");

  g_assert_true (lam_loss_plot_export_svg (p, svg_path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (svg_path, &svg, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_nonnull (strstr (svg, "<svg"));

  g_assert_true (lam_loss_plot_export_png (p, png_path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (png_path, &png, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_cmpint (memcmp (png, "\x89PNG\r\n\x1a\n", 8), ==, 0);

  /* an unwritable path is an error, not a crash */
  g_assert_false (lam_loss_plot_export_png (p, "/nonexistent/dir/x.png", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (lam_loss_plot_export_csv (p, "/nonexistent/dir/x.csv", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);

  g_unlink (csv_path);
  g_unlink (svg_path);
  g_unlink (png_path);
  g_rmdir (dir);
  g_assert_finalize_object (plot);
}

static void
test_loss_plot_perf (void)
{
  GtkWidget *plot = g_object_ref_sink (lam_loss_plot_new ());
  LamLossPlot *p = LAM_LOSS_PLOT (plot);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1280, 720);
  cairo_t *cr = cairo_create (s);
  gint64 t0, best = G_MAXINT64;

  fill_plot (p, 100000, 1000);
  for (int r = 0; r < 5; r++)
    {
      t0 = g_get_monotonic_time ();
      lam_loss_plot_draw (p, cr, 1280, 720);
      cairo_surface_flush (s);
      best = MIN (best, g_get_monotonic_time () - t0);
    }
  g_test_message ("loss plot, 100k steps and 100 epochs at 1280×720: %.2f ms per draw",
                  best / 1000.0);
  g_assert_cmpint (best, <, 200000);

  cairo_destroy (cr);
  cairo_surface_destroy (s);
  g_assert_finalize_object (plot);
}

/* ── LamFilterView ───────────────────────────────────────────────────── */

static void
test_filter_view_conv1 (void)
{
  GtkWidget *view = lam_filter_view_new ();
  GtkWidget *window = show (view, 700, 500);
  LamFilterView *fv = LAM_FILTER_VIEW (view);
  float w[2 * 1 * 3 * 3] = { 0 };
  int shape[4] = { 2, 1, 3, 3 };
  g_auto (Image) img = { 0 };
  graphene_rect_t r;
  double cw;

  w[0] = 0.5f;          /* filter 0, top-left: the largest positive, red */
  w[1] = -0.5f;         /* its neighbour: the largest negative, blue */
  w[9 + 4] = 0.25f;     /* filter 1, centre: half way to red */
  lam_filter_view_set_weights (fv, w, 4, shape, 0, 0, 0, "conv1");
  g_assert_cmpint (lam_filter_view_get_layout (fv), ==, LAM_FILTER_LAYOUT_TILES);
  g_assert_cmpfloat (lam_filter_view_get_scale (fv), ==, 0.5);
  wait_frames (2);
  render (view, &img);

  g_assert_true (lam_filter_view_get_tile_rect (fv, 0, 0, &r));
  cw = r.size.width / 3;
  g_assert_cmpfloat (cw, ==, floor (cw));    /* whole pixels per weight */
  g_assert_cmpfloat (cw, >=, 8);
  assert_color (pixel (&img, r.origin.x + cw * 0.5, r.origin.y + cw * 0.5), 0xb2182b, 2);
  assert_color (pixel (&img, r.origin.x + cw * 1.5, r.origin.y + cw * 0.5), 0x2166ac, 2);
  assert_color (pixel (&img, r.origin.x + cw * 2.5, r.origin.y + cw * 2.5), 0xffffff, 1);
  /* crisp: the last pixel of the red square is still red */
  assert_color (pixel (&img, r.origin.x + cw - 1, r.origin.y + cw - 1), 0xb2182b, 2);
  g_assert_true (lam_filter_view_get_tile_rect (fv, 1, 0, &r));
  /* +0.25 of 0.5 is t = 0.75 on the diverging map: #fddbc7 to #ef8a62 half way */
  assert_color (pixel (&img, r.origin.x + cw * 1.5, r.origin.y + cw * 1.5), 0xf6b395, 3);
  g_assert_false (lam_filter_view_get_tile_rect (fv, 2, 0, &r));

  /* gray: -max black, 0 mid gray, +max white */
  lam_filter_view_set_gray (fv, TRUE);
  wait_frames (2);
  image_clear (&img);
  render (view, &img);
  g_assert_true (lam_filter_view_get_tile_rect (fv, 0, 0, &r));
  assert_color (pixel (&img, r.origin.x + cw * 0.5, r.origin.y + cw * 0.5), 0xffffff, 1);
  assert_color (pixel (&img, r.origin.x + cw * 1.5, r.origin.y + cw * 0.5), 0x000000, 1);
  assert_color (pixel (&img, r.origin.x + cw * 2.5, r.origin.y + cw * 2.5), 0x808080, 1);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_filter_view_layouts (void)
{
  GtkWidget *view = lam_filter_view_new ();
  GtkWidget *window = show (view, 800, 600);
  LamFilterView *fv = LAM_FILTER_VIEW (view);
  g_autofree float *w = g_new0 (float, 100 * 784);
  g_auto (Image) img = { 0 };
  graphene_rect_t r, r2;
  int units, channels;

  /* deeper conv: a grid of 16 filters × 6 input channels */
  w[0] = 1;
  lam_filter_view_set_weights (fv, w, 4, (int[]) { 16, 6, 5, 5 }, 0, 0, 0, "conv2");
  g_assert_cmpint (lam_filter_view_get_layout (fv), ==, LAM_FILTER_LAYOUT_GRID);
  lam_filter_view_get_shown (fv, &units, &channels);
  g_assert_cmpint (units, ==, 16);
  g_assert_cmpint (channels, ==, 6);
  g_assert_true (lam_filter_view_get_tile_rect (fv, 3, 5, &r));
  g_assert_true (lam_filter_view_get_tile_rect (fv, 3, 4, &r2));
  g_assert_cmpfloat (r.origin.y, ==, r2.origin.y);
  g_assert_cmpfloat (r.origin.x, >, r2.origin.x + r2.size.width);
  g_assert_cmpfloat (r.origin.y + r.size.height, <=, 600);

  /* RGB first layer */
  lam_filter_view_set_weights (fv, w, 4, (int[]) { 8, 3, 3, 3 }, 0, 0, 0, "conv1");
  g_assert_cmpint (lam_filter_view_get_layout (fv), ==, LAM_FILTER_LAYOUT_RGB);
  wait_frames (2);
  render (view, &img);
  g_assert_true (lam_filter_view_get_tile_rect (fv, 0, 0, &r));
  /* R = +max, G = B = 0: (1, 0.5, 0.5) */
  assert_color (pixel (&img, r.origin.x + 2, r.origin.y + 2), 0xff8080, 1);

  /* Dense on a 28×28 image: 100 templates, the first 64 shown */
  lam_filter_view_set_weights (fv, w, 2, (int[]) { 100, 784, 0, 0 }, 1, 28, 28, "dense1");
  g_assert_cmpint (lam_filter_view_get_layout (fv), ==, LAM_FILTER_LAYOUT_TILES);
  lam_filter_view_get_shown (fv, &units, &channels);
  g_assert_cmpint (units, ==, 64);
  g_assert_true (lam_filter_view_get_tile_rect (fv, 63, 0, &r));
  g_assert_cmpfloat (r.size.width, >=, 28);
  g_assert_false (lam_filter_view_get_tile_rect (fv, 64, 0, &r));

  /* Dense on a vector: one matrix */
  lam_filter_view_set_weights (fv, w, 2, (int[]) { 10, 84, 0, 0 }, 0, 0, 0, "dense3");
  g_assert_cmpint (lam_filter_view_get_layout (fv), ==, LAM_FILTER_LAYOUT_MATRIX);
  wait_frames (2);
  image_clear (&img);
  render (view, &img);
  g_assert_true (lam_filter_view_get_tile_rect (fv, 0, 0, &r));
  assert_color (pixel (&img, r.origin.x + 1, r.origin.y + 1), 0xb2182b, 2);

  lam_filter_view_clear (fv);
  g_assert_cmpint (lam_filter_view_get_layout (fv), ==, LAM_FILTER_LAYOUT_NONE);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ── LamFeatureView ──────────────────────────────────────────────────── */

static LamNode *
add_node (LamGraph *g, LamLayerKind kind, const char *name, const char *in)
{
  LamNode *n = lam_graph_add_node (g, kind, name);
  if (in)
    lam_graph_connect (g, in, name);
  return n;
}

/* input 1×8×8 → conv (4) → relu → flatten → dense 3 → loss */
static LamGraph *
small_cnn (void)
{
  LamGraph *g = lam_graph_new ();
  LamNode *in = add_node (g, LAM_LAYER_INPUT, "input", NULL);
  LamNode *conv;
  g_autoptr(GError) error = NULL;

  in->p.channels = 1, in->p.height = 8, in->p.width = 8;
  conv = add_node (g, LAM_LAYER_CONV2D, "conv1", "input");
  conv->p.filters = 4, conv->p.kernel = 3, conv->p.padding = 1;
  add_node (g, LAM_LAYER_RELU, "relu1", "conv1");
  add_node (g, LAM_LAYER_FLATTEN, "flatten", "relu1");
  add_node (g, LAM_LAYER_DENSE, "dense1", "flatten")->p.units = 3;
  add_node (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense1");
  g_assert_true (lam_graph_validate (g, &error));
  g_assert_no_error (error);
  return g;
}

static void
on_node_activated (LamFeatureView *view, const char *name, char **out)
{
  g_free (*out);
  *out = g_strdup (name);
}

static void
test_feature_view (void)
{
  g_autoptr(LamGraph) g = small_cnn ();
  GtkWidget *view = lam_feature_view_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *window;
  LamFeatureView *fv = LAM_FEATURE_VIEW (view);
  float *acts[6] = { NULL };
  const char *const names[] = { "cat", "dog", "fish", NULL };
  g_autofree char *activated = NULL;
  g_auto (Image) img = { 0 };
  graphene_rect_t r;

  for (guint i = 0; i < g->nodes->len - 1; i++)
    {
      LamNode *n = g_ptr_array_index (g->nodes, i);
      gsize size = lam_shape_size (&n->out_shape);
      acts[i] = g_new (float, size);
      for (gsize k = 0; k < size; k++)
        acts[i][k] = (k % 7) / 7.0f;
    }
  acts[1][0] = -1.0f;               /* conv1 has negatives: diverging */
  acts[4][0] = 0, acts[4][1] = 3, acts[4][2] = 0;   /* logits: "dog" wins */

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  window = show (scrolled, 900, 400);
  lam_feature_view_set_activations (fv, g, acts, names);
  for (guint i = 0; i < G_N_ELEMENTS (acts); i++)
    g_free (acts[i]);   /* the view keeps copies */

  g_assert_cmpuint (lam_feature_view_get_n_rows (fv), ==, 5);
  g_assert_cmpstr (lam_feature_view_get_row_node (fv, 0), ==, "input");
  g_assert_cmpstr (lam_feature_view_get_row_node (fv, 4), ==, "dense1");
  wait_frames (3);
  render (view, &img);
  g_assert_cmpint (count_opaque (&img, 0, 0, img.width, img.height), >, 5000);

  /* conv1's first map: value -1 at (0,0) is the full blue of the diverging map */
  g_assert_true (lam_feature_view_get_row_rect (fv, 1, &r));
  {
    gboolean blue = FALSE;
    for (int x = (int) (img.width * 0.2); x < img.width && !blue; x++)
      for (int y = (int) r.origin.y; y < r.origin.y + r.size.height && y < img.height && !blue; y++)
        {
          guint32 p = pixel (&img, x, y);
          blue = A (p) == 0xff && ABS ((int) R (p) - 0x21) <= 2 && ABS ((int) G (p) - 0x66) <= 2
                 && ABS ((int) B (p) - 0xac) <= 2;
        }
    g_assert_true (blue);
  }

  /* selecting from outside highlights without a signal, and scrolls to it */
  g_signal_connect (view, "node-activated", G_CALLBACK (on_node_activated), &activated);
  g_assert_true (lam_feature_view_select_node (fv, "dense1"));
  g_assert_false (lam_feature_view_select_node (fv, "nope"));
  g_assert_null (lam_feature_view_get_selected_node (fv));
  g_assert_true (lam_feature_view_select_node (fv, "dense1"));
  g_assert_cmpstr (lam_feature_view_get_selected_node (fv), ==, "dense1");
  g_assert_null (activated);
  wait_frames (2);
  g_assert_true (lam_feature_view_get_row_rect (fv, 4, &r));
  g_assert_cmpfloat (r.origin.y, >=, 0);
  g_assert_cmpfloat (r.origin.y + r.size.height, <=, gtk_widget_get_height (view) + 0.5);

  /* a click on a row emits its node */
  g_assert_true (lam_feature_view_get_row_rect (fv, 3, &r));
  if (r.origin.y < 0)
    {
      g_assert_true (lam_feature_view_select_node (fv, "flatten"));
      wait_frames (2);
      g_assert_true (lam_feature_view_get_row_rect (fv, 3, &r));
    }
  click (view, 20, r.origin.y + 5);
  g_assert_cmpstr (activated, ==, "flatten");
  g_assert_cmpint (lam_feature_view_row_at (fv, 20, r.origin.y + 5), ==, 3);

  /* the selection survives new activations of the same graph */
  {
    float *again[6] = { NULL };
    for (guint i = 0; i < g->nodes->len - 1; i++)
      again[i] = g_new0 (float, lam_shape_size (&((LamNode *) g_ptr_array_index (g->nodes, i))->out_shape));
    lam_feature_view_set_activations (fv, g, again, NULL);
    for (guint i = 0; i < G_N_ELEMENTS (again); i++)
      g_free (again[i]);
  }
  g_assert_cmpstr (lam_feature_view_get_selected_node (fv), ==, "flatten");

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ── LamSampleBrowser ────────────────────────────────────────────────── */

static void
on_sample_selected (LamSampleBrowser *b, int index, int *out)
{
  *out = index;
}

static void
test_sample_browser (void)
{
  GtkWidget *view = lam_sample_browser_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *window;
  LamSampleBrowser *sb = LAM_SAMPLE_BROWSER (view);
  const int N = 300, S = 6 * 6;
  g_autofree guint8 *images = g_new (guint8, N * S);
  g_autofree guint8 *labels = g_new (guint8, N);
  g_autofree int *pred = g_new (int, N);
  const char *const names[] = { "zero", "one", "two", NULL };
  g_auto (Image) img = { 0 };
  graphene_rect_t r;
  int selected = -1;

  for (int i = 0; i < N; i++)
    {
      memset (images + i * S, i % 2 ? 0x00 : 0xff, S);
      labels[i] = i % 3;
      pred[i] = i % 10 == 0 ? (labels[i] + 1) % 3 : labels[i];
    }
  images[1 * S + 0] = 0x80;   /* a gray top-left pixel in sample 1 */

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  window = show (scrolled, 600, 400);
  lam_sample_browser_set_images (sb, images, 1, 6, 6, N, labels, names, 1000);
  g_assert_cmpint (lam_sample_browser_get_n_items (sb), ==, N);
  g_assert_cmpint (lam_sample_browser_get_item_index (sb, 5), ==, 1005);
  wait_frames (3);
  render (view, &img);

  g_assert_true (lam_sample_browser_get_item_rect (sb, 0, &r));
  assert_color (pixel (&img, r.origin.x + r.size.width / 2, r.origin.y + 4), 0xffffff, 0);
  g_assert_true (lam_sample_browser_get_item_rect (sb, 1, &r));
  assert_color (pixel (&img, r.origin.x + r.size.width / 2, r.origin.y + 4), 0x000000, 0);
  {
    /* thumbnails are scaled ×2 with crisp pixels: the gray pixel is a 2×2 square */
    double tx = r.origin.x + (r.size.width - 12) / 2;
    tx = round (tx);
    assert_color (pixel (&img, tx + 0.5, r.origin.y + 0.5), 0x808080, 0);
    assert_color (pixel (&img, tx + 1.5, r.origin.y + 1.5), 0x808080, 0);
    assert_color (pixel (&img, tx + 2.5, r.origin.y + 2.5), 0x000000, 0);
  }

  g_signal_connect (view, "sample-selected", G_CALLBACK (on_sample_selected), &selected);
  click (view, r.origin.x + r.size.width / 2, r.origin.y + r.size.height / 2);
  g_assert_cmpint (selected, ==, 1001);
  g_assert_cmpint (lam_sample_browser_get_selected (sb), ==, 1001);
  g_assert_cmpint (lam_sample_browser_item_at (sb, 1, 1), ==, -1);

  /* the gallery of mistakes: indices are positions in the arrays given */
  g_assert_cmpint (lam_sample_browser_set_misclassified (sb, images, 1, 6, 6, pred, labels, N,
                                                         names, 20), ==, 30);
  g_assert_cmpint (lam_sample_browser_get_n_items (sb), ==, 20);
  g_assert_cmpint (lam_sample_browser_get_item_index (sb, 0), ==, 0);
  g_assert_cmpint (lam_sample_browser_get_item_index (sb, 3), ==, 30);
  g_assert_cmpint (lam_sample_browser_get_selected (sb), ==, -1);
  wait_frames (3);
  g_assert_true (lam_sample_browser_get_item_rect (sb, 3, &r));
  click (view, r.origin.x + r.size.width / 2, r.origin.y + 5);
  g_assert_cmpint (selected, ==, 30);

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ── Predictions and confusion ───────────────────────────────────────── */

static void
test_prediction_view (void)
{
  GtkWidget *view = lam_prediction_view_new ();
  GtkWidget *window = show (view, 800, 400);
  LamPredictionView *pv = LAM_PREDICTION_VIEW (view);
  const float probs[4] = { 0.1f, 0.6f, 0.25f, 0.05f };
  const char *const names[] = { "a", "b", "c", "d", NULL };
  guint8 image[3 * 4 * 4];
  g_auto (Image) img = { 0 };
  graphene_rect_t r;

  memset (image, 0, sizeof image);
  memset (image, 0xff, 16);   /* red */
  lam_prediction_view_set_image (pv, image, 3, 4, 4, "sample 7");
  lam_prediction_view_set_probabilities (pv, probs, 4, names, 2);
  g_assert_cmpint (lam_prediction_view_get_predicted (pv), ==, 1);
  wait_frames (2);
  render (view, &img);

  /* wrong prediction in red, the true class in green, both from the left end */
  g_assert_true (lam_prediction_view_get_bar_rect (pv, 1, &r));
  assert_color (pixel (&img, r.origin.x + 3, r.origin.y + r.size.height / 2), 0xc01c28, 2);
  g_assert_true (lam_prediction_view_get_bar_rect (pv, 2, &r));
  assert_color (pixel (&img, r.origin.x + 3, r.origin.y + r.size.height / 2), 0x26a269, 2);
  /* 25%: the bar ends a quarter of the way */
  g_assert_cmpint (A (pixel (&img, r.origin.x + r.size.width * 0.2, r.origin.y + 3)), ==, 0xff);
  g_assert_cmpint (G (pixel (&img, r.origin.x + r.size.width * 0.3, r.origin.y + 3)), <, 0xa2 - 40);
  /* the image, red and crisp */
  assert_color (pixel (&img, 20, 20), 0xff0000, 0);

  /* every text whole */
  g_assert_cmpuint (lam_prediction_view_get_n_cut_texts (pv), ==, 0);

  lam_prediction_view_clear (pv);
  g_assert_cmpint (lam_prediction_view_get_predicted (pv), ==, -1);
  gtk_window_destroy (GTK_WINDOW (window));
}

static const char *const fashion_names[] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                             "Shirt", "Sneaker", "Bag", "Ankle boot", NULL };

/* The predictions page's two views at the sizes they get in the window,
 * 1280x720 while training (the narrowest) and 1400x900: the headline,
 * the verdict, the caption, every class name and the confusion matrix's
 * title read whole, nothing shortened with "…". */
static void
test_prediction_texts_fit (void)
{
  const struct { int w, h; } sizes[] = { { 318, 420 }, { 318, 500 }, { 280, 420 } };
  const float probs[10] = { 0.001f, 0.0f, 0.12f, 0.20f, 0.02f, 0.0f, 0.655f, 0.0f, 0.004f, 0.0f };
  guint8 image[28 * 28];

  for (int i = 0; i < 28 * 28; i++)
    image[i] = (guint8) (i * 7);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      GtkWidget *view = lam_prediction_view_new ();
      GtkWidget *window = show (view, sizes[i].w, sizes[i].h);
      LamPredictionView *pv = LAM_PREDICTION_VIEW (view);
      graphene_rect_t r0, r9;

      lam_prediction_view_set_image (pv, image, 1, 28, 28, "Validation sample 13");
      /* a long name predicted, a long one true: the widest headline and verdict */
      {
        float p[10];
        memcpy (p, probs, sizeof p);
        p[0] = 0.655f, p[6] = 0.001f;
        lam_prediction_view_set_probabilities (pv, p, 10, fashion_names, 9);
      }
      wait_frames (3);
      g_test_message ("%d × %d: %u texts cut", gtk_widget_get_width (view), gtk_widget_get_height (view),
                      lam_prediction_view_get_n_cut_texts (pv));
      g_assert_cmpuint (lam_prediction_view_get_n_cut_texts (pv), ==, 0);
      lam_prediction_view_set_probabilities (pv, probs, 10, fashion_names, 3);
      wait_frames (3);
      g_assert_cmpuint (lam_prediction_view_get_n_cut_texts (pv), ==, 0);
      /* the bars keep a width that shows a share, inside the view */
      g_assert_true (lam_prediction_view_get_bar_rect (pv, 0, &r0));
      g_assert_true (lam_prediction_view_get_bar_rect (pv, 9, &r9));
      g_assert_cmpfloat (r0.size.width, >=, 50);
      g_assert_cmpfloat (r0.origin.x + r0.size.width, <, gtk_widget_get_width (view));
      g_assert_cmpfloat (r9.origin.y + r9.size.height, <=, gtk_widget_get_height (view));
      gtk_window_destroy (GTK_WINDOW (window));
    }

  for (guint i = 0; i < 2; i++)
    {
      GtkWidget *view = lam_confusion_view_new ();
      GtkWidget *window = show (view, i == 0 ? 352 : 470, i == 0 ? 280 : 330);
      LamConfusionView *cv = LAM_CONFUSION_VIEW (view);
      int pred[1000];
      guint8 labels[1000];

      for (int k = 0; k < 1000; k++)
        {
          labels[k] = k % 10;
          pred[k] = k % 9 == 0 ? (k + 3) % 10 : k % 10;
        }
      lam_confusion_view_set_data (cv, pred, labels, 1000, 10, fashion_names);
      lam_confusion_view_set_title (cv, "Validation set: 1,000 samples at step 12,345");
      wait_frames (3);
      g_assert_cmpuint (lam_confusion_view_get_n_cut_texts (cv), ==, 0);
      gtk_window_destroy (GTK_WINDOW (window));
    }
}

static void on_cell (LamConfusionView *v, int t, int p, int *out) { out[0] = t, out[1] = p; }

static void
test_confusion_view (void)
{
  GtkWidget *view = lam_confusion_view_new ();
  GtkWidget *window = show (view, 700, 700);
  LamConfusionView *cv = LAM_CONFUSION_VIEW (view);
  const int pred[] = { 0, 0, 1, 1, 1, 2, 2, 0, 2, 7 };
  const guint8 labels[] = { 0, 0, 1, 1, 0, 2, 2, 2, 2, 2 };
  const char *const names[] = { "shirt", "shoe", "bag", NULL };
  g_auto (Image) img = { 0 };
  g_autofree char *text = NULL;
  graphene_rect_t r;
  int got[2] = { -1, -1 }, t, p;

  lam_confusion_view_set_data (cv, pred, labels, 10, 3, names);
  g_assert_cmpint (lam_confusion_view_get_count (cv, 0, 0), ==, 2);
  g_assert_cmpint (lam_confusion_view_get_count (cv, 0, 1), ==, 1);
  g_assert_cmpint (lam_confusion_view_get_count (cv, 2, 0), ==, 1);
  g_assert_cmpint (lam_confusion_view_get_count (cv, 2, 2), ==, 3);
  g_assert_cmpfloat (fabs (lam_confusion_view_get_accuracy (cv) - 7.0 / 9.0), <, 1e-12);
  text = lam_confusion_view_describe_cell (cv, 2, 0);
  g_assert_cmpstr (text, ==, "True bag, predicted shirt: 1 (25.0% of bag)");
  wait_frames (2);
  render (view, &img);

  /* shoe's row is all correct: the full diagonal blue; shirt→bag: nothing, background white */
  g_assert_true (lam_confusion_view_get_cell_rect (cv, 1, 1, &r));
  assert_color (pixel (&img, r.origin.x + 4, r.origin.y + 4), 0x1a5fb4, 2);
  g_assert_true (lam_confusion_view_get_cell_rect (cv, 0, 2, &r));
  assert_color (pixel (&img, r.origin.x + 4, r.origin.y + 4), 0xffffff, 1);
  /* shirt→shoe is a third of the row: orange, lighter than full */
  g_assert_true (lam_confusion_view_get_cell_rect (cv, 0, 1, &r));
  {
    guint32 px = pixel (&img, r.origin.x + 4, r.origin.y + 4);
    g_assert_cmpint (R (px), >, B (px) + 40);
    g_assert_cmpint (G (px), >, 0x61);
  }

  g_assert_true (lam_confusion_view_cell_at (cv, r.origin.x + r.size.width / 2,
                                             r.origin.y + r.size.height / 2, &t, &p));
  g_assert_cmpint (t, ==, 0);
  g_assert_cmpint (p, ==, 1);
  g_assert_false (lam_confusion_view_cell_at (cv, 2, 2, &t, &p));
  g_signal_connect (view, "cell-activated", G_CALLBACK (on_cell), got);
  click (view, r.origin.x + 5, r.origin.y + 5);
  g_assert_cmpint (got[0], ==, 0);
  g_assert_cmpint (got[1], ==, 1);

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ── LamBoundaryView ─────────────────────────────────────────────────── */

static void
test_boundary_view (void)
{
  GtkWidget *view = lam_boundary_view_new ();
  GtkWidget *window = show (view, 1000, 560);
  LamBoundaryView *bv = LAM_BOUNDARY_VIEW (view);
  const int Gs = 20;
  const float xy[] = { -0.5f, -0.5f, 0.5f, 0.5f };
  const guint8 labels[] = { 0, 1 };
  g_autofree float *probs = g_new (float, Gs * Gs * 2);
  g_autofree float *units = g_new (float, 2 * Gs * Gs);
  g_auto (Image) img = { 0 };
  graphene_rect_t r;
  double wx, wy;
  guint32 left, right;

  for (int j = 0; j < Gs; j++)
    for (int i = 0; i < Gs; i++)
      {
        float x = -1 + (i + 0.5f) * 2 / Gs;
        float p1 = x < 0 ? 0.02f : 0.98f;
        probs[(j * Gs + i) * 2 + 0] = 1 - p1;
        probs[(j * Gs + i) * 2 + 1] = p1;
        units[j * Gs + i] = x;              /* unit 0: x */
        units[Gs * Gs + j * Gs + i] = j;    /* unit 1: y, all positive */
      }
  lam_boundary_view_set_points (bv, xy, labels, 2, 2);
  lam_boundary_view_set_field (bv, probs, Gs, 2, -1, 1, -1, 1);
  lam_boundary_view_set_units (bv, units, 2, Gs, "act1");
  wait_frames (2);
  render (view, &img);

  /* the points, in their class colours */
  g_assert_true (lam_boundary_view_data_to_widget (bv, -0.5, -0.5, &wx, &wy));
  assert_color (pixel (&img, wx, wy), 0x1c71d8, 2);
  g_assert_true (lam_boundary_view_data_to_widget (bv, 0.5, 0.5, &wx, &wy));
  assert_color (pixel (&img, wx, wy), 0xe66100, 2);
  /* the field: blue-tinted left of x = 0, orange-tinted right, y up */
  g_assert_true (lam_boundary_view_data_to_widget (bv, -0.6, 0.6, &wx, &wy));
  left = pixel (&img, wx, wy);
  g_assert_true (lam_boundary_view_data_to_widget (bv, 0.6, -0.6, &wx, &wy));
  right = pixel (&img, wx, wy);
  g_assert_cmpint (A (left), ==, 0xff);
  g_assert_cmpint (B (left), >, R (left) + 40);
  g_assert_cmpint (R (right), >, B (right) + 40);
  /* the boundary line at x = 0 is dark */
  g_assert_true (lam_boundary_view_data_to_widget (bv, 0, 0.3, &wx, &wy));
  g_assert_cmpint (R (pixel (&img, wx, wy)) + G (pixel (&img, wx, wy)), <, 200);
  /* y grows upwards */
  {
    double y_top, y_bottom, x;
    lam_boundary_view_data_to_widget (bv, 0, 1, &x, &y_top);
    lam_boundary_view_data_to_widget (bv, 0, -1, &x, &y_bottom);
    g_assert_cmpfloat (y_top, <, y_bottom);
  }

  /* unit 0 (= x): blue on the left, red on the right of its tile */
  g_assert_true (lam_boundary_view_get_unit_rect (bv, 0, &r));
  g_assert_cmpfloat (r.size.width, >=, 40);
  left = pixel (&img, r.origin.x + 2, r.origin.y + r.size.height / 2);
  right = pixel (&img, r.origin.x + r.size.width - 3, r.origin.y + r.size.height / 2);
  g_assert_cmpint (B (left), >, R (left) + 60);
  g_assert_cmpint (R (right), >, B (right) + 60);
  /* unit 1 (= row index, ≥ 0): viridis, yellow at the top (y = ymax) */
  g_assert_true (lam_boundary_view_get_unit_rect (bv, 1, &r));
  assert_color (pixel (&img, r.origin.x + r.size.width / 2, r.origin.y + 1), 0xfde725, 12);
  g_assert_false (lam_boundary_view_get_unit_rect (bv, 2, &r));

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ── lam-view-data with a real trainer ───────────────────────────────── */

static void
test_view_data (void)
{
  g_autoptr(LamGraph) g = lam_graph_new ();
  LamNode *in = add_node (g, LAM_LAYER_INPUT, "input", NULL);
  g_autoptr(GError) error = NULL;
  g_auto (LamDataSplits) s = { 0 };
  g_autoptr(LamTrainer) t = NULL;
  g_autoptr(LamViewGrid) grid = NULL;
  g_autofree float *probs = NULL, *units = NULL, *w = NULL;
  g_autofree int *pred = NULL;
  LamTrainConfig c;
  float xmin, xmax, ymin, ymax;
  int n_units = 0, ndim, shape[4], ic, ih, iw, right = 0;

  in->p.channels = 2, in->p.height = in->p.width = 1;
  add_node (g, LAM_LAYER_DENSE, "dense1", "input")->p.units = 8;
  add_node (g, LAM_LAYER_TANH, "act1", "dense1");
  add_node (g, LAM_LAYER_DENSE, "dense2", "act1")->p.units = 2;
  add_node (g, LAM_LAYER_SOFTMAX_XENT, "loss", "dense2");
  g_assert_true (lam_graph_validate (g, &error));

  lam_train_config_init (&c);
  g_free (c.data.name);
  c.data.name = g_strdup ("moons");
  c.data.n_samples = 400;
  c.data.noise = 0.1f;
  g_free (c.backend);
  c.backend = g_strdup ("cpu");
  c.threads = 1;
  c.batch = 16;
  c.epochs = 30;
  c.opt.kind = LAM_OPT_ADAM;
  c.opt.lr = 0.02f;
  g_assert_true (lam_data_open (&c.data, 1, &s, &error));
  t = lam_trainer_new (g, &c, &s, &error);
  g_assert_no_error (error);
  while (!lam_trainer_done (t))
    g_assert_true (lam_trainer_step (t, NULL, &error));

  g_assert_cmpstr (lam_view_hidden_node (g)->name, ==, "act1");
  g_assert_cmpstr (lam_view_logits_node (g)->name, ==, "dense2");
  g_assert_cmpstr (lam_view_first_node (g, LAM_LAYER_DENSE)->name, ==, "dense1");
  g_assert_null (lam_view_first_node (g, LAM_LAYER_CONV2D));

  grid = lam_view_grid_new (s.train, 30, 0.1f);
  g_assert_cmpint (lam_view_grid_get_size (grid), ==, 30);
  lam_view_grid_get_bounds (grid, &xmin, &xmax, &ymin, &ymax);
  g_assert_cmpfloat (xmin, <, -0.9);
  g_assert_cmpfloat (xmax, >, 0.9);
  {
    LamDataset *ds = lam_view_grid_get_dataset (grid);
    g_assert_cmpint (ds->n, ==, 900);
    /* cell centres, row-major from (xmin, ymin) */
    g_assert_cmpfloat (fabs (ds->data[0] - (xmin + (xmax - xmin) / 60)), <, 1e-5);
    g_assert_cmpfloat (fabs (ds->data[2 * 31 + 1] - (ymin + 1.5f * (ymax - ymin) / 30)), <, 1e-5);
  }

  probs = g_new (float, 900 * 2);
  g_assert_true (lam_view_grid_evaluate (t, grid, probs, 2, "act1", &units, &n_units, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_units, ==, 8);
  for (int i = 0; i < 900; i++)
    {
      g_assert_cmpfloat (fabs (probs[2 * i] + probs[2 * i + 1] - 1), <, 1e-5);
      g_assert_cmpfloat (fabs (units[i]), <=, 1);   /* tanh */
    }
  /* batched, the same numbers as one point at a time */
  for (int p = 0; p < 900; p += 89)
    {
      float **acts = lam_trainer_activations (t, lam_view_grid_get_dataset (grid), p, &error);
      const LamGraph *gg = lam_net_graph (lam_trainer_net (t));
      int nk = 0;
      g_autofree float *one = lam_view_probabilities (gg, acts, &nk);
      g_assert_cmpint (nk, ==, 2);
      for (int k = 0; k < 2; k++)
        g_assert_cmpfloat (fabs (probs[2 * p + k] - one[k]), <, 1e-6);
      for (int u = 0; u < 8; u++)
        g_assert_cmpfloat (fabs (units[u * 900 + p] - acts[lam_graph_index_of (gg, "act1")][u]), <, 1e-6);
      lam_trainer_free_activations (t, acts);
    }
  g_assert_false (lam_view_grid_evaluate (t, grid, probs, 3, NULL, NULL, NULL, &error));
  g_clear_error (&error);

  pred = lam_view_predict (t, s.test, &error);
  g_assert_no_error (error);
  for (int i = 0; i < s.test->n; i++)
    right += pred[i] == s.test->labels[i];
  g_assert_cmpint (right, >, s.test->n * 8 / 10);

  w = lam_view_copy_weights (t, "dense1", &ndim, shape, &ic, &ih, &iw);
  g_assert_nonnull (w);
  g_assert_cmpint (ndim, ==, 2);
  g_assert_cmpint (shape[0], ==, 8);
  g_assert_cmpint (shape[1], ==, 2);
  g_assert_null (lam_view_copy_weights (t, "act1", &ndim, shape, &ic, &ih, &iw));

  {
    float **acts = lam_trainer_activations (t, s.test, 0, &error);
    int k = 0;
    g_autofree float *p = lam_view_probabilities (lam_net_graph (lam_trainer_net (t)), acts, &k);
    g_assert_cmpint (k, ==, 2);
    g_assert_cmpfloat (fabs (p[0] + p[1] - 1), <, 1e-5);
    g_assert_cmpint (p[1] > p[0], ==, pred[0] == 1);
    lam_trainer_free_activations (t, acts);
  }
  lam_train_config_clear (&c);
}

static void
test_view_data_weights (void)
{
  g_autoptr(LamModelFile) m = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tensor = NULL;
  int c, h, w;

  m = lam_model_file_load_preset ("lenet5", &error);
  if (m == NULL)
    {
      g_test_skip (error->message);
      return;
    }
  g_assert_true (lam_graph_validate (m->graph, &error));
  g_assert_cmpstr (lam_view_first_node (m->graph, LAM_LAYER_CONV2D)->name, ==, "conv1");
  g_assert_true (lam_view_weight_tensor (m->graph, "conv2", &tensor, &c, &h, &w));
  g_assert_cmpstr (tensor, ==, "conv2.weight");
  g_assert_cmpint (c, ==, 0);
  g_clear_pointer (&tensor, g_free);
  /* dense1 reads flatten(pool2): 16 channels of 5×5 */
  g_assert_true (lam_view_weight_tensor (m->graph, "dense1", &tensor, &c, &h, &w));
  g_assert_cmpstr (tensor, ==, "dense1.weight");
  g_assert_cmpint (c, ==, 16);
  g_assert_cmpint (h, ==, 5);
  g_assert_cmpint (w, ==, 5);
  g_assert_true (lam_view_weight_tensor (m->graph, "dense2", NULL, &c, &h, &w));
  g_assert_cmpint (c, ==, 0);
  g_assert_false (lam_view_weight_tensor (m->graph, "relu1", NULL, &c, &h, &w));
  g_assert_cmpstr (lam_view_hidden_node (m->graph)->name, ==, "relu3");
}

int
main (int argc, char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gui/views/series/decimate", test_series_decimate);
  g_test_add_func ("/gui/views/series/lookup", test_series_lookup);
  g_test_add_func ("/gui/views/loss-plot/render", test_loss_plot_render);
  g_test_add_func ("/gui/views/loss-plot/value-at", test_loss_plot_value_at);
  g_test_add_func ("/gui/views/loss-plot/properties", test_loss_plot_properties);
  g_test_add_func ("/gui/views/loss-plot/export", test_loss_plot_export);
  g_test_add_func ("/gui/views/loss-plot/perf", test_loss_plot_perf);
  g_test_add_func ("/gui/views/filter-view/conv1", test_filter_view_conv1);
  g_test_add_func ("/gui/views/filter-view/layouts", test_filter_view_layouts);
  g_test_add_func ("/gui/views/feature-view", test_feature_view);
  g_test_add_func ("/gui/views/sample-browser", test_sample_browser);
  g_test_add_func ("/gui/views/prediction-view", test_prediction_view);
  g_test_add_func ("/gui/views/confusion-view", test_confusion_view);
  g_test_add_func ("/gui/views/prediction-texts-fit", test_prediction_texts_fit);
  g_test_add_func ("/gui/views/boundary-view", test_boundary_view);
  g_test_add_func ("/gui/views/data/trainer", test_view_data);
  g_test_add_func ("/gui/views/data/weights", test_view_data_weights);

  return g_test_run ();
}
