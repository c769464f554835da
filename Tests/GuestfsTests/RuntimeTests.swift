import Foundation
import GuestfsProtocol
import XCTest
@testable import Guestfs

final class PropertyTests: XCTestCase {
    func testDefaults() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        XCTAssertEqual(try g.getMemsize(), 1280)
        XCTAssertEqual(try g.getSmp(), 1)
        XCTAssertTrue(try g.getAutosync())
        XCTAssertFalse(try g.getVerbose())
        XCTAssertFalse(try g.getTrace())
        XCTAssertEqual(try g.getBackend(), "direct")
        XCTAssertEqual(try g.getAttachMethod(), "appliance")
        XCTAssertEqual(try g.getState(), 0)
        XCTAssertTrue(try g.isConfig())
        XCTAssertFalse(try g.isReady())
        XCTAssertFalse(try g.isLaunching())
        XCTAssertFalse(try g.isBusy())
        XCTAssertNil(try g.getAppend())
        XCTAssertEqual(try g.getIdentifier(), "")
        XCTAssertTrue(try g.getRecoveryProc())
        XCTAssertFalse(try g.getNetwork())
        XCTAssertEqual(try g.getBackendSettings(), [])
        XCTAssertEqual(try g.getTmpdir().isEmpty, false)
        let v = try g.version()
        XCTAssertEqual(v.major, 1)
        XCTAssertEqual(v.minor, 48)
    }

    func testSettersAndValidation() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        try g.setMemsize(700)
        XCTAssertEqual(try g.getMemsize(), 700)
        XCTAssertThrowsError(try g.setMemsize(10))
        XCTAssertThrowsError(try g.setSmp(0))
        try g.setSmp(4)
        XCTAssertEqual(try g.getSmp(), 4)
        try g.setAppend("console=ttyS0")
        XCTAssertEqual(try g.getAppend(), "console=ttyS0")
        try g.setAppend(nil)
        XCTAssertNil(try g.getAppend())
        XCTAssertThrowsError(try g.setBackend("bogus")) { e in
            XCTAssertEqual((e as? GuestfsError)?.errnoName, "EINVAL")
        }
        try g.setBackend("unix:/tmp/x.sock")
        XCTAssertEqual(try g.getBackend(), "unix:/tmp/x.sock")
        try g.setIdentifier("abc_1-2")
        XCTAssertEqual(try g.getIdentifier(), "abc_1-2")
        XCTAssertThrowsError(try g.setIdentifier("a b"))
        try g.setHv("/usr/bin/true")
        XCTAssertEqual(try g.getHv(), "/usr/bin/true")
        try g.setTmpdir("/var/tmp")
        XCTAssertEqual(try g.getTmpdir(), "/var/tmp")
        try g.setCachedir("/cache")
        XCTAssertEqual(try g.getCachedir(), "/cache")
        try g.setCachedir(nil)
        XCTAssertThrowsError(try g.config("-kernel", "x"))
        try g.config("-no-hpet", nil)
    }

    func testBackendSettings() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        try g.setBackendSettings(["force_tcg", "foo=bar", "foo=baz"])
        XCTAssertEqual(try g.getBackendSetting("force_tcg"), "1")
        XCTAssertEqual(try g.getBackendSetting("foo"), "bar")
        XCTAssertThrowsError(try g.getBackendSetting("nope")) { e in
            XCTAssertEqual((e as? GuestfsError)?.errnoName, "ESRCH")
        }
        XCTAssertEqual(try g.clearBackendSetting("foo"), 2)
        try g.setBackendSetting("x", "1")
        try g.setBackendSetting("x", "2")
        XCTAssertEqual(try g.getBackendSettings(), ["force_tcg", "x=2"])
    }

    func testParseEnvironmentList() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        try g.parseEnvironmentList(["LIBGUESTFS_MEMSIZE=700", "LIBGUESTFS_DEBUG=1", "LIBGUESTFS_TRACE=no",
                                    "LIBGUESTFS_BACKEND_SETTINGS=force_tcg:foo=bar", "LIBGUESTFS_PATH=/x:/y",
                                    "TMPDIR=/tt", "LIBGUESTFS_HV=/bin/qemu", "LIBGUESTFS_APPEND=a=b"])
        XCTAssertEqual(try g.getMemsize(), 700)
        XCTAssertTrue(try g.getVerbose())
        XCTAssertFalse(try g.getTrace())
        XCTAssertEqual(try g.getBackendSettings(), ["force_tcg", "foo=bar"])
        XCTAssertEqual(try g.getPath(), "/x:/y")
        XCTAssertEqual(try g.getTmpdir(), "/tt")
        XCTAssertEqual(try g.getCachedir(), "/tt")
        XCTAssertEqual(try g.getHv(), "/bin/qemu")
        XCTAssertEqual(try g.getAppend(), "a=b")
        XCTAssertThrowsError(try g.parseEnvironmentList(["LIBGUESTFS_DEBUG=maybe"]))
        XCTAssertThrowsError(try g.parseEnvironmentList(["LIBGUESTFS_MEMSIZE=lots"]))
        XCTAssertThrowsError(try g.parseEnvironmentList(["LIBGUESTFS_BACKEND=nope"]))
        try g.parseEnvironmentList(["LIBGUESTFS_BACKEND_SETTINGS=a b"])
        XCTAssertEqual(try g.getBackendSettings(), ["a", "b"])
    }

    func testClosedHandle() throws {
        let g = try Guestfs(environment: false)
        var closed = 0
        g.setEventCallback(events: .close) { _, _, _, _ in closed += 1 }
        g.close()
        g.close()
        XCTAssertEqual(closed, 1)
        XCTAssertThrowsError(try g.getMemsize())
    }
}

final class StateAndErrorTests: XCTestCase {
    func testDaemonCallBeforeLaunch() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        XCTAssertThrowsError(try g.mount("/dev/sda1", "/")) { e in
            let ge = e as! GuestfsError
            XCTAssertTrue(ge.message.hasPrefix("mount: call launch before using this function"), ge.message)
        }
    }

    func testErrnoTable() {
        XCTAssertEqual(Errno.value(of: "ENOENT"), 2)
        XCTAssertEqual(Errno.value(of: "EOPNOTSUPP"), 95)
        XCTAssertEqual(Errno.name(of: 22), "EINVAL")
        let e = GuestfsError(errnoName: "EROFS", "touch: read-only")
        XCTAssertEqual(e.errno, 30)
        let u = GuestfsError(errnoName: "EWEIRD", "x")
        XCTAssertEqual(u.errno, 0)
        XCTAssertEqual(u.errnoName, "EWEIRD")
        XCTAssertEqual(GuestfsError(errno: 2, "x").errnoName, "ENOENT")
    }

    func testCallActionErrors() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        XCTAssertThrowsError(try g.callAction("no_such_action", [])) { e in
            XCTAssertEqual(e as? GuestfsError, GuestfsError.unknownAction("no_such_action"))
        }
        XCTAssertThrowsError(try g.callAction("set_memsize", []))
        XCTAssertThrowsError(try g.callAction("set_memsize", [.string("lots")]))
        XCTAssertThrowsError(try g.callAction("add_drive", [.string("/dev/null")], optargs: ["bogus": .bool(true)]))
        _ = try g.callAction("set_memsize", [.string("0x200")])
        XCTAssertEqual(try g.getMemsize(), 512)
        _ = try g.callAction("set_verbose", [.string("yes")])
        XCTAssertTrue(try g.getVerbose())
        _ = try g.callAction("set_verbose", [.string("0")])
        if case let .int(m) = try g.callAction("get_memsize", []) { XCTAssertEqual(m, 512) } else { XCTFail() }
    }

    func testShutdownNeverLaunched() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        try g.shutdown()
    }
}

final class ActionArgumentTests: XCTestCase {
    func testConversions() throws {
        XCTAssertEqual(try ActionArgument.string("true").bool("b"), true)
        XCTAssertEqual(try ActionArgument.string("No").bool("b"), false)
        XCTAssertEqual(try ActionArgument.string("1").bool("b"), true)
        XCTAssertThrowsError(try ActionArgument.string("maybe").bool("b"))
        XCTAssertEqual(try ActionArgument.string("42").int32("n"), 42)
        XCTAssertEqual(try ActionArgument.string("-0x10").int64("n"), -16)
        XCTAssertEqual(try ActionArgument.string("0755").int32("n"), 0o755)
        XCTAssertEqual(try ActionArgument.string("0").int32("n"), 0)
        XCTAssertThrowsError(try ActionArgument.string("12abc").int32("n"))
        XCTAssertThrowsError(try ActionArgument.string("4294967296").int32("n"))
        XCTAssertEqual(try ActionArgument.int(7).string("s"), "7")
        XCTAssertEqual(try ActionArgument.string("a b  \"c d\"").stringList("l"), ["a", "b", "c d"])
        XCTAssertEqual(try ActionArgument.string("").stringList("l"), [])
        XCTAssertEqual(try ActionArgument.null.optString("o"), nil)
        XCTAssertEqual(try ActionArgument.string("x").buffer("b"), [0x78])
        XCTAssertThrowsError(try ActionArgument.stringList(["a"]).string("s"))
    }

    func testCheck() {
        XCTAssertNoThrow(try ActionArgument.check("x", [.int(1)], count: 1, optargs: ["a": .int(1)], allowed: ["a"]))
        XCTAssertThrowsError(try ActionArgument.check("x", [], count: 1, optargs: [:], allowed: []))
        XCTAssertThrowsError(try ActionArgument.check("x", [.int(1)], count: 1, optargs: ["b": .int(1)], allowed: ["a"]))
    }

    func testActionInfo() {
        XCTAssertEqual(ActionInfo.find("add_drive_opts")?.name, "add_drive")
        XCTAssertEqual(ActionInfo.find("add-ro")?.name, "add_drive_ro")
        XCTAssertEqual(ActionInfo.find("mkdir-p")?.name, "mkdir_p")
        XCTAssertNil(ActionInfo.find("nope"))
    }
}

final class TraceAndEventTests: XCTestCase {
    func testTraceFormatting() {
        XCTAssertEqual(Trace.call("mount", [.string("/dev/sda1"), .string("/")]), "mount \"/dev/sda1\" \"/\"")
        XCTAssertEqual(Trace.call("add_drive", [.string("a.img"), .optional("readonly", .bool(true)),
                                                .optional("format", .string("raw")), .optional("label", nil)]),
                       "add_drive \"a.img\" \"readonly:true\" \"format:raw\"")
        XCTAssertEqual(Trace.call("x", [.stringList(["a", "b"]), .optString(nil), .int(5), .bool(false)]),
                       "x \"a b\" null 5 false")
        XCTAssertEqual(Trace.result(()), "0")
        XCTAssertEqual(Trace.result(true), "1")
        XCTAssertEqual(Trace.result(Int32(5)), "5")
        XCTAssertEqual(Trace.result(["a", "b"]), "[\"a\", \"b\"]")
        XCTAssertEqual(Trace.result("s"), "\"s\"")
        XCTAssertEqual(Trace.result(Optional<String>.none as Any), "NULL")
    }

    func testTraceEventsAndEnter() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        var traces: [String] = []
        var enters: [String] = []
        g.setEventCallback(events: .trace) { _, _, b, _ in traces.append(String(decoding: b, as: UTF8.self)) }
        let eh = g.setEventCallback(events: .enter) { _, _, b, _ in enters.append(String(decoding: b, as: UTF8.self)) }
        try g.setTrace(true)
        try g.setMemsize(500)
        XCTAssertThrowsError(try g.setSmp(0))
        g.deleteEventCallback(eh)
        _ = try g.getMemsize()
        XCTAssertEqual(traces, ["set_memsize 500", "set_memsize = 0", "set_smp 0", "set_smp = -1 (error)",
                                "get_memsize", "get_memsize = 500"])
        XCTAssertEqual(enters, ["set_trace", "set_memsize", "set_smp"])
    }

    func testEventSetNames() throws {
        XCTAssertEqual(EventSet([.close, .progress]).description, "close,progress")
        XCTAssertEqual(try EventSet(names: "close,launch_done"), [.close, .launchDone])
        XCTAssertEqual(try EventSet(names: "*"), .all)
        XCTAssertThrowsError(try EventSet(names: "bogus"))
        XCTAssertEqual(EventSet.all.rawValue, 1023)
    }
}

final class DriveTests: XCTestCase {
    func testDrivesAndDeviceNames() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        try g.addDriveScratch(1 << 20)
        try g.addDrive("/dev/null", readonly: true, label: "abc")
        XCTAssertThrowsError(try g.addDrive("/no/such/file"))
        XCTAssertThrowsError(try g.addDrive("/dev/null", cachemode: "bogus"))
        XCTAssertThrowsError(try g.addDrive("/dev/null", readonly: true, discard: "enable"))
        XCTAssertThrowsError(try g.addDrive("/dev/null", label: "has space"))
        XCTAssertThrowsError(try g.addDrive("/dev/null", blocksize: 1000))
        XCTAssertEqual(try g.deviceName(0), "/dev/sda")
        XCTAssertEqual(try g.deviceName(1), "/dev/sdb")
        XCTAssertThrowsError(try g.deviceName(2)) { e in XCTAssertEqual((e as? GuestfsError)?.errnoName, "EINVAL") }
        XCTAssertEqual(try g.deviceIndex("/dev/sdb"), 1)
        XCTAssertEqual(try g.deviceIndex("/dev/vda"), 0)
        XCTAssertThrowsError(try g.deviceIndex("/dev/sda1"))
        XCTAssertThrowsError(try g.deviceIndex("/dev/sdc"))
        XCTAssertEqual(try g.canonicalDeviceName("/dev/vda"), "/dev/sda")
        XCTAssertEqual(try g.canonicalDeviceName("/dev/xvdc1"), "/dev/sdc1")
        XCTAssertEqual(try g.canonicalDeviceName("/dev/hdb2"), "/dev/sdb2")
        XCTAssertEqual(try g.canonicalDeviceName("/dev/md127"), "/dev/md127")
        XCTAssertEqual(try g.canonicalDeviceName("/dev/mapper/VG-LV"), "/dev/mapper/VG-LV") // not launched: unverified
        let dd = try g.debugDrives()
        XCTAssertEqual(dd.count, 2)
        XCTAssertTrue(dd[0].contains("format=raw") && dd[0].contains("cachemode=unsafe"), dd[0])
        XCTAssertTrue(dd[1].contains("readonly") && dd[1].contains("label=abc"), dd[1])
        let scratch = String(dd[0].split(separator: " ")[0].dropFirst(5))
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch))
        g.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch))
        XCTAssertEqual(DeviceNames.letters(25), "z")
        XCTAssertEqual(DeviceNames.letters(26), "aa")
        XCTAssertEqual(DeviceNames.index(ofLetters: "aa"), 26)
        XCTAssertTrue(DeviceNames.splitMapperName("/dev/mapper/my--vg-lv--1")! == ("my-vg", "lv-1"))
    }

    func testDiskImages() throws {
        guard findInPath("qemu-img") != nil else { throw XCTSkip("qemu-img not installed") }
        let g = try Guestfs(environment: false)
        defer { g.close() }
        let dir = NSTemporaryDirectory() + "guestfs-disk-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try g.diskCreate("\(dir)/a.img", "raw", 1 << 20)
        XCTAssertEqual(try g.diskFormat("\(dir)/a.img"), "raw")
        XCTAssertEqual(try g.diskVirtualSize("\(dir)/a.img"), 1 << 20)
        try g.diskCreate("\(dir)/b.qcow2", "qcow2", -1, backingfile: "\(dir)/a.img", backingformat: "raw")
        XCTAssertEqual(try g.diskFormat("\(dir)/b.qcow2"), "qcow2")
        XCTAssertTrue(try g.diskHasBackingFile("\(dir)/b.qcow2"))
        XCTAssertFalse(try g.diskHasBackingFile("\(dir)/a.img"))
        XCTAssertThrowsError(try g.diskCreate("\(dir)/c.img", "vmdk", 100))
        XCTAssertThrowsError(try g.diskCreate("\(dir)/c.img", "raw", 100, backingfile: "\(dir)/a.img"))
        XCTAssertThrowsError(try g.diskCreate("\(dir)/c.img", "qcow2", 1 << 20, clustersize: 1000))
    }
}

final class QemuCommandTests: XCTestCase {
    func testMicrovmCommandLine() {
        var c = QemuConfig()
        c.hv = "/usr/bin/qemu-system-x86_64"
        c.kernel = "/a/vmlinux"; c.initrd = "/a/initrd"; c.root = "/a/root"; c.rootUUID = "1234"
        c.socketPath = "/tmp/s/guestfsd.sock"
        c.disks = [QemuConfig.Disk(id: "hd0", file: "/d/x,y.img", format: "raw", snapshot: true, serial: "lbl")]
        c.memsize = 700
        let a = c.arguments
        XCTAssertEqual(a.first, "/usr/bin/qemu-system-x86_64")
        XCTAssertTrue(a.contains("microvm,acpi=on,pit=on,pic=off,rtc=on,isa-serial=on,x-option-roms=off,auto-kernel-cmdline=off"))
        XCTAssertTrue(a.contains("file=/d/x,,y.img,format=raw,if=none,id=hd0,cache=writeback,snapshot=on,aio=threads"))
        XCTAssertTrue(a.contains("virtio-blk-device,drive=hd0,serial=lbl"))
        XCTAssertTrue(a.contains("virtio-blk-device,drive=appliance"))
        XCTAssertTrue(a.contains("socket,path=/tmp/s/guestfsd.sock,id=channel0"))
        XCTAssertTrue(a.contains("virtserialport,chardev=channel0,name=org.libguestfs.channel.0"))
        XCTAssertEqual(a[a.firstIndex(of: "-m")! + 1], "700")
        XCTAssertEqual(a[a.firstIndex(of: "-accel")! + 1], "tcg")
        let append = a[a.firstIndex(of: "-append")! + 1]
        XCTAssertTrue(append.contains("root=UUID=1234"))
        XCTAssertTrue(append.contains("console=ttyS0"))
        // The appliance disk comes after the user's.
        XCTAssertLessThan(a.firstIndex(of: "virtio-blk-device,drive=hd0,serial=lbl")!, a.firstIndex(of: "virtio-blk-device,drive=appliance")!)
    }

    func testPcCommandLineAndKVM() {
        var c = QemuConfig()
        c.layout = .pc
        c.accel = .kvm
        c.network = true
        c.verbose = true
        c.append = "extra=1"
        c.extra = [("-no-hpet", nil)]
        c.disks = [QemuConfig.Disk(id: "hd0", file: "/x.img"), QemuConfig.Disk(id: "hd1", file: "/y.img", blocksize: 4096)]
        let a = c.arguments
        XCTAssertTrue(a.contains("virtio-scsi-pci,id=scsi"))
        XCTAssertTrue(a.contains("scsi-hd,drive=hd1,bus=scsi.0,channel=0,scsi-id=0,lun=1,logical_block_size=4096,physical_block_size=4096"))
        XCTAssertTrue(a.contains("scsi-hd,drive=appliance,bus=scsi.0,channel=0,scsi-id=1,lun=0"))
        XCTAssertTrue(a.contains("virtio-net-pci,netdev=usernet"))
        XCTAssertEqual(a[a.firstIndex(of: "-accel")! + 1], "kvm")
        XCTAssertEqual(a.last, "-no-hpet")
        let append = a[a.firstIndex(of: "-append")! + 1]
        XCTAssertTrue(append.contains("root=/dev/sdc"))
        XCTAssertTrue(append.contains("guestfs_verbose=1"))
        XCTAssertFalse(append.contains("quiet"))
        XCTAssertTrue(append.hasSuffix("extra=1"))
    }

    /// config -virtfs becomes -fsdev plus the layout's 9p device (microvm
    /// has no PCI for qemu's own -virtfs); set_selinux picks SELinux.
    func testVirtfsSharesAndSELinux() {
        var c = QemuConfig()
        c.extra = [("-virtfs", "local,path=/srv/a,,b,mount_tag=tag1,security_model=none,readonly=on"), ("-no-hpet", nil)]
        var a = c.arguments
        XCTAssertEqual(c.virtfsShares, 1)
        XCTAssertFalse(a.contains("-virtfs"))
        XCTAssertEqual(a[a.firstIndex(of: "-fsdev")! + 1], "local,id=fsdev0,path=/srv/a,,b,security_model=none,readonly=on")
        XCTAssertTrue(a.contains("virtio-9p-device,fsdev=fsdev0,mount_tag=tag1"))
        XCTAssertEqual(a.last, "-no-hpet")
        XCTAssertTrue(a[a.firstIndex(of: "-append")! + 1].contains("selinux=0"))
        c.layout = .pc
        c.selinux = true
        a = c.arguments
        XCTAssertTrue(a.contains("virtio-9p-pci,fsdev=fsdev0,mount_tag=tag1"))
        let append = a[a.firstIndex(of: "-append")! + 1]
        XCTAssertTrue(append.contains("security=selinux selinux=1 enforcing=0"))
        XCTAssertFalse(append.contains("selinux=0"))
        // Without a mount tag the value goes to qemu unchanged (qemu reports it).
        c.extra = [("-virtfs", "local,path=/x")]
        XCTAssertEqual(c.arguments.suffix(2), ["-virtfs", "local,path=/x"])
    }

    func testAccelDecision() {
        XCTAssertEqual(AccelDecision.choose(forceTCG: true, forceKVM: false, kvmDeviceUsable: true, probe: .good).0, .tcg)
        XCTAssertEqual(AccelDecision.choose(forceTCG: false, forceKVM: true, kvmDeviceUsable: false, probe: .bad).0, .kvm)
        let noDev = AccelDecision.choose(forceTCG: false, forceKVM: false, kvmDeviceUsable: false, probe: .unknown)
        XCTAssertEqual(noDev.0, .tcg); XCTAssertFalse(noDev.isProbe)
        let probe = AccelDecision.choose(forceTCG: false, forceKVM: false, kvmDeviceUsable: true, probe: .unknown)
        XCTAssertEqual(probe.0, .kvm); XCTAssertTrue(probe.isProbe)
        let bad = AccelDecision.choose(forceTCG: false, forceKVM: false, kvmDeviceUsable: true, probe: .bad)
        XCTAssertEqual(bad.0, .tcg); XCTAssertTrue(bad.reason.contains("KVM is not usable"))
        XCTAssertEqual(AccelDecision.choose(forceTCG: false, forceKVM: false, kvmDeviceUsable: true, probe: .good).0, .kvm)
    }
}

final class LibraryHelperTests: XCTestCase {
    func testSplitters() throws {
        XCTAssertEqual(Guestfs.splitLines(Array("line1\r\nline2\nline3".utf8)), ["line1", "line2", "line3"])
        XCTAssertEqual(Guestfs.splitLines(Array("a\n\nb\n".utf8)), ["a", "", "b"])
        XCTAssertEqual(Guestfs.splitLines([]), [])
        XCTAssertEqual(Guestfs.splitNUL(Array("a\0b\0".utf8)), ["a", "b"])
        let ds = [Dirent(ino: 1, ftyp: UInt8(ascii: "d"), name: "."), Dirent(ino: 5, ftyp: UInt8(ascii: "r"), name: "file")]
        let bytes = ds.flatMap(\.xdrBytes)
        XCTAssertEqual(try Guestfs.decodeDirents(bytes), ds)
        XCTAssertEqual(Guestfs.batches(Array(repeating: "x", count: 2500)).map(\.count), [1000, 1000, 500])
        XCTAssertEqual(Guestfs.batches([]).count, 1)
    }

    func testBindTests() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        XCTAssertEqual(try g.internalTestRint("10"), 10)
        XCTAssertEqual(try g.internalTestRint64("-5"), -5)
        XCTAssertTrue(try g.internalTestRbool("true"))
        XCTAssertEqual(try g.internalTestRstringlist("3"), ["0", "1", "2"])
        XCTAssertEqual(try g.internalTestRhashtable("2"), ["0": "0", "1": "1"])
        XCTAssertEqual(try g.internalTestRstructlist("2").count, 2)
        XCTAssertNil(try g.internalTestRconstoptstringerr())
        XCTAssertThrowsError(try g.internalTestRinterr()) { e in XCTAssertEqual((e as? GuestfsError)?.message, "internal_test_rinterr: error") }
        let out = NSTemporaryDirectory() + "bindtest-\(getpid())"
        defer { unlink(out) }
        try g.internalTestSetOutput(out)
        try g.internalTest("abc", nil, ["x", "y"], true, 1, 2, "/in", "/out", [0, 255], oint: 3)
        try g.internalTestCloseOutput()
        let s = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertEqual(s, "abc\nnull\n[\"x\", \"y\"]\ntrue\n1\n2\n/in\n/out\n<00><ff>\nunset\n3\nunset\nunset\nunset\n")
    }
}

/// The protocol client against FakeDaemon through the unix: backend.
final class ProtocolClientTests: XCTestCase {
    func testCallsTransfersProgressAndDrop() throws {
        let d = try FakeDaemon()
        let g = try Guestfs(environment: false)
        defer { g.close() }
        try g.setBackend("unix:\(d.socketPath)")
        var launched = 0
        g.setEventCallback(events: .launchDone) { _, _, _, _ in launched += 1 }
        try g.launch()
        XCTAssertEqual(launched, 1)
        XCTAssertTrue(try g.isReady())
        XCTAssertEqual(try g.getState(), 2)
        XCTAssertThrowsError(try g.setMemsize(600)) { e in
            XCTAssertEqual((e as? GuestfsError)?.message, "set_memsize: this function can only be called in the config state")
        }
        XCTAssertThrowsError(try g.launch())
        XCTAssertTrue(try g.exists("/x"))
        try g.touch("/y")
        XCTAssertThrowsError(try g.mkdir("/a/b")) { e in
            let ge = e as! GuestfsError
            XCTAssertEqual(ge.errnoName, "ENOENT")
            XCTAssertEqual(ge.errno, ENOENT)
            XCTAssertEqual(ge.message, "mkdir: /a/b: No such file or directory")
        }
        var progress: [[UInt64]] = []
        g.setEventCallback(events: .progress) { _, _, _, a in progress.append(a) }
        try g.sync()
        XCTAssertEqual(progress.count, 3)
        XCTAssertEqual(progress.last?[2], 2)
        XCTAssertEqual(try g.readFile("/big"), d.downloadData)
        let src = NSTemporaryDirectory() + "upload-\(getpid())"
        defer { unlink(src) }
        let data = (0..<30000).map { UInt8(truncatingIfNeeded: $0) }
        _ = FileManager.default.createFile(atPath: src, contents: Data(data))
        try g.upload(src, "/up")
        XCTAssertEqual(d.uploaded, data)
        XCTAssertThrowsError(try g.upload("/no/such/local", "/up"))
        let st = try g.stat("/f")
        XCTAssertEqual(st.size, 5)
        XCTAssertEqual(st.mtime, 11)
        // The daemon goes away mid-call.
        XCTAssertThrowsError(try g.ll("/")) { e in
            XCTAssertTrue((e as! GuestfsError).message.contains("appliance closed the connection unexpectedly"))
        }
        XCTAssertFalse(try g.isReady())
        XCTAssertThrowsError(try g.touch("/z"))
        _ = d.done.wait(timeout: .now() + 5)
    }

    func testShutdownAutosync() throws {
        let d = try FakeDaemon()
        let g = try Guestfs(environment: false)
        try g.setBackend("unix:\(d.socketPath)")
        try g.launch()
        try g.shutdown()
        XCTAssertEqual(d.calls.last, Procedure.internalAutosync.rawValue)
        XCTAssertFalse(try g.isReady())
        g.close()
    }
}

/// Boots a real appliance (direct backend). Runs only when
/// GUESTFS_TEST_APPLIANCE names an appliance path (LIBGUESTFS_PATH style).
final class DirectLaunchTests: XCTestCase {
    func testLaunchAndShutdown() throws {
        guard let path = ProcessInfo.processInfo.environment["GUESTFS_TEST_APPLIANCE"] else {
            throw XCTSkip("set GUESTFS_TEST_APPLIANCE to an appliance path")
        }
        let g = try Guestfs(environment: false)
        defer { g.close() }
        try g.setPath(path)
        var lines: [String] = []
        g.setEventCallback(events: [.appliance, .library]) { _, _, b, _ in lines.append(String(decoding: b, as: UTF8.self)) }
        try g.setVerbose(true)
        try g.addDriveScratch(64 << 20)
        let t0 = Date()
        do { try g.launch() } catch {
            print(lines.suffix(60).joined())
            throw error
        }
        print("launched in \(Date().timeIntervalSince(t0)) s, pid \(try g.getPid())")
        XCTAssertTrue(try g.isReady())
        try? g.shutdown()
        XCTAssertFalse(try g.isReady())
        print(lines.filter { !$0.hasSuffix("\n") || $0.hasPrefix("KVM") || $0.contains("TCG") || $0.contains("qemu") }.prefix(20).joined(separator: "\n"))
    }
}
