// virt-df: free space on a guest's filesystems, like df(1).

import Foundation
import Guestfs
import GuestfsProtocol

final class VirtDf: VirtTool {
    static let name = "virt-df"
    static let summary = "display free space on virtual filesystems"
    static let usage = """
        virt-df [--options] -d domname
        virt-df [--options] -a disk.img [-a disk.img ...]
        """

    var human = false
    var inodes = false
    var csv = false
    var mountsGuest: Bool { false }

    required init() {}

    func options(_ common: CommonOptions) -> [ToolOption] {
        [
            ToolOption(long: ["csv"], short: [], takesValue: false, help: "--csv               Output as Comma-Separated Values") { _ in self.csv = true },
            ToolOption(long: ["human-readable"], short: ["h"], takesValue: false, help: "-h|--human-readable Human-readable sizes in output") { _ in self.human = true },
            ToolOption(long: ["inodes"], short: ["i"], takesValue: false, help: "-i|--inodes         Display inodes") { _ in self.inodes = true },
            ToolOption(long: ["one-per-guest"], short: [], takesValue: false, help: "--one-per-guest     Separate appliance per guest (the default here)") { _ in },
            ToolOption(long: ["uuid"], short: [], takesValue: false, help: "--uuid              Print UUIDs instead of names (for -d)") { _ in },
        ]
    }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        if let extra = operands.first {
            throw UsageError(description: "extra argument '\(extra)' on the command line")
        }
        if human && csv { throw ToolError("you cannot use -h and --csv options together.") }
        let g = try openGuest(common, tool: Self.name, readOnly: true)
        defer { g.close() }
        ToolIO.out(title())
        let name = displayName(common.disks)
        for (fs, vfs) in try g.listFilesystemsPairs() where !vfs.isEmpty && vfs != "swap" && vfs != "unknown" {
            // A filesystem that does not mount is left out, as df would.
            guard (try? g.mountRo(fs, "/")) != nil else { continue }
            let st = try? g.statvfs("/")
            try? g.umountAll()
            if let st { ToolIO.out(row(name, try g.canonicalDeviceName(fs), st)) }
        }
        return 0
    }

    func title() -> String {
        let cols = inodes ? ["Inodes", "IUsed", "IFree", "IUse%"]
                          : [human ? "Size" : "1K-blocks", "Used", "Available", "Use%"]
        if csv { return CSV.row(["VirtualMachine", "Filesystem"] + cols) + "\n" }
        return pad("Filesystem", 36) + lpad(cols[0], 10) + " " + lpad(cols[1], 10) + " " + lpad(cols[2], 10) + " " + lpad(cols[3], 5) + "\n"
    }

    func row(_ name: String, _ dev: String, _ st: StatVFS) -> String {
        var cols: [String]
        var percent: Double
        if !inodes {
            if human {
                cols = [HumanSize.format(blocks: st.blocks, blockSize: st.bsize),
                        HumanSize.format(blocks: st.blocks - st.bfree, blockSize: st.bsize),
                        HumanSize.format(blocks: st.bavail, blockSize: st.bsize)]
            } else {
                cols = [kib(st.blocks, st.bsize), kib(st.blocks - st.bfree, st.bsize), kib(st.bavail, st.bsize)]
            }
            percent = st.blocks != 0 ? 100 - 100 * Double(st.bfree) / Double(st.blocks) : 0
        } else {
            cols = [String(st.files), String(st.files - st.ffree), String(st.ffree)]
            percent = st.files != 0 ? 100 - 100 * Double(st.ffree) / Double(st.files) : 0
        }
        // Single precision, as libguestfs computes it, so the rounding agrees.
        let p = Float(percent)
        if csv {
            return CSV.row([name, dev] + cols + [String(format: "%.1f", Double(p))]) + "\n"
        }
        let use = lpad(String(format: "%.0f%%", ceil(Double(p))), 4)
        var s = "\(name):\(dev)"
        s = s.count <= 36 ? pad(s, 36) : s + "\n" + String(repeating: " ", count: 36)
        return s + lpad(cols[0], 10) + " " + lpad(cols[1], 10) + " " + lpad(cols[2], 10) + " " + lpad(use, 5) + "\n"
    }

    /// `n` blocks of `bsize` bytes in KiB.
    func kib(_ n: Int64, _ bsize: Int64) -> String {
        bsize >= 1024 ? String(n * (bsize / 1024)) : String(n / (1024 / max(1, bsize)))
    }

    func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }

    /// The disk's file name (or the guest's name), with a "+" for each
    /// further disk.
    func displayName(_ disks: [DiskSource]) -> String {
        guard let first = disks.first else { return "" }
        var name: String
        switch first {
        case let .file(path, _, _): name = (path as NSString).lastPathComponent
        case let .domain(d): name = d
        }
        name += String(repeating: "+", count: disks.count - 1)
        return name
    }
}
