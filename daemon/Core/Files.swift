// Regular-file actions: create, write, read pieces, fill, truncate, times.

import Glibc
import GuestfsProtocol

extension Handlers {
    func touch(_ ctx: CallContext, path: String) throws {
        try withFile(ctx, path, O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK, mode: 0o666, op: "open") { fd in
            var st = stat()
            if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
                throw DaemonError(EINVAL, "touch: \(path): only regular files can be touched")
            }
            if futimens(fd, nil) != 0 { throw DaemonError.posix("futimens", path) }
        }
    }

    func writeFile(_ ctx: CallContext, _ path: String, _ content: [UInt8], append: Bool) throws {
        let flags = O_WRONLY | O_CREAT | O_NOCTTY | (append ? O_APPEND : O_TRUNC)
        try withFile(ctx, path, flags, mode: 0o666, op: "open") { fd in
            if !Sys.writeAll(fd, content) { throw DaemonError.posix("write", path) }
            if close(dup(fd)) != 0 { throw DaemonError.posix("close", path) }
        }
    }

    func internalWrite(_ ctx: CallContext, path: String, content: [UInt8]) throws {
        try writeFile(ctx, path, content, append: false)
    }

    func internalWriteAppend(_ ctx: CallContext, path: String, content: [UInt8]) throws {
        try writeFile(ctx, path, content, append: true)
    }

    func pread(_ ctx: CallContext, path: String, count: Int32, offset: Int64) throws -> [UInt8] {
        if count < 0 { throw DaemonError(EINVAL, "pread: \(path): count is negative") }
        if offset < 0 { throw DaemonError(EINVAL, "pread: \(path): offset is negative") }
        if Int(count) > GuestfsWire.messageMax - 1024 {
            throw DaemonError(EINVAL, "pread: \(path): count is too large for the protocol, use smaller reads")
        }
        return try withFile(ctx, path, O_RDONLY, op: "open") { fd in
            var buf = [UInt8](repeating: 0, count: Int(count))
            var got = 0
            while got < Int(count) {
                let n = buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + got, Int(count) - got, off_t(offset) + off_t(got)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DaemonError.posix("pread", path)
                }
                if n == 0 { break }
                got += n
            }
            return Array(buf.prefix(got))
        }
    }

    func pwrite(_ ctx: CallContext, path: String, content: [UInt8], offset: Int64) throws -> Int32 {
        if offset < 0 { throw DaemonError(EINVAL, "pwrite: \(path): offset is negative") }
        return try withFile(ctx, path, O_WRONLY | O_NOCTTY, op: "open") { fd in
            let n = content.withUnsafeBytes { Glibc.pwrite(fd, $0.baseAddress, content.count, off_t(offset)) }
            if n < 0 { throw DaemonError.posix("pwrite", path) }
            return Int32(n)
        }
    }

    /// Writes `len` bytes produced by repeating `pattern` into a new file.
    func fillWith(_ ctx: CallContext, _ path: String, _ pattern: [UInt8], _ len: Int64) throws {
        if len < 0 { throw DaemonError(EINVAL, "fill: \(path): length is negative") }
        try withFile(ctx, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, mode: 0o666, op: "open") { fd in
            let blockSize = 65536
            var block = [UInt8]()
            block.reserveCapacity(blockSize + pattern.count)
            while block.count < blockSize { block.append(contentsOf: pattern) }
            var done: Int64 = 0
            while done < len {
                // Keep the pattern phase: every block starts at a pattern boundary.
                let n = Int(min(Int64(blockSize - blockSize % pattern.count), len - done))
                if !block.withUnsafeBytes({ Sys.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) {
                    throw DaemonError.posix("write", path)
                }
                done += Int64(n)
                ctx.progress(UInt64(done), UInt64(len))
            }
            if fsync(fd) != 0 && errno != EINVAL { throw DaemonError.posix("fsync", path) }
            ctx.finishProgress(UInt64(len))
        }
    }

    func fill(_ ctx: CallContext, c: Int32, len: Int32, path: String) throws {
        if c < 0 || c > 255 { throw DaemonError(EINVAL, "fill: \(c): the fill byte must be in the range 0..255") }
        try fillWith(ctx, path, [UInt8(c)], Int64(len))
    }

    func fillPattern(_ ctx: CallContext, pattern: String, len: Int32, path: String) throws {
        let p = Array(pattern.utf8)
        if p.isEmpty { throw DaemonError(EINVAL, "fill_pattern: the pattern is empty") }
        try fillWith(ctx, path, p, Int64(len))
    }

    func truncateSize(_ ctx: CallContext, path: String, size: Int64) throws {
        if size < 0 { throw DaemonError(EINVAL, "truncate: \(path): size is negative") }
        try withFile(ctx, path, O_WRONLY | O_NOCTTY, op: "open") { fd in
            if ftruncate(fd, off_t(size)) != 0 { throw DaemonError.posix("truncate", path) }
        }
    }

    func truncate(_ ctx: CallContext, path: String) throws {
        try truncateSize(ctx, path: path, size: 0)
    }

    func fallocate64(_ ctx: CallContext, path: String, len: Int64) throws {
        if len < 0 { throw DaemonError(EINVAL, "fallocate: \(path): length is negative") }
        try withFile(ctx, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, mode: 0o666, op: "open") { fd in
            if len == 0 { return }
            let r = posix_fallocate(fd, 0, off_t(len))
            if r != 0 {
                if r != EOPNOTSUPP && r != EINVAL { throw DaemonError.posix("posix_fallocate", path, errno: r) }
                // No fallocate support: write zeroes.
                let zero = [UInt8](repeating: 0, count: 65536)
                var done: Int64 = 0
                while done < len {
                    let n = Int(min(65536, len - done))
                    if !zero.withUnsafeBytes({ Sys.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) {
                        throw DaemonError.posix("write", path)
                    }
                    done += Int64(n)
                }
            }
        }
    }

    func fallocate(_ ctx: CallContext, path: String, len: Int32) throws {
        try fallocate64(ctx, path: path, len: Int64(len))
    }

    func utimens(_ ctx: CallContext, path: String, atsecs: Int64, atnsecs: Int64, mtsecs: Int64, mtnsecs: Int64) throws {
        func ts(_ s: Int64, _ ns: Int64) -> timespec {
            switch ns {
            case -1: return timespec(tv_sec: 0, tv_nsec: Sys.UTIME_NOW)
            case -2: return timespec(tv_sec: 0, tv_nsec: Sys.UTIME_OMIT)
            default: return timespec(tv_sec: Int(s), tv_nsec: Int(ns))
            }
        }
        var times = [ts(atsecs, atnsecs), ts(mtsecs, mtnsecs)]
        try withParent(ctx, path, op: "utimensat") { dirfd, name in
            let r = name == "." ? utimensat(dirfd, ".", &times, 0) : utimensat(dirfd, name, &times, AT_SYMLINK_NOFOLLOW)
            if r != 0 { throw DaemonError.posix("utimensat", path) }
        }
    }

    func filesize(_ ctx: CallContext, file: String) throws -> Int64 {
        let st = try ctx.sysroot.statGuest(file, follow: true, op: "stat")
        return Int64(st.st_size)
    }

    // MARK: reading lines and counting

    /// Runs a text tool on a guest file (resolved to a host path).
    func toolOnFile(_ ctx: CallContext, _ argv: [String], _ path: String, okStatuses: Set<Int32> = [0]) throws -> CommandResult {
        let host = try ctx.sysroot.hostPath(path, op: "open")
        var st = stat()
        if stat(host, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw DaemonError(EISDIR, "\(argvName(argv)): \(path): Is a directory")
        }
        return try Command.check(argv + [host], okStatuses: okStatuses)
    }

    private func argvName(_ argv: [String]) -> String { argv.first ?? "" }

    func headN(_ ctx: CallContext, nrlines: Int32, path: String) throws -> [String] {
        if nrlines == 0 {
            _ = try ctx.sysroot.statGuest(path, follow: true, op: "open")
            return []
        }
        return try toolOnFile(ctx, ["head", "-n", String(nrlines), "--"], path).out.lines
    }

    func head(_ ctx: CallContext, path: String) throws -> [String] {
        try headN(ctx, nrlines: 10, path: path)
    }

    func tailN(_ ctx: CallContext, nrlines: Int32, path: String) throws -> [String] {
        let arg: String
        if nrlines >= 0 {
            if nrlines == 0 {
                _ = try ctx.sysroot.statGuest(path, follow: true, op: "open")
                return []
            }
            arg = String(nrlines)
        } else {
            arg = "+" + String(-Int64(nrlines))
        }
        return try toolOnFile(ctx, ["tail", "-n", arg, "--"], path).out.lines
    }

    func tail(_ ctx: CallContext, path: String) throws -> [String] {
        try tailN(ctx, nrlines: 10, path: path)
    }

    private func wc(_ ctx: CallContext, _ flag: String, _ path: String) throws -> Int32 {
        let out = try toolOnFile(ctx, ["wc", flag, "--"], path).out
        guard let first = out.split(separator: " ").first, let n = Int32(String(first).trimmed()) else {
            throw DaemonError(message: "wc: cannot parse output \"\(out.trimmed())\"")
        }
        return n
    }

    func wcL(_ ctx: CallContext, path: String) throws -> Int32 { try wc(ctx, "-l", path) }
    func wcW(_ ctx: CallContext, path: String) throws -> Int32 { try wc(ctx, "-w", path) }
    func wcC(_ ctx: CallContext, path: String) throws -> Int32 { try wc(ctx, "-c", path) }

    func grep(_ ctx: CallContext, regex: String, path: String, extended: Bool?, fixed: Bool?, insensitive: Bool?, compressed: Bool?) throws -> [String] {
        if extended == true && fixed == true {
            throw DaemonError(EINVAL, "grep: can't use both extended and fixed flags")
        }
        var options: [String] = []
        if extended == true { options.append("-E") }
        if fixed == true { options.append("-F") }
        if insensitive == true { options.append("-i") }
        options += ["-e", regex]
        if compressed == true, let decompressor = try decompressorByMagic(ctx, path) {
            // grep reads the decompressor's output; a decompressor failure
            // (status 3 here) is an error, not "no match".
            let script = #""$1" -dc -- "$2" | grep "${@:3}"; s=("${PIPESTATUS[@]}"); [ "${s[0]}" -eq 0 ] || exit 3; exit "${s[1]}""#
            let host = try ctx.sysroot.hostPath(path, op: "open")
            return try Command.check(["bash", "-c", script, "grep", decompressor, host] + options, okStatuses: [0, 1]).out.lines
        }
        // zgrep handles gzip and compress and passes plain files through.
        let argv = [compressed == true ? "zgrep" : "grep"] + options + ["--"]
        // grep exits 1 when nothing matched: that is an empty answer.
        return try toolOnFile(ctx, argv, path, okStatuses: [0, 1]).out.lines
    }

    /// zgrep only knows gzip and compress (and bzgrep mishandles "-F -e"):
    /// the decompressor for bzip2, xz, lzma and zstd files, told by the
    /// file's magic so that their names do not matter; nil for the rest.
    private func decompressorByMagic(_ ctx: CallContext, _ path: String) throws -> String? {
        let host = try ctx.sysroot.hostPath(path, op: "open")
        var magic = [UInt8](repeating: 0, count: 6)
        let fd = open(host, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 6) }
            close(fd)
        }
        if magic.starts(with: [0x42, 0x5A, 0x68]) { return "bzip2" }
        if magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) || magic.starts(with: [0x5D, 0x00, 0x00]) { return "xz" }
        if magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return "zstd" }
        return nil
    }

    func file(_ ctx: CallContext, path: String) throws -> String {
        if path.hasPrefix("/dev/") {
            return try Command.output(["file", "-zbsL", path]).trimmed()
        }
        let st = try ctx.sysroot.statGuest(path, follow: false, op: "lstat")
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return "directory"
        case S_IFLNK: return "symbolic link"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFIFO: return "FIFO"
        case S_IFSOCK: return "socket"
        default:
            let host = try ctx.sysroot.hostPath(path, op: "open")
            return try Command.output(["file", "-zb", "--", host]).trimmed()
        }
    }

    func zero(_ ctx: CallContext, device: String) throws {
        try zeroRange(ctx, device, limit: 32 * 4096)
    }

    func zeroDevice(_ ctx: CallContext, device: String) throws {
        try zeroRange(ctx, device, limit: nil)
    }

    /// Writes zeroes over the first `limit` bytes (all when nil), skipping
    /// blocks that already read as zero so sparse backing stays sparse.
    func zeroRange(_ ctx: CallContext, _ device: String, limit: Int64?) throws {
        let fd = open(device, O_RDWR | O_CLOEXEC)
        if fd < 0 { throw DaemonError.posix("open", device) }
        defer { close(fd) }
        guard let size = fileSize(fd) else { throw DaemonError.posix("ioctl BLKGETSIZE64", device) }
        let total = min(size, limit ?? size)
        let bs = limit == nil ? 1 << 20 : 4096
        var buf = [UInt8](repeating: 0, count: bs)
        let zero = [UInt8](repeating: 0, count: bs)
        var pos: Int64 = 0
        while pos < total {
            let n = Int(min(Int64(bs), total - pos))
            let r = buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, n, off_t(pos)) }
            if r < 0 { throw DaemonError.posix("pread", device) }
            let allZero = r == n && buf.withUnsafeBytes { b in zero.withUnsafeBytes { z in memcmp(b.baseAddress!, z.baseAddress!, n) == 0 } }
            if !allZero {
                if !Sys.pwriteAll(fd, Array(zero[0..<n]), at: pos) { throw DaemonError.posix("pwrite", device) }
            }
            pos += Int64(n)
            ctx.progress(UInt64(pos), UInt64(total))
        }
        if fsync(fd) != 0 { throw DaemonError.posix("fsync", device) }
        _ = ioctl(fd, Sys.BLKFLSBUF, 0)
        ctx.finishProgress(UInt64(total))
    }
}
