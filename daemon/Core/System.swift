// Running commands in the guest, and appliance-level information.

import Glibc
import GuestfsProtocol

extension Handlers {
    /// Runs argv chrooted into the sysroot with /dev, /proc, /sys bound in,
    /// like a command run inside the guest.
    func runInGuest(_ ctx: CallContext, _ argv: [String], op: String) throws -> String {
        guard !argv.isEmpty else { throw DaemonError(EINVAL, "\(op): the argument list is empty") }
        guard ctx.sysroot.isMounted() else {
            throw DaemonError(EINVAL, "\(op): you must call 'mount' first to mount the root filesystem")
        }
        var bound: [String] = []
        defer { for t in bound.reversed() { _ = umount2(t, Int32(MNT_DETACH)) } }
        for d in ["/dev", "/dev/pts", "/proc", "/sys", "/sys/fs/selinux"] where Sys.isDirectory(d) {
            guard let t = try? ctx.sysroot.hostPath(d, op: op), t.hasPrefix(ctx.sysroot.path + "/"),
                  Sys.isDirectory(t) else { continue }
            if Glibc.mount(d, t, nil, UInt(MS_BIND), nil) == 0 { bound.append(t) }
        }
        let r = try Command.run(["chroot", ctx.sysroot.path] + argv)
        if r.status == 127 || r.status == 126 {
            throw DaemonError(r.status == 127 ? ENOENT : EACCES, "\(op): \(argv[0]): \(r.err.trimmed().isEmpty ? "cannot run the program" : r.err.trimmed())")
        }
        if !r.ok {
            var text = r.err.trimmed()
            if text.isEmpty { text = r.out.trimmed() }
            throw DaemonError(message: "\(argv[0]): \(text.isEmpty ? "exited with status \(r.status)" : text)")
        }
        return r.out
    }

    func command(_ ctx: CallContext, arguments: [String]) throws -> String {
        try runInGuest(ctx, arguments, op: "command")
    }

    func commandLines(_ ctx: CallContext, arguments: [String]) throws -> [String] {
        try runInGuest(ctx, arguments, op: "command_lines").lines
    }

    func sh(_ ctx: CallContext, command: String) throws -> String {
        try runInGuest(ctx, ["/bin/sh", "-c", command], op: "sh")
    }

    func shLines(_ ctx: CallContext, command: String) throws -> [String] {
        try runInGuest(ctx, ["/bin/sh", "-c", command], op: "sh_lines").lines
    }

    func df(_ ctx: CallContext) throws -> String {
        canonicalDf(ctx, try Command.output(["df"]))
    }

    func dfH(_ ctx: CallContext) throws -> String {
        canonicalDf(ctx, try Command.output(["df", "-h"]))
    }

    private func canonicalDf(_ ctx: CallContext, _ s: String) -> String {
        ctx.devices.canonicalizeText(s)
    }

    func du(_ ctx: CallContext, path: String) throws -> Int64 {
        let host = try ctx.sysroot.hostPath(path, op: "du")
        let out = try Command.output(["du", "-s", "--", host])
        guard let f = out.split(whereSeparator: { $0 == "\t" || $0 == " " }).first, let n = Int64(f) else {
            throw DaemonError(message: "du: cannot parse output \"\(out.trimmed())\"")
        }
        return n
    }

    func dmesg(_ ctx: CallContext) throws -> String {
        try Command.output(["dmesg"])
    }

    func umask(_ ctx: CallContext, mask: Int32) throws -> Int32 {
        if mask < 0 || mask > 0o777 { throw DaemonError(EINVAL, "umask: \(mask): the mask must be between 0 and 0777") }
        return Int32(Glibc.umask(mode_t(mask)))
    }

    func getUmask(_ ctx: CallContext) throws -> Int32 {
        let old = Glibc.umask(0o022)
        Glibc.umask(old)
        return Int32(old)
    }

    func pingDaemon(_ ctx: CallContext) throws {}

    func debug(_ ctx: CallContext, subcmd: String, extraargs: [String]) throws -> String {
        switch subcmd {
        case "help":
            return "debug subcommands: devices env fds help ll ls mountinfo progress setenv sh\n"
        case "sh":
            let r = try Command.run(["sh", "-c", extraargs.joined(separator: " ")])
            return r.out + r.err
        case "env":
            return try Command.output(["env"])
        case "ls":
            return try Command.output(["ls"] + extraargs)
        case "ll":
            return try Command.output(["ls", "-la"] + extraargs)
        case "fds":
            var out = ""
            for fd in (Sys.listDirectory("/proc/self/fd") ?? []).sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
                var buf = [CChar](repeating: 0, count: 4097)
                let n = Glibc.readlink("/proc/self/fd/\(fd)", &buf, 4096)
                out += "\(fd) \(n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?")\n"
            }
            return out
        case "mountinfo":
            return Sys.readText("/proc/self/mountinfo") ?? ""
        case "devices":
            var out = "root disk: \(ctx.devices.rootDisk ?? "(none)")\n"
            for (i, d) in ctx.devices.disks.enumerated() { out += "/dev/sd\(DiskName.letters(forIndex: i)) = /dev/\(d)\n" }
            return out
        case "setenv":
            guard extraargs.count == 2 else { throw DaemonError(EINVAL, "debug setenv: expecting NAME VALUE") }
            setenv(extraargs[0], extraargs[1], 1)
            return ""
        case "progress":
            // progress SECONDS: sends progress messages for that long.
            let secs = Double(extraargs.first ?? "5") ?? 5
            if secs < 0 || secs > 600 { throw DaemonError(EINVAL, "debug progress: seconds must be 0..600") }
            let t0 = Sys.monotonicSeconds()
            let total: UInt64 = UInt64(secs * 1000)
            while Sys.monotonicSeconds() - t0 < secs {
                usleep(100_000)
                ctx.progress(UInt64((Sys.monotonicSeconds() - t0) * 1000), total)
            }
            ctx.finishProgress(total)
            return "ok"
        default:
            throw DaemonError(EINVAL, "debug: \(subcmd): unknown subcommand (try \"help\")")
        }
    }

    func setfiles(_ ctx: CallContext, specfile: String, paths: [String], force: Bool?, excludes: [String]?) throws {
        guard Command.exists("setfiles") else {
            throw DaemonError(ENOTSUP, "setfiles: the setfiles program is not available in the appliance")
        }
        let spec = try ctx.sysroot.hostPath(try ctx.checkPathname(specfile, "specfile"), op: "setfiles")
        var argv = ["setfiles"]
        if force == true { argv.append("-F") }
        for e in excludes ?? [] {
            argv += ["-e", try ctx.sysroot.hostPath(try ctx.checkPathname(e, "excludes"), mustExist: false, op: "setfiles")]
        }
        argv += ["-r", ctx.sysroot.path, "-v", spec]
        for p in paths { argv.append(try ctx.sysroot.hostPath(p, op: "setfiles")) }
        try Command.check(argv)
    }
}
