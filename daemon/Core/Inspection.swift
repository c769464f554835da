// Operating-system inspection: inspect_os walks the filesystems, mounts
// each read-only at the sysroot and lets the per-family probes
// (InspectLinux.swift, InspectWindows.swift) recognise a root; the
// inspect_get_* actions read back what was found.

import Glibc

extension Handlers {
    func inspectOs(_ ctx: CallContext) throws -> [String] {
        try unmountAll(ctx.sysroot)
        inspected = []
        let filesystems = try listFilesystems(ctx)
        var ids = FilesystemIDs.scan()
        ids.lvs = anyLVMPresent() ? ((try? lvNames()) ?? []) : []
        var found: [InspectedOS] = []
        for (fs, type) in filesystems where Handlers.inspectableTypes(type) {
            guard (try? doMount(ctx, options: "ro", vfstype: nil, mountable: fs, mountpoint: "/")) != nil else { continue }
            defer { try? unmountAll(ctx.sysroot) }
            if var os = try probeRoot(ctx, root: fs) {
                if os.mountpoints.isEmpty || os.filesystems.isEmpty {
                    let fstab = (try? readFstab(ctx, ids: ids)) ?? []
                    os.mountpoints = [("/", fs)] + fstab.filter { $0.mountpoint != "/" && $0.mountpoint.hasPrefix("/") }
                        .map { ($0.mountpoint, $0.mountable) }
                    var all = [fs]
                    for e in fstab where !all.contains(e.mountable) { all.append(e.mountable) }
                    os.filesystems = all
                }
                found.append(os)
            }
        }
        inspected = found.sorted { $0.root < $1.root }
        return inspected.map(\.root)
    }

    /// Filesystem types worth mounting to look for an operating system.
    static func inspectableTypes(_ type: String) -> Bool {
        !["swap", "unknown", "crypto_LUKS", "LVM2_member", "linux_raid_member", "zfs_member", "squashfs"].contains(type)
    }

    /// Tries every probe on the filesystem mounted at the sysroot.
    func probeRoot(_ ctx: CallContext, root: String) throws -> InspectedOS? {
        if let os = try probeUnixLike(ctx, root: root) { return os }
        if let os = try probeWindows(ctx, root: root) { return os }
        return nil
    }

    func inspectGetRoots(_ ctx: CallContext) throws -> [String] {
        inspected.map(\.root)
    }

    /// The record for a root returned by inspect_os, or a clear error.
    func inspectedRoot(_ ctx: CallContext, _ root: String) throws -> InspectedOS {
        if let os = inspected.first(where: { $0.root == root || realDevice($0.root) == realDevice(root) }) {
            return os
        }
        throw DaemonError(EINVAL, "\(ctx.canonicalName(root)): no operating system root was found there: call inspect_os first and pass one of the roots it returns")
    }

    func inspectGetFormat(_ ctx: CallContext, root: String) throws -> String {
        _ = try inspectedRoot(ctx, root)
        return "installed"
    }
    func inspectGetType(_ ctx: CallContext, root: String) throws -> String { try inspectedRoot(ctx, root).type }
    func inspectGetDistro(_ ctx: CallContext, root: String) throws -> String { try inspectedRoot(ctx, root).distro }
    func inspectGetPackageFormat(_ ctx: CallContext, root: String) throws -> String {
        try inspectedRoot(ctx, root).packageFormat
    }
    func inspectGetPackageManagement(_ ctx: CallContext, root: String) throws -> String {
        try inspectedRoot(ctx, root).packageManagement
    }
    func inspectGetProductName(_ ctx: CallContext, root: String) throws -> String {
        try inspectedRoot(ctx, root).productName
    }
    func inspectGetProductVariant(_ ctx: CallContext, root: String) throws -> String {
        try inspectedRoot(ctx, root).productVariant
    }
    func inspectGetMajorVersion(_ ctx: CallContext, root: String) throws -> Int32 {
        try inspectedRoot(ctx, root).majorVersion
    }
    func inspectGetMinorVersion(_ ctx: CallContext, root: String) throws -> Int32 {
        try inspectedRoot(ctx, root).minorVersion
    }
    func inspectGetArch(_ ctx: CallContext, root: String) throws -> String { try inspectedRoot(ctx, root).arch }
    func inspectGetHostname(_ ctx: CallContext, root: String) throws -> String { try inspectedRoot(ctx, root).hostname }

    private func windowsField(_ ctx: CallContext, _ root: String, _ what: String,
                              _ get: (InspectedOS) -> String?) throws -> String {
        let os = try inspectedRoot(ctx, root)
        guard let v = get(os) else {
            throw DaemonError(EINVAL, "\(ctx.canonicalName(root)): not a Windows root (it is \(os.type)), so it has no \(what)")
        }
        return v
    }
    func inspectGetWindowsSystemroot(_ ctx: CallContext, root: String) throws -> String {
        try windowsField(ctx, root, "Windows system root", \.windowsSystemroot)
    }
    func inspectGetWindowsSoftwareHive(_ ctx: CallContext, root: String) throws -> String {
        try windowsField(ctx, root, "SOFTWARE hive", \.windowsSoftwareHive)
    }
    func inspectGetWindowsSystemHive(_ ctx: CallContext, root: String) throws -> String {
        try windowsField(ctx, root, "SYSTEM hive", \.windowsSystemHive)
    }
    func inspectGetWindowsCurrentControlSet(_ ctx: CallContext, root: String) throws -> String {
        try windowsField(ctx, root, "current control set", \.windowsCurrentControlSet)
    }

    func inspectIsLive(_ ctx: CallContext, root: String) throws -> Bool { _ = try inspectedRoot(ctx, root); return false }
    func inspectIsNetinst(_ ctx: CallContext, root: String) throws -> Bool { _ = try inspectedRoot(ctx, root); return false }
    func inspectIsMultipart(_ ctx: CallContext, root: String) throws -> Bool { _ = try inspectedRoot(ctx, root); return false }

    func inspectGetMountpoints(_ ctx: CallContext, root: String) throws -> [(String, String)] {
        try inspectedRoot(ctx, root).mountpoints
    }
    func inspectGetFilesystems(_ ctx: CallContext, root: String) throws -> [String] {
        try inspectedRoot(ctx, root).filesystems
    }
    func inspectGetDriveMappings(_ ctx: CallContext, root: String) throws -> [(String, String)] {
        try inspectedRoot(ctx, root).driveMappings
    }

    // MARK: reading the guest mounted at the sysroot

    /// A small guest file's bytes, nil when it is missing or unreadable.
    func guestFileBytes(_ ctx: CallContext, _ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        guard let fd = try? ctx.sysroot.open(path, O_RDONLY, op: "inspect") else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Sys.readAll(fd, limit: limit)
    }

    func guestFileText(_ ctx: CallContext, _ path: String) -> String? {
        guestFileBytes(ctx, path).map { String(decoding: $0, as: UTF8.self) }
    }

    func guestIsDir(_ ctx: CallContext, _ path: String) -> Bool {
        guard let fd = try? ctx.sysroot.open(path, Sys.O_PATH | O_DIRECTORY, op: "inspect") else { return false }
        close(fd)
        return true
    }

    func guestExists(_ ctx: CallContext, _ path: String) -> Bool {
        guard let fd = try? ctx.sysroot.open(path, Sys.O_PATH, op: "inspect") else { return false }
        close(fd)
        return true
    }
}
