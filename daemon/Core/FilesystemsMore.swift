// More device and filesystem actions: finding filesystems by tag, device
// facts, signatures, discard, free-space zeroing, minimum sizes, mounts.

import Glibc
import GuestfsProtocol

extension Handlers {
    // MARK: finding by tag

    private func findfs(_ ctx: CallContext, _ tag: String, _ value: String, op: String) throws -> String {
        if value.isEmpty { throw DaemonError(EINVAL, "\(op): empty \(tag.lowercased())") }
        let d = try deviceWithTag(ctx, tag, value, op: op)
        return ctx.canonicalName(d)
    }

    func findfsUuid(_ ctx: CallContext, uuid: String) throws -> String {
        try findfs(ctx, "UUID", uuid, op: "findfs_uuid")
    }

    func findfsLabel(_ ctx: CallContext, label: String) throws -> String {
        try findfs(ctx, "LABEL", label, op: "findfs_label")
    }

    func findfsPartuuid(_ ctx: CallContext, uuid: String) throws -> String {
        try findfs(ctx, "PARTUUID", uuid.lowercased(), op: "findfs_partuuid")
    }

    func findfsPartlabel(_ ctx: CallContext, label: String) throws -> String {
        try findfs(ctx, "PARTLABEL", label, op: "findfs_partlabel")
    }

    // MARK: device facts

    func isWholeDevice(_ ctx: CallContext, device: String) throws -> Bool {
        guard let p = Glibc.realpath(device, nil) else { throw DaemonError.posix("is_whole_device", ctx.canonicalName(device)) }
        let real = String(cString: p)
        free(p)
        let base = String(real.split(separator: "/").last ?? "")
        // Disks have a "device" link in sysfs; partitions and dm/md devices do not.
        return Sys.exists("/sys/block/\(base)/device")
    }

    func listDiskLabels(_ ctx: CallContext) throws -> [(String, String)] {
        var out: [(String, String)] = []
        for (i, d) in ctx.devices.disks.enumerated() {
            // The library passes a drive's label to qemu as the disk serial.
            let serial = (Sys.readText("/sys/block/\(d)/serial") ?? Sys.readText("/sys/block/\(d)/device/serial") ?? "").trimmed()
            if !serial.isEmpty { out.append((serial, "/dev/sd" + DiskName.letters(forIndex: i))) }
        }
        return out
    }

    func nrDevices(_ ctx: CallContext) throws -> Int32 {
        Int32(ctx.devices.disks.count)
    }

    func blockdevSetra(_ ctx: CallContext, device: String, sectors: Int32) throws {
        if sectors < 0 { throw DaemonError(EINVAL, "blockdev_setra: sectors must be >= 0") }
        let r = try Command.run(["blockdev", "--setra", String(sectors), device])
        if !r.ok {
            throw DaemonError(message: "blockdev: \(ctx.canonicalName(device)): " + ctx.devices.canonicalizeText(r.err.trimmed()))
        }
    }

    func checksumDevice(_ ctx: CallContext, csumtype: String, device: String) throws -> String {
        let prog = try Handlers.checksumProgram(csumtype)
        let out = try Command.output([prog, "--", device])
        guard let first = out.split(separator: " ").first else { throw DaemonError(message: "\(prog): no output") }
        return String(first).trimmed()
    }

    func filesystemAvailable(_ ctx: CallContext, filesystem: String) throws -> Bool {
        if filesystem.isEmpty || filesystem.contains("/") || filesystem.contains("\n") {
            throw DaemonError(EINVAL, "filesystem_available: \(filesystem): invalid filesystem name")
        }
        func known() -> Bool {
            (Sys.readText("/proc/filesystems") ?? "").lines.contains { l in
                l.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.map(String.init) == filesystem
            }
        }
        if known() { return true }
        if Command.exists("modprobe") { _ = try? Command.run(["modprobe", "fs-\(filesystem)"]) }
        return known()
    }

    // MARK: UUIDs and signatures

    func setUuidRandom(_ ctx: CallContext, device: String) throws {
        let type = try blkidTag(device, "TYPE")
        let argv: [String]
        switch type {
        case "ext2", "ext3", "ext4": argv = ["tune2fs", "-f", "-U", "random", device]
        case "xfs": argv = ["xfs_admin", "-U", "generate", device]
        case "btrfs": argv = ["btrfstune", "-f", "-u", device]
        case "swap":
            guard let u = Sys.readText("/proc/sys/kernel/random/uuid")?.trimmed(), !u.isEmpty else {
                throw DaemonError.posix("set_uuid_random: read", "/proc/sys/kernel/random/uuid")
            }
            argv = ["swaplabel", "-U", u, device]
        case "": throw DaemonError(EINVAL, "set_uuid_random: \(ctx.canonicalName(device)): no filesystem found")
        default: throw DaemonError(ENOTSUP, "set_uuid_random: don't know how to set a random UUID for '\(type)' filesystems")
        }
        try Command.check(argv, input: type == "btrfs" ? Array("y\n".utf8) : nil)
    }

    func wipefs(_ ctx: CallContext, device: String) throws {
        try Command.check(["wipefs", "--all", "--force", device])
        Glibc.sync()
    }

    // MARK: discard

    func blkdiscard(_ ctx: CallContext, device: String) throws {
        let r = try Command.run(["blkdiscard", device])
        if !r.ok {
            throw DaemonError(message: "blkdiscard: \(ctx.canonicalName(device)): " + ctx.devices.canonicalizeText(r.err.trimmed()))
        }
    }

    func blkdiscardzeroes(_ ctx: CallContext, device: String) throws -> Bool {
        try withDevice(device, op: "ioctl BLKDISCARDZEROES") { fd in
            var v: UInt32 = 0
            if ioctl(fd, UInt(0x127C), &v) != 0 { throw DaemonError.posix("ioctl BLKDISCARDZEROES", ctx.canonicalName(device)) }
            return v != 0
        }
    }

    func fstrim(_ ctx: CallContext, mountpoint: String, offset: Int64?, length: Int64?, minimumfreeextent: Int64?) throws {
        var argv = ["fstrim"]
        for (flag, v, name) in [("-o", offset, "offset"), ("-l", length, "length"), ("-m", minimumfreeextent, "minimumfreeextent")] {
            guard let v else { continue }
            if v < 0 { throw DaemonError(EINVAL, "fstrim: \(name) must be >= 0") }
            argv += [flag, String(v)]
        }
        // Whatever is cached must reach the filesystem before it is trimmed.
        Glibc.sync()
        let host = try hostMountpoint(ctx, mountpoint)
        let r = try Command.run(argv + [host])
        if !r.ok {
            throw DaemonError(message: "fstrim: \(mountpoint): " + r.err.trimmed().replacingAll(host, with: mountpoint))
        }
    }

    // MARK: free space

    func zeroFreeSpace(_ ctx: CallContext, directory: String) throws {
        let host = try ctx.sysroot.hostPath(directory, op: "zero_free_space")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "zero_free_space: \(directory): Not a directory") }
        var tmpl = Array((host + "/.zero_free_spaceXXXXXX").utf8CString)
        let fd = mkstemp(&tmpl)
        if fd < 0 { throw DaemonError.posix("zero_free_space: mkstemp", directory) }
        let path = String(cString: tmpl)
        defer { close(fd); unlink(path) }
        let zeroes = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = zeroes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC || errno == EDQUOT || errno == EFBIG { break }
                throw DaemonError.posix("zero_free_space: write", directory)
            }
            if n == 0 { break }
        }
        if fsync(fd) != 0 && errno != ENOSPC { throw DaemonError.posix("zero_free_space: fsync", directory) }
    }

    // MARK: minimum size

    func vfsMinimumSize(_ ctx: CallContext, mountable: String) throws -> Int64 {
        let (device, _) = Handlers.splitMountable(mountable)
        let type = try vfsType(ctx, mountable: mountable)
        switch type {
        case "ext2", "ext3", "ext4":
            let out = try Command.output(["resize2fs", "-P", device])
            guard let line = out.lines.first(where: { $0.contains("minimum size") }),
                  let blocks = Int64(line.split(separator: ":").last?.trimmed() ?? "") else {
                throw DaemonError(message: "resize2fs: \(ctx.canonicalName(device)): cannot read the minimum size")
            }
            let info = try tune2fsL(ctx, device: device)
            guard let bs = info.first(where: { $0.0 == "Block size" }).flatMap({ Int64($0.1) }) else {
                throw DaemonError(message: "tune2fs: \(ctx.canonicalName(device)): no block size")
            }
            return blocks * bs
        case "ntfs":
            let r = try Command.run(["ntfsresize", "--info", "--force", "--no-progress-bar", device])
            let key = "You might resize at "
            for l in r.out.lines {
                if let rest = l.components(after: key), let n = Int64(rest.split(separator: " ").first ?? "") { return n }
            }
            if r.out.contains("ERROR") || !r.ok {
                throw Command.failure(["ntfsresize"], r)
            }
            throw DaemonError(message: "ntfsresize: \(ctx.canonicalName(device)): cannot read the minimum size")
        case "btrfs":
            guard let m = readMountinfo().first(where: { realDevice($0.source) == realDevice(device) }) else {
                throw DaemonError(EINVAL, "vfs_minimum_size: \(ctx.canonicalName(mountable)): btrfs must be mounted")
            }
            let out = try Command.output(["btrfs", "inspect-internal", "min-dev-size", m.mountpoint])
            guard let n = Int64(out.split(separator: " ").first ?? "") else {
                throw DaemonError(message: "btrfs: cannot parse min-dev-size output")
            }
            return n
        default:
            throw DaemonError(ENOTSUP, "vfs_minimum_size: \(ctx.canonicalName(mountable)): don't know how to find the minimum size of '\(type)' filesystems")
        }
    }

    // MARK: mounting

    func mklostAndFound(_ ctx: CallContext, mountpoint: String) throws {
        let host = try hostMountpoint(ctx, mountpoint)
        try Command.check(["sh", "-c", "cd \"$1\" && exec mklost+found", "sh", host])
    }

    func remount(_ ctx: CallContext, mountpoint: String, rw: Bool?) throws {
        let host = try hostMountpoint(ctx, mountpoint)
        var opts = "remount"
        if let rw { opts += rw ? ",rw" : ",ro" }
        let r = try Command.run(["mount", "-o", opts, "--", host])
        if !r.ok {
            throw DaemonError(message: "remount: \(mountpoint): " + r.err.trimmed().replacingAll(host, with: mountpoint))
        }
    }

    func mountLoop(_ ctx: CallContext, file: String, mountpoint: String) throws {
        let image = try ctx.sysroot.hostPath(file, op: "mount_loop")
        let mp = try hostMountpoint(ctx, mountpoint)
        let r = try Command.run(["mount", "-o", "loop", "--", image, mp])
        if !r.ok {
            let text = r.err.trimmed().replacingAll(mp, with: mountpoint).replacingAll(image, with: file)
            throw DaemonError(message: "mount_loop: \(file) on \(mountpoint): \(text.isEmpty ? "failed" : text)")
        }
    }
}
