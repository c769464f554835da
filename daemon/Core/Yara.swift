// YARA scanning with libyara: yara_load compiles (or loads precompiled)
// rules uploaded from the library, internal_yara_scan scans one guest file
// and streams an XDR yara_detection per matching rule (the library's
// yara_scan reads them back), yara_destroy frees the rules.

import CYara
import Glibc
import GuestfsProtocol
import XDR

/// The daemon's loaded rules (one set at a time, as in libguestfs).
final class YaraState {
    nonisolated(unsafe) static var initialized = false
    nonisolated(unsafe) static var rules: UnsafeMutablePointer<YR_RULES>?
}

/// Matching rule identifiers gathered by the scan callback.
final class YaraMatches {
    var identifiers: [String] = []
}

extension Handlers {
    func yaraLoad(_ ctx: CallContext) throws {
        var template = Array("/tmp/yaraXXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw DaemonError.posix("mkstemp") }
        let tmp = String(cString: template)
        defer { unlink(tmp) }
        do {
            defer { close(fd) }
            try ctx.receiveFile { data in
                if !Sys.writeAll(fd, data) { throw DaemonError.posix("write", tmp) }
            }
        }
        if !YaraState.initialized {
            let r = yr_initialize()
            guard r == ERROR_SUCCESS else { throw DaemonError(ENOMEM, "yara_load: cannot initialise libyara (error \(r))") }
            YaraState.initialized = true
        }
        if let old = YaraState.rules {
            yr_rules_destroy(old)
            YaraState.rules = nil
        }
        var rules: UnsafeMutablePointer<YR_RULES>?
        // Compiled rules (yarac output) first, else source text.
        var r = yr_rules_load(tmp, &rules)
        if r == ERROR_INVALID_FILE {
            var messages = guestfs_yara_messages()
            r = guestfs_yara_compile_file(tmp, &rules, &messages)
            if r != ERROR_SUCCESS {
                let text = withUnsafePointer(to: messages.text) {
                    String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
                }
                if messages.errors > 0 {
                    throw DaemonError(EINVAL, "yara_load: \(messages.errors) error(s) compiling the rules: \(text)")
                }
                throw DaemonError(EINVAL, "yara_load: cannot compile the rules (libyara error \(r))")
            }
        } else if r != ERROR_SUCCESS {
            throw DaemonError(EINVAL, "yara_load: cannot load the compiled rules (libyara error \(r))")
        }
        YaraState.rules = rules
    }

    func yaraDestroy(_ ctx: CallContext) throws {
        guard let rules = YaraState.rules else { throw DaemonError(EINVAL, "yara_destroy: no yara rules are loaded") }
        yr_rules_destroy(rules)
        YaraState.rules = nil
    }

    func internalYaraScan(_ ctx: CallContext, path: String) throws {
        guard let rules = YaraState.rules else {
            throw DaemonError(EINVAL, "\(path): no yara rules are loaded (call yara_load first)")
        }
        let fd = try ctx.sysroot.open(path, O_RDONLY, op: "open")
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw DaemonError(EISDIR, "\(path): Is a directory")
        }
        let matches = YaraMatches()
        let box = Unmanaged.passRetained(matches)
        defer { box.release() }
        let r = guestfs_yara_scan_fd(rules, fd, { identifier, data in
            guard let identifier, let data else { return 0 }
            Unmanaged<YaraMatches>.fromOpaque(data).takeUnretainedValue().identifiers.append(String(cString: identifier))
            return 0
        }, box.toOpaque())
        guard r == ERROR_SUCCESS else {
            throw DaemonError(EIO, "\(path): scan failed (libyara error \(r))")
        }
        try ctx.beginFileOut()
        for id in matches.identifiers {
            try ctx.send(YaraDetection(yaraName: path, yaraRule: id).xdrBytes)
        }
        try ctx.endFileOut()
    }
}
