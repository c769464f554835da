// Per-call state: which call this is, argument checks and device-name
// translation (used by the generated Dispatch), and the file streams and
// progress messages that travel on the channel during the call.

import Glibc
import GuestfsProtocol
import XDR

public final class CallContext {
    public let procedure: UInt32
    public let serial: UInt32
    public let optargsBitmask: UInt64
    public let progressHint: UInt64
    let daemon: Daemon

    /// FileIn: the library's chunk stream has been read to its end.
    var fileInConsumed = false
    /// FileOut: the reply header has been sent (no error reply possible now).
    var replySent = false
    /// FileOut: the terminating (empty or cancel) chunk has been sent.
    var fileOutEnded = false

    private var lastProgress: Double = 0
    private var progressSent = false
    private let startTime: Double

    init(procedure: UInt32, serial: UInt32, optargsBitmask: UInt64, progressHint: UInt64, daemon: Daemon) {
        self.procedure = procedure
        self.serial = serial
        self.optargsBitmask = optargsBitmask
        self.progressHint = progressHint
        self.daemon = daemon
        self.startTime = Sys.monotonicSeconds()
        self.lastProgress = startTime
    }

    var sysroot: Sysroot { daemon.sysroot }
    var devices: DeviceMap { daemon.devices }
    var channel: Channel { daemon.channel }

    // MARK: argument checks (called by Dispatch)

    func checkOptargs(count: Int) throws {
        let allowed: UInt64 = count >= 64 ? ~0 : (UInt64(1) << UInt64(count)) - 1
        if optargsBitmask & ~allowed != 0 {
            throw DaemonError(EINVAL, "unknown option in optional arguments bitmask (this can happen if a program is compiled against a newer version of libguestfs, then dynamically linked to an older version)")
        }
    }

    func has(optarg bit: Int) -> Bool {
        bit < 64 && optargsBitmask & (UInt64(1) << UInt64(bit)) != 0
    }

    func checkPathname(_ value: String, _ argName: String) throws -> String {
        guard value.hasPrefix("/") else {
            throw DaemonError(EINVAL, "\(argName): \(value.isEmpty ? "\"\"" : value): path must start with a / character")
        }
        if value.utf8.count > 4095 { throw DaemonError(ENAMETOOLONG, "\(argName): path is too long") }
        return value
    }

    /// Canonical or LVM/mapper device name → the real device node.
    func resolveDevice(_ value: String, _ argName: String) throws -> String {
        guard value.hasPrefix("/dev/") else {
            throw DaemonError(EINVAL, "\(argName): \(value.isEmpty ? "\"\"" : value): expecting a device name (must start with /dev/)")
        }
        if value.contains("/../") || value.hasSuffix("/..") {
            throw DaemonError(EINVAL, "\(argName): \(value): invalid device name")
        }
        var real = value
        if let d = DiskName(String(value.dropFirst(5))) {
            guard let r = devices.toReal(value) else {
                throw DaemonError(ENOENT, "\(argName): \(value): No such device (the appliance has \(devices.disks.count) disk\(devices.disks.count == 1 ? "" : "s"))")
            }
            _ = d
            real = r
        }
        var st = stat()
        if stat(real, &st) != 0 {
            throw DaemonError(ENOENT, "\(argName): \(value): No such file or directory")
        }
        switch st.st_mode & S_IFMT {
        case S_IFBLK:
            break
        case S_IFDIR:
            // /dev/VG names a volume group (lvremove accepts it).
            let rest = value.dropFirst(5)
            let special = ["mapper", "pts", "shm", "disk", "block", "char", "fd", "input", "net", "hugepages", "mqueue", "cpu", "bus", "dri", "snd", "virtio-ports"]
            if rest.contains("/") || special.contains(String(rest)) {
                throw DaemonError(EINVAL, "\(argName): \(value): not a block device")
            }
        default:
            throw DaemonError(EINVAL, "\(argName): \(value): not a block device")
        }
        if devices.isRoot(real) {
            throw DaemonError(ENOENT, "\(argName): \(value): No such device")
        }
        return real
    }

    /// A device, or "btrfsvol:DEVICE/SUBVOLUME".
    func resolveMountable(_ value: String, _ argName: String) throws -> String {
        let prefix = "btrfsvol:"
        guard value.hasPrefix(prefix) else { return try resolveDevice(value, argName) }
        let rest = String(value.dropFirst(prefix.count))
        let comps = rest.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        // Try "/dev/a", "/dev/a/b", ... as the device; the remainder is the subvolume.
        if comps.count >= 3 {
            for n in 2..<comps.count {
                let dev = "/" + comps[0..<n].joined(separator: "/")
                if let real = try? resolveDevice(dev, argName) {
                    return prefix + real + "/" + comps[n...].joined(separator: "/")
                }
            }
        }
        throw DaemonError(EINVAL, "\(argName): \(value): expecting btrfsvol:/dev/DEVICE/SUBVOLUME")
    }

    func resolveDeviceOrPath(_ value: String, _ argName: String) throws -> String {
        value.hasPrefix("/dev/") ? try resolveDevice(value, argName) : try checkPathname(value, argName)
    }

    func resolveMountableOrPath(_ value: String, _ argName: String) throws -> String {
        if value.hasPrefix("/dev/") || value.hasPrefix("btrfsvol:") { return try resolveMountable(value, argName) }
        return try checkPathname(value, argName)
    }

    /// Real device name → the name users see.
    func canonicalName(_ name: String) -> String {
        if name.hasPrefix("btrfsvol:") {
            let rest = String(name.dropFirst(9))
            // btrfsvol:/dev/vdb2/sub
            let comps = rest.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: true)
            if comps.count == 3 {
                return "btrfsvol:" + devices.toCanonical("/\(comps[0])/\(comps[1])") + "/" + comps[2]
            }
            return name
        }
        return devices.toCanonical(name)
    }

    // MARK: FileIn

    /// How much FileIn data is gathered before `body` sees it, and how
    /// much framed FileOut data is gathered before one write(2).
    static let batchSize = 1 << 20

    /// Reads the library's chunks, handing their data to `body` in
    /// batches of up to about `batchSize` bytes (chunks are decoded in
    /// place, so each byte is copied once). If `body` throws, the rest of
    /// the stream is drained first so the error reply lands where the
    /// library expects it.
    func receiveFile(_ body: ([UInt8]) throws -> Void) throws {
        var failure: Error?
        var cancelled = false
        var received: UInt64 = 0
        var batch: [UInt8] = []
        batch.reserveCapacity(CallContext.batchSize + GuestfsWire.maxChunkSize)
        func deliver() {
            guard !batch.isEmpty else { return }
            if failure == nil {
                do {
                    try body(batch)
                    received += UInt64(batch.count)
                    progress(received, progressHint)
                } catch { failure = error }
            }
            batch.removeAll(keepingCapacity: true)
        }
        reading: while true {
            switch try channel.readChunk(into: &batch) {
            case .data:
                if batch.count >= CallContext.batchSize { deliver() }
            case .other:
                continue
            case .end:
                break reading
            case .cancelled:
                cancelled = true
                break reading
            }
        }
        fileInConsumed = true
        if !cancelled { deliver() }
        if let failure { throw failure }
        if cancelled { throw DaemonError(ECANCELED, "file upload cancelled by the library") }
        finishProgress(progressHint)
    }

    /// Like receiveFile, without copying: `body` gets runs of pointers
    /// into the channel's buffer (about `batchSize` bytes, valid only
    /// during the call), ready for writev(2).
    func receiveFileSegments(_ body: ([UnsafeRawBufferPointer]) throws -> Void) throws {
        var failure: Error?
        var received: UInt64 = 0
        let r = try channel.receiveChunks(batch: CallContext.batchSize) { segs in
            guard failure == nil else { return }
            do {
                try body(segs)
                for s in segs { received += UInt64(s.count) }
                progress(received, progressHint)
            } catch { failure = error }
        }
        fileInConsumed = true
        if let failure { throw failure }
        if r == .cancelled { throw DaemonError(ECANCELED, "file upload cancelled by the library") }
        finishProgress(progressHint)
    }

    /// Reads and discards the rest of a FileIn stream.
    func drainFileIn() {
        guard !fileInConsumed else { return }
        fileInConsumed = true
        var scratch: [UInt8] = []
        while true {
            guard let r = try? channel.readChunk(into: &scratch) else { return }
            switch r {
            case .data: scratch.removeAll(keepingCapacity: true)
            case .other: continue
            case .end, .cancelled: return
            }
        }
    }

    // MARK: FileOut

    /// Sends the OK reply that precedes a FileOut stream.
    func beginFileOut() throws {
        guard !replySent else { return }
        let h = MessageHeader(procedure: procedure, direction: .reply, serial: serial)
        try channel.write(Framing.message(header: h))
        replySent = true
    }

    /// Data not yet making up a full chunk.
    private var pending: [UInt8] = []
    /// Framed chunks (and progress messages) waiting for one big write.
    private var outBuf: [UInt8] = []

    private static func appendWord(_ w: UInt32, _ out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: w >> 24))
        out.append(UInt8(truncatingIfNeeded: w >> 16))
        out.append(UInt8(truncatingIfNeeded: w >> 8))
        out.append(UInt8(truncatingIfNeeded: w))
    }

    /// Frames one data chunk (XDR: length, cancel=0, opaque data) into outBuf.
    private func appendChunk(_ data: UnsafeRawBufferPointer) {
        let n = data.count
        let pad = (4 - n % 4) % 4
        if outBuf.capacity < CallContext.batchSize + GuestfsWire.maxChunkSize + 64 {
            outBuf.reserveCapacity(CallContext.batchSize + GuestfsWire.maxChunkSize + 64)
        }
        CallContext.appendWord(UInt32(8 + n + pad), &outBuf)
        CallContext.appendWord(0, &outBuf)
        CallContext.appendWord(UInt32(n), &outBuf)
        outBuf.appendBytes(data)
        for _ in 0..<pad { outBuf.append(0) }
    }

    /// Writes the gathered chunks, unless the library has cancelled.
    private func flushOut() throws {
        guard !outBuf.isEmpty else { return }
        if channel.pollCancel() {
            outBuf.removeAll(keepingCapacity: true)
            pending = []
            try? channel.write(Framing.chunk([], cancel: true))
            fileOutEnded = true
            throw DaemonError(ECANCELED, "file download cancelled by the library")
        }
        try outBuf.withUnsafeBytes { try channel.write($0) }
        outBuf.removeAll(keepingCapacity: true)
    }

    /// Queues bytes for the FileOut stream, sending full chunks.
    func send(_ data: [UInt8]) throws {
        try data.withUnsafeBytes { try send(bytes: $0) }
    }

    /// Queues bytes for the FileOut stream without copying them first.
    func send(bytes data: UnsafeRawBufferPointer) throws {
        try beginFileOut()
        let max = GuestfsWire.maxChunkSize
        var off = 0
        if !pending.isEmpty {
            let take = min(max - pending.count, data.count)
            pending.appendBytes(UnsafeRawBufferPointer(rebasing: data[0..<take]))
            off = take
            if pending.count < max { return }
            pending.withUnsafeBytes { appendChunk($0) }
            pending.removeAll(keepingCapacity: true)
        }
        while data.count - off >= max {
            appendChunk(UnsafeRawBufferPointer(rebasing: data[off..<off + max]))
            off += max
            if outBuf.count >= CallContext.batchSize { try flushOut() }
        }
        if off < data.count {
            pending.appendBytes(UnsafeRawBufferPointer(rebasing: data[off..<data.count]))
        }
        if outBuf.count >= CallContext.batchSize { try flushOut() }
    }

    /// Flushes and sends the empty chunk that ends the stream.
    func endFileOut() throws {
        try beginFileOut()
        if !pending.isEmpty {
            pending.withUnsafeBytes { appendChunk($0) }
            pending = []
        }
        try flushOut()
        if !fileOutEnded {
            fileOutEnded = true
            try channel.write(Framing.chunk([]))
        }
    }

    /// Aborts a FileOut stream after an error.
    func cancelFileOut() {
        guard replySent, !fileOutEnded else { return }
        fileOutEnded = true
        pending = []
        outBuf = []
        try? channel.write(Framing.chunk([], cancel: true))
    }

    // MARK: progress

    /// Seconds before the first progress message of a call, and between
    /// the later ones. GUESTFSD_PROGRESS_DELAYS="FIRST,EVERY" in the
    /// daemon's environment (`debug setenv`) changes them for tests.
    static var progressDelays: (first: Double, every: Double) {
        if let p = getenv("GUESTFSD_PROGRESS_DELAYS") {
            let v = String(cString: p).split(separator: ",").compactMap { Double($0) }
            if v.count == 2, v[0] >= 0, v[1] >= 0 { return (v[0], v[1]) }
        }
        return (1.0, 1.0)
    }
    private lazy var delays = CallContext.progressDelays

    /// Sends a progress message when the delay has passed since the last
    /// one (or the start of the call); once any was sent, reaching the
    /// total is always reported, so bars end at 100%.
    func progress(_ position: UInt64, _ total: UInt64) {
        if progressSent && position == total {
            finishProgress(total)
            return
        }
        let now = Sys.monotonicSeconds()
        guard now - lastProgress >= (progressSent ? delays.every : delays.first) else { return }
        lastProgress = now
        sendProgress(position, total)
    }

    /// A final message at 100%, if any progress was reported during the
    /// call. During a FileOut stream it must be called before
    /// endFileOut(): the library stops reading at the end of the stream.
    func finishProgress(_ total: UInt64) {
        guard progressSent, lastSent != (total, total) else { return }
        sendProgress(total, total)
    }

    private var lastSent: (UInt64, UInt64) = (0, 0)

    private func sendProgress(_ position: UInt64, _ total: UInt64) {
        progressSent = true
        lastSent = (position, total)
        let p = ProgressMessage(procedure: procedure, serial: serial, position: position, total: total)
        if !outBuf.isEmpty {
            // Keep it in order with the chunks gathered before it.
            outBuf.append(contentsOf: Framing.progress(p))
        } else {
            try? channel.write(Framing.progress(p))
        }
    }
}
