// Images and special filesystems: SquashFS images of a directory
// (mksquashfs), growing F2FS (resize.f2fs), the ISO 9660 primary volume
// descriptor (read directly), and describing a compressed file (zfile).

import Glibc
import GuestfsProtocol

extension Handlers {
    // MARK: mksquashfs

    func mksquashfs(_ ctx: CallContext, path: String, compress: String?, excludes: [String]?) throws {
        let host = try ctx.sysroot.hostPath(path, op: "mksquashfs")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "mksquashfs: \(path): \(Sys.strerror(ENOTDIR))") }
        if let compress {
            guard ["gzip", "lzma", "lzo", "lz4", "xz", "zstd"].contains(compress) else {
                throw DaemonError(EINVAL, "mksquashfs: \(compress): unknown compression type (use gzip, lz4, lzo, xz or zstd)")
            }
        }
        var tmpl = Array("/tmp/squashfs.XXXXXX".utf8CString)
        guard let p = Glibc.mkdtemp(&tmpl) else { throw DaemonError.posix("mksquashfs: mkdtemp") }
        let tmp = String(cString: p)
        defer { _ = try? Command.run(["rm", "-rf", "--", tmp]) }
        let image = tmp + "/image.sqfs"
        var argv = ["mksquashfs", host, image, "-noappend", "-no-progress", "-quiet"]
        if let compress { argv += ["-comp", compress] }
        if let excludes, !excludes.isEmpty {
            let list = tmp + "/excludes"
            let fd = open(list, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if fd < 0 { throw DaemonError.posix("mksquashfs: open", list) }
            let ok = Sys.writeAll(fd, Array(excludes.map { $0 + "\n" }.joined().utf8))
            close(fd)
            if !ok { throw DaemonError.posix("mksquashfs: write", list) }
            argv += ["-wildcards", "-ef", list]
        }
        try fsxTool(ctx, op: "mksquashfs", shown: path, argv)
        try fsxSendFile(ctx, image, op: "mksquashfs")
    }

    /// Sends a local file of the appliance as the FileOut data.
    func fsxSendFile(_ ctx: CallContext, _ file: String, op: String) throws {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DaemonError.posix(op, file) }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        try ctx.beginFileOut()
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = DaemonError.posix("\(op): read", file)
                ctx.cancelFileOut()
                throw e
            }
            if n == 0 { break }
            try buf.withUnsafeBytes { try ctx.send(bytes: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        try ctx.endFileOut()
    }

    // MARK: f2fs_expand

    func f2fsExpand(_ ctx: CallContext, device: String) throws {
        try fsxTool(ctx, op: "f2fs_expand", shown: ctx.canonicalName(device), ["resize.f2fs", device])
        Glibc.sync()
    }

    // MARK: isoinfo

    /// Decodes an ISO 9660 primary volume descriptor (the 2048 bytes at
    /// byte 32768 of the volume).
    static func parseISOPrimaryDescriptor(_ d: [UInt8]) -> ISOInfo? {
        guard d.count >= 2048, d[0] == 1, Array(d[1..<6]) == Array("CD001".utf8) else { return nil }
        func text(_ off: Int, _ len: Int) -> String {
            var bytes = Array(d[off..<(off + len)])
            while let l = bytes.last, l == 0x20 || l == 0 { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
        // Both-byte-order numbers: the little-endian half comes first.
        func le16(_ off: Int) -> UInt32 { UInt32(d[off]) | UInt32(d[off + 1]) << 8 }
        func le32(_ off: Int) -> UInt32 { le16(off) | le16(off + 2) << 16 }
        func time(_ off: Int) -> Int64 {
            let digits = d[off..<(off + 16)]
            // Unset: all "0" digits (or, from careless writers, zero bytes / blanks).
            if digits.allSatisfy({ $0 == 0x30 }) || digits.allSatisfy({ $0 == 0 || $0 == 0x20 }) { return -1 }
            guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return -1 }
            func num(_ o: Int, _ n: Int) -> Int64 {
                d[(off + o)..<(off + o + n)].reduce(0) { $0 * 10 + Int64($1 - 0x30) }
            }
            let (y, mo, dd) = (num(0, 4), num(4, 2), num(6, 2))
            let (h, mi, s) = (num(8, 2), num(10, 2), num(12, 2))
            guard (1...12).contains(mo), (1...31).contains(dd) else { return -1 }
            // Days from the civil date (proleptic Gregorian), no time zone database needed.
            let yy = mo <= 2 ? y - 1 : y
            let era = (yy >= 0 ? yy : yy - 399) / 400
            let yoe = yy - era * 400
            let mp = (mo + 9) % 12
            let doy = (153 * mp + 2) / 5 + dd - 1
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
            let days = era * 146097 + doe - 719468
            // The last byte is the offset from GMT in 15-minute steps.
            let tz = Int64(Int8(bitPattern: d[off + 16]))
            return days * 86400 + h * 3600 + mi * 60 + s - tz * 15 * 60
        }
        return ISOInfo(
            isoSystemId: text(8, 32), isoVolumeId: text(40, 32), isoVolumeSpaceSize: le32(80),
            isoVolumeSetSize: le16(120), isoVolumeSequenceNumber: le16(124), isoLogicalBlockSize: le16(128),
            isoVolumeSetId: text(190, 128), isoPublisherId: text(318, 128), isoDataPreparerId: text(446, 128),
            isoApplicationId: text(574, 128), isoCopyrightFileId: text(702, 37), isoAbstractFileId: text(739, 37),
            isoBibliographicFileId: text(776, 37), isoVolumeCreationT: time(813), isoVolumeModificationT: time(830),
            isoVolumeExpirationT: time(847), isoVolumeEffectiveT: time(864))
    }

    private func isoRead(_ fd: Int32, shown: String, op: String) throws -> ISOInfo {
        var buf = [UInt8](repeating: 0, count: 2048)
        var got = 0
        while got < 2048 {
            let n = buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + got, 2048 - got, off_t(32768 + got)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DaemonError.posix(op, shown)
            }
            if n == 0 { break }
            got += n
        }
        guard got == 2048, let info = Handlers.parseISOPrimaryDescriptor(buf) else {
            throw DaemonError(EINVAL, "\(op): \(shown): not an ISO 9660 image (no primary volume descriptor)")
        }
        return info
    }

    func isoinfoDevice(_ ctx: CallContext, device: String) throws -> ISOInfo {
        let shown = ctx.canonicalName(device)
        let fd = open(device, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DaemonError.posix("isoinfo_device", shown) }
        defer { close(fd) }
        return try isoRead(fd, shown: shown, op: "isoinfo_device")
    }

    func isoinfo(_ ctx: CallContext, isofile: String) throws -> ISOInfo {
        let fd = try ctx.sysroot.open(isofile, O_RDONLY, op: "isoinfo")
        defer { close(fd) }
        return try isoRead(fd, shown: isofile, op: "isoinfo")
    }

    // MARK: zfile

    func zfile(_ ctx: CallContext, meth: String, path: String) throws -> String {
        let decompress: String
        switch meth {
        case "gzip", "compress": decompress = "zcat"
        case "bzip2": decompress = "bzcat"
        default: throw DaemonError(EINVAL, "zfile: \(meth): unknown method (use gzip, compress or bzip2)")
        }
        let st = try ctx.sysroot.statGuest(path, follow: true, op: "zfile")
        if (st.st_mode & S_IFMT) == S_IFDIR { throw DaemonError(EISDIR, "zfile: \(path): \(Sys.strerror(EISDIR))") }
        let host = try ctx.sysroot.hostPath(path, op: "zfile")
        // Only the start of the data is needed to recognise it.
        let r = try Command.run(["sh", "-c", "\"$1\" < \"$2\" | head -c 1048576 | file -bsL -", "sh", decompress, host])
        let out = r.out.trimmed()
        if !r.ok || out.isEmpty {
            var why = r.err.trimmed().replacingAll(host, with: path)
            if why.isEmpty { why = "cannot describe the file" }
            throw DaemonError(message: "zfile: \(path): \(why)")
        }
        return out
    }
}
