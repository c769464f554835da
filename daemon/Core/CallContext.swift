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

    /// Reads the library's chunks, handing each non-empty one to `body`.
    /// If `body` throws, the rest of the stream is drained first so the
    /// error reply lands where the library expects it.
    func receiveFile(_ body: ([UInt8]) throws -> Void) throws {
        var failure: Error?
        var cancelled = false
        var received: UInt64 = 0
        var src = channel
        while true {
            let data: [UInt8]
            let frame = try Framing.readFrame(from: &src)
            switch frame {
            case .message(let bytes):
                var d = XDRDecoder(bytes)
                let chunk = try Chunk(from: &d)
                if chunk.cancel { cancelled = true; data = [] } else { data = chunk.data }
            case .cancel, .launch, .progress:
                continue
            }
            if cancelled || data.isEmpty { break }
            if failure == nil {
                do {
                    try body(data)
                    received += UInt64(data.count)
                    progress(received, progressHint)
                } catch { failure = error }
            }
        }
        fileInConsumed = true
        if let failure { throw failure }
        if cancelled { throw DaemonError(ECANCELED, "file upload cancelled by the library") }
        finishProgress(progressHint)
    }

    /// Reads and discards the rest of a FileIn stream.
    func drainFileIn() {
        guard !fileInConsumed else { return }
        fileInConsumed = true
        var src = channel
        while true {
            guard let frame = try? Framing.readFrame(from: &src) else { return }
            if case .message(let bytes) = frame {
                var d = XDRDecoder(bytes)
                guard let chunk = try? Chunk(from: &d) else { return }
                if chunk.cancel || chunk.data.isEmpty { return }
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

    private var pending: [UInt8] = []

    /// Queues bytes for the FileOut stream, sending full chunks.
    func send(_ data: [UInt8]) throws {
        try beginFileOut()
        pending.append(contentsOf: data)
        while pending.count >= GuestfsWire.maxChunkSize {
            try sendChunk(Array(pending[0..<GuestfsWire.maxChunkSize]))
            pending.removeFirst(GuestfsWire.maxChunkSize)
        }
    }

    private func sendChunk(_ data: [UInt8]) throws {
        if channel.pollCancel() {
            try? channel.write(Framing.chunk([], cancel: true))
            fileOutEnded = true
            throw DaemonError(ECANCELED, "file download cancelled by the library")
        }
        try channel.write(Framing.chunk(data))
    }

    /// Flushes and sends the empty chunk that ends the stream.
    func endFileOut() throws {
        try beginFileOut()
        if !pending.isEmpty {
            try sendChunk(pending)
            pending = []
        }
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
        try? channel.write(Framing.chunk([], cancel: true))
    }

    // MARK: progress

    /// Sends a progress message at most about once a second.
    func progress(_ position: UInt64, _ total: UInt64) {
        let now = Sys.monotonicSeconds()
        guard now - lastProgress >= 1.0 else { return }
        lastProgress = now
        progressSent = true
        let p = ProgressMessage(procedure: procedure, serial: serial, position: position, total: total)
        try? channel.write(Framing.progress(p))
    }

    /// A final 100% message, if any progress was reported during the call.
    func finishProgress(_ total: UInt64) {
        guard progressSent else { return }
        let p = ProgressMessage(procedure: procedure, serial: serial, position: total, total: total)
        try? channel.write(Framing.progress(p))
    }
}
