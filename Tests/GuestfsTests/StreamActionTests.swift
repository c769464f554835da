import Foundation
import XCTest
import Guestfs
import GuestfsProtocol

/// Actions the model tests of actions.yaml cannot reach: a real systemd
/// journal (written on the host by systemd-journal-remote, uploaded into the
/// guest and read back), copy_in/copy_out with local trees, and the
/// Sleuth Kit walks and inode downloads, including a deleted file. Needs
/// GUESTFS_TEST_APPLIANCE.
final class StreamActionTests: XCTestCase {
    var dir = ""
    var g: Guestfs!

    override func setUpWithError() throws {
        g = try TestAppliance.handle()
        dir = try TestAppliance.tempDir("guestfs-streams")
        try TestAppliance.launchWithExt4(g, size: 256 << 20)
    }

    override func tearDown() {
        g?.close()
        g = nil
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// Runs a local program; fails the test when it does not exit 0.
    @discardableResult
    func run(_ argv: [String], stdin: String? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let out = Pipe(), inp = Pipe()
        p.standardOutput = out
        if stdin != nil { p.standardInput = inp }
        try p.run()
        if let stdin {
            inp.fileHandleForWriting.write(Data(stdin.utf8))
            try inp.fileHandleForWriting.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "\(argv) failed")
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: journal

    func testJournal() throws {
        let remote = "/lib/systemd/systemd-journal-remote"
        guard FileManager.default.isExecutableFile(atPath: remote) else {
            throw XCTSkip("systemd-journal-remote is not installed")
        }
        // Two entries in journal export format; the second has a binary field
        // (export format: name, newline, 64-bit little-endian size, bytes).
        var export = Data("""
            __REALTIME_TIMESTAMP=1700000000000000
            __MONOTONIC_TIMESTAMP=1000
            _BOOT_ID=0123456789abcdef0123456789abcdef
            MESSAGE=hello from the test
            PRIORITY=6
            SYSLOG_IDENTIFIER=streams


            """.utf8)
        export.append(Data("""
            __REALTIME_TIMESTAMP=1700000001000000
            __MONOTONIC_TIMESTAMP=2000
            _BOOT_ID=0123456789abcdef0123456789abcdef
            MESSAGE=second entry
            PRIORITY=3

            """.utf8))
        let blob: [UInt8] = [0x00, 0x01, 0x3d, 0xff, 0x0a]
        export.append(Data("BLOB\n".utf8))
        var size = UInt64(blob.count).littleEndian
        export.append(Data(bytes: &size, count: 8))
        export.append(Data(blob))
        export.append(Data("\n\n".utf8))
        let exportFile = "\(dir)/in.export", journal = "\(dir)/test.journal"
        try export.write(to: URL(fileURLWithPath: exportFile))
        try run([remote, "--output=\(journal)", exportFile])

        try g.mkdirP("/var/log/journal/0123456789abcdef0123456789abcdef")
        try g.upload(journal, "/var/log/journal/0123456789abcdef0123456789abcdef/system.journal")

        try g.journalOpen("/var/log/journal")
        XCTAssertTrue(try g.journalNext())
        XCTAssertEqual(try g.journalGetRealtimeUsec(), 1_700_000_000_000_000)
        var fields = try g.journalGet()
        func value(_ name: String) -> String? {
            fields.first { $0.attrname == name }.map { String(decoding: $0.attrval, as: UTF8.self) }
        }
        XCTAssertEqual(value("MESSAGE"), "hello from the test")
        XCTAssertEqual(value("PRIORITY"), "6")
        XCTAssertEqual(value("SYSLOG_IDENTIFIER"), "streams")
        XCTAssertEqual(value("_BOOT_ID"), "0123456789abcdef0123456789abcdef")

        XCTAssertTrue(try g.journalNext())
        XCTAssertEqual(try g.journalGetRealtimeUsec(), 1_700_000_001_000_000)
        fields = try g.journalGet()
        XCTAssertEqual(value("MESSAGE"), "second entry")
        XCTAssertEqual(fields.first { $0.attrname == "BLOB" }?.attrval, blob)

        // The threshold shortens long fields; 0 means no limit.
        XCTAssertGreaterThan(try g.journalGetDataThreshold(), 0)
        try g.journalSetDataThreshold(3)
        XCTAssertEqual(try g.journalGetDataThreshold(), 3)
        fields = try g.journalGet()
        XCTAssertEqual(fields.first { $0.attrname == "MESSAGE" }?.attrval.count, 3, "\(fields)")
        try g.journalSetDataThreshold(0)
        fields = try g.journalGet()
        XCTAssertEqual(value("MESSAGE"), "second entry")

        XCTAssertFalse(try g.journalNext())
        XCTAssertThrowsError(try g.journalSetDataThreshold(-1))
        try g.journalClose()
        XCTAssertThrowsError(try g.journalNext())

        // skip counts the entries it moved over.
        try g.journalOpen("/var/log/journal")
        XCTAssertEqual(try g.journalSkip(1), 1)
        XCTAssertEqual(try g.journalSkip(5), 1)
        try g.journalClose()

        // An open journal does not keep the filesystem from unmounting.
        try g.journalOpen("/var/log/journal")
        XCTAssertTrue(try g.journalNext())
        try g.umountAll()
        XCTAssertThrowsError(try g.journalNext())
    }

    // MARK: copy_in, copy_out

    func testCopyInOut() throws {
        let src = "\(dir)/tree"
        try FileManager.default.createDirectory(atPath: "\(src)/sub/deeper", withIntermediateDirectories: true)
        try Data("one\n".utf8).write(to: URL(fileURLWithPath: "\(src)/a.txt"))
        try Data((0..<70000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: "\(src)/sub/bin"))
        try FileManager.default.createSymbolicLink(atPath: "\(src)/link", withDestinationPath: "a.txt")
        chmod("\(src)/a.txt", 0o640)
        try Data("single\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/single.txt"))

        try g.mkdir("/in")
        try g.copyIn(src, "/in")
        try g.copyIn("\(dir)/single.txt", "/in")
        XCTAssertEqual(try g.ls("/in"), ["single.txt", "tree"])
        XCTAssertEqual(try g.ls("/in/tree"), ["a.txt", "link", "sub"])
        XCTAssertEqual(try g.cat("/in/tree/a.txt"), "one\n")
        XCTAssertEqual(try g.readlink("/in/tree/link"), "a.txt")
        XCTAssertEqual(try g.stat("/in/tree/a.txt").mode & 0o777, 0o640)
        XCTAssertEqual(try g.filesize("/in/tree/sub/bin"), 70000)
        XCTAssertTrue(try g.isDir("/in/tree/sub/deeper"))
        // A trailing slash names the same directory.
        try g.mkdir("/in2")
        try g.copyIn(src + "/", "/in2")
        XCTAssertEqual(try g.ls("/in2"), ["tree"])

        XCTAssertThrowsError(try g.copyIn("\(dir)/no-such", "/in")) { e in
            XCTAssertEqual((e as? GuestfsError)?.errno, ENOENT, "\(e)")
        }
        XCTAssertThrowsError(try g.copyIn(src, "/in/tree/a.txt")) { e in
            XCTAssertEqual((e as? GuestfsError)?.errno, ENOTDIR, "\(e)")
        }

        let out = "\(dir)/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try g.copyOut("/in/tree", out)
        try g.copyOut("/in/single.txt", out)
        try run(["/usr/bin/diff", "-r", src, "\(out)/tree"])
        XCTAssertEqual(try String(contentsOfFile: "\(out)/single.txt", encoding: .utf8), "single\n")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "\(out)/tree/link"), "a.txt")

        XCTAssertThrowsError(try g.copyOut("/no-such", out))
        XCTAssertThrowsError(try g.copyOut("/in/tree", "\(dir)/not-a-dir")) { e in
            XCTAssertEqual((e as? GuestfsError)?.errno, ENOTDIR, "\(e)")
        }
    }

    // MARK: The Sleuth Kit

    func testSleuthkit() throws {
        guard try g.featureAvailable(["libtsk", "sleuthkit"]) else { throw XCTSkip("no libtsk/sleuthkit in the appliance") }
        try g.mkdir("/dir")
        try g.write("/dir/file", Array("sleuth data\n".utf8))
        try g.ln("/dir/file", "/hardlink")
        try g.lnS("dir/file", "/symlink")
        try g.write("/deleted", Array(String(repeating: "gone but not forgotten\n", count: 100).utf8))
        let fileIno = try g.stat("/dir/file").ino
        try g.rm("/deleted")
        try g.umountAll()

        let all = try g.filesystemWalk("/dev/sda1")
        func entry(_ name: String) -> TSKDirent? { all.first { $0.tskName == name } }
        let root = try XCTUnwrap(entry("."))
        XCTAssertEqual(root.tskInode, 2)
        XCTAssertEqual(root.tskType, UInt8(ascii: "d"))
        let file = try XCTUnwrap(entry("dir/file"))
        XCTAssertEqual(Int64(file.tskInode), fileIno)
        XCTAssertEqual(file.tskType, UInt8(ascii: "r"))
        XCTAssertEqual(file.tskSize, 12)
        XCTAssertEqual(file.tskNlink, 2)
        XCTAssertEqual(file.tskFlags, 1)
        XCTAssertGreaterThan(file.tskMtimeSec, 1_600_000_000)
        let link = try XCTUnwrap(entry("symlink"))
        XCTAssertEqual(link.tskType, UInt8(ascii: "l"))
        XCTAssertEqual(link.tskLink, "dir/file")
        XCTAssertEqual(try XCTUnwrap(entry("dir")).tskType, UInt8(ascii: "d"))
        XCTAssertNil(entry("dir/."))
        XCTAssertNil(entry("dir/.."))
        // A deleted file is never reported as allocated. (Its name is often
        // gone altogether: Linux >= 5.15 wipes ext4 names on unlink.)
        if let gone = entry("deleted") { XCTAssertEqual(gone.tskFlags & 1, 0) }

        let names = try g.findInode("/dev/sda1", fileIno).map(\.tskName).sorted()
        XCTAssertEqual(names, ["dir/file", "hardlink"])
        XCTAssertEqual(try g.findInode("/dev/sda1", 999_999), [])

        let got = "\(dir)/inode"
        try g.downloadInode("/dev/sda1", fileIno, got)
        XCTAssertEqual(try String(contentsOfFile: got, encoding: .utf8), "sleuth data\n")

        // Blocks 0-1 of the filesystem: block 0 holds the superblock at byte 1024.
        try g.downloadBlocks("/dev/sda1", 0, 1, got)
        let blocks = try [UInt8](Data(contentsOf: URL(fileURLWithPath: got)))
        XCTAssertTrue(blocks.count == 2048 || blocks.count == 8192, "\(blocks.count)")
        XCTAssertEqual(blocks[1024 + 56], 0x53)   // ext magic 0xEF53, little-endian
        XCTAssertEqual(blocks[1024 + 57], 0xef)
        try g.downloadBlocks("/dev/sda1", 0, 1, got, unallocated: true)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: got)).count, 0)

        XCTAssertThrowsError(try g.filesystemWalk("/dev/sdb"))
        XCTAssertThrowsError(try g.findInode("/dev/sda1", -1))
        XCTAssertThrowsError(try g.downloadInode("/dev/sda1", -5, got))
    }

    // MARK: inotify

    func testInotifyRenameCookie() throws {
        try g.inotifyInit(0)
        try g.mkdir("/w")
        let wd = try g.inotifyAddWatch("/w", 0x40 | 0x80)   // IN_MOVED_FROM | IN_MOVED_TO
        XCTAssertEqual(try g.inotifyAddWatch("/w", 0x40 | 0x80), wd)
        try g.touch("/w/old")
        try g.mv("/w/old", "/w/new")
        let events = try g.inotifyRead()
        XCTAssertEqual(events.map(\.inName), ["old", "new"])
        XCTAssertEqual(events.map(\.inMask), [0x40, 0x80])
        XCTAssertEqual(events.map(\.inWd), [wd, wd])
        XCTAssertNotEqual(events[0].inCookie, 0)
        XCTAssertEqual(events[0].inCookie, events[1].inCookie)
        XCTAssertEqual(try g.inotifyRead(), [])
        try g.inotifyRmWatch(Int32(wd))
        try g.inotifyClose()
    }
}
