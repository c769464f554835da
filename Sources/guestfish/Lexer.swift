import Foundation

/// One parsed guestfish command line.
struct ParsedLine: Equatable {
    /// The command name (empty for a blank line or a comment).
    var command: String = ""
    var args: [String] = []
    /// A leading `-`: the command's failure does not stop the script.
    var ignoreError = false
    /// `cmd | shell pipeline`: the local pipeline to send the output to.
    var pipe: String?
    /// `!cmd`: a local shell command.
    var localCommand: String?
    /// `<! cmd`: run cmd locally and execute its output as guestfish commands.
    var inlineCommand: String?
}

struct ParseError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The guestfish command-line syntax: whitespace separates words; double
/// quotes group and understand C-like escapes; single quotes group with no
/// escapes; an unquoted word starting with `~` is expanded like the shell
/// does; a word `|` starts a local pipeline taking the rest of the line.
/// Comments are lines whose first non-blank character is `#`.
enum Lexer {
    static func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }

    static func parse(_ line: String) throws -> ParsedLine {
        var out = ParsedLine()
        var s = Substring(line)
        while let c = s.first, isSpace(c) { s = s.dropFirst() }
        while let c = s.last, isSpace(c) { s = s.dropLast() }
        if s.isEmpty || s.first == "#" { return out }
        if s.first == "!" {
            out.localCommand = String(s.dropFirst())
            return out
        }
        if s.hasPrefix("<!") {
            out.inlineCommand = String(s.dropFirst(2))
            return out
        }
        if s.first == "-" {
            out.ignoreError = true
            s = s.dropFirst()
            while let c = s.first, isSpace(c) { s = s.dropFirst() }
        }
        let (words, pipe) = try splitWords(s)
        out.pipe = pipe
        guard let first = words.first else { return out }
        out.command = first
        out.args = Array(words.dropFirst())
        return out
    }

    /// Splits into words; returns the pipeline after an unquoted `|` word too.
    static func splitWords(_ input: Substring) throws -> ([String], String?) {
        let chars = Array(input)
        var words: [String] = []
        var i = 0
        let n = chars.count
        while i < n {
            while i < n, isSpace(chars[i]) { i += 1 }
            if i >= n { break }
            let c = chars[i]
            if c == "\"" || c == "'" {
                let start = i
                i += 1
                var word = ""
                var closed = false
                while i < n {
                    let d = chars[i]
                    if d == c { closed = true; i += 1; break }
                    if c == "\"" && d == "\\" {
                        let (ch, used) = try unescape(chars, i, start)
                        word += ch
                        i += used
                        continue
                    }
                    word.append(d)
                    i += 1
                }
                if !closed {
                    throw ParseError(message: c == "\"" ? "unterminated double quote" : "unterminated single quote")
                }
                if i < n && !isSpace(chars[i]) {
                    throw ParseError(message: "command arguments not separated by whitespace")
                }
                words.append(word)
            } else if c == "|" {
                let rest = String(chars[(i + 1)...])
                return (words, rest)
            } else {
                var word = ""
                while i < n, !isSpace(chars[i]) {
                    word.append(chars[i])
                    i += 1
                }
                words.append(expandTilde(word))
            }
        }
        return (words, nil)
    }

    /// Decodes one backslash escape at `chars[i]`; returns the text and the
    /// number of characters used.
    static func unescape(_ chars: [Character], _ i: Int, _ quoteStart: Int) throws -> (String, Int) {
        let bad = ParseError(message: "invalid escape sequence in string (starting at offset \(i - quoteStart - 1))")
        guard i + 1 < chars.count else { throw bad }
        let e = chars[i + 1]
        switch e {
        case "a": return ("\u{07}", 2)
        case "b": return ("\u{08}", 2)
        case "f": return ("\u{0C}", 2)
        case "n": return ("\n", 2)
        case "r": return ("\r", 2)
        case "t": return ("\t", 2)
        case "v": return ("\u{0B}", 2)
        case "\"", "'", "?", "\\": return (String(e), 2)
        case "x":
            guard i + 3 < chars.count, let h = chars[i + 2].hexDigitValue, let l = chars[i + 3].hexDigitValue else { throw bad }
            return (byteString(UInt8(h * 16 + l)), 4)
        case "0"..."7":
            var v = 0
            var used = 1
            while used <= 3, i + used < chars.count, let d = chars[i + used].wholeNumberValue, d < 8 {
                v = v * 8 + d
                used += 1
            }
            guard v < 256 else { throw bad }
            return (byteString(UInt8(v)), used)
        default:
            throw bad
        }
    }

    /// A single escaped byte. Bytes >= 0x80 are kept as private-use
    /// scalars (U+F780...U+F7FF) so that `rawBytes` can restore the exact
    /// byte for buffer arguments and `decoded` can rebuild UTF-8 text.
    static func byteString(_ b: UInt8) -> String {
        b < 0x80 ? String(UnicodeScalar(b)) : String(UnicodeScalar(0xF700 + UInt32(b))!)
    }

    /// The bytes a parsed word stands for.
    static func rawBytes(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        for u in s.unicodeScalars {
            if u.value >= 0xF780 && u.value <= 0xF7FF {
                out.append(UInt8(u.value - 0xF700))
            } else {
                out.append(contentsOf: Array(String(u).utf8))
            }
        }
        return out
    }

    /// A parsed word as text (escaped bytes reassembled as UTF-8).
    static func decoded(_ s: String) -> String {
        if !s.unicodeScalars.contains(where: { $0.value >= 0xF780 && $0.value <= 0xF7FF }) { return s }
        return String(decoding: rawBytes(s), as: UTF8.self)
    }

    /// `~` and `~user` at the start of an unquoted word.
    static func expandTilde(_ word: String) -> String {
        guard word.first == "~" else { return word }
        let rest = word.dropFirst()
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let user = String(rest[rest.startIndex..<slash])
        let tail = String(rest[slash...])
        if user.isEmpty {
            if let h = ProcessInfo.processInfo.environment["HOME"], !h.isEmpty { return h + tail }
            if let pw = getpwuid(getuid()), let d = pw.pointee.pw_dir { return String(cString: d) + tail }
            return word
        }
        if let pw = getpwnam(user), let d = pw.pointee.pw_dir { return String(cString: d) + tail }
        return word
    }
}
