import Foundation

// Host disk images (qemu-img); no appliance needed.
extension Guestfs {
    var qemuImg: String? { findInPath("qemu-img") }

    func impl_disk_create(_ filename: String, _ format: String, _ size: Int64, backingfile: String?, backingformat: String?,
                          preallocation: String?, compat: String?, clustersize: Int32?) throws {
        guard format == "raw" || format == "qcow2" else { throw fail(ENOTSUP, "unsupported format '\(format)'") }
        if backingfile != nil {
            guard format == "qcow2" else { throw fail(EINVAL, "backingfile cannot be used for raw format disks") }
            guard size == -1 else { throw fail(EINVAL, "if using a backing file, size must be passed as -1") }
        } else if size <= 0 {
            throw fail(EINVAL, "invalid size: \(size)")
        }
        if let backingformat {
            guard backingfile != nil else { throw fail(EINVAL, "backingformat can only be used with backingfile") }
            guard !backingformat.isEmpty, backingformat.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw fail(EINVAL, "invalid value for backingformat parameter '\(backingformat)'")
            }
        }
        if let p = preallocation {
            let ok = format == "raw" ? ["off", "sparse", "full"] : ["off", "sparse", "metadata", "full"]
            guard ok.contains(p) else { throw fail(EINVAL, "invalid value for preallocation parameter '\(p)'") }
        }
        if compat != nil || clustersize != nil, format != "qcow2" {
            throw fail(EINVAL, "compat and clustersize can only be used with qcow2 format")
        }
        if let c = compat, c != "0.10" && c != "1.1" {
            throw fail(EINVAL, "invalid value for compat parameter '\(c)'")
        }
        if let c = clustersize, c < 512 || c > 2_097_152 || (c & (c - 1)) != 0 {
            throw fail(EINVAL, "invalid value for clustersize parameter '\(c)'")
        }
        if format == "raw" {
            if let st = statPath(filename), (st.st_mode & S_IFMT) == S_IFBLK { return }
            let fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, 0o666)
            guard fd >= 0 else { let e = errno; throw fail(e, "\(filename): \(errnoText(e))") }
            defer { _ = Glibc.close(fd) }
            if preallocation == "full" {
                let r = posix_fallocate(fd, 0, off_t(size))
                if r != 0 { throw fail(r, "\(filename): fallocate: \(errnoText(r))") }
            } else if ftruncate(fd, off_t(size)) != 0 {
                let e = errno
                throw fail(e, "\(filename): truncate: \(errnoText(e))")
            }
            return
        }
        guard let qi = qemuImg else { throw fail(ENOENT, "qemu-img is not installed") }
        var opts: [String] = []
        if let b = backingfile { opts.append("backing_file=\(QemuConfig.escape(b))") }
        if let b = backingformat { opts.append("backing_fmt=\(b)") }
        if let p = preallocation { opts.append("preallocation=\(p == "sparse" ? "off" : p)") }
        if let c = compat { opts.append("compat=\(c)") }
        if let c = clustersize { opts.append("cluster_size=\(c)") }
        var args = ["create", "-q", "-f", "qcow2"]
        if !opts.isEmpty { args += ["-o", opts.joined(separator: ",")] }
        args.append(filename)
        if size >= 0 { args.append(String(size)) }
        debug("disk_create: \(qi) \(args.joined(separator: " "))")
        let (st, out) = runCommand(qi, args)
        guard st == 0 else { throw fail(EIO, "qemu-img create failed: \(out.trimmingCharacters(in: .whitespacesAndNewlines))") }
    }

    /// `qemu-img info --output=json` of a host image.
    func imageInfo(_ filename: String) throws -> [String: Any] {
        guard access(filename, R_OK) == 0 else { let e = errno; throw fail(e, "\(filename): \(errnoText(e))") }
        guard let qi = qemuImg else { throw fail(ENOENT, "qemu-img is not installed") }
        let (st, out) = runCommand(qi, ["info", "--output=json", "-U", "--", filename])
        guard st == 0, let data = out.data(using: .utf8),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw fail(EIO, "qemu-img info failed: \(out.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return obj
    }

    func impl_disk_format(_ filename: String) throws -> String {
        (try imageInfo(filename)["format"] as? String) ?? "unknown"
    }

    func impl_disk_virtual_size(_ filename: String) throws -> Int64 {
        let info = try imageInfo(filename)
        if let n = info["virtual-size"] as? NSNumber { return n.int64Value }
        throw fail(EIO, "qemu-img info: no virtual-size for \(filename)")
    }

    func impl_disk_has_backing_file(_ filename: String) throws -> Bool {
        try imageInfo(filename)["backing-filename"] != nil
    }
}
