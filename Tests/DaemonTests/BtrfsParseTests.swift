import XCTest
import GuestfsProtocol
@testable import GuestfsDaemonCore

/// Parsers of btrfs-progs output (texts as btrfs-progs 6.2 prints them).
final class BtrfsParseTests: XCTestCase {
    func testSubvolumeShow() throws {
        let text = """
        sub1
        \tName: \t\t\tsub1
        \tUUID: \t\t\tf2e165d1-baf2-5b4f-a7a3-9075a7466a8c
        \tParent UUID: \t\t-
        \tCreation time: \t\t2026-11-22 10:49:30 +0000
        \tSubvolume ID: \t\t256
        \tFlags: \t\t\t-
        \tSnapshot(s):
        \t\t\t\td/snap
        \t\t\t\tother
        \tQuota group:\t\t0/256

        """
        let h = try Handlers.parseSubvolumeShow(text, op: "t", shown: "/sub1")
        let d = Dictionary(h, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(h.first?.0, "path")
        XCTAssertEqual(d["path"], "sub1")
        XCTAssertEqual(d["Name"], "sub1")
        XCTAssertEqual(d["Parent UUID"], "")
        XCTAssertEqual(d["Creation time"], "2026-11-22 10:49:30 +0000")
        XCTAssertEqual(d["Subvolume ID"], "256")
        XCTAssertEqual(d["Snapshot(s)"], "d/snap,other")
        XCTAssertEqual(d["Quota group"], "0/256")
    }

    func testSubvolumeShowNoSnapshots() throws {
        let h = try Handlers.parseSubvolumeShow("/\n\tName: \t<FS_TREE>\n\tSnapshot(s):\n", op: "t", shown: "/")
        XCTAssertEqual(h.map(\.0), ["path", "Name", "Snapshot(s)"])
        XCTAssertEqual(h.last?.1, "")
    }

    func testBalanceStatus() throws {
        let none = try Handlers.parseBalanceStatus("No balance found on '/sysroot'\n", op: "t", shown: "/")
        XCTAssertEqual(none.btrfsbalanceStatus, "none")
        XCTAssertEqual(none.btrfsbalanceTotal, 0)
        let running = try Handlers.parseBalanceStatus(
            "Balance on '/sysroot' is paused\n3 out of about 8 chunks balanced (4 considered),  62% left\n", op: "t", shown: "/")
        XCTAssertEqual(running.btrfsbalanceStatus, "paused")
        XCTAssertEqual(running.btrfsbalanceBalanced, 3)
        XCTAssertEqual(running.btrfsbalanceTotal, 8)
        XCTAssertEqual(running.btrfsbalanceConsidered, 4)
        XCTAssertEqual(running.btrfsbalanceLeft, 62)
        XCTAssertThrowsError(try Handlers.parseBalanceStatus("", op: "t", shown: "/"))
    }

    func testScrubStatus() {
        let text = """
        UUID:             584d883e-ad32-4471-9439-bf2fd00bcb42
        Scrub started:    Sun Nov 22 10:49:31 2026
        Status:           finished
        \tdata_extents_scrubbed: 2
        \ttree_extents_scrubbed: 26
        \tdata_bytes_scrubbed: 1048576
        \tcsum_errors: 1
        \tlast_physical: 72810496

        """
        let s = Handlers.parseScrubStatus(text)
        XCTAssertEqual(s.btrfsscrubDataExtentsScrubbed, 2)
        XCTAssertEqual(s.btrfsscrubTreeExtentsScrubbed, 26)
        XCTAssertEqual(s.btrfsscrubDataBytesScrubbed, 1048576)
        XCTAssertEqual(s.btrfsscrubCsumErrors, 1)
        XCTAssertEqual(s.btrfsscrubReadErrors, 0)
        XCTAssertEqual(s.btrfsscrubLastPhysical, 72810496)
        XCTAssertEqual(Handlers.parseScrubStatus("UUID: x\n\tno stats available\n").btrfsscrubTreeBytesScrubbed, 0)
    }

    func testErrnoFromMessage() {
        XCTAssertEqual(Handlers.btrfsErrno("ERROR: cannot access '/x': No such file or directory"), ENOENT)
        XCTAssertEqual(Handlers.btrfsErrno("ERROR: Not a Btrfs subvolume: Invalid argument"), EINVAL)
        XCTAssertEqual(Handlers.btrfsErrno("scrub: nothing to resume"), 0)
    }
}
