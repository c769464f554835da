// inotify_*: one inotify instance per daemon, kept between calls, watching
// guest paths (reached through the sysroot) for changes.

import Glibc
import GuestfsProtocol

extension Handlers {
    /// The daemon's inotify descriptor (non-blocking), -1 when none.
    static var inotifyFD: Int32 = -1

    private func inotifyHandle(_ op: String) throws -> Int32 {
        guard Handlers.inotifyFD >= 0 else {
            throw DaemonError(EINVAL, "\(op): no inotify handle is open: call inotify_init first")
        }
        return Handlers.inotifyFD
    }

    func inotifyInit(_ ctx: CallContext, maxevents: Int32) throws {
        if maxevents < 0 { throw DaemonError(EINVAL, "inotify_init: maxevents \(maxevents) is negative") }
        if maxevents > 0 {
            let path = "/proc/sys/fs/inotify/max_queued_events"
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw DaemonError.posix("inotify_init", path) }
            defer { close(fd) }
            if !Sys.writeAll(fd, Array("\(maxevents)\n".utf8)) { throw DaemonError.posix("inotify_init: write", path) }
        }
        if Handlers.inotifyFD >= 0 {
            close(Handlers.inotifyFD)
            Handlers.inotifyFD = -1
        }
        let fd = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
        if fd < 0 { throw DaemonError.posix("inotify_init") }
        Handlers.inotifyFD = fd
    }

    func inotifyAddWatch(_ ctx: CallContext, path: String, mask: Int32) throws -> Int64 {
        let fd = try inotifyHandle("inotify_add_watch")
        let host = try ctx.sysroot.hostPath(path, op: "inotify_add_watch")
        let wd = inotify_add_watch(fd, host, UInt32(bitPattern: mask))
        if wd < 0 { throw DaemonError.posix("inotify_add_watch", path) }
        return Int64(wd)
    }

    func inotifyRmWatch(_ ctx: CallContext, wd: Int32) throws {
        let fd = try inotifyHandle("inotify_rm_watch")
        if inotify_rm_watch(fd, wd) != 0 {
            throw DaemonError.posix("inotify_rm_watch", "watch \(wd)")
        }
    }

    /// Size of one read from the inotify descriptor.
    private static let inotifyBuffer = 64 * 1024
    /// Stop collecting events in one reply after about this many bytes.
    private static let inotifyReplyLimit = 1 << 20

    func inotifyRead(_ ctx: CallContext) throws -> [INotifyEvent] {
        let fd = try inotifyHandle("inotify_read")
        var events: [INotifyEvent] = []
        var replyBytes = 0
        var buf = [UInt8](repeating: 0, count: Handlers.inotifyBuffer)
        // struct inotify_event: int wd; uint32 mask, cookie, len; char name[len].
        let header = 16
        while replyBytes < Handlers.inotifyReplyLimit {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                throw DaemonError.posix("inotify_read")
            }
            if n == 0 { break }
            var off = 0
            while off + header <= n {
                func word(_ at: Int) -> UInt32 {
                    buf.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: off + at, as: UInt32.self) }
                }
                let wd = Int32(bitPattern: word(0)), mask = word(4), cookie = word(8), len = Int(word(12))
                guard off + header + len <= n else {
                    throw DaemonError(EIO, "inotify_read: truncated event from the kernel")
                }
                let nameBytes = buf[(off + header)..<(off + header + len)]
                let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                events.append(INotifyEvent(inWd: Int64(wd), inMask: mask, inCookie: cookie, inName: name))
                replyBytes += 24 + name.utf8.count
                off += header + len
            }
        }
        return events
    }

    func inotifyFiles(_ ctx: CallContext) throws -> [String] {
        var names = Set<String>()
        while true {
            let events = try inotifyRead(ctx)
            if events.isEmpty { break }
            for e in events where !e.inName.isEmpty { names.insert(e.inName) }
        }
        return names.sorted()
    }

    func inotifyClose(_ ctx: CallContext) throws {
        let fd = try inotifyHandle("inotify_close")
        Handlers.inotifyFD = -1
        if close(fd) != 0 { throw DaemonError.posix("inotify_close") }
    }
}
