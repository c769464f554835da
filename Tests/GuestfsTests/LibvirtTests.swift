import CLibvirt
import Foundation
import XCTest
@testable import Guestfs

/// A directory with disk images and a libvirt test-driver node file
/// (test:///DIR/node.xml) that defines domains over them: libvirt's test
/// driver runs inside the client library, so no libvirtd is needed.
final class LibvirtFixture {
    let dir: String
    var uri: String { "test://\(dir)/node.xml" }
    var rawImage: String { "\(dir)/a.img" }
    var qcowImage: String { "\(dir)/b.qcow2" }
    static let offUUID = "7d1c6a61-8f0e-4e55-9a3c-0c1a2b3c4d01"
    static let runningUUID = "7d1c6a61-8f0e-4e55-9a3c-0c1a2b3c4d02"

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("libvirt-test-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: rawImage, contents: nil)
        guard truncate(rawImage, 64 << 20) == 0 else { throw GuestfsError("truncate \(rawImage)") }
        try Self.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", qcowImage, "32M"])
        try node.write(toFile: "\(dir)/node.xml", atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    static func run(_ exe: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw GuestfsError("\(exe) \(args) failed") }
    }

    /// A domain; shut off unless `running`.
    private func domain(_ name: String, uuid: String? = nil, running: Bool = false, _ disks: String) -> String {
        """
          <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
            <name>\(name)</name>
            \(uuid.map { "<uuid>\($0)</uuid>" } ?? "")
            <memory>131072</memory>
            <os><type>hvm</type></os>
            <devices>
        \(disks)
            </devices>
            \(running ? "" : "<test:runstate>5</test:runstate>")
          </domain>

        """
    }

    private var node: String {
        let raw = "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(rawImage)'/><target dev='vda' bus='virtio'/></disk>"
        let qcowRO = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='\(qcowImage)'/><target dev='vdb' bus='virtio'/><readonly/></disk>"
        let emptyCD = "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>"
        return "<node>\n"
            + """
              <pool type='dir'>
                <name>images</name>
                <uuid>7d1c6a61-8f0e-4e55-9a3c-0c1a2b3c4dff</uuid>
                <target><path>\(dir)</path></target>
                <volume>
                  <name>a.img</name>
                  <capacity unit='M'>64</capacity>
                  <target><path>\(rawImage)</path><format type='raw'/></target>
                </volume>
              </pool>

            """
            + domain("off", uuid: Self.offUUID, raw + qcowRO + emptyCD)
            + domain("running", uuid: Self.runningUUID, running: true, raw)
            + domain("nodisks", emptyCD)
            + domain("missing", "<disk type='file' device='disk'><source file='\(dir)/nonexistent.img'/><target dev='vda'/></disk>")
            + domain("others", """
                <disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='images' volume='a.img'/><target dev='vda' bus='virtio'/></disk>
                <disk type='network' device='disk'><driver name='qemu' type='raw'/>
                  <source protocol='nbd' name='export1'><host name='nbd.example.com' port='10809'/></source>
                  <target dev='vdb' bus='virtio'/><blockio logical_block_size='4096'/></disk>
                <disk type='block' device='disk'><source dev='/dev/null'/><target dev='vdc' bus='virtio'/></disk>
                """)
            + "</node>\n"
    }
}

final class LibvirtXMLTests: XCTestCase {
    func testDisksFromDomainXML() throws {
        let xml = """
        <domain type='kvm'>
          <name>g</name>
          <devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='/var/lib/images/g.qcow2'/>
              <target dev='vda' bus='virtio'/>
            </disk>
            <disk type='block' device='disk'>
              <source dev='/dev/vg/data'/>
              <target dev='vdb'/>
              <readonly/>
              <blockio logical_block_size='512' physical_block_size='4096'/>
            </disk>
            <disk type='file' device='cdrom'>
              <target dev='hdc' bus='ide'/>
              <readonly/>
            </disk>
            <disk type='dir' device='floppy'><source dir='/tmp'/></disk>
            <disk device='disk'><source file='/no/type'/></disk>
            <disk type='network' device='disk'>
              <driver type='raw'/>
              <source protocol='rbd' name='pool/image'>
                <host name='mon1' port='6789'/>
                <host name='mon2'/>
              </source>
              <auth username='admin'><secret type='ceph' usage='client.admin'/></auth>
              <target dev='vdc'/>
            </disk>
            <disk type='volume' device='disk'>
              <source pool='default' volume='v.img'/>
              <target dev='vdd'/>
            </disk>
          </devices>
          <metadata><devices><disk type='file'><source file='/not/a/device/list'/></disk></devices></metadata>
        </domain>
        """
        let disks = try LibvirtXML.disks(fromDomainXML: xml)
        // Left out: the empty CD-ROM, the dir disk, the disk without a type and the
        // look-alike inside <metadata>.
        XCTAssertEqual(disks.count, 4)
        XCTAssertEqual(disks[0], LibvirtDisk(source: .file("/var/lib/images/g.qcow2"), format: "qcow2", readonly: false,
                                             blocksize: 0, target: "vda", device: "disk"))
        XCTAssertEqual(disks[1], LibvirtDisk(source: .block("/dev/vg/data"), format: nil, readonly: true,
                                             blocksize: 512, target: "vdb", device: "disk"))
        XCTAssertEqual(disks[2].source, .network(protocol: "rbd", name: "pool/image", servers: ["mon1:6789", "mon2"],
                                                 auth: LibvirtDisk.Auth(username: "admin", secretType: "ceph",
                                                                        secretUUID: nil, secretUsage: "client.admin")))
        XCTAssertEqual(disks[2].format, "raw")
        XCTAssertEqual(disks[3].source, .volume(pool: "default", volume: "v.img"))
        XCTAssertEqual(disks[1].label, "/dev/vg/data (vdb)")
    }

    func testMalformedXML() {
        XCTAssertThrowsError(try LibvirtXML.disks(fromDomainXML: "<domain><devices><disk type='file'>")) {
            XCTAssertTrue("\($0)".contains("cannot parse the domain XML"), "\($0)")
        }
        XCTAssertThrowsError(try LibvirtXML.disks(fromDomainXML: "<network><devices/></network>")) {
            XCTAssertTrue("\($0)".contains("not <domain>"), "\($0)")
        }
        XCTAssertEqual(try LibvirtXML.disks(fromDomainXML: "<domain><name>x</name></domain>"), [])
    }

    func testReadonlyDiskPolicy() {
        typealias P = ReadonlyDiskPolicy
        // Disks not marked <readonly/> follow the readonly optarg whatever the policy.
        for p in [P.error, .read, .write, .ignore] {
            XCTAssertEqual(p.decide(markedReadonly: false, readonly: false), .add(readonly: false))
            XCTAssertEqual(p.decide(markedReadonly: false, readonly: true), .add(readonly: true))
        }
        XCTAssertEqual(P.error.decide(markedReadonly: true, readonly: false), .refuse)
        XCTAssertEqual(P.error.decide(markedReadonly: true, readonly: true), .add(readonly: true))
        XCTAssertEqual(P.read.decide(markedReadonly: true, readonly: false), .add(readonly: true))
        XCTAssertEqual(P.write.decide(markedReadonly: true, readonly: false), .add(readonly: false))
        XCTAssertEqual(P.write.decide(markedReadonly: true, readonly: true), .add(readonly: true))
        XCTAssertEqual(P.ignore.decide(markedReadonly: true, readonly: false), .skip)
        XCTAssertEqual(P.ignore.decide(markedReadonly: true, readonly: true), .skip)
    }
}

/// add_domain against libvirt's test driver (no appliance).
final class AddDomainTests: XCTestCase {
    var fx: LibvirtFixture!

    override func setUpWithError() throws { fx = try LibvirtFixture() }
    override func tearDown() { fx = nil }

    private func handle() throws -> Guestfs { try Guestfs(environment: false) }

    private func assertError(_ body: @autoclosure () throws -> Int32, contains parts: [String],
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            let m = (e as? GuestfsError)?.message ?? "\(e)"
            for p in parts { XCTAssertTrue(m.contains(p), "'\(m)' lacks '\(p)'", file: file, line: line) }
        }
    }

    func testShutOffDomainDefaults() throws {
        let g = try handle()
        defer { g.close() }
        // readonlydisk defaults to write (as libguestfs): the <readonly/> qcow2 disk is writable too.
        XCTAssertEqual(try g.addDomain("off", libvirturi: fx.uri), 2)
        XCTAssertEqual(try g.debugDrives(), [
            "path=\(fx.rawImage) format=raw protocol=file cachemode=writeback discard=disable",
            "path=\(fx.qcowImage) format=qcow2 protocol=file cachemode=writeback discard=disable",
        ])
    }

    func testReadonlyDiskRead() throws {
        let g = try handle()
        defer { g.close() }
        XCTAssertEqual(try g.addDomain("off", libvirturi: fx.uri, readonlydisk: "read"), 2)
        let d = try g.debugDrives()
        XCTAssertFalse(d[0].contains("readonly"), d[0])
        XCTAssertTrue(d[1].contains(" readonly "), d[1])
    }

    func testReadonlyDiskIgnore() throws {
        let g = try handle()
        defer { g.close() }
        XCTAssertEqual(try g.addDomain("off", libvirturi: fx.uri, readonlydisk: "ignore"), 1)
        XCTAssertEqual(try g.debugDrives().count, 1)
    }

    func testReadonlyDiskErrorAddsNothing() throws {
        let g = try handle()
        defer { g.close() }
        assertError(try g.addDomain("off", libvirturi: fx.uri, readonlydisk: "error"),
                    contains: ["add_domain: ", "'off'", fx.qcowImage, "<readonly/>", "readonlydisk is 'error'"])
        // The first disk had been added before the second failed: rolled back.
        XCTAssertEqual(try g.debugDrives(), [])
        // With readonly, error means "add it read-only".
        XCTAssertEqual(try g.addDomain("off", libvirturi: fx.uri, readonly: true, readonlydisk: "error"), 2)
        XCTAssertTrue(try g.debugDrives().allSatisfy { $0.contains(" readonly ") })
    }

    func testRunningDomain() throws {
        let g = try handle()
        defer { g.close() }
        assertError(try g.addDomain("running", libvirturi: fx.uri),
                    contains: ["'running'", "is running", "read-only"])
        XCTAssertEqual(try g.debugDrives(), [])
        XCTAssertEqual(try g.addDomain("running", libvirturi: fx.uri, readonly: true), 1)
        XCTAssertEqual(try g.debugDrives(), ["path=\(fx.rawImage) readonly format=raw protocol=file cachemode=writeback discard=disable"])
    }

    func testUnknownDomainAndUUIDs() throws {
        let g = try handle()
        defer { g.close() }
        assertError(try g.addDomain("nope", libvirturi: fx.uri), contains: ["no libvirt domain called 'nope'", fx.uri])
        // A UUID is a name unless allowuuid.
        assertError(try g.addDomain(LibvirtFixture.offUUID, libvirturi: fx.uri), contains: ["no libvirt domain"])
        XCTAssertEqual(try g.addDomain(LibvirtFixture.offUUID, libvirturi: fx.uri, allowuuid: true), 2)
        // allowuuid still accepts names.
        XCTAssertEqual(try g.addDomain("running", libvirturi: fx.uri, readonly: true, allowuuid: true), 1)
        XCTAssertEqual(try g.debugDrives().count, 3)
    }

    func testDefaultURI() throws {
        // Without libvirturi, libvirt's default connection: LIBVIRT_DEFAULT_URI here.
        setenv("LIBVIRT_DEFAULT_URI", fx.uri, 1)
        defer { unsetenv("LIBVIRT_DEFAULT_URI") }
        let g = try handle()
        defer { g.close() }
        XCTAssertEqual(try g.addDomain("off"), 2)
        assertError(try g.addDomain("nope"), contains: ["no libvirt domain called 'nope' at URI '\(fx.uri)'"])
    }

    func testRefusedOptions() throws {
        let g = try handle()
        defer { g.close() }
        assertError(try g.addDomain("off", libvirturi: fx.uri, live: true), contains: ["live"])
        assertError(try g.addDomain("running", libvirturi: fx.uri, readonly: true, live: true), contains: ["live"])
        assertError(try g.addDomain("off", libvirturi: fx.uri, readonlydisk: "sometimes"),
                    contains: ["readonlydisk", "sometimes"])
        assertError(try g.addDomain("off", libvirturi: "test:///\(fx.dir)/no-such-node.xml"),
                    contains: ["could not connect to libvirt", "no-such-node.xml"])
        assertError(try g.addDomain("nodisks", libvirturi: fx.uri), contains: ["'nodisks'", "no disks"])
        assertError(try g.addDomain("missing", libvirturi: fx.uri),
                    contains: ["domain 'missing'", "nonexistent.img", "No such file or directory"])
        XCTAssertEqual(try g.debugDrives(), [])
    }

    func testOptionsPassedToAddDrive() throws {
        let g = try handle()
        defer { g.close() }
        XCTAssertEqual(try g.addDomain("off", libvirturi: fx.uri, readonly: true, iface: "virtio", cachemode: "unsafe",
                                       discard: "besteffort", copyonread: true), 2)
        for d in try g.debugDrives() {
            for p in [" readonly ", "iface=virtio", "cachemode=unsafe", "discard=besteffort", " copyonread"] {
                XCTAssertTrue(d.contains(p), "\(d) lacks \(p)")
            }
        }
        // add_drive's own checks apply (and leave nothing behind).
        assertError(try g.addDomain("off", libvirturi: fx.uri, readonly: true, cachemode: "none"), contains: ["cachemode"])
        XCTAssertEqual(try g.debugDrives().count, 2)
    }

    func testVolumeNetworkAndBlockDisks() throws {
        let g = try handle()
        defer { g.close() }
        XCTAssertEqual(try g.addDomain("others", libvirturi: fx.uri), 3)
        let d = try g.debugDrives()
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d[0], "path=\(fx.rawImage) format=raw protocol=file cachemode=writeback discard=disable")
        XCTAssertEqual(d[1], "path=export1 format=raw protocol=nbd server=nbd.example.com:10809 cachemode=writeback discard=disable blocksize=4096")
        // <source dev='/dev/null'>: add_drive's rule turns it into an empty raw image.
        XCTAssertTrue(d[2].hasSuffix("format=raw protocol=file cachemode=writeback discard=disable"), d[2])
    }

    func testAddLibvirtDom() throws {
        guard let conn = virConnectOpen(fx.uri) else { return XCTFail("virConnectOpen \(fx.uri)") }
        defer { virConnectClose(conn) }
        guard let dom = virDomainLookupByName(conn, "off") else { return XCTFail("lookup") }
        defer { virDomainFree(dom) }
        let g = try handle()
        defer { g.close() }
        XCTAssertEqual(try g.addLibvirtDom(UnsafeMutableRawPointer(dom), readonly: true), 2)
        XCTAssertEqual(try g.debugDrives().count, 2)
        guard let running = virDomainLookupByName(conn, "running") else { return XCTFail("lookup") }
        defer { virDomainFree(running) }
        assertError(try g.addLibvirtDom(UnsafeMutableRawPointer(running)), contains: ["'running'", "is running"])
    }
}

/// add_domain with a real appliance: the domain's disks are attached with
/// their formats, writes reach writable disks and never read-only ones.
/// Runs when GUESTFS_TEST_APPLIANCE names an appliance path.
final class AddDomainApplianceTests: XCTestCase {
    func testDisksReallyAttached() throws {
        guard let path = ProcessInfo.processInfo.environment["GUESTFS_TEST_APPLIANCE"] else {
            throw XCTSkip("set GUESTFS_TEST_APPLIANCE to an appliance path")
        }
        let fx = try LibvirtFixture()
        let qcowBefore = try Data(contentsOf: URL(fileURLWithPath: fx.qcowImage))

        // Writable raw disk, read-only qcow2 disk (readonlydisk=read).
        do {
            let g = try Guestfs(environment: false)
            defer { g.close() }
            try g.setPath(path)
            XCTAssertEqual(try g.addDomain("off", libvirturi: fx.uri, readonlydisk: "read"), 2)
            try g.launch()
            XCTAssertEqual(try g.listDevices(), ["/dev/sda", "/dev/sdb"])
            // qcow2 was honoured: the guest sees the 32 MiB virtual size, not the small file.
            XCTAssertEqual(try g.blockdevGetsize64("/dev/sdb"), 32 << 20)
            XCTAssertEqual(try g.blockdevGetsize64("/dev/sda"), 64 << 20)
            try g.mkfs("ext4", "/dev/sda")
            try g.mount("/dev/sda", "/")
            try g.write("/hello", Array("written through the domain\n".utf8))
            try g.umountAll()
            // The read-only disk takes writes into a throwaway overlay.
            try g.mkfs("ext4", "/dev/sdb")
            try g.shutdown()
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: fx.qcowImage)), qcowBefore,
                       "the <readonly/> disk's image changed")

        // Read back through a second handle, everything read-only.
        let g = try Guestfs(environment: false)
        defer { g.close() }
        try g.setPath(path)
        XCTAssertEqual(try g.addDomain(LibvirtFixture.offUUID, libvirturi: fx.uri, readonly: true, allowuuid: true), 2)
        try g.launch()
        try g.mountRo("/dev/sda", "/")
        XCTAssertEqual(try g.cat("/hello"), "written through the domain\n")
        try g.shutdown()
    }
}
