import XCTest
import Foundation
import Glibc
import GuestfsProtocol
import XDR
@testable import GuestfsDaemonCore

/// FileIn/FileOut streams through a Daemon on a socketpair: data comes
/// through intact at odd offsets and sizes (the upload writer mixes
/// O_DIRECT and page-cache writes), and the last progress message says
/// 100% before the stream ends.
final class TransferTests: XCTestCase {
    var fds: [Int32] = [-1, -1]
    var daemon: Daemon!
    var peer: Channel!
    var serial: UInt32 = 0
    var temp: TempDir!

    override func setUp() {
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        temp = TempDir()
        temp.mkdir("root")
        daemon = Daemon(channel: Channel(fd: fds[0]), devices: DeviceMap(sysRoot: temp.path, rootDevice: nil),
                        sysroot: Sysroot(path: temp.path + "/root"))
        peer = Channel(fd: fds[1])
        // One progress message at the first batch, then none until the
        // end: only the final 100% message may follow.
        setenv("GUESTFSD_PROGRESS_DELAYS", "0,1000", 1)
    }

    override func tearDown() {
        unsetenv("GUESTFSD_PROGRESS_DELAYS")
        close(fds[0]); close(fds[1])
    }

    /// What the library side saw during one call.
    final class Seen: @unchecked Sendable {
        var reply: ParsedMessage?
        var data: [UInt8] = []
        /// Progress messages in arrival order.
        var progress: [ProgressMessage] = []
        /// How many progress messages came before the end of the FileOut stream.
        var progressBeforeEnd = 0
        var ended = false
        /// Frames that came after the end of the FileOut stream.
        var afterEnd = 0
        var failure: Error?
    }

    /// Runs one call: `upload` (if any) is sent as chunks from another
    /// thread while the daemon handles the call; frames are collected on
    /// a third thread up to the reply (FileIn) or the end of the stream.
    func run(_ proc: UInt32, _ args: [UInt8], upload: [UInt8]? = nil, fileOut: Bool = false) throws -> Seen {
        serial += 1
        var e = XDREncoder()
        MessageHeader(procedure: proc, direction: .call, serial: serial,
                      progressHint: UInt64(upload?.count ?? 0)).encode(to: &e)
        e.append(raw: args)
        let body = e.bytes
        let writer = DispatchGroup()
        if let upload {
            let fd = fds[1]
            DispatchQueue.global().async(group: writer) {
                var off = 0
                // Odd chunk sizes, so nothing lines up with 4096 by accident.
                var size = 1000
                while off < upload.count {
                    let n = min(size, upload.count - off, GuestfsWire.maxChunkSize)
                    _ = Sys.writeAll(fd, Framing.chunk(Array(upload[off..<off + n])))
                    off += n
                    size = size == GuestfsWire.maxChunkSize ? 1000 : min(GuestfsWire.maxChunkSize, size * 3)
                }
                _ = Sys.writeAll(fd, Framing.chunk([]))
            }
        }
        let seen = Seen()
        let reader = DispatchGroup()
        let peer = self.peer!
        DispatchQueue.global().async(group: reader) {
            var src = peer
            do {
                while true {
                    switch try Framing.readFrame(from: &src) {
                    case let .progress(p):
                        seen.progress.append(p)
                    case let .message(b):
                        if seen.reply == nil {
                            let m = try ParsedMessage(body: b)
                            seen.reply = m
                            if !fileOut || m.header.status == .error { return }
                        } else {
                            var d = XDRDecoder(b)
                            let c = try Chunk(from: &d)
                            if c.cancel || c.data.isEmpty {
                                seen.ended = true
                                seen.progressBeforeEnd = seen.progress.count
                                return
                            }
                            seen.data += c.data
                        }
                    case .launch, .cancel:
                        break
                    }
                }
            } catch { seen.failure = error }
        }
        daemon.handle(body: body)
        writer.wait()
        XCTAssertEqual(reader.wait(timeout: .now() + 30), .success)
        if let failure = seen.failure { throw failure }
        // The call is over: anything still on the wire came too late.
        var src = peer
        while peer.hasInput {
            _ = try Framing.readFrame(from: &src)
            seen.afterEnd += 1
        }
        return seen
    }

    func pattern(_ n: Int, seed: UInt32) -> [UInt8] {
        var x = seed | 1
        return (0..<n).map { _ in x = x &* 1664525 &+ 1013904223; return UInt8(truncatingIfNeeded: x >> 24) }
    }

    func contents(_ rel: String) -> [UInt8] {
        (try? Array(Data(contentsOf: URL(fileURLWithPath: temp.path + "/root/" + rel)))) ?? []
    }

    func args(_ path: String, _ more: Int64...) -> [UInt8] {
        var e = XDREncoder()
        e.encode(path)
        for m in more { e.encode(m) }
        return e.bytes
    }

    func testUploadReportsFullProgressBeforeReply() throws {
        let data = pattern(3 << 20 | 4321, seed: 7)
        let seen = try run(Procedure.upload.rawValue, args("/up"), upload: data)
        XCTAssertEqual(seen.reply?.header.status, .ok)
        XCTAssertEqual(contents("up"), data)
        XCTAssertEqual(seen.progress.count, 2)
        XCTAssertEqual(seen.progress.last?.position, UInt64(data.count))
        XCTAssertEqual(seen.progress.last?.total, UInt64(data.count))
        XCTAssertEqual(seen.progress.filter { $0.position == $0.total }.count, 1)
        XCTAssertEqual(seen.afterEnd, 0)
    }

    func testDownloadReportsFullProgressBeforeTheStreamEnds() throws {
        let data = pattern(3 << 20 | 999, seed: 3)
        _ = FileManager.default.createFile(atPath: temp.path + "/root/down", contents: Data(data))
        let seen = try run(Procedure.download.rawValue, args("/down"), fileOut: true)
        XCTAssertEqual(seen.reply?.header.status, .ok)
        XCTAssertTrue(seen.ended)
        XCTAssertEqual(seen.data, data)
        XCTAssertEqual(seen.progressBeforeEnd, 2)
        // Nothing may follow the end of the stream: the library stops reading there.
        XCTAssertEqual(seen.progressBeforeEnd, seen.progress.count)
        XCTAssertEqual(seen.afterEnd, 0)
        XCTAssertEqual(seen.progress.last?.position, UInt64(data.count))
        XCTAssertEqual(seen.progress.last?.total, UInt64(data.count))
    }

    func testUploadOffsetAtUnalignedOffsets() throws {
        let base = pattern(20000, seed: 11)
        _ = FileManager.default.createFile(atPath: temp.path + "/root/f", contents: Data(base))
        // Inside the file, unaligned start, longer than the staging buffer.
        let a = pattern((1 << 20) + 5000, seed: 13)
        XCTAssertEqual(try run(Procedure.uploadOffset.rawValue, args("/f", 4099), upload: a).reply?.header.status, .ok)
        var want = Array(base[0..<4099]) + a
        XCTAssertEqual(contents("f"), want)
        // Aligned start, short unaligned tail, past the end (leaves a hole).
        let b = pattern(3000, seed: 17)
        let at = want.count + 10000
        let off = (at + 4095) / 4096 * 4096
        XCTAssertEqual(try run(Procedure.uploadOffset.rawValue, args("/f", Int64(off)), upload: b).reply?.header.status, .ok)
        want += [UInt8](repeating: 0, count: off - want.count) + b
        XCTAssertEqual(contents("f"), want)
        // Less than one block at an odd offset.
        let c = pattern(10, seed: 19)
        XCTAssertEqual(try run(Procedure.uploadOffset.rawValue, args("/f", 1), upload: c).reply?.header.status, .ok)
        want.replaceSubrange(1..<11, with: c)
        XCTAssertEqual(contents("f"), want)
        // An empty upload truncates.
        XCTAssertEqual(try run(Procedure.upload.rawValue, args("/f"), upload: []).reply?.header.status, .ok)
        XCTAssertEqual(contents("f"), [])
    }

    func testDownloadOffsetAtUnalignedOffsets() throws {
        let data = pattern((2 << 20) + 777, seed: 23)
        _ = FileManager.default.createFile(atPath: temp.path + "/root/d", contents: Data(data))
        for (off, size) in [(0, data.count), (1, 5000), (4096, (1 << 20) + 1), (12345, data.count - 12345), (data.count - 3, 100), (0, 0)] {
            let seen = try run(Procedure.downloadOffset.rawValue, args("/d", Int64(off), Int64(size)), fileOut: true)
            XCTAssertEqual(seen.reply?.header.status, .ok)
            XCTAssertEqual(seen.data, Array(data[off..<min(data.count, off + size)]), "offset \(off) size \(size)")
        }
    }
}
