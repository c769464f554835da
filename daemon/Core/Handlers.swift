// The struct that answers every daemon action. Its methods live in the
// domain files (Files.swift, Mount.swift, ...) as extensions.

import Glibc
import GuestfsProtocol
import XDR

final class Handlers: DaemonActionHandlers {
    /// What the last inspect_os found, one entry per root (sorted by root).
    var inspected: [InspectedOS] = []

    init() {}

    /// Runs `body` with a guest file opened inside the sysroot.
    func withFile<T>(_ ctx: CallContext, _ path: String, _ flags: Int32, mode: mode_t = 0, op: String,
                     _ body: (Int32) throws -> T) throws -> T {
        let fd = try ctx.sysroot.open(path, flags, mode: mode, op: op)
        defer { close(fd) }
        return try body(fd)
    }

    /// Runs `body` with the parent directory fd and last name of a guest path.
    func withParent<T>(_ ctx: CallContext, _ path: String, op: String, _ body: (Int32, String) throws -> T) throws -> T {
        let (dirfd, name) = try ctx.sysroot.resolveParent(path, op: op)
        defer { close(dirfd) }
        return try body(dirfd, name)
    }

    /// Host path for a guest path or a (real) device name.
    func hostPathOrDevice(_ ctx: CallContext, _ value: String, follow: Bool = true, mustExist: Bool = true, op: String) throws -> String {
        if value.hasPrefix("/dev/") { return value }
        return try ctx.sysroot.hostPath(value, follow: follow, mustExist: mustExist, op: op)
    }

    /// Opens a guest path or a device.
    func openPathOrDevice(_ ctx: CallContext, _ value: String, _ flags: Int32, mode: mode_t = 0, op: String) throws -> Int32 {
        if value.hasPrefix("/dev/") {
            let fd = open(value, flags | O_CLOEXEC, mode)
            if fd < 0 { throw DaemonError.posix(op, value) }
            return fd
        }
        return try ctx.sysroot.open(value, flags, mode: mode, op: op)
    }

    /// Called when the daemon leaves as PID 1: unmount the guest cleanly.
    func shutdownGuest(_ daemon: Daemon) {
        Glibc.sync()
        _ = try? unmountAll(daemon.sysroot)
        Glibc.sync()
    }
}

/// Size of an open file or block device.
func fileSize(_ fd: Int32) -> Int64? {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return nil }
    if (st.st_mode & S_IFMT) == S_IFBLK {
        var size: UInt64 = 0
        if ioctl(fd, Sys.BLKGETSIZE64, &size) == 0 { return Int64(size) }
        return nil
    }
    return Int64(st.st_size)
}
