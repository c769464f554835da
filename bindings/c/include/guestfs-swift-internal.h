/* Not installed: C helpers the Swift side of the binding (Sources/GuestfsC)
 * calls.  Implemented in bindings/c/src/handle.c. */
#ifndef GUESTFS_SWIFT_INTERNAL_H_
#define GUESTFS_SWIFT_INTERNAL_H_

/* The file name this library was loaded from (dladdr), or NULL.  The
 * string is malloc'ed: the caller frees it. */
extern char *guestfs_int_c_library_path (void);

#endif
