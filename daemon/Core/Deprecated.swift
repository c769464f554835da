// Deprecated calls that are still part of the API: ext2/3/4 labels and
// UUIDs, mke2fs/mke2journal shortcuts, mkswap/mkfs variants, dd, vgscan,
// blockdev_setbsz (a no-op) and luks_open_ro.

import Glibc

extension Handlers {
    /// Fails unless `device` holds an ext2/3/4 filesystem (or journal).
    private func requireExt(_ ctx: CallContext, _ device: String, op: String) throws {
        let type = try blkidTag(device, "TYPE")
        guard ["ext2", "ext3", "ext4", "jbd"].contains(type) else {
            throw DaemonError(EINVAL, "\(op): \(ctx.canonicalName(device)): not an ext2/3/4 filesystem"
                              + (type.isEmpty ? "" : " (found \(type))"))
        }
    }

    // MARK: labels and UUIDs

    func getE2label(_ ctx: CallContext, device: String) throws -> String {
        try requireExt(ctx, device, op: "get_e2label")
        return try fsxTool(ctx, op: "get_e2label", shown: ctx.canonicalName(device), ["e2label", device]).out.trimmed()
    }

    func setE2label(_ ctx: CallContext, device: String, label: String) throws {
        if label.utf8.count > 16 {
            throw DaemonError(ERANGE, "set_e2label: \(ctx.canonicalName(device)): ext2/3/4 labels are limited to 16 bytes")
        }
        try requireExt(ctx, device, op: "set_e2label")
        try fsxTool(ctx, op: "set_e2label", shown: ctx.canonicalName(device), ["e2label", device, label])
    }

    func getE2uuid(_ ctx: CallContext, device: String) throws -> String {
        try requireExt(ctx, device, op: "get_e2uuid")
        let r = try fsxTool(ctx, op: "get_e2uuid", shown: ctx.canonicalName(device), ["tune2fs", "-l", device])
        for l in r.out.lines where l.hasPrefix("Filesystem UUID:") {
            let v = l.dropFirst("Filesystem UUID:".count).trimmed()
            return v == "<none>" ? "" : v
        }
        throw DaemonError(EINVAL, "get_e2uuid: \(ctx.canonicalName(device)): no UUID in the superblock listing")
    }

    func setE2uuid(_ ctx: CallContext, device: String, uuid: String) throws {
        try requireExt(ctx, device, op: "set_e2uuid")
        try fsxTool(ctx, op: "set_e2uuid", shown: ctx.canonicalName(device), ["tune2fs", "-f", "-U", uuid, device])
    }

    // MARK: mke2journal, mke2fs_J*

    private static func checkBlocksize(_ b: Int32, op: String) throws {
        if b < 1024 || b > 65536 || b & (b - 1) != 0 {
            throw DaemonError(EINVAL, "\(op): blocksize \(b) must be a power of 2 between 1024 and 65536")
        }
    }

    private func mke2journalCommon(_ ctx: CallContext, blocksize: Int32, device: String, extra: [String], op: String) throws {
        try Handlers.checkBlocksize(blocksize, op: op)
        try fsxTool(ctx, op: op, shown: ctx.canonicalName(device),
                    ["mke2fs", "-F", "-q", "-O", "journal_dev", "-b", String(blocksize)] + extra + [device])
        Glibc.sync()
    }

    func mke2journal(_ ctx: CallContext, blocksize: Int32, device: String) throws {
        try mke2journalCommon(ctx, blocksize: blocksize, device: device, extra: [], op: "mke2journal")
    }

    func mke2journalL(_ ctx: CallContext, blocksize: Int32, label: String, device: String) throws {
        if label.utf8.count > 16 {
            throw DaemonError(ERANGE, "mke2journal_L: \(ctx.canonicalName(device)): ext2/3/4 labels are limited to 16 bytes")
        }
        try mke2journalCommon(ctx, blocksize: blocksize, device: device, extra: ["-L", label], op: "mke2journal_L")
    }

    func mke2journalU(_ ctx: CallContext, blocksize: Int32, uuid: String, device: String) throws {
        try mke2journalCommon(ctx, blocksize: blocksize, device: device, extra: ["-U", uuid], op: "mke2journal_U")
    }

    private func mke2fsWithJournal(_ ctx: CallContext, fstype: String, blocksize: Int32, device: String, journal: String, op: String) throws {
        guard ["ext3", "ext4"].contains(fstype) || fstype == "ext2" else {
            throw DaemonError(EINVAL, "\(op): \(fstype): the filesystem type must be ext2, ext3 or ext4")
        }
        try Handlers.checkBlocksize(blocksize, op: op)
        try fsxTool(ctx, op: op, shown: ctx.canonicalName(device),
                    ["mke2fs", "-F", "-q", "-t", fstype, "-b", String(blocksize), "-J", "device=\(journal)", device])
        Glibc.sync()
    }

    func mke2fsJ(_ ctx: CallContext, fstype: String, blocksize: Int32, device: String, journal: String) throws {
        try mke2fsWithJournal(ctx, fstype: fstype, blocksize: blocksize, device: device, journal: journal, op: "mke2fs_J")
    }

    func mke2fsJL(_ ctx: CallContext, fstype: String, blocksize: Int32, device: String, label: String) throws {
        try mke2fsWithJournal(ctx, fstype: fstype, blocksize: blocksize, device: device, journal: "LABEL=\(label)", op: "mke2fs_JL")
    }

    func mke2fsJU(_ ctx: CallContext, fstype: String, blocksize: Int32, device: String, uuid: String) throws {
        try mke2fsWithJournal(ctx, fstype: fstype, blocksize: blocksize, device: device, journal: "UUID=\(uuid)", op: "mke2fs_JU")
    }

    // MARK: mkswap_L, mkswap_U, mkfs_b

    func mkswapL(_ ctx: CallContext, label: String, device: String) throws {
        try mkswap(ctx, device: device, label: label, uuid: nil)
    }

    func mkswapU(_ ctx: CallContext, uuid: String, device: String) throws {
        try mkswap(ctx, device: device, label: nil, uuid: uuid)
    }

    func mkfsB(_ ctx: CallContext, fstype: String, blocksize: Int32, device: String) throws {
        try mkfs(ctx, fstype: fstype, device: device, blocksize: blocksize, features: nil, inode: nil, sectorsize: nil, label: nil)
    }

    // MARK: blockdev_setbsz, vgscan, dd, luks_open_ro

    func blockdevSetbsz(_ ctx: CallContext, device: String, blocksize: Int32) throws {
        // Deliberately nothing: the setting never changed what is on the disk.
    }

    func vgscan(_ ctx: CallContext) throws {
        try lvmScan(ctx, activate: false)
    }

    func dd(_ ctx: CallContext, src: String, dest: String) throws {
        let from: (shown: String, arg: String) = try fsxDevOrPath(ctx, src, op: "dd")
        let to: (shown: String, arg: String)
        if dest.hasPrefix("/dev/") {
            to = (ctx.canonicalName(dest), dest)
        } else {
            to = (dest, try ctx.sysroot.hostPath(dest, mustExist: false, op: "dd"))
        }
        let r = try Command.run(["dd", "bs=1024K", "if=\(from.arg)", "of=\(to.arg)", "conv=fsync"])
        if !r.ok {
            var text = r.err.lines.filter { !$0.contains("records in") && !$0.contains("records out") && !$0.contains("copied") }
                .joined(separator: "; ").trimmed()
            text = text.replacingAll(from.arg, with: from.shown).replacingAll(to.arg, with: to.shown)
            if text.isEmpty { text = "dd exited with status \(r.status)" }
            throw DaemonError(message: "dd: \(from.shown) to \(to.shown): " + ctx.devices.canonicalizeText(text))
        }
    }

    func luksOpenRo(_ ctx: CallContext, device: String, key: String, mapname: String) throws {
        try cryptsetupOpen(ctx, device: device, key: key, mapname: mapname, readonly: true, crypttype: "luks", cipher: nil)
    }
}
