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

/// Runs model tests against one real, shared appliance: two blank disks
/// (/dev/sda 512 MiB, /dev/sdb 64 MiB), reset before every test.
final class ModelTestRunner {
    let g: Guestfs
    let workDir: URL
    let testData: URL
    let emptyFile: URL

    init() throws {
        workDir = FileManager.default.temporaryDirectory.appendingPathComponent("guestfs-model-tests-\(getpid())")
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        testData = workDir.appendingPathComponent("test-data")
        emptyFile = workDir.appendingPathComponent("empty")
        let pattern = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) }
        try Data(pattern).write(to: testData)
        try Data().write(to: emptyFile)
        g = try Guestfs()
        for (name, size) in [("sda.img", 512 << 20), ("sdb.img", 64 << 20)] {
            let path = workDir.appendingPathComponent(name).path
            FileManager.default.createFile(atPath: path, contents: nil)
            guard truncate(path, off_t(size)) == 0 else { throw ModelTestFailure(description: "cannot create \(path)") }
            try g.addDrive(path, format: "raw")
        }
        try g.launch()
    }

    func close() {
        g.close()
        try? FileManager.default.removeItem(at: workDir)
    }

    // MARK: preparing the disks

    func prepare(_ kind: String) throws {
        _ = try? g.callAction("blockdev_setrw", [.string("/dev/sda")])
        _ = try? g.callAction("blockdev_setrw", [.string("/dev/sdb")])
        try g.umountAll()
        try g.lvmRemoveAll()
        for dev in ["/dev/sda", "/dev/sdb"] {
            try g.zero(dev)
            try g.blockdevRereadpt(dev)
        }
        if kind == "empty" { return }
        try g.partDisk("/dev/sda", "mbr")
        switch kind {
        case "part":
            break
        case "fs":
            try g.mkfs("ext2", "/dev/sda1")
            try g.mount("/dev/sda1", "/")
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
        try prepare(t.prepare)
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
            case "@out":
                let u = workDir.appendingPathComponent("out-\(UUID().uuidString)")
                outFile = u
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
