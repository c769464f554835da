// virt-filesystems: list the filesystems, partitions, block devices and
// LVM objects of a disk image or guest.

import Guestfs
import GuestfsProtocol

final class VirtFilesystems: VirtTool {
    static let name = "virt-filesystems"
    static let summary = "list filesystems, partitions, block devices, LVM in a virtual machine or disk image"
    static let usage = """
        virt-filesystems [--options] -d domname
        virt-filesystems [--options] -a disk.img [-a disk.img ...]
        """

    struct Output: OptionSet {
        let rawValue: Int
        static let filesystems = Output(rawValue: 1)
        static let extra = Output(rawValue: 2)
        static let lvs = Output(rawValue: 4)
        static let vgs = Output(rawValue: 8)
        static let pvs = Output(rawValue: 16)
        static let partitions = Output(rawValue: 32)
        static let blockdevs = Output(rawValue: 64)
        static let all: Output = [.filesystems, .extra, .lvs, .vgs, .pvs, .partitions, .blockdevs]
    }

    var output: Output = []
    var long = false
    var human = false
    var csv = false
    var uuid = false
    var noTitle = false
    var mountsGuest: Bool { false }

    required init() {}

    func options(_ common: CommonOptions) -> [ToolOption] {
        func flag(_ long: [String], _ help: String, _ f: @escaping () -> Void) -> ToolOption {
            ToolOption(long: long, short: [], takesValue: false, help: help) { _ in f() }
        }
        return [
            flag(["all"], "--all               Display everything") { self.output = .all },
            flag(["blkdevs", "block-devices"], "--blkdevs           Display block devices") { self.output.insert(.blockdevs) },
            flag(["csv"], "--csv               Output as Comma-Separated Values") { self.csv = true },
            flag(["extra"], "--extra             Display swap and data filesystems") { self.output.formUnion([.filesystems, .extra]) },
            flag(["filesystems"], "--filesystems       Display mountable filesystems") { self.output.insert(.filesystems) },
            ToolOption(long: [], short: ["h"], takesValue: false, help: "-h|--human-readable Human-readable sizes in output") { _ in self.human = true },
            flag(["human-readable"], "--human-readable    Human-readable sizes in output") { self.human = true },
            ToolOption(long: ["long"], short: ["l"], takesValue: false, help: "-l|--long           Long output") { _ in self.long = true },
            flag(["lvs", "logvols", "logical-volumes"], "--lvs               Display LVM logical volumes") { self.output.insert(.lvs) },
            flag(["no-title"], "--no-title          No title in --long output") { self.noTitle = true },
            flag(["parts", "partitions"], "--parts             Display partitions") { self.output.insert(.partitions) },
            flag(["pvs", "physvols", "physical-volumes"], "--pvs               Display LVM physical volumes") { self.output.insert(.pvs) },
            flag(["uuid", "uuids"], "--uuid              Add UUIDs to --long output") { self.uuid = true },
            flag(["vgs", "volgroups", "volume-groups"], "--vgs               Display LVM volume groups") { self.output.insert(.vgs) },
        ]
    }

    // Which of the eight columns are shown.
    var showType = false, showVFS = false, showMBR = false, showSize = false, showParent = false, showUUID = false
    var table = TextTable(totalColumns: 8)
    var csvOut = ""

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        if let extra = operands.first {
            throw UsageError(description: "extra argument '\(extra)' on the command line (give --format's value as --format=\(extra))")
        }
        if human && csv { throw ToolError("you cannot use -h and --csv options together.") }
        if output.isEmpty { output = .filesystems }
        if long {
            showType = true
            showSize = true
            showVFS = output.contains(.filesystems)
            showParent = true
            showMBR = output.contains(.partitions)
            showUUID = uuid
        }
        let g = try openGuest(common, tool: Self.name, readOnly: true)
        defer { g.close() }
        if long && !noTitle {
            emit(name: "Name", type: "Type", vfs: "VFS", label: "Label", mbr: "MBR", size: "Size", parents: "Parent", uuid: "UUID")
        }
        if output.contains(.filesystems) { try listFilesystems(g) }
        if output.contains(.lvs) { try listLVs(g) }
        if output.contains(.vgs) { try listVGs(g) }
        if output.contains(.pvs) { try listPVs(g) }
        if output.contains(.partitions) { try listPartitions(g) }
        if output.contains(.blockdevs) { try listDevices(g) }
        ToolIO.out(csv ? csvOut : table.render())
        return 0
    }

    func emit(name: String, type: String?, vfs: String?, label: String?, mbr: String?, size: String?, parents: String?, uuid: String?) {
        var row: [String?] = [name]
        if showType { row.append(type) }
        if showVFS { row.append(vfs); row.append(label) }
        if showMBR { row.append(mbr) }
        if showSize { row.append(size) }
        if showParent { row.append(parents) }
        if showUUID { row.append(uuid) }
        if csv { csvOut += CSV.row(row) + "\n" } else { table.add(row) }
    }

    func sizeText(_ n: Int64?) -> String? {
        guard let n, n >= 0 else { return nil }
        return human ? HumanSize.format(UInt64(n)) : String(n)
    }

    func listFilesystems(_ g: Guestfs) throws {
        for (fs, vfs) in try g.listFilesystemsPairs() {
            if !output.contains(.extra) && (vfs == "swap" || vfs == "unknown") { continue }
            let dev = try g.canonicalDeviceName(fs)
            let label = showVFS ? ((try? g.vfsLabel(fs)) ?? "") : nil
            let uuid = showUUID ? ((try? g.vfsUuid(fs)) ?? "") : nil
            var size: Int64?
            if showSize {
                // The filesystem's own size where it mounts, else the device's.
                if (try? g.mountRo(fs, "/")) != nil {
                    if let st = try? g.statvfs("/") { size = st.blocks * st.bsize }
                    try? g.umountAll()
                }
                if size == nil { size = try g.blockdevGetsize64(fs) }
            }
            emit(name: dev, type: "filesystem", vfs: vfs, label: label, mbr: nil, size: sizeText(size),
                 parents: try mdParents(g, fs), uuid: uuid)
        }
    }

    func listLVs(_ g: Guestfs) throws {
        for lv in try g.lvs() {
            let size = showSize ? try g.blockdevGetsize64(lv) : nil
            let uuid = showUUID ? try g.lvuuid(lv) : nil
            let parent = lv.split(separator: "/").dropLast().joined(separator: "/")
            emit(name: lv, type: "lv", vfs: nil, label: nil, mbr: nil, size: sizeText(size), parents: "/" + parent, uuid: uuid)
        }
    }

    func listVGs(_ g: Guestfs) throws {
        let pvs = try g.pvsFull()
        for vg in try g.vgsFull() {
            var parents: [String] = []
            for u in try g.vgpvuuids(vg.vgName) {
                let bare = u.filter { $0.isLetter || $0.isNumber }
                if let pv = pvs.first(where: { $0.pvUuid == bare }) {
                    parents.append(try g.canonicalDeviceName(pv.pvName))
                } else {
                    parents.append(String(bare.prefix(32)))
                }
            }
            emit(name: "/dev/\(vg.vgName)", type: "vg", vfs: nil, label: nil, mbr: nil,
                 size: sizeText(vg.vgSize), parents: parents.joined(separator: ","), uuid: vg.vgUuid)
        }
    }

    func listPVs(_ g: Guestfs) throws {
        for pv in try g.pvsFull() {
            emit(name: try g.canonicalDeviceName(pv.pvName), type: "pv", vfs: nil, label: nil, mbr: nil,
                 size: sizeText(pv.pvSize), parents: nil, uuid: pv.pvUuid)
        }
    }

    func listPartitions(_ g: Guestfs) throws {
        for part in try g.listPartitions() {
            let dev = try g.canonicalDeviceName(part)
            let size = showSize ? try g.blockdevGetsize64(part) : nil
            var parent: String?
            var mbr: String?
            if showParent {
                let whole = try g.partToDev(part)
                if showMBR, (try? g.partGetParttype(whole)) == "msdos",
                   let n = try? g.partToPartnum(part), let id = try? g.partGetMbrId(whole, n) {
                    mbr = String(format: "%02x", id)
                }
                parent = try g.canonicalDeviceName(whole)
            }
            emit(name: dev, type: "partition", vfs: nil, label: nil, mbr: mbr, size: sizeText(size), parents: parent, uuid: nil)
        }
    }

    func listDevices(_ g: Guestfs) throws {
        for d in try g.listDevices() {
            let size = showSize ? try g.blockdevGetsize64(d) : nil
            emit(name: try g.canonicalDeviceName(d), type: "device", vfs: nil, label: nil, mbr: nil,
                 size: sizeText(size), parents: try mdParents(g, d), uuid: nil)
        }
    }

    /// The member devices of an md array (/dev/mdN), else none.
    func mdParents(_ g: Guestfs, _ dev: String) throws -> String? {
        guard dev.hasPrefix("/dev/md"), dev.dropFirst(7).allSatisfy(\.isNumber), !dev.dropFirst(7).isEmpty else { return nil }
        return try g.mdStat(dev).map { try g.canonicalDeviceName($0.mdstatDevice) }.joined(separator: ",")
    }
}
