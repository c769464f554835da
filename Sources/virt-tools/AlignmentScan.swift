// virt-alignment-scan: how well each partition of a guest's disks is
// aligned. Misaligned partitions make every guest write touch two host
// blocks; 64K is what the big storage arrays want.

import Foundation
import Guestfs

final class VirtAlignmentScan: VirtTool {
    static let name = "virt-alignment-scan"
    static let summary = "check alignment of virtual machine partitions"
    static let usage = """
        virt-alignment-scan [--options] -d domname
        virt-alignment-scan [--options] -a disk.img [-a disk.img ...]
        """

    /// Exit statuses: every partition aligned to 64K or more, some only to
    /// 4K (fine for disks, not for many storage arrays), some below 4K.
    static let allAligned: Int32 = 0, below64K: Int32 = 2, below4K: Int32 = 3

    var quiet = false
    var mountsGuest: Bool { false }
    required init() {}

    func options(_ common: CommonOptions) -> [ToolOption] {
        [ToolOption(long: ["quiet"], short: ["q"], takesValue: false,
                    help: "-q|--quiet          No output, only the exit status") { _ in self.quiet = true }]
    }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        if let extra = operands.first {
            throw UsageError(description: "extra argument '\(extra)' on the command line")
        }
        let g = try openGuest(common, tool: Self.name, readOnly: true, unlock: false)
        defer { g.close() }
        var status = Self.allAligned
        for device in try g.listDevices() {
            for part in try g.partList(device) {
                let shift = Self.alignmentShift(UInt64(bitPattern: part.partStart))
                if !quiet {
                    ToolIO.line(Self.row(device: device, number: part.partNum, start: part.partStart, shift: shift))
                }
                if shift < 12 {
                    status = Self.below4K
                } else if shift < 16 {
                    status = max(status, Self.below64K)
                }
            }
        }
        return status
    }

    /// The largest power of two dividing `start`, as an exponent; a
    /// partition at byte 0 counts as perfectly aligned (64).
    static func alignmentShift(_ start: UInt64) -> Int {
        start == 0 ? 64 : start.trailingZeroBitCount
    }

    /// One line: partition, start byte, alignment, verdict, laid out in the
    /// same columns as libguestfs's tool so scripts parsing it keep working.
    static func row(device: String, number: Int32, start: Int64, shift: Int) -> String {
        func padded(_ s: String) -> String { String(repeating: " ", count: max(0, 12 - s.count)) + s }
        let alignment: String
        switch shift {
        case ..<10: alignment = padded(String(UInt64(1) << shift)) + "    "
        case ..<64: alignment = padded(String(UInt64(1) << (shift - 10))) + "K   "
        default: alignment = "- "
        }
        let verdict = shift < 12 ? "bad (alignment < 4K)" : shift < 16 ? "bad (alignment < 64K)" : "ok"
        return "\(displayName(device))\(number) \(padded(String(start))) \(alignment)\(verdict)"
    }

    /// /dev/vda and /dev/hda print as /dev/sda, as everywhere in the API.
    static func displayName(_ device: String) -> String {
        let c = Array(device)
        guard device.hasPrefix("/dev/"), c.count > 7, c[5] == "h" || c[5] == "v", c[6] == "d", c[7].isLetter else {
            return device
        }
        return "/dev/s" + String(c[6...])
    }
}
