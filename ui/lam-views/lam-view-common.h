/* lam-view-common.h: what the views share: colour maps, text, heatmap
 * surfaces, axis ticks and GtkScrollable plumbing. Private to ui/lam-views.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct {
  double r, g, b;
} LamRgb;

typedef enum {
  LAM_CMAP_DIVERGING,   /* -1 blue, 0 white, +1 red */
  LAM_CMAP_SEQUENTIAL,  /* 0..1 viridis */
  LAM_CMAP_GRAY,        /* 0 black, 1 white */
} LamColormap;

void             _lam_cmap             (LamColormap cmap, double t, LamRgb *c);
void             _lam_class_color      (int k, gboolean dark, LamRgb *c);
void             _lam_rgb_mix          (const LamRgb *a, const LamRgb *b, double t, LamRgb *out);

/* Style for one draw: the widget's colour, font and theme darkness. */
typedef struct {
  cairo_t              *cr;
  PangoLayout          *layout;
  PangoFontDescription *font;
  double                font_size;   /* points */
  gboolean              dark;
  GdkRGBA               fg;
  GdkRGBA               bg;          /* for exports only: the views draw on their parent */
  GdkRGBA               accent;
  /* Texts that did not fit at this draw: ellipsized, or past the left or
   * right edge of the widget (upright text only). Views keep the count of
   * their last draw for tests. */
  guint                 n_cut;
  double                dev_x0, dev_x1;   /* the widget's edges in device space */
  gboolean              owns_cr;
} LamViewStyle;

/* The widget's font size in pixels: layouts scale with it. */
double           _lam_widget_em        (GtkWidget *widget);
void             _lam_style_begin      (LamViewStyle *st, GtkWidget *widget, cairo_t *cr);
/* The same style outside a draw, to measure text while computing a
 * layout: the metrics are those of the next draw. */
void             _lam_style_begin_measure (LamViewStyle *st, GtkWidget *widget);
void             _lam_style_end        (LamViewStyle *st);
void             _lam_style_fg         (LamViewStyle *st, double alpha);
void             _lam_style_rgb        (LamViewStyle *st, const LamRgb *c, double alpha);

/* Text at (x, y) aligned by xalign/yalign (0 start, 0.5 centre, 1 end)
 * of its logical box; scale multiplies the base font size; max_width > 0
 * ellipsizes. color NULL: the foreground. Returns the width drawn. */
double           _lam_text             (LamViewStyle *st, const char *text, double x, double y,
                                        double xalign, double yalign, double scale,
                                        PangoWeight weight, const GdkRGBA *color, double alpha,
                                        double max_width);
void             _lam_text_size        (LamViewStyle *st, const char *text, double scale,
                                        PangoWeight weight, double *width, double *height);
/* As _lam_text, at the largest scale from scale down to min_scale at
 * which the text fits max_width; ellipsized only below min_scale. */
double           _lam_text_fit         (LamViewStyle *st, const char *text, double x, double y,
                                        double xalign, double yalign, double scale, double min_scale,
                                        PangoWeight weight, const GdkRGBA *color, double alpha,
                                        double max_width);
/* Text wrapped at word boundaries to width, from (x, y) down; returns
 * the height drawn. */
double           _lam_paragraph        (LamViewStyle *st, const char *text, double x, double y,
                                        double scale, PangoWeight weight, const GdkRGBA *color,
                                        double alpha, double width);

/* Heatmaps as ARGB32 surfaces, one pixel per value: row-major h×w.
 * Diverging maps v/hi to -1..1; the others (v-lo)/(hi-lo) to 0..1. */
cairo_surface_t *_lam_heatmap_new      (const float *v, int w, int h, double lo, double hi,
                                        LamColormap cmap);
/* Three planes (R, G, B) of h×w floats, each v/(2·hi) + 0.5. */
cairo_surface_t *_lam_rgb_planes_new   (const float *v, int w, int h, double hi);
/* Bytes, planar: c = 1 (gray) or 3 (RGB); other c show channel 0. */
cairo_surface_t *_lam_bytes_surface_new(const guint8 *px, int c, int h, int w);
/* Paints s scaled into the rectangle, pixels crisp with NEAREST. */
void             _lam_paint_surface    (cairo_t *cr, cairo_surface_t *s, double x, double y,
                                        double w, double h, cairo_filter_t filter);
/* A horizontal colour bar from lo to hi with end and middle labels. */
void             _lam_draw_colorbar    (LamViewStyle *st, LamColormap cmap, double x, double y,
                                        double w, double h, const char *lo, const char *mid,
                                        const char *hi, const char *caption);

/* Min and max of finite values; FALSE when there are none. */
gboolean         _lam_float_range      (const float *v, gsize n, float *lo, float *hi);
double           _lam_max_abs          (const float *v, gsize n);
/* The q-quantile of |v| (from a histogram): a colour scale that one
 * outlier does not wash out. */
double           _lam_robust_max_abs   (const float *v, gsize n, double q);

/* "Nice" tick positions (1, 2, 5 × 10^k) covering lo..hi; returns the count. */
int              _lam_nice_ticks       (double lo, double hi, int max_ticks, double *ticks,
                                        double *step);
void             _lam_format_value     (double v, double step, char *buf, gsize len);

void             _lam_rounded_rect     (cairo_t *cr, double x, double y, double w, double h,
                                        double r);

/* GtkScrollable plumbing: a widget keeps one LamScroll, overrides the
 * four properties from first_prop, forwards get/set_property, and calls
 * _lam_scroll_configure from size_allocate. Only vertical scrolling. */
typedef struct {
  GtkAdjustment      *adj[2];      /* h, v */
  GtkScrollablePolicy policy[2];
  GtkWidget          *widget;
} LamScroll;

enum {
  LAM_SCROLL_PROP_HADJUSTMENT,
  LAM_SCROLL_PROP_VADJUSTMENT,
  LAM_SCROLL_PROP_HSCROLL_POLICY,
  LAM_SCROLL_PROP_VSCROLL_POLICY,
  LAM_SCROLL_N_PROPS
};

void             _lam_scroll_install   (GObjectClass *klass, guint first_prop);
void             _lam_scroll_init      (LamScroll *s, GtkWidget *widget);
void             _lam_scroll_clear     (LamScroll *s);
gboolean         _lam_scroll_get_property (LamScroll *s, guint first_prop, guint prop_id,
                                           GValue *value);
gboolean         _lam_scroll_set_property (LamScroll *s, guint first_prop, guint prop_id,
                                           const GValue *value);
void             _lam_scroll_configure (LamScroll *s, int width, int height, double content_height);
double           _lam_scroll_offset    (LamScroll *s);
/* Scrolls so that y0..y1 (content coordinates) is visible. */
void             _lam_scroll_show      (LamScroll *s, double y0, double y1);

G_END_DECLS
