// Directories, links, copies, listings.

import Glibc
import GuestfsProtocol
import XDR

extension Handlers {
    func mkdirMode(_ ctx: CallContext, path: String, mode: Int32) throws {
        if mode < 0 { throw DaemonError(EINVAL, "mkdir_mode: \(mode): the mode is negative") }
        try withParent(ctx, path, op: "mkdir") { dirfd, name in
            if name == "." { throw DaemonError(EEXIST, "mkdir: \(path): File exists") }
            if mkdirat(dirfd, name, mode_t(mode)) != 0 { throw DaemonError.posix("mkdir", path) }
        }
    }

    func mkdir(_ ctx: CallContext, path: String) throws {
        try mkdirMode(ctx, path: path, mode: 0o777)
    }

    func mkdirP(_ ctx: CallContext, path: String) throws {
        let comps = Sysroot.relative(path).split(separator: "/").map(String.init)
        var cur = ""
        for c in comps where c != "." {
            cur += "/" + c
            if c == ".." { continue }
            let made: Bool = try withParent(ctx, cur, op: "mkdir") { dirfd, name in
                if mkdirat(dirfd, name, 0o777) == 0 { return true }
                if errno != EEXIST { throw DaemonError.posix("mkdir", cur) }
                return false
            }
            if !made, try fileType(ctx, cur, follow: true) != S_IFDIR {
                throw DaemonError(ENOTDIR, "mkdir_p: \(cur): exists but is not a directory")
            }
        }
    }

    func rm(_ ctx: CallContext, path: String) throws {
        try withParent(ctx, path, op: "unlink") { dirfd, name in
            if name == "." { throw DaemonError(EISDIR, "unlink: \(path): Is a directory") }
            if unlinkat(dirfd, name, 0) != 0 { throw DaemonError.posix("unlink", path) }
        }
    }

    func rmF(_ ctx: CallContext, path: String) throws {
        do {
            try rm(ctx, path: path)
        } catch let e as DaemonError where e.errno == ENOENT {
            return
        }
    }

    func rmdir(_ ctx: CallContext, path: String) throws {
        try withParent(ctx, path, op: "rmdir") { dirfd, name in
            if name == "." { throw DaemonError(EBUSY, "rmdir: \(path): Device or resource busy") }
            if unlinkat(dirfd, name, AT_REMOVEDIR) != 0 { throw DaemonError.posix("rmdir", path) }
        }
    }

    func rmRf(_ ctx: CallContext, path: String) throws {
        let host: String
        do {
            host = try ctx.sysroot.hostPath(path, follow: false, mustExist: true, op: "rm_rf")
        } catch let e as DaemonError where e.errno == ENOENT {
            return
        }
        try Command.check(["rm", "-rf", "--", host])
    }

    func mkdtemp(_ ctx: CallContext, tmpl: String) throws -> String {
        let (parent, name) = Sysroot.split(tmpl)
        guard name.hasSuffix("XXXXXX") else {
            throw DaemonError(EINVAL, "mkdtemp: \(tmpl): the template must end with XXXXXX")
        }
        let stem = String(name.dropLast(6))
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return try withParent(ctx, Handlers.join(parent, "x"), op: "mkdtemp") { dirfd, _ in
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<100 {
                let suffix = String((0..<6).map { _ in chars[Int(rng.next() % UInt64(chars.count))] })
                if mkdirat(dirfd, stem + suffix, 0o700) == 0 {
                    return Handlers.join(parent, stem + suffix)
                }
                if errno != EEXIST { throw DaemonError.posix("mkdtemp", tmpl) }
            }
            throw DaemonError(EEXIST, "mkdtemp: \(tmpl): could not find an unused name")
        }
    }

    func chmod(_ ctx: CallContext, mode: Int32, path: String) throws {
        if mode < 0 { throw DaemonError(EINVAL, "chmod: \(mode): the mode is negative") }
        try withFile(ctx, path, Sys.O_PATH, op: "chmod") { fd in
            if Glibc.chmod("/proc/self/fd/\(fd)", mode_t(mode)) != 0 { throw DaemonError.posix("chmod", path) }
        }
    }

    func chown(_ ctx: CallContext, owner: Int32, group: Int32, path: String) throws {
        try withFile(ctx, path, Sys.O_PATH, op: "chown") { fd in
            if fchownat(fd, "", uid_t(bitPattern: owner), gid_t(bitPattern: group), Sys.AT_EMPTY_PATH) != 0 {
                throw DaemonError.posix("chown", path)
            }
        }
    }

    func lchown(_ ctx: CallContext, owner: Int32, group: Int32, path: String) throws {
        try withParent(ctx, path, op: "lchown") { dirfd, name in
            let r = name == "."
                ? fchownat(dirfd, "", uid_t(bitPattern: owner), gid_t(bitPattern: group), Sys.AT_EMPTY_PATH)
                : fchownat(dirfd, name, uid_t(bitPattern: owner), gid_t(bitPattern: group), AT_SYMLINK_NOFOLLOW)
            if r != 0 { throw DaemonError.posix("lchown", path) }
        }
    }

    func realpath(_ ctx: CallContext, path: String) throws -> String {
        try withFile(ctx, path, Sys.O_PATH, op: "realpath") { fd in
            guard let host = Sysroot.fdPath(fd), let g = ctx.sysroot.guestPath(host) else {
                throw DaemonError.posix("realpath", path)
            }
            return g
        }
    }

    // MARK: links

    func ln(_ ctx: CallContext, target: String, linkname: String) throws {
        _ = try ctx.checkPathname(target, "target")
        try withParent(ctx, target, op: "link") { tdir, tname in
            try withParent(ctx, linkname, op: "link") { ldir, lname in
                if linkat(tdir, tname, ldir, lname, 0) != 0 { throw DaemonError.posix("link", linkname) }
            }
        }
    }

    func lnF(_ ctx: CallContext, target: String, linkname: String) throws {
        try rmF(ctx, path: linkname)
        try ln(ctx, target: target, linkname: linkname)
    }

    func lnS(_ ctx: CallContext, target: String, linkname: String) throws {
        try withParent(ctx, linkname, op: "symlink") { dirfd, name in
            if symlinkat(target, dirfd, name) != 0 { throw DaemonError.posix("symlink", linkname) }
        }
    }

    func lnSf(_ ctx: CallContext, target: String, linkname: String) throws {
        try withParent(ctx, linkname, op: "symlink") { dirfd, name in
            var st = stat()
            if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) != S_IFDIR {
                if unlinkat(dirfd, name, 0) != 0 { throw DaemonError.posix("unlink", linkname) }
            }
            if symlinkat(target, dirfd, name) != 0 { throw DaemonError.posix("symlink", linkname) }
        }
    }

    // MARK: copy and move (coreutils on resolved host paths)

    private func copy(_ ctx: CallContext, _ flags: [String], _ src: String, _ dest: String, srcFollow: Bool = true) throws {
        let s = try ctx.sysroot.hostPath(src, follow: srcFollow, op: "cp")
        let d = try ctx.sysroot.hostPath(dest, follow: true, mustExist: false, op: "cp")
        try Command.check(flags + ["--", s, d])
    }

    func cp(_ ctx: CallContext, src: String, dest: String) throws { try copy(ctx, ["cp"], src, dest) }
    func cpA(_ ctx: CallContext, src: String, dest: String) throws { try copy(ctx, ["cp", "-a"], src, dest) }
    func cpR(_ ctx: CallContext, src: String, dest: String) throws { try copy(ctx, ["cp", "-rP"], src, dest) }
    func mv(_ ctx: CallContext, src: String, dest: String) throws { try copy(ctx, ["mv"], src, dest, srcFollow: false) }

    // MARK: listings

    func ll(_ ctx: CallContext, directory: String) throws -> String {
        let host = try ctx.sysroot.hostPath(directory, op: "ll")
        return try Command.output(["ls", "-la", "--", host])
    }

    func llz(_ ctx: CallContext, directory: String) throws -> String {
        let host = try ctx.sysroot.hostPath(directory, op: "llz")
        return try Command.output(["ls", "-laZ", "--", host])
    }

    /// Calls `body` for every entry of a guest directory (not . and ..).
    func eachEntry(_ ctx: CallContext, _ dir: String, includeDots: Bool = false, _ body: (Int32, String, UInt64, UInt8) throws -> Void) throws {
        let fd = try ctx.sysroot.open(dir, O_RDONLY | O_DIRECTORY, op: "opendir")
        guard let d = fdopendir(fd) else {
            let e = errno
            close(fd)
            throw DaemonError.posix("opendir", dir, errno: e)
        }
        defer { closedir(d) }
        let dfd = dirfd(d)
        while true {
            errno = 0
            guard let e = readdir(d) else {
                if errno != 0 { throw DaemonError.posix("readdir", dir) }
                break
            }
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if !includeDots && (name == "." || name == "..") { continue }
            try body(dfd, name, UInt64(e.pointee.d_ino), e.pointee.d_type)
        }
    }

    func ls0(_ ctx: CallContext, dir: String) throws {
        var names: [UInt8] = []
        try eachEntry(ctx, dir) { _, name, _, _ in
            names.append(contentsOf: Array(name.utf8))
            names.append(0)
        }
        try ctx.send(names)
        try ctx.endFileOut()
    }

    static func ftyp(_ dtype: UInt8, dirfd: Int32, name: String) -> UInt8 {
        let c: Character
        switch Int(dtype) {
        case Int(DT_BLK): c = "b"
        case Int(DT_CHR): c = "c"
        case Int(DT_DIR): c = "d"
        case Int(DT_FIFO): c = "f"
        case Int(DT_LNK): c = "l"
        case Int(DT_REG): c = "r"
        case Int(DT_SOCK): c = "s"
        default:
            var st = stat()
            if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { return UInt8(ascii: "?") }
            switch st.st_mode & S_IFMT {
            case S_IFBLK: c = "b"
            case S_IFCHR: c = "c"
            case S_IFDIR: c = "d"
            case S_IFIFO: c = "f"
            case S_IFLNK: c = "l"
            case S_IFREG: c = "r"
            case S_IFSOCK: c = "s"
            default: c = "u"
            }
        }
        return c.asciiValue ?? UInt8(ascii: "u")
    }

    func dirents(_ ctx: CallContext, _ dir: String) throws -> [Dirent] {
        var out: [Dirent] = []
        try eachEntry(ctx, dir, includeDots: true) { dfd, name, ino, type in
            out.append(Dirent(ino: Int64(bitPattern: ino), ftyp: Handlers.ftyp(type, dirfd: dfd, name: name), name: name))
        }
        return out
    }

    /// FileOut: XDR-encoded Dirent structs one after another (like readdir,
    /// "." and ".." included).
    func internalReaddir(_ ctx: CallContext, dir: String) throws {
        let fd = try ctx.sysroot.open(dir, O_RDONLY | O_DIRECTORY, op: "opendir")
        close(fd)
        try ctx.beginFileOut()
        try eachEntry(ctx, dir, includeDots: true) { dfd, name, ino, type in
            let e = Dirent(ino: Int64(bitPattern: ino), ftyp: Handlers.ftyp(type, dirfd: dfd, name: name), name: name)
            try ctx.send(e.xdrBytes)
        }
        try ctx.endFileOut()
    }

    /// libguestfs 1.48's readdir (procedure 138): args { string dir },
    /// ret { dirent list }.
    func legacyReaddir(_ ctx: CallContext, _ d: inout XDRDecoder) throws -> [UInt8] {
        try ctx.checkOptargs(count: 0)
        let dir = try ctx.checkPathname(try d.decodeString(), "dir")
        try d.finish()
        var e = XDREncoder()
        e.encode(try dirents(ctx, dir))
        return e.bytes
    }

    func find0(_ ctx: CallContext, directory: String) throws {
        let host = try ctx.sysroot.hostPath(directory, op: "find0")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "find0: \(directory): Not a directory") }
        let child = try Child.spawn(["find", host, "-print0"])
        let prefix = Array((host == "/" ? "/" : host + "/").utf8)
        var partial: [UInt8] = []
        var err: [UInt8] = []
        do {
            try ctx.beginFileOut()
            try child.pump(errBuf: &err) { data in
                var out: [UInt8] = []
                for b in data {
                    if b == 0 {
                        if partial.starts(with: prefix) {
                            out.append(contentsOf: partial[prefix.count...])
                            out.append(0)
                        }
                        partial.removeAll(keepingCapacity: true)
                    } else {
                        partial.append(b)
                    }
                }
                try ctx.send(out)
            }
        } catch {
            _ = child.wait()
            throw error
        }
        let st = child.wait()
        if st != 0 { throw Command.failure(["find"], CommandResult(status: st, stdout: [], stderr: err)) }
        try ctx.endFileOut()
    }
}
