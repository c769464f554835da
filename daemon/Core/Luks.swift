// Encrypted block devices through cryptsetup. Keys go through a private
// file in /tmp (tmpfs), never on the command line.

import Glibc

extension Handlers {
    /// Writes the key to a mode-0600 temporary file and runs `body` with its path.
    @discardableResult
    func withKeyFile<T>(_ key: String, _ body: (String) throws -> T) throws -> T {
        var tmpl = Array("/tmp/luksXXXXXX".utf8CString)
        let fd = mkstemp(&tmpl)
        if fd < 0 { throw DaemonError.posix("mkstemp", "/tmp") }
        let path = String(cString: tmpl)
        defer { unlink(path) }
        let ok = Sys.writeAll(fd, Array(key.utf8))
        close(fd)
        if !ok { throw DaemonError.posix("write", path) }
        return try body(path)
    }

    static func checkMapName(_ m: String) throws {
        if m.isEmpty || m.contains("/") || m == "." || m == ".." {
            throw DaemonError(EINVAL, "\(m): invalid device-mapper name")
        }
    }

    func cryptsetupOpen(_ ctx: CallContext, device: String, key: String, mapname: String, readonly: Bool?, crypttype: String?, cipher: String?) throws {
        try Handlers.checkMapName(mapname)
        var type = crypttype
        if type == nil {
            let t = try blkidTag(device, "TYPE")
            type = t == "BitLocker" ? "bitlk" : "luks"
        }
        try withKeyFile(key) { kf in
            var argv = ["cryptsetup", "open", device, mapname, "--type", type!, "-d", kf]
            if readonly == true { argv.append("--readonly") }
            if let cipher { argv += ["--cipher", cipher] }
            try Command.check(argv)
        }
    }

    func cryptsetupClose(_ ctx: CallContext, device: String) throws {
        guard device.hasPrefix("/dev/mapper/") else {
            throw DaemonError(EINVAL, "cryptsetup_close: \(device): expecting a /dev/mapper/ name")
        }
        try Command.check(["cryptsetup", "close", String(device.dropFirst(12))])
    }

    func luksOpen(_ ctx: CallContext, device: String, key: String, mapname: String) throws {
        try cryptsetupOpen(ctx, device: device, key: key, mapname: mapname, readonly: nil, crypttype: "luks", cipher: nil)
    }

    func luksClose(_ ctx: CallContext, device: String) throws {
        try cryptsetupClose(ctx, device: device)
    }

    func luksFormat(_ ctx: CallContext, device: String, key: String, keyslot: Int32) throws {
        if keyslot < 0 || keyslot > 31 { throw DaemonError(EINVAL, "luks_format: keyslot \(keyslot) out of range") }
        try withKeyFile(key) { kf in
            try Command.check(["cryptsetup", "-q", "luksFormat", "--key-slot", String(keyslot), device, kf])
        }
    }
}
