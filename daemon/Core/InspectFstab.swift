// The guest's mount table (/etc/fstab) and how its device specs
// (UUID=, LABEL=, /dev/vdb1, /dev/mapper/vg-lv, btrfs subvolumes ...) map to
// the filesystems the appliance sees.

import Glibc

/// Identifiers of every block device, from one `blkid` run.
struct FilesystemIDs {
    /// device → tag → value (UUID, LABEL, PARTUUID, PARTLABEL, TYPE).
    var tags: [String: [String: String]] = [:]
    /// Logical volumes (/dev/VG/LV), listed once per inspection.
    var lvs: [String] = []

    static func scan() -> FilesystemIDs {
        var ids = FilesystemIDs()
        for block in blkidExport([]) {
            if let dev = block["DEVNAME"] { ids.tags[dev] = block }
        }
        return ids
    }

    /// The device whose `tag` equals `value` (UUIDs compared case-insensitively).
    func device(tag: String, value: String) -> String? {
        let want = tag.hasSuffix("UUID") ? value.lowercased() : value
        return tags.keys.sorted().first { dev in
            guard let v = tags[dev]?[tag] else { return false }
            return (tag.hasSuffix("UUID") ? v.lowercased() : v) == want
        }
    }
}

/// `blkid -c /dev/null -o export [devices]` (every device when none are
/// named), one tag dictionary per device found; empty if blkid fails.
func blkidExport(_ devices: [String]) -> [[String: String]] {
    guard let r = try? Command.run(["blkid", "-c", "/dev/null", "-o", "export"] + devices) else { return [] }
    var out: [[String: String]] = []
    var current: [String: String] = [:]
    for line in r.out.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.isEmpty {
            if !current.isEmpty { out.append(current) }
            current = [:]
            continue
        }
        guard let eq = line.firstIndex(of: "=") else { continue }
        current[String(line[line.startIndex..<eq])] = String(line[line.index(after: eq)...])
    }
    if !current.isEmpty { out.append(current) }
    return out
}

struct FstabEntry {
    var mountable: String      // appliance device or btrfsvol:...
    var mountpoint: String     // "/usr", or "swap"
    var vfstype: String
}

extension Handlers {
    /// The guest's /etc/fstab entries whose filesystem is among the disks.
    func readFstab(_ ctx: CallContext, ids: FilesystemIDs, path: String = "/etc/fstab") throws -> [FstabEntry] {
        guard let text = guestFileText(ctx, path) else { return [] }
        var out: [FstabEntry] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmed()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { unescapeMount(String($0)) }
            guard f.count >= 3 else { continue }
            let (spec, mp, type) = (f[0], f[1], f[2])
            let options = f.count > 3 ? f[3] : ""
            if type == "swap" || mp == "swap" || mp == "none" && type == "swap" {
                if let dev = resolveFstabSpec(ctx, spec, ids: ids) { out.append(FstabEntry(mountable: dev, mountpoint: "swap", vfstype: "swap")) }
                continue
            }
            guard mp.hasPrefix("/") else { continue }
            guard var dev = resolveFstabSpec(ctx, spec, ids: ids) else { continue }
            if type == "btrfs", let sub = Handlers.fstabOption(options, "subvol") {
                let s = sub.drop(while: { $0 == "/" })
                if !s.isEmpty { dev = "btrfsvol:\(dev)/\(s)" }
            }
            out.append(FstabEntry(mountable: dev, mountpoint: mp, vfstype: type))
        }
        return out
    }

    static func fstabOption(_ options: String, _ name: String) -> String? {
        for o in options.split(separator: ",") where o.hasPrefix(name + "=") {
            return String(o.dropFirst(name.count + 1))
        }
        return nil
    }

    /// Maps an fstab device spec to an appliance device, nil when it is not
    /// on the added disks (network filesystems, tmpfs, other machines' disks).
    func resolveFstabSpec(_ ctx: CallContext, _ spec: String, ids: FilesystemIDs) -> String? {
        for (prefix, tag) in [("UUID=", "UUID"), ("LABEL=", "LABEL"), ("PARTUUID=", "PARTUUID"), ("PARTLABEL=", "PARTLABEL")]
            where spec.hasPrefix(prefix) {
            var v = String(spec.dropFirst(prefix.count))
            if v.count >= 2, v.first == "\"", v.last == "\"" { v = String(v.dropFirst().dropLast()) }
            return ids.device(tag: tag, value: v)
        }
        for (prefix, tag) in [("/dev/disk/by-uuid/", "UUID"), ("/dev/disk/by-label/", "LABEL"),
                              ("/dev/disk/by-partuuid/", "PARTUUID"), ("/dev/disk/by-partlabel/", "PARTLABEL")]
            where spec.hasPrefix(prefix) {
            return ids.device(tag: tag, value: String(spec.dropFirst(prefix.count)))
        }
        guard spec.hasPrefix("/dev/") else { return nil }
        let name = String(spec.dropFirst(5))
        // The guest's own disk names (vda, sda, hda, xvda) count disks in the
        // order they are attached, as ours do.
        if let d = DiskName(name) {
            let disks = ctx.devices.disks
            guard d.index >= 0, d.index < disks.count else { return nil }
            let dev = "/dev/" + disks[d.index]
            if let p = d.partition {
                let part = Handlers.partitionName(dev, p)
                return Sys.exists(part) ? part : nil
            }
            return dev
        }
        // /dev/mapper/vg-lv and /dev/vg/lv name logical volumes.
        let lvs = ids.lvs
        if name.hasPrefix("mapper/") {
            let real = realDevice(spec)
            if let lv = lvs.first(where: { realDevice($0) == real }) { return lv }
            let mapped = String(name.dropFirst(7))
            if let lv = lvs.first(where: { Handlers.mapperName($0) == mapped }) { return lv }
            return Sys.exists(spec) ? spec : nil
        }
        if lvs.contains(spec) { return spec }
        if name.hasPrefix("md"), Sys.exists(spec) { return spec }
        return nil
    }

    /// "/dev/vg-1/lv" → "vg--1-lv", as device-mapper names logical volumes.
    static func mapperName(_ lv: String) -> String {
        let parts = lv.split(separator: "/").suffix(2).map { String($0).replacingAll("-", with: "--") }
        return parts.joined(separator: "-")
    }

    /// "/dev/sda" + 1 → "/dev/sda1"; "/dev/nvme0n1" + 1 → "/dev/nvme0n1p1".
    static func partitionName(_ disk: String, _ n: Int) -> String {
        (disk.last?.isNumber ?? false) ? "\(disk)p\(n)" : "\(disk)\(n)"
    }
}
