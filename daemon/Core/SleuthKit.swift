// The Sleuth Kit: raw inode contents and block ranges through its command
// line tools (icat, blkls), and directory walks (filesystem_walk,
// find_inode) through libtsk, which is loaded with dlopen on first use (see
// daemon/CTsk/shim.h for why it is not linked).
//
// The walks stream their entries as XDR-encoded tsk_dirent records, one
// after another, for the library to decode.

import CTsk
import Glibc
import GuestfsProtocol
import XDR

/// The few libtsk entry points the walks need, resolved with dlsym.
struct TSKLibrary {
    typealias ImgOpenSing = @convention(c) (UnsafePointer<TSK_TCHAR>?, TSK_IMG_TYPE_ENUM, UInt32) -> UnsafeMutablePointer<TSK_IMG_INFO>?
    typealias ImgClose = @convention(c) (UnsafeMutablePointer<TSK_IMG_INFO>?) -> Void
    typealias FsOpenImg = @convention(c) (UnsafeMutablePointer<TSK_IMG_INFO>?, TSK_OFF_T, TSK_FS_TYPE_ENUM) -> UnsafeMutablePointer<TSK_FS_INFO>?
    typealias FsClose = @convention(c) (UnsafeMutablePointer<TSK_FS_INFO>?) -> Void
    typealias DirWalk = @convention(c) (UnsafeMutablePointer<TSK_FS_INFO>?, TSK_INUM_T, TSK_FS_DIR_WALK_FLAG_ENUM,
                                        TSK_FS_DIR_WALK_CB?, UnsafeMutableRawPointer?) -> UInt8
    typealias ErrorGet = @convention(c) () -> UnsafePointer<CChar>?
    typealias ErrorReset = @convention(c) () -> Void

    let imgOpenSing: ImgOpenSing
    let imgClose: ImgClose
    let fsOpenImg: FsOpenImg
    let fsClose: FsClose
    let dirWalk: DirWalk
    let errorGet: ErrorGet
    let errorReset: ErrorReset

    /// Loaded once; nil when libtsk is not in the appliance.
    static let shared: TSKLibrary? = {
        guard let h = dlopen("libtsk.so.19", RTLD_NOW | RTLD_LOCAL) ?? dlopen("libtsk.so", RTLD_NOW | RTLD_LOCAL) else {
            return nil
        }
        func sym<T>(_ name: String, _ type: T.Type) -> T? {
            guard let p = dlsym(h, name) else { return nil }
            return unsafeBitCast(p, to: type)
        }
        guard let a = sym("tsk_img_open_sing", ImgOpenSing.self), let b = sym("tsk_img_close", ImgClose.self),
              let c = sym("tsk_fs_open_img", FsOpenImg.self), let d = sym("tsk_fs_close", FsClose.self),
              let e = sym("tsk_fs_dir_walk", DirWalk.self), let f = sym("tsk_error_get", ErrorGet.self),
              let g = sym("tsk_error_reset", ErrorReset.self) else { return nil }
        return TSKLibrary(imgOpenSing: a, imgClose: b, fsOpenImg: c, fsClose: d, dirWalk: e, errorGet: f, errorReset: g)
    }()

    /// libtsk's description of its last error.
    func lastError() -> String {
        guard let p = errorGet() else { return "unknown error" }
        let s = String(cString: p).trimmed()
        return s.isEmpty ? "unknown error" : s
    }
}

/// What one walk carries into the C callback.
private final class TSKWalk {
    let ctx: CallContext
    /// Only entries pointing at this inode (find_inode); nil for all.
    let inode: UInt64?
    var failure: Error?
    var encoder = XDREncoder(reservingCapacity: 512)

    init(ctx: CallContext, inode: UInt64?) {
        self.ctx = ctx
        self.inode = inode
    }
}

/// Bits of tsk_dirent's tsk_flags.
private enum TSKDirentFlag {
    static let allocated: UInt32 = 1
    static let reallocated: UInt32 = 2
    static let compressed: UInt32 = 4
}

private func tskTypeChar(_ file: TSK_FS_FILE) -> UInt8 {
    let nameType = file.name.pointee.type
    let byName: [TSK_FS_NAME_TYPE_ENUM: Character] = [
        TSK_FS_NAME_TYPE_FIFO: "f", TSK_FS_NAME_TYPE_CHR: "c", TSK_FS_NAME_TYPE_DIR: "d", TSK_FS_NAME_TYPE_BLK: "b",
        TSK_FS_NAME_TYPE_REG: "r", TSK_FS_NAME_TYPE_LNK: "l", TSK_FS_NAME_TYPE_SOCK: "s", TSK_FS_NAME_TYPE_SHAD: "h",
        TSK_FS_NAME_TYPE_WHT: "w",
    ]
    if let c = byName[nameType] { return c.asciiValue! }
    // The directory entry does not say (or it is one of TSK's virtual
    // entries): ask the inode, if there is one.
    if nameType == TSK_FS_NAME_TYPE_UNDEF, let meta = file.meta {
        let byMeta: [TSK_FS_META_TYPE_ENUM: Character] = [
            TSK_FS_META_TYPE_REG: "r", TSK_FS_META_TYPE_DIR: "d", TSK_FS_META_TYPE_FIFO: "f", TSK_FS_META_TYPE_CHR: "c",
            TSK_FS_META_TYPE_BLK: "b", TSK_FS_META_TYPE_LNK: "l", TSK_FS_META_TYPE_SHAD: "h", TSK_FS_META_TYPE_SOCK: "s",
            TSK_FS_META_TYPE_WHT: "w",
        ]
        if let c = byMeta[meta.pointee.type] { return c.asciiValue! }
    }
    return Character("u").asciiValue!
}

private func tskDirent(_ file: TSK_FS_FILE, path: String) -> TSKDirent {
    let name = file.name.pointee
    var flags: UInt32 = 0
    if name.flags.rawValue & TSK_FS_NAME_FLAG_UNALLOC.rawValue != 0 {
        // A deleted name whose inode is in use again by another file.
        if let meta = file.meta, meta.pointee.flags.rawValue & TSK_FS_META_FLAG_ALLOC.rawValue != 0 {
            flags |= TSKDirentFlag.reallocated
        }
    } else {
        flags |= TSKDirentFlag.allocated
    }
    var d = TSKDirent(tskInode: name.meta_addr, tskType: tskTypeChar(file), tskSize: -1,
                      tskName: path + (name.name.map { String(cString: $0) } ?? ""), tskFlags: flags,
                      tskAtimeSec: 0, tskAtimeNsec: 0, tskMtimeSec: 0, tskMtimeNsec: 0, tskCtimeSec: 0, tskCtimeNsec: 0,
                      tskCrtimeSec: 0, tskCrtimeNsec: 0, tskNlink: 0, tskLink: "", tskSpare1: 0)
    if let mp = file.meta {
        let m = mp.pointee
        if m.flags.rawValue & TSK_FS_META_FLAG_COMP.rawValue != 0 { d.tskFlags |= TSKDirentFlag.compressed }
        d.tskSize = Int64(m.size)
        d.tskNlink = Int64(m.nlink)
        d.tskAtimeSec = Int64(m.atime); d.tskAtimeNsec = Int64(m.atime_nano)
        d.tskMtimeSec = Int64(m.mtime); d.tskMtimeNsec = Int64(m.mtime_nano)
        d.tskCtimeSec = Int64(m.ctime); d.tskCtimeNsec = Int64(m.ctime_nano)
        d.tskCrtimeSec = Int64(m.crtime); d.tskCrtimeNsec = Int64(m.crtime_nano)
        d.tskLink = m.link.map { String(cString: $0) } ?? ""
    }
    return d
}

/// The walk callback: skips "." and ".." (except the root's own "."),
/// filters by inode for find_inode and sends each entry.
private let tskWalkCallback: TSK_FS_DIR_WALK_CB = { filePtr, pathPtr, state in
    guard let filePtr, let state else { return TSK_WALK_ERROR }
    let walk = Unmanaged<TSKWalk>.fromOpaque(state).takeUnretainedValue()
    let file = filePtr.pointee
    let name = file.name.pointee
    let leaf = name.name.map { String(cString: $0) } ?? ""
    if let inode = walk.inode, name.meta_addr != inode { return TSK_WALK_CONT }
    if leaf == "." || leaf == ".." {
        let isRootSelf = leaf == "." && file.fs_info.pointee.root_inum == name.meta_addr
        if !isRootSelf { return TSK_WALK_CONT }
    }
    let path = pathPtr.map { String(cString: $0) } ?? ""
    do {
        tskDirent(file, path: path).encode(to: &walk.encoder)
        try walk.ctx.send(walk.encoder.bytes)
        walk.encoder = XDREncoder(reservingCapacity: 512)
        return TSK_WALK_CONT
    } catch {
        walk.failure = error
        return TSK_WALK_ERROR
    }
}

extension Handlers {
    // MARK: icat, blkls

    func downloadInode(_ ctx: CallContext, device: String, inode: Int64) throws {
        let dev = Handlers.splitMountable(device).device
        if inode < 0 { throw DaemonError(EINVAL, "download_inode: \(ctx.canonicalName(dev)): inode \(inode) is negative") }
        try sleuthkitCommand(ctx, ["icat", "-r", dev, String(inode)], op: "download_inode", device: dev)
    }

    func downloadBlocks(_ ctx: CallContext, device: String, start: Int64, stop: Int64, unallocated: Bool?) throws {
        let dev = Handlers.splitMountable(device).device
        let shown = ctx.canonicalName(dev)
        if start < 0 { throw DaemonError(EINVAL, "download_blocks: \(shown): start \(start) is negative") }
        if stop <= start {
            throw DaemonError(EINVAL, "download_blocks: \(shown): stop (\(stop)) must be greater than start (\(start))")
        }
        // blkls alone lists unallocated blocks; -e lists every block.
        var argv = ["blkls"]
        if unallocated != true { argv.append("-e") }
        argv += [dev, "\(start)-\(stop)"]
        try sleuthkitCommand(ctx, argv, op: "download_blocks", device: dev)
    }

    /// Streams a Sleuth Kit tool's output; its error names the device as the
    /// user knows it.
    private func sleuthkitCommand(_ ctx: CallContext, _ argv: [String], op: String, device: String) throws {
        guard Command.exists(argv[0]) else {
            throw DaemonError(ENOTSUP, "\(op): \(argv[0]) (The Sleuth Kit) is not in the appliance")
        }
        do {
            try streamCommand(ctx, argv)
        } catch let e as DaemonError {
            throw DaemonError(e.errno, "\(op): \(ctx.canonicalName(device)): " + ctx.devices.canonicalizeText(e.message))
        }
    }

    // MARK: libtsk walks

    func internalFilesystemWalk(_ ctx: CallContext, device: String) throws {
        try tskWalk(ctx, device: device, inode: nil, op: "filesystem_walk")
    }

    func internalFindInode(_ ctx: CallContext, device: String, inode: Int64) throws {
        if inode < 0 { throw DaemonError(EINVAL, "find_inode: \(ctx.canonicalName(device)): inode \(inode) is negative") }
        try tskWalk(ctx, device: device, inode: UInt64(inode), op: "find_inode")
    }

    private func tskWalk(_ ctx: CallContext, device: String, inode: UInt64?, op: String) throws {
        guard let tsk = TSKLibrary.shared else {
            throw DaemonError(ENOTSUP, "\(op): libtsk (The Sleuth Kit library) is not in the appliance")
        }
        let dev = Handlers.splitMountable(device).device
        let shown = ctx.canonicalName(dev)
        tsk.errorReset()
        guard let img = tsk.imgOpenSing(dev, TSK_IMG_TYPE_DETECT, 0) else {
            throw DaemonError(EINVAL, "\(op): \(shown): cannot open the device: \(tsk.lastError())")
        }
        defer { tsk.imgClose(img) }
        guard let fs = tsk.fsOpenImg(img, 0, TSK_FS_TYPE_DETECT) else {
            throw DaemonError(EINVAL, "\(op): \(shown): no filesystem The Sleuth Kit can read: \(tsk.lastError())")
        }
        defer { tsk.fsClose(fs) }
        let walk = TSKWalk(ctx: ctx, inode: inode)
        let flags = TSK_FS_DIR_WALK_FLAG_ENUM(TSK_FS_DIR_WALK_FLAG_ALLOC.rawValue | TSK_FS_DIR_WALK_FLAG_UNALLOC.rawValue |
                                              TSK_FS_DIR_WALK_FLAG_RECURSE.rawValue | TSK_FS_DIR_WALK_FLAG_NOORPHAN.rawValue)
        try ctx.beginFileOut()
        let r = withExtendedLifetime(walk) {
            tsk.dirWalk(fs, fs.pointee.root_inum, flags, tskWalkCallback, Unmanaged.passUnretained(walk).toOpaque())
        }
        if let failure = walk.failure { throw failure }
        if r != 0 { throw DaemonError(EIO, "\(op): \(shown): \(tsk.lastError())") }
        try ctx.endFileOut()
    }
}
