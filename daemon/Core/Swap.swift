// Swap areas: mkswap(8) to format, swapon(8)/swapoff(8) to enable and
// disable, blkid to find an area by its label or UUID.

import Glibc

extension Handlers {
    /// Real device nodes whose blkid tag `tag` equals `value` (full probe,
    /// no cache), without the appliance's own disk.
    func devicesWithTag(_ ctx: CallContext, _ tag: String, _ value: String) throws -> [String] {
        let r = try Command.run(["blkid", "-c", "/dev/null", "-o", "device", "-t", "\(tag)=\(value)"])
        if r.status == 2 { return [] }       // no match
        if !r.ok { throw Command.failure(["blkid"], r) }
        return r.out.lines.map { $0.trimmed() }.filter { !$0.isEmpty && !ctx.devices.isRoot($0) }
    }

    /// The one device carrying `tag`=`value`; ENOENT when none does.
    func deviceWithTag(_ ctx: CallContext, _ tag: String, _ value: String, op: String) throws -> String {
        guard let d = try devicesWithTag(ctx, tag, value).first else {
            throw DaemonError(ENOENT, "\(op): no device with \(tag) \"\(value)\"")
        }
        return d
    }

    func mkswap(_ ctx: CallContext, device: String, label: String?, uuid: String?) throws {
        var argv = ["mkswap", "-f"]
        if let label {
            if label.utf8.count > 16 {
                throw DaemonError(ERANGE, "mkswap: \(ctx.canonicalName(device)): swap labels are limited to 16 bytes")
            }
            argv += ["-L", label]
        }
        if let uuid { argv += ["-U", uuid] }
        argv.append(device)
        try Command.check(argv)
        Glibc.sync()
    }

    func mkswapFile(_ ctx: CallContext, path: String) throws {
        let host = try ctx.sysroot.hostPath(path, op: "mkswap_file")
        if Sys.isDirectory(host) { throw DaemonError(EISDIR, "mkswap_file: \(path): Is a directory") }
        try Command.check(["mkswap", "-f", host])
        Glibc.sync()
    }

    /// Runs swapon/swapoff on `target`; the error names `shown` (what the
    /// caller passed) and the tool's message with canonical device names.
    private func swapCommand(_ ctx: CallContext, _ prog: String, _ target: String, shown: String) throws {
        let r = try Command.run([prog, target])
        if !r.ok {
            var text = r.err.trimmed()
            if text.isEmpty { text = "exited with status \(r.status)" }
            throw DaemonError(message: "\(prog): \(shown): " + ctx.devices.canonicalizeText(text))
        }
    }

    func swaponDevice(_ ctx: CallContext, device: String) throws {
        try swapCommand(ctx, "swapon", device, shown: ctx.canonicalName(device))
    }

    func swapoffDevice(_ ctx: CallContext, device: String) throws {
        try swapCommand(ctx, "swapoff", device, shown: ctx.canonicalName(device))
    }

    func swaponFile(_ ctx: CallContext, file: String) throws {
        try swapCommand(ctx, "swapon", try ctx.sysroot.hostPath(file, op: "swapon_file"), shown: file)
    }

    func swapoffFile(_ ctx: CallContext, file: String) throws {
        try swapCommand(ctx, "swapoff", try ctx.sysroot.hostPath(file, op: "swapoff_file"), shown: file)
    }

    func swaponLabel(_ ctx: CallContext, label: String) throws {
        let d = try deviceWithTag(ctx, "LABEL", label, op: "swapon_label")
        try swapCommand(ctx, "swapon", d, shown: "LABEL=\(label)")
    }

    func swapoffLabel(_ ctx: CallContext, label: String) throws {
        let d = try deviceWithTag(ctx, "LABEL", label, op: "swapoff_label")
        try swapCommand(ctx, "swapoff", d, shown: "LABEL=\(label)")
    }

    func swaponUuid(_ ctx: CallContext, uuid: String) throws {
        let d = try deviceWithTag(ctx, "UUID", uuid, op: "swapon_uuid")
        try swapCommand(ctx, "swapon", d, shown: "UUID=\(uuid)")
    }

    func swapoffUuid(_ ctx: CallContext, uuid: String) throws {
        let d = try deviceWithTag(ctx, "UUID", uuid, op: "swapoff_uuid")
        try swapCommand(ctx, "swapoff", d, shown: "UUID=\(uuid)")
    }
}
