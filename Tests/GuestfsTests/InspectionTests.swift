import Foundation
import XCTest
import Guestfs

/// Inspection against phony guests built here with the library itself: a
/// Debian disk (MBR, /boot + ext4 root, fstab by UUID and by device name)
/// and a Fedora disk (LVM root, /boot by UUID, swap LV, merged /usr with an
/// aarch64 binary). Needs GUESTFS_TEST_APPLIANCE.
final class InspectionTests: XCTestCase {
    static let dpkgStatus = """
        Package: bash
        Status: install ok installed
        Priority: required
        Architecture: amd64
        Version: 5.2.15-2+b2
        Description: GNU Bourne Again SHell
         Bash is an sh-compatible command language interpreter.
         .
         It is the default shell.
        Homepage: http://tiswww.case.edu/php/chet/bash/bashtop.html

        Package: removed-thing
        Status: deinstall ok config-files
        Architecture: amd64
        Version: 1.0-1
        Description: gone

        Package: libc6
        Status: install ok installed
        Architecture: amd64
        Source: glibc
        Version: 2.36-9+deb12u4
        Description: GNU C Library: Shared libraries

        Package: vim
        Status: install ok installed
        Architecture: amd64
        Source: vim (2:9.0.1378-2)
        Version: 2:9.0.1378-2
        Description: Vi IMproved - enhanced vi editor

        """

    /// Small PNG images (solid colour, RGB): 16x16, 32x32 and 8x8.
    static let png16 = [UInt8](Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mM4waBBEmIY1TCqYfhqAAA4oPABjX0wIwAAAABJRU5ErkJggg==")!)
    static let png32 = [UInt8](Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAAAKElEQVR42u3NMQ0AAAgDsOlEMbKmgoOkSf8ms7cEAoFAIBAIBALBl6AIGYg9V58y5gAAAABJRU5ErkJggg==")!)
    static let png8 = [UInt8](Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEElEQVR42mNgOMGAHQ0tCQCJ5TIBgf2TMgAAAABJRU5ErkJggg==")!)

    /// A 64-byte ELF header for a little-endian 64-bit aarch64 executable.
    static func aarch64ELF() -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 64)
        h[0...3] = [0x7f, 0x45, 0x4c, 0x46]
        h[4] = 2; h[5] = 1; h[6] = 1
        h[16] = 2          // ET_EXEC
        h[18] = 183        // EM_AARCH64
        return h
    }

    func testPhonyDebianAndFedora() throws {
        guard let path = ProcessInfo.processInfo.environment["GUESTFS_TEST_APPLIANCE"] else {
            throw XCTSkip("set GUESTFS_TEST_APPLIANCE to an appliance path")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("guestfs-inspect-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let debian = dir.appendingPathComponent("debian.img").path
        let fedora = dir.appendingPathComponent("fedora.img").path
        let elf = dir.appendingPathComponent("elf").path
        try Data(Self.aarch64ELF()).write(to: URL(fileURLWithPath: elf))

        let g = try Guestfs()
        defer { g.close() }
        try g.setPath(path)
        try g.diskCreate(debian, "raw", 128 << 20)
        try g.diskCreate(fedora, "raw", 160 << 20)
        try g.addDrive(debian, format: "raw")
        try g.addDrive(fedora, format: "raw")
        try g.launch()

        // Debian 12: /dev/sda1 /boot (fstab by device name), /dev/sda2 / (by UUID).
        try g.partInit("/dev/sda", "mbr")
        try g.partAdd("/dev/sda", "p", 2048, 67583)
        try g.partAdd("/dev/sda", "p", 67584, -2048)
        try g.mkfs("ext2", "/dev/sda1")
        try g.mkfs("ext4", "/dev/sda2")
        let debRootUUID = try g.vfsUuid("/dev/sda2")
        try g.mount("/dev/sda2", "/")
        for d in ["/boot", "/etc", "/usr/bin", "/var/lib/dpkg"] { try g.mkdirP(d) }
        try g.lnS("usr/bin", "/bin")
        try g.mount("/dev/sda1", "/boot")
        try g.writeText("/etc/os-release", """
            PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
            NAME="Debian GNU/Linux"
            VERSION_ID="12"
            VERSION="12 (bookworm)"
            ID=debian

            """)
        try g.writeText("/etc/debian_version", "12.4\n")
        try g.writeText("/etc/hostname", "debian.example.org\n")
        try g.writeText("/etc/fstab", """
            # /etc/fstab: static file system information.
            UUID=\(debRootUUID) / ext4 errors=remount-ro 0 1
            /dev/vda1 /boot ext2 defaults 0 2
            proc /proc proc defaults 0 0
            server:/export /mnt/nfs nfs defaults 0 0

            """)
        try g.upload("/bin/ls", "/usr/bin/ls")
        try g.writeText("/var/lib/dpkg/status", Self.dpkgStatus)
        try g.mkdirP("/usr/share/pixmaps")
        try g.write("/usr/share/pixmaps/debian-logo.png", Self.png16)
        try g.umountAll()

        // Fedora 39: /dev/sdb1 /boot (by UUID), LVM PV /dev/sdb2 with root and swap LVs.
        try g.partInit("/dev/sdb", "gpt")
        try g.partAdd("/dev/sdb", "p", 2048, 67583)
        try g.partAdd("/dev/sdb", "p", 67584, -2048)
        try g.mkfs("ext4", "/dev/sdb1")
        try g.pvcreate("/dev/sdb2")
        try g.vgcreate("fedora", ["/dev/sdb2"])
        try g.lvcreate("root", "fedora", 64)
        try g.lvcreate("swap", "fedora", 8)
        try g.mkfs("ext4", "/dev/fedora/root")
        let fedBootUUID = try g.vfsUuid("/dev/sdb1")
        try g.mount("/dev/fedora/root", "/")
        for d in ["/boot", "/etc", "/usr/bin", "/usr/lib"] { try g.mkdirP(d) }
        try g.lnS("usr/bin", "/bin")
        try g.writeText("/usr/lib/os-release", """
            NAME="Fedora Linux"
            VERSION="39 (Server Edition)"
            ID=fedora
            VERSION_ID=39
            PRETTY_NAME="Fedora Linux 39 (Server Edition)"
            VARIANT="Server Edition"
            VARIANT_ID=server
            BUILD_ID=20231106.n.0

            """)
        try g.lnS("../usr/lib/os-release", "/etc/os-release")
        try g.writeText("/etc/hostname", "fedora.example.com\n")
        try g.writeText("/etc/fstab", """
            /dev/mapper/fedora-root /                       ext4    defaults        1 1
            UUID=\(fedBootUUID.uppercased()) /boot                   ext4    defaults        1 2
            /dev/mapper/fedora-swap none                    swap    defaults        0 0

            """)
        try g.upload(elf, "/usr/bin/bash")
        try g.touch("/usr/bin/dnf")
        // The Fedora logo is a PNG but too small (8x8) to be an icon; the favicon is used instead.
        try g.mkdirP("/usr/share/icons/hicolor/96x96/apps")
        try g.write("/usr/share/icons/hicolor/96x96/apps/fedora-logo-icon.png", Self.png8)
        try g.write("/etc/favicon.png", Self.png32)
        try g.umountAll()
        try g.sync()

        // Something mounted is unmounted by inspect_os.
        try g.mount("/dev/sda1", "/")
        let roots = try g.inspectOs()
        XCTAssertEqual(roots, ["/dev/fedora/root", "/dev/sda2"])
        XCTAssertEqual(try g.mounts(), [])
        XCTAssertEqual(try g.inspectGetRoots(), roots)

        XCTAssertEqual(try g.inspectGetType("/dev/sda2"), "linux")
        XCTAssertEqual(try g.inspectGetDistro("/dev/sda2"), "debian")
        XCTAssertEqual(try g.inspectGetProductName("/dev/sda2"), "Debian GNU/Linux 12 (bookworm)")
        XCTAssertEqual(try g.inspectGetMajorVersion("/dev/sda2"), 12)
        XCTAssertEqual(try g.inspectGetMinorVersion("/dev/sda2"), 4)
        XCTAssertEqual(try g.inspectGetArch("/dev/sda2"), Self.hostArch())
        XCTAssertEqual(try g.inspectGetHostname("/dev/sda2"), "debian.example.org")
        XCTAssertEqual(try g.inspectGetPackageFormat("/dev/sda2"), "deb")
        XCTAssertEqual(try g.inspectGetPackageManagement("/dev/sda2"), "apt")
        XCTAssertEqual(try g.inspectGetFormat("/dev/sda2"), "installed")
        XCTAssertEqual(try g.inspectGetOsinfo("/dev/sda2"), "debian12")
        XCTAssertEqual(try g.inspectGetMountpoints("/dev/sda2"), ["/": "/dev/sda2", "/boot": "/dev/sda1"])
        XCTAssertEqual(Set(try g.inspectGetFilesystems("/dev/sda2")), ["/dev/sda2", "/dev/sda1"])
        XCTAssertFalse(try g.inspectIsLive("/dev/sda2"))
        XCTAssertEqual(try g.inspectGetBuildId("/dev/sda2"), "unknown")
        XCTAssertEqual(try g.inspectGetBuildId("/dev/fedora/root"), "20231106.n.0")
        XCTAssertThrowsError(try g.inspectGetWindowsGroupPolicy("/dev/sda2"))

        // Icons: the guest must be mounted; Debian's logo, Fedora's favicon.
        XCTAssertEqual(try g.inspectGetIcon("/dev/sda2"), [])
        try g.mountRo("/dev/sda2", "/")
        XCTAssertEqual(try g.inspectGetIcon("/dev/sda2"), Self.png16)
        XCTAssertEqual(try g.inspectGetIcon("/dev/sda2", highquality: true), Self.png16)
        try g.umountAll()
        try g.mountRo("/dev/fedora/root", "/")
        XCTAssertEqual(try g.inspectGetIcon("/dev/fedora/root"), Self.png32)
        XCTAssertEqual(try g.inspectGetIcon("/dev/fedora/root", favicon: false), [])
        XCTAssertEqual(try g.inspectGetIcon("/dev/fedora/root", highquality: true), [])
        try g.umountAll()

        XCTAssertEqual(try g.inspectGetDistro("/dev/fedora/root"), "fedora")
        XCTAssertEqual(try g.inspectGetProductName("/dev/fedora/root"), "Fedora Linux 39 (Server Edition)")
        XCTAssertEqual(try g.inspectGetProductVariant("/dev/fedora/root"), "unknown")
        XCTAssertEqual(try g.inspectGetMajorVersion("/dev/fedora/root"), 39)
        XCTAssertEqual(try g.inspectGetMinorVersion("/dev/fedora/root"), 0)
        XCTAssertEqual(try g.inspectGetArch("/dev/fedora/root"), "aarch64")
        XCTAssertEqual(try g.inspectGetHostname("/dev/fedora/root"), "fedora.example.com")
        XCTAssertEqual(try g.inspectGetPackageFormat("/dev/fedora/root"), "rpm")
        XCTAssertEqual(try g.inspectGetPackageManagement("/dev/fedora/root"), "dnf")
        XCTAssertEqual(try g.inspectGetOsinfo("/dev/fedora/root"), "fedora39")
        XCTAssertEqual(try g.inspectGetMountpoints("/dev/fedora/root"), ["/": "/dev/fedora/root", "/boot": "/dev/sdb1"])
        XCTAssertEqual(Set(try g.inspectGetFilesystems("/dev/fedora/root")),
                       ["/dev/fedora/root", "/dev/sdb1", "/dev/fedora/swap"])

        // Windows-only and unknown roots are errors naming the root.
        XCTAssertThrowsError(try g.inspectGetWindowsSystemroot("/dev/sda2"))
        XCTAssertThrowsError(try g.inspectGetType("/dev/sda1")) { e in
            XCTAssertTrue("\(e)".contains("/dev/sda1"), "\(e)")
        }

        // Applications need the guest mounted, as inspect_get_mountpoints says.
        XCTAssertThrowsError(try g.inspectListApplications2("/dev/sda2"))
        let mps = try g.inspectGetMountpoints("/dev/sda2").sorted { $0.key.count < $1.key.count }
        for (mp, dev) in mps { try g.mountRo(dev, mp) }
        let apps = try g.inspectListApplications2("/dev/sda2")
        XCTAssertEqual(apps.map(\.app2Name), ["bash", "libc6", "vim"])
        XCTAssertEqual(apps[0].app2Version, "5.2.15")
        XCTAssertEqual(apps[0].app2Release, "2+b2")
        XCTAssertEqual(apps[0].app2Arch, "amd64")
        XCTAssertEqual(apps[0].app2Summary, "GNU Bourne Again SHell")
        XCTAssertEqual(apps[0].app2Url, "http://tiswww.case.edu/php/chet/bash/bashtop.html")
        XCTAssertEqual(apps[1].app2SourcePackage, "glibc")
        XCTAssertEqual(apps[2].app2Epoch, 2)
        XCTAssertEqual(apps[2].app2SourcePackage, "vim")
        XCTAssertEqual(try g.inspectListApplications("/dev/sda2").map(\.appVersion), ["5.2.15", "2.36", "9.0.1378"])
        XCTAssertEqual(try g.cat("/boot/../etc/hostname"), "debian.example.org\n")
        try g.umountAll()

        // A disk with no operating system at all.
        try g.mkfs("ext4", "/dev/fedora/swap")
        XCTAssertFalse(try g.inspectOs().contains("/dev/fedora/swap"))
    }

    static func hostArch() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

extension Guestfs {
    func writeText(_ path: String, _ text: String) throws { try write(path, Array(text.utf8)) }
}
