// The request loop: read a call, check it, dispatch it, send the reply or
// an error reply. Malformed input becomes an error reply, never a crash.

import Glibc
import GuestfsProtocol
import XDR

/// Daemon-wide state shared by all calls.
public final class Daemon {
    public let channel: Channel
    public var devices: DeviceMap
    public var sysroot: Sysroot
    /// Set by internal_exit: leave the loop after replying.
    var exitRequested = false
    /// Whether to print each call on stderr (the appliance console).
    public var verbose = false
    let handlers = Handlers()

    public init(channel: Channel, devices: DeviceMap, sysroot: Sysroot = Sysroot()) {
        self.channel = channel
        self.devices = devices
        self.sysroot = sysroot
    }

    /// libguestfs 1.48's readdir: a daemon call returning RStructList dirent.
    static let legacyReaddir: UInt32 = 138

    /// Serves calls until the channel closes or internal_exit.
    public func serve() {
        while !exitRequested {
            reapChildren()
            let frame: IncomingFrame
            do {
                var src = channel
                frame = try Framing.readFrame(from: &src)
            } catch {
                if verbose { Sys.log("channel: \(error)") }
                return
            }
            guard case .message(let body) = frame else { continue }
            handle(body: body)
        }
    }

    /// Handles one call message body.
    func handle(body: [UInt8]) {
        let msg: ParsedMessage
        do {
            msg = try ParsedMessage(body: body)
        } catch {
            // Answer with whatever procedure/serial could be read.
            var d = XDRDecoder(body)
            _ = try? d.decodeUInt32(); _ = try? d.decodeUInt32()
            let proc = (try? d.decodeUInt32()) ?? 0
            _ = try? d.decodeUInt32()
            let serial = (try? d.decodeUInt32()) ?? 0
            sendError(procedure: proc, serial: serial, DaemonError(EINVAL, "cannot decode the message header: \(error)"))
            return
        }
        let h = msg.header
        if h.program != GuestfsWire.program {
            sendError(procedure: h.procedure, serial: h.serial, DaemonError(EINVAL, "wrong program number 0x\(String(h.program, radix: 16)) (expected 0x\(String(GuestfsWire.program, radix: 16)))"))
            return
        }
        if h.version != GuestfsWire.protocolVersion {
            sendError(procedure: h.procedure, serial: h.serial, DaemonError(EINVAL, "wrong protocol version \(h.version) (this daemon speaks version \(GuestfsWire.protocolVersion))"))
            return
        }
        if h.direction != .call || h.status != .ok {
            sendError(procedure: h.procedure, serial: h.serial, DaemonError(EINVAL, "expected a call message"))
            return
        }
        let ctx = CallContext(procedure: h.procedure, serial: h.serial, optargsBitmask: h.optargsBitmask,
                              progressHint: h.progressHint, daemon: self)
        let t0 = Sys.monotonicSeconds()
        if verbose {
            Sys.log("call \(Dispatch.name(of: h.procedure) ?? String(h.procedure)) serial \(h.serial)")
        }
        var payload = msg.payload
        do {
            let ret: [UInt8]?
            if h.procedure == Daemon.legacyReaddir {
                ret = try handlers.legacyReaddir(ctx, &payload)
            } else {
                ret = try Dispatch.run(handlers, ctx, &payload)
            }
            if Dispatch.fileInProcedures.contains(h.procedure) { ctx.drainFileIn() }
            if Dispatch.fileOutProcedures.contains(h.procedure) {
                if !ctx.fileOutEnded { try ctx.endFileOut() }
            } else {
                let reply = MessageHeader(procedure: h.procedure, direction: .reply, serial: h.serial)
                if let ret {
                    var e = XDREncoder(reservingCapacity: ret.count + 40)
                    e.encode(UInt32(0))
                    reply.encode(to: &e)
                    e.append(raw: ret)
                    let len = e.bytes.count - 4
                    if len > GuestfsWire.messageMax {
                        sendError(procedure: h.procedure, serial: h.serial, DaemonError(ENOMEM, "reply too large (\(len) bytes) for the protocol limit of \(GuestfsWire.messageMax) bytes; use a call that streams to a file instead"))
                        return
                    }
                    e.patch(UInt32(len), at: 0)
                    try channel.write(e.bytes)
                } else {
                    try channel.write(Framing.message(header: reply))
                }
            }
            if verbose { Sys.log("  ok (\(Int((Sys.monotonicSeconds() - t0) * 1000)) ms)") }
        } catch {
            if Dispatch.fileInProcedures.contains(h.procedure) { ctx.drainFileIn() }
            let de = Daemon.asDaemonError(error, procedure: h.procedure)
            if verbose { Sys.log("  error: \(de.errnoName) \(de.message)") }
            if ctx.replySent {
                // A FileOut stream was under way: the reply is gone, only a cancel chunk can tell.
                ctx.cancelFileOut()
            } else {
                sendError(procedure: h.procedure, serial: h.serial, de)
            }
        }
    }

    static func asDaemonError(_ error: Error, procedure: UInt32) -> DaemonError {
        if let e = error as? DaemonError { return e }
        let name = Dispatch.name(of: procedure) ?? "procedure \(procedure)"
        if let e = error as? XDRError { return DaemonError(EINVAL, "\(name): cannot decode the arguments: \(e)") }
        if let e = error as? FramingError { return DaemonError(EIO, "\(name): \(e)") }
        return DaemonError(EIO, "\(name): \(error)")
    }

    func sendError(procedure: UInt32, serial: UInt32, _ e: DaemonError) {
        var msg = canonicalizeMessage(e.message)
        // The library puts the action's name in front itself.
        if let name = Dispatch.name(of: procedure), msg.hasPrefix(name + ": ") {
            msg = String(msg.dropFirst(name.count + 2))
        }
        try? channel.write(Framing.errorReply(procedure: procedure, serial: serial, errno: e.errnoName, message: msg))
    }

    /// Error texts name devices the way users know them.
    func canonicalizeMessage(_ s: String) -> String {
        var t = devices.canonicalizeText(s)
        if t.contains(sysroot.path + "/") { t = t.replacingAll(sysroot.path + "/", with: "/") }
        return t
    }

    /// Collects exited children that are not waited for elsewhere (as PID 1
    /// we inherit every orphan).
    func reapChildren() {
        var st: Int32 = 0
        while waitpid(-1, &st, WNOHANG) > 0 {}
    }
}

extension String {
    func replacingAll(_ what: String, with: String) -> String {
        guard !what.isEmpty, contains(what) else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.findRange(of: what) {
            out += rest[rest.startIndex..<r.lowerBound]
            out += with
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}
