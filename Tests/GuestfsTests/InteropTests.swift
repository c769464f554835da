import Foundation
import Guestfs
import XCTest

/// Our library driving libguestfs's own appliance (libguestfs 1.48's
/// supermin.d, its /init script, udev and its C guestfsd), installed on the
/// host as a test peer only. Skipped when that appliance is not installed.
/// Run by `make check-interop` (Tests/interop/run.sh).
///
/// GUESTFS_INTEROP_CACHEDIR: where our library builds libguestfs's
/// supermin.d (default /var/tmp/swift-guestfs-interop, kept between runs
/// so only the first run pays for the supermin build).
final class InteropTests: XCTestCase {
    /// /usr/lib/*/guestfs/supermin.d (Debian: libguestfs0 ships it in
    /// /usr/lib/x86_64-linux-gnu/guestfs/supermin.d).
    static func libguestfsSuperminD() -> String? {
        let fm = FileManager.default
        var candidates = ["/usr/lib/guestfs/supermin.d"]
        for sub in ((try? fm.contentsOfDirectory(atPath: "/usr/lib")) ?? []).sorted() {
            candidates.append("/usr/lib/\(sub)/guestfs/supermin.d")
        }
        var isDir: ObjCBool = false
        return candidates.first { fm.fileExists(atPath: $0, isDirectory: &isDir) && isDir.boolValue }
    }

    static func sha256(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    /// Our default layout: microvm, virtio-blk (/dev/vdX in the guest; 1.48's
    /// daemon translates /dev/sdX names itself), PVH-booted vmlinux.
    func testOurLibraryOnLibguestfsAppliance() throws {
        try runOnLibguestfsAppliance(layout: nil)
    }

    /// libguestfs's own layout: pc machine, virtio-scsi disks, root=UUID=.
    func testOurLibraryOnLibguestfsAppliancePC() throws {
        try runOnLibguestfsAppliance(layout: "pc")
    }

    func runOnLibguestfsAppliance(layout: String?) throws {
        guard let superminD = InteropTests.libguestfsSuperminD() else {
            throw XCTSkip("libguestfs's appliance (/usr/lib/*/guestfs/supermin.d) is not installed")
        }
        let env = ProcessInfo.processInfo.environment
        let fm = FileManager.default
        let work = fm.temporaryDirectory.appendingPathComponent("guestfs-interop-\(getpid())").path
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: work) }
        let disk = "\(work)/disk.img"
        _ = fm.createFile(atPath: disk, contents: nil)
        XCTAssertEqual(truncate(disk, 256 << 20), 0)
        // 1 MiB + 123 bytes of non-repeating data: several protocol chunks.
        var rng = SystemRandomNumberGenerator()
        let payload = (0..<((1 << 20) + 123)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let local = "\(work)/data.bin", back = "\(work)/back.bin"
        XCTAssertTrue(fm.createFile(atPath: local, contents: Data(payload)))

        let g = try Guestfs()
        defer { g.close() }
        // The directory holding supermin.d, exactly as LIBGUESTFS_PATH would.
        try g.setPath((superminD as NSString).deletingLastPathComponent)
        try g.setCachedir(env["GUESTFS_INTEROP_CACHEDIR"] ?? "/var/tmp/swift-guestfs-interop")
        try g.setBackend("direct")
        // KVM opens on some hosts but guests hang: always TCG. libguestfs's
        // init runs udev, LVM and mdadm scans: allow a slow start.
        try g.setBackendSettings(["force_tcg", "launch_timeout=600"] + (layout.map { ["layout=\($0)"] } ?? []))
        try g.addDrive(disk, format: "raw")
        let t0 = Date()
        try g.launch()
        let launchTime = Date().timeIntervalSince(t0)

        print("interop: libguestfs appliance (layout \(layout ?? "default")) launched in \(String(format: "%.1f", launchTime)) s")
        // It really is libguestfs's appliance: its /init is a bash script
        // (ours is a symlink to our guestfsd).
        XCTAssertEqual(try g.debug("sh", ["head -n 1 /init"]).trimmingCharacters(in: .whitespacesAndNewlines), "#!/bin/bash")

        XCTAssertEqual(try g.listDevices(), ["/dev/sda"])
        try g.partDisk("/dev/sda", "mbr")
        XCTAssertEqual(try g.listPartitions(), ["/dev/sda1"])
        try g.mkfs("ext4", "/dev/sda1")
        XCTAssertEqual(try g.vfsType("/dev/sda1"), "ext4")
        try g.mount("/dev/sda1", "/")

        let hello = "hello from swift-guestfs\n"
        try g.write("/hello", Array(hello.utf8))
        XCTAssertEqual(try g.cat("/hello"), hello)
        try g.mkdir("/dir")
        try g.touch("/dir/a")
        try g.upload(local, "/data.bin")
        XCTAssertEqual(try g.ls("/"), ["data.bin", "dir", "hello", "lost+found"])
        XCTAssertEqual(try g.ls("/dir"), ["a"])

        // Upload/download round trip, checked on both sides.
        XCTAssertEqual(try g.checksum("sha256", "/data.bin"), try InteropTests.sha256(local))
        try g.download("/data.bin", back)
        XCTAssertEqual(fm.contents(atPath: back), Data(payload))

        let st = try g.statns("/hello")
        XCTAssertEqual(st.stSize, Int64(hello.utf8.count))
        XCTAssertEqual(st.stMode & 0o170000, 0o100000, "regular file")
        XCTAssertEqual(st.stNlink, 1)
        let sd = try g.statns("/dir")
        XCTAssertEqual(sd.stMode & 0o170000, 0o040000, "directory")

        // Errors carry the daemon's errno.
        do {
            _ = try g.cat("/nonexistent")
            XCTFail("cat /nonexistent succeeded")
        } catch let e as GuestfsError {
            XCTAssertEqual(e.errno, ENOENT, "\(e)")
            XCTAssertEqual(e.errnoName, "ENOENT", "\(e)")
        }
        do {
            try g.mkdir("/dir")
            XCTFail("mkdir of an existing directory succeeded")
        } catch let e as GuestfsError {
            XCTAssertEqual(e.errno, EEXIST, "\(e)")
            XCTAssertTrue(e.message.hasPrefix("mkdir: "), e.message)
        }
        // The handle still works after errors.
        XCTAssertEqual(try g.cat("/hello"), hello)

        try g.umountAll()
        let t1 = Date()
        try g.shutdown()
        print("interop: shutdown in \(String(format: "%.1f", Date().timeIntervalSince(t1))) s")
    }
}
