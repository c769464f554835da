// Devices and filesystems: listing, probing (blkid), creating, labels,
// checking and resizing.

import Glibc
import GuestfsProtocol

extension Handlers {
    func listDevices(_ ctx: CallContext) throws -> [String] {
        ctx.devices.disks.map { "/dev/" + $0 }
    }

    func listPartitions(_ ctx: CallContext) throws -> [String] {
        ctx.devices.disks.flatMap { d in ctx.devices.partitions(of: d).map { "/dev/" + $0 } }
    }

    // MARK: probing

    /// blkid's value for one tag, "" when the device has none.
    func blkidTag(_ device: String, _ tag: String) throws -> String {
        let r = try Command.run(["blkid", "-c", "/dev/null", "-o", "value", "-s", tag, device])
        if r.status == 2 { return "" }   // nothing found
        if !r.ok { throw Command.failure(["blkid"], r) }
        return r.out.trimmed()
    }

    func vfsType(_ ctx: CallContext, mountable: String) throws -> String {
        let (device, subvol) = Handlers.splitMountable(mountable)
        if subvol != nil { return "btrfs" }
        return try blkidTag(device, "TYPE")
    }

    func vfsLabel(_ ctx: CallContext, mountable: String) throws -> String {
        try blkidTag(Handlers.splitMountable(mountable).device, "LABEL")
    }

    func vfsUuid(_ ctx: CallContext, mountable: String) throws -> String {
        try blkidTag(Handlers.splitMountable(mountable).device, "UUID")
    }

    func blkid(_ ctx: CallContext, device: String) throws -> [(String, String)] {
        let r = try Command.run(["blkid", "-c", "/dev/null", "-p", "-i", "-o", "export", device])
        if r.status == 2 { return [] }
        if !r.ok { throw Command.failure(["blkid"], r) }
        var out: [(String, String)] = []
        for l in r.out.lines {
            guard let eq = l.firstIndex(of: "=") else { continue }
            let k = String(l[l.startIndex..<eq])
            if k == "DEVNAME" { continue }
            out.append((k, String(l[l.index(after: eq)...])))
        }
        return out
    }

    func listFilesystems(_ ctx: CallContext) throws -> [(String, String)] {
        var candidates: [String] = []
        for d in ctx.devices.disks {
            let parts = ctx.devices.partitions(of: d)
            if parts.isEmpty { candidates.append("/dev/" + d) }
            for p in parts { candidates.append("/dev/" + p) }
        }
        for md in (Sys.listDirectory("/sys/block") ?? []).filter({ $0.hasPrefix("md") }).sorted() {
            candidates.append("/dev/" + md)
        }
        if anyLVMPresent(), let lvs = try? lvNames() { candidates += lvs }
        // Opened LUKS/BitLocker devices: what is inside them.
        candidates += Self.nonLVMMappings()
        // One blkid run probes every candidate (a run per device, plus
        // parted for the partition table, cost ~0.3 s each under TCG).
        let types = blkidTypes(candidates)
        var out: [(String, String)] = []
        for dev in candidates {
            if isExtendedPartition(dev) { continue }   // a container, not a filesystem
            var type = types[dev] ?? ""
            // Containers, not filesystems: RAID/LVM members, and encrypted
            // devices (their contents appear as /dev/mapper/* once opened).
            if type.hasSuffix("_member") || type == "crypto_LUKS" || type == "BitLocker" { continue }
            if type.isEmpty { type = "unknown" }
            out.append((dev, type))
            if type == "btrfs", let subs = try? btrfsSubvolumesForListing(device: dev) {
                for s in subs { out.append(("btrfsvol:\(dev)/\(s.btrfssubvolumePath)", "btrfs")) }
            }
        }
        return out
    }

    /// The filesystem TYPE blkid finds on each device, from one run (blkid
    /// names devices its own way, /dev/mapper/VG-LV for /dev/VG/LV, so the
    /// answers are matched by the device they resolve to).
    func blkidTypes(_ devices: [String]) -> [String: String] {
        guard !devices.isEmpty else { return [:] }
        var byReal: [String: String] = [:]
        for block in blkidExport(devices) {
            if let dev = block["DEVNAME"], let type = block["TYPE"] { byReal[realDevice(dev)] = type }
        }
        var out: [String: String] = [:]
        for d in devices { out[d] = byReal[realDevice(d)] }
        return out
    }

    /// An MBR extended partition: the kernel shows it as 1 or 2 sectors long.
    func isExtendedPartition(_ dev: String) -> Bool {
        guard let (_, n) = Handlers.splitPartition(dev), n >= 1, n <= 4 else { return false }
        let name = String(realDevice(dev).split(separator: "/").last ?? "")
        guard let size = Sys.readText("/sys/class/block/\(name)/size").flatMap({ Int($0.trimmed()) }) else { return false }
        return size <= 2
    }

    // MARK: creating

    func mkfs(_ ctx: CallContext, fstype: String, device: String, blocksize: Int32?, features: String?, inode: Int32?, sectorsize: Int32?, label: String?) throws {
        var argv = ["mkfs", "-t", fstype]
        let ext = ["ext2", "ext3", "ext4"].contains(fstype)
        switch fstype {
        case "ext2", "ext3", "ext4": argv.append("-F")
        case "xfs", "btrfs", "reiserfs": argv.append("-f")
        case "ntfs": argv.append("-Q")
        case "vfat", "msdos", "fat": argv.append("-I")
        default: break
        }
        if let blocksize {
            if blocksize <= 0 || blocksize & (blocksize - 1) != 0 {
                throw DaemonError(EINVAL, "mkfs: blocksize \(blocksize) must be a power of 2")
            }
            switch fstype {
            case "vfat", "msdos", "fat": argv += ["-s", String(max(1, blocksize / 512))]
            case "ntfs": argv += ["-c", String(blocksize)]
            case "xfs": argv += ["-b", "size=\(blocksize)"]
            case "btrfs": argv += ["-s", String(blocksize)]
            default: argv += ["-b", String(blocksize)]
            }
        }
        if let features {
            guard ext else { throw DaemonError(EINVAL, "mkfs: features are only supported for ext2/3/4") }
            argv += ["-O", features]
        }
        if let inode {
            guard ext else { throw DaemonError(EINVAL, "mkfs: the inode size is only supported for ext2/3/4") }
            argv += ["-I", String(inode)]
        }
        if let sectorsize {
            switch fstype {
            case "vfat", "msdos", "fat": argv += ["-S", String(sectorsize)]
            case "xfs": argv += ["-s", "size=\(sectorsize)"]
            default: throw DaemonError(EINVAL, "mkfs: the sector size is not supported for \(fstype)")
            }
        }
        if let label {
            switch fstype {
            case "vfat", "msdos", "fat": argv += ["-n", label]
            case "ntfs", "xfs", "btrfs", "ext2", "ext3", "ext4", "f2fs": argv += ["-L", label]
            case "reiserfs", "jfs": argv += ["-l", label]
            case "swap": argv += ["-L", label]
            default: throw DaemonError(EINVAL, "mkfs: a label is not supported for \(fstype)")
            }
        }
        if fstype == "swap" { argv = ["mkswap", "-f"] + argv.dropFirst(3) }
        argv.append(device)
        try Command.check(argv)
        Glibc.sync()
    }

    func mke2fs(_ ctx: CallContext, device: String, blockscount: Int64?, blocksize: Int64?, fragsize: Int64?, blockspergroup: Int64?, numberofgroups: Int64?, bytesperinode: Int64?, inodesize: Int64?, journalsize: Int64?, numberofinodes: Int64?, stridesize: Int64?, stripewidth: Int64?, maxonlineresize: Int64?, reservedblockspercentage: Int32?, mmpupdateinterval: Int32?, journaldevice: String?, label: String?, lastmounteddir: String?, creatoros: String?, fstype: String?, usagetype: String?, uuid: String?, forcecreate: Bool?, writesbandgrouponly: Bool?, lazyitableinit: Bool?, lazyjournalinit: Bool?, testfs: Bool?, discard: Bool?, quotatype: Bool?, extent: Bool?, filetype: Bool?, flexbg: Bool?, hasjournal: Bool?, journaldev: Bool?, largefile: Bool?, quota: Bool?, resizeinode: Bool?, sparsesuper: Bool?, uninitbg: Bool?) throws {
        var argv = ["mke2fs"]
        func num(_ flag: String, _ v: Int64?, _ name: String) throws {
            guard let v else { return }
            if v < 0 { throw DaemonError(EINVAL, "mke2fs: \(name) must be >= 0") }
            argv += [flag, String(v)]
        }
        try num("-b", blocksize, "blocksize")
        try num("-f", fragsize, "fragsize")
        try num("-g", blockspergroup, "blockspergroup")
        try num("-G", numberofgroups, "numberofgroups")
        try num("-i", bytesperinode, "bytesperinode")
        try num("-I", inodesize, "inodesize")
        try num("-N", numberofinodes, "numberofinodes")
        if let journalsize { argv += ["-J", "size=\(journalsize)"] }
        if let reservedblockspercentage { argv += ["-m", String(reservedblockspercentage)] }
        var ext: [String] = []
        if let stridesize { ext.append("stride=\(stridesize)") }
        if let stripewidth { ext.append("stripe_width=\(stripewidth)") }
        if let maxonlineresize { ext.append("resize=\(maxonlineresize)") }
        if let mmpupdateinterval { ext.append("mmp_update_interval=\(mmpupdateinterval)") }
        if let lazyitableinit { ext.append("lazy_itable_init=\(lazyitableinit ? 1 : 0)") }
        if let lazyjournalinit { ext.append("lazy_journal_init=\(lazyjournalinit ? 1 : 0)") }
        if let discard { ext.append(discard ? "discard" : "nodiscard") }
        if !ext.isEmpty { argv += ["-E", ext.joined(separator: ",")] }
        if let journaldevice {
            let real = try ctx.resolveDevice(journaldevice, "journaldevice")
            argv += ["-J", "device=\(real)"]
        }
        if let label { argv += ["-L", label] }
        if let lastmounteddir { argv += ["-M", lastmounteddir] }
        if let creatoros { argv += ["-o", creatoros] }
        if let fstype { argv += ["-t", fstype] }
        if let usagetype { argv += ["-T", usagetype] }
        if let uuid { argv += ["-U", uuid] }
        if forcecreate == true { argv.append("-F") }
        if writesbandgrouponly == true { argv.append("-S") }
        if testfs == true { argv.append("-c") }
        if journaldev == true { argv.append("-O"); argv.append("journal_dev") }
        var feats: [String] = []
        let flags: [(Bool?, String)] = [(extent, "extent"), (filetype, "filetype"), (flexbg, "flex_bg"),
                                        (hasjournal, "has_journal"), (largefile, "large_file"), (quota, "quota"),
                                        (resizeinode, "resize_inode"), (sparsesuper, "sparse_super"), (uninitbg, "uninit_bg")]
        for (v, n) in flags { if let v { feats.append(v ? n : "^" + n) } }
        if !feats.isEmpty { argv += ["-O", feats.joined(separator: ",")] }
        if let quotatype, quotatype { argv += ["-E", "quotatype=usrquota:grpquota"] }
        if forcecreate != true { argv.append("-F") }   // never ask questions
        argv.append(device)
        if let blockscount { argv.append(String(blockscount)) }
        try Command.check(argv)
        Glibc.sync()
    }

    func setLabel(_ ctx: CallContext, mountable: String, label: String) throws {
        let (device, _) = Handlers.splitMountable(mountable)
        let type = try blkidTag(device, "TYPE")
        let argv: [String]
        switch type {
        case "ext2", "ext3", "ext4":
            if label.utf8.count > 16 { throw DaemonError(ERANGE, "set_label: ext2/3/4 labels are limited to 16 bytes") }
            argv = ["e2label", device, label]
        case "vfat", "msdos": argv = ["fatlabel", device, label]
        case "ntfs": argv = ["ntfslabel", device, label]
        case "xfs": argv = ["xfs_admin", "-L", label.isEmpty ? "--" : label, device]
        case "btrfs":
            let mp = sysrootMounts(ctx.sysroot).first { realDevice($0.source) == realDevice(device) }?.mountpoint
            argv = ["btrfs", "filesystem", "label", mp ?? device, label]
        case "swap": argv = ["swaplabel", "-L", label, device]
        case "": throw DaemonError(EINVAL, "set_label: \(ctx.canonicalName(device)): no filesystem found")
        default: throw DaemonError(ENOTSUP, "set_label: don't know how to set the label for '\(type)' filesystems")
        }
        try Command.check(argv)
    }

    func setUuid(_ ctx: CallContext, device: String, uuid: String) throws {
        let type = try blkidTag(device, "TYPE")
        let argv: [String]
        switch type {
        case "ext2", "ext3", "ext4": argv = ["tune2fs", "-f", "-U", uuid, device]
        case "xfs": argv = ["xfs_admin", "-U", uuid, device]
        case "btrfs": argv = ["btrfstune", "-f", "-U", uuid, device]
        case "swap": argv = ["swaplabel", "-U", uuid, device]
        case "": throw DaemonError(EINVAL, "set_uuid: \(ctx.canonicalName(device)): no filesystem found")
        default: throw DaemonError(ENOTSUP, "set_uuid: don't know how to set the UUID for '\(type)' filesystems")
        }
        try Command.check(argv, input: type == "btrfs" ? Array("y\n".utf8) : nil)
    }

    // MARK: ext2/3/4 tools

    func tune2fsL(_ ctx: CallContext, device: String) throws -> [(String, String)] {
        let out = try Command.output(["tune2fs", "-l", device])
        var res: [(String, String)] = []
        for l in out.lines {
            if l.hasPrefix("tune2fs ") { continue }
            guard let colon = l.firstIndex(of: ":") else { continue }
            let k = String(l[l.startIndex..<colon]).trimmed()
            var v = String(l[l.index(after: colon)...]).trimmed()
            if v == "<none>" || v == "<not available>" { v = "" }
            if !k.isEmpty { res.append((k, v)) }
        }
        return res
    }

    func e2fsck(_ ctx: CallContext, device: String, correct: Bool?, forceall: Bool?, forceno: Bool?) throws {
        let modes = [correct, forceall, forceno].filter { $0 == true }.count
        if modes > 1 { throw DaemonError(EINVAL, "e2fsck: only one of correct, forceall and forceno may be set") }
        var argv = ["e2fsck", "-f"]
        if correct == true { argv.append("-p") }
        if forceall == true { argv.append("-y") }
        if forceno == true { argv.append("-n") }
        argv.append(device)
        // 1: errors corrected; 2: corrected, reboot advised.
        try Command.check(argv, okStatuses: [0, 1, 2])
    }

    func e2fsckF(_ ctx: CallContext, device: String) throws {
        try Command.check(["e2fsck", "-p", "-f", device], okStatuses: [0, 1, 2])
    }

    func fsck(_ ctx: CallContext, fstype: String, device: String) throws -> Int32 {
        let r = try Command.run(["fsck", "-a", "-t", fstype, device])
        if r.status >= 8 && r.status != 128 { throw Command.failure(["fsck"], r) }
        return r.status
    }

    func resize2fs(_ ctx: CallContext, device: String) throws {
        try Command.check(["resize2fs", device])
    }

    func zerofree(_ ctx: CallContext, device: String) throws {
        if !Command.exists("zerofree") {
            throw DaemonError(ENOTSUP, "zerofree: the zerofree program is not available in the appliance")
        }
        try Command.check(["zerofree", device])
    }

    // MARK: btrfs

    /// Subvolumes of a btrfs filesystem given by a mounted path (host).
    func btrfsSubvolumes(hostPath: String) throws -> [BTRFSSubvolume] {
        let out = try Command.output(["btrfs", "subvolume", "list", hostPath])
        return out.lines.compactMap { l in
            // ID 256 gen 7 top level 5 path sub/vol
            let f = l.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard f.count >= 9, f[0] == "ID", let id = UInt64(f[1]), let pathIx = f.firstIndex(of: "path"),
                  let tl = f.firstIndex(of: "level").flatMap({ $0 + 1 < f.count ? UInt64(f[$0 + 1]) : nil }) else { return nil }
            let path = l.components(after: " path ") ?? f[(pathIx + 1)...].joined(separator: " ")
            return BTRFSSubvolume(btrfssubvolumeId: id, btrfssubvolumeTopLevelId: tl, btrfssubvolumePath: path)
        }
    }

    /// Subvolumes of a btrfs device, mounting it read-only on a scratch dir.
    func btrfsSubvolumes(device: String) throws -> [BTRFSSubvolume] {
        try withBtrfsTopLevel(device) { try btrfsSubvolumes(hostPath: $0) }
    }

    /// Runs `body` on a directory where the btrfs device's top level is
    /// mounted: where it already is, else a read-only scratch mount.
    func withBtrfsTopLevel<T>(_ device: String, _ body: (String) throws -> T) throws -> T {
        if let m = readMountinfo().first(where: { realDevice($0.source) == realDevice(device) && $0.root == "/" }) {
            return try body(m.mountpoint)
        }
        var tmpl = Array("/tmp/btrfsXXXXXX".utf8CString)
        guard let p = Glibc.mkdtemp(&tmpl) else { throw DaemonError.posix("mkdtemp", "/tmp") }
        let dir = String(cString: p)
        defer { Glibc.rmdir(dir) }
        try Command.check(["mount", "-o", "ro", "-t", "btrfs", device, dir])
        defer { _ = umount2(dir, 0) }
        return try body(dir)
    }

    func btrfsSubvolumeList(_ ctx: CallContext, fs: String) throws -> [BTRFSSubvolume] {
        if fs.hasPrefix("/dev/") || fs.hasPrefix("btrfsvol:") {
            return try btrfsSubvolumes(device: Handlers.splitMountable(fs).device)
        }
        return try btrfsSubvolumes(hostPath: try ctx.sysroot.hostPath(fs, op: "btrfs_subvolume_list"))
    }
}

extension String {
    /// The text after the first occurrence of `sep`, or nil.
    func components(after sep: String) -> String? {
        guard let r = Substring(self).findRange(of: sep) else { return nil }
        return String(self[r.upperBound...])
    }
}
