// Unlocking a guest's encrypted devices before inspection, as libguestfs's
// tools do: every LUKS (or BitLocker) partition, whole disk or logical
// volume is opened as /dev/mapper/luks-UUID with the keys from the
// KeyStore, then LVM is rescanned so volume groups inside show up.

import Guestfs

public enum GuestDecryption {
    /// The device-mapper name for an encrypted device: "luks-" and its
    /// UUID, the name systemd and libguestfs give it, so a guest fstab
    /// naming /dev/mapper/luks-UUID resolves; without a UUID, the device
    /// name's letters and digits (/dev/sda2 → luks-sda2).
    public static func mapName(for device: String, uuid: String?) -> String {
        if let uuid, !uuid.isEmpty { return "luks-" + uuid }
        var rest = Substring(device)
        if rest.hasPrefix("/dev/") { rest = rest.dropFirst(5) }
        return "luks-" + String(rest.filter { $0.isASCII && ($0.isLetter || $0.isNumber) })
    }

    /// Opens every encrypted device it finds; returns the devices opened.
    /// Devices already open stay as they are. A device none of whose keys
    /// fit is an error naming it.
    @discardableResult
    public static func openAll(_ g: Guestfs, keys: KeyStore, readOnly: Bool) throws -> [String] {
        var opened: [String] = []
        // Logical volumes can only hold LUKS once their VG is active, and
        // a LUKS partition can hold a PV: two rounds cover both nestings.
        for _ in 0..<2 {
            var candidates = try g.listDevices() + g.listPartitions()
            candidates += (try? g.lvs()) ?? []
            let mapped = Set(try g.listDmDevices())
            var openNow: [(device: String, uuid: String?)] = []
            for dev in candidates where !opened.contains(dev) {
                guard ["crypto_LUKS", "BitLocker"].contains((try? g.vfsType(dev)) ?? "") else { continue }
                let uuid = try? g.vfsUuid(dev)
                if mapped.contains("/dev/mapper/" + mapName(for: dev, uuid: uuid)) { continue }
                openNow.append((dev, uuid))
            }
            if openNow.isEmpty { break }
            for (dev, uuid) in openNow {
                try open(g, dev, uuid: uuid, keys: keys, readOnly: readOnly)
                opened.append(dev)
            }
            try g.lvmScan(true)
        }
        return opened
    }

    static func open(_ g: Guestfs, _ device: String, uuid: String?, keys: KeyStore, readOnly: Bool) throws {
        let candidates = try keys.keys(for: device, uuid: (uuid?.isEmpty ?? true) ? nil : uuid)
        var lastError: GuestfsError?
        for key in candidates {
            do {
                try g.cryptsetupOpen(device, key, mapName(for: device, uuid: uuid), readonly: readOnly ? true : nil)
                return
            } catch let e as GuestfsError {
                lastError = e
            }
        }
        throw KeyError("""
            could not open the encrypted device \(device) with the key\(candidates.count == 1 ? "" : "s") given.

            Check the passphrase, or name the key with --key \(device):key:PASSPHRASE
            (or --key \(device):file:KEYFILE).\(lastError.map { "\n\nThe last attempt failed with: \($0.message)" } ?? "")
            """)
    }
}
