// internal_* plumbing the library uses.

import Glibc

extension Handlers {
    func internalExit(_ ctx: CallContext) throws {
        ctx.daemon.exitRequested = true
    }

    func internalAutosync(_ ctx: CallContext) throws {
        Glibc.sync()
        try unmountAll(ctx.sysroot)
        Glibc.sync()
    }

    /// Programs each optional group needs in the appliance.
    static let featurePrograms: [String: [String]] = [
        "acl": ["getfacl", "setfacl"], "augeas": [], "blkdiscard": ["blkdiscard"],
        "blkdiscardzeroes": ["blkdiscard"], "btrfs": ["btrfs", "mkfs.btrfs", "btrfstune"], "clevisluks": ["clevis-luks-unlock"],
        "extlinux": ["extlinux"], "f2fs": ["resize.f2fs"], "fstrim": ["fstrim"], "gdisk": ["sgdisk"],
        "grub": ["grub-install"], "hivex": [], "inotify": [], "journal": [],
        "ldm": ["ldmtool"], "libtsk": [], "libyara": [], "linuxcaps": ["getcap", "setcap"],
        "linuxfsuuid": ["mkswap", "tune2fs"], "linuxmodules": ["modprobe"], "linuxxattrs": [],
        "luks": ["cryptsetup"], "lvm2": ["lvm"], "mdadm": ["mdadm"], "mknod": [], "ntfs3g": ["ntfs-3g"],
        "ntfsprogs": ["ntfsresize"], "realpath": [], "rsync": ["rsync"], "scrub": ["scrub"],
        "selinux": [], "selinuxrelabel": ["setfiles"], "sleuthkit": ["icat"], "squashfs": ["mksquashfs"],
        "syslinux": ["syslinux"], "wipefs": ["wipefs"], "xfs": ["xfs_admin"], "xz": ["xz"],
        "zerofree": ["zerofree"],
    ]

    /// 0 when the group is available, 1 when not; unknown groups are an error.
    func internalFeatureAvailable(_ ctx: CallContext, group: String) throws -> Int32 {
        guard let progs = Handlers.featurePrograms[group] else {
            throw DaemonError(ENOENT, "\(group): unknown optional group")
        }
        if group == "selinux" { return Sys.exists("/sys/fs/selinux") ? 0 : 1 }
        // libtsk is loaded on demand (SleuthKit.swift), not linked.
        if group == "libtsk" { return TSKLibrary.shared != nil ? 0 : 1 }
        return progs.allSatisfy(Command.exists) ? 0 : 1
    }
}
