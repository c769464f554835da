import XCTest
@testable import GuestfsDaemonCore

/// The pure parts of the Windows probe: PE machine types, MountedDevices
/// GUID blobs, osinfo ids.
final class WindowsProbeTests: XCTestCase {
    func pe(machine: UInt16, magic: UInt16 = 0, lfanew: Int = 0x80) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 0x200)
        b[0] = 0x4d; b[1] = 0x5a
        b[0x3c] = UInt8(lfanew & 0xff); b[0x3d] = UInt8(lfanew >> 8)
        b[lfanew] = 0x50; b[lfanew + 1] = 0x45
        b[lfanew + 4] = UInt8(machine & 0xff); b[lfanew + 5] = UInt8(machine >> 8)
        b[lfanew + 24] = UInt8(magic & 0xff); b[lfanew + 25] = UInt8(magic >> 8)
        return b
    }

    func testPEArchitecture() {
        XCTAssertEqual(Handlers.peArchitecture(pe(machine: 0x014c)), "i386")
        XCTAssertEqual(Handlers.peArchitecture(pe(machine: 0x8664)), "x86_64")
        XCTAssertEqual(Handlers.peArchitecture(pe(machine: 0xaa64)), "aarch64")
        XCTAssertEqual(Handlers.peArchitecture(pe(machine: 0x01c4)), "arm")
        XCTAssertEqual(Handlers.peArchitecture(pe(machine: 0x1234, magic: 0x20b)), "x86_64")
        XCTAssertEqual(Handlers.peArchitecture(pe(machine: 0x1234, magic: 0x10b)), "i386")
        XCTAssertNil(Handlers.peArchitecture(pe(machine: 0x1234)))
        XCTAssertNil(Handlers.peArchitecture(Array("#!/bin/sh\n".utf8)))
        XCTAssertNil(Handlers.peArchitecture(Array(pe(machine: 0x8664).prefix(0x90))))   // header cut off
        var dos = pe(machine: 0x8664)
        dos[0x80] = 0x4e                                                            // "NE": 16-bit
        XCTAssertNil(Handlers.peArchitecture(dos))
    }

    func testWindowsArchitectureNames() {
        XCTAssertEqual(Handlers.windowsArchitecture("AMD64"), "x86_64")
        XCTAssertEqual(Handlers.windowsArchitecture("x86"), "i386")
        XCTAssertEqual(Handlers.windowsArchitecture("ARM64"), "aarch64")
        XCTAssertNil(Handlers.windowsArchitecture("MIPS"))
    }

    func testGUIDFromMountedDevicesBlob() {
        let blob = Array("DMIO:ID:".utf8) + [0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd,
                                              0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
        XCTAssertEqual(WindowsPartitionTable.guidFromBlob(blob), "01234567-89ab-cdef-0123-456789abcdef")
        XCTAssertNil(WindowsPartitionTable.guidFromBlob(Array(blob.prefix(20))))
        XCTAssertNil(WindowsPartitionTable.guidFromBlob([UInt8](repeating: 0, count: 24)))
    }

    func testOsinfo() {
        func id(_ major: Int32, _ minor: Int32, _ name: String, _ variant: String, _ build: Int? = nil) -> String {
            Handlers.windowsOsinfo(major: major, minor: minor, productName: name, variant: variant, build: build)
        }
        XCTAssertEqual(id(10, 0, "Windows 10 Pro", "Client", 19045), "win10")
        XCTAssertEqual(id(10, 0, "Windows 10 Pro", "Client", 22631), "win11")
        XCTAssertEqual(id(10, 0, "Windows 10 Pro", "Client"), "")
        XCTAssertEqual(id(10, 0, "Windows Server 2019 Datacenter", "Server"), "win2k19")
        XCTAssertEqual(id(10, 0, "Windows Server 2022 Standard", "Server Core"), "win2k22")
        XCTAssertEqual(id(10, 0, "Windows Server 2016 Standard", "Server"), "win2k16")
        XCTAssertEqual(id(6, 1, "Windows 7 Professional", "Client"), "win7")
        XCTAssertEqual(id(6, 1, "Windows Server 2008 R2 Standard", "Server"), "win2k8r2")
        XCTAssertEqual(id(6, 3, "Windows 8.1 Pro", "Client"), "win8.1")
        XCTAssertEqual(id(5, 2, "Microsoft Windows XP", "unknown"), "winxp")
        XCTAssertEqual(id(5, 2, "Microsoft Windows Server 2003 R2", "unknown"), "win2k3r2")
        XCTAssertEqual(id(5, 0, "Microsoft Windows 2000", "unknown"), "")
    }
}
