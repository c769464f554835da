#define _GNU_SOURCE 1
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/reboot.h>
#include <sys/xattr.h>
#include "gfsd_sys.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

int
gfsd_openat2 (int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
  struct { uint64_t flags, mode, resolve; } how = { flags, mode, resolve };
  return (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}

int
gfsd_reboot (int how)
{
  return reboot (how);
}

ssize_t
gfsd_listxattr (const char *path, char *list, size_t size, int follow)
{
  return follow ? listxattr (path, list, size) : llistxattr (path, list, size);
}

ssize_t
gfsd_getxattr (const char *path, const char *name, void *value, size_t size, int follow)
{
  return follow ? getxattr (path, name, value, size) : lgetxattr (path, name, value, size);
}
