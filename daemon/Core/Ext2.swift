// ext2/3/4 specifics: resizing to a size or to the minimum, tune2fs
// settings, inode attribute flags and generation numbers (chattr/lsattr).

import Glibc

extension Handlers {
    func resize2fsSize(_ ctx: CallContext, device: String, size: Int64) throws {
        if size <= 0 { throw DaemonError(EINVAL, "resize2fs_size: size must be > 0") }
        // resize2fs reads a bare number as filesystem blocks; "K" means KiB.
        try Command.check(["resize2fs", device, "\(size / 1024)K"])
    }

    func resize2fsM(_ ctx: CallContext, device: String) throws {
        try Command.check(["resize2fs", "-M", device])
    }

    func tune2fs(_ ctx: CallContext, device: String, force: Bool?, maxmountcount: Int32?, mountcount: Int32?,
                 errorbehavior: String?, group: Int64?, intervalbetweenchecks: Int32?, reservedblockspercentage: Int32?,
                 lastmounteddirectory: String?, reservedblockscount: Int64?, user: Int64?) throws {
        var argv = ["tune2fs"]
        if force == true { argv.append("-f") }
        if let maxmountcount { argv += ["-c", String(maxmountcount)] }
        if let mountcount {
            if mountcount < 0 { throw DaemonError(EINVAL, "tune2fs: mountcount must be >= 0") }
            argv += ["-C", String(mountcount)]
        }
        if let errorbehavior {
            guard ["continue", "remount-ro", "panic"].contains(errorbehavior) else {
                throw DaemonError(EINVAL, "tune2fs: errorbehavior must be continue, remount-ro or panic, not \"\(errorbehavior)\"")
            }
            argv += ["-e", errorbehavior]
        }
        if let group {
            if group < 0 { throw DaemonError(EINVAL, "tune2fs: group must be >= 0") }
            argv += ["-g", String(group)]
        }
        if let intervalbetweenchecks {
            if intervalbetweenchecks < 0 { throw DaemonError(EINVAL, "tune2fs: intervalbetweenchecks must be >= 0") }
            argv += ["-i", "\(intervalbetweenchecks)s"]
        }
        if let reservedblockspercentage {
            if reservedblockspercentage < 0 || reservedblockspercentage > 50 {
                throw DaemonError(EINVAL, "tune2fs: reservedblockspercentage must be in 0..50")
            }
            argv += ["-m", String(reservedblockspercentage)]
        }
        if let lastmounteddirectory { argv += ["-M", lastmounteddirectory] }
        if let reservedblockscount {
            if reservedblockscount < 0 { throw DaemonError(EINVAL, "tune2fs: reservedblockscount must be >= 0") }
            argv += ["-r", String(reservedblockscount)]
        }
        if let user {
            if user < 0 { throw DaemonError(EINVAL, "tune2fs: user must be >= 0") }
            argv += ["-u", String(user)]
        }
        argv.append(device)
        try Command.check(argv)
    }

    /// `lsattr -d [-v]` of a guest file: (generation?, flag field).
    private func lsattr(_ ctx: CallContext, _ file: String, generation: Bool, op: String) throws -> (String, String) {
        let host = try ctx.sysroot.hostPath(file, follow: false, op: op)
        let r = try Command.run(["lsattr", "-d"] + (generation ? ["-v"] : []) + ["--", host])
        if !r.ok { throw DaemonError(message: "lsattr: \(file): " + r.err.trimmed().replacingAll(host, with: file)) }
        let f = r.out.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if generation {
            guard f.count >= 2 else { throw DaemonError(message: "lsattr: \(file): unexpected output") }
            return (f[0], f[1])
        }
        guard let flags = f.first else { throw DaemonError(message: "lsattr: \(file): unexpected output") }
        return ("", flags)
    }

    func getE2attrs(_ ctx: CallContext, file: String) throws -> String {
        try lsattr(ctx, file, generation: false, op: "get_e2attrs").1.filter { $0 != "-" }
    }

    func setE2attrs(_ ctx: CallContext, file: String, attrs: String, clear: Bool?) throws {
        let allowed = "AaCcDdEeFIijmPSsTtuxZ"
        for c in attrs where !allowed.contains(c) {
            throw DaemonError(EINVAL, "set_e2attrs: unknown attribute flag '\(c)'")
        }
        if attrs.isEmpty { return }
        let host = try ctx.sysroot.hostPath(file, follow: false, op: "set_e2attrs")
        let r = try Command.run(["chattr", (clear == true ? "-" : "+") + attrs, "--", host])
        if !r.ok { throw DaemonError(message: "chattr: \(file): " + r.err.trimmed().replacingAll(host, with: file)) }
    }

    func getE2generation(_ ctx: CallContext, file: String) throws -> Int64 {
        let g = try lsattr(ctx, file, generation: true, op: "get_e2generation").0
        guard let v = Int64(g) else { throw DaemonError(message: "lsattr: \(file): cannot parse generation \"\(g)\"") }
        return v
    }

    func setE2generation(_ ctx: CallContext, file: String, generation: Int64) throws {
        if generation < 0 || generation > Int64(UInt32.max) {
            throw DaemonError(EINVAL, "set_e2generation: generation must be in 0..4294967295")
        }
        let host = try ctx.sysroot.hostPath(file, follow: false, op: "set_e2generation")
        let r = try Command.run(["chattr", "-v", String(generation), "--", host])
        if !r.ok { throw DaemonError(message: "chattr: \(file): " + r.err.trimmed().replacingAll(host, with: file)) }
    }
}
