// The byte stream to the library: a virtio-serial port in the appliance,
// or a unix socket / any fd for testing. Buffered reads, complete writes.

import Glibc
import GuestfsProtocol
import XDR

public final class Channel: FrameSource {
    public let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    public init(fd: Int32) {
        self.fd = fd
    }

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

    private var available: Int { buffer.count - start }

    private func fill() throws {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        var tmp = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = tmp.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
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
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            buffer.append(contentsOf: tmp[0..<n])
            return
        }
    }

    public func readExactly(_ count: Int) throws -> [UInt8] {
        while available < count { try fill() }
        let out = Array(buffer[start..<start + count])
        start += count
        return out
    }

    public func write(_ bytes: [UInt8]) throws {
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
        var d = XDRDecoder(Array(buffer[start..<start + 4]))
        guard let w = try? d.decodeUInt32(), w == GuestfsWire.cancelFlag else { return false }
        start += 4
        return true
    }

    public func close() {
        _ = Glibc.close(fd)
    }
}
