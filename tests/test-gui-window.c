/* test-gui-window.c: the Lamina window, driven through its own signal
 * handlers: drops from the palette, drags between ports, keys, actions,
 * files, and a rendering of the window whose pixels are checked.
 *
 * Needs an X display (Xvfb) and GTK_A11Y=none, GSK_RENDERER=cairo:
 *   xvfb-run -a -s "-screen 0 1280x800x24" meson test -C build --suite gui
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "test-gui-window"

#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "lam-layer-style.h"
#include "lam-window-private.h"

static LamApplication *app;
static char *tmpdir;

/* ------------------------------------------------------------------ */
/* Helpers */

static void
iterate (void)
{
  for (int i = 0; i < 5; i++)
    while (g_main_context_iteration (NULL, FALSE))
      ;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until the widget is drawn at a size (5 s at most). */
static void
wait_mapped (GtkWidget *w)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (5000, timeout_cb, &timed_out);

  while (!timed_out && !(gtk_widget_get_mapped (w) && gtk_widget_get_width (w) > 0))
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
  /* let size allocation and the first frame settle */
  for (int i = 0; i < 10; i++)
    {
      gboolean t = FALSE;
      g_timeout_add (10, timeout_cb, &t);
      while (!t)
        g_main_context_iteration (NULL, TRUE);
    }
}

static LamWindow *
new_window (void)
{
  LamWindow *win = lam_window_new (app);

  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 760);
  gtk_window_present (GTK_WINDOW (win));
  iterate ();
  return win;
}

static LamWindow *
new_window_with_preset (const char *preset)
{
  LamWindow *win = new_window ();

  g_assert_true (_lam_window_open_preset (win, preset));
  wait_mapped (GTK_WIDGET (win->graph_view));
  return win;
}

static LamWindow *
new_empty_window (void)
{
  LamWindow *win = new_window ();

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "document.new-empty", NULL));
  wait_mapped (GTK_WIDGET (win->graph_view));
  return win;
}

static void
close_window (LamWindow *win)
{
  win->closing = TRUE;
  gtk_window_destroy (GTK_WINDOW (win));
  iterate ();
}

static gpointer
find_controller (GtkWidget *w, GType type, guint button)
{
  g_autoptr(GListModel) list = gtk_widget_observe_controllers (w);

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (list, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type)
          && (button == 0 || !GTK_IS_GESTURE_SINGLE (c)
              || gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (c)) == button))
        return c;   /* the widget keeps it alive */
    }
  return NULL;
}

/* A drop from the palette, as GtkDropTarget delivers it. */
static const char *
drop_layer (LamWindow *win, LamLayerKind kind, double x, double y)
{
  GtkDropTarget *target = find_controller (GTK_WIDGET (win->graph_view), GTK_TYPE_DROP_TARGET, 0);
  GValue value = G_VALUE_INIT;
  gboolean accepted = FALSE;

  g_assert_nonnull (target);
  g_value_init (&value, LAM_TYPE_LAYER_KIND);
  g_value_set_enum (&value, kind);
  g_signal_emit_by_name (target, "drop", &value, x, y, &accepted);
  g_value_unset (&value);
  g_assert_true (accepted);
  iterate ();
  return lam_graph_view_get_selected (win->graph_view);
}

/* A primary-button drag on the canvas, from (x, y) by (dx, dy). */
static void
drag (LamWindow *win, double x, double y, double dx, double dy)
{
  GtkGestureDrag *gesture = find_controller (GTK_WIDGET (win->graph_view), GTK_TYPE_GESTURE_DRAG,
                                             GDK_BUTTON_PRIMARY);

  g_assert_nonnull (gesture);
  g_signal_emit_by_name (gesture, "drag-begin", x, y);
  for (int i = 1; i <= 5; i++)
    g_signal_emit_by_name (gesture, "drag-update", dx * i / 5, dy * i / 5);
  g_signal_emit_by_name (gesture, "drag-end", dx, dy);
  iterate ();
}

/* Drags a wire from a's output port to the middle of b. */
static void
drag_connect (LamWindow *win, const char *a, const char *b)
{
  graphene_rect_t ra, rb;

  g_assert_true (lam_graph_view_get_node_area (win->graph_view, a, &ra));
  g_assert_true (lam_graph_view_get_node_area (win->graph_view, b, &rb));
  drag (win, ra.origin.x + ra.size.width, ra.origin.y + ra.size.height / 2,
        rb.origin.x + rb.size.width / 2 - (ra.origin.x + ra.size.width),
        rb.origin.y + rb.size.height / 2 - (ra.origin.y + ra.size.height / 2));
}

static GtkWidget *
find_descendant (GtkWidget *w, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (w, type))
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_descendant (c, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
press_key (GtkWidget *w, guint keyval, GdkModifierType state)
{
  GtkEventControllerKey *key = find_controller (w, GTK_TYPE_EVENT_CONTROLLER_KEY, 0);
  gboolean handled = FALSE;

  g_assert_nonnull (key);
  g_signal_emit_by_name (key, "key-pressed", keyval, 0, state, &handled);
  iterate ();
  return handled;
}

static gboolean
has_edge (LamNetwork *net, const char *from, const char *to)
{
  const LamNode *n = lam_network_get_node (net, to);
  return n != NULL && g_ptr_array_find_with_equal_func (n->inputs, from, g_str_equal, NULL);
}

static gboolean
train_enabled (LamWindow *win)
{
  /* the Train button follows train.start's enabled state */
  return gtk_widget_get_sensitive (win->train_button);
}

/* The message dialogs open on top of win, newest last. */
static AdwMessageDialog *
find_dialog (LamWindow *win)
{
  GListModel *tops = gtk_window_get_toplevels ();   /* borrowed */
  AdwMessageDialog *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (tops); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (tops, i);
      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_window_get_transient_for (GTK_WINDOW (w)) == GTK_WINDOW (win)
          && gtk_widget_get_visible (GTK_WIDGET (w)))
        found = ADW_MESSAGE_DIALOG (w);
    }
  return found;
}

static void
respond (AdwMessageDialog *dialog, const char *response)
{
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, response);   /* the dialog closes itself */
  iterate ();
}

static GdkTexture *
render (GtkWidget *w)
{
  int width = gtk_widget_get_width (w), height = gtk_widget_get_height (w);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (w);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (w));

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

typedef struct {
  guchar r, g, b;
} Pixel;

static Pixel
pixel_at (GdkTexture *t, int x, int y)
{
  int w = gdk_texture_get_width (t), h = gdk_texture_get_height (t);
  g_autofree guchar *data = g_malloc ((gsize) w * h * 4);

  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, w);
  g_assert_cmpint (y, <, h);
  gdk_texture_download (t, data, (gsize) w * 4);
  /* cairo's ARGB32, little-endian: B G R A */
  return (Pixel) { data[(y * w + x) * 4 + 2], data[(y * w + x) * 4 + 1], data[(y * w + x) * 4 + 0] };
}

static gboolean
near (Pixel p, const GdkRGBA *c, int tolerance)
{
  return ABS (p.r - (int) (c->red * 255 + 0.5)) <= tolerance && ABS (p.g - (int) (c->green * 255 + 0.5)) <= tolerance
      && ABS (p.b - (int) (c->blue * 255 + 0.5)) <= tolerance;
}

/* (x, y) in the canvas, in the window's coordinates. */
static graphene_point_t
in_window (LamWindow *win, double x, double y)
{
  graphene_point_t out;

  g_assert_true (gtk_widget_compute_point (GTK_WIDGET (win->graph_view), GTK_WIDGET (win),
                                           &GRAPHENE_POINT_INIT (x, y), &out));
  return out;
}

/* ------------------------------------------------------------------ */
/* Tests */

static void
test_start_view (void)
{
  LamWindow *win = new_window ();

  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->main_stack), ==, "start");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "Lamina");
  g_assert_false (train_enabled (win));
  /* a preset card is an action */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "document.open-preset", "s", "mlp"));
  iterate ();
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->main_stack), ==, "editor");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "MLP — Lamina");
  g_assert_true (train_enabled (win));
  close_window (win);
}

static void
test_drop_and_palette (void)
{
  LamWindow *win = new_empty_window ();
  GtkDragSource *source;
  g_autoptr(GdkContentProvider) content = NULL;
  GValue value = G_VALUE_INIT;
  const char *name;
  int n_before;

  g_assert_cmpuint (lam_network_get_graph (win->network)->nodes->len, ==, 0);
  g_assert_false (train_enabled (win));

  /* the palette row offers the kind... */
  source = find_controller (lam_palette_get_row (win->palette, LAM_LAYER_CONV2D), GTK_TYPE_DRAG_SOURCE, 0);
  g_assert_nonnull (source);
  g_signal_emit_by_name (source, "prepare", 10.0, 10.0, &content);
  g_assert_nonnull (content);
  g_value_init (&value, LAM_TYPE_LAYER_KIND);
  g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
  g_assert_cmpint (g_value_get_enum (&value), ==, LAM_LAYER_CONV2D);
  g_value_unset (&value);

  /* ...and the canvas takes it where it is dropped */
  name = drop_layer (win, LAM_LAYER_CONV2D, 300, 200);
  g_assert_cmpstr (name, ==, "conv1");
  {
    graphene_rect_t r;
    g_assert_true (lam_graph_view_get_node_area (win->graph_view, "conv1", &r));
    g_assert_cmpfloat (ABS (r.origin.x + r.size.width / 2 - 300), <, 10 * lam_graph_view_get_zoom (win->graph_view));
    g_assert_cmpfloat (ABS (r.origin.y + r.size.height / 2 - 200), <, 10 * lam_graph_view_get_zoom (win->graph_view));
  }
  g_assert_cmpstr (lam_inspector_get_node (win->inspector), ==, "conv1");
  g_assert_true (g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (win)), "• "));
  g_assert_cmpstr (gtk_label_get_text (win->layers_label), ==, "1 layer");

  /* Enter on a palette row adds at the centre, beside what is there */
  n_before = lam_network_get_graph (win->network)->nodes->len;
  g_signal_emit_by_name (win->palette, "layer-activated", LAM_LAYER_DENSE);
  g_signal_emit_by_name (win->palette, "layer-activated", LAM_LAYER_DENSE);
  iterate ();
  g_assert_cmpint (lam_network_get_graph (win->network)->nodes->len, ==, n_before + 2);
  {
    const LamNode *a = lam_network_get_node (win->network, "dense1");
    const LamNode *b = lam_network_get_node (win->network, "dense2");
    g_assert_true (a->x != b->x || a->y != b->y);
  }
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "dense2");

  /* graph.add-layer does the same by type name */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.add-layer", "s", "ReLU"));
  g_assert_nonnull (lam_network_get_node (win->network, "relu1"));
  close_window (win);
}

static void
test_connect_delete_undo (void)
{
  LamWindow *win = new_empty_window ();
  LamNetwork *net = win->network;
  g_autofree char *built = NULL;

  drop_layer (win, LAM_LAYER_INPUT, 120, 200);
  drop_layer (win, LAM_LAYER_DENSE, 360, 200);
  drop_layer (win, LAM_LAYER_SOFTMAX_XENT, 600, 200);
  g_assert_false (train_enabled (win));
  g_assert_true (gtk_revealer_get_reveal_child (win->problem_revealer));

  drag_connect (win, "input1", "dense1");
  g_assert_true (has_edge (net, "input1", "dense1"));
  drag_connect (win, "dense1", "loss1");
  g_assert_true (has_edge (net, "dense1", "loss1"));
  g_assert_true (lam_network_get_valid (net));
  g_assert_true (train_enabled (win));
  g_assert_false (gtk_revealer_get_reveal_child (win->problem_revealer));
  built = lam_network_to_json (net);

  /* a wire dropped on nothing connects nothing */
  {
    graphene_rect_t r;
    lam_graph_view_get_node_area (win->graph_view, "dense1", &r);
    drag (win, r.origin.x + r.size.width, r.origin.y + r.size.height / 2, 30, 250);
    g_assert_cmpuint (lam_network_get_node (net, "loss1")->inputs->len, ==, 1);
  }

  /* Delete from the canvas: the layer and its connections go */
  lam_graph_view_select (win->graph_view, "dense1");
  gtk_widget_grab_focus (GTK_WIDGET (win->graph_view));
  g_assert_true (press_key (GTK_WIDGET (win->graph_view), GDK_KEY_Delete, 0));
  g_assert_null (lam_network_get_node (net, "dense1"));
  g_assert_cmpuint (lam_network_get_node (net, "loss1")->inputs->len, ==, 0);
  g_assert_false (train_enabled (win));
  g_assert_cmpuint (lam_graph_view_get_n_selected (win->graph_view), ==, 0);

  /* Undo brings both back; redo deletes again */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  iterate ();
  g_assert_true (has_edge (net, "input1", "dense1"));
  g_assert_true (has_edge (net, "dense1", "loss1"));
  g_assert_true (train_enabled (win));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.redo", NULL));
  iterate ();
  g_assert_null (lam_network_get_node (net, "dense1"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  iterate ();
  {
    g_autofree char *json = lam_network_to_json (net);
    g_assert_cmpstr (json, ==, built);
  }

  /* Disconnect by clicking the wire, then Delete */
  {
    graphene_rect_t a, b;
    lam_graph_view_get_node_area (win->graph_view, "dense1", &a);
    lam_graph_view_get_node_area (win->graph_view, "loss1", &b);
    drag (win, (a.origin.x + a.size.width + b.origin.x) / 2, a.origin.y + a.size.height / 2, 0, 0);
    g_assert_true (lam_graph_view_has_selected_edge (win->graph_view));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.delete", NULL));
    g_assert_false (has_edge (net, "dense1", "loss1"));
    g_assert_nonnull (lam_network_get_node (net, "dense1"));
  }

  /* Undo every step back to the empty network, and redo them all */
  while (lam_network_get_can_undo (net))
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  g_assert_cmpuint (lam_network_get_graph (net)->nodes->len, ==, 0);
  g_assert_false (lam_network_get_modified (net));
  g_assert_false (g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (win)), "• "));
  while (lam_network_get_can_redo (net))
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.redo", NULL));
  g_assert_false (has_edge (net, "dense1", "loss1"));
  g_assert_true (has_edge (net, "input1", "dense1"));
  close_window (win);
}

static void
test_move_duplicate_tidy (void)
{
  LamWindow *win = new_window_with_preset ("lenet5");
  LamNetwork *net = win->network;
  graphene_rect_t r;
  double x0 = lam_network_get_node (net, "conv1")->x;
  double zoom = lam_graph_view_get_zoom (win->graph_view);

  /* drag a node by its body */
  g_assert_true (lam_graph_view_get_node_area (win->graph_view, "conv1", &r));
  drag (win, r.origin.x + 20, r.origin.y + 50, 40, 80);
  g_assert_cmpfloat (ABS (lam_network_get_node (net, "conv1")->x - (x0 + 40 / zoom)), <, 1e-6);
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "conv1");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  g_assert_cmpfloat (lam_network_get_node (net, "conv1")->x, ==, x0);

  /* Ctrl+D duplicates the selection and selects the copy */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.duplicate", NULL));
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "conv3");
  g_assert_cmpint (lam_network_get_node (net, "conv3")->p.filters, ==, 6);
  g_assert_false (train_enabled (win));   /* the copy leads nowhere */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  g_assert_true (train_enabled (win));

  /* rubber band over the first three layers */
  {
    graphene_rect_t a, c;
    lam_graph_view_get_node_area (win->graph_view, "input", &a);
    lam_graph_view_get_node_area (win->graph_view, "relu1", &c);
    drag (win, a.origin.x - 10, a.origin.y - 10, c.origin.x + 20 - (a.origin.x - 10), a.size.height + 20);
    g_assert_cmpuint (lam_graph_view_get_n_selected (win->graph_view), ==, 3);
  }

  /* tidy up is one undoable step */
  lam_network_move_nodes (net, (const char *[]) { "pool1", NULL }, 0, 300);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.tidy", NULL));
  g_assert_cmpfloat (lam_network_get_node (net, "pool1")->y, ==, lam_network_get_node (net, "conv1")->y);
  g_assert_cmpstr (lam_network_get_undo_label (net), ==, "Tidy up");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  g_assert_cmpfloat (lam_network_get_node (net, "pool1")->y, ==, lam_network_get_node (net, "conv1")->y + 300);
  close_window (win);
}

static void
test_keyboard (void)
{
  LamWindow *win = new_window_with_preset ("lenet5");
  GtkWidget *view = GTK_WIDGET (win->graph_view);
  LamNetwork *net = win->network;
  double x;

  gtk_widget_grab_focus (view);
  g_assert_true (press_key (view, GDK_KEY_Tab, 0));
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "input");
  g_assert_true (press_key (view, GDK_KEY_Right, 0));
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "conv1");
  g_assert_true (press_key (view, GDK_KEY_Tab, 0));
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "relu1");
  g_assert_true (press_key (view, GDK_KEY_ISO_Left_Tab, GDK_SHIFT_MASK));
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "conv1");
  g_assert_false (press_key (view, GDK_KEY_Tab, GDK_CONTROL_MASK));   /* Ctrl+Tab leaves */

  /* Ctrl+arrows move, in one undo step */
  x = lam_network_get_node (net, "conv1")->x;
  press_key (view, GDK_KEY_Right, GDK_CONTROL_MASK);
  press_key (view, GDK_KEY_Right, GDK_CONTROL_MASK);
  g_assert_cmpfloat (lam_network_get_node (net, "conv1")->x, ==, x + 20);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  g_assert_cmpfloat (lam_network_get_node (net, "conv1")->x, ==, x);

  /* zoom keys */
  {
    double z = lam_graph_view_get_zoom (win->graph_view);
    press_key (view, GDK_KEY_plus, 0);
    g_assert_cmpfloat (lam_graph_view_get_zoom (win->graph_view), >, z);
    press_key (view, GDK_KEY_minus, 0);
    press_key (view, GDK_KEY_minus, 0);
    g_assert_cmpfloat (lam_graph_view_get_zoom (win->graph_view), <, z);
    press_key (view, GDK_KEY_0, 0);
    g_assert_cmpfloat (lam_graph_view_get_zoom (win->graph_view), <=, 1.0);
  }

  /* a pinch zooms, a scroll pans */
  {
    GtkGestureZoom *pinch = find_controller (view, GTK_TYPE_GESTURE_ZOOM, 0);
    GtkEventControllerScroll *scroll = find_controller (view, GTK_TYPE_EVENT_CONTROLLER_SCROLL, 0);
    double z = lam_graph_view_get_zoom (win->graph_view);
    graphene_rect_t before, after;
    gboolean handled = FALSE;

    g_assert_nonnull (pinch);
    g_signal_emit_by_name (pinch, "begin", NULL);
    g_signal_emit_by_name (pinch, "scale-changed", 1.5);
    g_assert_cmpfloat (ABS (lam_graph_view_get_zoom (win->graph_view) - z * 1.5), <, 1e-9);
    g_assert_nonnull (scroll);
    lam_graph_view_get_node_area (win->graph_view, "conv1", &before);
    g_signal_emit_by_name (scroll, "scroll", 0.0, 1.0, &handled);
    lam_graph_view_get_node_area (win->graph_view, "conv1", &after);
    g_assert_true (handled);
    g_assert_cmpfloat (after.origin.y, <, before.origin.y);
    g_assert_cmpfloat (after.origin.x, ==, before.origin.x);
  }

  /* Enter goes to the inspector, which edits the parameters */
  lam_graph_view_select (win->graph_view, "conv1");
  g_assert_true (press_key (view, GDK_KEY_Return, 0));
  {
    GtkWidget *filters = lam_inspector_get_param_widget (win->inspector, "filters");
    g_assert_true (GTK_IS_SPIN_BUTTON (filters));
    g_assert_true (gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (win)), filters)
                   || gtk_root_get_focus (GTK_ROOT (win)) == filters);
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (filters), 12);
    iterate ();
    g_assert_cmpint (lam_network_get_node (net, "conv1")->p.filters, ==, 12);
    /* the engine re-validated at once: the shape follows */
    g_assert_cmpint (lam_network_get_node (net, "conv1")->out_shape.d[0], ==, 12);
    /* the spin button is bounded by the parameter's range */
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (filters), 1e6);
    iterate ();
    g_assert_cmpint (lam_network_get_node (net, "conv1")->p.filters, ==, 4096);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
    iterate ();
    g_assert_cmpint (lam_network_get_node (net, "conv1")->p.filters, ==, 6);
    g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (filters)), ==, 6);
  }

  /* Delete from the keyboard; Escape selects nothing */
  lam_graph_view_select (win->graph_view, "relu4");
  gtk_widget_grab_focus (view);
  press_key (view, GDK_KEY_Delete, 0);
  g_assert_null (lam_network_get_node (net, "relu4"));
  press_key (view, GDK_KEY_Escape, 0);
  g_assert_cmpuint (lam_graph_view_get_n_selected (win->graph_view), ==, 0);
  close_window (win);
}

/* Activates the capture-phase shortcut a field has for keyval+state (as
 * a key press in the field would, before its text sees it). Returns
 * whether the field has one. */
static gboolean
field_shortcut (GtkWidget *w, guint keyval, GdkModifierType state)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (w);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);
      if (!GTK_IS_SHORTCUT_CONTROLLER (c)
          || gtk_event_controller_get_propagation_phase (GTK_EVENT_CONTROLLER (c)) != GTK_PHASE_CAPTURE)
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (c)); k++)
        {
          g_autoptr(GtkShortcut) sc = g_list_model_get_item (G_LIST_MODEL (c), k);
          GtkShortcutTrigger *t = gtk_shortcut_get_trigger (sc);
          if (GTK_IS_KEYVAL_TRIGGER (t) && gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (t)) == keyval
              && gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (t)) == state)
            {
              gtk_shortcut_action_activate (gtk_shortcut_get_action (sc), GTK_SHORTCUT_ACTION_EXCLUSIVE, w,
                                            gtk_shortcut_get_arguments (sc));
              return TRUE;
            }
        }
    }
  return FALSE;
}

static void
test_inspector_edits (void)
{
  LamWindow *win = new_window_with_preset ("mlp");
  LamNetwork *net = win->network;
  const LamGraph *g = lam_network_get_graph (net);
  const LamNode *dense = NULL;
  g_autofree char *name = NULL;

  for (guint i = 0; i < g->nodes->len && dense == NULL; i++)
    if (((LamNode *) g_ptr_array_index (g->nodes, i))->kind == LAM_LAYER_DENSE)
      dense = g_ptr_array_index (g->nodes, i);
  g_assert_nonnull (dense);
  name = g_strdup (dense->name);

  lam_graph_view_select (win->graph_view, name);
  iterate ();
  /* a switch for booleans */
  {
    GtkWidget *bias = lam_inspector_get_param_widget (win->inspector, "bias");
    g_assert_true (GTK_IS_SWITCH (bias));
    gtk_switch_set_active (GTK_SWITCH (bias), FALSE);
    iterate ();
    g_assert_cmpint (lam_network_get_node (net, name)->p.bias, ==, 0);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
    g_assert_cmpint (lam_network_get_node (net, name)->p.bias, ==, 1);
  }
  /* a number field: its value is an undo step, and Ctrl+Z typed in the
   * field undoes that step (not the field's text, which would empty it) */
  {
    GtkWidget *units = lam_inspector_get_param_widget (win->inspector, "units");
    g_assert_true (GTK_IS_SPIN_BUTTON (units));
    int before = lam_network_get_node (net, name)->p.units;
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (units), before + 7);
    iterate ();
    g_assert_cmpint (lam_network_get_node (net, name)->p.units, ==, before + 7);
    g_assert_false (gtk_editable_get_enable_undo (GTK_EDITABLE (units)));
    g_assert_true (field_shortcut (units, GDK_KEY_z, GDK_CONTROL_MASK));
    iterate ();
    g_assert_cmpint (lam_network_get_node (net, name)->p.units, ==, before);
    g_assert_cmpint ((int) gtk_spin_button_get_value (GTK_SPIN_BUTTON (units)), ==, before);
    g_assert_true (field_shortcut (units, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK));
    iterate ();
    g_assert_cmpint (lam_network_get_node (net, name)->p.units, ==, before + 7);
    g_assert_true (field_shortcut (units, GDK_KEY_y, GDK_CONTROL_MASK));   /* nothing to redo: refused */
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
    iterate ();
  }
  /* the name row renames on apply, and refuses bad names */
  {
    GtkWidget *row = find_descendant (GTK_WIDGET (win->inspector), ADW_TYPE_ENTRY_ROW);
    g_assert_nonnull (row);
    gtk_editable_set_text (GTK_EDITABLE (row), "not a name!");
    g_signal_emit_by_name (row, "apply");
    iterate ();
    g_assert_nonnull (lam_network_get_node (net, name));
    g_assert_true (gtk_widget_has_css_class (row, "error"));
    gtk_editable_set_text (GTK_EDITABLE (row), "features");
    g_signal_emit_by_name (row, "apply");
    iterate ();
    g_assert_nonnull (lam_network_get_node (net, "features"));
    g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "features");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
    iterate ();
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (row)), ==, name);
  }

  /* rename through the network keeps the selection on the layer */
  g_assert_true (lam_network_rename_node (net, name, "hidden", NULL));
  iterate ();
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "hidden");
  g_assert_cmpstr (lam_inspector_get_node (win->inspector), ==, "hidden");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  iterate ();
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, name);
  close_window (win);
}

/* Connecting from the keyboard: the inspector's "Connect input from". */
static void
test_inspector_connect (void)
{
  LamWindow *win = new_empty_window ();
  GtkWidget *combo, *button;
  GListModel *choices;

  drop_layer (win, LAM_LAYER_INPUT, 120, 200);
  drop_layer (win, LAM_LAYER_DENSE, 360, 200);
  g_assert_cmpstr (lam_inspector_get_node (win->inspector), ==, "dense1");

  combo = find_descendant (GTK_WIDGET (win->inspector), ADW_TYPE_COMBO_ROW);   /* the inputs' comes first */
  g_assert_nonnull (combo);
  g_assert_true (gtk_widget_get_visible (gtk_widget_get_ancestor (combo, ADW_TYPE_PREFERENCES_GROUP)));
  choices = adw_combo_row_get_model (ADW_COMBO_ROW (combo));
  g_assert_cmpuint (g_list_model_get_n_items (choices), ==, 1);
  adw_combo_row_set_selected (ADW_COMBO_ROW (combo), 0);
  button = find_descendant (combo, GTK_TYPE_BUTTON);
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
  iterate ();
  g_assert_true (has_edge (win->network, "input1", "dense1"));
  /* nothing else can feed it: input1 already does, and a layer cannot feed itself */
  g_assert_cmpuint (g_list_model_get_n_items (choices), ==, 0);
  g_assert_false (gtk_widget_get_visible (gtk_widget_get_ancestor (combo, ADW_TYPE_PREFERENCES_GROUP)));
  close_window (win);
}

static void
test_invalid_graph (void)
{
  LamWindow *win = new_window_with_preset ("lenet5");
  LamNetwork *net = win->network;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *png = NULL;
  const LamNode *conv2;
  graphene_rect_t r;
  GdkRGBA error_color;
  Pixel p;

  g_assert_true (train_enabled (win));
  g_assert_true (lam_network_set_param (net, "conv2", "kernel", 15));
  iterate ();
  conv2 = lam_network_get_node (net, "conv2");
  g_assert_nonnull (conv2->error);
  g_assert_false (lam_network_get_valid (net));
  g_assert_false (train_enabled (win));
  g_assert_true (gtk_revealer_get_reveal_child (win->problem_revealer));
  g_assert_nonnull (strstr (gtk_label_get_text (win->problem_label), "Cannot train yet"));
  g_assert_nonnull (strstr (gtk_label_get_text (win->problem_label), "conv2"));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (win->train_button), "conv2"));

  /* "Show" selects the layer with the problem; the inspector shows the message */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.show-problem", NULL));
  g_assert_cmpstr (lam_graph_view_get_selected (win->graph_view), ==, "conv2");
  lam_graph_view_select (win->graph_view, NULL);   /* keep the red outline unselected for the pixels */
  wait_mapped (GTK_WIDGET (win->graph_view));

  /* the outline is red */
  texture = render (GTK_WIDGET (win));
  png = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                          "test-gui-invalid.png", NULL);
  gdk_texture_save_to_png (texture, png);
  g_assert_true (lam_graph_view_get_node_area (win->graph_view, "conv2", &r));
  {
    graphene_point_t at = in_window (win, r.origin.x + r.size.width / 2, r.origin.y - 2);
    GtkStyleContext *ctx = gtk_widget_get_style_context (GTK_WIDGET (win->graph_view));
    g_assert_true (gtk_style_context_lookup_color (ctx, "error_color", &error_color));
    p = pixel_at (texture, (int) at.x, (int) at.y);
    g_test_message ("outline pixel %d,%d,%d", p.r, p.g, p.b);
    /* the error colour, anti-aliased against the canvas */
    g_assert_cmpint (p.r, >, 150);
    g_assert_cmpint (p.r - p.g, >, 80);
    g_assert_cmpint (p.r - p.b, >, 80);
    g_assert_true (error_color.red > error_color.green + 0.3);
  }

  /* fixing it enables Train again */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "graph.undo", NULL));
  iterate ();
  g_assert_true (train_enabled (win));
  g_assert_false (gtk_revealer_get_reveal_child (win->problem_revealer));
  close_window (win);
}

static void
test_render_png (void)
{
  LamWindow *win = new_window_with_preset ("lenet5");
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *png = NULL;
  graphene_rect_t r;
  GdkRGBA conv_color, input_color;
  Pixel header, input_header, background;

  lam_graph_view_select (win->graph_view, "conv1");
  wait_mapped (GTK_WIDGET (win->graph_view));
  texture = render (GTK_WIDGET (win));
  png = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                          "test-gui-window.png", NULL);
  g_assert_true (gdk_texture_save_to_png (texture, png));
  g_test_message ("saved %s", png);

  /* the header of conv1 has the colour of its group, and is drawn */
  lam_layer_group_color (lam_layer_group_of (LAM_LAYER_CONV2D), &conv_color);
  lam_layer_group_color (lam_layer_group_of (LAM_LAYER_INPUT), &input_color);
  g_assert_true (lam_graph_view_get_node_area (win->graph_view, "conv1", &r));
  {
    /* a point in the header right of the title */
    graphene_point_t at = in_window (win, r.origin.x + r.size.width - 6, r.origin.y + 6);
    header = pixel_at (texture, (int) at.x, (int) at.y);
  }
  g_assert_true (lam_graph_view_get_node_area (win->graph_view, "input", &r));
  {
    graphene_point_t at = in_window (win, r.origin.x + r.size.width - 6, r.origin.y + 6);
    input_header = pixel_at (texture, (int) at.x, (int) at.y);
  }
  {
    graphene_point_t at = in_window (win, 5, 5);
    background = pixel_at (texture, (int) at.x, (int) at.y);
  }
  g_test_message ("conv1 header %d,%d,%d; input header %d,%d,%d; background %d,%d,%d",
                  header.r, header.g, header.b, input_header.r, input_header.g, input_header.b,
                  background.r, background.g, background.b);
  g_assert_true (near (header, &conv_color, 2));
  g_assert_true (near (input_header, &input_color, 2));
  g_assert_false (near (background, &conv_color, 60));
  close_window (win);
}

static char *
write_tmp (const char *name, const char *contents, gssize len)
{
  char *path = g_build_filename (tmpdir, name, NULL);
  g_assert_true (g_file_set_contents (path, contents, len, NULL));
  return path;
}

static void
test_save_and_reopen (void)
{
  LamWindow *win = new_window_with_preset ("resnet");
  LamWindow *win2;
  g_autofree char *path = g_build_filename (tmpdir, "resnet-edited.json", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = NULL, *ours = NULL, *theirs = NULL;

  lam_network_set_param (win->network, "fc", "units", 12);
  lam_network_move_nodes (win->network, (const char *[]) { "gap", NULL }, 12.5, -3);
  g_assert_true (g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (win)), "• "));
  g_assert_true (_lam_window_save_to (win, file, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "ResNet (small) — Lamina");
  g_assert_false (lam_network_get_modified (win->network));
  /* the file is what the network writes */
  g_assert_true (g_file_get_contents (path, &saved, NULL, NULL));
  ours = lam_network_to_json (win->network);
  g_assert_cmpstr (saved, ==, ours);
  /* it is now the most recent file */
  g_assert_cmpstr (lam_application_get_recent (app)[0], ==, path);

  win2 = new_window ();
  g_assert_true (_lam_window_open_file (win2, file));
  iterate ();
  theirs = lam_network_to_json (win2->network);
  g_assert_cmpstr (theirs, ==, ours);
  g_assert_cmpint (lam_network_get_node (win2->network, "fc")->p.units, ==, 12);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win2->main_stack), ==, "editor");
  g_assert_true (win2->file != NULL && g_file_equal (win2->file, file));
  close_window (win2);
  close_window (win);
}

static void
test_hostile_files (void)
{
  LamWindow *win = new_window_with_preset ("lenet5");
  g_autofree char *before = NULL;
  g_autofree char *deep = NULL;
  static const char png_bytes[] = "\x89PNG\r\n\x1a\n\0\0\0garbage";
  struct { const char *name; const char *json; const char *expect; gssize len; } cases[] = {
    { "broken.json", "{ \"format\": \"lamina-model\", \"nodes\": [", "broken.json", -1 },
    { "not-json.json", png_bytes, "not-json.json", sizeof png_bytes - 1 },
    { "nodes-number.json", "{\"format\": \"lamina-model\", \"version\": 1, \"nodes\": 3}", "nodes", -1 },
    { "unknown-layer.json", "{\"format\": \"lamina-model\", \"version\": 1, \"nodes\": [{\"name\": \"x\", \"type\": \"Rootkit\"}]}", "Rootkit", -1 },
    { "dangling.json", "{\"format\": \"lamina-model\", \"version\": 1, \"nodes\": [{\"name\": \"a\", \"type\": \"ReLU\", \"inputs\": [\"ghost\"]}]}", "ghost", -1 },
    { "huge-param.json", "{\"format\": \"lamina-model\", \"version\": 1, \"nodes\": [{\"name\": \"d\", \"type\": \"Dense\", \"params\": {\"units\": 99999999999}}]}", "units", -1 },
    { "octal.json", "{\"format\": \"lamina-model\", \"version\": 1, \"name\": \"\\201\", \"nodes\": []}",
      "octal.json: a string is not valid UTF-8 text", -1 },
    { "deep.json", NULL, "deep.json", -1 },
  };

  /* unsaved work that must survive */
  lam_network_set_param (win->network, "dense1", "units", 100);
  before = lam_network_to_json (win->network);

  /* nesting deeper than any parser's stack should take */
  {
    GString *s = g_string_new ("{\"format\": \"lamina-model\", \"nodes\": ");
    for (int i = 0; i < 100000; i++)
      g_string_append_c (s, '[');
    deep = g_string_free (s, FALSE);
  }
  cases[G_N_ELEMENTS (cases) - 1].json = deep;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_tmp (cases[i].name, cases[i].json, cases[i].len);
      g_autoptr(GFile) file = g_file_new_for_path (path);
      g_autofree char *after = NULL;
      AdwMessageDialog *dialog;

      g_test_message ("opening %s", cases[i].name);
      g_assert_false (_lam_window_open_file (win, file));
      iterate ();
      dialog = find_dialog (win);
      g_assert_nonnull (dialog);
      g_test_message ("  %s", adw_message_dialog_get_body (dialog));
      g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), cases[i].expect));
      respond (dialog, "close");
      after = lam_network_to_json (win->network);
      g_assert_cmpstr (after, ==, before);
      g_assert_true (lam_network_get_modified (win->network));
      g_assert_null (win->file);
    }

  /* too big to be a model file: refused before reading */
  {
    g_autofree char *path = g_build_filename (tmpdir, "big.json", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (path);
    FILE *f = fopen (path, "w");
    AdwMessageDialog *dialog;
    g_assert_nonnull (f);
    g_assert_cmpint (fseek (f, 64 << 20, SEEK_SET), ==, 0);
    fputc ('}', f);
    fclose (f);
    g_assert_false (_lam_window_open_file (win, file));
    iterate ();
    dialog = find_dialog (win);
    g_assert_nonnull (dialog);
    g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "big.json"));
    respond (dialog, "close");
    g_unlink (path);
  }
  /* missing */
  {
    g_autofree char *path = g_build_filename (tmpdir, "no-such-file.json", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (path);
    g_assert_false (_lam_window_open_file (win, file));
    iterate ();
    respond (find_dialog (win), "close");
  }
  {
    g_autofree char *after = lam_network_to_json (win->network);
    g_assert_cmpstr (after, ==, before);
  }
  close_window (win);

  /* nodes a file put far away (1e300, and infinity): it opens, and the
   * input is in view, not the empty middle of the nodes' bounds */
  {
    const char *far =
      "{\"format\": \"lamina-model\", \"version\": 1, \"nodes\": ["
      "{\"name\": \"input\", \"type\": \"Input\", \"position\": [40, 200]},"
      "{\"name\": \"flat\", \"type\": \"Flatten\", \"inputs\": [\"input\"], \"position\": [1e300, -1e300]},"
      "{\"name\": \"dense\", \"type\": \"Dense\", \"inputs\": [\"flat\"], \"position\": [-1e15, 1e999]},"
      "{\"name\": \"loss\", \"type\": \"SoftmaxCrossEntropy\", \"inputs\": [\"dense\"], \"position\": [380, 200]}]}";
    g_autofree char *path = write_tmp ("far.json", far, -1);
    g_autoptr(GFile) file = g_file_new_for_path (path);
    LamWindow *win2 = new_window ();
    graphene_rect_t r;

    g_assert_true (_lam_window_open_file (win2, file));
    wait_mapped (GTK_WIDGET (win2->graph_view));
    iterate ();
    g_assert_cmpfloat (lam_network_get_node (win2->network, "flat")->x, ==, 100000);
    g_assert_true (lam_graph_view_get_node_area (win2->graph_view, "input", &r));
    g_test_message ("input at %.0f,%.0f in a %d×%d canvas", r.origin.x, r.origin.y,
                    gtk_widget_get_width (GTK_WIDGET (win2->graph_view)),
                    gtk_widget_get_height (GTK_WIDGET (win2->graph_view)));
    g_assert_cmpfloat (r.origin.x, >=, 0);
    g_assert_cmpfloat (r.origin.y, >=, 0);
    g_assert_cmpfloat (r.origin.x + r.size.width, <=, gtk_widget_get_width (GTK_WIDGET (win2->graph_view)));
    g_assert_cmpfloat (r.origin.y + r.size.height, <=, gtk_widget_get_height (GTK_WIDGET (win2->graph_view)));
    close_window (win2);
  }
}

static void
test_confirm_discard (void)
{
  LamWindow *win = new_window_with_preset ("mlp");
  g_autofree char *before = NULL;
  AdwMessageDialog *dialog;

  lam_network_add_node (win->network, LAM_LAYER_DROPOUT, 0, 0);
  before = lam_network_to_json (win->network);

  /* New asks; Cancel keeps everything */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "document.new", NULL));
  iterate ();
  dialog = find_dialog (win);
  g_assert_nonnull (dialog);
  respond (dialog, "cancel");
  {
    g_autofree char *after = lam_network_to_json (win->network);
    g_assert_cmpstr (after, ==, before);
  }
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->main_stack), ==, "editor");

  /* opening a preset asks too; Discard replaces */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "document.open-preset", "s", "lenet5"));
  iterate ();
  dialog = find_dialog (win);
  g_assert_nonnull (dialog);
  respond (dialog, "discard");
  g_assert_cmpstr (lam_network_get_name (win->network), ==, "LeNet-5");
  g_assert_false (lam_network_get_modified (win->network));

  /* closing a modified window asks; Cancel keeps it open */
  lam_network_add_node (win->network, LAM_LAYER_RELU, 0, 0);
  g_object_ref (win);
  gtk_window_close (GTK_WINDOW (win));
  iterate ();
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (win)));
  respond (find_dialog (win), "cancel");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (win)));
  /* Save with a file writes it, then closes */
  {
    g_autofree char *path = g_build_filename (tmpdir, "close-save.json", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (path);
    g_assert_true (_lam_window_save_to (win, file, NULL));
    lam_network_add_node (win->network, LAM_LAYER_TANH, 0, 0);
    gtk_window_close (GTK_WINDOW (win));
    iterate ();
    respond (find_dialog (win), "save");
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (win)));
    {
      g_autoptr(LamNetwork) check = lam_network_new ();
      g_assert_true (lam_network_load_file (check, path, NULL));
      g_assert_nonnull (lam_network_get_node (check, "tanh1"));
    }
  }
  g_object_unref (win);
  iterate ();
}

static void
test_recent (void)
{
  LamWindow *win = new_window ();
  g_autofree char *path = g_build_filename (tmpdir, "recent.json", NULL);
  g_autofree char *kf_path = g_build_filename (g_get_user_config_dir (), "lamina", "recent.ini", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_auto(GStrv) files = NULL;
  g_autoptr(LamNetwork) net = lam_network_new ();

  g_assert_true (lam_network_load_preset (net, "mlp", NULL));
  g_assert_true (lam_network_save (net, path, NULL));
  lam_application_add_recent (app, path);
  g_assert_true (g_key_file_load_from_file (kf, kf_path, G_KEY_FILE_NONE, NULL));
  files = g_key_file_get_string_list (kf, "Recent", "files", NULL, NULL);
  g_assert_cmpstr (files[0], ==, path);
  /* the menu lists it, and opening it works */
  g_assert_cmpint (g_menu_model_get_n_items (G_MENU_MODEL (win->recent_menu)), >=, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "document.open-recent", "s", path));
  iterate ();
  g_assert_cmpstr (lam_network_get_name (win->network), ==, "MLP");
  close_window (win);
}

int
main (int argc, char **argv)
{
  int ret;

  tmpdir = g_dir_make_tmp ("lamina-gui-XXXXXX", NULL);
  {
    g_autofree char *config = g_build_filename (tmpdir, "config", NULL);
    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  }
  gtk_test_init (&argc, &argv, NULL);

  app = lam_application_new (G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));

  g_test_add_func ("/gui/window/start-view", test_start_view);
  g_test_add_func ("/gui/window/drop-and-palette", test_drop_and_palette);
  g_test_add_func ("/gui/window/connect-delete-undo", test_connect_delete_undo);
  g_test_add_func ("/gui/window/move-duplicate-tidy", test_move_duplicate_tidy);
  g_test_add_func ("/gui/window/keyboard", test_keyboard);
  g_test_add_func ("/gui/window/inspector-edits", test_inspector_edits);
  g_test_add_func ("/gui/window/inspector-connect", test_inspector_connect);
  g_test_add_func ("/gui/window/invalid-graph", test_invalid_graph);
  g_test_add_func ("/gui/window/render-png", test_render_png);
  g_test_add_func ("/gui/window/save-and-reopen", test_save_and_reopen);
  g_test_add_func ("/gui/window/hostile-files", test_hostile_files);
  g_test_add_func ("/gui/window/confirm-discard", test_confirm_discard);
  g_test_add_func ("/gui/window/recent", test_recent);
  ret = g_test_run ();

  g_object_unref (app);
  {
    g_autoptr(GFile) dir = g_file_new_for_path (tmpdir);
    g_autoptr(GFileEnumerator) e = g_file_enumerate_children (dir, "standard::name", G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                                             NULL, NULL);
    /* the test files and config/lamina/recent.ini */
    GFileInfo *info;
    while (e != NULL && (info = g_file_enumerator_next_file (e, NULL, NULL)) != NULL)
      {
        g_autofree char *p = g_build_filename (tmpdir, g_file_info_get_name (info), NULL);
        g_unlink (p);
        g_object_unref (info);
      }
    {
      g_autofree char *ini = g_build_filename (tmpdir, "config", "lamina", "recent.ini", NULL);
      g_autofree char *d1 = g_build_filename (tmpdir, "config", "lamina", NULL);
      g_autofree char *d2 = g_build_filename (tmpdir, "config", NULL);
      g_unlink (ini);
      g_rmdir (d1);
      g_rmdir (d2);
    }
    g_rmdir (tmpdir);
  }
  g_free (tmpdir);
  return ret;
}
