// The aug_* actions: configuration files of the guest edited through
// libaugeas. The daemon keeps at most one Augeas handle (aug_init replaces
// it, aug_close drops it), rooted at the guest directory given to aug_init.
//
// The root is resolved inside the sysroot first (openat2 RESOLVE_IN_ROOT)
// and libaugeas gets the resulting host path, so a guest symlink in the
// root argument cannot point Augeas at the appliance's own files.

import CAugeas
import Glibc
import GuestfsProtocol

/// The daemon's Augeas handle.
final class AugeasHandle {
    let aug: OpaquePointer
    /// The guest directory it was rooted at.
    let root: String

    init(aug: OpaquePointer, root: String) {
        self.aug = aug
        self.root = root
    }

    deinit { aug_close(aug) }

    /// An error for a failed libaugeas call: libaugeas's own description,
    /// its detail (minor message and details) when it has them, and any
    /// per-file errors it recorded under /augeas.
    func failure(_ op: String, _ what: String? = nil, files: Bool = false) -> DaemonError {
        let code = aug_error(aug)
        var msg = op
        if let what { msg += ": \(what)" }
        if code != Int32(AUG_NOERROR.rawValue), let m = aug_error_message(aug) {
            msg += ": " + String(cString: m)
            if let minor = aug_error_minor_message(aug) { msg += ": " + String(cString: minor) }
            if let det = aug_error_details(aug) { msg += ": " + String(cString: det) }
        } else {
            msg += ": failed"
        }
        if files {
            let errs = fileErrors()
            if !errs.isEmpty { msg += " (" + errs.joined(separator: "; ") + ")" }
        }
        return DaemonError(AugeasHandle.errno(for: code), msg)
    }

    static func errno(for code: Int32) -> Int32 {
        switch code {
        case Int32(AUG_ENOMEM.rawValue): return ENOMEM
        case Int32(AUG_ENOMATCH.rawValue): return ENOENT
        case Int32(AUG_EFILEACCESS.rawValue): return EACCES
        default: return EINVAL
        }
    }

    /// "/etc/hosts: parse_failed: ..." for each file Augeas failed to load
    /// or save (the nodes /augeas/files/PATH/error).
    func fileErrors() -> [String] {
        var out: [String] = []
        for node in match("/augeas/files//error") {
            var kind = value(node) ?? "error"
            let prefix = "/augeas/files"
            var file = String(node.dropLast("/error".count))
            if file.hasPrefix(prefix) { file = String(file.dropFirst(prefix.count)) }
            if let m = value(node + "/message") { kind += ": " + m }
            if let l = value(node + "/line"), let c = value(node + "/char") { kind += " at line \(l), char \(c)" }
            out.append("\(file): \(kind)")
        }
        return out
    }

    /// Matching paths (empty when the expression is bad).
    func match(_ path: String) -> [String] {
        var matches: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = aug_match(aug, path, &matches)
        guard n > 0, let matches else { return [] }
        defer { free(matches) }
        var out: [String] = []
        for i in 0..<Int(n) {
            if let p = matches[i] {
                out.append(String(cString: p))
                free(p)
            }
        }
        return out
    }

    /// The value of exactly one node, nil when none or no value.
    func value(_ path: String) -> String? {
        var v: UnsafePointer<CChar>?
        guard aug_get(aug, path, &v) == 1, let v else { return nil }
        return String(cString: v)
    }
}

enum AugeasSession {
    static var current: AugeasHandle?
}

extension Handlers {
    private func needAug(_ op: String) throws -> AugeasHandle {
        guard let h = AugeasSession.current else {
            throw DaemonError(EINVAL, "\(op): no Augeas handle is open (call aug_init first)")
        }
        return h
    }

    func augInit(_ ctx: CallContext, root: String, flags: Int32) throws {
        AugeasSession.current = nil
        guard ctx.sysroot.isMounted() else {
            throw DaemonError(EINVAL, "aug_init: \(root): no filesystem is mounted on / (mount the guest first)")
        }
        guard flags >= 0 else { throw DaemonError(EINVAL, "aug_init: \(flags): the flags must not be negative") }
        let st = try ctx.sysroot.statGuest(root, follow: true, op: "aug_init")
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw DaemonError(ENOTDIR, "aug_init: \(root): \(Sys.strerror(ENOTDIR))")
        }
        let host = try ctx.sysroot.hostPath(root, op: "aug_init")
        // AUG_NO_ERR_CLOSE so a failed initialisation still tells why.
        guard let aug = aug_init(host, nil, UInt32(flags) | UInt32(AUG_NO_ERR_CLOSE.rawValue)) else {
            throw DaemonError(ENOMEM, "aug_init: \(root): Augeas could not be initialised")
        }
        let h = AugeasHandle(aug: aug, root: root)
        if aug_error(aug) != Int32(AUG_NOERROR.rawValue) {
            throw h.failure("aug_init", root, files: true)
        }
        AugeasSession.current = h
    }

    func augClose(_ ctx: CallContext) throws {
        _ = try needAug("aug_close")
        AugeasSession.current = nil
    }

    func augDefvar(_ ctx: CallContext, name: String, expr: String?) throws -> Int32 {
        let h = try needAug("aug_defvar")
        let r = aug_defvar(h.aug, name, expr)
        if r < 0 { throw h.failure("aug_defvar", name) }
        return r
    }

    func augDefnode(_ ctx: CallContext, name: String, expr: String, val: String) throws -> IntBool {
        let h = try needAug("aug_defnode")
        var created: Int32 = 0
        let r = aug_defnode(h.aug, name, expr, val, &created)
        if r < 0 { throw h.failure("aug_defnode", name) }
        return IntBool(i: r, b: created)
    }

    func augGet(_ ctx: CallContext, augpath: String) throws -> String {
        let h = try needAug("aug_get")
        var v: UnsafePointer<CChar>?
        let r = aug_get(h.aug, augpath, &v)
        if r == 0 { throw DaemonError(ENOENT, "aug_get: \(augpath): no node matches") }
        if r < 0 { throw h.failure("aug_get", augpath) }
        guard let v else { throw DaemonError(ENODATA, "aug_get: \(augpath): the node has no value") }
        return String(cString: v)
    }

    func augSet(_ ctx: CallContext, augpath: String, val: String) throws {
        let h = try needAug("aug_set")
        if aug_set(h.aug, augpath, val) < 0 { throw h.failure("aug_set", augpath) }
    }

    func augClear(_ ctx: CallContext, augpath: String) throws {
        let h = try needAug("aug_clear")
        if aug_set(h.aug, augpath, nil) < 0 { throw h.failure("aug_clear", augpath) }
    }

    func augSetm(_ ctx: CallContext, base: String, sub: String?, val: String) throws -> Int32 {
        let h = try needAug("aug_setm")
        let r = aug_setm(h.aug, base, sub, val)
        if r < 0 { throw h.failure("aug_setm", base) }
        return r
    }

    func augInsert(_ ctx: CallContext, augpath: String, label: String, before: Bool) throws {
        let h = try needAug("aug_insert")
        if aug_insert(h.aug, augpath, label, before ? 1 : 0) < 0 { throw h.failure("aug_insert", augpath) }
    }

    func augRm(_ ctx: CallContext, augpath: String) throws -> Int32 {
        let h = try needAug("aug_rm")
        let r = aug_rm(h.aug, augpath)
        if r < 0 { throw h.failure("aug_rm", augpath) }
        return r
    }

    func augMv(_ ctx: CallContext, src: String, dest: String) throws {
        let h = try needAug("aug_mv")
        if aug_mv(h.aug, src, dest) < 0 { throw h.failure("aug_mv", "\(src) to \(dest)") }
    }

    func augMatch(_ ctx: CallContext, augpath: String) throws -> [String] {
        let h = try needAug("aug_match")
        var matches: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = aug_match(h.aug, augpath, &matches)
        if n < 0 { throw h.failure("aug_match", augpath) }
        defer { free(matches) }
        var out: [String] = []
        if let matches {
            for i in 0..<Int(n) {
                if let p = matches[i] { out.append(String(cString: p)); free(p) }
            }
        }
        return out
    }

    func augLs(_ ctx: CallContext, augpath: String) throws -> [String] {
        _ = try needAug("aug_ls")
        guard augpath.hasPrefix("/") else {
            throw DaemonError(EINVAL, "aug_ls: \(augpath): the path must be absolute")
        }
        if augpath.count > 1, let last = augpath.last, last == "/" || last == "]" || last == "*" {
            throw DaemonError(EINVAL, "aug_ls: \(augpath): the path must name nodes, not end in '/', ']' or '*'")
        }
        let pattern = augpath == "/" ? "/*" : augpath + "/*"
        return try augMatch(ctx, augpath: pattern).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    func augLabel(_ ctx: CallContext, augpath: String) throws -> String {
        let h = try needAug("aug_label")
        var l: UnsafePointer<CChar>?
        let r = aug_label(h.aug, augpath, &l)
        if r == 0 { throw DaemonError(ENOENT, "aug_label: \(augpath): no node matches") }
        if r < 0 { throw h.failure("aug_label", augpath) }
        guard let l else { throw DaemonError(ENODATA, "aug_label: \(augpath): the node has no label") }
        return String(cString: l)
    }

    func augSave(_ ctx: CallContext) throws {
        let h = try needAug("aug_save")
        if aug_save(h.aug) < 0 { throw h.failure("aug_save", files: true) }
    }

    func augLoad(_ ctx: CallContext) throws {
        let h = try needAug("aug_load")
        if aug_load(h.aug) < 0 { throw h.failure("aug_load", files: true) }
    }

    func augTransform(_ ctx: CallContext, lens: String, file: String, remove: Bool?) throws {
        let h = try needAug("aug_transform")
        if aug_transform(h.aug, lens, file, remove == true ? 1 : 0) < 0 {
            throw h.failure("aug_transform", "\(lens) on \(file)")
        }
    }
}
