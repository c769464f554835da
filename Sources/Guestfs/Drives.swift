import Foundation
import GuestfsProtocol

/// One drive added to the handle, as recorded before launch.
struct Drive {
    var path: String
    var readonly = false
    var format: String?
    var iface: String?
    var name: String?
    var label: String?
    var proto = "file"
    var servers: [String] = []
    var username: String?
    var secret: String?
    var cachemode = "writeback"
    var discard = "disable"
    var copyonread = false
    var blocksize: Int32 = 0
    /// Created by the library (scratch or /dev/null): removed on close.
    var isTemporary = false

    var isNetwork: Bool { proto != "file" }

    /// The debug_drives text.
    var debugString: String {
        var p: [String] = ["path=\(path)"]
        if readonly { p.append("readonly") }
        if let format { p.append("format=\(format)") }
        if let iface { p.append("iface=\(iface)") }
        if let name { p.append("name=\(name)") }
        if let label { p.append("label=\(label)") }
        p.append("protocol=\(proto)")
        for s in servers { p.append("server=\(s)") }
        if let username { p.append("username=\(username)") }
        if secret != nil { p.append("secret=***") }
        p.append("cachemode=\(cachemode)")
        p.append("discard=\(discard)")
        if copyonread { p.append("copyonread") }
        if blocksize != 0 { p.append("blocksize=\(blocksize)") }
        return p.joined(separator: " ")
    }
}

enum DeviceNames {
    /// "a", "b", … "z", "aa", "ab", … for index 0, 1, …
    static func letters(_ index: Int) -> String {
        var n = index
        var s = ""
        repeat {
            s = String(UnicodeScalar(UInt8(97 + n % 26))) + s
            n = n / 26 - 1
        } while n >= 0
        return s
    }

    /// The index of a letters suffix ("a" → 0, "aa" → 26), or nil.
    static func index(ofLetters l: Substring) -> Int? {
        guard !l.isEmpty, l.allSatisfy({ $0 >= "a" && $0 <= "z" }) else { return nil }
        var n = 0
        for c in l.unicodeScalars { n = n * 26 + Int(c.value - 97) + 1 }
        return n - 1
    }

    static let diskPrefixes = ["/dev/sd", "/dev/vd", "/dev/hd", "/dev/xvd"]

    /// Splits "/dev/vdb12" into (prefix, "b", "12").
    static func split(_ device: String) -> (prefix: String, letters: Substring, rest: Substring)? {
        for p in diskPrefixes where device.hasPrefix(p) {
            let tail = device.dropFirst(p.count)
            let letters = tail.prefix { $0 >= "a" && $0 <= "z" }
            guard !letters.isEmpty else { return nil }
            return (p, letters, tail.dropFirst(letters.count))
        }
        return nil
    }

    /// /dev/vda, /dev/hdb2, /dev/xvdc1 → /dev/sda, /dev/sdb2, /dev/sdc1.
    static func canonical(_ device: String) -> String {
        guard let (p, l, rest) = split(device), p != "/dev/sd" else { return device }
        guard rest.isEmpty || rest.allSatisfy(\.isNumber) else { return device }
        return "/dev/sd\(l)\(rest)"
    }

    /// /dev/mapper/VG-LV → ("VG", "LV") using LVM's "--" escaping.
    static func splitMapperName(_ device: String) -> (String, String)? {
        guard device.hasPrefix("/dev/mapper/") else { return nil }
        let s = Array(device.dropFirst("/dev/mapper/".count))
        var i = 0
        while i < s.count {
            if s[i] == "-" {
                if i + 1 < s.count && s[i + 1] == "-" { i += 2; continue }
                let vg = String(s[..<i]).replacingOccurrences(of: "--", with: "-")
                let lv = String(s[(i + 1)...]).replacingOccurrences(of: "--", with: "-")
                if vg.isEmpty || lv.isEmpty { return nil }
                return (vg, lv)
            }
            i += 1
        }
        return nil
    }
}

extension Guestfs {
    static let validProtocols: Set<String> = ["file", "ftp", "ftps", "gluster", "http", "https", "iscsi", "nbd",
                                              "rbd", "sheepdog", "ssh", "tftp"]

    func impl_add_drive(_ filename: String, readonly: Bool?, format: String?, iface: String?, name: String?,
                        label: String?, `protocol`: String?, server: [String]?, username: String?, secret: String?,
                        cachemode: String?, discard: String?, copyonread: Bool?, blocksize: Int32?) throws {
        guard state == .config else {
            throw fail(EINVAL, "hotplugging support was removed in libguestfs 1.48")
        }
        func validWord(_ s: String) -> Bool {
            !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }
        }
        var d = Drive(path: filename)
        d.readonly = readonly ?? false
        if let format {
            guard validWord(format) else { throw fail(EINVAL, "format parameter is empty or contains disallowed characters") }
            d.format = format
        }
        if let iface {
            guard validWord(iface) else { throw fail(EINVAL, "iface parameter is empty or contains disallowed characters") }
            d.iface = iface
        }
        d.name = name
        if let label {
            guard !label.isEmpty, label.count <= 20, label.unicodeScalars.allSatisfy({ ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") }) else {
                throw fail(EINVAL, "label parameter is empty, too long, or contains disallowed characters")
            }
            d.label = label
        }
        let proto = `protocol` ?? "file"
        guard Guestfs.validProtocols.contains(proto) else { throw fail(EINVAL, "unknown protocol '\(proto)'") }
        d.proto = proto
        d.servers = server ?? []
        d.username = username
        d.secret = secret
        if let cachemode {
            guard cachemode == "writeback" || cachemode == "unsafe" else {
                throw fail(EINVAL, "cachemode parameter must be 'writeback' (default) or 'unsafe'")
            }
            d.cachemode = cachemode
        }
        if let discard {
            guard ["disable", "enable", "besteffort"].contains(discard) else {
                throw fail(EINVAL, "discard parameter must be 'disable', 'enable' or 'besteffort'")
            }
            if discard == "enable" && d.readonly {
                throw fail(EINVAL, "discard support cannot be enabled on read-only drives")
            }
            d.discard = discard
        }
        d.copyonread = copyonread ?? false
        if let blocksize {
            guard blocksize == 0 || blocksize == 512 || blocksize == 4096 else {
                throw fail(EINVAL, "invalid value for blocksize parameter '\(blocksize)'")
            }
            d.blocksize = blocksize
        }
        if proto == "file" {
            if !d.servers.isEmpty { throw fail(EINVAL, "you cannot specify a server with protocol 'file'") }
            if d.username != nil { throw fail(EINVAL, "you cannot specify a username with protocol 'file'") }
            if d.secret != nil { throw fail(EINVAL, "you cannot specify a secret with protocol 'file'") }
            if filename == "/dev/null" {
                if let f = d.format, f != "raw" {
                    throw fail(EINVAL, "for device '/dev/null', format must be 'raw'")
                }
                // qemu cannot open /dev/null as a disk: use a tiny empty file.
                let p = try tempPath("devnull", suffix: ".img")
                guard FileManager.default.createFile(atPath: p, contents: nil), Glibc.truncate(p, 4096) == 0 else {
                    throw fail(errno, "cannot create \(p): \(errnoText(errno))")
                }
                d.path = p
                d.format = "raw"
                d.isTemporary = true
            } else if access(filename, R_OK) != 0 {
                let e = errno
                throw fail(e, "\(filename): \(errnoText(e))")
            }
        } else {
            if ["nbd", "gluster", "iscsi", "sheepdog", "ssh", "rbd", "http", "https", "ftp", "ftps", "tftp"].contains(proto),
               d.servers.isEmpty, proto != "rbd" && proto != "sheepdog" {
                throw fail(EINVAL, "protocol '\(proto)' needs a server")
            }
            if proto == "nbd" && d.servers.count != 1 { throw fail(EINVAL, "protocol 'nbd' needs exactly one server") }
        }
        drives.append(d)
    }

    func impl_add_drive_ro(_ filename: String) throws {
        try impl_add_drive(filename, readonly: true, format: nil, iface: nil, name: nil, label: nil, protocol: nil,
                           server: nil, username: nil, secret: nil, cachemode: nil, discard: nil, copyonread: nil, blocksize: nil)
    }

    func impl_add_cdrom(_ filename: String) throws { try impl_add_drive_ro(filename) }

    func impl_add_drive_with_if(_ filename: String, _ iface: String) throws {
        try impl_add_drive(filename, readonly: nil, format: nil, iface: iface, name: nil, label: nil, protocol: nil,
                           server: nil, username: nil, secret: nil, cachemode: nil, discard: nil, copyonread: nil, blocksize: nil)
    }

    func impl_add_drive_ro_with_if(_ filename: String, _ iface: String) throws {
        try impl_add_drive(filename, readonly: true, format: nil, iface: iface, name: nil, label: nil, protocol: nil,
                           server: nil, username: nil, secret: nil, cachemode: nil, discard: nil, copyonread: nil, blocksize: nil)
    }

    func impl_add_drive_scratch(_ size: Int64, name: String?, label: String?, blocksize: Int32?) throws {
        guard state == .config else { throw fail(EINVAL, "hotplugging support was removed in libguestfs 1.48") }
        guard size > 0 else { throw fail(EINVAL, "size must be > 0") }
        let p = try tempPath("scratch", suffix: ".img")
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { let e = errno; throw fail(e, "\(p): \(errnoText(e))") }
        defer { Glibc.close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { let e = errno; throw fail(e, "truncate: \(p): \(errnoText(e))") }
        try impl_add_drive(p, readonly: false, format: "raw", iface: nil, name: name, label: label, protocol: nil,
                           server: nil, username: nil, secret: nil, cachemode: "unsafe", discard: nil, copyonread: nil,
                           blocksize: blocksize)
        drives[drives.count - 1].isTemporary = true
    }

    // impl_add_domain and impl_add_libvirt_dom: Libvirt.swift.

    func impl_remove_drive(_ label: String) throws {
        throw fail(ENOTSUP, "hotplugging support was removed in libguestfs 1.48")
    }

    func impl_debug_drives() throws -> [String] { drives.map(\.debugString) }

    /// The largest number of drives one handle may have: 255, as with
    /// libguestfs's virtio-scsi (launch switches to the pc/virtio-scsi layout
    /// when there are more drives than the microvm layout can take).
    func impl_max_disks() throws -> Int32 {
        if backend.hasPrefix("unix:") { return 255 }
        return 255
    }

    func impl_device_index(_ device: String) throws -> Int32 {
        guard let (_, l, rest) = DeviceNames.split(device), rest.isEmpty, let i = DeviceNames.index(ofLetters: l) else {
            throw fail(EINVAL, "\(device): device not found")
        }
        guard i < drives.count || state == .ready && backend.hasPrefix("unix:") else {
            throw fail(EINVAL, "\(device): device not found")
        }
        return Int32(i)
    }

    func impl_device_name(_ index: Int32) throws -> String {
        guard index >= 0 && Int(index) < drives.count else { throw fail(EINVAL, "drive index out of range") }
        return "/dev/sd" + DeviceNames.letters(Int(index))
    }

    func impl_canonical_device_name(_ device: String) throws -> String {
        if let (vg, lv) = DeviceNames.splitMapperName(device) {
            let candidate = "/dev/\(vg)/\(lv)"
            if state == .ready, let lvs = try? lvs(), lvs.contains(candidate) { return candidate }
            return device
        }
        return DeviceNames.canonical(device)
    }
}
