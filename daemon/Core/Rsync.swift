// rsync, rsync_in, rsync_out: rsync(1) inside the appliance, between two
// guest paths or between the guest and an rsync server reached over the
// appliance network (set_network).

import Glibc

extension Handlers {
    /// rsync's options for the two optional arguments.
    private func rsyncOptions(archive: Bool?, deletedest: Bool?) -> [String] {
        var o: [String] = []
        if archive == true { o.append("--archive") }
        if deletedest == true { o.append("--delete") }
        return o
    }

    /// Host path of a guest path for rsync, keeping a final "/" (which
    /// tells rsync to copy a directory's contents).
    private func rsyncHostPath(_ ctx: CallContext, _ guest: String, mustExist: Bool, op: String) throws -> String {
        var host = try ctx.sysroot.hostPath(guest, mustExist: mustExist, op: op)
        if guest.hasSuffix("/") && !host.hasSuffix("/") { host += "/" }
        return host
    }

    /// Runs rsync; a failure quotes rsync's message with the sysroot
    /// taken out of the paths.
    private func runRsync(_ ctx: CallContext, op: String, _ args: [String]) throws {
        let r = try Command.run(["rsync"] + args)
        guard r.ok else {
            var text = r.err.trimmed()
            if text.isEmpty { text = r.out.trimmed() }
            if text.isEmpty { text = "exited with status \(r.status)" }
            let root = ctx.sysroot.path
            text = text.replacingAll(root + "/", with: "/").replacingAll("\"" + root + "\"", with: "\"/\"")
            throw DaemonError(message: "\(op): \(text)")
        }
    }

    func rsync(_ ctx: CallContext, src: String, dest: String, archive: Bool?, deletedest: Bool?) throws {
        let s = try rsyncHostPath(ctx, src, mustExist: true, op: "rsync")
        let d = try rsyncHostPath(ctx, dest, mustExist: false, op: "rsync")
        try runRsync(ctx, op: "rsync", rsyncOptions(archive: archive, deletedest: deletedest) + ["--", s, d])
    }

    func rsyncIn(_ ctx: CallContext, remote: String, dest: String, archive: Bool?, deletedest: Bool?) throws {
        guard !remote.isEmpty else { throw DaemonError(EINVAL, "rsync_in: the remote is empty") }
        let d = try rsyncHostPath(ctx, dest, mustExist: false, op: "rsync_in")
        try runRsync(ctx, op: "rsync_in", rsyncOptions(archive: archive, deletedest: deletedest) + ["--", remote, d])
    }

    func rsyncOut(_ ctx: CallContext, src: String, remote: String, archive: Bool?, deletedest: Bool?) throws {
        guard !remote.isEmpty else { throw DaemonError(EINVAL, "rsync_out: the remote is empty") }
        let s = try rsyncHostPath(ctx, src, mustExist: true, op: "rsync_out")
        try runRsync(ctx, op: "rsync_out", rsyncOptions(archive: archive, deletedest: deletedest) + ["--", s, remote])
    }
}
