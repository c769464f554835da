// Boot loaders: SYSLINUX on a FAT filesystem (syslinux + mtools, the
// filesystem unmounted), EXTLINUX in a mounted ext2/3/4 or btrfs directory,
// GRUB 2 for BIOS PCs (grub-install --target=i386-pc).

import Glibc

extension Handlers {
    /// A failed boot-loader program: its message with appliance device
    /// names made canonical and the sysroot taken out of paths.
    private func loaderFailure(_ ctx: CallContext, op: String, what: String, _ r: CommandResult) -> DaemonError {
        var text = r.err.trimmed()
        if text.isEmpty { text = r.out.trimmed() }
        if text.isEmpty { text = "exited with status \(r.status)" }
        text = ctx.devices.canonicalizeText(text.replacingAll(ctx.sysroot.path + "/", with: "/"))
        return DaemonError(message: "\(op): \(what): \(text)")
    }

    func syslinux(_ ctx: CallContext, device: String, directory: String?) throws {
        var argv = ["syslinux", "--install", "--force"]
        if let directory, !directory.isEmpty {
            // syslinux quietly installs into the root when the directory is
            // missing: look for it on the (unmounted) FAT filesystem first.
            if directory != "/" {
                let r = try Command.run(["env", "MTOOLS_SKIP_CHECK=1", "mdir", "-b", "-i", device, "::" + directory])
                if !r.ok {
                    throw DaemonError(ENOENT, "syslinux: \(ctx.canonicalName(device)): directory \(directory) does not exist on the filesystem")
                }
            }
            argv += ["--directory", directory]
        }
        argv.append(device)
        let r = try Command.run(argv)
        if !r.ok { throw loaderFailure(ctx, op: "syslinux", what: ctx.canonicalName(device), r) }
        Glibc.sync()
    }

    func extlinux(_ ctx: CallContext, directory: String) throws {
        let host = try ctx.sysroot.hostPath(directory, op: "extlinux")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "extlinux: \(directory): Not a directory") }
        let r = try Command.run(["extlinux", "--install", host])
        if !r.ok { throw loaderFailure(ctx, op: "extlinux", what: directory, r) }
        Glibc.sync()
    }

    func grubInstall(_ ctx: CallContext, root: String, device: String) throws {
        let host = try ctx.sysroot.hostPath(root, op: "grub_install")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "grub_install: \(root): Not a directory") }
        let boot = host == "/" ? "/boot" : host + "/boot"
        let r = try Command.run(["grub-install", "--target=i386-pc", "--boot-directory=\(boot)", "--", device])
        if !r.ok { throw loaderFailure(ctx, op: "grub_install", what: ctx.canonicalName(device), r) }
        Glibc.sync()
    }
}
