// Mounting guest filesystems under the sysroot, and the mount tables.

import Glibc

struct MountEntry {
    var source: String
    var mountpoint: String   // host path
    var fstype: String
    var root: String
}

/// Parses /proc/self/mountinfo (in mount order).
func readMountinfo(_ path: String = "/proc/self/mountinfo") -> [MountEntry] {
    guard let text = Sys.readText(path) else { return [] }
    var out: [MountEntry] = []
    for line in text.lines {
        let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let dash = f.firstIndex(of: "-"), dash >= 5, f.count >= dash + 3 else { continue }
        out.append(MountEntry(source: unescapeMount(f[dash + 2]), mountpoint: unescapeMount(f[4]),
                              fstype: f[dash + 1], root: unescapeMount(f[3])))
    }
    return out
}

/// Undoes the \040-style octal escapes of mount tables.
func unescapeMount(_ s: String) -> String {
    guard s.contains("\\") else { return s }
    let b = Array(s.utf8)
    var out: [UInt8] = []
    var i = 0
    while i < b.count {
        if b[i] == UInt8(ascii: "\\"), i + 3 < b.count,
           let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
            out.append(v)
            i += 4
        } else {
            out.append(b[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Mounts under the sysroot (mount order).
func sysrootMounts(_ sysroot: Sysroot) -> [MountEntry] {
    readMountinfo().filter { $0.mountpoint == sysroot.path || $0.mountpoint.hasPrefix(sysroot.path + "/") }
}

/// Unmounts everything under the sysroot, deepest/most recent first.
func unmountAll(_ sysroot: Sysroot) throws {
    // An open journal holds its files open and would keep the mount busy.
    Handlers.closeJournal()
    var mounts = sysrootMounts(sysroot)
    var failures: [String] = []
    // Busy is often only for a moment (a btrfs scrub just started in the
    // background, a udev probe): wait up to 2 s for it before giving up.
    var busyWaits = 20
    // Repeat: stacked mounts show up again once the top one is gone.
    for _ in 0..<(8 + busyWaits) where !mounts.isEmpty {
        failures = []
        var busy = false
        for m in mounts.reversed() {
            if umount2(m.mountpoint, 0) != 0 && errno != EINVAL && errno != ENOENT {
                busy = busy || errno == EBUSY
                failures.append("\(m.mountpoint): \(Sys.strerror(errno))")
            }
        }
        mounts = sysrootMounts(sysroot)
        if failures.isEmpty { continue }
        if busy && busyWaits > 0 { busyWaits -= 1; usleep(100_000); continue }
        break
    }
    if !mounts.isEmpty {
        let guestName = mounts.last.map { sysroot.guestPath($0.mountpoint) ?? $0.mountpoint } ?? ""
        throw DaemonError(EBUSY, "umount: \(guestName): \(failures.last ?? "target is busy")")
    }
}

extension Handlers {
    /// Splits "btrfsvol:/dev/X/sub" into the device and the subvolume.
    static func splitMountable(_ m: String) -> (device: String, subvol: String?) {
        guard m.hasPrefix("btrfsvol:") else { return (m, nil) }
        let rest = String(m.dropFirst(9))
        var comps = rest.split(separator: "/").map(String.init)
        // The device part was resolved to a real name; find the longest prefix that is a block device.
        var n = comps.count - 1
        while n >= 2 {
            let dev = "/" + comps[0..<n].joined(separator: "/")
            var st = stat()
            if stat(dev, &st) == 0 && (st.st_mode & S_IFMT) == S_IFBLK {
                let sub = comps[n...].joined(separator: "/")
                comps = []
                return (dev, sub)
            }
            n -= 1
        }
        return (rest, nil)
    }

    /// Host mountpoint for a guest mountpoint ("/" is the sysroot itself).
    func hostMountpoint(_ ctx: CallContext, _ mountpoint: String) throws -> String {
        guard mountpoint.hasPrefix("/") else {
            throw DaemonError(EINVAL, "mount: \(mountpoint): the mountpoint must start with a / character")
        }
        if Sysroot.relative(mountpoint) == "." { return ctx.sysroot.path }
        let host = try ctx.sysroot.hostPath(mountpoint, op: "mount")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "mount: \(mountpoint): Not a directory") }
        return host
    }

    func doMount(_ ctx: CallContext, options: String, vfstype: String?, mountable: String, mountpoint: String) throws {
        let mp = try hostMountpoint(ctx, mountpoint)
        let (device, subvol) = Handlers.splitMountable(mountable)
        var opts = options
        if let subvol {
            opts = opts.isEmpty ? "subvol=\(subvol)" : opts + ",subvol=\(subvol)"
        }
        var argv = ["mount"]
        if !opts.isEmpty { argv += ["-o", opts] }
        if let vfstype { argv += ["-t", vfstype] }
        argv += ["--", device, mp]
        var r = try Command.run(argv)
        if !r.ok, vfstype == nil || vfstype == "btrfs", Command.exists("btrfs"), (try? blkidTag(device, "TYPE")) == "btrfs" {
            // The other devices of a multi-device btrfs may not be known to
            // the kernel yet: register every btrfs device, then try again.
            _ = try? Command.run(["btrfs", "device", "scan"])
            r = try Command.run(argv)
        }
        if !r.ok {
            let text = r.err.trimmed().replacingAll(mp, with: mountpoint)
            throw DaemonError(message: "mount: \(ctx.canonicalName(mountable)) on \(mountpoint): \(text.isEmpty ? "failed" : text)")
        }
    }

    func mount(_ ctx: CallContext, mountable: String, mountpoint: String) throws {
        try doMount(ctx, options: "", vfstype: nil, mountable: mountable, mountpoint: mountpoint)
    }

    func mountRo(_ ctx: CallContext, mountable: String, mountpoint: String) throws {
        try doMount(ctx, options: "ro", vfstype: nil, mountable: mountable, mountpoint: mountpoint)
    }

    func mountOptions(_ ctx: CallContext, options: String, mountable: String, mountpoint: String) throws {
        try doMount(ctx, options: options, vfstype: nil, mountable: mountable, mountpoint: mountpoint)
    }

    func mountVfs(_ ctx: CallContext, options: String, vfstype: String, mountable: String, mountpoint: String) throws {
        try doMount(ctx, options: options, vfstype: vfstype, mountable: mountable, mountpoint: mountpoint)
    }

    func umount(_ ctx: CallContext, pathordevice: String, force: Bool?, lazyunmount: Bool?) throws {
        var flags: Int32 = 0
        if force == true { flags |= Int32(MNT_FORCE) }
        if lazyunmount == true { flags |= Int32(MNT_DETACH) }
        let target: String
        if pathordevice.hasPrefix("/dev/") {
            let mounts = sysrootMounts(ctx.sysroot)
            let dev = realDevice(pathordevice)
            guard let m = mounts.last(where: { realDevice($0.source) == dev }) else {
                throw DaemonError(EINVAL, "umount: \(pathordevice): not mounted")
            }
            target = m.mountpoint
        } else {
            target = Sysroot.relative(pathordevice) == "." ? ctx.sysroot.path
                : try ctx.sysroot.hostPath(pathordevice, op: "umount")
        }
        if umount2(target, flags) != 0 {
            let e = errno
            throw DaemonError(e, "umount: \(pathordevice): \(Sys.strerror(e))")
        }
    }

    /// Resolves symlinks like /dev/VG/LV → /dev/dm-0 for comparisons.
    func realDevice(_ dev: String) -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard Glibc.realpath(dev, &buf) != nil else { return dev }
        return String(cString: buf)
    }

    /// How users name a mounted device: /dev/mapper/vg-lv → /dev/vg/lv.
    func displayDevice(_ source: String) -> String {
        if source.hasPrefix("/dev/mapper/") {
            let lvs = (try? lvNames()) ?? []
            let real = realDevice(source)
            if let lv = lvs.first(where: { realDevice($0) == real }) { return lv }
        }
        return source
    }

    func mounts(_ ctx: CallContext) throws -> [String] {
        sysrootMounts(ctx.sysroot).filter { $0.source.hasPrefix("/dev/") }.map { displayDevice($0.source) }
    }

    func mountpoints(_ ctx: CallContext) throws -> [(String, String)] {
        sysrootMounts(ctx.sysroot).filter { $0.source.hasPrefix("/dev/") }.map {
            (displayDevice($0.source), ctx.sysroot.guestPath($0.mountpoint) ?? $0.mountpoint)
        }
    }

    func umountAll(_ ctx: CallContext) throws {
        try unmountAll(ctx.sysroot)
    }

    func sync(_ ctx: CallContext) throws {
        Glibc.sync()
    }

    /// mkdir on the sysroot's own filesystem (for mounting several guest
    /// filesystems without a root), not inside a guest mount.
    func mkmountpoint(_ ctx: CallContext, exemptpath: String) throws {
        let p = try ctx.checkPathname(exemptpath, "exemptpath")
        try withParent(ctx, p, op: "mkmountpoint") { dirfd, name in
            if mkdirat(dirfd, name, 0o777) != 0 { throw DaemonError.posix("mkmountpoint", p) }
        }
    }

    func rmmountpoint(_ ctx: CallContext, exemptpath: String) throws {
        let p = try ctx.checkPathname(exemptpath, "exemptpath")
        try withParent(ctx, p, op: "rmmountpoint") { dirfd, name in
            if unlinkat(dirfd, name, AT_REMOVEDIR) != 0 { throw DaemonError.posix("rmmountpoint", p) }
        }
    }
}
