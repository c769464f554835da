import XCTest
import Foundation
import Glibc
@testable import Guestfs

/// Progress events of upload and download in a real appliance: the last
/// one says position == total and arrives before the call returns (a
/// progress bar that stops short of 100% is what users notice).
/// Runs only when GUESTFS_TEST_APPLIANCE names an appliance path.
final class TransferProgressTests: XCTestCase {
    func testUploadAndDownloadEndAtFullProgress() throws {
        guard let path = ProcessInfo.processInfo.environment["GUESTFS_TEST_APPLIANCE"] else {
            throw XCTSkip("set GUESTFS_TEST_APPLIANCE to an appliance path")
        }
        let g = try Guestfs(environment: false)
        defer { g.close() }
        try g.setPath(path)
        try g.addDriveScratch(64 << 20)
        try g.launch()
        try g.mkfs("ext4", "/dev/sda")
        try g.mount("/dev/sda", "/")
        // One message at the first megabyte, then none until the end, so
        // the 100% message is the only one that can close the bar.
        _ = try g.debug("setenv", ["GUESTFSD_PROGRESS_DELAYS", "0,1000"])

        var events: [[UInt64]] = []
        var callReturned = false
        _ = g.setEventCallback(events: .progress) { _, _, _, a in
            XCTAssertFalse(callReturned, "progress event after the call returned")
            events.append(a)
        }
        let size = (5 << 20) + 1234
        let dir = NSTemporaryDirectory() + "progress-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        _ = FileManager.default.createFile(atPath: dir + "/in", contents: data)

        try g.upload(dir + "/in", "/f")
        callReturned = true
        XCTAssertGreaterThanOrEqual(events.count, 2, "upload: \(events)")
        XCTAssertEqual(events.last?[2], UInt64(size), "upload: \(events)")
        XCTAssertEqual(events.last?[3], UInt64(size), "upload: \(events)")

        events = []
        callReturned = false
        try g.download("/f", dir + "/out")
        callReturned = true
        XCTAssertGreaterThanOrEqual(events.count, 2, "download: \(events)")
        XCTAssertEqual(events.last?[2], UInt64(size), "download: \(events)")
        XCTAssertEqual(events.last?[3], UInt64(size), "download: \(events)")
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/out"), data)

        // The next call sees no stray progress from the transfers.
        events = []
        callReturned = false
        XCTAssertTrue(try g.isFile("/f"))
        XCTAssertEqual(events.count, 0)
        try g.shutdown()
    }
}
