import Foundation
import GuestfsProtocol

/// A loosely typed argument for `callAction`. The converters also accept
/// strings, the way guestfish passes everything: "true"/"yes"/"1" for
/// booleans, decimal, 0x hex or leading-0 octal for integers,
/// space-separated words for lists.
public enum ActionArgument: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case stringList([String])
    case bool(Bool)
    case int(Int64)
    case buffer([UInt8])
    /// No value (a null OptString).
    case null

    public var description: String {
        switch self {
        case let .string(s): return "\"\(s)\""
        case let .stringList(l): return "[" + l.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .buffer(b): return "<buffer \(b.count) bytes>"
        case .null: return "NULL"
        }
    }

    static func badArg(_ name: String, _ what: String, _ v: ActionArgument) -> GuestfsError {
        GuestfsError(errno: EINVAL, "\(name): expecting \(what), got \(v)")
    }

    public func string(_ name: String) throws -> String {
        switch self {
        case let .string(s): return s
        case let .int(i): return String(i)
        case let .bool(b): return b ? "true" : "false"
        case let .buffer(b): return String(decoding: b, as: UTF8.self)
        case .stringList, .null: throw ActionArgument.badArg(name, "a string", self)
        }
    }

    public func optString(_ name: String) throws -> String? {
        if case .null = self { return nil }
        return try string(name)
    }

    public func stringList(_ name: String) throws -> [String] {
        switch self {
        case let .stringList(l): return l
        case let .string(s): return try ActionArgument.splitWords(s, name)
        case .null: return []
        default: throw ActionArgument.badArg(name, "a list of strings", self)
        }
    }

    public func bool(_ name: String) throws -> Bool {
        switch self {
        case let .bool(b): return b
        case let .int(i): return i != 0
        case let .string(s):
            if let b = ActionArgument.parseBool(s) { return b }
            throw GuestfsError(errno: EINVAL, "\(name): '\(s)' is not a boolean (use true/false, yes/no, 1/0)")
        default: throw ActionArgument.badArg(name, "a boolean", self)
        }
    }

    public func int32(_ name: String) throws -> Int32 {
        let v = try int64(name)
        guard let r = Int32(exactly: v) else {
            throw GuestfsError(errno: ERANGE, "\(name): integer out of range: \(v)")
        }
        return r
    }

    public func int64(_ name: String) throws -> Int64 {
        switch self {
        case let .int(i): return i
        case let .bool(b): return b ? 1 : 0
        case let .string(s):
            if let v = ActionArgument.parseInt(s) { return v }
            throw GuestfsError(errno: EINVAL, "\(name): '\(s)' is not an integer")
        default: throw ActionArgument.badArg(name, "an integer", self)
        }
    }

    public func buffer(_ name: String) throws -> [UInt8] {
        switch self {
        case let .buffer(b): return b
        case let .string(s): return Array(s.utf8)
        default: throw ActionArgument.badArg(name, "a buffer", self)
        }
    }

    /// guestfish's notion of a boolean word (case-insensitive).
    public static func parseBool(_ s: String) -> Bool? {
        switch s.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true", "t", "yes", "y", "on": return true
        case "0", "false", "f", "no", "n", "off": return false
        default: return nil
        }
    }

    /// Parses an integer like strtoll with base 0: optional sign, then
    /// decimal, 0x/0X hex or leading-0 octal. The whole string must be used.
    public static func parseInt(_ str: String) -> Int64? {
        var s = Substring(str.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        guard !s.isEmpty else { return nil }
        var radix = 10
        if s.hasPrefix("0x") || s.hasPrefix("0X") {
            radix = 16; s = s.dropFirst(2)
        } else if s.count > 1 && s.hasPrefix("0") {
            radix = 8; s = s.dropFirst()
        }
        guard !s.isEmpty, let mag = UInt64(s, radix: radix) else { return nil }
        if negative {
            if mag == UInt64(Int64.max) + 1 { return Int64.min }
            guard mag <= UInt64(Int64.max) else { return nil }
            return -Int64(mag)
        }
        guard mag <= UInt64(Int64.max) else { return nil }
        return Int64(mag)
    }

    /// Splits a guestfish list argument into words: whitespace separates,
    /// double or single quotes group, backslash escapes inside double quotes.
    public static func splitWords(_ s: String, _ name: String = "list") throws -> [String] {
        var out: [String] = []
        var cur = ""
        var inWord = false
        var it = Array(s)
        var i = 0
        while i < it.count {
            let c = it[i]
            if c == " " || c == "\t" || c == "\n" {
                if inWord { out.append(cur); cur = ""; inWord = false }
                i += 1
                continue
            }
            inWord = true
            if c == "\"" || c == "'" {
                let q = c
                i += 1
                var closed = false
                while i < it.count {
                    if it[i] == q { closed = true; i += 1; break }
                    if q == "\"" && it[i] == "\\" && i + 1 < it.count { cur.append(it[i + 1]); i += 2; continue }
                    cur.append(it[i]); i += 1
                }
                if !closed { throw GuestfsError(errno: EINVAL, "\(name): unterminated quote in list") }
                continue
            }
            cur.append(c)
            i += 1
        }
        if inWord { out.append(cur) }
        it.removeAll()
        return out
    }

    /// Checks the number of required arguments and the names of optional
    /// ones before `callAction` converts them.
    public static func check(_ action: String, _ args: [ActionArgument], count: Int, optargs: [String: ActionArgument], allowed: [String]) throws {
        if args.count != count {
            throw GuestfsError(errno: EINVAL, "\(action): wrong number of arguments: expected \(count), got \(args.count)")
        }
        for k in optargs.keys.sorted() where !allowed.contains(k) {
            throw GuestfsError(errno: EINVAL, "\(action): unknown optional argument '\(k)'")
        }
    }
}

/// What `callAction` returns, by return kind.
public enum ActionResult: CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int64)
    case string(String)
    case optString(String?)
    case stringList([String])
    case buffer([UInt8])
    /// Key/value pairs, sorted by key.
    case hashtable([(String, String)])
    case structure([(name: String, value: FieldValue)])
    case structList([[(name: String, value: FieldValue)]])

    public var description: String {
        switch self {
        case .none: return ""
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .string(s): return s
        case let .optString(s): return s ?? "NULL"
        case let .stringList(l): return l.joined(separator: "\n")
        case let .buffer(b): return String(decoding: b, as: UTF8.self)
        case let .hashtable(h): return h.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
        case let .structure(f): return ActionResult.describe(f)
        case let .structList(l): return l.map(ActionResult.describe).joined(separator: "\n")
        }
    }

    static func describe(_ f: [(name: String, value: FieldValue)]) -> String {
        f.map { "\($0.name): \(ActionResult.describe($0.value))" }.joined(separator: "\n")
    }

    static func describe(_ v: FieldValue) -> String {
        switch v {
        case let .char(c): return String(UnicodeScalar(c))
        case let .string(s): return s
        case let .buffer(b): return String(decoding: b, as: UTF8.self)
        case let .int(i): return String(i)
        case let .uint(u): return String(u)
        case let .percent(p): return p < 0 ? "" : String(p)
        }
    }
}

/// What an action takes and returns, for tools that work by name.
public struct ActionInfo: @unchecked Sendable {
    public enum ArgKind: String, Sendable {
        case string, pathname, device, mountable, deviceOrPath, mountableOrPath, fileIn, fileOut, key, guid
        case filename, stringList, deviceList, filenameList, pathnameList, optString, bool, int, int64, buffer
        case pointer
    }

    public enum ReturnKind: String, Sendable {
        case none, int, int64, bool, constString, constOptString, string, stringList, structure, structList
        case hashtable, buffer
    }

    public let name: String
    public let aliases: [String]
    public let fishAliases: [String]
    public let args: [(name: String, kind: ArgKind)]
    public let optargs: [(name: String, kind: ArgKind)]
    public let returns: ReturnKind
    /// The daemon procedure number, or nil for library-side actions.
    public let procedure: Int?
    public let deprecatedBy: String?
    public let optionalGroup: String?
    public let inGuestfish: Bool
    public let configOnly: Bool
    /// "hexadecimal" or "octal" when guestfish prints the integer that way.
    public let fishOutput: String?
    public let summary: String

    public init(name: String, aliases: [String], fishAliases: [String], args: [(name: String, kind: ArgKind)],
                optargs: [(name: String, kind: ArgKind)], returns: ReturnKind, procedure: Int? = nil,
                deprecatedBy: String? = nil, optionalGroup: String? = nil, inGuestfish: Bool = true,
                configOnly: Bool = false, fishOutput: String? = nil, summary: String) {
        self.name = name
        self.aliases = aliases
        self.fishAliases = fishAliases
        self.args = args
        self.optargs = optargs
        self.returns = returns
        self.procedure = procedure
        self.deprecatedBy = deprecatedBy
        self.optionalGroup = optionalGroup
        self.inGuestfish = inGuestfish
        self.configOnly = configOnly
        self.fishOutput = fishOutput
        self.summary = summary
    }

    /// True for actions that run in the daemon.
    public var isDaemonAction: Bool { procedure != nil }

    private static let index: [String: Int] = {
        var d: [String: Int] = [:]
        for (i, a) in all.enumerated() {
            d[a.name] = i
            for al in a.aliases where d[al] == nil { d[al] = i }
        }
        return d
    }()

    /// Looks an action up by name or alias (also accepting guestfish's
    /// dashes instead of underscores, and fish aliases).
    public static func find(_ name: String) -> ActionInfo? {
        if let i = index[name] { return all[i] }
        let u = name.replacingOccurrences(of: "-", with: "_")
        if let i = index[u] { return all[i] }
        return all.first { $0.fishAliases.contains(name) || $0.fishAliases.contains(name.replacingOccurrences(of: "_", with: "-")) }
    }
}
