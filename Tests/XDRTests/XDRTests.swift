import XCTest
@testable import XDR

final class XDRPrimitiveTests: XCTestCase {
    func testIntegersAreBigEndian() {
        var e = XDREncoder()
        e.encode(Int32(-2))
        e.encode(UInt64(0x0102_0304_0506_0708))
        e.encode(true)
        XCTAssertEqual(e.bytes, [0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1])
    }

    func testStringPadding() throws {
        for s in ["", "a", "ab", "abc", "abcd", "abcde"] {
            var e = XDREncoder()
            e.encode(s)
            XCTAssertEqual(e.bytes.count % 4, 0)
            XCTAssertEqual(e.bytes.count, 4 + (s.utf8.count + 3) / 4 * 4)
            var d = XDRDecoder(e.bytes)
            XCTAssertEqual(try d.decodeString(), s)
            XCTAssertNoThrow(try d.finish())
        }
    }

    func testBadBoolRejected() {
        var d = XDRDecoder([0, 0, 0, 2])
        XCTAssertThrowsError(try d.decodeBool()) { XCTAssertEqual($0 as? XDRError, .badValue(2, what: "bool")) }
    }

    func testHugeLengthRejectedWithoutAllocating() {
        var d = XDRDecoder([0xff, 0xff, 0xff, 0xf0, 1, 2])
        XCTAssertThrowsError(try d.decodeOpaque())
        var d2 = XDRDecoder([0x00, 0x10, 0x00, 0x00])  // 1 Mi strings claimed, 0 bytes follow
        XCTAssertThrowsError(try d2.decodeStringList())
    }

    func testStringWithNULRejected() {
        var d = XDRDecoder([0, 0, 0, 3, 0x61, 0x00, 0x62, 0])
        XCTAssertThrowsError(try d.decodeString()) { XCTAssertEqual($0 as? XDRError, .badString) }
    }

    func testOptionalString() throws {
        var e = XDREncoder()
        e.encodeOptional(nil)
        e.encodeOptional("x")
        var d = XDRDecoder(e.bytes)
        XCTAssertNil(try d.decodeOptionalString())
        XCTAssertEqual(try d.decodeOptionalString(), "x")
    }

    func testTrailingBytesDetected() throws {
        var d = XDRDecoder([0, 0, 0, 1, 9])
        _ = try d.decodeUInt32()
        XCTAssertThrowsError(try d.finish())
    }
}
