/// Emits the wire types shared by library and daemon: guest structs,
/// the procedure numbers, and an args/ret codec per daemon action.
struct ProtocolEmitter {
    let model: Model

    func structsFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("Structs that actions return, with their XDR codecs."))
        w.line("import XDR")
        w.line()
        for s in model.structs {
            if let doc = s.doc { w.line("/// \(doc)") }
            w.block("public struct \(s.camelName): XDRCodable, Equatable, Sendable") { w in
                for f in s.fields { w.line("public var \(Naming.swiftIdent(f.name)): \(SwiftTypes.field(f.type))") }
                w.line()
                let params = s.fields.map { "\(Naming.swiftIdent(f: $0.name)): \(SwiftTypes.field($0.type))" }.joined(separator: ", ")
                w.block("public init(\(params))") { w in
                    for f in s.fields { w.line("self.\(Naming.swiftIdent(f.name)) = \(Naming.swiftIdent(f.name))") }
                }
                w.line()
                w.block("public init(from d: inout XDRDecoder) throws(XDRError)") { w in
                    for f in s.fields { w.line("\(Naming.swiftIdent(f.name)) = \(SwiftTypes.decodeField(f.type))") }
                }
                w.line()
                w.block("public func encode(to e: inout XDREncoder)") { w in
                    for f in s.fields { w.line(SwiftTypes.encodeField(f.type, Naming.swiftIdent(f.name))) }
                }
                w.line()
                w.line("/// Field names and values in declaration order, for printing.")
                w.block("public var fields: [(name: String, value: FieldValue)]") { w in
                    w.line("[")
                    w.indent { w in
                        for f in s.fields { w.line("(\(Naming.literal(f.name)), \(fieldValue(f))),") }
                    }
                    w.line("]")
                }
                w.line()
                w.line("/// The smallest encoded size, used to bound list lengths while decoding.")
                w.line("public static let minEncodedSize = \(SwiftTypes.minSize(s))")
            }
            w.line()
            w.block("extension XDRDecoder") { w in
                w.block("public mutating func decodeArray(of type: \(s.camelName).Type) throws(XDRError) -> [\(s.camelName)]") { w in
                    w.line("try decodeArray(of: type, minElementSize: \(s.camelName).minEncodedSize)")
                }
            }
            w.line()
        }
        return w.text
    }

    private func fieldValue(_ f: StructField) -> String {
        let v = Naming.swiftIdent(f.name)
        switch f.type {
        case .char: return ".char(\(v))"
        case .string, .device, .uuid: return ".string(\(v))"
        case .buffer: return ".buffer(\(v))"
        case .int32: return ".int(Int64(\(v)))"
        case .uint32: return ".int(Int64(\(v)))"
        case .int64, .bytes: return ".int(\(v))"
        case .uint64: return ".uint(\(v))"
        case .optPercent: return ".percent(\(v))"
        }
    }

    func proceduresFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("Daemon procedure numbers (libguestfs protocol v4)."))
        w.block("public enum Procedure: UInt32, CaseIterable, Sendable") { w in
            for a in model.daemonActions { w.line("case \(Naming.swiftIdent(a.name)) = \(a.procNr!)") }
            w.line()
            w.line("/// The action name as libguestfs spells it.")
            w.block("public var actionName: String") { w in
                w.block("switch self") { w in
                    for a in model.daemonActions { w.line("case .\(Naming.swiftIdent(a.name)): return \(Naming.literal(a.name))") }
                }
            }
        }
        return w.text
    }

    func argsRetFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("XDR args and ret structs of every daemon action."))
        w.line("import XDR")
        w.line()
        for a in model.daemonActions {
            if a.hasArgsStruct { emitArgs(a, &w) }
            if a.hasRetStruct { emitRet(a, &w) }
        }
        return w.text
    }

    private func emitArgs(_ a: Action, _ w: inout CodeWriter) {
        w.line("/// Arguments of `\(a.name)` (procedure \(a.procNr!)): required args, then optargs.")
        w.block("public struct \(a.camelName)Args: XDRCodable, Sendable") { w in
            var params: [String] = []
            for arg in a.wireArgs {
                w.line("public var \(Naming.swiftIdent(arg.name)): \(SwiftTypes.arg(arg.type))")
                params.append("\(Naming.swiftIdent(f: arg.name)): \(SwiftTypes.arg(arg.type))")
            }
            for o in a.optargs {
                w.line("public var \(Naming.swiftIdent(o.name)): \(SwiftTypes.optarg(o.type))")
                params.append("\(Naming.swiftIdent(f: o.name)): \(SwiftTypes.optarg(o.type)) = \(SwiftTypes.optargZero(o.type))")
            }
            w.line()
            w.block("public init(\(params.joined(separator: ", ")))") { w in
                for arg in a.wireArgs { w.line("self.\(Naming.swiftIdent(arg.name)) = \(Naming.swiftIdent(arg.name))") }
                for o in a.optargs { w.line("self.\(Naming.swiftIdent(o.name)) = \(Naming.swiftIdent(o.name))") }
            }
            w.line()
            w.block("public init(from d: inout XDRDecoder) throws(XDRError)") { w in
                for arg in a.wireArgs { w.line("\(Naming.swiftIdent(arg.name)) = \(SwiftTypes.decodeArg(arg.type))") }
                for o in a.optargs {
                    if o.notIn148 {
                        w.line("// Added after libguestfs 1.48, whose clients end the args before it.")
                        w.line("\(Naming.swiftIdent(o.name)) = d.isAtEnd ? \(SwiftTypes.optargZero(o.type)) : \(SwiftTypes.decodeOptarg(o.type))")
                    } else {
                        w.line("\(Naming.swiftIdent(o.name)) = \(SwiftTypes.decodeOptarg(o.type))")
                    }
                }
            }
            w.line()
            w.block("public func encode(to e: inout XDREncoder)") { w in
                for arg in a.wireArgs { w.line(SwiftTypes.encodeArg(arg.type, Naming.swiftIdent(arg.name))) }
                for o in a.optargs { w.line("e.encode(\(Naming.swiftIdent(o.name)))") }
            }
        }
        w.line()
    }

    private func emitRet(_ a: Action, _ w: inout CodeWriter) {
        let t = SwiftTypes.wireRet(a.ret, model)
        w.line("/// Reply of `\(a.name)` (procedure \(a.procNr!)).")
        w.block("public struct \(a.camelName)Ret: XDRCodable, Sendable") { w in
            w.line("public var value: \(t)")
            w.line("public init(value: \(t)) { self.value = value }")
            w.block("public init(from d: inout XDRDecoder) throws(XDRError)") { w in
                w.line("value = \(SwiftTypes.decodeRet(a.ret, model))")
            }
            w.block("public func encode(to e: inout XDREncoder)") { w in
                w.line(SwiftTypes.encodeRet(a.ret, "value"))
            }
        }
        w.line()
    }
}
