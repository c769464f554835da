/* Hand-written C part of the C binding: the calls that cannot be written
 * in Swift: variadic ones, and dladdr (a GNU extension).  Everything else lives in
 * Sources/GuestfsC (Swift, exported with @_cdecl). */

#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "guestfs.h"
#include "guestfs-c-internal.h"
#include "guestfs-swift-internal.h"

guestfs_h *
guestfs_create (void)
{
  return guestfs_int_c_create (0);
}

/* No extra arguments are defined yet: whatever follows the flags is
 * ignored. */
guestfs_h *
guestfs_create_flags (unsigned flags, ...)
{
  return guestfs_int_c_create (flags);
}

char *
guestfs_int_c_library_path (void)
{
  Dl_info info;

  if (dladdr ((void *) guestfs_int_c_library_path, &info) == 0 || info.dli_fname == NULL)
    return NULL;
  return strdup (info.dli_fname);
}
