/* fake-cuda-module.c: a CUDA module as one built against another version
 * of engine/lam-backend.h looks to the engine: its lam_cuda_backend_abi
 * differs. The engine must refuse it, not call into it (test-cuda's
 * /backend/fallback/other-version).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gmodule.h>

#include "lam-backend.h"

G_MODULE_EXPORT const guint32 lam_cuda_backend_abi = LAM_BACKEND_ABI ^ 8;

G_MODULE_EXPORT LamBackend *lam_cuda_backend_new (int device, char **why_not, GError **error);

G_MODULE_EXPORT LamBackend *
lam_cuda_backend_new (int device, char **why_not, GError **error)
{
  (void) device;
  (void) why_not;
  (void) error;
  g_error ("the engine called a CUDA module built for another version of it");
  return NULL;
}
