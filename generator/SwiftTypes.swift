/// How model types are spelled in Swift, and how they travel in XDR.
enum SwiftTypes {
    static func arg(_ t: ArgType) -> String {
        switch t {
        case .string, .pathname, .device, .mountable, .devOrPath, .mountableOrPath, .fileIn, .fileOut, .key, .guid, .filename:
            return "String"
        case .stringList, .deviceList, .filenameList, .pathnameList: return "[String]"
        case .optString: return "String?"
        case .bool: return "Bool"
        case .int: return "Int32"
        case .int64: return "Int64"
        case .bufferIn: return "[UInt8]"
        case .pointer: return "UnsafeMutableRawPointer?"
        }
    }

    /// The non-optional Swift type of an optarg's value.
    static func optarg(_ t: OptArgType) -> String {
        switch t {
        case .obool: return "Bool"
        case .oint: return "Int32"
        case .oint64: return "Int64"
        case .ostring: return "String"
        case .ostringList: return "[String]"
        }
    }

    static func optargZero(_ t: OptArgType) -> String {
        switch t {
        case .obool: return "false"
        case .oint, .oint64: return "0"
        case .ostring: return "\"\""
        case .ostringList: return "[]"
        }
    }

    static func structType(_ model: Model, _ name: String) -> String {
        model.structDef(name)?.camelName ?? Naming.camel(name)
    }

    /// The public Swift result type of an action ("Void" for RErr).
    static func ret(_ r: Ret, _ model: Model) -> String {
        switch r.type {
        case .err: return "Void"
        case .int: return "Int32"
        case .int64: return "Int64"
        case .bool: return "Bool"
        case .constString, .string: return "String"
        case .constOptString: return "String?"
        case .stringList: return "[String]"
        case .structure: return structType(model, r.structName!)
        case .structList: return "[\(structType(model, r.structName!))]"
        case .hashtable: return "[String: String]"
        case .bufferOut: return "[UInt8]"
        }
    }

    /// The Swift type of the `value` field in a daemon `…Ret` struct.
    static func wireRet(_ r: Ret, _ model: Model) -> String {
        r.type == .hashtable ? "[String]" : ret(r, model)
    }

    static func field(_ t: FieldType) -> String {
        switch t {
        case .char: return "UInt8"
        case .string, .device, .uuid: return "String"
        case .buffer: return "[UInt8]"
        case .int32: return "Int32"
        case .uint32: return "UInt32"
        case .int64, .bytes: return "Int64"
        case .uint64: return "UInt64"
        case .optPercent: return "Float"
        }
    }

    // MARK: XDR expressions

    static func decodeArg(_ t: ArgType) -> String {
        switch t {
        case .stringList, .deviceList, .filenameList, .pathnameList: return "try d.decodeStringList()"
        case .optString: return "try d.decodeOptionalString()"
        case .bool: return "try d.decodeBool()"
        case .int: return "try d.decodeInt32()"
        case .int64: return "try d.decodeInt64()"
        case .bufferIn: return "try d.decodeOpaque()"
        default: return "try d.decodeString()"
        }
    }

    static func encodeArg(_ t: ArgType, _ expr: String) -> String {
        switch t {
        case .optString: return "e.encodeOptional(\(expr))"
        case .bufferIn: return "e.encodeOpaque(\(expr))"
        default: return "e.encode(\(expr))"
        }
    }

    static func decodeOptarg(_ t: OptArgType) -> String {
        switch t {
        case .obool: return "try d.decodeBool()"
        case .oint: return "try d.decodeInt32()"
        case .oint64: return "try d.decodeInt64()"
        case .ostring: return "try d.decodeString()"
        case .ostringList: return "try d.decodeStringList()"
        }
    }

    static func decodeRet(_ r: Ret, _ model: Model) -> String {
        switch r.type {
        case .int: return "try d.decodeInt32()"
        case .int64: return "try d.decodeInt64()"
        case .bool: return "try d.decodeBool()"
        case .string, .constString: return "try d.decodeString()"
        case .constOptString: return "try d.decodeOptionalString()"
        case .stringList, .hashtable: return "try d.decodeStringList()"
        case .structure: return "try \(structType(model, r.structName!))(from: &d)"
        case .structList: return "try d.decodeArray(of: \(structType(model, r.structName!)).self)"
        case .bufferOut: return "try d.decodeOpaque()"
        case .err: return ""
        }
    }

    static func encodeRet(_ r: Ret, _ expr: String) -> String {
        switch r.type {
        case .bufferOut: return "e.encodeOpaque(\(expr))"
        case .constOptString: return "e.encodeOptional(\(expr))"
        default: return "e.encode(\(expr))"
        }
    }

    static func decodeField(_ t: FieldType) -> String {
        switch t {
        case .char: return "UInt8(truncatingIfNeeded: try d.decodeInt32())"
        case .string, .device: return "try d.decodeString()"
        case .buffer: return "try d.decodeOpaque()"
        case .uuid: return "String(decoding: try d.decodeFixedOpaque(count: 32), as: UTF8.self)"
        case .int32: return "try d.decodeInt32()"
        case .uint32: return "try d.decodeUInt32()"
        case .int64, .bytes: return "try d.decodeInt64()"
        case .uint64: return "try d.decodeUInt64()"
        case .optPercent: return "try d.decodeFloat()"
        }
    }

    static func encodeField(_ t: FieldType, _ expr: String) -> String {
        switch t {
        case .char: return "e.encode(Int32(\(expr)))"
        case .buffer: return "e.encodeOpaque(\(expr))"
        case .uuid: return "e.encodeFixedOpaque(XDRUUID.fixed(\(expr)))"
        default: return "e.encode(\(expr))"
        }
    }

    /// Smallest encoded size of one struct, so list decoders can bound counts.
    static func minSize(_ s: StructDef) -> Int {
        s.fields.reduce(0) { acc, f in
            switch f.type {
            case .int64, .bytes, .uint64: return acc + 8
            case .uuid: return acc + 32
            default: return acc + 4
            }
        }
    }
}
