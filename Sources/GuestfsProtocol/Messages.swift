import XDR

/// The header that starts every call and reply body.
public struct MessageHeader: XDRCodable, Equatable, Sendable {
    public var program: UInt32
    public var version: UInt32
    public var procedure: UInt32
    public var direction: MessageDirection
    public var serial: UInt32
    /// Total bytes the call expects to move, for progress bars (0 if unknown).
    public var progressHint: UInt64
    /// Bit N set means optional argument N is present in the args struct.
    public var optargsBitmask: UInt64
    public var status: MessageStatus

    public init(procedure: UInt32, direction: MessageDirection, serial: UInt32,
                progressHint: UInt64 = 0, optargsBitmask: UInt64 = 0, status: MessageStatus = .ok,
                program: UInt32 = GuestfsWire.program, version: UInt32 = GuestfsWire.protocolVersion) {
        self.program = program
        self.version = version
        self.procedure = procedure
        self.direction = direction
        self.serial = serial
        self.progressHint = progressHint
        self.optargsBitmask = optargsBitmask
        self.status = status
    }

    public init(from d: inout XDRDecoder) throws(XDRError) {
        program = try d.decodeUInt32()
        version = try d.decodeUInt32()
        procedure = try d.decodeUInt32()
        let dir = try d.decodeUInt32()
        guard let direction = MessageDirection(rawValue: dir) else { throw .badValue(dir, what: "direction") }
        self.direction = direction
        serial = try d.decodeUInt32()
        progressHint = try d.decodeUInt64()
        optargsBitmask = try d.decodeUInt64()
        let st = try d.decodeUInt32()
        guard let status = MessageStatus(rawValue: st) else { throw .badValue(st, what: "status") }
        self.status = status
    }

    public func encode(to e: inout XDREncoder) {
        e.encode(program)
        e.encode(version)
        e.encode(procedure)
        e.encode(direction.rawValue)
        e.encode(serial)
        e.encode(progressHint)
        e.encode(optargsBitmask)
        e.encode(status.rawValue)
    }
}

/// The body of an error reply: the errno name (e.g. "ENOENT", may be
/// empty) and a human-readable message.
public struct MessageError: XDRCodable, Equatable, Sendable {
    public var errnoString: String
    public var message: String

    public init(errnoString: String, message: String) {
        self.errnoString = errnoString
        self.message = message
    }

    public init(from d: inout XDRDecoder) throws(XDRError) {
        errnoString = try d.decodeString(limit: GuestfsWire.errnoLen)
        message = try d.decodeString(limit: GuestfsWire.errorLen)
    }

    public func encode(to e: inout XDREncoder) {
        // Over-long texts are cut so a peer with strict bounds still accepts them.
        e.encode(String(decoding: errnoString.utf8.prefix(GuestfsWire.errnoLen), as: UTF8.self))
        e.encode(String(decoding: message.utf8.prefix(GuestfsWire.errorLen), as: UTF8.self))
    }
}

/// One piece of a file stream (FileIn/FileOut). A chunk with no data ends
/// the stream; `cancel` set means the sender gave up.
public struct Chunk: XDRCodable, Equatable, Sendable {
    public var cancel: Bool
    public var data: [UInt8]

    public init(cancel: Bool = false, data: [UInt8]) {
        self.cancel = cancel
        self.data = data
    }

    public init(from d: inout XDRDecoder) throws(XDRError) {
        let c = try d.decodeInt32()
        cancel = c != 0
        data = try d.decodeOpaque(limit: GuestfsWire.maxChunkSize)
    }

    public func encode(to e: inout XDREncoder) {
        e.encode(Int32(cancel ? 1 : 0))
        e.encodeOpaque(data)
    }
}

/// A progress notification the daemon sends during a long call.
public struct ProgressMessage: XDRCodable, Equatable, Sendable {
    public var procedure: UInt32
    public var serial: UInt32
    public var position: UInt64
    public var total: UInt64

    public init(procedure: UInt32, serial: UInt32, position: UInt64, total: UInt64) {
        self.procedure = procedure
        self.serial = serial
        self.position = position
        self.total = total
    }

    public init(from d: inout XDRDecoder) throws(XDRError) {
        procedure = try d.decodeUInt32()
        serial = try d.decodeUInt32()
        position = try d.decodeUInt64()
        total = try d.decodeUInt64()
    }

    public func encode(to e: inout XDREncoder) {
        e.encode(procedure)
        e.encode(serial)
        e.encode(position)
        e.encode(total)
    }
}
