// Older spellings kept for compatibility: the grep family (each one is
// `grep` with a fixed set of options), xz tarballs, write_file, and
// copy_size (a byte count copied between devices and files, with progress).

import Glibc

extension Handlers {
    // MARK: grep variants

    func grepi(_ ctx: CallContext, regex: String, path: String) throws -> [String] {
        try grep(ctx, regex: regex, path: path, extended: nil, fixed: nil, insensitive: true, compressed: nil)
    }

    func egrep(_ ctx: CallContext, regex: String, path: String) throws -> [String] {
        try grep(ctx, regex: regex, path: path, extended: true, fixed: nil, insensitive: nil, compressed: nil)
    }

    func egrepi(_ ctx: CallContext, regex: String, path: String) throws -> [String] {
        try grep(ctx, regex: regex, path: path, extended: true, fixed: nil, insensitive: true, compressed: nil)
    }

    func fgrep(_ ctx: CallContext, pattern: String, path: String) throws -> [String] {
        try grep(ctx, regex: pattern, path: path, extended: nil, fixed: true, insensitive: nil, compressed: nil)
    }

    func fgrepi(_ ctx: CallContext, pattern: String, path: String) throws -> [String] {
        try grep(ctx, regex: pattern, path: path, extended: nil, fixed: true, insensitive: true, compressed: nil)
    }

    func zgrep(_ ctx: CallContext, regex: String, path: String) throws -> [String] {
        try grep(ctx, regex: regex, path: path, extended: nil, fixed: nil, insensitive: nil, compressed: true)
    }

    func zgrepi(_ ctx: CallContext, regex: String, path: String) throws -> [String] {
        try grep(ctx, regex: regex, path: path, extended: nil, fixed: nil, insensitive: true, compressed: true)
    }

    func zegrep(_ ctx: CallContext, regex: String, path: String) throws -> [String] {
        try grep(ctx, regex: regex, path: path, extended: true, fixed: nil, insensitive: nil, compressed: true)
    }

    func zegrepi(_ ctx: CallContext, regex: String, path: String) throws -> [String] {
        try grep(ctx, regex: regex, path: path, extended: true, fixed: nil, insensitive: true, compressed: true)
    }

    func zfgrep(_ ctx: CallContext, pattern: String, path: String) throws -> [String] {
        try grep(ctx, regex: pattern, path: path, extended: nil, fixed: true, insensitive: nil, compressed: true)
    }

    func zfgrepi(_ ctx: CallContext, pattern: String, path: String) throws -> [String] {
        try grep(ctx, regex: pattern, path: path, extended: nil, fixed: true, insensitive: true, compressed: true)
    }

    // MARK: txz_in, txz_out

    func txzIn(_ ctx: CallContext, directory: String) throws {
        try tarIn(ctx, directory: directory, compress: "xz", xattrs: nil, selinux: nil, acls: nil, keepdirlink: nil)
    }

    func txzOut(_ ctx: CallContext, directory: String) throws {
        try tarOut(ctx, directory: directory, compress: "xz", numericowner: nil, excludes: nil, xattrs: nil, selinux: nil, acls: nil)
    }

    // MARK: write_file

    func writeFile(_ ctx: CallContext, path: String, content: String, size: Int32) throws {
        let bytes = Array(content.utf8)
        if size < 0 { throw DaemonError(EINVAL, "write_file: \(path): size is negative") }
        if Int(size) > bytes.count {
            throw DaemonError(EINVAL, "write_file: \(path): size \(size) is larger than the content (\(bytes.count) bytes)")
        }
        let count = size == 0 ? bytes.count : Int(size)
        let fd = try ctx.sysroot.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, mode: 0o666, op: "open")
        defer { close(fd) }
        if !Sys.writeAll(fd, Array(bytes.prefix(count))) { throw DaemonError.posix("write", path) }
        if close(dup(fd)) != 0 { throw DaemonError.posix("close", path) }
    }

    // MARK: copy_size

    func copySize(_ ctx: CallContext, src: String, dest: String, size: Int64) throws {
        if size < 0 { throw DaemonError(EINVAL, "copy_size: size is negative") }
        let sfd = try openPathOrDevice(ctx, src, O_RDONLY, op: "copy_size: open")
        defer { close(sfd) }
        // A device is written in place; a file is started afresh.
        let dflags = dest.hasPrefix("/dev/") ? O_WRONLY : (O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY)
        let dfd = try openPathOrDevice(ctx, dest, dflags, mode: 0o666, op: "copy_size: open")
        defer { close(dfd) }
        let srcName = ctx.canonicalName(src), destName = ctx.canonicalName(dest)
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while done < size {
            let want = Int(min(Int64(buf.count), size - done))
            let n = buf.withUnsafeMutableBytes { read(sfd, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DaemonError.posix("copy_size: read", srcName)
            }
            if n == 0 {
                throw DaemonError(EIO, "copy_size: \(srcName): the source is shorter than \(size) bytes (only \(done) copied)")
            }
            let ok = buf.withUnsafeBytes { Sys.writeAll(dfd, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            if !ok { throw DaemonError.posix("copy_size: write", destName) }
            done += Int64(n)
            ctx.progress(UInt64(done), UInt64(size))
        }
        ctx.finishProgress(UInt64(size))
        if fsync(dfd) != 0 && errno != EINVAL { throw DaemonError.posix("copy_size: fsync", destName) }
    }
}
