import Foundation
import GuestfsProtocol
import XDR

extension Guestfs {
    /// Sends one call to the daemon and returns the decoder positioned at
    /// the reply's payload. Handles FileIn (chunks after the call) and
    /// FileOut (chunks after the reply), progress messages and error
    /// replies.
    func rawDaemonCall(_ procedure: UInt32, name: String, args: [UInt8]?, optargs: UInt64,
                       fileIn: String? = nil, fileOut: String? = nil) throws -> XDRDecoder {
        guard state == .ready || state == .busy, let ch = channel else {
            throw GuestfsError("\(name): call launch before using this function\n(in guestfish, don't forget to use the 'run' command)")
        }
        // Open the local input before anything goes on the wire.
        var inFD: Int32 = -1
        var closeIn = false
        if let fileIn {
            (inFD, closeIn) = try openLocal(fileIn, forWriting: false, name: name)
        }
        defer { if closeIn { _ = Glibc.close(inFD) } }

        state = .busy
        defer { if state == .busy { state = .ready } }
        serial &+= 1
        let mySerial = serial
        // The size of an uploaded file lets the daemon report progress as a fraction.
        var hint: UInt64 = 0
        if inFD >= 0 {
            var st = Glibc.stat()
            if fstat(inFD, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { hint = UInt64(st.st_size) }
        }
        let header = MessageHeader(procedure: procedure, direction: .call, serial: mySerial, progressHint: hint,
                                   optargsBitmask: optargs)
        var e = XDREncoder()
        e.encode(UInt32(0))
        header.encode(to: &e)
        if let args { e.append(raw: args) }
        if e.bytes.count - 4 > GuestfsWire.messageMax {
            throw GuestfsError(errno: E2BIG, "\(name): message too long (\(e.bytes.count - 4) bytes): the arguments exceed the protocol limit of \(GuestfsWire.messageMax) bytes")
        }
        e.patch(UInt32(e.bytes.count - 4), at: 0)
        debug("send: \(name) (proc \(procedure), serial \(mySerial))")

        do {
            try ch.writeAll(e.bytes)
            var localError: GuestfsError?
            var early: [UInt8]?
            if fileIn != nil {
                (localError, early) = try sendFile(ch, fd: inFD, name: name, serial: mySerial)
            }
            var body = try early ?? receiveReply(ch, name: name)
            var msg = try parse(&body, name: name, procedure: procedure, serial: mySerial)
            if msg.header.status == .error {
                let err = try decodeError(&msg, name: name)
                throw localError ?? err
            }
            if let localError { throw localError }
            if let fileOut { try receiveFile(ch, to: fileOut, name: name) }
            return msg.payload
        } catch let ce as ChannelError {
            throw connectionLost(name, ce)
        }
    }

    private func decodeError(_ msg: inout ParsedMessage, name: String) throws -> GuestfsError {
        do {
            let me = try msg.decodeError()
            // Like libguestfs: "ACTION: message", where an internal_* call
            // reports under the public action it implements.
            let shown = name.hasPrefix("internal_") ? String(name.dropFirst("internal_".count)) : name
            return GuestfsError(errnoName: me.errnoString, "\(shown): \(me.message)")
        } catch {
            return GuestfsError(errno: EPROTO, "\(name): could not decode the error reply from the daemon: \(error)")
        }
    }

    private func parse(_ body: inout [UInt8], name: String, procedure: UInt32, serial: UInt32) throws -> ParsedMessage {
        let msg: ParsedMessage
        do { msg = try ParsedMessage(body: body) } catch {
            throw GuestfsError(errno: EPROTO, "\(name): protocol error: cannot decode the reply header: \(error)")
        }
        let h = msg.header
        if h.program != GuestfsWire.program || h.version != GuestfsWire.protocolVersion {
            throw GuestfsError(errno: EPROTO, "\(name): protocol error: wrong program (\(h.program)) or version (\(h.version)) in reply")
        }
        if h.direction != .reply {
            throw GuestfsError(errno: EPROTO, "\(name): protocol error: expected a reply, got a call")
        }
        if h.serial != serial || h.procedure != procedure {
            throw GuestfsError(errno: EPROTO, "\(name): protocol error: reply (proc \(h.procedure), serial \(h.serial)) does not match the call (proc \(procedure), serial \(serial))")
        }
        body = []
        return msg
    }

    /// Reads frames until a message arrives; progress goes to callbacks.
    private func receiveReply(_ ch: DaemonChannel, name: String) throws -> [UInt8] {
        while true {
            switch try ch.readFrame() {
            case let .message(b): return b
            case let .progress(p): emitProgress(p)
            case .launch: debug("\(name): ignoring a stray launch flag")
            case .cancel: debug("\(name): ignoring a cancel flag outside a transfer")
            }
        }
    }

    func emitProgress(_ p: ProgressMessage) {
        emit(.progress, array: [UInt64(p.procedure), UInt64(p.serial), p.position, p.total])
    }

    /// Opens a local file for FileIn/FileOut; /dev/stdin and /dev/stdout
    /// use the process's own descriptors. Returns (fd, must close).
    func openLocal(_ path: String, forWriting: Bool, name: String) throws -> (Int32, Bool) {
        if !forWriting && (path == "/dev/stdin" || path == "-") { return (0, false) }
        if forWriting && (path == "/dev/stdout" || path == "-") { return (1, false) }
        if forWriting && path == "/dev/stderr" { return (2, false) }
        let fd = forWriting ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, 0o666)
                            : open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            throw GuestfsError(errno: e, "\(name): \(path): \(errnoText(e))")
        }
        return (fd, true)
    }

    var isCancelRequested: Bool {
        cancelLock.lock()
        defer { cancelLock.unlock() }
        return cancelRequested
    }

    func resetCancel() {
        cancelLock.lock()
        cancelRequested = false
        cancelLock.unlock()
    }

    func impl_user_cancel() throws {
        cancelLock.lock()
        cancelRequested = true
        cancelLock.unlock()
    }

    /// Streams a local file as chunks. Returns a local error to report after
    /// the daemon's reply (the daemon always replies), and a reply that
    /// arrived early, if any.
    private func sendFile(_ ch: DaemonChannel, fd: Int32, name: String, serial: UInt32) throws -> (GuestfsError?, [UInt8]?) {
        resetCancel()
        // Read the file a megabyte at a time and send it as many chunks in
        // one write; look for the daemon's cancel/early reply between writes.
        let maxChunk = GuestfsWire.maxChunkSize
        let batch = 1 << 20
        var buf = [UInt8](repeating: 0, count: batch)
        var out: [UInt8] = []
        out.reserveCapacity(batch + (batch / maxChunk + 1) * 12 + 16)
        func appendWord(_ w: UInt32) {
            out.append(UInt8(truncatingIfNeeded: w >> 24))
            out.append(UInt8(truncatingIfNeeded: w >> 16))
            out.append(UInt8(truncatingIfNeeded: w >> 8))
            out.append(UInt8(truncatingIfNeeded: w))
        }
        while true {
            // Between writes: has the daemon asked us to stop?
            while ch.hasInput() {
                switch try ch.readFrame() {
                case .cancel:
                    debug("\(name): the daemon cancelled the upload")
                    try ch.writeAll(Framing.chunk([], cancel: true))
                    return (nil, nil)
                case let .progress(p):
                    emitProgress(p)
                case let .message(b):
                    // An early reply (error): stop sending.
                    return (nil, b)
                case .launch:
                    break
                }
            }
            if isCancelRequested {
                try ch.writeAll(Framing.chunk([], cancel: true))
                return (GuestfsError(errno: EINTR, "\(name): operation cancelled by user"), nil)
            }
            // Fill the buffer (pipes and terminals return short reads).
            var filled = 0
            var readError: Int32 = 0
            var eof = false
            while filled < batch {
                let f = filled
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + f, batch - f) }
                if n < 0 {
                    if errno == EINTR { continue }
                    readError = errno
                    break
                }
                if n == 0 { eof = true; break }
                filled += n
                // A regular file fills the buffer; anything else: send what came.
                if n < batch - f { break }
            }
            out.removeAll(keepingCapacity: true)
            var off = 0
            while off < filled {
                let n = min(maxChunk, filled - off)
                let pad = (4 - n % 4) % 4
                appendWord(UInt32(8 + n + pad))
                appendWord(0)
                appendWord(UInt32(n))
                let o = off
                buf.withUnsafeBytes { out.appendBytes(UnsafeRawBufferPointer(rebasing: $0[o..<o + n])) }
                for _ in 0..<pad { out.append(0) }
                off += n
            }
            if readError != 0 {
                out.append(contentsOf: Framing.chunk([], cancel: true))
                try ch.writeAll(out)
                return (GuestfsError(errno: readError, "\(name): read: \(errnoText(readError))"), nil)
            }
            if eof {
                out.append(contentsOf: Framing.chunk([]))
                try ch.writeAll(out)
                return (nil, nil)
            }
            try ch.writeAll(out)
        }
    }

    /// Receives FileOut chunks into `path` until the empty chunk; data is
    /// written to the local file about a megabyte at a time.
    private func receiveFile(_ ch: DaemonChannel, to path: String, name: String) throws {
        resetCancel()
        var fd: Int32 = -1
        var mustClose = false
        var localError: GuestfsError?
        do {
            (fd, mustClose) = try openLocal(path, forWriting: true, name: name)
        } catch let e as GuestfsError {
            localError = e
        }
        defer { if mustClose { _ = Glibc.close(fd) } }
        var sentCancel = false
        func cancel() throws {
            if !sentCancel {
                sentCancel = true
                try ch.writeAll(Framing.word(GuestfsWire.cancelFlag))
            }
        }
        let batch = 1 << 20
        var pending: [UInt8] = []
        pending.reserveCapacity(batch + GuestfsWire.maxChunkSize)
        func flush() throws {
            defer { pending.removeAll(keepingCapacity: true) }
            guard localError == nil, !pending.isEmpty else { return }
            var off = 0
            while off < pending.count {
                let o = off
                let n = pending.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + o, $0.count - o) }
                if n < 0 {
                    if errno == EINTR { continue }
                    let e = errno
                    localError = GuestfsError(errno: e, "\(name): \(path): write: \(errnoText(e))")
                    try cancel()
                    return
                }
                off += n
            }
        }
        if localError != nil { try cancel() }
        var frames = 0
        while true {
            // The cancel flag is a lock: look at it every 64 chunks.
            frames &+= 1
            if frames % 64 == 0 && localError == nil && isCancelRequested {
                localError = GuestfsError(errno: EINTR, "\(name): operation cancelled by user")
                try cancel()
            }
            switch try ch.readFrame() {
            case let .progress(p):
                emitProgress(p)
                continue
            case .launch, .cancel:
                continue
            case let .message(body):
                var d = XDRDecoder(body)
                let chunk: Chunk
                do { chunk = try Chunk(from: &d) } catch {
                    throw GuestfsError(errno: EPROTO, "\(name): protocol error: bad file chunk: \(error)")
                }
                if chunk.cancel {
                    try flush()
                    if let localError { throw localError }
                    throw GuestfsError(errno: EIO, "\(name): file receive cancelled by daemon")
                }
                if chunk.data.isEmpty {
                    try flush()
                    if let localError { throw localError }
                    return
                }
                if localError == nil {
                    pending.append(contentsOf: chunk.data)
                    if pending.count >= batch { try flush() }
                }
            }
        }
    }

    /// The daemon went away: tear the appliance down and report it.
    func connectionLost(_ name: String, _ why: ChannelError) -> GuestfsError {
        var msg = "\(name): appliance closed the connection unexpectedly (\(why)), see earlier error messages"
        let tail = appliance?.console?.tailText ?? channel?.console?.tailText ?? ""
        killAppliance()
        state = .config
        if !tail.isEmpty { msg += "\nconsole tail:\n\(tail)" }
        return GuestfsError(errno: EIO, msg)
    }
}
