// More partition-table actions: GPT names and attributes, MBR ids and
// kinds, resizing partitions, relocating the backup GPT.

import Glibc
import GuestfsProtocol

extension Handlers {
    private func checkPartnum(_ partnum: Int32, _ op: String) throws {
        if partnum <= 0 { throw DaemonError(EINVAL, "\(op): partition number must be >= 1") }
    }

    func partGetName(_ ctx: CallContext, device: String, partnum: Int32) throws -> String {
        try checkPartnum(partnum, "part_get_name")
        try requireGPT(ctx, device, "part_get_name")
        let out = try Command.output(["sgdisk", "-i", String(partnum), "--", device])
        let key = "Partition name:"
        for l in out.lines where l.hasPrefix(key) {
            var v = l.dropFirst(key.count).trimmed()
            if v.count >= 2, v.hasPrefix("'"), v.hasSuffix("'") { v = String(v.dropFirst().dropLast()) }
            return v
        }
        throw DaemonError(EINVAL, "part_get_name: \(ctx.canonicalName(device)): no partition \(partnum)")
    }

    func partResize(_ ctx: CallContext, device: String, partnum: Int32, endsect: Int64) throws {
        try checkPartnum(partnum, "part_resize")
        if endsect <= 0 { throw DaemonError(EINVAL, "part_resize: endsect must be > 0") }
        // parted asks before shrinking even in script mode; the hidden
        // ---pretend-input-tty option lets it read the answer from stdin.
        let r = try Command.run(["parted", "---pretend-input-tty", device, "resizepart", String(partnum), "\(endsect)s"],
                                input: Array("Yes\n".utf8))
        let err = r.err.trimmed()
        if !r.ok || err.contains("Error:") {
            throw DaemonError(message: "parted: \(ctx.canonicalName(device)): " + ctx.devices.canonicalizeText(err.isEmpty ? r.out.trimmed() : err))
        }
        settlePartitions(device)
    }

    func partExpandGpt(_ ctx: CallContext, device: String) throws {
        try requireGPT(ctx, device, "part_expand_gpt")
        try Command.check(["sgdisk", "-e", "--", device])
        settlePartitions(device)
    }

    func partGetMbrPartType(_ ctx: CallContext, device: String, partnum: Int32) throws -> String {
        try checkPartnum(partnum, "part_get_mbr_part_type")
        let t = try partGetParttype(ctx, device: device)
        let (_, parts) = try partedPrint(device)
        guard parts.contains(where: { $0.first == String(partnum) }) else {
            throw DaemonError(EINVAL, "part_get_mbr_part_type: \(ctx.canonicalName(device)): no partition \(partnum)")
        }
        if t != "msdos" { return "primary" }
        if partnum > 4 { return "logical" }
        let id = try partGetMbrId(ctx, device: device, partnum: partnum)
        return [0x05, 0x0f, 0x85].contains(id) ? "extended" : "primary"
    }

    func partSetMbrId(_ ctx: CallContext, device: String, partnum: Int32, idbyte: Int32) throws {
        try checkPartnum(partnum, "part_set_mbr_id")
        if idbyte < 0 || idbyte > 255 { throw DaemonError(EINVAL, "part_set_mbr_id: id byte must be in 0..255") }
        let t = try partGetParttype(ctx, device: device)
        if t != "msdos" {
            throw DaemonError(EINVAL, "part_set_mbr_id: \(ctx.canonicalName(device)): the partition table is \(t), not MBR")
        }
        let hex = String(idbyte, radix: 16)
        try Command.check(["sfdisk", "--no-reread", "--part-type", device, String(partnum), hex])
        settlePartitions(device)
    }

    func partGetGptAttributes(_ ctx: CallContext, device: String, partnum: Int32) throws -> Int64 {
        try checkPartnum(partnum, "part_get_gpt_attributes")
        try requireGPT(ctx, device, "part_get_gpt_attributes")
        let v = try sgdiskInfo(device, partnum, "Attribute flags:")
        guard let bits = UInt64(v, radix: 16) else {
            throw DaemonError(message: "sgdisk: \(ctx.canonicalName(device)): cannot parse attribute flags \"\(v)\"")
        }
        return Int64(bitPattern: bits)
    }

    func partSetGptAttributes(_ ctx: CallContext, device: String, partnum: Int32, attributes: Int64) throws {
        try checkPartnum(partnum, "part_set_gpt_attributes")
        try requireGPT(ctx, device, "part_set_gpt_attributes")
        var hex = String(UInt64(bitPattern: attributes), radix: 16)
        hex = String(repeating: "0", count: max(0, 16 - hex.count)) + hex
        try Command.check(["sgdisk", "-A", "\(partnum):=:\(hex)", "--", device])
        settlePartitions(device)
    }

    func partSetDiskGuidRandom(_ ctx: CallContext, device: String) throws {
        try requireGPT(ctx, device, "part_set_disk_guid_random")
        try Command.check(["sgdisk", "-U", "R", "--", device])
        settlePartitions(device)
    }
}
