import XCTest
@testable import GuestfsDaemonCore

/// The JSON reader used for ldmtool's output.
final class LDMJSONTests: XCTestCase {
    func testLdmtoolShapes() throws {
        XCTAssertEqual(try JSONValue.parse("[]\n"), .array([]))
        XCTAssertEqual(try JSONValue.parse(" [ \"06d6bd1a-8e35-11e2-9b31-525400ed6a53\" ]").strings,
                       ["06d6bd1a-8e35-11e2-9b31-525400ed6a53"])
        let dg = try JSONValue.parse("""
            {
              "name" : "WIN-DG0",
              "guid" : "06d6bd1a-8e35-11e2-9b31-525400ed6a53",
              "volumes" : [ "Volume1", "Volume2" ],
              "disks" : [ "Disk1" ],
              "sequence" : 12,
              "hint" : null,
              "ok" : true
            }
            """)
        XCTAssertEqual(dg["name"]?.string, "WIN-DG0")
        XCTAssertEqual(dg["volumes"]?.strings, ["Volume1", "Volume2"])
        XCTAssertEqual(dg["disks"]?.strings, ["Disk1"])
        XCTAssertEqual(dg["sequence"], .number(12))
        XCTAssertEqual(dg["hint"], .null)
        XCTAssertNil(dg["missing"])
        XCTAssertEqual(try JSONValue.parse(#""E:\\ \"x\" \u00e9""#).string, "E:\\ \"x\" é")
    }

    func testMalformed() {
        for bad in ["", "[", "[1,]", "{\"a\" 1}", "[] x", "\"open", "tru"] {
            XCTAssertThrowsError(try JSONValue.parse(bad), bad)
        }
    }
}
