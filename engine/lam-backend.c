/* lam-backend.c: choosing a backend. The CUDA backend is a module
 * loaded at run time, so nothing here links CUDA and Lamina runs on
 * machines without a GPU, a driver or the CUDA libraries.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "lamina-backend"

#include "config.h"

#include <gmodule.h>

#include "lam-backend.h"

typedef LamBackend *(*LamCudaNewFunc) (int device, char **why_not, GError **error);

#define CUDA_MODULE_NAME "liblamina-cuda.so"

static char *
find_cuda_module (void)
{
  const char *env = g_getenv ("LAMINA_CUDA_MODULE");
  if (env != NULL)
    return g_strdup (env);
  const char *candidates[] = {
    LAM_BUILD_DIR "/kernels/cuda/" CUDA_MODULE_NAME,
    LAM_LIBDIR "/lamina/" CUDA_MODULE_NAME,
  };
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (g_file_test (candidates[i], G_FILE_TEST_EXISTS))
      return g_strdup (candidates[i]);
  return NULL;
}

/* Tries the CUDA module. NULL with a reason in *why_not. */
static LamBackend *
try_cuda (char **why_not)
{
  g_autofree char *path = find_cuda_module ();
  if (path == NULL)
    {
      *why_not = g_strdup ("this Lamina was built without the CUDA backend (no nvcc at build time)");
      return NULL;
    }
  GModule *mod = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (mod == NULL)
    {
      *why_not = g_strdup_printf ("the CUDA backend could not be loaded (%s); are the CUDA libraries installed?",
                                  g_module_error ());
      return NULL;
    }
  LamCudaNewFunc fn = NULL;
  if (!g_module_symbol (mod, "lam_cuda_backend_new", (gpointer *) &fn) || fn == NULL)
    {
      *why_not = g_strdup_printf ("%s is not a Lamina CUDA module", path);
      g_module_close (mod);
      return NULL;
    }
  const guint32 *abi = NULL;
  if (!g_module_symbol (mod, "lam_cuda_backend_abi", (gpointer *) &abi) || abi == NULL ||
      *abi != LAM_BACKEND_ABI)
    {
      *why_not = g_strdup_printf ("%s was built for another version of Lamina (its table of "
                                  "operations differs from this engine's): rebuild it", path);
      g_module_close (mod);
      return NULL;
    }
  g_autoptr(GError) error = NULL;
  LamBackend *be = fn (0, why_not, &error);
  if (be == NULL)
    {
      if (*why_not == NULL)
        *why_not = g_strdup (error ? error->message : "CUDA could not be used");
      g_module_close (mod);
      return NULL;
    }
  g_module_make_resident (mod);
  return be;
}

LamBackend *
lam_backend_new (const char *name, int n_threads, char **why_not, GError **error)
{
  if (why_not)
    *why_not = NULL;
  if (name == NULL || g_ascii_strcasecmp (name, "cpu") == 0)
    return lam_backend_new_cpu (n_threads);
  if (g_ascii_strcasecmp (name, "cuda") != 0 && g_ascii_strcasecmp (name, "auto") != 0)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_INVALID_ARGUMENT,
                   "backend \"%s\" is unknown (cpu, cuda or auto)", name);
      return NULL;
    }
  g_autofree char *reason = NULL;
  LamBackend *be = try_cuda (&reason);
  if (be != NULL)
    return be;
  if (g_ascii_strcasecmp (name, "cuda") == 0)
    {
      g_set_error (error, LAM_ERROR, LAM_ERROR_BACKEND, "CUDA backend unavailable: %s", reason);
      return NULL;
    }
  if (why_not)
    *why_not = g_steal_pointer (&reason);
  return lam_backend_new_cpu (n_threads);
}

void
lam_backend_set_out_of_memory (LamBackend *be, GError **error, gsize bytes, const char *for_what)
{
  g_autofree char *size = g_format_size (bytes);
  g_set_error (error, LAM_ERROR, LAM_ERROR_BACKEND, "out of %s memory: %s more were needed for %s",
               g_strcmp0 (be->name, "cpu") == 0 ? "main" : "GPU", size, for_what);
}

gsize
lam_host_memory_available (void)
{
  const char *forced = g_getenv ("LAMINA_HOST_MEMORY");
  g_autofree char *meminfo = NULL;
  guint64 v;

  if (forced != NULL && g_ascii_string_to_unsigned (forced, 10, 0, G_MAXUINT64, &v, NULL))
    return (gsize) v;
  if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    {
      /* "MemAvailable:   23935448 kB" */
      const char *line = strstr (meminfo, "\nMemAvailable:");
      char *end = NULL;
      if (line != NULL)
        v = g_ascii_strtoull (line + 14, &end, 10);
      if (line != NULL && end != line + 14 && v < G_MAXSIZE / 1024)
        return (gsize) v * 1024;
    }
  return G_MAXSIZE;
}

void
lam_backend_free (LamBackend *be)
{
  if (be == NULL)
    return;
  be->ops->destroy (be);
  g_free (be->name);
  g_free (be->description);
  g_free (be);
}
