import Foundation
import XCTest
import Guestfs

/// Windows inspection against phony Windows disks built here: NTFS made in
/// the appliance, registry hives grown from the minimal hive with the
/// hivex_* actions, fake PE binaries for the architecture.
///
/// - /dev/sda (MBR, disk signature 0x1234abcd): sda1 "System Reserved",
///   sda2 Windows 10 Pro, 64-bit (/Windows, system32 in lower case, cmd.exe
///   with an x86-64 PE header), drive letters C: (MBR) and D: (GPT),
///   applications in both Uninstall views and Defender.
/// - /dev/sdb (GPT): sdb1 an old 32-bit Windows 2000 in /WINNT with no
///   binaries (arch from the registry), version only as "5.0", control
///   set 2, no TCP/IP settings (hostname from ComputerName).
/// Needs GUESTFS_TEST_APPLIANCE.
final class WindowsInspectionTests: XCTestCase {
    static let dataPartitionGUID = "01234567-89AB-CDEF-0123-456789ABCDEF"

    /// A PE header (MZ stub pointing at "PE\0\0", COFF machine, optional
    /// header magic) for the given machine type.
    static func fakePE(machine: UInt16, magic: UInt16) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 0x200)
        b[0] = 0x4d; b[1] = 0x5a                       // "MZ"
        b[0x3c] = 0x80                                 // e_lfanew
        b[0x80...0x83] = [0x50, 0x45, 0, 0]            // "PE\0\0"
        b[0x84] = UInt8(machine & 0xff); b[0x85] = UInt8(machine >> 8)
        b[0x80 + 24] = UInt8(magic & 0xff); b[0x80 + 25] = UInt8(magic >> 8)
        return b
    }

    func testPhonyWindows() throws {
        guard let path = ProcessInfo.processInfo.environment["GUESTFS_TEST_APPLIANCE"] else {
            throw XCTSkip("set GUESTFS_TEST_APPLIANCE to an appliance path")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("guestfs-win-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let win = dir.appendingPathComponent("win.img").path
        let data = dir.appendingPathComponent("data.img").path
        func hostFile(_ name: String, _ bytes: [UInt8]) throws -> String {
            let p = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            return p
        }
        let hive = try hostFile("minimal.hiv", MinimalHive.bytes())
        let pe64 = try hostFile("cmd.exe", Self.fakePE(machine: 0x8664, magic: 0x20b))
        let signature = try hostFile("sig", [0xcd, 0xab, 0x34, 0x12])

        let g = try Guestfs()
        defer { g.close() }
        try g.setPath(path)
        try g.diskCreate(win, "raw", 160 << 20)
        try g.diskCreate(data, "raw", 64 << 20)
        try g.addDrive(win, format: "raw")
        try g.addDrive(data, format: "raw")
        try g.launch()

        try g.partInit("/dev/sda", "mbr")
        try g.partAdd("/dev/sda", "p", 2048, 67583)
        try g.partAdd("/dev/sda", "p", 67584, -2048)
        try g.uploadOffset(signature, "/dev/sda", 0x1b8)
        try g.partInit("/dev/sdb", "gpt")
        try g.partAdd("/dev/sdb", "p", 2048, -2048)
        try g.partSetGptGuid("/dev/sdb", 1, Self.dataPartitionGUID)
        for dev in ["/dev/sda1", "/dev/sda2", "/dev/sdb1"] { try g.mkfs("ntfs", dev) }

        // Windows 10 on /dev/sda2.
        try g.mount("/dev/sda2", "/")
        try g.mkdirP("/Windows/system32/config")
        try g.mkdirP("/Program Files")
        try g.upload(pe64, "/Windows/system32/cmd.exe")
        try g.upload(hive, "/Windows/system32/config/SOFTWARE")
        try g.upload(hive, "/Windows/system32/config/SYSTEM")
        try g.hivexOpen("/Windows/system32/config/SOFTWARE", write: true)
        let cv = try g.regKey(["Microsoft", "Windows NT", "CurrentVersion"])
        try g.regString(cv, "ProductName", "Windows 10 Pro")
        try g.regString(cv, "InstallationType", "Client")
        try g.regString(cv, "CurrentVersion", "6.3")
        try g.regString(cv, "CurrentBuildNumber", "19045")
        try g.regDword(cv, "CurrentMajorVersionNumber", 10)
        try g.regDword(cv, "CurrentMinorVersionNumber", 0)
        let uninstall = try g.regKey(["Microsoft", "Windows", "CurrentVersion", "Uninstall"])
        let zip = try g.regKey(["7-Zip"], from: uninstall)
        try g.regString(zip, "DisplayName", "7-Zip 23.01 (x64)")
        try g.regString(zip, "DisplayVersion", "23.01")
        try g.regString(zip, "Publisher", "Igor Pavlov")
        try g.regString(zip, "InstallLocation", "C:\\Program Files\\7-Zip\\")
        try g.regString(zip, "URLInfoAbout", "https://www.7-zip.org/")
        let update = try g.regKey(["KB5005565"], from: uninstall)   // no DisplayName: not listed
        try g.regString(update, "Publisher", "Microsoft Corporation")
        let av = try g.regKey(["Kaspersky"], from: uninstall)
        try g.regString(av, "DisplayName", "Kaspersky Anti-Virus")
        try g.regString(av, "Comments", "Protection")
        let wow = try g.regKey(["WOW6432Node", "Microsoft", "Windows", "CurrentVersion", "Uninstall", "Notepad++"])
        try g.regString(wow, "DisplayName", "Notepad++ (32-bit x86)")
        try g.regString(wow, "DisplayVersion", "8.6")
        _ = try g.regKey(["Microsoft", "Windows Defender"])
        // One applied Group Policy Object (a "{GUID}" key under History).
        _ = try g.regKey(["Microsoft", "Windows", "CurrentVersion", "Group Policy", "History",
                          "{31B2F340-016D-11D2-945F-00C04FB984F9}", "0"])
        try g.hivexCommit(nil)
        try g.hivexClose()

        try g.hivexOpen("/Windows/system32/config/SYSTEM", write: true)
        try g.regDword(try g.regKey(["Select"]), "Current", 1)
        try g.regString(try g.regKey(["ControlSet001", "Services", "Tcpip", "Parameters"]), "Hostname", "WIN-PHONY")
        try g.regString(try g.regKey(["ControlSet001", "Control", "Session Manager", "Environment"]),
                        "PROCESSOR_ARCHITECTURE", "x86")   // the PE header wins
        let mounted = try g.regKey(["MountedDevices"])
        let offset = UInt64(67584 * 512)
        try g.regBinary(mounted, "\\DosDevices\\C:", [0xcd, 0xab, 0x34, 0x12] + (0..<8).map { UInt8(truncatingIfNeeded: offset >> (8 * UInt64($0))) })
        try g.regBinary(mounted, "\\DosDevices\\D:", Array("DMIO:ID:".utf8) +
                        [0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef])
        try g.regBinary(mounted, "\\DosDevices\\F:", [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0])   // no such disk
        try g.regBinary(mounted, "\\??\\Volume{d0c5e1a2-0000-0000-0000-100000000000}", [0xcd, 0xab, 0x34, 0x12, 0, 0, 0x10, 0, 0, 0, 0, 0])
        try g.hivexCommit(nil)
        try g.hivexClose()
        try g.umountAll()

        // Windows 2000 on /dev/sdb1: no binaries, CurrentVersion only, ControlSet002.
        try g.mount("/dev/sdb1", "/")
        try g.mkdirP("/WINNT/SYSTEM32/CONFIG")
        try g.upload(hive, "/WINNT/SYSTEM32/CONFIG/SOFTWARE")
        try g.upload(hive, "/WINNT/SYSTEM32/CONFIG/SYSTEM")
        try g.hivexOpen("/WINNT/SYSTEM32/CONFIG/SOFTWARE", write: true)
        let cv2 = try g.regKey(["Microsoft", "Windows NT", "CurrentVersion"])
        try g.regString(cv2, "ProductName", "Microsoft Windows 2000")
        try g.regString(cv2, "CurrentVersion", "5.0")
        try g.hivexCommit(nil)
        try g.hivexOpen("/WINNT/SYSTEM32/CONFIG/SYSTEM", write: true)
        try g.regDword(try g.regKey(["Select"]), "Current", 2)
        try g.regString(try g.regKey(["ControlSet002", "Control", "ComputerName", "ComputerName"]), "ComputerName", "OLDBOX")
        try g.regString(try g.regKey(["ControlSet002", "Control", "Session Manager", "Environment"]),
                        "PROCESSOR_ARCHITECTURE", "x86")
        try g.hivexCommit(nil)
        try g.hivexClose()
        try g.umountAll()
        try g.sync()

        let roots = try g.inspectOs()
        XCTAssertEqual(roots, ["/dev/sda2", "/dev/sdb1"])

        let r = "/dev/sda2"
        XCTAssertEqual(try g.inspectGetType(r), "windows")
        XCTAssertEqual(try g.inspectGetDistro(r), "windows")
        XCTAssertEqual(try g.inspectGetProductName(r), "Windows 10 Pro")
        XCTAssertEqual(try g.inspectGetProductVariant(r), "Client")
        XCTAssertEqual(try g.inspectGetMajorVersion(r), 10)
        XCTAssertEqual(try g.inspectGetMinorVersion(r), 0)
        XCTAssertEqual(try g.inspectGetArch(r), "x86_64")
        XCTAssertEqual(try g.inspectGetHostname(r), "WIN-PHONY")
        XCTAssertEqual(try g.inspectGetWindowsSystemroot(r), "/Windows")
        XCTAssertEqual(try g.inspectGetWindowsSoftwareHive(r), "/Windows/system32/config/SOFTWARE")
        XCTAssertEqual(try g.inspectGetWindowsSystemHive(r), "/Windows/system32/config/SYSTEM")
        XCTAssertEqual(try g.inspectGetWindowsCurrentControlSet(r), "ControlSet001")
        XCTAssertEqual(try g.inspectGetDriveMappings(r), ["C": "/dev/sda2", "D": "/dev/sdb1"])
        XCTAssertEqual(try g.inspectGetMountpoints(r), ["/": "/dev/sda2"])
        XCTAssertEqual(try g.inspectGetFilesystems(r), ["/dev/sda2"])
        XCTAssertEqual(try g.inspectGetOsinfo(r), "win10")
        XCTAssertEqual(try g.inspectGetBuildId(r), "19045")
        XCTAssertTrue(try g.inspectGetWindowsGroupPolicy(r))
        XCTAssertEqual(try g.inspectGetBuildId("/dev/sdb1"), "unknown")
        XCTAssertFalse(try g.inspectGetWindowsGroupPolicy("/dev/sdb1"))
        // No favicon and no icon source for Windows 10: an empty icon, not an error.
        try g.mountRo(r, "/")
        XCTAssertEqual(try g.inspectGetIcon(r), [])
        try g.umountAll()

        let old = "/dev/sdb1"
        XCTAssertEqual(try g.inspectGetType(old), "windows")
        XCTAssertEqual(try g.inspectGetProductName(old), "Microsoft Windows 2000")
        XCTAssertEqual(try g.inspectGetProductVariant(old), "unknown")
        XCTAssertEqual(try g.inspectGetMajorVersion(old), 5)
        XCTAssertEqual(try g.inspectGetMinorVersion(old), 0)
        XCTAssertEqual(try g.inspectGetArch(old), "i386")
        XCTAssertEqual(try g.inspectGetHostname(old), "OLDBOX")
        XCTAssertEqual(try g.inspectGetWindowsSystemroot(old), "/WINNT")
        XCTAssertEqual(try g.inspectGetWindowsCurrentControlSet(old), "ControlSet002")
        XCTAssertEqual(try g.inspectGetDriveMappings(old), [:])

        // Applications: both Uninstall views plus Defender; the guest must be mounted.
        try g.mountRo(r, "/")
        let apps = try g.inspectListApplications2(r)
        try g.umountAll()
        XCTAssertEqual(Set(apps.map(\.app2Name)), ["7-Zip", "Kaspersky", "Notepad++", "WinDefend"])
        let byName = Dictionary(uniqueKeysWithValues: apps.map { ($0.app2Name, $0) })
        XCTAssertEqual(byName["7-Zip"]?.app2DisplayName, "7-Zip 23.01 (x64)")
        XCTAssertEqual(byName["7-Zip"]?.app2Version, "23.01")
        XCTAssertEqual(byName["7-Zip"]?.app2Publisher, "Igor Pavlov")
        XCTAssertEqual(byName["7-Zip"]?.app2InstallPath, "C:\\Program Files\\7-Zip\\")
        XCTAssertEqual(byName["7-Zip"]?.app2Url, "https://www.7-zip.org/")
        XCTAssertEqual(byName["7-Zip"]?.app2Class, "")
        XCTAssertEqual(byName["Kaspersky"]?.app2Class, "antivirus")
        XCTAssertEqual(byName["Kaspersky"]?.app2Description, "Protection")
        XCTAssertEqual(byName["Notepad++"]?.app2Version, "8.6")
        XCTAssertEqual(byName["WinDefend"]?.app2Class, "antivirus")
    }
}

/// Building registry content through the hivex_* actions.
extension Guestfs {
    /// The key at `path` under `from` (default: the root), created as needed.
    func regKey(_ path: [String], from: Int64? = nil) throws -> Int64 {
        var node = try from ?? hivexRoot()
        for name in path {
            let c = try hivexNodeGetChild(node, name)
            node = c != 0 ? c : try hivexNodeAddChild(node, name)
        }
        return node
    }

    /// A REG_SZ value: UTF-16LE with a terminating zero.
    func regString(_ node: Int64, _ key: String, _ value: String) throws {
        var bytes: [UInt8] = []
        for u in value.utf16 + [0] { bytes += [UInt8(u & 0xff), UInt8(u >> 8)] }
        try hivexNodeSetValue(node, key, 1, bytes)
    }

    func regDword(_ node: Int64, _ key: String, _ value: UInt32) throws {
        try hivexNodeSetValue(node, key, 4, (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) })
    }

    func regBinary(_ node: Int64, _ key: String, _ value: [UInt8]) throws {
        try hivexNodeSetValue(node, key, 3, value)
    }
}
