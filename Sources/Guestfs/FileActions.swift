import Foundation
import GuestfsProtocol
import XDR

// Library-side actions built on daemon calls.
extension Guestfs {
    /// Runs `body` with a fresh temporary file name, removed afterwards.
    func withTempFile<R>(_ stem: String, _ body: (String) throws -> R) throws -> R {
        let p = try tempPath(stem)
        defer { unlink(p) }
        return try body(p)
    }

    func readLocalFile(_ p: String) throws -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: p) else {
            let e = errno
            throw fail(e == 0 ? EIO : e, "\(p): cannot read temporary file")
        }
        return [UInt8](d)
    }

    func impl_read_file(_ path: String) throws -> [UInt8] {
        try withTempFile("rf") { tmp in
            try download(path, tmp)
            return try readLocalFile(tmp)
        }
    }

    func impl_cat(_ path: String) throws -> String {
        String(decoding: try impl_read_file(path), as: UTF8.self)
    }

    func impl_read_lines(_ path: String) throws -> [String] {
        let b = try impl_read_file(path)
        return Guestfs.splitLines(b)
    }

    /// LF or CRLF line ends removed; no extra line for a final newline.
    static func splitLines(_ b: [UInt8]) -> [String] {
        if b.isEmpty { return [] }
        var lines: [String] = []
        var start = 0
        for i in 0..<b.count where b[i] == UInt8(ascii: "\n") {
            var end = i
            if end > start && b[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            lines.append(String(decoding: b[start..<end], as: UTF8.self))
            start = i + 1
        }
        if start < b.count {
            var end = b.count
            if end > start && b[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            lines.append(String(decoding: b[start..<end], as: UTF8.self))
        }
        return lines
    }

    /// Contents below this size go in one internal_write message.
    static let inlineWriteLimit = 2 * 1024 * 1024

    func impl_write(_ path: String, _ content: [UInt8]) throws {
        if content.count <= Guestfs.inlineWriteLimit {
            try internalWrite(path, content)
            return
        }
        try withTempFile("wr") { tmp in
            guard FileManager.default.createFile(atPath: tmp, contents: Data(content)) else {
                throw fail(EIO, "\(tmp): cannot write temporary file")
            }
            try upload(tmp, path)
        }
    }

    func impl_write_append(_ path: String, _ content: [UInt8]) throws {
        if content.isEmpty {
            try internalWriteAppend(path, content)
            return
        }
        var off = 0
        while off < content.count {
            let end = min(off + Guestfs.inlineWriteLimit, content.count)
            try internalWriteAppend(path, Array(content[off..<end]))
            off = end
        }
    }

    /// Splits a NUL-separated listing.
    static func splitNUL(_ b: [UInt8]) -> [String] {
        b.split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
    }

    func impl_ls(_ directory: String) throws -> [String] {
        try withTempFile("ls") { tmp in
            try ls0(directory, tmp)
            return Guestfs.splitNUL(try readLocalFile(tmp)).filter { $0 != "." && $0 != ".." }.sorted()
        }
    }

    func impl_find(_ directory: String) throws -> [String] {
        try withTempFile("find") { tmp in
            try find0(directory, tmp)
            return Guestfs.splitNUL(try readLocalFile(tmp)).map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : $0 }
                .filter { !$0.isEmpty && $0 != "." }.sorted()
        }
    }

    /// libguestfs 1.48 daemons served readdir as procedure 138.
    static let legacyReaddirProcedure: UInt32 = 138

    func impl_readdir(_ dir: String) throws -> [Dirent] {
        do {
            return try withTempFile("rd") { tmp in
                try internalReaddir(dir, tmp)
                return try Guestfs.decodeDirents(try readLocalFile(tmp))
            }
        } catch let e as GuestfsError where e.message.contains("unknown procedure") {
            debug("readdir: daemon has no internal_readdir, using procedure 138")
            var enc = XDREncoder()
            enc.encode(dir)
            var d = try rawDaemonCall(Guestfs.legacyReaddirProcedure, name: "readdir", args: enc.bytes, optargs: 0)
            do {
                let l = try d.decodeArray(of: Dirent.self)
                try d.finish()
                return l
            } catch {
                throw fail(EPROTO, "cannot decode the readdir reply: \(error)")
            }
        }
    }

    /// A stream of XDR-encoded dirent records, one after the other.
    static func decodeDirents(_ bytes: [UInt8]) throws -> [Dirent] {
        var d = XDRDecoder(bytes)
        var out: [Dirent] = []
        while !d.isAtEnd {
            do { out.append(try Dirent(from: &d)) } catch {
                throw GuestfsError(errno: EPROTO, "readdir: cannot decode the directory listing: \(error)")
            }
        }
        return out
    }

    static func statFromNS(_ s: StatNS) -> Stat {
        Stat(dev: s.stDev, ino: s.stIno, mode: s.stMode, nlink: s.stNlink, uid: s.stUid, gid: s.stGid, rdev: s.stRdev,
             size: s.stSize, blksize: s.stBlksize, blocks: s.stBlocks, atime: s.stAtimeSec, mtime: s.stMtimeSec,
             ctime: s.stCtimeSec)
    }

    func impl_stat(_ path: String) throws -> Stat { Guestfs.statFromNS( try statns(path)) }
    func impl_lstat(_ path: String) throws -> Stat { Guestfs.statFromNS( try lstatns(path)) }

    /// Splits `names` into batches that keep each request well below the
    /// protocol's message limit.
    static func batches(_ names: [String], maxCount: Int = 1000, maxBytes: Int = 1024 * 1024) -> [[String]] {
        var out: [[String]] = []
        var cur: [String] = []
        var bytes = 0
        for n in names {
            let sz = n.utf8.count + 8
            if !cur.isEmpty && (cur.count >= maxCount || bytes + sz > maxBytes) {
                out.append(cur); cur = []; bytes = 0
            }
            cur.append(n); bytes += sz
        }
        if !cur.isEmpty || out.isEmpty { out.append(cur) }
        return out
    }

    func impl_lstatnslist(_ path: String, _ names: [String]) throws -> [StatNS] {
        var out: [StatNS] = []
        for b in Guestfs.batches(names) { out += try internalLstatnslist(path, b) }
        return out
    }

    func impl_lstatlist(_ path: String, _ names: [String]) throws -> [Stat] {
        try impl_lstatnslist(path, names).map(Guestfs.statFromNS)
    }

    func impl_readlinklist(_ path: String, _ names: [String]) throws -> [String] {
        var out: [String] = []
        for b in Guestfs.batches(names) { out += try internalReadlinklist(path, b) }
        return out
    }

    // MARK: optional features

    static let retiredGroups: Set<String> = ["augeas", "realpath"]

    func featureIsAvailable(_ group: String) throws -> Bool {
        if Guestfs.retiredGroups.contains(group) { return true }
        if let c = featureCache[group] { return c }
        let r = try internalFeatureAvailable(group)
        let ok = r == 0
        featureCache[group] = ok
        return ok
    }

    func impl_available(_ groups: [String]) throws {
        for g in groups where !(try featureIsAvailable(g)) {
            throw GuestfsError(errno: ENOTSUP, "\(g): group not available")
        }
    }

    func impl_feature_available(_ groups: [String]) throws -> Bool {
        for g in groups where !(try featureIsAvailable(g)) { return false }
        return true
    }
}
