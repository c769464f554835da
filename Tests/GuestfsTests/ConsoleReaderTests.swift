import XCTest
@testable import Guestfs

/// The console reader must stay bounded whatever qemu's serial port sends:
/// a guest that floods it (or never sends a newline) must not stop launch
/// from checking its deadline or grow memory without limit.
final class ConsoleReaderTests: XCTestCase {
    /// Shared between the test and its writer thread, behind a lock.
    final class WriterFlags: @unchecked Sendable {
        private let lock = NSLock()
        private var stopValue = false, doneValue = false
        var stop: Bool {
            get { lock.withLock { stopValue } }
            set { lock.withLock { stopValue = newValue } }
        }
        var done: Bool {
            get { lock.withLock { doneValue } }
            set { lock.withLock { doneValue = newValue } }
        }
    }

    func testDrainReturnsWhileTheWriterKeepsWriting() throws {
        var sv: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sv), 0)
        defer { close(sv[0]); close(sv[1]) }
        let writerFD = sv[1]
        // A writer that never stops and never sends a newline.
        let flags = WriterFlags()
        let writer = Thread {
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 65536)
            // send(MSG_NOSIGNAL): the reader closing must not SIGPIPE the test process.
            while !flags.stop {
                let n = chunk.withUnsafeBytes { send(writerFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 { break }
            }
            flags.done = true
        }
        writer.start()
        let reader = ConsoleReader(fd: sv[0])
        var lines = 0
        reader.onLine = { line in
            lines += 1
            XCTAssertLessThanOrEqual(line.utf8.count, ConsoleReader.maxLineBytes)
        }
        // Wait until the writer has filled the socket, then drain.
        var p = pollfd(fd: sv[0], events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&p, 1, 10_000), 1)
        usleep(100_000)
        let start = Date()
        for _ in 0..<4 { reader.drain() }
        flags.stop = true
        // Unblock a writer stuck in write() on a full socket.
        shutdown(sv[0], Int32(SHUT_RDWR))
        for _ in 0..<500 where !flags.done { usleep(10_000) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "drain did not return while the console kept writing")
        XCTAssertGreaterThan(lines, 0, "long lines are cut and handed on")
        XCTAssertLessThanOrEqual(reader.tail.count, ConsoleReader.tailLines)
    }

    func testLinesAndTail() throws {
        var sv: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sv), 0)
        defer { close(sv[0]) }
        let text = (1...50).map { "line \($0)\r\n" }.joined() + "no newline"
        _ = Array(text.utf8).withUnsafeBytes { write(sv[1], $0.baseAddress, $0.count) }
        close(sv[1])
        let reader = ConsoleReader(fd: sv[0])
        var got: [String] = []
        reader.onLine = { got.append($0) }
        reader.drain()
        XCTAssertEqual(got.count, 51)
        XCTAssertEqual(got.first, "line 1")
        XCTAssertEqual(got.last, "no newline")
        XCTAssertEqual(reader.tail.count, ConsoleReader.tailLines)
        XCTAssertEqual(reader.tail.last, "no newline")
        XCTAssertFalse(reader.isOpen)
    }
}
