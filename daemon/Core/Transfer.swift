// File streams: upload/download (FileIn/FileOut chunks), base64, tar.

import Glibc
import GuestfsProtocol

extension Handlers {
    // MARK: upload

    /// Receives a FileIn stream into `fd`. In verbose mode it logs where
    /// the time went (bench/run.sh with LIBGUESTFS_DEBUG=1 shows it).
    private func receiveInto(_ ctx: CallContext, _ fd: Int32, _ name: String, offset: Int64?) throws {
        let verbose = ctx.daemon.verbose
        let ch = ctx.channel
        let t0 = Sys.monotonicSeconds()
        let before = ch.stats
        ch.timing = verbose
        defer { ch.timing = false }
        let writer = UploadWriter(fd: fd, name: name, offset: offset)
        var writeSeconds = 0.0
        try ctx.receiveFileSegments { segs in
            let w0 = verbose ? Sys.monotonicSeconds() : 0
            defer { if verbose { writeSeconds += Sys.monotonicSeconds() - w0 } }
            try writer.write(segs)
        }
        try writer.finish()
        let t1 = Sys.monotonicSeconds()
        if fsync(fd) != 0 && errno != EINVAL && errno != EROFS { throw DaemonError.posix("fsync", name) }
        if verbose {
            let t2 = Sys.monotonicSeconds()
            let reads = ch.stats.reads - before.reads, bytes = ch.stats.bytes - before.bytes
            func ms(_ s: Double) -> Int { Int(s * 1000) }
            Sys.log("upload: \(bytes) bytes in \(reads) channel reads (\(reads > 0 ? bytes / reads : 0) bytes each); stream \(ms(t1 - t0)) ms: reading \(ms(ch.stats.seconds - before.seconds)) ms, writing \(ms(writeSeconds)) ms (\(writer.usedDirect ? "O_DIRECT, writer thread" : "page cache")); fsync \(ms(t2 - t1)) ms")
        }
    }

    func upload(_ ctx: CallContext, remotefilename: String) throws {
        let fd = try openPathOrDevice(ctx, remotefilename, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, mode: 0o666, op: "open")
        defer { close(fd) }
        try receiveInto(ctx, fd, remotefilename, offset: nil)
        if close(dup(fd)) != 0 { throw DaemonError.posix("close", remotefilename) }
    }

    func uploadOffset(_ ctx: CallContext, remotefilename: String, offset: Int64) throws {
        if offset < 0 { throw DaemonError(EINVAL, "upload_offset: \(remotefilename): offset is negative") }
        let fd = try openPathOrDevice(ctx, remotefilename, O_WRONLY | O_CREAT | O_NOCTTY, mode: 0o666, op: "open")
        defer { close(fd) }
        try receiveInto(ctx, fd, remotefilename, offset: offset)
    }

    // MARK: download

    /// Streams `size` bytes (all when nil) from `offset` of an open file.
    /// A ReadAhead thread reads the file (with O_DIRECT where it can)
    /// while this one sends.
    private func sendFrom(_ ctx: CallContext, _ fd: Int32, _ name: String, offset: Int64, size: Int64?) throws {
        let total = size ?? max(0, (fileSize(fd) ?? 0) - offset)
        var sent: Int64 = 0
        let verbose = ctx.daemon.verbose
        let t0 = Sys.monotonicSeconds()
        var waitSeconds = 0.0
        let reader = ReadAhead(fd: fd, name: name, offset: offset, size: size)
        defer { reader.stop() }
        try ctx.beginFileOut()
        while true {
            let w0 = verbose ? Sys.monotonicSeconds() : 0
            guard let block = try reader.next() else { break }
            if verbose { waitSeconds += Sys.monotonicSeconds() - w0 }
            // CallContext.send cuts it into chunks and writes about a
            // megabyte of chunks per syscall.
            try ctx.send(bytes: block)
            sent += Int64(block.count)
            ctx.progress(UInt64(sent), UInt64(total))
        }
        ctx.finishProgress(UInt64(sent))
        try ctx.endFileOut()
        if verbose {
            let t = Sys.monotonicSeconds() - t0
            Sys.log("download: \(sent) bytes in \(Int(t * 1000)) ms, \(Int(waitSeconds * 1000)) ms of it waiting for the file (\(reader.usedDirect ? "O_DIRECT" : "page cache"), read-ahead thread)")
        }
    }

    func download(_ ctx: CallContext, remotefilename: String) throws {
        let fd = try openPathOrDevice(ctx, remotefilename, O_RDONLY, op: "open")
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw DaemonError(EISDIR, "download: \(remotefilename): Is a directory")
        }
        try sendFrom(ctx, fd, remotefilename, offset: 0, size: nil)
    }

    func downloadOffset(_ ctx: CallContext, remotefilename: String, offset: Int64, size: Int64) throws {
        if offset < 0 { throw DaemonError(EINVAL, "download_offset: \(remotefilename): offset is negative") }
        if size < 0 { throw DaemonError(EINVAL, "download_offset: \(remotefilename): size is negative") }
        let fd = try openPathOrDevice(ctx, remotefilename, O_RDONLY, op: "open")
        defer { close(fd) }
        try sendFrom(ctx, fd, remotefilename, offset: offset, size: size)
    }

    // MARK: base64

    func base64In(_ ctx: CallContext, filename: String) throws {
        let fd = try ctx.sysroot.open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, mode: 0o666, op: "open")
        defer { close(fd) }
        var decoder = Base64Decoder()
        try ctx.receiveFile { data in
            let out = try decoder.feed(data)
            if !Sys.writeAll(fd, out) { throw DaemonError.posix("write", filename) }
        }
        let tail = try decoder.finish()
        if !Sys.writeAll(fd, tail) { throw DaemonError.posix("write", filename) }
    }

    func base64Out(_ ctx: CallContext, filename: String) throws {
        let fd = try ctx.sysroot.open(filename, O_RDONLY, op: "open")
        defer { close(fd) }
        var enc = Base64Encoder()
        var buf = [UInt8](repeating: 0, count: 57 * 128)
        try ctx.beginFileOut()
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DaemonError.posix("read", filename)
            }
            if n == 0 { break }
            try ctx.send(enc.feed(buf[0..<n]))
        }
        try ctx.send(enc.finish())
        try ctx.endFileOut()
    }

    // MARK: tar

    static func tarCompressFlag(_ c: String?) throws -> [String] {
        switch c ?? "" {
        case "": return []
        case "compress": return ["--compress"]
        case "gzip": return ["--gzip"]
        case "bzip2": return ["--bzip2"]
        case "xz": return ["--xz"]
        case "lzop": return ["--lzop"]
        case "lzma": return ["--lzma"]
        case "zstd": return ["--zstd"]
        default: throw DaemonError(EINVAL, "tar: \(c!): unknown compression type")
        }
    }

    func tarIn(_ ctx: CallContext, directory: String, compress: String?, xattrs: Bool?, selinux: Bool?, acls: Bool?, keepdirlink: Bool?) throws {
        let host = try ctx.sysroot.hostPath(directory, op: "tar_in")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "tar_in: \(directory): Not a directory") }
        var argv = ["tar", "-C", host] + (try Handlers.tarCompressFlag(compress)) + ["-xf", "-"]
        if xattrs == true { argv.append("--xattrs") }
        if selinux == true { argv.append("--selinux") }
        if acls == true { argv.append("--acls") }
        if keepdirlink == true { argv.append("--keep-directory-symlink") }
        let (st, err) = try feedFileIn(ctx, to: try Child.spawn(argv, stdin: .pipe))
        if st != 0 { throw Command.failure(["tar"], CommandResult(status: st, stdout: [], stderr: err)) }
    }

    func tgzIn(_ ctx: CallContext, directory: String) throws {
        try tarIn(ctx, directory: directory, compress: "gzip", xattrs: nil, selinux: nil, acls: nil, keepdirlink: nil)
    }

    /// Runs a program and streams its stdout as the FileOut data.
    func streamCommand(_ ctx: CallContext, _ argv: [String]) throws {
        let child = try Child.spawn(argv)
        var err: [UInt8] = []
        do {
            try ctx.beginFileOut()
            try child.pump(errBuf: &err) { try ctx.send($0) }
        } catch {
            _ = child.wait()
            throw error
        }
        let st = child.wait()
        if st != 0 { throw Command.failure(argv, CommandResult(status: st, stdout: [], stderr: err)) }
        try ctx.endFileOut()
    }

    func tarOut(_ ctx: CallContext, directory: String, compress: String?, numericowner: Bool?, excludes: [String]?, xattrs: Bool?, selinux: Bool?, acls: Bool?) throws {
        let dir = try ctx.checkPathname(directory, "directory")
        let host = try ctx.sysroot.hostPath(dir, op: "tar_out")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "tar_out: \(dir): Not a directory") }
        var argv = ["tar", "-C", host] + (try Handlers.tarCompressFlag(compress))
        if numericowner == true { argv.append("--numeric-owner") }
        for e in excludes ?? [] { argv.append("--exclude=\(e)") }
        if xattrs == true { argv.append("--xattrs") }
        if selinux == true { argv.append("--selinux") }
        if acls == true { argv.append("--acls") }
        argv += ["-cf", "-", "."]
        try streamCommand(ctx, argv)
    }

    func tgzOut(_ ctx: CallContext, directory: String) throws {
        try tarOut(ctx, directory: directory, compress: "gzip", numericowner: nil, excludes: nil, xattrs: nil, selinux: nil, acls: nil)
    }
}

/// Sets and clears O_DIRECT on an open regular file or block device;
/// once the filesystem refuses it, it stays off.
final class DirectFlag {
    let fd: Int32
    private(set) var usable: Bool
    private(set) var isOn = false

    init(fd: Int32) {
        self.fd = fd
        var st = stat()
        let kind = fstat(fd, &st) == 0 ? st.st_mode & S_IFMT : 0
        // GUESTFSD_NO_DIRECT=1 (`debug setenv`) turns it off, to compare.
        let off = getenv("GUESTFSD_NO_DIRECT").map { String(cString: $0) == "1" } ?? false
        usable = (kind == S_IFREG || kind == S_IFBLK) && !off
    }

    /// Returns whether O_DIRECT is now in the state asked for.
    @discardableResult
    func set(_ on: Bool) -> Bool {
        if on && !usable { return false }
        guard on != isOn else { return true }
        let fl = fcntl(fd, F_GETFL)
        if fl >= 0 && fcntl(fd, F_SETFL, on ? fl | UploadWriter.O_DIRECT : fl & ~UploadWriter.O_DIRECT) == 0 {
            isOn = on
            return true
        }
        if !on { return true }   // the write that follows will say what is wrong
        usable = false
        return false
    }

    /// The filesystem took the flag but not the I/O: stop using it.
    func disable() {
        set(false)
        usable = false
    }
}

/// Where upload data goes. Regular files and block devices are written
/// with O_DIRECT when the filesystem takes it: in an emulated appliance,
/// copying into the guest's page cache costs far more than letting the
/// virtual disk take the data straight from our buffer. A direct write
/// also leaves the CPU idle while the disk works, so a writer thread
/// does the writing while the calling thread keeps reading the channel.
/// Direct writes need aligned memory, offsets and lengths: data is
/// gathered in aligned buffers (the first one ends at a block boundary
/// when an upload_offset is unaligned), whole blocks go direct, and a
/// short tail goes through the page cache. Pipes, character devices and
/// filesystems without O_DIRECT get plain writes on the calling thread.
final class UploadWriter {
    // Glibc only exports O_DIRECT under _GNU_SOURCE.
    #if arch(arm64) || arch(arm)
    static let O_DIRECT: Int32 = 0o200000
    #else
    static let O_DIRECT: Int32 = 0o40000
    #endif
    static let align = 4096
    static let bufferSize = 1 << 20
    static let bufferCount = 4

    let fd: Int32
    let name: String
    /// Offset of the next byte (positioned writes), nil for write(2) in order.
    private var pos: Int64?
    private let direct: DirectFlag
    /// Some data went direct (for the verbose log).
    private(set) var usedDirect = false

    // Calling thread: the buffer being filled.
    private var current: UnsafeMutableRawPointer?
    private var filled = 0
    private var limit = UploadWriter.bufferSize

    // Shared with the writer thread, under `mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var free: [UnsafeMutableRawPointer] = []
    private var queue: [(buf: UnsafeMutableRawPointer, count: Int, at: Int64)] = []
    private var closing = false
    private var failure: DaemonError?
    private var thread: pthread_t?
    private var all: [UnsafeMutableRawPointer] = []

    init(fd: Int32, name: String, offset: Int64?) {
        self.fd = fd
        self.name = name
        direct = DirectFlag(fd: fd)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        guard direct.usable else {
            pos = offset
            return
        }
        pos = offset ?? 0
        guard direct.set(true) else { return }
        for _ in 0..<UploadWriter.bufferCount {
            all.append(UnsafeMutableRawPointer.allocate(byteCount: UploadWriter.bufferSize, alignment: UploadWriter.align))
        }
        free = all
        current = free.removeLast()
        // Fill the first buffer only up to a block boundary.
        let head = Int((Int64(UploadWriter.align) - pos! % Int64(UploadWriter.align)) % Int64(UploadWriter.align))
        if head > 0 { limit = head }
        var tid = pthread_t()
        let me = Unmanaged.passUnretained(self).toOpaque()
        if pthread_create(&tid, nil, { arg in
            Unmanaged<UploadWriter>.fromOpaque(arg!).takeUnretainedValue().writerLoop()
            return nil
        }, me) == 0 {
            thread = tid
        } else {
            // No thread: write from the calling thread, through the page cache.
            direct.set(false)
            current = nil
        }
    }

    deinit {
        stop()
        for b in all { b.deallocate() }
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    func write(_ segs: [UnsafeRawBufferPointer]) throws {
        guard current != nil else {
            let n = Sys.writevAll(fd, segs, at: pos)
            if n < 0 { throw DaemonError.posix("write", name) }
            if pos != nil { pos! += Int64(n) }
            return
        }
        for seg in segs {
            var off = 0
            while off < seg.count {
                let take = min(seg.count - off, limit - filled)
                (current! + filled).copyMemory(from: seg.baseAddress! + off, byteCount: take)
                filled += take
                off += take
                if filled == limit { try submit() }
            }
        }
    }

    /// Hands the current buffer to the writer thread and takes a free one.
    private func submit() throws {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if filled > 0 {
            queue.append((current!, filled, pos!))
            pos! += Int64(filled)
            filled = 0
            limit = UploadWriter.bufferSize
            pthread_cond_broadcast(cond)
            while free.isEmpty && failure == nil { pthread_cond_wait(cond, mutex) }
            current = free.popLast() ?? current
        }
        if let failure { throw failure }
    }

    private func writerLoop() {
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty && !closing { pthread_cond_wait(cond, mutex) }
            if queue.isEmpty {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = queue.removeFirst()
            let skip = failure != nil
            pthread_mutex_unlock(mutex)
            var err: DaemonError?
            if !skip {
                do { try writeOut(job.buf, job.count, at: job.at) } catch { err = error as? DaemonError ?? DaemonError(EIO, "write: \(name): \(error)") }
            }
            pthread_mutex_lock(mutex)
            if let err, failure == nil { failure = err }
            free.append(job.buf)
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
        }
    }

    /// One buffer to the file (writer thread): whole blocks direct when
    /// the offset is aligned, anything else through the page cache.
    private func writeOut(_ buf: UnsafeMutableRawPointer, _ count: Int, at start: Int64) throws {
        let align = UploadWriter.align
        var done = 0
        var at = start
        while done < count {
            let left = count - done
            let useDirect = direct.usable && at % Int64(align) == 0 && left >= align
            let want = useDirect ? left - left % align : left
            // Refused: `usable` is now false and the next round goes buffered.
            if !direct.set(useDirect) { continue }
            let n = Glibc.pwrite(fd, buf + done, want, off_t(at))
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EINVAL && useDirect { direct.disable(); continue }
                throw DaemonError.posix("write", name)
            }
            if n == 0 { throw DaemonError(EIO, "write: \(name): no progress") }
            if useDirect { usedDirect = true }
            done += n
            at += Int64(n)
        }
    }

    /// Ends the writer thread (after the queued writes); idempotent.
    private func stop() {
        guard let t = thread else { return }
        pthread_mutex_lock(mutex)
        closing = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        pthread_join(t, nil)
        thread = nil
    }

    /// Writes whatever is left, waits for the writer thread and leaves the
    /// file without O_DIRECT. Throws the first write error.
    func finish() throws {
        var err: Error?
        if current != nil {
            do { try submit() } catch { err = error }
        }
        stop()
        direct.set(false)
        if let err { throw err }
        if let failure { throw failure }
    }
}

/// Reads `size` bytes (to the end when nil) of a file from `offset` on
/// a thread, a megabyte at a time into a few aligned buffers, so the
/// disk works while the caller sends. Regular files and block devices
/// are read with O_DIRECT while the position is block-aligned (see
/// UploadWriter). Without a thread it reads on the caller's.
final class ReadAhead {
    static let bufferCount = 3

    let fd: Int32
    let name: String
    private var pos: Int64
    private var left: Int64?
    private let direct: DirectFlag
    private(set) var usedDirect = false

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var all: [UnsafeMutableRawPointer] = []
    private var free: [UnsafeMutableRawPointer] = []
    /// Filled buffers in file order; count 0 marks the end.
    private var ready: [(buf: UnsafeMutableRawPointer, count: Int)] = []
    private var failure: DaemonError?
    private var finished = false
    private var closing = false
    private var thread: pthread_t?
    /// The buffer the caller holds (returned on the next call).
    private var held: UnsafeMutableRawPointer?

    init(fd: Int32, name: String, offset: Int64, size: Int64?) {
        self.fd = fd
        self.name = name
        pos = offset
        left = size
        direct = DirectFlag(fd: fd)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        for _ in 0..<ReadAhead.bufferCount {
            all.append(UnsafeMutableRawPointer.allocate(byteCount: CallContext.batchSize, alignment: UploadWriter.align))
        }
        free = all
        var tid = pthread_t()
        if pthread_create(&tid, nil, { arg in
            Unmanaged<ReadAhead>.fromOpaque(arg!).takeUnretainedValue().loop()
            return nil
        }, Unmanaged.passUnretained(self).toOpaque()) == 0 {
            thread = tid
        }
    }

    deinit {
        stop()
        for b in all { b.deallocate() }
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Reads the next block into `buf`: its length, 0 at the end.
    private func readBlock(_ buf: UnsafeMutableRawPointer) throws -> Int {
        let cap = CallContext.batchSize
        let align = UploadWriter.align
        let want = left.map { Int(min(Int64(cap), $0)) } ?? cap
        if want == 0 { return 0 }
        while true {
            // Direct reads want an aligned offset and length; past the end
            // of the file they return what there is.
            let useDirect = pos % Int64(align) == 0 && direct.set(true)
            if !useDirect { direct.set(false) }
            let ask = useDirect ? (want + align - 1) / align * align : want
            let n = Glibc.pread(fd, buf, ask, off_t(pos))
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EINVAL && useDirect { direct.disable(); continue }
                throw DaemonError.posix("read", name)
            }
            if n > 0 && useDirect { usedDirect = true }
            let got = min(n, want)
            pos += Int64(got)
            if left != nil { left! -= Int64(got) }
            return got
        }
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            while free.isEmpty && !closing { pthread_cond_wait(cond, mutex) }
            if closing {
                pthread_mutex_unlock(mutex)
                break
            }
            let buf = free.removeLast()
            pthread_mutex_unlock(mutex)
            var n = 0
            var err: DaemonError?
            do { n = try readBlock(buf) } catch { err = error as? DaemonError ?? DaemonError(EIO, "read: \(name): \(error)") }
            pthread_mutex_lock(mutex)
            if let err { failure = err } else { ready.append((buf, n)) }
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
            if err != nil || n == 0 { break }
        }
        direct.set(false)
    }

    /// The next block of the file (valid until the next call), nil at the end.
    func next() throws -> UnsafeRawBufferPointer? {
        guard thread != nil else {
            // No thread: read here, one buffer.
            if finished { return nil }
            let n = try readBlock(all[0])
            if n == 0 { finished = true; direct.set(false); return nil }
            return UnsafeRawBufferPointer(start: all[0], count: n)
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let h = held {
            free.append(h)
            held = nil
            pthread_cond_broadcast(cond)
        }
        if finished { return nil }
        while ready.isEmpty && failure == nil { pthread_cond_wait(cond, mutex) }
        if ready.isEmpty, let failure { throw failure }
        let (buf, n) = ready.removeFirst()
        if n == 0 {
            finished = true
            return nil
        }
        held = buf
        return UnsafeRawBufferPointer(start: buf, count: n)
    }

    /// Ends the thread; idempotent.
    func stop() {
        guard let t = thread else { return }
        pthread_mutex_lock(mutex)
        closing = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        pthread_join(t, nil)
        thread = nil
        finished = true
    }
}

/// Streaming base64 encoder; lines of 76 characters like base64(1).
struct Base64Encoder {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private var carry: [UInt8] = []
    private var column = 0

    private mutating func emit(_ c: UInt8, _ out: inout [UInt8]) {
        out.append(c)
        column += 1
        if column == 76 { out.append(10); column = 0 }
    }

    private mutating func group(_ b: [UInt8], _ out: inout [UInt8]) {
        let a = Base64Encoder.alphabet
        let n = b.count
        let v = UInt32(b[0]) << 16 | UInt32(n > 1 ? b[1] : 0) << 8 | UInt32(n > 2 ? b[2] : 0)
        emit(a[Int(v >> 18 & 63)], &out)
        emit(a[Int(v >> 12 & 63)], &out)
        emit(n > 1 ? a[Int(v >> 6 & 63)] : UInt8(ascii: "="), &out)
        emit(n > 2 ? a[Int(v & 63)] : UInt8(ascii: "="), &out)
    }

    mutating func feed<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 4 / 3 + 8)
        var bytes = carry + Array(data)
        let full = bytes.count / 3 * 3
        var i = 0
        while i < full {
            group([bytes[i], bytes[i + 1], bytes[i + 2]], &out)
            i += 3
        }
        bytes.removeFirst(full)
        carry = bytes
        return out
    }

    mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if !carry.isEmpty { group(carry, &out) }
        carry = []
        if column > 0 { out.append(10); column = 0 }
        return out
    }
}

/// Streaming base64 decoder; whitespace is ignored, anything else invalid fails.
struct Base64Decoder {
    private var quad: [UInt8] = []
    private var ended = false

    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - 65
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - 97 + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - 48 + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }

    mutating func feed(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 3 / 4 + 3)
        for c in data {
            if c == 10 || c == 13 || c == 32 || c == 9 { continue }
            if c == UInt8(ascii: "=") { quad.append(64); continue }
            if ended { throw DaemonError(EINVAL, "base64: invalid input (data after padding)") }
            guard let v = Base64Decoder.value(c) else { throw DaemonError(EINVAL, "base64: invalid input") }
            if quad.contains(64) { throw DaemonError(EINVAL, "base64: invalid input (data after padding)") }
            quad.append(v)
            if quad.count == 4 { try flush(&out) }
        }
        if quad.count == 4 { try flush(&out) }
        return out
    }

    private mutating func flush(_ out: inout [UInt8]) throws {
        let pads = quad.filter { $0 == 64 }.count
        if pads > 2 || quad[0] == 64 || quad[1] == 64 { throw DaemonError(EINVAL, "base64: invalid input") }
        let q = quad.map { $0 == 64 ? 0 : UInt32($0) }
        let v = q[0] << 18 | q[1] << 12 | q[2] << 6 | q[3]
        out.append(UInt8(v >> 16 & 0xFF))
        if pads < 2 { out.append(UInt8(v >> 8 & 0xFF)) }
        if pads < 1 { out.append(UInt8(v & 0xFF)) }
        if pads > 0 { ended = true }
        quad = []
    }

    mutating func finish() throws -> [UInt8] {
        if quad.isEmpty { return [] }
        // Unpadded tail.
        if quad.count == 1 || quad.contains(64) { throw DaemonError(EINVAL, "base64: invalid input (truncated)") }
        while quad.count < 4 { quad.append(64) }
        var out: [UInt8] = []
        try flush(&out)
        return out
    }
}

extension Handlers {
    /// Feeds the call's FileIn data to the child's stdin while collecting
    /// its stderr, so neither side blocks; returns its exit status and
    /// stderr. A child that stops reading early is not an error here: the
    /// rest of the stream is drained and its status says why.
    func feedFileIn(_ ctx: CallContext, to child: Child) throws -> (status: Int32, stderr: [UInt8]) {
        var err: [UInt8] = []
        var broken = false
        do {
            try ctx.receiveFile { data in
                if broken { return }
                var off = 0
                while off < data.count {
                    var fds = [pollfd(fd: child.stdinFD, events: Int16(POLLOUT), revents: 0)]
                    if child.stderrFD >= 0 { fds.append(pollfd(fd: child.stderrFD, events: Int16(POLLIN), revents: 0)) }
                    if poll(&fds, nfds_t(fds.count), -1) < 0 { if errno == EINTR { continue }; throw DaemonError.posix("poll") }
                    if fds.count > 1 && fds[1].revents != 0 {
                        var b = [UInt8](repeating: 0, count: 4096)
                        let n = b.withUnsafeMutableBytes { read(child.stderrFD, $0.baseAddress, $0.count) }
                        if n > 0 { err.append(contentsOf: b[0..<n]) } else if n == 0 { close(child.stderrFD); child.stderrFD = -1 }
                    }
                    if fds[0].revents != 0 {
                        let n = data.withUnsafeBytes { write(child.stdinFD, $0.baseAddress! + off, data.count - off) }
                        if n < 0 {
                            if errno == EINTR || errno == EAGAIN { continue }
                            broken = true
                            return
                        }
                        off += n
                    }
                }
            }
        } catch {
            child.closeStdin()
            var more: [UInt8] = []
            try? child.pump(errBuf: &more) { _ in }
            _ = child.wait()
            throw error
        }
        child.closeStdin()
        try child.pump(errBuf: &err) { _ in }
        return (child.wait(), err)
    }
}
