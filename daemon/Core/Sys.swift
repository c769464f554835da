// Low-level Linux pieces the Glibc module does not import (it is built
// without _GNU_SOURCE): constants here, and a few calls from the small C
// target CGuestfsdSys (plain C, so the daemon can be linked fully static).

import CGuestfsdSys
import Glibc

enum Sys {
    static let O_PATH: Int32 = 0o10000000
    static let AT_EMPTY_PATH: Int32 = 0x1000
    static let RB_POWER_OFF: Int32 = 0x4321_FEDC
    static let UTIME_NOW: Int = (1 << 30) - 1
    static let UTIME_OMIT: Int = (1 << 30) - 2
    static let SYS_openat2: Int = 437
    static let RESOLVE_NO_MAGICLINKS: UInt64 = 0x02
    static let RESOLVE_IN_ROOT: UInt64 = 0x10

    // Block device ioctls (linux/fs.h).
    static let BLKROSET: UInt = 0x125D
    static let BLKROGET: UInt = 0x125E
    static let BLKRRPART: UInt = 0x125F
    static let BLKFLSBUF: UInt = 0x1261
    static let BLKSSZGET: UInt = 0x1268
    static let BLKBSZGET: UInt = 0x8008_1270
    static let BLKGETSIZE64: UInt = 0x8008_1272

    /// openat2(2); returns the fd or -1 with errno set.
    static func openat2(_ dirfd: Int32, _ path: String, flags: Int32, mode: mode_t, resolve: UInt64) -> Int32 {
        gfsd_openat2(dirfd, path, UInt64(UInt32(bitPattern: flags)), UInt64(mode), resolve)
    }

    static func reboot(_ how: Int32) -> Int32 {
        gfsd_reboot(how)
    }

    /// Names of the extended attributes of `path` (the link itself when `follow` is false).
    static func listXattrs(_ path: String, follow: Bool) -> [String]? {
        let flw: Int32 = follow ? 1 : 0
        let f: (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int = { gfsd_listxattr($0, $1, $2, flw) }
        return path.withCString { p -> [String]? in
            let n = f(p, nil, 0)
            if n < 0 { return nil }
            if n == 0 { return [] }
            var buf = [CChar](repeating: 0, count: n + 1)
            let m = buf.withUnsafeMutableBufferPointer { f(p, $0.baseAddress, n) }
            if m < 0 { return nil }
            var names: [String] = []
            var cur: [UInt8] = []
            for i in 0..<m {
                let c = UInt8(bitPattern: buf[i])
                if c == 0 {
                    if !cur.isEmpty { names.append(String(decoding: cur, as: UTF8.self)) }
                    cur = []
                } else { cur.append(c) }
            }
            if !cur.isEmpty { names.append(String(decoding: cur, as: UTF8.self)) }
            return names
        }
    }

    static func getXattr(_ path: String, _ name: String, follow: Bool) -> [UInt8]? {
        let flw: Int32 = follow ? 1 : 0
        let f: (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int = { gfsd_getxattr($0, $1, $2, $3, flw) }
        return path.withCString { p in
            name.withCString { nm -> [UInt8]? in
                let n = f(p, nm, nil, 0)
                if n < 0 { return nil }
                if n == 0 { return [] }
                var buf = [UInt8](repeating: 0, count: n)
                let m = buf.withUnsafeMutableBytes { f(p, nm, $0.baseAddress, n) }
                if m < 0 { return nil }
                return Array(buf.prefix(m))
            }
        }
    }

    static func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
        var d = dev_t(major & 0xFFFF_F000) << 32
        d |= dev_t(major & 0xFFF) << 8
        d |= dev_t(minor & 0xFFFF_FF00) << 12
        d |= dev_t(minor & 0xFF)
        return d
    }

    static func major(_ d: dev_t) -> UInt32 {
        UInt32(truncatingIfNeeded: ((d >> 32) & 0xFFFF_F000) | ((d >> 8) & 0xFFF))
    }

    static func minor(_ d: dev_t) -> UInt32 {
        UInt32(truncatingIfNeeded: ((d >> 12) & 0xFFFF_FF00) | (d & 0xFF))
    }

    static func setCloexec(_ fd: Int32) {
        let fl = fcntl(fd, F_GETFD)
        if fl >= 0 { _ = fcntl(fd, F_SETFD, fl | FD_CLOEXEC) }
    }

    static func clearCloexec(_ fd: Int32) {
        let fl = fcntl(fd, F_GETFD)
        if fl >= 0 { _ = fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) }
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func strerror(_ e: Int32) -> String {
        guard let p = Glibc.strerror(e) else { return "error \(e)" }
        return String(cString: p)
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Reads a whole (small) file, or nil.
    static func readFile(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return readAll(fd, limit: limit)
    }

    static func readAll(_ fd: Int32, limit: Int = Int.max) -> [UInt8]? {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count < limit {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    static func readText(_ path: String) -> String? {
        readFile(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes everything, retrying on EINTR and short writes.
    static func writeAll(_ fd: Int32, _ data: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < data.count {
            let n = write(fd, data.baseAddress! + off, data.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            off += n
        }
        return true
    }

    static func writeAll(_ fd: Int32, _ data: [UInt8]) -> Bool {
        if data.isEmpty { return true }
        return data.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// Writes all the segments (pwritev at `offset` when given); returns
    /// the byte count, or -1 with errno set.
    static func writevAll(_ fd: Int32, _ segs: [UnsafeRawBufferPointer], at offset: Int64?) -> Int {
        var iov = segs.filter { !$0.isEmpty }.map {
            iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
        }
        var idx = 0
        var total = 0
        while idx < iov.count {
            let cnt = Int32(min(iov.count - idx, 1024))
            let i = idx
            let at = offset.map { $0 + Int64(total) }
            let n = iov.withUnsafeMutableBufferPointer { p -> Int in
                at == nil ? writev(fd, p.baseAddress! + i, cnt) : pwritev(fd, p.baseAddress! + i, cnt, off_t(at!))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            total += n
            var left = n
            while left > 0 {
                if left >= iov[idx].iov_len {
                    left -= iov[idx].iov_len
                    idx += 1
                } else {
                    iov[idx].iov_base = iov[idx].iov_base! + left
                    iov[idx].iov_len -= left
                    left = 0
                }
            }
        }
        return total
    }

    static func pwriteAll(_ fd: Int32, _ data: [UInt8], at offset: Int64) -> Bool {
        var off = 0
        while off < data.count {
            let n = data.withUnsafeBytes { pwrite(fd, $0.baseAddress! + off, data.count - off, off_t(offset) + off_t(off)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            off += n
        }
        return true
    }

    /// Names in a directory (without . and ..), in readdir order.
    static func listDirectory(_ path: String) -> [String]? {
        guard let d = opendir(path) else { return nil }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            out.append(name)
        }
        return out
    }

    static func log(_ s: String) {
        let line = "guestfsd: " + s + "\n"
        _ = line.withCString { p in write(2, p, strlen(p)) }
    }
}

extension StringProtocol {
    func trimmed() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }

}

extension String {
    /// Lines without their terminators; a final newline does not make an empty last line.
    var lines: [String] {
        if isEmpty { return [] }
        var parts = split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    func hasPrefixAny(_ prefixes: [String]) -> Bool { prefixes.contains { hasPrefix($0) } }
}
