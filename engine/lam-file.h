/* lam-file.h: opening files that a model file, the command line or a
 * dialog names, which may be anything: a FIFO (whose open waits for a
 * writer, for ever), a device (/dev/zero never ends), a directory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Opens path for reading if it is a regular file (after symbolic
 * links), without blocking on a FIFO: a descriptor (close-on-exec,
 * blocking again), or -1 with errno set, EINVAL when it exists but is
 * no regular file. */
int lam_open_regular_file (const char *path);

G_END_DECLS
