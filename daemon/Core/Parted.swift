// Partition tables: parted for most things, sfdisk for MBR ids, sgdisk
// for GPT GUIDs.

import Glibc
import GuestfsProtocol

extension Handlers {
    static func partTypeName(_ t: String) throws -> String {
        switch t {
        case "mbr", "msdos": return "msdos"
        case "gpt", "efi": return "gpt"
        case "aix", "amiga", "rdb", "bsd", "dasd", "dvh", "mac", "pc98", "sun", "loop": return t == "rdb" ? "amiga" : t
        default: throw DaemonError(EINVAL, "part_init: \(t): unknown partition type (use \"mbr\" or \"gpt\")")
        }
    }

    /// After changing a table: let the kernel catch up and wait for the
    /// partition nodes that devtmpfs creates.
    func settlePartitions(_ device: String) {
        Glibc.sync()
        _ = try? withDevice(device, op: "rereadpt") { fd in _ = ioctl(fd, Sys.BLKRRPART, 0) }
    }

    func parted(_ device: String, _ args: [String]) throws {
        try Command.check(["parted", "-s", "--", device] + args)
        settlePartitions(device)
    }

    func partInit(_ ctx: CallContext, device: String, parttype: String) throws {
        try parted(device, ["mklabel", try Handlers.partTypeName(parttype)])
    }

    func partAdd(_ ctx: CallContext, device: String, prlogex: String, startsect: Int64, endsect: Int64) throws {
        let kind: String
        switch prlogex {
        case "p", "primary": kind = "primary"
        case "l", "logical": kind = "logical"
        case "e", "extended": kind = "extended"
        default: throw DaemonError(EINVAL, "part_add: \(prlogex): unknown partition type: must be \"primary\", \"logical\" or \"extended\"")
        }
        if startsect < 0 { throw DaemonError(EINVAL, "part_add: startsect is negative") }
        try parted(device, ["mkpart", kind, "\(startsect)s", "\(endsect)s"])
    }

    func partDisk(_ ctx: CallContext, device: String, parttype: String) throws {
        let t = try Handlers.partTypeName(parttype)
        // Start at 1 MiB for alignment; leave room for the backup GPT.
        // One parted run does both steps (each run is slow in the appliance).
        let end = t == "gpt" ? "-34s" : "-1s"
        try parted(device, ["mklabel", t, "mkpart", "primary", "2048s", end])
    }

    func partDel(_ ctx: CallContext, device: String, partnum: Int32) throws {
        if partnum <= 0 { throw DaemonError(EINVAL, "part_del: partition number must be >= 1") }
        try parted(device, ["rm", String(partnum)])
    }

    func partSetBootable(_ ctx: CallContext, device: String, partnum: Int32, bootable: Bool) throws {
        if partnum <= 0 { throw DaemonError(EINVAL, "part_set_bootable: partition number must be >= 1") }
        try parted(device, ["set", String(partnum), "boot", bootable ? "on" : "off"])
    }

    func partSetName(_ ctx: CallContext, device: String, partnum: Int32, name: String) throws {
        if partnum <= 0 { throw DaemonError(EINVAL, "part_set_name: partition number must be >= 1") }
        let t = try partGetParttype(ctx, device: device)
        if t != "gpt" && t != "mac" && t != "pc98" && t != "amiga" {
            throw DaemonError(EINVAL, "part_set_name: \(device): partition names are only supported on GPT (and a few other) tables, not \(t)")
        }
        if t == "gpt" {
            // sgdisk takes the name as one argument, spaces and all.
            _ = try Command.output(["sgdisk", "--change-name=\(partnum):\(name)", "--", device])
            settlePartitions(device)
            return
        }
        // parted re-splits its arguments at spaces: quote the name for it.
        let quote: Character = name.contains("'") ? "\"" : "'"
        if name.contains(quote) {
            throw DaemonError(EINVAL, "part_set_name: \(device): a name with both quote characters cannot be set on a \(t) table")
        }
        try parted(device, ["name", String(partnum), "\(quote)\(name)\(quote)"])
    }

    /// `parted -m print` lines: [disk line, partition lines...].
    func partedPrint(_ device: String) throws -> (disk: [String], parts: [[String]]) {
        let out = try Command.output(["parted", "-m", "-s", "--", device, "unit", "b", "print"])
        var lines = out.lines.map { l -> String in l.hasSuffix(";") ? String(l.dropLast()) : l }
        guard let first = lines.first, first == "BYT" else {
            throw DaemonError(message: "parted: \(device): unexpected output from parted print")
        }
        lines.removeFirst()
        guard !lines.isEmpty else { throw DaemonError(message: "parted: \(device): no disk line in parted print") }
        let disk = lines.removeFirst().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let parts = lines.filter { !$0.isEmpty }.map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
        return (disk, parts)
    }

    func partGetParttype(_ ctx: CallContext, device: String) throws -> String {
        let (disk, _) = try partedPrint(device)
        guard disk.count > 5 else { throw DaemonError(message: "parted: \(device): cannot parse the disk line") }
        return disk[5]
    }

    func partList(_ ctx: CallContext, device: String) throws -> [Partition] {
        let (_, parts) = try partedPrint(device)
        func bytes(_ s: String) -> Int64? { Int64(s.hasSuffix("B") ? String(s.dropLast()) : s) }
        return try parts.map { f in
            guard f.count >= 4, let n = Int32(f[0]), let s = bytes(f[1]), let e = bytes(f[2]), let z = bytes(f[3]) else {
                throw DaemonError(message: "parted: \(device): cannot parse partition line \(f.joined(separator: ":"))")
            }
            return Partition(partNum: n, partStart: s, partEnd: e, partSize: z)
        }
    }

    func partGetBootable(_ ctx: CallContext, device: String, partnum: Int32) throws -> Bool {
        let (_, parts) = try partedPrint(device)
        guard let p = parts.first(where: { $0.first == String(partnum) }) else {
            throw DaemonError(EINVAL, "part_get_bootable: \(device): no partition \(partnum)")
        }
        let flags = p.count > 6 ? p[6] : ""
        return flags.split(separator: ",").contains { (f: Substring) in f.trimmed() == "boot" }
    }

    func partGetMbrId(_ ctx: CallContext, device: String, partnum: Int32) throws -> Int32 {
        let t = try partGetParttype(ctx, device: device)
        if t != "msdos" { throw DaemonError(EINVAL, "part_get_mbr_id: \(device): the partition table is \(t), not MBR") }
        let out = try Command.output(["sfdisk", "--part-type", device, String(partnum)]).trimmed()
        guard let v = Int32(out, radix: 16) else {
            throw DaemonError(message: "sfdisk: \(device): cannot parse partition type \"\(out)\"")
        }
        return v
    }

    static func checkGUID(_ g: String) throws {
        let hex = g.filter { $0 != "-" }
        if hex.count != 32 || !hex.allSatisfy({ $0.isHexDigit }) || g.count != 36 {
            throw DaemonError(EINVAL, "\(g): not a valid GUID")
        }
    }

    func sgdiskInfo(_ device: String, _ partnum: Int32, _ key: String) throws -> String {
        let out = try Command.output(["sgdisk", "-i", String(partnum), "--", device])
        for l in out.lines where l.hasPrefix(key) {
            let v = l.dropFirst(key.count).trimmed()
            return String(v.split(separator: " ").first ?? "")
        }
        throw DaemonError(message: "sgdisk: \(device): partition \(partnum): no \"\(key)\" in the output")
    }

    func requireGPT(_ ctx: CallContext, _ device: String, _ op: String) throws {
        let t = try partGetParttype(ctx, device: device)
        if t != "gpt" { throw DaemonError(EINVAL, "\(op): \(device): the partition table is \(t), not GPT") }
    }

    func partSetGptType(_ ctx: CallContext, device: String, partnum: Int32, guid: String) throws {
        try Handlers.checkGUID(guid)
        try requireGPT(ctx, device, "part_set_gpt_type")
        try Command.check(["sgdisk", "-t", "\(partnum):\(guid)", "--", device])
        settlePartitions(device)
    }

    func partGetGptType(_ ctx: CallContext, device: String, partnum: Int32) throws -> String {
        try requireGPT(ctx, device, "part_get_gpt_type")
        return try sgdiskInfo(device, partnum, "Partition GUID code:")
    }

    func partSetGptGuid(_ ctx: CallContext, device: String, partnum: Int32, guid: String) throws {
        try Handlers.checkGUID(guid)
        try requireGPT(ctx, device, "part_set_gpt_guid")
        try Command.check(["sgdisk", "-u", "\(partnum):\(guid)", "--", device])
        settlePartitions(device)
    }

    func partGetGptGuid(_ ctx: CallContext, device: String, partnum: Int32) throws -> String {
        try requireGPT(ctx, device, "part_get_gpt_guid")
        return try sgdiskInfo(device, partnum, "Partition unique GUID:")
    }

    func partSetDiskGuid(_ ctx: CallContext, device: String, guid: String) throws {
        try Handlers.checkGUID(guid)
        try requireGPT(ctx, device, "part_set_disk_guid")
        try Command.check(["sgdisk", "-U", guid, "--", device])
        settlePartitions(device)
    }

    func partGetDiskGuid(_ ctx: CallContext, device: String) throws -> String {
        try requireGPT(ctx, device, "part_get_disk_guid")
        let out = try Command.output(["sgdisk", "-p", "--", device])
        let key = "Disk identifier (GUID):"
        for l in out.lines where l.hasPrefix(key) { return l.dropFirst(key.count).trimmed() }
        throw DaemonError(message: "sgdisk: \(device): no disk GUID in the output")
    }

    /// "/dev/vdb1" → ("/dev/vdb", 1); nvme0n1p2 / mmcblk0p1 style too.
    static func splitPartition(_ dev: String) -> (disk: String, num: Int)? {
        var digits = ""
        var base = Substring(dev)
        while let l = base.last, l.isNumber { digits = String(l) + digits; base = base.dropLast() }
        guard !digits.isEmpty, let n = Int(digits), n > 0, !base.isEmpty else { return nil }
        if base.hasSuffix("p"), let b = base.dropLast().last, b.isNumber {
            base = base.dropLast()                    // nvme0n1p2, mmcblk0p1
        } else if base.split(separator: "/").last?.contains(where: { $0.isNumber }) ?? true {
            return nil                                // nvme0n1, md0: whole devices
        }
        return (String(base), n)
    }

    func partToDev(_ ctx: CallContext, partition: String) throws -> String {
        guard let (disk, _) = Handlers.splitPartition(partition), Sys.exists(disk) else {
            throw DaemonError(EINVAL, "part_to_dev: \(ctx.canonicalName(partition)): device name is not a partition")
        }
        return disk
    }

    func partToPartnum(_ ctx: CallContext, partition: String) throws -> Int32 {
        guard let (disk, n) = Handlers.splitPartition(partition), Sys.exists(disk) else {
            throw DaemonError(EINVAL, "part_to_partnum: \(ctx.canonicalName(partition)): device name is not a partition")
        }
        return Int32(n)
    }
}
