// Small daemon utilities (sleep, echo_daemon, utsname, drop_caches,
// modprobe), commands in the guest with their output streamed to the
// library (sh_out, command_out), and file_architecture.

import Glibc
import GuestfsProtocol

extension Handlers {
    func sleep(_ ctx: CallContext, secs: Int32) throws {
        guard secs >= 0 else { throw DaemonError(EINVAL, "sleep: \(secs): the time is negative") }
        var left = UInt32(secs)
        while left > 0 { left = Glibc.sleep(left) }
    }

    func echoDaemon(_ ctx: CallContext, words: [String]) throws -> String {
        words.joined(separator: " ")
    }

    func utsname(_ ctx: CallContext) throws -> UTSName {
        var u = Glibc.utsname()
        if uname(&u) != 0 { throw DaemonError.posix("uname") }
        func field<T>(_ t: T) -> String {
            withUnsafeBytes(of: t) { b in
                let bytes = b.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        return UTSName(utsSysname: field(u.sysname), utsRelease: field(u.release),
                       utsVersion: field(u.version), utsMachine: field(u.machine))
    }

    func dropCaches(_ ctx: CallContext, whattodrop: Int32) throws {
        guard (1...3).contains(whattodrop) else {
            throw DaemonError(EINVAL, "drop_caches: \(whattodrop): use 1 (page cache), 2 (dentries and inodes) or 3 (both)")
        }
        Glibc.sync()
        let fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw DaemonError.posix("drop_caches", "/proc/sys/vm/drop_caches") }
        defer { close(fd) }
        if !Sys.writeAll(fd, Array("\(whattodrop)\n".utf8)) {
            throw DaemonError.posix("drop_caches", "/proc/sys/vm/drop_caches")
        }
    }

    func modprobe(_ ctx: CallContext, modulename: String) throws {
        guard !modulename.isEmpty, !modulename.hasPrefix("-") else {
            throw DaemonError(EINVAL, "modprobe: \(modulename): not a module name")
        }
        let r = try Command.run(["modprobe", "--", modulename])
        if !r.ok {
            var why = r.err.trimmed()
            if why.hasPrefix("modprobe: ") { why = String(why.dropFirst("modprobe: ".count)) }
            throw DaemonError(ENOENT, "modprobe: \(modulename): \(why.isEmpty ? "exited with status \(r.status)" : why)")
        }
    }

    // MARK: sh_out, command_out

    /// Runs argv chrooted into the guest (with /dev, /proc and /sys bound
    /// in, as for `command`) and streams its stdout as the FileOut data.
    private func streamInGuest(_ ctx: CallContext, _ argv: [String], op: String) throws {
        guard !argv.isEmpty else { throw DaemonError(EINVAL, "\(op): the argument list is empty") }
        guard ctx.sysroot.isMounted() else {
            throw DaemonError(EINVAL, "\(op): no filesystem is mounted on / (mount the guest first)")
        }
        var bound: [String] = []
        defer { for t in bound.reversed() { _ = umount2(t, Int32(MNT_DETACH)) } }
        for d in ["/dev", "/dev/pts", "/proc", "/sys"] where Sys.isDirectory(d) {
            guard let t = try? ctx.sysroot.hostPath(d, op: op), t.hasPrefix(ctx.sysroot.path + "/"),
                  Sys.isDirectory(t) else { continue }
            if Glibc.mount(d, t, nil, UInt(MS_BIND), nil) == 0 { bound.append(t) }
        }
        try streamCommand(ctx, ["chroot", ctx.sysroot.path] + argv)
    }

    func shOut(_ ctx: CallContext, command: String) throws {
        try streamInGuest(ctx, ["/bin/sh", "-c", command], op: "sh_out")
    }

    func commandOut(_ ctx: CallContext, arguments: [String]) throws {
        try streamInGuest(ctx, arguments, op: "command_out")
    }

    // MARK: file_architecture

    /// The architecture named in file(1)'s description of an ELF or PE file.
    static func architecture(fromFileOutput s: String) -> String? {
        if s.hasPrefix("ELF ") {
            let is64 = s.contains("64-bit")
            let lsb = s.contains("LSB")
            let table: [(String, String)] = [
                ("x86-64", "x86_64"), ("Intel 80386", "i386"), ("Intel i386", "i386"), ("aarch64", "aarch64"),
                ("ARM", "arm"), ("IA-64", "ia64"), ("Alpha", "alpha"), ("IBM S/390", is64 ? "s390x" : "s390"),
                ("RISC-V", is64 ? "riscv64" : "riscv32"),
                ("64-bit PowerPC", lsb ? "ppc64le" : "ppc64"), ("PowerPC", is64 ? (lsb ? "ppc64le" : "ppc64") : "ppc"),
                ("MIPS", is64 ? "mips64" : "mips"), ("SPARC", is64 ? "sparc64" : "sparc"),
                ("LoongArch", "loongarch64"),
            ]
            for (k, v) in table where s.contains(k) { return v }
            return nil
        }
        if s.hasPrefix("PE32") || s.contains("MS-DOS executable, PE") || s.contains("PE32") {
            if s.contains("x86-64") { return "x86_64" }
            if s.contains("Aarch64") || s.contains("ARM64") { return "aarch64" }
            if s.contains("Intel 80386") || s.contains("Intel i386") { return "i386" }
            if s.contains("Intel Itanium") { return "ia64" }
            if s.contains("ARM") { return "arm" }
            return nil
        }
        return nil
    }

    private static func describe(_ host: String) throws -> String {
        try Command.output(["file", "-b", "--", host]).trimmed()
    }

    func fileArchitecture(_ ctx: CallContext, filename: String) throws -> String {
        let host = try ctx.sysroot.hostPath(filename, op: "file_architecture")
        let desc = try Handlers.describe(host)
        if let a = Handlers.architecture(fromFileOutput: desc) { return a }
        let isArchive = desc.contains("cpio archive") || desc.contains("compressed data")
        if !isArchive || desc.contains("tar archive") {
            throw DaemonError(EINVAL, "file_architecture: \(filename): cannot tell the architecture of this file (\(desc))")
        }
        // An initrd: unpack it and look at the programs every initrd has.
        var tmpl = Array("/tmp/archinitrd.XXXXXX".utf8CString)
        guard let p = Glibc.mkdtemp(&tmpl) else { throw DaemonError.posix("file_architecture: mkdtemp") }
        let tmp = String(cString: p)
        defer { _ = try? Command.run(["rm", "-rf", "--", tmp]) }
        let fd = try ctx.sysroot.open(filename, O_RDONLY, op: "file_architecture")
        var magic = [UInt8](repeating: 0, count: 6)
        let n = magic.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, 6, 0) }
        close(fd)
        let m = Array(magic.prefix(max(0, n)))
        let dec: String
        if m.starts(with: [0x1f, 0x8b]) { dec = "gzip -dc" }
        else if m.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { dec = "xz -dc" }
        else if m.starts(with: [0x42, 0x5a, 0x68]) { dec = "bzip2 -dc" }
        else if m.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { dec = "zstd -dc" }
        else if m.starts(with: Array("0707".utf8)) { dec = "cat" }
        else { throw DaemonError(EINVAL, "file_architecture: \(filename): cannot tell the architecture of this file (\(desc))") }
        _ = try? Command.run(["sh", "-c", "cd \"$1\" && \(dec) < \"$2\" | cpio --quiet -id --no-absolute-filenames",
                              "sh", tmp, host])
        let root = open(tmp, Sys.O_PATH | O_DIRECTORY | O_CLOEXEC)
        if root < 0 { throw DaemonError.posix("file_architecture", tmp) }
        defer { close(root) }
        let candidates = ["bin/busybox", "bin/ls", "usr/bin/ls", "bin/sh", "bin/bash", "usr/bin/bash", "bin/dash",
                          "sbin/init", "init", "sbin/modprobe", "usr/sbin/modprobe", "bin/rm", "usr/lib/systemd/systemd"]
        for c in candidates {
            // Resolved inside the unpacked tree: its symlinks cannot leave it.
            let f = Sys.openat2(root, c, flags: O_RDONLY | O_CLOEXEC, mode: 0,
                                resolve: Sys.RESOLVE_IN_ROOT | Sys.RESOLVE_NO_MAGICLINKS)
            if f < 0 { continue }
            defer { close(f) }
            guard let path = Sysroot.fdPath(f), let d = try? Handlers.describe(path),
                  let a = Handlers.architecture(fromFileOutput: d) else { continue }
            return a
        }
        throw DaemonError(EINVAL, "file_architecture: \(filename): no program found in the initrd to tell its architecture")
    }
}
