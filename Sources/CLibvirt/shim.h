/* libvirt's client API, for add_domain / add_libvirt_dom (Sources/Guestfs/Libvirt.swift). */
#include <stddef.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* An error callback that drops the error: installed on our connections so
 * libvirt does not print to stderr (the error is still available from
 * virGetLastError). */
static inline void guestfs_libvirt_quiet(void *opaque, virErrorPtr err) {
    (void) opaque;
    (void) err;
}

static inline void guestfs_libvirt_silence(virConnectPtr conn) {
    virConnSetErrorFunc(conn, NULL, guestfs_libvirt_quiet);
}

/* Before a connection exists (virConnectOpen*), errors go to the global
 * handler, whose default prints them: keep those quiet too, as our own
 * error message already says why the connection failed. */
static inline void guestfs_libvirt_silence_global(void) {
    virSetErrorFunc(NULL, guestfs_libvirt_quiet);
}
