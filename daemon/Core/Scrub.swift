// Secure erasure with scrub(1): whole devices, single files, and the
// free space of a mounted filesystem.

import Glibc

extension Handlers {
    func scrubDevice(_ ctx: CallContext, device: String) throws {
        // -f: a device scrubbed before carries scrub's signature; do it again anyway.
        try fsxTool(ctx, op: "scrub_device", shown: ctx.canonicalName(device), ["scrub", "-f", device])
        Glibc.sync()
    }

    func scrubFile(_ ctx: CallContext, file: String) throws {
        let st = try ctx.sysroot.statGuest(file, follow: true, op: "scrub_file")
        if (st.st_mode & S_IFMT) == S_IFDIR { throw DaemonError(EISDIR, "scrub_file: \(file): \(Sys.strerror(EISDIR))") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw DaemonError(EINVAL, "scrub_file: \(file): not a regular file") }
        let host = try ctx.sysroot.hostPath(file, op: "scrub_file")
        let r = try Command.run(["scrub", "-f", "-r", host])
        if !r.ok {
            throw DaemonError(message: "scrub_file: \(file): " + r.err.trimmed().replacingAll(host, with: file))
        }
    }

    func scrubFreespace(_ ctx: CallContext, dir: String) throws {
        let host = try ctx.sysroot.hostPath(dir, mustExist: false, op: "scrub_freespace")
        if Sys.exists(host) { throw DaemonError(EEXIST, "scrub_freespace: \(dir): \(Sys.strerror(EEXIST))") }
        let r = try Command.run(["scrub", "-X", host])
        if !r.ok {
            _ = try? Command.run(["rm", "-rf", "--", host])
            throw DaemonError(message: "scrub_freespace: \(dir): " + r.err.trimmed().replacingAll(host, with: dir))
        }
        // The filler files have served their purpose: give the space back.
        if Sys.exists(host) { _ = try? Command.run(["rm", "-rf", "--", host]) }
        Glibc.sync()
    }
}
