// internal_upload / debug_upload: a FileIn stream written to a path of the
// appliance's own filesystem (not under the sysroot), and
// internal_rhbz914931, which kills the daemon in the middle of an upload
// so the library's handling of a dying appliance can be tested.

import Glibc

extension Handlers {
    func internalUpload(_ ctx: CallContext, tmpname: String, mode: Int32) throws {
        try uploadToAppliance(ctx, op: "internal_upload", path: tmpname, mode: mode)
    }

    func debugUpload(_ ctx: CallContext, tmpname: String, mode: Int32) throws {
        try uploadToAppliance(ctx, op: "debug_upload", path: tmpname, mode: mode)
    }

    /// Creates (or truncates) `path` with `mode` (less the umask) and writes
    /// the stream into it. On an error before the stream is read, the
    /// dispatcher drains the stream so the reply lands where it should.
    private func uploadToAppliance(_ ctx: CallContext, op: String, path: String, mode: Int32) throws {
        guard path.hasPrefix("/") else {
            throw DaemonError(EINVAL, "\(op): \(path): the path in the appliance must be absolute")
        }
        guard mode >= 0 && mode <= 0o7777 else {
            throw DaemonError(EINVAL, "\(op): \(path): mode \(mode) is not a valid permission mode")
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, mode_t(mode))
        if fd < 0 { throw DaemonError.posix(op, path) }
        var closed = false
        defer { if !closed { close(fd) } }
        try ctx.receiveFile { data in
            try data.withUnsafeBytes { p in
                var done = 0
                while done < p.count {
                    let n = write(fd, p.baseAddress! + done, p.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw DaemonError.posix("\(op): write", path)
                    }
                    done += n
                }
            }
        }
        closed = true
        if close(fd) != 0 { throw DaemonError.posix("\(op): close", path) }
    }

    func internalRhbz914931(_ ctx: CallContext, count: Int32) throws {
        guard count >= 1 && count <= 1000 else {
            throw DaemonError(EINVAL, "internal_rhbz914931: count \(count) is out of range (1 to 1000)")
        }
        var left = count
        var scratch: [UInt8] = []
        while true {
            switch try ctx.channel.readChunk(into: &scratch) {
            case .data:
                scratch.removeAll(keepingCapacity: true)
                left -= 1
                Glibc.sleep(1)
                if left == 0 {
                    // On purpose: the daemon (PID 1 in the appliance) dies in
                    // the middle of the stream, which takes the appliance down.
                    // _exit rather than a trap: a trap makes the Swift runtime
                    // look for its backtracer first, which only delays the end.
                    Sys.log("internal_rhbz914931: ending the daemon abruptly on purpose")
                    _exit(134)
                }
            case .other:
                continue
            case .end, .cancelled:
                // The stream ended before `count` chunks: nothing to crash for.
                ctx.fileInConsumed = true
                throw DaemonError(EIO, "internal_rhbz914931: the upload ended after \(count - left) of \(count) chunks")
            }
        }
    }
}
