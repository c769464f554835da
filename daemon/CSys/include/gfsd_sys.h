/* Linux calls the daemon needs that Swift's Glibc module does not import
 * (it is built without _GNU_SOURCE). Plain functions rather than dlsym so
 * the daemon can be linked fully static. */
#ifndef GFSD_SYS_H_
#define GFSD_SYS_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* openat2(2) with struct open_how {flags, mode, resolve}. */
int gfsd_openat2 (int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int gfsd_reboot (int how);
ssize_t gfsd_listxattr (const char *path, char *list, size_t size, int follow);
ssize_t gfsd_getxattr (const char *path, const char *name, void *value, size_t size, int follow);

#endif
