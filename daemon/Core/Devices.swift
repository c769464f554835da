// Device naming. Users see /dev/sda, /dev/sdb, ... in the order drives were
// added; inside the appliance the disks may be /dev/vdX (virtio-blk) or
// /dev/sdX (virtio-scsi). The appliance's own root disk is hidden.

import Glibc

/// A disk-style name split into prefix, letters and partition number:
/// "vdb12" → ("vd", "b", 12).
struct DiskName: Equatable {
    var prefix: String
    var letters: String
    var partition: Int?

    static let prefixes = ["xvd", "sd", "vd", "hd"]

    init?(_ name: String) {
        guard let p = DiskName.prefixes.first(where: { name.hasPrefix($0) }) else { return nil }
        let rest = Array(name.dropFirst(p.count))
        var i = 0
        while i < rest.count, rest[i] >= "a" && rest[i] <= "z" { i += 1 }
        guard i > 0, i <= 4 else { return nil }
        let digits = String(rest[i...])
        if digits.isEmpty {
            partition = nil
        } else {
            guard digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), digits.first != "0", digits.count <= 4,
                  let n = Int(digits) else { return nil }
            partition = n
        }
        prefix = p
        letters = String(rest[0..<i])
    }

    /// 0 for "a", 25 for "z", 26 for "aa" ...
    var index: Int {
        var n = 0
        for c in letters.unicodeScalars { n = n * 26 + Int(c.value - 96) }
        return n - 1
    }

    static func letters(forIndex index: Int) -> String {
        var n = index + 1
        var out: [Character] = []
        while n > 0 {
            n -= 1
            out.append(Character(UnicodeScalar(UInt8(97 + n % 26))))
            n /= 26
        }
        return String(out.reversed())
    }
}

public struct DeviceMap {
    /// Real disk names (no /dev/) in the order the hypervisor presents them,
    /// without the appliance root disk.
    public private(set) var disks: [String]
    /// The appliance's own disk, hidden from users.
    public private(set) var rootDisk: String?
    let sysBlock: String

    /// Reads `<sysRoot>/sys/block`, dropping the disk whose dev (or one of
    /// whose partitions' dev) equals `rootDevice`.
    public init(sysRoot: String = "/", rootDevice: dev_t?) {
        sysBlock = (sysRoot.hasSuffix("/") ? sysRoot : sysRoot + "/") + "sys/block"
        var all = (Sys.listDirectory(sysBlock) ?? []).filter { n in
            guard let d = DiskName(n) else { return false }
            return d.partition == nil
        }
        all.sort { a, b in
            let da = DiskName(a)!, db = DiskName(b)!
            if da.prefix != db.prefix {
                // virtio-blk first, then scsi, ide, xen
                let order = ["vd", "sd", "hd", "xvd"]
                return (order.firstIndex(of: da.prefix) ?? 9) < (order.firstIndex(of: db.prefix) ?? 9)
            }
            return da.index < db.index
        }
        var root: String?
        if let rootDevice {
            let want = "\(Sys.major(rootDevice)):\(Sys.minor(rootDevice))"
            for d in all {
                var devs = [DeviceMap.readDev("\(sysBlock)/\(d)/dev")]
                for p in Sys.listDirectory("\(sysBlock)/\(d)") ?? [] where p.hasPrefix(d) {
                    devs.append(DeviceMap.readDev("\(sysBlock)/\(d)/\(p)/dev"))
                }
                if devs.contains(want) { root = d; break }
            }
        }
        rootDisk = root
        disks = all.filter { $0 != root }
    }

    static func readDev(_ path: String) -> String? {
        Sys.readText(path)?.trimmed()
    }

    /// The st_dev of "/" in this process.
    public static func rootDevice() -> dev_t? {
        var st = stat()
        return stat("/", &st) == 0 ? st.st_dev : nil
    }

    /// "/dev/sdb1" (any of sd/vd/hd/xvd) → "/dev/vdc1"; nil when there is no such disk.
    public func toReal(_ path: String) -> String? {
        guard path.hasPrefix("/dev/") else { return nil }
        guard let d = DiskName(String(path.dropFirst(5))) else { return nil }
        let i = d.index
        guard i >= 0, i < disks.count else { return nil }
        return "/dev/" + disks[i] + (d.partition.map(String.init) ?? "")
    }

    /// "/dev/vdc1" → "/dev/sdb1"; other strings unchanged.
    public func toCanonical(_ path: String) -> String {
        guard path.hasPrefix("/dev/"), let d = DiskName(String(path.dropFirst(5))) else { return path }
        let base = d.prefix + d.letters
        guard let i = disks.firstIndex(of: base) else { return path }
        return "/dev/sd" + DiskName.letters(forIndex: i) + (d.partition.map(String.init) ?? "")
    }

    /// Whether a real name is the hidden root disk or one of its partitions.
    public func isRoot(_ path: String) -> Bool {
        guard let rootDisk, path.hasPrefix("/dev/"), let d = DiskName(String(path.dropFirst(5))) else { return false }
        return d.prefix + d.letters == rootDisk
    }

    /// Real partition names (no /dev/) of a real disk, by number.
    public func partitions(of disk: String) -> [String] {
        let names = (Sys.listDirectory("\(sysBlock)/\(disk)") ?? []).filter {
            $0.hasPrefix(disk) && Sys.exists("\(sysBlock)/\(disk)/\($0)/partition")
        }
        return names.sorted { (DiskName($0)?.partition ?? 0) < (DiskName($1)?.partition ?? 0) }
    }

    /// Replaces real disk names in free text ("/dev/vdb1" → "/dev/sda1").
    public func canonicalizeText(_ text: String) -> String {
        guard text.contains("/dev/") else { return text }
        var out = ""
        var rest = Substring(text)
        while let r = rest.findRange(of: "/dev/") {
            out += rest[rest.startIndex..<r.lowerBound]
            var end = r.upperBound
            while end < rest.endIndex, rest[end].isLetter || rest[end].isNumber { rest.formIndex(after: &end) }
            out += toCanonical(String(rest[r.lowerBound..<end]))
            rest = rest[end...]
        }
        out += rest
        return out
    }
}

extension Substring {
    func findRange(of s: String) -> Range<Substring.Index>? {
        let needle = Array(s.utf8)
        guard !needle.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].utf8.starts(with: needle) {
                let e = self.utf8.index(i, offsetBy: needle.count)
                return i..<e
            }
            formIndex(after: &i)
        }
        return nil
    }
}
