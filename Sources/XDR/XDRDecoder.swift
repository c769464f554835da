/// Why a byte sequence could not be decoded. Decoding never traps:
/// every malformed input ends in one of these.
public enum XDRError: Error, Equatable, CustomStringConvertible {
    /// Fewer bytes remain than the next item needs.
    case truncated(needed: Int, remaining: Int)
    /// A length word exceeds the bound for its field or the bytes left.
    case tooLong(length: UInt32, limit: Int)
    /// A boolean that is neither 0 nor 1, or an enum value out of range.
    case badValue(UInt32, what: String)
    /// String bytes that contain NUL.
    case badString
    /// Bytes left over after a complete message body.
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case let .truncated(needed, remaining):
            return "XDR: message truncated (needed \(needed) bytes, \(remaining) left)"
        case let .tooLong(length, limit):
            return "XDR: length \(length) exceeds limit \(limit)"
        case let .badValue(v, what):
            return "XDR: invalid \(what) value \(v)"
        case .badString:
            return "XDR: string contains a NUL byte"
        case let .trailingBytes(n):
            return "XDR: \(n) unexpected bytes after message"
        }
    }
}

/// Reads XDR values from a byte buffer, checking every length against
/// both what remains and an upper bound, so hostile input cannot cause a
/// crash or a large allocation.
public struct XDRDecoder {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    /// Upper bound for any single variable-length item.
    public var maxLength: Int

    public init(_ bytes: [UInt8], offset: Int = 0, maxLength: Int = 4 * 1024 * 1024) {
        self.bytes = bytes
        self.offset = offset
        self.maxLength = maxLength
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    /// Fails when a message body left bytes unread.
    public func finish() throws(XDRError) {
        if remaining != 0 { throw .trailingBytes(remaining) }
    }

    private func need(_ n: Int) throws(XDRError) {
        if n > remaining { throw .truncated(needed: n, remaining: remaining) }
    }

    public mutating func decodeUInt32() throws(XDRError) -> UInt32 {
        try need(4)
        let v = UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
        offset += 4
        return v
    }

    public mutating func decodeInt32() throws(XDRError) -> Int32 {
        Int32(bitPattern: try decodeUInt32())
    }

    public mutating func decodeUInt64() throws(XDRError) -> UInt64 {
        let hi = UInt64(try decodeUInt32())
        let lo = UInt64(try decodeUInt32())
        return hi << 32 | lo
    }

    public mutating func decodeInt64() throws(XDRError) -> Int64 {
        Int64(bitPattern: try decodeUInt64())
    }

    public mutating func decodeBool() throws(XDRError) -> Bool {
        let v = try decodeUInt32()
        switch v {
        case 0: return false
        case 1: return true
        default: throw .badValue(v, what: "bool")
        }
    }

    public mutating func decodeFloat() throws(XDRError) -> Float {
        Float(bitPattern: try decodeUInt32())
    }

    /// Reads a length word and checks it against `limit` and the bytes left
    /// (each element takes at least `minElementSize` bytes).
    public mutating func decodeLength(limit: Int? = nil, minElementSize: Int = 1) throws(XDRError) -> Int {
        let raw = try decodeUInt32()
        let bound = Swift.min(limit ?? maxLength, maxLength)
        if Int(raw) > bound { throw .tooLong(length: raw, limit: bound) }
        let n = Int(raw)
        if n * Swift.max(minElementSize, 0) > remaining {
            throw .truncated(needed: n * minElementSize, remaining: remaining)
        }
        return n
    }

    public mutating func decodeFixedOpaque(count: Int) throws(XDRError) -> [UInt8] {
        let padded = count + (4 - count % 4) % 4
        try need(padded)
        let out = Array(bytes[offset..<offset + count])
        offset += padded
        return out
    }

    public mutating func decodeOpaque(limit: Int? = nil) throws(XDRError) -> [UInt8] {
        let n = try decodeLength(limit: limit)
        return try decodeFixedOpaque(count: n)
    }

    public mutating func decodeString(limit: Int? = nil) throws(XDRError) -> String {
        let raw = try decodeOpaque(limit: limit)
        // C strings cannot hold NUL; invalid UTF-8 (a guest's odd filename)
        // is repaired rather than failing the whole call.
        if raw.contains(0) { throw .badString }
        return String(decoding: raw, as: UTF8.self)
    }

    public mutating func decodeOptionalString() throws(XDRError) -> String? {
        try decodeBool() ? try decodeString() : nil
    }

    public mutating func decodeStringList() throws(XDRError) -> [String] {
        // Each string needs at least its 4-byte length word.
        let n = try decodeLength(minElementSize: 4)
        var out: [String] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try decodeString()) }
        return out
    }

    public mutating func decode<T: XDRDecodable>(_ type: T.Type = T.self) throws(XDRError) -> T {
        try T(from: &self)
    }

    public mutating func decodeArray<T: XDRDecodable>(of type: T.Type = T.self, minElementSize: Int = 4) throws(XDRError) -> [T] {
        let n = try decodeLength(minElementSize: minElementSize)
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try T(from: &self)) }
        return out
    }

    /// The unread bytes, consuming them.
    public mutating func decodeRest() -> ArraySlice<UInt8> {
        let rest = bytes[offset...]
        offset = bytes.count
        return rest
    }
}
