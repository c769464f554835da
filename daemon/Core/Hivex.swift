// Windows registry hives through libhivex: the hivex_* actions (one hive
// open per daemon, as in libguestfs) and the `Hive` wrapper the Windows
// inspection probe uses for its own, private handles.
//
// Hive files are always reached through the sysroot with openat2
// (RESOLVE_IN_ROOT): libhivex gets /proc/self/fd/N of a descriptor we opened
// inside the guest, both to read a hive and to commit one, so guest symlinks
// cannot lead libhivex out of the guest.

import CHivex
import Glibc
import GuestfsProtocol

/// One open hive (a libhivex handle).
final class Hive {
    private let h: OpaquePointer
    /// The guest path it was opened from (where a plain commit writes).
    let guestPath: String
    /// Whether the caller asked for write access (changes and commits).
    let writable: Bool

    /// Opens a guest hive file. With `inMemory` libhivex reads the whole file
    /// and closes it (what it does for writable hives), so nothing keeps the
    /// guest filesystem busy and a file changing underneath cannot fault a
    /// mapping; otherwise it maps the file read-only (cheaper for one-off
    /// reads of big hives that are closed right after).
    init(sysroot: Sysroot, path: String, writable: Bool, inMemory: Bool,
         verbose: Bool = false, debug: Bool = false, unsafe: Bool = false) throws {
        let fd = try sysroot.open(path, O_RDONLY, op: "hivex_open")
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw DaemonError(EISDIR, "\(path): \(Sys.strerror(EISDIR))")
        }
        var flags: Int32 = 0
        if verbose { flags |= HIVEX_OPEN_VERBOSE }
        if debug { flags |= HIVEX_OPEN_DEBUG }
        if unsafe { flags |= HIVEX_OPEN_UNSAFE }
        if writable || inMemory { flags |= HIVEX_OPEN_WRITE }
        errno = 0
        guard let h = hivex_open("/proc/self/fd/\(fd)", flags) else {
            let e = errno
            throw DaemonError(e, "\(path): \(Hive.describe(e))")
        }
        self.h = h
        self.guestPath = path
        self.writable = writable
    }

    deinit { hivex_close(h) }

    /// libhivex's errno values, in words that fit what it means by them.
    static func describe(_ e: Int32) -> String {
        switch e {
        case ENOTSUP: return "not a Windows registry hive file, or a damaged one (\(Sys.strerror(e)))"
        case EINVAL: return "not a usable Windows registry hive: too small, or its header checksum is wrong (\(Sys.strerror(e)))"
        case 0: return "failed"
        default: return Sys.strerror(e)
        }
    }

    /// An error for a failed libhivex call on handle `h` (a node or value).
    private func fail(_ op: String, _ h: Int64? = nil, hint: String? = nil, _ e: Int32 = errno) -> DaemonError {
        let e = e == 0 ? EINVAL : e
        var why = Sys.strerror(e)
        if let hint { why += " (\(hint))" }
        if let h { return DaemonError(e, "\(op): handle \(h): \(why)") }
        return DaemonError(e, "\(op): \(why)")
    }

    private func readOnly(_ op: String) -> DaemonError {
        DaemonError(EROFS, "\(op): the hive was opened read-only (open it with the write flag to change it)")
    }

    private static func handle(_ v: Int64) -> Int { Int(truncatingIfNeeded: v) }

    // MARK: reading

    func root() throws -> Int64 {
        errno = 0
        let r = hivex_root(h)
        if r == 0 { throw fail("hivex_root") }
        return Int64(r)
    }

    func nodeName(_ node: Int64) throws -> String {
        errno = 0
        guard let p = hivex_node_name(h, Hive.handle(node)) else { throw fail("hivex_node_name", node) }
        defer { free(p) }
        return String(cString: p)
    }

    func children(_ node: Int64) throws -> [Int64] {
        errno = 0
        guard let p = hivex_node_children(h, Hive.handle(node)) else { throw fail("hivex_node_children", node) }
        defer { free(p) }
        var out: [Int64] = []
        var i = 0
        while p[i] != 0 { out.append(Int64(p[i])); i += 1 }
        return out
    }

    /// The subkey called `name` (case-insensitive), 0 when there is none.
    func child(_ node: Int64, _ name: String) throws -> Int64 {
        errno = 0
        let r = hivex_node_get_child(h, Hive.handle(node), name)
        if r == 0 && errno != 0 { throw fail("hivex_node_get_child", node) }
        return Int64(r)
    }

    func parent(_ node: Int64) throws -> Int64 {
        errno = 0
        let r = hivex_node_parent(h, Hive.handle(node))
        if r == 0 { throw fail("hivex_node_parent", node, hint: errno == EFAULT ? "the root key has no parent" : nil) }
        return Int64(r)
    }

    func values(_ node: Int64) throws -> [Int64] {
        errno = 0
        guard let p = hivex_node_values(h, Hive.handle(node)) else { throw fail("hivex_node_values", node) }
        defer { free(p) }
        var out: [Int64] = []
        var i = 0
        while p[i] != 0 { out.append(Int64(p[i])); i += 1 }
        return out
    }

    /// The value called `key` (case-insensitive), 0 when there is none.
    func value(_ node: Int64, _ key: String) throws -> Int64 {
        errno = 0
        let r = hivex_node_get_value(h, Hive.handle(node), key)
        if r == 0 && errno != 0 { throw fail("hivex_node_get_value", node) }
        return Int64(r)
    }

    func valueKey(_ value: Int64) throws -> String {
        errno = 0
        guard let p = hivex_value_key(h, Hive.handle(value)) else { throw fail("hivex_value_key", value) }
        defer { free(p) }
        return String(cString: p)
    }

    func valueType(_ value: Int64) throws -> Int64 {
        var t = hive_type(0)
        var len = 0
        errno = 0
        if hivex_value_type(h, Hive.handle(value), &t, &len) == -1 { throw fail("hivex_value_type", value) }
        return Int64(t.rawValue)
    }

    func valueBytes(_ value: Int64) throws -> [UInt8] {
        var t = hive_type(0)
        var len = 0
        errno = 0
        guard let p = hivex_value_value(h, Hive.handle(value), &t, &len) else { throw fail("hivex_value_value", value) }
        defer { free(p) }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) { Array(UnsafeBufferPointer(start: $0, count: len)) }
    }

    /// A string value (REG_SZ, REG_EXPAND_SZ, REG_LINK) as UTF-8.
    func valueString(_ value: Int64) throws -> String {
        errno = 0
        guard let p = hivex_value_string(h, Hive.handle(value)) else { throw fail("hivex_value_string", value, hint: "not a value handle, or not a REG_SZ, REG_EXPAND_SZ or REG_LINK value") }
        defer { free(p) }
        return String(cString: p)
    }

    // MARK: changing

    func addChild(_ parent: Int64, _ name: String) throws -> Int64 {
        guard writable else { throw readOnly("hivex_node_add_child") }
        errno = 0
        let r = hivex_node_add_child(h, Hive.handle(parent), name)
        if r == 0 { throw fail("hivex_node_add_child", parent) }
        return Int64(r)
    }

    func deleteChild(_ node: Int64) throws {
        guard writable else { throw readOnly("hivex_node_delete_child") }
        errno = 0
        if hivex_node_delete_child(h, Hive.handle(node)) == -1 { throw fail("hivex_node_delete_child", node, hint: "not a key handle, or the root key, which cannot be deleted") }
    }

    func setValue(_ node: Int64, key: String, type: Int64, data: [UInt8]) throws {
        guard writable else { throw readOnly("hivex_node_set_value") }
        guard let t = UInt32(exactly: type) else {
            throw DaemonError(EINVAL, "hivex_node_set_value: \(type): invalid value type")
        }
        var keyBytes = Array(key.utf8CString)
        var bytes = data.map { CChar(bitPattern: $0) }
        if bytes.isEmpty { bytes = [0] }   // a valid pointer for an empty value
        let r = keyBytes.withUnsafeMutableBufferPointer { k in
            bytes.withUnsafeMutableBufferPointer { v in
                var sv = hive_set_value(key: k.baseAddress, t: hive_type(rawValue: t), len: data.count, value: v.baseAddress)
                errno = 0
                return hivex_node_set_value(h, Hive.handle(node), &sv, 0)
            }
        }
        if r == -1 { throw fail("hivex_node_set_value", node) }
    }

    /// Writes the hive (with its changes) to the guest file `target`. The
    /// file is opened (created if needed) inside the guest first and
    /// libhivex writes to that same file through /proc/self/fd/N.
    func commit(sysroot: Sysroot, to target: String) throws {
        guard writable else { throw readOnly("hivex_commit") }
        let fd = try sysroot.open(target, O_WRONLY | O_CREAT, mode: 0o644, op: "hivex_commit")
        defer { close(fd) }
        errno = 0
        if hivex_commit(h, "/proc/self/fd/\(fd)", 0) == -1 {
            let e = errno == 0 ? EIO : errno
            throw DaemonError(e, "\(target): commit failed: \(Sys.strerror(e))")
        }
    }

    // MARK: conveniences for inspection

    /// Follows a path of key names from `node` (case-insensitive); nil when
    /// some key is missing.
    func node(_ path: [String], from node: Int64? = nil) throws -> Int64? {
        var n = try node ?? root()
        for name in path {
            let c = try child(n, name)
            if c == 0 { return nil }
            n = c
        }
        return n
    }

    /// A string value, nil when missing or not a string.
    func string(_ node: Int64, _ key: String) -> String? {
        guard let v = try? value(node, key), v != 0 else { return nil }
        return try? valueString(v)
    }

    /// A REG_DWORD (or 4-byte REG_DWORD_BIG_ENDIAN) value, nil when missing or not one.
    func dword(_ node: Int64, _ key: String) -> UInt32? {
        guard let v = try? value(node, key), v != 0, let t = try? valueType(v),
              let b = try? valueBytes(v), b.count >= 4 else { return nil }
        switch t {
        case 4: return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        case 5: return UInt32(b[3]) | UInt32(b[2]) << 8 | UInt32(b[1]) << 16 | UInt32(b[0]) << 24
        default: return nil
        }
    }

    /// Raw bytes of a value, nil when missing.
    func bytes(_ node: Int64, _ key: String) -> [UInt8]? {
        guard let v = try? value(node, key), v != 0 else { return nil }
        return try? valueBytes(v)
    }
}

/// The hive the hivex_* actions work on (one per daemon, like libguestfs).
enum HivexSession {
    static var current: Hive?
}

extension Handlers {
    private func openHive(_ op: String) throws -> Hive {
        guard let hive = HivexSession.current else {
            throw DaemonError(EINVAL, "\(op): no hive is open (call hivex_open first)")
        }
        return hive
    }

    func hivexOpen(_ ctx: CallContext, filename: String, verbose: Bool?, debug: Bool?, write: Bool?, unsafe: Bool?) throws {
        HivexSession.current = nil   // opening a hive closes the previous one
        HivexSession.current = try Hive(sysroot: ctx.sysroot, path: filename, writable: write ?? false, inMemory: true,
                                        verbose: verbose ?? false, debug: debug ?? false, unsafe: unsafe ?? false)
    }

    func hivexClose(_ ctx: CallContext) throws {
        _ = try openHive("hivex_close")
        HivexSession.current = nil
    }

    func hivexRoot(_ ctx: CallContext) throws -> Int64 {
        try openHive("hivex_root").root()
    }

    func hivexNodeName(_ ctx: CallContext, nodeh: Int64) throws -> String {
        try openHive("hivex_node_name").nodeName(nodeh)
    }

    func hivexNodeChildren(_ ctx: CallContext, nodeh: Int64) throws -> [HivexNode] {
        try openHive("hivex_node_children").children(nodeh).map { HivexNode(hivexNodeH: $0) }
    }

    func hivexNodeGetChild(_ ctx: CallContext, nodeh: Int64, name: String) throws -> Int64 {
        try openHive("hivex_node_get_child").child(nodeh, name)
    }

    func hivexNodeParent(_ ctx: CallContext, nodeh: Int64) throws -> Int64 {
        try openHive("hivex_node_parent").parent(nodeh)
    }

    func hivexNodeValues(_ ctx: CallContext, nodeh: Int64) throws -> [HivexValue] {
        try openHive("hivex_node_values").values(nodeh).map { HivexValue(hivexValueH: $0) }
    }

    func hivexNodeGetValue(_ ctx: CallContext, nodeh: Int64, key: String) throws -> Int64 {
        try openHive("hivex_node_get_value").value(nodeh, key)
    }

    func hivexValueKey(_ ctx: CallContext, valueh: Int64) throws -> String {
        try openHive("hivex_value_key").valueKey(valueh)
    }

    func hivexValueType(_ ctx: CallContext, valueh: Int64) throws -> Int64 {
        try openHive("hivex_value_type").valueType(valueh)
    }

    func hivexValueValue(_ ctx: CallContext, valueh: Int64) throws -> [UInt8] {
        try openHive("hivex_value_value").valueBytes(valueh)
    }

    func hivexValueString(_ ctx: CallContext, valueh: Int64) throws -> String {
        try openHive("hivex_value_string").valueString(valueh)
    }

    func hivexValueUtf8(_ ctx: CallContext, valueh: Int64) throws -> String {
        try openHive("hivex_value_utf8").valueString(valueh)
    }

    func hivexCommit(_ ctx: CallContext, filename: String?) throws {
        let hive = try openHive("hivex_commit")
        var target = hive.guestPath
        if let filename {
            // An optional string, so the pathname checks are ours.
            _ = try ctx.checkPathname(filename, "filename")
            guard ctx.sysroot.isMounted() else {
                throw DaemonError(EINVAL, "hivex_commit: \(filename): no filesystem is mounted on /")
            }
            target = filename
        }
        try hive.commit(sysroot: ctx.sysroot, to: target)
    }

    func hivexNodeAddChild(_ ctx: CallContext, parent: Int64, name: String) throws -> Int64 {
        try openHive("hivex_node_add_child").addChild(parent, name)
    }

    func hivexNodeDeleteChild(_ ctx: CallContext, nodeh: Int64) throws {
        try openHive("hivex_node_delete_child").deleteChild(nodeh)
    }

    func hivexNodeSetValue(_ ctx: CallContext, nodeh: Int64, key: String, t: Int64, val: [UInt8]) throws {
        try openHive("hivex_node_set_value").setValue(nodeh, key: key, type: t, data: val)
    }
}
