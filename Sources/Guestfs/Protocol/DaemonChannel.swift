import Foundation
import GuestfsProtocol
import XDR

enum ChannelError: Error, CustomStringConvertible {
    case eof
    case timeout
    case io(Int32, String)

    var description: String {
        switch self {
        case .eof: return "connection closed"
        case .timeout: return "timed out"
        case let .io(e, what): return "\(what): \(errnoText(e))"
        }
    }
}

/// Reads the appliance console (qemu's serial port): keeps the last lines
/// for error messages and hands every complete line to `onLine`.
final class ConsoleReader {
    let fd: Int32
    private var partial: [UInt8] = []
    private(set) var tail: [String] = []
    static let tailLines = 40
    var onLine: (String) -> Void = { _ in }
    private(set) var isOpen = true

    init(fd: Int32) {
        self.fd = fd
        let fl = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, fl | O_NONBLOCK)
    }

    /// Longest line kept whole; a console that never sends a newline must
    /// not grow memory without bound.
    static let maxLineBytes = 4096
    /// Most bytes one drain reads, so a console that never stops talking
    /// cannot keep the caller from checking its deadline.
    static let maxDrainBytes = 1 << 20

    /// Reads what is available without blocking, up to `maxDrainBytes`.
    func drain() {
        guard isOpen else { return }
        var buf = [UInt8](repeating: 0, count: 16384)
        var total = 0
        while total < ConsoleReader.maxDrainBytes {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                consume(buf[0..<n])
                total += n
                continue
            }
            if n == 0 { isOpen = false; flush() }
            else if errno == EINTR { continue }
            else if errno != EAGAIN && errno != EWOULDBLOCK { isOpen = false; flush() }
            return
        }
    }

    func consume(_ bytes: ArraySlice<UInt8>) {
        for b in bytes {
            if b == UInt8(ascii: "\n") {
                emitLine()
            } else if b != UInt8(ascii: "\r") {
                partial.append(b)
                if partial.count >= ConsoleReader.maxLineBytes { emitLine() }
            }
        }
    }

    private func emitLine() {
        let line = String(decoding: partial, as: UTF8.self)
        partial.removeAll(keepingCapacity: true)
        tail.append(line)
        if tail.count > ConsoleReader.tailLines { tail.removeFirst(tail.count - ConsoleReader.tailLines) }
        onLine(line)
    }

    /// Emits a final line without a newline, if any.
    func flush() {
        if !partial.isEmpty { emitLine() }
    }

    var tailText: String { tail.joined(separator: "\n") }
}

/// The daemon connection: a stream socket carrying protocol v4 frames.
/// While it waits it also keeps draining the console so qemu never blocks
/// writing to it.
final class DaemonChannel {
    let fd: Int32
    var console: ConsoleReader?
    private var inbuf: [UInt8] = []
    private var inpos = 0

    init(fd: Int32, console: ConsoleReader?) {
        self.fd = fd
        self.console = console
    }

    func close() {
        _ = Glibc.close(fd)
    }

    /// Waits until the socket is readable (true) or the deadline passes
    /// (false); console output is consumed meanwhile.
    func waitReadable(until deadline: Double?) throws -> Bool {
        if inpos < inbuf.count { return true }
        while true {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            if let c = console, c.isOpen { fds.append(pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)) }
            var timeout: Int32 = -1
            if let deadline {
                let left = deadline - monotonicNow()
                if left <= 0 { return false }
                timeout = Int32(min(left * 1000 + 1, 1000))
            } else {
                timeout = 1000
            }
            let r = poll(&fds, nfds_t(fds.count), timeout)
            if r < 0 {
                if errno == EINTR { continue }
                throw ChannelError.io(errno, "poll")
            }
            if fds.count > 1 && fds[1].revents != 0 { console?.drain() }
            if fds[0].revents != 0 { return true }
            if let deadline, monotonicNow() >= deadline { return false }
        }
    }

    /// True if bytes (or EOF) are waiting right now.
    func hasInput() -> Bool {
        if inpos < inbuf.count { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0 && p.revents != 0
    }

    /// Receive buffer, reused; large so a file stream takes few syscalls.
    private var recvBuf = [UInt8](repeating: 0, count: 1 << 18)

    private func fill() throws {
        if inpos > 0 && inpos == inbuf.count { inbuf.removeAll(keepingCapacity: true); inpos = 0 }
        // Drop consumed bytes once they dominate (a stream rarely ends on
        // a read boundary, so the buffer would otherwise keep growing).
        if inpos > 0 && inpos >= inbuf.count / 2 { inbuf.removeFirst(inpos); inpos = 0 }
        while true {
            let n = recvBuf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { recvBuf.withUnsafeBytes { inbuf.appendBytes(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }; return }
            if n == 0 { throw ChannelError.eof }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return }
            if errno == ECONNRESET { throw ChannelError.eof }
            throw ChannelError.io(errno, "read from daemon")
        }
    }

    func readExactly(_ count: Int, until deadline: Double? = nil) throws -> [UInt8] {
        while inbuf.count - inpos < count {
            if !(try waitReadable(until: deadline)) { throw ChannelError.timeout }
            try fill()
        }
        let out = Array(inbuf[inpos..<inpos + count])
        inpos += count
        if inpos == inbuf.count { inbuf.removeAll(keepingCapacity: true); inpos = 0 }
        return out
    }

    struct Source: FrameSource {
        let ch: DaemonChannel
        let deadline: Double?
        mutating func readExactly(_ count: Int) throws -> [UInt8] { try ch.readExactly(count, until: deadline) }
    }

    func readFrame(until deadline: Double? = nil) throws -> IncomingFrame {
        var src = Source(ch: self, deadline: deadline)
        return try Framing.readFrame(from: &src)
    }

    /// Sends everything. The socket itself is blocking, so each send is
    /// made non-blocking (MSG_DONTWAIT): while the daemon is not reading
    /// (a long upload), the console keeps being drained, otherwise the
    /// guest stalls on a full serial port (each console character then
    /// waits for the 8250 driver's timeout).
    func writeAll(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)]
                if let c = console, c.isOpen { fds.append(pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)) }
                _ = poll(&fds, nfds_t(fds.count), 1000)
                if fds.count > 1 && fds[1].revents != 0 { console?.drain() }
                continue
            }
            if n < 0 && (errno == EPIPE || errno == ECONNRESET) { throw ChannelError.eof }
            throw ChannelError.io(errno, "write to daemon")
        }
    }
}

func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

extension Array where Element == UInt8 {
    /// Appends raw bytes with one memcpy (a raw buffer is not contiguous
    /// storage of UInt8 as far as append(contentsOf:) knows).
    @inline(__always)
    mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
        append(contentsOf: UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
    }
}
