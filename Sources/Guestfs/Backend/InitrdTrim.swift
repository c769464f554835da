import Foundation

/// Trims supermin's mini initrd to the kernel modules the appliance needs to
/// find and mount its root and open the channel (the library's port of
/// appliance/build-appliance.sh `trim_initrd`).
///
/// supermin's initrd insmods every module matching its built-in patterns
/// (virtio*, crc*, libata, nvdimm, fuse, virtio_net, …: 52 on Debian 12), each
/// costing time under TCG. We keep only the `modprobe --show-depends` closure
/// of a short list, in supermin's (dependency) order. The full module tree
/// stays in the root, so the daemon (or the kernel's request_module) can
/// load anything else on demand.
enum InitrdTrim {
    /// Both layouts (virtio-mmio + virtio-blk on microvm, virtio-pci +
    /// virtio-scsi on pc). Same list as build-appliance.sh.
    static let defaultModules = ["virtio_mmio", "virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod",
                                 "virtio_console", "ext4", "crc32c_generic", "crc64_rocksoft_generic"]
    /// The microvm layout only needs virtio-mmio block and console devices.
    static let microvmModules = ["virtio_mmio", "virtio_blk", "virtio_console", "ext4", "crc32c_generic"]

    /// The module list from INITRD_MODULES (as build-appliance.sh), else the default.
    static var configuredModules: [String] {
        if let s = ProcessInfo.processInfo.environment["INITRD_MODULES"] {
            let l = s.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\t" }).map(String.init)
            if !l.isEmpty { return l }
        }
        return defaultModules
    }

    /// TRIM_INITRD=0 turns trimming off (as build-appliance.sh).
    static var enabled: Bool { ProcessInfo.processInfo.environment["TRIM_INITRD"] != "0" }

    /// What goes into the appliance checksum, so a change of recipe rebuilds.
    static var recipe: String {
        enabled ? "trim-v1 pc=\(configuredModules.joined(separator: ",")) microvm=\(microvmModules.joined(separator: ","))" : "untrimmed"
    }

    /// File names (as in the initrd: "ext4.ko") of the closure of `modules`
    /// for kernel `kver`, from `modprobe --show-depends`.
    static func closure(_ modules: [String], kver: String, modulesDir: String) throws -> Set<String> {
        guard let modprobe = findInPath("modprobe") ?? ["/usr/sbin/modprobe", "/sbin/modprobe"].first(where: { access($0, X_OK) == 0 }) else {
            throw TrimError("modprobe is not installed")
        }
        var args = ["-S", kver]
        // SUPERMIN_MODULES=/base/lib/modules/KVER → modprobe -d /base.
        let std = "/lib/modules/\(kver)"
        if modulesDir != std && modulesDir != std + "/" {
            args += ["-d", ((modulesDir as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent]
        }
        args += ["-a", "--show-depends"] + modules
        let (status, out) = runCommand(modprobe, args)
        guard status == 0 else { throw TrimError("modprobe --show-depends failed (status \(status)): \(out)") }
        var names = Set<String>()
        for line in out.split(separator: "\n") {
            let w = line.split(separator: " ")
            guard w.count >= 2, w[0] == "insmod" else { continue }
            names.insert(moduleFileName(String(w[1])))
        }
        guard !names.isEmpty else { throw TrimError("modprobe --show-depends gave nothing for \(modules.joined(separator: " "))") }
        return names
    }

    /// "/lib/modules/…/ext4.ko.xz" → "ext4.ko" (supermin decompresses modules).
    static func moduleFileName(_ path: String) -> String {
        var n = (path as NSString).lastPathComponent
        for ext in [".xz", ".zst", ".gz"] where n.hasSuffix(ext) { n = String(n.dropLast(ext.count)) }
        return n
    }

    struct TrimError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// One newc cpio entry: its header fields and where its bytes are.
    struct Entry {
        var name: String
        var fields: [Int]          // the 13 hex fields after the magic
        var headerRange: Range<Int> // header + name + padding
        var dataRange: Range<Int>   // data (without padding)
        var end: Int                // after the data padding
        var fileSize: Int { fields[6] }
    }

    static func parseNewc(_ b: [UInt8]) throws -> [Entry] {
        var entries: [Entry] = []
        var off = 0
        func hex(_ o: Int) throws -> Int {
            var v = 0
            for i in o..<o + 8 {
                let c = b[i]
                let d: Int
                switch c {
                case 0x30...0x39: d = Int(c - 0x30)
                case 0x41...0x46: d = Int(c - 0x41 + 10)
                case 0x61...0x66: d = Int(c - 0x61 + 10)
                default: throw TrimError("bad cpio header at \(o)")
                }
                v = v << 4 | d
            }
            return v
        }
        func pad4(_ x: Int) -> Int { (x + 3) & ~3 }
        while true {
            guard off + 110 <= b.count else { throw TrimError("truncated cpio archive") }
            guard b[off] == 0x30, b[off + 1] == 0x37, b[off + 2] == 0x30, b[off + 3] == 0x37, b[off + 4] == 0x30,
                  b[off + 5] == 0x31 || b[off + 5] == 0x32 else {
                throw TrimError("not a newc cpio archive (offset \(off))")
            }
            var f: [Int] = []
            for i in 0..<13 { f.append(try hex(off + 6 + i * 8)) }
            let nameSize = f[11]
            guard nameSize >= 1, off + 110 + nameSize <= b.count else { throw TrimError("bad cpio name size") }
            let name = String(decoding: b[(off + 110)..<(off + 110 + nameSize - 1)], as: UTF8.self)
            let dataStart = pad4(off + 110 + nameSize)
            let dataEnd = dataStart + f[6]
            guard dataEnd <= b.count else { throw TrimError("truncated cpio entry \(name)") }
            let end = min(pad4(dataEnd), b.count)
            entries.append(Entry(name: name, fields: f, headerRange: off..<dataStart, dataRange: dataStart..<dataEnd, end: end))
            if name == "TRAILER!!!" { break }
            off = end
        }
        return entries
    }

    static func header(_ e: Entry, fileSize: Int) -> [UInt8] {
        var h = Array("070701".utf8)
        for (i, v) in e.fields.enumerated() {
            let x = i == 6 ? fileSize : v
            h += Array(String(format: "%08X", x).utf8)
        }
        return h
    }

    /// Writes to `output` the supermin initrd `input` with only the modules
    /// whose file names are in `keep`; returns the kept module names.
    @discardableResult
    static func trim(_ input: String, to output: String, keep: Set<String>) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: input) else { throw TrimError("cannot read \(input)") }
        let b = [UInt8](data)
        let entries = try parseNewc(b)
        func strip(_ n: String) -> String { n.hasPrefix("./") ? String(n.dropFirst(2)) : n }
        guard let modEntry = entries.first(where: { strip($0.name) == "modules" }),
              entries.contains(where: { strip($0.name) == "init" }) else {
            throw TrimError("\(input) is not a supermin initrd")
        }
        let listed = String(decoding: b[modEntry.dataRange], as: UTF8.self).split(separator: "\n").map(String.init)
        let kept = listed.filter { keep.contains(($0 as NSString).lastPathComponent) }
        let dropped = Set(listed.filter { !keep.contains(($0 as NSString).lastPathComponent) })
        guard !kept.isEmpty else { throw TrimError("none of the wanted modules are in \(input)") }
        let newList = Array((kept.joined(separator: "\n") + "\n").utf8)

        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        for e in entries {
            let n = strip(e.name)
            if dropped.contains(n) { continue }
            if n == "modules" {
                out += header(e, fileSize: newList.count)
                out += b[(e.headerRange.lowerBound + 110)..<e.headerRange.upperBound]   // name + padding
                out += newList
            } else {
                out += b[e.headerRange.lowerBound..<e.dataRange.upperBound]
            }
            while out.count % 4 != 0 { out.append(0) }
        }
        // The kernel accepts trailing zeros; pad like cpio does (512-byte blocks).
        while out.count % 512 != 0 { out.append(0) }
        guard FileManager.default.createFile(atPath: output, contents: Data(out)) else { throw TrimError("cannot write \(output)") }
        return kept
    }
}
