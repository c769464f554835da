/* Internal to the C binding: functions the generated C calls that the
 * hand-written Swift side (Sources/GuestfsC) provides. */
#ifndef GUESTFS_C_INTERNAL_H_
#define GUESTFS_C_INTERNAL_H_

#include "guestfs.h"

/* Records an error on the handle (last error, errno, error handler) as if
 * the named function had failed. */
extern void guestfs_int_c_set_error (guestfs_h *g, const char *function, int errnum, const char *message);

/* Creates a handle with GUESTFS_CREATE_* flags; NULL with errno set on
 * failure.  (Swift: Sources/GuestfsC/HandleAPI.swift) */
extern guestfs_h *guestfs_int_c_create (unsigned flags);

#endif
