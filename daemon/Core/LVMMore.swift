// More LVM2: renaming, resizing, UUIDs, metadata, activation, device
// filters, and device-mapper listing.

import Glibc
import GuestfsProtocol

/// The `--config` text that restricts LVM to some devices (lvm_set_filter),
/// nil when LVM sees everything.
enum LVMFilter {
    nonisolated(unsafe) static var config: String?
}

extension Handlers {
    /// One column of an lvm report, empty cells dropped.
    private func lvmColumn(_ command: String, _ field: String, _ target: [String]) throws -> [String] {
        try lvmReport(command, [field], extra: target).compactMap { $0.first }.filter { !$0.isEmpty }
    }

    private func single(_ values: [String], _ op: String, _ what: String) throws -> String {
        guard let v = values.first else { throw DaemonError(EINVAL, "\(op): \(what): no UUID found") }
        return v
    }

    func lvrename(_ ctx: CallContext, logvol: String, newlogvol: String) throws {
        _ = try lvm(["lvrename", logvol, newlogvol])
    }

    func vgrename(_ ctx: CallContext, volgroup: String, newvolgroup: String) throws {
        try Handlers.checkLVMName(newvolgroup, "vgrename")
        _ = try lvm(["vgrename", volgroup, newvolgroup])
    }

    func lvresize(_ ctx: CallContext, device: String, mbytes: Int32) throws {
        if mbytes <= 0 { throw DaemonError(EINVAL, "lvresize: size must be > 0 MB") }
        _ = try lvm(["lvresize", "--force", "--yes", "-L", "\(mbytes)m", device])
    }

    func lvresizeFree(_ ctx: CallContext, lv: String, percent: Int32) throws {
        if percent <= 0 || percent > 100 { throw DaemonError(EINVAL, "lvresize_free: percent must be in 1..100") }
        _ = try lvm(["lvresize", "--yes", "-l", "+\(percent)%FREE", lv])
    }

    func pvresize(_ ctx: CallContext, device: String) throws {
        _ = try lvm(["pvresize", "--yes", device])
    }

    func pvresizeSize(_ ctx: CallContext, device: String, size: Int64) throws {
        if size <= 0 { throw DaemonError(EINVAL, "pvresize_size: size must be > 0") }
        _ = try lvm(["pvresize", "--yes", "--setphysicalvolumesize", "\(size)b", device])
    }

    func lvuuid(_ ctx: CallContext, device: String) throws -> String {
        try single(lvmColumn("lvs", "lv_uuid", [device]), "lvuuid", ctx.canonicalName(device))
    }

    func pvuuid(_ ctx: CallContext, device: String) throws -> String {
        try single(lvmColumn("pvs", "pv_uuid", [device]), "pvuuid", ctx.canonicalName(device))
    }

    func vguuid(_ ctx: CallContext, vgname: String) throws -> String {
        try single(lvmColumn("vgs", "vg_uuid", [vgname]), "vguuid", vgname)
    }

    func vglvuuids(_ ctx: CallContext, vgname: String) throws -> [String] {
        try lvmColumn("lvs", "lv_uuid", [vgname])
    }

    func vgpvuuids(_ ctx: CallContext, vgname: String) throws -> [String] {
        // Fails for an unknown group rather than reporting no PVs.
        _ = try lvmColumn("vgs", "vg_name", [vgname])
        return try lvmColumn("pvs", "pv_uuid", ["--select", "vg_name=\(vgname)"])
    }

    func vgActivate(_ ctx: CallContext, activate: Bool, volgroups: [String]) throws {
        _ = try lvm(["vgchange", "-a", activate ? "y" : "n"] + volgroups)
    }

    func pvchangeUuid(_ ctx: CallContext, device: String) throws {
        _ = try lvm(["pvchange", "-u", device])
    }

    func pvchangeUuidAll(_ ctx: CallContext) throws {
        _ = try lvm(["pvchange", "-u", "-a"])
    }

    func vgchangeUuid(_ ctx: CallContext, vg: String) throws {
        _ = try lvm(["vgchange", "-u", vg])
    }

    func vgchangeUuidAll(_ ctx: CallContext) throws {
        _ = try lvm(["vgchange", "-u"])
    }

    func vgmeta(_ ctx: CallContext, vgname: String) throws -> [UInt8] {
        try Handlers.checkLVMName(vgname, "vgmeta")
        var tmpl = Array("/tmp/vgmetaXXXXXX".utf8CString)
        guard let p = Glibc.mkdtemp(&tmpl) else { throw DaemonError.posix("mkdtemp", "/tmp") }
        let dir = String(cString: p)
        let file = dir + "/meta"
        defer { unlink(file); Glibc.rmdir(dir) }
        _ = try lvm(["vgcfgbackup", "-f", file, vgname])
        guard let data = Sys.readFile(file) else { throw DaemonError.posix("vgmeta: read", file) }
        return data
    }

    /// The device-mapper UUID of a block device ("LVM-..." for LVs), nil if none.
    private func dmUUID(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFBLK else { return nil }
        return Sys.readText("/sys/dev/block/\(Sys.major(st.st_rdev)):\(Sys.minor(st.st_rdev))/dm/uuid")?.trimmed()
    }

    private func rdev(_ path: String) -> dev_t? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFBLK else { return nil }
        return st.st_rdev
    }

    func isLv(_ ctx: CallContext, mountable: String) throws -> Bool {
        if mountable.hasPrefix("btrfsvol:") { return false }
        return dmUUID(mountable)?.hasPrefix("LVM-") ?? false
    }

    func lvmCanonicalLvName(_ ctx: CallContext, lvname: String) throws -> String {
        guard let dev = rdev(lvname), dmUUID(lvname)?.hasPrefix("LVM-") == true else {
            throw DaemonError(EINVAL, "lvm_canonical_lv_name: \(lvname): not a logical volume")
        }
        for name in try lvNames() where rdev(name) == dev { return name }
        throw DaemonError(EINVAL, "lvm_canonical_lv_name: \(lvname): not a logical volume")
    }

    /// Device-mapper devices other than logical volumes (LUKS mappings,
    /// dmsetup tables): LVs are listed by lvs under their /dev/VG/LV names.
    func listDmDevices(_ ctx: CallContext) throws -> [String] {
        Self.nonLVMMappings()
    }

    /// The kernel's own list (/sys/block/dm-N/dm/{name,uuid}) rather than
    /// /dev/mapper, whose nodes may be stale; LVM marks its UUIDs "LVM-".
    static func nonLVMMappings() -> [String] {
        var names: [String] = []
        for dm in (Sys.listDirectory("/sys/block") ?? []) where dm.hasPrefix("dm-") {
            guard let name = Sys.readText("/sys/block/\(dm)/dm/name")?.trimmed(), !name.isEmpty else { continue }
            let uuid = Sys.readText("/sys/block/\(dm)/dm/uuid")?.trimmed() ?? ""
            if uuid.hasPrefix("LVM-") { continue }
            names.append("/dev/mapper/" + name)
        }
        return names.sorted()
    }

    func lvmScan(_ ctx: CallContext, activate: Bool) throws {
        _ = try lvm(["vgscan", "--mknodes"])
        if activate { _ = try lvm(["vgchange", "-a", "y"]) }
    }

    /// Deactivates everything, switches the filter, activates what is visible.
    private func switchLVMFilter(_ config: String?) throws {
        _ = try? lvm(["vgchange", "-a", "n"])
        LVMFilter.config = config
        _ = try lvm(["vgscan"])
        _ = try lvm(["vgchange", "-a", "y"])
    }

    func lvmSetFilter(_ ctx: CallContext, devices: [String]) throws {
        var rules: [String] = []
        for d in devices {
            if d.contains("\"") || d.contains("|") {
                throw DaemonError(EINVAL, "lvm_set_filter: \(d): unsupported character in device name")
            }
            // Anchored regular expression matching exactly this path.
            var esc = ""
            for c in d {
                if ".+*?^$()[]{}\\".contains(c) { esc.append("\\\\") }
                esc.append(c)
            }
            rules.append("\"a|^\(esc)$|\"")
        }
        rules.append("\"r|.*|\"")
        try switchLVMFilter("devices{filter=[\(rules.joined(separator: ","))]}")
    }

    func lvmClearFilter(_ ctx: CallContext) throws {
        try switchLVMFilter(nil)
    }
}
