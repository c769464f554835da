// Extended attributes, POSIX ACLs, file capabilities and copy_attributes.
//
// Guest paths become host paths through the sysroot (openat2
// RESOLVE_IN_ROOT): with `follow` the whole path is resolved, otherwise
// only its directory, so the l* variants act on a symlink itself and no
// guest symlink leads out of the guest. ACLs go through getfacl/setfacl and
// capabilities through getcap/setcap (the "acl" and "linuxcaps" groups).

import CXattr
import Glibc
import GuestfsProtocol

extension Handlers {
    private func xattrHost(_ ctx: CallContext, _ path: String, follow: Bool, op: String) throws -> String {
        try ctx.sysroot.hostPath(path, follow: follow, op: op)
    }

    private func getOneXattr(_ ctx: CallContext, _ path: String, _ name: String, follow: Bool) throws -> [UInt8] {
        let op = follow ? "getxattr" : "lgetxattr"
        let host = try xattrHost(ctx, path, follow: follow, op: op)
        guard let v = Sys.getXattr(host, name, follow: follow) else {
            let e = errno
            throw DaemonError(e, "\(op): \(path): \(name): \(Sys.strerror(e))")
        }
        return v
    }

    func getxattr(_ ctx: CallContext, path: String, name: String) throws -> [UInt8] {
        try getOneXattr(ctx, path, name, follow: true)
    }

    func lgetxattr(_ ctx: CallContext, path: String, name: String) throws -> [UInt8] {
        try getOneXattr(ctx, path, name, follow: false)
    }

    private func setOneXattr(_ ctx: CallContext, _ xattr: String, _ val: String, _ vallen: Int32, _ path: String, follow: Bool) throws {
        let op = follow ? "setxattr" : "lsetxattr"
        let bytes = Array(val.utf8)
        guard vallen >= 0, Int(vallen) <= bytes.count else {
            throw DaemonError(EINVAL, "\(op): \(path): vallen \(vallen) is outside the value (\(bytes.count) bytes)")
        }
        let host = try xattrHost(ctx, path, follow: follow, op: op)
        let value = Array(bytes.prefix(Int(vallen)))
        let r = value.withUnsafeBytes { b in
            follow ? CXattr.setxattr(host, xattr, b.baseAddress, b.count, 0)
                   : CXattr.lsetxattr(host, xattr, b.baseAddress, b.count, 0)
        }
        if r != 0 {
            let e = errno
            throw DaemonError(e, "\(op): \(path): \(xattr): \(Sys.strerror(e))")
        }
    }

    func setxattr(_ ctx: CallContext, xattr: String, val: String, vallen: Int32, path: String) throws {
        try setOneXattr(ctx, xattr, val, vallen, path, follow: true)
    }

    func lsetxattr(_ ctx: CallContext, xattr: String, val: String, vallen: Int32, path: String) throws {
        try setOneXattr(ctx, xattr, val, vallen, path, follow: false)
    }

    private func removeOneXattr(_ ctx: CallContext, _ xattr: String, _ path: String, follow: Bool) throws {
        let op = follow ? "removexattr" : "lremovexattr"
        let host = try xattrHost(ctx, path, follow: follow, op: op)
        let r = follow ? CXattr.removexattr(host, xattr) : CXattr.lremovexattr(host, xattr)
        if r != 0 {
            let e = errno
            throw DaemonError(e, "\(op): \(path): \(xattr): \(Sys.strerror(e))")
        }
    }

    func removexattr(_ ctx: CallContext, xattr: String, path: String) throws {
        try removeOneXattr(ctx, xattr, path, follow: true)
    }

    func lremovexattr(_ ctx: CallContext, xattr: String, path: String) throws {
        try removeOneXattr(ctx, xattr, path, follow: false)
    }

    /// For each name in the directory `path`: a marker entry (empty name,
    /// value = the number of attributes as decimal text plus a NUL), then
    /// the file's own attributes (not following symlinks), sorted by name.
    /// A file whose attributes cannot be listed gets a marker only.
    func internalLxattrlist(_ ctx: CallContext, path: String, names: [String]) throws -> [XAttr] {
        var out: [XAttr] = []
        for name in names {
            let markerIndex = out.count
            out.append(XAttr(attrname: "", attrval: []))
            let full = path == "/" ? "/" + name : path + "/" + name
            guard let host = try? ctx.sysroot.hostPath(full, follow: false, op: "lxattrlist"),
                  let attrNames = Sys.listXattrs(host, follow: false) else { continue }
            var attrs: [XAttr] = []
            for a in attrNames {
                guard let v = Sys.getXattr(host, a, follow: false) else {
                    if errno == ENODATA { continue }
                    throw DaemonError.posix("lgetxattr", "\(full): \(a)")
                }
                attrs.append(XAttr(attrname: a, attrval: v))
            }
            attrs.sort { Array($0.attrname.utf8).lexicographicallyPrecedes(Array($1.attrname.utf8)) }
            out[markerIndex].attrval = Array(String(attrs.count).utf8) + [0]
            out.append(contentsOf: attrs)
        }
        return out
    }

    // MARK: POSIX ACLs

    private static func aclTypeFlag(_ acltype: String, op: String) throws -> Bool {
        switch acltype {
        case "access": return false
        case "default": return true
        default: throw DaemonError(EINVAL, "\(op): \(acltype): the ACL type must be 'access' or 'default'")
        }
    }

    func aclGetFile(_ ctx: CallContext, path: String, acltype: String) throws -> String {
        let isDefault = try Handlers.aclTypeFlag(acltype, op: "acl_get_file")
        let host = try ctx.sysroot.hostPath(path, op: "acl_get_file")
        var argv = ["getfacl", "--omit-header", "--numeric", "--no-effective", "--absolute-names"]
        if isDefault {
            argv.append("--default")
            let st = try ctx.sysroot.statGuest(path, follow: true, op: "acl_get_file")
            if (st.st_mode & S_IFMT) != S_IFDIR {
                throw DaemonError(EACCES, "acl_get_file: \(path): only directories have a default ACL")
            }
        } else {
            argv.append("--access")
        }
        argv += ["--", host]
        let out = try Command.output(argv)
        // One entry per line; getfacl ends with an empty line.
        let lines = out.split(separator: "\n").filter { !$0.isEmpty && !$0.hasPrefix("#") }
        return lines.map { $0 + "\n" }.joined()
    }

    func aclSetFile(_ ctx: CallContext, path: String, acltype: String, acl: String) throws {
        let isDefault = try Handlers.aclTypeFlag(acltype, op: "acl_set_file")
        let host = try ctx.sysroot.hostPath(path, op: "acl_set_file")
        if isDefault {
            let st = try ctx.sysroot.statGuest(path, follow: true, op: "acl_set_file")
            if (st.st_mode & S_IFMT) != S_IFDIR {
                throw DaemonError(EACCES, "acl_set_file: \(path): only directories have a default ACL")
            }
        }
        // Entries may be separated by commas or newlines; setfacl takes a
        // comma list and replaces the whole ACL with --set.
        let entries = acl.split(whereSeparator: { $0 == "\n" || $0 == "," })
            .map { $0.trimmed() }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !entries.isEmpty else {
            throw DaemonError(EINVAL, "acl_set_file: \(path): the ACL has no entries")
        }
        let spec = entries.map { isDefault ? "default:" + $0 : $0 }.joined(separator: ",")
        var argv = ["setfacl"]
        if isDefault {
            // --set would also replace the access ACL: remove the old default
            // ACL and add the new entries.
            argv += ["-k", "-m", spec]
        } else {
            argv += ["--set", spec]
        }
        argv += ["--", host]
        let r = try Command.run(argv)
        if !r.ok {
            var msg = r.err.trimmed()
            if msg.hasPrefix("setfacl: ") { msg = String(msg.dropFirst("setfacl: ".count)) }
            msg = msg.replacingAll(host, with: path)
            throw DaemonError(EINVAL, "acl_set_file: \(path): \(msg.isEmpty ? "setfacl failed" : msg)")
        }
    }

    func aclDeleteDefFile(_ ctx: CallContext, dir: String) throws {
        let st = try ctx.sysroot.statGuest(dir, follow: true, op: "acl_delete_def_file")
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw DaemonError(ENOTDIR, "acl_delete_def_file: \(dir): \(Sys.strerror(ENOTDIR))")
        }
        let host = try ctx.sysroot.hostPath(dir, op: "acl_delete_def_file")
        let r = try Command.run(["setfacl", "-k", "--", host])
        if !r.ok {
            throw DaemonError(EIO, "acl_delete_def_file: \(dir): \(r.err.trimmed().replacingAll(host, with: dir))")
        }
    }

    // MARK: capabilities

    func capGetFile(_ ctx: CallContext, path: String) throws -> String {
        let host = try ctx.sysroot.hostPath(path, op: "cap_get_file")
        let r = try Command.run(["getcap", host])   // host paths start with "/"
        if !r.ok { throw DaemonError(EIO, "cap_get_file: \(path): \(r.err.trimmed().replacingAll(host, with: path))") }
        // "HOSTPATH CAPS", or nothing for a file without capabilities.
        let line = r.out.trimmed()
        if line.isEmpty { return "" }
        if line.hasPrefix(host + " ") { return String(line.dropFirst(host.count + 1)).trimmed() }
        if let sp = line.lastIndex(of: " ") { return String(line[line.index(after: sp)...]) }
        return line
    }

    func capSetFile(_ ctx: CallContext, path: String, cap: String) throws {
        let st = try ctx.sysroot.statGuest(path, follow: true, op: "cap_set_file")
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw DaemonError(EINVAL, "cap_set_file: \(path): capabilities can only be set on regular files")
        }
        // setcap reads options until the capability text, and has no "--".
        if cap.hasPrefix("-") || cap.isEmpty {
            throw DaemonError(EINVAL, "cap_set_file: \(path): \(cap): not a capability text")
        }
        let host = try ctx.sysroot.hostPath(path, op: "cap_set_file")
        let r = try Command.run(["setcap", cap, host])
        if !r.ok {
            var msg = r.err.trimmed().replacingAll(host, with: path)
            if msg.isEmpty { msg = r.out.trimmed() }
            throw DaemonError(EINVAL, "cap_set_file: \(path): \(cap): \(msg.isEmpty ? "setcap failed" : msg)")
        }
    }

    // MARK: copy_attributes

    func copyAttributes(_ ctx: CallContext, src: String, dest: String, all: Bool?, mode: Bool?, xattributes: Bool?, ownership: Bool?) throws {
        let everything = all ?? false
        let doMode = everything || (mode ?? false)
        let doXattrs = everything || (xattributes ?? false)
        let doOwner = everything || (ownership ?? false)
        let st = try ctx.sysroot.statGuest(src, follow: true, op: "copy_attributes")
        let dfd = try ctx.sysroot.open(dest, Sys.O_PATH, op: "copy_attributes")
        defer { close(dfd) }
        if doMode {
            // fchmodat on /proc/self/fd/N works with an O_PATH descriptor.
            if Glibc.chmod("/proc/self/fd/\(dfd)", st.st_mode & 0o7777) != 0 {
                throw DaemonError.posix("copy_attributes: chmod", dest)
            }
        }
        if doOwner {
            if fchownat(dfd, "", st.st_uid, st.st_gid, Sys.AT_EMPTY_PATH) != 0 {
                throw DaemonError.posix("copy_attributes: chown", dest)
            }
        }
        if doXattrs {
            let shost = try ctx.sysroot.hostPath(src, op: "copy_attributes")
            guard let dhost = Sysroot.fdPath(dfd) else { throw DaemonError.posix("copy_attributes", dest) }
            guard let names = Sys.listXattrs(shost, follow: true) else {
                throw DaemonError.posix("copy_attributes: listxattr", src)
            }
            for n in names {
                guard let v = Sys.getXattr(shost, n, follow: true) else {
                    if errno == ENODATA { continue }
                    throw DaemonError.posix("copy_attributes: getxattr", "\(src): \(n)")
                }
                let r = v.withUnsafeBytes { CXattr.setxattr(dhost, n, $0.baseAddress, $0.count, 0) }
                if r != 0 { throw DaemonError.posix("copy_attributes: setxattr", "\(dest): \(n)") }
            }
        }
    }
}
