// virt-ls: list files in a guest's directories (ls, ls -l, find, and a
// detailed recursive -lR listing with optional CSV, times, uids, checksums).

import Foundation
import Guestfs
import GuestfsProtocol

final class VirtLs: VirtTool {
    static let name = "virt-ls"
    static let summary = "list files in a virtual machine"
    static let usage = """
        virt-ls [--options] -d domname directory [directory ...]
        virt-ls [--options] -a disk.img [-a disk.img ...] directory [directory ...]
        """

    var long = false
    var recursive = false
    var csv = false
    var human = false
    var uids = false
    var times = false
    /// nil: dates; 0: seconds since the epoch; 1: seconds ago; 2: days ago.
    var timeStyle: Int?
    var extraStats = false
    var checksum: String?
    let now = Int64(Date().timeIntervalSince1970)

    required init() {}

    func options(_ common: CommonOptions) -> [ToolOption] {
        func flag(_ long: [String], _ help: String, _ f: @escaping () -> Void) -> ToolOption {
            ToolOption(long: long, short: [], takesValue: false, help: help) { _ in f() }
        }
        return [
            ToolOption(long: ["checksum", "checksums"], short: [], takesValue: true, valueOptional: true,
                       help: "--checksum[=crc|md5|sha1|..] Display file checksums (-lR)") { v in
                self.checksum = (v == nil || v == "") ? "md5" : v
            },
            flag(["csv"], "--csv               Comma-Separated Values output (-lR)") { self.csv = true },
            flag(["extra-stat", "extra-stats"], "--extra-stats       Display extra stat fields (-lR)") { self.extraStats = true },
            ToolOption(long: ["human-readable"], short: ["h"], takesValue: false, help: "-h|--human-readable Human-readable sizes (-lR)") { _ in self.human = true },
            ToolOption(long: ["long"], short: ["l"], takesValue: false, help: "-l|--long           Long listing") { _ in self.long = true },
            ToolOption(long: ["recursive"], short: ["R"], takesValue: false, help: "-R|--recursive      Recursive listing") { _ in self.recursive = true },
            flag(["time", "times"], "--times             Display file times (-lR)") { self.times = true },
            flag(["time-days"], "--time-days         Display file times as days before now (-lR)") { self.times = true; self.timeStyle = 2 },
            flag(["time-relative"], "--time-relative     Display file times as seconds before now (-lR)") { self.times = true; self.timeStyle = 1 },
            flag(["time-t"], "--time-t            Display file times as seconds since the epoch (-lR)") { self.times = true; self.timeStyle = 0 },
            flag(["uid", "uids"], "--uids              Display UID, GID (-lR)") { self.uids = true },
        ]
    }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        guard !operands.isEmpty else { throw UsageError(description: "missing directory name(s) to list") }
        let detailed = long && recursive
        if !detailed && (csv || human || uids || times || extraStats || checksum != nil) {
            throw ToolError("used a flag which can only be combined with -lR mode (see virt-ls(1))")
        }
        if human && csv { throw ToolError("you cannot use -h and --csv options together.") }
        let g = try openGuest(common, tool: Self.name, readOnly: true)
        defer { g.close() }
        let root = try mountGuest(g, common, tool: Self.name, readOnly: true)
        for operand in operands {
            let dir = try guestPath(g, root: root, operand)
            switch (long, recursive) {
            case (false, false): for n in try g.ls(dir) { ToolIO.line(n) }
            case (true, false): ToolIO.out(try g.ll(dir))
            // find's names are relative to dir; shown from its root, as "/name".
            case (false, true): for n in try g.find(dir) { ToolIO.line("/" + n) }
            case (true, true): try walk(g, dir)
            }
        }
        return 0
    }

    /// Every entry under `dir`, depth first, each directory's entries
    /// stat'ed in one batch.
    func walk(_ g: Guestfs, _ dir: String) throws {
        let top = try g.lstatns(dir)
        try show(g, path: dir, top)
        try walkBelow(g, dir)
    }

    func walkBelow(_ g: Guestfs, _ dir: String) throws {
        let names = try g.ls(dir)
        guard !names.isEmpty else { return }
        let stats = try g.lstatnslist(dir, names)
        for (name, st) in zip(names, stats) {
            let path = dir == "/" ? "/" + name : dir + "/" + name
            try show(g, path: path, st)
            // Depth first: a directory's contents straight after it.
            if st.stMode & 0o170000 == 0o040000 { try walkBelow(g, path) }
        }
    }

    func show(_ g: Guestfs, path: String, _ st: StatNS) throws {
        var fields: [String] = []
        let fmt = st.stMode & 0o170000
        let type: String
        switch fmt {
        case 0o100000: type = "-"
        case 0o040000: type = "d"
        case 0o020000: type = "c"
        case 0o060000: type = "b"
        case 0o010000: type = "p"
        case 0o120000: type = "l"
        case 0o140000: type = "s"
        default: type = "u"
        }
        fields.append(type)
        fields.append(String(format: "%04o", Int(st.stMode & 0o7777)))
        let size = human ? HumanSize.format(UInt64(max(0, st.stSize))) : String(st.stSize)
        fields.append(csv ? size : lpad(size, 10))
        if uids {
            fields.append(csv ? String(st.stUid) : lpad(String(st.stUid), 4))
            fields.append(csv ? String(st.stGid) : lpad(String(st.stGid), 4))
        }
        if times {
            for t in [st.stAtimeSec, st.stMtimeSec, st.stCtimeSec] { fields.append(timeText(t)) }
        }
        if extraStats {
            fields.append(devText(st.stDev))
            fields.append(String(st.stIno))
            fields.append(String(st.stNlink))
            fields.append(devText(st.stRdev))
            fields.append(String(st.stBlocks))
        }
        if let checksum {
            if fmt == 0o100000 { fields.append(try g.checksum(checksum, path)) } else if csv { fields.append("") }
        }
        fields.append(csv ? CSV.field(path) : path)
        if fmt == 0o120000, let target = try? g.readlink(path) {
            fields.append(csv ? CSV.field(target) : "-> " + target)
        }
        ToolIO.line(fields.joined(separator: csv ? "," : " "))
    }

    func timeText(_ secs: Int64) -> String {
        switch timeStyle {
        case 0?: return lpad(String(secs), 10)
        case 1?: return lpad(String(now - secs), 8)
        case 2?: return lpad(String((now - secs) / 86400), 3)
        default:
            var t = time_t(secs)
            var tmv = tm()
            localtime_r(&t, &tmv)
            var buf = [CChar](repeating: 0, count: 64)
            strftime(&buf, buf.count, "%F %T", &tmv)
            return String(cString: buf)
        }
    }

    /// major:minor as glibc's major()/minor() split a dev_t.
    func devText(_ d: Int64) -> String {
        let v = UInt64(bitPattern: d)
        let major = ((v >> 8) & 0xfff) | ((v >> 32) & ~UInt64(0xfff))
        let minor = (v & 0xff) | ((v >> 12) & ~UInt64(0xff))
        return "\(major):\(minor)"
    }

    func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
}
