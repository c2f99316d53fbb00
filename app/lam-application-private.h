/* lam-application-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-application.h"

G_BEGIN_DECLS

struct _LamApplication {
  AdwApplication parent_instance;

  char         **recent;       /* paths, most recent first */
};

void _lam_application_actions_init (LamApplication *self);

G_END_DECLS
