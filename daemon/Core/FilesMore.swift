// More file actions: special files (mknod and friends), mktemp, rename,
// case_sensitive_path, glob_expand, hexdump/strings, equal, is_zero and
// fill_dir. Guest paths are resolved inside the sysroot (openat2
// RESOLVE_IN_ROOT); external tools get host paths with no symlinks left.

import Glibc
import GuestfsProtocol

extension Handlers {
    // MARK: special files

    private func makeNode(_ ctx: CallContext, _ op: String, mode: Int32, major: Int32, minor: Int32, path: String) throws {
        guard mode >= 0 else { throw DaemonError(EINVAL, "\(op): \(path): the mode is negative") }
        guard major >= 0, minor >= 0 else {
            throw DaemonError(EINVAL, "\(op): \(path): device numbers must not be negative")
        }
        try withParent(ctx, path, op: op) { dirfd, name in
            if name == "." { throw DaemonError(EEXIST, "\(op): \(path): \(Sys.strerror(EEXIST))") }
            let dev = Sys.makedev(UInt32(major), UInt32(minor))
            if mknodat(dirfd, name, mode_t(mode), dev) != 0 { throw DaemonError.posix(op, path) }
        }
    }

    /// The typed wrappers take permission bits only.
    private func typedNode(_ ctx: CallContext, _ op: String, type: mode_t, mode: Int32, major: Int32, minor: Int32, path: String) throws {
        if mode < 0 || (mode_t(mode) & S_IFMT) != 0 {
            throw DaemonError(EINVAL, "\(op): \(path): mode \(String(mode, radix: 8)) must hold only permission bits")
        }
        try makeNode(ctx, op, mode: Int32(mode_t(mode) | type), major: major, minor: minor, path: path)
    }

    func mknod(_ ctx: CallContext, mode: Int32, devmajor: Int32, devminor: Int32, path: String) throws {
        try makeNode(ctx, "mknod", mode: mode, major: devmajor, minor: devminor, path: path)
    }

    func mknodB(_ ctx: CallContext, mode: Int32, devmajor: Int32, devminor: Int32, path: String) throws {
        try typedNode(ctx, "mknod_b", type: S_IFBLK, mode: mode, major: devmajor, minor: devminor, path: path)
    }

    func mknodC(_ ctx: CallContext, mode: Int32, devmajor: Int32, devminor: Int32, path: String) throws {
        try typedNode(ctx, "mknod_c", type: S_IFCHR, mode: mode, major: devmajor, minor: devminor, path: path)
    }

    func mkfifo(_ ctx: CallContext, mode: Int32, path: String) throws {
        try typedNode(ctx, "mkfifo", type: S_IFIFO, mode: mode, major: 0, minor: 0, path: path)
    }

    // MARK: mktemp, rename

    func mktemp(_ ctx: CallContext, tmpl: String, suffix: String?) throws -> String {
        guard tmpl.hasSuffix("XXXXXX") else {
            throw DaemonError(EINVAL, "mktemp: \(tmpl): the template must end in XXXXXX")
        }
        let suffix = suffix ?? ""
        if suffix.contains("/") { throw DaemonError(EINVAL, "mktemp: \(suffix): the suffix must not contain '/'") }
        let stem = String(tmpl.dropLast(6))
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let random = String((0..<6).map { _ in chars[Int(rng.next(upperBound: UInt(chars.count)))] })
            let path = stem + random + suffix
            let made: Bool = try withParent(ctx, path, op: "mktemp") { dirfd, name in
                let fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0o600)
                if fd >= 0 { close(fd); return true }
                if errno == EEXIST { return false }
                throw DaemonError.posix("mktemp", path)
            }
            if made { return path }
        }
        throw DaemonError(EEXIST, "mktemp: \(tmpl): no unused name found")
    }

    func rename(_ ctx: CallContext, oldpath: String, newpath: String) throws {
        let (ofd, oname) = try ctx.sysroot.resolveParent(oldpath, op: "rename")
        defer { close(ofd) }
        let (nfd, nname) = try ctx.sysroot.resolveParent(newpath, op: "rename")
        defer { close(nfd) }
        if oname == "." || nname == "." {
            throw DaemonError(EBUSY, "rename: \(oldpath) to \(newpath): \(Sys.strerror(EBUSY))")
        }
        if renameat(ofd, oname, nfd, nname) != 0 {
            let e = errno
            throw DaemonError(e, "rename: \(oldpath) to \(newpath): \(Sys.strerror(e))")
        }
    }

    // MARK: case_sensitive_path, glob_expand

    /// Names in a guest directory (nil when it cannot be read).
    func guestDirectoryNames(_ ctx: CallContext, _ dir: String) -> [String]? {
        guard let fd = try? ctx.sysroot.open(dir, O_RDONLY | O_DIRECTORY, op: "opendir") else { return nil }
        guard let d = fdopendir(fd) else { close(fd); return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let ent = readdir(d) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func lowerASCII(_ s: String) -> [UInt8] {
        s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    func caseSensitivePath(_ ctx: CallContext, path: String) throws -> String {
        let comps = path.split(separator: "/").map(String.init)
        var out = ""
        var i = 0
        while i < comps.count {
            let c = comps[i]
            if c == "." || c == ".." {
                throw DaemonError(EINVAL, "case_sensitive_path: \(path): '.' and '..' components are not allowed")
            }
            let dir = out.isEmpty ? "/" : out
            var exact = false
            do {
                _ = try ctx.sysroot.statGuest(Handlers.join(dir, c), follow: false, op: "case_sensitive_path")
                exact = true
            } catch let e as DaemonError where e.errno == ENOENT {
            }
            if exact {
                out += "/" + c
            } else {
                guard let names = guestDirectoryNames(ctx, dir) else {
                    throw DaemonError.posix("case_sensitive_path", dir)
                }
                let want = Handlers.lowerASCII(c)
                if let m = names.sorted().first(where: { Handlers.lowerASCII($0) == want }) {
                    out += "/" + m
                } else {
                    // Missing from here on: keep the rest as given.
                    out += "/" + comps[i...].joined(separator: "/")
                    break
                }
            }
            i += 1
        }
        return out.isEmpty ? "/" : out
    }

    private static func hasWildcard(_ s: String) -> Bool {
        s.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    private func isGuestDirectory(_ ctx: CallContext, _ path: String) -> Bool {
        guard let st = try? ctx.sysroot.statGuest(path, follow: true, op: "glob_expand") else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    func globExpand(_ ctx: CallContext, pattern: String, directoryslash: Bool?) throws -> [String] {
        guard pattern.hasPrefix("/") else {
            throw DaemonError(EINVAL, "glob_expand: \(pattern): the pattern must be an absolute path")
        }
        let comps = pattern.split(separator: "/").map(String.init)
        var current = ["/"]
        for (i, c) in comps.enumerated() {
            let last = i == comps.count - 1
            var next: [String] = []
            for base in current {
                if !Handlers.hasWildcard(c) {
                    let p = Handlers.join(base, c)
                    if last {
                        if (try? ctx.sysroot.statGuest(p, follow: false, op: "glob_expand")) != nil { next.append(p) }
                    } else if isGuestDirectory(ctx, p) {
                        next.append(p)
                    }
                    continue
                }
                guard let names = guestDirectoryNames(ctx, base) else { continue }
                for n in names where fnmatch(c, n, FNM_PERIOD) == 0 {
                    let p = Handlers.join(base, n)
                    if last || isGuestDirectory(ctx, p) { next.append(p) }
                }
            }
            current = next
            if current.isEmpty { break }
        }
        if comps.isEmpty { current = ["/"] }
        let slash = directoryslash ?? true
        let out = current.map { p -> String in
            slash && p != "/" && isGuestDirectory(ctx, p) ? p + "/" : p
        }
        return out.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    // MARK: hexdump, strings

    func hexdump(_ ctx: CallContext, path: String) throws -> String {
        let host = try ctx.sysroot.hostPath(path, op: "hexdump")
        let r = try Command.run(["hexdump", "-C", host])
        if !r.ok { throw DaemonError(EIO, "hexdump: \(path): \(r.err.trimmed().replacingAll(host, with: path))") }
        return r.out
    }

    func strings(_ ctx: CallContext, path: String) throws -> [String] {
        try stringsE(ctx, encoding: "s", path: path)
    }

    func stringsE(_ ctx: CallContext, encoding: String, path: String) throws -> [String] {
        guard ["s", "S", "b", "l", "B", "L"].contains(encoding) else {
            throw DaemonError(EINVAL, "strings_e: \(encoding): unknown encoding (use s, S, b, l, B or L)")
        }
        let host = try ctx.sysroot.hostPath(path, op: "strings")
        // -a: the whole file, not only the data sections of object files.
        let r = try Command.run(["strings", "-a", "-e", encoding, "--", host])
        if !r.ok { throw DaemonError(EIO, "strings: \(path): \(r.err.trimmed().replacingAll(host, with: path))") }
        return r.out.lines
    }

    // MARK: equal, is_zero

    func equal(_ ctx: CallContext, file1: String, file2: String) throws -> Bool {
        let a = try ctx.sysroot.open(file1, O_RDONLY, op: "equal")
        defer { close(a) }
        let b = try ctx.sysroot.open(file2, O_RDONLY, op: "equal")
        defer { close(b) }
        let size = 1 << 16
        var ba = [UInt8](repeating: 0, count: size)
        var bb = [UInt8](repeating: 0, count: size)
        while true {
            let na = try Handlers.readFull(a, &ba, file1, op: "equal")
            let nb = try Handlers.readFull(b, &bb, file2, op: "equal")
            if na != nb { return false }
            if na == 0 { return true }
            if ba[0..<na] != bb[0..<nb] { return false }
        }
    }

    /// Reads until the buffer is full or the end of the file.
    static func readFull(_ fd: Int32, _ buf: inout [UInt8], _ what: String, op: String) throws -> Int {
        var got = 0
        let want = buf.count
        while got < want {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, want - got) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DaemonError.posix(op, what)
            }
            if n == 0 { break }
            got += n
        }
        return got
    }

    private func allZero(_ fd: Int32, _ what: String, op: String) throws -> Bool {
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try Handlers.readFull(fd, &buf, what, op: op)
            if n == 0 { return true }
            if buf.withUnsafeBytes({ b in b[0..<n].contains { $0 != 0 } }) { return false }
        }
    }

    func isZero(_ ctx: CallContext, path: String) throws -> Bool {
        let fd = try ctx.sysroot.open(path, O_RDONLY, op: "is_zero")
        defer { close(fd) }
        return try allZero(fd, path, op: "is_zero")
    }

    func isZeroDevice(_ ctx: CallContext, device: String) throws -> Bool {
        let fd = open(device, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DaemonError.posix("is_zero_device", device) }
        defer { close(fd) }
        return try allZero(fd, device, op: "is_zero_device")
    }

    // MARK: fill_dir

    func fillDir(_ ctx: CallContext, dir: String, nr: Int32) throws {
        guard nr >= 0 else { throw DaemonError(EINVAL, "fill_dir: \(dir): the number of files is negative") }
        let dfd = try ctx.sysroot.open(dir, O_RDONLY | O_DIRECTORY, op: "fill_dir")
        defer { close(dfd) }
        for i in 0..<Int(nr) {
            var name = String(i)
            if name.count < 8 { name = String(repeating: "0", count: 8 - name.count) + name }
            let fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, 0o666)
            if fd < 0 { throw DaemonError.posix("fill_dir", Handlers.join(dir, name)) }
            close(fd)
        }
    }
}
