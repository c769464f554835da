import XCTest
import Glibc
import GuestfsProtocol
import XDR
@testable import GuestfsDaemonCore

/// A scratch directory removed at the end of the test.
final class TempDir {
    let path: String
    init() {
        var t = Array("/tmp/daemontestXXXXXX".utf8CString)
        path = String(cString: mkdtemp(&t)!)
    }
    deinit { _ = system("rm -rf '\(path)'") }
    func write(_ rel: String, _ text: String) {
        let p = path + "/" + rel
        let dir = String(p[..<p.lastIndex(of: "/")!])
        _ = system("mkdir -p '\(dir)'")
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }
    func mkdir(_ rel: String) { _ = system("mkdir -p '\(path)/\(rel)'") }
}

final class DeviceMapTests: XCTestCase {
    func makeSys(_ t: TempDir) {
        t.write("sys/block/vda/dev", "253:0\n")
        t.write("sys/block/vdb/dev", "253:16\n")
        t.write("sys/block/vdb/vdb1/dev", "253:17\n")
        t.write("sys/block/vdb/vdb1/partition", "1\n")
        t.write("sys/block/vdb/vdb2/dev", "253:18\n")
        t.write("sys/block/vdb/vdb2/partition", "2\n")
        t.write("sys/block/vdc/dev", "253:32\n")
        t.write("sys/block/loop0/dev", "7:0\n")
        t.write("sys/block/vdaa/dev", "259:0\n")
    }

    func testRootDiskHiddenAndOrder() {
        let t = TempDir()
        makeSys(t)
        let m = DeviceMap(sysRoot: t.path, rootDevice: Sys.makedev(253, 0))
        XCTAssertEqual(m.rootDisk, "vda")
        XCTAssertEqual(m.disks, ["vdb", "vdc", "vdaa"])
        XCTAssertEqual(m.toReal("/dev/sda"), "/dev/vdb")
        XCTAssertEqual(m.toReal("/dev/sda2"), "/dev/vdb2")
        XCTAssertEqual(m.toReal("/dev/vdb"), "/dev/vdc")   // any disk prefix means "the 2nd disk"
        XCTAssertEqual(m.toReal("/dev/sdc"), "/dev/vdaa")
        XCTAssertNil(m.toReal("/dev/sdd"))
        XCTAssertEqual(m.toCanonical("/dev/vdb1"), "/dev/sda1")
        XCTAssertEqual(m.toCanonical("/dev/vdaa"), "/dev/sdc")
        XCTAssertEqual(m.toCanonical("/dev/vda"), "/dev/vda")   // root disk: not a user disk
        XCTAssertEqual(m.toCanonical("/dev/mapper/vg-lv"), "/dev/mapper/vg-lv")
        XCTAssertTrue(m.isRoot("/dev/vda"))
        XCTAssertEqual(m.partitions(of: "vdb"), ["vdb1", "vdb2"])
        XCTAssertEqual(m.canonicalizeText("mount /dev/vdc1 on /x; /dev/vdb2"), "mount /dev/sdb1 on /x; /dev/sda2")
    }

    func testRootFoundThroughPartition() {
        let t = TempDir()
        makeSys(t)
        let m = DeviceMap(sysRoot: t.path, rootDevice: Sys.makedev(253, 17))
        XCTAssertEqual(m.rootDisk, "vdb")
        XCTAssertEqual(m.disks, ["vda", "vdc", "vdaa"])
    }

    func testDiskNames() {
        XCTAssertEqual(DiskName("sdb12")?.partition, 12)
        XCTAssertEqual(DiskName("xvdc")?.index, 2)
        XCTAssertEqual(DiskName("sdaa")?.index, 26)
        XCTAssertNil(DiskName("sda0"))
        XCTAssertNil(DiskName("loop0"))
        XCTAssertEqual(DiskName.letters(forIndex: 0), "a")
        XCTAssertEqual(DiskName.letters(forIndex: 25), "z")
        XCTAssertEqual(DiskName.letters(forIndex: 26), "aa")
        XCTAssertEqual(DiskName.letters(forIndex: 701), "zz")
        XCTAssertEqual(DiskName.letters(forIndex: 702), "aaa")
        XCTAssertEqual(Handlers.splitPartition("/dev/vdb12")?.num, 12)
        XCTAssertEqual(Handlers.splitPartition("/dev/nvme0n1p3")?.disk, "/dev/nvme0n1")
        XCTAssertNil(Handlers.splitPartition("/dev/nvme0n1"))
        XCTAssertNil(Handlers.splitPartition("/dev/vdb"))
    }
}

final class SysrootTests: XCTestCase {
    func testSymlinksStayInside() throws {
        let t = TempDir()
        t.write("root/etc/passwd", "guest\n")
        t.mkdir("root/a/b")
        symlink("/etc/passwd", t.path + "/root/abs")
        symlink("../../../../../../etc/passwd", t.path + "/root/a/b/rel")
        symlink("/a", t.path + "/root/dirlink")
        let s = Sysroot(path: t.path + "/root")
        XCTAssertEqual(try s.hostPath("/abs", op: "t"), t.path + "/root/etc/passwd")
        XCTAssertEqual(try s.hostPath("/a/b/rel", op: "t"), t.path + "/root/etc/passwd")
        XCTAssertEqual(try s.hostPath("/../../etc/passwd", op: "t"), t.path + "/root/etc/passwd")
        XCTAssertEqual(try s.hostPath("/dirlink/b", op: "t"), t.path + "/root/a/b")
        XCTAssertEqual(try s.hostPath("/abs", follow: false, op: "t"), t.path + "/root/abs")
        XCTAssertEqual(try s.hostPath("/dirlink/new", mustExist: false, op: "t"), t.path + "/root/a/new")
        XCTAssertEqual(try s.hostPath("/", op: "t"), t.path + "/root")
        XCTAssertThrowsError(try s.hostPath("/missing", op: "open")) { e in
            XCTAssertEqual((e as? DaemonError)?.errno, ENOENT)
            XCTAssertEqual((e as? DaemonError)?.message, "open: /missing: No such file or directory")
        }
        let fd = try s.open("/abs", O_RDONLY, op: "open")
        var b = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &b, 16)
        close(fd)
        XCTAssertEqual(String(decoding: b[0..<n], as: UTF8.self), "guest\n")
        XCTAssertEqual(s.guestPath(t.path + "/root/etc"), "/etc")
        XCTAssertEqual(s.guestPath(t.path + "/root"), "/")
        XCTAssertTrue(Sysroot.split("/a/b/") == ("/a", "b"))
        XCTAssertTrue(Sysroot.split("/") == ("/", "."))
    }
}

final class Base64Tests: XCTestCase {
    func testRoundTrip() throws {
        for len in [0, 1, 2, 3, 56, 57, 58, 200] {
            let data = (0..<len).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
            var e = Base64Encoder()
            var text = e.feed(data[0..<len / 2])
            text += e.feed(data[(len / 2)...])
            text += e.finish()
            XCTAssertTrue(text.split(separator: 10).allSatisfy { $0.count <= 76 })
            var d = Base64Decoder()
            var back: [UInt8] = []
            for c in text { back += try d.feed([c]) }
            back += try d.finish()
            XCTAssertEqual(back, data, "length \(len)")
        }
        var d = Base64Decoder()
        XCTAssertThrowsError(try d.feed(Array("ab!c".utf8)))
    }
}

/// Talks to a Daemon over a socketpair, in-process.
final class ServerTests: XCTestCase {
    var fds: [Int32] = [-1, -1]
    var daemon: Daemon!
    var peer: Channel!
    var serial: UInt32 = 0
    var temp: TempDir!

    override func setUp() {
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        temp = TempDir()
        temp.mkdir("root")
        temp.write("sys/block/vdq/dev", "253:0\n")   // no such node on the host
        daemon = Daemon(channel: Channel(fd: fds[0]), devices: DeviceMap(sysRoot: temp.path, rootDevice: nil),
                        sysroot: Sysroot(path: temp.path + "/root"))
        peer = Channel(fd: fds[1])
    }

    override func tearDown() {
        close(fds[0]); close(fds[1])
    }

    /// Sends one call (handled synchronously) and returns the reply.
    func call(_ proc: UInt32, _ args: [UInt8] = [], optargs: UInt64 = 0, program: UInt32 = GuestfsWire.program) throws -> ParsedMessage {
        serial += 1
        var e = XDREncoder()
        MessageHeader(procedure: proc, direction: .call, serial: serial, optargsBitmask: optargs, program: program).encode(to: &e)
        e.append(raw: args)
        daemon.handle(body: e.bytes)
        var src = peer!
        guard case .message(let body) = try Framing.readFrame(from: &src) else { throw DaemonError(message: "no message") }
        let m = try ParsedMessage(body: body)
        XCTAssertEqual(m.header.serial, serial)
        XCTAssertEqual(m.header.direction, .reply)
        return m
    }

    func error(_ m: ParsedMessage) throws -> MessageError {
        XCTAssertEqual(m.header.status, .error)
        var m = m
        return try m.decodeError()
    }

    func testPingAndUmask() throws {
        XCTAssertEqual(try call(92).header.status, .ok)
        var e = XDREncoder()
        e.encode(Int32(0o027))
        let old = umask(0o022)
        umask(old)
        var m = try call(137, e.bytes)
        XCTAssertEqual(m.header.status, .ok)
        XCTAssertEqual(try m.payload.decodeInt32(), Int32(old))
        m = try call(240)
        XCTAssertEqual(try m.payload.decodeInt32(), 0o027)
        umask(old)
    }

    func testErrors() throws {
        var err = try error(try call(9999))
        XCTAssertEqual(err.errnoString, "ENOTSUP")
        XCTAssertTrue(err.message.contains("unknown procedure"))
        err = try error(try call(92, optargs: 1))
        XCTAssertEqual(err.errnoString, "EINVAL")
        err = try error(try call(92, program: 0x1234))
        XCTAssertTrue(err.message.contains("wrong program"))
        // Truncated args: decoding error, not a crash.
        err = try error(try call(3, [0, 0, 0, 9, 65]))
        XCTAssertEqual(err.errnoString, "EINVAL")
        // Relative path.
        var e = XDREncoder()
        e.encode("etc")
        err = try error(try call(3, e.bytes))
        XCTAssertEqual(err.errnoString, "EINVAL")
        XCTAssertTrue(err.message.contains("must start with a /"))
        // Device that does not exist: the appliance here has no user disks.
        e = XDREncoder()
        e.encode("/dev/sda")
        err = try error(try call(63, e.bytes))
        XCTAssertEqual(err.errnoString, "ENOENT")
        e = XDREncoder()
        e.encode("/nope")
        err = try error(try call(218, e.bytes))
        XCTAssertEqual(err.errnoString, "ENOENT")
        XCTAssertEqual(err.message, "stat: /nope: No such file or directory")
    }

    func testWriteAndRead() throws {
        var e = XDREncoder()
        e.encode("/f")
        e.encodeOpaque(Array("hello\n".utf8))
        XCTAssertEqual(try call(246, e.bytes).header.status, .ok)
        e = XDREncoder()
        e.encode("/f"); e.encode(Int32(100)); e.encode(Int64(1))
        var m = try call(207, e.bytes)
        XCTAssertEqual(try m.payload.decodeOpaque(), Array("ello\n".utf8))
        e = XDREncoder()
        e.encode("/f")
        m = try call(218, e.bytes)
        XCTAssertEqual(try m.payload.decodeInt64(), 6)
    }

    func testLegacyReaddir() throws {
        temp.write("root/d/x", "1")
        var e = XDREncoder()
        e.encode("/d")
        var m = try call(138, e.bytes)
        XCTAssertEqual(m.header.status, .ok)
        let list = try m.payload.decodeArray(of: Dirent.self)
        XCTAssertEqual(list.map(\.name).sorted(), [".", "..", "x"])
        XCTAssertEqual(list.first { $0.name == "x" }?.ftyp, UInt8(ascii: "r"))
        XCTAssertEqual(list.first { $0.name == "." }?.ftyp, UInt8(ascii: "d"))
    }
}
