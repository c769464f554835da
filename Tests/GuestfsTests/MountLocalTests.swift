import Foundation
import XCTest
import Guestfs
import CXattr  // getxattr(2), to read an xattr through the FUSE mount

/// mount_local: the guest filesystem on the host through FUSE, served by
/// mount_local_run in a thread while this one uses it with ordinary file
/// operations, then umount_local. Needs GUESTFS_TEST_APPLIANCE and /dev/fuse.
final class MountLocalTests: XCTestCase {
    func launch() throws -> Guestfs {
        _ = try TestAppliance.path()
        guard access("/dev/fuse", R_OK | W_OK) == 0 else { throw XCTSkip("/dev/fuse is not usable") }
        return try TestAppliance.launchWithExt4(try TestAppliance.handle(), size: 64 << 20)
    }

    func tempDir() throws -> String { try TestAppliance.tempDir("mount-local") }

    /// Runs mount_local_run on a thread; returns a function that waits for
    /// it and gives its error, if any.
    func serve(_ g: Guestfs) -> () -> Error? {
        /// The serving thread's outcome; the semaphore orders the write before the read.
        final class Outcome: @unchecked Sendable { var failure: Error? }
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        let t = Thread {
            do { try g.mountLocalRun() } catch { outcome.failure = error }
            done.signal()
        }
        t.start()
        return {
            if done.wait(timeout: .now() + 60) == .timedOut { return GuestfsError("mount_local_run did not return") }
            return outcome.failure
        }
    }

    func testHostFileOperations() throws {
        let g = try launch()
        defer { g.close() }
        try g.write("/hello", Array("hello world\n".utf8))
        try g.mkdir("/sub")
        try g.write("/sub/inner", Array("inner".utf8))
        try g.lnS("hello", "/link")
        try g.setxattr("user.colour", "blue", 4, "/hello")
        try g.touch("/gone")

        let mp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: mp) }
        try g.mountLocal(mp, cachetimeout: 5)
        let wait = serve(g)
        var unmounted = false
        defer { if !unmounted { try? g.umountLocal(); _ = wait() } }

        let fm = FileManager.default
        // ls
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: mp).sorted(),
                       ["gone", "hello", "link", "lost+found", "sub"])
        // cat, stat, readlink, xattrs
        XCTAssertEqual(fm.contents(atPath: mp + "/hello"), Data("hello world\n".utf8))
        XCTAssertEqual(fm.contents(atPath: mp + "/sub/inner"), Data("inner".utf8))
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: mp + "/link"), "hello")
        let attrs = try fm.attributesOfItem(atPath: mp + "/hello")
        XCTAssertEqual(attrs[.size] as? Int, 12)
        var buf = [UInt8](repeating: 0, count: 64)
        let n = getxattr(mp + "/hello", "user.colour", &buf, buf.count)
        XCTAssertEqual(n, 4)
        XCTAssertEqual(String(decoding: buf.prefix(max(0, n)), as: UTF8.self), "blue")
        // write (new file, overwrite at an offset, append), mkdir, rm, rename, chmod
        XCTAssertTrue(fm.createFile(atPath: mp + "/new", contents: Data("from the host".utf8)))
        let fh = try XCTUnwrap(FileHandle(forUpdatingAtPath: mp + "/hello"))
        try fh.seek(toOffset: 6)
        fh.write(Data("WORLD".utf8))
        try fh.seekToEnd()
        fh.write(Data("more\n".utf8))
        try fh.close()
        try fm.createDirectory(atPath: mp + "/dir/deeper", withIntermediateDirectories: true)
        try fm.removeItem(atPath: mp + "/gone")
        try fm.moveItem(atPath: mp + "/sub/inner", toPath: mp + "/dir/moved")
        XCTAssertEqual(chmod(mp + "/new", 0o600), 0)
        XCTAssertEqual(truncate(mp + "/dir/moved", 2), 0)
        XCTAssertEqual(symlink("dir/moved", mp + "/link2"), 0)
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: mp).sorted(),
                       ["dir", "hello", "link", "link2", "lost+found", "new", "sub"])
        XCTAssertEqual(fm.contents(atPath: mp + "/hello"), Data("hello WORLD\nmore\n".utf8))
        // Errors come back as errno values.
        XCTAssertNil(fm.contents(atPath: mp + "/no-such-file"))
        XCTAssertEqual(rmdir(mp + "/dir"), -1)
        XCTAssertEqual(errno, ENOTEMPTY)
        var st = stat()
        XCTAssertEqual(lstat(mp + "/nothing", &st), -1)
        XCTAssertEqual(errno, ENOENT)

        try g.umountLocal()
        unmounted = true
        XCTAssertNil(wait())

        // The guest saw every change.
        XCTAssertEqual(String(decoding: try g.readFile("/new"), as: UTF8.self), "from the host")
        XCTAssertEqual(String(decoding: try g.readFile("/hello"), as: UTF8.self), "hello WORLD\nmore\n")
        XCTAssertEqual(String(decoding: try g.readFile("/dir/moved"), as: UTF8.self), "in")
        XCTAssertTrue(try g.isDir("/dir/deeper"))
        XCTAssertFalse(try g.exists("/gone"))
        XCTAssertFalse(try g.exists("/sub/inner"))
        XCTAssertEqual(try g.readlink("/link2"), "dir/moved")
        XCTAssertEqual(try g.stat("/new").mode & 0o777, 0o600)
        // The handle can mount again after an unmount.
        try g.mountLocal(mp, readonly: true)
        let wait2 = serve(g)
        XCTAssertEqual(fm.contents(atPath: mp + "/new"), Data("from the host".utf8))
        XCTAssertFalse(fm.createFile(atPath: mp + "/x", contents: Data()))
        XCTAssertEqual(mkdir(mp + "/y", 0o755), -1)
        XCTAssertEqual(errno, EROFS)
        try g.umountLocal()
        XCTAssertNil(wait2())
        XCTAssertFalse(try g.exists("/y"))
    }

    func testErrors() throws {
        let g = try launch()
        defer { g.close() }
        XCTAssertThrowsError(try g.mountLocalRun()) { e in
            XCTAssertTrue("\(e)".contains("mount_local"), "\(e)")
        }
        XCTAssertThrowsError(try g.umountLocal()) { e in
            XCTAssertTrue("\(e)".contains("no filesystem is mounted"), "\(e)")
        }
        XCTAssertThrowsError(try g.mountLocal("/nonexistent-mount-local-dir")) { e in
            XCTAssertEqual((e as? GuestfsError)?.errno, ENOENT)
        }
        let mp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: mp) }
        try g.mountLocal(mp)
        XCTAssertThrowsError(try g.mountLocal(mp)) { e in
            XCTAssertEqual((e as? GuestfsError)?.errno, EBUSY)
        }
        // Unmount without ever running the loop, then run it: it returns at once.
        try g.umountLocal()
        let wait = serve(g)
        XCTAssertNil(wait())
    }
}
