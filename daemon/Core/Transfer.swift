// File streams: upload/download (FileIn/FileOut chunks), base64, tar.

import Glibc
import GuestfsProtocol

extension Handlers {
    // MARK: upload

    private func receiveInto(_ ctx: CallContext, _ fd: Int32, _ name: String, offset: Int64?) throws {
        var pos = offset ?? 0
        try ctx.receiveFileSegments { segs in
            let n = Sys.writevAll(fd, segs, at: offset == nil ? nil : pos)
            if n < 0 { throw DaemonError.posix("write", name) }
            pos += Int64(n)
        }
        if fsync(fd) != 0 && errno != EINVAL && errno != EROFS { throw DaemonError.posix("fsync", name) }
    }

    func upload(_ ctx: CallContext, remotefilename: String) throws {
        let fd = try openPathOrDevice(ctx, remotefilename, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, mode: 0o666, op: "open")
        defer { close(fd) }
        try receiveInto(ctx, fd, remotefilename, offset: nil)
        if close(dup(fd)) != 0 { throw DaemonError.posix("close", remotefilename) }
    }

    func uploadOffset(_ ctx: CallContext, remotefilename: String, offset: Int64) throws {
        if offset < 0 { throw DaemonError(EINVAL, "upload_offset: \(remotefilename): offset is negative") }
        let fd = try openPathOrDevice(ctx, remotefilename, O_WRONLY | O_CREAT | O_NOCTTY, mode: 0o666, op: "open")
        defer { close(fd) }
        try receiveInto(ctx, fd, remotefilename, offset: offset)
    }

    // MARK: download

    /// Streams `size` bytes (all when nil) from `offset` of an open file.
    private func sendFrom(_ ctx: CallContext, _ fd: Int32, _ name: String, offset: Int64, size: Int64?) throws {
        let total = size ?? max(0, (fileSize(fd) ?? 0) - offset)
        var pos = offset
        var sent: Int64 = 0
        // Big reads: CallContext.send cuts them into chunks and writes
        // about a megabyte of chunks per syscall.
        var buf = [UInt8](repeating: 0, count: CallContext.batchSize)
        try ctx.beginFileOut()
        while size == nil || sent < size! {
            let want = size == nil ? buf.count : Int(min(Int64(buf.count), size! - sent))
            let n = buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, want, off_t(pos)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DaemonError.posix("read", name)
            }
            if n == 0 { break }
            try buf.withUnsafeBytes { try ctx.send(bytes: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            pos += Int64(n)
            sent += Int64(n)
            ctx.progress(UInt64(sent), UInt64(total))
        }
        try ctx.endFileOut()
        ctx.finishProgress(UInt64(sent))
    }

    func download(_ ctx: CallContext, remotefilename: String) throws {
        let fd = try openPathOrDevice(ctx, remotefilename, O_RDONLY, op: "open")
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw DaemonError(EISDIR, "download: \(remotefilename): Is a directory")
        }
        try sendFrom(ctx, fd, remotefilename, offset: 0, size: nil)
    }

    func downloadOffset(_ ctx: CallContext, remotefilename: String, offset: Int64, size: Int64) throws {
        if offset < 0 { throw DaemonError(EINVAL, "download_offset: \(remotefilename): offset is negative") }
        if size < 0 { throw DaemonError(EINVAL, "download_offset: \(remotefilename): size is negative") }
        let fd = try openPathOrDevice(ctx, remotefilename, O_RDONLY, op: "open")
        defer { close(fd) }
        try sendFrom(ctx, fd, remotefilename, offset: offset, size: size)
    }

    // MARK: base64

    func base64In(_ ctx: CallContext, filename: String) throws {
        let fd = try ctx.sysroot.open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, mode: 0o666, op: "open")
        defer { close(fd) }
        var decoder = Base64Decoder()
        try ctx.receiveFile { data in
            let out = try decoder.feed(data)
            if !Sys.writeAll(fd, out) { throw DaemonError.posix("write", filename) }
        }
        let tail = try decoder.finish()
        if !Sys.writeAll(fd, tail) { throw DaemonError.posix("write", filename) }
    }

    func base64Out(_ ctx: CallContext, filename: String) throws {
        let fd = try ctx.sysroot.open(filename, O_RDONLY, op: "open")
        defer { close(fd) }
        var enc = Base64Encoder()
        var buf = [UInt8](repeating: 0, count: 57 * 128)
        try ctx.beginFileOut()
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DaemonError.posix("read", filename)
            }
            if n == 0 { break }
            try ctx.send(enc.feed(buf[0..<n]))
        }
        try ctx.send(enc.finish())
        try ctx.endFileOut()
    }

    // MARK: tar

    static func tarCompressFlag(_ c: String?) throws -> [String] {
        switch c ?? "" {
        case "": return []
        case "compress": return ["--compress"]
        case "gzip": return ["--gzip"]
        case "bzip2": return ["--bzip2"]
        case "xz": return ["--xz"]
        case "lzop": return ["--lzop"]
        case "lzma": return ["--lzma"]
        case "zstd": return ["--zstd"]
        default: throw DaemonError(EINVAL, "tar: \(c!): unknown compression type")
        }
    }

    func tarIn(_ ctx: CallContext, directory: String, compress: String?, xattrs: Bool?, selinux: Bool?, acls: Bool?, keepdirlink: Bool?) throws {
        let host = try ctx.sysroot.hostPath(directory, op: "tar_in")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "tar_in: \(directory): Not a directory") }
        var argv = ["tar", "-C", host] + (try Handlers.tarCompressFlag(compress)) + ["-xf", "-"]
        if xattrs == true { argv.append("--xattrs") }
        if selinux == true { argv.append("--selinux") }
        if acls == true { argv.append("--acls") }
        if keepdirlink == true { argv.append("--keep-directory-symlink") }
        let child = try Child.spawn(argv, stdin: .pipe)
        var err: [UInt8] = []
        var broken = false
        do {
            try ctx.receiveFile { data in
                if broken { return }
                // Feed tar while collecting its stderr, so neither side blocks.
                var off = 0
                while off < data.count {
                    var fds = [pollfd(fd: child.stdinFD, events: Int16(POLLOUT), revents: 0)]
                    if child.stderrFD >= 0 { fds.append(pollfd(fd: child.stderrFD, events: Int16(POLLIN), revents: 0)) }
                    if poll(&fds, nfds_t(fds.count), -1) < 0 { if errno == EINTR { continue }; throw DaemonError.posix("poll") }
                    if fds.count > 1 && fds[1].revents != 0 {
                        var b = [UInt8](repeating: 0, count: 4096)
                        let n = b.withUnsafeMutableBytes { read(child.stderrFD, $0.baseAddress, $0.count) }
                        if n > 0 { err.append(contentsOf: b[0..<n]) } else if n == 0 { close(child.stderrFD); child.stderrFD = -1 }
                    }
                    if fds[0].revents != 0 {
                        let n = data.withUnsafeBytes { write(child.stdinFD, $0.baseAddress! + off, data.count - off) }
                        if n < 0 {
                            if errno == EINTR || errno == EAGAIN { continue }
                            broken = true   // tar exited early; its status tells why
                            return
                        }
                        off += n
                    }
                }
            }
        } catch {
            child.closeStdin()
            var more: [UInt8] = []
            try? child.pump(errBuf: &more) { _ in }
            _ = child.wait()
            throw error
        }
        child.closeStdin()
        try child.pump(errBuf: &err) { _ in }
        let st = child.wait()
        if st != 0 { throw Command.failure(["tar"], CommandResult(status: st, stdout: [], stderr: err)) }
    }

    func tgzIn(_ ctx: CallContext, directory: String) throws {
        try tarIn(ctx, directory: directory, compress: "gzip", xattrs: nil, selinux: nil, acls: nil, keepdirlink: nil)
    }

    /// Runs a program and streams its stdout as the FileOut data.
    func streamCommand(_ ctx: CallContext, _ argv: [String]) throws {
        let child = try Child.spawn(argv)
        var err: [UInt8] = []
        do {
            try ctx.beginFileOut()
            try child.pump(errBuf: &err) { try ctx.send($0) }
        } catch {
            _ = child.wait()
            throw error
        }
        let st = child.wait()
        if st != 0 { throw Command.failure(argv, CommandResult(status: st, stdout: [], stderr: err)) }
        try ctx.endFileOut()
    }

    func tarOut(_ ctx: CallContext, directory: String, compress: String?, numericowner: Bool?, excludes: [String]?, xattrs: Bool?, selinux: Bool?, acls: Bool?) throws {
        let dir = try ctx.checkPathname(directory, "directory")
        let host = try ctx.sysroot.hostPath(dir, op: "tar_out")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "tar_out: \(dir): Not a directory") }
        var argv = ["tar", "-C", host] + (try Handlers.tarCompressFlag(compress))
        if numericowner == true { argv.append("--numeric-owner") }
        for e in excludes ?? [] { argv.append("--exclude=\(e)") }
        if xattrs == true { argv.append("--xattrs") }
        if selinux == true { argv.append("--selinux") }
        if acls == true { argv.append("--acls") }
        argv += ["-cf", "-", "."]
        try streamCommand(ctx, argv)
    }

    func tgzOut(_ ctx: CallContext, directory: String) throws {
        try tarOut(ctx, directory: directory, compress: "gzip", numericowner: nil, excludes: nil, xattrs: nil, selinux: nil, acls: nil)
    }
}

/// Streaming base64 encoder; lines of 76 characters like base64(1).
struct Base64Encoder {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private var carry: [UInt8] = []
    private var column = 0

    private mutating func emit(_ c: UInt8, _ out: inout [UInt8]) {
        out.append(c)
        column += 1
        if column == 76 { out.append(10); column = 0 }
    }

    private mutating func group(_ b: [UInt8], _ out: inout [UInt8]) {
        let a = Base64Encoder.alphabet
        let n = b.count
        let v = UInt32(b[0]) << 16 | UInt32(n > 1 ? b[1] : 0) << 8 | UInt32(n > 2 ? b[2] : 0)
        emit(a[Int(v >> 18 & 63)], &out)
        emit(a[Int(v >> 12 & 63)], &out)
        emit(n > 1 ? a[Int(v >> 6 & 63)] : UInt8(ascii: "="), &out)
        emit(n > 2 ? a[Int(v & 63)] : UInt8(ascii: "="), &out)
    }

    mutating func feed<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 4 / 3 + 8)
        var bytes = carry + Array(data)
        let full = bytes.count / 3 * 3
        var i = 0
        while i < full {
            group([bytes[i], bytes[i + 1], bytes[i + 2]], &out)
            i += 3
        }
        bytes.removeFirst(full)
        carry = bytes
        return out
    }

    mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if !carry.isEmpty { group(carry, &out) }
        carry = []
        if column > 0 { out.append(10); column = 0 }
        return out
    }
}

/// Streaming base64 decoder; whitespace is ignored, anything else invalid fails.
struct Base64Decoder {
    private var quad: [UInt8] = []
    private var ended = false

    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - 65
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - 97 + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - 48 + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }

    mutating func feed(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 3 / 4 + 3)
        for c in data {
            if c == 10 || c == 13 || c == 32 || c == 9 { continue }
            if c == UInt8(ascii: "=") { quad.append(64); continue }
            if ended { throw DaemonError(EINVAL, "base64: invalid input (data after padding)") }
            guard let v = Base64Decoder.value(c) else { throw DaemonError(EINVAL, "base64: invalid input") }
            if quad.contains(64) { throw DaemonError(EINVAL, "base64: invalid input (data after padding)") }
            quad.append(v)
            if quad.count == 4 { try flush(&out) }
        }
        if quad.count == 4 { try flush(&out) }
        return out
    }

    private mutating func flush(_ out: inout [UInt8]) throws {
        let pads = quad.filter { $0 == 64 }.count
        if pads > 2 || quad[0] == 64 || quad[1] == 64 { throw DaemonError(EINVAL, "base64: invalid input") }
        let q = quad.map { $0 == 64 ? 0 : UInt32($0) }
        let v = q[0] << 18 | q[1] << 12 | q[2] << 6 | q[3]
        out.append(UInt8(v >> 16 & 0xFF))
        if pads < 2 { out.append(UInt8(v >> 8 & 0xFF)) }
        if pads < 1 { out.append(UInt8(v & 0xFF)) }
        if pads > 0 { ended = true }
        quad = []
    }

    mutating func finish() throws -> [UInt8] {
        if quad.isEmpty { return [] }
        // Unpadded tail.
        if quad.count == 1 || quad.contains(64) { throw DaemonError(EINVAL, "base64: invalid input (truncated)") }
        while quad.count < 4 { quad.append(64) }
        var out: [UInt8] = []
        try flush(&out)
        return out
    }
}
