import Foundation
import GuestfsProtocol
import XDR

/// An argument as the trace output shows it.
public indirect enum TraceArg: Sendable {
    case string(String)
    case optString(String?)
    case stringList([String])
    case bool(Bool)
    case int(Int64)
    case buffer([UInt8])
    case pointer
    /// An optional argument: omitted from the trace when nil.
    case optional(String, TraceArg?)
}

enum Trace {
    /// libguestfs prints buffers with non-printable bytes as \xNN.
    static func escape(_ b: [UInt8]) -> String {
        var s = ""
        for c in b {
            if c >= 0x20 && c < 0x7f && c != UInt8(ascii: "\\") && c != UInt8(ascii: "\"") {
                s.unicodeScalars.append(UnicodeScalar(c))
            } else {
                s += String(format: "\\x%02x", c)
            }
        }
        return s
    }

    static func value(_ a: TraceArg) -> String {
        switch a {
        case let .string(s): return s
        case let .optString(s): return s ?? "NULL"
        case let .stringList(l): return l.joined(separator: " ")
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .buffer(b): return escape(b)
        case .pointer: return "(pointer)"
        case let .optional(_, v): return v.map(value) ?? ""
        }
    }

    /// `mount "/dev/sda1" "/"`, the text after "libguestfs: trace: ".
    static func call(_ name: String, _ args: [TraceArg]) -> String {
        var s = name
        for a in args {
            switch a {
            case let .string(v): s += " \"\(v)\""
            case let .optString(v): s += v.map { " \"\($0)\"" } ?? " null"
            case let .stringList(l): s += " \"\(l.joined(separator: " "))\""
            case let .bool(b): s += b ? " true" : " false"
            case let .int(i): s += " \(i)"
            case let .buffer(b): s += " \"\(escape(b))\""
            case .pointer: s += " (pointer)"
            case let .optional(n, v):
                if let v { s += " \"\(n):\(value(v))\"" }
            }
        }
        return s
    }

    /// The value part of `NAME = VALUE`.
    static func result(_ v: Any) -> String {
        switch v {
        case is Void: return "0"
        case let b as Bool: return b ? "1" : "0"
        case let i as Int32: return String(i)
        case let i as Int64: return String(i)
        case let i as Int: return String(i)
        case let s as String: return "\"\(s)\""
        case let s as String?: return s.map { "\"\($0)\"" } ?? "NULL"
        case let l as [String]: return "[" + l.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        case let b as [UInt8]: return "\"\(escape(b))\""
        case let h as [String: String]:
            return "[" + h.keys.sorted().flatMap { ["\"\($0)\"", "\"\(h[$0]!)\""] }.joined(separator: ", ") + "]"
        default:
            let m = Mirror(reflecting: v)
            if m.displayStyle == .collection {
                let t = String(describing: type(of: v)).replacingOccurrences(of: "Array<", with: "").replacingOccurrences(of: ">", with: "")
                return "<struct guestfs_\(structName(t))_list *>"
            }
            return "<struct guestfs_\(structName(String(describing: type(of: v)))) *>"
        }
    }

    static func structName(_ t: String) -> String {
        switch t {
        case "PV": return "lvm_pv"
        case "VG": return "lvm_vg"
        case "LV": return "lvm_lv"
        default: return t.lowercased()
        }
    }

    static func isIntLike<T>(_: T.Type) -> Bool {
        T.self == Void.self || T.self == Bool.self || T.self == Int32.self || T.self == Int64.self
    }
}

extension Guestfs {
    /// Wraps every public action: enter event, trace of the call and of its
    /// result or error, the config-state check, and one call at a time.
    public func perform<T>(_ name: String, _ args: [TraceArg], configOnly: Bool = false, _ body: () throws -> T) throws -> T {
        // user_cancel runs while another thread is inside a transfer: it only
        // sets the cancel flag, touching none of the handle's other state.
        if name == "user_cancel" { return try body() }
        // umount_local runs while another thread serves the FUSE mount inside
        // mount_local_run (holding the lock); it only runs fusermount3.
        if name == "umount_local" { return try body() }
        lock.lock()
        defer { lock.unlock() }

        emit(.enter, buffer: Array(name.utf8))
        let tracing = trace
        if tracing { emitMessage(.trace, Trace.call(name, args)) }
        func traceError() {
            if tracing { emitMessage(.trace, "\(name) = \(Trace.isIntLike(T.self) ? "-1" : "NULL") (error)") }
        }
        if closed {
            traceError()
            throw GuestfsError(errno: EINVAL, "\(name): the handle has been closed")
        }
        if configOnly && state != .config {
            traceError()
            throw GuestfsError("\(name): this function can only be called in the config state")
        }
        actionStack.append(name)
        defer { actionStack.removeLast() }
        do {
            let r = try body()
            if tracing { emitMessage(.trace, "\(name) = \(Trace.result(r))") }
            return r
        } catch let e as GuestfsError {
            traceError()
            throw e
        } catch {
            traceError()
            throw GuestfsError(errno: EIO, "\(name): \(error)")
        }
    }

    /// The name of the action being run (for error messages).
    var currentAction: String { actionStack.last ?? "guestfs" }

    /// An error prefixed with the current action's name.
    func fail(_ errno: Int32 = 0, _ message: String) -> GuestfsError {
        GuestfsError(errno: errno, "\(currentAction): \(message)")
    }

    /// Turns a daemon's flat key, value, key, value list into a dictionary.
    /// A flat key, value, key, value… list as ordered pairs.
    public static func pairs(_ list: [String]) -> [(key: String, value: String)] {
        stride(from: 0, to: list.count - 1, by: 2).map { (list[$0], list[$0 + 1]) }
    }


    // MARK: daemon calls (the four shapes the generated code uses)

    public func daemonCall<A: XDREncodable, R: XDRDecodable>(_ proc: Procedure, args: A, optargs: UInt64,
                                                             fileIn: String? = nil, fileOut: String? = nil,
                                                             returning: R.Type) throws -> R {
        var d = try rawDaemonCall(proc.rawValue, name: proc.actionName, args: args.xdrBytes, optargs: optargs,
                                  fileIn: fileIn, fileOut: fileOut)
        return try decodeReply(R.self, &d)
    }

    public func daemonCall<A: XDREncodable>(_ proc: Procedure, args: A, optargs: UInt64,
                                            fileIn: String? = nil, fileOut: String? = nil) throws {
        let d = try rawDaemonCall(proc.rawValue, name: proc.actionName, args: args.xdrBytes, optargs: optargs,
                                  fileIn: fileIn, fileOut: fileOut)
        try checkEmptyReply(d)
    }

    public func daemonCall<R: XDRDecodable>(_ proc: Procedure, optargs: UInt64,
                                            fileIn: String? = nil, fileOut: String? = nil,
                                            returning: R.Type) throws -> R {
        var d = try rawDaemonCall(proc.rawValue, name: proc.actionName, args: nil, optargs: optargs,
                                  fileIn: fileIn, fileOut: fileOut)
        return try decodeReply(R.self, &d)
    }

    public func daemonCall(_ proc: Procedure, optargs: UInt64, fileIn: String? = nil, fileOut: String? = nil) throws {
        let d = try rawDaemonCall(proc.rawValue, name: proc.actionName, args: nil, optargs: optargs,
                                  fileIn: fileIn, fileOut: fileOut)
        try checkEmptyReply(d)
    }

    func decodeReply<R: XDRDecodable>(_: R.Type, _ d: inout XDRDecoder) throws -> R {
        do {
            let r = try R(from: &d)
            try d.finish()
            return r
        } catch {
            throw fail(EPROTO, "failed to parse the reply from the daemon: \(error)")
        }
    }

    func checkEmptyReply(_ d: XDRDecoder) throws {
        if d.remaining != 0 {
            throw fail(EPROTO, "unexpected \(d.remaining) bytes in the reply from the daemon")
        }
    }
}
