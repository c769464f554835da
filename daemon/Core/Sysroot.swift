// Guest paths live under /sysroot. Every guest path is resolved inside it
// with openat2(RESOLVE_IN_ROOT), so guest symlinks (absolute or ../..)
// cannot lead out of the guest.

import Glibc

public struct Sysroot {
    public var path: String

    public init(path: String = "/sysroot") {
        self.path = path
    }

    /// O_PATH fd of the sysroot directory (opened fresh: mounts change it).
    func rootFD() throws -> Int32 {
        let fd = Glibc.open(path, Sys.O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw DaemonError.posix("open", path) }
        return fd
    }

    /// "/a/b/" → "a/b"; "/" → ".".
    static func relative(_ guest: String) -> String {
        var s = Substring(guest)
        while s.first == "/" { s = s.dropFirst() }
        while s.count > 1 && s.last == "/" { s = s.dropLast() }
        return s.isEmpty ? "." : String(s)
    }

    /// Splits a guest path into its parent and last component. The last
    /// component is "." for the root and may be ".." (callers must not
    /// use it with plain *at() calls then; see `resolveParent`).
    static func split(_ guest: String) -> (parent: String, name: String) {
        let rel = relative(guest)
        if rel == "." { return ("/", ".") }
        if let slash = rel.lastIndex(of: "/") {
            return ("/" + rel[rel.startIndex..<slash], String(rel[rel.index(after: slash)...]))
        }
        return ("/", rel)
    }

    /// Opens a guest path (following symlinks, all inside the guest).
    func open(_ guest: String, _ flags: Int32, mode: mode_t = 0, op: String) throws -> Int32 {
        let root = try rootFD()
        defer { close(root) }
        let fd = Sys.openat2(root, Sysroot.relative(guest), flags: flags | O_CLOEXEC, mode: mode,
                             resolve: Sys.RESOLVE_IN_ROOT | Sys.RESOLVE_NO_MAGICLINKS)
        if fd < 0 { throw DaemonError.posix(op, guest) }
        return fd
    }

    /// The directory holding the last component (resolved inside the guest)
    /// and that component's name, for *at() calls that must not follow it.
    /// For "/", "." and ".." the whole path is resolved and the name is ".".
    func resolveParent(_ guest: String, op: String) throws -> (dirfd: Int32, name: String) {
        let (parent, name) = Sysroot.split(guest)
        if name == "." || name == ".." {
            return (try open(guest, Sys.O_PATH | O_DIRECTORY, op: op), ".")
        }
        return (try open(parent, Sys.O_PATH | O_DIRECTORY, op: op), name)
    }

    /// Host path of an open fd ("/sysroot/etc/passwd").
    static func fdPath(_ fd: Int32) -> String? {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlink("/proc/self/fd/\(fd)", &buf, 4096)
        if n <= 0 { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A host path that names the same file as `guest` but has no symlinks
    /// left in it (except the last component when `follow` is false), for
    /// handing to external programs. When the last component does not exist
    /// and `mustExist` is false, the parent is resolved and the name appended.
    func hostPath(_ guest: String, follow: Bool = true, mustExist: Bool = true, op: String) throws -> String {
        if follow {
            do {
                let fd = try open(guest, Sys.O_PATH, op: op)
                defer { close(fd) }
                guard let p = Sysroot.fdPath(fd) else { throw DaemonError.posix(op, guest) }
                return p
            } catch let e as DaemonError where e.errno == ENOENT && !mustExist {
                // fall through to the parent
            }
        }
        let (dirfd, name) = try resolveParent(guest, op: op)
        defer { close(dirfd) }
        guard let p = Sysroot.fdPath(dirfd) else { throw DaemonError.posix(op, guest) }
        if mustExist && !follow && name != "." {
            var st = Glibc.stat()
            if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { throw DaemonError.posix(op, guest) }
        }
        if name == "." { return p }
        return p == "/" ? "/" + name : p + "/" + name
    }

    /// Turns a host path back into a guest path ("/sysroot/etc" → "/etc").
    func guestPath(_ host: String) -> String? {
        if host == path { return "/" }
        if host.hasPrefix(path + "/") { return String(host.dropFirst(path.count)) }
        return nil
    }

    /// stat (or lstat) of a guest path.
    func statGuest(_ guest: String, follow: Bool, op: String) throws -> Glibc.stat {
        var st = Glibc.stat()
        if follow {
            let fd = try open(guest, Sys.O_PATH, op: op)
            defer { close(fd) }
            if fstatat(fd, "", &st, Sys.AT_EMPTY_PATH) != 0 { throw DaemonError.posix(op, guest) }
        } else {
            let (dirfd, name) = try resolveParent(guest, op: op)
            defer { close(dirfd) }
            let r = name == "." ? fstatat(dirfd, "", &st, Sys.AT_EMPTY_PATH) : fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)
            if r != 0 { throw DaemonError.posix(op, guest) }
        }
        return st
    }

    /// Whether a guest path names the sysroot itself after resolution.
    func isMounted() -> Bool {
        var a = Glibc.stat(), b = Glibc.stat()
        guard lstat(path, &a) == 0, lstat("/", &b) == 0 else { return false }
        return a.st_dev != b.st_dev
    }
}
