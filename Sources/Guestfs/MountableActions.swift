import Foundation

// mountable_device / mountable_subvolume: taking a mountable string apart
// on the library side, without asking the daemon.
extension Guestfs {
    /// "btrfsvol:/dev/sda2/some/sub" → ("/dev/sda2", "some/sub"); other strings → (string, nil).
    static func splitMountable(_ m: String) -> (device: String, subvolume: String?) {
        let prefix = "btrfsvol:"
        guard m.hasPrefix(prefix) else { return (m, nil) }
        let rest = m.dropFirst(prefix.count)
        // The device is "/dev/NAME" (or "/dev/VG/LV", "/dev/mapper/NAME"):
        // the subvolume is what follows the device's last component.
        let comps = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard comps.count >= 4, comps[0].isEmpty, comps[1] == "dev" else { return (String(rest), nil) }
        var devCount = 3                       // "", "dev", NAME
        if comps.count >= 5 && (comps[2] == "mapper" || Guestfs.looksLikeVG(comps[2])) { devCount = 4 }
        let device = comps[0..<devCount].joined(separator: "/")
        let sub = comps[devCount...].joined(separator: "/")
        return (device, sub.isEmpty ? nil : sub)
    }

    /// "/dev/VG/LV/sub": a name that is not a disk or partition is taken as a volume group.
    private static func looksLikeVG(_ name: String) -> Bool {
        let diskPrefixes = ["sd", "vd", "hd", "xvd", "md", "nvme", "mmcblk", "dm-", "loop", "sr", "ubd"]
        return !diskPrefixes.contains { name.hasPrefix($0) }
    }

    func impl_mountable_device(_ mountable: String) throws -> String {
        Guestfs.splitMountable(mountable).device
    }

    func impl_mountable_subvolume(_ mountable: String) throws -> String {
        guard let sub = Guestfs.splitMountable(mountable).subvolume else {
            throw fail(EINVAL, "mountable_subvolume: \(mountable): not a btrfs subvolume")
        }
        return sub
    }
}

// c_pointer: the address of the C handle behind this one.
extension Guestfs {
    func impl_c_pointer() throws -> Int64 {
        if let a = cHandleAddress { return Int64(a) }
        return Int64(Int(bitPattern: Unmanaged.passUnretained(self).toOpaque()))
    }
}
