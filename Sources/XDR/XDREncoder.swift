/// Appends values in RFC 4506 (XDR) form: big-endian 4-byte units,
/// variable-length data prefixed by its length and padded to 4 bytes.
public struct XDREncoder {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func encode(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func encode(_ value: Int32) {
        encode(UInt32(bitPattern: value))
    }

    /// XDR "hyper": two 4-byte units, most significant first.
    public mutating func encode(_ value: UInt64) {
        encode(UInt32(truncatingIfNeeded: value >> 32))
        encode(UInt32(truncatingIfNeeded: value))
    }

    public mutating func encode(_ value: Int64) {
        encode(UInt64(bitPattern: value))
    }

    /// XDR booleans are enums with values 0 and 1.
    public mutating func encode(_ value: Bool) {
        encode(UInt32(value ? 1 : 0))
    }

    public mutating func encode(_ value: Float) {
        encode(value.bitPattern)
    }

    /// Variable-length opaque data: length, bytes, zero padding.
    public mutating func encodeOpaque<C: Collection>(_ data: C) where C.Element == UInt8 {
        encode(UInt32(data.count))
        encodeFixedOpaque(data)
    }

    /// Fixed-length opaque data: bytes and zero padding, no length word.
    public mutating func encodeFixedOpaque<C: Collection>(_ data: C) where C.Element == UInt8 {
        bytes.append(contentsOf: data)
        let pad = (4 - data.count % 4) % 4
        for _ in 0..<pad { bytes.append(0) }
    }

    /// Strings travel as opaque UTF-8 bytes.
    public mutating func encode(_ value: String) {
        encodeOpaque(value.utf8)
    }

    /// XDR optional-data ("pointer"): a bool, then the value when present.
    public mutating func encodeOptional(_ value: String?) {
        if let value {
            encode(true)
            encode(value)
        } else {
            encode(false)
        }
    }

    public mutating func encode(_ values: [String]) {
        encode(UInt32(values.count))
        for v in values { encode(v) }
    }

    public mutating func encode<T: XDREncodable>(_ value: T) {
        value.encode(to: &self)
    }

    public mutating func encode<T: XDREncodable>(_ values: [T]) {
        encode(UInt32(values.count))
        for v in values { v.encode(to: &self) }
    }

    /// Overwrites four bytes already written (used to patch a length word).
    public mutating func patch(_ value: UInt32, at offset: Int) {
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    public mutating func append<C: Collection>(raw data: C) where C.Element == UInt8 {
        bytes.append(contentsOf: data)
    }
}

public protocol XDREncodable {
    func encode(to encoder: inout XDREncoder)
}

public protocol XDRDecodable {
    init(from decoder: inout XDRDecoder) throws(XDRError)
}

public typealias XDRCodable = XDREncodable & XDRDecodable

extension XDREncodable {
    /// The value's XDR bytes on their own.
    public var xdrBytes: [UInt8] {
        var e = XDREncoder()
        encode(to: &e)
        return e.bytes
    }
}

/// libguestfs UUID fields are fixed 32-byte opaques holding ASCII text.
public enum XDRUUID {
    public static func fixed(_ s: String) -> [UInt8] {
        var b = Array(s.utf8.prefix(32))
        while b.count < 32 { b.append(0x20) }
        return b
    }
}
