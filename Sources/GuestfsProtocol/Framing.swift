import XDR

/// What arrives on the channel: a length-prefixed message body, or one of
/// the special words that stand where a length would.
public enum IncomingFrame: Equatable, Sendable {
    case message([UInt8])
    case progress(ProgressMessage)
    case cancel
    case launch
}

/// A byte stream both ends of the protocol read frames from.
public protocol FrameSource {
    /// Returns exactly `count` bytes, or throws if the stream ends first.
    mutating func readExactly(_ count: Int) throws -> [UInt8]
}

public enum FramingError: Error, Equatable, CustomStringConvertible {
    case messageTooLarge(UInt32)
    case unexpectedEOF

    public var description: String {
        switch self {
        case let .messageTooLarge(n):
            return "protocol: message length \(n) exceeds the maximum \(GuestfsWire.messageMax)"
        case .unexpectedEOF:
            return "protocol: connection closed unexpectedly"
        }
    }
}

public enum Framing {
    /// Prefixes a body with its length word.
    public static func frame(_ body: [UInt8]) -> [UInt8] {
        var e = XDREncoder(reservingCapacity: body.count + 4)
        e.encode(UInt32(body.count))
        e.append(raw: body)
        return e.bytes
    }

    /// Builds a complete call or reply: length, header, then the payload.
    public static func message<P: XDREncodable>(header: MessageHeader, payload: P?) -> [UInt8] {
        var e = XDREncoder()
        e.encode(UInt32(0))
        header.encode(to: &e)
        payload?.encode(to: &e)
        e.patch(UInt32(e.bytes.count - 4), at: 0)
        return e.bytes
    }

    /// A header-only message (a call with no args, or a reply with no ret).
    public static func message(header: MessageHeader) -> [UInt8] {
        message(header: header, payload: Optional<Chunk>.none)
    }

    public static func errorReply(procedure: UInt32, serial: UInt32, errno: String, message text: String) -> [UInt8] {
        let h = MessageHeader(procedure: procedure, direction: .reply, serial: serial, status: .error)
        return message(header: h, payload: MessageError(errnoString: errno, message: text))
    }

    public static func chunk(_ data: [UInt8], cancel: Bool = false) -> [UInt8] {
        frame(Chunk(cancel: cancel, data: data).xdrBytes)
    }

    public static func progress(_ p: ProgressMessage) -> [UInt8] {
        var e = XDREncoder()
        e.encode(GuestfsWire.progressFlag)
        p.encode(to: &e)
        return e.bytes
    }

    public static func word(_ w: UInt32) -> [UInt8] {
        var e = XDREncoder()
        e.encode(w)
        return e.bytes
    }

    /// Reads the next frame, enforcing the message size limit before any
    /// allocation.
    public static func readFrame<S: FrameSource>(from source: inout S) throws -> IncomingFrame {
        var d = XDRDecoder(try source.readExactly(4))
        let word = try d.decodeUInt32()
        switch word {
        case GuestfsWire.launchFlag:
            return .launch
        case GuestfsWire.cancelFlag:
            return .cancel
        case GuestfsWire.progressFlag:
            var pd = XDRDecoder(try source.readExactly(GuestfsWire.progressMessageSize))
            return .progress(try ProgressMessage(from: &pd))
        default:
            if word > UInt32(GuestfsWire.messageMax) { throw FramingError.messageTooLarge(word) }
            return .message(try source.readExactly(Int(word)))
        }
    }
}

/// A decoded message body: its header and the decoder positioned at the payload.
public struct ParsedMessage {
    public var header: MessageHeader
    public var payload: XDRDecoder

    public init(body: [UInt8]) throws(XDRError) {
        var d = XDRDecoder(body, maxLength: GuestfsWire.messageMax)
        header = try MessageHeader(from: &d)
        payload = d
    }

    /// Decodes the error body of a reply whose status is `.error`.
    public mutating func decodeError() throws(XDRError) -> MessageError {
        try MessageError(from: &payload)
    }
}
