import Foundation
import GuestfsProtocol
import XDR
#if canImport(Glibc)
import Glibc
#endif

/// A stand-in daemon on a unix socket, for protocol tests without an
/// appliance: sends the launch flag, then answers calls by procedure.
final class FakeDaemon {
    let socketPath: String
    private let listenFD: Int32
    private var thread: Thread?
    var uploaded: [UInt8] = []
    var downloadData: [UInt8] = Array(repeating: 0x41, count: 20000)
    var calls: [UInt32] = []
    let done = DispatchSemaphore(value: 0)

    init() throws {
        socketPath = NSTemporaryDirectory() + "fake-guestfsd-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        unlink(socketPath)
        listenFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
            p[bytes.count] = 0
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0, listen(listenFD, 1) == 0 else { throw NSError(domain: "FakeDaemon", code: Int(errno)) }
        let t = Thread { [unowned self] in self.serve() }
        thread = t
        t.start()
    }

    deinit {
        close(listenFD)
        unlink(socketPath)
    }

    private func writeAll(_ fd: Int32, _ b: [UInt8]) {
        var off = 0
        while off < b.count {
            let n = b.withUnsafeBytes { send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    private func readExactly(_ fd: Int32, _ n: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var off = 0
        while off < n {
            let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + off, n - off, 0) }
            if r <= 0 { return nil }
            off += r
        }
        return out
    }

    private func readBody(_ fd: Int32) -> [UInt8]? {
        guard let w = readExactly(fd, 4) else { return nil }
        var d = XDRDecoder(w)
        guard let len = try? d.decodeUInt32() else { return nil }
        return readExactly(fd, Int(len))
    }

    private func reply<P: XDREncodable>(_ fd: Int32, _ h: MessageHeader, _ p: P?) {
        let rh = MessageHeader(procedure: h.procedure, direction: .reply, serial: h.serial)
        writeAll(fd, Framing.message(header: rh, payload: p))
    }

    private func replyEmpty(_ fd: Int32, _ h: MessageHeader) {
        writeAll(fd, Framing.message(header: MessageHeader(procedure: h.procedure, direction: .reply, serial: h.serial)))
    }

    private func serve() {
        let fd = accept(listenFD, nil, nil)
        guard fd >= 0 else { done.signal(); return }
        defer { close(fd); done.signal() }
        writeAll(fd, Framing.word(GuestfsWire.launchFlag))
        while let body = readBody(fd) {
            guard let msg = try? ParsedMessage(body: body) else { return }
            var payload = msg.payload
            let h = msg.header
            calls.append(h.procedure)
            switch Procedure(rawValue: h.procedure) {
            case .exists?:
                reply(fd, h, ExistsRet(value: true))
            case .mkdir?:
                writeAll(fd, Framing.errorReply(procedure: h.procedure, serial: h.serial, errno: "ENOENT",
                                                message: "/a/b: No such file or directory"))
            case .sync?:
                for i in 0..<3 {
                    writeAll(fd, Framing.progress(ProgressMessage(procedure: h.procedure, serial: h.serial, position: UInt64(i), total: 2)))
                }
                replyEmpty(fd, h)
            case .download?:
                replyEmpty(fd, h)
                var off = 0
                while off < downloadData.count {
                    let end = min(off + GuestfsWire.maxChunkSize, downloadData.count)
                    writeAll(fd, Framing.chunk(Array(downloadData[off..<end])))
                    off = end
                }
                writeAll(fd, Framing.chunk([]))
            case .upload?:
                while let cb = readBody(fd) {
                    var d = XDRDecoder(cb)
                    guard let c = try? Chunk(from: &d) else { return }
                    if c.cancel || c.data.isEmpty { break }
                    uploaded += c.data
                }
                replyEmpty(fd, h)
            case .ll?:
                // Simulate the appliance dying.
                return
            case .statns?:
                _ = try? payload.decodeString()
                reply(fd, h, StatnsRet(value: StatNS(stDev: 1, stIno: 2, stMode: 0o100644, stNlink: 1, stUid: 0, stGid: 0, stRdev: 0, stSize: 5,
                                                     stBlksize: 4096, stBlocks: 8, stAtimeSec: 10, stAtimeNsec: 1, stMtimeSec: 11,
                                                     stMtimeNsec: 2, stCtimeSec: 12, stCtimeNsec: 3, stSpare1: 0, stSpare2: 0,
                                                     stSpare3: 0, stSpare4: 0, stSpare5: 0, stSpare6: 0)))
            case .internalExit?:
                replyEmpty(fd, h)
                return
            default:
                replyEmpty(fd, h)
            }
        }
    }
}
