// btrfs: mkfs.btrfs, the btrfs(8) subcommands (filesystem, device,
// subvolume, qgroup/quota, balance, scrub, replace, rescue, check),
// btrfstune and btrfs-image. Paths are guest paths on a mounted btrfs
// filesystem; Mountable_or_Path arguments naming a device are mounted on a
// scratch directory for the call.

import Glibc
import GuestfsProtocol

extension Handlers {
    // MARK: running the tools

    /// Runs a btrfs tool; on failure throws "op: shown: message", where the
    /// message is the tool's ERROR lines (or all it said) with appliance
    /// device names and sysroot paths turned into the caller's names, and
    /// the errno is the one the message names, if any.
    @discardableResult
    func btrfsRun(_ ctx: CallContext, _ op: String, _ shown: String, _ argv: [String],
                  input: [UInt8]? = nil, scratch: String? = nil) throws -> CommandResult {
        let r = try Command.run(argv, input: input)
        if r.ok { return r }
        throw btrfsFailure(ctx, op, shown, r, program: argv[0], scratch: scratch)
    }

    func btrfsFailure(_ ctx: CallContext, _ op: String, _ shown: String, _ r: CommandResult,
                      program: String, scratch: String? = nil) -> DaemonError {
        var lines = (r.err + "\n" + r.out).lines.map { $0.trimmed() }.filter { !$0.isEmpty }
        let errors = lines.filter { $0.hasPrefix("ERROR:") }
        if !errors.isEmpty { lines = errors }
        var text = lines.joined(separator: "; ")
        if text.isEmpty { text = "\(program) exited with status \(r.status)" }
        if let scratch { text = text.replacingAll(scratch, with: shown) }
        text = btrfsGuestPaths(ctx, ctx.devices.canonicalizeText(text))
        return DaemonError(Handlers.btrfsErrno(text), "\(op): \(shown): \(text)")
    }

    /// Host paths under the sysroot in a message → guest paths.
    func btrfsGuestPaths(_ ctx: CallContext, _ text: String) -> String {
        let root = ctx.sysroot.path
        return text.replacingAll(root + "/", with: "/").replacingAll(root, with: "/")
    }

    /// The errno whose strerror text a btrfs message quotes (0 if none).
    static func btrfsErrno(_ text: String) -> Int32 {
        let candidates: [Int32] = [ENOENT, EEXIST, ENOTEMPTY, ENOTDIR, EISDIR, EROFS, ENOSPC, EDQUOT,
                                   EBUSY, ENOTTY, ENODEV, ENXIO, EPERM, EACCES, EFBIG, EOPNOTSUPP, EINVAL, EIO]
        for e in candidates where text.contains(Sys.strerror(e)) { return e }
        if text.contains("Not a Btrfs subvolume") || text.contains("not a subvolume") { return EINVAL }
        return 0
    }

    /// Host path of a guest path that must exist.
    func btrfsHost(_ ctx: CallContext, _ path: String, _ op: String) throws -> String {
        try ctx.sysroot.hostPath(path, op: op)
    }

    /// Host path for a new name `dest`; EEXIST when something is there.
    func btrfsNewHost(_ ctx: CallContext, _ dest: String, _ op: String) throws -> String {
        let host = try ctx.sysroot.hostPath(dest, follow: false, mustExist: false, op: op)
        var st = Glibc.stat()
        if lstat(host, &st) == 0 { throw DaemonError(EEXIST, "\(op): \(dest): File exists") }
        return host
    }

    /// Calls `body` with a host directory where the btrfs filesystem `fs`
    /// is mounted: a path in the guest as it is, or a device or btrfsvol:
    /// mountable mounted on a scratch directory for the call.
    @discardableResult
    func withBtrfsMounted<T>(_ ctx: CallContext, _ fs: String, op: String, readOnly: Bool = false,
                             _ body: (_ dir: String, _ shown: String) throws -> T) throws -> T {
        guard fs.hasPrefix("/dev/") || fs.hasPrefix("btrfsvol:") else {
            return try body(try btrfsHost(ctx, fs, op), fs)
        }
        let shown = ctx.canonicalName(fs)
        let (device, subvol) = Handlers.splitMountable(fs)
        var tmpl = Array("/tmp/btrfsXXXXXX".utf8CString)
        guard let p = Glibc.mkdtemp(&tmpl) else { throw DaemonError.posix(op, "/tmp") }
        let dir = String(cString: p)
        defer { Glibc.rmdir(dir) }
        var opts = readOnly ? ["ro"] : []
        if let subvol { opts.append("subvol=\(subvol)") }
        var argv = ["mount", "-t", "btrfs"]
        if !opts.isEmpty { argv += ["-o", opts.joined(separator: ",")] }
        argv += ["--", device, dir]
        let r = try Command.run(argv)
        if !r.ok {
            if !Command.exists("btrfs") { throw DaemonError(ENOTSUP, "\(op): btrfs is not available in the appliance") }
            let text = r.err.trimmed().replacingAll(dir, with: shown)
            throw DaemonError(message: "\(op): \(shown): \(ctx.devices.canonicalizeText(text.isEmpty ? "mount failed" : text))")
        }
        defer { _ = umount2(dir, 0) }
        do {
            return try body(dir, shown)
        } catch var e as DaemonError {
            e.message = e.message.replacingAll(dir, with: shown)
            throw e
        }
    }

    /// `btrfs SUBCOMMAND... HOSTPATH` on a guest path.
    private func btrfsOnPath(_ ctx: CallContext, _ op: String, _ path: String, _ args: [String]) throws {
        let host = try btrfsHost(ctx, path, op)
        try btrfsRun(ctx, op, path, ["btrfs"] + args + [host])
    }

    private func positiveSize(_ v: Int64?, _ op: String, _ name: String) throws {
        if let v, v <= 0 { throw DaemonError(EINVAL, "\(op): \(name) must be greater than zero") }
    }

    private func powerOfTwo(_ v: Int32?, _ op: String, _ name: String) throws {
        if let v, v <= 0 || v & (v - 1) != 0 {
            throw DaemonError(EINVAL, "\(op): \(name) must be a power of two greater than zero (got \(v))")
        }
    }

    static let btrfsProfiles: Set<String> = ["single", "dup", "raid0", "raid1", "raid1c3", "raid1c4", "raid5", "raid6", "raid10"]

    // MARK: making filesystems

    func mkfsBtrfs(_ ctx: CallContext, devices: [String], allocstart: Int64?, bytecount: Int64?, datatype: String?,
                   leafsize: Int32?, label: String?, metadata: String?, nodesize: Int32?, sectorsize: Int32?) throws {
        let op = "mkfs_btrfs"
        guard !devices.isEmpty else { throw DaemonError(EINVAL, "\(op): the list of devices must not be empty") }
        if let allocstart, allocstart < 0 { throw DaemonError(EINVAL, "\(op): allocstart must not be negative") }
        try positiveSize(bytecount, op, "bytecount")
        for (name, v) in [("datatype", datatype), ("metadata", metadata)] {
            if let v, !Handlers.btrfsProfiles.contains(v) {
                throw DaemonError(EINVAL, "\(op): \(name) \"\(v)\" is not one of \(Handlers.btrfsProfiles.sorted().joined(separator: ", "))")
            }
        }
        try powerOfTwo(leafsize, op, "leafsize")
        try powerOfTwo(nodesize, op, "nodesize")
        try powerOfTwo(sectorsize, op, "sectorsize")
        if let leafsize, let nodesize, leafsize != nodesize {
            throw DaemonError(EINVAL, "\(op): leafsize and nodesize differ (leafsize is the old name of nodesize)")
        }
        if let label, label.utf8.count > 255 { throw DaemonError(ERANGE, "\(op): btrfs labels are limited to 255 bytes") }
        var argv = ["mkfs.btrfs", "-f"]
        if let bytecount { argv += ["--byte-count", String(bytecount)] }
        if let datatype { argv += ["--data", datatype] }
        if let metadata { argv += ["--metadata", metadata] }
        if let n = nodesize ?? leafsize { argv += ["--nodesize", String(n)] }
        if let sectorsize { argv += ["--sectorsize", String(sectorsize)] }
        if let label { argv += ["--label", label] }
        argv += devices
        try btrfsRun(ctx, op, ctx.canonicalName(devices[0]), argv)
        // Let the kernel know every member, so a multi-device filesystem mounts.
        if devices.count > 1 { _ = try? Command.run(["btrfs", "device", "scan"] + devices) }
        Glibc.sync()
    }

    // MARK: filesystem

    func btrfsFilesystemBalance(_ ctx: CallContext, fs: String) throws {
        try btrfsOnPath(ctx, "btrfs_filesystem_balance", fs, ["balance", "start", "--full-balance"])
    }

    func btrfsFilesystemDefragment(_ ctx: CallContext, path: String, flush: Bool?, compress: String?) throws {
        let op = "btrfs_filesystem_defragment"
        var args = ["filesystem", "defragment", "-r"]
        if flush == true { args.append("-f") }
        if let compress {
            guard ["zlib", "lzo", "zstd"].contains(compress) else {
                throw DaemonError(EINVAL, "\(op): unknown compression method \"\(compress)\" (zlib, lzo or zstd)")
            }
            args.append("-c" + compress)
        }
        try btrfsOnPath(ctx, op, path, args)
    }

    func btrfsFilesystemResize(_ ctx: CallContext, mountpoint: String, size: Int64?) throws {
        let op = "btrfs_filesystem_resize"
        try positiveSize(size, op, "size")
        try btrfsOnPath(ctx, op, mountpoint, ["filesystem", "resize", size.map { String($0) } ?? "max"])
    }

    func btrfsFilesystemSync(_ ctx: CallContext, fs: String) throws {
        try btrfsOnPath(ctx, "btrfs_filesystem_sync", fs, ["filesystem", "sync"])
    }

    func btrfsFilesystemShow(_ ctx: CallContext, device: String) throws -> [String] {
        let op = "btrfs_filesystem_show"
        let shown = ctx.canonicalName(device)
        let r = try btrfsRun(ctx, op, shown, ["btrfs", "filesystem", "show", device])
        // Label: none  uuid: ...
        //         Total devices 2 FS bytes used 144.00KiB
        //         devid    1 size 255.00MiB used 8.00MiB path /dev/sda1
        //         *** Some devices missing
        var out: [String] = []
        for raw in r.out.lines {
            let l = raw.trimmed()
            if l.hasPrefix("*** Some devices missing") {
                throw DaemonError(ENODEV, "\(op): \(shown): some devices of the filesystem are missing")
            }
            guard l.hasPrefix("devid "), let path = l.components(after: " path ") else { continue }
            let dev = path.trimmed()
            if dev.hasPrefix("<missing") {
                throw DaemonError(ENODEV, "\(op): \(shown): some devices of the filesystem are missing")
            }
            out.append(dev)
        }
        if out.isEmpty { throw DaemonError(EINVAL, "\(op): \(shown): no btrfs filesystem found") }
        return out
    }

    // MARK: checking and repairing (unmounted)

    func btrfsFsck(_ ctx: CallContext, device: String, superblock: Int64?, repair: Bool?) throws {
        let op = "btrfs_fsck"
        var argv = ["btrfs", "check"]
        if let superblock {
            if superblock < 0 { throw DaemonError(EINVAL, "\(op): superblock must not be negative") }
            argv += ["--super", String(superblock)]
        }
        if repair == true { argv.append("--repair") }
        argv.append(device)
        try btrfsRun(ctx, op, ctx.canonicalName(device), argv)
    }

    func btrfsRescueChunkRecover(_ ctx: CallContext, device: String) throws {
        try btrfsRun(ctx, "btrfs_rescue_chunk_recover", ctx.canonicalName(device),
                     ["btrfs", "rescue", "chunk-recover", "-y", device])
    }

    func btrfsRescueSuperRecover(_ ctx: CallContext, device: String) throws {
        // Exit status 2 means "bad superblocks found and all rewritten": a
        // success for the caller, not an error (0: nothing needed fixing).
        let r = try Command.run(["btrfs", "rescue", "super-recover", "-y", device])
        if r.status == 0 || r.status == 2 { return }
        throw btrfsFailure(ctx, "btrfs_rescue_super_recover", ctx.canonicalName(device), r, program: "btrfs")
    }

    func btrfsImage(_ ctx: CallContext, source: [String], image: String, compresslevel: Int32?) throws {
        let op = "btrfs_image"
        guard !source.isEmpty else { throw DaemonError(EINVAL, "\(op): the list of source devices must not be empty") }
        var argv = ["btrfs-image"]
        if let compresslevel {
            guard (0...9).contains(compresslevel) else {
                throw DaemonError(EINVAL, "\(op): compresslevel must be between 0 and 9 (got \(compresslevel))")
            }
            argv += ["-c", String(compresslevel)]
        }
        let host = try ctx.sysroot.hostPath(image, mustExist: false, op: op)
        if Sys.isDirectory(host) { throw DaemonError(EISDIR, "\(op): \(image): Is a directory") }
        argv += source + [host]
        try btrfsRun(ctx, op, ctx.canonicalName(source[0]), argv)
    }

    // MARK: btrfstune (unmounted)

    private func btrfstune(_ ctx: CallContext, _ op: String, _ device: String, _ flags: [String]) throws {
        try btrfsRun(ctx, op, ctx.canonicalName(device), ["btrfstune"] + flags + [device])
    }

    func btrfsSetSeeding(_ ctx: CallContext, device: String, seeding: Bool) throws {
        // Clearing the flag asks for confirmation unless forced.
        try btrfstune(ctx, "btrfs_set_seeding", device, seeding ? ["-S", "1"] : ["-S", "0", "-f"])
    }

    func btrfstuneSeeding(_ ctx: CallContext, device: String, seeding: Bool) throws {
        try btrfstune(ctx, "btrfstune_seeding", device, seeding ? ["-S", "1"] : ["-S", "0", "-f"])
    }

    func btrfstuneEnableExtendedInodeRefs(_ ctx: CallContext, device: String) throws {
        try btrfstune(ctx, "btrfstune_enable_extended_inode_refs", device, ["-r"])
    }

    func btrfstuneEnableSkinnyMetadataExtentRefs(_ ctx: CallContext, device: String) throws {
        try btrfstune(ctx, "btrfstune_enable_skinny_metadata_extent_refs", device, ["-x"])
    }

    // MARK: devices

    func btrfsDeviceAdd(_ ctx: CallContext, devices: [String], fs: String) throws {
        if devices.isEmpty { return }
        try btrfsOnPath(ctx, "btrfs_device_add", fs, ["device", "add", "-f"] + devices)
    }

    func btrfsDeviceDelete(_ ctx: CallContext, devices: [String], fs: String) throws {
        if devices.isEmpty { return }
        try btrfsOnPath(ctx, "btrfs_device_delete", fs, ["device", "delete"] + devices)
    }

    func btrfsReplace(_ ctx: CallContext, srcdev: String, targetdev: String, mntpoint: String) throws {
        try btrfsOnPath(ctx, "btrfs_replace", mntpoint, ["replace", "start", "-B", "-f", srcdev, targetdev])
    }

    // MARK: subvolumes

    func btrfsSubvolumeCreate(_ ctx: CallContext, dest: String, qgroupid: String?) throws {
        let op = "btrfs_subvolume_create"
        let host = try btrfsNewHost(ctx, dest, op)
        var argv = ["btrfs", "subvolume", "create"]
        if let qgroupid { argv += ["-i", qgroupid] }
        try btrfsRun(ctx, op, dest, argv + [host])
    }

    func btrfsSubvolumeDelete(_ ctx: CallContext, subvolume: String) throws {
        let op = "btrfs_subvolume_delete"
        let host = try ctx.sysroot.hostPath(subvolume, follow: false, op: op)
        try btrfsRun(ctx, op, subvolume, ["btrfs", "subvolume", "delete", host])
    }

    func btrfsSubvolumeSnapshot(_ ctx: CallContext, source: String, dest: String, ro: Bool?, qgroupid: String?) throws {
        let op = "btrfs_subvolume_snapshot"
        let src = try btrfsHost(ctx, source, op)
        let dst = try btrfsNewHost(ctx, dest, op)
        var argv = ["btrfs", "subvolume", "snapshot"]
        if ro == true { argv.append("-r") }
        if let qgroupid { argv += ["-i", qgroupid] }
        try btrfsRun(ctx, op, "\(source): \(dest)", argv + [src, dst])
    }

    func btrfsSubvolumeSetDefault(_ ctx: CallContext, id: Int64, fs: String) throws {
        let op = "btrfs_subvolume_set_default"
        if id < 0 { throw DaemonError(EINVAL, "\(op): subvolume ID \(id) is negative") }
        try btrfsOnPath(ctx, op, fs, ["subvolume", "set-default", String(id)])
    }

    func btrfsSubvolumeGetDefault(_ ctx: CallContext, fs: String) throws -> Int64 {
        let op = "btrfs_subvolume_get_default"
        return try withBtrfsMounted(ctx, fs, op: op, readOnly: true) { dir, shown in
            let r = try btrfsRun(ctx, op, shown, ["btrfs", "subvolume", "get-default", dir])
            // "ID 5 (FS_TREE)" or "ID 256 gen 7 top level 5 path sub"
            let f = r.out.trimmed().split(separator: " ")
            guard f.count >= 2, f[0] == "ID", let id = Int64(f[1]) else {
                throw DaemonError(message: "\(op): \(shown): unexpected output from btrfs subvolume get-default: \(r.out.trimmed())")
            }
            return id
        }
    }

    func btrfsSubvolumeShow(_ ctx: CallContext, subvolume: String) throws -> [(String, String)] {
        let op = "btrfs_subvolume_show"
        let host = try btrfsHost(ctx, subvolume, op)
        let r = try Command.run(["btrfs", "subvolume", "show", host])
        if !r.ok {
            if r.err.contains("Not a Btrfs subvolume") || r.err.contains("not a subvolume") {
                throw DaemonError(EINVAL, "\(op): \(subvolume): not a btrfs subvolume")
            }
            throw btrfsFailure(ctx, op, subvolume, r, program: "btrfs")
        }
        return try Handlers.parseSubvolumeShow(r.out, op: op, shown: subvolume)
    }

    /// `btrfs subvolume show` output: the subvolume's path on the first
    /// line, then "Key: value" lines; the "Snapshot(s):" list follows on
    /// lines of their own and becomes one comma-separated value. A value of
    /// "-" (unset) becomes "".
    static func parseSubvolumeShow(_ text: String, op: String, shown: String) throws -> [(String, String)] {
        var lines = text.lines.filter { !$0.trimmed().isEmpty }[...]
        guard let first = lines.popFirst() else { throw DaemonError(message: "\(op): \(shown): no output from btrfs subvolume show") }
        var out: [(String, String)] = [("path", first.trimmed())]
        var snapshots: [String]? = nil
        for raw in lines {
            let l = raw.trimmed()
            if snapshots != nil && !l.contains(":") {
                snapshots!.append(l)
                continue
            }
            if let s = snapshots { out.append(("Snapshot(s)", s.joined(separator: ","))); snapshots = nil }
            guard let colon = l.firstIndex(of: ":") else { continue }
            let key = String(l[l.startIndex..<colon]).trimmed()
            let value = String(l[l.index(after: colon)...]).trimmed()
            if key == "Snapshot(s)" && value.isEmpty { snapshots = []; continue }
            out.append((key, value == "-" ? "" : value))
        }
        if let s = snapshots { out.append(("Snapshot(s)", s.joined(separator: ","))) }
        return out
    }

    // MARK: quotas

    func btrfsQuotaEnable(_ ctx: CallContext, fs: String, enable: Bool) throws {
        let op = "btrfs_quota_enable"
        try withBtrfsMounted(ctx, fs, op: op) { dir, shown in
            try btrfsRun(ctx, op, shown, ["btrfs", "quota", enable ? "enable" : "disable", dir], scratch: dir)
        }
    }

    func btrfsQuotaRescan(_ ctx: CallContext, fs: String) throws {
        let op = "btrfs_quota_rescan"
        try withBtrfsMounted(ctx, fs, op: op) { dir, shown in
            try btrfsRun(ctx, op, shown, ["btrfs", "quota", "rescan", "-w", dir], scratch: dir)
        }
    }

    func btrfsQgroupLimit(_ ctx: CallContext, subvolume: String, size: Int64) throws {
        let op = "btrfs_qgroup_limit"
        if size < 0 { throw DaemonError(EINVAL, "\(op): size must not be negative") }
        try btrfsOnPath(ctx, op, subvolume, ["qgroup", "limit", String(size)])
    }

    func btrfsQgroupCreate(_ ctx: CallContext, qgroupid: String, subvolume: String) throws {
        try btrfsOnPath(ctx, "btrfs_qgroup_create", subvolume, ["qgroup", "create", qgroupid])
    }

    func btrfsQgroupDestroy(_ ctx: CallContext, qgroupid: String, subvolume: String) throws {
        try btrfsOnPath(ctx, "btrfs_qgroup_destroy", subvolume, ["qgroup", "destroy", qgroupid])
    }

    func btrfsQgroupAssign(_ ctx: CallContext, src: String, dst: String, path: String) throws {
        try btrfsOnPath(ctx, "btrfs_qgroup_assign", path, ["qgroup", "assign", src, dst])
    }

    func btrfsQgroupRemove(_ ctx: CallContext, src: String, dst: String, path: String) throws {
        try btrfsOnPath(ctx, "btrfs_qgroup_remove", path, ["qgroup", "remove", src, dst])
    }

    func btrfsQgroupShow(_ ctx: CallContext, path: String) throws -> [BTRFSQgroup] {
        let op = "btrfs_qgroup_show"
        let host = try btrfsHost(ctx, path, op)
        let r = try btrfsRun(ctx, op, path, ["btrfs", "qgroup", "show", "--raw", host])
        // Qgroupid    Referenced    Exclusive   Path
        // --------    ----------    ---------   ----
        // 0/5              16384        16384   <toplevel>
        return r.out.lines.compactMap { l in
            let f = l.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 3, f[0].contains("/"), f[0].allSatisfy({ $0 == "/" || ("0"..."9").contains($0) }),
                  let rfer = UInt64(f[1]), let excl = UInt64(f[2]) else { return nil }
            return BTRFSQgroup(btrfsqgroupId: String(f[0]), btrfsqgroupRfer: rfer, btrfsqgroupExcl: excl)
        }
    }

    // MARK: balance

    func btrfsBalancePause(_ ctx: CallContext, path: String) throws {
        try btrfsOnPath(ctx, "btrfs_balance_pause", path, ["balance", "pause"])
    }

    func btrfsBalanceCancel(_ ctx: CallContext, path: String) throws {
        try btrfsOnPath(ctx, "btrfs_balance_cancel", path, ["balance", "cancel"])
    }

    func btrfsBalanceResume(_ ctx: CallContext, path: String) throws {
        try btrfsOnPath(ctx, "btrfs_balance_resume", path, ["balance", "resume"])
    }

    func btrfsBalanceStatus(_ ctx: CallContext, path: String) throws -> BTRFSBalance {
        let op = "btrfs_balance_status"
        let host = try btrfsHost(ctx, path, op)
        // Exit status 1 means "a balance is running or paused".
        let r = try Command.run(["btrfs", "balance", "status", host])
        if r.status != 0 && r.status != 1 { throw btrfsFailure(ctx, op, path, r, program: "btrfs") }
        return try Handlers.parseBalanceStatus(r.out, op: op, shown: path)
    }

    /// "No balance found on 'P'", or "Balance on 'P' is running|paused"
    /// then "B out of about T chunks balanced (C considered), L% left".
    static func parseBalanceStatus(_ text: String, op: String, shown: String) throws -> BTRFSBalance {
        var b = BTRFSBalance(btrfsbalanceStatus: "none", btrfsbalanceTotal: 0, btrfsbalanceBalanced: 0,
                             btrfsbalanceConsidered: 0, btrfsbalanceLeft: 0)
        let lines = text.lines.map { $0.trimmed() }.filter { !$0.isEmpty }
        guard let first = lines.first else { throw DaemonError(message: "\(op): \(shown): no output from btrfs balance status") }
        if first.lowercased().hasPrefix("no balance found") { return b }
        guard first.hasPrefix("Balance on "), let state = first.split(separator: " ").last.map(String.init) else {
            throw DaemonError(message: "\(op): \(shown): unexpected output from btrfs balance status: \(first)")
        }
        b.btrfsbalanceStatus = state
        if lines.count >= 2 {
            let nums = lines[1].split(whereSeparator: { !("0"..."9").contains($0) }).compactMap { UInt64($0) }
            if nums.count >= 4 {
                b.btrfsbalanceBalanced = nums[0]
                b.btrfsbalanceTotal = nums[1]
                b.btrfsbalanceConsidered = nums[2]
                b.btrfsbalanceLeft = nums[3]
            }
        }
        return b
    }

    // MARK: scrub

    /// Runs a btrfs command that leaves a child working in the background
    /// after it returns (scrub start/resume): its output goes to a file, not
    /// a pipe, so the call does not wait for the background work to end.
    private func btrfsBackground(_ ctx: CallContext, _ op: String, _ path: String, _ args: [String]) throws {
        let host = try btrfsHost(ctx, path, op)
        var tmpl = Array("/tmp/btrfs-outXXXXXX".utf8CString)
        let fd = mkstemp(&tmpl)
        if fd < 0 { throw DaemonError.posix(op, "/tmp") }
        unlink(String(cString: tmpl))
        defer { close(fd) }
        let child = try Child.spawn(["btrfs"] + args + [host], stdin: .null, stdout: .inherit(fd), stderr: .inherit(fd))
        let status = child.wait()
        if status != 0 {
            lseek(fd, 0, SEEK_SET)
            let text = Sys.readAll(fd, limit: 1 << 16) ?? []
            throw btrfsFailure(ctx, op, path, CommandResult(status: status, stdout: [], stderr: text), program: "btrfs")
        }
    }

    func btrfsScrubStart(_ ctx: CallContext, path: String) throws {
        try btrfsBackground(ctx, "btrfs_scrub_start", path, ["scrub", "start"])
    }

    func btrfsScrubCancel(_ ctx: CallContext, path: String) throws {
        try btrfsOnPath(ctx, "btrfs_scrub_cancel", path, ["scrub", "cancel"])
    }

    func btrfsScrubResume(_ ctx: CallContext, path: String) throws {
        try btrfsBackground(ctx, "btrfs_scrub_resume", path, ["scrub", "resume"])
    }

    func btrfsScrubFull(_ ctx: CallContext, path: String, readonly: Bool?) throws {
        var args = ["scrub", "start", "-B"]
        if readonly == true { args.append("-r") }
        try btrfsOnPath(ctx, "btrfs_scrub_full", path, args)
    }

    func btrfsScrubStatus(_ ctx: CallContext, path: String) throws -> BTRFSScrub {
        let op = "btrfs_scrub_status"
        let host = try btrfsHost(ctx, path, op)
        let r = try btrfsRun(ctx, op, path, ["btrfs", "scrub", "status", "-R", host])
        return Handlers.parseScrubStatus(r.out)
    }

    /// The "\tname: number" lines of `btrfs scrub status -R`; counters it
    /// does not print (no scrub yet: "no stats available") stay zero.
    static func parseScrubStatus(_ text: String) -> BTRFSScrub {
        var v: [String: UInt64] = [:]
        for l in text.lines {
            let t = l.trimmed()
            guard let colon = t.firstIndex(of: ":") else { continue }
            let key = String(t[t.startIndex..<colon])
            if let n = UInt64(String(t[t.index(after: colon)...]).trimmed()) { v[key] = n }
        }
        return BTRFSScrub(
            btrfsscrubDataExtentsScrubbed: v["data_extents_scrubbed"] ?? 0,
            btrfsscrubTreeExtentsScrubbed: v["tree_extents_scrubbed"] ?? 0,
            btrfsscrubDataBytesScrubbed: v["data_bytes_scrubbed"] ?? 0,
            btrfsscrubTreeBytesScrubbed: v["tree_bytes_scrubbed"] ?? 0,
            btrfsscrubReadErrors: v["read_errors"] ?? 0,
            btrfsscrubCsumErrors: v["csum_errors"] ?? 0,
            btrfsscrubVerifyErrors: v["verify_errors"] ?? 0,
            btrfsscrubNoCsum: v["no_csum"] ?? 0,
            btrfsscrubCsumDiscards: v["csum_discards"] ?? 0,
            btrfsscrubSuperErrors: v["super_errors"] ?? 0,
            btrfsscrubMallocErrors: v["malloc_errors"] ?? 0,
            btrfsscrubUncorrectableErrors: v["uncorrectable_errors"] ?? 0,
            btrfsscrubUnverifiedErrors: v["unverified_errors"] ?? 0,
            btrfsscrubCorrectedErrors: v["corrected_errors"] ?? 0,
            btrfsscrubLastPhysical: v["last_physical"] ?? 0)
    }

    // MARK: listing filesystems

    /// The subvolumes list_filesystems shows for a btrfs device: all but
    /// the default one, which mounting the device itself already gives.
    func btrfsSubvolumesForListing(device: String) throws -> [BTRFSSubvolume] {
        func list(_ dir: String) throws -> [BTRFSSubvolume] {
            let subs = try btrfsSubvolumes(hostPath: dir)
            let out = try Command.output(["btrfs", "subvolume", "get-default", dir])
            let f = out.trimmed().split(separator: " ")
            guard f.count >= 2, f[0] == "ID", let def = UInt64(f[1]) else { return subs }
            return subs.filter { $0.btrfssubvolumeId != def }
        }
        return try withBtrfsTopLevel(device, list)
    }
}
