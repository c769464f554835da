// Copying byte ranges between guest files and devices (copy_*_to_*),
// pread_device/pwrite_device, compressed and cpio downloads (FileOut), and
// reading initrd images (cpio archives, possibly compressed).

import Glibc
import GuestfsProtocol

extension Handlers {
    // MARK: copy_*_to_*

    private enum CopyEnd { case device(String), file(String) }

    private func openCopyEnd(_ ctx: CallContext, _ end: CopyEnd, write: Bool, append: Bool, op: String) throws -> Int32 {
        switch end {
        case let .device(d):
            var flags = write ? O_WRONLY : O_RDONLY
            if write && append { flags |= O_APPEND }
            let fd = open(d, flags | O_CLOEXEC)
            if fd < 0 { throw DaemonError.posix(op, d) }
            return fd
        case let .file(p):
            var flags = write ? (O_WRONLY | O_CREAT | O_NOCTTY) : O_RDONLY
            if write && append { flags |= O_APPEND }
            return try ctx.sysroot.open(p, flags, mode: write ? 0o666 : 0, op: op)
        }
    }

    private func copyRange(_ ctx: CallContext, op: String, src: CopyEnd, dest: CopyEnd, srcoffset: Int64?, destoffset: Int64?,
                           size: Int64?, sparse: Bool?, append: Bool?) throws {
        let srcName: String, destName: String
        switch src { case let .device(s), let .file(s): srcName = s }
        switch dest { case let .device(s), let .file(s): destName = s }
        let soff = srcoffset ?? 0, doff = destoffset ?? 0
        guard soff >= 0 else { throw DaemonError(EINVAL, "\(op): srcoffset is negative") }
        guard doff >= 0 else { throw DaemonError(EINVAL, "\(op): destoffset is negative") }
        if let size, size < 0 { throw DaemonError(EINVAL, "\(op): size is negative") }
        let appending = append ?? false
        if appending && destoffset != nil {
            throw DaemonError(EINVAL, "\(op): the append and destoffset arguments cannot be used together")
        }
        let sfd = try openCopyEnd(ctx, src, write: false, append: false, op: op)
        defer { close(sfd) }
        let dfd = try openCopyEnd(ctx, dest, write: true, append: appending, op: op)
        defer { close(dfd) }
        let srcSize = fileSize(sfd)
        // How much will be copied: for progress, and the size check.
        let total: Int64? = size ?? srcSize.map { max(0, $0 - soff) }
        let bs = 1 << 20
        var buf = [UInt8](repeating: 0, count: bs)
        var done: Int64 = 0
        var dpos = doff
        var skippedTail = false
        while true {
            var want = bs
            if let size { want = Int(min(Int64(bs), size - done)) }
            if want == 0 { break }
            var got = 0
            while got < want {
                let n = buf.withUnsafeMutableBytes { Glibc.pread(sfd, $0.baseAddress! + got, want - got, off_t(soff + done + Int64(got))) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DaemonError.posix("\(op): read", srcName)
                }
                if n == 0 { break }
                got += n
            }
            if got == 0 {
                if size != nil { throw DaemonError(EIO, "\(op): \(srcName): the source ends before \(size!) bytes were copied") }
                break
            }
            let zero = (sparse ?? false) && !appending && buf.withUnsafeBytes { b in !b[0..<got].contains { $0 != 0 } }
            if zero {
                skippedTail = true
            } else {
                skippedTail = false
                let ok = buf.withUnsafeBytes { b -> Bool in
                    let part = UnsafeRawBufferPointer(rebasing: b[0..<got])
                    if appending { return Sys.writeAll(dfd, part) }
                    return Sys.pwriteAll(dfd, Array(part), at: dpos)
                }
                if !ok { throw DaemonError.posix("\(op): write", destName) }
            }
            done += Int64(got)
            dpos += Int64(got)
            if let total, total > 0 { ctx.progress(UInt64(min(done, total)), UInt64(total)) }
            if got < want && size == nil { break }
        }
        // A sparse copy that ended in zeroes must still give a file its length.
        if skippedTail, case .file = dest {
            var st = stat()
            if fstat(dfd, &st) == 0, Int64(st.st_size) < dpos, ftruncate(dfd, off_t(dpos)) != 0 {
                throw DaemonError.posix("\(op): truncate", destName)
            }
        }
        if fsync(dfd) != 0 && errno != EINVAL { throw DaemonError.posix("\(op): fsync", destName) }
    }

    func copyDeviceToDevice(_ ctx: CallContext, src: String, dest: String, srcoffset: Int64?, destoffset: Int64?, size: Int64?, sparse: Bool?, append: Bool?) throws {
        try copyRange(ctx, op: "copy_device_to_device", src: .device(src), dest: .device(dest), srcoffset: srcoffset,
                      destoffset: destoffset, size: size, sparse: sparse, append: append)
    }

    func copyDeviceToFile(_ ctx: CallContext, src: String, dest: String, srcoffset: Int64?, destoffset: Int64?, size: Int64?, sparse: Bool?, append: Bool?) throws {
        try copyRange(ctx, op: "copy_device_to_file", src: .device(src), dest: .file(dest), srcoffset: srcoffset,
                      destoffset: destoffset, size: size, sparse: sparse, append: append)
    }

    func copyFileToDevice(_ ctx: CallContext, src: String, dest: String, srcoffset: Int64?, destoffset: Int64?, size: Int64?, sparse: Bool?, append: Bool?) throws {
        try copyRange(ctx, op: "copy_file_to_device", src: .file(src), dest: .device(dest), srcoffset: srcoffset,
                      destoffset: destoffset, size: size, sparse: sparse, append: append)
    }

    func copyFileToFile(_ ctx: CallContext, src: String, dest: String, srcoffset: Int64?, destoffset: Int64?, size: Int64?, sparse: Bool?, append: Bool?) throws {
        try copyRange(ctx, op: "copy_file_to_file", src: .file(src), dest: .file(dest), srcoffset: srcoffset,
                      destoffset: destoffset, size: size, sparse: sparse, append: append)
    }

    // MARK: pread_device, pwrite_device

    func preadDevice(_ ctx: CallContext, device: String, count: Int32, offset: Int64) throws -> [UInt8] {
        if count < 0 { throw DaemonError(EINVAL, "pread_device: \(device): count is negative") }
        if offset < 0 { throw DaemonError(EINVAL, "pread_device: \(device): offset is negative") }
        if Int(count) > GuestfsWire.messageMax - 1024 {
            throw DaemonError(EINVAL, "pread_device: \(device): count is too large for the protocol, use smaller reads")
        }
        let fd = open(device, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DaemonError.posix("pread_device", device) }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: Int(count))
        var got = 0
        while got < Int(count) {
            let n = buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + got, Int(count) - got, off_t(offset) + off_t(got)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DaemonError.posix("pread_device", device)
            }
            if n == 0 { break }
            got += n
        }
        return Array(buf.prefix(got))
    }

    func pwriteDevice(_ ctx: CallContext, device: String, content: [UInt8], offset: Int64) throws -> Int32 {
        if offset < 0 { throw DaemonError(EINVAL, "pwrite_device: \(device): offset is negative") }
        let fd = open(device, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw DaemonError.posix("pwrite_device", device) }
        defer { close(fd) }
        let n = content.withUnsafeBytes { Glibc.pwrite(fd, $0.baseAddress, content.count, off_t(offset)) }
        if n < 0 { throw DaemonError.posix("pwrite_device", device) }
        if fsync(fd) != 0 { throw DaemonError.posix("pwrite_device: fsync", device) }
        return Int32(n)
    }

    // MARK: compress_out, compress_device_out, cpio_out

    /// The compressor command line (writing to stdout) for a ctype.
    private static func compressor(_ ctype: String, level: Int32?, op: String) throws -> [String] {
        if let level, !(1...9).contains(level) {
            throw DaemonError(EINVAL, "\(op): \(level): the level must be between 1 and 9")
        }
        let prog: String
        switch ctype {
        case "gzip", "bzip2", "xz", "zstd", "lzop": prog = ctype
        case "compress":
            prog = "compress"
            guard Command.exists(prog) else { throw DaemonError(ENOTSUP, "\(op): compress: the program is not in the appliance") }
            return [prog, "-c"]
        default:
            throw DaemonError(EINVAL, "\(op): \(ctype): unknown compression type (use gzip, bzip2, xz, zstd, lzop or compress)")
        }
        guard Command.exists(prog) else { throw DaemonError(ENOTSUP, "\(op): \(prog): the program is not in the appliance") }
        var argv = [prog, "-c"]
        if let level { argv.append("-\(level)") }
        return argv
    }

    func compressOut(_ ctx: CallContext, ctype: String, file: String, level: Int32?) throws {
        let argv = try Handlers.compressor(ctype, level: level, op: "compress_out")
        let st = try ctx.sysroot.statGuest(file, follow: true, op: "compress_out")
        if (st.st_mode & S_IFMT) == S_IFDIR { throw DaemonError(EISDIR, "compress_out: \(file): \(Sys.strerror(EISDIR))") }
        let host = try ctx.sysroot.hostPath(file, op: "compress_out")
        try streamCommand(ctx, argv + ["--", host])
    }

    func compressDeviceOut(_ ctx: CallContext, ctype: String, device: String, level: Int32?) throws {
        let argv = try Handlers.compressor(ctype, level: level, op: "compress_device_out")
        try streamCommand(ctx, argv + ["--", device])
    }

    func cpioOut(_ ctx: CallContext, directory: String, format: String?) throws {
        let dir = try ctx.checkPathname(directory, "directory")
        let fmt = format ?? "newc"
        guard ["newc", "crc", "odc", "bin", "ustar", "tar", "hpodc"].contains(fmt) else {
            throw DaemonError(EINVAL, "cpio_out: \(fmt): unknown cpio format")
        }
        let host = try ctx.sysroot.hostPath(dir, op: "cpio_out")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "cpio_out: \(dir): \(Sys.strerror(ENOTDIR))") }
        try streamCommand(ctx, ["sh", "-c", "cd \"$1\" && find . -print0 | cpio --quiet -o -0 -H \"$2\"", "sh", host, fmt])
    }

    // MARK: initrd_list, initrd_cat

    /// The decompressor for an initrd, from its first bytes (nil: plain cpio).
    private func initrdDecompressor(_ fd: Int32, _ path: String, op: String) throws -> String? {
        var magic = [UInt8](repeating: 0, count: 8)
        let n = magic.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, 8, 0) }
        if n < 0 { throw DaemonError.posix(op, path) }
        let m = Array(magic.prefix(n))
        func starts(_ p: [UInt8]) -> Bool { m.count >= p.count && Array(m.prefix(p.count)) == p }
        if starts([0x1f, 0x8b]) { return "gzip -dc" }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return "xz -dc" }
        if starts([0x42, 0x5a, 0x68]) { return "bzip2 -dc" }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return "zstd -dc" }
        if starts([0x5d, 0x00, 0x00]) { return "xz --format=lzma -dc" }
        if starts([0x02, 0x21, 0x4c, 0x18]) { return "lz4 -dc -l" }
        if starts(Array("0707".utf8)) { return nil }
        throw DaemonError(EINVAL, "\(op): \(path): not an initrd (neither a cpio archive nor a known compressed file)")
    }

    /// "DECOMPRESS < FILE | cpio ARGS" run in `dir`.
    private func runCpio(_ ctx: CallContext, _ path: String, cpioArgs: String, in dir: String, op: String) throws -> CommandResult {
        let fd = try ctx.sysroot.open(path, O_RDONLY, op: op)
        defer { close(fd) }
        let dec = try initrdDecompressor(fd, path, op: op)
        let host = try ctx.sysroot.hostPath(path, op: op)
        let feed = dec.map { "\($0) < \"$2\"" } ?? "cat < \"$2\""
        let script = "cd \"$1\" && \(feed) | cpio --quiet \(cpioArgs)"
        let r = try Command.run(["sh", "-c", script, "sh", dir, host])
        if !r.ok {
            let why = r.err.trimmed().replacingAll(host, with: path)
            throw DaemonError(EINVAL, "\(op): \(path): \(why.isEmpty ? "cannot read the archive" : why)")
        }
        return r
    }

    func initrdList(_ ctx: CallContext, path: String) throws -> [String] {
        try runCpio(ctx, path, cpioArgs: "-it", in: "/", op: "initrd_list").out.lines
    }

    func initrdCat(_ ctx: CallContext, initrdpath: String, filename: String) throws -> [UInt8] {
        var tmpl = Array("/tmp/initrd.XXXXXX".utf8CString)
        guard let p = Glibc.mkdtemp(&tmpl) else { throw DaemonError.posix("initrd_cat: mkdtemp") }
        let tmp = String(cString: p)
        defer { _ = try? Command.run(["rm", "-rf", "--", tmp]) }
        // cpio matches the name as a pattern: escape the pattern characters.
        var pattern = ""
        for c in filename {
            if "*?[]\\".contains(c) { pattern.append("\\") }
            pattern.append(c)
        }
        let fd = try ctx.sysroot.open(initrdpath, O_RDONLY, op: "initrd_cat")
        let dec = try initrdDecompressor(fd, initrdpath, op: "initrd_cat")
        close(fd)
        let host = try ctx.sysroot.hostPath(initrdpath, op: "initrd_cat")
        let feed = dec.map { "\($0) < \"$2\"" } ?? "cat < \"$2\""
        let x = try Command.run(["sh", "-c", "cd \"$1\" && \(feed) | cpio --quiet -id --no-absolute-filenames -- \"$3\"",
                                 "sh", tmp, host, pattern])
        if !x.ok {
            throw DaemonError(EINVAL, "initrd_cat: \(initrdpath): \(x.err.trimmed().replacingAll(host, with: initrdpath))")
        }
        // Read the extracted file without following symlinks out of tmp.
        let rel = Sysroot.relative(filename)
        let root = open(tmp, Sys.O_PATH | O_DIRECTORY | O_CLOEXEC)
        if root < 0 { throw DaemonError.posix("initrd_cat", tmp) }
        defer { close(root) }
        let ffd = Sys.openat2(root, rel, flags: O_RDONLY | O_CLOEXEC, mode: 0,
                              resolve: Sys.RESOLVE_IN_ROOT | Sys.RESOLVE_NO_MAGICLINKS)
        if ffd < 0 {
            throw DaemonError(ENOENT, "initrd_cat: \(initrdpath): \(filename): no such file in the archive")
        }
        defer { close(ffd) }
        var st = stat()
        guard fstat(ffd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw DaemonError(ENOENT, "initrd_cat: \(initrdpath): \(filename): not a regular file in the archive")
        }
        if Int(st.st_size) > GuestfsWire.messageMax - 1024 {
            throw DaemonError(EFBIG, "initrd_cat: \(filename): the file is too large for the protocol (\(st.st_size) bytes)")
        }
        guard let data = Sys.readAll(ffd) else { throw DaemonError.posix("initrd_cat: read", filename) }
        return data
    }
}
