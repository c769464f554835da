// clevis_luks_unlock: opening a LUKS device through its Clevis binding
// (clevis-luks-unlock; Tang servers need the appliance network).

import Glibc

extension Handlers {
    func clevisLuksUnlock(_ ctx: CallContext, device: String, mapname: String) throws {
        let shown = ctx.canonicalName(device)
        guard !mapname.isEmpty, !mapname.contains("/") else {
            throw DaemonError(EINVAL, "clevis_luks_unlock: \(mapname.isEmpty ? "\"\"" : mapname): invalid mapping name")
        }
        // clevis' own message for a non-LUKS device is vague: check first.
        let isLuks = try Command.run(["cryptsetup", "isLuks", device])
        if !isLuks.ok {
            throw DaemonError(EINVAL, "clevis_luks_unlock: \(shown): not a LUKS device")
        }
        if Sys.exists("/dev/mapper/\(mapname)") {
            throw DaemonError(EEXIST, "clevis_luks_unlock: /dev/mapper/\(mapname): a mapping of this name exists already")
        }
        // Without any binding clevis only says it could not open the device.
        let list = try Command.run(["clevis-luks-list", "-d", device])
        if list.ok && list.out.trimmed().isEmpty {
            throw DaemonError(message: "clevis_luks_unlock: \(shown): the LUKS device has no Clevis binding (no key slot is bound to a Clevis pin)")
        }
        let r = try Command.run(["clevis-luks-unlock", "-d", device, "-n", mapname])
        if !r.ok {
            var text = r.err.trimmed()
            if text.isEmpty { text = r.out.trimmed() }
            if text.isEmpty { text = "exited with status \(r.status) (no Clevis binding could unlock the device)" }
            throw DaemonError(message: "clevis_luks_unlock: \(shown): " + ctx.devices.canonicalizeText(text))
        }
        // The new /dev/mapper node appears through device-mapper (no udev here).
        _ = try? Command.run(["dmsetup", "mknodes"])
    }
}
