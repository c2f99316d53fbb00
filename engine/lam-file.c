/* lam-file.c: see lam-file.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "lam-file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int
lam_open_regular_file (const char *path)
{
  /* O_NONBLOCK: opening a FIFO for reading returns at once instead of
   * waiting for a writer; it is then refused as not regular */
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;

  if (fd < 0)
    return -1;
  if (fstat (fd, &st) != 0)
    {
      int saved = errno;
      close (fd);
      errno = saved;
      return -1;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      errno = EINVAL;
      return -1;
    }
  int flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    {
      int saved = errno;
      close (fd);
      errno = saved;
      return -1;
    }
  return fd;
}
