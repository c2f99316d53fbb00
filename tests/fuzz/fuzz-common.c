/* fuzz-common.c: see fuzz-common.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include "fuzz-common.h"

#include <sys/mman.h>
#include <unistd.h>

volatile double fuzz_sink;

char *
fuzz_write_file (const uint8_t *data, size_t size, int *fd)
{
  *fd = memfd_create ("lamina-fuzz", MFD_CLOEXEC);
  fuzz_check (*fd >= 0, "memfd_create failed");
  for (size_t done = 0; done < size;)
    {
      ssize_t w = write (*fd, data + done, size - done);
      fuzz_check (w > 0, "write failed");
      done += (size_t) w;
    }
  return g_strdup_printf ("/proc/self/fd/%d", *fd);
}

void
fuzz_close_file (int fd, char *path)
{
  close (fd);
  g_free (path);
}

void
fuzz_setup (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  g_setenv ("OPENBLAS_NUM_THREADS", "1", TRUE);
}
