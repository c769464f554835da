import Foundation
import XCTest
import Guestfs

/// Actions that need a specially configured appliance, each with its own
/// handle: a daemon that dies during an upload (internal_rhbz914931), a
/// virtio-9p share (config -virtfs, list_9p, mount_9p), rsync to and from a
/// host rsync daemon over the appliance network (rsync_in, rsync_out) and
/// SELinux turned on in the appliance kernel (getcon, setcon).
/// Needs GUESTFS_TEST_APPLIANCE.
final class ApplianceExtrasTests: XCTestCase {
    func handle() throws -> Guestfs { try TestAppliance.handle() }

    func tempDir(_ name: String) throws -> String { try TestAppliance.tempDir(name) }

    /// The daemon kills itself after 2 chunks of an endless upload: the call
    /// must fail (not hang, not crash this process), the handle must report
    /// it is no longer ready, and closing it must reap qemu.
    func testDaemonDyingDuringUpload() throws {
        let g = try handle()
        try g.addDriveScratch(16 << 20)
        try g.launch()
        let pid = try g.getPid()
        let start = Date()
        XCTAssertThrowsError(try g.internalRhbz914931("/dev/zero", 2)) { error in
            print("internal_rhbz914931 failed as expected after \(Date().timeIntervalSince(start)) s: \(error)")
            XCTAssertFalse("\(error)".isEmpty)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 120)
        XCTAssertNotEqual(try? g.isReady(), true)
        // A further call fails cleanly too.
        XCTAssertThrowsError(try g.listDevices())
        g.close()
        // qemu is gone (reaped, not a zombie of ours).
        XCTAssertEqual(kill(pid, 0), -1)
        XCTAssertEqual(errno, ESRCH)
    }

    /// A host directory shared with config -virtfs shows up in list_9p, and
    /// mount_9p makes its files readable and writable in the guest tree.
    func testNinePShare() throws {
        for layout in ["microvm", "pc"] {
            let share = try tempDir("ninep")
            defer { try? FileManager.default.removeItem(atPath: share) }
            try "from the host\n".write(toFile: share + "/hostfile", atomically: true, encoding: .utf8)
            let g = try handle()
            defer { g.close() }
            if layout == "pc" { try g.setBackendSetting("layout", "pc") }
            try g.addDriveScratch(64 << 20)
            try g.config("-virtfs", "local,path=\(share),mount_tag=hostshare,security_model=none")
            try g.launch()
            XCTAssertEqual(try g.list9p(), ["hostshare"], layout)
            try g.partDisk("/dev/sda", "mbr")
            try g.mkfs("ext4", "/dev/sda1")
            try g.mount("/dev/sda1", "/")
            try g.mkdir("/mnt")
            try g.mount9p("hostshare", "/mnt")
            XCTAssertEqual(try g.cat("/mnt/hostfile"), "from the host\n", layout)
            try g.write("/mnt/guestfile", Array("from the guest".utf8))
            try g.umount("/mnt")
            XCTAssertEqual(try String(contentsOfFile: share + "/guestfile", encoding: .utf8), "from the guest", layout)
            XCTAssertThrowsError(try g.mount9p("othertag", "/mnt"), layout)
        }
    }

    /// rsync_in and rsync_out against an rsync daemon on the host's
    /// loopback, which qemu's user network shows the appliance as 169.254.2.2.
    func testRsyncInOutOverNetwork() throws {
        guard let rsync = ["/usr/bin/rsync", "/bin/rsync"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("rsync is not installed on the host")
        }
        let base = try tempDir("rsyncd")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let data = base + "/data"
        try FileManager.default.createDirectory(atPath: data + "/in/sub", withIntermediateDirectories: true)
        try "one\n".write(toFile: data + "/in/one", atomically: true, encoding: .utf8)
        try "two\n".write(toFile: data + "/in/sub/two", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: data + "/out", withIntermediateDirectories: true)
        let port = 20000 + Int(getpid() % 20000)
        let conf = """
        pid file = \(base)/rsyncd.pid
        use chroot = no
        [m]
            path = \(data)
            read only = no
            uid = \(getuid())
            gid = \(getgid())

        """
        try conf.write(toFile: base + "/rsyncd.conf", atomically: true, encoding: .utf8)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: rsync)
        daemon.arguments = ["--daemon", "--no-detach", "--address=127.0.0.1", "--port=\(port)", "--config=\(base)/rsyncd.conf"]
        try daemon.run()
        defer { daemon.terminate(); daemon.waitUntilExit() }

        let g = try handle()
        defer { g.close() }
        try g.setNetwork(true)
        try TestAppliance.launchWithExt4(g, size: 64 << 20)
        let remote = "rsync://169.254.2.2:\(port)/m"
        try g.rsyncIn(remote + "/in/", "/copy", archive: true)
        XCTAssertEqual(try g.cat("/copy/sub/two"), "two\n")
        XCTAssertEqual(try g.cat("/copy/one"), "one\n")
        try g.mkdir("/export")
        try g.write("/export/new", Array("made in the guest".utf8))
        try g.rsyncOut("/export/", remote + "/out", archive: true)
        XCTAssertEqual(try String(contentsOfFile: data + "/out/new", encoding: .utf8), "made in the guest")
        // deletedest removes what the source does not have.
        try g.rm("/copy/one")
        try g.rsyncOut("/copy/", remote + "/in", archive: true, deletedest: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/in/one"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: data + "/in/sub/two"))
        XCTAssertThrowsError(try g.rsyncIn(remote + "/nothere/", "/copy"))
    }

    /// set_selinux: SELinux is the appliance kernel's security module, with
    /// no policy loaded, so the daemon runs in the "kernel" context, and the
    /// kernel takes any context setcon gives it (nothing to check against).
    func testSELinuxContext() throws {
        let g = try handle()
        defer { g.close() }
        try g.setSelinux(true)
        try g.addDriveScratch(16 << 20)
        try g.launch()
        XCTAssertEqual(try g.getcon(), "kernel")
        try g.setcon("system_u:system_r:unconfined_t:s0")
        XCTAssertEqual(try g.getcon(), "system_u:system_r:unconfined_t:s0")
        XCTAssertThrowsError(try g.setcon(""))
        XCTAssertEqual(try g.getcon(), "system_u:system_r:unconfined_t:s0")
    }
}
