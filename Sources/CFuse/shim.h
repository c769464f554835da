/* libfuse 3 (Debian libfuse3-dev) for mount_local (Sources/Guestfs/MountLocal.swift).
 * fuse_new is a macro over a versioned symbol, so it is wrapped here. */
#define FUSE_USE_VERSION 31
#include <fuse.h>
#include <stdlib.h>
#include <string.h>

/* Creates the FUSE handle for `ops` with the arguments "program [-o options]"
 * and mounts it at `mountpoint`.  NULL on failure (libfuse has printed why). */
static inline struct fuse *guestfs_fuse_create(const char *program, const char *options,
                                               const struct fuse_operations *ops, void *data,
                                               const char *mountpoint, int *mount_failed) {
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    struct fuse *f;
    *mount_failed = 0;
    if (fuse_opt_add_arg(&args, program) == -1) return NULL;
    if (options && (fuse_opt_add_arg(&args, "-o") == -1 || fuse_opt_add_arg(&args, options) == -1)) {
        fuse_opt_free_args(&args);
        return NULL;
    }
    f = fuse_new(&args, ops, sizeof *ops, data);
    fuse_opt_free_args(&args);
    if (f == NULL) return NULL;
    if (fuse_mount(f, mountpoint) == -1) {
        fuse_destroy(f);
        *mount_failed = 1;
        return NULL;
    }
    /* libfuse does not set close-on-exec on the /dev/fuse descriptor. */
    {
        int fd = fuse_session_fd(fuse_get_session(f));
        if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    return f;
}

/* The private data given to guestfs_fuse_create, inside an operation. */
static inline void *guestfs_fuse_private(void) {
    struct fuse_context *c = fuse_get_context();
    return c ? c->private_data : NULL;
}

static inline int guestfs_fuse_fill(fuse_fill_dir_t filler, void *buf, const char *name, const struct stat *st) {
    return filler(buf, name, st, 0, (enum fuse_fill_dir_flags) 0);
}

static inline int guestfs_fuse_fi_flags(const struct fuse_file_info *fi) {
    return fi ? fi->flags : 0;
}
