// Converters between C and Swift values, used by Generated/CActions.swift.
//
// Everything returned to C is allocated with malloc(3) so the caller frees
// it with free(3) or guestfs_free_STRUCT(_list), as with libguestfs.

import CGuestfs
import Glibc
import Guestfs

// MARK: C → Swift (arguments)

/// A required string argument; NULL is an EINVAL error.
public func cString(_ p: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let p else { throw CArgumentError(errno: EINVAL, message: "\(name): parameter cannot be NULL") }
    return String(cString: p)
}

/// An OptString argument: NULL means "not given".
public func cOptString(_ p: UnsafePointer<CChar>?) -> String? {
    p.map { String(cString: $0) }
}

/// A NULL-terminated `char *const *` list; a NULL list is an EINVAL error.
public func cStringList(_ p: UnsafePointer<UnsafeMutablePointer<CChar>?>?, _ name: String) throws -> [String] {
    guard let p else { throw CArgumentError(errno: EINVAL, message: "\(name): parameter cannot be NULL") }
    var out: [String] = []
    var i = 0
    while let s = p[i] {
        out.append(String(cString: s))
        i += 1
    }
    return out
}

/// A BufferIn argument (pointer + size). NULL is allowed only with size 0.
public func cBuffer(_ p: UnsafePointer<CChar>?, _ size: Int, _ name: String) throws -> [UInt8] {
    if size < 0 { throw CArgumentError(errno: EINVAL, message: "\(name): negative buffer size") }
    guard let p else {
        if size == 0 { return [] }
        throw CArgumentError(errno: EINVAL, message: "\(name): parameter cannot be NULL")
    }
    return p.withMemoryRebound(to: UInt8.self, capacity: size) { Array(UnsafeBufferPointer(start: $0, count: size)) }
}

// MARK: Swift → C (results)

/// calloc'ed storage for `count` values (zeroed); out of memory calls the
/// handle's out-of-memory handler.
public func cAllocate<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    guard let raw = calloc(max(count, 1), MemoryLayout<T>.stride) else { outOfMemory() }
    return raw.bindMemory(to: T.self, capacity: max(count, 1))
}

/// strdup that never returns NULL (out of memory → handler).
func cDup(_ s: String) -> UnsafeMutablePointer<CChar> {
    guard let p = strdup(s) else { outOfMemory() }
    return p
}

/// A malloc'ed NULL-terminated string list (RStringList).
public func cStringArray(_ l: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
    let a = cAllocate(UnsafeMutablePointer<CChar>?.self, count: l.count + 1)
    for (i, s) in l.enumerated() { a[i] = cDup(s) }
    a[l.count] = nil
    return a
}

/// RHashtable: key, value, key, value, …, NULL (keys in sorted order).
/// Ordered pairs (daemon order) as a flat NULL-terminated key/value array.
public func cHashtable(_ pairs: [(key: String, value: String)]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
    cStringArray(pairs.flatMap { [$0.key, $0.value] })
}

public func cHashtable(_ d: [String: String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
    var flat: [String] = []
    for k in d.keys.sorted() {
        flat.append(k)
        flat.append(d[k]!)
    }
    return cStringArray(flat)
}

/// RBufferOut: a malloc'ed copy (NUL-terminated for convenience, the NUL
/// not counted) and its size in `*sizeR`.
public func cBufferOut(_ b: [UInt8], _ sizeR: UnsafeMutablePointer<Int>?) -> UnsafeMutablePointer<CChar>? {
    let p = cAllocate(CChar.self, count: b.count + 1)
    b.withUnsafeBytes { src in
        if let base = src.baseAddress { memcpy(p, base, b.count) }
    }
    p[b.count] = 0
    sizeR?.pointee = b.count
    return p
}

/// A malloc'ed copy of a byte buffer inside a struct (xattr values).
public func cBufferCopy(_ b: [UInt8]) -> UnsafeMutablePointer<CChar>? {
    let p = cAllocate(CChar.self, count: b.count + 1)
    b.withUnsafeBytes { src in
        if let base = src.baseAddress { memcpy(p, base, b.count) }
    }
    return p
}

/// Copies a UUID into a fixed `char[32]` field (imported as a tuple): at
/// most the field's size, not NUL-terminated, the rest zeroed.
public func cCopyUUID<T>(_ s: String, into field: inout T) {
    withUnsafeMutableBytes(of: &field) { dst in
        for i in 0..<dst.count { dst[i] = 0 }
        let bytes = Array(s.utf8.prefix(dst.count))
        for (i, b) in bytes.enumerated() { dst[i] = b }
    }
}
