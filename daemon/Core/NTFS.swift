// NTFS through the ntfs-3g package's tools: probing (ntfs-3g.probe),
// repair (ntfsfix), resizing (ntfsresize), images (ntfsclone), reading an
// inode (ntfscat) and permissions (ntfssecaudit).

import Glibc

extension Handlers {
    func ntfs3gProbe(_ ctx: CallContext, rw: Bool, device: String) throws -> Int32 {
        // The exit status is the answer: 0 mountable, else the reason why not.
        try Command.run(["ntfs-3g.probe", rw ? "--readwrite" : "--readonly", device]).status
    }

    func ntfsfix(_ ctx: CallContext, device: String, clearbadsectors: Bool?) throws {
        var argv = ["ntfsfix"]
        if clearbadsectors == true { argv.append("-b") }
        argv.append(device)
        try fsxTool(ctx, op: "ntfsfix", shown: ctx.canonicalName(device), argv)
    }

    func ntfsresize(_ ctx: CallContext, device: String, size: Int64?, force: Bool?) throws {
        var argv = ["ntfsresize", "-P"]
        if let size {
            if size <= 0 { throw DaemonError(EINVAL, "ntfsresize: \(ctx.canonicalName(device)): size must be greater than zero") }
            argv += ["--size", String(size)]
        }
        if force == true { argv.append("--force") }
        argv.append(device)
        // Without a terminal ntfsresize takes the missing answer to its
        // "are you sure" question as yes.
        try fsxTool(ctx, op: "ntfsresize", shown: ctx.canonicalName(device), argv)
        Glibc.sync()
    }

    func ntfsresizeSize(_ ctx: CallContext, device: String, size: Int64) throws {
        try ntfsresize(ctx, device: device, size: size, force: nil)
    }

    /// Streams a program's stdout as FileOut data; a failure names `op` and `shown`.
    func fsxStream(_ ctx: CallContext, op: String, shown: String, _ argv: [String]) throws {
        do {
            try streamCommand(ctx, argv)
        } catch let e as DaemonError {
            throw DaemonError(e.errno, "\(op): \(shown): " + ctx.devices.canonicalizeText(e.message))
        }
    }

    func ntfscloneOut(_ ctx: CallContext, device: String, metadataonly: Bool?, rescue: Bool?, ignorefscheck: Bool?, preservetimestamps: Bool?, force: Bool?) throws {
        var argv = ["ntfsclone", "-o", "-"]
        if metadataonly == true { argv.append("--metadata") }
        if rescue == true { argv.append("--rescue") }
        if ignorefscheck == true { argv.append("--ignore-fs-check") }
        if preservetimestamps == true { argv.append("--preserve-timestamps") }
        if force == true { argv.append("--force") }
        argv += ["--save-image", device]
        try fsxStream(ctx, op: "ntfsclone_out", shown: ctx.canonicalName(device), argv)
    }

    func ntfscloneIn(_ ctx: CallContext, device: String) throws {
        try fsxFeed(ctx, op: "ntfsclone_in", shown: ctx.canonicalName(device),
                    ["ntfsclone", "-O", device, "--restore-image", "-"])
        Glibc.sync()
    }

    func ntfscatI(_ ctx: CallContext, device: String, inode: Int64) throws {
        if inode < 0 { throw DaemonError(EINVAL, "ntfscat_i: \(ctx.canonicalName(device)): inode must be >= 0") }
        try fsxStream(ctx, op: "ntfscat_i", shown: "\(ctx.canonicalName(device)): inode \(inode)",
                      ["ntfscat", "-i", String(inode), device])
    }

    func ntfsChmod(_ ctx: CallContext, device: String, mode: Int32, path: String, recursive: Bool?) throws {
        if mode < 0 || mode > 0o7777 {
            throw DaemonError(EINVAL, "ntfs_chmod: \(ctx.canonicalName(device)): mode \(mode) is not a valid permission mode")
        }
        guard path.hasPrefix("/") else {
            throw DaemonError(EINVAL, "ntfs_chmod: \(path): the path must start with /")
        }
        var argv = ["ntfssecaudit"]
        if recursive == true { argv.append("-r") }
        argv += [device, String(mode, radix: 8), path]
        try fsxTool(ctx, op: "ntfs_chmod", shown: "\(ctx.canonicalName(device)): \(path)", argv)
    }

    /// Feeds the FileIn data to a program's stdin; its stderr is kept for
    /// the error message when it fails.
    func fsxFeed(_ ctx: CallContext, op: String, shown: String, _ argv: [String]) throws {
        let (st, err) = try feedFileIn(ctx, to: try Child.spawn(argv, stdin: .pipe, stdout: .null))
        if st != 0 {
            var text = String(decoding: err, as: UTF8.self).trimmed()
            if text.isEmpty { text = "\(argv[0]) exited with status \(st)" }
            throw DaemonError(message: "\(op): \(shown): " + ctx.devices.canonicalizeText(text))
        }
    }
}
