import Foundation
import Guestfs
import GuestfsProtocol

/// Buffered writes to file descriptor 1 (so a `| pipeline` redirection,
/// which swaps fd 1, sees everything) and to stderr.
enum Out {
    static func write(_ s: String) {
        writeBytes(Array(s.utf8), fd: 1)
    }

    static func line(_ s: String) { write(s + "\n") }

    static func err(_ s: String) {
        writeBytes(Array(s.utf8), fd: 2)
    }

    static func errLine(_ s: String) { err(s + "\n") }

    @discardableResult
    static func writeBytes(_ bytes: [UInt8], fd: Int32) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            off += n
        }
        return true
    }
}

/// Prints action results the way guestfish does.
enum ResultPrinter {
    static func print(_ r: ActionResult, info: ActionInfo) {
        switch r {
        case .none:
            break
        case let .bool(b):
            Out.line(b ? "true" : "false")
        case let .int(i):
            Out.line(formatInt(i, info.fishOutput))
        case let .string(s):
            Out.line(s)
        case let .optString(s):
            Out.line(s ?? "(null)")
        case let .stringList(l):
            var s = ""
            for x in l { s += x + "\n" }
            Out.write(s)
        case let .buffer(b):
            Out.writeBytes(b, fd: 1)
        case let .hashtable(h):
            var s = ""
            for (k, v) in h { s += "\(k): \(v)\n" }
            Out.write(s)
        case let .structure(f):
            Out.write(structText(f, indent: ""))
        case let .structList(l):
            var s = ""
            for (i, f) in l.enumerated() {
                s += "[\(i)] = {\n" + structText(f, indent: "  ") + "}\n"
            }
            Out.write(s)
        }
    }

    static func formatInt(_ i: Int64, _ fishOutput: String?) -> String {
        switch fishOutput {
        case "octal":
            let u = UInt64(bitPattern: i)
            return (i != 0 ? "0" : "") + String(u, radix: 8)
        case "hexadecimal":
            let u = UInt64(bitPattern: i)
            return (i != 0 ? "0x" : "") + String(u, radix: 16)
        default:
            return String(i)
        }
    }

    static func structText(_ fields: [(name: String, value: FieldValue)], indent: String) -> String {
        var s = ""
        for (name, v) in fields {
            s += "\(indent)\(name): \(fieldText(v))\n"
        }
        return s
    }

    static func fieldText(_ v: FieldValue) -> String {
        switch v {
        case let .char(c): return String(UnicodeScalar(c))
        case let .string(s): return s
        case let .buffer(b):
            var s = ""
            for c in b {
                if c >= 0x20 && c < 0x7f { s.unicodeScalars.append(UnicodeScalar(c)) } else { s += String(format: "\\x%02x", c) }
            }
            return s
        case let .int(i): return String(i)
        case let .uint(u): return String(u)
        case let .percent(p): return p >= 0 ? String(format: "%g %%", Double(p)) : ""
        }
    }
}
