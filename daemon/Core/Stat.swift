// stat family, file type tests, extended attributes.

import Glibc
import GuestfsProtocol

func statNS(_ st: stat) -> StatNS {
    StatNS(stDev: Int64(bitPattern: UInt64(st.st_dev)), stIno: Int64(bitPattern: UInt64(st.st_ino)),
           stMode: Int64(st.st_mode), stNlink: Int64(st.st_nlink), stUid: Int64(st.st_uid), stGid: Int64(st.st_gid),
           stRdev: Int64(bitPattern: UInt64(st.st_rdev)), stSize: Int64(st.st_size), stBlksize: Int64(st.st_blksize),
           stBlocks: Int64(st.st_blocks),
           stAtimeSec: Int64(st.st_atim.tv_sec), stAtimeNsec: Int64(st.st_atim.tv_nsec),
           stMtimeSec: Int64(st.st_mtim.tv_sec), stMtimeNsec: Int64(st.st_mtim.tv_nsec),
           stCtimeSec: Int64(st.st_ctim.tv_sec), stCtimeNsec: Int64(st.st_ctim.tv_nsec),
           stSpare1: 0, stSpare2: 0, stSpare3: 0, stSpare4: 0, stSpare5: 0, stSpare6: 0)
}

extension Handlers {
    func statns(_ ctx: CallContext, path: String) throws -> StatNS {
        statNS(try ctx.sysroot.statGuest(path, follow: true, op: "stat"))
    }

    func lstatns(_ ctx: CallContext, path: String) throws -> StatNS {
        statNS(try ctx.sysroot.statGuest(path, follow: false, op: "lstat"))
    }

    func statvfs(_ ctx: CallContext, path: String) throws -> StatVFS {
        try withFile(ctx, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, op: "statvfs") { fd in
            var s = Glibc.statvfs()
            if fstatvfs(fd, &s) != 0 { throw DaemonError.posix("statvfs", path) }
            return StatVFS(bsize: Int64(s.f_bsize), frsize: Int64(s.f_frsize), blocks: Int64(s.f_blocks),
                           bfree: Int64(s.f_bfree), bavail: Int64(s.f_bavail), files: Int64(s.f_files),
                           ffree: Int64(s.f_ffree), favail: Int64(s.f_favail), fsid: Int64(bitPattern: UInt64(s.f_fsid)),
                           flag: Int64(s.f_flag), namemax: Int64(s.f_namemax))
        }
    }

    /// The file type bits of a guest path, or nil when it does not exist.
    func fileType(_ ctx: CallContext, _ path: String, follow: Bool) throws -> mode_t? {
        do {
            return try ctx.sysroot.statGuest(path, follow: follow, op: follow ? "stat" : "lstat").st_mode & S_IFMT
        } catch let e as DaemonError where e.errno == ENOENT || e.errno == ENOTDIR {
            return nil
        }
    }

    func exists(_ ctx: CallContext, path: String) throws -> Bool {
        (try? fileType(ctx, path, follow: true)).flatMap { $0 } != nil
    }

    func isFile(_ ctx: CallContext, path: String, followsymlinks: Bool?) throws -> Bool {
        try fileType(ctx, path, follow: followsymlinks ?? false) == S_IFREG
    }

    func isDir(_ ctx: CallContext, path: String, followsymlinks: Bool?) throws -> Bool {
        try fileType(ctx, path, follow: followsymlinks ?? false) == S_IFDIR
    }

    func isChardev(_ ctx: CallContext, path: String, followsymlinks: Bool?) throws -> Bool {
        try fileType(ctx, path, follow: followsymlinks ?? false) == S_IFCHR
    }

    func isBlockdev(_ ctx: CallContext, path: String, followsymlinks: Bool?) throws -> Bool {
        try fileType(ctx, path, follow: followsymlinks ?? false) == S_IFBLK
    }

    func isFifo(_ ctx: CallContext, path: String, followsymlinks: Bool?) throws -> Bool {
        try fileType(ctx, path, follow: followsymlinks ?? false) == S_IFIFO
    }

    func isSymlink(_ ctx: CallContext, path: String) throws -> Bool {
        try fileType(ctx, path, follow: false) == S_IFLNK
    }

    func isSocket(_ ctx: CallContext, path: String, followsymlinks: Bool?) throws -> Bool {
        try fileType(ctx, path, follow: followsymlinks ?? false) == S_IFSOCK
    }

    func internalLstatnslist(_ ctx: CallContext, path: String, names: [String]) throws -> [StatNS] {
        try withFile(ctx, path, Sys.O_PATH | O_DIRECTORY, op: "open") { dirfd in
            names.map { name -> StatNS in
                var st = stat()
                let ok: Bool
                if name.isEmpty || name.contains("/") || name == ".." {
                    ok = (try? ctx.sysroot.statGuest(Handlers.join(path, name), follow: false, op: "lstat")).map { st = $0; return true } ?? false
                } else {
                    ok = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
                }
                if ok { return statNS(st) }
                var bad = statNS(stat())
                bad.stIno = -1
                return bad
            }
        }
    }

    func internalReadlinklist(_ ctx: CallContext, path: String, names: [String]) throws -> [String] {
        try withFile(ctx, path, Sys.O_PATH | O_DIRECTORY, op: "open") { dirfd in
            names.map { name -> String in
                if name.isEmpty || name.contains("/") || name == ".." {
                    return (try? readlink(ctx, path: Handlers.join(path, name))) ?? ""
                }
                return Handlers.readlinkAt(dirfd, name) ?? ""
            }
        }
    }

    static func readlinkAt(_ dirfd: Int32, _ name: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlinkat(dirfd, name, &buf, 4096)
        if n < 0 { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    func readlink(_ ctx: CallContext, path: String) throws -> String {
        try withParent(ctx, path, op: "readlink") { dirfd, name in
            guard let s = Handlers.readlinkAt(dirfd, name) else { throw DaemonError.posix("readlink", path) }
            return s
        }
    }

    func xattrs(_ ctx: CallContext, _ path: String, follow: Bool) throws -> [XAttr] {
        let host = try ctx.sysroot.hostPath(path, follow: follow, op: follow ? "getxattrs" : "lgetxattrs")
        let op = follow ? "listxattr" : "llistxattr"
        guard let names = Sys.listXattrs(host, follow: follow) else { throw DaemonError.posix(op, path) }
        var out: [XAttr] = []
        for n in names {
            guard let v = Sys.getXattr(host, n, follow: follow) else {
                if errno == ENODATA { continue }
                throw DaemonError.posix(follow ? "getxattr" : "lgetxattr", path)
            }
            out.append(XAttr(attrname: n, attrval: v))
        }
        return out
    }

    func getxattrs(_ ctx: CallContext, path: String) throws -> [XAttr] {
        try xattrs(ctx, path, follow: true)
    }

    func lgetxattrs(_ ctx: CallContext, path: String) throws -> [XAttr] {
        try xattrs(ctx, path, follow: false)
    }
}
