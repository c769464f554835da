// virt-format: erase disks and give each a fresh partition table, LVM and
// filesystem, with libguestfs's virt-format's options and defaults.

import Guestfs

final class VirtFormat: VirtTool {
    static let name = "virt-format"
    static let summary = "erase and make a blank disk"
    static let usage = """
        virt-format [--options] -a disk.img [-a disk.img ...]
        """
    var mountsGuest: Bool { false }
    var readOnly: Bool { false }

    var filesystem: String?
    /// nil: no partition table; "DEFAULT": MBR below 2 TiB, else GPT.
    var partition: String? = "DEFAULT"
    var lvm: (vg: String, lv: String)?
    var label: String?
    var wipe = false
    required init() {}

    func options(_ common: CommonOptions) -> [ToolOption] {
        [
            ToolOption(long: ["filesystem"], short: [], takesValue: true,
                       help: "--filesystem=..     Create an empty filesystem of this type") { v in
                guard let v, !v.hasPrefix("-") else { throw UsageError(description: "no filesystem was specified") }
                self.filesystem = v
            },
            ToolOption(long: ["label"], short: [], takesValue: true,
                       help: "--label=..          Set the filesystem label") { self.label = $0 },
            ToolOption(long: ["lvm"], short: [], takesValue: true, valueOptional: true,
                       help: "--lvm[=/dev/VG/LV]  Create an LVM logical volume (default /dev/VG/LV)") { v in
                if self.lvm != nil { throw UsageError(description: "--lvm option cannot be given multiple times") }
                self.lvm = try VirtFormat.parseVolume(v ?? "/dev/VG/LV")
            },
            ToolOption(long: ["partition"], short: [], takesValue: true, valueOptional: true,
                       help: "--partition[=mbr|gpt|none] Create this partition table type") { v in
                switch v {
                case nil: self.partition = "DEFAULT"
                case "none": self.partition = nil
                case let t?: self.partition = t
                }
            },
            ToolOption(long: ["wipe"], short: [], takesValue: false,
                       help: "--wipe              Write zeroes over the whole disk") { _ in self.wipe = true },
        ]
    }

    /// "/dev/VG/LV" or "VG/LV" → (VG, LV).
    static func parseVolume(_ spec: String) throws -> (vg: String, lv: String) {
        let s = spec.hasPrefix("/dev/") ? String(spec.dropFirst(5)) : spec
        let parts = s.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw UsageError(description: "cannot parse --lvm option (\(spec)): use --lvm=/dev/VG/LV")
        }
        return (parts[0], parts[1])
    }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        guard operands.isEmpty else { throw UsageError(description: "extra arguments on the command line: \(operands.joined(separator: " "))") }
        guard !common.disks.isEmpty else { throw UsageError(description: "you must specify at least one -a option") }
        let g = try openGuest(common, tool: Self.name, readOnly: false, unlock: false)
        defer { g.close() }
        let devices = try g.listDevices()
        let haveWipefs = (try? g.featureAvailable(["wipefs"])) ?? false
        // The appliance brings up the old LVM volume groups and RAID arrays
        // at boot; while they hold the disks their tables cannot be reread.
        try g.vgActivateAll(false)
        for md in (try? g.listMdDevices()) ?? [] { try? g.mdStop(md) }
        // Signatures inside the old partitions too: a new partition at the
        // same offset must not bring back an old PV or filesystem.
        if !wipe && haveWipefs {
            for part in try g.listPartitions() { try? g.wipefs(part) }
        }
        for dev in devices {
            if wipe {
                try g.zeroDevice(dev)
            } else {
                // Old filesystem and RAID/LVM signatures first, then the partition table.
                if haveWipefs { try g.wipefs(dev) }
                try g.zero(dev)
            }
            // Give the space back to the host where the disk allows it.
            try? g.blkdiscard(dev)
            try g.blockdevRereadpt(dev)
        }
        for dev in devices { try format(g, dev) }
        try g.sync()
        try g.shutdown()
        return 0
    }

    private func format(_ g: Guestfs, _ disk: String) throws {
        var target = disk
        if let partition {
            var type = partition
            if type == "DEFAULT" { type = try g.blockdevGetsize64(disk) < 2 << 40 ? "mbr" : "gpt" }
            try g.partDisk(disk, type)
            target = disk + "1"
            // Windows ignores an MBR partition whose type byte does not match.
            if type == "mbr" || type == "msdos", let id = mbrID() { try g.partSetMbrId(disk, 1, id) }
        }
        if let lvm {
            try g.pvcreate(target)
            try g.vgcreate(lvm.vg, [target])
            try g.lvcreateFree(lvm.lv, lvm.vg, 100)
            target = "/dev/\(lvm.vg)/\(lvm.lv)"
        }
        if let filesystem { try g.mkfs(filesystem, target, label: label) }
    }

    private func mbrID() -> Int32? {
        if lvm != nil { return 0x8e }
        switch filesystem {
        case "msdos"?: return 0x01
        case "fat"?, "vfat"?: return 0x0b
        case "ntfs"?: return 0x07
        case "minix"?: return 0x81
        case let f? where f.hasPrefix("ext"): return 0x83
        default: return nil
        }
    }
}
