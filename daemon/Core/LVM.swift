// LVM2 through the lvm(8) multi-call tool.

import Glibc
import GuestfsProtocol

extension Handlers {
    func lvm(_ args: [String], input: [UInt8]? = nil) throws -> String {
        var argv = ["lvm"] + args
        // A device filter set by lvm_set_filter (LVMMore.swift) applies to every command.
        if let filter = LVMFilter.config, argv.count > 1 { argv.insert(contentsOf: ["--config", filter], at: 2) }
        return try Command.output(argv, input: input)
    }

    /// Rows of an lvm report, split on the separator.
    func lvmReport(_ command: String, _ fields: [String], extra: [String] = []) throws -> [[String]] {
        let sep = "\u{1F}"
        let out = try lvm([command, "--noheadings", "--units", "b", "--nosuffix", "--separator", sep,
                           "-o", fields.joined(separator: ",")] + extra)
        return out.lines.compactMap { l -> [String]? in
            let t = l.trimmed()
            if t.isEmpty { return nil }
            return t.split(separator: Character(sep), omittingEmptySubsequences: false).map { String($0).trimmed() }
        }
    }

    /// "/dev/VG/LV" for every logical volume.
    func lvNames() throws -> [String] {
        try lvmReport("lvs", ["vg_name", "lv_name"]).compactMap { r in
            r.count == 2 ? "/dev/\(r[0])/\(r[1])" : nil
        }
    }

    func pvs(_ ctx: CallContext) throws -> [String] {
        try lvmReport("pvs", ["pv_name"]).compactMap(\.first)
    }

    func vgs(_ ctx: CallContext) throws -> [String] {
        try lvmReport("vgs", ["vg_name"]).compactMap(\.first)
    }

    func lvs(_ ctx: CallContext) throws -> [String] {
        try lvNames()
    }

    private static func i64(_ s: String) -> Int64 { Int64(s) ?? (s.isEmpty ? 0 : Int64(Double(s) ?? 0)) }
    private static func pct(_ s: String) -> Float { s.isEmpty ? -1 : Float(s) ?? -1 }
    private static func uuid(_ s: String) -> String { s.filter { $0 != "-" } }

    func pvsFull(_ ctx: CallContext) throws -> [PV] {
        let f = ["pv_name", "pv_uuid", "pv_fmt", "pv_size", "dev_size", "pv_free", "pv_used", "pv_attr",
                 "pv_pe_count", "pv_pe_alloc_count", "pv_tags", "pe_start", "pv_mda_count", "pv_mda_free"]
        return try lvmReport("pvs", f).filter { $0.count == f.count }.map { r in
            PV(pvName: ctx.canonicalName(r[0]), pvUuid: Handlers.uuid(r[1]), pvFmt: r[2], pvSize: Handlers.i64(r[3]),
               devSize: Handlers.i64(r[4]), pvFree: Handlers.i64(r[5]), pvUsed: Handlers.i64(r[6]), pvAttr: r[7],
               pvPeCount: Handlers.i64(r[8]), pvPeAllocCount: Handlers.i64(r[9]), pvTags: r[10],
               peStart: Handlers.i64(r[11]), pvMdaCount: Handlers.i64(r[12]), pvMdaFree: Handlers.i64(r[13]))
        }
    }

    func vgsFull(_ ctx: CallContext) throws -> [VG] {
        let f = ["vg_name", "vg_uuid", "vg_fmt", "vg_attr", "vg_size", "vg_free", "vg_sysid", "vg_extent_size",
                 "vg_extent_count", "vg_free_count", "max_lv", "max_pv", "pv_count", "lv_count", "snap_count",
                 "vg_seqno", "vg_tags", "vg_mda_count", "vg_mda_free"]
        return try lvmReport("vgs", f).filter { $0.count == f.count }.map { r in
            VG(vgName: r[0], vgUuid: Handlers.uuid(r[1]), vgFmt: r[2], vgAttr: r[3], vgSize: Handlers.i64(r[4]),
               vgFree: Handlers.i64(r[5]), vgSysid: r[6], vgExtentSize: Handlers.i64(r[7]),
               vgExtentCount: Handlers.i64(r[8]), vgFreeCount: Handlers.i64(r[9]), maxLv: Handlers.i64(r[10]),
               maxPv: Handlers.i64(r[11]), pvCount: Handlers.i64(r[12]), lvCount: Handlers.i64(r[13]),
               snapCount: Handlers.i64(r[14]), vgSeqno: Handlers.i64(r[15]), vgTags: r[16],
               vgMdaCount: Handlers.i64(r[17]), vgMdaFree: Handlers.i64(r[18]))
        }
    }

    func lvsFull(_ ctx: CallContext) throws -> [LV] {
        let f = ["lv_name", "lv_uuid", "lv_attr", "lv_major", "lv_minor", "lv_kernel_major", "lv_kernel_minor",
                 "lv_size", "seg_count", "origin", "snap_percent", "copy_percent", "move_pv", "lv_tags",
                 "mirror_log", "modules"]
        return try lvmReport("lvs", f).filter { $0.count == f.count }.map { r in
            LV(lvName: r[0], lvUuid: Handlers.uuid(r[1]), lvAttr: r[2], lvMajor: Handlers.i64(r[3]),
               lvMinor: Handlers.i64(r[4]), lvKernelMajor: Handlers.i64(r[5]), lvKernelMinor: Handlers.i64(r[6]),
               lvSize: Handlers.i64(r[7]), segCount: Handlers.i64(r[8]), origin: r[9],
               snapPercent: Handlers.pct(r[10]), copyPercent: Handlers.pct(r[11]), movePv: ctx.canonicalName(r[12]),
               lvTags: r[13], mirrorLog: r[14], modules: r[15])
        }
    }

    static func checkLVMName(_ name: String, _ what: String) throws {
        let ok = !name.isEmpty && name.utf8.count <= 127 && name.first != "-" && name != "." && name != ".."
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+_.-".contains($0)) }
        if !ok { throw DaemonError(EINVAL, "\(what): \(name): invalid LVM name") }
    }

    func pvcreate(_ ctx: CallContext, device: String) throws {
        _ = try lvm(["pvcreate", "--force", "--yes", device])
    }

    func vgcreate(_ ctx: CallContext, volgroup: String, physvols: [String]) throws {
        try Handlers.checkLVMName(volgroup, "vgcreate")
        _ = try lvm(["vgcreate", "--yes", volgroup] + physvols)
    }

    func lvcreate(_ ctx: CallContext, logvol: String, volgroup: String, mbytes: Int32) throws {
        try Handlers.checkLVMName(logvol, "lvcreate")
        if mbytes <= 0 { throw DaemonError(EINVAL, "lvcreate: size must be > 0 MB") }
        _ = try lvm(["lvcreate", "--yes", "-L", "\(mbytes)m", "-n", logvol, volgroup])
    }

    func lvcreateFree(_ ctx: CallContext, logvol: String, volgroup: String, percent: Int32) throws {
        try Handlers.checkLVMName(logvol, "lvcreate_free")
        if percent <= 0 || percent > 100 { throw DaemonError(EINVAL, "lvcreate_free: percent must be in 1..100") }
        _ = try lvm(["lvcreate", "--yes", "-l", "\(percent)%FREE", "-n", logvol, volgroup])
    }

    func lvremove(_ ctx: CallContext, device: String) throws {
        _ = try lvm(["lvremove", "-f", device])
    }

    func vgremove(_ ctx: CallContext, vgname: String) throws {
        _ = try lvm(["vgremove", "-f", vgname])
    }

    func pvremove(_ ctx: CallContext, device: String) throws {
        _ = try lvm(["pvremove", "-ff", "--yes", device])
    }

    func lvmRemoveAll(_ ctx: CallContext) throws {
        // Each lvm(8) run costs a noticeable fraction of a second in the
        // appliance; with no PV label on any block device and no active LVM
        // device-mapper volume there is nothing lvm could find to remove.
        if !anyLVMPresent() { return }
        // One report gives every PV and the VG it belongs to (a VG lives on
        // its PVs); removing a VG with -f removes its LVs too.
        let rows = try lvmReport("pvs", ["pv_name", "vg_name"])
        var vgNames: [String] = []
        for r in rows where r.count == 2 && !r[1].isEmpty && !vgNames.contains(r[1]) { vgNames.append(r[1]) }
        if !vgNames.isEmpty { _ = try lvm(["vgremove", "-f"] + vgNames) }
        let pvNames = rows.compactMap(\.first).filter { !$0.isEmpty }
        if !pvNames.isEmpty { _ = try lvm(["pvremove", "-ff", "--yes"] + pvNames) }
    }

    func vgActivateAll(_ ctx: CallContext, activate: Bool) throws {
        _ = try lvm(["vgchange", "-a", activate ? "y" : "n"])
    }

    /// True when some block device (whole disk, partition, md, dm, loop…)
    /// carries an LVM2 label in one of its first four 512-byte sectors (where
    /// lvm looks for "LABELONE"), or an LVM device-mapper volume is active.
    func anyLVMPresent() -> Bool {
        var names: [String] = []
        for d in Sys.listDirectory("/sys/block") ?? [] {
            names.append(d)
            if let uuid = Sys.readText("/sys/block/\(d)/dm/uuid"), uuid.hasPrefix("LVM-") { return true }
            for sub in Sys.listDirectory("/sys/block/\(d)") ?? [] where Sys.exists("/sys/block/\(d)/\(sub)/partition") {
                names.append(sub)
            }
        }
        let magic = Array("LABELONE".utf8)
        for n in names {
            let fd = open("/dev/" + n, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            if fd < 0 {
                // Cannot look: let lvm decide.
                if errno == ENOENT || errno == ENXIO || errno == ENOMEDIUM { continue }
                return true
            }
            defer { close(fd) }
            var buf = [UInt8](repeating: 0, count: 2048)
            let r = buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, 2048, 0) }
            if r < 0 { return true }
            for sector in stride(from: 0, to: r - magic.count + 1, by: 512) where Array(buf[sector..<sector + magic.count]) == magic {
                return true
            }
        }
        return false
    }
}

