import Foundation
import Guestfs
import GuestfsProtocol

/// A value in a model test, as written in actions.yaml.
indirect enum TV {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null
    case list([TV])
    case map([(String, TV)])
}

/// One test from actions.yaml (emitted into Generated/ActionTestData.swift).
struct ModelTest {
    var action: String
    var index: Int
    var prepare: String
    var run: [[TV]]
    var expect: [(String, TV)]

    var label: String { "\(action)#\(index)" }
}

struct ModelTestFailure: Error, CustomStringConvertible {
    var description: String
}

/// The tests of actions.yaml, decoded from the generated JSON lines
/// (Generated/ActionTestData.swift; the tagged value format is described
/// in generator/Emitters/TestDataEmitter.swift).
let generatedActionTests: [ModelTest] = generatedActionTestLines.map { line in
    guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
          let action = obj["action"] as? String, let index = obj["index"] as? Int,
          let prepare = obj["prepare"] as? String, let run = obj["run"] as? [[Any]],
          let expect = obj["expect"] as? [[Any]] else {
        fatalError("Generated/ActionTestData.swift: bad test line: \(line)")
    }
    return ModelTest(action: action, index: index, prepare: prepare,
                     run: run.map { $0.map(decodeTestValue) },
                     expect: expect.map { ($0[0] as! String, decodeTestValue($0[1])) })
}

func decodeTestValue(_ any: Any) -> TV {
    guard let a = any as? [Any], let tag = a.first as? String else { fatalError("bad test value \(any)") }
    switch tag {
    case "s": return .string(a[1] as! String)
    case "i": return .int(Int64(a[1] as! String)!)
    case "b": return .bool(a[1] as! Bool)
    case "n": return .null
    case "l": return .list((a[1] as! [Any]).map(decodeTestValue))
    case "m": return .map((a[1] as! [[Any]]).map { ($0[0] as! String, decodeTestValue($0[1])) })
    default: fatalError("bad test value tag \(tag)")
    }
}

/// Runs model tests against one real, shared appliance: two blank disks
/// (/dev/sda 512 MiB, /dev/sdb 64 MiB), reset before every test.
final class ModelTestRunner {
    let g: Guestfs
    let workDir: URL
    let testData: URL
    let emptyFile: URL
    let zeroFile: URL
    /// `@hive`: a minimal Windows registry hive (MinimalHive.swift).
    let hiveFile: URL
    /// (device, host image) for /dev/sda and /dev/sdb.
    let disks: [(device: String, path: String)]

    init() throws {
        workDir = FileManager.default.temporaryDirectory.appendingPathComponent("guestfs-model-tests-\(getpid())")
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        testData = workDir.appendingPathComponent("test-data")
        emptyFile = workDir.appendingPathComponent("empty")
        zeroFile = workDir.appendingPathComponent("zeroes")
        let pattern = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) }
        try Data(pattern).write(to: testData)
        try Data().write(to: emptyFile)
        try Data().write(to: zeroFile)
        hiveFile = workDir.appendingPathComponent("minimal.hiv")
        try Data(MinimalHive.bytes()).write(to: hiveFile)
        g = try Guestfs()
        var disks: [(device: String, path: String)] = []
        for (dev, name, size) in [("/dev/sda", "sda.img", 512 << 20), ("/dev/sdb", "sdb.img", 64 << 20)] {
            let path = workDir.appendingPathComponent(name).path
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            guard truncate(path, off_t(size)) == 0 else { throw ModelTestFailure(description: "cannot create \(path)") }
            try g.addDrive(path, format: "raw")
            disks.append((dev, path))
        }
        self.disks = disks
        try g.launch()
        try capturePartImage()
    }

    func close() {
        if timing {
            for (k, v) in phaseTimes.sorted(by: { $0.value > $1.value }) { print("model timing: \(k) \(String(format: "%.2f", v)) s") }
        }
        g.close()
        try? FileManager.default.removeItem(at: workDir)
    }

    // MARK: preparing the disks
    //
    // Isolation: every test starts from disks that read as all zeroes (the
    // whole disk, not only its first blocks), so nothing a previous test wrote
    // (a filesystem inside a partition, an LVM label, a backup superblock) can
    // leak into the next one. Zeroing 576 MiB from inside the appliance takes
    // seconds, so the runner does it on the host: once filesystems are
    // unmounted, LVM is gone and the guest has synced, nothing in the guest is
    // dirty or writing and the raw images hold exactly what the guest sees.
    // The runner punches each image out entirely (it keeps its size and reads
    // as zeroes), then has the guest drop its cached copy of each whole disk
    // (blockdev_flushbufs: BLKFLSBUF writes back, then invalidates every
    // clean page) and reread the now empty partition tables, which deletes
    // the partitions together with their caches. (Linux also drops a block
    // device's cache when its last opener closes it, so in practice little
    // is cached to begin with.) Where punching is not possible it falls back
    // to writing zeroes over every nonzero chunk through the appliance.
    //
    // `part` replays the bytes part_disk wrote on a blank /dev/sda (captured
    // once at start-up, byte for byte) and rereads the partition table, which
    // gives the same disk and kernel state without running parted each time.

    let timing = ProcessInfo.processInfo.environment["GUESTFS_MODEL_TIMING"] != nil
    var phaseTimes: [String: Double] = [:]
    func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        if !timing { return try body() }
        let t0 = Date()
        defer { phaseTimes[name, default: 0] += Date().timeIntervalSince(t0) }
        return try body()
    }

    /// What part_disk(/dev/sda, mbr) writes on a blank disk: (offset, host file holding the bytes).
    private var partImage: [(offset: Int64, file: URL)]?

    /// Nonzero ranges of a disk image, at `chunk` granularity, adjacent ranges
    /// merged. Allocated all-zero chunks are punched out (contents unchanged).
    private func nonzeroRanges(_ path: String, chunk: Int = 64 << 10) throws -> [(offset: Int64, length: Int64)] {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw ModelTestFailure(description: "cannot open \(path)") }
        defer { Foundation.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelTestFailure(description: "cannot stat \(path)") }
        let size = Int64(st.st_size)
        let seekData: Int32 = 3, seekHole: Int32 = 4
        var buf = [UInt8](repeating: 0, count: chunk)
        let zero = [UInt8](repeating: 0, count: chunk)
        var ranges: [(offset: Int64, length: Int64)] = []
        var punch: (Int64, Int64)?   // pending zero run to punch out
        func flushPunch() {
            if let (o, l) = punch, let f = ModelTestRunner.fallocate { _ = f(fd, 0x01 | 0x02, o, l) } // KEEP_SIZE|PUNCH_HOLE
            punch = nil
        }
        var pos: Int64 = 0
        while pos < size {
            let data = lseek(fd, off_t(pos), seekData)
            if data < 0 { break }   // ENXIO: no data after pos
            var hole = Int64(lseek(fd, off_t(data), seekHole))
            if hole < 0 { hole = size }
            var c = Int64(data) / Int64(chunk) * Int64(chunk)
            while c < hole {
                let n = Int(min(Int64(chunk), size - c))
                let r = buf.withUnsafeMutableBytes { Foundation.pread(fd, $0.baseAddress, n, off_t(c)) }
                guard r == n else { throw ModelTestFailure(description: "cannot read \(path) at \(c)") }
                let isZero = buf.withUnsafeBytes { b in zero.withUnsafeBytes { z in memcmp(b.baseAddress!, z.baseAddress!, n) == 0 } }
                if isZero {
                    if let (o, l) = punch, o + l == c { punch = (o, l + Int64(n)) } else { flushPunch(); punch = (c, Int64(n)) }
                } else if let last = ranges.last, last.offset + last.length == c {
                    ranges[ranges.count - 1].length += Int64(n)
                } else {
                    ranges.append((c, Int64(n)))
                }
                c += Int64(n)
            }
            pos = max(hole, c)
        }
        flushPunch()
        return ranges
    }

    private typealias Fallocate = @convention(c) (Int32, Int32, Int64, Int64) -> Int32
    private static let fallocate: Fallocate? = dlsym(nil, "fallocate").map { unsafeBitCast($0, to: Fallocate.self) }

    /// Makes both disks read as all zeroes.
    private func zeroDisks() throws {
        // Everything the guest wrote is in the images once it has synced.
        try g.sync()
        for (_, path) in disks { _ = punchOut(path) }
        // Drop the guest's cached copy of the whole disks (partitions go at
        // the reread that follows).
        for (dev, _) in disks { try g.blockdevFlushbufs(dev) }
        // Whatever could not be punched out (a host without hole punching):
        // write zeroes over it through the appliance.
        var wrote = false
        for (dev, path) in disks {
            for r in try timed("zero-scan", { try nonzeroRanges(path) }) {
                // A sparse host file of zeroes of exactly the range's length.
                guard truncate(zeroFile.path, 0) == 0, truncate(zeroFile.path, off_t(r.length)) == 0 else {
                    throw ModelTestFailure(description: "cannot size \(zeroFile.path)")
                }
                try g.uploadOffset(zeroFile.path, dev, r.offset)
                wrote = true
            }
        }
        if wrote { try g.sync() }
    }

    /// Punches the whole image out (it keeps its size and reads as zeroes);
    /// true when the image has no data left afterwards.
    private func punchOut(_ path: String) -> Bool {
        guard let fallocate = ModelTestRunner.fallocate else { return false }
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Foundation.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return false }
        if lseek(fd, 0, 3 /* SEEK_DATA */) < 0 && errno == ENXIO { return true }   // already all hole
        guard fallocate(fd, 0x01 | 0x02 /* KEEP_SIZE|PUNCH_HOLE */, 0, Int64(st.st_size)) == 0 else { return false }
        return lseek(fd, 0, 3 /* SEEK_DATA */) < 0 && errno == ENXIO
    }

    /// Runs part_disk once on the blank /dev/sda and keeps the bytes it wrote.
    private func capturePartImage() throws {
        try g.partDisk("/dev/sda", "mbr")
        try g.sync()
        let path = disks[0].path
        let ranges = try nonzeroRanges(path, chunk: 4096)
        guard ranges.reduce(0, { $0 + $1.length }) <= 1 << 20, let h = FileHandle(forReadingAtPath: path) else { return }
        defer { try? h.close() }
        var image: [(offset: Int64, file: URL)] = []
        for (i, r) in ranges.enumerated() {
            try h.seek(toOffset: UInt64(r.offset))
            let bytes = h.readData(ofLength: Int(r.length))
            let u = workDir.appendingPathComponent("part-\(i)")
            try bytes.write(to: u)
            image.append((r.offset, u))
        }
        partImage = image
    }

    func prepare(_ kind: String) throws {
        timed("setrw") {
            _ = try? g.callAction("blockdev_setrw", [.string("/dev/sda")])
            _ = try? g.callAction("blockdev_setrw", [.string("/dev/sdb")])
        }
        try timed("umount") { try g.umountAll() }
        try timed("lvmremove") { try g.lvmRemoveAll() }
        // A test that failed half way can leave a LUKS mapping open, which
        // keeps its partition busy for every test after it.
        timed("dmclose") {
            for dm in (try? g.listDmDevices()) ?? [] { try? g.cryptsetupClose(dm) }
        }
        try timed("zero") { try zeroDisks() }
        for (dev, _) in disks {
            try timed("rereadpt") { try g.blockdevRereadpt(dev) }
        }
        if kind == "empty" { return }
        try timed("partdisk") {
            if let partImage {
                for (offset, file) in partImage { try g.uploadOffset(file.path, "/dev/sda", offset) }
                try g.blockdevRereadpt("/dev/sda")
            } else {
                try g.partDisk("/dev/sda", "mbr")
            }
        }
        switch kind {
        case "part":
            break
        case "fs":
            try timed("mkfs") { try g.mkfs("ext2", "/dev/sda1") }
            try timed("mount") { try g.mount("/dev/sda1", "/") }
        case "lvm_fs":
            try g.pvcreate("/dev/sda1")
            try g.vgcreate("VG", ["/dev/sda1"])
            try g.lvcreate("LV", "VG", 64)
            try g.mkfs("ext2", "/dev/VG/LV")
            try g.mount("/dev/VG/LV", "/")
        default:
            throw ModelTestFailure(description: "unknown prepare \(kind)")
        }
    }

    // MARK: running

    func run(_ t: ModelTest) throws {
        try timed("prepare") { try prepare(t.prepare) }
        let t0 = Date()
        defer { if timing { phaseTimes["run", default: 0] += Date().timeIntervalSince(t0) } }
        var outFile: URL?
        var last: Result<ActionResult, Error> = .success(.none)
        for (i, call) in t.run.enumerated() {
            guard case let .string(name)? = call.first else { throw ModelTestFailure(description: "\(t.label): bad call") }
            var args: [ActionArgument] = []
            var optargs: [String: ActionArgument] = [:]
            for v in call.dropFirst() {
                if case let .map(m) = v {
                    for (k, ov) in m { optargs[k] = try argument(ov, outFile: &outFile) }
                } else {
                    args.append(try argument(v, outFile: &outFile))
                }
            }
            last = Result { try g.callAction(name, args, optargs: optargs) }
            if i < t.run.count - 1, case let .failure(e) = last {
                throw ModelTestFailure(description: "\(t.label): step \(i + 1) (\(name)) failed: \(e)")
            }
        }
        try check(t, last, outFile)
    }

    private func argument(_ v: TV, outFile: inout URL?) throws -> ActionArgument {
        switch v {
        case let .string(s):
            switch s {
            case "@test-data": return .string(testData.path)
            case "@empty": return .string(emptyFile.path)
            case "@hive": return .string(hiveFile.path)
            case "@out":
                let u = workDir.appendingPathComponent("out-\(UUID().uuidString)")
                outFile = u
                return .string(u.path)
            case "@last-out":
                // The file an earlier call's `@out` produced (to upload it again).
                guard let u = outFile else { throw ModelTestFailure(description: "@last-out before any @out") }
                return .string(u.path)
            default: return .string(s)
            }
        case let .int(i): return .int(i)
        case let .bool(b): return .bool(b)
        case .null: return .null
        case let .list(l):
            return .stringList(try l.map {
                guard case let .string(s) = $0 else { throw ModelTestFailure(description: "list items must be strings") }
                return s
            })
        case .map: throw ModelTestFailure(description: "unexpected mapping argument")
        }
    }

    // MARK: checking

    private func check(_ t: ModelTest, _ result: Result<ActionResult, Error>, _ outFile: URL?) throws {
        func fail(_ why: String) -> ModelTestFailure {
            // Long outputs (dmesg, listings) are cut so failures stay readable.
            let short = why.count > 400 ? String(why.prefix(400)) + "…" : why
            return ModelTestFailure(description: "\(t.label): \(short)")
        }
        for (kind, want) in t.expect {
            switch kind {
            case "error":
                guard case let .failure(e) = result else { throw fail("expected an error, got \(result)") }
                if case let .string(errnoName) = want {
                    let got = (e as? GuestfsError)?.errnoName ?? "?"
                    if got != errnoName { throw fail("expected \(errnoName), got \(got): \(e)") }
                }
                continue
            default:
                break
            }
            let value: ActionResult
            switch result {
            case let .success(v): value = v
            case let .failure(e): throw fail("failed: \(e)")
            }
            switch kind {
            case "ok":
                break
            case "equals":
                if !matches(value, want) { throw fail("expected \(describe(want)), got \(value)") }
            case "matches":
                guard case let .string(pattern) = want else { throw fail("matches needs a string") }
                let text = stringValue(value) ?? ""
                if text.range(of: pattern, options: .regularExpression) == nil {
                    throw fail("\(text.debugDescription) does not match /\(pattern)/")
                }
            case "count":
                guard case let .int(n) = want else { throw fail("count needs an int") }
                let got: Int
                switch value {
                case let .stringList(l): got = l.count
                case let .structList(l): got = l.count
                case let .hashtable(h): got = h.count
                default: throw fail("count on \(value)")
                }
                if got != Int(n) { throw fail("expected \(n) items, got \(got): \(value)") }
            case "fields":
                if case let .hashtable(pairs) = value {
                    // A hashtable: each listed key present with that value.
                    guard case let .map(wanted) = want else { throw fail("fields needs a mapping") }
                    for (k, w) in wanted {
                        guard let got = pairs.first(where: { $0.0 == k })?.1 else { throw fail("no key \(k.debugDescription) in \(value)") }
                        let ok: Bool
                        switch w {
                        case let .string(s): ok = got == s
                        case let .int(i): ok = got == String(i)
                        default: ok = false
                        }
                        if !ok { throw fail("key \(k.debugDescription): expected \(describe(w)), got \(got.debugDescription)") }
                    }
                    break
                }
                guard case let .structure(fields) = value else { throw fail("expected a struct, got \(value)") }
                try checkFields(fields, want, fail)
            case "fields_at":
                guard case let .structList(list) = value, case let .map(byIndex) = want else { throw fail("fields_at on \(value)") }
                for (k, fw) in byIndex {
                    guard let i = Int(k), i < list.count else { throw fail("no element \(k) in \(list.count)") }
                    try checkFields(list[i], fw, fail)
                }
            case "output_equals":
                guard case let .string(text) = want, let outFile else { throw fail("output_equals needs @out") }
                let got = (try? Data(contentsOf: outFile)) ?? Data()
                if got != Data(text.utf8) { throw fail("output was \(String(decoding: got, as: UTF8.self).debugDescription)") }
            default:
                throw fail("unknown expectation \(kind)")
            }
        }
    }

    private func checkFields(_ fields: [(name: String, value: FieldValue)], _ want: TV, _ fail: (String) -> ModelTestFailure) throws {
        guard case let .map(wanted) = want else { throw fail("fields needs a mapping") }
        for (name, w) in wanted {
            guard let f = fields.first(where: { $0.name == name }) else { throw fail("no field \(name)") }
            let ok: Bool
            switch (f.value, w) {
            case let (.int(a), .int(b)): ok = a == b
            case let (.uint(a), .int(b)): ok = Int64(bitPattern: a) == b
            case let (.string(a), .string(b)): ok = a == b
            case let (.buffer(a), .string(b)): ok = a == Array(b.utf8)
            case let (.char(a), .string(b)): ok = String(UnicodeScalar(a)) == b
            case let (.percent(a), .int(b)): ok = Int64(a) == b
            default: ok = false
            }
            if !ok { throw fail("field \(name): expected \(describe(w)), got \(f.value)") }
        }
    }

    private func stringValue(_ v: ActionResult) -> String? {
        switch v {
        case let .string(s): return s
        case let .optString(s): return s
        case let .buffer(b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    private func matches(_ v: ActionResult, _ want: TV) -> Bool {
        switch (v, want) {
        case let (.int(a), .int(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.optString(a), .string(b)): return a == b
        case (.optString(nil), .null): return true
        case let (.buffer(a), .string(b)): return a == Array(b.utf8)
        case let (.stringList(a), .list(b)):
            return a.count == b.count && zip(a, b).allSatisfy { if case let .string(s) = $1 { return $0 == s }; return false }
        case let (.hashtable(a), .map(b)):
            let want = Dictionary(b.compactMap { k, v -> (String, String)? in
                if case let .string(s) = v { return (k, s) }
                if case let .int(i) = v { return (k, String(i)) }
                return nil
            }, uniquingKeysWith: { x, _ in x })
            return Dictionary(a.map { ($0.0, $0.1) }, uniquingKeysWith: { x, _ in x }) == want
        default: return false
        }
    }

    private func describe(_ v: TV) -> String {
        switch v {
        case let .string(s): return s.debugDescription
        case let .int(i): return String(i)
        case let .bool(b): return String(b)
        case .null: return "null"
        case let .list(l): return "[" + l.map(describe).joined(separator: ", ") + "]"
        case let .map(m): return "{" + m.map { "\($0.0): \(describe($0.1))" }.joined(separator: ", ") + "}"
        }
    }
}
