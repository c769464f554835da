// Windows inspection: recognises a Windows system root on the filesystem
// mounted (read-only) at the sysroot and reads what it can from the
// registry (SOFTWARE and SYSTEM hives, through libhivex) and from the PE
// header of a system binary.

import Glibc

extension Handlers {
    /// Inspects the filesystem `root` mounted at "/": nil unless it holds a
    /// Windows system root.
    func probeWindows(_ ctx: CallContext, root: String) throws -> InspectedOS? {
        guard let systemroot = windowsSystemroot(ctx) else { return nil }
        var os = InspectedOS(root: root)
        os.type = "windows"
        os.distro = "windows"
        os.windowsSystemroot = systemroot
        os.mountpoints = [("/", root)]
        os.filesystems = [root]

        func hive(_ name: String) -> String? {
            guard let p = caseInsensitivePath(ctx, "\(systemroot)/System32/config/\(name)"),
                  guestIsRegularFile(ctx, p) else { return nil }
            return p
        }
        os.windowsSoftwareHive = hive("SOFTWARE")
        os.windowsSystemHive = hive("SYSTEM")

        for binary in ["System32/kernel32.dll", "System32/cmd.exe", "explorer.exe"] {
            if let p = caseInsensitivePath(ctx, "\(systemroot)/\(binary)"),
               let bytes = guestFileBytes(ctx, p, limit: 4096), let arch = Handlers.peArchitecture(bytes) {
                os.arch = arch
                break
            }
        }

        var buildNumber: Int?
        if let path = os.windowsSoftwareHive,
           let hive = try? Hive(sysroot: ctx.sysroot, path: path, writable: false, inMemory: false) {
            buildNumber = readWindowsSoftwareHive(hive, into: &os)
        }
        if let path = os.windowsSystemHive,
           let hive = try? Hive(sysroot: ctx.sysroot, path: path, writable: false, inMemory: false) {
            readWindowsSystemHive(ctx, hive, into: &os)
        }
        os.osinfo = Handlers.windowsOsinfo(major: os.majorVersion, minor: os.minorVersion, productName: os.productName,
                                           variant: os.productVariant, build: buildNumber)
        return os
    }

    // MARK: finding the system root

    /// Where Windows installs itself, tried in order (case-insensitively).
    static let windowsSystemrootCandidates = ["/Windows", "/WINNT", "/WIN32", "/WIN", "/ReactOS"]

    /// The system root directory with the case it has on disk ("/Windows"),
    /// from the usual names or else from boot.ini.
    func windowsSystemroot(_ ctx: CallContext) -> String? {
        for c in Handlers.windowsSystemrootCandidates {
            if let p = caseInsensitivePath(ctx, c), isWindowsSystemroot(ctx, p) { return p }
        }
        // Non-standard locations are named in boot.ini (NT to XP/2003):
        //   [operating systems]
        //   multi(0)disk(0)rdisk(0)partition(1)\WINDOWS="Windows XP" /fastdetect
        guard let ini = caseInsensitivePath(ctx, "/boot.ini"), let text = guestFileText(ctx, ini) else { return nil }
        var inSection = false
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = String(raw).trimmed()
            if line.hasPrefix("[") {
                inSection = line.lowercased().hasPrefix("[operating systems]")
                continue
            }
            guard inSection, line.hasPrefix("multi(") || line.hasPrefix("scsi("),
                  let close = line.lastIndex(of: ")"), let eq = line.firstIndex(of: "="), close < eq else { continue }
            let dir = line[line.index(after: close)..<eq].replacingOccurrences(of: "\\", with: "/")
            guard dir.hasPrefix("/") else { continue }
            if let p = caseInsensitivePath(ctx, dir), isWindowsSystemroot(ctx, p) { return p }
        }
        return nil
    }

    /// A real system root has System32 and System32/config, and a command
    /// interpreter or a SYSTEM hive (a data disk with a stray "Windows"
    /// folder has neither).
    func isWindowsSystemroot(_ ctx: CallContext, _ dir: String) -> Bool {
        guard let sys32 = caseInsensitivePath(ctx, dir + "/System32"), guestIsDir(ctx, sys32),
              let config = caseInsensitivePath(ctx, sys32 + "/config"), guestIsDir(ctx, config) else { return false }
        if let cmd = caseInsensitivePath(ctx, sys32 + "/cmd.exe"), guestIsRegularFile(ctx, cmd) { return true }
        if let system = caseInsensitivePath(ctx, config + "/SYSTEM"), guestIsRegularFile(ctx, system) { return true }
        return false
    }

    /// Resolves a guest path one component at a time, matching each name
    /// without regard to (ASCII and Unicode) case, the way Windows looks
    /// names up. Returns the path as spelled on disk, or nil when some
    /// component does not exist. An exact match wins over other spellings.
    /// Every lookup goes through the sysroot, so guest symlinks stay inside.
    func caseInsensitivePath(_ ctx: CallContext, _ path: String) -> String? {
        var resolved = ""
        for comp in path.split(separator: "/") where comp != "." {
            if comp == ".." {
                if let slash = resolved.lastIndex(of: "/") { resolved = String(resolved[..<slash]) }
                continue
            }
            let dir = resolved.isEmpty ? "/" : resolved
            let want = String(comp)
            if guestExists(ctx, resolved + "/" + want) {
                resolved += "/" + want
                continue
            }
            let lower = want.lowercased()
            var match: String?
            try? eachEntry(ctx, dir) { _, name, _, _ in
                if match == nil && name.lowercased() == lower { match = name }
            }
            guard let m = match else { return nil }
            resolved += "/" + m
        }
        return resolved.isEmpty ? "/" : resolved
    }

    func guestIsRegularFile(_ ctx: CallContext, _ path: String) -> Bool {
        guard let st = try? ctx.sysroot.statGuest(path, follow: true, op: "inspect") else { return false }
        return (st.st_mode & S_IFMT) == S_IFREG
    }

    // MARK: architecture

    /// Architecture of a PE executable from its COFF machine field (the
    /// first bytes of the file are enough: the PE header is near the start).
    static func peArchitecture(_ b: [UInt8]) -> String? {
        guard b.count >= 0x40, b[0] == 0x4d, b[1] == 0x5a else { return nil }   // "MZ"
        let pe = Int(le32(b, 0x3c))
        guard pe >= 0x40, pe + 26 <= b.count, b[pe] == 0x50, b[pe + 1] == 0x45, b[pe + 2] == 0, b[pe + 3] == 0 else { return nil }
        switch le16(b, pe + 4) {
        case 0x014c: return "i386"
        case 0x8664: return "x86_64"
        case 0xaa64: return "aarch64"
        case 0x01c0, 0x01c2, 0x01c4: return "arm"
        case 0x0200: return "ia64"
        default:
            // Unknown machine: the optional header's magic still tells 32 from 64 bits.
            switch le16(b, pe + 24) {
            case 0x10b: return "i386"
            case 0x20b: return "x86_64"
            default: return nil
            }
        }
    }

    static func le16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
    static func le32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
    }
    static func le64(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(le32(b, o)) | UInt64(le32(b, o + 4)) << 32 }

    /// PROCESSOR_ARCHITECTURE as Windows spells it → our architecture names.
    static func windowsArchitecture(_ s: String) -> String? {
        switch s.uppercased() {
        case "AMD64", "X64": return "x86_64"
        case "X86": return "i386"
        case "ARM64": return "aarch64"
        case "ARM": return "arm"
        case "IA64": return "ia64"
        default: return nil
        }
    }

    // MARK: the registry

    /// Product name, variant and version from SOFTWARE; returns the build
    /// number when the hive has one (for the osinfo id).
    func readWindowsSoftwareHive(_ hive: Hive, into os: inout InspectedOS) -> Int? {
        guard let cv = try? hive.node(["Microsoft", "Windows NT", "CurrentVersion"]) else { return nil }
        if let name = hive.string(cv, "ProductName") { os.productName = name }
        if let variant = hive.string(cv, "InstallationType") { os.productVariant = variant }
        if let major = hive.dword(cv, "CurrentMajorVersionNumber"), let minor = hive.dword(cv, "CurrentMinorVersionNumber") {
            os.majorVersion = Int32(truncatingIfNeeded: major)
            os.minorVersion = Int32(truncatingIfNeeded: minor)
        } else if let v = hive.string(cv, "CurrentVersion") {
            let parts = v.split(separator: ".")
            if let major = parts.first.flatMap({ Int32($0) }) {
                os.majorVersion = major
                os.minorVersion = parts.count > 1 ? Int32(parts[1]) ?? 0 : 0
            }
        }
        let build = hive.string(cv, "CurrentBuildNumber")
        if let build, !build.isEmpty { os.buildID = build }
        os.windowsGroupPolicy = Handlers.hasGroupPolicyObjects(hive)
        return build.flatMap { Int($0) }
    }

    /// Group Policy Objects that were applied show up as "{GUID}" keys
    /// under SOFTWARE\Microsoft\Windows\CurrentVersion\Group Policy\History.
    static func hasGroupPolicyObjects(_ hive: Hive) -> Bool {
        guard let history = try? hive.node(["Microsoft", "Windows", "CurrentVersion", "Group Policy", "History"]),
              let children = try? hive.children(history) else { return false }
        return children.contains { child in
            guard let name = try? hive.nodeName(child) else { return false }
            let u = Array(name.utf8)
            return u.count > 3 && u.first == UInt8(ascii: "{") && u.last == UInt8(ascii: "}")
                && (u[1] >= 0x30 && u[1] <= 0x39 || u[1] >= 0x41 && u[1] <= 0x46 || u[1] >= 0x61 && u[1] <= 0x66)
        }
    }

    /// Current control set, hostname, drive letters and (when the binaries
    /// did not tell) the architecture from SYSTEM.
    func readWindowsSystemHive(_ ctx: CallContext, _ hive: Hive, into os: inout InspectedOS) {
        if let select = try? hive.node(["Select"]), let current = hive.dword(select, "Current") {
            let name = "ControlSet" + String(repeating: "0", count: max(0, 3 - String(current).count)) + String(current)
            os.windowsCurrentControlSet = name
            if let params = try? hive.node([name, "Services", "Tcpip", "Parameters"]),
               let host = hive.string(params, "Hostname") {
                os.hostname = host
            } else if let cn = try? hive.node([name, "Control", "ComputerName", "ComputerName"]),
                      let host = hive.string(cn, "ComputerName") {
                // Without TCP/IP configured, the NetBIOS computer name.
                os.hostname = host
            }
            if os.arch == "unknown",
               let env = try? hive.node([name, "Control", "Session Manager", "Environment"]),
               let a = hive.string(env, "PROCESSOR_ARCHITECTURE").flatMap(Handlers.windowsArchitecture) {
                os.arch = a
            }
        }
        os.driveMappings = windowsDriveMappings(ctx, hive)
    }

    /// HKLM\SYSTEM\MountedDevices: "\DosDevices\C:" → a binary blob naming
    /// the volume. MBR volumes: 4-byte disk signature + 8-byte byte offset
    /// of the partition; GPT volumes: "DMIO:ID:" + the partition's unique
    /// GUID. Entries for other kinds of volume (removable media, volume
    /// GUID paths) are skipped. Sorted by drive letter.
    func windowsDriveMappings(_ ctx: CallContext, _ hive: Hive) -> [(String, String)] {
        guard let node = try? hive.node(["MountedDevices"]), let values = try? hive.values(node) else { return [] }
        var table: WindowsPartitionTable?
        var out: [(String, String)] = []
        for v in values {
            guard let key = try? hive.valueKey(v) else { continue }
            let chars = Array(key)
            guard chars.count == 14, key.lowercased().hasPrefix("\\dosdevices\\"), chars[13] == ":",
                  chars[12].isASCII, chars[12].isLetter,
                  (try? hive.valueType(v)) == 3, let blob = try? hive.valueBytes(v) else { continue }
            let letter = String(chars[12]).uppercased()
            if table == nil { table = WindowsPartitionTable(ctx, self) }
            if let dev = table!.device(forMountedDevicesBlob: blob, handlers: self) {
                out.append((letter, dev))
            }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    // MARK: osinfo

    /// The libosinfo short id for a Windows version, "" when unknown.
    static func windowsOsinfo(major: Int32, minor: Int32, productName: String, variant: String, build: Int?) -> String {
        let server = variant.contains("Server")
        switch (major, minor) {
        case (5, 1): return "winxp"
        case (5, 2):
            if productName.contains("XP") { return "winxp" }
            return productName.contains("R2") ? "win2k3r2" : "win2k3"
        case (6, 0): return server ? "win2k8" : "winvista"
        case (6, 1): return server ? "win2k8r2" : "win7"
        case (6, 2): return server ? "win2k12" : "win8"
        case (6, 3): return server ? "win2k12r2" : "win8.1"
        case (10, 0):
            if server {
                for (year, id) in [("2025", "win2k25"), ("2022", "win2k22"), ("2019", "win2k19")] where productName.contains(year) {
                    return id
                }
                return "win2k16"
            }
            // Windows 11 still says 10.0; only the build number tells.
            guard let build else { return "" }
            return build >= 22000 ? "win11" : "win10"
        default: return ""
        }
    }
}

/// The appliance's disks and partitions as MountedDevices names them,
/// gathered once per SYSTEM hive.
struct WindowsPartitionTable {
    /// MBR disk signature → (real disk name, its partitions with their byte offsets).
    var mbrDisks: [UInt32: [(device: String, offset: UInt64)]] = [:]
    /// Partitions of GPT disks (their unique GUIDs are looked up lazily).
    var gptPartitions: [String] = []
    private var gptGUIDs: [String: String] = [:]

    init(_ ctx: CallContext, _ h: Handlers) {
        for disk in ctx.devices.disks {
            let dev = "/dev/" + disk
            guard let sector = WindowsPartitionTable.readSector0(dev), sector[510] == 0x55, sector[511] == 0xaa else { continue }
            let parts = ctx.devices.partitions(of: disk)
            // A protective MBR (first entry of type 0xee) means GPT.
            if sector[0x1be + 4] == 0xee {
                gptPartitions += parts.map { "/dev/" + $0 }
                continue
            }
            let signature = Handlers.le32(sector, 0x1b8)
            var list: [(device: String, offset: UInt64)] = []
            for p in parts {
                guard let text = Sys.readText("/sys/block/\(disk)/\(p)/start"), let start = UInt64(text.trimmed()) else { continue }
                list.append(("/dev/" + p, start * 512))
            }
            mbrDisks[signature, default: []] += list
        }
    }

    static func readSector0(_ dev: String) -> [UInt8]? {
        let fd = open(dev, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 512, 0) }
        return n == 512 ? buf : nil
    }

    /// The GUID in a "DMIO:ID:" blob as text: the first three fields are
    /// little-endian, the last eight bytes are in order.
    static func guidFromBlob(_ b: [UInt8]) -> String? {
        guard b.count >= 24, b.starts(with: Array("DMIO:ID:".utf8)) else { return nil }
        let g = Array(b[8..<24])
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format2: $0) }.joined() }
        return [hex(g[0..<4].reversed()), hex(g[4..<6].reversed()), hex(g[6..<8].reversed()),
                hex(Array(g[8..<10])), hex(Array(g[10..<16]))].joined(separator: "-")
    }

    mutating func device(forMountedDevicesBlob blob: [UInt8], handlers h: Handlers) -> String? {
        if let guid = WindowsPartitionTable.guidFromBlob(blob) {
            for p in gptPartitions {
                if gptGUIDs[p] == nil { gptGUIDs[p] = ((try? h.blkidTag(p, "PARTUUID")) ?? "").lowercased() }
                if gptGUIDs[p] == guid { return p }
            }
            return nil
        }
        guard blob.count == 12 else { return nil }
        let signature = Handlers.le32(blob, 0)
        let offset = Handlers.le64(blob, 4)
        return mbrDisks[signature]?.first(where: { $0.offset == offset })?.device
    }
}

private extension String {
    /// Two lowercase hex digits.
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}

private extension Substring {
    func replacingOccurrences(of a: String, with b: String) -> String {
        String(self).replacingOccurrences(of: a, with: b)
    }
}
