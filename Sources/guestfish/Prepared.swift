import Foundation
import Guestfs

/// `-N [FILE=]TYPE[:param...]`: a disk image created and prepared
/// (partitioned, formatted, LVM...) before the commands run.
struct PreparedDisk {
    struct Kind {
        let name: String
        let summary: String
        let text: String
        /// Parameter names and defaults, in order.
        let params: [(String, String, String)]
    }

    static let kinds: [Kind] = [
        Kind(name: "disk", summary: "create a blank disk",
             text: "An empty raw disk image of the given size.",
             params: [("size", "the size of the disk image", "1G")]),
        Kind(name: "part", summary: "create a partitioned disk",
             text: "A disk holding one partition that covers it all.",
             params: [("size", "the size of the disk image", "1G"), ("partition", "partition table type", "mbr")]),
        Kind(name: "fs", summary: "create a filesystem",
             text: "A disk with one partition containing an empty filesystem (/dev/sda1 for the\nfirst disk).",
             params: [("filesystem", "the type of filesystem to use", "ext2"), ("size", "the size of the disk image", "1G"),
                      ("partition", "partition table type", "mbr")]),
        Kind(name: "lv", summary: "create a disk with logical volume",
             text: "A disk with one partition used as an LVM physical volume, holding a volume group\nand one logical volume filling it. No filesystem is made: see 'lvfs'.",
             params: [("name", "the name of the VG and LV to use", "/dev/VG/LV"), ("size", "the size of the disk image", "1G"),
                      ("partition", "partition table type", "mbr")]),
        Kind(name: "lvfs", summary: "create a disk with logical volume and filesystem",
             text: "Like 'lv', with a filesystem made on the logical volume.",
             params: [("name", "the name of the VG and LV to use", "/dev/VG/LV"), ("filesystem", "the type of filesystem to use", "ext2"),
                      ("size", "the size of the disk image", "1G"), ("partition", "partition table type", "mbr")]),
        Kind(name: "bootroot", summary: "create a boot and root filesystem",
             text: "A disk with two partitions, a small boot filesystem and a root filesystem taking\nthe rest.",
             params: [("bootfs", "the type of filesystem to use for boot", "ext2"), ("rootfs", "the type of filesystem to use for root", "ext2"),
                      ("size", "the size of the disk image", "1G"), ("bootsize", "the size of the boot filesystem", "128M"),
                      ("partition", "partition table type", "mbr")]),
        Kind(name: "bootrootlv", summary: "create a boot and root filesystem using LVM",
             text: "Like 'bootroot', but the root filesystem is on a logical volume.",
             params: [("name", "the name of the VG and LV for root", "/dev/VG/LV"), ("bootfs", "the type of filesystem to use for boot", "ext2"),
                      ("rootfs", "the type of filesystem to use for root", "ext2"), ("size", "the size of the disk image", "1G"),
                      ("bootsize", "the size of the boot filesystem", "128M"), ("partition", "partition table type", "mbr")]),
    ]

    let filename: String
    let kind: Kind
    let values: [String: String]

    static func listHelp() {
        var s = "Prepared disk images (-N TYPE[:param...]):\n\n"
        for k in kinds {
            s += "guestfish -N \(k.name)" + String(repeating: " ", count: max(1, 11 - k.name.count)) + "- \(k.summary)\n\n"
            s += Help.indent(k.text, 2) + "\n\n"
            s += "  Parameters:\n    -N \(k.name)" + k.params.map { ":<\($0.0)>" }.joined() + "\n"
            for p in k.params { s += "      <\(p.0)> \(p.1) (default: \(p.2))\n" }
            s += "\n"
        }
        s += "The image is written to test1.img (test2.img, ... for further -N options) in the\n"
        s += "current directory unless a file name is given first, as in -N mydisk.img=fs.\n"
        Out.write(s)
    }

    /// Parses the -N argument; `n` numbers the default file name.
    init(_ spec: String, n: Int) throws {
        var rest = spec
        var file = "test\(n).img"
        if let eq = spec.firstIndex(of: "="), !spec[..<eq].contains(":") {
            file = String(spec[..<eq])
            rest = String(spec[spec.index(after: eq)...])
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let kind = PreparedDisk.kinds.first(where: { $0.name == parts[0] }) else {
            throw FishError("guestfish: -N parameter '\(spec)': no such prepared disk image known.\nUse 'guestfish -N help' to list possible values for the -N parameter.")
        }
        if parts.count - 1 > kind.params.count {
            throw FishError("guestfish: -N parameter '\(spec)': too many parameters for type '\(kind.name)'")
        }
        var values: [String: String] = [:]
        for (i, p) in kind.params.enumerated() {
            let v = i + 1 < parts.count ? parts[i + 1] : ""
            values[p.0] = v.isEmpty ? p.2 : v
        }
        self.filename = file
        self.kind = kind
        self.values = values
    }

    /// Creates the image and adds it (before launch).
    func create(_ sh: Shell) throws {
        let size = try Builtins.parseSize(values["size"]!, "-N")
        try sh.call("disk_create", [.string(filename), .string("raw"), .int(size)], ["preallocation": .string("sparse")])
        try sh.call("add_drive", [.string(filename)], ["format": .string("raw")])
    }

    /// Partitions and formats the disk (after launch); device is /dev/sdX.
    func prepare(_ sh: Shell, device dev: String) throws {
        let v = values
        func part(_ n: Int) -> String { dev + String(n) }
        func lvm(_ pv: String) throws -> String {
            let name = v["name"]!
            let comps = name.split(separator: "/").map(String.init)
            guard name.hasPrefix("/dev/"), comps.count == 3 else {
                throw FishError("guestfish: -N \(kind.name): '\(name)' must be of the form /dev/VG/LV")
            }
            try sh.call("pvcreate", [.string(pv)])
            try sh.call("vgcreate", [.string(comps[1]), .stringList([pv])])
            try sh.call("lvcreate_free", [.string(comps[2]), .string(comps[1]), .int(100)])
            return name
        }
        switch kind.name {
        case "disk":
            break
        case "part":
            try sh.call("part_disk", [.string(dev), .string(v["partition"]!)])
        case "fs":
            try sh.call("part_disk", [.string(dev), .string(v["partition"]!)])
            try sh.call("mkfs", [.string(v["filesystem"]!), .string(part(1))])
        case "lv", "lvfs":
            try sh.call("part_disk", [.string(dev), .string(v["partition"]!)])
            let lv = try lvm(part(1))
            if kind.name == "lvfs" { try sh.call("mkfs", [.string(v["filesystem"]!), .string(lv)]) }
        case "bootroot", "bootrootlv":
            let bootSectors = try Builtins.parseSize(v["bootsize"]!, "-N") / 512
            try sh.call("part_init", [.string(dev), .string(v["partition"]!)])
            try sh.call("part_add", [.string(dev), .string("p"), .int(64), .int(64 + bootSectors - 1)])
            try sh.call("part_add", [.string(dev), .string("p"), .int(64 + bootSectors), .int(-64)])
            try sh.call("mkfs", [.string(v["bootfs"]!), .string(part(1))])
            if kind.name == "bootroot" {
                try sh.call("mkfs", [.string(v["rootfs"]!), .string(part(2))])
            } else {
                let lv = try lvm(part(2))
                try sh.call("mkfs", [.string(v["rootfs"]!), .string(lv)])
            }
        default:
            break
        }
    }
}
