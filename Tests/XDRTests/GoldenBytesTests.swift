import XCTest
import XDR
@testable import GuestfsProtocol

/// Messages worked out by hand from RFC 4506 and the protocol facts.
final class GoldenBytesTests: XCTestCase {
    private func hex(_ s: String) -> [UInt8] {
        let digits = s.filter { !$0.isWhitespace }
        var out: [UInt8] = []
        var i = digits.startIndex
        while i < digits.endIndex {
            let j = digits.index(i, offsetBy: 2)
            out.append(UInt8(digits[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    func testMountCall() {
        let header = MessageHeader(procedure: 1, direction: .call, serial: 0x1234)
        let bytes = Framing.message(header: header, payload: MountArgs(mountable: "/dev/sda1", mountpoint: "/"))
        let expected = hex("""
            00000040
            2000f5f5 00000004 00000001 00000000 00001234
            00000000 00000000  00000000 00000000  00000000
            00000009 2f646576 2f736461 31000000
            00000001 2f000000
            """)
        XCTAssertEqual(bytes, expected)
    }

    func testOptargsBitmaskAndInt64() {
        // mkfs "ext4" "/dev/sda1" blocksize:4096 (bit 0), label:"L" (bit 4)
        let header = MessageHeader(procedure: 278, direction: .call, serial: 2, optargsBitmask: 0b10001)
        let args = MkfsArgs(fstype: "ext4", device: "/dev/sda1", blocksize: 4096, label: "L")
        let bytes = Framing.message(header: header, payload: args)
        let expected = hex("""
            00000058
            2000f5f5 00000004 00000116 00000000 00000002
            00000000 00000000  00000000 00000011  00000000
            00000004 65787434
            00000009 2f646576 2f736461 31000000
            00001000 00000000 00000000 00000000
            00000001 4c000000
            """)
        XCTAssertEqual(bytes, expected)
    }

    func testErrorReply() throws {
        let bytes = Framing.errorReply(procedure: 1, serial: 7, errno: "ENOENT", message: "mount: /x: no")
        let expected = hex("""
            00000048
            2000f5f5 00000004 00000001 00000001 00000007
            00000000 00000000  00000000 00000000  00000001
            00000006 454e4f45 4e540000
            0000000d 6d6f756e 743a202f 783a206e 6f000000
            """)
        XCTAssertEqual(bytes, expected)
        var msg = try ParsedMessage(body: Array(bytes.dropFirst(4)))
        XCTAssertEqual(msg.header.status, .error)
        XCTAssertEqual(try msg.decodeError(), MessageError(errnoString: "ENOENT", message: "mount: /x: no"))
    }

    func testChunk() {
        XCTAssertEqual(Framing.chunk([1, 2, 3]), hex("0000000c 00000000 00000003 01020300"))
        XCTAssertEqual(Framing.chunk([], cancel: true), hex("00000008 00000001 00000000"))
    }

    func testProgress() {
        let p = ProgressMessage(procedure: 66, serial: 3, position: 0x1_0000_0000, total: 10)
        XCTAssertEqual(Framing.progress(p), hex("""
            ffff5555 00000042 00000003 00000001 00000000 00000000 0000000a
            """))
    }

    func testReadFrameKinds() throws {
        var src = ByteArraySource(Framing.word(GuestfsWire.launchFlag)
            + Framing.progress(ProgressMessage(procedure: 1, serial: 2, position: 3, total: 4))
            + Framing.word(GuestfsWire.cancelFlag)
            + Framing.chunk([9]))
        XCTAssertEqual(try Framing.readFrame(from: &src), .launch)
        XCTAssertEqual(try Framing.readFrame(from: &src), .progress(ProgressMessage(procedure: 1, serial: 2, position: 3, total: 4)))
        XCTAssertEqual(try Framing.readFrame(from: &src), .cancel)
        guard case let .message(body) = try Framing.readFrame(from: &src) else { return XCTFail("expected a message") }
        var d = XDRDecoder(body)
        XCTAssertEqual(try Chunk(from: &d), Chunk(data: [9]))
    }

    func testOversizedLengthRejectedBeforeAllocation() {
        var src = ByteArraySource(hex("7fffffff"))
        XCTAssertThrowsError(try Framing.readFrame(from: &src)) { error in
            XCTAssertEqual(error as? FramingError, .messageTooLarge(0x7fff_ffff))
        }
    }
}

/// An in-memory stream for framing tests.
struct ByteArraySource: FrameSource {
    var bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    mutating func readExactly(_ count: Int) throws -> [UInt8] {
        guard count <= bytes.count - offset else { throw FramingError.unexpectedEOF }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
