import CFuse
import Foundation
import GuestfsProtocol

// mount_local, mount_local_run, umount_local: the guest filesystem mounted
// at "/" in the appliance, served to the host through libfuse 3.
//
// mount_local creates the FUSE handle and mounts it; mount_local_run runs
// libfuse's single-threaded loop, so every FUSE operation runs on the
// thread that called mount_local_run, which holds the handle's (recursive)
// lock: the operations call the ordinary actions (lstatns, pread, pwrite…)
// on the same handle. umount_local runs fusermount3 from any thread without
// taking the handle's lock (see `perform`), which makes the loop return.
//
// Listing a directory also fetches, in batches, the attributes, extended
// attributes and link targets of all its entries (lstatnslist, lxattrlist,
// readlinklist), kept for `cachetimeout` seconds, since `ls -l` asks for
// them one by one right after.

final class MountLocalSession {
    weak var g: Guestfs?
    let mountpoint: String
    let readonly: Bool
    let cacheTimeout: Int
    let debugCalls: Bool
    var fuse: OpaquePointer?

    struct Entry<T> { var expires: time_t; var value: T }
    var statCache: [String: Entry<StatNS>] = [:]
    var xattrCache: [String: Entry<[XAttr]>] = [:]
    var linkCache: [String: Entry<String>] = [:]

    init(g: Guestfs, mountpoint: String, readonly: Bool, cacheTimeout: Int, debugCalls: Bool) {
        self.g = g
        self.mountpoint = mountpoint
        self.readonly = readonly
        self.cacheTimeout = cacheTimeout
        self.debugCalls = debugCalls
    }

    func lookup<T>(_ cache: [String: Entry<T>], _ path: String) -> T? {
        guard let e = cache[path], e.expires >= time(nil) else { return nil }
        return e.value
    }

    func dropExpired() {
        let now = time(nil)
        statCache = statCache.filter { $0.value.expires >= now }
        xattrCache = xattrCache.filter { $0.value.expires >= now }
        linkCache = linkCache.filter { $0.value.expires >= now }
    }

    /// After any change: forget everything (a rename or a hard link changes
    /// entries other than the path named).
    func invalidate() {
        statCache.removeAll()
        xattrCache.removeAll()
        linkCache.removeAll()
    }
}

/// Guards Guestfs.mountLocal, which umount_local reads from another thread.
let mountLocalLock = NSLock()

extension Guestfs {
    var mountLocalSession: MountLocalSession? {
        mountLocalLock.lock()
        defer { mountLocalLock.unlock() }
        return mountLocal
    }

    func impl_mount_local(_ localmountpoint: String, readonly: Bool?, options: String?, cachetimeout: Int32?,
                          debugcalls: Bool?) throws {
        if mountLocalSession != nil {
            throw fail(EBUSY, "\(localmountpoint): this handle already has a local mount (call umount_local first)")
        }
        if let cachetimeout, cachetimeout < 0 {
            throw fail(EINVAL, "cachetimeout: \(cachetimeout): must not be negative")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: localmountpoint, isDirectory: &isDir) else {
            throw fail(ENOENT, "\(localmountpoint): \(errnoText(ENOENT))")
        }
        guard isDir.boolValue else {
            throw fail(ENOTDIR, "\(localmountpoint): not a directory")
        }
        let session = MountLocalSession(g: self, mountpoint: localmountpoint, readonly: readonly ?? false,
                                        cacheTimeout: Int(cachetimeout ?? 60), debugCalls: debugcalls ?? false)
        var ops = MountLocalOps.table()
        let unmanaged = Unmanaged.passRetained(session)
        debug("mount_local: mounting \(localmountpoint) with FUSE")
        var mountFailed: Int32 = 0
        guard let f = guestfs_fuse_create(program, options, &ops, unmanaged.toOpaque(), localmountpoint, &mountFailed) else {
            unmanaged.release()
            if mountFailed != 0 {
                throw fail(0, "\(localmountpoint): FUSE mount failed (is /dev/fuse usable and fusermount3 installed?)")
            }
            throw fail(EINVAL, "\(localmountpoint): cannot create the FUSE handle (bad FUSE options '\(options ?? "")'?)")
        }
        session.fuse = f
        mountLocalLock.lock()
        mountLocal = session
        mountLocalLock.unlock()
    }

    func impl_mount_local_run() throws {
        guard let session = mountLocalSession, let f = session.fuse else {
            throw fail(EINVAL, "call mount_local first")
        }
        if (try? exists("/")) == nil {
            throw fail(EINVAL, "no filesystem is mounted on / in the appliance: mount one first. "
                + "\(session.mountpoint) is still mounted: use umount_local (or fusermount3 -u \(session.mountpoint)) to clean up")
        }
        debug("mount_local_run: serving \(session.mountpoint)")
        let r = fuse_loop(f)
        debug("mount_local_run: \(session.mountpoint) unmounted")
        fuse_destroy(f)
        session.fuse = nil
        mountLocalLock.lock()
        mountLocal = nil
        mountLocalLock.unlock()
        Unmanaged.passUnretained(session).release()
        if r != 0 {
            throw fail(r < 0 ? -r : 0, "FUSE loop for \(session.mountpoint) failed")
        }
    }

    func impl_umount_local(retry: Bool?) throws {
        guard let session = mountLocalSession else {
            throw GuestfsError(errno: EINVAL, "umount_local: no filesystem is mounted with mount_local")
        }
        let tries = retry == true ? 5 : 1
        var lastError = ""
        for attempt in 1...tries {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: findInPath("fusermount3") ?? "/usr/bin/fusermount3")
            p.arguments = ["-u", session.mountpoint]
            let errPipe = Pipe()
            p.standardError = errPipe
            p.standardOutput = FileHandle.nullDevice
            do { try p.run() } catch {
                throw GuestfsError(errno: ENOENT, "umount_local: cannot run fusermount3: \(error)")
            }
            let err = errPipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            if p.terminationStatus == 0 { return }
            lastError = String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if attempt < tries { Glibc.sleep(UInt32(attempt)) }
        }
        throw GuestfsError(errno: EBUSY, "umount_local: \(session.mountpoint): unmount failed: \(lastError)")
    }
}

/// The FUSE operations. Each one finds its session through the FUSE
/// context, calls actions on the handle and turns an error into -errno.
enum MountLocalOps {
    static func session() -> MountLocalSession? {
        guard let p = guestfs_fuse_private() else { return nil }
        return Unmanaged<MountLocalSession>.fromOpaque(p).takeUnretainedValue()
    }

    static func str(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

    /// Runs `body` with the session and its handle; errors become -errno
    /// (EIO when the error carried none).
    static func run(_ op: String, _ detail: @autoclosure () -> String, write: Bool = false,
                    _ body: (MountLocalSession, Guestfs) throws -> Int32) -> Int32 {
        guard let s = session(), let g = s.g else { return -EIO }
        if s.debugCalls { g.debug("\(s.mountpoint): \(op) (\(detail()))") }
        if write && s.readonly { return -EROFS }
        do {
            let r = try body(s, g)
            if write { s.invalidate() }
            return r
        } catch let e as GuestfsError {
            if write { s.invalidate() }
            return -(e.errno == 0 ? EIO : e.errno)
        } catch {
            return -EIO
        }
    }

    static func fill(_ st: UnsafeMutablePointer<stat>, _ s: StatNS) {
        var x = stat()
        x.st_dev = UInt(bitPattern: Int(s.stDev))
        x.st_ino = UInt(bitPattern: Int(s.stIno))
        x.st_mode = mode_t(truncatingIfNeeded: s.stMode)
        x.st_nlink = UInt(bitPattern: Int(s.stNlink))
        x.st_uid = uid_t(truncatingIfNeeded: s.stUid)
        x.st_gid = gid_t(truncatingIfNeeded: s.stGid)
        x.st_rdev = UInt(bitPattern: Int(s.stRdev))
        x.st_size = Int(s.stSize)
        x.st_blksize = Int(s.stBlksize)
        x.st_blocks = Int(s.stBlocks)
        x.st_atim = timespec(tv_sec: Int(s.stAtimeSec), tv_nsec: Int(s.stAtimeNsec))
        x.st_mtim = timespec(tv_sec: Int(s.stMtimeSec), tv_nsec: Int(s.stMtimeNsec))
        x.st_ctim = timespec(tv_sec: Int(s.stCtimeSec), tv_nsec: Int(s.stCtimeNsec))
        st.pointee = x
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir == "/" ? "/" + name : dir + "/" + name
    }

    /// Copies `bytes` into a FUSE buffer of `size` bytes; returns the length
    /// (or -ERANGE when it does not fit; size 0 asks for the length).
    static func copyOut(_ bytes: [UInt8], _ buf: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int32 {
        if size == 0 { return Int32(bytes.count) }
        guard bytes.count <= size, let buf else { return -ERANGE }
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { memcpy(buf, base, bytes.count) }
        }
        return Int32(bytes.count)
    }

    static func xattrs(_ s: MountLocalSession, _ g: Guestfs, _ path: String) throws -> [XAttr] {
        if let x = s.lookup(s.xattrCache, path) { return x }
        return try g.lgetxattrs(path)
    }

    static func table() -> fuse_operations {
        var ops = fuse_operations()
        ops.getattr = { path, st, _ in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("getattr", p) { s, g in
                if let c = s.lookup(s.statCache, p) {
                    MountLocalOps.fill(st!, c)
                } else {
                    MountLocalOps.fill(st!, try g.lstatns(p))
                }
                return 0
            }
        }
        ops.readdir = { path, buf, filler, _, _, _ in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("readdir", p) { s, g in
                s.dropExpired()
                let ents = try g.readdir(p)
                var names: [String] = []
                for e in ents {
                    var st = stat()
                    st.st_ino = UInt(bitPattern: Int(e.ino))
                    switch e.ftyp {
                    case UInt8(ascii: "b"): st.st_mode = S_IFBLK
                    case UInt8(ascii: "c"): st.st_mode = S_IFCHR
                    case UInt8(ascii: "d"): st.st_mode = S_IFDIR
                    case UInt8(ascii: "f"): st.st_mode = S_IFIFO
                    case UInt8(ascii: "l"): st.st_mode = S_IFLNK
                    case UInt8(ascii: "r"): st.st_mode = S_IFREG
                    case UInt8(ascii: "s"): st.st_mode = S_IFSOCK
                    default: st.st_mode = 0
                    }
                    if guestfs_fuse_fill(filler, buf, e.name, &st) != 0 { break }
                    if e.name != "." && e.name != ".." { names.append(e.name) }
                }
                // Warm the caches for the stat/getxattr/readlink calls that follow.
                let expires = time(nil) + s.cacheTimeout
                if s.cacheTimeout > 0 && !names.isEmpty {
                    if let sts = try? g.lstatnslist(p, names), sts.count == names.count {
                        var links: [String] = []
                        for (n, st) in zip(names, sts) where st.stIno >= 0 {
                            s.statCache[MountLocalOps.join(p, n)] = .init(expires: expires, value: st)
                            if (mode_t(truncatingIfNeeded: st.stMode) & S_IFMT) == S_IFLNK { links.append(n) }
                        }
                        if !links.isEmpty, let targets = try? g.readlinklist(p, links), targets.count == links.count {
                            for (n, t) in zip(links, targets) where !t.isEmpty {
                                s.linkCache[MountLocalOps.join(p, n)] = .init(expires: expires, value: t)
                            }
                        }
                    }
                    // lxattrlist: for each name, a header entry (attrname "", value = count)
                    // followed by that many attributes.
                    if let list = try? g.lxattrlist(p, names) {
                        var i = 0, k = 0
                        while i < list.count && k < names.count {
                            let count = Int(String(decoding: list[i].attrval.prefix { $0 != 0 }, as: UTF8.self)) ?? 0
                            guard list[i].attrname.isEmpty, i + 1 + count <= list.count else { break }
                            s.xattrCache[MountLocalOps.join(p, names[k])] = .init(expires: expires, value: Array(list[(i + 1)..<(i + 1 + count)]))
                            i += 1 + count
                            k += 1
                        }
                    }
                }
                return 0
            }
        }
        ops.readlink = { path, buf, size in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("readlink", p) { s, g in
                let target = try s.lookup(s.linkCache, p) ?? g.readlink(p)
                guard let buf, size > 0 else { return -EINVAL }
                let bytes = Array(target.utf8.prefix(size - 1))
                bytes.withUnsafeBytes { raw in
                    if let base = raw.baseAddress { memcpy(buf, base, bytes.count) }
                }
                buf[bytes.count] = 0
                return 0
            }
        }
        ops.mknod = { path, mode, rdev in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("mknod", p, write: true) { _, g in
                let d = UInt64(rdev)
                let major = ((d >> 8) & 0xfff) | ((d >> 32) & ~UInt64(0xfff))
                let minor = (d & 0xff) | ((d >> 12) & ~UInt64(0xff))
                try g.mknod(Int32(mode), Int32(truncatingIfNeeded: major), Int32(truncatingIfNeeded: minor), p)
                return 0
            }
        }
        ops.mkdir = { path, mode in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("mkdir", p, write: true) { _, g in try g.mkdirMode(p, Int32(mode)); return 0 }
        }
        ops.unlink = { path in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("unlink", p, write: true) { _, g in try g.rm(p); return 0 }
        }
        ops.rmdir = { path in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("rmdir", p, write: true) { _, g in try g.rmdir(p); return 0 }
        }
        ops.symlink = { from, to in
            let f = MountLocalOps.str(from), t = MountLocalOps.str(to)
            return MountLocalOps.run("symlink", "\(f) \(t)", write: true) { _, g in try g.lnS(f, t); return 0 }
        }
        ops.rename = { from, to, flags in
            let f = MountLocalOps.str(from), t = MountLocalOps.str(to)
            return MountLocalOps.run("rename", "\(f) \(t)", write: true) { _, g in
                if flags != 0 { return -EINVAL }     // RENAME_NOREPLACE / EXCHANGE: not offered by the daemon
                try g.rename(f, t)
                return 0
            }
        }
        ops.link = { from, to in
            let f = MountLocalOps.str(from), t = MountLocalOps.str(to)
            return MountLocalOps.run("link", "\(f) \(t)", write: true) { _, g in try g.ln(f, t); return 0 }
        }
        ops.chmod = { path, mode, _ in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("chmod", p, write: true) { _, g in try g.chmod(Int32(mode & 0o7777), p); return 0 }
        }
        ops.chown = { path, uid, gid, _ in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("chown", p, write: true) { _, g in
                // (uid_t)-1 / (gid_t)-1 mean "leave unchanged", as for lchown(2).
                try g.lchown(Int32(bitPattern: uid), Int32(bitPattern: gid), p)
                return 0
            }
        }
        ops.truncate = { path, size, _ in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("truncate", "\(p) \(size)", write: true) { _, g in try g.truncateSize(p, Int64(size)); return 0 }
        }
        ops.utimens = { path, tv, _ in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("utimens", p, write: true) { _, g in
                func nsec(_ t: timespec) -> Int64 {
                    switch t.tv_nsec {
                    case Int((1 << 30) - 1): return -1     // UTIME_NOW
                    case Int((1 << 30) - 2): return -2     // UTIME_OMIT
                    default: return Int64(t.tv_nsec)
                    }
                }
                let now = timespec(tv_sec: 0, tv_nsec: Int((1 << 30) - 1))
                let a = tv?[0] ?? now, m = tv?[1] ?? now
                try g.utimens(p, Int64(a.tv_sec), nsec(a), Int64(m.tv_sec), nsec(m))
                return 0
            }
        }
        ops.open = { path, fi in
            let p = MountLocalOps.str(path)
            let flags = guestfs_fuse_fi_flags(fi)
            let writing = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0
            return MountLocalOps.run("open", "\(p) flags=\(flags)") { s, g in
                if writing && s.readonly { return -EROFS }
                // Make sure it exists (and is not a dangling name).
                if s.lookup(s.statCache, p) == nil { _ = try g.lstatns(p) }
                return 0
            }
        }
        ops.read = { path, buf, size, offset, _ in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("read", "\(p) \(size)@\(offset)") { _, g in
                // The protocol limits one reply to a few MiB; FUSE asks for at most 128 KiB.
                let want = Int32(min(size, 2 << 20))
                let data = try g.pread(p, want, Int64(offset))
                let n = min(data.count, size)
                data.withUnsafeBytes { raw in
                    if let base = raw.baseAddress, n > 0 { memcpy(buf!, base, n) }
                }
                return Int32(n)
            }
        }
        ops.write = { path, buf, size, offset, _ in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("write", "\(p) \(size)@\(offset)", write: true) { _, g in
                let data = Array(UnsafeRawBufferPointer(start: buf, count: size))
                var done = 0
                while done < data.count {
                    let chunk = Array(data[done..<min(data.count, done + (2 << 20))])
                    let n = Int(try g.pwrite(p, chunk, Int64(offset) + Int64(done)))
                    if n <= 0 { break }
                    done += n
                }
                return Int32(done)
            }
        }
        ops.statfs = { path, st in
            return MountLocalOps.run("statfs", MountLocalOps.str(path)) { _, g in
                let v = try g.statvfs("/")
                var x = statvfs()
                x.f_bsize = UInt(v.bsize)
                x.f_frsize = UInt(v.frsize)
                x.f_blocks = fsblkcnt_t(v.blocks)
                x.f_bfree = fsblkcnt_t(v.bfree)
                x.f_bavail = fsblkcnt_t(v.bavail)
                x.f_files = fsfilcnt_t(v.files)
                x.f_ffree = fsfilcnt_t(v.ffree)
                x.f_favail = fsfilcnt_t(v.favail)
                x.f_fsid = UInt(bitPattern: Int(v.fsid))
                x.f_flag = UInt(v.flag)
                x.f_namemax = UInt(v.namemax)
                st!.pointee = x
                return 0
            }
        }
        ops.release = { _, _ in 0 }
        ops.flush = { _, _ in 0 }
        ops.fsync = { path, _, _ in
            return MountLocalOps.run("fsync", MountLocalOps.str(path)) { _, g in try g.sync(); return 0 }
        }
        ops.access = { path, mask in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("access", "\(p) \(mask)") { s, g in
                if (mask & W_OK) != 0 && s.readonly { return -EROFS }
                if s.lookup(s.statCache, p) == nil { _ = try g.lstatns(p) }
                return 0
            }
        }
        ops.getxattr = { path, name, value, size in
            let p = MountLocalOps.str(path), n = MountLocalOps.str(name)
            return MountLocalOps.run("getxattr", "\(p) \(n)") { s, g in
                guard let x = try MountLocalOps.xattrs(s, g, p).first(where: { $0.attrname == n }) else { return -ENODATA }
                return MountLocalOps.copyOut(x.attrval, value, size)
            }
        }
        ops.listxattr = { path, list, size in
            let p = MountLocalOps.str(path)
            return MountLocalOps.run("listxattr", p) { s, g in
                var bytes: [UInt8] = []
                for x in try MountLocalOps.xattrs(s, g, p) { bytes += Array(x.attrname.utf8) + [0] }
                return MountLocalOps.copyOut(bytes, list, size)
            }
        }
        ops.setxattr = { path, name, value, size, _ in
            let p = MountLocalOps.str(path), n = MountLocalOps.str(name)
            return MountLocalOps.run("setxattr", "\(p) \(n)", write: true) { _, g in
                let v = String(decoding: UnsafeRawBufferPointer(start: value, count: size), as: UTF8.self)
                try g.lsetxattr(n, v, Int32(size), p)
                return 0
            }
        }
        ops.removexattr = { path, name in
            let p = MountLocalOps.str(path), n = MountLocalOps.str(name)
            return MountLocalOps.run("removexattr", "\(p) \(n)", write: true) { _, g in try g.lremovexattr(n, p); return 0 }
        }
        return ops
    }
}
