import Foundation
import XCTest
import Guestfs

/// What the appliance-backed test cases share: the appliance named by
/// GUESTFS_TEST_APPLIANCE (skip when unset), a handle on it, a scratch disk
/// with one ext4 partition mounted at /, and per-test local directories.
enum TestAppliance {
    static func path() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["GUESTFS_TEST_APPLIANCE"] else {
            throw XCTSkip("set GUESTFS_TEST_APPLIANCE to an appliance path")
        }
        return path
    }

    /// A handle (not launched) on the test appliance.
    static func handle() throws -> Guestfs {
        let g = try Guestfs()
        try g.setPath(try path())
        return g
    }

    /// Launches `g` with a scratch disk of `size` bytes holding one ext4
    /// partition, mounted at /.
    @discardableResult
    static func launchWithExt4(_ g: Guestfs, size: Int64) throws -> Guestfs {
        try g.addDriveScratch(size)
        try g.launch()
        try g.partDisk("/dev/sda", "mbr")
        try g.mkfs("ext4", "/dev/sda1")
        try g.mount("/dev/sda1", "/")
        return g
    }

    /// A fresh local directory whose name starts with `prefix`.
    static func tempDir(_ prefix: String) throws -> String {
        let d = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}
