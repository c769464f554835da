// More LUKS: key slots, UUIDs, formatting with a chosen cipher.

import Glibc

extension Handlers {
    private func checkKeyslot(_ keyslot: Int32, _ op: String) throws {
        if keyslot < 0 || keyslot > 31 { throw DaemonError(EINVAL, "\(op): keyslot \(keyslot) out of range") }
    }

    private func cryptsetup(_ ctx: CallContext, _ argv: [String], device: String) throws {
        let r = try Command.run(["cryptsetup", "-q"] + argv)
        if !r.ok {
            var text = r.err.trimmed()
            if text.isEmpty { text = "exited with status \(r.status)" }
            throw DaemonError(message: "cryptsetup: \(ctx.canonicalName(device)): " + ctx.devices.canonicalizeText(text))
        }
    }

    func luksAddKey(_ ctx: CallContext, device: String, key: String, newkey: String, keyslot: Int32) throws {
        try checkKeyslot(keyslot, "luks_add_key")
        try withKeyFile(key) { kf in
            try withKeyFile(newkey) { nkf in
                try cryptsetup(ctx, ["luksAddKey", "--key-slot", String(keyslot), "--key-file", kf, device, nkf], device: device)
            }
        }
    }

    func luksKillSlot(_ ctx: CallContext, device: String, key: String, keyslot: Int32) throws {
        try checkKeyslot(keyslot, "luks_kill_slot")
        try withKeyFile(key) { kf in
            try cryptsetup(ctx, ["luksKillSlot", "--key-file", kf, device, String(keyslot)], device: device)
        }
    }

    func luksUuid(_ ctx: CallContext, device: String) throws -> String {
        let r = try Command.run(["cryptsetup", "luksUUID", device])
        if !r.ok {
            throw DaemonError(message: "cryptsetup: \(ctx.canonicalName(device)): " + ctx.devices.canonicalizeText(r.err.trimmed()))
        }
        return r.out.trimmed()
    }

    func luksFormatCipher(_ ctx: CallContext, device: String, key: String, keyslot: Int32, cipher: String) throws {
        try checkKeyslot(keyslot, "luks_format_cipher")
        if cipher.isEmpty { throw DaemonError(EINVAL, "luks_format_cipher: empty cipher") }
        try withKeyFile(key) { kf in
            try cryptsetup(ctx, ["luksFormat", "--key-slot", String(keyslot), "--cipher", cipher, device, kf], device: device)
        }
    }
}
