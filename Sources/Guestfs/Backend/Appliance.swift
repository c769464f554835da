import Foundation

/// The files the direct backend boots.
struct ApplianceFiles {
    var kernel: String
    /// Uncompressed ELF kernel for the microvm/PVH boot, if available.
    var vmlinux: String?
    var initrd: String
    /// An initrd with only the microvm layout's modules (virtio-mmio), if built.
    var microvmInitrd: String? = nil
    var root: String
    var rootUUID: String?
}

extension Guestfs {
    /// Finds the appliance in the path: a supermin.d directory (built into
    /// the cache directory when its inputs changed), or a ready appliance
    /// directory with kernel, initrd and root.
    func locateAppliance() throws -> ApplianceFiles {
        let searchPath = path ?? Guestfs.defaultPath
        let fm = FileManager.default
        var isDir: ObjCBool = false
        for dir in searchPath.split(separator: ":").map(String.init) where !dir.isEmpty {
            let sd = "\(dir)/supermin.d"
            if fm.fileExists(atPath: sd, isDirectory: &isDir), isDir.boolValue {
                debug("found supermin appliance \(sd)")
                return try buildSupermin(sd)
            }
            for cand in [dir, "\(dir)/appliance"] {
                if let f = Guestfs.fixedAppliance(cand) {
                    debug("found fixed appliance in \(cand)")
                    return f
                }
            }
        }
        throw fail(ENOENT, "cannot find any suitable libguestfs supermin or fixed appliance in the path \"\(searchPath)\" (set LIBGUESTFS_PATH or call set_path)")
    }

    static func fixedAppliance(_ d: String) -> ApplianceFiles? {
        func ok(_ f: String) -> Bool { access("\(d)/\(f)", R_OK) == 0 }
        guard ok("initrd"), ok("root"), ok("kernel") || ok("vmlinux") else { return nil }
        let uuid = (try? String(contentsOfFile: "\(d)/root.uuid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            ?? ext2UUID("\(d)/root")
        return ApplianceFiles(kernel: ok("kernel") ? "\(d)/kernel" : "\(d)/vmlinux",
                              vmlinux: ok("vmlinux") ? "\(d)/vmlinux" : nil,
                              initrd: "\(d)/initrd", microvmInitrd: ok("initrd-microvm") ? "\(d)/initrd-microvm" : nil,
                              root: "\(d)/root", rootUUID: uuid)
    }

    /// The per-user directory holding the built appliance.
    var applianceCacheDir: String { "\(effectiveCachedir)/.guestfs-\(getuid())" }

    /// Builds supermin.d into the cache with `supermin --build` (then trims
    /// the initrd and extracts vmlinux), unless the cached build's checksum
    /// (supermin.d contents + kernel + build recipe) matches. A lock file
    /// serialises concurrent launches. The checksum needs reading all of
    /// supermin.d; a cheap stat key (names, sizes, mtimes, inodes) recorded
    /// next to it lets an unchanged supermin.d skip that on every launch.
    func buildSupermin(_ superminD: String) throws -> ApplianceFiles {
        let cache = applianceCacheDir
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        let lockPath = "\(cache)/lock"
        let lfd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lfd >= 0 else { let e = errno; throw fail(e, "\(lockPath): \(errnoText(e))") }
        defer { _ = Glibc.close(lfd) }
        while flock(lfd, LOCK_EX) != 0 {
            if errno != EINTR { let e = errno; throw fail(e, "flock: \(lockPath): \(errnoText(e))") }
        }
        defer { _ = flock(lfd, LOCK_UN) }

        guard let kernel = Guestfs.hostKernel() else {
            throw fail(ENOENT, "cannot find a kernel in /boot to build the appliance (set SUPERMIN_KERNEL)")
        }
        // Not libguestfs's "appliance.d" in the same cache directory: its
        // `supermin --if-newer` would take our newer build as its own and
        // boot our daemon (and we would rebuild over its appliance).
        let out = "\(cache)/swift-appliance.d"
        let statKey = Guestfs.statKey(superminD: superminD, kernel: kernel)
        func readLine(_ f: String) -> String? {
            (try? String(contentsOfFile: f, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let key = statKey, readLine("\(out)/statkey") == key, readLine("\(out)/checksum") != nil,
           let f = Guestfs.fixedAppliance(out) {
            debug("using cached appliance \(out) (supermin.d unchanged)")
            return f
        }
        let sum = try Guestfs.checksum(superminD: superminD, kernel: kernel)
        if readLine("\(out)/checksum") == sum, let f = Guestfs.fixedAppliance(out) {
            debug("using cached appliance \(out)")
            if let key = statKey { try? (key + "\n").write(toFile: "\(out)/statkey", atomically: true, encoding: .utf8) }
            return f
        }
        guard let supermin = findInPath("supermin") else {
            throw fail(ENOENT, "supermin is not installed: it is needed to build the appliance from \(superminD)")
        }
        let tmp = "\(cache)/swift-appliance.d.\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        let t0 = monotonicNow()
        debug("building the appliance: \(supermin) --build -f ext2 --size 4G -o \(tmp) \(superminD)")
        var env = ProcessInfo.processInfo.environment
        env["SUPERMIN_KERNEL"] = kernel
        let kver = (kernel as NSString).lastPathComponent.replacingOccurrences(of: "vmlinuz-", with: "")
        if env["SUPERMIN_MODULES"] == nil {
            env["SUPERMIN_MODULES"] = "/lib/modules/\(kver)"
        }
        var args = ["--build", "-f", "ext2", "--size", "4G", "-o", tmp, superminD]
        if verbose { args.insert("-v", at: 0) }
        let (status, output) = runCommand(supermin, args, environment: env)
        guard status == 0 else {
            try? FileManager.default.removeItem(atPath: tmp)
            throw fail(EIO, "supermin --build failed (status \(status)):\n\(output)")
        }
        if InitrdTrim.enabled {
            trimInitrds(in: tmp, kver: kver, modulesDir: env["SUPERMIN_MODULES"] ?? "/lib/modules/\(kver)")
        }
        // Uncompressed kernel for the microvm layout (optional).
        if let v = Guestfs.extractVmlinux("\(tmp)/kernel", to: "\(tmp)/vmlinux") {
            debug(v)
        }
        if let u = Guestfs.ext2UUID("\(tmp)/root") {
            try? (u + "\n").write(toFile: "\(tmp)/root.uuid", atomically: true, encoding: .utf8)
        }
        try (sum + "\n").write(toFile: "\(tmp)/checksum", atomically: true, encoding: .utf8)
        if let key = statKey { try? (key + "\n").write(toFile: "\(tmp)/statkey", atomically: true, encoding: .utf8) }
        try? FileManager.default.removeItem(atPath: out)
        guard Glibc.rename(tmp, out) == 0 else { let e = errno; throw fail(e, "rename \(tmp): \(errnoText(e))") }
        debug(String(format: "appliance built in %.1f s", monotonicNow() - t0))
        guard let f = Guestfs.fixedAppliance(out) else { throw fail(EIO, "supermin did not produce an appliance in \(out)") }
        return f
    }

    /// Replaces `dir/initrd` by one with only the modules both layouts need
    /// and writes `dir/initrd-microvm` with only the microvm layout's. On any
    /// failure the untrimmed initrd stays (slower boot, same function).
    func trimInitrds(in dir: String, kver: String, modulesDir: String) {
        let initrd = "\(dir)/initrd"
        let t0 = monotonicNow()
        do {
            let keepAll = try InitrdTrim.closure(InitrdTrim.configuredModules, kver: kver, modulesDir: modulesDir)
            let keepMicro = try InitrdTrim.closure(InitrdTrim.microvmModules, kver: kver, modulesDir: modulesDir)
            let micro = try InitrdTrim.trim(initrd, to: "\(dir)/initrd-microvm", keep: keepMicro)
            let all = try InitrdTrim.trim(initrd, to: "\(initrd).new", keep: keepAll)
            guard Glibc.rename("\(initrd).new", initrd) == 0 else { throw InitrdTrim.TrimError("rename: \(errnoText(errno))") }
            debug(String(format: "initrd trimmed to %d modules (microvm: %d) in %.2f s: %@", all.count, micro.count,
                         monotonicNow() - t0, all.joined(separator: " ")))
        } catch {
            unlink("\(initrd).new")
            unlink("\(dir)/initrd-microvm")
            debug("not trimming the initrd: \(error)")
        }
    }

    static func hostKernel() -> String? {
        if let k = ProcessInfo.processInfo.environment["SUPERMIN_KERNEL"], !k.isEmpty { return k }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/boot") else { return nil }
        let ks = names.filter { $0.hasPrefix("vmlinuz-") }.sorted {
            $0.compare($1, options: .numeric) == .orderedAscending
        }
        return ks.last.map { "/boot/\($0)" }
    }

    /// FNV-1a over the names and contents of supermin.d, the kernel's
    /// path, size and mtime, and the build recipe (initrd trimming).
    static func checksum(superminD: String, kernel: String) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: UnsafeRawBufferPointer) {
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        func mix(_ s: String) { var s = s; s.withUTF8 { mix(UnsafeRawBufferPointer($0)) } }
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: superminD).sorted() {
            mix(name)
            if let d = fm.contents(atPath: "\(superminD)/\(name)") { d.withUnsafeBytes { mix($0) } }
        }
        if let st = statPath(kernel) { mix("\(kernel) \(st.st_size) \(st.st_mtim.tv_sec)") } else { mix(kernel) }
        mix(InitrdTrim.recipe)
        return String(format: "%016llx", h)
    }

    /// A cheap fingerprint of the checksum's inputs: supermin.d's entries
    /// (name, size, mtime, ctime, inode), the kernel's, and the recipe.
    /// nil when something cannot be stat'ed (then the full checksum decides).
    static func statKey(superminD: String, kernel: String) -> String? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: superminD) else { return nil }
        func sig(_ p: String) -> String? {
            guard let st = statPath(p) else { return nil }
            return "\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec):\(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec):\(st.st_ino)"
        }
        var parts = ["v1", superminD]
        guard let d = sig(superminD) else { return nil }
        parts.append(d)
        for n in names.sorted() {
            guard let s = sig("\(superminD)/\(n)") else { return nil }
            parts.append("\(n)=\(s)")
        }
        parts.append("kernel=\(kernel):\(sig(kernel) ?? "-")")
        parts.append(InitrdTrim.recipe)
        return parts.joined(separator: " ")
    }

    /// The UUID of an ext2/3/4 image (superblock at 1024, s_uuid at +104).
    static func ext2UUID(_ path: String) -> String? {
        guard let fh = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? fh.close() }
        guard (try? fh.seek(toOffset: 1024)) != nil, let sb = try? fh.read(upToCount: 136), sb.count == 136 else { return nil }
        let b = [UInt8](sb)
        guard b[56] == 0x53 && b[57] == 0xEF else { return nil }
        let u = b[104..<120].map { String(format: "%02x", $0) }.joined()
        let c = Array(u)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    /// bzImage → ELF vmlinux through the boot header's payload and an
    /// external decompressor. Returns a message, nil on success.
    static func extractVmlinux(_ bz: String, to out: String) -> String? {
        guard let data = FileManager.default.contents(atPath: bz) else { return "cannot read \(bz)" }
        let b = [UInt8](data)
        if b.count > 4 && b[0] == 0x7f && b[1] == 0x45 && b[2] == 0x4c && b[3] == 0x46 {
            return FileManager.default.createFile(atPath: out, contents: data) ? nil : "cannot write \(out)"
        }
        func u32(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24 }
        guard b.count > 0x250, b[0x202] == 0x48, b[0x203] == 0x64, b[0x204] == 0x72, b[0x205] == 0x53 else {
            return "\(bz) is not a bzImage"
        }
        var ss = Int(b[0x1f1]); if ss == 0 { ss = 4 }
        let off = (ss + 1) * 512 + u32(0x248)
        let len = u32(0x24c)
        guard off + len <= b.count, len > 6 else { return "bad payload in \(bz)" }
        let payload = Data(b[off..<off + len])
        let m = Array(b[off..<off + 6])
        let tool: [String]
        if m == [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] { tool = ["xz", "-dc", "--single-stream"] }
        else if m[0] == 0x1f && m[1] == 0x8b { tool = ["gzip", "-dc"] }
        else if m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd { tool = ["zstd", "-dcq"] }
        else if m[0] == 0x5d && m[1] == 0 && m[2] == 0 { tool = ["xz", "-dc", "--format=lzma"] }
        else { return "unknown kernel compression in \(bz)" }
        guard let exe = findInPath(tool[0]) else { return "\(tool[0]) not found: no vmlinux" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = Array(tool.dropFirst())
        let inPipe = Pipe()
        p.standardInput = inPipe
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        guard let outFH = FileHandle(forWritingAtPath: out) else { return "cannot write \(out)" }
        p.standardOutput = outFH
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do { try p.run() } catch { return "cannot run \(exe): \(error)" }
        let writer = Thread {
            try? inPipe.fileHandleForWriting.write(contentsOf: payload)
            try? inPipe.fileHandleForWriting.close()
        }
        writer.start()
        p.waitUntilExit()
        try? outFH.close()
        guard let head = FileHandle(forReadingAtPath: out), let h = try? head.read(upToCount: 4), [UInt8](h) == [0x7f, 0x45, 0x4c, 0x46] else {
            try? FileManager.default.removeItem(atPath: out)
            return "could not extract an ELF vmlinux from \(bz)"
        }
        try? head.close()
        return nil
    }
}

/// Runs a program to completion; returns (exit status, stdout+stderr).
func runCommand(_ exe: String, _ args: [String], environment: [String: String]? = nil) -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    if let environment { p.environment = environment }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
    do { try p.run() } catch { return (127, "cannot run \(exe): \(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
