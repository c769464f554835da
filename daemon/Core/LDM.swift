// Windows dynamic disks (Logical Disk Manager) through ldmtool(1): it
// prints JSON, read here with a small parser; `ldmtool create all` maps
// the volumes with device-mapper as /dev/mapper/ldm_vol_* and
// /dev/mapper/ldm_part_*.

import Glibc

/// Just enough JSON for ldmtool's output.
indirect enum JSONValue: Equatable {
    case string(String), number(Double), bool(Bool), null
    case array([JSONValue]), object([(String, JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: return false
        }
    }

    subscript(key: String) -> JSONValue? {
        if case let .object(fields) = self { return fields.first { $0.0 == key }?.1 }
        return nil
    }

    var string: String? { if case let .string(s) = self { return s }; return nil }
    var strings: [String]? {
        guard case let .array(a) = self else { return nil }
        let s = a.compactMap(\.string)
        return s.count == a.count ? s : nil
    }

    struct ParseError: Error { var offset: Int }

    static func parse(_ text: String) throws -> JSONValue {
        var p = Parser(bytes: Array(text.utf8))
        let v = try p.value()
        p.skipSpace()
        if p.i != p.bytes.count { throw ParseError(offset: p.i) }
        return v
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[i]) { i += 1 }
        }

        mutating func expect(_ word: String) throws {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw ParseError(offset: i) }
            i += w.count
        }

        mutating func value() throws -> JSONValue {
            skipSpace()
            guard i < bytes.count else { throw ParseError(offset: i) }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var fields: [(String, JSONValue)] = []
                skipSpace()
                if i < bytes.count && bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
                while true {
                    skipSpace()
                    let k = try stringLiteral()
                    skipSpace()
                    try expect(":")
                    fields.append((k, try value()))
                    skipSpace()
                    guard i < bytes.count else { throw ParseError(offset: i) }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    try expect("}")
                    return .object(fields)
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [JSONValue] = []
                skipSpace()
                if i < bytes.count && bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    items.append(try value())
                    skipSpace()
                    guard i < bytes.count else { throw ParseError(offset: i) }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    try expect("]")
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try stringLiteral())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default:
                let start = i
                while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
                guard i > start, let d = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
                    throw ParseError(offset: start)
                }
                return .number(d)
            }
        }

        mutating func stringLiteral() throws -> String {
            try expect("\"")
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard i < bytes.count else { break }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else {
                        throw ParseError(offset: i)
                    }
                    i += 4
                    out += Array(String(UnicodeScalar(v).map(Character.init) ?? "\u{fffd}").utf8)
                default: out.append(e)
                }
            }
            throw ParseError(offset: i)
        }
    }
}

extension Handlers {
    /// Runs ldmtool and parses its JSON output.
    private func ldmtool(_ args: [String]) throws -> JSONValue {
        let argv = ["ldmtool"] + args
        let r = try Command.run(argv)
        if !r.ok { throw Command.failure(argv, r) }
        do { return try JSONValue.parse(r.out) } catch {
            throw DaemonError(EINVAL, "ldmtool \(args.joined(separator: " ")): cannot parse its output: \(r.out.trimmed())")
        }
    }

    private func ldmStrings(_ args: [String], _ what: String) throws -> [String] {
        guard let list = try ldmtool(args).strings else {
            throw DaemonError(EINVAL, "ldmtool \(args.joined(separator: " ")): expected a list of \(what)")
        }
        return list
    }

    private func ldmField(_ args: [String], _ field: String) throws -> JSONValue {
        guard let v = try ldmtool(args)[field] else {
            throw DaemonError(EINVAL, "ldmtool \(args.joined(separator: " ")): no '\(field)' in its output")
        }
        return v
    }

    func ldmtoolScan(_ ctx: CallContext) throws -> [String] {
        try ldmStrings(["scan"], "disk group GUIDs")
    }

    func ldmtoolScanDevices(_ ctx: CallContext, devices: [String]) throws -> [String] {
        try ldmStrings(["scan"] + devices, "disk group GUIDs")
    }

    func ldmtoolCreateAll(_ ctx: CallContext) throws {
        try Command.check(["ldmtool", "create", "all"])
    }

    func ldmtoolRemoveAll(_ ctx: CallContext) throws {
        try Command.check(["ldmtool", "remove", "all"])
    }

    func ldmtoolDiskgroupName(_ ctx: CallContext, diskgroup: String) throws -> String {
        guard let s = try ldmField(["show", "diskgroup", diskgroup], "name").string else {
            throw DaemonError(EINVAL, "ldmtool show diskgroup \(diskgroup): 'name' is not a string")
        }
        return s
    }

    func ldmtoolDiskgroupVolumes(_ ctx: CallContext, diskgroup: String) throws -> [String] {
        guard let l = try ldmField(["show", "diskgroup", diskgroup], "volumes").strings else {
            throw DaemonError(EINVAL, "ldmtool show diskgroup \(diskgroup): 'volumes' is not a list of names")
        }
        return l
    }

    func ldmtoolDiskgroupDisks(_ ctx: CallContext, diskgroup: String) throws -> [String] {
        guard let names = try ldmField(["show", "diskgroup", diskgroup], "disks").strings else {
            throw DaemonError(EINVAL, "ldmtool show diskgroup \(diskgroup): 'disks' is not a list of names")
        }
        return try names.map { disk in
            guard let dev = try ldmField(["show", "disk", diskgroup, disk], "device").string else {
                throw DaemonError(EINVAL, "ldmtool show disk \(diskgroup) \(disk): 'device' is not a string")
            }
            return dev
        }
    }

    func ldmtoolVolumeType(_ ctx: CallContext, diskgroup: String, volume: String) throws -> String {
        guard let s = try ldmField(["show", "volume", diskgroup, volume], "type").string else {
            throw DaemonError(EINVAL, "ldmtool show volume \(diskgroup) \(volume): 'type' is not a string")
        }
        return s
    }

    func ldmtoolVolumeHint(_ ctx: CallContext, diskgroup: String, volume: String) throws -> String {
        let v = try ldmtool(["show", "volume", diskgroup, volume])
        return v["hint"]?.string ?? ""
    }

    func ldmtoolVolumePartitions(_ ctx: CallContext, diskgroup: String, volume: String) throws -> [String] {
        guard let names = try ldmField(["show", "volume", diskgroup, volume], "partitions").strings else {
            throw DaemonError(EINVAL, "ldmtool show volume \(diskgroup) \(volume): 'partitions' is not a list of names")
        }
        return try names.map { part in
            guard let dev = try ldmField(["show", "partition", diskgroup, part], "device").string else {
                throw DaemonError(EINVAL, "ldmtool show partition \(diskgroup) \(part): 'device' is not a string")
            }
            return dev
        }
    }

    /// /dev/mapper entries whose names start with `prefix`, sorted.
    private func mapperDevices(prefix: String) -> [String] {
        guard let d = opendir("/dev/mapper") else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name.hasPrefix(prefix) { out.append("/dev/mapper/" + name) }
        }
        return out.sorted()
    }

    func listLdmVolumes(_ ctx: CallContext) throws -> [String] { mapperDevices(prefix: "ldm_vol_") }
    func listLdmPartitions(_ ctx: CallContext) throws -> [String] { mapperDevices(prefix: "ldm_part_") }
}
