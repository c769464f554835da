// The deprecated sfdisk calls, carried out by today's util-linux sfdisk.
// It has no cylinder/head/sector settings and counts in 512-byte sectors,
// so geometry arguments are ignored and sfdiskM's mebibytes are written
// with an explicit "M" suffix.

import Glibc

extension Handlers {
    private func sfdiskWrite(_ ctx: CallContext, _ device: String, partnum: Int32?, lines: [String], op: String) throws {
        for l in lines where l.contains("\n") {
            throw DaemonError(EINVAL, "\(op): \(ctx.canonicalName(device)): a partition line may not contain a newline")
        }
        var argv = ["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel"]
        var script = lines
        if let partnum {
            if partnum < 1 { throw DaemonError(EINVAL, "\(op): partition number must be >= 1") }
            argv += ["-N", String(partnum)]
        } else {
            // A whole new table: an MBR one, as the old tool always wrote.
            script.insert("label: dos", at: 0)
        }
        argv.append(device)
        let input = Array(script.map { $0 + "\n" }.joined().utf8)
        try fsxTool(ctx, op: op, shown: ctx.canonicalName(device), argv, input: input)
        settlePartitions(device)
    }

    private static func checkGeometry(_ cyls: Int32, _ heads: Int32, _ sectors: Int32, op: String) throws {
        if cyls < 0 || heads < 0 || sectors < 0 {
            throw DaemonError(EINVAL, "\(op): cylinders, heads and sectors must not be negative")
        }
    }

    func sfdisk(_ ctx: CallContext, device: String, cyls: Int32, heads: Int32, sectors: Int32, lines: [String]) throws {
        try Handlers.checkGeometry(cyls, heads, sectors, op: "sfdisk")
        try sfdiskWrite(ctx, device, partnum: nil, lines: lines, op: "sfdisk")
    }

    func sfdiskN(_ ctx: CallContext, device: String, partnum: Int32, cyls: Int32, heads: Int32, sectors: Int32, line: String) throws {
        try Handlers.checkGeometry(cyls, heads, sectors, op: "sfdisk_N")
        try sfdiskWrite(ctx, device, partnum: partnum, lines: [line], op: "sfdisk_N")
    }

    /// "start,size,..." with bare numbers in mebibytes → the same with "M".
    static func sfdiskMebibyteLine(_ line: String) -> String {
        var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for i in 0..<min(2, fields.count) {
            let f = fields[i].trimmed()
            if !f.isEmpty, f.allSatisfy(\.isNumber) { fields[i] = f + "M" }
        }
        return fields.joined(separator: ",")
    }

    func sfdiskM(_ ctx: CallContext, device: String, lines: [String]) throws {
        try sfdiskWrite(ctx, device, partnum: nil, lines: lines.map(Handlers.sfdiskMebibyteLine), op: "sfdiskM")
    }

    private func sfdiskQuery(_ ctx: CallContext, _ device: String, _ flag: String, op: String) throws -> String {
        let r = try fsxTool(ctx, op: op, shown: ctx.canonicalName(device), ["sfdisk", flag, device])
        return ctx.devices.canonicalizeText(r.out)
    }

    func sfdiskL(_ ctx: CallContext, device: String) throws -> String {
        try sfdiskQuery(ctx, device, "-l", op: "sfdisk_l")
    }

    func sfdiskKernelGeometry(_ ctx: CallContext, device: String) throws -> String {
        try sfdiskQuery(ctx, device, "-g", op: "sfdisk_kernel_geometry")
    }

    func sfdiskDiskGeometry(_ ctx: CallContext, device: String) throws -> String {
        // -G (geometry from the table) is now an alias of -g.
        try sfdiskQuery(ctx, device, "-g", op: "sfdisk_disk_geometry")
    }
}
