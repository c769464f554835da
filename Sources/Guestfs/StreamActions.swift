import Foundation
import Glibc
import GuestfsProtocol
import XDR

// Library-side actions over the daemon's streams: copy_in/copy_out (the
// local tar(1) on one end, tar_in/tar_out on the other), and the decoders
// of the records that internal_filesystem_walk, internal_find_inode and
// internal_journal_get write to a local file.
extension Guestfs {
    // MARK: copy_in, copy_out

    /// Runs the local tar with `argv` (after "tar"), its stdin or stdout on
    /// `fd`; returns the child's pid.
    private func spawnTar(_ argv: [String], stdinFD: Int32? = nil, stdoutFD: Int32? = nil) throws -> pid_t {
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        if let stdinFD { posix_spawn_file_actions_adddup2(&fa, stdinFD, 0) }
        if let stdoutFD { posix_spawn_file_actions_adddup2(&fa, stdoutFD, 1) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defs = sigset_t()
        sigemptyset(&defs)
        sigaddset(&defs, SIGPIPE)
        posix_spawnattr_setsigdefault(&attr, &defs)
        let args = ["tar"] + argv
        var pid: pid_t = 0
        let rc = withCStrings(args) { cargv in posix_spawnp(&pid, "tar", &fa, &attr, cargv, environ) }
        if rc != 0 { throw fail(rc, "cannot run tar: \(errnoText(rc))") }
        return pid
    }

    /// Waits for a child; its exit status (128 + signal when killed).
    private func waitChild(_ pid: pid_t) -> Int32 {
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        if st & 0x7f == 0 { return (st >> 8) & 0xff }
        return 128 + (st & 0x7f)
    }

    /// `path` without trailing slashes, split into its directory and last name.
    private static func splitLocal(_ path: String) -> (dir: String, name: String) {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        guard let slash = p.lastIndex(of: "/") else { return (".", p) }
        let dir = String(p[..<slash])
        let name = String(p[p.index(after: slash)...])
        return (dir.isEmpty ? "/" : dir, name)
    }

    func impl_copy_in(_ localpath: String, _ remotedir: String) throws {
        if statPath(localpath) == nil {
            let e = errno
            throw fail(e, "\(localpath): \(errnoText(e))")
        }
        guard try isDir(remotedir) else {
            throw fail(ENOTDIR, "\(remotedir): the target is not a directory in the guest")
        }
        let (dir, name) = Guestfs.splitLocal(localpath)
        if name.isEmpty || name == "/" {
            throw fail(EINVAL, "\(localpath): cannot copy the whole root directory, name a directory below it")
        }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { let e = errno; throw fail(e, "pipe: \(errnoText(e))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do {
            pid = try spawnTar(["-C", dir, "-cf", "-", "--", name], stdoutFD: fds[1])
        } catch {
            Glibc.close(fds[0]); Glibc.close(fds[1])
            throw error
        }
        Glibc.close(fds[1])
        var callError: Error?
        do {
            try tarIn("/dev/fd/\(fds[0])", remotedir)
        } catch { callError = error }
        // Closing the read end first stops a tar the daemon no longer listens to.
        Glibc.close(fds[0])
        let status = waitChild(pid)
        if let callError { throw callError }
        if status != 0 { throw fail(EIO, "\(localpath): the local tar command failed (status \(status))") }
    }

    func impl_copy_out(_ remotepath: String, _ localdir: String) throws {
        guard let st = statPath(localdir), (st.st_mode & S_IFMT) == S_IFDIR else {
            throw fail(ENOTDIR, "\(localdir): the target is not a local directory")
        }
        let name = Guestfs.splitLocal(remotepath).name
        if try isFile(remotepath) {
            try download(remotepath, "\(localdir)/\(name)")
            return
        }
        guard try isDir(remotepath) else {
            throw fail(ENOENT, "\(remotepath): not a file or directory in the guest")
        }
        // "/" goes straight into localdir; anything else into localdir/NAME.
        var dest = localdir
        if !(name.isEmpty || name == "/") {
            dest = "\(localdir)/\(name)"
            if Glibc.mkdir(dest, 0o777) != 0 && errno != EEXIST {
                let e = errno
                throw fail(e, "mkdir: \(dest): \(errnoText(e))")
            }
        }
        // The archive goes through a temporary file: a tar that fails half way
        // then cannot leave the transfer writing into a broken pipe.
        try withTempFile("copyout") { tmp in
            try tarOut(remotepath, tmp)
            let fd = Glibc.open(tmp, O_RDONLY | O_CLOEXEC)
            if fd < 0 { let e = errno; throw fail(e, "\(tmp): \(errnoText(e))") }
            defer { Glibc.close(fd) }
            let pid = try spawnTar(["-C", dest, "-xf", "-"], stdinFD: fd)
            let status = waitChild(pid)
            if status != 0 { throw fail(EIO, "\(remotepath): the local tar command failed (status \(status))") }
        }
    }

    // MARK: filesystem_walk, find_inode

    /// Decodes back-to-back XDR tsk_dirent records.
    private func decodeDirents(_ bytes: [UInt8]) throws -> [TSKDirent] {
        var d = XDRDecoder(bytes, maxLength: max(bytes.count, 4 * 1024 * 1024))
        var out: [TSKDirent] = []
        while !d.isAtEnd {
            do {
                out.append(try TSKDirent(from: &d))
            } catch {
                throw fail(EIO, "invalid entry \(out.count) in the daemon's walk data: \(error)")
            }
        }
        return out
    }

    func impl_filesystem_walk(_ device: String) throws -> [TSKDirent] {
        try withTempFile("fswalk") { tmp in
            try internalFilesystemWalk(device, tmp)
            return try decodeDirents(try readLocalFile(tmp))
        }
    }

    func impl_find_inode(_ device: String, _ inode: Int64) throws -> [TSKDirent] {
        try withTempFile("findino") { tmp in
            try internalFindInode(device, inode, tmp)
            return try decodeDirents(try readLocalFile(tmp))
        }
    }

    // MARK: journal_get

    /// Splits internal_journal_get's records: a 64-bit big-endian length,
    /// then "NAME=value" of that length.
    static func parseJournalFields(_ b: [UInt8]) throws -> [XAttr] {
        var out: [XAttr] = []
        var i = 0
        while i < b.count {
            guard b.count - i >= 8 else { throw JournalDataError("truncated length at byte \(i)") }
            var len: UInt64 = 0
            for k in 0..<8 { len = len << 8 | UInt64(b[i + k]) }
            i += 8
            guard len <= UInt64(b.count - i) else { throw JournalDataError("field of \(len) bytes at byte \(i) runs past the end") }
            let field = b[i..<(i + Int(len))]
            guard let eq = field.firstIndex(of: UInt8(ascii: "=")) else {
                throw JournalDataError("no '=' in the field at byte \(i)")
            }
            out.append(XAttr(attrname: String(decoding: field[field.startIndex..<eq], as: UTF8.self),
                             attrval: Array(field[(eq + 1)...])))
            i += Int(len)
        }
        return out
    }

    struct JournalDataError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    func impl_journal_get() throws -> [XAttr] {
        try withTempFile("journal") { tmp in
            try internalJournalGet(tmp)
            do {
                return try Guestfs.parseJournalFields(try readLocalFile(tmp))
            } catch let e as JournalDataError {
                throw fail(EIO, "invalid data from the daemon: \(e.description)")
            }
        }
    }
}
