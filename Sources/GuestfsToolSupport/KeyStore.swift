// Keys for encrypted guest disks, shared by guestfish and the virt tools:
// the --key selectors from the command line, and asking the user (on the
// terminal, or one line per key from stdin with --keys-from-stdin).

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the keys for encrypted devices come from.
public final class KeyStore {
    /// One `--key ID:key:STRING` or `--key ID:file:FILENAME`; ID is the
    /// device name (/dev/sda2) or the LUKS UUID.
    public struct Selector: Equatable {
        public enum Source: Equatable {
            case string(String)
            case file(String)
        }
        public var id: String
        public var source: Source
    }

    public var selectors: [Selector] = []
    /// Read each key as a line of stdin instead of asking on the terminal.
    public var keysFromStdin = false
    /// Show keys as they are typed.
    public var echoKeys = false

    public init() {}

    /// Adds one --key argument, rejecting malformed ones with the reason.
    public func add(selector text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty else {
            throw KeyError("--key '\(text)': expected ID:key:KEY_STRING or ID:file:FILENAME")
        }
        switch parts[1] {
        case "key": selectors.append(Selector(id: parts[0], source: .string(parts[2])))
        case "file":
            guard !parts[2].isEmpty else { throw KeyError("--key '\(text)': no file name after 'file:'") }
            selectors.append(Selector(id: parts[0], source: .file(parts[2])))
        default:
            throw KeyError("--key '\(text)': unknown key type '\(parts[1])' (use 'key' or 'file')")
        }
    }

    /// The keys to try for `device` (whose LUKS UUID is `uuid`): those the
    /// command line names for it, else one the user is asked for.
    public func keys(for device: String, uuid: String?) throws -> [String] {
        let chosen = selectors.filter { $0.id == device || ($0.id == uuid && uuid != nil) }
        if chosen.isEmpty { return [try ask(device)] }
        return try chosen.map { sel in
            switch sel.source {
            case .string(let s): return s
            case .file(let path):
                // A key file holds the key itself, trailing newline and all
                // (as cryptsetup's --key-file reads it): it is not trimmed.
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw KeyError("could not read the key file \(path) given for \(sel.id) with --key")
                }
                return String(decoding: data, as: UTF8.self)
            }
        }
    }

    /// Asks for the key of `name`: a line of stdin with --keys-from-stdin,
    /// else a prompt on the terminal with echo off (unless --echo-keys).
    public func ask(_ name: String) throws -> String {
        if keysFromStdin {
            guard let line = readLine(strippingNewline: true) else {
                throw KeyError("stdin ended before the key for \(name) could be read (--keys-from-stdin)")
            }
            return line
        }
        let tty = open("/dev/tty", O_RDWR)
        let fd = tty >= 0 ? tty : 0
        defer { if tty >= 0 { close(tty) } }
        writeAll(Array("Enter key or passphrase (\"\(name)\"): ".utf8), fd: tty >= 0 ? tty : 2)
        let isTTY = isatty(fd) != 0
        var saved = termios()
        if isTTY && !echoKeys {
            tcgetattr(fd, &saved)
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(fd, TCSAFLUSH, &quiet)
        }
        var bytes: [UInt8] = []
        var c: UInt8 = 0
        var gotAny = false
        while read(fd, &c, 1) == 1 {
            gotAny = true
            if c == 10 { break }
            bytes.append(c)
        }
        if isTTY && !echoKeys {
            tcsetattr(fd, TCSAFLUSH, &saved)
            writeAll([10], fd: tty >= 0 ? tty : 2)
        }
        guard gotAny else { throw KeyError("no key for \(name): the terminal or stdin is closed (use --key)") }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func writeAll(_ bytes: [UInt8], fd: Int32) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            off += n
        }
    }
}

/// A key that could not be found or read.
public struct KeyError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
