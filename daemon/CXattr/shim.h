/* Extended-attribute and device-number calls for the xattr and mknod
 * actions. Swift's Glibc module does not bring in <sys/xattr.h> or
 * <sys/sysmacros.h>; these are glibc's own functions, declared by those
 * headers, so nothing more than the header is needed. */
#include <sys/types.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
