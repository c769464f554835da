// The byte stream to the library: a virtio-serial port in the appliance,
// or a unix socket / any fd for testing. Buffered reads, complete writes.

import Glibc
import GuestfsProtocol
import XDR

public final class Channel: FrameSource {
    public let fd: Int32
    /// Receive buffer (manually allocated so FileIn segments can point
    /// into it); unread bytes are buffer[start..<end].
    private var buffer = UnsafeMutableRawPointer.allocate(byteCount: 0, alignment: 16)
    private var capacity = 0
    private var start = 0
    private var end = 0

    public init(fd: Int32) {
        self.fd = fd
    }

    /// Counters for verbose transfer logs: read(2) calls, bytes they
    /// returned, and seconds spent inside them (blocked or copying).
    public struct Stats { public var reads = 0, bytes = 0, seconds = 0.0 }
    public var stats = Stats()
    /// Whether fill() times its reads (verbose mode only: clock reads are not free under TCG).
    public var timing = false

    /// Opens a character device, or connects to a unix socket, at `path`.
    public static func open(path: String) throws -> Channel {
        var st = stat()
        if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK {
            let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            if s < 0 { throw DaemonError.posix("socket", path) }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let cap = MemoryLayout.size(ofValue: addr.sun_path)
            guard bytes.count < cap else { Glibc.close(s); throw DaemonError(ENAMETOOLONG, "connect: \(path): path too long") }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
                raw[bytes.count] = 0
            }
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if r < 0 {
                let e = errno
                Glibc.close(s)
                throw DaemonError.posix("connect", path, errno: e)
            }
            Sys.setCloexec(s)
            return Channel(fd: s)
        }
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC | O_NOCTTY)
        if fd < 0 { throw DaemonError.posix("open", path) }
        return Channel(fd: fd)
    }

    private var available: Int { end - start }

    /// True when a frame's worth of bytes may be waiting: some are
    /// buffered here, or the descriptor is readable right now.
    public var hasInput: Bool {
        if available > 0 { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0 && (p.revents & Int16(POLLIN)) != 0
    }

    /// Bytes asked of one read(2): large, since every syscall is costly
    /// in an emulated appliance.
    static let readSize = 1 << 20

    /// Reads at least one more byte into the buffer, making room for
    /// `need` bytes from `start` first.
    private func fill(need: Int = 1) throws {
        if start == end {
            start = 0
            end = 0
        }
        // Room wanted after `end`: what `need` still lacks, and at least
        // 64 KiB so reads stay large. Compacting (moving the unread bytes
        // to the front) only when the tail is short keeps it rare.
        let room = max(need - available, 65536)
        if capacity - end < room {
            if start > 0 {
                let n = available
                if n > 0 { memmove(buffer, buffer + start, n) }
                start = 0
                end = n
            }
            let size = max(Channel.readSize, end + room)
            if capacity < size {
                let bigger = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
                if end > 0 { bigger.copyMemory(from: buffer, byteCount: end) }
                buffer.deallocate()
                buffer = bigger
                capacity = size
            }
        }
        while true {
            let e = end
            let t0 = timing ? Sys.monotonicSeconds() : 0
            let n = read(fd, buffer + e, capacity - e)
            if timing { stats.seconds += Sys.monotonicSeconds() - t0 }
            stats.reads += 1
            if n > 0 { stats.bytes += n }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&p, 1, -1)
                    continue
                }
                throw DaemonError.posix("read", "channel")
            }
            if n == 0 { throw FramingError.unexpectedEOF }
            end += n
            return
        }
    }

    public func readExactly(_ count: Int) throws -> [UInt8] {
        while available < count { try fill(need: count) }
        let out = Array(UnsafeRawBufferPointer(start: buffer + start, count: count))
        start += count
        return out
    }

    private func peekWord(at i: Int) -> UInt32 {
        UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: i, as: UInt32.self))
    }

    public enum ChunkRead: Equatable {
        /// A data chunk; its bytes were appended.
        case data
        /// The empty chunk that ends the stream.
        case end
        /// A chunk with the cancel flag set.
        case cancelled
        /// Something else (progress, stray flag): ignore it.
        case other
    }

    /// Reads the next frame of a FileIn stream, decoding a chunk in place
    /// and appending its data to `out` (no intermediate arrays).
    public func readChunk(into out: inout [UInt8], limit: Int = GuestfsWire.maxChunkSize) throws -> ChunkRead {
        while available < 4 { try fill(need: 4) }
        let word = peekWord(at: start)
        start += 4
        switch word {
        case GuestfsWire.launchFlag, GuestfsWire.cancelFlag:
            return .other
        case GuestfsWire.progressFlag:
            while available < GuestfsWire.progressMessageSize { try fill(need: GuestfsWire.progressMessageSize) }
            start += GuestfsWire.progressMessageSize
            return .other
        default:
            break
        }
        if word > UInt32(GuestfsWire.messageMax) { throw FramingError.messageTooLarge(word) }
        let len = Int(word)
        while available < len { try fill(need: len) }
        defer { start += len }
        guard len >= 8 else { throw XDRError.truncated(needed: 8, remaining: len) }
        let cancel = peekWord(at: start)
        let n = peekWord(at: start + 4)
        if n > UInt32(limit) { throw XDRError.tooLong(length: n, limit: limit) }
        let count = Int(n)
        if count + 8 > len { throw XDRError.truncated(needed: count, remaining: len - 8) }
        if cancel != 0 { return .cancelled }
        if count == 0 { return .end }
        out.appendBytes(UnsafeRawBufferPointer(start: buffer + start + 8, count: count))
        return .data
    }

    /// True when fill(need:) would reuse or move bytes already consumed
    /// (so pointers handed out by receiveChunks would go stale).
    private func fillMoves(need: Int) -> Bool {
        (start == end && end > 0) || capacity - end < max(need - available, 65536)
    }

    /// FileIn fast path: reads chunks up to the end of the stream, handing
    /// their data to `sink` as runs of pointers into the receive buffer
    /// (no copy), about `batch` bytes at a time. Returns .end or
    /// .cancelled; on .cancelled, data not yet handed over is dropped.
    public func receiveChunks(batch: Int, limit: Int = GuestfsWire.maxChunkSize,
                              sink: ([UnsafeRawBufferPointer]) -> Void) throws -> ChunkRead {
        var segs: [UnsafeRawBufferPointer] = []
        segs.reserveCapacity(512)
        var bytes = 0
        func flush() {
            guard !segs.isEmpty else { return }
            sink(segs)
            segs.removeAll(keepingCapacity: true)
            bytes = 0
        }
        func ensure(_ need: Int) throws {
            while available < need {
                if !segs.isEmpty && fillMoves(need: need) { flush() }
                try fill(need: need)
            }
        }
        while true {
            try ensure(4)
            let word = peekWord(at: start)
            start += 4
            switch word {
            case GuestfsWire.launchFlag, GuestfsWire.cancelFlag:
                continue
            case GuestfsWire.progressFlag:
                try ensure(GuestfsWire.progressMessageSize)
                start += GuestfsWire.progressMessageSize
                continue
            default:
                break
            }
            if word > UInt32(GuestfsWire.messageMax) { throw FramingError.messageTooLarge(word) }
            let len = Int(word)
            try ensure(len)
            let at = start
            start += len
            guard len >= 8 else { throw XDRError.truncated(needed: 8, remaining: len) }
            let cancel = peekWord(at: at)
            let n = peekWord(at: at + 4)
            if n > UInt32(limit) { throw XDRError.tooLong(length: n, limit: limit) }
            let count = Int(n)
            if count + 8 > len { throw XDRError.truncated(needed: count, remaining: len - 8) }
            if cancel != 0 { return .cancelled }
            if count == 0 { flush(); return .end }
            segs.append(UnsafeRawBufferPointer(start: buffer + at + 8, count: count))
            bytes += count
            if bytes >= batch || segs.count >= 512 { flush() }
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        if !Sys.writeAll(fd, bytes) { throw DaemonError.posix("write", "channel") }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.isEmpty { return }
        if !Sys.writeAll(fd, bytes) { throw DaemonError.posix("write", "channel") }
    }

    /// True when the peer has sent a cancel word (checked without blocking).
    /// Other data waiting is left in the buffer.
    public func pollCancel() -> Bool {
        if available == 0 {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 0) <= 0 || (p.revents & Int16(POLLIN)) == 0 { return false }
            do { try fill() } catch { return false }
        }
        guard available >= 4 else { return false }
        guard peekWord(at: start) == GuestfsWire.cancelFlag else { return false }
        start += 4
        return true
    }

    public func close() {
        _ = Glibc.close(fd)
    }

    deinit {
        buffer.deallocate()
    }
}

extension Array where Element == UInt8 {
    /// Appends raw bytes with one memcpy (a raw buffer is not contiguous
    /// storage of UInt8 as far as append(contentsOf:) knows).
    @inline(__always)
    mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
        append(contentsOf: UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
    }
}
